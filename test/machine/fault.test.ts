// Item 5: page faults, their outcomes, signals and accounting. Expected values: the real-kernel
// results (conformance/real-kernel/results-6.12.txt: FLT-*, PK-ACC-*), SEMANTICS.md FLT-/ACC- rules,
// and the kernel functions named in the comments.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  BUS_ADRERR, BUS_MCEERR_AR, MADV_DONTNEED, MADV_HWPOISON, MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE,
  MAP_SHARED, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE, PTE_P, SEGV_ACCERR, SEGV_MAPERR, SEGV_PKUERR, SIGBUS,
  SIGKILL, SIGSEGV, ZERO_PFN, type Thread,
} from '../../src/index.js';
import { PTE_SPECIAL } from '../../src/hw/pte.js';
import { STACK_TOP } from '../../src/mm/mm.js';
import { TEXT_BASE } from '../../src/kernel/exec.js';
import { KiB, MiB, PAGE, SKIP, bytes, makeFile, mapsLineAt, ok, oneSignal, simTest, smapsOf, text } from '../helpers.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const minflt = (t: Thread): number => t.getrusage().ru_minflt;
const majflt = (t: Thread): number => t.getrusage().ru_majflt;
const rssKb = (t: Thread, start: number): number => parseInt(smapsOf(t, start).get('Rss')!, 10);

