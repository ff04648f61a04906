// The software TLB (hw/tlb.ts) must be invisible: every access after a PTE change behaves as if
// Linux had flushed (flush_tlb_page()/flush_tlb_range() after each change, as mm/ does). Each test
// first fills the TLB with an access, changes the mapping, then checks the next access sees the
// change. Expected outcomes: the kernel behaviour named in each test (SEMANTICS.md rules).
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  MADV_DONTNEED, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PKEY_DISABLE_ACCESS, PKEY_DISABLE_WRITE, PROT_READ, PROT_WRITE,
  SEGV_ACCERR, SEGV_MAPERR, SEGV_PKUERR, SIGSEGV, PTE_D,
} from '../../src/index.js';
import { PAGE, SKIP, ok, oneSignal, simTest, text, bytes } from '../helpers.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

describe('software TLB coherence: each change to a present PTE is seen by the next access', () => {
  simTest('mprotect(PROT_READ) after stores: the next store faults SEGV_ACCERR (mm/mprotect.c flushes the range)', (h) => {
    const t = h.spawn();
    t.sigaction(SIGSEGV, SKIP);
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, [1]));
    ok(t.store(a, [2])); // a TLB hit
    assert.equal(t.mprotect(a, PAGE, PROT_READ), 0);
    const s = oneSignal(t.store(a, [3]));
    assert.equal(s.code, SEGV_ACCERR);
    assert.equal(t.load(a).data![0], 2);
  });

  simTest('pkey_set(PKEY_DISABLE_ACCESS) after loads: the next load faults SEGV_PKUERR (PKRU is checked on every hit)', (h) => {
    const t = h.spawn();
    t.sigaction(SIGSEGV, SKIP);
    const k = t.pkeyAlloc(0, 0);
    const a = t.mmap(0, PAGE, RW, ANON);
    assert.equal(t.pkeyMprotect(a, PAGE, RW, k), 0);
    ok(t.store(a, [7]));
    ok(t.load(a));
    t.pkeySet(k, PKEY_DISABLE_WRITE);
    ok(t.load(a));
    assert.equal(oneSignal(t.store(a, [8])).code, SEGV_PKUERR);
    t.pkeySet(k, PKEY_DISABLE_ACCESS);
    const s = oneSignal(t.load(a));
    assert.equal(s.code, SEGV_PKUERR);
    assert.equal(s.pkey, k);
  });

  simTest('pkey_mprotect() to another key after loads: the next load checks the new key', (h) => {
    const t = h.spawn();
    t.sigaction(SIGSEGV, SKIP);
    const k1 = t.pkeyAlloc(0, 0);
    const k2 = t.pkeyAlloc(0, PKEY_DISABLE_ACCESS);
    const a = t.mmap(0, PAGE, RW, ANON);
    assert.equal(t.pkeyMprotect(a, PAGE, RW, k1), 0);
    ok(t.store(a, [1]));
    ok(t.load(a));
    assert.equal(t.pkeyMprotect(a, PAGE, RW, k2), 0);
    const s = oneSignal(t.load(a));
    assert.equal(s.code, SEGV_PKUERR);
    assert.equal(s.pkey, k2);
  });

  simTest('munmap after loads: the next load faults SEGV_MAPERR', (h) => {
    const t = h.spawn();
    t.sigaction(SIGSEGV, SKIP);
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, [1]));
    ok(t.load(a));
    assert.equal(t.munmap(a, PAGE), 0);
    assert.equal(oneSignal(t.load(a)).code, SEGV_MAPERR);
  });

  simTest('MADV_DONTNEED after stores: the next load reads a fresh zero page (zap_page_range flushes)', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, bytes('data')));
    assert.equal(text(t.load(a, 4).data), 'data');
    assert.equal(t.madvise(a, PAGE, MADV_DONTNEED), 0);
    assert.deepEqual([...t.load(a, 4).data!], [0, 0, 0, 0]);
  });

  simTest('fork after stores: the parent\'s next store breaks COW and the child keeps the old bytes', (h) => {
    const p = h.spawn();
    const a = p.mmap(0, PAGE, RW, ANON);
    ok(p.store(a, bytes('old!')));
    ok(p.store(a, bytes('old!'))); // the parent's TLB holds a writable, dirty entry
    const c = p.fork();
    assert.ok(typeof c !== 'number');
    ok(p.store(a, bytes('new!')));
    assert.equal(text(c.load(a, 4).data), 'old!');
    assert.equal(text(p.load(a, 4).data), 'new!');
    c.exit();
  });

  simTest('a store through a clean writable entry walks and sets the dirty bit, as the CPU does', (h) => {
    const t = h.spawn();
    // A read fault on shared anonymous memory maps the page writable but clean (do_read_fault()).
    const a = t.mmap(0, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS);
    ok(t.load(a));
    ok(t.load(a)); // a TLB hit on the clean entry
    assert.equal(t.pte(a)!.lo & PTE_D, 0);
    const mn = t.getrusage().ru_minflt;
    ok(t.store(a, [1]));
    assert.equal(t.getrusage().ru_minflt, mn, 'no fault: the PTE was writable');
    assert.ok(t.pte(a)!.lo & PTE_D);
  });

  simTest('an exited process\'s PGD frame reused by a new process: no stale translation survives', (h) => {
    const a1 = h.spawn();
    const a = a1.mmap(0, PAGE, RW, ANON);
    ok(a1.store(a, [9]));
    ok(a1.load(a));
    a1.exit();
    const b = h.spawn();
    b.sigaction(SIGSEGV, SKIP);
    // Whatever frame b's PGD took, a is not mapped in b.
    assert.equal(oneSignal(b.load(a)).code, SEGV_MAPERR);
  });

  simTest('loadInto() reads the same bytes as load() and reuses its result', (h) => {
    const t = h.spawn();
    t.sigaction(SIGSEGV, SKIP);
    const a = t.mmap(0, 2 * PAGE, RW, ANON);
    ok(t.store(a + PAGE - 2, bytes('abcd')));
    const buf = new Uint8Array(4);
    const r1 = t.loadInto(a + PAGE - 2, buf);
    assert.equal(r1.done, 4);
    assert.equal(text(buf), 'abcd');
    assert.equal(t.munmap(a + PAGE, PAGE), 0);
    const r2 = t.loadInto(a + PAGE - 2, buf);
    assert.equal(r2, r1);
    assert.equal(r2.done, 2);
    assert.equal(oneSignal(r2).code, SEGV_MAPERR);
    assert.throws(() => t.loadInto(a, buf, 5), RangeError);
  });
});
