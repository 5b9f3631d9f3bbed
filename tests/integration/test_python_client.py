"""
The independent-client test: pyclient.py was written from docs/protocol.md alone, and
here it exercises every op, reply key and error code the document promises, against the
real daemon on a fresh directory per test. A failure here means the daemon and the
document disagree (or the document is ambiguous): fix whichever is wrong, not the test.

Most tests first build pyclient's shared county (build_county(): units and people of every
role, through unit.put and person.put), so the ledger's first seqs belong to it: seqs are
checked relative to base, the last seq of the county. The rules of the procedure (who may,
from which step, with which evidence) are tested in test_workflow.py; this file tests the
wire: keys, types, limits, replies, the log, idempotency, notifications.
"""

import os
import re
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import zmq  # noqa: E402

from pyclient import (  # noqa: E402
    AREAS, CASE_KINDS, READ_OPS, ROLES, WRITE_OPS, County, Pipeline, ReqClient, Subscriber,
    curve_client, free_port_pair,
    build_county, case_history, check_reply, context, decode, encode, error_code, list_cases,
    mp_int, mp_map_raw, mp_uint, new_id, now_ms, person_put_req, read_log, run_tests, test,
    today, unit_put_req, valid_id)

ACTOR = County.CADRE            # wang.li, of anling
UNIT = "xiaxi"                  # a village of anling
AREA = "development"


def ping_seq(c):
    r = c.call("ping")
    assert r["ok"], r
    return r["seq"]


def county(t, **kw):
    """A daemon with the shared county; returns (daemon, base seq)."""
    d = t.daemon(**kw)
    return d, d.build_county().seq


def open_fields(fields):
    fields = dict(fields)
    fields.setdefault("title", "Village road to Xiaxi washed out")
    fields.setdefault("area", AREA)
    fields.setdefault("unit", UNIT)
    return fields


def open_case(c, actor=ACTOR, **fields):
    r = c.write("case.open", actor=actor, **open_fields(fields))
    assert r["ok"], r
    return r


def note(c, case, text="visited the site", actor=ACTOR):
    r = c.write("case.note", actor=actor, case=case, text=text)
    assert r["ok"], r
    return r


def expect_error(t, c, req, code, what, names=None):
    """Send req, check the reply is an error with code, echoes a valid id, names the
    problem (the message mentions names, if given), and that the ledger did not move."""
    before = ping_seq(c)
    r = c.request(req)
    ok = t.check(not r["ok"] and error_code(r) == code,
                 "%s: want %s, got %r" % (what, code, r))
    if ok and names is not None:
        ok &= t.check(names in r["error"]["message"],
                      "%s: the message does not name %r: %r" % (what, names, r))
    if valid_id(req.get("id")):
        ok &= t.check(r.get("id") == req["id"], "%s: id not echoed: %r" % (what, r))
    ok &= t.check(ping_seq(c) == before, "%s: the ledger moved" % what)
    return ok


def wreq(op, **fields):
    req = {"op": op, "id": new_id(), "actor": ACTOR}
    req.update(fields)
    return req


def oreq(**fields):
    """A case.open request: the required keys filled unless given."""
    return wreq("case.open", **open_fields(fields))


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def sane_ms(v):
    return is_int(v) and abs(v - now_ms()) < 24 * 3600 * 1000


def expect_code(t, r, code, what):
    return t.check(not r["ok"] and error_code(r) == code, "%s: want %s, got %r" % (what, code, r))


# ---------------------------------------------------------------------------------------
# ping, stats

@test("ping on an empty ledger answers seq 0, a version and the time")
def _(t):
    d = t.daemon()
    with d.client() as c:
        r = c.call("ping")
        t.check(r["ok"], r)
        t.eq(r.get("seq"), 0, "seq")
        t.check(isinstance(r.get("version"), str) and r["version"] != "",
                "version: %r" % r.get("version"))
        t.check(sane_ms(r.get("now")), "now is not Unix ms: %r" % r.get("now"))
        t.check("id" not in r, "id in the reply of a request without one: %r" % r)
        t.check("duplicate" not in r, "duplicate in a ping reply: %r" % r)


@test("stats answers seq, cases, commits, events, last_commit_us and uptime_ms")
def _(t):
    d = t.daemon()
    with d.client() as c:
        r = c.call("stats")
        t.check(r["ok"], r)
        for k in ("seq", "cases", "commits", "events", "last_commit_us", "commit_us",
                  "uptime_ms"):
            t.check(is_int(r.get(k)) and r[k] >= 0, "stats.%s: %r" % (k, r.get(k)))
        t.eq(r.get("cases"), 0, "cases on an empty ledger")
        t.eq(r.get("events"), 0, "events on an empty ledger")
        base = build_county(c).seq
        r = c.call("stats")
        t.eq(r.get("events"), base, "events after building the county")
        t.eq(r.get("cases"), 0, "cases after building the county")
        commits0 = r.get("commits", 0)
        a = open_case(c)
        note(c, a["case"])
        open_case(c)
        r = c.call("stats")
        t.eq(r.get("seq"), base + 3, "seq")
        t.eq(r.get("cases"), 2, "cases")
        t.eq(r.get("events"), base + 3, "events")
        t.check(is_int(r.get("commits")) and 1 <= r["commits"] - commits0 <= 3,
                "commits went from %r to %r over 3 sequential writes"
                % (commits0, r.get("commits")))


# ---------------------------------------------------------------------------------------
# units, people, the campaign

@test("unit.put and person.put answer the id and changed, and unit.get and person.get "
      "return every documented key")
def _(t):
    d = t.daemon()
    with d.client() as c:
        before = now_ms()
        r = c.request(unit_put_req("county", "示范县", "county"))
        t.eq({k: r.get(k) for k in ("ok", "seq", "unit", "changed")},
             {"ok": True, "seq": 1, "unit": "county", "changed": True}, "unit.put reply")
        r = c.request(person_put_req("admin", "管理员", "county", ["admin"]))
        t.eq({k: r.get(k) for k in ("ok", "seq", "person", "changed")},
             {"ok": True, "seq": 2, "person": "admin", "changed": True}, "person.put reply")
        c.request(unit_put_req("anling", "安岭乡", "township", "county"))
        c.request(unit_put_req("xiaxi", "下溪村", "village", "anling"))
        r = c.request(person_put_req("zhao.hua", "赵华", "anling",
                                     ["resident_cadre", "cadre"], "xiaxi"))
        t.check(r["ok"], r)
        after = now_ms()
        g = c.call("unit.get", unit="xiaxi")
        t.check(g["ok"], g)
        t.eq(g.get("seq"), 5, "seq of unit.get")
        u = g.get("unit", {})
        t.eq({k: u.get(k) for k in ("unit", "name", "kind", "parent", "created_seq",
                                     "updated_seq")},
             {"unit": "xiaxi", "name": "下溪村", "kind": "village", "parent": "anling",
              "created_seq": 4, "updated_seq": 4}, "unit")
        t.check(is_int(u.get("created_at")) and before - 1000 <= u["created_at"] <= after + 1000,
                "created_at: %r" % u.get("created_at"))
        t.eq(u.get("updated_at"), u.get("created_at"), "updated_at of an unchanged unit")
        cu = c.call("unit.get", unit="county")["unit"]
        t.check("parent" not in cu, "the county has a parent: %r" % cu)
        p = c.call("person.get", person="zhao.hua").get("person", {})
        t.eq({k: p.get(k) for k in ("person", "name", "unit", "roles", "village",
                                     "created_seq", "updated_seq")},
             {"person": "zhao.hua", "name": "赵华", "unit": "anling",
              "roles": ["cadre", "resident_cadre"], "village": "xiaxi", "created_seq": 5,
              "updated_seq": 5}, "person (roles in the documented order)")
        t.check(sane_ms(p.get("created_at")) and p.get("updated_at") == p["created_at"],
                "person times: %r" % p)
        a = c.call("person.get", person="admin")["person"]
        t.check("village" not in a, "village present for a person without one: %r" % a)
        # a change: updated_* move, created_* stay
        r = c.request(unit_put_req("xiaxi", "下溪行政村", "village", "anling"))
        t.eq((r.get("seq"), r.get("changed")), (6, True), "renaming a unit")
        u2 = c.call("unit.get", unit="xiaxi")["unit"]
        t.eq((u2.get("name"), u2.get("created_seq"), u2.get("updated_seq")),
             ("下溪行政村", 4, 6), "(name, created_seq, updated_seq) after the rename")
        expect_error(t, c, {"op": "unit.get", "unit": "nowhere"}, "not_found", "unit.get",
                     names="nowhere")
        expect_error(t, c, {"op": "person.get", "person": "nobody"}, "not_found",
                     "person.get", names="nobody")


@test("unit.put and person.put of a record exactly as it is reply changed:false with the "
      "last seq and write no log entry")
def _(t):
    d, base = county(t)
    with d.client() as c:
        for req in (unit_put_req(*County.UNITS[5]), person_put_req(*County.PEOPLE[10]),
                    unit_put_req(*County.UNITS[0][:3]),
                    person_put_req("zhao.hua", "赵华", "water", ["resident_cadre", "cadre"],
                                   "dongcun")):
            r = c.request(req)
            t.eq({k: r.get(k) for k in ("ok", "seq", "changed")},
                 {"ok": True, "seq": base, "changed": False}, "%s %s" % (req["op"], req))
            t.check("duplicate" not in r, "a first reply with duplicate: %r" % r)
            t.eq(c.request(req), dict(r, duplicate=True), "the same request again")
        t.eq(ping_seq(c), base, "seq")
        items, _ = read_log(c)
        t.eq(len(items), base, "log entries")
        t.eq(build_county(c).ids, [], "building the county again wrote entries")
        t.eq(ping_seq(c), base, "seq after building the county again")


