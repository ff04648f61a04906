// The 2016 GUP API over the same core walk: the seed patch's revision under review (Jan 15 2016,
// profile linux-4.6-rev1) and v4.6 as merged (profile linux-4.6). write/force are ints, tsk says
// whom faults are charged to (ACC-1), and "foreign" is an explicit variant (GUP-6, GUP-7).
import { EFAULT } from '../kernel/errno.js';
import type { Machine } from '../kernel/machine.js';
import type { Task } from '../kernel/task.js';
import type { Mm } from './mm.js';
import {
  FOLL_FORCE, FOLL_GET, FOLL_HWPOISON, FOLL_NOWAIT, FOLL_REMOTE, FOLL_TOUCH, FOLL_TRIED, FOLL_UNLOCKABLE, FOLL_WRITE,
  __getUserPages, type GupCtx, type Locked,
} from './gup.js';
import type { Vma } from './vma.js';

function wf(write: number, force: number): number {
  return (write ? FOLL_WRITE : 0) | (force ? FOLL_FORCE : 0);
}

/**
 * [2016] __get_user_pages_locked(tsk, mm, ..., locked, notify_drop, flags): the same retry idea as
 * the modern loop, with that era's details: a prefault (no pages) does not insist, the retry runs
 * without ALLOW_RETRY, and no 0 -> -EFAULT conversion.
 */
export function seedGetUserPagesLockedCore(
  m: Machine, tsk: Task | null, mm: Mm, start: number, nrPages: number, flags: number, pages: number[] | null,
  vmas: Vma[] | null, locked: Locked | null, notifyDrop: boolean,
): number {
  const ctx: GupCtx = { tsk };
  const pid = m.current.pid;
  if (pages) flags |= FOLL_GET;
  if (locked === null && !mm.lock.heldBy(pid)) {
    m.klog('warn', `WARNING: ${m.profile.mmapLockName} of mm ${mm.id} not held by pid ${pid} in __get_user_pages`);
  }
  let done = 0;
  let lockDropped = false;
  for (;;) {
    let ret = __getUserPages(m, ctx, mm, start, nrPages, flags | (locked ? FOLL_UNLOCKABLE : 0), pages, vmas, locked);
    if (!locked) return ret; // VM_FAULT_RETRY could not trigger
    if (!pages) return ret; // a prefault does not insist harder
    if (ret > 0) {
      nrPages -= ret;
      done += ret;
      if (!nrPages) break;
    }
    if (locked.locked) {
      if (!done) done = ret;
      break;
    }
    if (ret > 0) start += ret * 4096;
    locked.locked = 1;
    lockDropped = true;
    mm.lock.downRead(pid);
    ret = __getUserPages(m, ctx, mm, start, 1, flags | FOLL_TRIED, pages, null, null);
    if (ret !== 1) {
      if (!done) done = ret;
      break;
    }
    nrPages--;
    done++;
    if (!nrPages) break;
    start += 4096;
  }
  if (notifyDrop && lockDropped && locked.locked) {
    mm.lock.upRead(pid);
    locked.locked = 0;
  }
  return done;
}

/** [2016] the current-only entry points need current->mm; a kworker has none (REV-3). */
function seedCurrentMm(m: Machine, api: string): Mm | null {
  const mm = m.current.mm;
  if (!mm) {
    m.klog('err', `BUG: unable to handle kernel NULL pointer dereference at 0000000000000070 ` +
      `(${api}() uses current->mm; current is ${m.current.comm}[${m.current.pid}], a kernel thread with no mm)`);
    m.klog('err', 'Oops: 0000 [#1] SMP');
  }
  return mm;
}

/** get_user_pages(start, nr_pages, write, force, pages, vmas): current->mm, caller holds mmap_sem. */
export function seedGetUserPages(m: Machine, start: number, nrPages: number, write: number, force: number,
  pages: number[] | null, vmas: Vma[] | null): number {
  const mm = seedCurrentMm(m, 'get_user_pages');
  if (!mm) return -EFAULT;
  return seedGetUserPagesLockedCore(m, m.current, mm, start, nrPages, FOLL_TOUCH | wf(write, force), pages, vmas, null, false);
}

