/* Unit tests for dnsd's listeners on loopback: UDP workers, TCP framing
 * (pipelining, partial reads), limits and deadlines that trickled bytes do
 * not extend, response rate limiting and cookies, counters. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dnsd_testzone.h"
#include "err.h"
#include "listen.h"
#include "log.h"
#include "packet.h"
#include "unit.h"

static uv_loop_t loop;
static struct stats st;
static struct feed_view view;
static struct listen l;
static uv_async_t done_async;
static atomic_bool client_ok;

/* ------------------------------------------------------------ client */

/* A query in wire form (ldns); returns its length. */
static size_t
make_query(const char *name, ldns_rr_type type, uint16_t id, uint8_t *out)
{
	ldns_pkt *q = NULL;
	uint8_t *wire = NULL;
	size_t len;

	if (ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN,
	                               LDNS_RD) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_set_id(q, id);
	if (ldns_pkt2wire(&wire, q, &len) != LDNS_STATUS_OK)
		abort();
	memcpy(out, wire, len);
	free(wire);
	ldns_pkt_free(q);
	return len;
}

static int
client_socket(int type)
{
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_INET, type, 0);

	if (fd < 0)
		abort();
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void
server_addr(struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(l.port);
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* A TCP connection to the server from src (a 127.x.y.z address). */
static int
tcp_connect_from(const char *src)
{
	struct sockaddr_in sa, me;
	int fd = client_socket(SOCK_STREAM);

	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	if (inet_pton(AF_INET, src, &me.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0)
		abort();
	server_addr(&sa);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		abort();
	return fd;
}

static int
tcp_connect(void)
{
	return tcp_connect_from("127.0.0.1");
}

static bool
read_full(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* Reads one framed response into a parsed packet (NULL on EOF/error). */
static ldns_pkt *
tcp_read_pkt(int fd)
{
	static uint8_t buf[65535];
	uint8_t hdr[2];
	ldns_pkt *p = NULL;
	size_t len;

	if (!read_full(fd, hdr, 2))
		return NULL;
	len = pkt_u16(hdr);
	if (!read_full(fd, buf, len) ||
	    ldns_wire2pkt(&p, buf, len) != LDNS_STATUS_OK)
		return NULL;
	return p;
}

/* True when the server closed fd (read returns 0) within 5 s. */
static bool
closed_by_server(int fd)
{
	uint8_t b;

	return read(fd, &b, 1) == 0;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A framed query (2-byte length first) for name/type; returns its size. */
static size_t
make_framed(const char *name, ldns_rr_type type, uint16_t id, uint8_t *out)
{
	size_t qlen = make_query(name, type, id, out + 2);

	pkt_put16(out, (uint16_t)qlen);
	return qlen + 2;
}

/* One framed query, and its answer; true if it came. */
static bool
tcp_ask(int fd, uint16_t id)
{
	uint8_t buf[600];
	size_t n = make_framed("api.example.com.", LDNS_RR_TYPE_A, id, buf);
	ldns_pkt *p;
	bool ok;

	if (write(fd, buf, n) != (ssize_t)n)
		return false;
	p = tcp_read_pkt(fd);
	ok = p != NULL && ldns_pkt_id(p) == id;
	ldns_pkt_free(p);
	return ok;
}

/*
 * Sends len bytes of buf one at a time, every_ms apart, and watches for
 * the server closing the connection meanwhile. Returns the milliseconds
 * from the first byte to the close, or -1 if every byte went and the
 * connection is still open.
 */
static double
trickle(int fd, const uint8_t *buf, size_t len, int every_ms)
{
	double t0 = now_ms();

	for (size_t i = 0; i < len; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint8_t b;

		if (send(fd, buf + i, 1, MSG_NOSIGNAL) != 1)
			return now_ms() - t0; /* closed (reset) already */
		if (poll(&p, 1, every_ms) == 1 && read(fd, &b, 1) <= 0)
			return now_ms() - t0;
	}
	return -1;
}

/* ----------------------------------------------------- UDP (no loop) */

static void
test_udp(void)
{
	struct sockaddr_in sa;
	uint8_t q[512], r[4096];
	int fd = client_socket(SOCK_DGRAM);
	ldns_pkt *p;
	size_t qlen;
	ssize_t n;

	server_addr(&sa);
	/* Many queries in flight, answered in batches by the workers. */
	for (int i = 0; i < 200; i++) {
		qlen = make_query("api.example.com.", LDNS_RR_TYPE_A,
		                  (uint16_t)i, q);
		sendto(fd, q, qlen, 0, (struct sockaddr *)&sa, sizeof(sa));
	}
	int got = 0, good = 0;
	for (int i = 0; i < 200; i++) {
		n = recv(fd, r, sizeof(r), 0);
		if (n <= 0)
			break;
		got++;
		if (ldns_wire2pkt(&p, r, (size_t)n) == LDNS_STATUS_OK) {
			good += ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR &&
			        ldns_pkt_aa(p) && NAN(p) == 2;
			ldns_pkt_free(p);
		}
	}
	CHECK_EQ_INT(got, 200);
	CHECK_EQ_INT(good, 200);

	/* Garbage is dropped; the next query is still answered. */
	sendto(fd, "xyz", 3, 0, (struct sockaddr *)&sa, sizeof(sa));
	qlen = make_query("nope.example.com.", LDNS_RR_TYPE_A, 7, q);
	sendto(fd, q, qlen, 0, (struct sockaddr *)&sa, sizeof(sa));
	n = recv(fd, r, sizeof(r), 0);
	CHECK(n > 0 && ldns_wire2pkt(&p, r, (size_t)n) == LDNS_STATUS_OK);
	if (n > 0 && p != NULL) {
		CHECK_EQ_INT(ldns_pkt_id(p), 7);
		CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
		ldns_pkt_free(p);
	}

	/* Too big for 512 bytes: TC. */
	qlen = make_query("big.example.com.", LDNS_RR_TYPE_TXT, 8, q);
	sendto(fd, q, qlen, 0, (struct sockaddr *)&sa, sizeof(sa));
	n = recv(fd, r, sizeof(r), 0);
	CHECK(n > 0 && n <= 512);
	CHECK(n > 2 && (r[2] & 0x02) != 0);
	/* Unknown opcode with EDNS: NOTIMP, with an OPT (RFC 6891 7). */
	ldns_pkt *nq = NULL;
	uint8_t *wire = NULL;
	if (ldns_pkt_query_new_frm_str(&nq, "example.com.", LDNS_RR_TYPE_A,
	                               LDNS_RR_CLASS_IN, 0) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_set_opcode(nq, LDNS_PACKET_STATUS);
	ldns_pkt_set_edns_udp_size(nq, 1232);
	ldns_pkt_set_edns_data(
	    nq, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, 0, ""));
	if (ldns_pkt2wire(&wire, nq, &qlen) != LDNS_STATUS_OK)
		abort();
	sendto(fd, wire, qlen, 0, (struct sockaddr *)&sa, sizeof(sa));
	free(wire);
	ldns_pkt_free(nq);
	n = recv(fd, r, sizeof(r), 0);
	CHECK(n > 0 && ldns_wire2pkt(&p, r, (size_t)n) == LDNS_STATUS_OK);
	if (n > 0 && p != NULL) {
		CHECK_EQ_INT(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTIMPL);
		CHECK(ldns_pkt_edns(p));
		ldns_pkt_free(p);
	}
	close(fd);

	/* Counters are published per batch: wait for them. */
	double end = now_ms() + 5000;
	while (stats_sum(&st, STATS_UDP) < 204 && now_ms() < end)
		usleep(1000);
	CHECK_EQ_INT(stats_sum(&st, STATS_UDP), 204);
	CHECK_EQ_INT(stats_sum(&st, STATS_NOTIMP), 1);
	CHECK_EQ_INT(stats_sum(&st, STATS_NOERROR), 201);
	CHECK_EQ_INT(stats_sum(&st, STATS_NXDOMAIN), 1);
	CHECK_EQ_INT(stats_sum(&st, STATS_DROPPED), 1);
	CHECK_EQ_INT(stats_sum(&st, STATS_TRUNCATED), 1);
}

/* A second listener, with RRL at 10/s and slip 2. */
static struct listen lr;
static struct stats str;

#define BIG "\3big\7example\3com"

/* Waits for one datagram for up to ms; its length, or 0. */
static size_t
udp_recv(int fd, uint8_t *r, size_t cap, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) != 1 || (n = recv(fd, r, cap, 0)) <= 0)
		return 0;
	return (size_t)n;
}

static void
test_udp_rrl(void)
{
	struct sockaddr_in sa;
	uint8_t q[512], r[4096], o[64], server[16];
	int fd = client_socket(SOCK_DGRAM), rcvbuf = 4 * 1024 * 1024;
	int full = 0, tc = 0, got_cookie = 0;
	size_t qlen, n;
	double t0, elapsed;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	server_addr(&sa);
	sa.sin_port = htons(lr.port);
	/* 100 queries for a large answer at once, from one address. */
	qlen = tz_query_opt(q, BIG, sizeof(BIG), 16, 0, NULL, 0);
	t0 = now_ms();
	for (int i = 0; i < 100; i++)
		sendto(fd, q, qlen, 0, (struct sockaddr *)&sa, sizeof(sa));
	while ((n = udp_recv(fd, r, sizeof(r), 500)) > 0) {
		if (r[2] & 0x02) {
			tc++;
			/* The slip: no records at all. */
			CHECK_EQ_INT(pkt_u16(r + 6) + pkt_u16(r + 8), 0);
		} else {
			full++;
			CHECK(n > 1000);
		}
	}
	elapsed = now_ms() - t0 - 500;
	/* The burst (10), plus what 10/s refilled meanwhile. */
	CHECK(full >= 10 && full <= 10 + 1 + (int)(elapsed / 100));
	double end = now_ms() + 5000;
	while (stats_sum(&str, STATS_UDP) < 100 && now_ms() < end)
		usleep(1000);
	uint64_t limited = stats_sum(&str, STATS_RRL_LIMITED);
	CHECK_EQ_INT(limited, 100 - full);
	CHECK_EQ_INT(stats_sum(&str, STATS_RRL_SLIPPED), tc);
	CHECK_EQ_INT(tc, limited / 2);
	CHECK_EQ_INT(stats_sum(&str, STATS_DROPPED), 0);

	/* A client cookie: a server cookie comes back (in a slip too). */
	qlen = tz_query_opt(q, BIG, sizeof(BIG), 16, 0, o,
	                    tz_cookie_opt(o, 8, NULL));
	for (int i = 0; i < 20 && !got_cookie; i++) {
		sendto(fd, q, qlen, 0, (struct sockaddr *)&sa, sizeof(sa));
		n = udp_recv(fd, r, sizeof(r), 300);
		if (n > 0 && tz_reply_cookie(r, n) != NULL) {
			memcpy(server, tz_reply_cookie(r, n), 16);
			got_cookie = 1;
		}
	}
	CHECK(got_cookie);
	/* With it, no limit: 50 full answers in a row. */
	qlen = tz_query_opt(q, BIG, sizeof(BIG), 16, 0, o,
	                    tz_cookie_opt(o, 24, server));
	full = 0;
	for (int i = 0; i < 50; i++)
		sendto(fd, q, qlen, 0, (struct sockaddr *)&sa, sizeof(sa));
	while ((n = udp_recv(fd, r, sizeof(r), 500)) > 0)
		full += (r[2] & 0x02) == 0 && n > 1000;
	CHECK_EQ_INT(full, 50);
	CHECK(stats_sum(&str, STATS_COOKIE_VALID) >= 50);
	CHECK(stats_sum(&str, STATS_COOKIE_NEW) >= 1);
	close(fd);
}

/* ---------------------------------------- TCP (client thread + loop) */

static void
done_cb(uv_async_t *a)
{
	uv_stop(a->loop);
}

/* Runs fn on a client thread while the loop serves TCP. */
static void
with_loop(void *(*fn)(void *))
{
	pthread_t t;

	atomic_store(&client_ok, false);
	pthread_create(&t, NULL, fn, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	pthread_join(t, NULL);
}

static void *
tcp_pipeline_client(void *arg)
{
	uint8_t buf[2048], q[512];
	size_t len = 0, qlen;
	ldns_pkt *p1, *p2, *p3, *p4, *p5;
	int fd = tcp_connect();
	bool ok;

	/* Two queries in one segment. */
	qlen = make_query("api.example.com.", LDNS_RR_TYPE_A, 1, q);
	pkt_put16(buf, (uint16_t)qlen);
	memcpy(buf + 2, q, qlen);
	len = 2 + qlen;
	qlen = make_query("big.example.com.", LDNS_RR_TYPE_TXT, 2, q);
	pkt_put16(buf + len, (uint16_t)qlen);
	memcpy(buf + len + 2, q, qlen);
	len += 2 + qlen;
	ok = write(fd, buf, len) == (ssize_t)len;
	p1 = tcp_read_pkt(fd);
	p2 = tcp_read_pkt(fd);
	/* A third one, a byte at a time (partial reads). */
	qlen = make_query("www.example.com.", LDNS_RR_TYPE_A, 3, q);
	pkt_put16(buf, (uint16_t)qlen);
	memcpy(buf + 2, q, qlen);
	for (size_t i = 0; i < qlen + 2; i++) {
		ok = ok && write(fd, buf + i, 1) == 1;
		usleep(200);
	}
	p3 = tcp_read_pkt(fd);
	/* AXFR: not served, the prepared REFUSED. */
	qlen = make_query("example.com.", LDNS_RR_TYPE_AXFR, 4, q);
	pkt_put16(buf, (uint16_t)qlen);
	memcpy(buf + 2, q, qlen);
	ok = ok && write(fd, buf, qlen + 2) == (ssize_t)(qlen + 2);
	p4 = tcp_read_pkt(fd);
	/* Half-close after a last query: it is still answered. */
	qlen = make_query("nope.example.com.", LDNS_RR_TYPE_A, 5, q);
	pkt_put16(buf, (uint16_t)qlen);
	memcpy(buf + 2, q, qlen);
	ok = ok && write(fd, buf, qlen + 2) == (ssize_t)(qlen + 2);
	shutdown(fd, SHUT_WR);
	p5 = tcp_read_pkt(fd);
	ok = ok && closed_by_server(fd);
	close(fd);

	ok = ok && p1 && p2 && p3 && p4 && p5;
	if (ok) {
		ok = ldns_pkt_id(p1) == 1 && NAN(p1) == 2 &&
		     ldns_pkt_id(p2) == 2 && NAN(p2) == 20 &&
		     !ldns_pkt_tc(p2) && ldns_pkt_id(p3) == 3 &&
		     ldns_pkt_get_rcode(p3) == LDNS_RCODE_NOERROR &&
		     ldns_pkt_id(p4) == 4 &&
		     ldns_pkt_get_rcode(p4) == LDNS_RCODE_REFUSED &&
		     ldns_pkt_id(p5) == 5 &&
		     ldns_pkt_get_rcode(p5) == LDNS_RCODE_NXDOMAIN;
	}
	ldns_pkt_free(p1);
	ldns_pkt_free(p2);
	ldns_pkt_free(p3);
	ldns_pkt_free(p4);
	ldns_pkt_free(p5);
	atomic_store(&client_ok, ok);
	uv_async_send(&done_async);
	return NULL;
}

static void
test_tcp_pipeline(void)
{
	uint64_t tcp0 = stats_sum(&st, STATS_TCP);

	with_loop(tcp_pipeline_client);
	CHECK(atomic_load(&client_ok));
	CHECK_EQ_INT(stats_sum(&st, STATS_TCP) - tcp0, 5);
	CHECK_EQ_INT(st.tcp_conns, 0);
}

static void *
tcp_garbage_client(void *arg)
{
	static const uint8_t junk[] = { 0, 3, 'x', 'y', 'z' };
	int fd = tcp_connect();
	bool ok = write(fd, junk, sizeof(junk)) == sizeof(junk) &&
	          closed_by_server(fd);

	close(fd);
	atomic_store(&client_ok, ok);
	uv_async_send(&done_async);
	return NULL;
}

static void
test_tcp_garbage(void)
{
	with_loop(tcp_garbage_client);
	CHECK(atomic_load(&client_ok));
}

/* Nothing sent after the accept: closed at the first deadline. */
static void *
tcp_first_client(void *arg)
{
	uint8_t buf[600];
	size_t n = make_framed("www.example.com.", LDNS_RR_TYPE_A, 1, buf);
	int fd = tcp_connect();
	double t0 = now_ms();
	bool ok = closed_by_server(fd);
	double waited = now_ms() - t0;
	double t;

	close(fd);
	/* Closed by the 300 ms timer, well before the 5 s timeout. */
	ok = ok && waited >= 250 && waited < 4000;
	/* A first query trickled byte by byte: the same deadline. */
	fd = tcp_connect();
	t = trickle(fd, buf, n, 50);
	close(fd);
	ok = ok && t >= 200 && t < 2000;
	atomic_store(&client_ok, ok);
	uv_async_send(&done_async);
	return NULL;
}

static void
test_tcp_first_deadline(void)
{
	uint64_t timeouts = st.tcp_timeouts;

	l.first_ms = 300;
	with_loop(tcp_first_client);
	CHECK(atomic_load(&client_ok));
	CHECK_EQ_INT(st.tcp_timeouts - timeouts, 2);
	l.first_ms = LISTEN_TCP_FIRST_MS;
}

/*
 * After an answer: the idle timer; a new query's bytes do not reset it,
 * they start the query's own deadline, which more bytes do not move.
 */
static void *
tcp_query_client(void *arg)
{
	uint8_t buf[600];
	size_t n = make_framed("www.example.com.", LDNS_RR_TYPE_A, 2, buf);
	bool ok = true;
	double t0, t;
	int fd;

	/* Idle after an answer: closed after idle_ms (300). */
	fd = tcp_connect();
	ok = ok && tcp_ask(fd, 1);
	t0 = now_ms();
	ok = ok && closed_by_server(fd);
	t = now_ms() - t0;
	close(fd);
	ok = ok && t >= 250 && t < 4000;
	/* Whole queries keep it open: 8 of them 150 ms apart (1.2 s). */
	fd = tcp_connect();
	for (int i = 0; i < 8 && ok; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		ok = tcp_ask(fd, (uint16_t)(10 + i)) && poll(&p, 1, 150) == 0;
	}
	close(fd);
	/* Trickled bytes: closed query_ms (500) after the first byte. */
	fd = tcp_connect();
	ok = ok && tcp_ask(fd, 3);
	t = trickle(fd, buf, n, 100);
	close(fd);
	ok = ok && t >= 400 && t < 3000;
	if (!ok)
		fprintf(stderr,
		        "tcp_query_client: trickle closed after %.0f "
		        "ms\n",
		        t);
	atomic_store(&client_ok, ok);
	uv_async_send(&done_async);
	return NULL;
}

static void
test_tcp_query_deadline(void)
{
	l.idle_ms = 300;
	l.query_ms = 500;
	with_loop(tcp_query_client);
	CHECK(atomic_load(&client_ok));
	l.idle_ms = LISTEN_TCP_IDLE_MS;
	l.query_ms = LISTEN_TCP_QUERY_MS;
}

/* A trickle that would have been kept alive forever by the idle timer. */
static void *
tcp_trickle_client(void *arg)
{
	uint8_t buf[600];
	size_t n = make_framed("www.example.com.", LDNS_RR_TYPE_A, 2, buf);
	int fd = tcp_connect();
	bool ok = tcp_ask(fd, 1);
	double t = trickle(fd, buf, n, 100); /* ~4 s of bytes */

	close(fd);
	/* idle_ms 600 would never fire; query_ms 600 does. */
	ok = ok && t >= 500 && t < 3000;
	atomic_store(&client_ok, ok);
	uv_async_send(&done_async);
	return NULL;
}

static void
test_tcp_trickle(void)
{
	l.idle_ms = 600;
	l.query_ms = 600;
	with_loop(tcp_trickle_client);
	CHECK(atomic_load(&client_ok));
	l.idle_ms = LISTEN_TCP_IDLE_MS;
	l.query_ms = LISTEN_TCP_QUERY_MS;
}

static void *
tcp_source_client(void *arg)
{
	int fds[4], extra, fd;
	bool ok = true;

	/* 127.0.0.2 fills its share (4 here): the next one is closed. */
	for (int i = 0; i < 4; i++) {
		fds[i] = tcp_connect_from("127.0.0.2");
		ok = ok && tcp_ask(fds[i], (uint16_t)i);
	}
	extra = tcp_connect_from("127.0.0.2");
	ok = ok && closed_by_server(extra);
	close(extra);
	/* Other addresses are served. */
	fd = tcp_connect_from("127.0.0.3");
	ok = ok && tcp_ask(fd, 7);
	close(fd);
	fd = tcp_connect();
	ok = ok && tcp_ask(fd, 8);
	close(fd);
	/* And so is 127.0.0.2 again once one of its connections is gone. */
	close(fds[0]);
	double end = now_ms() + 5000;
	bool again = false;
	while (ok && !again && now_ms() < end) {
		fd = tcp_connect_from("127.0.0.2");
		again = tcp_ask(fd, 9);
		close(fd);
	}
	ok = ok && again;
	for (int i = 1; i < 4; i++)
		close(fds[i]);
	atomic_store(&client_ok, ok);
	uv_async_send(&done_async);
	return NULL;
}

static void
test_tcp_per_source(void)
{
	uint64_t refused = st.tcp_refused_source;

	l.tcp_per_source = 4;
	with_loop(tcp_source_client);
	CHECK(atomic_load(&client_ok));
	CHECK(st.tcp_refused_source - refused >= 1);
	l.tcp_per_source = LISTEN_TCP_PER_SOURCE;
}

static void *
tcp_limit_client(void *arg)
{
	static int fds[LISTEN_TCP_MAX];
	bool ok = true;
	int extra;

	/* Fill the table from as many addresses as it takes (16 per). */
	for (int i = 0; i < LISTEN_TCP_MAX; i++) {
		char src[32];

		snprintf(src, sizeof(src), "127.0.1.%d",
		         1 + i / LISTEN_TCP_PER_SOURCE);
		fds[i] = tcp_connect_from(src);
		/* A query on each proves it was accepted. */
		ok = ok && tcp_ask(fds[i], (uint16_t)i);
	}
	/* One more, from an address with none yet: closed at once. */
	extra = tcp_connect_from("127.0.2.1");
	ok = ok && closed_by_server(extra);
	close(extra);
	/* The others still work. */
	ok = ok && tcp_ask(fds[0], 9);
	for (int i = 0; i < LISTEN_TCP_MAX; i++)
		close(fds[i]);
	atomic_store(&client_ok, ok);
	uv_async_send(&done_async);
	return NULL;
}

static void
test_tcp_limit(void)
{
	uint64_t refused = st.tcp_refused_full;

	with_loop(tcp_limit_client);
	CHECK(atomic_load(&client_ok));
	CHECK_EQ_INT(st.tcp_refused_full - refused, 1);
}

/* A port free for both UDP and TCP on loopback right now. */
static void
free_port(char *out, size_t cap)
{
	for (;;) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		int t = socket(AF_INET, SOCK_STREAM, 0);

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(t, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    getsockname(t, (struct sockaddr *)&sa, &sl) != 0)
			abort();
		int ok = bind(u, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(u);
		close(t);
		if (ok) {
			snprintf(out, cap, "127.0.0.1:%u", ntohs(sa.sin_port));
			return;
		}
	}
}

int
main(void)
{
	char addr[64], raddr[64];
	struct listen_config cfg = { .addr = addr, .nworkers = 2 };
	struct listen_config rcfg = {
		.addr = raddr, .nworkers = 2, .rrl_rate = 10, .rrl_slip = 2
	};

	dr_log_init("test", false);
	uv_loop_init(&loop);
	uv_async_init(&loop, &done_async, done_cb);
	pthread_rwlock_init(&view.lock, NULL);
	view.db = tz_new();
	stats_init(&st, 3);
	stats_init(&str, 3);
	free_port(addr, sizeof(addr));
	free_port(raddr, sizeof(raddr));
	if (listen_start(&l, &loop, &cfg, &view, &st) != 0 ||
	    listen_start(&lr, &loop, &rcfg, &view, &str) != 0) {
		fprintf(stderr, "cannot listen on %s or %s\n", addr, raddr);
		return 1;
	}
	CHECK(l.port != 0);
	CHECK(l.rrl == NULL && lr.rrl != NULL);

	RUN(test_udp);
	RUN(test_udp_rrl);
	RUN(test_tcp_pipeline);
	RUN(test_tcp_garbage);
	RUN(test_tcp_first_deadline);
	RUN(test_tcp_query_deadline);
	RUN(test_tcp_trickle);
	RUN(test_tcp_per_source);
	RUN(test_tcp_limit);

	listen_stop(&l);
	listen_stop(&lr);
	uv_close((uv_handle_t *)&done_async, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_EQ_INT(uv_loop_close(&loop), 0);
	cfg.addr = "bad address";
	CHECK_EQ_INT(listen_start(&l, &loop, &cfg, &view, &st), DR_EINVAL);
	zonedb_free(view.db);
	stats_close(&st);
	stats_close(&str);
	return UNIT_DONE();
}
