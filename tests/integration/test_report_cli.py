#!/usr/bin/python3
"""
test_report_cli.py - the reports from the command line (docs/client.md, "Reports"):
`nanti report` (report.units) as text, CSV, JSON and the HTML dashboard, `nanti scorecard`
(report.scorecard) with --explain, `nanti scorecards` (report.people), and `nanti
commitments` (report.commitments) as text and as the public notice, against the real
daemon.

The ledger (build()) is made through the daemon with known contents, then the daemon's
clock is moved three days on (pyclient.restart_shifted) so that a deadline passes:

  anling (安岭乡)   case A, xiaxi, wang.li: planned (deadline day 3), consulted, committed
                     on xiaxi's notice board, resolved on day 0 (on time), consulted,
                     journaled 18 / 4 / 1 (95 %), crossed off
                   case B, xiaxi, wang.li, a title holding <script> and &: planned
                     (deadline day 1), consulted, committed in the county news: overdue on
                     day 3, by 2 days, not resolved
                   case C, anling, head.anling: identified, never consulted
                   a household of xiaxi visited by wang.li, with support
  tianshi (田市镇)  case D, dongcun, chen.jie: planned (deadline day 30), never consulted
                   case E, dongcun, chen.jie: planned (deadline day 1), consulted,
                     committed in the county news on day 0; resolved on day 3, 2 days late
  nanfeng (南峰街道) no case; a village under it whose name holds <script> and &
  water (县水利局)   no case

The campaign's identify and consult milestones fall on day 0. Each figure the client
shows is checked against these known values and against the JSON reply it came from.

The dashboard test renders the page with Debian's headless Chromium (the package
chromium: a missing browser is a failure, not a skip): the DOM must show the figures and
refer to nothing outside the file, the printed PDF's text (pdftotext) must hold the same
figures, and a screenshot is kept in the test's temporary directory (its path printed).

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""
import csv
import html.parser
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import msgpack  # noqa: E402
import zmq  # noqa: E402

from pyclient import (  # noqa: E402
    ROOT, restart_shifted, run_tests, test, today,
)

NANTI = os.path.join(ROOT, "build", "nanti")
CHROMIUM = "/usr/bin/chromium"
PDFTOTEXT = "/usr/bin/pdftotext"
CAMPAIGN = "走进矛盾、破解难题"
EVIL_TITLE = '<script>alert("case")</script> & 修路'
EVIL_UNIT = "<script>alert(1)</script> & 北街新村"
FIGURE_COLS = ("cases", "progress", "overdue", "on_time_rate", "days_overdue",
               "extensions", "redos", "consultations", "satisfaction", "households_visited")
MILESTONES = ("identify", "consult", "plan", "commit", "journal", "pair", "visit")
FIGURES = ("cases", "opened", "progress", "overdue", "resolved", "on_time", "late",
           "no_deadline", "on_time_rate", "days_overdue", "extensions", "redos", "crossed_off",
           "consultations", "journals", "satisfied", "basically_satisfied", "dissatisfied",
           "satisfaction", "households_visited", "households_supported")
STEPS = ("identified", "planned", "committed", "resolved", "journaled", "crossed_off")

# What the ledger of build() holds, as the reports must count it (the county's rows).
ANLING = {"cases": 3, "opened": 3, "progress": 33, "overdue": 1, "resolved": 1, "on_time": 1, "late": 0, "no_deadline": 0, "on_time_rate": 50,
          "days_overdue": 2, "extensions": 0, "redos": 0, "crossed_off": 1,
          "consultations": 3, "journals": 1, "satisfied": 18, "basically_satisfied": 4,
          "dissatisfied": 1, "satisfaction": 95, "households_visited": 1,
          "households_supported": 1,
          "steps": {"identified": 1, "planned": 0, "committed": 1, "resolved": 0,
                    "journaled": 0, "crossed_off": 1}}
TIANSHI = {"cases": 2, "progress": 50, "overdue": 0, "resolved": 1, "on_time": 0, "late": 1,
           "on_time_rate": 0, "days_overdue": 2, "satisfaction": None, "consultations": 1,
           "households_visited": 0,
           "steps": {"identified": 0, "planned": 1, "committed": 0, "resolved": 1,
                     "journaled": 0, "crossed_off": 0}}
EMPTY = {"cases": 0, "progress": None, "on_time_rate": None, "satisfaction": None}
TOTALS = {"cases": 5, "progress": 40, "overdue": 1, "resolved": 2, "on_time": 1, "late": 1,
          "on_time_rate": 33, "days_overdue": 4, "crossed_off": 1, "consultations": 4,
          "satisfaction": 95, "households_visited": 1, "households_supported": 1}
HEADLINE = {"problems_solved": 2, "disputes_settled": 0, "households_visited": 1,
            "households_supported": 1, "consultations_held": 4, "crossed_off": 1}
ORDER = ["water", "anling", "tianshi", "nanfeng"]      # laggards first (nanfeng: no owner)
GAPS = {"anling": {"identify": 0, "consult": 1}, "tianshi": {"identify": 1, "consult": 1},
        "water": {"identify": 1, "consult": 0}, "nanfeng": {"identify": 0, "consult": 0}}


class Ledger:
    """A daemon with the County, and the writes build() makes."""

    def __init__(self, t):
        self.t = t
        self.d = t.daemon()
        self.d.build_county()
        self.c = self.d.client()
        t.defer(lambda: self.c.close())

    def ok(self, actor, op, **fields):
        r = self.c.write(op, actor=actor, **fields)
        self.t.require(r["ok"], "%s by %s %r: %r" % (op, actor, fields, r))
        return r

    def open(self, lead, unit, title):
        return self.ok(lead, "case.open", title=title, area="livelihood", unit=unit)["case"]

    def plan(self, lead, k, days):
        self.ok(lead, "case.plan", case=k, deadline=today(days), measures="第一步 勘察\n第二步 施工",
                schedule="六月勘察, 七月施工", units=["anling"])

    def consult(self, lead, k):
        self.ok(lead, "case.consult", case=k, date=today(), place="村委会", residents=30,
                summary="the residents agree")

    def nanti(self, *args, actor="theme", timeout=60):
        return subprocess.run([NANTI, "--runtime-dir", self.d.run_dir, "--actor", actor] +
                              list(args), capture_output=True, text=True, timeout=timeout)


def build(t):
    """The ledger of the module's docstring, three days on for the daemon."""
    g = Ledger(t)
    g.ok("admin", "unit.put", unit="evil", name=EVIL_UNIT, kind="village", parent="nanfeng")
    g.ok("theme", "campaign.set", name=CAMPAIGN, start=today(-10), end=today(100),
         identify_by=today(), consult_by=today())
    a = g.open("wang.li", "xiaxi", "修复下溪村道路")
    g.plan("wang.li", a, 3)
    g.consult("wang.li", a)
    g.ok("wang.li", "case.commit", case=a, venue="notice_board", board="xiaxi", date=today(),
         ref="公告第3号")
    g.ok("wang.li", "case.coordinate", case=a, form="onsite", date=today(), summary="on site")
    g.ok("wang.li", "case.resolve", case=a, summary="the road is open")
    g.consult("wang.li", a)
    g.ok("wang.li", "case.journal", case=a, process="how", result="open", satisfied=18,
         basically_satisfied=4, dissatisfied=1)
    g.ok("theme", "case.verify", case=a, verdict="cross_off")
    b = g.open("wang.li", "xiaxi", EVIL_TITLE)
    g.plan("wang.li", b, 1)
    g.consult("wang.li", b)
    g.ok("wang.li", "case.commit", case=b, venue="county_news", date=today(), ref="县报 第2版")
    c = g.open("head.anling", "anling", "村集体经济薄弱")
    d = g.open("chen.jie", "dongcun", "东村饮水")
    g.plan("chen.jie", d, 30)
    e = g.open("chen.jie", "dongcun", "东村道路")
    g.plan("chen.jie", e, 1)
    g.consult("chen.jie", e)
    g.ok("chen.jie", "case.commit", case=e, venue="county_news", date=today(), ref="县报 第3版")
    g.ok("admin", "household.put", household="h-0001", village="xiaxi", category="low_income",
         members=3, head="张大山")
    g.ok("wang.li", "household.visit", household="h-0001", done="看望", support="大米一袋")
    g.cases = (a, b, c, d, e)
    g.c.close()
    restart_shifted(t, g.d, 3)
    g.c = g.d.client()
    g.ok("chen.jie", "case.coordinate", case=e, form="onsite", date=today(3), summary="on site")
    g.ok("chen.jie", "case.resolve", case=e, summary="done, late")
    return g


