/*
 * fuzz_json.c - a libFuzzer target for what `nanti admin import` does with a line of a
 * file it was handed: the strict JSON parser (proto_json_parse), the strict MessagePack
 * check behind it (proto_check), and the records packed back from their export form
 * (rec_from_map, for every record table).
 *
 * Besides the sanitizers, it checks what must hold for any input, and abort()s (which
 * libFuzzer reports as a crash, saving the input) when it does not:
 *   - what the parser accepts, the strict decoder accepts (depth and UTF-8 agree);
 *   - the round trip: the accepted value written out again as JSON (proto_json) and parsed
 *     again gives the same MessagePack bytes (what export writes, import reads back);
 *   - a record that rec_from_map accepts decodes with its table, and is what this version
 *     packs (rec_canonical), whatever the map held.
 * Everything is allocated and freed within one run, so LeakSanitizer sees any leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "proto.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct rec_desc *const descs[] = {
	&unit_desc, &person_desc, &case_desc, &campaign_desc, &milestone_desc,
};

static void records(const msgpack_object *o)
{
	char why[PROTO_WHY];
	unsigned char rec[REC_MAX_STRUCT] __attribute__((aligned(16)));

	for (size_t i = 0; i < sizeof descs / sizeof descs[0]; i++) {
		proto_out out;

		proto_out_init(&out);
		if (rec_from_map(&out, descs[i], o, why, sizeof why) == NT_OK &&
		    (rec_decode(out.sb.data, out.sb.size, descs[i], rec) != NT_OK ||
		     rec_canonical(descs[i], out.sb.data, out.sb.size, why, sizeof why) != NT_OK))
			abort();
		proto_out_fini(&out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	proto_out a, b;
	char why[PROTO_WHY], *text = NULL;
	size_t tlen = 0, off = 0;
	msgpack_zone z;
	msgpack_object o;
	FILE *f;

	proto_out_init(&a);
	proto_out_init(&b);
	msgpack_zone_init(&z, 4096);
	if (proto_json_parse(&a, (const char *)data, size, why, sizeof why) != NT_OK)
		goto out;
	if (proto_check(a.sb.data, a.sb.size, why, sizeof why) != NT_OK) {
		/* the one thing proto_check refuses beyond the parser: map keys that are empty
		 * or longer than PROTO_MAX_KEY, duplicate keys and deeper nesting than
		 * PROTO_MAX_DEPTH; the import refuses such a line too */
		goto out;
	}
	if (msgpack_unpack(a.sb.data, a.sb.size, &off, &z, &o) != MSGPACK_UNPACK_SUCCESS)
		abort();
	if ((f = open_memstream(&text, &tlen)) == NULL)
		goto out;
	proto_json(f, &o);
	fclose(f);
	if (proto_json_parse(&b, text, tlen, why, sizeof why) != NT_OK ||
	    a.sb.size != b.sb.size || memcmp(a.sb.data, b.sb.data, a.sb.size) != 0)
		abort();
	records(&o);
out:
	free(text);
	msgpack_zone_destroy(&z);
	proto_out_fini(&a);
	proto_out_fini(&b);
	return 0;
}
