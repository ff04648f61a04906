// struct mm_struct: the VMA set, the page tables' root, the pkey state and the mmap_lock
// (include/linux/mm_types.h; arch/x86/include/asm/mmu.h for the pkey fields).
import type { Tlb } from '../hw/tlb.js';
import { MmapLock } from './mmap_lock.js';
import type { Vma } from './vma.js';

/** Default top of the mmap area without ASLR (mm/util.c: mmap_base(); x86 legacy layout off). */
export const MMAP_BASE = 0x7ffff7fff000;
export const STACK_TOP = 0x7ffffffff000;

let nextMmId = 1;

export class Mm {
  readonly id = nextMmId++;
  /** Sorted, non-overlapping (the kernel uses a maple tree for the same job). */
  vmas: Vma[] = [];
  pgd: number;
  readonly lock = new MmapLock();
  /** mm->context.pkey_allocation_map; bit 0 preallocated (arch/x86/include/asm/mmu_context.h: init_new_context()). */
  pkeyAllocationMap = 0x1;
  /** mm->context.execute_only_pkey; -1: none. */
  executeOnlyPkey = -1;
  /** mm_users (mmget/mmput) and mm_count (mmgrab/mmdrop). */
  users = 1;
  count = 1;
  /** MMF_HAS_PINNED: sticky once any FOLL_PIN happened. */
  hasPinned = false;
  mmapBase = MMAP_BASE;
  /** RSS counters (MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES). */
  rssFile = 0;
  rssAnon = 0;
  rssShmem = 0;
  startStack = 0;
  argStart = 0;
  argEnd = 0;
  envStart = 0;
  envEnd = 0;
  /** MMF_HAS_UPROBES: a breakpoint was installed in this mm. */
  hasUprobes = false;
  /** Set once exit_mmap() has torn everything down. */
  dead = false;
  /** The CPU's TLB for this address space (hw/tlb.ts), looked up on first access. */
  tlb: Tlb | null = null;

  constructor(pgd: number) {
    this.pgd = pgd;
  }

  /** Index of the first VMA with end > addr, or vmas.length. */
  private indexAfter(addr: number): number {
    let lo = 0;
    let hi = this.vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.vmas[mid]!.end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** mm/mmap.c: find_vma(): the first VMA ending above addr (it may start above addr too). */
  findVma(addr: number): Vma | null {
    return this.vmas[this.indexAfter(addr)] ?? null;
  }

  /** include/linux/mm.h: vma_lookup(): the VMA containing addr. */
  vmaLookup(addr: number): Vma | null {
    const v = this.vmas[this.indexAfter(addr)];
    return v !== undefined && v.start <= addr ? v : null;
  }

  /** Position of vma in the sorted list (a binary search on its start). */
  indexOf(vma: Vma): number {
    const i = this.indexAfter(vma.start);
    return this.vmas[i] === vma ? i : this.vmas.indexOf(vma);
  }

  /** The VMA before the one containing/after addr (find_vma_prev()). */
  prevVma(vma: Vma): Vma | null {
    const i = this.vmas.indexOf(vma);
    return i > 0 ? this.vmas[i - 1]! : null;
  }

  nextVma(vma: Vma): Vma | null {
    const i = this.vmas.indexOf(vma);
    return i >= 0 ? (this.vmas[i + 1] ?? null) : null;
  }

  insert(vma: Vma): void {
    this.vmas.splice(this.indexAfter(vma.start), 0, vma);
  }

  remove(vma: Vma): void {
    const i = this.vmas.indexOf(vma);
    if (i >= 0) this.vmas.splice(i, 1);
  }

  /** VMAs overlapping [start, end). */
  overlapping(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = this.indexAfter(start); i < this.vmas.length && this.vmas[i]!.start < end; i++) out.push(this.vmas[i]!);
    return out;
  }

  totalVmPages(): number {
    let n = 0;
    for (const v of this.vmas) n += v.pages();
    return n;
  }
}
