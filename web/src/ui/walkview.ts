// The page-table walk of the selected address: four levels, each entry's 64-bit value and its
// decoded bits (the protection-key field highlighted at the leaf), then the frame's struct page and
// every PTE that maps it.
import { PTE_P, PTE_RW, decodePte, pteHex, ptePfn, ptePkey } from '../../../src/hw/pte.js';
import {
  PG_anon, PG_anon_exclusive, PG_dirty, PG_hwpoison, PG_reserved, PG_swapbacked, PG_table, PG_uptodate, GUP_PIN_COUNTING_BIAS,
} from '../../../src/mm/page.js';
import { vmaPermString } from '../../../src/mm/vma.js';
import { Memo, h, hex, syncChildren } from '../dom.js';
import type { WalkLevel } from '../../../src/hw/mmu.js';
import type { MachineSnap, ProcSnap, VmaSnap } from '../model/snapshot.js';
import { walkAddress, type WalkView } from '../model/walk.js';
import { keyBadge, pkeyColour } from './pkeys.js';

const FLAG_NAMES: [number, string][] = [
  [PG_anon, 'anon'], [PG_anon_exclusive, 'anon_exclusive'], [PG_dirty, 'dirty'], [PG_uptodate, 'uptodate'],
  [PG_swapbacked, 'swapbacked'], [PG_table, 'table'], [PG_reserved, 'reserved'], [PG_hwpoison, 'hwpoison'],
];

function pageFlags(f: number): string {
  return FLAG_NAMES.filter(([b]) => f & b).map(([, n]) => n).join(' ') || '—';
}

/** The high 32 bits split into NX | pkey | rest, so the key field stands out. */
function valueCell(lo: number, hi: number, leaf: boolean): HTMLElement {
  const full = pteHex(lo, hi).slice(2);
  const pkey = ptePkey(hi);
  const bits = (hi >>> 0).toString(2).padStart(32, '0');
  return h('td', { class: 'pte-val' },
    h('code', { class: 'pte-hex' }, '0x' + full),
    h('div', { class: 'pte-fields' },
      h('span', { title: 'bit 63: NX (execute disable)' }, `NX=${bits[0]}`),
      h('span', {
        class: 'pkey-bits' + (leaf ? ' pkey-leaf' : ''), style: `--kc:${pkeyColour(pkey)}`,
        title: 'bits 62..59: protection key (only the leaf entry\'s key counts)',
      }, `PKEY[62:59]=${bits.slice(1, 5)}`),
      h('span', { title: 'bits 51..12: physical frame number' }, `PFN=${hex(ptePfn(lo, hi))}`),
      h('span', { title: 'bits 11..0: flags' }, `flags=${hex(lo & 0xfff, 3)}`)));
}

function chips(lo: number, hi: number, leaf: boolean): HTMLElement {
  const words = decodePte(lo, hi).split(' ');
  return h('td', { class: 'pte-bits' }, words.map((w) => {
    if (w.startsWith('pkey=')) {
      return leaf ? h('span', { class: 'chip chip-pkey', style: `--kc:${pkeyColour(ptePkey(hi))}` }, w) : null;
    }
    if (w.startsWith('pfn=')) return null;
    return h('span', { class: 'chip' + (w === '!P' || w === 'none' ? ' chip-absent' : '') }, w);
  }), !(lo & PTE_RW) && lo & PTE_P ? h('span', { class: 'chip chip-note' }, 'read-only') : null);
}

export interface WalkModel {
  proc: ProcSnap;
  addr: number;
  w: WalkView;
  vma: VmaSnap | null;
}

/** What the walk panel shows (compare two with JSON to skip a rebuild). */
export function walkModel(snap: MachineSnap, proc: ProcSnap | null, addr: number | null): WalkModel | null {
  if (!proc || addr === null) return null;
  return { proc, addr, w: walkAddress(snap, proc, addr), vma: proc.vmas.find((v) => addr >= v.start && addr < v.end) ?? null };
}

function walkHead(proc: ProcSnap, addr: number, vma: VmaSnap | null): HTMLElement {
  return h('div', { class: 'walk-head' },
    h('b', null, proc.label), ` ${hex(addr)} `,
    vma ? h('span', null, `in ${vma.start.toString(16)}-${vma.end.toString(16)} ${vmaPermString(vma.flags)} `, keyBadge(vma.pkey)) : h('span', { class: 'warn' }, 'no VMA here'),
    proc.pgd >= 0 ? h('span', { class: 'dim' }, ` · CR3 pfn ${hex(proc.pgd)}`) : null);
}

