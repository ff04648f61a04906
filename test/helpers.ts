// Test harness for the machine: every test runs on a fresh Sim, every syscall and user access made
// through a checked Thread is followed by checkInvariants(), and at the end every process exits,
// every test file is unlinked and the page cache dropped, after which no frame may remain in use
// (the shared zero page is not counted). Expected values in tests come from the kernel's source,
// SEMANTICS.md or the real-kernel results, never from the model's own output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sim, Thread, type MachineOptions } from '../src/index.js';
import { DEFAULT_PROGRAM } from '../src/kernel/exec.js';
import type { UserAccessResult } from '../src/kernel/usermode.js';
import type { SigInfo } from '../src/kernel/task.js';

export const PAGE = 4096;
export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Default simulated RAM for tests: small, so the invariant checker's frame scan stays cheap. */
export const TEST_RAM = 64 * MiB;

export interface HarnessOptions extends MachineOptions {
  /** Frames deliberately left allocated at the end (e.g. hwpoisoned frames the kernel retires). */
  leftoverFrames?: number;
}

export class Harness {
  readonly sim: Sim;
  leftoverFrames: number;
  /** Number of invariant checks run (a test can assert the harness really checked). */
  checks = 0;

  constructor(opts: HarnessOptions = {}) {
    const { leftoverFrames, ...mopts } = opts;
    this.sim = new Sim({ ramBytes: TEST_RAM, ...mopts });
    this.leftoverFrames = leftoverFrames ?? 0;
  }

  get m(): Sim['m'] {
    return this.sim.m;
  }

  /** Assert the machine is consistent (CONFIG_DEBUG_VM-style checks of src/mm/debug.ts). */
  check(where = ''): void {
    this.checks++;
    const errs = this.sim.check();
    assert.deepEqual(errs, [], `invariants violated${where ? ' after ' + where : ''}:\n  ${errs.slice(0, 10).join('\n  ')}`);
  }

  /** A new process running the default program; every method call on it is invariant-checked. */
  spawn(argv?: string[]): Thread {
    const t = this.sim.spawn(argv);
    this.check('spawn');
    return this.checked(t);
  }

  /** Wrap a Thread so that each method call is followed by an invariant check. */
  checked(t: Thread): Thread {
    return new Proxy(t, {
      get: (target, prop, receiver) => {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          const r: unknown = (v as (...a: unknown[]) => unknown).apply(target, args);
          this.check(`${String(prop)}(${args.map(fmtArg).join(', ')})`);
          return r instanceof Thread ? this.checked(r) : r;
        };
      },
    });
  }

  /** Every process exits and is reaped, test files go, caches drop; then no frame may be in use. */
  teardown(): void {
    this.check('the test body');
    const m = this.sim.m;
    // Kernel threads (no mm, init's thread group) are left alone; every user process exits.
    for (const t of [...m.tasks.values()]) {
      if (t.pid === 1 || t.kthread || t.state === 'dead') continue;
      new Thread(m, t).exit(0);
    }
    for (const t of m.tasks.values()) assert.ok(t.pid === 1 || t.kthread || t.state === 'dead', `task ${t.pid} still alive`);
    m.runAs(m.init, () => {
      for (const path of [...m.fs.files.keys()]) if (path !== DEFAULT_PROGRAM) new Thread(m, m.init).unlink(path);
    });
    this.sim.dropCaches();
    this.check('teardown');
    assert.equal(this.sim.usedFrames(), this.leftoverFrames, 'frames still allocated after teardown');
  }
}

function fmtArg(a: unknown): string {
  if (typeof a === 'number') return Number.isInteger(a) && a > 0xffff ? '0x' + a.toString(16) : String(a);
  if (a instanceof Uint8Array) return `bytes[${a.length}]`;
  return typeof a === 'string' ? JSON.stringify(a) : typeof a;
}

/** Run body on a fresh harness and tear it down (invariants + zero frames). */
export function withSim(body: (h: Harness) => void, opts: HarnessOptions = {}): void {
  const h = new Harness(opts);
  body(h);
  h.teardown();
}

/** node:test test() whose body runs inside withSim(). */
export function simTest(name: string, body: (h: Harness) => void, opts: HarnessOptions = {}): void {
  test(name, () => withSim(body, opts));
}

/** The one signal an access raised (asserts there was exactly one). */
export function oneSignal(r: UserAccessResult): SigInfo {
  assert.equal(r.signals.length, 1, `expected exactly one signal, got ${r.signals.length}`);
  return r.signals[0]!.info;
}

/** Assert the access completed with no signal. */
export function ok(r: UserAccessResult, what = 'access'): void {
  assert.deepEqual(r.signals.map((s) => s.info), [], `${what} raised a signal`);
  assert.equal(r.killed, false, `${what} killed the process`);
}

/** A handler that makes a faulting access return to the caller (siglongjmp past it), so a test can go on. */
export const SKIP = { onReturn: 'skip' as const, flags: 0 };

/** Bytes of an ASCII string. */
export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function text(b: Uint8Array | null): string {
  return new TextDecoder().decode(b ?? new Uint8Array());
}

/** Create a file with content through the syscalls (open O_CREAT|O_RDWR, write from a scratch page). */
export function makeFile(t: Thread, path: string, content: Uint8Array): number {
  const fd = t.open(path, 0o102 /* O_RDWR|O_CREAT */);
  assert.ok(fd >= 0, `open ${path}: ${fd}`);
  if (content.length) {
    const len = Math.ceil(content.length / PAGE) * PAGE;
    const buf = t.mmap(0, len, 3, 0x22); // PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS
    assert.ok(buf > 0);
    ok(t.store(buf, content));
    assert.equal(t.write(fd, buf, content.length), content.length);
    assert.equal(t.munmap(buf, len), 0);
  }
  return fd;
}

/** The lines of a maps/smaps text. */
export function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.length > 0);
}

/** The maps line of the VMA containing addr, or undefined. */
export function mapsLineAt(t: Thread, addr: number): string | undefined {
  return lines(t.maps()).find((l) => {
    const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(l);
    return m !== null && parseInt(m[1]!, 16) <= addr && addr < parseInt(m[2]!, 16);
  });
}

/** The exact /proc/PID/maps line show_map_vma() prints (fs/proc/task_mmu.c): the header padded to
 *  72 columns by seq_setwidth()/seq_pad(), then ' ' and the name; an unnamed VMA keeps its trailing space. */
export function mapsLine(start: number, end: number, perms: string, off: number, dev: string, ino: number, name?: string): string {
  const head = `${start.toString(16).padStart(8, '0')}-${end.toString(16).padStart(8, '0')} ${perms} ` +
    `${off.toString(16).padStart(8, '0')} ${dev} ${ino} `;
  return name === undefined ? head : head.padEnd(72, ' ') + ' ' + name;
}

/** Parse the smaps block of the VMA starting at start into label -> value. */
export function smapsOf(t: Thread, start: number): Map<string, string> {
  const ls = t.smaps().split('\n');
  const key = start.toString(16).padStart(8, '0') + '-';
  const i = ls.findIndex((l) => l.startsWith(key));
  assert.ok(i >= 0, `no smaps entry for 0x${start.toString(16)}`);
  const out = new Map<string, string>();
  for (let j = i + 1; j < ls.length && !/^[0-9a-f]+-[0-9a-f]+ /.test(ls[j]!); j++) {
    const m = /^([A-Za-z_]+):\s*(.*)$/.exec(ls[j]!);
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}
