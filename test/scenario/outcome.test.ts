// The canonical outcome line: its format, symbolic addresses and task names, and its parser (what
// the real-kernel oracle diffs field by field).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SymbolTable, canonicalLine, dataField, diffCanonical, fnv1a32, parseCanonicalLine, type Outcome } from '../../src/scenario/outcome.js';
import { runSource } from '../../src/scenario/run.js';

function outcome(o: Partial<Outcome>): Outcome {
  return { step: 7, line: 1, task: 'A', pid: 100, name: 'store', retKind: 'int', signals: [], fields: {}, info: {}, status: 'done', ...o };
}

describe('canonical lines', () => {
  const syms = new SymbolTable();
  syms.define('p', 0x7ffff7ffe000n, 0x2000n);

  it('the format of the issue: STEP n task name ret=... sig=... code=... addr=$p pkey=k', () => {
    const o = outcome({ ret: 0n, signals: [{ signo: 11, sig: 'SIGSEGV', code: 4, codeName: 'SEGV_PKUERR', addr: 0x7ffff7ffe000n, pkey: 1 }] });
    assert.equal(canonicalLine(o, syms), 'STEP 7 A store ret=0 sig=SIGSEGV code=SEGV_PKUERR addr=$p pkey=1');
  });

  it('addresses are symbolic inside a bound region, hex outside; errors are ret=-1 errno=NAME', () => {
    assert.equal(syms.symbolize(0x7ffff7fff010n), '$p+0x1010');
    assert.equal(syms.symbolize(0x1000n), '0x1000');
    const e = outcome({ name: 'read', ret: -1n, errno: 'EFAULT' });
    assert.equal(canonicalLine(e, syms), 'STEP 7 A read ret=-1 errno=EFAULT');
  });

  it('data: hex up to 32 bytes, else length and FNV-1a', () => {
    assert.equal(dataField(Uint8Array.of(0x73, 0x65)), '7365');
    const big = new Uint8Array(4096);
    assert.equal(dataField(big), `4096B:fnv1a32=${fnv1a32(big).toString(16).padStart(8, '0')}`);
    assert.equal(fnv1a32(new TextEncoder().encode('a')), 0xe40c292c); // FNV-1a test vector
  });

  it('parses back, signal groups included, and diffs field by field', () => {
    const line = 'STEP 9 B load sig=SIGSEGV code=SEGV_PKUERR addr=$p pkey=1 killed=SIGSEGV data=';
    const c = parseCanonicalLine(line)!;
    assert.equal(c.task, 'B');
    assert.deepEqual(c.signals, [{ sig: 'SIGSEGV', code: 'SEGV_PKUERR', addr: '$p', pkey: '1' }]);
    assert.deepEqual(c.fields, [['killed', 'SIGSEGV'], ['data', '']]);
    const k = parseCanonicalLine('STEP 9 B load sig=SIGSEGV code=SEGV_ACCERR addr=$p killed=SIGSEGV data=')!;
    assert.deepEqual(diffCanonical(c, k).map((d) => [d.field, d.model, d.kernel]), [['signal[0].code', 'SEGV_PKUERR', 'SEGV_ACCERR'], ['signal[0].pkey', '1', undefined]]);
    assert.equal(parseCanonicalLine('hello'), null);
  });

  it('pids are task names: fork returns the child\'s name', () => {
    const r = runSource('task A\nA: B = fork()\nB: getpid()\nA: T = clone()\nT: getpid()\nT: gettid()\n');
    const lines = r.reports.filter((x) => x.kind === 'step').map((x) => (x.kind === 'step' ? x.canonical : ''));
    assert.deepEqual(lines, ['STEP 1 A fork ret=B', 'STEP 2 B getpid ret=B', 'STEP 3 A clone ret=T', 'STEP 4 T getpid ret=A', 'STEP 5 T gettid ret=T']);
  });

  it('an unbound mmap result is named after its step', () => {
    const r = runSource('task A\nA: mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\nA: q = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\n');
    const steps = r.reports.filter((x) => x.kind === 'step');
    assert.match(steps[0]!.kind === 'step' ? steps[0]!.canonical : '', /^STEP 1 A mmap ret=\$s1$/);
    assert.match(steps[1]!.kind === 'step' ? steps[1]!.canonical : '', /^STEP 2 A mmap ret=\$q$/);
  });
});
