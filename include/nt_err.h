/*
 * nt_err.h - the one error enumeration of nanti.
 *
 * Every module returns an nt_err: 0 (NT_OK) on success, a positive code otherwise.
 * The first block are the protocol's error codes: nt_err_code() gives the stable
 * wire string ("not_found", ...) that docs/protocol.md lists. The rest are internal
 * conditions; on the wire they all become "unavailable" or "internal".
 * LMDB, ZeroMQ and msgpack errors are translated at one boundary each
 * (ledger_err(), the loop, proto_parse()).
 */
#ifndef NT_ERR_H
#define NT_ERR_H

typedef enum nt_err {
	NT_OK = 0,
	/* protocol errors: one wire code each */
	NT_EBADREQ,	/* bad_request */
	NT_EUNKNOWNOP,	/* unknown_op */
	NT_ENOTFOUND,	/* not_found */
	NT_ECONFLICT,	/* conflict */
	NT_ETRANSITION,	/* invalid_transition */
	NT_EFORBIDDEN,	/* forbidden */
	NT_ETOOLARGE,	/* too_large */
	NT_EUNAVAIL,	/* unavailable */
	NT_EINTERNAL,	/* internal */
	/* internal conditions */
	NT_ENOMEM,	/* out of memory */
	NT_EIO,		/* an I/O error (errno says more) */
	NT_EMAPFULL,	/* the LMDB map is full */
	NT_ECORRUPT,	/* a stored record does not decode */
	NT_EFORMAT,	/* the ledger was written in another format */
	NT_ELOCKED,	/* another process holds the state directory */
	NT_EBADCONF,	/* configuration is invalid */
	NT_ESYS,	/* a system call failed (errno says more) */
	NT_EPROTO,	/* a peer sent something that is not our protocol */
	NT_ETIMEOUT,	/* no answer in time */
	NT__MAX
} nt_err;

/* A sentence for people: "no such case". Never NULL. */
const char *nt_strerror(nt_err e);

/* The stable wire code: "not_found". Internal conditions map to "unavailable" (can be
 * retried: resource, I/O) or "internal" (a bug). Never NULL. */
const char *nt_err_code(nt_err e);

/* The nt_err of a wire code, NT_EINTERNAL for one this version does not know. */
nt_err nt_err_from_code(const char *code, unsigned long len);

#endif
