/*
 * gupsim native benchmark: bench WORKLOAD [SIZE_MB] [REPS] [OPS]
 *
 * Performs WORKLOAD REPS times and prints one JSON object per repetition on
 * its own line on stdout.  Only the measured part is timed (CLOCK_MONOTONIC);
 * allocation, population and helper-process setup are outside the timed
 * region.  See README.md in this directory for the exact work per workload.
 *
 * Build: cc -O2 -Wall -Wextra -o bench bench.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/io_uring.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define PAGE 4096UL
#define MIB (1024UL * 1024UL)

/* ---------------------------------------------------------------- utils */

static const char *g_workload = "?";
static pid_t g_child = -1; /* helper process to kill on error */
static int g_thp = 0;      /* BENCH_THP=1: leave THP policy at system default */

static void die(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	fprintf(stderr, "bench %s: ", g_workload);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (e)
		fprintf(stderr, ": %s", strerror(e));
	fputc('\n', stderr);
	if (g_child > 0) {
		kill(g_child, SIGKILL);
		waitpid(g_child, NULL, 0);
	}
	exit(1);
}

static double now(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		die("clock_gettime");
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Anonymous private RW mapping, 4 KiB pages only (unless BENCH_THP=1). */
static char *map_anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap %zu bytes", size);
	if (!g_thp && madvise(p, size, MADV_NOHUGEPAGE) != 0)
		die("madvise(MADV_NOHUGEPAGE)");
	return p;
}

/* Allocate and populate (write-fault every page in), then fill with a
 * pattern: 64-bit word i holds i.  Outside any timed region. */
static char *map_populated(size_t size)
{
	char *p = map_anon(size);
	if (madvise(p, size, MADV_POPULATE_WRITE) != 0) {
		errno = 0;
		for (size_t off = 0; off < size; off += PAGE)
			p[off] = 0;
	}
	uint64_t *w = (uint64_t *)p;
	for (size_t i = 0; i < size / 8; i++)
		w[i] = i;
	return p;
}

static void unmap(void *p, size_t size)
{
	if (munmap(p, size) != 0)
		die("munmap");
}

