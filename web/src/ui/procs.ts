// The processes: for each, its threads with their PKRU as 16 key cells, its fault counters and its
// address space as a map of VMAs (permissions, key, backing) with the pages of small VMAs.
import { PTE_P, PTE_PROTNONE, PTE_RW, ptePfn } from '../../../src/hw/pte.js';
import { walkForDisplay } from '../../../src/hw/mmu.js';
import { pkruHex } from '../../../src/hw/pkru.js';
import { VM_WRITE, vmaPermString } from '../../../src/mm/vma.js';
import { Memo, h, hex, syncChildren } from '../dom.js';
import type { MachineSnap, ProcSnap, ThreadSnap, VmaSnap } from '../model/snapshot.js';
import { snapReader } from '../model/walk.js';
import { keyBadge, pkeyColour, pkruCells } from './pkeys.js';

export interface Selection {
  tgid: number;
  addr: number;
}

export interface ProcsProps {
  snap: MachineSnap;
  selected: Selection | null;
  /** Threads that ran the current step (highlighted). */
  activePid: number | null;
}

/** Pages drawn one cell each up to this many per VMA. */
const PAGE_STRIP_MAX = 64;

export function sizeText(bytes: number): string {
  if (bytes >= 2 ** 30 && bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30}G`;
  if (bytes >= 2 ** 20 && bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20}M`;
  if (bytes % 1024 === 0) return `${bytes / 1024}K`;
  return `${bytes}B`;
}

function backing(v: VmaSnap): string {
  if (v.file) return v.file;
  if (v.name) return v.name;
  return 'anon';
}

interface PageCell {
  va: number;
  mark: string;
  cls: string;
  title: string;
}

/** The pages of a small VMA: present or not, shared, pinned, write-protected (COW pending). */
function pageCells(snap: MachineSnap, proc: ProcSnap, v: VmaSnap): PageCell[] | null {
  const n = (v.end - v.start) / 4096;
  if (n > PAGE_STRIP_MAX || proc.pgd < 0) return null;
  const rd = snapReader(snap);
  const cells: PageCell[] = [];
  for (let i = 0; i < n; i++) {
    const va = v.start + i * 4096;
    const lv = walkForDisplay(rd, proc.pgd, va);
    const leaf = lv.length === 4 ? lv[3]! : null;
    let cls = 'pg';
    let mark = '·';
    let title = `${hex(va)}: not mapped`;
    if (leaf && leaf.lo & (PTE_P | PTE_PROTNONE)) {
      const pfn = ptePfn(leaf.lo, leaf.hi);
      const pg = snap.pages.get(pfn);
      cls += ' pg-present';
      title = `${hex(va)} → pfn ${hex(pfn)}`;
      if (pfn === 0) {
        mark = 'Z';
        title += ' (the zero page)';
      } else if (pg && pg.pincount > 0) {
        mark = 'P';
        title += ` (pinned ×${pg.pincount})`;
      } else if (pg && pg.mapcount > 1) {
        mark = 'S';
        title += ` (shared: mapcount ${pg.mapcount})`;
      } else mark = '■';
      if (!(leaf.lo & PTE_RW) && v.flags & VM_WRITE) {
        cls += ' pg-wp';
        title += ', write-protected: next write copies (COW)';
        if (mark === '■') mark = 'C';
      }
    }
    cells.push({ va, mark, cls, title });
  }
  return cells;
}

function keysText(map: number, xo: number): string {
  const keys: string[] = [];
  for (let k = 0; k < 16; k++) if ((map >>> k) & 1) keys.push(String(k));
  return `keys allocated: ${keys.join(',') || 'none'}${xo >= 0 ? ` · execute-only key ${xo}` : ''}`;
}

const inside = (sel: Selection | null, tgid: number, start: number, end: number): boolean =>
  sel !== null && sel.tgid === tgid && sel.addr >= start && sel.addr < end;

function vmaRow(p: ProcsProps, proc: ProcSnap, v: VmaSnap, cells: PageCell[] | null): HTMLElement {
  return h('li', {
    class: 'vma' + (inside(p.selected, proc.tgid, v.start, v.end) ? ' vma-sel' : ''), style: `--kc:${pkeyColour(v.pkey)}`,
    'data-start': hex(v.start), 'data-end': hex(v.end), 'data-perms': vmaPermString(v.flags), 'data-pkey': v.pkey,
  },
  h('span', { class: 'vma-range' }, `${v.start.toString(16)}-${v.end.toString(16)}`),
  h('span', { class: 'vma-size' }, sizeText(v.end - v.start)),
  h('span', { class: 'vma-perms' }, vmaPermString(v.flags)),
  keyBadge(v.pkey),
  h('span', { class: 'vma-backing', title: backing(v) }, backing(v)),
  cells ? h('div', { class: 'pages' }, cells.map((c) => h('span', {
    class: c.cls + (inside(p.selected, proc.tgid, c.va, c.va + 4096) ? ' pg-sel' : ''), title: c.title, 'data-va': hex(c.va), role: 'button', 'aria-label': c.title,
  }, c.mark))) : null);
}