def reply_of(t, g, what, *args, actor="theme"):
    p = g.nanti(*args, "--json", actor=actor)
    t.require(p.returncode == 0, "%s --json: exit %d: %s" % (what, p.returncode, p.stderr))
    try:
        r = json.loads(p.stdout)
    except ValueError:
        t.fail("%s --json: not JSON: %r" % (what, p.stdout[:300]))
    t.require(r.get("ok") is True, "%s: %r" % (what, r))
    return r


def check_figures(t, got, want, what):
    for k, v in want.items():
        t.eq(got.get(k), v, "%s: %s" % (what, k))


def shown(v, nil="-", pct=False):
    """A figure as the text table shows it."""
    if v is None:
        return nil
    return "%d%%" % v if pct else str(v)


def gaps_text(gaps):
    if not isinstance(gaps, dict):
        return "-"
    s = ", ".join("%s %d" % (m, gaps[m]) for m in MILESTONES if gaps.get(m))
    return s or "none"


PCT = ("progress", "on_time_rate", "satisfaction")
ROW_RE = re.compile(r"^(\S+)\s+(.*?)\s+" + r"\s+".join([r"(-|\d+%?)"] * len(FIGURE_COLS)) +
                    r"\s+(none|-|[a-z]+ \d+(?:, [a-z]+ \d+)*)$")


