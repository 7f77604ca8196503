/* Batched proposals: commands queued per loop iteration, one raft_apply. */
#include "propose.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "wire.h"

/* Entries per raft_apply; more wait for the next round of the loop. */
#define PROPOSE_MAX_BATCH 1024

struct propose_item {
	struct propose_item *next;
	void *buf; /* raft_malloc'ed; owned until handed to raft_apply */
	size_t len;
	uint64_t index; /* Raft index once proposed */
	uint64_t term;  /* leader term it was proposed in */
	propose_cb cb;
	void *arg;
};

struct propose_batch {
	struct raft_apply req;
	struct propose *p;
};

static void
propose_finish(struct propose_item *it, int status, const char *msg)
{
	if (it->buf != NULL)
		raft_free(it->buf);
	it->cb(it->arg, status, msg);
	free(it);
}

static void
propose_fail_list(struct propose_item *it, const char *msg)
{
	struct propose_item *next;

	for (; it != NULL; it = next) {
		next = it->next;
		propose_finish(it, DR_ST_NOTLEADER, msg);
	}
}

void
propose_fail_all(struct propose *p, const char *msg)
{
	struct propose_item *pending = p->pending, *queued = p->queued;

	/* Detach first: callbacks may submit again. */
	p->pending = p->pending_tail = NULL;
	p->queued = p->queued_tail = NULL;
	p->nqueued = 0;
	p->nbatches = 0;
	propose_fail_list(pending, msg);
	propose_fail_list(queued, msg);
}

/*
 * c-raft calls this once per raft_apply: after the batch's first entry was
 * applied, or when the batch failed. Replies go out per entry from
 * propose_applied, so only failures matter here.
 */
static void
propose_apply_cb(struct raft_apply *req, int status, void *result)
{
	struct propose_batch *b = req->data;
	struct propose *p = b->p;

	(void)result;
	free(b);
	if (status != 0 && !p->closed)
		propose_fail_all(p, raft_strerror(status));
}

static bool
propose_is_leader(struct propose *p)
{
	return raft_state(p->raft) == RAFT_LEADER;
}

/* Proposes up to PROPOSE_MAX_BATCH queued commands in one raft_apply. */
static void
propose_flush_batch(struct propose *p)
{
	struct raft_buffer bufs[PROPOSE_MAX_BATCH];
	struct propose_item *it, *head, *last = NULL;
	struct propose_batch *b;
	uint64_t first, term;
	unsigned n = 0, i;
	int rv;

	for (it = p->queued; it != NULL && n < PROPOSE_MAX_BATCH;
	     it = it->next) {
		bufs[n].base = it->buf;
		bufs[n].len = it->len;
		last = it;
		n++;
	}
	b = malloc(sizeof(*b));
	if (b == NULL)
		abort();
	b->p = p;
	b->req.data = b;
	/* raft_apply appends at the end of the leader's log. */
	first = raft_last_index(p->raft) + 1;
	term = p->raft->current_term;
	rv = raft_apply(p->raft, &b->req, bufs, n, propose_apply_cb);
	/* Detach the batch [head .. last] from the queue. */
	head = p->queued;
	p->queued = last->next;
	if (p->queued == NULL)
		p->queued_tail = NULL;
	p->nqueued -= n;
	last->next = NULL;
	if (rv != 0) {
		log_warnx("propose, %u entries refused (%s)", n,
		          raft_errmsg(p->raft));
		free(b);
		propose_fail_list(head, raft_strerror(rv));
		return;
	}
	log_debug("propose, %u entries from index %" PRIu64, n, first);
	p->batch_last[p->nbatches++] = first + n - 1;
	for (i = 0, it = head; it != NULL; it = it->next, i++) {
		it->buf = NULL; /* c-raft owns it now */
		it->index = first + i;
		it->term = term;
	}
	if (p->pending_tail != NULL)
		p->pending_tail->next = head;
	else
		p->pending = head;
	p->pending_tail = last;
}

/* Batches whose last entry c-raft has not applied yet. */
static unsigned
propose_inflight(struct propose *p)
{
	uint64_t applied = raft_last_applied(p->raft);
	unsigned i = 0, j;

	while (i < p->nbatches && p->batch_last[i] <= applied)
		i++;
	for (j = 0; i + j < p->nbatches; j++)
		p->batch_last[j] = p->batch_last[i + j];
	p->nbatches -= i;
	return p->nbatches;
}

void
propose_flush(struct propose *p)
{
	if (p->queued == NULL || p->closed)
		return;
	if (!propose_is_leader(p)) {
		struct propose_item *q = p->queued;

		p->queued = p->queued_tail = NULL;
		p->nqueued = 0;
		propose_fail_list(q, "leadership lost");
		return;
	}
	while (p->queued != NULL && propose_is_leader(p) &&
	       propose_inflight(p) < PROPOSE_MAX_INFLIGHT)
		propose_flush_batch(p);
}

static void
propose_check_cb(uv_check_t *h)
{
	propose_flush(h->data);
}

int
propose_init(struct propose *p, uv_loop_t *loop, struct raft *raft)
{
	memset(p, 0, sizeof(*p));
	p->raft = raft;
	if (uv_check_init(loop, &p->check) != 0)
		return DR_EIO;
	p->check.data = p;
	uv_check_start(&p->check, propose_check_cb);
	return 0;
}

void
propose_close(struct propose *p)
{
	if (p->closed)
		return;
	propose_fail_all(p, "shutting down");
	p->closed = true;
	uv_check_stop(&p->check);
	uv_close((uv_handle_t *)&p->check, NULL);
}

int
propose_submit(struct propose *p, const void *cmd, size_t len, propose_cb cb,
               void *arg)
{
	struct propose_item *it;

	if (p->closed)
		return DR_ECLOSED;
	if (!propose_is_leader(p))
		return DR_ENOTLEADER;
	if (len == 0 || len % 8 != 0)
		return DR_EINVAL;
	it = calloc(1, sizeof(*it));
	if (it == NULL)
		abort();
	it->buf = raft_malloc(len);
	if (it->buf == NULL)
		abort();
	memcpy(it->buf, cmd, len);
	it->len = len;
	it->cb = cb;
	it->arg = arg;
	if (p->queued_tail != NULL)
		p->queued_tail->next = it;
	else
		p->queued = it;
	p->queued_tail = it;
	p->nqueued++;
	return 0;
}

void
propose_applied(struct propose *p, uint64_t index, const char *rejected,
                uint64_t leader_term)
{
	struct propose_item *it;

	while ((it = p->pending) != NULL && it->index <= index) {
		p->pending = it->next;
		if (p->pending == NULL)
			p->pending_tail = NULL;
		if (it->index < index)
			propose_finish(it, DR_ST_NOTLEADER, "entry lost");
		else if (it->term != leader_term)
			propose_finish(it, DR_ST_NOTLEADER, "leadership lost");
		else if (rejected != NULL)
			propose_finish(it, DR_ST_ERROR,
			               rejected[0] != '\0'
			                   ? rejected
			                   : "command rejected by the state "
			                     "machine");
		else
			propose_finish(it, DR_ST_OK, "");
	}
}
