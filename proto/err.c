/*
 * err.c - names for nt_err: a sentence for people and the stable wire code.
 *
 * The wire codes are part of the protocol (docs/protocol.md section 5) and never change
 * meaning; internal conditions are folded into "unavailable" (retry with the same id) or
 * "internal".
 */
#include <string.h>

#include "nt_err.h"

static const struct {
	const char *code;
	const char *text;
} nt_err_names[NT__MAX] = {
	[NT_OK]		 = { "ok", "success" },
	[NT_EBADREQ]	 = { "bad_request", "the request is not valid" },
	[NT_EUNKNOWNOP]	 = { "unknown_op", "no such operation" },
	[NT_ENOTFOUND]	 = { "not_found", "no such object" },
	[NT_ECONFLICT]	 = { "conflict", "the request conflicts with an earlier one" },
	[NT_ETRANSITION] = { "invalid_transition", "not allowed in the current state" },
	[NT_EFORBIDDEN]	 = { "forbidden", "not allowed for this actor" },
	[NT_ETOOLARGE]	 = { "too_large", "too large" },
	[NT_EUNAVAIL]	 = { "unavailable", "the service cannot do this now" },
	[NT_EINTERNAL]	 = { "internal", "internal error" },
	[NT_ENOMEM]	 = { "unavailable", "out of memory" },
	[NT_EIO]	 = { "unavailable", "input/output error" },
	[NT_EMAPFULL]	 = { "unavailable", "the ledger is full" },
	[NT_ECORRUPT]	 = { "internal", "a stored record is corrupt" },
	[NT_EFORMAT]	 = { "internal", "the ledger was written in a format this version does not "
				"read (the development versions before units and people wrote format 1)" },
	[NT_ELOCKED]	 = { "unavailable", "the state directory is in use by another process" },
	[NT_EBADCONF]	 = { "internal", "invalid configuration" },
	[NT_ESYS]	 = { "unavailable", "a system call failed" },
	[NT_EPROTO]	 = { "internal", "the peer does not speak the nanti protocol" },
	[NT_ETIMEOUT]	 = { "unavailable", "no answer in time" },
};

const char *nt_strerror(nt_err e)
{
	if ((unsigned)e >= NT__MAX)
		return "unknown error";
	return nt_err_names[e].text;
}

const char *nt_err_code(nt_err e)
{
	if ((unsigned)e >= NT__MAX)
		return "internal";
	return nt_err_names[e].code;
}

nt_err nt_err_from_code(const char *code, unsigned long len)
{
	for (int e = NT_EBADREQ; e <= NT_EINTERNAL; e++) {
		const char *c = nt_err_names[e].code;
		if (strlen(c) == len && memcmp(c, code, len) == 0)
			return (nt_err)e;
	}
	return NT_EINTERNAL;
}
