// The alternate signal stack (kernel/signal.c: do_sigaltstack(), sys_sigaltstack(),
// restore_altstack(), __save_altstack(); include/linux/sched/signal.h: on_sig_stack(),
// sas_ss_flags(), sas_ss_reset()). The per-thread state is task.altStack {sp, size, flags}.
import { EFAULT, EINVAL, ENOMEM, EPERM } from './errno.js';
import type { Machine } from './machine.js';
import type { Task } from './task.js';
import { copyFromUser, copyToUser } from './uaccess.js';

/** include/uapi/linux/signal.h */
export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;
export const SS_AUTODISARM = 1 << 31;
export const SS_FLAG_BITS = SS_AUTODISARM;
/** arch/x86/include/uapi/asm/signal.h */
export const MINSIGSTKSZ = 2048;
export const SIGSTKSZ = 8192;
/** sizeof(stack_t) on x86-64: ss_sp (8), ss_flags (4) + padding (4), ss_size (8). */
export const STACK_T_SIZE = 24;

export interface StackT {
  sp: number;
  flags: number;
  size: number;
}

/** __on_sig_stack(): the stack grows down, so sp == ss_sp is below the stack, sp == ss_sp + size on it. */
export function onSigStackRaw(t: Task, sp: number): boolean {
  return sp > t.altStack.sp && sp - t.altStack.sp <= t.altStack.size;
}

/** on_sig_stack(): never "on" an SS_AUTODISARM stack (the kernel disarmed it when it switched to it). */
export function onSigStack(t: Task, sp: number): boolean {
  if ((t.altStack.flags >>> 0) & (SS_AUTODISARM >>> 0)) return false;
  return onSigStackRaw(t, sp);
}

/** sas_ss_flags(sp) */
export function sasSsFlags(t: Task, sp: number): number {
  if (!t.altStack.size) return SS_DISABLE;
  return onSigStack(t, sp) ? SS_ONSTACK : 0;
}

/** sas_ss_reset() */
export function sasSsReset(t: Task): void {
  t.altStack = { sp: 0, size: 0, flags: SS_DISABLE };
}

export function encodeStackT(ss: StackT): Uint8Array {
  const b = new Uint8Array(STACK_T_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(ss.sp), true);
  v.setUint32(8, ss.flags >>> 0, true);
  v.setBigUint64(16, BigInt(ss.size), true);
  return b;
}

export function decodeStackT(b: Uint8Array): StackT {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { sp: Number(v.getBigUint64(0, true)), flags: v.getInt32(8, true), size: Number(v.getBigUint64(16, true)) };
}

/**
 * do_sigaltstack(ss, oss, sp, MINSIGSTKSZ): the old settings (ss_flags = sas_ss_flags(sp) plus the
 * SS_FLAG_BITS in force), then EPERM while running on the altstack, EINVAL for an unknown mode,
 * ENOMEM for a size below MINSIGSTKSZ. SS_DISABLE clears sp and size. sigaltstack_size_valid()
 * is true unless CONFIG_STRICT_SIGALTSTACK_SIZE or dynamic (AMX) xfeatures are permitted, neither
 * of which the model has.
 */
export function doSigaltstack(m: Machine, t: Task, ss: StackT | null, sp: number): { ret: number; old: StackT } {
  const old: StackT = {
    sp: t.altStack.sp,
    size: t.altStack.size,
    flags: (sasSsFlags(t, sp) | (t.altStack.flags & SS_FLAG_BITS)) | 0,
  };
  if (!ss) return { ret: 0, old };
  if (onSigStack(t, sp)) return { ret: -EPERM, old };
  const flagBits = m.profile.pkeys.ssAutodisarm ? SS_FLAG_BITS : 0;
  const mode = ss.flags & ~flagBits;
  if (mode !== SS_DISABLE && mode !== SS_ONSTACK && mode !== 0) return { ret: -EINVAL, old };
  if (t.altStack.sp === ss.sp && t.altStack.size === ss.size && t.altStack.flags === ss.flags) return { ret: 0, old };
  let { sp: ssSp, size: ssSize } = ss;
  if (mode === SS_DISABLE) {
    ssSize = 0;
    ssSp = 0;
  } else if (ssSize < MINSIGSTKSZ) {
    return { ret: -ENOMEM, old };
  }
  t.altStack = { sp: ssSp, size: ssSize, flags: ss.flags };
  return { ret: 0, old };
}

/**
 * sigaltstack(2): copy_from_user() of the new stack_t (EFAULT, PKRU-checked like any uaccess),
 * do_sigaltstack() with the caller's user stack pointer, copy_to_user() of the old one.
 */
export function sysSigaltstack(m: Machine, t: Task, uss: number, uoss: number, sp: number): number {
  let ss: StackT | null = null;
  if (uss) {
    const b = new Uint8Array(STACK_T_SIZE);
    if (copyFromUser(m, uss, b)) return -EFAULT;
    ss = decodeStackT(b);
  }
  const r = doSigaltstack(m, t, ss, sp);
  if (!r.ret && uoss && copyToUser(m, uoss, encodeStackT(r.old))) return -EFAULT;
  return r.ret;
}

/** restore_altstack() in rt_sigreturn: only a failed read counts; do_sigaltstack()'s errors are squashed. */
export function restoreAltstack(m: Machine, t: Task, uss: number, sp: number): number {
  const b = new Uint8Array(STACK_T_SIZE);
  if (copyFromUser(m, uss, b)) return -EFAULT;
  doSigaltstack(m, t, decodeStackT(b), sp);
  return 0;
}

/** __save_altstack() as unsafe_save_altstack() does it for a frame; SS_AUTODISARM then disarms. */
export function saveAltstackValue(t: Task, sp: number): StackT {
  return { sp: t.altStack.sp, flags: sasSsFlags(t, sp) | (t.altStack.flags & SS_FLAG_BITS), size: t.altStack.size };
}
