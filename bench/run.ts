// Side-by-side benchmark: each workload of bench/native/bench.c (run on this machine's kernel) against
// the same operations on the model, alternating native and model repetitions.
//
//   npm run bench                      every workload, 3 repetitions per side (after 1 warm-up each)
//   npm run bench -- --reps 5 --only fault-write,fault-read
//   npm run bench -- --quick           small sizes and counts: a fast check that everything runs
//   npm run bench -- --settle 0        no pause before each repetition (default 1000 ms)
//
// Prints a table and writes bench/results/latest.json (with the machine description).
// Timing: only the operations themselves (process.hrtime on the model side, CLOCK_MONOTONIC in
// bench.c); setup, population and pattern filling are never timed, as bench/native/README.md says.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  MADV_POPULATE_WRITE, MAP_ANONYMOUS, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE, Sim, type Thread,
} from '../src/index.js';
import { PG_table, Pages } from '../src/mm/page.js';
import { FRAMES_PER_SLAB_SHIFT, PhysMem } from '../src/hw/physmem.js';

const PAGE = 4096;
const MiB = 1024 * 1024;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

// ------------------------------------------------------------------------------------------------
// Harness types: a workload names its bench.c counterpart and builds the model side once per run.

/** One repetition's result, in bench.c's terms (README: seconds, ops, rate, unit, extras). */
interface Sample {
  seconds: number;
  ops: number;
  rate: number;
  extra: Record<string, number>;
}

interface ModelRunner {
  /** The machine, so the harness can keep its RAM resident between repetitions. */
  sim: Sim;
  /** One timed repetition. */
  rep(): Sample;
  /** Release the simulated machine. */
  close(): void;
}

interface Workload {
  /** The bench.c workload name. */
  name: string;
  /** SIZE_MB for bench.c and the model (bench.c's default when undefined). */
  sizeMb: number;
  /** OPS for bench.c and the model (bench.c's default count when undefined). */
  ops?: number;
  unit: string;
  /** true for rates (faults/s), false for times (ns/access). */
  higherIsBetter: boolean;
  /** Extras worth a row of their own: [label, extra key, scale, unit]. */
  extras?: [string, string, number, string][];
  model(w: Workload): ModelRunner;
}

const nowNs = (): bigint => process.hrtime.bigint();
const secs = (a: bigint, b: bigint): number => Number(b - a) / 1e9;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** A machine with one process, big enough for bytes of user memory plus page tables. */
function machine(bytes: number): { sim: Sim; t: Thread } {
  const sim = new Sim({ ramBytes: bytes + 64 * MiB });
  return { sim, t: sim.spawn() };
}

function must(r: number, what: string): number {
  if (r < 0) throw new Error(`model: ${what} failed with ${r}`);
  return r;
}

function mustOk(r: { signals: unknown[]; killed: boolean }, what: string): void {
  if (r.signals.length || r.killed) throw new Error(`model: ${what} raised a signal`);
}

// ------------------------------------------------------------------------------------------------
// Workloads (bench/native/README.md gives the exact native operations; the model mirrors them).

/** fault-write / fault-read: a fresh SIZE mapping, 1 byte per page; munmap timed separately. */
function faultWorkload(write: boolean): Workload['model'] {
  return (w) => {
    const size = w.sizeMb * MiB;
    const pages = size / PAGE;
    const { sim, t } = machine(size + size / 2); // >= 1.5 GiB for 1 GiB of pages
    const one = new Uint8Array([1]);
    return {
      sim,
      rep(): Sample {
        const a = must(t.mmap(0, size, RW, ANON), 'mmap');
        const f0 = t.getrusage().ru_minflt;
        gc();
        let sum = 0;
        const hostFaults = process.resourceUsage().minorPageFault;
        const t0 = nowNs();
        if (write) for (let i = 0; i < pages; i++) t.store(a + i * PAGE, one);
        else for (let i = 0; i < pages; i++) sum += t.load(a + i * PAGE, 1).data![0]!;
        const t1 = nowNs();
        // Page faults the host took on the model's own memory inside the timed loop (ideally ~0).
        const hostMinorFaults = process.resourceUsage().minorPageFault - hostFaults;
        const faults = t.getrusage().ru_minflt - f0;
        if (faults !== pages) throw new Error(`model: ${faults} faults for ${pages} pages`);
        const resident = sim.usedFrames();
        const tables = countTablePages(sim);
        const t2 = nowNs();
        must(t.munmap(a, size), 'munmap');
        const t3 = nowNs();
        const s = secs(t0, t1);
        return {
          seconds: s, ops: pages, rate: pages / s,
          extra: {
            pages, unmap_seconds: secs(t2, t3), sum, resident_frames: resident, table_pages: tables,
            ram_frames: sim.m.pages.nr, host_minor_faults: hostMinorFaults,
          },
        };
      },
      close(): void {},
    };
  };
}

