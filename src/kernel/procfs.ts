// /proc/PID files in the kernel's exact text formats (fs/proc/task_mmu.c, fs/proc/array.c).
import { PTE_D, PTE_P, PTE_PROTNONE, ptePfn } from '../hw/pte.js';
import { forEachPte } from '../mm/pgtable.js';
import { vmNormalPage } from '../mm/memory.js';
import { PG_dirty, PG_referenced, ZERO_PFN } from '../mm/page.js';
import {
  VM_ACCOUNT, VM_EXEC, VM_GROWSDOWN, VM_HUGETLB, VM_IO, VM_LOCKED, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE,
  VM_NORESERVE, VM_PFNMAP, VM_READ, VM_SHARED, VM_SOFTDIRTY, VM_WRITE, vmaPermString, type Vma,
} from '../mm/vma.js';
import type { Mm } from '../mm/mm.js';
import { EACCES, ENOENT, ESRCH } from './errno.js';
import { Inode, OpenFile, O_ACCMODE, O_RDONLY } from './fs.js';
import type { Machine } from './machine.js';
import type { Task } from './task.js';
import { copyToUser } from './uaccess.js';
import { openProcMem } from './proc_mem.js';

const hex = (n: number, w = 8): string => n.toString(16).padStart(w, '0');

/** show_vma_header_prefix() + the name column (padded to 73 characters, as seq_pad does). */
function mapsLine(v: Vma): string {
  let ino = 0;
  let dev = '00:00';
  let off = 0;
  if (v.file) {
    ino = v.file.ino;
    dev = v.file.kind === 'shmem' ? '00:01' : '08:01';
    off = v.pgoff * 4096;
  }
  const head = `${hex(v.start)}-${hex(v.end)} ${vmaPermString(v.flags)} ${hex(off)} ${dev} ${ino} `;
  const name = v.file ? v.file.name : v.name;
  return name ? head.padEnd(73, ' ') + name : head;
}

const VSYSCALL_LINE = 'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0'.padEnd(72, ' ') + ' [vsyscall]';

export function procMaps(m: Machine, mm: Mm): string {
  const lines = mm.vmas.map(mapsLine);
  if (m.profile.vsyscallInMaps) lines.push(VSYSCALL_LINE);
  return lines.map((l) => l + '\n').join('');
}

/** VmFlags mnemonics (show_smap_vma_flags()), in bit order. */
const MNEMONICS: [number, string][] = [
  [VM_READ, 'rd'], [VM_WRITE, 'wr'], [VM_EXEC, 'ex'], [VM_SHARED, 'sh'], [VM_MAYREAD, 'mr'], [VM_MAYWRITE, 'mw'],
  [VM_MAYEXEC, 'me'], [VM_MAYSHARE, 'ms'], [VM_GROWSDOWN, 'gd'], [VM_PFNMAP, 'pf'], [VM_LOCKED, 'lo'], [VM_IO, 'io'],
  [VM_ACCOUNT, 'ac'], [VM_NORESERVE, 'nr'], [VM_HUGETLB, 'ht'], [VM_SOFTDIRTY, 'sd'],
];

interface SmapsStats {
  rss: number; pss: number; pssDirty: number; sharedClean: number; sharedDirty: number; privateClean: number;
  privateDirty: number; referenced: number; anonymous: number;
}

function smapsStats(m: Machine, v: Vma): SmapsStats {
  const s: SmapsStats = { rss: 0, pss: 0, pssDirty: 0, sharedClean: 0, sharedDirty: 0, privateClean: 0, privateDirty: 0, referenced: 0, anonymous: 0 };
  forEachPte(m.mem, v.mm, v.start, v.end, (_va, _p, lo, hi) => {
    if (!(lo & (PTE_P | PTE_PROTNONE))) return;
    const pfn = vmNormalPage(lo, hi);
    if (pfn < 0 || ptePfn(lo, hi) === ZERO_PFN) return; // the zero page is not counted (smaps_pte_entry())
    const dirty = (lo & PTE_D) !== 0 || m.pages.testFlag(pfn, PG_dirty);
    const mapcount = Math.max(1, m.pages.mapcount[pfn]!);
    s.rss += 4096;
    s.pss += 4096 / mapcount;
    if (dirty) s.pssDirty += 4096 / mapcount;
    if (mapcount >= 2) {
      if (dirty) s.sharedDirty += 4096;
      else s.sharedClean += 4096;
    } else if (dirty) s.privateDirty += 4096;
    else s.privateClean += 4096;
    if (lo & 0x20 || m.pages.testFlag(pfn, PG_referenced)) s.referenced += 4096;
    if (m.pages.isAnon(pfn)) s.anonymous += 4096;
  });
  return s;
}

const kb = (label: string, bytes: number): string => `${label.padEnd(16, ' ')}${String(Math.floor(bytes / 1024)).padStart(8, ' ')} kB\n`;

