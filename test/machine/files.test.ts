// Item 7: the in-memory file system (create, open, read, write, truncate, unlink), the page cache
// behind read()/write() and mappings, pipes, and user-copy failures in read()/write().
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  EBADF, EEXIST, EFAULT, EINVAL, ENOENT, EPIPE, ESPIPE, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, O_APPEND, O_CREAT,
  O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, PROT_READ, PROT_WRITE, type Thread,
} from '../../src/index.js';
import { PAGE, bytes, makeFile, ok, simTest, text } from '../helpers.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;

/** A scratch RW buffer in t. */
function scratch(t: Thread, pages = 1): number {
  const b = t.mmap(0, pages * PAGE, RW, ANON);
  assert.ok(b > 0);
  return b;
}

describe('open, read, write, lseek', () => {
  simTest('open errors: ENOENT without O_CREAT, EEXIST with O_CREAT|O_EXCL, EINVAL for access mode 3', (h) => {
    const t = h.spawn();
    assert.equal(t.open('/tmp/none', O_RDONLY), -ENOENT);
    const fd = t.open('/tmp/new', O_CREAT | O_RDWR);
    assert.ok(fd >= 0);
    assert.equal(t.open('/tmp/new', O_CREAT | O_EXCL | O_RDWR), -EEXIST);
    assert.equal(t.close(fd), 0);
    assert.equal(t.close(fd), -EBADF);
  });

  simTest('write then read back through the offset; pread/pwrite leave the offset alone', (h) => {
    const t = h.spawn();
    const buf = scratch(t);
    const fd = t.open('/tmp/rw', O_CREAT | O_RDWR);
    ok(t.store(buf, bytes('hello world')));
    assert.equal(t.write(fd, buf, 11), 11);
    assert.equal(t.lseek(fd, 0, SEEK_CUR), 11);
    assert.equal(t.lseek(fd, 6, SEEK_SET), 6);
    assert.equal(t.read(fd, buf + 100, 100), 5, 'short read at EOF');
    assert.equal(text(t.load(buf + 100, 5).data), 'world');
    assert.equal(t.read(fd, buf + 100, 100), 0, 'EOF');
    assert.equal(t.pread(fd, buf + 200, 5, 0), 5);
    assert.equal(text(t.load(buf + 200, 5).data), 'hello');
    assert.equal(t.lseek(fd, 0, SEEK_CUR), 11, 'pread does not move the offset');
    assert.equal(t.lseek(fd, -1, SEEK_END), 10);
    assert.equal(t.lseek(fd, -100, SEEK_SET), -EINVAL);
  });

  simTest('access mode is enforced: read on O_WRONLY and write on O_RDONLY are EBADF (vfs_read/vfs_write)', (h) => {
    const t = h.spawn();
    const buf = scratch(t);
    makeFile(t, '/tmp/m', bytes('abc'));
    const w = t.open('/tmp/m', O_WRONLY);
    const r = t.open('/tmp/m', O_RDONLY);
    assert.equal(t.read(w, buf, 1), -EBADF);
    assert.equal(t.write(r, buf, 1), -EBADF);
    assert.equal(t.read(99, buf, 1), -EBADF);
  });

  simTest('O_APPEND writes at the end; O_TRUNC empties the file', (h) => {
    const t = h.spawn();
    const buf = scratch(t);
    makeFile(t, '/tmp/log', bytes('one'));
    const fd = t.open('/tmp/log', O_WRONLY | O_APPEND);
    ok(t.store(buf, bytes('two')));
    assert.equal(t.write(fd, buf, 3), 3);
    const r = t.open('/tmp/log', O_RDONLY);
    assert.equal(t.read(r, buf + 64, 64), 6);
    assert.equal(text(t.load(buf + 64, 6).data), 'onetwo');
    const tr = t.open('/tmp/log', O_WRONLY | O_TRUNC);
    assert.ok(tr >= 0);
    assert.equal(t.pread(r, buf, 64, 0), 0);
  });

  simTest('writes far past EOF leave a hole that reads as zeros and spans pages', (h) => {
    const t = h.spawn();
    const buf = scratch(t, 4);
    const fd = t.open('/tmp/sparse', O_CREAT | O_RDWR);
    ok(t.store(buf, bytes('Z')));
    assert.equal(t.pwrite(fd, buf, 1, 2 * PAGE + 10), 1);
    assert.equal(t.pread(fd, buf + PAGE, 2 * PAGE + 11, 0), 2 * PAGE + 11);
    const data = t.load(buf + PAGE, 2 * PAGE + 11).data!;
    assert.equal(data.subarray(0, 2 * PAGE + 10).every((x) => x === 0), true);
    assert.equal(data[2 * PAGE + 10], 0x5a);
  });
});

describe('truncate and unlink', () => {
  simTest('ftruncate shrinks (data past the new end gone, zero on regrow) and checks its arguments', (h) => {
    const t = h.spawn();
    const buf = scratch(t);
    const fd = makeFile(t, '/tmp/tr', bytes('0123456789'));
    assert.equal(t.ftruncate(fd, 4), 0);
    assert.equal(t.pread(fd, buf, 10, 0), 4);
    assert.equal(t.ftruncate(fd, 8), 0);
    assert.equal(t.pread(fd, buf, 10, 0), 8);
    assert.deepEqual([...t.load(buf, 8).data!], [0x30, 0x31, 0x32, 0x33, 0, 0, 0, 0]);
    assert.equal(t.ftruncate(fd, -1), -EINVAL);
    const ro = t.open('/tmp/tr', O_RDONLY);
    // fs/open.c: do_sys_ftruncate(): a file not open for writing -> EINVAL.
    assert.equal(t.ftruncate(ro, 0), -EINVAL);
  });

  simTest('unlink removes the name; an open fd still reads the data; the last close frees the pages', (h) => {
    const t = h.spawn();
    const buf = scratch(t);
    const fd = makeFile(t, '/tmp/u', new Uint8Array(3 * PAGE).fill(0x61));
    const ino = h.m.fs.lookup('/tmp/u')!;
    assert.equal(t.unlink('/tmp/u'), 0);
    assert.equal(t.unlink('/tmp/u'), -ENOENT);
    assert.equal(t.open('/tmp/u', O_RDONLY), -ENOENT);
    assert.equal(t.pread(fd, buf, 4, PAGE), 4);
    assert.equal(text(t.load(buf, 4).data), 'aaaa');
    assert.ok(ino.pageCache.size > 0);
    assert.equal(t.close(fd), 0);
    assert.equal(ino.pageCache.size, 0);
  });
});