function countTablePages(sim: Sim): number {
  const P = sim.m.pages;
  let n = 0;
  for (let pfn = 1; pfn < P.nr; pfn++) if (P.testFlag(pfn, PG_table)) n++;
  return n;
}

/** fork-cow: SIZE populated once; timed: fork, the child writes 1 byte per page (COW), exits, is reaped. */
const forkCow: Workload['model'] = (w) => {
  const size = w.sizeMb * MiB;
  const pages = size / PAGE;
  const { sim, t } = machine(2 * size + size / 4); // the parent's pages and the child's copies
  const a = must(t.mmap(0, size, RW, ANON), 'mmap');
  must(t.madvise(a, size, MADV_POPULATE_WRITE), 'MADV_POPULATE_WRITE');
  const one = new Uint8Array([1]);
  return {
    sim,
    rep(): Sample {
      gc();
      const t0 = nowNs();
      const c = t.fork();
      const tf = nowNs();
      if (typeof c === 'number') throw new Error(`model: fork failed with ${c}`);
      for (let i = 0; i < pages; i++) c.store(a + i * PAGE, one);
      const tw = nowNs();
      c.exit(); // _exit(0) and the parent's waitpid()
      const t1 = nowNs();
      const s = secs(t0, t1);
      return { seconds: s, ops: pages, rate: pages / s, extra: { pages, fork_seconds: secs(t0, tf), child_write_seconds: secs(tf, tw) } };
    },
    close(): void {},
  };
};

/** mprotect-page: [NONE][RW*][RW][NONE]; timed: OPS calls toggling page 1 between R and RW. */
const mprotectPage: Workload['model'] = (w) => {
  const calls = w.ops ?? 1_000_000;
  const { sim, t } = machine(16 * MiB);
  const base = must(t.mmap(0, 4 * PAGE, PROT_NONE, ANON), 'mmap');
  const p = base + PAGE;
  must(t.mprotect(p, 2 * PAGE, RW), 'mprotect');
  mustOk(t.store(p, [1]), 'store');
  mustOk(t.store(p + PAGE, [1]), 'store');
  return {
    sim,
    rep(): Sample {
      gc();
      const t0 = nowNs();
      for (let i = 0; i < calls; i++) must(t.mprotect(p, PAGE, i & 1 ? RW : PROT_READ), 'mprotect');
      const t1 = nowNs();
      if (calls & 1) must(t.mprotect(p, PAGE, RW), 'mprotect');
      const s = secs(t0, t1);
      return { seconds: s, ops: calls, rate: calls / s, extra: { region_pages: 2, toggled_pages: 1 } };
    },
    close(): void {},
  };
};

/** mprotect-region: SIZE populated; timed: OPS calls of mprotect over all of it, R and RW alternating. */
const mprotectRegion: Workload['model'] = (w) => {
  const size = w.sizeMb * MiB;
  const pages = size / PAGE;
  const calls = w.ops ?? 100;
  const { sim, t } = machine(size + size / 8);
  const a = must(t.mmap(0, size, RW, ANON), 'mmap');
  must(t.madvise(a, size, MADV_POPULATE_WRITE), 'MADV_POPULATE_WRITE');
  return {
    sim,
    rep(): Sample {
      gc();
      const t0 = nowNs();
      for (let i = 0; i < calls; i++) must(t.mprotect(a, size, i & 1 ? RW : PROT_READ), 'mprotect');
      const t1 = nowNs();
      if (calls & 1) must(t.mprotect(a, size, RW), 'mprotect');
      const s = secs(t0, t1);
      return { seconds: s, ops: calls, rate: calls / s, extra: { pages, ptes_per_s: (pages * calls) / s } };
    },
    close(): void {},
  };
};

