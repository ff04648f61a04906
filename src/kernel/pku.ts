// User-mode protection-key steps: RDPKRU/WRPKRU (no syscall, this thread only, #UD without
// CR4.PKE), glibc's pkey_get()/pkey_set() (sysdeps/unix/sysv/linux/x86/pkey_get.c, pkey_set.c),
// and XSAVE/XRSTOR of the PKRU component to/from user memory (data accesses, so PKRU itself
// applies to the buffer).
import { ACC_READ, ACC_WRITE } from '../hw/mmu.js';
import { pkruSetKey } from '../hw/pkru.js';
import { EINVAL } from './errno.js';
import type { Machine } from './machine.js';
import { ILL_ILLOPN, forceSigFault, type SignalDelivery } from './signal.js';
import { SIGILL, type Task } from './task.js';
import { userAccess, type UserAccessResult } from './usermode.js';
import { PKRU_XSAVE_OFFSET, XFEATURE_MASK_PKRU, XSAVE_HEADER, xrstorPkru } from './xstate.js';

/** The result of one instruction that may trap. */
export interface InsnResult {
  /** The value the instruction produced (RDPKRU: EAX), or null if it trapped. */
  value: number | null;
  signals: SignalDelivery[];
  killed: boolean;
}

/** #UD: do_invalid_op() -> SIGILL/ILL_ILLOPN to the thread. */
function invalidOp(m: Machine, task: Task): InsnResult {
  const d = forceSigFault(m, task, { signo: SIGILL, code: ILL_ILLOPN, addr: 0 });
  return { value: null, signals: [d], killed: d.killed };
}

/** RDPKRU (ECX = 0). Without CR4.PKE the instruction raises #UD. */
export function rdpkru(m: Machine, task: Task): InsnResult {
  if (!m.pke) return invalidOp(m, task);
  return { value: task.pkru >>> 0, signals: [], killed: false };
}

/** WRPKRU (ECX = EDX = 0): immediate, this thread only, no kernel involvement. */
export function wrpkru(m: Machine, task: Task, value: number): InsnResult {
  if (!m.pke) return invalidOp(m, task);
  task.pkru = value >>> 0;
  if (m.trace.on) m.trace.decision('OBJ-15', 'WRPKRU', 'info', `pid ${task.pid} PKRU := 0x${task.pkru.toString(16).padStart(8, '0')}`);
  return { value: null, signals: [], killed: false };
}

/** glibc pkey_get(): EINVAL for key outside 0..15, else the key's two PKRU bits. */
export function glibcPkeyGet(m: Machine, task: Task, key: number): number {
  if (key < 0 || key > 15) return -EINVAL;
  const r = rdpkru(m, task);
  if (r.value === null) return -EINVAL;
  return (r.value >>> (2 * key)) & 3;
}

/** glibc pkey_set(): EINVAL for key outside 0..15 or rights > 3, else a read-modify-write of PKRU. */
export function glibcPkeySet(m: Machine, task: Task, key: number, rights: number): number {
  if (key < 0 || key > 15 || rights < 0 || rights > 3) return -EINVAL;
  const r = rdpkru(m, task);
  if (r.value === null) return -EINVAL;
  wrpkru(m, task, pkruSetKey(r.value, key, rights));
  return 0;
}

/**
 * XSAVE of the PKRU component at addr with requested-feature bitmap rfbm: XSTATE_BV[PKRU] := 1 and
 * the live PKRU in its slot (the model treats PKRU as in use, see xstate.ts). Other components are
 * not modelled. A user-mode write to the buffer.
 */
export function userXsave(m: Machine, task: Task, addr: number, rfbm: number): UserAccessResult {
  if (!(rfbm & XFEATURE_MASK_PKRU)) return userAccess(m, task, addr + XSAVE_HEADER, 0, ACC_WRITE);
  const bv = userAccess(m, task, addr + XSAVE_HEADER, 8, ACC_READ);
  if (bv.done < 8) return bv;
  const b = bv.data!;
  b[1] = b[1]! | 0x02; // bit 9
  const w = userAccess(m, task, addr + XSAVE_HEADER, 8, ACC_WRITE, b);
  if (w.done < 8) return w;
  const slot = new Uint8Array(4);
  new DataView(slot.buffer).setUint32(0, task.pkru >>> 0, true);
  return userAccess(m, task, addr + PKRU_XSAVE_OFFSET, 4, ACC_WRITE, slot);
}

/** XRSTOR of the PKRU component: the slot's value if XSTATE_BV[PKRU] is set, else the init value 0. */
export function userXrstor(m: Machine, task: Task, addr: number, rfbm: number): UserAccessResult {
  const bv = userAccess(m, task, addr + XSAVE_HEADER, 8, ACC_READ);
  if (bv.done < 8) return bv;
  const slot = userAccess(m, task, addr + PKRU_XSAVE_OFFSET, 4, ACC_READ);
  if (slot.done < 4) return slot;
  if (!m.pke) return slot;
  const bvv = new DataView(bv.data!.buffer).getBigUint64(0, true);
  const v = xrstorPkru(rfbm, bvv, new DataView(slot.data!.buffer).getUint32(0, true));
  if (v !== null) task.pkru = v;
  return slot;
}
