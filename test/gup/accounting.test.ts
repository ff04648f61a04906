// Who is charged for faults that GUP takes, per kernel version (FLT-05, FLT-06, ACC-1, ACC-2),
// and the COW/pinning rules GUP relies on (COW family). Expected values: catalogue + real-kernel results.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { O_RDONLY, type Thread } from '../../src/index.js';
import { PAGE, bytes, ok, simTest, text, type Harness } from '../helpers.js';
import { getUserPagesRemote, pinUserPagesFast, putUserPage, unpinUserPages, FOLL_LONGTERM, FOLL_WRITE } from '../../src/mm/gup.js';

const RW = 3, ANON = 0x22;
const minflt = (t: Thread): number => t.getrusage().ru_minflt;

function pair(h: Harness): { a: Thread; b: Thread; page: number } {
  const a = h.spawn();
  const b = h.spawn();
  const page = b.mmap(0, 4 * PAGE, RW, ANON);
  return { a, b, page };
}

describe('FLT-05: GUP faults are charged per kernel version', () => {
  for (const profile of ['linux-6.12', 'linux-6.1'] as const) {
    simTest(`${profile}: process_vm_readv, PEEKDATA, /proc/B/mem charge the caller A, never B`, (h) => {
      const { a, b, page } = pair(h);
      const buf = a.mmap(0, PAGE, RW, ANON);
      ok(a.store(buf, [0], PAGE)); // the local buffer is resident: only the remote side faults
      const [a0, b0] = [minflt(a), minflt(b)];
      assert.equal(a.process_vm_readv(b.pid, [{ base: buf, len: 8 }], [{ base: page, len: 8 }]), 8);
      assert.equal(a.ptraceAttach(b.pid), 0);
      assert.equal(typeof a.ptracePeek(b.pid, page + PAGE), 'bigint');
      const fd = a.open(`/proc/${b.pid}/mem`, O_RDONLY);
      assert.equal(a.pread(fd, buf, 8, page + 2 * PAGE), 8);
      assert.deepEqual([minflt(a) - a0, minflt(b) - b0], [3, 0]);
    }, { profile });
  }

  simTest('linux-4.6: readv charges the target B, PEEKDATA the tracee B, /proc/B/mem nobody', (h) => {
    const { a, b, page } = pair(h);
    const buf = a.mmap(0, PAGE, RW, ANON);
    ok(a.store(buf, [0], PAGE));
    let [a0, b0] = [minflt(a), minflt(b)];
    assert.equal(a.process_vm_readv(b.pid, [{ base: buf, len: 8 }], [{ base: page, len: 8 }]), 8);
    assert.deepEqual([minflt(a) - a0, minflt(b) - b0], [0, 1], 'process_vm_readv');
    const fd = a.open(`/proc/${b.pid}/mem`, O_RDONLY);
    [a0, b0] = [minflt(a), minflt(b)];
    assert.equal(a.pread(fd, buf, 8, page + 2 * PAGE), 8);
    assert.deepEqual([minflt(a) - a0, minflt(b) - b0], [0, 0], '/proc/PID/mem (access_remote_vm passes tsk NULL)');
  }, { profile: 'linux-4.6' });
});

describe('FLT-06: populate requests charge the caller, one fault per page', () => {
  simTest('MAP_POPULATE and MADV_POPULATE_WRITE: min_flt +16; later stores free', (h) => {
    const t = h.spawn();
    const f0 = minflt(t);
    const p = t.mmap(0, 16 * PAGE, RW, ANON | 0x8000);
    assert.equal(minflt(t) - f0, 16);
    const q = t.mmap(0, 16 * PAGE, RW, ANON);
    const f1 = minflt(t);
    assert.equal(t.madvise(q, 16 * PAGE, 23), 0);
    assert.equal(minflt(t) - f1, 16);
    const f2 = minflt(t);
    for (let i = 0; i < 16; i++) {
      ok(t.store(p + i * PAGE, [1]));
      ok(t.store(q + i * PAGE, [1]));
    }
    assert.equal(minflt(t) - f2, 0);
  });
});

