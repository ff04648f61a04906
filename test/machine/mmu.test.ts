// Item 3: the MMU. Hand-built page tables, one access at a time; every expected error code is the
// x86 #PF error code of Intel SDM vol. 3 §4.7 with the bit names of arch/x86/include/asm/trap_pf.h
// (PROT 0x1, WRITE 0x2, USER 0x4, RSVD 0x8, INSTR 0x10, PK 0x20), as SEMANTICS.md HW-1/HW-3 states.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Machine } from '../../src/kernel/machine.js';
import { ACC_FETCH, ACC_READ, ACC_WRITE, mmuAccess, pfErrorCode, type AccessKind } from '../../src/hw/mmu.js';
import { PTE_A, PTE_D, PTE_P, PTE_PS, PTE_RW, PTE_US, pteHi, pteLo, vaIndices } from '../../src/hw/pte.js';
import { PG_table } from '../../src/mm/page.js';
import { MiB } from '../helpers.js';

const UPPER = PTE_P | PTE_RW | PTE_US; // a user page-table entry before the CPU sets A
const INIT_PKRU = 0x55555554; // arch/x86/mm/pkeys.c: init_pkru_value (OBJ-14)
const AD = (k: number): number => 1 << (2 * k);
const WD = (k: number): number => 2 << (2 * k);

interface Leaf {
  flags: number; // low 12 bits
  pkey?: number;
  nx?: boolean;
  /** flags of the PGD/PUD/PMD entries on the way (default P|RW|US) */
  upper?: [number, number, number];
}

/** A machine with one hand-built address space; map() writes entries directly, as the kernel would. */
class Rig {
  readonly m = new Machine({ ramBytes: 16 * MiB });
  readonly cr3 = this.table();
  pkru = INIT_PKRU;
  pke = true;
  wp = true;

  table(): number {
    const f = this.m.pages.alloc(true);
    this.m.pages.setFlag(f, PG_table);
    return f;
  }

  /** Map va to a fresh data frame; returns its pfn. */
  map(va: number, leaf: Leaf): number {
    const idx = vaIndices(va);
    const up = leaf.upper ?? [UPPER, UPPER, UPPER];
    let t = this.cr3;
    for (let l = 0; l < 3; l++) {
      const mem = this.m.mem;
      let lo = mem.entryLo(t, idx[l]!);
      if (!(lo & PTE_P)) {
        const n = this.table();
        lo = pteLo(n, up[l]!);
        mem.setEntry(t, idx[l]!, lo, pteHi(n, 0, false));
      }
      t = lo >>> 12;
    }
    const pfn = this.m.pages.alloc(true);
    this.m.mem.setEntry(t, idx[3]!, pteLo(pfn, leaf.flags), pteHi(pfn, leaf.pkey ?? 0, leaf.nx ?? false));
    return pfn;
  }

  /** The leaf entry's low half. */
  leafLo(va: number): number {
    const idx = vaIndices(va);
    let t = this.cr3;
    for (let l = 0; l < 3; l++) t = this.m.mem.entryLo(t, idx[l]!) >>> 12;
    return this.m.mem.entryLo(t, idx[3]!);
  }

  access(va: number, kind: AccessKind, user = true): number {
    return mmuAccess(this.m.mem, { cr3: this.cr3, pkru: this.pkru, pke: this.pke, wp: this.wp }, va, kind, user);
  }

  /** The #PF error code, or null when the access succeeded. */
  err(va: number, kind: AccessKind, user = true): number | null {
    const r = this.access(va, kind, user);
    return r < 0 ? pfErrorCode(r) : null;
  }
}

const VA = 0x7f0000001000;
const USER_RW = PTE_P | PTE_RW | PTE_US;
const USER_RO = PTE_P | PTE_US;

