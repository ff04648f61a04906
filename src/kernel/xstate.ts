// The user XSAVE area as Linux lays it out for signal frames and the NT_X86_XSTATE regset
// (arch/x86/include/asm/fpu/types.h, arch/x86/include/uapi/asm/sigcontext.h,
// arch/x86/kernel/fpu/signal.c, xstate.c). Only what protection keys need is modelled: the legacy
// area's software-reserved bytes (_fpx_sw_bytes), the XSAVE header's XSTATE_BV and the PKRU
// component. Sizes and offsets are those CPUID reports on the oracle's CPU (QEMU -cpu max:
// "pkru_xsave_offset=2688 xsave_size=2696" in conformance/real-kernel/results-*.txt).
import type { Machine } from './machine.js';
import type { Task } from './task.js';
import { copyFromUser, copyToUser } from './uaccess.js';

export const XFEATURE_FP = 0, XFEATURE_SSE = 1, XFEATURE_PKRU = 9;
export const XFEATURE_MASK_FPSSE = 0x3;
export const XFEATURE_MASK_PKRU = 1 << XFEATURE_PKRU;
/** x87, SSE, AVX, AVX-512 opmask/ZMM_Hi256/Hi16_ZMM, PKRU: the user xfeatures of QEMU's "max" CPU. */
export const USER_XFEATURES_PKU = 0x2e7;
export const USER_XFEATURES_NOPKU = 0xe7;
/** Offset of the PKRU component (CPUID.(EAX=0DH,ECX=9).EBX) and the user XSAVE size with it. */
export const PKRU_XSAVE_OFFSET = 2688;
export const XSAVE_SIZE_PKU = 2696;
export const XSAVE_SIZE_NOPKU = 2688;
/** Offsets inside the XSAVE area. */
export const FXSAVE_SW_BYTES = 464;
export const XSAVE_HEADER = 512;
export const XSAVE_HEADER_SIZE = 64;
/** include/uapi/asm/sigcontext.h */
export const FP_XSTATE_MAGIC1 = 0x46505853;
export const FP_XSTATE_MAGIC2 = 0x46505845;
export const FP_XSTATE_MAGIC2_SIZE = 4;

/** fpstate->user_size: the XSAVE area the kernel saves for user space. */
export function xstateUserSize(m: Machine): number {
  return m.pke ? XSAVE_SIZE_PKU : XSAVE_SIZE_NOPKU;
}

export function userXfeatures(m: Machine): number {
  return m.pke ? USER_XFEATURES_PKU : USER_XFEATURES_NOPKU;
}

/** xstate_sigframe_size(): user_size + FP_XSTATE_MAGIC2_SIZE (XSAVE is always used on these CPUs). */
export function xstateSigframeSize(m: Machine): number {
  return xstateUserSize(m) + FP_XSTATE_MAGIC2_SIZE;
}

/**
 * The bytes XSAVE writes for a task: zeroed legacy and extended state (the model keeps no FPU
 * registers), XSTATE_BV = XINUSE & RFBM, and the live PKRU in its component. The model treats the
 * PKRU component as in use whenever OSPKE is on (Intel and QEMU TCG behaviour; AMD's more aggressive
 * init tracking after WRPKRU(0), the VER-21 bug, is not modelled).
 */
export function xsaveImage(m: Machine, pkru: number): Uint8Array {
  const b = new Uint8Array(xstateUserSize(m));
  const v = new DataView(b.buffer);
  v.setBigUint64(XSAVE_HEADER, BigInt(XFEATURE_MASK_FPSSE | (m.pke ? XFEATURE_MASK_PKRU : 0)), true);
  if (m.pke) v.setUint32(PKRU_XSAVE_OFFSET, pkru >>> 0, true);
  return b;
}

/**
 * xsaveImage() for a signal frame, in a buffer kept per size and rewritten by each call, so valid
 * until the next one (the frame copies it at once). A fresh 2.7 KB array per signal was an
 * allocation outside the JS heap each time.
 */
export function sigframeXsaveImage(m: Machine, pkru: number): Uint8Array {
  const size = xstateUserSize(m);
  let b = frameImages.get(size);
  if (!b) frameImages.set(size, (b = new Uint8Array(size)));
  // The size tells pke apart, so these are the only bytes that are ever not zero.
  putU64(b, XSAVE_HEADER, BigInt(XFEATURE_MASK_FPSSE | (m.pke ? XFEATURE_MASK_PKRU : 0)));
  if (m.pke) putU32(b, PKRU_XSAVE_OFFSET, pkru >>> 0);
  return b;
}

const frameImages = new Map<number, Uint8Array>();

/**
 * Little-endian stores and loads without a DataView: a DataView on a small typed array moves its
 * bytes out of the JS heap first, which cost more than the rest of a signal frame's encoding.
 */
