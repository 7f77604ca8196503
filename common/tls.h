/* TLS 1.3 with the cluster key as external PSK: the peers' secure channel. */
#ifndef DR_TLS_H
#define DR_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "key.h"

/*
 * Peers (raft connections, ctld-to-ctld forwarding and joins) prove that
 * they hold the cluster key with a TLS 1.3 handshake whose only credential
 * is an external pre-shared key (RFC 8446 section 2.2, OpenSSL 3): no
 * certificates, so a peer without the key cannot finish the handshake,
 * and both sides check the other's Finished message (mutual).
 *
 * - The PSK is not the key file's key itself but dr_key_derive(key,
 *   "<purpose> psk"), one per purpose ("raft", "ctl"), so that a
 *   connection made to one port cannot be replayed or reflected into
 *   another service.
 * - The PSK identity is "dns-raft/<purpose>/<key id>": the server finds
 *   the key among every key of its ring (rotation), the client uses
 *   keys[0].
 * - Key exchange is psk_dhe_ke (X25519): forward secrecy. One cipher
 *   suite, TLS_AES_128_GCM_SHA256. No session tickets, no resumption, no
 *   0-RTT data.
 */

struct dr_tls;
struct ssl_st;

/*
 * A TLS context for one purpose made from every key of kr (kr->n >= 1).
 * DR_EINVAL (no key) or DR_EIO (OpenSSL failed, logged).
 */
int dr_tls_new(struct dr_tls **out, const struct dr_keyring *kr,
               const char *purpose);
void dr_tls_free(struct dr_tls *t);

/*
 * The context for purpose from cfg's -cluster.key files (loaded, used,
 * wiped): *out is NULL without a key (peers then talk in the clear, on
 * loopback only). DR_EINVAL with the reason logged when a key file is
 * refused, DR_EIO if OpenSSL fails.
 */
int dr_tls_from_config(const struct dr_config *cfg, const char *purpose,
                       struct dr_tls **out);

/*
 * A new connection object (client or server side) bound to t, with memory
 * BIOs: the caller moves ciphertext in and out (see stream.c). NULL only
 * on out of memory.
 */
struct ssl_st *dr_tls_session(struct dr_tls *t, bool server);

/*
 * The key id the peer proved on an established server-side session s
 * (which of our keys it used), or NULL.
 */
const char *dr_tls_peer_key_id(struct ssl_st *s);

#endif
