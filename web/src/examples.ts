// The built-in examples: the repository's examples/ (when present) and the visualiser's tours.
const repo = import.meta.glob<string>('../../examples/**/*.scn', { query: '?raw', import: 'default', eager: true });
const tours = import.meta.glob<string>('../examples/*.scn', { query: '?raw', import: 'default', eager: true });

export interface Example {
  /** File name without extension: the id used in URLs. */
  id: string;
  title: string;
  text: string;
}

function titleOf(text: string, id: string): string {
  const m = /^\s*scenario\s+"((?:[^"\\]|\\.)*)"/m.exec(text);
  return m ? m[1]! : id;
}

function collect(files: Record<string, string>): Example[] {
  return Object.entries(files).map(([path, text]) => {
    const id = path.replace(/^.*\//, '').replace(/\.[^.]+$/, '');
    return { id, title: titleOf(text, id), text };
  }).sort((a, b) => a.id.localeCompare(b.id));
}

export const EXAMPLES: Example[] = [...collect(tours), ...collect(repo)];
