#!/usr/bin/env node
// gupsim: run scenarios, check them (KTAP), explore (maps, pte, repl), and the built-in showcase.
// Exit status: 0 fine, 1 an expectation failed, 2 bad input (scenario or command line), 3 an
// internal error of the model. Never a stack trace (set GUPSIM_DEBUG=1 to see one).
import { Command, CommanderError, Option } from 'commander';
import { Buffer } from 'node:buffer';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILES, isProfileName, type ProfileName } from '../profiles/profile.js';
import { decodePte, pteHex } from '../hw/pte.js';
import {
  InternalError, ScenarioError, allSteps, formatError, isModelOnly, ktap, ktapCase, parseScenario, reportJson, reportText,
  runScript, signature, summarize, tally, withHalt, type KtapCase, type Report, type RunSummary, type Session,
} from '../scenario/index.js';
import { PKRU_PATHS, REVIEW, TODAY, runRow, table, type RowResult } from '../scenario/showcase.js';
import { paintFor, type Painter } from './paint.js';
import { runRepl } from './repl.js';
import { registerServe } from './serve.js';
import { registerOracle } from './oracle.js';

export const EXIT = { ok: 0, failed: 1, input: 2, internal: 3 } as const;

interface Out {
  out(s: string): void;
  err(s: string): void;
  /** Write out whatever out() has gathered. */
  flush?(): void;
}

// stdout lines are gathered and written in large chunks: a write per line was a tenth of the time
// of a 10,000-step run. They are encoded into the chunk at once, not kept as strings, which would
// keep each line's pieces alive until the write. Flushed before any stderr text (so the two
// interleave as they were produced), when a command returns, and when the chunk is full.
const CHUNK = 1 << 16;
let chunk = Buffer.allocUnsafe(CHUNK);
let used = 0;
const stdio: Out = {
  out: (s) => {
    // At most 3 UTF-8 bytes per UTF-16 unit, and the newline.
    if (used + 3 * s.length + 1 > CHUNK) {
      stdio.flush!();
      if (3 * s.length + 1 > CHUNK) {
        process.stdout.write(s + '\n');
        return;
      }
    }
    used += chunk.write(s, used);
    chunk[used++] = 10;
  },
  err: (s) => {
    stdio.flush!();
    process.stderr.write(s + '\n');
  },
  flush: () => {
    if (!used) return;
    const b = chunk.subarray(0, used);
    chunk = Buffer.allocUnsafe(CHUNK); // the stream may still hold `b`
    used = 0;
    process.stdout.write(b);
  },
};

function profileOpt(v: string | undefined): ProfileName | undefined {
  if (v === undefined) return undefined;
  if (!isProfileName(v)) throw new ScenarioError('header', `unknown profile '${v}'`, { line: 0, col: 0 }, `profiles: ${Object.keys(PROFILES).join(', ')}`);
  return v;
}

/** Scenario files: directories are searched for *.scn, in name order. */
export function expandFiles(args: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      out.push(p); // reported when read
      return;
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) {
        const q = join(p, e);
        if (statSync(q).isDirectory()) walk(q);
        else if (e.endsWith('.scn')) out.push(q);
      }
    } else out.push(p);
  };
  for (const a of args) walk(a);
  return out;
}

export interface FileRun {
  file: string;
  source: string;
  /** Every report, unless runFile was told not to keep them. */
  reports: Report[];
  /** Steps and expectations, counted as they ran (kept reports or not). */
  counts: RunSummary;
  session: Session | null;
  error?: { kind: 'input' | 'internal'; text: string; json: Record<string, unknown> };
}

