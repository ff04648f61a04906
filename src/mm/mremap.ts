// mremap(2) (mm/mremap.c): shrink, grow in place, or move with the page tables.
import { PAGE_SIZE, TASK_SIZE_MAX } from '../hw/pte.js';
import { EFAULT, EINVAL, ENOMEM } from '../kernel/errno.js';
import type { Machine } from '../kernel/machine.js';
import type { Mm } from './mm.js';
import { MAP_SHARED, getUnmappedArea, mergeNeighbours, pageAlign, splitAt, unmapRange } from './mmap.js';
import { forEachPte, pteAlloc, writePte } from './pgtable.js';
import { VM_DONTEXPAND, VM_MAYSHARE, VM_PFNMAP, VM_SHARED, type Vma } from './vma.js';

export const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;

export function sysMremap(m: Machine, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): number {
  if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) return -EINVAL;
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) return -EINVAL;
  // MREMAP_DONTUNMAP is always a move and does not allow resizing.
  if (flags & MREMAP_DONTUNMAP && (!(flags & MREMAP_MAYMOVE) || oldLen !== newLen)) return -EINVAL;
  if (addr % PAGE_SIZE) return -EINVAL;
  oldLen = pageAlign(oldLen);
  newLen = pageAlign(newLen);
  if (!newLen) return -EINVAL;
  const task = m.current;
  const mm = task.mm!;
  mm.lock.downWrite(task.pid);
  try {
    // SYSCALL_DEFINE5(mremap): vma_lookup(addr) before any shrink, grow or move.
    if (!mm.vmaLookup(addr)) return -EFAULT;
    if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) return mremapTo(m, mm, addr, oldLen, newAddr, newLen, flags);
    if (oldLen >= newLen) {
      unmapRange(m, mm, addr + newLen, addr + oldLen);
      return addr;
    }
    const vma = vmaToResize(mm, addr, oldLen, newLen, flags);
    if (typeof vma === 'number') return vma;
    // Grow in place when [old end, new end) is free and the VMA ends exactly at the old end.
    if (vma.end === addr + oldLen) {
      const next = mm.nextVma(vma);
      if ((!next || next.start >= addr + newLen) && addr + newLen <= TASK_SIZE_MAX) {
        vma.end = addr + newLen;
        return addr;
      }
    }
    if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
    const dst = getUnmappedArea(mm, 0, newLen, 0);
    if (dst < 0) return dst;
    return moveVma(m, mm, vma, addr, oldLen, newLen, dst, false);
  } finally {
    mm.lock.upWrite(task.pid);
  }
}

/** mremap_to(): a move to new_addr (MREMAP_FIXED) or to a fresh area (MREMAP_DONTUNMAP alone). */
function mremapTo(m: Machine, mm: Mm, addr: number, oldLen: number, newAddr: number, newLen: number, flags: number): number {
  if (newAddr % PAGE_SIZE) return -EINVAL;
  if (newLen > TASK_SIZE_MAX || newAddr > TASK_SIZE_MAX - newLen) return -EINVAL;
  if (addr + oldLen > newAddr && newAddr + newLen > addr) return -EINVAL; // the ranges overlap
  if (flags & MREMAP_FIXED) unmapRange(m, mm, newAddr, newAddr + newLen);
  if (oldLen > newLen) {
    unmapRange(m, mm, addr + newLen, addr + oldLen);
    oldLen = newLen;
  }
  const vma = vmaToResize(mm, addr, oldLen, newLen, flags);
  if (typeof vma === 'number') return vma;
  if (!(flags & MREMAP_FIXED)) {
    newAddr = getUnmappedArea(mm, newAddr, newLen, vma.flags & VM_MAYSHARE ? MAP_SHARED : 0);
    if (newAddr < 0) return newAddr;
  }
  return moveVma(m, mm, vma, addr, oldLen, newLen, newAddr, (flags & MREMAP_DONTUNMAP) !== 0);
}

/** vma_to_resize(): the old range must sit inside one VMA. */
function vmaToResize(mm: Mm, addr: number, oldLen: number, newLen: number, flags: number): Vma | number {
  const vma = mm.vmaLookup(addr);
  if (!vma) return -EFAULT;
  // A zero old_len "duplicates" a mapping: refused for private ones.
  if (!oldLen && !(vma.flags & (VM_SHARED | VM_MAYSHARE))) return -EINVAL;
  if (flags & MREMAP_DONTUNMAP && vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) return -EINVAL;
  if (oldLen > vma.end - addr) return -EFAULT;
  if (newLen === oldLen) return vma;
  if (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) return -EFAULT;
  return vma;
}

/**
 * move_vma(): a new VMA at dst, page tables moved (not copied), the old range unmapped -- or, with
 * MREMAP_DONTUNMAP, left mapped and empty (it refaults as fresh memory).
 */
function moveVma(m: Machine, mm: Mm, vma: Vma, addr: number, oldLen: number, newLen: number, dst: number,
  dontUnmap: boolean): number {
  splitAt(mm, addr);
  splitAt(mm, addr + oldLen);
  const old = mm.vmaLookup(addr)!;
  const nv = old.clone();
  nv.start = dst;
  nv.end = dst + newLen;
  if (nv.file) nv.file.refs++;
  if (nv.file === null) nv.pgoff = old.pgoff; // anon pages keep their index
  let ok = true;
  const moves: [number, number, number][] = [];
  forEachPte(m.mem, mm, addr, addr + oldLen, (va, _p, lo, hi) => moves.push([va, lo, hi]));
  mm.insert(nv);
  for (const [va, lo, hi] of moves) {
    const dp = pteAlloc(m, mm, va - addr + dst);
    if (dp < 0) {
      ok = false;
      break;
    }
    writePte(m, dp, lo, hi);
  }
  if (!ok) return -ENOMEM;
  // Clear the old entries without releasing the pages (they moved), then drop the old VMA.
  forEachPte(m.mem, mm, addr, addr + oldLen, (_va, p) => writePte(m, p, 0, 0));
  m.flushTlbRange(mm, addr, addr + oldLen);
  if (!dontUnmap) unmapRange(m, mm, addr, addr + oldLen);
  mergeNeighbours(mm, nv);
  void vma;
  return dst;
}
