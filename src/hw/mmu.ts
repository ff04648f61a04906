// The x86-64 MMU: a 4-level walk with the SDM's permission checks (Intel SDM vol. 3 §4.6),
// including protection keys (§4.6.2). Pure hardware: no kernel policy here.
import { FRAMES_PER_SLAB_SHIFT, PhysMem } from './physmem.js';
import {
  PTE_A, PTE_D, PTE_P, PTE_PS, PTE_RW, PTE_US, PTE_HI_NX, ptePfn, ptePkey, vaIndices,
} from './pte.js';
import { X86_PF_INSTR, X86_PF_PK, X86_PF_PROT, X86_PF_USER, X86_PF_WRITE } from './pf_error.js';
import { pkruAllowsRead, pkruAllowsWrite } from './pkru.js';
import { TLB_D, TLB_W, TLB_X, type Tlb } from './tlb.js';

export const ACC_READ = 0;
export const ACC_WRITE = 1;
export const ACC_FETCH = 2;
export type AccessKind = typeof ACC_READ | typeof ACC_WRITE | typeof ACC_FETCH;

/** The CPU state one access depends on. */
export interface CpuState {
  cr3: number; // pfn of the PGD
  pkru: number;
  pke: boolean; // CR4.PKE: the OS enabled protection keys
  wp: boolean; // CR0.WP: Linux always sets it
}

/**
 * One data or instruction access. Returns the physical frame number (>= 0) on success, or
 * `-1 - errorCode` on a page fault, errorCode being what the CPU pushes (X86_PF_*).
 * Sets the accessed bit at every level and the dirty bit on the leaf for writes, as the CPU does.
 * This is the model's hottest function: the walk is unrolled and reads entries straight from the
 * slabs (PhysMem.entryLo()/entryHi()), with no allocation. With a TLB, a successful user access to
 * a user page fills it.
 */
export function mmuAccess(mem: PhysMem, cpu: CpuState, va: number, kind: AccessKind, user: boolean, tlb: Tlb | null = null): number {
  const write = kind === ACC_WRITE;
  const fetch = kind === ACC_FETCH;
  const base = (write ? X86_PF_WRITE : 0) | (user ? X86_PF_USER : 0) | (fetch ? X86_PF_INSTR : 0);
  // vaIndices() without the array: 9 bits each from bits 39, 30, 21 and 12 of va, computed on the
  // two 32-bit halves of va (int32 arithmetic only).
  const vhi = Math.floor(va / 0x100000000);
  const vlo = (va - vhi * 0x100000000) >>> 0;
  const i2 = (vlo >>> 21) & 511;
  const i3 = (vlo >>> 12) & 511;
  const slabs = mem.slabs32;
  // PGD entry.
  let table = cpu.cr3;
  let s = slabs[table >>> FRAMES_PER_SLAB_SHIFT]!;
  let e = ((table & SLAB_MASK) << 10) + ((vhi >>> 7) & 511) * 2;
  let lo = s[e]!;
  if ((lo & PTE_P) === 0) return -1 - base; // not present at some level: never PK
  let hi = s[e + 1]!;
  let rights = lo; // RW and US of the walk: AND over the levels
  let nx = hi; // NX: OR over the levels
  if ((lo & PTE_A) === 0) s[e] = (lo | PTE_A) >>> 0;
  // PUD entry (a 1 GiB leaf if PS).
  table = ptePfn(lo, hi);
  s = slabs[table >>> FRAMES_PER_SLAB_SHIFT]!;
  e = ((table & SLAB_MASK) << 10) + (((vlo >>> 30) | (vhi << 2)) & 511) * 2;
  lo = s[e]!;
  if ((lo & PTE_P) === 0) return -1 - base;
  hi = s[e + 1]!;
  rights &= lo;
  nx |= hi;
  if (lo & PTE_PS) return leafAccess(s, e, lo, hi, rights, nx, cpu, write, fetch, user, base, i2 * 512 + i3, tlb, va);
  if ((lo & PTE_A) === 0) s[e] = (lo | PTE_A) >>> 0;
  // PMD entry (a 2 MiB leaf if PS).
  table = ptePfn(lo, hi);
  s = slabs[table >>> FRAMES_PER_SLAB_SHIFT]!;
  e = ((table & SLAB_MASK) << 10) + i2 * 2;
  lo = s[e]!;
  if ((lo & PTE_P) === 0) return -1 - base;
  hi = s[e + 1]!;
  rights &= lo;
  nx |= hi;
  if (lo & PTE_PS) return leafAccess(s, e, lo, hi, rights, nx, cpu, write, fetch, user, base, i3, tlb, va);
  if ((lo & PTE_A) === 0) s[e] = (lo | PTE_A) >>> 0;
  // PTE.
  table = ptePfn(lo, hi);
  s = slabs[table >>> FRAMES_PER_SLAB_SHIFT]!;
  e = ((table & SLAB_MASK) << 10) + i3 * 2;
  lo = s[e]!;
  if ((lo & PTE_P) === 0) return -1 - base;
  hi = s[e + 1]!;
  return leafAccess(s, e, lo, hi, rights & lo, nx | hi, cpu, write, fetch, user, base, 0, tlb, va);
}

