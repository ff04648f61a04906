// Long-term pins and partial pins (catalogue GUP-01..03, GUP-07, PK-RMT-10, COW-13), checked
// against the catalogue and the real-kernel results.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { EFAULT, O_RDWR, type Thread } from '../../src/index.js';
import { FOLL_LONGTERM, FOLL_WRITE, pinUserPages, pinUserPagesFast, unpinUserPages } from '../../src/mm/gup.js';
import { PAGE, bytes, makeFile, ok, simTest, text, type Harness } from '../helpers.js';

const R = 1, RW = 3, ANON = 0x22, SHARED = 0x01, PRIVATE = 0x02;

function pinFast(h: Harness, t: Thread, addr: number, n: number, flags: number): { r: number; pages: number[] } {
  const pages: number[] = [];
  const r = h.m.runAs(t.task, () => pinUserPagesFast(h.m, addr, n, flags, pages));
  return { r, pages };
}

describe('GUP-01..03: long-term pins of file mappings', () => {
  simTest('GUP-01: R/W long-term pin of a MAP_SHARED file on a disk file system is EFAULT (6.5+); shmem is fine', (h) => {
    const t = h.spawn();
    makeFile(t, '/disk', new Uint8Array(PAGE));
    const f = t.mmap(0, PAGE, RW, SHARED, t.open('/disk', O_RDWR), 0);
    ok(t.store(f, [1], PAGE));
    assert.equal(pinFast(h, t, f, 1, FOLL_WRITE | FOLL_LONGTERM).r, -EFAULT);
    const shm = t.mmap(0, PAGE, RW, SHARED | 0x20, -1, 0); // MAP_SHARED|MAP_ANONYMOUS: shmem
    ok(t.store(shm, [1], PAGE));
    const p = pinFast(h, t, shm, 1, FOLL_WRITE | FOLL_LONGTERM);
    assert.equal(p.r, 1);
    unpinUserPages(h.m, p.pages);
  });

  simTest('GUP-01 on 6.1: earlier kernels pinned anyway', (h) => {
    const t = h.spawn();
    makeFile(t, '/disk', new Uint8Array(PAGE));
    const f = t.mmap(0, PAGE, RW, SHARED, t.open('/disk', O_RDWR), 0);
    ok(t.store(f, [1], PAGE));
    const p = pinFast(h, t, f, 1, FOLL_WRITE | FOLL_LONGTERM);
    assert.equal(p.r, 1);
    unpinUserPages(h.m, p.pages);
  }, { profile: 'linux-6.1' });

  simTest('GUP-02/03: R/O long-term pins of shared file mappings and any pin of private file mappings succeed', (h) => {
    const t = h.spawn();
    makeFile(t, '/disk', new Uint8Array(2 * PAGE));
    const fd = t.open('/disk', O_RDWR);
    const s = t.mmap(0, PAGE, R, SHARED, fd, 0);
    ok(t.load(s, 1));
    const a = pinFast(h, t, s, 1, FOLL_LONGTERM);
    assert.equal(a.r, 1);
    const pv = t.mmap(0, PAGE, RW, PRIVATE, fd, PAGE);
    ok(t.load(pv, 1));
    const b = pinFast(h, t, pv, 1, FOLL_WRITE | FOLL_LONGTERM);
    const c = pinFast(h, t, pv, 1, FOLL_LONGTERM);
    assert.deepEqual([b.r, c.r], [1, 1]);
    assert.ok(h.m.pages.isAnon(b.pages[0]!), 'the write pin went to an anon COW copy');
    for (const p of [a, b, c]) unpinUserPages(h.m, p.pages);
  });
});

describe('GUP-07: partial pinning', () => {
  simTest('8 pages, the last 3 PROT_NONE: pin_user_pages pins 5', (h) => {
    const t = h.spawn();
    const p = t.mmap(0, 8 * PAGE, RW, ANON);
    ok(t.store(p, [1], 8 * PAGE));
    assert.equal(t.mprotect(p + 5 * PAGE, 3 * PAGE, 0), 0);
    const pages: number[] = [];
    const mm = t.task.mm!;
    mm.lock.downRead(t.pid);
    const r = h.m.runAs(t.task, () => pinUserPages(h.m, p, 8, 0, pages));
    mm.lock.upRead(t.pid);
    assert.equal(r, 5);
    unpinUserPages(h.m, pages);
  });
});

describe('PK-RMT-10: io_uring fixed buffers bypass later PKRU changes', () => {
  simTest('WRITE_FIXED and READ_FIXED complete with res 4096 under AD', (h) => {
    const t = h.spawn();
    const k = t.pkeyAlloc(0, 0);
    const p = t.mmap(0, PAGE, RW, ANON);
    assert.equal(t.pkeyMprotect(p, PAGE, RW, k), 0);
    ok(t.store(p, bytes('from-the-buffer')));
    assert.equal(t.ioUringRegisterBuffers([{ base: p, len: PAGE }]), 0);
    const fd = makeFile(t, '/out', new Uint8Array(0));
    makeFile(t, '/in', bytes('file-contents!!'));
    const fin = t.open('/in', O_RDWR);
    t.wrpkru(t.rdpkru() | (1 << (2 * k))); // deny_access(k)
    assert.equal(t.ioUringFixed(0, p, fd, 0, PAGE, true), PAGE);
    assert.equal(t.ioUringFixed(0, p, fin, 0, 15, false), 15);
    const buf = t.mmap(0, PAGE, RW, ANON);
    assert.equal(t.pread(fd, buf, 15, 0), 15);
    assert.equal(text(t.load(buf, 15).data), 'from-the-buffer');
    t.wrpkru(0);
    assert.equal(text(t.load(p, 15).data), 'file-contents!!');
  });
});

describe('COW-13: non-anon private mappings COW', () => {
  simTest('the zero page and a shmem view: a private write leaves the other view unchanged', (h) => {
    const t = h.spawn();
    const mem = t.mmap(0, PAGE, RW, ANON);
    const smem = t.mmap(0, PAGE, R, ANON);
    ok(t.load(mem, 1));
    ok(t.load(smem, 1));
    ok(t.store(mem, [0xff], PAGE));
    assert.ok(t.load(smem, PAGE).data!.every((v) => v === 0));
    makeFile(t, '/tmpfile', new Uint8Array(PAGE).fill(7));
    const fd = t.open('/tmpfile', O_RDWR);
    const pm = t.mmap(0, PAGE, RW, PRIVATE, fd, 0);
    const sm = t.mmap(0, PAGE, R, SHARED, fd, 0);
    ok(t.load(pm, 1));
    ok(t.load(sm, 1));
    ok(t.store(pm, [0xff], PAGE));
    assert.ok(t.load(sm, PAGE).data!.every((v) => v === 7), 'other mapping not modified');
  });
});
