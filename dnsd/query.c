/* The per-query path: a received packet in, a response out, from prepared
 * answers. */
#include "query.h"

#include <string.h>

#include "packet.h"
#include "rdata.h"

/* How the template's question name relates to the real one. */
enum {
	MODE_EXACT,  /* same name: nothing to patch */
	MODE_SUFFIX, /* template name is a suffix of the question (referral) */
	MODE_WILD,   /* wildcard synthesis: pointers to offset 12 stay */
};

struct pick {
	const struct ztmpl *t;   /* NULL: no body (NODATA, NXDOMAIN) */
	const struct zzone *neg; /* zone whose SOA goes in authority */
	uint8_t rcode;
	bool aa;
	int mode;
	size_t delta; /* real question name length - template's */
};

static const struct ztmpl *
pick_type(const struct zans *a, uint16_t qtype)
{
	if (qtype == RR_ANY)
		return zans_tmpl(a, a->any);
	return zans_lookup(a, qtype);
}

static void
pick_tmpl(struct pick *p, const struct zans *a, uint16_t qtype)
{
	p->t = pick_type(a, qtype);
	if (p->t != NULL) {
		p->neg = p->t->neg;
		p->rcode = p->t->rcode;
		p->aa = (p->t->flags & ZT_AA) != 0;
	} else {
		p->neg = a->zone; /* NODATA */
		p->rcode = RCODE_NOERROR;
		p->aa = true;
	}
}

/*
 * RFC 1034 4.3.2 on prepared answers: the name itself, else its closest
 * existing ancestor (the closest encloser), which is a zone cut (referral),
 * has a wildcard child (synthesis) or proves the name does not exist.
 */
static void
lookup(const struct zonedb *db, const struct packet_query *q, struct pick *p)
{
	const struct zans *a = db ? zonedb_find(db, q->lname, q->qlen) : NULL;
	size_t off = 0;

	p->mode = MODE_EXACT;
	p->delta = 0;
	if (a != NULL) {
		pick_tmpl(p, a, q->qtype);
		return;
	}
	for (unsigned i = 1; db != NULL && i <= q->nlabels; i++) {
		off = i < q->nlabels ? q->labels[i] : (size_t)q->qlen - 1;
		a = zonedb_find(db, q->lname + off, q->qlen - off);
		if (a != NULL)
			break;
	}
	if (a == NULL) {
		p->t = NULL;
		p->neg = NULL;
		p->rcode = RCODE_REFUSED;
		p->aa = false;
		return;
	}
	size_t sfx = q->qlen - off;
	if (a->flags & ZA_CUT) {
		p->t = zans_tmpl(a, a->dflt);
		p->neg = NULL;
		p->rcode = p->t ? p->t->rcode : RCODE_NOERROR;
		p->aa = p->t ? (p->t->flags & ZT_AA) != 0 : false;
		p->mode = MODE_SUFFIX;
		p->delta = off;
		return;
	}
	if (sfx + 2 <= DNAME_MAX) {
		uint8_t w[DNAME_MAX];
		w[0] = 1;
		w[1] = '*';
		memcpy(w + 2, q->lname + off, sfx);
		const struct zans *wa = zonedb_find(db, w, sfx + 2);
		if (wa != NULL && !(wa->flags & ZA_CUT)) {
			pick_tmpl(p, wa, q->qtype);
			p->mode = MODE_WILD;
			p->delta = q->qlen - (sfx + 2);
			return;
		}
	}
	p->t = NULL;
	p->neg = a->zone;
	p->rcode = RCODE_NXDOMAIN;
	p->aa = true;
}

/* Is apex (lowercase, alen bytes) a label-aligned suffix of the QNAME? */
static bool
apex_in_qname(const struct packet_query *q, const uint8_t *apex, size_t alen,
              size_t *off)
{
	if (alen > q->qlen)
		return false;
	*off = q->qlen - alen;
	if (*off + 1 != q->qlen) {
		bool aligned = false;
		for (unsigned i = 0; i < q->nlabels && !aligned; i++)
			aligned = (size_t)q->labels[i] == *off;
		if (!aligned)
			return false;
	}
	return memcmp(q->lname + *off, apex, alen) == 0;
}

static size_t
tail_size(const struct packet_query *q, const struct ztail *tl)
{
	size_t off;
	if (tl == NULL)
		return 0;
	if (apex_in_qname(q, ztail_apex(tl), tl->apexlen, &off))
		return 2 + tl->restlen;
	return (size_t)tl->apexlen + tl->restlen;
}

