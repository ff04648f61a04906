// The generic fault handler and page-table population/teardown (mm/memory.c).
import {
  PTE_A, PTE_D, PTE_P, PTE_PROTNONE, PTE_RW, PTE_SPECIAL, PTE_US, PTE_HI_NX, PAGE_SIZE,
  PTE_HI_PFN_MASK, SWP_HWPOISON, isSwapPte, ptePfn, pteLo, pteHi, ptePkey, swpType,
} from '../hw/pte.js';
import { PhysMem } from '../hw/physmem.js';
import type { Machine } from '../kernel/machine.js';
import type { Mm } from './mm.js';
import { PG_anon, PG_anon_exclusive, PG_dirty, PG_hwpoison, PG_referenced, PG_swapbacked, ZERO_PFN } from './page.js';
import { forEachPte, forEachPteTable, pteAlloc, ptepTable, pteLookup, readPteHi, readPteLo, writePte, type Ptep } from './pgtable.js';
import { filemapGetPage, type CachePage } from './filemap.js';
import { archVmaAccessPermitted } from './pkeys.js';
import { VM_UFFD_MISSING, handleUserfault } from './userfaultfd.js';
import { VM_EXEC, VM_MAYSHARE, VM_MAYWRITE, VM_SHARED, VM_WRITE, isCowMapping, vmaIsAccessible, type Vma } from './vma.js';

// include/linux/mm_types.h: enum fault_flag
export const FAULT_FLAG_WRITE = 1 << 0;
export const FAULT_FLAG_MKWRITE = 1 << 1;
export const FAULT_FLAG_ALLOW_RETRY = 1 << 2;
export const FAULT_FLAG_RETRY_NOWAIT = 1 << 3;
export const FAULT_FLAG_KILLABLE = 1 << 4;
export const FAULT_FLAG_TRIED = 1 << 5;
export const FAULT_FLAG_USER = 1 << 6;
export const FAULT_FLAG_REMOTE = 1 << 7;
export const FAULT_FLAG_INSTRUCTION = 1 << 8;
export const FAULT_FLAG_INTERRUPTIBLE = 1 << 9;
export const FAULT_FLAG_UNSHARE = 1 << 10;

// include/linux/mm_types.h: enum vm_fault_reason
export const VM_FAULT_OOM = 0x000001;
export const VM_FAULT_SIGBUS = 0x000002;
export const VM_FAULT_MAJOR = 0x000004;
export const VM_FAULT_HWPOISON = 0x000010;
export const VM_FAULT_SIGSEGV = 0x000040;
export const VM_FAULT_NOPAGE = 0x000100;
export const VM_FAULT_RETRY = 0x000400;
export const VM_FAULT_COMPLETED = 0x004000;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON;

let nextAnonVma = 1;


/** mm/rmap.c: anon_vma_prepare() (the model only needs its identity, for VMA merging). */
export function anonVmaPrepare(vma: Vma): void {
  if (vma.anonVma === 0) vma.anonVma = nextAnonVma++;
}

/** A fresh anon_vma identity (anon_vma_fork() gives the child its own). */
export function newAnonVma(): number {
  return nextAnonVma++;
}

/** Does this mapping need write faults to track dirtying (mm/mmap.c: vma_wants_writenotify())? */
export function vmaWantsWritenotify(vma: Vma): boolean {
  return (vma.flags & (VM_WRITE | VM_SHARED)) === (VM_WRITE | VM_SHARED) && vma.file !== null && vma.file.kind === 'reg';
}

/**
 * vm_get_page_prot() (x86 protection_map + arch_vm_get_page_prot()): the low flags of a new PTE
 * and its high half (NX, pkey) before the pfn is added.
 */
export function vmPageProtLo(vma: Vma): number {
  if (!vmaIsAccessible(vma)) return PTE_PROTNONE | PTE_A;
  let lo = PTE_P | PTE_US | PTE_A;
  if ((vma.flags & (VM_WRITE | VM_SHARED)) === (VM_WRITE | VM_SHARED) && !vmaWantsWritenotify(vma)) lo |= PTE_RW;
  return lo;
}

