/*
 * demo.c - nanti-demo: builds a county like the one of the campaign speech and loads it
 * through the real daemon, so that the ledger, its reports and the client can be shown
 * and measured on realistic data (docs/demo.md).
 *
 * What it builds. A county (示范县) with townships and streets (the twelve the speech
 * names, and eight more at full scale), villages under them, county organs (among them
 * the theme office 县主题办 and the supervision office 县委督查室), county leaders,
 * leadership members, unit heads and cadres of every township, street and organ, one
 * village-resident cadre per village, a campaign whose milestones fit today, and cases of
 * every kind, focus area and source spread over every step of the procedure, with the
 * detours the procedure allows: re-plans, dissatisfied journals (redos), cases the theme
 * office returns or reopens, reassignments, notes, escalations by the supervision office,
 * petition guarantees and repeat petitions. A few leaders are left without a case, so
 * that the coverage report has gaps to show. Beside the cases, the household register
 * (民情档案: 140,000 households at full scale, a few percent of them low-income or
 * near-low-income), each of the county's pairing cadres (about 4,000) paired with such a
 * household (一户一干部), their visits, some of them with support, and household
 * consultations (民情会诊), each of which finds one to three household issues that are
 * then opened as cases naming their households and the consultation. A few pairing
 * cadres and low-income households are left without a pair, and a few paired households
 * without a visit, for the pair and visit milestones' gaps. The sensitive fields of a
 * household (names, identity numbers, phones, addresses) are fake but well-formed.
 *
 * Determinism. Everything is decided from --seed before the first request is sent: the
 * county, and for every case a script (the list of its requests, each with its actor and
 * its arguments). A case's script comes from its own random stream, so it does not depend
 * on the order in which replies arrive. Only what the ledger stamps (times), the dates
 * (relative to today: a meeting may not be in the future nor a deadline in the past) and
 * the request ids differ between two runs of one seed.
 *
 * Valid by construction, checked anyway. A script is written by simulating the rules of
 * docs/workflow.md on a small model of the case (its step, consultations, consultations
 * since the resolution, coordinations, lead), and every request names the actor the
 * permission table wants. The daemon's reply is then compared with the model: a refusal,
 * or a step other than the one the model expects, is a bug in this program (or in the
 * daemon); it is printed with the request and the run stops with status 1.
 *
 * Pipelining. One DEALER socket keeps up to --window requests in flight; each request's
 * id carries the slot it occupies, so a reply finds its request whatever the order
 * (docs/protocol.md section 1). A case has at most one request in flight: its next
 * request goes out only after the previous one was acknowledged, but thousands of cases
 * advance at once, so the daemon's group commit sees full groups. The phases that depend
 * on one another (the county and the admin, then townships and organs, then villages,
 * then people, then the campaign, then the households, their pairings, their visits, the
 * household consultations, then the cases) each wait for the previous one. The
 * households go like everything else: one household.put a stream, --window in flight;
 * a household's visits are one stream, in date order, each reply counting one more.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "proto.h"

#define DEMO_MAX_UNITS		512
#define DEMO_MAX_PEOPLE		8192
#define DEMO_MAX_KIDS		32	/* villages under one township or street */
#define DEMO_MAX_MEMBERS	256	/* people of one unit */
#define DEMO_REPLY_TIMEOUT_S	30	/* no reply at all for this long: give up */
#define DEMO_THRESHOLD		80	/* the campaign's satisfaction threshold */

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the options ---- */

struct options {
	const char *runtime_dir;	/* --runtime-dir */
	const char *endpoint;		/* --connect */
	const char *actor;		/* --actor: the admin's id */
	bool full;			/* --scale full */
	uint64_t seed;			/* --seed */
	int window;			/* --window: requests in flight */
	int wait_s;			/* --wait: how long the daemon may take to answer ping */
	bool quiet;			/* --quiet: the summary only */
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "nanti-demo: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* ---- random numbers: splitmix64, one stream per purpose ---- */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The stream `which` of seed: independent of every other stream. */
static struct rng rng_for(uint64_t seed, uint64_t which)
{
	struct rng r = { seed ^ (which * 0xd1b54a32d192ed03ULL) };

	rng_next(&r);
	return r;
}

/* A number in 0..n-1 (0 if n is 0). */
static int rnd(struct rng *r, int n)
{
	return n > 0 ? (int)(rng_next(r) % (uint64_t)n) : 0;
}

/* A number in lo..hi. */
static int rrange(struct rng *r, int lo, int hi)
{
	return lo + rnd(r, hi - lo + 1);
}

/* True with probability p. */
static bool chance(struct rng *r, double p)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53 < p;
}

#define PICK(r, table) ((table)[rnd((r), (int)NELEM(table))])

/* ---- the county's model ---- */

enum ukind { U_COUNTY, U_TOWNSHIP, U_STREET, U_VILLAGE, U_ORGAN, U__N };
static const char *const ukind_names[U__N] = {
	"county", "township", "street", "village", "organ"
};

enum {
	R_CADRE = 1, R_RESIDENT = 2, R_LEADER = 4, R_HEAD = 8, R_COUNTY = 16, R_THEME = 32,
	R_SUPERVISION = 64, R_ADMIN = 128
};
#define NROLES 8
static const char *const role_names[NROLES] = {	/* in the order of the protocol */
	"cadre", "resident_cadre", "leader", "unit_head", "county_leader", "theme_office",
	"supervision", "admin"
};

struct unit {
	char id[48], name[64];
	enum ukind kind;
	int parent;			/* -1 for the county */
	int head;			/* its unit head (a person), or -1 */
	int kids[DEMO_MAX_KIDS];	/* villages under a township or street */
	int nkids;
	int members[DEMO_MAX_MEMBERS];	/* people whose unit it is */
	int nmembers;
	bool underdeveloped;		/* one of the six underdeveloped townships */
	int resident;			/* a village's resident cadre, or -1 */
	int hh_first, hh_n;		/* a village's households: [hh_first, hh_first + hh_n) */
};

struct person {
	char id[48], name[32];
	int unit;
	unsigned roles;
	int village;			/* a village-resident cadre's village, else -1 */
	bool idle;			/* left without a case on purpose */
};

struct county {
	struct unit u[DEMO_MAX_UNITS];
	int nu;
	struct person p[DEMO_MAX_PEOPLE];
	int np;
	int theme[8], ntheme;		/* the theme office's people; theme[0] heads it */
	int sup[8], nsup;		/* the supervision office's people */
	int admin;
	int townships, streets, villages, organs;
};

/* The townships and streets: the twelve the speech names, then eight more of the same
 * county (full scale). The six underdeveloped ones carry a tag on their cases. */
static const struct {
	const char *id, *name;
	enum ukind kind;
	bool underdeveloped;
} township_defs[] = {
	{ "anling", "安岭乡", U_TOWNSHIP, false },
	{ "tianshi", "田市镇", U_TOWNSHIP, false },
	{ "nanfeng", "南峰街道", U_STREET, false },
	{ "dazhan", "大战乡", U_TOWNSHIP, true },
	{ "butou", "埠头镇", U_TOWNSHIP, false },
	{ "danzhu", "淡竹乡", U_TOWNSHIP, true },
	{ "guanlu", "官路镇", U_TOWNSHIP, false },
	{ "zhuxi", "朱溪镇", U_TOWNSHIP, false },
	{ "baita", "白塔镇", U_TOWNSHIP, false },
	{ "fuying", "福应街道", U_STREET, false },
	{ "anzhou", "安洲街道", U_STREET, false },
	{ "hengxi", "横溪镇", U_TOWNSHIP, false },
	{ "xiage", "下各镇", U_TOWNSHIP, false },
	{ "bulu", "步路乡", U_TOWNSHIP, true },
	{ "guangdu", "广度乡", U_TOWNSHIP, true },
	{ "xigang", "溪港乡", U_TOWNSHIP, false },
	{ "qiushan", "湫山乡", U_TOWNSHIP, true },
	{ "potan", "皤滩乡", U_TOWNSHIP, false },
	{ "shangzhang", "上张乡", U_TOWNSHIP, true },
	{ "shuangmiao", "双庙乡", U_TOWNSHIP, false },
};
#define SMALL_TOWNSHIPS 3

/* The county organs; the first two are the offices, the small scale has the first five. */
static const struct {
	const char *id, *name;
} organ_defs[] = {
	{ "zhutiban", "县主题办" },
	{ "duchashi", "县委督查室" },
	{ "shuiliju", "县水利局" },
	{ "xinfangju", "县信访局" },
	{ "jiaotongju", "县交通运输局" },
	{ "xianweiban", "县委办公室" },
	{ "zhengfuban", "县政府办公室" },
	{ "zuzhibu", "县委组织部" },
	{ "zhengfawei", "县委政法委" },
	{ "fagaiju", "县发展和改革局" },
	{ "caizhengju", "县财政局" },
	{ "guotuju", "县国土资源局" },
	{ "jiansheju", "县住房和城乡建设局" },
	{ "nongyeju", "县农业局" },
	{ "linyeju", "县林业局" },
	{ "jiaoyuju", "县教育局" },
	{ "weishengju", "县卫生局" },
	{ "minzhengju", "县民政局" },
	{ "renshebaoju", "县人力资源和社会保障局" },
	{ "huanbaoju", "县环境保护局" },
	{ "wenguangju", "县文化广电新闻出版局" },
	{ "gonganju", "县公安局" },
	{ "gongdianju", "县供电局" },
	{ "fayuan", "县人民法院" },
	{ "jianchayuan", "县人民检察院" },
	{ "renwubu", "县人武部" },
};
#define SMALL_ORGANS 5
#define ORGAN_THEME 0
#define ORGAN_SUPERVISION 1
/* Organs headed by a county-level leader: the court, the procuracy, the armed forces. */
static bool organ_led_by_county_leader(const char *id)
{
	return strcmp(id, "fayuan") == 0 || strcmp(id, "jianchayuan") == 0 ||
	       strcmp(id, "renwubu") == 0;
}

/* Village names: a first and a second part, each with its pinyin for the id. */
static const struct {
	const char *hz, *py;
} village_first[] = {
	{ "上", "shang" }, { "下", "xia" }, { "东", "dong" }, { "西", "xi" }, { "南", "nan" },
	{ "北", "bei" }, { "前", "qian" }, { "后", "hou" }, { "大", "da" }, { "小", "xiao" },
	{ "新", "xin" }, { "高", "gao" }, { "石", "shi" }, { "杨", "yang" }, { "李", "li" },
	{ "黄", "huang" }, { "朱", "zhu" }, { "陈", "chen" }, { "吴", "wu" }, { "金", "jin" },
	{ "白", "bai" }, { "青", "qing" }, { "马", "ma" }, { "龙", "long" }, { "柏", "bai" },
	{ "枫", "feng" }, { "桐", "tong" }, { "梅", "mei" }, { "竹", "zhu" }, { "岩", "yan" },
}, village_second[] = {
	{ "溪", "xi" }, { "坑", "keng" }, { "岭", "ling" }, { "岙", "ao" }, { "垟", "yang" },
	{ "头", "tou" }, { "桥", "qiao" }, { "山", "shan" }, { "坪", "ping" }, { "湾", "wan" },
	{ "田", "tian" }, { "洋", "yang" }, { "塘", "tang" }, { "宅", "zhai" }, { "园", "yuan" },
	{ "庄", "zhuang" }, { "口", "kou" }, { "源", "yuan" }, { "里", "li" }, { "岸", "an" },
};

static const char *const surnames[] = {
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱",
	"胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯",
	"邓", "曹", "彭", "曾", "田", "董", "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏",
	"魏", "吕", "丁", "沈", "姚", "卢", "应", "项", "郑", "蒋", "张", "王", "陈", "李",
};
static const char *const given_chars[] = {
	"伟", "芳", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
	"明", "超", "秀", "霞", "平", "刚", "英", "华", "玉", "萍", "红", "建", "国", "志",
	"海", "东", "宁", "林", "斌", "波", "辉", "鹏", "飞", "浩", "宇", "亮", "晨", "文",
	"新", "春", "松", "燕", "婷", "雪", "梅", "兰", "琴", "云", "峰", "立", "德", "福",
};

static void person_name(struct rng *r, char *buf, size_t n)
{
	if (chance(r, 0.7))
		snprintf(buf, n, "%s%s%s", PICK(r, surnames), PICK(r, given_chars),
			 PICK(r, given_chars));
	else
		snprintf(buf, n, "%s%s", PICK(r, surnames), PICK(r, given_chars));
}

static int unit_add(struct county *c, const char *id, const char *name, enum ukind kind,
		    int parent)
{
	struct unit *u;

	if (c->nu == DEMO_MAX_UNITS)
		die("too many units", NULL);
	u = &c->u[c->nu];
	memset(u, 0, sizeof *u);
	snprintf(u->id, sizeof u->id, "%s", id);
	snprintf(u->name, sizeof u->name, "%s", name);
	u->kind = kind;
	u->parent = parent;
	u->head = -1;
	u->resident = -1;
	if (parent >= 0 && kind == U_VILLAGE) {
		if (c->u[parent].nkids == DEMO_MAX_KIDS)
			die("too many villages in one township", NULL);
		c->u[parent].kids[c->u[parent].nkids++] = c->nu;
	}
	return c->nu++;
}

/* A person of unit `unit`, with id "<unit>.pNN" and a generated name. */
static int person_add(struct county *c, struct rng *r, int unit, unsigned roles, int village)
{
	struct unit *u = &c->u[unit];
	struct person *p;
	char uid[sizeof u->id];

	if (c->np == DEMO_MAX_PEOPLE || u->nmembers == DEMO_MAX_MEMBERS)
		die("too many people", NULL);
	p = &c->p[c->np];
	memset(p, 0, sizeof *p);
	memcpy(uid, u->id, sizeof uid);		/* not p->id's object, as far as snprintf knows */
	snprintf(p->id, sizeof p->id, "%.40s.p%02d", uid, (u->nmembers + 1) % 1000);
	person_name(r, p->name, sizeof p->name);
	p->unit = unit;
	p->roles = roles;
	p->village = village;
	u->members[u->nmembers++] = c->np;
	if ((roles & R_HEAD) && u->head < 0)
		u->head = c->np;
	if ((roles & R_RESIDENT) && village >= 0)
		c->u[village].resident = c->np;
	return c->np++;
}

/* Is unit a at or under unit above? */
static bool within(const struct county *c, int a, int above)
{
	for (int depth = 0; a >= 0 && depth < 4; depth++, a = c->u[a].parent)
		if (a == above)
			return true;
	return false;
}

/* Does person p reach unit u (docs/workflow.md, "Reach")? */
static bool reaches(const struct county *c, int p, int u)
{
	const struct person *x = &c->p[p];

	if (x->roles & (R_COUNTY | R_THEME | R_SUPERVISION))
		return true;
	if (within(c, u, x->unit))
		return true;
	return (x->roles & R_RESIDENT) && x->village >= 0 && within(c, u, x->village);
}

/* The township, street or organ a unit belongs to (itself, or a village's parent);
 * -1 for the county. */
static int home_of(const struct county *c, int u)
{
	if (c->u[u].kind == U_COUNTY)
		return -1;
	return c->u[u].kind == U_VILLAGE ? c->u[u].parent : u;
}

static void make_villages(struct county *c, struct rng *r, int t, int n)
{
	const struct unit *tw = &c->u[t];

	for (int i = 0, tries = 0; i < n && tries < 1000; tries++) {
		int a = rnd(r, (int)NELEM(village_first)), b = rnd(r, (int)NELEM(village_second));
		char id[48], name[64];
		bool dup = false;
		bool community = tw->kind == U_STREET && chance(r, 0.5);

		snprintf(id, sizeof id, "%s.%s%s", tw->id, village_first[a].py,
			 village_second[b].py);
		snprintf(name, sizeof name, "%s%s%s", village_first[a].hz, village_second[b].hz,
			 community ? "社区" : "村");
		for (int k = 0; k < tw->nkids; k++) {
			const struct unit *v = &c->u[tw->kids[k]];

			/* no two villages of one township share an id or a first name part */
			if (strcmp(v->id, id) == 0 ||
			    strncmp(v->name, name, strlen(village_first[a].hz) +
				    strlen(village_second[b].hz)) == 0)
				dup = true;
		}
		if (dup)
			continue;
		unit_add(c, id, name, U_VILLAGE, t);
		i++;
	}
}

