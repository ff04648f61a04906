// The review of the founding patch (shared/seed/000_820e491ff57caec3.txt), executable: each finding
// of Vlastimil Babka's review is a behaviour that differs between the revision under review
// (profile linux-4.6-rev1, Dave Hansen's Jan 15 2016 revision) and what was merged (linux-4.6).
// Expected outcomes follow SEMANTICS.md section 7 (REV-1..REV-4), derived from the patch and the
// kernel source of that era; they cannot be run on a real 2016 kernel here, so each test states
// the mechanism it checks.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { EFAULT, EIO, O_RDONLY, type Thread } from '../../src/index.js';
import { PAGE, ok, simTest } from '../helpers.js';
import { handleStraySwbp } from '../../src/kernel/uprobes.js';
import { asyncPfExecute } from '../../src/virt/kvm.js';

const RW = 3, ANON = 0x22, X = 4;

describe('REV-1: __get_user_pages_unlocked() must keep tsk/mm', () => {
  // process_vm_rw needs a GUP that is both foreign and allowed to drop mmap_sem. Without it, the
  // reviewed revision took the lock itself and called get_user_pages_foreign(): no VM_FAULT_RETRY,
  // so a fault that can only be serviced by dropping the lock (userfaultfd) fails.
  const scenario = (profile: 'linux-4.6' | 'linux-4.6-rev1' | 'linux-6.12', expectOk: boolean): void => {
    simTest(`${profile}: process_vm_readv of a userfaultfd-missing page ${expectOk ? 'succeeds' : 'is EFAULT'}`, (h) => {
      const target = h.spawn();
      const p = target.mmap(0, PAGE, RW, ANON);
      const uffd = target.userfaultfd();
      assert.equal(target.uffdRegister(uffd, p, PAGE, 0x5a), 0);
      const reader = h.spawn();
      const buf = reader.mmap(0, PAGE, RW, ANON);
      ok(reader.store(buf, [0], PAGE));
      const r = reader.process_vm_readv(target.pid, [{ base: buf, len: 16 }], [{ base: p, len: 16 }]);
      if (expectOk) {
        assert.equal(r, 16);
        assert.deepEqual([...reader.load(buf, 4).data!], [0x5a, 0x5a, 0x5a, 0x5a]);
      } else {
        assert.equal(r, -EFAULT);
        assert.ok(h.m.log.some((e) => e.msg.includes('FAULT_FLAG_ALLOW_RETRY missing')));
      }
    }, { profile });
  };
  scenario('linux-4.6', true);
  scenario('linux-4.6-rev1', false);
  scenario('linux-6.12', true);

  simTest('linux-4.6: the target task, not the caller, is charged for the fault (ACC-1)', (h) => {
    const target = h.spawn();
    const p = target.mmap(0, PAGE, RW, ANON);
    const reader = h.spawn();
    const buf = reader.mmap(0, PAGE, RW, ANON);
    ok(reader.store(buf, [0], PAGE));
    const [t0, r0] = [target.getrusage().ru_minflt, reader.getrusage().ru_minflt];
    assert.equal(reader.process_vm_readv(target.pid, [{ base: buf, len: 8 }], [{ base: p, len: 8 }]), 8);
    assert.deepEqual([target.getrusage().ru_minflt - t0, reader.getrusage().ru_minflt - r0], [1, 0]);
  }, { profile: 'linux-4.6' });
});

