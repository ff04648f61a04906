// Scenario -> C: a self-contained program that performs a scenario's steps on a real Linux kernel
// and prints each step's outcome as the canonical line the model prints (outcome.ts), so the two
// can be diffed field by field (the real-kernel oracle, oracle/scenarios.ts).
//
// The program is the C runtime (export_c_runtime.ts, which explains processes, sequencing, PKRU
// handling and signal handlers) followed by what this file generates from the scenario:
//   - the tasks (`enum { T_A, ... }`) and one metadata row per step (how its result prints/binds);
//   - gs_step(): a switch with each worker step's C, built from the step's `c` emitter
//     (registry.ts StepDef.c) and the step's arguments compiled to C expressions;
//   - gs_cstep(): the same for the steps the coordinator performs (/proc queries of the task's
//     pid, machine-level setup);
//   - main(): the scenario's statements in order (task declarations and steps).
//
// Contract of a `c` emitter: it returns C statements that run in the task's worker (or, for query
// and setup steps, in the coordinator) with these locals in scope:
//   w      struct gs_worker * of the task (NULL in the coordinator)
//   step   the step number
//   tpid   (coordinator steps) the pid of the step's task
//   ret    int64_t result, in the kernel's convention (-errno), unless `cerr` is set
//   cerr   int: set to a C errno (>= 0, 0 = none) when `ret` is a C-library return (-1 + errno)
//   hasret int: set to 0 when the step produced no return value (e.g. it was stopped by a signal)
//   rlen   uint64_t: the length of the region an address result names (mmap: length)
// and with every argument as a C expression in c.args: numbers after the C conversion of the
// parameter's kind (addr/ulong uint64_t, long int64_t, int/uint sign/zero-extended 32-bit values,
// pid int64_t), str and data a gs_bytes, iovec a struct gs_iovs, task/mm a task index (T_NAME),
// handler one of H_SKIP/H_RETRY/H_DFL/H_IGN. SYS0(nr) .. SYS6(nr, a, b, c, d, e, f) make a system
// call with the task's PKRU in force. The runtime's gs_* helpers do the rest.
//
// Platform-neutral: no Node imports.
import type { Expr, Script } from './ast.js';
import { Checker, constValue, type CheckedStep } from './check.js';
import { CONSTANTS, errnoName, siCodeName, signalName } from './constants.js';
import { ScenarioError, type Pos } from './errors.js';
import { parseScenario } from './parser.js';
import { isModelOnly, type CEmitCtx, type ParamDef, type Value } from './registry.js';
import { C_RUNTIME } from './export_c_runtime.js';
import { TEXT_BASE, TEXT_FUNC_OFFSET } from '../kernel/exec.js';
import type { ProfileName } from '../profiles/profile.js';
import { C_MODEL_ONLY_EXPORTABLE } from './export_c_steps.js';

/** Why a scenario cannot run as a user-space program. */
export class NotExportable extends Error {
  constructor(message: string, readonly pos: Pos) {
    super(message);
    this.name = 'NotExportable';
  }
}

export interface ExportOptions {
  /** Check the scenario under this profile (the argument lists of a few steps depend on it). */
  profile?: ProfileName;
  /**
   * The oracle's test kernel module (oracle/gupsim_gup.c built for the target kernel), which makes
   * kernel-context steps (get_user_pages() and friends) exportable: the program embeds and loads it.
   * 'assume': export as if it were given (an empty image; for fingerprints and checks).
   */
  kernelModule?: Uint8Array | 'assume';
}

export interface ExportResult {
  /** The C program. */
  c: string;
  /** Number of steps (canonical lines the program prints). */
  steps: number;
  /** Kernel command-line arguments the scenario needs (e.g. `nopku` for `machine pku=off`). */
  bootArgs: string[];
  /** The scenario has kernel-context steps (the program loads the test module). */
  usesModule: boolean;
  /**
   * What the scenario does: its statements without positions, comments, titles and expectations
   * (and not how the harness does it). Recordings of the kernel's lines key on it.
   */
  behaviour: string;
}

