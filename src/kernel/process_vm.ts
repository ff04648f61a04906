// process_vm_readv(2) / process_vm_writev(2) (mm/process_vm_access.c). The remote side goes through
// remote GUP (no pkey check, even for one's own pid); the local side is uaccess (caller's PKRU).
import { PhysMem } from '../hw/physmem.js';
import { PAGE_SIZE } from '../hw/pte.js';
import {
  FOLL_REMOTE, FOLL_WRITE, pinUserPagesRemote, putUserPage, unpinUserPagesDirtyLock, type Locked,
} from '../mm/gup.js';
import { seedGetUserPagesForeign, seedGetUserPagesUnlockedTskMm } from '../mm/gup_seed.js';
import { PG_dirty } from '../mm/page.js';
import type { Mm } from '../mm/mm.js';
import { EFAULT, EINVAL, EPERM, ESRCH } from './errno.js';
import type { Machine } from './machine.js';
import { mmAccess, PTRACE_MODE_ATTACH, PTRACE_MODE_REALCREDS } from './ptrace.js';
import type { Task } from './task.js';
import { copyFromUser, copyToUser } from './uaccess.js';
import { MAX_RW_COUNT } from './read_write.js';

export interface Iovec {
  base: number;
  len: number;
}

export const UIO_MAXIOV = 1024;
/** PVM_MAX_KMALLOC_PAGES / sizeof(struct page *): pages pinned per loop. */
const MAX_PAGES_PER_LOOP = (2 * PAGE_SIZE) / 8;

/** The local iov_iter: consumed in order by the copies. */
class IovIter {
  private seg = 0;
  private off = 0;
  count: number;
  constructor(private readonly iov: Iovec[]) {
    this.count = iov.reduce((a, v) => a + v.len, 0);
  }

  /** copy_page_to_iter()/copy_page_from_iter() of len bytes at slab[off]: returns bytes copied. */
  copy(m: Machine, slab: Uint8Array, off: number, len: number, toUser: boolean): number {
    let done = 0;
    while (done < len && this.seg < this.iov.length) {
      const v = this.iov[this.seg]!;
      const n = Math.min(v.len - this.off, len - done);
      if (n > 0) {
        const left = toUser ? copyToUser(m, v.base + this.off, slab, off + done, n) : copyFromUser(m, v.base + this.off, slab, off + done, n);
        done += n - left;
        this.off += n - left;
        this.count -= n - left;
        if (left) return done;
      }
      if (this.off >= v.len) {
        this.seg++;
        this.off = 0;
      }
    }
    return done;
  }
}

/** process_vm_rw_pages(): copy between the pinned pages and the local iovecs. */
function rwPages(m: Machine, pages: number[], startOffset: number, len: number, iter: IovIter, write: boolean): number {
  for (let i = 0; i < pages.length; i++) {
    const page = pages[i]!;
    if (!len || !iter.count) break;
    const copy = Math.min(PAGE_SIZE - startOffset, len);
    const copied = iter.copy(m, m.mem.slab8(page), PhysMem.byteOffset(page) + startOffset, copy, !write);
    if (write && copied) m.pages.setFlag(page, PG_dirty);
    len -= copied;
    startOffset = 0;
    if (copied < copy && iter.count) return -EFAULT;
  }
  return 0;
}

/** The remote pin of one chunk, as each profile's kernel does it (REV-1). */
function getRemotePages(m: Machine, task: Task, mm: Mm, pa: number, n: number, write: boolean, pages: number[]): number {
  const tr = m.trace.on;
  switch (m.profile.gup.api) {
    case 'modern': {
      const locked: Locked = { locked: 1 };
      mm.lock.downRead(m.current.pid);
      if (tr) m.trace.decision('CON-3', 'process_vm_rw_single_vec', 'info', 'pin_user_pages_remote(mm, pa, n, flags, pages, &locked): FOLL_REMOTE, no FOLL_FORCE');
      const r = pinUserPagesRemote(m, mm, pa, n, write ? FOLL_WRITE : 0, pages, locked);
      if (locked.locked) mm.lock.upRead(m.current.pid);
      return r;
    }
    case 'seed-4.6':
      if (tr) m.trace.decision('REV-1', 'process_vm_rw_single_vec', 'info', '__get_user_pages_unlocked(task, mm, ..., FOLL_REMOTE): may drop mmap_sem and retry; faults charged to the target task');
      return seedGetUserPagesUnlockedTskMm(m, task, mm, pa, n, write ? 1 : 0, 0, pages, FOLL_REMOTE);
    case 'seed-rev1': {
      // The revision under review: caller-locked, so no VM_FAULT_RETRY is possible.
      if (tr) m.trace.decision('REV-1', 'process_vm_rw_single_vec', 'info', 'down_read; get_user_pages_foreign(task, mm, ...); up_read: no retry possible');
      mm.lock.downRead(m.current.pid);
      const r = seedGetUserPagesForeign(m, task, mm, pa, n, write ? 1 : 0, 0, pages, null);
      mm.lock.upRead(m.current.pid);
      return r;
    }
  }
}

