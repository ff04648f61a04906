// Protection-key presentation shared by the views: one colour per key, always with a text label.
import { NR_PKEYS, PKRU_AD_BIT, PKRU_WD_BIT } from '../../../src/hw/pkru.js';
import { h } from '../dom.js';

/** Key 0 (the default key) is neutral; keys 1..15 get distinct hues. */
export function pkeyColour(k: number): string {
  if (k === 0) return 'var(--key0)';
  return `hsl(${Math.round(((k - 1) * 360) / 15 + 200) % 360} 70% 42%)`;
}

/** A small swatch with the key's number: colour plus text. */
export function keyBadge(k: number): HTMLElement {
  return h('span', { class: 'key-badge', style: `--kc:${pkeyColour(k)}`, title: `protection key ${k}` }, `k${k}`);
}

export type KeyState = 'open' | 'WD' | 'AD' | 'AD+WD';

export function keyState(pkru: number, k: number): KeyState {
  const b = (pkru >>> (2 * k)) & 3;
  if (b === 0) return 'open';
  if (b === PKRU_WD_BIT) return 'WD';
  if (b === PKRU_AD_BIT) return 'AD';
  return 'AD+WD';
}

const STATE_TEXT: Record<KeyState, string> = {
  open: 'read and write allowed',
  WD: 'write disabled (WD): reads allowed',
  AD: 'access disabled (AD): no reads or writes',
  'AD+WD': 'access and write disabled (AD+WD)',
};

/** The 16 key cells of a PKRU value: key number on top, AD/WD/rw label below. */
export function pkruCells(pkru: number): HTMLElement {
  const cells: HTMLElement[] = [];
  for (let k = 0; k < NR_PKEYS; k++) {
    const st = keyState(pkru, k);
    cells.push(
      h('span', {
        class: `pk pk-${st === 'open' ? 'open' : st === 'WD' ? 'wd' : 'ad'}`,
        'data-key': k, 'data-state': st, role: 'listitem', style: `--kc:${pkeyColour(k)}`,
        title: `key ${k}: ${STATE_TEXT[st]}`, 'aria-label': `key ${k} ${st}`,
      }, h('b', null, String(k)), h('i', null, st === 'open' ? 'rw' : st)),
    );
  }
  return h('span', { class: 'pkru', role: 'list' }, cells);
}
