/* The cluster key: key files, generation, and keys derived per purpose. */
#ifndef DR_KEY_H
#define DR_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "flags.h"

/*
 * A key file holds one line: 64 hexadecimal digits (256 random bits) and
 * a newline. It must be a regular file that neither group nor others may
 * read or write (mode 0600 or 0400); systemd credentials
 * (LoadCredential=) are such files.
 */
#define DR_KEY_LEN 32
/* Key ids are 16 hex digits: what logs and TLS identities show of a key. */
#define DR_KEY_ID_LEN 16

struct dr_key {
	uint8_t bytes[DR_KEY_LEN];
	char id[DR_KEY_ID_LEN + 1]; /* see dr_key_load */
};

/* The node's keys: keys[0] is used to connect; every one is accepted. */
struct dr_keyring {
	struct dr_key keys[DR_MAX_KEYS];
	unsigned n; /* 0: no -cluster.key, loopback only */
};

/*
 * Writes a new random key to path, which must not exist (mode 0600).
 * DR_EIO with the reason in err on failure.
 */
int dr_key_generate(const char *path, char *err, size_t errlen);

/*
 * Reads the key in path and computes its id (the first 8 bytes of
 * HMAC-SHA256(key, "dns-raft key id"), in hex). DR_EINVAL with a reason
 * naming path in err: missing, not a regular file, readable or writable
 * by group or others, or not one line of 64 hex digits.
 */
int dr_key_load(const char *path, struct dr_key *out, char *err, size_t errlen);

/*
 * Loads every -cluster.key of cfg into kr (kr->n = 0 without one). Two
 * files holding the same key are refused. Errors as dr_key_load.
 */
int dr_keyring_load(const struct dr_config *cfg, struct dr_keyring *kr,
                    char *err, size_t errlen);

/* Overwrites the key bytes (before the memory is released). */
void dr_keyring_wipe(struct dr_keyring *kr);

/*
 * out = HMAC-SHA256(key, "dns-raft " purpose): one independent key per use
 * ("raft psk", "ctl psk", ...), so that a connection made for one use
 * cannot be replayed or reflected into another.
 */
void dr_key_derive(const struct dr_key *k, const char *purpose,
                   uint8_t out[DR_KEY_LEN]);

#endif
