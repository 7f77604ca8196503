/* In-memory index of every zone: records per name, and answers prepared from
 * them. */
#include "zonedb.h"

#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "dname.h"
#include "err.h"
#include "rdata.h"

/* Node flags. */
enum {
	ZN_TOUCHED = 0x01, /* in db->touched: answers to recompute */
	ZN_SUBTREE = 0x02, /* every name at or below must be recomputed */
	ZN_DEAD = 0x04,    /* empty: removed by the commit */
};

/*
 * A name. Records live in one blob: rrsets, each a struct zrrhdr followed
 * by count x (u32 ttl, u16 rdlen, rdata), padded to 8 bytes.
 */
struct znode {
	struct znode *hnext;   /* hash chain */
	struct znode *parent;  /* NULL for the root */
	struct zans *ans;      /* owned: published answers, NULL = invisible */
	struct zzone *zone;    /* owned: the zone whose apex this is, or NULL */
	struct zdeplink *deps; /* owned: what our answers depend on */
	uint8_t *rr;           /* owned: record blob */
	uint32_t rrlen;
	uint32_t hash;
	uint32_t nchildren;
	uint8_t flags;
	uint8_t namelen;
	uint8_t name[]; /* lowercase wire */
};

struct zrrhdr {
	struct zzone *zone; /* borrowed */
	uint32_t len;       /* record bytes after the header */
	uint16_t type;
	uint16_t count;
};

/*
 * Dependencies: "the answers of node depend on the name with this hash".
 * Keyed by hash only: a collision costs a needless recomputation, nothing
 * else. Links are on two lists: the key's (to find dependents) and the
 * node's (to drop them when the node is recomputed or freed).
 */
struct zdepkey {
	struct zdepkey *hnext;
	uint64_t key;
	struct zdeplink *first;
};

struct zdeplink {
	struct zdepkey *k;
	struct znode *node;
	struct zdeplink *prev, *next; /* on the key's list */
	struct zdeplink *nnext;       /* on the node's list */
};

struct zonedb {
	struct znode **tab; /* owned, hash buckets */
	size_t mask;
	size_t count;
	struct zdepkey **dtab; /* owned */
	size_t dmask;
	size_t dcount;
	struct znode *root;
	struct znode **touched; /* owned array of borrowed nodes */
	size_t ntouched;
	size_t tcap;
	struct zzone *dirty; /* dirty zones */
	bool subtree;        /* some node has ZN_SUBTREE */
	size_t nrecords;
	size_t nzones;
	size_t last_touched;
	struct answer_builder *ab; /* owned */
	uint8_t *rdbuf;            /* owned: RDATA_MAX bytes of scratch */
};

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);
	if (p == NULL)
		abort();
	return p;
}

static void *
xcalloc(size_t n, size_t m)
{
	void *p = calloc(n, m);
	if (p == NULL)
		abort();
	return p;
}

/* ---- name index ---- */

static struct znode *
node_lookup(const struct zonedb *db, const uint8_t *name, size_t len,
            uint64_t h)
{
	struct znode *n = db->tab[h & db->mask];
	uint32_t h32 = (uint32_t)(h >> 32);

	for (; n != NULL; n = n->hnext)
		if (n->hash == h32 && n->namelen == len &&
		    memcmp(n->name, name, len) == 0)
			return n;
	return NULL;
}

struct znode *
zonedb_node(const struct zonedb *db, const uint8_t *name, size_t len)
{
	return node_lookup(db, name, len, dname_hash(name, len));
}

const struct zans *
zonedb_find(const struct zonedb *db, const uint8_t *name, size_t len)
{
	struct znode *n = zonedb_node(db, name, len);
	return n ? n->ans : NULL;
}

static void
tab_grow(struct zonedb *db)
{
	size_t nsize = (db->mask + 1) * 2;
	struct znode **nt = xcalloc(nsize, sizeof(*nt));

	for (size_t i = 0; i <= db->mask; i++) {
		struct znode *n = db->tab[i], *next;
		for (; n != NULL; n = next) {
			next = n->hnext;
			uint64_t h = dname_hash(n->name, n->namelen);
			n->hnext = nt[h & (nsize - 1)];
			nt[h & (nsize - 1)] = n;
		}
	}
	free(db->tab);
	db->tab = nt;
	db->mask = nsize - 1;
}

