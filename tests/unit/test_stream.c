/* common/stream + tls: plain and TLS-PSK connections on a real loop. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "err.h"
#include "key.h"
#include "stream.h"
#include "tls.h"
#include "unit.h"

static char tmpdir[] = "/tmp/test_stream.XXXXXX";
static uv_loop_t loop;

/* One side of a test connection: what it got and how it ended. */
struct side {
	struct dr_stream *s;
	int ready; /* 1 + status once ready_cb ran, else 0 */
	int end;   /* nread code of the end (UV_EOF...), 0 while open */
	char *in;  /* owned: everything read */
	size_t inlen;
	size_t stop_at; /* stop reading once this much came (0: never) */
	char abuf[70000];
	bool echo; /* write back what comes */
	bool closed;
};

struct server {
	uv_tcp_t listener;
	struct dr_stream_opts opts;
	struct side side;
	int port;
};

static void
side_close_cb(struct dr_stream *s)
{
	struct side *d = dr_stream_data(s);

	d->closed = true;
}

static void
side_alloc_cb(struct dr_stream *s, size_t sug, uv_buf_t *b)
{
	struct side *d = dr_stream_data(s);

	(void)sug;
	b->base = d->abuf;
	b->len = sizeof(d->abuf);
}

static void
side_read_cb(struct dr_stream *s, ssize_t n, const uv_buf_t *b)
{
	struct side *d = dr_stream_data(s);

	if (n == 0)
		return;
	if (n < 0) {
		d->end = (int)n;
		return;
	}
	d->in = realloc(d->in, d->inlen + (size_t)n);
	memcpy(d->in + d->inlen, b->base, (size_t)n);
	d->inlen += (size_t)n;
	if (d->echo)
		CHECK_EQ_INT(dr_stream_write(s, b->base, (size_t)n, NULL), 0);
	if (d->stop_at != 0 && d->inlen >= d->stop_at)
		dr_stream_read_stop(s);
}

static void
side_ready_cb(struct dr_stream *s, int status)
{
	struct side *d = dr_stream_data(s);

	d->ready = 1 + (status == 0 ? 0 : -status);
	if (status == 0)
		CHECK_EQ_INT(
		    dr_stream_read_start(s, side_alloc_cb, side_read_cb), 0);
}

static void
server_conn_cb(uv_stream_t *l, int status)
{
	struct server *sv = l->data;

	CHECK_EQ_INT(status, 0);
	if (sv->side.s != NULL) {
		uv_tcp_t *extra = malloc(sizeof(*extra));

		uv_tcp_init(&loop, extra);
		uv_accept(l, (uv_stream_t *)extra);
		uv_close((uv_handle_t *)extra, (uv_close_cb)free);
		return;
	}
	sv->opts.data = &sv->side;
	sv->opts.ready_cb = side_ready_cb;
	CHECK_EQ_INT(dr_stream_accept(&sv->side.s, &loop, l, &sv->opts), 0);
}

static void
server_start(struct server *sv, enum dr_stream_mode mode, struct dr_tls *tls,
             unsigned timeout_ms)
{
	struct sockaddr_in sin;
	int len = sizeof(sin);

	memset(sv, 0, sizeof(*sv));
	sv->opts.mode = mode;
	sv->opts.tls = tls;
	sv->opts.timeout_ms = timeout_ms;
	sv->side.echo = true;
	uv_tcp_init(&loop, &sv->listener);
	sv->listener.data = sv;
	uv_ip4_addr("127.0.0.1", 0, &sin);
	CHECK_EQ_INT(uv_tcp_bind(&sv->listener, (struct sockaddr *)&sin, 0), 0);
	CHECK_EQ_INT(
	    uv_listen((uv_stream_t *)&sv->listener, 16, server_conn_cb), 0);
	uv_tcp_getsockname(&sv->listener, (struct sockaddr *)&sin, &len);
	sv->port = ntohs(sin.sin_port);
}

/* Runs the loop until cond or about 5 s passed. */
#define RUN_UNTIL(cond)                                        \
	do {                                                   \
		uint64_t until_ = uv_hrtime() + 5000000000ull; \
		while (!(cond) && uv_hrtime() < until_)        \
			uv_run(&loop, UV_RUN_ONCE);            \
	} while (0)

static void
side_free(struct side *d)
{
	if (d->s != NULL && !d->closed) {
		dr_stream_close(d->s, side_close_cb);
		RUN_UNTIL(d->closed);
	}
	free(d->in);
	memset(d, 0, sizeof(*d));
}

