// Running a scenario on the model: a Session holds the machine, the tasks and the variables, and
// executes checked statements one at a time (the REPL feeds it line by line; `run` feeds a file).
// Each step yields an Outcome, its canonical line, its strace-style lines, its trace events and
// the results of its expectations. Nothing here prints.
import { Sim, Thread } from '../api.js';
import { FdTable } from '../kernel/fs.js';
import { TEXT_BASE, TEXT_FUNC_OFFSET } from '../kernel/exec.js';
import { Task, ThreadGroup } from '../kernel/task.js';
import { signalLog, type SignalDelivery } from '../kernel/signal.js';
import type { Machine } from '../kernel/machine.js';
import type { TraceEvent } from '../trace/trace.js';
import type { ProfileName } from '../profiles/profile.js';
import type { Expr, Script } from './ast.js';
import { Checker, applyBin, applyUnary, checkRange, srcOf, type Checked, type CheckedStep, type Headers, type Pred } from './check.js';
import { CONSTANTS, errnoName, errnoNumber, signalNumber } from './constants.js';
import { InternalError, ScenarioError, type Pos } from './errors.js';
import {
  SymbolTable, canonicalLine, dataField, hex, type FieldValue, type Outcome, type RetKind,
} from './outcome.js';
import {
  HANDLERS,
  type Args, type HandlerName, type ParamDef, type PrintCtx, type RunCtx, type StepResult, type TaskRef, type Value,
} from './registry.js';
import { formatArg, formatRet, quoteBytes, sigOut, signalLine } from './strace.js';
import './steps/index.js';

export interface ExpectResult {
  ok: boolean;
  skipped: boolean;
  /** The expectation as written. */
  src: string;
  pos: Pos;
  /** What was expected, with values filled in, and what happened. */
  expected: string;
  actual: string;
}

export interface StepReport {
  /** A step, or an `expect` line checked against the step before it. */
  kind: 'step' | 'expect';
  outcome: Outcome;
  /** `[pid 102]`, `[kworker]`, `[setup]`. */
  prefix: string;
  /** The strace-style line (without the prefix). */
  line: string;
  /** Lines after it: signals, exits, output text. */
  extra: string[];
  events: TraceEvent[];
  expects: ExpectResult[];
  canonical: string;
  pos: Pos;
  src: string;
}

export interface SessionOptions {
  trace?: boolean;
  /** Run under this profile whatever the scenario's header says. */
  profile?: ProfileName;
}

/** A task declared with `task NAME`. */
export interface TaskReport {
  kind: 'task';
  name: string;
  pid: number;
  line: number;
}

export type Report = StepReport | TaskReport;

interface TaskEntry {
  name: string;
  thread: Thread;
  gone?: string;
}

const O_RDWR = 2, O_CREAT = 0o100;
const NO_EVENTS: TraceEvent[] = [];
const NO_SIGNALS: readonly SignalDelivery[] = [];
const FAULT_LOOP = /^fault loop at/;

/** The state of a running scenario. */
export class Session {
  readonly checker: Checker;
  sim: Sim | null = null;
  readonly symbols = new SymbolTable();
  readonly tasks = new Map<string, TaskEntry>();
  readonly vars = new Map<string, Value>();
  private readonly kthreads = new Map<string, Task>();
  private stepNo = 0;
  private last: { step: CheckedStep; outcome: Outcome } | null = null;
  /** Set once a step could not run (not yet modelled): later steps are not run. */
  halted: { step: number; line: number; what: string } | null = null;
  trace: boolean;

  constructor(public source: string, readonly file: string, opts: SessionOptions = {}) {
    this.checker = new Checker(source, opts.profile);
    this.trace = opts.trace ?? false;
  }

  /** The REPL grows the source line by line; positions refer to it. */
  setSource(source: string): void {
    this.source = source;
    this.checker.setSource(source);
  }

  get headers(): Headers {
    return this.checker.headers;
  }

  get steps(): number {
    return this.stepNo;
  }

  private machine(): Sim {
    if (!this.sim) {
      const h = this.headers;
      this.sim = new Sim({ profile: h.profile, ramBytes: h.ramBytes, pku: h.pku });
      const text = BigInt(TEXT_BASE);
      this.symbols.define('TEXT', text, BigInt(2 * 4096));
    }
    return this.sim;
  }

  /** Check and run one statement. Returns a report for steps, expect lines and tasks; null for headers. */
  exec(stmt: Script['stmts'][number]): Report | null {
    return this.execChecked(this.checker.check(stmt));
  }

