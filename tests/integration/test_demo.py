"""
The demo county generator (build/nanti-demo, docs/demo.md) against the real daemon.

Each test starts nantid on a fresh temporary directory and loads it with
`nanti-demo --scale small` (3 townships and streets, 15 villages, about 60 people, 900
households, 150 cases), then reads the ledger back through pyclient's ReqClient,
independently of the generator: every step, kind, focus area and source is there; the
summary the generator prints is what the ledger holds; every crossed-off case went through
the procedure in the order docs/workflow.md demands, each step by someone the permission
table allows; the procedure's detours all happen; a few leaders are left without a case;
the household register holds every category, every pairing cadre but a few has a
low-income household and every such household but a few a cadre, most are visited, and
the household consultations' cases name their households and consultation; one seed
always gives the same county, another seed another one; a refusal stops the generator.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack):
    /usr/bin/python3 tests/integration/test_demo.py [NAME-FILTER]
"""

import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyclient import (  # noqa: E402
    AREAS, CASE_KINDS, ROOT, STEPS, case_history, list_cases, read_log, run_tests, test)

DEMO = os.environ.get("NANTI_DEMO", os.path.join(ROOT, "build", "nanti-demo"))
SOURCES = ("consultation", "research_visit", "deputies", "letters_visits",
           "household_consultation")
OWNER_ROLES = ("county_leader", "leader", "resident_cadre")
LEAD_ONLY = ("case.planned", "case.consulted", "case.coordinated", "case.resolved",
             "case.journaled", "case.redo", "case.outcome")


def run_demo(d, seed, *extra):
    """Run the generator against daemon d; returns the CompletedProcess."""
    if not os.access(DEMO, os.X_OK):
        raise RuntimeError("%s not found (make build/nanti-demo)" % DEMO)
    cmd = [DEMO, "--runtime-dir", d.run_dir, "--scale", "small", "--seed", str(seed)]
    return subprocess.run(cmd + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120)


def loaded(t, seed=1):
    """A fresh daemon loaded with the small county of seed; returns (daemon, client,
    the generator's stdout)."""
    d = t.daemon()
    p = run_demo(d, seed)
    t.require(p.returncode == 0, "nanti-demo --seed %d exited %d:\n%s%s"
              % (seed, p.returncode, p.stdout, p.stderr))
    c = d.client()
    t.defer(c.close)
    return d, c, p.stdout


def list_all(c, op):
    """Every record of unit.list or person.list, paging by id."""
    items, after = [], None
    while True:
        req = {"op": op, "limit": 1000}
        if after is not None:
            req["after"] = after
        r = c.request(req)
        assert r["ok"], r
        items.extend(r["items"])
        if r["next"] is None:
            return items
        after = r["next"]


def households(c, full=False):
    """Every household of the register (household.list, by id), as the trusted
    connection sees them: whole records if full."""
    items, after = [], None
    while True:
        req = {"op": "household.list", "limit": 1000, "full": full}
        if after is not None:
            req["after"] = after
        r = c.request(req)
        assert r["ok"], r
        items.extend(r["items"])
        if r["next"] is None:
            return items
        after = r["next"]


def snapshot(c):
    """What one seed must reproduce: the units, the people, the cases (title, kind, area,
    unit, lead, step, redos), the cases as a sorted list so that the comparison does not
    depend on the order the daemon numbered them in, and the households (with their
    sensitive fields, their cadre and visits)."""
    units = [(u["unit"], u["name"], u["kind"], u.get("parent")) for u in list_all(c, "unit.list")]
    people = [(p["person"], p["name"], p["unit"], tuple(p["roles"]), p.get("village"))
              for p in list_all(c, "person.list")]
    cases = sorted((k["title"], k["kind"], k["area"], k["unit"], k["lead"], k["step"],
                    k["redos"]) for k in list_cases(c, limit=1000))
    hh = [(h["household"], h["village"], h["category"], h["members"], tuple(h.get("needs", ())),
           h["head"], h.get("id_number"), h.get("phone"), h.get("address"),
           tuple(h.get("member_names", ())), h.get("notes"), h.get("cadre"), h["visits"])
          for h in households(c, full=True)]
    return units, people, cases, hh