/**
 * The checks on a present leaf (HW-1) with the combined rights of the walk, then A/D and the
 * frame (plus sub, the 4 KiB page inside a huge leaf).
 */
function leafAccess(s: Uint32Array, e: number, lo: number, hi: number, rights: number, nx: number, cpu: CpuState,
  write: boolean, fetch: boolean, user: boolean, base: number, sub: number, tlb: Tlb | null, va: number): number {
  const us = (rights & PTE_US) !== 0;
  let prot = false;
  if (user && !us) prot = true;
  if (write && (rights & PTE_RW) === 0 && (user || cpu.wp)) prot = true;
  if (fetch && (nx & PTE_HI_NX) !== 0) prot = true;
  let pk = false;
  if (!fetch && us && cpu.pke) {
    // Keys apply to data accesses to user pages, from user or supervisor mode.
    const key = ptePkey(hi);
    if (!pkruAllowsRead(cpu.pkru, key)) pk = true;
    else if (write && (user || cpu.wp) && !pkruAllowsWrite(cpu.pkru, key)) pk = true;
  }
  if (prot || pk) return -1 - (base | X86_PF_PROT | (pk ? X86_PF_PK : 0));
  const set = PTE_A | (write ? PTE_D : 0);
  if ((lo & set) !== set) s[e] = (lo | set) >>> 0;
  const pfn = ptePfn(lo, hi) + sub;
  if (tlb !== null && us && cpu.wp) {
    // User pages only. With CR0.WP a supervisor data access obeys the same W and pkey rules as a
    // user one, so kernel copies (copy_to_user) share the entries. A huge leaf is cached per 4 KiB
    // page, as CPUs may splinter it.
    const flags = (rights & PTE_RW ? TLB_W : 0) | (nx & PTE_HI_NX ? 0 : TLB_X) | ((lo | set) & PTE_D ? TLB_D : 0);
    tlb.fill(Math.floor(va / 4096), pfn, flags, ptePkey(hi));
  }
  return pfn;
}

const SLAB_MASK = (1 << FRAMES_PER_SLAB_SHIFT) - 1;

export function isPageFault(r: number): boolean {
  return r < 0;
}

export function pfErrorCode(r: number): number {
  return -1 - r;
}

export interface WalkLevel {
  level: 'PGD' | 'PUD' | 'PMD' | 'PTE';
  tablePfn: number;
  index: number;
  lo: number;
  hi: number;
}

/** Anything that reads page-table entries: the RAM, or a snapshot of its table pages. */
export type TableReader = Pick<PhysMem, 'entryLo' | 'entryHi'>;

/** A read-only walk for display: every entry visited, without touching A/D bits. */
export function walkForDisplay(mem: TableReader, cr3: number, va: number): WalkLevel[] {
  const names = ['PGD', 'PUD', 'PMD', 'PTE'] as const;
  const idx = vaIndices(va);
  const out: WalkLevel[] = [];
  let table = cr3;
  for (let level = 0; level < 4; level++) {
    const lo = mem.entryLo(table, idx[level]!);
    const hi = mem.entryHi(table, idx[level]!);
    out.push({ level: names[level]!, tablePfn: table, index: idx[level]!, lo, hi });
    if ((lo & PTE_P) === 0 || (level > 0 && level < 3 && lo & PTE_PS)) break;
    table = ptePfn(lo, hi);
  }
  return out;
}
