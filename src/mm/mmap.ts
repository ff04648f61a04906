// mmap, munmap and VMA bookkeeping (mm/mmap.c, mm/vma.c, mm/util.c).
import { PAGE_SIZE, TASK_SIZE_MAX } from '../hw/pte.js';
import { EACCES, EBADF, EEXIST, EINVAL, ENODEV, ENOMEM, EOVERFLOW } from '../kernel/errno.js';
import { Inode, type OpenFile } from '../kernel/fs.js';
import type { Machine } from '../kernel/machine.js';
import { releaseIfUnused } from '../kernel/read_write.js';
import type { Mm } from './mm.js';
import { freePgtables } from './pgtable.js';
import { zapRange } from './memory.js';
import { executeOnlyPkey } from './pkeys.js';
import {
  VM_ACCOUNT, VM_EXEC, VM_GROWSDOWN, VM_LOCKED, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_NORESERVE,
  VM_READ, VM_SHARED, VM_SOFTDIRTY, VM_WRITE, Vma, vmaIsAccessible,
} from './vma.js';

export const PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, PROT_SEM = 8,
  PROT_GROWSDOWN = 0x01000000, PROT_GROWSUP = 0x02000000;
export const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_SHARED_VALIDATE = 0x03, MAP_TYPE = 0x0f, MAP_FIXED = 0x10,
  MAP_ANONYMOUS = 0x20, MAP_GROWSDOWN = 0x0100, MAP_DENYWRITE = 0x0800, MAP_EXECUTABLE = 0x1000, MAP_LOCKED = 0x2000,
  MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000, MAP_NONBLOCK = 0x10000, MAP_STACK = 0x20000, MAP_HUGETLB = 0x40000,
  MAP_FIXED_NOREPLACE = 0x100000;

/** mm/util.c: mmap_min_addr default (CONFIG_DEFAULT_MMAP_MIN_ADDR=65536 on Debian). */
export const MMAP_MIN_ADDR = 65536;
/** mm/mmap.c: stack_guard_gap = 256 pages. */
export const STACK_GUARD_GAP = 256 * PAGE_SIZE;
/** RLIMIT_STACK default (8 MiB). */
export const RLIMIT_STACK = 8 * 1024 * 1024;
/** sysctl vm.max_map_count default (DEFAULT_MAX_MAP_COUNT). */
export const MAX_MAP_COUNT = 65530;

export const pageAlign = (x: number): number => Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;
export const offsetInPage = (x: number): number => x % PAGE_SIZE;

/** calc_vm_prot_bits() */
export function calcVmProtBits(prot: number): number {
  return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0);
}

/** The lowest gap start below the top-down limit that fits len (arch_get_unmapped_area_topdown()). */
function unmappedAreaTopdown(mm: Mm, len: number): number {
  let high = mm.mmapBase;
  for (let i = mm.vmas.length - 1; i >= -1; i--) {
    const v = i >= 0 ? mm.vmas[i]! : null;
    if (v !== null && v.start >= high) continue;
    const gapLow = v === null ? PAGE_SIZE : v.end;
    const next = mm.vmas[i + 1];
    // vm_start_gap(): keep a guard gap below a stack that grows down.
    let gapHigh = high;
    if (next && next.flags & VM_GROWSDOWN) gapHigh = Math.min(gapHigh, next.start - STACK_GUARD_GAP);
    if (gapHigh - gapLow >= len && gapHigh - len >= MMAP_MIN_ADDR) return gapHigh - len;
    if (v === null) break;
    high = v.start;
  }
  return -ENOMEM;
}

/** __get_unmapped_area(): returns an address or -errno. */
export function getUnmappedArea(mm: Mm, addr: number, len: number, flags: number): number {
  if (len > TASK_SIZE_MAX) return -ENOMEM;
  if (flags & MAP_FIXED) {
    if (addr > TASK_SIZE_MAX - len) return -ENOMEM;
    if (offsetInPage(addr)) return -EINVAL;
    return addr;
  }
  if (addr) {
    addr = pageAlign(addr);
    if (TASK_SIZE_MAX - len >= addr && addr >= MMAP_MIN_ADDR && mm.overlapping(addr, addr + len).length === 0) return addr;
  }
  return unmappedAreaTopdown(mm, len);
}

/** Can two adjacent VMAs become one (mm/vma.c: is_mergeable_vma() + anon_vma compatibility)? */
export function canMerge(a: Vma, b: Vma): boolean {
  // is_mergeable_vma(): (vma->vm_flags ^ vm_flags) & ~VM_SOFTDIRTY
  if (a.end !== b.start || (a.flags ^ b.flags) & ~VM_SOFTDIRTY || a.pkey !== b.pkey || a.file !== b.file || a.name !== b.name) return false;
  // Contiguous offsets: file pages, or for anon the linear index (vm_pgoff = start >> PAGE_SHIFT).
  if (a.pgoff + a.pages() !== b.pgoff) return false;
  return a.anonVma === 0 || b.anonVma === 0 || a.anonVma === b.anonVma;
}