function readSource(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScenarioError('header', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(code)}`, { line: 0, col: 0 });
  }
}

function errorOf(file: string, source: string, e: unknown): FileRun['error'] {
  if (e instanceof ScenarioError) {
    const text = e.pos.line > 0 ? formatError(file, source, e) : `gupsim: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`;
    return { kind: 'input', text, json: { kind: e.kind, file, line: e.pos.line, col: e.pos.col, message: e.message, hint: e.hint ?? null } };
  }
  if (e instanceof InternalError) {
    const text = `${file}:${e.pos.line}: internal error in step ${e.step}: ${e.message}\n` +
      'this is a bug in the gupsim model, not in the scenario' + (process.env.GUPSIM_DEBUG ? `\n${e.causeText}` : ' (GUPSIM_DEBUG=1 shows the stack)');
    return { kind: 'internal', text, json: { kind: 'internal', file, line: e.pos.line, step: e.step, message: e.message } };
  }
  const msg = e instanceof Error ? e.message : String(e);
  return {
    kind: 'internal',
    text: `${file}: internal error: ${msg}${process.env.GUPSIM_DEBUG && e instanceof Error ? `\n${e.stack}` : ''}`,
    json: { kind: 'internal', file, message: msg },
  };
}

const noCounts = (): RunSummary => ({ steps: 0, expectations: 0, passed: 0, failed: 0, skipped: 0 });

/**
 * Load and run one file; reports stream to onReport. Errors are captured, never thrown.
 * keepReports: false leaves run.reports empty (a caller that prints them as they come, so that a
 * long run does not hold them all).
 */
export function runFile(file: string, opts: { trace?: boolean; profile?: ProfileName; onReport?: (r: Report, source: string) => void; keepReports?: boolean }, text?: string): FileRun {
  let source = '';
  const run: FileRun = { file, source, reports: [], counts: noCounts(), session: null };
  const keep = opts.keepReports ?? true;
  try {
    source = text ?? readSource(file);
    run.source = source;
    const script = parseScenario(source, file);
    const res = runScript(script, {
      ...(opts.trace ? { trace: true } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      keepReports: false,
      onReport: (r) => {
        if (keep) run.reports.push(r);
        tally(run.counts, r);
        opts.onReport?.(r, source);
      },
    });
    run.session = res.session;
  } catch (e) {
    run.error = errorOf(file, source, e);
  }
  return run;
}

export function exitFor(runs: FileRun[]): number {
  if (runs.some((r) => r.error?.kind === 'internal')) return EXIT.internal;
  if (runs.some((r) => r.error?.kind === 'input')) return EXIT.input;
  if (runs.some((r) => r.counts.failed > 0)) return EXIT.failed;
  return EXIT.ok;
}

function runJson(r: FileRun): Record<string, unknown> {
  const s = withHalt(r.counts, r.session?.halted ?? null);
  return {
    file: r.file,
    profile: r.session?.headers.profile ?? null,
    modelOnly: r.session?.headers.modelOnly ?? null,
    ok: !r.error && s.failed === 0,
    summary: s,
    error: r.error?.json ?? null,
    steps: r.session ? r.reports.map((x) => reportJson(x, r.session!.symbols)) : [],
  };
}

// --- commands -------------------------------------------------------------------------------

/** `gupsim run` of a text instead of a file (tests, fuzzing): the lines printed and the exit status. */
export function runText(source: string, name = '<input>'): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const paint = paintFor(false);
  const run = runFile(name, { keepReports: false, onReport: (r, src) => out.push(...reportText(name, src, r, { paint })) }, source);
  if (run.error) err.push(...run.error.text.split('\n'));
  return { code: exitFor([run]), out, err };
}

export function cmdRun(files: string[], o: { trace?: boolean; json?: boolean; canonical?: boolean; profile?: string; color?: boolean }, io: Out = stdio): number {
  const profile = profileOpt(o.profile);
  const paint = paintFor(o.color);
  const runs: FileRun[] = [];
  const list = expandFiles(files);
  for (const file of list) {
    if (!o.json && list.length > 1) io.out(paint.dim(`==> ${file} <==`));
    const run = runFile(file, {
      ...(o.trace ? { trace: true } : {}),
      ...(profile ? { profile } : {}),
      keepReports: !!o.json,
      onReport: o.json ? undefined : (r, source) => {
        for (const l of reportText(file, source, r, { trace: !!o.trace, canonical: !!o.canonical, paint })) io.out(l);
      },
    });
    runs.push(run);
    if (!o.json) {
      if (run.error) io.err(paint.fail(run.error.text));
      else {
        const s = withHalt(run.counts, run.session?.halted ?? null);
        const parts = [`${s.steps} steps`, `${s.passed}/${s.expectations - s.skipped} expectations met`];
        if (s.skipped) parts.push(`${s.skipped} not run`);
        if (s.failed) parts.push(paint.fail(`${s.failed} FAILED`));
        if (s.halted) parts.push(`stopped: ${s.halted}`);
        io.out(paint.dim(`# ${file}: ${run.session?.headers.profile}${run.session?.headers.modelOnly ? ', model-only' : ''}: `) + parts.join(', '));
      }
    }
  }
  if (o.json) io.out(JSON.stringify(runs.length === 1 && files.length === 1 && list.length === 1 ? runJson(runs[0]!) : runs.map(runJson), null, 2));
  return exitFor(runs);
}

