// The `gupsim` executable: runs main() on the process's arguments. Kept apart from main.ts so that
// importing the CLI (tests, the README check) never starts it, and so the build can bundle this
// entry into one file (scripts/bundle-cli.mjs): Node then loads one module instead of ~90.
import { EXIT, main } from './main.js';

// `gupsim run x | head`: a closed pipe ends the program quietly, as for any Unix filter.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
}
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, () => {
  process.exitCode = EXIT.internal;
});
