// Populating a range ahead of use: MAP_POPULATE/mlock (mm/gup.c: populate_vma_page_range()) and
// MADV_POPULATE_READ/WRITE (mm/gup.c: faultin_page_range()). Both are local: the caller's PKRU
// applies through the fault handler's pkey gate.
import { EFAULT, EINVAL, ENOMEM } from '../kernel/errno.js';
import type { Machine } from '../kernel/machine.js';
import type { Mm } from './mm.js';
import {
  FAULT_FLAG_WRITE, VM_FAULT_ERROR, VM_FAULT_HWPOISON, VM_FAULT_OOM, handleMmFault, lookupPte,
} from './memory.js';
import { PTE_P, PTE_RW } from '../hw/pte.js';
import { archVmaAccessPermitted } from './pkeys.js';
import { VM_READ, VM_SHARED, VM_WRITE, vmaIsAccessible } from './vma.js';

/**
 * Fault every page of [start, end) in. `strict` (MADV_POPULATE_*) reports errors: no VMA -> ENOMEM,
 * permission -> EINVAL, fault failure -> EFAULT (or ENOMEM/EHWPOISON); otherwise errors are ignored.
 */
export function populateVmaRange(m: Machine, mm: Mm, start: number, end: number, strict: boolean, forceWrite = false): number {
  const task = m.current;
  mm.lock.downRead(task.pid);
  try {
    for (let addr = start; addr < end; addr += 4096) {
      const vma = mm.vmaLookup(addr);
      if (!vma) {
        if (strict) return -ENOMEM;
        continue;
      }
      // populate_vma_page_range(): write-fault private writable mappings to break COW up front.
      const write = strict ? forceWrite : (vma.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
      if (strict) {
        const allowed = write ? (vma.flags & VM_WRITE) !== 0 : (vma.flags & VM_READ) !== 0;
        if (!allowed || !archVmaAccessPermitted(m, vma, write, false, false)) return -EINVAL;
      } else if (!vmaIsAccessible(vma)) {
        continue;
      }
      const pte = lookupPte(m, mm, addr);
      if (pte && pte.lo & PTE_P && (!write || pte.lo & PTE_RW)) continue; // already there
      const r = handleMmFault(m, vma, addr, write ? FAULT_FLAG_WRITE : 0);
      if (r & VM_FAULT_ERROR && strict) return r & VM_FAULT_OOM ? -ENOMEM : r & VM_FAULT_HWPOISON ? -133 : -EFAULT;
    }
    return 0;
  } finally {
    mm.lock.upRead(task.pid);
  }
}