/** get_user_pages_locked(start, nr_pages, write, force, pages, locked): current, may drop the lock. */
export function seedGetUserPagesLocked(m: Machine, start: number, nrPages: number, write: number, force: number,
  pages: number[] | null, locked: Locked): number {
  const mm = seedCurrentMm(m, 'get_user_pages_locked');
  if (!mm) return -EFAULT;
  return seedGetUserPagesLockedCore(m, m.current, mm, start, nrPages, FOLL_TOUCH | wf(write, force), pages, null, locked, true);
}

/** The body shared by the unlocked variants: take mmap_sem, walk with retry, drop it. */
function unlockedCore(m: Machine, tsk: Task | null, mm: Mm, start: number, nrPages: number, flags: number, pages: number[] | null): number {
  const locked: Locked = { locked: 1 };
  mm.lock.downRead(m.current.pid);
  const ret = seedGetUserPagesLockedCore(m, tsk, mm, start, nrPages, flags, pages, null, locked, false);
  if (locked.locked) mm.lock.upRead(m.current.pid);
  return ret;
}

/** get_user_pages_unlocked(start, nr_pages, write, force, pages): current only. */
export function seedGetUserPagesUnlocked(m: Machine, start: number, nrPages: number, write: number, force: number,
  pages: number[] | null): number {
  const mm = seedCurrentMm(m, 'get_user_pages_unlocked');
  if (!mm) return -EFAULT;
  return unlockedCore(m, m.current, mm, start, nrPages, FOLL_TOUCH | wf(write, force), pages);
}

/**
 * __get_user_pages_unlocked(): in v4.6 it keeps tsk/mm (what the review asked for, REV-1); in the
 * revision under review it had lost them and worked on current only.
 */
export function seedGetUserPagesUnlockedTskMm(m: Machine, tsk: Task | null, mm: Mm, start: number, nrPages: number,
  write: number, force: number, pages: number[] | null, gupFlags: number): number {
  return unlockedCore(m, tsk, mm, start, nrPages, gupFlags | wf(write, force), pages);
}

export function seedGetUserPagesUnlockedCurrent(m: Machine, start: number, nrPages: number, write: number, force: number,
  pages: number[] | null, gupFlags: number): number {
  const mm = seedCurrentMm(m, '__get_user_pages_unlocked');
  if (!mm) return -EFAULT;
  return unlockedCore(m, m.current, mm, start, nrPages, gupFlags | wf(write, force), pages);
}

/**
 * get_user_pages_foreign(tsk, mm, ...) (merged as get_user_pages_remote): any mm, caller holds
 * mmap_sem. The reviewed revision did not mark the walk remote yet, so a same-mm "foreign" call
 * was still pkey-checked (REV-4); v4.6 ORs in FOLL_REMOTE.
 */
export function seedGetUserPagesForeign(m: Machine, tsk: Task | null, mm: Mm, start: number, nrPages: number,
  write: number, force: number, pages: number[] | null, vmas: Vma[] | null): number {
  const remote = m.profile.gup.api === 'seed-rev1' ? 0 : FOLL_REMOTE;
  return seedGetUserPagesLockedCore(m, tsk, mm, start, nrPages, FOLL_TOUCH | remote | wf(write, force), pages, vmas, null, false);
}

/** get_user_page_nowait(start, write, page): KVM's async probe, current->mm, caller holds mmap_sem. */
export function seedGetUserPageNowait(m: Machine, start: number, write: number, pages: number[]): number {
  const mm = seedCurrentMm(m, 'get_user_page_nowait');
  if (!mm) return -EFAULT;
  const flags = FOLL_TOUCH | FOLL_NOWAIT | FOLL_HWPOISON | FOLL_GET | (write ? FOLL_WRITE : 0);
  return __getUserPages(m, { tsk: m.current }, mm, start, 1, flags, pages, null, null);
}
