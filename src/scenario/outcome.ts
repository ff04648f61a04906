// The outcome of one executed step, and its canonical one-line text form:
//
//   STEP 7 A store ret=0 sig=SIGSEGV code=SEGV_PKUERR addr=$p pkey=1
//
// The canonical line is what the model and the real-kernel oracle (a C program printing the same
// format) are diffed on, field by field. Values that differ between two runs of the same program
// on different systems are printed symbolically, never dropped:
//   - addresses: as `$name` or `$name+0xOFF` when they fall inside a region returned by a call
//     bound to `name` (unbound results are named `$sN`, N the step number); otherwise as hex;
//   - pids: as the task's name.
//
// Field order: ret, errno, then per signal sig/code/addr/pkey/sender (a new `sig=` starts a new signal),
// killed, exited, data, then the step's own fields in the order the step defines them.
// Values never contain spaces. `data` is the bytes as lowercase hex when at most 32 bytes, else
// `<len>B:fnv1a32=<8 hex digits>`.

export type FieldValue = string | number | bigint | { addr: bigint };

export interface SigOut {
  signo: number;
  sig: string;
  code: number;
  codeName: string;
  addr?: bigint;
  pkey?: number;
  /** Sender of a kill()/tgkill() signal: its task name (si_pid, printed symbolically), pid and si_uid. */
  sender?: string;
  pid?: number;
  uid?: number;
  /** The page-fault error code behind it (model detail, not canonical). */
  pfError?: number;
}

export type RetKind = 'int' | 'addr' | 'task' | 'hex' | 'none';

export interface Outcome {
  /** 1-based number of the executed step. */
  step: number;
  /** Source line of the step. */
  line: number;
  /** Task name, `kworker`/`kthread`, or `-` for machine-level steps. */
  task: string;
  pid: number | null;
  name: string;
  retKind: RetKind;
  /** The C-visible return value (-1 on error). */
  ret?: bigint;
  /** For retKind 'task': the task the value names. */
  retTask?: string;
  errno?: string;
  signals: SigOut[];
  killed?: string;
  exited?: number;
  data?: Uint8Array;
  /** Canonical extra fields (compared with the oracle). */
  fields: Record<string, FieldValue>;
  /** Model-only details (fault counter deltas, pids, PTEs): shown, never diffed. */
  info: Record<string, FieldValue>;
  /** Multi-line output (maps, smaps, a page walk). */
  text?: string;
  status: 'done' | 'not-modelled';
  note?: string;
}

export interface Sym {
  name: string;
  base: bigint;
  len: bigint;
}

/** A symbol table: later definitions win when regions overlap. */
export class SymbolTable {
  readonly syms: Sym[] = [];

  define(name: string, base: bigint, len: bigint): void {
    const i = this.syms.findIndex((s) => s.name === name);
    if (i >= 0) this.syms.splice(i, 1);
    this.syms.push({ name, base, len: len > 0n ? len : 1n });
  }

  /** `$p`, `$p+0x1000`, or plain hex; the end of a region counts as inside it. */
  symbolize(addr: bigint): string {
    for (let i = this.syms.length - 1; i >= 0; i--) {
      const s = this.syms[i]!;
      if (addr >= s.base && addr <= s.base + s.len) {
        const off = addr - s.base;
        return off === 0n ? `$${s.name}` : `$${s.name}+0x${off.toString(16)}`;
      }
    }
    return hex(addr);
  }
}

export function hex(v: bigint | number): string {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  return b < 0n ? '-0x' + (-b).toString(16) : '0x' + b.toString(16);
}