export function putU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
  b[off + 1] = v >>> 8;
  b[off + 2] = v >>> 16;
  b[off + 3] = v >>> 24;
}

/** Stores v modulo 2^64, as DataView.setBigUint64() does. */
export function putU64(b: Uint8Array, off: number, v: bigint): void {
  putU32(b, off, Number(BigInt.asUintN(32, v)));
  putU32(b, off + 4, Number(BigInt.asUintN(32, v >> 32n)));
}

export function getU32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

export function getU64(b: Uint8Array, off: number): bigint {
  return (BigInt(getU32(b, off + 4)) << 32n) | BigInt(getU32(b, off));
}

/** struct _fpx_sw_bytes as save_sw_bytes() fills it: magic1, extended_size, xfeatures, xstate_size. */
export function swBytes(m: Machine): Uint8Array {
  const b = new Uint8Array(48);
  putU32(b, 0, FP_XSTATE_MAGIC1);
  putU32(b, 4, xstateSigframeSize(m));
  putU64(b, 8, BigInt(userXfeatures(m)));
  putU32(b, 16, xstateUserSize(m));
  return b;
}

/**
 * What XRSTOR with requested-feature bitmap `rfbm` does to PKRU, given the XSTATE_BV and PKRU slot
 * read from a buffer: a component requested but marked not-in-use takes its init value (0); one
 * not requested is left alone (returns null).
 */
export function xrstorPkru(rfbm: number, xstateBv: bigint, slot: number): number | null {
  if (!(rfbm & XFEATURE_MASK_PKRU)) return null;
  return xstateBv & BigInt(XFEATURE_MASK_PKRU) ? slot >>> 0 : 0;
}

/**
 * ptrace(PTRACE_GETREGSET, NT_X86_XSTATE) for the PKRU part (arch/x86/kernel/fpu/regset.c:
 * xstateregs_get() -> copy_xstate_to_uabi_buf(), which takes PKRU from thread.pkru since v5.14).
 */
export function xstateRegsGet(m: Machine, t: Task): Uint8Array {
  const b = xsaveImage(m, t.pkru);
  b.set(swBytes(m), FXSAVE_SW_BYTES);
  return b;
}

/**
 * ptrace(PTRACE_SETREGSET, NT_X86_XSTATE): copy_uabi_from_kernel_to_xstate() then PKRU from the
 * buffer if XSTATE_BV[PKRU] is set, else its init value 0 (fixed in v6.2, "x86/fpu: Allow PKRU to
 * be (once again) written by ptrace", and the "Add a pkru argument" series). Returns 0 or -EINVAL
 * for a buffer shorter than the XSAVE area or with reserved header bits.
 */
export function xstateRegsSet(m: Machine, t: Task, buf: Uint8Array): number {
  if (buf.length < xstateUserSize(m)) return -22;
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const bv = v.getBigUint64(XSAVE_HEADER, true);
  if (bv & ~BigInt(userXfeatures(m))) return -22; // validate_user_xstate_header()
  if (!m.pke) return 0;
  t.pkru = xrstorPkru(XFEATURE_MASK_PKRU, bv, v.getUint32(PKRU_XSAVE_OFFSET, true)) ?? t.pkru;
  return 0;
}

/** include/uapi/linux/elf.h */
export const NT_X86_XSTATE = 0x202;

/**
 * ptrace(PTRACE_GETREGSET / PTRACE_SETREGSET, pid, NT_X86_XSTATE, iov) (kernel/ptrace.c:
 * ptrace_regset(); arch/x86/kernel/fpu/regset.c): the tracee must be ours and stopped (ESRCH);
 * iov_len must be a multiple of the regset's 8-byte unit (EINVAL) and is clamped to the XSAVE size;
 * SETREGSET needs the whole buffer (EFAULT otherwise). The tracer's buffer is copied with uaccess,
 * so the tracer's own PKRU applies to it. Returns 0 or -errno; a successful GETREGSET writes back
 * the byte count through `done` (the kernel updates iov_len).
 */
export function sysPtraceXstateRegset(
  m: Machine, pid: number, set: boolean, iovBase: number, iovLen: number, done?: { len: number },
): number {
  const t = m.task(pid);
  const cur = m.current;
  if (!t || t.tracer !== cur.tgid || !t.ptraceStopped) return -3; // ESRCH
  if (iovLen % 8) return -22;
  const len = Math.min(iovLen, xstateUserSize(m));
  if (done) done.len = len;
  if (!set) {
    const img = xstateRegsGet(m, t).subarray(0, len);
    return copyToUser(m, iovBase, img) ? -14 : 0;
  }
  if (len !== xstateUserSize(m)) return -14;
  const buf = new Uint8Array(len);
  if (copyFromUser(m, iovBase, buf)) return -14;
  return xstateRegsSet(m, t, buf);
}
