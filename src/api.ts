// The library's front door: a machine with processes and threads whose methods are the syscalls
// and user-mode steps of the model. Syscalls return what the kernel returns: a value, or -errno.
import { ACC_FETCH, ACC_READ, ACC_WRITE } from './hw/mmu.js';
import { Machine, type MachineOptions } from './kernel/machine.js';
import { doCloneThread, doFork } from './kernel/fork.js';
import { DEFAULT_PROGRAM, defaultProgramImage, doExecve } from './kernel/exec.js';
import { exitGroup, exitTask, reap } from './kernel/exit.js';
import { FdTable } from './kernel/fs.js';
import { Task, ThreadGroup, type SigAction } from './kernel/task.js';
import { resetAccessResult, tlbLoad, userAccess, userAccessInto, type UserAccessResult } from './kernel/usermode.js';
import { sysMmap, sysMunmap } from './mm/mmap.js';
import { doMprotectPkey, sysPkeyAlloc, sysPkeyFree, sysPkeyMprotect } from './mm/mprotect.js';
import { glibcPkeyGet, glibcPkeySet, rdpkru, userXrstor, userXsave, wrpkru } from './kernel/pku.js';
import {
  SA_RESTORER, sendSignal, setUserSp, signalLog, sigprocmask, userSp, type SignalDelivery,
} from './kernel/signal.js';
import { sysSigaltstack } from './kernel/sigaltstack.js';
import { sysPtraceXstateRegset } from './kernel/xstate.js';
import { sysMadvise } from './mm/madvise.js';
import { sysMremap } from './mm/mremap.js';
import {
  sysClose, sysFtruncate, sysLseek, sysOpen, sysPipe, sysRead, sysUnlink, sysWrite,
} from './kernel/read_write.js';
import { groupFaults, procMaps, procSmaps, procStat } from './kernel/procfs.js';
import { EINVAL, ESRCH } from './kernel/errno.js';
import { checkInvariants } from './mm/debug.js';
import { processVmRw, type Iovec } from './kernel/process_vm.js';
import { sysVmsplice } from './kernel/splice.js';
import { sysFutexWait } from './kernel/futex.js';
import { ioUringFixedIo, ioUringRegisterBuffers, ioUringUnregisterBuffers } from './kernel/io_uring.js';
import { sysGetMempolicyNode } from './mm/mempolicy.js';
import { sysUserfaultfd, uffdRegister } from './mm/userfaultfd.js';
import { sysPtraceAttach, sysPtraceDetach, sysPtracePeek, sysPtracePoke } from './kernel/ptrace.js';
import { dropCaches } from './mm/filemap.js';
import { lookupPte } from './mm/memory.js';

export interface Rusage {
  ru_minflt: number;
  ru_majflt: number;
}

/** A thread of a simulated process. */
export class Thread {
  constructor(readonly m: Machine, readonly task: Task) {}

  get pid(): number {
    return this.task.pid;
  }

  get tgid(): number {
    return this.task.tgid;
  }

  get alive(): boolean {
    return this.task.state !== 'dead';
  }

  private sys(fn: () => number): number {
    if (!this.alive) return -ESRCH;
    return this.m.runAs(this.task, fn);
  }

