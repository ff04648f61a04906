// Item 6: processes and threads: fork with COW, exit and teardown, exec (fresh mm), threads that
// share an mm but not PKRU or fault counters, the kernel-thread context.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  ESRCH, ENOENT, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, SIGSEGV, type Thread,
} from '../../src/index.js';
import { DEFAULT_PROGRAM, STACK_SIZE, TEXT_BASE } from '../../src/kernel/exec.js';
import { STACK_TOP } from '../../src/mm/mm.js';
import { archVmaAccessPermitted, vmaIsForeign } from '../../src/mm/pkeys.js';
import { copyToUser } from '../../src/kernel/uaccess.js';
import { PAGE, SKIP, bytes, lines, makeFile, mapsLine, ok, simTest, text } from '../helpers.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const INIT_PKRU = 0x55555554; // arch/x86/mm/pkeys.c: init_pkru_value

describe('fork', () => {
  simTest('the child gets a new pid, the parent as ppid, the same maps, and its own page tables', (h) => {
    const p = h.spawn();
    const a = p.mmap(0, 3 * PAGE, RW, ANON);
    ok(p.store(a, [1]));
    const c = p.fork() as Thread;
    assert.notEqual(c.pid, p.pid);
    assert.equal(c.maps(), p.maps());
    assert.notEqual(c.task.mm, p.task.mm);
    assert.notEqual(c.task.mm!.pgd, p.task.mm!.pgd);
    // fs/proc/array.c: do_task_stat(): field 4 is the parent's tgid.
    assert.equal(Number(c.stat().split(' ')[3]), p.tgid);
    c.exit();
  });

  simTest('fork copies the calling thread\'s PKRU (PK-SIG-10: fork_child = v)', (h) => {
    const p = h.spawn();
    p.wrpkru(0xd5555558);
    const c = p.fork() as Thread;
    assert.equal(c.rdpkru(), 0xd5555558);
    c.exit();
  });

  simTest('a fork then exits of both sides release every page reference', (h) => {
    const before = h.sim.usedFrames();
    const p = h.spawn();
    const a = p.mmap(0, 8 * PAGE, RW, ANON);
    for (let i = 0; i < 8; i++) ok(p.store(a + i * PAGE, [i]));
    const c = p.fork() as Thread;
    for (let i = 0; i < 4; i++) ok(c.store(a + i * PAGE, [0x80 + i]));
    c.exit();
    p.exit();
    h.sim.dropCaches();
    assert.equal(h.sim.usedFrames(), before);
  });

  simTest('the parent exiting first leaves the child\'s COW pages intact', (h) => {
    const p = h.spawn();
    const a = p.mmap(0, PAGE, RW, ANON);
    ok(p.store(a, bytes('shared')));
    const c = p.fork() as Thread;
    p.exit();
    assert.equal(text(c.load(a, 6).data), 'shared');
    ok(c.store(a, bytes('mine')));
    assert.equal(text(c.load(a, 6).data), 'mineed');
  });
});

describe('threads', () => {
  simTest('threads share the mm: a store in one is a load in the other, with one set of page tables', (h) => {
    const t1 = h.spawn();
    const t2 = t1.clone() as Thread;
    assert.equal(t2.tgid, t1.tgid);
    assert.notEqual(t2.pid, t1.pid);
    assert.equal(t2.task.mm, t1.task.mm);
    const a = t1.mmap(0, PAGE, RW, ANON);
    ok(t2.store(a, bytes('hi')));
    assert.equal(text(t1.load(a, 2).data), 'hi');
    // do_task_stat(): field 20 is num_threads.
    assert.equal(Number(t1.stat().split(' ')[19]), 2);
  });

  simTest('clone copies PKRU; afterwards each thread has its own (PK-SIG-10 pthread = v)', (h) => {
    const t1 = h.spawn();
    t1.wrpkru(0xd5555558);
    const t2 = t1.clone() as Thread;
    assert.equal(t2.rdpkru(), 0xd5555558);
    t2.wrpkru(0);
    assert.equal(t1.rdpkru(), 0xd5555558);
  });

  simTest('one thread exiting leaves the mm; the last one tears it down', (h) => {
    const before = h.sim.usedFrames();
    const t1 = h.spawn();
    const t2 = t1.clone() as Thread;
    const a = t1.mmap(0, 4 * PAGE, RW, ANON);
    ok(t1.store(a, [1], 4 * PAGE));
    t2.exitThread();
    assert.equal(t2.alive, false);
    assert.ok(t1.task.mm && !t1.task.mm.dead);
    assert.deepEqual([...t1.load(a).data!], [1]);
    t1.exitThread();
    h.sim.dropCaches();
    assert.equal(h.sim.usedFrames(), before, 'exit_mmap() freed pages and page tables');
  });

  simTest('a dead thread\'s syscalls return ESRCH', (h) => {
    const t1 = h.spawn();
    const t2 = t1.clone() as Thread;
    t2.exitThread();
    assert.equal(t2.mmap(0, PAGE, RW, ANON), -ESRCH);
  });
});

