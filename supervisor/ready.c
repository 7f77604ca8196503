/* The supervisor's end of sd_notify: which daemons said READY=1. */
#include "ready.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "flags.h"
#include "log.h"

/* sd_notify messages are short "KEY=VALUE" lines; the rest is cut. */
#define READY_MSG_MAX 4096
/* Room for the sender's credentials and a few stray descriptors. */
#define READY_MAX_FDS 16

struct ready {
	uv_poll_t poll;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ready_cb cb;
	void *arg; /* borrowed */
};

/* True when one line of msg[0..len) is exactly READY=1. */
static bool
ready_says_ready(const char *msg, size_t len)
{
	static const char want[] = "READY=1";
	const char *p = msg, *end = msg + len, *eol;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) == sizeof(want) - 1 &&
		    memcmp(p, want, sizeof(want) - 1) == 0)
			return true;
		p = eol + 1;
	}
	return false;
}

/* Handles one datagram; false when none is queued. */
static bool
ready_read_one(struct ready *r)
{
	char msg[READY_MSG_MAX];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
		         CMSG_SPACE(sizeof(int) * READY_MAX_FDS)];
	} ctl;
	struct iovec iov = { msg, sizeof(msg) };
	struct msghdr mh;
	struct cmsghdr *c;
	struct ucred cred;
	bool have_cred = false;
	ssize_t n;
	size_t i, nfds;
	int *fds;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	n = recvmsg(r->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("supervisor, notify socket");
		return false;
	}
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(cred))) {
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			have_cred = true;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			/* Nobody may leave descriptors with us. */
			fds = (int *)CMSG_DATA(c);
			nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < nfds; i++)
				close(fds[i]);
		}
	}
	if (have_cred && cred.uid == getuid() &&
	    ready_says_ready(msg, (size_t)n))
		r->cb(cred.pid, r->arg);
	return true;
}

void
ready_drain(struct ready *r)
{
	while (ready_read_one(r))
		;
}

static void
ready_poll_cb(uv_poll_t *h, int status, int events)
{
	struct ready *r = h->data;

	(void)events;
	if (status < 0) {
		log_warnx("supervisor, notify socket (%s)",
		          uv_strerror(status));
		return;
	}
	ready_drain(r);
}

int
ready_start(struct ready **out, uv_loop_t *loop, const char *path, ready_cb cb,
            void *arg)
{
	struct sockaddr_un sun;
	struct ready *r;
	int on = 1, rv;

	if (strlen(path) >= sizeof(sun.sun_path))
		return DR_EINVAL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		abort();
	r->cb = cb;
	r->arg = arg;
	memcpy(r->path, path, strlen(path) + 1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (r->fd < 0) {
		log_warn("supervisor, notify socket");
		goto err_after_alloc;
	}
	if (setsockopt(r->fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0) {
		log_warn("supervisor, notify socket SO_PASSCRED");
		goto err_after_socket;
	}
	/* A previous supervisor of this node left its socket behind. */
	if (unlink(path) != 0 && errno != ENOENT) {
		log_warn("supervisor, cannot remove %s", path);
		goto err_after_socket;
	}
	if (bind(r->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		log_warn("supervisor, cannot bind %s", path);
		goto err_after_socket;
	}
	rv = uv_poll_init(loop, &r->poll, r->fd);
	if (rv != 0) {
		log_warnx("supervisor, cannot watch %s (%s)", path,
		          uv_strerror(rv));
		goto err_after_bind;
	}
	r->poll.data = r;
	rv = uv_poll_start(&r->poll, UV_READABLE, ready_poll_cb);
	if (rv != 0) {
		log_warnx("supervisor, cannot watch %s (%s)", path,
		          uv_strerror(rv));
		ready_stop(r); /* the handle is initialized: close it */
		return DR_EIO;
	}
	*out = r;
	return 0;

err_after_bind:
	unlink(path);
err_after_socket:
	close(r->fd);
err_after_alloc:
	free(r);
	return DR_EIO;
}

static void
ready_close_cb(uv_handle_t *h)
{
	free(h->data);
}

void
ready_stop(struct ready *r)
{
	uv_poll_stop(&r->poll);
	close(r->fd);
	unlink(r->path);
	uv_close((uv_handle_t *)&r->poll, ready_close_cb);
}