const RK: Record<string, string> = { int: 'RK_INT', addr: 'RK_ADDR', task: 'RK_TASK', hex: 'RK_HEX', none: 'RK_NONE', bytes: 'RK_NONE', fds: 'RK_INT' };
const SPECIAL: Record<string, string> = {
  load: 'SP_LOAD', store: 'SP_STORE', exit: 'SP_EXIT', exit_thread: 'SP_EXIT_THREAD', execve: 'SP_EXECVE', fork: 'SP_FORK', clone: 'SP_CLONE',
};
const HANDLER_C: Record<string, string> = { skip: 'H_SKIP', retry: 'H_RETRY', longjmp: 'H_LONGJMP', exit: 'H_EXIT', SIG_DFL: 'H_DFL', SIG_IGN: 'H_IGN' };

type VarType = 'int' | 'bytes' | 'fds';

/** A C string literal for arbitrary bytes (octal escapes; no trigraph or hex-escape surprises). */
export function cStringLiteral(b: Uint8Array): string {
  let s = '"';
  for (const c of b) {
    if (c === 0x22) s += '\\"';
    else if (c === 0x5c) s += '\\\\';
    else if (c >= 0x20 && c < 0x7f && c !== 0x3f) s += String.fromCharCode(c);
    else s += '\\' + c.toString(8).padStart(3, '0');
  }
  return s + '"';
}

function cInt(v: bigint): string {
  return `((int64_t)0x${BigInt.asUintN(64, v).toString(16)}ULL)`;
}

/** The bytes of an array initializer, 24 a line. */
function cBytesArray(b: Uint8Array): string {
  if (b.length === 0) return '0';
  const out: string[] = [];
  for (let i = 0; i < b.length; i += 24) out.push(Array.from(b.subarray(i, i + 24), (x) => String(x)).join(','));
  return '\n' + out.join(',\n') + '\n';
}

function cBytes(b: Uint8Array): string {
  return `((gs_bytes){ (const uint8_t *)${cStringLiteral(b)}, ${b.length} })`;
}

class Emitter {
  readonly tasks = new Map<string, number>();
  readonly taskNames: string[] = [];
  readonly vars = new Map<string, { idx: number; type: VarType }>();
  private nvars = 0;
  usesText = false;
  usesModule = false;
  usesFiles = false;

  taskIndex(name: string): number {
    let i = this.tasks.get(name);
    if (i === undefined) {
      i = this.taskNames.length;
      this.tasks.set(name, i);
      this.taskNames.push(name);
    }
    return i;
  }

  bindVar(name: string, type: VarType): number {
    const old = this.vars.get(name);
    const idx = old ? old.idx : this.nvars++;
    this.vars.set(name, { idx, type });
    return idx;
  }

  /** An integer-valued expression. */
  int(e: Expr): string {
    const c = constValue(e);
    if (c !== undefined) return cInt(c);
    switch (e.k) {
      case 'num':
        return cInt(e.v);
      case 'name': {
        const v = this.vars.get(e.name);
        if (v) {
          if (v.type !== 'int') throw new NotExportable(`'${e.name}' is not a number here`, e.pos);
          return `C->var[${v.idx}].v`;
        }
        const t = this.tasks.get(e.name);
        if (t !== undefined) return `((int64_t)C->task[${t}].pid)`;
        if (e.name === 'TEXT') {
          this.usesText = true;
          return cInt(BigInt(TEXT_BASE));
        }
        if (e.name === 'TEXT_FUNC') {
          this.usesText = true;
          return cInt(BigInt(TEXT_BASE + TEXT_FUNC_OFFSET));
        }
        const k = CONSTANTS.get(e.name);
        if (k !== undefined) return cInt(k);
        throw new NotExportable(`undefined name '${e.name}'`, e.pos);
      }
      case 'index': {
        if (e.base.k !== 'name') throw new NotExportable('only pipe() results can be indexed', e.pos);
        const v = this.vars.get(e.base.name);
        if (!v || v.type !== 'fds') throw new NotExportable(`'${e.base.name}' is not a pipe`, e.pos);
        return `((int64_t)C->var[${v.idx}].fd[(${this.int(e.index)}) & 1])`;
      }
      case 'unary': {
        const x = this.int(e.e);
        if (e.op === '-') return `((int64_t)(0ULL - (uint64_t)${x}))`;
        if (e.op === '~') return `((int64_t)~(uint64_t)${x})`;
        return `((int64_t)!${x})`;
      }
      case 'bin': {
        const l = this.int(e.l);
        const r = this.int(e.r);
        switch (e.op) {
          case '/':
          case '%':
            return `((int64_t)${l} ${e.op} (int64_t)${r})`;
          case '>>':
            return `((int64_t)${l} >> ${r})`;
          default:
            return `((int64_t)((uint64_t)${l} ${e.op} (uint64_t)${r}))`;
        }
      }
      default:
        throw new NotExportable('a number is needed here', e.pos);
    }
  }

