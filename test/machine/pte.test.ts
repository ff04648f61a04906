// Item 2: x86-64 4-level page tables with bit-exact entries.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, PTE_A, PTE_D, PTE_G, PTE_P, PTE_PCD, PTE_PS,
  PTE_PWT, PTE_RW, PTE_US, PTE_HI_NX, ZERO_PFN, pteHi, pteLo, ptePfn, ptePkey, pteValue, vaIndices,
} from '../../src/index.js';
import { walkForDisplay } from '../../src/hw/mmu.js';
import { PTE_SPECIAL } from '../../src/hw/pte.js';
import { MiB, PAGE, bytes, makeFile, ok, simTest } from '../helpers.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const pte64 = (t: { lo: number; hi: number }): bigint => pteValue(t.lo, t.hi);
const pfnBits = (pfn: number): bigint => BigInt(pfn) << 12n;

describe('PTE bit layout (arch/x86/include/asm/pgtable_types.h)', () => {
  test('low flag bits', () => {
    // _PAGE_BIT_PRESENT 0, _RW 1, _USER 2, _PWT 3, _PCD 4, _ACCESSED 5, _DIRTY 6, _PSE 7, _GLOBAL 8,
    // _SOFTW1 9 (_PAGE_BIT_SPECIAL).
    assert.deepEqual([PTE_P, PTE_RW, PTE_US, PTE_PWT, PTE_PCD, PTE_A, PTE_D, PTE_PS, PTE_G, PTE_SPECIAL],
      [0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x40, 0x80, 0x100, 0x200]);
  });

  test('NX is bit 63 and the protection key is bits 59..62 (_PAGE_BIT_PKEY_BIT0 = 59)', () => {
    assert.equal(pteValue(0, pteHi(0, 0, true)), 1n << 63n);
    for (let k = 0; k < 16; k++) {
      const hi = pteHi(0, k, false);
      assert.equal(pteValue(0, hi), BigInt(k) << 59n);
      assert.equal(ptePkey(hi), k);
    }
  });

  test('the PFN occupies bits 12..51 and round-trips, including above 4 GiB of physical memory', () => {
    for (const pfn of [0, 1, 0xfffff, 0x100000, 0x123456789, 2 ** 40 - 1]) {
      const lo = pteLo(pfn, PTE_P | PTE_RW);
      const hi = pteHi(pfn, 5, true);
      assert.equal(ptePfn(lo, hi), pfn);
      assert.equal(pteValue(lo, hi), (1n << 63n) | (5n << 59n) | pfnBits(pfn) | 3n);
    }
  });

  test('4-level indices of a 48-bit virtual address: 9 bits each from bit 39, 30, 21, 12', () => {
    for (const va of [0, 0x1000, 0x7ffffffff000, 0x555555554000, 0x7ffff7fff000, 0x40201003000]) {
      const v = BigInt(va);
      const want = [(v >> 39n) & 511n, (v >> 30n) & 511n, (v >> 21n) & 511n, (v >> 12n) & 511n].map(Number);
      assert.deepEqual(vaIndices(va), want, `va 0x${va.toString(16)}`);
    }
  });
});

