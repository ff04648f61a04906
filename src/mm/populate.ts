// Populating a range ahead of use through the GUP core: MAP_POPULATE/mlock
// (mm/gup.c: populate_vma_page_range(), __mm_populate()) and MADV_POPULATE_READ/WRITE
// (mm/gup.c: faultin_page_range(), mm/madvise.c: madvise_populate()). Both are local: the
// caller's PKRU applies.
import { EFAULT, EHWPOISON, EINTR, EINVAL, ENOMEM } from '../kernel/errno.js';
import type { Machine } from '../kernel/machine.js';
import type { Mm } from './mm.js';
import { FOLL_FORCE, FOLL_MADV_POPULATE, FOLL_TOUCH, FOLL_UNLOCKABLE, FOLL_WRITE, __getUserPages, type Locked } from './gup.js';
import { VM_IO, VM_PFNMAP, VM_SHARED, VM_WRITE, vmaIsAccessible } from './vma.js';

/** __mm_populate(start, len, ignore_errors = 1) as mmap(MAP_POPULATE) uses it. */
export function mmPopulate(m: Machine, mm: Mm, start: number, end: number): void {
  const pid = m.current.pid;
  const locked: Locked = { locked: 0 };
  for (let nstart = start; nstart < end;) {
    if (!locked.locked) {
      mm.lock.downRead(pid);
      locked.locked = 1;
    }
    const vma = mm.findVma(nstart);
    if (!vma || vma.start >= end) break;
    const nend = Math.min(end, vma.end);
    if (vma.flags & (VM_IO | VM_PFNMAP)) {
      nstart = nend;
      continue;
    }
    nstart = Math.max(nstart, vma.start);
    let flags = FOLL_TOUCH | FOLL_UNLOCKABLE;
    if ((vma.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE) flags |= FOLL_WRITE;
    if (vmaIsAccessible(vma)) flags |= FOLL_FORCE;
    const r = __getUserPages(m, { tsk: m.current }, mm, nstart, (nend - nstart) / 4096, flags, null, null, locked);
    // Errors are ignored (continue at the next VMA); 0 pages with the lock still held means no
    // retry is pending either, so move on as well.
    if (r < 0 || (r === 0 && locked.locked)) nstart = nend;
    else nstart += r * 4096;
  }
  if (locked.locked) mm.lock.upRead(pid);
}

/** madvise(MADV_POPULATE_READ/WRITE): 0, or the errno madvise_populate() maps GUP's result to. */
export function madvisePopulate(m: Machine, mm: Mm, start: number, end: number, write: boolean): number {
  const pid = m.current.pid;
  const locked: Locked = { locked: 0 };
  let addr = start;
  while (addr < end) {
    if (!locked.locked) {
      mm.lock.downRead(pid);
      locked.locked = 1;
    }
    const flags = FOLL_TOUCH | FOLL_MADV_POPULATE | FOLL_UNLOCKABLE | (write ? FOLL_WRITE : 0);
    const r = __getUserPages(m, { tsk: m.current }, mm, addr, (end - addr) / 4096, flags, null, null, locked);
    if (r < 0) {
      if (locked.locked) mm.lock.upRead(pid);
      if (r === -EINTR || r === -EINVAL || r === -EHWPOISON || r === -EFAULT) return r;
      return -ENOMEM;
    }
    addr += r * 4096;
  }
  if (locked.locked) mm.lock.upRead(pid);
  return 0;
}