/**
 * The word indices of random-load: xorshift64 from s0 = 88172645463325252, idx = (s * W) >> 64
 * (bench.c: wl_random_load()). Generated before the timed loop (in C the PRNG is ~1 ns a step).
 */
function randomIndices(nwords: number, loads: number): { idx: Float64Array; sum: bigint } {
  const idx = new Float64Array(loads);
  const M = (1n << 64n) - 1n;
  let s = 88172645463325252n;
  let sum = 0n;
  const W = BigInt(nwords);
  for (let i = 0; i < loads; i++) {
    s ^= (s << 13n) & M;
    s ^= s >> 7n;
    s ^= (s << 17n) & M;
    const k = (s * W) >> 64n;
    idx[i] = Number(k);
    sum += k;
  }
  return { idx, sum };
}

/** random-load: SIZE populated with word i = i; timed: OPS independent 8-byte loads. */
const randomLoad: Workload['model'] = (w) => {
  const size = w.sizeMb * MiB;
  const loads = w.ops ?? 10_000_000;
  const nwords = size / 8;
  const { sim, t } = machine(size + size / 64);
  const a = must(t.mmap(0, size, RW, ANON), 'mmap');
  must(t.madvise(a, size, MADV_POPULATE_WRITE), 'MADV_POPULATE_WRITE');
  // Fill the pattern through the frames the PTEs name (setup; README: "word i set to i").
  const mem = sim.m.mem;
  for (let pg = 0; pg < size / PAGE; pg++) {
    const pfn = t.pte(a + pg * PAGE)!.pfn;
    const s32 = mem.slab32(pfn);
    const o = PhysMem.wordOffset(pfn);
    const w0 = pg * 512;
    for (let j = 0; j < 512; j++) {
      s32[o + 2 * j] = (w0 + j) >>> 0;
      s32[o + 2 * j + 1] = Math.floor((w0 + j) / 2 ** 32);
    }
  }
  const { idx, sum: want } = randomIndices(nwords, loads);
  // The host's floor: the same loads straight from the frames, translated before the timed loop.
  const pfnOf = new Int32Array(size / PAGE);
  for (let pg = 0; pg < pfnOf.length; pg++) pfnOf[pg] = t.pte(a + pg * PAGE)!.pfn;
  const slabOf = new Int32Array(loads);
  const wordOf = new Int32Array(loads);
  for (let i = 0; i < loads; i++) {
    const pfn = pfnOf[Math.floor(idx[i]! / 512)]!;
    slabOf[i] = pfn >>> FRAMES_PER_SLAB_SHIFT;
    wordOf[i] = PhysMem.wordOffset(pfn) + (idx[i]! % 512) * 2;
  }
  const floor = (): number => {
    const slabs = mem.slabs32;
    let sum = 0;
    const t0 = nowNs();
    for (let i = 0; i < loads; i++) {
      const s32 = slabs[slabOf[i]!]!;
      sum += s32[wordOf[i]!]! + s32[wordOf[i]! + 1]! * 2 ** 32;
    }
    const t1 = nowNs();
    if (BigInt(sum) !== want) throw new Error(`model: random-load floor sum ${sum}, expected ${want}`);
    return (secs(t0, t1) * 1e9) / loads;
  };
  return {
    sim,
    rep(): Sample {
      gc();
      const floorNs = floor();
      let sum = 0;
      // loadInto(): the user load without allocating a result per access (a hot loop's API).
      const d = new Uint8Array(8);
      const t0 = nowNs();
      for (let i = 0; i < loads; i++) {
        if (t.loadInto(a + idx[i]! * 8, d).done !== 8) throw new Error('model: random-load faulted');
        sum += (d[0]! | (d[1]! << 8) | (d[2]! << 16)) + d[3]! * 2 ** 24 + (d[4]! | (d[5]! << 8) | (d[6]! << 16)) * 2 ** 32;
      }
      const t1 = nowNs();
      if (BigInt(sum) !== want) throw new Error(`model: random-load sum ${sum}, expected ${want}`);
      const s = secs(t0, t1);
      return { seconds: s, ops: loads, rate: (s * 1e9) / loads, extra: { sum, tlb_bytes: sim.m.mem.tlbs.bytes, pages: size / PAGE, js_floor_ns: floorNs } };
    },
    close(): void {},
  };
};

