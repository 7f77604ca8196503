/*
 * End-to-end tests of ctld's server in one process: two ctlds (a follower
 * A and a leader B) on a uv loop in a thread, each backed by a fake raftd
 * on nng, driven by blocking sockets from the main thread.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "bus.h"
#include "cmd.h"
#include "dispatch.h"
#include "err.h"
#include "flags.h"
#include "line.h"
#include "log.h"
#include "server.h"
#include "unit.h"

#define MAX_CONNS 8
#define IDLE_MS   400

struct node {
	const char *id;
	bool leader;
	unsigned port;
	char dir[128];
	char port_arg[32];
	struct dr_config cfg;
	struct dispatch dispatch;
	struct server server;
	struct dr_bus_server *raftd;
	uint64_t seq;        /* change counter sent in every reply */
	unsigned applies;    /* APPLY requests seen */
	unsigned gets;       /* GET requests seen */
	unsigned notleaders; /* NOTLEADER answers sent */
};

static struct node A = { .id = "ida" }, B = { .id = "idb", .leader = true };
static uv_loop_t loop;
static uv_async_t stop_async;
static pthread_t loop_thread;

/* The fake state machine, shared by both nodes as if replicated. */
struct kv {
	char key[128];
	char val[LINE_MAX_LEN];
	bool used;
};
static struct kv kvs[64];
static bool drained_once;

static struct kv *
kv_find(struct dr_str key, bool create)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (kvs[i].used && dr_str_eq(key, kvs[i].key))
			return &kvs[i];
	if (!create || key.len >= sizeof(kvs[0].key))
		return NULL;
	for (i = 0; i < 64; i++)
		if (!kvs[i].used) {
			kvs[i].used = true;
			memcpy(kvs[i].key, key.p, key.len);
			kvs[i].key[key.len] = '\0';
			return &kvs[i];
		}
	return NULL;
}

struct delayed {
	uv_timer_t timer;
	struct dr_bus_call *call;
	struct dr_buf msg;
	struct delayed *prev, *next;
};
static struct delayed *delayed_list;

static void
delayed_close_cb(uv_handle_t *h)
{
	struct delayed *d = h->data;

	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		delayed_list = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	dr_buf_close(&d->msg);
	free(d);
}

static void
delayed_cb(uv_timer_t *t)
{
	struct delayed *d = t->data;

	dr_bus_reply(d->call, d->msg.data, d->msg.len);
	uv_close((uv_handle_t *)t, delayed_close_cb);
}

/* Answers call with status and payload, after delay_ms if not 0. */
static void
fake_reply(struct node *node, struct dr_bus_call *call, int status,
           const char *p, size_t n, unsigned delay_ms)
{
	struct dr_msg_hdr h = { .type = DR_MSG_REPLY, .status = status };
	struct delayed *d = calloc(1, sizeof(*d));

	h.seq = node->seq;
	dr_buf_init(&d->msg);
	dr_wire_begin(&d->msg, &h);
	dr_buf_put(&d->msg, p, n);
	dr_wire_end(&d->msg);
	d->call = call;
	d->next = delayed_list;
	if (delayed_list != NULL)
		delayed_list->prev = d;
	delayed_list = d;
	uv_timer_init(&loop, &d->timer);
	d->timer.data = d;
	uv_timer_start(&d->timer, delayed_cb, delay_ms, 0);
}

static void
fake_reply_str(struct node *node, struct dr_bus_call *call, int status,
               const char *z)
{
	fake_reply(node, call, status, z, strlen(z), 0);
}

/* The follower applies what the leader did a little later. */
static uv_timer_t lag_timer;

static void
lag_cb(uv_timer_t *t)
{
	A.seq = B.seq;
}

static void
fake_notleader(struct node *n, struct dr_bus_call *call)
{
	char leader[64];

	n->notleaders++;
	snprintf(leader, sizeof(leader), "%s 127.0.0.1:%u\n", B.id, B.port);
	fake_reply_str(n, call, DR_ST_NOTLEADER, leader);
}

