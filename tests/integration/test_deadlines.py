#!/usr/bin/python3
"""
test_deadlines.py - deadline timers through the real daemon: a passed handling deadline
fires `deadline.overdue`, then climbs the escalation ladder, each step once; a timer that
came due while the daemon was down fires at start, marked late, in due order; a SIGKILL
at any moment loses and repeats no firing.

Days pass for the daemon through pyclient's clock shim (LD_PRELOAD moves its
CLOCK_REALTIME on). The default ladder (docs/deadlines.md): overdue at the midnight that
ends the deadline day, then escalation.1 to .4 one, three, five and ten working days on.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyclient import (  # noqa: E402
    ROOT, clock_shim, kill_at_random, new_id, read_log, restart_shifted, run_tests, test,
    today,
)

LADDER = ["deadline.overdue", "escalation.1", "escalation.2", "escalation.3",
          "escalation.4"]
DAY = 86400


def chase_topics(entries):
    """{case: [topics of its chase firings, in seq order]}, repeats left out"""
    out = {}
    for e in entries:
        if e["topic"] in LADDER and "repeat" not in e:
            out.setdefault(e["case"], []).append(e["topic"])
    return out


def repeats_of(entries):
    """[(case, level, repeat)] of the chase's repeats, in seq order"""
    return [(e["case"], e["level"], e["repeat"]) for e in entries
            if e["topic"] in LADDER and "repeat" in e]


def open_cases(d, n, deadline):
    """n cases led by wang.li with the given deadline; their ids."""
    with d.pipeline(window=200) as p:
        reqs = [{"op": "case.open", "id": new_id(), "actor": "wang.li",
                 "title": "road %d" % i, "area": "development", "unit": "xiaxi",
                 "deadline": deadline} for i in range(n)]
        replies = p.run(reqs, timeout=60)
    assert all(r["ok"] for r in replies), [r for r in replies if not r["ok"]][:1]
    return [r["case"] for r in replies]


def configured(t, text):
    """A daemon started with a configuration file holding text, with the County; and the
    file's path."""
    d = t.daemon(start=False)
    conf = d.configure(text)
    d.start()
    d.build_county()
    return d, conf


def refused(t, d, conf, more, message):
    """Stop d, add the lines `more` to its configuration, and check that nantid then
    refuses to start, saying message."""
    d.stop()
    with open(conf, "a") as f:
        f.write(more)
    r = subprocess.run([d.binary, "--config", conf, "--state-dir", d.state_dir,
                        "--runtime-dir", d.run_dir], capture_output=True, text=True,
                       timeout=30)
    t.check(r.returncode != 0 and message in r.stderr,
            "refused: %d %r" % (r.returncode, r.stderr))


def log_of(d):
    with d.client() as c:
        return read_log(c)[0]


@test("a passed deadline fires deadline.overdue once, marked late after the daemon was "
      "down, and never again after restarts")
def _(t):
    d = t.daemon()
    d.build_county()
    [k] = open_cases(d, 1, today())
    t.eq(chase_topics(log_of(d)), {}, "nothing fires before the deadline")
    restart_shifted(t, d, 1)
    time.sleep(0.5)
    entries = [e for e in log_of(d) if e["topic"] == "deadline.overdue"]
    t.eq(len(entries), 1, "one overdue firing")
    if entries:
        e = entries[0]
        t.eq((e["case"], e["lead"], e["unit"], e["level"], e["late"], e["actor"]),
             (k, "wang.li", "xiaxi", 0, True, "nantid"), "the firing")
        t.eq(e["notify"], {"person": "wang.li"}, "the lead is told")
        t.eq(e["deadline"], today(), "the deadline it chases")
    for _ in range(2):
        d.stop()
        d.restart()
        time.sleep(0.3)
    t.eq(len([e for e in log_of(d) if e["topic"] == "deadline.overdue"]), 1,
         "still one after two restarts")
    with d.client() as c:
        cs = c.call("case.get", case=k)["case"]
    t.check(cs.get("chase_level", 0) >= 1, "the chase moved to the ladder: %r" % cs)


@test("the chase climbs the whole ladder in order, each level once, each naming who is "
      "told")
