#!/usr/bin/python3
"""
test_household_rules.py - the household register through the real daemon, request by
request (docs/protocol.md sections 8, 9 and 11, "Households"): what each op does to the
record, its indexes and its history; who may do it; what each viewer sees; the pair and
visit milestones of campaign.coverage and their campaign.missing notices; and an export
that carries it all. The client commands and the CSV import are tested in
test_households.py.

The county is the shared one (pyclient.County): villages xiaxi and shangxi of anling,
dongcun of tianshi, beijie of nanfeng.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyclient import (  # noqa: E402
    ROOT, County, Subscriber, error_code, read_log, restart_shifted, run_tests, test, today)

NANTI = os.path.join(ROOT, "build", "nanti")
ADMIN, THEME, SUPERVISION = County.ADMIN, County.THEME, County.SUPERVISION
HEAD = County.HEAD                  # unit head of anling
CADRE = County.CADRE                # wang.li, leader of anling: a pairing cadre
COLLEAGUE = "li.ming"               # a cadre of anling
VILLAGE_CADRE = "xu.cun"            # a cadre of xiaxi itself: not a pairing cadre
OUTSIDER = County.OTHER_CADRE       # chen.jie of tianshi
RESIDENT = County.RESIDENT          # zhao.hua, stationed in dongcun
SENSITIVE = ("head", "id_number", "phone", "address", "member_names", "notes")
SECRETS = ("张大山", "330781196505051234", "13905790000", "下溪村3组12号", "张小山",
           "debts from the son's illness")


def household(hid="h1", village="xiaxi", category="low_income", **extra):
    """A household.put's fields, with every sensitive one set (to SECRETS)."""
    f = {"household": hid, "village": village, "category": category, "members": 3,
         "needs": ["medical", "housing"], "head": SECRETS[0], "id_number": SECRETS[1],
         "phone": SECRETS[2], "address": SECRETS[3], "member_names": [SECRETS[4], "张二"],
         "notes": SECRETS[5]}
    f.update(extra)
    return f


class Register:
    """A daemon with the shared county, and the moves the tests make."""

    def __init__(self, t):
        self.t = t
        self.d = t.daemon()
        self.d.build_county()
        self.c = self.d.client()
        t.defer(self.c.close)

    def seq(self):
        return self.c.call("ping")["seq"]

    def ok(self, actor, op, **fields):
        r = self.c.write(op, actor=actor, **fields)
        self.t.require(r["ok"], "%s by %s: %r" % (op, actor, r))
        return r

    def refused(self, actor, op, code, **fields):
        """op by actor is refused with code and writes nothing."""
        before = self.seq()
        r = self.c.write(op, actor=actor, **fields)
        self.t.check(not r["ok"] and error_code(r) == code,
                     "%s by %s is refused %s: %r" % (op, actor, code, r))
        self.t.eq(self.seq(), before, "a refused %s writes nothing" % op)
        return r

    def get(self, hid, viewer=None):
        req = {"op": "household.get", "household": hid}
        if viewer:
            req["actor"] = viewer
        return self.c.request(req)

    def listing(self, viewer=None, **filters):
        """Every item of household.list with these filters, paging until next is nil."""
        items, after = [], None
        while True:
            req = {"op": "household.list", "limit": 2}
            req.update(filters)
            if viewer:
                req["actor"] = viewer
            if after:
                req["after"] = after
            r = self.c.request(req)
            self.t.require(r["ok"], "household.list %r: %r" % (filters, r))
            items += r["items"]
            if r["next"] is None:
                return items
            after = r["next"]

    def history(self, hid):
        r = self.c.call("household.history", household=hid)
        self.t.require(r["ok"], "household.history: %r" % r)
        return r["items"]


def no_secret_in(t, entries, what):
    text = repr(entries)
    for s in SECRETS:
        t.check(s not in text, "%s holds no sensitive value (%r)" % (what, s))
    for e in entries:
        for k in SENSITIVE:
            t.check(k not in e, "%s: entry %d has no key %s" % (what, e["seq"], k))