describe('MMU: not-present entries', () => {
  test('user read/write/fetch of an unmapped address: 0x4 / 0x6 / 0x14 (P clear, never PK)', () => {
    const r = new Rig();
    assert.equal(r.err(VA, ACC_READ), 0x4);
    assert.equal(r.err(VA, ACC_WRITE), 0x6);
    assert.equal(r.err(VA, ACC_FETCH), 0x14);
  });

  test('kernel-mode read/write of an unmapped user address: 0x0 / 0x2', () => {
    const r = new Rig();
    assert.equal(r.err(VA, ACC_READ, false), 0x0);
    assert.equal(r.err(VA, ACC_WRITE, false), 0x2);
  });

  test('a not-present entry whose key denies access still reports no PK bit (HW-3)', () => {
    const r = new Rig();
    r.map(VA, { flags: PTE_US | PTE_RW, pkey: 1 }); // P = 0
    r.pkru = INIT_PKRU; // AD(1) set
    assert.equal(r.err(VA, ACC_READ), 0x4);
    assert.equal(r.err(VA, ACC_WRITE), 0x6);
  });

  test('a not-present upper-level entry faults like a not-present leaf', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RW, upper: [UPPER, UPPER & ~PTE_P, UPPER] });
    assert.equal(r.err(VA, ACC_READ), 0x4);
  });
});

describe('MMU: protection (present entries)', () => {
  test('user write to a read-only present page: 0x7 (P|W|U)', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RO });
    assert.equal(r.err(VA, ACC_WRITE), 0x7);
    assert.equal(r.err(VA, ACC_READ), null);
  });

  test('user read of a supervisor page (US clear): 0x5; kernel read succeeds', () => {
    const r = new Rig();
    r.map(VA, { flags: PTE_P | PTE_RW });
    assert.equal(r.err(VA, ACC_READ), 0x5);
    assert.equal(r.err(VA, ACC_WRITE), 0x7);
    assert.equal(r.err(VA, ACC_READ, false), null);
  });

  test('US or RW clear at an upper level restricts the whole walk', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RW, upper: [UPPER, UPPER & ~PTE_US, UPPER] });
    assert.equal(r.err(VA, ACC_READ), 0x5);
    const r2 = new Rig();
    r2.map(VA, { flags: USER_RW, upper: [UPPER, UPPER, UPPER & ~PTE_RW] });
    assert.equal(r2.err(VA, ACC_WRITE), 0x7);
    assert.equal(r2.err(VA, ACC_READ), null);
  });

  test('fetch from an NX page: 0x15 (P|U|I); without NX the fetch succeeds', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RO, nx: true });
    assert.equal(r.err(VA, ACC_FETCH), 0x15);
    r.map(VA + 0x1000, { flags: USER_RO });
    assert.equal(r.err(VA + 0x1000, ACC_FETCH), null);
  });

  test('kernel write to a read-only user page: 0x3 with CR0.WP set, allowed with WP clear', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RO });
    assert.equal(r.err(VA, ACC_WRITE, false), 0x3);
    r.wp = false;
    assert.equal(r.err(VA, ACC_WRITE, false), null);
  });
});

