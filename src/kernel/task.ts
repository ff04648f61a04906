// Tasks and thread groups (include/linux/sched.h: struct task_struct; struct signal_struct).
import type { Mm } from '../mm/mm.js';
import type { FdTable } from './fs.js';

/** What a scenario's signal handler does when it runs (the model's stand-in for handler code). */
export interface SigAction {
  /** 'skip': the handler longjmps past the faulting access; 'retry': it returns and the access re-executes. */
  onReturn: 'skip' | 'retry';
  /** The handler writes this PKRU into the saved frame before returning (as the selftest handler does). */
  setFramePkru?: number;
  flags: number; // SA_*
}

export interface SigInfo {
  signo: number;
  code: number;
  addr?: number;
  pkey?: number;
  /** The x86 page-fault error code that led here (model detail, shown in traces). */
  pfError?: number;
}

export const SIGTRAP = 5, SIGBUS = 7, SIGKILL = 9, SIGSEGV = 11, SIGPIPE = 13, SIGCHLD = 17;
export const SEGV_MAPERR = 1, SEGV_ACCERR = 2, SEGV_BNDERR = 3, SEGV_PKUERR = 4;
export const BUS_ADRERR = 2, BUS_MCEERR_AR = 4;
export const SIGNAL_NAMES: Record<number, string> = {
  [SIGTRAP]: 'SIGTRAP', [SIGBUS]: 'SIGBUS', [SIGKILL]: 'SIGKILL', [SIGSEGV]: 'SIGSEGV', [SIGPIPE]: 'SIGPIPE',
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
  /** sigaltstack(): [sp, size], size 0 = disabled. */
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
