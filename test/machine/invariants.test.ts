// Item 8: the invariant checker (src/mm/debug.ts) finds each kind of corruption it is meant to find,
// the harness runs it after every step, and a random workload keeps the machine consistent with
// every frame released at the end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  MADV_DONTNEED, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MREMAP_MAYMOVE, PROT_NONE, PROT_READ, PROT_WRITE,
  SIGSEGV, checkInvariants, type Thread,
} from '../../src/index.js';
import { PG_table } from '../../src/mm/page.js';
import { pteLookup, writePte } from '../../src/mm/pgtable.js';
import { pteHi, pteLo } from '../../src/hw/pte.js';
import { Harness, PAGE, SKIP, ok, withSim } from '../helpers.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/** A harness with one process and one written anon page; returns [h, t, addr, pfn]. */
function rig(): [Harness, Thread, number, number] {
  const h = new Harness();
  const t = h.spawn();
  const a = t.mmap(0, 2 * PAGE, RW, ANON);
  ok(t.store(a, [1]));
  return [h, t, a, t.pte(a)!.pfn];
}

describe('the invariant checker finds corruption', () => {
  test('a clean machine has no violations', () => {
    const [h] = rig();
    assert.deepEqual(checkInvariants(h.m), []);
  });

  test('a refcount with no owner (a leak)', () => {
    const [h, , , pfn] = rig();
    h.m.pages.refcount[pfn]!++;
    assert.match(checkInvariants(h.m).join('\n'), /refcount 2 but 1 references/);
  });

  test('a mapcount that disagrees with the PTEs', () => {
    const [h, , , pfn] = rig();
    h.m.pages.mapcount[pfn] = 3;
    assert.match(checkInvariants(h.m).join('\n'), /mapcount 3 but 1 PTEs map it/);
  });

  test('a PTE that maps a free frame', () => {
    const [h, t, a] = rig();
    const free = h.m.pages.alloc(false);
    h.m.pages.put(free);
    const p = pteLookup(h.m, t.task.mm!, a + PAGE);
    writePte(h.m, p, pteLo(free, 0x25), pteHi(free, 0, true));
    assert.match(checkInvariants(h.m).join('\n'), /maps free frame/);
  });

  test('RSS counters that disagree with the page tables', () => {
    const [h, t] = rig();
    t.task.mm!.rssAnon += 1;
    assert.match(checkInvariants(h.m).join('\n'), /RSS counters/);
  });

  test('a page-table page without PG_table', () => {
    const [h, t] = rig();
    h.m.pages.clearFlag(t.task.mm!.pgd, PG_table);
    assert.match(checkInvariants(h.m).join('\n'), /lacks PG_table/);
  });

  test('a PTE outside every VMA', () => {
    const [h, t, a] = rig();
    t.task.mm!.vmaLookup(a)!.end = a + PAGE; // shrink the VMA behind the page tables' back
    ok(t.load(a)); // a is still inside
    const p = pteLookup(h.m, t.task.mm!, a + PAGE);
    writePte(h.m, p, pteLo(0, 0x225), pteHi(0, 0, true)); // the zero page, special
    assert.match(checkInvariants(h.m).join('\n'), /PTE outside any VMA/);
  });

  test('the harness checks after every call made through a checked thread', () => {
    withSim((h) => {
      const t = h.spawn();
      const n = h.checks;
      const a = t.mmap(0, PAGE, RW, ANON);
      ok(t.store(a, [1]));
      t.load(a);
      assert.equal(h.checks - n, 3);
    });
  });
});

// A random workload: two processes (one forked from the other) doing mmap, munmap, mprotect,
// mremap, madvise, loads, stores, forks and exits in a 64-page window. After every step the
// checker must be clean (the harness asserts it), and the teardown must leave no frame in use.
type Op =
  | { k: 'mmap'; p: number; page: number; n: number; prot: number; shared: boolean }
  | { k: 'munmap' | 'dontneed'; p: number; page: number; n: number }
  | { k: 'mprotect'; p: number; page: number; n: number; prot: number }
  | { k: 'mremap'; p: number; page: number; n: number; m: number }
  | { k: 'store' | 'load'; p: number; page: number }
  | { k: 'fork' | 'exit'; p: number };

const WINDOW = 0x300000000000;
const PAGES = 64;
const page = fc.integer({ min: 0, max: PAGES - 1 });
const len = fc.integer({ min: 1, max: 8 });
const proc = fc.integer({ min: 0, max: 1 });
const prot = fc.constantFrom(PROT_NONE, PROT_READ, RW);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('mmap' as const), p: proc, page, n: len, prot, shared: fc.boolean() }),
  fc.record({ k: fc.constantFrom('munmap' as const, 'dontneed' as const), p: proc, page, n: len }),
  fc.record({ k: fc.constant('mprotect' as const), p: proc, page, n: len, prot }),
  fc.record({ k: fc.constant('mremap' as const), p: proc, page, n: len, m: len }),
  fc.record({ k: fc.constantFrom('store' as const, 'load' as const), p: proc, page }),
  fc.record({ k: fc.constantFrom('fork' as const, 'exit' as const), p: proc }),
);

function run(h: Harness, ops: Op[]): void {
  const procs: (Thread | null)[] = [h.spawn(), null];
  const main = procs[0]!;
  main.sigaction(SIGSEGV, SKIP);
  main.sigaction(7 /* SIGBUS */, SKIP);
  for (const op of ops) {
    let t = procs[op.p] ?? null;
    if (op.k === 'fork') {
      if (!procs[1]) {
        const src = procs[0]!;
        const c = src.fork();
        if (typeof c !== 'number') procs[1] = c;
      }
      continue;
    }
    if (!t) t = procs[0]!;
    const addr = 'page' in op ? WINDOW + op.page * PAGE : 0;
    switch (op.k) {
      case 'exit':
        if (t !== procs[0]) {
          t.exit();
          procs[1] = null;
        }
        break;
      case 'mmap':
        t.mmap(addr, op.n * PAGE, op.prot, (op.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_FIXED);
        break;
      case 'munmap':
        t.munmap(addr, op.n * PAGE);
        break;
      case 'dontneed':
        t.madvise(addr, op.n * PAGE, MADV_DONTNEED);
        break;
      case 'mprotect':
        t.mprotect(addr, op.n * PAGE, op.prot);
        break;
      case 'mremap':
        t.mremap(addr, op.n * PAGE, op.m * PAGE, MREMAP_MAYMOVE);
        break;
      case 'store':
        t.store(addr + 8, [op.page & 0xff]);
        break;
      case 'load':
        t.load(addr + 8);
        break;
    }
  }
}

describe('random workloads keep the machine consistent', () => {
  test('fast-check: mmap/munmap/mprotect/mremap/madvise/load/store/fork/exit', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 60 }), (ops) => {
        withSim((h) => run(h, ops), { ramBytes: 8 * 1024 * 1024 });
      }),
      { numRuns: 60, seed: 20261126 },
    );
  });
});
