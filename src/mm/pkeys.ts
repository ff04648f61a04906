// Protection-key policy: the allocation bitmap (arch/x86/include/asm/pkeys.h), the execute-only key
// (arch/x86/mm/pkeys.c) and the software access check (arch/x86/include/asm/mmu_context.h).
import { NR_PKEYS, PKRU_AD_BIT, pkruAllowsRead, pkruAllowsWrite, pkruSetKey } from '../hw/pkru.js';
import type { Machine } from '../kernel/machine.js';
import type { Mm } from './mm.js';
import { VM_EXEC, VM_READ, VM_WRITE, type Vma } from './vma.js';

export const PKEY_DISABLE_ACCESS = 0x1;
export const PKEY_DISABLE_WRITE = 0x2;
export const PKEY_ACCESS_MASK = PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE;

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

/** mm_pkey_is_allocated(): the execute-only key is not visible to user APIs (PK-3). */
export function mmPkeyIsAllocated(m: Machine, mm: Mm, pkey: number): boolean {
  if (pkey < 0 || pkey >= archMaxPkey(m)) return false;
  if (pkey === mm.executeOnlyPkey) return false;
  return ((mm.pkeyAllocationMap >>> pkey) & 1) === 1;
}

/** mm_pkey_alloc(): lowest free key, or -1 (PK-2). */
export function mmPkeyAlloc(m: Machine, mm: Mm): number {
  const all = (1 << archMaxPkey(m)) - 1;
  if ((mm.pkeyAllocationMap & all) === all) return -1;
  for (let k = 0; k < archMaxPkey(m); k++) {
    if (((mm.pkeyAllocationMap >>> k) & 1) === 0) {
      mm.pkeyAllocationMap |= 1 << k;
      return k;
    }
  }
  return -1;
}

/** mm_pkey_free() (PK-4): -EINVAL when not allocated. */
export function mmPkeyFree(m: Machine, mm: Mm, pkey: number): number {
  if (!mmPkeyIsAllocated(m, mm, pkey)) return -22;
  mm.pkeyAllocationMap &= ~(1 << pkey);
  return 0;
}

/** arch/x86/mm/pkeys.c: __execute_only_pkey() (PK-9). Returns the key or -1. */
export function executeOnlyPkey(m: Machine, mm: Mm): number {
  if (!m.pke) return -1;
  let key = mm.executeOnlyPkey;
  let needToSetMmPkey = false;
  if (key === -1) {
    key = mmPkeyAlloc(m, mm);
    if (key < 0) return -1;
    needToSetMmPkey = true;
  }
  const cur = m.current;
  if (!needToSetMmPkey && !pkruAllowsRead(cur.pkru, key)) return key;
  // Only the calling thread's PKRU learns about the key.
  cur.pkru = pkruSetKey(cur.pkru, key, PKRU_AD_BIT);
  if (needToSetMmPkey) mm.executeOnlyPkey = key;
  return key;
}

/** arch/x86/mm/pkeys.c: __arch_override_mprotect_pkey() (PK-8). */
export function archOverrideMprotectPkey(m: Machine, vma: Vma, prot: number, pkey: number): number {
  if (!m.pke) return 0;
  if (pkey !== -1) return pkey;
  const PROT_EXEC = 4;
  if (prot === PROT_EXEC) {
    const k = executeOnlyPkey(m, vma.mm);
    if (k > 0) return k;
  } else if (m.profile.execOnlyReset && vmaIsPkeyExecOnly(vma)) {
    return 0;
  }
  return vma.pkey;
}

/** vma_is_pkey_exec_only(): RWX bits exactly VM_EXEC and the mm's execute-only key. */
export function vmaIsPkeyExecOnly(vma: Vma): boolean {
  if ((vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) !== VM_EXEC) return false;
  return vma.pkey === vma.mm.executeOnlyPkey;
}
