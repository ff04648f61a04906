// System calls the model implements, as scenario steps (names and arguments as in C).
import { MADV, MAP, MREMAP, OPEN, PKEY_RIGHTS, PROT, RUSAGE, SEEK, formatFlags } from '../constants.js';
import { p, registerStep, type PrintCtx, type StepResult } from '../registry.js';
import { formatArg, quoteBytes } from '../strace.js';
import { bufArg } from './common.js';
import type { SigAction } from '../../kernel/task.js';

const MREMAP_FIXED = 2;
const O_CREAT = 0o100;
const O_TMPFILE = 0o20200000;

// --- memory -------------------------------------------------------------------------------

registerStep({
  name: 'mmap', kind: 'syscall', result: 'addr', kfn: 'ksys_mmap_pgoff',
  params: [p('addr', 'addr', 'ptr'), p('length', 'ulong'), p('prot', 'int', PROT), p('flags', 'int', MAP),
    p('fd', 'int', 'dec', -1), p('offset', 'long', 'hex', 0)],
  run: (ctx, a) => ({
    ret: ctx.self().mmap(a.num('addr'), a.num('length'), a.num('prot'), a.num('flags'), a.num('fd'), a.num('offset')),
    regionLen: a.num('length'),
  }),
  c: (c) => `ret = (long)mmap((void *)${c.args.addr}, ${c.args.length}, ${c.args.prot}, ${c.args.flags}, ${c.args.fd}, ${c.args.offset});`,
  doc: 'map memory: mmap(addr, length, prot, flags[, fd, offset])',
});

registerStep({
  name: 'munmap', kind: 'syscall', result: 'int', kfn: '__x64_sys_munmap',
  params: [p('addr', 'addr', 'ptr'), p('length', 'ulong')],
  run: (ctx, a) => ({ ret: ctx.self().munmap(a.num('addr'), a.num('length')) }),
  c: (c) => `ret = munmap((void *)${c.args.addr}, ${c.args.length});`,
  doc: 'unmap memory',
});

registerStep({
  name: 'mprotect', kind: 'syscall', result: 'int', kfn: '__x64_sys_mprotect',
  params: [p('addr', 'addr', 'ptr'), p('length', 'ulong'), p('prot', 'int', PROT)],
  run: (ctx, a) => ({ ret: ctx.self().mprotect(a.num('addr'), a.num('length'), a.num('prot')) }),
  c: (c) => `ret = mprotect((void *)${c.args.addr}, ${c.args.length}, ${c.args.prot});`,
  doc: 'change protection (PROT_EXEC alone may give execute-only memory with a protection key)',
});

registerStep({
  name: 'pkey_mprotect', kind: 'syscall', result: 'int', kfn: '__x64_sys_pkey_mprotect',
  params: [p('addr', 'addr', 'ptr'), p('length', 'ulong'), p('prot', 'int', PROT), p('pkey', 'int')],
  run: (ctx, a) => ({ ret: ctx.self().pkeyMprotect(a.num('addr'), a.num('length'), a.num('prot'), a.num('pkey')) }),
  c: (c) => `ret = syscall(SYS_pkey_mprotect, ${c.args.addr}, ${c.args.length}, ${c.args.prot}, ${c.args.pkey});`,
  doc: 'change protection and attach a protection key',
});

registerStep({
  name: 'pkey_alloc', kind: 'syscall', result: 'int', kfn: '__x64_sys_pkey_alloc',
  params: [p('flags', 'uint', 'dec'), p('access_rights', 'uint', PKEY_RIGHTS)],
  run: (ctx, a) => ({ ret: ctx.self().pkeyAlloc(a.num('flags'), a.num('access_rights')) }),
  c: (c) => `ret = syscall(SYS_pkey_alloc, ${c.args.flags}, ${c.args.access_rights});`,
  doc: "allocate a protection key; sets the caller's PKRU bits for it",
});

