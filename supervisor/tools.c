/* dns-raft's one-shot subcommands: keygen and signal. */
#include "tools.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "key.h"

static int
tools_usage(const char *reason)
{
	fprintf(stderr, "dns-raft: %s\nsee dns-raft -h\n", reason);
	return 2;
}

static int
tools_keygen(int argc, char **argv)
{
	struct dr_key key;
	char err[1024];

	if (argc != 3 || argv[2][0] == '\0')
		return tools_usage("usage: dns-raft keygen FILE");
	if (dr_key_generate(argv[2], err, sizeof(err)) != 0) {
		fprintf(stderr, "dns-raft: keygen: %s\n", err);
		return 1;
	}
	/* Read back what was written: the id is that of the file's key. */
	if (dr_key_load(argv[2], &key, err, sizeof(err)) != 0) {
		fprintf(stderr, "dns-raft: keygen: %s\n", err);
		return 1;
	}
	printf("%s: new cluster key, key id %s\n", argv[2], key.id);
	explicit_bzero(&key, sizeof(key));
	return 0;
}

/* "HUP", "SIGHUP", ... -> the signal number, or 0. */
static int
tools_signal_number(const char *name)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = { { "HUP", SIGHUP },
		     { "TERM", SIGTERM },
		     { "INT", SIGINT } };
	size_t i;

	if (strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(name, sigs[i].name) == 0)
			return sigs[i].sig;
	return 0;
}

static int
tools_signal(int argc, char **argv)
{
	char *end;
	long pid;
	int sig;

	if (argc != 4)
		return tools_usage("usage: dns-raft signal HUP|TERM|INT PID");
	sig = tools_signal_number(argv[2]);
	if (sig == 0)
		return tools_usage("signal: the signal is HUP, TERM or INT");
	errno = 0;
	pid = strtol(argv[3], &end, 10);
	/* 0, -1 and negative pids are process groups, 1 is init. */
	if (argv[3][0] < '0' || argv[3][0] > '9' || *end != '\0' ||
	    errno != 0 || pid < 2 || pid > INT_MAX)
		return tools_usage("signal: PID is a process id (2 or more)");
	if (kill((pid_t)pid, sig) != 0) {
		fprintf(stderr, "dns-raft: signal: pid %ld: %s\n", pid,
		        strerror(errno));
		return 1;
	}
	return 0;
}

int
tools_run(int argc, char **argv)
{
	if (argc < 2)
		return -1;
	if (strcmp(argv[1], "keygen") == 0)
		return tools_keygen(argc, argv);
	if (strcmp(argv[1], "signal") == 0)
		return tools_signal(argc, argv);
	return -1;
}
