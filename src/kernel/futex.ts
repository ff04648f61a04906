// futex(FUTEX_WAIT) (kernel/futex/core.c: get_futex_key(), futex_wait_setup()). Private futexes
// need no GUP; shared ones look the page up with get_user_pages_fast() (local: PKRU applies),
// and the value is read by uaccess (CON-11).
import { ACC_READ, mmuAccess } from '../hw/mmu.js';
import { PAGE_SIZE } from '../hw/pte.js';
import { FOLL_WRITE, getUserPagesFast, putUserPage } from '../mm/gup.js';
import { EAGAIN, EFAULT, EINVAL, ENOSYS, ETIMEDOUT } from './errno.js';
import type { Machine } from './machine.js';
import { accessOk, copyFromUser } from './uaccess.js';

export const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_PRIVATE_FLAG = 128;

/** get_futex_key() for a shared futex: 0 or -errno. */
function getFutexKeyShared(m: Machine, uaddr: number): number {
  const pages: number[] = [];
  let ro = false;
  let err = getUserPagesFast(m, uaddr - (uaddr % PAGE_SIZE), 1, FOLL_WRITE, pages);
  if (err === -EFAULT) {
    // FUTEX_WAIT only reads: try read-only access.
    err = getUserPagesFast(m, uaddr - (uaddr % PAGE_SIZE), 1, 0, pages);
    ro = true;
  }
  if (err < 0) return err;
  const page = pages[0]!;
  const anon = page !== 0 && m.pages.isAnon(page);
  putUserPage(m, page);
  // A read-only anonymous page never changes: useless for futexes.
  if ((anon || page === 0) && ro) return -EFAULT;
  return 0;
}

/**
 * futex(uaddr, FUTEX_WAIT[|FUTEX_PRIVATE_FLAG], val): -EAGAIN if *uaddr != val. The model does not
 * schedule, so a wait that would sleep returns as if its timeout expired (-ETIMEDOUT).
 */
export function sysFutexWait(m: Machine, uaddr: number, op: number, val: number): number {
  const cmd = op & ~FUTEX_PRIVATE_FLAG;
  if (cmd !== FUTEX_WAIT) return -ENOSYS;
  if (uaddr % 4) return -EINVAL;
  if (!accessOk(uaddr, 4)) return -EFAULT;
  if (!(op & FUTEX_PRIVATE_FLAG)) {
    const k = getFutexKeyShared(m, uaddr);
    if (k) return k;
  }
  // futex_get_value_locked() with faults disabled, then get_user() with faults enabled.
  const task = m.current;
  let word = new Uint8Array(4);
  const r = mmuAccess(m.mem, { cr3: task.mm!.pgd, pkru: task.pkru, pke: m.pke, wp: true }, uaddr, ACC_READ, false);
  if (r >= 0) word = m.mem.frame(r).slice(uaddr % PAGE_SIZE, (uaddr % PAGE_SIZE) + 4);
  else if (copyFromUser(m, uaddr, word)) return -EFAULT;
  const cur = new DataView(word.buffer).getUint32(0, true);
  if (cur !== val >>> 0) return -EAGAIN;
  return -ETIMEDOUT;
}
