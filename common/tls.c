/* TLS 1.3 with the cluster key as external PSK: the peers' secure channel. */
#include "tls.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"

/* The one cipher suite, TLS_AES_128_GCM_SHA256 (RFC 8446 B.4). */
static const unsigned char tls_suite_id[2] = { 0x13, 0x01 };

struct tls_psk {
	uint8_t psk[DR_KEY_LEN];
	char identity[64]; /* "dns-raft/<purpose>/<key id>" */
	char id[DR_KEY_ID_LEN + 1];
};

struct dr_tls {
	SSL_CTX *ctx;
	struct tls_psk keys[DR_MAX_KEYS];
	unsigned n;
};

/* Logs OpenSSL's queued errors once, as one line. */
static void
tls_log_errors(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0) {
		log_warnx("tls, %s failed", what);
		return;
	}
	ERR_error_string_n(e, buf, sizeof(buf));
	log_warnx("tls, %s failed (%s)", what, buf);
	ERR_clear_error();
}

/* A resumable-looking session that carries the PSK for this handshake. */
static SSL_SESSION *
tls_psk_session(const struct tls_psk *k, const SSL_CIPHER *suite)
{
	SSL_SESSION *s = SSL_SESSION_new();

	if (s == NULL)
		return NULL;
	if (SSL_SESSION_set1_master_key(s, k->psk, sizeof(k->psk)) != 1 ||
	    SSL_SESSION_set_cipher(s, suite) != 1 ||
	    SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION) != 1) {
		SSL_SESSION_free(s);
		return NULL;
	}
	return s;
}

static struct dr_tls *
tls_of(SSL *ssl)
{
	return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

/* Client: offer keys[0]'s PSK. Returning 0 aborts the handshake. */
static int
tls_use_session_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id,
                   size_t *idlen, SSL_SESSION **sess)
{
	struct dr_tls *t = tls_of(ssl);
	const SSL_CIPHER *suite = SSL_CIPHER_find(ssl, tls_suite_id);

	*sess = NULL;
	*id = NULL;
	*idlen = 0;
	if (suite == NULL)
		return 0;
	/* After a HelloRetryRequest md is the hash already chosen. */
	if (md != NULL && md != SSL_CIPHER_get_handshake_digest(suite))
		return 0;
	*sess = tls_psk_session(&t->keys[0], suite);
	if (*sess == NULL)
		return 0;
	*id = (const unsigned char *)t->keys[0].identity;
	*idlen = strlen(t->keys[0].identity);
	return 1;
}

/*
 * Server: find the PSK for the identity among every key. An unknown
 * identity gets no session, and without a certificate the handshake then
 * fails.
 */
static int
tls_find_session_cb(SSL *ssl, const unsigned char *identity, size_t len,
                    SSL_SESSION **sess)
{
	struct dr_tls *t = tls_of(ssl);
	const SSL_CIPHER *suite = SSL_CIPHER_find(ssl, tls_suite_id);
	unsigned i;

	*sess = NULL;
	if (suite == NULL)
		return 0;
	for (i = 0; i < t->n; i++) {
		const struct tls_psk *k = &t->keys[i];

		if (strlen(k->identity) != len ||
		    CRYPTO_memcmp(k->identity, identity, len) != 0)
			continue;
		*sess = tls_psk_session(k, suite);
		if (*sess == NULL)
			return 0;
		SSL_set_app_data(ssl, (void *)k->id);
		return 1;
	}
	return 1;
}

int
dr_tls_new(struct dr_tls **out, const struct dr_keyring *kr,
           const char *purpose)
{
	struct dr_tls *t;
	char what[64];
	unsigned i;

	*out = NULL;
	if (kr->n == 0 || strlen(purpose) > 16)
		return DR_EINVAL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		abort();
	t->n = kr->n;
	for (i = 0; i < kr->n; i++) {
		snprintf(what, sizeof(what), "%s psk", purpose);
		dr_key_derive(&kr->keys[i], what, t->keys[i].psk);
		snprintf(t->keys[i].identity, sizeof(t->keys[i].identity),
		         "dns-raft/%s/%s", purpose, kr->keys[i].id);
		memcpy(t->keys[i].id, kr->keys[i].id, sizeof(t->keys[i].id));
	}
	t->ctx = SSL_CTX_new(TLS_method());
	if (t->ctx == NULL)
		goto err;
	SSL_CTX_set_app_data(t->ctx, t);
	if (SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(t->ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(t->ctx, "TLS_AES_128_GCM_SHA256") != 1 ||
	    SSL_CTX_set1_groups_list(t->ctx, "X25519") != 1 ||
	    SSL_CTX_set_num_tickets(t->ctx, 0) != 1)
		goto err;
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_max_early_data(t->ctx, 0);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_psk_use_session_callback(t->ctx, tls_use_session_cb);
	SSL_CTX_set_psk_find_session_callback(t->ctx, tls_find_session_cb);
	*out = t;
	return 0;
err:
	tls_log_errors("context setup");
	dr_tls_free(t);
	return DR_EIO;
}

void
dr_tls_free(struct dr_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
}

int
dr_tls_from_config(const struct dr_config *cfg, const char *purpose,
                   struct dr_tls **out)
{
	struct dr_keyring kr;
	char err[1024];
	int rv;

	*out = NULL;
	if (cfg->n_cluster_keys == 0)
		return 0;
	if (dr_keyring_load(cfg, &kr, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return DR_EINVAL;
	}
	rv = dr_tls_new(out, &kr, purpose);
	dr_keyring_wipe(&kr);
	return rv;
}

struct ssl_st *
dr_tls_session(struct dr_tls *t, bool server)
{
	SSL *ssl = SSL_new(t->ctx);
	BIO *rbio, *wbio;

	if (ssl == NULL)
		return NULL;
	rbio = BIO_new(BIO_s_mem());
	wbio = BIO_new(BIO_s_mem());
	if (rbio == NULL || wbio == NULL) {
		BIO_free(rbio);
		BIO_free(wbio);
		SSL_free(ssl);
		return NULL;
	}
	/* An empty read BIO means "want more", not end of file. */
	BIO_set_mem_eof_return(rbio, -1);
	BIO_set_mem_eof_return(wbio, -1);
	SSL_set_bio(ssl, rbio, wbio);
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	return ssl;
}

const char *
dr_tls_peer_key_id(struct ssl_st *s)
{
	return SSL_is_server(s) ? SSL_get_app_data(s) : NULL;
}
