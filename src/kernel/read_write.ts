// File syscalls over the in-memory file system (fs/open.c, fs/read_write.c, fs/pipe.c,
// mm/filemap.c: filemap_read(), generic_perform_write()).
import { PAGE_SIZE } from '../hw/pte.js';
import { filemapGetPage, type CachePage } from '../mm/filemap.js';
import { PG_dirty } from '../mm/page.js';
import { zapRange } from '../mm/memory.js';
import { putUserPage } from '../mm/gup.js';
import { EAGAIN, EBADF, EEXIST, EFAULT, EINVAL, EISDIR, ENOENT, ENOMEM, EPIPE, ESPIPE } from './errno.js';
import {
  Inode, OpenFile, PipeBuffer, O_ACCMODE, O_APPEND, O_CREAT, O_DIRECT, O_EXCL, O_NONBLOCK, O_RDONLY, O_TRUNC, O_WRONLY,
} from './fs.js';
import type { Machine } from './machine.js';
import { openProcFile } from './procfs.js';
import { accessOk, copyFromUser, copyToUser } from './uaccess.js';
import { directIo } from './direct_io.js';

/** MAX_RW_COUNT: a single read/write transfers at most INT_MAX rounded down to a page. */
export const MAX_RW_COUNT = 0x7ffff000;

const cache: CachePage = { pfn: -1, major: false };

export function closeFile(m: Machine, f: OpenFile): void {
  if (--f.refs > 0) return;
  f.ops?.release?.(f);
  const ino = f.inode;
  ino.refs--;
  if (ino.pipe) {
    if (f.readable()) ino.pipe.readers--;
    if (f.writable()) ino.pipe.writers--;
  }
  releaseIfUnused(m, ino);
}

/** Free an unlinked inode's page cache once nothing refers to it (iput() -> evict()). */
export function releaseIfUnused(m: Machine, ino: Inode): void {
  if (ino.nlink > 0 || ino.refs > 0) return;
  if (ino.pipe) freePipe(m, ino.pipe);
  for (const pfn of ino.pageCache.values()) m.pages.put(pfn);
  ino.pageCache.clear();
  m.orphanInodes.delete(ino);
}

export function sysOpen(m: Machine, path: string, flags: number, mode = 0o644): number {
  const files = m.current.group.files;
  if (path.startsWith('/proc/')) {
    const f = openProcFile(m, path, flags);
    return typeof f === 'number' ? f : files.install(f);
  }
  let ino = m.fs.lookup(path);
  if (ino && flags & O_CREAT && flags & O_EXCL) return -EEXIST;
  if (!ino) {
    if (!(flags & O_CREAT)) return -ENOENT;
    ino = new Inode('reg', path, mode);
    m.fs.files.set(path, ino);
  }
  if ((flags & O_ACCMODE) === 3) return -EINVAL;
  ino.refs++;
  const f = new OpenFile(ino, flags, path);
  if (flags & O_TRUNC && f.writable()) truncateInode(m, ino, 0);
  return files.install(f);
}

export function sysClose(m: Machine, fd: number): number {
  const files = m.current.group.files;
  const f = files.get(fd);
  if (!f) return -EBADF;
  files.fds.delete(fd);
  closeFile(m, f);
  return 0;
}

export function sysPipe(m: Machine): [number, number] | number {
  const ino = new Inode('pipe', 'pipe:');
  ino.pipe = new PipeBuffer();
  ino.pipe.readers = 1;
  ino.pipe.writers = 1;
  ino.refs = 2;
  ino.nlink = 0;
  const files = m.current.group.files;
  const r = files.install(new OpenFile(ino, O_RDONLY, `pipe:[${ino.ino}]`));
  const w = files.install(new OpenFile(ino, O_WRONLY, `pipe:[${ino.ino}]`));
  return [r, w];
}

/**
 * filemap_read()'s loop: each page-cache page of [pos, pos + len) within the file goes to `copy`,
 * which returns the bytes it could not take (a short uaccess ends the read). Returns the bytes
 * read, or -ENOMEM if not even the first page could be had.
 */
function filemapRead(m: Machine, ino: Inode, pos: number, len: number, copy: (src: Uint8Array, done: number) => number): number {
  let done = 0;
  while (done < len && pos + done < ino.size) {
    const p = pos + done;
    const off = p % PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - off, len - done, ino.size - p);
    filemapGetPage(m, ino, Math.floor(p / PAGE_SIZE), cache);
    if (cache.pfn < 0) return done || -ENOMEM;
    const pfn = cache.pfn;
    const left = copy(m.mem.frame(pfn).subarray(off, off + n), done);
    m.pages.put(pfn);
    done += n - left;
    if (left) break;
  }
  return done;
}

