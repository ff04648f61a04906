// Static checks of a scenario, statement by statement in program order: names, tasks, step
// signatures, argument types, expectations. Everything that can be known before running is
// reported here, so a bad scenario fails before its first step runs.
import type { Arg, ExpectItem, Expr, Stmt, StepStmt } from './ast.js';
import { CONSTANTS, errnoNumber, isSignalName } from './constants.js';
import { ScenarioError, didYouMean, type Pos } from './errors.js';
import { KEYWORDS } from './parser.js';
import {
  HANDLERS, isModelOnly, lookupStep, paramsOf, signature, stepNames, type ArgKind, type ParamDef, type StepDef, type VType,
} from './registry.js';
import { DEFAULT_PROFILE, isProfileName, PROFILES, type ProfileName } from '../profiles/profile.js';
import type { CmpOp } from './ast.js';

export interface Headers {
  profile: ProfileName;
  ramBytes: number;
  pku: boolean;
  title?: string;
  modelOnly: boolean;
}

/** An expectation, resolved. */
export type Pred =
  | { k: 'ok'; pos: Pos; src: string }
  | { k: 'nosignal'; pos: Pos; src: string }
  | { k: 'errno'; name: string; pos: Pos; src: string }
  | { k: 'signal'; sig: string; code?: Expr; addr?: Expr; pkey?: Expr; pos: Pos; src: string }
  | { k: 'killed'; sig?: string; pos: Pos; src: string }
  | { k: 'text'; mode: 'line' | 'contains'; s: string; pos: Pos; src: string }
  | { k: 'cmp'; field: string; task?: string; op: CmpOp; rhs: Expr; pos: Pos; src: string };

export interface CheckedStep {
  stmt: StepStmt;
  def: StepDef;
  params: ParamDef[];
  /** Argument expression per parameter (undefined: use the default). */
  args: (Expr | undefined)[];
  /** Who runs it. */
  who: { kind: 'task' | 'kworker' | 'kthread' | 'machine'; name: string };
  preds: Pred[];
}

export type Checked =
  | { k: 'header' }
  | { k: 'task'; name: string; uid?: Expr; pos: Pos }
  | { k: 'step'; step: CheckedStep }
  | { k: 'expect'; preds: Pred[]; step: CheckedStep; pos: Pos };

type NameInfo = { kind: 'var'; type: VType; line: number } | { kind: 'task'; line: number };

/** The expression types each argument kind accepts. */
const ARG_TYPES: Record<ArgKind, VType[]> = {
  addr: ['int'], ulong: ['int'], long: ['int'], int: ['int'], uint: ['int'], str: ['bytes'], data: ['bytes', 'int'],
  task: ['task'], mm: ['task'], pid: ['task', 'int'], handler: ['handler'], iovec: ['iov'],
};

/** Names an expectation uses for the step's own results. */
const RESERVED = new Set(['ok', 'nosignal', 'killed', 'line', 'contains', 'ret', 'errno', 'data', 'minflt', 'majflt', ...HANDLERS]);
const BUILTIN_ADDRS = new Set(['TEXT', 'TEXT_FUNC']);

const SIZE_UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

let linesOf: { source: string; lines: string[] } = { source: '', lines: [''] };

/** The source text a position covers (the split of the source is kept for the next call). */
export function srcOf(source: string, pos: Pos): string {
  if (linesOf.source !== source) linesOf = { source, lines: source.split('\n') };
  const line = linesOf.lines[pos.line - 1] ?? '';
  return line.slice(pos.col - 1, pos.col - 1 + (pos.len ?? 1));
}

export class Checker {
  /** 512 MiB of RAM by default: the size of the real-kernel oracle's guests (oracle/qemu.ts). */
  readonly headers: Headers = { profile: DEFAULT_PROFILE, ramBytes: 512 * 1024 ** 2, pku: true, modelOnly: false };
  private readonly names = new Map<string, NameInfo>();
  private started = false;
  private lastStep: CheckedStep | null = null;
  private defaultTask: string | null = null;

