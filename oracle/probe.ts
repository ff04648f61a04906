/**
 * Check that the oracle kernels enforce x86 protection keys.
 *
 *   node --import tsx oracle/probe.ts [--bench N] [--seq]
 *
 * Runs oracle/probe.c on Debian 6.1 and 6.12 (in parallel unless --seq) and
 * prints its lines and the timings. Exit status 1 if either kernel does not
 * deliver SIGSEGV with si_code=4 (SEGV_PKUERR) and si_pkey equal to the key.
 * --bench N also boots each kernel with N distinct trivial programs and prints
 * how long that takes.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { KERNELS, runOnKernel, type GuestProgram, type GuestRun, type KernelSeries } from './qemu.js';

function fmtRun(r: GuestRun): string {
  return (
    `kernel ${r.kernel}: ${r.packageName} ${r.packageVersion} (uname -r ${r.kernelRelease}); ` +
    `boot ${r.bootSeconds.toFixed(1)} s in ${r.attempts} boot(s), ${r.failedBoots} failed [${r.attemptSeconds.map((s) => s.toFixed(1)).join(', ')}], ` +
    `compile ${r.compileSeconds.toFixed(1)} s`
  );
}

async function probe(kernel: KernelSeries, source: string): Promise<boolean> {
  const t0 = performance.now();
  const run = await runOnKernel(kernel, [{ name: 'probe', cSource: source }], {
    timeoutSeconds: 20,
    log: (m) => console.error(m),
  });
  const wall = (performance.now() - t0) / 1000;
  const out = run.outputs.get('probe');
  console.log(`${fmtRun(run)}, wall ${wall.toFixed(1)} s`);
  if (!out) {
    console.log('  no output');
    return false;
  }
  for (const l of out.lines) console.log(`  ${l}`);
  console.log(`  exit=${out.exitStatus} signal=${out.signal} timedOut=${out.timedOut}`);
  const fault = out.lines.find((l) => l.startsWith('pkru=') && l.includes(' pkey='));
  const m = fault?.match(/pkey=(\d+) signal=SIGSEGV si_code=(\d+) si_pkey=(\d+)/);
  const ok = !!m && m[2] === '4' && m[1] === m[3] && out.exitStatus === 0;
  console.log(`  => ${ok ? 'PKU enforced (SEGV_PKUERR with the right si_pkey)' : 'PKU NOT ENFORCED / probe failed'}`);
  return ok;
}

async function bench(kernel: KernelSeries, n: number): Promise<void> {
  const programs: GuestProgram[] = Array.from({ length: n }, (_, i) => ({
    name: `trivial-${i}`,
    // distinct sources, so the binaries are distinct (no dedupe) like real scenarios
    cSource: `#include <stdio.h>\nint main(void) { printf("scenario %d ok\\n", ${i}); return ${i % 7}; }\n`,
  }));
  const t0 = performance.now();
  const run = await runOnKernel(kernel, programs, { log: (m) => console.error(m) });
  const wall = (performance.now() - t0) / 1000;
  let good = 0;
  programs.forEach((p, i) => {
    const o = run.outputs.get(p.name);
    if (o && o.exitStatus === i % 7 && o.lines.length === 1 && o.lines[0] === `scenario ${i} ok`) good++;
  });
  console.log(`bench ${n} programs: ${fmtRun(run)}, wall ${wall.toFixed(1)} s, ${good}/${n} correct`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const seq = args.includes('--seq');
  const bi = args.indexOf('--bench');
  const benchN = bi >= 0 ? Number(args[bi + 1] ?? 100) : 0;
  const source = await readFile(fileURLToPath(new URL('./probe.c', import.meta.url)), 'utf8');

  let results: boolean[];
  if (seq) {
    results = [];
    for (const k of KERNELS) results.push(await probe(k, source));
  } else {
    results = await Promise.all(KERNELS.map((k) => probe(k, source)));
  }
  if (benchN > 0) {
    for (const k of KERNELS) await bench(k, benchN);
  }
  if (!results.every(Boolean)) process.exitCode = 1;
}

await main();
