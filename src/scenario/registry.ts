// The step registry: every call a scenario can make, in one table. An entry says which arguments a
// step takes (and how to convert them, as C would), whether user space can do it, how to run it on
// the model, how strace would print it, and optionally how to write it in C for the oracle.
//
// Adding a step is a few lines:
//
//   registerStep({
//     name: 'vmsplice', kind: 'syscall', result: 'int',
//     params: [p('fd', 'int'), p('iov', 'iovec'), p('nr_segs', 'ulong'), p('flags', 'uint', SPLICE_F)],
//     run: (ctx, a) => ({ ret: sysVmsplice(ctx.m, a.num('fd'), a.iov('iov'), a.num('flags')) }),
//   });
//
// An entry without `run` parses and type-checks, and reports "not yet modelled" when executed.
import type { Sim, Thread } from '../api.js';
import type { Machine } from '../kernel/machine.js';
import type { ProfileName } from '../profiles/profile.js';
import type { Task } from '../kernel/task.js';
import type { SignalDelivery } from '../kernel/signal.js';
import type { UserAccessResult } from '../kernel/usermode.js';
import type { EnumSet, FlagSet } from './constants.js';
import type { FieldValue, RetKind, SymbolTable } from './outcome.js';

/** A runtime value of the language. */
export type Value =
  | { t: 'int'; v: bigint }
  | { t: 'bytes'; v: Uint8Array }
  | { t: 'task'; name: string }
  | { t: 'fds'; v: [bigint, bigint] }
  | { t: 'handler'; v: HandlerName }
  | { t: 'iov'; v: { base: bigint; len: bigint }[] };

/**
 * Signal handlers a scenario can install (the model runs them: kernel/task.ts SigAction): 'skip'
 * records the signal and returns past the interrupted instruction, 'retry' returns and lets it
 * re-execute, 'longjmp' siglongjmp()s out (PKRU stays the handler's), 'exit' ends the thread.
 */
export type HandlerName = 'skip' | 'retry' | 'longjmp' | 'exit' | 'SIG_DFL' | 'SIG_IGN';
export const HANDLERS: readonly HandlerName[] = ['skip', 'retry', 'longjmp', 'exit', 'SIG_DFL', 'SIG_IGN'];

/** The static type of an expression. */
export type VType = Value['t'];

/**
 * Argument kinds, with C's conversions:
 *  addr, ulong: unsigned 64-bit (-1 becomes 0xffffffffffffffff); long: signed 64-bit;
 *  int: signed 32-bit; uint: unsigned 32-bit (both accept -2^31 .. 2^32-1, as a C cast would);
 *  str: a string (paths); data: bytes, or one byte value; task: a task name (tsk arguments);
 *  pid: a task name (its pid) or a number;
 *  mm: a task name, meaning its mm; handler: skip | retry | SIG_DFL | SIG_IGN;
 *  iovec: {base, len} or {{base, len}, ...}.
 */
export type ArgKind = 'addr' | 'ulong' | 'long' | 'int' | 'uint' | 'str' | 'data' | 'task' | 'pid' | 'mm' | 'handler' | 'iovec';

/** How strace prints an argument. */
export type ArgFormat = FlagSet | EnumSet | 'dec' | 'hex' | 'oct' | 'ptr' | 'str' | 'signal';

export interface ParamDef {
  name: string;
  kind: ArgKind;
  fmt?: ArgFormat;
  /** Value used when the argument is left out (makes the parameter optional). */
  default?: Value;
}

/** Shorthand for a parameter. */
export function p(name: string, kind: ArgKind, fmt?: ArgFormat, def?: Value | bigint | number): ParamDef {
  const out: ParamDef = { name, kind };
  if (fmt !== undefined) out.fmt = fmt;
  if (def !== undefined) out.default = typeof def === 'object' ? def : { t: 'int', v: BigInt(def) };
  return out;
}

/** Converted arguments, by parameter name. */
export interface Args {
  /** Numeric argument as the model takes it (a JS number; exact below 2^53). */
  num(name: string): number;
  /** Numeric argument exactly, after the C conversion. */
  big(name: string): bigint;
  str(name: string): string;
  bytes(name: string): Uint8Array;
  task(name: string): TaskRef;
  handler(name: string): HandlerName;
  iov(name: string): { base: number; len: number }[];
  /** The argument was written (not defaulted). */
  given(name: string): boolean;
  /** The evaluated value (for printing). */
  value(name: string): Value;
}

export interface TaskRef {
  name: string;
  thread: Thread;
  task: Task;
}

export interface RunCtx {
  readonly sim: Sim;
  readonly m: Machine;
  /** The task the step runs in; null for kworker/kthread and machine-level steps. */
  readonly thread: Thread | null;
  /** For kernel-context steps: the task that is `current` (a kernel thread for kworker/kthread). */
  readonly current: Task;
  readonly taskName: string;
  /** The name the result is bound to, if any. */
  readonly bind?: string;
  readonly symbols: SymbolTable;
  /** The calling thread; throws a scenario error for steps without one. */
  self(): Thread;
  lookupTask(name: string): TaskRef;
  /** The scenario name of the task with this pid (or the pid as text). */
  nameOfPid(pid: number): string;
  /** Register a task created by this step (fork/clone) under the bound name. */
  addTask(name: string, t: Thread): void;
}

