// The visualiser's model side (web/src/model): time travel by snapshots must show exactly the
// machine a fresh run reaches, and the views' data must match the kernel's semantics. Expected
// values come from the kernel's rules (PKRU bits, VMA splits, COW), never from the model's output.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ptePkey, PTE_P, PTE_RW, PTE_US } from '../../src/hw/pte.js';
import { Timeline } from '../../web/src/model/timeline.js';
import { walkAddress } from '../../web/src/model/walk.js';
import type { MachineSnap, ProcSnap } from '../../web/src/model/snapshot.js';
import { decisiveCheck, keyChecks } from '../../web/src/model/decisive.js';
import { longScenario } from './fixtures.js';

const TOUR = readFileSync(new URL('../../web/examples/tour.scn', import.meta.url), 'utf8');
/** linux/pkeys.h: PKRU at exec (init_pkru_value): key 0 open, keys 1..15 access-disabled. */
const INIT_PKRU = 0x55555554;
const PKEY_DISABLE_WRITE = 2;

function proc(s: MachineSnap, label: string): ProcSnap {
  const p = s.procs.find((x) => x.label === label);
  assert.ok(p, `process ${label} in the snapshot`);
  return p;
}

/** Everything the page shows of a snapshot, in a comparable form. */
function view(s: MachineSnap): unknown {
  return {
    procs: s.procs,
    walks: s.procs.flatMap((p) => p.vmas.flatMap((v) => {
      const out: unknown[] = [];
      for (let va = v.start; va < v.end && va < v.start + 64 * 4096; va += 4096) {
        const w = walkAddress(s, p, va);
        out.push([p.label, va, w.levels.map((l) => [l.tablePfn, l.index, l.lo, l.hi]), w.pfn, w.page, w.mappers, w.kernelRefs]);
      }
      return out;
    })),
    kernelRefs: [...s.kernelRefs],
    usedFrames: s.usedFrames,
  };
}

test('step back shows the state a fresh run reaches (tour, every step)', () => {
  const t = new Timeline(TOUR);
  t.runAll();
  assert.equal(t.error, null);
  assert.equal(t.executed, t.total);
  for (let n = 0; n <= t.total; n++) {
    const fresh = new Timeline(TOUR);
    fresh.runTo(n);
    assert.deepEqual(view(t.records[n]!.snap), view(fresh.records[n]!.snap), `state at step ${n}`);
  }
});

test('step back shows the state a fresh run reaches (1000-step scenario, sampled)', () => {
  const src = longScenario(1000);
  const t = new Timeline(src);
  t.runAll();
  assert.equal(t.error, null);
  assert.equal(t.executed, 1000);
  for (const n of [0, 1, 5, 137, 500, 999, 1000]) {
    const fresh = new Timeline(src);
    fresh.runTo(n);
    assert.deepEqual(view(t.records[n]!.snap), view(fresh.records[n]!.snap), `state at step ${n}`);
  }
});

test('unchanged page-table pages are shared between snapshots, changed ones are not', () => {
  const t = new Timeline(TOUR);
  t.runAll();
  // Step 5 is pkey_alloc (no page-table change), step 6 pkey_mprotect (writes the key into the PTE).
  const [s4, s5, s6] = [t.records[4]!.snap, t.records[5]!.snap, t.records[6]!.snap];
  const a = proc(s5, 'A');
  const leaf = (s: MachineSnap) => walkAddress(s, a, t.records[6]!.focus!.addr).levels[3]!;
  const ptePage = leaf(s5).tablePfn;
  assert.equal(s5.tables.get(ptePage), s4.tables.get(ptePage));
  assert.notEqual(s6.tables.get(ptePage), s5.tables.get(ptePage));
  assert.equal(s6.tables.get(a.pgd), s5.tables.get(a.pgd));
});

