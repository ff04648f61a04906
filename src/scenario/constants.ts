// Linux constant names the scenario language knows, with their x86-64 values, and the decoders
// that print them back the way strace does (flag sets joined by '|', enumerations by name).
// Values come from the uapi headers (asm-generic/mman-common.h, asm-generic/fcntl.h, ...).
import { ERRNO_NAMES, errnoName as modelErrnoName } from '../kernel/errno.js';

export interface FlagSet {
  /** What strace prints for 0 (e.g. PROT_NONE), or '0'. */
  readonly zero: string;
  /** [value, name] in the order strace prints them. */
  readonly bits: readonly (readonly [number, string])[];
  /** For MAP_* and O_*: a low-bits field printed first by its own table (MAP_TYPE, O_ACCMODE). */
  readonly field?: { mask: number; names: readonly (readonly [number, string])[] };
}

export interface EnumSet {
  readonly names: readonly (readonly [number, string])[];
}

export const PROT: FlagSet = {
  zero: 'PROT_NONE',
  bits: [[0x1, 'PROT_READ'], [0x2, 'PROT_WRITE'], [0x4, 'PROT_EXEC'], [0x8, 'PROT_SEM'],
    [0x01000000, 'PROT_GROWSDOWN'], [0x02000000, 'PROT_GROWSUP']],
};

export const MAP: FlagSet = {
  zero: '0',
  field: { mask: 0x0f, names: [[0x01, 'MAP_SHARED'], [0x02, 'MAP_PRIVATE'], [0x03, 'MAP_SHARED_VALIDATE']] },
  bits: [[0x10, 'MAP_FIXED'], [0x20, 'MAP_ANONYMOUS'], [0x40, 'MAP_32BIT'], [0x0100, 'MAP_GROWSDOWN'],
    [0x0800, 'MAP_DENYWRITE'], [0x1000, 'MAP_EXECUTABLE'], [0x2000, 'MAP_LOCKED'], [0x4000, 'MAP_NORESERVE'],
    [0x8000, 'MAP_POPULATE'], [0x10000, 'MAP_NONBLOCK'], [0x20000, 'MAP_STACK'], [0x40000, 'MAP_HUGETLB'],
    [0x80000, 'MAP_SYNC'], [0x100000, 'MAP_FIXED_NOREPLACE']],
};

export const MREMAP: FlagSet = {
  zero: '0',
  bits: [[1, 'MREMAP_MAYMOVE'], [2, 'MREMAP_FIXED'], [4, 'MREMAP_DONTUNMAP']],
};

export const OPEN: FlagSet = {
  zero: 'O_RDONLY',
  field: { mask: 3, names: [[0, 'O_RDONLY'], [1, 'O_WRONLY'], [2, 'O_RDWR'], [3, 'O_ACCMODE']] },
  bits: [[0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o400, 'O_NOCTTY'], [0o1000, 'O_TRUNC'], [0o2000, 'O_APPEND'],
    [0o4000, 'O_NONBLOCK'], [0o10000, 'O_DSYNC'], [0o20000, 'O_ASYNC'], [0o40000, 'O_DIRECT'],
    [0o200000, 'O_DIRECTORY'], [0o400000, 'O_NOFOLLOW'], [0o1000000, 'O_NOATIME'], [0o2000000, 'O_CLOEXEC']],
};

export const PKEY_RIGHTS: FlagSet = {
  zero: '0',
  bits: [[1, 'PKEY_DISABLE_ACCESS'], [2, 'PKEY_DISABLE_WRITE']],
};