def table_rows(out):
    """The lines of the units table: unit id -> (name, figure cells, gaps)."""
    rows = {}
    for line in out.splitlines():
        m = ROW_RE.match(line)
        if m:
            rows[m.group(1)] = (m.group(2).strip(), list(m.groups()[2:-1]), m.groups()[-1])
    return rows


def flat_rows(rows, parent, out):
    for r in rows:
        out.append((r, parent))
        flat_rows(r.get("sub_units") or [], r["unit"], out)
    return out


@test("nanti report shows each unit's figures, laggards first, the totals and the "
      "headline, as text, CSV and JSON, equal to the ledger's and to the reply's")
def _(t):
    g = build(t)
    r = reply_of(t, g, "report", "report", "--sub-units")
    t.eq(r["unit"], "county", "the county is compared by default")
    t.eq(r["name"], "示范县", "its name")
    t.eq(r["today"], today(3), "today, for the daemon three days on")
    t.eq([x["unit"] for x in r["rows"]], ORDER, "laggards first")
    rows = {x["unit"]: x for x in r["rows"]}
    check_figures(t, rows["anling"], ANLING, "anling")
    check_figures(t, rows["tianshi"], TIANSHI, "tianshi")
    check_figures(t, rows["nanfeng"], EMPTY, "nanfeng")
    check_figures(t, rows["water"], EMPTY, "water")
    check_figures(t, r["totals"], TOTALS, "totals")
    check_figures(t, r["totals"]["headline"], HEADLINE, "headline")
    for u, gaps in GAPS.items():
        for m, n in gaps.items():
            t.eq(rows[u]["gaps"].get(m), n, "%s: gap %s" % (u, m))
    subs = {x["unit"]: x for x in rows["nanfeng"].get("sub_units", [])}
    t.check("evil" in subs and subs["evil"]["name"] == EVIL_UNIT, "nanfeng's village: %r" % subs)

    # text: one line per unit and sub-unit, its cells those of the reply
    p = g.nanti("report", "--sub-units")
    t.require(p.returncode == 0, "report: %s" % p.stderr)
    out = p.stdout
    lines = table_rows(out)
    flat = flat_rows(r["rows"], "county", [])
    t.eq(sorted(lines), sorted([x["unit"] for x, _ in flat] + ["(all)"]),
         "a line per unit and sub-unit, and the totals:\n" + out)
    for x, _ in flat + [(dict(r["totals"], unit="(all)", name=r["name"]), None)]:
        if x["unit"] not in lines:
            continue
        name, cells, gaps = lines[x["unit"]]
        t.eq(cells, [shown(x.get(k), pct=k in PCT) for k in FIGURE_COLS],
             "%s: the figures shown" % x["unit"])
        t.eq(gaps, gaps_text(x.get("gaps")), "%s: the gaps shown" % x["unit"])
    t.eq(lines["anling"][0], "安岭乡", "anling's name")
    t.eq(lines["anling"][1][:5], ["3", "33%", "1", "50%", "2"], "anling, as known")
    t.eq(lines["tianshi"][1][:5], ["2", "50%", "0", "0%", "2"], "tianshi, as known")
    order = [u for u in (line.split(" ", 1)[0] for line in out.splitlines()) if u in ORDER]
    t.eq(order, ORDER, "the table's order")
    # the columns line up: a wide name takes two columns a character, so the cases column
    # ends at one display column on every line
    ends = {wide_len(line[:ROW_RE.match(line).end(3)]) for line in out.splitlines()
            if ROW_RE.match(line)}
    t.eq(len(ends), 1, "the CASES column ends at one display column:\n" + out)
    for k, label in (("problems_solved", "problems solved"),
                     ("disputes_settled", "disputes settled"),
                     ("consultations_held", "consultations held"),
                     ("crossed_off", "crossed off")):
        t.check(re.search(r"^  %s +%d$" % (label, HEADLINE[k]), out, re.M),
                "the headline's %s:\n%s" % (label, out))
    t.check(re.search(r"^  households visited +1 \(1 with support\)$", out, re.M),
            "households visited and supported:\n" + out)

    # CSV: every figure of every unit, nil as empty
    p = g.nanti("report", "--sub-units", "--csv")
    t.require(p.returncode == 0, "report --csv: %s" % p.stderr)
    table = list(csv.DictReader(io.StringIO(p.stdout)))
    t.eq([x["unit"] for x in table], ["county"] + [x["unit"] for x, _ in flat],
         "the totals, then every unit, sub-units after their parent")
    by = {x["unit"]: x for x in table}
    for x, parent in flat + [(dict(r["totals"], unit="county", name=r["name"]), "")]:
        line = by.get(x["unit"], {})
        t.eq(line.get("parent"), parent, "%s: parent" % x["unit"])
        t.eq(line.get("name"), x["name"], "%s: name" % x["unit"])
        for k, v in x.items():
            if k in ("unit", "name", "kind", "sub_units", "headline"):
                continue
            if k == "steps":
                for s in STEPS:
                    t.eq(line.get("step_" + s), str(v[s]), "%s: step %s" % (x["unit"], s))
            elif k == "gaps":
                for m in MILESTONES:
                    t.eq(line.get("gap_" + m), "" if m not in v else str(v[m]),
                         "%s: gap_%s" % (x["unit"], m))
            else:
                t.eq(line.get(k), "" if v is None else str(v), "%s: %s" % (x["unit"], k))

    # a period that ends before today: the report reads the entries up to its end only,
    # and says the last it read
    r0 = reply_of(t, g, "report --to day 0", "report", "--to", today())
    last = r0.get("report_seq", r0["seq"])
    t.check(last < r["seq"], "day 0's report reads fewer entries: %r" % last)
    out = g.nanti("report", "--to", today()).stdout
    t.check("(today %s, as of seq %d)" % (today(3), last) in out, out[:200])

    # one unit's sub-units; an unknown unit is the daemon's refusal, exit status 1
    r = reply_of(t, g, "report --unit anling", "report", "--unit", "anling")
    t.eq(sorted(x["unit"] for x in r["rows"]), ["shangxi", "xiaxi"], "anling's villages")
    check_figures(t, r["totals"], ANLING, "anling's totals")
    p = g.nanti("report", "--unit", "nowhere")
    t.eq(p.returncode, 1, "an unknown unit: %s" % p.stderr)
    t.check("not_found" in p.stderr, p.stderr)


