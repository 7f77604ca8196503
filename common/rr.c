/* Resource records in text: ldns parsing into canonical record lines. */
#include "rr.h"

#include <ctype.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define RR_TTL_MAX 2147483647u

static int
rr_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return DR_EINVAL;
}

/* Types that are not data: they never appear in a zone. */
static bool
rr_type_is_meta(ldns_rr_type t)
{
	switch ((unsigned)t) {
	case 0:
	case LDNS_RR_TYPE_OPT:
	case LDNS_RR_TYPE_TSIG:
	case 249: /* TKEY */
	case LDNS_RR_TYPE_IXFR:
	case LDNS_RR_TYPE_AXFR:
	case LDNS_RR_TYPE_MAILA:
	case LDNS_RR_TYPE_MAILB:
	case LDNS_RR_TYPE_ANY:
		return true;
	default:
		return false;
	}
}

/*
 * Appends byte c of a name or a string, escaped so that ldns reads it back
 * as the same byte and the line has no control byte: specials with a
 * backslash, bytes outside printable ASCII as \DDD.
 */
static void
rr_put_escaped(struct dr_buf *out, uint8_t c, const char *specials)
{
	char e[5];

	if (c < 0x21 || c > 0x7e) {
		if (c == ' ' && strchr(specials, ' ') == NULL) {
			dr_buf_put(out, " ", 1);
			return;
		}
		snprintf(e, sizeof(e), "\\%03u", c);
		dr_buf_put(out, e, 4);
		return;
	}
	if (strchr(specials, (char)c) != NULL)
		dr_buf_put(out, "\\", 1);
	dr_buf_put(out, &c, 1);
}

/* A domain name in wire form (ldns checked it) as absolute text. */
static bool
rr_put_dname(struct dr_buf *out, const ldns_rdf *rdf)
{
	const uint8_t *d = ldns_rdf_data(rdf);
	size_t len = ldns_rdf_size(rdf), i = 0;

	if (len == 0)
		return false;
	if (d[0] == 0) {
		dr_buf_put(out, ".", 1);
		return true;
	}
	while (i < len && d[i] != 0) {
		size_t n = d[i++];

		if (n > 63 || i + n > len)
			return false;
		for (size_t k = 0; k < n; k++)
			rr_put_escaped(out, d[i + k], ".\\\"();@$ ");
		dr_buf_put(out, ".", 1);
		i += n;
	}
	return true;
}

/* A character-string: u8 length + bytes (STR) or bytes alone (LONG_STR). */
static bool
rr_put_string(struct dr_buf *out, const ldns_rdf *rdf, bool prefixed)
{
	const uint8_t *d = ldns_rdf_data(rdf);
	size_t len = ldns_rdf_size(rdf), i = 0;

	if (prefixed) {
		if (len == 0 || (size_t)d[0] + 1 != len)
			return false;
		i = 1;
	}
	dr_buf_put(out, "\"", 1);
	for (; i < len; i++)
		rr_put_escaped(out, d[i], "\"\\");
	dr_buf_put(out, "\"", 1);
	return true;
}

/* Appends the presentation form of rdf to out; false if ldns cannot. */
static bool
rr_put_rdf(struct dr_buf *out, const ldns_rdf *rdf)
{
	char *s;

	switch (ldns_rdf_get_type(rdf)) {
	case LDNS_RDF_TYPE_DNAME:
		return rr_put_dname(out, rdf);
	case LDNS_RDF_TYPE_STR:
		return rr_put_string(out, rdf, true);
	case LDNS_RDF_TYPE_LONG_STR:
		return rr_put_string(out, rdf, false);
	default:
		break;
	}
	s = ldns_rdf2str(rdf);

	if (s == NULL)
		return false;
	dr_buf_put(out, s, strlen(s));
	free(s);
	return true;
}

/* Empty rdata is valid for types whose rdata may have no field, and for
 * types unknown to ldns (RFC 3597 "\# 0"). */
