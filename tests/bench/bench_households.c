/*
 * bench_households.c - `make bench`, third part: the household register at the speech's
 * scale (docs/bench.md, "Households"): 140,000 households, about 4,000 pairing cadres.
 *
 * The real nantid on a fresh directory under build/ (a real disk, never tmpfs) and the
 * real client. In order, for each round (a fresh daemon each time):
 *   1. the county through the daemon, untimed: 20 townships with 150 villages in all,
 *      20 organs, county leaders, township and organ cadres: about 4,000 pairing cadres;
 *   2. the import: `nanti household import FILE.csv` of the 140,000 households, timed
 *      as a subprocess (the client checks the file, reads the ledger's register and sends
 *      the puts pipelined), with the daemon's group commits counted by its stats op;
 *      before it, the same with --check (the client's own part: the file read and checked,
 *      the empty register read, nothing sent); after it, the same file again: the no-op
 *      (it reads the whole register back and sends nothing);
 *   3. the raw limit, beside it: the same household records, with their index keys, a
 *      log entry and a request-id record each, encoded beforehand (untimed) by the
 *      daemon's own core and batch functions, put straight into a separate LMDB
 *      environment by a plain loop, in transactions of the size the daemon's group commit
 *      formed during the import, each committed with full sync; only begin, puts and
 *      commit are timed (bench.c measures its raw limit the same way);
 *   4. pairing: `nanti pair import FILE.csv` of a household,cadre list that gives every
 *      pairing cadre a low-income or near-low-income household (the rest of them a second
 *      cadre's), timed; then again, the no-op.
 * After the last round, at 140,000 households, the listings' latency on one REQ socket,
 * N requests each (the viewer a person, so each item is checked as the daemon checks
 * it): household.list of one village (about 930 households, paged with limit 1000) by
 * the township's head, household.list of one cadre's households by the cadre,
 * household.pairings of one township by the theme office, household.get of a low-income
 * household by the head of its township; ping is the baseline.
 *
 * The CSV files are a function of the sizes only (no seed, no clock): the same run after
 * run. Their rows come village by village, as a county's register is put together from
 * its villages' sheets; --order mixed interleaves the villages (every 7919th household),
 * which makes every B-tree insert of a commit land on a different page. Nothing here asserts a time: it prints medians and ratios (targets from the issue:
 * the import under 10 s, each listing in milliseconds).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "batch.h"
#include "benchlib.h"
#include "core.h"
#include "ledger.h"
#include "proto.h"
#include "rec.h"

#define MAX_ROUNDS	9
#define NTOWNSHIPS	20
#define NORGANS		20
#define NCOUNTY		25	/* county leaders */
#define MAX_VILLAGES	1000
#define WINDOW		256	/* setup requests in flight (the daemon holds 512) */

static const char *opt_nantid = "build/nantid";
static const char *opt_nanti = "build/nanti";
static const char *opt_dir = "build/bench-households";
static int opt_rounds = 3;
static int opt_households = 140000;
static int opt_villages = 150;
static int opt_cadres = 4000;
static int opt_samples = 200;
static bool opt_mixed;		/* --order mixed: the file's rows not village by village */

/* ---- the county: a function of the sizes ---- */

static const char *const township_ids[NTOWNSHIPS] = {
	"anling", "tianshi", "nanfeng", "dazhan", "butou", "danzhu", "guanlu", "zhuxi",
	"baita", "fuying", "anzhou", "hengxi", "xiage", "bulu", "guangdu", "xigang", "qiushan",
	"potan", "shangzhang", "shuangmiao",
};
static const char *const township_names[NTOWNSHIPS] = {
	"安岭乡", "田市镇", "南峰街道", "大战乡", "埠头镇", "淡竹乡", "官路镇", "朱溪镇", "白塔镇",
	"福应街道", "安洲街道", "横溪镇", "下各镇", "步路乡", "广度乡", "溪港乡", "湫山乡",
	"皤滩乡", "上张乡", "双庙乡",
};
static const char *const surnames[] = {
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱",
	"胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯",
	"应", "项", "蒋", "潘",
};
static const char *const given[] = {
	"伟", "芳", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
	"明", "超", "秀", "霞", "平", "刚", "英", "华", "玉", "萍", "红", "建", "国", "志",
	"海", "东", "宁", "林",
};
static const char *const needs[] = {
	"medical", "housing", "schooling", "employment", "elderly_care", "disability",
	"subsistence", "drinking_water",
};
static const char *const notes[] = {
	"户主患慢性病,常年服药", "子女在外务工,老人留守", "房屋为C级危房,雨季漏水",
	"家中有重度残疾人, no income", "两个孩子在读,因学致贫",
};

#define N(a) ((int)(sizeof a / sizeof a[0]))

struct person {
	char id[48], name[16], unit[32];
	unsigned roles;		/* ROLE_ bits */
};

static struct person *people;
static int npeople, ncadres_pairing;
static int *cadre_idx;		/* the pairing cadres, indexes into people */
static int township_of_village[MAX_VILLAGES], village_number[MAX_VILLAGES];
static int township_head[NTOWNSHIPS];
static int theme_office;	/* the theme office's person */

static void village_id(int v, char *buf, size_t n)
{
	snprintf(buf, n, "%s.c%02d", township_ids[township_of_village[v]], village_number[v]);
}

static void name_of(uint64_t h, char *buf, size_t n)
{
	if (h % 10 < 7)
		snprintf(buf, n, "%s%s%s", surnames[h / 10 % N(surnames)],
			 given[h / 320 % N(given)], given[h / 10240 % N(given)]);
	else
		snprintf(buf, n, "%s%s", surnames[h / 10 % N(surnames)], given[h / 320 % N(given)]);
}

