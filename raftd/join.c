/* The joiner: asks a member's ctld to add this node until it succeeds. */
#include "join.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "log.h"

static void join_attempt_cb(uv_timer_t *t);

static void
join_schedule(struct join *j)
{
	j->state = JOIN_IDLE;
	if (j->stopping)
		return;
	uv_timer_start(&j->timer, join_attempt_cb, j->backoff_ms, 0);
	j->backoff_ms *= 2;
	if (j->backoff_ms > JOIN_BACKOFF_MAX_MS)
		j->backoff_ms = JOIN_BACKOFF_MAX_MS;
}

static void
join_reply_cb(int rv, const char *answer, size_t len, const char *why,
              void *arg)
{
	struct join *j = arg;
	char reply[JOIN_REPLY_MAX];
	size_t i;

	j->lc = NULL;
	if (j->stopping) {
		j->state = JOIN_IDLE;
		return;
	}
	if (rv == 0) {
		/* One line; keep it printable for the log. */
		for (i = 0; i < len && i < sizeof(reply) - 1 &&
		            answer[i] != '\n' && answer[i] != '\r';
		     i++)
			reply[i] = answer[i] >= ' ' && answer[i] <= '~'
			               ? answer[i]
			               : '?';
		reply[i] = '\0';
		if (strcmp(reply, "SUCCESS") == 0) {
			log_info("join, %s accepted %s into the cluster",
			         j->target, j->node->cfg->id);
			j->state = JOIN_DONE;
			return;
		}
		why = reply;
	}
	log_warnx("join, via %s failed (%s); attempt %u, retrying in %u ms",
	          j->target, why, j->attempts, j->backoff_ms);
	join_schedule(j);
}

static void
join_attempt_cb(uv_timer_t *t)
{
	struct join *j = t->data;
	struct dr_lineclient_opts o;

	if (j->stopping)
		return;
	if (node_is_voter(j->node)) {
		log_info("join, %s is a voter; no need to join",
		         j->node->cfg->id);
		j->state = JOIN_DONE;
		return;
	}
	j->attempts++;
	if (j->attempts == 1)
		log_info("join, asking %s to add %s", j->target,
		         j->node->cfg->id);
	memset(&o, 0, sizeof(o));
	o.tls = j->tls;
	o.connect_ms = JOIN_CONNECT_MS;
	o.reply_ms = JOIN_ATTEMPT_MS;
	o.lines = 1;
	o.reply_max = JOIN_REPLY_MAX;
	if (dr_lineclient_start(&j->lc, j->loop, j->target, j->line,
	                        strlen(j->line), &o, join_reply_cb, j) != 0) {
		log_warnx("join, invalid address %s", j->target);
		join_schedule(j);
		return;
	}
	j->state = JOIN_TALKING;
}

int
join_start(struct join *j, uv_loop_t *loop, const struct dr_config *cfg,
           struct node *node, struct dr_tls *tls)
{
	struct dr_addr a;

	memset(j, 0, sizeof(*j));
	j->loop = loop;
	j->node = node;
	j->tls = tls;
	if (cfg->join == NULL)
		return 0;
	if (dr_addr_advertise(cfg->join, j->target, sizeof(j->target)) != 0 ||
	    dr_addr_parse(j->target, &a) != 0) {
		log_warnx("join, invalid -raft.join address %s", cfg->join);
		return DR_EINVAL;
	}
	if (node_is_voter(node)) {
		log_info("join, %s is already a voter; -raft.join %s unused",
		         cfg->id, cfg->join);
		return 0;
	}
	snprintf(j->line, sizeof(j->line), "cluster join %s %s %s %s\n",
	         cfg->id, node->raft_addr, node->ctl_addr, node->dns_addr);
	if (uv_timer_init(loop, &j->timer) != 0)
		return DR_EIO;
	j->timer.data = j;
	j->backoff_ms = JOIN_BACKOFF_MIN_MS;
	j->started = true;
	uv_timer_start(&j->timer, join_attempt_cb, 0, 0);
	return 0;
}

void
join_stop(struct join *j)
{
	if (!j->started || j->stopping)
		return;
	j->stopping = true;
	uv_timer_stop(&j->timer);
	uv_close((uv_handle_t *)&j->timer, NULL);
	if (j->lc != NULL)
		dr_lineclient_cancel(j->lc);
}
