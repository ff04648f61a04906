// The visualiser's controller: the editor, the timeline (time travel over the run), the views, the
// URL and the keyboard. The model runs here, in the page.
import { keymap } from '@codemirror/view';
import { Prec } from '@codemirror/state';
import { ScenarioError, formatError } from '../../src/scenario/errors.js';
import { h, clear, hex } from './dom.js';
import { EXAMPLES } from './examples.js';
import { Timeline, type Focus, type StepRecord } from './model/timeline.js';
import { createEditor, type Editor } from './ui/editor.js';
import type { ScenarioProblem } from './ui/lang.js';
import { createLogView, type LogView } from './ui/logview.js';
import { ProcsView, type Selection } from './ui/procs.js';
import { foldOnClick, renderTrace } from './ui/traceview.js';
import { WalkPanel, walkModel } from './ui/walkview.js';
import { readUrl, writeUrl } from './url.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
};

const EDIT_DELAY_MS = 300;
const URL_DELAY_MS = 150;

export class App {
  readonly editor: Editor;
  timeline: Timeline | null = null;
  cursor = 0;
  problem: ScenarioProblem | null = null;
  /** Follow the current step's address in the walk, or keep the user's selection. */
  follow = true;
  private userSel: { label: string; addr: number } | null = null;
  private exampleId: string | undefined;
  private readonly log: LogView;
  private readonly procs = new ProcsView((s) => this.select(s));
  private readonly walk = new WalkPanel();
  private editTimer: ReturnType<typeof setTimeout> | null = null;
  private suppressEdit = false;
  private urlTimer: ReturnType<typeof setTimeout> | null = null;
  private traceOf: StepRecord | null = null;

  constructor() {
    this.log = createLogView((no) => this.goto(no));
    $('log').append(this.log.el);
    $('procs').append(this.procs.el);
    $('walk').append(this.walk.el);
    foldOnClick($('trace'));
    const stepKeys = Prec.highest(keymap.of([
      { key: 'Alt-ArrowRight', run: () => (this.step(), true) },
      { key: 'Alt-ArrowLeft', run: () => (this.back(), true) },
      { key: 'Mod-Enter', run: () => (this.run(), true) },
    ]));
    const url = readUrl();
    const ex = url.example ? EXAMPLES.find((e) => e.id === url.example) : undefined;
    const text = url.src ?? ex?.text ?? EXAMPLES[0]?.text ?? 'task A\n';
    this.exampleId = url.src !== undefined ? url.example : (ex?.id ?? EXAMPLES[0]?.id);
    this.editor = createEditor($('editor'), text, () => this.edited(), stepKeys);
    this.setupControls();
    this.rebuild(url.step ?? 0);
    if (url.sel) {
      const m = /^(.+):(0x[0-9a-f]+)$/i.exec(url.sel);
      if (m) {
        this.userSel = { label: m[1]!, addr: Number(m[2]) };
        this.follow = false;
        this.render();
      }
    }
  }

  // --- actions ------------------------------------------------------------------------------

  /** Show step n (running forward as needed; earlier steps come from their snapshots). */
  goto(n: number): void {
    const t = this.timeline;
    if (!t) return;
    if (n > t.executed) t.runTo(n);
    this.cursor = Math.max(0, Math.min(n, t.executed));
    this.render();
  }

  step(): void {
    this.goto(this.cursor + 1);
  }

  back(): void {
    this.goto(this.cursor - 1);
  }

  run(): void {
    this.flushEdit();
    const t = this.timeline;
    if (!t) return;
    t.runAll();
    this.goto(t.executed);
  }

  reset(): void {
    this.flushEdit();
    this.rebuild(0);
  }

  openExample(id: string): void {
    const ex = EXAMPLES.find((e) => e.id === id);
    if (!ex) return;
    this.exampleId = id;
    this.userSel = null;
    this.follow = true;
    this.suppressEdit = true;
    this.editor.setText(ex.text);
    this.suppressEdit = false;
    this.rebuild(0);
  }

  select(sel: Selection): void {
    const proc = this.record()?.snap.procs.find((p) => p.tgid === sel.tgid);
    if (!proc) return;
    this.userSel = { label: proc.label, addr: sel.addr };
    this.follow = false;
    this.render();
  }

  // --- the run ------------------------------------------------------------------------------

  private edited(): void {
    if (this.suppressEdit) return;
    if (this.editTimer) clearTimeout(this.editTimer);
    this.editTimer = setTimeout(() => {
      this.editTimer = null;
      this.rebuild(this.cursor);
    }, EDIT_DELAY_MS);
  }

  private flushEdit(): void {
    if (!this.editTimer) return;
    clearTimeout(this.editTimer);
    this.editTimer = null;
    this.rebuild(this.cursor);
  }

