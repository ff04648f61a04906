// Counterparts of the 21 test functions of tools/testing/selftests/mm/protection_keys.c (the
// pkey_tests[] table for x86), with the same set-up (run_tests_once(): alloc_random_pkey(),
// malloc_pkey(), the SIGSEGV handler that zeroes the frame's PKRU) and the same assertions
// (expected_pkey_fault(), do_not_expect_pkey_fault(), pkey_assert()). Our own code and names; the
// mapping table is in docs/pkeys.md. test_mprotect_pkey_on_unsupported_cpu (run only without PKU)
// is included as well.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  EFAULT, ENOSPC, MADV_DONTNEED, O_CREAT, O_RDWR, SA_SIGINFO, SEGV_ACCERR, SEGV_MAPERR, SIGKILL, SIGSEGV,
  type Thread,
} from '../../src/index.js';
import { TEXT_BASE, TEXT_FUNC_OFFSET } from '../../src/kernel/exec.js';
import { PKRU_XSAVE_OFFSET, XSAVE_HEADER, XSAVE_SIZE_PKU } from '../../src/kernel/xstate.js';
import { SEGV_BNDERR } from '../../src/kernel/task.js';
import { AD, MAP_PRIVATE_ANON, MODERN, PAGE, R, RW, RWX, W, WD, X, pkTest, pkTestEach, setKey, u32, type Env } from './env.js';

const NR_PKEYS = 16;
const UNKNOWN_PKEY = -2;
const SI_PKEY_OFFSET = 0x20;
const FUTEX_WAIT = 0;
const SPLICE_F_GIFT = 8;

/** The state protection_keys.c keeps in globals: fault counters, the shadow PKRU, the handler. */
class Selftest {
  pkeyFaults = 0;
  lastPkeyFaults = 0;
  lastSiPkey = -1;
  shadow: number;
  private rng: number;

  constructor(readonly env: Env, readonly t: Thread, seed: number) {
    this.rng = seed;
    // setup_sigsegv_handler(): SA_SIGINFO, the handler returns (the faulting access re-executes).
    t.sigaction(SIGSEGV, {
      onReturn: 'retry', flags: SA_SIGINFO,
      run: (ctx) => {
        // pkey_assert(*pkey_reg_ptr): a pkey fault must have saved a non-zero PKRU.
        assert.notEqual(u32(t.load(ctx.pkruSlot, 4)), 0, 'signal_handler: saved PKRU is 0');
        const code = ctx.info.code;
        assert.ok(code !== SEGV_MAPERR && code !== SEGV_ACCERR && code !== SEGV_BNDERR, 'non-PK si_code, exiting...');
        const siPkey = u32(t.load(ctx.siginfo + SI_PKEY_OFFSET, 4));
        assert.ok(siPkey < NR_PKEYS);
        this.lastSiPkey = siPkey;
        t.store(ctx.pkruSlot, new Uint8Array(8)); // *(u64 *)pkey_reg_ptr = 0
        this.pkeyFaults++;
      },
    });
    this.shadow = t.rdpkru();
  }

  random(): number {
    this.rng = (Math.imul(this.rng, 1103515245) + 12345) >>> 0;
    return this.rng >>> 16;
  }

  private pkeyDisableSet(pkey: number, flags: number): void {
    const rights = this.t.pkeyGet(pkey) | flags;
    assert.equal(this.t.pkeySet(pkey, rights), 0);
    this.shadow = setKey(this.shadow, pkey, rights);
  }
  private pkeyDisableClear(pkey: number, flags: number): void {
    const rights = this.t.pkeyGet(pkey) & ~flags;
    assert.equal(this.t.pkeySet(pkey, rights), 0);
    this.shadow = setKey(this.shadow, pkey, rights);
  }
  writeDeny(k: number): void { this.pkeyDisableSet(k, WD); }
  accessDeny(k: number): void { this.pkeyDisableSet(k, AD); }
  writeAllow(k: number): void { this.pkeyDisableClear(k, WD); }
  accessAllow(k: number): void { this.pkeyDisableClear(k, AD); }

