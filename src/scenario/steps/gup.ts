// get_user_pages() and its users, as steps: the syscalls that reach GUP (process_vm_readv/writev,
// vmsplice, ptrace), and kernel-context steps that call a GUP variant, uprobes or KVM's async
// page fault directly. Kernel-context steps run in a kworker/kthread (`kworker: ...`, current has
// no mm) or in a task's kernel context (`A: get_user_pages(...)` runs with current = A); a scenario
// that uses one is model-only.
import { EINVAL, EIO } from '../../kernel/errno.js';
import type { Iovec } from '../../kernel/process_vm.js';
import { sysPtraceAttach, sysPtraceDetach, sysPtracePeek, sysPtracePoke } from '../../kernel/ptrace.js';
import { handleStraySwbp, uprobeWriteOpcode } from '../../kernel/uprobes.js';
import type { Machine } from '../../kernel/machine.js';
import { accessRemoteVm } from '../../mm/access_remote_vm.js';
import {
  fixupUserFault, getUserPages, getUserPagesFast, getUserPagesRemote, getUserPagesUnlocked, pinUserPages,
  pinUserPagesFast, pinUserPagesRemote, pinUserPagesUnlocked, putUserPage, unpinUserPages,
} from '../../mm/gup.js';
import {
  seedGetUserPages, seedGetUserPagesForeign, seedGetUserPagesUnlocked, seedGetUserPagesUnlockedCurrent,
  seedGetUserPagesUnlockedTskMm,
} from '../../mm/gup_seed.js';
import type { Mm } from '../../mm/mm.js';
import { asyncPfExecute } from '../../virt/kvm.js';
import type { ProfileName } from '../../profiles/profile.js';
import { FOLL, PTRACE, SPLICE_F, enumName } from '../constants.js';
import { p, registerStep, type Args, type ParamDef, type RunCtx, type StepResult } from '../registry.js';
import { formatArg, hexAddr } from '../strace.js';
import { PROFILES } from '../../profiles/profile.js';

const api = (profile: ProfileName): 'seed-rev1' | 'seed-4.6' | 'modern' => PROFILES[profile].gup.api;
const isSeed = (profile: ProfileName): boolean => api(profile) !== 'modern';
const modernOnly = (name: string) => (profile: ProfileName): string | undefined =>
  isSeed(profile) ? `${name} is the modern API; the 2016 kernels have get_user_pages(start, nr_pages, write, force), get_user_pages_foreign/remote(tsk, mm, ...), __get_user_pages_unlocked(...)` : undefined;
const seedOnly = (name: string, modern: string) => (profile: ProfileName): string | undefined =>
  isSeed(profile) ? undefined : `${name} is the 2016 API; use ${modern}`;

/** An iovec argument padded with empty entries up to the count argument (C reads count entries). */
function iovs(a: Args, name: string, countName: string): Iovec[] {
  const v = a.iov(name);
  const n = a.num(countName);
  const out: Iovec[] = v.slice(0, Math.max(0, Math.min(n, v.length)));
  for (let i = out.length; i < n && i < 1100; i++) out.push({ base: 0, len: 0 });
  return out;
}

// --- syscalls -----------------------------------------------------------------------------

for (const write of [false, true]) {
  const name = write ? 'process_vm_writev' : 'process_vm_readv';
  registerStep({
    name, kind: 'syscall', result: 'int', kfn: 'process_vm_rw',
    params: [p('pid', 'pid'), p('local_iov', 'iovec'), p('liovcnt', 'ulong'), p('remote_iov', 'iovec'), p('riovcnt', 'ulong'), p('flags', 'ulong', 'dec', 0)],
    run: (ctx, a) => {
      const local = iovs(a, 'local_iov', 'liovcnt');
      const remote = iovs(a, 'remote_iov', 'riovcnt');
      const t = ctx.self();
      const flags = a.big('flags');
      if (flags > 0xffffffffn) return { ret: -EINVAL };
      return { ret: write ? t.process_vm_writev(a.num('pid'), local, remote, Number(flags)) : t.process_vm_readv(a.num('pid'), local, remote, Number(flags)) };
    },
    c: (c) => `{ struct iovec l_[] = ${c.args.local_iov}, r_[] = ${c.args.remote_iov}; ret = ${name}(${c.args.pid}, l_, ${c.args.liovcnt}, r_, ${c.args.riovcnt}, ${c.args.flags}); }`,
    doc: `${name}(B, {buf, n}, 1, {addr, n}, 1, 0): ${write ? 'write' : 'read'} another process's memory; the remote side is a remote GUP (no PKRU check), the local side a uaccess (the caller's PKRU)`,
  });
}