static int person_add(const char *unit, unsigned roles, int n)
{
	struct person *p = &people[npeople];

	snprintf(p->id, sizeof p->id, "%.30s.p%04d", unit, n);
	name_of(bench_hash(0x5eed0000u + (uint64_t)npeople), p->name, sizeof p->name);
	snprintf(p->unit, sizeof p->unit, "%s", unit);
	p->roles = roles;
	if (roles & HH_PAIR_ROLES)
		cadre_idx[ncadres_pairing++] = npeople;
	return npeople++;
}

/*
 * The county: villages shared out among the townships in order (7 or 8 each), county
 * leaders, and the rest of the pairing cadres spread over the townships (three
 * quarters) and the organs, each unit a head and a few leadership members first.
 */
static void county_make(void)
{
	int rest, per_tw, per_org;
	char unit[32];

	people = calloc((size_t)opt_cadres + 256, sizeof *people);
	cadre_idx = calloc((size_t)opt_cadres + 256, sizeof *cadre_idx);
	if (people == NULL || cadre_idx == NULL)
		die("out of memory");
	for (int v = 0; v < opt_villages; v++) {
		township_of_village[v] = v * NTOWNSHIPS / opt_villages;
		village_number[v] = v > 0 && township_of_village[v - 1] == township_of_village[v] ?
				    village_number[v - 1] + 1 : 1;
	}
	snprintf(people[0].id, sizeof people[0].id, "admin");
	snprintf(people[0].name, sizeof people[0].name, "管理员");
	snprintf(people[0].unit, sizeof people[0].unit, "county");
	people[0].roles = ROLE_ADMIN;
	npeople = 1;
	theme_office = person_add("zhutiban", ROLE_THEME | ROLE_HEAD, 1);
	for (int i = 0; i < NCOUNTY; i++)
		person_add("county", ROLE_COUNTY, i + 1);
	rest = opt_cadres - NCOUNTY;
	per_tw = rest * 3 / 4 / NTOWNSHIPS;
	per_org = (rest - per_tw * NTOWNSHIPS) / NORGANS;
	for (int t = 0; t < NTOWNSHIPS; t++)
		for (int k = 0; k < per_tw; k++) {
			int p = person_add(township_ids[t], k == 0 ? ROLE_CADRE | ROLE_LEADER |
					   ROLE_HEAD : k < 6 ? ROLE_CADRE | ROLE_LEADER : ROLE_CADRE,
					   k + 1);

			if (k == 0)
				township_head[t] = p;
		}
	for (int o = 0; o < NORGANS; o++) {
		snprintf(unit, sizeof unit, "organ%02d", o + 1);
		for (int k = 0; k < per_org; k++)
			person_add(unit, k == 0 ? ROLE_CADRE | ROLE_LEADER | ROLE_HEAD :
				   k < 3 ? ROLE_CADRE | ROLE_LEADER : ROLE_CADRE, k + 1);
	}
	/* the rounding's remainder to the county's organs' first */
	for (int k = per_org; ncadres_pairing < opt_cadres; k++)
		person_add("organ01", ROLE_CADRE, k + 1);
}

/* ---- sending the county: pipelined requests, each must be ok ---- */

typedef void (*pack_fn)(int i, const char *id, proto_out *o);

static void pack_roles(proto_out *o, unsigned roles)
{
	static const char *const names[8] = {
		"cadre", "resident_cadre", "leader", "unit_head", "county_leader", "theme_office",
		"supervision", "admin"
	};
	int n = 0;

	for (int i = 0; i < 8; i++)
		n += (roles >> i) & 1;
	proto_pack_cstr(o, "roles");
	msgpack_pack_array(&o->pk, (size_t)n);
	for (int i = 0; i < 8; i++)
		if ((roles >> i) & 1)
			proto_pack_cstr(o, names[i]);
}

/* Units: the county, the theme office, townships, organs, then villages. */
static int nunits(void)
{
	return 2 + NTOWNSHIPS + NORGANS + opt_villages;
}

static void unit_pack(int i, const char *id, proto_out *o)
{
	char uid[32], name[64];
	const char *kind, *parent = "county";

	if (i == 0) {
		snprintf(uid, sizeof uid, "county");
		snprintf(name, sizeof name, "示范县");
		kind = "county";
		parent = NULL;
	} else if (i == 1) {
		snprintf(uid, sizeof uid, "zhutiban");
		snprintf(name, sizeof name, "县主题办");
		kind = "organ";
	} else if ((i -= 2) < NTOWNSHIPS) {
		snprintf(uid, sizeof uid, "%s", township_ids[i]);
		snprintf(name, sizeof name, "%s", township_names[i]);
		kind = strstr(township_names[i], "街道") != NULL ? "street" : "township";
	} else if ((i -= NTOWNSHIPS) < NORGANS) {
		snprintf(uid, sizeof uid, "organ%02d", i + 1);
		snprintf(name, sizeof name, "县第%d局", i + 1);
		kind = "organ";
	} else {
		i -= NORGANS;
		village_id(i, uid, sizeof uid);
		snprintf(name, sizeof name, "%s第%d村", township_names[township_of_village[i]],
			 village_number[i]);
		kind = "village";
		parent = township_ids[township_of_village[i]];
	}
	msgpack_pack_map(&o->pk, 6 + (parent != NULL));
	proto_kv_cstr(o, "op", "unit.put");
	proto_kv_cstr(o, "id", id);
	proto_kv_cstr(o, "actor", "admin");
	proto_kv_cstr(o, "unit", uid);
	proto_kv_cstr(o, "name", name);
	proto_kv_cstr(o, "kind", kind);
	if (parent != NULL)
		proto_kv_cstr(o, "parent", parent);
}

static void person_pack(int i, const char *id, proto_out *o)
{
	const struct person *p = &people[i];

	msgpack_pack_map(&o->pk, 7);
	proto_kv_cstr(o, "op", "person.put");
	proto_kv_cstr(o, "id", id);
	proto_kv_cstr(o, "actor", "admin");
	proto_kv_cstr(o, "person", p->id);
	proto_kv_cstr(o, "name", p->name);
	proto_kv_cstr(o, "unit", p->unit);
	pack_roles(o, p->roles);
}

