/* The records of a ZONE_REPLACE command: split, sorted and checked. */
#include "zoneset.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "err.h"
#include "rr.h"

/* Fewer records than this are checked on the calling thread alone. */
#define ZONESET_PARALLEL_MIN 4096
#define ZONESET_THREADS_MAX  8

static int zs_fail(char *err, size_t errlen, uint32_t lineno, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

static int
zs_fail(char *err, size_t errlen, uint32_t lineno, const char *fmt, ...)
{
	char reason[DR_RR_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (lineno > 0)
		snprintf(err, errlen, "line %u: %s", (unsigned)lineno, reason);
	else
		snprintf(err, errlen, "%s", reason);
	return DR_EINVAL;
}

struct dr_str
zoneset_owner(const struct zoneset *zs, const struct zoneset_rec *r)
{
	struct dr_str s = { zs->text + r->off, r->owner_len };

	return s;
}

struct dr_str
zoneset_type(const struct zoneset *zs, const struct zoneset_rec *r)
{
	struct dr_str s = { zs->text + r->off + r->type_off, r->type_len };

	return s;
}

struct dr_str
zoneset_rdata(const struct zoneset *zs, const struct zoneset_rec *r)
{
	struct dr_str s = { zs->text + r->off + r->rdata_off,
		            (size_t)(r->len - r->rdata_off) };

	return s;
}

/* SQLite's BINARY collation: memcmp, then the shorter string first. */
static int
zs_strcmp(struct dr_str a, struct dr_str b)
{
	int c = memcmp(a.p, b.p, a.len < b.len ? a.len : b.len);

	if (c != 0)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

int
zoneset_cmp(const struct zoneset *zs, const struct zoneset_rec *r,
            struct dr_str owner, struct dr_str type, struct dr_str rdata)
{
	int c;

	if ((c = zs_strcmp(zoneset_owner(zs, r), owner)) != 0)
		return c;
	if ((c = zs_strcmp(zoneset_type(zs, r), type)) != 0)
		return c;
	return zs_strcmp(zoneset_rdata(zs, r), rdata);
}

/* Owner, type, rdata, then line number: repeats sort first-line first. */
static int
zs_rec_cmp(const void *a, const void *b, void *arg)
{
	const struct zoneset_rec *x = a, *y = b;
	const struct zoneset *zs = arg;
	int c;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	c = zoneset_cmp(zs, x, zoneset_owner(zs, y), zoneset_type(zs, y),
	                zoneset_rdata(zs, y));
	if (c != 0)
		return c;
	return x->lineno < y->lineno ? -1 : x->lineno > y->lineno;
}

/*
 * The first 8 bytes of the owner, zero-padded, as a big-endian number:
 * ordered like the bytes themselves (owners hold no zero byte).
 */
static uint64_t
zs_key(struct dr_str owner)
{
	uint64_t k = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		k = k << 8 | (i < owner.len ? (uint8_t)owner.p[i] : 0);
	return k;
}

static bool
zs_is_type(const struct zoneset *zs, const struct zoneset_rec *r,
           const char *type)
{
	return dr_str_eq(zoneset_type(zs, r), type);
}

/* Splits one line into rec; "line N: reason" on failure. */
static int
zs_split_line(struct zoneset *zs, struct zoneset_rec *rec, size_t off,
              size_t len, uint32_t lineno, struct dr_str zone, char *err,
              size_t errlen)
{
	struct dr_rr rr;

	if (dr_rr_split(zs->text + off, len, &rr) != 0)
		return zs_fail(err, errlen, lineno, "malformed record line");
	if (rr.owner.len > 255)
		return zs_fail(err, errlen, lineno, "owner name too long");
	if (!dr_rr_in_zone(rr.owner, zone))
		return zs_fail(
		    err, errlen, lineno, "%.*s is outside the zone %.*s",
		    (int)rr.owner.len, rr.owner.p, (int)zone.len, zone.p);
	memset(rec, 0, sizeof(*rec));
	rec->key = zs_key(rr.owner);
	rec->off = (uint32_t)off;
	rec->lineno = lineno;
	rec->ttl = rr.ttl_value;
	rec->len = (uint16_t)len;
	rec->owner_len = (uint16_t)rr.owner.len;
	rec->type_off = (uint16_t)(rr.type.p - rr.owner.p);
	rec->type_len = (uint16_t)rr.type.len;
	rec->rdata_off = (uint16_t)(rr.rdata.p - rr.owner.p);
	rec->state = ZONESET_NEW;
	return 0;
}

/* Splits every line; finds the one SOA. */
static int
zs_split(struct zoneset *zs, struct dr_str zone, size_t textlen, char *err,
         size_t errlen)
{
	const char *p = zs->text, *end = zs->text + textlen, *nl;
	uint32_t lineno = 0, soa_line = 0;
	size_t cap = 0;
	int rv;

	while (p < end) {
		struct zoneset_rec *rec;
		size_t len;

		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl != NULL ? nl : end) - p);
		lineno++;
		if (zs->n == cap) {
			cap = cap ? cap * 2 : 1024;
			zs->recs = realloc(zs->recs, cap * sizeof(*zs->recs));
			if (zs->recs == NULL)
				abort();
		}
		rec = &zs->recs[zs->n];
		rv = zs_split_line(zs, rec, (size_t)(p - zs->text), len, lineno,
		                   zone, err, errlen);
		if (rv != 0)
			return rv;
		if (zs_is_type(zs, rec, "SOA")) {
			if (rec->owner_len != zone.len ||
			    memcmp(zs->text + rec->off, zone.p, zone.len) != 0)
				return zs_fail(err, errlen, lineno,
				               "SOA record not at the apex");
			if (soa_line != 0)
				return zs_fail(err, errlen, lineno,
				               "a second SOA record");
			soa_line = lineno;
		}
		zs->n++;
		p = nl != NULL ? nl + 1 : end;
	}
	if (soa_line == 0)
		return zs_fail(err, errlen, 0, "no SOA record at the apex %.*s",
		               (int)zone.len, zone.p);
	return 0;
}

/*
 * Marks repeats, finds the SOA and refuses a CNAME next to other data
 * (records of one owner are adjacent once sorted).
 */
static int
zs_scan(struct zoneset *zs, char *err, size_t errlen)
{
	uint32_t bad = 0, cname_line = 0;
	size_t i, group = 0, distinct = 0;

	for (i = 0; i < zs->n; i++) {
		struct zoneset_rec *r = &zs->recs[i];

		if (i > 0 &&
		    zoneset_cmp(zs, &zs->recs[i - 1], zoneset_owner(zs, r),
		                zoneset_type(zs, r),
		                zoneset_rdata(zs, r)) == 0) {
			r->state = ZONESET_DUP;
			continue;
		}
		if (i == 0 || zs_strcmp(zoneset_owner(zs, &zs->recs[group]),
		                        zoneset_owner(zs, r)) != 0) {
			if (cname_line != 0 && distinct > 1 &&
			    (bad == 0 || cname_line < bad))
				bad = cname_line;
			group = i;
			distinct = 0;
			cname_line = 0;
		}
		distinct++;
		if (zs_is_type(zs, r, "CNAME") &&
		    (cname_line == 0 || r->lineno < cname_line))
			cname_line = r->lineno;
		if (zs_is_type(zs, r, "SOA"))
			zs->soa = i;
	}
	if (cname_line != 0 && distinct > 1 && (bad == 0 || cname_line < bad))
		bad = cname_line;
	if (bad != 0) {
		for (i = 0; i < zs->n && zs->recs[i].lineno != bad; i++)
			;
		return zs_fail(err, errlen, bad, "CNAME and other data at %.*s",
		               (int)zs->recs[i].owner_len,
		               zs->text + zs->recs[i].off);
	}
	return 0;
}

int
zoneset_parse(struct zoneset *zs, struct dr_str zone, struct dr_str text,
              char *err, size_t errlen)
{
	int rv;

	memset(zs, 0, sizeof(*zs));
	zs->text = text.p;
	if (text.len > UINT32_MAX) {
		rv = zs_fail(err, errlen, 0, "too many records");
		goto fail;
	}
	if ((rv = zs_split(zs, zone, text.len, err, errlen)) != 0)
		goto fail;
	qsort_r(zs->recs, zs->n, sizeof(*zs->recs), zs_rec_cmp, zs);
	if ((rv = zs_scan(zs, err, errlen)) != 0)
		goto fail;
	return 0;
fail:
	zoneset_free(zs);
	return rv;
}

void
zoneset_free(struct zoneset *zs)
{
	free(zs->recs);
	memset(zs, 0, sizeof(*zs));
}

/* splitmix64's finaliser: every input bit moves every output bit. */
static uint64_t
zs_mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

/* 64-bit hash of bytes, 8 at a time. */
static uint64_t
zs_hash(uint64_t h, const char *p, size_t len)
{
	uint64_t w;

	h ^= len * 0x9e3779b97f4a7c15ull;
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = zs_mix(h ^ w);
	}
	w = 0;
	memcpy(&w, p, len);
	return zs_mix(h ^ w ^ 0xff);
}