  constructor(private source: string, private readonly forcedProfile?: ProfileName) {
    if (forcedProfile) this.headers.profile = forcedProfile;
  }

  setSource(source: string): void {
    this.source = source;
  }

  /** Tasks and variables defined so far (for completion). */
  definedNames(): string[] {
    return [...this.names.keys()];
  }

  check(st: Stmt): Checked {
    switch (st.k) {
      case 'profile':
        this.header(st.pos, 'profile');
        if (!isProfileName(st.name)) {
          throw new ScenarioError('header', `unknown kernel profile '${st.name}'`, st.pos,
            `profiles: ${Object.keys(PROFILES).join(', ')}`);
        }
        if (!this.forcedProfile) this.headers.profile = st.name;
        return { k: 'header' };
      case 'machine':
        this.header(st.pos, 'machine');
        for (const o of st.opts) this.machineOpt(o.key, o.value, o.pos);
        return { k: 'header' };
      case 'title':
        this.headers.title = st.title;
        return { k: 'header' };
      case 'model-only':
        this.headers.modelOnly = true;
        return { k: 'header' };
      case 'task': {
        this.started = true;
        this.defineName(st.name, { kind: 'task', line: st.pos.line }, st.pos);
        let uid: Expr | undefined;
        for (const o of st.opts) {
          if (o.name !== 'uid') throw new ScenarioError('name', `unknown task option '${o.name}'`, o.pos, 'task NAME [uid=N]');
          this.typeOf(o.value, 'int');
          uid = o.value;
        }
        this.defaultTask = st.name;
        return uid ? { k: 'task', name: st.name, uid, pos: st.pos } : { k: 'task', name: st.name, pos: st.pos };
      }
      case 'expect': {
        if (!this.lastStep) throw new ScenarioError('syntax', 'expect without a step before it', st.pos, 'put expect after a step, on its line or the next');
        const preds = st.items.map((i) => this.pred(i, this.lastStep!));
        return { k: 'expect', preds, step: this.lastStep, pos: st.pos };
      }
      case 'step':
        this.started = true;
        return { k: 'step', step: this.step(st) };
    }
  }

  private header(pos: Pos, what: string): void {
    if (this.started) throw new ScenarioError('header', `'${what}' must come before the first task or step`, pos, 'move the header lines to the top of the scenario');
  }

  private machineOpt(key: string, value: string, pos: Pos): void {
    if (key === 'ram') {
      const m = /^(\d+)([KMG])?$/.exec(value);
      const bytes = m ? Number(m[1]) * (m[2] ? SIZE_UNITS[m[2]]! : 1) : NaN;
      if (!(bytes >= 1024 ** 2 && bytes <= 64 * 1024 ** 3)) throw new ScenarioError('header', `machine ram=${value} is out of range`, pos, 'ram between 1M and 64G, e.g. ram=256M');
      this.headers.ramBytes = bytes;
    } else if (key === 'pku') {
      if (value !== 'on' && value !== 'off') throw new ScenarioError('header', `machine pku=${value}: on or off`, pos, 'pku=off models a CPU or kernel without protection keys (nopku)');
      this.headers.pku = value === 'on';
    } else {
      throw new ScenarioError('header', `unknown machine option '${key}'`, pos, 'machine ram=SIZE pku=on|off');
    }
  }

  private defineName(name: string, info: NameInfo, pos: Pos): void {
    if (CONSTANTS.has(name) || BUILTIN_ADDRS.has(name)) throw new ScenarioError('name', `'${name}' is a constant and cannot be redefined`, pos, 'pick another name');
    if (RESERVED.has(name) || KEYWORDS.includes(name)) throw new ScenarioError('name', `'${name}' is a reserved word`, pos, `reserved: ${[...RESERVED].join(', ')}`);
    const old = this.names.get(name);
    if (old?.kind === 'task' || (old && info.kind === 'task')) {
      throw new ScenarioError('name', `'${name}' is already defined (line ${old.line})`, pos, 'task names cannot be reused');
    }
    this.names.set(name, info);
  }