/* Requests [from, to) of pack, up to WINDOW in flight on one DEALER; every reply ok. */
static void send_all(pack_fn pack, int from, int to, const char *what)
{
	void *s = zmq_socket(zctx, ZMQ_DEALER);
	int zero = 0, next = from, inflight = 0;
	static uint64_t serial;
	proto_out o;

	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
	zmq_connect(s, submit_ep);
	proto_out_init(&o);
	while (next < to || inflight > 0) {
		zmq_msg_t m;

		while (next < to && inflight < WINDOW) {
			char id[40];

			snprintf(id, sizeof id, "bench-hh-%012" PRIx64, ++serial);
			proto_out_reset(&o);
			pack(next++, id, &o);
			zmq_send(s, "", 0, ZMQ_SNDMORE);
			zmq_send(s, o.sb.data, o.sb.size, 0);
			inflight++;
		}
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, s, 0) < 0 || zmq_msg_size(&m) != 0 ||
		    zmq_msg_recv(&m, s, 0) < 0)
			die("setup: no reply");
		{
			proto_doc doc;
			bool ok = false;

			if (proto_parse(&doc, zmq_msg_data(&m), zmq_msg_size(&m), NULL, 0) != NT_OK)
				die("setup: a reply that is not protocol");
			proto_obj_bool(proto_map_get(&doc.root, "ok"), &ok);
			if (!ok) {
				fprintf(stderr, "%s: %s refused: ", bench_prog, what);
				proto_json(stderr, &doc.root);
				fputc('\n', stderr);
				die("setup failed");
			}
			proto_doc_fini(&doc);
		}
		zmq_msg_close(&m);
		inflight--;
	}
	proto_out_fini(&o);
	zmq_close(s);
}

static void county_send(void)
{
	send_all(unit_pack, 0, 1, "the county");		/* the bootstrap: the county, */
	send_all(person_pack, 0, 1, "the admin");	/* then its admin */
	send_all(unit_pack, 1, 2 + NTOWNSHIPS + NORGANS, "a unit");
	send_all(unit_pack, 2 + NTOWNSHIPS + NORGANS, nunits(), "a village");
	send_all(person_pack, 1, npeople, "a person");
}

/* ---- the households: a function of i ---- */

struct hh {
	char id[48], village[32], head[16], id_number[24], phone[16], address[128];
	char names[8][16];
	int nnames;
	const char *needv[3];
	int nneeds;
	const char *category, *notes;
	unsigned members;
	bool poor;
};

/* The village of household i (the register's households village by village, the first
 * villages one more when they do not share out evenly), and its number there, from 1. */
static int hh_village(int i, int *number)
{
	int base = opt_households / opt_villages, extra = opt_households % opt_villages, v;

	if (i < extra * (base + 1))
		v = i / (base + 1), *number = i % (base + 1) + 1;
	else
		v = extra + (i - extra * (base + 1)) / base,
		*number = (i - extra * (base + 1)) % base + 1;
	return v;
}

/* The household on row r of the file: in the register's order (village by village, as
 * the villages' sheets are put together), or, with --order mixed, every 7919th. */
static int row_household(int r)
{
	return opt_mixed ? (int)((int64_t)r * 7919 % opt_households) : r;
}

/* Household i of the register: about 3 % of them low-income or near-low-income. */
static void hh_make(int i, struct hh *h)
{
	static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	uint64_t x = bench_hash((uint64_t)i), y = bench_hash(x), z = bench_hash(y);
	int number, v = hh_village(i, &number), sum = 0;
	const char *surname = surnames[x % N(surnames)];

	village_id(v, h->village, sizeof h->village);
	snprintf(h->id, sizeof h->id, "%s.h%05d", h->village, number);
	h->poor = y % 1000 < 30;
	h->category = !h->poor ? "other" : y % 2 ? "low_income" : "near_low_income";
	h->members = 1 + (unsigned)(z % 8);
	snprintf(h->head, sizeof h->head, "%s%s%s", surname, given[x / 64 % N(given)],
		 given[x / 2048 % N(given)]);
	snprintf(h->id_number, sizeof h->id_number, "331024%04d%02d%02d%03d",
		 (int)(1940 + y / 8 % 60), (int)(1 + y / 512 % 12), (int)(1 + y / 8192 % 28),
		 (int)(1 + z / 16 % 999));
	for (int k = 0; k < 17; k++)
		sum += (h->id_number[k] - '0') * w[k];
	h->id_number[17] = "10X98765432"[sum % 11];
	h->id_number[18] = '\0';
	snprintf(h->phone, sizeof h->phone, "13%09" PRIu64, z / 1024 % 1000000000);
	snprintf(h->address, sizeof h->address, "%s第%d村%d组%d号",
		 township_names[township_of_village[v]], village_number[v],
		 (int)(1 + x / 65536 % 12), number);
	/* the other members: distinct names (a child with the head's surname) */
	h->nnames = (int)h->members - 1;
	for (int k = 0; k < h->nnames; k++)
		snprintf(h->names[k], sizeof h->names[k], "%s%s%s", surname,
			 given[(x / 64 + (uint64_t)k + 1) % N(given)], given[(z + (uint64_t)k) % N(given)]);
	h->nneeds = h->poor ? 1 + (int)(z % 3) : z % 7 == 0;
	for (int k = 0; k < h->nneeds; k++)
		h->needv[k] = needs[(y / 4096 + (uint64_t)k) % N(needs)];
	h->notes = h->poor && z % 2 ? notes[x / 4096 % N(notes)] : NULL;
}

/* A CSV field: quoted when it holds a comma or a quote. */
static void csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\n") != NULL) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

