// Test environment for the protection-key tests: each test runs on a fresh machine of the named
// profile; every Thread method call is followed by the invariant checker (src/mm/debug.ts); at the
// end every process exits, files are unlinked, caches dropped, and no frame may stay allocated.
// Expected values in these tests come from the catalogue, the real-kernel RESULT lines
// (shared/conformance/real-kernel/results-6.1.txt, results-6.12.txt) or kernel source, never from
// the model's own output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sim, Thread, checkInvariants, type MachineOptions, type SigInfo, type UserAccessResult } from '../../src/index.js';
import { DEFAULT_PROGRAM } from '../../src/kernel/exec.js';
import type { ProfileName } from '../../src/profiles/profile.js';

export const PAGE = 4096;
export const R = 1, W = 2, X = 4, RW = 3, RX = 5, RWX = 7, NONE = 0;
export const MAP_PRIVATE_ANON = 0x22, MAP_FIXED = 0x10;
export const AD = 1, WD = 2;
export const INIT_PKRU = 0x55555554;
/** The two profiles with real-kernel results; '=' in the README's 6.12 column means both agree. */
export const MODERN: ProfileName[] = ['linux-6.12', 'linux-6.1'];

export interface Env {
  sim: Sim;
  /** A new process running the default program, invariant-checked after every call. */
  spawn(): Thread;
  /** Wrap a thread (e.g. from clone/fork) so its calls are checked too. */
  checked(t: Thread): Thread;
  check(where?: string): void;
}

export function makeEnv(opts: MachineOptions): Env {
  const sim = new Sim({ ramBytes: 64 * 1024 * 1024, ...opts });
  const check = (where = ''): void => {
    const errs = checkInvariants(sim.m);
    assert.deepEqual(errs, [], `invariants violated${where ? ' after ' + where : ''}`);
  };
  const checked = (t: Thread): Thread => new Proxy(t, {
    get: (target, prop, receiver) => {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const r: unknown = (v as (...a: unknown[]) => unknown).apply(target, args);
        check(String(prop));
        return r instanceof Thread ? checked(r) : r;
      };
    },
  });
  return {
    sim,
    check,
    checked,
    spawn: () => {
      const t = sim.spawn();
      check('spawn');
      return checked(t);
    },
  };
}

function teardown(env: Env): void {
  env.check('the test body');
  const m = env.sim.m;
  for (const t of [...m.tasks.values()]) {
    if (t.pid === 1 || t.state === 'dead') continue;
    new Thread(m, t).exit(0);
  }
  // Zombies (killed processes) are reaped by their parent, init.
  for (const t of [...m.tasks.values()]) if (t.pid !== 1 && t.group.state === 'zombie') new Thread(m, t).exit(0);
  m.runAs(m.init, () => {
    for (const path of [...m.fs.files.keys()]) if (path !== DEFAULT_PROGRAM) new Thread(m, m.init).unlink(path);
  });
  env.sim.dropCaches();
  env.check('teardown');
  assert.equal(env.sim.usedFrames(), 0, 'frames still allocated after teardown');
}

/** node:test test() on a fresh machine with the given options, torn down and checked afterwards. */
export function pkTest(name: string, opts: MachineOptions, body: (env: Env) => void): void {
  test(name, () => {
    const env = makeEnv(opts);
    body(env);
    teardown(env);
  });
}

/** The same test under each profile (for outcomes both real kernels share). */
export function pkTestEach(name: string, profiles: ProfileName[], body: (env: Env, profile: ProfileName) => void, opts: MachineOptions = {}): void {
  for (const profile of profiles) pkTest(`${name} [${profile}]`, { ...opts, profile }, (env) => body(env, profile));
}

/** PKRU with key k's bits replaced (what pkey_set() does). */
export function setKey(pkru: number, k: number, rights: number): number {
  return ((pkru & ~(3 << (2 * k))) | (rights << (2 * k))) >>> 0;
}

export function denyAccess(t: Thread, k: number): void {
  t.wrpkru((t.rdpkru() | (AD << (2 * k))) >>> 0);
}
export function denyWrite(t: Thread, k: number): void {
  t.wrpkru((t.rdpkru() | (WD << (2 * k))) >>> 0);
}
export function allow(t: Thread, k: number): void {
  t.wrpkru(setKey(t.rdpkru(), k, 0));
}

/** The single signal an access raised. */
export function oneSignal(r: UserAccessResult): SigInfo {
  assert.equal(r.signals.length, 1, `expected exactly one signal, got ${r.signals.length}`);
  return r.signals[0]!.info;
}

export function noSignal(r: UserAccessResult, what = 'access'): void {
  assert.deepEqual(r.signals.map((s) => s.info), [], `${what} raised a signal`);
  assert.equal(r.killed, false);
}

/** A user stack that has been in use: the pages below the stack pointer are present, as in a running program. */
export function warmStack(t: Thread, bytes = 4 * PAGE): void {
  const sp = t.sp;
  noSignal(t.store(sp - bytes, [0], bytes), 'stack warm-up');
}

/** "ProtectionKey:" of the VMA starting at start, from /proc/PID/smaps. */
export function smapsKey(t: Thread, addr: number): number {
  const ls = t.smaps().split('\n');
  let inside = false;
  for (const l of ls) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(l);
    if (m) inside = parseInt(m[1]!, 16) <= addr && addr < parseInt(m[2]!, 16);
    const k = /^ProtectionKey:\s+(\d+)/.exec(l);
    if (inside && k) return Number(k[1]);
  }
  assert.fail(`no ProtectionKey line for 0x${addr.toString(16)}`);
}

/** The VMAs' [start, end, key] inside [lo, hi), from smaps. */
export function smapsKeys(t: Thread, lo: number, hi: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  let cur: [number, number] | null = null;
  for (const l of t.smaps().split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(l);
    if (m) cur = [parseInt(m[1]!, 16), parseInt(m[2]!, 16)];
    const k = /^ProtectionKey:\s+(\d+)/.exec(l);
    if (cur && k && cur[0] >= lo && cur[1] <= hi) out.push([cur[0], cur[1], Number(k[1])]);
  }
  return out;
}

/** The "rwxp" column of the maps line containing addr. */
export function perms(t: Thread, addr: number): string {
  for (const l of t.maps().split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+)/.exec(l);
    if (m && parseInt(m[1]!, 16) <= addr && addr < parseInt(m[2]!, 16)) return m[3]!;
  }
  assert.fail(`no VMA at 0x${addr.toString(16)}`);
}

export function u32(r: UserAccessResult): number {
  assert.ok(r.data && r.data.length >= 4);
  return new DataView(r.data.buffer, r.data.byteOffset).getUint32(0, true);
}

export function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

export function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}
