/* Prepared answers: what each name answers, computed when data changes (RFC
 * 1034 4.3.2). */
#include "answer.h"

#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "rdata.h"
#include "wirebuf.h"

#define NONE SIZE_MAX /* no template: NODATA */

enum { RES_NODE, RES_CUT, RES_WILD, RES_NX, RES_OUT };

struct res {
	int kind;
	struct znode *node; /* RES_NODE, RES_WILD: the data; RES_CUT: the cut */
	struct zzone *zone;
};

struct entry {
	uint16_t type;
	size_t off; /* in scratch, or NONE */
};

/* One CNAME of a chain: owner NULL is the question name. */
struct link {
	const uint8_t *owner;
	size_t olen;
	uint32_t ttl;
	const uint8_t *rd;
	uint16_t rdlen;
};

struct answer_builder {
	struct wbuf wb;
	uint8_t *scratch; /* owned: templates being built, 8-aligned */
	size_t slen;
	size_t scap;
	struct entry *ent; /* owned */
	size_t nent;
	size_t entcap;
	struct zrrset *sets; /* owned */
	size_t setcap;
	struct zonedb *db;  /* borrowed, during a build */
	struct znode *self; /* borrowed: node being built */
	struct link chain[ANSWER_MAX_CHAIN];
	size_t nchain;
};

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL)
		abort();
	return p;
}

struct answer_builder *
answer_builder_new(void)
{
	struct answer_builder *ab = calloc(1, sizeof(*ab));

	if (ab == NULL)
		abort();
	wbuf_init(&ab->wb);
	return ab;
}

void
answer_builder_free(struct answer_builder *ab)
{
	if (ab == NULL)
		return;
	wbuf_close(&ab->wb);
	free(ab->scratch);
	free(ab->ent);
	free(ab->sets);
	free(ab);
}

void
answer_free(struct zans *a)
{
	free(a);
}

/* ---- templates ---- */

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/*
 * Turns the message in wb into a template appended to scratch; returns its
 * offset there. addl: wb offset where the additional section starts.
 */
static size_t
emit(struct answer_builder *ab, uint8_t rcode, uint8_t flags, unsigned an,
     unsigned ns, unsigned ar, size_t addl, const struct zzone *neg)
{
	struct wbuf *wb = &ab->wb;
	size_t len = wbuf_body_len(wb);
	size_t body_addl = addl - wb->qend;
	size_t nfix = 0;

	if (len > WBUF_BODY_MAX && body_addl < len && !(flags & ZT_GLUE)) {
		len = body_addl; /* drop the additional section */
		ar = 0;
	}
	if (len > WBUF_BODY_MAX || an > 0xFFFF || ns > 0xFFFF) {
		/* An RRset too large for any message: SERVFAIL. */
		len = 0;
		an = ns = ar = 0;
		rcode = 2;
		flags = 0;
		neg = NULL;
	}
	body_addl = body_addl < len ? body_addl : len;
	for (size_t i = 0; i < wb->nfix; i++)
		if (wb->fix[i] < wb->qend + len)
			nfix++;
	size_t size = align8(sizeof(struct ztmpl) + 2 * nfix + len);
	if (ab->slen + size > ab->scap) {
		size_t cap = ab->scap ? ab->scap : 1024;
		while (cap < ab->slen + size)
			cap *= 2;
		ab->scratch = xrealloc(ab->scratch, cap);
		ab->scap = cap;
	}
	size_t off = ab->slen;
	struct ztmpl *t = (struct ztmpl *)(void *)(ab->scratch + off);
	memset(t, 0, size);
	t->neg = neg;
	t->len = (uint16_t)len;
	t->addl = (uint16_t)body_addl;
	t->an = (uint16_t)an;
	t->ns = (uint16_t)ns;
	t->ar = (uint16_t)ar;
	t->nfix = (uint16_t)nfix;
	t->rcode = rcode;
	t->flags = flags;
	uint16_t *fix = (uint16_t *)(t + 1);
	size_t k = 0;
	for (size_t i = 0; i < wb->nfix; i++)
		if (wb->fix[i] < wb->qend + len)
			fix[k++] = (uint16_t)(wb->fix[i] - wb->qend);
	memcpy((uint8_t *)(fix + nfix), wb->buf + wb->qend, len);
	ab->slen += size;
	return off;
}

