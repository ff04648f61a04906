/**
 * The real-kernel oracle for scenarios: export each scenario to C (src/scenario/export_c.ts), run
 * all of them in one boot per kernel (qemu.ts), run the model under the matching profile, and diff
 * the canonical lines field by field. Also reads and writes the recorded kernel outcomes
 * (conformance/oracle/<kernel>/<scenario path>.out) and KNOWN-DIVERGENCES.md.
 *
 * Node only.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportC, NotExportable } from '../src/scenario/export_c.js';
import { ScenarioError, InternalError } from '../src/scenario/errors.js';
import { runSource } from '../src/scenario/run.js';
import { diffCanonical, parseCanonicalLine } from '../src/scenario/outcome.js';
import type { ProfileName } from '../src/profiles/profile.js';
import { buildGupModule } from './module.js';
import { KERNELS, runOnKernel, type GuestRun, type KernelSeries, type RunOptions } from './qemu.js';

export { KERNELS, type KernelSeries };

/** The model profile that stands for each oracle kernel. */
export const PROFILE_OF: Record<KernelSeries, ProfileName> = { '6.1': 'linux-6.1', '6.12': 'linux-6.12' };

/** The repository root (the directory holding package.json above this file). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'oracle'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

/** Where scenario runs are recorded, and what the oracle runs by default. */
export const RECORD_DIR = 'conformance/oracle';
export const SCENARIO_DIRS = ['examples', 'conformance/scenarios'];
export const DIVERGENCES_FILE = 'KNOWN-DIVERGENCES.md';

export interface StepDiff {
  step: number;
  /** `A store (line 12)` */
  where: string;
  field: string;
  model?: string;
  kernel?: string;
}

export interface ScenarioResult {
  /** Path relative to the repository root (or as given). */
  file: string;
  kernel: KernelSeries;
  profile: ProfileName;
  status: 'agree' | 'diverge' | 'not-exportable' | 'model-error' | 'kernel-error';
  /** Why it was not run or failed. */
  reason?: string;
  modelLines: string[];
  kernelLines: string[];
  diffs: StepDiff[];
  bootArgs: string[];
  /** sha256 (16 hex) of what the exported program does (ExportResult.behaviour); '' if not exportable */
  fingerprint: string;
  elapsedMs?: number | null;
}

export interface OracleRun {
  results: ScenarioResult[];
  /** Per kernel: the run's identity and timing. */
  kernels: { kernel: KernelSeries; packageName: string; packageVersion: string; kernelRelease: string; seconds: number; boots: number; failedBoots: number; compileSeconds: number; programs: number }[];
}

/** Scenario files: directories are searched for *.scn (recursively, in name order). */
export async function scenarioFiles(args: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const st = await fs.stat(p);
    if (st.isDirectory()) {
      for (const e of (await fs.readdir(p)).sort()) {
        const q = path.join(p, e);
        if ((await fs.stat(q)).isDirectory()) await walk(q);
        else if (e.endsWith('.scn')) out.push(q);
      }
    } else out.push(p);
  };
  for (const a of args) await walk(a);
  return out;
}

export function behaviourHash(behaviour: string): string {
  return createHash('sha256').update(behaviour).digest('hex').slice(0, 16);
}

/** The fingerprint of a scenario as exported for a kernel, or null if it cannot be exported. */
export function scenarioFingerprint(source: string, file: string, kernel: KernelSeries): string | null {
  try {
    return behaviourHash(exportC(source, rel(file), { profile: PROFILE_OF[kernel], kernelModule: 'assume' }).behaviour);
  } catch (e) {
    if (e instanceof NotExportable || e instanceof ScenarioError) return null;
    throw e;
  }
}

/** The model's canonical lines under a profile (throws ScenarioError / InternalError). */
export function modelLines(source: string, file: string, profile: ProfileName): string[] {
  const r = runSource(source, file, { profile });
  const out: string[] = [];
  for (const rep of r.reports) if (rep.kind === 'step') out.push(rep.canonical);
  return out;
}

/** Field-by-field differences between the model's and the kernel's canonical lines. */
export function diffLines(model: string[], kernel: string[]): StepDiff[] {
  const byStep = (lines: string[]): Map<number, string> => {
    const m = new Map<number, string>();
    for (const l of lines) {
      const c = parseCanonicalLine(l);
      if (c) m.set(c.step, l);
    }
    return m;
  };
  const ms = byStep(model);
  const ks = byStep(kernel);
  const diffs: StepDiff[] = [];
  const steps = [...new Set([...ms.keys(), ...ks.keys()])].sort((a, b) => a - b);
  for (const step of steps) {
    const a = ms.get(step);
    const b = ks.get(step);
    const pa = a ? parseCanonicalLine(a) : null;
    const pb = b ? parseCanonicalLine(b) : null;
    const where = pa ? `${pa.task} ${pa.name}` : pb ? `${pb.task} ${pb.name}` : '?';
    if (!pa || !pb) {
      diffs.push({ step, where, field: 'line', model: a ?? '(none)', kernel: b ?? '(none)' });
      continue;
    }
    for (const d of diffCanonical(pa, pb)) {
      const e: StepDiff = { step, where, field: d.field };
      if (d.model !== undefined) e.model = d.model;
      if (d.kernel !== undefined) e.kernel = d.kernel;
      diffs.push(e);
    }
  }
  return diffs;
}