  /** A bytes-valued expression (or a byte value) as a gs_bytes. */
  bytes(e: Expr): string {
    if (e.k === 'str') return cBytes(e.v);
    if (e.k === 'bytes') {
      const vals = e.items.map((i) => constValue(i));
      if (vals.every((v) => v !== undefined)) return cBytes(Uint8Array.from(vals.map((v) => Number(v))));
      return `((gs_bytes){ (const uint8_t[]){ ${e.items.map((i) => `(uint8_t)${this.int(i)}`).join(', ')} }, ${e.items.length} })`;
    }
    if (e.k === 'name') {
      const v = this.vars.get(e.name);
      if (v?.type === 'bytes') return `((gs_bytes){ C->arena + C->var[${v.idx}].off, C->var[${v.idx}].len })`;
    }
    return `((gs_bytes){ (const uint8_t[]){ (uint8_t)${this.int(e)} }, 1 })`;
  }

  iov(e: Expr): string {
    const flat: [Expr, Expr][] = [];
    const walk = (x: Expr): void => {
      if (x.k !== 'bytes') throw new NotExportable('an iovec is {base, len}', x.pos);
      if (x.items.every((i) => i.k === 'bytes')) for (const i of x.items) walk(i);
      else if (x.items.length === 2) flat.push([x.items[0]!, x.items[1]!]);
      else throw new NotExportable('an iovec is {base, len}', x.pos);
    };
    walk(e);
    const items = flat.map(([b, l]) => `{ (uint64_t)${this.int(b)}, (uint64_t)${this.int(l)} }`).join(', ');
    return `((struct gs_iovs){ (const struct gs_iov[]){ ${items} }, ${flat.length} })`;
  }

  /** An argument after the C conversion of its parameter's kind. */
  arg(q: ParamDef, e: Expr | undefined, pos: Pos): string {
    if (e === undefined) return this.defaultArg(q, pos);
    switch (q.kind) {
      case 'addr':
      case 'ulong':
        return `((uint64_t)${this.int(e)})`;
      case 'long':
        return `((int64_t)${this.int(e)})`;
      case 'int':
        return `((int64_t)(int32_t)${this.int(e)})`;
      case 'uint':
        return `((uint64_t)(uint32_t)${this.int(e)})`;
      case 'pid':
        return `((int64_t)${this.int(e)})`;
      case 'str':
      case 'data':
        return this.bytes(e);
      case 'task':
      case 'mm': {
        if (e.k !== 'name' || !this.tasks.has(e.name)) throw new NotExportable(`'${q.name}' wants a task`, e.pos);
        return `T_${e.name}`;
      }
      case 'handler': {
        if (e.k !== 'name' || !HANDLER_C[e.name]) throw new NotExportable(`'${q.name}' wants a handler`, e.pos);
        return HANDLER_C[e.name]!;
      }
      case 'iovec':
        return this.iov(e);
    }
  }

