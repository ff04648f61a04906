// io_uring fixed buffers (io_uring/rsrc.c: io_sqe_buffer_register() -> io_pin_pages()): pinned
// once, long-term, with FOLL_WRITE|FOLL_LONGTERM; later I/O never looks at PKRU again (CON-12).
import { PAGE_SIZE } from '../hw/pte.js';
import { FOLL_LONGTERM, FOLL_WRITE, pinUserPagesFast, unpinUserPages } from '../mm/gup.js';
import { EBUSY, EFAULT, EINVAL, ENXIO } from './errno.js';
import type { Machine } from './machine.js';
import type { Iovec } from './process_vm.js';

/** Registered buffers of a process (one ring per process in this model). */
export interface IoUringBuffers {
  pages: number[][];
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
  rings.set(key, { pages: all });
  m.onExit(m.current.group, () => ioUringUnregister(m, key));
  return 0;
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
