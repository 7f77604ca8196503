/* Acknowledgement waits: until every voter has applied and serves a write. */
#include "ackwait.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "node.h"
#include "relay.h"
#include "store.h"

/* One node's wait: a peer's request, or our own part of a fan-out. */
struct ackwait_local {
	struct ackwait_local *prev, *next;
	uint64_t index;
	uint64_t deadline;
	ackwait_local_cb cb;
	void *arg;
};

struct ackwait_op;

/* One voter of a fan-out. */
struct ackwait_slot {
	struct ackwait_op *op;
	raft_id id;
	bool have;
};

/*
 * A fan-out: listed in a->ops until answered, freed once answered and
 * every part (the relay's callbacks, our own local wait) has ended.
 */
struct ackwait_op {
	struct ackwait *a;
	struct ackwait_op *prev, *next;
	uint64_t index;
	uint64_t deadline;
	ackwait_all_cb cb;
	void *arg;
	unsigned pending; /* parts still out */
	bool answered;
	unsigned n;
	struct ackwait_slot slots[];
};

static void ackwait_tick_cb(uv_timer_t *t);

static void
ackwait_tick_start(struct ackwait *a)
{
	if (a->ticking || a->draining)
		return;
	a->ticking = true;
	uv_timer_start(&a->tick, ackwait_tick_cb, ACKWAIT_TICK_MS,
	               ACKWAIT_TICK_MS);
}

static void
ackwait_tick_maybe_stop(struct ackwait *a)
{
	if (a->ticking && a->nlocals == 0 && a->nops == 0) {
		uv_timer_stop(&a->tick);
		a->ticking = false;
	}
}

void
ackwait_init(struct ackwait *a, uv_loop_t *loop, struct node *node,
             struct relay *relay)
{
	memset(a, 0, sizeof(*a));
	a->loop = loop;
	a->node = node;
	a->relay = relay;
	uv_timer_init(loop, &a->tick);
	a->tick.data = a;
	a->started = true;
}

bool
ackwait_have(struct ackwait *a, uint64_t index)
{
	uint64_t now = uv_now(a->loop);

	return a->served_at != 0 &&
	       now - a->served_at <= ACKWAIT_SERVED_STALE_MS &&
	       a->served >= index &&
	       store_applied_index(a->node->store) >= index;
}

/* --- single-node waits --- */

static void
ackwait_local_end(struct ackwait *a, struct ackwait_local *l, bool have)
{
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		a->locals = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	a->nlocals--;
	l->cb(l->arg, have);
	free(l);
}

int
ackwait_local(struct ackwait *a, uint64_t index, unsigned bound_ms,
              ackwait_local_cb cb, void *arg)
{
	struct ackwait_local *l;

	if (a->draining)
		return DR_ECLOSED;
	if (ackwait_have(a, index)) {
		cb(arg, true);
		return 0;
	}
	if (a->nlocals >= ACKWAIT_LOCAL_MAX)
		return DR_EBUSY;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		abort();
	l->index = index;
	l->deadline = uv_now(a->loop) + bound_ms;
	l->cb = cb;
	l->arg = arg;
	l->next = a->locals;
	if (a->locals != NULL)
		a->locals->prev = l;
	a->locals = l;
	a->nlocals++;
	ackwait_tick_start(a);
	if (a->want_cb != NULL)
		a->want_cb(a->want_arg);
	return 0;
}

bool
ackwait_waiting(const struct ackwait *a)
{
	return a->nlocals > 0;
}

void
ackwait_on_want(struct ackwait *a, void (*cb)(void *arg), void *arg)
{
	a->want_cb = cb;
	a->want_arg = arg;
}

void
ackwait_served(struct ackwait *a, uint64_t index)
{
	struct ackwait_local *l, *next;

	/* A dnsd that reloaded an older state.db may go back: take it. */
	a->served = index;
	a->served_at = uv_now(a->loop);
	if (a->served_at == 0)
		a->served_at = 1;
	for (l = a->locals; l != NULL; l = next) {
		next = l->next;
		if (ackwait_have(a, l->index))
			ackwait_local_end(a, l, true);
	}
	ackwait_tick_maybe_stop(a);
}

