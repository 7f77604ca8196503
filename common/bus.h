/* nng IPC for dns-raft: req/rep and pub/sub, delivered on the libuv loop. */
#ifndef DR_BUS_H
#define DR_BUS_H

#include <stddef.h>
#include <uv.h>

/*
 * This is the only module that calls nng. Every callback below runs on the
 * thread of the uv loop given at start (nng's own threads only queue work
 * and wake the loop with uv_async_send). All functions must be called on
 * the loop thread. Messages are copied in both directions: callers keep
 * ownership of what they pass and must copy what they receive if they
 * need it after the callback returns.
 */

/* --- rep side (raftd) --- */
struct dr_bus_server;
struct dr_bus_call; /* one received request waiting for its reply */

typedef void (*dr_bus_request_cb)(struct dr_bus_call *call, const void *data,
                                  size_t len, void *arg);

/*
 * Listens on url with nctx concurrent contexts (requests beyond that wait
 * in nng). cb gets every request; it, or code later on the loop thread,
 * must answer each call exactly once with dr_bus_reply. Returns DR_EIO on
 * a listen failure (logged).
 */
int dr_bus_server_start(struct dr_bus_server **out, uv_loop_t *loop,
                        const char *url, unsigned nctx, dr_bus_request_cb cb,
                        void *arg);
/* Sends the reply (copied) and frees call. */
void dr_bus_reply(struct dr_bus_call *call, const void *data, size_t len);
/* The same with a DR_MSG_REPLY of status and payload (wire.h) built here. */
void dr_bus_reply_status(struct dr_bus_call *call, int status,
                         const void *payload, size_t len);
/* Closes the socket; calls not yet replied to must not be used after. */
void dr_bus_server_stop(struct dr_bus_server *s);
/* DR_MSG_BATCH requests taken so far (their parts came one by one). */
unsigned long dr_bus_server_batches(const struct dr_bus_server *s);

/* --- req side (ctld, dnsd) --- */
struct dr_bus_client;

/*
 * rv is 0 with the reply bytes, or DR_ETIMEDOUT / DR_ECLOSED with
 * data NULL. Called exactly once per successful dr_bus_request.
 */
typedef void (*dr_bus_reply_cb)(int rv, const void *data, size_t len,
                                void *arg);

/* Dials url in the background (redials forever if the server restarts). */
int dr_bus_client_start(struct dr_bus_client **out, uv_loop_t *loop,
                        const char *url);
/*
 * Sends one request; cb runs with the reply or after timeout_ms. nng never
 * resends a request on its own (an APPLY must not be proposed twice).
 * Writes (DR_MSG_APPLY up to 64 KiB) wait for the end of the loop turn:
 * those of one turn go in one DR_MSG_BATCH (wire.h), which the server
 * side splits again, so callers on both sides see single requests; if
 * the batch fails (timeout: the longest of theirs), each gets the error.
 */
int dr_bus_request(struct dr_bus_client *c, const void *data, size_t len,
                   unsigned timeout_ms, dr_bus_reply_cb cb, void *arg);
/* Closes the socket; pending callbacks run with DR_ECLOSED first. */
void dr_bus_client_stop(struct dr_bus_client *c);

/* --- pub side (raftd) --- */
struct dr_bus_pub;

int dr_bus_pub_open(struct dr_bus_pub **out, const char *url);
/* Never blocks: a slow subscriber loses messages (and must resync). */
int dr_bus_publish(struct dr_bus_pub *p, const void *data, size_t len);
void dr_bus_pub_close(struct dr_bus_pub *p);

/* --- sub side (dnsd) --- */
struct dr_bus_sub;

typedef void (*dr_bus_msg_cb)(const void *data, size_t len, void *arg);

/* Subscribes to everything published on url (dialed in the background). */
int dr_bus_sub_start(struct dr_bus_sub **out, uv_loop_t *loop, const char *url,
                     dr_bus_msg_cb cb, void *arg);
void dr_bus_sub_stop(struct dr_bus_sub *s);

#endif