static void xwrite(int fd, const void *buf, size_t n)
{
	const char *b = buf;
	while (n) {
		ssize_t r = write(fd, b, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("write(pipe)");
		b += r;
		n -= (size_t)r;
	}
}

static void xread(int fd, void *buf, size_t n)
{
	char *b = buf;
	while (n) {
		ssize_t r = read(fd, b, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read(pipe)");
		if (r == 0) {
			errno = 0;
			die("read(pipe): unexpected EOF");
		}
		b += r;
		n -= (size_t)r;
	}
}

/* One JSON line.  `extra` is either "" or ",\"k\":v,..." */
static void emit(int rep, uint64_t bytes, uint64_t ops, double seconds,
		 double rate, const char *unit, const char *extra)
{
	double ns_per_op = ops ? seconds * 1e9 / (double)ops : 0.0;
	printf("{\"workload\":\"%s\",\"rep\":%d,\"bytes\":%llu,\"ops\":%llu,"
	       "\"seconds\":%.9f,\"rate\":%.6g,\"unit\":\"%s\","
	       "\"ns_per_op\":%.3f,\"page_size\":%lu,\"thp\":%s%s}\n",
	       g_workload, rep, (unsigned long long)bytes,
	       (unsigned long long)ops, seconds, rate, unit, ns_per_op, PAGE,
	       g_thp ? "true" : "false", extra);
	fflush(stdout);
}

static double gbps(size_t bytes, double s) { return (double)bytes / s / 1e9; }

/* ------------------------------------------------------- fault-write/read */

static void wl_fault(size_t size, int reps, int write)
{
	size_t pages = size / PAGE;
	for (int rep = 0; rep < reps; rep++) {
		char *p = map_anon(size);
		volatile char *vp = p;
		unsigned long sum = 0;
		double t0 = now();
		if (write) {
			for (size_t i = 0; i < pages; i++)
				vp[i * PAGE] = 1;
		} else {
			for (size_t i = 0; i < pages; i++)
				sum += (unsigned char)vp[i * PAGE];
		}
		double t1 = now();
		unmap(p, size);
		double t2 = now();
		char extra[128];
		snprintf(extra, sizeof extra,
			 ",\"pages\":%zu,\"unmap_seconds\":%.9f,\"sum\":%lu",
			 pages, t2 - t1, sum);
		emit(rep, size, pages, t1 - t0, (double)pages / (t1 - t0),
		     "faults/s", extra);
	}
}

/* ------------------------------------------------ helper child (pvm/proc) */

struct helper {
	pid_t pid;
	uintptr_t addr; /* start of the child's populated buffer */
	int go_w;       /* parent keeps write end; child blocks reading it */
};

static struct helper helper_start(size_t size)
{
	int ready[2], go[2];
	if (pipe(ready) != 0 || pipe(go) != 0)
		die("pipe");
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		close(go[1]);
		char *buf = map_populated(size);
		uintptr_t a = (uintptr_t)buf;
		xwrite(ready[1], &a, sizeof a);
		char c;
		for (;;) { /* block until the parent closes its end (EOF) */
			ssize_t r = read(go[0], &c, 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
		}
		_exit(0);
	}
	g_child = pid;
	close(ready[1]);
	close(go[0]);
	struct helper h = { .pid = pid, .go_w = go[1] };
	xread(ready[0], &h.addr, sizeof h.addr);
	close(ready[0]);
	return h;
}

static void helper_stop(struct helper *h)
{
	close(h->go_w);
	kill(h->pid, SIGKILL);
	if (waitpid(h->pid, NULL, 0) < 0)
		die("waitpid");
	g_child = -1;
}

static void check_copy(const char *buf, size_t size)
{
	const uint64_t *w = (const uint64_t *)buf;
	size_t n = size / 8;
	if (w[0] != 0 || w[n / 2] != n / 2 || w[n - 1] != n - 1) {
		errno = 0;
		die("copied data does not match the child's pattern");
	}
}

static void wl_pvm(size_t size, int reps, size_t chunk)
{
	struct helper h = helper_start(size);
	char *buf = map_populated(size);
	for (int rep = 0; rep < reps; rep++) {
		memset(buf, 0xff, 3 * PAGE); /* make check_copy meaningful */
		uint64_t calls = 0;
		double t0 = now();
		size_t off = 0;
		while (off < size) {
			size_t n = size - off < chunk ? size - off : chunk;
			struct iovec l = { buf + off, n };
			struct iovec r = { (void *)(h.addr + off), n };
			ssize_t got = process_vm_readv(h.pid, &l, 1, &r, 1, 0);
			calls++;
			if (got <= 0) {
				if (got == 0)
					errno = 0;
				die("process_vm_readv at offset %zu", off);
			}
			off += (size_t)got;
		}
		double t1 = now();
		check_copy(buf, size);
		char extra[96];
		snprintf(extra, sizeof extra, ",\"chunk_bytes\":%zu,\"calls\":%llu",
			 chunk, (unsigned long long)calls);
		emit(rep, size, calls, t1 - t0, gbps(size, t1 - t0), "GB/s",
		     extra);
	}
	helper_stop(&h);
	unmap(buf, size);
}

static void wl_procmem(size_t size, int reps)
{
	const size_t chunk = MIB;
	struct helper h = helper_start(size);
	char *buf = map_populated(size);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)h.pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open %s", path);
	for (int rep = 0; rep < reps; rep++) {
		memset(buf, 0xff, 3 * PAGE);
		uint64_t calls = 0;
		double t0 = now();
		size_t off = 0;
		while (off < size) {
			size_t n = size - off < chunk ? size - off : chunk;
			ssize_t got = pread(fd, buf + off, n,
					    (off_t)(h.addr + off));
			calls++;
			if (got <= 0) {
				if (got == 0)
					errno = 0;
				die("pread %s at offset %zu", path, off);
			}
			off += (size_t)got;
		}
		double t1 = now();
		check_copy(buf, size);
		char extra[96];
		snprintf(extra, sizeof extra, ",\"chunk_bytes\":%zu,\"calls\":%llu",
			 chunk, (unsigned long long)calls);
		emit(rep, size, calls, t1 - t0, gbps(size, t1 - t0), "GB/s",
		     extra);
	}
	close(fd);
	helper_stop(&h);
	unmap(buf, size);
}

/* ------------------------------------------------------------- fork-cow */

static void wl_fork_cow(size_t size, int reps)
{
	size_t pages = size / PAGE;
	char *p = map_populated(size);
	for (int rep = 0; rep < reps; rep++) {
		int tp[2];
		if (pipe(tp) != 0)
			die("pipe");
		fflush(stdout);
		double t0 = now();
		pid_t pid = fork();
		if (pid == 0) {
			close(tp[0]);
			double c0 = now();
			volatile char *vp = p;
			for (size_t i = 0; i < pages; i++)
				vp[i * PAGE] = 1;
			double c1 = now() - c0;
			if (write(tp[1], &c1, sizeof c1) != sizeof c1)
				_exit(2);
			_exit(0);
		}
		double tf = now();
		if (pid < 0)
			die("fork");
		g_child = pid;
		int st;
		if (waitpid(pid, &st, 0) < 0)
			die("waitpid");
		double t1 = now();
		g_child = -1;
		close(tp[1]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			errno = 0;
			die("child failed (status %d)", st);
		}
		double child_s;
		xread(tp[0], &child_s, sizeof child_s);
		close(tp[0]);
		char extra[160];
		snprintf(extra, sizeof extra,
			 ",\"pages\":%zu,\"fork_seconds\":%.9f,"
			 "\"child_write_seconds\":%.9f",
			 pages, tf - t0, child_s);
		emit(rep, size, pages, t1 - t0, (double)pages / (t1 - t0),
		     "faults/s", extra);
	}
	unmap(p, size);
}

/* ------------------------------------------------------------- mprotect */

static void wl_mprotect_page(int reps, uint64_t calls)
{
	/* 4 pages PROT_NONE, middle two RW: [none][RW*][RW][none].
	 * The starred page is toggled; PROT_NONE guards make the VMA
	 * layout deterministic (no merging with unrelated neighbours). */
	char *base = mmap(NULL, 4 * PAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		die("mmap");
	char *p = base + PAGE;
	if (mprotect(p, 2 * PAGE, PROT_READ | PROT_WRITE) != 0)
		die("mprotect");
	p[0] = 1;
	p[PAGE] = 1;
	for (int rep = 0; rep < reps; rep++) {
		double t0 = now();
		for (uint64_t i = 0; i < calls; i++) {
			int prot = (i & 1) ? PROT_READ | PROT_WRITE : PROT_READ;
			if (mprotect(p, PAGE, prot) != 0)
				die("mprotect");
		}
		double t1 = now();
		if (calls & 1 && mprotect(p, PAGE, PROT_READ | PROT_WRITE) != 0)
			die("mprotect");
		emit(rep, PAGE, calls, t1 - t0, (double)calls / (t1 - t0),
		     "calls/s", ",\"region_pages\":2,\"toggled_pages\":1");
	}
	unmap(base, 4 * PAGE);
}

static void wl_mprotect_region(size_t size, int reps, uint64_t calls)
{
	size_t pages = size / PAGE;
	char *p = map_populated(size);
	for (int rep = 0; rep < reps; rep++) {
		double t0 = now();
		for (uint64_t i = 0; i < calls; i++) {
			int prot = (i & 1) ? PROT_READ | PROT_WRITE : PROT_READ;
			if (mprotect(p, size, prot) != 0)
				die("mprotect");
		}
		double t1 = now();
		if (calls & 1 && mprotect(p, size, PROT_READ | PROT_WRITE) != 0)
			die("mprotect");
		char extra[128];
		snprintf(extra, sizeof extra,
			 ",\"pages\":%zu,\"ptes_per_s\":%.6g", pages,
			 (double)pages * (double)calls / (t1 - t0));
		emit(rep, size, calls, t1 - t0, (double)calls / (t1 - t0),
		     "calls/s", extra);
	}
	unmap(p, size);
}

/* ----------------------------------------------------------- loads */

static void wl_random_load(size_t size, int reps, uint64_t loads)
{
	const uint64_t *w = (const uint64_t *)map_populated(size);
	uint64_t nwords = size / 8;
	for (int rep = 0; rep < reps; rep++) {
		uint64_t s = 88172645463325252ULL; /* same sequence every rep */
		uint64_t sum = 0;
		double t0 = now();
		for (uint64_t i = 0; i < loads; i++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			uint64_t idx =
				(uint64_t)((__extension__(unsigned __int128)s * nwords) >> 64);
			sum += w[idx];
		}
		double t1 = now();
		char extra[96];
		snprintf(extra, sizeof extra, ",\"sum\":%llu",
			 (unsigned long long)sum);
		emit(rep, size, loads, t1 - t0, (t1 - t0) * 1e9 / (double)loads,
		     "ns/access", extra);
	}
	unmap((void *)w, size);
}

static void wl_seq_load(size_t size, int reps)
{
	const uint64_t *w = (const uint64_t *)map_populated(size);
	uint64_t nwords = size / 8;
	for (int rep = 0; rep < reps; rep++) {
		uint64_t sum = 0;
		double t0 = now();
		for (uint64_t i = 0; i < nwords; i++)
			sum += w[i];
		__asm__ volatile("" : : "r"(sum));
		double t1 = now();
		char extra[96];
		snprintf(extra, sizeof extra, ",\"sum\":%llu,\"gb_per_s\":%.4f",
			 (unsigned long long)sum, gbps(size, t1 - t0));
		emit(rep, size, nwords, t1 - t0, (t1 - t0) * 1e9 / (double)nwords,
		     "ns/access", extra);
	}
	unmap((void *)w, size);
}

/* ------------------------------------------------------- references */

static void wl_memcpy(size_t size, int reps)
{
	char *src = map_populated(size);
	char *dst = map_populated(size);
	for (int rep = 0; rep < reps; rep++) {
		double t0 = now();
		memcpy(dst, src, size);
		__asm__ volatile("" : : "r"(dst) : "memory");
		double t1 = now();
		if (memcmp(dst, src, 4096) != 0) {
			errno = 0;
			die("memcpy mismatch");
		}
		emit(rep, size, 1, t1 - t0, gbps(size, t1 - t0), "GB/s", "");
	}
	unmap(src, size);
	unmap(dst, size);
}

/* ------------------------------------------------------------ pin-fast */

/* pin_user_pages_fast() from user space: IORING_REGISTER_BUFFERS pins every
 * page of each buffer (io_sqe_buffer_register() -> io_pin_pages() ->
 * pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM)), and
 * IORING_UNREGISTER_BUFFERS unpins them.  A buffer may be at most 1 GiB. */
static void wl_pin_fast(size_t size, int reps)
{
	const size_t max_buf = 1024 * MIB;
	size_t pages = size / PAGE;
	size_t nr = (size + max_buf - 1) / max_buf;
	char *p = map_populated(size);
	struct iovec *iov = calloc(nr, sizeof *iov);
	if (!iov)
		die("calloc");
	for (size_t i = 0; i < nr; i++) {
		iov[i].iov_base = p + i * max_buf;
		iov[i].iov_len = size - i * max_buf < max_buf ? size - i * max_buf : max_buf;
	}
	struct io_uring_params par;
	memset(&par, 0, sizeof par);
	int fd = (int)syscall(__NR_io_uring_setup, 1, &par);
	if (fd < 0)
		die("io_uring_setup");
	for (int rep = 0; rep < reps; rep++) {
		double t0 = now();
		if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, iov, (unsigned)nr) != 0)
			die("IORING_REGISTER_BUFFERS of %zu bytes", size);
		double t1 = now();
		if (syscall(__NR_io_uring_register, fd, IORING_UNREGISTER_BUFFERS, NULL, 0) != 0)
			die("IORING_UNREGISTER_BUFFERS");
		double t2 = now();
		char extra[128];
		snprintf(extra, sizeof extra, ",\"pages\":%zu,\"pin_seconds\":%.9f,\"unpin_seconds\":%.9f",
			 pages, t1 - t0, t2 - t1);
		emit(rep, size, pages, t2 - t0, (double)pages / (t2 - t0), "pages/s", extra);
	}
	close(fd);
	free(iov);
	unmap(p, size);
}