  private defaultArg(q: ParamDef, pos: Pos): string {
    const d: Value | undefined = q.default;
    if (!d) throw new NotExportable(`missing argument '${q.name}'`, pos);
    switch (d.t) {
      case 'int': {
        const n = d.v;
        switch (q.kind) {
          case 'addr':
          case 'ulong':
            return `((uint64_t)${cInt(n)})`;
          case 'int':
            return `((int64_t)(int32_t)${cInt(n)})`;
          case 'uint':
            return `((uint64_t)(uint32_t)${cInt(n)})`;
          case 'data':
            return `((gs_bytes){ (const uint8_t[]){ (uint8_t)${cInt(n)} }, 1 })`;
          default:
            return cInt(n);
        }
      }
      case 'bytes':
        return cBytes(d.v);
      case 'handler':
        return HANDLER_C[d.v]!;
      default:
        throw new NotExportable(`no C for the default of '${q.name}'`, pos);
    }
  }
}

function cName(s: string): string {
  return JSON.stringify(s);
}

/**
 * Name tables the coordinator prints with, generated from the model's own naming functions
 * (constants.ts, kernel/errno.ts) so that both sides print the same names.
 */
function nameTables(): string {
  const errs: string[] = [];
  for (let e = 1; e < 4096; e++) if (errnoName(e) !== `E${e}`) errs.push(`\tcase ${e}: return "${errnoName(e)}";`);
  const sigs: string[] = [];
  for (let n = 1; n <= 64; n++) if (signalName(n) !== `SIG${n}`) sigs.push(`\tcase ${n}: return "${signalName(n)}";`);
  const codes: string[] = [];
  for (let n = 1; n <= 64; n++) {
    for (const c of [...Array.from({ length: 17 }, (_, i) => i - 8), 0x80]) {
      const name = siCodeName(n, c);
      if (name !== String(c)) codes.push(`\t\t{ ${n}, ${c}, "${name}" },`);
    }
  }
  return `static const char *gs_errno_name(int e)
{
\tstatic char buf[16];
\tswitch (e) {
${errs.join('\n')}
\t}
\tsnprintf(buf, sizeof buf, "E%d", e);
\treturn buf;
}
static const char *gs_signal_name(int s)
{
\tstatic char buf[16];
\tswitch (s) {
${sigs.join('\n')}
\t}
\tsnprintf(buf, sizeof buf, "SIG%d", s);
\treturn buf;
}
static const char *gs_code_name(int sig, int code)
{
\tstatic char buf[16];
\tstatic const struct { int sig, code; const char *name; } t[] = {
${codes.join('\n')}
\t};
\tfor (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
\t\tif (t[i].sig == sig && t[i].code == code) return t[i].name;
\tsnprintf(buf, sizeof buf, "%d", code);
\treturn buf;
}
`;
}

