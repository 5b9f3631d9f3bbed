/*
 * chain.c - the log's hash chain (chain.h).
 *
 * Why a chain: the ledger decides which leader is reported late and which case is crossed
 * off, so quietly rewriting an entry must not go unnoticed. Each entry carries the hash
 * of the one before it folded into its own, so changing, removing, inserting or
 * reordering any entry breaks every hash from there on. `nanti admin verify` walks the
 * whole chain; nantid checks the recent tail at start. What it does not do by itself: an
 * attacker who can write the ledger file can recompute every hash after the entry they
 * changed. That is caught only by comparing the head hash with a copy kept elsewhere (a
 * bridge's record of the heartbeat's `last_hash`, a printed `verify`, a backup): see
 * docs/security.md.
 *
 * Choices. BLAKE2b-256 (libsodium's crypto_generichash): fast, and a 256-bit hash has no
 * practical second preimage. The hash goes in the entry itself, as its last pair, so the
 * entry a subscriber receives, the one log.read returns and the one exported are the one
 * that was hashed: anyone holding the log can check it without nanti. It is hex, not
 * bin, so the entry reads the same as JSON (the export). The content hashed is the
 * entry's other pairs as stored, without the map header (whose count includes the hash
 * pair): no re-encoding, so a checker in any language hashes the bytes it received, minus
 * a header and the last pair.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "chain.h"

/* libsodium picks its fastest implementations in sodium_init(), once per process */
static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_start(void)
{
	if (sodium_init() < 0)
		return;		/* no entropy source: hashing needs none, and works */
}

void chain_hash(uint8_t out[CHAIN_LEN], const uint8_t prev[CHAIN_LEN], const void *content,
		size_t len)
{
	crypto_generichash_state st;

	pthread_once(&sodium_once, sodium_start);
	crypto_generichash_init(&st, NULL, 0, CHAIN_LEN);
	crypto_generichash_update(&st, prev, CHAIN_LEN);
	crypto_generichash_update(&st, content, len);
	crypto_generichash_final(&st, out, CHAIN_LEN);
}

void chain_hex(char hex[CHAIN_HEX + 1], const uint8_t hash[CHAIN_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < CHAIN_LEN; i++) {
		hex[2 * i] = digits[hash[i] >> 4];
		hex[2 * i + 1] = digits[hash[i] & 15];
	}
	hex[CHAIN_HEX] = '\0';
}

static void put_hash(proto_out *out, const uint8_t prev[CHAIN_LEN], const void *content,
		     size_t len, uint8_t hash[CHAIN_LEN])
{
	uint8_t h[CHAIN_LEN];
	char hex[CHAIN_HEX + 1];

	chain_hash(h, prev, content, len);
	chain_hex(hex, h);
	proto_pack_cstr(out, CHAIN_KEY);
	msgpack_pack_str_with_body(&out->pk, hex, CHAIN_HEX);
	if (hash != NULL)
		memcpy(hash, h, CHAIN_LEN);
}

void chain_seal(proto_out *out, size_t start, const uint8_t prev[CHAIN_LEN],
		uint8_t hash[CHAIN_LEN])
{
	proto_rd r = { (const uint8_t *)out->sb.data + start,
		       (const uint8_t *)out->sb.data + out->sb.size, false };
	uint32_t n = 0;

	if (out->oom || !proto_rd_map(&r, &n))
		return;
	/* r.p points into out's buffer, which put_hash() may move: hash before packing */
	put_hash(out, prev, r.p, (size_t)(r.end - r.p), hash);
}

static bool hexval(char c, uint8_t *v)
{
	if (c >= '0' && c <= '9')
		*v = (uint8_t)(c - '0');
	else if (c >= 'a' && c <= 'f')
		*v = (uint8_t)(c - 'a' + 10);
	else
		return false;
	return true;
}

nt_err chain_split(const void *entry, size_t len, const uint8_t **content, size_t *clen,
		   uint8_t hash[CHAIN_LEN])
{
	proto_rd r = { entry, (const uint8_t *)entry + len, false };
	const uint8_t *start, *end;
	proto_str key, hex;
	uint32_t n;

	if (!proto_rd_map(&r, &n) || n == 0)
		return NT_ECORRUPT;
	start = r.p;
	for (uint32_t i = 0; i + 1 < n; i++)
		if (!proto_rd_skip(&r) || !proto_rd_skip(&r))
			return NT_ECORRUPT;
	end = r.p;
	if (!proto_rd_str(&r, &key))
		return NT_ECORRUPT;
	if (!proto_str_eq(key, CHAIN_KEY))
		return NT_ENOTFOUND;
	if (!proto_rd_str(&r, &hex) || r.p != r.end || hex.len != CHAIN_HEX)
		return NT_ECORRUPT;
	for (size_t i = 0; i < CHAIN_LEN; i++) {
		uint8_t hi, lo;

		if (!hexval(hex.ptr[2 * i], &hi) || !hexval(hex.ptr[2 * i + 1], &lo))
			return NT_ECORRUPT;
		hash[i] = (uint8_t)(hi << 4 | lo);
	}
	*content = start;
	*clen = (size_t)(end - start);
	return NT_OK;
}