/**
 * generic_perform_write()'s loop: `fill` puts up to a page of the source into a bounce chunk and
 * returns the bytes it could not (a short copy_from_user() ends the write); the chunk goes into
 * the page-cache page, which becomes dirty. Returns the bytes written, or -ENOMEM.
 */
function filemapWrite(m: Machine, ino: Inode, pos: number, len: number, fill: (chunk: Uint8Array, done: number) => number): number {
  let done = 0;
  const tmp = new Uint8Array(PAGE_SIZE);
  while (done < len) {
    const p = pos + done;
    const off = p % PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - off, len - done);
    const chunk = tmp.subarray(0, n);
    const left = fill(chunk, done);
    if (left === n) break;
    filemapGetPage(m, ino, Math.floor(p / PAGE_SIZE), cache);
    if (cache.pfn < 0) return done || -ENOMEM;
    m.mem.frame(cache.pfn).set(chunk.subarray(0, n - left), off);
    m.pages.setFlag(cache.pfn, PG_dirty);
    m.pages.put(cache.pfn);
    done += n - left;
    if (p + n - left > ino.size) ino.size = p + n - left;
    if (left) break;
  }
  return done;
}

/** read(2) of a file: page-cache pages copied out with copy_to_user(). */
function fileRead(m: Machine, f: OpenFile, buf: number, len: number, pos: number): number {
  return filemapRead(m, f.inode, pos, len, (src, done) => copyToUser(m, buf + done, src));
}

/** kernel_read(): file bytes at pos into a kernel buffer (no uaccess); returns bytes read. */
export function kernelRead(m: Machine, ino: Inode, pos: number, dst: Uint8Array): number {
  return Math.max(0, filemapRead(m, ino, pos, dst.length, (src, done) => {
    dst.set(src, done);
    return 0;
  }));
}

/** kernel_write(): a kernel buffer into the page cache at pos; returns bytes written. */
export function kernelWrite(m: Machine, ino: Inode, pos: number, src: Uint8Array): number {
  return Math.max(0, filemapWrite(m, ino, pos, src.length, (chunk, done) => {
    chunk.set(src.subarray(done, done + chunk.length));
    return 0;
  }));
}

/** write(2) to a file: copy_from_user() into page-cache pages. */
function fileWrite(m: Machine, f: OpenFile, buf: number, len: number, pos: number): number {
  return filemapWrite(m, f.inode, pos, len, (chunk, done) => copyFromUser(m, buf + done, chunk));
}

function pipeRead(m: Machine, f: OpenFile, buf: number, len: number): number {
  const pipe = f.inode.pipe!;
  if (pipe.bytes === 0) return pipe.writers === 0 ? 0 : -EAGAIN;
  let done = 0;
  while (done < len && pipe.chunks.length) {
    const c = pipe.chunks[0]!;
    // A spliced page is read at this moment, through the kernel's mapping: no PKRU on its source.
    const src = 'data' in c ? c.data : m.mem.frame(c.pfn).subarray(c.off, c.off + c.len);
    const n = Math.min(src.length, len - done);
    const left = copyToUser(m, buf + done, src.subarray(0, n));
    const took = n - left;
    done += took;
    pipe.bytes -= took;
    if (took === src.length) {
      pipe.chunks.shift();
      if ('pfn' in c) putUserPage(m, c.pfn);
    } else if ('data' in c) {
      c.data = c.data.subarray(took);
    } else {
      c.off += took;
      c.len -= took;
    }
    if (left) break;
  }
  return done || -EFAULT;
}

/** Drop what a pipe still holds when its last reference goes (free_pipe_info()). */
export function freePipe(m: Machine, pipe: PipeBuffer): void {
  for (const c of pipe.chunks) if ('pfn' in c) putUserPage(m, c.pfn);
  pipe.chunks = [];
  pipe.bytes = 0;
}

function pipeWrite(m: Machine, f: OpenFile, buf: number, len: number): number {
  const pipe = f.inode.pipe!;
  if (pipe.readers === 0) return -EPIPE;
  const room = PipeBuffer.CAPACITY - pipe.bytes;
  if (room === 0) return -EAGAIN;
  const n = Math.min(room, len);
  const data = new Uint8Array(n);
  const left = copyFromUser(m, buf, data);
  if (left === n) return -EFAULT;
  pipe.chunks.push({ data: data.subarray(0, n - left) });
  pipe.bytes += n - left;
  return n - left;
}

function rwChecks(m: Machine, fd: number, buf: number, len: number, write: boolean): OpenFile | number {
  const f = m.current.group.files.get(fd);
  if (!f) return -EBADF;
  if (write ? !f.writable() : !f.readable()) return -EBADF;
  if (len < 0) return -EINVAL;
  if (!accessOk(buf, Math.min(len, MAX_RW_COUNT))) return -EFAULT;
  return f;
}