describe('anonymous faults and their accounting (ACC-2: mm_account_fault() charges current)', () => {
  simTest('FLT-01: first write to fresh anon memory: min_flt +1, maj_flt +0, Rss +4 kB', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    const [mn, mj] = [minflt(t), majflt(t)];
    ok(t.store(a, [1]));
    assert.equal(minflt(t) - mn, 1);
    assert.equal(majflt(t) - mj, 0);
    assert.equal(rssKb(t, a), 4);
  });

  simTest('FLT-02: read maps the zero page (min_flt +1, Rss +0), the write then COWs it (min_flt +1, Rss +4 kB)', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    let mn = minflt(t);
    const r = t.load(a);
    ok(r);
    assert.equal(r.data![0], 0);
    assert.equal(minflt(t) - mn, 1);
    assert.equal(rssKb(t, a), 0);
    assert.equal(t.pte(a)!.pfn, ZERO_PFN);
    mn = minflt(t);
    ok(t.store(a, [5]));
    assert.equal(minflt(t) - mn, 1);
    assert.equal(rssKb(t, a), 4);
    assert.notEqual(t.pte(a)!.pfn, ZERO_PFN);
  });

  simTest('min_flt for 100 fresh pages: written = 100, read-then-written = 200', (h) => {
    // One do_anonymous_page() per written page; read-then-write is do_anonymous_page() (zero page)
    // plus do_wp_page() (COW from the zero page) per page: FLT-01/FLT-02 times 100.
    const t = h.spawn();
    const n = 100;
    const a = t.mmap(0, n * PAGE, RW, ANON);
    let mn = minflt(t);
    for (let i = 0; i < n; i++) ok(t.store(a + i * PAGE, [1]));
    assert.equal(minflt(t) - mn, 100);
    const b = t.mmap(0, n * PAGE, RW, ANON);
    mn = minflt(t);
    for (let i = 0; i < n; i++) ok(t.load(b + i * PAGE));
    for (let i = 0; i < n; i++) ok(t.store(b + i * PAGE, [1]));
    assert.equal(minflt(t) - mn, 200);
    // A second pass over present, writable pages takes no fault at all.
    mn = minflt(t);
    for (let i = 0; i < n; i++) ok(t.store(b + i * PAGE, [2]));
    assert.equal(minflt(t) - mn, 0);
  });

  simTest('/proc/PID/stat fields 10 (minflt) and 12 (majflt) agree with getrusage', (h) => {
    // fs/proc/array.c: do_task_stat() prints min_flt as field 10 and maj_flt as field 12.
    const t = h.spawn();
    const a = t.mmap(0, 3 * PAGE, RW, ANON);
    for (let i = 0; i < 3; i++) ok(t.store(a + i * PAGE, [1]));
    const f = t.stat().trim().split(' ');
    assert.equal(Number(f[9]), t.getrusage().ru_minflt);
    assert.equal(Number(f[11]), t.getrusage().ru_majflt);
  });

  simTest('faults are counted per thread; RUSAGE_SELF and stat sum the threads (OBJ-18)', (h) => {
    const t1 = h.spawn();
    const t2 = t1.clone() as Thread;
    const a = t1.mmap(0, 4 * PAGE, RW, ANON);
    const [s1, s2, all] = [t1.getrusage(true).ru_minflt, t2.getrusage(true).ru_minflt, minflt(t1)];
    ok(t1.store(a, [1]));
    ok(t2.store(a + PAGE, [1]));
    ok(t2.store(a + 2 * PAGE, [1]));
    assert.equal(t1.getrusage(true).ru_minflt - s1, 1);
    assert.equal(t2.getrusage(true).ru_minflt - s2, 2);
    assert.equal(minflt(t1) - all, 3);
    assert.equal(minflt(t2) - all, 3);
    // A thread that exits leaves its counts in the process total (signal->min_flt).
    t2.exitThread();
    assert.equal(minflt(t1) - all, 3);
  });

  simTest('the zero page is shared across processes, mapped special, and not in Rss', (h) => {
    // do_anonymous_page(): pte_mkspecial(pfn_pte(my_zero_pfn())); smaps_pte_entry() skips it
    // (vm_normal_page() returns NULL for special PTEs).
    const p1 = h.spawn();
    const p2 = h.spawn();
    const a1 = p1.mmap(0, 2 * PAGE, RW, ANON);
    const a2 = p2.mmap(0, PAGE, RW, ANON);
    ok(p1.load(a1));
    ok(p1.load(a1 + PAGE));
    ok(p2.load(a2));
    for (const [t, a] of [[p1, a1], [p1, a1 + PAGE], [p2, a2]] as const) {
      const pte = t.pte(a)!;
      assert.equal(pte.pfn, ZERO_PFN);
      assert.equal(pte.lo & PTE_SPECIAL, PTE_SPECIAL);
    }
    assert.equal(rssKb(p1, a1), 0);
    ok(p1.store(a1, [9]));
    assert.notEqual(p1.pte(a1)!.pfn, ZERO_PFN, 'the first write gives p1 its own page');
    assert.equal(p1.pte(a1 + PAGE)!.pfn, ZERO_PFN, 'the neighbour still maps the zero page');
    assert.equal(p2.pte(a2)!.pfn, ZERO_PFN, 'the other process is unaffected');
    assert.deepEqual([...p2.load(a2).data!], [0]);
  });

  simTest('MADV_DONTNEED drops anon pages: the next read sees zeros and faults again', (h) => {
    // mm/madvise.c: madvise_dontneed_single_vma() -> zap_page_range_single().
    const t = h.spawn();
    const a = t.mmap(0, 2 * PAGE, RW, ANON);
    ok(t.store(a, [7], 2 * PAGE));
    assert.equal(t.madvise(a, 2 * PAGE, MADV_DONTNEED), 0);
    assert.equal(t.pte(a), null);
    const mn = minflt(t);
    assert.deepEqual([...t.load(a, 2).data!], [0, 0]);
    assert.equal(minflt(t) - mn, 1);
  });
});

