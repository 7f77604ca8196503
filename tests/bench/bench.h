/* Helpers the bench tools share: clock, sockets, latency samples. */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

/* Latency samples in microseconds (a growing array). */
struct bench_samples {
	uint32_t *us; /* owned */
	size_t n, cap;
};

/* Monotonic time in seconds. */
double bench_now(void);

/*
 * Splits "HOST:PORT" (the last colon) into host (NUL-terminated, at most
 * hostlen - 1 bytes) and *port, which points into arg. Returns 0, or -1
 * when arg has no colon, an empty host or a host too long.
 */
int bench_split_hostport(const char *arg, char *host, size_t hostlen,
                         const char **port);

/*
 * A connected socket of socktype (SOCK_STREAM or SOCK_DGRAM) to host:port;
 * TCP sockets get TCP_NODELAY. Returns the fd, or -1 with a message in err.
 */
int bench_connect(const char *host, const char *port, int socktype, char *err,
                  size_t errlen);

/* Sets SO_RCVTIMEO and SO_SNDTIMEO of fd to secs seconds. */
void bench_set_timeouts(int fd, unsigned secs);

/* Sends all of buf on blocking fd (MSG_NOSIGNAL). Returns 0, or -1 with
 * errno set. */
int bench_send_all(int fd, const void *buf, size_t len);

/* Adds one sample of secs seconds (negative counts as 0). Aborts when out
 * of memory. */
void bench_samples_add(struct bench_samples *s, double secs);

/* Appends every sample of src to dst. */
void bench_samples_merge(struct bench_samples *dst,
                         const struct bench_samples *src);

/* Sorts the samples; call before bench_samples_pct and _max. */
void bench_samples_sort(struct bench_samples *s);

/* The p-quantile (0..1, nearest rank) of sorted samples in ms; 0 when
 * empty. */
double bench_samples_pct(const struct bench_samples *s, double p);

/* The largest of sorted samples in ms; 0 when empty. */
double bench_samples_max(const struct bench_samples *s);

/* Frees the samples' array; s is empty afterwards. */
void bench_samples_free(struct bench_samples *s);

/* Parses a decimal unsigned in [min, max] into *out. Returns 0 or -1. */
int bench_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out);

#endif
