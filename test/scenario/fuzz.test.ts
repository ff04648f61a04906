// Property: whatever text a user feeds in, gupsim answers with a result (exit 0 or 1) or with a
// one-screen error that has a position (exit 2); never a stack trace, never an internal error.
// Inputs: random token soup, and the examples mutated (characters, tokens, numbers, names, lines).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { runText } from '../../src/cli/main.js';

const EXAMPLES = readdirSync('examples').filter((f) => f.endsWith('.scn')).map((f) => readFileSync(`examples/${f}`, 'utf8'));

const TOKENS = [
  'task', 'A', 'B', ':', '=', '(', ')', '{', '}', '[', ']', ',', 'expect', 'ok', 'mmap', 'munmap', 'store', 'load', 'fork',
  'pkey_alloc', 'pkey_mprotect', 'read', 'write', 'open', 'p', 'k', 'NULL', '4096', '0x1000', '-1', '0', '"x"', "'a'",
  'PROT_READ', 'PROT_WRITE', '|', '+', '-', '<<', '*', '/', 'MAP_PRIVATE', 'MAP_ANONYMOUS', 'SIGSEGV', 'SEGV_PKUERR',
  'EFAULT', '==', '!=', 'profile', 'linux-6.12', 'machine', 'ram=64M', 'kworker', 'get_user_pages_remote', 'mm=A',
  '#', '//', '\\', '"', "'", '0xffffffffffffffff', '18446744073709551616', '99999999999999999999999', 'model-only',
  'process_vm_readv', 'exit', 'clone', 'execve', '/*', '*/', '\t', ' ', '\n', 'é', '$', '@', '`', '%',
];

const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((t) => t.join(' '));

const mutation = fc.oneof(
  fc.record({ k: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ k: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 4 })) }),
  fc.record({ k: fc.constant('number' as const), at: fc.nat(), text: fc.constantFrom('0', '-1', '0xffffffffffffffff', '0x10000000000000000', '4294967296', '1 << 70', '1/0', '08') }),
  fc.record({ k: fc.constant('name' as const), at: fc.nat(), text: fc.constantFrom('q', 'Z', 'mmapp', 'PROT_RAED', 'fds[2]', 'A', 'p') }),
  fc.record({ k: fc.constant('dropLine' as const), at: fc.nat() }),
  fc.record({ k: fc.constant('dupLine' as const), at: fc.nat() }),
  fc.record({ k: fc.constant('swapLines' as const), at: fc.nat(), to: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(src: string, m: Mutation): string {
  const lines = src.split('\n');
  const li = m.at % Math.max(1, lines.length);
  switch (m.k) {
    case 'delete': {
      const at = m.at % Math.max(1, src.length);
      return src.slice(0, at) + src.slice(at + m.len);
    }
    case 'insert': {
      const at = m.at % (src.length + 1);
      return src.slice(0, at) + m.text + src.slice(at);
    }
    case 'number':
      return src.replace(/\b(4096|0x[0-9a-f]+|\d+)\b/g, (x, _a, off: number) => (off % 7 === m.at % 7 ? m.text : x));
    case 'name':
      return src.replace(/\b(p|k|A|B|buf|fd)\b/g, (x, _a, off: number) => (off % 5 === m.at % 5 ? m.text : x));
    case 'dropLine':
      lines.splice(li, 1);
      return lines.join('\n');
    case 'dupLine':
      lines.splice(li, 0, lines[li] ?? '');
      return lines.join('\n');
    case 'swapLines': {
      const to = m.to % Math.max(1, lines.length);
      [lines[li], lines[to]] = [lines[to] ?? '', lines[li] ?? ''];
      return lines.join('\n');
    }
  }
}

function check(src: string): void {
  const r = runText(src, 'fuzz.scn');
  const err = r.err.join('\n');
  assert.ok([0, 1, 2].includes(r.code), `exit ${r.code} for:\n${src}\n---\n${err}`);
  assert.doesNotMatch(err, /\n\s+at [\w.<]/, `stack trace for:\n${src}\n---\n${err}`);
  if (r.code === 2) {
    assert.match(r.err[0] ?? '', /^fuzz\.scn:\d+:\d+: error: \S/, `no position for:\n${src}\n---\n${err}`);
    assert.match(err, /\n +\d+ \| .*\n +\| +\^/, `no caret for:\n${src}\n---\n${err}`);
    assert.ok(r.err.length <= 24, `more than a screen for:\n${src}\n---\n${err}`);
  }
}

describe('fuzzing the scenario input', () => {
  it('random token soup: a result or a positioned error, never a crash', () => {
    fc.assert(fc.property(soup, check), { numRuns: 2000, seed: 20260105 });
  });

  it('mutated examples: a result or a positioned error, never a crash', () => {
    const arb = fc.tuple(fc.integer({ min: 0, max: EXAMPLES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }))
      .map(([i, ms]) => ms.reduce(apply, EXAMPLES[i]!));
    fc.assert(fc.property(arb, check), { numRuns: 400, seed: 42 });
  });

  it('each class of bad input gives exit 2', () => {
    const bad = [
      'task A\nA: mmap(NULL, 4096',                                  // syntax error
      'task A\nA: mmapp(NULL, 4096, 0, 0)',                          // unknown syscall
      'task A\nA: munmap(0)',                                        // wrong argument count
      'task A\nA: munmap(q, 4096)',                                  // undefined variable
      'task A\nB: munmap(0, 4096)',                                  // a task that does not exist
      'task A\nA: munmap(0xffffffffffffffff + 1, 4096)',             // an address that overflows 64 bits
      'task A\nA: p = mmap(NULL, 4096, 3, 0x22, -1, 0)\nA: munmap(p + 0xffffffffffffffff, 1)', // overflow at run time
    ];
    for (const src of bad) {
      check(src);
      assert.equal(runText(src, 'fuzz.scn').code, 2, src);
    }
  });
});
