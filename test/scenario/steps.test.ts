// Steps end to end through the scenario language, with expectations from the real-kernel results
// (shared/conformance/real-kernel/results-6.12.txt) and the catalogue.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSource } from '../../src/scenario/run.js';
import type { StepReport } from '../../src/scenario/interp.js';

function run(src: string): StepReport[] {
  const r = runSource(src, 't.scn');
  const steps = r.reports.filter((x): x is StepReport => x.kind !== 'task');
  const failed = steps.flatMap((s) => s.expects.filter((e) => !e.ok).map((e) => `line ${e.pos.line}: ${e.src}: expected ${e.expected}, got ${e.actual}`));
  assert.deepEqual(failed, []);
  return steps;
}

describe('signals', () => {
  it('PK-SIG-02: PKRU comes back exactly after a SIGUSR1 handler returns', () => {
    const s = run(`task A
A: wrpkru(0x55551514)
A: sigaction(SIGUSR1, retry)
A: raise(SIGUSR1)          expect 0, SIGUSR1{SI_TKILL}
A: rdpkru()                expect 0x55551514
`);
    assert.match(s[2]!.canonical, /^STEP 3 A raise ret=0 sig=SIGUSR1 code=SI_TKILL sender=A$/);
  });

  it('a signal to another thread shows under that thread', () => {
    const s = run(`task A
A: sigaction(SIGUSR1, retry)
A: T = clone()
A: tgkill(A, T, SIGUSR1)   expect 0, nosignal
`);
    assert.match(s[2]!.extra.join('\n'), /^\[pid \d+\] --- SIGUSR1 \{si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=\d+, si_uid=0\} ---$/m);
  });
});

describe('a machine without PKU', () => {
  it('PK-ALLOC-14 (6.12): pkey_alloc EINVAL then ENOSPC; pkey_mprotect with key 1 EINVAL, with -1 fine', () => {
    run(`machine pku=off
task A
A: p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: pkey_alloc(0, 0)                         expect EINVAL
A: pkey_alloc(0, 0)                         expect ENOSPC
A: pkey_mprotect(p, 4096, PROT_READ, 1)     expect EINVAL
A: pkey_mprotect(p, 4096, PROT_READ, -1)    expect 0
`);
  });

  it('PK-ACC-08 (nopku): PROT_EXEC-only memory gets no key and reads fine', () => {
    run(`machine pku=off
task A
A: x = mmap(NULL, 4096, PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: vma(x)                                   expect pkey == 0
A: load(x, 1)                               expect ok, data == 0
`);
  });

  it('RDPKRU without CR4.PKE is an invalid opcode: SIGILL', () => {
    run(`machine pku=off
task A
A: rdpkru()                                 expect SIGILL{ILL_ILLOPN}, killed(SIGILL)
`);
  });
});

describe('process_vm_readv argument checks', () => {
  it('PVM-02: flags other than 0 are EINVAL; PVM-05: pid -1 is ESRCH', () => {
    run(`task A
A: buf = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: store(buf, 0, 4096)
A: process_vm_readv(A, {buf, 16}, 1, {buf + 64, 16}, 1, 1)     expect EINVAL
A: process_vm_readv(-1, {buf, 16}, 1, {buf + 64, 16}, 1, 0)    expect ESRCH
A: process_vm_readv(A, {buf, 16}, 1, {buf + 64, 16}, 1, 0)     expect 16
`);
  });
});
