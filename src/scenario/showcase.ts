// The built-in showcase (`gupsim demo`): short scenarios, each run on the model with its
// expectations, summarised in tables. Expected outcomes come from the kernel (the conformance
// catalogue, its real-kernel results, and SEMANTICS.md for the 2016 kernels), never from the model:
// a row whose expectations fail says so ("MODEL DISAGREES"), and a row whose step the model cannot
// run yet says "pending".
import { ScenarioError, InternalError } from './errors.js';
import type { StepReport } from './interp.js';
import { runSource } from './run.js';
import { summarize } from './report.js';

export interface ShowcaseRow {
  id: string;
  title: string;
  /** For the PKRU table: whose PKRU decides ("caller's", "none"). */
  pkru?: string;
  /** Where the expected outcome comes from. */
  basis: string;
  /** The step whose outcome the table shows (the first of that name; default: the last step with an expectation). */
  key?: string;
  source: string;
}

export interface RowResult {
  row: ShowcaseRow;
  status: 'shown' | 'MODEL DISAGREES' | 'pending' | 'error';
  /** The outcome of the decisive step (its canonical fields), or the reason. */
  result: string;
  detail: string[];
}

const S0 = `task A
A: p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: k = pkey_alloc(0, 0)                                   expect k == 1
A: pkey_mprotect(p, 4096, PROT_READ|PROT_WRITE, k)        expect 0
A: store(p, "secret")                                     expect ok
`;

const REV1 = `task A
task B
B: p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
B: uffd = userfaultfd()
B: uffdio_register(uffd, p, 4096, 0x5a)                   expect 0
A: buf = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: store(buf, 0, 4096)
`;

const REV3 = `task A
A: p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
`;

const REV4 = `task A
A: p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: store(p, 0x90, 4096)
A: mprotect(p, 4096, PROT_EXEC)                           expect 0    # execute-only: a protection key
A: buf = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: fd = open("/proc/self/mem", O_RDONLY)
`;

export const TODAY: ShowcaseRow[] = [
  {
    id: 'cow-fork', title: 'fork: copy-on-write keeps the child\'s snapshot', basis: 'catalogue COW-01, FLT-07',
    source: `task A
A: p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: store(p, "old")
A: B = fork()
A: store(p, "new")            expect ok, minflt == 1    # write-protected after fork: one COW fault
B: load(p, 3)                 expect "old"              # the child still sees its snapshot
`,
  },
  {
    id: 'pkey-store', title: 'a store to a write-disabled key: SIGSEGV with SEGV_PKUERR', basis: 'catalogue PK-ALLOC-03, real 6.1/6.12',
    source: `task A
A: p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: k = pkey_alloc(0, PKEY_DISABLE_WRITE)                  expect k == 1
A: pkey_mprotect(p, 4096, PROT_READ|PROT_WRITE, k)        expect 0
A: load(p, 1)                                             expect ok
A: store(p, "x")                                          expect SIGSEGV{SEGV_PKUERR, addr=p, pkey=k}, killed(SIGSEGV)
`,
  },
  {
    id: 'read-efault', key: 'read', title: 'read() into an access-disabled buffer: EFAULT, no signal', basis: 'catalogue PK-KACC-01, real 6.1/6.12',
    source: `${S0}write_file("/etc/motd", "hello")
A: fd = open("/etc/motd", O_RDONLY)                        expect 3
A: pkey_set(k, PKEY_DISABLE_ACCESS)                       expect 0
A: read(fd, p, 1)                                         expect EFAULT, nosignal
A: lseek(fd, 0, SEEK_CUR)                                 expect 0      # the offset did not move
`,
  },
  {
    id: 'zero-page', title: 'a first read maps the shared zero page; the first write replaces it', basis: 'catalogue FLT-02, PK-ACC-02',
    source: `task A
A: p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: load(p, 1)                 expect data == 0, minflt == 1
A: pagemap(p)                 expect present == 1, zero_page == 1
A: store(p, "x")              expect ok, minflt == 1
A: pagemap(p)                 expect present == 1, zero_page == 0
`,
  },
  {
    id: 'major-fault', key: 'load', title: 'a file page that is not in the page cache: a major fault', basis: 'SEMANTICS ACC-2 (VM_FAULT_MAJOR needs I/O)',
    source: `write_file("/data", "file contents")
task A
A: fd = open("/data", O_RDONLY)
A: f = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0)
A: load(f, 4)                 expect "file", majflt == 1, minflt == 0
A: load(f, 4)                 expect "file", majflt == 0, minflt == 0
`,
  },
];

