// Catalogue families PK-KACC (§4: the kernel copying to/from the caller's buffers, uaccess under the
// caller's PKRU) and PK-MAP (§7: how VMA operations keep, change or drop a key). PK-KACC-05..08 need
// the GUP consumers (vmsplice, futex, O_DIRECT, io_uring, gup_test) and are tested with them in
// test/gup/consumers.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ORACLE_KERNELS, recordedStep } from '../oracle/recorded.js';
import {
  EFAULT, MADV_DONTNEED, O_CREAT, O_RDWR, SEGV_PKUERR, SIGSEGV, type Thread,
} from '../../src/index.js';
import {
  MAP_FIXED, MAP_PRIVATE_ANON, MODERN, PAGE, R, RW, X, allow, denyAccess, denyWrite, noSignal, oneSignal, pkTestEach,
  smapsKey, smapsKeys, type Env,
} from './env.js';

const SKIP = { onReturn: 'skip' as const, flags: 0 };
const SEEK_CUR = 1;

function s0(env: Env): { t: Thread; k: number; p: number } {
  const t = env.spawn();
  t.sigaction(SIGSEGV, SKIP);
  const k = t.pkeyAlloc(0, 0);
  const p = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
  assert.equal(t.pkeyMprotect(p, PAGE, RW, k), 0);
  return { t, k, p };
}

/** A readable regular file with content (written from a key-0 scratch page), offset back at 0. */
function testFile(t: Thread, path: string, size: number): number {
  const fd = t.open(path, O_CREAT | O_RDWR);
  assert.ok(fd >= 0);
  const buf = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
  noSignal(t.store(buf, [0x61], size));
  assert.equal(t.write(fd, buf, size), size);
  assert.equal(t.lseek(fd, 0, 0), 0);
  assert.equal(t.munmap(buf, PAGE), 0);
  return fd;
}

describe('PK-KACC', () => {
  pkTestEach('PK-KACC-01: read() into an access-disabled buffer: -1 EFAULT, no signal, offset unchanged, page not populated', MODERN, (env) => {
    // RESULT PK-KACC-01 k=1 read_into_AD=-1:EFAULT signal=ok file_offset_after=0 p_present=0
    const { t, k, p } = s0(env);
    const fd = testFile(t, '/tmp/passwd', 200);
    denyAccess(t, k);
    assert.equal(t.read(fd, p, 1), -EFAULT);
    assert.equal(t.signals().length, 0);
    assert.equal(t.lseek(fd, 0, SEEK_CUR), 0);
    assert.equal(t.pte(p), null);
  });

  pkTestEach('PK-KACC-02: read() into a write-disabled buffer: -1 EFAULT, no signal', MODERN, (env) => {
    // RESULT PK-KACC-02 k=1 read_into_WD=-1:EFAULT signal=ok file_offset_after=0 p_present=0
    const { t, k, p } = s0(env);
    const fd = testFile(t, '/tmp/passwd', 200);
    denyWrite(t, k);
    assert.equal(t.read(fd, p, 100), -EFAULT);
    assert.equal(t.signals().length, 0);
    assert.equal(t.lseek(fd, 0, SEEK_CUR), 0);
    assert.equal(t.pte(p), null);
  });

  pkTestEach('PK-KACC-03: write() from an access-disabled buffer: EFAULT, nothing written; from a write-disabled one: 16', MODERN, (env) => {
    // RESULT PK-KACC-03 k=1 a_write_from_AD=-1:EFAULT a_signal=ok a_pipe_bytes=0 b_write_from_WD=16 b_signal=ok b_pipe_bytes=16
    const { t, k, p } = s0(env);
    noSignal(t.store(p, [0x42], 16));
    const fds = t.pipe();
    assert.ok(Array.isArray(fds));
    const [rfd, wfd] = fds;
    const out = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    denyAccess(t, k);
    assert.equal(t.write(wfd, p, 16), -EFAULT);
    allow(t, k);
    denyWrite(t, k);
    assert.equal(t.write(wfd, p, 16), 16);
    assert.equal(t.signals().length, 0);
    assert.equal(t.read(rfd, out, PAGE), 16, 'only the second write reached the pipe');
  });

  pkTestEach('UA-4: a copy crossing from an allowed page into a denied one returns the bytes done (partial read)', MODERN, (env) => {
    // SEMANTICS UA-3/UA-4: copy_to_user() stops at the first inaccessible page; read(2) returns the
    // bytes transferred when > 0. (Model rule [D]: page-granular.)
    const t = env.spawn();
    t.sigaction(SIGSEGV, SKIP);
    const k = t.pkeyAlloc(0, 0);
    const buf = t.mmap(0, 2 * PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(buf + PAGE, PAGE, RW, k), 0);
    const fd = testFile(t, '/tmp/data', 3000);
    denyAccess(t, k);
    assert.equal(t.read(fd, buf + PAGE - 1000, 3000), 1000);
    assert.equal(t.lseek(fd, 0, SEEK_CUR), 1000);
    assert.equal(t.signals().length, 0);
  });
});

