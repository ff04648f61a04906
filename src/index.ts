// gupsim: an executable model of Linux get_user_pages(), x86-64 paging and protection keys.
export { Sim, Thread, type Rusage } from './api.js';
export { Machine, type MachineOptions, type KlogEntry } from './kernel/machine.js';
export { PROFILES, DEFAULT_PROFILE, type Profile, type ProfileName } from './profiles/profile.js';
export * from './hw/pte.js';
export * from './hw/pf_error.js';
export * from './hw/pkru.js';
export { mmuAccess, walkForDisplay, ACC_READ, ACC_WRITE, ACC_FETCH, type AccessKind, type CpuState } from './hw/mmu.js';
export * from './mm/vma.js';
export {
  PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC, PROT_GROWSDOWN, MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS,
  MAP_GROWSDOWN, MAP_POPULATE, MAP_FIXED_NOREPLACE, MAP_NORESERVE,
} from './mm/mmap.js';
export { MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP } from './mm/mremap.js';
export { MADV_DONTNEED, MADV_HWPOISON, MADV_POPULATE_READ, MADV_POPULATE_WRITE } from './mm/madvise.js';
export { PKEY_DISABLE_ACCESS, PKEY_DISABLE_WRITE } from './mm/pkeys.js';
export { GUP_PIN_COUNTING_BIAS, ZERO_PFN } from './mm/page.js';
export { checkInvariants } from './mm/debug.js';
export * from './kernel/errno.js';
export { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECT, O_CLOEXEC } from './kernel/fs.js';
export {
  SIGILL, SIGUSR1, SIGUSR2, SIGALRM, SIGSEGV, SIGBUS, SIGKILL, SEGV_MAPERR, SEGV_ACCERR, SEGV_PKUERR, BUS_ADRERR, BUS_MCEERR_AR, type SigInfo, type SigAction,
} from './kernel/task.js';
export type { UserAccessResult } from './kernel/usermode.js';
export {
  SA_SIGINFO, SA_ONSTACK, SA_RESTORER, SA_NODEFER, SA_RESETHAND, SI_USER, SI_KERNEL, SI_TKILL, ILL_ILLOPN,
  type SignalDelivery, type SigHandlerContext,
} from './kernel/signal.js';
export { SS_ONSTACK, SS_DISABLE, SS_AUTODISARM, MINSIGSTKSZ, SIGSTKSZ, type StackT } from './kernel/sigaltstack.js';
export type { InsnResult } from './kernel/pku.js';