registerStep({
  name: 'vmsplice', kind: 'syscall', result: 'int', kfn: '__x64_sys_vmsplice',
  params: [p('fd', 'int'), p('iov', 'iovec'), p('nr_segs', 'ulong'), p('flags', 'uint', SPLICE_F, 0)],
  run: (ctx, a) => ({ ret: ctx.self().vmsplice(a.num('fd'), iovs(a, 'iov', 'nr_segs'), a.num('flags')) }),
  doc: 'vmsplice(fd, {addr, n}, 1, flags): user pages into a pipe, by GUP on the caller\'s own mm (PKRU checked)',
});

registerStep({
  name: 'ptrace', kind: 'syscall', result: 'int', kfn: '__x64_sys_ptrace',
  params: [p('request', 'int', PTRACE), p('pid', 'pid'), p('addr', 'addr', 'ptr', 0), p('data', 'ulong', 'hex', 0)],
  run: (ctx, a): StepResult => {
    const req = enumName(PTRACE, a.num('request'));
    const pid = a.num('pid');
    const t = ctx.self();
    const m = ctx.m;
    switch (req) {
      case 'PTRACE_ATTACH':
      case 'PTRACE_SEIZE':
        return { ret: m.runAs(t.task, () => sysPtraceAttach(m, pid)) };
      case 'PTRACE_DETACH':
        return { ret: m.runAs(t.task, () => sysPtraceDetach(m, pid)) };
      case 'PTRACE_PEEKDATA':
      case 'PTRACE_PEEKTEXT': {
        // glibc's ptrace() returns the word; errors are -1 with errno.
        const w = m.runAs(t.task, () => sysPtracePeek(m, pid, a.num('addr')));
        if (typeof w === 'number') return { ret: -1, cErrno: -w };
        return { ret: BigInt.asIntN(64, w), cErrno: 0, fields: { word: '0x' + BigInt.asUintN(64, w).toString(16) } };
      }
      case 'PTRACE_POKEDATA':
      case 'PTRACE_POKETEXT':
        return { ret: m.runAs(t.task, () => sysPtracePoke(m, pid, a.num('addr'), a.big('data'))) };
      default:
        return { notModelled: `ptrace(${req ?? a.num('request')})` };
    }
  },
  strace: (c) => {
    const req = formatArg(c.args.value('request'), PTRACE, 'int');
    const pid = c.args.big('pid');
    if (/PEEK/.test(req)) {
      const w = c.res.fields?.word;
      return `ptrace(${req}, ${pid}, ${hexAddr(c.args.big('addr'))}, ${w ? `[${String(w)}]` : hexAddr(c.args.big('data'))})${w ? ' = 0' : c.retText}`;
    }
    if (/POKE/.test(req)) return `ptrace(${req}, ${pid}, ${hexAddr(c.args.big('addr'))}, 0x${BigInt.asUintN(64, c.args.big('data')).toString(16)})${c.retText}`;
    return `ptrace(${req}, ${pid}${c.args.given('addr') ? `, ${hexAddr(c.args.big('addr'))}` : ''})${c.retText}`;
  },
  fields: ['word'],
  doc: 'ptrace(PTRACE_ATTACH|PTRACE_DETACH|PTRACE_PEEKDATA|PTRACE_POKEDATA, B, addr, data): PEEK returns the word, as glibc does',
});

// --- kernel context: the GUP API ----------------------------------------------------------

/** mmap_read_lock(mm) around a call, as the callers of the caller-holds-the-lock variants do. */
function locked<T>(m: Machine, mm: Mm | null, fn: () => T): T {
  if (!mm) return fn();
  const pid = m.current.pid;
  mm.lock.downRead(pid);
  try {
    return fn();
  } finally {
    if (mm.lock.heldBy(pid)) mm.lock.upRead(pid);
  }
}