describe('MMU: protection keys (PKRU)', () => {
  test('AD: user read 0x25, user write 0x27 (PK-ACC-03 pf_err=0x25, PK-ACC-04 present 0x27)', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RW, pkey: 1 });
    r.pkru = INIT_PKRU; // key 1: AD
    assert.equal(r.err(VA, ACC_READ), 0x25);
    assert.equal(r.err(VA, ACC_WRITE), 0x27);
  });

  test('WD: user read allowed, user write 0x27', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RW, pkey: 2 });
    r.pkru = WD(2);
    assert.equal(r.err(VA, ACC_READ), null);
    assert.equal(r.err(VA, ACC_WRITE), 0x27);
  });

  test('keys never apply to instruction fetches', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RO, pkey: 3 });
    r.pkru = AD(3) | WD(3);
    assert.equal(r.err(VA, ACC_FETCH), null);
    assert.equal(r.err(VA, ACC_READ), 0x25);
  });

  test('kernel-mode accesses to user pages obey PKRU: read under AD 0x21, write under WD 0x23', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RW, pkey: 1 });
    r.pkru = AD(1);
    assert.equal(r.err(VA, ACC_READ, false), 0x21);
    r.pkru = WD(1);
    assert.equal(r.err(VA, ACC_READ, false), null);
    assert.equal(r.err(VA, ACC_WRITE, false), 0x23);
  });

  test('WD binds kernel-mode writes only when CR0.WP is set', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RW, pkey: 1 });
    r.pkru = WD(1);
    r.wp = false;
    assert.equal(r.err(VA, ACC_WRITE, false), null);
    assert.equal(r.err(VA, ACC_WRITE, true), 0x27, 'user writes are bound regardless of WP');
  });

  test('keys apply only to user pages: a supervisor page with a denied key is readable by the kernel', () => {
    const r = new Rig();
    r.map(VA, { flags: PTE_P | PTE_RW, pkey: 1 });
    r.pkru = AD(1) | WD(1);
    assert.equal(r.err(VA, ACC_READ, false), null);
    assert.equal(r.err(VA, ACC_WRITE, false), null);
  });

  test('a protection fault and a key fault together report P|W|U|PK', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RO, pkey: 1 });
    r.pkru = WD(1);
    assert.equal(r.err(VA, ACC_WRITE), 0x27);
  });

  test('without CR4.PKE keys are ignored', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RW, pkey: 1 });
    r.pkru = AD(1);
    r.pke = false;
    assert.equal(r.err(VA, ACC_READ), null);
    assert.equal(r.err(VA, ACC_WRITE), null);
  });

  test('key 0 is governed by PKRU bits 0..1 like any other key', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RW, pkey: 0 });
    r.pkru = AD(0);
    assert.equal(r.err(VA, ACC_READ), 0x25);
    r.pkru = INIT_PKRU;
    assert.equal(r.err(VA, ACC_READ), null);
  });
});

describe('MMU: translation and A/D bits', () => {
  test('a successful access returns the leaf pfn and sets A on every level; a write also sets D', () => {
    const r = new Rig();
    const pfn = r.map(VA, { flags: USER_RW });
    assert.equal(r.access(VA + 123, ACC_READ), pfn);
    assert.equal(r.leafLo(VA) & (PTE_A | PTE_D), PTE_A);
    assert.equal(r.access(VA, ACC_WRITE), pfn);
    assert.equal(r.leafLo(VA) & (PTE_A | PTE_D), PTE_A | PTE_D);
    const idx = vaIndices(VA);
    let t = r.cr3;
    for (let l = 0; l < 3; l++) {
      const lo = r.m.mem.entryLo(t, idx[l]!);
      assert.equal(lo & PTE_A, PTE_A, `A set at level ${l}`);
      assert.equal(lo & PTE_D, 0, `D is a leaf-only bit (level ${l})`);
      t = lo >>> 12;
    }
  });

  test('a faulting access sets neither A nor D on the leaf', () => {
    const r = new Rig();
    r.map(VA, { flags: USER_RO });
    assert.equal(r.err(VA, ACC_WRITE), 0x7);
    assert.equal(r.leafLo(VA) & (PTE_A | PTE_D), 0);
  });

  test('a 2 MiB leaf (PS at the PMD) translates to base + 4 KiB index', () => {
    const r = new Rig();
    const va = 0x7f0000200000;
    const idx = vaIndices(va);
    let t = r.cr3;
    for (let l = 0; l < 2; l++) {
      const n = r.table();
      r.m.mem.setEntry(t, idx[l]!, pteLo(n, UPPER), 0);
      t = n;
    }
    const base = 0x400; // a 2 MiB-aligned frame number (512-frame aligned)
    r.m.mem.setEntry(t, idx[2]!, pteLo(base, USER_RW | PTE_PS), 0);
    assert.equal(r.access(va + 5 * 4096 + 7, ACC_READ), base + 5);
    assert.equal(r.access(va + 511 * 4096, ACC_WRITE), base + 511);
  });
});