export function vmPageProtHi(vma: Vma): number {
  return pteHi(0, vma.pkey, (vma.flags & VM_EXEC) === 0);
}

/** The entry mkPte() built (module scratch instead of a returned pair: no allocation per fault). */
let mkLo = 0;
let mkHi = 0;

/** mk_pte() + maybe_mkwrite()/pte_mkdirty() as the fault paths use them; the result is in mkLo/mkHi. */
function mkPte(vma: Vma, pfn: number, write: boolean, dirty: boolean, special: boolean): void {
  let lo = vmPageProtLo(vma);
  if (dirty) lo |= PTE_D;
  if (write && vma.flags & VM_WRITE) lo |= PTE_RW; // maybe_mkwrite()
  if (special) lo |= PTE_SPECIAL;
  mkLo = pteLo(pfn, lo);
  mkHi = (vmPageProtHi(vma) | pteHi(pfn, 0, false)) >>> 0;
}

function rssInc(m: Machine, mm: Mm, pfn: number, n: number): void {
  if (m.pages.isAnon(pfn)) mm.rssAnon += n;
  else if (m.pages.testFlag(pfn, PG_swapbacked)) mm.rssShmem += n;
  else mm.rssFile += n;
}

/** vm_normal_page(): the struct page behind a PTE, or -1 for special (zero page, pfn maps). */
export function vmNormalPage(lo: number, hi: number): number {
  if (lo & PTE_SPECIAL) return -1;
  return ptePfn(lo, hi);
}

const cacheResult: CachePage = { pfn: -1, major: false };

/** mm/memory.c: handle_mm_fault(): entry checks, the pkey gate, then the PTE-level handler. */
export function handleMmFault(m: Machine, vma: Vma, address: number, flags: number): number {
  const tr = m.trace.on;
  if (tr) m.trace.enter('handle_mm_fault', `addr=0x${address.toString(16)} flags=${faultFlagNames(flags)}`);
  let ret: number;
  // sanitize_fault_flags()
  if (flags & FAULT_FLAG_UNSHARE && !isCowMapping(vma.flags)) flags &= ~FAULT_FLAG_UNSHARE;
  if (flags & FAULT_FLAG_WRITE && (!(vma.flags & VM_MAYWRITE) || (!(vma.flags & VM_WRITE) && !isCowMapping(vma.flags)))) {
    ret = VM_FAULT_SIGSEGV;
  } else if (!archVmaAccessPermitted(m, vma, (flags & FAULT_FLAG_WRITE) !== 0, (flags & FAULT_FLAG_INSTRUCTION) !== 0,
    (flags & FAULT_FLAG_REMOTE) !== 0)) {
    ret = VM_FAULT_SIGSEGV;
  } else {
    // address & PAGE_MASK (Math.floor: a % on a double beyond 2^31 costs ~20 ns, this is the fault path)
    ret = handlePteFault(m, vma, Math.floor(address / PAGE_SIZE) * PAGE_SIZE, flags);
  }
  mmAccountFault(m, flags, ret);
  if (tr) m.trace.exit('handle_mm_fault', vmFaultNames(ret));
  return ret;
}

/** mm/memory.c: mm_account_fault() (ACC-2); the 2016 profile counts in the callers instead (ACC-1). */
function mmAccountFault(m: Machine, flags: number, ret: number): void {
  if (ret & VM_FAULT_RETRY) return;
  m.vmstat.pgfault++;
  if (ret & VM_FAULT_ERROR) return;
  if (ret & VM_FAULT_MAJOR) m.vmstat.pgmajfault++;
  if (m.profile.faultAccounting !== 'current') return;
  const major = (ret & VM_FAULT_MAJOR) !== 0 || (m.profile.triedIsMajor && (flags & FAULT_FLAG_TRIED) !== 0);
  if (major) m.current.majFlt++;
  else m.current.minFlt++;
}

