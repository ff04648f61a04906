// Errors in scenario input, with the position they refer to. Formatted like a compiler's:
//   file:line:col: error: message
//     12 | A: mmap(NULL, 4096)
//        |    ^~~~
//   hint: mmap takes 6 arguments: addr, length, prot, flags, fd, offset

export interface Pos {
  line: number; // 1-based
  col: number; // 1-based
  /** Characters to underline (at least 1). */
  len?: number;
}

export type ErrorKind = 'syntax' | 'name' | 'arity' | 'type' | 'range' | 'task' | 'header' | 'runtime';

/** Bad scenario input: the CLI exits with status 2. */
export class ScenarioError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly pos: Pos,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/** An exception from the model itself while running a step: the CLI reports it and exits with 3. */
export class InternalError extends Error {
  constructor(message: string, readonly pos: Pos, readonly step: number, readonly causeText: string) {
    super(message);
    this.name = 'InternalError';
  }
}

function sourceLine(source: string, line: number): string {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = source.indexOf('\n', start);
    if (nl < 0) return '';
    start = nl + 1;
  }
  const end = source.indexOf('\n', start);
  return source.slice(start, end < 0 ? source.length : end).replace(/\r$/, '');
}

/** One screen at most: the message, the line with a caret, and the hint. */
export function formatError(file: string, source: string, e: { message: string; pos: Pos; hint?: string }, label = 'error'): string {
  const { line, col } = e.pos;
  const text = sourceLine(source, line).replace(/\t/g, ' ');
  const shown = text.length > 160 ? text.slice(0, 160) + '…' : text;
  const gutter = String(line).length;
  const len = Math.max(1, Math.min(e.pos.len ?? 1, Math.max(1, shown.length - col + 1)));
  const caret = ' '.repeat(Math.max(0, Math.min(col - 1, shown.length))) + '^' + '~'.repeat(Math.max(0, len - 1));
  const msg = e.message.length > 400 ? e.message.slice(0, 400) + '…' : e.message;
  const out = [`${file}:${line}:${col}: ${label}: ${msg}`, ` ${String(line).padStart(gutter)} | ${shown}`, ` ${' '.repeat(gutter)} | ${caret}`];
  if (e.hint) out.push(`hint: ${e.hint.length > 400 ? e.hint.slice(0, 400) + '…' : e.hint}`);
  return out.join('\n');
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate within a small distance, or undefined. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const limit = Math.max(2, Math.floor(name.length / 3));
  const upper = name.toUpperCase();
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) > limit) continue;
    const d = Math.min(editDistance(name, c), editDistance(upper, c) + 1);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= limit ? best : undefined;
}
