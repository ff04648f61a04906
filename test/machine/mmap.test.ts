// Item 4: address spaces. mmap/munmap/mprotect/mremap/madvise with Linux's errno for every bad
// argument (checked in the order the kernel checks them), VMA split and merge, /proc/PID/maps and
// smaps in the kernel's exact text format (fs/proc/task_mmu.c: show_map_vma(), show_smap()).
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  EACCES, EBADF, EEXIST, EFAULT, EINVAL, ENODEV, ENOMEM, MADV_DONTNEED, MADV_POPULATE_WRITE, MAP_ANONYMOUS, MAP_FIXED,
  MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED,
  MREMAP_MAYMOVE, O_RDONLY, O_WRONLY, PROT_EXEC, PROT_GROWSDOWN, PROT_READ, PROT_WRITE, SEGV_ACCERR,
  SEGV_MAPERR, SIGSEGV, type Thread,
} from '../../src/index.js';
import { DEFAULT_PROGRAM, STACK_SIZE, TEXT_BASE } from '../../src/kernel/exec.js';
import { STACK_TOP } from '../../src/mm/mm.js';
import {
  MiB, PAGE, SKIP, bytes, lines, makeFile, mapsLine, mapsLineAt, ok, oneSignal, simTest, smapsOf, text,
} from '../helpers.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const MAP_SHARED_VALIDATE = 0x03;
const MAP_LOCKED = 0x2000;
const TASK_SIZE = 0x7ffffffff000; // arch/x86/include/asm/page_64_types.h: TASK_SIZE_MAX, 4-level paging
const BASE = 0x200000000000; // a quiet part of the address space for MAP_FIXED layouts
const anonLine = (start: number, end: number, perms: string): string => mapsLine(start, end, perms, 0, '00:00', 0);
const minflt = (t: Thread): number => t.getrusage().ru_minflt;
/** The maps lines inside [lo, hi). */
const linesIn = (t: Thread, lo: number, hi: number): string[] =>
  lines(t.maps()).filter((l) => {
    const s = parseInt(l.split('-')[0]!, 16);
    return s >= lo && s < hi;
  });