static void
fake_raftd_cb(struct dr_bus_call *call, const void *data, size_t len, void *arg)
{
	struct node *n = arg;
	struct dr_msg_hdr h;
	struct dr_cursor c;
	struct dr_cmd cmd;
	struct dr_str key;
	struct kv *kv;
	char text[256];

	if (dr_wire_decode(data, len, &h, &c) != 0) {
		fake_reply_str(n, call, DR_ST_ERROR, "malformed");
		return;
	}
	switch (h.type) {
	case DR_MSG_APPLY:
		n->applies++;
		if (dr_cmd_decode(c.p, c.left, &cmd) != 0) {
			fake_reply_str(n, call, DR_ST_ERROR, "bad command");
			return;
		}
		if (dr_str_eq(cmd.args[0], "noleader")) {
			fake_reply_str(n, call, DR_ST_NOLEADER, "");
			return;
		}
		if (!n->leader) {
			fake_notleader(n, call);
			return;
		}
		if (dr_str_eq(cmd.args[0], "drainonce") && !drained_once) {
			drained_once = true;
			fake_reply_str(n, call, DR_ST_ERROR, "shutting down");
			return;
		}
		kv = kv_find(cmd.args[0], cmd.type == DR_CMD_KV_SET);
		if (cmd.type == DR_CMD_KV_SET && kv != NULL) {
			memcpy(kv->val, cmd.args[1].p, cmd.args[1].len);
			kv->val[cmd.args[1].len] = '\0';
		} else if (cmd.type == DR_CMD_KV_DEL && kv != NULL) {
			kv->used = false;
		}
		n->seq++;
		uv_timer_start(&lag_timer, lag_cb, 50, 0);
		fake_reply(n, call, DR_ST_OK, "", 0,
		           dr_str_eq(cmd.args[0], "slowset") ? 500 : 0);
		return;
	case DR_MSG_GET:
		n->gets++;
		if (dr_get_str(&c, &key) != 0) {
			fake_reply_str(n, call, DR_ST_ERROR, "bad key");
			return;
		}
		if ((h.flags & DR_WF_CONSISTENT) && !n->leader) {
			fake_notleader(n, call);
			return;
		}
		if (dr_str_eq(key, "slow")) {
			fake_reply(n, call, DR_ST_OK, "slow value", 10, 300);
			return;
		}
		if (dr_str_eq(key, "nl")) {
			fake_reply_str(n, call, DR_ST_OK, "two\nlines");
			return;
		}
		kv = kv_find(key, false);
		if (kv == NULL)
			fake_reply_str(n, call, DR_ST_NOTFOUND, "");
		else
			fake_reply_str(n, call, DR_ST_OK, kv->val);
		return;
	case DR_MSG_STATUS:
		snprintf(text, sizeof(text), "id %s\nrole %s\n", n->id,
		         n->leader ? "leader" : "follower");
		fake_reply_str(n, call, DR_ST_OK, text);
		return;
	case DR_MSG_MEMBERS:
		fake_reply_str(
		    n, call, DR_ST_OK,
		    "ida 127.0.0.1:1 127.0.0.1:2 127.0.0.1:3 voter\n"
		    "idb 127.0.0.1:4 127.0.0.1:5 127.0.0.1:6 voter leader\n");
		return;
	case DR_MSG_JOIN:
		if (!n->leader)
			fake_notleader(n, call);
		else
			fake_reply_str(n, call, DR_ST_BUSY,
			               "membership change in progress");
		return;
	default:
		if (!n->leader)
			fake_notleader(n, call);
		else
			fake_reply_str(n, call, DR_ST_OK, "");
		return;
	}
}

static unsigned
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		abort();
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static void
node_start(struct node *n, const char *base)
{
	char err[256], url[512], run[512], idle[16], max[16];
	char *argv[] = { "ctld",        "-id",
		         (char *)n->id, "-data.dir",
		         n->dir,        "-ctl.addr",
		         n->port_arg,   "-ctl.max-conns",
		         max,           "-ctl.idle-timeout",
		         idle,          NULL };

	snprintf(n->dir, sizeof(n->dir), "%s/%s", base, n->id);
	snprintf(n->port_arg, sizeof(n->port_arg), "127.0.0.1:%u", n->port);
	snprintf(idle, sizeof(idle), "%u", IDLE_MS);
	snprintf(max, sizeof(max), "%u", MAX_CONNS);
	if (dr_flags_parse(&n->cfg, 11, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "flags: %s\n", err);
		abort();
	}
	/* The config points into argv: keep what outlives this frame. */
	n->cfg.id = n->id;
	dr_run_dir(&n->cfg, run, sizeof(run));
	if (dr_mkdirs(run) != 0)
		abort();
	dr_ipc_url(&n->cfg, "raftd", url, sizeof(url));
	if (dr_bus_server_start(&n->raftd, &loop, url, 16, fake_raftd_cb, n) !=
	        0 ||
	    dispatch_init(&n->dispatch, &loop, &n->cfg) != 0 ||
	    server_start(&n->server, &loop, &n->cfg, &n->dispatch) != 0)
		abort();
}