static void
touch(struct zonedb *db, struct znode *n)
{
	if (n->flags & ZN_TOUCHED)
		return;
	n->flags |= ZN_TOUCHED;
	if (db->ntouched == db->tcap) {
		db->tcap = db->tcap ? db->tcap * 2 : 256;
		db->touched =
		    realloc(db->touched, db->tcap * sizeof(*db->touched));
		if (db->touched == NULL)
			abort();
	}
	db->touched[db->ntouched++] = n;
}

static struct znode *
node_new(struct zonedb *db, const uint8_t *name, size_t len, uint64_t h,
         struct znode *parent)
{
	struct znode *n = xcalloc(1, sizeof(*n) + len);

	memcpy(n->name, name, len);
	n->namelen = (uint8_t)len;
	n->hash = (uint32_t)(h >> 32);
	n->parent = parent;
	if (parent != NULL)
		parent->nchildren++;
	n->hnext = db->tab[h & db->mask];
	db->tab[h & db->mask] = n;
	if (++db->count > db->mask + 1)
		tab_grow(db);
	touch(db, n);
	return n;
}

/* Finds or creates the node of a name, its missing ancestors included. */
static struct znode *
node_get(struct zonedb *db, const uint8_t *name, size_t len)
{
	uint64_t h = dname_hash(name, len);
	struct znode *n = node_lookup(db, name, len, h);
	struct znode *parent;

	if (n != NULL)
		return n;
	if (len == 1)
		return db->root;
	size_t off = dname_parent_off(name);
	parent = node_get(db, name + off, len - off);
	return node_new(db, name, len, h, parent);
}

static void
node_unlink(struct zonedb *db, struct znode *n)
{
	uint64_t h = dname_hash(n->name, n->namelen);
	struct znode **pp = &db->tab[h & db->mask];

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	db->count--;
}

const uint8_t *
znode_name(const struct znode *n, size_t *len)
{
	*len = n->namelen;
	return n->name;
}

struct znode *
znode_parent(const struct znode *n)
{
	return n->parent;
}

struct zzone *
znode_apex_of(const struct znode *n)
{
	return n->zone;
}

/* ---- records ---- */

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static uint32_t
rd_ttl(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint16_t
rd_len(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p + 4, 2);
	return v;
}

bool
zrrset_next(const struct zrrset *s, size_t *pos, const uint8_t **rd,
            uint16_t *rdlen)
{
	if (*pos >= s->len)
		return false;
	const uint8_t *p = s->data + *pos;
	*rdlen = rd_len(p);
	*rd = p + 6;
	*pos += 6 + (size_t)*rdlen;
	return true;
}

static void
rrset_fill(const struct zrrhdr *h, struct zrrset *out)
{
	const uint8_t *p = (const uint8_t *)(h + 1);
	uint32_t ttl = UINT32_MAX;

	out->type = h->type;
	out->count = h->count;
	out->data = p;
	out->len = h->len;
	for (size_t pos = 0; pos < h->len; pos += 6 + rd_len(p + pos)) {
		uint32_t t = rd_ttl(p + pos);
		if (t < ttl)
			ttl = t;
	}
	out->ttl = ttl;
}

#define RR_FOREACH(n, h)                                             \
	for (struct zrrhdr *h = (struct zrrhdr *)(void *)(n)->rr;    \
	     (n)->rr != NULL && (uint8_t *)h < (n)->rr + (n)->rrlen; \
	     h = (struct zrrhdr *)(void *)((uint8_t *)h +            \
	                                   align8(sizeof(*h) + h->len)))

static struct zrrhdr *
rrset_find(const struct znode *n, const struct zzone *z, uint16_t type)
{
	RR_FOREACH(n, h)
	{
		if (h->zone == z && h->type == type)
			return h;
	}
	return NULL;
}

bool
znode_rrset(const struct znode *n, const struct zzone *z, uint16_t type,
            struct zrrset *out)
{
	struct zrrhdr *h = rrset_find(n, z, type);

	if (h == NULL)
		return false;
	rrset_fill(h, out);
	return true;
}

size_t
znode_rrsets(const struct znode *n, const struct zzone *z, struct zrrset *out,
             size_t max)
{
	size_t k = 0;

	RR_FOREACH(n, h)
	{
		if (h->zone == z && k < max)
			rrset_fill(h, &out[k++]);
	}
	return k;
}