static void wl_null_syscall(int reps, uint64_t calls)
{
	for (int rep = 0; rep < reps; rep++) {
		long acc = 0;
		double t0 = now();
		for (uint64_t i = 0; i < calls; i++)
			acc += syscall(SYS_getppid);
		double t1 = now();
		if (acc <= 0) {
			errno = 0;
			die("getppid returned nonsense");
		}
		emit(rep, 0, calls, t1 - t0, (t1 - t0) * 1e9 / (double)calls,
		     "ns/call", "");
	}
}

/* ------------------------------------------------------------- main */

static void usage(void)
{
	fprintf(stderr,
		"usage: bench WORKLOAD [SIZE_MB] [REPS] [OPS]\n"
		"workloads: fault-write fault-read pvm-readv-1m pvm-readv-64m\n"
		"  procmem-read fork-cow mprotect-page mprotect-region\n"
		"  random-load seq-load memcpy pin-fast null-syscall\n"
		"SIZE_MB 0 or '-' = default (1024; random-load 4096).\n"
		"OPS overrides the call/load count of mprotect-page (1000000),\n"
		"  mprotect-region (100), random-load (10000000),\n"
		"  null-syscall (1000000).\n"
		"BENCH_THP=1 in the environment skips MADV_NOHUGEPAGE.\n");
	exit(1);
}

