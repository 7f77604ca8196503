/*
 * End-to-end tests of ctld's server in one process: three ctlds (a
 * follower A, a leader B, and C, a leader that does not trust loopback
 * clients) on a uv loop in a thread, each backed by a fake raftd on nng,
 * driven by blocking sockets from the main thread.
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
#include "zoneload.h"

#define MAX_CONNS 8
#define IDLE_MS   400

struct node {
	const char *id;
	bool leader;
	bool strict; /* -ctl.trust-loopback=false */
	unsigned port;
	char dir[128];
	char port_arg[32];
	struct dr_config cfg;
	struct dispatch dispatch;
	struct server server;
	struct zoneload zoneload;
	struct dr_bus_server *raftd;
	struct dr_bus_server *dnsd; /* only A has a (fake) dnsd */
	const char *zone_files[2];
	unsigned n_zone_files;
	uint64_t seq;        /* change counter sent in every reply */
	unsigned applies;    /* APPLY requests seen */
	unsigned gets;       /* GET requests seen */
	unsigned relayed;    /* requests "relayed" to the leader B */
	uint64_t last_seq;   /* request id of the last write: seq */
	uint64_t last_floor; /* and floor */
	uint64_t last_run;
	unsigned replaces; /* ZONE_REPLACE applied */
	unsigned refused;  /* retry.test. replaces answered "unavailable" */
	char last_source[256];
	char last_records[4096];
	unsigned last_nrecords;
	unsigned dump_parts;      /* big.test. chunks sent */
	unsigned dump_ends;       /* dumps ended by ctld (chunk size 0) */
	uint64_t dump_end_cursor; /* the cursor of the last one */
	/* The last replace of each zone (files load in parallel). */
	struct {
		char zone[64];
		char source[256];
		char records[1024];
	} zones[4];
};

static struct node A = { .id = "ida" }, B = { .id = "idb", .leader = true },
                   C = { .id = "idc", .leader = true, .strict = true };
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

static const char soa_dump_line[] =
    "big.test. 3600 IN SOA ns1.big.test. h.big.test. 1 7200 3600 1209600 "
    "3600\n";

/* The follower applies what the leader did a little later. */
static uv_timer_t lag_timer;

static void
lag_cb(uv_timer_t *t)
{
	A.seq = B.seq;
}

/*
 * Whether a request must run on the leader: a follower's raftd relays it
 * there (raftd/serve.c), so the fake follower hands it to B.
 */
static bool
fake_for_leader(const struct dr_msg_hdr *h)
{
	switch (h->type) {
	case DR_MSG_APPLY:
	case DR_MSG_JOIN:
	case DR_MSG_REMOVE:
	case DR_MSG_TRANSFER:
	case DR_MSG_MEMBER_UPDATE:
		return true;
	case DR_MSG_GET:
		return (h->flags & DR_WF_CONSISTENT) != 0;
	default:
		return false;
	}
}

static void
fake_note_zone(struct node *n, const struct dr_cmd *cmd)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (n->zones[i].zone[0] == '\0' ||
		    dr_str_eq(cmd->args[0], n->zones[i].zone))
			break;
	if (i == 4)
		return;
	snprintf(n->zones[i].zone, sizeof(n->zones[i].zone), "%.*s",
	         (int)cmd->args[0].len, cmd->args[0].p);
	snprintf(n->zones[i].source, sizeof(n->zones[i].source), "%.*s",
	         (int)cmd->args[1].len, cmd->args[1].p);
	snprintf(n->zones[i].records, sizeof(n->zones[i].records), "%.*s",
	         (int)cmd->args[2].len, cmd->args[2].p);
}

/* The zone's last replace on n: its source or records ("" if none). */
static const char *
zone_seen(struct node *n, const char *zone, bool records)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (strcmp(n->zones[i].zone, zone) == 0)
			return records ? n->zones[i].records
			               : n->zones[i].source;
	return "";
}

/* The record commands: only the leader applies; replaces are noted. */
static void
fake_records(struct node *n, struct dr_bus_call *call, const struct dr_cmd *cmd)
{
	struct dr_str rec;

	switch (cmd->type) {
	case DR_CMD_RR_ADD:
		if (dr_str_eq(cmd->args[1], "cname.example.com.")) {
			fake_reply_str(n, call, DR_ST_ERROR,
			               "CNAME and other data at one name");
			return;
		}
		break;
	case DR_CMD_ZONE_REPLACE:
		/* The first two tries of this zone find raftd "down". */
		if (dr_str_eq(cmd->args[0], "retry.test.") && n->refused < 2) {
			n->refused++;
			fake_reply_str(n, call, DR_ST_ERROR,
			               "raftd unavailable");
			return;
		}
		rec = cmd->args[2];
		snprintf(n->last_source, sizeof(n->last_source), "%.*s",
		         (int)cmd->args[1].len, cmd->args[1].p);
		snprintf(n->last_records, sizeof(n->last_records), "%.*s",
		         (int)rec.len, rec.p);
		n->replaces++;
		fake_note_zone(n, cmd);
		uv_timer_start(&lag_timer, lag_cb, 50, 0);
		n->last_nrecords = 0;
		for (size_t i = 0; i < rec.len; i++)
			n->last_nrecords += rec.p[i] == '\n';
		n->seq++;
		/* slow.test. is a big zone: raftd takes its time. */
		fake_reply(n, call, DR_ST_OK, "changed, serial 2", 17,
		           dr_str_eq(cmd->args[0], "slow.test.") ? 800 : 0);
		return;
	default:
		break;
	}
	n->seq++;
	uv_timer_start(&lag_timer, lag_cb, 50, 0);
	fake_reply_str(n, call, DR_ST_OK, "");
}