static void
add_entry(struct answer_builder *ab, uint16_t type, size_t off)
{
	for (size_t i = 0; i < ab->nent; i++) {
		if (ab->ent[i].type == type) {
			ab->ent[i].off = off;
			return;
		}
	}
	if (ab->nent == ab->entcap) {
		ab->entcap = ab->entcap ? ab->entcap * 2 : 16;
		ab->ent = xrealloc(ab->ent, ab->entcap * sizeof(*ab->ent));
	}
	ab->ent[ab->nent].type = type;
	ab->ent[ab->nent].off = off;
	ab->nent++;
}

/* Writes every record of s with owner (NULL: the question). */
static unsigned
put_rrset(struct answer_builder *ab, const uint8_t *owner, size_t olen,
          const struct zrrset *s)
{
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t rdlen;

	while (zrrset_next(s, &pos, &rd, &rdlen))
		wbuf_put_rr(&ab->wb, owner, olen, s->type, s->ttl, rd, rdlen);
	return s->count;
}

/*
 * Additional-section addresses for the hosts named by an NS, MX or SRV
 * rrset, taken from zone z. glue: also from below zone cuts (NS only).
 */
static unsigned
put_additional(struct answer_builder *ab, const struct zrrset *s,
               const struct zzone *z, bool glue)
{
	uint64_t seen[32];
	size_t nseen = 0, pos = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	unsigned ar = 0;

	while (zrrset_next(s, &pos, &rd, &rdlen)) {
		size_t off;
		uint8_t lname[DNAME_MAX];
		int len = rdata_target(s->type, rd, rdlen, &off);
		if (len <= 0)
			continue;
		dname_lower(lname, rd + off, (size_t)len);
		uint64_t h = dname_hash(lname, (size_t)len);
		bool dup = false;
		for (size_t i = 0; i < nseen; i++)
			dup |= seen[i] == h;
		if (dup)
			continue;
		if (nseen < 32)
			seen[nseen++] = h;
		zonedb_depend(ab->db, ab->self, lname, (size_t)len);
		struct znode *t = zonedb_node(ab->db, lname, (size_t)len);
		if (t == NULL || znode_zone(t) != z)
			continue;
		struct znode *cut = znode_cut(t, z);
		if (cut != NULL && !glue)
			continue;
		static const uint16_t types[2] = { RR_A, RR_AAAA };
		for (int i = 0; i < 2; i++) {
			struct zrrset x;
			if (znode_rrset(t, z, types[i], &x))
				ar += put_rrset(ab, rd + off, (size_t)len, &x);
		}
	}
	return ar;
}

static bool
wants_additional(uint16_t type)
{
	return type == RR_NS || type == RR_MX || type == RR_SRV;
}

static bool
is_wild(const struct znode *n)
{
	size_t len;
	const uint8_t *name = znode_name(n, &len);
	return name[0] == 1 && name[1] == '*';
}

static void
begin(struct answer_builder *ab, const struct znode *n)
{
	size_t len;
	const uint8_t *name = znode_name(n, &len);
	wbuf_begin(&ab->wb, name, len, is_wild(n));
}

/* A positive answer: rrset s of zone z at the question name. */
static size_t
tmpl_positive(struct answer_builder *ab, const struct zrrset *s,
              const struct zzone *z)
{
	unsigned an = put_rrset(ab, NULL, 0, s), ar = 0;
	size_t addl = ab->wb.len;

	if (wants_additional(s->type))
		ar = put_additional(ab, s, z, s->type == RR_NS);
	return emit(ab, 0, ZT_AA, an, 0, ar, addl, NULL);
}

/* Authority NS and glue of cut, owner written as name (NULL: question). */
static void
put_referral(struct answer_builder *ab, const uint8_t *owner, size_t olen,
             const struct znode *cut, const struct zzone *z, unsigned *ns,
             unsigned *ar, size_t *addl)
{
	struct zrrset nsset;

	*ns = 0;
	*ar = 0;
	*addl = ab->wb.len;
	if (!znode_rrset(cut, z, RR_NS, &nsset))
		return;
	*ns = put_rrset(ab, owner, olen, &nsset);
	*addl = ab->wb.len;
	*ar = put_additional(ab, &nsset, z, true);
}

/* ---- resolution of a name inside our zones (for CNAME chasing) ---- */

static int
resolve(struct answer_builder *ab, const uint8_t *name, size_t len,
        struct res *r)
{
	uint8_t lname[DNAME_MAX];
	const uint8_t *p = lname;
	size_t l = len;
	bool exact = true;

