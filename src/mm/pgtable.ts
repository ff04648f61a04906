// Page-table management: allocation of table pages on demand (mm/memory.c: __pte_alloc() and the
// p4d/pud/pmd variants), lookups (pte_offset_map()) and freeing of empty tables
// (mm/memory.c: free_pgd_range()). Tables live in physical frames, entries bit-exact.
import type { PhysMem } from '../hw/physmem.js';
import { PTE_A, PTE_D, PTE_P, PTE_RW, PTE_US, ptePfn, pteLo, pteHi } from '../hw/pte.js';
import { PG_table, type Pages } from './page.js';
import type { Mm } from './mm.js';

/** _PAGE_TABLE: the flags of a user upper-level entry (arch/x86/include/asm/pgtable_types.h). */
export const PAGE_TABLE_FLAGS = PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D;

/** A reference to one entry: (table pfn) * 512 + index. */
export type Ptep = number;
export const ptepTable = (p: Ptep): number => Math.floor(p / 512);
export const ptepIndex = (p: Ptep): number => p % 512;

export interface PgtableOps {
  mem: PhysMem;
  pages: Pages;
}

/** Allocate a zeroed table page; -1 on OOM. */
export function allocTablePage(k: PgtableOps): number {
  const pfn = k.pages.alloc(true);
  if (pfn >= 0) k.pages.setFlag(pfn, PG_table);
  return pfn;
}

/** pte_offset_map() without allocation: the PTE slot for va, or -1 if a table is missing. */
export function pteLookup(k: PgtableOps, mm: Mm, va: number): Ptep {
  const vpn = Math.floor(va / 4096);
  let table = mm.pgd;
  for (let level = 0; level < 3; level++) {
    const i = upperIndex(vpn, level);
    const lo = k.mem.entryLo(table, i);
    if ((lo & PTE_P) === 0) return -1;
    table = ptePfn(lo, k.mem.entryHi(table, i));
  }
  return table * 512 + (vpn & 511);
}

/** vaIndices(va)[level] for level 0..2 (PGD, PUD, PMD) from the page number, without an array. */
function upperIndex(vpn: number, level: number): number {
  return level === 0 ? Math.floor(vpn / 0x8000000) & 511 : level === 1 ? (vpn >>> 18) & 511 : (vpn >>> 9) & 511;
}

/** The PTE slot for va, allocating missing tables; -1 when RAM is exhausted. */
export function pteAlloc(k: PgtableOps, mm: Mm, va: number): Ptep {
  const vpn = Math.floor(va / 4096);
  let table = mm.pgd;
  for (let level = 0; level < 3; level++) {
    const i = upperIndex(vpn, level);
    const lo = k.mem.entryLo(table, i);
    if ((lo & PTE_P) === 0) {
      const t = allocTablePage(k);
      if (t < 0) return -1;
      if (level === 2) setPteTableOwner(k.pages, t, mm.pgd, vpn);
      k.mem.setEntry(table, i, pteLo(t, PAGE_TABLE_FLAGS), pteHi(t, 0, false));
      table = t;
    } else {
      table = ptePfn(lo, k.mem.entryHi(table, i));
    }
  }
  return table * 512 + (vpn & 511);
}

export function readPteLo(mem: PhysMem, p: Ptep): number {
  return mem.entryLo(ptepTable(p), ptepIndex(p));
}

export function readPteHi(mem: PhysMem, p: Ptep): number {
  return mem.entryHi(ptepTable(p), ptepIndex(p));
}

/**
 * A leaf PTE table records whose it is and which 2 MiB it maps, in its struct page (as ptdesc's
 * pt_mm and pt_index do), so that rewriting one of its entries can find the TLB entry to drop.
 */
function setPteTableOwner(pages: Pages, table: number, pgd: number, vpn: number): void {
  pages.mapping[table] = pgd;
  pages.index[table] = Math.floor(vpn / 512);
}

/**
 * set_pte() of a leaf entry. Rewriting a present entry also drops its TLB entry: the model's
 * stand-in for the flush_tlb_page() that Linux issues after such a change (hw/tlb.ts).
 */
export function writePte(k: PgtableOps, p: Ptep, lo: number, hi: number): void {
  const table = ptepTable(p);
  const idx = ptepIndex(p);
  const old = k.mem.entryLo(table, idx);
  k.mem.setEntry(table, idx, lo >>> 0, hi >>> 0);
  if (old & PTE_P) k.mem.tlbs.peek(k.pages.mapping[table]!)?.flushPage(k.pages.index[table]! * 512 + idx);
}

