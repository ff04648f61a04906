// The kernel path of one step as a collapsible tree (the events `gupsim run --trace` prints), with
// the decisive protection-key check marked: whose PKRU was consulted, or why none was.
import type { TraceEvent } from '../../../src/trace/trace.js';
import type { Outcome } from '../../../src/scenario/outcome.js';
import { h } from '../dom.js';
import { decisiveCheck, decisiveSummary, keyChecks, traceTree, type Leaf, type TraceNode, type Verdict } from '../model/decisive.js';

const MAX_NODES = 3000;

function badge(v: Verdict | null): HTMLElement {
  return h('span', { class: 'badge' }, !v ? 'NO KEY CHECK' : v.result === 'bypass' ? 'NO PKRU' : v.result.toUpperCase());
}

/** Fold and unfold calls (one listener on the panel). */
export function foldOnClick(panel: HTMLElement): void {
  panel.addEventListener('click', (e) => {
    const sum = (e.target as HTMLElement).closest<HTMLElement>('.tr-sum');
    const call = sum?.parentElement;
    if (!sum || !call?.querySelector(':scope > ul')) return;
    const closed = call.classList.toggle('tr-closed');
    sum.setAttribute('aria-expanded', String(!closed));
    sum.querySelector('.tr-fold')!.textContent = closed ? '▸ ' : '▾ ';
  });
}

export function renderTrace(events: readonly TraceEvent[], o: Outcome, stepLabel: string): HTMLElement {
  if (events.length === 0) return h('p', { class: 'empty' }, `${stepLabel}: no kernel events.`);
  const decisive = decisiveCheck(events, o);
  let budget = MAX_NODES;
  const leafEl = (e: Leaf): HTMLElement => {
    if (e.kind === 'log') return h('li', { class: `tr-log tr-${e.level}` }, h('span', { class: 'badge' }, e.level.toUpperCase()), ` ${e.msg}`);
    const dec = e === decisive?.d;
    return h('li', { class: `tr-decision tr-${e.result}` + (dec ? ' decisive' : ''), 'data-rule': e.rule, 'data-result': e.result },
      dec ? h('span', { class: 'decisive-mark', title: 'the decisive protection-key check' }, '◆ decisive ') : null,
      h('span', { class: 'badge' }, e.result.toUpperCase()), ' ',
      h('span', { class: 'rule' }, e.rule), ' ', h('b', null, e.check), `: ${e.detail}`);
  };
  const nodeEl = (n: TraceNode): HTMLElement => {
    budget--;
    const kids: HTMLElement[] = [];
    for (const c of n.children) {
      if (budget <= 0) {
        kids.push(h('li', { class: 'dim' }, '… (more events not shown)'));
        break;
      }
      kids.push('children' in c ? h('li', null, nodeEl(c)) : leafEl(c));
      budget--;
    }
    return h('div', { class: 'tr-call' },
      h('div', { class: 'tr-sum', role: 'button', 'aria-expanded': 'true', title: 'fold / unfold' },
        h('span', { class: 'tr-fold' }, kids.length ? '▾ ' : '  '), h('b', null, n.fn), n.detail ? h('span', { class: 'dim' }, `(${n.detail})`) : null,
        n.ret !== undefined ? h('span', { class: 'ret' }, ` = ${n.ret}`) : null),
      kids.length ? h('ul', null, kids) : null);
  };
  const top = traceTree(events);
  const shown = decisiveSummary(decisive);
  const others = keyChecks(events).filter((v) => decisiveSummary(v) !== shown).slice(0, 4);
  return h('div', { class: 'trace' },
    h('div', { class: 'decisive-summary' + (decisive ? ` tr-${decisive.result}` : ''), 'data-result': decisive?.result ?? 'none' },
      badge(decisive), ' ', decisiveSummary(decisive)),
    others.length ? h('ul', { class: 'key-checks', 'aria-label': 'other protection-key checks of this step' },
      others.map((v) => h('li', { class: `tr-${v.result}` }, badge(v), ' ', decisiveSummary(v)))) : null,
    h('ul', { class: 'trace-tree' }, top.map((c) => ('children' in c ? h('li', null, nodeEl(c)) : leafEl(c)))));
}
