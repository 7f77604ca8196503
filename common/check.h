/* -check: validates a node's flags, data directory and zone files. */
#ifndef DR_CHECK_H
#define DR_CHECK_H

#include <stdio.h>

#include "flags.h"

/*
 * Checks what dr_flags_parse cannot see in the values alone, starting and
 * writing nothing: the listen addresses resolve and use distinct TCP
 * ports, data.dir is a writable directory or can be created, and every
 * zone file reads (dr_zonefile_read) with no zone in two files; then
 * more (may be NULL), the program's own checks, which writes the same
 * kind of lines and returns its number of problems. Writes an "ok ..."
 * line per item and a last "ok" to out, and "prog: reason" per problem
 * ("prog: FILE:LINE: reason" for a zone file) and a summary to errf.
 * Returns the number of problems.
 */
int dr_check(const struct dr_config *cfg, const char *prog, FILE *out,
             FILE *errf, int (*more)(FILE *out, FILE *errf, const char *prog));

#endif
