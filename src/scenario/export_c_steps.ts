// The C emitters (StepDef.c) of every step user space can perform, for export_c.ts. They are set on
// the registered step definitions when this module is imported, so StepDef.c stays the one place
// export_c.ts looks; a step registered later without an entry here is "not exportable".
// The contract (locals, argument forms, helpers) is described at the top of export_c.ts; the
// helpers are in export_c_runtime.ts.
import { lookupStep, type CEmitCtx } from './registry.js';
import './steps/index.js';

type Emit = (c: CEmitCtx) => string;
const a = (c: CEmitCtx, n: string): string => {
  const v = c.args[n];
  if (v === undefined) throw new Error(`C emitter: no argument '${n}'`);
  return v;
};

export const C_EMITTERS: Readonly<Record<string, Emit>> = {
  // --- user mode (export_c_runtime.ts: byte loops at known labels, PKRU switched around them)
  load: (c) => `gs_do_load(w, ${a(c, 'addr')}, ${a(c, 'len')});`,
  // len's default (-1, i.e. 2^64-1) means "the length of data", to the runtime as to the model.
  store: (c) => `ret = (int64_t)gs_do_store(w, ${a(c, 'addr')}, ${a(c, 'data')}, ${a(c, 'len')});`,
  exec: (c) => `gs_exec(&w->vpkru, ${a(c, 'addr')}, gs_scratch);`,
  wrpkru: (c) => `gs_wrpkru_op((uint32_t)${a(c, 'pkru')}, &w->vpkru);`,
  rdpkru: () => '{ uint32_t v_ = gs_rdpkru_op(&w->vpkru); if (R()->nsig) hasret = 0; else ret = v_; }',
  // glibc's pkey_set()/pkey_get() (sysdeps/unix/sysv/linux/x86/pkey_{set,get}.c): argument
  // checks (-1, EINVAL), then RDPKRU, then WRPKRU.
  pkey_set: (c) => `{ int64_t k_ = ${a(c, 'pkey')}; uint64_t r_ = ${a(c, 'rights')};
		if (k_ < 0 || k_ > 15 || r_ > 3) { ret = -1; cerr = EINVAL; }
		else { uint32_t v_ = gs_rdpkru_op(&w->vpkru), m_ = 3u << (2 * k_);
			if (R()->nsig) hasret = 0;
			else { gs_wrpkru_op((v_ & ~m_) | ((uint32_t)r_ << (2 * k_)), &w->vpkru); if (R()->nsig) hasret = 0; else ret = 0; } } }`,
  pkey_get: (c) => `{ int64_t k_ = ${a(c, 'pkey')};
		if (k_ < 0 || k_ > 15) { ret = -1; cerr = EINVAL; }
		else { uint32_t v_ = gs_rdpkru_op(&w->vpkru); if (R()->nsig) hasret = 0; else ret = (v_ >> (2 * k_)) & 3; } }`,

  // --- memory
  mmap: (c) => `ret = SYS6(SYS_mmap, ${a(c, 'addr')}, ${a(c, 'length')}, ${a(c, 'prot')}, ${a(c, 'flags')}, ${a(c, 'fd')}, ${a(c, 'offset')}); rlen = ${a(c, 'length')};`,
  munmap: (c) => `ret = SYS2(SYS_munmap, ${a(c, 'addr')}, ${a(c, 'length')});`,
  mprotect: (c) => `ret = SYS3(SYS_mprotect, ${a(c, 'addr')}, ${a(c, 'length')}, ${a(c, 'prot')});`,
  pkey_mprotect: (c) => `ret = SYS4(SYS_pkey_mprotect, ${a(c, 'addr')}, ${a(c, 'length')}, ${a(c, 'prot')}, ${a(c, 'pkey')});`,
  pkey_alloc: (c) => `ret = SYS2(SYS_pkey_alloc, ${a(c, 'flags')}, ${a(c, 'access_rights')});`,
  pkey_free: (c) => `ret = SYS1(SYS_pkey_free, ${a(c, 'pkey')});`,
  madvise: (c) => `ret = SYS3(SYS_madvise, ${a(c, 'addr')}, ${a(c, 'length')}, ${a(c, 'advice')});`,
  mremap: (c) => `ret = SYS5(SYS_mremap, ${a(c, 'old_address')}, ${a(c, 'old_size')}, ${a(c, 'new_size')}, ${a(c, 'flags')}, ${a(c, 'new_address')}); rlen = ${a(c, 'new_size')};`,

  // --- files
  open: (c) => `ret = SYS4(SYS_openat, AT_FDCWD, gs_pathname(${a(c, 'pathname')}), ${a(c, 'flags')}, ${a(c, 'mode')});`,
  close: (c) => `ret = SYS1(SYS_close, ${a(c, 'fd')});`,
  read: (c) => `ret = SYS3(SYS_read, ${a(c, 'fd')}, ${a(c, 'buf')}, ${a(c, 'count')});`,
  pread: (c) => `ret = SYS4(SYS_pread64, ${a(c, 'fd')}, ${a(c, 'buf')}, ${a(c, 'count')}, ${a(c, 'offset')});`,
  write: (c) => `ret = SYS3(SYS_write, ${a(c, 'fd')}, ${a(c, 'buf')}, ${a(c, 'count')});`,
  pwrite: (c) => `ret = SYS4(SYS_pwrite64, ${a(c, 'fd')}, ${a(c, 'buf')}, ${a(c, 'count')}, ${a(c, 'offset')});`,
  lseek: (c) => `ret = SYS3(SYS_lseek, ${a(c, 'fd')}, ${a(c, 'offset')}, ${a(c, 'whence')});`,
  ftruncate: (c) => `ret = SYS2(SYS_ftruncate, ${a(c, 'fd')}, ${a(c, 'length')});`,
  unlink: (c) => `ret = SYS1(SYS_unlink, gs_pathname(${a(c, 'pathname')}));`,
  pipe: () => '{ static int fds_[2]; char s_[32]; ret = SYS2(SYS_pipe2, fds_, 0); if (ret == 0) { snprintf(s_, sizeof s_, "%d,%d", fds_[0], fds_[1]); ' +
    'gs_field_str("fds", s_); R()->fds[0] = fds_[0]; R()->fds[1] = fds_[1]; } }',

  // --- tasks: the new task's worker starts in the child (export_c_runtime.ts)
  fork: (c) => `ret = gs_fork(w, T_${c.bind ?? '?'}, step);`,
  clone: (c) => `ret = gs_new_thread(w, T_${c.bind ?? '?'}, step);`,
  // The default program is the oracle binary itself, which resumes as the same task.
  execve: (c) => `ret = gs_execve(w, gs_pathname(${a(c, 'pathname')}), step);`,
  exit: (c) => `R()->exit_req = (int)${a(c, 'status')}; SYS1(SYS_exit_group, ${a(c, 'status')});`,
  exit_thread: (c) => `R()->exit_req = (int)${a(c, 'status')}; SYS1(SYS_exit, ${a(c, 'status')});`,
  getpid: () => 'ret = SYS0(SYS_getpid);',
  gettid: () => 'ret = SYS0(SYS_gettid);',
  // The runtime's handler implements skip/retry/frame_pkru; frame_pkru's default -1 = not given.
  sigaction: (c) => `ret = gs_sigaction(w, ${a(c, 'signum')}, ${a(c, 'handler')}, ${a(c, 'frame_pkru')}, ${a(c, 'flags')});`,
  // glibc's raise(): tgkill(getpid(), gettid(), sig)
  raise: (c) => `ret = SYS3(SYS_tgkill, SYS0(SYS_getpid), SYS0(SYS_gettid), ${a(c, 'sig')});`,
  tgkill: (c) => `ret = SYS3(SYS_tgkill, ${a(c, 'tgid')}, ${a(c, 'tid')}, ${a(c, 'sig')});`,
  sigprocmask: (c) => `{ static uint64_t set_; int64_t s_ = ${a(c, 'sig')}; set_ = s_ > 0 && s_ <= 64 ? 1ULL << (s_ - 1) : 0;
		ret = SYS4(SYS_rt_sigprocmask, ${a(c, 'how')}, s_ ? &set_ : NULL, NULL, 8); }`,
  sigaltstack: (c) => `ret = SYS2(SYS_sigaltstack, ${a(c, 'ss')}, ${a(c, 'old_ss')});`,
  setuid: (c) => `ret = SYS1(SYS_setuid, ${a(c, 'uid')});`,
  // The model does not sleep: a FUTEX_WAIT whose value matches times out after 10 ms here.
  futex: (c) => `{ static struct timespec t_ = { 0, 10000000 }; ret = SYS4(SYS_futex, ${a(c, 'uaddr')}, ${a(c, 'futex_op')}, ${a(c, 'val')}, &t_); }`,
  getrusage: (c) => `{ static struct rusage ru_; ret = SYS2(SYS_getrusage, ${a(c, 'who')}, &ru_); }`,

  // --- GUP users: C reads liovcnt/riovcnt entries; the runtime pads the given ones with zeros,
  // as the model does.
  process_vm_readv: (c) => `ret = SYS6(SYS_process_vm_readv, ${a(c, 'pid')}, gs_iovs_buf(0, ${a(c, 'local_iov')}, ${a(c, 'liovcnt')}), ${a(c, 'liovcnt')}, ` +
    `gs_iovs_buf(1, ${a(c, 'remote_iov')}, ${a(c, 'riovcnt')}), ${a(c, 'riovcnt')}, ${a(c, 'flags')});`,
  process_vm_writev: (c) => `ret = SYS6(SYS_process_vm_writev, ${a(c, 'pid')}, gs_iovs_buf(0, ${a(c, 'local_iov')}, ${a(c, 'liovcnt')}), ${a(c, 'liovcnt')}, ` +
    `gs_iovs_buf(1, ${a(c, 'remote_iov')}, ${a(c, 'riovcnt')}), ${a(c, 'riovcnt')}, ${a(c, 'flags')});`,
  vmsplice: (c) => `ret = SYS4(SYS_vmsplice, ${a(c, 'fd')}, gs_iovs_buf(0, ${a(c, 'iov')}, ${a(c, 'nr_segs')}), ${a(c, 'nr_segs')}, ${a(c, 'flags')});`,
  // io_uring: the harness sets up one ring per process at the first io_uring step (its fd at 995).
  io_uring_register_buffers: (c) => `ret = gs_uring_register(w, ${a(c, 'iov')}, ${a(c, 'nr_iovecs')});`,
  io_uring_unregister_buffers: () => 'ret = gs_uring_unregister(w);',
  io_uring_read_fixed: (c) => `ret = gs_uring_fixed(w, 0, ${a(c, 'fd')}, ${a(c, 'buf')}, ${a(c, 'len')}, ${a(c, 'offset')}, ${a(c, 'buf_index')});`,
  io_uring_write_fixed: (c) => `ret = gs_uring_fixed(w, 1, ${a(c, 'fd')}, ${a(c, 'buf')}, ${a(c, 'len')}, ${a(c, 'offset')}, ${a(c, 'buf_index')});`,
  // get_mempolicy(&node, NULL, 0, addr, MPOL_F_NODE|MPOL_F_ADDR)
  get_mempolicy_node: (c) => `{ static int node_; ret = SYS5(SYS_get_mempolicy, &node_, 0, 0, ${a(c, 'addr')}, 3); }`,
  // PEEK returns the word as glibc's wrapper does; ATTACH/SEIZE also wait for the tracee's stop.
  ptrace: (c) => `ret = gs_ptrace(w, ${a(c, 'request')}, ${a(c, 'pid')}, ${a(c, 'addr')}, ${a(c, 'data')}, &cerr);`,

  // --- queries: run by the coordinator, on /proc/<pid of the step's task>/...
  maps: () => 'gs_q_maps(tpid, &ret);',
  vma: (c) => `gs_q_vma(tpid, ${a(c, 'addr')}, &ret, &cerr);`,
  smaps: (c) => `gs_q_smaps(tpid, ${a(c, 'addr')}, &ret, &cerr);`,
  pagemap: (c) => `gs_q_pagemap(tpid, ${a(c, 'addr')}, &ret);`,

  // --- machine-level setup, by the coordinator
  write_file: (c) => `ret = gs_write_file(${a(c, 'pathname')}, ${a(c, 'content')});`,
  drop_caches: () => 'ret = gs_drop_caches();',
  // The model's self-check: a real kernel is its own consistent state, so its line is ret=0.
  check_invariants: () => 'ret = 0;',
};

