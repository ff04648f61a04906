/**
 * gupsim real-kernel oracle: run static C programs under real Debian kernels
 * (6.1 from bookworm, 6.12 from bookworm-backports) booted in QEMU TCG with
 * `-cpu max` (which exposes PKU/OSPKE, so the kernels enforce protection keys).
 *
 * One call = one initramfs with every program + our static /init (init.c),
 * one boot. The guest runs the programs one by one in child processes and
 * writes their output, framed by markers, to a second serial port (so kernel
 * console messages never mix with it). If the guest kernel dies (oops/panic)
 * the boot is retried with only the programs that have not finished yet.
 *
 * Node built-ins only.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export type KernelSeries = '6.1' | '6.12';
export const KERNELS: readonly KernelSeries[] = ['6.1', '6.12'];

export interface GuestProgram {
  /** Unique; printable ASCII (no tab/newline). Becomes argv[0] in the guest. */
  name: string;
  cSource: string;
}

export interface ProgramOutput {
  /** stdout+stderr lines (in the order the guest tty saw them), without line terminators */
  lines: string[];
  /** exit code if the program exited normally, else null */
  exitStatus: number | null;
  /** terminating signal number if killed by a signal (SIGKILL=9 after a timeout), else null */
  signal: number | null;
  timedOut: boolean;
  /** guest-measured run time of the program (ms, guest clock under TCG) */
  elapsedMs: number | null;
  /** which boot (1-based) of this run produced this result */
  attempt: number;
}

export interface GuestRun {
  kernel: KernelSeries;
  /** `uname -r` in the guest, e.g. 6.1.0-56-cloud-amd64 */
  kernelRelease: string;
  /** Debian package version, e.g. 6.1.192-2 */
  packageVersion: string;
  /** Debian package name, e.g. linux-image-6.1.0-56-cloud-amd64 */
  packageName: string;
  outputs: Map<string, ProgramOutput>;
  /** wall-clock seconds spent in QEMU, all attempts summed */
  bootSeconds: number;
  /** wall-clock seconds of each QEMU run */
  attemptSeconds: number[];
  /** number of boots (1 = no retry and no split) */
  attempts: number;
  /** boots that ended in an oops/panic/stall and were retried */
  failedBoots: number;
  /** wall-clock seconds spent compiling (0 when every binary was cached) */
  compileSeconds: number;
  /** -Wall warnings per program name (only programs that had any) */
  compileWarnings: Map<string, string>;
  /** console log (kernel messages + markers) of the last boot */
  consoleLogPath: string;
}

export interface RunOptions {
  /** per-program timeout inside the guest (default 10 s; guest time under TCG) */
  timeoutSeconds?: number;
  /** appended to the kernel command line */
  extraAppend?: string;
  /** consecutive bad boots (oops/panic/stall) before giving up (default 6) */
  maxAttempts?: number;
  /**
   * initramfs budget per boot in MiB (default 20% of memoryMiB: ~100 MiB, ~135 static glibc programs,
   * at 512 MiB; ~30% already fails to unpack); more programs are split over boots
   */
  maxInitrdMiB?: number;
  /**
   * QEMU -cpu value. Default `max,-cx16`: with plain `max`, QEMU 7.2 TCG makes
   * Debian's 6.12 double-fault in SLUB's cmpxchg16b fast path in a good share of
   * boots; hiding CX16 makes SLUB take its locked path and the boots clean.
   */
  cpu?: string;
  /** guest memory in MiB (default 512) */
  memoryMiB?: number;
  /** extra compiler flags after `-static -O1 -Wall` */
  cflags?: string[];
  /** parallel compiler jobs (default: number of CPUs) */
  compileJobs?: number;
  /**
   * Attach a fresh, empty ext4 file system of this many MiB to every boot, as an NVMe disk
   * (/dev/nvme0n1 in the guest; the programs mount it themselves). Default: none.
   */
  diskMiB?: number;
  /** progress messages (default: none) */
  log?: (msg: string) => void;
}