def _(t):
    d = t.daemon()
    d.build_county()
    ks = open_cases(d, 3, today())
    restart_shifted(t, d, 30)
    time.sleep(1)
    got = chase_topics(log_of(d))
    t.eq(got, {k: LADDER for k in ks}, "every level once, in order, for every case")
    roles = [e["notify"].get("role") for e in log_of(d)
             if e["topic"].startswith("escalation.") and e["case"] == ks[0] and
             "repeat" not in e]
    t.eq(roles, ["unit_head", "theme_office", "supervision", "county_leader"],
         "who each level tells")
    # nobody acknowledged: each level repeated every working day until the next, and the
    # top every working day since
    reps = [(lvl, n) for k, lvl, n in repeats_of(log_of(d)) if k == ks[0]]
    t.check((1, 1) in reps and (3, 4) in reps and (4, 5) in reps and (0, 1) not in reps,
            "repeats: %r" % reps)


@test("a case resolved before its deadline is not chased, and one sent back to work is "
      "chased again")
def _(t):
    d = t.daemon()
    d.build_county()
    [a, b] = open_cases(d, 2, today(2))
    with d.client() as c:
        def w(actor, op, **f):
            r = c.write(op, actor=actor, **f)
            assert r["ok"], r
        for k in (a, b):
            w("wang.li", "case.plan", case=k, measures="m", schedule="s",
              deadline=today(2), units=["anling"])
            w("wang.li", "case.consult", case=k, date=today(), place="p", residents=9,
              summary="s")
            w("wang.li", "case.commit", case=k, venue="county_news", date=today(), ref="r")
            w("wang.li", "case.coordinate", case=k, form="onsite", date=today(),
              summary="s")
            w("wang.li", "case.resolve", case=k, summary="done")
        w("theme", "case.verify", case=b, verdict="return", reason="not done")
    restart_shifted(t, d, 5)
    time.sleep(0.5)
    got = chase_topics(log_of(d))
    t.check(a not in got, "the resolved case is not chased: %r" % got.get(a))
    t.check(got.get(b, [])[:1] == ["deadline.overdue"], "the returned one is: %r" %
            got.get(b))


@test("killed with SIGKILL at random moments while firing a backlog, the daemon loses "
      "and repeats no firing, and fires in due order")
def _(t):
    d = t.daemon()
    d.build_county()
    ks = open_cases(d, 600, today())
    d.stop()
    d.env = {"LD_PRELOAD": clock_shim(t), "NANTI_TEST_SHIFT_S": str(30 * DAY)}
    kills = 25
    kill_at_random(d, kills, 7, 0.15)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = chase_topics(log_of(d))
        if sum(len(v) for v in got.values()) >= len(ks) * len(LADDER):
            break
        time.sleep(0.3)
    got = chase_topics(log_of(d))
    t.diag("%d kills; %d firings" % (kills, sum(len(v) for v in got.values())))
    wrong = {k: v for k, v in got.items() if v != LADDER}
    t.eq(len(got), len(ks), "every case was chased")
    t.eq(wrong, {}, "each level exactly once, in order")
    reps = repeats_of(log_of(d))
    t.eq(len(reps), len(set(reps)), "no repeat twice")
    per = {}
    for k, lvl, n in reps:
        per.setdefault((k, lvl), []).append(n)
    t.eq({x: v for x, v in per.items() if v != list(range(1, len(v) + 1))}, {},
         "the repeats of each level numbered 1, 2, ... in order")
    # due order: every overdue before any escalation.1, and so on up the ladder
    seqs = [(e["seq"], LADDER.index(e["topic"]), e["due"]) for e in log_of(d)
            if e["topic"] in LADDER]
    dues = [s[2] for s in sorted(seqs)]
    t.check(dues == sorted(dues), "firings in due order")


@test("an extension asked in time and granted moves the deadline and its chase; the lead "
      "acknowledges an overdue notice, once, and the ladder goes on")
