/* Forwarding one command line to the leader's ctld (common/lineclient). */
#include "forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "line.h"
#include "lineclient.h"
#include "log.h"

struct forward {
	struct dr_lineclient *lc; /* owned until its callback ran */
	forward_cb cb;
	void *arg;
	char addr[DR_ADDR_LEN];
};

/* The reply line and the optional "seq N" line after it. */
static void
forward_answer_cb(int rv, const char *answer, size_t len, const char *why,
                  void *arg)
{
	struct forward *f = arg;
	const char *nl, *q, *end = answer + len;
	unsigned long long seq = 0;
	size_t n;

	if (rv != 0) {
		log_debug("forward, to %s failed (%s)", f->addr, why);
		f->cb(rv, NULL, 0, 0, f->arg);
		free(f);
		return;
	}
	nl = memchr(answer, '\n', len);
	n = (size_t)(nl - answer);
	if (n > 0 && answer[n - 1] == '\r')
		n--;
	if (end - (nl + 1) > 4 && memcmp(nl + 1, "seq ", 4) == 0) {
		for (q = nl + 5; q < end && *q >= '0' && *q <= '9'; q++) {
			if (seq > (UINT64_MAX - 9) / 10) {
				seq = 0;
				break;
			}
			seq = seq * 10 + (unsigned)(*q - '0');
		}
	}
	f->cb(0, answer, n, (uint64_t)seq, f->arg);
	free(f);
}

int
forward_start(struct forward **out, uv_loop_t *loop, struct dr_tls *tls,
              const char *addr, const char *line, size_t len, const void *body,
              size_t bodylen, unsigned reply_ms, forward_cb cb, void *arg)
{
	static const char prefix[] = LINE_FORWARDED;
	struct dr_lineclient_opts o;
	struct forward *f;
	size_t reqlen;
	char *req, *p;
	int rv;

	reqlen =
	    sizeof(prefix) - 1 + len + 1 + (body != NULL ? bodylen + 2 : 0);
	req = malloc(reqlen);
	if (req == NULL)
		abort();
	p = req;
	memcpy(p, prefix, sizeof(prefix) - 1);
	p += sizeof(prefix) - 1;
	memcpy(p, line, len);
	p += len;
	*p++ = '\n';
	if (body != NULL) {
		memcpy(p, body, bodylen);
		p += bodylen;
		memcpy(p, ".\n", 2);
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		abort();
	f->cb = cb;
	f->arg = arg;
	snprintf(f->addr, sizeof(f->addr), "%s", addr);
	memset(&o, 0, sizeof(o));
	o.tls = tls;
	o.connect_ms = FORWARD_CONNECT_TIMEOUT_MS;
	o.reply_ms = reply_ms > FORWARD_REPLY_TIMEOUT_MS
	                 ? reply_ms
	                 : FORWARD_REPLY_TIMEOUT_MS;
	o.lines = 2;
	o.reply_max = FORWARD_REPLY_MAX;
	rv = dr_lineclient_start(&f->lc, loop, addr, req, reqlen, &o,
	                         forward_answer_cb, f);
	free(req);
	if (rv != 0) {
		free(f);
		return DR_EINVAL;
	}
	*out = f;
	return 0;
}

void
forward_cancel(struct forward *f)
{
	/* The callback runs now and frees f. */
	dr_lineclient_cancel(f->lc);
}
