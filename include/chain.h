/*
 * chain.h - the log's hash chain (daemon/chain.c; docs/security.md says what it proves).
 *
 * Every log entry ends with a pair "hash": 64 hex digits, the BLAKE2b-256 of the previous
 * entry's hash (32 bytes; zeros before the first entry) followed by the entry's content:
 * the MessagePack bytes of all its other pairs, exactly as stored, without the map's
 * header. A change to any entry changes its hash and so every hash after it.
 */
#ifndef CHAIN_H
#define CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "nt_err.h"
#include "proto.h"

#define CHAIN_LEN 32			/* bytes of a hash */
#define CHAIN_HEX (2 * CHAIN_LEN)	/* its hex digits on the wire */
#define CHAIN_KEY "hash"

/* The hash of the content content[0..len) after prev. */
void chain_hash(uint8_t out[CHAIN_LEN], const uint8_t prev[CHAIN_LEN], const void *content,
		size_t len);

/* hash as lowercase hex into hex (CHAIN_HEX + 1 bytes with the NUL). */
void chain_hex(char hex[CHAIN_HEX + 1], const uint8_t hash[CHAIN_LEN]);

/*
 * chain_seal - out holds a map header for n + 1 pairs at offset start, followed by the
 * n pairs of an entry: append the pair "hash" computed after prev, and put the hash in
 * hash (if not NULL).
 */
void chain_seal(proto_out *out, size_t start, const uint8_t prev[CHAIN_LEN],
		uint8_t hash[CHAIN_LEN]);

/*
 * chain_split - of a stored entry (a map whose last pair is "hash"), the content the hash
 * is over (*content, *clen: a slice of entry) and the stored hash (hash). Returns NT_OK;
 * NT_ENOTFOUND if the entry has no hash pair at its end (an entry of a ledger format
 * before the chain); NT_ECORRUPT if it is not a map or its hash is not 64 hex digits.
 */
nt_err chain_split(const void *entry, size_t len, const uint8_t **content, size_t *clen,
		   uint8_t hash[CHAIN_LEN]);

/*
 * chain_check - does the stored entry's hash follow from prev? Returns NT_OK (and its
 * hash in hash), NT_ECONFLICT if the hash does not match its content and prev (hash then
 * holds the one computed), or chain_split()'s errors.
 */
nt_err chain_check(const void *entry, size_t len, const uint8_t prev[CHAIN_LEN],
		   uint8_t hash[CHAIN_LEN]);

/*
 * chain_add - the stored entry entry[0..len) of an older format, without a hash, packed
 * into out (reset first) with its hash after prev appended (the upgrade); hash gets it.
 * An entry that ends with a hash already gets a new one in its place. NT_ECORRUPT if it
 * is not a map.
 */
nt_err chain_add(proto_out *out, const void *entry, size_t len, const uint8_t prev[CHAIN_LEN],
		 uint8_t hash[CHAIN_LEN]);

/* ---- walking the log ---- */

struct ledger;
struct chain_report {
	uint64_t first, last;	/* the seqs checked: first to the log's last */
	uint64_t checked;	/* entries whose hash followed */
	uint64_t broken;	/* the first seq that does not hold; 0: the chain holds */
	nt_err why;		/* NT_ECONFLICT: a hash that does not follow; NT_ENOTFOUND: a
				 * missing entry or one without a hash; NT_ECORRUPT: damaged */
	uint8_t head[CHAIN_LEN];	/* the hash of the last entry that held */
	char what[PROTO_WHY];	/* a sentence about the break */
};

/*
 * chain_verify - in one read transaction of lg, check every log entry from seq from (1:
 * the whole log) to the last: seqs without a gap, each hash following from the one
 * before (the entry before from is taken as it is). The report says where it first
 * breaks. Returns NT_OK whether or not the chain holds (see r->broken), or the
 * ledger's failure.
 */
nt_err chain_verify(struct ledger *lg, uint64_t from, struct chain_report *r);

#endif