static bool
rr_may_be_empty(ldns_rr_type type)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);
	char *name;
	bool unknown;

	if (d != NULL && ldns_rr_descriptor_minimum(d) == 0)
		return true;
	name = ldns_rr_type2str(type);
	unknown = name == NULL || strncmp(name, "TYPE", 4) == 0;
	free(name);
	return unknown;
}

/*
 * Writes the canonical line of a parsed record. rr is canonicalised in
 * place (RFC 4034 6.2: owner and the names in listed rdata lowercased).
 */
static int
rr_put_canonical(ldns_rr *rr, struct dr_buf *out, char *err, size_t errlen)
{
	size_t start = out->len;
	ldns_rr_type type = ldns_rr_get_type(rr);
	char *tname;
	size_t i, n;

	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
		return rr_fail(err, errlen, "only class IN is served");
	if (rr_type_is_meta(type))
		return rr_fail(err, errlen, "type %u cannot be stored",
		               (unsigned)type);
	if (ldns_rr_ttl(rr) > RR_TTL_MAX)
		return rr_fail(err, errlen, "TTL %u out of range",
		               (unsigned)ldns_rr_ttl(rr));
	n = ldns_rr_rd_count(rr);
	if (n == 0 && !rr_may_be_empty(type))
		return rr_fail(err, errlen, "empty rdata");
	ldns_rr2canonical(rr);

	if (!rr_put_rdf(out, ldns_rr_owner(rr)))
		goto bad;
	tname = ldns_rr_type2str(type);
	if (tname == NULL)
		goto bad;
	{
		char ttl[16];
		int tl = snprintf(ttl, sizeof(ttl), " %u ",
		                  (unsigned)ldns_rr_ttl(rr));
		dr_buf_put(out, ttl, (size_t)tl);
	}
	dr_buf_put(out, tname, strlen(tname));
	free(tname);
	for (i = 0; i < n; i++) {
		dr_buf_put(out, " ", 1);
		if (!rr_put_rdf(out, ldns_rr_rdf(rr, i)))
			goto bad;
	}
	if (n == 0)
		dr_buf_put(out, " \\# 0", 5); /* RFC 3597, empty rdata */
	if (out->len - start > DR_RR_LINE_MAX) {
		out->len = start;
		return rr_fail(err, errlen, "record longer than %d bytes",
		               DR_RR_LINE_MAX);
	}
	for (i = start; i < out->len; i++) {
		if (out->data[i] == '\n' || out->data[i] == '\r' ||
		    out->data[i] == '\0') {
			out->len = start;
			return rr_fail(err, errlen, "control byte in record");
		}
	}
	return 0;
bad:
	out->len = start;
	return rr_fail(err, errlen, "record cannot be printed");
}

static ldns_rdf *
rr_origin_rdf(const char *origin)
{
	ldns_rdf *o = NULL;

	if (origin == NULL)
		return NULL;
	if (ldns_str2rdf_dname(&o, origin) != LDNS_STATUS_OK)
		return NULL;
	return o;
}

int
dr_rr_parse(const char *text, const char *origin, uint32_t default_ttl,
            struct dr_buf *out, char *err, size_t errlen)
{
	ldns_rr *rr = NULL;
	ldns_rdf *orig = NULL;
	ldns_status st;
	const char *p;
	int rv;

	for (p = text; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return rr_fail(err, errlen, "control byte in record");
	}
	while (*text == ' ' || *text == '\t')
		text++;
	if (*text == '\0' || *text == ';')
		return rr_fail(err, errlen, "empty record");
	if (strlen(text) > DR_RR_LINE_MAX)
		return rr_fail(err, errlen, "record longer than %d bytes",
		               DR_RR_LINE_MAX);
	if (origin != NULL && (orig = rr_origin_rdf(origin)) == NULL)
		return rr_fail(err, errlen, "bad origin %s", origin);
	st = ldns_rr_new_frm_str(&rr, text, default_ttl, orig, NULL);
	ldns_rdf_deep_free(orig);
	if (st != LDNS_STATUS_OK)
		return rr_fail(err, errlen, "%s", ldns_get_errorstr_by_id(st));
	rv = rr_put_canonical(rr, out, err, errlen);
	ldns_rr_free(rr);
	return rv;
}