@test("a household put twice changes nothing the second time and writes no entry")
def _(t):
    g = Register(t)
    r = g.ok(ADMIN, "household.put", **household())
    t.eq((r["household"], r["changed"]), ("h1", True), "the first put creates it")
    seq = g.seq()
    r = g.ok(ADMIN, "household.put", **household())
    t.eq((r["changed"], r["seq"]), (False, seq), "the same put again: changed false, no seq")
    t.eq(g.seq(), seq, "and no entry")
    t.eq([e["topic"] for e in g.history("h1")], ["household.created"], "one entry in its history")


@test("a changed put names the keys it changed, and no entry ever holds a sensitive value")
def _(t):
    g = Register(t)
    g.ok(ADMIN, "household.put", **household())
    g.ok(ADMIN, "household.put", **household(phone="13800000000", members=4))
    del_notes = household(phone="13800000000", members=4)
    del del_notes["notes"]
    g.ok(ADMIN, "household.put", **del_notes)
    hist = g.history("h1")
    t.eq([e["topic"] for e in hist], ["household.created", "household.updated",
                                       "household.updated"], "the history")
    t.eq(hist[0]["changed"], ["household", "village", "category", "members", "needs"] +
         list(SENSITIVE), "a new household: every key sent, in table order")
    t.eq(hist[1]["changed"], ["members", "phone"], "the keys whose values differ")
    t.eq(hist[2]["changed"], ["notes"], "a key not sent is cleared")
    t.eq(hist[1]["members"], 4, "the entry carries the summary")
    no_secret_in(t, read_log(g.c)[0], "the log")
    h = g.get("h1")["household"]
    t.eq((h["phone"], "notes" in h), ("13800000000", False), "the record as last put")


@test("a household that moves leaves its old village's list and joins the new one's")
def _(t):
    g = Register(t)
    for i in range(5):
        g.ok(ADMIN, "household.put", **household("h%d" % i))
    g.ok(ADMIN, "household.put", **household("h2", village="shangxi"))
    t.eq([h["household"] for h in g.listing(village="xiaxi")], ["h0", "h1", "h3", "h4"],
         "xiaxi's households, paged two at a time")
    t.eq([h["household"] for h in g.listing(village="shangxi")], ["h2"], "shangxi's")
    t.eq(g.history("h2")[-1]["moved_from"], "xiaxi", "the entry says where it moved from")
    t.eq(len(g.listing(within="anling")), 5, "anling holds both villages")
    t.eq(g.listing(within="tianshi"), [], "tianshi none")
    g.refused(COLLEAGUE, "household.put", "forbidden", **household("h2", village="dongcun"))
    g.refused(ADMIN, "household.put", "not_found", **household("h9", village="nowhere"))
    g.refused(ADMIN, "household.put", "bad_request", **household("h9", village="anling"))
    g.refused(ADMIN, "household.put", "bad_request", **household("h9", members=0))
    g.refused(ADMIN, "household.put", "bad_request", **household("h9", category="rich"))
    g.refused(ADMIN, "household.put", "bad_request", **household("h9", needs=["a", "a"]))


@test("pairing: a pairing cadre only, re-pairing names the previous cadre, and the cadre "
      "list follows")
def _(t):
    g = Register(t)
    g.ok(ADMIN, "household.put", **household("h1"))
    g.ok(ADMIN, "household.put", **household("h2", category="near_low_income"))
    g.refused(ADMIN, "household.pair", "bad_request", household="h1", cadre=VILLAGE_CADRE)
    g.refused(ADMIN, "household.pair", "bad_request", household="h1", cadre=THEME)
    g.refused(ADMIN, "household.pair", "not_found", household="h1", cadre="nobody")
    g.refused(ADMIN, "household.pair", "not_found", household="h9", cadre=CADRE)
    g.ok(HEAD, "household.pair", household="h1", cadre=CADRE)
    g.ok(THEME, "household.pair", household="h2", cadre=CADRE)
    t.eq(g.ok(HEAD, "household.pair", household="h1", cadre=CADRE)["changed"], False,
         "pairing again with the same cadre changes nothing")
    t.eq([h["household"] for h in g.listing(cadre=CADRE)], ["h1", "h2"], "wang.li's pairs")
    g.ok(ADMIN, "household.pair", household="h1", cadre=COLLEAGUE)
    t.eq(g.history("h1")[-1]["previous"], CADRE, "the entry names the previous cadre")
    t.eq([h["household"] for h in g.listing(cadre=CADRE)], ["h2"], "h1 left wang.li's list")
    t.eq([h["household"] for h in g.listing(cadre=COLLEAGUE)], ["h1"], "and joined li.ming's")
    e = g.ok(ADMIN, "household.unpair", household="h1")
    t.eq(g.history("h1")[-1]["topic"], "household.unpaired", "unpaired")
    t.eq(g.listing(cadre=COLLEAGUE), [], "li.ming has none now")
    t.eq(g.ok(ADMIN, "household.unpair", household="h1")["changed"], False,
         "unpairing again changes nothing")
    t.check(e["changed"], "the first unpair changed it")
    t.eq([h["household"] for h in g.listing(paired=False)], ["h1"], "the unpaired filter")
    # who may pair: the offices, a unit head over the village
    for who in (CADRE, COLLEAGUE, County.OTHER_HEAD, SUPERVISION):
        g.refused(who, "household.pair", "forbidden", household="h1", cadre=CADRE)


