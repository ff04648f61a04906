// Signal delivery on x86-64 with protection keys: forced fault signals (kernel/signal.c:
// force_sig_fault(), force_sig_info_to_task()), queued signals (tgkill), the rt signal frame in
// user memory (arch/x86/kernel/signal.c: get_sigframe(), handle_signal(); signal_64.c:
// x64_setup_rt_frame(), rt_sigreturn(); fpu/signal.c: copy_fpstate_to_sigframe(),
// __fpu_restore_sig(); fpu/xstate.h: update_pkru_in_sigframe()).
//
// The model runs a scenario's handler synchronously: the kernel writes the frame through uaccess
// (so PKRU and the page tables decide whether it can), the handler body runs with the PKRU and stack
// the kernel gave it, and its return goes through rt_sigreturn, which reads the frame back through
// uaccess. What differs between kernels is taken from m.profile.pkeys (PK-13..15, VER-20).
import { ACC_WRITE } from '../hw/mmu.js';
import type { Mm } from '../mm/mm.js';
import { exitGroup, exitTask } from './exit.js';
import type { Machine } from './machine.js';
import {
  SS_AUTODISARM, encodeStackT, onSigStack, onSigStackRaw, restoreAltstack, sasSsFlags,
  sasSsReset, saveAltstackValue,
} from './sigaltstack.js';
import { SIGCHLD, SIGKILL, SIGNAL_NAMES, SIGSEGV, type SigAction, type SigInfo, type Task } from './task.js';
import { userAccess } from './usermode.js';
import { copyFromUser, copyToUser } from './uaccess.js';
import {
  FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC2, FXSAVE_SW_BYTES, PKRU_XSAVE_OFFSET, XFEATURE_MASK_FPSSE, XFEATURE_MASK_PKRU,
  XSAVE_HEADER, XSAVE_HEADER_SIZE, XSAVE_SIZE_PKU, getU32, getU64, putU32, putU64, sigframeXsaveImage, swBytes, xrstorPkru,
  xstateSigframeSize, xstateUserSize,
} from './xstate.js';

// include/uapi/asm-generic/signal-defs.h, arch/x86/include/uapi/asm/signal.h
export const SA_NOCLDSTOP = 0x1, SA_SIGINFO = 0x4, SA_ONSTACK = 0x08000000, SA_RESTART = 0x10000000,
  SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000, SA_RESTORER = 0x04000000;
/** include/uapi/asm-generic/siginfo.h */
export const SI_USER = 0, SI_KERNEL = 0x80, SI_TKILL = -6;
export const ILL_ILLOPN = 2;

/** struct rt_sigframe on x86-64 (arch/x86/include/asm/sigframe.h) and its parts' offsets. */
export const RT_SIGFRAME_SIZE = 440;
export const UC_FLAGS = 8, UC_LINK = 16, UC_STACK = 24, UC_MCONTEXT = 48, UC_SIGMASK = 304, SIGFRAME_INFO = 312;
/** struct sigcontext_64 field offsets (from uc_mcontext). */
export const SC_SP = 120, SC_IP = 128, SC_ERR = 152, SC_TRAPNO = 160, SC_OLDMASK = 168, SC_CR2 = 176, SC_FPSTATE = 184;
export const SIGCONTEXT_SIZE = 256;
/** siginfo_t: si_signo 0, si_errno 4, si_code 8, si_addr / si_pid 16, si_uid 20, si_pkey 0x20. */
export const SIGINFO_SIZE = 128, SI_ADDR = 16, SI_PID = 16, SI_UID = 20, SI_PKEY = 0x20;
/** uc_flags (arch/x86/include/uapi/asm/ucontext.h) */
export const UC_FP_XSTATE = 0x1, UC_SIGCONTEXT_SS = 0x2, UC_STRICT_RESTORE_SS = 0x4;
/** The x86-64 red zone below the stack pointer that a frame must not clobber. */
export const REDZONE = 128;
const FRAME_ALIGNMENT = 16;
const X86_TRAP_PF = 14;