/* --- fan-outs --- */

static void
ackwait_op_free_if_done(struct ackwait_op *op)
{
	if (op->answered && op->pending == 0)
		free(op);
}

/* "name name ..." of the voters that have the index. */
static void
ackwait_op_names(struct ackwait_op *op, struct dr_buf *names, unsigned *have)
{
	struct store_member m;
	char num[24];
	unsigned i;

	*have = 0;
	for (i = 0; i < op->n; i++) {
		const char *name = num;

		if (!op->slots[i].have)
			continue;
		if (store_member_by_raft_id(op->a->node->store, op->slots[i].id,
		                            &m) == 0)
			name = m.id;
		else
			(void)snprintf(num, sizeof(num), "%" PRIu64,
			               (uint64_t)op->slots[i].id);
		if (*have > 0)
			dr_buf_put_u8(names, ' ');
		dr_buf_put(names, name, strlen(name));
		(*have)++;
	}
	dr_buf_put_u8(names, '\0');
}

static void
ackwait_op_answer(struct ackwait_op *op)
{
	struct ackwait *a = op->a;
	struct dr_buf names;
	unsigned have;

	if (op->prev != NULL)
		op->prev->next = op->next;
	else
		a->ops = op->next;
	if (op->next != NULL)
		op->next->prev = op->prev;
	a->nops--;
	op->answered = true;
	dr_buf_init(&names);
	ackwait_op_names(op, &names, &have);
	if (have < op->n)
		log_debug("ackwait, index %" PRIu64 " on %u of %u voters",
		          op->index, have, op->n);
	op->cb(op->arg, have, op->n, (const char *)names.data);
	dr_buf_close(&names);
	ackwait_op_free_if_done(op);
}

/* Answers op once every voter has the index or every part has ended. */
static void
ackwait_op_check(struct ackwait_op *op)
{
	unsigned i, have = 0;

	if (op->answered) {
		ackwait_op_free_if_done(op);
		return;
	}
	for (i = 0; i < op->n; i++)
		have += op->slots[i].have;
	if (have == op->n || op->pending == 0)
		ackwait_op_answer(op);
}

static void
ackwait_self_cb(void *arg, bool have)
{
	struct ackwait_slot *sl = arg;

	sl->have = have;
	sl->op->pending--;
	ackwait_op_check(sl->op);
}

static void
ackwait_peer_cb(void *arg, int rv, const void *reply, size_t len)
{
	struct ackwait_slot *sl = arg;
	struct dr_msg_hdr h;
	struct dr_cursor c;

	if (rv == 0 && dr_wire_decode(reply, len, &h, &c) == 0 &&
	    h.type == DR_MSG_REPLY && h.status == DR_ST_OK)
		sl->have = true;
	sl->op->pending--;
	ackwait_op_check(sl->op);
}

/* Asks peer (a voter) whether it has op's index, within bound_ms. */
static void
ackwait_ask_peer(struct ackwait *a, struct ackwait_slot *sl,
                 const char *address, unsigned bound_ms)
{
	struct dr_wait w = { sl->op->index, bound_ms };
	struct dr_msg_hdr h;
	struct dr_buf b;

	memset(&h, 0, sizeof(h));
	h.type = DR_MSG_WAIT;
	h.flags = DR_WF_LOCAL;
	dr_buf_init(&b);
	dr_wire_begin(&b, &h);
	dr_wait_encode(&b, &w);
	dr_wire_end(&b);
	relay_request(a->relay, sl->id, address, b.data, b.len, bound_ms,
	              ackwait_peer_cb, sl);
	dr_buf_close(&b);
}

