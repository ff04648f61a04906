// Syntax highlighting for the scenario language (a CodeMirror stream tokenizer: the language is
// line-oriented, so a small state machine is enough) and parse/check errors as inline diagnostics.
import { StreamLanguage, HighlightStyle, syntaxHighlighting, type StringStream } from '@codemirror/language';
import { tags as t } from '@lezer/highlight';
import type { Diagnostic } from '@codemirror/lint';
import type { Text } from '@codemirror/state';
import { KEYWORDS } from '../../../src/scenario/parser.js';
import { stepNames } from '../../../src/scenario/registry.js';
import '../../../src/scenario/steps/index.js';

interface St {
  inBlock: boolean;
  lineStart: boolean;
}

const keywords = new Set(KEYWORDS);
let steps: Set<string> | null = null;

function token(s: StringStream, st: St): string | null {
  if (s.sol()) st.lineStart = true;
  if (st.inBlock) {
    if (s.skipTo('*/')) {
      s.pos += 2;
      st.inBlock = false;
    } else s.skipToEnd();
    return 'comment';
  }
  if (s.eatSpace()) return null;
  const first = st.lineStart;
  st.lineStart = false;
  if (s.match('#') || s.match('//')) {
    s.skipToEnd();
    return 'comment';
  }
  if (s.match('/*')) {
    st.inBlock = true;
    return token(s, st) ?? 'comment';
  }
  if (s.match(/^"(?:[^"\\]|\\.)*"?/)) return 'string';
  if (s.match(/^'(?:[^'\\]|\\.)*'?/)) return 'string';
  if (s.match(/^linux-[0-9][0-9A-Za-z.-]*/)) return 'atom';
  if (s.match(/^model-only\b/)) return 'keyword';
  if (s.match(/^(?:0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+[KMG]?)\b/)) return 'number';
  const id = s.match(/^[A-Za-z_][A-Za-z0-9_]*/);
  if (id && typeof id !== 'boolean') {
    const w = id[0];
    if (keywords.has(w)) return 'keyword';
    if (first && /^\s*:/.test(s.string.slice(s.pos))) return 'labelName'; // "A:" task prefix
    steps ??= new Set(stepNames());
    if (/^\s*\(/.test(s.string.slice(s.pos)) && steps.has(w)) return 'function';
    if (/^[A-Z][A-Z0-9_]*$/.test(w) && w.length > 1) return 'constant';
    return 'variableName';
  }
  s.next();
  return 'operator';
}

export const scenarioLanguage = StreamLanguage.define<St>({
  name: 'gupsim-scenario',
  startState: () => ({ inBlock: false, lineStart: true }),
  copyState: (s) => ({ ...s }),
  token,
  languageData: { commentTokens: { line: '#' } },
  tokenTable: { labelName: t.labelName, constant: t.constant(t.name), function: t.function(t.variableName) },
});

export const scenarioHighlight = syntaxHighlighting(HighlightStyle.define([
  { tag: t.comment, color: 'var(--c-comment)', fontStyle: 'italic' },
  { tag: t.keyword, color: 'var(--c-keyword)', fontWeight: 'bold' },
  { tag: t.string, color: 'var(--c-string)' },
  { tag: t.number, color: 'var(--c-number)' },
  { tag: t.atom, color: 'var(--c-number)' },
  { tag: t.labelName, color: 'var(--c-label)', fontWeight: 'bold' },
  { tag: t.function(t.variableName), color: 'var(--c-function)' },
  { tag: t.constant(t.name), color: 'var(--c-constant)' },
  { tag: t.operator, color: 'var(--c-op)' },
]));

export interface ScenarioProblem {
  message: string;
  hint?: string;
  line: number;
  col: number;
  len: number;
}

/** A scenario error position as a document range (clamped to the line). */
export function problemRange(doc: Text, p: ScenarioProblem): { from: number; to: number } {
  const line = doc.line(Math.min(Math.max(1, p.line), doc.lines));
  let from = Math.min(line.from + Math.max(0, p.col - 1), line.to);
  // "unexpected end of line": underline the line's last character rather than nothing.
  if (from === line.to && line.to > line.from) from = line.to - 1;
  const to = Math.min(from + Math.max(1, p.len), line.to);
  return { from, to: Math.max(to, from) };
}

export function toDiagnostic(doc: Text, p: ScenarioProblem, severity: 'error' | 'warning' = 'error'): Diagnostic {
  const r = problemRange(doc, p);
  return { ...r, severity, message: p.hint ? `${p.message}\nhint: ${p.hint}` : p.message, source: 'gupsim' };
}