/** What a scenario handler sees when it runs (the arguments of an SA_SIGINFO handler, plus model details). */
export interface SigHandlerContext {
  signo: number;
  info: SigInfo;
  task: Task;
  /** Address of the rt_sigframe (the handler's stack pointer + 8 would be its return address slot). */
  frame: number;
  /** &frame->uc (the handler's third argument) and &frame->info (its second, with SA_SIGINFO). */
  ucontext: number;
  siginfo: number;
  /** uc_mcontext.fpregs: the XSAVE area of the frame, and the PKRU slot inside it. */
  fpstate: number;
  pkruSlot: number;
  onAltStack: boolean;
  /** PKRU the handler started with (PK-13 step 5, PK-15). */
  handlerPkru: number;
  /** PKRU value the kernel stored in the frame (PK-13 step 3). */
  framePkru: number;
}

/** One signal delivery as observed from user space, for scenarios and tests to check. */
export interface SignalDelivery {
  info: SigInfo;
  /** The whole process was terminated (default action of a fatal signal, or SIGKILL). */
  killed: boolean;
  action: SigAction | null;
  /**
   * 'retry': the handler returned through a successful rt_sigreturn and the interrupted instruction
   * re-executes; 'abandon': the interrupted operation does not resume (skipped instruction,
   * siglongjmp, thread exit, process killed, a bad sigreturn frame).
   */
  resume: 'retry' | 'abandon';
  /** How it ended ('handled': through rt_sigreturn). */
  outcome: 'handled' | 'longjmp' | 'thread-exit' | 'killed' | 'ignored' | 'queued' | 'bad-sigreturn';
  /** Frame setup failed; SIGSEGV was forced instead (force_sigsegv()). */
  frameFailed?: boolean;
  /** PKRU the handler started with, the PKRU the frame saved, and the thread's PKRU when the delivery ended. */
  handlerPkru?: number;
  framePkru?: number;
  pkruAfter?: number;
  frame?: number;
  onAltStack?: boolean;
  /** The delivery that replaced this one when its frame could not be written. */
  replacedBy?: SignalDelivery;
}

/** Default actions (kernel/signal.c: sig_kernel_only/coredump/ignore sets). */
function defaultIsIgnore(signo: number): boolean {
  return signo === SIGCHLD || signo === 23 /* SIGURG */ || signo === 28 /* SIGWINCH */;
}

/** A separate function so TypeScript does not narrow task.state across handler callbacks. */
function isDead(t: Task): boolean {
  return t.state === 'dead';
}

function bit(signo: number): bigint {
  return 1n << BigInt(signo - 1);
}

/** SIGKILL and SIGSTOP: never blocked. */
const UNBLOCKABLE = bit(SIGKILL) | bit(19);

// The sigcontext and the XSAVE area are encoded and read back in buffers kept for reuse: typed
// arrays over 64 bytes live outside the JS heap, and one signal delivery allocated several. Each
// use ends before the next begins (copying to or from user memory never delivers a signal).
const scBuf = new Uint8Array(SIGCONTEXT_SIZE);
const xsaveBuf = new Uint8Array(XSAVE_SIZE_PKU);
const ZERO_HEADER = new Uint8Array(XSAVE_HEADER_SIZE);
const PRETCODE = new Uint8Array(8); // sa_restorer: the model has no code address for it

/** Per-thread signal state kept by this module (task->blocked, task->pending, the user stack pointer). */
interface SigState {
  blocked: bigint;
  pending: SigInfo[];
  /** User stack pointer; null = the mm's initial stack pointer (mm->start_stack) after exec. */
  sp: number | null;
  spMm: Mm | null;
  log: SignalDelivery[];
}

const states = new WeakMap<Task, SigState>();

function st(t: Task): SigState {
  let s = states.get(t);
  if (!s) {
    s = { blocked: 0n, pending: [], sp: null, spMm: null, log: [] };
    states.set(t, s);
  }
  return s;
}

/** The thread's user stack pointer (regs->sp as user mode left it). */
export function userSp(t: Task): number {
  const s = st(t);
  if (s.sp !== null && s.spMm === t.mm) return s.sp;
  return t.mm ? t.mm.startStack : 0;
}

/** User mode moved its stack pointer (e.g. a thread started on its own stack). */
export function setUserSp(t: Task, sp: number): void {
  const s = st(t);
  s.sp = sp;
  s.spMm = t.mm;
}

export function blockedSignals(t: Task): number[] {
  const out: number[] = [];
  for (let sig = 1; sig <= 64; sig++) if (st(t).blocked & bit(sig)) out.push(sig);
  return out;
}