def _(t):
    d = t.daemon()
    d.build_county()
    [k] = open_cases(d, 1, today(1))
    with d.client() as c:
        before = c.call("case.get", case=k)["case"]["chase_at"]
        r = c.write("case.extend", actor="wang.li", case=k, until=today(8), reason="rain")
        t.eq((r["ok"], r.get("step")), (True, "identified"), "asked: %r" % r)
        r = c.write("case.decide_extension", actor="wang.li", case=k, approve=True)
        t.eq(r.get("error", {}).get("code"), "forbidden", "only the theme office decides")
        r = c.write("case.decide_extension", actor="theme", case=k, approve=True)
        t.check(r["ok"], "granted: %r" % r)
        cs = c.call("case.get", case=k)["case"]
        t.eq((cs["deadline"], cs["extensions"]), (today(8), 1), "the deadline moved")
        t.eq(cs["chase_at"] - before, 7 * DAY * 1000, "and its chase with it")
        r = c.write("case.ack", actor="wang.li", case=k, level=0)
        t.eq(r.get("error", {}).get("code"), "invalid_transition", "nothing to acknowledge yet")
    restart_shifted(t, d, 10)
    time.sleep(0.5)
    with d.client() as c:
        r = c.write("case.ack", actor="wang.li", case=k, level=0)
        t.check(r["ok"], "acknowledged: %r" % r)
        r = c.write("case.ack", actor="wang.li", case=k, level=0)
        t.eq(r.get("error", {}).get("code"), "conflict", "once")
        cs = c.call("case.get", case=k)["case"]
        t.eq(cs["acked"], 1, "recorded on the case")
    topics = [e["topic"] for e in log_of(d) if e.get("case") == k]
    t.check("case.acknowledged" in topics and "escalation.1" in topics,
            "acknowledged, and the ladder went on: %r" % topics)


@test("deadline.list lists the deadlines passed and coming, soonest first, with how late "
      "and how far up the ladder; nanti deadlines prints them by unit")
def _(t):
    d = t.daemon()
    d.build_county()
    with d.client() as c:
        ks = []
        for unit, lead, dl in (("xiaxi", "wang.li", today()), ("xiaxi", "wang.li", today(3)),
                               ("dongcun", "chen.jie", today(1)),
                               ("xiaxi", "wang.li", today(40)), ("xiaxi", "wang.li", None)):
            f = {"title": "t", "area": "development", "unit": unit}
            if dl:
                f["deadline"] = dl
            r = c.write("case.open", actor=lead, **f)
            t.require(r["ok"], repr(r))
            ks.append(r["case"])
    restart_shifted(t, d, 2)
    time.sleep(0.5)
    with d.client() as c:
        r = c.call("deadline.list")
        t.eq([x["case"] for x in r["items"]], [ks[0], ks[2], ks[1]], "soonest first, 14 days")
        first = r["items"][0]
        t.eq((first["overdue"], first["days_left"], first["level"], first["lead"]),
             (True, -2, 1, "wang.li"), "the first: two days late, escalated once")
        t.eq(r["items"][2]["level"], None, "a coming deadline has no level")
        r = c.call("deadline.list", unit="anling", within=60)
        t.eq([x["case"] for x in r["items"]], [ks[0], ks[1], ks[3]], "anling, 60 days")
        r = c.call("deadline.list", unit="nowhere")
        t.eq(r.get("error", {}).get("code"), "not_found", "an unknown unit")
    out = subprocess.run([os.path.join(ROOT, "build", "nanti"), "--runtime-dir", d.run_dir,
                          "deadlines"], capture_output=True, text=True, timeout=30)
    t.eq(out.returncode, 0, "exit status: %s" % out.stderr)
    lines = out.stdout.splitlines()
    t.check(lines[1:2] == ["xiaxi"] and "overdue 2 days" in lines[2] and
            "escalation.1" in lines[2], out.stdout)
    t.check("dongcun" in lines and any("overdue notice" in x for x in lines), out.stdout)


@test("the ladder, the reminders and the extension caps come from the configuration; a "
      "bad setting is refused with its file and line")