  /** Parse and check the text; on success start a fresh run and go to step `at`. */
  private rebuild(at: number): void {
    const src = this.editor.text();
    try {
      this.timeline = new Timeline(src, this.exampleId ?? 'scenario');
      this.problem = null;
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      this.problem = { message: e.message, line: e.pos.line, col: e.pos.col, len: e.pos.len ?? 1, ...(e.hint ? { hint: e.hint } : {}) };
      this.editor.setProblem(this.problem);
      this.showProblem(formatError(this.exampleId ?? 'scenario', src, e));
      this.writeUrl();
      return;
    }
    this.editor.setProblem(null);
    this.showProblem(null);
    document.title = `gupsim — ${this.timeline.title ?? this.exampleId ?? 'scenario'}`;
    this.log.reset(this.timeline.steps);
    this.cursor = 0;
    this.goto(at);
  }

  private record(): StepRecord | null {
    return this.timeline?.records[this.cursor] ?? null;
  }

  /** The address the walk shows: the user's pick, or the latest step focus up to the cursor. */
  private selection(): { tgid: number; addr: number } | null {
    const t = this.timeline;
    const r = this.record();
    if (!t || !r) return null;
    if (!this.follow && this.userSel) {
      const p = r.snap.procs.find((x) => x.label === this.userSel!.label);
      return p ? { tgid: p.tgid, addr: this.userSel.addr } : null;
    }
    let f: Focus | null = null;
    for (let i = this.cursor; i >= 0 && !f; i--) f = t.records[i]!.focus;
    return f;
  }

  // --- views --------------------------------------------------------------------------------

  private showProblem(text: string | null): void {
    const el = $('problem');
    el.hidden = text === null;
    el.textContent = text ?? '';
  }

  render(): void {
    const t = this.timeline;
    const r = this.record();
    if (!t || !r) return;
    const sel = this.selection();
    const rep = r.report;
    const active = rep?.outcome.pid ?? null;
    // The editor first: its update reads the DOM, which is cheapest before anything else changed.
    this.editor.markStepLine(rep ? rep.pos.line : null);
    // Header: position and buttons.
    $('stepinfo').textContent = `step ${this.cursor} / ${t.total}`;
    $('stepinfo').dataset.step = String(this.cursor);
    $<HTMLButtonElement>('back').disabled = this.cursor === 0;
    $<HTMLButtonElement>('step').disabled = this.cursor >= t.executed && t.done;
    $<HTMLButtonElement>('run').disabled = t.done && this.cursor === t.executed;
    // The step line.
    const status = $('status');
    if (!rep) {
      clear(status, h('b', null, 'Start'), ` · profile ${t.profile}${t.title ? ` · ${t.title}` : ''} · press Step (→) to run the first step`);
    } else {
      const fails = r.expects.filter((e) => !e.ok && !e.skipped).length;
      clear(status,
        h('b', null, `Step ${r.no}`), h('span', { class: 'dim' }, ` line ${rep.pos.line} · `),
        h('code', null, `${rep.prefix} ${rep.line}`),
        rep.outcome.signals.map((s) => h('span', { class: 'sig' }, ` ${s.sig} ${s.codeName}${s.pkey !== undefined ? ` pkey=${s.pkey}` : ''}`)),
        r.expects.length ? h('span', { class: fails ? 'exp-fail' : 'exp-pass' }, fails ? ` · expect FAIL (${fails})` : ' · expect PASS') : null);
    }
    if (t.error && this.cursor === t.executed) {
      status.append(h('div', { class: 'run-error', role: 'alert' }, `Stopped at step ${t.error.step} (line ${t.error.pos.line}): ${t.error.message}${t.error.hint ? ` — hint: ${t.error.hint}` : ''}`));
    } else if (t.done && this.cursor === t.executed && t.executed < t.total) {
      status.append(h('div', { class: 'run-error' }, `The run stopped after step ${t.executed}: the next step is not modelled yet.`));
    }
    this.log.update(t.records);
    this.log.setCurrent(this.cursor);
    // Processes.
    this.procs.update({ snap: r.snap, selected: sel, activePid: active });
    // Walk.
    const proc = sel ? (r.snap.procs.find((p) => p.tgid === sel.tgid) ?? null) : null;
    this.fillWalkForm(r, proc?.tgid ?? null, sel?.addr ?? null);
    this.walk.update(walkModel(r.snap, proc, sel?.addr ?? null));
    // Trace.
    if (this.traceOf !== r) {
      this.traceOf = r;
      clear($('trace'), rep ? renderTrace(rep.events, rep.outcome, `Step ${r.no}`) : h('p', { class: 'empty' }, 'No step has run yet.'));
    }
    this.writeUrl();
  }