function handlePteFault(m: Machine, vma: Vma, addr: number, flags: number): number {
  const mm = vma.mm;
  const ptep = pteAlloc(m, mm, addr);
  if (ptep < 0) return VM_FAULT_OOM;
  const lo = readPteLo(m.mem, ptep);
  const hi = readPteHi(m.mem, ptep);
  if (lo === 0 && hi === 0) {
    return vma.isAnonymous() ? doAnonymousPage(m, vma, addr, ptep, flags) : doFault(m, vma, addr, ptep, flags);
  }
  if (!(lo & PTE_P)) {
    // A protnone entry in an accessible VMA: NUMA hinting (do_numa_page) restores the protection.
    if (lo & PTE_PROTNONE && vmaIsAccessible(vma)) {
      const pfn = ptePfn(lo, hi);
      mkPte(vma, pfn, false, (lo & PTE_D) !== 0, (lo & PTE_SPECIAL) !== 0);
      writePte(m, ptep, mkLo, mkHi);
      m.flushTlbPage(mm, addr);
      return 0;
    }
    // do_swap_page(): a hwpoison entry left by memory_failure() -> VM_FAULT_HWPOISON.
    if (isSwapPte(lo, hi) && swpType(hi) === SWP_HWPOISON) return VM_FAULT_HWPOISON;
    return VM_FAULT_SIGBUS;
  }
  const pfn = vmNormalPage(lo, hi);
  if (pfn >= 0 && m.pages.testFlag(pfn, PG_hwpoison)) return VM_FAULT_HWPOISON;
  if (flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) {
    if (!(lo & PTE_RW)) return doWpPage(m, vma, addr, ptep, lo, hi, flags);
    if (flags & FAULT_FLAG_WRITE) writePte(m, ptep, lo | PTE_D | PTE_A, hi);
  } else {
    writePte(m, ptep, lo | PTE_A, hi); // spurious or A-bit fault
  }
  return 0;
}

/** mm/memory.c: do_anonymous_page(). */
function doAnonymousPage(m: Machine, vma: Vma, addr: number, ptep: Ptep, flags: number, uffdCopy = false): number {
  if (vma.flags & VM_UFFD_MISSING && !uffdCopy) {
    return handleUserfault(m, vma, addr, flags, (fill) => {
      // The monitor's UFFDIO_COPY: a new anon page with its contents (mfill_atomic_pte_copy()).
      const r = doAnonymousPage(m, vma, addr, ptep, FAULT_FLAG_WRITE, true);
      if (!r) m.mem.frame(ptePfn(readPteLo(m.mem, ptep), readPteHi(m.mem, ptep))).fill(fill);
      return r;
    });
  }
  if (!(flags & FAULT_FLAG_WRITE)) {
    // Map the shared zero page read-only; it has no struct page reference (pte_mkspecial).
    mkPte(vma, ZERO_PFN, false, false, true);
    writePte(m, ptep, mkLo, mkHi);
    if (m.trace.on) m.trace.decision('FLT-6', 'do_anonymous_page', 'info', 'read fault: map the shared zero page');
    return 0;
  }
  const pfn = m.pages.alloc(true);
  if (pfn < 0) return VM_FAULT_OOM;
  anonVmaPrepare(vma);
  m.pages.setFlag(pfn, PG_anon | PG_anon_exclusive | PG_swapbacked | PG_referenced);
  m.pages.index[pfn] = vma.pageIndex(addr);
  m.pages.mapcount[pfn] = 1;
  mkPte(vma, pfn, true, true, false);
  writePte(m, ptep, mkLo, mkHi);
  vma.mm.rssAnon++;
  if (m.trace.on) m.trace.decision('FLT-6', 'do_anonymous_page', 'info', `write fault: new zeroed anon page pfn 0x${pfn.toString(16)}`);
  return 0;
}

