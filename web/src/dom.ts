// A tiny element builder: h('div', {class: 'x', onclick}, child, 'text', ...).
type Attrs = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;
export type Child = Node | string | null | undefined | false | Child[];

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
      else if (k === 'class') el.className = String(v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c);
  }
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function hex(n: number, width = 0): string {
  return '0x' + n.toString(16).padStart(width, '0');
}

/**
 * Make parent's children exactly `next`, touching only what differs: nodes that stay keep their
 * place (and their style and layout), stale ones are removed, new ones inserted.
 */
export function syncChildren(parent: Element, next: readonly Element[]): void {
  const keep = new Set<Element>(next);
  for (const c of [...parent.children]) if (!keep.has(c)) c.remove();
  next.forEach((n, i) => {
    const at = parent.children[i];
    if (at !== n) parent.insertBefore(n, at ?? null);
  });
}

/** A cache of built elements by key, rebuilt when their signature changes. */
export class Memo<K> {
  private readonly m = new Map<K, { sig: string; el: HTMLElement }>();
  private used = new Set<K>();

  get(key: K, sig: string, build: () => HTMLElement): HTMLElement {
    this.used.add(key);
    const e = this.m.get(key);
    if (e && e.sig === sig) return e.el;
    const el = build();
    this.m.set(key, { sig, el });
    return el;
  }

  /** Forget the entries not asked for since the last sweep. */
  sweep(): void {
    for (const k of [...this.m.keys()]) if (!this.used.has(k)) this.m.delete(k);
    this.used = new Set<K>();
  }
}