def summary_counts(stdout, label):
    """The "by LABEL: name N, name N" line of the generator's summary, as a dict."""
    m = re.search(r"^  by %s:(.*)$" % label, stdout, re.M)
    assert m, "no 'by %s' line in:\n%s" % (label, stdout)
    return {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", m.group(1))}


@test("the small county loads through the daemon without a refusal, at every step and kind")
def small_county_loads(t):
    d, c, out = loaded(t)
    cases = list_cases(c, limit=1000)
    t.eq(len(cases), 150, "cases in the ledger")
    for step in STEPS:
        t.check(any(k["step"] == step for k in cases), "no case at step %s" % step)
    for kind in CASE_KINDS:
        t.check(any(k["kind"] == kind for k in cases), "no case of kind %s" % kind)
    for area in AREAS:
        t.check(any(k["area"] == area for k in cases), "no case in area %s" % area)
    opened, _ = read_log(c, topic="case.opened")
    sources = {e.get("source") for e in opened}
    for s in SOURCES:
        t.check(s in sources, "no case from source %s" % s)
    units = list_all(c, "unit.list")
    people = list_all(c, "person.list")
    kinds = [u["kind"] for u in units]
    t.eq(kinds.count("county"), 1, "counties")
    t.eq(kinds.count("township") + kinds.count("street"), 3, "townships and streets")
    t.eq(kinds.count("village"), 15, "villages")
    t.check(50 <= len(people) <= 70, "about 60 people, got %d" % len(people))
    names = {u["name"] for u in units}
    t.check({"安岭乡", "田市镇", "南峰街道", "县主题办", "县委督查室"} <= names,
            "the speech's townships and the two offices: %r" % sorted(names))
    for p in people:
        t.check(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", p["person"]) is not None,
                "person id %r is not ASCII" % p["person"])
        t.check(any(ord(ch) > 0x2e80 for ch in p["name"]), "name %r is not Chinese" % p["name"])
    residents = [p for p in people if "resident_cadre" in p["roles"]]
    t.eq(sorted(p["village"] for p in residents),
         sorted(u["unit"] for u in units if u["kind"] == "village"),
         "one village-resident cadre per village")
    r = c.call("campaign.get")
    t.eq(r["threshold"], 80, "the campaign's threshold")
    t.check(r["campaign"] is not None and r["campaign"].get("journal_by", "") >
            r["campaign"].get("commit_by", "") > r["campaign"].get("plan_by", "") >=
            r["campaign"].get("identify_by", "~"), "the milestones in order: %r" % r)


@test("the generator's summary counts what the ledger holds")
def summary_is_the_ledger(t):
    d, c, out = loaded(t, seed=3)
    cases = list_cases(c, limit=1000)
    by_step = summary_counts(out, "step")
    by_kind = summary_counts(out, "kind")
    for step in STEPS:
        t.eq(by_step.get(step), sum(k["step"] == step for k in cases), "cases at %s" % step)
    for kind in CASE_KINDS:
        t.eq(by_kind.get(kind), sum(k["kind"] == kind for k in cases), "cases of %s" % kind)
    m = re.search(r"^events sent: (\d+)", out, re.M)
    t.require(m, "no 'events sent' line in:\n%s" % out)
    t.eq(int(m.group(1)), c.call("ping")["seq"], "events sent and the ledger's last seq")
    t.check(re.search(r"^elapsed: [\d.]+ s, \d+ events/s", out, re.M) is not None,
            "no elapsed line in:\n%s" % out)


def check_history(t, k, history, roles, threshold):
    """One crossed-off case's history against docs/workflow.md: the steps in order, each
    with the evidence it needs, each by an actor the permission table allows."""
    where = "case %d" % k["case"]
    t.require(history and history[0]["topic"] == "case.opened", where + ": opened first")
    lead = history[0]["lead"]
    taker = history[0].get("taker")
    consults = coords = after = 0
    seen = []
    journal_ok = False
    for e in history:
        topic, actor = e["topic"], e["actor"]
        seen.append(topic)
        is_theme = "theme_office" in roles[actor]
        if topic in LEAD_ONLY:
            t.check(actor == lead, "%s: %s by %s, the lead is %s" % (where, topic, actor, lead))
        if topic == "case.consulted":
            consults += 1
            after += 1
        elif topic == "case.coordinated":
            coords += 1
        elif topic == "case.committed":
            t.check(actor == lead or is_theme, "%s: committed by %s" % (where, actor))
            t.check("case.planned" in seen, where + ": committed before the plan")
            t.check(consults > 0, where + ": committed before any consultation")
        elif topic == "case.resolved":
            t.check(coords > 0, where + ": resolved before any coordination")
            t.check("case.committed" in seen, where + ": resolved before the commitment")
            after = 0
        elif topic in ("case.journaled", "case.redo"):
            t.check(after > 0, where + ": journal without a consultation since the resolution")
            journal_ok = topic == "case.journaled"
            if journal_ok:
                t.check(e["satisfaction"] >= threshold, where + ": accepted below threshold")
            else:
                t.check(e["satisfaction"] < threshold, where + ": a redo at or above threshold")
            after = 0
        elif topic in ("case.returned", "case.reopened"):
            t.check(is_theme, "%s: %s by %s" % (where, topic, actor))
            after = 0
            journal_ok = False
        elif topic == "case.repeat":
            t.check(actor in (lead, taker) or is_theme or "supervision" in roles[actor],
                    "%s: repeat by %s" % (where, actor))
            if e.get("reopened"):
                after = 0
                journal_ok = False
        elif topic == "case.crossed_off":
            t.check(is_theme, "%s: crossed off by %s" % (where, actor))
            t.check(journal_ok, where + ": crossed off without an accepted journal")
        elif topic == "case.reassigned":
            t.check(is_theme or "unit_head" in roles[actor], "%s: reassigned by %s"
                    % (where, actor))
            t.eq(e["from"], lead, where + ": reassigned from")
            lead = e["lead"]
        elif topic == "case.escalated":
            t.check(is_theme or "supervision" in roles[actor], "%s: escalated by %s"
                    % (where, actor))
        elif topic == "case.guarantee":
            t.check(actor in (lead, taker), "%s: guarantee by %s" % (where, actor))
    steps = [e["topic"] for e in history if e["topic"] not in
             ("case.noted", "case.outcome", "case.escalated", "case.guarantee",
              "case.reassigned", "case.consulted", "case.coordinated")]
    t.eq(steps[-1], "case.crossed_off", where + ": the last step")
    t.eq(lead, k["lead"], where + ": the lead after the reassignments")


@test("crossed-off cases went through every step in order, each by whom the rules allow")
def crossed_off_cases_follow_the_procedure(t):
    d, c, out = loaded(t)
    roles = {p["person"]: set(p["roles"]) for p in list_all(c, "person.list")}
    threshold = c.call("campaign.get")["threshold"]
    crossed = list_cases(c, step="crossed_off", limit=1000)
    t.require(len(crossed) >= 20, "only %d crossed-off cases" % len(crossed))
    for k in crossed:
        case, history = case_history(c, k["case"])
        t.eq(case["step"], "crossed_off", "case %d's step" % k["case"])
        t.check(case.get("crossed_at", 0) >= case.get("journaled_at", 1),
                "case %d: crossed off before its journal" % k["case"])
        check_history(t, k, history, roles, threshold)


@test("the procedure's detours all happen: redos, returns, reopenings, reassignments, "
      "notes, escalations, guarantees, repeat petitions")
def detours_happen(t):
    d, c, out = loaded(t)
    log, _ = read_log(c, topic="case.")
    topics = {}
    for e in log:
        topics[e["topic"]] = topics.get(e["topic"], 0) + 1
    for topic in ("case.redo", "case.returned", "case.reopened", "case.reassigned",
                  "case.noted", "case.escalated", "case.guarantee", "case.repeat",
                  "case.outcome"):
        t.check(topics.get(topic, 0) > 0, "no %s in the log: %r" % (topic, topics))
    escalations = [e for e in log if e["topic"] == "case.escalated"]
    roles = {p["person"]: set(p["roles"]) for p in list_all(c, "person.list")}
    t.check(any("supervision" in roles[e["actor"]] for e in escalations),
            "no escalation by the supervision office")
    petitions = list_cases(c, kind="petition", limit=1000)
    t.check(petitions, "no petition")
    for k in petitions[:5]:
        case, _ = case_history(c, k["case"])
        t.check(case.get("taker"), "petition %d without a case-taking leader" % k["case"])


@test("a few leaders are left without a case, so that coverage has gaps to show")
def some_leaders_have_no_case(t):
    d, c, out = loaded(t)
    people = list_all(c, "person.list")
    leads = {k["lead"] for k in list_cases(c, limit=1000)}
    owners = [p for p in people if set(p["roles"]) & set(OWNER_ROLES)]
    idle = [p["person"] for p in owners if p["person"] not in leads]
    t.check(1 <= len(idle) <= 5, "leaders without a case: %r" % idle)
    t.check(len(owners) - len(idle) >= 0.9 * len(owners), "most leaders have a case")
    m = re.search(r"(\d+) leaders left without a case", out)
    t.check(m is not None and int(m.group(1)) == len(idle),
            "the summary's idle leaders: %r, the ledger's: %r" % (m and m.group(1), idle))


def summary_line(stdout, pattern):
    """The numbers of the summary line matching pattern (a regex with groups), as ints."""
    m = re.search(pattern, stdout, re.M)
    assert m, "no line %r in:\n%s" % (pattern, stdout)
    return [int(x) for x in m.groups()]


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number_valid(s):
    """An 18-character identity card number with its GB 11643 check character."""
    if not re.fullmatch(r"\d{17}[\dX]", s or ""):
        return False
    return "10X98765432"[sum(int(d) * w for d, w in zip(s, ID_WEIGHTS)) % 11] == s[17]


def pairing_cadre(p, units):
    return bool(set(p["roles"]) & {"county_leader", "leader", "unit_head", "cadre",
                                   "resident_cadre"}) and units[p["unit"]] != "village"


@test("the household register: every category in the counts the summary gives, well-formed "
      "records, every village with households")
def register_loads(t):
    d, c, out = loaded(t, seed=4)
    hh = households(c, full=True)
    n, = summary_line(out, r"^households: (\d+)$")
    cats = summary_counts(out, "category")
    t.eq(len(hh), n, "households in the ledger")
    t.eq(n, 900, "the small register")
    for cat in ("low_income", "near_low_income", "other"):
        t.eq(sum(h["category"] == cat for h in hh), cats[cat], "households of %s" % cat)
        t.check(cats[cat] > 0, "no household of %s" % cat)
    units = {u["unit"]: u["kind"] for u in list_all(c, "unit.list")}
    t.eq({h["village"] for h in hh}, {u for u, k in units.items() if k == "village"},
         "every village has households, and only villages")
    for h in hh:
        where = "household %s" % h["household"]
        t.check(h["household"].startswith(h["village"] + ".h"), where + ": its id")
        t.check(1 <= h["members"] <= 8, where + ": members %r" % h["members"])
        t.eq(len(h.get("member_names", [])), h["members"] - 1, where + ": the other members")
        t.check(h["hidden"] is False and any(ord(ch) > 0x2e80 for ch in h["head"]),
                where + ": a Chinese head %r" % h.get("head"))
        t.check(id_number_valid(h.get("id_number")), where + ": id number %r"
                % h.get("id_number"))
        t.check("phone" not in h or re.fullmatch(r"1[358]\d{9}", h["phone"]) is not None,
                where + ": phone %r" % h.get("phone"))
        t.check(h.get("address", "").endswith("号"), where + ": address %r" % h.get("address"))
        if h["category"] != "other":
            t.check(h.get("needs"), where + ": a low-income household with no need")


@test("pairing, visits and consultations: a cadre for each pairing cadre but a few, a few "
      "low-income households without one, most visited, and coverage shows the gaps")
def register_pairs_and_gaps(t):
    d, c, out = loaded(t, seed=4)
    hh = households(c)
    units = {u["unit"]: u["kind"] for u in list_all(c, "unit.list")}
    people = list_all(c, "person.list")
    cadres = {p["person"] for p in people if pairing_cadre(p, units)}
    ncadres, with_hh, without, npaired, poor_without = summary_line(
        out, r"^  pairing: (\d+) pairing cadres, (\d+) of them with a household, (\d+) "
        r"without; (\d+) households paired; (\d+) low-income households without a cadre$")
    nvisits, visited, supported, unvisited = summary_line(
        out, r"^  visits: (\d+) to (\d+) households, (\d+) of them with support; (\d+) "
        r"paired households not visited$")
    nconsults, discussed, found, linked = summary_line(
        out, r"^  consultations: (\d+), discussing (\d+) households, finding (\d+) cases; "
        r"(\d+) household issues name their households$")
    paired = [h for h in hh if h.get("cadre")]
    poor = [h for h in hh if h["category"] != "other"]
    t.eq(len(cadres), ncadres, "pairing cadres")
    t.eq(len({h["cadre"] for h in paired}), with_hh, "cadres with a household")
    t.check(1 <= without <= 5 and with_hh == ncadres - without, "a few cadres left unpaired")
    t.eq(len(paired), npaired, "households paired")
    t.check(all(h["cadre"] in cadres for h in paired), "only pairing cadres are paired")
    t.check(all(h["category"] != "other" for h in paired), "only low-income households")
    t.eq(len(poor) - len(paired), poor_without, "low-income households without a cadre")
    t.check(1 <= poor_without <= 5, "a few of them")
    t.eq(sum(h["visits"] for h in hh), nvisits, "visits")
    t.eq(sum(h["visits"] > 0 for h in hh), visited, "households visited")
    t.eq(sum(h.get("cadre") is not None and h["visits"] == 0 for h in hh), unvisited,
         "paired households not visited")
    t.check(1 <= unvisited <= 5 and visited >= 0.9 * npaired, "most paired households visited")
    supports = {e["household"] for e in read_log(c, topic="household.visited")[0]
                if e.get("support")}
    t.eq(len(supports), supported, "households visited with support")

    cov = {m["milestone"]: m for m in c.call("campaign.coverage")["milestones"]}
    pair, visit = cov["pair"], cov["visit"]
    t.check(pair["by"] is not None and visit["by"] is not None, "pair_by and visit_by are set")
    t.eq((pair["expected"], pair["done"]), (ncadres + len(poor),
                                            ncadres + len(poor) - without - poor_without),
         "pair: every pairing cadre and low-income household expected, all but the gaps done")
    t.eq(sorted(m["person"] for m in pair["missing"] if m["person"]),
         sorted(cadres - {h["cadre"] for h in paired}), "pair: the cadres without a household")
    t.eq(sorted(x for m in pair["missing"] if m["person"] is None for x in m["households"]),
         sorted(h["household"] for h in poor if not h.get("cadre")),
         "pair: the households without a cadre, by village")
    t.eq((visit["expected"], visit["done"]), (npaired, npaired - unvisited),
         "visit: the paired households, all but a few visited")

    consulted = read_log(c, topic="household.consulted")[0]
    t.eq(len(consulted), nconsults, "household consultations")
    t.eq(sum(len(e["households"]) for e in consulted), discussed, "households discussed")
    by_seq = {e["seq"]: e for e in consulted}
    opened = [e for e in read_log(c, topic="case.opened")[0] if e["kind"] == "household_issue"]
    from_consults = [e for e in opened if e.get("consultation")]
    t.eq(len(from_consults), found, "cases found by the consultations")
    t.eq(sum(bool(e.get("households")) for e in opened), linked,
         "household issues naming their households")
    for e in from_consults:
        k = by_seq.get(e["consultation"])
        t.require(k is not None, "case %d: its consultation %r" % (e["case"], e["consultation"]))
        t.eq(e["unit"], k["village"], "case %d: in the consultation's village" % e["case"])
        t.check(set(e["households"]) <= set(k["households"]),
                "case %d: households the consultation discussed" % e["case"])
        for hid in e["households"]:
            r = c.call("household.get", household=hid)
            t.check(e["case"] in r["cases"], "household %s lists case %d" % (hid, e["case"]))


@test("the same seed builds the same county on two fresh daemons")
def same_seed_same_county(t):
    d1, c1, out1 = loaded(t, seed=5)
    d2, c2, out2 = loaded(t, seed=5)
    s1, s2 = snapshot(c1), snapshot(c2)
    t.eq(s2[0], s1[0], "units")
    t.eq(s2[1], s1[1], "people")
    t.eq(len(s2[2]), len(s1[2]), "number of cases")
    t.check(s2[2] == s1[2], "cases differ: %r" % [(a, b) for a, b in zip(s1[2], s2[2])
                                                   if a != b][:3])
    t.check(s2[3] == s1[3], "households differ: %r" % [(a, b) for a, b in zip(s1[3], s2[3])
                                                        if a != b][:3])
    strip = re.compile(r"^(elapsed|  [a-z]+ +loaded after|nanti-demo: loading).*$", re.M)
    t.eq(strip.sub("", out2), strip.sub("", out1), "the summaries but for times")


@test("another seed builds another county, just as complete")
def another_seed_another_county(t):
    d1, c1, out1 = loaded(t, seed=1)
    d2, c2, out2 = loaded(t, seed=2)
    s1, s2 = snapshot(c1), snapshot(c2)
    t.check(s1[2] != s2[2], "seeds 1 and 2 gave the same cases")
    t.check(s1[1] != s2[1], "seeds 1 and 2 gave the same people")
    t.check(s1[3] != s2[3], "seeds 1 and 2 gave the same households")
    cases = list_cases(c2, limit=1000)
    for step in STEPS:
        t.check(any(k["step"] == step for k in cases), "seed 2: no case at %s" % step)
    for kind in CASE_KINDS:
        t.check(any(k["kind"] == kind for k in cases), "seed 2: no case of kind %s" % kind)


@test("loading the same seed again on the same ledger changes no unit, person, household "
      "or pairing")
def second_load_changes_no_unit_or_person(t):
    d, c, out = loaded(t, seed=1)
    units, people, _, hh = snapshot(c)
    paired = sum(h[11] is not None for h in hh)
    p = run_demo(d, 1)
    t.require(p.returncode == 0, "second run exited %d:\n%s" % (p.returncode, p.stderr))
    m = re.search(r"; (\d+) puts changed nothing", p.stdout)
    t.check(m is not None and int(m.group(1)) == len(units) + len(people) + len(hh) + paired,
            "puts and pairings that changed nothing: %r; units, people, households and "
            "pairings: %d" % (m and m.group(1), len(units) + len(people) + len(hh) + paired))
    u2, p2, cases, hh2 = snapshot(c)
    t.eq((u2, p2), (units, people), "the county after the second load")
    t.eq([x[:12] for x in hh2], [x[:12] for x in hh], "the register, its pairs too")
    t.eq(len(cases), 300, "cases after two loads")


@test("a refused request stops the generator with status 1 and says what was refused")
def a_refusal_stops_the_generator(t):
    d, c, out = loaded(t, seed=1)
    seq = c.call("ping")["seq"]
    p = run_demo(d, 1, "--actor", "intruder")   # not the admin: unit.put is forbidden
    t.eq(p.returncode, 1, "exit status")
    t.check("forbidden" in p.stderr and "unit.put" in p.stderr and "intruder" in p.stderr,
            "stderr names the op, the code and the actor:\n" + p.stderr)
    t.eq(c.call("ping")["seq"], seq, "the ledger after the refusal")


@test("the generator refuses bad options before sending anything")
def bad_options_are_usage_errors(t):
    d = t.daemon()
    for args in (["--scale", "huge"], ["--seed", "x"], ["--actor", "管理员"],
                 ["--window", "0"], ["--connect", d.submit], ["stray-argument"]):
        p = subprocess.run([DEMO, "--runtime-dir", d.run_dir] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=30)
        t.eq(p.returncode, 2, "exit status of %r" % args)
        t.check(p.stderr.startswith("nanti-demo: "), "no reason given for %r: %r"
                % (args, p.stderr))
    with d.client() as c:
        t.eq(c.call("ping")["seq"], 0, "the ledger after the usage errors")


if __name__ == "__main__":
    run_tests()