/* Appends the negative-answer SOA at pos; returns the new end or 0. */
static size_t
put_tail(const struct packet_query *q, const struct ztail *tl, uint8_t *out,
         size_t pos)
{
	size_t off, owner;

	if (apex_in_qname(q, ztail_apex(tl), tl->apexlen, &off)) {
		owner = PKT_HDR + off;
		pkt_put16(out + pos, (uint16_t)(0xC000 | owner));
		pos += 2;
	} else {
		owner = pos;
		if (owner >= 0x3FFF)
			return 0;
		memcpy(out + pos, ztail_apex(tl), tl->apexlen);
		pos += tl->apexlen;
	}
	memcpy(out + pos, ztail_rest(tl), tl->restlen);
	const uint16_t *fix = ztail_fix(tl);
	for (unsigned i = 0; i < tl->nfix; i++)
		pkt_put16(out + pos + fix[i], (uint16_t)(0xC000 | owner));
	return pos + tl->restlen;
}

/* The COOKIE option of a reply: the client cookie echoed, then ours. */
struct reply_cookie {
	bool on;
	uint8_t data[COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN];
};

#define COOKIE_OPT_LEN (4 + COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN)

/* Bytes of the reply's OPT record, options included; 0 without EDNS. */
static size_t
opt_size(const struct packet_query *q, const struct reply_cookie *ck)
{
	if (!q->edns)
		return 0;
	return PKT_OPT_LEN + (ck->on ? COOKIE_OPT_LEN : 0);
}

static size_t
put_opt(const struct packet_query *q, const struct reply_cookie *ck,
        uint8_t *out, size_t pos, uint16_t rcode)
{
	out[pos] = 0; /* root */
	pkt_put16(out + pos + 1, RR_OPT);
	pkt_put16(out + pos + 3, PKT_EDNS_MAX);
	out[pos + 5] = (uint8_t)(rcode >> 4); /* extended rcode */
	out[pos + 6] = 0;                     /* version */
	pkt_put16(out + pos + 7, q->edns_flags);
	pkt_put16(out + pos + 9, ck->on ? COOKIE_OPT_LEN : 0);
	pos += PKT_OPT_LEN;
	if (ck->on) {
		pkt_put16(out + pos, PKT_OPT_COOKIE);
		pkt_put16(out + pos + 2, sizeof(ck->data));
		memcpy(out + pos + 4, ck->data, sizeof(ck->data));
		pos += COOKIE_OPT_LEN;
	}
	return pos;
}

static void
put_header(const struct packet_query *q, uint8_t *out, uint16_t rcode, bool aa,
           bool tc, unsigned an, unsigned ns, unsigned ar)
{
	uint16_t f = PKT_FLAG_QR | (uint16_t)(q->opcode << 11) |
	             (q->flags & (PKT_FLAG_RD | PKT_FLAG_CD)) | (rcode & 0xF);
	if (aa)
		f |= PKT_FLAG_AA;
	if (tc)
		f |= PKT_FLAG_TC;
	pkt_put16(out, q->id);
	pkt_put16(out + 2, f);
	pkt_put16(out + 4, q->has_question ? 1 : 0);
	pkt_put16(out + 6, (uint16_t)an);
	pkt_put16(out + 8, (uint16_t)ns);
	pkt_put16(out + 10, (uint16_t)(ar + (q->edns ? 1 : 0)));
}

/* Header, question and OPT only: errors, and truncated answers. */
static size_t
put_short(const struct packet_query *q, const struct reply_cookie *ck,
          const uint8_t *pkt, uint8_t *out, uint16_t rcode, bool aa, bool tc)
{
	size_t pos = PKT_HDR;

	put_header(q, out, rcode, aa, tc, 0, 0, 0);
	if (q->has_question) {
		memcpy(out + pos, pkt + PKT_HDR, q->qsize);
		pos += q->qsize;
	}
	if (q->edns)
		pos = put_opt(q, ck, out, pos, rcode);
	return pos;
}

/*
 * The reply's cookie, and whether the query is exempt from rate limiting
 * (it brought a valid server cookie: its source address is not spoofed).
 */
static void
query_cookie(const struct packet_query *q, const struct query_client *cl,
             struct reply_cookie *ck, struct query_result *res)
{
	ck->on = false;
	if (cl == NULL || cl->cookies == NULL || !q->edns || q->cookie_len == 0)
		return;
	memcpy(ck->data, q->cookie, COOKIE_CLIENT_LEN);
	res->cookie = (uint8_t)cookie_answer(cl->cookies, q->cookie,
	                                     q->cookie_len, cl->addr, cl->now_s,
	                                     ck->data + COOKIE_CLIENT_LEN);
	ck->on = true;
}