registerStep({
  name: 'pkey_free', kind: 'syscall', result: 'int', kfn: '__x64_sys_pkey_free',
  params: [p('pkey', 'int')],
  run: (ctx, a) => ({ ret: ctx.self().pkeyFree(a.num('pkey')) }),
  c: (c) => `ret = syscall(SYS_pkey_free, ${c.args.pkey});`,
  doc: 'free a protection key (VMAs keep it; PKRU is untouched)',
});

registerStep({
  name: 'madvise', kind: 'syscall', result: 'int', kfn: '__x64_sys_madvise',
  params: [p('addr', 'addr', 'ptr'), p('length', 'ulong'), p('advice', 'int', MADV)],
  run: (ctx, a) => ({ ret: ctx.self().madvise(a.num('addr'), a.num('length'), a.num('advice')) }),
  c: (c) => `ret = madvise((void *)${c.args.addr}, ${c.args.length}, ${c.args.advice});`,
  doc: 'give advice (MADV_DONTNEED, MADV_POPULATE_READ/WRITE, MADV_HWPOISON, ...)',
});

registerStep({
  name: 'mremap', kind: 'syscall', result: 'addr', kfn: '__x64_sys_mremap',
  params: [p('old_address', 'addr', 'ptr'), p('old_size', 'ulong'), p('new_size', 'ulong'), p('flags', 'int', MREMAP, 0),
    p('new_address', 'addr', 'ptr', 0)],
  run: (ctx, a) => ({
    ret: ctx.self().mremap(a.num('old_address'), a.num('old_size'), a.num('new_size'), a.num('flags'), a.num('new_address')),
    regionLen: a.num('new_size'),
  }),
  strace: (c) => {
    const f = c.args.num('flags');
    const base = `mremap(${formatArg(c.args.value('old_address'), 'ptr', 'addr')}, ${c.args.big('old_size')}, ${c.args.big('new_size')}, ${formatFlags(MREMAP, f)}`;
    return base + (f & MREMAP_FIXED ? `, ${formatArg(c.args.value('new_address'), 'ptr', 'addr')}` : '') + ')' + c.retText;
  },
  c: (c) => `ret = (long)mremap((void *)${c.args.old_address}, ${c.args.old_size}, ${c.args.new_size}, ${c.args.flags}, (void *)${c.args.new_address});`,
  doc: 'resize or move a mapping',
});

// --- files --------------------------------------------------------------------------------

registerStep({
  name: 'open', kind: 'syscall', result: 'int', kfn: 'do_sys_openat2', straceName: 'openat',
  params: [p('pathname', 'str'), p('flags', 'int', OPEN), p('mode', 'uint', 'oct', 0o644)],
  run: (ctx, a) => ({ ret: ctx.self().open(a.str('pathname'), a.num('flags'), a.num('mode')) }),
  strace: (c) => {
    const f = c.args.num('flags');
    const mode = f & (O_CREAT | O_TMPFILE) ? `, 0${c.args.num('mode').toString(8)}` : '';
    return `openat(AT_FDCWD, ${quoteBytes(c.args.bytes('pathname'), 4096)}, ${formatFlags(OPEN, f)}${mode})${c.retText}`;
  },
  c: (c) => `ret = open(${c.args.pathname}, ${c.args.flags}, ${c.args.mode});`,
  doc: 'open a file (regular files, /proc/PID/maps|smaps|stat|mem)',
});

registerStep({
  name: 'close', kind: 'syscall', result: 'int', kfn: '__x64_sys_close',
  params: [p('fd', 'int')],
  run: (ctx, a) => ({ ret: ctx.self().close(a.num('fd')) }),
  c: (c) => `ret = close(${c.args.fd});`,
  doc: 'close a file descriptor',
});

