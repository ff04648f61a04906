// Remote (foreign) accesses ignore PKRU; local ones obey it. Expected outcomes: catalogue families
// PK-RMT, PVM, PMEM, PTRACE and GUP-08/09, as confirmed on real 6.1 and 6.12 kernels
// (shared/conformance/real-kernel/README.md).
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { EFAULT, EINVAL, EIO, EPERM, ESRCH, O_RDONLY, O_RDWR, SEGV_ACCERR, SEGV_PKUERR, SIGSEGV, type Thread } from '../../src/index.js';
import { PAGE, SKIP, bytes, makeFile, ok, oneSignal, simTest, text, type Harness } from '../helpers.js';

const R = 1, W = 2, X = 4, RW = 3, ANON = 0x22, SHARED = 0x01, PRIVATE = 0x02;
const deny = (t: Thread, k: number, bits: number): void => t.wrpkru(t.rdpkru() | (bits << (2 * k)));
const AD = 1, WD = 2;

/** S0 of protection_keys.c: a page p tagged with an allocated key k, with a SIGSEGV handler that skips. */
function s0(h: Harness): { t: Thread; p: number; k: number } {
  const t = h.spawn();
  t.sigaction(SIGSEGV, SKIP);
  const k = t.pkeyAlloc(0, 0);
  assert.equal(k, 1);
  const p = t.mmap(0, PAGE, RW, ANON);
  assert.equal(t.pkeyMprotect(p, PAGE, RW, k), 0);
  return { t, p, k };
}

