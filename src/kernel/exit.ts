// Task exit and address-space teardown (kernel/exit.c: do_exit(), kernel/fork.c: mmput(),
// mm/mmap.c: exit_mmap()).
import type { Machine } from './machine.js';
import type { Task } from './task.js';
import type { Mm } from '../mm/mm.js';
import { zapRange } from '../mm/memory.js';
import { vmaFilePut } from '../mm/mmap.js';
import { forEachTablePage } from '../mm/pgtable.js';
import { PG_table } from '../mm/page.js';
import { closeFile } from './read_write.js';

/** exit_mmap(): unmap everything, then free every page-table page and the PGD. */
export function exitMmap(m: Machine, mm: Mm): void {
  for (const v of mm.vmas) {
    zapRange(m, mm, v.start, v.end);
    if (v.file) vmaFilePut(m, v.file);
  }
  mm.vmas = [];
  const tables: number[] = [];
  forEachTablePage(m.mem, mm, (pfn) => tables.push(pfn));
  for (const pfn of tables) {
    m.pages.clearFlag(pfn, PG_table);
    m.pages.put(pfn);
  }
  m.mem.tlbs.drop(mm.pgd); // the PGD frame, the TLB's tag, may now be reused
  mm.dead = true;
}

/** mmput(): drop a user of the address space; the last one tears it down. */
export function mmput(m: Machine, mm: Mm): void {
  if (--mm.users === 0) exitMmap(m, mm);
}

/** do_exit() for one thread; the last thread makes the process a zombie and closes its files. */
export function exitTask(m: Machine, task: Task, code: number, signal = 0): void {
  if (task.state === 'dead') return;
  task.state = 'dead';
  const g = task.group;
  g.deadMinFlt += task.minFlt;
  g.deadMajFlt += task.majFlt;
  g.threads = g.threads.filter((t) => t !== task);
  const mm = task.mm;
  task.mm = null;
  if (mm) m.runAs(task, () => mmput(m, mm));
  if (g.threads.length === 0) {
    m.runAs(task, () => m.runExitHooks(g));
    for (const f of g.files.fds.values()) closeFile(m, f);
    g.files.fds.clear();
    g.state = 'zombie';
    g.exitCode = code;
    g.exitSignal = signal;
  }
}

/** do_group_exit(): every thread of the process exits (exit_group(2), fatal signals). */
export function exitGroup(m: Machine, task: Task, code: number, signal = 0): void {
  for (const t of [...task.group.threads]) exitTask(m, t, code, signal);
}

/** wait(2) by the parent: release a zombie. */
export function reap(m: Machine, task: Task): void {
  task.group.state = 'reaped';
  for (const t of m.tasks.values()) if (t.group === task.group) m.tasks.delete(t.pid);
  const p = task.group.parent;
  if (p) p.children = p.children.filter((c) => c !== task.group);
}
