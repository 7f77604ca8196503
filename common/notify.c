/* Readiness and shutdown notifications to systemd (sd_notify). */
#include "notify.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

#ifdef DR_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* Sends state, then "STATUS=status" when given, in one datagram. */
static void
notify_send(const char *state, const char *status)
{
#ifdef DR_HAVE_SYSTEMD
	char msg[512];
	int n, rv;

	if (status != NULL)
		n = snprintf(msg, sizeof(msg), "%s%sSTATUS=%s", state,
		             state[0] != '\0' ? "\n" : "", status);
	else
		n = snprintf(msg, sizeof(msg), "%s", state);
	if (n < 0)
		return;
	/* 0 = no $NOTIFY_SOCKET: not run as Type=notify, nothing to do. */
	rv = sd_notify(0, msg);
	if (rv < 0)
		log_warnx("systemd, cannot notify %s (%s)",
		          state[0] != '\0' ? state : "status", strerror(-rv));
	else if (rv > 0)
		log_debug("systemd, notified %s",
		          state[0] != '\0' ? state : msg);
#else
	(void)state;
	(void)status;
#endif
}

void
dr_notify_ready(const char *status)
{
	notify_send("READY=1", status);
}

void
dr_notify_stopping(const char *status)
{
	notify_send("STOPPING=1", status);
}

void
dr_notify_status(const char *status)
{
	if (status != NULL)
		notify_send("", status);
}
