// Tasks and thread groups (include/linux/sched.h: struct task_struct; struct signal_struct).
import type { Mm } from '../mm/mm.js';
import type { FdTable } from './fs.js';
import type { SigHandlerContext } from './signal.js';

/** What a scenario's signal handler does when it runs (the model's stand-in for handler code). */
export interface SigAction {
  /**
   * How the handler ends. 'retry': it returns through rt_sigreturn and a faulting instruction
   * re-executes. 'skip': it advances the saved instruction pointer in its ucontext past the
   * interrupted instruction and returns through rt_sigreturn (everything, PKRU included, comes back
   * from the frame; the access is abandoned). 'longjmp': it siglongjmp()s to a sigsetjmp(env, 1)
   * taken just before the interrupted operation, which is abandoned; the signal mask comes back,
   * PKRU does not (it is not in jmp_buf: it stays what the handler ran with). 'exit': it ends its
   * thread with a raw exit(2).
   */
  onReturn: 'skip' | 'retry' | 'longjmp' | 'exit';
  /** The handler stores this PKRU into the saved frame before returning (as the selftest handler does). */
  setFramePkru?: number;
  flags: number; // SA_* (glibc's sigaction() adds SA_RESTORER)
  /** sa_mask: signals blocked in addition while the handler runs. */
  mask?: number[];
  /** The handler's body: runs in the thread, on the handler's stack, with the handler's PKRU. */
  run?: (ctx: SigHandlerContext) => void;
}

export interface SigInfo {
  signo: number;
  code: number;
  addr?: number;
  pkey?: number;
  /** Sender of a kill()/tgkill() signal (si_pid, si_uid). */
  pid?: number;
  uid?: number;
  /** The x86 page-fault error code that led here (model detail, shown in traces). */
  pfError?: number;
}

export const SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12,
  SIGPIPE = 13, SIGALRM = 14, SIGCHLD = 17;
export const SEGV_MAPERR = 1, SEGV_ACCERR = 2, SEGV_BNDERR = 3, SEGV_PKUERR = 4;
export const BUS_ADRERR = 2, BUS_MCEERR_AR = 4;
export const SIGNAL_NAMES: Record<number, string> = {
  [SIGILL]: 'SIGILL', [SIGTRAP]: 'SIGTRAP', [SIGABRT]: 'SIGABRT', [SIGBUS]: 'SIGBUS', [SIGKILL]: 'SIGKILL',
  [SIGUSR1]: 'SIGUSR1', [SIGSEGV]: 'SIGSEGV', [SIGUSR2]: 'SIGUSR2', [SIGPIPE]: 'SIGPIPE', [SIGALRM]: 'SIGALRM',
  [SIGCHLD]: 'SIGCHLD',
};
export const SEGV_CODE_NAMES: Record<number, string> = {
  [SEGV_MAPERR]: 'SEGV_MAPERR', [SEGV_ACCERR]: 'SEGV_ACCERR', [SEGV_BNDERR]: 'SEGV_BNDERR', [SEGV_PKUERR]: 'SEGV_PKUERR',
};
export const BUS_CODE_NAMES: Record<number, string> = { [BUS_ADRERR]: 'BUS_ADRERR', [BUS_MCEERR_AR]: 'BUS_MCEERR_AR' };

export class ThreadGroup {
  threads: Task[] = [];
  readonly sighand = new Map<number, SigAction>();
  children: ThreadGroup[] = [];
  state: 'alive' | 'zombie' | 'reaped' = 'alive';
  /** Exit status as wait() reports it: (code << 8) or the terminating signal. */
  exitCode = 0;
  exitSignal = 0;
  /** Fault counts of threads that have exited (signal->min_flt, maj_flt). */
  deadMinFlt = 0;
  deadMajFlt = 0;
  dumpable = 1;
  constructor(public readonly tgid: number, public files: FdTable, public parent: ThreadGroup | null) {}
}

export class Task {
  minFlt = 0;
  majFlt = 0;
  state: 'running' | 'dead' = 'running';
  /** The tracer's tgid while ptraced. */
  tracer: number | null = null;
  /** In a ptrace-stop (attached and waited for). */
  ptraceStopped = false;
  /** A fatal signal (SIGKILL) is pending: fatal_signal_pending(). */
  fatalPending = false;
  /** Credentials (uid == euid == fsuid in this model); 0 is root. */
  uid = 0;
  /** sigaltstack(): sas_ss_sp, sas_ss_size (0 = disabled), sas_ss_flags (see kernel/sigaltstack.ts). */
  altStack: { sp: number; size: number; flags: number } = { sp: 0, size: 0, flags: 2 /* SS_DISABLE */ };
  constructor(
    public readonly pid: number,
    public readonly group: ThreadGroup,
    public mm: Mm | null,
    public pkru: number,
    public comm: string,
    public readonly kthread = false,
  ) {}

  get tgid(): number {
    return this.group.tgid;
  }

  isThreadGroupLeader(): boolean {
    return this.pid === this.group.tgid;
  }
}
