/* raftd/transport: what reaches c-raft's side, and who is refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "err.h"
#include "key.h"
#include "tls.h"
#include "transport.h"
#include "unit.h"

static char tmpdir[] = "/tmp/test_transport.XXXXXX";
static uv_loop_t loop;

/* What c-raft would see: accepted streams and their bytes. */
static struct {
	unsigned accepted;
	raft_id id;
	char address[300];
	uv_stream_t *stream;
	char in[65536];
	size_t inlen;
	bool eof;
	bool closed;
} seen;

#define RUN_UNTIL(cond, ms)                                             \
	do {                                                            \
		uint64_t until_ = uv_hrtime() + (uint64_t)(ms)*1000000; \
		while (!(cond) && uv_hrtime() < until_)                 \
			uv_run(&loop, UV_RUN_NOWAIT), usleep(1000);     \
	} while (0)

static void
seen_alloc_cb(uv_handle_t *h, size_t sug, uv_buf_t *b)
{
	(void)h;
	(void)sug;
	b->base = seen.in + seen.inlen;
	b->len = sizeof(seen.in) - seen.inlen;
}

static void
seen_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	(void)s;
	(void)b;
	if (n > 0)
		seen.inlen += (size_t)n;
	else if (n < 0)
		seen.eof = true;
}

static void
seen_close_cb(uv_handle_t *h)
{
	free(h);
	seen.closed = true;
}

static void
accept_cb(struct raft_uv_transport *t, raft_id id, const char *address,
          struct uv_stream_s *stream)
{
	(void)t;
	seen.accepted++;
	seen.id = id;
	snprintf(seen.address, sizeof(seen.address), "%s", address);
	seen.stream = stream;
	uv_read_start(stream, seen_alloc_cb, seen_read_cb);
}

static void
seen_reset(void)
{
	if (seen.stream != NULL) {
		seen.closed = false;
		uv_close((uv_handle_t *)seen.stream, seen_close_cb);
		RUN_UNTIL(seen.closed, 1000);
	}
	memset(&seen, 0, sizeof(seen));
}

static bool tr_closed;

static void
tr_close_cb(struct raft_uv_transport *t)
{
	(void)t;
	tr_closed = true;
}

static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(fd, (struct sockaddr *)&sin, &len);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* A listening transport with id 1 on a free port. */
static void
server_start(struct transport *tr, struct dr_tls *tls, int *port)
{
	char addr[64];

	*port = free_port();
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", *port);
	CHECK_EQ_INT(transport_init(tr, &loop, addr, tls), 0);
	CHECK_EQ_INT(tr->t.init(&tr->t, 1, addr), 0);
	CHECK_EQ_INT(tr->t.listen(&tr->t, accept_cb), 0);
}

static void
server_stop(struct transport *tr)
{
	seen_reset();
	tr_closed = false;
	tr->t.close(&tr->t, tr_close_cb);
	RUN_UNTIL(tr_closed, 2000);
	CHECK(tr_closed);
}

