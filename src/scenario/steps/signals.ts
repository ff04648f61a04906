// Signals, credentials and futex as steps (kernel/signal.c, kernel/sys.c, kernel/futex/).
// Signals delivered during any step appear in its outcome from the thread's signal log.
import { FUTEX_OP, SIGPROCMASK_HOW } from '../constants.js';
import { p, registerStep } from '../registry.js';
import { formatArg } from '../strace.js';

registerStep({
  name: 'raise', kind: 'syscall', result: 'int', kfn: 'do_tkill', straceName: 'tgkill',
  params: [p('sig', 'int', 'signal')],
  run: (ctx, a) => ({ ret: ctx.self().raise(a.num('sig')) }),
  strace: (c) => `tgkill(${c.thread?.tgid ?? 0}, ${c.thread?.pid ?? 0}, ${formatArg(c.args.value('sig'), 'signal', 'int')})${c.retText}`,
  doc: 'raise(sig): glibc\'s raise(), tgkill(getpid(), gettid(), sig); a handler runs at once',
});

registerStep({
  name: 'tgkill', kind: 'syscall', result: 'int', kfn: 'do_tkill',
  params: [p('tgid', 'pid'), p('tid', 'pid'), p('sig', 'int', 'signal')],
  run: (ctx, a) => ({ ret: ctx.self().tgkill(a.num('tgid'), a.num('tid'), a.num('sig')) }),
  doc: 'tgkill(A, T, sig): send sig to thread T of process A (task names or pids)',
});

registerStep({
  name: 'sigprocmask', kind: 'syscall', result: 'int', kfn: '__x64_sys_rt_sigprocmask', straceName: 'rt_sigprocmask',
  params: [p('how', 'int', SIGPROCMASK_HOW), p('sig', 'int', 'signal', 0)],
  run: (ctx, a) => {
    const sig = a.num('sig');
    return { ret: ctx.self().sigprocmask(a.num('how'), sig ? [sig] : null).ret };
  },
  strace: (c) => {
    const sig = c.args.num('sig');
    return `rt_sigprocmask(${formatArg(c.args.value('how'), SIGPROCMASK_HOW, 'int')}, ${sig ? `[${formatArg(c.args.value('sig'), 'signal', 'int').replace(/^SIG/, '')}]` : 'NULL'}, NULL, 8)${c.retText}`;
  },
  doc: 'sigprocmask(SIG_BLOCK|SIG_UNBLOCK|SIG_SETMASK, sig): one signal in the set (0: NULL set)',
});

registerStep({
  name: 'sigaltstack', kind: 'syscall', result: 'int', kfn: 'do_sigaltstack',
  params: [p('ss', 'addr', 'ptr'), p('old_ss', 'addr', 'ptr', 0)],
  run: (ctx, a) => ({ ret: ctx.self().sigaltstack(a.num('ss'), a.num('old_ss')) }),
  doc: 'sigaltstack(ss, old_ss): pointers to stack_t {ss_sp (8 bytes), ss_flags (4 + 4 padding), ss_size (8)} in memory, as in C',
});

registerStep({
  name: 'setuid', kind: 'syscall', result: 'int', kfn: '__sys_setuid',
  params: [p('uid', 'uint')],
  run: (ctx, a) => ({ ret: ctx.self().setuid(a.num('uid')) }),
  doc: 'setuid(uid): drop privileges (uid 0 is root)',
});

registerStep({
  name: 'futex', kind: 'syscall', result: 'int', kfn: 'do_futex',
  params: [p('uaddr', 'addr', 'ptr'), p('futex_op', 'int', FUTEX_OP), p('val', 'uint')],
  run: (ctx, a) => ({ ret: ctx.self().futexWait(a.num('uaddr'), a.num('futex_op'), a.num('val')) }),
  strace: (c) => `futex(${formatArg(c.args.value('uaddr'), 'ptr', 'addr')}, ${formatArg(c.args.value('futex_op'), FUTEX_OP, 'int')}, ${c.args.big('val')}, NULL)${c.retText}`,
  doc: 'futex(uaddr, FUTEX_WAIT[|FUTEX_PRIVATE_FLAG], val): -1 EAGAIN when *uaddr != val (the model does not sleep)',
});
