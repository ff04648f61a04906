// Item 1: physical memory and struct page state.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  GUP_PIN_COUNTING_BIAS, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, ZERO_PFN, Sim,
} from '../../src/index.js';
import { PhysMem } from '../../src/hw/physmem.js';
import { PG_anon, PG_anon_exclusive, PG_reserved, PG_table, Pages } from '../../src/mm/page.js';
import { GiB, MiB, PAGE, Harness, ok, simTest } from '../helpers.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

describe('physical memory', () => {
  test('RAM size is configurable and frames are backed on demand (4 KiB frames)', () => {
    const sim = new Sim({ ramBytes: 2 * GiB });
    assert.equal(sim.m.mem.nrFrames, (2 * GiB) / PAGE);
    // Nothing but the slab holding the zero page and the first frames is backed by host memory.
    assert.ok(sim.m.mem.allocatedBytes() <= 64 * MiB, `backed ${sim.m.mem.allocatedBytes()} bytes up front`);
  });

  test('a frame holds real bytes: a store is read back, other pages are unaffected', () => {
    const h = new Harness();
    const t = h.spawn();
    const a = t.mmap(0, 2 * PAGE, RW, ANON);
    ok(t.store(a + 100, [1, 2, 3, 4]));
    ok(t.store(a + PAGE, [9]));
    assert.deepEqual([...t.load(a + 99, 6).data!], [0, 1, 2, 3, 4, 0]);
    assert.deepEqual([...t.load(a + PAGE, 2).data!], [9, 0]);
    // The bytes live in the frame the PTE names.
    const pfn = t.pte(a)!.pfn;
    assert.deepEqual([...h.m.mem.frame(pfn).subarray(100, 104)], [1, 2, 3, 4]);
    h.teardown();
  });

  simTest('a recycled frame is handed out zeroed (do_anonymous_page uses a zeroed page)', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, [0xaa], PAGE));
    const pfn = t.pte(a)!.pfn;
    assert.equal(t.munmap(a, PAGE), 0);
    const b = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(b + PAGE - 1, [7]));
    assert.equal(t.pte(b)!.pfn, pfn, 'the page allocator reuses the frame just freed');
    const all = t.load(b, PAGE).data!;
    assert.equal(all.subarray(0, PAGE - 1).every((x) => x === 0), true);
    assert.equal(all[PAGE - 1], 7);
  });

  simTest('used frames count data and page-table pages, and go back to the start after munmap', (h) => {
    const t = h.spawn();
    const before = h.sim.usedFrames();
    const a = t.mmap(0, 10 * PAGE, RW, ANON);
    for (let i = 0; i < 10; i++) ok(t.store(a + i * PAGE, [1]));
    assert.ok(h.sim.usedFrames() >= before + 10);
    assert.equal(t.munmap(a, 10 * PAGE), 0);
    assert.equal(h.sim.usedFrames(), before);
  });
});

describe('struct page state (flat typed arrays)', () => {
  test('per-frame metadata is flat typed arrays indexed by pfn', () => {
    const p = new Pages(new PhysMem(16 * MiB));
    assert.ok(p.refcount instanceof Int32Array);
    assert.ok(p.mapcount instanceof Int32Array);
    assert.ok(p.pincount instanceof Int32Array);
    assert.ok(p.flags instanceof Uint16Array);
    assert.equal(p.refcount.length, (16 * MiB) / PAGE);
  });

  test('GUP_PIN_COUNTING_BIAS is 1 << 10 and a small folio counts as maybe-pinned from 1024 refs', () => {
    // include/linux/mm.h: #define GUP_PIN_COUNTING_BIAS (1U << 10); folio_maybe_dma_pinned() for a
    // small folio: folio_ref_count(folio) >= GUP_PIN_COUNTING_BIAS (OBJ-12).
    assert.equal(GUP_PIN_COUNTING_BIAS, 1024);
    const p = new Pages(new PhysMem(1 * MiB));
    const pfn = p.alloc(true);
    assert.equal(p.refcount[pfn], 1);
    p.get(pfn, GUP_PIN_COUNTING_BIAS); // a FOLL_PIN on a small folio
    assert.equal(p.refcount[pfn], 1025);
    assert.equal(p.maybeDmaPinned(pfn), true);
    p.put(pfn, GUP_PIN_COUNTING_BIAS);
    assert.equal(p.maybeDmaPinned(pfn), false);
    p.put(pfn);
    assert.equal(p.isAllocated(pfn), false, 'the last put_page() frees the frame');
  });

  test('the zero page is frame ZERO_PFN, reserved, and never refcounted by mappings', () => {
    const p = new Pages(new PhysMem(1 * MiB));
    assert.equal(p.testFlag(ZERO_PFN, PG_reserved), true);
    const rc = p.refcount[ZERO_PFN];
    p.get(ZERO_PFN);
    p.put(ZERO_PFN);
    p.put(ZERO_PFN);
    assert.equal(p.refcount[ZERO_PFN], rc);
    assert.equal(p.isAllocated(ZERO_PFN), true);
  });

  test('the allocator fails with -1 once RAM is exhausted, and recovers after a free', () => {
    const p = new Pages(new PhysMem(64 * 1024));
    const got: number[] = [];
    for (;;) {
      const f = p.alloc(false);
      if (f < 0) break;
      got.push(f);
    }
    assert.equal(got.length, 16 - 1, 'every frame but the zero page');
    assert.equal(p.freeFrames(), 0);
    p.put(got[3]!);
    assert.equal(p.alloc(true), got[3]);
  });

  simTest('an anon page after its write fault: refcount 1, mapcount 1, anon and exclusive', (h) => {
    // mm/memory.c: do_anonymous_page(): folio_add_new_anon_rmap(..., RMAP_EXCLUSIVE) on a fresh folio
    // with one reference that the page table owns.
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, [1]));
    const pfn = t.pte(a)!.pfn;
    const P = h.m.pages;
    assert.equal(P.refcount[pfn], 1);
    assert.equal(P.mapcount[pfn], 1);
    assert.equal(P.testFlag(pfn, PG_anon), true);
    assert.equal(P.testFlag(pfn, PG_anon_exclusive), true);
    assert.equal(P.testFlag(pfn, PG_table), false);
  });

  simTest('after fork the page is shared: refcount 2, mapcount 2, no longer exclusive', (h) => {
    // kernel/fork.c -> mm/memory.c: copy_present_pte(): folio_get(), folio_try_dup_anon_rmap_pte()
    // clears PageAnonExclusive, both PTEs write-protected.
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, [1]));
    const pfn = t.pte(a)!.pfn;
    const c = t.fork();
    assert.ok(typeof c !== 'number');
    const P = h.m.pages;
    assert.equal(P.refcount[pfn], 2);
    assert.equal(P.mapcount[pfn], 2);
    assert.equal(P.testFlag(pfn, PG_anon_exclusive), false);
    assert.equal(c.pte(a)!.pfn, pfn);
    c.exit();
    assert.equal(P.refcount[pfn], 1);
    assert.equal(P.mapcount[pfn], 1);
  });

  simTest('page-table pages are marked PG_table and counted as used frames', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    const before = h.sim.usedFrames();
    ok(t.store(a, [1]));
    // One data page; the PGD/PUD/PMD/PTE tables of the mmap area may already exist (the stack and
    // text share the top-level tables), so at least one frame and at most 1 + 3 new tables.
    const grown = h.sim.usedFrames() - before;
    assert.ok(grown >= 1 && grown <= 4, `grew by ${grown}`);
  });
});
