// mprotect(2), pkey_mprotect(2), pkey_alloc(2), pkey_free(2) (mm/mprotect.c: do_mprotect_pkey()).
import { PAGE_SIZE } from '../hw/pte.js';
import { EACCES, EINVAL, ENOMEM, ENOSPC, ENOSYS } from '../kernel/errno.js';
import type { Machine } from '../kernel/machine.js';
import { changeProtection } from './memory.js';
import { PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_SEM, PROT_WRITE, calcVmProtBits, mergeNeighbours, splitVma } from './mmap.js';
import {
  PKEY_ACCESS_MASK, archOverrideMprotectPkey, archSetUserPkeyAccess, mmPkeyAlloc, mmPkeyFree, mmPkeyIsAllocated,
} from './pkeys.js';
import { VM_EXEC, VM_GROWSDOWN, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE, type Vma } from './vma.js';

/** do_mprotect_pkey() (PK-7): pkey -1 is plain mprotect(). Returns 0 or -errno. */
export function doMprotectPkey(m: Machine, start: number, len: number, prot: number, pkey: number): number {
  const task = m.current;
  const mm = task.mm!;
  const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
  prot &= ~grows;
  if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) return -EINVAL;
  if (start % PAGE_SIZE) return -EINVAL;
  if (!len) return 0;
  len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  const end = start + len;
  if (end <= start) return -ENOMEM;
  // arch_validate_prot() (generic): only R, W, X, SEM.
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) return -EINVAL;
  mm.lock.downWrite(task.pid);
  try {
    if (pkey !== -1 && !mmPkeyIsAllocated(m, mm, pkey)) return -EINVAL;
    let vma = mm.findVma(start);
    if (!vma) return -ENOMEM;
    if (grows & PROT_GROWSDOWN) {
      if (vma.start >= end) return -ENOMEM;
      start = vma.start;
      if (!(vma.flags & VM_GROWSDOWN)) return -EINVAL;
    } else if (vma.start > start) {
      return -ENOMEM;
    }
    let nstart = start;
    for (;;) {
      // arch_override_mprotect_pkey() picks the key per VMA (PK-8).
      const newKey = archOverrideMprotectPkey(m, vma, prot, pkey);
      const newRwx = calcVmProtBits(prot);
      const newFlags = (vma.flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | newRwx;
      // The requested rights must be allowed by VM_MAY* (mprotect of a read-only shared file to W: EACCES).
      if ((newFlags & VM_READ && !(vma.flags & VM_MAYREAD)) || (newFlags & VM_WRITE && !(vma.flags & VM_MAYWRITE)) ||
        (newFlags & VM_EXEC && !(vma.flags & VM_MAYEXEC))) {
        return -EACCES;
      }
      const tmp = Math.min(vma.end, end);
      // tmp = vma_iter_end(&vmi): continue after the VMA mprotect_fixup() left, which may have merged
      // with the next one; restarting inside it would look like a hole (MPROT-07, bugzilla 217061).
      nstart = mprotectFixup(m, vma, nstart, tmp, newFlags, newKey).end;
      if (nstart >= end) break;
      vma = mm.findVma(nstart);
      if (!vma || vma.start !== nstart) return -ENOMEM;
    }
    return 0;
  } finally {
    mm.lock.upWrite(task.pid);
  }
}

/** mprotect_fixup(): give [start, end) (inside vma) new flags and key, splitting and merging. */
function mprotectFixup(m: Machine, vma: Vma, start: number, end: number, newFlags: number, newKey: number): Vma {
  if (vma.flags === newFlags && vma.pkey === newKey) return vma;
  const mm = vma.mm;
  const target = vma.start < start ? splitVma(mm, vma, start) : vma;
  if (end < target.end) splitVma(mm, target, end);
  target.flags = newFlags;
  target.pkey = newKey;
  changeProtection(m, target, target.start, target.end);
  return mergeNeighbours(mm, target);
}

/** pkey_mprotect(2): do_mprotect_pkey() with a caller-chosen key; ENOSYS before v4.9 (VER-2). */
export function sysPkeyMprotect(m: Machine, start: number, len: number, prot: number, pkey: number): number {
  if (!m.profile.pkeySyscalls) return -ENOSYS;
  return doMprotectPkey(m, start, len, prot, pkey);
}

/**
 * pkey_alloc(2) (PK-5, mm/mprotect.c): flags, then rights, then the allocation map under mmap_lock,
 * then arch_set_user_pkey_access() for the calling thread only. When that fails (no OSPKE) the key
 * is handed back with mm_pkey_free(), which refuses key 0 while it equals execute_only_pkey.
 */
export function sysPkeyAlloc(m: Machine, flags: number, initVal: number): number {
  if (!m.profile.pkeySyscalls) return -ENOSYS;
  if (flags) return -EINVAL;
  if (initVal & ~PKEY_ACCESS_MASK) return -EINVAL;
  const task = m.current;
  const mm = task.mm!;
  mm.lock.downWrite(task.pid);
  try {
    const pkey = mmPkeyAlloc(m, mm);
    if (pkey === -1) return -ENOSPC;
    const ret = archSetUserPkeyAccess(m, pkey, initVal);
    if (ret) {
      mmPkeyFree(m, mm, pkey);
      return ret;
    }
    if (m.trace.on) m.trace.decision('PK-5', 'pkey_alloc', 'info', `key ${pkey}; PKRU of pid ${task.pid} only is now 0x${task.pkru.toString(16).padStart(8, '0')}`);
    return pkey;
  } finally {
    mm.lock.upWrite(task.pid);
  }
}

/** pkey_free(2) (PK-6): VMAs still tagged with the key and every PKRU are left alone. */
export function sysPkeyFree(m: Machine, pkey: number): number {
  if (!m.profile.pkeySyscalls) return -ENOSYS;
  const task = m.current;
  const mm = task.mm!;
  mm.lock.downWrite(task.pid);
  const r = mmPkeyFree(m, mm, pkey);
  mm.lock.upWrite(task.pid);
  return r;
}
