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
 * that the coverage report has gaps to show.
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
 * then people, then the campaign, then the cases) each wait for the previous one.
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
#define DEMO_MAX_PEOPLE		2048
#define DEMO_MAX_KIDS		32	/* villages under one township or street */
#define DEMO_MAX_MEMBERS	96	/* people of one unit */
#define DEMO_MAX_CASES		20000
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
	snprintf(p->id, sizeof p->id, "%.40s.p%02d", uid, (u->nmembers + 1) % 100);
	person_name(r, p->name, sizeof p->name);
	p->unit = unit;
	p->roles = roles;
	p->village = village;
	u->members[u->nmembers++] = c->np;
	if ((roles & R_HEAD) && u->head < 0)
		u->head = c->np;
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
 * townships and streets of 10 to 20 villages (about 300), 26 organs, about 750 people.
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

static void case_title(const struct county *c, struct dcase *k, struct rng *r)
{
	const char *where = k->unit == 0 ? "全县" : c->u[k->unit].name;

	switch (k->kind) {
	case K_PETITION:
		snprintf(k->title, sizeof k->title, "%s%s", where, PICK(r, t_petition));
		break;
	case K_HOUSEHOLD:
		snprintf(k->title, sizeof k->title, "%s%s某%s", where, PICK(r, surnames),
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

/* Fill case g->cases[g->ncases] led by p (kind forced unless -1) and write its script. */
static void case_make(struct gen *g, int p, int forced_kind, bool extra, int goal)
{
	const struct county *c = g->c;
	struct dcase *k = &g->cases[g->ncases];
	struct rng r = rng_for(g->o->seed, 1000 + (uint64_t)g->ncases);
	int cat = person_cat(c, p), home, w;

	memset(k, 0, sizeof *k);
	k->lead = p;
	k->goal = (uint8_t)goal;
	k->reassignable = extra;
	k->kind = (uint8_t)(forced_kind >= 0 ? forced_kind : pick_kind(&r, cat));
	k->unit = pick_case_unit(c, &r, p, cat, k->kind);
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
	case_title(c, k, &r);
	case_script(g, &r);
	g->ncases++;
}

/*
 * cases_build - every case and its script. First one case for each person who owes one
 * (county leaders, leadership members, village-resident cadres), except a few left idle
 * on purpose; then the rest spread over the categories of leads. The final steps are
 * dealt out in fixed shares, so every step is present at any scale.
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
		for (int tries = 0; idle_want[cat] > 0 && tries < 1000; tries++) {
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
			case_make(g, p, -1, false, goals[g->ncases]);
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
			  goals[g->ncases]);
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
	const struct options *o;
	int from, count;	/* units or people [from, from + count) */
	int kind;		/* units: 0 the non-villages, 1 the villages */
	int idx[DEMO_MAX_UNITS > DEMO_MAX_PEOPLE ? DEMO_MAX_UNITS : DEMO_MAX_PEOPLE];
	struct {
		char start[11], end[11], identify_by[11], consult_by[11], plan_by[11],
		     commit_by[11], journal_by[11];
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
	      "Builds a demo county (townships, villages, organs, people, a campaign and cases\n"
	      "at every step) and loads it through a running nantid.\n"
	      "\n"
	      "  --runtime-dir DIR    the daemon's runtime directory (ipc://DIR/submit.sock)\n"
	      "  --connect ENDPOINT   its request endpoint instead (tcp://HOST:PORT, ipc://PATH)\n"
	      "  --scale small|full   small: 3 townships, 15 villages, ~60 people, 150 cases;\n"
	      "                       full: 20 townships and streets, ~300 villages, ~750\n"
	      "                       people, 3000 cases (default small)\n"
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
		printf("  %-9s loaded after %6.2f s\n", what, now_s() - t0);
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
		    const struct wire *w, uint64_t units_reqs, uint64_t people_reqs,
		    uint64_t case_reqs, double elapsed, double case_elapsed)
{
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
	printf("events sent: %" PRIu64 " (units %" PRIu64 ", people %" PRIu64 ", campaign 1, "
	       "cases %" PRIu64 "); %" PRIu64 " puts changed nothing\n", w->acked, units_reqs,
	       people_reqs, case_reqs, w->unchanged);
	printf("elapsed: %.2f s, %.0f events/s (the cases alone: %.2f s, %.0f events/s)\n",
	       elapsed, elapsed > 0 ? (double)w->acked / elapsed : 0.0, case_elapsed,
	       case_elapsed > 0 ? (double)case_reqs / case_elapsed : 0.0);
}

int main(int argc, char **argv)
{
	struct options o = { NULL, NULL, "admin", false, 1, 512, 10, false };
	static struct county c;
	static struct gen g;
	static struct load l;
	struct wire w = { 0 };
	int64_t now, today;
	double t0, tcases;
	uint64_t a0, units_reqs, people_reqs, case_reqs;

	options_parse(&o, argc, argv);
	county_build(&c, &o);
	g.c = &c;
	g.o = &o;
	cases_build(&g);
	l.c = &c;
	l.g = &g;
	l.o = &o;

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
	proto_date_format(today + 125, l.campaign.end);
	if (!o.quiet) {
		printf("nanti-demo: loading %d units, %d people and %d cases (%d requests) into %s\n",
		       c.nu, c.np, g.ncases, g.nops, w.endpoint);
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
	a0 = w.acked;
	tcases = now_s();
	{
		struct phase ph = { "a case's step", g.ncases, case_len, case_pack, case_check,
				    case_describe, &l };

		wire_run(&w, &ph);
	}
	case_reqs = w.acked - a0;
	say(&o, "cases", t0);
	summary(&o, &c, &g, &w, units_reqs, people_reqs, case_reqs, now_s() - t0,
		now_s() - tcases);
	wire_close(&w);
	free(g.cases);
	free(g.ops);
	return 0;
}
