// The x86 page-fault handler for user addresses (arch/x86/mm/fault.c: do_user_addr_fault(),
// access_error(), bad_area_access_error(), mm_fault_error()).
import { X86_PF_INSTR, X86_PF_PK, X86_PF_PROT, X86_PF_USER, X86_PF_WRITE, decodePfError } from '../hw/pf_error.js';
import {
  FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_INSTRUCTION, FAULT_FLAG_KILLABLE, FAULT_FLAG_TRIED, FAULT_FLAG_USER, FAULT_FLAG_WRITE,
  VM_FAULT_ERROR, VM_FAULT_HWPOISON, VM_FAULT_MAJOR, VM_FAULT_OOM, VM_FAULT_RETRY, VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV,
  handleMmFault,
} from '../mm/memory.js';
import { expandStack } from '../mm/mmap.js';
import { archVmaAccessPermitted } from '../mm/pkeys.js';
import { VM_GROWSDOWN, VM_WRITE, vmaIsAccessible, type Vma } from '../mm/vma.js';
import type { Mm } from '../mm/mm.js';
import type { Machine } from './machine.js';
import {
  BUS_ADRERR, BUS_MCEERR_AR, SEGV_ACCERR, SEGV_MAPERR, SEGV_PKUERR, SIGBUS, SIGKILL, SIGSEGV, type SigInfo, type Task,
} from './task.js';

/** The handler's verdict: null = fixed, retry the access; otherwise the signal user mode would get. */
export type FaultOutcome = SigInfo | null;

/** arch/x86/mm/fault.c: access_error() (FLT-2). True means the access is not allowed. */
export function accessError(m: Machine, code: number, vma: Vma): boolean {
  if (code & X86_PF_PK) return true;
  if (!archVmaAccessPermitted(m, vma, (code & X86_PF_WRITE) !== 0, (code & X86_PF_INSTR) !== 0, false)) return true;
  if (code & X86_PF_WRITE) return (vma.flags & VM_WRITE) === 0;
  if (code & X86_PF_PROT) return true; // read of a present page that is not allowed (e.g. fetch from NX)
  return !vmaIsAccessible(vma);
}

/** bad_area_access_error(): SEGV_PKUERR when a key caused it (FLT-3), else SEGV_ACCERR. */
function badAreaAccessError(m: Machine, code: number, vma: Vma, addr: number): SigInfo {
  const fromPkeys = m.pke && ((code & X86_PF_PK) !== 0 ||
    !archVmaAccessPermitted(m, vma, (code & X86_PF_WRITE) !== 0, (code & X86_PF_INSTR) !== 0, false));
  if (fromPkeys) return { signo: SIGSEGV, code: SEGV_PKUERR, addr, pkey: vma.pkey, pfError: code };
  return { signo: SIGSEGV, code: SEGV_ACCERR, addr, pfError: code };
}

/**
 * do_user_addr_fault(): resolve a fault on a user address taken by `task` (which is current).
 * Kernel-mode (uaccess) faults use the same path; their failure becomes an exception-table
 * fixup in the caller instead of a signal.
 */
export function doUserAddrFault(m: Machine, task: Task, addr: number, code: number): FaultOutcome {
  const tr = m.trace.on;
  if (tr) m.trace.enter('do_user_addr_fault', `addr=0x${addr.toString(16)} error_code=${decodePfError(code)} pid=${task.pid}`);
  const r = userFault(m, task, addr, code);
  if (tr) m.trace.exit('do_user_addr_fault', r === null ? 'fixed' : `SIG${r.signo === SIGSEGV ? 'SEGV' : r.signo} code=${r.code}`);
  return r;
}

function userFault(m: Machine, task: Task, addr: number, code: number): FaultOutcome {
  const mm = task.mm;
  if (mm === null) return { signo: SIGSEGV, code: SEGV_MAPERR, addr, pfError: code };
  let flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE;
  if (code & X86_PF_USER) flags |= FAULT_FLAG_USER;
  if (code & X86_PF_WRITE) flags |= FAULT_FLAG_WRITE;
  if (code & X86_PF_INSTR) flags |= FAULT_FLAG_INSTRUCTION;
  mm.lock.downRead(task.pid);
  let major = 0;
  for (;;) {
    let vma = mm.findVma(addr);
    if (vma === null) return unlockAnd(mm, task, { signo: SIGSEGV, code: SEGV_MAPERR, addr, pfError: code });
    if (vma.start > addr) {
      if (!(vma.flags & VM_GROWSDOWN) || expandStack(m, vma, addr) !== 0) {
        return unlockAnd(mm, task, { signo: SIGSEGV, code: SEGV_MAPERR, addr, pfError: code });
      }
      vma = mm.vmaLookup(addr)!;
    }
    if (accessError(m, code, vma)) {
      if (m.trace.on) m.trace.decision('FLT-2', 'access_error', 'deny', `vma ${vma.start.toString(16)}-${vma.end.toString(16)} pkey ${vma.pkey}`);
      return unlockAnd(mm, task, badAreaAccessError(m, code, vma, addr));
    }
    const ret = handleMmFault(m, vma, addr, flags);
    major |= ret & VM_FAULT_MAJOR;
    if (ret & VM_FAULT_RETRY) {
      // The handler dropped mmap_lock (I/O, userfaultfd): retry with TRIED.
      if (task.fatalPending) return { signo: SIGKILL, code: 0, pfError: code };
      flags = (flags | FAULT_FLAG_TRIED) & (m.profile.faultAccounting === 'tsk' ? ~FAULT_FLAG_ALLOW_RETRY : ~0);
      mm.lock.downRead(task.pid);
      continue;
    }
    mm.lock.upRead(task.pid);
    if (ret & VM_FAULT_ERROR) return mmFaultError(m, task, addr, code, ret);
    if (m.profile.faultAccounting === 'tsk') {
      // 2016: the arch handler charges current once, major if any attempt was (ACC-1).
      if (major) task.majFlt++;
      else task.minFlt++;
    }
    return null;
  }
}

function unlockAnd(mm: Mm, task: Task, r: SigInfo): SigInfo {
  mm.lock.upRead(task.pid);
  return r;
}

/** mm_fault_error(): OOM kills (user mode), SIGBUS, or SEGV_MAPERR for VM_FAULT_SIGSEGV. */
function mmFaultError(m: Machine, task: Task, addr: number, code: number, ret: number): SigInfo {
  if (ret & VM_FAULT_OOM) {
    if (code & X86_PF_USER) {
      m.klog('err', `Out of memory: Killed process ${task.tgid} (${task.comm}) (pagefault_out_of_memory)`);
      return { signo: SIGKILL, code: 0, pfError: code };
    }
    return { signo: SIGSEGV, code: SEGV_MAPERR, addr, pfError: code };
  }
  if (ret & VM_FAULT_HWPOISON) return { signo: SIGBUS, code: BUS_MCEERR_AR, addr, pfError: code };
  if (ret & VM_FAULT_SIGBUS) return { signo: SIGBUS, code: BUS_ADRERR, addr, pfError: code };
  void VM_FAULT_SIGSEGV;
  return { signo: SIGSEGV, code: SEGV_MAPERR, addr, pfError: code };
}
