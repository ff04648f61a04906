// get_user_pages(): one core walk and thin API variants around it (mm/gup.c).
// The core follows the modern kernel (GUP-13..GUP-22 in SEMANTICS.md); the 2016 API of the seed
// patch and of v4.6 is a set of thin wrappers over the same core (src/mm/gup_seed.ts).
import { PTE_A, PTE_D, PTE_P, PTE_PROTNONE, PTE_RW, PTE_US, PTE_SPECIAL, TASK_SIZE_MAX, ptePfn, ptePkey } from '../hw/pte.js';
import { pkruAllowsRead, pkruAllowsWrite } from '../hw/pkru.js';
import { EFAULT, EAGAIN, EEXIST, EHWPOISON, EINTR, EINVAL, ENOMEM, EOVERFLOW } from '../kernel/errno.js';
import type { Machine } from '../kernel/machine.js';
import type { Task } from '../kernel/task.js';
import type { Mm } from './mm.js';
import {
  FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_INTERRUPTIBLE, FAULT_FLAG_KILLABLE, FAULT_FLAG_REMOTE, FAULT_FLAG_RETRY_NOWAIT,
  FAULT_FLAG_TRIED, FAULT_FLAG_UNSHARE, FAULT_FLAG_WRITE, VM_FAULT_COMPLETED, VM_FAULT_ERROR, VM_FAULT_HWPOISON,
  VM_FAULT_MAJOR, VM_FAULT_OOM, VM_FAULT_RETRY, handleMmFault, vmNormalPage,
} from './memory.js';
import { GUP_PIN_COUNTING_BIAS, PG_anon_exclusive, PG_dirty, PG_hwpoison, PG_referenced, PG_swapbacked, ZERO_PFN } from './page.js';
import { pteLookup, readPteHi, readPteLo, writePte } from './pgtable.js';
import { archVmaAccessPermitted } from './pkeys.js';
import { expandStack } from './mmap.js';
import {
  VM_IO, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_PFNMAP, VM_READ, VM_SHARED, VM_WRITE, isCowMapping, vmaIsAccessible,
  type Vma,
} from './vma.js';

// External flags (include/linux/mm_types.h: enum foll_flags) — GUP-10.
export const FOLL_WRITE = 1 << 0;
export const FOLL_GET = 1 << 1;
export const FOLL_DUMP = 1 << 2;
export const FOLL_FORCE = 1 << 3;
export const FOLL_NOWAIT = 1 << 4;
export const FOLL_NOFAULT = 1 << 5;
export const FOLL_HWPOISON = 1 << 6;
export const FOLL_ANON = 1 << 7;
export const FOLL_LONGTERM = 1 << 8;
export const FOLL_SPLIT_PMD = 1 << 9;
export const FOLL_PCI_P2PDMA = 1 << 10;
export const FOLL_INTERRUPTIBLE = 1 << 11;
export const FOLL_HONOR_NUMA_FAULT = 1 << 12;
// Internal flags (mm/internal.h) — GUP-11.
export const FOLL_TOUCH = 1 << 16;
export const FOLL_TRIED = 1 << 17;
export const FOLL_REMOTE = 1 << 18;
export const FOLL_PIN = 1 << 19;
export const FOLL_FAST_ONLY = 1 << 20;
export const FOLL_UNLOCKABLE = 1 << 21;
export const FOLL_MADV_POPULATE = 1 << 22;
const INTERNAL_FLAGS = FOLL_TOUCH | FOLL_TRIED | FOLL_REMOTE | FOLL_PIN | FOLL_FAST_ONLY | FOLL_UNLOCKABLE | FOLL_MADV_POPULATE;