/** FOLL_* as of the modern kernel (include/linux/mm_types.h, mm/internal.h; SEMANTICS GUP-10/11). */
export const FOLL: FlagSet = {
  zero: '0',
  bits: [[1 << 0, 'FOLL_WRITE'], [1 << 1, 'FOLL_GET'], [1 << 2, 'FOLL_DUMP'], [1 << 3, 'FOLL_FORCE'],
    [1 << 4, 'FOLL_NOWAIT'], [1 << 5, 'FOLL_NOFAULT'], [1 << 6, 'FOLL_HWPOISON'], [1 << 7, 'FOLL_ANON'],
    [1 << 8, 'FOLL_LONGTERM'], [1 << 9, 'FOLL_SPLIT_PMD'], [1 << 10, 'FOLL_PCI_P2PDMA'],
    [1 << 11, 'FOLL_INTERRUPTIBLE'], [1 << 12, 'FOLL_HONOR_NUMA_FAULT'], [1 << 16, 'FOLL_TOUCH'],
    [1 << 17, 'FOLL_TRIED'], [1 << 18, 'FOLL_REMOTE'], [1 << 19, 'FOLL_PIN'], [1 << 20, 'FOLL_FAST_ONLY'],
    [1 << 21, 'FOLL_UNLOCKABLE'], [1 << 22, 'FOLL_MADV_POPULATE']],
};

export const SA: FlagSet = {
  zero: '0',
  bits: [[0x1, 'SA_NOCLDSTOP'], [0x2, 'SA_NOCLDWAIT'], [0x4, 'SA_SIGINFO'], [0x04000000, 'SA_RESTORER'],
    [0x08000000, 'SA_ONSTACK'], [0x10000000, 'SA_RESTART'], [0x40000000, 'SA_NODEFER'], [0x80000000, 'SA_RESETHAND']],
};

export const MADV: EnumSet = {
  names: [[0, 'MADV_NORMAL'], [1, 'MADV_RANDOM'], [2, 'MADV_SEQUENTIAL'], [3, 'MADV_WILLNEED'], [4, 'MADV_DONTNEED'],
    [8, 'MADV_FREE'], [9, 'MADV_REMOVE'], [10, 'MADV_DONTFORK'], [11, 'MADV_DOFORK'], [12, 'MADV_MERGEABLE'],
    [13, 'MADV_UNMERGEABLE'], [14, 'MADV_HUGEPAGE'], [15, 'MADV_NOHUGEPAGE'], [16, 'MADV_DONTDUMP'],
    [17, 'MADV_DODUMP'], [18, 'MADV_WIPEONFORK'], [19, 'MADV_KEEPONFORK'], [20, 'MADV_COLD'], [21, 'MADV_PAGEOUT'],
    [22, 'MADV_POPULATE_READ'], [23, 'MADV_POPULATE_WRITE'], [24, 'MADV_DONTNEED_LOCKED'], [25, 'MADV_COLLAPSE'],
    [100, 'MADV_HWPOISON'], [101, 'MADV_SOFT_OFFLINE']],
};

export const PTRACE: EnumSet = {
  names: [[0, 'PTRACE_TRACEME'], [1, 'PTRACE_PEEKTEXT'], [2, 'PTRACE_PEEKDATA'], [4, 'PTRACE_POKETEXT'],
    [5, 'PTRACE_POKEDATA'], [7, 'PTRACE_CONT'], [8, 'PTRACE_KILL'], [16, 'PTRACE_ATTACH'], [17, 'PTRACE_DETACH'],
    [0x4206, 'PTRACE_SEIZE'], [0x4207, 'PTRACE_INTERRUPT']],
};

export const SPLICE_F: FlagSet = {
  zero: '0',
  bits: [[1, 'SPLICE_F_MOVE'], [2, 'SPLICE_F_NONBLOCK'], [4, 'SPLICE_F_MORE'], [8, 'SPLICE_F_GIFT']],
};

export const SIGPROCMASK_HOW: EnumSet = { names: [[0, 'SIG_BLOCK'], [1, 'SIG_UNBLOCK'], [2, 'SIG_SETMASK']] };

export const FUTEX_OP: FlagSet = {
  zero: 'FUTEX_WAIT',
  field: { mask: 0x7f, names: [[0, 'FUTEX_WAIT'], [1, 'FUTEX_WAKE']] },
  bits: [[128, 'FUTEX_PRIVATE_FLAG']],
};

