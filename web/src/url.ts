// Shareable state in the URL fragment: the scenario text (base64url of its UTF-8), the step shown
// and the selected address, so a link reproduces a situation. Nothing is sent to a server.
export interface UrlState {
  src?: string;
  example?: string;
  step?: number;
  /** "A:0x7ffff7ffd000": a process label and an address. */
  sel?: string;
}

let lastText = '';
let lastEncoded = '';

function b64urlEncode(s: string): string {
  if (s === lastText) return lastEncoded;
  lastText = s;
  lastEncoded = b64urlEncodeUncached(s);
  return lastEncoded;
}

function b64urlEncodeUncached(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function b64urlDecode(s: string): string | undefined {
  try {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

export function readUrl(hash = location.hash): UrlState {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const out: UrlState = {};
  const src = p.get('src');
  if (src !== null) {
    const d = b64urlDecode(src);
    if (d !== undefined) out.src = d;
  }
  const ex = p.get('example');
  if (ex) out.example = ex;
  const step = Number(p.get('step'));
  if (p.has('step') && Number.isInteger(step) && step >= 0) out.step = step;
  const sel = p.get('sel');
  if (sel) out.sel = sel;
  return out;
}

export function urlFragment(s: UrlState): string {
  const p: string[] = [];
  if (s.example) p.push(`example=${encodeURIComponent(s.example)}`);
  if (s.src !== undefined) p.push(`src=${b64urlEncode(s.src)}`);
  if (s.step !== undefined) p.push(`step=${s.step}`);
  if (s.sel) p.push(`sel=${encodeURIComponent(s.sel)}`);
  return '#' + p.join('&');
}

export function writeUrl(s: UrlState): void {
  const frag = urlFragment(s);
  if (frag !== location.hash) history.replaceState(null, '', frag);
}