/** Merge vma with its neighbours where possible; returns the surviving VMA. */
export function mergeNeighbours(mm: Mm, vma: Vma): Vma {
  const i = mm.indexOf(vma);
  const next = mm.vmas[i + 1];
  if (next && canMerge(vma, next)) absorb(mm, vma, next, i + 1);
  const prev = i > 0 ? mm.vmas[i - 1] : undefined;
  if (prev && canMerge(prev, vma)) {
    absorb(mm, prev, vma, i);
    return prev;
  }
  return vma;
}

/** vma_merge(): `lo` grows over the adjacent `hi` (at index hiAt), which goes (with its file reference). */
function absorb(mm: Mm, lo: Vma, hi: Vma, hiAt: number): void {
  lo.end = hi.end;
  lo.anonVma ||= hi.anonVma;
  mm.vmas.splice(hiAt, 1);
  if (hi.file) hi.file.refs--;
}

/** mm/vma.c: split_vma(): cut vma at addr; returns the new upper part. */
export function splitVma(mm: Mm, vma: Vma, addr: number): Vma {
  const upper = vma.clone();
  upper.start = addr;
  upper.pgoff = vma.pgoff + (addr - vma.start) / PAGE_SIZE;
  vma.end = addr;
  if (upper.file) upper.file.refs++;
  mm.insert(upper);
  return upper;
}

/** Split so that a VMA boundary falls at addr (if addr is inside a VMA). */
export function splitAt(mm: Mm, addr: number): void {
  const v = mm.vmaLookup(addr);
  if (v && v.start < addr) splitVma(mm, v, addr);
}

/** Tear down [start, end): split, zap PTEs, drop VMAs, free the emptied page tables (do_vmi_munmap()). */
export function unmapRange(m: Machine, mm: Mm, start: number, end: number): void {
  if (mm.overlapping(start, end).length === 0) return;
  splitAt(mm, start);
  splitAt(mm, end);
  const doomed = mm.overlapping(start, end);
  for (const v of doomed) {
    zapRange(m, mm, v.start, v.end);
    mm.remove(v);
    if (v.file) vmaFilePut(m, v.file);
  }
  // free_pgtables(): the floor/ceiling are the neighbouring VMAs' edges.
  const prev = mm.vmas.filter((v) => v.end <= start).pop();
  const next = mm.findVma(end);
  freePgtables(m, mm, prev ? prev.end : 0, next ? next.start : 2 ** 48);
}

/**
 * remove_vma() -> fput(vma->vm_file): the mapping's reference to the file goes; the last reference
 * to an unlinked file (or to the shmem object behind MAP_SHARED|MAP_ANONYMOUS) evicts its page
 * cache (iput() -> evict() -> truncate_inode_pages_final()).
 */
export function vmaFilePut(m: Machine, inode: Inode): void {
  inode.refs--;
  releaseIfUnused(m, inode);
}

/** munmap(2) (mm/mmap.c: __vm_munmap()). */
export function sysMunmap(m: Machine, mm: Mm, addr: number, len: number): number {
  if (offsetInPage(addr) || addr > TASK_SIZE_MAX || len > TASK_SIZE_MAX - addr) return -EINVAL;
  len = pageAlign(len);
  if (len === 0) return -EINVAL;
  mm.lock.downWrite(m.current.pid);
  unmapRange(m, mm, addr, addr + len);
  mm.lock.upWrite(m.current.pid);
  return 0;
}

/**
 * The shmem file behind MAP_SHARED|MAP_ANONYMOUS (mm/shmem.c: shmem_zero_setup()): an unlinked
 * inode, so it is kept with the other orphans (its page cache holds references) until the last
 * mapping goes.
 */
function shmemZeroSetup(m: Machine, len: number): Inode {
  const ino = new Inode('shmem', '/dev/zero (deleted)');
  ino.size = len;
  ino.nlink = 0;
  m.orphanInodes.add(ino);
  return ino;
}

/** security_vm_enough_memory() under OVERCOMMIT_GUESS: refuse what could never fit (mm/util.c). */
function vmEnoughMemory(m: Machine, pages: number): boolean {
  return pages <= m.pages.nr;
}

export interface MmapArgs {
  addr: number;
  len: number;
  prot: number;
  flags: number;
  file: OpenFile | null;
  pgoff: number;
}

