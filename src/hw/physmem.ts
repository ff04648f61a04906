// Physical RAM: 4 KiB frames holding real bytes, in large slabs allocated on first use.
// Frame n is never an object: its bytes are (slab n>>12, offset (n & 0xfff) << 12).
import { PAGE_SIZE } from './pte.js';
import { Tlbs } from './tlb.js';

// 4096 frames = 16 MiB per slab. V8 starts a full garbage collection each time ArrayBuffers grow by
// 64 MiB: with 64 MiB slabs the first frame a scenario touched cost one (~25 ms of a 10,000-step run).
export const FRAMES_PER_SLAB_SHIFT = 12;
export const FRAMES_PER_SLAB = 1 << FRAMES_PER_SLAB_SHIFT;
const SLAB_MASK = FRAMES_PER_SLAB - 1;

export class PhysMem {
  readonly nrFrames: number;
  /** Byte view of each slab; undefined until a frame in it is first used. */
  readonly slabs8: (Uint8Array | undefined)[];
  /** 32-bit view of the same slabs: page-table entries are read as (lo, hi) pairs. */
  readonly slabs32: (Uint32Array | undefined)[];
  /** 64-bit float view, for fast bulk zeroing. */
  private readonly slabs64: (Float64Array | undefined)[];
  /** The CPU's TLBs, one per address space (hw/tlb.ts). */
  readonly tlbs: Tlbs;

  constructor(bytes: number, prefault = false) {
    this.nrFrames = Math.floor(bytes / PAGE_SIZE);
    if (this.nrFrames < 16) throw new RangeError(`RAM of ${bytes} bytes is too small (at least 64 KiB)`);
    const nslabs = Math.ceil(this.nrFrames / FRAMES_PER_SLAB);
    this.slabs8 = new Array<Uint8Array | undefined>(nslabs).fill(undefined);
    this.slabs32 = new Array<Uint32Array | undefined>(nslabs).fill(undefined);
    this.slabs64 = new Array<Float64Array | undefined>(nslabs).fill(undefined);
    this.tlbs = new Tlbs(this.nrFrames);
    if (prefault) {
      // Back every frame with host memory now, as a VM with preallocated RAM would be: the host
      // OS's first-touch page faults then stay out of the simulated workloads.
      for (let f = 0; f < this.nrFrames; f += FRAMES_PER_SLAB) {
        this.ensure(f);
        this.slabs64[f >>> FRAMES_PER_SLAB_SHIFT]!.fill(0);
      }
    }
  }

  /** Make sure the slab holding pfn exists (fresh slabs read as zero). */
  ensure(pfn: number): void {
    const s = pfn >>> FRAMES_PER_SLAB_SHIFT;
    if (this.slabs8[s] !== undefined) return;
    const frames = Math.min(FRAMES_PER_SLAB, this.nrFrames - s * FRAMES_PER_SLAB);
    const buf = new ArrayBuffer(frames * PAGE_SIZE);
    this.slabs8[s] = new Uint8Array(buf);
    this.slabs32[s] = new Uint32Array(buf);
    this.slabs64[s] = new Float64Array(buf);
  }

  /** A view of one frame's 4096 bytes (allocates the view: not for the innermost loops). */
  frame(pfn: number): Uint8Array {
    const slab = this.slabs8[pfn >>> FRAMES_PER_SLAB_SHIFT];
    if (slab === undefined) throw new Error(`frame 0x${pfn.toString(16)} has never been allocated`);
    const off = (pfn & SLAB_MASK) << 12;
    return slab.subarray(off, off + PAGE_SIZE);
  }

  slab8(pfn: number): Uint8Array {
    return this.slabs8[pfn >>> FRAMES_PER_SLAB_SHIFT]!;
  }

  /** The 32-bit view holding frame pfn; its words start at wordOffset(pfn) (entry i: 2i, 2i + 1). */
  slab32(pfn: number): Uint32Array {
    return this.slabs32[pfn >>> FRAMES_PER_SLAB_SHIFT]!;
  }

  static wordOffset(pfn: number): number {
    return (pfn & SLAB_MASK) << 10;
  }

  static byteOffset(pfn: number): number {
    return (pfn & SLAB_MASK) << 12;
  }

  zero(pfn: number): void {
    const off = (pfn & SLAB_MASK) << 9;
    this.slabs64[pfn >>> FRAMES_PER_SLAB_SHIFT]!.fill(0, off, off + 512);
  }

  copyFrame(dst: number, src: number): void {
    const s = this.slabs8[src >>> FRAMES_PER_SLAB_SHIFT]!;
    const d = this.slabs8[dst >>> FRAMES_PER_SLAB_SHIFT]!;
    const so = (src & SLAB_MASK) << 12;
    const doff = (dst & SLAB_MASK) << 12;
    // Within one slab, copyWithin is a plain memmove; set() from a view of the same buffer must
    // guard against overlap and allocates the view.
    if (s === d) d.copyWithin(doff, so, so + PAGE_SIZE);
    else d.set(s.subarray(so, so + PAGE_SIZE), doff);
  }

  /** Read entry idx (0..511) of the page-table page in frame pfn. */
  entryLo(pfn: number, idx: number): number {
    return this.slabs32[pfn >>> FRAMES_PER_SLAB_SHIFT]![((pfn & SLAB_MASK) << 10) + idx * 2]!;
  }

  entryHi(pfn: number, idx: number): number {
    return this.slabs32[pfn >>> FRAMES_PER_SLAB_SHIFT]![((pfn & SLAB_MASK) << 10) + idx * 2 + 1]!;
  }

  setEntry(pfn: number, idx: number, lo: number, hi: number): void {
    const s = this.slabs32[pfn >>> FRAMES_PER_SLAB_SHIFT]!;
    const i = ((pfn & SLAB_MASK) << 10) + idx * 2;
    s[i] = lo;
    s[i + 1] = hi;
  }

  /** Bytes of all slabs allocated so far (the model's RAM footprint). */
  allocatedBytes(): number {
    let n = 0;
    for (const s of this.slabs8) if (s) n += s.byteLength;
    return n;
  }
}