static unsigned long long parse_num(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "bench: bad %s '%s'\n", what, s);
		usage();
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 5)
		usage();
	g_workload = argv[1];
	const char *thp = getenv("BENCH_THP");
	g_thp = thp && strcmp(thp, "1") == 0;

	int is_random = strcmp(g_workload, "random-load") == 0;
	unsigned long long mb = is_random ? 4096 : 1024;
	if (argc > 2 && strcmp(argv[2], "-") != 0) {
		unsigned long long v = parse_num(argv[2], "SIZE_MB");
		if (v)
			mb = v;
	}
	int reps = 1;
	if (argc > 3) {
		unsigned long long v = parse_num(argv[3], "REPS");
		if (v < 1 || v > 1000000) {
			fprintf(stderr, "bench: REPS out of range\n");
			usage();
		}
		reps = (int)v;
	}
	unsigned long long ops = 0;
	if (argc > 4)
		ops = parse_num(argv[4], "OPS");
	if (mb > (1ULL << 24)) {
		fprintf(stderr, "bench: SIZE_MB too large\n");
		usage();
	}
	size_t size = (size_t)mb * MIB;
#define OPS(def) (ops ? ops : (def))

	if (!strcmp(g_workload, "fault-write"))
		wl_fault(size, reps, 1);
	else if (!strcmp(g_workload, "fault-read"))
		wl_fault(size, reps, 0);
	else if (!strcmp(g_workload, "pvm-readv-1m"))
		wl_pvm(size, reps, MIB);
	else if (!strcmp(g_workload, "pvm-readv-64m"))
		wl_pvm(size, reps, 64 * MIB);
	else if (!strcmp(g_workload, "procmem-read"))
		wl_procmem(size, reps);
	else if (!strcmp(g_workload, "fork-cow"))
		wl_fork_cow(size, reps);
	else if (!strcmp(g_workload, "mprotect-page"))
		wl_mprotect_page(reps, OPS(1000000));
	else if (!strcmp(g_workload, "mprotect-region"))
		wl_mprotect_region(size, reps, OPS(100));
	else if (!strcmp(g_workload, "random-load"))
		wl_random_load(size, reps, OPS(10000000));
	else if (!strcmp(g_workload, "seq-load"))
		wl_seq_load(size, reps);
	else if (!strcmp(g_workload, "memcpy"))
		wl_memcpy(size, reps);
	else if (!strcmp(g_workload, "pin-fast"))
		wl_pin_fast(size, reps);
	else if (!strcmp(g_workload, "null-syscall"))
		wl_null_syscall(reps, OPS(1000000));
	else {
		fprintf(stderr, "bench: unknown workload '%s'\n", g_workload);
		usage();
	}
	return 0;
}