/** Model-only steps whose C stand-in is exact (see above). */
export const C_MODEL_ONLY_EXPORTABLE: ReadonlySet<string> = new Set(['check_invariants']);

/**
 * Kernel-context steps, through the oracle's test module (oracle/gupsim_gup.c). `A: step(...)`
 * runs in A's worker (the module calls the function with current = A); `kworker:`/`kthread:` runs
 * in the coordinator and the module calls it from a kworker (current has no mm).
 */
const kctx = (c: CEmitCtx): { w: string; ctx: number } => (c.task === 'kworker' || c.task === 'kthread' ? { w: 'NULL', ctx: 1 } : { w: 'w', ctx: 0 });
const local = (op: string) => (c: CEmitCtx): string => {
  const { w, ctx } = kctx(c);
  return `ret = gs_kcall(${w}, ${op}, ${ctx}, 0, ${a(c, 'gup_flags')}, ${a(c, 'start')}, ${a(c, 'nr_pages')}, 0);`;
};
const remote = (op: string) => (c: CEmitCtx): string => {
  const { w, ctx } = kctx(c);
  return `ret = gs_kcall(${w}, ${op}, ${ctx}, C->task[${a(c, 'mm')}].tgid, ${a(c, 'gup_flags')}, ${a(c, 'start')}, ${a(c, 'nr_pages')}, 0);`;
};

