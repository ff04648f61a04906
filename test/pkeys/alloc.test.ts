// Catalogue family PK-ALLOC: pkey_alloc / pkey_free / pkey_mprotect. Expected outcomes from
// shared/conformance/catalog.md §2, settled by the real-kernel RESULT lines where they differ.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ORACLE_KERNELS, recordedStep } from '../oracle/recorded.js';
import { EINVAL, ENOSPC, ENOSYS, ILL_ILLOPN, SEGV_PKUERR, SIGILL, SIGSEGV } from '../../src/index.js';
import { DEFAULT_PROGRAM } from '../../src/kernel/exec.js';
import {
  AD, INIT_PKRU, MAP_PRIVATE_ANON, MODERN, PAGE, R, RW, RWX, W, WD, X, denyAccess, noSignal, oneSignal, perms, pkTest,
  pkTestEach, setKey, smapsKey,
} from './env.js';

const SKIP = { onReturn: 'skip' as const, flags: 0 };

describe('PK-ALLOC', () => {
  pkTestEach('PK-ALLOC-01: keys handed out lowest first (1..15), key 0 never, then ENOSPC; alloc clears only AD/WD(k)', MODERN, (env) => {
    // RESULT PK-ALLOC-01 successes=15 keys=1,...,15 failures=33 failure_errno=ENOSPC zero_returned=0
    // alloc_clears_AD_WD_only=1 frees_ret0=15/15 (6.1 and 6.12)
    const t = env.spawn();
    const got: number[] = [];
    let fails = 0;
    for (let i = 0; i < 48; i++) {
      const before = t.rdpkru();
      const k = t.pkeyAlloc(0, 0);
      if (k < 0) {
        assert.equal(k, -ENOSPC);
        fails++;
        assert.equal(t.rdpkru(), before, 'a failed pkey_alloc leaves PKRU alone');
        continue;
      }
      assert.notEqual(k, 0);
      assert.equal(t.rdpkru(), setKey(before, k, 0), 'only key k\'s AD/WD change');
      got.push(k);
    }
    assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    assert.equal(fails, 33);
    for (const k of got) assert.equal(t.pkeyFree(k), 0);
  });

  pkTestEach('PK-ALLOC-02: a PROT_EXEC-only mmap takes the execute-only key (1); 14 allocations remain', MODERN, (env) => {
    // RESULT PK-ALLOC-02 exec_only_key=1 pkru_before=0x55555554 pkru_after_mmap=0x55555554 successes=14 keys=2..15 fail_errno=ENOSPC
    const t = env.spawn();
    assert.equal(t.rdpkru(), INIT_PKRU);
    const q = t.mmap(0, PAGE, X, MAP_PRIVATE_ANON);
    assert.ok(q > 0);
    assert.equal(smapsKey(t, q), 1);
    assert.equal(t.rdpkru(), INIT_PKRU);
    const keys: number[] = [];
    for (;;) {
      const k = t.pkeyAlloc(0, 0);
      if (k < 0) {
        assert.equal(k, -ENOSPC);
        break;
      }
      keys.push(k);
    }
    assert.deepEqual(keys, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  });

  pkTestEach('PK-ALLOC-03: the init rights set the caller\'s PKRU; WD: load ok, store PKUERR; AD: both fault', MODERN, (env) => {
    // RESULT PK-ALLOC-03 k=1 pkru_before=0x55555554 pkru_after=0x55555558 k_AD=0 k_WD=1 wd_load=ok
    // wd_store=PKUERR:1 addr_match=1 k2=2 pkru_after_ad_alloc=0x55555558 ad_load=PKUERR:2 ad_store=PKUERR:2
    const t = env.spawn();
    t.sigaction(SIGSEGV, SKIP);
    const k = t.pkeyAlloc(0, WD);
    assert.equal(k, 1);
    assert.equal(t.rdpkru(), 0x55555558);
    const p = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(p, PAGE, RW, k), 0);
    noSignal(t.load(p));
    const s = oneSignal(t.store(p, [1]));
    assert.deepEqual([s.signo, s.code, s.pkey, s.addr], [SIGSEGV, SEGV_PKUERR, 1, p]);
    const k2 = t.pkeyAlloc(0, AD);
    assert.equal(k2, 2);
    assert.equal(t.rdpkru(), 0x55555558, 'key 2 is access-disabled in the default PKRU already');
    const p2 = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(p2, PAGE, RW, k2), 0);
    assert.equal(oneSignal(t.load(p2)).pkey, 2);
    assert.equal(oneSignal(t.store(p2, [1])).pkey, 2);
  });

  pkTestEach('PK-ALLOC-04: pkey_alloc(1, 0) and pkey_alloc(0, 4) fail with EINVAL and leave the bitmap alone', MODERN, (env) => {
    // RESULT PK-ALLOC-04 alloc_flags1=-1:EINVAL alloc_rights4=-1:EINVAL next_valid_alloc=1
    const t = env.spawn();
    assert.equal(t.pkeyAlloc(1, 0), -EINVAL);
    assert.equal(t.pkeyAlloc(0, 4), -EINVAL);
    assert.equal(t.pkeyAlloc(0, 0), 1);
  });

  pkTestEach('PK-ALLOC-05: pkey_free and pkey_mprotect of unallocated keys fail with EINVAL; the VMA keeps its key', MODERN, (env) => {
    // RESULT PK-ALLOC-05 k=1 pkey_free_calls=28 free_einval=28 pkey_mprotect_calls=14 mprotect_einval=14 vma_key_after=1 vma_perms_after=rw-p
    const t = env.spawn();
    const k = t.pkeyAlloc(0, 0);
    const p = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(p, PAGE, RW, k), 0);
    for (let i = 1; i < 16; i++) {
      if (i === k) continue;
      assert.equal(t.pkeyFree(i), -EINVAL);
      assert.equal(t.pkeyFree(i), -EINVAL);
      assert.equal(t.pkeyMprotect(p, PAGE, R, i), -EINVAL);
    }
    assert.equal(smapsKey(t, p), k);
    assert.equal(perms(t, p), 'rw-p');
  });

  pkTestEach('PK-ALLOC-06: out-of-range keys: pkey_mprotect(115), pkey_free(16), pkey_free(-2) give EINVAL', MODERN, (env) => {
    // RESULT PK-ALLOC-06 pkey_mprotect_115=-1:EINVAL pkey_free_16=-1:EINVAL pkey_free_-2=-1:EINVAL
    const t = env.spawn();
    const p = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(p, PAGE, R, 115), -EINVAL);
    assert.equal(t.pkeyFree(16), -EINVAL);
    assert.equal(t.pkeyFree(-2), -EINVAL);
  });

  pkTestEach('PK-ALLOC-08: key 0 is allocated by default and usable with R, W, X, RW, RWX; explicit X keeps key 0', MODERN, (env) => {
    // RESULT PK-ALLOC-08 key0_R=0 ... key0_X=0 key0_X_vma_key=0 key0_X_perms=--xp ... pkru_unchanged=1 back_to_k=0 vma_key=1
    const t = env.spawn();
    const keys: number[] = [];
    for (let k = t.pkeyAlloc(0, 0); k > 0; k = t.pkeyAlloc(0, 0)) keys.push(k);
    for (const k of keys) assert.equal(t.pkeyFree(k), 0);
    const k = t.pkeyAlloc(0, 0);
    const p = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(p, PAGE, RW, k), 0);
    const pkru = t.rdpkru();
    for (const [prot, str] of [[R, 'r--p'], [W, '-w-p'], [X, '--xp'], [RW, 'rw-p'], [RWX, 'rwxp']] as const) {
      assert.equal(t.pkeyMprotect(p, PAGE, prot, 0), 0);
      assert.equal(smapsKey(t, p), 0);
      assert.equal(perms(t, p), str);
    }
    assert.equal(t.rdpkru(), pkru);
    assert.equal(t.pkeyMprotect(p, PAGE, RW, k), 0);
    assert.equal(smapsKey(t, p), k);
  });

  pkTestEach('PK-ALLOC-09: pkey_free(0) succeeds and the next pkey_alloc returns 0', MODERN, (env) => {
    // RESULT PK-ALLOC-09 pkey_free_0=0 next_pkey_alloc=0 pkru_before=0x55555554 pkru_after=0x55555554
    const t = env.spawn();
    assert.equal(t.pkeyFree(0), 0);
    assert.equal(t.pkeyAlloc(0, 0), 0);
    assert.equal(t.rdpkru(), INIT_PKRU);
  });

  pkTestEach('PK-ALLOC-10: freeing an in-use key succeeds; the key is recycled and the new owner\'s rights govern the old memory', MODERN, (env) => {
    // RESULT PK-ALLOC-10 k=1 pkey_free_in_use=0 smaps_key_after_free=1 pkru_after_free=0x55555554
    // load_after_free=PKUERR:1 realloc=1 pkru_after_realloc=0x55555550 load_after_realloc=ok
    const t = env.spawn();
    t.sigaction(SIGSEGV, SKIP);
    const k = t.pkeyAlloc(0, 0);
    const p = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(p, PAGE, RW, k), 0);
    noSignal(t.store(p, [0x73]));
    denyAccess(t, k);
    assert.equal(t.pkeyFree(k), 0);
    assert.equal(smapsKey(t, p), k);
    assert.equal(t.rdpkru(), INIT_PKRU);
    const s = oneSignal(t.load(p));
    assert.deepEqual([s.code, s.pkey], [SEGV_PKUERR, k]);
    assert.equal(t.pkeyAlloc(0, 0), k);
    assert.equal(t.rdpkru(), 0x55555550);
    const r = t.load(p);
    noSignal(r);
    assert.equal(r.data![0], 0x73);
  });

  pkTestEach('PK-ALLOC-11: the execute-only key is invisible to pkey_free, pkey_mprotect and pkey_alloc', MODERN, (env) => {
    // RESULT PK-ALLOC-11 mprotect_exec=0 exec_only_key=1 pkey_free_x=-1:EINVAL pkey_mprotect_x=-1:EINVAL allocs=14 keys=2..15 x_handed_out=0
    const t = env.spawn();
    const q = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    const p = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.mprotect(q, PAGE, X), 0);
    const x = smapsKey(t, q);
    assert.equal(x, 1);
    assert.equal(t.pkeyFree(x), -EINVAL);
    assert.equal(t.pkeyMprotect(p, PAGE, RW, x), -EINVAL);
    const keys: number[] = [];
    for (let k = t.pkeyAlloc(0, 0); k >= 0; k = t.pkeyAlloc(0, 0)) keys.push(k);
    assert.deepEqual(keys, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  });

  pkTestEach('PK-ALLOC-13: execve resets PKRU to init_pkru_value, the allocation map and the execute-only key', MODERN, (env) => {
    // RESULT PK-ALLOC-13 before_exec_pkru=0x00000000 exec_only_key=4 after_exec_pkru=0x55555554 first_alloc=1 allocs=15 fail_errno=ENOSPC
    const t = env.spawn();
    for (let i = 0; i < 3; i++) assert.equal(t.pkeyAlloc(0, 0), i + 1);
    const q = t.mmap(0, PAGE, X, MAP_PRIVATE_ANON);
    assert.equal(smapsKey(t, q), 4);
    t.wrpkru(0);
    assert.equal(t.rdpkru(), 0);
    assert.equal(t.execve(DEFAULT_PROGRAM), 0);
    assert.equal(t.rdpkru(), INIT_PKRU);
    const keys: number[] = [];
    for (let k = t.pkeyAlloc(0, 0); k >= 0; k = t.pkeyAlloc(0, 0)) keys.push(k);
    assert.equal(keys[0], 1);
    assert.equal(keys.length, 15);
    assert.equal(t.pkeyAlloc(0, 0), -ENOSPC);
  });

  // The catalogue's [verify] (the pkey_alloc errno without PKU), settled by the kernels' recorded
  // outcomes of conformance/scenarios/pk-alloc-14.scn, booted with `nopku` (real-kernel oracle).
  test('PK-ALLOC-14 on real 6.1 and 6.12 with nopku (recorded): 6.1 ENOSPC at once, 6.12 EINVAL then ENOSPC', () => {
    const scn = 'conformance/scenarios/pk-alloc-14.scn';
    assert.equal(recordedStep('6.1', scn, 1), 'STEP 1 A pkey_alloc ret=-1 errno=ENOSPC');
    assert.equal(recordedStep('6.12', scn, 1), 'STEP 1 A pkey_alloc ret=-1 errno=EINVAL');
    for (const k of ORACLE_KERNELS) {
      assert.equal(recordedStep(k, scn, 2), 'STEP 2 A pkey_alloc ret=-1 errno=ENOSPC');
      assert.equal(recordedStep(k, scn, 4), 'STEP 4 A pkey_mprotect ret=-1 errno=EINVAL');
      assert.equal(recordedStep(k, scn, 5), 'STEP 5 A pkey_mprotect ret=0');
    }
  });
  for (const [profile, first] of [['linux-6.12', -EINVAL], ['linux-6.1', -ENOSPC]] as const) {
    pkTest(`PK-ALLOC-14: without PKU, pkey_alloc fails (${profile}: ${first === -EINVAL ? 'EINVAL, then ENOSPC' : 'ENOSPC at once'}), pkey_mprotect(key 1) EINVAL, (-1) 0 (as recorded)`,
      { profile, pku: false }, (env) => {
        const t = env.spawn();
        assert.equal(t.pkeyAlloc(0, 0), first);
        assert.equal(t.pkeyAlloc(0, 0), -ENOSPC);
        const p = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
        assert.equal(t.pkeyMprotect(p, PAGE, R, 1), -EINVAL);
        assert.equal(t.pkeyMprotect(p, PAGE, R, -1), 0);
        assert.equal(perms(t, p), 'r--p');
      });
  }

  pkTest('VER-2: before v4.9 the pkey syscalls do not exist (linux-4.6: ENOSYS)', { profile: 'linux-4.6' }, (env) => {
    // VER-2: pkey_alloc/pkey_free/pkey_mprotect were merged in v4.9; a 4.6 kernel has no such syscall.
    const t = env.spawn();
    const p = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyAlloc(0, 0), -ENOSYS);
    assert.equal(t.pkeyFree(1), -ENOSYS);
    assert.equal(t.pkeyMprotect(p, PAGE, R, 0), -ENOSYS);
    assert.equal(t.rdpkru(), 0, 'init PKRU was 0 before v4.9 (OBJ-14, VER-2)');
  });
});