/** Run fn as current; pinned pages are unpinned and got pages put before the step ends. */
function inKernel(ctx: RunCtx, fn: (pages: number[]) => number, release: 'unpin' | 'put' | 'none'): StepResult {
  const m = ctx.m;
  const pages: number[] = [];
  const ret = m.runAs(ctx.current, () => fn(pages));
  if (release === 'unpin') unpinUserPages(m, pages);
  else if (release === 'put') for (const pfn of pages) putUserPage(m, pfn);
  return { ret, info: { pages: pages.length } };
}

const local: ParamDef[] = [p('start', 'addr', 'ptr'), p('nr_pages', 'ulong'), p('gup_flags', 'uint', FOLL, 0)];
const remote: ParamDef[] = [p('mm', 'mm'), p('start', 'addr', 'ptr'), p('nr_pages', 'ulong'), p('gup_flags', 'uint', FOLL, 0)];
const seedLocal: ParamDef[] = [p('start', 'addr', 'ptr'), p('nr_pages', 'ulong'), p('write', 'int', 'dec', 0), p('force', 'int', 'dec', 0)];
const seedRemote: ParamDef[] = [p('tsk', 'task'), p('mm', 'mm'), p('start', 'addr', 'ptr'), p('nr_pages', 'ulong'), p('write', 'int', 'dec', 0), p('force', 'int', 'dec', 0)];
const mmOf = (a: Args, n = 'mm'): Mm => {
  const mm = a.task(n).task.mm;
  if (!mm) throw new Error('task has no mm');
  return mm;
};

registerStep({
  name: 'get_user_pages', kind: 'kernel', context: 'kernel', result: 'int', kfn: 'get_user_pages',
  params: local, paramsFor: (pr) => (isSeed(pr) ? seedLocal : local),
  run: (ctx, a) => inKernel(ctx, () => locked(ctx.m, ctx.current.mm, () => isSeed(ctx.m.profile.name)
    ? seedGetUserPages(ctx.m, a.num('start'), a.num('nr_pages'), a.num('write'), a.num('force'), null, null)
    : getUserPages(ctx.m, a.num('start'), a.num('nr_pages'), a.num('gup_flags'), null)), 'none'),
  doc: 'get_user_pages(start, nr_pages, gup_flags): current->mm, checked against current\'s PKRU (2016: start, nr_pages, write, force)',
});

registerStep({
  name: 'get_user_pages_unlocked', kind: 'kernel', context: 'kernel', result: 'int', kfn: 'get_user_pages_unlocked',
  params: local, paramsFor: (pr) => (isSeed(pr) ? seedLocal : local),
  run: (ctx, a) => inKernel(ctx, () => isSeed(ctx.m.profile.name)
    ? seedGetUserPagesUnlocked(ctx.m, a.num('start'), a.num('nr_pages'), a.num('write'), a.num('force'), null)
    : getUserPagesUnlocked(ctx.m, a.num('start'), a.num('nr_pages'), null, a.num('gup_flags')), 'none'),
  doc: 'get_user_pages_unlocked(start, nr_pages, gup_flags): current->mm; takes mmap_lock itself and may drop it to retry',
});

registerStep({
  name: 'get_user_pages_remote', kind: 'kernel', context: 'kernel', result: 'int', kfn: 'get_user_pages_remote',
  params: remote, paramsFor: (pr) => (isSeed(pr) ? seedRemote : remote),
  unavailable: (pr) => (api(pr) === 'seed-rev1' ? 'the revision under review calls it get_user_pages_foreign(tsk, mm, ...)' : undefined),
  run: (ctx, a) => {
    const mm = mmOf(a);
    return inKernel(ctx, () => locked(ctx.m, mm, () => isSeed(ctx.m.profile.name)
      ? seedGetUserPagesForeign(ctx.m, a.task('tsk').task, mm, a.num('start'), a.num('nr_pages'), a.num('write'), a.num('force'), null, null)
      : getUserPagesRemote(ctx.m, mm, a.num('start'), a.num('nr_pages'), a.num('gup_flags'), null, null)), 'none');
  },
  doc: 'get_user_pages_remote(mm=B, start, nr_pages, gup_flags): any mm, FOLL_REMOTE: no PKRU check (4.6: tsk, mm, start, nr_pages, write, force)',
});