/* Finds a record in an rrset: offset in the blob of its entry, or -1. */
static long
rr_find(const struct znode *n, const struct zrrhdr *h, const uint8_t *rd,
        size_t rdlen)
{
	const uint8_t *p = (const uint8_t *)(h + 1);

	for (size_t pos = 0; pos < h->len; pos += 6 + rd_len(p + pos))
		if (rd_len(p + pos) == rdlen &&
		    memcmp(p + pos + 6, rd, rdlen) == 0)
			return (long)(p + pos - n->rr);
	return -1;
}

/* Inserts the record; returns false if it was already there. */
static bool
rr_insert(struct znode *n, struct zzone *z, uint16_t type, uint32_t ttl,
          const uint8_t *rd, size_t rdlen)
{
	struct zrrhdr *h = rrset_find(n, z, type);
	size_t add = 6 + rdlen;

	if (h != NULL) {
		long at = rr_find(n, h, rd, rdlen);
		if (at >= 0) {
			memcpy(n->rr + at, &ttl, 4);
			return false;
		}
		size_t hoff = (uint8_t *)h - n->rr;
		size_t oldsz = align8(sizeof(*h) + h->len);
		size_t newsz = align8(sizeof(*h) + h->len + add);
		size_t end = hoff + sizeof(*h) + h->len;
		if (newsz != oldsz) {
			n->rr = realloc(n->rr, n->rrlen + newsz - oldsz);
			if (n->rr == NULL)
				abort();
			memmove(n->rr + hoff + newsz, n->rr + hoff + oldsz,
			        n->rrlen - hoff - oldsz);
			n->rrlen += (uint32_t)(newsz - oldsz);
		}
		h = (struct zrrhdr *)(void *)(n->rr + hoff);
		uint8_t *p = n->rr + end;
		uint16_t l16 = (uint16_t)rdlen;
		memcpy(p, &ttl, 4);
		memcpy(p + 4, &l16, 2);
		memcpy(p + 6, rd, rdlen);
		h->len += (uint32_t)add;
		h->count++;
		return true;
	}
	size_t sz = align8(sizeof(*h) + add);
	n->rr = realloc(n->rr, n->rrlen + sz);
	if (n->rr == NULL)
		abort();
	h = (struct zrrhdr *)(void *)(n->rr + n->rrlen);
	memset(h, 0, sz);
	h->zone = z;
	h->type = type;
	h->count = 1;
	h->len = (uint32_t)add;
	uint8_t *p = (uint8_t *)(h + 1);
	uint16_t l16 = (uint16_t)rdlen;
	memcpy(p, &ttl, 4);
	memcpy(p + 4, &l16, 2);
	memcpy(p + 6, rd, rdlen);
	n->rrlen += (uint32_t)sz;
	return true;
}

/* Removes the record entry at blob offset at from rrset h. */
static void
rr_remove(struct znode *n, struct zrrhdr *h, size_t at)
{
	size_t hoff = (uint8_t *)h - n->rr;
	size_t oldsz = align8(sizeof(*h) + h->len);
	size_t del = 6 + rd_len(n->rr + at);

	if (h->count == 1) {
		memmove(n->rr + hoff, n->rr + hoff + oldsz,
		        n->rrlen - hoff - oldsz);
		n->rrlen -= (uint32_t)oldsz;
	} else {
		size_t end = hoff + sizeof(*h) + h->len;
		memmove(n->rr + at, n->rr + at + del, end - at - del);
		h->len -= (uint32_t)del;
		h->count--;
		size_t newsz = align8(sizeof(*h) + h->len);
		memmove(n->rr + hoff + newsz, n->rr + hoff + oldsz,
		        n->rrlen - hoff - oldsz);
		n->rrlen -= (uint32_t)(oldsz - newsz);
	}
	if (n->rrlen == 0) {
		free(n->rr);
		n->rr = NULL;
	}
}

/* ---- zones ---- */

static void
zone_dirty(struct zonedb *db, struct zzone *z)
{
	if (z->dirty)
		return;
	z->dirty = true;
	z->dnext = db->dirty;
	db->dirty = z;
}

static struct zzone *
zone_get(struct zonedb *db, const uint8_t *apex, size_t len, bool create)
{
	struct znode *n;

	if (!create) {
		n = zonedb_node(db, apex, len);
		return n ? n->zone : NULL;
	}
	n = node_get(db, apex, len);
	if (n->zone == NULL) {
		n->zone = xcalloc(1, sizeof(*n->zone));
		n->zone->apex = n;
		zone_dirty(db, n->zone);
	}
	return n->zone;
}

