// execve(2) (fs/exec.c) and the process image every scenario task starts from.
import { PAGE_SIZE } from '../hw/pte.js';
import { Mm, STACK_TOP } from '../mm/mm.js';
import { allocTablePage } from '../mm/pgtable.js';
import { FOLL_FORCE, FOLL_WRITE, getUserPagesRemote, putUserPage } from '../mm/gup.js';
import { seedGetUserPagesForeign } from '../mm/gup_seed.js';
import { Vma, VM_ACCOUNT, VM_EXEC, VM_GROWSDOWN, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_SOFTDIRTY, VM_WRITE } from '../mm/vma.js';
import { E2BIG, EACCES, EFAULT, ENOENT, ENOMEM } from './errno.js';
import { O_CLOEXEC } from './fs.js';
import type { Machine } from './machine.js';
import type { Task } from './task.js';
import { exitTask, mmput } from './exit.js';
import { closeFile } from './read_write.js';

/** Where the built-in program's text is mapped (a PIE binary without ASLR). */
export const TEXT_BASE = 0x555555554000;
/** The initial [stack] VMA: 132 KiB below STACK_TOP, as a freshly exec'd process shows it. */
export const STACK_SIZE = 0x21000;
export const DEFAULT_PROGRAM = '/bin/gupsim-task';
/** Offset (in the text) of a function `mov eax, 42; ret` on the second page (for execute tests). */
export const TEXT_FUNC_OFFSET = PAGE_SIZE;

/** The built-in program image: two pages of text. */
export function defaultProgramImage(): Uint8Array {
  const img = new Uint8Array(2 * PAGE_SIZE);
  img.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // an ELF header's first bytes
  img.set([0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3], TEXT_FUNC_OFFSET); // mov eax, 42; ret
  return img;
}

/** mm_alloc() + init_new_context(): a fresh, empty address space. */
export function mmAlloc(m: Machine): Mm | null {
  const pgd = allocTablePage(m);
  if (pgd < 0) return null;
  const mm = new Mm(pgd);
  if (!m.pke) {
    // init_new_context() sets up the pkey state only with OSPKE; otherwise it stays zeroed.
    mm.pkeyAllocationMap = m.profile.pkeys.noOspkeInitialMap; // PK-ALLOC-14
    mm.executeOnlyPkey = 0;
  }
  return mm;
}

/**
 * get_arg_page(): the page of the new stack at pos, by remote GUP on bprm->mm (CON-15): the new mm
 * is not current's yet, so this is foreign, and faults are charged to current.
 */
function getArgPage(m: Machine, mm: Mm, pos: number): number {
  const pages: number[] = [];
  const force = m.profile.gup.execArgForce ? FOLL_FORCE : 0;
  mm.lock.downRead(m.current.pid);
  const r = m.profile.gup.api === 'modern'
    ? getUserPagesRemote(m, mm, pos, 1, FOLL_WRITE | force, pages, null)
    : seedGetUserPagesForeign(m, m.current, mm, pos, 1, 1, 1, pages, null);
  mm.lock.upRead(m.current.pid);
  return r === 1 ? pages[0]! : -1;
}

/** Copy the argument strings to the top of the new stack (fs/exec.c: copy_strings()). */
function copyStrings(m: Machine, mm: Mm, stack: Vma, strings: string[], top: number): number {
  const bytes = new TextEncoder().encode(strings.map((s) => s + '\0').join(''));
  const start = top - bytes.length;
  if (bytes.length > stack.end - stack.start - PAGE_SIZE) return -E2BIG;
  for (let off = 0; off < bytes.length;) {
    const addr = start + off;
    const pageOff = addr % PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - pageOff, bytes.length - off);
    const page = getArgPage(m, mm, addr);
    if (page < 0) return -EFAULT;
    m.mem.frame(page).set(bytes.subarray(off, off + n), pageOff);
    putUserPage(m, page);
    off += n;
  }
  return start;
}

/** execve(): replace the task's image. Returns 0 or -errno. */
export function doExecve(m: Machine, task: Task, path: string, argv: string[], envp: string[]): number {
  const inode = m.fs.lookup(path);
  if (!inode) return -ENOENT;
  if (inode.kind !== 'reg') return -EACCES;
  const mm = mmAlloc(m);
  if (!mm) return -ENOMEM;
  const textPages = Math.max(1, Math.ceil(inode.size / PAGE_SIZE));
  const text = new Vma(mm, TEXT_BASE, TEXT_BASE + textPages * PAGE_SIZE, VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_SOFTDIRTY, 0, inode, 0);
  inode.refs++;
  mm.insert(text);
  const stack = new Vma(mm, STACK_TOP - STACK_SIZE, STACK_TOP,
    VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_GROWSDOWN | VM_ACCOUNT, 0, null,
    (STACK_TOP - STACK_SIZE) / PAGE_SIZE, '[stack]');
  mm.insert(stack);
  m.extraMms.add(mm); // bprm->mm lives without a task until exec_mmap()
  const envStart = copyStrings(m, mm, stack, envp, STACK_TOP - 8);
  const argStart = envStart < 0 ? envStart : copyStrings(m, mm, stack, argv, envStart);
  m.extraMms.delete(mm);
  if (argStart < 0) {
    mmput(m, mm);
    return argStart;
  }
  mm.envStart = envStart;
  mm.envEnd = STACK_TOP - 8;
  mm.argStart = argStart;
  mm.argEnd = envStart;
  mm.startStack = argStart - (argStart % 16) - 16 * (argv.length + envp.length + 3);
  // de_thread(): the other threads die; then the old mm goes (exec_mmap()).
  for (const t of [...task.group.threads]) if (t !== task) exitTask(m, t, 0);
  const old = task.mm;
  task.mm = mm;
  if (old) mmput(m, old);
  // flush_thread() -> pkru_flush_thread(): PKRU back to init_pkru_value (PK-10).
  task.pkru = m.profile.initPkru;
  // flush_signal_handlers(): caught signals go back to default; the altstack is cleared.
  task.group.sighand.clear();
  task.altStack = { sp: 0, size: 0, flags: 2 };
  task.comm = path.split('/').pop()!.slice(0, 15);
  for (const [fd, f] of [...task.group.files.fds]) {
    if (f.flags & O_CLOEXEC) {
      task.group.files.fds.delete(fd);
      closeFile(m, f);
    }
  }
  return 0;
}
