// Forced synchronous signals (kernel/signal.c: force_sig_fault()) and their delivery to a
// scenario's handler (arch/x86/kernel/signal.c: handle_signal()).
import type { Machine } from './machine.js';
import { SIGKILL, SIGNAL_NAMES, SIGSEGV, type SigAction, type SigInfo, type Task } from './task.js';
import { exitGroup } from './exit.js';

export interface SignalDelivery {
  info: SigInfo;
  /** The process was terminated (default action or SIGKILL). */
  killed: boolean;
  action: SigAction | null;
  /** PKRU the handler started with, and the PKRU the frame saved (PK-13..15). */
  handlerPkru?: number;
  framePkru?: number;
}

/**
 * Deliver a synchronous fault signal to task. With a handler: the model runs it at once (it only
 * records, then returns or skips); the frame keeps the interrupted PKRU and the handler runs with
 * init_pkru_value. Without one: the default action kills the whole process.
 */
export function forceSigFault(m: Machine, task: Task, info: SigInfo): SignalDelivery {
  const action = info.signo === SIGKILL ? undefined : task.group.sighand.get(info.signo);
  if (!action) {
    if (info.signo === SIGSEGV) {
      // show_signal_msg() (arch/x86/mm/fault.c) with show_unhandled_signals = 1.
      m.klog('info', `${task.comm}[${task.pid}]: segfault at ${(info.addr ?? 0).toString(16)} error ${(info.pfError ?? 0).toString(16)}`);
    }
    exitGroup(m, task, 0, info.signo);
    return { info, killed: true, action: null };
  }
  const framePkru = task.pkru;
  const handlerPkru = m.profile.initPkru; // fpu__clear_user_states() -> pkru_write_default()
  // sigreturn restores the frame's PKRU, which the handler may have edited.
  task.pkru = action.setFramePkru ?? framePkru;
  return { info, killed: false, action, handlerPkru, framePkru };
}

export function signalName(signo: number): string {
  return SIGNAL_NAMES[signo] ?? `SIG${signo}`;
}