describe('PK-RMT: foreign accesses ignore PKRU', () => {
  simTest('PK-RMT-01/PTRACE-01: PEEKDATA reads a keyed page the tracer cannot read', (h) => {
    const { t, p, k } = s0(h);
    ok(t.store(p, bytes('secret!!')));
    const plain = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(plain, bytes('plainxyz')));
    const c = t.fork() as Thread;
    assert.equal(t.ptraceAttach(c.pid), 0);
    deny(t, k, AD | WD);
    assert.equal(t.ptracePeek(c.pid, p), 0x2121746572636573n); // "secret!!" little-endian
    const sig = oneSignal(t.load(p, 1));
    assert.deepEqual([sig.code, sig.pkey, sig.addr], [SEGV_PKUERR, k, p]);
    assert.equal(t.ptracePeek(c.pid, plain), 0x7a79786e69616c70n);
    ok(t.load(plain, 1));
  });

  simTest('PK-RMT-02/PIT-02: process_vm_readv on self reads an access-disabled page', (h) => {
    const { t, p, k } = s0(h);
    ok(t.store(p, bytes('x'.repeat(128))));
    const buf = t.mmap(0, PAGE, RW, ANON);
    deny(t, k, AD);
    assert.equal(t.process_vm_readv(t.pid, [{ base: buf, len: 128 }], [{ base: p, len: 128 }]), 128);
    assert.equal(text(t.load(buf, 128).data), 'x'.repeat(128));
  });

  simTest('PK-RMT-03: process_vm_writev on self writes a write-disabled page', (h) => {
    const { t, p, k } = s0(h);
    const src = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(src, bytes('0123456789abcdef')));
    deny(t, k, WD);
    assert.equal(t.process_vm_writev(t.pid, [{ base: src, len: 16 }], [{ base: p, len: 16 }]), 16);
    t.wrpkru(0);
    assert.equal(text(t.load(p, 16).data), '0123456789abcdef');
  });

  simTest('PK-RMT-04: the local side of process_vm_* is uaccess under the caller\'s PKRU', (h) => {
    const { t, p, k } = s0(h);
    const plain = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(plain, [1], 64));
    deny(t, k, AD);
    assert.equal(t.process_vm_readv(t.pid, [{ base: p, len: 64 }], [{ base: plain, len: 64 }]), -EFAULT);
    assert.equal(t.process_vm_writev(t.pid, [{ base: p, len: 64 }], [{ base: plain, len: 64 }]), -EFAULT);
  });

  simTest('PK-RMT-07: POKEDATA into a keyed page the tracee denies', (h) => {
    const { t, p, k } = s0(h);
    ok(t.store(p, [0], 8));
    const c = t.fork() as Thread;
    deny(c, k, AD | WD);
    assert.equal(t.ptraceAttach(c.pid), 0);
    assert.equal(t.ptracePoke(c.pid, p, 0x1122334455667788n), 0);
    assert.equal(t.ptracePeek(c.pid, p), 0x1122334455667788n);
  });

  simTest('PK-RMT-08: a remote read populates a page a local access would refuse to', (h) => {
    const { t, p, k } = s0(h);
    const buf = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(buf, [0xee], 8));
    deny(t, k, AD);
    const denied = t.load(p, 1);
    assert.equal(oneSignal(denied).code, SEGV_PKUERR);
    assert.equal(t.pte(p), null, 'the denied local fault leaves p unmapped');
    const fd = t.open('/proc/self/mem', O_RDONLY);
    const before = t.getrusage().ru_minflt;
    assert.equal(t.pread(fd, buf, 8, p), 8);
    assert.equal(t.getrusage().ru_minflt - before, 1, 'caller charged (>= 5.9)');
    assert.deepEqual([...t.load(buf, 8).data!], [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(t.pte(p)!.pfn, 0, 'now mapped: the shared zero page');
  });

  simTest('PK-RMT-09: vmsplice captures pages; reading the pipe after AD needs no access', (h) => {
    const { t, p, k } = s0(h);
    ok(t.store(p, bytes('spliced')));
    const [r, w] = t.pipe() as [number, number];
    assert.equal(t.vmsplice(w, [{ base: p, len: PAGE }]), PAGE);
    deny(t, k, AD);
    const buf = t.mmap(0, PAGE, RW, ANON);
    assert.equal(t.read(r, buf, PAGE), PAGE);
    assert.equal(text(t.load(buf, 7).data), 'spliced');
  });

  simTest('PK-KACC-05/GUP-08(1): vmsplice of an access-disabled buffer is EFAULT, no signal', (h) => {
    const { t, p, k } = s0(h);
    ok(t.store(p, [1]));
    const [, w] = t.pipe() as [number, number];
    deny(t, k, AD);
    assert.equal(t.vmsplice(w, [{ base: p, len: PAGE }]), -EFAULT);
  });

  simTest('PK-RMT-10: io_uring fixed buffers keep working after AD', (h) => {
    const { t, p, k } = s0(h);
    assert.equal(t.ioUringRegisterBuffers([{ base: p, len: PAGE }]), 0);
    deny(t, k, AD);
    // A registered buffer is reached through its pins only: the caller's PKRU never applies again.
    const pte = t.pte(p)!;
    assert.ok(h.m.pages.refcount[pte.pfn]! >= 1024, 'the page is DMA-pinned (GUP_PIN_COUNTING_BIAS)');
    assert.equal(t.ioUringUnregisterBuffers(), 0);
    assert.ok(h.m.pages.refcount[pte.pfn]! < 1024);
  });
});

describe('GUP-08: one access-disabled page reached five ways', () => {
  simTest('vmsplice EFAULT; readv(self) and /proc/self/mem succeed; load PKUERR', (h) => {
    const { t, p, k } = s0(h);
    ok(t.store(p, bytes('abcdef')));
    const buf = t.mmap(0, PAGE, RW, ANON);
    const [, w] = t.pipe() as [number, number];
    const fd = t.open('/proc/self/mem', O_RDONLY);
    deny(t, k, AD);
    assert.equal(t.vmsplice(w, [{ base: p, len: 6 }]), -EFAULT); // (1) local GUP-fast + slow: pkey
    assert.equal(t.process_vm_readv(t.pid, [{ base: buf, len: 6 }], [{ base: p, len: 6 }]), 6); // (3) remote
    assert.equal(t.pread(fd, buf + 8, 6, p), 6); // (4) remote
    const s = oneSignal(t.load(p, 1)); // (5) the hardware check
    assert.deepEqual([s.signo, s.code, s.pkey], [SIGSEGV, SEGV_PKUERR, k]);
    assert.equal(text(t.load(buf, 6).data), 'abcdef');
    assert.equal(text(t.load(buf + 8, 6).data), 'abcdef');
  });
});

