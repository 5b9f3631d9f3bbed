"""
`nanti import units FILE.csv` and `nanti import people FILE.csv` (docs/client.md,
"Importing the county") against the real daemon (build/nantid) and the real client
(build/nanti).

Each test starts nantid on a fresh temporary directory (pyclient.Daemon), writes its CSV
files into a temporary directory, and runs build/nanti as a subprocess. Most tests first
bootstrap an admin with `nanti unit put` and `nanti person put`, as an operator would;
one sets a fresh ledger up by the imports alone.

What the tests hold the import to: a file with any invalid row changes nothing (the log's
last seq does not move) and every error is reported as FILE:LINE: message; a good file goes
in whatever the order of its rows; importing the same file again changes nothing and says
so; a refusal during the apply (a concurrent change, played by an interposer between the
client and the daemon that changes the ledger at the worst moment) stops the import and
says what went in; the progress bar is drawn on a terminal only.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack):
    /usr/bin/python3 tests/integration/test_import.py [NAME-FILTER]
"""

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import msgpack  # noqa: E402
import zmq  # noqa: E402

from pyclient import ROOT, ReqClient, run_tests, test  # noqa: E402

NANTI = os.environ.get("NANTI", os.path.join(ROOT, "build", "nanti"))
SUMMARY_RE = r"%s: %d rows: %d created, %d updated, %d unchanged \(\d+\.\d\d s\)\n"

# A county's units, in an order that is not the tree's: villages before their townships.
UNITS_CSV = '''unit,name,kind,parent
xiaxi,下溪村,village,anling
suichang,遂昌县,county,
anling,安岭乡,township,suichang
shangxi,"上溪村, ""upper"" stream",village,anling
miaogao,妙高街道,street,suichang
jiaotong,"交通运输局 (roads, bridges)",organ,suichang
lianhe,联合村,village,miaogao
dazhan,大战乡,township,suichang
'''
UNITS = {
    "suichang": ("遂昌县", "county", None),
    "anling": ("安岭乡", "township", "suichang"),
    "dazhan": ("大战乡", "township", "suichang"),
    "miaogao": ("妙高街道", "street", "suichang"),
    "jiaotong": ("交通运输局 (roads, bridges)", "organ", "suichang"),
    "xiaxi": ("下溪村", "village", "anling"),
    "shangxi": ('上溪村, "upper" stream', "village", "anling"),
    "lianhe": ("联合村", "village", "miaogao"),
}

# Columns in another order than the documented one, roles with spaces after ';'.
PEOPLE_CSV = '''name,person,roles,unit,village
管理员,admin,admin,suichang,
"王力, ""Wang""",wang.li,cadre; leader,anling,
胡燕,hu.yan,unit_head;leader,anling,
朱强,zhu.qiang,resident_cadre,dazhan,xiaxi
主题办,theme,theme_office,suichang,
'''
PEOPLE = {
    "admin": ("管理员", "suichang", ["admin"], None),
    "wang.li": ('王力, "Wang"', "anling", ["cadre", "leader"], None),
    "hu.yan": ("胡燕", "anling", ["leader", "unit_head"], None),
    "zhu.qiang": ("朱强", "dazhan", ["resident_cadre"], "xiaxi"),
    "theme": ("主题办", "suichang", ["theme_office"], None),
}


# ---------------------------------------------------------------------------------------
# Running the client