describe('mmap', () => {
  simTest('argument errors, in the order the kernel checks them', (h) => {
    const t = h.spawn();
    // arch/x86/kernel/sys_x86_64.c: mmap: off & ~PAGE_MASK -> EINVAL, before anything else.
    assert.equal(t.mmap(0, PAGE, RW, MAP_PRIVATE, 99, 1), -EINVAL);
    // mm/mmap.c: ksys_mmap_pgoff(): fget(fd) -> EBADF before do_mmap()'s !len -> EINVAL.
    assert.equal(t.mmap(0, 0, RW, MAP_PRIVATE, 99, 0), -EBADF);
    // do_mmap(): !len -> EINVAL.
    assert.equal(t.mmap(0, 0, RW, ANON), -EINVAL);
    // do_mmap(): neither MAP_SHARED nor MAP_PRIVATE -> default: EINVAL.
    assert.equal(t.mmap(0, PAGE, RW, MAP_ANONYMOUS), -EINVAL);
    // The anonymous switch has MAP_SHARED, MAP_DROPPABLE, MAP_PRIVATE only: MAP_SHARED_VALIDATE -> EINVAL.
    assert.equal(t.mmap(0, PAGE, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS), -EINVAL);
    // do_mmap(): MAP_SHARED anon with VM_GROWSDOWN -> EINVAL.
    assert.equal(t.mmap(0, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN), -EINVAL);
    // __get_unmapped_area(): a fixed address not page aligned -> EINVAL; past TASK_SIZE -> ENOMEM.
    assert.equal(t.mmap(BASE + 1, PAGE, RW, ANON | MAP_FIXED), -EINVAL);
    assert.equal(t.mmap(TASK_SIZE - PAGE, 2 * PAGE, RW, ANON | MAP_FIXED), -ENOMEM);
    // A length larger than the address space -> ENOMEM.
    assert.equal(t.mmap(0, 2 ** 47, RW, ANON), -ENOMEM);
  });

  simTest('file mappings: access-mode errors and ENODEV', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/m', bytes('x'));
    assert.equal(t.close(fd), 0);
    const wr = t.open('/tmp/m', O_WRONLY);
    const rd = t.open('/tmp/m', O_RDONLY);
    // do_mmap(): MAP_PRIVATE of a file without FMODE_READ -> EACCES.
    assert.equal(t.mmap(0, PAGE, PROT_READ, MAP_PRIVATE, wr, 0), -EACCES);
    // MAP_SHARED + PROT_WRITE on a file without FMODE_WRITE -> EACCES.
    assert.equal(t.mmap(0, PAGE, RW, MAP_SHARED, rd, 0), -EACCES);
    // MAP_PRIVATE + PROT_WRITE of a read-only file is fine (private writes never reach the file).
    assert.ok(t.mmap(0, PAGE, RW, MAP_PRIVATE, rd, 0) > 0);
    // A file mapping with MAP_GROWSDOWN -> EINVAL.
    assert.equal(t.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, rd, 0), -EINVAL);
    // A pipe has no ->mmap -> ENODEV.
    const p = t.pipe() as [number, number];
    assert.equal(t.mmap(0, PAGE, PROT_READ, MAP_PRIVATE, p[0], 0), -ENODEV);
  });

  simTest('MAP_SHARED of a read-only fd: r--s, VM_MAYWRITE and VM_SHARED cleared (VmFlags rd mr me ms)', (h) => {
    // OBJ-7 / do_mmap(): if (!(file->f_mode & FMODE_WRITE)) vm_flags &= ~(VM_MAYWRITE | VM_SHARED).
    const t = h.spawn();
    makeFile(t, '/tmp/ro', bytes('abc'));
    const rd = t.open('/tmp/ro', O_RDONLY);
    const a = t.mmap(0, PAGE, PROT_READ, MAP_SHARED, rd, 0);
    assert.match(mapsLineAt(t, a)!, / r--s 00000000 /);
    assert.equal(smapsOf(t, a).get('VmFlags'), 'rd mr me ms sd');
    // MPROT-03: mprotect(PROT_WRITE) of it -> EACCES.
    assert.equal(t.mprotect(a, PAGE, PROT_WRITE), -EACCES);
  });

  simTest('a free hint is honoured; an occupied hint is not an error; top-down placement', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, PAGE, RW, ANON), BASE);
    const b = t.mmap(BASE, PAGE, RW, ANON);
    assert.ok(b > 0 && b !== BASE);
    const c = t.mmap(0, PAGE, RW, ANON);
    const d = t.mmap(0, PAGE, RW, ANON);
    assert.ok(d < c, 'arch_get_unmapped_area_topdown(): the next area is below the previous one');
    // round_hint_to_min(): a hint below mmap_min_addr (65536) is raised to it.
    assert.equal(t.mmap(0x1000, PAGE, RW, ANON), 0x10000);
  });

  simTest('MAP_FIXED_NOREPLACE: EEXIST over any existing page, the exact address when free, EINVAL if unaligned', (h) => {
    // do_mmap(): MAP_FIXED_NOREPLACE implies MAP_FIXED; find_vma_intersection() -> EEXIST.
    const t = h.spawn();
    assert.equal(t.mmap(BASE + PAGE, PAGE, RW, ANON | MAP_FIXED), BASE + PAGE);
    assert.equal(t.mmap(BASE + PAGE, PAGE, RW, ANON | MAP_FIXED_NOREPLACE), -EEXIST);
    assert.equal(t.mmap(BASE, 2 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE), -EEXIST, 'partial overlap');
    assert.equal(t.mmap(BASE, PAGE, RW, ANON | MAP_FIXED_NOREPLACE), BASE);
    assert.equal(t.mmap(BASE + 5 * PAGE + 8, PAGE, RW, ANON | MAP_FIXED_NOREPLACE), -EINVAL);
  });

  simTest('MAP_FIXED over a mapping replaces it: fresh zeroed memory, new protection', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, 3 * PAGE, RW, ANON | MAP_FIXED), BASE);
    ok(t.store(BASE, [1], 3 * PAGE));
    assert.equal(t.mmap(BASE + PAGE, PAGE, PROT_READ, ANON | MAP_FIXED), BASE + PAGE);
    assert.deepEqual([...t.load(BASE, 1).data!], [1]);
    assert.deepEqual([...t.load(BASE + PAGE, 1).data!], [0]);
    assert.deepEqual(linesIn(t, BASE, BASE + 3 * PAGE), [
      anonLine(BASE, BASE + PAGE, 'rw-p'),
      anonLine(BASE + PAGE, BASE + 2 * PAGE, 'r--p'),
      anonLine(BASE + 2 * PAGE, BASE + 3 * PAGE, 'rw-p'),
    ]);
  });

  simTest('adjacent compatible anonymous mappings merge into one VMA (vma_merge_new_range)', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, PAGE, RW, ANON | MAP_FIXED), BASE);
    assert.equal(t.mmap(BASE + PAGE, PAGE, RW, ANON | MAP_FIXED), BASE + PAGE);
    assert.equal(t.mmap(BASE + 2 * PAGE, PAGE, PROT_READ, ANON | MAP_FIXED), BASE + 2 * PAGE);
    assert.deepEqual(linesIn(t, BASE, BASE + 3 * PAGE), [
      anonLine(BASE, BASE + 2 * PAGE, 'rw-p'),
      anonLine(BASE + 2 * PAGE, BASE + 3 * PAGE, 'r--p'),
    ]);
  });

  simTest('FLT-06: MAP_POPULATE faults every page in for the caller (min_flt +16), later stores take no fault', (h) => {
    // results-6.12 FLT-06: map_populate_min_flt=16 map_populate_later_stores_min_flt=0.
    const t = h.spawn();
    let mn = minflt(t);
    const a = t.mmap(0, 16 * PAGE, RW, ANON | MAP_POPULATE);
    assert.equal(minflt(t) - mn, 16);
    mn = minflt(t);
    for (let i = 0; i < 16; i++) ok(t.store(a + i * PAGE, [1]));
    assert.equal(minflt(t) - mn, 0);
  });

  simTest('FLT-06: MADV_POPULATE_WRITE: min_flt +16, later stores take no fault', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, 16 * PAGE, RW, ANON);
    let mn = minflt(t);
    assert.equal(t.madvise(a, 16 * PAGE, MADV_POPULATE_WRITE), 0);
    assert.equal(minflt(t) - mn, 16);
    mn = minflt(t);
    for (let i = 0; i < 16; i++) ok(t.store(a + i * PAGE, [1]));
    assert.equal(minflt(t) - mn, 0);
  });
});