	dname_lower(lname, name, len);
	for (;;) {
		zonedb_depend(ab->db, ab->self, p, l);
		struct znode *n = zonedb_node(ab->db, p, l);
		if (n != NULL) {
			struct zzone *z = znode_zone(n);
			if (z == NULL)
				return RES_OUT;
			r->zone = z;
			r->node = znode_cut(n, z);
			if (r->node != NULL)
				return RES_CUT;
			r->node = n;
			if (exact)
				return RES_NODE;
			if (l + 2 > DNAME_MAX)
				return RES_NX;
			uint8_t w[DNAME_MAX];
			w[0] = 1;
			w[1] = '*';
			memcpy(w + 2, p, l);
			zonedb_depend(ab->db, ab->self, w, l + 2);
			struct znode *wn = zonedb_node(ab->db, w, l + 2);
			if (wn == NULL || znode_cut(wn, z) != NULL)
				return RES_NX;
			r->node = wn;
			return RES_WILD;
		}
		if (l <= 1)
			return RES_OUT;
		size_t off = dname_parent_off(p);
		p += off;
		l -= off;
		exact = false;
	}
}

static size_t
rrsets_all(struct answer_builder *ab, const struct znode *n,
           const struct zzone *z)
{
	for (;;) {
		size_t k = znode_rrsets(n, z, ab->sets, ab->setcap);
		if (k < ab->setcap)
			return k;
		ab->setcap = ab->setcap ? ab->setcap * 2 : 16;
		ab->sets = xrealloc(ab->sets, ab->setcap * sizeof(*ab->sets));
	}
}

/* Writes the CNAME chain collected in ab->chain into a new message. */
static void
put_chain(struct answer_builder *ab)
{
	begin(ab, ab->self);
	for (size_t i = 0; i < ab->nchain; i++) {
		struct link *k = &ab->chain[i];
		wbuf_put_rr(&ab->wb, k->owner, k->olen, RR_CNAME, k->ttl, k->rd,
		            k->rdlen);
	}
}

static bool
chain_push(struct answer_builder *ab, const uint8_t *owner, size_t olen,
           const struct zrrset *cn)
{
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	size_t selflen;
	const uint8_t *self = znode_name(ab->self, &selflen);

	if (ab->nchain == ANSWER_MAX_CHAIN)
		return false;
	/* A name seen before means a loop. */
	if (owner != NULL) {
		if (dname_equal(owner, olen, self, selflen))
			return false;
		for (size_t i = 1; i < ab->nchain; i++)
			if (dname_equal(owner, olen, ab->chain[i].owner,
			                ab->chain[i].olen))
				return false;
	}
	/*
	 * A CNAME RRset should hold one record; if it holds more, follow the
	 * smallest so that the answer does not depend on insertion order.
	 */
	const uint8_t *best = NULL, *x;
	uint16_t bestlen = 0, xlen;
	while (zrrset_next(cn, &pos, &x, &xlen)) {
		int c = best ? memcmp(x, best, xlen < bestlen ? xlen : bestlen)
		             : -1;
		if (c < 0 || (c == 0 && xlen < bestlen)) {
			best = x;
			bestlen = xlen;
		}
	}
	rd = best;
	rdlen = bestlen;
	if (rd == NULL || dname_wire_len(rd, rdlen) != (int)rdlen)
		return false;
	ab->chain[ab->nchain++] =
	    (struct link){ owner, olen, cn->ttl, rd, rdlen };
	return true;
}

