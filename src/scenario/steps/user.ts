// User-mode steps: loads, stores and instruction fetches done by the CPU for the thread, the
// WRPKRU/RDPKRU instructions and glibc's pkey_set()/pkey_get() helpers. None is a system call.
import { rdpkru, wrpkru } from '../../kernel/pku.js';
import { forceSigFault } from '../../kernel/signal.js';
import { PKEY_RIGHTS } from '../constants.js';
import { p, registerStep, type PrintCtx, type RunCtx, type StepResult } from '../registry.js';
import { formatArg, quoteBytes } from '../strace.js';

const USER_LIMIT = 2n ** 47n;
const KERNEL_HALF = 0xffff800000000000n;
const SIGSEGV = 11, SEGV_MAPERR = 1, SI_KERNEL = 0x80;

/**
 * Accesses the model's page walk cannot express: a non-canonical address raises #GP, which Linux
 * turns into SIGSEGV with si_code SI_KERNEL and no address (arch/x86/kernel/traps.c); an address in
 * the kernel half faults as SEGV_MAPERR (arch/x86/mm/fault.c: bad_area_nosemaphore()).
 */
function outOfUserRange(ctx: RunCtx, addr: bigint, len: bigint): StepResult | null {
  const end = addr + (len > 0n ? len - 1n : 0n);
  if (addr < USER_LIMIT && end < USER_LIMIT) return null;
  const t = ctx.self().task;
  const at = addr < USER_LIMIT ? USER_LIMIT : addr;
  const info = at >= KERNEL_HALF ? { signo: SIGSEGV, code: SEGV_MAPERR, addr: Number(at) } : { signo: SIGSEGV, code: SI_KERNEL, addr: 0 };
  const d = ctx.m.runAs(t, () => forceSigFault(ctx.m, t, info));
  return { signals: [d], killed: d.killed };
}

/** What the user-mode line shows after '=': data, a count, or '?' when the access did not finish. */
function userRet(c: PrintCtx, want: number, shown: string): string {
  const acc = c.res.access;
  if (c.res.killed || acc?.killed) return ' = ?';
  if (acc && acc.done < want) return ` = ? /* stopped after ${acc.done} bytes */`;
  if (c.res.signals && !acc) return ' = ?';
  return shown;
}

registerStep({
  name: 'load', kind: 'user', result: 'bytes',
  params: [p('addr', 'addr', 'ptr'), p('len', 'ulong', 'dec', 1)],
  run: (ctx, a) => {
    const bad = outOfUserRange(ctx, a.big('addr'), a.big('len'));
    if (bad) return bad;
    const r = ctx.self().load(a.num('addr'), a.num('len'));
    const data = r.data ? r.data.subarray(0, r.done) : new Uint8Array(0);
    return { access: r, data, value: { t: 'bytes', v: data } };
  },
  strace: (c) => `load(${formatArg(c.args.value('addr'), 'ptr', 'addr')}, ${c.args.big('len')})` +
    userRet(c, c.args.num('len'), ` = ${quoteBytes(c.res.data ?? new Uint8Array(0))}`),
  c: (c) => `ret = user_load(${c.args.addr}, ${c.args.len});`,
  doc: 'load(addr[, len]): a user-mode read of len bytes (the MMU checks the thread\'s PKRU)',
});

registerStep({
  name: 'store', kind: 'user', result: 'int',
  params: [p('addr', 'addr', 'ptr'), p('data', 'data'), p('len', 'ulong', 'dec', -1)],
  run: (ctx, a) => {
    const data = a.bytes('data');
    const len = a.given('len') ? a.num('len') : data.length;
    const bad = outOfUserRange(ctx, a.big('addr'), BigInt(len));
    if (bad) return bad;
    const r = ctx.self().store(a.num('addr'), data, len);
    return { access: r, ret: r.done };
  },
  strace: (c) => {
    const data = c.args.bytes('data');
    const len = c.args.given('len') ? c.args.big('len') : BigInt(data.length);
    return `store(${formatArg(c.args.value('addr'), 'ptr', 'addr')}, ${quoteBytes(data)}, ${len})` + userRet(c, Number(len), ` = ${c.res.access?.done ?? 0}`);
  },
  c: (c) => `ret = user_store(${c.args.addr}, ${c.args.data}, ${c.args.len});`,
  doc: 'store(addr, data[, len]): a user-mode write; data is a string, {bytes} or a byte value, repeated to len',
});