def _(t):
    d, conf = configured(t, "# a short ladder\ndeadline-ladder = theme_office:1\n"
                            "deadline-reminders =\nextension-max = 0\n")
    [k] = open_cases(d, 1, today(5))
    with d.client() as c:
        cs = c.call("case.get", case=k)["case"]
        t.check("remind_at" not in cs and "chase_at" in cs, "no reminders: %r" % cs)
        r = c.write("case.extend", actor="wang.li", case=k, until=today(9), reason="r")
        t.eq(r.get("error", {}).get("code"), "invalid_transition", "no extension allowed")
    restart_shifted(t, d, 30)
    time.sleep(0.5)
    got = chase_topics(log_of(d))
    t.eq(got, {k: ["deadline.overdue", "escalation.1"]}, "two levels, no more")
    esc = [e for e in log_of(d) if e["topic"] == "escalation.1"]
    t.eq(esc[0]["notify"] if esc else None, {"role": "theme_office", "unit": "xiaxi"},
         "the configured role")
    with d.client() as c:
        items = c.call("deadline.list")["items"]
    t.eq([x["level"] for x in items], [1], "the top of the short ladder")
    # a bad setting: the daemon does not start, and says where
    refused(t, d, conf, "deadline-ladder = mayor:1\n",
            "nantid.conf:5: invalid setting 'deadline-ladder'")


@test("requests are answered while a backlog of firings is caught up, not after it")
def _(t):
    d = t.daemon()
    d.build_county()
    ks = open_cases(d, 1500, today())
    restart_shifted(t, d, 30)
    seen = []
    with d.client() as c:
        for _ in range(200):
            seen.append(c.call("ping")["seq"])
            if len(seen) > 3 and seen[-1] == seen[-2] == seen[-3]:
                break
    final = seen[-1]
    during = [s for s in seen if s < final]
    t.diag("%d pings, %d answered during the catch-up" % (len(seen), len(during)))
    t.check(len(during) > 0, "no request was answered during the catch-up")
    t.eq(sum(len(v) for v in chase_topics(log_of(d)).values()), len(ks) * len(LADDER),
         "and the backlog was all fired")


def working_days_after(day, n, holidays=()):
    """The n-th working day after day (weekends and the given dates off), as a date."""
    import datetime
    d = datetime.date.fromisoformat(day)
    while n > 0:
        d += datetime.timedelta(days=1)
        if d.weekday() < 5 and d.isoformat() not in holidays:
            n -= 1
    return d.isoformat()


def write_calendar(dirname, holidays):
    """A calendar directory whose year files declare the given dates holidays."""
    os.makedirs(dirname, exist_ok=True)
    for f in os.listdir(dirname):
        os.unlink(os.path.join(dirname, f))
    years = sorted({int(today()[:4]) + i for i in range(3)} | {int(h[:4]) for h in holidays})
    for y in years:
        with open(os.path.join(dirname, "%d.cal" % y), "w") as f:
            f.write("year %d\nsource a test calendar\n" % y)
            for h in sorted(holidays):
                if int(h[:4]) == y:
                    f.write("holiday %s test\n" % h)


@test("a deadline is a date, or days or working days from today; it keeps how it was "
      "computed, and a petition gets its 60 days by default")
def _(t):
    d = t.daemon()
    d.build_county()
    with d.client() as c:
        def opened(**f):
            r = c.write("case.open", actor="wang.li", title="t", area="development",
                        unit="xiaxi", **f)
            t.require(r["ok"], repr(r))
            return c.call("case.get", case=r["case"])["case"]
        k = opened(deadline_working_days=10)
        t.eq((k["deadline"], k["deadline_basis"], k["deadline_from"], k["deadline_n"]),
             (working_days_after(today(), 10), "working_days", today(), 10), "working days")
        k = opened(deadline_days=30)
        t.eq((k["deadline"], k["deadline_basis"]), (today(30), "days"), "calendar days")
        k = opened(deadline=today(9))
        t.eq((k["deadline"], k.get("deadline_basis", "date")), (today(9), "date"), "a date")
        k = opened(kind="petition", taker="wang.li")
        t.eq((k["deadline"], k["deadline_basis"], k["deadline_n"]), (today(60), "days", 60),
             "a petition: 60 days from its acceptance")
        r = c.write("case.open", actor="wang.li", title="t", area="development", unit="xiaxi",
                    deadline=today(9), deadline_days=3)
        t.eq(r.get("error", {}).get("code"), "bad_request", "one way only: %r" % r)
        r = c.write("case.plan", actor="wang.li", case=k["case"], measures="m", schedule="s",
                    units=["anling"])
        t.eq(r.get("error", {}).get("code"), "bad_request", "a plan needs a deadline")


