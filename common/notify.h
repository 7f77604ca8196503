/* Readiness and shutdown notifications to systemd (sd_notify). */
#ifndef DR_NOTIFY_H
#define DR_NOTIFY_H

/*
 * Each call sends one state to the service manager named by
 * $NOTIFY_SOCKET; without it (not run by systemd as Type=notify, or built
 * without libsystemd) they do nothing. A failure to send is logged once
 * per call and otherwise ignored: notifications never stop a daemon.
 * status is a one-line human text shown by `systemctl status` (may be
 * NULL).
 */

/* "READY=1": the process can really serve now. Call once. */
void dr_notify_ready(const char *status);

/* "STOPPING=1": an orderly shutdown has begun. */
void dr_notify_stopping(const char *status);

/* "STATUS=...": a state change worth showing, no readiness change. */
void dr_notify_status(const char *status);

#endif