/* Next space-separated field of [*p, end); false if there is none. */
static bool
rr_field(const char **p, const char *end, struct dr_str *f)
{
	const char *s = *p;

	if (s >= end || *s == ' ')
		return false;
	while (*p < end && **p != ' ')
		(*p)++;
	f->p = s;
	f->len = (size_t)(*p - s);
	if (*p < end)
		(*p)++; /* the separator */
	return true;
}

int
dr_rr_split(const char *line, size_t len, struct dr_rr *rr)
{
	const char *p = line, *end = line + len;
	unsigned long long ttl = 0;
	size_t i;

	memset(rr, 0, sizeof(*rr));
	if (len == 0 || len > DR_RR_LINE_MAX)
		return DR_EINVAL;
	if (!rr_field(&p, end, &rr->owner) || !rr_field(&p, end, &rr->ttl) ||
	    !rr_field(&p, end, &rr->type))
		return DR_EINVAL;
	if (p >= end || p[-1] != ' ')
		return DR_EINVAL;
	rr->rdata.p = p;
	rr->rdata.len = (size_t)(end - p);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f)
			return DR_EINVAL;
	}
	if (rr->owner.p[rr->owner.len - 1] != '.')
		return DR_EINVAL;
	for (i = 0; i < rr->owner.len; i++) {
		if (isupper((unsigned char)rr->owner.p[i]))
			return DR_EINVAL;
	}
	if (rr->ttl.len > 10)
		return DR_EINVAL;
	for (i = 0; i < rr->ttl.len; i++) {
		if (!isdigit((unsigned char)rr->ttl.p[i]))
			return DR_EINVAL;
		ttl = ttl * 10 + (unsigned)(rr->ttl.p[i] - '0');
	}
	if (ttl > RR_TTL_MAX || (rr->ttl.len > 1 && rr->ttl.p[0] == '0'))
		return DR_EINVAL;
	rr->ttl_value = (uint32_t)ttl;
	for (i = 0; i < rr->type.len; i++) {
		if (!isupper((unsigned char)rr->type.p[i]) &&
		    !isdigit((unsigned char)rr->type.p[i]) &&
		    rr->type.p[i] != '-')
			return DR_EINVAL;
	}
	return 0;
}

int
dr_rr_check(const char *line, size_t len, char *err, size_t errlen)
{
	struct dr_rr rr;
	struct dr_buf b;
	char *text;
	int rv;

	if (dr_rr_split(line, len, &rr) != 0)
		return rr_fail(err, errlen, "malformed record line");
	text = malloc(len + 1);
	if (text == NULL)
		return rr_fail(err, errlen, "out of memory");
	memcpy(text, line, len);
	text[len] = '\0';
	dr_buf_init(&b);
	rv = dr_rr_parse(text, NULL, DR_RR_DEFAULT_TTL, &b, err, errlen);
	if (rv == 0 && (b.len != len || memcmp(b.data, line, len) != 0))
		rv = rr_fail(err, errlen, "record not in canonical form");
	dr_buf_close(&b);
	free(text);
	return rv;
}

/* Whether the '.' at s[i] is escaped by an odd run of backslashes. */
static bool
rr_escaped(const char *s, size_t i)
{
	size_t n = 0;

	while (i > 0 && s[i - 1] == '\\') {
		n++;
		i--;
	}
	return n % 2 == 1;
}

int
dr_rr_in_zone(struct dr_str owner, struct dr_str zone)
{
	size_t cut;

	if (zone.len == 1 && zone.p[0] == '.')
		return 1;
	if (owner.len < zone.len)
		return 0;
	cut = owner.len - zone.len;
	if (strncasecmp(owner.p + cut, zone.p, zone.len) != 0)
		return 0;
	if (cut == 0)
		return 1;
	return owner.p[cut - 1] == '.' && !rr_escaped(owner.p, cut - 1);
}

