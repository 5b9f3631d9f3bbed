#!/usr/bin/python3
"""
test_authz.py - who may do what, as one table through the real daemon: every person of the
shared county (by what they are to a case of xiaxi, in anling, led by wang.li) against
every read op and every write op on units, people, the campaign, keys and the steps of a
case (docs/protocol.md section 9). Each cell is either done, or refused `forbidden` with
nothing changed; a write that is allowed is done on a case of its own, brought first to
the step the op needs: a petition for the petition's ops, a case with a deadline for the
deadline's, and a passed deadline, with the clock moved on, for acknowledging its notice.

The tests connect over ipc as root, which may name any actor (ipc-users): each request
names the person whose rights it is judged by.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""
import json
import os
import subprocess
import sys
import time

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from flow import COLLEAGUE, DEADLINE, FIELDS, HEAD, LEAD, OTHER_HEAD, OUTSIDER, RESIDENT, \
    SUPERVISION, THEME, UNIT, Flow  # noqa: E402
from pyclient import (  # noqa: E402
    ROOT, County, context, error_code, read_log, restart_shifted, run_tests, test, today)

VILLAGE_CADRE = "xu.cun"          # a cadre of xiaxi itself
COUNTY_LEADER = County.COUNTY_LEADER
ADMIN = County.ADMIN
# Everyone, by what they are to a case of xiaxi led by wang.li.
PEOPLE = {
    "the lead": LEAD,
    "a colleague in anling": COLLEAGUE,
    "a cadre of xiaxi": VILLAGE_CADRE,
    "anling's unit head": HEAD,
    "a leader of tianshi": OUTSIDER,
    "tianshi's unit head": OTHER_HEAD,
    "a resident cadre in dongcun": RESIDENT,
    "the theme office": THEME,
    "the supervision office": SUPERVISION,
    "a county leader": COUNTY_LEADER,
    "an admin": ADMIN,
}
REACH = {LEAD, COLLEAGUE, VILLAGE_CADRE, HEAD}          # anling's people, and xiaxi's
COUNTY_WIDE = {THEME, SUPERVISION, COUNTY_LEADER, ADMIN}
EVERYONE = set(PEOPLE.values())

# Who may read: by op (a case of xiaxi for the case ops).
READS = {
    "ping": EVERYONE, "unit.get": EVERYONE, "unit.list": EVERYONE, "person.get": EVERYONE,
    "person.list": EVERYONE, "campaign.get": EVERYONE, "campaign.coverage": EVERYONE,
    "case.get": REACH | COUNTY_WIDE,
    "stats": COUNTY_WIDE, "log.read": COUNTY_WIDE,
}
# The lists hold the case for those who may read it, and leave it out for the rest.
LISTS = {"case.list": REACH | COUNTY_WIDE, "deadline.list": REACH | COUNTY_WIDE}

# Who may write: by op, on a case of xiaxi led by wang.li.
WRITES = {
    "case.open": {LEAD, HEAD, THEME},
    "case.plan": {LEAD}, "case.consult": {LEAD}, "case.coordinate": {LEAD},
    "case.resolve": {LEAD}, "case.journal": {LEAD}, "case.outcome": {LEAD},
    "case.commit": {LEAD, THEME},
    "case.verify": {THEME}, "case.reopen": {THEME},
    "case.reassign": {HEAD, THEME},
    "case.note": REACH | COUNTY_WIDE,
    "case.escalate": {SUPERVISION, THEME},
    "unit.put": {ADMIN}, "person.put": {ADMIN}, "key.add": {ADMIN}, "key.revoke": {ADMIN},
    "campaign.set": {THEME, ADMIN},
    # a petition, taken by anling's unit head
    "case.guarantee": {LEAD, HEAD}, "case.repeat": {LEAD, HEAD, THEME, SUPERVISION},
    # the deadline: asking for an extension, deciding it (acknowledging: a test below)
    "case.extend": {LEAD}, "case.decide_extension": {THEME},
}
# Where each case op is done: the step to bring the case to, and what must come first.
PREP = {
    "case.plan": ("identified", []), "case.consult": ("identified", []),
    "case.note": ("identified", []), "case.escalate": ("identified", []),
    "case.reassign": ("identified", []),
    "case.coordinate": ("planned", []), "case.commit": ("planned", ["case.consult"]),
    "case.resolve": ("committed", ["case.coordinate"]),
    "case.outcome": ("resolved", []), "case.journal": ("resolved", ["case.consult"]),
    "case.verify": ("journaled", []), "case.reopen": ("crossed_off", []),
}


def row(actor):
    return next(k for k, v in PEOPLE.items() if v == actor)


@test("reads: every person against every read op, and the case lists hold only the cases "
      "each may read")
def _(t):
    f = Flow(t, t.daemon())
    here = f.case_at("identified", deadline=DEADLINE)
    there = f.open(OUTSIDER, unit="dongcun", deadline=DEADLINE)
    args = {"unit.get": {"unit": "anling"}, "person.get": {"person": LEAD},
            "case.get": {"case": here}, "log.read": {"limit": 5}}
    for op, allowed in READS.items():
        for actor in EVERYONE:
            r = f.c.request(dict({"op": op, "actor": actor}, **args.get(op, {})))
            if actor in allowed:
                t.check(r["ok"], "%s by %s (%s): %r" % (op, actor, row(actor), r))
            else:
                t.check(error_code(r) == "forbidden", "%s by %s (%s) must be forbidden: %r"
                        % (op, actor, row(actor), r))
    for op, allowed in LISTS.items():
        for actor in EVERYONE:
            r = f.c.request({"op": op, "actor": actor, "limit": 500} if op == "case.list"
                            else {"op": op, "actor": actor, "within": 60})
            t.require(r["ok"], "%s by %s: %r" % (op, actor, r))
            got = {i["case"] for i in r["items"]}
            t.eq(here in got, actor in allowed, "%s by %s (%s) holds the case of xiaxi"
                 % (op, actor, row(actor)))
            t.eq(there in got, actor in COUNTY_WIDE | {OUTSIDER, OTHER_HEAD, RESIDENT},
                 "%s by %s (%s) holds the case of dongcun" % (op, actor, row(actor)))
    # without an actor, a trusted connection reads everything (an operator's tools)
    r = f.c.request({"op": "log.read", "limit": 1})
    t.check(r["ok"], "log.read naming nobody: %r" % r)
    r = f.c.request({"op": "case.get", "actor": "no.such.person", "case": here})
    t.eq(error_code(r), "forbidden", "a read by someone who is no person: %r" % r)


def case_for(f, op):
    """A case of xiaxi led by wang.li, brought to where op is done."""
    step, first = PREP[op]
    k = f.case_at(step)
    for before in first:
        f.step(LEAD, before, k)
    return k


def request_for(f, op, actor, n):
    """The request for op by actor, valid but for who sends it (n: a counter for new ids)."""
    if op == "case.open":
        return {"title": "a problem of xiaxi", "area": "livelihood", "unit": UNIT,
                "lead": LEAD}
    if op == "unit.put":
        return {"unit": "v%d" % n, "name": "新村 %d" % n, "kind": "village", "parent": "anling"}
    if op == "person.put":
        return {"person": "p%d" % n, "name": "新人 %d" % n, "unit": "anling",
                "roles": ["cadre"]}
    if op == "campaign.set":
        return {"name": "走进矛盾、破解难题 %d" % n, "start": today(-10), "end": today(60)}
    if op == "key.add":
        return {"person": COLLEAGUE, "key": zmq.curve_keypair()[0].decode()}
    if op == "key.revoke":
        f.ok(ADMIN, "key.add", person=COLLEAGUE, key=zmq.curve_keypair()[0].decode())
        return {"person": COLLEAGUE}
    if op in ("case.guarantee", "case.repeat"):
        k = f.ok(THEME, "case.open", title="a petition", area="livelihood", unit=UNIT,
                 lead=LEAD, kind="petition", taker=HEAD)["case"]
        return dict(FIELDS[op], case=k)
    if op in ("case.extend", "case.decide_extension"):
        k = f.open(deadline=DEADLINE)
        if op == "case.extend":
            return {"case": k, "until": today(35), "reason": "the rains"}
        f.ok(LEAD, "case.extend", case=k, until=today(35), reason="the rains")
        return {"case": k, "approve": True}
    fields = dict(FIELDS[op], case=case_for(f, op))
    if op == "case.reassign":
        fields["lead"] = COLLEAGUE     # within anling: what a unit head may do
    return fields


@test("writes: every person against every write op on units, people, the campaign, keys, "
      "each step of a case, a petition and a deadline; a refusal is forbidden and changes "
      "nothing")
def _(t):
    f = Flow(t, t.daemon())
    n = 0
    for op, allowed in WRITES.items():
        for actor in sorted(EVERYONE):
            n += 1
            fields = request_for(f, op, actor, n)
            if actor in allowed:
                r = f.w(actor, op, **fields)
                t.check(r["ok"], "%s by %s (%s): %r" % (op, actor, row(actor), r))
            else:
                r = f.refused(actor, op, "forbidden", **fields)


@test("acknowledging the overdue notice: the lead alone, of everyone, on a case whose "
      "deadline passed")
def _(t):
    d = t.daemon()
    f = Flow(t, d)
    cases = {actor: f.open(deadline=today()) for actor in EVERYONE}
    f.c.close()
    restart_shifted(t, d, 1)
    with d.client() as c:
        for _ in range(50):     # the overdue notices fire at start
            got = {e["case"] for e in read_log(c, topic="deadline.overdue")[0]}
            if set(cases.values()) <= got:
                break
            time.sleep(0.2)
        t.require(set(cases.values()) <= got, "every case's overdue notice fired")
        for actor, k in sorted(cases.items()):
            seq0 = c.call("ping")["seq"]
            r = c.write("case.ack", actor=actor, case=k, level=0)
            if actor == LEAD:
                t.check(r["ok"], "case.ack by the lead: %r" % r)
            else:
                t.eq(error_code(r), "forbidden", "case.ack by %s (%s): %r"
                     % (actor, row(actor), r))
                t.eq(c.call("ping")["seq"], seq0, "a refused ack changes nothing")


PETITIONER = {"petitioner_name": "张三", "petitioner_id_number": "330000199001011234",
              "petitioner_phone": "13800000000", "petitioner_address": "下溪村 3 组 12 号"}


@test("a petitioner's identifying fields are shown to the lead, the taker and the offices, "
      "hidden from everyone else, and never in the log, a notification or an exported entry")
def _(t):
    d = t.daemon()
    f = Flow(t, d)
    sub = context().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.RCVTIMEO, 5000)
    sub.setsockopt(zmq.SUBSCRIBE, b"case.opened")
    sub.connect(d.events)
    t.defer(sub.close)
    time.sleep(0.3)     # the subscription reaches the daemon
    k = f.ok(THEME, "case.open", title="a repeat petition about the road", area="livelihood",
             unit=UNIT, lead=LEAD, kind="petition", taker=HEAD, **PETITIONER)["case"]
    topic, body = sub.recv_multipart()
    live = msgpack.unpackb(body, raw=False)
    t.eq((topic, live["case"]), (b"case.opened", k), "the notification")
    t.eq([x for x in PETITIONER if x in live], [], "the notification leaves them out")
    entry = f.c.request({"op": "log.read", "after": live["seq"] - 1, "limit": 1})["items"][0]
    t.eq([x for x in PETITIONER if x in entry], [], "the log entry leaves them out")
    seers = {LEAD, HEAD, THEME, SUPERVISION}            # the lead, the taker, the offices
    for actor in sorted(EVERYONE):
        r = f.c.request({"op": "case.get", "actor": actor, "case": k})
        if not r["ok"]:
            t.check(actor not in REACH | COUNTY_WIDE, "case.get by %s: %r" % (actor, r))
            continue
        shown = {x: r["case"][x] for x in PETITIONER if x in r["case"]}
        t.eq(shown, PETITIONER if actor in seers else {},
             "what %s (%s) sees" % (actor, row(actor)))
    r = f.c.request({"op": "case.get", "case": k})
    t.eq({x: r["case"].get(x) for x in PETITIONER}, PETITIONER, "the operator's tools see them")
    r = f.w(THEME, "case.open", title="not a petition", area="livelihood", unit=UNIT,
            lead=LEAD, petitioner_name="李四")
    t.check(error_code(r) == "bad_request" and "petition" in r["error"]["message"],
            "petitioner fields on another kind: %r" % r)
    path = os.path.join(d.base, "e.jsonl")
    d.stop()
    out = subprocess.run([os.path.join(ROOT, "build", "nanti"), "admin", "export", path,
                          "--state-dir", d.state_dir], capture_output=True, text=True)
    t.require(out.returncode == 0, out.stderr)
    with open(path) as fh:
        lines = [json.loads(ln) for ln in fh]
    entries = [ln["entry"] for ln in lines if "entry" in ln]
    t.eq([e["seq"] for e in entries if "petitioner_name" in e], [],
         "no exported entry holds them")
    t.eq([ln["case"].get("petitioner_name") for ln in lines
          if "case" in ln and ln["case"]["case"] == k], [PETITIONER["petitioner_name"]],
         "the case record in the export does (the file is 0600: docs/operations.md)")


if __name__ == "__main__":
    run_tests()
