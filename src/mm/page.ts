// struct page, as flat arrays indexed by page frame number (include/linux/mm_types.h,
// include/linux/page-flags.h), and the page allocator's free list (mm/page_alloc.c).
// Memory cost: 4+4+4+4+4+2+4 = 26 bytes per frame, whatever the RAM size.
// The free list is threaded through `index` of free frames, as Linux threads it through page->lru.
import { PhysMem } from '../hw/physmem.js';

export const PG_locked = 1 << 0;
export const PG_referenced = 1 << 1;
export const PG_uptodate = 1 << 2;
export const PG_dirty = 1 << 3;
export const PG_anon = 1 << 4; // PageAnon(): mapping points to an anon_vma
export const PG_anon_exclusive = 1 << 5; // PageAnonExclusive()
export const PG_hwpoison = 1 << 6;
export const PG_table = 1 << 7; // a page-table page (PageTable())
export const PG_reserved = 1 << 8; // never freed: the zero page
export const PG_swapbacked = 1 << 9; // shmem/anon
export const PG_allocated = 1 << 15; // model-only: the frame is off the free list

/** include/linux/mm.h: GUP_PIN_COUNTING_BIAS */
export const GUP_PIN_COUNTING_BIAS = 1 << 10;

/** The shared zero page lives in frame 0 (mm/memory.c: ZERO_PAGE, my_zero_pfn()). */
export const ZERO_PFN = 0;

export class Pages {
  readonly mem: PhysMem;
  readonly nr: number;
  readonly refcount: Int32Array; // page_ref_count()
  readonly mapcount: Int32Array; // page_mapcount(): how many PTEs map it (Linux stores it biased by -1)
  /** Model-side tally of FOLL_PIN references, so a leaked pin is found even on small folios. */
  readonly pincount: Int32Array;
  readonly flags: Uint16Array;
  readonly mapping: Int32Array; // inode number for page-cache pages, 0 otherwise
  readonly index: Int32Array; // page offset in the file (page cache) or linear index (anon); free: next free frame
  /** Model-side tally of FOLL_GET references held by kernel code, so a leaked one is found. */
  readonly getrefs: Int32Array;
  private freeHead = -1;
  private bump = 1; // frames never used yet start here (frame 0 is the zero page)
  used = 1;

  constructor(mem: PhysMem) {
    this.mem = mem;
    this.nr = mem.nrFrames;
    this.refcount = new Int32Array(this.nr);
    this.mapcount = new Int32Array(this.nr);
    this.pincount = new Int32Array(this.nr);
    this.flags = new Uint16Array(this.nr);
    this.mapping = new Int32Array(this.nr);
    this.index = new Int32Array(this.nr);
    this.getrefs = new Int32Array(this.nr);
    mem.ensure(ZERO_PFN);
    this.flags[ZERO_PFN] = PG_reserved | PG_uptodate | PG_allocated;
    this.refcount[ZERO_PFN] = 1;
  }

  /** alloc_page(): a frame with refcount 1, or -1 when RAM is exhausted. zero: __GFP_ZERO. */
  alloc(zero: boolean): number {
    let pfn: number;
    if (this.freeHead >= 0) {
      pfn = this.freeHead;
      this.freeHead = this.index[pfn]!;
      if (zero) this.mem.zero(pfn);
    } else if (this.bump < this.nr) {
      pfn = this.bump++;
      this.mem.ensure(pfn); // never-used frames are already zero
    } else {
      return -1;
    }
    this.used++;
    this.refcount[pfn] = 1;
    this.mapcount[pfn] = 0;
    this.pincount[pfn] = 0;
    this.flags[pfn] = PG_allocated;
    this.mapping[pfn] = 0;
    this.index[pfn] = 0;
    return pfn;
  }

  /** __free_page(): back to the free list. */
  private free(pfn: number): void {
    this.flags[pfn] = 0;
    this.mapping[pfn] = 0;
    this.used--;
    this.index[pfn] = this.freeHead;
    this.freeHead = pfn;
  }

  get(pfn: number, n = 1): void {
    if (pfn === ZERO_PFN) return; // the zero page is not refcounted when mapped or pinned
    this.refcount[pfn]! += n;
  }

  /** put_page(): drop one reference; the last one frees the frame. */
  put(pfn: number, n = 1): void {
    if (pfn === ZERO_PFN) return;
    const r = (this.refcount[pfn]! -= n);
    if (r === 0) this.free(pfn);
    else if (r < 0) throw new Error(`put_page underflow on pfn 0x${pfn.toString(16)}`);
  }

  isAllocated(pfn: number): boolean {
    return (this.flags[pfn]! & PG_allocated) !== 0;
  }

  isAnon(pfn: number): boolean {
    return (this.flags[pfn]! & PG_anon) !== 0;
  }

  setFlag(pfn: number, f: number): void {
    this.flags[pfn] = this.flags[pfn]! | f;
  }

  clearFlag(pfn: number, f: number): void {
    this.flags[pfn] = this.flags[pfn]! & ~f;
  }

  testFlag(pfn: number, f: number): boolean {
    return (this.flags[pfn]! & f) !== 0;
  }

  /** folio_maybe_dma_pinned() for a small folio: the refcount bias is the only record. */
  maybeDmaPinned(pfn: number): boolean {
    return this.refcount[pfn]! >= GUP_PIN_COUNTING_BIAS;
  }

  freeFrames(): number {
    return this.nr - this.used;
  }

  /** Bytes of page metadata per frame (the typed arrays above). */
  static readonly METADATA_BYTES_PER_FRAME = 4 + 4 + 4 + 2 + 4 + 4 + 4;
}