export const FOLL_NAMES: [number, string][] = [
  [FOLL_WRITE, 'FOLL_WRITE'], [FOLL_GET, 'FOLL_GET'], [FOLL_DUMP, 'FOLL_DUMP'], [FOLL_FORCE, 'FOLL_FORCE'],
  [FOLL_NOWAIT, 'FOLL_NOWAIT'], [FOLL_NOFAULT, 'FOLL_NOFAULT'], [FOLL_HWPOISON, 'FOLL_HWPOISON'], [FOLL_ANON, 'FOLL_ANON'],
  [FOLL_LONGTERM, 'FOLL_LONGTERM'], [FOLL_SPLIT_PMD, 'FOLL_SPLIT_PMD'], [FOLL_PCI_P2PDMA, 'FOLL_PCI_P2PDMA'],
  [FOLL_INTERRUPTIBLE, 'FOLL_INTERRUPTIBLE'], [FOLL_HONOR_NUMA_FAULT, 'FOLL_HONOR_NUMA_FAULT'], [FOLL_TOUCH, 'FOLL_TOUCH'],
  [FOLL_TRIED, 'FOLL_TRIED'], [FOLL_REMOTE, 'FOLL_REMOTE'], [FOLL_PIN, 'FOLL_PIN'], [FOLL_FAST_ONLY, 'FOLL_FAST_ONLY'],
  [FOLL_UNLOCKABLE, 'FOLL_UNLOCKABLE'], [FOLL_MADV_POPULATE, 'FOLL_MADV_POPULATE'],
];

export function follNames(f: number): string {
  const n = FOLL_NAMES.filter(([b]) => f & b).map(([, s]) => s);
  return n.length ? n.join('|') : '0';
}

/** The caller's lock state: null = caller holds mmap_lock and it is never dropped (GUP-20). */
export interface Locked {
  locked: number;
}

/** Where faults are charged. Modern kernels always charge current (ACC-2); 2016 passed a tsk (ACC-1). */
export interface GupCtx {
  /** [2016] the tsk argument (null: nobody is charged). Ignored by modern profiles. */
  tsk: Task | null;
}

const MODERN: GupCtx = { tsk: null };

/** Results of following one entry (GUP-16). Non-negative values are pfns. */
const FOLLOW_NOT_MAPPED = -10001;
const FOLLOW_UNSHARE = -10002;
const FOLLOW_NO_PAGE = -10003;

// ---------------------------------------------------------------- references (OBJ-12)

/** try_grab_folio(): one GET or PIN reference. The zero page is never pinned. */
export function tryGrabPage(m: Machine, pfn: number, flags: number): void {
  if (flags & FOLL_PIN) {
    if (pfn === ZERO_PFN) return;
    m.pages.refcount[pfn]! += GUP_PIN_COUNTING_BIAS;
    m.pages.pincount[pfn]!++;
  } else if (flags & FOLL_GET) {
    if (pfn === ZERO_PFN) return;
    m.pages.get(pfn);
    m.pages.getrefs[pfn]!++;
  }
}

/** put_page() for a page obtained with FOLL_GET. */
export function putUserPage(m: Machine, pfn: number): void {
  if (pfn === ZERO_PFN) return;
  const n = m.pages.getrefs[pfn]!;
  if (n <= 0) {
    m.klog('warn', `WARNING: put_page() of pfn 0x${pfn.toString(16)} without a FOLL_GET reference (pinned page released with put_page?)`);
    return;
  }
  m.pages.getrefs[pfn] = n - 1;
  m.pages.put(pfn);
}

/** unpin_user_page() (gup_put_folio() with FOLL_PIN). */
export function unpinUserPage(m: Machine, pfn: number): void {
  if (pfn === ZERO_PFN) return;
  if (m.pages.pincount[pfn]! <= 0) {
    m.klog('warn', `WARNING: unpin_user_page() of pfn 0x${pfn.toString(16)} that is not pinned (FOLL_GET page released with unpin?)`);
    return;
  }
  m.pages.pincount[pfn]!--;
  m.pages.put(pfn, GUP_PIN_COUNTING_BIAS);
}

// Per-page loops over page arrays index them: a for-of over a 262,144-entry array ran ~4x slower
// under Node 24's optimizing compilers here (io_uring unregister, bench pin-fast).
export function unpinUserPages(m: Machine, pages: number[]): void {
  for (let i = 0; i < pages.length; i++) unpinUserPage(m, pages[i]!);
}

/** unpin_user_pages_dirty_lock(): mark written pages dirty, then unpin. */
export function unpinUserPagesDirtyLock(m: Machine, pages: number[], makeDirty: boolean): void {
  for (let i = 0; i < pages.length; i++) {
    const p = pages[i]!;
    if (makeDirty && p !== ZERO_PFN) m.pages.setFlag(p, PG_dirty);
    unpinUserPage(m, p);
  }
}

// ---------------------------------------------------------------- the walk

