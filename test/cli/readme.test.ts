// Every `$ gupsim ...` command in README.md runs as the README shows: exit status 0 and the
// output lines shown (`...` stands for lines left out) appear in that order.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { main, runText } from '../../src/cli/main.js';

const readme = readFileSync('README.md', 'utf8');

interface Shown {
  args: string[];
  lines: string[];
}

function commands(): Shown[] {
  const out: Shown[] = [];
  for (const block of readme.matchAll(/```console\n([\s\S]*?)```/g)) {
    let cur: Shown | null = null;
    for (const line of block[1]!.split('\n')) {
      const m = /^\$ gupsim (.*)$/.exec(line);
      if (m) {
        cur = { args: m[1]!.split(/\s+/), lines: [] };
        out.push(cur);
      } else if (line.startsWith('$ ')) cur = null;
      else if (cur && line.trim() && line !== '...') cur.lines.push(line);
    }
  }
  return out;
}

describe('README.md', () => {
  const cmds = commands();
  it('shows gupsim commands', () => assert.ok(cmds.length >= 4));
  for (const c of cmds) {
    it(`gupsim ${c.args.join(' ')}`, async () => {
      let out = '';
      const code = await main([...c.args, ...(['run', 'demo'].includes(c.args[0]!) ? ['--no-color'] : [])], { out: (s) => (out += s + '\n'), err: (s) => (out += s + '\n') });
      assert.equal(code, 0, out);
      const actual = out.split('\n');
      let at = 0;
      for (const want of c.lines) {
        const i = actual.indexOf(want, at);
        assert.ok(i >= 0, `line not found (in order): ${want}\n--- actual:\n${out}`);
        at = i + 1;
      }
    });
  }

  it('the error shown is what a typo gives', () => {
    const block = /```\n(examples\/typo\.scn:[\s\S]*?)```/.exec(readme)![1]!.trimEnd();
    const r = runText('task A\nA: p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS)\nA: munmap(p, 4096, 0)\n', 'examples/typo.scn');
    assert.equal(r.code, 2);
    assert.equal(r.err.join('\n'), block);
  });
});