function tableEmpty(mem: PhysMem, pfn: number): boolean {
  for (let i = 0; i < 512; i++) if (mem.entryLo(pfn, i) !== 0 || mem.entryHi(pfn, i) !== 0) return false;
  return true;
}

/**
 * free_pgd_range(): after [start, end) was unmapped, free every table page that covers only
 * addresses in [floor, ceiling) (the gap between the neighbouring VMAs), bottom-up.
 */
export function freePgtables(k: PgtableOps, mm: Mm, floor: number, ceiling: number): void {
  const spans = [2 ** 39, 2 ** 30, 2 ** 21]; // bytes covered by one PGD, PUD, PMD entry
  const walk = (table: number, level: number, base: number): void => {
    const span = spans[level]!;
    const first = Math.max(0, Math.floor((floor - base) / span));
    const last = Math.min(511, Math.floor((ceiling - 1 - base) / span));
    for (let i = first; i <= last; i++) {
      const lo = k.mem.entryLo(table, i);
      if ((lo & PTE_P) === 0) continue;
      const child = ptePfn(lo, k.mem.entryHi(table, i));
      const cStart = base + i * span;
      if (level < 2) walk(child, level + 1, cStart);
      // Only a table wholly inside the free gap may go, and only once it maps nothing.
      if (cStart >= floor && cStart + span <= ceiling && tableEmpty(k.mem, child)) {
        k.mem.setEntry(table, i, 0, 0);
        k.pages.clearFlag(child, PG_table);
        k.pages.put(child);
      }
    }
  };
  if (ceiling > floor) walk(mm.pgd, 0, 0);
}

/** Visit every present upper-level table page of mm (for teardown and the invariant checker). */
export function forEachTablePage(mem: PhysMem, mm: Mm, fn: (pfn: number, level: number) => void): void {
  const walk = (table: number, level: number): void => {
    fn(table, level);
    if (level === 3) return;
    for (let i = 0; i < 512; i++) {
      const lo = mem.entryLo(table, i);
      if (lo & PTE_P) walk(ptePfn(lo, mem.entryHi(table, i)), level + 1);
    }
  };
  walk(mm.pgd, 0);
}

/**
 * Visit every present leaf table covering part of [start, end), in address order: fn gets the
 * table's frame, the first and past-the-last entry index inside the range, and the address its
 * entry 0 maps. Bulk loops (mprotect, fork) work on a whole table at a time from here; when they
 * write entries directly rather than through writePte() they must flush the TLB range after, as
 * the kernel does (Machine.flushTlbRange()).
 */
export function forEachPteTable(
  mem: PhysMem, mm: Mm, start: number, end: number,
  fn: (table: number, i0: number, i1: number, base: number) => void,
): void {
  let va = start;
  while (va < end) {
    const vpn = Math.floor(va / 4096);
    let table = mm.pgd;
    let level = 0;
    for (; level < 3; level++) {
      const i = upperIndex(vpn, level);
      const lo = mem.entryLo(table, i);
      if ((lo & PTE_P) === 0) break;
      table = ptePfn(lo, mem.entryHi(table, i));
    }
    const span = level === 0 ? 2 ** 39 : level === 1 ? 2 ** 30 : 2 ** 21;
    const next = (Math.floor(va / span) + 1) * span;
    if (level === 3) {
      const base = next - 2 ** 21;
      const i0 = vpn & 511;
      const i1 = next <= end ? 512 : Math.ceil((end - base) / 4096);
      fn(table, i0, i1, base);
    }
    va = next; // past this table, or past the whole missing one
  }
}

/** Visit every non-none leaf PTE of mm in [start, end), in address order. */
export function forEachPte(
  mem: PhysMem, mm: Mm, start: number, end: number,
  fn: (va: number, p: Ptep, lo: number, hi: number) => void,
): void {
  forEachPteTable(mem, mm, start, end, (table, i0, i1, base) => {
    for (let i = i0; i < i1; i++) {
      const lo = mem.entryLo(table, i);
      const hi = mem.entryHi(table, i);
      if (lo !== 0 || hi !== 0) fn(base + i * 4096, table * 512 + i, lo, hi);
    }
  });
}