/* Answers of a CNAME node: chase the chain inside our zones. */
static void
build_cname(struct answer_builder *ab, struct znode *n, struct zzone *z,
            const struct zrrset *cn, size_t *dflt)
{
	struct res r = { 0 };
	int kind = RES_OUT;
	unsigned an, ns, ar;
	size_t addl;

	/* QTYPE CNAME (and ANY): the CNAME alone. */
	ab->nchain = 0;
	if (!chain_push(ab, NULL, 0, cn)) {
		*dflt = NONE;
		return;
	}
	put_chain(ab);
	add_entry(ab, RR_CNAME, emit(ab, 0, ZT_AA, 1, 0, 0, ab->wb.len, NULL));

	for (;;) {
		struct link *last = &ab->chain[ab->nchain - 1];
		struct zrrset next;
		kind = resolve(ab, last->rd, last->rdlen, &r);
		if ((kind != RES_NODE && kind != RES_WILD) ||
		    !znode_rrset(r.node, r.zone, RR_CNAME, &next))
			break;
		if (!chain_push(ab, last->rd, last->rdlen, &next)) {
			kind = RES_OUT; /* loop or too long: stop here */
			break;
		}
	}
	const struct link *last = &ab->chain[ab->nchain - 1];
	an = (unsigned)ab->nchain;
	switch (kind) {
	case RES_NODE:
	case RES_WILD: {
		size_t nsets = rrsets_all(ab, r.node, r.zone);
		for (size_t i = 0; i < nsets; i++) {
			const struct zrrset *s = &ab->sets[i];
			put_chain(ab);
			unsigned cnt = put_rrset(ab, last->rd, last->rdlen, s);
			addl = ab->wb.len;
			ar = wants_additional(s->type)
			         ? put_additional(ab, s, r.zone,
			                          s->type == RR_NS)
			         : 0;
			add_entry(
			    ab, s->type,
			    emit(ab, 0, ZT_AA, an + cnt, 0, ar, addl, NULL));
		}
		put_chain(ab);
		*dflt = emit(ab, 0, ZT_AA, an, 0, 0, ab->wb.len, r.zone);
		break;
	}
	case RES_CUT: {
		size_t clen;
		const uint8_t *cname = znode_name(r.node, &clen);
		put_chain(ab);
		put_referral(ab, cname, clen, r.node, r.zone, &ns, &ar, &addl);
		*dflt = emit(ab, 0, ZT_AA | ZT_GLUE, an, ns, ar, addl, NULL);
		break;
	}
	case RES_NX:
		put_chain(ab);
		*dflt = emit(ab, 3, ZT_AA, an, 0, 0, ab->wb.len, r.zone);
		break;
	default: /* outside our zones, loop, too long */
		put_chain(ab);
		*dflt = emit(ab, 0, ZT_AA, an, 0, 0, ab->wb.len, NULL);
		break;
	}
	(void)n;
	(void)z;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	return (int)x->type - (int)y->type;
}

/* Packs the entries and scratch templates into one zans blob. */
static struct zans *
pack(struct answer_builder *ab, const struct zzone *z, uint16_t flags,
     size_t dflt, size_t any)
{
	size_t nt = ab->nent;
	size_t types_sz = (2 * nt + 3) & ~(size_t)3;
	size_t start = align8(sizeof(struct zans) + types_sz + 4 * nt);
	size_t size = start + ab->slen;
	struct zans *a;

	if (nt > 0)
		qsort(ab->ent, nt, sizeof(*ab->ent), cmp_entry);
	a = calloc(1, size);
	if (a == NULL)
		abort();
	a->zone = z;
	a->flags = flags;
	a->ntypes = (uint16_t)nt;
	a->size = (uint32_t)size;
	a->dflt = dflt == NONE ? 0 : (uint32_t)(start + dflt);
	a->any = any == NONE ? 0 : (uint32_t)(start + any);
	uint16_t *types = (uint16_t *)(a + 1);
	uint32_t *offs = (uint32_t *)(void *)((uint8_t *)types + types_sz);
	for (size_t i = 0; i < nt; i++) {
		types[i] = ab->ent[i].type;
		offs[i] = ab->ent[i].off == NONE
		              ? 0
		              : (uint32_t)(start + ab->ent[i].off);
	}
	memcpy((uint8_t *)a + start, ab->scratch, ab->slen);
	return a;
}

struct zans *
answer_build(struct answer_builder *ab, struct zonedb *db, struct znode *n)
{
	struct zzone *z = znode_zone(n);
	struct znode *cut;
	struct zrrset s;
	size_t dflt = NONE, any = NONE;
	uint16_t flags = 0;

	if (z == NULL)
		return NULL;
	cut = znode_cut(n, z);
	if (cut != NULL && cut != n)
		return NULL; /* below a zone cut: the cut answers */
	ab->db = db;
	ab->self = n;
	ab->slen = 0;
	ab->nent = 0;

	if (cut == n) {
		unsigned ns, ar;
		size_t addl;
		flags |= ZA_CUT;
		begin(ab, n);
		put_referral(ab, NULL, 0, n, z, &ns, &ar, &addl);
		dflt = emit(ab, 0, ZT_GLUE, 0, ns, ar, addl, NULL);
		any = dflt;
		/* The parent answers DS at the delegation point. */
		if (znode_rrset(n, z, RR_DS, &s)) {
			begin(ab, n);
			add_entry(ab, RR_DS, tmpl_positive(ab, &s, z));
		} else {
			add_entry(ab, RR_DS, NONE);
		}
	} else if (znode_rrset(n, z, RR_CNAME, &s)) {
		build_cname(ab, n, z, &s, &dflt);
		any = ab->nent > 0 ? ab->ent[0].off : NONE;
	} else {
		size_t nsets = rrsets_all(ab, n, z);
		struct zzone *parent = NULL;
		if (znode_apex_of(n) == z && znode_parent(n) != NULL)
			parent = znode_zone(znode_parent(n));
		for (size_t i = 0; i < nsets; i++) {
			if (parent != NULL && ab->sets[i].type == RR_DS)
				continue;
			begin(ab, n);
			add_entry(ab, ab->sets[i].type,
			          tmpl_positive(ab, &ab->sets[i], z));
		}
		if (parent != NULL) {
			/* DS at a zone apex is the parent zone's data. */
			begin(ab, n);
			if (znode_rrset(n, parent, RR_DS, &s))
				add_entry(ab, RR_DS,
				          tmpl_positive(ab, &s, parent));
			else
				add_entry(ab, RR_DS,
				          emit(ab, 0, ZT_AA, 0, 0, 0,
				               ab->wb.len, parent));
		}
		/* RFC 8482: ANY gets the RRset of the lowest type. */
		unsigned best = 0x10000;
		for (size_t i = 0; i < ab->nent; i++) {
			if (ab->ent[i].type < best) {
				best = ab->ent[i].type;
				any = ab->ent[i].off;
			}
		}
	}
	return pack(ab, z, flags, dflt, any);
}