function levelRow(l: WalkLevel, leaf: boolean): HTMLElement {
  return h('tr', { 'data-level': l.level, 'data-value': pteHex(l.lo, l.hi), 'data-pkey': ptePkey(l.hi) },
    h('th', null, l.level),
    h('td', { class: 'pte-where' }, `${hex(l.tablePfn)}[${l.index}]`),
    valueCell(l.lo, l.hi, leaf),
    chips(l.lo, l.hi, leaf));
}

function frameBox(w: WalkView): HTMLElement {
  if (w.pfn < 0) return h('div', { class: 'frame frame-none' }, w.levels.length === 4 ? 'PTE not present: no frame (the next access faults).' : 'No frame.');
  const pg = w.page;
  return h('div', { class: 'frame', 'data-pfn': hex(w.pfn) },
    h('div', { class: 'frame-head' }, h('b', null, `frame ${hex(w.pfn)}`), w.pfn === 0 ? ' (the shared zero page)' : ''),
    pg ? h('dl', { class: 'frame-counts' },
      h('dt', null, 'refcount'), h('dd', { 'data-refcount': pg.refcount }, String(pg.refcount),
        pg.refcount >= GUP_PIN_COUNTING_BIAS ? h('span', { class: 'dim' }, ` (≥ ${GUP_PIN_COUNTING_BIAS}: maybe DMA-pinned)`) : null),
      h('dt', null, 'mapcount'), h('dd', { 'data-mapcount': pg.mapcount }, String(pg.mapcount)),
      h('dt', null, 'pincount'), h('dd', { 'data-pincount': pg.pincount }, String(pg.pincount)),
      h('dt', null, 'kernel refs'), h('dd', null, String(w.kernelRefs)),
      h('dt', null, 'flags'), h('dd', null, pageFlags(pg.flags))) : null,
    h('div', { class: 'mappers-head' }, `mapped by ${w.mappers.length} PTE${w.mappers.length === 1 ? '' : 's'}:`),
    h('ul', { class: 'mappers' }, w.mappers.map((m) =>
      h('li', { 'data-label': m.label, 'data-va': hex(m.va) },
        h('b', null, m.label), ` pid ${m.tgid} at ${hex(m.va)} `,
        h('span', { class: 'chip' }, m.lo & PTE_RW ? 'RW' : 'read-only'), ' ', keyBadge(ptePkey(m.hi))))));
}

/**
 * The walk panel. Its parts (the heading, each level's row, the frame) are rebuilt only when
 * they changed: stepping usually changes the leaf and the frame, not the upper levels.
 */
export class WalkPanel {
  readonly el = h('div', { class: 'walk' });
  private readonly parts = new Memo<string>();
  private readonly tbody = h('tbody');
  private readonly table = h('table', { class: 'walk-table' },
    h('thead', null, h('tr', null, h('th', null, 'level'), h('th', null, 'table[index]'), h('th', null, 'entry'), h('th', null, 'decoded'))),
    this.tbody);

  update(m: WalkModel | null): void {
    const next: HTMLElement[] = [];
    if (!m) {
      next.push(this.parts.get('none', '', () => h('p', { class: 'empty' }, 'Select an address: click a VMA or a page, or type one above.')));
    } else {
      const { proc, addr, w, vma } = m;
      next.push(this.parts.get('head', JSON.stringify([proc.label, proc.pgd, addr, vma]), () => walkHead(proc, addr, vma)));
      if (proc.pgd < 0) {
        next.push(this.parts.get('nomm', '', () => h('p', { class: 'empty' }, 'This process has no address space.')));
      } else {
        syncChildren(this.tbody, w.levels.map((l, i) => {
          const leaf = i === w.levels.length - 1 && l.level === 'PTE';
          return this.parts.get(l.level, `${l.tablePfn} ${l.index} ${l.lo} ${l.hi} ${leaf}`, () => levelRow(l, leaf));
        }));
        next.push(this.table);
        if (w.levels.length < 4) {
          const at = w.levels[w.levels.length - 1]?.level ?? 'PGD';
          next.push(this.parts.get('stop', at, () => h('p', { class: 'walk-stop' }, `Walk stops at ${at}: entry not present.`)));
        }
        next.push(this.parts.get('frame', JSON.stringify([w.pfn, w.page, w.mappers, w.kernelRefs, w.levels.length]), () => frameBox(w)));
      }
    }
    this.parts.sweep();
    syncChildren(this.el, next);
  }
}
