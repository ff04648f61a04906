// Catalogue family PK-SIG (catalog.md §6): signal delivery, the signal frame's PKRU, sigreturn and
// the alternate signal stack, per profile; plus sigaltstack(2)'s argument rules (kernel/signal.c:
// do_sigaltstack()). Outcomes from the real-kernel RESULT lines where they exist.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  EFAULT, EINVAL, ENOMEM, EPERM, ESRCH, MINSIGSTKSZ, SA_ONSTACK, SA_SIGINFO, SEGV_MAPERR, SEGV_PKUERR, SIGSEGV, SIGUSR1,
  SIGUSR2, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, type SigHandlerContext, type Thread,
} from '../../src/index.js';
import { DEFAULT_PROGRAM } from '../../src/kernel/exec.js';
import { encodeStackT, decodeStackT, STACK_T_SIZE } from '../../src/kernel/sigaltstack.js';
import {
  AD, INIT_PKRU, MAP_PRIVATE_ANON, MODERN, PAGE, RW, RWX, allow, denyAccess, hex, noSignal, oneSignal, pkTest,
  pkTestEach, u32, warmStack, type Env,
} from './env.js';

const SKIP = { onReturn: 'skip' as const, flags: 0 };
const PTHREAD_STACK_MIN = 16384;

/** sigaltstack(ss) through a stack_t written to a scratch page. */
function setAltstack(t: Thread, ss: { sp: number; size: number; flags: number }, scratch: number): number {
  noSignal(t.store(scratch, encodeStackT(ss)));
  return t.sigaltstack(scratch, 0);
}

function readOldAltstack(t: Thread, scratch: number): { sp: number; size: number; flags: number } {
  assert.equal(t.sigaltstack(0, scratch), 0);
  const r = t.load(scratch, STACK_T_SIZE);
  noSignal(r);
  return decodeStackT(r.data!);
}

/** A thread started with clone() on its own stack (a fresh mmap, optionally keyed). */
function threadOnStack(env: Env, t: Thread, stack: number, size: number): Thread {
  const c = t.clone() as Thread;
  c.setStackPointer(stack + size - 64);
  env.check('clone');
  return c;
}