function readLike(name: string, pos: boolean): void {
  registerStep({
    name, kind: 'syscall', result: 'int', kfn: pos ? '__x64_sys_pread64' : 'ksys_read', straceName: pos ? 'pread64' : 'read',
    params: [p('fd', 'int'), p('buf', 'addr', 'ptr'), p('count', 'ulong'), ...(pos ? [p('offset', 'long')] : [])],
    run: (ctx, a) => ({
      ret: pos ? ctx.self().pread(a.num('fd'), a.num('buf'), a.num('count'), a.num('offset'))
        : ctx.self().read(a.num('fd'), a.num('buf'), a.num('count')),
    }),
    // strace shows what was read (ret bytes) on success, the address otherwise.
    strace: (c: PrintCtx) => {
      const buf = c.ok && c.ret !== undefined ? bufArg(c, 'buf', Number(c.ret)) : formatArg(c.args.value('buf'), 'ptr', 'addr');
      return `${pos ? 'pread64' : 'read'}(${c.args.big('fd')}, ${buf}, ${c.args.big('count')}${pos ? `, ${c.args.big('offset')}` : ''})${c.retText}`;
    },
    c: (c) => pos ? `ret = pread(${c.args.fd}, (void *)${c.args.buf}, ${c.args.count}, ${c.args.offset});`
      : `ret = read(${c.args.fd}, (void *)${c.args.buf}, ${c.args.count});`,
    doc: pos ? 'read at an offset (pread64)' : 'read from a file or pipe into a user buffer (copy_to_user: the caller\'s PKRU applies)',
  }, pos ? { aliases: ['pread64'] } : {});
}
readLike('read', false);
readLike('pread', true);

function writeLike(name: string, pos: boolean): void {
  registerStep({
    name, kind: 'syscall', result: 'int', kfn: pos ? '__x64_sys_pwrite64' : 'ksys_write', straceName: pos ? 'pwrite64' : 'write',
    params: [p('fd', 'int'), p('buf', 'addr', 'ptr'), p('count', 'ulong'), ...(pos ? [p('offset', 'long')] : [])],
    run: (ctx, a) => ({
      ret: pos ? ctx.self().pwrite(a.num('fd'), a.num('buf'), a.num('count'), a.num('offset'))
        : ctx.self().write(a.num('fd'), a.num('buf'), a.num('count')),
    }),
    strace: (c: PrintCtx) => {
      const n = Number(c.args.big('count'));
      return `${pos ? 'pwrite64' : 'write'}(${c.args.big('fd')}, ${bufArg(c, 'buf', n)}, ${c.args.big('count')}${pos ? `, ${c.args.big('offset')}` : ''})${c.retText}`;
    },
    c: (c) => pos ? `ret = pwrite(${c.args.fd}, (void *)${c.args.buf}, ${c.args.count}, ${c.args.offset});`
      : `ret = write(${c.args.fd}, (void *)${c.args.buf}, ${c.args.count});`,
    doc: pos ? 'write at an offset (pwrite64)' : 'write a user buffer to a file or pipe (copy_from_user: the caller\'s PKRU applies)',
  }, pos ? { aliases: ['pwrite64'] } : {});
}
writeLike('write', false);
writeLike('pwrite', true);

registerStep({
  name: 'lseek', kind: 'syscall', result: 'int', kfn: 'ksys_lseek',
  params: [p('fd', 'int'), p('offset', 'long'), p('whence', 'int', SEEK)],
  run: (ctx, a) => ({ ret: ctx.self().lseek(a.num('fd'), a.num('offset'), a.num('whence')) }),
  c: (c) => `ret = lseek(${c.args.fd}, ${c.args.offset}, ${c.args.whence});`,
  doc: 'move a file offset',
});

registerStep({
  name: 'ftruncate', kind: 'syscall', result: 'int', kfn: 'do_sys_ftruncate',
  params: [p('fd', 'int'), p('length', 'long')],
  run: (ctx, a) => ({ ret: ctx.self().ftruncate(a.num('fd'), a.num('length')) }),
  c: (c) => `ret = ftruncate(${c.args.fd}, ${c.args.length});`,
  doc: 'set a file size (mappings beyond the end lose their pages)',
});

