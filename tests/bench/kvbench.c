/*
 * Load generator for ctld and etcd: N connections, W writes in flight each.
 *
 * Every client thread opens one TCP connection (ctl: a `session`; etcd:
 * HTTP/1.1 keep-alive to the v3 gateway) and keeps W puts outstanding
 * until the duration is over: it sends a new one as soon as a reply
 * comes, reads replies in order and times each put from the moment it is
 * queued to its reply. W = 1 is one request in flight; W > 1 pipelines.
 * After the last reply each client reads back its last key (ctl: `kv get
 * KEY consistent`; etcd: a linearizable range) and checks the value. The
 * result is one line of key=value pairs, easy to parse from scripts.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "kvproto.h"

#define KVBENCH_MAX_CLIENTS  4096
#define KVBENCH_MAX_WINDOW   65536
#define KVBENCH_IO_TIMEOUT_S 15
#define KVBENCH_RBUF_MIN     65536
#define KVBENCH_RBUF_MAX     (1 << 20)
#define KVBENCH_EXPECT_MAX   8192

struct kvbench_opts {
	char host[256];
	const char *port;
	const char *hostport;
	struct kvproto proto;
	unsigned clients;
	unsigned window;
	double duration_s;
	unsigned value_size;
	const char *prefix;
};

/* What the replies now awaited are. */
enum kvbench_phase {
	KVBENCH_HELLO,
	KVBENCH_PUT,
	KVBENCH_VERIFY,
};

/* Per-client state; each thread owns its own. */
struct kvbench_client {
	pthread_t thread;
	unsigned index;
	const struct kvbench_opts *opts; /* borrowed */
	double t_end;                    /* monotonic seconds */
	int fd;
	enum kvbench_phase phase;
	char expect[KVBENCH_EXPECT_MAX];
	char *value;       /* owned; every put's value */
	char *sbuf;        /* owned; requests not yet sent */
	size_t slen, soff; /* bytes queued, bytes of them sent */
	size_t scap;
	char *rbuf; /* owned; received, not yet parsed */
	size_t rlen, rcap;
	double *t_queued; /* owned; ring of window entries */
	size_t head, inflight;
	uint64_t seq;
	char last_key[256];
	struct bench_samples lat; /* successful puts */
	uint64_t errors;          /* puts answered with anything else */
	int verified;             /* 1 ok, 0 wrong value, -1 not checked */
	char err[256];            /* first fatal error, if any */
};

/* Queues one request of len bytes that buf holds. */
static void
kvbench_queue(struct kvbench_client *c, const char *buf, size_t len)
{
	if (c->slen + len > c->scap) {
		size_t cap = (c->slen + len) * 2;
		char *p = realloc(c->sbuf, cap);

		if (p == NULL)
			abort();
		c->sbuf = p;
		c->scap = cap;
	}
	memcpy(c->sbuf + c->slen, buf, len);
	c->slen += len;
	c->t_queued[(c->head + c->inflight) % c->opts->window] = bench_now();
	c->inflight++;
}

static int
kvbench_queue_put(struct kvbench_client *c)
{
	const struct kvbench_opts *o = c->opts;
	char req[KVBENCH_EXPECT_MAX * 2];
	int n;

	snprintf(c->last_key, sizeof(c->last_key), "%s%u-%llu", o->prefix,
	         c->index, (unsigned long long)c->seq++);
	n = kvproto_encode_put(&o->proto, req, sizeof(req), c->last_key,
	                       c->value);
	if (n < 0) {
		snprintf(c->err, sizeof(c->err), "request too long");
		return -1;
	}
	kvbench_queue(c, req, (size_t)n);
	return 0;
}

/* One reply to the oldest request in flight. */
static void
kvbench_reply(struct kvbench_client *c, int ok)
{
	double t = bench_now() - c->t_queued[c->head];

	c->head = (c->head + 1) % c->opts->window;
	c->inflight--;
	switch (c->phase) {
	case KVBENCH_PUT:
		if (ok)
			bench_samples_add(&c->lat, t);
		else
			c->errors++;
		break;
	case KVBENCH_VERIFY:
		c->verified = ok;
		break;
	case KVBENCH_HELLO:
		if (!ok)
			snprintf(c->err, sizeof(c->err),
			         "session: no OK from the server");
		break;
	}
}

