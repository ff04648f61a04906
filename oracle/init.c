/*
 * gupsim oracle: static /init for a throw-away QEMU guest.
 *
 * Build: cc -static -O2 -Wall -o init init.c
 *
 * Layout expected in the initramfs:
 *   /gupsim/config     "timeout_ms=N\n" (optional; default 10000)
 *   /gupsim/manifest   one line per program, in run order: "<binary>\t<name>\n"
 *                      (<binary> is a file name under /gupsim/bin/)
 *   /gupsim/bin/<binary>  static executables
 *
 * For each manifest line, in order, it forks a child (own process group,
 * stdin /dev/null, stdout+stderr on the output tty), execs the binary with
 * argv[0] = name, waits at most timeout_ms, then kills the whole process group.
 *
 * Program output goes to the output channel: /dev/ttyS1 (QEMU's second serial
 * port, so kernel console messages never interleave with it); if that cannot be
 * opened, to /dev/console. Markers (each a whole line, written with one write()):
 *
 *   @@GUPSIM@@ START release=<uname -r> machine=<uname -m> channel=<ttyS1|console> count=<n>
 *   @@GUPSIM@@ BEGIN <index> <name>
 *   ...program output...
 *   @@GUPSIM@@ END <index> exit=<n>|signal=<n>|timeout signal=<n>|error=<errno> ms=<elapsed>
 *   @@GUPSIM@@ ALLDONE
 *
 * Begin/end markers are also copied to /dev/console for the console log.
 * Finally: sync(), reboot(RB_POWER_OFF).
 *
 * pid 1 never takes a signal: SIGCHLD is blocked and collected with
 * sigtimedwait(); children restore the default signal mask before exec.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MARK "@@GUPSIM@@"
#define MAX_LINE 4096

static int out_fd = -1;     /* output channel */
static int console_fd = -1; /* /dev/console */
static const char *channel = "none";

static void write_all(int fd, const char *buf, size_t len)
{
	while (fd >= 0 && len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* a marker line to the output channel and (a copy) to the console */
static void marker(const char *fmt, ...)
{
	char line[MAX_LINE];
	int n = snprintf(line, sizeof line, "%s ", MARK);
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n - 2, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	write_all(out_fd, line, (size_t)n);
	if (console_fd >= 0 && console_fd != out_fd)
		write_all(console_fd, line, (size_t)n);
}

static void console_msg(const char *fmt, ...)
{
	char line[MAX_LINE];
	int n = snprintf(line, sizeof line, "gupsim-init: ");
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n - 2, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	write_all(console_fd >= 0 ? console_fd : 2, line, (size_t)n);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	/* should not get here; with -no-reboot a halt/restart also ends QEMU */
	reboot(RB_HALT_SYSTEM);
	for (;;)
		pause();
}

static void mount_fs(const char *src, const char *dir, const char *type, unsigned long flags,
		     const char *data)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, flags, data) != 0 && errno != EBUSY)
		console_msg("mount %s on %s failed: %s", type, dir, strerror(errno));
}

static int open_tty_raw(const char *path)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct termios t;
	if (tcgetattr(fd, &t) != 0) { /* no UART behind it */
		close(fd);
		return -1;
	}
	cfmakeraw(&t);
	t.c_oflag &= ~(tcflag_t)OPOST; /* no \n -> \r\n */
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	tcsetattr(fd, TCSANOW, &t);
	return fd;
}