/**
 * pvm-readv-1m / pvm-readv-64m / procmem-read: a second process holds SIZE populated bytes; the
 * reader copies all of it into its own populated buffer, with process_vm_readv (1 MiB or 64 MiB
 * iovecs per call) or pread() of /proc/PID/mem in 1 MiB chunks (bench.c: wl_pvm(), wl_procmem()).
 */
function remoteRead(kind: 'pvm' | 'procmem', chunk: number): Workload['model'] {
  return (w) => {
    const size = w.sizeMb * MiB;
    const sim = new Sim({ ramBytes: 2 * size + 128 * MiB });
    const child = sim.spawn();
    const reader = sim.spawn();
    const src = must(child.mmap(0, size, RW, ANON), 'mmap');
    must(child.madvise(src, size, MADV_POPULATE_WRITE), 'MADV_POPULATE_WRITE');
    const dst = must(reader.mmap(0, size, RW, ANON), 'mmap');
    must(reader.madvise(dst, size, MADV_POPULATE_WRITE), 'MADV_POPULATE_WRITE');
    const fd = kind === 'procmem' ? must(reader.open(`/proc/${child.pid}/mem`, 0), 'open') : -1;
    return {
      sim,
      rep(): Sample {
        gc();
        let total = 0;
        const t0 = nowNs();
        for (let off = 0; off < size; off += chunk) {
          total += kind === 'pvm'
            ? must(reader.process_vm_readv(child.pid, [{ base: dst + off, len: chunk }], [{ base: src + off, len: chunk }]), 'process_vm_readv')
            : must(reader.pread(fd, dst + off, chunk, src + off), 'pread');
        }
        const t1 = nowNs();
        if (total !== size) throw new Error(`model: ${kind} copied ${total} of ${size} bytes`);
        const s = secs(t0, t1);
        return { seconds: s, ops: size / chunk, rate: size / s / 1e9, extra: { calls: size / chunk } };
      },
      close(): void {},
    };
  };
}

/**
 * pin-fast: SIZE populated; timed: IORING_REGISTER_BUFFERS of it in 1 GiB buffers (each one
 * pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM)), then IORING_UNREGISTER_BUFFERS (unpin), as
 * bench.c's wl_pin_fast() does through the real io_uring.
 */
const pinFast: Workload['model'] = (w) => {
  const size = w.sizeMb * MiB;
  const pages = size / PAGE;
  const { sim, t } = machine(size + size / 8);
  const a = must(t.mmap(0, size, RW, ANON), 'mmap');
  must(t.madvise(a, size, MADV_POPULATE_WRITE), 'MADV_POPULATE_WRITE');
  const iov: { base: number; len: number }[] = [];
  for (let off = 0; off < size; off += 1024 * MiB) iov.push({ base: a + off, len: Math.min(1024 * MiB, size - off) });
  return {
    sim,
    rep(): Sample {
      gc();
      const t0 = nowNs();
      must(t.ioUringRegisterBuffers(iov), 'IORING_REGISTER_BUFFERS');
      const t1 = nowNs();
      must(t.ioUringUnregisterBuffers(), 'IORING_UNREGISTER_BUFFERS');
      const t2 = nowNs();
      const s = secs(t0, t2);
      return { seconds: s, ops: pages, rate: pages / s, extra: { pages, pin_seconds: secs(t0, t1), unpin_seconds: secs(t1, t2) } };
    },
    close(): void {},
  };
};