  /** Run a statement this session's checker has already checked (see runScript). */
  execChecked(c: Checked): Report | null {
    switch (c.k) {
      case 'header':
        return null;
      case 'task': {
        const t = this.spawn(c.name, c.uid);
        return { kind: 'task', name: c.name, pid: t.pid, line: c.pos.line };
      }
      case 'expect': {
        if (!this.last || this.last.step !== c.step) return null;
        if (this.halted) return null;
        const res = c.preds.map((p) => this.evalPred(p, this.last!.step, this.last!.outcome));
        return { ...this.reportShell(this.last.outcome), kind: 'expect', expects: res, pos: c.pos, src: srcOf(this.source, c.pos) };
      }
      case 'step':
        if (this.halted) return null;
        return this.runStep(c.step);
    }
  }

  private reportShell(o: Outcome): StepReport {
    return { kind: 'expect', outcome: o, prefix: '', line: '', extra: [], events: [], expects: [], canonical: canonicalLine(o, this.symbols), pos: { line: o.line, col: 1 }, src: '' };
  }

  private spawn(name: string, uidExpr?: Expr): Thread {
    const sim = this.machine();
    const t = sim.spawn();
    // Every process starts with stdin, stdout and stderr open, so its first open() returns 3.
    for (let i = 0; i < 3; i++) t.open('/dev/console', O_RDWR | O_CREAT, 0o620);
    if (uidExpr) t.task.uid = Number(this.evalInt(uidExpr));
    this.tasks.set(name, { name, thread: t });
    return t;
  }

  private kernelTask(kind: string): Task {
    const m = this.machine().m;
    let t = this.kthreads.get(kind);
    if (!t) {
      const g = new ThreadGroup(m.allocPid(), new FdTable(), null);
      t = new Task(g.tgid, g, null, m.profile.initPkru, kind === 'kworker' ? 'kworker/0:1' : 'kthread', true);
      g.threads.push(t);
      m.tasks.set(t.pid, t);
      this.kthreads.set(kind, t);
    }
    return t;
  }

  taskRef(name: string, pos: Pos): TaskRef {
    const e = this.tasks.get(name);
    if (!e) {
      const v = this.vars.get(name);
      throw new ScenarioError('task', `'${name}' is not a running task${v?.t === 'int' ? ` (its creation failed: ${v.v})` : ''}`, pos);
    }
    if (!e.thread.alive) {
      throw new ScenarioError('task', `task ${name} is gone (${e.gone ?? 'exited'})`, pos, 'a step cannot run in a task that has exited or was killed');
    }
    return { name, thread: e.thread, task: e.thread.task };
  }

  nameOfPid(pid: number): string {
    for (const [n, e] of this.tasks) if (e.thread.pid === pid) return n;
    return String(pid);
  }

  // --- expressions --------------------------------------------------------------------------

  evalExpr(e: Expr): Value {
    switch (e.k) {
      case 'num':
        return { t: 'int', v: checkRange(e.v, e.pos) };
      case 'str':
        return { t: 'bytes', v: e.v };
      case 'bytes': {
        const out = new Uint8Array(e.items.length);
        e.items.forEach((i, n) => {
          const v = this.evalInt(i);
          if (v < 0n || v > 255n) throw new ScenarioError('range', `byte value ${v} is not in 0..255`, i.pos);
          out[n] = Number(v);
        });
        return { t: 'bytes', v: out };
      }
      case 'name': {
        const v = this.vars.get(e.name);
        if (v) return v;
        if (this.tasks.has(e.name)) return { t: 'task', name: e.name };
        if (e.name === 'TEXT') return { t: 'int', v: BigInt(TEXT_BASE) };
        if (e.name === 'TEXT_FUNC') return { t: 'int', v: BigInt(TEXT_BASE + TEXT_FUNC_OFFSET) };
        const c = CONSTANTS.get(e.name);
        if (c !== undefined) return { t: 'int', v: c };
        if ((HANDLERS as readonly string[]).includes(e.name)) return { t: 'handler', v: e.name as HandlerName };
        throw new ScenarioError('name', `undefined name '${e.name}'`, e.pos);
      }
      case 'index': {
        const b = this.evalExpr(e.base);
        const i = this.evalInt(e.index);
        if (b.t !== 'fds') throw new ScenarioError('type', 'only pipe() results can be indexed', e.pos);
        if (i !== 0n && i !== 1n) throw new ScenarioError('range', `index ${i} out of range: fds[0] or fds[1]`, e.index.pos);
        return { t: 'int', v: b.v[Number(i)]! };
      }
      case 'unary':
        return { t: 'int', v: applyUnary(e.op, this.evalInt(e.e), e.pos) };
      case 'bin':
        return { t: 'int', v: applyBin(e.op, this.evalInt(e.l), this.evalInt(e.r), e.pos) };
      case 'call':
      case 'sig':
        throw new ScenarioError('syntax', 'not a value', e.pos);
    }
  }