static void
stop_cb(uv_async_t *a)
{
	struct node *nodes[] = { &A, &B };
	int i;

	struct delayed *d;

	/* Replies not sent yet die with the fake raftds. */
	for (d = delayed_list; d != NULL; d = d->next)
		if (!uv_is_closing((uv_handle_t *)&d->timer))
			uv_close((uv_handle_t *)&d->timer, delayed_close_cb);
	for (i = 0; i < 2; i++) {
		server_stop(&nodes[i]->server);
		dispatch_close(&nodes[i]->dispatch);
		dr_bus_server_stop(nodes[i]->raftd);
	}
	uv_close((uv_handle_t *)&lag_timer, NULL);
	uv_close((uv_handle_t *)a, NULL);
}

static void *
loop_main(void *arg)
{
	uv_run(&loop, UV_RUN_DEFAULT);
	return NULL;
}

/* --- client side: blocking sockets with a buffered line reader --- */

struct client {
	int fd;
	char buf[1 << 16];
	size_t len;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct client *
client_open(unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 20 };
	struct client *c = calloc(1, sizeof(*c));

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		abort();
	return c;
}

static void
client_close(struct client *c)
{
	close(c->fd);
	free(c);
}

static void
client_send(struct client *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* the server may have closed: reads tell */
		}
		p += w;
		n -= (size_t)w;
	}
}

static void
client_sendz(struct client *c, const char *z)
{
	client_send(c, z, strlen(z));
}

/* Next line without "\n" (static), or "<eof>" / "<error>". */
static const char *
client_line(struct client *c)
{
	static char line[sizeof(c->buf) + 1];

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		ssize_t r;

		if (nl != NULL) {
			size_t n = (size_t)(nl - c->buf);

			memcpy(line, c->buf, n);
			line[n] = '\0';
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return line;
		}
		if (c->len == sizeof(c->buf))
			return "<overflow>";
		r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (r == 0)
			return c->len ? "<partial>" : "<eof>";
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? "<timeout>" : "<error>";
		}
		c->len += (size_t)r;
	}
}

/* One command on its own connection; returns the first reply line. */
static const char *
once(unsigned port, const char *line)
{
	static char first[LINE_MAX_LEN + 64];
	struct client *c = client_open(port);

	client_sendz(c, line);
	snprintf(first, sizeof(first), "%s", client_line(c));
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
	return first;
}

/* --- tests --- */

static void
test_one_shot(void)
{
	struct client *c;

	CHECK_EQ_STR(once(A.port, "kv ping\n"), "PONG");
	CHECK_EQ_STR(once(A.port, "kv ping\r\n"), "PONG");
	CHECK_EQ_STR(once(A.port, "nope\n"), "ERROR unknown command");
	CHECK_EQ_STR(once(A.port, "kv set k\n"),
	             "ERROR usage: kv set KEY VALUE");
	CHECK_EQ_STR(once(A.port, "kv get absent\n"), "ERROR not found");
	CHECK_EQ_STR(once(A.port, "quit\n"), "BYE");
	/* Only the first line counts without a session. */
	c = client_open(A.port);
	client_sendz(c, "kv ping\nkv ping\n");
	CHECK_EQ_STR(client_line(c), "PONG");
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
	/* A last line without "\n" counts at EOF (nc -N). */
	c = client_open(A.port);
	client_sendz(c, "kv ping");
	shutdown(c->fd, SHUT_WR);
	CHECK_EQ_STR(client_line(c), "PONG");
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
	/* EOF with nothing sent. */
	c = client_open(A.port);
	shutdown(c->fd, SHUT_WR);
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
}

