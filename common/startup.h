/* The start of every dns-raft main: flags, -h, -check, logging, limits. */
#ifndef DR_STARTUP_H
#define DR_STARTUP_H

#include <stdio.h>

#include "flags.h"

/*
 * Parses the flags into cfg and sets the log role to prog. Bad flags:
 * prints "prog: reason" on stderr and returns 2. -h: prints the usage and
 * help_extra (may be NULL) and returns 0. -check: runs dr_check with
 * check_more (may be NULL, see check.h) and returns 0 when it found no
 * problem, else 1. A -cluster.key file that dr_keyring_load refuses:
 * prints "prog: reason" and returns 2. Otherwise raises the open-file limit to
 * its hard limit, logs where raft and ctl listen when no cluster key made them
 * loopback only, and returns -1: the process goes on, and frees cfg with
 * dr_flags_free.
 */
int dr_startup(struct dr_config *cfg, int argc, char **argv, const char *prog,
               const char *help_extra,
               int (*check_more)(FILE *out, FILE *errf, const char *prog));

#endif
