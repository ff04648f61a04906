// The page cache (mm/filemap.c): find or read a file page. A miss reads the backing store, which
// is I/O and makes the fault major (VM_FAULT_MAJOR); shmem has no backing store, so never major.
import { PAGE_SIZE } from '../hw/pte.js';
import type { Inode } from '../kernel/fs.js';
import type { Machine } from '../kernel/machine.js';
import { PG_dirty, PG_swapbacked, PG_uptodate } from './page.js';

export interface CachePage {
  pfn: number; // -1: no memory
  major: boolean;
}

/**
 * filemap_get_folio()/filemap_fault()'s lookup: returns the page-cache page with an extra
 * reference for the caller, reading it from disk on a miss.
 */
export function filemapGetPage(m: Machine, inode: Inode, index: number, result: CachePage): void {
  let pfn = inode.pageCache.get(index);
  if (pfn !== undefined) {
    m.pages.get(pfn);
    result.pfn = pfn;
    result.major = false;
    return;
  }
  pfn = m.pages.alloc(true);
  if (pfn < 0) {
    result.pfn = -1;
    result.major = false;
    return;
  }
  const data = inode.diskPage(index);
  if (data) m.mem.frame(pfn).set(data);
  m.pages.setFlag(pfn, PG_uptodate | (inode.kind === 'shmem' ? PG_swapbacked : 0));
  m.pages.mapping[pfn] = inode.ino;
  m.pages.index[pfn] = index;
  inode.pageCache.set(index, pfn); // the cache's own reference is the allocation's
  m.pages.get(pfn); // the caller's
  result.pfn = pfn;
  result.major = inode.kind === 'reg';
  if (result.major) m.vmstat.pgpgin += PAGE_SIZE / 1024;
}

/** Write a dirty page back to the backing store (mm/page-writeback.c, much simplified). */
export function writebackPage(m: Machine, inode: Inode, index: number, pfn: number): void {
  if (inode.kind === 'reg' && m.pages.testFlag(pfn, PG_dirty)) {
    inode.writeDiskPage(index, m.mem.frame(pfn));
    m.pages.clearFlag(pfn, PG_dirty);
  }
}

/** Drop the page-cache page at index if nothing else uses it (the page cache's own eviction). */
export function evictCachePage(m: Machine, inode: Inode, index: number): boolean {
  const pfn = inode.pageCache.get(index);
  if (pfn === undefined) return true;
  if (m.pages.mapcount[pfn]! > 0 || m.pages.refcount[pfn]! > 1) return false;
  writebackPage(m, inode, index, pfn);
  inode.pageCache.delete(index);
  m.pages.put(pfn);
  return true;
}

/** echo 1 > /proc/sys/vm/drop_caches: write back and evict every clean, unmapped page-cache page. */
export function dropCaches(m: Machine): number {
  let n = 0;
  for (const inode of m.allInodes()) {
    if (inode.kind !== 'reg') continue;
    for (const index of [...inode.pageCache.keys()]) if (evictCachePage(m, inode, index)) n++;
  }
  return n;
}