  evalInt(e: Expr): bigint {
    const v = this.evalExpr(e);
    if (v.t !== 'int') throw new ScenarioError('type', `a number is needed here, not ${v.t === 'task' ? 'a task (the variable was bound by fork/clone)' : v.t}`, e.pos);
    return v.v;
  }

  private convert(q: ParamDef, v: Value, pos: Pos): Value {
    if (v.t !== 'int') return v;
    const x = v.v;
    switch (q.kind) {
      case 'addr':
      case 'ulong':
        return { t: 'int', v: BigInt.asUintN(64, checkRange(x, pos)) };
      case 'long':
        return { t: 'int', v: BigInt.asIntN(64, checkRange(x, pos)) };
      case 'int':
      case 'uint':
        if (x < -(1n << 31n) || x >= 1n << 32n) {
          throw new ScenarioError('range', `argument '${q.name}' does not fit in a 32-bit ${q.kind === 'int' ? 'int' : 'unsigned int'}: ${x}`, pos, 'use a value between -2147483648 and 4294967295');
        }
        return { t: 'int', v: q.kind === 'int' ? BigInt.asIntN(32, x) : BigInt.asUintN(32, x) };
      default:
        return v;
    }
  }

  private iovValue(e: Expr): Value {
    if (e.k !== 'bytes') throw new ScenarioError('type', 'an iovec is {base, len}', e.pos);
    if (e.items.every((i) => i.k === 'bytes')) {
      const out: { base: bigint; len: bigint }[] = [];
      for (const i of e.items) {
        const v = this.iovValue(i);
        if (v.t === 'iov') out.push(...v.v);
      }
      return { t: 'iov', v: out };
    }
    const [b, l] = e.items.map((i) => BigInt.asUintN(64, checkRange(this.evalInt(i), i.pos)));
    return { t: 'iov', v: [{ base: b!, len: l! }] };
  }

  private makeArgs(step: CheckedStep): Args {
    const params = step.params;
    const vals: Value[] = new Array<Value>(params.length);
    for (let i = 0; i < params.length; i++) {
      const q = params[i]!;
      const e = step.args[i];
      vals[i] = !e ? q.default! : q.kind === 'iovec' ? this.iovValue(e) : this.convert(q, this.evalExpr(e), e.pos);
    }
    return new StepArgs(this, step, vals);
  }

  // --- steps --------------------------------------------------------------------------------

  // runStep() and its parts are kept small: V8 optimizes a function only after a number of calls
  // that grows with its size, and until then a long scenario runs it at baseline speed.
  private runStep(step: CheckedStep): StepReport {
    const sim = this.machine();
    const st = step.stmt;
    const no = ++this.stepNo;
    const who = this.whoRuns(step, sim.m);
    const args = this.makeArgs(step);
    const before = this.faultCounts();
    const logBefore = this.signalLogLengths();
    const res = this.invoke(step, no, new StepCtx(this, sim, who.thread, who.current, step), args);
    const tr = sim.m.trace;
    const events = tr.on ? tr.take() : NO_EVENTS;
    tr.on = false;
    const sigs = this.deliveries(who.thread, res, logBefore);
    const outcome = this.outcomeOf(no, step, who.thread, res, before, sigs.delivered);
    if (res.notModelled) this.halted = { step: no, line: st.pos.line, what: res.notModelled };
    this.bind(step, outcome, res);
    this.noteDeaths(outcome);
    const lines = this.render(step, outcome, res, args, who.thread);
    for (const l of sigs.elsewhere) lines.extra.push(l);
    const expects = this.expectsOf(step, outcome);
    this.last = { step, outcome };
    return { kind: 'step', outcome, prefix: who.prefix, line: lines.line, extra: lines.extra, events, expects, canonical: canonicalLine(outcome, this.symbols), pos: st.pos, src: st.text };
  }

  /** The thread a step runs in (null for kernel threads and machine steps), `current`, and the line prefix. */
  private whoRuns(step: CheckedStep, m: Machine): { thread: Thread | null; current: Task; prefix: string } {
    const st = step.stmt;
    if (step.who.kind === 'task') {
      const ref = this.taskRef(step.who.name, st.prefix?.pos ?? st.pos);
      return { thread: ref.thread, current: ref.task, prefix: `[pid ${ref.thread.pid}]` };
    }
    if (step.who.kind === 'machine') return { thread: null, current: m.init, prefix: '[setup]' };
    const current = this.kernelTask(step.who.kind);
    return { thread: null, current, prefix: `[${current.comm}]` };
  }

