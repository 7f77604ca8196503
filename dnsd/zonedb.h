/* In-memory index of every zone: records per name, and answers prepared from
 * them. */
#ifndef DNSD_ZONEDB_H
#define DNSD_ZONEDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Writers call zonedb_add_record / zonedb_del_record / zonedb_del_zone and
 * then zonedb_commit. Until the commit, lookups (zonedb_find) keep seeing
 * the answers of the previous commit exactly: new names stay invisible,
 * removed names stay visible with their old answers, and prepared answers
 * are immutable blobs replaced only by the commit. The commit recomputes
 * the answers of the names touched since the last one, plus every name
 * whose answers depend on them (CNAME chains, additional-section targets,
 * glue, wildcards, zone cuts, zone creation/removal).
 *
 * One thread owns a zonedb: run writers and queries on the same thread (a
 * commit between two queries), or build a fresh zonedb on another thread
 * and hand it over (built aside, then swapped).
 */

struct zonedb;
struct znode;
struct zzone;
struct zdeplink;

/* Flags of a prepared template. */
enum {
	ZT_AA = 0x01,   /* authoritative answer */
	ZT_GLUE = 0x02, /* referral: additional section may not be dropped */
};

/*
 * A prepared answer: the body of a response (the sections after the
 * question), built for template question name T. Layout in memory:
 *
 *   offset  size        field
 *   0       8           neg: zone whose SOA is appended to authority, or NULL
 *   8       2           len: body bytes
 *   10      2           addl: body offset of the additional section
 *   12      2 x 3       an, ns, ar: section counts (ns without the SOA)
 *   18      2           nfix: number of compression pointers in the body
 *   20      1           rcode
 *   21      1           flags (ZT_*)
 *   22      2           (padding)
 *   24      2 x nfix    body offsets of every compression pointer
 *   ...     len         body
 *
 * When the real question name is delta bytes longer than T, every pointer
 * is shifted by delta, except (for wildcard synthesis) pointers to offset
 * 12, which name the question itself.
 */
struct ztmpl {
	const struct zzone *neg; /* borrowed */
	uint16_t len;
	uint16_t addl;
	uint16_t an, ns, ar;
	uint16_t nfix;
	uint8_t rcode;
	uint8_t flags;
	uint16_t pad;
};
_Static_assert(sizeof(struct ztmpl) == 24, "ztmpl layout");

static inline const uint16_t *
ztmpl_fix(const struct ztmpl *t)
{
	return (const uint16_t *)(t + 1);
}

static inline const uint8_t *
ztmpl_body(const struct ztmpl *t)
{
	return (const uint8_t *)(t + 1) + 2 * (size_t)t->nfix;
}

/* Flags of a name's answers. */
enum {
	ZA_CUT =
	    0x01, /* delegation point: the default template is a referral */
};

/*
 * The published answers of one visible name, one immutable blob:
 *
 *   struct zans, then ntypes uint16 QTYPEs, padding to 4, ntypes uint32
 *   template offsets, padding to 8, then the templates (8-aligned).
 *
 * Offsets count from the start of the blob; 0 means "NODATA": NOERROR, AA,
 * the SOA of zone in authority.
 */
struct zans {
	const struct zzone *zone; /* borrowed: zone of negative answers */
	uint32_t dflt;            /* QTYPEs not listed */
	uint32_t any;             /* QTYPE ANY (RFC 8482: one RRset) */
	uint16_t flags;           /* ZA_* */
	uint16_t ntypes;
	uint32_t size; /* bytes of the blob */
};
_Static_assert(sizeof(struct zans) == 24, "zans layout");

/* The template for qtype (NULL = NODATA). */
static inline const struct ztmpl *
zans_lookup(const struct zans *a, uint16_t qtype)
{
	const uint16_t *types = (const uint16_t *)(a + 1);
	const uint32_t *offs =
	    (const uint32_t *)((const uint8_t *)types +
	                       ((2 * (size_t)a->ntypes + 3) & ~(size_t)3));
	uint32_t off = a->dflt;

	for (unsigned i = 0; i < a->ntypes; i++) {
		if (types[i] == qtype) {
			off = offs[i];
			break;
		}
	}
	return off ? (const struct ztmpl *)((const uint8_t *)a + off) : NULL;
}

static inline const struct ztmpl *
zans_tmpl(const struct zans *a, uint32_t off)
{
	return off ? (const struct ztmpl *)((const uint8_t *)a + off) : NULL;
}

/*
 * The SOA record of negative answers, built for owner name "the apex":
 *
 *   struct ztail, then the apex name (apexlen bytes), nfix uint16 offsets
 *   into rest, then rest (restlen bytes: TYPE CLASS TTL RDLENGTH RDATA,
 *   TTL = min(SOA TTL, SOA minimum) per RFC 2308).
 *
 * The owner is written either as a pointer to the apex inside the question
 * or in full; each offset in fix[] holds a pointer that must be set to
 * the owner's position (MNAME/RNAME below the apex).
 */
