/* The effects of one applied entry on records, as published to dnsd. */
#ifndef RAFTD_EFFECTS_H
#define RAFTD_EFFECTS_H

#include <stdbool.h>
#include <stddef.h>

#include "wire.h"

/*
 * Past this many effects an entry is published as DR_WF_RELOAD with an
 * empty payload: a subscriber reloads state.db faster than it would
 * apply the list, and the message stays small.
 */
#define EFFECTS_MAX 10000

/*
 * A list of encoded RR_ADD / RR_DEL commands (cmd.h), in the order they
 * must be applied. Each effect is one record: RR_ADD = present from now on
 * with this TTL, RR_DEL = gone. A TTL change is an RR_DEL then an RR_ADD.
 */
struct effects {
	struct dr_buf buf; /* owned; empty once reload is set */
	size_t n;          /* effects counted, listed or not */
	bool reload;       /* more than EFFECTS_MAX */
};

void effects_init(struct effects *e);
void effects_close(struct effects *e);
/* Empties the list for the next entry. */
void effects_reset(struct effects *e);

/* Appends one effect; past EFFECTS_MAX only counts. */
void effects_add(struct effects *e, struct dr_str zone, struct dr_str owner,
                 struct dr_str type, unsigned long ttl, struct dr_str rdata);
void effects_del(struct effects *e, struct dr_str zone, struct dr_str owner,
                 struct dr_str type, struct dr_str rdata);

#endif