export const SEEK: EnumSet = { names: [[0, 'SEEK_SET'], [1, 'SEEK_CUR'], [2, 'SEEK_END'], [3, 'SEEK_DATA'], [4, 'SEEK_HOLE']] };

export const RUSAGE: EnumSet = { names: [[0, 'RUSAGE_SELF'], [-1, 'RUSAGE_CHILDREN'], [1, 'RUSAGE_THREAD']] };

export const SIGNALS: EnumSet = {
  names: [[1, 'SIGHUP'], [2, 'SIGINT'], [3, 'SIGQUIT'], [4, 'SIGILL'], [5, 'SIGTRAP'], [6, 'SIGABRT'], [7, 'SIGBUS'],
    [8, 'SIGFPE'], [9, 'SIGKILL'], [10, 'SIGUSR1'], [11, 'SIGSEGV'], [12, 'SIGUSR2'], [13, 'SIGPIPE'], [14, 'SIGALRM'],
    [15, 'SIGTERM'], [17, 'SIGCHLD'], [18, 'SIGCONT'], [19, 'SIGSTOP']],
};

/** si_code names per signal (include/uapi/asm-generic/siginfo.h). */
export const SI_CODES: Record<string, EnumSet> = {
  SIGSEGV: { names: [[1, 'SEGV_MAPERR'], [2, 'SEGV_ACCERR'], [3, 'SEGV_BNDERR'], [4, 'SEGV_PKUERR']] },
  SIGBUS: { names: [[1, 'BUS_ADRALN'], [2, 'BUS_ADRERR'], [3, 'BUS_OBJERR'], [4, 'BUS_MCEERR_AR'], [5, 'BUS_MCEERR_AO']] },
  SIGTRAP: { names: [[1, 'TRAP_BRKPT'], [2, 'TRAP_TRACE']] },
  SIGILL: { names: [[1, 'ILL_ILLOPC'], [2, 'ILL_ILLOPN'], [3, 'ILL_ILLADR'], [4, 'ILL_ILLTRP']] },
};

/** glibc's strerror() texts, by errno name (the numbers are the model's: kernel/errno.ts). */
const STRERROR: Record<string, string> = {
  EPERM: 'Operation not permitted', ENOENT: 'No such file or directory', ESRCH: 'No such process',
  EINTR: 'Interrupted system call', EIO: 'Input/output error', ENXIO: 'No such device or address',
  E2BIG: 'Argument list too long', ENOEXEC: 'Exec format error', EBADF: 'Bad file descriptor',
  ECHILD: 'No child processes', EAGAIN: 'Resource temporarily unavailable', ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied', EFAULT: 'Bad address', EBUSY: 'Device or resource busy', EEXIST: 'File exists',
  ENODEV: 'No such device', ENOTDIR: 'Not a directory', EISDIR: 'Is a directory', EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system', EMFILE: 'Too many open files', EFBIG: 'File too large',
  ENOSPC: 'No space left on device', ESPIPE: 'Illegal seek', EPIPE: 'Broken pipe',
  ERANGE: 'Numerical result out of range', ENOSYS: 'Function not implemented',
  EOVERFLOW: 'Value too large for defined data type', EOPNOTSUPP: 'Operation not supported',
  ETIMEDOUT: 'Connection timed out', EREMOTEIO: 'Remote I/O error', EHWPOISON: 'Memory page has hardware error',
};

const ERRNO_BY_NAME = new Map(Object.entries(ERRNO_NAMES).map(([n, name]) => [name, Number(n)]));

export const errnoName = modelErrnoName;

/** [number, name, strerror text] of every errno the model knows (for tables and C export). */
export const ERRNOS: readonly (readonly [number, string, string])[] = Object.entries(ERRNO_NAMES)
  .map(([n, name]) => [Number(n), name, STRERROR[name] ?? `Unknown error ${n}`] as const);

