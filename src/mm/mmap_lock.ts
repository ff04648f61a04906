// mm->mmap_lock (mmap_sem before v5.8): a reader/writer semaphore whose holders are tracked, so
// that a kernel path needing it and not holding it is reported as lockdep would.
export class MmapLock {
  readers = new Map<number, number>(); // pid -> nesting count
  writer: number | null = null;

  downRead(pid: number): void {
    this.readers.set(pid, (this.readers.get(pid) ?? 0) + 1);
  }

  upRead(pid: number): void {
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
    return this.writer === pid || this.readers.has(pid);
  }

  heldForWrite(pid: number): boolean {
    return this.writer === pid;
  }

  isLocked(): boolean {
    return this.writer !== null || this.readers.size > 0;
  }
}
