#!/usr/bin/python3
"""
test_reports.py - report.units, report.scorecard and report.commitments through the real
daemon: figures checked against a ledger built with known contents, over days that pass
(the clock shim), and each scorecard figure traced to the log entries behind it.

The county is pyclient's County (build_county()): anling (villages xiaxi, shangxi),
tianshi (dongcun), nanfeng (beijie), water (an organ).

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyclient import (  # noqa: E402
    new_id, read_log, restart_shifted, run_tests, test, today,
)

PLAN = {"measures": "repair the road", "schedule": "by July", "units": ["anling"]}
CONSULT = {"place": "村委会", "residents": 30, "summary": "the residents agree"}
CAMPAIGN = "走进矛盾、破解难题"


class Ledger:
    """A daemon with the County, and the writes these tests make."""

    def __init__(self, t):
        self.t = t
        self.d = t.daemon()
        self.d.build_county()
        self.connect()

    def connect(self):
        self.c = self.d.client()
        self.t.defer(self.c.close)

    def shift(self, days):
        restart_shifted(self.t, self.d, days)
        self.connect()

    def ok(self, actor, op, **fields):
        r = self.c.write(op, actor=actor, **fields)
        self.t.require(r["ok"], "%s by %s %r: %r" % (op, actor, fields, r))
        return r

    def call(self, op, actor=None, **fields):
        if actor is not None:
            fields["actor"] = actor
        return self.c.call(op, **fields)

    def report(self, op, **fields):
        r = self.call(op, **fields)
        self.t.require(r["ok"], "%s %r: %r" % (op, fields, r))
        return r

    def open(self, lead, unit, **extra):
        fields = {"title": "a problem of %s in %s" % (lead, unit), "area": "livelihood",
                  "unit": unit}
        fields.update(extra)
        return self.ok(lead, "case.open", **fields)["case"]

    def to_committed(self, lead, k, deadline):
        self.ok(lead, "case.plan", case=k, deadline=deadline, **PLAN)
        self.ok(lead, "case.consult", case=k, date=today(), **CONSULT)
        self.ok(lead, "case.commit", case=k, venue="county_news", date=today(), ref="县报第12期")

    def resolve(self, lead, k):
        self.ok(lead, "case.coordinate", case=k, form="onsite", date=today(),
                summary="on-site meeting")
        self.ok(lead, "case.resolve", case=k, summary="done")

    def journal(self, lead, k, sat, basic, dis):
        self.ok(lead, "case.consult", case=k, date=today(), **CONSULT)
        return self.ok(lead, "case.journal", case=k, process="how it was cracked",
                       result="done in a week", satisfied=sat,
                       basically_satisfied=basic, dissatisfied=dis)


def build(t):
    """The known ledger of day 0 (the daemon's days are shifted later). Returns (g, cases).

    a (wang.li, xiaxi), b (chen.jie, dongcun), c (county.leader, beijie): committed with
    deadlines day 3, day 2 and day 1; p (a petition in shangxi, led by wang.li, taken by
    head.anling): committed, deadline day 10; e (zhao.hua, dongcun): identified, no
    deadline. A low-income household in xiaxi paired with li.ming and visited with
    support. The campaign starts on day 0; its commitments are due on day 1."""
    g = Ledger(t)
    g.ok("theme", "campaign.set", name=CAMPAIGN, start=today(), end=today(120),
         commit_by=today(1))
    cases = {}
    cases["a"] = g.open("wang.li", "xiaxi")
    g.to_committed("wang.li", cases["a"], today(3))
    cases["b"] = g.open("chen.jie", "dongcun")
    g.to_committed("chen.jie", cases["b"], today(2))
    cases["c"] = g.open("county.leader", "beijie")
    g.to_committed("county.leader", cases["c"], today(1))
    cases["p"] = g.open("wang.li", "shangxi", kind="petition", taker="head.anling",
                        title="征地补偿款分配纠纷信访积案")
    g.to_committed("wang.li", cases["p"], today(10))
    cases["e"] = g.open("zhao.hua", "dongcun")
    g.ok("admin", "household.put", household="xiaxi-0001", village="xiaxi",
         category="low_income", members=3, head="张三")
    g.ok("head.anling", "household.pair", household="xiaxi-0001", cadre="li.ming")
    g.ok("li.ming", "household.visit", household="xiaxi-0001", date=today(),
         done="talked with the family", support="rice and oil")
    return g, cases


@test("report.units compares the townships, laggards first, with the figures of a ledger "
      "built over six days, as of today and as of an earlier day")
def _(t):
    g, k = build(t)
    # c asks on day 0 to move its deadline (day 1) to day 9; the office decides on day 5
    g.ok("county.leader", "case.extend", case=k["c"], until=today(9),
         reason="the pipes come late")
    g.shift(2)
    g.resolve("wang.li", k["a"])
    g.journal("wang.li", k["a"], 8, 1, 1)
    g.resolve("wang.li", k["p"])
    g.journal("wang.li", k["p"], 5, 0, 0)
    day2 = today(2)
    g.shift(5)
    g.resolve("chen.jie", k["b"])
    # c: overdue since day 2 (deadline day 1), its extension granted on day 5
    g.ok("theme", "case.decide_extension", case=k["c"], approve=True)

    r = g.report("report.units", series=True)
    day5 = r["to"]
    t.eq(r["unit"], "county", "the county's sub-units are compared")
    t.eq(r["from"], today(), "the period starts with the campaign")
    rows = {x["unit"]: x for x in r["rows"]}
    t.eq(sorted(rows), ["anling", "nanfeng", "tianshi", "water"], "one row per sub-unit")
    t.eq([x["unit"] for x in r["rows"]], ["water", "nanfeng", "tianshi", "anling"],
         "laggards first: water has no case and an owner (zhao.hua), then by progress: "
         "0%, 50%, 100%")
    t.eq([x["owners"] for x in r["rows"]], [1, 0, 2, 2], "the owners of each")
    t.eq(r["totals"]["owners"], 6, "and of the county")
    r0 = g.report("report.units", unit="nanfeng")
    t.eq(r0["rows"][0]["owners"], 0, "beijie has no owner")
    an, ti, nf = rows["anling"], rows["tianshi"], rows["nanfeng"]
    t.eq((an["cases"], an["resolved"], an["on_time"], an["late"]), (2, 2, 2, 0), "anling")
    t.eq(an["steps"]["journaled"], 2, "anling: both journaled")
    t.eq((an["satisfied"], an["basically_satisfied"], an["dissatisfied"], an["satisfaction"]),
         (13, 1, 1, 93), "anling: residents counted by the two journals")
    t.eq((an["households_visited"], an["households_supported"]), (1, 1), "anling: the visit")
    t.eq(an["consultations"], 4, "anling: a consultation before each commitment and journal")
    t.eq((ti["cases"], ti["resolved"], ti["late"], ti["days_overdue"]), (2, 1, 1, 3),
         "tianshi: b resolved three days late, e has no deadline")
    t.eq(ti["overdue"], 0, "tianshi: b is resolved, so no longer overdue")
    t.eq(ti["on_time_rate"], 0, "tianshi: nothing on time")
    t.eq(ti["progress"], 50, "tianshi: one case of two resolved")
    t.eq((nf["cases"], nf["overdue"], nf["extensions"]), (1, 0, 1),
         "nanfeng: c extended past today, so not overdue now")
    tot = r["totals"]
    t.eq(tot["cases"], 5, "five cases in all")
    t.eq(tot["headline"], {"problems_solved": 3, "disputes_settled": 1,
                           "households_visited": 1, "households_supported": 1,
                           "consultations_held": 6, "crossed_off": 0}, "the headline")
    t.eq(tot["on_time_rate"], 66, "two of three resolutions on time")
    t.eq(tot["gaps"], {"commit": 1}, "the commit milestone (day 1) passed: e has no "
         "commitment")
    t.eq(rows["water"]["gaps"], {"commit": 1}, "under its lead's unit, as campaign.coverage "
         "lists it")
    t.eq(rows["tianshi"]["gaps"], {"commit": 0}, "not under the case's unit")
    series = {p["day"]: p for p in r["series"]}
    t.eq(len(r["series"]), 6, "one point a day, day 0 to day 5")
    t.eq(series[r["from"]]["open"], 5, "day 0: five open cases")
    t.eq(series[day2]["overdue"], 1, "day 2: c is overdue (its deadline was day 1)")
    t.eq(series[day2]["resolved"], 2, "day 2: a and p resolved")
    t.eq(series[day5]["overdue"], 0, "day 5: c extended, b resolved")
    t.eq(series[today(4)]["overdue"], 2, "day 4: b and c overdue")
    t.eq(day5, today(5), "as of the daemon's today")

    # as of day 2: b not yet resolved, c overdue, its extension not yet asked
    r2 = g.report("report.units", to=day2)
    rows2 = {x["unit"]: x for x in r2["rows"]}
    t.eq(r2["to"], day2, "as of day 2")
    t.eq((rows2["tianshi"]["resolved"], rows2["tianshi"]["overdue"]), (0, 0),
         "day 2: b not resolved, its deadline is day 2 itself")
    t.eq((rows2["nanfeng"]["overdue"], rows2["nanfeng"]["days_overdue"]), (1, 1),
         "day 2: c one day overdue")
    t.eq(r2["totals"]["headline"]["problems_solved"], 2, "day 2: two solved")
    t.require(r2["report_seq"] < r["report_seq"], "day 2's report reads fewer entries")

    # with sub-units: anling's villages
    r3 = g.report("report.units", unit="anling", sub_units=True)
    t.eq([x["unit"] for x in r3["rows"]], ["shangxi", "xiaxi"], "anling's villages")
    t.eq(r3["totals"]["cases"], 2, "anling's totals")


@test("a scorecard's figures are traced to the log entries behind them, and each entry "
      "says what it adds")
def _(t):
    g, k = build(t)
    g.shift(3)
    g.resolve("wang.li", k["a"])
    g.journal("wang.li", k["a"], 8, 1, 1)
    r = g.report("report.scorecard", person="wang.li", explain=True)
    f = r["figures"]
    t.eq((f["cases"], f["resolved"], f["on_time"], f["journals"], f["satisfaction"]),
         (2, 1, 1, 1, 90), "wang.li: two cases, one resolved on time, 90% satisfied")
    log = {e["seq"]: e for e in read_log(g.c)[0]}
    for fig, items in r["explain"].items():
        t.eq(sum(i["count"] for i in items), f[fig], "%s: the entries add up" % fig)
        for i in items:
            e = log.get(i["seq"])
            t.require(e is not None, "%s: seq %d is in the log" % (fig, i["seq"]))
            t.eq(e["topic"], i["topic"], "%s: seq %d's topic" % (fig, i["seq"]))
            if i["case"] is not None:
                t.eq(e.get("case"), i["case"], "%s: seq %d's case" % (fig, i["seq"]))
    t.eq(sorted(i["case"] for i in r["explain"]["cases"]), sorted([k["a"], k["p"]]),
         "cases: the two wang.li leads")
    t.eq([i["topic"] for i in r["explain"]["on_time"]], ["case.resolved"], "on time: the "
         "resolution")
    t.eq([i["count"] for i in r["explain"]["satisfied"]], [8], "satisfied: 8 by the journal")
    # reassigned: the case counts for its new lead
    g.ok("head.anling", "case.reassign", case=k["p"], lead="li.ming", reason="moved")
    f = g.report("report.scorecard", person="wang.li")["figures"]
    t.eq(f["cases"], 1, "p went to li.ming")
    f = g.report("report.scorecard", person="li.ming")["figures"]
    t.eq((f["cases"], f["households_visited"]), (1, 1), "li.ming: p, and the visit")
    u = g.report("report.scorecard", unit="anling")["figures"]
    t.eq((u["cases"], u["households_visited"]), (2, 1), "anling's scorecard")


@test("report.people sets every case owner's scorecard side by side, those without a case "
      "too, each equal to the person's own scorecard, and pages by person id")
def _(t):
    g, k = build(t)
    g.shift(3)
    g.resolve("wang.li", k["a"])
    g.journal("wang.li", k["a"], 8, 1, 1)
    r = g.report("report.people")
    t.eq([i["person"] for i in r["items"]],
         ["chen.jie", "county.leader", "head.anling", "head.tianshi", "wang.li", "zhao.hua"],
         "those who lead a case and the leaders who must, by id (li.ming and xu.cun neither)")
    items = {i["person"]: i for i in r["items"]}
    t.eq((items["head.anling"]["figures"]["cases"], items["head.anling"]["name"]),
         (0, "安岭乡乡长"), "a leader without a case is listed, with none")
    for who in ("wang.li", "chen.jie", "zhao.hua"):
        own = g.report("report.scorecard", person=who)["figures"]
        t.eq(items[who]["figures"], own, "%s: as their own scorecard" % who)
    t.eq(r["next"], None, "one page")
    p1 = g.report("report.people", limit=4)
    p2 = g.report("report.people", limit=4, after=p1["next"])
    t.eq([i["person"] for i in p1["items"] + p2["items"]], [i["person"] for i in r["items"]],
         "two pages of four and two")
    t.eq(p2["next"], None, "the end")
    r = g.report("report.people", unit="anling")
    t.eq([i["person"] for i in r["items"]], ["head.anling", "wang.li"], "anling's people")
    r = g.call("report.people", actor="chen.jie", unit="anling")
    t.eq(r.get("error", {}).get("code"), "forbidden", "not tianshi's cadre")


@test("the public commitment list holds each committed case with its plan and commitment")
def _(t):
    g, k = build(t)
    r = g.report("report.commitments", unit="anling")
    t.eq([i["case"] for i in r["items"]], [k["a"], k["p"]], "anling's committed cases")
    a = r["items"][0]
    t.eq((a["lead"], a["lead_name"], a["unit_name"]), ("wang.li", "王立", "下溪村"),
         "the lead and the village by name")
    t.eq((a["measures"], a["schedule"], a["deadline"]), ("repair the road", "by July",
                                                         today(3)), "the plan")
    t.eq((a["committed"], a["venue"], a["ref"]), (today(), "county_news", "县报第12期"),
         "the commitment")
    t.eq(r["next"], None, "one page")
    r = g.report("report.commitments", limit=2)
    t.eq(len(r["items"]), 2, "a page of two")
    r = g.report("report.commitments", after=r["next"])
    t.eq(len(r["items"]), 2, "the rest: four committed cases in all")
    r = g.call("report.commitments", actor="xu.cun")
    t.eq(r["ok"], True, "anyone reads the public list")


@test("reports refuse what they cannot answer and whom they may not tell, and change "
      "nothing")
def _(t):
    g, k = build(t)
    seq = read_log(g.c)[0][-1]["seq"]

    def code(r):
        return (r["ok"], r.get("error", {}).get("code"))

    t.eq(code(g.call("report.units", unit="nowhere")), (False, "not_found"), "unknown unit")
    t.eq(code(g.call("report.units", to=today(1))), (False, "bad_request"), "to in the future")
    t.eq(code(g.call("report.units", **{"from": today(), "to": today(-1)})),
         (False, "bad_request"), "from after to")
    t.eq(code(g.call("report.units", to="2026-02-30")), (False, "bad_request"), "no such day")
    t.eq(code(g.call("report.scorecard")), (False, "bad_request"), "neither person nor unit")
    t.eq(code(g.call("report.scorecard", person="wang.li", unit="anling")),
         (False, "bad_request"), "both")
    t.eq(code(g.call("report.scorecard", person="nobody")), (False, "not_found"), "no person")
    t.eq(code(g.call("report.units", actor="chen.jie", unit="anling")),
         (False, "forbidden"), "tianshi's cadre does not read anling's report")
    t.eq(code(g.call("report.units", actor="head.anling", unit="anling")), (True, None),
         "anling's head does")
    t.eq(code(g.call("report.units", actor="supervisor")), (True, None), "the supervision "
         "office reads the county's")
    t.eq(code(g.call("report.scorecard", actor="chen.jie", person="wang.li")),
         (False, "forbidden"), "nor wang.li's scorecard")
    t.eq(code(g.call("report.scorecard", actor="wang.li", person="wang.li")), (True, None),
         "wang.li reads their own")
    t.eq(read_log(g.c)[0][-1]["seq"], seq, "nothing was written")


@test("reports pipelined past the report thread's queue are refused unavailable at once "
      "and answered when retried; stats counts both; writes go on meanwhile")
def _(t):
    g, k = build(t)
    reqs = [{"op": "report.units", "id": "r%d" % i, "series": True, "sub_units": True}
            for i in range(60)]
    notes = [{"op": "case.note", "id": new_id(), "actor": "wang.li", "case": k["a"],
              "text": "note %d" % i} for i in range(20)]
    with g.d.pipeline(window=80) as p:
        replies = p.run(reqs + notes, timeout=60)
    done = [r for r in replies[:60] if r["ok"]]
    busy = [r for r in replies[:60] if not r["ok"]]
    print("# %d of 60 reports answered at once, %d refused" % (len(done), len(busy)))
    t.check(all(r["error"]["code"] == "unavailable" and "busy" in r["error"]["message"]
                for r in busy), "a refusal says the report thread is busy: %r" % busy[:1])
    t.check(all(r["totals"]["cases"] == 5 for r in done), "each answer is the whole report")
    t.check(all(r["ok"] for r in replies[60:]), "the notes were written meanwhile")
    again = [dict(q) for q in reqs if q["id"] in {r["id"] for r in busy}]
    with g.d.pipeline(window=1) as p:
        retried = p.run(again, timeout=60)
    t.check(all(r["ok"] for r in retried), "each refused report answered when retried")
    st = g.call("stats")
    t.eq((st["reports"], st["reports_refused"]), (60, len(busy)),
         "stats: every report answered once, and the refusals")
    t.check(st["report_us"] > 0, "stats: the time the report thread spent")


if __name__ == "__main__":
    run_tests()
