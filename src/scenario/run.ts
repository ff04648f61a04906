// Whole-scenario runs: parse, check every statement, then execute them in order.
import type { Script } from './ast.js';
import { checkAll, Session, type Report } from './interp.js';
import type { ProfileName } from '../profiles/profile.js';
import { parseScenario } from './parser.js';

export interface RunOptions {
  trace?: boolean;
  /** Override the scenario's profile header. */
  profile?: ProfileName;
  /** Called with each report as soon as its step has run (for streaming output). */
  onReport?: (r: Report) => void;
  /**
   * Keep every report in RunResult.reports (default true). A caller that streams them through
   * onReport can say false: a long run then holds no report it has already handled.
   */
  keepReports?: boolean;
}

export interface RunResult {
  session: Session;
  reports: Report[];
}

/** Parse and statically check a scenario (throws ScenarioError). */
export function loadScenario(source: string, file: string, profile?: ProfileName): Script {
  const script = parseScenario(source, file);
  checkAll(script, profile);
  return script;
}

/**
 * Run a script: every statement is checked first (bad input fails before anything runs), then run.
 * Throws ScenarioError for bad input, InternalError for model bugs.
 */
export function runScript(script: Script, opts: RunOptions = {}): RunResult {
  const session = new Session(script.source, script.file, opts.profile ? { trace: opts.trace ?? false, profile: opts.profile } : { trace: opts.trace ?? false });
  const checked = script.stmts.map((st) => session.checker.check(st));
  const reports: Report[] = [];
  const keep = opts.keepReports ?? true;
  for (const c of checked) {
    const r = session.execChecked(c);
    if (r) {
      if (keep) reports.push(r);
      opts.onReport?.(r);
    }
  }
  return { session, reports };
}

/** Parse, check and run. */
export function runSource(source: string, file = '<input>', opts: RunOptions = {}): RunResult {
  return runScript(parseScenario(source, file), opts);
}