/** Deliveries recorded for a thread (queued signals are delivered without a caller to report to). */
export function signalLog(t: Task): readonly SignalDelivery[] {
  return st(t).log;
}

/** copy_process(): a forked child keeps the mask, the stack pointer and the sigaltstack. */
export function signalsFork(parent: Task, child: Task): void {
  const p = st(parent);
  const c = st(child);
  c.blocked = p.blocked;
  c.sp = userSp(parent);
  c.spMm = child.mm;
  child.altStack = { ...parent.altStack };
}

/** clone(CLONE_VM|CLONE_THREAD): same mask; the new stack pointer is the caller's unless the
 *  thread moves it; the sigaltstack is reset (sas_ss_reset() for CLONE_VM without CLONE_VFORK). */
export function signalsClone(parent: Task, child: Task): void {
  const c = st(child);
  c.blocked = st(parent).blocked;
  c.sp = userSp(parent);
  c.spMm = child.mm;
  sasSsReset(child);
}

export function signalName(signo: number): string {
  return SIGNAL_NAMES[signo] ?? `SIG${signo}`;
}

function record(t: Task, d: SignalDelivery): SignalDelivery {
  st(t).log.push(d);
  return d;
}

function kill(m: Machine, task: Task, info: SigInfo, action: SigAction | null): SignalDelivery {
  if (info.signo === SIGSEGV && task.mm) {
    // show_signal_msg() (arch/x86/mm/fault.c) with show_unhandled_signals = 1.
    m.klog('info', `${task.comm}[${task.pid}]: segfault at ${(info.addr ?? 0).toString(16)} error ${(info.pfError ?? 0).toString(16)}`);
  }
  exitGroup(m, task, 0, info.signo);
  return record(task, { info, killed: true, action, resume: 'abandon', outcome: 'killed' });
}

/**
 * force_sig_fault(): a synchronous signal for the faulting thread. If it is blocked or ignored the
 * handler is reset to SIG_DFL and the signal unblocked (force_sig_info_to_task()), so a fault inside
 * a SIGSEGV handler kills the process (PK-SIG-08). Then it is delivered at once.
 */
export function forceSigFault(m: Machine, task: Task, info: SigInfo): SignalDelivery {
  const s = st(task);
  const blocked = (s.blocked & bit(info.signo)) !== 0n;
  if (info.signo === SIGKILL) return kill(m, task, info, null);
  if (blocked) {
    task.group.sighand.delete(info.signo);
    s.blocked &= ~bit(info.signo);
  }
  return deliver(m, task, info);
}

/** force_sigsegv(sig) after a frame could not be built: fatal if the failed signal was SIGSEGV. */
function forceSigsegv(m: Machine, task: Task, failedSig: number): SignalDelivery {
  const info: SigInfo = { signo: SIGSEGV, code: SI_KERNEL, addr: 0 };
  if (failedSig === SIGSEGV) {
    // force_fatal_sig(SIGSEGV)
    task.group.sighand.delete(SIGSEGV);
    return kill(m, task, info, null);
  }
  return forceSigFault(m, task, info);
}

/**
 * tgkill()/tkill()/raise() to a thread of the model: queued, and delivered at once unless blocked
 * (the target "returns to user mode" immediately; the model has no scheduler). Returns 0 or -errno.
 */
export function sendSignal(m: Machine, target: Task, signo: number, sender: Task): number {
  if (signo < 0 || signo > 64) return -22;
  if (isDead(target)) return -3;
  if (signo === 0) return 0;
  const info: SigInfo = { signo, code: SI_TKILL, pid: sender.tgid, uid: sender.uid };
  if (signo === SIGKILL) {
    kill(m, target, info, null);
    return 0;
  }
  const s = st(target);
  if (s.blocked & bit(signo)) {
    if (!s.pending.some((p) => p.signo === signo)) s.pending.push(info); // legacy signals do not queue twice
    record(target, { info, killed: false, action: null, resume: 'retry', outcome: 'queued' });
    return 0;
  }
  deliver(m, target, info);
  return 0;
}

/** Deliver pending signals that are no longer blocked (on the way back to user mode). */
export function deliverPending(m: Machine, task: Task): void {
  const s = st(task);
  for (;;) {
    if (isDead(task)) return;
    const i = s.pending.findIndex((p) => !(s.blocked & bit(p.signo)));
    if (i < 0) return;
    const [info] = s.pending.splice(i, 1);
    deliver(m, task, info!);
  }
}

