// The strace-like log of all steps: executed steps with their lines, signals and expectation
// results; steps not run yet in grey. Clicking a step jumps to it. Rows are built once and only
// their classes change while stepping, so long scenarios step quickly.
import { h } from '../dom.js';
import type { StepRecord } from '../model/timeline.js';

export interface LogView {
  el: HTMLElement;
  /** Rebuild for a new run: one row per step statement. */
  reset(stepTexts: { line: number; text: string }[]): void;
  /** Fill in the rows of newly executed steps. */
  update(records: readonly StepRecord[]): void;
  setCurrent(no: number): void;
}

function expectText(r: StepRecord): HTMLElement | null {
  if (r.expects.length === 0) return null;
  const bad = r.expects.filter((e) => !e.ok && !e.skipped);
  const skipped = r.expects.filter((e) => e.skipped);
  if (bad.length) {
    return h('div', { class: 'log-expect log-fail' }, bad.map((e) =>
      h('div', null, h('span', { class: 'badge' }, 'FAIL'), ` expect ${e.src}: expected ${e.expected}, got ${e.actual}`)));
  }
  if (skipped.length === r.expects.length) return h('div', { class: 'log-expect' }, h('span', { class: 'badge' }, 'SKIP'), ' expectations not run');
  return h('div', { class: 'log-expect log-pass' }, h('span', { class: 'badge' }, 'PASS'), ` ${r.expects.map((e) => e.src).join(', ')}`);
}

export function createLogView(onPick: (no: number) => void): LogView {
  const list = h('ol', { class: 'log', 'aria-label': 'steps' });
  let rows: HTMLElement[] = [];
  let filled = 0;
  let current = -1;
  const el = h('div', { class: 'log-wrap' }, list);
  const row = (no: number, body: HTMLElement[]): HTMLElement =>
    h('li', { class: 'log-row', 'data-step': no, onclick: () => onPick(no) }, h('span', { class: 'log-no' }, String(no)), h('div', { class: 'log-body' }, body));
  return {
    el,
    reset(stepTexts) {
      filled = 0;
      current = -1;
      rows = [row(0, [h('span', { class: 'dim' }, 'start: tasks created, no step run')])];
      stepTexts.forEach((s, i) => {
        const r = row(i + 1, [h('span', { class: 'log-src' }, s.text)]);
        r.classList.add('log-pending');
        r.title = `line ${s.line}: not run yet (click to run up to here)`;
        rows.push(r);
      });
      list.replaceChildren(...rows);
    },
    update(records) {
      for (let i = Math.max(1, filled); i < records.length; i++) {
        const r = records[i]!;
        const rep = r.report;
        const el = rows[i];
        if (!el || !rep) continue;
        el.classList.remove('log-pending');
        el.title = `line ${rep.pos.line}`;
        const fail = r.expects.some((e) => !e.ok && !e.skipped);
        if (fail) el.classList.add('log-has-fail');
        if (rep.outcome.signals.length) el.classList.add('log-has-signal');
        const body: HTMLElement[] = [h('div', { class: 'log-line' }, h('span', { class: 'log-prefix' }, rep.prefix), ' ', rep.line)];
        if (rep.extra.length) body.push(h('div', { class: 'log-extra' }, rep.extra.map((x) => h('div', null, x))));
        const exp = expectText(r);
        if (exp) body.push(exp);
        el.querySelector('.log-body')!.replaceChildren(...body);
      }
      filled = records.length;
    },
    setCurrent(no) {
      if (current >= 0) rows[current]?.classList.remove('log-current');
      current = no;
      const el = rows[no];
      if (el) {
        el.classList.add('log-current');
        el.scrollIntoView({ block: 'nearest' });
      }
    },
  };
}