describe('PVM: process_vm_readv / process_vm_writev', () => {
  simTest('PVM-01/02: self transfer; non-zero flags are EINVAL', (h) => {
    const t = h.spawn();
    const l = t.mmap(0, PAGE, RW, ANON);
    const r = t.mmap(0, PAGE, RW, ANON);
    for (const f of [-0x7fffffff, -1, 1, 0x7fffffff]) {
      assert.equal(t.process_vm_readv(t.pid, [{ base: l, len: PAGE }], [{ base: r, len: PAGE }], f), -EINVAL);
    }
    assert.equal(t.process_vm_readv(t.pid, [{ base: l, len: PAGE }], [{ base: r, len: PAGE }]), PAGE);
    assert.equal(t.process_vm_writev(t.pid, [{ base: l, len: PAGE }], [{ base: r, len: PAGE }]), PAGE);
  });

  simTest('PVM-03/05/11: negative length, bad pid, zero length before pid lookup', (h) => {
    const t = h.spawn();
    const l = t.mmap(0, PAGE, RW, ANON);
    assert.equal(t.process_vm_readv(t.pid, [{ base: l, len: -1 }], [{ base: l, len: -1 }]), -EINVAL);
    assert.equal(t.process_vm_readv(-1, [{ base: l, len: 8 }], [{ base: l, len: 8 }]), -ESRCH);
    assert.equal(t.process_vm_readv(4194304 + 1, [{ base: l, len: 8 }], [{ base: l, len: 8 }]), -ESRCH);
    assert.equal(t.process_vm_readv(-1, [], [{ base: l, len: 8 }]), 0);
    assert.equal(t.process_vm_readv(-1, [{ base: l, len: 8 }], [{ base: l, len: 0 }]), 0);
  });

  simTest('PVM-06: a non-root child reading its root parent gets EPERM', (h) => {
    const t = h.spawn();
    const l = t.mmap(0, PAGE, RW, ANON);
    const c = t.fork() as Thread;
    c.setuid(65534);
    assert.equal(c.process_vm_readv(t.pid, [{ base: l, len: 8 }], [{ base: l, len: 8 }]), -EPERM);
  });

  simTest('PVM-07/12: no FOLL_FORCE: PROT_NONE, read-only and exec-only remotes fail; 1025 iovecs EINVAL', (h) => {
    const t = h.spawn();
    const l = t.mmap(0, PAGE, RW, ANON);
    const n = t.mmap(0, PAGE, 0, ANON);
    assert.equal(t.process_vm_readv(t.pid, [{ base: n, len: 8 }], [{ base: l, len: 8 }]), -EFAULT);
    assert.equal(t.process_vm_readv(t.pid, [{ base: l, len: 8 }], [{ base: n, len: 8 }]), -EFAULT);
    const ro = t.mmap(0, PAGE, R, ANON);
    const xo = t.mmap(0, PAGE, X, ANON);
    assert.equal(t.process_vm_writev(t.pid, [{ base: l, len: 8 }], [{ base: ro, len: 8 }]), -EFAULT);
    assert.equal(t.process_vm_readv(t.pid, [{ base: l, len: 8 }], [{ base: xo, len: 8 }]), -EFAULT);
    const many = Array.from({ length: 1025 }, () => ({ base: l, len: 1 }));
    assert.equal(t.process_vm_readv(t.pid, many, [{ base: l, len: 8 }]), -EINVAL);
    assert.equal(t.process_vm_readv(t.pid, [{ base: l, len: 8 }], many), -EINVAL);
    assert.equal(t.process_vm_readv(t.pid, many.slice(1), [{ base: l, len: 8 }]), 8);
  });

  simTest('PVM-08: cross-process read and 100000-byte write with exact contents', (h) => {
    const a = h.spawn();
    const b = h.spawn();
    const abuf = a.mmap(0, 25 * PAGE, RW, ANON);
    ok(a.store(abuf, bytes('the quick brown fox jumps over!!')));
    const bbuf = b.mmap(0, 26 * PAGE, RW, ANON);
    assert.equal(b.process_vm_readv(a.pid, [{ base: bbuf, len: 32 }], [{ base: abuf, len: 32 }]), 32);
    assert.equal(text(b.load(bbuf, 32).data), 'the quick brown fox jumps over!!');
    const pattern = Uint8Array.from({ length: 256 }, (_, i) => i);
    ok(b.store(bbuf + 100, pattern, 100000));
    assert.equal(b.process_vm_writev(a.pid, [{ base: bbuf + 100, len: 100000 }], [{ base: abuf, len: 100000 }]), 100000);
    const got = a.load(abuf, 100000).data!;
    assert.ok(got.every((v, i) => v === i % 256));
  });

  simTest('PVM-10: [mapped][unmapped] in one iovec transfers the first page', (h) => {
    const t = h.spawn();
    const r = t.mmap(0, 2 * PAGE, RW, ANON);
    assert.equal(t.munmap(r + PAGE, PAGE), 0);
    const l = t.mmap(0, 2 * PAGE, RW, ANON);
    assert.equal(t.process_vm_readv(t.pid, [{ base: l, len: 2 * PAGE }], [{ base: r, len: 2 * PAGE }]), PAGE);
    assert.equal(t.process_vm_readv(t.pid, [{ base: l, len: 200 }], [{ base: r + PAGE - 100, len: 200 }]), 100);
  });
});

