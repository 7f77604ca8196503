/* Client addresses as bytes: what cookies hash, RRL groups and the TCP
 * per-source cap counts. */
#ifndef DNSD_ADDR_H
#define DNSD_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_IP_MAX 16

/*
 * Copies the IP address of sa into out (ADDR_IP_MAX bytes) and returns its
 * length: 4 for IPv4 (an IPv4-mapped IPv6 address counts as IPv4, so a
 * dual-stack socket sees the same client as an IPv4 one), 16 for IPv6, 0
 * for any other family (out untouched).
 */
size_t addr_ip(const struct sockaddr *sa, uint8_t *out);

/* True when a and b have the same IP address (ports ignored). */
bool addr_same_ip(const struct sockaddr *a, const struct sockaddr *b);

#endif