/*
 * county_build - the units and people of the county for this seed and scale.
 * Small: 3 townships and streets of 5 villages, 5 organs, about 60 people. Full: 20
 * townships and streets of 10 to 20 villages (about 300), 26 organs, about 4,000 people:
 * the leadership and the cadres the cases need, then the rest of the cadres of the
 * townships, streets and bureaus, who are there to pair with households (about 4,000
 * pairing cadres in all, as in the speech). The rest come from a stream of their own,
 * so the people before them are those of a county without them.
 */
static void county_build(struct county *c, const struct options *o)
{
	struct rng r = rng_for(o->seed, 1);
	int ntw = o->full ? (int)NELEM(township_defs) : SMALL_TOWNSHIPS;
	int norg = o->full ? (int)NELEM(organ_defs) : SMALL_ORGANS;
	int county, first_organ, first_township;
	unsigned lead_roles = R_CADRE | R_LEADER;

	memset(c, 0, sizeof *c);
	county = unit_add(c, "county", "示范县", U_COUNTY, -1);
	first_organ = c->nu;
	for (int i = 0; i < norg; i++, c->organs++)
		unit_add(c, organ_defs[i].id, organ_defs[i].name, U_ORGAN, county);
	first_township = c->nu;
	for (int i = 0; i < ntw; i++) {
		int t = unit_add(c, township_defs[i].id, township_defs[i].name,
				 township_defs[i].kind, county);

		c->u[t].underdeveloped = township_defs[i].underdeveloped;
		if (township_defs[i].kind == U_STREET)
			c->streets++;
		else
			c->townships++;
	}
	for (int i = 0; i < ntw; i++) {
		int n = o->full ? rrange(&r, 10, 20) : 5;

		make_villages(c, &r, first_township + i, n);
		c->villages += c->u[first_township + i].nkids;
	}

	/* the admin first: the bootstrap creates it right after the county */
	c->admin = c->np;
	memset(&c->p[c->np], 0, sizeof c->p[0]);
	snprintf(c->p[c->np].id, sizeof c->p[0].id, "%s", o->actor);
	snprintf(c->p[c->np].name, sizeof c->p[0].name, "系统管理员");
	c->p[c->np].unit = county;
	c->p[c->np].roles = R_ADMIN;
	c->p[c->np].village = -1;
	c->np++;

	/* county leaders: the four leading bodies (full: 23 of them, small: 5) */
	for (int i = 0, n = o->full ? 23 : 5; i < n; i++)
		person_add(c, &r, county, R_COUNTY, -1);
	/* the organs: the offices, then the bureaus with their heads, leaders and cadres */
	for (int i = 0; i < norg; i++) {
		int u = first_organ + i;

		if (i == ORGAN_THEME) {
			for (int k = 0, n = o->full ? 4 : 2; k < n; k++)
				c->theme[c->ntheme++] = person_add(c, &r, u, R_CADRE | R_THEME |
								   (k == 0 ? R_HEAD : 0), -1);
		} else if (i == ORGAN_SUPERVISION) {
			for (int k = 0, n = o->full ? 3 : 2; k < n; k++)
				c->sup[c->nsup++] = person_add(c, &r, u, R_CADRE | R_SUPERVISION |
							       (k == 0 ? R_HEAD : 0), -1);
		} else {
			int nl = o->full ? rrange(&r, 2, 3) : 1, nc = o->full ? rrange(&r, 2, 5) : 1;

			person_add(c, &r, u, organ_led_by_county_leader(c->u[u].id) ?
				   R_COUNTY | R_HEAD : lead_roles | R_HEAD, -1);
			for (int k = 0; k < nl; k++)
				person_add(c, &r, u, lead_roles, -1);
			for (int k = 0; k < nc; k++)
				person_add(c, &r, u, R_CADRE, -1);
		}
	}
	/* townships and streets: the head, the leadership, cadres, and one resident cadre
	 * per village (most from the township, some from a county organ) */
	for (int i = 0; i < ntw; i++) {
		int t = first_township + i;
		int nl = o->full ? rrange(&r, 4, 6) : 3, nc = o->full ? rrange(&r, 5, 9) : 4;

		person_add(c, &r, t, lead_roles | R_HEAD, -1);
		for (int k = 0; k < nl; k++)
			person_add(c, &r, t, lead_roles, -1);
		for (int k = 0; k < nc; k++)
			person_add(c, &r, t, R_CADRE, -1);
		for (int k = 0; k < c->u[t].nkids; k++) {
			int from = t;

			if (chance(&r, o->full ? 0.15 : 0.07))	/* a bureau's cadre */
				from = first_organ + 2 + rnd(&r, norg - 2);
			person_add(c, &r, from, R_CADRE | R_RESIDENT, c->u[t].kids[k]);
		}
	}
	if (o->full) {
		struct rng r2 = rng_for(o->seed, 3);

		for (int i = 0; i < ntw; i++)
			for (int k = 0, n = rrange(&r2, 85, 125); k < n; k++)
				person_add(c, &r2, first_township + i, R_CADRE, -1);
		for (int i = 2; i < norg; i++)	/* the bureaus, not the two offices */
			for (int k = 0, n = rrange(&r2, 35, 60); k < n; k++)
				person_add(c, &r2, first_organ + i, R_CADRE, -1);
	}
}

/* ---- the household register (民情档案), pairing (一户一干部), visits, consultations ---- */

#define DEMO_HH_FULL		140000	/* households in the speech's county */
#define DEMO_HH_SMALL		900
#define DEMO_SUPPORTED		1356	/* "1,356 households visited with support" */
#define DEMO_CONSULT_FULL	126	/* "120+ household consultations" */
#define DEMO_CONSULT_SMALL	6
#define DEMO_CONSULT_HH		8	/* households one demo consultation discusses */
#define DEMO_CONSULT_PEOPLE	10	/* its participants */
#define DEMO_AREA_CODE		"331024"	/* the identity numbers' six-digit area code */
#define HH_STREAM		(1ULL << 32)	/* household i's text: stream HH_STREAM + i */

enum hcat { H_LOW, H_NEAR, H_OTHER, H__N };
static const char *const hcat_names[H__N] = { "low_income", "near_low_income", "other" };

static const char *const need_names[] = {
	"medical", "housing", "schooling", "employment", "elderly_care", "disability",
	"subsistence", "drinking_water",
};
#define NNEEDS ((int)NELEM(need_names))

static const char *const hh_notes[] = {
	"户主患慢性病,常年服药,医疗费用负担重", "子女在外务工,两位老人留守在家",
	"房屋为C级危房,雨季漏水", "家中有一名重度残疾人,无劳动能力",
	"两个孩子在读,因学致贫", "丈夫因工伤去世,妻子独自抚养孩子",
	"老人独居,行动不便,需定期上门照看",
};
static const char *const x_visit_done[] = {
	"入户走访,了解家庭收入和生活情况", "宣讲低保和医疗救助政策",
	"帮助整理低保申报材料", "联系村卫生室上门体检", "查看房屋安全状况",
	"了解子女就学情况,对接助学政策", "与户主谈心,听取生产生活困难",
};
static const char *const x_visit_support[] = {
	"发放慰问金500元", "送去大米、食用油等慰问品", "帮助联系就业岗位一个",
	"代办医疗救助申请", "协调危房改造补助资金", "落实助学金1000元",
	"帮助申请残疾人两项补贴",
};
static const char *const x_hconsult[] = {
	"逐户分析困难成因,明确帮扶措施", "梳理低保边缘户诉求,提出解决办法",
	"研究危房改造和饮水安全问题", "群众代表参与会诊,现场答复诉求",
};

/* One household of the register. Its sensitive fields (the head's name, identity number,
 * phone, address, members' names, notes) are not kept: household_text() writes them
 * again from the household's own stream whenever a request needs them. */
struct dhousehold {
	int32_t village;
	int32_t cadre;		/* the pairing cadre, or -1 */
	int32_t pairer;		/* who pairs it: the head of its township or the theme office */
	int32_t visit0;		/* its visits: visits[visit0 .. visit0 + nvisits) */
	uint16_t number;	/* in its village: the digits of its id */
	uint16_t needs;		/* bit i: need_names[i] */
	uint8_t category, members, nvisits;
	bool supported;		/* visited with support at least once */
	bool poor;		/* low_income or near_low_income */
};

struct dvisit {
	int32_t household, actor;
	int16_t day;
	uint8_t v;		/* which text; 0x80: with support */
};

struct dconsult {
	int village, actor;
	int16_t day;
	int households[DEMO_CONSULT_HH], nhouseholds;	/* households of the register */
	int participants[DEMO_CONSULT_PEOPLE], nparticipants;
	int residents;
	uint8_t v;
	int ncases;				/* the cases it opens, 1 to 3 */
	int8_t case_hh[3][2];			/* each one's households: indexes into
						 * households[], -1 for none */
	uint64_t seq;				/* the daemon's name for it, once recorded */
};

struct hreg {
	struct dhousehold *h;
	int nh;
	struct dvisit *visits;
	int nvisits;
	struct dconsult *consults;
	int nconsults;
	int by_cat[H__N];
	int gap_cadres, gap_hh;	/* pairing cadres, and low-income households, left without
				 * a pair on purpose, so that coverage has gaps to show */
	int cadres;		/* pairing cadres */
	int cadres_without;	/* of them left without a household */
	int poor_without;	/* low and near-low-income households left without a cadre */
	int paired;		/* households paired */
	int unvisited;		/* paired households not visited */
	int visited, supported;	/* households visited, and visited with support */
};

/* The sensitive part of a household, written again from its own stream. */
struct htext {
	char head[32], id_number[24], phone[24], address[200];
	char member_names[8][32];
	int nmember_names;
	const char *notes;	/* or NULL */
	const char *surname;	/* the head's */
};

/* A pairing cadre (docs/protocol.md, "Households"): a county leader, leadership member,
 * unit head or cadre whose unit is not a village. */
static bool pairing_cadre(const struct county *c, int p)
{
	return (c->p[p].roles & (R_COUNTY | R_LEADER | R_HEAD | R_CADRE | R_RESIDENT)) &&
	       c->u[c->p[p].unit].kind != U_VILLAGE;
}

static void household_id(const struct county *c, const struct dhousehold *h, char *buf,
			 size_t n)
{
	snprintf(buf, n, "%.47s.h%04u", c->u[h->village].id, (unsigned)h->number);
}

static void given_name(struct rng *r, const char *surname, char *buf, size_t n)
{
	if (chance(r, 0.7))
		snprintf(buf, n, "%s%s%s", surname, PICK(r, given_chars), PICK(r, given_chars));
	else
		snprintf(buf, n, "%s%s", surname, PICK(r, given_chars));
}

/* An identity card number of 18 characters: area, date of birth, sequence (odd for men),
 * and the check character of GB 11643 (ISO 7064 MOD 11-2). */
static void id_number(struct rng *r, int year, char out[24])
{
	static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	int sum = 0;

	snprintf(out, 24, "%s%04d%02d%02d%03d", DEMO_AREA_CODE, year, rrange(r, 1, 12),
		 rrange(r, 1, 28), rrange(r, 1, 999));
	for (int i = 0; i < 17; i++)
		sum += (out[i] - '0') * w[i];
	out[17] = "10X98765432"[sum % 11];
	out[18] = '\0';
}

static void household_text(const struct county *c, const struct dhousehold *h, int i,
			   uint64_t seed, struct htext *t)
{
	struct rng r = rng_for(seed, HH_STREAM + (uint64_t)i);
	const struct unit *v = &c->u[h->village];
	int year = rrange(&r, 1940, 2000);

	t->surname = PICK(&r, surnames);
	given_name(&r, t->surname, t->head, sizeof t->head);
	id_number(&r, year, t->id_number);
	if (year < 1950 && chance(&r, 0.5))
		t->phone[0] = '\0';	/* an old head without a phone */
	else
		snprintf(t->phone, sizeof t->phone, "1%c%d%08d", "358"[rnd(&r, 3)], rnd(&r, 10),
			 rnd(&r, 100000000));
	snprintf(t->address, sizeof t->address, "%s%s%d组%d号", c->u[v->parent].name, v->name,
		 rrange(&r, 1, 12), rrange(&r, 1, 80));
	t->nmember_names = h->members - 1;
	for (int k = 0; k < t->nmember_names; k++) {
		char *name = t->member_names[k];
		bool dup = true;

		/* no two people of a household share a name */
		for (int tries = 0; dup && tries < 32; tries++) {
			if (k == 0 && chance(&r, 0.8))	/* the spouse */
				person_name(&r, name, sizeof t->member_names[k]);
			else
				given_name(&r, t->surname, name, sizeof t->member_names[k]);
			dup = strcmp(name, t->head) == 0;
			for (int j = 0; j < k; j++)
				dup = dup || strcmp(name, t->member_names[j]) == 0;
		}
	}
	t->notes = h->poor && chance(&r, 0.6) ? PICK(&r, hh_notes) : NULL;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

static void shuffle(struct rng *r, int *v, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = rnd(r, i + 1), x = v[i];

		v[i] = v[j];
		v[j] = x;
	}
}

/* The township head to pair or visit households of village v, or -1. */
static int township_head(const struct county *c, int v)
{
	return c->u[c->u[v].parent].head;
}

/*
 * The register: households spread over the villages (each village a weight, the county's
 * total fixed), the low and near-low-income ones chosen among them (more often in the six
 * underdeveloped townships), as many as the pairing cadres need plus a few; members,
 * needs.
 */
static void register_households(struct hreg *hr, struct county *c, const struct options *o,
				struct rng *r)
{
	int n = o->full ? DEMO_HH_FULL : DEMO_HH_SMALL, total = 0, at = 0, npoor = 0, want;
	int *weight = calloc((size_t)c->nu, sizeof *weight);

	hr->h = calloc((size_t)n, sizeof *hr->h);
	if (weight == NULL || hr->h == NULL)
		die("out of memory", NULL);
	for (int u = 0; u < c->nu; u++)
		if (c->u[u].kind == U_VILLAGE)
			total += weight[u] = rrange(r, 60, 140);
	for (int u = 0; u < c->nu; u++)
		if (c->u[u].kind == U_VILLAGE)
			at += c->u[u].hh_n = (int)((int64_t)n * weight[u] / total);
	/* the rounding's remainder: one more to each village from the first */
	for (int u = 0; u < c->nu && at < n; u++)
		if (c->u[u].kind == U_VILLAGE)
			c->u[u].hh_n++, at++;
	at = 0;
	for (int u = 0; u < c->nu; u++) {
		if (c->u[u].kind != U_VILLAGE)
			continue;
		c->u[u].hh_first = at;
		for (int k = 0; k < c->u[u].hh_n; k++, at++) {
			struct dhousehold *h = &hr->h[at];

			h->village = u;
			h->number = (uint16_t)(k + 1);
			h->cadre = h->pairer = -1;
			h->category = H_OTHER;
		}
	}
	hr->nh = n;
	free(weight);

	for (int p = 0; p < c->np; p++)
		hr->cadres += pairing_cadre(c, p);
	want = hr->cadres - hr->gap_cadres + hr->cadres / 20 + hr->gap_hh;
	if (want > n / 2)
		die("generator bug: too few households for the pairing cadres", NULL);
	while (npoor < want) {
		struct dhousehold *h = &hr->h[rnd(r, n)];

		if (!h->poor && (c->u[c->u[h->village].parent].underdeveloped || chance(r, 0.5))) {
			h->poor = true;
			h->category = chance(r, 0.55) ? H_LOW : H_NEAR;
			npoor++;
		}
	}
	for (int i = 0; i < n; i++) {
		struct dhousehold *h = &hr->h[i];
		int nneeds = h->poor ? rrange(r, 1, 3) : chance(r, 0.15);

		h->members = (uint8_t)(h->poor ? (chance(r, 0.4) ? rrange(r, 1, 2) : rrange(r, 2, 6))
					       : rrange(r, 1, 8));
		for (int k = 0; k < nneeds; k++)
			h->needs |= (uint16_t)(1u << rnd(r, NNEEDS));
		hr->by_cat[h->category]++;
	}
}

/*
 * Pairing: every pairing cadre but a few gets a low or near-low-income household, a
 * township's cadres first from their own township's, the county leaders, the organs'
 * cadres (and a township's cadres when it has run out) from what is left anywhere; the
 * households left over go to cadres as a second one, except a few left without a cadre.
 * The head of the household's township pairs it, or the theme office.
 */