def wide_len(s):
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


@test("nanti scorecard shows a person's figures, and --explain the entries behind each, "
      "which sum to it")
def _(t):
    g = build(t)
    a, b = g.cases[:2]
    r = reply_of(t, g, "scorecard", "scorecard", "--person", "wang.li", "--explain")
    t.eq((r["person"], r["name"]), ("wang.li", "王立"), "whose")
    f = r["figures"]
    check_figures(t, f, {"cases": 2, "resolved": 1, "on_time": 1, "overdue": 1,
                         "on_time_rate": 50, "days_overdue": 2,
                         "crossed_off": 1, "consultations": 3, "satisfied": 18,
                         "basically_satisfied": 4, "dissatisfied": 1, "satisfaction": 95,
                         "households_visited": 1, "households_supported": 1,
                         "progress": 50}, "wang.li")
    ex = r.get("explain", {})
    t.eq(sorted(e["case"] for e in ex.get("cases", [])), [a, b], "the cases' openings")
    for k, entries in ex.items():
        if isinstance(f.get(k), int) and not r.get("explain_more", {}).get(k):
            t.eq(sum(e["count"] for e in entries), f[k], "the entries of %s sum to it" % k)

    p = g.nanti("scorecard", "--person", "wang.li", "--explain")
    t.require(p.returncode == 0, "scorecard: %s" % p.stderr)
    out = p.stdout
    t.check(out.startswith("scorecard of 王立 wang.li, "), out[:80])
    blocks, cur = {}, None
    for line in out.splitlines()[1:]:
        if line.startswith("      "):
            blocks.setdefault(cur, []).append(line.split())
        else:
            cur, _, value = line[2:].rpartition("  ")
            cur = cur.strip()
            blocks[cur] = [value.strip()]
    labels = {"cases": "cases", "overdue": "overdue, not resolved",
              "days_overdue": "days overdue",
              "satisfied": "residents satisfied", "households_visited": "households visited",
              "on_time_rate": "on-time rate", "satisfaction": "satisfaction",
              "progress": "progress (resolved or beyond)"}
    for k, label in labels.items():
        want = shown(f.get(k), pct=k in PCT)
        t.eq(blocks.get(label, ["?"])[0], want, "the line of %s" % label)
        entries = ex.get(k, [])
        t.eq([int(x[1]) for x in blocks.get(label, [])[1:]], [e["seq"] for e in entries],
             "the entries under %s (their seqs)" % label)
        for x, e in zip(blocks.get(label, [])[1:], entries):
            t.eq(x[2:4], [e["day"], e["topic"]], "an entry of %s" % k)
            t.eq(x[-1], "+%d" % e["count"], "its count")
            if e.get("case") is not None:
                t.eq(x[4:6], ["case", str(e["case"])], "its case")
            else:
                t.eq(x[4:6], ["household", e["household"]], "its household")

    p = g.nanti("scorecard", "--person", "wang.li", "--csv")
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    t.eq(len(rows), 1, "one line under the header")
    for k, v in f.items():
        if k in FIGURES:
            t.eq(rows[0].get(k), "" if v is None else str(v), "csv: %s" % k)
    # usage errors, nothing sent
    for args in (["scorecard"], ["scorecard", "--person", "wang.li", "--unit", "anling"],
                 ["scorecard", "--person", "wang.li", "--csv", "--json"],
                 ["report", "--to", "2026-02-30"], ["report", "--csv", "--html", "x.html"]):
        p = g.nanti(*args)
        t.eq(p.returncode, 2, "%s: exit status (%s)" % (" ".join(args), p.stderr.strip()))