registerStep({
  name: 'get_user_pages_foreign', kind: 'kernel', context: 'kernel', result: 'int', kfn: 'get_user_pages_foreign',
  params: seedRemote, unavailable: (pr) => (api(pr) === 'seed-rev1' ? undefined : 'get_user_pages_foreign() only existed in the Jan 2016 revisions (profile linux-4.6-rev1); it was merged as get_user_pages_remote()'),
  run: (ctx, a) => {
    const mm = mmOf(a);
    return inKernel(ctx, () => locked(ctx.m, mm, () => seedGetUserPagesForeign(ctx.m, a.task('tsk').task, mm, a.num('start'), a.num('nr_pages'), a.num('write'), a.num('force'), null, null)), 'none');
  },
  doc: 'the reviewed revision: get_user_pages_foreign(tsk, mm, start, nr_pages, write, force), not yet marked FOLL_REMOTE (REV-4)',
});

const unlockedTskMm: ParamDef[] = [p('tsk', 'task'), p('mm', 'mm'), p('start', 'addr', 'ptr'), p('nr_pages', 'ulong'), p('write', 'int', 'dec', 0), p('force', 'int', 'dec', 0), p('gup_flags', 'uint', FOLL, 0)];
const unlockedRev1: ParamDef[] = [p('start', 'addr', 'ptr'), p('nr_pages', 'ulong'), p('write', 'int', 'dec', 0), p('force', 'int', 'dec', 0), p('gup_flags', 'uint', FOLL, 0)];
registerStep({
  name: '__get_user_pages_unlocked', kind: 'kernel', context: 'kernel', result: 'int', kfn: '__get_user_pages_unlocked',
  params: unlockedTskMm, paramsFor: (pr) => (api(pr) === 'seed-rev1' ? unlockedRev1 : unlockedTskMm),
  unavailable: seedOnly('__get_user_pages_unlocked', 'get_user_pages_remote or get_user_pages_unlocked'),
  run: (ctx, a) => inKernel(ctx, () => api(ctx.m.profile.name) === 'seed-rev1'
    ? seedGetUserPagesUnlockedCurrent(ctx.m, a.num('start'), a.num('nr_pages'), a.num('write'), a.num('force'), null, a.num('gup_flags'))
    : seedGetUserPagesUnlockedTskMm(ctx.m, a.task('tsk').task, mmOf(a), a.num('start'), a.num('nr_pages'), a.num('write'), a.num('force'), null, a.num('gup_flags')), 'none'),
  doc: '2016: __get_user_pages_unlocked(tsk, mm, start, nr_pages, write, force, gup_flags); the reviewed revision had dropped tsk and mm (REV-1)',
});

registerStep({
  name: 'get_user_pages_fast', kind: 'kernel', context: 'kernel', result: 'int', kfn: 'get_user_pages_fast',
  params: local, unavailable: modernOnly('get_user_pages_fast'),
  run: (ctx, a) => inKernel(ctx, (pages) => getUserPagesFast(ctx.m, a.num('start'), a.num('nr_pages'), a.num('gup_flags'), pages), 'put'),
  doc: 'get_user_pages_fast(start, nr_pages, gup_flags): lockless walk of current->mm, PKRU via pte_access_permitted(); the pages are put again at once',
});

for (const [name, fn] of [['pin_user_pages', pinUserPages], ['pin_user_pages_unlocked', null], ['pin_user_pages_fast', pinUserPagesFast]] as const) {
  registerStep({
    name, kind: 'kernel', context: 'kernel', result: 'int', kfn: name,
    params: local, unavailable: modernOnly(name),
    run: (ctx, a) => inKernel(ctx, (pages) => {
      const [start, n, f] = [a.num('start'), a.num('nr_pages'), a.num('gup_flags')];
      if (fn === null) return pinUserPagesUnlocked(ctx.m, start, n, pages, f);
      if (fn === pinUserPages) return locked(ctx.m, ctx.current.mm, () => pinUserPages(ctx.m, start, n, f, pages));
      return pinUserPagesFast(ctx.m, start, n, f, pages);
    }, 'unpin'),
    doc: `${name}(start, nr_pages, gup_flags): FOLL_PIN on current->mm; the pins are released at the end of the step`,
  });
}

