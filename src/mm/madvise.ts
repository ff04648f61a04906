// madvise(2) (mm/madvise.c), the advice values that change what a later access sees.
import { PAGE_SIZE, PTE_P, PTE_PROTNONE, SWP_HWPOISON, swpEntryPte } from '../hw/pte.js';
import { EBUSY, EFAULT, EINVAL, ENOMEM, EPERM } from '../kernel/errno.js';
import type { Machine } from '../kernel/machine.js';
import { VM_FAULT_ERROR, handleMmFault, lookupPte, vmNormalPage, zapRange } from './memory.js';
import { PG_dirty, PG_hwpoison, PG_swapbacked } from './page.js';
import { forEachPte, writePte } from './pgtable.js';
import { liveMms } from './debug.js';
import { VM_HUGETLB, VM_LOCKED, VM_PFNMAP } from './vma.js';

export const MADV_NORMAL = 0, MADV_RANDOM = 1, MADV_SEQUENTIAL = 2, MADV_WILLNEED = 3, MADV_DONTNEED = 4,
  MADV_FREE = 8, MADV_REMOVE = 9, MADV_DONTFORK = 10, MADV_DOFORK = 11, MADV_MERGEABLE = 12, MADV_UNMERGEABLE = 13,
  MADV_HUGEPAGE = 14, MADV_NOHUGEPAGE = 15, MADV_DONTDUMP = 16, MADV_DODUMP = 17, MADV_WIPEONFORK = 18,
  MADV_KEEPONFORK = 19, MADV_COLD = 20, MADV_PAGEOUT = 21, MADV_POPULATE_READ = 22, MADV_POPULATE_WRITE = 23,
  MADV_DONTNEED_LOCKED = 24, MADV_COLLAPSE = 25, MADV_HWPOISON = 100, MADV_SOFT_OFFLINE = 101;

const VALID = new Set([MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_FREE, MADV_REMOVE,
  MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP,
  MADV_DODUMP, MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE,
  MADV_DONTNEED_LOCKED, MADV_COLLAPSE, MADV_HWPOISON, MADV_SOFT_OFFLINE]);

/** do_madvise(): validation order of mm/madvise.c, then a walk over the VMAs (holes: ENOMEM at the end). */
export function sysMadvise(m: Machine, start: number, lenIn: number, behavior: number): number {
  if (!VALID.has(behavior)) return -EINVAL;
  if (start % PAGE_SIZE) return -EINVAL;
  const len = Math.ceil(lenIn / PAGE_SIZE) * PAGE_SIZE;
  if (lenIn && !len) return -EINVAL;
  const end = start + len;
  if (end < start) return -EINVAL;
  if (end === start) return 0;
  if (behavior === MADV_HWPOISON) return madviseHwpoison(m, start, end);
  const task = m.current;
  const mm = task.mm!;
  if (behavior === MADV_POPULATE_READ || behavior === MADV_POPULATE_WRITE) {
    return m.madvisePopulate(mm, start, end, behavior === MADV_POPULATE_WRITE);
  }
  mm.lock.downRead(task.pid);
  try {
    let unmappedError = 0;
    let addr = start;
    for (const vma of mm.overlapping(start, end)) {
      if (vma.start > addr) unmappedError = -ENOMEM;
      const s = Math.max(vma.start, start);
      const e = Math.min(vma.end, end);
      if (behavior === MADV_DONTNEED || behavior === MADV_DONTNEED_LOCKED || behavior === MADV_FREE) {
        // madvise_dontneed_free_valid_vma()
        if (vma.flags & (VM_PFNMAP | VM_HUGETLB) || (behavior !== MADV_DONTNEED_LOCKED && vma.flags & VM_LOCKED)) return -EINVAL;
        zapRange(m, mm, s, e);
      }
      addr = e;
    }
    if (addr < end) unmappedError = -ENOMEM;
    return unmappedError;
  } finally {
    mm.lock.upRead(task.pid);
  }
}