describe('munmap', () => {
  simTest('argument errors (mm/vma.c: do_vmi_munmap())', (h) => {
    const t = h.spawn();
    assert.equal(t.munmap(BASE + 1, PAGE), -EINVAL, 'unaligned start');
    assert.equal(t.munmap(BASE, 0), -EINVAL, 'PAGE_ALIGN(len) == 0');
    assert.equal(t.munmap(0x800000000000, PAGE), -EINVAL, 'start > TASK_SIZE');
    assert.equal(t.munmap(TASK_SIZE - PAGE, 2 * PAGE), -EINVAL, 'len > TASK_SIZE - start');
    assert.equal(t.munmap(BASE, PAGE), 0, 'nothing mapped there: still 0');
  });

  simTest('munmap of a middle page splits the VMA; the hole then faults SEGV_MAPERR', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, 3 * PAGE, RW, ANON | MAP_FIXED), BASE);
    ok(t.store(BASE, [1], 3 * PAGE));
    assert.equal(t.munmap(BASE + PAGE, PAGE - 100), 0, 'the length is rounded up to a page');
    assert.deepEqual(linesIn(t, BASE, BASE + 3 * PAGE), [
      anonLine(BASE, BASE + PAGE, 'rw-p'),
      anonLine(BASE + 2 * PAGE, BASE + 3 * PAGE, 'rw-p'),
    ]);
    t.sigaction(SIGSEGV, SKIP);
    assert.equal(oneSignal(t.load(BASE + PAGE)).code, SEGV_MAPERR);
    assert.deepEqual([...t.load(BASE + 2 * PAGE).data!], [1]);
  });
});