static void register_pairs(struct hreg *hr, struct county *c, struct rng *r)
{
	int gaps = hr->gap_cadres, gap_hh = hr->gap_hh;
	int *cadres = malloc((size_t)c->np * sizeof *cadres), ncadres = 0;
	int *poor = malloc((size_t)hr->nh * sizeof *poor), npoor = 0;
	int *paired = malloc((size_t)c->np * sizeof *paired), npaired = 0;
	int *from = calloc((size_t)c->nu + 1, sizeof *from), *end, nleft = 0;

	if (cadres == NULL || poor == NULL || paired == NULL || from == NULL)
		die("out of memory", NULL);
	end = malloc((size_t)c->nu * sizeof *end);
	if (end == NULL)
		die("out of memory", NULL);
	for (int p = 0; p < c->np; p++)
		if (pairing_cadre(c, p))
			cadres[ncadres++] = p;
	shuffle(r, cadres, ncadres);
	/* the poor households by township: villages, and so households, come township by
	 * township; the first gap_hh chosen at random stay without a cadre */
	for (int i = 0; i < hr->nh; i++)
		if (hr->h[i].poor)
			poor[npoor++] = i;
	for (int k = 0; k < gap_hh; k++) {
		int j = k + rnd(r, npoor - k), x = poor[k];

		poor[k] = poor[j];
		poor[j] = x;
	}
	hr->poor_without = gap_hh;
	{
		int *rest = poor + gap_hh, nrest = npoor - gap_hh;

		/* back in household order, then a range per township */
		qsort(rest, (size_t)nrest, sizeof *rest, cmp_int);
		for (int u = 0; u < c->nu; u++)
			from[u] = end[u] = 0;
		for (int i = 0; i < nrest; i++) {
			int t = c->u[hr->h[rest[i]].village].parent;

			if (end[t] == 0)
				from[t] = i;
			end[t] = i + 1;
		}
		for (int u = 0; u < c->nu; u++)
			shuffle(r, rest + from[u], end[u] - from[u]);
		/* a township's cadres, from its own */
		for (int i = gaps; i < ncadres; i++) {
			int p = cadres[i], t = c->p[p].unit;
			enum ukind k = c->u[t].kind;

			if ((k == U_TOWNSHIP || k == U_STREET) && end[t] > from[t]) {
				hr->h[rest[--end[t]]].cadre = p;
				paired[npaired++] = p;
				cadres[i] = -1;
			}
		}
		/* what is left, anywhere, for the others */
		for (int u = 0; u < c->nu; u++)
			for (int i = from[u]; i < end[u]; i++)
				rest[nleft++] = rest[i];
		shuffle(r, rest, nleft);
		for (int i = gaps; i < ncadres; i++) {
			if (cadres[i] < 0)
				continue;
			if (nleft == 0)
				break;
			hr->h[rest[--nleft]].cadre = cadres[i];
			paired[npaired++] = cadres[i];
			cadres[i] = -1;
		}
		while (nleft > 0)
			hr->h[rest[--nleft]].cadre = paired[rnd(r, npaired)];
	}
	for (int i = 0; i < ncadres; i++)
		hr->cadres_without += cadres[i] >= 0;
	for (int i = 0; i < hr->nh; i++) {
		struct dhousehold *h = &hr->h[i];
		int head = township_head(c, h->village);

		if (h->cadre < 0)
			continue;
		hr->paired++;
		h->pairer = head >= 0 && chance(r, 0.6) ? head : c->theme[rnd(r, c->ntheme)];
	}
	free(cadres);
	free(poor);
	free(paired);
	free(from);
	free(end);
}

/*
 * Visits: most paired households once to three times in the last three weeks, mostly by
 * their cadre, sometimes by the village's resident cadre or the township's head; a few
 * not at all; some with support (exactly DEMO_SUPPORTED households at full scale, a third
 * of those visited at small).
 */
static void register_visits(struct hreg *hr, const struct county *c, const struct options *o,
			    struct rng *r)
{
	int unvisited = o->full ? 40 : 2, cap = hr->paired * 3 + 1, want;
	bool *skip = calloc((size_t)hr->nh, sizeof *skip);

	if ((hr->visits = calloc((size_t)cap, sizeof *hr->visits)) == NULL || skip == NULL)
		die("out of memory", NULL);
	while (hr->unvisited < unvisited && hr->unvisited < hr->paired) {
		int i = rnd(r, hr->nh);

		if (hr->h[i].cadre >= 0 && !skip[i]) {
			skip[i] = true;
			hr->unvisited++;
		}
	}
	for (int i = 0; i < hr->nh; i++) {
		struct dhousehold *h = &hr->h[i];
		int n, day, w = rnd(r, 100);

		if (h->cadre < 0 || skip[i])
			continue;
		n = w < 55 ? 1 : w < 85 ? 2 : 3;
		day = -rrange(r, 2, 20);
		h->visit0 = hr->nvisits;
		h->nvisits = (uint8_t)n;
		for (int k = 0; k < n; k++) {
			struct dvisit *v = &hr->visits[hr->nvisits++];
			int x = rnd(r, 100), other;

			v->household = i;
			v->day = (int16_t)day;
			day += rrange(r, 1, 6);
			if (day > 0)
				day = 0;
			v->actor = h->cadre;
			other = x < 10 ? c->u[h->village].resident : x < 20 ?
				township_head(c, h->village) : -1;
			if (other >= 0)
				v->actor = other;
			v->v = (uint8_t)rnd(r, 64);
		}
		hr->visited++;
	}
	free(skip);
	want = o->full ? DEMO_SUPPORTED : hr->visited / 3;
	if (want > hr->visited)
		want = hr->visited;
	while (hr->supported < want) {
		struct dhousehold *h = &hr->h[rnd(r, hr->nh)];

		if (h->nvisits == 0 || h->supported)
			continue;
		h->supported = true;
		hr->visits[h->visit0 + rnd(r, h->nvisits)].v |= 0x80;
		if (h->nvisits > 1 && chance(r, 0.2))
			hr->visits[h->visit0 + rnd(r, h->nvisits)].v |= 0x80;
		hr->supported++;
	}
}

/*
 * Household consultations (民情会诊): in villages with low-income households, held by the
 * village's resident cadre or the township's head, discussing 2 to 8 of the village's
 * households (the poor first) with their cadres taking part; each opens 1 to 3 cases,
 * each about one or two of the households discussed.
 */
static void register_consults(struct hreg *hr, const struct county *c, const struct options *o,
			      struct rng *r)
{
	int n = o->full ? DEMO_CONSULT_FULL : DEMO_CONSULT_SMALL;

	if ((hr->consults = calloc((size_t)n, sizeof *hr->consults)) == NULL)
		die("out of memory", NULL);
	while (hr->nconsults < n) {
		struct dconsult *k = &hr->consults[hr->nconsults];
		const struct dhousehold *pick = &hr->h[rnd(r, hr->nh)];
		const struct unit *v = &c->u[pick->village];
		int want;

		if (!pick->poor || v->hh_n < 2)
			continue;	/* a village picked through one of its poor households */
		k->village = pick->village;
		k->actor = v->resident >= 0 && chance(r, 0.7) ? v->resident :
			   township_head(c, k->village);
		if (k->actor < 0)
			k->actor = c->theme[rnd(r, c->ntheme)];
		k->day = (int16_t)-rrange(r, 1, 18);
		want = rrange(r, 2, v->hh_n < DEMO_CONSULT_HH ? v->hh_n : DEMO_CONSULT_HH);
		for (int pass = 0; pass < 2 && k->nhouseholds < want; pass++)
			for (int i = 0, at = rnd(r, v->hh_n); i < v->hh_n && k->nhouseholds < want;
			     i++) {
				int x = v->hh_first + (at + i) % v->hh_n;
				bool dup = false;

				if (pass == 0 && !hr->h[x].poor)
					continue;
				for (int j = 0; j < k->nhouseholds; j++)
					dup = dup || k->households[j] == x;
				if (!dup)
					k->households[k->nhouseholds++] = x;
			}
		k->participants[k->nparticipants++] = k->actor;
		for (int i = 0; i < k->nhouseholds && k->nparticipants < DEMO_CONSULT_PEOPLE; i++) {
			int p = hr->h[k->households[i]].cadre;
			bool dup = p < 0;

			for (int j = 0; j < k->nparticipants; j++)
				dup = dup || k->participants[j] == p;
			if (!dup)
				k->participants[k->nparticipants++] = p;
		}
		k->residents = rrange(r, 8, 60);
		k->v = (uint8_t)rnd(r, 64);
		k->ncases = rrange(r, 1, 3);
		for (int j = 0; j < k->ncases; j++) {
			k->case_hh[j][0] = (int8_t)rnd(r, k->nhouseholds);
			k->case_hh[j][1] = (int8_t)(chance(r, 0.3) ? rnd(r, k->nhouseholds) : -1);
			if (k->case_hh[j][1] == k->case_hh[j][0])
				k->case_hh[j][1] = -1;
		}
		hr->nconsults++;
	}
}

/* register_build - the households, their pairing, visits and consultations. */
static void register_build(struct hreg *hr, struct county *c, const struct options *o)
{
	struct rng r = rng_for(o->seed, 4);

	memset(hr, 0, sizeof *hr);
	hr->gap_cadres = o->full ? 12 : 2;
	hr->gap_hh = o->full ? 15 : 2;
	register_households(hr, c, o, &r);
	register_pairs(hr, c, &r);
	register_visits(hr, c, o, &r);
	register_consults(hr, c, o, &r);
}

/* ---- the cases ---- */

enum kind { K_PROBLEM, K_PETITION, K_HOUSEHOLD, K_LAGGING, K__N };
static const char *const kind_names[K__N] = {
	"problem", "petition", "household_issue", "lagging_village"
};
enum area { A_GRASSROOTS, A_DEVELOPMENT, A_LIVELIHOOD, A__N };
static const char *const area_names[A__N] = { "grassroots", "development", "livelihood" };
static const char *const area_hz[A__N] = { "基层组织建设", "发展", "民生" };
enum source { S_CONSULTATION, S_RESEARCH, S_DEPUTIES, S_LETTERS, S_HOUSEHOLD, S__N };
static const char *const source_names[S__N] = {
	"consultation", "research_visit", "deputies", "letters_visits", "household_consultation"
};
static const char *const source_hz[S__N] = {
	"民主恳谈", "蹲点调研", "人大代表和政协委员建议", "来信来访", "民情会诊"
};
enum step { ST_IDENTIFIED, ST_PLANNED, ST_COMMITTED, ST_RESOLVED, ST_JOURNALED, ST_CROSSED,
	    ST__N };
static const char *const step_names[ST__N] = {
	"identified", "planned", "committed", "resolved", "journaled", "crossed_off"
};

/* What a script may do; O_CROSS_OFF and O_RETURN are the two verdicts of case.verify. */
enum dop {
	O_OPEN, O_PLAN, O_CONSULT, O_COMMIT, O_COORDINATE, O_RESOLVE, O_JOURNAL, O_OUTCOME,
	O_CROSS_OFF, O_RETURN, O_REOPEN, O_REASSIGN, O_NOTE, O_ESCALATE, O_GUARANTEE,
	O_REPEAT, O__N
};
static const char *const dop_names[O__N] = {
	"case.open", "case.plan", "case.consult", "case.commit", "case.coordinate",
	"case.resolve", "case.journal", "case.outcome", "case.verify", "case.verify",
	"case.reopen", "case.reassign", "case.note", "case.escalate", "case.guarantee",
	"case.repeat"
};

/* One request of a script. What x, y, z and v mean depends on the op (see op_pack()). */
struct dop_rec {
	uint8_t op;		/* enum dop */
	uint8_t expect;		/* the step the reply must report */
	uint8_t v;		/* a variant: which text, form, flags */
	int16_t day;		/* a date or a deadline, in days from today */
	int32_t actor;		/* a person */
	int32_t x, y, z;
};

struct dcase {
	uint8_t kind, area;
	int8_t source;		/* -1: none */
	bool described, reassignable;
	int unit, lead, taker, opener;	/* taker -1 unless a petition */
	int units[3], nunits;		/* responsible units named when it is opened */
	int tags[3], ntags;
	int deadline;			/* days from today; 0: none */
	int households[2], nhouseholds;	/* the households it concerns (household_issue) */
	int consult;			/* the consultation that found it, or -1 */
	char title[200];
	int first, nops;		/* its script: ops[first .. first + nops) */
	uint8_t goal;			/* the step it ends at */
	uint64_t id;			/* the daemon's case id, once opened */
};

static const char *const tag_names[] = {
	"欠发达乡镇", "三包一控", "一村一策", "百日攻坚", "民情档案", "一户一干部", "挂牌督办",
	"重点项目",
};
enum { TAG_UNDERDEV, TAG_PETITION, TAG_ONEPLAN, TAG_HUNDRED, TAG_RECORDS, TAG_PAIRING,
       TAG_LISTED, TAG_KEYPROJECT };

static const char *const t_grassroots[] = {
	"村两委班子不团结、工作难推进", "村级集体经济薄弱", "村务财务公开不规范",
	"村级换届选举遗留问题", "党员作用发挥不明显", "村级组织活动场所简陋",
	"村规民约执行不到位",
};
static const char *const t_development[] = {
	"重点项目政策处理受阻", "新农村建设规划未落地", "工业功能区用地指标不足",
	"农村公路硬化资金缺口", "电力线路改造滞后影响企业用电", "项目审批环节多、时限长",
	"农业产业基地基础设施薄弱", "旧村改造推进缓慢",
};
static const char *const t_livelihood[] = {
	"饮用水管网老化、供水不足", "小学校舍危房改造", "村卫生室缺医少药",
	"生活垃圾集中清运难", "文化活动场所缺乏", "河道淤塞、汛期易涝", "山塘水库除险加固",
	"留守老人照料难", "农民就业技能培训不足",
};
static const char *const t_petition[] = {
	"征地补偿款分配纠纷信访积案", "宅基地审批纠纷多年上访", "山林权属纠纷重复信访",
	"企业拖欠工资集体上访", "水库移民后期扶持信访积案", "旧城改造拆迁安置信访积案",
	"土地承包经营权纠纷信访", "交通事故赔偿纠纷越级上访",
};
static const char *const t_household[] = {	/* after "<village><surname>某" */
	"家房屋年久失修漏雨", "家因病致贫就医困难", "家子女上学费用困难", "独居无人照料",
	"家残疾人就业无门", "家低保申报材料不全",
};
static const char *const t_lagging[] = {
	"后进村转化", "软弱涣散村级班子整顿", "集体经济空壳村转化", "矛盾复杂村综合治理",
	"村务混乱村规范管理",
};

static const char *const x_measures[] = {
	"成立工作专班,班子成员挂钩联系,逐户走访摸清底数",
	"召开村两委联席会议,制定一村一策整改方案",
	"争取县级部门资金支持,分期分批实施",
	"公开招投标,群众代表全程监督",
	"落实专人跟踪,每周通报进度",
	"召开信访会诊,邀请乡贤担任信访代理员",
};
static const char *const x_schedules[] = {
	"本月摸底,下月制定方案并实施,9月底前完成验收",
	"分三个阶段推进:调查摸底、集中攻坚、巩固提高",
	"一个月内完成前期工作,三个月内见效",
	"每半月召开一次推进会,限期办结",
};
static const char *const x_consult_before[] = {
	"听取群众意见,确定解决方案", "群众对方案提出修改意见,方案据此调整",
	"向群众通报进展,征求下一步意见", "与当事人及村民代表面对面恳谈",
};
static const char *const x_consult_after[] = {
	"请群众评议办理结果", "回访群众,评议解决成效", "召开评议会,让群众评判结果",
};
static const char *const x_changes[] = {
	"调整施工时间,避开农忙", "增加一户困难户纳入帮扶", "补偿标准按群众意见调整",
	"方案增加公开监督环节",
};
static const char *const x_places[] = { "村委会议室", "文化礼堂", "祠堂", "老年活动室" };
static const char *const coord_forms[] = { "coordination", "handover", "onsite", "decision",
					   "team" };