/*
 * "zone dump big.test.": FAKE_DUMP_PARTS chunks of about the size asked
 * for, the cursor being the number of the next chunk; chunk size 0 is
 * ctld ending the dump. Any other zone does not exist.
 */
#define FAKE_DUMP_PARTS 40

static void
fake_dump(struct node *n, struct dr_bus_call *call, struct dr_cursor *c)
{
	struct dr_str zone;
	uint64_t cursor, next;
	uint32_t chunk;
	struct dr_buf out;
	char line[64];
	unsigned i = 0;
	int k;

	if (dr_get_str(c, &zone) != 0 || dr_get_u64(c, &cursor) != 0 ||
	    dr_get_u32(c, &chunk) != 0) {
		fake_reply_str(n, call, DR_ST_ERROR, "malformed");
		return;
	}
	if (!dr_str_eq(zone, "big.test.") || cursor >= FAKE_DUMP_PARTS) {
		fake_reply_str(n, call, DR_ST_NOTFOUND, "");
		return;
	}
	dr_buf_init(&out);
	if (chunk == 0) {
		n->dump_ends++;
		n->dump_end_cursor = cursor;
		dr_buf_put_u64(&out, 0);
	} else {
		next = cursor + 1 < FAKE_DUMP_PARTS ? cursor + 1 : 0;
		dr_buf_put_u64(&out, next);
		if (cursor == 0)
			dr_buf_put(&out, soa_dump_line, strlen(soa_dump_line));
		while (out.len < chunk) {
			k = snprintf(line, sizeof(line),
			             "h%llu-%u.big.test. 300 IN A 10.0.0.1\n",
			             (unsigned long long)cursor, i++);
			dr_buf_put(&out, line, (size_t)k);
		}
		n->dump_parts++;
	}
	fake_reply(n, call, DR_ST_OK, (const char *)out.data, out.len, 0);
	dr_buf_close(&out);
}

/* Node C's tokens: one of each role but admin. */
static const char token_read[] =
    "drt_1111111111111111111111111111111111111111111111111111111111111111";
static const char token_write[] =
    "drt_2222222222222222222222222222222222222222222222222222222222222222";

static void
fake_token_check(struct node *n, struct dr_bus_call *call, struct dr_cursor *c)
{
	char hr[COMMANDS_HASH_LEN + 1], hw[COMMANDS_HASH_LEN + 1];
	struct dr_str hash;

	commands_token_hash(token_read, strlen(token_read), hr);
	commands_token_hash(token_write, strlen(token_write), hw);
	if (dr_get_str(c, &hash) != 0)
		fake_reply_str(n, call, DR_ST_ERROR, "malformed");
	else if (dr_str_eq(hash, hr))
		fake_reply_str(n, call, DR_ST_OK, "r1 read");
	else if (dr_str_eq(hash, hw))
		fake_reply_str(n, call, DR_ST_OK, "w1 write");
	else
		fake_reply_str(n, call, DR_ST_NOTFOUND, "");
}

/* A dnsd: its counters. */
static void
fake_dnsd_cb(struct dr_bus_call *call, const void *data, size_t len, void *arg)
{
	struct node *n = arg;
	struct dr_msg_hdr h;
	struct dr_cursor c;

	if (dr_wire_decode(data, len, &h, &c) != 0 || h.type != DR_MSG_STATUS)
		fake_reply_str(n, call, DR_ST_ERROR, "bad request");
	else
		fake_reply_str(n, call, DR_ST_OK,
		               "queries 12\nresyncs 0\nchange_seq 7\n"
		               "applied_index 38\n");
}