@test("log entries of unit.put and person.put carry the record's summary")
def _(t):
    d = t.daemon()
    with d.client() as c:
        r1 = c.request(unit_put_req("county", "示范县", "county"))
        r2 = c.request(person_put_req("admin", "管理员", "county", ["admin"]))
        r3 = c.request(unit_put_req("anling", "安岭乡", "township", "county"))
        r4 = c.request(unit_put_req("anling", "安岭镇", "township", "county"))
        r5 = c.request(unit_put_req("xiaxi", "下溪村", "village", "anling"))
        r6 = c.request(person_put_req("zhao.hua", "赵华", "anling", ["resident_cadre"],
                                      "xiaxi"))
        r7 = c.request(person_put_req("zhao.hua", "赵华", "anling", ["cadre"]))
        items, _ = read_log(c)
        t.require(len(items) == 7, "log of %d entries" % len(items))
        common = ("seq", "topic", "actor", "id")
        want = [
            (r1, "unit.created", {"unit": "county", "name": "示范县", "kind": "county"}),
            (r2, "person.created", {"person": "admin", "name": "管理员", "unit": "county",
                                    "roles": ["admin"]}),
            (r3, "unit.created", {"unit": "anling", "name": "安岭乡", "kind": "township",
                                  "parent": "county"}),
            (r4, "unit.updated", {"unit": "anling", "name": "安岭镇", "kind": "township",
                                  "parent": "county"}),
            (r5, "unit.created", {"unit": "xiaxi", "name": "下溪村", "kind": "village",
                                  "parent": "anling"}),
            (r6, "person.created", {"person": "zhao.hua", "name": "赵华", "unit": "anling",
                                    "roles": ["resident_cadre"], "village": "xiaxi"}),
            (r7, "person.updated", {"person": "zhao.hua", "name": "赵华", "unit": "anling",
                                    "roles": ["cadre"]}),
        ]
        for e, (r, topic, keys) in zip(items, want):
            t.eq({k: e.get(k) for k in common},
                 {"seq": r["seq"], "topic": topic, "actor": "admin", "id": r["id"]},
                 "common keys of %d" % r["seq"])
            t.eq({k: e.get(k) for k in keys}, keys, "keys of %s %d" % (topic, r["seq"]))
            t.check("case" not in e, "a %s entry with case: %r" % (topic, e))
            t.check("parent" in e or "parent" not in keys, "parent of %r" % e)
            t.check("village" in keys or "village" not in e, "village in %r" % e)
            t.check(sane_ms(e.get("at")), "at of %r" % e)


@test("unit.list and person.list page in id order and filter by parent, kind, unit, role "
      "and within")
def _(t):
    d, base = county(t)
    with d.client() as c:
        def pages(op, **filters):
            items, after, n = [], None, 0
            while True:
                req = {"op": op, "limit": 2}
                req.update(filters)
                if after is not None:
                    req["after"] = after
                r = c.request(req)
                t.require(r["ok"], r)
                t.check(len(r["items"]) <= 2, "a page over the limit")
                items += r["items"]
                n += 1
                if r["next"] is None:
                    return items
                t.require(isinstance(r["next"], str) and n < 50, "next %r" % r["next"])
                after = r["next"]

        units = pages("unit.list")
        t.eq([u["unit"] for u in units], sorted(u[0] for u in County.UNITS), "every unit")
        for u in units:
            want = County().unit(u["unit"])
            t.eq(u, dict({"unit": want[0], "name": want[1], "kind": want[2]},
                         **({"parent": want[3]} if want[3] else {})),
                 "summary of %s" % u["unit"])
        t.eq([u["unit"] for u in pages("unit.list", parent="anling")], ["shangxi", "xiaxi"],
             "parent anling")
        t.eq([u["unit"] for u in pages("unit.list", kind="village")],
             ["beijie", "dongcun", "shangxi", "xiaxi"], "kind village")
        t.eq([u["unit"] for u in pages("unit.list", within="anling")],
             ["anling", "shangxi", "xiaxi"], "within anling")
        t.eq(len(pages("unit.list", within="county")), len(County.UNITS), "within the county")
        r = c.call("unit.list")
        t.eq((len(r["items"]), r["next"]), (len(County.UNITS), None), "default limit")
        r = c.call("unit.list", after="tianshi")
        t.eq([u["unit"] for u in r["items"]], ["water", "xiaxi"], "after tianshi")
        people = pages("person.list")
        t.eq([p["person"] for p in people], sorted(p[0] for p in County.PEOPLE), "every person")
        for p in people:
            want = County().person(p["person"])
            t.eq(p.get("name"), want[1], "name of %s" % p["person"])
            t.eq(p.get("unit"), want[2], "unit of %s" % p["person"])
            t.eq(sorted(p.get("roles", [])), sorted(want[3]), "roles of %s" % p["person"])
            t.eq(p.get("village"), want[4], "village of %s" % p["person"])
        t.eq([p["person"] for p in pages("person.list", unit="anling")],
             ["head.anling", "li.ming", "wang.li"], "unit anling")
        t.eq([p["person"] for p in pages("person.list", within="anling")],
             ["head.anling", "li.ming", "wang.li", "xu.cun"], "within anling")
        t.eq([p["person"] for p in pages("person.list", role="unit_head")],
             ["head.anling", "head.tianshi"], "role unit_head")
        t.eq([p["person"] for p in pages("person.list", role="leader", within="tianshi")],
             ["chen.jie", "head.tianshi"], "role and within together")
        t.eq(pages("person.list", unit="beijie"), [], "a unit with nobody")
        t.eq(c.call("person.list").get("seq"), base, "seq of person.list")


@test("campaign.set replaces the campaign as a whole and campaign.get shows it with its "
      "threshold")
def _(t):
    # dates next year: milestones that have not passed (their chases do not fire here)
    Y = str(int(today()[:4]) + 1)
    d, base = county(t)
    with d.client() as c:
        r = c.call("campaign.get")
        t.eq({k: r.get(k) for k in ("ok", "seq", "campaign", "threshold")},
             {"ok": True, "seq": base, "campaign": None, "threshold": 80},
             "campaign.get before any campaign")
        s = c.write("campaign.set", actor=County.THEME, name="走进矛盾、破解难题",
                    start=Y + "-05-25", end=Y + "-09-30", identify_by=Y + "-06-08",
                    consult_by=Y + "-06-10", plan_by=Y + "-06-13", commit_by=Y + "-06-20",
                    journal_by=Y + "-09-30", threshold=85)
        t.eq({k: s.get(k) for k in ("ok", "seq", "name")},
             {"ok": True, "seq": base + 1, "name": "走进矛盾、破解难题"}, "campaign.set reply")
        g = c.call("campaign.get")
        want = {"name": "走进矛盾、破解难题", "start": Y + "-05-25", "end": Y + "-09-30",
                "identify_by": Y + "-06-08", "consult_by": Y + "-06-10",
                "plan_by": Y + "-06-13", "commit_by": Y + "-06-20",
                "journal_by": Y + "-09-30", "threshold": 85, "set_seq": base + 1}
        t.eq({k: (g.get("campaign") or {}).get(k) for k in want}, want, "the campaign")
        t.check(sane_ms((g.get("campaign") or {}).get("set_at")), "set_at: %r" % g)
        t.eq(g.get("threshold"), 85, "threshold in force")
        e = c.call("log.read", after=base)["items"][0]
        t.eq({k: e.get(k) for k in want}, want, "the campaign.set entry")
        t.eq((e.get("topic"), e.get("actor"), e.get("id")),
             ("campaign.set", County.THEME, s["id"]), "topic, actor, id of the entry")
        t.check("case" not in e, "case in a campaign.set entry: %r" % e)
        # again, by an admin, with less: the rest is cleared, the threshold back to 80
        s2 = c.write("campaign.set", actor=County.ADMIN, name="第二期", start=Y + "-10-01",
                     end=Y + "-12-31")
        t.eq(s2.get("seq"), base + 2, "seq of the second campaign.set")
        g = c.call("campaign.get")
        t.eq({k: v for k, v in g["campaign"].items() if k not in ("set_at",)},
             {"name": "第二期", "start": Y + "-10-01", "end": Y + "-12-31", "threshold": 80,
              "set_seq": base + 2}, "the replaced campaign")
        t.eq(g.get("threshold"), 80, "threshold back to the default")
        # the same campaign again still writes an entry (there is no changed:false here)
        s3 = c.write("campaign.set", actor=County.ADMIN, name="第二期", start=Y + "-10-01",
                     end=Y + "-12-31")
        t.eq((s3.get("seq"), "changed" in s3), (base + 3, False), "the same campaign again")
        for req, code, what, names in (
                (dict(wreq("campaign.set", name="x", start=Y + "-06-01", end=Y + "-05-31"),
                      actor=County.THEME), "bad_request", "end before start", None),
                (dict(wreq("campaign.set", name="x", start=Y + "-06-01", end=Y + "-07-01",
                           plan_by=Y + "-07-02"), actor=County.THEME),
                 "bad_request", "plan_by after the end", "plan_by"),
                (dict(wreq("campaign.set", name="x", start=Y + "-06-01", end=Y + "-07-01",
                           identify_by=Y + "-05-31"), actor=County.THEME),
                 "bad_request", "identify_by before the start", "identify_by"),
                (dict(wreq("campaign.set", name="x", start=Y + "-06-01", end=Y + "-07-01"),
                      actor=County.CADRE), "forbidden", "a cadre", None),
                (dict(wreq("campaign.set", name="x", start=Y + "-06-01", end=Y + "-07-01"),
                      actor="ghost"), "forbidden", "an unknown actor", "ghost"),
                (dict(wreq("campaign.set", name="x", start=Y + "-06-01", end=Y + "-07-01",
                           threshold=101), actor=County.THEME), "bad_request",
                 "threshold 101", "threshold")):
            expect_error(t, c, req, code, what, names)
        r = c.write("campaign.set", actor=County.THEME, name="x", start=Y + "-06-01",
                    end=Y + "-06-01", threshold=0, plan_by=Y + "-06-01")
        t.check(r["ok"], "a one-day campaign with threshold 0: %r" % r)


# ---------------------------------------------------------------------------------------
# case.open, case.note, case.get

@test("case.open answers seq, id, case and step, and case ids go 1, 2, 3 in order of "
      "opening")
def _(t):
    d, base = county(t)
    with d.client() as c:
        for i in range(1, 6):
            rid = new_id()
            r = c.write("case.open", id=rid, **open_fields({"title": "problem %d" % i}))
            t.check(r["ok"], r)
            t.eq(r.get("id"), rid, "echoed id")
            t.eq(r.get("case"), i, "case id of opening %d" % i)
            t.eq(r.get("seq"), base + i, "seq of opening %d" % i)
            t.eq(r.get("step"), "identified", "step of opening %d" % i)
            t.check("duplicate" not in r, "duplicate in a first reply: %r" % r)
        t.eq(ping_seq(c), base + 5, "ping seq")


@test("case.open fills the defaults: kind problem, lead the actor, step identified, "
      "empty keys omitted")
def _(t):
    d, base = county(t)
    with d.client() as c:
        r = open_case(c, actor="li.ming", title="School roof leaks", unit="shangxi",
                      area="livelihood")
        g = c.call("case.get", case=r["case"])
        t.check(g["ok"], g)
        cs = g["case"]
        want = {"case": r["case"], "kind": "problem", "area": "livelihood",
                "title": "School roof leaks", "unit": "shangxi", "lead": "li.ming",
                "step": "identified", "opened_by": "li.ming", "opened_seq": base + 1,
                "updated_seq": base + 1, "events": 1, "consultations": 0,
                "consultations_after": 0, "coordinations": 0, "outcomes": 0, "redos": 0}
        for k, v in want.items():
            t.eq(cs.get(k), v, "case." + k)
        for k in ("source", "description", "units", "tags", "deadline", "reopens",
                  "escalations", "planned_at", "first_consulted_at", "committed_at",
                  "resolved_at", "journaled_at", "crossed_at", "plan_seq", "commit_seq",
                  "journal_seq", "satisfied", "basically_satisfied", "dissatisfied", "taker",
                  "promise_kept", "stable", "repeats", "skip_level_repeats"):
            t.check(k not in cs, "%s present though empty: %r" % (k, cs.get(k)))
        t.eq(g.get("satisfaction"), None, "satisfaction before any journal")