describe('COW after fork', () => {
  simTest('fork COW isolation both ways: neither side sees the other\'s writes', (h) => {
    const p = h.spawn();
    const a = p.mmap(0, 2 * PAGE, RW, ANON);
    ok(p.store(a, bytes('parent-0')));
    ok(p.store(a + PAGE, bytes('parent-1')));
    const c = p.fork() as Thread;
    assert.equal(text(c.load(a, 8).data), 'parent-0');
    ok(p.store(a, bytes('PARENT!!')));
    ok(c.store(a + PAGE, bytes('CHILD!!!')));
    assert.equal(text(p.load(a, 8).data), 'PARENT!!');
    assert.equal(text(c.load(a, 8).data), 'parent-0');
    assert.equal(text(p.load(a + PAGE, 8).data), 'parent-1');
    assert.equal(text(c.load(a + PAGE, 8).data), 'CHILD!!!');
    assert.notEqual(p.pte(a)!.pfn, c.pte(a)!.pfn);
    assert.notEqual(p.pte(a + PAGE)!.pfn, c.pte(a + PAGE)!.pfn);
    c.exit();
  });

  simTest('FLT-07: a write after fork costs min_flt +1 and copies while the child lives, reuses after it exits', (h) => {
    // results-6.12 FLT-07: alive_store_min_flt=1 alive_pfn_changed=1 after_exit_store_min_flt=1
    // after_exit_pfn_changed=0 (mm/memory.c: do_wp_page() -> wp_can_reuse_anon_folio()).
    const p = h.spawn();
    const a = p.mmap(0, 2 * PAGE, RW, ANON);
    ok(p.store(a, bytes('P-orig')));
    ok(p.store(a + PAGE, [1]));
    const [pp, pq] = [p.pte(a)!.pfn, p.pte(a + PAGE)!.pfn];
    const c = p.fork() as Thread;
    let mn = minflt(p);
    ok(p.store(a, [0x58]));
    assert.equal(minflt(p) - mn, 1);
    assert.notEqual(p.pte(a)!.pfn, pp, 'copied while shared');
    assert.equal(text(c.load(a, 6).data), 'P-orig', 'child_sees_p=P-orig');
    c.exit();
    mn = minflt(p);
    ok(p.store(a + PAGE, [2]));
    assert.equal(minflt(p) - mn, 1);
    assert.equal(p.pte(a + PAGE)!.pfn, pq, 'reused once the child is gone');
  });

  simTest('both PTEs are write-protected by fork and the child\'s writes are charged to the child', (h) => {
    const p = h.spawn();
    const a = p.mmap(0, PAGE, RW, ANON);
    ok(p.store(a, [1]));
    const c = p.fork() as Thread;
    assert.equal(p.pte(a)!.lo & 2, 0, 'parent PTE read-only (ptep_set_wrprotect)');
    assert.equal(c.pte(a)!.lo & 2, 0, 'child PTE read-only');
    const [pm, cm] = [minflt(p), minflt(c)];
    ok(c.store(a, [2]));
    assert.equal(minflt(c) - cm, 1);
    assert.equal(minflt(p) - pm, 0);
    c.exit();
  });

  simTest('a shared (MAP_SHARED) mapping stays shared across fork', (h) => {
    const p = h.spawn();
    const a = p.mmap(0, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS);
    ok(p.store(a, [1]));
    const c = p.fork() as Thread;
    ok(c.store(a, [42]));
    assert.deepEqual([...p.load(a).data!], [42]);
    c.exit();
  });
});

