/*
 * runner - run probes one after another and report each as one JSON line.
 *
 *   runner [-t SECONDS] [-w SECONDS] SPEC...      SPEC = "ID=PATH[ ARG...]"
 *
 * -w: before the first probe, wait (at most SECONDS) for a SIGUSR1, so that the caller can
 * read the OCI config the runtime was handed while the container still exists (dockerd
 * deletes its bundle when the container exits). The runner first prints
 * {"runner_hold":true} once SIGUSR1 is blocked: a signal sent before that would be dropped
 * (PID 1 ignores what it has no handler for), so the caller waits for the line. Uses
 * rt_sigprocmask and rt_sigtimedwait, which every profile allows; if the wait fails, the
 * probes simply run.
 *
 * Built static with musl for x86_64 and copied into every image (i386 ones
 * too: the kernel is 64-bit). It must work under the strictest profile, so
 * it uses only fork, execve, pipe2, poll, wait4, kill, read, write, close,
 * dup2, fcntl, setpgid and clock_gettime - never posix_spawn/vfork/clone3,
 * whose fallbacks are what is under test.
 *
 * Output (each line built in memory and written with one write()):
 *   {"runner":"fallbackcheck","protocol":1,"probes":N,"timeout_s":T}
 *   {"id":..,"argv":[..],"exit":0,"signal":null,"signal_name":null,"core":false,
 *    "timeout":false,"exec_errno":null,"elapsed_ms":12,"stdout":"..","stderr":".."}
 *   {"runner_done":true}
 * Bad usage: one line on stderr, exit 2. Otherwise exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errnames.h"
#include "jsonesc.h"

#define CAPTURE_MAX 8192	/* bytes kept per stream; the rest is drained */
#define STRAGGLER_MS 200	/* probe exited, a grandchild still holds a pipe */
#define DRAIN_MS 100		/* after SIGKILL, wait this long for EOF at most */
#define MAX_FD 1024		/* fds closed in the child before execve */

static char *const child_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LC_ALL=C", NULL,
};