static void
fake_raftd_cb(struct dr_bus_call *call, const void *data, size_t len, void *arg)
{
	struct node *n = arg;
	struct dr_msg_hdr h;
	struct dr_cursor c;
	struct dr_cmd cmd;
	struct dr_str key, type;
	struct kv *kv;
	char text[256];

	if (dr_wire_decode(data, len, &h, &c) != 0) {
		fake_reply_str(n, call, DR_ST_ERROR, "malformed");
		return;
	}
	if (!n->leader && fake_for_leader(&h)) {
		n->relayed++;
		n = &B;
	}
	switch (h.type) {
	case DR_MSG_APPLY:
		n->applies++;
		if (dr_cmd_decode(c.p, c.left, &cmd) != 0) {
			fake_reply_str(n, call, DR_ST_ERROR, "bad command");
			return;
		}
		n->last_seq = cmd.id.seq;
		n->last_floor = cmd.id.floor;
		n->last_run = cmd.id.run;
		if (dr_str_eq(cmd.args[0], "noleader")) {
			fake_reply_str(n, call, DR_ST_NOLEADER, "");
			return;
		}
		if (dr_str_eq(cmd.args[0], "unknown")) {
			fake_reply_str(n, call, DR_ST_UNKNOWN,
			               "timeout, outcome unknown");
			return;
		}
		if (cmd.type >= DR_CMD_RR_ADD) {
			fake_records(n, call, &cmd);
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
	case DR_MSG_RR_GET:
		if (dr_get_str(&c, &key) != 0 || dr_get_str(&c, &type) != 0) {
			fake_reply_str(n, call, DR_ST_ERROR, "bad request");
			return;
		}
		if (!dr_str_eq(key, "www.example.com."))
			fake_reply_str(n, call, DR_ST_NOTFOUND, "");
		else if (type.len == 0 || dr_str_eq(type, "A"))
			fake_reply_str(n, call, DR_ST_OK,
			               "www.example.com. 300 A 1.2.3.4\n"
			               "www.example.com. 300 A 1.2.3.5\n");
		else
			fake_reply_str(n, call, DR_ST_NOTFOUND, "");
		return;
	case DR_MSG_ZONE_LIST:
		fake_reply_str(n, call, DR_ST_OK,
		               "example.com. 7 3\nexample.org. 1 2\n");
		return;
	case DR_MSG_ZONE_DUMP:
		fake_dump(n, call, &c);
		return;
	case DR_MSG_TOKEN_CHECK:
		fake_token_check(n, call, &c);
		return;
	case DR_MSG_STATUS:
		snprintf(text, sizeof(text),
		         "id %s\nrole %s\napplied_index 40\nchange_seq 9\n",
		         n->id, n->leader ? "leader" : "follower");
		fake_reply_str(n, call, DR_ST_OK, text);
		return;
	case DR_MSG_MEMBERS:
		fake_reply_str(
		    n, call, DR_ST_OK,
		    "ida 127.0.0.1:1 127.0.0.1:2 127.0.0.1:3 voter\n"
		    "idb 127.0.0.1:4 127.0.0.1:5 127.0.0.1:6 voter leader\n");
		return;
	case DR_MSG_JOIN:
		fake_reply_str(n, call, DR_ST_BUSY,
		               "membership change in progress");
		return;
	default:
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
	char *argv[20] = { "ctld",        "-id",
		           (char *)n->id, "-data.dir",
		           n->dir,        "-ctl.addr",
		           n->port_arg,   "-ctl.max-conns",
		           max,           "-ctl.idle-timeout",
		           idle,          NULL };
	int argc = 11;
	unsigned i;

	if (n->strict)
		argv[argc++] = "-ctl.trust-loopback=false";
	for (i = 0; i < n->n_zone_files; i++) {
		argv[argc++] = "-zone.file";
		argv[argc++] = (char *)n->zone_files[i];
	}
	argv[argc] = NULL;

	snprintf(n->dir, sizeof(n->dir), "%s/%s", base, n->id);
	snprintf(n->port_arg, sizeof(n->port_arg), "127.0.0.1:%u", n->port);
	snprintf(idle, sizeof(idle), "%u", IDLE_MS);
	snprintf(max, sizeof(max), "%u", MAX_CONNS);
	if (dr_flags_parse(&n->cfg, argc, argv, err, sizeof(err)) != 0) {
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
	if (n == &A) {
		dr_ipc_url(&n->cfg, "dnsd", url, sizeof(url));
		if (dr_bus_server_start(&n->dnsd, &loop, url, 4, fake_dnsd_cb,
		                        n) != 0)
			abort();
	}
	zoneload_start(&n->zoneload, &loop, &n->cfg, &n->dispatch);
}

static void
stop_cb(uv_async_t *a)
{
	struct node *nodes[] = { &A, &B, &C };
	int i;

	struct delayed *d;

	/* Replies not sent yet die with the fake raftds. */
	for (d = delayed_list; d != NULL; d = d->next)
		if (!uv_is_closing((uv_handle_t *)&d->timer))
			uv_close((uv_handle_t *)&d->timer, delayed_close_cb);
	for (i = 0; i < 3; i++) {
		server_stop(&nodes[i]->server);
		zoneload_stop(&nodes[i]->zoneload);
		dispatch_close(&nodes[i]->dispatch);
		dr_bus_server_stop(nodes[i]->raftd);
		if (nodes[i]->dnsd != NULL)
			dr_bus_server_stop(nodes[i]->dnsd);
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

/*
 * Through a follower: its raftd relays the request to the leader's
 * (the fake follower hands it to B). Every write carries a request id of
 * this ctld: one origin and run, seqs counting up, the floor the oldest
 * still in flight.
 */
static void
test_relayed(void)
{
	unsigned applies = B.applies, relayed = A.relayed;
	uint64_t seq;
	unsigned gets;
	double t0;

	CHECK_EQ_STR(once(A.port, "kv set fw hello  world\n"), "SUCCESS");
	CHECK_EQ_INT(A.relayed, relayed + 1);
	CHECK_EQ_INT(B.applies, applies + 1);
	CHECK(B.last_seq > 0 && B.last_run != 0);
	CHECK_EQ_INT(B.last_floor, B.last_seq); /* alone in flight */
	seq = B.last_seq;
	CHECK(A.seq < B.seq);
	/* A read there waits until its own raftd caught up (50 ms lag). */
	t0 = now_s();
	gets = A.gets;
	CHECK_EQ_STR(once(A.port, "kv get fw\n"), "hello  world");
	CHECK(now_s() - t0 >= 0.03);
	CHECK(A.gets > gets + 1);
	CHECK_EQ_INT(A.seq, B.seq);
	gets = A.gets;
	CHECK_EQ_STR(once(A.port, "kv get fw\n"), "hello  world");
	CHECK_EQ_INT(A.gets, gets + 1);
	CHECK_EQ_STR(once(A.port, "kv get fw consistent\n"), "hello  world");
	CHECK_EQ_INT(A.relayed, relayed + 2);
	CHECK_EQ_STR(once(A.port, "kv del fw\n"), "SUCCESS");
	CHECK_EQ_INT(B.last_seq, seq + 1);
	CHECK_EQ_STR(once(B.port, "kv get fw consistent\n"), "ERROR not found");
	/* The leader's answers come back as they are. */
	CHECK_EQ_STR(once(A.port, "cluster join idc :1 :2 :3\n"),
	             "ERROR membership change in progress");
	CHECK_EQ_STR(once(A.port, "cluster transfer\n"), "SUCCESS");
	CHECK_EQ_STR(once(A.port, "cluster remove idc\n"), "SUCCESS");
	/* raftd's last word on a write it could not settle. */
	CHECK_EQ_STR(once(A.port, "kv set unknown x\n"),
	             "ERROR timeout, outcome unknown");
	CHECK_EQ_STR(once(A.port, "kv set noleader x\n"), "ERROR no leader");
	/* No text forwarding exists. */
	CHECK_EQ_STR(once(A.port, "forwarded kv set x y\n"),
	             "ERROR unknown command");
}

/*
 * The "ctld." counter lines of a cluster status, in order, each "KEY N";
 * returns the line after them.
 */
static const char *
status_ctld_lines(struct client *c)
{
	static const char *const keys[] = {
		"ctld.auth_failed ",         "ctld.permission_denied ",
		"ctld.lines_rejected ",      "ctld.connections ",
		"ctld.connections_refused ", "ctld.memory_bytes ",
		"ctld.memory_refused ",
	};
	const char *line;
	size_t i, n;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		line = client_line(c);
		n = strlen(keys[i]);
		CHECK(strncmp(line, keys[i], n) == 0 &&
		      strspn(line + n, "0123456789") == strlen(line + n) &&
		      line[n] != '\0');
	}
	return client_line(c);
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
	CHECK_EQ_STR(client_line(c), "applied_index 40");
	CHECK_EQ_STR(client_line(c), "change_seq 9");
	/* dnsd's counters follow raftd's, then the processes. */
	CHECK_EQ_STR(client_line(c), "dnsd.queries 12");
	CHECK_EQ_STR(client_line(c), "dnsd.resyncs 0");
	CHECK_EQ_STR(client_line(c), "dnsd.change_seq 7");
	CHECK_EQ_STR(client_line(c), "dnsd.applied_index 38");
	/* ctld's own counters. */
	CHECK_EQ_STR(status_ctld_lines(c), "process.raftd up applied_index 40");
	CHECK_EQ_STR(client_line(c), "process.dnsd up applied_index 38 lag 2");
	CHECK_EQ_STR(client_line(c), "process.ctld up");
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

/* Waits up to 5 s for *counter to reach want; returns whether it did. */
static bool
wait_count(volatile unsigned *counter, unsigned want)
{
	double t0 = now_s();

	while (*counter < want && now_s() - t0 < 5)
		usleep(5000);
	return *counter >= want;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

static const char zone_org[] = "$ORIGIN example.org.\n"
                               "$TTL 300\n"
                               "@ SOA ns1 host 1 7200 3600 1209600 300\n"
                               "  NS ns1\n"
                               "ns1 A 192.0.2.1\n";
static const char zone_net[] = "example.net. 60 SOA ns h 1 2 3 4 5\n"
                               "www.example.net. 60 A 192.0.2.2\n";
static const char zone_net_broken[] = "example.net. 60 SOA ns h 1 2 3 4 5\n"
                                      "www.example.net. 60 A 192.0.2.2\n"
                                      "bad.example.net. 60 A 192.0.2\n";
static const char zone_retry[] = "retry.test. 60 SOA ns h 1 2 3 4 5\n";
static char path_org[256], path_net[256], path_retry[256];

static void
zone_files_setup(const char *base)
{
	snprintf(path_org, sizeof(path_org), "%s/org.zone", base);
	snprintf(path_net, sizeof(path_net), "%s/net.zone", base);
	snprintf(path_retry, sizeof(path_retry), "%s/retry.zone", base);
	write_file(path_org, zone_org);
	write_file(path_net, zone_net);
	write_file(path_retry, zone_retry);
	A.zone_files[0] = path_org;
	A.zone_files[1] = path_net;
	A.n_zone_files = 2;
	B.zone_files[0] = path_retry;
	B.n_zone_files = 1;
}

/*
 * The zone loader: files loaded at start through the leader (A's are
 * forwarded with their records), retried while raftd is unavailable,
 * "zone reload" answers for all files, and a broken file is not sent.
 */
static void
test_zone_files(void)
{
	char want[512];
	unsigned before;
	const char *l;

	/* Two from A (forwarded), one from B after two refusals. */
	CHECK(wait_count(&B.replaces, 3));
	CHECK_EQ_INT(B.refused, 2);
	CHECK_EQ_INT(A.replaces, 0);

	before = B.replaces;
	CHECK_EQ_STR(once(A.port, "zone reload\n"), "SUCCESS");
	CHECK_EQ_INT(B.replaces, before + 2);
	snprintf(want, sizeof(want), "ida:%s", path_net);
	CHECK_EQ_STR(zone_seen(&B, "example.net.", false), want);
	CHECK_EQ_STR(zone_seen(&B, "example.net.", true),
	             "example.net. 60 SOA ns.example.net. h.example.net. "
	             "1 2 3 4 5\n"
	             "www.example.net. 60 A 192.0.2.2\n");
	snprintf(want, sizeof(want), "idb:%s", path_retry);
	CHECK_EQ_STR(zone_seen(&B, "retry.test.", false), want);
	CHECK_EQ_STR(once(B.port, "zone reload\n"), "SUCCESS");
	CHECK_EQ_INT(B.replaces, before + 3);

	/* A broken file: "file:line: reason", nothing sent for it. */
	write_file(path_net, zone_net_broken);
	before = B.replaces;
	l = once(A.port, "zone reload\n");
	snprintf(want, sizeof(want), "ERROR %s:3: ", path_net);
	CHECK(strncmp(l, want, strlen(want)) == 0);
	CHECK_EQ_INT(B.replaces, before + 1);
	CHECK(strncmp(B.last_records, "example.org. 300 SOA", 20) == 0);
	/* A missing file too. */
	unlink(path_net);
	l = once(A.port, "zone reload\n");
	snprintf(want, sizeof(want), "ERROR %s: ", path_net);
	CHECK(strncmp(l, want, strlen(want)) == 0);
	write_file(path_net, zone_net);
	CHECK_EQ_STR(once(A.port, "zone reload\n"), "SUCCESS");
	CHECK_EQ_STR(once(A.port, "forwarded zone reload\n"),
	             "ERROR unknown command");
}

static void
test_records(void)
{
	unsigned applies = A.applies + B.applies;
	struct client *c;

	/* Through the follower: one apply, at the leader. */
	CHECK_EQ_STR(once(A.port, "rr add example.com www 300 A 1.2.3.4\n"),
	             "SUCCESS");
	CHECK_EQ_INT(A.applies + B.applies, applies + 1);
	CHECK_EQ_STR(once(A.port, "rr del example.com www A 1.2.3.4\n"),
	             "SUCCESS");
	/* raftd's refusals come back through the follower. */
	CHECK_EQ_STR(once(A.port, "rr add example.com cname CNAME x\n"),
	             "ERROR CNAME and other data at one name");
	CHECK_EQ_STR(once(A.port, "zone del example.com\n"), "SUCCESS");
	/* Bad records never leave ctld. */
	applies = A.applies + B.applies;
	CHECK_EQ_STR(once(A.port, "rr add example.com www A 1.2.3\n"),
	             "ERROR Syntax error, could not parse the RR's rdata");
	CHECK_EQ_STR(once(A.port, "rr add example.com www.example.org. A "
	                          "1.2.3.4\n"),
	             "ERROR www.example.org. is outside the zone "
	             "example.com.");
	CHECK_EQ_STR(once(B.port, "rr del bad..zone x A 1.2.3.4\n"),
	             "ERROR invalid zone name bad..zone");
	CHECK_EQ_INT(A.applies + B.applies, applies);

	c = client_open(A.port);
	client_sendz(c, "session\nrr get WWW.example.com\n"
	                "rr get www.example.com aaaa\nzone list\n"
	                "zone dump example.com\nstats\nquit\n");
	CHECK_EQ_STR(client_line(c), "OK");
	CHECK_EQ_STR(client_line(c), "www.example.com. 300 A 1.2.3.4");
	CHECK_EQ_STR(client_line(c), "www.example.com. 300 A 1.2.3.5");
	CHECK_EQ_STR(client_line(c), ".");
	CHECK_EQ_STR(client_line(c), "ERROR not found");
	CHECK_EQ_STR(client_line(c), "example.com. 7 3");
	CHECK_EQ_STR(client_line(c), "example.org. 1 2");
	CHECK_EQ_STR(client_line(c), ".");
	CHECK_EQ_STR(client_line(c), "ERROR not found");
	CHECK_EQ_STR(client_line(c), "queries 12");
	CHECK_EQ_STR(client_line(c), "resyncs 0");
	CHECK_EQ_STR(client_line(c), "change_seq 7");
	CHECK_EQ_STR(client_line(c), "applied_index 38");
	CHECK_EQ_STR(client_line(c), ".");
	CHECK_EQ_STR(client_line(c), "BYE");
	client_close(c);
	/* B has no dnsd. */
	CHECK_EQ_STR(once(B.port, "stats\n"), "ERROR dnsd not reachable");
	c = client_open(B.port);
	client_sendz(c, "cluster status\n");
	CHECK_EQ_STR(client_line(c), "id idb");
	CHECK_EQ_STR(client_line(c), "role leader");
	CHECK_EQ_STR(client_line(c), "applied_index 40");
	CHECK_EQ_STR(client_line(c), "change_seq 9");
	CHECK_EQ_STR(client_line(c), "dnsd unreachable");
	CHECK_EQ_STR(status_ctld_lines(c), "process.raftd up applied_index 40");
	CHECK_EQ_STR(client_line(c), "process.dnsd down");
	CHECK_EQ_STR(client_line(c), "process.ctld up");
	CHECK_EQ_STR(client_line(c), ".");
	client_close(c);
}

static const char soa_line[] = "@ SOA ns1 host 1 7200 3600 1209600 300\n";

static void
test_zone_replace(void)
{
	unsigned before = B.replaces;
	struct client *c;
	struct dr_buf big;
	int i;

	/* Through the follower, in a session that goes on after it. */
	c = client_open(A.port);
	client_sendz(c, "session\nzone replace Example.com\n");
	client_sendz(c, soa_line);
	client_sendz(c, "; comment\nwww 300 A 1.2.3.4\n.\nkv ping\n");
	CHECK_EQ_STR(client_line(c), "OK");
	CHECK_EQ_STR(client_line(c), "SUCCESS changed, serial 2");
	CHECK_EQ_STR(client_line(c), "PONG");
	CHECK_EQ_INT(B.replaces, before + 1);
	CHECK_EQ_STR(B.last_source, "ctl");
	CHECK_EQ_STR(B.last_records,
	             "example.com. 3600 SOA ns1.example.com. host.example.com. "
	             "1 7200 3600 1209600 300\n"
	             "www.example.com. 300 A 1.2.3.4\n");
	/* A bad line: the error once "." came, nothing sent, in step. */
	client_sendz(c, "zone replace example.com my source\n");
	client_sendz(c, soa_line);
	client_sendz(c, "www A 1.2.3\nmore A 1.2.3.4\n.\nkv ping\n");
	CHECK_EQ_STR(client_line(c),
	             "ERROR line 2: Syntax error, could not parse the RR's "
	             "rdata");
	CHECK_EQ_STR(client_line(c), "PONG");
	client_sendz(c, "zone replace example.com\nwww A 1.2.3.4\n.\n");
	CHECK_EQ_STR(client_line(c), "ERROR no SOA record at example.com.");
	client_sendz(c, "zone replace a..b\nwww A 1.2.3.4\n.\n");
	CHECK_EQ_STR(client_line(c), "ERROR invalid zone name a..b");
	CHECK_EQ_INT(B.replaces, before + 1);
	client_close(c);

	/* On its own connection, with a source. */
	c = client_open(B.port);
	client_sendz(c, "zone replace example.com my source\n");
	client_sendz(c, soa_line);
	client_sendz(c, ".\n");
	CHECK_EQ_STR(client_line(c), "SUCCESS changed, serial 2");
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
	CHECK_EQ_STR(B.last_source, "my source");
	/* Cut short. */
	c = client_open(B.port);
	client_sendz(c, "zone replace example.com\n");
	client_sendz(c, soa_line);
	shutdown(c->fd, SHUT_WR);
	CHECK_EQ_STR(client_line(c),
	             "ERROR zone replace without its final \".\"");
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
	CHECK_EQ_INT(B.replaces, before + 2);

	/* Many lines, far over the input buffer, through the follower. */
	dr_buf_init(&big);
	dr_buf_put(&big, "zone replace example.com\n", 25);
	dr_buf_put(&big, soa_line, strlen(soa_line));
	for (i = 0; i < 50000; i++) {
		char line[64];
		int n = snprintf(line, sizeof(line), "h%d 60 A 10.%d.%d.%d\n",
		                 i, (i >> 16) & 255, (i >> 8) & 255, i & 255);

		dr_buf_put(&big, line, (size_t)n);
	}
	dr_buf_put(&big, ".\n", 2);
	c = client_open(A.port);
	client_send(c, (const char *)big.data, big.len);
	CHECK_EQ_STR(client_line(c), "SUCCESS changed, serial 2");
	client_close(c);
	CHECK_EQ_INT(B.replaces, before + 3);
	CHECK_EQ_INT(B.last_nrecords, 50001);
	dr_buf_close(&big);
}

/* raftd waits for a leader itself: its "no leader" is final here. */
static void
test_no_leader(void)
{
	double t0 = now_s();

	CHECK_EQ_STR(once(A.port, "kv set noleader x\n"), "ERROR no leader");
	CHECK(now_s() - t0 < 1.0);
}

/*
 * zone dump in parts: a reader gets them all, in order, then "."; a
 * client that leaves, or stops reading for the part deadline (the idle
 * timeout here), has its dump ended in raftd (chunk size 0) at once.
 */
static void
test_dump_parts(void)
{
	volatile unsigned *ends = &B.dump_ends;
	unsigned parts = B.dump_parts, e = B.dump_ends, lines = 0;
	struct client *c = client_open(B.port);
	const char *line;
	double t0;

	client_sendz(c, "zone dump big.test\n");
	CHECK_EQ_STR(client_line(c),
	             "big.test. 3600 IN SOA ns1.big.test. h.big.test. 1 7200 "
	             "3600 1209600 3600");
	for (;;) {
		line = client_line(c);
		if (line[0] != 'h')
			break;
		lines++;
		if (lines == 1)
			CHECK_EQ_STR(line, "h0-0.big.test. 300 IN A 10.0.0.1");
	}
	CHECK_EQ_STR(line, ".");
	CHECK_EQ_STR(client_line(c), "<eof>");
	client_close(c);
	CHECK_EQ_INT(B.dump_parts - parts, FAKE_DUMP_PARTS);
	CHECK(lines > FAKE_DUMP_PARTS * 1000);
	CHECK_EQ_INT(B.dump_ends, e);

	/* The client leaves after the first part. */
	c = client_open(B.port);
	client_sendz(c, "zone dump big.test\n");
	CHECK(strncmp(client_line(c), "big.test. 3600 IN SOA", 21) == 0);
	client_close(c);
	CHECK(wait_count(ends, e + 1));
	CHECK(B.dump_end_cursor > 0 && B.dump_end_cursor < FAKE_DUMP_PARTS);

	/* The client stays but reads no more: ended at the part deadline. */
	c = client_open(B.port);
	client_sendz(c, "session\nzone dump big.test\n");
	CHECK_EQ_STR(client_line(c), "OK");
	t0 = now_s();
	CHECK(wait_count(ends, e + 2));
	CHECK(now_s() - t0 >= IDLE_MS / 1000.0 * 0.9);
	/* What was sent can still be read; the dump stops without ".". */
	do
		line = client_line(c);
	while (line[0] == 'h' || line[0] == 'b');
	CHECK(strcmp(line, "<eof>") == 0 || strcmp(line, "<error>") == 0 ||
	      strcmp(line, "<partial>") == 0);
	client_close(c);
	/* Unknown zones still answer. */
	CHECK_EQ_STR(once(B.port, "zone dump nope.test\n"), "ERROR not found");
}

/* A client of C (no trust for loopback) runs line and reads n lines. */
static void
strict_expect(const char *lines, const char *const *want, size_t n)
{
	struct client *c = client_open(C.port);
	size_t i;

	client_sendz(c, lines);
	for (i = 0; i < n; i++)
		CHECK_EQ_STR(client_line(c), want[i]);
	client_close(c);
}

#define STRICT(lines, ...)                                            \
	do {                                                          \
		static const char *const w_[] = { __VA_ARGS__ };      \
		strict_expect(lines, w_, sizeof(w_) / sizeof(w_[0])); \
	} while (0)

/* Roles: nothing but auth (and quit) before a token; what each may do. */
static void
test_auth(void)
{
	char line[256];
	struct client *c;
	uint64_t failed = C.dispatch.auth_failed, denied = C.dispatch.denied;
	unsigned applies = C.applies;

	STRICT("kv ping\n", "ERROR auth required", "<eof>");
	STRICT("session\nkv ping\n", "ERROR auth required", "<eof>");
	STRICT("nope\n", "ERROR auth required", "<eof>");
	STRICT("forwarded kv set a b\n", "ERROR auth required", "<eof>");
	STRICT("auth\n", "ERROR usage: auth TOKEN", "<eof>");
	STRICT("quit\n", "BYE", "<eof>");
	/* A bad token ends the connection; nothing after it runs. */
	STRICT("auth drt_0000\nkv set x y\n", "ERROR auth failed", "<eof>");
	CHECK_EQ_INT(C.dispatch.auth_failed - failed, 1);
	CHECK_EQ_INT(C.applies, applies);
	/* After a good auth the next line is a first line: one command. */
	snprintf(line, sizeof(line), "auth %s\nkv ping\nkv ping\n", token_read);
	STRICT(line, "OK", "PONG", "<eof>");
	snprintf(line, sizeof(line), "auth %s\nkv set x y\n", token_read);
	STRICT(line, "OK", "ERROR permission denied", "<eof>");
	CHECK_EQ_INT(C.applies, applies);
	/* Or a session, which a refusal does not end. */
	c = client_open(C.port);
	snprintf(line, sizeof(line),
	         "auth %s\nsession\nkv set x y\ncluster remove ida\n"
	         "token list\nkv set y z\ncluster remove ida\n"
	         "zone reload\nkv get x\nquit\n",
	         token_write);
	client_sendz(c, line);
	CHECK_EQ_STR(client_line(c), "OK");
	CHECK_EQ_STR(client_line(c), "OK");
	CHECK_EQ_STR(client_line(c), "SUCCESS");
	CHECK_EQ_STR(client_line(c), "ERROR permission denied");
	CHECK_EQ_STR(client_line(c), "ERROR permission denied");
	CHECK_EQ_STR(client_line(c), "SUCCESS");
	CHECK_EQ_STR(client_line(c), "ERROR permission denied");
	CHECK_EQ_STR(client_line(c), "SUCCESS"); /* no zone files */
	CHECK_EQ_STR(client_line(c), "y");
	CHECK_EQ_STR(client_line(c), "BYE");
	client_close(c);
	CHECK_EQ_INT(C.applies, applies + 2);
	CHECK_EQ_INT(C.dispatch.denied - denied, 8);
}

/* B's ctld.memory_bytes (cluster status), or -1. */
static long
memory_bytes(void)
{
	struct client *c = client_open(B.port);
	const char *line;
	long v = -1;

	client_sendz(c, "cluster status\n");
	while ((line = client_line(c))[0] != '.' && line[0] != '<')
		if (strncmp(line, "ctld.memory_bytes ", 18) == 0)
			v = strtol(line + 18, NULL, 10);
	client_close(c);
	return v;
}

/*
 * A zone replace's records count against the memory budget until raftd
 * answered, also once their client has gone.
 */
static void
test_body_memory(void)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	struct client *c = client_open(B.port);
	char line[64];
	double t0;
	long held;
	int i;

	CHECK_EQ_INT(memory_bytes(), 0);
	client_sendz(c, "zone replace slow.test\n"
	                "@ SOA ns1 host 1 7200 3600 1209600 300\n");
	for (i = 0; i < 2000; i++) {
		snprintf(line, sizeof(line), "h%d 300 A 10.0.%d.%d\n", i,
		         i / 256, i % 256);
		client_sendz(c, line);
	}
	client_sendz(c, ".\n");
	/*
	 * Gone before the answer, with a reset so that ctld closes its end
	 * at once (the reply is lost, the write is not).
	 */
	usleep(100000);
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	client_close(c);
	t0 = now_s();
	while ((held = memory_bytes()) == 0 && now_s() - t0 < 0.5)
		usleep(5000);
	CHECK(held > 2000 * 20);
	t0 = now_s();
	while (memory_bytes() != 0 && now_s() - t0 < 5)
		usleep(20000);
	CHECK_EQ_INT(memory_bytes(), 0);
	CHECK_EQ_INT(B.dispatch.held, 0);
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
	C.port = free_port();
	zone_files_setup(base);
	node_start(&A, base);
	node_start(&B, base);
	node_start(&C, base);
	uv_async_init(&loop, &stop_async, stop_cb);
	uv_timer_init(&loop, &lag_timer);
	pthread_create(&loop_thread, NULL, loop_main, NULL);

	/* First: the loads at start must be over before counting. */
	RUN(test_zone_files);
	RUN(test_records);
	RUN(test_zone_replace);
	RUN(test_one_shot);
	RUN(test_relayed);
	RUN(test_multiline);
	RUN(test_session_pipeline);
	RUN(test_concurrent);
	RUN(test_bad_input);
	RUN(test_max_conns);
	RUN(test_backpressure);
	RUN(test_no_leader);
	RUN(test_dump_parts);
	RUN(test_auth);
	RUN(test_body_memory);

	/* Stop with work in flight: raftd requests. */
	{
		struct client *c1 = client_open(A.port);
		struct client *c2 = client_open(A.port);
		struct client *c3 = client_open(B.port);
		struct client *c4 = client_open(B.port);

		/*
		 * raftd's "no leader" is final: answered before the stop. (On
		 * its own: writes sent in one loop turn go to raftd in one
		 * batch, answered when all of them are.)
		 */
		client_sendz(c1, "kv set noleader x\n");
		CHECK_EQ_STR(client_line(c1), "ERROR no leader");
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
	CHECK_EQ_INT(A.dispatch.nreqs + B.dispatch.nreqs + C.dispatch.nreqs, 0);
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
		CHECK_EQ_INT(system(cmd), 0);
	}
	return UNIT_DONE();
}