describe('file-backed faults and the page cache', () => {
  simTest('a major fault on first touch of an uncached file page, minor on a page-cache hit', (h) => {
    // mm/filemap.c: filemap_fault(): a page-cache miss reads the page and returns VM_FAULT_MAJOR.
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/data', new Uint8Array(2 * PAGE).fill(0x41));
    assert.equal(t.close(fd), 0);
    h.sim.dropCaches(); // the write left the pages cached; evict them
    const fd2 = t.open('/tmp/data', 0);
    const a = t.mmap(0, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd2, 0);
    let [mn, mj] = [minflt(t), majflt(t)];
    assert.deepEqual([...t.load(a).data!], [0x41]);
    assert.equal(majflt(t) - mj, 1);
    assert.equal(minflt(t) - mn, 0);
    // Another process mapping the same file finds the page cached: a minor fault.
    const u = h.spawn();
    const fd3 = u.open('/tmp/data', 0);
    const b = u.mmap(0, 2 * PAGE, PROT_READ, MAP_SHARED, fd3, 0);
    [mn, mj] = [minflt(u), majflt(u)];
    ok(u.load(b));
    assert.equal(majflt(u) - mj, 0);
    assert.equal(minflt(u) - mn, 1);
    const f = u.stat().trim().split(' ');
    assert.equal(Number(f[11]), 0, 'stat field 12: no major faults in u');
    assert.equal(h.m.pages.mapcount[t.pte(a)!.pfn], 2, 'one page-cache page mapped by both');
  });

  simTest('MAP_SHARED writes reach the file: read() sees them, also after the page cache is dropped', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/shared', bytes('aaaaaaaaaa'));
    const a = t.mmap(0, PAGE, RW, MAP_SHARED, fd, 0);
    ok(t.store(a + 2, bytes('XYZ')));
    const buf = t.mmap(0, PAGE, RW, ANON);
    assert.equal(t.pread(fd, buf, 10, 0), 10);
    assert.equal(text(t.load(buf, 10).data), 'aaXYZaaaaa');
    assert.equal(t.munmap(a, PAGE), 0);
    h.sim.dropCaches(); // writeback, then eviction
    assert.equal(t.pread(fd, buf, 10, 0), 10);
    assert.equal(text(t.load(buf, 10).data), 'aaXYZaaaaa');
  });

  simTest('MAP_PRIVATE writes do not reach the file; other mappings keep seeing the file', (h) => {
    // mm/memory.c: do_cow_fault(): a private copy of the page-cache page.
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/private', bytes('original'));
    const a = t.mmap(0, PAGE, RW, MAP_PRIVATE, fd, 0);
    const b = t.mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    ok(t.store(a, bytes('CHANGED!')));
    assert.equal(text(t.load(a, 8).data), 'CHANGED!');
    assert.equal(text(t.load(b, 8).data), 'original');
    const buf = t.mmap(0, PAGE, RW, ANON);
    assert.equal(t.pread(fd, buf, 8, 0), 8);
    assert.equal(text(t.load(buf, 8).data), 'original');
    assert.equal(smapsOf(t, a).get('Anonymous'), '4 kB', 'the COWed page is anonymous');
  });

  simTest('write() to a file is visible through an existing MAP_SHARED mapping', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/coherent', bytes('0123456789'));
    const a = t.mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    ok(t.load(a));
    const src = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(src, bytes('ab')));
    assert.equal(t.pwrite(fd, src, 2, 4), 2);
    assert.equal(text(t.load(a, 10).data), '0123ab6789');
  });

  simTest('FLT-09: a load beyond EOF in a MAP_SHARED mapping: SIGBUS BUS_ADRERR, no min/maj fault, pgfault +1', (h) => {
    // results-6.12 FLT-09: load_beyond_eof=BUS_ADRERR min_flt_delta=0 maj_flt_delta=0 vmstat_pgfault_delta=1.
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/short', new Uint8Array(PAGE).fill(1));
    const a = t.mmap(0, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    t.sigaction(SIGBUS, SKIP);
    ok(t.load(a));
    const [mn, mj, pg] = [minflt(t), majflt(t), h.m.vmstat.pgfault];
    const s = oneSignal(t.load(a + PAGE + 8));
    assert.equal(s.signo, SIGBUS);
    assert.equal(s.code, BUS_ADRERR);
    assert.equal(s.addr, a + PAGE + 8);
    assert.equal(minflt(t) - mn, 0);
    assert.equal(majflt(t) - mj, 0);
    assert.equal(h.m.vmstat.pgfault - pg, 1);
  });

  simTest('truncating a mapped file makes the cut pages SIGBUS', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/trunc', new Uint8Array(2 * PAGE).fill(3));
    const a = t.mmap(0, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    ok(t.load(a + PAGE));
    assert.equal(t.ftruncate(fd, PAGE), 0);
    const r = t.load(a + PAGE);
    assert.equal(r.killed, true, 'no handler: SIGBUS kills');
    assert.equal(oneSignal(r).signo, SIGBUS);
  });

  simTest('the file size in the last page: bytes past EOF read as zero, no signal', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/tail', bytes('abc'));
    const a = t.mmap(0, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    assert.deepEqual([...t.load(a + 2, 3).data!], [0x63, 0, 0]);
  });
});