export function procSmaps(m: Machine, mm: Mm): string {
  let out = '';
  for (const v of mm.vmas) {
    const s = smapsStats(m, v);
    out += mapsLine(v) + '\n';
    out += kb('Size:', v.end - v.start) + kb('KernelPageSize:', 4096) + kb('MMUPageSize:', 4096) + kb('Rss:', s.rss) +
      kb('Pss:', s.pss) + kb('Pss_Dirty:', s.pssDirty) + kb('Shared_Clean:', s.sharedClean) +
      kb('Shared_Dirty:', s.sharedDirty) + kb('Private_Clean:', s.privateClean) + kb('Private_Dirty:', s.privateDirty) +
      kb('Referenced:', s.referenced) + kb('Anonymous:', s.anonymous) + (m.profile.smapsKsm ? kb('KSM:', 0) : '') + kb('LazyFree:', 0) +
      kb('AnonHugePages:', 0) + kb('ShmemPmdMapped:', 0) + kb('FilePmdMapped:', 0) + kb('Shared_Hugetlb:', 0) +
      kb('Private_Hugetlb:', 0) + kb('Swap:', 0) + kb('SwapPss:', 0) + kb('Locked:', v.flags & VM_LOCKED ? s.pss : 0);
    out += `THPeligible:    ${String(0).padStart(8, ' ')}\n`;
    // arch_show_smap(): only when the CPU and kernel have OSPKE (not with nopku).
    if (m.pke) out += `ProtectionKey:  ${String(v.pkey).padStart(8, ' ')}\n`;
    out += 'VmFlags: ' + MNEMONICS.filter(([b]) => v.flags & b).map(([, n]) => n + ' ').join('') + '\n';
  }
  return out;
}

/** The thread group's fault counters as /proc/PID/stat and getrusage(RUSAGE_SELF) report them. */
export function groupFaults(task: Task): { minFlt: number; majFlt: number } {
  let minFlt = task.group.deadMinFlt;
  let majFlt = task.group.deadMajFlt;
  for (const t of task.group.threads) {
    minFlt += t.minFlt;
    majFlt += t.majFlt;
  }
  return { minFlt, majFlt };
}

/** do_task_stat(): 52 fields; the ones this model does not track are 0. */
export function procStat(m: Machine, task: Task): string {
  const { minFlt, majFlt } = groupFaults(task);
  const ppid = task.group.parent?.tgid ?? 0;
  const state = task.group.state === 'zombie' ? 'Z' : 'R';
  const vsize = task.mm ? task.mm.totalVmPages() * 4096 : 0;
  const rss = task.mm ? task.mm.rssAnon + task.mm.rssFile + task.mm.rssShmem : 0;
  const f = [task.tgid, `(${task.comm})`, state, ppid, task.tgid, task.tgid, 0, -1, 0x400000, minFlt, 0, majFlt, 0,
    0, 0, 0, 0, 20, 0, task.group.threads.length, 0, 0, vsize, rss, '18446744073709551615',
    0, 0, task.mm?.startStack ?? 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, 0,
    task.mm?.argStart ?? 0, task.mm?.argEnd ?? 0, task.mm?.envStart ?? 0, task.mm?.envEnd ?? 0, 0];
  void m;
  return f.join(' ') + '\n';
}

/** A seq_file-style read-only proc file: text generated at open, read by position. */
function textFile(m: Machine, path: string, gen: () => string): OpenFile {
  const ino = new Inode('reg', path, 0o444);
  ino.nlink = 0;
  ino.refs = 1;
  const text = new TextEncoder().encode(gen());
  ino.size = text.length;
  return new OpenFile(ino, O_RDONLY, path, {
    read(buf, len, pos) {
      const n = Math.max(0, Math.min(len, text.length - pos));
      const left = copyToUser(m, buf, text.subarray(pos, pos + n));
      if (left === n && n > 0) return { ret: -14, pos };
      return { ret: n - left, pos: pos + n - left };
    },
  });
}

export function resolveProcPid(m: Machine, part: string): Task | null {
  const pid = part === 'self' ? m.current.tgid : part === 'thread-self' ? m.current.pid : Number(part);
  if (!Number.isInteger(pid)) return null;
  return m.task(pid);
}

export function openProcFile(m: Machine, path: string, flags: number): OpenFile | number {
  const parts = path.split('/').filter(Boolean); // ['proc', pid, file]
  if (parts.length !== 3) return -ENOENT;
  const task = resolveProcPid(m, parts[1]!);
  if (!task) return -ENOENT;
  const name = parts[2]!;
  if (name === 'maps' || name === 'smaps' || name === 'stat') {
    if ((flags & O_ACCMODE) !== O_RDONLY) return -EACCES;
    const mm = task.mm;
    if (name === 'stat') return textFile(m, path, () => procStat(m, task));
    if (!mm) return textFile(m, path, () => '');
    return textFile(m, path, () => (name === 'maps' ? procMaps(m, mm) : procSmaps(m, mm)));
  }
  if (name === 'mem') return openProcMem(m, task, flags);
  return task.state === 'dead' ? -ESRCH : -ENOENT;
}
