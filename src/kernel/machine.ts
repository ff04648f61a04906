// The machine: RAM, struct pages, the running kernel's tasks and files, the kernel log and trace.
// Everything else takes it as its first argument, the way kernel code reaches global state.
import { PhysMem } from '../hw/physmem.js';
import { Pages } from '../mm/page.js';
import { DEFAULT_PROFILE, PROFILES, type Profile, type ProfileName } from '../profiles/profile.js';
import { Tracer } from '../trace/trace.js';
import { FdTable, Fs, type Inode } from './fs.js';
import { Task, ThreadGroup } from './task.js';
import type { Mm } from '../mm/mm.js';
import { madvisePopulate, mmPopulate } from '../mm/populate.js';
import { mmput } from './exit.js';

export interface MachineOptions {
  profile?: ProfileName;
  /** Simulated RAM in bytes (default 2 GiB; frames are only backed by host memory once used). */
  ramBytes?: number;
  /** CPU has PKU and the kernel enabled it (X86_FEATURE_OSPKE). Default true. */
  pku?: boolean;
  /** Touch all simulated RAM at boot so host page faults never land inside a workload (benchmarks). */
  prefaultRam?: boolean;
  /** Boot parameter proc_mem.force_override= (v6.12+; older kernels always force). */
  procMemForceOverride?: 'always' | 'ptrace' | 'never';
}

export interface KlogEntry {
  level: 'info' | 'warn' | 'err';
  msg: string;
}

export class Machine {
  readonly mem: PhysMem;
  readonly pages: Pages;
  readonly profile: Profile;
  /** CR4.PKE / X86_FEATURE_OSPKE. */
  readonly pke: boolean;
  /** FOLL_FORCE policy of /proc/PID/mem on this boot. */
  readonly procMemForce: 'always' | 'ptrace' | 'never';
  readonly trace = new Tracer();
  readonly fs = new Fs();
  readonly log: KlogEntry[] = [];
  readonly tasks = new Map<number, Task>();
  readonly vmstat = { pgfault: 0, pgmajfault: 0, pgpgin: 0 };
  /** The task whose context the kernel is running in. */
  current: Task;
  private nextPid = 1;
  /** Page references held by kernel objects (GUP holders, pipe buffers): pfn -> count (a scan of Pages.getrefs, for display). */
  get kernelRefs(): Map<number, number> {
    const refs = new Map<number, number>();
    const g = this.pages.getrefs;
    for (let pfn = 1; pfn < g.length; pfn++) if (g[pfn]) refs.set(pfn, g[pfn]!);
    return refs;
  }
  /** Address spaces alive without a task (an exec in progress, a grabbed mm). */
  readonly extraMms = new Set<Mm>();
  /** Inodes that are no longer in the namespace but still referenced (unlinked, shmem). */
  readonly orphanInodes = new Set<Inode>();

  constructor(opts: MachineOptions = {}) {
    this.profile = PROFILES[opts.profile ?? DEFAULT_PROFILE];
    this.pke = opts.pku ?? true;
    // proc_mem.force_override= exists in 6.12 and was backported to 6.1.y (real-kernel PMEM-07).
    this.procMemForce = this.profile.gup.api === 'modern' ? (opts.procMemForceOverride ?? this.profile.gup.procMemForce) : this.profile.gup.procMemForce;
    this.mem = new PhysMem(opts.ramBytes ?? 2 * 1024 * 1024 * 1024, opts.prefaultRam ?? false);
    this.pages = new Pages(this.mem);
    // pid 1 stands for init: the parent of every scenario process, never scheduled.
    const initGroup = new ThreadGroup(this.allocPid(), new FdTable(), null);
    this.current = new Task(initGroup.tgid, initGroup, null, this.profile.initPkru, 'init', true);
    initGroup.threads.push(this.current);
    this.tasks.set(this.current.pid, this.current);
    this.nextPid = 100; // scenario pids start at 100, as in a freshly booted guest
  }

  get init(): Task {
    return this.tasks.get(1)!;
  }

  allocPid(): number {
    return this.nextPid++;
  }

  klog(level: KlogEntry['level'], msg: string): void {
    this.log.push({ level, msg });
    if (this.trace.on) this.trace.events.push({ kind: 'log', level, msg });
  }

  /** Run fn with `task` as current, as a syscall or kernel work item would. */
  runAs<T>(task: Task, fn: () => T): T {
    const saved = this.current;
    this.current = task;
    try {
      return fn();
    } finally {
      this.current = saved;
    }
  }

  task(pid: number): Task | null {
    const t = this.tasks.get(pid);
    return t && t.state !== 'dead' ? t : null;
  }

  /**
   * flush_tlb_page() / flush_tlb_range() (arch/x86/mm/tlb.c). writePte() already drops the entry
   * of each PTE it rewrites; these matter to the bulk loops that write a whole table directly.
   */
  flushTlbPage(mm: Mm, addr: number): void {
    this.mem.tlbs.peek(mm.pgd)?.flushPage(Math.floor(addr / 4096));
  }
  flushTlbRange(mm: Mm, start: number, end: number): void {
    this.mem.tlbs.peek(mm.pgd)?.flushRange(Math.floor(start / 4096), Math.ceil(end / 4096));
  }

  allInodes(): Inode[] {
    return [...new Set([...this.fs.files.values(), ...this.orphanInodes])];
  }

  private readonly exitHooks = new Map<object, (() => void)[]>();

  /** Run fn when the thread group `group` exits (release of per-process kernel objects). */
  onExit(group: object, fn: () => void): void {
    const l = this.exitHooks.get(group) ?? [];
    l.push(fn);
    this.exitHooks.set(group, l);
  }

  runExitHooks(group: object): void {
    const l = this.exitHooks.get(group);
    this.exitHooks.delete(group);
    for (const fn of l ?? []) fn();
  }

  /** mmput(): drop a user reference taken with mmget()/mm_access(). */
  mmput(mm: Mm): void {
    mmput(this, mm);
  }

  /** mm_populate() for MAP_POPULATE (errors are ignored, as mmap does). */
  populateRange(mm: Mm, start: number, end: number): void {
    mmPopulate(this, mm, start, end);
  }

  /** MADV_POPULATE_READ/WRITE: 0 or the errno mm/madvise.c reports. */
  madvisePopulate(mm: Mm, start: number, end: number, write: boolean): number {
    return madvisePopulate(this, mm, start, end, write);
  }
}