struct zzone *
znode_zone(const struct znode *n)
{
	for (; n != NULL; n = n->parent)
		if (n->zone != NULL && n->zone->live)
			return n->zone;
	return NULL;
}

struct znode *
znode_cut(const struct znode *n, const struct zzone *z)
{
	struct znode *cut = NULL;

	for (; n != NULL && n != z->apex; n = n->parent)
		if (rrset_find(n, z, RR_NS) != NULL)
			cut = (struct znode *)n;
	return cut;
}

/* ---- dependencies ---- */

static void
dep_unlink_all(struct zonedb *db, struct znode *n)
{
	struct zdeplink *l, *next;

	for (l = n->deps; l != NULL; l = next) {
		next = l->nnext;
		struct zdepkey *k = l->k;
		if (l->prev)
			l->prev->next = l->next;
		else
			k->first = l->next;
		if (l->next)
			l->next->prev = l->prev;
		if (k->first == NULL) {
			struct zdepkey **pp = &db->dtab[k->key & db->dmask];
			while (*pp != k)
				pp = &(*pp)->hnext;
			*pp = k->hnext;
			db->dcount--;
			free(k);
		}
		free(l);
	}
	n->deps = NULL;
}

static struct zdepkey *
dep_key(const struct zonedb *db, uint64_t key)
{
	struct zdepkey *k = db->dtab[key & db->dmask];

	while (k != NULL && k->key != key)
		k = k->hnext;
	return k;
}

void
zonedb_depend(struct zonedb *db, struct znode *n, const uint8_t *name,
              size_t len)
{
	uint64_t key = dname_hash(name, len);
	struct zdepkey *k;
	struct zdeplink *l;

	for (l = n->deps; l != NULL; l = l->nnext)
		if (l->k->key == key)
			return;
	k = dep_key(db, key);
	if (k == NULL) {
		if (db->dcount >= db->dmask + 1) {
			size_t nsize = (db->dmask + 1) * 2;
			struct zdepkey **nt = xcalloc(nsize, sizeof(*nt));
			for (size_t i = 0; i <= db->dmask; i++) {
				struct zdepkey *x = db->dtab[i], *next;
				for (; x != NULL; x = next) {
					next = x->hnext;
					x->hnext = nt[x->key & (nsize - 1)];
					nt[x->key & (nsize - 1)] = x;
				}
			}
			free(db->dtab);
			db->dtab = nt;
			db->dmask = nsize - 1;
		}
		k = xcalloc(1, sizeof(*k));
		k->key = key;
		k->hnext = db->dtab[key & db->dmask];
		db->dtab[key & db->dmask] = k;
		db->dcount++;
	}
	l = xmalloc(sizeof(*l));
	l->k = k;
	l->node = n;
	l->prev = NULL;
	l->next = k->first;
	if (k->first)
		k->first->prev = l;
	k->first = l;
	l->nnext = n->deps;
	n->deps = l;
}

/* ---- public API ---- */

struct zonedb *
zonedb_new(void)
{
	struct zonedb *db = xcalloc(1, sizeof(*db));
	static const uint8_t root[1] = { 0 };

	db->mask = 1023;
	db->tab = xcalloc(db->mask + 1, sizeof(*db->tab));
	db->dmask = 255;
	db->dtab = xcalloc(db->dmask + 1, sizeof(*db->dtab));
	db->root = node_new(db, root, 1, dname_hash(root, 1), NULL);
	db->ab = answer_builder_new();
	db->rdbuf = xmalloc(RDATA_MAX);
	return db;
}

static void
node_free(struct zonedb *db, struct znode *n)
{
	dep_unlink_all(db, n);
	answer_free(n->ans);
	free(n->rr);
	if (n->zone != NULL) {
		free(n->zone->tail);
		free(n->zone);
	}
	free(n);
}

void
zonedb_free(struct zonedb *db)
{
	if (db == NULL)
		return;
	for (size_t i = 0; i <= db->mask; i++) {
		struct znode *n = db->tab[i], *next;
		for (; n != NULL; n = next) {
			next = n->hnext;
			node_free(db, n);
		}
	}
	free(db->tab);
	free(db->dtab);
	free(db->touched);
	answer_builder_free(db->ab);
	free(db->rdbuf);
	free(db);
}

