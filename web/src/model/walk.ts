// The page-table walk of one address and the frame it reaches, read from a snapshot (so it works
// for any past step), plus the reverse map: which PTEs of which processes map a frame.
import { walkForDisplay, type TableReader, type WalkLevel } from '../../../src/hw/mmu.js';
import { PTE_P, PTE_PROTNONE, PTE_PS, ptePfn } from '../../../src/hw/pte.js';
import type { MachineSnap, PageSnap, ProcSnap } from './snapshot.js';

/** Reads entries from the snapshot's copies of the table pages (absent tables read as zero). */
export function snapReader(s: MachineSnap): TableReader {
  return {
    entryLo: (pfn: number, idx: number) => s.tables.get(pfn)?.[idx * 2] ?? 0,
    entryHi: (pfn: number, idx: number) => s.tables.get(pfn)?.[idx * 2 + 1] ?? 0,
  };
}

export interface Mapper {
  /** Process label and tgid. */
  label: string;
  tgid: number;
  /** Virtual address mapped. */
  va: number;
  lo: number;
  hi: number;
}

export interface WalkView {
  levels: WalkLevel[];
  /** The frame the leaf entry points to (present or PROTNONE), or -1. */
  pfn: number;
  page: PageSnap | null;
  mappers: Mapper[];
  kernelRefs: number;
}

export function walkAddress(s: MachineSnap, proc: ProcSnap, va: number): WalkView {
  if (proc.pgd < 0) return { levels: [], pfn: -1, page: null, mappers: [], kernelRefs: 0 };
  const levels = walkForDisplay(snapReader(s), proc.pgd, va);
  const last = levels[levels.length - 1];
  let pfn = -1;
  if (last) {
    const leaf = last.level === 'PTE' || (last.level !== 'PGD' && (last.lo & PTE_PS) !== 0);
    if (leaf && last.lo & (PTE_P | PTE_PROTNONE)) pfn = ptePfn(last.lo, last.hi);
  }
  return {
    levels,
    pfn,
    page: pfn >= 0 ? (s.pages.get(pfn) ?? null) : null,
    mappers: pfn >= 0 ? mappersOf(s, pfn) : [],
    kernelRefs: pfn >= 0 ? (s.kernelRefs.get(pfn) ?? 0) : 0,
  };
}

/** Every leaf entry in every process's tables that maps pfn (the model's rmap, for display). */
export function mappersOf(s: MachineSnap, pfn: number): Mapper[] {
  const out: Mapper[] = [];
  const seen = new Set<number>();
  for (const p of s.procs) {
    if (p.pgd < 0 || seen.has(p.pgd)) continue;
    seen.add(p.pgd);
    const visit = (table: number, level: number, base: number): void => {
      const w = s.tables.get(table);
      if (!w) return;
      const span = 2 ** (12 + 9 * (3 - level));
      for (let i = 0; i < 512; i++) {
        const lo = w[2 * i]!;
        const hi = w[2 * i + 1]!;
        if (lo === 0 && hi === 0) continue;
        const va = base + i * span;
        const leaf = level === 3 || (level > 0 && (lo & PTE_PS) !== 0);
        if (leaf) {
          if (lo & (PTE_P | PTE_PROTNONE) && ptePfn(lo, hi) === pfn) out.push({ label: p.label, tgid: p.tgid, va, lo, hi });
        } else if (lo & PTE_P) visit(ptePfn(lo, hi), level + 1, va);
      }
    };
    visit(p.pgd, 0, 0);
  }
  return out;
}
