/* DNS over UDP (one SO_REUSEPORT socket per worker thread, recvmmsg and
 * sendmmsg) and TCP (RFC 7766, on the loop thread). */
#include "listen.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "err.h"
#include "flags.h"
#include "log.h"
#include "packet.h"
#include "query.h"

#define LISTEN_BATCH  64   /* datagrams per recvmmsg / sendmmsg */
#define LISTEN_UDP_IN 4096 /* larger queries arrive truncated: dropped */
#define LISTEN_RCVBUF (4 * 1024 * 1024)
#define TCP_MSG_MAX   65535
#define TCP_IN_START  1024
#define TCP_IN_MAX    (2 + TCP_MSG_MAX) /* one whole framed query */
#define TCP_QUEUED_MAX \
	((size_t)256 * 1024) /* unsent bytes before reading pauses */

struct listen_worker {
	struct listen *l;          /* borrowed */
	struct stats_shard *shard; /* borrowed */
	pthread_t thread;
	bool started;
	int fd;
	struct cookie_mac mac; /* this thread's, if l->cookies */
	uint64_t tally[STATS_NCOUNTERS];
	struct mmsghdr in[LISTEN_BATCH], out[LISTEN_BATCH];
	struct iovec iin[LISTEN_BATCH], iout[LISTEN_BATCH];
	struct sockaddr_storage addr[LISTEN_BATCH];
	uint8_t ibuf[LISTEN_BATCH][LISTEN_UDP_IN];
	uint8_t obuf[LISTEN_BATCH][PKT_EDNS_MAX];
};

struct tcp_conn {
	uv_tcp_t h;
	uv_timer_t timer; /* the deadline of the current phase */
	struct listen *l; /* borrowed */
	struct tcp_conn *next, **prevp;
	uint8_t *in; /* owned: received bytes not yet answered */
	size_t len, cap;
	unsigned writes; /* uv_write requests in flight */
	unsigned closes; /* handles closed so far (of 2) */
	bool reading, eof, closing;
	bool answered; /* a query was answered: past the first deadline */
	struct sockaddr_storage src;
	char peer[64];
};

struct tcp_write {
	uv_write_t req;
	struct tcp_conn *c; /* borrowed */
	uint8_t data[];
};

/* ------------------------------------------------------- query logging */

static const char *
listen_rcode_name(unsigned rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR",  "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "YXDOMAIN", "YXRRSET",  "NXRRSET",  "NOTAUTH",
	};

	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	return rcode == RCODE_BADVERS ? "BADVERS" : "RCODE?";
}

/* Presentation form of a validated wire name (non-printables escaped). */
static void
listen_name_text(const uint8_t *name, char *out, size_t cap)
{
	size_t o = 0;

	if (*name == 0) {
		(void)snprintf(out, cap, ".");
		return;
	}
	while (*name != 0 && o + 6 < cap) {
		unsigned n = *name++;

		for (unsigned i = 0; i < n && o + 6 < cap; i++, name++) {
			uint8_t ch = *name;

			if ((ch >= 'a' && ch <= 'z') ||
			    (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '-' ||
			    ch == '_' || ch == '*')
				out[o++] = (char)ch;
			else
				o += (size_t)snprintf(out + o, cap - o,
				                      "\\%03u", ch);
		}
		out[o++] = '.';
	}
	out[o] = '\0';
}

/* One line per query with -v: client, name, type, outcome. */
static void
listen_log_query(const char *proto, const struct sockaddr *sa,
                 const uint8_t *pkt, size_t len, int verdict,
                 const struct query_result *res)
{
	struct packet_query q;
	char peer[64] = "?", name[DNAME_MAX * 4 + 8] = "?", *type;
	uint16_t port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		uv_ip4_name(in, peer, sizeof(peer));
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		uv_ip6_name(in6, peer, sizeof(peer));
		port = ntohs(in6->sin6_port);
	}
	if (packet_parse_query(pkt, len, &q) == 0 && q.has_question)
		listen_name_text(q.qname, name, sizeof(name));
	else
		q.qtype = 0;
	/* ldns names the type (TYPEnnn when unknown); -v only. */
	type = ldns_rr_type2str((ldns_rr_type)q.qtype);
	if (verdict == QUERY_DROP)
		log_debug("query, %s %s#%u %s %s %s", proto, peer, port, name,
		          type ? type : "?",
		          res->rrl == RRL_DROP ? "rate-limited" : "dropped");
	else
		log_debug("query, %s %s#%u %s %s %s%s", proto, peer, port, name,
		          type ? type : "?", listen_rcode_name(res->rcode),
		          res->rrl == RRL_SLIP ? " rate-limited (slipped)"
		          : res->tc            ? " truncated"
		                               : "");
	free(type);
}