static void
test_forward(void)
{
	unsigned applies = B.applies, nl = A.notleaders;
	unsigned gets;
	struct client *c;
	double t0;

	/*
	 * A follower forwards writes. A read there then waits until its own
	 * raftd has caught up (the fake follower lags 50 ms).
	 */
	CHECK_EQ_STR(once(A.port, "kv set fw hello  world\n"), "SUCCESS");
	CHECK(A.seq < B.seq);
	t0 = now_s();
	gets = A.gets;
	CHECK_EQ_STR(once(A.port, "kv get fw\n"), "hello  world");
	CHECK(now_s() - t0 >= 0.03);
	CHECK(A.gets > gets + 1);
	CHECK_EQ_INT(A.seq, B.seq);
	/* Caught up: no more waiting. */
	gets = A.gets;
	CHECK_EQ_STR(once(A.port, "kv get fw\n"), "hello  world");
	CHECK_EQ_INT(A.gets, gets + 1);
	CHECK_EQ_INT(B.applies, applies + 1);
	CHECK_EQ_INT(A.notleaders, nl + 1);
	CHECK_EQ_STR(once(B.port, "kv get fw\n"), "hello  world");
	CHECK_EQ_STR(once(A.port, "kv get fw consistent\n"), "hello  world");
	CHECK_EQ_INT(A.notleaders, nl + 2);
	CHECK_EQ_STR(once(A.port, "kv del fw\n"), "SUCCESS");
	CHECK_EQ_STR(once(B.port, "kv get fw consistent\n"), "ERROR not found");
	/* A leader going down did nothing: the write is tried again. */
	nl = A.notleaders;
	CHECK_EQ_STR(once(A.port, "kv set drainonce x\n"), "SUCCESS");
	CHECK(drained_once);
	CHECK_EQ_INT(A.notleaders, nl + 2);
	/* The leader's errors come back as they are. */
	CHECK_EQ_STR(once(A.port, "cluster join idc :1 :2 :3\n"),
	             "ERROR membership change in progress");
	CHECK_EQ_STR(once(A.port, "cluster transfer\n"), "SUCCESS");
	CHECK_EQ_STR(once(A.port, "cluster remove idc\n"), "SUCCESS");
	/*
	 * A forwarded line is never forwarded again; the answer carries the
	 * change counter for the forwarding ctld.
	 */
	c = client_open(A.port);
	client_sendz(c, "forwarded kv set x y\n");
	CHECK_EQ_STR(client_line(c), "ERROR not leader");
	CHECK(strncmp(client_line(c), "seq ", 4) == 0);
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
	c = client_open(B.port);
	client_sendz(c, "forwarded kv set x y\n");
	CHECK_EQ_STR(client_line(c), "SUCCESS");
	CHECK(strncmp(client_line(c), "seq ", 4) == 0);
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
	CHECK_EQ_STR(once(A.port, "forwarded session\n"),
	             "ERROR unknown command");
}

static void
test_multiline(void)
{
	struct client *c = client_open(A.port);

	client_sendz(c, "session\ncluster status\ncluster members\n"
	                "kv get nl\nquit\n");
	CHECK_EQ_STR(client_line(c), "OK");
	CHECK_EQ_STR(client_line(c), "id ida");
	CHECK_EQ_STR(client_line(c), "role follower");
	CHECK_EQ_STR(client_line(c), ".");
	CHECK_EQ_STR(client_line(c),
	             "ida 127.0.0.1:1 127.0.0.1:2 127.0.0.1:3 voter");
	CHECK_EQ_STR(client_line(c),
	             "idb 127.0.0.1:4 127.0.0.1:5 127.0.0.1:6 voter leader");
	CHECK_EQ_STR(client_line(c), ".");
	CHECK_EQ_STR(client_line(c), "ERROR value not printable");
	CHECK_EQ_STR(client_line(c), "BYE");
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
}

static void
test_session_pipeline(void)
{
	struct client *c = client_open(A.port);
	double t0;

	/* Everything in one write; replies come in order. */
	client_sendz(c, "session\nkv set p1 one\nkv get slow\nkv get p1\n"
	                "\nkv bad\nkv del p1\nkv get p1\nkv ping\n");
	CHECK_EQ_STR(client_line(c), "OK");
	CHECK_EQ_STR(client_line(c), "SUCCESS");
	CHECK_EQ_STR(client_line(c), "slow value");
	CHECK_EQ_STR(client_line(c), "one");
	CHECK_EQ_STR(client_line(c), "ERROR unknown command");
	CHECK_EQ_STR(client_line(c), "ERROR unknown command");
	CHECK_EQ_STR(client_line(c), "SUCCESS");
	CHECK_EQ_STR(client_line(c), "ERROR not found");
	CHECK_EQ_STR(client_line(c), "PONG");
	/* Errors leave the session usable. */
	client_sendz(c, "kv ping\n");
	CHECK_EQ_STR(client_line(c), "PONG");
	/* Idle sessions end. */
	t0 = now_s();
	CHECK_EQ_STR(client_line(c), "<eof>");
	CHECK(now_s() - t0 > IDLE_MS / 1000.0 * 0.8);
	CHECK(now_s() - t0 < 5);
	client_close(c);

	/* EOF ends a session after the queued lines are answered. */
	c = client_open(A.port);
	client_sendz(c, "session\nkv get slow\nkv ping");
	shutdown(c->fd, SHUT_WR);
	CHECK_EQ_STR(client_line(c), "OK");
	CHECK_EQ_STR(client_line(c), "slow value");
	CHECK_EQ_STR(client_line(c), "PONG");
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
}