/* Parses what add/del share; fills apex, owner and the rdata wire form. */
static int
parse_rr(const char *zone, const char *owner, const char *type,
         const char *rdata, uint8_t *apex, int *alen, uint8_t *own, int *olen,
         uint16_t *t, uint8_t *rd, int *rdlen)
{
	if (zone == NULL || owner == NULL)
		return DR_EINVAL;
	*alen = dname_from_str(zone, apex);
	*olen = dname_from_str(owner, own);
	if (*alen < 0 || *olen < 0)
		return DR_EINVAL;
	if (!dname_is_below(own, (size_t)*olen, apex, (size_t)*alen))
		return DR_EINVAL;
	if (rdata_type_from_str(type, t) < 0)
		return DR_EINVAL;
	*rdlen = rdata_from_str(*t, type, rdata, apex, rd);
	return *rdlen < 0 ? DR_EINVAL : 0;
}

/* Marks what a change of one record at n affects beyond n itself. */
static void
record_changed(struct zonedb *db, struct znode *n, struct zzone *z,
               uint16_t type)
{
	touch(db, n);
	if (type == RR_NS && n != z->apex) {
		n->flags |= ZN_SUBTREE; /* a zone cut appears or changes */
		db->subtree = true;
	}
	if (type == RR_SOA && n == z->apex)
		zone_dirty(db, z);
}

int
zonedb_add_record(struct zonedb *db, const char *zone, const char *owner,
                  const char *type, int64_t ttl, const char *rdata)
{
	uint8_t apex[DNAME_MAX], own[DNAME_MAX];
	uint8_t *rd = db->rdbuf;
	int alen, olen, rdlen, rv;
	uint16_t t;

	if (ttl < 0 || ttl > INT32_MAX)
		return DR_EINVAL;
	rv = parse_rr(zone, owner, type, rdata, apex, &alen, own, &olen, &t, rd,
	              &rdlen);
	if (rv < 0)
		return rv;
	struct zzone *z = zone_get(db, apex, (size_t)alen, true);
	struct znode *n = node_get(db, own, (size_t)olen);
	if (rr_insert(n, z, t, (uint32_t)ttl, rd, (size_t)rdlen)) {
		z->nrecords++;
		db->nrecords++;
		if (z->nrecords == 1)
			zone_dirty(db, z);
	}
	record_changed(db, n, z, t);
	return 0;
}

int
zonedb_del_record(struct zonedb *db, const char *zone, const char *owner,
                  const char *type, const char *rdata)
{
	uint8_t apex[DNAME_MAX], own[DNAME_MAX];
	uint8_t *rd = db->rdbuf;
	int alen, olen, rdlen, rv;
	uint16_t t;

	rv = parse_rr(zone, owner, type, rdata, apex, &alen, own, &olen, &t, rd,
	              &rdlen);
	if (rv < 0)
		return rv;
	struct zzone *z = zone_get(db, apex, (size_t)alen, false);
	struct znode *n = zonedb_node(db, own, (size_t)olen);
	if (z == NULL || n == NULL)
		return DR_ENOTFOUND;
	struct zrrhdr *h = rrset_find(n, z, t);
	long at = h ? rr_find(n, h, rd, (size_t)rdlen) : -1;
	if (at < 0)
		return DR_ENOTFOUND;
	rr_remove(n, h, (size_t)at);
	z->nrecords--;
	db->nrecords--;
	if (z->nrecords == 0)
		zone_dirty(db, z);
	record_changed(db, n, z, t);
	return 0;
}

int
zonedb_del_zone(struct zonedb *db, const char *zone)
{
	uint8_t apex[DNAME_MAX];
	int alen = dname_from_str(zone, apex);

	if (alen < 0)
		return DR_EINVAL;
	struct zzone *z = zone_get(db, apex, (size_t)alen, false);
	if (z == NULL || z->nrecords == 0)
		return DR_ENOTFOUND;
	/* Records of z are all at or below its apex: scan the index. */
	for (size_t i = 0; i <= db->mask; i++) {
		for (struct znode *n = db->tab[i]; n != NULL; n = n->hnext) {
			for (;;) {
				struct zrrhdr *found = NULL;
				RR_FOREACH(n, x)
				{
					if (x->zone == z) {
						found = x;
						break;
					}
				}
				if (found == NULL)
					break;
				uint16_t type = found->type;
				z->nrecords -= found->count;
				db->nrecords -= found->count;
				size_t off = (uint8_t *)found - n->rr;
				size_t sz = align8(sizeof(*found) + found->len);
				memmove(n->rr + off, n->rr + off + sz,
				        n->rrlen - off - sz);
				n->rrlen -= (uint32_t)sz;
				if (n->rrlen == 0) {
					free(n->rr);
					n->rr = NULL;
				}
				record_changed(db, n, z, type);
			}
		}
	}
	zone_dirty(db, z);
	return 0;
}

