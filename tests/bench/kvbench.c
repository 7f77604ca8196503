/*
 * Load generator for ctld: N session clients, one `kv set` in flight each.
 *
 * Every client thread opens a blocking TCP connection, sends `session`, then
 * loops `kv set` until the duration is over, timing each request. The
 * result is one line of key=value pairs (writes/s, p50/p99/max latency),
 * easy to read and to parse from scripts.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define KVBENCH_MAX_CLIENTS  4096
#define KVBENCH_LINE_MAX     8192
#define KVBENCH_IO_TIMEOUT_S 15

struct kvbench_opts {
	const char *host;
	const char *port;
	unsigned clients;
	double duration_s;
	unsigned value_size;
	const char *prefix;
};

/* Per-client state; each thread owns its own. */
struct kvbench_client {
	pthread_t thread;
	unsigned index;
	const struct kvbench_opts *opts; /* borrowed */
	double t_end;                    /* monotonic seconds */
	int fd;
	char rbuf[KVBENCH_LINE_MAX];
	size_t rlen;
	uint32_t *lat_us; /* owned, one entry per successful write */
	size_t n_lat, cap_lat;
	uint64_t errors;
	char err[256]; /* first fatal error, if any */
};

static double
kvbench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
kvbench_connect(const struct kvbench_opts *o, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	struct timeval tmo = { KVBENCH_IO_TIMEOUT_S, 0 };
	int fd = -1, rv, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rv = getaddrinfo(o->host, o->port, &hints, &res);
	if (rv != 0) {
		snprintf(err, errlen, "getaddrinfo %s:%s: %s", o->host, o->port,
		         gai_strerror(rv));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "connect %s:%s: %s", o->host, o->port,
		         strerror(errno));
		return -1;
	}
	/* One small request in flight: Nagle would only add latency. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A stuck server ends the client instead of hanging the run. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	return fd;
}

static int
kvbench_send(struct kvbench_client *c, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(c->err, sizeof(c->err), "send: %s",
			         strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one reply line into line (NUL-terminated, newline stripped). */
static int
kvbench_readline(struct kvbench_client *c, char *line, size_t linelen)
{
	for (;;) {
		char *nl = memchr(c->rbuf, '\n', c->rlen);
		ssize_t n;

		if (nl != NULL) {
			size_t l = (size_t)(nl - c->rbuf);
			size_t cp = l < linelen - 1 ? l : linelen - 1;

			memcpy(line, c->rbuf, cp);
			line[cp] = '\0';
			c->rlen -= l + 1;
			memmove(c->rbuf, nl + 1, c->rlen);
			return 0;
		}
		if (c->rlen == sizeof(c->rbuf)) {
			snprintf(c->err, sizeof(c->err), "reply line too long");
			return -1;
		}
		n = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen,
		         0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(c->err, sizeof(c->err), "recv: %s",
			         n == 0 ? "connection closed"
			                : strerror(errno));
			return -1;
		}
		c->rlen += (size_t)n;
	}
}

static void
kvbench_record(struct kvbench_client *c, double secs)
{
	if (c->n_lat == c->cap_lat) {
		size_t cap = c->cap_lat ? c->cap_lat * 2 : 4096;
		uint32_t *p = realloc(c->lat_us, cap * sizeof(*p));

		if (p == NULL)
			abort();
		c->lat_us = p;
		c->cap_lat = cap;
	}
	c->lat_us[c->n_lat++] = (uint32_t)(secs * 1e6 + 0.5);
}

static void *
kvbench_client_run(void *arg)
{
	struct kvbench_client *c = arg;
	const struct kvbench_opts *o = c->opts;
	char *req, line[256], *value;
	size_t reqcap = (size_t)o->value_size + 256;
	uint64_t seq = 0;

	req = malloc(reqcap);
	value = malloc((size_t)o->value_size + 1);
	if (req == NULL || value == NULL)
		abort();
	memset(value, 'v', o->value_size);
	value[o->value_size] = '\0';

	c->fd = kvbench_connect(o, c->err, sizeof(c->err));
	if (c->fd < 0)
		goto out;
	if (kvbench_send(c, "session\n", 8) != 0 ||
	    kvbench_readline(c, line, sizeof(line)) != 0)
		goto out_close;
	if (strcmp(line, "OK") != 0) {
		snprintf(c->err, sizeof(c->err), "session: got \"%.200s\"",
		         line);
		goto out_close;
	}
	while (kvbench_now() < c->t_end) {
		int n =
		    snprintf(req, reqcap, "kv set %s%u-%llu %s\n", o->prefix,
		             c->index, (unsigned long long)seq++, value);
		double t0 = kvbench_now();

		if (kvbench_send(c, req, (size_t)n) != 0 ||
		    kvbench_readline(c, line, sizeof(line)) != 0)
			goto out_close;
		if (strcmp(line, "SUCCESS") == 0)
			kvbench_record(c, kvbench_now() - t0);
		else
			c->errors++;
	}
	if (kvbench_send(c, "quit\n", 5) == 0)
		(void)kvbench_readline(c, line, sizeof(line));
out_close:
	close(c->fd);
out:
	free(req);
	free(value);
	return NULL;
}

