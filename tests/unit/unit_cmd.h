/* Test helper: a Raft command encoded from NUL-terminated arguments. */
#ifndef DR_UNIT_CMD_H
#define DR_UNIT_CMD_H

#include <stdlib.h>
#include <string.h>

#include "cmd.h"

/* Appends the encoding of command type with args to b; aborts if invalid. */
static inline void
unit_cmd_encode(unsigned type, unsigned nargs, const char **args,
                struct dr_buf *b)
{
	struct dr_cmd c;

	memset(&c, 0, sizeof(c));
	c.type = type;
	c.nargs = nargs;
	for (unsigned i = 0; i < nargs; i++) {
		c.args[i].p = args[i];
		c.args[i].len = strlen(args[i]);
	}
	if (dr_cmd_encode(&c, b) != 0)
		abort();
}

#endif
