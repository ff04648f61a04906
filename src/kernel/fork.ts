// fork(2) and clone(CLONE_VM|CLONE_THREAD) (kernel/fork.c: copy_process(), dup_mm(), dup_mmap()).
import { EAGAIN, ENOMEM } from './errno.js';
import { FdTable } from './fs.js';
import type { Machine } from './machine.js';
import { Task, ThreadGroup } from './task.js';
import { Mm } from '../mm/mm.js';
import { allocTablePage } from '../mm/pgtable.js';
import { copyPageRange, newAnonVma } from '../mm/memory.js';
import { exitMmap } from './exit.js';
import { signalsClone, signalsFork } from './signal.js';

/** dup_mmap(): a copy of every VMA; private pages shared copy-on-write. null on OOM. */
export function dupMm(m: Machine, old: Mm): Mm | null {
  const pgd = allocTablePage(m);
  if (pgd < 0) return null;
  const mm = new Mm(pgd);
  mm.mmapBase = old.mmapBase;
  mm.startStack = old.startStack;
  mm.argStart = old.argStart;
  mm.argEnd = old.argEnd;
  mm.envStart = old.envStart;
  mm.envEnd = old.envEnd;
  mm.hasPinned = old.hasPinned;
  // arch_dup_pkeys() (VER-7): the child keeps the allocation map and execute-only key.
  if (m.profile.forkCopiesPkeys) {
    mm.pkeyAllocationMap = old.pkeyAllocationMap;
    mm.executeOnlyPkey = old.executeOnlyPkey;
  } else if (!m.pke) {
    mm.pkeyAllocationMap = 0;
  }
  old.lock.downWrite(m.current.pid);
  try {
    for (const v of old.vmas) {
      const nv = v.clone();
      nv.mm = mm;
      nv.anonVma = v.anonVma ? newAnonVma() : 0; // anon_vma_fork()
      if (nv.file) nv.file.refs++;
      mm.vmas.push(nv);
      if (!copyPageRange(m, nv, v)) {
        exitMmap(m, mm);
        return null;
      }
    }
  } finally {
    old.lock.upWrite(m.current.pid);
  }
  return mm;
}

/** fork(): a new process whose only thread is a copy of current. Returns the child or -errno. */
export function doFork(m: Machine, parent: Task): Task | number {
  if (!parent.mm) return -EAGAIN;
  const mm = dupMm(m, parent.mm);
  if (!mm) return -ENOMEM;
  const files = new FdTable();
  for (const [fd, f] of parent.group.files.fds) {
    f.refs++;
    files.fds.set(fd, f);
  }
  const group = new ThreadGroup(m.allocPid(), files, parent.group);
  for (const [sig, act] of parent.group.sighand) group.sighand.set(sig, { ...act });
  group.dumpable = parent.group.dumpable;
  // copy_thread(): the child starts with the parent thread's current PKRU (PK-11).
  const child = new Task(group.tgid, group, mm, parent.pkru, parent.comm);
  child.uid = parent.uid;
  signalsFork(parent, child);
  group.threads.push(child);
  parent.group.children.push(group);
  m.tasks.set(child.pid, child);
  return child;
}

/** clone(CLONE_VM|CLONE_THREAD|CLONE_SIGHAND|...): a thread sharing mm, files and handlers. */
export function doCloneThread(m: Machine, parent: Task): Task | number {
  if (!parent.mm) return -EAGAIN;
  parent.mm.users++;
  const t = new Task(m.allocPid(), parent.group, parent.mm, parent.pkru, parent.comm);
  t.uid = parent.uid;
  signalsClone(parent, t);
  parent.group.threads.push(t);
  m.tasks.set(t.pid, t);
  return t;
}