@test("case.get returns every documented key of the case, its history and satisfaction")
def _(t):
    d, base = county(t)
    with d.client() as c:
        before = now_ms()
        deadline = today(30)
        r = open_case(c, title="Petition backlog at 田市镇", description="three families",
                      kind="petition", area="livelihood", source="letters_visits",
                      unit="dongcun", lead="chen.jie", units=["tianshi", "water"],
                      deadline=deadline, tags=["信访", "land"], taker="head.tianshi",
                      actor=County.THEME)
        after = now_ms()
        t.eq((r.get("case"), r.get("step")), (1, "identified"), "(case, step)")
        g = c.call("case.get", case=r["case"])
        t.check(g["ok"], g)
        t.eq(g.get("seq"), base + 1, "seq of the read")
        cs = g["case"]
        want = {"case": 1, "kind": "petition", "area": "livelihood", "source": "letters_visits",
                "title": "Petition backlog at 田市镇", "description": "three families",
                "unit": "dongcun", "lead": "chen.jie", "units": ["tianshi", "water"],
                "tags": ["信访", "land"], "deadline": deadline, "step": "identified",
                "opened_by": County.THEME, "opened_seq": base + 1, "updated_seq": base + 1,
                "events": 1, "taker": "head.tianshi", "redos": 0}
        for k, v in want.items():
            t.eq(cs.get(k), v, "case." + k)
        t.check(is_int(cs.get("opened_at")) and before - 1000 <= cs["opened_at"] <= after + 1000,
                "opened_at %r not between %d and %d" % (cs.get("opened_at"), before, after))
        t.eq(cs.get("updated_at"), cs.get("opened_at"), "updated_at of an untouched case")
        t.eq(g.get("next"), None, "next of a short history")
        t.eq(g.get("satisfaction"), None, "satisfaction")
        h = g.get("history", [])
        t.eq([e.get("topic") for e in h], ["case.opened"], "history")
        if h:
            t.eq(h[0], c.call("log.read", after=base, limit=1)["items"][0],
                 "the history entry is the log entry")
            # the case.opened entry carries the whole case but its key
            t.eq({k: h[0].get(k) for k in cs if k != "case"},
                 {k: v for k, v in cs.items() if k != "case"}, "case.opened entry vs the case")
            t.eq(h[0].get("case"), 1, "the entry's case")


@test("case.note adds to the case's history, which case.get returns in seq order")
def _(t):
    d, base = county(t)
    with d.client() as c:
        a = open_case(c)["case"]
        b = open_case(c)["case"]
        n1 = c.write("case.note", case=a, text="first on a")
        t.check(n1["ok"], n1)
        t.eq((n1.get("case"), n1.get("step"), n1.get("seq")), (a, "identified", base + 3),
             "(case, step, seq)")
        n2 = c.write("case.note", actor="li.ming", case=b, text="first on b")
        t.eq((n2.get("case"), n2.get("seq")), (b, base + 4), "(case, seq) on b")
        n3 = c.write("case.note", actor=County.SUPERVISION, case=a, text="second on a")
        t.check(isinstance(n3.get("id"), str), "case.note reply without id: %r" % n3)
        g = c.call("case.get", case=a)
        cs = g["case"]
        t.eq(cs.get("events"), 3, "events")
        t.eq(cs.get("updated_seq"), n3["seq"], "updated_seq")
        t.check(cs.get("updated_at", 0) >= cs.get("opened_at", 1), "updated_at < opened_at")
        h = g.get("history", [])
        t.eq([e.get("topic") for e in h], ["case.opened", "case.noted", "case.noted"], "topics")
        t.eq([e.get("seq") for e in h], [base + 1, n1["seq"], n3["seq"]], "seqs")
        t.eq([(e.get("actor"), e.get("text"), e.get("step")) for e in h[1:]],
             [(ACTOR, "first on a", "identified"),
              (County.SUPERVISION, "second on a", "identified")], "(actor, text, step)")
        for e in h:
            t.eq(e.get("case"), a, "case of %r" % e)
            t.check(sane_ms(e.get("at")), "at: %r" % e.get("at"))
        hb = c.call("case.get", case=b)["history"]
        t.eq([(e.get("topic"), e.get("actor")) for e in hb],
             [("case.opened", ACTOR), ("case.noted", "li.ming")], "history of b")


@test("case.get pages through a long history with after and limit")
def _(t):
    d, base = county(t)
    with d.client() as c, d.pipeline(window=20) as p:
        k = open_case(c)["case"]
        other = open_case(c)["case"]
        reqs = [wreq("case.note", case=(k if i % 4 else other), text="note %d" % i)
                for i in range(1, 141)]
        reps = p.run(reqs)
        t.require(all(r["ok"] for r in reps), "a note failed")
        mine = [r["seq"] for q, r in zip(reqs, reps) if q["case"] == k]
        g = c.call("case.get", case=k)
        t.eq([e["seq"] for e in g["history"]], [base + 1] + sorted(mine), "whole history")
        t.eq(g.get("next"), None, "next")
        t.eq(g["case"].get("events"), 1 + len(mine), "events")
        g = c.call("case.get", case=k, limit=50)
        t.eq(len(g["history"]), 50, "a page of 50")
        t.eq(g.get("next"), g["history"][-1]["seq"], "next is the last seq of the page")
        g2 = c.call("case.get", case=k, after=g["next"], limit=50)
        t.eq(g2["history"][0]["seq"], ([base + 1] + sorted(mine))[50], "the second page")
        _, h = case_history(c, k, limit=7)
        t.eq([e["seq"] for e in h], [base + 1] + sorted(mine), "paged by 7")
        by_seq = {r["seq"]: q for q, r in zip(reqs, reps)}
        t.check(all(e.get("text") == by_seq[e["seq"]]["text"] for e in h[1:]),
                "note texts do not match their seqs")
        g = c.call("case.get", case=k, after=2 ** 64 - 1)
        t.eq((g.get("history"), g.get("next")), ([], None), "after the largest seq")
        t.eq(g["case"].get("case"), k, "the case with an empty page")


@test("a missing case is not_found for case.get and the case ops, with the id echoed")
def _(t):
    d, base = county(t)
    with d.client() as c:
        expect_error(t, c, {"op": "case.get", "case": 1}, "not_found", "get on no case",
                     names="1")
        open_case(c)
        expect_error(t, c, {"op": "case.get", "case": 2, "id": new_id()}, "not_found",
                     "get of case 2")
        expect_error(t, c, wreq("case.note", case=42, text="x"), "not_found", "note on 42",
                     names="42")
        expect_error(t, c, wreq("case.note", case=2 ** 64 - 1, text="x"), "not_found",
                     "note on 2^64-1")
        expect_error(t, c, wreq("case.resolve", case=7, summary="x"), "not_found",
                     "resolve of 7")
        expect_error(t, c, dict(wreq("case.verify", case=7, verdict="cross_off"),
                                actor=County.THEME), "not_found", "verify of 7")


@test("an unknown op is unknown_op with the id echoed")
def _(t):
    d = t.daemon()
    with d.client() as c:
        expect_error(t, c, wreq("case.close", case=1), "unknown_op", "case.close")
        expect_error(t, c, {"op": "no.such.op", "id": new_id()}, "unknown_op", "no.such.op")
        expect_error(t, c, {"op": "PING"}, "unknown_op", "PING")
        expect_error(t, c, wreq("unit.delete", unit="x"), "unknown_op", "unit.delete")
        for op in WRITE_OPS + READ_OPS:
            r = c.request({"op": op, "zz": 1})
            t.check(error_code(r) != "unknown_op", "%s is unknown: %r" % (op, r))


# ---------------------------------------------------------------------------------------
# bad_request

@test("an unknown key is bad_request for every op")
def _(t):
    d, base = county(t)
    with d.client() as c:
        k = open_case(c)["case"]
        for req in ({"op": "ping", "x": 1},
                    {"op": "stats", "verbose": True},
                    {"op": "unit.get", "unit": "anling", "deep": True},
                    {"op": "unit.list", "offset": 0},
                    {"op": "person.get", "person": "admin", "x": 1},
                    {"op": "person.list", "village": "xiaxi"},
                    {"op": "campaign.get", "x": 1},
                    dict(unit_put_req("x1", "x", "village", "anling"), id=new_id(), level=3),
                    dict(person_put_req("p1", "p", "anling", ["cadre"]), phone="1"),
                    dict(wreq("campaign.set", name="c", start="2026-06-01", end="2026-07-01",
                              year=2026), actor=County.THEME),
                    oreq(status="open"),
                    wreq("case.plan", case=k, measures="m", schedule="s", deadline=today(9),
                         units=["anling"], budget=1),
                    wreq("case.consult", case=k, date=today(), place="p", residents=1,
                         summary="s", minutes="m"),
                    wreq("case.commit", case=k, venue="county_news", date=today(), ref="r",
                         page=1),
                    wreq("case.coordinate", case=k, form="team", date=today(), summary="s",
                         leader="x"),
                    wreq("case.resolve", case=k, summary="s", at=0),
                    wreq("case.journal", case=k, process="p", result="r", satisfied=1,
                         basically_satisfied=0, dissatisfied=0, rate=100),
                    wreq("case.outcome", case=k, rule="r", kind="rule"),
                    wreq("case.verify", case=k, verdict="cross_off", score=1),
                    wreq("case.reopen", case=k, reason="r", step="planned"),
                    wreq("case.reassign", case=k, lead="li.ming", reason="r", unit="x"),
                    wreq("case.note", case=k, text="t", note=1),
                    wreq("case.escalate", case=k, reason="r", level=2),
                    wreq("case.guarantee", case=k, stable=True, control=True),
                    wreq("case.repeat", case=k, skip_level=False, summary="s", count=2),
                    {"op": "case.get", "case": k, "notes": 5},
                    {"op": "case.list", "status": "open"},
                    {"op": "log.read", "before": 10},
                    {"op": "ping", "id": new_id(), "Actor": "x"}):
            expect_error(t, c, req, "bad_request", "unknown key in %s" % req["op"])