export function cmdCheck(files: string[], o: { json?: boolean; profile?: string }, io: Out = stdio): number {
  const profile = profileOpt(o.profile);
  const list = expandFiles(files);
  if (list.length === 0) throw new ScenarioError('header', `no scenario files (*.scn) in ${files.join(' ')}`, { line: 0, col: 0 });
  const runs = list.map((f) => runFile(f, profile ? { profile } : {}));
  if (o.json) {
    io.out(JSON.stringify({ ok: exitFor(runs) === 0, files: runs.map(runJson) }, null, 2));
  } else {
    const cases: KtapCase[] = runs.map((r) => {
      if (r.error) return { name: r.file, subtests: [], result: 'error', reason: r.error.kind === 'input' ? 'bad input' : 'internal error', diag: r.error.text.split('\n') };
      return ktapCase(r.file, r.reports, r.session?.halted ?? null);
    });
    io.out(ktap(cases).trimEnd());
  }
  return exitFor(runs);
}

function sessionAfter(file: string | undefined, profile: ProfileName | undefined): { run: FileRun; source: string } {
  const src = file ? undefined : 'task A\n';
  if (!file) {
    const run: FileRun = { file: '<new process>', source: src!, reports: [], counts: noCounts(), session: null };
    try {
      const res = runScript(parseScenario(src!, '<new process>'), profile ? { profile } : {});
      run.session = res.session;
      run.reports = res.reports;
      run.counts = summarize(res.reports, null);
    } catch (e) {
      run.error = errorOf('<new process>', src!, e);
    }
    return { run, source: src! };
  }
  const run = runFile(file, profile ? { profile } : {});
  return { run, source: run.source };
}

export function cmdMaps(file: string | undefined, o: { task?: string; json?: boolean; profile?: string; smaps?: boolean }, io: Out = stdio): number {
  const { run } = sessionAfter(file, profileOpt(o.profile));
  if (run.error) {
    io.err(run.error.text);
    return exitFor([run]);
  }
  const s = run.session!;
  const names = o.task ? [o.task] : [...s.tasks.keys()];
  const out: Record<string, unknown> = {};
  for (const n of names) {
    const e = s.tasks.get(n);
    if (!e) throw new ScenarioError('task', `no task named '${n}' in ${run.file}`, { line: 0, col: 0 }, `tasks: ${[...s.tasks.keys()].join(', ') || 'none'}`);
    const alive = e.thread.alive;
    const text = alive ? (o.smaps ? e.thread.smaps() : e.thread.maps()) : '';
    if (o.json) out[n] = { pid: e.thread.pid, alive, lines: text.split('\n').filter(Boolean) };
    else {
      io.out(`# ${n} (pid ${e.thread.pid})${alive ? '' : ': ' + (e.gone ?? 'gone')}`);
      if (text) io.out(text.trimEnd());
    }
  }
  if (o.json) io.out(JSON.stringify({ file: run.file, tasks: out }, null, 2));
  return EXIT.ok;
}

