/**
 * The oracle's test kernel module (gupsim_gup.c): built against Debian's linux-headers packages of
 * each oracle kernel, so that scenarios' kernel-context steps (get_user_pages() and friends) can
 * run on the real kernels too. The exported C program embeds the module and loads it with
 * init_module(2).
 *
 * Headers: `apt-get download` of linux-headers-<release>, its -common package and linux-kbuild at
 * the kernel's exact version, unpacked (not installed) into <cache>/headers/<series>/. The build
 * needs make, gcc-12 and binutils on the host (installed with apt-get when missing).
 *
 * Node only.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, ensureKernel, OracleError, type KernelSeries } from './qemu.js';

interface Proc {
  code: number | null;
  out: string;
}

function run(cmd: string, args: string[], cwd?: string): Promise<Proc> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => chunks.push(b));
    child.on('error', (e) => resolve({ code: 127, out: String(e) }));
    child.on('close', (code) => resolve({ code, out: Buffer.concat(chunks).toString() }));
  });
}

function moduleSource(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    for (const p of [path.join(dir, 'gupsim_gup.c'), path.join(dir, 'oracle', 'gupsim_gup.c')]) if (existsSync(p)) return p;
    dir = path.dirname(dir);
  }
  throw new OracleError('oracle/gupsim_gup.c not found');
}

let tools: Promise<void> | null = null;

/** make, gcc-12 and strip, installed with apt-get if missing. */
function ensureTools(): Promise<void> {
  tools ??= (async () => {
    const missing: string[] = [];
    for (const [bin, pkg] of [['make', 'make'], ['gcc-12', 'gcc-12'], ['strip', 'binutils'], ['dpkg-deb', 'dpkg']] as const) {
      if ((await run('sh', ['-c', `command -v ${bin}`])).code !== 0) missing.push(pkg);
    }
    if (missing.length) {
      const r = await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing]);
      if (r.code !== 0) throw new OracleError(`cannot install ${missing.join(' ')} for the test module:\n${r.out.slice(-2000)}`);
    }
  })();
  return tools;
}

/** The unpacked headers tree of a kernel: <root>/usr/src/linux-headers-<release>. */
async function ensureHeaders(kernel: KernelSeries, log: (m: string) => void): Promise<string> {
  const info = await ensureKernel(kernel);
  const root = path.join(cacheRoot(), 'headers', kernel, `${info.release}_${info.packageVersion}`);
  const hdir = path.join(root, 'usr', 'src', `linux-headers-${info.release}`);
  if (existsSync(path.join(root, '.complete'))) return hdir;
  log(`[${kernel}] fetching linux-headers-${info.release} ${info.packageVersion}`);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'gupsim-headers-'));
  try {
    const top = `linux-headers-${info.release}`;
    const show = async (): Promise<Proc> => run('apt-cache', ['show', `${top}=${info.packageVersion}`]);
    let s = await show();
    if (s.code !== 0) {
      await run('apt-get', ['update', '-qq']);
      s = await show();
      if (s.code !== 0) throw new OracleError(`apt-cache show ${top}=${info.packageVersion} failed:\n${s.out}`);
    }
    const depends = /^Depends: (.*)$/m.exec(s.out)?.[1] ?? '';
    const pkgs = [top];
    for (const d of depends.split(',').map((x) => x.trim().split(' ')[0]!)) {
      if (/^linux-headers-.*-common$/.test(d) || /^linux-kbuild-/.test(d)) pkgs.push(d);
    }
    const dl = await run('apt-get', ['download', ...pkgs.map((p) => `${p}=${info.packageVersion}`)], work);
    if (dl.code !== 0) throw new OracleError(`apt-get download ${pkgs.join(' ')} failed:\n${dl.out.slice(-2000)}`);
    await fs.rm(root, { recursive: true, force: true });
    await fs.mkdir(root, { recursive: true });
    for (const deb of (await fs.readdir(work)).filter((f) => f.endsWith('.deb'))) {
      const x = await run('dpkg-deb', ['-x', path.join(work, deb), root]);
      if (x.code !== 0) throw new OracleError(`dpkg-deb -x ${deb} failed:\n${x.out}`);
    }
    // The flavour's Makefile includes the -common one by its absolute /usr/src path.
    const mk = path.join(hdir, 'Makefile');
    await fs.writeFile(mk, (await fs.readFile(mk, 'utf8')).replace(/include \/usr\/src\//g, `include ${root}/usr/src/`));
    await fs.writeFile(path.join(root, '.complete'), pkgs.join('\n') + '\n');
    return hdir;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

const building = new Map<KernelSeries, Promise<Uint8Array>>();

/** The test module for a kernel (built once, cached by source and kernel version). */
export function buildGupModule(kernel: KernelSeries, log: (m: string) => void = () => undefined): Promise<Uint8Array> {
  let p = building.get(kernel);
  if (!p) {
    p = build(kernel, log);
    building.set(kernel, p);
    p.catch(() => building.delete(kernel));
  }
  return p;
}

async function build(kernel: KernelSeries, log: (m: string) => void): Promise<Uint8Array> {
  const info = await ensureKernel(kernel);
  const src = await fs.readFile(moduleSource(), 'utf8');
  const hash = createHash('sha256').update(src).update(info.release).update(info.packageVersion).digest('hex').slice(0, 16);
  const out = path.join(cacheRoot(), 'modules', kernel, `gupsim_gup-${hash}.ko`);
  if (existsSync(out)) return new Uint8Array(await fs.readFile(out));
  await ensureTools();
  const hdir = await ensureHeaders(kernel, log);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'gupsim-module-'));
  try {
    await fs.writeFile(path.join(work, 'gupsim_gup.c'), src);
    await fs.writeFile(path.join(work, 'Kbuild'), 'obj-m := gupsim_gup.o\n');
    const t0 = Date.now();
    // No BTF for an out-of-tree test module (it would need pahole).
    const r = await run('make', ['-C', hdir, `M=${work}`, 'CONFIG_DEBUG_INFO_BTF_MODULES=', 'modules']);
    const ko = path.join(work, 'gupsim_gup.ko');
    if (r.code !== 0 || !existsSync(ko)) throw new OracleError(`building the test module for ${kernel} failed:\n${r.out.slice(-4000)}`);
    await run('strip', ['--strip-debug', ko]);
    await fs.mkdir(path.dirname(out), { recursive: true });
    await fs.copyFile(ko, `${out}.tmp`);
    await fs.rename(`${out}.tmp`, out);
    log(`[${kernel}] test module built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return new Uint8Array(await fs.readFile(out));
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
