// KVM's GUP users (virt/kvm/kvm_main.c: hva_to_pfn(); virt/kvm/async_pf.c: async_pf_execute()).
// The vCPU thread faults guest memory in from its own mm (local: its host PKRU applies, CON-16);
// the async page-fault worker runs in a kworker with no mm of its own (remote, CON-17, REV-3).
import { EAGAIN, EFAULT, EHWPOISON, EINTR } from '../kernel/errno.js';
import type { Machine } from '../kernel/machine.js';
import type { Task } from '../kernel/task.js';
import type { Mm } from '../mm/mm.js';
import {
  FOLL_HONOR_NUMA_FAULT, FOLL_HWPOISON, FOLL_NOWAIT, FOLL_REMOTE, FOLL_TOUCH, FOLL_WRITE, getUserPagesFastOnly,
  getUserPagesRemote, getUserPagesUnlocked, putUserPage, type Locked,
} from '../mm/gup.js';
import {
  seedGetUserPageNowait, seedGetUserPagesUnlocked, seedGetUserPagesUnlockedCurrent, seedGetUserPagesUnlockedTskMm,
} from '../mm/gup_seed.js';
import { VM_READ, VM_WRITE } from '../mm/vma.js';

export type HvaToPfn =
  | { kind: 'pfn'; pfn: number }
  | { kind: 'error'; what: 'KVM_PFN_ERR_FAULT' | 'KVM_PFN_ERR_HWPOISON' | 'KVM_PFN_ERR_SIGPENDING' | 'KVM_PFN_ERR_NEEDS_IO' };

/** hva_to_pfn(): fast path, then the slow GUP, then the VMA-based verdict. Runs as the vCPU thread. */
export function hvaToPfn(m: Machine, vcpu: Task, hva: number, writeFault: boolean, async: boolean): HvaToPfn {
  return m.runAs(vcpu, () => {
    const pages: number[] = [];
    const modern = m.profile.gup.api === 'modern';
    if (modern && writeFault && getUserPagesFastOnly(m, hva, 1, FOLL_WRITE, pages) === 1) {
      putUserPage(m, pages[0]!);
      return { kind: 'pfn', pfn: pages[0]! };
    }
    let npages: number;
    if (modern) {
      const flags = FOLL_HWPOISON | FOLL_HONOR_NUMA_FAULT | (writeFault ? FOLL_WRITE : 0) | (async ? FOLL_NOWAIT : 0);
      npages = getUserPagesUnlocked(m, hva, 1, pages, flags);
    } else if (async) {
      const mm = vcpu.mm!;
      mm.lock.downRead(vcpu.pid);
      npages = seedGetUserPageNowait(m, hva, writeFault ? 1 : 0, pages);
      mm.lock.upRead(vcpu.pid);
    } else if (m.profile.gup.api === 'seed-4.6') {
      npages = seedGetUserPagesUnlockedTskMm(m, vcpu, vcpu.mm!, hva, 1, writeFault ? 1 : 0, 0, pages, FOLL_TOUCH | FOLL_HWPOISON);
    } else {
      npages = seedGetUserPagesUnlockedCurrent(m, hva, 1, writeFault ? 1 : 0, 0, pages, FOLL_TOUCH | FOLL_HWPOISON);
    }
    if (npages === 1) {
      putUserPage(m, pages[0]!);
      return { kind: 'pfn', pfn: pages[0]! };
    }
    if (npages === -EINTR || npages === -EAGAIN) return { kind: 'error', what: 'KVM_PFN_ERR_SIGPENDING' };
    if (npages === -EHWPOISON) return { kind: 'error', what: 'KVM_PFN_ERR_HWPOISON' };
    const vma = vcpu.mm?.vmaLookup(hva) ?? null;
    if (!vma) return { kind: 'error', what: 'KVM_PFN_ERR_FAULT' };
    // vma_is_valid(): only VM_READ/VM_WRITE are looked at, never the pkey.
    const valid = writeFault ? (vma.flags & VM_WRITE) !== 0 : (vma.flags & VM_READ) !== 0;
    if (async && valid) return { kind: 'error', what: 'KVM_PFN_ERR_NEEDS_IO' };
    return { kind: 'error', what: 'KVM_PFN_ERR_FAULT' };
  });
}

/**
 * async_pf_execute(): a kworker faults addr in, in the VM's mm, for writing, keeping no page.
 * Returns the GUP result (pages faulted in, or -errno).
 */
export function asyncPfExecute(m: Machine, kworker: Task, mm: Mm, addr: number): number {
  return m.runAs(kworker, () => {
    switch (m.profile.gup.api) {
      case 'modern': {
        if (mm.dead || mm.users === 0) return 0; // mmget_not_zero() failed: the VM is exiting
        mm.users++;
        const locked: Locked = { locked: 1 };
        mm.lock.downRead(kworker.pid);
        const r = getUserPagesRemote(m, mm, addr, 1, FOLL_WRITE, null, locked);
        if (locked.locked) mm.lock.upRead(kworker.pid);
        m.mmput(mm);
        return r;
      }
      case 'seed-4.6':
        // __get_user_pages_unlocked(NULL, mm, addr, 1, 1, 0, NULL, FOLL_REMOTE): the work item's mm, nobody charged.
        return seedGetUserPagesUnlockedTskMm(m, null, mm, addr, 1, 1, 0, null, FOLL_REMOTE);
      case 'seed-rev1':
        // get_user_pages_unlocked(addr, 1, 1, 0, NULL): current-only, and current is a kworker.
        return seedGetUserPagesUnlocked(m, addr, 1, 1, 0, null);
    }
  });
}

export { EFAULT, FOLL_TOUCH };
