/* The cluster members' hosts, for which ctld keeps connection slots. */
#include "peers.h"

#include <string.h>

#include "flags.h"
#include "log.h"
#include "wire.h"

/*
 * The canonical text of the numeric host in "host:port" / "[host]:port"
 * (word, wlen bytes) into out; false for a name, a wildcard or loopback.
 */
static bool
peers_host_of(const char *word, size_t wlen, char *out, size_t outlen)
{
	char tmp[DR_ADDR_LEN];
	struct in6_addr a6;
	struct in_addr a4;
	struct dr_addr a;

	if (wlen >= sizeof(tmp))
		return false;
	memcpy(tmp, word, wlen);
	tmp[wlen] = '\0';
	if (dr_addr_parse(tmp, &a) != 0 || dr_host_is_loopback(a.host))
		return false;
	if (inet_pton(AF_INET, a.host, &a4) == 1)
		return a4.s_addr != htonl(INADDR_ANY) &&
		       inet_ntop(AF_INET, &a4, out, (socklen_t)outlen) != NULL;
	if (inet_pton(AF_INET6, a.host, &a6) == 1) {
		if (IN6_IS_ADDR_UNSPECIFIED(&a6) || IN6_IS_ADDR_LOOPBACK(&a6))
			return false;
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4, &a6.s6_addr[12], 4);
			return inet_ntop(AF_INET, &a4, out,
			                 (socklen_t)outlen) != NULL;
		}
		return inet_ntop(AF_INET6, &a6, out, (socklen_t)outlen) != NULL;
	}
	return false;
}

static void
peers_add(struct peers *p, const char *word, size_t wlen)
{
	char host[INET6_ADDRSTRLEN];

	if (p->n == PEERS_MAX ||
	    !peers_host_of(word, wlen, host, sizeof(host)) ||
	    peers_has(p, host))
		return;
	memcpy(p->hosts[p->n++], host, sizeof(host));
}

void
peers_parse(struct peers *p, const uint8_t *text, size_t len)
{
	const char *s = (const char *)text, *end = s + len;

	p->n = 0;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl != NULL ? nl : end;
		const char *w = s;
		unsigned i;

		/* Words 1 and 2 (from 0): the raft and ctl addresses. */
		for (i = 0; i < 3 && w < eol; i++) {
			const char *sp = memchr(w, ' ', (size_t)(eol - w));
			const char *we = sp != NULL ? sp : eol;

			if (i > 0)
				peers_add(p, w, (size_t)(we - w));
			w = sp != NULL ? sp + 1 : eol;
		}
		s = nl != NULL ? nl + 1 : end;
	}
}

bool
peers_has(const struct peers *p, const char *host)
{
	unsigned i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->hosts[i], host) == 0)
			return true;
	return false;
}

static void peers_timer_cb(uv_timer_t *t);

static void
peers_reply_cb(int rv, const void *data, size_t len, void *arg)
{
	struct peers *p = arg;
	struct dr_msg_hdr h;
	struct dr_cursor c;

	p->asking = false;
	if (!p->running)
		return;
	/* Without an answer the last list stays: raftd may be restarting. */
	if (rv == 0 && dr_wire_decode(data, len, &h, &c) == 0 &&
	    h.type == DR_MSG_REPLY && h.status == DR_ST_OK) {
		unsigned before = p->n;

		peers_parse(p, c.p, c.left);
		if (p->n != before)
			log_debug("peers, %u member hosts", p->n);
	}
	uv_timer_start(&p->timer, peers_timer_cb, PEERS_REFRESH_MS, 0);
}

static void
peers_timer_cb(uv_timer_t *t)
{
	struct peers *p = t->data;
	struct dr_msg_hdr h;
	struct dr_buf msg;

	if (!p->running || p->asking)
		return;
	memset(&h, 0, sizeof(h));
	h.type = DR_MSG_MEMBERS;
	dr_buf_init(&msg);
	dr_wire_begin(&msg, &h);
	dr_wire_end(&msg);
	if (dr_bus_request(p->bus, msg.data, msg.len, PEERS_TIMEOUT_MS,
	                   peers_reply_cb, p) == 0)
		p->asking = true;
	else
		uv_timer_start(&p->timer, peers_timer_cb, PEERS_REFRESH_MS, 0);
	dr_buf_close(&msg);
}

void
peers_start(struct peers *p, uv_loop_t *loop, struct dr_bus_client *bus)
{
	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->bus = bus;
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	p->running = true;
	uv_timer_start(&p->timer, peers_timer_cb, 0, 0);
}

void
peers_stop(struct peers *p)
{
	if (!p->running)
		return;
	p->running = false;
	uv_close((uv_handle_t *)&p->timer, NULL);
}
