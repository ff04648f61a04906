// Views of a run: strace-style text, KTAP (the kernel selftests' format) and JSON. Pure functions
// over reports, so the CLI and the web page show the same thing.
import type { Report, StepReport } from './interp.js';
import { outcomeToJson, type SymbolTable } from './outcome.js';
import { renderTrace, NO_PAINT, type Paint } from './trace_render.js';
import { formatError, type Pos } from './errors.js';

export interface TextOptions {
  trace?: boolean;
  paint?: Paint & { fail(s: string): string; ok(s: string): string };
  /** Print the canonical line under each step. */
  canonical?: boolean;
}

const PLAIN = { ...NO_PAINT, fail: (s: string) => s, ok: (s: string) => s };

/** The lines one report prints as: the strace line, signals, output, trace tree, failed expectations. */
export function reportText(file: string, source: string, r: Report, opts: TextOptions = {}): string[] {
  const paint = opts.paint ?? PLAIN;
  if (r.kind === 'task') return [paint.dim(`# task ${r.name}: pid ${r.pid}`)];
  const out: string[] = [];
  if (r.kind === 'step') {
    out.push(`${r.prefix} ${r.line}`);
    if (opts.trace && r.events.length) out.push(...renderTrace(r.events, r.outcome, '        | ', paint));
    out.push(...r.extra);
    if (opts.canonical) out.push(paint.dim(`        ${r.canonical}`));
  }
  for (const e of r.expects) {
    if (e.ok || e.skipped) continue;
    out.push(...expectFailure(file, source, e.pos, e.src, e.expected, e.actual).map(paint.fail));
  }
  return out;
}

export function expectFailure(file: string, source: string, pos: Pos, src: string, expected: string, actual: string): string[] {
  const head = formatError(file, source, { message: `expect failed: ${src}`, pos }, 'FAIL').split('\n');
  return [...head, `    expected: ${expected}`, `    actual:   ${actual}`];
}

export interface RunSummary {
  steps: number;
  expectations: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Why the run stopped early (a step that is not yet modelled). */
  halted?: string;
}

export function summarize(reports: Report[], halted: { line: number; what: string } | null): RunSummary {
  const s: RunSummary = { steps: 0, expectations: 0, passed: 0, failed: 0, skipped: 0 };
  for (const r of reports) tally(s, r);
  return withHalt(s, halted);
}

/** A summary from counts (tally()) and why the run stopped early, if it did. */
export function withHalt(counts: RunSummary, halted: { line: number; what: string } | null): RunSummary {
  const s = { ...counts };
  if (halted) s.halted = `${halted.what} is not yet modelled (line ${halted.line})`;
  return s;
}

/** Count one report into a summary (summarize() without keeping the reports). */
export function tally(s: RunSummary, r: Report): void {
  if (r.kind === 'task') return;
  if (r.kind === 'step') s.steps++;
  for (const e of r.expects) {
    s.expectations++;
    if (e.skipped) s.skipped++;
    else if (e.ok) s.passed++;
    else s.failed++;
  }
}

export function reportJson(r: Report, syms: SymbolTable): Record<string, unknown> {
  if (r.kind === 'task') return { kind: 'task', name: r.name, pid: r.pid, line: r.line };
  const step = r as StepReport;
  return {
    kind: step.kind,
    ...(step.kind === 'step' ? { outcome: outcomeToJson(step.outcome, syms), strace: `${step.prefix} ${step.line}`, extra: step.extra } : { step: step.outcome.step }),
    line: step.pos.line,
    source: step.src,
    expects: step.expects.map((e) => ({ ok: e.ok, skipped: e.skipped, expect: e.src, line: e.pos.line, col: e.pos.col, expected: e.expected, actual: e.actual })),
    ...(step.events.length ? { trace: step.events } : {}),
  };
}

// --- KTAP ---------------------------------------------------------------------------------

export interface KtapCase {
  name: string;
  /** Subtests: one per expectation. */
  subtests: { ok: boolean; skip?: string; name: string; diag: string[] }[];
  /** Overall result: pass, fail, skip (with reason) or error (bad input, internal error). */
  result: 'pass' | 'fail' | 'skip' | 'error';
  reason?: string;
  diag: string[];
}

const clean = (s: string): string => s.replace(/#/g, '%23').replace(/\s+/g, ' ').trim();

/** KTAP version 1: nested subtests indented by two spaces, SKIP directives, kselftest totals. */
export function ktap(cases: KtapCase[]): string {
  const out = ['KTAP version 1', `1..${cases.length}`];
  const totals = { pass: 0, fail: 0, skip: 0, error: 0 };
  cases.forEach((c, i) => {
    if (c.subtests.length) {
      out.push('  KTAP version 1', `  1..${c.subtests.length}`);
      c.subtests.forEach((t, j) => {
        for (const d of t.diag) out.push(`  # ${d}`);
        out.push(`  ${t.ok || t.skip ? 'ok' : 'not ok'} ${j + 1} ${clean(t.name)}${t.skip ? ` # SKIP ${clean(t.skip)}` : ''}`);
      });
    }
    for (const d of c.diag) out.push(`# ${d}`);
    const okWord = c.result === 'pass' || c.result === 'skip' ? 'ok' : 'not ok';
    const directive = c.result === 'skip' ? ` # SKIP ${clean(c.reason ?? '')}` : c.result === 'error' ? ` # ERROR ${clean(c.reason ?? '')}` : '';
    out.push(`${okWord} ${i + 1} ${clean(c.name)}${directive}`);
    totals[c.result]++;
  });
  out.push(`# Totals: pass:${totals.pass} fail:${totals.fail} xfail:0 xpass:0 skip:${totals.skip} error:${totals.error}`);
  return out.join('\n') + '\n';
}

/** A KTAP case from a finished run. */
export function ktapCase(name: string, reports: Report[], halted: { line: number; what: string } | null): KtapCase {
  const subtests: KtapCase['subtests'] = [];
  for (const r of reports) {
    if (r.kind === 'task') continue;
    for (const e of r.expects) {
      const t: KtapCase['subtests'][number] = { ok: e.ok, name: `line ${e.pos.line} ${r.outcome.name}: ${e.src}`, diag: [] };
      if (e.skipped) t.skip = halted ? `not yet modelled: ${halted.what}` : 'not run';
      if (!e.ok && !e.skipped) t.diag.push(`expected: ${e.expected}`, `actual: ${e.actual}`);
      subtests.push(t);
    }
  }
  const failed = subtests.some((t) => !t.ok && !t.skip);
  if (failed) return { name, subtests, result: 'fail', diag: [] };
  if (halted) return { name, subtests, result: 'skip', reason: `not yet modelled: ${halted.what} (line ${halted.line})`, diag: [] };
  return { name, subtests, result: 'pass', diag: [] };
}