  /** expected_pkey_fault() */
  expectedPkeyFault(pkey: number): void {
    assert.equal(this.pkeyFaults, this.lastPkeyFaults + 1, 'exactly one new pkey fault');
    if (pkey !== UNKNOWN_PKEY) assert.equal(this.lastSiPkey, pkey);
    assert.equal(this.t.rdpkru(), 0, 'the handler cleared PKRU');
    this.t.wrpkru(this.shadow);
    this.lastPkeyFaults = this.pkeyFaults;
    this.lastSiPkey = -1;
  }
  /** do_not_expect_pkey_fault() */
  doNotExpectPkeyFault(msg: string): void {
    assert.equal(this.pkeyFaults, this.lastPkeyFaults, `unexpected PKey fault: ${msg}`);
  }

  /** alloc_pkey(): pkey_alloc(0, 0), reflected in the shadow register. */
  allocPkey(): number {
    const ret = this.t.pkeyAlloc(0, 0);
    if (ret > 0) this.shadow = setKey(this.shadow, ret, 0);
    assert.equal(this.t.rdpkru(), this.shadow, 'read_pkey_reg() shadow check');
    return ret;
  }

  /** alloc_random_pkey(): allocate everything, keep a random one, free the rest. */
  allocRandomPkey(): number {
    const alloced: number[] = [];
    for (let i = 0; i < NR_PKEYS; i++) {
      const k = this.allocPkey();
      if (k < 0) break;
      alloced.push(k);
    }
    assert.ok(alloced.length > 0);
    const idx = this.random() % alloced.length;
    const ret = alloced[idx]!;
    alloced[idx] = 0;
    for (const k of alloced) if (k) assert.equal(this.t.pkeyFree(k), 0);
    return ret;
  }

  /** malloc_pkey_with_mprotect(): mmap then mprotect_pkey() of the first page. */
  mallocPkey(size: number, prot: number, pkey: number): number {
    const ptr = this.t.mmap(0, size, prot, MAP_PRIVATE_ANON);
    assert.ok(ptr > 0);
    assert.equal(this.t.pkeyMprotect(ptr, PAGE, prot, pkey), 0);
    return ptr;
  }

  readPtr(p: number): number {
    return u32(this.t.load(p, 4));
  }
}

type Body = (st: Selftest, ptr: number, pkey: number) => void;

/** run_tests_once() for one test function: fresh process, random key, one keyed page, the body, cleanup. */
function selftest(name: string, body: Body): void {
  pkTestEach(`protection_keys.c: ${name}`, MODERN, (env) => {
    let seed = 0;
    for (const c of name) seed = (seed * 31 + c.charCodeAt(0)) >>> 0;
    const t = env.spawn();
    const st = new Selftest(env, t, seed);
    const pkey = st.allocRandomPkey();
    const ptr = st.mallocPkey(PAGE, RW, pkey);
    body(st, ptr, pkey);
    if (st.t.alive) {
      assert.equal(st.t.munmap(ptr, PAGE), 0);
      st.t.pkeyFree(pkey);
    }
  });
}

const LOTS_O_NOOPS = TEXT_BASE; // a page-aligned function; its second page holds code too
const p1 = LOTS_O_NOOPS + TEXT_FUNC_OFFSET;

function testReadFd(t: Thread): number {
  const fd = t.open('/etc/passwd', O_CREAT | O_RDWR);
  assert.ok(fd >= 0);
  const b = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
  t.store(b, [0x72], 256);
  assert.equal(t.write(fd, b, 256), 256);
  assert.equal(t.lseek(fd, 0, 0), 0);
  assert.equal(t.munmap(b, PAGE), 0);
  return fd;
}