/*
 * Adds one line (no newline) to d. In an SOA line ("owner ttl SOA mname
 * rname serial ...") the serial, field 5 from 0, is left out: it changes
 * on every write.
 */
static void
zs_digest_line(const char *p, size_t len, struct zoneset_digest *d)
{
	const char *f[6] = { p };
	size_t nf = 1, i, cut_from = len, cut_to = len;

	for (i = 0; i < len && nf < 6; i++)
		if (p[i] == ' ')
			f[nf++] = p + i + 1;
	if (nf == 6 && f[3] - f[2] == 4 && memcmp(f[2], "SOA ", 4) == 0) {
		cut_from = (size_t)(f[5] - p);
		cut_to = cut_from;
		while (cut_to < len && p[cut_to] != ' ')
			cut_to++;
	}
	d->a += zs_hash(zs_hash(0x51, p, cut_from), p + cut_to, len - cut_to);
	d->b += zs_hash(zs_hash(0xa7, p, cut_from), p + cut_to, len - cut_to);
	d->n++;
}

void
zoneset_digest_text(struct dr_str text, struct zoneset_digest *d)
{
	const char *p = text.p, *end = text.p + text.len, *nl;

	memset(d, 0, sizeof(*d));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		zs_digest_line(p, (size_t)((nl != NULL ? nl : end) - p), d);
		p = nl != NULL ? nl + 1 : end;
	}
}

