/*
 * fbc-seccomp-exec - run a program under a seccomp policy, for the "local"
 * runtime (no container engine on the machine).
 *
 *   fbc-seccomp-exec POLICY_FILE PROGRAM [ARG...]
 *   fbc-seccomp-exec --bpf POLICY_FILE OUT_FILE
 *
 * The second form writes the compiled filter (struct sock_filter[], as
 * seccomp_export_bpf gives it) to OUT_FILE instead of installing it: the
 * program bubblewrap's --seccomp FD loads (fallbackcheck/runtimes/bwrap.py).
 *
 * POLICY_FILE, written by the harness, one directive a line ('#' comments):
 *   default ACTION          exactly once
 *   arch x86_64|x86|x32     added to the filter besides the native arch
 *   rule SYSCALL ACTION
 * ACTION: allow | errno N | kill | kill_thread | kill_process | trap | log
 *
 * Like container runtimes, it warns about and skips syscalls libseccomp does
 * not know, and skips rules whose action is the default (libseccomp refuses
 * those). Two rules giving one syscall different actions are an error. The whole file is read before the filter is built, so directives
 * may come in any order. Errors: one line on stderr, exit 126.
 *
 * Built on the host only (needs libseccomp); never copied into images. Kernel
 * hosts (fallbackcheck/runtimes/kernel.py) run a static build of it in their
 * guest, from the boot's own work share.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DIRECTIVES 4096

static const char *policy_path;

struct directive {
	enum { D_ARCH, D_RULE } kind;
	char *name;
	uint32_t action;
	int lineno;
};

static __attribute__((noreturn, format(printf, 2, 3))) void die(int lineno, const char *fmt, ...)
{
	va_list ap;

	fputs("fbc-seccomp-exec: ", stderr);
	if (lineno)
		fprintf(stderr, "%s:%d: ", policy_path, lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(126);
}

/* The tokens after a default/rule name; all of them must be used. */
static uint32_t parse_action(char **save, int lineno)
{
	char *word = strtok_r(NULL, " \t", save), *num, *end;
	uint32_t action;
	long n;

	if (!word)
		die(lineno, "missing action");
	if (strcmp(word, "allow") == 0)
		action = SCMP_ACT_ALLOW;
	else if (strcmp(word, "kill") == 0 || strcmp(word, "kill_thread") == 0)
		action = SCMP_ACT_KILL;
	else if (strcmp(word, "kill_process") == 0)
		action = SCMP_ACT_KILL_PROCESS;
	else if (strcmp(word, "trap") == 0)
		action = SCMP_ACT_TRAP;
	else if (strcmp(word, "log") == 0)
		action = SCMP_ACT_LOG;
	else if (strcmp(word, "errno") == 0) {
		num = strtok_r(NULL, " \t", save);
		if (!num)
			die(lineno, "errno needs a number");
		errno = 0;
		n = strtol(num, &end, 10);
		if (errno || *end || end == num || n < 0 || n > 4095)
			die(lineno, "bad errno value '%s'", num);
		action = SCMP_ACT_ERRNO((uint32_t)n);
	} else {
		die(lineno, "unknown action '%s'", word);
	}
	if (strtok_r(NULL, " \t", save))
		die(lineno, "trailing words after the action");
	return action;
}