/* ---- negative answers ---- */

/* Writes a name, ending in a pointer to the apex when below it. */
static size_t
tail_name(uint8_t *out, size_t pos, const uint8_t *name, size_t len,
          const uint8_t *apex, size_t alen, uint16_t *fix, size_t *nfix)
{
	uint8_t lname[DNAME_MAX];
	size_t i = 0;

	dname_lower(lname, name, len);
	if (!dname_is_below(lname, len, apex, alen)) {
		memcpy(out + pos, name, len);
		return pos + len;
	}
	while (len - i > alen) {
		memcpy(out + pos, name + i, (size_t)name[i] + 1);
		pos += (size_t)name[i] + 1;
		i += (size_t)name[i] + 1;
	}
	fix[(*nfix)++] = (uint16_t)pos;
	out[pos] = 0xC0;
	out[pos + 1] = 0;
	return pos + 2;
}

struct ztail *
answer_tail(const struct zzone *z)
{
	struct zrrset soa;
	size_t pos = 0, alen;
	const uint8_t *rd;
	uint16_t rdlen;
	uint8_t rest[10 + 2 * DNAME_MAX + 20];
	uint16_t fix[2];
	size_t nfix = 0;
	const uint8_t *apex = znode_name(z->apex, &alen);

	if (!znode_rrset(z->apex, z, RR_SOA, &soa) ||
	    !zrrset_next(&soa, &pos, &rd, &rdlen))
		return NULL;
	int m = dname_wire_len(rd, rdlen);
	if (m < 0)
		return NULL;
	int r = dname_wire_len(rd + m, rdlen - (size_t)m);
	if (r < 0 || (size_t)(m + r + 20) != rdlen)
		return NULL;
	const uint8_t *fixed = rd + m + r;
	uint32_t minimum = (uint32_t)fixed[16] << 24 |
	                   (uint32_t)fixed[17] << 16 |
	                   (uint32_t)fixed[18] << 8 | fixed[19];
	uint32_t ttl = soa.ttl < minimum ? soa.ttl : minimum;
	size_t p = 0;
	rest[p++] = 0;
	rest[p++] = RR_SOA;
	rest[p++] = 0;
	rest[p++] = 1;
	rest[p++] = (uint8_t)(ttl >> 24);
	rest[p++] = (uint8_t)(ttl >> 16);
	rest[p++] = (uint8_t)(ttl >> 8);
	rest[p++] = (uint8_t)ttl;
	p += 2; /* rdlength */
	p = tail_name(rest, p, rd, (size_t)m, apex, alen, fix, &nfix);
	p = tail_name(rest, p, rd + m, (size_t)r, apex, alen, fix, &nfix);
	memcpy(rest + p, fixed, 20);
	p += 20;
	rest[8] = (uint8_t)((p - 10) >> 8);
	rest[9] = (uint8_t)(p - 10);

	size_t fixoff = (alen + 1) & ~(size_t)1;
	struct ztail *t = calloc(1, sizeof(*t) + fixoff + 2 * nfix + p);
	if (t == NULL)
		abort();
	t->restlen = (uint16_t)p;
	t->nfix = (uint16_t)nfix;
	t->apexlen = (uint8_t)alen;
	uint8_t *d = (uint8_t *)(t + 1);
	memcpy(d, apex, alen);
	memcpy(d + fixoff, fix, 2 * nfix);
	memcpy(d + fixoff + 2 * nfix, rest, p);
	return t;
}
