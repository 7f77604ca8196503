/* Descriptions of the DR_E* error codes. */
#include "err.h"

const char *
dr_strerror(int rv)
{
	switch (rv) {
	case DR_OK:
		return "success";
	case DR_EMALFORMED:
		return "malformed input";
	case DR_EINVAL:
		return "invalid argument";
	case DR_EIO:
		return "i/o error";
	case DR_ENOTFOUND:
		return "not found";
	case DR_ETIMEDOUT:
		return "timed out";
	case DR_ECLOSED:
		return "closed";
	case DR_ETOOBIG:
		return "too big";
	case DR_EBUSY:
		return "busy";
	case DR_ENOTLEADER:
		return "not leader";
	case DR_EEXIST:
		return "already there";
	default:
		return "unknown error";
	}
}