describe('SIGSEGV: codes, addresses and error codes', () => {
  simTest('unmapped address: SEGV_MAPERR with si_addr; write error code 0x6, read 0x4', (h) => {
    // arch/x86/mm/fault.c: do_user_addr_fault(): no VMA -> bad_area_nosemaphore() -> SEGV_MAPERR.
    const t = h.spawn();
    t.sigaction(SIGSEGV, SKIP);
    const addr = 0x200000123;
    let s = oneSignal(t.store(addr, [1]));
    assert.deepEqual([s.signo, s.code, s.addr, s.pfError], [SIGSEGV, SEGV_MAPERR, addr, 0x6]);
    s = oneSignal(t.load(addr));
    assert.deepEqual([s.signo, s.code, s.addr, s.pfError], [SIGSEGV, SEGV_MAPERR, addr, 0x4]);
  });

  simTest('user write to a read-only present page: error code 0x7, SEGV_ACCERR', (h) => {
    // access_error(): X86_PF_WRITE on a VMA without VM_WRITE -> bad_area_access_error() -> SEGV_ACCERR.
    const t = h.spawn();
    const a = t.mmap(0, PAGE, PROT_READ, ANON);
    t.sigaction(SIGSEGV, SKIP);
    ok(t.load(a)); // present (the zero page), read-only
    const s = oneSignal(t.store(a + 16, [1]));
    assert.deepEqual([s.signo, s.code, s.addr, s.pfError], [SIGSEGV, SEGV_ACCERR, a + 16, 0x7]);
  });

  simTest('write to a read-only VMA whose page is absent: 0x6, SEGV_ACCERR, not counted as a fault', (h) => {
    // FLT-2 step 5: write without VM_WRITE is an error before handle_mm_fault(): no min_flt (ACC-2).
    const t = h.spawn();
    const a = t.mmap(0, PAGE, PROT_READ, ANON);
    t.sigaction(SIGSEGV, SKIP);
    const mn = minflt(t);
    const s = oneSignal(t.store(a, [1]));
    assert.deepEqual([s.code, s.pfError], [SEGV_ACCERR, 0x6]);
    assert.equal(minflt(t) - mn, 0);
  });

  simTest('read of PROT_NONE: SEGV_ACCERR with error code 0x4 (a PROT_NONE PTE is not present to the CPU)', (h) => {
    // OBJ-10: PAGE_NONE has _PAGE_PROTNONE, not _PAGE_PRESENT, so the CPU reports P=0 (HW-3);
    // access_error() step 7: read, not present, !vma_is_accessible() -> SEGV_ACCERR. MPROT-06 (a).
    const t = h.spawn();
    const a = t.mmap(0, 2 * PAGE, RW, ANON);
    ok(t.store(a, [1])); // page 0 present, page 1 absent
    assert.equal(t.mprotect(a, 2 * PAGE, PROT_NONE), 0);
    t.sigaction(SIGSEGV, SKIP);
    for (const addr of [a, a + PAGE]) {
      const s = oneSignal(t.load(addr));
      assert.deepEqual([s.signo, s.code, s.pfError], [SIGSEGV, SEGV_ACCERR, 0x4]);
      const w = oneSignal(t.store(addr, [1]));
      assert.deepEqual([w.code, w.pfError], [SEGV_ACCERR, 0x6]);
    }
    assert.equal(t.mprotect(a, PAGE, RW), 0);
    assert.deepEqual([...t.load(a).data!], [1], 'the data survived PROT_NONE');
  });

  simTest('fetch from a non-exec page: the fault maps it (min_flt +1), the retry faults 0x15 SEGV_ACCERR', (h) => {
    // access_error(): a fetch is a read; not present -> allowed (accessible VMA) -> handle_mm_fault()
    // maps the zero page with NX; the re-executed fetch is a PROT|USER|INSTR fault -> SEGV_ACCERR.
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    t.sigaction(SIGSEGV, SKIP);
    const mn = minflt(t);
    const s = oneSignal(t.exec(a));
    assert.deepEqual([s.code, s.pfError], [SEGV_ACCERR, 0x15]);
    assert.equal(minflt(t) - mn, 1);
  });

  simTest('executing the program text works; MPROT-06 (b): mprotect(PROT_EXEC) of a RW page, then call it', (h) => {
    const t = h.spawn();
    ok(t.exec(TEXT_BASE + PAGE));
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, [0xb8, 0x2a, 0, 0, 0, 0xc3]));
    assert.equal(t.mprotect(a, PAGE, PROT_EXEC), 0);
    ok(t.exec(a));
  });

  simTest('an unhandled SIGSEGV kills the whole process', (h) => {
    const t = h.spawn();
    const t2 = t.clone() as Thread;
    const r = t.store(0x10000, [1]);
    assert.equal(r.killed, true);
    assert.equal(oneSignal(r).code, SEGV_MAPERR);
    assert.equal(t.alive, false);
    assert.equal(t2.alive, false);
  });
});