registerStep({
  name: 'pin_user_pages_remote', kind: 'kernel', context: 'kernel', result: 'int', kfn: 'pin_user_pages_remote',
  params: remote, unavailable: modernOnly('pin_user_pages_remote'),
  run: (ctx, a) => {
    const mm = mmOf(a);
    return inKernel(ctx, (pages) => locked(ctx.m, mm, () => pinUserPagesRemote(ctx.m, mm, a.num('start'), a.num('nr_pages'), a.num('gup_flags'), pages, null)), 'unpin');
  },
  doc: 'pin_user_pages_remote(mm=B, start, nr_pages, gup_flags): FOLL_PIN|FOLL_REMOTE (what process_vm_readv uses); pins released at the end of the step',
});

registerStep({
  name: 'fixup_user_fault', kind: 'kernel', context: 'kernel', result: 'int', kfn: 'fixup_user_fault',
  params: [p('mm', 'mm'), p('address', 'addr', 'ptr'), p('fault_flags', 'uint', 'hex', 0)], unavailable: modernOnly('fixup_user_fault'),
  run: (ctx, a) => {
    const mm = mmOf(a);
    return inKernel(ctx, () => locked(ctx.m, mm, () => fixupUserFault(ctx.m, mm, a.num('address'), a.num('fault_flags'))), 'none');
  },
  doc: 'fixup_user_fault(mm=B, address, fault_flags): resolve a fault as futex does',
});

registerStep({
  name: 'access_remote_vm', kind: 'kernel', context: 'kernel', result: 'int', kfn: 'access_remote_vm',
  params: [p('mm', 'mm'), p('addr', 'addr', 'ptr'), p('len', 'ulong'), p('gup_flags', 'uint', FOLL, 0)],
  run: (ctx, a) => {
    const len = a.num('len');
    if (len < 0 || len > 1 << 20) return { ret: -EIO };
    const buf = new Uint8Array(len);
    const mm = mmOf(a);
    const r = ctx.m.runAs(ctx.current, () => accessRemoteVm(ctx.m, mm, a.num('addr'), buf, a.num('gup_flags')));
    return { ret: r, data: buf.subarray(0, Math.max(0, r)) };
  },
  fields: ['data'],
  doc: 'access_remote_vm(mm=B, addr, len, gup_flags): what /proc/PID/mem and ptrace use; FOLL_WRITE writes zeros, else the bytes read are the data',
});

// --- kernel context: uprobes and KVM ------------------------------------------------------

registerStep({
  name: 'uprobe_write_opcode', kind: 'kernel', context: 'kernel', result: 'int', kfn: 'uprobe_write_opcode',
  params: [p('mm', 'mm'), p('vaddr', 'addr', 'ptr'), p('opcode', 'uint', 'hex', 0xcc)],
  run: (ctx, a) => {
    const mm = mmOf(a);
    return { ret: ctx.m.runAs(ctx.current, () => uprobeWriteOpcode(ctx.m, mm, a.num('vaddr'), a.num('opcode'))) };
  },
  doc: 'uprobe_write_opcode(mm=B, vaddr[, opcode=0xcc]): install a breakpoint (a private anon copy of the text page; remote, FOLL_FORCE)',
});

registerStep({
  name: 'handle_swbp', kind: 'kernel', context: 'kernel', result: 'int', kfn: 'handle_swbp', fields: ['result', 'is_trap'],
  params: [p('vaddr', 'addr', 'ptr')],
  run: (ctx, a) => {
    if (!ctx.thread) throw new Error('handle_swbp runs in the task that hit the breakpoint');
    const r = handleStraySwbp(ctx.m, ctx.thread.task, a.num('vaddr'));
    return { ret: r.isTrap < 0 ? r.isTrap : 0, fields: { result: r.result, is_trap: r.isTrap } };
  },
  doc: 'A: handle_swbp(vaddr): the int3 handler in task A for a breakpoint no uprobe owns; is_trap_at_addr() re-reads the instruction (REV-2)',
});

