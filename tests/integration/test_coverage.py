#!/usr/bin/python3
"""
test_coverage.py - campaign.coverage and `nanti coverage` through the real daemon: at each
milestone of the campaign, who has not done their part, per unit.

The county is pyclient's County (build_county()). Its case owners, those the coverage rule
asks for a case (county leaders, leadership members, village-resident cadres), are
county.leader, head.anling, wang.li, head.tianshi, chen.jie and zhao.hua.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyclient import (  # noqa: E402
    ROOT, clock_shim, run_tests, test, today,
)

NANTI = os.path.join(ROOT, "build", "nanti")
OWNERS = {"county.leader", "head.anling", "wang.li", "head.tianshi", "chen.jie", "zhao.hua"}
PLAN = {"measures": "repair the road", "schedule": "by July", "units": ["anling"]}
CONSULT = {"place": "村委会", "residents": 30, "summary": "the residents agree"}


class Ledger:
    """A daemon with the County, and the writes these tests make."""

    def __init__(self, t, env=None):
        self.t = t
        self.d = t.daemon(env=env) if env else t.daemon()
        self.d.build_county()
        self.c = self.d.client()
        t.defer(self.c.close)

    def ok(self, actor, op, **fields):
        r = self.c.write(op, actor=actor, **fields)
        self.t.require(r["ok"], "%s by %s %r: %r" % (op, actor, fields, r))
        return r

    def campaign(self, **dates):
        fields = {"name": "走进矛盾、破解难题", "start": today(-20), "end": today(120)}
        fields.update(dates)
        self.ok("theme", "campaign.set", **fields)

    def open(self, lead, unit):
        return self.ok(lead, "case.open", title="a problem of %s" % lead, area="livelihood",
                       unit=unit)["case"]

    def plan(self, lead, k):
        self.ok(lead, "case.plan", case=k, deadline=today(60), **PLAN)

    def consult(self, lead, k):
        self.ok(lead, "case.consult", case=k, date=today(), **CONSULT)

    def commit(self, lead, k):
        self.ok(lead, "case.commit", case=k, venue="county_news", date=today(), ref="县报")

    def coverage(self, **filters):
        r = self.c.call("campaign.coverage", **filters)
        self.t.require(r["ok"], "campaign.coverage %r: %r" % (filters, r))
        return r


def by_name(reply):
    return {m["milestone"]: m for m in reply["milestones"]}


def missing_people(m):
    return {p["person"] for p in m["missing"]}


def missing_cases(m):
    return {p["person"]: p["cases"] for p in m["missing"]}


@test("coverage lists the case owners without a case and, per milestone, the cases not "
      "yet there, each under its lead and unit")
def _(t):
    g = Ledger(t)
    g.campaign(identify_by=today(), consult_by=today(), plan_by=today(3),
               commit_by=today(10), journal_by=today(100))
    a = g.open("wang.li", "xiaxi")
    b = g.open("chen.jie", "dongcun")
    c = g.open("county.leader", "beijie")
    g.plan("wang.li", a)
    g.consult("wang.li", a)
    g.commit("wang.li", a)
    g.plan("chen.jie", b)

    r = g.coverage()
    t.eq(r["campaign"], "走进矛盾、破解难题", "the campaign's name")
    t.eq(r["today"], today(), "today, in the county's calendar")
    m = by_name(r)
    t.eq([x["milestone"] for x in r["milestones"]],
         ["identify", "consult", "plan", "commit", "journal", "pair", "visit"],
         "the milestones, in order")
    ident = m["identify"]
    t.eq((ident["by"], ident["passed"]), (today(), False), "identify: due today")
    t.eq((ident["expected"], ident["done"]), (6, 3), "identify: six owners, three with a case")
    t.eq(missing_people(ident), {"head.anling", "head.tianshi", "zhao.hua"},
         "identify: the owners without a case")
    t.eq([p["unit"] for p in ident["missing"]], ["anling", "tianshi", "water"],
         "identify: sorted by unit")
    t.eq([p["name"] for p in ident["missing"]], ["安岭乡乡长", "田市镇镇长", "赵华"], "names")
    t.eq(missing_cases(m["consult"]), {"chen.jie": [b], "county.leader": [c]}, "consult")
    t.eq((m["consult"]["expected"], m["consult"]["done"]), (3, 1), "consult counts")
    t.eq(missing_cases(m["plan"]), {"county.leader": [c]}, "plan")
    t.eq(missing_cases(m["commit"]), {"chen.jie": [b], "county.leader": [c]}, "commit")
    t.eq(missing_cases(m["journal"]), {"wang.li": [a], "chen.jie": [b], "county.leader": [c]},
         "journal")
    t.eq(m["journal"]["more"], 0, "nothing left out")
    unit_of = {p["person"]: p["unit"] for p in m["journal"]["missing"]}
    t.eq(unit_of, {"wang.li": "anling", "chen.jie": "tianshi", "county.leader": "county"},
         "each lead under their own unit")

    # one unit with the units below it
    m = by_name(g.coverage(unit="tianshi"))
    t.eq(missing_people(m["identify"]), {"head.tianshi"}, "identify in tianshi")
    t.eq(missing_cases(m["consult"]), {"chen.jie": [b]}, "consult in tianshi")
    t.eq(m["consult"]["expected"], 1, "only tianshi's cases count")
    # one milestone
    r = g.coverage(milestone="plan", unit="county")
    t.eq([x["milestone"] for x in r["milestones"]], ["plan"], "only the plan milestone")
    r = g.c.call("campaign.coverage", unit="nowhere")
    t.eq((r["ok"], r.get("error", {}).get("code")), (False, "not_found"), "an unknown unit")
    r = g.c.call("campaign.coverage", milestone="lunch")
    t.eq((r["ok"], r.get("error", {}).get("code")), (False, "bad_request"),
         "an unknown milestone")


@test("a step recorded after its milestone's date stays missing at that milestone, and "
      "a passed milestone says so")
def _(t):
    lib = clock_shim(t)
    g = Ledger(t)
    g.campaign(identify_by=today(), consult_by=today(), plan_by=today(1),
               commit_by=today(10), journal_by=today(100))
    a = g.open("wang.li", "xiaxi")
    g.plan("wang.li", a)
    # three days later for the daemon
    g.c.close()
    g.d.stop()
    g.d.env = {"LD_PRELOAD": lib, "NANTI_TEST_SHIFT_S": str(3 * 86400)}
    g.d.restart()
    g.c = g.d.client()
    t.defer(g.c.close)
    t.check(g.c.call("ping")["now"] > (time.time() + 2.5 * 86400) * 1000,
            "the daemon's clock moved on")
    b = g.open("chen.jie", "dongcun")      # a case, but after identify_by
    g.consult("wang.li", a)               # a first consultation, but after consult_by
    m = by_name(g.coverage())
    t.eq((m["identify"]["passed"], m["consult"]["passed"], m["plan"]["passed"],
          m["commit"]["passed"]), (True, True, True, False), "which milestones have passed")
    t.check("chen.jie" in missing_people(m["identify"]), "chen.jie's case came too late")
    t.check("wang.li" not in missing_people(m["identify"]), "wang.li's came in time")
    t.eq(missing_cases(m["consult"]), {"wang.li": [a], "chen.jie": [b]},
         "a late consultation still misses the milestone")
    t.eq(missing_cases(m["plan"]), {"chen.jie": [b]}, "a's plan was in time")


@test("without a campaign the milestones have no dates and count what is done at all")
def _(t):
    g = Ledger(t)
    a = g.open("wang.li", "xiaxi")
    g.plan("wang.li", a)
    r = g.coverage()
    t.eq(r["campaign"], None, "no campaign")
    m = by_name(r)
    t.eq([m[k]["by"] for k in ("identify", "consult", "plan", "commit", "journal")],
         [None] * 5, "no dates")
    t.eq(m["plan"]["missing"], [], "the plan is done")
    t.eq(missing_cases(m["consult"]), {"wang.li": [a]}, "no consultation yet")
    t.eq(len(m["identify"]["missing"]), 5, "five owners without a case")


def nanti(d, *args):
    return subprocess.run([NANTI, "--runtime-dir", d.run_dir, "--actor", "theme"] + list(args),
                          capture_output=True, text=True, timeout=30)


@test("nanti coverage prints each milestone with its date and counts, and who is missing "
      "by unit")
def _(t):
    g = Ledger(t)
    g.campaign(identify_by=today(), consult_by=today(), plan_by=today(3),
               commit_by=today(10), journal_by=today(100))
    a = g.open("wang.li", "xiaxi")
    r = nanti(g.d, "coverage")
    t.eq(r.returncode, 0, "exit status: %s" % r.stderr)
    out = r.stdout
    t.check(out.startswith("campaign 走进矛盾、破解难题, today %s" % today()), out[:80])
    t.check("identify  due %s: 1 of 6 done; 5 missing" % today() in out, out)
    t.check("head.tianshi" in out and "田市镇镇长" in out, "an owner without a case")
    t.check(any(line.split()[:2] == ["anling", "wang.li"] and line.endswith("case %d" % a)
                for line in out.splitlines()), "wang.li's case under anling:\n" + out)
    r = nanti(g.d, "coverage", "--milestone", "plan", "--unit", "anling")
    t.eq(r.returncode, 0, "exit status: %s" % r.stderr)
    t.check("identify" not in r.stdout and "plan      due" in r.stdout, r.stdout)
    r = nanti(g.d, "--json", "coverage")
    t.eq(r.returncode, 0, "exit status")
    t.eq(len(json.loads(r.stdout)["milestones"]), 7, "--json prints the reply")
    r = nanti(g.d, "coverage", "--unit", "nowhere")
    t.eq(r.returncode, 1, "an unknown unit is refused by the daemon")
    t.check("no unit 'nowhere'" in r.stderr, r.stderr)
    r = nanti(g.d, "coverage", "--milestone", "lunch")
    t.eq(r.returncode, 2, "an unknown milestone is a usage error")


if __name__ == "__main__":
    run_tests()