/* ------------------------------------------------------------- address */

static uint16_t
listen_sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* --------------------------------------------------------------- UDP */

static int
listen_udp_socket(const struct sockaddr_storage *ss, socklen_t sslen, int *out)
{
	struct timeval tv = { 1, 0 };
	int fd, one = 1, rcvbuf = LISTEN_RCVBUF;

	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("udp, socket");
		return DR_EIO;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		log_warn("udp, SO_REUSEPORT");
	/* Best effort: the kernel caps it at net.core.rmem_max. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* A backstop for the shutdown wake-up in listen_udp_stop. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (const struct sockaddr *)ss, sslen) != 0) {
		log_warn("udp, cannot bind port %u", listen_sa_port(ss));
		close(fd);
		return DR_EIO;
	}
	*out = fd;
	return 0;
}

/* Monotonic milliseconds (RRL) and Unix seconds (cookies), for a batch. */
static void
listen_clocks(struct query_client *cl)
{
	cl->now_ms = uv_hrtime() / 1000000;
	cl->now_s = (uint32_t)time(NULL);
}

/* Answers n received datagrams into w->out; returns how many to send. */
static unsigned
listen_answer(struct listen_worker *w, unsigned n)
{
	struct feed_view *view = w->l->view;
	bool verbose = dr_log_verbose();
	struct query_client cl = { .rrl = w->l->rrl };
	struct query_result res;
	unsigned k = 0;

	cl.cookies = w->l->cookies ? &w->mac : NULL;
	listen_clocks(&cl);
	pthread_rwlock_rdlock(&view->lock);
	for (unsigned i = 0; i < n; i++) {
		struct msghdr *mh = &w->in[i].msg_hdr;
		int v;

		if ((mh->msg_flags & MSG_TRUNC) != 0) {
			memset(&res, 0, sizeof(res));
			v = QUERY_DROP;
		} else {
			cl.addr = (const struct sockaddr *)&w->addr[i];
			v = query_process(view->db, w->ibuf[i],
			                  w->in[i].msg_len, QUERY_UDP, &cl,
			                  w->obuf[k], PKT_EDNS_MAX, &res);
		}
		stats_tally(w->tally, QUERY_UDP, v, &res);
		if (verbose)
			listen_log_query("udp", (struct sockaddr *)&w->addr[i],
			                 w->ibuf[i], w->in[i].msg_len, v, &res);
		if (v == QUERY_DROP)
			continue;
		w->iout[k].iov_base = w->obuf[k];
		w->iout[k].iov_len = res.len;
		w->out[k].msg_hdr.msg_name = &w->addr[i];
		w->out[k].msg_hdr.msg_namelen = mh->msg_namelen;
		k++;
	}
	pthread_rwlock_unlock(&view->lock);
	return k;
}

static void
listen_send(struct listen_worker *w, unsigned k)
{
	unsigned done = 0;

	while (done < k) {
		int n = sendmmsg(w->fd, w->out + done, k - done, 0);

		if (n > 0) {
			done += (unsigned)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* This datagram cannot go (e.g. unreachable): skip it. */
		w->tally[STATS_DROPPED]++;
		done++;
	}
}

static void *
listen_worker_main(void *arg)
{
	struct listen_worker *w = arg;

	for (unsigned i = 0; i < LISTEN_BATCH; i++) {
		w->iin[i].iov_base = w->ibuf[i];
		w->iin[i].iov_len = LISTEN_UDP_IN;
		w->in[i].msg_hdr.msg_iov = &w->iin[i];
		w->in[i].msg_hdr.msg_iovlen = 1;
		w->out[i].msg_hdr.msg_iov = &w->iout[i];
		w->out[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load(&w->l->stopping)) {
		int n;

		for (unsigned i = 0; i < LISTEN_BATCH; i++) {
			w->in[i].msg_hdr.msg_name = &w->addr[i];
			w->in[i].msg_hdr.msg_namelen = sizeof(w->addr[i]);
			w->in[i].msg_hdr.msg_flags = 0;
		}
		/* Blocks for the first datagram, then takes what is queued. */
		n = recvmmsg(w->fd, w->in, LISTEN_BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0) {
			/* 0: shut down by listen_stop; EAGAIN: SO_RCVTIMEO. */
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				log_warn("udp, recvmmsg");
				usleep(
				    10000); /* no hot loop on a lasting error */
			}
			continue;
		}
		/* After shutdown, recvmmsg reports empty datagrams. */
		if (atomic_load(&w->l->stopping))
			break;
		listen_send(w, listen_answer(w, (unsigned)n));
		stats_flush(w->shard, w->tally);
	}
	return NULL;
}

/* Opens one socket per worker, then starts them with signals blocked. */
static int
listen_udp_start(struct listen *l, const struct sockaddr_storage *ss,
                 socklen_t sslen)
{
	sigset_t all, old;
	unsigned i;
	int rv;

	l->workers = calloc(l->nworkers, sizeof(*l->workers));
	if (l->workers == NULL)
		abort();
	for (i = 0; i < l->nworkers; i++) {
		l->workers[i].l = l;
		l->workers[i].shard = &l->stats->shards[i];
		l->workers[i].fd = -1;
		if ((rv = listen_udp_socket(ss, sslen, &l->workers[i].fd)) != 0)
			return rv;
		/* Same secret, so the worker that answers does not matter. */
		if (l->cookies &&
		    cookie_mac_init(&l->workers[i].mac, l->secret) != 0)
			abort(); /* SipHash was there for the TCP context */
	}
	/* Signals go to the loop thread (libuv), never to a worker. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < l->nworkers; i++) {
		if (pthread_create(&l->workers[i].thread, NULL,
		                   listen_worker_main, &l->workers[i]) != 0)
			fatalx("udp, cannot start worker threads");
		l->workers[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

static void
listen_udp_stop(struct listen *l)
{
	if (l->workers == NULL)
		return;
	atomic_store(&l->stopping, true);
	/*
	 * Wakes a worker blocked in recvmmsg (it then returns 0); on an
	 * unbound UDP socket Linux reports ENOTCONN but still wakes it.
	 */
	for (unsigned i = 0; i < l->nworkers; i++)
		if (l->workers[i].fd >= 0)
			(void)shutdown(l->workers[i].fd, SHUT_RD);
	for (unsigned i = 0; i < l->nworkers; i++) {
		struct listen_worker *w = &l->workers[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->fd >= 0)
			close(w->fd);
		if (w->mac.ctx != NULL)
			cookie_mac_close(&w->mac);
	}
	free(l->workers);
	l->workers = NULL;
}

/* --------------------------------------------------------------- TCP */

static void
tcp_conn_free_cb(uv_handle_t *h)
{
	struct tcp_conn *c = h->data;

	if (++c->closes < 2)
		return;
	free(c->in);
	free(c);
}

static void
tcp_conn_close(struct tcp_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	*c->prevp = c->next;
	if (c->next != NULL)
		c->next->prevp = c->prevp;
	c->l->nconns--;
	c->l->stats->tcp_conns--;
	log_debug("tcp %s, closed", c->peer);
	uv_close((uv_handle_t *)&c->h, tcp_conn_free_cb);
	uv_close((uv_handle_t *)&c->timer, tcp_conn_free_cb);
}

static void
tcp_timeout_cb(uv_timer_t *t)
{
	struct tcp_conn *c = t->data;

	c->l->stats->tcp_timeouts++;
	log_debug("tcp %s, %s", c->peer,
	          c->len > 0    ? "query not complete in time"
	          : c->answered ? "idle timeout"
	                        : "no query in time");
	tcp_conn_close(c);
}

/* (Re)starts the connection's one deadline, ms from now. */
static void
tcp_conn_deadline(struct tcp_conn *c, unsigned ms)
{
	uv_timer_start(&c->timer, tcp_timeout_cb, ms, 0);
}

static void tcp_conn_process(struct tcp_conn *c);

static void
tcp_write_cb(uv_write_t *req, int status)
{
	struct tcp_write *wr = (struct tcp_write *)req;
	struct tcp_conn *c = wr->c;

	free(wr);
	c->writes--;
	if (c->closing)
		return;
	if (status < 0) {
		log_debug("tcp %s, write failed (%s)", c->peer,
		          uv_strerror(status));
		tcp_conn_close(c);
		return;
	}
	tcp_conn_process(c);
}

/* Sends a framed response; what the socket does not take now is queued. */
static void
tcp_conn_send(struct tcp_conn *c, const uint8_t *frame, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)frame, (unsigned)len);
	struct tcp_write *wr;
	int n = 0;

	if (c->h.write_queue_size == 0) {
		n = uv_try_write((uv_stream_t *)&c->h, &b, 1);
		if (n == (int)len)
			return;
		if (n < 0 && n != UV_EAGAIN) {
			tcp_conn_close(c);
			return;
		}
		if (n < 0)
			n = 0;
	}
	wr = malloc(sizeof(*wr) + len - (size_t)n);
	if (wr == NULL)
		abort();
	wr->c = c;
	memcpy(wr->data, frame + n, len - (size_t)n);
	b = uv_buf_init((char *)wr->data, (unsigned)(len - (size_t)n));
	if (uv_write(&wr->req, (uv_stream_t *)&c->h, &b, 1, tcp_write_cb) !=
	    0) {
		free(wr);
		tcp_conn_close(c);
		return;
	}
	c->writes++;
}