@test("a value of the wrong type is bad_request")
def _(t):
    d, base = county(t)
    with d.client() as c:
        k = open_case(c)["case"]
        cases = [
            ({"op": 1}, "op int"),
            ({"op": b"ping"}, "op bin"),
            ({"op": "ping", "id": 5}, "id int"),
            (dict(oreq(title="t"), actor=["wang"]), "actor array"),
            (oreq(title=5), "title int"),
            (oreq(title=b"bytes"), "title bin"),
            (oreq(title=None), "title nil"),
            (oreq(tags="one"), "tags str"),
            (oreq(tags=["a", 2]), "tags with an int"),
            (oreq(description=1.5), "description float"),
            (oreq(unit={"a": 1}), "unit map"),
            (oreq(unit=5), "unit int"),
            (oreq(area=1), "area int"),
            (oreq(units="anling"), "units str"),
            (oreq(units=["anling", 1]), "units with an int"),
            (oreq(deadline=20260613), "deadline int"),
            (oreq(lead=["wang.li"]), "lead array"),
            (wreq("case.note", case=str(k), text="t"), "case str"),
            (wreq("case.note", case=1.0, text="t"), "case float"),
            (wreq("case.note", case=True, text="t"), "case bool"),
            (wreq("case.note", case=k, text=["t"]), "text array"),
            (wreq("case.consult", case=k, date=today(), place="p", residents="12",
                  summary="s"), "residents str"),
            (wreq("case.guarantee", case=k, stable="yes"), "stable str"),
            (wreq("case.guarantee", case=k, promise_kept=1), "promise_kept int"),
            (wreq("case.repeat", case=k, skip_level=None, summary="s"), "skip_level nil"),
            (dict(person_put_req("p1", "p", "anling", "cadre")), "roles str"),
            (dict(person_put_req("p1", "p", "anling", [["cadre"]])), "roles nested"),
            ({"op": "case.get", "case": "1"}, "case.get case str"),
            ({"op": "unit.get", "unit": 1}, "unit.get unit int"),
            ({"op": "case.list", "after": "0"}, "after str"),
            ({"op": "case.list", "limit": 2.0}, "limit float"),
            ({"op": "case.list", "kind": 1}, "kind int"),
            ({"op": "case.list", "overdue": 1}, "overdue int"),
            ({"op": "unit.list", "after": 1}, "unit.list after int"),
            ({"op": "log.read", "topic": 1}, "topic int"),
        ]
        for req, what in cases:
            expect_error(t, c, req, "bad_request", what)


@test("a missing required key is bad_request")
def _(t):
    d, base = county(t)
    with d.client() as c:
        k = open_case(c)["case"]

        def without(req, key):
            req = dict(req)
            del req[key]
            return req

        cases = [
            ({"id": new_id()}, "no op"),
            (without(oreq(), "id"), "case.open without id"),
            (without(oreq(), "actor"), "case.open without actor"),
            (without(oreq(), "title"), "case.open without title"),
            (without(oreq(), "area"), "case.open without area"),
            (without(oreq(), "unit"), "case.open without unit"),
            ({"op": "case.note", "actor": ACTOR, "case": k, "text": "t"},
             "case.note without id"),
            ({"op": "case.note", "id": new_id(), "case": k, "text": "t"},
             "case.note without actor"),
            (wreq("case.note", text="t"), "case.note without case"),
            (wreq("case.note", case=k), "case.note without text"),
            (wreq("case.plan", case=k, measures="m", schedule="s", units=["anling"]),
             "case.plan without deadline"),
            (wreq("case.plan", case=k, measures="m", schedule="s", deadline=today(9)),
             "case.plan without units"),
            (wreq("case.consult", case=k, date=today(), place="p", summary="s"),
             "case.consult without residents"),
            (wreq("case.commit", case=k, venue="county_news", date=today()),
             "case.commit without ref"),
            (wreq("case.coordinate", case=k, date=today(), summary="s"),
             "case.coordinate without form"),
            (wreq("case.resolve", case=k), "case.resolve without summary"),
            (wreq("case.journal", case=k, process="p", result="r", satisfied=1,
                  basically_satisfied=0), "case.journal without dissatisfied"),
            (wreq("case.outcome", case=k), "case.outcome without rule"),
            (wreq("case.verify", case=k), "case.verify without verdict"),
            (wreq("case.reopen", case=k), "case.reopen without reason"),
            (wreq("case.reassign", case=k, reason="r"), "case.reassign without lead"),
            (wreq("case.escalate", case=k), "case.escalate without reason"),
            (wreq("case.repeat", case=k, summary="s"), "case.repeat without skip_level"),
            (without(unit_put_req("x1", "x", "village", "anling"), "kind"),
             "unit.put without kind"),
            (without(person_put_req("p1", "p", "anling", ["cadre"]), "roles"),
             "person.put without roles"),
            (without(person_put_req("p1", "p", "anling", ["cadre"]), "unit"),
             "person.put without unit"),
            (wreq("campaign.set", name="c", start="2026-06-01"), "campaign.set without end"),
            ({"op": "case.get"}, "case.get without case"),
            ({"op": "unit.get"}, "unit.get without unit"),
            ({"op": "person.get"}, "person.get without person"),
        ]
        for req, what in cases:
            expect_error(t, c, req, "bad_request", what)


@test("values beyond the documented limits are bad_request, naming the key")
def _(t):
    d, base = county(t)
    with d.client() as c:
        k = open_case(c)["case"]
        cases = [
            (oreq(title="安" * 67), "title of 201 bytes (67 chars)", "title"),
            (oreq(title="x" * 201), "title of 201 bytes", "title"),
            (oreq(title=""), "empty title", "title"),
            (oreq(description="d" * 4097), "description 4097", "description"),
            (oreq(kind="complaint"), "kind not in the list", "kind"),
            (oreq(kind="Problem"), "kind with a capital", "kind"),
            (oreq(kind="household"), "kind household (now household_issue)", "kind"),
            (oreq(area="health"), "area not in the list", "area"),
            (oreq(source="unspecified"), "source unspecified", "source"),
            (oreq(unit="u" * 65), "unit of 65 bytes", "unit"),
            (oreq(unit=""), "empty unit", "unit"),
            (oreq(unit="安岭乡"), "unit that is not an id", "unit"),
            (oreq(unit="-xiaxi"), "unit beginning with '-'", "unit"),
            (oreq(unit="xia xi"), "unit with a space", "unit"),
            (oreq(lead="l" * 65), "lead of 65 bytes", "lead"),
            (oreq(lead=""), "empty lead", "lead"),
            (oreq(lead="王立"), "lead that is not an id", "lead"),
            (oreq(units=["u%d" % i for i in range(17)]), "17 units", "units"),
            (oreq(units=["anling", "anling"]), "a unit twice", "units"),
            (oreq(deadline="2026-02-30"), "deadline not a calendar date", "deadline"),
            (oreq(deadline="2026-6-13"), "deadline not YYYY-MM-DD", "deadline"),
            (oreq(deadline="1969-12-31"), "deadline before 1970", "deadline"),
            (oreq(tags=["t%d" % i for i in range(17)]), "17 tags", "tags"),
            (oreq(tags=["x" * 33]), "tag of 33 bytes", "tag"),
            (oreq(tags=[""]), "empty tag", "tag"),
            (dict(oreq(), id="i" * 65), "id of 65 bytes", "id"),
            (dict(oreq(), id=""), "empty id", "id"),
            (dict(oreq(), actor="a" * 65), "actor of 65 bytes", "actor"),
            (dict(oreq(), actor=""), "empty actor", "actor"),
            (wreq("case.note", case=k, text="n" * 4097), "text of 4097 bytes", "text"),
            (wreq("case.note", case=k, text=""), "empty text", "text"),
            (wreq("case.note", case=0, text="t"), "case 0", "case"),
            (wreq("case.plan", case=k, measures="m", schedule="s", deadline=today(9),
                  units=[]), "plan with no unit", "units"),
            (wreq("case.consult", case=k, date=today(), place="p", residents=0, summary="s"),
             "0 residents", "residents"),
            (wreq("case.consult", case=k, date=today(), place="p", residents=1000001,
                  summary="s"), "1,000,001 residents", "residents"),
            (wreq("case.consult", case=k, date=today(), place="p" * 201, residents=1,
                  summary="s"), "place of 201 bytes", "place"),
            (wreq("case.commit", case=k, venue="radio", date=today(), ref="r"),
             "venue radio", "venue"),
            (wreq("case.coordinate", case=k, form="dinner", date=today(), summary="s"),
             "form dinner", "form"),
            (wreq("case.journal", case=k, process="p", result="r", satisfied=1000001,
                  basically_satisfied=0, dissatisfied=0), "1,000,001 satisfied", "satisfied"),
            (wreq("case.verify", case=k, verdict="approve"), "verdict approve", "verdict"),
            (wreq("case.outcome", case=k, rule="r" * 201), "rule of 201 bytes", "rule"),
            (unit_put_req("x1", "n" * 101, "village", "anling"), "name of 101 bytes", "name"),
            (unit_put_req("x1", "x", "hamlet", "anling"), "unit kind hamlet", "kind"),
            (person_put_req("p1", "p", "anling", []), "no role", "roles"),
            (person_put_req("p1", "p", "anling", ["cadre"] * 9), "9 roles", "roles"),
            (person_put_req("p 1", "p", "anling", ["cadre"]), "person id with a space",
             "person"),
            (dict(wreq("campaign.set", name="c", start="2026-06-01", end="2026-07-01",
                       threshold=101), actor=County.THEME), "threshold 101", "threshold"),
            (dict(wreq("campaign.set", name="c", start="2026-13-01", end="2026-07-01"),
                  actor=County.THEME), "start in month 13", "start"),
            ({"op": "case.list", "limit": 0}, "case.list limit 0", "limit"),
            ({"op": "case.list", "limit": 1001}, "case.list limit 1001", "limit"),
            ({"op": "case.list", "step": "closed"}, "case.list step closed", "step"),
            ({"op": "case.list", "unit": "安岭乡"}, "case.list unit not an id", "unit"),
            ({"op": "case.get", "case": 1, "limit": 1001}, "case.get limit 1001", "limit"),
            ({"op": "unit.list", "limit": 0}, "unit.list limit 0", "limit"),
            ({"op": "person.list", "role": "mayor"}, "person.list role mayor", "role"),
            ({"op": "log.read", "limit": 0}, "log.read limit 0", "limit"),
            ({"op": "log.read", "limit": 1001}, "log.read limit 1001", "limit"),
            ({"op": "log.read", "topic": "t" * 65}, "log.read topic of 65 bytes", "topic"),
            ({"op": "log.read", "after": -1}, "log.read after -1", "after"),
            ({"op": "case.list", "after": -1}, "case.list after -1", "after"),
            ({"op": "case.get", "case": -1}, "case.get case -1", "case"),
            ({"op": "ping", "id": "i" * 65}, "ping with an id of 65 bytes", "id"),
            ({"op": "ping", "k" * 65: 1}, "a key of 65 bytes", None),
            ({"op": "ping", "": 1}, "an empty key", None),
        ]
        for req, what, key in cases:
            expect_error(t, c, req, "bad_request", what, names=key)