function procHeader(proc: ProcSnap): HTMLElement {
  const state = proc.state === 'alive' ? (proc.kthread ? 'kernel thread' : 'running') : proc.state === 'zombie' ? 'exited (zombie)' : 'exited';
  return h('header', null,
    h('b', { class: 'proc-name' }, proc.label),
    h('span', null, ` pid ${proc.tgid} · ${state}`),
    h('span', { class: 'faults', 'data-minflt': proc.minFlt, 'data-majflt': proc.majFlt, title: 'getrusage(RUSAGE_SELF): ru_minflt / ru_majflt' },
      `faults: ${proc.minFlt} minor, ${proc.majFlt} major`));
}

function threadRow(t: ThreadSnap, active: boolean): HTMLElement {
  return h('div', { class: 'thread' + (active ? ' thread-active' : ''), 'data-pid': t.pid, 'data-pkru': pkruHex(t.pkru) },
    h('span', { class: 'tid' }, `tid ${t.pid}`),
    h('span', { class: 'pkru-hex', title: 'this thread\'s PKRU register' }, `PKRU ${pkruHex(t.pkru)}`),
    h('span', { class: 'tfaults', title: 'this thread\'s faults (RUSAGE_THREAD)' }, `faults ${t.minFlt} min / ${t.majFlt} maj`),
    pkruCells(t.pkru));
}

interface ProcParts {
  el: HTMLElement;
  threads: HTMLElement;
  mm: HTMLElement;
  vmas: HTMLElement;
}

/**
 * The processes panel. Every part (a process's header, each thread, each VMA row) is rebuilt only
 * when what it shows changed, and unchanged nodes stay in place, so a step that touches one page
 * rebuilds one row: stepping through a long scenario stays fast.
 */
export class ProcsView {
  readonly el = h('div', { class: 'procs' });
  private readonly sections = new Map<number, ProcParts>();
  private readonly parts = new Memo<string>();
  private readonly empty = h('p', { class: 'empty' }, 'No processes yet: run a step.');

  constructor(onSelect: (sel: Selection) => void) {
    this.el.addEventListener('click', (e) => {
      const t = e.target as HTMLElement;
      const sec = t.closest<HTMLElement>('.proc');
      const at = t.closest<HTMLElement>('[data-va]') ?? t.closest<HTMLElement>('.vma');
      if (!sec || !at) return;
      const addr = Number(at.dataset.va ?? at.dataset.start);
      onSelect({ tgid: Number(sec.dataset.tgid), addr });
    });
  }

  private section(proc: ProcSnap): ProcParts {
    let s = this.sections.get(proc.tgid);
    if (!s) {
      const threads = h('div', { class: 'threads' });
      const vmas = h('ul', { class: 'vmas' });
      const mm = h('div', { class: 'mm' });
      s = { el: h('section', { class: 'proc', 'data-label': proc.label, 'data-tgid': proc.tgid }), threads, mm, vmas };
      this.sections.set(proc.tgid, s);
    }
    return s;
  }

  update(p: ProcsProps): void {
    const list = p.snap.procs.filter((x) => !x.kthread || x.threads.some((t) => t.alive));
    const next: HTMLElement[] = [];
    const seen = new Set<number>();
    for (const proc of list) {
      const s = this.section(proc);
      seen.add(proc.tgid);
      s.el.classList.toggle('proc-dead', proc.state !== 'alive');
      s.el.dataset.label = proc.label;
      const head = this.parts.get(`h${proc.tgid}`, JSON.stringify([proc.label, proc.state, proc.kthread, proc.minFlt, proc.majFlt]), () => procHeader(proc));
      syncChildren(s.threads, proc.threads.filter((t) => t.alive).map((t) => {
        const active = t.pid === p.activePid;
        return this.parts.get(`t${t.pid}`, JSON.stringify([t, active]), () => threadRow(t, active));
      }));
      const body: HTMLElement[] = [head, s.threads];
      if (proc.pgd >= 0) {
        const mmHead = this.parts.get(`m${proc.tgid}`, `${proc.vmas.length} ${proc.pkeyAllocationMap} ${proc.executeOnlyPkey}`,
          () => h('div', { class: 'mm-head' }, `${proc.vmas.length} VMAs · ${keysText(proc.pkeyAllocationMap, proc.executeOnlyPkey)}`));
        syncChildren(s.vmas, proc.vmas.map((v) => {
          const cells = pageCells(p.snap, proc, v);
          const sel = inside(p.selected, proc.tgid, v.start, v.end) ? p.selected!.addr : null;
          return this.parts.get(`v${proc.tgid}:${v.start}`, JSON.stringify([v, cells, sel]), () => vmaRow(p, proc, v, cells));
        }));
        syncChildren(s.mm, [mmHead, s.vmas]);
        body.push(s.mm);
      } else {
        body.push(this.parts.get(`m${proc.tgid}`, 'none', () => h('div', { class: 'mm-head' }, 'no address space')));
      }
      syncChildren(s.el, body);
      next.push(s.el);
    }
    for (const k of [...this.sections.keys()]) if (!seen.has(k)) this.sections.delete(k);
    this.parts.sweep();
    syncChildren(this.el, next.length ? next : [this.empty]);
  }
}