function parseU64(s: string): bigint | null {
  const t = s.trim().replace(/_/g, '');
  if (!/^(0[xX][0-9a-fA-F]+|\d+)$/.test(t)) return null;
  const v = BigInt(t);
  return v < 1n << 64n ? v : null;
}

export function cmdPte(what: string, o: { task?: string; addr?: string; json?: boolean; profile?: string }, io: Out = stdio): number {
  const v = parseU64(what);
  if (v !== null && o.addr === undefined) {
    const lo = Number(v & 0xffffffffn);
    const hi = Number(v >> 32n);
    const fields = {
      value: pteHex(lo, hi), decoded: decodePte(lo, hi), present: (lo & 1) === 1, writable: (lo & 2) !== 0, user: (lo & 4) !== 0,
      accessed: (lo & 0x20) !== 0, dirty: (lo & 0x40) !== 0, pkey: (hi >>> 27) & 0xf, nx: (hi >>> 31) === 1,
      pfn: '0x' + ((v >> 12n) & 0xffffffffffn).toString(16),
    };
    if (o.json) io.out(JSON.stringify(fields, null, 2));
    else {
      io.out(`${fields.value}: ${fields.decoded}`);
      io.out(`  present=${+fields.present} writable=${+fields.writable} user=${+fields.user} accessed=${+fields.accessed} dirty=${+fields.dirty} pkey=${fields.pkey} nx=${+fields.nx} pfn=${fields.pfn}`);
    }
    return EXIT.ok;
  }
  if (v !== null) throw new ScenarioError('header', 'gupsim pte FILE --addr EXPR walks an address; gupsim pte VALUE decodes an entry', { line: 0, col: 0 });
  if (o.addr === undefined) throw new ScenarioError('header', `'${what}' is not a PTE value; to walk an address give a scenario and --addr`, { line: 0, col: 0 }, 'gupsim pte 0x8000000000000867   or   gupsim pte examples/pkeys-basics.scn --task A --addr p');
  const { run } = sessionAfter(what, profileOpt(o.profile));
  if (run.error) {
    io.err(run.error.text);
    return exitFor([run]);
  }
  const s = run.session!;
  const task = o.task ?? [...s.tasks.keys()][0];
  if (!task) throw new ScenarioError('task', `${what} has no task`, { line: 0, col: 0 });
  const line = `${task}: pte(${o.addr})`;
  const src = run.source + (run.source.endsWith('\n') ? '' : '\n') + line + '\n';
  const st = parseScenario(src, what).stmts.at(-1)!;
  let r: Report | null;
  try {
    r = s.exec(st);
  } catch (e) {
    const err = errorOf('--addr', src, e)!;
    io.err(err.text);
    return err.kind === 'input' ? EXIT.input : EXIT.internal;
  }
  if (!r || r.kind === 'task') return EXIT.ok;
  if (o.json) io.out(JSON.stringify(reportJson(r, s.symbols), null, 2));
  else {
    io.out(`# ${task}: walk of ${o.addr} = ${(r.outcome.info.pte as string | undefined) ?? 'no PTE'}`);
    io.out((r.outcome.text ?? '').trimEnd());
  }
  return EXIT.ok;
}

export function cmdSteps(o: { json?: boolean }, io: Out = stdio): number {
  const steps = allSteps().sort((a, b) => a.name.localeCompare(b.name));
  if (o.json) {
    io.out(JSON.stringify(steps.map((d) => ({ name: d.name, signature: signature(d), kind: d.kind, modelOnly: isModelOnly(d), implemented: !!d.run, doc: d.doc })), null, 2));
  } else {
    for (const d of steps) io.out(`${signature(d).padEnd(58)} ${d.kind}${isModelOnly(d) ? ', model-only' : ''}${d.run ? '' : ', not yet modelled'}\n    ${d.doc}`);
  }
  return EXIT.ok;
}