/**
 * MADV_HWPOISON (CAP_SYS_ADMIN): mm/madvise.c: madvise_inject_error(): for each page,
 * get_user_pages_fast(addr, 1, 0) (faulting it in if needed), then memory_failure() on its pfn.
 */
function madviseHwpoison(m: Machine, start: number, end: number): number {
  const task = m.current;
  if (task.uid !== 0) return -EPERM;
  const mm = task.mm!;
  for (let a = start; a < end; a += PAGE_SIZE) {
    let pte = lookupPte(m, mm, a);
    if (!pte || !(pte.lo & (PTE_P | PTE_PROTNONE))) {
      const vma = mm.vmaLookup(a);
      if (!vma) return -EFAULT;
      mm.lock.downRead(task.pid);
      const r = handleMmFault(m, vma, a, 0);
      mm.lock.upRead(task.pid);
      // vm_fault_to_errno() without FOLL_HWPOISON: an already poisoned page is -EFAULT too.
      if (r & VM_FAULT_ERROR) return -EFAULT;
      pte = lookupPte(m, mm, a);
      if (!pte || !(pte.lo & PTE_P)) return -EFAULT;
    }
    const pfn = vmNormalPage(pte.lo, pte.hi);
    // The zero page is PageReserved: memory_failure() ignores it (MF_IGNORED -> -EBUSY).
    if (pfn < 0) return -EBUSY;
    m.klog('info', `Injecting memory failure for pfn 0x${pfn.toString(16)} at process virtual address 0x${a.toString(16)}`);
    memoryFailure(m, pfn);
  }
  return 0;
}

/**
 * mm/memory-failure.c: memory_failure(): mark the page, keep the reference taken by
 * get_hwpoison_page() for good (the frame is retired, never freed), and unmap it everywhere
 * (hwpoison_user_mappings() -> try_to_unmap(TTU_HWPOISON)): each PTE becomes a hwpoison swap entry,
 * so the next touch faults with VM_FAULT_HWPOISON. A clean page of a file with a backing store is
 * just unmapped and dropped from the page cache (it can be read again).
 */
export function memoryFailure(m: Machine, pfn: number): void {
  const P = m.pages;
  P.setFlag(pfn, PG_hwpoison);
  P.get(pfn);
  P.getrefs[pfn]!++;
  const [hlo, hhi] = swpEntryPte(SWP_HWPOISON, pfn);
  const cleanFile = !P.isAnon(pfn) && !P.testFlag(pfn, PG_swapbacked) && !P.testFlag(pfn, PG_dirty);
  for (const mm of liveMms(m)) {
    for (const v of mm.vmas) {
      forEachPte(m.mem, mm, v.start, v.end, (va, p, lo, hi) => {
        if (!(lo & (PTE_P | PTE_PROTNONE)) || vmNormalPage(lo, hi) !== pfn) return;
        if (P.isAnon(pfn)) mm.rssAnon--;
        else if (P.testFlag(pfn, PG_swapbacked)) mm.rssShmem--;
        else mm.rssFile--;
        P.mapcount[pfn]!--;
        if (cleanFile) writePte(m, p, 0, 0);
        else writePte(m, p, hlo, hhi);
        P.put(pfn);
        m.flushTlbPage(mm, va);
      });
    }
  }
  // truncate_error_folio(): a page-cache page leaves the cache.
  for (const ino of m.allInodes()) {
    for (const [index, f] of [...ino.pageCache]) {
      if (f !== pfn) continue;
      ino.pageCache.delete(index);
      P.put(pfn);
    }
  }
  const what = P.isAnon(pfn) ? 'dirty LRU page' : cleanFile ? 'clean LRU page' : 'dirty LRU page';
  m.klog('err', `Memory failure: 0x${pfn.toString(16)}: recovery action for ${what}: Recovered`);
}
