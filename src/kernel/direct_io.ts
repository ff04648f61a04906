// O_DIRECT reads and writes (fs/iomap/direct-io.c via iov_iter_extract_pages()): the user buffer is
// pinned with pin_user_pages_fast() — local, so PKRU is checked at pin time — and the "device"
// then moves data to or from the pinned pages with no PKRU at all (CON-12).
import { PAGE_SIZE } from '../hw/pte.js';
import { FOLL_WRITE, pinUserPagesFast, unpinUserPagesDirtyLock } from '../mm/gup.js';
import { filemapGetPage, type CachePage } from '../mm/filemap.js';
import { PG_dirty } from '../mm/page.js';
import { EFAULT, EINVAL, ENOMEM } from './errno.js';
import type { OpenFile } from './fs.js';
import type { Machine } from './machine.js';

/** The logical block size direct I/O must be aligned to. */
export const DIO_ALIGN = 512;
const cache: CachePage = { pfn: -1, major: false };

export function directIo(m: Machine, f: OpenFile, buf: number, len: number, pos: number, write: boolean): number {
  if (buf % DIO_ALIGN || len % DIO_ALIGN || pos % DIO_ALIGN) return -EINVAL;
  const ino = f.inode;
  if (!write) len = Math.max(0, Math.min(len, Math.ceil(ino.size / DIO_ALIGN) * DIO_ALIGN - pos));
  if (len === 0) return 0;
  const first = buf - (buf % PAGE_SIZE);
  const nr = Math.ceil((buf + len - first) / PAGE_SIZE);
  const pages: number[] = [];
  // The device writes into memory on read(2): FOLL_WRITE.
  const got = pinUserPagesFast(m, first, nr, write ? 0 : FOLL_WRITE, pages);
  if (got <= 0) return got < 0 ? got : -EFAULT;
  const usable = Math.min(len, got * PAGE_SIZE - (buf - first));
  let done = 0;
  while (done < usable) {
    const va = buf + done;
    const p = pos + done;
    const n = Math.min(PAGE_SIZE - (va % PAGE_SIZE), PAGE_SIZE - (p % PAGE_SIZE), usable - done);
    const user = m.mem.frame(pages[Math.floor((va - first) / PAGE_SIZE)]!).subarray(va % PAGE_SIZE, (va % PAGE_SIZE) + n);
    filemapGetPage(m, ino, Math.floor(p / PAGE_SIZE), cache);
    if (cache.pfn < 0) break;
    const filePage = m.mem.frame(cache.pfn).subarray(p % PAGE_SIZE, (p % PAGE_SIZE) + n);
    if (write) {
      filePage.set(user);
      m.pages.setFlag(cache.pfn, PG_dirty);
      if (p + n > ino.size) ino.size = p + n;
    } else {
      user.set(filePage);
    }
    m.pages.put(cache.pfn);
    done += n;
  }
  unpinUserPagesDirtyLock(m, pages, !write);
  return done || -ENOMEM;
}