@test("nanti scorecards sets every case owner's figures side by side, as text, CSV and "
      "JSON, each equal to the person's own scorecard")
def _(t):
    g = build(t)
    r = reply_of(t, g, "scorecards", "scorecards")
    people = [i["person"] for i in r["items"]]
    t.eq(people, ["chen.jie", "county.leader", "head.anling", "head.tianshi", "wang.li",
                  "zhao.hua"], "those who lead a case or must, by id")
    items = {i["person"]: i for i in r["items"]}
    own = reply_of(t, g, "scorecard", "scorecard", "--person", "wang.li")["figures"]
    t.eq(items["wang.li"]["figures"], own, "wang.li's line is wang.li's scorecard")
    t.eq(items["head.tianshi"]["figures"]["cases"], 0, "a leader without a case is listed")

    p = g.nanti("scorecards")
    t.require(p.returncode == 0, "scorecards: %s" % p.stderr)
    lines = {ln.split()[0]: ln.split() for ln in p.stdout.splitlines()[3:] if ln.strip()}
    t.eq(sorted(lines), sorted(people), "one line a person")
    w = lines.get("wang.li", [])
    t.eq((w[1:3], w[-1]), (["王立", "2"], "anling"), "wang.li's line: name, cases, unit")
    t.eq(w[3], shown(own["progress"], pct=True), "wang.li's progress")

    p = g.nanti("scorecards", "--unit", "tianshi", "--csv")
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    t.eq([x["person"] for x in rows], ["chen.jie", "head.tianshi"], "tianshi's people")
    cj = reply_of(t, g, "scorecard", "scorecard", "--person", "chen.jie")["figures"]
    for k in FIGURES:
        t.eq(rows[0].get(k), "" if cj.get(k) is None else str(cj[k]), "csv: %s" % k)


@test("nanti commitments lists the published commitments by unit, --open leaves out the "
      "crossed off, and --html writes a public notice with every string escaped")
def _(t):
    g = build(t)
    a, b, _, _, e = g.cases
    r = reply_of(t, g, "commitments", "commitments")
    t.eq([x["case"] for x in r["items"]], [a, b, e], "the committed cases, in id order")
    t.eq(r["next"], None, "read to the end")
    it = {x["case"]: x for x in r["items"]}
    t.eq((it[a]["venue"], it[a].get("board"), it[a].get("board_name"), it[a]["lead_name"]),
         ("notice_board", "xiaxi", "下溪村", "王立"), "A's commitment")
    t.eq((it[b]["venue"], it[b]["title"], it[b]["deadline"]),
         ("county_news", EVIL_TITLE, today(1)), "B's commitment")

    out = g.nanti("commitments").stdout
    t.check(out.startswith("公开承诺: the public commitments of 示范县 county: 3 cases"),
            out[:100])
    t.check(out.index("\n东村 dongcun\n") < out.index("\n下溪村 xiaxi\n"), "by unit:\n" + out)
    t.check("\n下溪村 xiaxi\n  case %d  修复下溪村道路\n    lead       王立 wang.li\n" % a in out,
            out)
    t.check("committed  %s, on the notice board of 下溪村 xiaxi, ref 公告第3号" % today() in out,
            out)
    t.check("committed  %s, in the county news (县报), ref 县报 第2版" % today() in out, out)
    t.check("deadline   %s" % today(1) in out, out)
    out = g.nanti("commitments", "--open").stdout
    t.check("case %d" % b in out and "case %d " % a not in out, "--open:\n" + out)
    rows = list(csv.DictReader(io.StringIO(g.nanti("commitments", "--csv").stdout)))
    t.eq([(x["case"], x["board_name"], x["title"]) for x in rows],
         [(str(e), "", "东村道路"), (str(a), "下溪村", "修复下溪村道路"), (str(b), "", EVIL_TITLE)],
         "csv: by unit, then by case")

    tmp = tempfile.mkdtemp(prefix="nt-notice-", dir="/tmp")
    t.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    path = os.path.join(tmp, "notice.html")
    p = g.nanti("commitments", "--unit", "anling", "--html", path)
    t.require(p.returncode == 0, "commitments --html: %s" % p.stderr)
    t.eq(oct(os.stat(path).st_mode & 0o777), "0o644", "a notice is readable by all")
    page = open(path, encoding="utf-8").read()
    t.check("<title>公开承诺 安岭乡</title>" in page, "the title")
    t.check("<h1>公开承诺 安岭乡</h1>" in page, "the heading")
    t.check("<script" not in page.lower(), "no script, not even the title's")
    t.check("&lt;script&gt;alert(&quot;case&quot;)&lt;/script&gt; &amp; 修路" in page,
            "the title escaped")
    t.check("第一步 勘察\n第二步 施工" in page, "the measures, lines kept")
    t.check(not external_refs(page), "refers to nothing outside: %r" % external_refs(page))
    t.check(not os.path.exists(path + ".tmp"), "no FILE.tmp left")