/* ---- commit ---- */

static bool
node_empty(const struct znode *n)
{
	return n->rrlen == 0 && n->nchildren == 0 && n->zone == NULL &&
	       n->parent != NULL;
}

/* Zones whose SOA or record count changed: liveness and negative SOA. */
static struct zzone *
commit_zones(struct zonedb *db)
{
	struct zzone *z, *next, *dead = NULL;

	for (z = db->dirty; z != NULL; z = next) {
		next = z->dnext;
		z->dirty = false;
		bool live =
		    z->nrecords > 0 && rrset_find(z->apex, z, RR_SOA) != NULL;
		if (live != z->live) {
			/* Every name below changes zone. */
			z->apex->flags |= ZN_SUBTREE;
			db->subtree = true;
			db->nzones += live ? 1 : -1;
		}
		z->live = live;
		touch(db, z->apex);
		if (z->nrecords == 0) {
			/* Freed once nothing published refers to it. */
			z->apex->zone = NULL;
			z->dnext = dead;
			dead = z;
		}
	}
	db->dirty = NULL;
	return dead;
}

/* Touches every name at or below a node flagged ZN_SUBTREE. */
static void
commit_subtrees(struct zonedb *db)
{
	if (!db->subtree)
		return;
	for (size_t i = 0; i <= db->mask; i++) {
		for (struct znode *n = db->tab[i]; n != NULL; n = n->hnext) {
			for (struct znode *a = n; a != NULL; a = a->parent) {
				if (a->flags & ZN_SUBTREE) {
					touch(db, n);
					break;
				}
			}
		}
	}
	db->subtree = false;
}

int
zonedb_commit(struct zonedb *db)
{
	struct zzone *dead = commit_zones(db), *z, *next;

	commit_subtrees(db);
	/*
	 * Close the touched set: names that became empty disappear (and so
	 * may their parents), and whatever depends on a touched name is
	 * touched too. The list grows while we walk it.
	 */
	for (size_t i = 0; i < db->ntouched; i++) {
		struct znode *n = db->touched[i];
		n->flags &= (uint8_t)~ZN_SUBTREE;
		struct zdepkey *k =
		    dep_key(db, dname_hash(n->name, n->namelen));
		for (struct zdeplink *l = k ? k->first : NULL; l != NULL;
		     l = l->next)
			touch(db, l->node);
		/* An empty name goes, and so do ancestors it leaves empty. */
		while (!(n->flags & ZN_DEAD) && node_empty(n)) {
			n->flags |= ZN_DEAD;
			touch(db, n);
			n = n->parent;
			n->nchildren--;
		}
	}
	for (size_t i = 0; i < db->ntouched; i++) {
		struct znode *n = db->touched[i];
		if (!(n->flags & ZN_DEAD))
			continue;
		node_unlink(db, n);
		node_free(db, n);
		db->touched[i] = NULL;
	}
	for (size_t i = 0; i < db->ntouched; i++) {
		struct znode *n = db->touched[i];
		if (n == NULL || n->zone == NULL || !(n->flags & ZN_TOUCHED))
			continue;
		/* Apexes are always touched when their zone is dirty. */
		free(n->zone->tail);
		n->zone->tail = n->zone->live ? answer_tail(n->zone) : NULL;
	}
	for (size_t i = 0; i < db->ntouched; i++) {
		struct znode *n = db->touched[i];
		if (n == NULL)
			continue;
		dep_unlink_all(db, n);
		struct zans *a = answer_build(db->ab, db, n);
		answer_free(n->ans);
		n->ans = a;
		n->flags &= (uint8_t)~ZN_TOUCHED;
	}
	for (z = dead; z != NULL; z = next) {
		next = z->dnext;
		free(z->tail);
		free(z);
	}
	db->last_touched = db->ntouched;
	db->ntouched = 0;
	if (db->tcap > 4096) {
		free(db->touched);
		db->touched = NULL;
		db->tcap = 0;
	}
	return 0;
}

void
zonedb_stats(const struct zonedb *db, struct zonedb_stats *st)
{
	st->zones = db->nzones;
	st->names = db->count;
	st->records = db->nrecords;
	st->touched = db->last_touched;
}
