/*
 * fuzz_report.c - libFuzzer target: the reports' replay (daemon/report.c) over any log.
 *
 * The input is a run of MessagePack objects, each fed to report_feed() as one log entry
 * (the run ends at the first byte that does not begin a whole object), over a fixed unit
 * tree, with the series on; then every figure is computed and packed, with the
 * explanation. Invariants, beyond the sanitizers' own:
 *   - an entry it cannot read is NT_ECORRUPT, never a crash, and the replay goes on;
 *   - a unit's figures are at least those of each unit under it (roll-up);
 *   - each explained figure's counts sum to the figure, or to less when entries were left
 *     out (explain_more);
 *   - the series has at most REPORT_SERIES_MAX + 1 points, in day order;
 *   - every person's figures computed at once equal each person's computed alone.
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define FROM 20600
#define TO (FROM + 30)

static proto_str S(const char *s)
{
	return (proto_str){ s, (uint32_t)strlen(s) };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const units[][3] = {
		{ "county", "", "示范县" }, { "anling", "county", "安岭乡" },
		{ "xiaxi", "anling", "下溪村" }, { "tianshi", "county", "田市镇" },
		{ "dongcun", "tianshi", "东村" }, { "loop", "loop", "a unit its own parent" },
	};
	struct report *r = NULL;
	struct report_fig *figs, f = { 0 };
	struct report_explain x = { 0 };
	const struct report_point *p;
	proto_rd rd;
	proto_out o;
	size_t n;
	bool past = false;

	if (report_new(&r, FROM, TO, 480) != NT_OK)
		abort();
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (report_add_unit(r, S(units[i][0]), S(units[i][2]), UNIT_VILLAGE,
				    S(units[i][1])) != NT_OK)
			abort();
	if (report_units_done(r) != NT_OK || report_series(r, report_unit_find(r, S("county"))))
		abort();
	proto_rd_init(&rd, data, size);
	while (!past && rd.p < rd.end) {
		const uint8_t *start = rd.p;
		nt_err rc;

		if (!proto_rd_skip(&rd))
			break;
		rc = report_feed(r, start, (size_t)(rd.p - start), &past);
		if (rc != NT_OK && rc != NT_ECORRUPT)
			abort();
	}
	report_end(r);

	figs = calloc(report_nunits(r), sizeof *figs);
	if (figs == NULL || report_unit_figures(r, figs) != NT_OK)
		abort();
	for (size_t u = 0; u < report_nunits(r); u++) {
		proto_str id, name;
		uint32_t kind;
		int parent;

		report_unit(r, (int)u, &id, &name, &kind, &parent);
		for (int k = 0; parent >= 0 && k < RF__N; k++)
			if (figs[parent].v[k] < figs[u].v[k])
				abort();
	}
	if (report_scope_figures(r, report_unit_find(r, S("anling")), PROTO_STR_NULL, &f, &x) !=
	    NT_OK)
		abort();
	for (int k = 0; k < RF__N; k++) {
		uint64_t sum = 0;

		for (size_t i = 0; i < x.n[k]; i++)
			sum += x.items[k][i].count;
		if (x.more[k] == 0 ? sum != f.v[k] : sum > f.v[k])
			abort();
	}
	/* every person's figures at once are each person's own */
	{
		const proto_str ids[] = { S("li"), S("someone"), S("wang"), S("zhang") };
		struct report_fig all[4] = { { { 0 } } };

		if (report_people_figures(r, ids, 4, all) != NT_OK)
			abort();
		for (int i = 0; i < 4; i++) {
			struct report_fig own = { 0 };

			if (report_scope_figures(r, -1, ids[i], &own, NULL) != NT_OK ||
			    memcmp(own.v, all[i].v, sizeof own.v) != 0 ||
			    memcmp(own.steps, all[i].steps, sizeof own.steps) != 0)
				abort();
		}
	}
	p = report_points(r, &n);
	if (n > REPORT_SERIES_MAX + 1)
		abort();
	for (size_t i = 1; i < n; i++)
		if (p[i].day <= p[i - 1].day)
			abort();
	proto_out_init(&o);
	report_pack_figures(&o, &figs[0]);
	report_pack_explain(&o, &x);
	proto_out_fini(&o);
	report_explain_fini(&x);
	free(figs);
	report_free(&r);
	return 0;
}
