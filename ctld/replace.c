/* The record lines that follow "zone replace": collecting and checking. */
#include "replace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "line.h"

static void replace_fail(struct replace *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps the first problem only. */
static void
replace_fail(struct replace *r, const char *fmt, ...)
{
	va_list ap;

	if (r->err[0] != '\0')
		return;
	va_start(ap, fmt);
	(void)vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	/* Nothing more is kept: the command will not be sent. */
	dr_buf_close(&r->records);
	dr_buf_init(&r->records);
}

struct replace *
replace_new(const char *line, size_t len)
{
	struct commands_parsed p;
	struct replace *r;
	const char *err;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		abort();
	r->line = malloc(len + 1);
	if (r->line == NULL)
		abort();
	memcpy(r->line, line, len);
	r->line[len] = '\0';
	r->len = len;
	dr_buf_init(&r->records);
	if (commands_parse(r->line, len, &p, &err) != 0 ||
	    p.id != COMMANDS_ZONE_REPLACE)
		replace_fail(r, "usage: zone replace ZONE [SOURCE]");
	if (r->err[0] == '\0' && commands_name_arg(p.args[0], r->zone) != 0)
		replace_fail(r, "invalid zone name %.*s",
		             (int)(p.args[0].len > 256 ? 256 : p.args[0].len),
		             p.args[0].p);
	return r;
}

/* Whether the line holds nothing to parse: blank or a comment. */
static bool
replace_skip(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i == len || line[i] == ';';
}

/* Appends the canonical form of a record line (len bytes) to records. */
static int
replace_parse(struct replace *r, const char *line, size_t len)
{
	char text[LINE_MAX_LEN + 1];
	char err[DR_RR_ERR_LEN];

	if (len >= sizeof(text)) {
		replace_fail(r, "line %zu: too long", r->nlines);
		return DR_EINVAL;
	}
	memcpy(text, line, len);
	text[len] = '\0';
	if (dr_rr_parse(text, r->zone, DR_RR_DEFAULT_TTL, &r->records, err,
	                sizeof(err)) != 0) {
		replace_fail(r, "line %zu: %s", r->nlines, err);
		return DR_EINVAL;
	}
	return 0;
}

/* Parses one record line, checks it and appends its canonical form. */
static void
replace_record(struct replace *r, const char *line, size_t len)
{
	struct dr_str zone = { r->zone, strlen(r->zone) };
	size_t start = r->records.len;
	struct dr_rr rr;

	if (replace_parse(r, line, len) != 0)
		return;
	if (dr_rr_split((const char *)r->records.data + start,
	                r->records.len - start, &rr) != 0) {
		replace_fail(r, "line %zu: record cannot be stored", r->nlines);
		return;
	}
	if (!dr_rr_in_zone(rr.owner, zone)) {
		replace_fail(r, "line %zu: %.*s is outside the zone %s",
		             r->nlines, (int)rr.owner.len, rr.owner.p, r->zone);
		return;
	}
	if (dr_str_eq(rr.type, "SOA")) {
		if (rr.owner.len != zone.len) {
			replace_fail(r, "line %zu: SOA not at the zone apex",
			             r->nlines);
			return;
		}
		if (++r->nsoa > 1) {
			replace_fail(r, "line %zu: a second SOA record",
			             r->nlines);
			return;
		}
	}
	if (r->records.len + 1 > REPLACE_MAX_BYTES) {
		replace_fail(r, "line %zu: zone larger than %zu bytes",
		             r->nlines, REPLACE_MAX_BYTES);
		return;
	}
	dr_buf_put_u8(&r->records, '\n');
	r->nrecords++;
}

int
replace_line(struct replace *r, const char *line, size_t len)
{
	if (len == 1 && line[0] == '.')
		return REPLACE_END;
	r->nlines++;
	if (r->err[0] != '\0' || replace_skip(line, len))
		return REPLACE_MORE;
	replace_record(r, line, len);
	return REPLACE_MORE;
}

int
replace_finish(struct replace *r)
{
	if (r->err[0] == '\0' && r->nsoa == 0)
		replace_fail(r, "no SOA record at %s", r->zone);
	return r->err[0] == '\0' ? 0 : DR_EINVAL;
}

void
replace_free(struct replace *r)
{
	if (r == NULL)
		return;
	dr_buf_close(&r->records);
	free(r->line);
	free(r);
}

void
replace_deny(struct replace *r, const char *reason)
{
	snprintf(r->err, sizeof(r->err), "%s", reason);
	dr_buf_close(&r->records);
	dr_buf_init(&r->records);
}