export function strerror(e: number): string {
  return STRERROR[modelErrnoName(e)] ?? `Unknown error ${e}`;
}

export function errnoNumber(name: string): number | undefined {
  return ERRNO_BY_NAME.get(name);
}

export function enumName(set: EnumSet, v: number): string | undefined {
  for (const [n, name] of set.names) if (n === v) return name;
  return undefined;
}

export function signalName(signo: number): string {
  return enumName(SIGNALS, signo) ?? `SIG${signo}`;
}

export function siCodeName(signo: number, code: number): string {
  if (code === 0) return 'SI_USER';
  if (code === 0x80) return 'SI_KERNEL';
  if (code === -6) return 'SI_TKILL';
  const set = SI_CODES[signalName(signo)];
  return (set && enumName(set, code)) ?? String(code);
}

/** strace-style flags: known names joined with '|', any unknown bits as a hex remainder. */
export function formatFlags(set: FlagSet, value: number): string {
  let v = value >>> 0;
  const parts: string[] = [];
  if (set.field) {
    const f = v & set.field.mask;
    const name = set.field.names.find(([n]) => n === f)?.[1];
    if (name) {
      parts.push(name);
      v &= ~set.field.mask;
    }
  }
  for (const [bit, name] of set.bits) {
    if ((v & bit) === bit && bit !== 0) {
      parts.push(name);
      v = (v & ~bit) >>> 0;
    }
  }
  if (v) parts.push('0x' + v.toString(16));
  if (parts.length === 0) return set.zero;
  return parts.join('|');
}

export function formatEnum(set: EnumSet, v: number, fallback = String(v)): string {
  return enumName(set, v) ?? fallback;
}

/** Every constant name the language accepts, with its value. */
export const CONSTANTS: ReadonlyMap<string, bigint> = (() => {
  const m = new Map<string, bigint>();
  const addFlags = (s: FlagSet): void => {
    for (const [v, n] of s.bits) m.set(n, BigInt(v));
    if (s.field) for (const [v, n] of s.field.names) m.set(n, BigInt(v));
  };
  for (const s of [PROT, MAP, MREMAP, OPEN, PKEY_RIGHTS, FOLL, SA, SPLICE_F, FUTEX_OP]) addFlags(s);
  for (const s of [MADV, SEEK, RUSAGE, SIGNALS, PTRACE, SIGPROCMASK_HOW]) for (const [v, n] of s.names) m.set(n, BigInt(v));
  for (const s of Object.values(SI_CODES)) for (const [v, n] of s.names) m.set(n, BigInt(v));
  for (const [n, v] of ERRNO_BY_NAME) m.set(n, BigInt(v));
  m.set('PROT_NONE', 0n);
  m.set('MAP_ANON', 0x20n);
  m.set('MAP_FILE', 0n);
  m.set('NULL', 0n);
  m.set('PAGE_SIZE', 4096n);
  m.set('AT_FDCWD', -100n);
  m.set('PKEY_DISABLE_EXECUTE', 4n); // accepted by arm64 POE kernels only; x86 returns EINVAL
  m.set('SI_USER', 0n);
  m.set('SI_KERNEL', 0x80n);
  m.set('SI_TKILL', -6n);
  m.set('SS_ONSTACK', 1n);
  m.set('SS_DISABLE', 2n);
  m.set('SS_AUTODISARM', 1n << 31n);
  m.set('MINSIGSTKSZ', 2048n);
  m.set('SIGSTKSZ', 8192n);
  return m;
})();

/** Signal names that can be used in expectations, e.g. SIGSEGV{...}. */
export function isSignalName(s: string): boolean {
  return SIGNALS.names.some(([, n]) => n === s);
}

export function signalNumber(s: string): number | undefined {
  return SIGNALS.names.find(([, n]) => n === s)?.[0];
}