export function showcaseResults(): { today: RowResult[]; paths: RowResult[]; review: RowResult[] } {
  return { today: TODAY.map(runRow), paths: PKRU_PATHS.map(runRow), review: REVIEW.map(runRow) };
}

export function cmdDemo(o: { json?: boolean; color?: boolean; verbose?: boolean }, io: Out = stdio): number {
  const res = showcaseResults();
  const all = [...res.today, ...res.paths, ...res.review];
  if (o.json) {
    const j = (r: RowResult): Record<string, unknown> => ({ id: r.row.id, title: r.row.title, pkru: r.row.pkru ?? null, basis: r.row.basis, status: r.status, result: r.result, detail: r.detail });
    io.out(JSON.stringify({ today: res.today.map(j), pkruPaths: res.paths.map(j), review: res.review.map(j) }, null, 2));
  } else {
    const paint = paintFor(o.color);
    const st = (r: RowResult): string => (r.status === 'shown' ? paint.ok(r.status) : r.status === 'pending' ? paint.dim(`pending: ${r.result}`) : paint.fail(r.status));
    const tbl = (head: string[], rows: string[][]): void => {
      for (const l of table(head, rows, 70)) io.out(l);
    };
    io.out(paint.bold('gupsim: how Linux lets the kernel touch process memory, executable'));
    io.out('');
    io.out(paint.bold('What the model shows today'));
    tbl(['behaviour', 'outcome on the model', 'status', 'basis'], res.today.map((r) => [r.row.title, r.result, st(r), r.row.basis]));
    io.out('');
    io.out(paint.bold('Which kernel paths consult PKRU (each row is a scenario run on the model)'));
    tbl(['path', 'whose PKRU decides', 'outcome (key denies access)', 'status'], res.paths.map((r) => [r.row.title, r.row.pkru ?? '', r.result, st(r)]));
    io.out('');
    io.out(paint.bold('The review of "mm, gup: introduce concept of foreign get_user_pages()" (Jan 2016), replayed'));
    tbl(['finding', 'profile', 'outcome', 'status'], res.review.map((r) => [r.row.title, r.row.pkru ?? '', r.result, st(r)]));
    const bad = all.filter((r) => r.status === 'MODEL DISAGREES' || r.status === 'error');
    for (const r of bad) io.out(paint.fail(`${r.row.id}: ${r.status}: ${r.detail.join('; ') || r.result}`));
    io.out('');
    io.out(paint.dim('Each row is a scenario with expectations from the kernel (conformance catalogue, real 6.1/6.12 runs, SEMANTICS.md).'));
    io.out(paint.dim('Try: gupsim run --trace examples/process-vm-readv-bypass.scn    gupsim check examples/    gupsim repl'));
  }
  return all.some((r) => r.status === 'error') ? EXIT.internal : all.some((r) => r.status === 'MODEL DISAGREES') ? EXIT.failed : EXIT.ok;
}

// --- program ------------------------------------------------------------------------------

interface State {
  code: number;
}