/** mm/gup.c: check_vma_flags() (GUP-4.4). */
export function checkVmaFlags(m: Machine, vma: Vma, flags: number): number {
  const f = vma.flags;
  const write = (flags & FOLL_WRITE) !== 0;
  const tr = m.trace.on;
  if (f & (VM_IO | VM_PFNMAP)) return deny(m, 'VM_IO/VM_PFNMAP mapping');
  if (flags & FOLL_ANON && !vma.isAnonymous()) return deny(m, 'FOLL_ANON on a file mapping');
  if (write) {
    // writable_file_mapping_allowed(): a long-term write pin of a file that needs dirty tracking.
    if (m.profile.gup.longtermDirtyTrackedRefused && !vma.isAnonymous() && (flags & (FOLL_PIN | FOLL_LONGTERM)) === (FOLL_PIN | FOLL_LONGTERM) &&
      vmaNeedsDirtyTracking(vma)) return deny(m, 'FOLL_LONGTERM write pin of a dirty-tracked file mapping');
    if (!(f & VM_WRITE)) {
      if (!(flags & FOLL_FORCE)) return deny(m, 'write to a VMA without VM_WRITE, no FOLL_FORCE');
      if (!isCowMapping(f)) return deny(m, 'FOLL_FORCE write to a shared (non-COW) mapping');
      if (tr) m.trace.decision('GUP-13', 'check_vma_flags', 'bypass', 'FOLL_FORCE: write to read-only private mapping allowed (COW)');
    }
  } else if (!(f & VM_READ)) {
    if (!(flags & FOLL_FORCE)) return deny(m, 'read of a VMA without VM_READ, no FOLL_FORCE');
    if (!(f & VM_MAYREAD)) return deny(m, 'FOLL_FORCE read of a VMA without VM_MAYREAD');
    if (tr) m.trace.decision('GUP-13', 'check_vma_flags', 'bypass', 'FOLL_FORCE: read of an unreadable VMA allowed');
  }
  if (!archVmaAccessPermitted(m, vma, write, false, (flags & FOLL_REMOTE) !== 0)) return deny(m, `pkey ${vma.pkey} denied by current's PKRU`);
  return 0;
}

function deny(m: Machine, why: string): number {
  if (m.trace.on) m.trace.decision('GUP-4.4', 'check_vma_flags', 'deny', `-EFAULT: ${why}`);
  return -EFAULT;
}

/** vma_needs_dirty_tracking(): a shared writable mapping of a file with writeback (not shmem). */
function vmaNeedsDirtyTracking(vma: Vma): boolean {
  return (vma.flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE) && vma.file !== null && vma.file.kind === 'reg';
}

/** can_follow_write_pte() (v6.0+): FOLL_FORCE may use a read-only PTE only of an exclusive anon page. */
function canFollowWrite(m: Machine, lo: number, page: number, vma: Vma, flags: number): boolean {
  if (lo & PTE_RW) return true;
  if (!(flags & FOLL_FORCE)) return false;
  if (vma.flags & (VM_SHARED | VM_MAYSHARE)) return false;
  if (!(vma.flags & VM_MAYWRITE)) return false;
  if (vma.flags & VM_WRITE) return false;
  if (page < 0 || !m.pages.isAnon(page)) return false;
  return m.pages.testFlag(page, PG_anon_exclusive);
}

/** gup_must_unshare(): a read-only pin of a shared anon page must unshare it first. */
function mustUnshare(m: Machine, vma: Vma, flags: number, page: number): boolean {
  if ((flags & (FOLL_WRITE | FOLL_PIN)) !== FOLL_PIN) return false;
  // Only R/O long-term pins care about file pages in a private mapping.
  if (page === ZERO_PFN || !m.pages.isAnon(page)) return (flags & FOLL_LONGTERM) !== 0 && isCowMapping(vma.flags);
  return !m.pages.testFlag(page, PG_anon_exclusive);
}