registerStep({
  name: 'exec', kind: 'user', result: 'none',
  params: [p('addr', 'addr', 'ptr')],
  run: (ctx, a) => {
    const bad = outOfUserRange(ctx, a.big('addr'), 1n);
    if (bad) return bad;
    return { access: ctx.self().exec(a.num('addr')) };
  },
  strace: (c) => `exec(${formatArg(c.args.value('addr'), 'ptr', 'addr')})` + userRet(c, 1, ''),
  c: (c) => `user_exec(${c.args.addr});`,
  doc: 'exec(addr): an instruction fetch at addr (a call into it); protection keys never apply to fetches',
});

// WRPKRU/RDPKRU are the model's instructions (kernel/pku.ts): without CR4.PKE they raise #UD,
// which the kernel turns into SIGILL; the signal shows in the step's outcome.
registerStep({
  name: 'wrpkru', kind: 'user', result: 'none',
  params: [p('pkru', 'uint', 'hex')],
  run: (ctx, a) => {
    const t = ctx.self();
    const before = t.task.pkru;
    const r = ctx.m.runAs(t.task, () => wrpkru(ctx.m, t.task, a.num('pkru')));
    return { signals: r.signals, killed: r.killed, info: { pkru_before: `0x${before.toString(16).padStart(8, '0')}` } };
  },
  strace: (c) => `wrpkru(0x${(c.args.num('pkru') >>> 0).toString(16).padStart(8, '0')})` +
    (c.res.signals?.length ? ' = ?' : ` /* PKRU ${String(c.res.info?.pkru_before)} -> 0x${(c.args.num('pkru') >>> 0).toString(16).padStart(8, '0')}, this thread only */`),
  c: (c) => `wrpkru(${c.args.pkru});`,
  doc: 'wrpkru(value): write this thread\'s PKRU (user mode, no syscall)',
});

registerStep({
  name: 'rdpkru', kind: 'user', result: 'hex',
  params: [],
  run: (ctx) => {
    const t = ctx.self();
    const r = ctx.m.runAs(t.task, () => rdpkru(ctx.m, t.task));
    return r.value === null ? { signals: r.signals, killed: r.killed } : { ret: r.value };
  },
  strace: (c) => `rdpkru()${c.res.signals?.length ? ' = ?' : c.retText}`,
  c: () => 'ret = rdpkru();',
  doc: 'rdpkru(): this thread\'s PKRU',
});

// glibc's helpers (sysdeps/unix/sysv/linux/x86/pkey_set.c, pkey_get.c): -1 with errno EINVAL for
// bad arguments, as the model's Thread.pkeySet()/pkeyGet() return -EINVAL.
registerStep({
  name: 'pkey_set', kind: 'user', result: 'int',
  params: [p('pkey', 'int'), p('rights', 'uint', PKEY_RIGHTS)],
  run: (ctx, a) => ({ ret: ctx.self().pkeySet(a.num('pkey'), a.num('rights')) }),
  strace: (c) => `pkey_set(${c.args.big('pkey')}, ${formatArg(c.args.value('rights'), PKEY_RIGHTS, 'uint')})${c.retText}`,
  c: (c) => `ret = pkey_set(${c.args.pkey}, ${c.args.rights});`,
  doc: 'pkey_set(pkey, rights): glibc helper, sets the key\'s two PKRU bits of this thread',
});

registerStep({
  name: 'pkey_get', kind: 'user', result: 'int',
  params: [p('pkey', 'int')],
  run: (ctx, a) => ({ ret: ctx.self().pkeyGet(a.num('pkey')) }),
  strace: (c) => `pkey_get(${c.args.big('pkey')})${c.retText}`,
  c: (c) => `ret = pkey_get(${c.args.pkey});`,
  doc: 'pkey_get(pkey): glibc helper, the key\'s two PKRU bits of this thread',
});