@test("values at the documented limits are accepted")
def _(t):
    d, base = county(t)
    with d.client() as c:
        uid, pid, lid = "u" * 64, "a" * 64, "l" * 64
        for req in (unit_put_req(uid, "名" * 33 + "x", "village", "anling"),
                    person_put_req(pid, "n" * 100, uid, ["cadre"]),
                    person_put_req(lid, "l", "anling", ROLES, village=uid)):
            r = c.request(req)
            t.check(r["ok"], "%s at the limits: %r" % (req["op"], r))
        rid = "i" * 64
        units = ["anling", "tianshi", "nanfeng", "water", "xiaxi", "shangxi", "dongcun",
                 "beijie", "county", uid] + ["v%d" % i for i in range(6)]
        for u in units[10:]:
            c.request(unit_put_req(u, u, "village", "tianshi"))
        r = c.write("case.open", id=rid, actor=pid, title="安" * 66 + "ab",
                    description="d" * 4096, kind="lagging_village", area="grassroots",
                    source="household_consultation", unit=uid, lead=pid, units=units,
                    deadline="9999-12-31", tags=["%02d" % i + "x" * 30 for i in range(16)])
        t.check(r["ok"], "case.open at every limit: %r" % r)
        t.eq(r.get("id"), rid, "64-byte id echoed")
        if r["ok"]:
            g = c.call("case.get", case=r["case"])["case"]
            t.eq(g.get("title"), "安" * 66 + "ab", "200-byte title")
            t.eq(len(g.get("tags", [])), 16, "16 tags")
            t.eq(g.get("units"), units, "16 units")
            t.eq(g.get("description"), "d" * 4096, "4096-byte description")
            t.eq(g.get("deadline"), "9999-12-31", "deadline")
            n = c.write("case.note", actor=pid, case=r["case"], text="n" * 4096)
            t.check(n["ok"], "4096-byte note: %r" % n)
        for kind in CASE_KINDS:
            for area in AREAS:
                f = {"title": "k", "kind": kind, "area": area}
                if kind == "petition":
                    f["taker"] = ACTOR
                r = c.write("case.open", **open_fields(f))
                t.check(r["ok"], "kind %s area %s: %r" % (kind, area, r))
        for src in ("consultation", "research_visit", "deputies", "letters_visits",
                    "household_consultation"):
            r = c.write("case.open", **open_fields({"source": src, "deadline": today()}))
            t.check(r["ok"], "source %s, deadline today: %r" % (src, r))
        r = c.write("campaign.set", actor=County.THEME, name="n" * 100, start="1970-01-01",
                    end="9999-12-31", threshold=100)
        t.check(r["ok"], "campaign.set at the limits: %r" % r)
        for req in ({"op": "case.list", "limit": 1}, {"op": "case.list", "limit": 1000},
                    {"op": "log.read", "limit": 1}, {"op": "log.read", "limit": 1000},
                    {"op": "unit.list", "limit": 1000}, {"op": "person.list", "limit": 1},
                    {"op": "case.get", "case": 1, "limit": 1000},
                    {"op": "case.get", "case": 1, "limit": 1},
                    {"op": "log.read", "topic": "t" * 64}, {"op": "log.read", "topic": ""},
                    {"op": "ping", "id": "p" * 64, "actor": "q" * 64}):
            r = c.request(req)
            t.check(r["ok"], "%r: %r" % ({k: v for k, v in req.items()}, r))


@test("reads accept id and actor and echo the id; an actor who is nobody reads only what "
      "anyone may")
def _(t):
    d, base = county(t)
    anyone = {"ping", "unit.get", "unit.list", "person.get", "person.list", "campaign.get",
              "campaign.coverage"}
    with d.client() as c:
        k = open_case(c)["case"]
        extras = {"case.get": {"case": k}, "unit.get": {"unit": "anling"},
                  "person.get": {"person": ACTOR}}
        for op in READ_OPS:
            for actor in ("theme", "nobody at all"):
                rid = new_id()
                r = c.call(op, id=rid, actor=actor, **extras.get(op, {}))
                if actor == "theme" or op in anyone:
                    t.check(r["ok"], "%s by %s: %r" % (op, actor, r))
                else:
                    t.eq(error_code(r), "forbidden", "%s by nobody: %r" % (op, r))
                t.eq(r.get("id"), rid, "%s echoed id" % op)
                # a read is not recorded: the same id again is not a duplicate
                r2 = c.call(op, id=rid, actor=actor, **extras.get(op, {}))
                t.check(r2["ok"] == r["ok"] and "duplicate" not in r2, "%s again: %r"
                        % (op, r2))
        t.eq(ping_seq(c), base + 1, "reads changed the ledger")


@test("integers in any wider encoding are accepted")
def _(t):
    d, base = county(t)
    with d.client() as c:
        open_case(c)
        encs = [mp_uint(1, 0), mp_uint(1, 1), mp_uint(1, 2), mp_uint(1, 4), mp_uint(1, 8),
                mp_int(1, 1), mp_int(1, 2), mp_int(1, 4), mp_int(1, 8)]
        for e in encs:
            body = mp_map_raw([("op", "case.get"), ("case", e)])
            r = check_reply(decode(c.send_raw(body)))
            t.check(r["ok"] and r["case"].get("case") == 1,
                    "case 1 encoded as %s: %r" % (e.hex(), r))
            body = mp_map_raw([("op", "log.read"), ("limit", e)])
            r = check_reply(decode(c.send_raw(body)))
            t.check(r["ok"] and len(r["items"]) == 1,
                    "limit 1 encoded as %s: %r" % (e.hex(), r))


@test("UTF-8 text round-trips unchanged")
def _(t):
    d, base = county(t)
    with d.client() as c:
        title = "走进矛盾、破解难题 — 安岭乡 🚧"
        r = open_case(c, title=title, tags=["民生", "道路"], description="描述 ✓")
        n = note(c, r["case"], text="民主恳谈 ✓ ok\n第二行", actor="head.anling")
        g = c.call("case.get", case=r["case"])
        cs = g["case"]
        t.eq(cs.get("title"), title, "title")
        t.eq(cs.get("description"), "描述 ✓", "description")
        t.eq(cs.get("tags"), ["民生", "道路"], "tags")
        t.eq(g["history"][1].get("text"), "民主恳谈 ✓ ok\n第二行", "note text")
        t.eq(g["history"][1].get("actor"), "head.anling", "note actor")
        items, _ = read_log(c)
        t.eq(items[-1].get("text"), "民主恳谈 ✓ ok\n第二行", "log text")
        t.eq(items[-1].get("seq"), n["seq"], "log seq")
        t.eq(c.call("unit.get", unit="nanfeng")["unit"].get("name"), "南峰街道", "unit name")
        t.eq(c.call("person.get", person=ACTOR)["person"].get("name"), "王立", "person name")


# ---------------------------------------------------------------------------------------
# sockets and pipelining

@test("REQ and DEALER sockets are both served")
def _(t):
    d, base = county(t)
    with d.client() as c, d.pipeline() as p:
        r1 = c.write("case.open", **open_fields({"title": "via REQ"}))
        t.check(r1["ok"], r1)
        rid = p.send(oreq(title="via DEALER"))
        r2 = p.wait(rid)
        t.check(r2["ok"], r2)
        t.eq({r1.get("case"), r2.get("case")}, {1, 2}, "case ids")
        rid = p.send({"op": "ping"})
        r3 = p.wait(rid)
        t.check(r3["ok"] and r3.get("seq") == base + 2, "ping over DEALER: %r" % r3)


@test("pipelined requests on one DEALER get their replies matched by echoed id")
def _(t):
    d, base = county(t)
    with d.client() as c, d.pipeline(window=300) as p:
        reqs = []
        for i in range(300):
            if i % 3 == 2:
                reqs.append({"op": "ping", "id": new_id()})
            else:
                reqs.append(oreq(title="pipelined %d" % i))
        reps = p.run(reqs)
        t.eq(p.stray, [], "stray replies")
        for req, rep in zip(reqs, reps):
            t.check(rep["ok"] and rep.get("id") == req["id"], "%r -> %r" % (req, rep))
        opens = [rep for req, rep in zip(reqs, reps) if req["op"] == "case.open"]
        t.eq(sorted(r["case"] for r in opens), list(range(1, 201)), "case ids")
        t.eq(sorted(r["seq"] for r in opens), list(range(base + 1, base + 201)), "seqs")
        # each reply names the case its own title went to
        for req, rep in zip(reqs, reps):
            if req["op"] == "case.open":
                g = c.call("case.get", case=rep["case"])["case"]
                if not t.eq(g.get("title"), req["title"], "title of case %d" % rep["case"]):
                    break
        # nothing more arrives
        t.check(not p.sock.poll(300), "an extra reply arrived")


@test("a ROUTER-to-ROUTER envelope comes back intact")
def _(t):
    d = t.daemon()
    s = context().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    t.defer(s.close)
    s.connect(d.submit)
    for env in ([b"hop-1", b""], [b"\x00\x01\x02", b"client-7", b""], [b""]):
        rid = new_id()
        s.send_multipart(env + [encode({"op": "ping", "id": rid})])
        t.require(s.poll(10000), "no reply to envelope %r" % env)
        frames = s.recv_multipart()
        t.eq(frames[:-1], env, "envelope")
        r = check_reply(decode(frames[-1]))
        t.check(r["ok"] and r.get("id") == rid, "reply %r" % r)


# ---------------------------------------------------------------------------------------
# idempotency

@test("a repeated id returns the original reply with duplicate:true and changes nothing")
def _(t):
    d, base = county(t)
    with d.client() as c, d.pipeline() as p:
        req = oreq(title="once", tags=["a"])
        r1 = c.request(req)
        t.check(r1["ok"], r1)
        open_case(c, title="another")
        r2 = c.request(req)
        t.eq(r2, dict(r1, duplicate=True), "repeat over REQ")
        nreq = wreq("case.note", case=r1["case"], text="hello")
        n1 = c.request(nreq)
        n2 = c.request(nreq)
        t.eq(n2, dict(n1, duplicate=True), "repeated note")
        ureq = unit_put_req("xiaxi2", "下溪二村", "village", "anling")
        u1 = c.request(ureq)
        t.eq(c.request(ureq), dict(u1, duplicate=True), "repeated unit.put")
        # over DEALER, and several copies in flight at once
        rid = p.send(dict(req))
        t.eq(p.wait(rid), dict(r1, duplicate=True), "repeat over DEALER")
        nreq2 = wreq("case.note", case=r1["case"], text="burst")
        s = p.sock
        for _ in range(5):
            s.send_multipart([b"", encode(nreq2)])
        reps = []
        for _ in range(5):
            t.require(s.poll(10000), "a reply to the burst is missing")
            f = s.recv_multipart()
            reps.append(check_reply(decode(f[-1]), nreq2["id"]))
        firsts = [r for r in reps if "duplicate" not in r]
        t.eq(len(firsts), 1, "replies without duplicate among 5 copies")
        t.check(all(r["ok"] for r in reps), "a copy failed: %r" % reps)
        if firsts:
            t.check(all(r == dict(firsts[0], duplicate=True) for r in reps if r is not firsts[0]),
                    "copies differ: %r" % reps)
        t.eq(ping_seq(c), base + 5, "seq after 5 distinct writes")
        items, _ = read_log(c)
        t.eq(len([e for e in items if e.get("id") == nreq2["id"]]), 1, "log entries of the burst id")