def client_env(**extra):
    """The environment without the user's nanti settings; the actor is the admin."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NANTI_") and k != "XDG_RUNTIME_DIR"}
    env["NANTI_ACTOR"] = "admin"
    env.update(extra)
    return env


def nanti(d, *args, env=None, timeout=60):
    """build/nanti --runtime-dir D ARGS; the CompletedProcess (text)."""
    return subprocess.run([NANTI, "--runtime-dir", d.run_dir] + list(args),
                          capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else client_env())


def status(t, p, want, what):
    return t.check(p.returncode == want,
                   "%s: exit status %d, want %d\nstdout: %s\nstderr: %s"
                   % (what, p.returncode, want, p.stdout.strip()[:3000],
                      p.stderr.strip()[:3000]))


def ok(t, p, what):
    t.require(status(t, p, 0, what), "%s failed" % what)
    return p.stdout


def json_of(t, p, what, want=0):
    status(t, p, want, what)
    try:
        return json.loads(p.stdout)
    except ValueError as e:
        t.fail("%s: stdout is not one JSON object (%s): %r" % (what, e, p.stdout[:500]))


def last_seq(t, d):
    return json_of(t, nanti(d, "--json", "ping"), "ping")["seq"]


def csv_file(t, name, text, newline="\n", bom=False):
    """Write text (lines ending in \\n) into a fresh directory as name, its line endings
    newline; the path."""
    tmp = tempfile.mkdtemp(prefix="nt-csv-", dir="/tmp")
    t.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    path = os.path.join(tmp, name)
    data = text.replace("\n", newline).encode()
    with open(path, "wb") as fh:
        fh.write((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def bootstrap(t, d):
    """The county and the first admin, by the client, as the docs set a ledger up."""
    ok(t, nanti(d, "unit", "put", "suichang", "--name", "遂昌县", "--kind", "county"),
       "unit put suichang")
    ok(t, nanti(d, "person", "put", "admin", "--name", "管理员", "--unit", "suichang",
                "--role", "admin"), "person put admin")


def ledger_units(t, d):
    items = json_of(t, nanti(d, "--json", "unit", "list", "--all"), "unit list")["items"]
    return {u["unit"]: (u["name"], u["kind"], u.get("parent")) for u in items}


def ledger_people(t, d):
    items = json_of(t, nanti(d, "--json", "person", "list", "--all"), "person list")["items"]
    return {p["person"]: (p["name"], p["unit"], sorted(p["roles"]), p.get("village"))
            for p in items}


def errors_of(t, p, path):
    """The FILE:LINE: message lines of stderr, as [(line, message)]."""
    out = []
    for line in p.stderr.splitlines():
        if line.startswith(path + ":"):
            m = re.match(re.escape(path) + r":(\d+): (.*)$", line)
            t.require(m, "an error line is not FILE:LINE: message: %r" % line)
            out.append((int(m.group(1)), m.group(2)))
    return out


def expect_errors(t, p, path, want):
    """stderr holds exactly the errors want: [(line, a piece of its message)], in order."""
    got = errors_of(t, p, path)
    t.eq([n for n, _ in got], [n for n, _ in want], "lines of the errors")
    for (n, msg), (_, piece) in zip(got, want):
        t.check(piece in msg, "line %d: %r does not say %r" % (n, msg, piece))


# ---------------------------------------------------------------------------------------
# The tests

@test("a units file then a people file go into the ledger, whatever the order of the rows "
      "and columns, and the summary counts what was created")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    units = csv_file(t, "units.csv", UNITS_CSV)
    out = ok(t, nanti(d, "import", "units", units), "import units")
    t.check(re.fullmatch(SUMMARY_RE % ("units", 8, 7, 0, 1), out), "summary: %r" % out)
    t.eq(ledger_units(t, d), UNITS, "the units")
    people = csv_file(t, "people.csv", PEOPLE_CSV)
    p = nanti(d, "import", "people", people)
    out = ok(t, p, "import people")
    t.check(re.fullmatch(SUMMARY_RE % ("people", 5, 4, 0, 1), out), "summary: %r" % out)
    t.eq(p.stderr, "", "stderr")
    t.eq(ledger_people(t, d), PEOPLE, "the people")
    log = [json.loads(line) for line in
           ok(t, nanti(d, "--json", "log", "--all"), "log").splitlines()]
    t.eq([e["topic"] for e in log[2:]], ["unit.created"] * 7 + ["person.created"] * 4,
         "log topics")
    # the tree's order: townships, streets and organs before any village
    units_order = [e["unit"] for e in log if e["topic"] == "unit.created"][1:]
    first_village = min(i for i, u in enumerate(units_order) if UNITS[u][1] == "village")
    t.check(all(UNITS[u][1] != "village" for u in units_order[:first_village]) and
            all(UNITS[u][1] == "village" for u in units_order[first_village:]),
            "villages went in before their level was done: %r" % units_order)


@test("importing the same files again changes nothing: the log's seq stays and every row "
      "is unchanged")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    units = csv_file(t, "units.csv", UNITS_CSV)
    people = csv_file(t, "people.csv", PEOPLE_CSV)
    ok(t, nanti(d, "import", "units", units), "import units")
    ok(t, nanti(d, "import", "people", people), "import people")
    seq = last_seq(t, d)
    for _round in range(2):
        out = ok(t, nanti(d, "import", "units", units), "import units again")
        t.check(re.fullmatch(SUMMARY_RE % ("units", 8, 0, 0, 8), out), "summary: %r" % out)
        out = ok(t, nanti(d, "import", "people", people), "import people again")
        t.check(re.fullmatch(SUMMARY_RE % ("people", 5, 0, 0, 5), out), "summary: %r" % out)
        t.eq(last_seq(t, d), seq, "the log's last seq")


@test("a changed file updates what changed and creates what is new; the summary tells "
      "created, updated and unchanged apart")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    ok(t, nanti(d, "import", "units", csv_file(t, "units.csv", UNITS_CSV)), "import units")
    seq = last_seq(t, d)
    changed = UNITS_CSV.replace("联合村,village,miaogao", "联合村,village,dazhan") \
                       .replace("大战乡,township", "大战镇,township") + "jinzhu,金竹镇,township,suichang\n"
    out = ok(t, nanti(d, "import", "units", csv_file(t, "units2.csv", changed)), "again")
    t.check(re.fullmatch(SUMMARY_RE % ("units", 9, 1, 2, 6), out), "summary: %r" % out)
    t.eq(last_seq(t, d), seq + 3, "three log entries")
    got = ledger_units(t, d)
    t.eq((got["lianhe"], got["dazhan"], got["jinzhu"]),
         (("联合村", "village", "dazhan"), ("大战镇", "township", "suichang"),
          ("金竹镇", "township", "suichang")), "the changed units")


@test("a fresh ledger is set up by the imports alone: the actor the people file makes an "
      "admin goes in first; an actor it does not make one is refused before anything is sent")
def _(t):
    d = t.daemon()
    units = csv_file(t, "units.csv", UNITS_CSV)
    ok(t, nanti(d, "import", "units", units), "import units during the bootstrap")
    seq = last_seq(t, d)
    people = csv_file(t, "people.csv", PEOPLE_CSV)
    p = nanti(d, "--actor", "root", "import", "people", people)
    status(t, p, 1, "import by an actor the file does not make an admin")
    expect_errors(t, p, people, [(2, "'admin' becomes an admin here")])
    t.eq(last_seq(t, d), seq, "nothing sent")
    # the admin's own row is not the first of the file: it goes first all the same
    moved = PEOPLE_CSV.split("\n")
    moved = "\n".join([moved[0]] + moved[2:-1] + [moved[1]]) + "\n"
    out = ok(t, nanti(d, "import", "people", csv_file(t, "people2.csv", moved)),
             "import by the admin the file makes")
    t.check(re.fullmatch(SUMMARY_RE % ("people", 5, 5, 0, 0), out), "summary: %r" % out)
    t.eq(ledger_people(t, d), PEOPLE, "the people")
    first = json.loads(ok(t, nanti(d, "--json", "log", "--after", str(seq), "--limit", "1"),
                          "log").splitlines()[0])
    t.eq(first.get("person"), "admin", "the first person registered")


@test("every invalid row of a units file is reported with its line, and nothing is sent")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    ok(t, nanti(d, "unit", "put", "anling", "--name", "安岭乡", "--kind", "township",
                "--parent", "suichang"), "unit put anling")
    seq = last_seq(t, d)
    bad = csv_file(t, "bad.csv", "\n".join([
        "unit,name,kind,parent",
        "dazhan,大战乡,township,suichang",            # 2: fine
        "other,另一个县,county,",                      # 3: a second county
        "bad id,名,township,suichang",                # 4: not an id
        "nameless,,township,suichang",                # 5: empty name
        "hamlet1,名,hamlet,suichang",                 # 6: unknown kind
        "v1,村,village,nowhere",                      # 7: a missing parent
        "v2,村,village,dazhan",                       # 8: fine (parent in the file)
        "v3,村,village,jiaotong",                     # 9: a village under an organ
        "anling,安岭乡,street,suichang",               # 10: a kind changed
        "dazhan,大战乡,township,suichang",             # 11: repeated
        "orphan,名,street,",                          # 12: no parent
        "jiaotong,交通运输局,organ,suichang",           # 13: fine
        "t9,%s,township,suichang" % ("长" * 34),      # 14: a name of 102 bytes
        "t10,名,township,suichang,extra",             # 15: a field too many
    ]) + "\n")
    p = nanti(d, "import", "units", bad)
    status(t, p, 1, "import an invalid file")
    expect_errors(t, p, bad, [
        (3, "the ledger's county is 'suichang'"),
        (4, "the unit 'bad id' is not an id"),
        (5, "the name is empty"),
        (6, "unknown kind 'hamlet'"),
        (7, "no unit 'nowhere' in the file or the ledger (the parent)"),
        (9, "a village hangs under a township or a street, and 'jiaotong' is an organ"),
        (10, "unit 'anling' is a township in the ledger: a unit's kind never changes"),
        (11, "unit 'dazhan' again: it is on line 2 already"),
        (12, "a street needs a parent: the county"),
        (14, "the name is 102 bytes, more than 100"),
        (15, "5 fields, and the header names 4"),
    ])
    t.check(p.stderr.rstrip().endswith("nanti: import units: 11 errors in %s; nothing was sent"
                                       % bad), "the closing line: %r" % p.stderr[-200:])
    t.eq(p.stdout, "", "stdout")
    t.eq(last_seq(t, d), seq, "the log's last seq")
    t.eq(sorted(ledger_units(t, d)), ["anling", "suichang"], "the units")


@test("every invalid row of a people file is reported with its line, and nothing is sent")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    ok(t, nanti(d, "import", "units", csv_file(t, "units.csv", UNITS_CSV)), "import units")
    seq = last_seq(t, d)
    bad = csv_file(t, "bad.csv", "\n".join([
        "person,name,unit,roles,village",
        "wang.li,王力,anling,cadre;boss,",            # 2: a bad role
        "li.ming,李明,nowhere,cadre,",                 # 3: a missing unit
        "zhu.qiang,朱强,dazhan,resident_cadre,",       # 4: a resident cadre without village
        "chen.jie,陈洁,anling,cadre,xiaxi",            # 5: a village without resident_cadre
        "zhou.min,周敏,anling,resident_cadre,anling",  # 6: a village that is a township
        "hu.yan,胡燕,anling,,",                        # 7: no roles
        "wang.li,王力,anling,cadre,",                  # 8: repeated
        "admin,管理员,suichang,cadre,",                # 9: the last admin loses the role
        "zhao.lei,赵磊,dazhan,cadre;;leader,",         # 10: an empty role
        "ok.one,好,dazhan,cadre,",                     # 11: fine
    ]) + "\n")
    p = nanti(d, "import", "people", bad)
    status(t, p, 1, "import an invalid file")
    expect_errors(t, p, bad, [
        (2, "unknown role 'boss'"),
        (3, "no unit 'nowhere' in the ledger"),
        (4, "a resident_cadre needs a village"),
        (5, "a village is only for a resident_cadre"),
        (6, "'anling' is a township, not a village"),
        (7, "no roles"),
        (8, "person 'wang.li' again: it is on line 2 already"),
        (9, "'admin' would lose the role admin"),
        (10, "an empty role in 'cadre;;leader'"),
    ])
    t.eq(last_seq(t, d), seq, "the log's last seq")
    t.eq(sorted(ledger_people(t, d)), ["admin"], "the people")


@test("quoted fields keep their commas, quotes and Chinese; lines are counted in the file, "
      "so a quoted line break moves the line numbers of the rows after it")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    seq = last_seq(t, d)
    text = ('unit,name,kind,parent\n'
            '"anling","安岭乡, ""the"" township",township,suichang\n'     # 2
            'xiaxi,"下溪村\n(two lines)",village,anling\n'              # 3-4: a line break
            'bad*id,村,village,anling\n'                               # 5
            'shangxi,上溪村 "x",village,anling\n'                       # 6: a bare quote
            'ok1,"",village,anling\n')                                 # 7: empty name
    path = csv_file(t, "quoted.csv", text)
    p = nanti(d, "import", "units", path)
    status(t, p, 1, "import")
    expect_errors(t, p, path, [(3, "the name holds a control character"),
                               (5, "the unit 'bad*id' is not an id"),
                               (6, "a quote inside an unquoted field"),
                               (7, "the name is empty")])
    t.eq(last_seq(t, d), seq, "nothing sent")
    good = text.split("xiaxi,")[0] + 'xiaxi,"下溪村 ""lower"", 村",village,anling\n'
    ok(t, nanti(d, "import", "units", csv_file(t, "good.csv", good)), "import")
    got = ledger_units(t, d)
    t.eq((got["anling"][0], got["xiaxi"][0]), ('安岭乡, "the" township', '下溪村 "lower", 村'),
         "names")


@test("a CRLF file with a byte order mark imports as its LF twin does")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    crlf = csv_file(t, "units-crlf.csv", UNITS_CSV, newline="\r\n", bom=True)
    out = ok(t, nanti(d, "import", "units", crlf), "import CRLF")
    t.check(re.fullmatch(SUMMARY_RE % ("units", 8, 7, 0, 1), out), "summary: %r" % out)
    t.eq(ledger_units(t, d), UNITS, "the units")
    out = ok(t, nanti(d, "import", "units", csv_file(t, "units-lf.csv", UNITS_CSV)), "LF")
    t.check(re.fullmatch(SUMMARY_RE % ("units", 8, 0, 0, 8), out), "LF twin: %r" % out)
    people = csv_file(t, "people.csv", PEOPLE_CSV, newline="\r\n")
    ok(t, nanti(d, "import", "people", people), "import people CRLF")
    t.eq(ledger_people(t, d), PEOPLE, "the people")
    # a lone CR is no line ending
    lone = csv_file(t, "lone.csv", "unit,name,kind,parent\rx,y,township,suichang\n")
    p = nanti(d, "import", "units", lone)
    status(t, p, 1, "a lone CR")
    expect_errors(t, p, lone, [(1, "a carriage return without a line feed")])


@test("a header with an unknown, a repeated or a missing column is refused naming it, and "
      "nothing is sent")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    seq = last_seq(t, d)
    cases = [
        ("unit,name,kind,parent,colour\nx,y,township,suichang,red\n",
         [(1, "unknown column 'colour': the columns of a units file are unit, name, kind, "
              "parent")]),
        ("unit,name,name,kind,parent\n", [(1, "the column name is named twice")]),
        ("unit,name,parent\nx,y,suichang\n", [(1, "no column 'kind'")]),
        ("", [(1, "no header")]),
    ]
    for i, (text, want) in enumerate(cases):
        path = csv_file(t, "h%d.csv" % i, text)
        p = nanti(d, "import", "units", path)
        status(t, p, 1, "header %d" % i)
        expect_errors(t, p, path, want)
    # parent and village may be left out
    ok(t, nanti(d, "import", "units", csv_file(t, "nop.csv", "kind,unit,name\n"
                                               "county,suichang,遂昌县\n")), "no parent column")
    t.eq(last_seq(t, d), seq, "nothing sent")


@test("an import by an actor who is not an admin is refused and applies nothing")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    ok(t, nanti(d, "person", "put", "wang.li", "--name", "王力", "--unit", "suichang",
                "--role", "cadre"), "person put wang.li")
    seq = last_seq(t, d)
    units = csv_file(t, "units.csv", UNITS_CSV)
    for actor in ("wang.li", "nobody"):
        p = nanti(d, "--actor", actor, "import", "units", units)
        status(t, p, 1, "import by %s" % actor)
        t.check("only an admin imports units, and the actor '%s' is not one" % actor
                in p.stderr, "stderr: %r" % p.stderr)
        t.check("nothing was sent" in p.stderr, "stderr: %r" % p.stderr)
        r = json_of(t, nanti(d, "--json", "--actor", actor, "import", "units", units),
                    "--json", want=1)
        t.eq((r["ok"], r["applied"], r["refused"]["code"]), (False, 0, "forbidden"), "json")
    t.eq(last_seq(t, d), seq, "the log's last seq")


@test("the progress bar is drawn on a terminal only, and cleared before the summary")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    units = csv_file(t, "units.csv", UNITS_CSV)
    p = nanti(d, "import", "units", units)
    ok(t, p, "import with stderr a pipe")
    t.eq(p.stderr, "", "stderr that is not a terminal")
    p = nanti(d, "import", "people", csv_file(t, "bad.csv", "person,name,unit,roles\n"
                                              "x,y,nowhere,cadre\n"))
    status(t, p, 1, "an invalid file")
    t.check("\r" not in p.stderr and "\x1b" not in p.stderr, "stderr: %r" % p.stderr)

    master, slave = pty.openpty()
    proc = subprocess.Popen([NANTI, "--runtime-dir", d.run_dir, "import", "people",
                             csv_file(t, "people.csv", PEOPLE_CSV)],
                            stdout=subprocess.PIPE, stderr=slave, env=client_env())
    os.close(slave)
    tty = b""
    while True:
        ready, _, _ = select.select([master], [], [], 10)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        tty += chunk
    os.close(master)
    out = proc.stdout.read().decode()
    proc.wait(10)
    t.eq(proc.returncode, 0, "exit status")
    t.check(re.fullmatch(SUMMARY_RE % ("people", 5, 4, 0, 1), out), "summary: %r" % out)
    text = tty.decode(errors="replace")
    t.check("nanti: import people: checking [" in text, "no checking bar: %r" % text)
    t.check("nanti: import people: applying [" in text and "] 5/5" in text,
            "no applying bar: %r" % text)
    t.check(text.endswith("\r\x1b[K"), "the bar is not cleared at the end: %r" % text[-80:])


@test("--json prints one summary object, also for an invalid file")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    units = csv_file(t, "units.csv", UNITS_CSV)
    r = json_of(t, nanti(d, "--json", "import", "units", units), "import")
    t.eq({k: r[k] for k in ("ok", "records", "file", "rows", "created", "updated",
                            "unchanged", "applied")},
         {"ok": True, "records": "units", "file": units, "rows": 8, "created": 7,
          "updated": 0, "unchanged": 1, "applied": 8}, "summary")
    t.eq(r["seq"], last_seq(t, d), "seq")
    t.check(isinstance(r["seconds"], float), "seconds: %r" % r)
    bad = csv_file(t, "bad.csv", 'unit,name,kind,parent\nx,"名 ""q""",hamlet,suichang\n'
                   'y,名,township,nowhere\n')
    p = nanti(d, "--json", "import", "units", bad)
    r = json_of(t, p, "invalid", want=1)
    t.eq(r, {"ok": False, "records": "units", "file": bad, "rows": 2, "applied": 0,
             "errors": [{"line": 2, "message": "unknown kind 'hamlet': the kinds are "
                         "county, township, street, village, organ"},
                        {"line": 3, "message": "no unit 'nowhere' in the file or the "
                         "ledger (the parent)"}]}, "the errors")
    t.eq(len(errors_of(t, p, bad)), 2, "the errors on stderr too")