/* A slow request on one connection does not hold up another. */
static void
test_concurrent(void)
{
	struct client *slow = client_open(A.port), *fast;
	double t0 = now_s();

	client_sendz(slow, "kv get slow\n");
	fast = client_open(A.port);
	client_sendz(fast, "kv ping\n");
	CHECK_EQ_STR(client_line(fast), "PONG");
	CHECK(now_s() - t0 < 0.2);
	CHECK_EQ_STR(client_line(slow), "slow value");
	client_close(fast);
	client_close(slow);
}

static void
test_bad_input(void)
{
	static char big[100 * 1024];
	struct client *c;

	memset(big, 'x', sizeof(big));
	memcpy(big, "kv set k ", 9);
	big[sizeof(big) - 1] = '\n';
	c = client_open(A.port);
	client_send(c, big, sizeof(big));
	CHECK_EQ_STR(client_line(c), "ERROR line too long");
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
	/* The longest line is accepted (the value is echoed by get). */
	c = client_open(B.port);
	memcpy(big, "kv set long ", 12);
	big[LINE_MAX_LEN] = '\n';
	client_send(c, big, LINE_MAX_LEN + 1);
	CHECK_EQ_STR(client_line(c), "SUCCESS");
	client_close(c);
	c = client_open(A.port);
	client_sendz(c, "kv get long\n");
	CHECK_EQ_INT(strlen(client_line(c)), LINE_MAX_LEN - 12);
	client_close(c);
	/* Also through the follower, forwarded with a prefix. */
	memcpy(big, "kv set lon2 ", 12);
	c = client_open(A.port);
	client_send(c, big, LINE_MAX_LEN + 1);
	CHECK_EQ_STR(client_line(c), "SUCCESS");
	client_close(c);
	big[LINE_MAX_LEN] = 'x';
	big[LINE_MAX_LEN + 1] = '\n';
	c = client_open(A.port);
	client_send(c, big, LINE_MAX_LEN + 2);
	CHECK_EQ_STR(client_line(c), "ERROR line too long");
	client_close(c);

	c = client_open(A.port);
	client_send(c, "kv\0ping\n", 8);
	CHECK_EQ_STR(client_line(c), "ERROR invalid input");
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
	/* In a session, after the earlier replies. */
	c = client_open(A.port);
	client_sendz(c, "session\nkv ping\nkv \x1b[1m\nkv ping\n");
	CHECK_EQ_STR(client_line(c), "OK");
	CHECK_EQ_STR(client_line(c), "PONG");
	CHECK_EQ_STR(client_line(c), "ERROR invalid input");
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
}

static void
test_max_conns(void)
{
	struct client *cs[MAX_CONNS], *extra;
	int i;

	for (i = 0; i < MAX_CONNS; i++) {
		cs[i] = client_open(B.port);
		client_sendz(cs[i], "session\n");
		CHECK_EQ_STR(client_line(cs[i]), "OK");
	}
	extra = client_open(B.port);
	CHECK_EQ_STR(client_line(extra), "ERROR too many connections");
	CHECK_EQ_STR(client_line(extra), "<eof>");
	client_close(extra);
	/* The others still work. */
	client_sendz(cs[0], "quit\n");
	CHECK_EQ_STR(client_line(cs[0]), "BYE");
	CHECK_EQ_STR(client_line(cs[0]), "<eof>");
	client_close(cs[0]);
	for (i = 1; i < MAX_CONNS; i++) {
		client_sendz(cs[i], "kv ping\n");
		CHECK_EQ_STR(client_line(cs[i]), "PONG");
	}
	for (i = 1; i < MAX_CONNS; i++)
		client_close(cs[i]);
	/* Closed ones are counted out (the server sees EOF shortly). */
	for (i = 0; i < 50; i++) {
		extra = client_open(B.port);
		client_sendz(extra, "kv ping\n");
		if (strcmp(client_line(extra), "PONG") == 0) {
			client_close(extra);
			break;
		}
		client_close(extra);
		usleep(20000);
	}
	CHECK(i < 50);
}

