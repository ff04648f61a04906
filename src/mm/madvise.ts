// madvise(2) (mm/madvise.c), the advice values that change what a later access sees.
import { PAGE_SIZE } from '../hw/pte.js';
import { EINVAL, ENOMEM, EPERM } from '../kernel/errno.js';
import type { Machine } from '../kernel/machine.js';
import { lookupPte, vmNormalPage, zapRange } from './memory.js';
import { PG_hwpoison } from './page.js';
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

/** MADV_HWPOISON (CAP_SYS_ADMIN): memory_failure() on the page mapped at each address. */
function madviseHwpoison(m: Machine, start: number, end: number): number {
  const task = m.current;
  if (task.uid !== 0) return -EPERM;
  for (let a = start; a < end; a += PAGE_SIZE) {
    const pte = lookupPte(m, task.mm!, a);
    const pfn = pte ? vmNormalPage(pte.lo, pte.hi) : -1;
    if (pfn < 0) return -EINVAL;
    m.pages.setFlag(pfn, PG_hwpoison);
    m.klog('err', `Memory failure: 0x${pfn.toString(16)}: recovery action for dirty LRU page: Recovered`);
  }
  return 0;
}