export const PKRU_PATHS: ShowcaseRow[] = [
  {
    id: 'user-access', title: 'user-mode load/store', pkru: 'the thread\'s own (MMU)', basis: 'PK-ACC-03',
    source: `${S0}A: pkey_set(k, PKEY_DISABLE_ACCESS)
A: load(p, 1)                 expect SIGSEGV{SEGV_PKUERR, addr=p, pkey=k}
`,
  },
  {
    id: 'fetch', key: 'exec', title: 'instruction fetch', pkru: 'none: keys never apply to fetches', basis: 'PK-ACC-08',
    source: `task A
A: x = mmap(NULL, 4096, PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)   # execute-only: gets a key
A: exec(x)                    expect ok
A: sigaction(SIGSEGV, skip)
A: load(x, 1)                 expect SIGSEGV{SEGV_PKUERR, addr=x, pkey=1}
`,
  },
  {
    id: 'uaccess', title: 'read()/write() buffers (copy_to/from_user)', pkru: 'the caller\'s (MMU, kernel mode)', basis: 'PK-KACC-01',
    source: `${S0}A: fds = pipe()
A: pkey_set(k, PKEY_DISABLE_ACCESS)
A: write(fds[1], p, 6)        expect EFAULT, nosignal
`,
  },
  {
    id: 'vmsplice', title: 'vmsplice: GUP on the caller\'s own mm', pkru: 'the caller\'s (check_vma_flags / GUP-fast)', basis: 'PK-KACC-05',
    source: `${S0}A: fds = pipe()
A: pkey_set(k, PKEY_DISABLE_ACCESS)
A: vmsplice(fds[1], {p, 4096}, 1, 0)   expect EFAULT, nosignal
`,
  },
  {
    id: 'pvm-remote', key: 'process_vm_readv', title: 'process_vm_readv, remote side', pkru: 'none: remote GUP (FOLL_REMOTE), even on itself', basis: 'PK-RMT-02',
    source: `${S0}A: buf = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: pkey_set(k, PKEY_DISABLE_ACCESS)
A: process_vm_readv(A, {buf, 6}, 1, {p, 6}, 1, 0)   expect 6
A: load(buf, 6)               expect "secret"
`,
  },
  {
    id: 'pvm-local', title: 'process_vm_readv, local side', pkru: 'the caller\'s (uaccess)', basis: 'PK-RMT-04',
    source: `${S0}A: plain = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: pkey_set(k, PKEY_DISABLE_ACCESS)
A: process_vm_readv(A, {p, 64}, 1, {plain, 64}, 1, 0)   expect EFAULT
`,
  },
  {
    id: 'proc-mem', key: 'pread', title: '/proc/self/mem', pkru: 'none: access_remote_vm (remote)', basis: 'PK-RMT-08, PMEM-01',
    source: `${S0}A: buf = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: fd = open("/proc/self/mem", O_RDONLY)
A: pkey_set(k, PKEY_DISABLE_ACCESS)
A: pread(fd, buf, 6, p)       expect 6
A: load(buf, 6)               expect "secret"
`,
  },
  {
    id: 'ptrace', title: 'ptrace PEEKDATA', pkru: 'none: remote GUP with FOLL_FORCE', basis: 'PK-RMT-01',
    source: `${S0}A: B = fork()
A: ptrace(PTRACE_ATTACH, B)   expect 0
A: pkey_set(k, PKEY_DISABLE_ACCESS)
B: pkey_set(k, PKEY_DISABLE_ACCESS)
A: ptrace(PTRACE_PEEKDATA, B, p)   expect word == 0x746572636573    # "secret", little-endian
`,
  },
  {
    id: 'kworker', key: 'async_pf_execute', title: 'a kworker\'s GUP (KVM async page fault)', pkru: 'none: no mm of its own, remote', basis: 'SEMANTICS CON-17 (model only)',
    source: `${S0}A: pkey_set(k, PKEY_DISABLE_ACCESS)
A: madvise(p, 4096, MADV_DONTNEED)   expect 0
kworker: async_pf_execute(mm=A, addr=p)   expect 1
A: pagemap(p)                 expect present == 1
`,
  },
];