describe('protection_keys.c counterparts', () => {
  selftest('test_read_of_write_disabled_region', (st, ptr, pkey) => {
    st.writeDeny(pkey);
    st.readPtr(ptr);
    st.doNotExpectPkeyFault('read of a write-disabled region'); // the next test's expected_pkey_fault() implies it
  });

  selftest('test_read_of_access_disabled_region', (st, ptr, pkey) => {
    st.accessDeny(pkey);
    st.readPtr(ptr);
    st.expectedPkeyFault(pkey);
  });

  selftest('test_read_of_access_disabled_region_with_page_already_mapped', (st, ptr, pkey) => {
    st.readPtr(ptr);
    st.accessDeny(pkey);
    st.readPtr(ptr);
    st.expectedPkeyFault(pkey);
  });

  selftest('test_write_of_write_disabled_region', (st, ptr, pkey) => {
    st.writeDeny(pkey);
    st.t.store(ptr, [1, 0, 0, 0]);
    st.expectedPkeyFault(pkey);
  });

  selftest('test_write_of_write_disabled_region_with_page_already_mapped', (st, ptr, pkey) => {
    st.t.store(ptr, [1, 0, 0, 0]);
    st.writeDeny(pkey);
    st.t.store(ptr, [2, 0, 0, 0]);
    st.expectedPkeyFault(pkey);
  });

  selftest('test_write_of_access_disabled_region', (st, ptr, pkey) => {
    st.accessDeny(pkey);
    st.t.store(ptr, [1, 0, 0, 0]);
    st.expectedPkeyFault(pkey);
  });

  selftest('test_write_of_access_disabled_region_with_page_already_mapped', (st, ptr, pkey) => {
    st.t.store(ptr, [1, 0, 0, 0]);
    st.accessDeny(pkey);
    st.t.store(ptr, [2, 0, 0, 0]);
    st.expectedPkeyFault(pkey);
  });

  selftest('test_kernel_write_of_access_disabled_region', (st, ptr, pkey) => {
    const fd = testReadFd(st.t);
    st.accessDeny(pkey);
    const ret = st.t.read(fd, ptr, 1);
    assert.notEqual(ret, 0); // pkey_assert(ret)
    assert.equal(ret, -EFAULT); // RESULT PK-KACC-01 read_into_AD=-1:EFAULT
    st.doNotExpectPkeyFault('kernel write');
    assert.equal(st.t.close(fd), 0);
  });

  selftest('test_kernel_write_of_write_disabled_region', (st, ptr, pkey) => {
    const fd = testReadFd(st.t);
    st.writeDeny(pkey);
    const ret = st.t.read(fd, ptr, 100);
    assert.notEqual(ret, 0);
    assert.equal(ret, -EFAULT); // RESULT PK-KACC-02 read_into_WD=-1:EFAULT
    st.doNotExpectPkeyFault('kernel write');
    assert.equal(st.t.close(fd), 0);
  });

  selftest('test_kernel_gup_of_access_disabled_region', (st, ptr, pkey) => {
    const fds = st.t.pipe();
    assert.ok(Array.isArray(fds));
    st.accessDeny(pkey);
    const ret = st.t.vmsplice(fds[1], [{ base: ptr, len: PAGE }], SPLICE_F_GIFT);
    assert.ok(ret < 0, 'pkey_assert(vmsplice_ret == -1)');
    assert.equal(ret, -EFAULT); // RESULT PK-KACC-05 vmsplice_AD_absent=-1:EFAULT
    st.doNotExpectPkeyFault('vmsplice');
    st.t.close(fds[0]);
    st.t.close(fds[1]);
  });

  selftest('test_kernel_gup_write_to_write_disabled_region', (st, ptr, pkey) => {
    const someInt = 1234;
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, someInt, true);
    st.t.store(ptr, b);
    st.writeDeny(pkey);
    // The selftest prints and asserts nothing; real 6.1/6.12: RESULT PK-KACC-06 futex_wait_shared_WD=-1:EFAULT.
    assert.equal(st.t.futexWait(ptr, FUTEX_WAIT, someInt - 1), -EFAULT);
    st.doNotExpectPkeyFault('futex');
  });

  selftest('test_executing_on_unreadable_memory', (st, _ptr, pkey) => {
    const t = st.t;
    assert.equal(t.madvise(p1, PAGE, MADV_DONTNEED), 0); // get_pointer_to_instructions()
    assert.equal(t.exec(p1).signals.length, 0); // lots_o_noops_around_write()
    st.readPtr(p1);
    assert.equal(t.pkeyMprotect(p1, PAGE, X, pkey), 0);
    st.accessDeny(pkey);
    assert.equal(t.madvise(p1, PAGE, MADV_DONTNEED), 0); // make it an instruction fault
    assert.equal(t.exec(p1).signals.length, 0);
    st.doNotExpectPkeyFault('executing on PROT_EXEC memory');
    st.readPtr(p1); // expect_fault_on_read_execonly_key()
    st.expectedPkeyFault(pkey);
    assert.equal(t.pkeyMprotect(p1, PAGE, X | R, pkey), 0);
  });

  selftest('test_implicit_mprotect_exec_only_memory', (st) => {
    const t = st.t;
    assert.equal(t.madvise(p1, PAGE, MADV_DONTNEED), 0);
    assert.equal(t.exec(p1).signals.length, 0);
    st.readPtr(p1);
    assert.equal(t.mprotect(p1, PAGE, X), 0);
    st.shadow = t.rdpkru();
    assert.equal(t.madvise(p1, PAGE, MADV_DONTNEED), 0);
    assert.equal(t.exec(p1).signals.length, 0);
    st.doNotExpectPkeyFault('executing on PROT_EXEC memory');
    st.readPtr(p1);
    st.expectedPkeyFault(UNKNOWN_PKEY);
    assert.equal(t.mprotect(p1, PAGE, 0), 0);
    assert.equal(t.mprotect(p1, PAGE, R | X), 0);
    st.readPtr(p1);
    st.doNotExpectPkeyFault('plain read on recently PROT_EXEC area');
  });

  selftest('test_mprotect_with_pkey_0', (st, ptr, pkey) => {
    assert.equal(st.t.pkeyMprotect(ptr, PAGE, RW, 0), 0);
    assert.equal(st.t.pkeyMprotect(ptr, PAGE, RW, pkey), 0);
  });

  selftest('test_ptrace_of_child', (st, ptr, pkey) => {
    const t = st.t;
    const plain = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    const child = t.fork() as Thread; // fork_lazy_child(): it sleeps
    assert.equal(t.ptraceAttach(child.pid), 0);
    st.accessDeny(pkey);
    st.writeDeny(pkey);
    assert.equal(typeof t.ptracePeek(child.pid, ptr), 'bigint', 'PEEKDATA of the keyed page works');
    st.readPtr(ptr);
    st.expectedPkeyFault(pkey);
    assert.equal(typeof t.ptracePeek(child.pid, plain), 'bigint');
    st.readPtr(plain);
    st.doNotExpectPkeyFault('read plain pointer after ptrace');
    assert.equal(t.ptraceDetach(child.pid), 0);
    assert.equal(t.tgkill(child.tgid, child.pid, SIGKILL), 0);
    assert.equal(child.alive, false);
  });

  selftest('test_pkey_init_state', (st) => {
    const t = st.t;
    const allocated: number[] = [];
    for (let i = 0; i < NR_PKEYS; i++) {
      const k = st.allocPkey();
      if (k >= 0) allocated.push(k);
    }
    // arch_force_pkey_reg_init(): only if every key is allowed (PKRU 0).
    if (t.rdpkru() === 0) {
      const buf = t.mmap(0, 1 << 20, RW, MAP_PRIVATE_ANON);
      assert.equal(t.xsave(buf, 1 << 9).signals.length, 0);
      const bv = t.load(buf + XSAVE_HEADER, 8).data!;
      bv[1] = bv[1]! & ~0x02;
      t.store(buf + XSAVE_HEADER, bv);
      assert.equal(t.xrstor(buf, 1 << 9).signals.length, 0);
      assert.equal(t.munmap(buf, 1 << 20), 0);
    }
    for (let i = 0; i < 10000; i++) assert.equal(t.rdpkru(), st.shadow);
    for (const k of allocated) {
      assert.equal(t.pkeyFree(k), 0);
      assert.equal(t.rdpkru(), st.shadow);
    }
  });

  selftest('test_pkey_syscalls_on_non_allocated_pkey', (st, ptr, pkey) => {
    for (let i = 1; i < NR_PKEYS; i++) {
      if (i === pkey) continue;
      assert.ok(st.t.pkeyFree(i) < 0);
      assert.ok(st.t.pkeyFree(i) < 0);
      assert.ok(st.t.pkeyMprotect(ptr, PAGE, R, i) < 0);
    }
  });

  selftest('test_pkey_syscalls_bad_args', (st, ptr) => {
    assert.ok(st.t.pkeyMprotect(ptr, PAGE, R, NR_PKEYS + 99) < 0);
  });

  selftest('test_pkey_alloc_exhaust', (st) => {
    const allocated: number[] = [];
    let i = 0;
    for (; i < NR_PKEYS * 3; i++) {
      const k = st.allocPkey();
      if (k === -ENOSPC) {
        // failed to allocate
      } else {
        assert.ok(allocated.length < NR_PKEYS, 'successes never exceed the hardware keys');
        assert.ok(k > 0);
        allocated.push(k);
      }
      if (i === NR_PKEYS * 2) {
        // become_child(): the allocation state must survive fork().
        const child = st.t.fork() as Thread;
        st.t.exit(0);
        (st as { t: Thread }).t = st.env.checked(child);
      }
    }
    assert.ok(i >= NR_PKEYS - 1 - 1);
    for (const k of allocated) {
      assert.equal(st.t.pkeyFree(k), 0);
      assert.equal(st.t.rdpkru(), st.shadow);
    }
  });

  selftest('test_pkey_alloc_free_attach_pkey0', (st, ptr) => {
    const alloced: number[] = [];
    for (let i = 0; i < NR_PKEYS; i++) {
      const k = st.allocPkey();
      assert.notEqual(k, 0);
      if (k < 0) break;
      alloced.push(k);
    }
    for (const k of alloced) assert.equal(st.t.pkeyFree(k), 0);
    for (const prot of [R, W, X, RW, RWX]) assert.equal(st.t.pkeyMprotect(ptr, PAGE, prot, 0), 0);
  });

  selftest('test_ptrace_modifies_pkru', (st) => {
    const t = st.t;
    const newPkru = (~t.rdpkru() & ~3) >>> 0;
    const child = t.fork() as Thread; // PTRACE_TRACEME + raise(SIGSTOP)
    assert.equal(t.ptraceAttach(child.pid), 0);
    const xsave = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    const size = XSAVE_SIZE_PKU;
    const get = (): number => {
      t.store(xsave, [0xcc], size);
      assert.equal(t.ptraceXstate(child.pid, false, xsave, size), 0);
      return u32(t.load(xsave + PKRU_XSAVE_OFFSET, 4));
    };
    assert.equal(get(), t.rdpkru());
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, newPkru, true);
    t.store(xsave + PKRU_XSAVE_OFFSET, b);
    assert.equal(t.ptraceXstate(child.pid, true, xsave, size), 0);
    assert.equal(get(), newPkru, 'visible in ptrace before any execution');
    assert.equal(child.rdpkru(), newPkru, 'the tracee sees the new PKRU');
    assert.equal(get(), newPkru, 'visible in ptrace after execution');
    const bv = t.load(xsave + XSAVE_HEADER, 8).data!;
    bv[1] = bv[1]! & ~0x02; // clear XSTATE_BV[PKRU]
    t.store(xsave + XSAVE_HEADER, bv);
    assert.equal(t.ptraceXstate(child.pid, true, xsave, size), 0);
    assert.equal(get(), 0);
    assert.equal(child.rdpkru(), 0, 'the tracee saw PKRU go to 0');
    assert.equal(get(), 0);
    assert.equal(t.ptraceDetach(child.pid), 0);
    child.exit(0);
  });
});

describe('protection_keys.c without PKU', () => {
  for (const profile of MODERN) {
    pkTest(`protection_keys.c: test_mprotect_pkey_on_unsupported_cpu [${profile}]`, { profile, pku: false }, (env) => {
      // main(): !is_pkeys_supported() -> mmap(PROT_NONE) and pkey_mprotect(ptr, PAGE, PROT_READ, 1) < 0.
      const t = env.spawn();
      const ptr = t.mmap(0, PAGE, 0, MAP_PRIVATE_ANON);
      assert.ok(t.pkeyMprotect(ptr, PAGE, R, 1) < 0);
    });
  }
});
