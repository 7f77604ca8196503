/* dns-raft's one-shot subcommands: keygen and signal. */
#ifndef DR_TOOLS_H
#define DR_TOOLS_H

/* What dns-raft -h says about them. */
#define TOOLS_HELP                                                             \
	"\nsubcommands:\n"                                                     \
	"  dns-raft keygen FILE     writes a new cluster key (-cluster.key) "  \
	"to FILE,\n"                                                           \
	"                           mode 0600, never over an existing file;\n" \
	"                           prints its key id\n"                       \
	"  dns-raft signal SIG PID  sends SIG (HUP, TERM or INT) to PID, as "  \
	"kill\n"                                                               \
	"                           does (the ctld unit's ExecReload)\n"

/*
 * When argv[1] names a subcommand, runs it and returns the process exit
 * status: 0 done, 1 failed (the reason on stderr), 2 bad usage. Returns
 * -1 for anything else: the node's flags, for dr_startup.
 *
 *   keygen FILE     writes a new cluster key to FILE (dr_key_generate:
 *                   mode 0600, never over an existing file) and prints
 *                   its key id
 *   signal SIG PID  sends SIGHUP, SIGTERM or SIGINT to PID (the units'
 *                   ExecReload, which then needs no kill binary)
 */
int tools_run(int argc, char **argv);

#endif