describe('protection keys in the fault path', () => {
  simTest('PK-ACC-03: load of a present page under AD: SEGV_PKUERR si_pkey 1, error code 0x25', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    const k = t.pkeyAlloc(0, 0);
    assert.equal(t.pkeyMprotect(a, PAGE, RW, k), 0);
    ok(t.load(a));
    t.wrpkru(t.rdpkru() | (1 << (2 * k)));
    t.sigaction(SIGSEGV, SKIP);
    const s = oneSignal(t.load(a));
    assert.deepEqual([s.code, s.pkey, s.addr, s.pfError], [SEGV_PKUERR, 1, a, 0x25]);
  });

  simTest('PK-ACC-04: WD store: absent page 0x6 (min_flt +0, stays absent), present page 0x27', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, 2 * PAGE, RW, ANON);
    const k = t.pkeyAlloc(0, 2 /* PKEY_DISABLE_WRITE */);
    assert.equal(k, 1);
    assert.equal(t.pkeyMprotect(a, 2 * PAGE, RW, k), 0);
    t.sigaction(SIGSEGV, SKIP);
    const mn = minflt(t);
    const s = oneSignal(t.store(a, [1]));
    assert.deepEqual([s.code, s.pkey, s.pfError], [SEGV_PKUERR, 1, 0x6]);
    assert.equal(minflt(t) - mn, 0);
    assert.equal(t.pte(a), null, 'fresh_present_after=0');
    // The handler ran with init_pkru_value and longjmp'd out (no sigreturn): set PKRU back.
    t.wrpkru(0x55555558);
    ok(t.load(a + PAGE), 'WD allows loads');
    const p = oneSignal(t.store(a + PAGE, [1]));
    assert.deepEqual([p.code, p.pfError], [SEGV_PKUERR, 0x27]);
  });

  simTest('FLT-03: a pkey-denied fault is not counted (min/maj and vmstat pgfault unchanged), page stays absent', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    const k = t.pkeyAlloc(0, 1 /* PKEY_DISABLE_ACCESS */);
    assert.equal(t.pkeyMprotect(a, PAGE, RW, k), 0);
    t.sigaction(SIGSEGV, SKIP);
    const [mn, mj, pg] = [minflt(t), majflt(t), h.m.vmstat.pgfault];
    assert.equal(oneSignal(t.load(a)).code, SEGV_PKUERR);
    assert.deepEqual([minflt(t) - mn, majflt(t) - mj, h.m.vmstat.pgfault - pg], [0, 0, 0]);
    assert.equal(t.pte(a), null);
  });

  simTest('PK-ACC-10: RO VMA + WD store is PKUERR; RO store ACCERR; PROT_NONE + AD load PKUERR; PROT_NONE load ACCERR', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, 4 * PAGE, PROT_READ, ANON);
    const k = t.pkeyAlloc(0, 0);
    t.sigaction(SIGSEGV, SKIP);
    assert.equal(t.pkeyMprotect(a, PAGE, PROT_READ, k), 0);
    assert.equal(t.pkeyMprotect(a + 2 * PAGE, PAGE, PROT_NONE, k), 0);
    assert.equal(t.mprotect(a + 3 * PAGE, PAGE, PROT_NONE), 0);
    t.wrpkru(t.rdpkru() & ~(3 << (2 * k)) | (2 << (2 * k))); // WD(k)
    assert.equal(oneSignal(t.store(a, [1])).code, SEGV_PKUERR, '(a)');
    assert.equal(oneSignal(t.store(a + PAGE, [1])).code, SEGV_ACCERR, '(b)');
    t.wrpkru(t.rdpkru() | (1 << (2 * k))); // AD(k)
    const c = oneSignal(t.load(a + 2 * PAGE));
    assert.deepEqual([c.code, c.pkey], [SEGV_PKUERR, k], '(c)');
    assert.equal(oneSignal(t.load(a + 3 * PAGE)).code, SEGV_ACCERR, '(d)');
  });

  simTest('PK-ACC-12: PKRU is per thread: T1 with AD faults, T2 reads the same page', (h) => {
    const t1 = h.spawn();
    const a = t1.mmap(0, PAGE, RW, ANON);
    ok(t1.store(a, [5]));
    const k = t1.pkeyAlloc(0, 0);
    assert.equal(t1.pkeyMprotect(a, PAGE, RW, k), 0);
    const t2 = t1.clone() as Thread;
    t1.wrpkru(t1.rdpkru() | (1 << (2 * k)));
    assert.notEqual(t1.rdpkru(), t2.rdpkru());
    t1.sigaction(SIGSEGV, SKIP);
    assert.equal(oneSignal(t1.load(a)).code, SEGV_PKUERR);
    assert.deepEqual([...t2.load(a).data!], [5]);
  });

  simTest('PK-ACC-01: WD allows loads of fresh and present pages', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, 2 * PAGE, RW, ANON);
    ok(t.store(a + PAGE, bytes('s')));
    const k = t.pkeyAlloc(0, 2);
    assert.equal(t.pkeyMprotect(a, 2 * PAGE, RW, k), 0);
    assert.deepEqual([...t.load(a).data!], [0]);
    assert.equal(text(t.load(a + PAGE).data), 's');
  });
});