static int
kvbench_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t
kvbench_percentile(const uint32_t *sorted, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return sorted[i];
}

static void
kvbench_usage(FILE *f)
{
	fprintf(f,
	        "usage: kvbench -a HOST:PORT [-c CLIENTS] [-d SECONDS] "
	        "[-s VALUE_BYTES] [-p KEY_PREFIX]\n"
	        "  N session clients send `kv set` to ctld, one request in\n"
	        "  flight each, for D seconds; prints writes/s and latency.\n"
	        "  defaults: -c 1 -d 5 -s 16 -p bench-\n");
}

static int
kvbench_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || errno != 0 || *end != '\0' || v < min ||
	    v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
main(int argc, char **argv)
{
	struct kvbench_opts o = { NULL, NULL, 1, 5.0, 16, "bench-" };
	struct kvbench_client *clients;
	static char hostbuf[256];
	uint32_t *all;
	size_t n_all = 0, i;
	uint64_t errors = 0;
	unsigned dur = 5, failed = 0;
	double t_start, elapsed;
	char *colon;
	int ch;

	while ((ch = getopt(argc, argv, "a:c:d:s:p:h")) != -1) {
		switch (ch) {
		case 'a':
			colon = strrchr(optarg, ':');
			if (colon == NULL || colon == optarg ||
			    (size_t)(colon - optarg) >= sizeof(hostbuf)) {
				fprintf(stderr,
				        "kvbench: -a wants HOST:PORT\n");
				return 2;
			}
			memcpy(hostbuf, optarg, (size_t)(colon - optarg));
			o.host = hostbuf;
			o.port = colon + 1;
			break;
		case 'c':
			if (kvbench_parse_uint(optarg, 1, KVBENCH_MAX_CLIENTS,
			                       &o.clients) != 0) {
				fprintf(stderr, "kvbench: bad -c\n");
				return 2;
			}
			break;
		case 'd':
			if (kvbench_parse_uint(optarg, 1, 3600, &dur) != 0) {
				fprintf(stderr, "kvbench: bad -d\n");
				return 2;
			}
			o.duration_s = dur;
			break;
		case 's':
			if (kvbench_parse_uint(optarg, 1, 4000,
			                       &o.value_size) != 0) {
				fprintf(stderr, "kvbench: bad -s\n");
				return 2;
			}
			break;
		case 'p':
			o.prefix = optarg;
			break;
		case 'h':
			kvbench_usage(stdout);
			return 0;
		default:
			kvbench_usage(stderr);
			return 2;
		}
	}
	if (o.host == NULL || optind != argc) {
		kvbench_usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	clients = calloc(o.clients, sizeof(*clients));
	if (clients == NULL)
		abort();
	t_start = kvbench_now();
	for (i = 0; i < o.clients; i++) {
		clients[i].index = (unsigned)i;
		clients[i].opts = &o;
		clients[i].t_end = t_start + o.duration_s;
		clients[i].fd = -1;
		if (pthread_create(&clients[i].thread, NULL, kvbench_client_run,
		                   &clients[i]) != 0) {
			fprintf(stderr, "kvbench: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < o.clients; i++) {
		pthread_join(clients[i].thread, NULL);
		n_all += clients[i].n_lat;
		errors += clients[i].errors;
	}
	elapsed = kvbench_now() - t_start;

	all = malloc((n_all ? n_all : 1) * sizeof(*all));
	if (all == NULL)
		abort();
	n_all = 0;
	for (i = 0; i < o.clients; i++) {
		if (clients[i].err[0] != '\0') {
			if (failed++ == 0)
				fprintf(stderr, "kvbench: client %zu: %s\n", i,
				        clients[i].err);
		}
		memcpy(all + n_all, clients[i].lat_us,
		       clients[i].n_lat * sizeof(*all));
		n_all += clients[i].n_lat;
		free(clients[i].lat_us);
	}
	qsort(all, n_all, sizeof(*all), kvbench_cmp_u32);

	printf("kvbench %s:%s clients=%u writes=%zu seconds=%.2f "
	       "writes_per_s=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
	       "errors=%llu failed_clients=%u\n",
	       o.host, o.port, o.clients, n_all, elapsed,
	       (double)n_all / elapsed,
	       kvbench_percentile(all, n_all, 0.50) / 1e3,
	       kvbench_percentile(all, n_all, 0.99) / 1e3,
	       n_all ? all[n_all - 1] / 1e3 : 0.0, (unsigned long long)errors,
	       failed);
	free(all);
	free(clients);
	return failed == o.clients || n_all == 0 ? 1 : 0;
}