@test("the pairing list of a unit: its pairing cadres with their households, heads only "
      "for those who may see them")
def _(t):
    g = Register(t)
    g.ok(ADMIN, "household.put", **household("h1"))
    g.ok(ADMIN, "household.pair", household="h1", cadre=CADRE)
    r = g.c.call("household.pairings", unit="anling", actor=THEME)
    t.eq([(i["cadre"], [h["household"] for h in i["households"]]) for i in r["items"]],
         [(HEAD, []), (COLLEAGUE, []), (CADRE, ["h1"])],
         "anling's pairing cadres (xu.cun, of a village, is not one), in id order")
    t.eq(r["items"][2]["households"][0].get("head"), SECRETS[0], "the theme office sees heads")
    r = g.c.call("household.pairings", unit="anling", actor=OUTSIDER)
    t.check(r["ok"] and "head" not in r["items"][2]["households"][0],
            "a cadre of tianshi reads the list without the head: %r" % r)
    r = g.c.call("household.pairings", unit="nowhere", actor=THEME)
    t.eq(error_code(r), "not_found", "an unknown unit")


@test("visits: the first and last visit days follow, a future date and an outsider are "
      "refused")
def _(t):
    g = Register(t)
    g.ok(ADMIN, "household.put", **household("h1"))
    g.ok(ADMIN, "household.pair", household="h1", cadre=CADRE)
    r = g.ok(CADRE, "household.visit", household="h1", date=today(-3), done="talked",
             support="500 yuan")
    t.eq(r["visits"], 1, "one visit")
    g.ok(COLLEAGUE, "household.visit", household="h1", date=today(-10), done="again")
    g.ok(VILLAGE_CADRE, "household.visit", household="h1", done="checked the roof")
    h = g.get("h1")["household"]
    t.eq((h["visits"], h["first_visit"], h["last_visit"]), (3, today(-10), today()),
         "visits, first and last")
    firsts = [e["first"] for e in g.history("h1") if e["topic"] == "household.visited"]
    t.eq(firsts, [True, False, False], "the entry says which visit was the first")
    g.refused(CADRE, "household.visit", "bad_request", household="h1", date=today(1),
              done="not yet")
    g.refused(OUTSIDER, "household.visit", "forbidden", household="h1", done="x")
    t.eq([x["household"] for x in g.listing(visited=True)], ["h1"], "the visited filter")


