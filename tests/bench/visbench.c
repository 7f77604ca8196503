/*
 * Visibility of a write: time from its ack to every node serving it.
 *
 * visbench writes through one node's ctld, one write at a time: `rr add`
 * of a new name (then every -D dnsd is polled with UDP queries until it
 * answers the name) and `kv set` of a new key (then every -K ctld is
 * polled with local `kv get` until it returns the value). One poller
 * thread per address starts when the ack arrives and queries back to back
 * (or every -i microseconds). Per write, the visibility is the slowest
 * node's first good answer minus the ack time (0 when a node already had
 * it); prints p50/p99/max over the writes, then the same per node.
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

#define VIS_MAX_NODES     16
#define VIS_LINE_MAX      4096
#define VIS_IO_TIMEOUT_S  10
#define VIS_DNS_RESEND_MS 200

enum vis_kind {
	VIS_DNS,
	VIS_KV,
	VIS_NKINDS,
};

static const char *const vis_kind_names[VIS_NKINDS] = { "dns", "kv" };

/* A blocking TCP connection read line by line. */
struct vis_conn {
	int fd;
	char buf[VIS_LINE_MAX];
	size_t len;
};

struct vis_shared;

/* One node polled for one kind of write. */
struct vis_poller {
	pthread_t thread;
	enum vis_kind kind;
	const char *addr; /* borrowed; HOST:PORT */
	struct vis_shared *sh;
	struct vis_conn conn; /* VIS_KV: a session; VIS_DNS: fd only */
	uint16_t qid;
	/* Of the current write, under sh->mu: */
	bool seen;
	double t_seen;
	/* Over the run: */
	struct bench_samples lat;
	unsigned timeouts;
	char err[256];
};

/* The current write, handed from the writer to the pollers. */
struct vis_shared {
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	unsigned gen;    /* bumped for every write */
	int kind;        /* of the current write */
	char qname[300]; /* VIS_DNS: wire-format name */
	size_t qname_len;
	char key[256], value[64]; /* VIS_KV */
	double deadline;
	unsigned pending; /* pollers of the kind still polling */
	bool quit;
	unsigned interval_us;
};

static int
vis_readline(struct vis_conn *c, char *line, size_t linelen)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		ssize_t n;

		if (nl != NULL) {
			size_t l = (size_t)(nl - c->buf);
			size_t cp = l < linelen - 1 ? l : linelen - 1;

			memcpy(line, c->buf, cp);
			line[cp] = '\0';
			c->len -= l + 1;
			memmove(c->buf, nl + 1, c->len);
			return 0;
		}
		if (c->len == sizeof(c->buf))
			return -1;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
}

/* Sends line (with its newline) and reads the one-line reply. */
static int
vis_cmd(struct vis_conn *c, const char *line, char *reply, size_t replylen)
{
	if (bench_send_all(c->fd, line, strlen(line)) != 0)
		return -1;
	return vis_readline(c, reply, replylen);
}