export const C_KERNEL_EMITTERS: Readonly<Record<string, Emit>> = {
  get_user_pages: local('GK_GUP'),
  get_user_pages_unlocked: local('GK_GUP_UNLOCKED'),
  get_user_pages_fast: local('GK_GUP_FAST'),
  get_user_pages_remote: remote('GK_GUP_REMOTE'),
  pin_user_pages: local('GK_PIN'),
  pin_user_pages_unlocked: local('GK_PIN_UNLOCKED'),
  pin_user_pages_fast: local('GK_PIN_FAST'),
  pin_user_pages_remote: remote('GK_PIN_REMOTE'),
  fixup_user_fault: (c) => {
    const { w, ctx } = kctx(c);
    return `ret = gs_kcall(${w}, GK_FIXUP, ${ctx}, C->task[${a(c, 'mm')}].tgid, ${a(c, 'fault_flags')}, ${a(c, 'address')}, 0, 0);`;
  },
  access_remote_vm: (c) => {
    const { w, ctx } = kctx(c);
    return `ret = gs_kaccess(${w}, ${ctx}, C->task[${a(c, 'mm')}].tgid, ${a(c, 'addr')}, ${a(c, 'len')}, ${a(c, 'gup_flags')});`;
  },
};

/** Install the emitters on the registered steps (idempotent). */
export function installCEmitters(): void {
  for (const [name, emit] of Object.entries({ ...C_EMITTERS, ...C_KERNEL_EMITTERS })) {
    const def = lookupStep(name);
    if (def) def.c = emit;
  }
}

installCEmitters();