/** mm/memory.c: do_fault() -> do_read_fault() / do_cow_fault() / do_shared_fault(). */
function doFault(m: Machine, vma: Vma, addr: number, ptep: Ptep, flags: number): number {
  const inode = vma.file!;
  const index = vma.pageIndex(addr);
  // filemap_fault(): beyond end of file is SIGBUS.
  if (index * PAGE_SIZE >= Math.ceil(inode.size / PAGE_SIZE) * PAGE_SIZE && inode.kind === 'reg') return VM_FAULT_SIGBUS;
  filemapGetPage(m, inode, index, cacheResult);
  const page = cacheResult.pfn;
  if (page < 0) return VM_FAULT_OOM;
  const major = cacheResult.major ? VM_FAULT_MAJOR : 0;
  if (major && flags & FAULT_FLAG_ALLOW_RETRY) {
    // filemap_fault(): the read went to disk with mmap_lock dropped (maybe_unlock_mmap_for_io());
    // the page is now cached and the caller retries. With RETRY_NOWAIT the lock is kept.
    m.pages.put(page);
    if (!(flags & FAULT_FLAG_RETRY_NOWAIT)) vma.mm.lock.upRead(m.current.pid);
    if (m.trace.on) m.trace.decision('FLT-6', 'filemap_fault', 'info', `page ${index} read from disk with mmap_lock dropped: VM_FAULT_RETRY`);
    return VM_FAULT_RETRY | VM_FAULT_MAJOR;
  }
  if (m.pages.testFlag(page, PG_hwpoison)) {
    m.pages.put(page);
    return VM_FAULT_HWPOISON;
  }
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  if (write && !(vma.flags & VM_SHARED)) {
    // do_cow_fault(): a private copy of the file page.
    const copy = m.pages.alloc(false);
    if (copy < 0) {
      m.pages.put(page);
      return VM_FAULT_OOM;
    }
    m.mem.copyFrame(copy, page);
    m.pages.put(page);
    anonVmaPrepare(vma);
    m.pages.setFlag(copy, PG_anon | PG_anon_exclusive | PG_swapbacked | PG_referenced);
    m.pages.index[copy] = index;
    m.pages.mapcount[copy] = 1;
    mkPte(vma, copy, true, true, false);
    writePte(m, ptep, mkLo, mkHi);
    vma.mm.rssAnon++;
    if (m.trace.on) m.trace.decision('FLT-6', 'do_cow_fault', 'info', `private write: copy of file page ${index}`);
    return major;
  }
  // do_read_fault() / do_shared_fault(): map the page-cache page itself (keeping the reference).
  m.pages.mapcount[page]!++;
  m.pages.setFlag(page, PG_referenced);
  if (write) m.pages.setFlag(page, PG_dirty);
  mkPte(vma, page, write, write, false);
  writePte(m, ptep, mkLo, mkHi);
  rssInc(m, vma.mm, page, 1);
  return major;
}

/** mm/memory.c: do_wp_page(): a write (or unshare) fault on a present read-only PTE. */
function doWpPage(m: Machine, vma: Vma, addr: number, ptep: Ptep, lo: number, hi: number, flags: number): number {
  const unshare = (flags & FAULT_FLAG_UNSHARE) !== 0;
  const pfn = vmNormalPage(lo, hi);
  if (vma.flags & (VM_SHARED | VM_MAYSHARE)) {
    if (unshare) return 0;
    // wp_page_shared(): page_mkwrite + make the PTE writable and dirty.
    if (pfn >= 0) m.pages.setFlag(pfn, PG_dirty);
    writePte(m, ptep, (lo | PTE_RW | PTE_D | PTE_A) >>> 0, hi);
    m.flushTlbPage(vma.mm, addr);
    return 0;
  }
  if (pfn >= 0 && m.pages.isAnon(pfn)) {
    // wp_can_reuse_anon_folio(): exclusive, or we hold the only reference.
    const exclusive = m.pages.testFlag(pfn, PG_anon_exclusive);
    if (exclusive || m.pages.refcount[pfn] === 1) {
      m.pages.setFlag(pfn, PG_anon_exclusive);
      if (unshare) return 0;
      // wp_page_reuse()
      let nlo = lo | PTE_D | PTE_A;
      if (vma.flags & VM_WRITE) nlo |= PTE_RW;
      writePte(m, ptep, nlo >>> 0, hi);
      m.flushTlbPage(vma.mm, addr);
      if (m.trace.on) m.trace.decision('FLT-6', 'wp_page_reuse', 'info', `anon page 0x${pfn.toString(16)} is exclusive: reuse`);
      return 0;
    }
  }
  return wpPageCopy(m, vma, addr, ptep, lo, hi, pfn, unshare);
}