  mmap(addr: number, len: number, prot: number, flags: number, fd = -1, off = 0): number {
    return this.sys(() => sysMmap(this.m, addr, len, prot, flags, fd, off));
  }
  munmap(addr: number, len: number): number {
    return this.sys(() => sysMunmap(this.m, this.task.mm!, addr, len));
  }
  mprotect(addr: number, len: number, prot: number): number {
    return this.sys(() => doMprotectPkey(this.m, addr, len, prot, -1));
  }
  pkeyMprotect(addr: number, len: number, prot: number, pkey: number): number {
    return this.sys(() => sysPkeyMprotect(this.m, addr, len, prot, pkey));
  }
  pkeyAlloc(flags: number, rights: number): number {
    return this.sys(() => sysPkeyAlloc(this.m, flags, rights));
  }
  pkeyFree(pkey: number): number {
    return this.sys(() => sysPkeyFree(this.m, pkey));
  }
  madvise(addr: number, len: number, advice: number): number {
    return this.sys(() => sysMadvise(this.m, addr, len, advice));
  }
  mremap(addr: number, oldLen: number, newLen: number, flags: number, newAddr = 0): number {
    return this.sys(() => sysMremap(this.m, addr, oldLen, newLen, flags, newAddr));
  }
  open(path: string, flags: number, mode = 0o644): number {
    return this.sys(() => sysOpen(this.m, path, flags, mode));
  }
  close(fd: number): number {
    return this.sys(() => sysClose(this.m, fd));
  }
  read(fd: number, buf: number, len: number): number {
    return this.sys(() => sysRead(this.m, fd, buf, len));
  }
  write(fd: number, buf: number, len: number): number {
    return this.sys(() => sysWrite(this.m, fd, buf, len));
  }
  pread(fd: number, buf: number, len: number, pos: number): number {
    return this.sys(() => sysRead(this.m, fd, buf, len, pos));
  }
  pwrite(fd: number, buf: number, len: number, pos: number): number {
    return this.sys(() => sysWrite(this.m, fd, buf, len, pos));
  }
  lseek(fd: number, off: number, whence: number): number {
    return this.sys(() => sysLseek(this.m, fd, off, whence));
  }
  ftruncate(fd: number, len: number): number {
    return this.sys(() => sysFtruncate(this.m, fd, len));
  }
  unlink(path: string): number {
    return this.sys(() => sysUnlink(this.m, path));
  }
  /** pipe(2): [read fd, write fd], or -errno. */
  pipe(): [number, number] | number {
    if (!this.alive) return -ESRCH;
    return this.m.runAs(this.task, () => sysPipe(this.m));
  }

  /** fork(2): the child's main thread, or -errno. */
  fork(): Thread | number {
    if (!this.alive) return -ESRCH;
    const c = this.m.runAs(this.task, () => doFork(this.m, this.task));
    return typeof c === 'number' ? c : new Thread(this.m, c);
  }
  /** clone(CLONE_VM|CLONE_THREAD|...): a new thread of this process. */
  clone(): Thread | number {
    if (!this.alive) return -ESRCH;
    const c = this.m.runAs(this.task, () => doCloneThread(this.m, this.task));
    return typeof c === 'number' ? c : new Thread(this.m, c);
  }
  execve(path: string, argv: string[] = [path], envp: string[] = []): number {
    return this.sys(() => doExecve(this.m, this.task, path, argv, envp));
  }
  /** exit(2): this thread only. */
  exitThread(code = 0): void {
    this.m.runAs(this.task, () => exitTask(this.m, this.task, code));
  }
  /** exit_group(2), and the parent reaps the zombie. */
  exit(code = 0): void {
    this.m.runAs(this.task, () => exitGroup(this.m, this.task, code));
    reap(this.m, this.task);
  }

  /** User-mode load of len bytes. */
  load(addr: number, len = 1): UserAccessResult {
    return userAccess(this.m, this.task, addr, len, ACC_READ);
  }
  /**
   * User-mode load of len bytes into dst (default: all of it), for hot loops: the result object is
   * this thread's own, reused (and overwritten) by the next loadInto(); nothing is allocated.
   */
  loadInto(addr: number, dst: Uint8Array, len = dst.length): UserAccessResult {
    if (len > dst.length) throw new RangeError(`loadInto: ${len} bytes do not fit in a ${dst.length}-byte buffer`);
    const res = this.loadRes;
    res.data = dst;
    if (len <= 64 && tlbLoad(this.m, this.task, addr, dst, len)) {
      resetAccessResult(res, len);
      return res;
    }
    return userAccessInto(this.m, this.task, addr, len, ACC_READ, undefined, res);
  }
  private readonly loadRes: UserAccessResult = { done: 0, data: null, signals: [], killed: false, faultsFixed: 0 };
  /** User-mode store: data is repeated to fill len bytes (default: data's length). */
  store(addr: number, data: Uint8Array | number[], len?: number): UserAccessResult {
    const d = data instanceof Uint8Array ? data : Uint8Array.from(data);
    return userAccess(this.m, this.task, addr, len ?? d.length, ACC_WRITE, d);
  }
  /** User-mode instruction fetch (a call into addr). */
  exec(addr: number): UserAccessResult {
    return userAccess(this.m, this.task, addr, 1, ACC_FETCH);
  }