int main(int argc, char **argv)
{
	static struct directive dirs[MAX_DIRECTIVES];
	int ndirs = 0, lineno = 0, have_default = 0, rc;
	uint32_t default_action = 0;
	char *line = NULL;
	size_t linecap = 0;
	scmp_filter_ctx ctx;
	FILE *f;
	const char *bpf_out = NULL;

	if (argc == 4 && strcmp(argv[1], "--bpf") == 0) {
		bpf_out = argv[3];
		argv++;
		argc--;
	}
	if (argc < 3)
		die(0, "usage: fbc-seccomp-exec POLICY_FILE PROGRAM [ARG...] | --bpf POLICY_FILE OUT_FILE");
	policy_path = argv[1];
	f = fopen(policy_path, "r");
	if (!f)
		die(0, "cannot open %s: %s", policy_path, strerror(errno));

	while (getline(&line, &linecap, f) >= 0) {
		char *save = NULL, *word;

		lineno++;
		line[strcspn(line, "#\r\n")] = '\0';
		word = strtok_r(line, " \t", &save);
		if (!word)
			continue;
		if (strcmp(word, "default") == 0) {
			if (have_default++)
				die(lineno, "second default");
			default_action = parse_action(&save, lineno);
			continue;
		}
		if (ndirs == MAX_DIRECTIVES)
			die(lineno, "more than %d directives", MAX_DIRECTIVES);
		if (strcmp(word, "arch") == 0)
			dirs[ndirs].kind = D_ARCH;
		else if (strcmp(word, "rule") == 0)
			dirs[ndirs].kind = D_RULE;
		else
			die(lineno, "unknown directive '%s'", word);
		word = strtok_r(NULL, " \t", &save);
		if (!word)
			die(lineno, "missing name");
		dirs[ndirs].name = strdup(word);
		dirs[ndirs].lineno = lineno;
		if (dirs[ndirs].kind == D_RULE)
			dirs[ndirs].action = parse_action(&save, lineno);
		else if (strtok_r(NULL, " \t", &save))
			die(lineno, "trailing words after the arch");
		ndirs++;
	}
	fclose(f);
	free(line);
	if (!have_default)
		die(0, "%s has no default line", policy_path);

	ctx = seccomp_init(default_action);
	if (!ctx)
		die(0, "seccomp_init failed");

	/* Architectures first: a rule is added for every arch already in the filter. */
	for (int i = 0; i < ndirs; i++) {
		uint32_t arch;

		if (dirs[i].kind != D_ARCH)
			continue;
		arch = seccomp_arch_resolve_name(dirs[i].name);
		if (!arch)
			die(dirs[i].lineno, "unknown arch '%s'", dirs[i].name);
		rc = seccomp_arch_add(ctx, arch);
		if (rc < 0 && rc != -EEXIST)
			die(dirs[i].lineno, "seccomp_arch_add(%s): %s", dirs[i].name, strerror(-rc));
	}
	for (int i = 0; i < ndirs; i++) {
		int nr;

		if (dirs[i].kind != D_RULE)
			continue;
		/* libseccomp silently keeps the first of two; refuse to guess. */
		for (int j = 0; j < i; j++)
			if (dirs[j].kind == D_RULE && strcmp(dirs[j].name, dirs[i].name) == 0 &&
			    dirs[j].action != dirs[i].action)
				die(dirs[i].lineno, "%s already has another action on line %d",
				    dirs[i].name, dirs[j].lineno);
		if (dirs[i].action == default_action)
			continue;
		nr = seccomp_syscall_resolve_name(dirs[i].name);
		if (nr == __NR_SCMP_ERROR) {
			fprintf(stderr, "fbc-seccomp-exec: unknown syscall %s ignored\n", dirs[i].name);
			continue;
		}
		rc = seccomp_rule_add(ctx, dirs[i].action, nr, 0);
		if (rc < 0)
			die(dirs[i].lineno, "seccomp_rule_add(%s): %s", dirs[i].name, strerror(-rc));
	}

	if (bpf_out) {
		int fd = open(bpf_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd < 0)
			die(0, "cannot create %s: %s", bpf_out, strerror(errno));
		rc = seccomp_export_bpf(ctx, fd);
		if (rc < 0)
			die(0, "seccomp_export_bpf: %s", strerror(-rc));
		if (close(fd) < 0)
			die(0, "close %s: %s", bpf_out, strerror(errno));
		seccomp_release(ctx);
		return 0;
	}
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (rc < 0)
		die(0, "seccomp_attr_set(CTL_NNP): %s", strerror(-rc));
	rc = seccomp_load(ctx);
	if (rc < 0)
		die(0, "seccomp_load: %s", strerror(-rc));
	seccomp_release(ctx);

	execv(argv[2], argv + 2);
	die(0, "execv %s: %s", argv[2], strerror(errno));
}