  /** The length of each task's signal log. */
  private signalLogLengths(): Map<TaskEntry, number> {
    const lens = new Map<TaskEntry, number>();
    for (const e of this.tasks.values()) lens.set(e, signalLog(e.thread.task).length);
    return lens;
  }

  /** Run the step's model code, traced if tracing is on; model failures become scenario or internal errors. */
  private invoke(step: CheckedStep, no: number, ctx: StepCtx, args: Args): StepResult {
    const def = step.def;
    const tr = ctx.m.trace;
    tr.on = this.trace;
    if (tr.events.length) tr.take();
    try {
      if (!def.run) return { notModelled: def.name };
      if (tr.on) this.traceEnter(step, ctx.current, args);
      const res = def.run(ctx, args);
      if (tr.on && def.kind !== 'user') {
        const ret = res.notModelled ? 'not modelled' : res.ret === undefined ? undefined : def.result === 'addr' && BigInt(res.ret) >= 0n ? hex(res.ret) : String(res.ret);
        tr.exit(def.kfn ?? def.name, ret);
      }
      return res;
    } catch (e) {
      tr.on = false;
      tr.take();
      if (e instanceof ScenarioError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      if (FAULT_LOOP.test(msg)) {
        throw new ScenarioError('runtime', `the access faults again and again (${msg}): the signal handler returns without fixing the cause`,
          step.stmt.pos, "a real program would loop forever here; use the 'skip' handler, or 'retry' with frame_pkru=... that allows the access");
      }
      throw new InternalError(msg, step.stmt.pos, no, e instanceof Error ? (e.stack ?? msg) : msg);
    }
  }

  /**
   * Signals of the step: every delivery to the step's thread during it (faults, tgkill, SIGILL ...),
   * as its signal log records them (queued, blocked signals show when they are delivered), and
   * the lines of those that reached other threads (tgkill to a sibling, a forced kill).
   */
  private deliveries(thread: Thread | null, res: StepResult, logBefore: Map<TaskEntry, number>): { delivered: readonly SignalDelivery[]; elsewhere: string[] } {
    const fresh = (e: TaskEntry): readonly SignalDelivery[] => {
      const log = signalLog(e.thread.task);
      const from = logBefore.get(e) ?? 0;
      return log.length > from ? log.slice(from).filter((d) => d.outcome !== 'queued') : NO_SIGNALS;
    };
    let own: TaskEntry | undefined;
    if (thread) {
      for (const e of this.tasks.values()) {
        if (e.thread === thread) {
          own = e;
          break;
        }
      }
    }
    const delivered = own ? fresh(own) : (res.access?.signals ?? res.signals ?? []);
    const elsewhere: string[] = [];
    for (const e of this.tasks.values()) {
      if (e === own || !logBefore.has(e)) continue;
      for (const d of fresh(e)) {
        elsewhere.push(`[pid ${e.thread.pid}] ${signalLine(sigOut(d.info, (pid) => this.nameOfPid(pid)))}`);
        if (d.killed) elsewhere.push(`[pid ${e.thread.pid}] +++ killed by ${sigOut(d.info).sig} +++`);
      }
    }
    return { delivered, elsewhere };
  }

  private expectsOf(step: CheckedStep, outcome: Outcome): ExpectResult[] {
    const out: ExpectResult[] = [];
    for (const p of step.preds) out.push(this.halted ? skippedExpect(p) : this.evalPred(p, step, outcome));
    return out;
  }

  private traceEnter(step: CheckedStep, current: Task, args: Args): void {
    const tr = this.sim!.m.trace;
    const def = step.def;
    if (def.kind === 'user') {
      if (!['load', 'store', 'exec'].includes(def.name)) return;
      const what = def.name === 'load' ? `read of ${args.big('len')} bytes at ${hex(args.big('addr'))}`
        : def.name === 'store' ? `write at ${hex(args.big('addr'))}` : def.name === 'exec' ? `instruction fetch at ${hex(args.big('addr'))}` : def.name;
      const pk = def.name === 'exec' ? 'no PKRU applies to instruction fetches'
        : `PKRU of pid ${current.pid} = 0x${current.pkru.toString(16).padStart(8, '0')} is checked by the MMU`;
      tr.decision('HW-1', `user-mode ${def.name}`, 'info', `${what} by pid ${current.pid} (${step.who.name}) in user mode; ${pk}`);
      return;
    }
    const who = step.who.kind === 'task' ? `pid ${current.pid} (${step.who.name})` : `${current.comm} (pid ${current.pid}, no mm)`;
    tr.enter(def.kfn ?? def.name, `current = ${who}`);
  }

  /** Fault counters of every task's process, in this.tasks order: [min0, maj0, min1, maj1, ...]. */
  private faultCounts(): number[] {
    const out: number[] = [];
    for (const e of this.tasks.values()) {
      const r = e.thread.getrusage();
      out.push(r.ru_minflt, r.ru_majflt);
    }
    return out;
  }

  private outcomeOf(no: number, step: CheckedStep, thread: Thread | null, res: StepResult, before: number[], sigs: readonly SignalDelivery[]): Outcome {
    const def = step.def;
    const retKind: RetKind = def.result === 'bytes' ? 'none' : def.result === 'fds' ? 'int' : def.result;
    const o: Outcome = {
      step: no, line: step.stmt.pos.line, task: step.who.name, pid: thread ? thread.pid : null, name: def.name,
      retKind, signals: [], fields: {}, info: {}, status: res.notModelled ? 'not-modelled' : 'done',
    };
    if (res.notModelled) {
      o.note = `${res.notModelled} is not yet modelled`;
      return o;
    }
    if (res.ret !== undefined && retKind !== 'none') {
      const r = BigInt(res.ret);
      if (res.cErrno !== undefined) {
        o.ret = r;
        if (res.cErrno > 0) o.errno = errnoName(res.cErrno);
      } else if (r < 0n && r >= -4095n && retKind !== 'hex') {
        o.ret = -1n;
        o.errno = errnoName(Number(-r));
      } else {
        o.ret = r;
        if (retKind === 'task' && res.retTask) o.retTask = res.retTask;
      }
    }
    const byPid = (pid: number): string => this.nameOfPid(pid);
    o.signals = sigs.map((d) => sigOut(d.info, byPid));
    const killedBy = sigs.find((d) => d.killed);
    if (killedBy || res.killed || res.access?.killed) o.killed = (killedBy ? sigOut(killedBy.info).sig : o.signals[o.signals.length - 1]?.sig) ?? 'SIGKILL';
    if (res.exited !== undefined) o.exited = res.exited;
    if (res.data) o.data = res.data;
    if (res.fields) o.fields = res.fields;
    if (res.text !== undefined) o.text = res.text;
    const info: Record<string, FieldValue> = { ...(res.info ?? {}) };
    const after = this.faultCounts();
    // Tasks created by this step (fork, clone) come last and have no "before": their change is 0.
    let i = 0;
    for (const [n, e] of this.tasks) {
      const dMin = after[i]! - (before[i] ?? after[i]!);
      const dMaj = after[i + 1]! - (before[i + 1] ?? after[i + 1]!);
      if (thread && e.thread.tgid === thread.tgid && info.minflt === undefined) {
        info.minflt = dMin;
        info.majflt = dMaj;
      }
      if (dMin !== 0 || dMaj !== 0) info[`faults[${n}]`] = `+${dMin}/+${dMaj}`;
      i += 2;
    }
    if (res.access?.faultsFixed) info.faults_fixed = res.access.faultsFixed;
    o.info = info;
    return o;
  }

  private bind(step: CheckedStep, o: Outcome, res: StepResult): void {
    const b = step.stmt.bind;
    if (o.status !== 'done') return;
    if (!b) {
      // An unbound region still gets a symbol, named after its step: $sN.
      if (step.def.result === 'addr' && !o.errno && o.ret !== undefined) this.symbols.define(`s${o.step}`, o.ret, BigInt(res.regionLen ?? 4096));
      return;
    }
    if (step.def.createsTask) {
      if (o.errno) this.vars.set(b.name, { t: 'int', v: -1n });
      return;
    }
    let v: Value;
    if (res.value && !o.errno) v = res.value;
    else if (o.ret !== undefined) v = { t: 'int', v: step.def.result === 'addr' ? BigInt.asUintN(64, o.ret) : o.ret };
    else v = { t: 'int', v: 0n };
    this.vars.set(b.name, v);
    if (step.def.result === 'addr' && !o.errno && o.ret !== undefined) {
      this.symbols.define(b.name, o.ret, BigInt(res.regionLen ?? 4096));
    }
  }

  private noteDeaths(o: Outcome): void {
    for (const e of this.tasks.values()) {
      if (!e.gone && !e.thread.alive) {
        e.gone = o.killed ? `killed by ${o.killed} at line ${o.line}` : `exited at line ${o.line}`;
      }
    }
  }

  private render(step: CheckedStep, o: Outcome, res: StepResult, args: Args, thread: Thread | null): { line: string; extra: string[] } {
    const def = step.def;
    const errNum = o.errno ? errnoNumber(o.errno) : undefined;
    const retText = formatRet(o, errNum);
    const pc: PrintCtx = { def, args, res, retText, ret: o.ret, ok: !o.errno && o.status === 'done', m: this.sim!.m, thread };
    // strace prints pids as numbers; task names stay for kernel-context arguments (tsk, mm).
    const generic = (): string => {
      const shown = step.params.map((q) => (q.kind === 'pid' ? args.big(q.name).toString() : formatArg(args.value(q.name), q.fmt, q.kind)));
      return `${def.straceName ?? def.name}(${shown.join(', ')})${retText}`;
    };
    const line = o.status !== 'not-modelled' && def.strace ? def.strace(pc) : generic();
    const extra: string[] = [];
    for (const s of o.signals) extra.push(signalLine(s));
    if (o.killed) extra.push(`+++ killed by ${o.killed} +++`);
    if (o.exited !== undefined) extra.push(`+++ exited with ${o.exited} +++`);
    if (o.text) for (const l of o.text.replace(/\n$/, '').split('\n')) extra.push('    ' + l);
    if (o.status === 'not-modelled') extra.push(`    ${o.note}: this step and the ones after it were not run`);
    return { line, extra };
  }

  // --- expectations -------------------------------------------------------------------------

  private evalPred(p: Pred, step: CheckedStep, o: Outcome): ExpectResult {
    const r = (ok: boolean, expected: string, actual: string): ExpectResult => ({ ok, skipped: false, src: p.src, pos: p.pos, expected, actual });
    if (o.status !== 'done') return skippedExpect(p);
    const sigText = (): string => (o.signals.length ? o.signals.map((s) => `${s.sig}{${s.codeName}${s.addr !== undefined ? `, addr=${this.symbols.symbolize(s.addr)}` : ''}${s.pkey !== undefined ? `, pkey=${s.pkey}` : ''}}`).join(' ') : 'no signal');
    const retShown = (): string => (o.errno ? `ret=-1 errno=${o.errno}` : o.ret === undefined ? 'no return value' : `ret=${this.showRet(o)}`);
    switch (p.k) {
      case 'ok': {
        const done = !o.killed && o.signals.length === 0 && !o.errno && !(o.ret !== undefined && o.ret < 0n && step.def.result !== 'hex');
        const actual = o.signals.length || o.killed ? sigText() + (o.killed ? `, killed by ${o.killed}` : '') : o.ret === undefined ? 'completed, no signal' : retShown();
        return r(done, 'ok (no error, no signal)', actual);
      }
      case 'nosignal':
        return r(o.signals.length === 0, 'no signal', sigText());
      case 'errno':
        return r(o.ret === -1n && o.errno === p.name, `ret=-1 errno=${p.name}`, retShown());
      case 'killed':
        return r(o.killed !== undefined && (!p.sig || o.killed === p.sig), `killed${p.sig ? ` by ${p.sig}` : ''}`, o.killed ? `killed by ${o.killed}` : 'not killed');
      case 'signal': {
        const want = {
          signo: signalNumber(p.sig)!,
          code: p.code ? this.evalInt(p.code) : undefined,
          addr: p.addr ? BigInt.asUintN(64, this.evalInt(p.addr)) : undefined,
          pkey: p.pkey ? this.evalInt(p.pkey) : undefined,
        };
        const hit = o.signals.some((s) => s.signo === want.signo && (want.code === undefined || BigInt(s.code) === want.code) &&
          (want.addr === undefined || s.addr === want.addr) && (want.pkey === undefined || (s.pkey !== undefined && BigInt(s.pkey) === want.pkey)));
        const parts = [
          ...(want.code !== undefined ? [`code=${p.code && p.code.k === 'name' ? p.code.name : want.code}`] : []),
          ...(want.addr !== undefined ? [`addr=${this.symbols.symbolize(want.addr)}`] : []),
          ...(want.pkey !== undefined ? [`pkey=${want.pkey}`] : []),
        ];
        const exp = parts.length ? `${p.sig}{${parts.join(', ')}}` : p.sig;
        return r(hit, exp, sigText());
      }
      case 'text': {
        const text = o.text ?? '';
        const sym = symbolizeText(text, this.symbols);
        const lines = [...text.split('\n'), ...sym.split('\n')].map((l) => l.trim());
        const ok = p.mode === 'line' ? lines.some((l) => l.startsWith(p.s)) : text.includes(p.s) || sym.includes(p.s);
        return r(ok, `${p.mode}(${JSON.stringify(p.s)})`, ok ? 'found' : `not in the ${sym.split('\n').filter(Boolean).length} lines of output`);
      }
      case 'cmp':
        return this.evalCmp(p, o, r);
    }
  }

  private showRet(o: Outcome): string {
    if (o.ret === undefined) return '?';
    if (o.retKind === 'task' && o.retTask) return o.retTask;
    if (o.retKind === 'addr') return this.symbols.symbolize(o.ret);
    if (o.retKind === 'hex') return hex(o.ret);
    return o.ret.toString();
  }

  private evalCmp(p: Extract<Pred, { k: 'cmp' }>, o: Outcome, r: (ok: boolean, e: string, a: string) => ExpectResult): ExpectResult {
    const rhs = p.field === 'errno' ? undefined : this.evalExpr(p.rhs);
    const cmpBig = (a: bigint, b: bigint): boolean => {
      switch (p.op) {
        case '==': return BigInt.asUintN(64, a) === BigInt.asUintN(64, b);
        case '!=': return BigInt.asUintN(64, a) !== BigInt.asUintN(64, b);
        case '<': return a < b;
        case '<=': return a <= b;
        case '>': return a > b;
        case '>=': return a >= b;
      }
    };
    const showRhs = (v: Value | undefined): string => {
      if (!v) return p.rhs.k === 'name' ? p.rhs.name : '?';
      if (v.t === 'int') {
        if (p.field === 'ret' && o.retKind === 'addr') return this.symbols.symbolize(BigInt.asUintN(64, v.v));
        if (p.field === 'ret' && o.retKind === 'hex') return hex(v.v);
        return v.v.toString();
      }
      if (v.t === 'bytes') return quoteBytes(v.v);
      if (v.t === 'task') return v.name;
      return v.t;
    };
    const exp = `${p.task ? `${p.field}(${p.task})` : p.field} ${p.op} ${showRhs(rhs)}`;
    switch (p.field) {
      case 'errno': {
        const want = p.rhs.k === 'name' ? p.rhs.name : '';
        const ok = p.op === '==' ? o.errno === want : p.op === '!=' ? o.errno !== want : false;
        return r(ok, exp, o.errno ? `errno=${o.errno}` : 'no errno (the call succeeded)');
      }
      case 'data': {
        const d = o.data ?? new Uint8Array(0);
        let eq: boolean;
        if (rhs?.t === 'bytes') eq = d.length === rhs.v.length && d.every((b, i) => b === rhs.v[i]);
        else if (rhs?.t === 'int') eq = d.length > 0 && d.every((b) => BigInt(b) === rhs.v);
        else eq = false;
        const ok = p.op === '==' ? eq : p.op === '!=' ? !eq : false;
        return r(ok, exp, `data=${d.length <= 32 ? quoteBytes(d) : dataField(d)}`);
      }
      case 'ret': {
        if (o.ret === undefined) return r(false, exp, 'no return value');
        if (rhs?.t === 'task') {
          const ok = (o.retTask === rhs.name) === (p.op === '==');
          return r(ok && (p.op === '==' || p.op === '!='), exp, `ret=${this.showRet(o)}`);
        }
        if (rhs?.t !== 'int') return r(false, exp, `ret=${this.showRet(o)}`);
        return r(cmpBig(o.ret, rhs.v), exp, `ret=${this.showRet(o)}${o.errno ? ` errno=${o.errno}` : ''}`);
      }
      case 'minflt':
      case 'majflt': {
        let actual: number | undefined;
        if (p.task) {
          const txt = o.info[`faults[${p.task}]`];
          const m = typeof txt === 'string' ? /^\+(-?\d+)\/\+(-?\d+)$/.exec(txt) : null;
          actual = m ? Number(m[p.field === 'minflt' ? 1 : 2]) : 0;
        } else {
          const v = o.info[p.field];
          actual = typeof v === 'number' ? v : undefined;
        }
        if (actual === undefined || rhs?.t !== 'int') return r(false, exp, 'no fault counters for this step');
        return r(cmpBig(BigInt(actual), rhs.v), exp, `${p.task ? `${p.field}(${p.task})` : p.field} changed by ${actual}`);
      }
      default: {
        const v = p.field in o.fields ? o.fields[p.field] : o.info[p.field];
        if (v === undefined) return r(false, exp, `no ${p.field} (ret=${this.showRet(o)})`);
        const shown = typeof v === 'object' ? this.symbols.symbolize(v.addr) : String(v);
        if (rhs?.t === 'bytes') {
          const s = new TextDecoder().decode(rhs.v);
          const ok = p.op === '==' ? shown === s : p.op === '!=' ? shown !== s : false;
          return r(ok, exp, `${p.field}=${shown}`);
        }
        if (rhs?.t !== 'int') return r(false, exp, `${p.field}=${shown}`);
        const num = typeof v === 'object' ? v.addr : typeof v === 'string' ? (/^-?\d+$/.test(v) || /^0x[0-9a-f]+$/i.test(v) ? BigInt(v) : undefined) : BigInt(v);
        if (num === undefined) return r(false, exp, `${p.field}=${shown} (not a number)`);
        return r(cmpBig(num, rhs.v), exp, `${p.field}=${shown}`);
      }
    }
  }
}

/** What a step's run() gets. A class, not an object of closures: a long scenario makes one per step. */
class StepCtx implements RunCtx {
  readonly m: Machine;
  readonly taskName: string;
  readonly bind: string | undefined;
  readonly symbols: SymbolTable;