describe('exit', () => {
  simTest('exit releases anon pages, page tables, file mappings and fds; the process is reaped', (h) => {
    const before = h.sim.usedFrames();
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/x', new Uint8Array(3 * PAGE).fill(1));
    const f = t.mmap(0, 3 * PAGE, RW, MAP_SHARED, fd, 0);
    ok(t.store(f, [2], 3 * PAGE));
    const a = t.mmap(0x300000000000, 4 * PAGE, RW, ANON);
    ok(t.store(a, [3], 4 * PAGE));
    const ino = h.m.fs.lookup('/tmp/x')!;
    t.exit();
    assert.equal(ino.refs, 0, 'no open file or mapping refers to the inode');
    assert.equal(h.sim.thread(t.pid), null);
    assert.equal(h.m.tasks.has(t.pid), false, 'reaped');
    h.sim.dropCaches();
    assert.equal(h.sim.usedFrames(), before, 'only what the file system still holds is gone too');
    assert.equal(ino.disk.get(0)![0], 2, 'the dirty shared page was written back');
  });

  simTest('an unlinked file that is still mapped keeps its pages until the last mapping goes', (h) => {
    const t = h.spawn();
    const fd = makeFile(t, '/tmp/gone', new Uint8Array(PAGE).fill(9));
    const a = t.mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    const ino = h.m.fs.lookup('/tmp/gone')!;
    assert.equal(t.close(fd), 0);
    assert.equal(t.unlink('/tmp/gone'), 0);
    assert.equal(t.open('/tmp/gone', 0), -ENOENT);
    assert.deepEqual([...t.load(a).data!], [9]);
    assert.equal(ino.pageCache.size, 1);
    assert.equal(t.munmap(a, PAGE), 0);
    assert.equal(ino.pageCache.size, 0, 'iput() of the last reference evicted the page cache');
    assert.equal(h.m.orphanInodes.has(ino), false);
  });
});

describe('exec', () => {
  simTest('execve gives a fresh mm: old mappings gone, text + stack only, old frames freed', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, 16 * PAGE, RW, ANON);
    ok(t.store(a, [1], 16 * PAGE));
    const used = h.sim.usedFrames();
    const oldMm = t.task.mm!;
    assert.equal(t.execve(DEFAULT_PROGRAM), 0);
    assert.notEqual(t.task.mm, oldMm);
    assert.equal(oldMm.dead, true);
    const ino = h.m.fs.lookup(DEFAULT_PROGRAM)!.ino;
    assert.deepEqual(lines(t.maps()).slice(0, 2), [
      mapsLine(TEXT_BASE, TEXT_BASE + 2 * PAGE, 'r-xp', 0, '08:01', ino, DEFAULT_PROGRAM),
      mapsLine(STACK_TOP - STACK_SIZE, STACK_TOP, 'rw-p', 0, '00:00', 0, '[stack]'),
    ]);
    assert.ok(h.sim.usedFrames() <= used - 16, 'the 16 anon pages went with the old mm');
    t.sigaction(SIGSEGV, SKIP);
    assert.equal(t.load(a).signals[0]!.info.signo, SIGSEGV);
  });

  simTest('execve resets PKRU to init_pkru_value (PK-SIG-10 after_execve = 0x55555554) and kills other threads', (h) => {
    const t = h.spawn();
    const t2 = t.clone() as Thread;
    t.wrpkru(0xd5555558);
    assert.equal(t.execve(DEFAULT_PROGRAM), 0);
    assert.equal(t.rdpkru(), INIT_PKRU);
    assert.equal(t2.alive, false, 'de_thread()');
  });

  simTest('execve writes argv and envp to the top of the new stack', (h) => {
    const t = h.spawn();
    assert.equal(t.execve(DEFAULT_PROGRAM, ['prog', 'arg1'], ['K=V']), 0);
    const mm = t.task.mm!;
    assert.equal(text(t.load(mm.argStart, mm.argEnd - mm.argStart).data), 'prog\0arg1\0');
    assert.equal(text(t.load(mm.envStart, mm.envEnd - mm.envStart).data), 'K=V\0');
  });

  simTest('a failed execve (ENOENT) leaves the process as it was', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, [5]));
    t.wrpkru(0);
    assert.equal(t.execve('/no/such/file'), -ENOENT);
    assert.deepEqual([...t.load(a).data!], [5]);
    assert.equal(t.rdpkru(), 0);
  });
});

describe('kernel-thread context', () => {
  simTest('a kernel thread has no mm: every VMA is foreign to it and user copies fail', (h) => {
    const t = h.spawn();
    const a = t.mmap(0, PAGE, RW, ANON);
    ok(t.store(a, [1]));
    const k = h.m.init; // pid 1 stands in for init/kthreads in the model: no mm, PF_KTHREAD
    assert.equal(k.kthread, true);
    assert.equal(k.mm, null);
    const vma = t.task.mm!.vmaLookup(a)!;
    h.m.runAs(k, () => {
      // include/linux/mm.h: vma_is_foreign(): current->mm == NULL -> foreign, so no pkey check (GUP-1).
      assert.equal(vmaIsForeign(h.m, vma), true);
      assert.equal(archVmaAccessPermitted(h.m, vma, true, false, false), true);
      // copy_to_user() with no mm: nothing is copied (all bytes "not copied").
      assert.equal(copyToUser(h.m, a, new Uint8Array(8)), 8);
    });
    assert.deepEqual([...t.load(a).data!], [1]);
  });
});