@test("a consultation counts each household and opens cases linked to them both ways")
def _(t):
    g = Register(t)
    for i in range(3):
        g.ok(ADMIN, "household.put", **household("h%d" % i))
    g.ok(ADMIN, "household.put", **household("far", village="dongcun"))
    g.refused(HEAD, "household.consult", "bad_request", village="xiaxi",
              households=["h0", "far"])
    g.refused(OUTSIDER, "household.consult", "forbidden", village="xiaxi", households=["h0"])
    g.refused(HEAD, "household.consult", "not_found", village="xiaxi", households=["h0"],
              participants=["nobody"])
    r = g.ok(HEAD, "household.consult", village="xiaxi", date=today(-1),
             households=["h0", "h1"], participants=[CADRE, COLLEAGUE], residents=12,
             summary="roofs and a road")
    cons = r["consultation"]
    t.eq(cons, r["seq"], "a consultation is named by its entry's seq")
    opened = g.ok(CADRE, "case.open", title="h0's roof leaks", area="livelihood", unit="xiaxi",
                  kind="household_issue", source="household_consultation",
                  households=["h0", "h1"], consultation=cons)
    case = opened["case"]
    got = g.c.call("case.get", case=case)["case"]
    t.eq((got["households"], got["consultation"]), (["h0", "h1"], cons),
         "the case shows its households and its consultation")
    for hid in ("h0", "h1"):
        r = g.get(hid)
        t.eq((r["cases"], r["household"]["consultations"]), ([case], 1),
             "%s lists the case and counts the consultation" % hid)
        t.eq([e["topic"] for e in g.history(hid)][-2:],
             ["household.consulted", "case.opened"], "%s's history" % hid)
    t.eq(g.get("h2")["cases"], [], "h2 was not discussed")
    g.refused(CADRE, "case.open", "bad_request", title="t", area="livelihood", unit="xiaxi",
              households=["h2"], consultation=cons)
    g.refused(CADRE, "case.open", "not_found", title="t", area="livelihood", unit="xiaxi",
              households=["h0"], consultation=cons - 1)
    g.refused(CADRE, "case.open", "bad_request", title="t", area="livelihood", unit="xiaxi",
              consultation=cons)
    g.refused(CADRE, "case.open", "forbidden", title="t", area="livelihood", unit="xiaxi",
              households=["far"])
    g.refused(CADRE, "case.open", "not_found", title="t", area="livelihood", unit="xiaxi",
              households=["nope"])
    g.refused(CADRE, "case.open", "bad_request", title="t", area="livelihood", unit="xiaxi",
              households=["h%d" % i for i in range(17)])


@test("who sees a household: its reach reads it, its cadre, a resident cadre of its "
      "village and the offices see its sensitive fields, an outsider reads nothing")
def _(t):
    g = Register(t)
    g.ok(ADMIN, "person.put", person="res.xiaxi", name="驻村干部", unit="water",
         roles=["cadre", "resident_cadre"], village="xiaxi")
    g.ok(ADMIN, "household.put", **household("h1"))
    g.ok(ADMIN, "household.pair", household="h1", cadre=CADRE)
    g.ok(ADMIN, "household.put", **household("h2", village="dongcun"))
    sees = {CADRE, THEME, SUPERVISION, ADMIN, "res.xiaxi", None}
    reads = {COLLEAGUE, VILLAGE_CADRE, HEAD, County.COUNTY_LEADER}
    for who in sorted(sees | reads, key=str):
        r = g.get("h1", who)
        t.require(r["ok"], "%s reads h1: %r" % (who, r))
        shown = [k for k in SENSITIVE if k in r["household"]]
        t.eq((r["hidden"], shown), (False, list(SENSITIVE)) if who in sees else
             (True, []), "what %s sees of h1" % who)
    for who in (OUTSIDER, County.OTHER_HEAD):
        t.eq(error_code(g.get("h1", who)), "forbidden", "%s may not read h1" % who)
        t.eq(error_code(g.c.call("household.history", household="h1", actor=who)),
             "forbidden", "nor its history")
    t.eq([h["household"] for h in g.listing(OUTSIDER, full=True)], ["h2"],
         "a cadre of tianshi lists only dongcun's household")
    full = g.listing(COLLEAGUE, full=True)
    t.eq([(h["household"], h["hidden"], "head" in h) for h in full], [("h1", True, False)],
         "a colleague lists h1 in full, without its sensitive fields")
    t.eq([h["hidden"] for h in g.listing(ADMIN, full=True)], [False, False],
         "an admin lists them whole")
    t.eq(error_code(g.c.call("household.get", household="h9")), "not_found", "no such one")


