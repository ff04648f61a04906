// After `tsc`: bundle the CLI (dist/src/cli/bin.js and everything it imports, chevrotain and
// commander included) into one ES module, dist/gupsim.js, with esbuild. Node then reads and compiles
// one file instead of resolving and loading ~90 modules, which is most of `gupsim run`'s start-up
// on this machine (issue 5: a small scenario must start and finish in under 300 ms).
/* global console, process */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
try {
  await build({
    entryPoints: [join(root, 'dist/src/cli/bin.js')],
    outfile: join(root, 'dist/gupsim.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    // commander is CommonJS and require()s Node built-ins; an ES module bundle needs a real require.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as gupsimRequire } from 'node:module';\nconst require = gupsimRequire(import.meta.url);" },
  });
} catch (e) {
  console.error(`bundle-cli: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