/* A client writing a lot without reading: pauses, never loses a line. */
static void
test_backpressure(void)
{
	enum { N = 100000 };
	struct client *c = client_open(B.port);
	static char out[N * 8 + 16];
	size_t off = 0, len = 0, i;
	unsigned pongs = 0;
	const char *l;

	memcpy(out, "session\n", 8);
	len = 8;
	for (i = 0; i < N; i++) {
		memcpy(out + len, "kv ping\n", 8);
		len += 8;
	}
	memcpy(out + len, "quit\n", 5);
	len += 5;
	/* Write it all while reading, as a pipelining client does. */
	while (off < len) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN | POLLOUT };

		if (poll(&p, 1, 20000) <= 0)
			break;
		if (p.revents & POLLOUT) {
			ssize_t w = send(c->fd, out + off, len - off,
			                 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w > 0)
				off += (size_t)w;
		}
		if (p.revents & POLLIN) {
			ssize_t r = recv(c->fd, c->buf + c->len,
			                 sizeof(c->buf) - c->len, MSG_DONTWAIT);
			char *s = c->buf, *nl;

			if (r <= 0)
				break;
			c->len += (size_t)r;
			while ((nl = memchr(s, '\n',
			                    c->len - (size_t)(s - c->buf))) !=
			       NULL) {
				if (nl - s == 4 && memcmp(s, "PONG", 4) == 0)
					pongs++;
				s = nl + 1;
			}
			c->len -= (size_t)(s - c->buf);
			memmove(c->buf, s, c->len);
		}
	}
	CHECK_EQ_INT(off, len);
	while (strcmp(l = client_line(c), "<eof>") != 0 && l[0] != '<') {
		if (strcmp(l, "PONG") == 0)
			pongs++;
		else
			CHECK(strcmp(l, "OK") == 0 || strcmp(l, "BYE") == 0);
	}
	CHECK_EQ_STR(l, "<eof>");
	CHECK_EQ_INT(pongs, N);
	client_close(c);
}

static void
test_no_leader(void)
{
	double t0 = now_s();

	CHECK_EQ_STR(once(A.port, "kv set noleader x\n"), "ERROR no leader");
	CHECK(now_s() - t0 > 4.0);
	CHECK(now_s() - t0 < 7.0);
}

int
main(void)
{
	char base[] = "/tmp/ctltest.XXXXXX";

	dr_log_init("test", getenv("VERBOSE") != NULL);
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(base) == NULL)
		abort();
	uv_loop_init(&loop);
	A.port = free_port();
	B.port = free_port();
	node_start(&A, base);
	node_start(&B, base);
	uv_async_init(&loop, &stop_async, stop_cb);
	uv_timer_init(&loop, &lag_timer);
	pthread_create(&loop_thread, NULL, loop_main, NULL);

	RUN(test_one_shot);
	RUN(test_forward);
	RUN(test_multiline);
	RUN(test_session_pipeline);
	RUN(test_concurrent);
	RUN(test_bad_input);
	RUN(test_max_conns);
	RUN(test_backpressure);
	RUN(test_no_leader);

	/* Stop with work in flight: backoff, forward, raftd request. */
	{
		struct client *c1 = client_open(A.port);
		struct client *c2 = client_open(A.port);
		struct client *c3 = client_open(B.port);
		struct client *c4 = client_open(B.port);

		client_sendz(c1, "kv set noleader x\n");
		client_sendz(c2, "kv set slowset x\n");
		client_sendz(c3, "kv get slow\n");
		client_sendz(c4, "session\nkv pi");
		usleep(100000);
		uv_async_send(&stop_async);
		pthread_join(loop_thread, NULL);
		CHECK_EQ_STR(client_line(c1), "<eof>");
		CHECK_EQ_STR(client_line(c2), "<eof>");
		CHECK_EQ_STR(client_line(c3), "<eof>");
		CHECK_EQ_STR(client_line(c4), "OK");
		CHECK_EQ_STR(client_line(c4), "<eof>");
		client_close(c1);
		client_close(c2);
		client_close(c3);
		client_close(c4);
	}
	CHECK_EQ_INT(uv_loop_close(&loop), 0);
	CHECK_EQ_INT(A.dispatch.nreqs + B.dispatch.nreqs, 0);
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
		CHECK_EQ_INT(system(cmd), 0);
	}
	return UNIT_DONE();
}
