/* Unit tests for dnsd's listeners on loopback: UDP workers, TCP framing
 * (pipelining, partial reads), limits and timeouts, counters. */
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

static int
tcp_connect(void)
{
	struct sockaddr_in sa;
	int fd = client_socket(SOCK_STREAM);

	server_addr(&sa);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		abort();
	return fd;
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

static void *
tcp_idle_client(void *arg)
{
	int fd = tcp_connect();
	double t0 = now_ms();
	bool ok = closed_by_server(fd);
	double waited = now_ms() - t0;

	close(fd);
	/* Closed by the 300 ms idle timer, well before the 5 s timeout. */
	atomic_store(&client_ok, ok && waited >= 250 && waited < 4000);
	uv_async_send(&done_async);
	return NULL;
}

static void
test_tcp_idle(void)
{
	l.idle_ms = 300;
	with_loop(tcp_idle_client);
	CHECK(atomic_load(&client_ok));
	l.idle_ms = LISTEN_TCP_IDLE_MS;
}

static void *
tcp_limit_client(void *arg)
{
	static int fds[LISTEN_TCP_MAX];
	uint8_t q[512], buf[514];
	size_t qlen = make_query("api.example.com.", LDNS_RR_TYPE_A, 9, q);
	bool ok = true;
	ldns_pkt *p;
	int extra;

	pkt_put16(buf, (uint16_t)qlen);
	memcpy(buf + 2, q, qlen);
	/* Fill the table; a query on each proves it was accepted. */
	for (int i = 0; i < LISTEN_TCP_MAX; i++) {
		fds[i] = tcp_connect();
		ok = ok && write(fds[i], buf, qlen + 2) == (ssize_t)(qlen + 2);
		p = tcp_read_pkt(fds[i]);
		ok = ok && p != NULL;
		ldns_pkt_free(p);
	}
	/* One more: closed at once. */
	extra = tcp_connect();
	ok = ok && closed_by_server(extra);
	close(extra);
	/* The others still work. */
	ok = ok && write(fds[0], buf, qlen + 2) == (ssize_t)(qlen + 2);
	p = tcp_read_pkt(fds[0]);
	ok = ok && p != NULL;
	ldns_pkt_free(p);
	for (int i = 0; i < LISTEN_TCP_MAX; i++)
		close(fds[i]);
	atomic_store(&client_ok, ok);
	uv_async_send(&done_async);
	return NULL;
}

static void
test_tcp_limit(void)
{
	with_loop(tcp_limit_client);
	CHECK(atomic_load(&client_ok));
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
	char addr[64];

	dr_log_init("test", false);
	uv_loop_init(&loop);
	uv_async_init(&loop, &done_async, done_cb);
	pthread_rwlock_init(&view.lock, NULL);
	view.db = tz_new();
	stats_init(&st, 3);
	free_port(addr, sizeof(addr));
	if (listen_start(&l, &loop, addr, 2, &view, &st) != 0) {
		fprintf(stderr, "cannot listen on %s\n", addr);
		return 1;
	}
	CHECK(l.port != 0);

	RUN(test_udp);
	RUN(test_tcp_pipeline);
	RUN(test_tcp_garbage);
	RUN(test_tcp_idle);
	RUN(test_tcp_limit);

	listen_stop(&l);
	uv_close((uv_handle_t *)&done_async, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_EQ_INT(uv_loop_close(&loop), 0);
	CHECK_EQ_INT(listen_start(&l, &loop, "bad address", 1, &view, &st),
	             DR_EINVAL);
	zonedb_free(view.db);
	stats_close(&st);
	return UNIT_DONE();
}