describe('PK-MAP', () => {
  pkTestEach('PK-MAP-01: pkey_mprotect of the middle page splits the VMA: keys 0, k, 0 in smaps', MODERN, (env) => {
    // RESULT PK-MAP-01 k=1 pkey_mprotect=0 vmas=3 keys=0,1,0
    const t = env.spawn();
    const k = t.pkeyAlloc(0, 0);
    const m = t.mmap(0, 3 * PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(m + PAGE, PAGE, RW, k), 0);
    assert.deepEqual(smapsKeys(t, m, m + 3 * PAGE).map((v) => v[2]), [0, 1, 0]);
  });

  pkTestEach('PK-MAP-02: plain mprotect keeps the VMA\'s key', MODERN, (env) => {
    // RESULT PK-MAP-02 k=1 mprotect_R=0 key_after_R=1 mprotect_RW=0 key_after_RW=1 load=PKUERR:1
    const { t, k, p } = s0(env);
    assert.equal(t.mprotect(p, PAGE, R), 0);
    assert.equal(smapsKey(t, p), k);
    assert.equal(t.mprotect(p, PAGE, RW), 0);
    assert.equal(smapsKey(t, p), k);
    denyAccess(t, k);
    const s = oneSignal(t.load(p));
    assert.deepEqual([s.code, s.pkey], [SEGV_PKUERR, k]);
  });

  // The catalogue's [verify] (the source against mprotect(2)), settled by the kernels' recorded
  // outcomes of conformance/scenarios/pk-map.scn: the source is right, the user key 1 is replaced by
  // the execute-only key 2 and PKRU stays 0x55555550.
  test('PK-MAP-03 on real 6.1 and 6.12 (recorded): mprotect(PROT_EXEC) of a key-1 VMA gives key 2', () => {
    for (const k of ORACLE_KERNELS) {
      assert.equal(recordedStep(k, 'conformance/scenarios/pk-map.scn', 17), 'STEP 17 A mprotect ret=0');
      assert.equal(recordedStep(k, 'conformance/scenarios/pk-map.scn', 18), 'STEP 18 A vma ret=0 start=$p end=$p+0x1000 perms=--xp pkey=2');
      assert.equal(recordedStep(k, 'conformance/scenarios/pk-map.scn', 20), 'STEP 20 A rdpkru ret=0x55555550');
    }
  });
  pkTestEach('PK-MAP-03: plain mprotect(PROT_EXEC) replaces a user key with the execute-only key (as recorded on 6.1/6.12)', MODERN, (env) => {
    const { t, p } = s0(env);
    const before = t.rdpkru();
    assert.equal(before, 0x55555550);
    assert.equal(t.mprotect(p, PAGE, X), 0);
    assert.equal(smapsKey(t, p), 2);
    assert.equal(t.rdpkru(), before);
    const q = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.mprotect(q, PAGE, X), 0);
    assert.equal(smapsKey(t, q), 2);
  });

  pkTestEach('PK-MAP-05: MAP_FIXED over a keyed page, or munmap + mmap at the same hint, gives key 0 and zeroed memory', MODERN, (env) => {
    // RESULT PK-MAP-05 k=1 map_fixed_same_addr=1 map_fixed_key=0 map_fixed_load=ok map_fixed_value=0
    // munmap_mmap_hint_same_addr=1 remap_key=0 remap_load=ok remap_value=0
    const { t, k, p } = s0(env);
    allow(t, k);
    noSignal(t.store(p, [7]));
    denyAccess(t, k);
    assert.equal(t.mmap(p, PAGE, RW, MAP_PRIVATE_ANON | MAP_FIXED), p);
    assert.equal(smapsKey(t, p), 0);
    let r = t.load(p);
    noSignal(r);
    assert.equal(r.data![0], 0);
    assert.equal(t.pkeyMprotect(p, PAGE, RW, k), 0);
    assert.equal(t.munmap(p, PAGE), 0);
    assert.equal(t.mmap(p, PAGE, RW, MAP_PRIVATE_ANON), p);
    assert.equal(smapsKey(t, p), 0);
    r = t.load(p);
    noSignal(r);
    assert.equal(r.data![0], 0);
  });

  pkTestEach('PK-MAP-06: madvise(MADV_DONTNEED) ignores PKRU and discards the keyed private data', MODERN, (env) => {
    // RESULT PK-MAP-06 k=1 madvise_dontneed_under_AD=0 load=ok value=0
    const { t, k, p } = s0(env);
    allow(t, k);
    noSignal(t.store(p, [9]));
    denyAccess(t, k);
    assert.equal(t.madvise(p, PAGE, MADV_DONTNEED), 0);
    allow(t, k);
    const r = t.load(p);
    noSignal(r);
    assert.equal(r.data![0], 0);
  });

  pkTestEach('PK-MAP-08: pkey_mprotect(PROT_EXEC, k) keeps k (no execute-only substitution) and leaves PKRU alone', MODERN, (env) => {
    // RESULT PK-MAP-08 k=1 pkey_mprotect_exec=0 key=1 pkru_before=0x55555550 pkru_after=0x55555550
    const { t, k } = s0(env);
    const q = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    const before = t.rdpkru();
    assert.equal(t.pkeyMprotect(q, PAGE, X, k), 0);
    assert.equal(smapsKey(t, q), k);
    assert.equal(t.rdpkru(), before);
  });

  pkTestEach('OBJ-10: PTE key bits follow the VMA\'s key through mprotect of present pages', MODERN, (env) => {
    // SEMANTICS OBJ-10: change_protection() rewrites present PTEs, including bits 59..62.
    const t = env.spawn();
    const k = t.pkeyAlloc(0, 0);
    const p = t.mmap(0, 2 * PAGE, RW, MAP_PRIVATE_ANON);
    noSignal(t.store(p, [1], 2 * PAGE));
    assert.deepEqual([t.pte(p)!.pkey, t.pte(p + PAGE)!.pkey], [0, 0]);
    assert.equal(t.pkeyMprotect(p + PAGE, PAGE, RW, k), 0);
    assert.deepEqual([t.pte(p)!.pkey, t.pte(p + PAGE)!.pkey], [0, k]);
    assert.equal(t.pkeyMprotect(p, 2 * PAGE, R, 0), 0);
    assert.deepEqual([t.pte(p)!.pkey, t.pte(p + PAGE)!.pkey], [0, 0]);
  });
});