// Adding a workload: one entry here (and a model function above). Not modelled side by side:
// seq-load and memcpy (bench.c's references for the host's own bandwidth).
const WORKLOADS: Workload[] = [
  {
    name: 'fault-write', sizeMb: 1024, unit: 'faults/s', higherIsBetter: true, model: faultWorkload(true),
    extras: [['  munmap of the region', 'unmap_seconds', 1e3, 'ms']],
  },
  {
    name: 'fault-read', sizeMb: 1024, unit: 'faults/s', higherIsBetter: true, model: faultWorkload(false),
    extras: [['  munmap of the region', 'unmap_seconds', 1e3, 'ms']],
  },
  {
    name: 'fork-cow', sizeMb: 1024, unit: 'faults/s', higherIsBetter: true, model: forkCow,
    extras: [['  fork() alone', 'fork_seconds', 1e3, 'ms'], ['  child write loop', 'child_write_seconds', 1e3, 'ms']],
  },
  { name: 'mprotect-page', sizeMb: 0, unit: 'calls/s', higherIsBetter: true, model: mprotectPage },
  {
    name: 'mprotect-region', sizeMb: 1024, unit: 'calls/s', higherIsBetter: true, model: mprotectRegion,
    extras: [['  PTEs changed', 'ptes_per_s', 1e-6, 'M/s']],
  },
  {
    name: 'random-load', sizeMb: 4096, unit: 'ns/access', higherIsBetter: false, model: randomLoad,
    // Not a model number: plain JavaScript loads of the same words, translated beforehand.
    extras: [['  JS floor: the same loads, no model', 'js_floor_ns', 1, 'ns/access']],
  },
  { name: 'pvm-readv-1m', sizeMb: 1024, unit: 'GB/s', higherIsBetter: true, model: remoteRead('pvm', MiB) },
  { name: 'pvm-readv-64m', sizeMb: 1024, unit: 'GB/s', higherIsBetter: true, model: remoteRead('pvm', 64 * MiB) },
  { name: 'procmem-read', sizeMb: 1024, unit: 'GB/s', higherIsBetter: true, model: remoteRead('procmem', MiB) },
  {
    name: 'pin-fast', sizeMb: 1024, unit: 'pages/s', higherIsBetter: true, model: pinFast,
    extras: [['  pin alone', 'pin_seconds', 1e3, 'ms'], ['  unpin alone', 'unpin_seconds', 1e3, 'ms']],
  },
];

/** --quick: the same workloads, small enough to finish in seconds. */
const QUICK: Record<string, Partial<Workload>> = {
  'fault-write': { sizeMb: 64 }, 'fault-read': { sizeMb: 64 }, 'fork-cow': { sizeMb: 64 },
  'mprotect-page': { ops: 100_000 }, 'mprotect-region': { sizeMb: 64, ops: 20 }, 'random-load': { sizeMb: 256, ops: 1_000_000 },
  'pvm-readv-1m': { sizeMb: 64 }, 'pvm-readv-64m': { sizeMb: 64 }, 'procmem-read': { sizeMb: 64 }, 'pin-fast': { sizeMb: 64 },
};

// ------------------------------------------------------------------------------------------------
// Native side.

function repoRoot(): string {
  let d = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(d, 'package.json'))) {
    const up = path.dirname(d);
    if (up === d) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    d = up;
  }
  return d;
}

function buildNative(root: string): string {
  const dir = path.join(root, '.cache', 'bench');
  mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, 'bench');
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', bin, path.join(root, 'bench', 'native', 'bench.c')], { stdio: 'inherit' });
  return bin;
}

function runNative(bin: string, w: Workload): Sample {
  const args = [w.name, String(w.sizeMb || 0), '1'];
  if (w.ops !== undefined) args.push(String(w.ops));
  const out = execFileSync(bin, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  const j = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number | string | boolean>;
  const extra: Record<string, number> = {};
  for (const [k, v] of Object.entries(j)) if (typeof v === 'number') extra[k] = v;
  return { seconds: j.seconds as number, ops: j.ops as number, rate: j.rate as number, extra };
}

// ------------------------------------------------------------------------------------------------
// Statistics, table, JSON.

interface Stats { min: number; median: number; max: number }

function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { min: s[0]!, median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, max: s[s.length - 1]! };
}