/** mm/memory.c: wp_page_copy(): COW (or unshare) into a new exclusive anon page. */
function wpPageCopy(m: Machine, vma: Vma, addr: number, ptep: Ptep, lo: number, hi: number, old: number, unshare: boolean): number {
  const isZero = old < 0 && ptePfn(lo, hi) === ZERO_PFN;
  const copy = m.pages.alloc(isZero);
  if (copy < 0) return VM_FAULT_OOM;
  if (!isZero) m.mem.copyFrame(copy, ptePfn(lo, hi));
  anonVmaPrepare(vma);
  m.pages.setFlag(copy, PG_anon | PG_anon_exclusive | PG_swapbacked | PG_referenced);
  m.pages.index[copy] = vma.pageIndex(addr);
  m.pages.mapcount[copy] = 1;
  mkPte(vma, copy, !unshare, !unshare, false);
  writePte(m, ptep, mkLo, mkHi);
  m.flushTlbPage(vma.mm, addr);
  vma.mm.rssAnon++;
  if (old >= 0) {
    if (m.pages.isAnon(old)) vma.mm.rssAnon--;
    else if (m.pages.testFlag(old, PG_swapbacked)) vma.mm.rssShmem--;
    else vma.mm.rssFile--;
    m.pages.mapcount[old]!--;
    m.pages.put(old);
  }
  if (m.trace.on) m.trace.decision('FLT-6', unshare ? 'wp_page_copy (unshare)' : 'wp_page_copy', 'info',
    `${isZero ? 'zero page' : `page 0x${ptePfn(lo, hi).toString(16)}`} copied to 0x${copy.toString(16)}`);
  return 0;
}

/** Release one mapped PTE (zap_present_ptes()): rmap, RSS, dirty bit, reference. */
function zapPte(m: Machine, mm: Mm, lo: number, hi: number): void {
  if (!(lo & (PTE_P | PTE_PROTNONE))) return; // zap_nonpresent_ptes(): a hwpoison entry holds no page
  const pfn = vmNormalPage(lo, hi);
  if (pfn < 0) return;
  if (m.pages.isAnon(pfn)) mm.rssAnon--;
  else if (m.pages.testFlag(pfn, PG_swapbacked)) mm.rssShmem--;
  else {
    mm.rssFile--;
    if (lo & PTE_D) m.pages.setFlag(pfn, PG_dirty);
  }
  m.pages.mapcount[pfn]!--;
  m.pages.put(pfn);
}

/** mm/memory.c: zap_page_range_single()/unmap_page_range(): clear every PTE in [start, end). */
export function zapRange(m: Machine, mm: Mm, start: number, end: number): void {
  forEachPte(m.mem, mm, start, end, (_va, p, lo, hi) => {
    zapPte(m, mm, lo, hi);
    writePte(m, p, 0, 0);
  });
  m.flushTlbRange(mm, start, end);
}