void
zoneset_digest(const struct zoneset *zs, struct zoneset_digest *d)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < zs->n; i++)
		if (zs->recs[i].state != ZONESET_DUP)
			zs_digest_line(zs->text + zs->recs[i].off,
			               zs->recs[i].len, d);
}

/*
 * A name ldns prints back unchanged: labels of [a-z0-9_-] (or a lone
 * "*"), 1 to 63 bytes each, the trailing dot, at most 255 bytes on the
 * wire. ldns escapes only '.', ';', '(', ')', '\\' and non-graphic bytes,
 * and lowercases letters in canonical form.
 */
static bool
zs_plain_name(struct dr_str n)
{
	size_t i, label = 0;

	if (n.len < 2 || n.len > 254 || n.p[n.len - 1] != '.')
		return false;
	for (i = 0; i < n.len; i++) {
		char c = n.p[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		           c == '-' || c == '_') {
			if (++label > 63)
				return false;
		} else if (c == '*' && label == 0 && i + 1 < n.len &&
		           n.p[i + 1] == '.') {
			label = 1;
		} else {
			return false;
		}
	}
	return true;
}

/* A decimal printed by ldns: no sign, no leading zero, at most max. */
static bool
zs_plain_uint(const char *p, size_t len, unsigned long max)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 10 || (len > 1 && p[0] == '0'))
		return false;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v <= max;
}

/* An address that inet_pton reads and inet_ntop prints back the same. */
static bool
zs_plain_addr(int af, struct dr_str a)
{
	char in[64], out[64];
	unsigned char bin[16];

	if (a.len == 0 || a.len >= sizeof(in))
		return false;
	memcpy(in, a.p, a.len);
	in[a.len] = '\0';
	return inet_pton(af, in, bin) == 1 &&
	       inet_ntop(af, bin, out, sizeof(out)) != NULL &&
	       strcmp(in, out) == 0;
}

