/* Strict validation of a received DNS query, before any lookup. */
#include "packet.h"

#include <string.h>

#include "cookie.h"
#include "err.h"
#include "rdata.h"

/* Parses the QNAME at offset 12: labels only, no compression. */
static int
parse_qname(const uint8_t *pkt, size_t len, struct packet_query *q)
{
	size_t i = PKT_HDR;
	unsigned n = 0;

	for (;;) {
		if (i >= len)
			return DR_EMALFORMED;
		uint8_t l = pkt[i];
		if (l == 0)
			break;
		if (l & 0xC0)
			return DR_EMALFORMED; /* pointer or extended label */
		if (i + 1 + l - PKT_HDR >= DNAME_MAX)
			return DR_EMALFORMED;
		q->labels[n++] = (uint8_t)(i - PKT_HDR);
		i += 1 + (size_t)l;
	}
	q->qlen = (uint16_t)(i + 1 - PKT_HDR);
	q->nlabels = (uint8_t)n;
	q->qname = pkt + PKT_HDR;
	dname_lower(q->lname, q->qname, q->qlen);
	return 0;
}

/*
 * Skips a possibly compressed name in a record of the additional section.
 * Pointers must go strictly backwards (no loops, no forward references),
 * and each one followed takes one from *budget, shared by every name of
 * the message.
 */
static int
skip_name(const uint8_t *pkt, size_t len, size_t *pos, bool *root,
          unsigned *budget)
{
	size_t i = *pos, total = 0;
	bool jumped = false;
	size_t limit = *pos; /* pointers must point before this */

	*root = i < len && pkt[i] == 0;
	for (;;) {
		if (i >= len)
			return DR_EMALFORMED;
		uint8_t l = pkt[i];
		if (l == 0) {
			if (!jumped)
				*pos = i + 1;
			return 0;
		}
		if ((l & 0xC0) == 0xC0) {
			if (i + 1 >= len || *budget == 0)
				return DR_EMALFORMED;
			size_t target = ((size_t)(l & 0x3F) << 8) | pkt[i + 1];
			if (target >= limit || target < PKT_HDR)
				return DR_EMALFORMED;
			if (!jumped)
				*pos = i + 2;
			jumped = true;
			(*budget)--;
			limit = target;
			i = target;
			continue;
		}
		if (l & 0xC0)
			return DR_EMALFORMED;
		total += (size_t)l + 1;
		if (total >= DNAME_MAX)
			return DR_EMALFORMED;
		i += (size_t)l + 1;
	}
}

/*
 * Checks the options of an OPT rdata: each code/length pair must fit, and
 * a COOKIE option must have a length RFC 7873 allows and come once.
 */
static bool
opt_options_ok(const uint8_t *p, size_t len, struct packet_query *q)
{
	size_t i = 0;

	while (i < len) {
		if (len - i < 4)
			return false;
		uint16_t code = pkt_u16(p + i);
		size_t olen = pkt_u16(p + i + 2);
		if (len - i - 4 < olen)
			return false;
		if (code == PKT_OPT_COOKIE) {
			if (q->cookie != NULL || olen < COOKIE_OPT_MIN ||
			    (olen > COOKIE_OPT_MIN &&
			     olen < COOKIE_CLIENT_LEN + 8) ||
			    olen > COOKIE_OPT_MAX)
				return false;
			q->cookie = p + i + 4;
			q->cookie_len = (uint8_t)olen;
		}
		i += 4 + olen;
	}
	return true;
}

/* A malformed additional section: FORMERR, and no OPT (so no cookie). */
static void
additional_formerr(struct packet_query *q)
{
	q->rcode = RCODE_FORMERR;
	q->cookie = NULL;
	q->cookie_len = 0;
}

/* Parses the additional section; FORMERR, NOTAUTH or BADVERS in q->rcode. */
static void
parse_additional(const uint8_t *pkt, size_t len, size_t pos, unsigned arcount,
                 struct packet_query *q)
{
	bool opt = false, bad_opt = false, tsig = false;
	unsigned budget = PKT_PTR_BUDGET;