/** Turn a scenario into a C program for the real-kernel oracle. Throws NotExportable or ScenarioError. */
export function exportC(source: string, file: string, opts: ExportOptions = {}): ExportResult {
  const script: Script = parseScenario(source, file);
  const checker = new Checker(source, opts.profile);
  const em = new Emitter();
  const main: string[] = [];
  const meta: string[] = [];
  const worker: string[] = [];
  const coord: string[] = [];
  // A kernel-internal step anywhere makes the whole scenario model-only: say so first.
  {
    const pre = new Checker(source, opts.profile);
    for (const st of script.stmts) {
      const c = pre.check(st);
      if (c.k === 'step') notExportableStep(c.step, opts);
    }
  }
  let step = 0;
  for (const st of script.stmts) {
    const c = checker.check(st);
    if (c.k === 'task') {
      const idx = em.taskIndex(c.name);
      main.push(c.uid ? `\tgs_task(T_${c.name}, 1, (long)${em.int(c.uid)});` : `\tgs_task(T_${c.name}, 0, 0);`);
      void idx;
      continue;
    }
    if (c.k !== 'step') continue;
    step++;
    emitStep(em, c.step, step, meta, worker, coord, opts);
    main.push(`\tgs_run(${step});`);
  }
  if (checker.headers.modelOnly) {
    const first = script.stmts.find((s) => s.k === 'model-only');
    if (first) throw new NotExportable('the scenario says it is model-only', first.pos);
  }
  const bootArgs = checker.headers.pku ? [] : ['nopku'];
  const tasks = em.taskNames;
  const out: string[] = [];
  out.push(`/* ---- generated from ${file.replace(/\*\//g, '* /')} ---------------------------------------------------- */\n`);
  out.push(`enum { ${tasks.map((t, i) => `T_${t} = ${i}`).join(', ')}${tasks.length ? ', ' : ''}GS_NTASKS = ${tasks.length} };\n`);
  out.push(`static const char *const gs_tnames[] = { ${tasks.map(cName).join(', ')}${tasks.length ? '' : '""'} };\n`);
  out.push('static const char *gs_task_name(int idx) { return idx >= 0 && idx < GS_NTASKS ? gs_tnames[idx] : "-"; }\n');
  out.push(`static const struct gs_meta gs_metas[] = {\n${meta.join('\n')}\n\t{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }\n};\n`);
  out.push('static const struct gs_meta *gs_meta_of(int step) { return &gs_metas[step - 1]; }\n');
  out.push(nameTables());
  out.push(`static void gs_step(int step, struct gs_worker *w)
{
	int64_t ret = 0;
	int cerr = -1, hasret = 1;
	uint64_t rlen = 0;
	switch (step) {
${worker.join('\n')}
	default:
		gs_anomaly("no such step");
	}
	R()->has_ret = hasret;
	R()->ret = ret;
	R()->cerr = cerr;
	R()->rlen = rlen;
}
`);
  out.push(`static void gs_cstep(int step)
{
	int64_t ret = 0;
	int cerr = -1, hasret = 1, tpid = 0;
	uint64_t rlen = 0;
	(void)tpid;
	switch (step) {
${coord.join('\n')}
	default:
		gs_anomaly("no such step");
	}
	R()->has_ret = hasret;
	R()->ret = ret;
	R()->cerr = cerr;
	R()->rlen = rlen;
}
`);
  out.push(`int main(int argc, char **argv)
{
	gs_uses_text = ${em.usesText ? 1 : 0};
	gs_uses_disk = ${em.usesFiles ? 1 : 0};
	gs_ntasks_decl = GS_NTASKS;
	if (argc >= 4 && strcmp(argv[1], "--gupsim-resume") == 0) return gs_resume(atoi(argv[2]), atoi(argv[3]));
	gs_setup();
	${em.usesModule ? 'gs_load_module(gs_module, gs_module_len);' : '(void)gs_module;\n\t(void)gs_module_len;'}
	printf("# gupsim-oracle begin file=%s steps=${step} pku=%d\\n", ${cName(file)}, C->pku);
	fflush(stdout);
${main.join('\n')}
	gs_abort_all();
	printf("# gupsim-oracle end steps=${step}\\n");
	fflush(stdout);
	return 0;
}
`);
  const generated = out.join('\n');
  const image = em.usesModule && opts.kernelModule instanceof Uint8Array ? opts.kernelModule : new Uint8Array(0);
  const moduleChunk = `/* the oracle's test module (oracle/gupsim_gup.c), ${image.length} bytes */\nstatic const unsigned char gs_module[${image.length || 1}] = {${cBytesArray(image)}};\nstatic const unsigned long gs_module_len = ${image.length};\n`;
  const behaviour = scenarioBehaviour(script, bootArgs);
  return { c: C_RUNTIME + '\n' + moduleChunk + '\n' + generated, steps: step, bootArgs, behaviour, usesModule: em.usesModule };
}