describe('PMEM: /proc/PID/mem', () => {
  simTest('PMEM-01: FOLL_FORCE read of PROT_NONE memory', (h) => {
    const t = h.spawn();
    const n = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(n, bytes('pattern-16-bytes')));
    assert.equal(t.mprotect(n, PAGE, 0), 0);
    const buf = t.mmap(0, PAGE, RW, ANON);
    const fd = t.open('/proc/self/mem', O_RDONLY);
    assert.equal(t.pread(fd, buf, 16, n), 16);
    assert.equal(text(t.load(buf, 16).data), 'pattern-16-bytes');
  });

  simTest('PMEM-02: FOLL_FORCE write into a read-only private file mapping is a private COW', (h) => {
    const t = h.spawn();
    makeFile(t, '/f', bytes('ab'.repeat(2048)));
    const fd = t.open('/f', O_RDONLY);
    const mp = t.mmap(0, PAGE, R, PRIVATE, fd, 0);
    const src = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(src, bytes('XY')));
    const mem = t.open('/proc/self/mem', O_RDWR);
    assert.equal(t.pwrite(mem, src, 2, mp), 2);
    assert.equal(text(t.load(mp, 4).data), 'XYab');
    assert.equal(t.pread(fd, src, 4, 0), 4);
    assert.equal(text(t.load(src, 4).data), 'abab', 'the file keeps its bytes');
    t.sigaction(SIGSEGV, SKIP);
    assert.equal(oneSignal(t.store(mp, [1])).code, SEGV_ACCERR, 'the VMA is still read-only');
    const ro = t.mmap(0, PAGE, R, ANON);
    assert.equal(t.pwrite(mem, src, 2, ro), 2, 'same for read-only private anon');
  });

  simTest('PMEM-03/GUP-09: FOLL_FORCE write into read-only shared mappings is EIO', (h) => {
    const t = h.spawn();
    makeFile(t, '/s', bytes('shared'));
    for (const mode of [O_RDONLY, O_RDWR]) {
      const fd = t.open('/s', mode);
      const s = t.mmap(0, PAGE, R, SHARED, fd, 0);
      const mem = t.open('/proc/self/mem', O_RDWR);
      const src = t.mmap(0, PAGE, RW, ANON);
      assert.equal(t.pwrite(mem, src, 2, s), -EIO);
    }
  });

  simTest('PMEM-04: unmapped is EIO; a read over [mapped][hole] is short; read() advances', (h) => {
    const t = h.spawn();
    const r = t.mmap(0, 2 * PAGE, RW, ANON);
    assert.equal(t.munmap(r + PAGE, PAGE), 0);
    const buf = t.mmap(0, 2 * PAGE, RW, ANON);
    const fd = t.open('/proc/self/mem', O_RDONLY);
    assert.equal(t.pread(fd, buf, 8, r + PAGE), -EIO);
    assert.equal(t.pread(fd, buf, 2 * PAGE, r), PAGE);
    assert.equal(t.lseek(fd, r, 0), r);
    assert.equal(t.read(fd, buf, 2 * PAGE), PAGE);
    assert.equal(t.lseek(fd, 0, 1), r + PAGE);
  });

  simTest('PMEM-06: the destination buffer is uaccess: AD or unmapped is EFAULT', (h) => {
    const { t, p, k } = s0(h);
    const src = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(src, [7], 16));
    const fd = t.open('/proc/self/mem', O_RDONLY);
    deny(t, k, AD);
    assert.equal(t.pread(fd, p, 16, src), -EFAULT);
    assert.equal(t.pread(fd, 0x10000, 16, src), -EFAULT);
  });

  const never = { procMemForceOverride: 'never' as const };
  simTest('PMEM-07: proc_mem.force_override=never makes PMEM-01/02 EIO (6.12)', (h) => {
    const t = h.spawn();
    const n = t.mmap(0, PAGE, 0, ANON);
    const ro = t.mmap(0, PAGE, R, ANON);
    const buf = t.mmap(0, PAGE, RW, ANON);
    const fd = t.open('/proc/self/mem', O_RDWR);
    assert.equal(t.pread(fd, buf, 16, n), -EIO);
    assert.equal(t.pwrite(fd, buf, 2, ro), -EIO);
  }, never);
  simTest('PMEM-07: proc_mem.force_override=never on 6.1 too (the knob was backported)', (h) => {
    const t = h.spawn();
    const n = t.mmap(0, PAGE, 0, ANON);
    const buf = t.mmap(0, PAGE, RW, ANON);
    assert.equal(t.pread(t.open('/proc/self/mem', O_RDONLY), buf, 16, n), -EIO);
  }, { ...never, profile: 'linux-6.1' });
  simTest('PMEM-07: =ptrace: only the active tracer forces', (h) => {
    const t = h.spawn();
    const n = t.mmap(0, PAGE, 0, ANON);
    const c = t.fork() as Thread;
    const buf = t.mmap(0, PAGE, RW, ANON);
    assert.equal(t.pread(t.open('/proc/self/mem', O_RDONLY), buf, 16, n), -EIO);
    const fd = t.open(`/proc/${c.pid}/mem`, O_RDONLY);
    assert.equal(t.pread(fd, buf, 16, n), -EIO, 'not (yet) the tracer');
    assert.equal(t.ptraceAttach(c.pid), 0);
    assert.equal(t.pread(fd, buf, 16, n), 16);
  }, { procMemForceOverride: 'ptrace' });

  simTest('PMEM-08(b): open of another user\'s mem is EACCES', (h) => {
    const t = h.spawn();
    const c = t.fork() as Thread;
    c.setuid(65534);
    assert.equal(c.open(`/proc/${t.pid}/mem`, O_RDONLY), -13);
  });
});