/** rt_sigprocmask(SIG_BLOCK/SIG_UNBLOCK/SIG_SETMASK); SIGKILL and SIGSTOP cannot be blocked. */
export function sigprocmask(m: Machine, task: Task, how: number, set: number[] | null): { ret: number; old: number[] } {
  const s = st(task);
  const old = blockedSignals(task);
  if (set) {
    let mask = 0n;
    for (const sig of set) if (sig >= 1 && sig <= 64) mask |= bit(sig);
    mask &= ~(bit(SIGKILL) | bit(19 /* SIGSTOP */));
    if (how === 0) s.blocked |= mask;
    else if (how === 1) s.blocked &= ~mask;
    else if (how === 2) s.blocked = mask;
    else return { ret: -22, old };
  }
  deliverPending(m, task);
  return { ret: 0, old };
}

/** get_signal() + handle_signal() for one signal. */
function deliver(m: Machine, task: Task, info: SigInfo): SignalDelivery {
  const action = task.group.sighand.get(info.signo) ?? null;
  if (!action) {
    if (defaultIsIgnore(info.signo)) return record(task, { info, killed: false, action: null, resume: 'retry', outcome: 'ignored' });
    return kill(m, task, info, null);
  }
  return m.runAs(task, () => handleSignal(m, task, info, action));
}

interface Frame {
  frame: number;
  fpstate: number;
  onAltStack: boolean;
  framePkru: number;
}

/**
 * get_sigframe() + x64_setup_rt_frame(): place and write the frame. Returns the frame, or null
 * after a failed write (PKRU as handle_signal() leaves it on that path).
 */
function setupRtFrame(m: Machine, task: Task, info: SigInfo, action: SigAction): Frame | null {
  const tr = m.trace.on;
  // x86-64 requires SA_RESTORER (glibc always sets it).
  if (!(action.flags & SA_RESTORER)) return null;
  const regsSp = userSp(task);
  const interrupted = task.pkru;
  const nestedAltstack = onSigStack(task, regsSp);
  let sp = regsSp - REDZONE;
  let entering = false;
  if (action.flags & SA_ONSTACK && sasSsFlags(task, sp) === 0) {
    sp = task.altStack.sp + task.altStack.size;
    entering = true;
  }
  // fpu__alloc_mathframe(): the XSAVE area, 64-byte aligned, below the frame.
  const mathSize = xstateSigframeSize(m);
  const bufFx = Math.floor((sp - mathSize) / 64) * 64;
  sp = bufFx - RT_SIGFRAME_SIZE;
  sp = Math.floor(sp / FRAME_ALIGNMENT) * FRAME_ALIGNMENT - 8;
  if ((nestedAltstack || entering) && !onSigStackRaw(task, sp)) {
    m.klog('info', `${task.comm}[${task.pid}] overflowed sigaltstack`);
    return null;
  }
  // VER-20: since v6.12 the frame is written with every key enabled (sig_prepare_pkru()).
  const zero = m.pke && m.profile.pkeys.sigframePkruZero;
  if (zero) task.pkru = 0;
  if (tr) m.trace.decision('PK-13', 'get_sigframe', 'info',
    `frame at 0x${sp.toString(16)}${entering || nestedAltstack ? ' on the altstack' : ''}, written with PKRU 0x${task.pkru.toString(16).padStart(8, '0')}`);
  // copy_fpstate_to_sigframe(): clear the XSAVE header, XSAVE, (v6.12) put the interrupted PKRU, epilog.
  let ok = copyToUser(m, bufFx + XSAVE_HEADER, ZERO_HEADER) === 0 &&
    copyToUser(m, bufFx, sigframeXsaveImage(m, task.pkru)) === 0;
  if (ok && zero) {
    // update_pkru_in_sigframe(): mark PKRU in use (VER-21) and store the interrupted value.
    ok = orXstateBv(m, bufFx, XFEATURE_MASK_PKRU) && copyToUser(m, bufFx + PKRU_XSAVE_OFFSET, u32(interrupted)) === 0;
  }
  if (ok) {
    // save_xstate_epilog(): sw_bytes, MAGIC2 after the area, XSTATE_BV |= FP|SSE.
    ok = copyToUser(m, bufFx + FXSAVE_SW_BYTES, swBytes(m)) === 0 &&
      copyToUser(m, bufFx + xstateUserSize(m), u32(FP_XSTATE_MAGIC2)) === 0 &&
      orXstateBv(m, bufFx, XFEATURE_MASK_FPSSE);
  }
  if (!ok) {
    // v6.12 restores the user's PKRU before failing; before, it was never changed.
    if (zero) task.pkru = interrupted;
    return null;
  }
  const frame = sp;
  // The ucontext: flags, link, the altstack as it was, sigcontext, the mask to restore.
  const s = st(task);
  const uc = new Uint8Array(UC_MCONTEXT - UC_FLAGS);
  putU64(uc, 0, BigInt(UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS));
  uc.set(encodeStackT(saveAltstackValue(task, regsSp)), UC_STACK - UC_FLAGS);
  if (task.altStack.flags & SS_AUTODISARM) sasSsReset(task);
  const sc = scBuf.fill(0);
  putU64(sc, SC_SP, BigInt(regsSp));
  if (info.pfError !== undefined) {
    putU64(sc, SC_ERR, BigInt(info.pfError));
    putU64(sc, SC_TRAPNO, BigInt(X86_TRAP_PF));
    putU64(sc, SC_CR2, BigInt(info.addr ?? 0));
  }
  putU64(sc, SC_OLDMASK, s.blocked & 0xffffffffn);
  putU64(sc, SC_FPSTATE, BigInt(bufFx));
  const mask = new Uint8Array(8);
  putU64(mask, 0, s.blocked);
  ok = copyToUser(m, frame + UC_FLAGS, uc) === 0 &&
    copyToUser(m, frame, PRETCODE) === 0 &&
    copyToUser(m, frame + UC_MCONTEXT, sc) === 0 &&
    copyToUser(m, frame + UC_SIGMASK, mask) === 0;
  if (ok && action.flags & SA_SIGINFO) ok = copyToUser(m, frame + SIGFRAME_INFO, encodeSiginfo(info)) === 0;
  if (!ok) return null; // handle_signal(): PKRU stays as sig_prepare_pkru() left it
  return { frame, fpstate: bufFx, onAltStack: entering || nestedAltstack, framePkru: interrupted };
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  putU32(b, 0, v >>> 0);
  return b;
}