  constructor(private readonly session: Session, readonly sim: Sim, readonly thread: Thread | null, readonly current: Task, private readonly step: CheckedStep) {
    this.m = sim.m;
    this.taskName = step.who.name;
    this.bind = step.stmt.bind?.name;
    this.symbols = session.symbols;
  }

  self(): Thread {
    if (!this.thread) throw new ScenarioError('task', `${this.step.def.name} needs a task`, this.step.stmt.pos);
    return this.thread;
  }

  lookupTask(n: string): TaskRef {
    return this.session.taskRef(n, this.step.stmt.pos);
  }

  nameOfPid(pid: number): string {
    return this.session.nameOfPid(pid);
  }

  addTask(n: string, t: Thread): void {
    this.session.tasks.set(n, { name: n, thread: t });
  }
}

/**
 * A step's converted arguments, by parameter name. A class, not an object of closures: a long
 * scenario makes one per step.
 */
class StepArgs implements Args {
  constructor(private readonly session: Session, private readonly step: CheckedStep, private readonly vals: Value[]) {}

  private index(n: string): number {
    const ps = this.step.params;
    for (let i = 0; i < ps.length; i++) if (ps[i]!.name === n) return i;
    return -1;
  }

  private get(n: string): Value {
    const v = this.vals[this.index(n)];
    if (!v) throw new Error(`step ${this.step.def.name} has no parameter ${n}`);
    return v;
  }