static void write_households_csv(const char *path)
{
	FILE *f = fopen(path, "w");
	struct hh h;
	char buf[256];

	if (f == NULL)
		die("cannot write the households CSV");
	fputs("household,village,category,members,needs,head,id_number,phone,address,"
	      "member_names,notes\n", f);
	for (int r = 0; r < opt_households; r++) {
		size_t n = 0;

		hh_make(row_household(r), &h);
		csv_field(f, h.id, false);
		csv_field(f, h.village, false);
		csv_field(f, h.category, false);
		fprintf(f, "%u,", h.members);
		buf[0] = '\0';
		for (int k = 0; k < h.nneeds; k++)
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", k ? ";" : "", h.needv[k]);
		csv_field(f, buf, false);
		csv_field(f, h.head, false);
		csv_field(f, h.id_number, false);
		csv_field(f, h.phone, false);
		csv_field(f, h.address, false);
		n = 0;
		buf[0] = '\0';
		for (int k = 0; k < h.nnames; k++)
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", k ? ";" : "", h.names[k]);
		csv_field(f, buf, false);
		csv_field(f, h.notes ? h.notes : "", true);
	}
	if (fclose(f) != 0)
		die("cannot write the households CSV");
}

/* The pairing list: the low-income households in the register's file order, the kth with
 * pairing cadre k mod cadres, so that every cadre has one when there are as many
 * households as cadres. */
static int *pair_hh;		/* the households of the pairing list, in its order */

static int write_pairs_csv(const char *path)
{
	FILE *f = fopen(path, "w");
	struct hh h;
	int k = 0;

	if (f == NULL || (pair_hh = malloc((size_t)opt_households * sizeof *pair_hh)) == NULL)
		die("cannot write the pairs CSV");
	fputs("household,cadre\n", f);
	for (int r = 0; r < opt_households; r++) {
		hh_make(row_household(r), &h);
		if (h.poor) {
			pair_hh[k] = row_household(r);
			fprintf(f, "%s,%s\n", h.id, people[cadre_idx[k++ % ncadres_pairing]].id);
		}
	}
	if (fclose(f) != 0)
		die("cannot write the pairs CSV");
	return k;
}

/* The household.put of household i, as the import sends it (the same keys). */
static void hh_pack(int i, const char *id, proto_out *o)
{
	struct hh h;

	hh_make(i, &h);
	msgpack_pack_map(&o->pk, 11 + (h.nneeds > 0) + (h.nnames > 0) + (h.notes != NULL));
	proto_kv_cstr(o, "op", "household.put");
	proto_kv_cstr(o, "id", id);
	proto_kv_cstr(o, "actor", "admin");
	proto_kv_cstr(o, "household", h.id);
	proto_kv_cstr(o, "village", h.village);
	proto_kv_cstr(o, "category", h.category);
	proto_kv_u64(o, "members", h.members);
	if (h.nneeds > 0) {
		proto_pack_cstr(o, "needs");
		msgpack_pack_array(&o->pk, (size_t)h.nneeds);
		for (int k = 0; k < h.nneeds; k++)
			proto_pack_cstr(o, h.needv[k]);
	}
	proto_kv_cstr(o, "head", h.head);
	proto_kv_cstr(o, "id_number", h.id_number);
	proto_kv_cstr(o, "phone", h.phone);
	proto_kv_cstr(o, "address", h.address);
	if (h.nnames > 0) {
		proto_pack_cstr(o, "member_names");
		msgpack_pack_array(&o->pk, (size_t)h.nnames);
		for (int k = 0; k < h.nnames; k++)
			proto_pack_cstr(o, h.names[k]);
	}
	if (h.notes != NULL)
		proto_kv_cstr(o, "notes", h.notes);
}

/* The household.put of the household on row r, and the household.pair of pairing r:
 * what the bench sends itself when the client has no household import. */
static void row_pack(int r, const char *id, proto_out *o)
{
	hh_pack(row_household(r), id, o);
}

static void pair_pack(int k, const char *id, proto_out *o)
{
	struct hh h;

	hh_make(pair_hh[k], &h);
	msgpack_pack_map(&o->pk, 5);
	proto_kv_cstr(o, "op", "household.pair");
	proto_kv_cstr(o, "id", id);
	proto_kv_cstr(o, "actor", "admin");
	proto_kv_cstr(o, "household", h.id);
	proto_kv_cstr(o, "cadre", people[cadre_idx[k % ncadres_pairing]].id);
}

/* ---- the raw limit ---- */

/* The records household.put reads: its actor (the admin) and the village. */
static proto_out raw_admin, raw_unit;

static nt_err raw_get(void *ctx, enum ledger_db db, const void *key, size_t klen, MDB_val *val)
{
	char id[32];

	(void)ctx;
	if (db == DB_PEOPLE && klen == 5 && memcmp(key, "admin", 5) == 0) {
		if (raw_admin.pk.callback == NULL) {
			struct person_rec p = { { "admin", 5 }, { "管理员", 9 }, { "county", 6 },
						ROLE_ADMIN, { NULL, 0 }, 0, 0, 0, 0, { NULL, 0 } };

			proto_out_init(&raw_admin);
			rec_encode(&raw_admin, &person_desc, &p);
		}
		val->mv_data = raw_admin.sb.data;
		val->mv_size = raw_admin.sb.size;
		return NT_OK;
	}
	if (db != DB_UNITS)
		return NT_ENOTFOUND;
	for (int v = 0; v < opt_villages; v++) {
		village_id(v, id, sizeof id);
		if (strlen(id) == klen && memcmp(id, key, klen) == 0) {
			const char *t = township_ids[township_of_village[v]];
			struct unit_rec u = { { id, (uint32_t)klen }, { "村", 3 }, UNIT_VILLAGE,
					      { t, (uint32_t)strlen(t) }, 0, 0, 0, 0 };

			if (raw_unit.pk.callback == NULL)
				proto_out_init(&raw_unit);
			proto_out_reset(&raw_unit);
			rec_encode(&raw_unit, &unit_desc, &u);
			val->mv_data = raw_unit.sb.data;
			val->mv_size = raw_unit.sb.size;
			return NT_OK;
		}
	}
	return NT_ENOTFOUND;
}

