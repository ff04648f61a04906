// io_uring fixed buffers (io_uring/rsrc.c: io_sqe_buffer_register() -> io_pin_pages()): pinned
// once, long-term, with FOLL_WRITE|FOLL_LONGTERM; later I/O never looks at PKRU again (CON-12).
import { PAGE_SIZE } from '../hw/pte.js';
import { FOLL_LONGTERM, FOLL_WRITE, pinUserPagesFast, unpinUserPages } from '../mm/gup.js';
import { EBUSY, EFAULT, EINVAL, ENXIO } from './errno.js';
import type { Machine } from './machine.js';
import type { Iovec } from './process_vm.js';
import { kernelRead, kernelWrite } from './read_write.js';

/** Registered buffers of a process (one ring per process in this model). */
export interface IoUringBuffers {
  pages: number[][];
  bases: number[];
  lens: number[];
}

const rings = new WeakMap<object, IoUringBuffers>();

export function ioUringRegisterBuffers(m: Machine, iov: Iovec[]): number {
  const key = m.current.group;
  if (rings.has(key)) return -EBUSY;
  if (iov.length === 0 || iov.length > 16384) return -EINVAL;
  const all: number[][] = [];
  for (const v of iov) {
    if (v.len === 0 || v.len > 1 << 30) {
      for (const p of all) unpinUserPages(m, p);
      return -EFAULT;
    }
    const first = v.base - (v.base % PAGE_SIZE);
    const nr = Math.ceil((v.base + v.len - first) / PAGE_SIZE);
    const pages: number[] = [];
    const r = pinUserPagesFast(m, first, nr, FOLL_WRITE | FOLL_LONGTERM, pages);
    if (r !== nr) {
      unpinUserPages(m, pages);
      for (const p of all) unpinUserPages(m, p);
      return r < 0 ? r : -EFAULT;
    }
    all.push(pages);
  }
  rings.set(key, { pages: all, bases: iov.map((v) => v.base), lens: iov.map((v) => v.len) });
  m.onExit(m.current.group, () => ioUringUnregister(m, key));
  return 0;
}

/**
 * IORING_OP_READ_FIXED / WRITE_FIXED: the I/O reaches the registered buffer through its pins,
 * like DMA: the submitter's PKRU plays no part. Returns the CQE's res.
 */
export function ioUringFixedIo(m: Machine, bufIndex: number, addr: number, fd: number, offset: number, len: number, write: boolean): number {
  const ring = rings.get(m.current.group);
  const f = m.current.group.files.get(fd);
  if (!ring || bufIndex < 0 || bufIndex >= ring.pages.length) return -EFAULT;
  if (!f) return -9;
  const pages = ring.pages[bufIndex]!;
  const first = ring.bases[bufIndex]! - (ring.bases[bufIndex]! % PAGE_SIZE);
  if (addr < ring.bases[bufIndex]! || addr + len > ring.bases[bufIndex]! + ring.lens[bufIndex]!) return -EFAULT;
  const ino = f.inode;
  let done = 0;
  while (done < len) {
    const va = addr + done;
    const n = Math.min(PAGE_SIZE - (va % PAGE_SIZE), len - done);
    const frame = m.mem.frame(pages[Math.floor((va - first) / PAGE_SIZE)]!).subarray(va % PAGE_SIZE, (va % PAGE_SIZE) + n);
    const r = write ? kernelWrite(m, ino, offset + done, frame) : kernelRead(m, ino, offset + done, frame);
    done += r;
    if (r < n) break;
  }
  return done;
}

export function ioUringUnregisterBuffers(m: Machine): number {
  return ioUringUnregister(m, m.current.group);
}

function ioUringUnregister(m: Machine, key: object): number {
  const r = rings.get(key);
  if (!r) return -ENXIO;
  for (const p of r.pages) unpinUserPages(m, p);
  rings.delete(key);
  return 0;
}
