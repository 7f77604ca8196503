/* Server-side DNS cookies (RFC 7873) with the interoperable server cookie
 * of RFC 9018: version 1, a timestamp and SipHash-2-4 from OpenSSL. */
#include "cookie.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "log.h"

#define COOKIE_VERSION  1
#define COOKIE_HASH_LEN 8

static void
cookie_log_ssl(const char *what)
{
	char msg[256];

	ERR_error_string_n(ERR_get_error(), msg, sizeof(msg));
	log_warnx("cookies, %s (%s)", what, msg);
}

int
cookie_secret_new(uint8_t *secret)
{
	if (RAND_bytes(secret, COOKIE_SECRET_LEN) != 1) {
		cookie_log_ssl("no random bytes for the server secret");
		return DR_EIO;
	}
	return 0;
}

int
cookie_mac_init(struct cookie_mac *m, const uint8_t *secret)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);

	memset(m, 0, sizeof(*m));
	if (mac == NULL) {
		cookie_log_ssl("OpenSSL has no SIPHASH");
		return DR_EIO;
	}
	m->ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context keeps its own reference */
	if (m->ctx == NULL)
		abort();
	memcpy(m->secret, secret, COOKIE_SECRET_LEN);
	return 0;
}

void
cookie_mac_close(struct cookie_mac *m)
{
	EVP_MAC_CTX_free(m->ctx);
	m->ctx = NULL;
	OPENSSL_cleanse(m->secret, sizeof(m->secret));
}

/*
 * The 8-byte hash of RFC 9018 4.4 over the client cookie, the first 8
 * bytes of a server cookie (version, reserved, timestamp) and the client
 * IP. The key is given at every init: cheap for SipHash, and it does not
 * depend on how an OpenSSL version restarts a keyed context.
 */
static void
cookie_hash(struct cookie_mac *m, const uint8_t *client, const uint8_t *head,
            const struct sockaddr *sa, uint8_t *out)
{
	uint8_t msg[COOKIE_CLIENT_LEN + 8 + ADDR_IP_MAX];
	size_t size = COOKIE_HASH_LEN, n, outl = 0;
	OSSL_PARAM params[] = {
		OSSL_PARAM_size_t(OSSL_MAC_PARAM_SIZE, &size),
		OSSL_PARAM_END,
	};

	memcpy(msg, client, COOKIE_CLIENT_LEN);
	memcpy(msg + COOKIE_CLIENT_LEN, head, 8);
	n = COOKIE_CLIENT_LEN + 8;
	n += addr_ip(sa, msg + n);
	if (EVP_MAC_init(m->ctx, m->secret, COOKIE_SECRET_LEN, params) != 1 ||
	    EVP_MAC_update(m->ctx, msg, n) != 1 ||
	    EVP_MAC_final(m->ctx, out, &outl, COOKIE_HASH_LEN) != 1 ||
	    outl != COOKIE_HASH_LEN)
		/* Only a broken OpenSSL fails here, never the input. */
		fatalx("cookies, SipHash failed");
}

void
cookie_make(struct cookie_mac *m, const uint8_t *client,
            const struct sockaddr *sa, uint32_t now, uint8_t *out)
{
	out[0] = COOKIE_VERSION;
	out[1] = out[2] = out[3] = 0;
	out[4] = (uint8_t)(now >> 24);
	out[5] = (uint8_t)(now >> 16);
	out[6] = (uint8_t)(now >> 8);
	out[7] = (uint8_t)now;
	cookie_hash(m, client, out, sa, out + 8);
}

int
cookie_answer(struct cookie_mac *m, const uint8_t *opt, size_t len,
              const struct sockaddr *sa, uint32_t now, uint8_t *out)
{
	const uint8_t *sc = opt + COOKIE_CLIENT_LEN;
	uint8_t hash[COOKIE_HASH_LEN];
	uint32_t ts;
	int32_t age;

	if (len != COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN ||
	    sc[0] != COOKIE_VERSION)
		goto fresh;
	ts = (uint32_t)sc[4] << 24 | (uint32_t)sc[5] << 16 |
	     (uint32_t)sc[6] << 8 | sc[7];
	/* RFC 1982 serial arithmetic: the timestamp may wrap in 2106. */
	age = (int32_t)(now - ts);
	if (age > COOKIE_MAX_AGE || age < -COOKIE_MAX_AHEAD)
		goto fresh;
	cookie_hash(m, opt, sc, sa, hash);
	if (CRYPTO_memcmp(hash, sc + 8, COOKIE_HASH_LEN) != 0)
		goto fresh;
	if (age > COOKIE_RENEW_AGE)
		cookie_make(m, opt, sa, now, out);
	else
		memcpy(out, sc, COOKIE_SERVER_LEN);
	return COOKIE_VALID;

fresh:
	cookie_make(m, opt, sa, now, out);
	return COOKIE_NEW;
}