  private posOf(n: string): Pos {
    return this.step.args[this.index(n)]?.pos ?? this.step.stmt.pos;
  }

  num(n: string): number {
    const v = this.get(n);
    if (v.t === 'task') return this.session.taskRef(v.name, this.posOf(n)).thread.pid;
    if (v.t !== 'int') throw new Error(`argument ${n} is not a number`);
    return Number(v.v);
  }

  big(n: string): bigint {
    const v = this.get(n);
    if (v.t === 'task') return BigInt(this.session.taskRef(v.name, this.posOf(n)).thread.pid);
    if (v.t !== 'int') throw new Error(`argument ${n} is not a number`);
    return v.v;
  }

  str(n: string): string {
    return new TextDecoder().decode(this.bytes(n));
  }

  bytes(n: string): Uint8Array {
    const v = this.get(n);
    if (v.t === 'bytes') return v.v;
    if (v.t === 'int') {
      if (v.v < 0n || v.v > 255n) throw new ScenarioError('range', `a byte value is 0..255, not ${v.v}`, this.posOf(n));
      return Uint8Array.of(Number(v.v));
    }
    throw new Error(`argument ${n} is not bytes`);
  }

  task(n: string): TaskRef {
    const v = this.get(n);
    if (v.t !== 'task') throw new Error(`argument ${n} is not a task`);
    return this.session.taskRef(v.name, this.posOf(n));
  }

