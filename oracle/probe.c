/*
 * gupsim oracle probe: is x86 PKU there and enforced by the guest kernel?
 *
 * Output (one fact per line, key=value):
 *   cpuid pku=1 ospke=1
 *   pkru_initial=0x55555554
 *   pkru=0x55555554 pkey=1 signal=SIGSEGV si_code=4 si_pkey=1
 *       (PKRU after pkey_alloc(0, PKEY_DISABLE_ACCESS); the read of a page
 *        tagged with that key via pkey_mprotect; what the SIGSEGV said.
 *        si_code 4 = SEGV_PKUERR)
 *   pkru_in_handler=0x...      PKRU the kernel gave the signal handler
 *   write_denied=... errno=... write(2) from the denied page (kernel copy_from_user under PKRU)
 *   procmem_read=... errno=... pread of /proc/self/mem at the denied page (GUP, FOLL_FORCE)
 *   pkru_allow=0x... access_after_allow=ok
 *   probe=done
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pkey_mprotect
#define SYS_pkey_mprotect 329
#endif
#ifndef SYS_pkey_alloc
#define SYS_pkey_alloc 330
#endif
#ifndef SYS_pkey_free
#define SYS_pkey_free 331
#endif
#ifndef PKEY_DISABLE_ACCESS
#define PKEY_DISABLE_ACCESS 0x1
#endif
#ifndef SEGV_PKUERR
#define SEGV_PKUERR 4
#endif

static inline uint32_t rdpkru(void)
{
	uint32_t eax, edx;
	__asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static inline void wrpkru(uint32_t pkru)
{
	__asm__ volatile(".byte 0x0f,0x01,0xef" : : "a"(pkru), "c"(0), "d"(0) : "memory");
}

static inline void cpuid7(uint32_t *ecx)
{
	uint32_t a = 7, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	*ecx = c;
}

static sigjmp_buf env;
static volatile sig_atomic_t got_signal;
static volatile int got_code;
static volatile uint32_t got_pkey;
static volatile uint32_t handler_pkru;
static void *volatile got_addr;

static void on_segv(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	got_signal = sig;
	got_code = info->si_code;
	got_addr = info->si_addr;
	/* si_pkey lives at byte offset 0x20 of siginfo_t on x86-64 */
	got_pkey = *(const uint32_t *)((const char *)info + 0x20);
	handler_pkru = rdpkru();
	siglongjmp(env, 1);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	uint32_t ecx;
	cpuid7(&ecx);
	int pku = (ecx >> 3) & 1, ospke = (ecx >> 4) & 1;
	printf("cpuid pku=%d ospke=%d\n", pku, ospke);
	if (!ospke) {
		printf("probe=no-ospke\n");
		return 2;
	}
	printf("pkru_initial=0x%08x\n", rdpkru());

	long pagesz = sysconf(_SC_PAGESIZE);
	char *page = mmap(NULL, (size_t)pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		printf("probe=mmap-failed errno=%d\n", errno);
		return 3;
	}
	memset(page, 'x', (size_t)pagesz); /* populated before it is keyed */

	long pkey = syscall(SYS_pkey_alloc, 0, PKEY_DISABLE_ACCESS);
	if (pkey < 0) {
		printf("probe=pkey_alloc-failed errno=%d (%s)\n", errno, strerror(errno));
		return 4;
	}
	if (syscall(SYS_pkey_mprotect, page, (size_t)pagesz, PROT_READ | PROT_WRITE, (int)pkey) != 0) {
		printf("probe=pkey_mprotect-failed errno=%d (%s)\n", errno, strerror(errno));
		return 5;
	}
	uint32_t pkru = rdpkru();

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);

	volatile char sink = 0;
	if (sigsetjmp(env, 1) == 0) {
		sink = *(volatile char *)page;
		printf("pkru=0x%08x pkey=%ld signal=none value=%c\n", pkru, pkey, sink);
	} else {
		printf("pkru=0x%08x pkey=%ld signal=%s si_code=%d si_pkey=%u si_addr_ok=%d\n", pkru, pkey,
		       got_signal == SIGSEGV ? "SIGSEGV" : "other", got_code, (unsigned)got_pkey,
		       got_addr == (void *)page);
		printf("pkru_in_handler=0x%08x pkru_after_longjmp=0x%08x\n", (unsigned)handler_pkru, rdpkru());
		wrpkru(pkru); /* back to the denying PKRU */
	}

	/* kernel access on behalf of this task: copy_from_user honours PKRU */
	int fds[2];
	if (pipe(fds) == 0) {
		errno = 0;
		ssize_t n = write(fds[1], page, 16);
		printf("write_denied=%zd errno=%d\n", n, n < 0 ? errno : 0);
		close(fds[0]);
		close(fds[1]);
	}
	/* GUP via /proc/self/mem (FOLL_FORCE): not a PKRU-checked user access */
	int mem = open("/proc/self/mem", O_RDONLY);
	if (mem >= 0) {
		char buf[16];
		errno = 0;
		ssize_t n = pread(mem, buf, sizeof buf, (off_t)(uintptr_t)page);
		printf("procmem_read=%zd errno=%d\n", n, n < 0 ? errno : 0);
		close(mem);
	} else {
		printf("procmem_read=open-failed errno=%d\n", errno);
	}

	/* allow the key and touch again */
	uint32_t allow = pkru & ~(3u << (2 * pkey));
	wrpkru(allow);
	got_signal = 0;
	if (sigsetjmp(env, 1) == 0) {
		sink = *(volatile char *)page;
		printf("pkru_allow=0x%08x access_after_allow=%s\n", rdpkru(), sink == 'x' ? "ok" : "bad");
	} else {
		printf("pkru_allow=0x%08x access_after_allow=SIGSEGV si_code=%d\n", allow, got_code);
	}
	syscall(SYS_pkey_free, (int)pkey);
	printf("probe=done\n");
	return 0;
}