test('tour: PKRU cells, VMA split, PTE key, COW sharing, local vs remote GUP', () => {
  const t = new Timeline(TOUR);
  t.runAll();
  const r = (n: number) => t.records[n]!;
  const p = Number(r(2).report!.outcome.ret);
  // Before pkey_alloc: the exec-time PKRU.
  assert.equal(proc(r(4).snap, 'A').threads[0]!.pkru, INIT_PKRU);
  // pkey_alloc(0, PKEY_DISABLE_WRITE) = 1 sets key 1's bits to WD in the caller's PKRU only.
  assert.equal(r(5).report!.outcome.ret, 1n);
  assert.equal(proc(r(5).snap, 'A').threads[0]!.pkru, ((INIT_PKRU & ~(3 << 2)) | (PKEY_DISABLE_WRITE << 2)) >>> 0);
  // pkey_mprotect on the first page splits the VMA: [p, p+4K) key 1, [p+4K, p+16K) key 0.
  const vmas = proc(r(6).snap, 'A').vmas;
  assert.deepEqual(vmas.filter((v) => v.start >= p && v.end <= p + 16384).map((v) => [v.start - p, v.end - p, v.pkey]), [[0, 4096, 1], [4096, 16384, 0]]);
  // The PTE of p carries key 1 in bits 62..59, and is present, writable, user.
  const w6 = walkAddress(r(6).snap, proc(r(6).snap, 'A'), p);
  assert.deepEqual(w6.levels.map((l) => l.level), ['PGD', 'PUD', 'PMD', 'PTE']);
  const pte = w6.levels[3]!;
  assert.equal(ptePkey(pte.hi), 1);
  assert.equal(pte.lo & (PTE_P | PTE_RW | PTE_US), PTE_P | PTE_RW | PTE_US);
  // The write to key 1 (WD) faults with SEGV_PKUERR; A's PKRU decided.
  const v8 = decisiveCheck(r(8).report!.events, r(8).report!.outcome);
  assert.equal(v8?.result, 'deny');
  assert.ok(v8?.key);
  // After fork: the child has the parent's PKRU; p+4K is one frame mapped read-only by both.
  const s9 = r(9).snap;
  assert.equal(proc(s9, 'B').threads[0]!.pkru, proc(s9, 'A').threads[0]!.pkru);
  const shared = walkAddress(s9, proc(s9, 'A'), p + 4096);
  assert.equal(shared.page?.mapcount, 2);
  assert.deepEqual(shared.mappers.map((m) => [m.label, m.va - p, m.lo & PTE_RW]).sort(), [['A', 4096, 0], ['B', 4096, 0]]);
  // B writes: B gets its own copy; A's frame is mapped once again.
  const s10 = r(10).snap;
  const a10 = walkAddress(s10, proc(s10, 'A'), p + 4096);
  const b10 = walkAddress(s10, proc(s10, 'B'), p + 4096);
  assert.equal(a10.pfn, shared.pfn);
  assert.notEqual(b10.pfn, a10.pfn);
  assert.equal(a10.page?.mapcount, 1);
  assert.equal(b10.page?.mapcount, 1);
  // vmsplice: the pipe holds a reference to A's page (refcount 2, mapcount 1).
  const w12 = walkAddress(r(12).snap, proc(r(12).snap, 'A'), p + 4096);
  assert.equal(w12.page?.refcount, 2);
  assert.equal(w12.page?.mapcount, 1);
  assert.equal(w12.kernelRefs, 1);
  // Local GUP consults A's PKRU (key 1 write-disabled: EFAULT); remote GUP consults none.
  const v13 = decisiveCheck(r(13).report!.events, r(13).report!.outcome);
  assert.equal(r(13).report!.outcome.errno, 'EFAULT');
  assert.equal(v13?.result, 'deny');
  assert.match(v13!.d.detail, new RegExp(`PKRU of pid ${proc(r(13).snap, 'A').tgid}`));
  const v14 = decisiveCheck(r(14).report!.events, r(14).report!.outcome);
  assert.equal(v14?.result, 'bypass');
  assert.match(v14!.d.detail, /foreign/);
  // The remote write broke COW in A: A's p now maps a frame of its own.
  const a14 = walkAddress(r(14).snap, proc(r(14).snap, 'A'), p);
  const b14 = walkAddress(r(14).snap, proc(r(14).snap, 'B'), p);
  assert.notEqual(a14.pfn, b14.pfn);
  assert.equal(a14.page?.mapcount, 1);
});

test('a runtime error stops the run at its step and keeps the earlier states', () => {
  const t = new Timeline('task A\nA: p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\nA: exit(0)\nA: load(p, 1)\n');
  t.runAll();
  assert.equal(t.executed, 2);
  assert.ok(t.error);
  assert.equal(t.error.step, 3);
  assert.equal(t.error.pos.line, 4);
  assert.match(t.error.message, /A/);
});

test('every built-in example runs in the visualiser with its expectations met', async () => {
  const { readdirSync } = await import('node:fs');
  const dirs = [new URL('../../examples/', import.meta.url), new URL('../../web/examples/', import.meta.url)];
  const files = dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.scn')).map((f) => new URL(f, d)));
  assert.ok(files.length >= 2);
  for (const f of files) {
    const t = new Timeline(readFileSync(f, 'utf8'), f.pathname);
    t.runAll();
    assert.equal(t.error, null, `${f.pathname}: ${t.error?.message}`);
    assert.equal(t.executed, t.total, f.pathname);
    const failed = t.records.flatMap((r) => r.expects.filter((e) => !e.ok).map((e) => `step ${r.no}: ${e.src}: ${e.actual}`));
    assert.deepEqual(failed, [], f.pathname);
  }
});

test('process_vm_readv: the remote side consults no PKRU, the local copy_to_user the caller\'s', () => {
  const t = new Timeline(`task A
A: p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: buf = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: store(p, "secret")
A: store(buf, 0, 4096)
A: k = pkey_alloc(0, PKEY_DISABLE_ACCESS)
A: pkey_mprotect(buf, 4096, PROT_READ|PROT_WRITE, k)
A: process_vm_readv(A, {buf, 6}, 1, {p, 6}, 1, 0)
`);
  t.runAll();
  const r = t.records[7]!.report!;
  assert.equal(r.outcome.errno, 'EFAULT');
  const pid = String(proc(t.records[7]!.snap, 'A').tgid);
  const v = decisiveCheck(r.events, r.outcome);
  assert.equal(v?.result, 'deny');
  assert.ok(v?.key, 'a protection-key denial');
  assert.equal(v?.pkru?.pid, pid);
  // PKEY_DISABLE_ACCESS on key 1: AD set in A's PKRU (0x55555554 already has it: key 1 starts AD).
  assert.equal(Number(v?.pkru?.value) & (1 << 2), 1 << 2);
  assert.ok(keyChecks(r.events).some((c) => c.result === 'bypass' && /foreign/.test(c.d.detail)));
});
