// vmsplice(2) (fs/splice.c: vmsplice_to_pipe(), vmsplice_to_user()). User pages go into the pipe
// by reference, taken with get_user_pages_fast(): local, so the caller's PKRU is checked then and
// only then (CON-10); whoever reads the pipe later gets the page's bytes as they are at that time.
import { PAGE_SIZE } from '../hw/pte.js';
import { getUserPagesFast, putUserPage } from '../mm/gup.js';
import { EAGAIN, EBADF, EFAULT, EINVAL } from './errno.js';
import { PipeBuffer } from './fs.js';
import type { Machine } from './machine.js';
import type { Iovec } from './process_vm.js';
import { UIO_MAXIOV } from './process_vm.js';
import { sysRead } from './read_write.js';

export const SPLICE_F_MOVE = 1, SPLICE_F_NONBLOCK = 2, SPLICE_F_MORE = 4, SPLICE_F_GIFT = 8;

export function sysVmsplice(m: Machine, fd: number, iov: Iovec[], flags: number): number {
  if (flags & ~(SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT)) return -EINVAL;
  const f = m.current.group.files.get(fd);
  if (!f) return -EBADF;
  if (iov.length > UIO_MAXIOV) return -EINVAL;
  const pipe = f.inode.pipe;
  if (!pipe) return -EBADF;
  if (f.readable() && !f.writable()) {
    // vmsplice_to_user(): pipe -> user memory is an ordinary copy.
    let total = 0;
    for (const v of iov) {
      const r = sysRead(m, fd, v.base, v.len);
      if (r < 0) return total || r;
      total += r;
      if (r < v.len) break;
    }
    return total;
  }
  let total = 0;
  for (const v of iov) {
    let addr = v.base;
    let left = v.len;
    while (left > 0) {
      if (pipe.bytes >= PipeBuffer.CAPACITY) return total || -EAGAIN;
      const off = addr % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, left);
      const pages: number[] = [];
      // iov_iter_get_pages2() on a source iterator: no FOLL_WRITE.
      const r = getUserPagesFast(m, addr - off, 1, 0, pages);
      if (r !== 1) {
        for (const p of pages) putUserPage(m, p);
        return total || (r < 0 ? r : -EFAULT);
      }
      pipe.chunks.push({ pfn: pages[0]!, off, len: n });
      pipe.bytes += n;
      total += n;
      addr += n;
      left -= n;
    }
  }
  return total;
}