describe('mprotect', () => {
  simTest('argument errors in do_mprotect_pkey() order', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, 2 * PAGE, RW, ANON | MAP_FIXED), BASE);
    // MPROT-01 (results: mprotect_NULL=-1:ENOMEM): nothing mapped at 0.
    assert.equal(t.mprotect(0, PAGE + 1, PROT_READ), -ENOMEM);
    // MPROT-02 (mprotect_unaligned=-1:EINVAL).
    assert.equal(t.mprotect(BASE + 1, 1024, PROT_READ), -EINVAL);
    // PROT_GROWSDOWN and PROT_GROWSUP together -> EINVAL, before the alignment check.
    assert.equal(t.mprotect(BASE + 1, PAGE, PROT_READ | PROT_GROWSDOWN | 0x02000000), -EINVAL);
    // !len -> 0 before the prot bits are validated; the start check comes first.
    assert.equal(t.mprotect(BASE, 0, 0x10), 0);
    assert.equal(t.mprotect(BASE + 1, 0, PROT_READ), -EINVAL);
    // arch_validate_prot(): only READ|WRITE|EXEC|SEM.
    assert.equal(t.mprotect(BASE, PAGE, 0x10), -EINVAL);
    // PROT_GROWSDOWN on a VMA without VM_GROWSDOWN -> EINVAL.
    assert.equal(t.mprotect(BASE + PAGE, PAGE, PROT_READ | PROT_GROWSDOWN), -EINVAL);
    // An unallocated key -> EINVAL (PK-ALLOC-05).
    assert.equal(t.pkeyMprotect(BASE, PAGE, PROT_READ, 5), -EINVAL);
    // Nothing changed along the way.
    assert.deepEqual(linesIn(t, BASE, BASE + 2 * PAGE), [anonLine(BASE, BASE + 2 * PAGE, 'rw-p')]);
  });

  simTest('mprotect splits one VMA into three and merges them back (maps text checked)', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, 3 * PAGE, RW, ANON | MAP_FIXED), BASE);
    ok(t.store(BASE, [1], 3 * PAGE)); // with pages (and an anon_vma) the pieces must still merge
    assert.equal(t.mprotect(BASE + PAGE, PAGE, PROT_READ), 0);
    assert.deepEqual(linesIn(t, BASE, BASE + 3 * PAGE), [
      '200000000000-200000001000 rw-p 00000000 00:00 0 ',
      '200000001000-200000002000 r--p 00000000 00:00 0 ',
      '200000002000-200000003000 rw-p 00000000 00:00 0 ',
    ]);
    assert.equal(t.mprotect(BASE + PAGE, PAGE, RW), 0);
    assert.deepEqual(linesIn(t, BASE, BASE + 3 * PAGE), ['200000000000-200000003000 rw-p 00000000 00:00 0 ']);
    assert.deepEqual([...t.load(BASE + PAGE, 1).data!], [1]);
  });

  simTest('mprotect of a prefix and of a suffix splits in two; covering both neighbours merges all', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, 4 * PAGE, RW, ANON | MAP_FIXED), BASE);
    assert.equal(t.mprotect(BASE, PAGE, PROT_READ), 0);
    assert.equal(t.mprotect(BASE + 3 * PAGE, PAGE, PROT_READ), 0);
    assert.deepEqual(linesIn(t, BASE, BASE + 4 * PAGE), [
      anonLine(BASE, BASE + PAGE, 'r--p'),
      anonLine(BASE + PAGE, BASE + 3 * PAGE, 'rw-p'),
      anonLine(BASE + 3 * PAGE, BASE + 4 * PAGE, 'r--p'),
    ]);
    assert.equal(t.mprotect(BASE + PAGE, 2 * PAGE, PROT_READ), 0);
    assert.deepEqual(linesIn(t, BASE, BASE + 4 * PAGE), [anonLine(BASE, BASE + 4 * PAGE, 'r--p')]);
  });

  simTest('MPROT-09: not atomic across a hole: ENOMEM after changing what precedes it; nothing when the hole is first', (h) => {
    // results-6.12 MPROT-09: a_hole_after=-1:ENOMEM A_perms_after=r--p b_hole_before=-1:ENOMEM B_perms_after=rw-p
    // pkey_a=-1:ENOMEM A_key_after=1.
    const t = h.spawn();
    const A = BASE;
    const B = BASE + 11 * PAGE;
    assert.equal(t.mmap(A, PAGE, RW, ANON | MAP_FIXED), A);
    assert.equal(t.mmap(B, PAGE, RW, ANON | MAP_FIXED), B);
    assert.equal(t.mprotect(A, 2 * PAGE, PROT_READ), -ENOMEM);
    assert.match(mapsLineAt(t, A)!, / r--p /);
    assert.equal(t.mprotect(B - PAGE, 2 * PAGE, PROT_READ), -ENOMEM);
    assert.match(mapsLineAt(t, B)!, / rw-p /);
    const k = t.pkeyAlloc(0, 0);
    assert.equal(t.pkeyMprotect(A, 2 * PAGE, PROT_READ, k), -ENOMEM);
    assert.equal(smapsOf(t, A).get('ProtectionKey'), String(k));
  });

  simTest('MPROT-04: store into a read-only shared file mapping is SEGV_ACCERR; after mprotect(PROT_WRITE) it works', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/abc', bytes('abcdefghijklmnopqrstuvwxyz'));
    const a = t.mmap(0, 26, PROT_READ, MAP_SHARED, fd, 0);
    const c1 = t.fork() as Thread;
    c1.sigaction(SIGSEGV, SKIP);
    assert.equal(oneSignal(c1.store(a, bytes('XY'))).code, SEGV_ACCERR);
    c1.exit();
    assert.equal(t.mprotect(a, 26, PROT_WRITE), 0);
    const c2 = t.fork() as Thread;
    ok(c2.store(a, bytes('XY')));
    c2.exit();
    const buf = t.mmap(0, PAGE, RW, ANON);
    assert.equal(t.pread(fd, buf, 4, 0), 4);
    assert.equal(text(t.load(buf, 4).data), 'XYcd', 'MAP_SHARED: the child\'s store reached the file');
  });

  simTest('MPROT-07: split and merge across five pages of a shared file mapping all return 0', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/five', new Uint8Array(5 * PAGE).fill(1));
    const p = t.mmap(0, 5 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    assert.equal(t.mprotect(p + PAGE, PAGE, PROT_EXEC), 0);
    assert.equal(t.mprotect(p + 3 * PAGE, PAGE, PROT_WRITE), 0);
    assert.equal(t.mprotect(p + PAGE, 4 * PAGE, PROT_READ), 0);
    const ino = h.m.fs.lookup('/tmp/five')!.ino;
    assert.deepEqual(linesIn(t, p, p + 5 * PAGE), [
      mapsLine(p, p + 5 * PAGE, 'r--s', 0, '08:01', ino, '/tmp/five'),
    ], 'the pieces merged back, pgoff contiguous');
  });

  simTest('PK-MAP-01: pkey_mprotect of the middle page: 3 VMAs with keys 0,k,0', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, 3 * PAGE, RW, ANON | MAP_FIXED), BASE);
    const k = t.pkeyAlloc(0, 0);
    assert.equal(t.pkeyMprotect(BASE + PAGE, PAGE, RW, k), 0);
    assert.equal(linesIn(t, BASE, BASE + 3 * PAGE).length, 3);
    assert.deepEqual([0, 1, 2].map((i) => smapsOf(t, BASE + i * PAGE).get('ProtectionKey')), ['0', String(k), '0']);
  });
});