@test("each step has a time limit in working days; when it passes, step.overdue tells the "
      "lead once, and the next step starts a new limit")
def _(t):
    d = t.daemon()
    d.build_county()
    [k] = open_cases(d, 1, today(60))
    with d.client() as c:
        cs = c.call("case.get", case=k)["case"]
    t.eq((cs["step_from"], cs["step_limit"], cs["step_due"]),
         (today(), 5, working_days_after(today(), 5)), "identified: 5 working days to plan")
    restart_shifted(t, d, 30)
    time.sleep(0.5)
    got = [e for e in log_of(d) if e["topic"] == "step.overdue"]
    t.eq([(e["case"], e["step"], e["step_due"], e["notify"]) for e in got],
         [(k, "plan", cs["step_due"], {"person": "wang.li"})], "once, naming the step")
    with d.client() as c:
        r = c.write("case.plan", actor="wang.li", case=k, measures="m", schedule="s",
                    deadline_days=40, units=["anling"])
        t.require(r["ok"], repr(r))
        cs = c.call("case.get", case=k)["case"]
    t.eq((cs["step_from"], cs["step_limit"]), (today(30), 5), "planned: 5 to commit")
    t.check(cs.get("step_at", 0) > 0, "armed again: %r" % cs)
    d.stop()
    d.restart()
    time.sleep(0.3)
    t.eq(len([e for e in log_of(d) if e["topic"] == "step.overdue"]), 1, "no repeat")


@test("step limits and handling limits per kind come from the configuration")
def _(t):
    d, conf = configured(t, "step-limits.petition = plan:2\nstep-limits = plan:7, commit:3\n"
                            "handling-limits = problem:20w\n")
    with d.client() as c:
        r = c.write("case.open", actor="wang.li", title="t", area="development", unit="xiaxi")
        cs = c.call("case.get", case=r["case"])["case"]
        t.eq((cs["step_limit"], cs["deadline"], cs["deadline_basis"]),
             (7, working_days_after(today(), 20), "working_days"), "a problem")
        r = c.write("case.open", actor="wang.li", title="t", area="development", unit="xiaxi",
                    kind="petition", taker="wang.li")
        cs = c.call("case.get", case=r["case"])["case"]
        t.eq((cs["step_limit"], cs.get("deadline")), (2, None),
             "a petition: its own limit, and no handling limit configured")
    refused(t, d, conf, "step-limits = cross_off:3\n",
            "nantid.conf:4: invalid setting 'step-limits'")


@test("reminders in hours, quiet hours and repeats come from the configuration; a reminder "
      "hour inside the quiet hours is refused")
def _(t):
    d, conf = configured(t, "deadline-reminders = 2h\nquiet-hours = 21-8\n"
                            "escalation-repeat = 0\n")
    [k] = open_cases(d, 1, today(9))
    with d.client() as c:
        cs = c.call("case.get", case=k)["case"]
    # 2 hours before the deadline ends is 22:00, quiet: 09:00 that day if it is a working
    # day, else the working morning before
    t.check(cs.get("remind_at") is not None and
            time.gmtime(cs["remind_at"] / 1000 + 8 * 3600).tm_hour == 9, "moved: %r" % cs)
    t.check("remind_again_at" not in cs, "one reminder")
    restart_shifted(t, d, 30)
    time.sleep(0.5)
    t.eq(repeats_of(log_of(d)), [], "no repeats")
    t.eq(chase_topics(log_of(d)), {k: LADDER}, "the ladder")
    refused(t, d, conf, "reminder-hour = 22\n", "reminder-hour 22 falls in quiet-hours 21-8")


@test("the county's time zone comes from the configuration: days and mornings are counted "
      "in it; a zone with daylight saving time or unknown is refused")