/** Throws if a step cannot be part of an exported program. */
function notExportableStep(s: CheckedStep, opts: ExportOptions): void {
  const def = s.def;
  if (def.kind === 'kernel') {
    if (!def.c) throw new NotExportable(`${def.name} is kernel code the oracle's test module does not call`, s.stmt.namePos);
    if (!opts.kernelModule) {
      throw new NotExportable(`${def.name} is kernel code: it needs the oracle's test module (gupsim oracle builds it; export-c --module FILE)`, s.stmt.namePos);
    }
    return;
  }
  if (isModelOnly(def) && !C_MODEL_ONLY_EXPORTABLE.has(def.name)) throw new NotExportable(`${def.name} is model-only`, s.stmt.namePos);
  if (!def.c) throw new NotExportable(`${def.name} has no C emitter yet`, s.stmt.namePos);
}

function emitStep(em: Emitter, s: CheckedStep, no: number, meta: string[], worker: string[], coord: string[], opts: ExportOptions): void {
  const def = s.def;
  const pos = s.stmt.pos;
  notExportableStep(s, opts);
  if (def.kind === 'kernel') em.usesModule = true;
  const inKthread = s.who.kind === 'kworker' || s.who.kind === 'kthread';
  const inCoord = def.kind === 'query' || def.kind === 'setup' || def.context === 'machine' || inKthread;
  const taskIdx = s.who.kind === 'task' ? em.taskIndex(s.who.name) : -1;
  // Arguments are compiled with the names bound *before* this step.
  const args: Record<string, string> = {};
  s.params.forEach((q, i) => {
    args[q.name] = em.arg(q, s.args[i], pos);
    if (q.kind === 'str') em.usesFiles = true;
  });
  const bindName = s.stmt.bind?.name;
  let child = -1;
  let bindVar = -1;
  let vt = 'VT_INT';
  if (bindName) {
    if (def.createsTask) child = em.taskIndex(bindName);
    else {
      const type: VarType = def.result === 'bytes' ? 'bytes' : def.result === 'fds' ? 'fds' : 'int';
      vt = type === 'bytes' ? 'VT_BYTES' : type === 'fds' ? 'VT_FDS' : 'VT_INT';
      bindVar = em.bindVar(bindName, type);
    }
  }
  const ctx: CEmitCtx = { args, step: no, task: s.who.name };
  if (bindName) ctx.bind = bindName;
  const code = def.c!(ctx);
  const symdef = def.result === 'addr';
  const symName = bindName ?? `s${no}`;
  meta.push(`\t{ ${no}, ${taskIdx}, ${cName(s.who.name)}, ${cName(def.name)}, ${RK[def.result] ?? 'RK_INT'}, ${inCoord ? 1 : 0}, ${SPECIAL[def.name] ?? 'SP_NONE'}, ` +
    `${bindVar}, ${cName(symName)}, ${vt}, ${symdef ? 1 : 0}, ${child} },`);
  const body = `\tcase ${no}: { /* line ${pos.line}: ${s.stmt.text.replace(/\*\//g, '* /').replace(/\s+/g, ' ').slice(0, 100)} */\n` +
    (inCoord && taskIdx >= 0 ? `\t\ttpid = C->task[${taskIdx}].pid;\n` : '') +
    `\t\t${code}\n\t\tbreak;\n\t}`;
  (inCoord ? coord : worker).push(body);
}

/** The statements that act, as JSON without source positions or text (see ExportResult.behaviour). */
export function scenarioBehaviour(script: Script, bootArgs: string[]): string {
  const strip = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return Array.from(v);
    if (typeof v === 'bigint') return v.toString();
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (!['pos', 'namePos', 'expect', 'expectPos', 'text'].includes(k)) o[k] = strip(x);
      return o;
    }
    return v;
  };
  const acts = script.stmts.filter((st) => st.k === 'task' || st.k === 'step' || st.k === 'machine');
  return JSON.stringify({ boot: bootArgs, acts: strip(acts) });
}

/** Whether a scenario can be exported, and why not. */
export function exportability(source: string, file: string, opts: ExportOptions = {}): { ok: true } | { ok: false; reason: string; line: number } {
  try {
    exportC(source, file, opts);
    return { ok: true };
  } catch (e) {
    if (e instanceof NotExportable || e instanceof ScenarioError) return { ok: false, reason: e.message, line: e.pos.line };
    throw e;
  }
}
