// Core dumps (fs/coredump.c: dump_user_range() with mm/gup.c: get_dump_page()): the dying thread
// reads its own memory, locally, with FOLL_FORCE|FOLL_DUMP — pages its PKRU denies become holes (CON-18).
import { getDumpPage, putUserPage } from '../mm/gup.js';
import type { Machine } from './machine.js';
import type { Task } from './task.js';

export interface CoreDump {
  /** [start, end, pages written, holes] per dumped VMA. */
  vmas: { start: number; end: number; written: number; holes: number }[];
}

/** Dump every anonymous or written private VMA of task (vma_dump_size(), simplified to anon VMAs). */
export function doCoredump(m: Machine, task: Task): CoreDump {
  return m.runAs(task, () => {
    const out: CoreDump = { vmas: [] };
    for (const v of [...(task.mm?.vmas ?? [])]) {
      if (!v.isAnonymous() && !v.anonVma) continue;
      let written = 0;
      let holes = 0;
      for (let a = v.start; a < v.end; a += 4096) {
        const page = getDumpPage(m, a);
        if (page === null) holes++;
        else {
          written++;
          putUserPage(m, page);
        }
      }
      out.vmas.push({ start: v.start, end: v.end, written, holes });
    }
    return out;
  });
}