describe('PKRU user-mode steps', () => {
  pkTestEach('glibc pkey_set/pkey_get: EINVAL outside key 0..15 or rights > 3; otherwise a PKRU read-modify-write of this thread only', MODERN, (env) => {
    // glibc sysdeps/unix/sysv/linux/x86/pkey_set.c, pkey_get.c
    const t = env.spawn();
    const other = t.clone() as ReturnType<typeof env.spawn>;
    assert.equal(t.pkeySet(16, 0), -EINVAL);
    assert.equal(t.pkeySet(-1, 0), -EINVAL);
    assert.equal(t.pkeySet(3, 4), -EINVAL);
    assert.equal(t.pkeyGet(16), -EINVAL);
    assert.equal(t.pkeyGet(1), AD);
    assert.equal(t.pkeySet(1, WD), 0);
    assert.equal(t.pkeyGet(1), WD);
    assert.equal(t.rdpkru(), 0x55555558);
    assert.equal(other.rdpkru(), INIT_PKRU);
  });

  pkTestEach('RDPKRU/WRPKRU without CR4.PKE raise #UD: SIGILL (ILL_ILLOPN)', MODERN, (env) => {
    // Intel SDM: RDPKRU/WRPKRU #UD if CR4.PKE = 0; arch/x86/kernel/traps.c: do_error_trap(SIGILL, ILL_ILLOPN).
    const t = env.spawn();
    t.sigaction(SIGILL, SKIP);
    assert.equal(t.rdpkru(), -1);
    t.wrpkru(0);
    assert.deepEqual(t.signals().map((d) => [d.info.signo, d.info.code]), [[SIGILL, ILL_ILLOPN], [SIGILL, ILL_ILLOPN]]);
    const u = env.spawn();
    u.rdpkru();
    assert.equal(u.alive, false, 'SIGILL default action');
  }, { pku: false });
});