/* Answers one framed query; false when the connection was closed. */
static bool
tcp_conn_answer(struct tcp_conn *c, const uint8_t *pkt, size_t len)
{
	struct listen *l = c->l;
	struct query_client cl = {
		.addr = (const struct sockaddr *)&c->src,
		.cookies = l->cookies ? &l->tcp_mac : NULL,
	};
	struct query_result res;
	int v;

	listen_clocks(&cl);
	memset(&res, 0, sizeof(res));
	v = query_process(l->view->db, pkt, len, QUERY_TCP, &cl, l->out + 2,
	                  TCP_MSG_MAX, &res);
	stats_tally(l->tally, QUERY_TCP, v, &res);
	if (dr_log_verbose())
		listen_log_query("tcp", cl.addr, pkt, len, v, &res);
	if (v == QUERY_DROP) {
		/* Garbage on a stream: the framing cannot be trusted. */
		tcp_conn_close(c);
		return false;
	}
	/* QUERY_XFR: no transfers yet, send the REFUSED reply prepared. */
	pkt_put16(l->out, (uint16_t)res.len);
	tcp_conn_send(c, l->out, 2 + res.len);
	return !c->closing;
}

static void tcp_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void tcp_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* True when the buffer holds a whole framed query (or more). */
static bool
tcp_conn_has_query(const struct tcp_conn *c)
{
	return c->len >= 2 && c->len - 2 >= pkt_u16(c->in);
}