/** FNV-1a, 32 bits: trivial to write in C for the oracle. */
export function fnv1a32(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Two lowercase hex digits per byte value. */
const HEX2 = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function dataField(d: Uint8Array): string {
  if (d.length <= 32) {
    let s = '';
    for (let i = 0; i < d.length; i++) s += HEX2[d[i]!]!;
    return s;
  }
  return `${d.length}B:fnv1a32=${fnv1a32(d).toString(16).padStart(8, '0')}`;
}

function fieldText(v: FieldValue, syms: SymbolTable): string {
  if (typeof v === 'object') return syms.symbolize(v.addr);
  return String(v).replace(/\s+/g, '_');
}

export function retText(o: Outcome, syms: SymbolTable): string | undefined {
  if (o.retKind === 'none' || o.ret === undefined) return undefined;
  if (o.ret === -1n && o.errno !== undefined) return '-1';
  switch (o.retKind) {
    case 'addr':
      return syms.symbolize(o.ret);
    case 'task':
      return o.retTask ?? o.ret.toString();
    case 'hex':
      return hex(o.ret);
    default:
      return o.ret.toString();
  }
}

/** The canonical line of an outcome. */
export function canonicalLine(o: Outcome, syms: SymbolTable): string {
  // Built as one string (every step has one): no array of parts to join.
  let line = `STEP ${o.step} ${o.task} ${o.name}`;
  if (o.status === 'not-modelled') return line + ' status=not-modelled';
  const r = retText(o, syms);
  if (r !== undefined) line += ` ret=${r}`;
  if (o.errno) line += ` errno=${o.errno}`;
  for (const s of o.signals) {
    line += ` sig=${s.sig} code=${s.codeName}`;
    if (s.addr !== undefined) line += ` addr=${syms.symbolize(s.addr)}`;
    if (s.pkey !== undefined) line += ` pkey=${s.pkey}`;
    if (s.sender !== undefined) line += ` sender=${s.sender}`;
  }
  if (o.killed) line += ` killed=${o.killed}`;
  if (o.exited !== undefined) line += ` exited=${o.exited}`;
  if (o.data) line += ` data=${dataField(o.data)}`;
  for (const k in o.fields) line += ` ${k}=${fieldText(o.fields[k]!, syms)}`;
  return line;
}

/** A canonical line read back: what the oracle diffs. */
export interface CanonicalStep {
  step: number;
  task: string;
  name: string;
  /** Every key=value except the signal groups, in order (ret, errno, killed, data, fields...). */
  fields: [string, string][];
  signals: { sig: string; code?: string; addr?: string; pkey?: string; sender?: string }[];
}

const SIGNAL_KEYS = new Set(['code', 'addr', 'pkey', 'sender']);

/** Parse a canonical line; null if the line is not one (e.g. other program output). */
export function parseCanonicalLine(line: string): CanonicalStep | null {
  const words = line.trim().split(/ +/);
  if (words[0] !== 'STEP' || words.length < 4 || !/^\d+$/.test(words[1]!)) return null;
  const out: CanonicalStep = { step: Number(words[1]), task: words[2]!, name: words[3]!, fields: [], signals: [] };
  for (const w of words.slice(4)) {
    const eq = w.indexOf('=');
    if (eq <= 0) return null;
    const k = w.slice(0, eq);
    const v = w.slice(eq + 1);
    if (k === 'sig') out.signals.push({ sig: v });
    else if (SIGNAL_KEYS.has(k) && out.signals.length > 0 && out.signals[out.signals.length - 1]![k as 'code'] === undefined) {
      out.signals[out.signals.length - 1]![k as 'code' | 'addr' | 'pkey' | 'sender'] = v;
    } else out.fields.push([k, v]);
  }
  return out;
}

export interface FieldDiff {
  step: number;
  field: string;
  model?: string;
  kernel?: string;
}

/** Field-by-field differences between two canonical lines of the same step. */
export function diffCanonical(model: CanonicalStep, kernel: CanonicalStep): FieldDiff[] {
  const d: FieldDiff[] = [];
  const step = model.step;
  for (const k of ['task', 'name'] as const) if (model[k] !== kernel[k]) d.push({ step, field: k, model: model[k], kernel: kernel[k] });
  const mf = new Map(model.fields);
  const kf = new Map(kernel.fields);
  for (const k of new Set([...mf.keys(), ...kf.keys()])) {
    if (mf.get(k) !== kf.get(k)) d.push({ step, field: k, model: mf.get(k), kernel: kf.get(k) });
  }
  const n = Math.max(model.signals.length, kernel.signals.length);
  for (let i = 0; i < n; i++) {
    const a = model.signals[i];
    const b = kernel.signals[i];
    for (const k of ['sig', 'code', 'addr', 'pkey', 'sender'] as const) {
      if (a?.[k] !== b?.[k]) d.push({ step, field: `signal[${i}].${k}`, model: a?.[k], kernel: b?.[k] });
    }
  }
  return d;
}

/** JSON-safe form of an outcome (bigints as decimal strings, addresses as hex, bytes as hex). */
export function outcomeToJson(o: Outcome, syms: SymbolTable): Record<string, unknown> {
  const conv = (v: FieldValue): unknown => (typeof v === 'bigint' ? v.toString() : typeof v === 'object' ? hex(v.addr) : v);
  return {
    step: o.step,
    line: o.line,
    task: o.task,
    pid: o.pid,
    name: o.name,
    status: o.status,
    ret: o.ret === undefined ? null : o.retKind === 'addr' || o.retKind === 'hex' ? (o.ret < 0n ? o.ret.toString() : hex(o.ret)) : o.ret.toString(),
    retTask: o.retTask ?? null,
    errno: o.errno ?? null,
    signals: o.signals.map((s) => ({ sig: s.sig, code: s.codeName, addr: s.addr === undefined ? null : hex(s.addr), pkey: s.pkey ?? null, sender: s.sender ?? null })),
    killed: o.killed ?? null,
    exited: o.exited ?? null,
    data: o.data ? dataField(o.data) : null,
    fields: Object.fromEntries(Object.entries(o.fields).map(([k, v]) => [k, conv(v)])),
    info: Object.fromEntries(Object.entries(o.info).map(([k, v]) => [k, conv(v)])),
    text: o.text ?? null,
    note: o.note ?? null,
    canonical: canonicalLine(o, syms),
  };
}
