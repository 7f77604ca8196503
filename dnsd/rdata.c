/* Record data: type mnemonics and presentation-format rdata to wire form. */
#include "rdata.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <string.h>

#include "dname.h"
#include "err.h"

int
rdata_type_from_str(const char *s, uint16_t *type)
{
	ldns_rr_type t;

	if (s == NULL || s[0] == '\0')
		return DR_EINVAL;
	/* The common ones without ldns' linear table walk. */
	if (strcmp(s, "A") == 0)
		t = LDNS_RR_TYPE_A;
	else if (strcmp(s, "AAAA") == 0)
		t = LDNS_RR_TYPE_AAAA;
	else
		t = ldns_get_rr_type_by_name(s);
	switch ((int)t) {
	case 0:
	case RR_OPT:
	case RR_TKEY:
	case RR_TSIG:
	case RR_IXFR:
	case RR_AXFR:
	case RR_MAILB:
	case RR_MAILA:
	case RR_ANY:
		return DR_EINVAL;
	}
	*type = (uint16_t)t;
	return 0;
}

static int
rdata_ldns(uint16_t type, const char *type_str, const char *text,
           const uint8_t *origin, uint8_t *out)
{
	ldns_rr *rr = NULL;
	ldns_rdf *orig = NULL;
	ldns_buffer *buf = NULL;
	char *line = NULL;
	size_t n;
	int rv = DR_EINVAL;

	/* ldns parses whole records: give it a dummy owner, TTL and class. */
	n = strlen(type_str) + strlen(text) + 16;
	line = malloc(n);
	if (line == NULL)
		abort();
	snprintf(line, n, ". 0 IN %s %s", type_str, text);
	if (origin != NULL) {
		int olen = dname_wire_len(origin, DNAME_MAX);
		if (olen > 0)
			orig = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME,
			                             (size_t)olen, origin);
	}
	if (ldns_rr_new_frm_str(&rr, line, 0, orig, NULL) != LDNS_STATUS_OK)
		goto out;
	if (ldns_rr_get_type(rr) != type ||
	    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
		goto out;
	buf = ldns_buffer_new(256);
	if (buf == NULL)
		abort();
	if (ldns_rr_rdata2buffer_wire(buf, rr) != LDNS_STATUS_OK)
		goto out;
	n = ldns_buffer_position(buf);
	if (n > RDATA_MAX)
		goto out;
	memcpy(out, ldns_buffer_begin(buf), n);
	rv = (int)n;
out:
	ldns_buffer_free(buf);
	ldns_rr_free(rr);
	ldns_rdf_deep_free(orig);
	free(line);
	return rv;
}

int
rdata_from_str(uint16_t type, const char *type_str, const char *text,
               const uint8_t *origin, uint8_t *out)
{
	if (text == NULL || type_str == NULL)
		return DR_EINVAL;
	/* Fast paths for the bulk of large zones; inet_pton is strict. */
	if (type == RR_A)
		return inet_pton(AF_INET, text, out) == 1 ? 4 : DR_EINVAL;
	if (type == RR_AAAA)
		return inet_pton(AF_INET6, text, out) == 1 ? 16 : DR_EINVAL;
	return rdata_ldns(type, type_str, text, origin, out);
}

int
rdata_target(uint16_t type, const uint8_t *rd, size_t len, size_t *off)
{
	size_t skip;
	int n;

	switch (type) {
	case RR_CNAME:
	case RR_NS:
		skip = 0;
		break;
	case RR_MX:
		skip = 2;
		break;
	case RR_SRV:
		skip = 6;
		break;
	default:
		return 0;
	}
	if (len <= skip)
		return 0;
	n = dname_wire_len(rd + skip, len - skip);
	if (n < 0)
		return 0;
	*off = skip;
	return n;
}
