/* dnsd's counters: per-thread query counters, feed gauges, the STATUS reply. */
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "err.h"
#include "log.h"
#include "packet.h"

static const char *const stats_names[STATS_NCOUNTERS] = {
	[STATS_QUERIES] = "queries",
	[STATS_UDP] = "udp",
	[STATS_TCP] = "tcp",
	[STATS_NOERROR] = "noerror",
	[STATS_NXDOMAIN] = "nxdomain",
	[STATS_REFUSED] = "refused",
	[STATS_FORMERR] = "formerr",
	[STATS_SERVFAIL] = "servfail",
	[STATS_NOTIMP] = "notimp",
	[STATS_NOTAUTH] = "notauth",
	[STATS_BADVERS] = "badvers",
	[STATS_TRUNCATED] = "truncated",
	[STATS_DROPPED] = "dropped",
	[STATS_RRL_LIMITED] = "rrl_limited",
	[STATS_RRL_SLIPPED] = "rrl_slipped",
	[STATS_COOKIE_VALID] = "cookies_valid",
	[STATS_COOKIE_NEW] = "cookies_new",
};

void
stats_init(struct stats *s, unsigned nshards)
{
	size_t size = sizeof(struct stats_shard) * nshards;

	memset(s, 0, sizeof(*s));
	s->shards = aligned_alloc(_Alignof(struct stats_shard), size);
	if (s->shards == NULL)
		abort();
	memset(s->shards, 0, size);
	s->nshards = nshards;
}

void
stats_close(struct stats *s)
{
	stats_serve_stop(s);
	free(s->shards);
	s->shards = NULL;
	s->nshards = 0;
}

void
stats_flush(struct stats_shard *sh, uint64_t *t)
{
	for (int i = 0; i < STATS_NCOUNTERS; i++) {
		if (t[i] != 0)
			stats_add(sh, (enum stats_counter)i, t[i]);
		t[i] = 0;
	}
}

static int
stats_rcode_counter(uint16_t rcode)
{
	switch (rcode) {
	case RCODE_NOERROR:
		return STATS_NOERROR;
	case RCODE_NXDOMAIN:
		return STATS_NXDOMAIN;
	case RCODE_REFUSED:
		return STATS_REFUSED;
	case RCODE_FORMERR:
		return STATS_FORMERR;
	case RCODE_NOTIMP:
		return STATS_NOTIMP;
	case RCODE_NOTAUTH:
		return STATS_NOTAUTH;
	case RCODE_BADVERS:
		return STATS_BADVERS;
	default:
		/* Anything else the query path could send is a failure. */
		return STATS_SERVFAIL;
	}
}

void
stats_tally(uint64_t *t, int transport, int verdict,
            const struct query_result *res)
{
	t[STATS_QUERIES]++;
	t[transport == QUERY_TCP ? STATS_TCP : STATS_UDP]++;
	if (res->cookie == COOKIE_VALID)
		t[STATS_COOKIE_VALID]++;
	else if (res->cookie == COOKIE_NEW)
		t[STATS_COOKIE_NEW]++;
	if (res->rrl != RRL_PASS)
		t[STATS_RRL_LIMITED]++;
	if (verdict == QUERY_DROP) {
		if (res->rrl != RRL_DROP)
			t[STATS_DROPPED]++;
		return;
	}
	if (res->rrl == RRL_SLIP)
		t[STATS_RRL_SLIPPED]++;
	t[stats_rcode_counter(res->rcode)]++;
	if (res->tc)
		t[STATS_TRUNCATED]++;
}

uint64_t
stats_sum(const struct stats *s, enum stats_counter which)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < s->nshards; i++)
		sum += atomic_load_explicit(&s->shards[i].c[which],
		                            memory_order_relaxed);
	return sum;
}

/* Resident set size in bytes, 0 if /proc is not readable. */
static uint64_t
stats_rss(void)
{
	char line[128], *p, *end;
	unsigned long long resident;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	p = fgets(line, sizeof(line), f);
	(void)fclose(f);
	/* "size resident shared ...", in pages. */
	if (p == NULL || (p = strchr(line, ' ')) == NULL)
		return 0;
	resident = strtoull(p + 1, &end, 10);
	if (end == p + 1)
		return 0;
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void
stats_line(struct dr_buf *out, const char *key, uint64_t v)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "%s %" PRIu64 "\n", key, v);

	dr_buf_put(out, line, (size_t)n);
}

void
stats_format(const struct stats *s, struct dr_buf *out)
{
	for (int i = 0; i < STATS_NCOUNTERS; i++)
		stats_line(out, stats_names[i],
		           stats_sum(s, (enum stats_counter)i));
	stats_line(out, "tcp_conns", s->tcp_conns);
	stats_line(out, "tcp_refused_full", s->tcp_refused_full);
	stats_line(out, "tcp_refused_source", s->tcp_refused_source);
	stats_line(out, "tcp_timeouts", s->tcp_timeouts);
	stats_line(out, "resyncs", s->resyncs);
	stats_line(out, "change_seq", s->change_seq);
	stats_line(out, "applied_index", s->applied_index);
	stats_line(out, "zones", s->zones);
	stats_line(out, "names", s->names);
	stats_line(out, "records", s->records);
	stats_line(out, "rss", stats_rss());
}

static void
stats_request_cb(struct dr_bus_call *call, const void *data, size_t len,
                 void *arg)
{
	static const char bad[] = "malformed request";
	static const char unsupported[] = "dnsd answers STATUS only";
	struct stats *s = arg;
	struct dr_msg_hdr h;
	struct dr_cursor payload;
	struct dr_buf b;

	if (dr_wire_decode(data, len, &h, &payload) != 0) {
		log_warnx("stats, malformed request (%zu bytes)", len);
		dr_bus_reply_status(call, DR_ST_ERROR, bad, sizeof(bad) - 1);
		return;
	}
	if (h.type != DR_MSG_STATUS) {
		dr_bus_reply_status(call, DR_ST_ERROR, unsupported,
		                    sizeof(unsupported) - 1);
		return;
	}
	dr_buf_init(&b);
	stats_format(s, &b);
	dr_bus_reply_status(call, DR_ST_OK, b.data, b.len);
	dr_buf_close(&b);
}

int
stats_serve_start(struct stats *s, uv_loop_t *loop, const char *url)
{
	return dr_bus_server_start(&s->server, loop, url, 4, stats_request_cb,
	                           s);
}

void
stats_serve_stop(struct stats *s)
{
	if (s->server != NULL)
		dr_bus_server_stop(s->server);
	s->server = NULL;
}
