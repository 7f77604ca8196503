/* Error codes shared by every dns-raft module. */
#ifndef DR_ERR_H
#define DR_ERR_H

/*
 * Functions return 0 on success or one of these negative codes. Library
 * errors are translated at the boundary (and the library's message logged
 * there once).
 */
enum {
	DR_OK = 0,
	DR_EMALFORMED = -1, /* undecodable input */
	DR_EINVAL = -2,     /* bad argument */
	DR_EIO = -3,        /* file, database or socket error */
	DR_ENOTFOUND = -4,
	DR_ETIMEDOUT = -5,
	DR_ECLOSED = -6, /* peer or socket closed */
	DR_ETOOBIG = -7, /* input over a limit */
	DR_EBUSY = -8,
	DR_ENOTLEADER = -9,
	DR_EEXIST = -10, /* already there (a request applied before) */
};

/* Returns a static lowercase description of a DR_E* code. */
const char *dr_strerror(int rv);

#endif