bool
zoneset_quick_ok(const char *line, size_t len)
{
	struct dr_rr rr;
	const char *sp;

	if (dr_rr_split(line, len, &rr) != 0 || !zs_plain_name(rr.owner))
		return false;
	if (dr_str_eq(rr.type, "A"))
		return zs_plain_addr(AF_INET, rr.rdata);
	if (dr_str_eq(rr.type, "AAAA"))
		return zs_plain_addr(AF_INET6, rr.rdata);
	if (dr_str_eq(rr.type, "CNAME") || dr_str_eq(rr.type, "NS") ||
	    dr_str_eq(rr.type, "PTR"))
		return zs_plain_name(rr.rdata);
	if (dr_str_eq(rr.type, "MX")) {
		sp = memchr(rr.rdata.p, ' ', rr.rdata.len);
		if (sp == NULL)
			return false;
		struct dr_str target = {
			sp + 1, (size_t)(rr.rdata.p + rr.rdata.len - sp - 1)
		};

		return zs_plain_uint(rr.rdata.p, (size_t)(sp - rr.rdata.p),
		                     65535) &&
		       zs_plain_name(target);
	}
	return false;
}

/* One thread's share of the ldns checks. */
struct zs_job {
	const struct zoneset *zs;
	const uint32_t *idx; /* into zs->recs */
	size_t n;
	uint32_t bad_line; /* lowest failing line, 0 if none */
	char err[DR_RR_ERR_LEN];
};

static void
zs_job_run(void *arg)
{
	struct zs_job *j = arg;
	char err[DR_RR_ERR_LEN];
	size_t i;

	for (i = 0; i < j->n; i++) {
		const struct zoneset_rec *r = &j->zs->recs[j->idx[i]];

		if (j->bad_line != 0 && r->lineno > j->bad_line)
			continue;
		if (zoneset_quick_ok(j->zs->text + r->off, r->len))
			continue;
		if (dr_rr_check(j->zs->text + r->off, r->len, err,
		                sizeof(err)) != 0) {
			j->bad_line = r->lineno;
			memcpy(j->err, err, sizeof(err));
		}
	}
}

static unsigned
zs_nthreads(size_t n)
{
	unsigned t;

	if (n < ZONESET_PARALLEL_MIN)
		return 1;
	t = uv_available_parallelism();
	return t < 1 ? 1 : t > ZONESET_THREADS_MAX ? ZONESET_THREADS_MAX : t;
}

int
zoneset_check_new(struct zoneset *zs, char *err, size_t errlen)
{
	struct zs_job jobs[ZONESET_THREADS_MAX];
	uv_thread_t tid[ZONESET_THREADS_MAX];
	bool started[ZONESET_THREADS_MAX] = { false };
	uint32_t *idx, bad = 0;
	size_t i, n = 0, per, best = 0;
	unsigned t, nt;

	idx = malloc((zs->n ? zs->n : 1) * sizeof(*idx));
	if (idx == NULL)
		abort();
	for (i = 0; i < zs->n; i++)
		if (zs->recs[i].state == ZONESET_NEW)
			idx[n++] = (uint32_t)i;
	nt = zs_nthreads(n);
	per = (n + nt - 1) / nt;
	memset(jobs, 0, sizeof(jobs));
	for (t = 0; t < nt; t++) {
		size_t from = t * per < n ? t * per : n;

		jobs[t].zs = zs;
		jobs[t].idx = idx + from;
		jobs[t].n = from + per <= n ? per : n - from;
	}
	/* The loop thread takes the first share; the checks are pure. */
	for (t = 1; t < nt; t++)
		started[t] =
		    uv_thread_create(&tid[t], zs_job_run, &jobs[t]) == 0;
	zs_job_run(&jobs[0]);
	for (t = 1; t < nt; t++) {
		if (started[t])
			uv_thread_join(&tid[t]);
		else
			zs_job_run(&jobs[t]);
	}
	for (t = 0; t < nt; t++) {
		if (jobs[t].bad_line != 0 &&
		    (bad == 0 || jobs[t].bad_line < bad)) {
			bad = jobs[t].bad_line;
			best = t;
		}
	}
	free(idx);
	if (bad != 0)
		return zs_fail(err, errlen, bad, "%s", jobs[best].err);
	return 0;
}