@test("a repeated id returns the original reply after a restart")
def _(t):
    d, base = county(t)
    with d.client() as c:
        req = oreq(title="before restart")
        r1 = c.request(req)
        nreq = wreq("case.note", case=r1["case"], text="n")
        n1 = c.request(nreq)
        ureq = unit_put_req(*County.UNITS[1])
        u1 = c.request(ureq)
        t.eq(u1.get("changed"), False, "a put of the county's own township")
    t.eq(d.stop(), 0, "exit status after SIGTERM")
    d.restart()
    with d.client() as c:
        t.eq(c.request(req), dict(r1, duplicate=True), "case.open after SIGTERM restart")
        t.eq(c.request(nreq), dict(n1, duplicate=True), "case.note after SIGTERM restart")
        t.eq(c.request(ureq), dict(u1, duplicate=True), "changed:false after SIGTERM restart")
    d.kill9()
    d.restart()
    with d.client() as c:
        t.eq(c.request(req), dict(r1, duplicate=True), "case.open after kill -9 restart")
        t.eq(ping_seq(c), base + 2, "seq")


@test("the same id with a different body is a conflict naming the original seq")
def _(t):
    d, base = county(t)
    with d.client() as c:
        open_case(c)
        req = oreq(title="original")
        r1 = c.request(req)
        t.eq(r1.get("seq"), base + 2, "seq of the original")
        for other, what in ((dict(req, title="changed"), "another title"),
                            (dict(req, kind="lagging_village"), "an added key"),
                            (dict(req, actor="li.ming"), "another actor"),
                            ({"op": "case.note", "id": req["id"], "actor": ACTOR, "case": 1,
                              "text": "x"}, "another op")):
            r = c.request(other)
            if expect_code(t, r, "conflict", what):
                t.eq(r.get("id"), req["id"], "%s: echoed id" % what)
                t.check(str(base + 2) in r["error"]["message"],
                        "%s: message does not name seq %d: %r"
                        % (what, base + 2, r["error"]["message"]))
        t.eq(ping_seq(c), base + 2, "the ledger moved")
        t.eq(c.request(req), dict(r1, duplicate=True), "the original still repeats")


@test("a failed request's id can be used again")
def _(t):
    d, base = county(t)
    with d.client() as c:
        rid = new_id()
        r = c.write("case.note", id=rid, case=7, text="no such case")
        expect_code(t, r, "not_found", "note on a missing case")
        r = c.write("case.open", id=rid, **open_fields({"title": ""}))
        expect_code(t, r, "bad_request", "empty title")
        r = c.write("case.open", id=rid, actor="nobody", **open_fields({}))
        expect_code(t, r, "forbidden", "an actor who is nobody")
        r = c.write("case.open", id=rid, **open_fields({"title": "now valid"}))
        t.check(r["ok"] and "duplicate" not in r, "reuse of a failed id: %r" % r)


# ---------------------------------------------------------------------------------------
# the log

@test("log seqs run 1..N without a gap, at never decreases, each entry carries its request id")
def _(t):
    d, base = county(t)
    with d.client() as c, d.pipeline(window=50) as p:
        reqs = [oreq(title="c%d" % i) for i in range(40)]
        reps = p.run(reqs)
        reqs2 = [wreq("case.note", case=1 + i % 40, text="n%d" % i) for i in range(160)]
        reps += p.run(reqs2)
        reqs += reqs2
        t.require(all(r["ok"] for r in reps), "a write failed")
        items, cursor = read_log(c, limit=37)
        t.eq([e.get("seq") for e in items], list(range(1, base + 201)), "seqs")
        t.eq(cursor, base + 200, "cursor")
        t.check(all(a["at"] <= b["at"] for a, b in zip(items, items[1:])), "at decreases")
        by_seq = {e["seq"]: e for e in items}
        for req, rep in zip(reqs, reps):
            e = by_seq.get(rep["seq"], {})
            if not t.eq(e.get("id"), req["id"], "id of entry %d" % rep["seq"]):
                break
            t.eq(e.get("case"), rep["case"], "case of entry %d" % rep["seq"])


@test("the exchange of section 12 gives exactly the documented replies and entry")
def _(t):
    d = t.daemon()
    with d.client() as c:
        puts = [
            {"op": "unit.put", "id": "0193a1b2c3d0-01", "actor": "admin", "unit": "county",
             "name": "示范县", "kind": "county"},
            {"op": "person.put", "id": "0193a1b2c3d0-02", "actor": "admin",
             "person": "admin", "name": "管理员", "unit": "county", "roles": ["admin"]},
            {"op": "unit.put", "id": "0193a1b2c3d0-03", "actor": "admin", "unit": "anling",
             "name": "安岭乡", "kind": "township", "parent": "county"},
            {"op": "unit.put", "id": "0193a1b2c3d0-04", "actor": "admin", "unit": "xiaxi",
             "name": "下溪村", "kind": "village", "parent": "anling"},
            {"op": "person.put", "id": "0193a1b2c3d0-05", "actor": "admin",
             "person": "wang.li", "name": "王立", "unit": "anling",
             "roles": ["cadre", "leader"]},
        ]
        for i, req in enumerate(puts, 1):
            key = "unit" if req["op"] == "unit.put" else "person"
            t.eq(c.request(req), {"ok": True, "seq": i, "id": req["id"], key: req[key],
                                  "changed": True}, "reply to put %d" % i)
        again = dict(puts[3], id=new_id())
        t.eq(c.request(again), {"ok": True, "seq": 5, "id": again["id"], "unit": "xiaxi",
                                "changed": False}, "the fourth put again with a new id")
        req = {"op": "case.open", "id": "0193a1b2c3d4-7f3a9c", "actor": "wang.li",
               "title": "Village road to Xiaxi washed out", "area": "development",
               "unit": "xiaxi"}
        r1 = c.request(req)
        t.eq(r1, {"ok": True, "seq": 6, "id": "0193a1b2c3d4-7f3a9c", "case": 1,
                  "step": "identified"}, "the case.open reply")
        e = c.call("log.read", after=5)["items"][0]
        t.check(sane_ms(e.get("at")) and e.get("opened_at") == e["at"]
                and e.get("updated_at") == e["at"], "times of the entry: %r" % e)
        t.eq((e.get("step_from"), e.get("step_limit")), (today(), 5),
             "the step's time limit: 5 working days to plan")
        t.check(isinstance(e.get("step_due"), str) and is_int(e.get("step_at")) and
                e["step_at"] > e["at"], "its last day and timer: %r" % e)
        t.check(list(e)[-1] == "hash" and re.fullmatch(r"[0-9a-f]{64}", e["hash"]),
                "the entry ends with its hash (section 7): %r" % e)
        t.eq({k: v for k, v in e.items()
              if k not in ("at", "opened_at", "updated_at", "step_from", "step_due", "step_at",
                           "step_limit", "hash")},
             {"seq": 6, "topic": "case.opened", "case": 1, "actor": "wang.li",
              "id": "0193a1b2c3d4-7f3a9c", "kind": "problem", "area": "development",
              "title": "Village road to Xiaxi washed out", "unit": "xiaxi", "lead": "wang.li",
              "step": "identified", "opened_by": "wang.li", "opened_seq": 6,
              "updated_seq": 6, "events": 1, "consultations": 0, "consultations_after": 0,
              "coordinations": 0, "outcomes": 0, "redos": 0}, "the case.opened entry")
        t.eq(c.request(req), dict(r1, duplicate=True), "the same request again")
        r = c.request({"op": "case.commit", "id": "0193a1b2c3d5-11aa", "actor": "wang.li",
                       "case": 1, "venue": "county_news", "date": "2026-06-12",
                       "ref": "县报 第1期"})
        t.eq(r, {"ok": False, "id": "0193a1b2c3d5-11aa",
                 "error": {"code": "invalid_transition",
                           "message": "case.commit: case 1 is identified; the plan comes "
                                      "next (case.plan)"}}, "the refused commitment")


@test("log entries of the case ops carry the request's fields, what the op adds, and the "
      "step")
def _(t):
    d, base = county(t)
    with d.client() as c:
        k = open_case(c, kind="petition", taker=ACTOR)["case"]
        day, dl = today(-1), today(20)
        steps = [
            (ACTOR, "case.plan", {"measures": "m", "schedule": "s", "deadline": dl,
                                  "units": ["anling", "water"], "lead": ACTOR},
             "case.planned", {"new_deadline": dl}, "planned"),
            (ACTOR, "case.consult", {"date": day, "place": "村部", "residents": 12,
                                     "summary": "s", "changes": "c"},
             "case.consulted", {}, "planned"),
            (County.THEME, "case.commit", {"venue": "notice_board", "board": "xiaxi",
                                           "date": day, "ref": "公告 3"},
             "case.committed", {}, "committed"),
            (ACTOR, "case.coordinate", {"form": "handover", "date": day, "summary": "s",
                                        "units": ["water"]},
             "case.coordinated", {}, "committed"),
            (ACTOR, "case.resolve", {"summary": "s"}, "case.resolved", {}, "resolved"),
            (ACTOR, "case.consult", {"date": day, "place": "p", "residents": 3,
                                     "summary": "s"}, "case.consulted", {}, "resolved"),
            (ACTOR, "case.journal", {"process": "p", "result": "r", "satisfied": 1,
                                     "basically_satisfied": 1, "dissatisfied": 2},
             "case.redo", {"satisfaction": 50, "threshold": 80, "redos": 1}, "committed"),
            (ACTOR, "case.resolve", {"summary": "s2"}, "case.resolved", {}, "resolved"),
            (ACTOR, "case.consult", {"date": day, "place": "p", "residents": 3,
                                     "summary": "s"}, "case.consulted", {}, "resolved"),
            (ACTOR, "case.journal", {"process": "p", "result": "r", "satisfied": 3,
                                     "basically_satisfied": 2, "dissatisfied": 1},
             "case.journaled", {"satisfaction": 83, "threshold": 80}, "journaled"),
            (ACTOR, "case.outcome", {"rule": "r", "summary": "s"}, "case.outcome", {},
             "journaled"),
            (County.THEME, "case.verify", {"verdict": "return", "reason": "r"},
             "case.returned", {"redos": 2}, "committed"),
            (County.HEAD, "case.reassign", {"lead": "li.ming", "reason": "r"},
             "case.reassigned", {"from": ACTOR}, "committed"),
            (County.SUPERVISION, "case.escalate", {"reason": "r"}, "case.escalated", {},
             "committed"),
            (County.SUPERVISION, "case.note", {"text": "t"}, "case.noted", {}, "committed"),
            (ACTOR, "case.guarantee", {"promise_kept": True, "stable": False, "note": "n"},
             "case.guarantee", {}, "committed"),
            (ACTOR, "case.repeat", {"skip_level": True, "summary": "s"}, "case.repeat",
             {"reopened": False, "repeats": 1}, "committed"),
        ]
        for actor, op, fields, topic, added, step in steps:
            r = c.write(op, actor=actor, case=k, **fields)
            if not t.check(r["ok"], "%s: %r" % (op, r)):
                break
            t.eq({x: r.get(x) for x in ("case", "step")}, {"case": k, "step": step},
                 "reply of %s" % op)
            e = c.call("log.read", after=r["seq"] - 1, limit=1)["items"][0]
            want = {"seq": r["seq"], "topic": topic, "case": k, "actor": actor,
                    "id": r["id"], "step": step}
            want.update(fields)
            want.update(added)
            t.check(list(e)[-1] == "hash", "entry of %s ends with its hash" % op)
            t.eq({x: v for x, v in e.items() if x not in ("at", "hash")}, want,
                 "entry of %s" % op)
        g = c.call("case.get", case=k)
        cs = g["case"]
        want = {"step": "committed", "lead": "li.ming", "deadline": dl,
                "units": ["anling", "water"], "consultations": 3, "consultations_after": 0,
                "coordinations": 1, "outcomes": 1, "redos": 2, "escalations": 1,
                "satisfied": 3, "basically_satisfied": 2, "dissatisfied": 1,
                "promise_kept": True, "repeats": 1, "skip_level_repeats": 1,
                "events": len(steps) + 1, "taker": ACTOR}
        t.eq({x: cs.get(x) for x in want}, want, "the case afterwards")
        for x in ("planned_at", "first_consulted_at", "committed_at", "resolved_at",
                  "journaled_at", "plan_seq", "commit_seq", "journal_seq"):
            t.check(is_int(cs.get(x)), "%s: %r" % (x, cs.get(x)))
        t.check("stable" not in cs and "crossed_at" not in cs and "reopens" not in cs,
                "false or empty keys present: %r" % cs)
        t.eq(g.get("satisfaction"), 83, "satisfaction")