/* Parses every whole reply in rbuf. Returns 0 or -1 (c->err set). */
static int
kvbench_parse(struct kvbench_client *c)
{
	size_t off = 0;

	while (off < c->rlen) {
		int ok = 0;
		long n = kvproto_parse_reply(&c->opts->proto, c->rbuf + off,
		                             c->rlen - off, c->expect, &ok);

		if (n == 0)
			break;
		if (n < 0) {
			snprintf(c->err, sizeof(c->err),
			         "malformed reply: \"%.60s\"", c->rbuf + off);
			return -1;
		}
		if (c->inflight == 0) {
			snprintf(c->err, sizeof(c->err),
			         "reply without a request: \"%.60s\"",
			         c->rbuf + off);
			return -1;
		}
		off += (size_t)n;
		kvbench_reply(c, ok);
		if (c->err[0] != '\0')
			return -1;
	}
	c->rlen -= off;
	memmove(c->rbuf, c->rbuf + off, c->rlen);
	return 0;
}

/* Sends what it can without blocking. Returns 0 or -1 (c->err set). */
static int
kvbench_flush(struct kvbench_client *c)
{
	while (c->soff < c->slen) {
		ssize_t n = send(c->fd, c->sbuf + c->soff, c->slen - c->soff,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			snprintf(c->err, sizeof(c->err), "send: %s",
			         n < 0 ? strerror(errno) : "nothing sent");
			return -1;
		}
		c->soff += (size_t)n;
	}
	c->slen = c->soff = 0;
	return 0;
}

/*
 * One round of I/O: sends what is queued, waits until the socket is
 * readable (or writable, while requests wait), reads and parses replies.
 * Returns 0 or -1 (c->err set).
 */