@test("--check checks the file against the ledger and sends nothing")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    seq = last_seq(t, d)
    units = csv_file(t, "units.csv", UNITS_CSV)
    out = ok(t, nanti(d, "import", "units", units, "--check"), "check")
    t.eq(out, "units: 8 rows, all valid: 7 new, 1 already in the ledger (checked only: "
              "nothing sent)\n", "says")
    t.eq(last_seq(t, d), seq, "nothing sent")
    p = nanti(d, "import", "units", "--check",
              csv_file(t, "bad.csv", "unit,name,kind,parent\nx,y,township,\n"))
    status(t, p, 1, "an invalid file")


@test("a file that cannot be read is a usage error; one over 64 MiB is refused unread")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    p = nanti(d, "import", "units", "/nonexistent/units.csv")
    status(t, p, 2, "a missing file")
    t.check("cannot open /nonexistent/units.csv" in p.stderr, "stderr: %r" % p.stderr)
    big = csv_file(t, "big.csv", "")
    os.truncate(big, (64 << 20) + 1)        # sparse: nothing is written
    p = nanti(d, "import", "units", big)
    status(t, p, 1, "a file too large")
    t.check("%s: the file is more than the 64 MiB an import takes" % big in p.stderr,
            "stderr: %r" % p.stderr)
    p = nanti(d, "import", "units")
    status(t, p, 2, "no FILE")