describe('PTRACE: PEEK/POKE', () => {
  simTest('PTRACE-02: failures are EIO; an unattached pid is ESRCH', (h) => {
    const t = h.spawn();
    const c = t.fork() as Thread;
    assert.equal(t.ptracePeek(c.pid, 0x10000), -ESRCH);
    assert.equal(t.ptraceAttach(c.pid), 0);
    assert.equal(t.ptracePeek(c.pid, 0x10000), -EIO);
    assert.equal(t.ptracePoke(c.pid, 0x10000, 1n), -EIO);
  });

  simTest('PTRACE-03: POKEDATA into read-only text makes a private anon copy; the file is unchanged', (h) => {
    const t = h.spawn();
    const c = t.fork() as Thread;
    const text0 = 0x555555554000;
    assert.equal(t.ptraceAttach(c.pid), 0);
    const orig = t.ptracePeek(c.pid, text0) as bigint;
    const bp = (orig & ~0xffn) | 0xccn;
    assert.equal(t.ptracePoke(c.pid, text0, bp), 0);
    assert.equal(t.ptracePeek(c.pid, text0), bp);
    assert.equal(t.ptracePeek(c.pid, text0) === orig, false);
    assert.equal(t.load(text0, 1).data![0], Number(orig & 0xffn), 'the tracer\'s own text is unchanged');
    assert.ok(h.m.pages.isAnon(c.pte(text0)!.pfn), 'tracee text page is now anonymous');
  });

  simTest('PTRACE-05: POKEDATA into a read-only shared mapping is EIO', (h) => {
    const t = h.spawn();
    makeFile(t, '/s', bytes('shared'));
    const fd = t.open('/s', O_RDWR);
    const s = t.mmap(0, PAGE, R, SHARED, fd, 0);
    const c = t.fork() as Thread;
    assert.equal(t.ptraceAttach(c.pid), 0);
    assert.equal(t.ptracePoke(c.pid, s, 1n), -EIO);
  });
});

