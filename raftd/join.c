/* The joiner: asks a member's ctld to add this node until it succeeds. */
#include "join.h"

#include <netdb.h>
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
join_tcp_close_cb(uv_handle_t *h)
{
	struct join *j = h->data;

	if (j->succeeded) {
		j->state = JOIN_DONE;
		return;
	}
	join_schedule(j);
}

/* Ends the current attempt; why == NULL means success. */
static void
join_end(struct join *j, const char *why)
{
	if (j->state != JOIN_TALKING)
		return;
	uv_timer_stop(&j->timer);
	j->state = JOIN_CLOSING;
	j->succeeded = why == NULL;
	if (why == NULL)
		log_info("join, %s accepted %s into the cluster", j->target,
		         j->node->cfg->id);
	else if (!j->stopping)
		log_warnx("join, via %s failed (%s); attempt %u, retrying in "
		          "%u ms",
		          j->target, why, j->attempts, j->backoff_ms);
	uv_close((uv_handle_t *)&j->tcp, join_tcp_close_cb);
}

static void
join_deadline_cb(uv_timer_t *t)
{
	join_end(t->data, "no reply in time");
}

static void
join_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct join *j = h->data;

	(void)hint;
	buf->base = j->reply + j->reply_len;
	buf->len = sizeof(j->reply) - j->reply_len;
}

static void
join_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct join *j = s->data;
	char *nl;

	(void)buf;
	if (j->state != JOIN_TALKING)
		return;
	if (nread < 0) {
		join_end(j, nread == UV_EOF ? "connection closed without a "
		                              "reply"
		                            : uv_strerror((int)nread));
		return;
	}
	j->reply_len += (size_t)nread;
	nl = memchr(j->reply, '\n', j->reply_len);
	if (nl == NULL) {
		if (j->reply_len == sizeof(j->reply))
			join_end(j, "reply line too long");
		return;
	}
	*nl = '\0';
	if (nl > j->reply && nl[-1] == '\r')
		nl[-1] = '\0';
	if (strcmp(j->reply, "SUCCESS") == 0) {
		join_end(j, NULL);
		return;
	}
	/* Keep it printable for the log: the peer is not trusted. */
	for (nl = j->reply; *nl != '\0'; nl++)
		if (*nl < ' ' || *nl > '~')
			*nl = '?';
	join_end(j, j->reply);
}

static void
join_write_cb(uv_write_t *w, int status)
{
	struct join *j = w->data;

	if (status < 0 && j->state == JOIN_TALKING)
		join_end(j, uv_strerror(status));
}

static void
join_connect_cb(uv_connect_t *c, int status)
{
	struct join *j = c->data;
	uv_buf_t b = uv_buf_init(j->line, (unsigned)strlen(j->line));
	int rv;

	if (j->state != JOIN_TALKING)
		return;
	if (status < 0) {
		join_end(j, uv_strerror(status));
		return;
	}
	j->write.data = j;
	if ((rv = uv_write(&j->write, (uv_stream_t *)&j->tcp, &b, 1,
	                   join_write_cb)) != 0 ||
	    (rv = uv_read_start((uv_stream_t *)&j->tcp, join_alloc_cb,
	                        join_read_cb)) != 0)
		join_end(j, uv_strerror(rv));
}

static void
join_resolved_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct join *j = req->data;
	int rv;

	if (j->stopping) {
		uv_freeaddrinfo(ai);
		j->state = JOIN_IDLE;
		return;
	}
	if (status < 0 || ai == NULL) {
		log_warnx("join, cannot resolve %s (%s)", j->target,
		          uv_strerror(status));
		uv_freeaddrinfo(ai);
		join_schedule(j);
		return;
	}
	uv_tcp_init(j->loop, &j->tcp);
	j->tcp.data = j;
	j->connect.data = j;
	j->reply_len = 0;
	j->state = JOIN_TALKING;
	uv_timer_start(&j->timer, join_deadline_cb, JOIN_ATTEMPT_MS, 0);
	rv = uv_tcp_connect(&j->connect, &j->tcp, ai->ai_addr, join_connect_cb);
	uv_freeaddrinfo(ai);
	if (rv != 0)
		join_end(j, uv_strerror(rv));
}

static void
join_attempt_cb(uv_timer_t *t)
{
	struct join *j = t->data;
	struct addrinfo hints;
	char port[8];
	int rv;

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
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", j->addr.port);
	j->state = JOIN_RESOLVING;
	j->gai.data = j;
	rv = uv_getaddrinfo(j->loop, &j->gai, join_resolved_cb, j->addr.host,
	                    port, &hints);
	if (rv != 0) {
		log_warnx("join, cannot resolve %s (%s)", j->target,
		          uv_strerror(rv));
		join_schedule(j);
	}
}

int
join_start(struct join *j, uv_loop_t *loop, const struct dr_config *cfg,
           struct node *node)
{
	memset(j, 0, sizeof(*j));
	j->loop = loop;
	j->node = node;
	if (cfg->join == NULL)
		return 0;
	if (dr_addr_advertise(cfg->join, j->target, sizeof(j->target)) != 0 ||
	    dr_addr_parse(j->target, &j->addr) != 0) {
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
	if (j->state == JOIN_RESOLVING)
		uv_cancel((uv_req_t *)&j->gai);
	else if (j->state == JOIN_TALKING)
		join_end(j, "shutting down");
}