/*
 * Answers every complete query in the buffer while the unsent backlog is
 * small, then reads on only if there is room for more. Only an answered
 * query moves the deadline: to the idle timeout, or, when part of the
 * next query is here already, to that query's deadline.
 */
static void
tcp_conn_process(struct tcp_conn *c)
{
	size_t off = 0;
	bool room;

	while (!c->closing && c->h.write_queue_size < TCP_QUEUED_MAX &&
	       c->len - off >= 2) {
		size_t flen = pkt_u16(c->in + off);

		if (c->len - off < 2 + flen)
			break;
		if (!tcp_conn_answer(c, c->in + off + 2, flen))
			break;
		off += 2 + flen;
	}
	stats_flush(&c->l->stats->shards[c->l->nworkers], c->l->tally);
	if (c->closing)
		return;
	memmove(c->in, c->in + off, c->len - off);
	c->len -= off;
	if (off > 0) {
		c->answered = true;
		/* A whole query left waiting for the writes: idle, not slow. */
		tcp_conn_deadline(c, c->len > 0 && !tcp_conn_has_query(c)
		                         ? c->l->query_ms
		                         : c->l->idle_ms);
	}
	if (c->eof) {
		/*
		 * Half-closed by the client: once every answer is out, go
		 * (an incomplete query left over is never answered).
		 */
		if (c->writes == 0)
			tcp_conn_close(c);
		return;
	}
	room = c->h.write_queue_size < TCP_QUEUED_MAX;
	if (room && !c->reading) {
		c->reading = true;
		uv_read_start((uv_stream_t *)&c->h, tcp_alloc_cb, tcp_read_cb);
	} else if (!room && c->reading) {
		c->reading = false;
		uv_read_stop((uv_stream_t *)&c->h);
	}
}