def external_refs(text):
    """Whatever in a page would reach outside the file."""
    pats = [r"""(?:src|href|xlink:href|action|poster)\s*=\s*["']?\s*(?:[a-z]+:|//)""",
            r"<link\b", r"<img\b", r"<script\b", r"<iframe\b", r"@import", r"url\("]
    return [m.group(0) for p in pats for m in re.finditer(p, text, re.I)]


class Dom(html.parser.HTMLParser):
    """What the tests look for in a page: the cells of the units table by unit and
    figure, the big numbers, every start tag, and the text."""

    def __init__(self):
        super().__init__()
        self.cells = {}     # unit -> {key: text}
        self.bigs = {}
        self.tags = []
        self.text = []
        self._unit = None
        self._key = None
        self._big = None
        self._buf = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "tr" and "data-unit" in a:
            self._unit = a["data-unit"]
            self.cells.setdefault(self._unit, {})
        elif tag == "td" and self._unit and "data-key" in a:
            self._key, self._buf = a["data-key"], []
        elif tag == "div" and "data-key" in a:
            self._big = a["data-key"]
        elif tag == "span" and self._big and a.get("class") == "n":
            self._buf = []
            self._key = "big"

    def handle_endtag(self, tag):
        if tag == "td" and self._key and self._unit:
            self.cells[self._unit][self._key] = "".join(self._buf).strip()
            self._key = None
        elif tag == "span" and self._key == "big":
            self.bigs[self._big] = "".join(self._buf).strip()
            self._key = self._big = None
        elif tag == "tr":
            self._unit = None

    def handle_data(self, data):
        self.text.append(data)
        if self._buf is not None and self._key:
            self._buf.append(data)


def chromium(t, tmp, *args):
    """Debian's headless Chromium on its own profile, with a timeout."""
    t.require(os.path.exists(CHROMIUM), "%s is missing: the dashboard's test needs Debian's "
              "chromium (make deps installs it)" % CHROMIUM)
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-extensions", "--disable-background-networking", "--mute-audio",
           "--user-data-dir=" + profile] + list(args)
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=180,
                           env=dict(os.environ, HOME=tmp))
    except subprocess.TimeoutExpired:
        t.fail("chromium did not finish in 180 s: %s" % " ".join(cmd))
    shutil.rmtree(profile, ignore_errors=True)
    t.require(p.returncode == 0, "chromium %s: exit %d: %s" % (
        " ".join(args), p.returncode, p.stderr.decode(errors="replace")[-2000:]))
    return p


@test("the dashboard (report --html) rendered by headless Chromium shows the ledger's "
      "figures, refers to nothing outside the file, escapes the ledger's strings, and "
      "prints the same figures (its PDF's text)")
