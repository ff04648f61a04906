// `gupsim export-c FILE` and `gupsim oracle [--kernel 6.1|6.12] FILE...`: the real-kernel oracle
// (oracle/README.md). export-c prints the C program a scenario becomes; oracle boots Debian's 6.1
// and 6.12 kernels under QEMU (installing what is missing), runs every scenario in one boot per
// kernel and diffs each step's canonical line with the model's, field by field.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { exportC, NotExportable, type ExportOptions } from '../scenario/export_c.js';
import { ScenarioError, formatError } from '../scenario/errors.js';
import { isProfileName } from '../profiles/profile.js';
import {
  KERNELS, SCENARIO_DIRS, formatDiff, isKnown, readKnownDivergences, runScenarios, scenarioFiles, writeRecording,
  type KernelSeries, type OracleRun,
} from '../../oracle/scenarios.js';

function out(s: string): void {
  process.stdout.write(s + '\n');
}
function err(s: string): void {
  process.stderr.write(s + '\n');
}

/** The body of `gupsim export-c`. Exit status: 0, or 2 for a scenario user space cannot run. */
export function cmdExportC(file: string, o: { output?: string; profile?: string; module?: string }): number {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    err(`gupsim export-c: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    return 2;
  }
  if (o.profile !== undefined && !isProfileName(o.profile)) {
    err(`gupsim export-c: unknown profile '${o.profile}'`);
    return 2;
  }
  const opts: ExportOptions = {};
  if (o.profile) opts.profile = o.profile;
  if (o.module) {
    try {
      opts.kernelModule = new Uint8Array(readFileSync(o.module));
    } catch (e) {
      err(`gupsim export-c: cannot read ${o.module}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      return 2;
    }
  }
  try {
    const r = exportC(source, file, opts);
    if (o.output) writeFileSync(o.output, r.c);
    else process.stdout.write(r.c);
    if (r.bootArgs.length) err(`gupsim export-c: boot the kernel with: ${r.bootArgs.join(' ')}`);
    return 0;
  } catch (e) {
    if (e instanceof NotExportable) {
      err(`${file}:${e.pos.line}:${e.pos.col}: not exportable: ${e.message}`);
      return 2;
    }
    if (e instanceof ScenarioError) {
      err(formatError(file, source, e));
      return 2;
    }
    throw e;
  }
}

export interface OracleOptions {
  kernel?: string[];
  update?: boolean;
  json?: boolean;
  verbose?: boolean;
  timeout?: string;
}

/** The body of `gupsim oracle`. Exit status: 0 all agree (or listed), 1 divergences, 2 bad input, 3 oracle failure. */
export async function cmdOracle(files: string[], o: OracleOptions): Promise<number> {
  const kernels: KernelSeries[] = [];
  for (const k of o.kernel && o.kernel.length ? o.kernel : [...KERNELS]) {
    if (k === 'all') kernels.push(...KERNELS);
    else if ((KERNELS as readonly string[]).includes(k)) kernels.push(k as KernelSeries);
    else {
      err(`gupsim oracle: unknown kernel '${k}' (${KERNELS.join(', ')})`);
      return 2;
    }
  }
  let list: string[];
  try {
    list = await scenarioFiles(files.length ? files : SCENARIO_DIRS);
  } catch (e) {
    err(`gupsim oracle: ${(e as Error).message}`);
    return 2;
  }
  const t0 = Date.now();
  let run: OracleRun;
  try {
    const opts: { log: (m: string) => void; timeoutSeconds?: number } = { log: (m) => err(`gupsim oracle: ${m}`) };
    if (o.timeout) opts.timeoutSeconds = Number(o.timeout);
    run = await runScenarios(list, [...new Set(kernels)], opts);
  } catch (e) {
    err(`gupsim oracle: ${(e as Error).message}`);
    return 3;
  }
  const wall = (Date.now() - t0) / 1000;
  const known = readKnownDivergences();
  if (o.update) {
    for (const r of run.results) {
      if (r.status !== 'agree' && r.status !== 'diverge') continue;
      await writeRecording(r, run.kernels.find((x) => x.kernel === r.kernel)!);
    }
  }
  if (o.json) {
    out(JSON.stringify({ wallSeconds: wall, ...run }, null, 2));
  } else {
    for (const r of run.results) {
      const unknown = r.diffs.filter((d) => !isKnown(known, r.file, r.kernel, d));
      const tag = r.status === 'diverge' && unknown.length === 0 ? 'known divergence' : r.status;
      out(`${tag.padEnd(16)} ${r.kernel.padEnd(4)} ${r.file}${r.reason ? `: ${r.reason}` : ''}`);
      for (const d of r.diffs) out(`    ${isKnown(known, r.file, r.kernel, d) ? '(known) ' : ''}${formatDiff(r, d)}`);
      if (o.verbose && r.kernelLines.length) for (const l of r.kernelLines) out(`      kernel: ${l}`);
    }
    for (const k of run.kernels) {
      out(`# ${k.kernel}: ${k.packageName} ${k.packageVersion} (${k.kernelRelease}): ${k.programs} scenario(s), ${k.boots} boot(s) (${k.failedBoots} failed) in ${k.seconds.toFixed(1)} s, compile ${k.compileSeconds.toFixed(1)} s`);
    }
    const count = (s: string): number => run.results.filter((r) => r.status === s).length;
    out(`# ${run.results.length} runs: ${count('agree')} agree, ${count('diverge')} diverge, ${count('not-exportable')} not exportable, ` +
      `${count('model-error')} model errors, ${count('kernel-error')} kernel errors; ${wall.toFixed(1)} s wall`);
  }
  const bad = run.results.some((r) => r.status === 'model-error' || r.status === 'kernel-error' ||
    r.diffs.some((d) => !isKnown(known, r.file, r.kernel, d)));
  return bad ? 1 : 0;
}

/** Register `export-c` and `oracle` on the gupsim program. */
export function registerOracle(program: Command): Command {
  program.command('export-c')
    .description('turn a scenario into a C program that performs its steps on a real kernel and prints the canonical lines')
    .argument('<file>', 'scenario file')
    .option('-o, --output <file>', 'write the C program here instead of stdout')
    .option('--profile <name>', 'check the scenario under this profile')
    .option('--module <file.ko>', 'the oracle\'s test module built for the target kernel (makes kernel-context steps exportable)')
    .action((file: string, o: { output?: string; profile?: string; module?: string }) => {
      const code = cmdExportC(file, o);
      if (code !== 0) process.exitCode = code;
    });
  program.command('oracle')
    .description('run scenarios on real Linux 6.1 and 6.12 (QEMU) and diff each step with the model (default: examples/ and conformance/scenarios/)')
    .argument('[files...]', 'scenario files or directories of *.scn')
    .option('--kernel <series>', 'kernel to boot: 6.1, 6.12 or all (repeatable; default all)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--update', 'write the kernel\'s lines as the recorded truth (conformance/oracle/<kernel>/...)')
    .option('--timeout <seconds>', 'per-scenario timeout in the guest (default 30)')
    .option('--verbose', 'also print every kernel line')
    .option('--json', 'machine-readable results')
    .action(async (files: string[], o: OracleOptions) => {
      const code = await cmdOracle(files, o);
      if (code !== 0) process.exitCode = code;
    });
  return program;
}
