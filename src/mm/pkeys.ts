// Protection-key policy: the allocation bitmap (arch/x86/include/asm/pkeys.h), the execute-only key
// (arch/x86/mm/pkeys.c) and the software access check (arch/x86/include/asm/mmu_context.h).
// Version differences come from m.profile (execOnlyReset, pkey0Ordinary, pkeys.execOnlyKey).
import { NR_PKEYS, pkruAllowsRead, pkruAllowsWrite, pkruSetKey } from '../hw/pkru.js';
import type { Machine } from '../kernel/machine.js';
import type { Mm } from './mm.js';
import { VM_EXEC, VM_READ, VM_WRITE, type Vma } from './vma.js';

export const PKEY_DISABLE_ACCESS = 0x1;
export const PKEY_DISABLE_WRITE = 0x2;
export const PKEY_ACCESS_MASK = PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE;
/** arch/x86/include/asm/pkeys.h: ARCH_DEFAULT_PKEY. */
export const ARCH_DEFAULT_PKEY = 0;
/** v4.6 arch/x86/include/asm/pkeys.h: PKEY_DEDICATED_EXECUTE_ONLY (the key before the allocator existed). */
export const PKEY_DEDICATED_EXECUTE_ONLY = 15;

const PROT_READ = 0x1, PROT_WRITE = 0x2, PROT_EXEC = 0x4;

/** arch_max_pkey(): 16 with OSPKE, else 1. */
export function archMaxPkey(m: Machine): number {
  return m.pke ? NR_PKEYS : 1;
}

/** include/linux/mm.h: vma_is_foreign(): current has no mm, or the VMA is another mm's. */
export function vmaIsForeign(m: Machine, vma: Vma): boolean {
  const cur = m.current;
  return cur.mm === null || cur.mm !== vma.mm;
}

/**
 * arch/x86/include/asm/mmu_context.h: arch_vma_access_permitted(). Instruction fetches and foreign
 * accesses are never checked; otherwise current's PKRU decides for the VMA's key.
 */
export function archVmaAccessPermitted(m: Machine, vma: Vma, write: boolean, execute: boolean, foreign: boolean): boolean {
  if (execute) return true;
  if (foreign || vmaIsForeign(m, vma)) {
    if (m.trace.on) m.trace.decision('GUP-1', 'arch_vma_access_permitted', 'bypass',
      `pkey ${vma.pkey} not checked: ${foreign ? 'foreign (FOLL_REMOTE/FAULT_FLAG_REMOTE)' : 'vma->vm_mm != current->mm'}`);
    return true;
  }
  if (!m.pke) return true;
  const pkru = m.current.pkru;
  const ok = write ? pkruAllowsWrite(pkru, vma.pkey) : pkruAllowsRead(pkru, vma.pkey);
  if (m.trace.on) m.trace.decision('GUP-1', 'arch_vma_access_permitted', ok ? 'allow' : 'deny',
    `pkey ${vma.pkey} ${write ? 'write' : 'read'} vs PKRU of pid ${m.current.pid} = 0x${pkru.toString(16).padStart(8, '0')}`);
  return ok;
}

/**
 * mm_pkey_is_allocated() (PK-3): out of range and the execute-only key are never "allocated" for
 * the user APIs; before VER-8 (2018) key 0 was not either.
 */
export function mmPkeyIsAllocated(m: Machine, mm: Mm, pkey: number): boolean {
  if (pkey < 0 || pkey >= archMaxPkey(m)) return false;
  if (!m.profile.pkey0Ordinary && pkey === 0) return false;
  if (pkey === mm.executeOnlyPkey) return false;
  return ((mm.pkeyAllocationMap >>> pkey) & 1) === 1;
}

/** mm_pkey_alloc(): lowest free key (ffz), or -1 when the map equals all_pkeys_mask (PK-2). */
export function mmPkeyAlloc(m: Machine, mm: Mm): number {
  const all = (1 << archMaxPkey(m)) - 1;
  if ((mm.pkeyAllocationMap & 0xffff) === all) return -1;
  for (let k = 0; k < 16; k++) {
    if (((mm.pkeyAllocationMap >>> k) & 1) === 0) {
      mm.pkeyAllocationMap |= 1 << k;
      return k;
    }
  }
  return -1;
}

/** mm_pkey_free() (PK-4): -EINVAL when not allocated, else clear the bit and nothing else. */
export function mmPkeyFree(m: Machine, mm: Mm, pkey: number): number {
  if (!mmPkeyIsAllocated(m, mm, pkey)) return -22;
  mm.pkeyAllocationMap &= ~(1 << pkey);
  return 0;
}