  private step(st: StepStmt): CheckedStep {
    const def = lookupStep(st.name);
    if (!def) {
      const near = didYouMean(st.name, stepNames());
      throw new ScenarioError('name', `unknown step '${st.name}'`, st.namePos,
        near ? `did you mean ${near}?` : 'see `gupsim help steps` for the list');
    }
    const why = def.unavailable?.(this.headers.profile);
    if (why) throw new ScenarioError('name', `${def.name} does not exist in ${this.headers.profile}`, st.namePos, why);
    const context = def.context ?? 'task';
    let who: CheckedStep['who'];
    const pre = st.prefix;
    if (context === 'machine') {
      if (pre) throw new ScenarioError('task', `${def.name} is a machine-level setup step`, pre.pos, `drop the '${pre.name}:' prefix`);
      who = { kind: 'machine', name: '-' };
    } else if (pre && pre.kind !== 'task') {
      if (context !== 'kernel') {
        throw new ScenarioError('task', `a ${pre.kind} has no user address space: ${def.name} must run in a task`, pre.pos, "write e.g. 'A: " + def.name + "(...)'");
      }
      who = { kind: pre.kind, name: pre.kind };
    } else {
      const name = pre ? pre.name : this.defaultTask;
      if (!name) {
        throw new ScenarioError('task', `no task to run ${def.name} in`, st.pos,
          context === 'kernel' ? "say who runs it: 'kworker:' or a task name, e.g. 'A:'" : "declare one first with 'task A', then write 'A: ...'");
      }
      const info = this.names.get(name);
      if (!info || info.kind !== 'task') {
        const tasks = [...this.names].filter(([, v]) => v.kind === 'task').map(([k]) => k);
        const near = didYouMean(name, tasks);
        throw new ScenarioError('task', `no task named '${name}'`, pre?.pos ?? st.pos,
          near ? `did you mean ${near}? ` : `declare it with 'task ${name}' or create it with '${name} = fork()'`);
      }
      who = { kind: 'task', name };
      this.defaultTask = name;
    }
    const params = paramsOf(def, this.headers.profile);
    const args = this.bindArgs(def, params, st);
    if (def.createsTask && !st.bind) {
      throw new ScenarioError('name', `${def.name}() creates a task: give it a name`, st.pos, `e.g. 'B = ${def.name}()'`);
    }
    if (isModelOnly(def)) this.headers.modelOnly = true;
    const checked: CheckedStep = { stmt: st, def, params, args, who, preds: [] };
    if (st.bind) {
      if (def.result === 'none') throw new ScenarioError('type', `${def.name} returns nothing to bind`, st.bind.pos, `drop '${st.bind.name} ='`);
      const type: VType = def.result === 'task' ? 'task' : def.result === 'bytes' ? 'bytes' : def.result === 'fds' ? 'fds' : 'int';
      this.defineName(st.bind.name, def.createsTask ? { kind: 'task', line: st.pos.line } : { kind: 'var', type, line: st.pos.line }, st.bind.pos);
    }
    checked.preds = st.expect.map((i) => this.pred(i, checked));
    this.lastStep = checked;
    return checked;
  }

