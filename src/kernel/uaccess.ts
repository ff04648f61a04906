// Kernel accesses to current's user memory (arch/x86/lib/usercopy, copy_to_user()/copy_from_user()).
// They are CPL-0 data accesses to user pages, so the MMU applies the calling thread's PKRU (UA-2);
// a fault the handler cannot fix ends the copy through the exception table, with no signal (UA-3).
import { ACC_READ, ACC_WRITE } from '../hw/mmu.js';
import { PhysMem } from '../hw/physmem.js';
import { PAGE_SIZE, TASK_SIZE_MAX } from '../hw/pte.js';
import { doUserAddrFault } from './fault.js';
import { translate } from './usermode.js';
import type { Machine } from './machine.js';

/** access_ok(): the range lies below the user/kernel split. */
export function accessOk(addr: number, len: number): boolean {
  return addr >= 0 && len >= 0 && addr + len <= TASK_SIZE_MAX;
}

/**
 * Copy between current's user memory at addr and buf, page by page. Returns the number of bytes
 * NOT copied (0 on success), as the kernel's copy routines do.
 */
function copyUser(m: Machine, addr: number, buf: Uint8Array, bufOff: number, len: number, toUser: boolean): number {
  const task = m.current;
  if (!task.mm || !accessOk(addr, len)) return len;
  if (m.trace.on) {
    m.trace.decision('UA-2', toUser ? 'copy_to_user' : 'copy_from_user', 'info',
      `${len} bytes at 0x${addr.toString(16)}, kernel-mode access by pid ${task.pid} to its own memory; PKRU of pid ${task.pid} = 0x${task.pkru.toString(16).padStart(8, '0')} is checked by the MMU`);
  }
  let done = 0;
  let tries = 0;
  const kind = toUser ? ACC_WRITE : ACC_READ;
  while (done < len) {
    const va = addr + done;
    const r = translate(m, task, va, kind, false);
    if (r < 0) {
      // Kernel-mode fault on a user address: resolvable faults are fixed and the copy resumes.
      if (++tries > 4 || doUserAddrFault(m, task, va, -1 - r) !== null) {
        if (m.trace.on) m.trace.decision('UA-3', toUser ? 'copy_to_user' : 'copy_from_user', 'deny',
          `fault at 0x${va.toString(16)} not fixable: exception-table fixup, ${len - done} bytes not copied, no signal`);
        return len - done;
      }
      continue;
    }
    tries = 0;
    const inPage = va - Math.floor(va / PAGE_SIZE) * PAGE_SIZE; // va % PAGE_SIZE without a double %
    const n = Math.min(PAGE_SIZE - inPage, len - done);
    const slab = m.mem.slab8(r);
    const off = PhysMem.byteOffset(r) + inPage;
    const b = bufOff + done;
    // Page to page inside one slab (process_vm_readv between two frames): a memmove, no view.
    if (slab.buffer === buf.buffer) {
      if (toUser) slab.copyWithin(off, buf.byteOffset + b, buf.byteOffset + b + n);
      else slab.copyWithin(buf.byteOffset + b, off, off + n);
    } else if (toUser) {
      slab.set(buf.subarray(b, b + n), off);
    } else {
      buf.set(slab.subarray(off, off + n), b);
    }
    done += n;
  }
  return 0;
}

export function copyToUser(m: Machine, addr: number, src: Uint8Array, srcOff = 0, len = src.length - srcOff): number {
  return copyUser(m, addr, src, srcOff, len, true);
}

export function copyFromUser(m: Machine, addr: number, dst: Uint8Array, dstOff = 0, len = dst.length - dstOff): number {
  return copyUser(m, addr, dst, dstOff, len, false);
}