struct rec {
	enum ledger_db db;
	uint8_t key[LEDGER_MAX_KEY];
	uint32_t klen;
	size_t voff, vlen;
	bool append, del;
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

static void rec_add(struct recs *r, proto_out *arena, enum ledger_db db, const void *key,
		    size_t klen, const void *val, size_t vlen, bool append, bool del)
{
	struct rec *x;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4096;
		if ((r->v = realloc(r->v, r->cap * sizeof *r->v)) == NULL)
			die("raw: out of memory");
	}
	x = &r->v[r->n++];
	x->db = db;
	memcpy(x->key, key, klen);
	x->klen = (uint32_t)klen;
	x->voff = arena->sb.size;
	x->vlen = vlen;
	x->append = append;
	x->del = del;
	proto_out_raw(arena, val, vlen);
}

struct raw {
	struct ledger *lg;
	struct core_effect e;
	proto_out req, entry;
	uint64_t seq;
	uint8_t last_hash[CHAIN_LEN];
};

/* The households of rows [from, from + k) encoded as the daemon stores them: the core's
 * puts, the log entry, the request-id record. Not timed. */
static void raw_records(struct raw *w, int from, int k, struct recs *recs, proto_out *arena)
{
	const struct op *put = ops_find((proto_str){ "household.put", 13 });

	recs->n = 0;
	proto_out_reset(arena);
	for (int i = from; i < from + k; i++) {
		struct proto_arg args[OPS_MAX_FIELDS];
		struct proto_request rq;
		proto_doc doc;
		uint8_t key[8], rv[BATCH_REQVAL_MAX];
		size_t rl;
		char id[40], why[PROTO_WHY];
		int64_t at = (int64_t)now_real_ms();
		struct core_view v = { NULL, raw_get, 1, w->seq + 1, at, NULL, NULL };
		struct core_req r;

		snprintf(id, sizeof id, "raw-%012d", i);
		proto_out_reset(&w->req);
		hh_pack(row_household(i), id, &w->req);
		if (proto_request(&doc, w->req.sb.data, w->req.sb.size, &rq, NULL, 0) != NT_OK ||
		    proto_fields(rq.body, put->fields, put->nfields, args, NULL, 0) != NT_OK)
			die("raw: bad request");
		r = (struct core_req){ rq.id, rq.actor, args, put };
		core_effect_reset(&w->e);
		if (put->apply(&v, &r, &w->e, why, sizeof why) != NT_OK) {
			fprintf(stderr, "%s: raw: %s\n", bench_prog, why);
			die("raw: the core refused a household");
		}
		for (unsigned p = 0; p < w->e.nputs; p++)
			rec_add(recs, arena, w->e.puts[p].db, w->e.puts[p].key, w->e.puts[p].klen,
				w->e.buf.sb.data + w->e.puts[p].voff, w->e.puts[p].vlen,
				w->e.puts[p].append, w->e.puts[p].del);
		batch_entry_pack(&w->entry, v.seq, at, &r, &w->e, w->last_hash, w->last_hash);
		ledger_key_u64(key, v.seq);
		rec_add(recs, arena, DB_LOG, key, 8, w->entry.sb.data, w->entry.sb.size, true, false);
		rl = batch_reqval(rv, v.seq, core_request_hash(rq.body), &w->e);
		rec_add(recs, arena, DB_REQS, rq.id.ptr, rq.id.len, rv, rl, false, false);
		proto_doc_fini(&doc);
		w->seq++;
	}
	if (arena->oom)
		die("raw: out of memory");
}

/* Every household into a fresh environment at dir, in transactions of `batch` (the mean
 * of the daemon's groups), each committed with full sync. Returns the seconds of
 * begin-puts-commit. */
static double raw_run(const char *dir, double batch)
{
	struct raw w = { 0 };
	struct recs recs = { 0 };
	proto_out arena;
	double carry = 0, timed = 0;
	char cmd[1500];

	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	if (system(cmd) != 0 || ledger_open(&w.lg, dir, 0) != NT_OK)
		die("cannot open the raw LMDB environment");
	core_effect_init(&w.e);
	proto_out_init(&w.req);
	proto_out_init(&w.entry);
	proto_out_init(&arena);
	for (int done = 0; done < opt_households;) {
		struct ledger_txn t;
		int k;
		double tb;

		carry += batch;
		k = (int)carry;
		carry -= k;
		if (k == 0)
			continue;
		if (k > opt_households - done)
			k = opt_households - done;
		raw_records(&w, done, k, &recs, &arena);
		for (;;) {
			tb = now_s();
			if (ledger_begin(w.lg, &t, true) != NT_OK)
				die("raw: begin failed");
			for (size_t i = 0; i < recs.n; i++) {
				const struct rec *x = &recs.v[i];

				if (x->del)
					ledger_del(&t, x->db, x->key, x->klen);
				else
					ledger_put(&t, x->db, x->key, x->klen, arena.sb.data + x->voff,
						   x->vlen, x->append);
			}
			if (ledger_commit(&t) != NT_EMAPFULL)
				break;
			ledger_grow(w.lg);	/* the same batch again */
		}
		if (t.err != NT_OK)
			die("raw: commit failed");
		timed += now_s() - tb;
		done += k;
	}
	ledger_close(&w.lg);
	core_effect_fini(&w.e);
	proto_out_fini(&w.req);
	proto_out_fini(&w.entry);
	proto_out_fini(&arena);
	free(recs.v);
	return timed;
}

