// uprobes' two GUP users (kernel/events/uprobes.c): uprobe_write_opcode() installs a breakpoint in
// another mm through a private anonymous copy of the text page (CON-13), and is_trap_at_addr()
// re-reads the instruction after a breakpoint no probe owns (CON-14, REV-2, VER-23).
import { PAGE_SIZE } from '../hw/pte.js';
import { lookupPte, anonVmaPrepare } from '../mm/memory.js';
import { FOLL_FORCE, FOLL_SPLIT_PMD, getUserPages, getUserPageVmaRemote, getUserPagesRemote, putUserPage } from '../mm/gup.js';
import { seedGetUserPages, seedGetUserPagesForeign } from '../mm/gup_seed.js';
import { PG_anon, PG_anon_exclusive, PG_swapbacked, PG_uptodate } from '../mm/page.js';
import { pteLookup, readPteHi, readPteLo, writePte } from '../mm/pgtable.js';
import type { Mm } from '../mm/mm.js';
import { pteHi, pteLo, ptePfn } from '../hw/pte.js';
import { EFAULT, ENOMEM } from './errno.js';
import type { Machine } from './machine.js';
import { SIGTRAP, type Task } from './task.js';
import { ACC_READ, mmuAccess } from '../hw/mmu.js';

export const UPROBE_SWBP_INSN = 0xcc;

/** Read one page of another mm as uprobes does: modern get_user_page_vma_remote(), [2016] NULL tsk. */
function readPageRemote(m: Machine, mm: Mm, vaddr: number, flags: number): number {
  if (m.profile.gup.api === 'modern') {
    const r = getUserPageVmaRemote(m, mm, vaddr, flags);
    return typeof r === 'number' ? r : r.page;
  }
  const pages: number[] = [];
  const r = seedGetUserPagesForeign(m, null, mm, vaddr, 1, 0, 1, pages, null);
  return r === 1 ? pages[0]! : r < 0 ? r : -EFAULT;
}

/**
 * uprobe_write_opcode(): current (the registering task) writes opcode at vaddr in mm. The page is
 * replaced by an anonymous copy (__replace_page()); the file's page cache is never written.
 */
export function uprobeWriteOpcode(m: Machine, mm: Mm, vaddr: number, opcode = UPROBE_SWBP_INSN): number {
  const pid = m.current.pid;
  mm.lock.downRead(pid);
  try {
    const old = readPageRemote(m, mm, vaddr, FOLL_FORCE | FOLL_SPLIT_PMD);
    if (old < 0) return old;
    const vma = mm.vmaLookup(vaddr)!;
    const off = vaddr % PAGE_SIZE;
    if (m.mem.frame(old)[off] === opcode) {
      putUserPage(m, old);
      return 0; // verify_opcode(): already there
    }
    const page = m.pages.alloc(false);
    if (page < 0) {
      putUserPage(m, old);
      return -ENOMEM;
    }
    anonVmaPrepare(vma);
    m.mem.copyFrame(page, old);
    m.mem.frame(page)[off] = opcode;
    m.pages.setFlag(page, PG_anon | PG_anon_exclusive | PG_swapbacked | PG_uptodate);
    m.pages.index[page] = vma.pageIndex(vaddr);
    // __replace_page(): the PTE now maps the new anon page with the VMA's protection.
    const p = pteLookup(m, mm, vaddr);
    const lo = readPteLo(m.mem, p);
    const hi = readPteHi(m.mem, p);
    const cur = ptePfn(lo, hi);
    m.pages.mapcount[page] = 1;
    writePte(m, p, pteLo(page, lo & 0xfff), (hi & ~0x000fffff) | pteHi(page, 0, false));
    m.flushTlbRange(mm, vaddr - off, vaddr - off + PAGE_SIZE);
    if (m.pages.isAnon(cur)) mm.rssAnon--;
    else mm.rssFile--;
    mm.rssAnon++;
    m.pages.mapcount[cur]!--;
    m.pages.put(cur);
    putUserPage(m, old);
    mm.hasUprobes = true;
    return 0;
  } finally {
    mm.lock.upRead(pid);
  }
}

/** __get_user() with page faults disabled (UA-5): any fault, even a resolvable one, fails. */
function getUserNofault(m: Machine, task: Task, vaddr: number): number {
  const r = mmuAccess(m.mem, { cr3: task.mm!.pgd, pkru: task.pkru, pke: m.pke, wp: true }, vaddr, ACC_READ, false);
  if (r < 0) return -EFAULT;
  return m.mem.frame(r)[vaddr % PAGE_SIZE]!;
}

/** is_trap_at_addr(mm, vaddr): 1 if the instruction is a breakpoint, 0 if not, or -errno. Runs as the probed task. */
export function isTrapAtAddr(m: Machine, mm: Mm, vaddr: number): number {
  const task = m.current;
  const tr = m.trace.on;
  let opcode = getUserNofault(m, task, vaddr);
  if (opcode < 0) {
    const pages: number[] = [];
    let r: number;
    const how = m.profile.gup.isTrapAtAddr;
    if (tr) m.trace.decision('CON-14', 'is_trap_at_addr', how.startsWith('local') ? 'info' : 'bypass',
      { 'local-current': 'get_user_pages(vaddr, 1, 0, 1, &page, NULL): current, local, charged to current (the reviewed revision)',
        'remote-null': 'get_user_pages_remote(NULL, mm, vaddr, 1, 0, 1, &page, NULL): remote, charged to nobody',
        remote: 'get_user_pages_remote(mm, vaddr, 1, FOLL_FORCE, &page, NULL): remote, no pkey check',
        local: 'get_user_pages(vaddr, 1, FOLL_FORCE, &page): local, pkey-checked' }[how]);
    mm.lock.downRead(task.pid);
    if (how === 'local-current') r = seedGetUserPages(m, vaddr, 1, 0, 1, pages, null);
    else if (how === 'remote-null') r = seedGetUserPagesForeign(m, null, mm, vaddr, 1, 0, 1, pages, null);
    else if (how === 'remote') r = getUserPagesRemote(m, mm, vaddr, 1, FOLL_FORCE, pages, null);
    else r = getUserPages(m, vaddr, 1, FOLL_FORCE, pages);
    mm.lock.upRead(task.pid);
    if (r < 0) return r;
    if (r === 0) return -EFAULT;
    opcode = m.mem.frame(pages[0]!)[vaddr % PAGE_SIZE]!;
    putUserPage(m, pages[0]!);
  }
  return opcode === UPROBE_SWBP_INSN ? 1 : 0;
}

export type SwbpOutcome = { result: 'sigtrap' | 'restart'; isTrap: number };

/**
 * handle_swbp() for a breakpoint at vaddr that no registered probe owns: SIGTRAP if the
 * instruction really is a trap, else restart the instruction.
 */
export function handleStraySwbp(m: Machine, task: Task, vaddr: number): SwbpOutcome {
  return m.runAs(task, () => {
    const isTrap = isTrapAtAddr(m, task.mm!, vaddr);
    if (isTrap > 0) {
      m.klog('info', `uprobes: no probe at 0x${vaddr.toString(16)} in pid ${task.pid}: SIGTRAP`);
      return { result: 'sigtrap', isTrap };
    }
    return { result: 'restart', isTrap };
  });
}

export { SIGTRAP, lookupPte };
