/* Cluster membership on the leader: join, remove, transfer, self record. */
#ifndef RAFTD_MEMBERSHIP_H
#define RAFTD_MEMBERSHIP_H

#include "node.h"

/*
 * Each operation returns DR_ENOTLEADER (cb not called) when this node is
 * not the leader; otherwise 0, and cb runs exactly once, possibly before
 * the function returns. c-raft allows one configuration change at a time:
 * a concurrent one ends with DR_ST_BUSY "membership change in progress".
 */

/*
 * Makes node id a voter at raft_addr (raft_add as spare, then
 * raft_assign voter) and records it in members (DR_CMD_MEMBER_ADD).
 * Idempotent for the same addresses (the joiner retries). Refused when id
 * is recorded with other addresses, or another member has raft_addr: a
 * join never rewrites a member (cluster update does, explicitly).
 */
int membership_join(struct node *n, const char *id, const char *raft_addr,
                    const char *ctl_addr, const char *dns_addr, node_done_cb cb,
                    void *arg);

/*
 * Changes the ctl and dns addresses recorded for member id (its members
 * row, which forwarding trusts). raft_addr must be the one id has in the
 * Raft configuration: a new Raft address needs cluster remove and a new
 * join.
 */
int membership_update(struct node *n, const char *id, const char *raft_addr,
                      const char *ctl_addr, const char *dns_addr,
                      node_done_cb cb, void *arg);

/* raft_remove, then DR_CMD_MEMBER_DEL. The leader cannot remove itself. */
int membership_remove(struct node *n, const char *id, node_done_cb cb,
                      void *arg);

/* raft_transfer to id ("" = let c-raft choose a voter). */
int membership_transfer(struct node *n, const char *id, node_done_cb cb,
                        void *arg);

/*
 * Called when this node becomes leader: once everything before is
 * applied, adds this node to members if its row is missing or stale
 * (right after bootstrap it always is).
 */
void membership_ensure_self(struct node *n);

#endif
