// ptrace access checks and PEEK/POKE (kernel/ptrace.c: __ptrace_may_access(), ptrace_access_vm(),
// generic_ptrace_peekdata()/pokedata(); kernel/fork.c: mm_access()).
import type { Mm } from '../mm/mm.js';
import { FOLL_FORCE, FOLL_WRITE } from '../mm/gup.js';
import { accessRemoteVm } from '../mm/access_remote_vm.js';
import { EIO, EPERM, ESRCH } from './errno.js';
import type { Machine } from './machine.js';
import type { Task } from './task.js';

export const PTRACE_MODE_READ = 0x01, PTRACE_MODE_ATTACH = 0x02, PTRACE_MODE_NOAUDIT = 0x04,
  PTRACE_MODE_FSCREDS = 0x08, PTRACE_MODE_REALCREDS = 0x10;
export const PTRACE_PEEKTEXT = 1, PTRACE_PEEKDATA = 2, PTRACE_POKETEXT = 4, PTRACE_POKEDATA = 5, PTRACE_ATTACH = 16,
  PTRACE_DETACH = 17, PTRACE_SEIZE = 0x4206;

/** __ptrace_may_access(): same thread group always; otherwise matching uid and a dumpable mm, or root. */
export function ptraceMayAccess(m: Machine, task: Task, _mode: number): boolean {
  const cur = m.current;
  if (cur.group === task.group) return true;
  if (cur.uid === 0) return true;
  if (cur.uid !== task.uid) return false;
  return task.group.dumpable === 1;
}

/** mm_access(): the task's mm if current may access it; -EACCES if not; -ESRCH without an mm. */
export function mmAccess(m: Machine, task: Task, mode: number): Mm | number {
  const mm = task.mm;
  if (!mm || mm.dead) return -ESRCH;
  if (mm !== m.current.mm && !ptraceMayAccess(m, task, mode)) return -13;
  return mm;
}

/** ptrace(PTRACE_ATTACH/SEIZE, pid): current becomes the tracer; the tracee is then stopped. */
export function sysPtraceAttach(m: Machine, pid: number): number {
  const t = m.task(pid);
  if (!t) return -ESRCH;
  if (t.group === m.current.group) return -EPERM;
  if (t.tracer !== null) return -EPERM;
  if (!ptraceMayAccess(m, t, PTRACE_MODE_ATTACH | PTRACE_MODE_REALCREDS)) return -EPERM;
  t.tracer = m.current.tgid;
  t.ptraceStopped = true;
  return 0;
}

export function sysPtraceDetach(m: Machine, pid: number): number {
  const t = m.task(pid);
  if (!t || t.tracer !== m.current.tgid) return -ESRCH;
  t.tracer = null;
  t.ptraceStopped = false;
  return 0;
}

/** ptrace_check_attach(): the tracee must be ours and stopped. */
function checkAttach(m: Machine, pid: number): Task | number {
  const t = m.task(pid);
  if (!t || t.tracer !== m.current.tgid || !t.ptraceStopped) return -ESRCH;
  return t;
}

/** ptrace_access_vm(): re-checks the tracer relation and dumpability, then access_remote_vm() with FOLL_FORCE. */
function ptraceAccessVm(m: Machine, t: Task, addr: number, buf: Uint8Array, flags: number): number {
  const mm = t.mm;
  if (!mm) return 0;
  if (t.tracer !== m.current.tgid || (t.group.dumpable !== 1 && m.current.uid !== 0)) return 0;
  return accessRemoteVm(m, mm, addr, buf, flags | FOLL_FORCE);
}

/** PTRACE_PEEKDATA: the word at addr (as glibc returns it), or -EIO / -ESRCH. */
export function sysPtracePeek(m: Machine, pid: number, addr: number): bigint | number {
  const t = checkAttach(m, pid);
  if (typeof t === 'number') return t;
  const buf = new Uint8Array(8);
  if (ptraceAccessVm(m, t, addr, buf, 0) !== 8) return -EIO;
  return new DataView(buf.buffer).getBigUint64(0, true);
}

/** PTRACE_POKEDATA: 0 or -EIO / -ESRCH. */
export function sysPtracePoke(m: Machine, pid: number, addr: number, word: bigint): number {
  const t = checkAttach(m, pid);
  if (typeof t === 'number') return t;
  const buf = new Uint8Array(8);
  new DataView(buf.buffer).setBigUint64(0, BigInt.asUintN(64, word), true);
  return ptraceAccessVm(m, t, addr, buf, FOLL_WRITE) === 8 ? 0 : -EIO;
}
