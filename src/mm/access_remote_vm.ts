// Access another address space through GUP (mm/memory.c: __access_remote_vm(),
// access_remote_vm(), access_process_vm()). Remote: FOLL_REMOTE, so no pkey check, ever.
import { PhysMem } from '../hw/physmem.js';
import { PAGE_SIZE } from '../hw/pte.js';
import type { Machine } from '../kernel/machine.js';
import type { Task } from '../kernel/task.js';
import type { Mm } from './mm.js';
import { FOLL_FORCE, FOLL_WRITE, getUserPageVmaRemote, putUserPage } from './gup.js';
import { seedGetUserPagesForeign } from './gup_seed.js';
import { PG_dirty } from './page.js';

/**
 * __access_remote_vm(): copy between buf and mm at addr, one page at a time, under mmap_lock.
 * Returns the bytes transferred (never an errno). `tsk` is the 2016 accounting argument.
 */
export function accessRemoteVm(m: Machine, mm: Mm, addr: number, buf: Uint8Array, gupFlags: number, tsk: Task | null = null): number {
  const pid = m.current.pid;
  const write = (gupFlags & FOLL_WRITE) !== 0;
  const tr = m.trace.on;
  if (tr) m.trace.enter('__access_remote_vm', `addr=0x${addr.toString(16)} len=${buf.length} gup_flags=${write ? 'FOLL_WRITE|' : ''}${gupFlags & FOLL_FORCE ? 'FOLL_FORCE' : '0'}`);
  mm.lock.downRead(pid);
  let done = 0;
  while (done < buf.length) {
    const a = addr + done;
    let page: number;
    if (m.profile.gup.api === 'modern') {
      const r = getUserPageVmaRemote(m, mm, a, gupFlags);
      if (typeof r === 'number') break; // no vm_ops->access fallback for the mappings modelled here
      page = r.page;
    } else {
      // [2016] get_user_pages_remote(tsk, mm, addr, 1, write, force=1, &page, &vma)
      const pages: number[] = [];
      if (seedGetUserPagesForeign(m, tsk, mm, a, 1, write ? 1 : 0, gupFlags & FOLL_FORCE ? 1 : 0, pages, null) <= 0) break;
      page = pages[0]!;
    }
    const off = a % PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - off, buf.length - done);
    const slab = m.mem.slab8(page);
    const o = PhysMem.byteOffset(page) + off;
    if (write) {
      slab.set(buf.subarray(done, done + n), o);
      m.pages.setFlag(page, PG_dirty); // set_page_dirty_lock()
    } else {
      buf.set(slab.subarray(o, o + n), done);
    }
    putUserPage(m, page);
    done += n;
  }
  mm.lock.upRead(pid);
  if (tr) m.trace.exit('__access_remote_vm', done);
  return done;
}