class Interposer:
    """A ROUTER on its own ipc endpoint that forwards every request to the daemon through
    a DEALER, and every reply back (the daemon answers with the whole envelope: protocol.md
    section 1). Before forwarding the first request for which hook(request) is true, it
    runs meddle(): someone else changing the ledger between the import's check and its
    puts."""

    def __init__(self, t, daemon, hook, meddle):
        self.dir = tempfile.mkdtemp(prefix="nti-", dir="/tmp")
        t.defer(lambda: shutil.rmtree(self.dir, ignore_errors=True))
        self.endpoint = "ipc://%s/submit.sock" % self.dir
        self.daemon, self.hook, self.meddle = daemon, hook, meddle
        self.fired = False
        self.ready = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        t.defer(self.stop)
        if not self.ready.wait(10):
            raise RuntimeError("the interposer did not start")

    def _serve(self):
        ctx = zmq.Context()
        front, back = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
        for s in (front, back):
            s.setsockopt(zmq.LINGER, 0)
        front.bind(self.endpoint)
        back.connect(self.daemon.submit)
        self.ready.set()
        poller = zmq.Poller()
        poller.register(front, zmq.POLLIN)
        poller.register(back, zmq.POLLIN)
        try:
            while not self.done.is_set():
                for sock, _ in poller.poll(20):
                    frames = sock.recv_multipart()
                    if sock is back:
                        front.send_multipart(frames)
                        continue
                    if not self.fired and self.hook(msgpack.unpackb(frames[-1], raw=False)):
                        self.fired = True
                        self.meddle()
                    back.send_multipart(frames)
        finally:
            front.close(0)
            back.close(0)
            ctx.term()

    def stop(self):
        self.done.set()
        self.thread.join(5)