/** follow_page_pte() (GUP-16): the page mapped at addr with a reference taken, or a FOLLOW_* verdict. */
function followPage(m: Machine, vma: Vma, addr: number, flags: number): number {
  const p = pteLookup(m, vma.mm, addr);
  if (p < 0) return flags & FOLL_DUMP && vma.isAnonymous() ? -EFAULT : FOLLOW_NOT_MAPPED;
  const lo = readPteLo(m.mem, p);
  const hi = readPteHi(m.mem, p);
  if (!(lo & PTE_P)) {
    if (lo & PTE_PROTNONE && !(flags & FOLL_HONOR_NUMA_FAULT)) {
      // can_follow_protnone(): a PROT_NONE entry is followed unless NUMA faults are honoured.
    } else {
      if (lo === 0 && hi === 0 && flags & FOLL_DUMP && vma.isAnonymous()) return -EFAULT;
      return FOLLOW_NOT_MAPPED;
    }
  }
  let page = vmNormalPage(lo, hi);
  if (flags & FOLL_WRITE && !canFollowWrite(m, lo, page, vma, flags)) return FOLLOW_NOT_MAPPED;
  if (page < 0) {
    if (flags & FOLL_DUMP) return -EFAULT; // no struct page: a hole in a core dump
    if (ptePfn(lo, hi) !== ZERO_PFN) return flags & (FOLL_GET | FOLL_PIN) ? -EFAULT : FOLLOW_NO_PAGE; // follow_pfn_pte()
    page = ZERO_PFN;
  }
  if (!(lo & PTE_RW) && mustUnshare(m, vma, flags, page)) return FOLLOW_UNSHARE;
  if (page !== ZERO_PFN && m.pages.testFlag(page, PG_hwpoison)) return flags & FOLL_HWPOISON ? -EHWPOISON : -EFAULT;
  tryGrabPage(m, page, flags);
  if (flags & FOLL_TOUCH && page !== ZERO_PFN) {
    if (flags & FOLL_WRITE && !(lo & PTE_D)) m.pages.setFlag(page, PG_dirty);
    m.pages.setFlag(page, PG_referenced);
  }
  return page;
}

/** faultin_page() (GUP-17 modern, GUP-18 for the 2016 accounting). 0, or -EBUSY/-EAGAIN/-errno. */
function faultinPage(m: Machine, ctx: GupCtx, vma: Vma, addr: number, flags: number, unshare: boolean, locked: Locked | null): number {
  if (flags & FOLL_NOFAULT) return -EFAULT;
  let ff = 0;
  if (flags & FOLL_WRITE) ff |= FAULT_FLAG_WRITE;
  if (flags & FOLL_REMOTE) ff |= FAULT_FLAG_REMOTE;
  if (flags & FOLL_UNLOCKABLE) {
    ff |= FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE;
    if (flags & FOLL_INTERRUPTIBLE) ff |= FAULT_FLAG_INTERRUPTIBLE;
  }
  if (flags & FOLL_NOWAIT) ff |= FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_RETRY_NOWAIT;
  if (flags & FOLL_TRIED) ff |= FAULT_FLAG_TRIED;
  if (unshare) ff |= FAULT_FLAG_UNSHARE;
  const ret = handleMmFault(m, vma, addr, ff);
  if (m.profile.faultAccounting === 'tsk' && !(ret & VM_FAULT_ERROR) && ctx.tsk) {
    // [2016] counted before the RETRY check, so a retried fault counts twice (ACC-1).
    if (ret & VM_FAULT_MAJOR) ctx.tsk.majFlt++;
    else ctx.tsk.minFlt++;
  }
  if (ret & VM_FAULT_COMPLETED) {
    if (locked) locked.locked = 0;
    return -EAGAIN;
  }
  if (ret & VM_FAULT_ERROR) {
    if (ret & VM_FAULT_OOM) return -ENOMEM;
    if (ret & VM_FAULT_HWPOISON) return flags & FOLL_HWPOISON ? -EHWPOISON : -EFAULT;
    return -EFAULT;
  }
  if (ret & VM_FAULT_RETRY) {
    if (!(ff & FAULT_FLAG_RETRY_NOWAIT) && locked) locked.locked = 0;
    return -16; // -EBUSY
  }
  return 0;
}

