// The kernel path of one step as an ftrace function_graph-style tree:
//
//   ksys_read() {                                  /* current = pid 100 (A) */
//     do_user_addr_fault(addr=0x7ffff7ffe000 error_code=0x2 [NOT-PRESENT|WRITE|KERNEL] pid=100) {
//       [GUP-1] arch_vma_access_permitted: DENY pkey 1 write vs PKRU of pid 100 = 0x55555554   <== decisive
//     } = SIGSEGV code=4
//     [UA-3] copy_to_user: DENY fault at 0x7ffff7ffe000 not fixable: ...
//   } = -14
//
// The decisive check of a denial is marked, and so is every check that was bypassed.
import type { TraceEvent } from '../trace/trace.js';
import type { Outcome } from './outcome.js';

export interface TraceLine {
  depth: number;
  text: string;
  /** 'deny' / 'bypass' for highlighted checks. */
  mark?: 'decisive' | 'bypass';
  kind: 'call' | 'decision' | 'log';
}

type Decision = Extract<TraceEvent, { kind: 'decision' }>;

/** How specific a denying check is: the most specific one is what decided. */
function rank(d: Decision): number {
  if (/arch_vma_access_permitted|check_vma_flags|pte_access_permitted|vma_permits_fault/.test(d.check)) return 5;
  if (d.check === 'mmu') {
    const m = /#PF error 0x([0-9a-f]+)/.exec(d.detail);
    if (m && parseInt(m[1]!, 16) & 0x20) return 4;
    return m && parseInt(m[1]!, 16) & 1 ? 3 : 1;
  }
  if (d.check === 'access_error') return 3;
  return 2;
}

/** The index of the decisive denial, if the step ended in one. */
export function decisiveIndex(events: TraceEvent[], o: Outcome): number {
  const denied = o.errno !== undefined || o.signals.length > 0;
  if (!denied) return -1;
  let best = -1;
  let bestRank = 0;
  events.forEach((e, i) => {
    if (e.kind !== 'decision' || e.result !== 'deny') return;
    const r = rank(e);
    if (r > bestRank) {
      best = i;
      bestRank = r;
    }
  });
  return best;
}

export function traceLines(events: TraceEvent[], o: Outcome): TraceLine[] {
  const decisive = decisiveIndex(events, o);
  const out: TraceLine[] = [];
  let depth = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    switch (e.kind) {
      case 'enter': {
        const next = events[i + 1];
        const args = e.detail && !e.detail.startsWith('current = ') ? e.detail : '';
        const note = e.detail?.startsWith('current = ') ? `  /* ${e.detail} */` : '';
        if (next && next.kind === 'exit' && next.fn === e.fn) {
          out.push({ depth, text: `${e.fn}(${args})${next.ret !== undefined ? ` = ${next.ret}` : ''};${note}`, kind: 'call' });
          i++;
        } else {
          out.push({ depth, text: `${e.fn}(${args}) {${note}`, kind: 'call' });
          depth++;
        }
        break;
      }
      case 'exit':
        depth = Math.max(0, depth - 1);
        out.push({ depth, text: `}${e.ret !== undefined ? ` = ${e.ret}` : ''}`, kind: 'call' });
        break;
      case 'decision': {
        const line: TraceLine = { depth, text: `[${e.rule}] ${e.check}: ${e.result === 'info' ? '' : e.result.toUpperCase() + ' '}${e.detail}`, kind: 'decision' };
        if (i === decisive) line.mark = 'decisive';
        else if (e.result === 'bypass') line.mark = 'bypass';
        out.push(line);
        break;
      }
      case 'log':
        out.push({ depth, text: `printk(${e.level}): ${e.msg}`, kind: 'log' });
        break;
    }
  }
  return out;
}

export interface Paint {
  decisive(s: string): string;
  bypass(s: string): string;
  dim(s: string): string;
}

export const NO_PAINT: Paint = { decisive: (s) => s, bypass: (s) => s, dim: (s) => s };

/** Text lines of the tree, each starting with `indent`. */
export function renderTrace(events: TraceEvent[], o: Outcome, indent = '        | ', paint: Paint = NO_PAINT): string[] {
  return traceLines(events, o).map((l) => {
    const body = '  '.repeat(l.depth) + l.text;
    if (l.mark === 'decisive') return indent + paint.decisive(body + '   <== decisive');
    if (l.mark === 'bypass') return indent + paint.bypass(body + '   <== bypass');
    return indent + (l.kind === 'log' ? paint.dim(body) : body);
  });
}