int
query_process(const struct zonedb *db, const uint8_t *pkt, size_t len,
              int transport, const struct query_client *cl, uint8_t *out,
              size_t cap, struct query_result *res)
{
	struct packet_query q;
	struct reply_cookie ck;
	struct pick p;
	int ret = QUERY_SEND;

	res->rrl = RRL_PASS;
	res->cookie = COOKIE_NONE;
	if (cap < QUERY_OUT_MIN || packet_parse_query(pkt, len, &q) < 0)
		return QUERY_DROP;
	query_cookie(&q, cl, &ck, res);
	res->tc = false;
	res->aa = false;
	res->rcode = q.rcode;
	if (transport == QUERY_UDP && cl != NULL && cl->rrl != NULL &&
	    res->cookie != COOKIE_VALID) {
		/* Decided before any work: a limited query costs little. */
		res->rrl = (uint8_t)rrl_check(cl->rrl, cl->addr, cl->now_ms);
		if (res->rrl == RRL_DROP)
			return QUERY_DROP;
		if (res->rrl == RRL_SLIP) {
			res->tc = true;
			res->len =
			    put_short(&q, &ck, pkt, out, q.rcode, false, true);
			return QUERY_SEND;
		}
	}
	size_t limit = transport == QUERY_TCP ? 65535
	               : q.edns               ? q.udp_size
	                                      : PKT_EDNS_MIN;
	if (limit > cap)
		limit = cap;
	size_t optlen = opt_size(&q, &ck);
	if (q.rcode == 0 && (q.qtype == RR_AXFR || q.qtype == RR_IXFR)) {
		/* Transfers need TCP (RFC 5936 4.2). */
		q.rcode =
		    transport == QUERY_TCP ? RCODE_REFUSED : RCODE_FORMERR;
		ret = transport == QUERY_TCP ? QUERY_XFR : QUERY_SEND;
	}
	res->rcode = q.rcode;
	if (q.rcode != 0) {
		res->len = put_short(&q, &ck, pkt, out, q.rcode, false, false);
		return ret;
	}

	lookup(db, &q, &p);
	const struct ztmpl *t = p.t;
	const struct ztail *tl = p.neg ? zzone_tail(p.neg) : NULL;
	size_t body = t ? t->len : 0;
	unsigned an = t ? t->an : 0, ns = t ? t->ns : 0, ar = t ? t->ar : 0;
	size_t base = PKT_HDR + q.qsize;
	size_t tlen = tail_size(&q, tl);
	res->rcode = p.rcode;
	res->aa = p.aa;
	if (base + body + tlen + optlen > limit && t != NULL &&
	    t->addl < t->len && !(t->flags & ZT_GLUE)) {
		body = t->addl; /* RFC 2181 9: additional data is optional */
		ar = 0;
	}
	if (base + body + tlen + optlen > limit) {
		res->tc = true;
		res->len = put_short(&q, &ck, pkt, out, p.rcode, p.aa, true);
		return ret;
	}

	memcpy(out + PKT_HDR, pkt + PKT_HDR, q.qsize);
	if (body > 0) {
		memcpy(out + base, ztmpl_body(t), body);
		if (p.delta != 0) {
			const uint16_t *fix = ztmpl_fix(t);
			for (unsigned i = 0; i < t->nfix; i++) {
				if (fix[i] >= body)
					continue;
				uint8_t *ptr = out + base + fix[i];
				size_t v = pkt_u16(ptr) & 0x3FFF;
				if (p.mode == MODE_WILD && v == PKT_HDR)
					continue;
				pkt_put16(ptr,
				          (uint16_t)(0xC000 | (v + p.delta)));
			}
		}
	}
	size_t pos = base + body;
	if (tl != NULL) {
		pos = put_tail(&q, tl, out, pos);
		if (pos == 0) {
			res->rcode = RCODE_SERVFAIL;
			res->len = put_short(&q, &ck, pkt, out, RCODE_SERVFAIL,
			                     false, false);
			return ret;
		}
		ns++;
	}
	put_header(&q, out, p.rcode, p.aa, false, an, ns, ar);
	if (q.edns)
		pos = put_opt(&q, &ck, out, pos, p.rcode);
	res->len = pos;
	return ret;
}
