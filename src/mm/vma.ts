// struct vm_area_struct and its flags (include/linux/mm.h, include/linux/mm_types.h).
import type { Inode } from '../kernel/fs.js';
import type { Mm } from './mm.js';

export const VM_NONE = 0;
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_PFNMAP = 0x400;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
export const VM_DONTEXPAND = 0x40000;
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
export const VM_HUGETLB = 0x400000;
/** Set on every VMA mmap_region() creates or expands; ignored when merging (CONFIG_MEM_SOFT_DIRTY). */
export const VM_SOFTDIRTY = 0x08000000;
/** VM_PKEY_BIT0..3 are bits 32..35 (VM_PKEY_SHIFT); the model keeps them in Vma.pkey. */
export const VM_PKEY_SHIFT = 32;

export type VmaName = '[stack]' | '[heap]' | '[vdso]' | '[vvar]' | null;

export class Vma {
  constructor(
    public mm: Mm,
    public start: number,
    public end: number,
    /** The low 32 bits of vm_flags. */
    public flags: number,
    /** vma_pkey(): bits 32..35 of vm_flags. */
    public pkey: number,
    public file: Inode | null,
    /** vm_pgoff: offset in the file in pages (for anon: start >> PAGE_SHIFT, as Linux does). */
    public pgoff: number,
    public name: VmaName = null,
  ) {}

  /** vma->anon_vma: 0 = none; set by the first anonymous page (anon_vma_prepare()), new per fork. */
  anonVma = 0;

  /** The full 64-bit vm_flags value, for display. */
  vmFlags(): bigint {
    return (BigInt(this.pkey) << BigInt(VM_PKEY_SHIFT)) | BigInt(this.flags >>> 0);
  }

  /** vma_is_anonymous(): no vm_ops. Shared anonymous memory is shmem, so not anonymous. */
  isAnonymous(): boolean {
    return this.file === null;
  }

  pages(): number {
    return (this.end - this.start) / 4096;
  }

  /** linear_page_index(): the file page (or anon index) mapped at addr. */
  pageIndex(addr: number): number {
    return (addr - this.start) / 4096 + this.pgoff;
  }

  clone(): Vma {
    const v = new Vma(this.mm, this.start, this.end, this.flags, this.pkey, this.file, this.pgoff, this.name);
    v.anonVma = this.anonVma;
    return v;
  }
}

/** include/linux/mm.h: is_cow_mapping() */
export function isCowMapping(flags: number): boolean {
  return (flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
}

/** include/linux/mm.h: vma_is_accessible() */
export function vmaIsAccessible(vma: Vma): boolean {
  return (vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) !== 0;
}

/** The "rwxp" column of /proc/PID/maps (fs/proc/task_mmu.c: show_map_vma()). */
export function vmaPermString(flags: number): string {
  return (
    (flags & VM_READ ? 'r' : '-') +
    (flags & VM_WRITE ? 'w' : '-') +
    (flags & VM_EXEC ? 'x' : '-') +
    (flags & VM_MAYSHARE ? 's' : 'p')
  );
}
