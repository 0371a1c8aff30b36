/*
 * fbc.h - the result protocol of the API probes.
 *
 * A probe calls one libc API and reports what it saw as exactly one JSON line
 * on stdout, then exits 0. It never judges: the catalogue compares the
 * observation with its prediction. So anything else - another exit status, a
 * signal, no line - means the probe did not get to observe (libc aborted, the
 * loader failed, the probe itself broke), and the runner records that apart.
 *
 *   {"outcome":"ok","errno":null,"detail":"..."}
 *   {"outcome":"error","errno":"EPERM","errno_num":1,"detail":"..."}
 *   {"outcome":"absent","symbol":"closefrom","errno":null,"detail":"..."}
 *
 * fbc_error(0, ...) is for an API that failed without saying why: it gives
 * "errno":null,"errno_num":0 rather than inventing a name.
 *
 * fbc_broken() is LTP's TBROK: the probe's own setup failed (mkstemp, dup2),
 * so there is nothing to report about the API. It writes to stderr only and
 * exits 2, which the harness classifies as "broken".
 *
 * Probes are built against glibc 2.31 headers (Debian 11) and run on newer
 * glibcs, so APIs added after 2.31 are looked up at run time with FBC_SYM
 * and reported "absent" where the libc lacks them.
 */
#ifndef FBC_H
#define FBC_H

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errnames.h"
#include "jsonesc.h"

/* A void *: the caller casts it to the function type it declares itself. */
#define FBC_SYM(name) dlsym(RTLD_DEFAULT, #name)

/*
 * FBC_SYM for APIs that moved into libc.so.6: timer_*, aio_* (librt) and
 * getaddrinfo_a (libanl) were merged into libc in glibc 2.34, but the 2.31
 * build does not link librt/libanl, so on older images the symbol is only in
 * that library. Look in what is loaded first (libc, on 2.34+), else dlopen
 * `library` (e.g. "librt.so.1") and look there. NULL: absent from both. The
 * handle is never closed: the probe calls the function until it exits.
 */
static inline void *fbc_sym_in(const char *library, const char *name)
{
	void *p = dlsym(RTLD_DEFAULT, name), *h;

	if (!p && (h = dlopen(library, RTLD_NOW)) != NULL)
		p = dlsym(h, name);
	return p;
}

#define FBC_NORETURN_FMT(f, a) __attribute__((noreturn, format(printf, f, a)))

/* Line-buffered, so the line is out before a later crash could lose it. */
__attribute__((constructor)) static void fbc_line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

__attribute__((noreturn)) static inline void
fbc_emit(const char *head, const char *fmt, va_list ap)
{
	char raw[1024], esc[sizeof raw * FBC_JSON_MAX_GROWTH];

	vsnprintf(raw, sizeof raw, fmt, ap);
	fbc_json_escape(esc, sizeof esc, raw, strlen(raw));
	printf("{%s,\"detail\":\"%s\"}\n", head, esc);
	fflush(stdout);
	exit(0);
}

FBC_NORETURN_FMT(1, 2) static inline void fbc_ok(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fbc_emit("\"outcome\":\"ok\",\"errno\":null", fmt, ap);
}

FBC_NORETURN_FMT(2, 3) static inline void fbc_error(int err, const char *fmt, ...)
{
	char head[96];
	va_list ap;

	if (err)
		snprintf(head, sizeof head, "\"outcome\":\"error\",\"errno\":\"%s\",\"errno_num\":%d",
			 fbc_errno_name(err), err);
	else
		snprintf(head, sizeof head, "\"outcome\":\"error\",\"errno\":null,\"errno_num\":0");
	va_start(ap, fmt);
	fbc_emit(head, fmt, ap);
}

/*
 * The "errno-after" mode of a probe: the API succeeded, and `err` is errno as the call left
 * it (the probe set errno to 0 just before the call, so "0" means untouched). A stale ENOSYS
 * left by a fallback is what glibc's own errno-testing wrappers later misread (ppoll,
 * pselect, sigtimedwait: docs/findings-time64.md section 6).
 *   {"outcome":"ok","errno":"ENOSYS","errno_num":38,"detail":"..."}  or "errno":"0"
 */
FBC_NORETURN_FMT(2, 3) static inline void fbc_ok_errno_after(int err, const char *fmt, ...);

/* Not a vararg function itself, so fbc_emit gets its va_list via this shim. */
__attribute__((noreturn)) static inline void fbc_emit_v(const char *head, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fbc_emit(head, fmt, ap);
}

static inline void fbc_ok_errno_after(int err, const char *fmt, ...)
{
	char head[96];
	va_list ap;

	snprintf(head, sizeof head, "\"outcome\":\"ok\",\"errno\":\"%s\",\"errno_num\":%d",
		 err ? fbc_errno_name(err) : "0", err);
	va_start(ap, fmt);
	fbc_emit(head, fmt, ap);
}

__attribute__((noreturn)) static inline void fbc_absent(const char *symbol)
{
	char esc[64 * FBC_JSON_MAX_GROWTH], head[sizeof esc + 64];
	size_t len = strlen(symbol);	/* symbols are short literals; cap it anyway */

	fbc_json_escape(esc, sizeof esc, symbol, len < 64 ? len : 64);
	snprintf(head, sizeof head, "\"outcome\":\"absent\",\"symbol\":\"%s\",\"errno\":null", esc);
	fbc_emit_v(head, "%s is not in this libc", symbol);
}

FBC_NORETURN_FMT(1, 2) static inline void fbc_broken(const char *fmt, ...)
{
	va_list ap;

	fputs("fbc: probe broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/*
 * A new empty scratch file, in /tmp or, where /tmp is missing or read-only, in the
 * working directory: its path goes to `path` (at least 64 bytes), its descriptor is
 * returned. Failing that the probe is broken (its setup, not the API, failed).
 */
static inline int fbc_scratch_file(const char *name, char *path, size_t size)
{
	static const char *const dirs[] = { "/tmp/", "" };
	int fd = -1;

	for (size_t i = 0; fd < 0 && i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(path, size, "%sfbc-%s-XXXXXX", dirs[i], name);
		fd = mkstemp(path);
	}
	if (fd < 0)
		fbc_broken("mkstemp failed in /tmp and in the working directory: %s", strerror(errno));
	return fd;
}

#endif