export class OracleError extends Error {
  override name = 'OracleError';
}

export class OracleCompileError extends OracleError {
  override name = 'OracleCompileError';
  constructor(readonly failures: { program: string; stderr: string }[]) {
    super(
      `failed to compile ${failures.length} guest program(s):\n` +
        failures.map((f) => `--- ${f.program} ---\n${f.stderr.trimEnd()}`).join('\n'),
    );
  }
}

export class OracleBootError extends OracleError {
  override name = 'OracleBootError';
  constructor(
    message: string,
    readonly consoleTail: string,
    readonly consoleLogPath: string,
  ) {
    super(`${message}\nconsole log: ${consoleLogPath}\n--- console tail ---\n${consoleTail}`);
  }
}

const MARK = '@@GUPSIM@@';
const BASE_CFLAGS = ['-static', '-O1', '-Wall'];
const DEFAULT_CPU = 'max,-cx16';
const PANIC_RE = /Kernel panic|Oops|BUG:|general protection fault|double fault|end trace/;

export function cacheRoot(): string {
  return process.env['GUPSIM_CACHE'] ?? path.join(os.homedir(), '.cache', 'gupsim');
}

/** oracle/ next to this module, or (from dist/oracle) the source oracle/ dir up the tree */
function oracleFile(name: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  const first = path.join(dir, name);
  for (let i = 0; i < 6; i++) {
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
    const q = path.join(dir, 'oracle', name);
    if (existsSync(q)) return q;
    dir = path.dirname(dir);
  }
  return first;
}

// ---------------------------------------------------------------- processes

interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { input?: string; cwd?: string } = {}): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

// ---------------------------------------------------------------- kernels

export interface KernelInfo {
  kernel: KernelSeries;
  vmlinuz: string;
  packageName: string;
  packageVersion: string;
  release: string;
}

let setupLock: Promise<void> = Promise.resolve();

async function readKernelInfo(kernel: KernelSeries): Promise<KernelInfo | null> {
  const dir = path.join(cacheRoot(), 'kernels', kernel);
  const vmlinuz = path.join(dir, 'vmlinuz');
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, 'package.txt'), 'utf8');
    await fs.access(vmlinuz);
  } catch {
    return null;
  }
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  return {
    kernel,
    vmlinuz,
    packageName: kv.get('package') ?? 'unknown',
    packageVersion: kv.get('version') ?? 'unknown',
    release: kv.get('release') ?? 'unknown',
  };
}

