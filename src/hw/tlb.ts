// The TLB: cached translations of user pages, one direct-mapped array per address space (tagged by
// the PGD's frame, as PCID tags hardware entries). A hit skips the 4-level walk; a miss walks
// (hw/mmu.ts) and fills. Like the hardware, a hit sets no accessed bit, and a write through an
// entry whose dirty bit was clear takes the walk so that the CPU sets it.
//
// Coherence: hardware relies on the kernel to flush after changing a PTE (flush_tlb_page() and
// friends). The model instead invalidates the entry whenever a present PTE is rewritten
// (mm/pgtable.ts: writePte()), so it shows what a correctly flushed kernel shows, and cannot show
// stale-TLB bugs.

/** Entry flags: writable, executable, dirty; protection key in bits 3..6; frame number from bit 7. */
export const TLB_W = 1;
export const TLB_X = 2;
export const TLB_D = 4;
const PKEY_SHIFT = 3;
const PFN_SHIFT = 7;
/** Frames above this cannot be packed next to the flags (64 GiB of RAM); such machines skip the TLB. */
export const TLB_MAX_PFN = 2 ** (31 - PFN_SHIFT);

const MIN_BITS = 6;
/** At most 2^20 entries (8 MiB): enough to cover 4 GiB of resident 4 KiB pages. */
const MAX_BITS = 20;

export const tlbPfn = (info: number): number => info >>> PFN_SHIFT;
export const tlbPkey = (info: number): number => (info >>> PKEY_SHIFT) & 15;

export class Tlb {
  /** Two int32 per slot: tag (vpn >> bits, plus 1; 0 is empty) and info (pfn and flags). */
  private e: Int32Array;
  private bits: number;
  private mask: number;
  /** 1 / entries: the tag is vpn * inv (exact for a power of two, and a multiply is cheaper than a divide). */
  private inv: number;

  constructor(bits = MIN_BITS) {
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.inv = 1 / (1 << bits);
    this.e = new Int32Array(2 << bits);
  }

  /** Slot tag for vpn: its bits above the index, plus 1 (0 marks an empty slot). */
  private tag(vpn: number): number {
    return Math.floor(vpn * this.inv) + 1;
  }

  get entries(): number {
    return this.mask + 1;
  }

  /** The info word cached for vpn, or -1 on a miss. */
  lookup(vpn: number): number {
    const j = (vpn & this.mask) << 1;
    const e = this.e;
    return e[j] === this.tag(vpn) ? e[j + 1]! : -1;
  }

  fill(vpn: number, pfn: number, flags: number, pkey: number): void {
    const j = (vpn & this.mask) << 1;
    this.e[j] = this.tag(vpn);
    this.e[j + 1] = (pfn << PFN_SHIFT) | (pkey << PKEY_SHIFT) | flags;
  }

  /** invlpg */
  flushPage(vpn: number): void {
    const j = (vpn & this.mask) << 1;
    if (this.e[j] === this.tag(vpn)) this.e[j] = 0;
  }

  /** Pages [from, to): one by one, or all at once when that is cheaper (as flush_tlb_range() does past tlb_single_page_flush_ceiling). */
  flushRange(from: number, to: number): void {
    if (to - from > (this.mask + 1) >> 2) return this.flushAll();
    for (let v = from; v < to; v++) this.flushPage(v);
  }

  flushAll(): void {
    this.e.fill(0);
  }

  /**
   * Grow (emptying it) with the address space's resident set, up to 2^20 entries: the model's TLB
   * is a cache sized to what is mapped, not to a hardware part number.
   */
  fitTo(pages: number): void {
    if (pages <= this.mask + 1 || this.bits >= MAX_BITS) return;
    // The largest power of two not above the resident set: at most 8 bytes per resident page.
    let bits = this.bits;
    while (bits < MAX_BITS && 1 << (bits + 1) <= pages) bits++;
    if (bits === this.bits) return;
    const t = new Tlb(bits);
    this.bits = t.bits;
    this.mask = t.mask;
    this.inv = t.inv;
    this.e = t.e;
  }

  /** Bytes of host memory the entries take. */
  get bytes(): number {
    return this.e.byteLength;
  }
}

/** The TLBs of one machine, by PGD frame (the address-space tag). */
export class Tlbs {
  private readonly byPgd = new Map<number, Tlb>();
  /** False when RAM is too large to pack frame numbers (TLB_MAX_PFN): every access walks. */
  readonly enabled: boolean;

  constructor(nrFrames: number) {
    this.enabled = nrFrames <= TLB_MAX_PFN;
  }

  /** The TLB for the address space rooted at pgd, created on first use; null if disabled. */
  of(pgd: number): Tlb | null {
    if (!this.enabled) return null;
    let t = this.byPgd.get(pgd);
    if (t === undefined) {
      t = new Tlb();
      this.byPgd.set(pgd, t);
    }
    return t;
  }

  /** The TLB for pgd if one exists (invalidation must not create one). */
  peek(pgd: number): Tlb | undefined {
    return this.byPgd.get(pgd);
  }

  /** The address space is gone (its PGD frame will be reused): drop every entry. */
  drop(pgd: number): void {
    this.byPgd.delete(pgd);
  }

  /** Host bytes of all TLBs. */
  get bytes(): number {
    let n = 0;
    for (const t of this.byPgd.values()) n += t.bytes;
    return n;
  }
}