export function formatDiff(r: ScenarioResult, d: StepDiff): string {
  return `${r.file} [${r.kernel}] step ${d.step} (${d.where}): ${d.field}: model ${d.model ?? '(absent)'}, kernel ${d.kernel ?? '(absent)'}`;
}

interface Prepared {
  file: string;
  source: string;
  c: string | null;
  bootArgs: string[];
  fingerprint: string;
  reason?: string;
}

function rel(file: string): string {
  const r = path.relative(repoRoot(), path.resolve(file));
  return r.startsWith('..') ? file : r.split(path.sep).join('/');
}

/** The guest program's name: unique, printable, no tabs. */
function programName(file: string): string {
  return rel(file).replace(/[^A-Za-z0-9_./+-]/g, '_');
}

/**
 * Run scenarios on real kernels and compare each with the model. Scenarios that user space cannot
 * express are reported as not-exportable (and not run).
 */
export async function runScenarios(files: string[], kernels: readonly KernelSeries[], opts: RunOptions = {}): Promise<OracleRun> {
  const sources = await Promise.all(files.map(async (f) => ({ file: f, source: await fs.readFile(f, 'utf8') })));
  const log = opts.log ?? ((): void => undefined);
  const runs = await Promise.all(kernels.map(async (kernel) => {
    const profile = PROFILE_OF[kernel];
    // The test module, built only when some scenario has kernel-context steps.
    const needsModule = sources.some(({ file, source }) => {
      try {
        return exportC(source, rel(file), { profile, kernelModule: 'assume' }).usesModule;
      } catch {
        return false;
      }
    });
    let kernelModule: Uint8Array | undefined;
    if (needsModule) {
      try {
        kernelModule = await buildGupModule(kernel, log);
      } catch (e) {
        log(`[${kernel}] no test module, kernel-context steps are not run: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    const prepared: Prepared[] = sources.map(({ file, source }) => {
      try {
        const x = exportC(source, rel(file), kernelModule ? { profile, kernelModule } : { profile });
        return { file, source, c: x.c, bootArgs: x.bootArgs, fingerprint: behaviourHash(x.behaviour) };
      } catch (e) {
        if (e instanceof NotExportable || e instanceof ScenarioError) {
          return { file, source, c: null, bootArgs: [], fingerprint: '', reason: `${e.message} (line ${e.pos.line})` };
        }
        throw e;
      }
    });
    // One boot per distinct kernel command line (normally one).
    const groups = new Map<string, Prepared[]>();
    for (const p of prepared) {
      if (p.c === null) continue;
      const k = p.bootArgs.join(' ');
      groups.set(k, [...(groups.get(k) ?? []), p]);
    }
    const outputs = new Map<string, GuestRun['outputs'] extends Map<string, infer O> ? O : never>();
    const info: OracleRun['kernels'][number] = { kernel, packageName: '', packageVersion: '', kernelRelease: '', seconds: 0, boots: 0, failedBoots: 0, compileSeconds: 0, programs: 0 };
    for (const [append, group] of groups) {
      // A fresh ext4 disk per boot for the scenarios' files (the model's files are disk files).
      const o: RunOptions = { ...opts, timeoutSeconds: opts.timeoutSeconds ?? 30, diskMiB: opts.diskMiB ?? 64 };
      if (append) o.extraAppend = [opts.extraAppend ?? '', append].join(' ').trim();
      const run = await runOnKernel(kernel, group.map((p) => ({ name: programName(p.file), cSource: p.c! })), o);
      for (const [n, out] of run.outputs) outputs.set(n, out);
      Object.assign(info, { packageName: run.packageName, packageVersion: run.packageVersion, kernelRelease: run.kernelRelease });
      info.seconds += run.bootSeconds;
      info.boots += run.attempts;
      info.failedBoots += run.failedBoots;
      info.compileSeconds += run.compileSeconds;
      info.programs += group.length;
    }
    const results: ScenarioResult[] = prepared.map((p) => {
      const base = { file: rel(p.file), kernel, profile, modelLines: [] as string[], kernelLines: [] as string[], diffs: [] as StepDiff[], bootArgs: p.bootArgs, fingerprint: p.fingerprint };
      if (p.c === null) return { ...base, status: 'not-exportable', reason: p.reason! };
      const out = outputs.get(programName(p.file));
      const kernelLines = (out?.lines ?? []).filter((l) => l.startsWith('STEP '));
      const complete = (out?.lines ?? []).some((l) => l.startsWith('# gupsim-oracle end'));
      let model: string[];
      try {
        model = modelLines(p.source, rel(p.file), profile);
      } catch (e) {
        if (e instanceof ScenarioError || e instanceof InternalError) {
          return { ...base, kernelLines, status: 'model-error', reason: e.message };
        }
        throw e;
      }
      const diffs = diffLines(model, kernelLines);
      const r: ScenarioResult = { ...base, modelLines: model, kernelLines, diffs, status: diffs.length ? 'diverge' : 'agree', elapsedMs: out?.elapsedMs ?? null };
      if (!complete) {
        r.status = 'kernel-error';
        const tail = (out?.lines ?? []).filter((l) => !l.startsWith('STEP ')).slice(-3).join(' | ');
        r.reason = `the program did not finish (exit ${out?.exitStatus ?? '?'}, signal ${out?.signal ?? '-'}${out?.timedOut ? ', timed out' : ''})${tail ? `: ${tail}` : ''}`;
      }
      return r;
    });
    return { results, info };
  }));
  return { results: runs.flatMap((r) => r.results), kernels: runs.map((r) => r.info) };
}

// ---------------------------------------------------------------- recordings

export interface Recording {
  file: string;
  kernel: KernelSeries;
  /** `linux-image-... 6.12.95-1~bpo12+1` etc. from the header */
  header: Record<string, string>;
  lines: string[];
}

export function recordingPath(file: string, kernel: KernelSeries): string {
  return path.join(repoRoot(), RECORD_DIR, kernel, rel(file).replace(/\.scn$/, '') + '.out');
}

export function formatRecording(r: ScenarioResult, run: OracleRun['kernels'][number]): string {
  const head = [
    '# gupsim real-kernel oracle: the kernel\'s canonical lines for one scenario (npm run test:oracle -- --update rewrites this file)',
    `# scenario: ${r.file}`,
    `# behaviour-sha256: ${r.fingerprint}`,
    `# kernel: ${run.kernel}`,
    `# package: ${run.packageName} ${run.packageVersion}`,
    `# release: ${run.kernelRelease}`,
    `# boot: ${r.bootArgs.length ? r.bootArgs.join(' ') : 'default'}`,
    `# qemu: -cpu max,-cx16 (TCG)`,
  ];
  return head.join('\n') + '\n' + r.kernelLines.join('\n') + '\n';
}

export function parseRecording(text: string, kernel: KernelSeries): Recording {
  const header: Record<string, string> = {};
  const lines: string[] = [];
  for (const l of text.split('\n')) {
    const m = /^# ([a-z0-9-]+): (.*)$/.exec(l);
    if (m) header[m[1]!] = m[2]!;
    else if (l.startsWith('STEP ')) lines.push(l);
  }
  return { file: header['scenario'] ?? '', kernel, header, lines };
}

export function readRecording(file: string, kernel: KernelSeries): Recording | null {
  const p = recordingPath(file, kernel);
  if (!existsSync(p)) return null;
  return parseRecording(readFileSync(p, 'utf8'), kernel);
}

export async function writeRecording(r: ScenarioResult, run: OracleRun['kernels'][number]): Promise<string> {
  const p = recordingPath(r.file, r.kernel);
  await fs.mkdir(path.dirname(p), { recursive: true });
  await fs.writeFile(p, formatRecording(r, run));
  return p;
}

/** Every recording under conformance/oracle/. */
export async function allRecordings(): Promise<Recording[]> {
  const out: Recording[] = [];
  for (const kernel of KERNELS) {
    const dir = path.join(repoRoot(), RECORD_DIR, kernel);
    if (!existsSync(dir)) continue;
    const walk = async (d: string): Promise<void> => {
      for (const e of (await fs.readdir(d)).sort()) {
        const q = path.join(d, e);
        if ((await fs.stat(q)).isDirectory()) await walk(q);
        else if (e.endsWith('.out')) out.push(parseRecording(await fs.readFile(q, 'utf8'), kernel));
      }
    };
    await walk(dir);
  }
  return out;
}

// ---------------------------------------------------------------- KNOWN-DIVERGENCES.md

export interface KnownDivergence {
  file: string;
  kernel: KernelSeries;
  step: number;
  field: string;
  model: string;
  kernelValue: string;
  reason: string;
  issue: string;
}

/**
 * The table rows of KNOWN-DIVERGENCES.md:
 * | scenario | kernel | step | field | model | kernel value | reason | fixed by |
 */
export function parseKnownDivergences(text: string): KnownDivergence[] {
  const out: KnownDivergence[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim().replace(/^`|`$/g, ''));
    if (cells.length < 8 || cells[0] === 'scenario' || /^-+$/.test(cells[0]!)) continue;
    const kernel = cells[1] as KernelSeries;
    if (!KERNELS.includes(kernel)) continue;
    out.push({ file: cells[0]!, kernel, step: Number(cells[2]), field: cells[3]!, model: cells[4]!, kernelValue: cells[5]!, reason: cells[6]!, issue: cells[7]! });
  }
  return out;
}

export function readKnownDivergences(): KnownDivergence[] {
  const p = path.join(repoRoot(), DIVERGENCES_FILE);
  return existsSync(p) ? parseKnownDivergences(readFileSync(p, 'utf8')) : [];
}

export function isKnown(known: KnownDivergence[], file: string, kernel: KernelSeries, d: StepDiff): boolean {
  return known.some((k) => k.file === file && k.kernel === kernel && k.step === d.step && k.field === d.field);
}