  handler(n: string): HandlerName {
    const v = this.get(n);
    if (v.t !== 'handler') throw new Error(`argument ${n} is not a handler`);
    return v.v;
  }

  iov(n: string): { base: number; len: number }[] {
    const v = this.get(n);
    if (v.t !== 'iov') throw new Error(`argument ${n} is not an iovec`);
    return v.v.map((x) => ({ base: Number(x.base), len: Number(x.len) }));
  }

  given(n: string): boolean {
    return this.step.args[this.index(n)] !== undefined;
  }

  value(n: string): Value {
    return this.get(n);
  }
}

function skippedExpect(p: Pred): ExpectResult {
  return { ok: false, skipped: true, src: p.src, pos: p.pos, expected: p.src, actual: 'not run' };
}

/** Replace hex address ranges at line starts (maps format) and hex words by their symbols. */
export function symbolizeText(text: string, syms: SymbolTable): string {
  return text.replace(/\b([0-9a-f]{8,16})-([0-9a-f]{8,16})\b/g, (_m, a: string, b: string) =>
    `${syms.symbolize(BigInt('0x' + a))}-${syms.symbolize(BigInt('0x' + b))}`);
}

/** Run a whole parsed script: static checks of every statement first, then execution. */
export function checkAll(script: Script, profile?: ProfileName): void {
  const c = new Checker(script.source, profile);
  for (const st of script.stmts) c.check(st);
}
