/* Helpers the bench tools share: clock, sockets, latency samples. */
#include "bench.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
bench_split_hostport(const char *arg, char *host, size_t hostlen,
                     const char **port)
{
	const char *colon = strrchr(arg, ':');

	if (colon == NULL || colon == arg || (size_t)(colon - arg) >= hostlen ||
	    colon[1] == '\0')
		return -1;
	memcpy(host, arg, (size_t)(colon - arg));
	host[colon - arg] = '\0';
	*port = colon + 1;
	return 0;
}

int
bench_connect(const char *host, const char *port, int socktype, char *err,
              size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, rv, one = 1, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	rv = getaddrinfo(host, port, &hints, &res);
	if (rv != 0) {
		snprintf(err, errlen, "getaddrinfo %s:%s: %s", host, port,
		         gai_strerror(rv));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "connect %s:%s: %s", host, port,
		         strerror(saved));
		return -1;
	}
	/* Small requests, each awaited: Nagle would only add latency. */
	if (socktype == SOCK_STREAM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

void
bench_set_timeouts(int fd, unsigned secs)
{
	struct timeval tmo = { (time_t)secs, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
}

int
bench_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
bench_samples_add(struct bench_samples *s, double secs)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint32_t *p = realloc(s->us, cap * sizeof(*p));

		if (p == NULL)
			abort();
		s->us = p;
		s->cap = cap;
	}
	if (secs < 0)
		secs = 0;
	/* 4295 s fit in 32 bits of microseconds; nothing here waits that. */
	s->us[s->n++] = (uint32_t)(secs * 1e6 + 0.5);
}

void
bench_samples_merge(struct bench_samples *dst, const struct bench_samples *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		bench_samples_add(dst, src->us[i] / 1e6);
}

static int
bench_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void
bench_samples_sort(struct bench_samples *s)
{
	if (s->n > 1)
		qsort(s->us, s->n, sizeof(*s->us), bench_cmp_u32);
}

double
bench_samples_pct(const struct bench_samples *s, double p)
{
	if (s->n == 0)
		return 0;
	return s->us[(size_t)(p * (double)(s->n - 1) + 0.5)] / 1e3;
}

double
bench_samples_max(const struct bench_samples *s)
{
	return s->n ? s->us[s->n - 1] / 1e3 : 0.0;
}

void
bench_samples_free(struct bench_samples *s)
{
	free(s->us);
	s->us = NULL;
	s->n = s->cap = 0;
}

int
bench_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || errno != 0 || *end != '\0' || v < min ||
	    v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}
