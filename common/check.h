/* -check: validates a node's flags, data directory and zone files. */
#ifndef DR_CHECK_H
#define DR_CHECK_H

#include <stdio.h>

#include "flags.h"

/*
 * Checks what dr_flags_parse cannot see in the values alone, starting and
 * writing nothing: the listen addresses resolve and use distinct TCP
 * ports, data.dir is a writable directory or can be created, and every
 * zone file reads (dr_zonefile_read) with no zone in two files. Writes an
 * "ok ..." line per item and a summary to out, and "prog: reason" per
 * problem ("FILE:LINE: reason" for a zone file) to errf. Returns the
 * number of problems.
 */
int dr_check(const struct dr_config *cfg, const char *prog, FILE *out,
             FILE *errf);

#endif