/** The review of the founding patch: each finding under the revision reviewed and as merged. */
export const REVIEW: ShowcaseRow[] = [
  {
    id: 'rev1-reviewed', title: 'REV-1 __get_user_pages_unlocked() loses tsk/mm: no retry, EFAULT', pkru: 'linux-4.6-rev1', basis: 'SEMANTICS REV-1',
    source: `profile linux-4.6-rev1
${REV1}A: process_vm_readv(B, {buf, 16}, 1, {p, 16}, 1, 0)   expect EFAULT
`,
  },
  {
    id: 'rev1-merged', key: 'process_vm_readv', title: 'REV-1 as merged: foreign and unlocked, the fault is retried', pkru: 'linux-4.6', basis: 'SEMANTICS REV-1',
    source: `profile linux-4.6
${REV1}A: process_vm_readv(B, {buf, 16}, 1, {p, 16}, 1, 0)   expect 16
A: load(buf, 4)               expect {0x5a, 0x5a, 0x5a, 0x5a}
`,
  },
  {
    id: 'rev2-reviewed', title: 'REV-2 is_trap_at_addr() now charges the probed task', pkru: 'linux-4.6-rev1', basis: 'SEMANTICS REV-2',
    source: `profile linux-4.6-rev1
task A
A: handle_swbp(TEXT)          expect result == "restart", majflt == 1   # the text page is read from disk
`,
  },
  {
    id: 'rev2-merged', title: 'REV-2 as merged: NULL tsk, nobody charged', pkru: 'linux-4.6', basis: 'SEMANTICS REV-2',
    source: `profile linux-4.6
task A
A: handle_swbp(TEXT)          expect result == "restart", majflt == 0, minflt == 0
`,
  },
  {
    id: 'rev3-reviewed', key: 'async_pf_execute', title: 'REV-3 async_pf_execute() on current->mm: NULL in a kworker', pkru: 'linux-4.6-rev1', basis: 'SEMANTICS REV-3',
    source: `profile linux-4.6-rev1
${REV3}kworker: async_pf_execute(mm=A, addr=p)   expect EFAULT
A: pagemap(p)                 expect present == 0
`,
  },
  {
    id: 'rev3-merged', key: 'async_pf_execute', title: 'REV-3 as merged: the work item\'s mm, nobody charged', pkru: 'linux-4.6', basis: 'SEMANTICS REV-3',
    source: `profile linux-4.6
${REV3}kworker: async_pf_execute(mm=A, addr=p)   expect 1, minflt(A) == 0
A: pagemap(p)                 expect present == 1
`,
  },
  {
    id: 'rev4-reviewed', title: 'REV-4 "foreign" inferred from the mm: /proc/self/mem checks PKRU', pkru: 'linux-4.6-rev1', basis: 'SEMANTICS REV-4',
    source: `profile linux-4.6-rev1
${REV4}A: pread(fd, buf, 8, p)       expect EIO
`,
  },
  {
    id: 'rev4-merged', key: 'pread', title: 'REV-4 as merged: the variant sets FOLL_REMOTE', pkru: 'linux-4.6', basis: 'SEMANTICS REV-4',
    source: `profile linux-4.6
${REV4}A: pread(fd, buf, 8, p)       expect 8
A: load(buf, 1)               expect {0x90}
`,
  },
];

/** The step a row shows: the first step named `name`, else the last step with an expectation. */
function keyStep(reports: StepReport[], name?: string): StepReport | undefined {
  if (name) return reports.find((r) => r.kind === 'step' && r.outcome.name === name);
  const steps = reports.filter((r) => r.kind === 'step' && r.expects.length > 0);
  return steps[steps.length - 1];
}

export function runRow(row: ShowcaseRow): RowResult {
  try {
    const run = runSource(row.source, `showcase:${row.id}`);
    const reports = run.reports.filter((r): r is StepReport => r.kind !== 'task');
    const sum = summarize(run.reports, run.session.halted);
    const detail = reports.flatMap((r) => r.expects.filter((e) => !e.ok && !e.skipped).map((e) => `line ${e.pos.line}: expected ${e.expected}, got ${e.actual}`));
    const key = keyStep(reports, row.key);
    let result = key ? key.canonical.replace(/^STEP \d+ /, '') : '';
    // Where the row is about fault accounting, show the counts the canonical line leaves out.
    if (key && key.expects.some((e) => /minflt|majflt/.test(e.src))) {
      const f = Object.entries(key.outcome.info).filter(([k]) => k.startsWith('faults[')).map(([k, v]) => `${k.slice(7, -1)} ${String(v)}`);
      result += ` (min/maj faults: ${f.length ? f.join(', ') : 'none'})`;
    }
    if (sum.halted) return { row, status: 'pending', result: sum.halted, detail };
    return { row, status: sum.failed ? 'MODEL DISAGREES' : 'shown', result, detail };
  } catch (e) {
    const msg = e instanceof ScenarioError || e instanceof InternalError ? e.message : String(e);
    return { row, status: 'error', result: msg, detail: [] };
  }
}

/** A plain-text table. */
export function table(head: string[], rows: string[][], max = 60): string[] {
  const cut = (s: string): string => (s.length > max ? s.slice(0, max - 1) + '…' : s);
  const cells = [head, ...rows].map((r) => r.map(cut));
  const w = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |';
  return [line(cells[0]!), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...cells.slice(1).map(line)];
}