/**
 * mm/mprotect.c: change_pte_range(): rewrite present (and protnone) PTEs with the VMA's new
 * protection and pkey, keeping pfn, A, D, SPECIAL; upgrade to writable where the fault handler
 * would do so anyway (can_change_pte_writable()).
 */
export function changeProtection(m: Machine, vma: Vma, start: number, end: number): void {
  const keep = PTE_A | PTE_D | PTE_SPECIAL;
  const newLo = vmPageProtLo(vma);
  const newHi = vmPageProtHi(vma);
  const mayUpgrade = (vma.flags & VM_WRITE) !== 0 && (newLo & PTE_P) !== 0;
  const shared = (vma.flags & VM_SHARED) !== 0;
  const notify = vmaWantsWritenotify(vma);
  const P = m.pages;
  // A table at a time, entries written in place; the TLB range is flushed after the loop.
  forEachPteTable(m.mem, vma.mm, start, end, (table, i0, i1) => {
    const s = m.mem.slab32(table);
    const w = PhysMem.wordOffset(table);
    for (let i = i0; i < i1; i++) {
      const e = w + 2 * i;
      const lo = s[e]!;
      if (!(lo & (PTE_P | PTE_PROTNONE))) continue;
      const hi = s[e + 1]!;
      let nlo = (lo & ~0xfff) | (((lo & keep) | newLo) & 0xfff); // pfn kept
      if (mayUpgrade && !(nlo & PTE_RW) && lo & PTE_P && !(notify && !(lo & PTE_D))) {
        // can_change_pte_writable()
        const page = vmNormalPage(lo, hi);
        const ok = shared ? (lo & PTE_D) !== 0 : page >= 0 && P.isAnon(page) && P.testFlag(page, PG_anon_exclusive);
        if (ok) nlo |= PTE_RW;
      }
      s[e] = nlo >>> 0;
      s[e + 1] = (newHi | (hi & PTE_HI_PFN_MASK)) >>> 0;
    }
  });
  m.flushTlbRange(vma.mm, start, end);
}

/**
 * mm/memory.c: copy_page_range() for fork: share pages with the child, write-protecting both
 * sides of private mappings; pages that may be DMA-pinned are copied eagerly
 * (copy_present_page()). Returns false on OOM.
 */
export function copyPageRange(m: Machine, dst: Vma, src: Vma): boolean {
  // vma_needs_copy(): without anon pages the child can refault everything from the file.
  if (!src.anonVma && !(src.flags & 0x400 /* VM_PFNMAP */)) return true;
  const cow = isCowMapping(src.flags);
  const shared = (src.flags & VM_SHARED) !== 0;
  const pinned = src.mm.hasPinned;
  const P = m.pages;
  let ok = true;
  // copy_pte_range(): a source table at a time into the child's table for the same 2 MiB. The
  // child's entries are new (no TLB to flush); the parent's write-protected ones are flushed after.
  forEachPteTable(m.mem, src.mm, src.start, src.end, (table, i0, i1, base) => {
    if (!ok) return;
    const dp = pteAlloc(m, dst.mm, base + i0 * PAGE_SIZE);
    if (dp < 0) {
      ok = false;
      return;
    }
    const s = m.mem.slab32(table);
    const sw = PhysMem.wordOffset(table);
    const dtable = ptepTable(dp);
    const d = m.mem.slab32(dtable);
    const dw = PhysMem.wordOffset(dtable);
    for (let i = i0; i < i1; i++) {
      const e = sw + 2 * i;
      const lo = s[e]!;
      const hi = s[e + 1]!;
      if (lo === 0 && hi === 0) continue;
      const de = dw + 2 * i;
      if (!(lo & (PTE_P | PTE_PROTNONE))) {
        d[de] = lo; // copy_nonpresent_pte(): a hwpoison entry is copied as is
        d[de + 1] = hi;
        continue;
      }
      const pfn = vmNormalPage(lo, hi);
      if (pinned && pfn >= 0 && P.isAnon(pfn) && P.maybeDmaPinned(pfn)) {
        // copy_present_page(): the parent may be writing through a pin: the child gets its own copy now.
        const copy = P.alloc(false);
        if (copy < 0) {
          ok = false;
          return;
        }
        m.mem.copyFrame(copy, pfn);
        P.setFlag(copy, PG_anon | PG_anon_exclusive | PG_swapbacked);
        P.mapcount[copy] = 1;
        d[de] = pteLo(copy, lo & 0xfff & ~PTE_A);
        d[de + 1] = ((hi & ~PTE_HI_PFN_MASK) | pteHi(copy, 0, false)) >>> 0;
        dst.mm.rssAnon++;
        continue;
      }
      let clo = lo;
      if (pfn >= 0) {
        if (P.isAnon(pfn)) P.clearFlag(pfn, PG_anon_exclusive); // page_try_dup_anon_rmap()
        P.get(pfn);
        P.mapcount[pfn]!++;
        rssInc(m, dst.mm, pfn, 1);
      }
      if (cow && lo & PTE_RW) {
        clo &= ~PTE_RW;
        s[e] = (lo & ~PTE_RW) >>> 0; // ptep_set_wrprotect() on the parent
      }
      if (shared) clo &= ~PTE_D; // pte_mkclean()
      clo &= ~PTE_A; // pte_mkold()
      d[de] = clo >>> 0;
      d[de + 1] = hi;
    }
  });
  // The parent's write-protected entries (flush_tlb_mm() in dup_mmap()).
  if (cow) m.flushTlbRange(src.mm, src.start, src.end);
  return ok;
}

