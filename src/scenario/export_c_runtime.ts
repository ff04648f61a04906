// The C runtime that every exported scenario program starts with (see export_c.ts for the design).
// It is plain C11 + GNU inline assembly for x86-64 Linux, compiled with `cc -static -O1 -Wall`.
//
// Processes and threads. The program's first process is the COORDINATOR: it never runs a step of
// the scenario itself (except /proc queries and machine-level setup, which it performs on the
// task's behalf). Every scenario task is a WORKER: `task A` is a process the coordinator forks,
// `B = fork()` is a raw clone(SIGCHLD) done by the worker of the calling task, `T = clone()` a raw
// clone(CLONE_VM|CLONE_THREAD|...) on a static stack. Workers share one memfd-backed control block
// with the coordinator; it sequences the steps (one at a time, in the scenario's order, with a
// futex) and collects each step's result, which the coordinator prints as the canonical line.
//
// PKRU. A worker keeps the PKRU its task would have ("vpkru") separate from the PKRU it runs its
// own bookkeeping with ("hpkru" = vpkru with key 0 allowed), so that a task may deny key 0 (its
// own stack) without breaking the harness. Every operation of a step (a user-mode access, a
// system call, WRPKRU/RDPKRU) is an assembly sequence that does WRPKRU(vpkru), the operation, and
// RDPKRU (the kernel or a signal handler may have changed it) without touching memory in between,
// then WRPKRU(hpkru). With key 0 allowed (the common case) hpkru == vpkru and nothing changes.
//
// User-mode accesses are copy loops of one byte per instruction at a known label, so the signal
// handler can implement the scenario's handler kinds exactly as the model defines them
// (src/kernel/task.ts SigAction): 'retry' returns through rt_sigreturn (the byte is accessed
// again); 'skip' sets the saved RIP past the loop (the access is abandoned) and returns through
// rt_sigreturn, so PKRU and everything else come back from the frame; 'frame_pkru=V' stores V
// into the PKRU slot of the frame's XSAVE area first (CPUID 0xD.9 offset), as protection_keys.c
// does. SIG_DFL/SIG_IGN of a fault signal are recorded by a handler that resets the action to
// SIG_DFL and returns: the access faults again and the kernel kills the process (a synchronous
// fault on an ignored signal is fatal too), so the siginfo is known and the death is real.
//
// Instruction fetches (exec) jump to the address with the trap flag set: the SIGTRAP after the
// first instruction there says the fetch succeeded; a SIGSEGV at that address with the
// instruction-fetch bit in the error code is the fetch fault the scenario sees. Whatever the
// first instruction does afterwards is not the scenario's business (its registers point at a
// scratch buffer).
export const C_RUNTIME = String.raw`/* gupsim oracle runtime: see src/scenario/export_c_runtime.ts */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <cpuid.h>

#pragma GCC diagnostic ignored "-Wunused-function"
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif
#define GS_MAXTASK 32
#define GS_MAXVAR 256
#define GS_MAXSIG 16
#define GS_MAXFIELD 48
#define GS_MAXSYM 256
#define GS_DATA_MAX (1u << 20)
#define GS_ARENA (1u << 20)
#define GS_CTL_FD 1000
#define GS_PIDFD_BASE 960
#define GS_URING_FD 995
#define GS_KMOD_FD 994
#define GS_STACK (64 * 1024)
#define GS_TEXT_BASE 0x555555554000ULL
#define GS_TEXT_FILE "/tmp/.gupsim-text"
#define GS_IOV_MAX 1100
#define GS_STEP_TIMEOUT_MS 10000

enum { RK_NONE, RK_INT, RK_ADDR, RK_TASK, RK_HEX };
enum { FK_INT, FK_ADDR, FK_STR };
enum { H_SKIP = 1, H_RETRY, H_DFL, H_IGN, H_LONGJMP, H_EXIT };
enum { SP_NONE, SP_LOAD, SP_STORE, SP_EXIT, SP_EXIT_THREAD, SP_EXECVE, SP_FORK, SP_CLONE };
enum { VT_NONE, VT_INT, VT_BYTES, VT_FDS };

typedef struct { const uint8_t *p; uint64_t n; } gs_bytes;
struct gs_iov { uint64_t base, len; };
struct gs_iovs { const struct gs_iov *v; uint64_t n; };

struct gs_sig { int32_t signo, code; uint64_t addr; uint32_t pkey; int32_t pid; };
struct gs_field { char name[32]; int32_t kind, pad; int64_t v; char s[96]; };
struct gs_res {
	uint32_t done;
	int32_t has_ret;
	int64_t ret;
	int32_t cerr; /* -1: ret is in the kernel's convention (-errno); else the C errno (0: none) */
	int32_t nsig;
	struct gs_sig sig[GS_MAXSIG];
	int32_t has_data;
	uint32_t ndata;
	int32_t has_partial;
	int32_t exit_req;
	int32_t quiet_exit; /* the thread ended in a handler ('exit'): no exit status to report */
	int32_t pad2;
	uint64_t partial;
	uint64_t rlen;
	int32_t fds[2];
	int32_t nfield;
	int32_t anomaly;
	char anomaly_text[160];
	struct gs_field field[GS_MAXFIELD];
	uint8_t data[GS_DATA_MAX];
};
struct gs_task { int32_t pid, tgid; uint32_t tidword; int32_t state; int32_t proc; int32_t pad; };
struct gs_var { int64_t v; int32_t fd[2]; uint32_t off, len; int32_t type, pad; };
struct gs_ctl {
	uint32_t seq;
	int32_t cur_step, cur_task;
	uint32_t ready;
	int32_t pku;
	uint32_t pkru_off;
	int32_t disk_ok; /* the scenario's files live on the guest's ext4 disk (see gs_setup_disk) */
	struct gs_task task[GS_MAXTASK];
	struct gs_var var[GS_MAXVAR];
	uint32_t arena_used;
	uint8_t arena[GS_ARENA];
	struct gs_res res;
};

struct gs_worker { int32_t me; uint32_t vpkru; int32_t last; };
struct gs_disp { int32_t mode, has_frame_pkru; uint32_t frame_pkru; int32_t pad; };
struct gs_meta { int32_t step; int32_t task; const char *tname; const char *name; int32_t rk; int32_t coord; int32_t special; int32_t bind; const char *bindname; int32_t vt; int32_t symdef; int32_t child; };
struct gs_sym { char name[64]; uint64_t base, len; };
struct gs_ksigaction { void *handler; unsigned long flags; void *restorer; uint64_t mask; };

/* ---- state ------------------------------------------------------------------------------- */

struct gs_ctl *C;                     /* shared control block (memfd) */
uint8_t gs_pku;                       /* OSPKE: PKRU instructions work */
static int gs_ntasks_decl;
static struct gs_worker gs_workers[GS_MAXTASK];
static struct gs_disp gs_disp[65];
uint64_t gs_exec_target, gs_exec_rsp;
uint32_t *gs_exec_vp;
int32_t gs_exec_state;
static uint8_t gs_scratch[8192] __attribute__((aligned(4096)));
static uint8_t gs_stacks[GS_MAXTASK][GS_STACK] __attribute__((aligned(16)));
static uint8_t gs_pattern[GS_DATA_MAX];
static struct gs_iov gs_iovbuf[2][GS_IOV_MAX];
static char gs_exe_path[] = "/proc/self/exe";
static int gs_pidfd[GS_MAXTASK];
static struct gs_sym gs_syms[GS_MAXSYM];
static int gs_nsyms;
static uint64_t gs_zero_pfn = (uint64_t)-1;
static int gs_uses_text;
static int gs_uses_disk;

/* generated */
static void gs_step(int step, struct gs_worker *w);
static void gs_cstep(int step);
static const struct gs_meta *gs_meta_of(int step);
static const char *gs_task_name(int idx);
static void gs_setup_disk(void);

/* ---- raw system calls (harness use: no PKRU switching) --------------------------------------- */

static inline long gs_raw(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
	return ret;
}
#define RAW0(n) gs_raw((n), 0, 0, 0, 0, 0, 0)
#define RAW1(n, a) gs_raw((n), (long)(a), 0, 0, 0, 0, 0)
#define RAW2(n, a, b) gs_raw((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define RAW3(n, a, b, c) gs_raw((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define RAW4(n, a, b, c, d) gs_raw((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static void gs_futex_wait(uint32_t *p, uint32_t v, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	RAW4(SYS_futex, p, FUTEX_WAIT, v, ms >= 0 ? &ts : NULL);
}
static void gs_futex_wake(uint32_t *p) { RAW3(SYS_futex, p, FUTEX_WAKE, INT_MAX); }

/* ---- the PKRU-switching operations (assembly) -------------------------------------------------
 * gs_sys6(&vpkru, nr, a1..a6): a system call made with PKRU = vpkru.
 * gs_load(&vpkru, addr, len, dst) / gs_store(&vpkru, addr, len, src): byte-copy loops; the user
 *   access is the instruction at gs_load_insn / gs_store_insn; rbx counts the bytes done.
 * gs_wrpkru_op(value, &vpkru), gs_rdpkru_op(&vpkru): the instructions themselves.
 * gs_exec(&vpkru, target, scratch): an instruction fetch at target (see the file comment).
 * gs_clone_thread(&vpkru, flags, stack_top, ctid, entry, arg): a new thread running entry(arg, pkru).
 */
long gs_sys6(uint32_t *vp, long nr, long a1, long a2, long a3, long a4, long a5, long a6);
uint64_t gs_load(uint32_t *vp, uint64_t addr, uint64_t len, uint8_t *dst);
uint64_t gs_store(uint32_t *vp, uint64_t addr, uint64_t len, const uint8_t *src);
void gs_wrpkru_op(uint32_t value, uint32_t *vp);
uint32_t gs_rdpkru_op(uint32_t *vp);
void gs_exec(uint32_t *vp, uint64_t target, uint8_t *scratch);
long gs_clone_thread(uint32_t *vp, long flags, void *stack_top, uint32_t *ctid, void (*entry)(long, uint32_t), long arg);
void gs_restorer(void);
extern char gs_load_insn[], gs_load_skip[], gs_store_insn[], gs_store_skip[], gs_wrpkru_insn[], gs_wrpkru_skip[],
	gs_rdpkru_insn[], gs_rdpkru_skip[], gs_exec_done[];

__asm__(
	".text\n"
	/* gs_sys6: rdi=&vpkru rsi=nr rdx=a1 rcx=a2 r8=a3 r9=a4 8(%rsp)=a5 16(%rsp)=a6 */
	".globl gs_sys6\n.type gs_sys6,@function\ngs_sys6:\n"
	"  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
	"  mov %rdi, %r15\n  mov %rsi, %rbx\n  mov %rdx, %r12\n  mov %rcx, %r13\n  mov %r8, %r14\n  mov %r9, %r10\n"
	"  mov 56(%rsp), %r8\n  mov 64(%rsp), %r9\n"
	"  movzbl gs_pku(%rip), %ebp\n"
	"  test %ebp, %ebp\n  jz 1f\n"
	"  mov (%r15), %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n"
	"1:\n  mov %r12, %rdi\n  mov %r13, %rsi\n  mov %r14, %rdx\n  mov %rbx, %rax\n  syscall\n  mov %rax, %rbx\n"
	"  test %ebp, %ebp\n  jz 2f\n"
	"  xor %ecx, %ecx\n  rdpkru\n  mov %eax, %r12d\n  and $-4, %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n"
	"  mov %r12d, (%r15)\n"
	"2:\n  mov %rbx, %rax\n"
	"  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n  ret\n"

	/* gs_load: rdi=&vpkru rsi=addr rdx=len rcx=dst; returns bytes done */
	".globl gs_load\n.type gs_load,@function\ngs_load:\n"
	"  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
	"  mov %rdi, %r15\n  mov %rsi, %r12\n  mov %rdx, %r13\n  mov %rcx, %r14\n"
	"  movzbl gs_pku(%rip), %ebp\n  mov (%r15), %r8d\n  mov %r8d, %r9d\n  and $-4, %r9d\n  xor %ebx, %ebx\n"
	"  test %r13, %r13\n  jz 9f\n"
	"3:\n  test %ebp, %ebp\n  jz 4f\n  cmp %r8d, %r9d\n  je 4f\n"
	"  mov %r8d, %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n"
	"4:\n.globl gs_load_insn\ngs_load_insn:\n  movzbl (%r12), %r10d\n"
	"  test %ebp, %ebp\n  jz 5f\n"
	"  xor %ecx, %ecx\n  rdpkru\n  mov %eax, %r8d\n  mov %eax, %r9d\n  and $-4, %r9d\n  cmp %r8d, %r9d\n  je 5f\n"
	"  mov %r9d, %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n"
	"5:\n  mov %r10b, (%r14,%rbx)\n  inc %rbx\n  inc %r12\n  dec %r13\n  jnz 3b\n"
	"9:\n  mov %r8d, (%r15)\n  mov %rbx, %rax\n"
	"  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n  ret\n"
	".globl gs_load_skip\ngs_load_skip:\n"
	"  test %ebp, %ebp\n  jz 9b\n"
	"  xor %ecx, %ecx\n  rdpkru\n  mov %eax, %r8d\n  and $-4, %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n  jmp 9b\n"

	/* gs_store: rdi=&vpkru rsi=addr rdx=len rcx=src; returns bytes done */
	".globl gs_store\n.type gs_store,@function\ngs_store:\n"
	"  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
	"  mov %rdi, %r15\n  mov %rsi, %r12\n  mov %rdx, %r13\n  mov %rcx, %r14\n"
	"  movzbl gs_pku(%rip), %ebp\n  mov (%r15), %r8d\n  mov %r8d, %r9d\n  and $-4, %r9d\n  xor %ebx, %ebx\n"
	"  test %r13, %r13\n  jz 9f\n"
	"3:\n  movzbl (%r14,%rbx), %r10d\n"
	"  test %ebp, %ebp\n  jz 4f\n  cmp %r8d, %r9d\n  je 4f\n"
	"  mov %r8d, %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n"
	"4:\n.globl gs_store_insn\ngs_store_insn:\n  mov %r10b, (%r12)\n"
	"  test %ebp, %ebp\n  jz 5f\n"
	"  xor %ecx, %ecx\n  rdpkru\n  mov %eax, %r8d\n  mov %eax, %r9d\n  and $-4, %r9d\n  cmp %r8d, %r9d\n  je 5f\n"
	"  mov %r9d, %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n"
	"5:\n  inc %rbx\n  inc %r12\n  dec %r13\n  jnz 3b\n"
	"9:\n  mov %r8d, (%r15)\n  mov %rbx, %rax\n"
	"  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n  ret\n"
	".globl gs_store_skip\ngs_store_skip:\n"
	"  test %ebp, %ebp\n  jz 9b\n"
	"  xor %ecx, %ecx\n  rdpkru\n  mov %eax, %r8d\n  and $-4, %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n  jmp 9b\n"

	/* gs_wrpkru_op: edi=value rsi=&vpkru */
	".globl gs_wrpkru_op\n.type gs_wrpkru_op,@function\ngs_wrpkru_op:\n"
	"  movzbl gs_pku(%rip), %r8d\n  mov %edi, %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n"
	".globl gs_wrpkru_insn\ngs_wrpkru_insn:\n  wrpkru\n"
	"  test %r8d, %r8d\n  jz 1f\n"
	"  xor %ecx, %ecx\n  rdpkru\n  mov %eax, %r9d\n  and $-4, %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n"
	"  mov %r9d, (%rsi)\n"
	"1:\n.globl gs_wrpkru_skip\ngs_wrpkru_skip:\n  ret\n"

	/* gs_rdpkru_op: rdi=&vpkru; returns the task's PKRU */
	".globl gs_rdpkru_op\n.type gs_rdpkru_op,@function\ngs_rdpkru_op:\n"
	"  movzbl gs_pku(%rip), %r8d\n  test %r8d, %r8d\n  jz 1f\n"
	"  mov (%rdi), %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n"
	"1:\n  xor %ecx, %ecx\n"
	".globl gs_rdpkru_insn\ngs_rdpkru_insn:\n  rdpkru\n"
	"  mov %eax, %r9d\n  test %r8d, %r8d\n  jz 2f\n"
	"  and $-4, %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n"
	"2:\n  mov %r9d, %eax\n"
	".globl gs_rdpkru_skip\ngs_rdpkru_skip:\n  ret\n"

	/* gs_exec: rdi=&vpkru rsi=target rdx=scratch */
	".globl gs_exec\n.type gs_exec,@function\ngs_exec:\n"
	"  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
	"  mov %rdi, gs_exec_vp(%rip)\n  mov %rsi, gs_exec_target(%rip)\n  mov %rsi, %r11\n  lea 2048(%rdx), %rbx\n"
	"  movzbl gs_pku(%rip), %r10d\n  mov (%rdi), %eax\n"
	"  lea gs_exec_done(%rip), %rcx\n  push %rcx\n  mov %rsp, gs_exec_rsp(%rip)\n  movl $1, gs_exec_state(%rip)\n"
	"  mov %rbx, %rsi\n  mov %rbx, %rdi\n  mov %rbx, %rbp\n  mov %rbx, %r8\n  mov %rbx, %r9\n"
	"  mov %rbx, %r12\n  mov %rbx, %r13\n  mov %rbx, %r14\n  mov %rbx, %r15\n"
	"  pushfq\n  orq $0x100, (%rsp)\n  popfq\n"
	"  test %r10d, %r10d\n  jz 1f\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n"
	"1:\n  mov %rbx, %rax\n  mov %rbx, %rcx\n  mov %rbx, %rdx\n  mov %rbx, %r10\n  jmp *%r11\n"
	".globl gs_exec_done\ngs_exec_done:\n"
	"  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n  ret\n"

	/* gs_clone_thread: rdi=&vpkru rsi=flags rdx=stack_top rcx=ctid r8=entry r9=arg */
	".globl gs_clone_thread\n.type gs_clone_thread,@function\ngs_clone_thread:\n"
	"  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
	"  mov %rdi, %r15\n  mov %rsi, %rbx\n  mov %rdx, %rbp\n  mov %rcx, %r14\n  mov %r8, %r12\n  mov %r9, %r13\n"
	"  movzbl gs_pku(%rip), %r9d\n  test %r9d, %r9d\n  jz 1f\n"
	"  mov (%r15), %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n"
	"1:\n  mov %rbx, %rdi\n  mov %rbp, %rsi\n  xor %edx, %edx\n  mov %r14, %r10\n  xor %r8d, %r8d\n  mov $56, %eax\n  syscall\n"
	"  test %rax, %rax\n  jz 3f\n"
	"  mov %rax, %rbx\n  test %r9d, %r9d\n  jz 2f\n"
	"  xor %ecx, %ecx\n  rdpkru\n  mov %eax, %r14d\n  and $-4, %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n  mov %r14d, (%r15)\n"
	"2:\n  mov %rbx, %rax\n"
	"  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n  ret\n"
	"3:\n  xor %esi, %esi\n  test %r9d, %r9d\n  jz 4f\n"
	"  xor %ecx, %ecx\n  rdpkru\n  mov %eax, %esi\n  and $-4, %eax\n  xor %ecx, %ecx\n  xor %edx, %edx\n  wrpkru\n"
	"4:\n  mov %r13, %rdi\n  and $-16, %rsp\n  call *%r12\n  mov $60, %eax\n  xor %edi, %edi\n  syscall\n  hlt\n"

	".globl gs_restorer\n.type gs_restorer,@function\ngs_restorer:\n  mov $15, %eax\n  syscall\n  hlt\n");

/* system calls of a step, made with the task's PKRU (w is the step's worker) */
#define SYS6(n, a, b, c, d, e, f) gs_sys6(&w->vpkru, (n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
#define SYS5(n, a, b, c, d, e) SYS6(n, a, b, c, d, e, 0)
#define SYS4(n, a, b, c, d) SYS6(n, a, b, c, d, 0, 0)
#define SYS3(n, a, b, c) SYS6(n, a, b, c, 0, 0, 0)
#define SYS2(n, a, b) SYS6(n, a, b, 0, 0, 0, 0)
#define SYS1(n, a) SYS6(n, a, 0, 0, 0, 0, 0)
#define SYS0(n) SYS6(n, 0, 0, 0, 0, 0, 0)

/* ---- results ----------------------------------------------------------------------------- */

static struct gs_res *R(void) { return &C->res; }

static void gs_field_int(const char *name, int64_t v)
{
	struct gs_res *r = R();
	if (r->nfield >= GS_MAXFIELD) return;
	struct gs_field *f = &r->field[r->nfield++];
	snprintf(f->name, sizeof f->name, "%s", name);
	f->kind = FK_INT;
	f->v = v;
}
static void gs_field_addr(const char *name, uint64_t v)
{
	gs_field_int(name, (int64_t)v);
	R()->field[R()->nfield - 1].kind = FK_ADDR;
}
static void gs_field_str(const char *name, const char *s)
{
	struct gs_res *r = R();
	if (r->nfield >= GS_MAXFIELD) return;
	struct gs_field *f = &r->field[r->nfield++];
	snprintf(f->name, sizeof f->name, "%s", name);
	f->kind = FK_STR;
	snprintf(f->s, sizeof f->s, "%s", s);
}
static void gs_anomaly(const char *what)
{
	struct gs_res *r = R();
	r->anomaly = 1;
	size_t n = strlen(what);
	if (n >= sizeof r->anomaly_text) n = sizeof r->anomaly_text - 1;
	memcpy(r->anomaly_text, what, n);
	r->anomaly_text[n] = 0;
}

/* ---- signals ----------------------------------------------------------------------------- */

static int gs_is_fault_sig(int sig) { return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE; }

static long gs_install(int sig, void *handler, unsigned long flags)
{
	struct gs_ksigaction a = { handler, flags, (void *)gs_restorer, 0 };
	return RAW4(SYS_rt_sigaction, sig, &a, NULL, 8);
}

static void gs_handler(int sig, siginfo_t *si, void *ucv);

static void gs_reset_dfl(int sig)
{
	gs_install(sig, SIG_DFL, SA_RESTORER);
}

/* The fetch of an exec step is over: back to gs_exec_done with the harness PKRU. */
static void gs_exec_finish(ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;
	g[REG_EFL] &= ~0x100LL;
	g[REG_RIP] = (greg_t)gs_exec_done;
	g[REG_RSP] = (greg_t)(gs_exec_rsp + 8);
	gs_exec_state = 0;
	if (gs_pku && uc->uc_mcontext.fpregs) {
		uint32_t *slot = (uint32_t *)((char *)uc->uc_mcontext.fpregs + C->pkru_off);
		*gs_exec_vp = *slot;
		*slot &= ~3u;
	}
}

/* Signals whose default action is to ignore them: the recording handler is not installed for them. */
static int gs_default_ignores(int sig) { return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT; }

static uint32_t gs_rdpkru_now(void)
{
	uint32_t a, d;
	__asm__ volatile("rdpkru" : "=a"(a), "=d"(d) : "c"(0));
	return a;
}

static void gs_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	uint64_t rip = (uint64_t)g[REG_RIP];
	struct gs_res *r = R();
	if (gs_exec_state && sig == SIGTRAP) {
		if (gs_exec_state == 1) {
			if (rip == gs_exec_target) gs_exec_state = 2;
			return;
		}
		gs_exec_finish(uc); /* the instruction at the target was fetched and ran */
		return;
	}
	int sync = si->si_code > 0 && si->si_code != SI_KERNEL ? 1 : si->si_code == SI_KERNEL && gs_is_fault_sig(sig);
	if (gs_exec_state == 2 && sync) {
		int fetch = (sig == SIGSEGV || sig == SIGBUS) && rip == gs_exec_target &&
			((g[REG_ERR] & 0x10) || (uint64_t)si->si_addr == gs_exec_target);
		if (!fetch) { /* the fetched instruction itself faulted: the fetch worked */
			int m = gs_disp[sig].mode;
			if (m == 0 || m == H_DFL || m == H_IGN) gs_install(sig, (void *)gs_handler, SA_SIGINFO | SA_RESTORER);
			gs_exec_finish(uc);
			return;
		}
	}
	if (sig == SIGTRAP && (gs_disp[sig].mode == 0 || gs_disp[sig].mode == H_DFL)) {
		gs_anomaly("unexpected SIGTRAP");
		RAW1(SYS_exit_group, 121);
	}
	/* Only the step's own thread reports its signals (the model's outcome shows those). */
	int mine = C->cur_task >= 0 && C->task[C->cur_task].pid == (int)RAW0(SYS_gettid);
	if (mine && r->nsig < GS_MAXSIG) {
		struct gs_sig *s = &r->sig[r->nsig++];
		s->signo = sig;
		s->code = si->si_code;
		s->addr = (uint64_t)si->si_addr;
		/* The model has no code addresses: the address of a faulting instruction is 0 to both. */
		if ((sig == SIGILL || sig == SIGFPE) && s->addr == rip) s->addr = 0;
		s->pkey = *(uint32_t *)((char *)si + 0x20);
		s->pid = si->si_code <= 0 ? si->si_pid : 0;
	}
	int insn = rip == (uint64_t)gs_load_insn || rip == (uint64_t)gs_store_insn;
	if (insn && mine) {
		r->has_partial = 1;
		r->partial = (uint64_t)g[REG_RBX];
	}
	int mode = gs_disp[sig].mode;
	if (mode == 0 || mode == H_DFL || mode == H_IGN) {
		/* The default action: a fault faults again with SIG_DFL (fatal even if ignored); a sent
		 * signal is sent again; either way the kernel does what it does by default. */
		gs_reset_dfl(sig);
		if (!sync) RAW3(SYS_tgkill, RAW0(SYS_getpid), RAW0(SYS_gettid), sig);
		return;
	}
	if (mode == H_EXIT) {
		if (mine) r->quiet_exit = 1;
		RAW1(SYS_exit, 0);
	}
	uint32_t *slot = uc->uc_mcontext.fpregs && gs_pku ? (uint32_t *)((char *)uc->uc_mcontext.fpregs + C->pkru_off) : NULL;
	if (mode == H_LONGJMP) {
		/* siglongjmp() to just before the operation: the mask comes back, PKRU stays the handler's */
		if (slot) *slot = gs_rdpkru_now();
	} else if (gs_disp[sig].has_frame_pkru && slot) {
		*slot = gs_disp[sig].frame_pkru;
	}
	if (mode == H_RETRY || !sync)
		return; /* a sent signal interrupted nothing that could be skipped */
	/* skip (or longjmp): abandon the interrupted access */
	if (rip == (uint64_t)gs_load_insn) g[REG_RIP] = (greg_t)gs_load_skip;
	else if (rip == (uint64_t)gs_store_insn) g[REG_RIP] = (greg_t)gs_store_skip;
	else if (rip == (uint64_t)gs_wrpkru_insn) g[REG_RIP] = (greg_t)gs_wrpkru_skip;
	else if (rip == (uint64_t)gs_rdpkru_insn) g[REG_RIP] = (greg_t)gs_rdpkru_skip;
	else if (gs_exec_state == 2) gs_exec_finish(uc);
	else {
		gs_anomaly("fault outside a user-mode access with a skip handler");
		RAW1(SYS_exit_group, 122);
	}
}

/* sigaction(signum, handler[, frame_pkru, flags]) */
static long gs_sigaction(struct gs_worker *w, long sig, int handler, long frame_pkru, unsigned long flags)
{
	struct gs_ksigaction a;
	memset(&a, 0, sizeof a);
	a.restorer = (void *)gs_restorer;
	int keep = sig >= 1 && sig <= 64 && sig != SIGKILL && sig != SIGSTOP && !gs_default_ignores((int)sig);
	if (handler == H_SKIP || handler == H_RETRY || handler == H_LONGJMP || handler == H_EXIT) {
		a.handler = (void *)gs_handler;
		a.flags = flags | SA_SIGINFO | SA_RESTORER;
	} else if (keep && (handler == H_DFL || gs_is_fault_sig((int)sig) || sig == SIGTRAP)) {
		/* SIG_DFL, and SIG_IGN of a fault signal (fatal anyway): the recording handler */
		a.handler = (void *)gs_handler;
		a.flags = SA_SIGINFO | SA_RESTORER;
	} else {
		a.handler = handler == H_IGN ? SIG_IGN : SIG_DFL;
		a.flags = SA_RESTORER;
	}
	long ret = gs_sys6(&w->vpkru, SYS_rt_sigaction, sig, (long)&a, 0, 8, 0, 0);
	if (ret == 0 && sig >= 1 && sig <= 64) {
		gs_disp[sig].mode = handler;
		gs_disp[sig].has_frame_pkru = handler != H_DFL && handler != H_IGN && frame_pkru != -1;
		gs_disp[sig].frame_pkru = (uint32_t)frame_pkru;
	}
	return ret;
}

/* ---- workers ----------------------------------------------------------------------------- */

static void gs_step_done(void)
{
	__atomic_store_n(&C->res.done, 1, __ATOMIC_RELEASE);
	gs_futex_wake(&C->res.done);
}

static __attribute__((noreturn)) void gs_worker_loop(struct gs_worker *w)
{
	for (;;) {
		uint32_t s = __atomic_load_n(&C->seq, __ATOMIC_ACQUIRE);
		int step = __atomic_load_n(&C->cur_step, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&C->cur_task, __ATOMIC_ACQUIRE) == w->me && step > w->last) {
			w->last = step;
			gs_step(step, w);
			gs_step_done();
			continue;
		}
		gs_futex_wait(&C->seq, s, -1);
	}
}

static void gs_map_text(void)
{
	if (!gs_uses_text) return;
	int fd = (int)RAW3(SYS_open, GS_TEXT_FILE, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) return;
	long r = gs_raw(SYS_mmap, (long)GS_TEXT_BASE, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
	(void)r;
	RAW1(SYS_close, fd);
}

/* A task's worker in a new process image (fresh task or after execve). */
static void gs_worker_init(int idx)
{
	struct gs_worker *w = &gs_workers[idx];
	w->me = idx;
	int tid = (int)RAW0(SYS_gettid);
	C->task[idx].pid = tid;
	C->task[idx].tgid = (int)RAW0(SYS_getpid);
	C->task[idx].tidword = (uint32_t)tid;
	RAW1(SYS_set_tid_address, &C->task[idx].tidword);
	for (int s = 1; s <= 64; s++) gs_disp[s].mode = 0;
	for (int s = 1; s < 32; s++) {
		if (s == SIGKILL || s == SIGSTOP || gs_default_ignores(s)) continue;
		gs_install(s, (void *)gs_handler, SA_SIGINFO | SA_RESTORER | (s == SIGTRAP ? SA_NODEFER : 0));
	}
	gs_map_text();
	w->vpkru = 0;
	if (gs_pku) {
		uint32_t a, d;
		__asm__ volatile("rdpkru" : "=a"(a), "=d"(d) : "c"(0));
		w->vpkru = a;
		__asm__ volatile("wrpkru" : : "a"(a & ~3u), "c"(0), "d"(0) : "memory");
	}
}

/* B = fork(): a raw clone(SIGCHLD) by the worker of the calling task. */
static long gs_fork(struct gs_worker *w, int child, int step)
{
	long ret = gs_sys6(&w->vpkru, SYS_clone, SIGCHLD, 0, 0, 0, 0, 0);
	if (ret == 0) {
		struct gs_worker *c = &gs_workers[child];
		c->me = child;
		c->vpkru = w->vpkru; /* this process's copy: the child's own PKRU after the syscall */
		c->last = step;
		int pid = (int)RAW0(SYS_getpid);
		C->task[child].pid = C->task[child].tgid = pid;
		C->task[child].proc = child;
		C->task[child].state = 1;
		C->task[child].tidword = (uint32_t)pid;
		RAW1(SYS_set_tid_address, &C->task[child].tidword);
		gs_worker_loop(c);
	}
	if (ret > 0) {
		C->task[child].pid = C->task[child].tgid = (int)ret;
		C->task[child].tidword = (uint32_t)ret;
		C->task[child].proc = child;
		C->task[child].state = 1;
	}
	return ret;
}

static void gs_thread_entry(long idx, uint32_t vpkru)
{
	struct gs_worker *c = &gs_workers[idx];
	c->me = (int)idx;
	c->vpkru = vpkru;
	gs_worker_loop(c);
}

/* T = clone(): a thread of the calling task's process. */
static long gs_new_thread(struct gs_worker *w, int child, int step)
{
	gs_workers[child].last = step;
	long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
		CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
	C->task[child].tidword = 1;
	long ret = gs_clone_thread(&w->vpkru, flags, gs_stacks[child] + GS_STACK, &C->task[child].tidword,
		gs_thread_entry, child);
	if (ret > 0) {
		C->task[child].pid = (int)ret;
		C->task[child].tgid = C->task[w->me].tgid;
		C->task[child].proc = C->task[w->me].proc;
		C->task[child].state = 1;
	} else {
		C->task[child].tidword = 0;
	}
	return ret;
}

/* execve(path): the default program is this binary, resumed as the same task. */
static long gs_execve(struct gs_worker *w, const char *path, int step)
{
	static char a1[] = "--gupsim-resume", a2[16], a3[16];
	snprintf(a2, sizeof a2, "%d", w->me);
	snprintf(a3, sizeof a3, "%d", step);
	static char *argv[5];
	static char *envp[2] = { "GUPSIM=1", NULL };
	const char *p = path;
	if (strcmp(path, "/bin/gupsim-task") == 0) p = gs_exe_path;
	argv[0] = (char *)"gupsim-task";
	argv[1] = a1;
	argv[2] = a2;
	argv[3] = a3;
	argv[4] = NULL;
	return gs_sys6(&w->vpkru, SYS_execve, (long)p, (long)argv, (long)envp, 0, 0, 0);
}

/* ---- user-mode steps --------------------------------------------------------------------- */

static void gs_do_load(struct gs_worker *w, uint64_t addr, uint64_t len)
{
	struct gs_res *r = R();
	if (len > GS_DATA_MAX) {
		gs_anomaly("load longer than the harness buffer");
		len = GS_DATA_MAX;
	}
	r->has_data = 1;
	r->ndata = (uint32_t)gs_load(&w->vpkru, addr, len, r->data);
}

static uint64_t gs_do_store(struct gs_worker *w, uint64_t addr, gs_bytes data, uint64_t len)
{
	if (len == (uint64_t)-1) len = data.n;
	if (len > GS_DATA_MAX) {
		gs_anomaly("store longer than the harness buffer");
		len = GS_DATA_MAX;
	}
	for (uint64_t i = 0; i < len; i++) gs_pattern[i] = data.n ? data.p[i % data.n] : 0;
	return gs_store(&w->vpkru, addr, len, gs_pattern);
}

/* ---- helpers for syscall steps ------------------------------------------------------------- */

static struct gs_iov *gs_iovs_buf(int which, struct gs_iovs v, uint64_t count)
{
	struct gs_iov *b = gs_iovbuf[which];
	memset(b, 0, sizeof gs_iovbuf[which]);
	for (uint64_t i = 0; i < v.n && i < GS_IOV_MAX && i < count; i++) b[i] = v.v[i];
	return b;
}

static const char *gs_cstr(gs_bytes b)
{
	static char buf[2][4096];
	static int k;
	char *s = buf[k++ & 1];
	uint64_t n = b.n < sizeof buf[0] - 1 ? b.n : sizeof buf[0] - 1;
	memcpy(s, b.p, n);
	s[n] = 0;
	return s;
}

/*
 * A scenario's path name. The model's files are disk files (write_file: "on disk, not in the page
 * cache"), so with the guest's ext4 disk mounted (gs_setup_disk) every path outside /proc, /dev
 * and /sys lives in this program's own directory there (the current directory of all its tasks):
 * "/tmp/f" is opened as "./tmp/f" (parent directories made on the way). Path names never show
 * in canonical lines.
 */
static const char *gs_pathname(gs_bytes b)
{
	const char *p = gs_cstr(b);
	if (!C->disk_ok || p[0] != '/' || strncmp(p, "/proc/", 6) == 0 || strncmp(p, "/dev/", 5) == 0 ||
	    strncmp(p, "/sys/", 5) == 0 || strcmp(p, "/bin/gupsim-task") == 0)
		return p;
	static char buf[2][4200];
	static int k;
	char *q = buf[k++ & 1];
	snprintf(q, sizeof buf[0], ".%s", p);
	for (char *s = q + 2; *s; s++) {
		if (*s != '/') continue;
		*s = 0;
		RAW2(SYS_mkdir, q, 0755);
		*s = '/';
	}
	return q;
}

static long gs_ptrace(struct gs_worker *w, long req, long pid, uint64_t addr, uint64_t data, int *cerr)
{
	long ret;
	switch (req) {
	case 1: /* PTRACE_PEEKTEXT */
	case 2: /* PTRACE_PEEKDATA */ {
		static uint64_t word;
		ret = gs_sys6(&w->vpkru, SYS_ptrace, req, pid, (long)addr, (long)&word, 0, 0);
		if (ret < 0 && ret >= -4095) {
			*cerr = (int)-ret;
			return -1;
		}
		*cerr = 0;
		char s[32];
		snprintf(s, sizeof s, "0x%llx", (unsigned long long)word);
		gs_field_str("word", s);
		return (long)word;
	}
	case 16: /* PTRACE_ATTACH */
		ret = gs_sys6(&w->vpkru, SYS_ptrace, req, pid, (long)addr, (long)data, 0, 0);
		if (ret == 0) {
			int st;
			RAW4(SYS_wait4, pid, &st, __WALL, 0);
		}
		return ret;
	case 0x4206: /* PTRACE_SEIZE: the model stops the tracee as ATTACH does */
		ret = gs_sys6(&w->vpkru, SYS_ptrace, req, pid, (long)addr, (long)data, 0, 0);
		if (ret == 0) {
			int st;
			RAW4(SYS_ptrace, 0x4207, pid, 0, 0);
			RAW4(SYS_wait4, pid, &st, __WALL, 0);
		}
		return ret;
	default:
		return gs_sys6(&w->vpkru, SYS_ptrace, req, pid, (long)addr, (long)data, 0, 0);
	}
}

/* ---- io_uring: one ring per process, set up by the harness at the first io_uring step --------
 * (the model has no ring object: its fd is moved out of the scenario's way, to GS_URING_FD) */
static struct { int fd; uint32_t *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask; struct io_uring_sqe *sqes; struct io_uring_cqe *cqes; } gs_ring = { -1 };

static int gs_uring_setup(void)
{
	if (gs_ring.fd >= 0) return 0;
	static struct io_uring_params pr;
	memset(&pr, 0, sizeof pr);
	int fd = (int)RAW2(SYS_io_uring_setup, 8, &pr);
	if (fd < 0) return fd;
	int hi = (int)RAW3(SYS_dup3, fd, GS_URING_FD, O_CLOEXEC);
	RAW1(SYS_close, fd);
	if (hi < 0) return hi;
	long sq = gs_raw(SYS_mmap, 0, pr.sq_off.array + pr.sq_entries * 4, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, hi, IORING_OFF_SQ_RING);
	long cq = gs_raw(SYS_mmap, 0, pr.cq_off.cqes + pr.cq_entries * sizeof(struct io_uring_cqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, hi, IORING_OFF_CQ_RING);
	long sqes = gs_raw(SYS_mmap, 0, pr.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, hi, IORING_OFF_SQES);
	if (sq < 0 || cq < 0 || sqes < 0) return -ENOMEM;
	gs_ring.sq_tail = (uint32_t *)(sq + pr.sq_off.tail);
	gs_ring.sq_mask = (uint32_t *)(sq + pr.sq_off.ring_mask);
	gs_ring.sq_array = (uint32_t *)(sq + pr.sq_off.array);
	gs_ring.cq_head = (uint32_t *)(cq + pr.cq_off.head);
	gs_ring.cq_tail = (uint32_t *)(cq + pr.cq_off.tail);
	gs_ring.cq_mask = (uint32_t *)(cq + pr.cq_off.ring_mask);
	gs_ring.cqes = (struct io_uring_cqe *)(cq + pr.cq_off.cqes);
	gs_ring.sqes = (struct io_uring_sqe *)sqes;
	gs_ring.fd = hi;
	return 0;
}

static long gs_uring_register(struct gs_worker *w, struct gs_iovs iov, uint64_t n)
{
	int r = gs_uring_setup();
	if (r < 0) return r;
	return gs_sys6(&w->vpkru, SYS_io_uring_register, gs_ring.fd, IORING_REGISTER_BUFFERS, (long)gs_iovs_buf(0, iov, n), (long)n, 0, 0);
}

static long gs_uring_unregister(struct gs_worker *w)
{
	int r = gs_uring_setup();
	if (r < 0) return r;
	return gs_sys6(&w->vpkru, SYS_io_uring_register, gs_ring.fd, IORING_UNREGISTER_BUFFERS, 0, 0, 0, 0);
}

/* IORING_OP_READ_FIXED / WRITE_FIXED, submitted and waited for; the completion's res */
static long gs_uring_fixed(struct gs_worker *w, int write, long fd, uint64_t buf, uint64_t len, uint64_t off, uint64_t idx)
{
	int r = gs_uring_setup();
	if (r < 0) return r;
	uint32_t tail = *gs_ring.sq_tail, i = tail & *gs_ring.sq_mask;
	struct io_uring_sqe *e = &gs_ring.sqes[i];
	memset(e, 0, sizeof *e);
	e->opcode = write ? IORING_OP_WRITE_FIXED : IORING_OP_READ_FIXED;
	e->fd = (int)fd;
	e->off = off;
	e->addr = buf;
	e->len = (uint32_t)len;
	e->buf_index = (uint16_t)idx;
	e->user_data = 1;
	gs_ring.sq_array[i] = i;
	__atomic_store_n(gs_ring.sq_tail, tail + 1, __ATOMIC_RELEASE);
	long n = gs_sys6(&w->vpkru, SYS_io_uring_enter, gs_ring.fd, 1, 1, IORING_ENTER_GETEVENTS, 0, 0);
	if (n < 0) return n;
	uint32_t head = *gs_ring.cq_head;
	if (head == __atomic_load_n(gs_ring.cq_tail, __ATOMIC_ACQUIRE)) return -EIO;
	long res = gs_ring.cqes[head & *gs_ring.cq_mask].res;
	__atomic_store_n(gs_ring.cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

/* ---- kernel-context steps: the oracle's test module (oracle/gupsim_gup.c) ---------------------- */
struct gupsim_kcall { uint32_t op, ctx; int32_t pid; uint32_t flags; uint64_t start, nr, buf; int64_t ret; uint64_t npages; };
#define GUPSIM_IOC_CALL _IOWR('g', 1, struct gupsim_kcall)
enum { GK_GUP = 1, GK_GUP_UNLOCKED, GK_GUP_FAST, GK_GUP_REMOTE, GK_PIN, GK_PIN_UNLOCKED, GK_PIN_FAST, GK_PIN_REMOTE, GK_FIXUP, GK_ACCESS };
static int gs_kfd = -1;

/* One call: from a worker (ctx 0: in its task's kernel context, with its PKRU) or from the
 * coordinator (ctx 1: the module runs it in a kworker). The call's result in the kernel's convention. */
static long gs_kcall(struct gs_worker *w, int op, int ctx, long pid, uint64_t flags, uint64_t start, uint64_t nr, uint64_t buf)
{
	if (gs_kfd < 0) {
		int fd = (int)RAW3(SYS_open, "/dev/gupsim_gup", O_RDWR | O_CLOEXEC, 0);
		if (fd < 0) {
			gs_anomaly("no /dev/gupsim_gup (the test module did not load)");
			return fd;
		}
		gs_kfd = (int)RAW3(SYS_dup3, fd, GS_KMOD_FD, O_CLOEXEC);
		RAW1(SYS_close, fd);
	}
	static struct gupsim_kcall k;
	memset(&k, 0, sizeof k);
	k.op = (uint32_t)op;
	k.ctx = (uint32_t)ctx;
	k.pid = (int32_t)pid;
	k.flags = (uint32_t)flags;
	k.start = start;
	k.nr = nr;
	k.buf = buf;
	long r = w ? gs_sys6(&w->vpkru, SYS_ioctl, gs_kfd, GUPSIM_IOC_CALL, (long)&k, 0, 0, 0) : RAW3(SYS_ioctl, gs_kfd, GUPSIM_IOC_CALL, &k);
	if (r < 0) return r;
	if (k.ret == -1000) gs_anomaly("a current->mm GUP call in a kernel thread would oops the kernel");
	if (k.ret == -1001) gs_anomaly("a FOLL_ flag this kernel keeps internal");
	return k.ret;
}

/* access_remote_vm(mm, addr, len, gup_flags): the bytes read are the step's data */
static long gs_kaccess(struct gs_worker *w, int ctx, long pid, uint64_t addr, uint64_t len, uint64_t flags)
{
	struct gs_res *r = R();
	if (len > GS_DATA_MAX) len = GS_DATA_MAX;
	long ret = gs_kcall(w, GK_ACCESS, ctx, pid, flags, addr, len, (uint64_t)r->data);
	r->has_data = 1;
	r->ndata = ret > 0 ? (uint32_t)ret : 0;
	return ret;
}

/* Load the embedded module (once per boot: EEXIST after that). */
static void gs_load_module(const unsigned char *image, unsigned long len)
{
	if (!len) return;
	long r = syscall(SYS_init_module, image, len, "");
	if (r != 0 && errno != EEXIST) printf("# gupsim-oracle module-load-failed errno=%d\n", errno);
}

/* ---- coordinator: /proc queries and setup steps ------------------------------------------------ */

static char *gs_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (n + 4096 > cap) buf = realloc(buf, cap *= 2);
		ssize_t k = read(fd, buf + n, cap - n - 1);
		if (k < 0 && errno == EINTR) continue;
		if (k <= 0) break;
		n += (size_t)k;
	}
	close(fd);
	buf[n] = 0;
	if (len) *len = n;
	return buf;
}

/* A /proc/PID/maps or smaps header line: [0-9a-f]+-[0-9a-f]+ followed by a space. */
static int gs_is_header(const char *p)
{
	const char *q = p;
	while ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')) q++;
	if (q == p || *q != '-') return 0;
	const char *r = ++q;
	while ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')) q++;
	return q > r && *q == ' ';
}

/* The smaps block of the VMA holding addr: [start, end), perms, and the lines after the header. */
static int gs_find_vma(int pid, uint64_t addr, uint64_t *start, uint64_t *end, char perms[8], char **block, char **all)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/smaps", pid);
	char *text = gs_read_file(path, NULL);
	*all = text;
	if (!text) return -1;
	char *p = text;
	while (*p) {
		char *eol = strchr(p, '\n');
		unsigned long long s, e;
		char pr[8];
		if (gs_is_header(p) && sscanf(p, "%llx-%llx %7s", &s, &e, pr) == 3 && addr >= s && addr < e) {
			*start = s;
			*end = e;
			memcpy(perms, pr, 8);
			*block = eol ? eol + 1 : p + strlen(p);
			return 0;
		}
		if (!eol) break;
		p = eol + 1;
	}
	return -1;
}

static void gs_q_vma(int pid, uint64_t addr, int64_t *ret, int *cerr)
{
	uint64_t s, e;
	char perms[8], *block, *all;
	if (gs_find_vma(pid, addr, &s, &e, perms, &block, &all) < 0) {
		*ret = -1;
		*cerr = 0;
		free(all);
		return;
	}
	long pkey = 0;
	for (char *p = block; *p && !gs_is_header(p);) {
		char *eol = strchr(p, '\n');
		if (strncmp(p, "ProtectionKey:", 14) == 0) pkey = strtol(p + 14, NULL, 10);
		if (!eol) break;
		p = eol + 1;
	}
	*ret = 0;
	gs_field_addr("start", s);
	gs_field_addr("end", e);
	gs_field_str("perms", perms);
	gs_field_int("pkey", pkey);
	free(all);
}

static void gs_q_smaps(int pid, uint64_t addr, int64_t *ret, int *cerr)
{
	uint64_t s, e;
	char perms[8], *block, *all;
	if (gs_find_vma(pid, addr, &s, &e, perms, &block, &all) < 0) {
		*ret = -1;
		*cerr = 0;
		free(all);
		return;
	}
	for (char *p = block; *p && !gs_is_header(p);) {
		char *eol = strchr(p, '\n');
		if (eol) *eol = 0;
		/* ^([A-Za-z_]+):\s+(\d+)(?: kB)?$ */
		char *q = p;
		while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || *q == '_') q++;
		if (q > p && *q == ':') {
			char name[32];
			size_t n = (size_t)(q - p) < sizeof name - 1 ? (size_t)(q - p) : sizeof name - 1;
			memcpy(name, p, n);
			name[n] = 0;
			char *v = q + 1;
			if (*v == ' ' || *v == '\t') {
				while (*v == ' ' || *v == '\t') v++;
				char *d = v;
				while (*d >= '0' && *d <= '9') d++;
				if (d > v && (*d == 0 || strcmp(d, " kB") == 0)) gs_field_int(name, strtoll(v, NULL, 10));
			}
		}
		if (!eol) break;
		p = eol + 1;
	}
	*ret = 0;
	free(all);
}

static int gs_pagemap(int pid, uint64_t addr, uint64_t *entry)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/pagemap", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return -errno;
	ssize_t n = pread(fd, entry, 8, (off_t)((addr / 4096) * 8));
	int e = errno;
	close(fd);
	return n == 8 ? 0 : n < 0 ? -e : -EIO;
}

static void gs_q_pagemap(int pid, uint64_t addr, int64_t *ret)
{
	uint64_t e = 0;
	int r = gs_pagemap(pid, addr, &e);
	if (r < 0) {
		*ret = r;
		return;
	}
	int present = (int)(e >> 63) & 1;
	uint64_t pfn = e & ((1ULL << 55) - 1);
	*ret = 0;
	gs_field_int("present", present);
	gs_field_int("zero_page", present && pfn == gs_zero_pfn && pfn != 0);
}

static void gs_q_maps(int pid, int64_t *ret)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	char *t = gs_read_file(path, NULL);
	*ret = t ? 0 : -errno;
	free(t);
}

static int64_t gs_write_file(gs_bytes path, gs_bytes content)
{
	int fd = open(gs_pathname(path), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) return -errno;
	uint64_t off = 0;
	while (off < content.n) {
		ssize_t k = write(fd, content.p + off, content.n - off);
		if (k <= 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		off += (uint64_t)k;
	}
	/* on disk, not in the page cache (as the model's write_file) */
	fsync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	return 0;
}

static int64_t gs_drop_caches(void)
{
	sync();
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd < 0) return -errno;
	ssize_t k = write(fd, "1\n", 2);
	int e = errno;
	close(fd);
	return k == 2 ? 0 : -e;
}

/* ---- coordinator: symbols and printing ------------------------------------------------------- */

static void gs_sym_define(const char *name, uint64_t base, uint64_t len)
{
	int i;
	for (i = 0; i < gs_nsyms; i++)
		if (strcmp(gs_syms[i].name, name) == 0) break;
	if (i < gs_nsyms) {
		memmove(&gs_syms[i], &gs_syms[i + 1], (size_t)(gs_nsyms - i - 1) * sizeof gs_syms[0]);
		gs_nsyms--;
	}
	if (gs_nsyms >= GS_MAXSYM) return;
	snprintf(gs_syms[gs_nsyms].name, sizeof gs_syms[0].name, "%s", name);
	gs_syms[gs_nsyms].base = base;
	gs_syms[gs_nsyms].len = len > 0 ? len : 1;
	gs_nsyms++;
}

static void gs_symbolize(char *out, size_t n, uint64_t addr)
{
	for (int i = gs_nsyms - 1; i >= 0; i--) {
		struct gs_sym *s = &gs_syms[i];
		if (addr >= s->base && addr - s->base <= s->len) {
			uint64_t off = addr - s->base;
			if (off == 0) snprintf(out, n, "$%s", s->name);
			else snprintf(out, n, "$%s+0x%llx", s->name, (unsigned long long)off);
			return;
		}
	}
	snprintf(out, n, "0x%llx", (unsigned long long)addr);
}

static const char *gs_name_of_pid(char *buf, size_t n, int64_t pid)
{
	for (int i = 0; i < gs_ntasks_decl; i++)
		if (C->task[i].state && C->task[i].pid == pid) return gs_task_name(i);
	snprintf(buf, n, "%lld", (long long)pid);
	return buf;
}

static char gs_line[1 << 16];
static size_t gs_len;
static void gs_put(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void gs_put(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(gs_line + gs_len, sizeof gs_line - gs_len, fmt, ap);
	va_end(ap);
	if (k > 0) gs_len += (size_t)k;
	if (gs_len >= sizeof gs_line) gs_len = sizeof gs_line - 1;
}

static uint32_t gs_fnv1a32(const uint8_t *d, uint32_t n)
{
	uint32_t h = 0x811c9dc5u;
	for (uint32_t i = 0; i < n; i++) {
		h ^= d[i];
		h *= 0x01000193u;
	}
	return h;
}

/* generated name tables */
static const char *gs_errno_name(int e);
static const char *gs_signal_name(int s);
static const char *gs_code_name(int sig, int code);

enum { ST_DONE, ST_DEAD, ST_THREAD_EXIT, ST_TIMEOUT, ST_SKIPPED };

static void gs_print(const struct gs_meta *m, int status, int wstatus)
{
	struct gs_res *r = R();
	char buf[128];
	gs_len = 0;
	gs_put("STEP %d %s %s", m->step, m->tname, m->name);
	if (status == ST_TIMEOUT) {
		gs_put(" harness=timeout");
		goto out;
	}
	if (r->anomaly) gs_put(" harness=%s", r->anomaly_text);
	/* the return value, C-visible */
	int have = r->has_ret && m->rk != RK_NONE;
	int64_t ret = r->ret;
	const char *err = NULL;
	if (have) {
		if (r->cerr >= 0) {
			if (r->cerr > 0) err = gs_errno_name(r->cerr);
		} else if (ret < 0 && ret >= -4095 && m->rk != RK_HEX) {
			err = gs_errno_name((int)-ret);
			ret = -1;
		}
		if (ret == -1 && err) gs_put(" ret=-1");
		else if (m->rk == RK_ADDR) {
			gs_symbolize(buf, sizeof buf, (uint64_t)ret);
			gs_put(" ret=%s", buf);
		} else if (m->rk == RK_TASK) gs_put(" ret=%s", gs_name_of_pid(buf, sizeof buf, ret));
		else if (m->rk == RK_HEX) {
			if (ret < 0) gs_put(" ret=-0x%llx", (unsigned long long)-ret);
			else gs_put(" ret=0x%llx", (unsigned long long)ret);
		} else gs_put(" ret=%lld", (long long)ret);
		if (err) gs_put(" errno=%s", err);
	}
	for (int i = 0; i < r->nsig; i++) {
		struct gs_sig *s = &r->sig[i];
		gs_put(" sig=%s code=%s", gs_signal_name(s->signo), gs_code_name(s->signo, s->code));
		if (s->code <= 0) {
			char pb[32];
			gs_put(" sender=%s", gs_name_of_pid(pb, sizeof pb, s->pid));
		} else if (s->signo == SIGSEGV || s->signo == SIGBUS || s->signo == SIGILL || s->signo == SIGFPE) {
			gs_symbolize(buf, sizeof buf, s->addr);
			gs_put(" addr=%s", buf);
		}
		if (s->signo == SIGSEGV && s->code == 4) gs_put(" pkey=%u", s->pkey);
	}
	if (status == ST_DEAD) {
		if (wstatus & 0x7f) gs_put(" killed=%s", gs_signal_name(wstatus & 0x7f));
		else if (!r->quiet_exit) gs_put(" exited=%d", (wstatus >> 8) & 0xff);
	} else if (status == ST_THREAD_EXIT && !r->quiet_exit) {
		gs_put(" exited=%d", r->exit_req & 0xff);
	}
	if (r->has_data) {
		if (r->ndata <= 32) {
			gs_put(" data=");
			for (uint32_t i = 0; i < r->ndata; i++) gs_put("%02x", r->data[i]);
		} else gs_put(" data=%uB:fnv1a32=%08x", r->ndata, gs_fnv1a32(r->data, r->ndata));
	}
	for (int i = 0; i < r->nfield; i++) {
		struct gs_field *f = &r->field[i];
		if (f->kind == FK_INT) gs_put(" %s=%lld", f->name, (long long)f->v);
		else if (f->kind == FK_ADDR) {
			gs_symbolize(buf, sizeof buf, (uint64_t)f->v);
			gs_put(" %s=%s", f->name, buf);
		} else {
			char *p = f->s;
			for (char *q = p; *q; q++)
				if (*q == ' ' || *q == '\t' || *q == '\n') *q = '_';
			gs_put(" %s=%s", f->name, p);
		}
	}
out:
	gs_put("\n");
	fwrite(gs_line, 1, gs_len, stdout);
	fflush(stdout);
}

/* ---- coordinator: running steps ---------------------------------------------------------------- */

static long long gs_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* exit_code of a dead process (waitpid format), from /proc/PID/stat field 52 of its zombie leader */
static int gs_exit_code(int pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	for (int tries = 0; tries < 400; tries++) {
		char *t = gs_read_file(path, NULL);
		if (!t) return -1;
		char *p = strrchr(t, ')');
		if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X')) {
			/* fields after ')': 3 (state) .. 52 (exit_code) */
			int field = 3;
			char *q = p + 2;
			long code = -1;
			while (*q) {
				if (field == 52) {
					code = strtol(q, NULL, 10);
					break;
				}
				char *sp = strchr(q, ' ');
				if (!sp) break;
				q = sp + 1;
				field++;
			}
			free(t);
			return (int)code;
		}
		free(t);
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}

static void gs_mark_dead(int proc)
{
	for (int i = 0; i < gs_ntasks_decl; i++)
		if (C->task[i].state == 1 && C->task[i].proc == proc) C->task[i].state = 2;
}

static int gs_proc_dead(int proc)
{
	if (gs_pidfd[proc] < 0) return 0;
	struct pollfd pf = { gs_pidfd[proc], POLLIN, 0 };
	return poll(&pf, 1, 0) > 0;
}

static void gs_open_pidfd(int idx)
{
	int pid = C->task[idx].pid;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		gs_pidfd[idx] = -1;
		return;
	}
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, GS_PIDFD_BASE + idx);
	close(fd);
	gs_pidfd[idx] = hi;
	if (hi < 0) gs_anomaly("no pidfd for the new process");
}

static void gs_abort_all(void)
{
	for (int i = 0; i < gs_ntasks_decl; i++)
		if (C->task[i].state == 1 && C->task[i].pid > 0) kill(C->task[i].pid, SIGKILL);
}

static void gs_clear_res(void)
{
	struct gs_res *r = R();
	size_t keep = offsetof(struct gs_res, data);
	memset(r, 0, keep);
	r->cerr = -1;
}

/* The step's outcome is in C->res; bind the result as the model does. */
static void gs_bind(const struct gs_meta *m, int status)
{
	struct gs_res *r = R();
	if (m->bind < 0 || status == ST_TIMEOUT) return;
	struct gs_var *v = &C->var[m->bind];
	int64_t ret = r->ret;
	int failed = 0;
	if (r->has_ret) {
		if (r->cerr >= 0) failed = r->cerr > 0;
		else if (ret < 0 && ret >= -4095 && m->rk != RK_HEX) {
			failed = 1;
			ret = -1;
		}
	}
	if (m->special == SP_FORK || m->special == SP_CLONE) {
		if (failed) {
			v->type = VT_INT;
			v->v = -1;
		}
		return;
	}
	if (m->vt == VT_BYTES && !failed && r->has_data) {
		v->type = VT_BYTES;
		if (C->arena_used + r->ndata > GS_ARENA) C->arena_used = 0;
		v->off = C->arena_used;
		v->len = r->ndata;
		memcpy(C->arena + v->off, r->data, r->ndata);
		C->arena_used += r->ndata;
	} else if (m->vt == VT_FDS && !failed) {
		v->type = VT_FDS;
		v->fd[0] = r->fds[0];
		v->fd[1] = r->fds[1];
	} else {
		v->type = VT_INT;
		v->v = r->has_ret ? ret : 0;
	}
}

static void gs_run(int step)
{
	const struct gs_meta *m = gs_meta_of(step);
	gs_clear_res();
	int status = ST_DONE, wstatus = 0;
	if (m->coord) {
		gs_cstep(step);
	} else {
		int t = m->task;
		if (C->task[t].state != 1) {
			gs_anomaly("the task is not running");
			gs_print(m, ST_DONE, 0);
			gs_abort_all();
			printf("# gupsim-oracle abort step=%d\n", step);
			fflush(stdout);
			_exit(3);
		}
		int proc = C->task[t].proc;
		__atomic_store_n(&C->res.done, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&C->cur_task, t, __ATOMIC_RELEASE);
		__atomic_store_n(&C->cur_step, step, __ATOMIC_RELEASE);
		__atomic_add_fetch(&C->seq, 1, __ATOMIC_ACQ_REL);
		gs_futex_wake(&C->seq);
		long long deadline = gs_now_ms() + GS_STEP_TIMEOUT_MS;
		long long tid_gone_at = -1;
		for (;;) {
			if (__atomic_load_n(&C->res.done, __ATOMIC_ACQUIRE)) break;
			if (gs_proc_dead(proc)) {
				wstatus = gs_exit_code(C->task[proc].pid);
				status = ST_DEAD;
				gs_mark_dead(proc);
				break;
			}
			if (m->special != SP_EXECVE && __atomic_load_n(&C->task[t].tidword, __ATOMIC_ACQUIRE) == 0) {
				if (tid_gone_at < 0) tid_gone_at = gs_now_ms();
				else if (gs_now_ms() - tid_gone_at > 300) {
					status = ST_THREAD_EXIT;
					C->task[t].state = 2;
					break;
				}
			}
			if (gs_now_ms() > deadline) {
				status = ST_TIMEOUT;
				break;
			}
			gs_futex_wait(&C->res.done, 0, tid_gone_at >= 0 ? 10 : 20);
		}
		if (status == ST_DEAD || status == ST_THREAD_EXIT) {
			struct gs_res *r = R();
			if (m->special == SP_STORE) {
				r->has_ret = 1;
				r->ret = r->has_partial ? (int64_t)r->partial : 0;
			} else if (m->special == SP_LOAD) {
				r->has_data = 1;
				r->ndata = r->has_partial ? (uint32_t)r->partial : 0;
			}
		}
		if (status == ST_DONE && m->special == SP_FORK && R()->ret > 0 && m->child >= 0) gs_open_pidfd(m->child);
	}
	gs_bind(m, status);
	if (m->symdef && status != ST_TIMEOUT) {
		struct gs_res *r = R();
		if (r->has_ret && !(r->ret < 0 && r->ret >= -4095)) gs_sym_define(m->bindname, (uint64_t)r->ret, r->rlen ? r->rlen : 4096);
	}
	gs_print(m, status, wstatus);
	if (status == ST_TIMEOUT) {
		gs_abort_all();
		printf("# gupsim-oracle abort step=%d timeout\n", step);
		fflush(stdout);
		_exit(4);
	}
}

/* task NAME [uid=N]: a fresh process */
static void gs_task(int idx, int has_uid, long uid)
{
	fflush(stdout);
	__atomic_store_n(&C->ready, 0, __ATOMIC_RELEASE);
	pid_t pid = fork();
	if (pid == 0) {
		syscall(SYS_close_range, 3, GS_CTL_FD - 1, 0);
		syscall(SYS_close_range, GS_CTL_FD + 1, ~0U, 0);
		gs_kfd = -1; /* the coordinator's harness fds are gone in a fresh task */
		gs_ring.fd = -1;
		prctl(PR_SET_CHILD_SUBREAPER, 0);
		if (has_uid) {
			if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) RAW1(SYS_exit_group, 125);
			prctl(PR_SET_DUMPABLE, 1); /* as a process exec'd by that user would be */
		}
		C->task[idx].proc = idx;
		C->task[idx].state = 1;
		gs_worker_init(idx);
		gs_workers[idx].last = C->cur_step;
		__atomic_store_n(&C->ready, 1, __ATOMIC_RELEASE);
		gs_futex_wake(&C->ready);
		gs_worker_loop(&gs_workers[idx]);
	}
	C->task[idx].pid = C->task[idx].tgid = pid;
	C->task[idx].proc = idx;
	C->task[idx].state = 1;
	gs_open_pidfd(idx);
	long long deadline = gs_now_ms() + GS_STEP_TIMEOUT_MS;
	while (!__atomic_load_n(&C->ready, __ATOMIC_ACQUIRE) && gs_now_ms() < deadline) gs_futex_wait(&C->ready, 0, 20);
}

/* The zero page's PFN, for pagemap's zero_page field: map a page, read it, look. */
static void gs_find_zero_pfn(void)
{
	volatile uint8_t *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) return;
	(void)p[0];
	uint64_t e;
	if (gs_pagemap(getpid(), (uint64_t)p, &e) == 0 && (e >> 63)) gs_zero_pfn = e & ((1ULL << 55) - 1);
	munmap((void *)p, 4096);
}

static void gs_write_text_file(void)
{
	static uint8_t img[8192];
	static const uint8_t elf[8] = { 0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0 };
	static const uint8_t fn[6] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 }; /* mov eax, 42; ret */
	memcpy(img, elf, sizeof elf);
	memcpy(img + 4096, fn, sizeof fn);
	int fd = open(GS_TEXT_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0) return;
	if (write(fd, img, sizeof img) != (ssize_t)sizeof img) perror("text file");
	close(fd);
}

static void gs_setup_ctl(int fd)
{
	void *p = mmap(NULL, sizeof(struct gs_ctl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("gupsim: mmap ctl");
		exit(2);
	}
	C = p;
	gs_pku = (uint8_t)C->pku;
}

static void gs_setup(void)
{
	struct rlimit rl = { 0, 0 };
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* The model has no transparent huge pages. */
	int thp = open("/sys/kernel/mm/transparent_hugepage/enabled", O_WRONLY | O_CLOEXEC);
	if (thp >= 0) {
		if (write(thp, "never", 5) != 5) perror("gupsim: THP");
		close(thp);
	}
	int fd = (int)syscall(SYS_memfd_create, "gupsim-ctl", 0);
	if (fd < 0 || ftruncate(fd, (off_t)sizeof(struct gs_ctl)) != 0) {
		perror("gupsim: memfd");
		exit(2);
	}
	if (dup2(fd, GS_CTL_FD) < 0) {
		perror("gupsim: dup2");
		exit(2);
	}
	close(fd);
	gs_setup_ctl(GS_CTL_FD);
	unsigned a, b, c, d;
	C->pku = 0;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 4))) C->pku = 1;
	if (C->pku && __get_cpuid_count(0xd, 9, &a, &b, &c, &d)) C->pkru_off = b;
	gs_pku = (uint8_t)C->pku;
	for (int i = 0; i < GS_MAXTASK; i++) gs_pidfd[i] = -1;
	gs_sym_define("TEXT", GS_TEXT_BASE, 8192);
	gs_find_zero_pfn();
	if (gs_uses_text) gs_write_text_file();
	gs_setup_disk();
}

/* The guest's ext4 disk (oracle/qemu.ts diskMiB: /dev/nvme0n1), mounted once per boot at
 * /gupsim-disk; each program works in its own directory there. Without it, files stay in rootfs. */
static void gs_setup_disk(void)
{
	if (!gs_uses_disk) return;
	struct statfs sf;
	mkdir("/gupsim-disk", 0755);
	if (statfs("/gupsim-disk", &sf) != 0 || sf.f_type != 0xEF53) {
		if (mount("/dev/nvme0n1", "/gupsim-disk", "ext4", 0, NULL) != 0) {
			printf("# gupsim-oracle no-disk errno=%d: files stay in rootfs\n", errno);
			return;
		}
	}
	char dir[64];
	snprintf(dir, sizeof dir, "/gupsim-disk/p%d", (int)getpid());
	if (mkdir(dir, 0755) != 0 || chdir(dir) != 0) {
		printf("# gupsim-oracle no-disk-dir errno=%d\n", errno);
		return;
	}
	C->disk_ok = 1;
}

/* The new image after execve of the default program: the same task, resumed. */
static int gs_resume(int idx, int step)
{
	gs_setup_ctl(GS_CTL_FD);
	gs_worker_init(idx);
	gs_workers[idx].last = step;
	struct gs_res *r = R();
	r->has_ret = 1;
	r->ret = 0;
	gs_step_done();
	gs_worker_loop(&gs_workers[idx]);
	return 0;
}
`;