int
ackwait_all(struct ackwait *a, uint64_t index, unsigned bound_ms,
            ackwait_all_cb cb, void *arg)
{
	const struct raft_configuration *conf = &a->node->raft.configuration;
	struct ackwait_op *op;
	unsigned i, n = 0;

	if (a->draining)
		return DR_ECLOSED;
	if (a->nops >= ACKWAIT_OPS_MAX)
		return DR_EBUSY;
	for (i = 0; i < conf->n; i++)
		n += conf->servers[i].role == RAFT_VOTER;
	if (n > DR_WAIT_NODES_MAX)
		n = DR_WAIT_NODES_MAX;
	op = calloc(1, sizeof(*op) + n * sizeof(op->slots[0]));
	if (op == NULL)
		abort();
	op->a = a;
	op->index = index;
	op->deadline = uv_now(a->loop) + bound_ms;
	op->cb = cb;
	op->arg = arg;
	op->next = a->ops;
	if (a->ops != NULL)
		a->ops->prev = op;
	a->ops = op;
	a->nops++;
	/* Every part counts as pending before any can end. */
	for (i = 0; i < conf->n && op->n < n; i++) {
		if (conf->servers[i].role != RAFT_VOTER)
			continue;
		op->slots[op->n].op = op;
		op->slots[op->n].id = conf->servers[i].id;
		op->n++;
	}
	op->pending = op->n + 1;
	for (i = 0; i < op->n; i++) {
		struct ackwait_slot *sl = &op->slots[i];

		if (sl->id == a->node->id) {
			if (ackwait_local(a, index, bound_ms, ackwait_self_cb,
			                  sl) != 0)
				op->pending--; /* full: counts as not there */
		} else {
			const char *addr = NULL;
			unsigned j;

			for (j = 0; j < conf->n; j++)
				if (conf->servers[j].id == sl->id)
					addr = conf->servers[j].address;
			ackwait_ask_peer(a, sl, addr, bound_ms);
		}
	}
	op->pending--;
	ackwait_tick_start(a);
	ackwait_op_check(op);
	return 0;
}

/* --- telling followers the commit index --- */

static void
ackwait_nudge_cb(void *arg, int status, const char *msg)
{
	struct ackwait *a = arg;

	(void)status;
	(void)msg;
	a->nudging = false;
	if (a->nudge_again) {
		a->nudge_again = false;
		ackwait_nudge(a);
	}
}

void
ackwait_nudge(struct ackwait *a)
{
	if (a->draining || !node_is_leader(a->node))
		return;
	if (a->nudging) {
		a->nudge_again = true;
		return;
	}
	if (node_barrier(a->node, ackwait_nudge_cb, a) == 0)
		a->nudging = true;
}

/* --- deadlines and shutdown --- */

static void
ackwait_expire(struct ackwait *a, bool all)
{
	uint64_t now = uv_now(a->loop);
	struct ackwait_local *l, *lnext;
	struct ackwait_op *op, *onext;

	for (l = a->locals; l != NULL; l = lnext) {
		lnext = l->next;
		if (all || now >= l->deadline)
			ackwait_local_end(a, l, false);
	}
	for (op = a->ops; op != NULL; op = onext) {
		onext = op->next;
		if (all || now >= op->deadline)
			ackwait_op_answer(op);
	}
}

static void
ackwait_tick_cb(uv_timer_t *t)
{
	struct ackwait *a = t->data;

	ackwait_expire(a, false);
	ackwait_tick_maybe_stop(a);
}

void
ackwait_drain(struct ackwait *a)
{
	if (!a->started || a->draining)
		return;
	ackwait_expire(a, true);
	a->draining = true;
	if (a->ticking) {
		uv_timer_stop(&a->tick);
		a->ticking = false;
	}
}

void
ackwait_close(struct ackwait *a)
{
	if (!a->started)
		return;
	ackwait_drain(a);
	a->started = false;
	uv_close((uv_handle_t *)&a->tick, NULL);
}