/** set_xfeature_in_sigframe(): read-modify-write of XSTATE_BV in user memory. */
function orXstateBv(m: Machine, bufFx: number, mask: number): boolean {
  const b = new Uint8Array(8);
  if (copyFromUser(m, bufFx + XSAVE_HEADER, b)) return false;
  putU64(b, 0, getU64(b, 0) | BigInt(mask));
  return copyToUser(m, bufFx + XSAVE_HEADER, b) === 0;
}

/** copy_siginfo_to_user(): the fields the model knows, at their x86-64 offsets. */
export function encodeSiginfo(info: SigInfo): Uint8Array {
  const b = new Uint8Array(SIGINFO_SIZE);
  putU32(b, 0, info.signo);
  putU32(b, 8, info.code);
  if (info.code > 0 && info.code !== SI_KERNEL) {
    putU64(b, SI_ADDR, BigInt(info.addr ?? 0));
    if (info.pkey !== undefined) putU32(b, SI_PKEY, info.pkey);
  } else if (info.pid !== undefined) {
    putU32(b, SI_PID, info.pid);
    putU32(b, SI_UID, info.uid ?? 0);
  }
  return b;
}

/** handle_signal(): build the frame (or force SIGSEGV), prepare the handler's state, run it. */
function handleSignal(m: Machine, task: Task, info: SigInfo, action: SigAction): SignalDelivery {
  const s = st(task);
  const interruptedSp = userSp(task);
  const oldBlocked = s.blocked;
  const f = setupRtFrame(m, task, info, action);
  if (!f) {
    if (m.trace.on) m.trace.decision('PK-15', 'handle_signal', 'deny', `${signalName(info.signo)}: signal frame could not be written; force_sigsegv()`);
    const d = record(task, { info, killed: false, action, resume: 'abandon', outcome: 'killed', frameFailed: true });
    const r = forceSigsegv(m, task, info.signo);
    d.replacedBy = r;
    d.killed = isDead(task) && task.group.state !== 'alive';
    d.resume = r.resume;
    d.outcome = d.killed ? 'killed' : r.outcome;
    return d;
  }
  // signal_setup_done() -> signal_delivered(): block sa_mask and (unless SA_NODEFER) the signal.
  let add = 0n;
  for (const sig of action.mask ?? []) add |= bit(sig);
  if (!(action.flags & SA_NODEFER)) add |= bit(info.signo);
  s.blocked |= add & ~UNBLOCKABLE;
  if (action.flags & SA_RESETHAND) task.group.sighand.delete(info.signo);
  // fpu__clear_user_states() -> pkru_write_default(): the handler starts with init_pkru_value.
  if (m.pke) task.pkru = m.profile.initPkru;
  const handlerPkru = task.pkru;
  setUserSp(task, f.frame);
  const d: SignalDelivery = {
    info, killed: false, action, resume: 'retry', outcome: 'handled', handlerPkru, framePkru: m.pke ? f.framePkru : undefined,
    frame: f.frame, onAltStack: f.onAltStack,
  };
  record(task, d);
  const ctx: SigHandlerContext = {
    signo: info.signo, info, task, frame: f.frame, ucontext: f.frame + UC_FLAGS, siginfo: f.frame + SIGFRAME_INFO,
    fpstate: f.fpstate, pkruSlot: f.fpstate + PKRU_XSAVE_OFFSET, onAltStack: f.onAltStack, handlerPkru, framePkru: f.framePkru,
  };
  if (m.trace.on) m.trace.decision('PK-13', 'handle_signal', 'info',
    `${signalName(info.signo)} handler runs with PKRU 0x${handlerPkru.toString(16).padStart(8, '0')}; frame saved 0x${f.framePkru.toString(16).padStart(8, '0')}`);
  action.run?.(ctx);
  if (isDead(task)) return finish(d, task, task.group.exitSignal ? 'killed' : 'thread-exit');
  if (action.setFramePkru !== undefined) {
    // The handler stores into its own frame (as protection_keys.c's handler does): a user store.
    userStore(m, task, ctx.pkruSlot, u32(action.setFramePkru));
    if (isDead(task)) return finish(d, task, 'killed');
  }
  if (action.onReturn === 'exit') {
    exitTask(m, task, 0);
    return finish(d, task, 'thread-exit');
  }
  if (action.onReturn === 'longjmp') {
    // siglongjmp() to a sigsetjmp(env, 1) taken before the interrupted operation: registers and the
    // signal mask come back, PKRU does not (it is not part of jmp_buf).
    s.blocked = oldBlocked;
    setUserSp(task, interruptedSp);
    d.outcome = 'longjmp';
    d.resume = 'abandon';
    d.pkruAfter = task.pkru;
    deliverPending(m, task);
    return d;
  }
  const ok = rtSigreturn(m, task, f.frame);
  d.pkruAfter = task.pkru;
  if (!ok) {
    d.outcome = isDead(task) ? 'killed' : 'bad-sigreturn';
    d.killed = isDead(task) && task.group.state !== 'alive';
    d.resume = 'abandon';
    return d;
  }
  if (action.onReturn === 'skip') d.resume = 'abandon'; // sigreturn to the instruction after the faulting one
  deliverPending(m, task);
  if (isDead(task)) return finish(d, task, 'killed');
  return d;
}