describe('PK-SIG', () => {
  pkTestEach('PK-SIG-01: the handler runs with the default PKRU, its load of the allowed key faults, and sigreturn restores the interrupted PKRU', MODERN, (env) => {
    // RESULT PK-SIG-01 k=1 pkru_set=0x55555550 pkru_in_handler=0x55555554 handler_load=PKUERR:1
    // pkru_after_return=0x55555550 load_after=ok handler_fault_pkey=1
    const t = env.spawn();
    warmStack(t);
    const k = t.pkeyAlloc(0, 0);
    const p = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(p, PAGE, RW, k), 0);
    assert.equal(hex(t.rdpkru()), '0x55555550');
    t.sigaction(SIGSEGV, SKIP);
    let inHandler = -1;
    let handlerFaultPkey = -1;
    t.sigaction(SIGUSR1, {
      onReturn: 'retry', flags: SA_SIGINFO,
      run: () => {
        inHandler = t.rdpkru();
        const r = t.load(p);
        handlerFaultPkey = oneSignal(r).code === SEGV_PKUERR ? oneSignal(r).pkey! : -1;
      },
    });
    assert.equal(t.raise(SIGUSR1), 0);
    assert.equal(hex(inHandler), hex(INIT_PKRU));
    assert.equal(handlerFaultPkey, 1);
    assert.equal(hex(t.rdpkru()), '0x55555550');
    noSignal(t.load(p));
  });

  pkTest('PK-SIG-01 (linux-4.6): before v4.9 the init state, and so the handler\'s PKRU, was 0', { profile: 'linux-4.6' }, (env) => {
    // Catalogue PK-SIG-01 Versions: ">= 4.9 (restrictive default); earlier PKU kernels used 0"; SEMANTICS PK-15.
    const t = env.spawn();
    warmStack(t);
    t.wrpkru(0x0000000c);
    let inHandler = -1;
    t.sigaction(SIGUSR1, { onReturn: 'retry', flags: 0, run: () => { inHandler = t.rdpkru(); } });
    assert.equal(t.raise(SIGUSR1), 0);
    assert.equal(inHandler, 0);
    assert.equal(hex(t.rdpkru()), '0x0000000c');
  });

  pkTestEach('PK-SIG-02: PKRU is restored exactly on sigreturn (0x55551514)', MODERN, (env) => {
    // RESULT PK-SIG-02 pkru_set=0x55551514 si_signo=10 pkru_in_handler=0x55555554 pkru_after=0x55551514
    // (TCG, not AMD: the AMD-only VER-21 bug is out of scope, see docs/pkeys.md)
    const t = env.spawn();
    warmStack(t);
    let signo = 0;
    let inHandler = -1;
    t.sigaction(SIGUSR1, {
      onReturn: 'retry', flags: SA_SIGINFO,
      run: (ctx) => {
        signo = new DataView(t.load(ctx.siginfo, 4).data!.buffer).getInt32(0, true);
        inHandler = t.rdpkru();
      },
    });
    t.wrpkru(0x55551514);
    assert.equal(t.raise(SIGUSR1), 0);
    assert.equal(signo, SIGUSR1);
    assert.equal(hex(inHandler), hex(INIT_PKRU));
    assert.equal(hex(t.rdpkru()), '0x55551514');
  });

  // PK-SIG-04..07: VER-20. 6.12: RESULT PK-SIG-04 handler_ran=1 si_signo=11 si_code=MAPERR si_addr=(nil) si_pkey=-1
  // handler_pkru=0x55555554 process=survived. 6.1: RESULT PK-SIG-04 process=killed_by_SIGSEGV.
  for (const profile of MODERN) {
    const survives = profile === 'linux-6.12';
    pkTest(`PK-SIG-04: a SIGSEGV handler is delivered although the thread disabled key 0, its stack's key [${profile}: ${survives ? 'handler runs' : 'process killed'}]`,
      { profile }, (env) => {
        const main = env.spawn();
        const stack = main.mmap(0, PTHREAD_STACK_MIN, RW, MAP_PRIVATE_ANON);
        let got: { code: number; addr: number | undefined; pkru: number } | null = null;
        main.sigaction(SIGSEGV, {
          onReturn: 'exit', flags: SA_SIGINFO,
          run: (ctx: SigHandlerContext) => { got = { code: ctx.info.code, addr: ctx.info.addr, pkru: ctx.handlerPkru }; },
        });
        const th = threadOnStack(env, main, stack, PTHREAD_STACK_MIN);
        th.wrpkru(0x55555555);
        const r = th.store(0, [1]);
        if (survives) {
          assert.deepEqual(got, { code: SEGV_MAPERR, addr: 0, pkru: INIT_PKRU });
          assert.equal(r.killed, false);
          assert.equal(th.alive, false, 'the handler exited the thread');
          assert.ok(main.alive, 'the process survived');
        } else {
          assert.equal(got, null, 'the handler never ran');
          assert.equal(r.killed, true);
          assert.equal(main.alive, false);
          assert.equal(main.task.group.exitSignal, SIGSEGV);
        }
      });

    pkTest(`PK-SIG-05: the fault is the stack access itself (key 0 denied): PKUERR si_pkey 0 [${profile}: ${survives ? 'handler runs' : 'process killed'}]`,
      { profile }, (env) => {
        // 6.12: RESULT PK-SIG-05 handler_ran=1 si_signo=11 si_code=PKUERR si_addr=<stack slot> si_pkey=0 process=survived
        // 6.1:  RESULT PK-SIG-05 process=killed_by_SIGSEGV
        const main = env.spawn();
        const stack = main.mmap(0, PTHREAD_STACK_MIN, RW, MAP_PRIVATE_ANON);
        let got: { code: number; pkey: number | undefined; addr: number | undefined } | null = null;
        main.sigaction(SIGSEGV, {
          onReturn: 'exit', flags: SA_SIGINFO,
          run: (ctx) => { got = { code: ctx.info.code, pkey: ctx.info.pkey, addr: ctx.info.addr }; },
        });
        const th = threadOnStack(env, main, stack, PTHREAD_STACK_MIN);
        noSignal(th.store(th.sp, [0], 8)); // the return address the thread will pop
        th.wrpkru(0x55555555);
        const slot = th.sp;
        const r = th.load(slot, 8); // "return": pop from the key-0 stack
        if (survives) {
          assert.deepEqual(got, { code: SEGV_PKUERR, pkey: 0, addr: slot });
          assert.ok(main.alive);
        } else {
          assert.equal(got, null);
          assert.equal(r.killed, true);
          assert.equal(main.alive, false);
        }
      });

    pkTest(`PK-SIG-06: thread stack on key 1, altstack on key 0, PKRU allows only key 1 [${profile}: ${survives ? 'handler runs on the altstack' : 'process killed'}]`,
      { profile }, (env) => {
        // 6.12: RESULT PK-SIG-06 k1=1 main_pkru=0x55555550 thread_pkru=0x55555551 clone=1 handler_ran=1
        // si_code=MAPERR si_addr=(nil) handler_pkru=0x55555554 handler_on_altstack=1 process=survived
        // 6.1:  RESULT PK-SIG-06 process=killed_by_SIGSEGV
        const main = env.spawn();
        main.wrpkru(0x55555550);
        const k1 = main.pkeyAlloc(0, 0);
        assert.equal(k1, 1);
        const stack = main.mmap(0, PTHREAD_STACK_MIN, RW, MAP_PRIVATE_ANON);
        assert.equal(main.pkeyMprotect(stack, PTHREAD_STACK_MIN, RW, k1), 0);
        const alt = main.mmap(0, PTHREAD_STACK_MIN, RWX, MAP_PRIVATE_ANON);
        let got: { code: number; addr: number | undefined; pkru: number; onAlt: boolean; frameInAlt: boolean } | null = null;
        main.sigaction(SIGSEGV, {
          onReturn: 'exit', flags: SA_SIGINFO | SA_ONSTACK,
          run: (ctx) => {
            got = { code: ctx.info.code, addr: ctx.info.addr, pkru: ctx.handlerPkru, onAlt: ctx.onAltStack,
              frameInAlt: ctx.frame >= alt && ctx.frame < alt + PTHREAD_STACK_MIN };
          },
        });
        const th = threadOnStack(env, main, stack, PTHREAD_STACK_MIN);
        // sigaltstack() reads its stack_t from the thread's own (key 1) stack.
        assert.equal(setAltstack(th, { sp: alt, size: PTHREAD_STACK_MIN, flags: 0 }, th.sp - 64), 0);
        th.wrpkru(0x55555551);
        const r = th.store(0, [1]);
        if (survives) {
          assert.deepEqual(got, { code: SEGV_MAPERR, addr: 0, pkru: INIT_PKRU, onAlt: true, frameInAlt: true });
          assert.ok(main.alive);
        } else {
          assert.equal(got, null);
          assert.equal(r.killed, true);
          assert.equal(main.alive, false);
        }
      });

    pkTest(`PK-SIG-07: sigreturn restores the altstack before a restrictive PKRU; the thread resumes on its keyed stack [${profile}: ${survives ? 'survives' : 'process killed'}]`,
      { profile }, (env) => {
        // 6.12: RESULT PK-SIG-07 k=1 thread_pkru=0x55555551 handler_ran=1 handler_pkru=0x55555554 pipe_got=HMSGSTK process=survived
        // 6.1:  RESULT PK-SIG-07 process=killed_by_SIGSEGV
        // (the real run used key 1 for the thread stack; the catalogue's key-2 variant is equivalent)
        const main = env.spawn();
        main.wrpkru(0x55555550);
        const k = main.pkeyAlloc(0, 0);
        const stack = main.mmap(0, PTHREAD_STACK_MIN, RW, MAP_PRIVATE_ANON);
        assert.equal(main.pkeyMprotect(stack, PTHREAD_STACK_MIN, RW, k), 0);
        const alt = main.mmap(0, PTHREAD_STACK_MIN, RW, MAP_PRIVATE_ANON);
        let handlerPkru = -1;
        main.sigaction(SIGUSR2, { onReturn: 'retry', flags: SA_ONSTACK, run: (ctx) => { handlerPkru = ctx.handlerPkru; } });
        const th = threadOnStack(env, main, stack, PTHREAD_STACK_MIN);
        assert.equal(setAltstack(th, { sp: alt, size: PTHREAD_STACK_MIN, flags: 0 }, th.sp - 64), 0);
        th.wrpkru(0x55555551);
        assert.equal(th.raise(SIGUSR2), 0);
        if (survives) {
          assert.equal(hex(handlerPkru), hex(INIT_PKRU));
          assert.equal(hex(th.rdpkru()), '0x55555551');
          noSignal(th.store(th.sp - 32, [0x48], 8), 'the thread writes its message from its stack');
          const alt2 = th.sigaltstack(0, 0);
          assert.equal(alt2, 0);
          assert.ok(main.alive);
          th.exitThread(0);
          assert.equal(main.tgkill(main.tgid, th.pid, 0), -ESRCH);
        } else {
          assert.equal(handlerPkru, -1);
          assert.equal(main.alive, false);
        }
      });
  }

  pkTestEach('PK-SIG-08: a pkey fault inside the SIGSEGV handler (SIGSEGV blocked) kills the process', MODERN, (env) => {
    // RESULT PK-SIG-08 handler_entered=1 handler_pkru=0x55555554 k=1 child=sig:11
    const t = env.spawn();
    warmStack(t);
    const k = t.pkeyAlloc(0, 0);
    const p = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(p, PAGE, RW, k), 0);
    let entered = false;
    let handlerPkru = -1;
    t.sigaction(SIGSEGV, { onReturn: 'retry', flags: SA_SIGINFO, run: () => { entered = true; handlerPkru = t.rdpkru(); t.load(p); } });
    noSignal(t.load(p), 'the thread\'s own PKRU allows k');
    const r = t.store(0, [1]);
    assert.ok(entered);
    assert.equal(hex(handlerPkru), hex(INIT_PKRU));
    assert.equal(r.killed, true);
    assert.equal(t.alive, false);
    assert.equal(t.task.group.exitSignal, SIGSEGV);
  });

  pkTestEach('PK-SIG-10: fork and clone inherit PKRU; execve resets it', MODERN, (env) => {
    // RESULT PK-SIG-10 v=0xd5555558 fork_child=0xd5555558 pthread=0xd5555558 after_execve=0x55555554
    const t = env.spawn();
    t.wrpkru(0xd5555558);
    const child = t.fork() as Thread;
    assert.equal(hex(child.rdpkru()), '0xd5555558');
    const th = t.clone() as Thread;
    assert.equal(hex(th.rdpkru()), '0xd5555558');
    assert.equal(child.execve(DEFAULT_PROGRAM), 0);
    assert.equal(hex(child.rdpkru()), hex(INIT_PKRU));
  });

  pkTestEach('PK-SIG-11: the PKRU saved in a pkey-fault frame is the faulting context\'s value w', MODERN, (env) => {
    // RESULT PK-SIG-11 k=1 w=0x75555554 load=PKUERR:1 frame_pkru=0x75555554 frame_xstate_bv9=1 handler_pkru=0x55555554
    const t = env.spawn();
    warmStack(t);
    const k = t.pkeyAlloc(0, 0);
    const p = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(p, PAGE, RW, k), 0);
    let slot = -1;
    let bv9 = -1;
    t.sigaction(SIGSEGV, {
      onReturn: 'skip', flags: SA_SIGINFO,
      run: (ctx) => {
        slot = u32(t.load(ctx.pkruSlot, 4));
        bv9 = (t.load(ctx.fpstate + 513, 1).data![0]! >> 1) & 1;
      },
    });
    t.wrpkru(0x75555554);
    const r = t.load(p);
    assert.equal(oneSignal(r).pkey, k);
    assert.equal(hex(slot), '0x75555554');
    assert.equal(bv9, 1);
    assert.equal(hex(r.signals[0]!.handlerPkru!), hex(INIT_PKRU));
    assert.equal(hex(t.rdpkru()), '0x75555554', 'skip returns through sigreturn: the frame PKRU comes back');
  });
});

