// userfaultfd missing-page faults (fs/userfaultfd.c: handle_userfault(), userfaultfd_register()),
// with the monitor thread modelled as resolving each fault at once by UFFDIO_COPY of a fill byte.
// What matters here is the kernel side: the fault can only be serviced by dropping mmap_lock and
// returning VM_FAULT_RETRY, so a caller that does not allow retry gets VM_FAULT_SIGBUS (REV-1).
import { EBADF, EINVAL } from '../kernel/errno.js';
import { Inode, OpenFile, O_RDWR } from '../kernel/fs.js';
import type { Machine } from '../kernel/machine.js';
import { FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_RETRY_NOWAIT, VM_FAULT_RETRY, VM_FAULT_SIGBUS } from './memory.js';
import { mergeNeighbours, splitAt } from './mmap.js';
import type { Vma } from './vma.js';

export const VM_UFFD_MISSING = 0x200;
export const UFFDIO_REGISTER_MODE_MISSING = 1;

/** The monitor's policy for each registered range: fill resolved pages with this byte. */
const fills = new WeakMap<Vma, number>();

export function sysUserfaultfd(m: Machine): number {
  const ino = new Inode('reg', 'anon_inode:[userfaultfd]', 0o600);
  ino.nlink = 0;
  ino.refs = 1;
  return m.current.group.files.install(new OpenFile(ino, O_RDWR, ino.name));
}

/** ioctl(UFFDIO_REGISTER, MISSING): the range's VMAs get VM_UFFD_MISSING. */
export function uffdRegister(m: Machine, fd: number, start: number, len: number, fill: number): number {
  const f = m.current.group.files.get(fd);
  if (!f || f.inode.name !== 'anon_inode:[userfaultfd]') return -EBADF;
  if (start % 4096 || len % 4096 || len === 0) return -EINVAL;
  const mm = m.current.mm!;
  mm.lock.downWrite(m.current.pid);
  try {
    const end = start + len;
    const vmas = mm.overlapping(start, end);
    if (!vmas.length || vmas[0]!.start > start || vmas[vmas.length - 1]!.end < end) return -EINVAL;
    splitAt(mm, start);
    splitAt(mm, end);
    for (const v of mm.overlapping(start, end)) {
      if (!v.isAnonymous()) return -EINVAL;
      v.flags |= VM_UFFD_MISSING;
      fills.set(v, fill & 0xff);
    }
    return 0;
  } finally {
    mm.lock.upWrite(m.current.pid);
  }
}

/**
 * handle_userfault(): called by do_anonymous_page() for a missing page in a registered VMA.
 * Returns VM_FAULT_SIGBUS without ALLOW_RETRY; otherwise the monitor fills the page (after the
 * lock is dropped) and the fault is retried. `install` maps the filled page.
 */
export function handleUserfault(m: Machine, vma: Vma, addr: number, flags: number, install: (fill: number) => number): number {
  if (!(flags & FAULT_FLAG_ALLOW_RETRY)) {
    m.klog('warn', `FAULT_FLAG_ALLOW_RETRY missing ${flags.toString(16)}: userfault at 0x${addr.toString(16)} cannot wait (VM_FAULT_SIGBUS)`);
    if (m.trace.on) m.trace.decision('REV-1', 'handle_userfault', 'deny', 'caller did not allow VM_FAULT_RETRY: VM_FAULT_SIGBUS');
    return VM_FAULT_SIGBUS;
  }
  if (flags & FAULT_FLAG_RETRY_NOWAIT) return VM_FAULT_RETRY;
  // The faulting context sleeps with mmap_lock dropped; the monitor's UFFDIO_COPY maps the page.
  vma.mm.lock.upRead(m.current.pid);
  const r = install(fills.get(vma) ?? 0);
  if (m.trace.on) m.trace.decision('REV-1', 'handle_userfault', 'info', 'mmap_lock dropped; monitor resolved with UFFDIO_COPY; VM_FAULT_RETRY');
  return r ? r : VM_FAULT_RETRY;
}

export { mergeNeighbours };
