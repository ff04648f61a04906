// Time travel over a scenario run. The scenario runs forward on one live model (a Session of the
// interpreter, with tracing on); after every step the visible machine state is frozen in a
// snapshot, so any earlier step is shown again without re-running anything. Step N's state is the
// machine right after step N ran; step 0 is the state after the header and leading task lines.
//
// Replay from the start reaches the same states (the model is deterministic): see replayTo(),
// which the tests use to check the snapshots against a fresh run.
import type { Expr, Script, StepStmt } from '../../../src/scenario/ast.js';
import { ScenarioError, InternalError, type Pos } from '../../../src/scenario/errors.js';
import { Session, type ExpectResult, type Report, type StepReport } from '../../../src/scenario/interp.js';
import { loadScenario } from '../../../src/scenario/run.js';
import { lookupStep, paramsOf } from '../../../src/scenario/registry.js';
import type { Task } from '../../../src/kernel/task.js';
import { captureMachine, type MachineSnap } from './snapshot.js';

export interface Focus {
  tgid: number;
  addr: number;
}

export interface StepRecord {
  /** 1-based step number; 0 for the initial state. */
  no: number;
  report: StepReport | null;
  /** The step's own expectations and those of `expect` lines right after it. */
  expects: ExpectResult[];
  snap: MachineSnap;
  /** The address (and whose) the step is about, for the page walk. */
  focus: Focus | null;
}

export interface RunError {
  kind: string;
  message: string;
  pos: Pos;
  hint?: string;
  /** The step that failed (0: before any step). */
  step: number;
}

function stepReport(r: Report | null): StepReport | null {
  return r && r.kind !== 'task' ? r : null;
}

const EMPTY: MachineSnap = { procs: [], tables: new Map(), pages: new Map(), kernelRefs: new Map(), usedFrames: 0 };

export class Timeline {
  readonly records: StepRecord[] = [];
  /** Number of step statements in the script. */
  readonly total: number;
  /** Why the run stopped early (a runtime scenario error or a model exception), if it did. */
  error: RunError | null = null;
  private readonly session: Session;
  private pc = 0;

  /** Parse and check the whole scenario first (throws ScenarioError), then run up to step 0. */
  constructor(readonly source: string, readonly file = 'scenario') {
    const script: Script = loadScenario(source, file);
    this.script = script;
    this.total = script.stmts.filter((s) => s.k === 'step').length;
    this.session = new Session(script.source, script.file, { trace: true });
    this.guard(0, () => this.runUntilStep());
    this.records.push({ no: 0, report: null, expects: [], snap: this.capture(null), focus: null });
  }

  private readonly script: Script;

  /** Steps executed so far. */
  get executed(): number {
    return this.records.length - 1;
  }

  get done(): boolean {
    return this.error !== null || this.session.halted !== null || this.pc >= this.script.stmts.length;
  }

  /** Every step statement of the script: its line and source text. */
  get steps(): { line: number; text: string }[] {
    return this.script.stmts.filter((s): s is StepStmt => s.k === 'step').map((s) => ({ line: s.pos.line, text: s.text }));
  }

  get profile(): string {
    return this.session.headers.profile;
  }

  get title(): string | undefined {
    return this.session.headers.title;
  }

  /** Run the next step (and the expect lines after it). False when there is none. */
  advance(): boolean {
    if (this.done) return false;
    const no = this.executed + 1;
    let report: StepReport | null = null;
    let focus: Focus | null = null;
    const expects: ExpectResult[] = [];
    const ok = this.guard(no, () => {
      const st = this.script.stmts[this.pc]!;
      if (st.k !== 'step') throw new Error('timeline out of step with the script');
      const pre = this.preFocus(st);
      report = stepReport(this.session.exec(st));
      this.pc++;
      if (report) focus = this.focusOf(st, report, pre);
      while (this.pc < this.script.stmts.length && this.script.stmts[this.pc]!.k === 'expect') {
        const r = stepReport(this.session.exec(this.script.stmts[this.pc]!));
        this.pc++;
        if (r) expects.push(...r.expects);
      }
      this.runUntilStep();
    });
    if (!report) {
      if (!ok) this.pc = this.script.stmts.length;
      return false;
    }
    const rep: StepReport = report;
    this.records.push({ no, report: rep, expects: [...rep.expects, ...expects], snap: this.capture(this.records[this.records.length - 1]!.snap), focus });
    return true;
  }