describe('sigaltstack(2) and frame placement', () => {
  pkTestEach('sigaltstack: EINVAL for an unknown mode, ENOMEM below MINSIGSTKSZ, SS_DISABLE clears it, oss reports the old one', MODERN, (env) => {
    // kernel/signal.c: do_sigaltstack()
    const t = env.spawn();
    const scratch = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    const alt = t.mmap(0, 4 * PAGE, RW, MAP_PRIVATE_ANON);
    assert.deepEqual(readOldAltstack(t, scratch + 64), { sp: 0, size: 0, flags: SS_DISABLE });
    assert.equal(setAltstack(t, { sp: alt, size: 4 * PAGE, flags: 4 }, scratch), -EINVAL);
    assert.equal(setAltstack(t, { sp: alt, size: MINSIGSTKSZ - 1, flags: 0 }, scratch), -ENOMEM);
    assert.equal(setAltstack(t, { sp: alt, size: MINSIGSTKSZ, flags: 0 }, scratch), 0);
    assert.deepEqual(readOldAltstack(t, scratch + 64), { sp: alt, size: MINSIGSTKSZ, flags: 0 });
    assert.equal(setAltstack(t, { sp: alt, size: 4 * PAGE, flags: SS_ONSTACK }, scratch), 0, 'SS_ONSTACK is accepted as a mode');
    assert.equal(setAltstack(t, { sp: 0x1234, size: 1, flags: SS_DISABLE }, scratch), 0);
    assert.deepEqual(readOldAltstack(t, scratch + 64), { sp: 0, size: 0, flags: SS_DISABLE });
    assert.equal(t.sigaltstack(0, 0), 0, 'both NULL: nothing to do');
  });

  pkTestEach('sigaltstack: EFAULT for unmapped or pkey-denied stack_t buffers (copy_from_user/copy_to_user under PKRU), no signal', MODERN, (env) => {
    const t = env.spawn();
    t.sigaction(SIGSEGV, SKIP);
    const k = t.pkeyAlloc(0, 0);
    const buf = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    noSignal(t.store(buf, encodeStackT({ sp: buf, size: PAGE, flags: 0 })));
    assert.equal(t.pkeyMprotect(buf, PAGE, RW, k), 0);
    denyAccess(t, k);
    assert.equal(t.sigaltstack(buf, 0), -EFAULT);
    assert.equal(t.sigaltstack(0, buf), -EFAULT);
    assert.equal(t.sigaltstack(0x1000, 0), -EFAULT);
    assert.equal(t.signals().length, 0);
    allow(t, k);
    assert.equal(t.sigaltstack(buf, 0), 0);
  });

  pkTestEach('sigaltstack: EPERM while running on the altstack; oss then reports SS_ONSTACK', MODERN, (env) => {
    const t = env.spawn();
    warmStack(t);
    const alt = t.mmap(0, 4 * PAGE, RW, MAP_PRIVATE_ANON);
    const scratch = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(setAltstack(t, { sp: alt, size: 4 * PAGE, flags: 0 }, scratch), 0);
    let eperm = 0;
    let old: { sp: number; size: number; flags: number } | null = null;
    t.sigaction(SIGUSR1, {
      onReturn: 'retry', flags: SA_ONSTACK,
      run: () => {
        noSignal(t.store(scratch, encodeStackT({ sp: alt, size: 2 * PAGE, flags: 0 })));
        eperm = t.sigaltstack(scratch, 0);
        old = readOldAltstack(t, scratch + 64);
      },
    });
    assert.equal(t.raise(SIGUSR1), 0);
    assert.equal(eperm, -EPERM);
    assert.deepEqual(old, { sp: alt, size: 4 * PAGE, flags: SS_ONSTACK });
    assert.deepEqual(readOldAltstack(t, scratch + 64), { sp: alt, size: 4 * PAGE, flags: 0 });
  });

  pkTestEach('SS_AUTODISARM: the altstack is disarmed while the handler runs and restored by sigreturn', MODERN, (env) => {
    // kernel/signal.c: __save_altstack() + sas_ss_reset() when SS_AUTODISARM; restore_altstack() in rt_sigreturn.
    const t = env.spawn();
    warmStack(t);
    const alt = t.mmap(0, 4 * PAGE, RW, MAP_PRIVATE_ANON);
    const scratch = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(setAltstack(t, { sp: alt, size: 4 * PAGE, flags: SS_AUTODISARM }, scratch), 0);
    let inside: { sp: number; size: number; flags: number } | null = null;
    t.sigaction(SIGUSR1, { onReturn: 'retry', flags: SA_ONSTACK, run: () => { inside = readOldAltstack(t, scratch + 64); } });
    assert.equal(t.raise(SIGUSR1), 0);
    assert.deepEqual(inside, { sp: 0, size: 0, flags: SS_DISABLE });
    assert.deepEqual(readOldAltstack(t, scratch + 64), { sp: alt, size: 4 * PAGE, flags: SS_AUTODISARM });
  });

  pkTest('SS_AUTODISARM did not exist in v4.6 (added in v4.7): EINVAL', { profile: 'linux-4.6' }, (env) => {
    const t = env.spawn();
    const alt = t.mmap(0, 4 * PAGE, RW, MAP_PRIVATE_ANON);
    const scratch = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(setAltstack(t, { sp: alt, size: 4 * PAGE, flags: SS_AUTODISARM }, scratch), -EINVAL);
  });

  pkTestEach('an altstack keyed with a key the interrupted PKRU denies (SEMANTICS Appendix A item 6)', MODERN, (env, profile) => {
    // PK-13 / PK-15: 6.12 writes the frame with PKRU 0, the handler sees init_pkru_value, sigreturn restores
    // the interrupted PKRU; before 6.12 the frame write fails and SIGSEGV (fatal for a SIGSEGV delivery) follows.
    const t = env.spawn();
    warmStack(t);
    const k = t.pkeyAlloc(0, 0);
    const alt = t.mmap(0, 4 * PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(alt, 4 * PAGE, RW, k), 0);
    const scratch = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(setAltstack(t, { sp: alt, size: 4 * PAGE, flags: 0 }, scratch), 0);
    let handler = -1;
    let framePkru = -1;
    t.sigaction(SIGUSR1, {
      onReturn: 'retry', flags: SA_ONSTACK,
      run: (ctx) => {
        handler = ctx.handlerPkru;
        // The handler itself must enable the altstack's key before touching its frame (the kernel comment).
        t.wrpkru(0);
        framePkru = u32(t.load(ctx.pkruSlot, 4));
        t.wrpkru(ctx.handlerPkru);
      },
    });
    denyAccess(t, k);
    const interrupted = t.rdpkru();
    assert.equal(interrupted & (AD << (2 * k)), AD << (2 * k));
    assert.equal(t.raise(SIGUSR1), 0);
    const d = t.signals().find((x) => x.info.signo === SIGUSR1)!;
    if (profile === 'linux-6.12') {
      assert.equal(hex(handler), hex(INIT_PKRU));
      assert.equal(hex(framePkru), hex(interrupted));
      // sigreturn reads the frame from the altstack with the handler's PKRU (init: k denied): a bad
      // frame, force_sig(SIGSEGV), default action.
      assert.equal(d.outcome, 'killed');
      assert.equal(t.alive, false);
    } else {
      assert.equal(handler, -1);
      assert.equal(d.frameFailed, true);
      assert.equal(d.replacedBy?.info.signo, SIGSEGV);
      assert.equal(t.alive, false, 'SIGSEGV (default action) after the failed SIGUSR1 frame');
    }
  });

  pkTestEach('a handler that enables the altstack key returns cleanly through sigreturn', MODERN, (env, profile) => {
    const t = env.spawn();
    warmStack(t);
    const k = t.pkeyAlloc(0, 0);
    const alt = t.mmap(0, 4 * PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(alt, 4 * PAGE, RW, k), 0);
    const scratch = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(setAltstack(t, { sp: alt, size: 4 * PAGE, flags: 0 }, scratch), 0);
    t.sigaction(SIGUSR1, { onReturn: 'retry', flags: SA_ONSTACK, run: () => allow(t, k) });
    denyAccess(t, k);
    const interrupted = t.rdpkru();
    assert.equal(t.raise(SIGUSR1), 0);
    if (profile === 'linux-6.12') {
      assert.ok(t.alive);
      assert.equal(hex(t.rdpkru()), hex(interrupted));
    } else {
      assert.equal(t.alive, false, 'before 6.12 the frame cannot be written at all');
    }
  });

  pkTestEach('VER-20 sigreturn order: a frame PKRU that denies the altstack\'s key is harmless on 6.12, a bad frame before', MODERN, (env, profile) => {
    // arch/x86/kernel/signal_64.c rt_sigreturn: v6.12 calls restore_altstack() before restore_sigcontext();
    // before, restore_sigcontext() (PKRU := frame value) ran first and restore_altstack() then read
    // frame->uc.uc_stack from the altstack under the restored PKRU -> badframe -> force_sig(SIGSEGV).
    const t = env.spawn();
    warmStack(t);
    const k = t.pkeyAlloc(0, 0);
    const alt = t.mmap(0, 4 * PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(t.pkeyMprotect(alt, 4 * PAGE, RW, k), 0);
    const scratch = t.mmap(0, PAGE, RW, MAP_PRIVATE_ANON);
    assert.equal(setAltstack(t, { sp: alt, size: 4 * PAGE, flags: 0 }, scratch), 0);
    const denying = (t.rdpkru() | (AD << (2 * k))) >>> 0;
    // The thread allows k (so even a pre-6.12 kernel can write the frame); the handler enables k for
    // itself and asks sigreturn for a PKRU that denies it.
    t.sigaction(SIGUSR1, { onReturn: 'retry', flags: SA_ONSTACK, setFramePkru: denying, run: () => allow(t, k) });
    assert.equal(t.raise(SIGUSR1), 0);
    const d = t.signals().find((x) => x.info.signo === SIGUSR1)!;
    if (profile === 'linux-6.12') {
      assert.equal(d.outcome, 'handled');
      assert.equal(hex(t.rdpkru()), hex(denying));
      assert.ok(t.alive);
    } else {
      assert.equal(d.outcome, 'killed');
      assert.equal(t.alive, false);
    }
  });

  pkTestEach('a signal blocked by the mask stays pending and is delivered when sigreturn unblocks it', MODERN, (env) => {
    const t = env.spawn();
    warmStack(t);
    const order: number[] = [];
    t.sigaction(SIGUSR2, { onReturn: 'retry', flags: 0, run: () => order.push(SIGUSR2) });
    t.sigaction(SIGUSR1, {
      onReturn: 'retry', flags: 0, mask: [SIGUSR2],
      run: () => {
        assert.equal(t.raise(SIGUSR2), 0);
        order.push(SIGUSR1);
      },
    });
    assert.equal(t.raise(SIGUSR1), 0);
    assert.deepEqual(order, [SIGUSR1, SIGUSR2]);
    assert.equal(t.tgkill(0, t.pid, SIGUSR1), -EINVAL);
    assert.equal(t.raise(65), -EINVAL);
  });
});