describe('mremap', () => {
  simTest('argument errors (mm/mremap.c: SYSCALL_DEFINE5(mremap) and mremap_to())', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, 2 * PAGE, RW, ANON | MAP_FIXED), BASE);
    assert.equal(t.mremap(BASE, PAGE, PAGE, 8), -EINVAL, 'unknown flag');
    assert.equal(t.mremap(BASE, PAGE, PAGE, MREMAP_FIXED, BASE + 8 * PAGE), -EINVAL, 'FIXED without MAYMOVE');
    assert.equal(t.mremap(BASE, PAGE, PAGE, MREMAP_DONTUNMAP), -EINVAL, 'DONTUNMAP without MAYMOVE');
    assert.equal(t.mremap(BASE, PAGE, 2 * PAGE, MREMAP_DONTUNMAP | MREMAP_MAYMOVE), -EINVAL, 'DONTUNMAP resizing');
    assert.equal(t.mremap(BASE + 1, PAGE, PAGE, 0), -EINVAL, 'unaligned address');
    assert.equal(t.mremap(BASE, PAGE, 0, 0), -EINVAL, 'new_len 0');
    // vma_lookup(addr) fails -> EFAULT, for a shrink as well as a grow or a move.
    assert.equal(t.mremap(BASE + 4 * PAGE, 2 * PAGE, PAGE, 0), -EFAULT);
    assert.equal(t.mremap(BASE + 4 * PAGE, PAGE, 2 * PAGE, MREMAP_MAYMOVE), -EFAULT);
    assert.equal(t.mremap(BASE + 4 * PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, BASE + 8 * PAGE), -EFAULT);
    // mremap_to(): unaligned new address, overlapping ranges -> EINVAL.
    assert.equal(t.mremap(BASE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, BASE + 8 * PAGE + 8), -EINVAL);
    assert.equal(t.mremap(BASE, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, BASE + PAGE), -EINVAL);
    // vma_to_resize(): the old range must lie inside one VMA -> EFAULT.
    assert.equal(t.mremap(BASE, 3 * PAGE, 4 * PAGE, MREMAP_MAYMOVE), -EFAULT);
    assert.deepEqual(linesIn(t, BASE, BASE + 16 * PAGE), [anonLine(BASE, BASE + 2 * PAGE, 'rw-p')], 'nothing changed');
  });

  simTest('shrink unmaps the tail; grow in place when the space above is free', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, 4 * PAGE, RW, ANON | MAP_FIXED), BASE);
    ok(t.store(BASE, [7]));
    assert.equal(t.mremap(BASE, 4 * PAGE, 2 * PAGE, 0), BASE);
    assert.deepEqual(linesIn(t, BASE, BASE + 8 * PAGE), [anonLine(BASE, BASE + 2 * PAGE, 'rw-p')]);
    assert.equal(t.mremap(BASE, 2 * PAGE, 6 * PAGE, 0), BASE);
    assert.deepEqual(linesIn(t, BASE, BASE + 8 * PAGE), [anonLine(BASE, BASE + 6 * PAGE, 'rw-p')]);
    assert.deepEqual([...t.load(BASE).data!], [7]);
  });

  simTest('grow when blocked: ENOMEM without MREMAP_MAYMOVE, a move (same frames, old range gone) with it', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, 2 * PAGE, RW, ANON | MAP_FIXED), BASE);
    assert.equal(t.mmap(BASE + 2 * PAGE, PAGE, PROT_READ, ANON | MAP_FIXED), BASE + 2 * PAGE);
    ok(t.store(BASE, bytes('moved!')));
    const pfn = t.pte(BASE)!.pfn;
    assert.equal(t.mremap(BASE, 2 * PAGE, 4 * PAGE, 0), -ENOMEM);
    const n = t.mremap(BASE, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE);
    assert.ok(n > 0 && n !== BASE);
    assert.equal(text(t.load(n, 6).data), 'moved!');
    assert.equal(t.pte(n)!.pfn, pfn, 'move_page_tables() moves the PTE, not the data');
    t.sigaction(SIGSEGV, SKIP);
    assert.equal(oneSignal(t.load(BASE)).code, SEGV_MAPERR);
    assert.deepEqual(linesIn(t, n, n + 4 * PAGE), [anonLine(n, n + 4 * PAGE, 'rw-p')]);
  });

  simTest('MREMAP_FIXED moves onto the target, replacing whatever was mapped there', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, PAGE, RW, ANON | MAP_FIXED), BASE);
    assert.equal(t.mmap(BASE + 8 * PAGE, 2 * PAGE, PROT_READ, ANON | MAP_FIXED), BASE + 8 * PAGE);
    ok(t.store(BASE, bytes('fixed')));
    assert.equal(t.mremap(BASE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, BASE + 8 * PAGE), BASE + 8 * PAGE);
    assert.equal(text(t.load(BASE + 8 * PAGE, 5).data), 'fixed');
    assert.deepEqual(linesIn(t, BASE, BASE + 16 * PAGE), [
      anonLine(BASE + 8 * PAGE, BASE + 9 * PAGE, 'rw-p'),
      anonLine(BASE + 9 * PAGE, BASE + 10 * PAGE, 'r--p'),
    ]);
  });

  simTest('MREMAP_DONTUNMAP: the pages move, the old range stays mapped and reads as fresh memory', (h) => {
    // mm/mremap.c: move_vma() with MREMAP_DONTUNMAP keeps the old VMA (its page tables are moved away).
    const t = h.spawn();
    assert.equal(t.mmap(BASE, PAGE, RW, ANON | MAP_FIXED), BASE);
    ok(t.store(BASE, bytes('data')));
    const n = t.mremap(BASE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
    assert.ok(n > 0 && n !== BASE);
    assert.equal(text(t.load(n, 4).data), 'data');
    assert.ok(mapsLineAt(t, BASE), 'old range still mapped');
    assert.deepEqual([...t.load(BASE, 4).data!], [0, 0, 0, 0]);
  });
});

