// A small in-memory file system: inodes with a backing "disk" (so a page-cache miss is real I/O
// and a major fault), tmpfs-like shmem inodes (no backing store: the page cache is the data),
// pipes, and open file descriptions (include/linux/fs.h: struct inode, struct file).
import { PAGE_SIZE } from '../hw/pte.js';

export type InodeKind = 'reg' | 'shmem' | 'pipe';

let nextIno = 2;

export class Inode {
  readonly ino = nextIno++;
  size = 0;
  /** Pages on the backing store (reg only), sparse: a missing page reads as zeros. */
  readonly disk = new Map<number, Uint8Array>();
  /** The page cache: file page index -> pfn (struct address_space, i_pages). */
  readonly pageCache = new Map<number, number>();
  nlink = 1;
  /** Open files plus mappings (i_count). */
  refs = 0;
  /** Pipe buffer (kind 'pipe'). */
  pipe: PipeBuffer | null = null;
  constructor(public readonly kind: InodeKind, public name: string, public readonly mode = 0o644) {}

  /** Bytes of the backing store at page index (a copy-free view, or null for a hole). */
  diskPage(index: number): Uint8Array | null {
    return this.disk.get(index) ?? null;
  }

  writeDiskPage(index: number, data: Uint8Array): void {
    let p = this.disk.get(index);
    if (!p) {
      p = new Uint8Array(PAGE_SIZE);
      this.disk.set(index, p);
    }
    p.set(data.subarray(0, PAGE_SIZE));
  }
}

/** A pipe buffer: bytes copied in by write(), or a page referenced by vmsplice() (struct pipe_buffer). */
export type PipeChunk = { data: Uint8Array } | { pfn: number; off: number; len: number };

export class PipeBuffer {
  static readonly CAPACITY = 65536; // PIPE_DEF_BUFFERS * PAGE_SIZE
  chunks: PipeChunk[] = [];
  bytes = 0;
  readers = 0;
  writers = 0;
}

export const O_ACCMODE = 3, O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_EXCL = 0o200,
  O_TRUNC = 0o1000, O_APPEND = 0o2000, O_NONBLOCK = 0o4000, O_DIRECT = 0o40000, O_CLOEXEC = 0o2000000;

/** Hooks of special files (procfs); regular files and pipes use the VFS paths in kernel/read_write.ts. */
export interface FileOps {
  /** Transfer at pos; returns the result and the new position (pread leaves f_pos alone). */
  read?(buf: number, len: number, pos: number, file: OpenFile): { ret: number; pos: number };
  write?(buf: number, len: number, pos: number, file: OpenFile): { ret: number; pos: number };
  /** Only SEEK_SET and SEEK_CUR (mem_lseek()); SEEK_END is EINVAL. */
  noSeekEnd?: boolean;
  release?(file: OpenFile): void;
}

export class OpenFile {
  pos = 0;
  refs = 1;
  constructor(public readonly inode: Inode, public readonly flags: number, public readonly path: string,
    public readonly ops: FileOps | null = null) {}

  readable(): boolean {
    return (this.flags & O_ACCMODE) !== O_WRONLY;
  }

  writable(): boolean {
    return (this.flags & O_ACCMODE) !== O_RDONLY;
  }
}

/** struct files_struct: the fd table (shared by threads, copied by fork). */
export class FdTable {
  readonly fds = new Map<number, OpenFile>();

  install(f: OpenFile, min = 0): number {
    let fd = min;
    while (this.fds.has(fd)) fd++;
    this.fds.set(fd, f);
    return fd;
  }

  get(fd: number): OpenFile | null {
    return this.fds.get(fd) ?? null;
  }
}

/** The name space: absolute path -> inode. */
export class Fs {
  readonly files = new Map<string, Inode>();

  lookup(path: string): Inode | null {
    return this.files.get(path) ?? null;
  }

  /** Create a regular file whose content is already on disk (not in the page cache). */
  createWithContent(path: string, content: Uint8Array, kind: InodeKind = 'reg'): Inode {
    const ino = new Inode(kind, path);
    for (let off = 0; off < content.length; off += PAGE_SIZE) {
      ino.writeDiskPage(off / PAGE_SIZE, content.subarray(off, Math.min(content.length, off + PAGE_SIZE)));
    }
    ino.size = content.length;
    this.files.set(path, ino);
    return ino;
  }
}