@test("log.read filters by topic prefix and pages with next until next >= seq")
def _(t):
    d, base = county(t)
    with d.client() as c, d.pipeline(window=50) as p:
        reqs = []
        for i in range(30):
            reqs.append(oreq(title="c%d" % i))
            reqs.append(wreq("case.note", case=i + 1, text="a"))
            reqs.append(wreq("case.note", case=i + 1, text="b"))
        # in order, so that case i+1 exists before its notes
        for i in range(0, len(reqs), 3):
            t.require(all(r["ok"] for r in p.run(reqs[i:i + 3])), "a write failed")
        end = base + 90
        r = c.call("log.read")
        t.eq(r.get("seq"), end, "seq")
        t.eq(len(r.get("items", [])), 100, "items without limit")
        t.eq(r.get("next"), 100, "next")
        r = c.call("log.read", after=base + 10, limit=5)
        t.eq([e["seq"] for e in r["items"]], list(range(base + 11, base + 16)),
             "after base+10 limit 5")
        t.eq(r.get("next"), base + 15, "next after base+10 limit 5")
        r = c.call("log.read", after=end)
        t.eq((r.get("items"), r.get("next"), r.get("seq")), ([], end, end), "after the end")
        r = c.call("log.read", after=1000)
        t.check(r["ok"] and r.get("items") == [] and r.get("next", 0) >= r["seq"],
                "after beyond the end: %r" % r)
        noted, cur = read_log(c, topic="case.noted", limit=7)
        t.eq([e["seq"] for e in noted],
             [s for s in range(base + 1, end + 1) if (s - base) % 3 != 1], "case.noted seqs")
        t.check(all(e["topic"] == "case.noted" for e in noted), "topic filter leaked")
        t.eq(cur, end, "cursor after topic paging")
        opened, _ = read_log(c, topic="case.op", limit=4)
        t.eq([e["seq"] for e in opened], list(range(base + 1, end + 1, 3)), "case.op prefix")
        both, _ = read_log(c, topic="case.", limit=1000)
        t.eq(len(both), 90, "case. prefix")
        units, _ = read_log(c, topic="unit.")
        t.eq(len(units), len(County.UNITS), "unit. prefix")
        people, _ = read_log(c, topic="person.created")
        t.eq(len(people), len(County.PEOPLE), "person.created")
        none, cur = read_log(c, topic="deadline.")
        t.eq((none, cur), ([], end), "a prefix nothing has")
        r = c.call("log.read", after=base, topic="case.noted", limit=3)
        t.eq([e["seq"] for e in r["items"]], [base + 2, base + 3, base + 5],
             "first page of case.noted")
        t.eq(r.get("next"), base + 5, "next is the last seq examined")


@test("log.read returns 100 items by default and honours limit")
def _(t):
    d, base = county(t)
    with d.client() as c, d.pipeline(window=100) as p:
        t.require(all(r["ok"] for r in p.run([oreq(title="c%d" % i) for i in range(150)])),
                  "a write failed")
        end = base + 150
        r = c.call("log.read")
        t.eq(len(r["items"]), 100, "default page")
        t.eq(r.get("next"), 100, "next")
        r = c.call("log.read", after=100)
        t.eq(len(r["items"]), end - 100, "second page")
        t.eq(r.get("next"), end, "next of the second page")
        r = c.call("log.read", limit=1000)
        t.eq(len(r["items"]), end, "limit 1000")


# ---------------------------------------------------------------------------------------
# case.list

@test("case.list gives summaries with the documented keys, filters by kind, area, unit, "
      "lead and step, and pages until next is nil")
