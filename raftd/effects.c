/* The effects of one applied entry on records, as published to dnsd. */
#include "effects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

void
effects_init(struct effects *e)
{
	memset(e, 0, sizeof(*e));
	dr_buf_init(&e->buf);
}

void
effects_close(struct effects *e)
{
	dr_buf_close(&e->buf);
}

void
effects_reset(struct effects *e)
{
	dr_buf_reset(&e->buf);
	e->n = 0;
	e->reload = false;
}

/* Counts one more effect; false once the list is abandoned. */
static bool
effects_count(struct effects *e)
{
	if (++e->n > EFFECTS_MAX && !e->reload) {
		e->reload = true;
		dr_buf_reset(&e->buf);
	}
	return !e->reload;
}

static void
effects_put(struct effects *e, const struct dr_cmd *c)
{
	/* Arguments are bounded by the entry they come from. */
	if (dr_cmd_encode(c, &e->buf) != 0)
		abort();
}

void
effects_add(struct effects *e, struct dr_str zone, struct dr_str owner,
            struct dr_str type, unsigned long ttl, struct dr_str rdata)
{
	struct dr_cmd c = { .type = DR_CMD_RR_ADD, .nargs = 5 };
	char ttlbuf[24];

	if (!effects_count(e))
		return;
	c.args[0] = zone;
	c.args[1] = owner;
	c.args[2] = type;
	c.args[3].p = ttlbuf;
	c.args[3].len = (size_t)snprintf(ttlbuf, sizeof(ttlbuf), "%lu", ttl);
	c.args[4] = rdata;
	effects_put(e, &c);
}

void
effects_del(struct effects *e, struct dr_str zone, struct dr_str owner,
            struct dr_str type, struct dr_str rdata)
{
	struct dr_cmd c = { .type = DR_CMD_RR_DEL, .nargs = 4 };

	if (!effects_count(e))
		return;
	c.args[0] = zone;
	c.args[1] = owner;
	c.args[2] = type;
	c.args[3] = rdata;
	effects_put(e, &c);
}