static void
tcp_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct tcp_conn *c = h->data;

	if (c->len == c->cap && c->cap < TCP_IN_MAX) {
		size_t cap = c->cap * 2 > TCP_IN_MAX ? TCP_IN_MAX : c->cap * 2;
		uint8_t *p = realloc(c->in, cap);

		if (p == NULL)
			abort();
		c->in = p;
		c->cap = cap;
	}
	*buf = uv_buf_init((char *)c->in + c->len, (unsigned)(c->cap - c->len));
}

static void
tcp_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct tcp_conn *c = s->data;

	if (n == 0)
		return;
	if (n < 0) {
		if (n != UV_EOF) {
			log_debug("tcp %s, read failed (%s)", c->peer,
			          uv_strerror((int)n));
			tcp_conn_close(c);
			return;
		}
		c->eof = true;
		c->reading = false;
		uv_read_stop(s);
		tcp_conn_process(c);
		return;
	}
	/* The first byte of a query (not the first query) starts its clock. */
	if (c->len == 0 && c->answered)
		tcp_conn_deadline(c, c->l->query_ms);
	c->len += (size_t)n;
	tcp_conn_process(c);
}

/* The peer's address into c->src and "ip#port" into c->peer. */
static void
tcp_peer_name(struct tcp_conn *c)
{
	int sl = sizeof(c->src);
	char ip[48] = "?";

	if (uv_tcp_getpeername(&c->h, (struct sockaddr *)&c->src, &sl) != 0)
		memset(&c->src, 0, sizeof(c->src)); /* AF_UNSPEC */
	if (c->src.ss_family == AF_INET6)
		uv_ip6_name((struct sockaddr_in6 *)&c->src, ip, sizeof(ip));
	else if (c->src.ss_family == AF_INET)
		uv_ip4_name((struct sockaddr_in *)&c->src, ip, sizeof(ip));
	(void)snprintf(c->peer, sizeof(c->peer), "%s#%u", ip,
	               listen_sa_port(&c->src));
}

/* Other open connections from c's address (IPv6: its /64). */
static unsigned
tcp_from_source(const struct listen *l, const struct tcp_conn *c)
{
	unsigned n = 0;

	for (const struct tcp_conn *o = l->conns; o != NULL; o = o->next)
		if (o != c &&
		    addr_same_source((const struct sockaddr *)&o->src,
		                     (const struct sockaddr *)&c->src))
			n++;
	return n;
}

/* Closes a connection just accepted over a limit; logged at a bounded rate. */
static void
tcp_refuse(struct tcp_conn *c, uint64_t *counter, const char *why,
           unsigned limit)
{
	struct listen *l = c->l;
	uint64_t quiet;

	(*counter)++;
	if (dr_ratelog_allow(&l->refused_log, uv_now(l->loop), &quiet)) {
		if (quiet > 0)
			log_warnx("tcp %s, refused (%s %u) (and %" PRIu64
			          " more not logged)",
			          c->peer, why, limit, quiet);
		else
			log_warnx("tcp %s, refused (%s %u)", c->peer, why,
			          limit);
	}
	tcp_conn_close(c);
}

static void
tcp_connection_cb(uv_stream_t *server, int status)
{
	struct listen *l = server->data;
	struct tcp_conn *c;

	if (status < 0) {
		log_warnx("tcp, accept failed (%s)", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		abort();
	c->l = l;
	uv_tcp_init(l->loop, &c->h);
	c->h.data = c;
	uv_timer_init(l->loop, &c->timer);
	c->timer.data = c;
	c->next = l->conns;
	if (c->next != NULL)
		c->next->prevp = &c->next;
	c->prevp = &l->conns;
	l->conns = c;
	l->nconns++;
	l->stats->tcp_conns++;
	if (uv_accept(server, (uv_stream_t *)&c->h) != 0) {
		tcp_conn_close(c);
		return;
	}
	tcp_peer_name(c);
	/* Accepted first in both cases: that takes it off the backlog. */
	if (l->nconns > LISTEN_TCP_MAX) {
		tcp_refuse(c, &l->stats->tcp_refused_full, "connection limit",
		           LISTEN_TCP_MAX);
		return;
	}
	if (tcp_from_source(l, c) >= l->tcp_per_source) {
		tcp_refuse(c, &l->stats->tcp_refused_source, "per-source limit",
		           l->tcp_per_source);
		return;
	}
	uv_tcp_nodelay(&c->h, 1);
	log_debug("tcp %s, accepted", c->peer);
	c->in = malloc(TCP_IN_START);
	if (c->in == NULL)
		abort();
	c->cap = TCP_IN_START;
	tcp_conn_deadline(c, l->first_ms);
	tcp_conn_process(c);
}

static int
listen_tcp_start(struct listen *l, const struct sockaddr_storage *ss)
{
	int rv;

	uv_tcp_init(l->loop, &l->tcp);
	l->tcp.data = l;
	l->tcp_open = true;
	rv = uv_tcp_bind(&l->tcp, (const struct sockaddr *)ss, 0);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&l->tcp, 1024, tcp_connection_cb);
	if (rv != 0) {
		log_warnx("tcp, cannot listen on port %u (%s)",
		          listen_sa_port(ss), uv_strerror(rv));
		return DR_EIO;
	}
	return 0;
}

/* ------------------------------------------------------------ lifecycle */

unsigned
listen_default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > LISTEN_WORKERS_MAX ? LISTEN_WORKERS_MAX : (unsigned)n;
}