nt_err chain_check(const void *entry, size_t len, const uint8_t prev[CHAIN_LEN],
		   uint8_t hash[CHAIN_LEN])
{
	const uint8_t *content;
	uint8_t stored[CHAIN_LEN];
	size_t clen;
	nt_err rc;

	if ((rc = chain_split(entry, len, &content, &clen, stored)) != NT_OK)
		return rc;
	chain_hash(hash, prev, content, clen);
	return memcmp(hash, stored, CHAIN_LEN) == 0 ? NT_OK : NT_ECONFLICT;
}

nt_err chain_add(proto_out *out, const void *entry, size_t len, const uint8_t prev[CHAIN_LEN],
		 uint8_t hash[CHAIN_LEN])
{
	proto_rd r = { entry, (const uint8_t *)entry + len, false };
	const uint8_t *content;
	uint8_t old[CHAIN_LEN];
	size_t clen;
	uint32_t n;
	nt_err rc;

	proto_out_reset(out);
	if (!proto_rd_map(&r, &n) || n == UINT32_MAX)
		return NT_ECORRUPT;
	/* sealed already (by a version that wrote the chain under an older format number):
	 * sealed again, in place of the old hash */
	if ((rc = chain_split(entry, len, &content, &clen, old)) == NT_OK)
		msgpack_pack_map(&out->pk, n);
	else if (rc == NT_ENOTFOUND) {
		msgpack_pack_map(&out->pk, n + 1);
		content = r.p;
		clen = (size_t)(r.end - r.p);
	} else
		return rc;
	proto_out_raw(out, content, clen);
	put_hash(out, prev, content, clen, hash);
	return out->oom ? NT_ENOMEM : NT_OK;
}

/* ---- walking the log ---- */

nt_err chain_verify(struct ledger *lg, uint64_t from, struct chain_report *r)
{
	uint8_t key[8], prev[CHAIN_LEN] = { 0 }, hash[CHAIN_LEN];
	struct ledger_txn t;
	struct ledger_iter it;
	MDB_val k, v;
	uint64_t want;
	nt_err rc;

	memset(r, 0, sizeof *r);
	if ((rc = ledger_begin(lg, &t, false)) != NT_OK)
		return rc;
	r->last = ledger_last_u64(&t, DB_LOG, NULL);
	if (from < 1)
		from = 1;
	/* the entry before the first checked is taken as it is: its hash is the start */
	if (from > 1) {
		const uint8_t *content;
		size_t clen;

		ledger_key_u64(key, from - 1);
		if ((rc = ledger_get(&t, DB_LOG, key, sizeof key, &v)) != NT_OK ||
		    (rc = chain_split(v.mv_data, v.mv_size, &content, &clen, prev)) != NT_OK) {
			r->broken = from - 1;
			r->why = rc == NT_ENOTFOUND ? NT_ENOTFOUND : NT_ECORRUPT;
			snprintf(r->what, sizeof r->what, "entry %" PRIu64 " %s", from - 1,
				 rc == NT_ENOTFOUND ? "is missing or has no hash" : "is damaged");
			goto out;
		}
	}
	r->first = from;
	want = from;
	ledger_key_u64(key, from);
	ledger_iter_init(&it, &t, DB_LOG, key, sizeof key);
	while (ledger_iter_next(&it, &k, &v)) {
		uint64_t seq = k.mv_size == 8 ? ledger_u64(k.mv_data) : 0;

		if (seq != want) {
			r->broken = want;
			r->why = NT_ENOTFOUND;
			snprintf(r->what, sizeof r->what, "entry %" PRIu64 " is missing (the next "
				 "is %" PRIu64 ")", want, seq);
			break;
		}
		if ((rc = chain_check(v.mv_data, v.mv_size, prev, hash)) != NT_OK) {
			r->broken = seq;
			r->why = rc;
			snprintf(r->what, sizeof r->what, "entry %" PRIu64 " %s", seq,
				 rc == NT_ECONFLICT ? "does not match its hash: it, or an entry before "
				 "it, was changed" : rc == NT_ENOTFOUND ? "has no hash"
				 : "is damaged");
			break;
		}
		memcpy(prev, hash, CHAIN_LEN);
		r->checked++;
		want++;
	}
	ledger_iter_close(&it);
	memcpy(r->head, prev, CHAIN_LEN);
out:
	rc = t.err;
	ledger_abort(&t);
	return rc;
}