describe('madvise', () => {
  simTest('argument errors and the hole rule (mm/madvise.c: do_madvise(), madvise_walk_vmas())', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, PAGE, RW, ANON | MAP_FIXED), BASE);
    assert.equal(t.madvise(BASE, PAGE, 999), -EINVAL, 'unknown advice');
    assert.equal(t.madvise(BASE + 1, PAGE, MADV_DONTNEED), -EINVAL, 'unaligned');
    assert.equal(t.madvise(BASE + 1, PAGE, 999), -EINVAL, 'advice is checked first');
    assert.equal(t.madvise(BASE + 64 * PAGE, 0, MADV_DONTNEED), 0, 'empty range');
    assert.equal(t.madvise(BASE + 64 * PAGE, PAGE, MADV_DONTNEED), -ENOMEM, 'nothing mapped');
    // A hole inside the range: the mapped part is still advised, then ENOMEM.
    ok(t.store(BASE, [5]));
    assert.equal(t.madvise(BASE, 2 * PAGE, MADV_DONTNEED), -ENOMEM);
    assert.deepEqual([...t.load(BASE).data!], [0], 'the mapped page was zapped anyway');
  });

  simTest('MADV_DONTNEED on VM_LOCKED memory is EINVAL (madvise_dontneed_free_valid_vma())', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON | MAP_LOCKED);
    assert.ok(a > 0);
    assert.equal(t.madvise(a, PAGE, MADV_DONTNEED), -EINVAL);
  });

  simTest('MADV_DONTNEED on a private file mapping brings the file contents back', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/dn', bytes('file'));
    const a = t.mmap(0, PAGE, RW, MAP_PRIVATE, fd, 0);
    ok(t.store(a, bytes('anon')));
    assert.equal(t.madvise(a, PAGE, MADV_DONTNEED), 0);
    assert.equal(text(t.load(a, 4).data), 'file');
  });

  simTest('MADV_DONTNEED on shared memory only drops the mapping: the data stays in the object', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS);
    ok(t.store(a, bytes('shm')));
    assert.equal(t.madvise(a, PAGE, MADV_DONTNEED), 0);
    assert.equal(t.pte(a), null);
    assert.equal(text(t.load(a, 3).data), 'shm');
  });
});

