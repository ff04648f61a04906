// The gupsim command line, run in-process: every example passes, KTAP and JSON are well formed,
// exit statuses follow the contract (0 fine, 1 failed expectation, 2 bad input, 3 model bug).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { main, runText } from '../../src/cli/main.js';
import { completions, runRepl } from '../../src/cli/repl.js';
import { Session } from '../../src/scenario/interp.js';
import { registerStep } from '../../src/scenario/registry.js';

interface Captured {
  code: number;
  out: string;
  err: string;
}

async function cli(...args: string[]): Promise<Captured> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

const EXAMPLES = readdirSync('examples').filter((f) => f.endsWith('.scn')).sort();

describe('gupsim run', () => {
  for (const f of EXAMPLES) {
    it(`examples/${f} runs with every expectation met`, async () => {
      const r = await cli('run', '--no-color', `examples/${f}`);
      assert.equal(r.err, '', r.err);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /expectations met/);
      assert.doesNotMatch(r.out, /FAIL/);
    });
  }

  it('prints strace-style lines: flags by name, errors with strerror, signals as strace shows them', async () => {
    const r = await cli('run', '--no-color', 'examples/pkeys-basics.scn');
    assert.match(r.out, /^\[pid \d+\] mmap\(NULL, 4096, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) = 0x[0-9a-f]+$/m);
    assert.match(r.out, /^\[pid \d+\] pkey_free\(1\) = -1 EINVAL \(Invalid argument\)$/m);
    assert.match(r.out, /^--- SIGSEGV \{si_signo=SIGSEGV, si_code=SEGV_PKUERR, si_addr=0x[0-9a-f]+, si_pkey=1\} ---$/m);
  });

  it('--trace shows the kernel path, who accessed, whose PKRU, and marks the decisive check', async () => {
    const r = await cli('run', '--no-color', '--trace', 'examples/process-vm-readv-bypass.scn');
    assert.equal(r.code, 0);
    assert.match(r.out, /\| +process_vm_rw\(\) \{ +\/\* current = pid \d+ \(A\) \*\//);
    assert.match(r.out, /arch_vma_access_permitted: BYPASS pkey 1 not checked: foreign .*<== bypass/);
    assert.match(r.out, /PKRU of pid \d+ = 0x[0-9a-f]{8} is checked by the MMU/);
    assert.match(r.out, /<== decisive/);
  });

  it('--canonical prints the oracle line with symbolic addresses', async () => {
    const r = await cli('run', '--no-color', '--canonical', 'examples/pkeys-basics.scn');
    assert.match(r.out, /STEP 1 A mmap ret=\$p$/m);
    assert.match(r.out, /STEP \d+ A store ret=0 sig=SIGSEGV code=SEGV_PKUERR addr=\$p pkey=1$/m);
  });

  it('--json gives every step\'s outcome', async () => {
    const r = await cli('run', '--json', 'examples/cow-fork.scn');
    assert.equal(r.code, 0);
    const j = JSON.parse(r.out) as { ok: boolean; steps: { kind: string; outcome?: { canonical: string } }[] };
    assert.equal(j.ok, true);
    const steps = j.steps.filter((s) => s.kind === 'step');
    assert.ok(steps.length > 10);
    assert.match(steps[0]!.outcome!.canonical, /^STEP 1 A mmap ret=\$p$/);
  });
});

describe('gupsim check (KTAP)', () => {
  it('examples/ is green, in KTAP version 1 with one test per file and a subtest per expectation', async () => {
    const r = await cli('check', 'examples/');
    assert.equal(r.code, 0, r.out);
    const lines = r.out.trimEnd().split('\n');
    assert.equal(lines[0], 'KTAP version 1');
    assert.equal(lines[1], `1..${EXAMPLES.length}`);
    const top = lines.filter((l) => /^(not )?ok \d+ /.test(l));
    assert.equal(top.length, EXAMPLES.length);
    assert.ok(top.every((l) => l.startsWith('ok ')), top.join('\n'));
    assert.ok(lines.some((l) => /^ {2}KTAP version 1$/.test(l)), 'nested subtests, indented two spaces');
    assert.ok(lines.some((l) => /^ {2}ok \d+ line \d+ \w+: /.test(l)));
    assert.match(lines.at(-1)!, new RegExp(`^# Totals: pass:${EXAMPLES.length} fail:0 xfail:0 xpass:0 skip:0 error:0$`));
  });

  it('reports a failed expectation as not ok with expected and actual, exit 1', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/gupsim-test-');
    writeFileSync(`${dir}/bad.scn`, 'task A\nA: p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\nA: munmap(p, 4096) expect EINVAL\n');
    const r = await cli('check', dir);
    assert.equal(r.code, 1);
    assert.match(r.out, /^ {2}# expected: ret=-1 errno=EINVAL$/m);
    assert.match(r.out, /^ {2}# actual: ret=0$/m);
    assert.match(r.out, /^ {2}not ok 1 line 3 munmap: EINVAL$/m);
    assert.match(r.out, /^not ok 1 /m);
    const j = JSON.parse((await cli('check', '--json', dir)).out) as { ok: boolean };
    assert.equal(j.ok, false);
  });
});

describe('steps the model cannot run yet', () => {
  it('stop the scenario there; check reports SKIP with the reason, and exit 0', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/gupsim-test-');
    writeFileSync(`${dir}/cont.scn`, 'task A\nA: B = fork()\nA: ptrace(PTRACE_ATTACH, B) expect 0\nA: ptrace(PTRACE_CONT, B) expect 0\nA: close(0) expect 0\n');
    const r = await cli('check', dir);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^ {2}ok 2 line 4 ptrace: 0 # SKIP not yet modelled: ptrace\(PTRACE_CONT\)$/m);
    assert.match(r.out, /^ok 1 \S+cont\.scn # SKIP not yet modelled: ptrace\(PTRACE_CONT\) \(line 4\)$/m);
    const run = await cli('run', '--no-color', `${dir}/cont.scn`);
    assert.match(run.out, /ptrace\(PTRACE_CONT, \d+, NULL, 0\) = \? <not yet modelled>/);
    assert.match(run.out, /this step and the ones after it were not run/);
    assert.doesNotMatch(run.out, /close\(0\)/);
  });
});

describe('exit statuses and errors', () => {
  it('bad input: exit 2, one screen with file:line:col, the line, a caret and a hint, no stack trace', () => {
    const r = runText('task A\nA: mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0, 7)\n', 'x.scn');
    assert.equal(r.code, 2);
    assert.match(r.err[0]!, /^x\.scn:2:\d+: error: too many arguments/);
    assert.match(r.err.join('\n'), /\^/);
    assert.match(r.err.join('\n'), /hint: mmap\(addr, length, prot, flags, \[fd\], \[offset\]\)/);
    assert.doesNotMatch(r.err.join('\n'), /\n\s+at /);
  });

  it('a missing file is bad input', async () => {
    const r = await cli('run', 'no/such/file.scn');
    assert.equal(r.code, 2);
    assert.match(r.err, /cannot read no\/such\/file\.scn: no such file/);
  });

  it('an unknown command line option is bad input', async () => {
    assert.equal((await cli('run', '--bogus', 'examples/cow-fork.scn')).code, 2);
  });

  it('an exception inside the model is an internal error: exit 3, with the step, no stack trace', () => {
    registerStep({
      name: 'test_model_bug', kind: 'syscall', result: 'int', params: [],
      run: () => {
        throw new TypeError('simulated bug');
      },
      doc: 'test only',
    }, { replace: true });
    const r = runText('task A\nA: test_model_bug()\n', 'bug.scn');
    assert.equal(r.code, 3);
    assert.match(r.err[0]!, /^bug\.scn:2: internal error in step 1: simulated bug$/);
    assert.doesNotMatch(r.err.join('\n'), /\n\s+at /);
  });
});

describe('exploring', () => {
  it('gupsim pte decodes an entry', async () => {
    const r = await cli('pte', '0x8000000012345867');
    assert.equal(r.code, 0);
    assert.match(r.out, /^0x8000000012345867: P RW US A D pkey=0 NX pfn=0x12345$/m);
    const j = JSON.parse((await cli('pte', '--json', '0x1800000000000025')).out) as { pkey: number; present: boolean };
    assert.deepEqual([j.pkey, j.present], [3, true]);
  });

  it('gupsim pte walks an address of a scenario', async () => {
    const r = await cli('pte', 'examples/pkeys-basics.scn', '--task', 'A', '--addr', 'p');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^PGD\[/m);
    assert.match(r.out, /^PTE\[.*pkey=1/m);
  });

  it('gupsim maps shows a fresh process and the tasks of a scenario', async () => {
    const r = await cli('maps');
    assert.match(r.out, /\[stack\]/);
    const m = await cli('maps', 'examples/cow-fork.scn', '--task', 'B');
    assert.match(m.out, /# B \(pid \d+\): exited/);
  });

  it('gupsim steps lists the registry', async () => {
    const j = JSON.parse((await cli('steps', '--json')).out) as { name: string; implemented: boolean }[];
    for (const n of ['mmap', 'pkey_mprotect', 'load', 'store', 'process_vm_readv', 'get_user_pages_remote']) {
      assert.ok(j.some((s) => s.name === n && s.implemented), n);
    }
  });

  it('the repl completes step names, constants and the names a session defined', () => {
    const s = new Session('', '<repl>');
    assert.ok(completions(s, 'A: pkey_al')[0].includes('pkey_alloc'));
    assert.deepEqual(completions(s, 'A: mmap(NULL, 4096, PROT_RE')[0], ['PROT_READ']);
    assert.deepEqual(completions(s, '.tr'), [['.trace'], '.tr']);
  });

  it('gupsim repl runs lines as they come and reports errors without stopping', async () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const input = Readable.from([
      'task A\n', 'A: p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\n',
      'A: munmap(q, 4096)\n', 'A: store(p, "hi") expect ok\n', '.vars\n',
    ]);
    await runRepl({ trace: false, profile: undefined, input, output: sink });
    assert.match(out, /\[pid \d+\] mmap\(NULL, 4096/);
    assert.match(out, /<repl>:3:11: error: undefined name 'q'/);
    assert.match(out, /store\(0x[0-9a-f]+, "hi", 2\) = 2/);
    assert.match(out, /^p = 0x[0-9a-f]+/m);
  });
});

describe('gupsim demo', () => {
  it('every row of the showcase is shown (the model agrees with the kernel) and none is faked', async () => {
    const r = await cli('demo', '--json');
    assert.equal(r.code, 0, r.out);
    const j = JSON.parse(r.out) as Record<string, { id: string; status: string }[]>;
    const rows = [...j.today!, ...j.pkruPaths!, ...j.review!];
    assert.ok(rows.length >= 20);
    for (const row of rows) assert.ok(['shown', 'pending'].includes(row.status), `${row.id}: ${row.status}`);
  });
});
