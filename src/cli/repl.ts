// `gupsim repl`: type steps and see what the kernel does, one line at a time. Line editing and
// history come from node:readline (history is kept in ~/.gupsim_history); Tab completes step
// names, constants, tasks and variables.
import { createInterface } from 'node:readline';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ProfileName } from '../profiles/profile.js';
import {
  CONSTANTS, InternalError, KEYWORDS, ScenarioError, Session, formatError, parseScenario, reportText, signature, stepNames, lookupStep,
} from '../scenario/index.js';
import { paintFor } from './paint.js';

const META = ['.help', '.trace', '.maps', '.tasks', '.vars', '.steps', '.quit'];

const HELP = `Type scenario lines, e.g.
  task A
  A: p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
  A: k = pkey_alloc(0, PKEY_DISABLE_WRITE)
  A: pkey_mprotect(p, 4096, PROT_READ|PROT_WRITE, k)
  A: store(p, "x")   expect SIGSEGV{SEGV_PKUERR}
Commands: .trace on|off  .maps [TASK]  .tasks  .vars  .steps [PREFIX]  .help  .quit   (Tab completes)`;

export interface ReplOptions {
  trace: boolean;
  profile: ProfileName | undefined;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

export function completions(session: Session, line: string): [string[], string] {
  if (/^\s*\.\w*$/.test(line)) {
    const w = line.trim();
    return [META.filter((m) => m.startsWith(w)), w];
  }
  const m = /[A-Za-z_][A-Za-z0-9_]*$/.exec(line);
  const word = m ? m[0] : '';
  const pool = new Set<string>([...stepNames(), ...CONSTANTS.keys(), ...session.checker.definedNames(), ...KEYWORDS, 'ok', 'nosignal', 'killed', 'TEXT', 'TEXT_FUNC']);
  const hits = [...pool].filter((c) => c.startsWith(word)).sort();
  return [hits, word];
}

export async function runRepl(o: ReplOptions): Promise<number> {
  const input = o.input ?? process.stdin;
  const output = o.output ?? process.stdout;
  const tty = (input as NodeJS.ReadStream).isTTY === true && (output as NodeJS.WriteStream).isTTY === true;
  const paint = paintFor(tty ? undefined : false);
  const histFile = join(homedir(), '.gupsim_history');
  let history: string[] = [];
  if (tty && existsSync(histFile)) {
    try {
      history = readFileSync(histFile, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 1000);
    } catch {
      history = [];
    }
  }
  const session = new Session('', '<repl>', o.profile ? { trace: o.trace, profile: o.profile } : { trace: o.trace });
  const print = (s: string): void => {
    output.write(s + '\n');
  };
  const rl = createInterface({
    input, output, terminal: tty, history, historySize: 1000, prompt: 'gupsim> ',
    completer: (line: string) => completions(session, line),
  });
  let source = '';
  let lineNo = 0;
  if (tty) print(paint.dim(`gupsim repl (profile ${o.profile ?? session.headers.profile}); .help for help`));

  const meta = (cmd: string, arg: string): boolean => {
    switch (cmd) {
      case '.quit':
      case '.exit':
        rl.close();
        return true;
      case '.help':
        print(HELP);
        return true;
      case '.trace':
        session.trace = arg === '' ? !session.trace : arg === 'on';
        print(`trace ${session.trace ? 'on' : 'off'}`);
        return true;
      case '.tasks':
        for (const [n, e] of session.tasks) print(`${n}: pid ${e.thread.pid}${e.thread.alive ? '' : ` (${e.gone ?? 'gone'})`}`);
        return true;
      case '.vars':
        for (const [n, v] of session.vars) print(`${n} = ${v.t === 'int' ? '0x' + BigInt.asUintN(64, v.v).toString(16) + ` (${v.v})` : v.t}`);
        return true;
      case '.maps':
        for (const [n, e] of session.tasks) {
          if (arg && n !== arg) continue;
          print(`# ${n} (pid ${e.thread.pid})`);
          if (e.thread.alive) print(e.thread.maps().trimEnd());
        }
        return true;
      case '.steps':
        for (const n of stepNames().filter((s) => s.startsWith(arg)).sort()) {
          const d = lookupStep(n)!;
          print(`${signature(d, session.headers.profile)}  -- ${d.doc}`);
        }
        return true;
      default:
        print(`unknown command ${cmd}; ${META.join(' ')}`);
        return true;
    }
  };

  rl.on('line', (raw: string) => {
    const line = raw.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed.startsWith('.')) {
      const [cmd, ...rest] = trimmed.split(/\s+/);
      meta(cmd!, rest.join(' '));
      if (tty) rl.prompt();
      return;
    }
    lineNo++;
    source += line + '\n';
    session.setSource(source);
    try {
      const script = parseScenario('\n'.repeat(lineNo - 1) + line, '<repl>');
      for (const st of script.stmts) {
        const r = session.exec(st);
        if (r) for (const l of reportText('<repl>', source, r, { trace: session.trace, paint })) print(l);
      }
    } catch (e) {
      if (e instanceof ScenarioError) print(paint.fail(formatError('<repl>', source, e)));
      else if (e instanceof InternalError) print(paint.fail(`internal error: ${e.message} (a bug in the model)`));
      else print(paint.fail(`internal error: ${e instanceof Error ? e.message : String(e)}`));
    }
    if (tty) rl.prompt();
  });
  if (tty) {
    rl.on('history', (h: string[]) => {
      history = h;
    });
    rl.prompt();
  }
  await new Promise<void>((resolve) => rl.on('close', () => resolve()));
  if (tty) {
    try {
      writeFileSync(histFile, [...history].reverse().join('\n') + '\n');
    } catch {
      // no history file: not worth an error
    }
  }
  return 0;
}