static const char *const x_coord[] = {
	"召开部门协调会,明确各方责任", "召开交办会,问题交责任单位限期办理",
	"现场办公会,现场解决用地和资金问题", "党委会集体研究决定", "组建工作专班,专人驻点攻坚",
};
static const char *const x_resolve[] = {
	"问题已解决,工程完工并通过验收", "矛盾纠纷已调处,双方签订协议",
	"资金已落实到位,项目开工建设", "困难户已落实帮扶措施", "信访人诉求已合理解决,息诉罢访",
};
static const char *const x_process[] = {
	"深入走访群众,召开民主恳谈,联合相关部门攻坚破题",
	"班子成员包案,一线办公,限期化解",
	"驻村干部蹲点,一户一策,逐项销号",
};
static const char *const x_outcome[] = {
	"重大项目政策处理群众参与机制", "村务公开民主恳谈制度", "信访积案领导包案三包一控制度",
	"民情会诊定期例会制度", "一村一策后进村转化机制", "困难户一户一干部结对帮扶制度",
};
static const char *const x_return[] = {
	"复核发现群众仍有意见,退回重办", "办理材料不全,整改后重新报送",
};
static const char *const x_reopen[] = {
	"群众反映问题反弹,重新挂牌督办", "回访发现承诺事项未完全兑现",
};
static const char *const x_reassign[] = { "原责任人工作调整", "按分工调整主要责任人" };
static const char *const x_notes[] = {
	"已走访农户,进展正常", "资金已申报,等待批复", "主题办抽查:台账完整",
	"督查室回访:群众反映较好", "已与责任单位对接,下周现场办公",
};
static const char *const x_escalate[] = {
	"进展缓慢,列入督查室挂牌督办", "群众多次反映,督查室督办",
};
static const char *const x_repeat[] = {
	"信访人到县信访局重访", "信访人越级到市里上访", "信访人再次到乡镇反映",
};

/* ---- writing the scripts ---- */

/* The lead categories cases are spread over. */
enum cat { C_COUNTY, C_TW_LEADER, C_ORG_LEADER, C_RESIDENT, C_TW_CADRE, C_ORG_CADRE, C__N };

struct gen {
	struct county *c;
	const struct options *o;
	const struct hreg *hr;
	struct dcase *cases;
	int ncases;
	struct dop_rec *ops;
	int nops, capops;
	int pool[C__N][DEMO_MAX_PEOPLE];	/* people of each category, idle ones excluded */
	int npool[C__N];
	int idle;				/* leaders left without a case */
};

/* The model of a case while its script is written. */
struct sim {
	int step, consults, after, coords, lead, day;
};

static int person_cat(const struct county *c, int p)
{
	const struct person *x = &c->p[p];
	enum ukind k = c->u[x->unit].kind;

	if (x->roles & (R_THEME | R_SUPERVISION | R_ADMIN))
		return -1;
	if (x->roles & R_COUNTY)
		return C_COUNTY;
	if (x->roles & R_RESIDENT)
		return C_RESIDENT;
	if (x->roles & R_LEADER)
		return k == U_ORGAN ? C_ORG_LEADER : C_TW_LEADER;
	return k == U_ORGAN ? C_ORG_CADRE : C_TW_CADRE;
}

/* Is p one of those the campaign expects to own a case (coverage's identify rule)? */
static bool person_owes_case(const struct person *x)
{
	return (x->roles & (R_COUNTY | R_LEADER | R_RESIDENT)) != 0;
}

static struct dop_rec *emit(struct gen *g, struct sim *s, int op, int actor)
{
	struct dop_rec *d;

	if (g->nops == g->capops) {
		g->capops = g->capops ? g->capops * 2 : 65536;
		if ((g->ops = realloc(g->ops, (size_t)g->capops * sizeof *g->ops)) == NULL)
			die("out of memory", NULL);
	}
	d = &g->ops[g->nops++];
	memset(d, 0, sizeof *d);
	d->op = (uint8_t)op;
	d->actor = actor;
	d->x = d->y = d->z = -1;
	d->expect = (uint8_t)s->step;
	return d;
}

/* The generator's own check of a rule: a failure is a bug here, not in the daemon. */
static void must(bool cond, const char *rule)
{
	if (!cond)
		die("generator bug: a script breaks the rule", rule);
}

/* A meeting date: on or after the previous one, never after today. */
static int16_t next_day(struct sim *s, struct rng *r)
{
	s->day += rnd(r, 3);
	if (s->day > 0)
		s->day = 0;
	return (int16_t)s->day;
}

static int random_organ(const struct county *c, struct rng *r)
{
	int n = 0, pick;

	for (int i = 0; i < c->nu; i++)
		n += c->u[i].kind == U_ORGAN;
	pick = 2 + rnd(r, n - 2);	/* not the two offices */
	for (int i = 0; i < c->nu; i++)
		if (c->u[i].kind == U_ORGAN && pick-- == 0)
			return i;
	return -1;
}

/* Up to max distinct units for a case of unit u: its township (or organ), then bureaus. */
static int pick_units(const struct county *c, struct rng *r, int u, int *out, int max)
{
	int n = 0, home = home_of(c, u), want = rrange(r, 1, max);

	if (home >= 0)
		out[n++] = home;
	while (n < want) {
		int o = random_organ(c, r);
		bool dup = false;

		for (int i = 0; i < n; i++)
			dup = dup || out[i] == o;
		if (!dup)
			out[n++] = o;
		else if (chance(r, 0.5))
			break;
	}
	return n;
}

static void op_plan(struct gen *g, struct sim *s, struct rng *r)
{
	struct dop_rec *d;
	int u[3], n;

	must(s->step == ST_IDENTIFIED || s->step == ST_PLANNED, "a plan at identified or planned");
	s->step = ST_PLANNED;
	d = emit(g, s, O_PLAN, s->lead);
	d->day = (int16_t)rrange(r, 14, 110);
	n = pick_units(g->c, r, g->cases[g->ncases].unit, u, 3);
	d->x = u[0];
	d->y = n > 1 ? u[1] : -1;
	d->z = n > 2 ? u[2] : -1;
	d->v = (uint8_t)(rnd(r, 64) | (chance(r, 0.5) ? 0x80 : 0));	/* 0x80: confirm the lead */
}

static void op_consult(struct gen *g, struct sim *s, struct rng *r)
{
	struct dop_rec *d;

	must(s->step != ST_CROSSED, "no consultation on a crossed-off case");
	s->consults++;
	s->after++;
	d = emit(g, s, O_CONSULT, s->lead);
	d->day = next_day(s, r);
	d->x = rrange(r, 8, 120);		/* residents */
	d->y = chance(r, 0.3) ? rnd(r, (int)NELEM(x_changes)) : -1;
	d->z = s->step >= ST_RESOLVED;		/* the residents judge the result */
	d->v = (uint8_t)rnd(r, 64);
}

static void op_coordinate(struct gen *g, struct sim *s, struct rng *r)
{
	struct dop_rec *d;
	int u[3], n;

	must(s->step == ST_PLANNED || s->step == ST_COMMITTED,
	     "coordination at planned or committed");
	s->coords++;
	d = emit(g, s, O_COORDINATE, s->lead);
	d->day = next_day(s, r);
	d->v = (uint8_t)rnd(r, (int)NELEM(coord_forms));
	n = chance(r, 0.6) ? pick_units(g->c, r, g->cases[g->ncases].unit, u, 2) : 0;
	d->x = n > 0 ? u[0] : -1;
	d->y = n > 1 ? u[1] : -1;
}

static void op_commit(struct gen *g, struct sim *s, struct rng *r)
{
	const struct county *c = g->c;
	const struct dcase *k = &g->cases[g->ncases];
	struct dop_rec *d;
	int board = -1;

	must(s->step == ST_PLANNED, "a commitment at planned");
	must(s->consults > 0, "a consultation before the commitment");
	s->step = ST_COMMITTED;
	if (c->u[k->unit].kind == U_VILLAGE && chance(r, 0.6))
		board = k->unit;
	else if (c->u[k->unit].nkids > 0 && chance(r, 0.2))
		board = c->u[k->unit].kids[rnd(r, c->u[k->unit].nkids)];
	/* the lead publishes it, or the theme office does in the county news */
	d = emit(g, s, O_COMMIT, board < 0 && chance(r, 0.3) ?
		 c->theme[rnd(r, c->ntheme)] : s->lead);
	d->day = next_day(s, r);
	d->x = board;
	d->v = (uint8_t)rrange(r, 1, 8);	/* the page or the notice's number */
}

static void op_resolve(struct gen *g, struct sim *s, struct rng *r)
{
	struct dop_rec *d;

	must(s->step == ST_COMMITTED, "a resolution at committed");
	must(s->coords > 0, "a coordination before the resolution");
	s->step = ST_RESOLVED;
	s->after = 0;
	d = emit(g, s, O_RESOLVE, s->lead);
	d->v = (uint8_t)rnd(r, (int)NELEM(x_resolve));
}

static void op_journal(struct gen *g, struct sim *s, struct rng *r, bool satisfied)
{
	struct dop_rec *d;
	int total = rrange(r, 12, 90), sat, basic, dis;

	must(s->step == ST_RESOLVED, "a journal at resolved");
	must(s->after > 0, "a consultation after the resolution before the journal");
	if (satisfied) {
		dis = rnd(r, total / 10 + 1);
		basic = rnd(r, (total - dis) / 3 + 1);
	} else {
		dis = total * rrange(r, 40, 60) / 100;
		basic = rnd(r, (total - dis) / 2 + 1);
	}
	sat = total - dis - basic;
	if ((sat + basic) * 100 / total >= DEMO_THRESHOLD) {
		s->step = ST_JOURNALED;
	} else {
		s->step = ST_COMMITTED;	/* a redo */
		s->after = 0;
	}
	must(((sat + basic) * 100 / total >= DEMO_THRESHOLD) == satisfied,
	     "the satisfaction the journal was meant to have");
	d = emit(g, s, O_JOURNAL, s->lead);
	d->x = sat;
	d->y = basic;
	d->z = dis;
	d->v = (uint8_t)(rnd(r, 64) | (satisfied ? 0 : 0x80));
}

static void op_outcome(struct gen *g, struct sim *s, struct rng *r)
{
	must(s->step == ST_RESOLVED || s->step == ST_JOURNALED || s->step == ST_CROSSED,
	     "an outcome at resolved, journaled or crossed_off");
	emit(g, s, O_OUTCOME, s->lead)->v = (uint8_t)rnd(r, (int)NELEM(x_outcome));
}

static void op_verify(struct gen *g, struct sim *s, struct rng *r, bool cross_off)
{
	int actor = g->c->theme[rnd(r, g->c->ntheme)];

	if (cross_off) {
		must(s->step == ST_JOURNALED, "crossing off a journaled case");
		s->step = ST_CROSSED;
		emit(g, s, O_CROSS_OFF, actor);
	} else {
		must(s->step == ST_RESOLVED || s->step == ST_JOURNALED,
		     "a return at resolved or journaled");
		s->step = ST_COMMITTED;
		s->after = 0;
		emit(g, s, O_RETURN, actor)->v = (uint8_t)rnd(r, (int)NELEM(x_return));
	}
}

static void op_reopen(struct gen *g, struct sim *s, struct rng *r)
{
	must(s->step == ST_CROSSED, "reopening a crossed-off case");
	s->step = ST_COMMITTED;
	s->after = 0;
	emit(g, s, O_REOPEN, g->c->theme[rnd(r, g->c->ntheme)])->v =
		(uint8_t)rnd(r, (int)NELEM(x_reopen));
}

/*
 * Hand the case to someone else: the head of its township or organ (or the theme office)
 * to a person of that unit; a county-level case, the theme office to another county
 * leader. Returns false if there is nobody to hand it to.
 */
static bool op_reassign(struct gen *g, struct sim *s, struct rng *r)
{
	const struct county *c = g->c;
	const struct dcase *k = &g->cases[g->ncases];
	int home = home_of(c, k->unit), to = -1, actor = c->theme[rnd(r, c->ntheme)];
	struct dop_rec *d;

	if (s->step == ST_CROSSED)
		return false;
	if (home >= 0 && c->u[home].head >= 0) {
		const struct unit *h = &c->u[home];

		for (int tries = 0; tries < 8 && to < 0; tries++) {
			int p = h->members[rnd(r, h->nmembers)];

			if (p != s->lead && !c->p[p].idle && person_cat(c, p) >= 0)
				to = p;
		}
		if (to >= 0 && chance(r, 0.7))
			actor = h->head;
	} else {
		for (int tries = 0; tries < 8 && to < 0; tries++) {
			int p = g->pool[C_COUNTY][rnd(r, g->npool[C_COUNTY])];

			if (p != s->lead)
				to = p;
		}
	}
	if (to < 0)
		return false;
	s->lead = to;
	d = emit(g, s, O_REASSIGN, actor);
	d->x = to;
	d->v = (uint8_t)rnd(r, (int)NELEM(x_reassign));
	return true;
}

static void op_note(struct gen *g, struct sim *s, struct rng *r)
{
	const struct county *c = g->c;
	const struct dcase *k = &g->cases[g->ncases];
	int home = home_of(c, k->unit), actor = s->lead, w = rnd(r, 100);

	if (w < 15)
		actor = c->theme[rnd(r, c->ntheme)];
	else if (w < 25)
		actor = c->sup[rnd(r, c->nsup)];
	else if (w < 35 && k->taker >= 0)
		actor = k->taker;
	else if (w < 55 && home >= 0 && c->u[home].head >= 0)
		actor = c->u[home].head;	/* reaches the case's unit */
	emit(g, s, O_NOTE, actor)->v = (uint8_t)rnd(r, (int)NELEM(x_notes));
}

static bool op_escalate(struct gen *g, struct sim *s, struct rng *r)
{
	const struct county *c = g->c;

	if (s->step == ST_CROSSED)
		return false;
	emit(g, s, O_ESCALATE, chance(r, 0.85) ? c->sup[rnd(r, c->nsup)] :
	     c->theme[rnd(r, c->ntheme)])->v = (uint8_t)rnd(r, (int)NELEM(x_escalate));
	return true;
}

static void op_guarantee(struct gen *g, struct sim *s, struct rng *r)
{
	const struct dcase *k = &g->cases[g->ncases];
	unsigned v = (unsigned)rrange(r, 1, 3);	/* 1: promise_kept given, 2: stable given */

	v |= chance(r, 0.7) ? 4 : 0;		/* the promise is kept */
	v |= chance(r, 0.8) ? 8 : 0;		/* stable on the spot */
	v |= chance(r, 0.5) ? 16 : 0;		/* with a note */
	emit(g, s, O_GUARANTEE, chance(r, 0.5) ? k->taker : s->lead)->v = (uint8_t)v;
}

static void op_repeat(struct gen *g, struct sim *s, struct rng *r)
{
	const struct county *c = g->c;
	const struct dcase *k = &g->cases[g->ncases];
	int w = rnd(r, 4);
	int actor = w == 0 ? s->lead : w == 1 ? k->taker : w == 2 ?
		    c->theme[rnd(r, c->ntheme)] : c->sup[rnd(r, c->nsup)];

	if (s->step >= ST_RESOLVED) {	/* a settled case goes back to work */
		s->step = ST_COMMITTED;
		s->after = 0;
	}
	emit(g, s, O_REPEAT, actor)->v = (uint8_t)(rnd(r, (int)NELEM(x_repeat)) |
						   (chance(r, 0.3) ? 0x80 : 0));
}

/* The side events of a script: they happen at some point of the main walk. */
struct side {
	int op;
	int at;		/* after this many main moves */
};

/* Fire side event e if the case's step allows it; returns whether it was done. */
static bool side_fire(struct gen *g, struct sim *s, struct rng *r, int op, bool at_end)
{
	switch (op) {
	case O_NOTE: op_note(g, s, r); return true;
	case O_GUARANTEE: op_guarantee(g, s, r); return true;
	case O_ESCALATE: return op_escalate(g, s, r);
	case O_REASSIGN: return op_reassign(g, s, r);
	case O_REPEAT:
		if (at_end && s->step >= ST_RESOLVED)
			return true;	/* it would undo the end: dropped */
		op_repeat(g, s, r);
		return true;
	}
	return true;
}

/*
 * One main move of the walk toward goal from the current step, with the extra
 * consultations, coordinations and outcomes that happen on the way. Returns false when
 * the case is where it should stay.
 */
