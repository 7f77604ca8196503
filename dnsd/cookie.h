/* Server-side DNS cookies (RFC 7873) with the interoperable server cookie
 * of RFC 9018: version 1, a timestamp and SipHash-2-4 from OpenSSL. */
#ifndef DNSD_COOKIE_H
#define DNSD_COOKIE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * RFC 9018 server cookie (16 bytes), as sent in the COOKIE option after
 * the 8-byte client cookie:
 *
 *   offset  size  field
 *   0       1     version (1)
 *   1       3     reserved (0 in ours; hashed as received when checked)
 *   4       4     timestamp, Unix seconds, big-endian (serial arithmetic)
 *   8       8     SipHash-2-4(client cookie | bytes 0..7 | client IP,
 *                             server secret), 64-bit output
 *
 * The client IP is 4 bytes for IPv4 (IPv4-mapped included), 16 for IPv6.
 */
#define COOKIE_CLIENT_LEN 8
#define COOKIE_SERVER_LEN 16   /* ours; others send 8..32 bytes */
#define COOKIE_OPT_MIN    8    /* client cookie only */
#define COOKIE_OPT_MAX    40   /* client + 32 bytes of server cookie */
#define COOKIE_SECRET_LEN 16   /* SipHash key */
#define COOKIE_MAX_AGE    3600 /* older server cookies are not valid */
#define COOKIE_MAX_AHEAD  300  /* nor ones from further in the future */
#define COOKIE_RENEW_AGE  1800 /* older valid ones get a fresh one back */

/* What a query's COOKIE option turned out to be. */
enum {
	COOKIE_NONE = 0,  /* no COOKIE option (or cookies not in use) */
	COOKIE_NEW = 1,   /* client cookie only, or a server cookie that is
	                     not (or no longer) valid: a fresh one is sent */
	COOKIE_VALID = 2, /* one of our server cookies, in date */
};

/*
 * One thread's SipHash context with the server secret. dnsd's secret is
 * random and drawn at every start (cookie_secret_new): cookies handed out
 * before a restart, or by another node, are answered as client cookies
 * only and renewed. Not thread-safe: one per answering thread.
 */
struct cookie_mac {
	void *ctx; /* owned: EVP_MAC_CTX */
	uint8_t secret[COOKIE_SECRET_LEN];
};

/* Fills secret with random bytes (OpenSSL). DR_EIO if none (logged). */
int cookie_secret_new(uint8_t *secret);

/*
 * Prepares m for secret (COOKIE_SECRET_LEN bytes, copied). DR_EIO if
 * OpenSSL has no SipHash (logged); m then needs no close.
 */
int cookie_mac_init(struct cookie_mac *m, const uint8_t *secret);
void cookie_mac_close(struct cookie_mac *m);

/*
 * Our server cookie for the client cookie (COOKIE_CLIENT_LEN bytes) from
 * sa at Unix time now: COOKIE_SERVER_LEN bytes into out.
 */
void cookie_make(struct cookie_mac *m, const uint8_t *client,
                 const struct sockaddr *sa, uint32_t now, uint8_t *out);

/*
 * Judges the data of a received COOKIE option (len bytes, already checked
 * to be COOKIE_OPT_MIN or 16..COOKIE_OPT_MAX) from sa at now, and writes
 * the server cookie to send back into out (COOKIE_SERVER_LEN bytes): the
 * received one while it is valid and younger than COOKIE_RENEW_AGE, else
 * a fresh one. Returns COOKIE_VALID or COOKIE_NEW.
 */
int cookie_answer(struct cookie_mac *m, const uint8_t *opt, size_t len,
                  const struct sockaddr *sa, uint32_t now, uint8_t *out);

#endif