static const char *const signal_names[] = {
	[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
	[SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
	[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
	[SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
	[SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN",
	[SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU",
	[SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
	[SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR",
	[SIGSYS] = "SIGSYS",
};

struct spec {
	char *id;
	char **argv;		/* argv[0] is the path */
	int argc;
};

struct stream {
	int fd;			/* -1 once at EOF */
	char buf[CAPTURE_MAX];
	size_t len;
};

struct result {
	int status;		/* valid if reaped */
	int reaped, timeout, exec_errno;
	int64_t elapsed_ms;
	struct stream out, err;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(1);	/* nobody is listening any more */
		p += w;
		n -= (size_t)w;
	}
}

static void usage(const char *why)
{
	char line[512];
	int n = snprintf(line, sizeof line,
			 "runner: %s (usage: runner [-t SECONDS] ID=PATH[ ARG...]...)\n", why);

	if (n > (int)sizeof line - 1)
		n = sizeof line - 1;
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		_exit(2);
	_exit(2);
}

/* "ID=PATH ARG ARG", split in place on '=' and on every single space. */
static void parse_spec(char *text, struct spec *sp)
{
	char *eq = strchr(text, '='), *p;
	int n = 1;

	if (!eq || eq == text || eq[1] == '\0' || eq[1] == ' ')
		usage("a SPEC needs a non-empty ID and PATH");
	*eq = '\0';
	sp->id = text;
	for (p = eq + 1; *p; p++)
		n += *p == ' ';
	sp->argv = calloc((size_t)n + 1, sizeof *sp->argv);
	if (!sp->argv)
		usage("out of memory");
	sp->argc = 0;
	sp->argv[sp->argc++] = eq + 1;
	for (p = eq + 1; *p; p++) {
		if (*p == ' ') {
			*p = '\0';
			sp->argv[sp->argc++] = p + 1;
		}
	}
}

static __attribute__((noreturn)) void child(const struct spec *sp, int out, int err, int status_fd)
{
	int e;

	setpgid(0, 0);
	if (dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
		goto fail;
	fcntl(STDOUT_FILENO, F_SETFD, 0);	/* in case dup2 was a no-op */
	fcntl(STDERR_FILENO, F_SETFD, 0);
	for (int fd = 3; fd < MAX_FD; fd++)
		if (fd != status_fd)
			close(fd);
	execve(sp->argv[0], sp->argv, child_env);
fail:
	e = errno;
	if (write(status_fd, &e, sizeof e) < 0)
		_exit(127);
	_exit(127);
}

/* Read what is there; at EOF or on error, close and mark the stream done. */
static void pump(struct stream *s)
{
	char scratch[4096];
	ssize_t n;

	if (s->len < CAPTURE_MAX)
		n = read(s->fd, s->buf + s->len, CAPTURE_MAX - s->len);
	else
		n = read(s->fd, scratch, sizeof scratch);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(s->fd);
		s->fd = -1;
	} else if (s->len < CAPTURE_MAX) {
		s->len += (size_t)n;
	}
}

static void kill_group(pid_t pid)
{
	if (kill(-pid, SIGKILL) < 0)
		kill(pid, SIGKILL);	/* setpgid never happened */
}

static void reap(pid_t pid, struct result *r, int flags)
{
	pid_t w;

	do
		w = waitpid(pid, &r->status, flags);
	while (w < 0 && errno == EINTR);
	if (w == pid)
		r->reaped = 1;
	else if (w < 0)
		r->reaped = -1;	/* ECHILD: SIGCHLD ignored upstream; status unknown */
}

static void run(const struct spec *sp, int timeout_s, struct result *r)
{
	int fds[6] = { -1, -1, -1, -1, -1, -1 }, *po = fds, *pe = fds + 2, *ps = fds + 4;
	int status_fd, got = 0;
	int64_t start, deadline, exited_at = 0;
	pid_t pid = -1;

	memset(r, 0, sizeof *r);
	r->out.fd = r->err.fd = -1;
	/* A failure here is reported as if execve had failed with that errno. */
	if (pipe2(po, O_CLOEXEC) == 0 && pipe2(pe, O_CLOEXEC) == 0 && pipe2(ps, O_CLOEXEC) == 0)
		pid = fork();
	if (pid == 0)
		child(sp, po[1], pe[1], ps[1]);
	start = now_ms();
	deadline = start + (int64_t)timeout_s * 1000;
	if (pid < 0) {
		r->exec_errno = errno;
		for (int i = 0; i < 6; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return;
	}
	close(po[1]);
	close(pe[1]);
	close(ps[1]);
	setpgid(pid, pid);	/* both sides, so kill(-pid) works at once */
	r->out.fd = po[0];
	r->err.fd = pe[0];
	status_fd = ps[0];

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = r->out.fd, .events = POLLIN },
			{ .fd = r->err.fd, .events = POLLIN },
			{ .fd = status_fd, .events = POLLIN },
		};
		int64_t now, until;
		int open = r->out.fd >= 0 || r->err.fd >= 0 || status_fd >= 0;

		if (!r->reaped) {
			reap(pid, r, WNOHANG);
			if (r->reaped)
				exited_at = now_ms();
		}
		if (r->reaped && !open)
			break;
		now = now_ms();
		if (!r->reaped && now >= deadline) {
			r->timeout = 1;
			exited_at = now;
			break;
		}
		if (r->reaped && now >= exited_at + STRAGGLER_MS)
			break;
		/* Child exit wakes no poll while a pipe is held: look every few ms. */
		until = r->reaped ? exited_at + STRAGGLER_MS : now + (open ? 5 : 1);
		if (!r->reaped && until > deadline)
			until = deadline;
		if (poll(p, 3, (int)(until - now)) <= 0)
			continue;
		if (p[0].revents)
			pump(&r->out);
		if (p[1].revents)
			pump(&r->err);
		if (p[2].revents) {
			ssize_t n = read(status_fd, (char *)&r->exec_errno + got,
					 sizeof r->exec_errno - (size_t)got);

			if (n > 0 && (got += (int)n) < (int)sizeof r->exec_errno)
				continue;
			if (n < 0 && errno == EINTR)
				continue;
			if (got != (int)sizeof r->exec_errno)
				r->exec_errno = 0;
			close(status_fd);
			status_fd = -1;
		}
	}

	/* Timeout or stragglers: end the whole group; never wait for it politely. */
	if (r->timeout || r->out.fd >= 0 || r->err.fd >= 0) {
		int64_t until = now_ms() + DRAIN_MS;

		kill_group(pid);
		if (!r->reaped)
			reap(pid, r, 0);
		while ((r->out.fd >= 0 || r->err.fd >= 0) && now_ms() < until) {
			struct pollfd p[2] = {
				{ .fd = r->out.fd, .events = POLLIN },
				{ .fd = r->err.fd, .events = POLLIN },
			};

			if (poll(p, 2, (int)(until - now_ms())) <= 0)
				continue;
			if (p[0].revents)
				pump(&r->out);
			if (p[1].revents)
				pump(&r->err);
		}
	}
	if (r->out.fd >= 0)
		close(r->out.fd);
	if (r->err.fd >= 0)
		close(r->err.fd);
	if (status_fd >= 0)
		close(status_fd);
	r->elapsed_ms = exited_at - start;

	/* As PID 1 in a container we inherit orphans: reap them between probes. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Append helpers over a buffer sized in advance, so nothing is ever cut. */
struct line {
	char *p;
	size_t len, cap;
};

static void put(struct line *l, const char *s)
{
	size_t n = strlen(s);

	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void put_str(struct line *l, const void *s, size_t n)
{
	put(l, "\"");
	l->len += fbc_json_escape(l->p + l->len, l->cap - l->len, s, n);
	put(l, "\"");
}

static void put_int(struct line *l, long long v)
{
	l->len += (size_t)snprintf(l->p + l->len, l->cap - l->len, "%lld", v);
}

static void report(const struct spec *sp, const struct result *r)
{
	int signaled = r->reaped == 1 && WIFSIGNALED(r->status);
	int exited = r->reaped == 1 && WIFEXITED(r->status);
	size_t cap = 1024 + FBC_JSON_MAX_GROWTH * (strlen(sp->id) + r->out.len + r->err.len);
	struct line l = { 0 };
	int sig;

	for (int i = 0; i < sp->argc; i++)
		cap += 4 + FBC_JSON_MAX_GROWTH * strlen(sp->argv[i]);
	l.cap = cap;
	l.p = malloc(cap);
	if (!l.p)
		_exit(1);

	put(&l, "{\"id\":");
	put_str(&l, sp->id, strlen(sp->id));
	put(&l, ",\"argv\":[");
	for (int i = 0; i < sp->argc; i++) {
		if (i)
			put(&l, ",");
		put_str(&l, sp->argv[i], strlen(sp->argv[i]));
	}
	put(&l, "],\"exit\":");
	if (exited)
		put_int(&l, WEXITSTATUS(r->status));
	else
		put(&l, "null");
	put(&l, ",\"signal\":");
	if (signaled) {
		sig = WTERMSIG(r->status);
		put_int(&l, sig);
		put(&l, ",\"signal_name\":\"");
		if (sig > 0 && (size_t)sig < sizeof signal_names / sizeof signal_names[0] &&
		    signal_names[sig]) {
			put(&l, signal_names[sig]);
		} else {
			put(&l, "SIG");
			put_int(&l, sig);
		}
		put(&l, "\",\"core\":");
		put(&l, (r->status & 0x80) ? "true" : "false");
	} else {
		put(&l, "null,\"signal_name\":null,\"core\":false");
	}
	put(&l, ",\"timeout\":");
	put(&l, r->timeout ? "true" : "false");
	put(&l, ",\"exec_errno\":");
	if (r->exec_errno) {
		put(&l, "\"");
		put(&l, fbc_errno_name(r->exec_errno));
		put(&l, "\"");
	} else {
		put(&l, "null");
	}
	put(&l, ",\"elapsed_ms\":");
	put_int(&l, r->elapsed_ms);
	put(&l, ",\"stdout\":");
	put_str(&l, r->out.buf, r->out.len);
	put(&l, ",\"stderr\":");
	put_str(&l, r->err.buf, r->err.len);
	put(&l, "}\n");
	write_all(l.p, l.len);
	free(l.p);
}

/* Wait for SIGUSR1 (blocked, so that even as PID 1 it stays pending), then restore the
 * mask so that the probes inherit an empty one. */
static void hold(long seconds)
{
	sigset_t set;
	struct timespec limit = { .tv_sec = seconds };

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return;
	write_all("{\"runner_hold\":true}\n", 21);
	sigtimedwait(&set, NULL, &limit);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int main(int argc, char **argv)
{
	static struct result r;	/* two capture buffers: keep them off the stack */
	struct spec *specs;
	long timeout_s = 10, hold_s = 0;
	char head[128];
	int i = 1, n;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *val;
		char *end;

		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strncmp(argv[i], "-w", 2) == 0) {
			val = argv[i][2] ? argv[i] + 2 : (++i < argc ? argv[i] : "");
			errno = 0;
			hold_s = strtol(val, &end, 10);
			if (errno || end == val || *end || hold_s < 1 || hold_s > 86400)
				usage("-w needs a whole number of seconds, 1 to 86400");
			continue;
		}
		if (strncmp(argv[i], "-t", 2) != 0)
			usage("unknown option");
		val = argv[i][2] ? argv[i] + 2 : (++i < argc ? argv[i] : "");
		errno = 0;
		timeout_s = strtol(val, &end, 10);
		if (errno || end == val || *end || timeout_s < 1 || timeout_s > 86400)
			usage("-t needs a whole number of seconds, 1 to 86400");
	}
	if (hold_s)
		hold(hold_s);
	if (i >= argc)
		usage("no SPEC given");

	specs = calloc((size_t)(argc - i), sizeof *specs);
	if (!specs)
		usage("out of memory");
	for (n = 0; i < argc; i++, n++)
		parse_spec(argv[i], &specs[n]);	/* all checked before any runs */

	write_all(head, (size_t)snprintf(head, sizeof head,
		"{\"runner\":\"fallbackcheck\",\"protocol\":1,\"probes\":%d,\"timeout_s\":%ld}\n",
		n, timeout_s));
	for (i = 0; i < n; i++) {
		run(&specs[i], (int)timeout_s, &r);
		report(&specs[i], &r);
	}
	write_all("{\"runner_done\":true}\n", 21);
	return 0;
}
