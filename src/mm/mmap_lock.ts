// mm->mmap_lock (mmap_sem before v5.8): a reader/writer semaphore whose holders are tracked, so
// that a kernel path needing it and not holding it is reported as lockdep would.
export class MmapLock {
  /**
   * Read holders: pid -> nesting count. The common case, one reader (every page fault takes the
   * lock for read), is kept in soloPid/soloCount so the fault path does no Map work.
   */
  readers = new Map<number, number>();
  private soloPid = -1;
  private soloCount = 0;
  writer: number | null = null;

  downRead(pid: number): void {
    if (this.soloPid === pid) {
      this.soloCount++;
      return;
    }
    if (this.soloPid === -1) {
      this.soloPid = pid;
      this.soloCount = 1;
      return;
    }
    this.readers.set(pid, (this.readers.get(pid) ?? 0) + 1);
  }

  upRead(pid: number): void {
    if (this.soloPid === pid) {
      if (--this.soloCount === 0) this.soloPid = -1;
      return;
    }
    const n = this.readers.get(pid) ?? 0;
    if (n <= 0) throw new Error(`mmap_lock: up_read by pid ${pid} which does not hold it`);
    if (n === 1) this.readers.delete(pid);
    else this.readers.set(pid, n - 1);
  }

  downWrite(pid: number): void {
    this.writer = pid;
  }

  upWrite(pid: number): void {
    if (this.writer !== pid) throw new Error(`mmap_lock: up_write by pid ${pid} which does not hold it`);
    this.writer = null;
  }

  heldBy(pid: number): boolean {
    return this.writer === pid || this.soloPid === pid || this.readers.has(pid);
  }

  heldForWrite(pid: number): boolean {
    return this.writer === pid;
  }

  isLocked(): boolean {
    return this.writer !== null || this.soloPid !== -1 || this.readers.size > 0;
  }

  /** Read holders as pid -> nesting count (for display). */
  readHolders(): Map<number, number> {
    const all = new Map(this.readers);
    if (this.soloPid !== -1) all.set(this.soloPid, (all.get(this.soloPid) ?? 0) + this.soloCount);
    return all;
  }
}
