// The README's library example runs as printed: imports resolve, and the values its comments
// state (the key number, SEGV_PKUERR, the remote read of a denied page, a consistent machine) hold.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

test('README library example', () => {
  const block = /```ts\n(import \{ Sim[\s\S]*?)```/.exec(readFileSync('README.md', 'utf8'))![1]!;
  const src = block
    .replace("from 'gupsim'", `from '${resolve('src/index.ts')}'`)
    .replace(/^a\.load\(p\)\.signals\[0\]\?\.info;/m, 'const sig = a.load(p).signals[0]?.info;')
    .replace(/^a\.process_vm_readv\((.*)\);/m, 'const got = a.process_vm_readv($1);')
    .replace(/^sim\.check\(\);/m, 'const errs = sim.check();')
    + '\nconsole.log(JSON.stringify({ k, code: sig?.code, pkey: sig?.pkey, got, errs }));\n';
  const file = join(mkdtempSync(join(tmpdir(), 'gupsim-readme-')), 'example.ts');
  writeFileSync(file, src);
  const out = execFileSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8' });
  // pkey_alloc returns the lowest free key (1); SEGV_PKUERR is 4; process_vm_readv is remote (PK-RMT-02).
  assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), { k: 1, code: 4, pkey: 1, got: 1, errs: [] });
});
