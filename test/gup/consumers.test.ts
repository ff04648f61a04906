// Local GUP users honour the caller's PKRU (catalogue PK-KACC-05..07; real-kernel RESULT lines for
// PK-KACC-06/07 in shared/conformance/real-kernel/results-6.12.txt), and the other consumers of
// SEMANTICS.md section 6 pick local or remote as the kernel does.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { EAGAIN, EFAULT, O_DIRECT, O_RDWR, SIGSEGV, type Thread } from '../../src/index.js';
import { FUTEX_PRIVATE_FLAG, FUTEX_WAIT } from '../../src/kernel/futex.js';
import { hvaToPfn } from '../../src/virt/kvm.js';
import { doCoredump } from '../../src/kernel/coredump.js';
import { PAGE, SKIP, makeFile, ok, simTest, type Harness } from '../helpers.js';

const RW = 3, ANON = 0x22, SHARED_ANON = 0x21;
const AD = 1, WD = 2;
const deny = (t: Thread, k: number, bits: number): void => t.wrpkru(t.rdpkru() | (bits << (2 * k)));

function keyed(h: Harness, flags = ANON): { t: Thread; p: number; k: number } {
  const t = h.spawn();
  t.sigaction(SIGSEGV, SKIP);
  const k = t.pkeyAlloc(0, 0);
  const p = t.mmap(0, PAGE, RW, flags);
  assert.equal(t.pkeyMprotect(p, PAGE, RW, k), 0);
  ok(t.store(p, [5, 0, 0, 0]));
  return { t, p, k };
}

describe('PK-KACC-06: futex(FUTEX_WAIT) on a protected word (real 6.1/6.12 results)', () => {
  simTest('shared WD on a private anon page: EFAULT (a read-only anon page is useless for futexes)', (h) => {
    const { t, p, k } = keyed(h);
    deny(t, k, WD);
    assert.equal(t.futexWait(p, FUTEX_WAIT, 4), -EFAULT);
  });
  simTest('shared AD: EFAULT; private AD: EFAULT (the value read is uaccess)', (h) => {
    const { t, p, k } = keyed(h);
    deny(t, k, AD);
    assert.equal(t.futexWait(p, FUTEX_WAIT, 4), -EFAULT);
    assert.equal(t.futexWait(p, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 4), -EFAULT);
  });
  simTest('private WD: EAGAIN (the value differs); shmem shared WD: EAGAIN', (h) => {
    const { t, p, k } = keyed(h);
    deny(t, k, WD);
    assert.equal(t.futexWait(p, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 4), -EAGAIN);
    const s = t.mmap(0, PAGE, RW, SHARED_ANON);
    assert.equal(t.pkeyMprotect(s, PAGE, RW, k), 0);
    t.wrpkru(0);
    ok(t.store(s, [5, 0, 0, 0]));
    deny(t, k, WD);
    assert.equal(t.futexWait(s, FUTEX_WAIT, 4), -EAGAIN);
  });
  simTest('control: shared FUTEX_WAIT on a PROT_READ anon page is EFAULT', (h) => {
    const t = h.spawn();
    const p = t.mmap(0, PAGE, 1, ANON);
    ok(t.load(p, 4));
    assert.equal(t.futexWait(p, FUTEX_WAIT, 4), -EFAULT);
  });
});

describe('PK-KACC-07: other GUP-on-self users honour PKRU', () => {
  simTest('(a) O_DIRECT read into an AD buffer: EFAULT; allowed: 4096', (h) => {
    const { t, p, k } = keyed(h);
    makeFile(t, '/data', new Uint8Array(PAGE).fill(9));
    const fd = t.open('/data', O_RDWR | O_DIRECT);
    deny(t, k, AD);
    assert.equal(t.read(fd, p, PAGE), -EFAULT);
    t.wrpkru(0);
    assert.equal(t.pread(fd, p, PAGE, 0), PAGE);
    assert.equal(t.load(p, 1).data![0], 9);
  });
  simTest('(b) io_uring buffer registration under AD: EFAULT; (c) under WD: EFAULT too; allowed: 0', (h) => {
    const { t, p, k } = keyed(h);
    deny(t, k, AD);
    assert.equal(t.ioUringRegisterBuffers([{ base: p, len: PAGE }]), -EFAULT);
    t.wrpkru(0);
    deny(t, k, WD);
    assert.equal(t.ioUringRegisterBuffers([{ base: p, len: PAGE }]), -EFAULT);
    t.wrpkru(0);
    assert.equal(t.ioUringRegisterBuffers([{ base: p, len: PAGE }]), 0);
  });
});

describe('other consumers', () => {
  simTest('mempolicy lookup_node() is a local GUP: EFAULT under AD, node 0 otherwise', (h) => {
    const { t, p, k } = keyed(h);
    assert.equal(t.getMempolicyNode(p), 0);
    deny(t, k, AD);
    assert.equal(t.getMempolicyNode(p), -EFAULT);
  });

  simTest('KVM hva_to_pfn() runs in the vCPU thread: its host PKRU applies (CON-16)', (h) => {
    const { t, p, k } = keyed(h);
    const ok1 = hvaToPfn(h.m, t.task, p, true, false);
    assert.equal(ok1.kind, 'pfn');
    deny(t, k, AD);
    assert.deepEqual(hvaToPfn(h.m, t.task, p, true, false), { kind: 'error', what: 'KVM_PFN_ERR_FAULT' });
  });

  simTest('core dumps are local: pages the dying thread\'s PKRU denies become holes (CON-18)', (h) => {
    const { t, p, k } = keyed(h);
    const other = t.mmap(0, 2 * PAGE, RW, ANON);
    ok(t.store(other, [1], 2 * PAGE));
    deny(t, k, AD);
    const dump = doCoredump(h.m, t.task);
    const keyedVma = dump.vmas.find((v) => v.start <= p && p < v.end)!;
    const plain = dump.vmas.find((v) => v.start <= other && other < v.end)!;
    assert.deepEqual([keyedVma.written, keyedVma.holes], [0, 1]);
    assert.deepEqual([plain.written, plain.holes], [2, 0]);
  });

  simTest('exec copies argv with remote GUP into the new mm and charges current', (h) => {
    const t = h.spawn();
    const before = t.getrusage().ru_minflt;
    assert.equal(t.execve('/bin/gupsim-task', ['/bin/gupsim-task', 'arg1'], ['A=1']), 0);
    assert.equal(t.getrusage().ru_minflt - before, 1, 'one stack page written through get_arg_page()');
    assert.equal(t.rdpkru(), 0x55555554);
  });
});