/* A `session` connection to addr. Returns 0 or -1 (err set). */
static int
vis_session(struct vis_conn *c, const char *addr, char *err, size_t errlen)
{
	char host[256], line[256];
	const char *port;

	c->len = 0;
	if (bench_split_hostport(addr, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen, "bad address %s", addr);
		return -1;
	}
	c->fd = bench_connect(host, port, SOCK_STREAM, err, errlen);
	if (c->fd < 0)
		return -1;
	bench_set_timeouts(c->fd, VIS_IO_TIMEOUT_S);
	if (vis_cmd(c, "session\n", line, sizeof(line)) != 0 ||
	    strcmp(line, "OK") != 0) {
		snprintf(err, errlen, "%s: session refused", addr);
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

/* name (dotted, absolute or not) in DNS wire format. Returns the length
 * or -1. */
static int
vis_wire_name(const char *name, char *out, size_t cap)
{
	size_t o = 0;

	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		if (l == 0 || l > 63 || o + l + 2 > cap)
			return -1;
		out[o++] = (char)l;
		memcpy(out + o, name, l);
		o += l;
		name += l;
		if (*name == '.')
			name++;
	}
	if (o + 1 > cap)
		return -1;
	out[o++] = 0;
	return (int)o;
}

/*
 * One UDP query for qname (wire format, qlen bytes), resent until answered
 * or deadline. Returns 1 when the answer has the name (NOERROR with an
 * answer), 0 when it does not (yet), -1 on a socket error.
 */
static int
vis_dns_once(struct vis_poller *p, const char *qname, size_t qlen,
             double deadline)
{
	unsigned char q[512], r[1500];
	double t_resend = 0;
	size_t ql = 12 + qlen + 4;

	for (;;) {
		struct pollfd pfd = { p->conn.fd, POLLIN, 0 };
		ssize_t n;
		int rv;

		double now = bench_now();

		if (now >= deadline)
			return 0;
		if (now >= t_resend) {
			p->qid++;
			memset(q, 0, 12);
			q[0] = (unsigned char)(p->qid >> 8);
			q[1] = (unsigned char)p->qid;
			q[5] = 1; /* QDCOUNT; no RD: ask the authority */
			memcpy(q + 12, qname, qlen);
			q[12 + qlen + 1] = 1; /* type A */
			q[12 + qlen + 3] = 1; /* class IN */
			q[12 + qlen] = q[12 + qlen + 2] = 0;
			if (send(p->conn.fd, q, ql, 0) < 0)
				return -1;
			t_resend = now + VIS_DNS_RESEND_MS / 1e3;
		}
		rv = poll(&pfd, 1, VIS_DNS_RESEND_MS);
		if (rv < 0 && errno != EINTR)
			return -1;
		if (rv <= 0)
			continue;
		n = recv(p->conn.fd, r, sizeof(r), 0);
		if (n < 0 && (errno == EINTR || errno == ECONNREFUSED))
			continue;
		if (n < 0)
			return -1;
		/* An answer to an earlier, timed-out query: skip it. */
		if (n < 12 || r[0] != q[0] || r[1] != q[1] || !(r[2] & 0x80))
			continue;
		return (r[3] & 0x0f) == 0 && (r[6] << 8 | r[7]) > 0;
	}
}

static int
vis_kv_once(struct vis_poller *p, const char *key, const char *value)
{
	char line[VIS_LINE_MAX], reply[VIS_LINE_MAX];

	snprintf(line, sizeof(line), "kv get %s\n", key);
	if (vis_cmd(&p->conn, line, reply, sizeof(reply)) != 0)
		return -1;
	return strcmp(reply, value) == 0;
}

static void *
vis_poller_run(void *arg)
{
	struct vis_poller *p = arg;
	struct vis_shared *sh = p->sh;
	unsigned gen = 0;

	for (;;) {
		char qname[sizeof(sh->qname)], key[256], value[64];
		size_t qlen;
		double deadline, t_seen = 0;
		bool seen = false;

		pthread_mutex_lock(&sh->mu);
		while (!sh->quit &&
		       (sh->gen == gen || sh->kind != (int)p->kind))
			pthread_cond_wait(&sh->go, &sh->mu);
		if (sh->quit) {
			pthread_mutex_unlock(&sh->mu);
			return NULL;
		}
		gen = sh->gen;
		memcpy(qname, sh->qname, sizeof(qname));
		qlen = sh->qname_len;
		memcpy(key, sh->key, sizeof(key));
		memcpy(value, sh->value, sizeof(value));
		deadline = sh->deadline;
		pthread_mutex_unlock(&sh->mu);

		while (p->err[0] == '\0' && bench_now() < deadline) {
			int rv = p->kind == VIS_DNS
			             ? vis_dns_once(p, qname, qlen, deadline)
			             : vis_kv_once(p, key, value);

			if (rv < 0) {
				snprintf(p->err, sizeof(p->err),
				         "%s: %s query failed: %s", p->addr,
				         vis_kind_names[p->kind],
				         strerror(errno));
				break;
			}
			if (rv == 1) {
				t_seen = bench_now();
				seen = true;
				break;
			}
			if (sh->interval_us > 0)
				usleep(sh->interval_us);
		}

		pthread_mutex_lock(&sh->mu);
		p->seen = seen;
		p->t_seen = t_seen;
		if (--sh->pending == 0)
			pthread_cond_signal(&sh->done);
		pthread_mutex_unlock(&sh->mu);
	}
}

struct vis_result {
	struct bench_samples ack; /* write -> ack */
	struct bench_samples all; /* ack -> every node */
	unsigned timeouts, errors;
};

/*
 * One write of kind through w; wakes the pollers of that kind at the ack
 * and waits for them. Returns 0, or -1 when the writer's connection
 * failed.
 */
static int
vis_write(struct vis_shared *sh, struct vis_conn *w, const char *cmd,
          struct vis_poller *pollers, unsigned np, enum vis_kind kind,
          double timeout_s, struct vis_result *res)
{
	char reply[VIS_LINE_MAX];
	double t0, t_ack, worst = 0;
	unsigned i, n = 0;
	bool all_seen = true;

	t0 = bench_now();
	if (vis_cmd(w, cmd, reply, sizeof(reply)) != 0)
		return -1;
	t_ack = bench_now();
	if (strcmp(reply, "SUCCESS") != 0) {
		res->errors++;
		return 0;
	}
	bench_samples_add(&res->ack, t_ack - t0);

	pthread_mutex_lock(&sh->mu);
	for (i = 0; i < np; i++)
		if (pollers[i].kind == kind)
			n++;
	if (n == 0) {
		pthread_mutex_unlock(&sh->mu);
		return 0;
	}
	sh->gen++;
	sh->kind = (int)kind;
	sh->pending = n;
	sh->deadline = t_ack + timeout_s;
	pthread_cond_broadcast(&sh->go);
	while (sh->pending > 0)
		pthread_cond_wait(&sh->done, &sh->mu);
	for (i = 0; i < np; i++) {
		struct vis_poller *p = &pollers[i];

		if (p->kind != kind)
			continue;
		if (!p->seen) {
			p->timeouts++;
			all_seen = false;
			continue;
		}
		bench_samples_add(&p->lat, p->t_seen - t_ack);
		if (p->t_seen - t_ack > worst)
			worst = p->t_seen - t_ack;
	}
	pthread_mutex_unlock(&sh->mu);
	if (all_seen)
		bench_samples_add(&res->all, worst);
	else
		res->timeouts++;
	return 0;
}

static void
vis_usage(FILE *f)
{
	fprintf(
	    f, "usage: visbench -W CTL_HOST:PORT -z ZONE [-D DNS_HOST:PORT]... "
	       "[-K CTL_HOST:PORT]...\n"
	       "                [-n WRITES] [-p PREFIX] [-t TIMEOUT_S] "
	       "[-i INTERVAL_US]\n"
	       "  Writes through -W (rr add of a new name in ZONE, kv set of "
	       "a new key),\n"
	       "  then polls every -D dnsd and every -K ctld (local kv get) "
	       "until it\n"
	       "  serves the write; prints ack -> all nodes p50/p99/max.\n"
	       "  defaults: -n 200 -p vis<pid>- -t 5 -i 0\n");
}

static void
vis_print(enum vis_kind kind, const struct vis_result *r,
          struct vis_poller *pollers, unsigned np)
{
	unsigned i;

	printf("visbench kind=%s writes=%zu ack_p50_ms=%.3f ack_p99_ms=%.3f "
	       "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f timeouts=%u errors=%u\n",
	       vis_kind_names[kind], r->ack.n, bench_samples_pct(&r->ack, 0.5),
	       bench_samples_pct(&r->ack, 0.99),
	       bench_samples_pct(&r->all, 0.5),
	       bench_samples_pct(&r->all, 0.99), bench_samples_max(&r->all),
	       r->timeouts, r->errors);
	for (i = 0; i < np; i++) {
		struct vis_poller *p = &pollers[i];

		if (p->kind != kind)
			continue;
		bench_samples_sort(&p->lat);
		printf("visbench kind=%s node=%s p50_ms=%.3f p99_ms=%.3f "
		       "max_ms=%.3f timeouts=%u\n",
		       vis_kind_names[kind], p->addr,
		       bench_samples_pct(&p->lat, 0.5),
		       bench_samples_pct(&p->lat, 0.99),
		       bench_samples_max(&p->lat), p->timeouts);
	}
}

static int
vis_add_poller(struct vis_poller *pollers, unsigned *np, enum vis_kind kind,
               const char *addr)
{
	if (*np == VIS_MAX_NODES * VIS_NKINDS) {
		fprintf(stderr, "visbench: too many -D/-K\n");
		return -1;
	}
	pollers[*np].kind = kind;
	pollers[*np].addr = addr;
	(*np)++;
	return 0;
}

/* Opens the socket of poller number i. Returns 0 or -1 (p->err set). */
static int
vis_poller_open(struct vis_poller *p, unsigned i)
{
	char host[256];
	const char *port;

	if (p->kind == VIS_KV)
		return vis_session(&p->conn, p->addr, p->err, sizeof(p->err));
	if (bench_split_hostport(p->addr, host, sizeof(host), &port) != 0) {
		snprintf(p->err, sizeof(p->err), "bad address %s", p->addr);
		return -1;
	}
	p->conn.fd =
	    bench_connect(host, port, SOCK_DGRAM, p->err, sizeof(p->err));
	p->qid = (uint16_t)((unsigned)getpid() * 31 + i * 4099);
	return p->conn.fd < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	static struct vis_poller pollers[VIS_MAX_NODES * VIS_NKINDS];
	static struct vis_shared sh;
	struct vis_result res[VIS_NKINDS];
	struct vis_conn w;
	const char *waddr = NULL, *zone = NULL;
	char prefix[64], err[256], cmd[1024], name[512];
	unsigned np = 0, writes = 200, timeout_s = 5, i, k;
	bool have[VIS_NKINDS] = { false };
	int ch, rv = 0;

	snprintf(prefix, sizeof(prefix), "vis%d-", (int)getpid());
	while ((ch = getopt(argc, argv, "W:D:K:z:n:p:t:i:h")) != -1) {
		switch (ch) {
		case 'W':
			waddr = optarg;
			break;
		case 'D':
		case 'K':
			if (vis_add_poller(pollers, &np,
			                   ch == 'D' ? VIS_DNS : VIS_KV,
			                   optarg) != 0)
				return 2;
			break;
		case 'z':
			zone = optarg;
			break;
		case 'n':
			if (bench_parse_uint(optarg, 1, 1000000, &writes) != 0)
				goto bad;
			break;
		case 'p':
			if (strlen(optarg) > 40 ||
			    strpbrk(optarg, " .\t\r\n") != NULL)
				goto bad;
			snprintf(prefix, sizeof(prefix), "%s", optarg);
			break;
		case 't':
			if (bench_parse_uint(optarg, 1, 600, &timeout_s) != 0)
				goto bad;
			break;
		case 'i':
			if (bench_parse_uint(optarg, 0, 1000000,
			                     &sh.interval_us) != 0)
				goto bad;
			break;
		case 'h':
			vis_usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (waddr == NULL || zone == NULL || np == 0 || optind != argc)
		goto bad;
	signal(SIGPIPE, SIG_IGN);

	if (vis_session(&w, waddr, err, sizeof(err)) != 0) {
		fprintf(stderr, "visbench: %s\n", err);
		return 1;
	}
	pthread_mutex_init(&sh.mu, NULL);
	pthread_cond_init(&sh.go, NULL);
	pthread_cond_init(&sh.done, NULL);
	sh.kind = -1;
	for (i = 0; i < np; i++) {
		pollers[i].sh = &sh;
		have[pollers[i].kind] = true;
		if (vis_poller_open(&pollers[i], i) != 0) {
			fprintf(stderr, "visbench: %s\n", pollers[i].err);
			return 1;
		}
		if (pthread_create(&pollers[i].thread, NULL, vis_poller_run,
		                   &pollers[i]) != 0) {
			fprintf(stderr, "visbench: pthread_create failed\n");
			return 1;
		}
	}

	memset(res, 0, sizeof(res));
	for (i = 0; i < writes && rv == 0; i++) {
		int qlen;

		/* A name and a key that no earlier write used. */
		snprintf(name, sizeof(name), "%s%u.%s%s", prefix, i, zone,
		         zone[strlen(zone) - 1] == '.' ? "" : ".");
		qlen = vis_wire_name(name, sh.qname, sizeof(sh.qname));
		if (qlen < 0) {
			fprintf(stderr, "visbench: name too long: %s\n", name);
			rv = 1;
			break;
		}
		sh.qname_len = (size_t)qlen;
		snprintf(cmd, sizeof(cmd), "rr add %s %s%u 60 A 10.%u.%u.%u\n",
		         zone, prefix, i, (i >> 16) & 255, (i >> 8) & 255,
		         i & 255);
		if (have[VIS_DNS] &&
		    vis_write(&sh, &w, cmd, pollers, np, VIS_DNS, timeout_s,
		              &res[VIS_DNS]) != 0)
			rv = 1;

		snprintf(sh.key, sizeof(sh.key), "%s%u", prefix, i);
		snprintf(sh.value, sizeof(sh.value), "val%u", i);
		snprintf(cmd, sizeof(cmd), "kv set %s %s\n", sh.key, sh.value);
		if (rv == 0 && have[VIS_KV] &&
		    vis_write(&sh, &w, cmd, pollers, np, VIS_KV, timeout_s,
		              &res[VIS_KV]) != 0)
			rv = 1;
	}
	if (rv != 0)
		fprintf(stderr, "visbench: the write connection to %s failed\n",
		        waddr);

	pthread_mutex_lock(&sh.mu);
	sh.quit = true;
	pthread_cond_broadcast(&sh.go);
	pthread_mutex_unlock(&sh.mu);
	for (i = 0; i < np; i++) {
		pthread_join(pollers[i].thread, NULL);
		if (pollers[i].err[0] != '\0') {
			fprintf(stderr, "visbench: %s\n", pollers[i].err);
			rv = 1;
		}
	}
	for (k = 0; k < VIS_NKINDS; k++) {
		if (!have[k])
			continue;
		bench_samples_sort(&res[k].all);
		bench_samples_sort(&res[k].ack);
		vis_print((enum vis_kind)k, &res[k], pollers, np);
		bench_samples_free(&res[k].all);
		bench_samples_free(&res[k].ack);
	}
	for (i = 0; i < np; i++) {
		bench_samples_free(&pollers[i].lat);
		close(pollers[i].conn.fd);
	}
	close(w.fd);
	return rv;
bad:
	vis_usage(stderr);
	return 2;
}