/** __get_user_pages() (GUP-4.5): the single core loop. Returns pages done, or -errno. */
export function __getUserPages(
  m: Machine, ctx: GupCtx, mm: Mm, start: number, nrPages: number, flags: number,
  pages: number[] | null, vmas: Vma[] | null, locked: Locked | null,
): number {
  if (nrPages === 0) return 0;
  const tr = m.trace.on;
  if (tr) m.trace.enter('__get_user_pages', `start=0x${start.toString(16)} nr_pages=${nrPages} gup_flags=${follNames(flags)}`);
  let i = 0;
  let err = 0;
  let vma: Vma | null = null;
  outer: while (nrPages > 0) {
    if (vma === null || start >= vma.end) {
      vma = mm.vmaLookup(start);
      if (flags & FOLL_MADV_POPULATE) {
        if (!vma) { err = -ENOMEM; break; }
        if (checkVmaFlags(m, vma, flags)) { err = -EINVAL; break; }
      } else {
        if (!vma && !m.profile.gupNoStackExpand) {
          // Before v6.5 GUP grew a VM_GROWSDOWN stack like a user fault would.
          const next = mm.findVma(start);
          if (next && next.flags & 0x100 && expandStack(m, next, start) === 0) vma = mm.vmaLookup(start);
        }
        if (!vma) {
          if (tr) m.trace.decision('GUP-4.5', 'vma_lookup', 'deny', `no VMA at 0x${start.toString(16)}: -EFAULT`);
          err = -EFAULT;
          break;
        }
        err = checkVmaFlags(m, vma, flags);
        if (err) break;
      }
    }
    for (;;) {
      if (m.current.fatalPending) { err = -EINTR; break outer; }
      const r = followPage(m, vma, start, flags);
      if (r === FOLLOW_NOT_MAPPED || r === FOLLOW_UNSHARE) {
        const f = faultinPage(m, ctx, vma, start, flags, r === FOLLOW_UNSHARE, locked);
        if (f === 0) continue;
        if (f === -16 || f === -EAGAIN) { err = 0; break outer; }
        err = f;
        break outer;
      }
      if (r === FOLLOW_NO_PAGE) {
        if (pages) { err = -EEXIST; break outer; }
        break;
      }
      if (r < 0) { err = r; break outer; }
      if (pages) pages.push(r);
      else if (r >= 0) releaseFollowed(m, r, flags);
      if (vmas) vmas.push(vma);
      break;
    }
    i++;
    start += 4096;
    nrPages--;
  }
  const ret = i > 0 ? i : err;
  if (tr) m.trace.exit('__get_user_pages', ret);
  return ret;
}

/** follow_page() took a reference only if GET/PIN was asked for; nothing to drop otherwise. */
function releaseFollowed(_m: Machine, _pfn: number, _flags: number): void {}

/** is_valid_gup_args() (GUP-12): false means the API's bad-args result. */
export function isValidGupArgs(m: Machine, pages: number[] | null, locked: Locked | null, flags: number, toSet: number): boolean {
  if (flags & INTERNAL_FLAGS) return warn(m, 'internal FOLL_ flag passed by a caller');
  if (locked) {
    if (locked.locked !== 1) return warn(m, '*locked must be 1');
    toSet |= FOLL_UNLOCKABLE;
  }
  flags |= toSet;
  if ((flags & (FOLL_GET | FOLL_PIN)) === (FOLL_GET | FOLL_PIN)) return warn(m, 'FOLL_GET and FOLL_PIN together');
  if (flags & FOLL_LONGTERM && !(flags & FOLL_PIN)) return warn(m, 'FOLL_LONGTERM without FOLL_PIN');
  if (flags & (FOLL_GET | FOLL_PIN) && !pages) return warn(m, 'FOLL_GET/FOLL_PIN without a pages array');
  if (flags & FOLL_LONGTERM && flags & FOLL_PCI_P2PDMA) return warn(m, 'FOLL_LONGTERM with FOLL_PCI_P2PDMA');
  return true;
}

function warn(m: Machine, what: string): false {
  m.klog('warn', `WARNING: CPU: 0 PID: ${m.current.pid} at mm/gup.c is_valid_gup_args: ${what}`);
  return false;
}

