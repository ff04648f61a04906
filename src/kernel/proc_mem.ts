// /proc/PID/mem (fs/proc/base.c: mem_open(), mem_rw(), mem_lseek(), proc_mem_foll_force()).
// Every access is remote, even to /proc/self/mem, so protection keys never apply (CON-5..7).
import { PAGE_SIZE } from '../hw/pte.js';
import { FOLL_FORCE, FOLL_WRITE } from '../mm/gup.js';
import { accessRemoteVm } from '../mm/access_remote_vm.js';
import type { Mm } from '../mm/mm.js';
import { EFAULT, EIO } from './errno.js';
import { Inode, OpenFile } from './fs.js';
import type { Machine } from './machine.js';
import { mmAccess, PTRACE_MODE_ATTACH, PTRACE_MODE_FSCREDS } from './ptrace.js';
import type { Task } from './task.js';
import { copyFromUser, copyToUser } from './uaccess.js';

/** proc_mem_foll_force(): does this open file write/read with FOLL_FORCE? */
function follForce(m: Machine, task: Task, mm: Mm): boolean {
  switch (m.procMemForce) {
    case 'always':
      return true;
    case 'never':
      return false;
    case 'ptrace':
      return task.tracer === m.current.tgid && task.mm === mm;
  }
}

export function openProcMem(m: Machine, task: Task, flags: number): OpenFile | number {
  const r = task.mm ? mmAccess(m, task, PTRACE_MODE_ATTACH | PTRACE_MODE_FSCREDS) : null;
  if (typeof r === 'number') return r; // -EACCES on denial, -ESRCH without an mm
  const mm: Mm | null = r; // captured at open; permission is never rechecked (CON-5)
  const ino = new Inode('reg', `/proc/${task.tgid}/mem`, 0o600);
  ino.nlink = 0;
  ino.refs = 1;
  const rw = (buf: number, count: number, pos: number, write: boolean): { ret: number; pos: number } => {
    if (!mm || mm.dead) return { ret: 0, pos };
    const gupFlags = (write ? FOLL_WRITE : 0) | (follForce(m, task, mm) ? FOLL_FORCE : 0);
    if (m.trace.on) m.trace.decision('CON-7', 'mem_rw', 'bypass', `remote access to mm of pid ${task.tgid}: PKRU not consulted${gupFlags & FOLL_FORCE ? ', FOLL_FORCE' : ''}`);
    const page = new Uint8Array(PAGE_SIZE);
    let copied = 0;
    let addr = pos;
    while (count > 0) {
      let len = Math.min(count, PAGE_SIZE);
      const chunk = page.subarray(0, len);
      if (write && copyFromUser(m, buf, chunk)) {
        copied = -EFAULT;
        break;
      }
      len = accessRemoteVm(m, mm, addr, chunk, gupFlags, null);
      if (!len) {
        if (!copied) copied = -EIO;
        break;
      }
      if (!write && copyToUser(m, buf, chunk.subarray(0, len))) {
        copied = -EFAULT;
        break;
      }
      buf += len;
      addr += len;
      copied += len;
      count -= len;
    }
    return { ret: copied, pos: addr };
  };
  return new OpenFile(ino, flags, ino.name, {
    read: (buf, len, pos) => rw(buf, len, pos, false),
    write: (buf, len, pos) => rw(buf, len, pos, true),
    noSeekEnd: true,
  });
}