  process_vm_readv(pid: number, local: Iovec[], remote: Iovec[], flags = 0): number {
    return this.sys(() => processVmRw(this.m, pid, local, remote, flags, false));
  }
  process_vm_writev(pid: number, local: Iovec[], remote: Iovec[], flags = 0): number {
    return this.sys(() => processVmRw(this.m, pid, local, remote, flags, true));
  }
  vmsplice(fd: number, iov: Iovec[], flags = 0): number {
    return this.sys(() => sysVmsplice(this.m, fd, iov, flags));
  }
  /** futex(uaddr, FUTEX_WAIT[|FUTEX_PRIVATE_FLAG], val) */
  futexWait(uaddr: number, op: number, val: number): number {
    return this.sys(() => sysFutexWait(this.m, uaddr, op, val));
  }
  ioUringRegisterBuffers(iov: Iovec[]): number {
    return this.sys(() => ioUringRegisterBuffers(this.m, iov));
  }
  /** An IORING_OP_READ_FIXED (write=false) or WRITE_FIXED submission and its completion's res. */
  ioUringFixed(bufIndex: number, addr: number, fd: number, offset: number, len: number, write: boolean): number {
    return this.sys(() => ioUringFixedIo(this.m, bufIndex, addr, fd, offset, len, write));
  }
  ioUringUnregisterBuffers(): number {
    return this.sys(() => ioUringUnregisterBuffers(this.m));
  }
  /** get_mempolicy(&node, NULL, 0, addr, MPOL_F_NODE|MPOL_F_ADDR): the node, or -errno. */
  getMempolicyNode(addr: number, flags = 3): number {
    return this.sys(() => sysGetMempolicyNode(this.m, addr, flags));
  }
  ptraceAttach(pid: number): number {
    return this.sys(() => sysPtraceAttach(this.m, pid));
  }
  ptraceDetach(pid: number): number {
    return this.sys(() => sysPtraceDetach(this.m, pid));
  }
  /** PTRACE_PEEKDATA as glibc returns it: the word, or -errno. */
  ptracePeek(pid: number, addr: number): bigint | number {
    if (!this.alive) return -ESRCH;
    return this.m.runAs(this.task, () => sysPtracePeek(this.m, pid, addr));
  }
  ptracePoke(pid: number, addr: number, word: bigint): number {
    return this.sys(() => sysPtracePoke(this.m, pid, addr, word));
  }
  /** userfaultfd(2): the fd of a new context (its monitor resolves missing pages with `fill`). */
  userfaultfd(): number {
    return this.sys(() => sysUserfaultfd(this.m));
  }
  /** ioctl(fd, UFFDIO_REGISTER, {range, UFFDIO_REGISTER_MODE_MISSING}) */
  uffdRegister(fd: number, start: number, len: number, fill = 0): number {
    return this.sys(() => uffdRegister(this.m, fd, start, len, fill));
  }
  setuid(uid: number): number {
    this.task.uid = uid;
    return 0;
  }

  /** RDPKRU: this thread's PKRU, or -1 if the instruction raised #UD (no CR4.PKE: SIGILL delivered). */
  rdpkru(): number {
    return rdpkru(this.m, this.task).value ?? -1;
  }
  /** WRPKRU: user mode, no syscall, this thread only (#UD -> SIGILL, see signals(), without CR4.PKE). */
  wrpkru(v: number): void {
    wrpkru(this.m, this.task, v);
  }
  /** glibc pkey_set(key, rights) / pkey_get(key): PKRU helpers without a syscall; -EINVAL for bad arguments. */
  pkeySet(key: number, rights: number): number {
    return glibcPkeySet(this.m, this.task, key, rights);
  }
  pkeyGet(key: number): number {
    return glibcPkeyGet(this.m, this.task, key);
  }
  /** ptrace(PTRACE_GETREGSET / PTRACE_SETREGSET, pid, NT_X86_XSTATE, {iovBase, iovLen}). */
  ptraceXstate(pid: number, set: boolean, iovBase: number, iovLen: number): number {
    return this.sys(() => sysPtraceXstateRegset(this.m, pid, set, iovBase, iovLen));
  }
  /** XSAVE / XRSTOR of the PKRU component (rfbm bit 9) to/from a user buffer. */
  xsave(addr: number, rfbm: number): UserAccessResult {
    return userXsave(this.m, this.task, addr, rfbm);
  }
  xrstor(addr: number, rfbm: number): UserAccessResult {
    return userXrstor(this.m, this.task, addr, rfbm);
  }