describe('COW: anonymous COW and GUP pins', () => {
  simTest('COW-01/02: no leak from parent into child, with and without the mprotect dance', (h) => {
    for (const dance of [false, true]) {
      const t = h.spawn();
      const p = t.mmap(0, PAGE, RW, ANON);
      ok(t.store(p, [0x5a], PAGE));
      const c = t.fork() as Thread;
      if (dance) {
        assert.equal(t.mprotect(p, PAGE, 1), 0);
        assert.equal(t.mprotect(p, PAGE, RW), 0);
      }
      ok(t.store(p, [0xff], PAGE));
      assert.ok(c.load(p, PAGE).data!.every((v) => v === 0x5a));
      c.exit();
      t.exit();
    }
  });

  simTest('COW-03: vmsplice in the child, child unmaps, parent writes: the pipe keeps the old data', (h) => {
    const t = h.spawn();
    const p = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(p, [0x11], PAGE));
    const c = t.fork() as Thread;
    const [r, w] = c.pipe() as [number, number];
    assert.equal(c.vmsplice(w, [{ base: p, len: PAGE }]), PAGE);
    assert.equal(c.munmap(p, PAGE), 0);
    ok(t.store(p, [0xff], PAGE));
    const buf = c.mmap(0, PAGE, RW, ANON);
    assert.equal(c.read(r, buf, PAGE), PAGE);
    assert.ok(c.load(buf, PAGE).data!.every((v) => v === 0x11), 'no leak (CVE-2020-29374 fixed in 5.8)');
  });

  simTest('COW-08: a page pinned before fork is copied for the child, so the pin stays coherent', (h) => {
    const t = h.spawn();
    const p = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(p, [0x22], PAGE));
    const pages: number[] = [];
    assert.equal(h.m.runAs(t.task, () => pinUserPagesFast(h.m, p, 1, FOLL_WRITE | FOLL_LONGTERM, pages)), 1);
    const c = t.fork() as Thread;
    assert.notEqual(c.pte(p)!.pfn, pages[0], 'the child got its own copy at fork');
    ok(t.store(p, [0xff], PAGE));
    assert.equal(t.pte(p)!.pfn, pages[0], 'the parent still maps the pinned page');
    assert.equal(h.m.mem.frame(pages[0]!)[0], 0xff, 'writes through the mapping reach the pinned page');
    assert.equal(c.load(p, 1).data![0], 0x22);
    unpinUserPages(h.m, pages);
  });

  simTest('COW-09/10: a read-only pin of a COW-shared page unshares it first', (h) => {
    const t = h.spawn();
    const p = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(p, [0x33], PAGE));
    const c = t.fork() as Thread;
    const pages: number[] = [];
    assert.equal(h.m.runAs(t.task, () => pinUserPagesFast(h.m, p, 1, FOLL_LONGTERM, pages)), 1);
    ok(t.store(p, [0xff], PAGE));
    assert.equal(h.m.mem.frame(pages[0]!)[0], 0xff, 'the R/O pin sees the parent\'s later write');
    assert.equal(c.load(p, 1).data![0], 0x33);
    unpinUserPages(h.m, pages);
  });

  simTest('COW-14: a R/O long-term pin of the zero page is replaced by a private copy', (h) => {
    const t = h.spawn();
    const p = t.mmap(0, PAGE, RW, ANON);
    ok(t.load(p, 1));
    assert.equal(t.pte(p)!.pfn, 0);
    const pages: number[] = [];
    assert.equal(h.m.runAs(t.task, () => pinUserPagesFast(h.m, p, 1, FOLL_LONGTERM, pages)), 1);
    assert.notEqual(pages[0], 0);
    ok(t.store(p, [0xff], PAGE));
    assert.equal(h.m.mem.frame(pages[0]!)[0], 0xff);
    unpinUserPages(h.m, pages);
  });
});

describe('GUP core: argument checks and references', () => {
  simTest('GUP-12: bad arguments give -EINVAL (get) and a WARN in the log; a remote GUP leaves no pin', (h) => {
    const t = h.spawn();
    const p = t.mmap(0, PAGE, RW, ANON);
    const mm = t.task.mm!;
    // FOLL_LONGTERM without FOLL_PIN
    mm.lock.downRead(t.pid);
    const r = h.m.runAs(t.task, () => getUserPagesRemote(h.m, mm, p, 1, FOLL_LONGTERM, [], null));
    mm.lock.upRead(t.pid);
    assert.equal(r, -22);
    assert.ok(h.m.log.some((e) => e.msg.includes('FOLL_LONGTERM without FOLL_PIN')));
  });

  simTest('GUP-20: a caller-locked GUP without the lock is reported as lockdep would', (h) => {
    const t = h.spawn();
    const p = t.mmap(0, PAGE, RW, ANON);
    const pages: number[] = [];
    const r = h.m.runAs(t.task, () => getUserPagesRemote(h.m, t.task.mm!, p, 1, 0, pages, null));
    assert.equal(r, 1);
    assert.ok(h.m.log.some((e) => e.msg.includes('not held')));
    h.m.runAs(t.task, () => pages.forEach((pg) => putUserPage(h.m, pg)));
    void text; void bytes;
  });
});
