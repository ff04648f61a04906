/**
 * `npm run test:oracle [-- --update] [-- --kernel 6.1|6.12] [files...]`: re-run every scenario of
 * examples/ and conformance/scenarios/ on the real kernels (QEMU) and check that the recorded
 * truth (conformance/oracle/<kernel>/...) still holds. With --update, (re)write the recordings.
 * Also reports model-vs-kernel divergences that KNOWN-DIVERGENCES.md does not list.
 *
 * Exit status: 0 all recordings confirmed (or written); 1 a recording differs from the kernel, is
 * missing or stale, or an unlisted divergence; 3 the oracle itself failed.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseCanonicalLine } from '../src/scenario/outcome.js';
import {
  KERNELS, SCENARIO_DIRS, allRecordings, diffLines, formatDiff, isKnown, readKnownDivergences, readRecording, recordingPath, repoRoot,
  runScenarios, scenarioFiles, writeRecording, type KernelSeries,
} from './scenarios.js';

async function main(argv: string[]): Promise<number> {
  const update = argv.includes('--update');
  const kernels: KernelSeries[] = [];
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--update') continue;
    if (a === '--kernel') {
      const k = argv[++i] as KernelSeries;
      if (!KERNELS.includes(k)) {
        process.stderr.write(`unknown kernel ${k}\n`);
        return 2;
      }
      kernels.push(k);
    } else files.push(a);
  }
  const root = repoRoot();
  process.chdir(root);
  const list = await scenarioFiles(files.length ? files : SCENARIO_DIRS);
  const t0 = Date.now();
  let run;
  try {
    run = await runScenarios(list, kernels.length ? kernels : KERNELS, { log: (m) => process.stderr.write(`test:oracle: ${m}\n`) });
  } catch (e) {
    process.stderr.write(`test:oracle: the oracle failed: ${(e as Error).message}\n`);
    return 3;
  }
  const wall = (Date.now() - t0) / 1000;
  const known = readKnownDivergences();
  let bad = 0;
  const say = (s: string): void => {
    process.stdout.write(s + '\n');
  };
  for (const r of run.results) {
    if (r.status === 'not-exportable') continue;
    if (r.status === 'kernel-error' || r.status === 'model-error') {
      say(`FAIL ${r.kernel} ${r.file}: ${r.status}: ${r.reason ?? ''}`);
      bad++;
      continue;
    }
    const rec = readRecording(r.file, r.kernel);
    if (update) {
      await writeRecording(r, run.kernels.find((k) => k.kernel === r.kernel)!);
      const changed = !rec || rec.lines.join('\n') !== r.kernelLines.join('\n') || rec.header['behaviour-sha256'] !== r.fingerprint;
      say(`${changed ? 'wrote' : 'same '} ${path.relative(root, recordingPath(r.file, r.kernel))}`);
    } else if (!rec) {
      say(`FAIL ${r.kernel} ${r.file}: no recording (npm run test:oracle -- --update writes it)`);
      bad++;
    } else {
      if (rec.header['behaviour-sha256'] !== r.fingerprint) {
        say(`FAIL ${r.kernel} ${r.file}: the recording is stale (the scenario changed); --update rewrites it`);
        bad++;
      }
      const diffs = diffLines(rec.lines, r.kernelLines);
      for (const d of diffs) {
        say(`FAIL ${r.kernel} ${r.file} step ${d.step} (${d.where}): ${d.field}: recorded ${d.model ?? '(absent)'}, kernel now ${d.kernel ?? '(absent)'}`);
      }
      if (diffs.length) bad++;
      const pkg = run.kernels.find((k) => k.kernel === r.kernel)!;
      if (rec.header['package'] !== `${pkg.packageName} ${pkg.packageVersion}`) {
        say(`note ${r.kernel} ${r.file}: recorded with ${rec.header['package']}, now ${pkg.packageName} ${pkg.packageVersion}`);
      }
    }
    for (const d of r.diffs) {
      if (isKnown(known, r.file, r.kernel, d)) continue;
      say(`DIVERGES ${formatDiff(r, d)}`);
      bad++;
    }
  }
  if (!update) {
    // Recordings of scenarios that no longer exist or are no longer exportable.
    const ran = new Set(run.results.filter((r) => r.status !== 'not-exportable').map((r) => `${r.kernel}:${r.file}`));
    const selected = new Set(run.results.map((r) => `${r.kernel}:${r.file}`));
    for (const rec of await allRecordings()) {
      const key = `${rec.kernel}:${rec.file}`;
      if (selected.has(key) && !ran.has(key)) {
        say(`FAIL ${rec.kernel} ${rec.file}: recorded, but the scenario is no longer exportable`);
        bad++;
      }
      if (!files.length && !selected.has(key)) {
        let exists = true;
        try {
          readFileSync(path.join(root, rec.file));
        } catch {
          exists = false;
        }
        if (!exists) say(`note ${rec.kernel} ${rec.file}: a recording without a scenario (delete it)`);
      }
    }
  }
  const steps = (k: KernelSeries): number => run.results.filter((r) => r.kernel === k).reduce((n, r) => n + r.kernelLines.filter((l) => parseCanonicalLine(l)).length, 0);
  for (const k of run.kernels) {
    const n = run.results.filter((r) => r.kernel === k.kernel && r.status !== 'not-exportable').length;
    say(`# ${k.kernel}: ${k.packageName} ${k.packageVersion}: ${n} scenarios, ${steps(k.kernel)} steps, ${k.boots} boot(s) ` +
      `(${k.failedBoots} failed), ${k.seconds.toFixed(1)} s in QEMU, ${k.compileSeconds.toFixed(1)} s compiling`);
  }
  say(`# test:oracle: ${bad ? `${bad} problem(s)` : 'all recordings hold'}; ${wall.toFixed(1)} s wall`);
  return bad ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (e: unknown) => {
  process.stderr.write(`test:oracle: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 3;
});
