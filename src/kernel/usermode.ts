// The CPU running user code: loads, stores and instruction fetches by a thread, each checked by
// the MMU and, on a page fault, handed to the kernel's fault handler (arch/x86/mm/fault.c).
import { ACC_FETCH, ACC_READ, ACC_WRITE, mmuAccess, type AccessKind, type CpuState } from '../hw/mmu.js';
import { FRAMES_PER_SLAB_SHIFT, PhysMem } from '../hw/physmem.js';
import { PAGE_SIZE } from '../hw/pte.js';
import { pkruAllowsRead, pkruAllowsWrite } from '../hw/pkru.js';
import { TLB_D, TLB_W, TLB_X, tlbPfn, tlbPkey } from '../hw/tlb.js';
import { doUserAddrFault } from './fault.js';
import type { Machine } from './machine.js';
import { forceSigFault, type SignalDelivery } from './signal.js';
import type { Task } from './task.js';

export interface UserAccessResult {
  /** Bytes transferred before the access stopped. */
  done: number;
  /** Loaded bytes (loads only). */
  data: Uint8Array | null;
  /** Signals delivered during the access, in order. */
  signals: SignalDelivery[];
  /** The task's process was killed. */
  killed: boolean;
  /** Page faults the kernel resolved on the way (handled transparently). */
  faultsFixed: number;
}

/** How many times one page may fault before the model declares a livelock (a handler that never fixes it). */
const MAX_FAULTS_PER_PAGE = 8;

export function cpuStateOf(m: Machine, task: Task): CpuState {
  return { cr3: task.mm!.pgd, pkru: task.pkru, pke: m.pke, wp: true };
}

/**
 * A user-mode access of len bytes at va by task: performed page by page in address order, the way
 * a copy loop would; `pattern` supplies store data (repeated).
 */
export function userAccess(m: Machine, task: Task, va: number, len: number, kind: AccessKind, pattern?: Uint8Array): UserAccessResult {
  const res: UserAccessResult = { done: 0, data: kind === ACC_READ ? new Uint8Array(len) : null, signals: [], killed: false, faultsFixed: 0 };
  return userAccessInto(m, task, va, len, kind, pattern, res);
}

/** Ready a reused result for another access that has transferred `done` bytes so far. */
export function resetAccessResult(res: UserAccessResult, done: number): void {
  res.done = done;
  res.killed = false;
  res.faultsFixed = 0;
  if (res.signals.length) res.signals = [];
}

/**
 * userAccess() into a caller-owned result (res.data, for loads, receives the bytes): with a TLB
 * hit nothing is allocated, which is what a hot loop of loads needs.
 */
export function userAccessInto(m: Machine, task: Task, va: number, len: number, kind: AccessKind, pattern: Uint8Array | undefined,
  res: UserAccessResult): UserAccessResult {
  resetAccessResult(res, 0);
  if (!task.mm) return res;
  // The task is current while it runs (Machine.runAs() inlined: this is the model's hottest path).
  const saved = m.current;
  m.current = task;
  try {
    accessLoop(m, task, va, len, kind, pattern, res);
  } finally {
    m.current = saved;
  }
  return res;
}

/**
 * A load that stays inside one page and hits the TLB: copied with no walk and no fault handling.
 * Returns false (nothing done) when the general path is needed. Kept small so that the JIT can
 * inline it into a caller's loop.
 */
export function tlbLoad(m: Machine, task: Task, va: number, dst: Uint8Array, len: number): boolean {
  const mm = task.mm;
  const tlb = mm === null ? null : mm.tlb;
  if (tlb === null) return false;
  const vpn = Math.floor(va / PAGE_SIZE);
  const inPage = va - vpn * PAGE_SIZE;
  if (inPage + len > PAGE_SIZE) return false;
  const info = tlb.lookup(vpn);
  const pfn = info < 0 ? -1 : tlbHit(info, ACC_READ, task.pkru, m.pke);
  if (pfn < 0) return false;
  if (len === 8 && (inPage & 7) === 0) {
    // An aligned 8-byte load as two 32-bit reads: a byte loop here made a loop of random loads
    // twice as slow, its extra instructions keeping the CPU from overlapping the next cache miss.
    const s32 = m.mem.slabs32[pfn >>> FRAMES_PER_SLAB_SHIFT]!;
    const w = (PhysMem.byteOffset(pfn) + inPage) >>> 2;
    const lo = s32[w]!;
    const hi = s32[w + 1]!;
    dst[0] = lo;
    dst[1] = lo >>> 8;
    dst[2] = lo >>> 16;
    dst[3] = lo >>> 24;
    dst[4] = hi;
    dst[5] = hi >>> 8;
    dst[6] = hi >>> 16;
    dst[7] = hi >>> 24;
    return true;
  }
  const slab = m.mem.slab8(pfn);
  const off = PhysMem.byteOffset(pfn) + inPage;
  for (let i = 0; i < len; i++) dst[i] = slab[off + i]!;
  return true;
}