@test("a put the daemon refuses during the apply (a concurrent change) stops the import: "
      "the line, the daemon's message and the rows applied are said, and importing again "
      "finishes it once the file is fixed")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    villages = ["v%d" % i for i in range(1, 9)]
    text = "unit,name,kind,parent\nsuichang,遂昌县,county,\nanling,安岭乡,township,suichang\n" + \
        "".join("%s,村%s,village,anling\n" % (v, v) for v in villages)
    path = csv_file(t, "units.csv", text)        # v3 is on line 6

    def meddle():
        with ReqClient(d.submit) as c:
            r = c.write("unit.put", actor="admin", unit="v3", name="抢先", kind="township",
                        parent="suichang")
            assert r["ok"], r

    ip = Interposer(t, d, lambda req: req.get("op") == "unit.put" and
                    req.get("kind") == "village", meddle)
    p = subprocess.run([NANTI, "--endpoint", ip.endpoint, "import", "units", path],
                       capture_output=True, text=True, timeout=60, env=client_env())
    status(t, p, 1, "import")
    t.check(ip.fired, "the interposer never meddled")
    t.check("%s:6: refused by the daemon: conflict: unit 'v3' is a township" % path
            in p.stderr, "stderr: %r" % p.stderr)
    m = re.search(r"stopped: (\d+) of 10 rows applied before the refusal", p.stderr)
    t.require(m, "no count of the rows applied: %r" % p.stderr)
    got = ledger_units(t, d)
    applied = sum(1 for line in text.splitlines()[1:]
                  for u, name, kind, parent in [line.split(",")]
                  if got.get(u) == (name, kind, parent or None))
    t.eq(int(m.group(1)), applied, "the rows said applied are those in the ledger")
    t.check(applied >= 2, "the county and the township went in first: %d" % applied)
    t.eq(p.stdout, "", "no summary on stdout")
    # the ledger changed: the check now says so, before anything is sent
    p = nanti(d, "import", "units", path)
    status(t, p, 1, "import again")
    expect_errors(t, p, path, [(6, "unit 'v3' is a township in the ledger")])
    fixed = csv_file(t, "fixed.csv", text.replace("v3,村v3,village,anling\n", ""))
    out = ok(t, nanti(d, "import", "units", fixed), "import the fixed file")
    t.check(re.fullmatch(SUMMARY_RE % ("units", 9, 9 - applied, 0, applied), out),
            "summary: %r (%d applied before)" % (out, applied))