  private bindArgs(def: StepDef, params: ParamDef[], st: StepStmt): (Expr | undefined)[] {
    const out: (Expr | undefined)[] = new Array<Expr | undefined>(params.length).fill(undefined);
    const profile = this.headers.profile;
    // The signature is only needed for an error's hint.
    const sig = (): string => signature(def, profile);
    // Positional arguments fill the parameters after the last one given (by position or by name),
    // so `get_user_pages_remote(mm=B, p, 1, FOLL_WRITE)` reads like the C call it stands for.
    let positional = 0;
    for (const a of st.args) {
      let i: number;
      if (a.name !== undefined) {
        i = params.findIndex((q) => q.name === a.name);
        if (i < 0) {
          const near = didYouMean(a.name, params.map((q) => q.name));
          throw new ScenarioError('arity', `${def.name} has no argument '${a.name}'`, a.pos, near ? `did you mean ${near}? ${sig()}` : sig());
        }
        if (out[i] !== undefined) throw new ScenarioError('arity', `argument '${a.name}' given twice`, a.pos, sig());
        positional = Math.max(positional, i + 1);
      } else {
        i = positional++;
        if (i < params.length && out[i] !== undefined) throw new ScenarioError('arity', `argument '${params[i]!.name}' given twice`, a.pos, sig());
        if (i >= params.length) {
          throw new ScenarioError('arity', `too many arguments: ${def.name} takes ${this.countText(params)}`, a.pos, sig());
        }
      }
      this.checkArg(params[i]!, a);
      out[i] = a.value;
    }
    params.forEach((q, i) => {
      if (out[i] === undefined && q.default === undefined) {
        throw new ScenarioError('arity', `missing argument '${q.name}': ${def.name} takes ${this.countText(params)}`, st.pos, sig());
      }
    });
    return out;
  }

  private countText(params: ParamDef[]): string {
    const req = params.filter((q) => q.default === undefined).length;
    const n = params.length;
    const what = req === n ? `${n}` : `${req} to ${n}`;
    return `${what} argument${n === 1 ? '' : 's'}`;
  }

  private checkArg(q: ParamDef, a: Arg): void {
    const want = ARG_TYPES;
    if (q.kind === 'iovec') {
      this.checkIov(a.value);
      return;
    }
    const t = this.typeOf(a.value);
    const c = t === 'int' ? constValue(a.value) : undefined;
    if (c !== undefined && (q.kind === 'int' || q.kind === 'uint') && (c < -(1n << 31n) || c >= 1n << 32n)) {
      throw new ScenarioError('range', `argument '${q.name}' does not fit in a 32-bit ${q.kind === 'int' ? 'int' : 'unsigned int'}: ${c}`, a.value.pos, 'use a value between -2147483648 and 4294967295');
    }
    if (!want[q.kind].includes(t)) {
      const hint = q.kind === 'task' || q.kind === 'mm' ? 'name a task, e.g. B'
        : q.kind === 'str' ? 'write a string, e.g. "/tmp/f"'
        : q.kind === 'handler' ? `one of ${HANDLERS.join(', ')}`
        : t === 'fds' ? 'pick one end: fds[0] or fds[1]'
        : t === 'bytes' && q.kind === 'addr' ? `'${q.name}' is an address: put the bytes in memory first, e.g. store(buf, "hello"), then pass buf`
        : `'${q.name}' is a number`;
      throw new ScenarioError('type', `argument '${q.name}' wants ${kindText(q.kind)}, got ${typeText(t)}`, a.value.pos, hint);
    }
  }

  private checkIov(e: Expr): void {
    const bad = (): never => {
      throw new ScenarioError('type', 'an iovec is {base, len} or {{base, len}, ...}', e.pos, 'e.g. {buf, 128}');
    };
    if (e.k !== 'bytes' || e.items.length === 0) bad();
    const items = (e as { items: Expr[] }).items;
    if (items.every((i) => i.k === 'bytes')) {
      for (const i of items) this.checkIov(i);
      return;
    }
    if (items.length !== 2) bad();
    for (const i of items) this.typeOf(i, 'int');
  }

  /** The static type of an expression; throws on undefined names and type errors. */
  typeOf(e: Expr, want?: VType): VType {
    const t = this.typeOfInner(e);
    if (want && t !== want) throw new ScenarioError('type', `expected ${typeText(want)}, got ${typeText(t)}`, e.pos);
    return t;
  }