export interface StepResult {
  /** Raw return in the kernel's convention (-errno on error), unless `cret` is given. */
  ret?: number | bigint;
  /** A C-library return already in C form (-1) with this errno (e.g. glibc's pkey_set). */
  cErrno?: number;
  retTask?: string;
  /** The value a binding receives (default: the C-visible return value). */
  value?: Value;
  /** Region length for an address result (symbol table). */
  regionLen?: number;
  access?: UserAccessResult;
  signals?: SignalDelivery[];
  killed?: boolean;
  exited?: number;
  data?: Uint8Array;
  fields?: Record<string, FieldValue>;
  info?: Record<string, FieldValue>;
  text?: string;
  /** Extra text for the strace line (after the call), e.g. a decoded structure. */
  note?: string;
  notModelled?: string;
}

/** What strace-style printing gets. */
export interface PrintCtx {
  def: StepDef;
  args: Args;
  res: StepResult;
  /** The return value already formatted (` = 0`, ` = -1 EFAULT (Bad address)`). */
  retText: string;
  /** The C-visible return value, and whether the call succeeded. */
  ret: bigint | undefined;
  ok: boolean;
  m: Machine;
  thread: Thread | null;
}

/** What C emission gets: each argument as a C expression. */
export interface CEmitCtx {
  args: Record<string, string>;
  bind?: string;
  step: number;
  task: string;
}

export type StepKind = 'syscall' | 'user' | 'query' | 'setup' | 'kernel';

export interface StepDef {
  name: string;
  /**
   * syscall: a system call; user: a user-mode instruction or libc helper; query: reads /proc or
   * model state; setup: machine-level preparation; kernel: kernel code (kworker, kthread, or a
   * task's kernel context) that user space cannot invoke directly (makes the scenario model-only).
   */
  kind: StepKind;
  params: ParamDef[];
  /** Profile-specific signatures (the 2016 GUP API differs from today's); default: params. */
  paramsFor?: (profile: ProfileName) => ParamDef[];
  /** Why the step does not exist under a profile (e.g. a 2016-only GUP variant under linux-6.12). */
  unavailable?: (profile: ProfileName) => string | undefined;
  /** Only the model can do it (reads PTEs, checks invariants): the scenario is model-only. */
  modelOnly?: boolean;
  /** How the return value prints and binds. */
  result: RetKind | 'bytes' | 'fds';
  /** Runs in a task (default), needs no task (setup), or may run in a kworker/kthread (kernel). */
  context?: 'task' | 'machine' | 'kernel';
  /** Binding the result creates a task (fork, clone). */
  createsTask?: boolean;
  /** The name strace prints (e.g. openat, pread64, exit_group). */
  straceName?: string;
  /** Full control over the strace line (without the [pid N] prefix). */
  strace?: (c: PrintCtx) => string;
  /** The kernel entry point shown at the root of the trace tree. */
  kfn?: string;
  /** Canonical/expectable fields this step produces (for checks and help). */
  fields?: string[];
  /** Absent: the step parses but reports "not yet modelled". */
  run?: (ctx: RunCtx, a: Args) => StepResult;
  /** C for the oracle (export-c): statements that perform the step and set `ret`. */
  c?: (c: CEmitCtx) => string;
  /** One line of help. */
  doc: string;
}

const REGISTRY = new Map<string, StepDef>();
const ALIASES = new Map<string, string>();

/** Add a step. Replacing an entry is allowed only for a placeholder (no `run`) or with replace=true. */
export function registerStep(def: StepDef, opts: { aliases?: string[]; replace?: boolean } = {}): void {
  const old = REGISTRY.get(def.name);
  if (old && old.run && !opts.replace) throw new Error(`step ${def.name} is already registered`);
  REGISTRY.set(def.name, def);
  for (const a of opts.aliases ?? []) ALIASES.set(a, def.name);
}

export function lookupStep(name: string): StepDef | undefined {
  return REGISTRY.get(name) ?? REGISTRY.get(ALIASES.get(name) ?? '');
}

export function allSteps(): StepDef[] {
  return [...REGISTRY.values()];
}

export function stepNames(): string[] {
  return [...REGISTRY.keys(), ...ALIASES.keys()];
}

export function paramsOf(def: StepDef, profile: ProfileName): ParamDef[] {
  return def.paramsFor ? def.paramsFor(profile) : def.params;
}

export function signature(def: StepDef, profile?: ProfileName): string {
  const params = profile ? paramsOf(def, profile) : def.params;
  return `${def.name}(${params.map((q) => (q.default !== undefined ? `[${q.name}]` : q.name)).join(', ')})`;
}

/** Kernel-context and model-only steps cannot be run by a user-space C program. */
export function isModelOnly(def: StepDef): boolean {
  return def.kind === 'kernel' || def.modelOnly === true;
}