  /** Run forward until step n has run (or the scenario ends). */
  runTo(n: number): void {
    while (this.executed < n && this.advance());
  }

  runAll(): void {
    while (this.advance());
  }

  /** Execute non-step statements (task declarations, stray expects) up to the next step. */
  private runUntilStep(): void {
    while (this.pc < this.script.stmts.length && this.script.stmts[this.pc]!.k !== 'step') {
      this.session.exec(this.script.stmts[this.pc]!);
      this.pc++;
    }
  }

  private guard(step: number, fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (e) {
      if (e instanceof ScenarioError) {
        this.error = { kind: e.kind, message: e.message, pos: e.pos, step, ...(e.hint ? { hint: e.hint } : {}) };
      } else if (e instanceof InternalError) {
        this.error = { kind: 'internal', message: `model exception: ${e.message}`, pos: e.pos, step };
      } else {
        const line = this.script.stmts[this.pc]?.pos.line ?? 1;
        this.error = { kind: 'internal', message: `model exception: ${e instanceof Error ? e.message : String(e)}`, pos: { line, col: 1 }, step };
      }
      return false;
    }
  }

  private labelOf = (t: Task): string | undefined => {
    if (t.kthread) return t.comm;
    for (const [name, e] of this.session.tasks) if (e.thread.tgid === t.tgid && e.thread.task.group === t.group) return name;
    return undefined;
  };

  private capture(prev: MachineSnap | null): MachineSnap {
    const sim = this.session.sim;
    return sim ? captureMachine(sim.m, this.labelOf, prev) : EMPTY;
  }

  /** Before the step runs: the address argument and the task whose memory it names. */
  private preFocus(st: StepStmt): { addr: number | null; target: string | null } {
    const def = lookupStep(st.name);
    if (!def) return { addr: null, target: null };
    const params = paramsOf(def, this.session.headers.profile);
    let addr: number | null = null;
    let iovAddr: number | null = null;
    let target: string | null = null;
    const userAddr = (e: Expr): number | null => {
      const v = this.session.evalExpr(e);
      return v.t === 'int' && v.v > 0n && v.v < 2n ** 47n ? Number(v.v) : null;
    };
    st.args.forEach((a, i) => {
      const q = a.name ? params.find((x) => x.name === a.name) : params[i];
      if (!q) return;
      try {
        if ((q.kind === 'mm' || q.kind === 'pid' || q.kind === 'task') && target === null && a.value.k === 'name') target = a.value.name;
        else if (q.kind === 'addr' && addr === null) addr = userAddr(a.value);
        else if (q.kind === 'iovec' && a.value.k === 'bytes' && (iovAddr === null || q.name.startsWith('remote'))) {
          // {base, len} or {{base, len}, ...}: the first base; the remote side wins.
          const first = a.value.items[0];
          const base = first?.k === 'bytes' ? first.items[0] : first;
          if (base) iovAddr = userAddr(base) ?? iovAddr;
        }
      } catch {
        // not evaluable before the step: no focus from it
      }
    });
    addr ??= iovAddr;
    return { addr, target };
  }

  private focusOf(st: StepStmt, r: StepReport, pre: { addr: number | null; target: string | null }): Focus | null {
    const o = r.outcome;
    const task = (name: string | null): number | null => {
      if (!name) return null;
      const e = this.session.tasks.get(name);
      return e ? e.thread.tgid : null;
    };
    const tgid = task(pre.target) ?? (o.pid !== null ? (this.session.sim?.m.tasks.get(o.pid)?.tgid ?? null) : task(st.prefix?.name ?? null));
    if (tgid === null) return null;
    const sig = o.signals.find((s) => s.addr !== undefined && s.addr > 0n);
    if (sig?.addr !== undefined && sig.addr < 2n ** 47n) return { tgid, addr: Number(sig.addr) };
    if (pre.addr !== null) return { tgid, addr: pre.addr };
    if (o.retKind === 'addr' && !o.errno && o.ret !== undefined && o.ret > 0n && o.ret < 2n ** 47n) return { tgid, addr: Number(o.ret) };
    return null;
  }
}

/** A fresh run up to step n: the machine state the snapshots claim (for checks). */
export function replayTo(source: string, n: number): Timeline {
  const t = new Timeline(source);
  t.runTo(n);
  return t;
}