describe('stack growth', () => {
  simTest('a touch below [stack] grows it (expand_downwards), maps shows the new start', (h) => {
    const t = h.spawn();
    const line = mapsLineAt(t, STACK_TOP - 1)!;
    assert.match(line, /\[stack\]$/);
    const start = parseInt(line.split('-')[0]!, 16);
    const target = start - 10 * PAGE + 8;
    ok(t.store(target, [1]));
    const grown = mapsLineAt(t, STACK_TOP - 1)!;
    assert.equal(parseInt(grown.split('-')[0]!, 16), start - 10 * PAGE);
    assert.match(grown, / rw-p 00000000 00:00 0 +\[stack\]$/);
  });

  simTest('growth beyond RLIMIT_STACK (8 MiB) fails with SEGV_MAPERR (acct_stack_growth)', (h) => {
    const t = h.spawn();
    t.sigaction(SIGSEGV, SKIP);
    const s = oneSignal(t.store(STACK_TOP - 8 * MiB - PAGE, [1]));
    assert.deepEqual([s.signo, s.code], [SIGSEGV, SEGV_MAPERR]);
  });

  simTest('MAP_GROWSDOWN mapping grows on a fault just below it', (h) => {
    const t = h.spawn();
    const base = 0x300000000000;
    const a = t.mmap(base, 4 * PAGE, RW, ANON | MAP_FIXED | MAP_GROWSDOWN);
    assert.equal(a, base);
    ok(t.store(a - 3 * PAGE, [1]));
    assert.equal(mapsLineAt(t, a)!.split('-')[0], (a - 3 * PAGE).toString(16));
    assert.match(smapsOf(t, a - 3 * PAGE).get('VmFlags')!, /\bgd\b/);
  });

  simTest('stack_guard_gap: no growth to within 256 pages of an accessible mapping below', (h) => {
    // mm/mmap.c: expand_downwards(): prev accessible and address - prev->vm_end < stack_guard_gap -> -ENOMEM.
    const t = h.spawn();
    const base = 0x300000000000;
    assert.equal(t.mmap(base, 4 * PAGE, RW, ANON | MAP_FIXED | MAP_GROWSDOWN), base);
    const below = base - 300 * PAGE;
    assert.equal(t.mmap(below, PAGE, RW, ANON | MAP_FIXED), below);
    t.sigaction(SIGSEGV, SKIP);
    // 300 - 1 = 299 pages of gap: growing by 50 pages leaves 249 < 256 -> refused.
    assert.equal(oneSignal(t.store(base - 50 * PAGE, [1])).code, SEGV_MAPERR);
    ok(t.store(base - 40 * PAGE, [1]), '259 pages of gap left: allowed');
    // A PROT_NONE neighbour does not count (vma_is_accessible(prev) is false).
    assert.equal(t.mprotect(below, PAGE, PROT_NONE), 0);
    ok(t.store(base - 100 * PAGE, [1]));
  });
});