/** __get_user_pages_locked() (GUP-19): the lock protocol and retry loop around the core. */
export function getUserPagesLocked(
  m: Machine, ctx: GupCtx, mm: Mm, start: number, nrPages: number, pages: number[] | null, vmas: Vma[] | null,
  locked: Locked | null, flags: number,
): number {
  if (nrPages === 0) return 0;
  const pid = m.current.pid;
  let mustUnlock = false;
  const lk: Locked = locked ?? { locked: 1 };
  if (locked === null) {
    // Caller holds mmap_lock (GUP-20); lockdep would complain if it does not.
    if (!mm.lock.heldBy(pid)) {
      m.klog('warn', `WARNING: possible missing lock: ${m.profile.mmapLockName} of mm ${mm.id} not held by pid ${pid} in __get_user_pages (lockdep_assert_held)`);
    }
  } else if (lk.locked === 0) {
    mm.lock.downRead(pid);
    mustUnlock = true;
    lk.locked = 1;
  }
  if (flags & FOLL_PIN) mm.hasPinned = true;
  if (pages && !(flags & FOLL_PIN)) flags |= FOLL_GET;
  let done = 0;
  if (!(flags & FOLL_UNLOCKABLE)) {
    done = __getUserPages(m, ctx, mm, start, nrPages, flags, pages, vmas, null);
  } else {
    let r = __getUserPages(m, ctx, mm, start, nrPages, flags, pages, vmas, lk);
    for (;;) {
      if (r > 0) {
        nrPages -= r;
        done += r;
        if (nrPages === 0) break;
      }
      if (lk.locked) {
        if (done === 0) done = r;
        break;
      }
      // The lock was dropped for a retry: take it again and fault the next page with TRIED.
      if (r > 0) start += r * 4096;
      mustUnlock = true;
      let retried = false;
      for (;;) {
        if (m.current.fatalPending) {
          if (done === 0) done = -EINTR;
          retried = true;
          break;
        }
        mm.lock.downRead(pid);
        lk.locked = 1;
        r = __getUserPages(m, ctx, mm, start, 1, flags | FOLL_TRIED, pages, vmas, lk);
        if (!lk.locked) continue;
        break;
      }
      if (retried) break;
      if (r !== 1) {
        if (done === 0) done = r;
        break;
      }
      nrPages--;
      done++;
      if (nrPages === 0) break;
      start += 4096;
      r = __getUserPages(m, ctx, mm, start, nrPages, flags, pages, vmas, lk);
    }
  }
  if (mustUnlock && lk.locked) {
    mm.lock.upRead(pid);
    lk.locked = 0;
  }
  if (locked) locked.locked = lk.locked;
  if (done === 0 && !(flags & FOLL_NOWAIT)) return -EFAULT;
  return done;
}

// ---------------------------------------------------------------- the modern API (GUP-8)

function currentMm(m: Machine, api: string): Mm | null {
  const mm = m.current.mm;
  if (!mm) {
    m.klog('err', `BUG: kernel NULL pointer dereference, address: 0000000000000070 (${api} called by ${m.current.comm}[${m.current.pid}], which has no mm)`);
  }
  return mm;
}

/** get_user_pages(): current->mm, caller holds the lock, never dropped. */
export function getUserPages(m: Machine, start: number, nrPages: number, flags: number, pages: number[] | null): number {
  if (!isValidGupArgs(m, pages, null, flags, FOLL_TOUCH)) return -EINVAL;
  const mm = currentMm(m, 'get_user_pages');
  if (!mm) return -EFAULT;
  return getUserPagesLocked(m, MODERN, mm, start, nrPages, pages, null, null, flags | FOLL_TOUCH);
}

/** get_user_pages_unlocked(): current->mm, GUP takes and drops the lock itself. */
export function getUserPagesUnlocked(m: Machine, start: number, nrPages: number, pages: number[] | null, flags: number): number {
  if (!isValidGupArgs(m, pages, null, flags, FOLL_TOUCH | FOLL_UNLOCKABLE)) return -EINVAL;
  const mm = currentMm(m, 'get_user_pages_unlocked');
  if (!mm) return -EFAULT;
  return getUserPagesLocked(m, MODERN, mm, start, nrPages, pages, null, { locked: 0 }, flags | FOLL_TOUCH | FOLL_UNLOCKABLE);
}

/** get_user_pages_remote(): any mm; FOLL_REMOTE, so no pkey check. */
export function getUserPagesRemote(m: Machine, mm: Mm, start: number, nrPages: number, flags: number, pages: number[] | null, locked: Locked | null): number {
  if (!isValidGupArgs(m, pages, locked, flags, FOLL_TOUCH | FOLL_REMOTE)) return -EINVAL;
  const f = flags | FOLL_TOUCH | FOLL_REMOTE | (locked ? FOLL_UNLOCKABLE : 0);
  return getUserPagesLocked(m, MODERN, mm, start, nrPages, pages, null, locked, f);
}