  /** sigaction() as glibc issues it: SA_RESTORER is always added (x86-64 frames need it). */
  sigaction(signo: number, act: SigAction | null): void {
    if (act) this.task.group.sighand.set(signo, { ...act, flags: act.flags | SA_RESTORER });
    else this.task.group.sighand.delete(signo);
  }
  /** sigaltstack(uss, uoss): pointers to stack_t in user memory (0 = NULL). */
  sigaltstack(uss: number, uoss: number): number {
    return this.sys(() => sysSigaltstack(this.m, this.task, uss, uoss, userSp(this.task)));
  }
  /** rt_sigprocmask(how = SIG_BLOCK 0 / SIG_UNBLOCK 1 / SIG_SETMASK 2, set). */
  sigprocmask(how: number, set: number[] | null): { ret: number; old: number[] } {
    if (!this.alive) return { ret: -ESRCH, old: [] };
    return this.m.runAs(this.task, () => sigprocmask(this.m, this.task, how, set));
  }
  /** tgkill(tgid, tid, sig); raise(sig) is tgkill(getpid(), gettid(), sig). */
  tgkill(tgid: number, tid: number, sig: number): number {
    if (!this.alive) return -ESRCH;
    if (tgid <= 0 || tid <= 0) return -EINVAL;
    const t = this.m.task(tid);
    if (!t || t.tgid !== tgid) return -ESRCH;
    return this.m.runAs(this.task, () => sendSignal(this.m, t, sig, this.task));
  }
  raise(sig: number): number {
    return this.tgkill(this.tgid, this.pid, sig);
  }
  /** Every signal delivery this thread has seen, in order (handled, killed, queued...). */
  signals(): readonly SignalDelivery[] {
    return signalLog(this.task);
  }
  /** The user stack pointer (where the next signal frame goes); settable like `mov rsp, x`. */
  get sp(): number {
    return userSp(this.task);
  }
  setStackPointer(sp: number): void {
    setUserSp(this.task, sp);
  }

  /** getrusage(RUSAGE_SELF) (or RUSAGE_THREAD with thread = true). */
  getrusage(thread = false): Rusage {
    if (thread) return { ru_minflt: this.task.minFlt, ru_majflt: this.task.majFlt };
    const f = groupFaults(this.task);
    return { ru_minflt: f.minFlt, ru_majflt: f.majFlt };
  }

  maps(): string {
    return this.task.mm ? procMaps(this.m, this.task.mm) : '';
  }
  smaps(): string {
    return this.task.mm ? procSmaps(this.m, this.task.mm) : '';
  }
  stat(): string {
    return procStat(this.m, this.task);
  }
  /** The PTE mapping addr in this thread's mm, or null. */
  pte(addr: number): ReturnType<typeof lookupPte> {
    return this.task.mm ? lookupPte(this.m, this.task.mm, addr) : null;
  }
}

/** A machine with a ready-made default program and helpers to start processes. */
export class Sim {
  readonly m: Machine;

  constructor(opts: MachineOptions = {}) {
    this.m = new Machine(opts);
    this.m.fs.createWithContent(DEFAULT_PROGRAM, defaultProgramImage());
  }

  /** A new process (a child of init) that has exec'd the default program. */
  spawn(argv: string[] = [DEFAULT_PROGRAM]): Thread {
    const m = this.m;
    const group = new ThreadGroup(m.allocPid(), new FdTable(), m.init.group);
    const task = new Task(group.tgid, group, null, m.profile.initPkru, 'gupsim-task');
    group.threads.push(task);
    m.tasks.set(task.pid, task);
    m.init.group.children.push(group);
    const r = m.runAs(task, () => doExecve(m, task, DEFAULT_PROGRAM, argv, ['GUPSIM=1']));
    if (r < 0) throw new Error(`spawn: execve failed with ${r}`);
    return new Thread(m, task);
  }

  thread(pid: number): Thread | null {
    const t = this.m.task(pid);
    return t ? new Thread(this.m, t) : null;
  }

  /** Violations of the machine's invariants (empty when consistent). */
  check(): string[] {
    return checkInvariants(this.m);
  }

  dropCaches(): number {
    return dropCaches(this.m);
  }

  /** A kernel thread (kworker/kthread): no mm of its own, init_pkru_value. */
  kthread(name = 'kworker/0:1'): Task {
    const m = this.m;
    const task = new Task(m.allocPid(), m.init.group, null, m.profile.initPkru, name, true);
    m.tasks.set(task.pid, task);
    return task;
  }

  /** Frames in use besides the zero page. */
  usedFrames(): number {
    return this.m.pages.used - 1;
  }
}