describe('GUP-09: the FOLL_FORCE matrix', () => {
  simTest('N/R/S/X pages through /proc/PID/mem, PEEK/POKE and process_vm', (h) => {
    const t = h.spawn();
    makeFile(t, '/s', bytes('shared'));
    const c = t.fork() as Thread;
    const N = c.mmap(0, PAGE, 0, ANON);
    const Rp = c.mmap(0, PAGE, R, ANON);
    const S = c.mmap(0, PAGE, R, SHARED, c.open('/s', O_RDWR), 0);
    const Xp = c.mmap(0, PAGE, X, ANON);
    const buf = t.mmap(0, PAGE, RW, ANON);
    assert.equal(t.ptraceAttach(c.pid), 0);
    const mem = t.open(`/proc/${c.pid}/mem`, O_RDWR);
    // read N
    assert.equal(t.pread(mem, buf, 8, N), 8);
    assert.equal(typeof t.ptracePeek(c.pid, N), 'bigint');
    assert.equal(t.process_vm_readv(c.pid, [{ base: buf, len: 8 }], [{ base: N, len: 8 }]), -EFAULT);
    // write R
    assert.equal(t.pwrite(mem, buf, 8, Rp), 8);
    assert.equal(t.ptracePoke(c.pid, Rp, 5n), 0);
    assert.equal(t.process_vm_writev(c.pid, [{ base: buf, len: 8 }], [{ base: Rp, len: 8 }]), -EFAULT);
    // write S
    assert.equal(t.pwrite(mem, buf, 8, S), -EIO);
    assert.equal(t.ptracePoke(c.pid, S, 5n), -EIO);
    assert.equal(t.process_vm_writev(c.pid, [{ base: buf, len: 8 }], [{ base: S, len: 8 }]), -EFAULT);
    // read X
    assert.equal(t.pread(mem, buf, 8, Xp), 8);
    assert.equal(typeof t.ptracePeek(c.pid, Xp), 'bigint');
    assert.equal(t.process_vm_readv(c.pid, [{ base: buf, len: 8 }], [{ base: Xp, len: 8 }]), -EFAULT);
  });
});

void W;
