/* Text reports for ctld: cluster status and the member list. */
#ifndef RAFTD_STATUS_H
#define RAFTD_STATUS_H

#include "node.h"
#include "wire.h"

/* Name of a c-raft server role (RAFT_VOTER...): "voter", ... "unknown". */
const char *status_role_name(int role);

/*
 * Appends "key value\n" lines: id, raft_id, role, leader, leader_raft_id,
 * term, commit_index, last_index, applied_index (Raft's last applied
 * index), change_seq, members (rows in members), voters (in the current
 * configuration), snapshot_index. (serve.c adds dumps_running, the zone
 * dumps holding a snapshot.)
 */
void status_text(struct node *n, struct dr_buf *out);

/*
 * Appends one line per member:
 * "ID RAFT_ADDR CTL_ADDR DNS_ADDR ROLE STATE CONTACT" with ROLE
 * voter|standby|spare|unknown from the configuration, STATE this node's
 * own state for itself (leader|follower|candidate|unavailable), "leader"
 * for the leader it knows and "follower" for the others, CONTACT the
 * milliseconds since this node last received a Raft message from the
 * member ("-" for itself or never), then " self" and/or " leader" when
 * they apply. Servers in the configuration without a members row follow
 * as "RAFT_ID RAFT_ADDR - - ROLE STATE CONTACT".
 */
void status_members_text(struct node *n, struct dr_buf *out);

#endif