  private typeOfInner(e: Expr): VType {
    switch (e.k) {
      case 'num':
        if (e.v > 0xffffffffffffffffn) throw new ScenarioError('range', `${e.v} overflows 64 bits`, e.pos, 'values are 64-bit: at most 0xffffffffffffffff');
        return 'int';
      case 'str':
        return 'bytes';
      case 'bytes':
        for (const i of e.items) {
          this.typeOf(i, 'int');
          const c = constValue(i);
          if (c !== undefined && (c < 0n || c > 255n)) throw new ScenarioError('range', `byte value ${c} is not in 0..255`, i.pos);
        }
        return 'bytes';
      case 'name': {
        const n = this.names.get(e.name);
        if (n) return n.kind === 'task' ? 'task' : n.type;
        if (CONSTANTS.has(e.name) || BUILTIN_ADDRS.has(e.name)) return 'int';
        if ((HANDLERS as readonly string[]).includes(e.name)) return 'handler';
        const near = didYouMean(e.name, [...this.names.keys(), ...CONSTANTS.keys(), ...HANDLERS]);
        throw new ScenarioError('name', `undefined name '${e.name}'`, e.pos,
          near ? `did you mean ${near}?` : 'bind it first, e.g. p = mmap(...), or use a Linux constant (PROT_READ, MAP_PRIVATE, ...)');
      }
      case 'index': {
        const t = this.typeOf(e.base);
        if (t !== 'fds') throw new ScenarioError('type', `only pipe() results can be indexed, not ${typeText(t)}`, e.pos, 'fds = pipe(); then fds[0], fds[1]');
        this.typeOf(e.index, 'int');
        const c = constValue(e.index);
        if (c !== undefined && c !== 0n && c !== 1n) throw new ScenarioError('range', `index ${c} out of range: fds[0] or fds[1]`, e.index.pos);
        return 'int';
      }
      case 'unary':
        this.typeOf(e.e, 'int');
        this.fold(e);
        return 'int';
      case 'bin':
        this.typeOf(e.l, 'int');
        this.typeOf(e.r, 'int');
        this.fold(e);
        return 'int';
      case 'call':
        throw new ScenarioError('syntax', `a call is not allowed inside an argument: ${e.name}(...)`, e.pos, 'bind its result first: x = ' + e.name + '(...)');
      case 'sig':
        throw new ScenarioError('syntax', `${e.name}{...} is a signal pattern, only for expect`, e.pos, 'e.g. expect SIGSEGV{SEGV_PKUERR, addr=p, pkey=k}');
    }
  }

  /** Constant-fold to catch overflow and division by zero before running. */
  private fold(e: Expr): void {
    constValue(e);
  }

