// The decisive check of a step's kernel path, and the path as a tree: DOM-free, shared by the
// page's trace view and the tests.
import type { TraceEvent } from '../../../src/trace/trace.js';
import type { Outcome } from '../../../src/scenario/outcome.js';
import { decisiveIndex } from '../../../src/scenario/trace_render.js';

export type Decision = Extract<TraceEvent, { kind: 'decision' }>;
export type Leaf = Decision | Extract<TraceEvent, { kind: 'log' }>;

export interface TraceNode {
  fn: string;
  detail?: string;
  ret?: string;
  children: (TraceNode | Leaf)[];
}

/** Pair enter/exit events into a tree (unclosed calls stay open; stray exits are ignored). */
export function traceTree(events: readonly TraceEvent[]): (TraceNode | Leaf)[] {
  const root: TraceNode = { fn: '', children: [] };
  const stack: TraceNode[] = [root];
  for (const e of events) {
    const top = stack[stack.length - 1]!;
    if (e.kind === 'enter') {
      const n: TraceNode = { fn: e.fn, children: [] };
      if (e.detail !== undefined) n.detail = e.detail;
      top.children.push(n);
      stack.push(n);
    } else if (e.kind === 'exit') {
      const i = stack.map((n) => n.fn).lastIndexOf(e.fn);
      if (i > 0) {
        if (e.ret !== undefined) stack[i]!.ret = e.ret;
        stack.length = i;
      }
    } else top.children.push(e);
  }
  return root.children;
}

const X86_PF_PK = 0x20;
/** The notes user-mode steps and uaccess leave: which PKRU the MMU checks (or that none applies). */
const MMU_NOTE = /PKRU of pid (\d+) = (0x[0-9a-f]+) is checked by the MMU|no PKRU applies/;

function pfError(text: string | undefined): number | null {
  const m = /(?:#PF error|error_code=)\s*(0x[0-9a-f]+)/i.exec(text ?? '');
  return m ? Number(m[1]) : null;
}

/** The error code of the page fault whose handling encloses events[i], if any. */
function enclosingFault(events: readonly TraceEvent[], i: number): number | null {
  let depth = 0;
  for (let j = i - 1; j >= 0; j--) {
    const e = events[j]!;
    if (e.kind === 'exit') depth++;
    else if (e.kind === 'enter') {
      if (depth > 0) depth--;
      else if (e.fn === 'do_user_addr_fault') return pfError(e.detail);
    }
  }
  return null;
}

/** A check that concerns protection keys: a PKRU consulted, or a reason none was. */
function isKeyCheck(events: readonly TraceEvent[], i: number): boolean {
  const d = events[i] as Decision;
  if (d.rule === 'HW-1' && d.check === 'mmu') return ((pfError(d.detail) ?? 0) & X86_PF_PK) !== 0;
  // A fault the CPU raised for a key (PK in its error code): the checks handling it deny for the key.
  if (d.result === 'deny' && ((enclosingFault(events, i) ?? 0) & X86_PF_PK) !== 0) return true;
  return /^(GUP-1|GUP-2|CON-7)$/.test(d.rule) || /PKRU|pkey \d+ (read|write|not checked)/i.test(d.detail);
}

export interface Verdict {
  d: Decision;
  result: 'allow' | 'deny' | 'bypass';
  /** The decision is a protection-key check (else: a denial for another reason). */
  key: boolean;
  /** Whose PKRU, and its value, when the trace says. */
  pkru?: { pid: string; value: string };
}

/** The PKRU named by the decision itself, or by the MMU note before it. */
function pkruFor(events: readonly TraceEvent[], i: number): Verdict['pkru'] {
  const d = events[i] as Decision;
  const own = /PKRU of pid (\d+)\s*=\s*(0x[0-9a-f]+)/i.exec(d.detail) ?? /pid (\d+)\b.*\(PKRU (0x[0-9a-f]+)\)/i.exec(d.detail);
  if (own) return { pid: own[1]!, value: own[2]! };
  for (let j = i - 1; j >= 0; j--) {
    const e = events[j]!;
    const m = e.kind === 'decision' ? MMU_NOTE.exec(e.detail) : null;
    if (m?.[1]) return { pid: m[1], value: m[2]! };
  }
  return undefined;
}

function verdict(events: readonly TraceEvent[], i: number, result: Verdict['result'], key: boolean): Verdict {
  const v: Verdict = { d: events[i] as Decision, result, key };
  const p = key && result !== 'bypass' ? pkruFor(events, i) : undefined;
  if (p) v.pkru = p;
  return v;
}

/**
 * The decisive check of a step. A denied step: the check `gupsim run --trace` marks decisive
 * (decisiveIndex). Otherwise the last protection-key check of the kernel path (allowed, or
 * bypassed for a foreign access), else the MMU's check noted for a user-mode access or a uaccess.
 */
export function decisiveCheck(events: readonly TraceEvent[], o: Outcome): Verdict | null {
  const i = decisiveIndex([...events], o);
  if (i >= 0 && events[i]!.kind === 'decision') return verdict(events, i, 'deny', isKeyCheck(events, i));
  let pass = -1;
  let note = -1;
  events.forEach((e, j) => {
    if (e.kind !== 'decision') return;
    if ((e.result === 'allow' || e.result === 'bypass') && isKeyCheck(events, j)) pass = j;
    else if (e.result === 'info' && note < 0 && MMU_NOTE.test(e.detail)) note = j;
  });
  if (pass >= 0) return verdict(events, pass, (events[pass] as Decision).result === 'bypass' ? 'bypass' : 'allow', true);
  if (note >= 0) return verdict(events, note, /no PKRU applies/.test((events[note] as Decision).detail) ? 'bypass' : 'allow', true);
  return null;
}

/** Every protection-key check of the step that let it through or did not apply, in order, once each. */
export function keyChecks(events: readonly TraceEvent[]): Verdict[] {
  const out: Verdict[] = [];
  const seen = new Set<string>();
  events.forEach((e, j) => {
    if (e.kind !== 'decision') return;
    let v: Verdict | null = null;
    if ((e.result === 'allow' || e.result === 'bypass') && isKeyCheck(events, j)) v = verdict(events, j, e.result, true);
    else if (e.result === 'info' && MMU_NOTE.test(e.detail)) v = verdict(events, j, /no PKRU applies/.test(e.detail) ? 'bypass' : 'allow', true);
    const k = v ? decisiveSummary(v) : '';
    if (v && !seen.has(k)) {
      seen.add(k);
      out.push(v);
    }
  });
  return out;
}

/** One line saying whose PKRU decided, or why none was consulted. */
export function decisiveSummary(v: Verdict | null): string {
  if (!v) return 'No protection-key check in this step\'s kernel path.';
  const { d } = v;
  if (!v.key) return `Denied by ${d.check} (${d.rule}), not by a protection key: ${d.detail}`;
  if (v.result === 'bypass') return `No PKRU consulted (${d.check}): ${d.detail}`;
  const who = v.pkru ? `PKRU of pid ${v.pkru.pid} = ${v.pkru.value}` : 'PKRU';
  const by = d.check === 'access_error' ? 'the MMU (a protection-key fault, then access_error)' : d.check;
  return `${who} consulted by ${by}: ${v.result === 'allow' ? 'allowed' : 'denied'} (${d.detail})`;
}