function finish(d: SignalDelivery, task: Task, outcome: SignalDelivery['outcome']): SignalDelivery {
  d.outcome = outcome;
  d.killed = outcome === 'killed';
  d.resume = 'abandon';
  d.pkruAfter = isDead(task) ? undefined : task.pkru;
  return d;
}

/** A user-mode store by the handler (e.g. editing the saved PKRU in its frame). */
function userStore(m: Machine, task: Task, addr: number, data: Uint8Array): void {
  userAccess(m, task, addr, data.length, ACC_WRITE, data);
}

/**
 * rt_sigreturn (arch/x86/kernel/signal_64.c), reading the frame with whatever PKRU the handler has:
 * the mask, then (v6.12) the altstack, then the sigcontext and the XSAVE area (PKRU), then (before
 * v6.12) the altstack. Any failed read is a bad frame: signal_fault() -> force_sig(SIGSEGV).
 */
export function rtSigreturn(m: Machine, task: Task, frame: number): boolean {
  const s = st(task);
  const altFirst = m.profile.pkeys.sigreturnAltstackFirst;
  return m.runAs(task, () => {
    const mask = new Uint8Array(8);
    const flags = new Uint8Array(8);
    if (copyFromUser(m, frame + UC_SIGMASK, mask) || copyFromUser(m, frame + UC_FLAGS, flags)) return badFrame(m, task, frame);
    s.blocked = getU64(mask, 0) & ~UNBLOCKABLE;
    if (altFirst && restoreAltstack(m, task, frame + UC_STACK, frame) !== 0) return badFrame(m, task, frame);
    const sc = scBuf;
    if (copyFromUser(m, frame + UC_MCONTEXT, sc)) return badFrame(m, task, frame);
    const sp = Number(getU64(sc, SC_SP));
    const fp = Number(getU64(sc, SC_FPSTATE));
    if (!fpuRestoreSig(m, task, fp)) return badFrame(m, task, frame);
    if (!altFirst && restoreAltstack(m, task, frame + UC_STACK, frame) !== 0) return badFrame(m, task, frame);
    setUserSp(task, sp);
    if (m.trace.on) m.trace.decision('PK-14', 'rt_sigreturn', 'info', `PKRU restored to 0x${task.pkru.toString(16).padStart(8, '0')}`);
    return true;
  });
}