describe('PTE values written by the fault paths', () => {
  simTest('anon write fault: P|RW|US|A|D|NX = 0x8000000000000067 | pfn << 12', (h) => {
    // mm/memory.c: do_anonymous_page(): mk_pte(page, vma->vm_page_prot) with PAGE_COPY
    // (P|US|A|NX, arch/x86/include/asm/pgtable_types.h), then pte_mkwrite(pte_mkdirty()).
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, [1]));
    const p = t.pte(a)!;
    assert.equal(pte64(p), 0x8000000000000067n | pfnBits(p.pfn));
  });

  simTest('anon read fault maps the zero page: P|US|A|NX|SPECIAL = 0x8000000000000225 | zero_pfn << 12', (h) => {
    // do_anonymous_page(): pte_mkspecial(pfn_pte(my_zero_pfn(addr), vma->vm_page_prot)), PAGE_COPY.
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.load(a));
    const p = t.pte(a)!;
    assert.equal(p.pfn, ZERO_PFN);
    assert.equal(pte64(p), 0x8000000000000225n | pfnBits(ZERO_PFN));
  });

  simTest('a pkey-tagged VMA puts its key in bits 59..62: pkey 1 anon RW = 0x8800000000000067 | pfn', (h) => {
    // arch/x86/include/asm/pgtable_types.h: _PAGE_PKEY_BIT0 = bit 59; vm_get_page_prot() ORs the
    // VMA's key in (arch_vm_get_page_prot()).
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    const k = t.pkeyAlloc(0, 0);
    assert.equal(k, 1);
    assert.equal(t.pkeyMprotect(a, PAGE, RW, k), 0);
    ok(t.store(a, [1]));
    const p = t.pte(a)!;
    assert.equal(pte64(p), 0x8800000000000067n | pfnBits(p.pfn));
    assert.equal(p.pkey, 1);
  });

  simTest('read-only private file page: PAGE_READONLY = P|US|A|NX = 0x8000000000000025 | pfn', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/ro', bytes('hello'));
    const a = t.mmap(0, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    assert.ok(a > 0);
    ok(t.load(a));
    const p = t.pte(a)!;
    assert.equal(pte64(p), 0x8000000000000025n | pfnBits(p.pfn));
    assert.equal(t.close(fd), 0);
  });

  simTest('executable text page: PAGE_READONLY_EXEC = P|US|A, no NX', (h) => {
    const t = h.spawn();
    const text = 0x555555554000; // the default program's text (src/kernel/exec.ts)
    ok(t.exec(text + PAGE));
    const p = t.pte(text + PAGE)!;
    assert.equal(pte64(p), 0x25n | pfnBits(p.pfn));
  });

  simTest('shared anon (shmem) write: PAGE_SHARED + dirty = P|RW|US|A|D|NX', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS);
    ok(t.store(a, [1]));
    const p = t.pte(a)!;
    assert.equal(pte64(p), 0x8000000000000067n | pfnBits(p.pfn));
  });

  simTest('after mprotect(PROT_READ) the present PTE loses RW and keeps A and D', (h) => {
    // mm/mprotect.c: change_pte_range(): ptent = pte_modify(oldpte, newprot) keeps _PAGE_CHG_MASK
    // (PFN, A, D, SPECIAL, ...) and takes the rest from PAGE_READONLY.
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, [1]));
    assert.equal(t.mprotect(a, PAGE, PROT_READ), 0);
    const p = t.pte(a)!;
    assert.equal(pte64(p), 0x8000000000000065n | pfnBits(p.pfn));
  });

  simTest('mprotect(PROT_NONE) turns a present PTE into PROTNONE: P clear, bit 8 set', (h) => {
    // pgtable_types.h: PAGE_NONE = _PAGE_PROTNONE | _PAGE_ACCESSED (+ NX from _PAGE_CHG_MASK rules).
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, [1]));
    assert.equal(t.mprotect(a, PAGE, 0), 0);
    const p = t.pte(a)!;
    assert.equal(p.lo & PTE_P, 0);
    assert.equal(p.lo & PTE_G, PTE_G);
    assert.equal(p.lo & (PTE_A | PTE_D), PTE_A | PTE_D);
  });

  simTest('upper-level entries are _PAGE_TABLE = P|RW|US|A|D = 0x67 | table pfn << 12', (h) => {
    // arch/x86/include/asm/pgalloc.h: pmd_populate()/pud_populate()/p4d_populate() use _PAGE_TABLE.
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, [1]));
    const walk = walkForDisplay(h.m.mem, t.task.mm!.pgd, a);
    assert.equal(walk.length, 4);
    for (const l of walk.slice(0, 3)) {
      const next = ptePfn(l.lo, l.hi);
      assert.equal(pteValue(l.lo, l.hi), 0x67n | pfnBits(next), `${l.level} entry`);
      assert.equal(l.hi & PTE_HI_NX, 0);
    }
  });

  simTest('page-table pages are freed when a whole 2 MiB-aligned region is unmapped (free_pgd_range)', (h) => {
    // mm/memory.c: free_pgtables() -> free_pgd_range(): a PTE table whose 2 MiB span lies wholly
    // between the neighbouring VMAs is freed; so is a PMD table whose 1 GiB span does.
    const t = h.spawn();
    const base = 0x100000000000; // 16 TiB: far from text, stack and the mmap area, 512 GiB aligned
    const len = 4 * MiB;
    assert.equal(t.mmap(base, len, RW, ANON | 0x10 /* MAP_FIXED */), base);
    const before = h.sim.usedFrames();
    ok(t.store(base, [1]));
    ok(t.store(base + 2 * MiB, [1]));
    // 2 data pages + PUD + PMD + 2 PTE tables (the PGD exists already).
    assert.equal(h.sim.usedFrames(), before + 6);
    assert.equal(t.munmap(base, len), 0);
    assert.equal(h.sim.usedFrames(), before, 'every table of the region is gone');
    assert.equal(walkForDisplay(h.m.mem, t.task.mm!.pgd, base)[0]!.lo & PTE_P, 0, 'PGD entry cleared');
  });

  simTest('page tables survive a partial munmap inside the same 2 MiB region', (h) => {
    const t = h.spawn();
    const base = 0x100000000000;
    assert.equal(t.mmap(base, 2 * MiB, RW, ANON | 0x10), base);
    ok(t.store(base, [1]));
    ok(t.store(base + PAGE, [2]));
    const tables = h.sim.usedFrames() - 2;
    assert.equal(t.munmap(base, PAGE), 0);
    assert.equal(h.sim.usedFrames(), tables + 1, 'only the data page went; the PTE table still maps the second page');
    assert.deepEqual([...t.load(base + PAGE).data!], [2]);
  });
});
