#!/usr/bin/python3
"""
test_milestones.py - the campaign's milestones chased through the real daemon: when a
milestone's date passes, one `campaign.missing` notice per unit names the people who have
not done their part; the chase then climbs the escalation ladder like a deadline, each
level once, naming only who is still missing; a SIGKILL at any moment loses and repeats
no notice.

The county is pyclient's County. Its case owners (the identify milestone asks each of
them for a case): county.leader (county), head.anling and wang.li (anling), head.tianshi
and chen.jie (tianshi), zhao.hua (water). Days pass for the daemon through the clock shim.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyclient import (  # noqa: E402
    clock_shim, kill_at_random, new_id, read_log, restart_shifted, run_tests, test, today,
)

DAY = 86400


def log_of(d, topic=None):
    with d.client() as c:
        entries = read_log(c)[0]
    return [e for e in entries if topic is None or e["topic"] == topic]


def write(t, d, actor, op, **fields):
    with d.client() as c:
        r = c.write(op, actor=actor, **fields)
    t.require(r["ok"], "%s by %s: %r" % (op, actor, r))
    return r


def campaign(t, d, **dates):
    write(t, d, "theme", "campaign.set", name="走进矛盾、破解难题", start=today(-20),
          end=today(120), **dates)


def wait_for(d, topic, n, seconds=30):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got = log_of(d, topic)
        if len(got) >= n:
            return got
        time.sleep(0.2)
    return log_of(d, topic)


def notices(d):
    """{(level, unit): [person ids named]} of every campaign.missing, and the count of
    each (level, unit)."""
    got, count = {}, {}
    for e in log_of(d, "campaign.missing"):
        key = (e["level"], e["unit"])
        got[key] = [p["person"] for p in e["missing"]]
        count[key] = count.get(key, 0) + 1
    return got, count


@test("when the identify date passes, each unit with owners missing a case gets one "
      "campaign.missing naming them, and the people named are told")
def _(t):
    d = t.daemon()
    d.build_county()
    campaign(t, d, identify_by=today())
    write(t, d, "wang.li", "case.open", title="a road", area="development", unit="xiaxi")
    t.eq(log_of(d, "campaign.missing"), [], "nothing before the date passes")
    restart_shifted(t, d, 1)
    wait_for(d, "campaign.milestone", 1)
    got, count = notices(d)
    t.eq(got, {(0, "anling"): ["head.anling"], (0, "county"): ["county.leader"],
               (0, "tianshi"): ["chen.jie", "head.tianshi"], (0, "water"): ["zhao.hua"]},
         "one notice per unit, naming who is missing")
    t.eq(set(count.values()), {1}, "each once")
    tianshi = [e for e in log_of(d, "campaign.missing") if e["unit"] == "tianshi"][0]
    t.eq((tianshi["milestone"], tianshi["by"], tianshi["late"], tianshi["actor"],
          tianshi["missing"][0]["name"], tianshi["notify"]),
         ("identify", today(), True, "nantid", "陈杰",
          {"people": ["chen.jie", "head.tianshi"]}), "the notice")
    [m] = log_of(d, "campaign.milestone")
    t.eq((m["milestone"], m["level"], m["units"]), ("identify", 0, 4), "the summary")
    t.check(m["next_at"] is not None, "the next level is armed")
    with d.client() as c:
        chases = c.call("campaign.get")["chases"]
    t.eq(chases, {"identify": {"level": 1, "next_at": m["next_at"], "units": 0}},
         "campaign.get shows where the chase stands")
    for _ in range(2):
        d.stop()
        d.restart()
        time.sleep(0.3)
    t.eq(notices(d)[1], count, "no notice again after two restarts")


@test("the milestone's chase climbs the ladder, each level once, naming only who is "
      "still missing, and stops when nobody is")
def _(t):
    d = t.daemon()
    d.build_county()
    campaign(t, d, identify_by=today(), consult_by=today())
    restart_shifted(t, d, 1)
    wait_for(d, "campaign.milestone", 2)
    # late is still missing for the date, but a case opened now ends the chase for its lead
    write(t, d, "chen.jie", "case.open", title="a bridge", area="development",
          unit="dongcun")
    restart_shifted(t, d, 30)
    wait_for(d, "campaign.milestone", 2 + 4 + 1)
    got, count = notices(d)
    t.eq(set(count.values()), {1}, "each (level, unit) once")
    t.eq(got.get((1, "tianshi")), ["head.tianshi"], "chen.jie is no longer missing")
    t.eq(sorted(lvl for (lvl, u) in got if u == "water"), [0, 1, 2, 3, 4],
         "every level of the ladder")
    roles = [e["notify"] for e in log_of(d, "campaign.missing") if e["unit"] == "water"]
    t.eq([n.get("role") for n in roles[1:]],
         ["unit_head", "theme_office", "supervision", "county_leader"], "who each level tells")
    consult = [e for e in log_of(d, "campaign.missing") if e["milestone"] == "consult"]
    t.eq(consult, [], "consult: nobody was missing at its date, so its chase ended there")
    summary = [(m["milestone"], m["level"], m["units"]) for m in log_of(d, "campaign.milestone")]
    t.check(("identify", 4, 4) in summary and ("consult", 0, 0) in summary,
            "summed up: %r" % summary)


@test("moving a milestone's date re-arms its chase from the new date; an unchanged "
      "campaign.set leaves it where it is")
def _(t):
    d = t.daemon()
    d.build_county()
    campaign(t, d, identify_by=today(3))
    with d.client() as c:
        armed = c.call("campaign.get")["chases"]
    campaign(t, d, identify_by=today(3), threshold=90)
    with d.client() as c:
        t.eq(c.call("campaign.get")["chases"], armed, "the same date: the same chase")
    restart_shifted(t, d, 2)
    time.sleep(0.5)
    t.eq(log_of(d, "campaign.missing"), [], "not yet due")
    d.stop()
    d.env = {}
    d.restart()
    campaign(t, d, identify_by=today(1))
    campaign(t, d, identify_by=today(5))
    restart_shifted(t, d, 3)
    time.sleep(0.5)
    t.eq(log_of(d, "campaign.missing"), [], "moved to a later date: nothing at the old one")
    restart_shifted(t, d, 6)
    wait_for(d, "campaign.milestone", 1)
    t.eq(len([e for e in log_of(d, "campaign.missing") if e["level"] == 0]), 4,
         "fired at the new date")


@test("SIGKILLs at random moments while a milestone's notices go out lose none and "
      "repeat none")
def _(t):
    d = t.daemon()
    d.build_county()
    # 300 villages, each with a resident cadre who owes a case
    reqs = []
    for i in range(300):
        reqs.append({"op": "unit.put", "id": new_id(), "actor": "admin", "unit": "v%03d" % i,
                     "name": "村%d" % i, "kind": "village", "parent": "anling"})
        reqs.append({"op": "person.put", "id": new_id(), "actor": "admin",
                     "person": "r%03d" % i, "name": "驻村%d" % i, "unit": "v%03d" % i,
                     "roles": ["cadre", "resident_cadre"], "village": "v%03d" % i})
    with d.pipeline(window=200) as p:
        replies = p.run(reqs, timeout=60)
    t.require(all(r["ok"] for r in replies), repr([r for r in replies if not r["ok"]][:1]))
    campaign(t, d, identify_by=today())
    d.stop()
    d.env = {"LD_PRELOAD": clock_shim(t), "NANTI_TEST_SHIFT_S": str(30 * DAY)}
    kills = 20
    kill_at_random(d, kills, 11, 0.2)
    units = 300 + 4
    wait_for(d, "campaign.milestone", 5, seconds=60)
    got, count = notices(d)
    t.diag("%d kills; %d notices" % (kills, sum(count.values())))
    t.eq({k: v for k, v in count.items() if v != 1}, {}, "none repeated")
    t.eq(len(got), units * 5, "none lost: every unit at every level")
    levels = [e["level"] for e in log_of(d, "campaign.missing")]
    t.check(levels == sorted(levels), "level by level")


if __name__ == "__main__":
    run_tests()