def _(t):
    g = build(t)
    tmp = tempfile.mkdtemp(prefix="nt-dashboard-", dir="/tmp")
    path = os.path.join(tmp, "dashboard.html")
    p = g.nanti("report", "--html", path)
    t.require(p.returncode == 0, "report --html: %s" % p.stderr)
    t.check(p.stdout.startswith(path + " written: 4 units, 5 sub-units"), p.stdout)
    t.eq(oct(os.stat(path).st_mode & 0o777), "0o644", "the mode of a report")
    r = reply_of(t, g, "report", "report", "--sub-units")
    page = open(path, encoding="utf-8").read()
    t.check(not external_refs(page), "the file refers outside: %r" % external_refs(page))
    t.check("http" not in page, "no address at all in the file")
    t.check("<script" not in page.lower(), "no script, not even a unit's name")
    t.check("&lt;script&gt;alert(1)&lt;/script&gt; &amp; 北街新村" in page,
            "the evil unit's name escaped")
    t.check("@media print" in page and "print-color-adjust: exact" in page and
            "size: A4" in page, "the print stylesheet")

    # the DOM as Chromium built it
    dom_html = chromium(t, tmp, "--dump-dom", "file://" + path).stdout.decode()
    dom = Dom()
    dom.feed(dom_html)
    t.check(not external_refs(dom_html), "the DOM refers outside: %r" % external_refs(dom_html))
    t.check("script" not in dom.tags, "no script element in the DOM")
    t.eq(dom.tags.count("svg"), 4, "four charts")
    text = "".join(dom.text)
    t.check(EVIL_UNIT in text, "the evil unit's name shown as text")
    rows = {x["unit"]: x for x in r["rows"]}
    for u, x in list(rows.items()) + [("county", dict(r["totals"], unit="county"))]:
        cells = dom.cells.get(u, {})
        for k in ("cases", "overdue", "on_time_rate", "satisfaction", "progress",
                  "households_visited", "consultations"):
            t.eq(cells.get(k), shown(x.get(k), "—", k in PCT), "the table: %s %s" % (u, k))
    t.eq(dom.cells.get("anling", {}).get("cases"), "3", "anling's cases, as known")
    t.eq(dom.cells.get("anling", {}).get("on_time_rate"), "50%", "anling's on-time rate")
    t.eq(dom.cells.get("anling", {}).get("satisfaction"), "95%", "anling's satisfaction")
    t.eq(dom.cells.get("tianshi", {}).get("satisfaction"), "—", "nil as —")
    t.check("evil" in dom.cells, "the sub-units are in the table")
    for k, v in HEADLINE.items():
        t.eq(dom.bigs.get(k), str(v), "the big number of %s" % k)
    t.eq(dom.bigs.get("on_time_rate"), "33%", "the on-time rate")
    t.eq(dom.bigs.get("satisfaction"), "95%", "the satisfaction")
    for name in ("安岭乡", "田市镇", "南峰街道", "县水利局", "示范县", CAMPAIGN):
        t.check(name in text, "%s in the page" % name)
    # the charts' numbers are text: anling's bars end in its cases, its rates are written
    t.check(re.search(r'<svg[^>]*data-chart="steps".*?安岭乡.*?>3</text>', dom_html, re.S),
            "the steps chart writes anling's cases")
    t.check(re.search(r'<svg[^>]*data-chart="rates".*?安岭乡.*?>50%</text>.*?>95%</text>',
                      dom_html, re.S), "the rates chart writes anling's rates")

    # printed: the PDF's text holds the figures
    pdf = os.path.join(tmp, "dashboard.pdf")
    chromium(t, tmp, "--no-pdf-header-footer", "--print-to-pdf=" + pdf, "file://" + path)
    t.require(os.path.getsize(pdf) > 1000, "a PDF was printed")
    t.require(os.path.exists(PDFTOTEXT), "pdftotext is missing (Debian's poppler-utils)")
    q = subprocess.run([PDFTOTEXT, "-layout", pdf, "-"], capture_output=True, timeout=60)
    t.require(q.returncode == 0, "pdftotext: %r" % q.stderr)
    printed = q.stdout.decode()
    pages = printed.count("\f")
    t.check(pages >= 6, "a page a section: %d pages" % pages)
    for name in ("安岭乡", "田市镇", "示范县", "problems solved", "disputes settled",
                 "consultations held", "crossed off"):
        t.check(name in printed, "%r printed" % name)
    cols = ("cases", "progress", "overdue", "on_time_rate", "days_overdue",
            "extensions", "redos", "satisfaction", "consultations", "households_visited",
            "households_supported", "crossed_off")
    for name, x in (("安岭乡 anling", rows["anling"]),
                    ("示范县 county", r["totals"])):
        want = r"\s+".join(re.escape(shown(x.get(k), "—", k in PCT)) for k in cols)
        t.check(re.search(re.escape(name) + r"\s+" + want, printed),
                "%s's line of the table printed (%s):\n%s" % (name, want, printed[-3000:]))
    t.check(re.search(r"安岭乡 anling\s+50%\s+95%", printed) or
            ("50%" in printed and "95%" in printed), "the rates printed")

    png = os.path.join(tmp, "dashboard.png")
    chromium(t, tmp, "--hide-scrollbars", "--screenshot=" + png, "--window-size=1280,2000",
             "file://" + path)
    with open(png, "rb") as fh:
        t.check(fh.read(8) == b"\x89PNG\r\n\x1a\n", "a PNG")
    t.diag("dashboard screenshot: %s (the page: %s)" % (png, path))
    os.remove(pdf)