static bool main_move(struct gen *g, struct sim *s, struct rng *r, int goal, int *redo,
		      int *ret, int *reopen, int *detour)
{
	switch (s->step) {
	case ST_IDENTIFIED:
		if (goal == ST_IDENTIFIED) {
			if (chance(r, 0.2))
				op_consult(g, s, r);
			return false;
		}
		if (chance(r, 0.2))
			op_consult(g, s, r);
		op_plan(g, s, r);
		if (chance(r, 0.08))
			op_plan(g, s, r);	/* a new plan replaces the old */
		return true;
	case ST_PLANNED:
		if (goal == ST_PLANNED) {
			if (chance(r, 0.5))
				op_consult(g, s, r);
			if (chance(r, 0.2))
				op_coordinate(g, s, r);
			return false;
		}
		for (int n = s->consults == 0 ? rrange(r, 1, 2) : 0; n > 0; n--)
			op_consult(g, s, r);
		if (chance(r, 0.3))
			op_coordinate(g, s, r);
		op_commit(g, s, r);
		return true;
	case ST_COMMITTED:
		if (goal == ST_COMMITTED && !*detour) {
			if (chance(r, 0.4))
				op_coordinate(g, s, r);
			return false;
		}
		for (int n = s->coords == 0 ? rrange(r, 1, 2) : chance(r, 0.2); n > 0; n--)
			op_coordinate(g, s, r);
		op_resolve(g, s, r);
		if (chance(r, 0.15))
			op_outcome(g, s, r);
		return true;
	case ST_RESOLVED:
		if (goal == ST_RESOLVED && !*detour) {
			if (chance(r, 0.3))
				op_consult(g, s, r);
			return false;
		}
		if (*ret && chance(r, 0.3)) {
			op_verify(g, s, r, false);	/* returned before the journal */
			*ret = 0;
			return true;
		}
		for (int n = s->after == 0 ? rrange(r, 1, 2) : 0; n > 0; n--)
			op_consult(g, s, r);
		op_journal(g, s, r, !*redo);
		if (*redo) {
			*redo = 0;
			*detour = 0;
		} else if (chance(r, 0.2)) {
			op_outcome(g, s, r);
		}
		return true;
	case ST_JOURNALED:
		if (*ret) {
			op_verify(g, s, r, false);
			*ret = 0;
			return true;
		}
		if (goal == ST_JOURNALED)
			return false;
		op_verify(g, s, r, true);
		if (chance(r, 0.1))
			op_outcome(g, s, r);
		return true;
	case ST_CROSSED:
		if (*reopen) {
			op_reopen(g, s, r);
			*reopen = 0;
			return true;
		}
		return false;
	}
	return false;
}

/* The script of case g->cases[g->ncases]: opened, then walked to its goal. */
static void case_script(struct gen *g, struct rng *r)
{
	struct dcase *k = &g->cases[g->ncases];
	struct sim s = { ST_IDENTIFIED, 0, 0, 0, k->lead, -20 + rnd(r, 6) };
	int goal = k->goal, redo = 0, ret = 0, reopen = 0, detour = 0, moves = 0;
	struct side sides[12];
	int nsides = 0, nmain = goal + 2;

	k->first = g->nops;
	emit(g, &s, O_OPEN, k->opener);
	if (goal >= ST_JOURNALED && chance(r, 0.12))
		redo = 1;
	if (goal == ST_COMMITTED && chance(r, 0.25))
		redo = detour = 1;	/* committed again after a dissatisfied journal */
	if (goal >= ST_JOURNALED && chance(r, 0.06))
		ret = 1;
	if (goal == ST_CROSSED && chance(r, 0.05))
		reopen = 1;
	if (k->reassignable && chance(r, 0.05))
		sides[nsides++] = (struct side){ O_REASSIGN, rnd(r, nmain) };
	if (chance(r, 0.08))
		sides[nsides++] = (struct side){ O_ESCALATE, rnd(r, nmain) };
	for (int n = chance(r, 0.3) ? rrange(r, 1, 2) : 0; n > 0; n--)
		sides[nsides++] = (struct side){ O_NOTE, rnd(r, nmain + 1) };
	if (k->kind == K_PETITION) {
		for (int n = chance(r, 0.6) ? rrange(r, 1, 2) : 0; n > 0; n--)
			sides[nsides++] = (struct side){ O_GUARANTEE, rnd(r, nmain + 1) };
		if (chance(r, 0.2))
			sides[nsides++] = (struct side){ O_REPEAT, rnd(r, nmain) };
	}
	for (;;) {
		for (int i = 0; i < nsides; i++)
			if (sides[i].op >= 0 && sides[i].at <= moves &&
			    side_fire(g, &s, r, sides[i].op, false))
				sides[i].op = -1;
		if (!main_move(g, &s, r, goal, &redo, &ret, &reopen, &detour))
			break;
		moves++;
		must(moves < 64, "a script ends");
	}
	for (int i = 0; i < nsides; i++)
		if (sides[i].op >= 0)
			side_fire(g, &s, r, sides[i].op, true);
	must(s.step == goal, "the script ends at its goal");
	k->nops = g->nops - k->first;
}

/* ---- choosing the cases ---- */

static int pick_village(const struct county *c, struct rng *r, int township)
{
	if (township >= 0 && c->u[township].nkids > 0)
		return c->u[township].kids[rnd(r, c->u[township].nkids)];
	for (;;) {
		int u = rnd(r, c->nu);

		if (c->u[u].kind == U_VILLAGE)
			return u;
	}
}

static int pick_township(const struct county *c, struct rng *r)
{
	for (;;) {
		int u = rnd(r, c->nu);

		if (c->u[u].kind == U_TOWNSHIP || c->u[u].kind == U_STREET)
			return u;
	}
}

static int pick_kind(struct rng *r, int cat)
{
	/* weights of problem, petition, household_issue, lagging_village per category */
	static const int w[C__N][K__N] = {
		[C_COUNTY] = { 50, 35, 0, 15 },
		[C_TW_LEADER] = { 50, 25, 10, 15 },
		[C_ORG_LEADER] = { 75, 15, 0, 10 },
		[C_RESIDENT] = { 35, 10, 40, 15 },
		[C_TW_CADRE] = { 40, 10, 50, 0 },
		[C_ORG_CADRE] = { 100, 0, 0, 0 },
	};
	int x = rnd(r, 100);

	for (int k = 0; k < K__N; k++) {
		if (x < w[cat][k])
			return k;
		x -= w[cat][k];
	}
	return K_PROBLEM;
}

/* The unit of a case of this kind led by p. */
static int pick_case_unit(const struct county *c, struct rng *r, int p, int cat, int kind)
{
	const struct person *x = &c->p[p];
	int home = home_of(c, x->unit);

	switch (cat) {
	case C_RESIDENT:
		return x->village;
	case C_TW_LEADER:
	case C_TW_CADRE:
		if (kind == K_LAGGING || kind == K_HOUSEHOLD || chance(r, 0.6))
			return pick_village(c, r, home);
		return home;
	case C_COUNTY:
		if (kind == K_LAGGING || kind == K_HOUSEHOLD)
			return pick_village(c, r, -1);
		if (chance(r, 0.1))
			return 0;	/* the county itself */
		return chance(r, 0.5) ? pick_township(c, r) : pick_village(c, r, -1);
	default:			/* an organ's people: the organ, or a village */
		if (kind == K_LAGGING || kind == K_HOUSEHOLD)
			return pick_village(c, r, -1);
		return x->unit;
	}
}

static void case_title(const struct gen *g, struct dcase *k, struct rng *r)
{
	const struct county *c = g->c;
	const char *where = k->unit == 0 ? "全县" : c->u[k->unit].name;
	struct htext t;

	switch (k->kind) {
	case K_PETITION:
		snprintf(k->title, sizeof k->title, "%s%s", where, PICK(r, t_petition));
		break;
	case K_HOUSEHOLD:
		/* the surname of the head of the household it concerns */
		if (k->nhouseholds > 0)
			household_text(c, &g->hr->h[k->households[0]], k->households[0],
				       g->o->seed, &t);
		else
			t.surname = PICK(r, surnames);
		snprintf(k->title, sizeof k->title, "%s%s某%s", where, t.surname,
			 PICK(r, t_household));
		break;
	case K_LAGGING:
		snprintf(k->title, sizeof k->title, "%s%s:一村一策", where, PICK(r, t_lagging));
		break;
	default:
		snprintf(k->title, sizeof k->title, "%s%s", where,
			 k->area == A_GRASSROOTS ? PICK(r, t_grassroots) :
			 k->area == A_DEVELOPMENT ? PICK(r, t_development) : PICK(r, t_livelihood));
	}
}

/* A household of village v for a case about it: a low-income one if it has any (a few
 * tries), else any; -1 if the village has no household. */
static int pick_household(const struct hreg *hr, const struct county *c, struct rng *r, int v)
{
	const struct unit *u = &c->u[v];
	int x = -1;

	for (int tries = 0; tries < 16 && u->hh_n > 0; tries++) {
		x = u->hh_first + rnd(r, u->hh_n);
		if (hr->h[x].poor)
			break;
	}
	return x;
}

/*
 * Fill case g->cases[g->ncases] led by p (kind forced unless -1) and write its script.
 * A case found by household consultation `consult` (-1: none) is a household issue of
 * the consultation's village about the households hh[0..nhh); any other household issue
 * concerns a household of its village.
 */
static void case_make(struct gen *g, int p, int forced_kind, bool extra, int goal, int consult,
		      const int *hh, int nhh)
{
	const struct county *c = g->c;
	struct dcase *k = &g->cases[g->ncases];
	struct rng r = rng_for(g->o->seed, 1000 + (uint64_t)g->ncases);
	int cat = person_cat(c, p), home, w;

	memset(k, 0, sizeof *k);
	k->lead = p;
	k->goal = (uint8_t)goal;
	k->reassignable = extra;
	k->consult = consult;
	if (consult >= 0) {
		k->kind = K_HOUSEHOLD;
		k->unit = g->hr->consults[consult].village;
		for (int i = 0; i < nhh; i++)
			k->households[k->nhouseholds++] = hh[i];
	} else {
		k->kind = (uint8_t)(forced_kind >= 0 ? forced_kind : pick_kind(&r, cat));
		k->unit = pick_case_unit(c, &r, p, cat, k->kind);
		if (k->kind == K_HOUSEHOLD && c->u[k->unit].kind == U_VILLAGE &&
		    (k->households[0] = pick_household(g->hr, c, &r, k->unit)) >= 0)
			k->nhouseholds = 1;
	}
	home = home_of(c, k->unit);
	switch (k->kind) {
	case K_PETITION:
		k->area = (uint8_t)(chance(&r, 0.7) ? A_LIVELIHOOD :
				    chance(&r, 0.6) ? A_DEVELOPMENT : A_GRASSROOTS);
		k->source = (int8_t)(chance(&r, 0.8) ? S_LETTERS : S_DEPUTIES);
		break;
	case K_HOUSEHOLD:
		k->area = A_LIVELIHOOD;
		k->source = S_HOUSEHOLD;
		break;
	case K_LAGGING:
		k->area = A_GRASSROOTS;
		k->source = (int8_t)(chance(&r, 0.5) ? S_RESEARCH : S_CONSULTATION);
		break;
	default:
		k->area = (uint8_t)rnd(&r, A__N);
		k->source = (int8_t)(chance(&r, 0.1) ? -1 : rnd(&r, S__N));
	}
	/* a petition's case-taking leader: the lead if a leader, else a leader above */
	k->taker = -1;
	if (k->kind == K_PETITION) {
		if ((c->p[p].roles & (R_COUNTY | R_LEADER)) && chance(&r, 0.7))
			k->taker = p;
		else if (home >= 0 && c->u[home].head >= 0 && chance(&r, 0.6))
			k->taker = c->u[home].head;
		else
			k->taker = g->pool[C_COUNTY][rnd(&r, g->npool[C_COUNTY])];
	}
	/* who opens it: the lead, the unit head above (for one of the unit's people), or
	 * the theme office; the office when the lead does not reach the unit */
	w = rnd(&r, 100);
	k->opener = p;
	if (!reaches(c, p, k->unit) || w < 12) {
		k->opener = c->theme[rnd(&r, c->ntheme)];
	} else if (w < 30 && home >= 0 && c->u[home].head >= 0 && c->u[home].head != p) {
		int h = c->u[home].head;

		if (within(c, k->unit, c->p[h].unit) && within(c, c->p[p].unit, c->p[h].unit))
			k->opener = h;
	}
	k->described = chance(&r, 0.7);
	k->deadline = chance(&r, 0.5) ? rrange(&r, 30, 110) : 0;
	k->nunits = chance(&r, 0.5) ? pick_units(c, &r, k->unit, k->units, 3) : 0;
	if (home >= 0 && c->u[home].underdeveloped)
		k->tags[k->ntags++] = TAG_UNDERDEV;
	if (k->kind == K_PETITION)
		k->tags[k->ntags++] = TAG_PETITION;
	else if (k->kind == K_LAGGING)
		k->tags[k->ntags++] = TAG_ONEPLAN;
	else if (k->kind == K_HOUSEHOLD)
		k->tags[k->ntags++] = chance(&r, 0.5) ? TAG_RECORDS : TAG_PAIRING;
	else if (k->area == A_DEVELOPMENT && chance(&r, 0.5))
		k->tags[k->ntags++] = chance(&r, 0.5) ? TAG_HUNDRED : TAG_KEYPROJECT;
	if (chance(&r, 0.1))
		k->tags[k->ntags++] = TAG_LISTED;
	case_title(g, k, &r);
	case_script(g, &r);
	g->ncases++;
}

/*
 * The lead of a case a household consultation found: the village's resident cadre, the
 * household's own cadre, or a person of the township; never one left idle on purpose, nor
 * an office (they own no case).
 */
static int consult_lead(struct gen *g, struct rng *r, const struct dconsult *k, int hh)
{
	const struct county *c = g->c;
	const struct unit *t = &c->u[c->u[k->village].parent];
	int res = c->u[k->village].resident, cadre = g->hr->h[hh].cadre;

	if (res >= 0 && !c->p[res].idle && chance(r, 0.5))
		return res;
	if (cadre >= 0 && !c->p[cadre].idle && person_cat(c, cadre) >= 0 && chance(r, 0.5))
		return cadre;
	for (int tries = 0; tries < 64; tries++) {
		int p = t->members[rnd(r, t->nmembers)];

		if (!c->p[p].idle && person_cat(c, p) >= 0)
			return p;
	}
	return t->head;		/* never idle */
}

/*
 * cases_build - every case and its script. First one case for each person who owes one
 * (county leaders, leadership members, village-resident cadres), except a few left idle
 * on purpose; then the cases the household consultations found; then the rest spread
 * over the categories of leads. The final steps are dealt out in fixed shares, so every
 * step is present at any scale.
 */
static void cases_build(struct gen *g)
{
	struct county *c = g->c;
	struct rng r = rng_for(g->o->seed, 2);
	int n = g->o->full ? 3000 : 150;
	/* the share of cases ending at each step, in per mille */
	static const int share[ST__N] = { 80, 120, 180, 120, 150, 350 };
	static const int cat_w[C__N] = { 10, 25, 10, 35, 15, 5 };
	int idle_want[C__N] = { 1, g->o->full ? 3 : 1, g->o->full ? 1 : 0, g->o->full ? 2 : 1,
				0, 0 };
	uint8_t *goals;
	int ng = 0;

	if ((g->cases = calloc((size_t)n, sizeof *g->cases)) == NULL ||
	    (goals = malloc((size_t)n)) == NULL)
		die("out of memory", NULL);
	for (int s = 0; s < ST__N; s++)
		for (int i = 0, m = n * share[s] / 1000; i < m; i++)
			goals[ng++] = (uint8_t)s;
	while (ng < n)
		goals[ng++] = ST_CROSSED;
	for (int i = n - 1; i > 0; i--) {
		int j = rnd(&r, i + 1);
		uint8_t t = goals[i];

		goals[i] = goals[j];
		goals[j] = t;
	}

	/* the idle: leaders (not unit heads) who will lead nothing */
	for (int cat = 0; cat < C__N; cat++) {
		for (int tries = 0; idle_want[cat] > 0 && tries < 100000; tries++) {
			int p = rnd(&r, c->np);

			if (person_cat(c, p) == cat && !c->p[p].idle && !(c->p[p].roles & R_HEAD)) {
				c->p[p].idle = true;
				idle_want[cat]--;
				g->idle++;
			}
		}
	}
	for (int p = 0; p < c->np; p++) {
		int cat = person_cat(c, p);

		if (cat >= 0 && !c->p[p].idle)
			g->pool[cat][g->npool[cat]++] = p;
	}

	/* one case for each who owes one */
	for (int p = 0; p < c->np && g->ncases < n; p++)
		if (person_owes_case(&c->p[p]) && !c->p[p].idle && person_cat(c, p) >= 0)
			case_make(g, p, -1, false, goals[g->ncases], -1, NULL, 0);
	/* the cases each household consultation found */
	for (int i = 0; i < g->hr->nconsults; i++) {
		const struct dconsult *k = &g->hr->consults[i];

		for (int j = 0; j < k->ncases && g->ncases < n; j++) {
			int hh[2], nhh = 0;

			for (int x = 0; x < 2; x++)
				if (k->case_hh[j][x] >= 0)
					hh[nhh++] = k->households[k->case_hh[j][x]];
			case_make(g, consult_lead(g, &r, k, hh[0]), K_HOUSEHOLD, true,
				  goals[g->ncases], i, hh, nhh);
		}
	}
	/* the rest; the first four are a township leader's, one of each kind */
	for (int i = 0; g->ncases < n; i++) {
		int cat = C_TW_LEADER, x = rnd(&r, 100);

		if (i >= K__N) {
			for (cat = 0; cat < C__N - 1 && x >= cat_w[cat]; cat++)
				x -= cat_w[cat];
		}
		if (g->npool[cat] == 0)
			cat = C_TW_LEADER;
		case_make(g, g->pool[cat][rnd(&r, g->npool[cat])], i < K__N ? i : -1, true,
			  goals[g->ncases], -1, NULL, 0);
	}
	free(goals);
}