/*
 * Cookies need the secret and SipHash; without either, dnsd still serves,
 * ignoring COOKIE options (and nobody is exempt from RRL).
 */
static void
listen_cookies_start(struct listen *l)
{
	if (cookie_secret_new(l->secret) != 0 ||
	    cookie_mac_init(&l->tcp_mac, l->secret) != 0) {
		log_warnx("cookies, off (no server secret)");
		return;
	}
	l->cookies = true;
}

int
listen_start(struct listen *l, uv_loop_t *loop, const struct listen_config *cfg,
             struct feed_view *view, struct stats *stats)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct dr_addr a;
	int rv;

	memset(l, 0, sizeof(*l));
	l->loop = loop;
	l->view = view;
	l->stats = stats;
	l->tcp_per_source = LISTEN_TCP_PER_SOURCE;
	l->first_ms = LISTEN_TCP_FIRST_MS;
	l->query_ms = LISTEN_TCP_QUERY_MS;
	l->idle_ms = LISTEN_TCP_IDLE_MS;
	l->nworkers = cfg->nworkers < 1                    ? 1
	              : cfg->nworkers > LISTEN_WORKERS_MAX ? LISTEN_WORKERS_MAX
	                                                   : cfg->nworkers;
	assert(stats->nshards > l->nworkers);
	atomic_init(&l->stopping, false);
	if (dr_addr_parse(cfg->addr, &a) != 0) {
		log_warnx("listener, invalid address %s", cfg->addr);
		return DR_EINVAL;
	}
	if ((rv = dr_addr_resolve(&a, &ss, &sslen)) != 0)
		return rv;
	l->out = malloc(2 + TCP_MSG_MAX);
	if (l->out == NULL)
		abort();
	if (cfg->rrl_rate > 0)
		l->rrl = rrl_new(cfg->rrl_rate, cfg->rrl_slip, RRL_BUCKETS);
	listen_cookies_start(l);
	if ((rv = listen_udp_start(l, &ss, sslen)) != 0 ||
	    (rv = listen_tcp_start(l, &ss)) != 0) {
		listen_stop(l);
		return rv;
	}
	l->port = listen_sa_port(&ss);
	log_info("listener, serving DNS on %s (udp and tcp, %u udp workers)",
	         cfg->addr, l->nworkers);
	if (l->rrl != NULL)
		log_info("listener, udp response rate limit %u/s per /%u or "
		         "/%u, slip %u",
		         cfg->rrl_rate, RRL_V4_PREFIX, RRL_V6_PREFIX,
		         cfg->rrl_slip);
	else
		log_info("listener, udp response rate limit off");
	if (l->cookies)
		log_info("listener, dns cookies on (server secret drawn at "
		         "start: older cookies are renewed)");
	return 0;
}

void
listen_stop(struct listen *l)
{
	listen_udp_stop(l);
	if (l->tcp_open) {
		l->tcp_open = false;
		uv_close((uv_handle_t *)&l->tcp, NULL);
	}
	while (l->conns != NULL)
		tcp_conn_close(l->conns);
	free(l->out);
	l->out = NULL;
	rrl_free(l->rrl);
	l->rrl = NULL;
	if (l->cookies)
		cookie_mac_close(&l->tcp_mac);
	l->cookies = false;
	OPENSSL_cleanse(l->secret, sizeof(l->secret));
}
