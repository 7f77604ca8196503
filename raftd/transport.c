/* c-raft's TCP transport with TCP_NODELAY on every connection. */
#include "transport.h"

#include <stdlib.h>
#include <string.h>

struct transport_connect {
	struct raft_uv_connect req;    /* given to raft_uv_tcp */
	struct raft_uv_connect *outer; /* c-raft's request */
};

static void
transport_nodelay(struct uv_stream_s *stream)
{
	if (stream != NULL && stream->type == UV_TCP)
		uv_tcp_nodelay((uv_tcp_t *)stream, 1);
}

static void
transport_copy_errmsg(struct transport *tr)
{
	memcpy(tr->t.errmsg, tr->inner.errmsg, sizeof(tr->t.errmsg));
}

static int
transport_init_cb(struct raft_uv_transport *t, raft_id id, const char *address)
{
	struct transport *tr = t->impl;
	int rv = tr->inner.init(&tr->inner, id, address);

	if (rv != 0)
		transport_copy_errmsg(tr);
	return rv;
}

static void
transport_accept_cb(struct raft_uv_transport *inner, raft_id id,
                    const char *address, struct uv_stream_s *stream)
{
	struct transport *tr = inner->data;

	transport_nodelay(stream);
	tr->accept_cb(&tr->t, id, address, stream);
}

static int
transport_listen_cb(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
	struct transport *tr = t->impl;
	int rv;

	tr->accept_cb = cb;
	rv = tr->inner.listen(&tr->inner, transport_accept_cb);
	if (rv != 0)
		transport_copy_errmsg(tr);
	return rv;
}

static void
transport_connected_cb(struct raft_uv_connect *req, struct uv_stream_s *stream,
                       int status)
{
	struct transport_connect *c = req->data;
	struct raft_uv_connect *outer = c->outer;

	free(c);
	if (status == 0)
		transport_nodelay(stream);
	outer->cb(outer, stream, status);
}

static int
transport_connect_cb(struct raft_uv_transport *t, struct raft_uv_connect *req,
                     raft_id id, const char *address, raft_uv_connect_cb cb)
{
	struct transport *tr = t->impl;
	struct transport_connect *c = calloc(1, sizeof(*c));
	int rv;

	if (c == NULL)
		return RAFT_NOMEM;
	req->cb = cb;
	c->outer = req;
	c->req.data = c;
	rv = tr->inner.connect(&tr->inner, &c->req, id, address,
	                       transport_connected_cb);
	if (rv != 0) {
		free(c);
		transport_copy_errmsg(tr);
	}
	return rv;
}

static void
transport_closed_cb(struct raft_uv_transport *inner)
{
	struct transport *tr = inner->data;

	if (tr->close_cb != NULL)
		tr->close_cb(&tr->t);
}

static void
transport_close_cb(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
	struct transport *tr = t->impl;

	tr->close_cb = cb;
	tr->inner.close(&tr->inner, transport_closed_cb);
}

int
transport_init(struct transport *tr, uv_loop_t *loop, const char *bind_address)
{
	int rv;

	memset(tr, 0, sizeof(*tr));
	rv = raft_uv_tcp_init(&tr->inner, loop);
	if (rv != 0)
		return rv;
	tr->inner.data = tr;
	if (bind_address != NULL && (rv = raft_uv_tcp_set_bind_address(
	                                 &tr->inner, bind_address)) != 0) {
		raft_uv_tcp_close(&tr->inner);
		return rv;
	}
	tr->t.impl = tr;
	tr->t.init = transport_init_cb;
	tr->t.listen = transport_listen_cb;
	tr->t.connect = transport_connect_cb;
	tr->t.close = transport_close_cb;
	return 0;
}

void
transport_close(struct transport *tr)
{
	raft_uv_tcp_close(&tr->inner);
}