/** pin_user_pages(): FOLL_PIN on current->mm; bad arguments give 0. */
export function pinUserPages(m: Machine, start: number, nrPages: number, flags: number, pages: number[] | null): number {
  if (!isValidGupArgs(m, pages, null, flags, FOLL_PIN)) return 0;
  const mm = currentMm(m, 'pin_user_pages');
  if (!mm) return -EFAULT;
  return getUserPagesLocked(m, MODERN, mm, start, nrPages, pages, null, null, flags | FOLL_PIN);
}

export function pinUserPagesUnlocked(m: Machine, start: number, nrPages: number, pages: number[] | null, flags: number): number {
  if (!isValidGupArgs(m, pages, null, flags, FOLL_PIN | FOLL_TOUCH | FOLL_UNLOCKABLE)) return 0;
  const mm = currentMm(m, 'pin_user_pages_unlocked');
  if (!mm) return -EFAULT;
  return getUserPagesLocked(m, MODERN, mm, start, nrPages, pages, null, { locked: 0 }, flags | FOLL_PIN | FOLL_TOUCH | FOLL_UNLOCKABLE);
}

export function pinUserPagesRemote(m: Machine, mm: Mm, start: number, nrPages: number, flags: number, pages: number[] | null, locked: Locked | null): number {
  if (!isValidGupArgs(m, pages, locked, flags, FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE)) return 0;
  const f = flags | FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE | (locked ? FOLL_UNLOCKABLE : 0);
  return getUserPagesLocked(m, MODERN, mm, start, nrPages, pages, null, locked, f);
}

/** get_user_page_vma_remote(): one page and its VMA; NOWAIT is rejected. */
export function getUserPageVmaRemote(m: Machine, mm: Mm, addr: number, flags: number): { page: number; vma: Vma } | number {
  if (flags & FOLL_NOWAIT) return -EINVAL;
  const pages: number[] = [];
  const got = getUserPagesRemote(m, mm, addr, 1, flags, pages, null);
  if (got < 0) return got;
  if (got === 0) return -EFAULT;
  const vma = mm.vmaLookup(addr);
  if (!vma) {
    putUserPage(m, pages[0]!);
    return -EFAULT;
  }
  return { page: pages[0]!, vma };
}

// ---------------------------------------------------------------- GUP-fast (GUP-22)

const FAST_ALLOWED = FOLL_WRITE | FOLL_LONGTERM | FOLL_FORCE | FOLL_PIN | FOLL_GET | FOLL_FAST_ONLY | FOLL_NOFAULT |
  FOLL_PCI_P2PDMA | FOLL_HONOR_NUMA_FAULT;

/** pte_access_permitted(): P, US (and RW for write) and current's PKRU for the PTE's key. */
function pteAccessPermitted(m: Machine, lo: number, hi: number, write: boolean): boolean {
  if ((lo & (PTE_P | PTE_US)) !== (PTE_P | PTE_US)) return false;
  if (write && !(lo & PTE_RW)) return false;
  if (!m.pke) return true;
  const key = ptePkey(hi);
  const pkru = m.current.pkru;
  const ok = write ? pkruAllowsWrite(pkru, key) : pkruAllowsRead(pkru, key);
  if (!ok && m.trace.on) m.trace.decision('GUP-2', 'gup_fast: pte_access_permitted', 'deny',
    `PTE pkey ${key} vs PKRU of pid ${m.current.pid} = 0x${pkru.toString(16).padStart(8, '0')}: fall back to the slow path`);
  return ok;
}

/** The lockless walk: stops without error at the first entry it cannot use. */
function gupFastWalk(m: Machine, mm: Mm, start: number, nrPages: number, flags: number, pages: number[]): number {
  let got = 0;
  for (let addr = start; got < nrPages; addr += 4096) {
    const p = pteLookup(m, mm, addr);
    if (p < 0) break;
    const lo = readPteLo(m.mem, p);
    const hi = readPteHi(m.mem, p);
    if (!(lo & PTE_P) || !pteAccessPermitted(m, lo, hi, (flags & FOLL_WRITE) !== 0)) break;
    if (lo & PTE_SPECIAL) break; // pte_special(): no struct page to grab (zero page included)
    const page = ptePfn(lo, hi);
    if (m.pages.testFlag(page, PG_hwpoison)) break;
    // folio_fast_pin_allowed(): long-term write pins of file pages (other than shmem) need the VMA.
    if ((flags & (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE)) === (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE) &&
      !m.pages.isAnon(page) && !m.pages.testFlag(page, PG_swapbacked)) break;
    if ((flags & (FOLL_PIN | FOLL_WRITE)) === FOLL_PIN && !(lo & PTE_RW) && m.pages.isAnon(page) &&
      !m.pages.testFlag(page, PG_anon_exclusive)) break; // gup_must_unshare()
    tryGrabPage(m, page, flags);
    if (flags & FOLL_WRITE && !(lo & PTE_D)) writePte(m, p, lo | PTE_D | PTE_A, hi);
    pages.push(page);
    got++;
  }
  return got;
}

