/* Unit tests for common/notify: the datagrams systemd would receive. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "unit.h"

static int sock = -1;
static char dir[] = "/tmp/drnotifyXXXXXX";
static char path[64];

/* The next datagram as a string ("" after 2 s without one). */
static const char *
next_msg(void)
{
	static char buf[600];
	ssize_t n = recv(sock, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
test_messages(void)
{
	dr_notify_ready("serving 3 zones");
	CHECK_EQ_STR(next_msg(), "READY=1\nSTATUS=serving 3 zones");
	dr_notify_status("joining");
	CHECK_EQ_STR(next_msg(), "STATUS=joining");
	/* No status: nothing is sent, so the next datagram is STOPPING. */
	dr_notify_status(NULL);
	dr_notify_stopping(NULL);
	CHECK_EQ_STR(next_msg(), "STOPPING=1");
}

static void
test_without_socket(void)
{
	unsetenv("NOTIFY_SOCKET");
	/* Not run by systemd: quietly nothing. */
	dr_notify_ready("x");
	dr_notify_stopping("y");
	CHECK(1);
}

int
main(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 2 };

	dr_log_init("test", false);
	if (mkdtemp(dir) == NULL)
		return 1;
	(void)snprintf(path, sizeof(path), "%s/notify", dir);
	(void)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	sock = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		return 1;
	setenv("NOTIFY_SOCKET", path, 1);

	RUN(test_messages);
	RUN(test_without_socket);

	close(sock);
	unlink(path);
	rmdir(dir);
	return UNIT_DONE();
}