describe('the page cache behind read(), write() and mmap', () => {
  simTest('write() and a MAP_SHARED mapping of the file use the same page-cache page', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/pc', bytes('cache'));
    const ino = h.m.fs.lookup('/tmp/pc')!;
    const a = t.mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    ok(t.load(a));
    assert.equal(t.pte(a)!.pfn, ino.pageCache.get(0));
  });

  simTest('dropCaches keeps mapped and dirty-mapped pages and evicts clean unmapped ones after writeback', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/dc', new Uint8Array(2 * PAGE).fill(1));
    const ino = h.m.fs.lookup('/tmp/dc')!;
    const a = t.mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    ok(t.load(a));
    h.sim.dropCaches();
    assert.deepEqual([...ino.pageCache.keys()], [0], 'the mapped page stays');
    assert.equal(ino.disk.get(1)![0], 1, 'the other page was written back before eviction');
  });
});

describe('user copies in read() and write() (UA-3, UA-4)', () => {
  simTest('read() into an unmapped buffer: EFAULT, no signal, offset unchanged', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/ef', bytes('data'));
    assert.equal(t.lseek(fd, 0, SEEK_SET), 0);
    assert.equal(t.read(fd, 0x10000, 4), -EFAULT);
    assert.equal(t.lseek(fd, 0, SEEK_CUR), 0);
  });

  simTest('read() into a read-only buffer is EFAULT; a buffer that ends in a hole gets a short read', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/part', new Uint8Array(2 * PAGE).fill(0x42));
    const ro = t.mmap(0, PAGE, PROT_READ, ANON);
    assert.equal(t.pread(fd, ro, 16, 0), -EFAULT);
    const base = 0x300000000000;
    assert.equal(t.mmap(base, PAGE, RW, ANON | 0x10), base);
    // [mapped][unmapped]: bytes up to the end of the mapped page are copied (UA-4, PVM-10's shape).
    assert.equal(t.pread(fd, base + PAGE - 100, 200, 0), 100);
    assert.equal(t.load(base + PAGE - 100, 100).data!.every((x) => x === 0x42), true);
  });

  simTest('write() from an unmapped buffer: EFAULT, file unchanged', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/wf', bytes('keep'));
    assert.equal(t.pwrite(fd, 0x10000, 4, 0), -EFAULT);
    const buf = scratch(t);
    assert.equal(t.pread(fd, buf, 4, 0), 4);
    assert.equal(text(t.load(buf, 4).data), 'keep');
  });

  simTest('read() into a fresh anon buffer faults it in from the kernel (charged to the caller, ACC-2)', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/fi', new Uint8Array(PAGE).fill(7));
    const buf = scratch(t);
    const mn = t.getrusage().ru_minflt;
    assert.equal(t.pread(fd, buf, PAGE, 0), PAGE);
    assert.equal(t.getrusage().ru_minflt - mn, 1);
    assert.ok(t.pte(buf));
  });
});

describe('pipes', () => {
  simTest('bytes written are read back in order; EOF after the write end closes', (h) => {
    const t = h.spawn();
    const buf = scratch(t);
    const [r, w] = t.pipe() as [number, number];
    ok(t.store(buf, bytes('abcdef')));
    assert.equal(t.write(w, buf, 3), 3);
    assert.equal(t.write(w, buf + 3, 3), 3);
    assert.equal(t.read(r, buf + 100, 4), 4);
    assert.equal(text(t.load(buf + 100, 4).data), 'abcd');
    assert.equal(t.read(r, buf + 100, 4), 2);
    assert.equal(t.close(w), 0);
    assert.equal(t.read(r, buf + 100, 4), 0, 'EOF');
  });

  simTest('pipes refuse seeking and positional I/O (ESPIPE) and writing without readers (EPIPE)', (h) => {
    const t = h.spawn();
    const buf = scratch(t);
    const [r, w] = t.pipe() as [number, number];
    assert.equal(t.lseek(r, 0, SEEK_SET), -ESPIPE);
    assert.equal(t.pwrite(w, buf, 1, 0), -ESPIPE);
    assert.equal(t.close(r), 0);
    // fs/pipe.c: pipe_write(): no readers -> send_sig(SIGPIPE) and -EPIPE (what a process that
    // ignores SIGPIPE sees; the model does not deliver SIGPIPE).
    assert.equal(t.write(w, buf, 1), -EPIPE);
  });

  simTest('a pipe is shared with a forked child', (h) => {
    const p = h.spawn();
    const buf = scratch(p);
    const [r, w] = p.pipe() as [number, number];
    const c = p.fork() as Thread;
    ok(c.store(buf, bytes('from child')));
    assert.equal(c.write(w, buf, 10), 10);
    c.exit();
    assert.equal(p.read(r, buf + 64, 64), 10);
    assert.equal(text(p.load(buf + 64, 10).data), 'from child');
  });
});
