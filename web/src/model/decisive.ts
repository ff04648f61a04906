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

/** A check that concerns protection keys: a PKRU consulted, or a reason none was. */
function isKeyCheck(d: Decision): boolean {
  if (d.rule === 'HW-1' && d.check === 'mmu') return ((Number(/#PF error (0x[0-9a-f]+)/i.exec(d.detail)?.[1] ?? 0)) & X86_PF_PK) !== 0;
  return /^(GUP-1|GUP-2|CON-7)$/.test(d.rule) || /PKRU|pkey \d+ (read|write|not checked)/i.test(d.detail);
}

const X86_PF_PK = 0x20;

/** User-mode steps record which PKRU the MMU uses (HW-1 info). */
function isUserModeNote(d: Decision): boolean {
  return d.rule === 'HW-1' && d.result === 'info' && /user mode/.test(d.detail);
}

export interface Verdict {
  d: Decision;
  result: 'allow' | 'deny' | 'bypass';
  /** The decision is a protection-key check (else: a denial for another reason). */
  key: boolean;
}

/**
 * The decisive check of a step. A denied step: the check `gupsim run --trace` marks decisive
 * (decisiveIndex). Otherwise the last protection-key check of the kernel path (allowed, or
 * bypassed for a foreign access), else the MMU's check of a user-mode access.
 */
export function decisiveCheck(events: readonly TraceEvent[], o: Outcome): Verdict | null {
  const i = decisiveIndex([...events], o);
  const di = i >= 0 ? events[i] : undefined;
  if (di?.kind === 'decision') return { d: di, result: 'deny', key: isKeyCheck(di) };
  const ds = events.filter((e): e is Decision => e.kind === 'decision');
  const pass = ds.filter((d) => (d.result === 'allow' || d.result === 'bypass') && isKeyCheck(d));
  const last = pass[pass.length - 1];
  if (last) return { d: last, result: last.result === 'bypass' ? 'bypass' : 'allow', key: true };
  const user = ds.find(isUserModeNote);
  if (user) return { d: user, result: /no PKRU applies/.test(user.detail) ? 'bypass' : 'allow', key: true };
  return null;
}

/** One line saying whose PKRU decided, or why none was consulted. */
export function decisiveSummary(v: Verdict | null): string {
  if (!v) return 'No protection-key check in this step\'s kernel path.';
  const { d } = v;
  if (!v.key) return `Denied by ${d.check} (${d.rule}), not by a protection key: ${d.detail}`;
  if (v.result === 'bypass') return `No PKRU consulted (${d.check}): ${d.detail}`;
  const m = /PKRU(?: of pid (\d+))?\s*=?\s*(0x[0-9a-f]+)/i.exec(d.detail);
  const pid = m?.[1] ?? /\bpid (\d+)/.exec(d.detail)?.[1];
  const who = m ? `PKRU${pid ? ` of pid ${pid}` : ''} = ${m[2]}` : 'PKRU';
  return `${who} consulted by ${d.check}: ${v.result === 'allow' ? 'allowed' : 'denied'} (${d.detail})`;
}