static char *read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* kill the whole process group of pid, then reap every child we can */
static void kill_group(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

static void reap_stragglers(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void run_one(int index, const char *bin, const char *name, long timeout_ms,
		    const sigset_t *orig_mask)
{
	char path[512];
	snprintf(path, sizeof path, "/gupsim/bin/%s", bin);
	marker("BEGIN %d %s", index, name);

	long long start = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		marker("END %d error=%d ms=0", index, errno);
		return;
	}
	if (pid == 0) {
		setpgid(0, 0);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		sigprocmask(SIG_SETMASK, orig_mask, NULL);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0 && nul != 0) {
			dup2(nul, 0);
			close(nul);
		}
		dup2(out_fd, 1);
		dup2(out_fd, 2);
		char *const argv[] = {(char *)name, NULL};
		char *const envp[] = {"PATH=/gupsim/bin", "HOME=/tmp", "TMPDIR=/tmp", "TERM=dumb",
				      "LANG=C", NULL};
		execve(path, argv, envp);
		dprintf(2, "gupsim-init: execve %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* also from the parent: no race with the first kill */

	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	long long deadline = start + timeout_ms;
	int status = 0;
	int done = 0, timed_out = 0;
	while (!done) {
		pid_t w;
		while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
			if (w == pid) {
				done = 1;
				break;
			}
		}
		if (done)
			break;
		if (w < 0 && errno == ECHILD) { /* cannot happen, but never hang */
			status = -1;
			break;
		}
		long long left = deadline - now_ms();
		if (left <= 0) {
			timed_out = 1;
			kill_group(pid);
			while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
				;
			break;
		}
		struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000};
		sigtimedwait(&chld, NULL, &ts);
	}
	long long elapsed = now_ms() - start;
	/* leftovers of the program (its forked children) must not write after END */
	kill(-pid, SIGKILL);
	reap_stragglers();
	tcdrain(out_fd);

	if (timed_out)
		marker("END %d timeout signal=%d ms=%lld", index, SIGKILL, elapsed);
	else if (status == -1)
		marker("END %d error=%d ms=%lld", index, ECHILD, elapsed);
	else if (WIFEXITED(status))
		marker("END %d exit=%d ms=%lld", index, WEXITSTATUS(status), elapsed);
	else if (WIFSIGNALED(status))
		marker("END %d signal=%d ms=%lld", index, WTERMSIG(status), elapsed);
	else
		marker("END %d error=0 ms=%lld", index, elapsed);
}

int main(void)
{
	sigset_t chld, orig_mask;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &orig_mask);

	mount_fs("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_fs("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_fs("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount_fs("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	/* if devtmpfs was unavailable, make the nodes we need by hand */
	mknod("/dev/console", S_IFCHR | 0600, makedev(5, 1));
	mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3));
	mknod("/dev/ttyS1", S_IFCHR | 0600, makedev(4, 65));

	console_fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	out_fd = open_tty_raw("/dev/ttyS1");
	if (out_fd >= 0) {
		channel = "ttyS1";
	} else {
		out_fd = console_fd;
		channel = "console";
	}

	long timeout_ms = 10000;
	char *config = read_file("/gupsim/config");
	if (config) {
		char *p = strstr(config, "timeout_ms=");
		if (p)
			timeout_ms = strtol(p + strlen("timeout_ms="), NULL, 10);
		if (timeout_ms <= 0)
			timeout_ms = 10000;
	}

	char *manifest = read_file("/gupsim/manifest");
	if (!manifest) {
		console_msg("FATAL no /gupsim/manifest: %s", strerror(errno));
		marker("FATAL no-manifest");
		power_off();
	}
	int count = 0;
	for (char *p = manifest; *p; p++)
		if (*p == '\n')
			count++;

	struct utsname u;
	uname(&u);
	marker("START release=%s machine=%s channel=%s count=%d timeout_ms=%ld", u.release, u.machine,
	       channel, count, timeout_ms);

	int index = 0;
	char *save = NULL;
	for (char *line = strtok_r(manifest, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		if (!tab) {
			console_msg("bad manifest line: %s", line);
			continue;
		}
		*tab = '\0';
		run_one(index++, line, tab + 1, timeout_ms, &orig_mask);
	}
	marker("ALLDONE");
	if (out_fd >= 0)
		tcdrain(out_fd);
	power_off();
	return 0;
}
