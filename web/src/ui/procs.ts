// The processes: for each, its threads with their PKRU as 16 key cells, its fault counters and its
// address space as a map of VMAs (permissions, key, backing) with the pages of small VMAs.
import { PTE_P, PTE_PROTNONE, PTE_RW, ptePfn } from '../../../src/hw/pte.js';
import { walkForDisplay } from '../../../src/hw/mmu.js';
import { pkruHex } from '../../../src/hw/pkru.js';
import { VM_WRITE, vmaPermString } from '../../../src/mm/vma.js';
import { h, hex } from '../dom.js';
import type { MachineSnap, ProcSnap, VmaSnap } from '../model/snapshot.js';
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
  onSelect(sel: Selection): void;
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

function pageStrip(p: ProcsProps, proc: ProcSnap, v: VmaSnap): HTMLElement | null {
  const n = (v.end - v.start) / 4096;
  if (n > PAGE_STRIP_MAX || proc.pgd < 0) return null;
  const rd = snapReader(p.snap);
  const cells: HTMLElement[] = [];
  for (let i = 0; i < n; i++) {
    const va = v.start + i * 4096;
    const lv = walkForDisplay(rd, proc.pgd, va);
    const leaf = lv.length === 4 ? lv[3]! : null;
    let cls = 'pg';
    let mark = '';
    let title = `${hex(va)}: not mapped`;
    if (leaf && leaf.lo & (PTE_P | PTE_PROTNONE)) {
      const pfn = ptePfn(leaf.lo, leaf.hi);
      const pg = p.snap.pages.get(pfn);
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
    } else mark = '·';
    const sel = p.selected && p.selected.tgid === proc.tgid && p.selected.addr >= va && p.selected.addr < va + 4096;
    cells.push(h('button', {
      class: cls + (sel ? ' pg-sel' : ''), title, 'data-va': hex(va), 'aria-label': title,
      onclick: (e: Event) => {
        e.stopPropagation();
        p.onSelect({ tgid: proc.tgid, addr: va });
      },
    }, mark));
  }
  return h('div', { class: 'pages' }, cells);
}

function vmaRow(p: ProcsProps, proc: ProcSnap, v: VmaSnap): HTMLElement {
  const sel = p.selected && p.selected.tgid === proc.tgid && p.selected.addr >= v.start && p.selected.addr < v.end;
  return h('li', {
    class: 'vma' + (sel ? ' vma-sel' : ''), style: `--kc:${pkeyColour(v.pkey)}`,
    'data-start': hex(v.start), 'data-end': hex(v.end), 'data-perms': vmaPermString(v.flags), 'data-pkey': v.pkey,
    onclick: () => p.onSelect({ tgid: proc.tgid, addr: v.start }),
  },
  h('span', { class: 'vma-range' }, `${v.start.toString(16)}-${v.end.toString(16)}`),
  h('span', { class: 'vma-size' }, sizeText(v.end - v.start)),
  h('span', { class: 'vma-perms' }, vmaPermString(v.flags)),
  keyBadge(v.pkey),
  h('span', { class: 'vma-backing', title: backing(v) }, backing(v)),
  pageStrip(p, proc, v));
}

function keysText(map: number, xo: number): string {
  const keys: string[] = [];
  for (let k = 0; k < 16; k++) if ((map >>> k) & 1) keys.push(String(k));
  return `keys allocated: ${keys.join(',') || 'none'}${xo >= 0 ? ` · execute-only key ${xo}` : ''}`;
}

export function renderProcs(p: ProcsProps): HTMLElement {
  const list = p.snap.procs.filter((x) => !x.kthread || x.threads.some((t) => t.alive));
  if (list.length === 0) return h('p', { class: 'empty' }, 'No processes yet: run a step.');
  return h('div', { class: 'procs' }, list.map((proc) => {
    const state = proc.state === 'alive' ? (proc.kthread ? 'kernel thread' : 'running') : proc.state === 'zombie' ? 'exited (zombie)' : 'exited';
    return h('section', { class: 'proc' + (proc.state !== 'alive' ? ' proc-dead' : ''), 'data-label': proc.label, 'data-tgid': proc.tgid },
      h('header', null,
        h('b', { class: 'proc-name' }, proc.label),
        h('span', null, ` pid ${proc.tgid} · ${state}`),
        h('span', { class: 'faults', 'data-minflt': proc.minFlt, 'data-majflt': proc.majFlt, title: 'getrusage(RUSAGE_SELF): ru_minflt / ru_majflt' },
          `faults: ${proc.minFlt} minor, ${proc.majFlt} major`)),
      h('div', { class: 'threads' }, proc.threads.filter((t) => t.alive).map((t) =>
        h('div', { class: 'thread' + (t.pid === p.activePid ? ' thread-active' : ''), 'data-pid': t.pid, 'data-pkru': pkruHex(t.pkru) },
          h('span', { class: 'tid' }, `tid ${t.pid}`),
          h('span', { class: 'pkru-hex', title: 'this thread\'s PKRU register' }, `PKRU ${pkruHex(t.pkru)}`),
          h('span', { class: 'tfaults', title: 'this thread\'s faults (RUSAGE_THREAD)' }, `faults ${t.minFlt} min / ${t.majFlt} maj`),
          pkruCells(t.pkru)))),
      proc.pgd >= 0
        ? h('div', { class: 'mm' },
          h('div', { class: 'mm-head' }, `${proc.vmas.length} VMAs · ${keysText(proc.pkeyAllocationMap, proc.executeOnlyPkey)}`),
          h('ul', { class: 'vmas' }, proc.vmas.map((v) => vmaRow(p, proc, v))))
        : h('div', { class: 'mm-head' }, 'no address space'));
  }));
}