def _(t):
    d, conf = configured(t, "time-zone = Asia/Urumqi\n")     # UTC+6 all year
    [k] = open_cases(d, 1, today(20))
    with d.client() as c:
        cs = c.call("case.get", case=k)["case"]
    t.eq(time.gmtime(cs["remind_at"] / 1000 + 6 * 3600).tm_hour, 9, "09:00 at UTC+6")
    t.eq(time.gmtime(cs["chase_at"] / 1000 + 6 * 3600)[3:6], (0, 0, 0), "midnight at UTC+6")
    refused(t, d, conf, "time-zone = America/New_York\n",
            "nantid.conf:2: invalid setting 'time-zone'")
    with open(conf, "w") as f:
        f.write("time-zone = Nowhere/Atlantis\n")
    refused(t, d, conf, "", "nantid.conf:1: invalid setting 'time-zone'")


@test("the wall clock of a running daemon jumping forward fires what became due, once; "
      "jumping back fires nothing again")
def _(t):
    d = t.daemon(start=False)
    shift = os.path.join(d.base, "shift")

    def jump(days):
        with open(shift + ".tmp", "w") as f:
            f.write(str(int(days * DAY)))
        os.rename(shift + ".tmp", shift)
        time.sleep(2.5)     # the shim reads it within 50 ms; the loop wakes within 1 s

    jump(0)
    d.env = {"LD_PRELOAD": clock_shim(t), "NANTI_TEST_SHIFT_FILE": shift}
    d.start()
    d.build_county()
    [k] = open_cases(d, 1, today())
    time.sleep(0.5)
    t.eq(chase_topics(log_of(d)), {}, "nothing due yet")
    jump(1)
    t.eq(chase_topics(log_of(d)).get(k, [])[:1], ["deadline.overdue"], "a day on: overdue")
    fired = len(log_of(d))
    jump(0)
    t.eq(len(log_of(d)), fired, "back a day: nothing fires again")
    jump(1)
    t.eq(len(log_of(d)), fired, "forward again to where it was: nothing again")
    jump(30)
    t.eq(chase_topics(log_of(d)), {k: LADDER}, "a month on: the ladder, each level once")
    t.eq(d.proc.poll(), None, "the daemon ran throughout")


@test("a new calendar recomputes the deadlines counted in working days and the steps' "
      "limits, tells each lead once, and moves no date given as a date")
def _(t):
    d = t.daemon(start=False)
    old, new = os.path.join(d.base, "cal-old"), os.path.join(d.base, "cal-new")
    week = [today(i) for i in range(1, 8)]
    write_calendar(old, [])
    write_calendar(new, week)
    d.args = ["--calendar-dir", old]
    d.start()
    d.build_county()
    with d.client() as c:
        ks = []
        for f in ({"deadline_working_days": 10}, {"deadline": today(20)}):
            r = c.write("case.open", actor="wang.li", title="t", area="development",
                        unit="xiaxi", **f)
            t.require(r["ok"], repr(r))
            ks.append(r["case"])
        before = [c.call("case.get", case=k)["case"] for k in ks]
    d.stop()
    d.args = ["--calendar-dir", new]
    d.restart()
    time.sleep(0.5)
    with d.client() as c:
        after = [c.call("case.get", case=k)["case"] for k in ks]
    t.eq(after[0]["deadline"], working_days_after(today(), 10, week), "counted again")
    t.eq(after[1]["deadline"], today(20), "a date stays")
    t.eq(after[1]["step_due"], working_days_after(today(), 5, week), "its step's limit moved")
    t.check(after[0]["chase_at"] != before[0]["chase_at"], "the chase moved with it")
    moved = [e for e in log_of(d) if e["topic"] == "deadline.moved"]
    t.eq(sorted((e["case"], e["old_deadline"], e["deadline"]) for e in moved),
         [(ks[0], before[0]["deadline"], after[0]["deadline"]),
          (ks[1], today(20), today(20))], "each lead told once")
    t.eq(moved[0]["notify"], {"person": "wang.li"}, "the lead is told")
    t.eq(len([e for e in log_of(d) if e["topic"] == "calendar.changed"]), 1, "recorded")
    d.stop()
    d.restart()
    time.sleep(0.3)
    t.eq(len([e for e in log_of(d) if e["topic"] in ("deadline.moved", "calendar.changed")]),
         3, "nothing again with the same calendar")


if __name__ == "__main__":
    run_tests()
