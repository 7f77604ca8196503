/* The cluster members' hosts, for which ctld keeps connection slots. */
#ifndef CTLD_PEERS_H
#define CTLD_PEERS_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "bus.h"

/*
 * A connection's source is only an address when it is accepted: whether
 * it is a peer is known once it proved the cluster key (TLS), after the
 * limits for strangers were applied. So that strangers cannot crowd peers
 * out (and a follower forwarding many writes at once is not taken for
 * one), the hosts of the members' recorded raft and ctl addresses are
 * known here: connections from them skip the limits for non-loopback
 * clients (server.h) but still have to prove the key or send a token.
 *
 * The list comes from this node's raftd ("cluster members"), every
 * PEERS_REFRESH_MS; numeric addresses only (a host name in members is not
 * resolved), loopback ones left out (loopback has its own slots).
 */
#define PEERS_MAX        64
#define PEERS_REFRESH_MS 5000
#define PEERS_TIMEOUT_MS 2000

struct peers {
	uv_loop_t *loop;           /* borrowed */
	struct dr_bus_client *bus; /* borrowed: raftd */
	uv_timer_t timer;
	char hosts[PEERS_MAX][INET6_ADDRSTRLEN]; /* canonical text forms */
	unsigned n;
	bool asking;  /* a request to raftd is in flight */
	bool running; /* between peers_start and peers_stop */
};

/*
 * Starts asking raftd (through bus, borrowed) now and every
 * PEERS_REFRESH_MS. p must stay in memory until bus is stopped: a request
 * in flight is answered (DR_ECLOSED) then.
 */
void peers_start(struct peers *p, uv_loop_t *loop, struct dr_bus_client *bus);

/* Stops refreshing; the timer closes on a later loop turn. */
void peers_stop(struct peers *p);

/*
 * Replaces the list with the hosts of raftd's members text (len bytes,
 * lines "ID RAFT_ADDR CTL_ADDR DNS_ADDR ..."). Lines that do not parse are
 * skipped; at most PEERS_MAX hosts are kept.
 */
void peers_parse(struct peers *p, const uint8_t *text, size_t len);

/* True when host (a numeric address, as inet_ntop writes it) is listed. */
bool peers_has(const struct peers *p, const char *host);

#endif
