// Scenario-language benchmark (issue 5): a 10,000-step scenario in-process, and `gupsim run` as a
// new process, as a user runs it (bin/gupsim), of a small scenario and of the same 10,000-step
// scenario written to a temporary file (its output to /dev/null); `node dist/gupsim.js` alongside.
//
//   npm run bench:scenario            (builds first; run from the repository root)
//   node dist/bench/scenario.js --reps 15
//
// The machine's load average is printed with the numbers: on a shared machine wall time
// stretches with load, CPU time much less.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseScenario } from '../src/scenario/parser.js';
import { Session } from '../src/scenario/interp.js';

const ri = process.argv.indexOf('--reps');
const reps = ri > 0 ? Number(process.argv[ri + 1]) : 10;

function bigScenario(steps: number): string {
  const lines = ['task A', 'A: p = mmap(NULL, 16 * 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)',
    'A: k = pkey_alloc(0, 0)', 'A: sigaction(SIGSEGV, skip)', 'A: B = fork()'];
  for (let i = 0; lines.length < steps + 1; i++) {
    const off = (i * 4096 + i) % (16 * 4096);
    switch (i % 8) {
      case 0: lines.push(`A: store(p + ${off}, "abcd") expect ok`); break;
      case 1: lines.push(`A: load(p + ${off}, 4) expect ok`); break;
      case 2: lines.push('A: pkey_mprotect(p, 4096, PROT_READ|PROT_WRITE, k) expect 0'); break;
      case 3: lines.push('A: pkey_set(k, PKEY_DISABLE_WRITE)'); break;
      case 4: lines.push('A: store(p, "x") expect SIGSEGV{SEGV_PKUERR, addr=p, pkey=k}'); break;
      case 5: lines.push('A: pkey_set(k, 0)'); break;
      case 6: lines.push(`B: load(p + ${off}, 8)`); break;
      case 7: lines.push('A: madvise(p + 0x8000, 4096, MADV_DONTNEED) expect 0'); break;
    }
  }
  return lines.join('\n') + '\n';
}

interface Timing { wallMs: number; cpuMs: number; phases: { parse: number; check: number; run: number } }