/* ---- the wire ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A request under construction: its keys are counted as they are packed, and the map
 * header is written in front of them at the end. */
struct req {
	proto_out body;
	uint32_t n;
	int64_t today;		/* days since 1970-01-01 in the county */
};

static void rq_str(struct req *q, const char *k, const char *v)
{
	proto_kv_cstr(&q->body, k, v);
	q->n++;
}

static void rq_u64(struct req *q, const char *k, uint64_t v)
{
	proto_kv_u64(&q->body, k, v);
	q->n++;
}

static void rq_bool(struct req *q, const char *k, bool v)
{
	proto_kv_bool(&q->body, k, v);
	q->n++;
}

static void rq_date(struct req *q, const char *k, int offset)
{
	char d[11];

	proto_date_format(q->today + offset, d);
	rq_str(q, k, d);
}

/* An array of ids: the units with indexes list[0..n) that are not negative. */
static void rq_units(struct req *q, const struct county *c, const char *k, const int *list,
		     int n)
{
	int m = 0;

	for (int i = 0; i < n; i++)
		m += list[i] >= 0;
	proto_pack_cstr(&q->body, k);
	msgpack_pack_array(&q->body.pk, (size_t)m);
	for (int i = 0; i < n; i++)
		if (list[i] >= 0)
			proto_pack_cstr(&q->body, c->u[list[i]].id);
	q->n++;
}

/* The request is complete: out = the map header, then the keys. */
static void rq_finish(struct req *q, proto_out *out)
{
	proto_out_reset(out);
	msgpack_pack_map(&out->pk, q->n);
	proto_out_raw(out, q->body.sb.data, q->body.sb.size);
	if (out->oom || q->body.oom)
		die("out of memory", NULL);
}

static void rq_begin(struct req *q, const char *op, const char *id, const char *actor)
{
	proto_out_reset(&q->body);
	q->n = 0;
	rq_str(q, "op", op);
	rq_str(q, "id", id);
	rq_str(q, "actor", actor);
}

/*
 * A phase: streams of requests. The requests of one stream go one after another (the
 * next only once the previous was acknowledged); streams go side by side. pack() writes
 * request pos of stream s; check() looks at its ok reply and returns false (having said
 * why) if it is not what was expected.
 */
struct phase {
	const char *what;
	int nstreams;
	int (*len)(void *ctx, int s);
	void (*pack)(void *ctx, int s, int pos, struct req *q, const char *id);
	bool (*check)(void *ctx, int s, int pos, const msgpack_object *reply);
	void (*describe)(void *ctx, int s, int pos, FILE *f);	/* for error messages */
	void *ctx;
};

struct wire {
	void *zctx, *sock;
	char endpoint[600];
	uint32_t nonce;		/* per run: keeps ids unique if the clock repeats */
	uint64_t serial;
	int window;
	struct slot {
		uint64_t serial;
		int stream, pos;
	} *slots;
	int *free_slots, nfree;
	struct req q;
	proto_out out;
	uint64_t acked;		/* write requests acknowledged */
	uint64_t unchanged;	/* of which puts that changed nothing */
};

static void wire_open(struct wire *w, const struct options *o)
{
	int zero = 0;
	uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);

	if (o->endpoint != NULL)
		snprintf(w->endpoint, sizeof w->endpoint, "%s", o->endpoint);
	else
		snprintf(w->endpoint, sizeof w->endpoint, "ipc://%s/submit.sock",
			 o->runtime_dir);
	w->nonce = (uint32_t)(t * 0x9e3779b97f4a7c15ULL >> 32);
	w->window = o->window;
	if ((w->zctx = zmq_ctx_new()) == NULL ||
	    (w->sock = zmq_socket(w->zctx, ZMQ_DEALER)) == NULL)
		die("cannot create a ZeroMQ socket", zmq_strerror(zmq_errno()));
	zmq_setsockopt(w->sock, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(w->sock, ZMQ_SNDHWM, &zero, sizeof zero);
	zmq_setsockopt(w->sock, ZMQ_RCVHWM, &zero, sizeof zero);
	if (zmq_connect(w->sock, w->endpoint) != 0)
		die("cannot connect", zmq_strerror(zmq_errno()));
	w->slots = calloc((size_t)w->window, sizeof *w->slots);
	w->free_slots = malloc((size_t)w->window * sizeof *w->free_slots);
	if (w->slots == NULL || w->free_slots == NULL)
		die("out of memory", NULL);
	for (int i = 0; i < w->window; i++)
		w->free_slots[i] = w->window - 1 - i;
	w->nfree = w->window;
	proto_out_init(&w->q.body);
	proto_out_init(&w->out);
}

static void wire_close(struct wire *w)
{
	proto_out_fini(&w->q.body);
	proto_out_fini(&w->out);
	free(w->slots);
	free(w->free_slots);
	if (w->sock != NULL)
		zmq_close(w->sock);
	if (w->zctx != NULL)
		zmq_ctx_term(w->zctx);
}

/*
 * Wait until the daemon answers ping (it may still be starting), at most wait_s seconds;
 * returns its clock (Unix ms). A REQ socket per try, so that a ping lost to a daemon not
 * yet listening cannot answer later on the DEALER.
 */
static int64_t wire_ping(struct wire *w, int wait_s)
{
	double end = now_s() + wait_s;
	proto_out o;

	proto_out_init(&o);
	msgpack_pack_map(&o.pk, 1);
	proto_kv_cstr(&o, "op", "ping");
	for (;;) {
		void *s = zmq_socket(w->zctx, ZMQ_REQ);
		int tmo = 500, zero = 0, n;
		char buf[4096];
		int64_t t = 0;

		zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
		zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
		zmq_connect(s, w->endpoint);
		zmq_send(s, o.sb.data, o.sb.size, 0);
		n = zmq_recv(s, buf, sizeof buf, 0);
		zmq_close(s);
		if (n > 0 && n <= (int)sizeof buf) {
			proto_doc doc;
			bool ok = false;

			if (proto_parse(&doc, buf, (size_t)n, NULL, 0) == NT_OK &&
			    proto_obj_bool(proto_map_get(&doc.root, "ok"), &ok) && ok)
				proto_obj_i64(proto_map_get(&doc.root, "now"), &t);
			proto_doc_fini(&doc);
			if (t > 0) {
				proto_out_fini(&o);
				return t;
			}
		}
		if (now_s() >= end)
			die("the daemon does not answer ping at", w->endpoint);
		usleep(100000);
	}
}

/* "<12 hex ms>-<8 hex nonce>-<10 hex serial>-<4 hex slot>": time-ordered, unique, and
 * the slot rides in it so that the reply finds its request. */
static void wire_id(struct wire *w, int slot, char id[48])
{
	struct timespec ts;
	uint64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	snprintf(id, 48, "%012" PRIx64 "-%08" PRIx32 "-%010" PRIx64 "-%04x",
		 (uint64_t)(ms & 0xffffffffffffULL), w->nonce,
		 (uint64_t)(w->serial & 0xffffffffffULL),
		 (unsigned)slot);
}

static void wire_send(struct wire *w, const struct phase *ph, int s, int pos)
{
	int slot = w->free_slots[--w->nfree];
	char id[48];

	w->serial++;
	w->slots[slot] = (struct slot){ w->serial, s, pos };
	wire_id(w, slot, id);
	ph->pack(ph->ctx, s, pos, &w->q, id);
	rq_finish(&w->q, &w->out);
	if (zmq_send(w->sock, "", 0, ZMQ_SNDMORE) < 0 ||
	    zmq_send(w->sock, w->out.sb.data, w->out.sb.size, 0) < 0)
		die("cannot send", zmq_strerror(zmq_errno()));
}

/* Print the request of (s, pos) as JSON on stderr, as it was sent (but for its id). */
static void wire_print_request(struct wire *w, const struct phase *ph, int s, int pos)
{
	proto_doc doc;

	ph->pack(ph->ctx, s, pos, &w->q, "-");
	rq_finish(&w->q, &w->out);
	if (proto_parse(&doc, w->out.sb.data, w->out.sb.size, NULL, 0) == NT_OK) {
		fputs("nanti-demo: the request: ", stderr);
		proto_json(stderr, &doc.root);
		fputc('\n', stderr);
	}
	proto_doc_fini(&doc);
}

/* Take one reply frame; returns the stream whose request it answered. */
static int wire_reply(struct wire *w, const struct phase *ph, const char *buf, size_t n,
		      int *pos_out)
{
	proto_doc doc;
	proto_str rid, code = PROTO_STR_NULL, msg = PROTO_STR_NULL;
	bool ok = false, changed = true;
	unsigned slot = 0;
	struct slot sl;
	char why[PROTO_WHY];

	if (proto_parse(&doc, buf, n, why, sizeof why) != NT_OK)
		die("a reply that is not valid protocol", why);
	if (!proto_obj_str(proto_map_get(&doc.root, "id"), &rid) || rid.len < 6 ||
	    !proto_obj_bool(proto_map_get(&doc.root, "ok"), &ok))
		die("a reply without its id or ok", NULL);
	for (uint32_t i = rid.len - 4; i < rid.len; i++) {
		char ch = rid.ptr[i];

		slot = slot << 4 | (unsigned)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
	}
	if (slot >= (unsigned)w->window || w->slots[slot].serial == 0)
		die("a reply to no request in flight", NULL);
	sl = w->slots[slot];
	w->slots[slot].serial = 0;
	w->free_slots[w->nfree++] = (int)slot;
	if (!ok) {
		const msgpack_object *e = proto_map_get(&doc.root, "error");

		if (e != NULL && e->type == MSGPACK_OBJECT_MAP) {
			proto_obj_str(proto_map_get(e, "code"), &code);
			proto_obj_str(proto_map_get(e, "message"), &msg);
		}
		fprintf(stderr, "nanti-demo: the daemon refused %s: ", ph->what);
		ph->describe(ph->ctx, sl.stream, sl.pos, stderr);
		fprintf(stderr, ": %.*s: %.*s\n", (int)code.len, code.ptr ? code.ptr : "",
			(int)msg.len, msg.ptr ? msg.ptr : "");
		wire_print_request(w, ph, sl.stream, sl.pos);
		fputs("nanti-demo: a refusal is a bug in the generator (or the daemon)\n", stderr);
		exit(1);
	}
	if (!ph->check(ph->ctx, sl.stream, sl.pos, &doc.root)) {
		wire_print_request(w, ph, sl.stream, sl.pos);
		exit(1);
	}
	if (proto_obj_bool(proto_map_get(&doc.root, "changed"), &changed) && !changed)
		w->unchanged++;
	w->acked++;
	proto_doc_fini(&doc);
	*pos_out = sl.pos;
	return sl.stream;
}

/* Run a phase to its end: every request of every stream sent and acknowledged. */
static void wire_run(struct wire *w, const struct phase *ph)
{
	int *pos = calloc((size_t)ph->nstreams + 1, sizeof *pos);
	int *queue = malloc(((size_t)ph->nstreams + 1) * sizeof *queue);
	int qhead = 0, qtail = 0, qlen = 0, cap = ph->nstreams + 1;
	static char buf[PROTO_MAX_FRAME];
	double last = now_s();

	if (pos == NULL || queue == NULL)
		die("out of memory", NULL);
	for (int s = 0; s < ph->nstreams; s++)
		if (ph->len(ph->ctx, s) > 0) {
			queue[qtail] = s;
			qtail = (qtail + 1) % cap;
			qlen++;
		}
	while (qlen > 0 || w->nfree < w->window) {
		zmq_pollitem_t it = { w->sock, 0, ZMQ_POLLIN, 0 };

		while (qlen > 0 && w->nfree > 0) {
			int s = queue[qhead];

			qhead = (qhead + 1) % cap;
			qlen--;
			wire_send(w, ph, s, pos[s]);
		}
		if (zmq_poll(&it, 1, 1000) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			die("zmq_poll failed", zmq_strerror(zmq_errno()));
		}
		if (!(it.revents & ZMQ_POLLIN)) {
			if (now_s() - last > DEMO_REPLY_TIMEOUT_S)
				die("no reply from the daemon", w->endpoint);
			continue;
		}
		last = now_s();
		for (;;) {
			int n = zmq_recv(w->sock, buf, sizeof buf, ZMQ_DONTWAIT), s, p;

			if (n < 0)
				break;
			if (n != 0)
				die("a reply without its empty delimiter frame", NULL);
			n = zmq_recv(w->sock, buf, sizeof buf, 0);
			if (n < 0 || n > (int)sizeof buf)
				die("a reply frame that cannot be read", NULL);
			s = wire_reply(w, ph, buf, (size_t)n, &p);
			pos[s] = p + 1;
			if (pos[s] < ph->len(ph->ctx, s)) {
				queue[qtail] = s;
				qtail = (qtail + 1) % cap;
				qlen++;
			}
		}
	}
	free(pos);
	free(queue);
}

/* ---- the phases ---- */

struct load {
	struct county *c;
	struct gen *g;
	struct hreg *hr;
	const struct options *o;
	int from, count;	/* units or people [from, from + count) */
	int kind;		/* units: 0 the non-villages, 1 the villages */
	int idx[DEMO_MAX_UNITS > DEMO_MAX_PEOPLE ? DEMO_MAX_UNITS : DEMO_MAX_PEOPLE];
	int *hidx;		/* the households of a phase's streams */
	uint64_t *visits;	/* a visits stream: what the previous reply counted */
	struct {
		char start[11], end[11], identify_by[11], consult_by[11], plan_by[11],
		     commit_by[11], journal_by[11], pair_by[11], visit_by[11];
	} campaign;
};

static int one(void *ctx, int s)
{
	(void)ctx;
	(void)s;
	return 1;
}

static void unit_pack(void *ctx, int s, int pos, struct req *q, const char *id)
{
	struct load *l = ctx;
	const struct unit *u = &l->c->u[l->idx[s]];

	(void)pos;
	rq_begin(q, "unit.put", id, l->c->p[l->c->admin].id);
	rq_str(q, "unit", u->id);
	rq_str(q, "name", u->name);
	rq_str(q, "kind", ukind_names[u->kind]);
	if (u->parent >= 0)
		rq_str(q, "parent", l->c->u[u->parent].id);
}

static void person_pack(void *ctx, int s, int pos, struct req *q, const char *id)
{
	struct load *l = ctx;
	const struct person *p = &l->c->p[l->idx[s]];
	int nroles = 0;

	(void)pos;
	rq_begin(q, "person.put", id, l->c->p[l->c->admin].id);
	rq_str(q, "person", p->id);
	rq_str(q, "name", p->name);
	rq_str(q, "unit", l->c->u[p->unit].id);
	for (int i = 0; i < NROLES; i++)
		nroles += (p->roles >> i) & 1;
	proto_pack_cstr(&q->body, "roles");
	msgpack_pack_array(&q->body.pk, (size_t)nroles);
	for (int i = 0; i < NROLES; i++)
		if ((p->roles >> i) & 1)
			proto_pack_cstr(&q->body, role_names[i]);
	q->n++;
	if (p->village >= 0)
		rq_str(q, "village", l->c->u[p->village].id);
}