registerStep({
  name: 'unlink', kind: 'syscall', result: 'int', kfn: 'do_unlinkat',
  params: [p('pathname', 'str')],
  run: (ctx, a) => ({ ret: ctx.self().unlink(a.str('pathname')) }),
  c: (c) => `ret = unlink(${c.args.pathname});`,
  doc: 'remove a name',
});

registerStep({
  name: 'pipe', kind: 'syscall', result: 'fds', kfn: 'do_pipe2', fields: ['fds'],
  params: [],
  run: (ctx): StepResult => {
    const r = ctx.self().pipe();
    if (typeof r === 'number') return { ret: r };
    return { ret: 0, value: { t: 'fds', v: [BigInt(r[0]), BigInt(r[1])] }, fields: { fds: `${r[0]},${r[1]}` } };
  },
  strace: (c) => {
    const fds = c.res.value?.t === 'fds' ? `[${c.res.value.v[0]}, ${c.res.value.v[1]}]` : '0x7ffc00000000';
    return `pipe(${fds})${c.retText}`;
  },
  c: (c) => `{ int fds_[2]; ret = pipe(fds_); ${c.bind ? `${c.bind}[0] = fds_[0]; ${c.bind}[1] = fds_[1];` : ''} }`,
  doc: 'fds = pipe(): fds[0] reads, fds[1] writes',
});

// --- tasks --------------------------------------------------------------------------------

registerStep({
  name: 'fork', kind: 'syscall', result: 'task', createsTask: true, kfn: 'kernel_clone',
  params: [],
  run: (ctx): StepResult => {
    const c = ctx.self().fork();
    if (typeof c === 'number') return { ret: c };
    ctx.addTask(ctx.bind!, c);
    return { ret: c.pid, retTask: ctx.bind! };
  },
  c: (c) => `ret = fork(); /* child: ${c.bind} */`,
  doc: 'B = fork(): a new process B, copy-on-write copy of the caller (PKRU inherited)',
});

registerStep({
  name: 'clone', kind: 'syscall', result: 'task', createsTask: true, kfn: 'kernel_clone',
  params: [],
  run: (ctx): StepResult => {
    const c = ctx.self().clone();
    if (typeof c === 'number') return { ret: c };
    ctx.addTask(ctx.bind!, c);
    return { ret: c.pid, retTask: ctx.bind! };
  },
  strace: (c) => `clone(flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM)${c.retText}`,
  doc: 'T = clone(): a new thread T of the caller\'s process (same mm, own PKRU, a copy of the caller\'s)',
});

registerStep({
  name: 'execve', kind: 'syscall', result: 'int', kfn: 'do_execveat_common',
  params: [p('pathname', 'str')],
  run: (ctx, a) => ({ ret: ctx.self().execve(a.str('pathname')) }),
  strace: (c) => {
    const path = quoteBytes(c.args.bytes('pathname'), 4096);
    return `execve(${path}, [${path}], 0x7ffc00000000 /* 1 var */)${c.retText}`;
  },
  doc: 'replace the program (the default program or a file made with write_file); PKRU resets',
});

registerStep({
  name: 'exit', kind: 'syscall', result: 'none', kfn: 'do_group_exit', straceName: 'exit_group',
  params: [p('status', 'int', 'dec', 0)],
  run: (ctx, a) => {
    ctx.self().exit(a.num('status'));
    return { exited: a.num('status') & 0xff };
  },
  strace: (c) => `exit_group(${c.args.big('status')}) = ?`,
  c: (c) => `fflush(stdout); _exit(${c.args.status});`,
  doc: 'exit the whole process (exit_group); the parent reaps it',
});

registerStep({
  name: 'exit_thread', kind: 'syscall', result: 'none', kfn: 'do_exit', straceName: 'exit',
  params: [p('status', 'int', 'dec', 0)],
  run: (ctx, a) => {
    ctx.self().exitThread(a.num('status'));
    return { exited: a.num('status') & 0xff };
  },
  strace: (c) => `exit(${c.args.big('status')}) = ?`,
  doc: 'exit this thread only (the exit syscall)',
});