/** Kernel in the cache, running oracle/setup.sh first if it is missing. */
export async function ensureKernel(kernel: KernelSeries): Promise<KernelInfo> {
  const have = await readKernelInfo(kernel);
  if (have) return have;
  const prev = setupLock;
  let release!: () => void;
  setupLock = new Promise<void>((r) => (release = r));
  try {
    await prev;
    const again = await readKernelInfo(kernel);
    if (again) return again;
    const setup = oracleFile('setup.sh');
    const r = await run('bash', [setup, kernel]);
    if (r.code !== 0) {
      throw new OracleError(`oracle setup (${setup} ${kernel}) failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
    }
    const info = await readKernelInfo(kernel);
    if (!info) throw new OracleError(`oracle setup succeeded but kernel ${kernel} is not in ${cacheRoot()}/kernels`);
    return info;
  } finally {
    release();
  }
}

// ---------------------------------------------------------------- compiling

let ccIdentity: Promise<string> | null = null;

function compilerIdentity(): Promise<string> {
  ccIdentity ??= run('cc', ['--version']).then(
    (r) => {
      if (r.code !== 0) throw new OracleError(`cc --version failed: ${r.stderr}`);
      return r.stdout;
    },
    (e: unknown) => {
      ccIdentity = null;
      throw new OracleError(`no C compiler 'cc' (run oracle/setup.sh): ${String(e)}`);
    },
  );
  return ccIdentity;
}

interface Compiled {
  binPath: string;
  hash: string;
  warnings: string;
  fresh: boolean;
}

const compiling = new Map<string, Promise<Compiled | { error: string }>>();

/** Compile (or fetch from the cache) one static binary; identical concurrent requests share one cc run. */
async function compileOne(label: string, source: string, flags: string[]): Promise<Compiled | { error: string }> {
  const id = await compilerIdentity();
  const hash = createHash('sha256').update(id).update('\0').update(flags.join('\0')).update('\0').update(source).digest('hex');
  let p = compiling.get(hash);
  if (!p) {
    p = compileUncached(label, source, flags, hash).finally(() => compiling.delete(hash));
    compiling.set(hash, p);
  }
  return p;
}

async function compileUncached(label: string, source: string, flags: string[], hash: string): Promise<Compiled | { error: string }> {
  const dir = path.join(cacheRoot(), 'bin');
  const binPath = path.join(dir, hash);
  const warnPath = `${binPath}.warn`;
  if (existsSync(binPath)) {
    const warnings = await fs.readFile(warnPath, 'utf8').catch(() => '');
    return { binPath, hash, warnings, fresh: false };
  }
  await fs.mkdir(dir, { recursive: true });
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'gupsim-cc-'));
  try {
    const safe = label.replace(/[^A-Za-z0-9_.+-]/g, '_').slice(0, 80) || 'prog';
    const src = path.join(work, `${safe}.c`);
    await fs.writeFile(src, source);
    const out = path.join(work, 'a.out');
    const r = await run('cc', [...flags, '-o', out, `${safe}.c`], { cwd: work });
    if (r.code !== 0) return { error: (r.stderr + r.stdout).trim() || `cc exited with ${r.code}` };
    await fs.writeFile(`${warnPath}.${process.pid}`, r.stderr);
    await fs.rename(`${warnPath}.${process.pid}`, warnPath);
    const tmpBin = `${binPath}.${process.pid}.tmp`;
    await fs.copyFile(out, tmpBin);
    await fs.rename(tmpBin, binPath);
    return { binPath, hash, warnings: r.stderr, fresh: true };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** Build oracle/init.c (cached by content). */
async function buildInit(): Promise<string> {
  const src = await fs.readFile(oracleFile('init.c'), 'utf8');
  const r = await compileOne('init', src, ['-static', '-O2', '-Wall']);
  if ('error' in r) throw new OracleCompileError([{ program: 'oracle/init.c', stderr: r.error }]);
  return r.binPath;
}

// ---------------------------------------------------------------- initramfs (cpio newc)

interface CpioEntry {
  name: string;
  mode: number;
  data?: Buffer;
  rdevMajor?: number;
  rdevMinor?: number;
}

function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer): void => {
    parts.push(b);
    offset += b.length;
  };
  const pad4 = (): void => {
    const r = offset % 4;
    if (r) push(Buffer.alloc(4 - r));
  };
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  let ino = 1;
  for (const e of [...entries, { name: 'TRAILER!!!', mode: 0 }]) {
    const data: Buffer = e.data ?? Buffer.alloc(0);
    const nameBuf = Buffer.from(`${e.name}\0`, 'utf8');
    const isTrailer = e.name === 'TRAILER!!!';
    const header =
      '070701' +
      hex(isTrailer ? 0 : ino++) +
      hex(e.mode) +
      hex(0) + // uid
      hex(0) + // gid
      hex(isTrailer ? 1 : (e.mode & 0o170000) === 0o040000 ? 2 : 1) + // nlink
      hex(0) + // mtime
      hex(data.length) +
      hex(0) + // devmajor
      hex(0) + // devminor
      hex(e.rdevMajor ?? 0) +
      hex(e.rdevMinor ?? 0) +
      hex(nameBuf.length) +
      hex(0); // check
    push(Buffer.from(header, 'ascii'));
    push(nameBuf);
    pad4();
    if (data.length) {
      push(data);
      pad4();
    }
  }
  return Buffer.concat(parts, offset);
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;

async function buildInitramfs(
  initBin: string,
  programs: { name: string; bin: Compiled }[],
  timeoutMs: number,
): Promise<Buffer> {
  const entries: CpioEntry[] = [
    ...['dev', 'proc', 'sys', 'tmp', 'gupsim', 'gupsim/bin'].map((name) => ({ name, mode: S_IFDIR | 0o755 })),
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1 },
    { name: 'init', mode: S_IFREG | 0o755, data: await fs.readFile(initBin) },
    { name: 'gupsim/config', mode: S_IFREG | 0o644, data: Buffer.from(`timeout_ms=${timeoutMs}\n`) },
  ];
  const binName = new Map<string, string>(); // hash -> file name in gupsim/bin (dedupe identical binaries)
  let manifest = '';
  for (const p of programs) {
    let b = binName.get(p.bin.hash);
    if (b === undefined) {
      b = p.bin.hash.slice(0, 16);
      binName.set(p.bin.hash, b);
      entries.push({ name: `gupsim/bin/${b}`, mode: S_IFREG | 0o755, data: await fs.readFile(p.bin.binPath) });
    }
    manifest += `${b}\t${p.name}\n`;
  }
  // manifest right after the fixed entries: written before any binary is unpacked
  entries.splice(entries.findIndex((e) => e.name === 'gupsim/config') + 1, 0, {
    name: 'gupsim/manifest',
    mode: S_IFREG | 0o644,
    data: Buffer.from(manifest),
  });
  return cpioNewc(entries);
}

// ---------------------------------------------------------------- guest output parsing

interface ParsedGuest {
  release: string | null;
  results: Map<number, Omit<ProgramOutput, 'attempt'>>;
  inFlight: number | null;
  allDone: boolean;
  fatal: string | null;
}

export function parseGuestOutput(text: string): ParsedGuest {
  const parsed: ParsedGuest = { release: null, results: new Map(), inFlight: null, allDone: false, fatal: null };
  let cur: { index: number; lines: string[] } | null = null;
  for (let raw of text.split('\n')) {
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    const at = raw.indexOf(`${MARK} `);
    if (at < 0) {
      cur?.lines.push(raw);
      continue;
    }
    // program output without a final newline runs into the marker
    if (at > 0) cur?.lines.push(raw.slice(0, at));
    const fields = raw.slice(at + MARK.length + 1).split(' ');
    const kind = fields[0];
    if (kind === 'START') {
      const rel = fields.find((f) => f.startsWith('release='));
      parsed.release = rel ? rel.slice('release='.length) : null;
    } else if (kind === 'BEGIN') {
      cur = { index: Number(fields[1]), lines: [] };
      parsed.inFlight = cur.index;
    } else if (kind === 'END') {
      const index = Number(fields[1]);
      const kv = new Map<string, string>();
      let timedOut = false;
      for (const f of fields.slice(2)) {
        if (f === 'timeout') timedOut = true;
        const eq = f.indexOf('=');
        if (eq > 0) kv.set(f.slice(0, eq), f.slice(eq + 1));
      }
      const num = (k: string): number | null => (kv.has(k) ? Number(kv.get(k)) : null);
      const lines = cur && cur.index === index ? cur.lines : [];
      if (kv.has('error')) lines.push(`[gupsim-init: could not run program, errno ${kv.get('error')}]`);
      parsed.results.set(index, {
        lines,
        exitStatus: num('exit'),
        signal: num('signal'),
        timedOut,
        elapsedMs: num('ms'),
      });
      cur = null;
      parsed.inFlight = null;
    } else if (kind === 'ALLDONE') {
      parsed.allDone = true;
    } else if (kind === 'FATAL') {
      parsed.fatal = fields.slice(1).join(' ');
    }
  }
  return parsed;
}

// ---------------------------------------------------------------- QEMU

interface BootResult {
  console: string;
  output: string;
  seconds: number;
  exitCode: number | null;
  watchdog: boolean;
}

async function boot(
  kernel: KernelInfo,
  initrd: string,
  outFile: string,
  opts: { cpu: string; memoryMiB: number; append: string; idleLimitMs: number; disk?: string },
): Promise<BootResult> {
  for (const p of [outFile, initrd, kernel.vmlinuz, opts.disk ?? '']) {
    if (p.includes(',')) throw new OracleError(`path must not contain ',' (QEMU option syntax): ${p}`);
  }
  const args = [
    '-M', 'q35',
    '-accel', 'tcg',
    '-cpu', opts.cpu,
    '-smp', '1',
    '-m', `${opts.memoryMiB}M`,
    '-display', 'none',
    '-monitor', 'none',
    '-serial', 'stdio', // ttyS0: kernel console
    '-serial', `file:${outFile}`, // ttyS1: program output
    '-no-reboot',
    '-nic', 'none',
    '-kernel', kernel.vmlinuz,
    '-initrd', initrd,
    '-append', opts.append,
    ...(opts.disk ? ['-drive', `file=${opts.disk},if=none,id=gupsimdisk,format=raw`, '-device', 'nvme,drive=gupsimdisk,serial=gupsim'] : []),
  ];
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let lastActivity = performance.now();
    let lastSize = -1;
    let watchdog = false;
    const onData = (b: Buffer): void => {
      chunks.push(b);
      lastActivity = performance.now();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setInterval(() => {
      fs.stat(outFile).then(
        (st) => {
          if (st.size !== lastSize) {
            lastSize = st.size;
            lastActivity = performance.now();
          }
        },
        () => undefined,
      );
      if (performance.now() - lastActivity > opts.idleLimitMs) {
        watchdog = true;
        child.kill('SIGKILL');
      }
    }, 1000);
    child.on('error', (e) => {
      clearInterval(timer);
      reject(new OracleError(`cannot start qemu-system-x86_64 (run oracle/setup.sh): ${e.message}`));
    });
    child.on('close', (code) => {
      clearInterval(timer);
      const seconds = (performance.now() - start) / 1000;
      fs.readFile(outFile, 'latin1').then(
        (output) => resolve({ console: Buffer.concat(chunks).toString('latin1'), output, seconds, exitCode: code, watchdog }),
        () => resolve({ console: Buffer.concat(chunks).toString('latin1'), output: '', seconds, exitCode: code, watchdog }),
      );
    });
  });
}

/** A fresh ext4 image (sparse); mkfs.ext4 comes from e2fsprogs (installed when missing). */
async function makeExt4(file: string, mib: number): Promise<string> {
  await fs.writeFile(file, '');
  await fs.truncate(file, mib * 1024 * 1024);
  const mkfs = (): Promise<ProcResult> => run('mkfs.ext4', ['-q', '-F', file]);
  let r: ProcResult;
  try {
    r = await mkfs();
  } catch {
    await run('apt-get', ['install', '-y', '-qq', 'e2fsprogs']);
    r = await mkfs();
  }
  if (r.code !== 0) throw new OracleError(`mkfs.ext4 ${file} failed: ${r.stderr}`);
  return file;
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

function validateNames(programs: GuestProgram[]): void {
  const seen = new Set<string>();
  for (const p of programs) {
    if (!/^[\x20-\x7e]+$/.test(p.name)) throw new OracleError(`bad guest program name ${JSON.stringify(p.name)}: printable ASCII only`);
    if (seen.has(p.name)) throw new OracleError(`duplicate guest program name ${JSON.stringify(p.name)}`);
    seen.add(p.name);
  }
}

/** Compile all programs (cached); throws OracleCompileError naming every failing program. */
export async function compilePrograms(
  programs: GuestProgram[],
  opts: { cflags?: string[]; jobs?: number } = {},
): Promise<{ compiled: Compiled[]; seconds: number; warnings: Map<string, string> }> {
  validateNames(programs);
  const flags = [...BASE_CFLAGS, ...(opts.cflags ?? [])];
  const t0 = performance.now();
  let fresh = 0;
  const results = await mapLimit(programs, opts.jobs ?? Math.max(1, os.cpus().length), (p) => compileOne(p.name, p.cSource, flags));
  const failures: { program: string; stderr: string }[] = [];
  const compiled: Compiled[] = [];
  const warnings = new Map<string, string>();
  results.forEach((r, i) => {
    const name = (programs[i] as GuestProgram).name;
    if ('error' in r) {
      failures.push({ program: name, stderr: r.error });
      return;
    }
    if (r.fresh) fresh++;
    if (r.warnings.trim()) warnings.set(name, r.warnings);
    compiled.push(r);
  });
  if (failures.length) throw new OracleCompileError(failures);
  return { compiled, seconds: fresh ? (performance.now() - t0) / 1000 : 0, warnings };
}

/** Programs for the next boot: in order, as many as fit the initramfs budget (at least one). */
async function nextBatch<T extends { bin: Compiled }>(pending: T[], budgetBytes: number): Promise<T[]> {
  const seen = new Set<string>();
  let total = 0;
  const batch: T[] = [];
  for (const p of pending) {
    if (!seen.has(p.bin.hash)) {
      const size = (await fs.stat(p.bin.binPath)).size;
      if (batch.length > 0 && total + size > budgetBytes) break;
      seen.add(p.bin.hash);
      total += size;
    }
    batch.push(p);
  }
  return batch;
}

/**
 * Compile `programs`, boot `kernel` with all of them in the initramfs and
 * collect each program's output. Normally one boot; more when
 *  - the guest kernel oopses/panics or the boot stalls: the programs that had
 *    not finished are run again in a new boot (results of finished programs are
 *    kept; `ProgramOutput.attempt` says which boot produced each);
 *  - the binaries exceed the initramfs budget (~100 MiB with 512 MiB of guest
 *    memory, i.e. about 135 static glibc programs): they are split over boots.
 * Gives up (OracleBootError) after `maxAttempts` consecutive bad boots.
 */
export async function runOnKernel(kernel: KernelSeries, programs: GuestProgram[], opts: RunOptions = {}): Promise<GuestRun> {
  if (!KERNELS.includes(kernel)) throw new OracleError(`unknown kernel ${String(kernel)}`);
  const log = opts.log ?? ((): void => undefined);
  const timeoutSeconds = opts.timeoutSeconds ?? 10;
  const maxAttempts = opts.maxAttempts ?? 6;
  const cpu = opts.cpu ?? DEFAULT_CPU;
  const memoryMiB = opts.memoryMiB ?? 512;
  const budgetBytes = (opts.maxInitrdMiB ?? Math.floor(memoryMiB * 0.2)) * 1024 * 1024;
  const append = ['console=ttyS0', 'quiet', 'panic=-1', 'oops=panic', opts.extraAppend ?? ''].join(' ').trim();

  const info = await ensureKernel(kernel);
  const [initBin, comp] = await Promise.all([
    buildInit(),
    compilePrograms(programs, { cflags: opts.cflags ?? [], jobs: opts.compileJobs ?? os.cpus().length }),
  ]);
  log(`[${kernel}] ${programs.length} program(s) compiled in ${comp.seconds.toFixed(1)} s`);

  const logDir = path.join(cacheRoot(), 'logs');
  await fs.mkdir(logDir, { recursive: true });
  const consoleLogPath = path.join(logDir, `${kernel}-console.log`);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), `gupsim-qemu-${kernel}-`));

  const outputs = new Map<string, ProgramOutput>();
  const attemptSeconds: number[] = [];
  let failedBoots = 0;
  let badInARow = 0;
  let release: string | null = null;
  try {
    let pending = programs.map((p, i) => ({ name: p.name, bin: comp.compiled[i] as Compiled }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (badInARow >= maxAttempts) {
        const crashed = await fs.readFile(consoleLogPath, 'utf8').catch(() => '');
        throw new OracleBootError(
          `kernel ${kernel}: gave up after ${badInARow} bad boot(s) in a row; ` +
            `${pending.length} program(s) never finished (first: ${pending[0]?.name})`,
          tail(crashed),
          consoleLogPath,
        );
      }
      const batch = await nextBatch(pending, budgetBytes);
      const initrd = path.join(work, 'initrd.cpio');
      const outFile = path.join(work, `out-${attempt}.txt`);
      await fs.writeFile(initrd, await buildInitramfs(initBin, batch, Math.round(timeoutSeconds * 1000)));
      const bootOpts: Parameters<typeof boot>[3] = { cpu, memoryMiB, append, idleLimitMs: (timeoutSeconds + 90) * 1000 };
      if (opts.diskMiB) bootOpts.disk = await makeExt4(path.join(work, `disk-${attempt}.img`), opts.diskMiB);
      const r = await boot(info, initrd, outFile, bootOpts);
      attemptSeconds.push(r.seconds);
      await fs.writeFile(consoleLogPath, r.console);
      await fs.writeFile(path.join(logDir, `${kernel}-output.log`), r.output);

      if (r.console.includes('Initramfs unpacking failed')) {
        throw new OracleBootError(
          `kernel ${kernel}: the initramfs did not fit in guest memory (${memoryMiB} MiB): lower maxInitrdMiB or raise memoryMiB`,
          tail(r.console),
          consoleLogPath,
        );
      }
      const parsed = parseGuestOutput(r.output);
      release ??= parsed.release;
      for (const [index, res] of parsed.results) {
        const p = batch[index];
        if (p) outputs.set(p.name, { ...res, attempt });
      }
      const before = pending.length;
      pending = pending.filter((p) => !outputs.has(p.name));
      const ran = before - pending.length;
      if (parsed.allDone && ran === batch.length) {
        badInARow = 0;
        log(`[${kernel}] boot ${attempt}: ${ran} program(s) in ${r.seconds.toFixed(1)} s${pending.length ? `, ${pending.length} left` : ''}`);
        continue;
      }

      failedBoots++;
      badInARow++;
      await fs.writeFile(path.join(logDir, `${kernel}-failed-boot-console.log`), r.console);
      if (parsed.fatal) {
        throw new OracleBootError(`kernel ${kernel}: guest init failed: ${parsed.fatal}`, tail(r.console), consoleLogPath);
      }
      const panicked = PANIC_RE.test(r.console);
      if (!panicked && !r.watchdog && parsed.release === null && r.exitCode !== 0) {
        // QEMU itself failed (bad option, missing file): retrying will not help
        throw new OracleBootError(`kernel ${kernel}: qemu exited with ${r.exitCode} before the guest started`, tail(r.console), consoleLogPath);
      }
      const why = r.watchdog ? 'stalled (watchdog)' : panicked ? 'kernel oops/panic' : 'boot ended early';
      const during = parsed.inFlight !== null ? ` while running ${pending[0]?.name ?? '?'}` : '';
      log(`[${kernel}] boot ${attempt} ${why}${during} after ${r.seconds.toFixed(1)} s; ${ran} done, ${pending.length} left: retrying`);
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }

  return {
    kernel,
    kernelRelease: release ?? info.release,
    packageVersion: info.packageVersion,
    packageName: info.packageName,
    outputs: new Map(programs.map((p) => [p.name, outputs.get(p.name) as ProgramOutput])),
    bootSeconds: attemptSeconds.reduce((a, b) => a + b, 0),
    attemptSeconds,
    attempts: attemptSeconds.length,
    failedBoots,
    compileSeconds: comp.seconds,
    compileWarnings: comp.warnings,
    consoleLogPath,
  };
}