static void campaign_pack(void *ctx, int s, int pos, struct req *q, const char *id)
{
	struct load *l = ctx;

	(void)s;
	(void)pos;
	rq_begin(q, "campaign.set", id, l->c->p[l->c->theme[0]].id);
	rq_str(q, "name", "走进矛盾、破解难题专项行动");
	rq_str(q, "start", l->campaign.start);
	rq_str(q, "end", l->campaign.end);
	rq_str(q, "identify_by", l->campaign.identify_by);
	rq_str(q, "consult_by", l->campaign.consult_by);
	rq_str(q, "plan_by", l->campaign.plan_by);
	rq_str(q, "commit_by", l->campaign.commit_by);
	rq_str(q, "journal_by", l->campaign.journal_by);
	rq_str(q, "pair_by", l->campaign.pair_by);
	rq_str(q, "visit_by", l->campaign.visit_by);
	rq_u64(q, "threshold", DEMO_THRESHOLD);
}

static bool accept_any(void *ctx, int s, int pos, const msgpack_object *reply)
{
	(void)ctx;
	(void)s;
	(void)pos;
	(void)reply;
	return true;
}

static void unit_describe(void *ctx, int s, int pos, FILE *f)
{
	struct load *l = ctx;

	(void)pos;
	fprintf(f, "unit '%s'", l->c->u[l->idx[s]].id);
}

static void person_describe(void *ctx, int s, int pos, FILE *f)
{
	struct load *l = ctx;

	(void)pos;
	fprintf(f, "person '%s'", l->c->p[l->idx[s]].id);
}

static void campaign_describe(void *ctx, int s, int pos, FILE *f)
{
	(void)ctx;
	(void)s;
	(void)pos;
	fputs("the campaign", f);
}

/* An array of strings. */
static void rq_strs(struct req *q, const char *k, const char *const *v, int n)
{
	proto_pack_cstr(&q->body, k);
	msgpack_pack_array(&q->body.pk, (size_t)n);
	for (int i = 0; i < n; i++)
		proto_pack_cstr(&q->body, v[i]);
	q->n++;
}

/* An array of household ids. */
static void rq_households(struct req *q, const struct county *c, const struct hreg *hr,
			  const char *k, const int *list, int n)
{
	char id[64];

	proto_pack_cstr(&q->body, k);
	msgpack_pack_array(&q->body.pk, (size_t)n);
	for (int i = 0; i < n; i++) {
		household_id(c, &hr->h[list[i]], id, sizeof id);
		proto_pack_cstr(&q->body, id);
	}
	q->n++;
}

/* Does the reply name household i? Says so if not. */
static bool reply_names(const struct load *l, int i, const msgpack_object *reply)
{
	char id[64];
	proto_str got;

	household_id(l->c, &l->hr->h[i], id, sizeof id);
	if (proto_obj_str(proto_map_get(reply, "household"), &got) && proto_str_eq(got, id))
		return true;
	fprintf(stderr, "nanti-demo: the reply does not name household '%s'\n", id);
	return false;
}

static void household_pack(void *ctx, int s, int pos, struct req *q, const char *id)
{
	struct load *l = ctx;
	const struct dhousehold *h = &l->hr->h[s];
	const char *needs[NNEEDS], *names[8];
	struct htext t;
	char hid[64];
	int nneeds = 0;

	(void)pos;
	household_id(l->c, h, hid, sizeof hid);
	household_text(l->c, h, s, l->o->seed, &t);
	rq_begin(q, "household.put", id, l->c->p[l->c->admin].id);
	rq_str(q, "household", hid);
	rq_str(q, "village", l->c->u[h->village].id);
	rq_str(q, "category", hcat_names[h->category]);
	rq_u64(q, "members", h->members);
	for (int i = 0; i < NNEEDS; i++)
		if (h->needs & (1u << i))
			needs[nneeds++] = need_names[i];
	if (nneeds > 0)
		rq_strs(q, "needs", needs, nneeds);
	rq_str(q, "head", t.head);
	rq_str(q, "id_number", t.id_number);
	if (t.phone[0] != '\0')
		rq_str(q, "phone", t.phone);
	rq_str(q, "address", t.address);
	for (int i = 0; i < t.nmember_names; i++)
		names[i] = t.member_names[i];
	if (t.nmember_names > 0)
		rq_strs(q, "member_names", names, t.nmember_names);
	if (t.notes != NULL)
		rq_str(q, "notes", t.notes);
}

static bool household_check(void *ctx, int s, int pos, const msgpack_object *reply)
{
	(void)pos;
	return reply_names(ctx, s, reply);
}

static void household_describe(void *ctx, int s, int pos, FILE *f)
{
	struct load *l = ctx;
	char hid[64];

	(void)pos;
	household_id(l->c, &l->hr->h[s], hid, sizeof hid);
	fprintf(f, "household '%s'", hid);
}

/* Pairings: stream s pairs household hidx[s]. */
static void pair_pack(void *ctx, int s, int pos, struct req *q, const char *id)
{
	struct load *l = ctx;
	const struct dhousehold *h = &l->hr->h[l->hidx[s]];
	char hid[64];

	(void)pos;
	household_id(l->c, h, hid, sizeof hid);
	rq_begin(q, "household.pair", id, l->c->p[h->pairer].id);
	rq_str(q, "household", hid);
	rq_str(q, "cadre", l->c->p[h->cadre].id);
}

static bool pair_check(void *ctx, int s, int pos, const msgpack_object *reply)
{
	struct load *l = ctx;

	(void)pos;
	return reply_names(l, l->hidx[s], reply);
}

static void pair_describe(void *ctx, int s, int pos, FILE *f)
{
	struct load *l = ctx;
	const struct dhousehold *h = &l->hr->h[l->hidx[s]];

	household_describe(ctx, l->hidx[s], pos, f);
	fprintf(f, " paired with '%s' by '%s'", l->c->p[h->cadre].id, l->c->p[h->pairer].id);
}

/* Visits: stream s is household hidx[s]'s visits, in order. */
static int visit_len(void *ctx, int s)
{
	struct load *l = ctx;

	return l->hr->h[l->hidx[s]].nvisits;
}

static void visit_pack(void *ctx, int s, int pos, struct req *q, const char *id)
{
	struct load *l = ctx;
	const struct dhousehold *h = &l->hr->h[l->hidx[s]];
	const struct dvisit *v = &l->hr->visits[h->visit0 + pos];
	char hid[64];

	household_id(l->c, h, hid, sizeof hid);
	rq_begin(q, "household.visit", id, l->c->p[v->actor].id);
	rq_str(q, "household", hid);
	rq_date(q, "date", v->day);
	rq_str(q, "done", x_visit_done[(v->v & 0x7f) % (int)NELEM(x_visit_done)]);
	if (v->v & 0x80)
		rq_str(q, "support", x_visit_support[(v->v & 0x7f) % (int)NELEM(x_visit_support)]);
}

/* The model of a household's visits: each reply counts one more than the one before (the
 * first at least one: a second load on the same ledger counts the first load's too). */
static bool visit_check(void *ctx, int s, int pos, const msgpack_object *reply)
{
	struct load *l = ctx;
	uint64_t n = 0;

	if (!reply_names(l, l->hidx[s], reply))
		return false;
	if (proto_obj_u64(proto_map_get(reply, "visits"), &n) &&
	    (pos == 0 ? n >= 1 : n == l->visits[s] + 1)) {
		l->visits[s] = n;
		return true;
	}
	fprintf(stderr, "nanti-demo: visit %d of a household: the daemon counts %" PRIu64
		" visits, the generator's model %" PRIu64 "\n", pos + 1, n,
		pos == 0 ? 1 : l->visits[s] + 1);
	return false;
}

static void visit_describe(void *ctx, int s, int pos, FILE *f)
{
	struct load *l = ctx;
	const struct dhousehold *h = &l->hr->h[l->hidx[s]];

	household_describe(ctx, l->hidx[s], pos, f);
	fprintf(f, ": visit %d of %d, by '%s'", pos + 1, h->nvisits,
		l->c->p[l->hr->visits[h->visit0 + pos].actor].id);
}

/* Household consultations: stream s is consultation s. */
static void hconsult_pack(void *ctx, int s, int pos, struct req *q, const char *id)
{
	struct load *l = ctx;
	const struct dconsult *k = &l->hr->consults[s];
	const char *people[DEMO_CONSULT_PEOPLE];

	(void)pos;
	rq_begin(q, "household.consult", id, l->c->p[k->actor].id);
	rq_str(q, "village", l->c->u[k->village].id);
	rq_date(q, "date", k->day);
	rq_households(q, l->c, l->hr, "households", k->households, k->nhouseholds);
	for (int i = 0; i < k->nparticipants; i++)
		people[i] = l->c->p[k->participants[i]].id;
	rq_strs(q, "participants", people, k->nparticipants);
	rq_u64(q, "residents", (uint64_t)k->residents);
	rq_str(q, "summary", x_hconsult[k->v % (int)NELEM(x_hconsult)]);
}

/* A consultation is named by its entry's seq, which the cases it found then give. */
static bool hconsult_check(void *ctx, int s, int pos, const msgpack_object *reply)
{
	struct load *l = ctx;
	struct dconsult *k = &l->hr->consults[s];
	uint64_t seq = 0;

	(void)pos;
	if (proto_obj_u64(proto_map_get(reply, "consultation"), &k->seq) &&
	    proto_obj_u64(proto_map_get(reply, "seq"), &seq) && seq == k->seq && seq > 0)
		return true;
	fprintf(stderr, "nanti-demo: a consultation's reply without its seq as 'consultation'\n");
	return false;
}

static void hconsult_describe(void *ctx, int s, int pos, FILE *f)
{
	struct load *l = ctx;
	const struct dconsult *k = &l->hr->consults[s];

	(void)pos;
	fprintf(f, "household consultation %d in '%s' by '%s'", s + 1, l->c->u[k->village].id,
		l->c->p[k->actor].id);
}

static int case_len(void *ctx, int s)
{
	return ((struct load *)ctx)->g->cases[s].nops;
}

/* The place of a consultation about case k. */
static void consult_place(const struct county *c, const struct dcase *k, int v, char *buf,
			  size_t n)
{
	if (c->u[k->unit].kind == U_VILLAGE)
		snprintf(buf, n, "%s%s", c->u[k->unit].name, x_places[v % (int)NELEM(x_places)]);
	else if (k->unit == 0)
		snprintf(buf, n, "县行政中心会议室");
	else
		snprintf(buf, n, "%s会议室", c->u[k->unit].name);
}

/* Write request pos of case s's script. */
static void case_pack(void *ctx, int s, int pos, struct req *q, const char *id)
{
	struct load *l = ctx;
	const struct county *c = l->c;
	const struct dcase *k = &l->g->cases[s];
	const struct dop_rec *d = &l->g->ops[k->first + pos];
	char buf[512];

	rq_begin(q, dop_names[d->op], id, c->p[d->actor].id);
	if (d->op != O_OPEN)
		rq_u64(q, "case", k->id);
	switch (d->op) {
	case O_OPEN:
		rq_str(q, "title", k->title);
		if (k->described) {
			snprintf(buf, sizeof buf, "来源:%s。关注领域:%s。主要责任人:%s。",
				 k->source >= 0 ? source_hz[k->source] : "其他", area_hz[k->area],
				 c->p[k->lead].name);
			rq_str(q, "description", buf);
		}
		rq_str(q, "kind", kind_names[k->kind]);
		rq_str(q, "area", area_names[k->area]);
		if (k->source >= 0)
			rq_str(q, "source", source_names[k->source]);
		rq_str(q, "unit", c->u[k->unit].id);
		if (k->opener != k->lead || k->lead % 3 == 0)
			rq_str(q, "lead", c->p[k->lead].id);
		if (k->nunits > 0)
			rq_units(q, c, "units", k->units, k->nunits);
		if (k->deadline > 0)
			rq_date(q, "deadline", k->deadline);
		if (k->ntags > 0) {
			proto_pack_cstr(&q->body, "tags");
			msgpack_pack_array(&q->body.pk, (size_t)k->ntags);
			for (int i = 0; i < k->ntags; i++)
				proto_pack_cstr(&q->body, tag_names[k->tags[i]]);
			q->n++;
		}
		if (k->taker >= 0)
			rq_str(q, "taker", c->p[k->taker].id);
		if (k->nhouseholds > 0)
			rq_households(q, c, l->hr, "households", k->households, k->nhouseholds);
		if (k->consult >= 0)
			rq_u64(q, "consultation", l->hr->consults[k->consult].seq);
		break;
	case O_PLAN: {
		int u[3] = { d->x, d->y, d->z };

		rq_str(q, "measures", x_measures[(d->v & 0x7f) % (int)NELEM(x_measures)]);
		rq_str(q, "schedule", x_schedules[(d->v & 0x7f) % (int)NELEM(x_schedules)]);
		rq_date(q, "deadline", d->day);
		rq_units(q, c, "units", u, 3);
		if (d->v & 0x80)
			rq_str(q, "lead", c->p[d->actor].id);
		break;
	}
	case O_CONSULT:
		rq_date(q, "date", d->day);
		consult_place(c, k, d->v, buf, sizeof buf);
		rq_str(q, "place", buf);
		rq_u64(q, "residents", (uint64_t)d->x);
		rq_str(q, "summary", d->z ? x_consult_after[d->v % (int)NELEM(x_consult_after)] :
		       x_consult_before[d->v % (int)NELEM(x_consult_before)]);
		if (d->y >= 0)
			rq_str(q, "changes", x_changes[d->y]);
		break;
	case O_COMMIT: {
		char date[11];
		unsigned m, dd;

		proto_date_format(q->today + d->day, date);
		m = (unsigned)atoi(date + 5);
		dd = (unsigned)atoi(date + 8);
		rq_str(q, "venue", d->x >= 0 ? "notice_board" : "county_news");
		rq_str(q, "date", date);
		if (d->x >= 0) {
			snprintf(buf, sizeof buf, "%s村务公开栏 第%u期", c->u[d->x].name,
				 (unsigned)d->v);
			rq_str(q, "board", c->u[d->x].id);
		} else {
			snprintf(buf, sizeof buf, "县报 %u月%u日 第%u版", m, dd, (unsigned)d->v);
		}
		rq_str(q, "ref", buf);
		break;
	}
	case O_COORDINATE: {
		int u[2] = { d->x, d->y };

		rq_str(q, "form", coord_forms[d->v]);
		rq_date(q, "date", d->day);
		rq_str(q, "summary", x_coord[d->v]);
		if (d->x >= 0)
			rq_units(q, c, "units", u, 2);
		break;
	}
	case O_RESOLVE:
		rq_str(q, "summary", x_resolve[d->v]);
		break;
	case O_JOURNAL:
		rq_str(q, "process", x_process[(d->v & 0x7f) % (int)NELEM(x_process)]);
		rq_str(q, "result", d->v & 0x80 ? "群众反映仍有遗留问题,满意度未达标" :
		       "问题得到解决,群众满意");
		rq_u64(q, "satisfied", (uint64_t)d->x);
		rq_u64(q, "basically_satisfied", (uint64_t)d->y);
		rq_u64(q, "dissatisfied", (uint64_t)d->z);
		break;
	case O_OUTCOME:
		rq_str(q, "rule", x_outcome[d->v]);
		if (d->v % 2 == 0)
			rq_str(q, "summary", "经验做法已形成制度,在全县推广");
		break;
	case O_CROSS_OFF:
		rq_str(q, "verdict", "cross_off");
		break;
	case O_RETURN:
		rq_str(q, "verdict", "return");
		rq_str(q, "reason", x_return[d->v]);
		break;
	case O_REOPEN:
		rq_str(q, "reason", x_reopen[d->v]);
		break;
	case O_REASSIGN:
		rq_str(q, "lead", c->p[d->x].id);
		rq_str(q, "reason", x_reassign[d->v]);
		break;
	case O_NOTE:
		rq_str(q, "text", x_notes[d->v]);
		break;
	case O_ESCALATE:
		rq_str(q, "reason", x_escalate[d->v]);
		break;
	case O_GUARANTEE:
		if (d->v & 1)
			rq_bool(q, "promise_kept", (d->v & 4) != 0);
		if (d->v & 2)
			rq_bool(q, "stable", (d->v & 8) != 0);
		if (d->v & 16)
			rq_str(q, "note", d->v & 8 ? "当地情况稳定,未发生越级上访" :
			       "仍有不稳定因素,继续做好稳控");
		break;
	case O_REPEAT:
		rq_bool(q, "skip_level", (d->v & 0x80) != 0);
		rq_str(q, "summary", x_repeat[(d->v & 0x7f) % (int)NELEM(x_repeat)]);
		break;
	}
}

