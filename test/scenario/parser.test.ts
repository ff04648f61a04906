// The scenario language: parsing, static checks and their error positions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScenario } from '../../src/scenario/parser.js';
import { loadScenario } from '../../src/scenario/run.js';
import { ScenarioError, formatError } from '../../src/scenario/errors.js';

function err(src: string): ScenarioError {
  try {
    loadScenario(src, 't.scn');
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  assert.fail(`no error for:\n${src}`);
}

describe('parser', () => {
  it('parses headers, tasks, steps with prefixes, bindings, named arguments and expectations', () => {
    const s = parseScenario([
      '# a comment',
      'profile linux-6.1',
      'machine ram=64M pku=on',
      'scenario "demo"',
      'task A',
      'A: p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)  // trailing comment',
      'A: store(p + 0x10, "a\\n\\x41", 3) expect ok, minflt == 1',
      'kworker: get_user_pages_remote(mm=A, p, 1, FOLL_WRITE)',
      'expect SIGSEGV{SEGV_PKUERR, addr=p, pkey=1}, killed(SIGSEGV)',
      'A: store(p, {1, 2, \'c\'}, 0644) \\',
      '   expect ok',
    ].join('\n'));
    assert.deepEqual(s.stmts.map((x) => x.k), ['profile', 'machine', 'title', 'task', 'step', 'step', 'step', 'expect', 'step']);
    const st = s.stmts[4]!;
    assert.ok(st.k === 'step');
    assert.equal(st.prefix?.name, 'A');
    assert.equal(st.bind?.name, 'p');
    assert.equal(st.name, 'mmap');
    assert.equal(st.args.length, 6);
    const store = s.stmts[5]!;
    assert.ok(store.k === 'step');
    const data = store.args[1]!.value;
    assert.ok(data.k === 'str');
    assert.deepEqual([...data.v], [0x61, 0x0a, 0x41]);
    assert.equal(store.expect.length, 2);
    const k = s.stmts[6]!;
    assert.ok(k.k === 'step' && k.prefix?.kind === 'kworker' && k.args[0]!.name === 'mm');
    const last = s.stmts[8]!;
    assert.ok(last.k === 'step');
    const len = last.args[2]!.value;
    assert.ok(len.k === 'num' && len.v === 0o644n, 'a leading 0 is octal, as in C');
    assert.equal(last.expect.length, 1, 'a backslash continues the line');
  });

  it('gives C operator precedence', () => {
    const s = parseScenario('A: f(1 | 2 << 3 + 4 * 5)');
    const st = s.stmts[0]!;
    assert.ok(st.k === 'step');
    const e = st.args[0]!.value;
    assert.ok(e.k === 'bin' && e.op === '|');
    assert.ok(e.r.k === 'bin' && e.r.op === '<<');
  });
});

describe('errors carry a position and a hint', () => {
  const cases: [string, string, RegExp, number, number][] = [
    ['syntax: missing )', 'task A\nA: mmap(NULL, 4096', /unexpected end of line/, 2, 19],
    ['syntax: stray character', 'task A\nA: munmap(0, 4096) @', /unexpected character '@'/, 2, 20],
    ['unterminated string', 'task A\nA: open("/tmp/x, 0)', /unterminated string/, 2, 9],
    ['unknown step', 'task A\nA: mmapp(NULL, 4096, 0, 0)', /unknown step 'mmapp'/, 2, 4],
    ['wrong argument count', 'task A\nA: munmap(0)', /missing argument 'length'/, 2, 1],
    ['too many arguments', 'task A\nA: close(3, 4)', /too many arguments/, 2, 13],
    ['undefined variable', 'task A\nA: munmap(q, 4096)', /undefined name 'q'/, 2, 11],
    ['unknown task', 'task A\nB: munmap(0, 4096)', /no task named 'B'/, 2, 1],
    ['64-bit overflow', 'task A\nA: munmap(0x10000000000000000, 4096)', /overflows 64 bits/, 2, 11],
    ['overflowing arithmetic', 'task A\nA: munmap(0xffffffffffffffff + 1, 4096)', /overflows 64 bits/, 2, 11],
    ['int range', 'task A\nA: pkey_free(0x100000000)', /does not fit in a 32-bit int/, 2, 14],
    ['unknown profile', 'profile linux-9.9\ntask A', /unknown kernel profile/, 1, 9],
    ['header after a task', 'task A\nprofile linux-6.1', /must come before/, 2, 9],
    ['bad expectation field', 'task A\nA: close(3) expect dat == 1', /no field 'dat'/, 2, 20],
    ['errno on a user-mode access', 'task A\nA: load(0x1000) expect EFAULT', /sets no errno/, 2, 24],
    ['fork without a name', 'task A\nA: fork()', /creates a task/, 2, 1],
    ['kworker running a syscall', 'task A\nkworker: close(3)', /no user address space/, 2, 1],
  ];
  it('CRLF line ends count as one line break each, and step texts carry no \\r', () => {
    const src = 'task A\r\n# a comment\r\nA: munmap(0, 4096)\r\nA: munmap(q, 4096)\r\n';
    const e = err(src);
    assert.match(e.message, /undefined name 'q'/);
    assert.deepEqual([e.pos.line, e.pos.col], [4, 11]);
    const ok = parseScenario('task A\r\nA: munmap(0, 4096)\r\n', 't.scn');
    const step = ok.stmts.find((st) => st.k === 'step');
    assert.equal(step && 'text' in step ? step.text : null, 'A: munmap(0, 4096)');
  });
  for (const [what, src, msg, line, col] of cases) {
    it(what, () => {
      const e = err(src);
      assert.match(e.message, msg);
      assert.deepEqual([e.pos.line, e.pos.col], [line, col], `position of: ${e.message}`);
      assert.ok(e.hint && e.hint.length > 0, 'a hint');
      const text = formatError('t.scn', src, e);
      assert.match(text, new RegExp(`^t\\.scn:${line}:${col}: error: `));
      assert.match(text, /\n +\d+ \| .*\n +\| +\^/);
      assert.ok(text.split('\n').length <= 24, 'one screen');
    });
  }

  it('a lone \\r is blank space, not a line break: later errors point at the line shown', () => {
    const src = 'task A\nA: munmap(0, 4096)  \r  expect 0\nA: munmap(q, 4096)\n';
    const e = err(src);
    assert.deepEqual([e.pos.line, e.pos.col], [3, 11]);
    assert.match(formatError('t.scn', src, e), /\n +3 \| A: munmap\(q, 4096\)\n/);
  });

  it('suggests the closest name', () => {
    assert.match(err('task A\nA: pkey_aloc(0, 0)').hint!, /pkey_alloc/);
    assert.match(err('task A\nA: mprotect(0, 4096, PROT_RAED)').hint!, /PROT_READ/);
  });
});

describe('long scenarios (the lexer takes a few dozen lines at a time)', () => {
  const lines = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i + 1));

  it('gives every step its own line number and text, across chunk boundaries', () => {
    const src = lines(300, (i) => `A: f(${i}, p + ${i})  # line ${i}`);
    const s = parseScenario(src.join('\n'), 't.scn');
    assert.equal(s.stmts.length, 300);
    s.stmts.forEach((st, k) => {
      assert.ok(st.k === 'step');
      assert.equal(st.pos.line, k + 1);
      assert.equal(st.text, `A: f(${k + 1}, p + ${k + 1})`);
      assert.deepEqual([st.args[1]!.value.pos.line, st.args[1]!.value.pos.col], [k + 1, 8 + String(k + 1).length]);
    });
  });

  it('keeps a continued line and a block comment whole wherever they fall', () => {
    for (let at = 55; at <= 75; at++) {
      const src = lines(140, (i) => (i === at ? 'A: f(1, \\' : i === at + 1 ? '   2) expect 0' : `A: f(${i})`));
      const s = parseScenario(src.join('\n'), 't.scn');
      assert.equal(s.stmts.length, 139, `continuation at line ${at}`);
      const st = s.stmts[at - 1]!;
      assert.ok(st.k === 'step' && st.args.length === 2 && st.expect.length === 1 && st.pos.line === at);
      const after = s.stmts[at]!;
      assert.equal(after.pos.line, at + 2, 'the line after the continued one');
    }
    for (let at = 50; at <= 70; at++) {
      // The comment holds what would be syntax errors outside it, and `*/` only on its last line.
      const src = lines(200, (i) => (i === at ? (at % 2 ? '/* from here' : '/*/ from here') : i > at && i < at + 12 ? 'A: ((( @ "' : i === at + 12 ? 'to here */' : `A: f(${i})`));
      const s = parseScenario(src.join('\n'), 't.scn');
      assert.equal(s.stmts.length, 200 - 13, `block comment from line ${at}`);
      const next = s.stmts[at - 1]!;
      assert.ok(next.k === 'step' && next.pos.line === at + 13 && next.text === `A: f(${at + 13})`);
    }
  });

  it('reports the first problem in the file, a bad character or a syntax error', () => {
    const bad = (n: number, m: number, first: string, second: string): string => lines(300, (i) => (i === n ? first : i === m ? second : `A: f(${i})`)).join('\n');
    let e: ScenarioError;
    for (const n of [20, 60, 100, 195, 250]) {
      e = err(bad(n, n + 5, 'A: f(1', 'A: f(1) @'));
      assert.deepEqual([e.pos.line, e.message], [n, 'unexpected end of line']);
    }
    e = err(bad(20, 250, 'A: f(1) @', 'A: f(1'));
    assert.deepEqual([e.pos.line, e.pos.col, e.message], [20, 9, "unexpected character '@'"]);
    e = err(bad(200, 250, 'A: f("abc)', 'A: f(1'));
    assert.deepEqual([e.pos.line, e.pos.col, e.message], [200, 6, 'unterminated string literal']);
  });
});

describe('grammar', () => {
  it('passes chevrotain\'s grammar validations (skipped at start-up for speed)', async () => {
    const { validateGrammar } = await import('../../src/scenario/parser.js');
    assert.doesNotThrow(() => validateGrammar());
  });
});