/** do_mmap() + mmap_region(): returns the address or -errno. Caller holds mmap_lock for write. */
export function doMmap(m: Machine, mm: Mm, a: MmapArgs): number {
  let { addr, len } = a;
  const { prot, file } = a;
  let { flags } = a;
  let pgoff = a.pgoff;
  if (len === 0) return -EINVAL;
  // Force the MAP_FIXED handling of get_unmapped_area() (the overlap check comes below).
  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
  if (!(flags & MAP_FIXED) && addr !== 0 && addr < MMAP_MIN_ADDR) addr = MMAP_MIN_ADDR; // round_hint_to_min()
  len = pageAlign(len);
  if (len === 0 || len > TASK_SIZE_MAX) return -ENOMEM;
  if (pgoff + len / PAGE_SIZE > Number.MAX_SAFE_INTEGER / PAGE_SIZE) return -EOVERFLOW;
  if (mm.vmas.length > MAX_MAP_COUNT) return -ENOMEM;
  let pkey = 0;
  if (prot === PROT_EXEC) {
    pkey = executeOnlyPkey(m, mm);
    if (pkey < 0) pkey = 0;
  }
  addr = getUnmappedArea(mm, addr, len, flags);
  if (addr < 0) return addr;
  if (flags & MAP_FIXED_NOREPLACE && mm.overlapping(addr, addr + len).length) return -EEXIST;
  let vmFlags = calcVmProtBits(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (flags & MAP_GROWSDOWN) vmFlags |= VM_GROWSDOWN;
  if (flags & MAP_LOCKED) vmFlags |= VM_LOCKED;
  if (flags & MAP_NORESERVE) vmFlags |= VM_NORESERVE;
  let inode: Inode | null = null;
  const type = flags & MAP_TYPE;
  if (file) {
    inode = file.inode;
    // do_mmap()'s file switch: the MAP_SHARED checks fall through to the MAP_PRIVATE ones.
    if (type !== MAP_SHARED && type !== MAP_SHARED_VALIDATE && type !== MAP_PRIVATE) return -EINVAL;
    if (type !== MAP_PRIVATE) {
      if (prot & PROT_WRITE && !file.writable()) return -EACCES;
      vmFlags |= VM_SHARED | VM_MAYSHARE;
      if (!file.writable()) vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
    }
    if (!file.readable()) return -EACCES;
    if (inode.kind === 'pipe') return -ENODEV; // no file->f_op->mmap
    if (vmFlags & VM_GROWSDOWN) return -EINVAL;
  } else {
    // Anonymous: MAP_SHARED or MAP_PRIVATE only (MAP_SHARED_VALIDATE falls to default: EINVAL).
    switch (type) {
      case MAP_SHARED:
        if (vmFlags & VM_GROWSDOWN) return -EINVAL;
        pgoff = 0;
        vmFlags |= VM_SHARED | VM_MAYSHARE;
        break;
      case MAP_PRIVATE:
        pgoff = addr / PAGE_SIZE;
        break;
      default:
        return -EINVAL;
    }
  }
  // mmap_region(): private writable memory is charged against overcommit.
  if ((vmFlags & (VM_SHARED | VM_WRITE)) === VM_WRITE && !(vmFlags & VM_NORESERVE)) {
    if (!vmEnoughMemory(m, len / PAGE_SIZE)) return -ENOMEM;
    vmFlags |= VM_ACCOUNT;
  }
  unmapRange(m, mm, addr, addr + len);
  if (!file && vmFlags & VM_SHARED) inode = shmemZeroSetup(m, len);
  if (inode) inode.refs++;
  const vma = new Vma(mm, addr, addr + len, vmFlags, pkey, inode, pgoff);
  mm.insert(vma);
  // __mmap_region(): a new (or expanded) VMA always gets VM_SOFTDIRTY.
  mergeNeighbours(mm, vma).flags |= VM_SOFTDIRTY;
  return addr;
}

/** expand_stack() / expand_downwards(): grow a VM_GROWSDOWN VMA down to addr. 0 or -ENOMEM. */
export function expandStack(m: Machine, vma: Vma, addr: number): number {
  const mm = vma.mm;
  const start = addr - offsetInPage(addr);
  if (start < MMAP_MIN_ADDR) return -ENOMEM;
  if (vma.end - start > RLIMIT_STACK) return -ENOMEM;
  const prev = mm.prevVma(vma);
  // Only an accessible neighbour enforces the guard gap (mm/mmap.c: expand_downwards()).
  if (prev && !(prev.flags & VM_GROWSDOWN) && vmaIsAccessible(prev) && start - prev.end < STACK_GUARD_GAP) return -ENOMEM;
  vma.pgoff -= (vma.start - start) / PAGE_SIZE;
  vma.start = start;
  if (m.trace.on) m.trace.decision('FLT-1', 'expand_stack', 'info', `stack grows down to 0x${start.toString(16)}`);
  return 0;
}

/** mmap(2) as the syscall layer sees it: fd lookup and offset checks (arch/x86/kernel/sys_x86_64.c). */
export function sysMmap(m: Machine, addr: number, len: number, prot: number, flags: number, fd: number, off: number): number {
  const task = m.current;
  const mm = task.mm!;
  if (offsetInPage(off)) return -EINVAL;
  let file: OpenFile | null = null;
  if (!(flags & MAP_ANONYMOUS)) {
    file = task.group.files.get(fd);
    if (!file) return -EBADF;
  }
  mm.lock.downWrite(task.pid);
  const r = doMmap(m, mm, { addr, len, prot, flags, file, pgoff: off / PAGE_SIZE });
  mm.lock.upWrite(task.pid);
  if (r >= 0 && flags & MAP_POPULATE && !(flags & MAP_NONBLOCK)) m.populateRange(mm, r, r + pageAlign(len));
  return r;
}

export const VM_LOCKED_FLAG = VM_LOCKED;