# ---------------------------------------------------------------------------------------
# Replies the real daemon never sends

class Fake:
    """A ROUTER on ipc://DIR/submit.sock that answers every request with reply(req)."""

    def __init__(self, reply):
        self.dir = tempfile.mkdtemp(prefix="ntr-", dir="/tmp")
        self.reply = reply
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind("ipc://%s/submit.sock" % self.dir)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            if not self.sock.poll(20):
                continue
            frames = self.sock.recv_multipart()
            req = msgpack.unpackb(frames[-1], raw=False)
            rep = self.reply(req)
            if "id" in req:
                rep["id"] = req["id"]
            self.sock.send_multipart(frames[:-1] + [msgpack.packb(rep)])

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close(0)
        self.ctx.term()
        shutil.rmtree(self.dir, ignore_errors=True)

    def nanti(self, *args):
        return subprocess.run([NANTI, "--runtime-dir", self.dir, "--actor", "theme",
                               "--timeout", "3000"] + list(args), capture_output=True,
                              timeout=30)


HOSTILE_ROW = {"unit": 7, "name": None, "kind": [], "cases": "many", "steps": [1, 2],
               "progress": -5, "on_time_rate": "50", "gaps": [1], "sub_units": 3}
HOSTILE = {
    "report.units": {"ok": True, "seq": 1, "from": None, "to": 3, "unit": {}, "name": 5,
                     "totals": {"headline": [], "gaps": {"identify": "x", "consult": None}},
                     "rows": [HOSTILE_ROW, "not a map", None,
                              {"unit": "a", "sub_units": [HOSTILE_ROW, {"sub_units": [{}]}]}],
                     "series": [None, {"day": 3, "open": "x"}, {"day": "2026-06-01",
                                                                "overdue": -1}]},
    "campaign.coverage": {"ok": True, "seq": 1, "milestones": [None, {"expected": "6"},
                                                               {"milestone": 1, "done": 9,
                                                                "expected": 0}]},
    "report.scorecard": {"ok": True, "seq": 1, "figures": {"steps": None, "cases": None},
                         "explain": {"cases": [None, {"seq": "x", "case": []}],
                                     "overdue": 5},
                         "explain_more": {"cases": "lots"}},
    "report.commitments": {"ok": True, "seq": 1, "items": [
        {"case": "x", "board": "v1", "venue": "notice_board"},
        {"title": 5, "unit": None, "measures": ["a"], "venue": 1}], "next": None},
    "unit.list": {"ok": True, "seq": 1, "items": [{"unit": "v1", "name": 3}], "next": None},
}


@test("a reply with missing keys, nils and wrong types below its top level is shown "
      "as '-', never a crash; one without its top-level keys is exit status 4")
def _(t):
    f = Fake(lambda req: HOSTILE.get(req["op"], {"ok": False, "error": {
        "code": "unknown_op", "message": req["op"]}}))
    t.defer(f.close)
    tmp = tempfile.mkdtemp(prefix="nt-hostile-", dir="/tmp")
    t.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    runs = [["report"], ["report", "--sub-units"], ["report", "--csv"], ["report", "--json"],
            ["report", "--html", os.path.join(tmp, "d.html")],
            ["scorecard", "--person", "p", "--explain"],
            ["scorecard", "--unit", "u", "--explain", "--csv"],
            ["commitments"], ["commitments", "--csv"],
            ["commitments", "--html", os.path.join(tmp, "n.html")]]
    for args in runs:
        p = f.nanti(*args)
        t.eq(p.returncode, 0, "%s: exit status (%s)" % (" ".join(args), p.stderr[-300:]))
    page = open(os.path.join(tmp, "d.html"), encoding="utf-8").read()
    t.check(page.rstrip().endswith("</html>"), "the dashboard is whole")
    HOSTILE["report.units"] = {"ok": True, "seq": 1, "rows": []}     # no totals
    HOSTILE["report.scorecard"] = {"ok": True, "seq": 1, "figures": []}
    HOSTILE["report.commitments"] = {"ok": True, "seq": 1, "items": {}, "next": None}
    for args in (["report"], ["scorecard", "--person", "p"], ["commitments"]):
        p = f.nanti(*args)
        t.eq(p.returncode, 4, "%s without its keys: exit status" % " ".join(args))
        t.check(b"not valid protocol" in p.stderr, p.stderr)
    # a pager that does not advance is caught
    HOSTILE["report.commitments"] = {"ok": True, "seq": 1, "items": [], "next": 0}
    p = f.nanti("commitments")
    t.eq(p.returncode, 4, "commitments: next does not advance")


if __name__ == "__main__":
    run_tests()