static int
kvbench_io(struct kvbench_client *c)
{
	struct pollfd pfd;
	ssize_t n;
	int rv;

	if (kvbench_flush(c) != 0)
		return -1;
	pfd.fd = c->fd;
	pfd.events = POLLIN | (c->slen > c->soff ? POLLOUT : 0);
	do
		rv = poll(&pfd, 1, KVBENCH_IO_TIMEOUT_S * 1000);
	while (rv < 0 && errno == EINTR);
	if (rv < 0) {
		snprintf(c->err, sizeof(c->err), "poll: %s", strerror(errno));
		return -1;
	}
	if (rv == 0) {
		snprintf(c->err, sizeof(c->err),
		         "no reply within %d s (%zu in flight)",
		         KVBENCH_IO_TIMEOUT_S, c->inflight);
		return -1;
	}
	if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	if (c->rlen == c->rcap) {
		size_t cap = c->rcap * 2;
		char *p;

		if (cap > KVBENCH_RBUF_MAX) {
			snprintf(c->err, sizeof(c->err), "reply too long");
			return -1;
		}
		p = realloc(c->rbuf, cap);
		if (p == NULL)
			abort();
		c->rbuf = p;
		c->rcap = cap;
	}
	n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
	if (n < 0 &&
	    (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0) {
		snprintf(c->err, sizeof(c->err), "recv: %s (%zu in flight)",
		         n == 0 ? "connection closed" : strerror(errno),
		         c->inflight);
		return -1;
	}
	c->rlen += (size_t)n;
	return kvbench_parse(c);
}

/* Runs I/O until every request in flight has its reply. */
static int
kvbench_drain(struct kvbench_client *c)
{
	while (c->inflight > 0)
		if (kvbench_io(c) != 0)
			return -1;
	return 0;
}

static int
kvbench_hello(struct kvbench_client *c)
{
	const struct kvproto *p = &c->opts->proto;
	const char *hello = kvproto_hello(p);

	if (hello == NULL)
		return 0;
	c->phase = KVBENCH_HELLO;
	kvproto_expect_hello(p, c->expect, sizeof(c->expect));
	kvbench_queue(c, hello, strlen(hello));
	return kvbench_drain(c);
}

/* Keeps the window full until t_end, then takes the last replies. */
static int
kvbench_puts(struct kvbench_client *c)
{
	c->phase = KVBENCH_PUT;
	kvproto_expect_put(&c->opts->proto, c->expect, sizeof(c->expect));
	for (;;) {
		if (bench_now() < c->t_end)
			while (c->inflight < c->opts->window)
				if (kvbench_queue_put(c) != 0)
					return -1;
		if (c->inflight == 0)
			return 0;
		if (kvbench_io(c) != 0)
			return -1;
	}
}

static int
kvbench_verify(struct kvbench_client *c)
{
	const struct kvproto *p = &c->opts->proto;
	char req[1024];
	int n;

	if (c->seq == 0)
		return 0;
	n = kvproto_encode_get(p, req, sizeof(req), c->last_key);
	if (n < 0 || kvproto_expect_get(p, c->expect, sizeof(c->expect),
	                                c->value) != 0) {
		snprintf(c->err, sizeof(c->err), "read-back request too long");
		return -1;
	}
	c->phase = KVBENCH_VERIFY;
	kvbench_queue(c, req, (size_t)n);
	return kvbench_drain(c);
}

static void *
kvbench_client_run(void *arg)
{
	struct kvbench_client *c = arg;
	const struct kvbench_opts *o = c->opts;

	c->value = malloc((size_t)o->value_size + 1);
	c->t_queued = calloc(o->window, sizeof(*c->t_queued));
	c->rcap = KVBENCH_RBUF_MIN;
	c->rbuf = malloc(c->rcap);
	if (c->value == NULL || c->t_queued == NULL || c->rbuf == NULL)
		abort();
	memset(c->value, 'v', o->value_size);
	c->value[o->value_size] = '\0';
	c->verified = -1;

	c->fd = bench_connect(o->host, o->port, SOCK_STREAM, c->err,
	                      sizeof(c->err));
	if (c->fd < 0)
		return NULL;
	if (kvbench_hello(c) == 0 && kvbench_puts(c) == 0)
		(void)kvbench_verify(c);
	close(c->fd);
	return NULL;
}

static void
kvbench_usage(FILE *f)
{
	fprintf(f, "usage: kvbench -a HOST:PORT [-P ctl|etcd] [-c CLIENTS] "
	           "[-w WINDOW] [-d SECONDS]\n"
	           "               [-s VALUE_BYTES] [-p KEY_PREFIX]\n"
	           "  CLIENTS connections each keep WINDOW puts in flight for\n"
	           "  SECONDS, replies read in order; prints writes/s and\n"
	           "  latency. -P ctl: ctld `session` + `kv set`; -P etcd:\n"
	           "  etcd's v3 HTTP gateway (POST /v3/kv/put), keep-alive.\n"
	           "  defaults: -P ctl -c 1 -w 1 -d 5 -s 16 -p bench-\n");
}

static int
kvbench_parse_args(int argc, char **argv, struct kvbench_opts *o)
{
	unsigned dur = 5;
	int ch;

	while ((ch = getopt(argc, argv, "a:P:c:w:d:s:p:h")) != -1) {
		switch (ch) {
		case 'a':
			if (bench_split_hostport(optarg, o->host,
			                         sizeof(o->host),
			                         &o->port) != 0) {
				fprintf(stderr,
				        "kvbench: -a wants HOST:PORT\n");
				return 2;
			}
			o->hostport = optarg;
			break;
		case 'P':
			if (kvproto_parse_kind(optarg, &o->proto.kind) != 0) {
				fprintf(stderr, "kvbench: -P ctl or etcd\n");
				return 2;
			}
			break;
		case 'c':
			if (bench_parse_uint(optarg, 1, KVBENCH_MAX_CLIENTS,
			                     &o->clients) != 0) {
				fprintf(stderr, "kvbench: bad -c\n");
				return 2;
			}
			break;
		case 'w':
			if (bench_parse_uint(optarg, 1, KVBENCH_MAX_WINDOW,
			                     &o->window) != 0) {
				fprintf(stderr, "kvbench: bad -w\n");
				return 2;
			}
			break;
		case 'd':
			if (bench_parse_uint(optarg, 1, 3600, &dur) != 0) {
				fprintf(stderr, "kvbench: bad -d\n");
				return 2;
			}
			o->duration_s = dur;
			break;
		case 's':
			if (bench_parse_uint(optarg, 1, 4000, &o->value_size) !=
			    0) {
				fprintf(stderr, "kvbench: bad -s\n");
				return 2;
			}
			break;
		case 'p':
			if (strlen(optarg) > 200 ||
			    strpbrk(optarg, " \t\r\n") != NULL) {
				fprintf(stderr, "kvbench: bad -p\n");
				return 2;
			}
			o->prefix = optarg;
			break;
		case 'h':
			kvbench_usage(stdout);
			return 1;
		default:
			kvbench_usage(stderr);
			return 2;
		}
	}
	if (o->hostport == NULL || optind != argc) {
		kvbench_usage(stderr);
		return 2;
	}
	o->proto.hostport = o->hostport;
	return 0;
}

int
main(int argc, char **argv)
{
	struct kvbench_opts o = { .clients = 1,
		                  .window = 1,
		                  .duration_s = 5.0,
		                  .value_size = 16,
		                  .prefix = "bench-" };
	struct kvbench_client *clients;
	struct bench_samples all = { 0 };
	uint64_t errors = 0;
	unsigned failed = 0, unverified = 0, i;
	double t_start, elapsed;
	int rv;

	rv = kvbench_parse_args(argc, argv, &o);
	if (rv != 0)
		return rv == 1 ? 0 : rv;
	signal(SIGPIPE, SIG_IGN);

	clients = calloc(o.clients, sizeof(*clients));
	if (clients == NULL)
		abort();
	t_start = bench_now();
	for (i = 0; i < o.clients; i++) {
		clients[i].index = i;
		clients[i].opts = &o;
		clients[i].t_end = t_start + o.duration_s;
		clients[i].fd = -1;
		if (pthread_create(&clients[i].thread, NULL, kvbench_client_run,
		                   &clients[i]) != 0) {
			fprintf(stderr, "kvbench: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < o.clients; i++)
		pthread_join(clients[i].thread, NULL);
	/* The puts' time, not the read-backs' after it. */
	elapsed = bench_now() - t_start;

	for (i = 0; i < o.clients; i++) {
		struct kvbench_client *c = &clients[i];

		if (c->err[0] != '\0' && failed++ == 0)
			fprintf(stderr, "kvbench: client %u: %s\n", i, c->err);
		if (c->err[0] == '\0' && c->seq > 0 && c->verified != 1) {
			if (unverified++ == 0)
				fprintf(stderr,
				        "kvbench: client %u: key %s does not "
				        "read back\n",
				        i, c->last_key);
		}
		bench_samples_merge(&all, &c->lat);
		errors += c->errors;
		bench_samples_free(&c->lat);
		free(c->value);
		free(c->sbuf);
		free(c->rbuf);
		free(c->t_queued);
	}
	bench_samples_sort(&all);

	printf("kvbench %s %s clients=%u window=%u writes=%zu seconds=%.2f "
	       "writes_per_s=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
	       "errors=%llu failed_clients=%u unverified=%u\n",
	       o.proto.kind == KVPROTO_CTL ? "ctl" : "etcd", o.hostport,
	       o.clients, o.window, all.n, elapsed, (double)all.n / elapsed,
	       bench_samples_pct(&all, 0.50), bench_samples_pct(&all, 0.99),
	       bench_samples_max(&all), (unsigned long long)errors, failed,
	       unverified);
	rv = failed == o.clients || all.n == 0 ? 1 : 0;
	bench_samples_free(&all);
	free(clients);
	return rv;
}