static void
server_stop(struct server *sv)
{
	side_free(&sv->side);
	uv_close((uv_handle_t *)&sv->listener, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
}

static void
client_connect(struct side *c, int port, enum dr_stream_mode mode,
               struct dr_tls *tls)
{
	struct dr_stream_opts o;
	char addr[32];

	memset(&o, 0, sizeof(o));
	o.mode = mode;
	o.tls = tls;
	o.timeout_ms = 2000;
	o.ready_cb = side_ready_cb;
	o.data = c;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	CHECK_EQ_INT(dr_stream_connect(&c->s, &loop, addr, &o), 0);
}

static struct dr_tls *
tls_with(const char *purpose, const char *k1, const char *k2)
{
	struct dr_config cfg;
	struct dr_keyring kr;
	struct dr_tls *t = NULL;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.cluster_keys[0] = k1;
	cfg.cluster_keys[1] = k2;
	cfg.n_cluster_keys = k2 ? 2 : 1;
	CHECK_EQ_INT(dr_keyring_load(&cfg, &kr, err, sizeof(err)), 0);
	CHECK_EQ_INT(dr_tls_new(&t, &kr, purpose), 0);
	dr_keyring_wipe(&kr);
	return t;
}

static char k1[300], k2[300];

/* Sends n patterned bytes from the client, echoed back whole. */
static void
echo_check(struct server *sv, struct side *c, size_t n)
{
	char *buf = malloc(n);
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (char)(i * 7 + i / 251);
	CHECK_EQ_INT(dr_stream_write(c->s, buf, n, NULL), 0);
	RUN_UNTIL(c->inlen >= n);
	CHECK_EQ_INT(sv->side.inlen, n);
	CHECK_EQ_INT(c->inlen, n);
	CHECK(c->in != NULL && memcmp(c->in, buf, n) == 0);
	free(buf);
}

static void
test_plain(void)
{
	struct server sv;
	struct side c = { 0 };

	server_start(&sv, DR_STREAM_PLAIN, NULL, 0);
	client_connect(&c, sv.port, DR_STREAM_PLAIN, NULL);
	RUN_UNTIL(c.ready && sv.side.ready);
	CHECK_EQ_INT(c.ready, 1);
	CHECK_EQ_INT(sv.side.ready, 1);
	CHECK(!dr_stream_is_tls(c.s));
	CHECK(strncmp(dr_stream_peer(sv.side.s), "127.0.0.1:", 10) == 0);
	echo_check(&sv, &c, 300000);
	/* A clean end reaches the other side as EOF. */
	CHECK_EQ_INT(dr_stream_shutdown(c.s, NULL), 0);
	RUN_UNTIL(sv.side.end != 0);
	CHECK_EQ_INT(sv.side.end, UV_EOF);
	side_free(&c);
	server_stop(&sv);
}

static void
test_tls(void)
{
	struct dr_tls *ta = tls_with("raft", k1, NULL);
	struct dr_tls *tb = tls_with("raft", k1, NULL);
	struct server sv;
	struct side c = { 0 };
	struct dr_key key;
	char err[256];

	CHECK_EQ_INT(dr_key_load(k1, &key, err, sizeof(err)), 0);
	server_start(&sv, DR_STREAM_TLS, ta, 0);
	client_connect(&c, sv.port, DR_STREAM_TLS, tb);
	RUN_UNTIL(c.ready && sv.side.ready);
	CHECK_EQ_INT(c.ready, 1);
	CHECK_EQ_INT(sv.side.ready, 1);
	CHECK(dr_stream_is_tls(c.s) && dr_stream_is_tls(sv.side.s));
	CHECK_EQ_STR(dr_stream_key_id(sv.side.s), key.id);
	echo_check(&sv, &c, 1000000);
	CHECK_EQ_INT(dr_stream_shutdown(c.s, NULL), 0);
	RUN_UNTIL(sv.side.end != 0);
	CHECK_EQ_INT(sv.side.end, UV_EOF);
	side_free(&c);
	server_stop(&sv);
	dr_tls_free(ta);
	dr_tls_free(tb);
}

/* Both ends must fail the handshake; nothing is delivered. */
static void
expect_refused(struct dr_tls *server, struct dr_tls *client)
{
	struct server sv;
	struct side c = { 0 };

	server_start(&sv, DR_STREAM_TLS, server, 0);
	client_connect(&c, sv.port, DR_STREAM_TLS, client);
	RUN_UNTIL(c.ready && sv.side.ready);
	CHECK(c.ready > 1);
	CHECK(sv.side.ready > 1);
	CHECK(strstr(dr_stream_error(sv.side.s), "tls") != NULL);
	CHECK_EQ_INT(sv.side.inlen, 0);
	side_free(&c);
	server_stop(&sv);
}

static void
test_tls_refused(void)
{
	struct dr_tls *a = tls_with("raft", k1, NULL);
	struct dr_tls *b = tls_with("raft", k2, NULL);
	struct dr_tls *ctl = tls_with("ctl", k1, NULL);

	expect_refused(a, b);   /* another key */
	expect_refused(a, ctl); /* same key, another purpose */
	dr_tls_free(a);
	dr_tls_free(b);
	dr_tls_free(ctl);
}

/* -cluster.key NEW -cluster.key OLD accepts both, uses the first. */
static void
test_tls_rotation(void)
{
	struct dr_tls *both = tls_with("raft", k2, k1);
	struct dr_tls *old = tls_with("raft", k1, NULL);
	struct server sv;
	struct side c = { 0 };
	struct dr_key key;
	char err[256];

	server_start(&sv, DR_STREAM_TLS, both, 0);
	client_connect(&c, sv.port, DR_STREAM_TLS, old);
	RUN_UNTIL(c.ready && sv.side.ready);
	CHECK_EQ_INT(c.ready, 1);
	CHECK_EQ_INT(sv.side.ready, 1);
	CHECK_EQ_INT(dr_key_load(k1, &key, err, sizeof(err)), 0);
	CHECK_EQ_STR(dr_stream_key_id(sv.side.s), key.id);
	echo_check(&sv, &c, 1000);
	side_free(&c);
	server_stop(&sv);
	/* The node that only has the old key cannot reach one using new. */
	expect_refused(old, both);
	dr_tls_free(both);
	dr_tls_free(old);
}

/* A raw socket to the server, for peers that misbehave. */
static int
raw_connect(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	uv_ip4_addr("127.0.0.1", port, &sin);
	CHECK(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	return fd;
}

static void
test_handshake_deadline(void)
{
	struct dr_tls *t = tls_with("raft", k1, NULL);
	struct server sv;
	uint64_t t0;
	int fd;

	/* One byte of a ClientHello, then silence: dropped on time. */
	server_start(&sv, DR_STREAM_TLS, t, 200);
	fd = raw_connect(sv.port);
	CHECK(write(fd, "\x16", 1) == 1);
	t0 = uv_hrtime();
	RUN_UNTIL(sv.side.ready);
	CHECK_EQ_INT(sv.side.ready, 1 - DR_ETIMEDOUT);
	CHECK(uv_hrtime() - t0 < 1000000000ull);
	close(fd);
	server_stop(&sv);

	/* Garbage instead of TLS fails at once. */
	server_start(&sv, DR_STREAM_TLS, t, 2000);
	fd = raw_connect(sv.port);
	CHECK(write(fd, "GET / HTTP/1.0\r\n\r\n", 18) == 18);
	RUN_UNTIL(sv.side.ready);
	CHECK_EQ_INT(sv.side.ready, 1 - DR_EIO);
	close(fd);
	server_stop(&sv);

	/* A client that hangs up in the middle. */
	server_start(&sv, DR_STREAM_TLS, t, 2000);
	fd = raw_connect(sv.port);
	CHECK(write(fd, "\x16\x03\x01", 3) == 3);
	close(fd);
	RUN_UNTIL(sv.side.ready);
	CHECK_EQ_INT(sv.side.ready, 1 - DR_ECLOSED);
	server_stop(&sv);
	dr_tls_free(t);
}

static void
test_sniff(void)
{
	struct dr_tls *t = tls_with("ctl", k1, NULL);
	struct dr_tls *tc = tls_with("ctl", k1, NULL);
	struct server sv;
	struct side c = { 0 };
	int fd;

	/* Text first: the clear, and the first bytes are not lost. */
	server_start(&sv, DR_STREAM_SNIFF, t, 0);
	sv.side.echo = false;
	fd = raw_connect(sv.port);
	CHECK(write(fd, "kv ping\n", 8) == 8);
	RUN_UNTIL(sv.side.inlen >= 8);
	CHECK_EQ_INT(sv.side.ready, 1);
	CHECK(!dr_stream_is_tls(sv.side.s));
	CHECK(sv.side.inlen == 8 && memcmp(sv.side.in, "kv ping\n", 8) == 0);
	CHECK(write(fd, "more\n", 5) == 5);
	RUN_UNTIL(sv.side.inlen >= 13);
	CHECK_EQ_INT(sv.side.inlen, 13);
	close(fd);
	server_stop(&sv);

	/* A TLS client on the same port. */
	server_start(&sv, DR_STREAM_SNIFF, t, 0);
	client_connect(&c, sv.port, DR_STREAM_TLS, tc);
	RUN_UNTIL(c.ready && sv.side.ready);
	CHECK_EQ_INT(c.ready, 1);
	CHECK_EQ_INT(sv.side.ready, 1);
	CHECK(dr_stream_is_tls(sv.side.s));
	echo_check(&sv, &c, 5000);
	side_free(&c);
	server_stop(&sv);
	dr_tls_free(t);
	dr_tls_free(tc);
}

/* Reading stops and resumes; buffered plaintext is not lost. */
static void
test_backpressure(void)
{
	struct dr_tls *t = tls_with("raft", k1, NULL);
	struct dr_tls *tc = tls_with("raft", k1, NULL);
	enum dr_stream_mode modes[] = { DR_STREAM_PLAIN, DR_STREAM_TLS };
	struct server sv;
	unsigned m;

	for (m = 0; m < 2; m++) {
		struct side c = { 0 };
		size_t n = 400000;
		char *buf = malloc(n);

		memset(buf, 'x', n);
		server_start(&sv, modes[m], m ? t : NULL, 0);
		sv.side.echo = false;
		sv.side.stop_at = 1000;
		client_connect(&c, sv.port, modes[m], m ? tc : NULL);
		RUN_UNTIL(c.ready && sv.side.ready);
		CHECK_EQ_INT(dr_stream_write(c.s, buf, n, NULL), 0);
		RUN_UNTIL(sv.side.inlen >= 1000);
		/* Stopped: a few more loop turns bring nothing new. */
		for (int i = 0; i < 20; i++)
			uv_run(&loop, UV_RUN_NOWAIT);
		CHECK(sv.side.inlen < n);
		sv.side.stop_at = 0;
		CHECK_EQ_INT(dr_stream_read_start(sv.side.s, side_alloc_cb,
		                                  side_read_cb),
		             0);
		RUN_UNTIL(sv.side.inlen >= n);
		CHECK_EQ_INT(sv.side.inlen, n);
		free(buf);
		side_free(&c);
		server_stop(&sv);
	}
	dr_tls_free(t);
	dr_tls_free(tc);
}

static void
test_connect_errors(void)
{
	struct side c = { 0 };
	struct dr_stream *s;
	struct dr_stream_opts o = { 0 };
	uv_tcp_t probe;
	struct sockaddr_in sin;
	int len = sizeof(sin), port;

	/* A port nobody listens on: ready with an error. */
	uv_tcp_init(&loop, &probe);
	uv_ip4_addr("127.0.0.1", 0, &sin);
	uv_tcp_bind(&probe, (struct sockaddr *)&sin, 0);
	uv_tcp_getsockname(&probe, (struct sockaddr *)&sin, &len);
	port = ntohs(sin.sin_port);
	uv_close((uv_handle_t *)&probe, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	client_connect(&c, port, DR_STREAM_PLAIN, NULL);
	RUN_UNTIL(c.ready);
	CHECK_EQ_INT(c.ready, 1 - DR_EIO);
	CHECK(strstr(dr_stream_error(c.s), "connect failed") != NULL);
	side_free(&c);
	o.ready_cb = side_ready_cb;
	CHECK_EQ_INT(dr_stream_connect(&s, &loop, "nope", &o), DR_EINVAL);
	o.mode = DR_STREAM_TLS;
	CHECK_EQ_INT(dr_stream_connect(&s, &loop, "127.0.0.1:1", &o),
	             DR_EINVAL);
}

int
main(void)
{
	char err[256];

	unit_tmpdir(tmpdir);
	snprintf(k1, sizeof(k1), "%s/k1", tmpdir);
	snprintf(k2, sizeof(k2), "%s/k2", tmpdir);
	if (dr_key_generate(k1, err, sizeof(err)) != 0 ||
	    dr_key_generate(k2, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	uv_loop_init(&loop);
	RUN(test_plain);
	RUN(test_tls);
	RUN(test_tls_refused);
	RUN(test_tls_rotation);
	RUN(test_handshake_deadline);
	RUN(test_sniff);
	RUN(test_backpressure);
	RUN(test_connect_errors);
	uv_run(&loop, UV_RUN_NOWAIT);
	CHECK_EQ_INT(uv_loop_close(&loop), 0);
	unit_rmdir(tmpdir);
	return UNIT_DONE();
}