int
dr_zone_name(const char *text, char *out, size_t outlen)
{
	ldns_rdf *d = NULL;
	char *s;
	int rv = DR_EINVAL;

	if (text == NULL || *text == '\0' || strlen(text) > 1024)
		return DR_EINVAL;
	for (const char *p = text; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return DR_EINVAL;
	}
	if (ldns_str2rdf_dname(&d, text) != LDNS_STATUS_OK)
		return DR_EINVAL;
	ldns_dname2canonical(d);
	s = ldns_rdf2str(d);
	if (s != NULL && strlen(s) < outlen) {
		memcpy(out, s, strlen(s) + 1);
		rv = 0;
	}
	free(s);
	ldns_rdf_deep_free(d);
	return rv;
}

/*
 * Owners seen in a zone file, with what they hold, to refuse a CNAME next
 * to other data. Open addressing keyed by the owner text.
 */
struct rr_owner {
	char *name;     /* NULL = free slot */
	unsigned kinds; /* RR_KIND_* */
};

enum {
	RR_KIND_CNAME = 1,
	RR_KIND_OTHER = 2,
};

struct rr_owners {
	struct rr_owner *slot;
	size_t cap, n;
};

static uint64_t
rr_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static void
rr_owners_grow(struct rr_owners *o)
{
	size_t cap = o->cap ? o->cap * 2 : 1024;
	struct rr_owner *slot = calloc(cap, sizeof(*slot));

	if (slot == NULL)
		abort();
	for (size_t i = 0; i < o->cap; i++) {
		struct rr_owner *e = &o->slot[i];
		size_t j;

		if (e->name == NULL)
			continue;
		j = rr_hash(e->name, strlen(e->name)) & (cap - 1);
		while (slot[j].name != NULL)
			j = (j + 1) & (cap - 1);
		slot[j] = *e;
	}
	free(o->slot);
	o->slot = slot;
	o->cap = cap;
}

/* Adds kind to owner; returns the kinds it held before. */
static unsigned
rr_owners_mark(struct rr_owners *o, struct dr_str owner, unsigned kind)
{
	size_t j;
	unsigned before;

	if ((o->n + 1) * 2 > o->cap)
		rr_owners_grow(o);
	j = rr_hash(owner.p, owner.len) & (o->cap - 1);
	while (o->slot[j].name != NULL) {
		if (strlen(o->slot[j].name) == owner.len &&
		    memcmp(o->slot[j].name, owner.p, owner.len) == 0)
			break;
		j = (j + 1) & (o->cap - 1);
	}
	if (o->slot[j].name == NULL) {
		o->slot[j].name = strndup(owner.p, owner.len);
		if (o->slot[j].name == NULL)
			abort();
		o->n++;
	}
	before = o->slot[j].kinds;
	o->slot[j].kinds |= kind;
	return before;
}

static void
rr_owners_free(struct rr_owners *o)
{
	for (size_t i = 0; i < o->cap; i++)
		free(o->slot[i].name);
	free(o->slot);
	memset(o, 0, sizeof(*o));
}

/* State of one zone file read. */
struct rr_reader {
	const char *path;
	struct dr_zonefile *zf;
	struct rr_owners owners;
	char *err;
	size_t errlen;
	int line;
};

static int
rr_reader_fail(struct rr_reader *r, const char *reason)
{
	return rr_fail(r->err, r->errlen, "%s:%d: %s", r->path, r->line,
	               reason);
}