/** gup_fast_fallback(): lockless walk of current->mm, then the slow path for the rest. */
function gupFastFallback(m: Machine, start: number, nrPages: number, flags: number, pages: number[]): number {
  if (flags & ~FAST_ALLOWED) return -EINVAL;
  const mm = m.current.mm;
  if (!mm) return -EFAULT;
  if (flags & FOLL_PIN) mm.hasPinned = true;
  const len = nrPages * 4096;
  if (start + len > Number.MAX_SAFE_INTEGER) return -EOVERFLOW;
  if (start + len > TASK_SIZE_MAX) return -EFAULT;
  const tr = m.trace.on;
  if (tr) m.trace.enter('gup_fast', `start=0x${start.toString(16)} nr_pages=${nrPages} flags=${follNames(flags)} (lockless, current->mm)`);
  const got = gupFastWalk(m, mm, start, nrPages, flags, pages);
  if (tr) m.trace.exit('gup_fast', got);
  if (got === nrPages || flags & FOLL_FAST_ONLY) return got;
  const r = getUserPagesLocked(m, MODERN, mm, start + got * 4096, nrPages - got, pages, null, { locked: 0 },
    flags | FOLL_TOUCH | FOLL_UNLOCKABLE);
  if (r < 0) return got > 0 ? got : r;
  return got + r;
}

export function getUserPagesFast(m: Machine, start: number, nrPages: number, flags: number, pages: number[]): number {
  if (!isValidGupArgs(m, pages, null, flags, FOLL_GET)) return -EINVAL;
  return gupFastFallback(m, start, nrPages, flags | FOLL_GET, pages);
}

export function getUserPagesFastOnly(m: Machine, start: number, nrPages: number, flags: number, pages: number[]): number {
  if (!isValidGupArgs(m, pages, null, flags, FOLL_GET | FOLL_FAST_ONLY)) return -EINVAL;
  return gupFastFallback(m, start, nrPages, flags | FOLL_GET | FOLL_FAST_ONLY, pages);
}

export function pinUserPagesFast(m: Machine, start: number, nrPages: number, flags: number, pages: number[]): number {
  if (!isValidGupArgs(m, pages, null, flags, FOLL_PIN)) return -EINVAL;
  return gupFastFallback(m, start, nrPages, flags | FOLL_PIN, pages);
}

// ---------------------------------------------------------------- other entry points

/** fixup_user_fault() (GUP-23): a fault on behalf of futex & co; no FOLL_FORCE, pkey-checked via vma_permits_fault(). */
export function fixupUserFault(m: Machine, mm: Mm, addr: number, faultFlags: number): number {
  const vma = mm.vmaLookup(addr);
  if (!vma) return -EFAULT;
  const write = (faultFlags & FAULT_FLAG_WRITE) !== 0;
  if (!(vma.flags & (write ? VM_WRITE : VM_READ))) return -EFAULT;
  if (!archVmaAccessPermitted(m, vma, write, false, (faultFlags & FAULT_FLAG_REMOTE) !== 0)) return -EFAULT;
  const ret = handleMmFault(m, vma, addr, faultFlags);
  if (ret & VM_FAULT_ERROR) return ret & VM_FAULT_OOM ? -ENOMEM : -EFAULT;
  return 0;
}

/** get_dump_page() (CON-18): local, FOLL_FORCE|FOLL_DUMP|FOLL_GET; null = a hole in the core. */
export function getDumpPage(m: Machine, addr: number): number | null {
  const mm = m.current.mm;
  if (!mm) return null;
  const pages: number[] = [];
  const r = getUserPagesLocked(m, MODERN, mm, addr, 1, pages, null, { locked: 0 }, FOLL_FORCE | FOLL_DUMP | FOLL_GET | FOLL_UNLOCKABLE);
  return r === 1 ? pages[0]! : null;
}

export { vmaIsAccessible };