registerStep({
  name: 'async_pf_execute', kind: 'kernel', context: 'kernel', result: 'int', kfn: 'async_pf_execute',
  params: [p('mm', 'mm'), p('addr', 'addr', 'ptr')],
  run: (ctx, a) => ({ ret: asyncPfExecute(ctx.m, ctx.current, mmOf(a), a.num('addr')) }),
  doc: 'kworker: async_pf_execute(mm=B, addr): KVM\'s async page fault, a write fault-in of addr in the VM\'s mm (REV-3)',
});

// --- userfaultfd (a fault that can only be serviced by dropping mmap_lock: REV-1) ---------

registerStep({
  name: 'userfaultfd', kind: 'syscall', result: 'int', kfn: '__x64_sys_userfaultfd',
  params: [p('flags', 'int', 'dec', 0)],
  run: (ctx) => ({ ret: ctx.self().userfaultfd() }),
  doc: 'userfaultfd(): a userfaultfd context; its monitor (modelled) resolves missing pages',
});

registerStep({
  name: 'uffdio_register', kind: 'syscall', result: 'int', kfn: 'userfaultfd_register',
  params: [p('fd', 'int'), p('start', 'addr', 'ptr'), p('len', 'ulong'), p('fill', 'uint', 'hex', 0)],
  run: (ctx, a) => ({ ret: ctx.self().uffdRegister(a.num('fd'), a.num('start'), a.num('len'), a.num('fill')) }),
  strace: (c) => `ioctl(${c.args.big('fd')}, UFFDIO_REGISTER, {range={start=${hexAddr(c.args.big('start'))}, len=${c.args.big('len')}}, mode=UFFDIO_REGISTER_MODE_MISSING})${c.retText} /* the monitor fills missing pages with 0x${c.args.num('fill').toString(16)} */`,
  doc: 'uffdio_register(fd, start, len[, fill]): ioctl(UFFDIO_REGISTER, MODE_MISSING); the monitor thread answers each missing-page fault with a page of fill bytes',
});

// --- io_uring fixed buffers and mempolicy: local GUP users -----------------------------------

registerStep({
  name: 'io_uring_register_buffers', kind: 'syscall', result: 'int', kfn: 'io_sqe_buffers_register',
  params: [p('iov', 'iovec'), p('nr_iovecs', 'ulong', 'dec', 1)],
  run: (ctx, a) => ({ ret: ctx.self().ioUringRegisterBuffers(iovs(a, 'iov', 'nr_iovecs')) }),
  doc: 'io_uring_register_buffers({buf, n}, 1): pin the buffer long-term (FOLL_WRITE|FOLL_LONGTERM, PKRU checked now, never again); the pins are held until unregister or exit',
});

registerStep({
  name: 'io_uring_unregister_buffers', kind: 'syscall', result: 'int', kfn: 'io_sqe_buffers_unregister',
  params: [],
  run: (ctx) => ({ ret: ctx.self().ioUringUnregisterBuffers() }),
  doc: 'io_uring_unregister_buffers(): unpin the registered buffers',
});

for (const write of [false, true]) {
  const name = write ? 'io_uring_write_fixed' : 'io_uring_read_fixed';
  registerStep({
    name, kind: 'syscall', result: 'int', kfn: write ? 'io_write' : 'io_read',
    params: [p('fd', 'int'), p('buf', 'addr', 'ptr'), p('len', 'ulong'), p('offset', 'ulong', 'dec', 0), p('buf_index', 'uint', 'dec', 0)],
    run: (ctx, a) => ({ ret: ctx.self().ioUringFixed(a.num('buf_index'), a.num('buf'), a.num('fd'), a.num('offset'), a.num('len'), write) }),
    doc: `${name}(fd, buf, len[, offset, buf_index]): IORING_OP_${write ? 'WRITE' : 'READ'}_FIXED and its completion's res; the data moves through the pins, no PKRU`,
  });
}

registerStep({
  name: 'get_mempolicy_node', kind: 'syscall', result: 'int', kfn: 'do_get_mempolicy',
  params: [p('addr', 'addr', 'ptr')],
  run: (ctx, a) => ({ ret: ctx.self().getMempolicyNode(a.num('addr')) }),
  straceName: 'get_mempolicy',
  doc: 'get_mempolicy_node(addr): get_mempolicy(&node, NULL, 0, addr, MPOL_F_NODE|MPOL_F_ADDR); lookup_node() is a local GUP, so PKRU applies',
});