function releasePages(m: Machine, pages: number[], write: boolean): void {
  if (m.profile.gup.pin) unpinUserPagesDirtyLock(m, pages, write);
  else {
    for (let i = 0; i < pages.length; i++) {
      if (write) m.pages.setFlag(pages[i]!, PG_dirty);
      putUserPage(m, pages[i]!);
    }
  }
}

/** process_vm_rw_single_vec() */
function rwSingleVec(m: Machine, addr: number, len: number, iter: IovIter, mm: Mm, task: Task, write: boolean): number {
  let pa = addr - (addr % PAGE_SIZE);
  let startOffset = addr - pa;
  if (len === 0) return 0;
  let nrPages = Math.floor((addr + len - 1) / PAGE_SIZE) - Math.floor(addr / PAGE_SIZE) + 1;
  let rc = 0;
  while (!rc && nrPages && iter.count) {
    const pages: number[] = [];
    const pinned = getRemotePages(m, task, mm, pa, Math.min(nrPages, MAX_PAGES_PER_LOOP), write, pages);
    if (pinned <= 0) {
      releasePages(m, pages, false);
      return -EFAULT;
    }
    const bytes = Math.min(pinned * PAGE_SIZE - startOffset, len);
    rc = rwPages(m, pages, startOffset, bytes, iter, write);
    len -= bytes;
    startOffset = 0;
    nrPages -= pinned;
    pa += pinned * PAGE_SIZE;
    releasePages(m, pages, write);
  }
  return rc;
}

/** process_vm_rw(): argument checks in the kernel's order (CON-2), then the transfer (CON-3, CON-4). */
export function processVmRw(m: Machine, pid: number, local: Iovec[], remote: Iovec[], flags: number, write: boolean): number {
  const tr = m.trace.on;
  if (tr) m.trace.enter(write ? 'process_vm_writev' : 'process_vm_readv', `pid=${pid} liovcnt=${local.length} riovcnt=${remote.length}`);
  const r = rw(m, pid, local, remote, flags, write);
  if (tr) m.trace.exit(write ? 'process_vm_writev' : 'process_vm_readv', r);
  return r;
}

function rw(m: Machine, pid: number, local: Iovec[], remote: Iovec[], flags: number, write: boolean): number {
  if (flags !== 0) return -EINVAL;
  if (local.length > UIO_MAXIOV) return -EINVAL;
  // import_iovec(): negative lengths are EINVAL; the total is clamped to MAX_RW_COUNT.
  let total = 0;
  const lv: Iovec[] = [];
  for (const v of local) {
    // iovec_from_user(): an iov_len that is negative as ssize_t (>= 2^63 as given) is EINVAL.
    if (v.len < 0 || v.len >= 2 ** 63) return -EINVAL;
    const n = Math.min(v.len, MAX_RW_COUNT - total);
    lv.push({ base: v.base, len: n });
    total += n;
  }
  if (total === 0) return 0;
  if (remote.length > UIO_MAXIOV) return -EINVAL;
  for (const v of remote) if (v.len < 0 || v.len >= 2 ** 63) return -EINVAL;
  let nrPages = 0;
  for (const v of remote) {
    if (v.len > 0) nrPages = Math.max(nrPages, Math.floor((v.base + v.len) / PAGE_SIZE) - Math.floor(v.base / PAGE_SIZE) + 1);
  }
  if (nrPages === 0) return 0;
  const task = m.task(pid);
  if (!task) return -ESRCH;
  const mm = mmAccess(m, task, PTRACE_MODE_ATTACH | PTRACE_MODE_REALCREDS);
  if (typeof mm === 'number') return mm === -13 ? -EPERM : mm; // EACCES is reported as EPERM
  mm.users++; // mmget via mm_access()
  const iter = new IovIter(lv);
  let rc = 0;
  for (let i = 0; i < remote.length && iter.count && !rc; i++) {
    rc = rwSingleVec(m, remote[i]!.base, remote[i]!.len, iter, mm, task, write);
  }
  const copied = total - iter.count;
  m.mmput(mm);
  return copied ? copied : rc;
}
