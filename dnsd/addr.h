/* Client addresses as bytes: what cookies hash, RRL groups and the TCP
 * per-source cap counts. */
#ifndef DNSD_ADDR_H
#define DNSD_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_IP_MAX         16
#define ADDR_V6_HOST_PREFIX 64 /* bits of an IPv6 address naming a host */

/*
 * Copies the IP address of sa into out (ADDR_IP_MAX bytes) and returns its
 * length: 4 for IPv4 (an IPv4-mapped IPv6 address counts as IPv4, so a
 * dual-stack socket sees the same client as an IPv4 one), 16 for IPv6, 0
 * for any other family (out untouched).
 */
size_t addr_ip(const struct sockaddr *sa, uint8_t *out);

/*
 * True when a and b are one client for a per-source limit: the same IPv4
 * address, or the same IPv6 /64 (ADDR_V6_HOST_PREFIX), which is what one
 * IPv6 host usually has to itself (SLAAC, RFC 7421): counting single IPv6
 * addresses would let one host take any number of slots. Ports ignored.
 */
bool addr_same_source(const struct sockaddr *a, const struct sockaddr *b);

#endif
