// A frozen copy of what the visualiser shows of the machine after one step: processes, threads,
// VMAs, every reachable page-table page and the struct page state of every frame they reference.
// Model-side and DOM-free (runs in Node tests too). Table pages are copied only when they changed
// since the previous snapshot, so a long scenario shares most of its tables between steps.
import type { Machine } from '../../../src/kernel/machine.js';
import type { Task } from '../../../src/kernel/task.js';
import type { Mm } from '../../../src/mm/mm.js';
import { PTE_P, PTE_PROTNONE, PTE_PS, ptePfn } from '../../../src/hw/pte.js';
import { FRAMES_PER_SLAB_SHIFT } from '../../../src/hw/physmem.js';

export interface ThreadSnap {
  pid: number;
  comm: string;
  pkru: number;
  minFlt: number;
  majFlt: number;
  alive: boolean;
}

export interface VmaSnap {
  start: number;
  end: number;
  /** Low 32 bits of vm_flags. */
  flags: number;
  pkey: number;
  /** Backing file name, or null for anonymous memory. */
  file: string | null;
  /** [stack], [heap], ... */
  name: string | null;
}

export interface ProcSnap {
  tgid: number;
  /** The scenario's name for the process (A, B, ...), or its comm. */
  label: string;
  state: 'alive' | 'zombie' | 'reaped';
  kthread: boolean;
  /** PGD frame (CR3), or -1 without an mm. */
  pgd: number;
  threads: ThreadSnap[];
  vmas: VmaSnap[];
  /** Whole-process fault counts (live threads plus exited ones), as getrusage(RUSAGE_SELF). */
  minFlt: number;
  majFlt: number;
  pkeyAllocationMap: number;
  executeOnlyPkey: number;
}

export interface PageSnap {
  refcount: number;
  mapcount: number;
  pincount: number;
  flags: number;
  mapping: number;
  index: number;
}

export interface MachineSnap {
  procs: ProcSnap[];
  /** Page-table pages reachable from any mm: pfn -> 1024 words (entry i = [2i] lo, [2i+1] hi). */
  tables: Map<number, Uint32Array>;
  /** struct page of every table page, every mapped frame and every frame the kernel holds. */
  pages: Map<number, PageSnap>;
  /** References held by kernel objects (GUP pins, pipe buffers): pfn -> count. */
  kernelRefs: Map<number, number>;
  usedFrames: number;
}

export type LabelOf = (t: Task) => string | undefined;

function tableCopy(m: Machine, pfn: number, prev: Uint32Array | undefined): Uint32Array {
  const slab = m.mem.slabs32[pfn >>> FRAMES_PER_SLAB_SHIFT]!;
  const off = (pfn & ((1 << FRAMES_PER_SLAB_SHIFT) - 1)) << 10;
  if (prev) {
    let same = true;
    for (let i = 0; i < 1024; i++) {
      if (slab[off + i] !== prev[i]) {
        same = false;
        break;
      }
    }
    if (same) return prev;
  }
  return slab.slice(off, off + 1024);
}

function addPage(m: Machine, pages: Map<number, PageSnap>, pfn: number): void {
  if (pages.has(pfn) || pfn < 0 || pfn >= m.pages.nr) return;
  const p = m.pages;
  pages.set(pfn, {
    refcount: p.refcount[pfn]!, mapcount: p.mapcount[pfn]!, pincount: p.pincount[pfn]!,
    flags: p.flags[pfn]!, mapping: p.mapping[pfn]!, index: p.index[pfn]!,
  });
}

/** Copy the tables of one mm (PGD down to the PTE pages) and note the frames they reference. */
function captureMm(m: Machine, mm: Mm, prev: MachineSnap | null, tables: Map<number, Uint32Array>, pages: Map<number, PageSnap>): void {
  const visit = (pfn: number, level: number): void => {
    if (tables.has(pfn)) return;
    const words = tableCopy(m, pfn, prev?.tables.get(pfn));
    tables.set(pfn, words);
    addPage(m, pages, pfn);
    for (let i = 0; i < 512; i++) {
      const lo = words[2 * i]!;
      const hi = words[2 * i + 1]!;
      if (lo === 0 && hi === 0) continue;
      const leaf = level === 3 || (level > 0 && (lo & PTE_PS) !== 0);
      if (leaf) {
        if (lo & (PTE_P | PTE_PROTNONE)) addPage(m, pages, ptePfn(lo, hi));
      } else if (lo & PTE_P) {
        visit(ptePfn(lo, hi), level + 1);
      }
    }
  };
  visit(mm.pgd, 0);
}

/** Take a snapshot; `prev` (the previous step's) lets unchanged table pages be shared. */
export function captureMachine(m: Machine, labelOf: LabelOf, prev: MachineSnap | null = null): MachineSnap {
  const tables = new Map<number, Uint32Array>();
  const pages = new Map<number, PageSnap>();
  const groups = new Map<number, Task[]>();
  for (const t of m.tasks.values()) {
    if (t.pid === 1) continue; // init: the parent of every scenario process, never scheduled
    const l = groups.get(t.tgid) ?? [];
    l.push(t);
    groups.set(t.tgid, l);
  }
  const procs: ProcSnap[] = [];
  const seenMm = new Set<Mm>();
  for (const [tgid, threads] of groups) {
    const g = threads[0]!.group;
    const leader = threads.find((t) => t.pid === tgid) ?? threads[0]!;
    const mm = threads.find((t) => t.mm && !t.mm.dead)?.mm ?? null;
    if (mm && !seenMm.has(mm)) {
      seenMm.add(mm);
      captureMm(m, mm, prev, tables, pages);
    }
    let minFlt = g.deadMinFlt;
    let majFlt = g.deadMajFlt;
    for (const t of g.threads) {
      minFlt += t.minFlt;
      majFlt += t.majFlt;
    }
    procs.push({
      tgid,
      label: labelOf(leader) ?? leader.comm,
      state: g.state,
      kthread: leader.kthread,
      pgd: mm ? mm.pgd : -1,
      threads: threads.map((t) => ({
        pid: t.pid, comm: t.comm, pkru: t.pkru >>> 0, minFlt: t.minFlt, majFlt: t.majFlt, alive: t.state !== 'dead',
      })),
      vmas: mm
        ? mm.vmas.map((v) => ({ start: v.start, end: v.end, flags: v.flags, pkey: v.pkey, file: v.file ? v.file.name : null, name: v.name }))
        : [],
      minFlt,
      majFlt,
      pkeyAllocationMap: mm ? mm.pkeyAllocationMap : 0,
      executeOnlyPkey: mm ? mm.executeOnlyPkey : -1,
    });
  }
  const kernelRefs = m.kernelRefs; // a scan of every frame: once per snapshot
  for (const pfn of kernelRefs.keys()) addPage(m, pages, pfn);
  return { procs, tables, pages, kernelRefs, usedFrames: m.pages.used - 1 };
}