@test("live notifications about households hold no sensitive value")
def _(t):
    g = Register(t)
    sub = Subscriber(g.d.events, g.d.submit, "", cursor=g.seq())
    t.defer(sub.close)
    time.sleep(0.3)     # the subscription is made (a slow joiner catches up instead)
    g.ok(ADMIN, "household.put", **household("h1"))
    g.ok(ADMIN, "household.put", **household("h1", phone="13800000001"))
    g.ok(ADMIN, "household.pair", household="h1", cadre=CADRE)
    g.ok(CADRE, "household.visit", household="h1", done="talked")
    g.ok(HEAD, "household.consult", village="xiaxi", households=["h1"])
    deadline = time.time() + 10
    while len(sub.entries) < 5 and time.time() < deadline:
        sub.poll(0.5)
    t.eq([e["topic"] for e in sub.entries],
         ["household.created", "household.updated", "household.paired", "household.visited",
          "household.consulted"], "every change came")
    t.check(sub.live > 0, "some of them live")
    no_secret_in(t, sub.entries, "the notifications")


@test("coverage: pairing cadres without a household, villages with households without a "
      "cadre, and paired households not visited by the date")
def _(t):
    g = Register(t)
    g.ok(THEME, "campaign.set", name="破难题", start=today(-30), end=today(60),
         pair_by=today(-5), visit_by=today(5))
    g.ok(ADMIN, "household.put", **household("h1"))
    g.ok(ADMIN, "household.put", **household("h2", village="shangxi"))
    g.ok(ADMIN, "household.put", **household("h3", village="dongcun", category="other"))
    g.ok(ADMIN, "household.pair", household="h1", cadre=CADRE)
    g.ok(ADMIN, "household.pair", household="h3", cadre=County.OTHER_HEAD)
    g.ok(CADRE, "household.visit", household="h1", done="talked")
    r = g.c.call("campaign.coverage", unit="anling")
    t.require(r["ok"], "coverage: %r" % r)
    ms = {m["milestone"]: m for m in r["milestones"]}
    pair = ms["pair"]
    # anling: its three pairing cadres, its two low-income households; all were paired
    # today, after pair_by: late, so missing
    t.eq((pair["expected"], pair["done"]), (5, 0), "pair: expected and done in time")
    missing = {(m["unit"], m["person"]): m["households"] for m in pair["missing"]}
    t.eq(missing, {("anling", HEAD): [], ("anling", COLLEAGUE): [], ("anling", CADRE): [],
                   ("shangxi", None): ["h2"], ("xiaxi", None): ["h1"]},
         "the cadres without a household in time, and the households without a cadre, by "
         "village")
    visit = ms["visit"]
    t.eq((visit["expected"], visit["done"], visit["missing"]), (1, 1, []),
         "visit: h1 was visited before visit_by")
    r = g.c.call("campaign.coverage", milestone="visit")
    t.eq([(m["person"], m["households"]) for m in r["milestones"][0]["missing"]],
         [(County.OTHER_HEAD, ["h3"])], "county-wide: tianshi's head has not visited h3")
    g.ok(THEME, "campaign.set", name="破难题", start=today(-30), end=today(60),
         pair_by=today(), visit_by=today(5))
    pair = g.c.call("campaign.coverage", unit="anling", milestone="pair")["milestones"][0]
    t.eq((pair["expected"], pair["done"]), (5, 2),
         "with pair_by today: wang.li and h1 are done")


@test("the pair milestone's date passing tells each unit with a gap: its cadres, and "
      "a village's households without a cadre to the village's head")
def _(t):
    g = Register(t)
    g.ok(ADMIN, "household.put", **household("h2", village="shangxi"))
    g.ok(ADMIN, "household.put", **household("h1"))
    g.ok(ADMIN, "household.pair", household="h1", cadre=CADRE)
    g.ok(THEME, "campaign.set", name="破难题", start=today(-30), end=today(60),
         pair_by=today(-1))     # passed: the chase starts at once
    deadline = time.time() + 15
    notices = []
    while time.time() < deadline:
        # the date passing (level 0); after 09:00 in the county the ladder's first level
        # is due at once too, and names only who is still missing
        notices = [e for e in read_log(g.c, topic="campaign.missing")[0]
                   if e["milestone"] == "pair" and e["level"] == 0]
        if any(e["unit"] == "shangxi" for e in notices):
            break
        time.sleep(0.2)
    by_unit = {e["unit"]: e for e in notices}
    t.require("shangxi" in by_unit and "anling" in by_unit,
              "notices for anling and shangxi: %r" % sorted(by_unit))
    s = by_unit["shangxi"]
    t.eq((s["missing"], s["households"], s["notify"]),
         ([], 1, {"role": "unit_head", "unit": "shangxi"}),
         "shangxi: one household without a cadre, told to its head")
    a = by_unit["anling"]
    t.eq(sorted(p["person"] for p in a["missing"]), sorted([HEAD, COLLEAGUE, CADRE]),
         "anling: its cadres paired late or not at all")
    t.eq(a["notify"], {"people": sorted([HEAD, COLLEAGUE, CADRE])}, "told themselves")