/* ---- the client, as a subprocess ---- */

/* Run argv with stdout and stderr to out; returns the wall time, and the exit status in
 * *status (-1 if it did not exit). */
static double run_cmd(char *const argv[], const char *out, int *status)
{
	double t0 = now_s();
	pid_t pid = fork();
	int st;

	if (pid < 0)
		die("fork failed");
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid failed");
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return now_s() - t0;
}

/* The last line of a file, for the client's summary. */
static void last_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	buf[0] = '\0';
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (line[0] != '\n')
			snprintf(buf, n, "%s", line);
	if (f != NULL)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* `nanti --runtime-dir RUN --actor admin WHAT1 WHAT2 FILE [--check]`: the seconds it
 * took. */
static double client(const char *what1, const char *what2, const char *file, bool check,
		     const char *log)
{
	char prog[700], run[700], w1[32], w2[32], path[700], line[1024];
	char *argv[] = { prog, "--runtime-dir", run, "--actor", "admin", w1, w2, path,
			 check ? "--check" : NULL, NULL };
	int status;
	double s;

	snprintf(prog, sizeof prog, "%s", opt_nanti);
	snprintf(run, sizeof run, "%s/run", opt_dir);
	snprintf(w1, sizeof w1, "%s", what1);
	snprintf(w2, sizeof w2, "%s", what2);
	snprintf(path, sizeof path, "%s", file);
	s = run_cmd(argv, log, &status);
	if (status != 0) {
		last_line(log, line, sizeof line);
		fprintf(stderr, "%s: nanti %s %s exited %d: %s\n", bench_prog, what1, what2, status,
			line);
		die("the client failed (its output is in the bench directory)");
	}
	return s;
}

/* Does the client have `household import` and `pair import`? */
static bool client_has_import(void)
{
	char prog[700], log[700];
	char *argv[] = { prog, "household", "import", "--help", NULL };
	char *argv2[] = { prog, "pair", "import", "--help", NULL };
	int st1, st2;

	snprintf(prog, sizeof prog, "%s", opt_nanti);
	snprintf(log, sizeof log, "%s/probe.out", opt_dir);
	run_cmd(argv, log, &st1);
	run_cmd(argv2, log, &st2);
	return st1 == 0 && st2 == 0;
}

/* ---- the listings ---- */

/* One request on s; the reply's number of items and whether next is nil. */
static bool call(void *s, const proto_out *body, uint32_t *items, bool *more, char *next,
		 size_t nextlen)
{
	zmq_msg_t m;
	proto_doc doc;
	bool ok = false;

	zmq_send(s, body->sb.data, body->sb.size, 0);
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, s, 0) < 0)
		die("listing: no reply");
	if (proto_parse(&doc, zmq_msg_data(&m), zmq_msg_size(&m), NULL, 0) == NT_OK) {
		const msgpack_object *it = proto_map_get(&doc.root, "items");
		proto_str nx;

		proto_obj_bool(proto_map_get(&doc.root, "ok"), &ok);
		if (items != NULL)
			*items = it != NULL && it->type == MSGPACK_OBJECT_ARRAY ? it->via.array.size : 0;
		if (more != NULL) {
			*more = proto_obj_str(proto_map_get(&doc.root, "next"), &nx);
			if (*more)
				snprintf(next, nextlen, "%.*s", (int)nx.len, nx.ptr);
		}
		if (!ok) {
			fprintf(stderr, "%s: ", bench_prog);
			proto_json(stderr, &doc.root);
			fputc('\n', stderr);
		}
		proto_doc_fini(&doc);
	}
	zmq_msg_close(&m);
	return ok;
}

enum listing { L_PING, L_VILLAGE, L_CADRE, L_PAIRINGS, L_GET, L__N };
static const char *const listing_names[L__N] = {
	"ping (the baseline)", "household.list of one village", "household.list of one cadre",
	"household.pairings of one township", "household.get",
};

struct lat {
	double p50, p99;
	double items;		/* per listing, mean */
	double pages;
};

/* n samples of listing l, each a different village, cadre, township or household. */
static struct lat measure(void *s, enum listing l, int n)
{
	double *v = malloc((size_t)n * sizeof *v);
	uint64_t items = 0, pages = 0;
	struct lat r;
	proto_out o;