static int
raw_connect(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* True once the server closed fd (read gives EOF or a reset). */
static bool
raw_closed(int fd)
{
	char b[256];
	ssize_t n = read(fd, b, sizeof(b));

	return n == 0 || (n < 0 && errno != EAGAIN);
}

static void
raw_send(int fd, const void *p, size_t n)
{
	CHECK(write(fd, p, n) == (ssize_t)n);
}

/* c-raft's AppendEntries with one entry of type byte t, 8 bytes of data. */
static size_t
append_one(uint8_t *b, uint8_t t)
{
	size_t n = 0;
	uint64_t words[] = { 1, 64, 1, 0, 0, 0, 1 };

	for (size_t w = 0; w < 7; w++)
		for (int i = 0; i < 8; i++)
			b[n++] = (uint8_t)(words[w] >> (8 * i));
	memset(b + n, 0, 16);
	b[n + 8] = t;
	b[n + 12] = 8;
	n += 16;
	memset(b + n, 0, 8); /* uncounted tail */
	n += 8;
	memset(b + n, 'd', 8);
	return n + 8;
}

static void
test_plain_bridge(void)
{
	struct transport tr;
	uint8_t pre[300], msg[128];
	size_t n, m;
	int port, fd;

	server_start(&tr, NULL, &port);
	fd = raw_connect(port);
	n = transport_preamble_encode(7, "127.0.0.1:9999",
	                              TRANSPORT_CHANNEL_RAFT, pre);
	m = append_one(msg, 1);
	raw_send(fd, pre, n);
	raw_send(fd, msg, m);
	RUN_UNTIL(seen.inlen >= m, 2000);
	CHECK_EQ_INT(seen.accepted, 1);
	CHECK_EQ_INT(seen.id, 7);
	CHECK_EQ_STR(seen.address, "127.0.0.1:9999");
	CHECK_EQ_INT(seen.inlen, m);
	CHECK(memcmp(seen.in, msg, m) == 0);

	/* The packet that crashed c-raft 0.15 never reaches it. */
	m = append_one(msg, 0);
	raw_send(fd, msg, m);
	RUN_UNTIL(seen.eof, 2000);
	CHECK(seen.eof);
	CHECK_EQ_INT(seen.inlen, append_one(msg, 1));
	RUN_UNTIL(raw_closed(fd), 1000);
	CHECK(raw_closed(fd));
	close(fd);
	server_stop(&tr);
}

static void
test_refused_plain(void)
{
	struct transport tr;
	uint8_t pre[300], craft[64];
	int port, fd, fds[12], i;
	uint64_t t0;

	server_start(&tr, NULL, &port);
	/* c-raft's own handshake (protocol 1, id, address length). */
	memset(craft, 0, sizeof(craft));
	craft[0] = 1;
	craft[8] = 2;
	craft[16] = 16;
	fd = raw_connect(port);
	raw_send(fd, craft, 40);
	RUN_UNTIL(raw_closed(fd), 2000);
	CHECK(raw_closed(fd));
	close(fd);
	/* Our own id: a reflected connection. */
	fd = raw_connect(port);
	raw_send(
	    fd, pre,
	    transport_preamble_encode(1, "x:1", TRANSPORT_CHANNEL_RAFT, pre));
	RUN_UNTIL(raw_closed(fd), 2000);
	CHECK(raw_closed(fd));
	close(fd);
	/* Silence: dropped at TRANSPORT_AUTH_MS. */
	fd = raw_connect(port);
	t0 = uv_hrtime();
	RUN_UNTIL(raw_closed(fd), 4000);
	CHECK(raw_closed(fd));
	CHECK(uv_hrtime() - t0 >= (TRANSPORT_AUTH_MS - 100) * 1000000ull);
	CHECK(uv_hrtime() - t0 < (TRANSPORT_AUTH_MS + 1000) * 1000000ull);
	close(fd);
	/* One source holds at most TRANSPORT_PENDING_PER_SOURCE of them. */
	for (i = 0; i < 12; i++)
		fds[i] = raw_connect(port);
	RUN_UNTIL(raw_closed(fds[11]), 1000);
	for (i = 0; i < 12; i++) {
		bool closed = raw_closed(fds[i]);

		CHECK(closed == (i >= TRANSPORT_PENDING_PER_SOURCE));
		close(fds[i]);
	}
	CHECK_EQ_INT(seen.accepted, 0);
	CHECK(tr.refused >= 3 + 12 - TRANSPORT_PENDING_PER_SOURCE);
	server_stop(&tr);
}

static struct dr_tls *
tls_for(const char *key)
{
	struct dr_config cfg;
	struct dr_tls *t = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.cluster_keys[0] = key;
	cfg.n_cluster_keys = 1;
	CHECK_EQ_INT(dr_tls_from_config(&cfg, "raft", &t), 0);
	return t;
}

static bool dialed;
static int dial_status;
static uv_stream_t *dial_stream;

static void
dial_cb(struct raft_uv_connect *req, struct uv_stream_s *stream, int status)
{
	(void)req;
	dialed = true;
	dial_status = status;
	dial_stream = stream;
}

static void
dial_write_cb(uv_write_t *w, int status)
{
	(void)w;
	CHECK_EQ_INT(status, 0);
}

/* Transport 2 dials transport 1 and sends msg over c-raft's stream. */
static void
dial(struct transport *client, struct dr_tls *tls, int port)
{
	struct raft_uv_connect req;
	char addr[64];

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	CHECK_EQ_INT(transport_init(client, &loop, "127.0.0.1:1", tls), 0);
	CHECK_EQ_INT(client->t.init(&client->t, 2, "127.0.0.1:7002"), 0);
	dialed = false;
	dial_stream = NULL;
	CHECK_EQ_INT(client->t.connect(&client->t, &req, 1, addr, dial_cb), 0);
	RUN_UNTIL(dialed, 3000);
	CHECK(dialed);
}

static void
test_tls(void)
{
	char k1[300], k2[300], err[256];
	struct dr_tls *t1, *t1b, *t2;
	struct transport tr, cl;
	uint8_t pre[300], msg[128];
	uv_write_t w;
	uv_buf_t b;
	size_t m;
	int port, fd;

	snprintf(k1, sizeof(k1), "%s/k1", tmpdir);
	snprintf(k2, sizeof(k2), "%s/k2", tmpdir);
	CHECK_EQ_INT(dr_key_generate(k1, err, sizeof(err)), 0);
	CHECK_EQ_INT(dr_key_generate(k2, err, sizeof(err)), 0);
	t1 = tls_for(k1);
	t1b = tls_for(k1);
	t2 = tls_for(k2);

	/* Same key: c-raft's bytes cross, through TLS. */
	server_start(&tr, t1, &port);
	dial(&cl, t1b, port);
	CHECK_EQ_INT(dial_status, 0);
	m = append_one(msg, 1);
	b = uv_buf_init((char *)msg, (unsigned)m);
	CHECK_EQ_INT(uv_write(&w, dial_stream, &b, 1, dial_write_cb), 0);
	RUN_UNTIL(seen.inlen >= m, 3000);
	CHECK_EQ_INT(seen.accepted, 1);
	CHECK_EQ_INT(seen.id, 2);
	CHECK_EQ_STR(seen.address, "127.0.0.1:7002");
	CHECK(seen.inlen == m && memcmp(seen.in, msg, m) == 0);
	uv_close((uv_handle_t *)dial_stream, (uv_close_cb)free);
	RUN_UNTIL(seen.eof, 2000);
	CHECK(seen.eof); /* closing c-raft's end closes the far end */
	tr_closed = false;
	cl.t.close(&cl.t, tr_close_cb);
	RUN_UNTIL(tr_closed, 2000);
	seen_reset();

	/* Another key: refused on both sides, nothing accepted. */
	dial(&cl, t2, port);
	CHECK_EQ_INT(dial_status, RAFT_NOCONNECTION);
	CHECK_EQ_INT(seen.accepted, 0);
	tr_closed = false;
	cl.t.close(&cl.t, tr_close_cb);
	RUN_UNTIL(tr_closed, 2000);

	/* Our preamble in the clear to a keyed node: no TLS, no c-raft. */
	fd = raw_connect(port);
	raw_send(
	    fd, pre,
	    transport_preamble_encode(9, "x:1", TRANSPORT_CHANNEL_RAFT, pre));
	raw_send(fd, msg, m);
	RUN_UNTIL(raw_closed(fd), 3000);
	CHECK(raw_closed(fd));
	CHECK_EQ_INT(seen.accepted, 0);
	close(fd);
	server_stop(&tr);
	dr_tls_free(t1);
	dr_tls_free(t1b);
	dr_tls_free(t2);
}

int
main(void)
{
	unit_tmpdir(tmpdir);
	uv_loop_init(&loop);
	RUN(test_plain_bridge);
	RUN(test_refused_plain);
	RUN(test_tls);
	uv_run(&loop, UV_RUN_NOWAIT);
	CHECK_EQ_INT(uv_loop_close(&loop), 0);
	unit_rmdir(tmpdir);
	return UNIT_DONE();
}