describe('/proc/PID/maps and smaps', () => {
  simTest('a fresh process: text, [stack], [vsyscall], exactly', (h) => {
    const t = h.spawn();
    const ino = h.m.fs.lookup(DEFAULT_PROGRAM)!.ino;
    assert.equal(t.maps(), [
      mapsLine(TEXT_BASE, TEXT_BASE + 2 * PAGE, 'r-xp', 0, '08:01', ino, DEFAULT_PROGRAM),
      mapsLine(STACK_TOP - STACK_SIZE, STACK_TOP, 'rw-p', 0, '00:00', 0, '[stack]'),
      mapsLine(0xffffffffff600000, 0xffffffffff601000, '--xp', 0, '00:00', 0, '[vsyscall]'),
    ].map((l) => l + '\n').join(''));
  });

  simTest('the name column starts at column 73; unnamed lines keep the trailing space', (h) => {
    const t = h.spawn();
    const ls = lines(t.maps());
    const stack = ls.find((l) => l.endsWith('[stack]'))!;
    assert.equal(stack.indexOf('[stack]'), 73);
    assert.equal(stack, '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]');
    assert.equal(t.mmap(BASE, PAGE, RW, ANON | MAP_FIXED), BASE);
    assert.equal(mapsLineAt(t, BASE), '200000000000-200000001000 rw-p 00000000 00:00 0 ');
  });

  simTest('file mappings show offset, device, inode and path; shared anon shows /dev/zero (deleted)', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/off', new Uint8Array(4 * PAGE));
    const ino = h.m.fs.lookup('/tmp/off')!.ino;
    const a = t.mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, 2 * PAGE);
    assert.equal(mapsLineAt(t, a), mapsLine(a, a + PAGE, 'r--s', 2 * PAGE, '08:01', ino, '/tmp/off'));
    const s = t.mmap(0, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS);
    assert.match(mapsLineAt(t, s)!, /^[0-9a-f]+-[0-9a-f]+ rw-s 00000000 00:01 \d+ +\/dev\/zero \(deleted\)$/);
  });

  simTest('smaps of an anon VMA, exactly: one page written, one read (zero page), one untouched', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, 3 * PAGE, RW, ANON | MAP_FIXED), BASE);
    ok(t.store(BASE, [1]));
    ok(t.load(BASE + PAGE));
    const kb = (label: string, n: number): string => label.padEnd(16) + String(n).padStart(8) + ' kB';
    const want = [
      '200000000000-200000003000 rw-p 00000000 00:00 0 ',
      kb('Size:', 12), kb('KernelPageSize:', 4), kb('MMUPageSize:', 4),
      kb('Rss:', 4), kb('Pss:', 4), kb('Pss_Dirty:', 4), kb('Shared_Clean:', 0), kb('Shared_Dirty:', 0),
      kb('Private_Clean:', 0), kb('Private_Dirty:', 4), kb('Referenced:', 4), kb('Anonymous:', 4), kb('KSM:', 0),
      kb('LazyFree:', 0), kb('AnonHugePages:', 0), kb('ShmemPmdMapped:', 0), kb('FilePmdMapped:', 0),
      kb('Shared_Hugetlb:', 0), 'Private_Hugetlb:       0 kB', kb('Swap:', 0), kb('SwapPss:', 0), kb('Locked:', 0),
      'THPeligible:           0',
      'ProtectionKey:         0',
      'VmFlags: rd wr mr mw me ac sd ',
    ];
    const all = t.smaps().split('\n');
    const i = all.indexOf(want[0]!);
    assert.ok(i >= 0);
    assert.deepEqual(all.slice(i, i + want.length), want);
  });

  simTest('smaps after fork: a COW-shared page is Shared_Dirty with Pss halved', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(BASE, 2 * PAGE, RW, ANON | MAP_FIXED), BASE);
    ok(t.store(BASE, [1], 2 * PAGE));
    const c = t.fork() as Thread;
    ok(c.store(BASE + PAGE, [2]));
    const s = smapsOf(t, BASE);
    assert.equal(s.get('Rss'), '8 kB');
    assert.equal(s.get('Pss'), '6 kB', '4/2 + 4');
    assert.equal(s.get('Shared_Dirty'), '4 kB');
    assert.equal(s.get('Private_Dirty'), '4 kB');
    c.exit();
  });

  simTest('smaps of the stack: VmFlags rd wr mr mw me gd ac (no soft-dirty: setup_arg_pages() resets the flags)', (h) => {
    const t = h.spawn();
    assert.equal(smapsOf(t, STACK_TOP - STACK_SIZE).get('VmFlags'), 'rd wr mr mw me gd ac');
    assert.equal(smapsOf(t, TEXT_BASE).get('VmFlags'), 'rd ex mr mw me sd');
  });

  simTest('maps of a big region after partial population: one line, Rss counts only present pages', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, 4 * MiB, RW, ANON);
    for (let i = 0; i < 10; i++) ok(t.store(a + i * 100 * PAGE, [1]));
    assert.equal(smapsOf(t, a).get('Rss'), '40 kB');
    assert.equal(smapsOf(t, a).get('Size'), '4096 kB');
  });
});