	proto_out_init(&o);
	for (int i = 0; i < n; i++) {
		char after[80] = "", id[48];
		bool more = true;
		double t0 = now_s();
		struct hh h;
		int p = cadre_idx[bench_hash((uint64_t)i) % (uint64_t)ncadres_pairing];
		int vil = (int)(bench_hash((uint64_t)i + 7) % (uint64_t)opt_villages), x, num;

		while (more) {
			uint32_t k = 0;

			proto_out_reset(&o);
			switch (l) {
			case L_PING:
				msgpack_pack_map(&o.pk, 1);
				proto_kv_cstr(&o, "op", "ping");
				more = false;
				break;
			case L_VILLAGE:
				/* by the township's head, who reaches it */
				village_id(vil, id, sizeof id);
				msgpack_pack_map(&o.pk, 4 + (after[0] != '\0'));
				proto_kv_cstr(&o, "op", "household.list");
				proto_kv_cstr(&o, "actor",
					      people[township_head[township_of_village[vil]]].id);
				proto_kv_cstr(&o, "village", id);
				proto_kv_u64(&o, "limit", 1000);
				if (after[0] != '\0')
					proto_kv_cstr(&o, "after", after);
				break;
			case L_CADRE:
				msgpack_pack_map(&o.pk, 4);
				proto_kv_cstr(&o, "op", "household.list");
				proto_kv_cstr(&o, "actor", people[p].id);
				proto_kv_cstr(&o, "cadre", people[p].id);
				proto_kv_u64(&o, "limit", 1000);
				break;
			case L_PAIRINGS:
				msgpack_pack_map(&o.pk, 4 + (after[0] != '\0'));
				proto_kv_cstr(&o, "op", "household.pairings");
				proto_kv_cstr(&o, "actor", people[theme_office].id);
				proto_kv_cstr(&o, "unit", township_ids[i % NTOWNSHIPS]);
				proto_kv_u64(&o, "limit", 1000);
				if (after[0] != '\0')
					proto_kv_cstr(&o, "after", after);
				break;
			case L_GET:
				/* a low-income household, by the head of its township */
				x = (int)(bench_hash((uint64_t)i + 99) % (uint64_t)opt_households);
				for (hh_make(x, &h); !h.poor; hh_make(x, &h))
					x = (x + 1) % opt_households;
				msgpack_pack_map(&o.pk, 3);
				proto_kv_cstr(&o, "op", "household.get");
				proto_kv_cstr(&o, "actor", people[township_head[
					township_of_village[hh_village(x, &num)]]].id);
				proto_kv_cstr(&o, "household", h.id);
				break;
			case L__N:
				break;
			}
			if (!call(s, &o, &k, l == L_VILLAGE || l == L_PAIRINGS ? &more : NULL, after,
				  sizeof after))
				die("a listing was refused");
			if (l != L_VILLAGE && l != L_PAIRINGS)
				more = false;
			items += k;
			pages++;
		}
		v[i] = (now_s() - t0) * 1e3;
	}
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	r.p50 = quantile(v, (size_t)n, 0.5);
	r.p99 = quantile(v, (size_t)n, 0.99);
	r.items = (double)items / n;
	r.pages = (double)pages / n;
	free(v);
	proto_out_fini(&o);
	return r;
}