function fmt(x: number): string {
  if (Number.isNaN(x)) return '—';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6) return (x / 1e6).toFixed(a >= 1e7 ? 1 : 2) + 'M';
  if (a >= 1e4) return (x / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

const triple = (s: Stats): string => (Number.isNaN(s.median) ? '—' : `${fmt(s.min)} / ${fmt(s.median)} / ${fmt(s.max)}`);

interface Row { label: string; unit: string; native: Stats; model: Stats; speedup: number }

function printTable(rows: Row[]): string {
  const head = ['workload', 'unit', 'native min / median / max', 'model min / median / max', 'model÷native'];
  const body = rows.map((r) => [r.label, r.unit, triple(r.native), triple(r.model), Number.isNaN(r.speedup) ? '—' : r.speedup.toFixed(2) + '×']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  const out = [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n');
  console.log(out);
  return out;
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch { /* not Linux */ }
  return os.cpus()[0]?.model ?? 'unknown';
}

// ------------------------------------------------------------------------------------------------
// Main: for each workload, one warm-up repetition per side (discarded), then REPS alternating pairs.

interface Options { reps: number; only: Set<string> | null; quick: boolean; settleMs: number }

function parseArgs(argv: string[]): Options {
  const o: Options = { reps: 3, only: null, quick: false, settleMs: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--reps') o.reps = Math.max(1, Number(argv[++i]));
    else if (a === '--only') o.only = new Set(argv[++i]!.split(','));
    else if (a === '--quick') o.quick = true;
    else if (a === '--settle') o.settleMs = Math.max(0, Number(argv[++i]));
    else throw new Error(`unknown argument ${a} (use --reps N, --only a,b, --quick, --settle MS)`);
  }
  return o;
}

/**
 * Pause before every timed repetition, on both sides. After a native run frees a GiB, the guest
 * kernel (and on a VM the host, e.g. free page reporting) keeps working for a while; without a
 * pause that work lands in whatever is timed next.
 */
function settle(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Touch every host page of the simulated RAM (untimed) before a model repetition. Host memory that
 * sat idle while the native side ran may have been taken away (this VM runs a DAMON pageout
 * scheme); refaulting it inside the timed loop would charge host page faults to the model --
 * the cost the native README's caveat describes for fresh guest memory, paid here by the model.
 */
function keepResident(sim: Sim): void {
  // Writes, not reads: a read would map a paged-out page back read-only, and the timed loop's first
  // store to it would take a write-protect fault on the host.
  for (const slab of sim.m.mem.slabs8) {
    if (!slab) continue;
    for (let i = 0; i < slab.length; i += PAGE) slab[i] = slab[i]!;
  }
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const root = repoRoot();
  const bin = buildNative(root);
  const machineInfo = {
    cpu: cpuModel(), cpus: os.cpus().length, memTotalBytes: os.totalmem(), kernel: `${os.type()} ${os.release()}`,
    node: process.version, date: new Date().toISOString(), loadavgAtStart: os.loadavg(),
  };
  console.log(`gupsim bench on ${machineInfo.cpu} (${machineInfo.cpus} CPUs), ${machineInfo.kernel}, node ${machineInfo.node}, ` +
    `load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`${opts.reps} repetitions per side after 1 discarded warm-up each; native and model alternate, ` +
    `${opts.settleMs} ms pause before each.\n`);
  const rows: Row[] = [];
  const results: unknown[] = [];
  let metadata: Record<string, number> | null = null;
  let tlb: Record<string, number> | null = null;
  for (const base of WORKLOADS) {
    if (opts.only && !opts.only.has(base.name)) continue;
    const w: Workload = { ...base, ...(opts.quick ? QUICK[base.name] : {}) };
    const params = [w.sizeMb ? `${w.sizeMb} MiB` : '', w.ops ? `${w.ops} ops` : ''].filter(Boolean).join(', ');
    process.stdout.write(`${w.name}${params ? ` (${params})` : ''}: `);
    gc();
    const runner = w.model(w);
    const native: Sample[] = [];
    const model: Sample[] = [];
    runNative(bin, w); // warm-up: the first touches of guest memory are slow (README caveat)
    runner.rep(); // warm-up: JIT and the simulated RAM's host pages
    for (let r = 0; r < opts.reps; r++) {
      settle(opts.settleMs);
      native.push(runNative(bin, w));
      settle(opts.settleMs);
      keepResident(runner.sim);
      model.push(runner.rep());
      process.stdout.write('.');
    }
    runner.close();
    process.stdout.write('\n');
    if (w.name === 'fault-write') {
      const last = model[model.length - 1]!.extra;
      // struct page arrays are sized for all of RAM; page tables grow with what is mapped.
      const meta = last.ram_frames! * Pages.METADATA_BYTES_PER_FRAME + last.table_pages! * PAGE;
      metadata = {
        structPageBytesPerFrame: Pages.METADATA_BYTES_PER_FRAME,
        residentPages: last.pages!,
        pageTablePages: last.table_pages!,
        metadataBytesPerResidentPage: meta / last.pages!,
      };
    }
    if (w.name === 'random-load') {
      // The software TLB is a cache sized to the resident set (at most 2^20 entries of 8 bytes).
      const last = model[model.length - 1]!.extra;
      tlb = { tlbBytes: last.tlb_bytes!, residentPages: last.pages!, tlbBytesPerResidentPage: last.tlb_bytes! / last.pages! };
    }
    const ns = stats(native.map((s) => s.rate));
    const ms = stats(model.map((s) => s.rate));
    rows.push({ label: w.name, unit: w.unit, native: ns, model: ms, speedup: w.higherIsBetter ? ms.median / ns.median : ns.median / ms.median });
    for (const [label, key, scale, unit] of w.extras ?? []) {
      const ne = stats(native.map((s) => (s.extra[key] ?? NaN) * scale));
      const me = stats(model.map((s) => (s.extra[key] ?? NaN) * scale));
      const higher = unit.endsWith('/s');
      rows.push({ label, unit, native: ne, model: me, speedup: higher ? me.median / ne.median : ne.median / me.median });
    }
    results.push({ workload: w.name, sizeMb: w.sizeMb, ops: w.ops ?? null, unit: w.unit, higherIsBetter: w.higherIsBetter, native, model });
    gc();
  }
  console.log('');
  const table = printTable(rows);
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const loadavgAtEnd = os.loadavg();
  console.log(`\nload average at the end: ${loadavgAtEnd.map((x) => x.toFixed(1)).join(' ')} ` +
    `(other work on the machine competes with both sides; compare medians of several runs)`);
  console.log(`\nmodel×: model speed ÷ native speed (rates: model/native; times: native/model); > 1 means the model is faster.`);
  if (metadata) {
    console.log(`model metadata: ${metadata.structPageBytesPerFrame} B of struct page arrays per frame of RAM; ` +
      `${metadata.metadataBytesPerResidentPage.toFixed(1)} B per resident page incl. page tables (fault-write, 1.5× RAM).`);
  }
  if (tlb) {
    console.log(`software TLB: ${(tlb.tlbBytes / MiB).toFixed(1)} MiB for ${tlb.residentPages} resident pages, ` +
      `${tlb.tlbBytesPerResidentPage.toFixed(1)} B per resident page (random-load).`);
  }
  console.log(`peak RSS of this process: ${(peakRss / MiB).toFixed(0)} MiB`);
  const out = path.join(root, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'latest.json'), JSON.stringify({
    machine: { ...machineInfo, loadavgAtEnd }, reps: opts.reps, warmup: 1, settleMs: opts.settleMs, quick: opts.quick, table, rows, metadata, tlb, peakRssBytes: peakRss, results,
  }, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), path.join(out, 'latest.json'))}`);
}

main();
