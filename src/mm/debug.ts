// Whole-machine consistency checks, in the spirit of CONFIG_DEBUG_VM: every reference to every
// frame is accounted for, mapcounts equal the PTEs that map each page, RSS counters are right.
import { PTE_P, PTE_PROTNONE, ptePfn } from '../hw/pte.js';
import type { Machine } from '../kernel/machine.js';
import type { Mm } from './mm.js';
import { GUP_PIN_COUNTING_BIAS, PG_anon, PG_swapbacked, PG_table, ZERO_PFN } from './page.js';
import { forEachPte, forEachTablePage } from './pgtable.js';
import { vmNormalPage } from './memory.js';

export function liveMms(m: Machine): Mm[] {
  const set = new Set<Mm>();
  for (const t of m.tasks.values()) if (t.mm && !t.mm.dead) set.add(t.mm);
  for (const mm of m.extraMms) if (!mm.dead) set.add(mm);
  return [...set];
}

/** Returns a list of violations (empty when the machine is consistent). */
export function checkInvariants(m: Machine): string[] {
  const errs: string[] = [];
  const P = m.pages;
  const mapped = new Map<number, number>();
  const expectRef = new Map<number, number>();
  const add = (map: Map<number, number>, k: number, n = 1): void => {
    map.set(k, (map.get(k) ?? 0) + n);
  };
  for (const mm of liveMms(m)) {
    const tables = new Set<number>();
    forEachTablePage(m.mem, mm, (pfn) => {
      if (tables.has(pfn)) errs.push(`mm ${mm.id}: table page 0x${pfn.toString(16)} linked twice`);
      tables.add(pfn);
      if (!P.testFlag(pfn, PG_table)) errs.push(`mm ${mm.id}: table page 0x${pfn.toString(16)} lacks PG_table`);
      add(expectRef, pfn);
    });
    let anon = 0, file = 0, shmem = 0;
    for (const v of mm.vmas) {
      if (v.start >= v.end || v.start % 4096 || v.end % 4096) errs.push(`mm ${mm.id}: bad VMA ${v.start}-${v.end}`);
    }
    for (let i = 1; i < mm.vmas.length; i++) {
      if (mm.vmas[i - 1]!.end > mm.vmas[i]!.start) errs.push(`mm ${mm.id}: overlapping VMAs at 0x${mm.vmas[i]!.start.toString(16)}`);
    }
    forEachPte(m.mem, mm, 0, 2 ** 47, (va, _p, lo, hi) => {
      if (!mm.vmaLookup(va)) errs.push(`mm ${mm.id}: PTE outside any VMA at 0x${va.toString(16)}`);
      if (!(lo & (PTE_P | PTE_PROTNONE))) return;
      const pfn = vmNormalPage(lo, hi);
      if (pfn < 0) {
        if (ptePfn(lo, hi) !== ZERO_PFN) errs.push(`mm ${mm.id}: special PTE at 0x${va.toString(16)} not the zero page`);
        return;
      }
      if (pfn >= P.nr || !P.isAllocated(pfn)) {
        errs.push(`mm ${mm.id}: PTE at 0x${va.toString(16)} maps free frame 0x${pfn.toString(16)}`);
        return;
      }
      add(mapped, pfn);
      add(expectRef, pfn);
      if (P.testFlag(pfn, PG_anon)) anon++;
      else if (P.testFlag(pfn, PG_swapbacked)) shmem++;
      else file++;
    });
    if (anon !== mm.rssAnon || file !== mm.rssFile || shmem !== mm.rssShmem) {
      errs.push(`mm ${mm.id}: RSS counters anon/file/shmem ${mm.rssAnon}/${mm.rssFile}/${mm.rssShmem}, PTEs say ${anon}/${file}/${shmem}`);
    }
  }
  for (const ino of m.allInodes()) for (const pfn of ino.pageCache.values()) add(expectRef, pfn);
  for (let pfn = 1; pfn < P.nr; pfn++) if (P.getrefs[pfn]) add(expectRef, pfn, P.getrefs[pfn]);
  for (let pfn = 1; pfn < P.nr; pfn++) {
    if (!P.isAllocated(pfn)) continue;
    const mc = mapped.get(pfn) ?? 0;
    if (P.mapcount[pfn] !== mc) errs.push(`pfn 0x${pfn.toString(16)}: mapcount ${P.mapcount[pfn]} but ${mc} PTEs map it`);
    const want = (expectRef.get(pfn) ?? 0) + P.pincount[pfn]! * GUP_PIN_COUNTING_BIAS;
    if (P.refcount[pfn] !== want) {
      errs.push(`pfn 0x${pfn.toString(16)}: refcount ${P.refcount[pfn]} but ${want} references are accounted for` +
        (want === 0 ? ' (leaked frame)' : ''));
    }
  }
  for (const [pfn] of mapped) if (pfn !== ZERO_PFN && !P.isAllocated(pfn)) errs.push(`pfn 0x${pfn.toString(16)} mapped but free`);
  return errs;
}

export function assertInvariants(m: Machine): void {
  const errs = checkInvariants(m);
  if (errs.length) throw new Error('machine invariants violated:\n  ' + errs.slice(0, 20).join('\n  '));
}