describe('out of memory and hardware poison', () => {
  simTest('mmap of more than RAM + swap is refused with ENOMEM (__vm_enough_memory, OVERCOMMIT_GUESS)', (h) => {
    const t = h.spawn();
    assert.equal(t.mmap(0, 2 * MiB, RW, ANON), -12);
    assert.ok(t.mmap(0, 512 * KiB, RW, ANON) > 0);
  }, { ramBytes: 1 * MiB });

  simTest('touching more pages than RAM holds: the faulting task is OOM-killed (SIGKILL), no exception', (h) => {
    // arch/x86/mm/fault.c: mm_fault_error(): VM_FAULT_OOM in user mode -> pagefault_out_of_memory();
    // the OOM killer picks this task, by far the largest.
    const t = h.spawn();
    const len = 1 * MiB; // as much as __vm_enough_memory() allows: all of RAM
    const a = t.mmap(0, len, RW, ANON);
    assert.ok(a > 0);
    let killed = null;
    for (let off = 0; off < len; off += PAGE) {
      const r = t.store(a + off, [1]);
      if (r.killed) {
        killed = r;
        break;
      }
    }
    assert.ok(killed, 'the task was killed');
    assert.equal(oneSignal(killed).signo, SIGKILL);
    assert.equal(t.alive, false);
    assert.ok(h.m.log.some((e) => /Out of memory/.test(e.msg)));
  }, { ramBytes: 1 * MiB });

  simTest('syscalls report ENOMEM when RAM is exhausted: fork, file write', (h) => {
    const hog = h.spawn();
    const other = h.spawn();
    const fd = other.open('/tmp/f', 0o102);
    const src = other.mmap(0, PAGE, RW, ANON);
    ok(other.store(src, [1]));
    // Fill RAM from one 2 MiB-aligned region so that no further page table is needed.
    const base = 0x100000000000;
    assert.equal(hog.mmap(base, 2 * MiB, RW, ANON | MAP_FIXED | 0x4000 /* MAP_NORESERVE */), base);
    for (let off = 0; h.m.pages.freeFrames() > 0; off += PAGE) ok(hog.store(base + off, [1]));
    assert.equal(other.fork(), -12);
    assert.equal(other.write(fd, src, 1), -12);
    assert.equal(hog.munmap(base, 2 * MiB), 0);
    assert.equal(other.write(fd, src, 1), 1);
  }, { ramBytes: 1 * MiB });

  simTest('MADV_HWPOISON: a later touch gets SIGBUS BUS_MCEERR_AR; the frame is retired', (h) => {
    // mm/madvise.c: madvise_inject_error() -> memory_failure(): the page is unmapped and its PTE
    // replaced by a hwpoison entry; do_swap_page() on it returns VM_FAULT_HWPOISON, which
    // mm_fault_error() turns into do_sigbus(): SIGBUS BUS_MCEERR_AR. The poisoned frame is never freed.
    const t = h.spawn();
    const a = t.mmap(0, 2 * PAGE, RW, ANON);
    ok(t.store(a, [1], 2 * PAGE));
    assert.equal(t.madvise(a, PAGE, MADV_HWPOISON), 0);
    assert.equal(t.pte(a)!.lo & PTE_P, 0, 'no longer mapped');
    t.sigaction(SIGBUS, SKIP);
    const s = oneSignal(t.load(a + 5));
    assert.deepEqual([s.signo, s.code, s.addr], [SIGBUS, BUS_MCEERR_AR, a + 5]);
    ok(t.load(a + PAGE), 'the neighbour is fine');
    assert.equal(rssKb(t, a), 4, 'the poisoned page left RSS');
  }, { leftoverFrames: 1 });

  simTest('MADV_HWPOISON needs CAP_SYS_ADMIN: EPERM for other users', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, [1]));
    t.task.uid = 1000;
    assert.equal(t.madvise(a, PAGE, MADV_HWPOISON), -1);
  });
});

describe('vmstat and the data path', () => {
  simTest('a faulted-in page keeps its data across mprotect round trips (PTE rewritten, pfn kept)', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, bytes('keep')));
    const pfn = t.pte(a)!.pfn;
    assert.equal(t.mprotect(a, PAGE, PROT_READ), 0);
    assert.equal(t.mprotect(a, PAGE, RW), 0);
    assert.equal(t.pte(a)!.pfn, pfn);
    const mn = minflt(t);
    ok(t.store(a, bytes('K')));
    assert.ok(minflt(t) - mn <= 1);
    assert.equal(text(t.load(a, 4).data), 'Keep');
  });
});