static void usage(void)
{
	printf("usage: nanti-bench-households [--nantid PATH] [--nanti PATH] [--dir DIR]\n"
	       "                              [--rounds N] [--households N] [--villages N]\n"
	       "                              [--cadres N] [--samples N] [--order village|mixed]\n"
	       "  defaults: build/nantid, build/nanti, build/bench-households, 3 rounds,\n"
	       "  140000 households in 150 villages, 4000 pairing cadres, 200 samples a listing,\n"
	       "  the file village by village (mixed: every 7919th row, villages interleaved)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nantid", required_argument, NULL, 'n' },
		{ "nanti", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "households", required_argument, NULL, 'H' },
		{ "villages", required_argument, NULL, 'v' },
		{ "cadres", required_argument, NULL, 'C' },
		{ "samples", required_argument, NULL, 's' },
		{ "order", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double imp[MAX_ROUNDS], raw[MAX_ROUNDS], ratio[MAX_ROUNDS], again[MAX_ROUNDS],
	       pair[MAX_ROUNDS], pair_again[MAX_ROUNDS], batch[MAX_ROUNDS], check[MAX_ROUNDS];
	char hcsv[700], pcsv[700], log[700], rawdir[700], cmd[1500], line[1024];
	struct lat lat[L__N];
	pid_t pid = 0;
	int o, npairs;
	bool has_import;
	struct stat sb;

	bench_prog = "nanti-bench-households";
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n': opt_nantid = optarg; break;
		case 'c': opt_nanti = optarg; break;
		case 'd': opt_dir = optarg; break;
		case 'r': opt_rounds = atoi(optarg); break;
		case 'H': opt_households = atoi(optarg); break;
		case 'v': opt_villages = atoi(optarg); break;
		case 'C': opt_cadres = atoi(optarg); break;
		case 's': opt_samples = atoi(optarg); break;
		case 'o':
			if (strcmp(optarg, "village") != 0 && strcmp(optarg, "mixed") != 0)
				die("--order is village or mixed");
			opt_mixed = strcmp(optarg, "mixed") == 0;
			break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (opt_rounds < 1 || opt_rounds > MAX_ROUNDS || opt_households < opt_villages ||
	    opt_villages < NTOWNSHIPS || opt_villages > MAX_VILLAGES || opt_cadres < 200 ||
	    opt_samples < 1 || opt_households / opt_villages > 99999 ||
	    (opt_mixed && opt_households % 7919 == 0))
		die("--rounds 1..9, --villages 20..1000, --households at least --villages, "
		    "--cadres at least 200, --samples at least 1");
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", opt_dir, opt_dir);
	if (system(cmd) != 0)
		die("cannot prepare the bench directory");
	snprintf(hcsv, sizeof hcsv, "%s/households.csv", opt_dir);
	snprintf(pcsv, sizeof pcsv, "%s/pairs.csv", opt_dir);
	snprintf(rawdir, sizeof rawdir, "%s/raw", opt_dir);
	county_make();
	write_households_csv(hcsv);
	npairs = write_pairs_csv(pcsv);
	stat(hcsv, &sb);
	zctx = zmq_ctx_new();
	has_import = client_has_import();
	printf("nanti-bench-households: nantid %s, %d rounds, data in %s, the file %s\n",
	       PROTO_VERSION, opt_rounds, opt_dir, opt_mixed ? "in mixed order (villages "
	       "interleaved)" : "village by village");
	if (!has_import)
		printf("%s has no `household import` or `pair import`: the bench sends the rows "
		       "itself, pipelined household.put and household.pair (no file check, no "
		       "comparison with the ledger); the no-op is not measured\n", opt_nanti);
	printf("the county: %d townships and streets, %d villages, %d organs, %d pairing "
	       "cadres; %s: %d households (%.1f MB), %s: %d pairings\n", NTOWNSHIPS,
	       opt_villages, NORGANS + 1, ncadres_pairing, hcsv, opt_households,
	       (double)sb.st_size / 1e6, pcsv, npairs);
	fflush(stdout);

	for (int r = 0; r < opt_rounds; r++) {
		struct stats s0, s1;

		snprintf(cmd, sizeof cmd, "rm -rf '%s/state' '%s/run'", opt_dir, opt_dir);
		if (system(cmd) != 0)
			die("cannot clear the daemon's directories");
		pid = daemon_start(opt_nantid, opt_dir, r > 0);
		county_send();

		/* the disk quiet first: what the setup left dirty is not the import's to write */
		sync();
		s0 = daemon_stats();
		snprintf(log, sizeof log, "%s/check.out", opt_dir);
		check[r] = has_import ? client("household", "import", hcsv, true, log) : 0;
		snprintf(log, sizeof log, "%s/import.out", opt_dir);
		if (has_import) {
			imp[r] = client("household", "import", hcsv, false, log);
		} else {
			double t0 = now_s();

			send_all(row_pack, 0, opt_households, "a household");
			imp[r] = now_s() - t0;
		}
		s1 = daemon_stats();
		if (s1.seq - s0.seq != (uint64_t)opt_households)
			die("the import did not write one entry per household");
		batch[r] = s1.commits > s0.commits ? (double)(s1.events - s0.events) /
						     (double)(s1.commits - s0.commits) : 1;
		last_line(log, line, sizeof line);
		snprintf(log, sizeof log, "%s/import-again.out", opt_dir);
		again[r] = has_import ? client("household", "import", hcsv, false, log) : 0;
		if (daemon_stats().seq != s1.seq)
			die("importing the same file again wrote something");
		sync();
		raw[r] = raw_run(rawdir, batch[r]);
		ratio[r] = raw[r] / imp[r];	/* rows/s: the import's over the raw limit's */
		printf("round %d: import %.2f s, %.0f rows/s (batch %.1f, writer busy %.0f%%); raw "
		       "limit %.2f s, %.0f rows/s; ratio %.2f", r + 1, imp[r],
		       opt_households / imp[r], batch[r],
		       (double)(s1.commit_us - s0.commit_us) / (imp[r] * 1e4), raw[r],
		       opt_households / raw[r], ratio[r]);
		if (has_import)
			printf("; the check alone %.2f s, the same file again %.2f s", check[r],
			       again[r]);
		printf("\n");
		if (has_import)
			printf("         the client said: %s\n", line);

		snprintf(log, sizeof log, "%s/pair.out", opt_dir);
		s0 = daemon_stats();
		if (has_import) {
			pair[r] = client("pair", "import", pcsv, false, log);
		} else {
			double t0 = now_s();

			send_all(pair_pack, 0, npairs, "a pairing");
			pair[r] = now_s() - t0;
		}
		s1 = daemon_stats();
		if (s1.seq - s0.seq != (uint64_t)npairs)
			die("the pair import did not write one entry per pairing");
		snprintf(log, sizeof log, "%s/pair-again.out", opt_dir);
		pair_again[r] = has_import ? client("pair", "import", pcsv, false, log) : 0;
		printf("         pair import %.2f s, %.0f rows/s", pair[r], npairs / pair[r]);
		if (has_import)
			printf("; again %.2f s", pair_again[r]);
		printf("\n");
		fflush(stdout);
		if (r + 1 < opt_rounds)
			daemon_stop(pid);
	}

	/* the listings, at the full register */
	{
		void *s = zmq_socket(zctx, ZMQ_REQ);
		int zero = 0;

		zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
		zmq_connect(s, submit_ep);
		for (int l = 0; l < L__N; l++)
			lat[l] = measure(s, (enum listing)l, opt_samples);
		zmq_close(s);
	}
	snprintf(log, sizeof log, "%s/state/data.mdb", opt_dir);
	stat(log, &sb);

	printf("\nmedians over %d rounds, %d households, %d pairing cadres (data.mdb %.0f MB):\n",
	       opt_rounds, opt_households, ncadres_pairing, (double)sb.st_size / 1e6);
	printf("  %-34s %9.2f s  %8.0f rows/s   (target: < 10 s)\n", has_import ?
	       "household import (nanti)" : "household.put, pipelined (bench)",
	       median(imp, opt_rounds), opt_households / median(imp, opt_rounds));
	printf("  %-34s %9.2f s  %8.0f rows/s   batch %.1f\n", "raw limit (LMDB, same batches)",
	       median(raw, opt_rounds), opt_households / median(raw, opt_rounds),
	       median(batch, opt_rounds));
	printf("  %-34s %9.2f\n", "ratio (rows/s: import / raw)", median(ratio, opt_rounds));
	if (has_import)
		printf("  %-34s %9.2f s   (--check before the import: the client's own part)\n",
		       "the check alone", median(check, opt_rounds));
	if (has_import)
		printf("  %-34s %9.2f s\n", "the same file again (no-op)",
		       median(again, opt_rounds));
	printf("  %-34s %9.2f s  %8.0f rows/s\n", has_import ? "pair import (nanti)" :
	       "household.pair, pipelined (bench)", median(pair, opt_rounds),
	       npairs / median(pair, opt_rounds));
	if (has_import)
		printf("  %-34s %9.2f s\n", "the same pairs again (no-op)",
		       median(pair_again, opt_rounds));
	printf("\nlistings at %d households, %d requests each (one REQ socket; the viewer a "
	       "person):\n", opt_households, opt_samples);
	printf("  %-36s %9s %9s %8s %8s %10s\n", "", "p50 ms", "p99 ms", "items", "pages",
	       "p50/ping");
	for (int l = 0; l < L__N; l++)
		printf("  %-36s %9.3f %9.3f %8.1f %8.1f %10.1f\n", listing_names[l], lat[l].p50,
		       lat[l].p99, lat[l].items, lat[l].pages, lat[l].p50 / lat[L_PING].p50);
	printf("  (target: each listing in milliseconds)\n");
	printf("nantid exited with status %d\n", daemon_stop(pid));
	zmq_ctx_term(zctx);
	free(people);
	free(cadre_idx);
	free(pair_hh);
	return 0;
}
