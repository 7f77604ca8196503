/*
 * Fuzz target: what a control client's (or peer's) bytes meet in ctld:
 * line framing, command parsing and building, and the record lines of a
 * zone replace. Pure code, no sockets: the input is split with line_next
 * as the server does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "line.h"
#include "replace.h"
#include "wire.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct replace *rp = NULL;
	struct dr_buf msg, out;
	size_t left = size, scanned = 0, linelen, consumed;

	dr_buf_init(&msg);
	dr_buf_init(&out);
	while (left > 0) {
		struct commands_parsed cp;
		enum commands_action act;
		const char *err;
		enum line_status st;

		st = line_next(p, left, true, &scanned, &linelen, &consumed);
		if (st != LINE_OK)
			break;
		scanned = 0;
		if (rp != NULL) {
			if (replace_line(rp, p, linelen) == REPLACE_END) {
				if (replace_finish(rp) == 0) {
					commands_parse(rp->line, rp->len, &cp,
					               &err);
					cp.records.p =
					    (const char *)rp->records.data;
					cp.records.len = rp->records.len;
					commands_build(&cp, &msg, &out, &act);
				}
				replace_free(rp);
				rp = NULL;
			}
		} else if (commands_parse(p, linelen, &cp, &err) == 0) {
			if (cp.has_body)
				rp = replace_new(p, linelen);
			else if (cp.id != COMMANDS_TOKEN_ADD)
				commands_build(&cp, &msg, &out, &act);
		}
		dr_buf_reset(&msg);
		dr_buf_reset(&out);
		p += consumed;
		left -= consumed;
	}
	replace_free(rp);
	dr_buf_close(&msg);
	dr_buf_close(&out);
	return 0;
}