describe('REV-2: is_trap_at_addr() must not start charging current', () => {
  // mm is current->mm there, so passing current instead of NULL reads the same memory but makes
  // the GUP fault count in the probed task's min_flt.
  const run = (profile: 'linux-4.6' | 'linux-4.6-rev1', delta: number): void => {
    simTest(`${profile}: a stray breakpoint whose page is not present: min_flt +${delta}`, (h) => {
      const t = h.spawn();
      const text = 0x555555554000;
      assert.equal(t.pte(text), null, 'the text page has not been touched');
      const f0 = t.getrusage().ru_minflt + t.getrusage().ru_majflt;
      const r = handleStraySwbp(h.m, t.task, text);
      assert.equal(r.result, 'restart', 'not an int3: the instruction is restarted');
      assert.equal(t.getrusage().ru_minflt + t.getrusage().ru_majflt - f0, delta);
      assert.notEqual(t.pte(text), null, 'either way the page was faulted in');
    }, { profile });
  };
  run('linux-4.6', 0);
  run('linux-4.6-rev1', 1);
});

describe('REV-3: async_pf_execute() works on the work item\'s mm, not current\'s', () => {
  simTest('linux-4.6: the kworker faults the page in, in the VM\'s mm, charging nobody', (h) => {
    const vmm = h.spawn();
    const p = vmm.mmap(0, PAGE, RW, ANON);
    const kw = h.sim.kthread('kworker/0:1');
    const f0 = vmm.getrusage().ru_minflt;
    assert.equal(asyncPfExecute(h.m, kw, vmm.task.mm!, p), 1, '__get_user_pages counts pages walked, even with pages == NULL');
    const pte = vmm.pte(p);
    assert.ok(pte && pte.pfn !== 0, 'a write fault: a private anon page is now mapped');
    assert.deepEqual([vmm.getrusage().ru_minflt - f0, kw.minFlt], [0, 0]);
  }, { profile: 'linux-4.6' });

  simTest('linux-4.6-rev1: the current-only call in a kworker dereferences a NULL mm', (h) => {
    const vmm = h.spawn();
    const p = vmm.mmap(0, PAGE, RW, ANON);
    const kw = h.sim.kthread('kworker/0:1');
    assert.equal(asyncPfExecute(h.m, kw, vmm.task.mm!, p), -EFAULT);
    assert.equal(vmm.pte(p), null, 'the VM\'s page was never faulted in');
    assert.ok(h.m.log.some((e) => e.msg.includes('NULL pointer dereference')));
  }, { profile: 'linux-4.6-rev1' });

  simTest('linux-6.12: get_user_pages_remote(vcpu->kvm->mm) from the kworker, charged to the kworker', (h) => {
    const vmm = h.spawn();
    const p = vmm.mmap(0, PAGE, RW, ANON);
    const kw = h.sim.kthread('kworker/0:1');
    asyncPfExecute(h.m, kw, vmm.task.mm!, p);
    assert.ok(vmm.pte(p));
    assert.equal(kw.minFlt, 1, 'ACC-2: always current');
  });
});

describe('REV-4: "foreign" must be a flag, not only an mm comparison', () => {
  // In the reviewed revision get_user_pages_foreign() did not mark the walk remote, so a same-mm
  // foreign access (/proc/self/mem) was still checked against the caller's PKRU.
  const run = (profile: 'linux-4.6' | 'linux-4.6-rev1', expectOk: boolean): void => {
    simTest(`${profile}: /proc/self/mem read of execute-only memory ${expectOk ? 'works' : 'is EIO'}`, (h) => {
      const t = h.spawn();
      const p = t.mmap(0, PAGE, RW, ANON);
      ok(t.store(p, [0x90], PAGE));
      assert.equal(t.mprotect(p, PAGE, X), 0);
      assert.ok(t.pte(p)!.pkey > 0, 'PROT_EXEC-only got the execute-only key');
      const buf = t.mmap(0, PAGE, RW, ANON);
      const fd = t.open('/proc/self/mem', O_RDONLY);
      const r = t.pread(fd, buf, 8, p);
      if (expectOk) {
        assert.equal(r, 8);
        assert.equal(t.load(buf, 1).data![0], 0x90);
      } else {
        assert.equal(r, -EIO);
      }
    }, { profile });
  };
  run('linux-4.6', true);
  run('linux-4.6-rev1', false);
});

export type { Thread };