/**
 * fpu__restore_sig() -> __fpu_restore_sig(): NULL fpstate resets to the init state
 * (PKRU := init_pkru_value); a frame without the XSAVE magic is restored as FP/SSE only and every
 * other component, PKRU included, takes its init value 0; otherwise XRSTOR with the frame's
 * xfeatures: PKRU from the slot if XSTATE_BV[PKRU] is set, else 0.
 */
function fpuRestoreSig(m: Machine, task: Task, buf: number): boolean {
  if (buf === 0) {
    if (m.pke) task.pkru = m.profile.initPkru;
    return true;
  }
  const sw = new Uint8Array(48);
  if (copyFromUser(m, buf + FXSAVE_SW_BYTES, sw)) return false;
  let fxOnly = false;
  let xfeatures = getU32(sw, 8);
  const xstateSize = getU32(sw, 16);
  const extendedSize = getU32(sw, 4);
  if (getU32(sw, 0) !== FP_XSTATE_MAGIC1 || xstateSize < 512 + XSAVE_HEADER_SIZE ||
    xstateSize > xstateUserSize(m) || xstateSize > extendedSize) {
    fxOnly = true;
  } else {
    const magic2 = new Uint8Array(4);
    if (copyFromUser(m, buf + xstateSize, magic2)) return false;
    if (getU32(magic2, 0) !== FP_XSTATE_MAGIC2) fxOnly = true;
  }
  if (fxOnly) xfeatures = XFEATURE_MASK_FPSSE;
  const size = fxOnly ? 512 : xstateSize;
  // XRSTOR (or FXRSTOR) reads the area from user memory (xstateSize <= xstateUserSize(m) here).
  const area = xsaveBuf.subarray(0, size);
  if (copyFromUser(m, buf, area)) return false;
  if (!m.pke) return true;
  if (fxOnly) {
    task.pkru = 0; // init_bv includes PKRU: restored from init_fpstate
    return true;
  }
  const bv = getU64(area, XSAVE_HEADER);
  const slot = size >= PKRU_XSAVE_OFFSET + 4 ? getU32(area, PKRU_XSAVE_OFFSET) : 0;
  // Components of the task not in the frame's xfeatures come from init_fpstate (PKRU init = 0).
  task.pkru = xrstorPkru(xfeatures, bv, slot) ?? 0;
  return true;
}

/** signal_fault(): "bad frame in rt_sigreturn", then force_sig(SIGSEGV). */
function badFrame(m: Machine, task: Task, frame: number): false {
  m.klog('info', `${task.comm}[${task.pid}] bad frame in rt_sigreturn frame:${frame.toString(16)}`);
  if (m.trace.on) m.trace.decision('PK-14', 'rt_sigreturn', 'deny', 'frame could not be read: SIGSEGV');
  forceSigFault(m, task, { signo: SIGSEGV, code: SI_KERNEL, addr: 0 });
  return false;
}