/** The frame a TLB entry gives for this data access or fetch, or -1 if the entry does not allow it (then walk). */
export function tlbHit(info: number, kind: AccessKind, pkru: number, pke: boolean): number {
  if (kind === ACC_FETCH) return info & TLB_X ? tlbPfn(info) : -1;
  if (kind === ACC_WRITE && (info & (TLB_W | TLB_D)) !== (TLB_W | TLB_D)) return -1; // the walk sets D
  if (pke) {
    const key = tlbPkey(info);
    if (!pkruAllowsRead(pkru, key) || (kind === ACC_WRITE && !pkruAllowsWrite(pkru, key))) return -1; // the walk reports PK
  }
  return tlbPfn(info);
}

/**
 * The frame for one data access or fetch by task at user address va, in user or kernel mode: from
 * the TLB when its entry allows the access, else from the MMU walk (which fills the TLB). Returns
 * the pfn, or -1 - the #PF error code.
 */
export function translate(m: Machine, task: Task, va: number, kind: AccessKind, user: boolean): number {
  const mm = task.mm!;
  const tlb = mm.tlb ?? (mm.tlb = m.mem.tlbs.of(mm.pgd));
  if (tlb !== null) {
    const info = tlb.lookup(Math.floor(va / PAGE_SIZE));
    const pfn = info < 0 ? -1 : tlbHit(info, kind, task.pkru, m.pke);
    if (pfn >= 0) return pfn;
    tlb.fitTo(mm.rssAnon + mm.rssFile + mm.rssShmem);
  }
  const cpu = walkCpu;
  cpu.cr3 = mm.pgd;
  cpu.pkru = task.pkru;
  cpu.pke = m.pke;
  return mmuAccess(m.mem, cpu, va, kind, user, tlb);
}

/** The CPU state of translate()'s walks, filled in per walk (the fault path allocates nothing for it). */
const walkCpu: CpuState = { cr3: 0, pkru: 0, pke: false, wp: true };

function accessLoop(m: Machine, task: Task, va: number, len: number, kind: AccessKind, pattern: Uint8Array | undefined,
  res: UserAccessResult): void {
  let addr = va;
  const end = va + len;
  let tries = 0;
  while (addr < end) {
    // Translated afresh each time: a signal handler may have changed PKRU (or exec the mm).
    const r = translate(m, task, addr, kind, true);
    if (r < 0) {
      const code = -1 - r;
      if (m.trace.on) m.trace.decision('HW-1', 'mmu', 'deny', `pid ${task.pid} ${kindName(kind)} 0x${addr.toString(16)}: #PF error 0x${code.toString(16)} (PKRU 0x${task.pkru.toString(16).padStart(8, '0')})`);
      if (++tries > MAX_FAULTS_PER_PAGE) throw new Error(`fault loop at 0x${addr.toString(16)} in pid ${task.pid}`);
      const sig = doUserAddrFault(m, task, addr, code);
      if (sig === null) {
        res.faultsFixed++;
        continue;
      }
      const d = forceSigFault(m, task, sig);
      res.signals.push(d);
      if (d.killed) {
        res.killed = true;
        return;
      }
      if (d.resume !== 'retry' || task.state === 'dead') return; // siglongjmp, thread exit, bad sigreturn
      continue; // the handler returned through rt_sigreturn: the instruction re-executes
    }
    tries = 0;
    const inPage = addr - Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - inPage, end - addr);
    if (kind === ACC_READ || kind === ACC_WRITE) {
      const slab = m.mem.slab8(r);
      const off = PhysMem.byteOffset(r) + inPage;
      if (kind === ACC_READ) copyOut(res.data!, addr - va, slab, off, n);
      else fillPattern(slab, off, n, pattern, addr - va);
    }
    addr += n;
    res.done += n;
  }
}

/** Below this many bytes a plain loop beats the TypedArray builtins (their call overhead dominates). */
const SMALL_COPY = 32;

function copyOut(dst: Uint8Array, at: number, slab: Uint8Array, off: number, n: number): void {
  if (n <= SMALL_COPY) {
    for (let i = 0; i < n; i++) dst[at + i] = slab[off + i]!;
    return;
  }
  dst.set(slab.subarray(off, off + n), at);
}

function fillPattern(dst: Uint8Array, off: number, n: number, pattern: Uint8Array | undefined, pos: number): void {
  if (!pattern || pattern.length === 0) {
    dst.fill(0, off, off + n);
    return;
  }
  if (pattern.length === 1) {
    if (n <= SMALL_COPY) {
      const v = pattern[0]!;
      for (let i = 0; i < n; i++) dst[off + i] = v;
    } else {
      dst.fill(pattern[0]!, off, off + n);
    }
    return;
  }
  for (let i = 0; i < n; i++) dst[off + i] = pattern[(pos + i) % pattern.length]!;
}

function kindName(k: AccessKind): string {
  return k === ACC_READ ? 'read' : k === ACC_WRITE ? 'write' : 'fetch';
}

export { ACC_FETCH, ACC_READ, ACC_WRITE };
