// The scenario editor: CodeMirror 6 with the scenario language, inline diagnostics and a marker on
// the line of the step being shown.
import { EditorState, StateEffect, StateField, type Extension } from '@codemirror/state';
import {
  Decoration, EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers, type DecorationSet,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching } from '@codemirror/language';
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import { scenarioHighlight, scenarioLanguage, toDiagnostic, type ScenarioProblem } from './lang.js';

const setStepLine = StateEffect.define<number | null>();
const stepLineDeco = Decoration.line({ class: 'cm-step-line' });

const stepLineField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (!e.is(setStepLine)) continue;
      const n = e.value;
      deco = n === null || n < 1 || n > tr.state.doc.lines ? Decoration.none : Decoration.set([stepLineDeco.range(tr.state.doc.line(n).from)]);
    }
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

export interface Editor {
  view: EditorView;
  text(): string;
  setText(s: string): void;
  setProblem(p: ScenarioProblem | null): void;
  markStepLine(line: number | null): void;
}

export function createEditor(parent: HTMLElement, doc: string, onChange: (text: string) => void, extraKeys: Extension): Editor {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        extraKeys,
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightActiveLine(),
        drawSelection(),
        history(),
        bracketMatching(),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        scenarioLanguage,
        scenarioHighlight,
        lintGutter(),
        stepLineField,
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': 'scenario editor' }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText(s) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: s } });
    },
    setProblem(p) {
      const diags = p ? [toDiagnostic(view.state.doc, p)] : [];
      view.dispatch(setDiagnostics(view.state, diags));
      // Keep the faulty line in sight (the message below the editor takes room from it).
      if (diags[0]) view.dispatch({ effects: EditorView.scrollIntoView(diags[0].from, { y: 'nearest' }) });
    },
    markStepLine(line) {
      const effects: StateEffect<unknown>[] = [setStepLine.of(line)];
      if (line !== null && line >= 1 && line <= view.state.doc.lines) {
        // Scroll only when the line is out of sight: its place in the height map against the
        // scroller (cheap: nothing has changed layout yet when the page calls this first).
        const l = view.state.doc.line(line);
        const b = view.lineBlockAt(l.from);
        const pad = view.documentPadding.top;
        const sc = view.scrollDOM;
        const seen = b.top + pad >= sc.scrollTop && b.bottom + pad <= sc.scrollTop + sc.clientHeight;
        if (!seen) effects.push(EditorView.scrollIntoView(l.from, { y: 'center' }));
      }
      view.dispatch({ effects });
    },
  };
}
