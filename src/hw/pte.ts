// x86-64 page-table entry format (Intel SDM vol. 3 §4.5; arch/x86/include/asm/pgtable_types.h).
// An entry is 64 bits; the model keeps it as two 32-bit halves (lo = bits 0..31, hi = bits 32..63)
// so the hot paths never touch bigint.

// Low half.
export const PTE_P = 1 << 0; // present
export const PTE_RW = 1 << 1; // writable
export const PTE_US = 1 << 2; // user-accessible
export const PTE_PWT = 1 << 3;
export const PTE_PCD = 1 << 4;
export const PTE_A = 1 << 5; // accessed (set by the CPU)
export const PTE_D = 1 << 6; // dirty (set by the CPU on write)
export const PTE_PS = 1 << 7; // huge leaf at PMD/PUD level
export const PTE_G = 1 << 8; // global; reused as PROTNONE when P=0
export const PTE_SPECIAL = 1 << 9; // _PAGE_SPECIAL (SW1): no struct page behind it
export const PTE_PROTNONE = PTE_G; // _PAGE_PROTNONE
// High half (bit n of the entry is bit n-32 here).
export const PTE_HI_PKEY_SHIFT = 59 - 32; // bits 59..62: protection key
export const PTE_HI_PKEY_MASK = 0xf << PTE_HI_PKEY_SHIFT;
export const PTE_HI_NX = 1 << (63 - 32); // bit 63: no-execute (as a signed int32: -2^31)
export const PTE_HI_PFN_MASK = 0x000fffff; // physical address bits 32..51

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PTRS_PER_TABLE = 512;
/** 48-bit virtual addresses: user space is the lower canonical half. */
export const TASK_SIZE_MAX = 0x7ffffffff000; // arch/x86/include/asm/page_64_types.h

export function ptePfn(lo: number, hi: number): number {
  return (lo >>> PAGE_SHIFT) + (hi & PTE_HI_PFN_MASK) * 0x100000;
}

export function pteLo(pfn: number, flagsLo: number): number {
  return (((pfn & 0xfffff) << PAGE_SHIFT) | (flagsLo & 0xfff)) >>> 0;
}

export function pteHi(pfn: number, pkey: number, nx: boolean): number {
  return ((Math.floor(pfn / 0x100000) & PTE_HI_PFN_MASK) | ((pkey & 0xf) << PTE_HI_PKEY_SHIFT) | (nx ? PTE_HI_NX : 0)) >>> 0;
}

export function ptePkey(hi: number): number {
  return (hi >>> PTE_HI_PKEY_SHIFT) & 0xf;
}

export function pteValue(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function pteHex(lo: number, hi: number): string {
  return '0x' + (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/**
 * Non-present swap-format entries (arch/x86/include/asm/pgtable_64.h: __swp_entry()): the type in
 * bits 59..63 (SWP_TYPE_BITS = 5), the inverted offset in bits 9..58, P and PROTNONE clear.
 */
export const SWP_TYPE_BITS = 5;
/**
 * include/linux/swap.h: SWP_HWPOISON = MAX_SWAPFILES = (1 << 5) - SWP_DEVICE_NUM (3) -
 * SWP_MIGRATION_NUM (3) - SWP_HWPOISON_NUM (1) - SWP_PTE_MARKER_NUM (1) = 24 on a Debian 6.12 config [K].
 */
export const SWP_HWPOISON = 24;
const SWP_OFFSET_LIMIT = 2 ** 50; // bits 9..58

/** __swp_entry_to_pte(__swp_entry(type, offset)) as (lo, hi). */
export function swpEntryPte(type: number, offset: number): [number, number] {
  const inv = SWP_OFFSET_LIMIT - 1 - offset;
  const lo = ((inv % 2 ** 23) * 512) >>> 0;
  const hi = (Math.floor(inv / 2 ** 23) | (type << (32 - SWP_TYPE_BITS))) >>> 0;
  return [lo, hi];
}

/** is_swap_pte(): neither none nor present (nor PROTNONE). */
export function isSwapPte(lo: number, hi: number): boolean {
  return (lo & (PTE_P | PTE_PROTNONE)) === 0 && (lo !== 0 || hi !== 0);
}

export function swpType(hi: number): number {
  return hi >>> (32 - SWP_TYPE_BITS);
}

export function swpOffset(lo: number, hi: number): number {
  const inv = (hi & ((1 << (32 - SWP_TYPE_BITS)) - 1)) * 2 ** 23 + (lo >>> 9);
  return SWP_OFFSET_LIMIT - 1 - inv;
}

/** Decode an entry the way a reader of the SDM would, e.g. "P RW US A D pkey=1 NX pfn=0x1234". */
export function decodePte(lo: number, hi: number): string {
  if (lo === 0 && hi === 0) return 'none';
  const bits: string[] = [];
  if (lo & PTE_P) bits.push('P');
  else if (lo & PTE_PROTNONE) bits.push('PROTNONE');
  else bits.push('!P');
  if (lo & PTE_RW) bits.push('RW');
  if (lo & PTE_US) bits.push('US');
  if (lo & PTE_PWT) bits.push('PWT');
  if (lo & PTE_PCD) bits.push('PCD');
  if (lo & PTE_A) bits.push('A');
  if (lo & PTE_D) bits.push('D');
  if (lo & PTE_PS) bits.push('PS');
  if (lo & PTE_G && lo & PTE_P) bits.push('G');
  if (lo & PTE_SPECIAL) bits.push('SPECIAL');
  bits.push(`pkey=${ptePkey(hi)}`);
  if (hi & PTE_HI_NX) bits.push('NX');
  bits.push(`pfn=0x${ptePfn(lo, hi).toString(16)}`);
  return bits.join(' ');
}

/** Page-table indices of a virtual address: [pgd, pud, pmd, pte]. */
export function vaIndices(va: number): [number, number, number, number] {
  const vpn = Math.floor(va / PAGE_SIZE);
  const hi = Math.floor(vpn / 0x40000); // vpn >> 18
  const lo = vpn - hi * 0x40000;
  return [(hi >>> 9) & 511, hi & 511, lo >>> 9, lo & 511];
}

export function isCanonicalUser(va: number): boolean {
  return Number.isInteger(va) && va >= 0 && va < 2 ** 47;
}