/** read(2) / pread64(2) (pos given). */
export function sysRead(m: Machine, fd: number, buf: number, len: number, pos?: number): number {
  const f = rwChecks(m, fd, buf, len, false);
  if (typeof f === 'number') return f;
  len = Math.min(len, MAX_RW_COUNT);
  if (f.ops?.read) {
    const r = f.ops.read(buf, len, pos ?? f.pos, f);
    if (pos === undefined) f.pos = r.pos;
    return r.ret;
  }
  if (f.inode.pipe) return pos !== undefined ? -ESPIPE : pipeRead(m, f, buf, len);
  if (f.flags & O_DIRECT) {
    const d = directIo(m, f, buf, len, pos ?? f.pos, false);
    if (d > 0 && pos === undefined) f.pos += d;
    return d;
  }
  const r = fileRead(m, f, buf, len, pos ?? f.pos);
  if (r > 0 && pos === undefined) f.pos += r;
  return r === 0 && len > 0 && (pos ?? f.pos) < f.inode.size ? -EFAULT : r;
}

/** write(2) / pwrite64(2). */
export function sysWrite(m: Machine, fd: number, buf: number, len: number, pos?: number): number {
  const f = rwChecks(m, fd, buf, len, true);
  if (typeof f === 'number') return f;
  len = Math.min(len, MAX_RW_COUNT);
  if (f.ops?.write) {
    const r = f.ops.write(buf, len, pos ?? f.pos, f);
    if (pos === undefined) f.pos = r.pos;
    return r.ret;
  }
  if (f.inode.pipe) return pos !== undefined ? -ESPIPE : pipeWrite(m, f, buf, len);
  if (len === 0) return 0;
  const at = pos ?? (f.flags & O_APPEND ? f.inode.size : f.pos);
  if (f.flags & O_DIRECT) {
    const d = directIo(m, f, buf, len, at, true);
    if (d > 0 && pos === undefined) f.pos = at + d;
    return d;
  }
  const r = fileWrite(m, f, buf, len, at);
  if (r > 0 && pos === undefined) f.pos = at + r;
  return r === 0 ? -EFAULT : r;
}

export const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;

export function sysLseek(m: Machine, fd: number, off: number, whence: number): number {
  const f = m.current.group.files.get(fd);
  if (!f) return -EBADF;
  if (f.inode.pipe) return -ESPIPE;
  let pos: number;
  if (whence === SEEK_SET) pos = off;
  else if (whence === SEEK_CUR) pos = f.pos + off;
  else if (whence === SEEK_END && !f.ops?.noSeekEnd) pos = f.inode.size + off;
  else return -EINVAL;
  if (pos < 0 && !f.ops?.noSeekEnd) return -EINVAL; // /proc/PID/mem offsets are unsigned
  f.pos = pos;
  return pos;
}

/** truncate_setsize() + truncate_pagecache(): unmap and drop pages past the new end. */
export function truncateInode(m: Machine, ino: Inode, size: number): void {
  const keepPages = Math.ceil(size / PAGE_SIZE);
  // unmap_mapping_range(): every mapping of the dropped pages loses its PTEs.
  for (const t of m.tasks.values()) {
    const mm = t.mm;
    if (!mm || mm.dead) continue;
    for (const v of mm.vmas) {
      if (v.file !== ino) continue;
      const from = Math.max(v.start, v.start + (keepPages - v.pgoff) * PAGE_SIZE);
      if (from < v.end) zapRange(m, mm, from, v.end);
    }
  }
  for (const [index, pfn] of [...ino.pageCache]) {
    if (index >= keepPages) {
      ino.pageCache.delete(index);
      m.pages.put(pfn);
    }
  }
  for (const index of [...ino.disk.keys()]) if (index >= keepPages) ino.disk.delete(index);
  if (size % PAGE_SIZE) {
    // Zero the tail of the last page (truncate_inode_partial_folio()).
    const last = Math.floor(size / PAGE_SIZE);
    const pfn = ino.pageCache.get(last);
    if (pfn !== undefined) m.mem.frame(pfn).fill(0, size % PAGE_SIZE);
    const d = ino.disk.get(last);
    if (d) d.fill(0, size % PAGE_SIZE);
  }
  ino.size = size;
}

export function sysFtruncate(m: Machine, fd: number, length: number): number {
  const f = m.current.group.files.get(fd);
  if (!f) return -EBADF;
  if (length < 0) return -EINVAL;
  if (!f.writable() || f.inode.kind === 'pipe') return -EINVAL;
  truncateInode(m, f.inode, length);
  return 0;
}

export function sysUnlink(m: Machine, path: string): number {
  const ino = m.fs.lookup(path);
  if (!ino) return -ENOENT;
  if (ino.kind !== 'reg' && ino.kind !== 'shmem') return -EISDIR;
  m.fs.files.delete(path);
  ino.nlink--;
  m.orphanInodes.add(ino);
  releaseIfUnused(m, ino);
  return 0;
}

export { O_NONBLOCK };