/* Checks one parsed record against the zone and appends its line. */
static int
rr_reader_add(struct rr_reader *r, ldns_rr *rr)
{
	struct dr_zonefile *zf = r->zf;
	size_t start = zf->lines.len;
	char reason[DR_RR_ERR_LEN];
	struct dr_rr f;
	struct dr_str zone;
	unsigned kind, before;
	bool soa = ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA;

	if (rr_put_canonical(rr, &zf->lines, reason, sizeof(reason)) != 0)
		return rr_reader_fail(r, reason);
	if (dr_rr_split((const char *)zf->lines.data + start,
	                zf->lines.len - start, &f) != 0)
		return rr_reader_fail(r, "record cannot be stored");
	if (zf->nrecords == 0) {
		if (!soa)
			return rr_reader_fail(r, "the first record must be "
			                         "the zone's SOA");
		if (f.owner.len >= sizeof(zf->zone))
			return rr_reader_fail(r, "zone name too long");
		memcpy(zf->zone, f.owner.p, f.owner.len);
		zf->zone[f.owner.len] = '\0';
	} else if (soa) {
		return rr_reader_fail(r, "a second SOA record");
	}
	zone.p = zf->zone;
	zone.len = strlen(zf->zone);
	if (!dr_rr_in_zone(f.owner, zone)) {
		snprintf(reason, sizeof(reason), "%.*s is outside the zone %s",
		         (int)f.owner.len, f.owner.p, zf->zone);
		return rr_reader_fail(r, reason);
	}
	kind = ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME ? RR_KIND_CNAME
	                                                  : RR_KIND_OTHER;
	before = rr_owners_mark(&r->owners, f.owner, kind);
	if ((kind == RR_KIND_CNAME && before != 0) ||
	    (kind == RR_KIND_OTHER && (before & RR_KIND_CNAME)))
		return rr_reader_fail(r, "CNAME and other data at one name");
	dr_buf_put(&zf->lines, "\n", 1);
	zf->nrecords++;
	return 0;
}

static int
rr_reader_run(struct rr_reader *r, FILE *fp, const char *origin)
{
	ldns_rdf *orig = NULL, *prev = NULL;
	uint32_t ttl = DR_RR_DEFAULT_TTL;
	int rv = 0;

	if (origin != NULL && (orig = rr_origin_rdf(origin)) == NULL)
		return rr_reader_fail(r, "bad origin");
	for (;;) {
		ldns_rr *rr = NULL;
		ldns_status st;
		int before = r->line;

		st =
		    ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &orig, &prev, &r->line);
		if (st == LDNS_STATUS_SYNTAX_EMPTY ||
		    st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN) {
			if (feof(fp))
				break;
			continue;
		}
		if (st == LDNS_STATUS_SYNTAX_INCLUDE) {
			rv = rr_reader_fail(r, "$INCLUDE is not supported");
			break;
		}
		if (st != LDNS_STATUS_OK) {
			if (r->line == before)
				r->line++;
			rv = rr_reader_fail(r, ldns_get_errorstr_by_id(st));
			break;
		}
		rv = rr_reader_add(r, rr);
		ldns_rr_free(rr);
		if (rv != 0)
			break;
	}
	ldns_rdf_deep_free(orig);
	ldns_rdf_deep_free(prev);
	if (rv == 0 && r->zf->nrecords == 0)
		rv = rr_reader_fail(r, "no records (a zone needs an SOA)");
	return rv;
}

int
dr_zonefile_read(const char *path, const char *origin, struct dr_zonefile *zf,
                 char *err, size_t errlen)
{
	struct rr_reader r;
	FILE *fp;
	int rv;

	memset(zf, 0, sizeof(*zf));
	dr_buf_init(&zf->lines);
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return DR_EIO;
	}
	memset(&r, 0, sizeof(r));
	r.path = path;
	r.zf = zf;
	r.err = err;
	r.errlen = errlen;
	rv = rr_reader_run(&r, fp, origin);
	if (rv == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		rv = DR_EIO;
	}
	fclose(fp);
	rr_owners_free(&r.owners);
	if (rv != 0)
		dr_zonefile_free(zf);
	return rv;
}

void
dr_zonefile_free(struct dr_zonefile *zf)
{
	dr_buf_close(&zf->lines);
	memset(zf, 0, sizeof(*zf));
	dr_buf_init(&zf->lines);
}