function runOnce(src: string): Timing {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  // What runScript() does, timed phase by phase.
  const script = parseScenario(src, 'big.scn');
  const t1 = performance.now();
  const s = new Session(src, 'big.scn');
  const checked = script.stmts.map((st) => s.checker.check(st));
  const t2 = performance.now();
  for (const c of checked) s.execChecked(c);
  const t3 = performance.now();
  const c = process.cpuUsage(c0);
  if (s.steps !== 10000) throw new Error(`ran ${s.steps} steps`);
  return { wallMs: t3 - t0, cpuMs: (c.user + c.system) / 1000, phases: { parse: t1 - t0, check: t2 - t1, run: t3 - t2 } };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (x: number): string => x.toFixed(0).padStart(6);

const src = bigScenario(10000);
const cold = runOnce(src);
const warm = Array.from({ length: 5 }, () => runOnce(src));
console.log(`load average: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`);
console.log('\n10,000-step scenario (parse + check + run, in-process)');
console.log('            wall ms  cpu ms   parse   check     run');
console.log(`first run  ${f(cold.wallMs)}  ${f(cold.cpuMs)}  ${f(cold.phases.parse)}  ${f(cold.phases.check)}  ${f(cold.phases.run)}`);
const wm = median(warm.map((w) => w.wallMs));
const w = warm.find((x) => x.wallMs === wm)!;
console.log(`warm, med  ${f(w.wallMs)}  ${f(w.cpuMs)}  ${f(w.phases.parse)}  ${f(w.phases.check)}  ${f(w.phases.run)}`);

// `gupsim run` as a new process, as a user runs it: bin/gupsim (the README's `gupsim`: the bundle on
// the project's Node with its flags and compile cache), and, for comparison, `node dist/gupsim.js`
// on the same Node without them.
const launcher = 'bin/gupsim';
const bundle = 'dist/gupsim.js';
const small = 'examples/pkeys-basics.scn';
if (!existsSync(bundle)) throw new Error('build first: npm run build');
const tmp = mkdtempSync(join(os.tmpdir(), 'gupsim-bench-'));
const big = join(tmp, 'big.scn');
writeFileSync(big, src);
// Loaded into the child through NODE_OPTIONS (which passes through the launcher): its CPU time at
// exit, all threads and (Node >= 23.9) the main thread alone; V8 compiles and collects on others.
const hook = join(tmp, 'cpu-hook.mjs');
writeFileSync(hook, 'process.on("exit", () => { const a = process.cpuUsage(); const m = process.threadCpuUsage?.() ?? a;' +
  ' process.stderr.write(`CPU ${(a.user + a.system) / 1000} MAIN ${(m.user + m.system) / 1000}\\n`); });\n');

interface CliRun { wallMs: number; cpuMs: number; mainMs: number }
/** `CMD run FILE` as a new process: wall clock, and the child's own CPU time. */
function cliRun(cmd: string[], file: string, stdout: 'pipe' | 'ignore'): CliRun {
  const t = performance.now();
  const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'run', file], {
    encoding: 'utf8', stdio: ['ignore', stdout, 'pipe'], maxBuffer: 1 << 26,
    env: { ...process.env, NODE_OPTIONS: `--import=${hook}` },
  });
  const wallMs = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} run ${file} failed: ${r.stderr}`);
  const m = /CPU ([\d.]+) MAIN ([\d.]+)/.exec(r.stderr);
  return { wallMs, cpuMs: Number(m?.[1] ?? NaN), mainMs: Number(m?.[2] ?? NaN) };
}

const cases: { what: string; cmd: string[]; file: string; out: 'pipe' | 'ignore'; runs: CliRun[] }[] = [
  { what: `bin/gupsim run ${small}`, cmd: [launcher], file: small, out: 'pipe', runs: [] },
  { what: 'bin/gupsim run of the 10,000-step scenario (output to /dev/null)', cmd: [launcher], file: big, out: 'ignore', runs: [] },
  { what: `node dist/gupsim.js run ${small}`, cmd: [process.execPath, bundle], file: small, out: 'pipe', runs: [] },
  { what: 'node dist/gupsim.js run of the 10,000-step scenario', cmd: [process.execPath, bundle], file: big, out: 'ignore', runs: [] },
];
const bare: number[] = [];
// Once untimed, so that the compile cache holds this build (as after a user's first run).
cliRun([launcher], small, 'pipe');
for (let i = 0; i < reps; i++) {
  // Interleaved, so that a change in the machine's load touches every case alike.
  for (const c of cases) c.runs.push(cliRun(c.cmd, c.file, c.out));
  const t = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  bare.push(performance.now() - t);
}
rmSync(tmp, { recursive: true, force: true });
console.log(`\nas new processes, ${reps} runs each, on Node ${process.version}: median (min) ms`);
console.log('                                                                     wall          cpu   main thread');
for (const c of cases) {
  const col = (xs: number[]): string => `${median(xs).toFixed(0).padStart(5)} (${Math.min(...xs).toFixed(0).padStart(4)})`;
  console.log(`${c.what.padEnd(66)} ${col(c.runs.map((r) => r.wallMs))} ${col(c.runs.map((r) => r.cpuMs))} ${col(c.runs.map((r) => r.mainMs))}`);
}
console.log(`node -e 0 on the same machine, for scale: median ${median(bare).toFixed(0)} ms, min ${Math.min(...bare).toFixed(0)} ms`);

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/scenario.json', JSON.stringify({
  date: new Date().toISOString(), loadavg: os.loadavg(), cpus: os.cpus().length, node: process.version,
  steps10k: { first: cold, warmMedian: w },
  cli: cases.map((c) => ({ what: c.what, wallMs: c.runs.map((r) => r.wallMs), cpuMs: c.runs.map((r) => r.cpuMs), mainMs: c.runs.map((r) => r.mainMs) })),
  nodeBareMs: bare,
}, null, 2) + '\n');