/** The page at addr as currently mapped (for display and tests), or null. */
export function lookupPte(m: Machine, mm: Mm, addr: number): { lo: number; hi: number; pfn: number; pkey: number } | null {
  const p = pteLookup(m, mm, addr);
  if (p < 0) return null;
  const lo = readPteLo(m.mem, p);
  const hi = readPteHi(m.mem, p);
  if (lo === 0 && hi === 0) return null;
  return { lo, hi, pfn: ptePfn(lo, hi), pkey: ptePkey(hi) };
}

export function faultFlagNames(f: number): string {
  const names: [number, string][] = [
    [FAULT_FLAG_WRITE, 'WRITE'], [FAULT_FLAG_MKWRITE, 'MKWRITE'], [FAULT_FLAG_ALLOW_RETRY, 'ALLOW_RETRY'],
    [FAULT_FLAG_RETRY_NOWAIT, 'RETRY_NOWAIT'], [FAULT_FLAG_KILLABLE, 'KILLABLE'], [FAULT_FLAG_TRIED, 'TRIED'],
    [FAULT_FLAG_USER, 'USER'], [FAULT_FLAG_REMOTE, 'REMOTE'], [FAULT_FLAG_INSTRUCTION, 'INSTRUCTION'],
    [FAULT_FLAG_INTERRUPTIBLE, 'INTERRUPTIBLE'], [FAULT_FLAG_UNSHARE, 'UNSHARE'],
  ];
  const out = names.filter(([b]) => f & b).map(([, n]) => n);
  return out.length ? out.join('|') : '0';
}

export function vmFaultNames(r: number): string {
  const names: [number, string][] = [
    [VM_FAULT_OOM, 'OOM'], [VM_FAULT_SIGBUS, 'SIGBUS'], [VM_FAULT_MAJOR, 'MAJOR'], [VM_FAULT_HWPOISON, 'HWPOISON'],
    [VM_FAULT_SIGSEGV, 'SIGSEGV'], [VM_FAULT_NOPAGE, 'NOPAGE'], [VM_FAULT_RETRY, 'RETRY'], [VM_FAULT_COMPLETED, 'COMPLETED'],
  ];
  const out = names.filter(([b]) => r & b).map(([, n]) => 'VM_FAULT_' + n);
  return out.length ? out.join('|') : '0';
}

export { PTE_HI_NX };
