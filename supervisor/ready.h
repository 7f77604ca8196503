/* The supervisor's end of sd_notify: which daemons said READY=1. */
#ifndef DR_READY_H
#define DR_READY_H

#include <sys/types.h>
#include <uv.h>

/*
 * The daemons tell systemd when they really serve (common/notify.h):
 * "READY=1" in a datagram to the unix socket named by $NOTIFY_SOCKET.
 * The supervisor gives them a socket of its own and learns from it which
 * daemon has started, the kernel telling who sent each datagram
 * (SCM_CREDENTIALS). Anything else in a datagram is ignored.
 */

struct ready;

/* pid (a process of this user) said READY=1. */
typedef void (*ready_cb)(pid_t pid, void *arg);

/*
 * Binds a datagram socket at path (replacing a stale one) and watches it
 * on loop, calling cb for each READY=1. Returns DR_EINVAL for a path too
 * long for a unix socket, DR_EIO (logged) when the socket cannot be made.
 */
int ready_start(struct ready **out, uv_loop_t *loop, const char *path,
                ready_cb cb, void *arg);

/*
 * Handles the datagrams already queued, now: a daemon that said READY=1
 * just before dying is known to have started when its exit is judged.
 */
void ready_drain(struct ready *r);

/* Closes the socket, removes its file; r is freed once libuv is done. */
void ready_stop(struct ready *r);

#endif