registerStep({
  name: 'getpid', kind: 'syscall', result: 'task', kfn: '__x64_sys_getpid',
  params: [],
  run: (ctx) => {
    const t = ctx.self();
    return { ret: t.tgid, retTask: ctx.nameOfPid(t.tgid) };
  },
  c: () => 'ret = getpid();',
  doc: 'the process id (printed as the name of the task that leads the process)',
});

registerStep({
  name: 'gettid', kind: 'syscall', result: 'task', kfn: '__x64_sys_gettid',
  params: [],
  run: (ctx) => {
    const t = ctx.self();
    return { ret: t.pid, retTask: ctx.taskName };
  },
  c: () => 'ret = gettid();',
  doc: 'the thread id (printed as the task name)',
});

const SA_SIGINFO = 4;
registerStep({
  name: 'sigaction', kind: 'syscall', result: 'int', kfn: '__x64_sys_rt_sigaction', straceName: 'rt_sigaction',
  params: [p('signum', 'int', 'signal'), p('handler', 'handler'), p('frame_pkru', 'long', 'hex', -1), p('flags', 'uint', 'hex', SA_SIGINFO)],
  run: (ctx, a) => {
    const sig = a.num('signum');
    if (sig < 1 || sig > 64 || sig === 9 || sig === 19) return { ret: -22 };
    const h = a.handler('handler');
    if (h === 'SIG_DFL' || h === 'SIG_IGN') {
      // A synchronous fault on an ignored signal is forced back to the default action anyway.
      ctx.self().sigaction(sig, null);
      return { ret: 0 };
    }
    const act: SigAction = { onReturn: h, flags: a.num('flags') };
    if (a.given('frame_pkru')) act.setFramePkru = a.num('frame_pkru') >>> 0;
    ctx.self().sigaction(sig, act);
    return { ret: 0 };
  },
  strace: (c) => {
    const h = c.args.handler('handler');
    const act = h === 'SIG_DFL' || h === 'SIG_IGN' ? `{sa_handler=${h}, sa_mask=[], sa_flags=0}`
      : `{sa_handler=<${h}${c.args.given('frame_pkru') ? `, frame PKRU := 0x${c.args.num('frame_pkru').toString(16)}` : ''}>, sa_mask=[], sa_flags=SA_RESTORER|${formatArg(c.args.value('flags'), undefined, 'uint') === '4' ? 'SA_SIGINFO' : '0x' + c.args.num('flags').toString(16)}, sa_restorer=0x7ffff7dd0000}`;
    return `rt_sigaction(${formatArg(c.args.value('signum'), 'signal', 'int')}, ${act}, NULL, 8)${c.retText}`;
  },
  doc: 'sigaction(SIGSEGV, skip | retry | SIG_DFL [, frame_pkru=V]): a handler that records the signal, then skips the access or returns (retry), optionally writing V into the saved PKRU first',
});

registerStep({
  name: 'getrusage', kind: 'syscall', result: 'int', kfn: '__x64_sys_getrusage', fields: ['ru_minflt', 'ru_majflt'],
  params: [p('who', 'int', RUSAGE, 0)],
  run: (ctx, a) => {
    const who = a.num('who');
    if (who !== 0 && who !== 1) return { ret: -22 };
    const r = ctx.self().getrusage(who === 1);
    return { ret: 0, info: { ru_minflt: r.ru_minflt, ru_majflt: r.ru_majflt } };
  },
  strace: (c) => {
    const i = c.res.info ?? {};
    const body = i.ru_minflt === undefined ? '0x7ffc00000000' : `{ru_minflt=${String(i.ru_minflt)}, ru_majflt=${String(i.ru_majflt)}, ...}`;
    return `getrusage(${formatArg(c.args.value('who'), RUSAGE, 'int')}, ${body})${c.retText}`;
  },
  doc: 'getrusage([RUSAGE_SELF|RUSAGE_THREAD]): ru_minflt and ru_majflt (expect ru_minflt == N)',
});