  private pred(i: ExpectItem, step: CheckedStep): Pred {
    const src = srcOf(this.source, i.pos);
    const pos = i.pos;
    const lhs = i.lhs;
    const kind = step.def.kind;
    if (!i.op) {
      if (lhs.k === 'name') {
        if (lhs.name === 'ok') return { k: 'ok', pos, src };
        if (lhs.name === 'nosignal') return { k: 'nosignal', pos, src };
        if (lhs.name === 'killed') return { k: 'killed', pos, src };
        if (isSignalName(lhs.name)) return { k: 'signal', sig: lhs.name, pos, src };
        if (/^E[A-Z0-9]+$/.test(lhs.name) && errnoNumber(lhs.name) !== undefined) {
          if (kind === 'user') throw new ScenarioError('type', `${step.def.name} is a user-mode access: it sets no errno`, lhs.pos, 'expect ok, or a signal such as SIGSEGV{SEGV_PKUERR}');
          return { k: 'errno', name: lhs.name, pos, src };
        }
      }
      if (lhs.k === 'sig') return this.sigPred(lhs, pos, src);
      if (lhs.k === 'call') {
        if (lhs.name === 'killed') {
          const a = lhs.args[0]?.value;
          if (lhs.args.length > 1 || (a && !(a.k === 'name' && isSignalName(a.name)))) throw new ScenarioError('syntax', 'killed(SIGNAL) takes one signal name', lhs.pos, 'e.g. killed(SIGSEGV)');
          return a && a.k === 'name' ? { k: 'killed', sig: a.name, pos, src } : { k: 'killed', pos, src };
        }
        if (lhs.name === 'line' || lhs.name === 'contains') {
          const a = lhs.args[0]?.value;
          if (lhs.args.length !== 1 || !a || a.k !== 'str') throw new ScenarioError('syntax', `${lhs.name}("...") takes one string`, lhs.pos, 'e.g. line("$p-$p+0x1000 rw-p")');
          return { k: 'text', mode: lhs.name, s: new TextDecoder().decode(a.v), pos, src };
        }
        throw new ScenarioError('syntax', `unknown expectation ${lhs.name}(...)`, lhs.pos, 'known: killed(SIG), line("..."), contains("..."), minflt(TASK) == N, majflt(TASK) == N');
      }
      // A bare value: the return value (or the loaded data) equals it.
      const t = this.typeOf(lhs);
      const field = t === 'bytes' && (step.def.result === 'bytes' || kind === 'user') ? 'data' : 'ret';
      this.checkField(field, step, lhs.pos);
      return { k: 'cmp', field, op: '==', rhs: lhs, pos, src };
    }
    // field OP value
    let field: string;
    let task: string | undefined;
    if (lhs.k === 'name') {
      field = lhs.name === step.stmt.bind?.name ? 'ret' : lhs.name;
    } else if (lhs.k === 'call' && (lhs.name === 'minflt' || lhs.name === 'majflt')) {
      const a = lhs.args[0]?.value;
      if (lhs.args.length !== 1 || !a || a.k !== 'name' || this.names.get(a.name)?.kind !== 'task') {
        throw new ScenarioError('syntax', `${lhs.name}(TASK) takes a task name`, lhs.pos, `e.g. ${lhs.name}(B) == 0: the fault count change of B's process during this step`);
      }
      field = lhs.name;
      task = a.name;
    } else {
      throw new ScenarioError('syntax', 'the left side of a comparison is a field of the step', lhs.pos, 'e.g. ret == 0, errno == EFAULT, data == "x", minflt == 1, perms == "rw-p"');
    }
    this.checkField(field, step, lhs.pos);
    if (field === 'errno') {
      if (!(i.rhs!.k === 'name' && errnoNumber(i.rhs!.name) !== undefined)) throw new ScenarioError('type', 'errno is compared with an errno name', i.rhs!.pos, 'e.g. errno == EFAULT');
    } else this.typeOf(i.rhs!);
    return task ? { k: 'cmp', field, task, op: i.op, rhs: i.rhs!, pos, src } : { k: 'cmp', field, op: i.op, rhs: i.rhs!, pos, src };
  }

  private checkField(field: string, step: CheckedStep, pos: Pos): void {
    const common = ['ret', 'errno', 'data', 'minflt', 'majflt'];
    const own = step.def.fields ?? [];
    if (common.includes(field) || own.includes(field)) {
      if (field === 'errno' && step.def.kind === 'user') throw new ScenarioError('type', `${step.def.name} is a user-mode access: it sets no errno`, pos);
      if (field === 'data' && step.def.result !== 'bytes') throw new ScenarioError('type', `${step.def.name} returns no data`, pos, 'data is what load() read');
      if (field === 'ret' && step.def.result === 'none') throw new ScenarioError('type', `${step.def.name} returns nothing`, pos, 'expect ok, or a signal');
      return;
    }
    const all = [...common, ...own];
    const near = didYouMean(field, all);
    throw new ScenarioError('name', `${step.def.name} has no field '${field}'`, pos, `${near ? `did you mean ${near}? ` : ''}fields: ${all.join(', ')}`);
  }