@test("thousands of rows import in well under two seconds each way")
def _(t):
    d = t.daemon()
    bootstrap(t, d)
    n = 3000
    units = "unit,name,kind,parent\nsuichang,遂昌县,county,\n" + \
        "".join("t%d,乡镇%d,township,suichang\n" % (i, i) for i in range(30)) + \
        "".join('v%d,"村 %d, 组",village,t%d\n' % (i, i, i % 30) for i in range(n))
    people = "person,name,unit,roles,village\n" + \
        "".join("p%d,人%d,t%d,cadre;resident_cadre,v%d\n" % (i, i, i % 30, i)
                for i in range(n))
    upath, ppath = csv_file(t, "units.csv", units), csv_file(t, "people.csv", people)
    for what, path, rows in (("units", upath, n + 31), ("people", ppath, n)):
        for created, unchanged, how in ((rows - (what == "units"), what == "units", "first"),
                                        (0, rows, "again")):
            start = time.monotonic()
            out = ok(t, nanti(d, "import", what, path), "%s %s" % (what, how))
            took = time.monotonic() - start
            t.check(re.fullmatch(SUMMARY_RE % (what, rows, created, 0, unchanged), out),
                    "summary: %r" % out)
            t.diag("%s %s: %d rows in %.2f s (%.0f rows/s)" % (what, how, rows, took,
                                                               rows / took))
            t.check(took < 2.0, "%s %s took %.2f s" % (what, how, took))


if __name__ == "__main__":
    run_tests()