struct ztail {
	uint16_t restlen;
	uint16_t nfix;
	uint8_t apexlen;
	uint8_t pad[3];
};

static inline const uint8_t *
ztail_apex(const struct ztail *t)
{
	return (const uint8_t *)(t + 1);
}

static inline const uint16_t *
ztail_fix(const struct ztail *t)
{
	return (const uint16_t *)(const void *)((const uint8_t *)(t + 1) +
	                                        ((t->apexlen + 1) & ~1));
}

static inline const uint8_t *
ztail_rest(const struct ztail *t)
{
	return (const uint8_t *)(ztail_fix(t) + t->nfix);
}

struct zzone {
	struct znode *apex;  /* borrowed */
	struct ztail *tail;  /* owned: NULL while the zone has no SOA */
	uint64_t nrecords;   /* records tagged with this zone */
	bool live;           /* has records and an SOA at the apex */
	bool dirty;          /* changed since the last commit */
	struct zzone *dnext; /* dirty list */
};

/* Published tail of zone z (NULL if it has none). */
static inline const struct ztail *
zzone_tail(const struct zzone *z)
{
	return z->tail;
}

/* Creates an empty index. Never fails (out of memory aborts). */
struct zonedb *zonedb_new(void);

/* Frees db and everything in it; db may be NULL. */
void zonedb_free(struct zonedb *db);

/*
 * Adds one record: zone is the zone's apex, owner the record's owner
 * (absolute names, case-insensitive), type its mnemonic ("A", "TYPE65534"),
 * ttl 0..2^31-1 and rdata in presentation format. The record takes effect
 * at the next commit. Returns 0 (also when the record is already there,
 * the TTL then being updated), or DR_EINVAL for a bad name, an owner
 * outside zone, an unknown or meta type, a bad TTL or rdata that does not
 * parse as that type.
 */
int zonedb_add_record(struct zonedb *db, const char *zone, const char *owner,
                      const char *type, int64_t ttl, const char *rdata);

/*
 * Removes one record (matched on zone, owner, type and rdata). Returns 0,
 * DR_ENOTFOUND if there is no such record, or DR_EINVAL for bad input.
 */
int zonedb_del_record(struct zonedb *db, const char *zone, const char *owner,
                      const char *type, const char *rdata);

/* Removes every record of a zone. Returns 0 or DR_ENOTFOUND. */
int zonedb_del_zone(struct zonedb *db, const char *zone);

/*
 * Publishes every change since the last commit: recomputes the prepared
 * answers of the affected names. Returns 0.
 */
int zonedb_commit(struct zonedb *db);

/*
 * The published answers for a lowercase wire name, or NULL when the name
 * is not visible (does not exist, lies outside our zones, or is below a
 * zone cut, in which case the cut answers).
 */
const struct zans *zonedb_find(const struct zonedb *db, const uint8_t *name,
                               size_t len);

struct zonedb_stats {
	size_t zones;   /* served (with an SOA) */
	size_t names;   /* nodes in the index, empty non-terminals included */
	size_t records; /* records stored */
	size_t touched; /* names recomputed by the last commit */
};

void zonedb_stats(const struct zonedb *db, struct zonedb_stats *st);

/*
 * Internals shared with answer.c (which builds the answers of one name
 * from the records): records of a name as seen by the next commit.
 */
struct zrrset {
	uint16_t type;
	uint16_t count;
	uint32_t ttl;        /* minimum over the records */
	const uint8_t *data; /* count x (u32 ttl, u16 len, rdata) */
	uint32_t len;
};

/* Iterates one rrset: returns false at the end; *pos starts at 0. */
bool zrrset_next(const struct zrrset *s, size_t *pos, const uint8_t **rd,
                 uint16_t *rdlen);

/* The node of a lowercase wire name, or NULL. */
struct znode *zonedb_node(const struct zonedb *db, const uint8_t *name,
                          size_t len);

const uint8_t *znode_name(const struct znode *n, size_t *len);
struct znode *znode_parent(const struct znode *n);
/* The zone whose apex n is, NULL if none. */
struct zzone *znode_apex_of(const struct znode *n);

/* The innermost served zone at or above n, or NULL. */
struct zzone *znode_zone(const struct znode *n);

/*
 * The topmost zone cut of zone z at or above n (a name with NS records of
 * z other than the apex), or NULL.
 */
struct znode *znode_cut(const struct znode *n, const struct zzone *z);

/* Looks up the rrset of type tagged with zone z at n. */
bool znode_rrset(const struct znode *n, const struct zzone *z, uint16_t type,
                 struct zrrset *out);

/* Fills out with up to max rrsets of zone z at n; returns how many. */
size_t znode_rrsets(const struct znode *n, const struct zzone *z,
                    struct zrrset *out, size_t max);

/* Records that the answers of n depend on the lowercase wire name. */
void zonedb_depend(struct zonedb *db, struct znode *n, const uint8_t *name,
                   size_t len);

#endif