	for (unsigned i = 0; i < arcount; i++) {
		bool root;
		if (tsig || skip_name(pkt, len, &pos, &root, &budget) < 0 ||
		    len - pos < 10) {
			additional_formerr(q); /* TSIG must be last */
			return;
		}
		uint16_t type = pkt_u16(pkt + pos);
		uint16_t class = pkt_u16(pkt + pos + 2);
		const uint8_t *ttl = pkt + pos + 4;
		size_t rdlen = pkt_u16(pkt + pos + 8);
		pos += 10;
		if (len - pos < rdlen) {
			additional_formerr(q);
			return;
		}
		if (type == RR_OPT) {
			if (opt || !root ||
			    !opt_options_ok(pkt + pos, rdlen, q))
				bad_opt = true;
			opt = true;
			q->udp_size = class < PKT_EDNS_MIN   ? PKT_EDNS_MIN
			              : class > PKT_EDNS_MAX ? PKT_EDNS_MAX
			                                     : class;
			q->edns_version = ttl[1];
			q->edns_flags = pkt_u16(ttl + 2) & PKT_EDNS_DO;
		} else if (type == RR_TSIG) {
			tsig = true;
		}
		pos += rdlen;
	}
	if (pos != len || bad_opt) {
		additional_formerr(q); /* RFC 6891 6.1.1: no OPT back */
		return;
	}
	q->edns = opt;
	if (opt && q->edns_version > 0)
		q->rcode = RCODE_BADVERS;
	else if (tsig)
		q->rcode = RCODE_NOTAUTH;
}

int
packet_parse_query(const uint8_t *pkt, size_t len, struct packet_query *q)
{
	q->rcode = 0;
	q->has_question = false;
	q->edns = false;
	q->udp_size = PKT_EDNS_MIN;
	q->edns_flags = 0;
	q->edns_version = 0;
	q->qlen = 0;
	q->qsize = 0;
	q->nlabels = 0;
	q->qtype = 0;
	q->qclass = 0;
	q->cookie = NULL;
	q->cookie_len = 0;
	if (len < PKT_HDR)
		return DR_EMALFORMED;
	q->id = pkt_u16(pkt);
	q->flags = pkt_u16(pkt + 2);
	q->opcode = (uint8_t)PKT_OPCODE(q->flags);
	if (q->flags & PKT_FLAG_QR)
		return DR_EMALFORMED; /* a response: never answer it */

	unsigned qd = pkt_u16(pkt + 4), an = pkt_u16(pkt + 6);
	unsigned ns = pkt_u16(pkt + 8), ar = pkt_u16(pkt + 10);
	if (qd == 1 && parse_qname(pkt, len, q) == 0 &&
	    len - PKT_HDR - q->qlen >= 4) {
		const uint8_t *p = pkt + PKT_HDR + q->qlen;
		q->qtype = pkt_u16(p);
		q->qclass = pkt_u16(p + 2);
		q->qsize = (uint16_t)(q->qlen + 4);
		q->has_question = true;
	}
	if (q->opcode != 0) {
		/*
		 * RFC 6891 7: a request with an OPT gets one back, a NOTIMP
		 * too (RFC 8906 3.1.4 probes exactly this). A bad OPT only
		 * means none is sent back.
		 */
		if (q->has_question && an == 0 && ns == 0)
			parse_additional(pkt, len, PKT_HDR + q->qsize, ar, q);
		q->rcode = RCODE_NOTIMP;
		return 0;
	}
	if (!q->has_question || an != 0 || ns != 0) {
		q->rcode = RCODE_FORMERR;
		return 0;
	}
	parse_additional(pkt, len, PKT_HDR + q->qsize, ar, q);
	if (q->rcode != 0)
		return 0;
	if (q->qclass != CLASS_IN && q->qclass != CLASS_ANY)
		q->rcode = RCODE_REFUSED;
	else if (q->qtype == RR_OPT)
		q->rcode = RCODE_FORMERR;
	else if (q->qtype == RR_MAILA || q->qtype == RR_MAILB)
		q->rcode = RCODE_NOTIMP;
	return 0;
}