@test("the visit milestone's date passing tells each cadre's unit of the households they "
      "have not visited, and not of those visited in time")
def _(t):
    g = Register(t)
    for hid in ("h1", "h2", "h3"):
        g.ok(ADMIN, "household.put", **household(hid))
    g.ok(ADMIN, "household.put", **household("far", village="dongcun"))
    g.ok(ADMIN, "household.pair", household="h1", cadre=CADRE)
    g.ok(ADMIN, "household.pair", household="h2", cadre=CADRE)
    g.ok(ADMIN, "household.pair", household="h3", cadre=COLLEAGUE)
    g.ok(ADMIN, "household.pair", household="far", cadre=County.OTHER_HEAD)
    g.ok(CADRE, "household.visit", household="h1", date=today(-3), done="talked")
    g.ok(COLLEAGUE, "household.visit", household="h3", date=today(-2), done="talked")
    g.ok(THEME, "campaign.set", name="破难题", start=today(-30), end=today(60),
         visit_by=today(-1))
    deadline = time.time() + 15
    notices = {}
    while time.time() < deadline and len(notices) < 2:
        notices = {e["unit"]: e for e in read_log(g.c, topic="campaign.missing")[0]
                   if e["milestone"] == "visit" and e["level"] == 0}
        time.sleep(0.2)
    t.eq(sorted(notices), ["anling", "tianshi"], "the units of the cadres with a gap")
    a = notices["anling"]
    t.eq(([p["person"] for p in a["missing"]], a["households"], a["cases"]),
         ([CADRE], 1, 0), "anling: wang.li has not visited h2; li.ming visited h3 in time")
    t.eq(notices["tianshi"]["households"], 1, "tianshi: its head has not visited 'far'")


@test("an export carries the households, and the import rebuilds their indexes byte for "
      "byte")
def _(t):
    g = Register(t)
    g.ok(ADMIN, "household.put", **household("h1"))
    g.ok(ADMIN, "household.put", **household("h2", village="shangxi"))
    g.ok(ADMIN, "household.pair", household="h1", cadre=CADRE)
    g.ok(CADRE, "household.visit", household="h1", done="talked")
    cons = g.ok(HEAD, "household.consult", village="xiaxi", households=["h1"])["consultation"]
    g.ok(CADRE, "case.open", title="roof", area="livelihood", unit="xiaxi",
         households=["h1"], consultation=cons)
    g.ok(ADMIN, "household.put", **household("h1", village="shangxi"))
    g.ok(ADMIN, "household.unpair", household="h1")
    g.d.stop()
    path = os.path.join(g.d.base, "ledger.jsonl")
    r = subprocess.run([NANTI, "admin", "export", path, "--state-dir", g.d.state_dir],
                       capture_output=True, text=True, timeout=60)
    t.require(r.returncode == 0, "export: %r" % r.stderr)
    t.check("2 households" in r.stdout, "the export counts them: %r" % r.stdout)
    e = t.daemon(start=False)
    r = subprocess.run([NANTI, "admin", "import", path, "--state-dir", e.state_dir],
                       capture_output=True, text=True, timeout=60)
    t.require(r.returncode == 0, "import: %r" % r.stderr)

    def dump(state_dir):
        r = subprocess.run(["mdb_dump", "-a", state_dir], capture_output=True, text=True,
                           timeout=60)
        return [ln for ln in r.stdout.splitlines() if not ln.startswith("mapsize=")]
    a, b = dump(g.d.state_dir), dump(e.state_dir)
    t.check(a == b and any("hindex" in ln for ln in a),
            "every database equal, hindex included (first difference at line %s)" %
            next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b))))


if __name__ == "__main__":
    run_tests()