describe('mmap_lock', () => {
  simTest('no syscall or fault leaves mmap_lock held', (h) => {
    const t = h.spawn();
    const mm = t.task.mm!;
    const a = t.mmap(0, 4 * PAGE, RW, ANON);
    ok(t.store(a, [1]));
    t.mprotect(a, PAGE, PROT_READ);
    t.mremap(a, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE);
    t.madvise(a, PAGE, MADV_DONTNEED);
    t.sigaction(SIGSEGV, SKIP);
    t.store(0x10000, [1]);
    t.munmap(a, 4 * PAGE);
    assert.equal(mm.lock.isLocked(), false);
  });

  simTest('the fault handler holds mmap_lock for read while it runs (OBJ-3)', (h) => {
    const t = h.spawn();
    const mm = t.task.mm!;
    const a = t.mmap(0, PAGE, RW, ANON);
    const seen: boolean[] = [];
    const orig = mm.lock.downRead.bind(mm.lock);
    mm.lock.downRead = (pid: number): void => {
      orig(pid);
      seen.push(mm.lock.heldBy(pid) && !mm.lock.heldForWrite(pid));
    };
    ok(t.store(a, [1]));
    assert.ok(seen.length >= 1 && seen.every(Boolean));
    assert.equal(mm.lock.isLocked(), false);
  });
});