export function buildProgram(io: Out = stdio, state: State = { code: EXIT.ok }): Command {
  const guarded = (_io: Out, fn: () => number | Promise<number>) => async (): Promise<void> => {
    try {
      state.code = await fn();
    } catch (e) {
      const err = errorOf('gupsim', '', e)!;
      io.err(err.text);
      state.code = err.kind === 'input' ? EXIT.input : EXIT.internal;
    }
    io.flush?.();
  };
  const program = new Command('gupsim');
  // Before the subcommands are created, so they inherit it: commander throws instead of exiting.
  program.exitOverride();
  program
    .description('An executable model of how Linux lets the kernel touch process memory: x86-64 paging, protection keys, faults, COW and get_user_pages()')
    .version('0.1.0')
    .showHelpAfterError('(gupsim --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  const profile = new Option('--profile <name>', `kernel profile, overrides the scenario header (${Object.keys(PROFILES).join(', ')})`);
  const color = new Option('--color', 'color output (default: when stdout is a terminal)');
  const noColor = new Option('--no-color', 'no color');

  program.command('run').description('run scenarios, printing an strace-like line per step')
    .argument('<files...>', 'scenario files or directories of *.scn')
    .option('--trace', 'show the kernel path of each step (function_graph style), the decisive check marked')
    .option('--canonical', 'also print each step\'s canonical line (what the real-kernel oracle diffs)')
    .option('--json', 'machine-readable results')
    .addOption(profile).addOption(color).addOption(noColor)
    .action((files: string[], o: { trace?: boolean; json?: boolean; canonical?: boolean; profile?: string; color?: boolean }) => guarded(io, () => cmdRun(files, o, io))());

  program.command('check').description('run the expectations of scenarios and report KTAP (exit 1 if one fails)')
    .argument('<files...>', 'scenario files or directories of *.scn')
    .option('--json', 'machine-readable results')
    .addOption(profile)
    .action((files: string[], o: { json?: boolean; profile?: string }) => guarded(io, () => cmdCheck(files, o, io))());

  program.command('maps').description('/proc/PID/maps of each task at the end of a scenario (default: a fresh process)')
    .argument('[file]', 'scenario file')
    .option('--task <name>', 'only this task')
    .option('--smaps', 'smaps instead of maps')
    .option('--json', 'machine-readable output')
    .addOption(profile)
    .action((file: string | undefined, o: { task?: string; json?: boolean; profile?: string; smaps?: boolean }) => guarded(io, () => cmdMaps(file, o, io))());

  program.command('pte').description('decode a page-table entry value, or walk an address at the end of a scenario')
    .argument('<value-or-file>', 'a 64-bit PTE value (0x...), or a scenario file with --addr')
    .option('--addr <expr>', 'the address to walk: an expression over the scenario\'s variables (e.g. p+0x1000)')
    .option('--task <name>', 'whose page tables (default: the first task)')
    .option('--json', 'machine-readable output')
    .addOption(profile)
    .action((what: string, o: { task?: string; addr?: string; json?: boolean; profile?: string }) => guarded(io, () => cmdPte(what, o, io))());

  program.command('repl').description('an interactive session: type steps, see results (history, tab completion)')
    .option('--trace', 'start with tracing on')
    .addOption(profile)
    .action((o: { trace?: boolean; profile?: string }) => guarded(io, () => runRepl({ trace: !!o.trace, profile: profileOpt(o.profile) }))());

  program.command('demo').alias('showcase').description('the built-in showcase: what the model shows, which kernel paths consult PKRU, the 2016 review replayed')
    .option('--json', 'machine-readable results')
    .addOption(color).addOption(noColor)
    .action((o: { json?: boolean; color?: boolean }) => guarded(io, () => cmdDemo(o, io))());

  program.command('steps').description('every step a scenario can use, with its arguments')
    .option('--json', 'machine-readable list')
    .action((o: { json?: boolean }) => guarded(io, () => cmdSteps(o, io))());

  registerServe(program, (code) => (state.code = code));
  registerOracle(program);
  return program;
}

export async function main(argv: string[], io: Out = stdio): Promise<number> {
  const state: State = { code: EXIT.ok };
  const program = buildProgram(io, state);
  // `serve` reports a failure to start through process.exitCode: take it as this run's status.
  const outer = process.exitCode;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.input;
    }
    io.err(`gupsim: internal error: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.internal;
  } finally {
    io.flush?.();
  }
  const served = process.exitCode;
  if (served !== outer) {
    process.exitCode = outer;
    if (typeof served === 'number' && served !== 0) return state.code || served;
  }
  return state.code;
}

export type { Painter };