def _(t):
    d, base = county(t)
    units = ["xiaxi", "shangxi", "anling"]
    kinds = ["problem", "petition", "household_issue", "lagging_village"]
    areas = ["grassroots", "development", "livelihood"]
    leads = [ACTOR, "li.ming"]
    with d.client() as c, d.pipeline(window=50) as p:
        reqs = []
        for i in range(60):
            f = {"title": "case %d" % i, "kind": kinds[i % 4], "lead": leads[i % 2],
                 "unit": units[i % 3], "area": areas[i % 3 if i % 2 else (i // 2) % 3]}
            if f["kind"] == "petition":
                f["taker"] = ACTOR
            if i % 5 == 0:
                f["deadline"] = today(10)
            reqs.append(dict(oreq(**f), actor=County.HEAD))
        reps = p.run(reqs)
        t.require(all(r["ok"] for r in reps), "a write failed: %r"
                  % [r for r in reps if not r["ok"]][:1])
        want = {r["case"]: req for req, r in zip(reqs, reps)}
        n = c.write("case.note", case=3, text="x", actor=County.HEAD)
        t.check(n["ok"], n)
        items = list_cases(c, limit=7)
        t.eq([s["case"] for s in items], list(range(1, 61)), "all cases, pages of 7")
        for s in items:
            req = want[s["case"]]
            exp = {"case": s["case"], "kind": req["kind"], "area": req["area"],
                   "title": req["title"], "unit": req["unit"], "lead": req["lead"],
                   "step": "identified", "redos": 0}
            if "deadline" in req:
                exp["deadline"] = req["deadline"]
            elif req["kind"] == "petition":
                exp["deadline"] = today(60)     # a petition's handling limit by default
            t.eq({k: v for k, v in s.items() if k != "updated_at"}, exp,
                 "summary of %d" % s["case"])
            t.check(sane_ms(s.get("updated_at")), "updated_at of %d" % s["case"])
        t.check(items[2]["updated_at"] >= items[1]["updated_at"], "updated_at of the noted case")
        under = {"xiaxi": ("xiaxi",), "shangxi": ("shangxi",),
                 "anling": ("anling", "xiaxi", "shangxi")}
        for key, values in (("kind", kinds), ("area", areas), ("unit", units),
                            ("lead", leads)):
            for v in values:
                got = [s["case"] for s in list_cases(c, limit=4, **{key: v})]
                exp = [k for k, req in sorted(want.items())
                       if req.get(key) in (under[v] if key == "unit" else (v,))]
                t.eq(got, exp, "%s=%s (sub-units included)" % (key, v))
        got = [s["case"] for s in list_cases(c, kind="petition", unit="xiaxi", limit=2)]
        exp = [k for k, req in sorted(want.items())
               if req["kind"] == "petition" and req["unit"] == "xiaxi"]
        t.eq(got, exp, "kind and unit together")
        t.eq([s["case"] for s in list_cases(c, step="identified", limit=100)],
             list(range(1, 61)), "step identified")
        t.eq(list_cases(c, step="planned"), [], "step planned")
        t.eq(list_cases(c, unit="dongcun"), [], "a unit with no case")
        t.eq(list_cases(c, unit="nowhere"), [], "a unit that does not exist")
        r = c.call("case.list", after=55, limit=10)
        t.eq([s["case"] for s in r["items"]], [56, 57, 58, 59, 60], "after 55")
        t.eq(r.get("next"), None, "next at the end")
        r = c.call("case.list", after=60)
        t.eq((r.get("items"), r.get("next")), ([], None), "after the last case")
        r = c.call("case.list", limit=10)
        t.check(r.get("next") is not None and r["next"] >= 10, "next of a full page: %r"
                % r.get("next"))
        t.eq(r.get("seq"), base + 61, "seq of case.list")


@test("case.list returns 50 items by default")
def _(t):
    d, base = county(t)
    with d.client() as c, d.pipeline(window=100) as p:
        t.require(all(r["ok"] for r in p.run([oreq(title="c%d" % i) for i in range(70)])),
                  "a write failed")
        r = c.call("case.list")
        t.eq([s["case"] for s in r["items"]], list(range(1, 51)), "default page")
        t.check(r.get("next") is not None, "next is nil with 20 cases left")
        r = c.call("case.list", after=r["next"])
        t.eq([s["case"] for s in r["items"]], list(range(51, 71)), "second page")
        t.eq(r.get("next"), None, "next at the end")


@test("a filtered log.read or case.list that examines 10,000 entries without a match "
      "still pages on to the rest")
def _(t):
    d, base = county(t)
    with d.client() as c, d.pipeline(window=200) as p:
        n = 10050
        for i in range(0, n, 1000):
            reqs = []
            for j in range(i, min(n, i + 1000)):
                f = {"title": "c%d" % j}
                if j in (0, n - 1):
                    f.update(kind="petition", taker=ACTOR)
                reqs.append(oreq(**f))
            t.require(all(r["ok"] for r in p.run(reqs, timeout=120)), "a write failed")
        r = c.write("case.note", case=n, text="the only note")
        t.require(r["ok"], r)
        r = c.call("log.read", topic="case.noted")
        t.check(r["ok"] and r["next"] <= 10000,
                "the first page examined more than 10,000 entries: next %r" % r.get("next"))
        noted, cur = read_log(c, topic="case.noted")
        t.eq([e["seq"] for e in noted], [base + n + 1], "case.noted entries")
        t.eq(cur, base + n + 1, "cursor")
        r = c.call("case.list", kind="petition", limit=1000)
        t.check(r["ok"] and r["next"] is not None,
                "the first page of a filtered case.list says there is no more: %r"
                % {k: r.get(k) for k in ("next", "seq")})
        t.eq([s["case"] for s in list_cases(c, kind="petition", limit=1000)], [1, n],
             "petitions")
        t.eq(len(list_cases(c, limit=1000)), n, "all cases")


@test("a retry with keys in another order or integers of another width is a duplicate, "
      "not a conflict")
def _(t):
    d, base = county(t)
    with d.client() as c:
        rid = new_id()
        r1 = c.request({"op": "case.open", "id": rid, "actor": ACTOR, "title": "t",
                        "unit": "xiaxi", "area": "grassroots", "tags": ["a", "b"]})
        r2 = c.request({"tags": ["a", "b"], "area": "grassroots", "unit": "xiaxi",
                        "title": "t", "actor": ACTOR, "id": rid, "op": "case.open"})
        t.eq(r2, dict(r1, duplicate=True), "keys in reverse order")
        body = [("op", "case.note"), ("id", "retry-width"), ("actor", ACTOR), ("case", None),
                ("text", "x")]
        n1 = decode(c.send_raw(mp_map_raw([(k, v if k != "case" else mp_uint(1, 0))
                                           for k, v in body])))
        n2 = decode(c.send_raw(mp_map_raw([(k, v if k != "case" else mp_uint(1, 8))
                                           for k, v in body])))
        t.check(n1["ok"], n1)
        t.eq(n2, dict(n1, duplicate=True), "case as fixint then as uint64")
        t.eq(ping_seq(c), base + 2, "seq")


@test("--listen-tcp serves requests on PORT and notifications on PORT+1")
def _(t):
    port = free_port_pair()
    d, base = county(t, args=["--listen-tcp", "127.0.0.1:%d" % port])
    curve = d.curve_for(County.CADRE)
    base += 1   # key.added
    sub = context().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    curve_client(sub, curve)
    sub.connect("tcp://127.0.0.1:%d" % (port + 1))
    t.defer(sub.close)
    deadline = time.monotonic() + 10
    beat = None
    while beat is None and time.monotonic() < deadline:
        if sub.poll(500):
            f = sub.recv_multipart()
            if f[0] == b"heartbeat":
                beat = decode(f[1])
    t.check(beat is not None and beat.get("topic") == "heartbeat",
            "no heartbeat on tcp port %d" % (port + 1))
    with ReqClient("tcp://127.0.0.1:%d" % port, curve=curve) as c:
        r = c.write("case.open", **open_fields({"title": "over tcp"}))
        t.check(r["ok"] and r.get("case") == 1, "case.open over tcp: %r" % r)
    f = None
    while time.monotonic() < deadline + 5:
        if sub.poll(500):
            f = sub.recv_multipart()
            if f[0] != b"heartbeat":
                break
    t.check(f is not None and f[0] == b"case.opened" and decode(f[1]).get("id") == r.get("id"),
            "no case.opened notification over tcp: %r" % (f,))
    with d.client() as c:
        t.eq(c.call("ping").get("seq"), base + 1, "seq over ipc")


@test("--listen-tcp takes a host name (resolved) and an IPv6 address in brackets")
def _(t):
    import socket
    port, port6 = free_port_pair(), free_port_pair()
    try:    # a machine without IPv6 on its loopback cannot bind [::1]
        with socket.socket(socket.AF_INET6) as s6:
            s6.bind(("::1", 0))
        v6 = True
    except OSError:
        v6 = False
        t.diag("no IPv6 loopback here: the host name only")
    args = ["--listen-tcp", "localhost:%d" % port]
    if v6:
        args += ["--listen-tcp", "[::1]:%d" % port6]
    d = t.daemon(args=args)
    d.build_county()
    curve = d.curve_for(County.CADRE)
    for ep in ["tcp://127.0.0.1:%d" % port] + (["tcp://[::1]:%d" % port6] if v6 else []):
        s = context().socket(zmq.REQ)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.IPV6, 1)
        curve_client(s, curve)
        s.connect(ep)
        s.send(encode({"op": "ping"}))
        r = decode(s.recv()) if s.poll(5000) else {}
        s.close()
        t.check(r.get("ok"), "ping at %s: %r" % (ep, r))
    with open(d.log_path, errors="replace") as f:
        log = f.read()
    t.check("listening on tcp://127.0.0.1:%d" % port in log and
            (not v6 or "listening on tcp://[::1]:%d" % (port6 + 1) in log),
            "the log: %r" % log[-400:])


# ---------------------------------------------------------------------------------------
# notifications

def subscribe_live(t, d, prefix=b""):
    """A SUB socket whose subscription is known to be in effect (a heartbeat arrived)."""
    s = context().socket(zmq.SUB)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SUBSCRIBE, prefix)
    if prefix != b"":
        s.setsockopt(zmq.SUBSCRIBE, b"heartbeat")
    s.connect(d.events)
    t.defer(s.close)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if s.poll(500):
            f = s.recv_multipart()
            if f[0] == b"heartbeat":
                return s
    t.fail("no heartbeat within 10 s")


@test("notifications arrive on PUB after commit, in seq order, and match log.read")
def _(t):
    d, base = county(t)
    s = subscribe_live(t, d)
    with d.client() as c, d.pipeline(window=20) as p:
        reqs = [oreq(title="c%d" % i) for i in range(20)]
        reqs += [wreq("case.note", case=1 + i % 20, text="n%d" % i) for i in range(40)]
        reps = p.run(reqs[:20]) + p.run(reqs[20:])
        t.require(all(r["ok"] for r in reps), "a write failed")
        got = []
        deadline = time.monotonic() + 15
        while len(got) < 60 and time.monotonic() < deadline:
            if not s.poll(500):
                continue
            f = s.recv_multipart()
            if f[0] == b"heartbeat":
                continue
            t.require(len(f) == 2, "a notification of %d frames" % len(f))
            e = decode(f[1])
            t.eq(f[0].decode(), e.get("topic"), "topic frame vs map topic")
            for k in ("seq", "topic", "at", "case", "actor", "id"):
                t.check(k in e, "notification without %s: %r" % (k, e))
            # committed before published: log.read already has it, identical
            r = c.call("log.read", after=e["seq"] - 1, limit=1)
            t.check(r["items"][:1] == [e], "log.read of %d: %r vs %r"
                    % (e["seq"], r["items"][:1], e))
            got.append(e)
        t.eq([e["seq"] for e in got], list(range(base + 1, base + 61)), "notified seqs")
        by_id = {e["id"]: e for e in got}
        for req, rep in zip(reqs, reps):
            e = by_id.get(req["id"], {})
            if not t.eq((e.get("seq"), e.get("case")), (rep["seq"], rep["case"]),
                        "notification of %s" % req["id"]):
                break


@test("a write that changes nothing publishes nothing")
def _(t):
    d, base = county(t)
    s = subscribe_live(t, d)
    with d.client() as c:
        r = c.request(unit_put_req(*County.UNITS[3]))
        t.eq(r.get("changed"), False, "changed")
        r = open_case(c)
    got = []
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        if s.poll(500):
            f = s.recv_multipart()
            if f[0] != b"heartbeat":
                got.append(decode(f[1]))
    t.eq([(e.get("seq"), e.get("topic")) for e in got], [(base + 1, "case.opened")],
         "the first notification after the county")


@test("a heartbeat arrives with topic, at and last_seq")
def _(t):
    d, base = county(t)
    with d.client() as c:
        open_case(c)
        open_case(c)
    s = context().socket(zmq.SUB)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SUBSCRIBE, b"heartbeat")
    s.connect(d.events)
    t.defer(s.close)
    beats = []
    deadline = time.monotonic() + 10
    while len(beats) < 2 and time.monotonic() < deadline:
        if s.poll(500):
            beats.append(s.recv_multipart())
    t.require(len(beats) == 2, "%d heartbeats in 10 s" % len(beats))
    for f in beats:
        t.eq(f[0], b"heartbeat", "topic frame")
        t.require(len(f) == 2, "heartbeat of %d frames" % len(f))
        m = decode(f[1])
        t.eq(m.get("topic"), "heartbeat", "topic")
        t.eq(m.get("last_seq"), base + 2, "last_seq")
        t.check(sane_ms(m.get("at")), "at: %r" % m.get("at"))
        t.check("seq" not in m, "a heartbeat carries a seq (it is not a log entry): %r" % m)
    t.check(decode(beats[1][1])["at"] >= decode(beats[0][1])["at"], "heartbeat at decreases")


def writer(d, n, acked, window=10, text="w"):
    """Open a case, then write n-1 notes to it, pipelined; appends replies to acked."""
    with d.client() as c, Pipeline(d.submit, window) as p:
        r = c.write("case.open", **open_fields({"title": "busy case"}))
        acked.append(r)
        for i in range(0, n - 1, 25):
            acked.extend(p.run([wreq("case.note", case=r["case"], text="%s%d" % (text, j))
                                for j in range(i, min(n - 1, i + 25))]))


@test("a subscriber that connects late catches up with log.read, missing nothing and "
      "repeating nothing")
def _(t):
    d, base = county(t)
    acked = []
    th = threading.Thread(target=writer, args=(d, 600, acked))
    th.start()
    t.defer(th.join)
    deadline = time.monotonic() + 20
    while len(acked) < 200 and th.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    sub = Subscriber(d.events, d.submit)
    t.defer(sub.close)
    th.join(60)
    t.require(not th.is_alive() and len(acked) == 600 and all(r["ok"] for r in acked),
              "the writer failed (%d acked)" % len(acked))
    end = base + 600
    deadline = time.monotonic() + 15
    while sub.cursor < end and time.monotonic() < deadline:
        sub.poll(0.5)
    seqs = [e["seq"] for e in sub.entries]
    t.eq(len(seqs), len(set(seqs)), "entries handed over twice")
    t.eq(seqs, list(range(1, end + 1)), "seqs handed over")
    t.diag("%d from log.read, %d live, %d heartbeats"
           % (sub.caught_up, sub.live, sub.heartbeats))
    with d.client() as c:
        items, _ = read_log(c)
    t.check(items == sub.entries, "entries differ from log.read")


@test("a topic-filtered subscriber gets exactly the entries of its prefix, once each")
def _(t):
    d, base = county(t)
    with d.client() as c:
        for _ in range(3):
            open_case(c)
    sub = Subscriber(d.events, d.submit, topic="case.opened")
    t.defer(sub.close)
    acked = []
    th = threading.Thread(target=writer, args=(d, 200, acked))
    th.start()
    with d.client() as c:
        for _ in range(5):
            open_case(c)
    th.join(60)
    t.require(len(acked) == 200, "writer acked %d" % len(acked))
    with d.client() as c:
        final = ping_seq(c)
        want, _ = read_log(c, topic="case.opened")
    deadline = time.monotonic() + 15
    while sub.cursor < final and time.monotonic() < deadline:
        sub.poll(0.5)
    t.eq([e["seq"] for e in sub.entries], [e["seq"] for e in want], "case.opened seqs")
    t.check(sub.entries == want, "entries differ from log.read")
    t.eq(len(want), 9, "case.opened entries")


if __name__ == "__main__":
    run_tests()