static bool case_check(void *ctx, int s, int pos, const msgpack_object *reply)
{
	struct load *l = ctx;
	struct dcase *k = &l->g->cases[s];
	const struct dop_rec *d = &l->g->ops[k->first + pos];
	proto_str step;

	if (d->op == O_OPEN &&
	    !proto_obj_u64(proto_map_get(reply, "case"), &k->id))
		die("a case.open reply without the case", NULL);
	if (!proto_obj_str(proto_map_get(reply, "step"), &step) ||
	    !proto_str_eq(step, step_names[d->expect])) {
		fprintf(stderr, "nanti-demo: %s on case %" PRIu64 " (demo case %d, request %d of "
			"%d) left it at '%.*s', but the generator's model expected '%s'\n",
			dop_names[d->op], k->id, s, pos + 1, k->nops, (int)step.len,
			step.ptr ? step.ptr : "", step_names[d->expect]);
		return false;
	}
	return true;
}

static void case_describe(void *ctx, int s, int pos, FILE *f)
{
	struct load *l = ctx;
	const struct dcase *k = &l->g->cases[s];
	const struct dop_rec *d = &l->g->ops[k->first + pos];

	fprintf(f, "%s on case %" PRIu64 " (demo case %d, request %d of %d, by '%s')",
		dop_names[d->op], k->id, s, pos + 1, k->nops, l->c->p[d->actor].id);
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fputs("usage: nanti-demo [--runtime-dir DIR | --connect ENDPOINT] [--scale small|full]\n"
	      "                  [--seed N] [--actor ADMIN] [--window N] [--wait S] [--quiet]\n"
	      "\n"
	      "Builds a demo county (townships, villages, organs, people, a campaign, the\n"
	      "household register with its pairings, visits and consultations, and cases at\n"
	      "every step) and loads it through a running nantid.\n"
	      "\n"
	      "  --runtime-dir DIR    the daemon's runtime directory (ipc://DIR/submit.sock)\n"
	      "  --connect ENDPOINT   its request endpoint instead (tcp://HOST:PORT, ipc://PATH)\n"
	      "  --scale small|full   small: 3 townships, 15 villages, ~60 people, 900\n"
	      "                       households, 150 cases; full: 20 townships and streets,\n"
	      "                       ~300 villages, ~4000 people, 140000 households, 3000\n"
	      "                       cases (default small)\n"
	      "  --seed N             the county and its cases are a function of N (default 1)\n"
	      "  --actor ADMIN        the admin's id, created if the ledger has none (default\n"
	      "                       admin)\n"
	      "  --window N           requests in flight (default 512)\n"
	      "  --wait S             how long the daemon may take to answer ping (default 10)\n"
	      "  --quiet              print only the summary\n"
	      "  --version            print the version and exit\n"
	      "\n"
	      "Exit status: 0 loaded, 1 the daemon refused a request or could not be reached\n"
	      "(a refusal is a bug in the generator: it is printed with the request), 2 usage.\n"
	      "Default runtime directory: $NANTI_RUNTIME_DIR, else ./var/run.\n", f);
}

static void options_parse(struct options *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runtime-dir", required_argument, NULL, 'r' },
		{ "connect", required_argument, NULL, 'c' },
		{ "scale", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "actor", required_argument, NULL, 'a' },
		{ "window", required_argument, NULL, 'w' },
		{ "wait", required_argument, NULL, 'W' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	char *end;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': o->runtime_dir = optarg; break;
		case 'c': o->endpoint = optarg; break;
		case 'a': o->actor = optarg; break;
		case 'q': o->quiet = true; break;
		case 's':
			if (strcmp(optarg, "small") != 0 && strcmp(optarg, "full") != 0) {
				fprintf(stderr, "nanti-demo: --scale is small or full\n");
				exit(2);
			}
			o->full = strcmp(optarg, "full") == 0;
			break;
		case 'S':
			errno = 0;
			o->seed = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg) {
				fprintf(stderr, "nanti-demo: --seed is a number\n");
				exit(2);
			}
			break;
		case 'w':
			o->window = atoi(optarg);
			if (o->window < 1 || o->window > 4096) {
				fprintf(stderr, "nanti-demo: --window is 1 to 4096\n");
				exit(2);
			}
			break;
		case 'W':
			o->wait_s = atoi(optarg);
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("nanti-demo %s\n", PROTO_VERSION); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nanti-demo: unexpected argument '%s'\n", argv[optind]);
		exit(2);
	}
	if (o->runtime_dir != NULL && o->endpoint != NULL) {
		fprintf(stderr, "nanti-demo: --runtime-dir or --connect, not both\n");
		exit(2);
	}
	if (o->runtime_dir == NULL && o->endpoint == NULL) {
		o->runtime_dir = getenv("NANTI_RUNTIME_DIR");
		if (o->runtime_dir == NULL || *o->runtime_dir == '\0')
			o->runtime_dir = "./var/run";
	}
	if (!proto_id_valid((proto_str){ o->actor, (uint32_t)strlen(o->actor) })) {
		fprintf(stderr, "nanti-demo: --actor must be an id: 1 to 64 of A-Z a-z 0-9 . _ -\n");
		exit(2);
	}
}

static void say(const struct options *o, const char *what, double t0)
{
	if (!o->quiet) {
		printf("  %-10s loaded after %6.2f s\n", what, now_s() - t0);
		fflush(stdout);
	}
}

/* Load units [from, to) of kind (villages or not) as one phase. */
static void load_units(struct wire *w, struct load *l, bool villages)
{
	struct phase ph = { "unit.put", 0, one, unit_pack, accept_any, unit_describe, l };

	for (int i = 1; i < l->c->nu; i++)
		if ((l->c->u[i].kind == U_VILLAGE) == villages)
			l->idx[ph.nstreams++] = i;
	wire_run(w, &ph);
}

static void summary(const struct options *o, const struct county *c, const struct gen *g,
		    const struct hreg *hr, const struct wire *w, uint64_t units_reqs,
		    uint64_t people_reqs, const uint64_t hh_reqs[4], uint64_t case_reqs,
		    double elapsed, double case_elapsed)
{
	int linked = 0, from_consults = 0, discussed = 0;

	int by_step[ST__N] = { 0 }, by_kind[K__N] = { 0 }, by_area[A__N] = { 0 },
	    by_source[S__N + 1] = { 0 }, by_op[O__N] = { 0 };
	int roles[NROLES] = { 0 }, redos = 0, skip = 0;

	for (int i = 0; i < g->ncases; i++) {
		by_step[g->cases[i].goal]++;
		by_kind[g->cases[i].kind]++;
		by_area[g->cases[i].area]++;
		by_source[g->cases[i].source + 1]++;
	}
	for (int i = 0; i < g->nops; i++) {
		by_op[g->ops[i].op]++;
		redos += g->ops[i].op == O_JOURNAL && (g->ops[i].v & 0x80);
		skip += g->ops[i].op == O_REPEAT && (g->ops[i].v & 0x80);
	}
	for (int p = 0; p < c->np; p++)
		for (int i = 0; i < NROLES; i++)
			roles[i] += (c->p[p].roles >> i) & 1;
	printf("nanti-demo: seed %" PRIu64 ", scale %s\n", o->seed, o->full ? "full" : "small");
	printf("units:  %d (1 county, %d townships, %d streets, %d villages, %d organs)\n",
	       c->nu, c->townships, c->streets, c->villages, c->organs);
	printf("people: %d (county leaders %d, leadership members %d, unit heads %d, cadres %d, "
	       "village-resident cadres %d, theme office %d, supervision %d, admin %d); "
	       "%d leaders left without a case\n", c->np, roles[4], roles[2], roles[3],
	       roles[0], roles[1], roles[5], roles[6], roles[7], g->idle);
	printf("cases:  %d\n  by step:", g->ncases);
	for (int s = 0; s < ST__N; s++)
		printf(" %s %d%s", step_names[s], by_step[s], s + 1 < ST__N ? "," : "\n");
	printf("  by kind:");
	for (int k = 0; k < K__N; k++)
		printf(" %s %d%s", kind_names[k], by_kind[k], k + 1 < K__N ? "," : "\n");
	printf("  by area:");
	for (int a = 0; a < A__N; a++)
		printf(" %s %d%s", area_names[a], by_area[a], a + 1 < A__N ? "," : "\n");
	printf("  by source:");
	for (int s = 0; s < S__N; s++)
		printf(" %s %d,", source_names[s], by_source[s + 1]);
	printf(" none %d\n", by_source[0]);
	printf("  on the way: %d plans, %d consultations, %d commitments, %d coordinations, "
	       "%d resolutions, %d journals (%d dissatisfied: redos), %d outcomes, "
	       "%d crossed off, %d returned, %d reopened, %d reassigned, %d notes, "
	       "%d escalations, %d guarantees, %d repeat petitions (%d skip-level)\n",
	       by_op[O_PLAN], by_op[O_CONSULT], by_op[O_COMMIT], by_op[O_COORDINATE],
	       by_op[O_RESOLVE], by_op[O_JOURNAL], redos, by_op[O_OUTCOME], by_op[O_CROSS_OFF],
	       by_op[O_RETURN], by_op[O_REOPEN], by_op[O_REASSIGN], by_op[O_NOTE],
	       by_op[O_ESCALATE], by_op[O_GUARANTEE], by_op[O_REPEAT], skip);
	for (int i = 0; i < g->ncases; i++) {
		linked += g->cases[i].nhouseholds > 0;
		from_consults += g->cases[i].consult >= 0;
	}
	for (int i = 0; i < hr->nconsults; i++)
		discussed += hr->consults[i].nhouseholds;
	printf("households: %d\n  by category: low_income %d, near_low_income %d, other %d\n",
	       hr->nh, hr->by_cat[H_LOW], hr->by_cat[H_NEAR], hr->by_cat[H_OTHER]);
	printf("  pairing: %d pairing cadres, %d of them with a household, %d without; %d "
	       "households paired; %d low-income households without a cadre\n", hr->cadres,
	       hr->cadres - hr->cadres_without, hr->cadres_without, hr->paired, hr->poor_without);
	printf("  visits: %d to %d households, %d of them with support; %d paired households "
	       "not visited\n", hr->nvisits, hr->visited, hr->supported, hr->unvisited);
	printf("  consultations: %d, discussing %d households, finding %d cases; %d household "
	       "issues name their households\n", hr->nconsults, discussed, from_consults, linked);
	printf("events sent: %" PRIu64 " (units %" PRIu64 ", people %" PRIu64 ", campaign 1, "
	       "households %" PRIu64 ", pairings %" PRIu64 ", visits %" PRIu64 ", consultations "
	       "%" PRIu64 ", cases %" PRIu64 "); %" PRIu64 " puts changed nothing\n", w->acked,
	       units_reqs, people_reqs, hh_reqs[0], hh_reqs[1], hh_reqs[2], hh_reqs[3], case_reqs,
	       w->unchanged);
	printf("elapsed: %.2f s, %.0f events/s (the cases alone: %.2f s, %.0f events/s)\n",
	       elapsed, elapsed > 0 ? (double)w->acked / elapsed : 0.0, case_elapsed,
	       case_elapsed > 0 ? (double)case_reqs / case_elapsed : 0.0);
}

/* Run the phase of the households with hidx[0..n): pairs or visits. */
static void load_households(struct wire *w, struct load *l, struct phase *ph, bool visits)
{
	ph->nstreams = 0;
	for (int i = 0; i < l->hr->nh; i++)
		if (visits ? l->hr->h[i].nvisits > 0 : l->hr->h[i].cadre >= 0)
			l->hidx[ph->nstreams++] = i;
	wire_run(w, ph);
}

int main(int argc, char **argv)
{
	struct options o = { NULL, NULL, "admin", false, 1, 512, 10, false };
	static struct county c;
	static struct gen g;
	static struct load l;
	static struct hreg hr;
	struct wire w = { 0 };
	int64_t now, today;
	double t0, tcases;
	uint64_t a0, units_reqs, people_reqs, case_reqs, hh_reqs[4];

	options_parse(&o, argc, argv);
	county_build(&c, &o);
	register_build(&hr, &c, &o);
	g.c = &c;
	g.o = &o;
	g.hr = &hr;
	cases_build(&g);
	l.c = &c;
	l.g = &g;
	l.hr = &hr;
	l.o = &o;
	l.hidx = malloc((size_t)hr.nh * sizeof *l.hidx);
	l.visits = calloc((size_t)hr.nh, sizeof *l.visits);
	if (l.hidx == NULL || l.visits == NULL)
		die("out of memory", NULL);

	wire_open(&w, &o);
	now = wire_ping(&w, o.wait_s);
	today = proto_day_of(now, 480);	/* the county's day: China Standard Time */
	w.q.today = today;
	proto_date_format(today - 21, l.campaign.start);
	proto_date_format(today, l.campaign.identify_by);
	proto_date_format(today, l.campaign.consult_by);
	proto_date_format(today + 3, l.campaign.plan_by);
	proto_date_format(today + 14, l.campaign.commit_by);
	proto_date_format(today + 120, l.campaign.journal_by);
	proto_date_format(today + 14, l.campaign.pair_by);	/* June 20, as commit_by */
	proto_date_format(today + 14, l.campaign.visit_by);
	proto_date_format(today + 125, l.campaign.end);
	if (!o.quiet) {
		printf("nanti-demo: loading %d units, %d people, %d households (%d pairings, %d "
		       "visits, %d consultations) and %d cases (%d requests) into %s\n", c.nu, c.np,
		       hr.nh, hr.paired, hr.nvisits, hr.nconsults, g.ncases, g.nops, w.endpoint);
		fflush(stdout);
	}

	t0 = now_s();
	/* the bootstrap: the county, then the admin, one after the other */
	{
		struct phase ph = { "unit.put", 1, one, unit_pack, accept_any, unit_describe, &l };

		l.idx[0] = 0;
		wire_run(&w, &ph);
		ph = (struct phase){ "person.put", 1, one, person_pack, accept_any,
				     person_describe, &l };
		l.idx[0] = c.admin;
		wire_run(&w, &ph);
	}
	load_units(&w, &l, false);
	load_units(&w, &l, true);
	units_reqs = w.acked - 1;
	say(&o, "units", t0);
	a0 = w.acked;
	{
		struct phase ph = { "person.put", 0, one, person_pack, accept_any,
				    person_describe, &l };

		for (int p = 0; p < c.np; p++)
			if (p != c.admin)
				l.idx[ph.nstreams++] = p;
		wire_run(&w, &ph);
	}
	people_reqs = w.acked - a0 + 1;
	say(&o, "people", t0);
	{
		struct phase ph = { "campaign.set", 1, one, campaign_pack, accept_any,
				    campaign_describe, &l };

		wire_run(&w, &ph);
	}
	say(&o, "campaign", t0);
	/* the register, then the pairing lists, then the visits, then the consultations */
	a0 = w.acked;
	{
		struct phase ph = { "household.put", hr.nh, one, household_pack, household_check,
				    household_describe, &l };

		wire_run(&w, &ph);
	}
	hh_reqs[0] = w.acked - a0;
	say(&o, "households", t0);
	a0 = w.acked;
	{
		struct phase ph = { "household.pair", 0, one, pair_pack, pair_check, pair_describe,
				    &l };

		load_households(&w, &l, &ph, false);
	}
	hh_reqs[1] = w.acked - a0;
	say(&o, "pairings", t0);
	a0 = w.acked;
	{
		struct phase ph = { "household.visit", 0, visit_len, visit_pack, visit_check,
				    visit_describe, &l };

		load_households(&w, &l, &ph, true);
	}
	hh_reqs[2] = w.acked - a0;
	say(&o, "visits", t0);
	a0 = w.acked;
	{
		struct phase ph = { "household.consult", hr.nconsults, one, hconsult_pack,
				    hconsult_check, hconsult_describe, &l };

		wire_run(&w, &ph);
	}
	hh_reqs[3] = w.acked - a0;
	say(&o, "consults", t0);
	a0 = w.acked;
	tcases = now_s();
	{
		struct phase ph = { "a case's step", g.ncases, case_len, case_pack, case_check,
				    case_describe, &l };

		wire_run(&w, &ph);
	}
	case_reqs = w.acked - a0;
	say(&o, "cases", t0);
	summary(&o, &c, &g, &hr, &w, units_reqs, people_reqs, hh_reqs, case_reqs, now_s() - t0,
		now_s() - tcases);
	wire_close(&w);
	free(g.cases);
	free(g.ops);
	free(hr.h);
	free(hr.visits);
	free(hr.consults);
	free(l.hidx);
	free(l.visits);
	return 0;
}