/**
 * arch/x86/kernel/fpu/xstate.c: arch_set_user_pkey_access(): without OSPKE -EINVAL; otherwise key
 * k's two bits in the calling thread's PKRU become AD = rights & DISABLE_ACCESS,
 * WD = rights & DISABLE_WRITE. Other threads are untouched.
 */
export function archSetUserPkeyAccess(m: Machine, pkey: number, rights: number): number {
  if (!m.pke) return -22;
  if (pkey >= archMaxPkey(m)) return -22; // WARN_ON_ONCE in the kernel
  const cur = m.current;
  cur.pkru = pkruSetKey(cur.pkru, pkey, rights & PKEY_ACCESS_MASK);
  return 0;
}

/**
 * execute_only_pkey() (PK-9): the key to use for a PROT_EXEC-only mapping, or -1 (no support).
 * Without OSPKE: ARCH_DEFAULT_PKEY.
 */
export function executeOnlyPkey(m: Machine, mm: Mm): number {
  if (!m.pke) return ARCH_DEFAULT_PKEY;
  const cur = m.current;
  if (m.profile.pkeys.execOnlyKey === 'dedicated-15') {
    // v4.6 __execute_only_pkey(): skip the PKRU update if the key is already write-disabled.
    if (!pkruAllowsWrite(cur.pkru, PKEY_DEDICATED_EXECUTE_ONLY)) return PKEY_DEDICATED_EXECUTE_ONLY;
    if (archSetUserPkeyAccess(m, PKEY_DEDICATED_EXECUTE_ONLY, PKEY_DISABLE_ACCESS)) return 0;
    return PKEY_DEDICATED_EXECUTE_ONLY;
  }
  let key = mm.executeOnlyPkey;
  let needToSetMmPkey = false;
  if (key === -1) {
    key = mmPkeyAlloc(m, mm);
    if (key < 0) return -1;
    needToSetMmPkey = true;
  }
  // Assume a thread whose PKRU already access-disables the key needs no update.
  if (!needToSetMmPkey && !pkruAllowsRead(cur.pkru, key)) return key;
  // Only the calling thread's PKRU learns about the key.
  if (archSetUserPkeyAccess(m, key, PKEY_DISABLE_ACCESS)) {
    mm.pkeyAllocationMap &= ~(1 << key); // mm_set_pkey_free()
    return -1;
  }
  if (needToSetMmPkey) mm.executeOnlyPkey = key;
  if (m.trace.on) m.trace.decision('PK-9', 'execute_only_pkey', 'info', `key ${key}; AD set in PKRU of pid ${cur.pid} only`);
  return key;
}

/** vma_is_pkey_exec_only(): RWX bits exactly VM_EXEC and the mm's execute-only key. */
export function vmaIsPkeyExecOnly(m: Machine, vma: Vma): boolean {
  if ((vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) !== VM_EXEC) return false;
  const xkey = m.profile.pkeys.execOnlyKey === 'dedicated-15' ? PKEY_DEDICATED_EXECUTE_ONLY : vma.mm.executeOnlyPkey;
  return vma.pkey === xkey;
}

/** arch/x86/mm/pkeys.c: __arch_override_mprotect_pkey() (PK-8); 0 without OSPKE. */
export function archOverrideMprotectPkey(m: Machine, vma: Vma, prot: number, pkey: number): number {
  if (!m.pke) return 0;
  // An explicit pkey_mprotect() key is never overridden.
  if (pkey !== -1) return pkey;
  if (m.profile.execOnlyReset === 'read-or-write') {
    // v4.6: leave the execute-only key only when read or write is requested.
    if (vmaIsPkeyExecOnly(m, vma) && prot & (PROT_READ | PROT_WRITE)) return ARCH_DEFAULT_PKEY;
    if (prot === PROT_EXEC) {
      const k = executeOnlyPkey(m, vma.mm);
      if (k > 0) return k;
    }
    return vma.pkey;
  }
  if (prot === PROT_EXEC) {
    const k = executeOnlyPkey(m, vma.mm);
    if (k > 0) return k;
  } else if (vmaIsPkeyExecOnly(m, vma)) {
    // The mapping was PROT_EXEC-only and will no longer be: back to the default key.
    return ARCH_DEFAULT_PKEY;
  }
  // A vanilla mprotect (or no execute-only support): inherit the VMA's key.
  return vma.pkey;
}
