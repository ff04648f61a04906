// After `tsc`: point dist/src/scenario/chevrotain.js at chevrotain's prebuilt single-file bundle
// (lib/chevrotain.mjs of the installed package), copied next to it. Start-up of the CLI drops by
// ~0.8 s because Node no longer loads chevrotain's and lodash-es's hundreds of modules one by one.
/* global console */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/src/scenario');
const req = createRequire(join(root, 'package.json'));
// Resolve the package directory through its package.json (the entry is not needed).
let pkgDir = null;
for (const p of req.resolve.paths('chevrotain') ?? []) {
  if (existsSync(join(p, 'chevrotain/package.json'))) {
    pkgDir = join(p, 'chevrotain');
    break;
  }
}
const bundle = pkgDir && join(pkgDir, 'lib/chevrotain.mjs');
if (!bundle || !existsSync(bundle) || !existsSync(join(out, 'chevrotain.js'))) {
  console.error('bundle-chevrotain: bundle or dist/src/scenario/chevrotain.js not found; keeping the package import');
} else {
  const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
  copyFileSync(bundle, join(out, 'chevrotain.bundle.mjs'));
  writeFileSync(join(out, 'chevrotain.js'), `// chevrotain ${version}, its own single-file bundle (see src/scenario/chevrotain.ts).\nexport * from './chevrotain.bundle.mjs';\n`);
}