  private sigPred(lhs: Extract<Expr, { k: 'sig' }>, pos: Pos, src: string): Pred {
    if (!isSignalName(lhs.name)) {
      throw new ScenarioError('name', `unknown signal '${lhs.name}'`, lhs.pos, 'e.g. SIGSEGV{SEGV_PKUERR, addr=p, pkey=k}');
    }
    const out: Extract<Pred, { k: 'signal' }> = { k: 'signal', sig: lhs.name, pos, src };
    let positional = 0;
    for (const a of lhs.args) {
      const key = a.name ?? (['code', 'addr', 'pkey'][positional++] ?? '');
      if (key !== 'code' && key !== 'addr' && key !== 'pkey') {
        throw new ScenarioError('syntax', a.name ? `unknown signal field '${a.name}'` : 'too many fields in the signal pattern', a.pos, 'fields: code, addr, pkey (in that order, or by name)');
      }
      if (out[key]) throw new ScenarioError('syntax', `signal field '${key}' given twice`, a.pos);
      this.typeOf(a.value, 'int');
      out[key] = a.value;
    }
    return out;
  }
}

export function kindText(k: ArgKind): string {
  switch (k) {
    case 'str': return 'a string';
    case 'data': return 'bytes or a byte value';
    case 'task': case 'mm': return 'a task';
    case 'pid': return 'a task or a pid';
    case 'handler': return 'a handler';
    case 'iovec': return 'an iovec';
    default: return 'a number';
  }
}

export function typeText(t: VType): string {
  switch (t) {
    case 'int': return 'a number';
    case 'bytes': return 'bytes (a string)';
    case 'task': return 'a task';
    case 'fds': return 'a pipe (two fds)';
    case 'handler': return 'a handler';
    case 'iov': return 'an iovec';
  }
}

const U64 = 1n << 64n;
const I64_MIN = -(1n << 63n);

/** Range rule of the language: every intermediate value fits in 64 bits (signed or unsigned). */
export function checkRange(v: bigint, pos: Pos): bigint {
  if (v >= U64 || v < I64_MIN) throw new ScenarioError('range', `value ${v < 0n ? '-0x' + (-v).toString(16) : '0x' + v.toString(16)} overflows 64 bits`, pos, 'addresses and sizes are 64-bit: at most 0xffffffffffffffff');
  return v;
}

export function applyBin(op: string, l: bigint, r: bigint, pos: Pos): bigint {
  switch (op) {
    case '|': return BigInt.asUintN(64, l) | BigInt.asUintN(64, r);
    case '^': return BigInt.asUintN(64, l) ^ BigInt.asUintN(64, r);
    case '&': return BigInt.asUintN(64, l) & BigInt.asUintN(64, r);
    case '+': return checkRange(l + r, pos);
    case '-': return checkRange(l - r, pos);
    case '*': return checkRange(l * r, pos);
    case '/':
    case '%':
      if (r === 0n) throw new ScenarioError('range', 'division by zero', pos);
      return op === '/' ? l / r : l % r;
    case '<<':
      if (r < 0n || r > 63n) throw new ScenarioError('range', `shift by ${r} is out of range 0..63`, pos);
      return checkRange(l << r, pos);
    case '>>':
      if (r < 0n || r > 63n) throw new ScenarioError('range', `shift by ${r} is out of range 0..63`, pos);
      return l >> r;
    default:
      throw new ScenarioError('syntax', `unknown operator ${op}`, pos);
  }
}

export function applyUnary(op: string, v: bigint, pos: Pos): bigint {
  if (op === '-') return checkRange(-v, pos);
  if (op === '~') return BigInt.asUintN(64, ~v);
  return v === 0n ? 1n : 0n;
}

/** The value of an expression made only of literals and constants, or undefined. */
export function constValue(e: Expr): bigint | undefined {
  switch (e.k) {
    case 'num': return checkRange(e.v, e.pos);
    case 'name': return CONSTANTS.get(e.name);
    case 'unary': {
      const v = constValue(e.e);
      return v === undefined ? undefined : applyUnary(e.op, v, e.pos);
    }
    case 'bin': {
      const l = constValue(e.l);
      const r = constValue(e.r);
      return l === undefined || r === undefined ? undefined : applyBin(e.op, l, r, e.pos);
    }
    default: return undefined;
  }
}