  private fillWalkForm(r: StepRecord, tgid: number | null, addr: number | null): void {
    const selEl = $<HTMLSelectElement>('walktask');
    const procs = r.snap.procs.filter((p) => p.pgd >= 0);
    const want = procs.map((p) => `${p.tgid}:${p.label}`).join(',');
    if (selEl.dataset.procs !== want) {
      selEl.replaceChildren(...procs.map((p) => h('option', { value: String(p.tgid) }, `${p.label} (pid ${p.tgid})`)));
      selEl.dataset.procs = want;
    }
    if (tgid !== null) selEl.value = String(tgid);
    const input = $<HTMLInputElement>('walkaddr');
    if (document.activeElement !== input) input.value = addr === null ? '' : hex(addr);
    $<HTMLInputElement>('follow').checked = this.follow;
  }

  /** Update the URL soon (history.replaceState with a long URL costs milliseconds: not per step). */
  private writeUrl(): void {
    if (this.urlTimer) return;
    this.urlTimer = setTimeout(() => this.writeUrlNow(), URL_DELAY_MS);
  }

  writeUrlNow(): void {
    if (this.urlTimer) clearTimeout(this.urlTimer);
    this.urlTimer = null;
    const state: Parameters<typeof writeUrl>[0] = { src: this.editor.text(), step: this.cursor };
    if (this.exampleId) state.example = this.exampleId;
    if (!this.follow && this.userSel) state.sel = `${this.userSel.label}:${hex(this.userSel.addr)}`;
    writeUrl(state);
  }

  // --- controls -----------------------------------------------------------------------------

  private setupControls(): void {
    const exSel = $<HTMLSelectElement>('examples');
    exSel.replaceChildren(
      h('option', { value: '' }, '— open an example —'),
      ...EXAMPLES.map((e) => h('option', { value: e.id }, e.title === e.id ? e.id : `${e.id}: ${e.title}`)));
    exSel.addEventListener('change', () => {
      if (exSel.value) this.openExample(exSel.value);
      exSel.value = '';
      exSel.blur(); // arrow keys step again instead of picking another example
    });
    $('reset').addEventListener('click', () => this.reset());
    $('back').addEventListener('click', () => this.back());
    $('step').addEventListener('click', () => this.step());
    $('run').addEventListener('click', () => this.run());
    $('share').addEventListener('click', () => {
      this.writeUrlNow();
      const note = $('sharenote');
      navigator.clipboard?.writeText(location.href).then(() => (note.textContent = 'link copied'), () => (note.textContent = 'copy the address bar'));
      setTimeout(() => (note.textContent = ''), 2500);
    });
    $('help').addEventListener('click', () => this.toggleHelp());
    $('walkform').addEventListener('submit', (e) => {
      e.preventDefault();
      const addr = Number($<HTMLInputElement>('walkaddr').value.trim());
      const tgid = Number($<HTMLSelectElement>('walktask').value);
      if (Number.isSafeInteger(addr) && addr >= 0) this.select({ tgid, addr });
    });
    $('walktask').addEventListener('change', () => {
      const addr = Number($<HTMLInputElement>('walkaddr').value.trim());
      this.select({ tgid: Number($<HTMLSelectElement>('walktask').value), addr: Number.isSafeInteger(addr) ? addr : 0 });
    });
    $('follow').addEventListener('change', () => {
      this.follow = $<HTMLInputElement>('follow').checked;
      this.render();
    });
    document.addEventListener('keydown', (e) => this.key(e));
  }

  private toggleHelp(force?: boolean): void {
    const d = $('helpbox');
    d.hidden = force === undefined ? !d.hidden : !force;
  }

  private key(e: KeyboardEvent): void {
    if (e.defaultPrevented) return; // the editor's own binding already acted (Alt+arrows, Ctrl+Enter)
    const target = e.target as HTMLElement | null;
    const typing = target !== null && (target.closest('.cm-editor') !== null || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName));
    if (e.ctrlKey && e.key === 'Enter') {
      e.preventDefault();
      this.run();
      return;
    }
    if (e.altKey && (e.key === 'ArrowRight' || e.key === 'ArrowLeft')) {
      e.preventDefault();
      if (e.key === 'ArrowRight') this.step();
      else this.back();
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const act: Record<string, () => void> = {
      ArrowRight: () => this.step(), j: () => this.step(), n: () => this.step(),
      ArrowLeft: () => this.back(), k: () => this.back(), p: () => this.back(),
      Home: () => this.goto(0), End: () => this.run(), r: () => this.reset(),
      '?': () => this.toggleHelp(), Escape: () => this.toggleHelp(false),
    };
    const f = act[e.key];
    if (f) {
      e.preventDefault();
      f();
    }
  }
}
