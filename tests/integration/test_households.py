"""
The household commands of the nanti client (docs/client.md, "Households") against the real
daemon (build/nantid) and the real client (build/nanti): the register imported from a CSV
file and exported again, household put, show, list and history, pairing (one, a file, the
list a unit publishes), visits, a household consultation that opens its problems as cases,
and who sees the sensitive fields. The daemon's own rules, request by request, are
test_household_rules.py's.

Each test starts nantid on a fresh temporary directory with the shared county
(pyclient.County: villages xiaxi and shangxi of anling, dongcun of tianshi, beijie of
nanfeng), writes its CSV files into a temporary directory, and runs build/nanti as a
subprocess, mostly as the admin over ipc (a trusted connection: it reads everything). What
a cadre sees is read as that cadre: with the Python client naming them as the viewer, and
with nanti over tcp with their CURVE key.

What the tests hold the client to: an invalid file changes nothing (the log's last seq
does not move) and every error is reported as FILE:LINE: message; the same file twice
sends nothing the second time and writes no log entry; export then import finds every row
unchanged; a consultation run again with its request id records nothing twice; the
sensitive fields reach only those who may see them, and never the log or the
notifications.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack):
    /usr/bin/python3 tests/integration/test_households.py [NAME-FILTER]
"""

import json
import os
import pty
import re
import select
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import msgpack  # noqa: E402
import zmq  # noqa: E402

from pyclient import (  # noqa: E402
    ROOT, County, context, error_code, free_port_pair, read_log, run_tests, test,
    today)

NANTI = os.environ.get("NANTI", os.path.join(ROOT, "build", "nanti"))
ADMIN, THEME, SUPERVISION = County.ADMIN, County.THEME, County.SUPERVISION
HEAD = County.HEAD                  # unit head of anling: pairs anling's households
CADRE = County.CADRE                # wang.li of anling: a pairing cadre
COLLEAGUE = "li.ming"               # a cadre of anling: reaches xiaxi, paired with nothing
VILLAGE_CADRE = "xu.cun"            # a cadre of xiaxi itself: not a pairing cadre
OUTSIDER = County.OTHER_CADRE       # chen.jie of tianshi
OTHER_HEAD = County.OTHER_HEAD      # unit head of tianshi
SUMMARY_RE = r"households: %d rows: %d created, %d updated, %d unchanged \(\d+\.\d\d s\)\n"
PAIRS_RE = r"pairings: %d rows: %d paired, %d paired anew, %d unchanged \(\d+\.\d\d s\)\n"
COLUMNS = ("household,village,category,members,needs,head,id_number,phone,address,"
           "member_names,notes")
SENSITIVE = ("head", "id_number", "phone", "address", "member_names", "notes")
SECRETS = ("张大山", "330781196505051234", "13905790000", "下溪村3组12号", "张小山",
           "debts from the son's illness")

# The register: quoted fields, Chinese, a line break in a note, lists with a space after
# ';', empty optional fields.
REGISTER = COLUMNS + '''
330781-0001,xiaxi,low_income,3,medical;housing,张大山,330781196505051234,13905790000,下溪村3组12号,张小山;张二,"debts from the son's illness, and a leaking roof"
330781-0002,xiaxi,near_low_income,2,,李四,,,,,
330781-0003,shangxi,other,5,schooling,"王五 ""老王""",,13900000003,,王六;王七,"two lines
of notes"
330781-0004,dongcun,low_income,1,elderly_care,赵一,,,东村1组,,
330781-0005,beijie,near_low_income,4,employment; medical,钱二,,,,钱三;钱四;钱五,
'''
# What the ledger holds after it: the keys household.put describes.
RECORDS = {
    "330781-0001": {"village": "xiaxi", "category": "low_income", "members": 3,
                    "needs": ["medical", "housing"], "head": "张大山",
                    "id_number": "330781196505051234", "phone": "13905790000",
                    "address": "下溪村3组12号", "member_names": ["张小山", "张二"],
                    "notes": "debts from the son's illness, and a leaking roof"},
    "330781-0002": {"village": "xiaxi", "category": "near_low_income", "members": 2,
                    "head": "李四"},
    "330781-0003": {"village": "shangxi", "category": "other", "members": 5,
                    "needs": ["schooling"], "head": '王五 "老王"', "phone": "13900000003",
                    "member_names": ["王六", "王七"], "notes": "two lines\nof notes"},
    "330781-0004": {"village": "dongcun", "category": "low_income", "members": 1,
                    "needs": ["elderly_care"], "head": "赵一", "address": "东村1组"},
    "330781-0005": {"village": "beijie", "category": "near_low_income", "members": 4,
                    "needs": ["employment", "medical"], "head": "钱二",
                    "member_names": ["钱三", "钱四", "钱五"]},
}
PUT_KEYS = ("village", "category", "members", "needs", "head", "id_number", "phone",
            "address", "member_names", "notes")


# ---------------------------------------------------------------------------------------
# Running the client

def client_env(**extra):
    """The environment without the user's nanti settings; the actor is the admin."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NANTI_") and k != "XDG_RUNTIME_DIR"}
    env["NANTI_ACTOR"] = ADMIN
    env.update(extra)
    return env


def nanti(d, *args, actor=None, stdin=None, timeout=120):
    """build/nanti --runtime-dir D ARGS (as actor, default the admin); the
    CompletedProcess (text)."""
    env = client_env(**({"NANTI_ACTOR": actor} if actor else {}))
    return subprocess.run([NANTI, "--runtime-dir", d.run_dir] + list(args), input=stdin,
                          capture_output=True, text=True, timeout=timeout, env=env)


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


def csv_file(t, name, text):
    """Write text into a fresh directory as name; the path."""
    tmp = tempfile.mkdtemp(prefix="nt-hh-", dir="/tmp")
    t.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    path = os.path.join(tmp, name)
    with open(path, "w") as fh:
        fh.write(text)
    return path


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


class Register:
    """A daemon with the shared county, a Python client on it, and the checks the tests
    make of the ledger."""

    def __init__(self, t, args=()):
        self.t = t
        self.d = t.daemon(args=list(args))
        self.county = self.d.build_county()
        self.c = self.d.client()
        t.defer(self.c.close)

    def seq(self):
        return self.c.call("ping")["seq"]

    def get(self, hid, viewer=None):
        req = {"op": "household.get", "household": hid}
        if viewer:
            req["actor"] = viewer
        return self.c.request(req)

    def record(self, hid):
        """The keys household.put describes of hid, as the ledger holds them."""
        r = self.get(hid)
        self.t.require(r["ok"], "household.get %s: %r" % (hid, r))
        return {k: v for k, v in r["household"].items() if k in PUT_KEYS}

    def write(self, actor, op, **fields):
        r = self.c.write(op, actor=actor, **fields)
        self.t.require(r["ok"], "%s by %s: %r" % (op, actor, r))
        return r

    def log(self, after=0):
        return read_log(self.c, after)[0]

    def imported(self, text=REGISTER, name="register.csv", actor=None):
        """Import text as the register; its path."""
        path = csv_file(self.t, name, text)
        ok(self.t, nanti(self.d, "household", "import", path, actor=actor), "import " + name)
        return path


# ---------------------------------------------------------------------------------------
# The register: import and export

@test("a register goes in whole: every field as the file says, lists split at ';', quoted "
      "fields unquoted, a record created for each row")
def _(t):
    g = Register(t)
    seq = g.seq()
    path = csv_file(t, "register.csv", REGISTER)
    p = nanti(g.d, "household", "import", path)
    out = ok(t, p, "import")
    t.check(re.fullmatch(SUMMARY_RE % (5, 5, 0, 0), out), "summary: %r" % out)
    t.eq(p.stderr, "", "nothing on stderr that is not a terminal")
    for hid, want in RECORDS.items():
        t.eq(g.record(hid), want, "the record of " + hid)
    entries = g.log(seq)
    t.eq([(e["topic"], e["household"]) for e in entries],
         [("household.created", h) for h in sorted(RECORDS)], "one entry per row")
    t.eq(entries[0]["changed"], ["household", "village", "category", "members", "needs",
                                 "head", "id_number", "phone", "address", "member_names",
                                 "notes"], "a new household's entry names what it was given")


@test("importing the same register again sends nothing: every row unchanged, no log entry")
def _(t):
    g = Register(t)
    path = g.imported()
    seq = g.seq()
    for _round in range(2):
        out = ok(t, nanti(g.d, "household", "import", path), "import again")
        t.check(re.fullmatch(SUMMARY_RE % (5, 0, 0, 5), out), "summary: %r" % out)
        t.eq(g.seq(), seq, "the log's last seq")
    r = json_of(t, nanti(g.d, "--json", "household", "import", path), "--json")
    t.eq({k: r.get(k) for k in ("ok", "records", "rows", "created", "updated", "unchanged",
                                "applied", "sent")},
         {"ok": True, "records": "households", "rows": 5, "created": 0, "updated": 0,
          "unchanged": 5, "applied": 5, "sent": 0}, "the summary object")
    t.check("seq" not in r, "no seq when nothing was sent: %r" % r)


@test("a changed register updates only what changed: a new category, a household that "
      "moves, a new need, a field left empty cleared, a new household")
def _(t):
    g = Register(t)
    g.imported()
    seq = g.seq()
    changed = (REGISTER
               .replace("330781-0002,xiaxi,near_low_income", "330781-0002,xiaxi,low_income")
               .replace("330781-0003,shangxi,", "330781-0003,xiaxi,")
               .replace(",elderly_care,赵一,,,东村1组,,", ",elderly_care;water,赵一,,,,,")
               + "330781-0006,beijie,other,2,,孙六,,,,,\n")
    out = ok(t, nanti(g.d, "household", "import", csv_file(t, "changed.csv", changed)),
             "import the changed register")
    t.check(re.fullmatch(SUMMARY_RE % (6, 1, 3, 2), out), "summary: %r" % out)
    entries = {e["household"]: e for e in g.log(seq)}
    t.eq(sorted(entries), ["330781-0002", "330781-0003", "330781-0004", "330781-0006"],
         "an entry for each row that changed, none for the others")
    t.eq((entries["330781-0002"]["changed"], entries["330781-0003"]["changed"],
          entries["330781-0003"].get("moved_from"), entries["330781-0004"]["changed"]),
         (["category"], ["village"], "shangxi", ["needs", "address"]), "what each changed")
    t.eq(g.record("330781-0004"), {"village": "dongcun", "category": "low_income",
                                   "members": 1, "needs": ["elderly_care", "water"],
                                   "head": "赵一"}, "the address left empty is cleared")


@test("every invalid row of a register is reported with its line, and nothing is sent; a "
      "village the ledger lacks is said once, with the count of its rows")
def _(t):
    g = Register(t)
    g.imported()
    seq = g.seq()
    bad = csv_file(t, "bad.csv", "\n".join([
        COLUMNS,
        "h1,xiaxi,low_income,3,medical,张一,,,,,",                   # 2: fine
        "h2,nowhere,low_income,3,,张二,,,,,",                        # 3: no such village
        "h3,nowhere,other,1,,张三,,,,,",                             # 4: (said on line 3)
        "h4,anling,other,1,,张四,,,,,",                              # 5: a township
        "h5,xiaxi,rich,0,,张五,,,,,",                                # 6: category, members
        "h6,xiaxi,other,100,medical;medical,,,,,,",                  # 7: members, need, head
        "h1,xiaxi,other,2,,张一,,,,,",                               # 8: h1 again
        "bad id,xiaxi,other,2,a;;b,张,%s,,,," % ("1" * 33),           # 9: id, need, id_number
        '"h7",xiaxi,other,2,,"张\n七",,,,,',                         # 10-11: a line break
        "h8,xiaxi,other,2,,张八",                                    # 12: too few fields
        "h9,xiaxi,other,2,,张九,,,%s,," % ("址" * 67),                # 13: an address too long
        "h10,xiaxi,other,2,,张十,,,,%s," % ";".join("名%d" % i for i in range(21)),  # 14
        'h11,xiaxi,other,2,,张"十一,,,,,',                           # 15: a bare quote
    ]) + "\n")
    p = nanti(g.d, "household", "import", bad)
    status(t, p, 1, "import an invalid register")
    expect_errors(t, p, bad, [
        (3, "no village 'nowhere' in the ledger (import the units first) (said once for its "
            "2 rows)"),
        (5, "'anling' is a township, not a village"),
        (6, "unknown category 'rich'"),
        (6, "members '0' is not a whole number from 1 to 99"),
        (7, "members '100' is not a whole number"),
        (7, "needs lists 'medical' twice"),
        (7, "the head is empty"),
        (8, "household 'h1' again: it is on line 2 already"),
        (9, "the household 'bad id' is not an id"),
        (9, "an empty item in needs 'a;;b'"),
        (9, "the id_number is 33 bytes, more than 32"),
        (10, "the head holds a control character"),
        (12, "6 fields, and the header names 11"),
        (13, "the address is 201 bytes, more than 200"),
        (14, "member_names has 21 items, more than 20"),
        (15, "a quote inside an unquoted field"),
    ])
    t.check(p.stderr.rstrip().endswith(
        "nanti: household import: 16 errors in %s; nothing was sent" % bad),
        "the closing line: %r" % p.stderr[-200:])
    t.eq(p.stdout, "", "stdout")
    t.eq(g.seq(), seq, "the log's last seq")
    r = json_of(t, nanti(g.d, "--json", "household", "import", bad), "--json", want=1)
    t.eq((r["ok"], r["applied"], len(r["errors"]), r["errors"][0]["line"]),
         (False, 0, 16, 3), "the errors as JSON")


@test("a header with an unknown or a missing column is refused naming it; the optional "
      "columns may be left out")
def _(t):
    g = Register(t)
    seq = g.seq()
    for text, want in (
            ("household,village,category,members,head,colour\n",
             [(1, "unknown column 'colour': the columns of a households file are household, "
                  "village")]),
            ("household,village,category,head\n", [(1, "no column 'members'")])):
        path = csv_file(t, "h.csv", text)
        p = nanti(g.d, "household", "import", path)
        status(t, p, 1, "header %r" % text)
        expect_errors(t, p, path, want)
    t.eq(g.seq(), seq, "nothing sent")
    out = ok(t, nanti(g.d, "household", "import", csv_file(
        t, "short.csv", "head,members,household,category,village\n李四,2,h1,other,xiaxi\n")),
        "the required columns only, in another order")
    t.check(re.fullmatch(SUMMARY_RE % (1, 1, 0, 0), out), "summary: %r" % out)
    t.eq(g.record("h1"), {"village": "xiaxi", "category": "other", "members": 2,
                          "head": "李四"}, "the record")


@test("--check checks the register against the ledger, says what would change, and sends "
      "nothing")
def _(t):
    g = Register(t)
    path = csv_file(t, "register.csv", REGISTER)
    seq = g.seq()
    out = ok(t, nanti(g.d, "household", "import", path, "--check"), "check a new register")
    t.eq(out, "households: 5 rows, all valid: 5 new, 0 changed, 0 unchanged (checked only: "
              "nothing sent)\n", "says")
    t.eq(g.seq(), seq, "nothing sent")
    g.imported()
    changed = REGISTER.replace(",李四,", ",李四四,")
    out = ok(t, nanti(g.d, "household", "import", csv_file(t, "c.csv", changed), "--check"),
             "check a changed register")
    t.eq(out, "households: 5 rows, all valid: 0 new, 1 changed, 4 unchanged (checked only: "
              "nothing sent)\n", "says")


@test("an actor imports the households of the villages within their reach only: another "
      "village is an error on its first row, and nothing is sent")
def _(t):
    g = Register(t)
    seq = g.seq()
    path = csv_file(t, "register.csv", REGISTER)
    p = nanti(g.d, "household", "import", path, actor=CADRE)
    status(t, p, 1, "wang.li imports the whole county's register")
    expect_errors(t, p, path, [
        (6, "the actor 'wang.li' may not register the households of 'dongcun': an admin, "
            "the theme office or someone whose reach holds the village may"),
        (7, "the actor 'wang.li' may not register the households of 'beijie'")])
    t.eq(g.seq(), seq, "nothing sent")
    p = nanti(g.d, "household", "import", path, actor="nobody")
    status(t, p, 1, "an actor who is no person")
    t.check("the actor 'nobody' is not a person in the ledger" in p.stderr, p.stderr)
    anling = "\n".join(line for line in REGISTER.split("\n")
                       if "dongcun" not in line and "beijie" not in line)
    out = ok(t, nanti(g.d, "household", "import", csv_file(t, "anling.csv", anling),
                      actor=CADRE), "wang.li imports anling's households")
    t.check(re.fullmatch(SUMMARY_RE % (3, 3, 0, 0), out), "summary: %r" % out)
    # a household of anling that moves to tianshi needs both villages in reach
    moved = anling.replace("330781-0002,xiaxi,", "330781-0002,dongcun,")
    path = csv_file(t, "moved.csv", moved)
    p = nanti(g.d, "household", "import", path, actor=OTHER_HEAD)
    status(t, p, 1, "head.tianshi moves an anling household to dongcun")
    t.check(any("household '330781-0002' moves from a village the actor 'head.tianshi' may "
                "not register the households of" in m for _, m in errors_of(t, p, path)),
            p.stderr)


@test("thousands of rows: the second import sends only the rows that changed, across the "
      "pages of the ledger's register")
def _(t):
    g = Register(t)
    n = 3000
    villages = ("xiaxi", "shangxi", "dongcun", "beijie")
    rows = ["%s,%s,%s,%d,medical,户主%d,,1390000%04d,,成员%d;成员%d," %
            ("h%05d" % i, villages[i % 4], ("low_income", "other")[i % 3 > 0], 1 + i % 9, i,
             i, i, i + 1) for i in range(n)]
    path = g.imported(COLUMNS + "\n" + "\n".join(rows) + "\n", "big.csv")
    seq = g.seq()
    t.eq(seq, g.county.seq + n, "one entry a row")
    for i in (0, 999, 1000, 1001, 1999, 2500, 2999):       # around the pages of 1000
        rows[i] = rows[i].replace(",medical,", ",housing,")
    p = nanti(g.d, "--json", "household", "import",
              csv_file(t, "big2.csv", COLUMNS + "\n" + "\n".join(rows) + "\n"))
    r = json_of(t, p, "import the changed file")
    t.eq((r["created"], r["updated"], r["unchanged"], r["sent"]), (0, 7, n - 7, 7),
         "seven rows sent and updated")
    t.eq(sorted(e["household"] for e in g.log(seq)),
         ["h00000", "h00999", "h01000", "h01001", "h01999", "h02500", "h02999"],
         "their entries")
    t.eq(g.record("h01000")["needs"], ["housing"], "a changed record")
    ok(t, nanti(g.d, "household", "import", path), "the first file again")


@test("export then import finds every row unchanged; the file is the register's CSV, mode "
      "0600, and replaces what was there; --village exports one village")
def _(t):
    g = Register(t)
    g.imported()
    seq = g.seq()
    tmp = tempfile.mkdtemp(prefix="nt-hx-", dir="/tmp")
    t.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    path = os.path.join(tmp, "export.csv")
    with open(path, "w") as f:
        f.write("an older export\n")
    out = ok(t, nanti(g.d, "household", "export", path), "export")
    t.eq(out, "households: 5 rows written to %s\n" % path, "says")
    t.eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, "the mode of the export")
    t.eq(sorted(os.listdir(tmp)), ["export.csv"], "no FILE.tmp left")
    with open(path) as f:
        text = f.read()
    t.eq(text, REGISTER.replace("employment; medical", "employment;medical"),
         "the export is the register, in id order")
    out = ok(t, nanti(g.d, "household", "import", path), "import the export")
    t.check(re.fullmatch(SUMMARY_RE % (5, 0, 0, 5), out), "summary: %r" % out)
    t.eq(g.seq(), seq, "nothing changed")
    t.eq(ok(t, nanti(g.d, "household", "export"), "export to stdout"), text, "stdout")
    t.eq(ok(t, nanti(g.d, "household", "export", "-", "--village", "xiaxi"), "one village"),
         "\n".join(REGISTER.split("\n")[:3]) + "\n", "xiaxi's households")
    t.eq(ok(t, nanti(g.d, "household", "export", "--within", "anling"), "anling"),
         "\n".join(REGISTER.split("\n")[:5]) + "\n", "anling's households")


@test("an export by someone who may not see the sensitive fields is refused and writes no "
      "file: it would not import again")
def _(t):
    port = free_port_pair()
    g = Register(t, args=["--listen-tcp", "127.0.0.1:%d" % port])
    g.imported()
    key = key_file(t, g, COLLEAGUE)
    tmp = tempfile.mkdtemp(prefix="nt-hx-", dir="/tmp")
    t.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    path = os.path.join(tmp, "export.csv")
    p = over_tcp(g, port, key, "household", "export", path, "--village", "xiaxi")
    status(t, p, 1, "li.ming exports xiaxi")
    t.check("household '330781-0001' comes without its sensitive fields" in p.stderr and
            "nothing was written" in p.stderr, "stderr: %r" % p.stderr)
    t.eq(os.listdir(tmp), [], "no file, no FILE.tmp")


# ---------------------------------------------------------------------------------------
# One household at a time

@test("household put, show, list and history from the command line; a put as the ledger "
      "holds it changes nothing; the fields not given are cleared")
def _(t):
    g = Register(t)
    put = ["household", "put", "h9", "--village", "xiaxi", "--category", "low_income",
           "--members", "3", "--head", "张三", "--needs", "medical;housing",
           "--member-names", "张四", "--member-names", "张五, 小名", "--phone", "13900000009",
           "--notes", "-"]
    out = ok(t, nanti(g.d, *put, stdin="the roof leaks\n"), "household put")
    t.check(re.fullmatch(r"household h9 saved \(seq \d+\)\n", out), "says: %r" % out)
    seq = g.seq()
    out = ok(t, nanti(g.d, *put, stdin="the roof leaks\n"), "the same put again")
    t.eq(out, "household h9 unchanged: the ledger already holds it so\n", "says")
    t.eq(g.seq(), seq, "no entry")
    t.eq(g.record("h9"), {"village": "xiaxi", "category": "low_income", "members": 3,
                          "needs": ["medical", "housing"], "head": "张三",
                          "phone": "13900000009", "member_names": ["张四", "张五, 小名"],
                          "notes": "the roof leaks"}, "the record")
    show = ok(t, nanti(g.d, "household", "show", "h9"), "household show")
    for line in ("household h9", "  village        xiaxi", "  members        3",
                 "  needs          medical, housing", "  head           张三",
                 "  member names   张四, 张五, 小名", "  notes          the roof leaks",
                 "  cadre          not paired", "  visits         none yet"):
        t.check(line + "\n" in show, "show lacks %r:\n%s" % (line, show))
    out = ok(t, nanti(g.d, *put[:11]), "a put without the optional fields")
    t.check(out.startswith("household h9 saved"), out)
    t.eq(g.record("h9"), {"village": "xiaxi", "category": "low_income", "members": 3,
                          "head": "张三"}, "the optional fields are cleared")
    listed = ok(t, nanti(g.d, "household", "list", "--village", "xiaxi"), "household list")
    t.eq(listed.splitlines()[0].split(), ["HOUSEHOLD", "VILLAGE", "CATEGORY", "MEMBERS",
                                          "CADRE", "VISITS", "LAST", "VISIT", "NEEDS"],
         "the columns")
    t.check(re.search(r"^h9\s+xiaxi\s+low_income\s+3\s+-\s+0\s+-\s+-$", listed, re.M),
            "the row: %r" % listed)
    story = ok(t, nanti(g.d, "household", "history", "h9"), "household history")
    t.check(story.startswith("household h9: 2 entries\n"), story)
    t.check("household h9 registered in xiaxi: low_income, 3 members" in story and
            "household h9 of xiaxi updated: needs, phone, member_names, notes" in story,
            "the story: %r" % story)
    seq = g.seq()
    base = ["household", "put", "h9", "--village", "xiaxi", "--head", "张三"]
    for args, why in ((["--category", "other", "--members", "100"],
                       "--members must be an integer from 1 to 99"),
                      (["--category", "rich", "--members", "2"],
                       "--category must be one of: low_income, near_low_income, other"),
                      (["--category", "other", "--members", "2", "--needs", "a;;b"],
                       "--needs items must be strings of 1 to 32 bytes")):
        p = nanti(g.d, *(base + args))
        status(t, p, 2, "household put " + " ".join(args))
        t.check(why in p.stderr, "stderr: %r (want %r)" % (p.stderr, why))
    t.eq(g.seq(), seq, "nothing sent by the invalid puts")


@test("household list pages through the ledger: --limit, the filters, the rest with --after "
      "or --all, one object with --json")
def _(t):
    g = Register(t)
    rows = ["h%02d,%s,%s,2,,户主%d,,,,," % (i, ("xiaxi", "dongcun")[i % 2],
                                          ("low_income" if i % 5 == 0 else "other"), i)
            for i in range(30)]
    g.imported(COLUMNS + "\n" + "\n".join(rows) + "\n")
    g.write(ADMIN, "household.pair", household="h05", cadre=CADRE)
    out = ok(t, nanti(g.d, "household", "list", "--category", "low_income", "--limit", "4"),
             "the first four low-income households")
    t.eq([line.split()[0] for line in out.splitlines()[1:-1]], ["h00", "h05", "h10", "h15"],
         "the rows")
    t.eq(out.splitlines()[-1], "(more: nanti household list --after h15, or --all)",
         "the way on")
    out = ok(t, nanti(g.d, "household", "list", "--category", "low_income", "--after", "h15"),
             "the rest")
    t.eq([line.split()[0] for line in out.splitlines()[1:]], ["h20", "h25"], "the rest")
    r = json_of(t, nanti(g.d, "--json", "household", "list", "--category", "low_income",
                         "--limit", "4"), "--json")
    t.eq(([i["household"] for i in r["items"]], r["next"]),
         (["h00", "h05", "h10", "h15"], "h15"), "the JSON page")
    r = json_of(t, nanti(g.d, "--json", "household", "list", "--all", "--limit", "7"),
                "--all")
    t.eq(len(r["items"]), 30, "every household")
    r = json_of(t, nanti(g.d, "--json", "household", "list", "--paired", "yes"), "paired")
    t.eq([i["household"] for i in r["items"]], ["h05"], "--paired yes")
    r = json_of(t, nanti(g.d, "--json", "household", "list", "--paired", "no",
                         "--category", "low_income", "--village", "dongcun"), "filters")
    t.eq([i["household"] for i in r["items"]], ["h15", "h25"], "filters combine")
    r = json_of(t, nanti(g.d, "--json", "household", "list", "--cadre", CADRE), "--cadre")
    t.eq([i["household"] for i in r["items"]], ["h05"], "--cadre")


# ---------------------------------------------------------------------------------------
# Pairing

@test("pair a household, pair it again, pair it anew with another cadre, unpair it; the "
      "history tells each")
def _(t):
    g = Register(t)
    g.imported()
    h = "330781-0001"
    out = ok(t, nanti(g.d, "pair", h, CADRE), "pair")
    t.check(re.fullmatch(r"household %s paired with wang.li \(seq \d+\)\n" % h, out), out)
    seq = g.seq()
    out = ok(t, nanti(g.d, "pair", h, CADRE), "pair again")
    t.eq(out, "household %s is paired with wang.li already: unchanged\n" % h, "says")
    t.eq(g.seq(), seq, "no entry")
    ok(t, nanti(g.d, "pair", h, COLLEAGUE, actor=HEAD), "pair anew, by anling's unit head")
    t.eq(g.get(h)["household"]["cadre"], COLLEAGUE, "the cadre now")
    out = ok(t, nanti(g.d, "pair", "--remove", h), "unpair")
    t.check(re.fullmatch(r"household %s unpaired \(seq \d+\)\n" % h, out), out)
    t.check("cadre" not in g.get(h)["household"], "no cadre")
    out = ok(t, nanti(g.d, "pair", "--remove", h), "unpair again")
    t.eq(out, "household %s was not paired: unchanged\n" % h, "says")
    story = ok(t, nanti(g.d, "household", "history", h), "history")
    for line in ("household %s of xiaxi paired with wang.li" % h,
                 "household %s of xiaxi paired with li.ming" % h, "previously  wang.li",
                 "household %s of xiaxi no longer paired with li.ming" % h):
        t.check(line in story, "the story lacks %r:\n%s" % (line, story))
    seq = g.seq()
    for args, want, what in (
            ([h, VILLAGE_CADRE], 1, "a cadre of a village"),
            ([h, CADRE], 1, "by the unit head of another township"),
            ([h], 2, "no cadre"),
            (["--remove", h, CADRE], 2, "--remove with a cadre")):
        p = nanti(g.d, "pair", *args, actor=OTHER_HEAD if "another" in what else None)
        status(t, p, want, what)
    t.eq(g.seq(), seq, "nothing applied")


PAIRS = "household,cadre\n330781-0001,wang.li\n330781-0002,li.ming\n330781-0003,head.anling\n"


@test("a pairing file goes in all or nothing: every bad row with its line; a good one "
      "pairs; again it sends nothing; a changed one pairs anew only what changed")
def _(t):
    g = Register(t)
    g.imported()
    seq = g.seq()
    bad = csv_file(t, "bad.csv", "\n".join([
        "household,cadre",
        "330781-0001,wang.li",           # 2: fine
        "330781-0002,xu.cun",            # 3: a cadre of a village
        "330781-0003,nobody",            # 4: no such person
        "330781-0009,wang.li",           # 5: no such household
        "330781-0001,li.ming",           # 6: the household again
        "330781-0004,wang.li",           # 7: dongcun: not anling's unit head's to pair
        "330781-0005,theme",             # 8: the theme office pairs no household itself
        "bad id,wang.li",                # 9
    ]) + "\n")
    p = nanti(g.d, "pair", "import", bad, actor=HEAD)
    status(t, p, 1, "an invalid pairing file")
    expect_errors(t, p, bad, [
        (3, "'xu.cun' cannot be paired with a household: pairing cadres are county leaders"),
        (4, "no person 'nobody' in the ledger"),
        (5, "no household '330781-0009' in the ledger"),
        (6, "household '330781-0001' again: it is on line 2 already"),
        (7, "the actor 'head.anling' may not pair household '330781-0004' of 'dongcun'"),
        (8, "the actor 'head.anling' may not pair household '330781-0005' of 'beijie'"),
        (8, "'theme' cannot be paired with a household"),
        (9, "the household 'bad id' is not an id"),
    ])
    t.eq(g.seq(), seq, "nothing sent")
    path = csv_file(t, "pairs.csv", PAIRS)
    out = ok(t, nanti(g.d, "pair", "import", path, actor=HEAD), "pair import")
    t.check(re.fullmatch(PAIRS_RE % (3, 3, 0, 0), out), "summary: %r" % out)
    t.eq([g.get(h)["household"].get("cadre") for h in ("330781-0001", "330781-0002",
                                                         "330781-0003")],
         [CADRE, COLLEAGUE, HEAD], "the cadres")
    seq = g.seq()
    out = ok(t, nanti(g.d, "pair", "import", path, actor=HEAD), "again")
    t.check(re.fullmatch(PAIRS_RE % (3, 0, 0, 3), out), "summary: %r" % out)
    t.eq(g.seq(), seq, "no entry")
    out = ok(t, nanti(g.d, "pair", "import", path, "--check"), "--check")
    t.eq(out, "pairings: 3 rows, all valid: 0 to pair, 0 to pair anew (now with another "
              "cadre), 3 paired so already (checked only: nothing sent)\n", "says")
    r = json_of(t, nanti(g.d, "--json", "pair", "import", csv_file(
        t, "p2.csv", PAIRS.replace("0002,li.ming", "0002,wang.li"))), "a changed file")
    t.eq((r["created"], r["updated"], r["unchanged"], r["sent"]), (0, 1, 2, 1), "the counts")
    t.eq([e["topic"] for e in g.log(seq)], ["household.paired"], "one entry")
    t.eq(g.log(seq)[0].get("previous"), COLLEAGUE, "it names the cadre before")


@test("the pairing list of the county and of a unit: by unit, then by cadre, as a table, "
      "as CSV for the office's tools, and as JSON")
def _(t):
    g = Register(t)
    g.imported()
    ok(t, nanti(g.d, "pair", "import", csv_file(t, "pairs.csv", PAIRS)), "pair import")
    ok(t, nanti(g.d, "pair", "330781-0004", OUTSIDER), "pair dongcun's household")
    out = ok(t, nanti(g.d, "pair", "list", "--csv"), "pair list --csv")
    t.eq(out, "\n".join([
        "unit,unit_name,cadre,cadre_name,household,village,village_name,category,head",
        "anling,安岭乡,head.anling,安岭乡乡长,330781-0003,shangxi,上溪村,other,"
        '"王五 ""老王"""',
        "anling,安岭乡,li.ming,李明,330781-0002,xiaxi,下溪村,near_low_income,李四",
        "anling,安岭乡,wang.li,王立,330781-0001,xiaxi,下溪村,low_income,张大山",
        "county,示范县,county.leader,县领导,,,,,",
        "tianshi,田市镇,chen.jie,陈杰,330781-0004,dongcun,东村,low_income,赵一",
        "tianshi,田市镇,head.tianshi,田市镇镇长,,,,,",
        "water,县水利局,zhao.hua,赵华,,,,,"]) + "\n", "the CSV")
    table = ok(t, nanti(g.d, "pair", "list"), "pair list")
    lines = table.splitlines()
    t.eq(lines[0], "pairing list (一户一干部) of the county: 7 cadres, 4 households", "heading")
    t.eq([line for line in lines if line and not line.startswith(" ")][1:],
         ["安岭乡 anling", "示范县 county", "田市镇 tianshi", "县水利局 water"], "the units")
    t.check(re.search(r"^  wang\.li\s+王立\s+330781-0001\s+下溪村 xiaxi\s+low_income\s+张大山$",
                      table, re.M), "wang.li's line:\n" + table)
    t.check(re.search(r"^  county\.leader\s+县领导\s+\(no household yet\)$", table, re.M),
            "a cadre without a household:\n" + table)
    out = ok(t, nanti(g.d, "pair", "list", "--unit", "anling", "--csv"), "of anling")
    t.eq([line.split(",")[2] for line in out.splitlines()[1:]],
         ["head.anling", "li.ming", "wang.li"], "anling's cadres")
    r = json_of(t, nanti(g.d, "--json", "pair", "list", "--unit", "tianshi"), "--json")
    t.eq([(i["cadre"], [h["household"] for h in i["households"]]) for i in r["items"]],
         [("chen.jie", ["330781-0004"]), ("head.tianshi", [])], "the JSON items")
    p = nanti(g.d, "pair", "list", "--unit", "nowhere")
    status(t, p, 1, "an unknown unit")


# ---------------------------------------------------------------------------------------
# Visits and consultations

@test("visits: the first and the last, one dated before the first, none in the future")
def _(t):
    g = Register(t)
    g.imported()
    h = "330781-0001"
    g.write(ADMIN, "household.pair", household=h, cadre=CADRE)
    seq = g.seq()
    out = ok(t, nanti(g.d, "visit", h, "--done", "brought rice", "--support", "200 yuan",
                      "--date", today(-3), actor=CADRE), "a visit three days ago")
    t.check(re.fullmatch(r"household %s: visit recorded, 1 so far \(seq \d+\)\n" % h, out),
            out)
    ok(t, nanti(g.d, "visit", h, "--done", "checked the roof", actor=CADRE), "one today")
    rec = g.get(h)["household"]
    t.eq((rec["visits"], rec["first_visit"], rec["last_visit"]), (2, today(-3), today()),
         "the first and the last visit")
    ok(t, nanti(g.d, "visit", h, "--done", "an earlier visit, recorded late", "--date",
                today(-10), actor=COLLEAGUE), "a visit by a cadre of its township")
    rec = g.get(h)["household"]
    t.eq((rec["visits"], rec["first_visit"], rec["last_visit"]), (3, today(-10), today()),
         "a visit dated before the first becomes the first")
    entries = g.log(seq)
    t.eq([(e["topic"], e["date"], e["first"], e.get("cadre")) for e in entries],
         [("household.visited", today(-3), True, CADRE),
          ("household.visited", today(), False, CADRE),
          ("household.visited", today(-10), False, CADRE)], "the entries")
    t.eq(entries[0].get("support"), "200 yuan", "the support given")
    seq = g.seq()
    p = nanti(g.d, "visit", h, "--done", "tomorrow", "--date", today(1), actor=CADRE)
    status(t, p, 1, "a visit in the future")
    t.check("bad_request" in p.stderr, p.stderr)
    status(t, nanti(g.d, "visit", h, "--done", "x", actor=OUTSIDER), 1, "by an outsider")
    status(t, nanti(g.d, "visit", h, actor=CADRE), 2, "without --done")
    t.eq(g.seq(), seq, "nothing recorded")
    story = ok(t, nanti(g.d, "household", "history", h), "history")
    t.check("household %s of xiaxi visited on %s" % (h, today(-3)) in story and
            "support      200 yuan" in story, "the story: %r" % story)


@test("a household consultation opens its problems as cases linked to it and to their "
      "households; run again with its request id it records nothing twice")
def _(t):
    g = Register(t)
    g.imported()
    a, b = "330781-0001", "330781-0002"
    consult = ["household", "consult", "xiaxi", "--households", "%s,%s" % (a, b),
               "--participants", "%s,%s" % (CADRE, COLLEAGUE), "--residents", "12",
               "--summary", "water and the roof", "--date", today(-1),
               "--problem", " %s =the roof leaks" % a, "--problem", "no running water",
               "--lead", CADRE, "--request-id", "0193a1b2c3d4-consult-1"]
    seq = g.seq()
    out = ok(t, nanti(g.d, *consult, actor=HEAD), "household consult")
    t.eq(out, "consultation recorded in xiaxi as seq %d\n"
              "case 1 opened for %s: the roof leaks\n"
              "case 2 opened for %s, %s: no running water\n" % (seq + 1, a, a, b), "says")
    consultation = seq + 1
    t.eq(g.seq(), seq + 3, "three entries")
    c1 = g.c.call("case.get", case=1)["case"]
    c2 = g.c.call("case.get", case=2)["case"]
    t.eq([(c["kind"], c["source"], c["unit"], c["lead"], c["area"], c["households"],
           c["consultation"]) for c in (c1, c2)],
         [("household_issue", "household_consultation", "xiaxi", CADRE, "livelihood", [a],
           consultation),
          ("household_issue", "household_consultation", "xiaxi", CADRE, "livelihood",
           [a, b], consultation)], "the cases")
    t.eq((g.get(a)["cases"], g.get(b)["cases"]), ([1, 2], [2]), "the households' cases")
    t.eq((g.get(a)["household"].get("consultations"),
          g.get(b)["household"].get("consultations")), (1, 1), "consultations counted")
    story = ok(t, nanti(g.d, "household", "history", a), "the history of the first")
    for line in ("household consultation in xiaxi on %s: %s, %s" % (today(-1), a, b),
                 "participants  wang.li, li.ming", "case 1: opened: the roof leaks",
                 "case 2: opened: no running water", "consultation  seq %d" % consultation):
        t.check(line in story, "the story lacks %r:\n%s" % (line, story))
    show = ok(t, nanti(g.d, "show", "2"), "show case 2")
    t.check(("  households     %s, %s\n" % (a, b)) in show, "show: %r" % show)
    # again, with the same request id: the original replies, nothing new
    out = ok(t, nanti(g.d, *consult, actor=HEAD), "the same consultation again")
    t.eq(out, "consultation recorded in xiaxi as seq %d (duplicate: already recorded)\n"
              "case 1 opened for %s: the roof leaks (duplicate: opened already)\n"
              "case 2 opened for %s, %s: no running water (duplicate: opened already)\n"
         % (consultation, a, a, b), "says")
    t.eq(g.seq(), seq + 3, "nothing recorded twice")
    r = json_of(t, nanti(g.d, "--json", *consult, actor=HEAD), "--json")
    t.eq((r["consultation"], r["id"], [(c["case"], c["id"], c["households"])
                                        for c in r["cases"]]),
         (consultation, "0193a1b2c3d4-consult-1",
          [(1, "0193a1b2c3d4-consult-1.p1", [a]), (2, "0193a1b2c3d4-consult-1.p2", [a, b])]),
         "the JSON")


@test("a consultation whose problem names a household not discussed, or that is not valid, "
      "records nothing")
def _(t):
    g = Register(t)
    g.imported()
    seq = g.seq()
    base = ["household", "consult", "xiaxi", "--households", "330781-0001"]
    for extra, why in (
            (["--problem", "330781-0002=not discussed"],
             "household '330781-0002' is not among the --households discussed"),
            (["--problem", "water=life"],
             "household 'water' is not among the --households discussed (a title with an "
             "'=' in it: write =TITLE)"),
            (["--problem", "330781-0001,,x=two commas"], "'' is not a household id"),
            (["--problem", "x" * 201], "--problem must be 1 to 200 bytes"),
            (["--problem", "ok", "--area", "welfare"], "--area must be one of"),
            (["--problem", "ok", "--request-id", "r" * 61],
             "the problems' ids add '.pN' to it, so it may have at most 60")):
        p = nanti(g.d, *(base + extra), actor=HEAD)
        status(t, p, 2, " ".join(extra)[:60])
        t.check(why in p.stderr, "stderr: %r (want %r)" % (p.stderr, why))
    t.eq(g.seq(), seq, "nothing recorded")
    p = nanti(g.d, *(base + ["--problem", "ok"]), actor=OUTSIDER)
    status(t, p, 1, "by a cadre of another township")
    t.check("forbidden" in p.stderr, p.stderr)
    t.eq(g.seq(), seq, "nothing recorded")


# ---------------------------------------------------------------------------------------
# Who sees the sensitive fields

def key_file(t, g, person):
    """A key pair file for person (nanti key gen), registered by the admin."""
    path = os.path.join(g.d.base, person + ".key")
    r = subprocess.run([NANTI, "key", "gen", "--out", path], capture_output=True, text=True,
                       timeout=30)
    t.require(r.returncode == 0, "key gen: %r" % (r,))
    ok(t, nanti(g.d, "admin", "key", "add", person, path), "admin key add " + person)
    return path


def over_tcp(g, port, key, *args):
    """build/nanti over tcp with key: the requests act as, and read as, its person."""
    env = client_env()
    env.pop("NANTI_ACTOR")
    return subprocess.run([NANTI, "--endpoint", "tcp://127.0.0.1:%d" % port, "--key", key,
                           "--server-key", os.path.join(g.d.state_dir, "curve.public")]
                          + list(args), capture_output=True, text=True, timeout=60, env=env)


@test("the sensitive fields: shown to the paired cadre, the offices and admins, hidden from "
      "a cadre who reaches the village, never in the log or the live notifications")
def _(t):
    port = free_port_pair()
    g = Register(t, args=["--listen-tcp", "127.0.0.1:%d" % port])
    h = "330781-0001"
    # every notification from here on, as the bytes on the wire
    sub = context().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect("ipc://" + os.path.join(g.d.run_dir, "events.sock"))
    t.defer(lambda: sub.close(0))
    t.require(sub.poll(15000), "no heartbeat: the subscription is not up")
    heard = [sub.recv_multipart()]
    g.imported()
    ok(t, nanti(g.d, "pair", h, CADRE), "pair")
    ok(t, nanti(g.d, "visit", h, "--done", "talked about the debts", actor=CADRE), "visit")
    ok(t, nanti(g.d, "household", "consult", "xiaxi", "--households", h, "--problem",
                "the roof", actor=HEAD), "consult")
    last = g.seq()
    while True:
        t.require(sub.poll(15000), "the notifications stopped before seq %d" % last)
        frames = sub.recv_multipart()
        heard.append(frames)
        if frames[0] != b"heartbeat" and msgpack.unpackb(frames[1], raw=False)["seq"] == last:
            break
    wire = b"".join(b"".join(f) for f in heard)
    log = repr(g.log())
    for secret in SECRETS:
        t.check(secret.encode() not in wire, "a notification holds %r" % secret)
        t.check(secret not in log, "the log holds %r" % secret)
    # who sees them: the viewer a trusted connection names
    for viewer, sees in ((CADRE, True), (ADMIN, True), (THEME, True), (SUPERVISION, True),
                         (COLLEAGUE, False), (HEAD, False)):
        r = g.get(h, viewer)
        t.require(r["ok"], "household.get as %s: %r" % (viewer, r))
        t.eq((r["hidden"], all(k in r["household"] for k in SENSITIVE)), (not sees, sees),
             "what %s sees" % viewer)
        if not sees:
            t.eq([k for k in SENSITIVE if k in r["household"]], [], "%s sees none" % viewer)
    t.eq(error_code(g.get(h, OUTSIDER)), "forbidden", "a cadre of another township reads "
         "nothing of it")
    # and through nanti, over tcp, as the key's person
    mine, theirs = key_file(t, g, CADRE), key_file(t, g, COLLEAGUE)
    shown = ok(t, over_tcp(g, port, mine, "household", "show", h), "show as wang.li")
    t.check("  head           张大山\n" in shown and "  notes          debts" in shown, shown)
    shown = ok(t, over_tcp(g, port, theirs, "household", "show", h), "show as li.ming")
    t.check(not any(s in shown for s in SECRETS) and "are not shown to you" in shown, shown)
    listed = json.loads(ok(t, over_tcp(g, port, theirs, "--json", "household", "list"),
                           "list as li.ming"))
    t.check(listed["items"] and not any(k in i for i in listed["items"] for k in SENSITIVE),
            "the list: %r" % listed)
    out = ok(t, over_tcp(g, port, theirs, "pair", "list", "--csv"), "pair list as li.ming")
    t.check("wang.li,王立,330781-0001,xiaxi,下溪村,low_income,\n" in out,
            "the head is left out: %r" % out)
    story = ok(t, over_tcp(g, port, theirs, "household", "history", h), "history as li.ming")
    t.check(not any(s in story for s in SECRETS), "the history: %r" % story)


# ---------------------------------------------------------------------------------------
# The terminal, the campaign

@test("the register's progress bar is drawn on a terminal only, and cleared before the "
      "summary")
def _(t):
    g = Register(t)
    path = csv_file(t, "register.csv", REGISTER)
    master, slave = pty.openpty()
    proc = subprocess.Popen([NANTI, "--runtime-dir", g.d.run_dir, "household", "import",
                             path], stdout=subprocess.PIPE, stderr=slave, env=client_env())
    os.close(slave)
    tty = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
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
    proc.wait(30)
    t.eq(proc.returncode, 0, "exit status")
    t.check(re.fullmatch(SUMMARY_RE % (5, 5, 0, 0), out), "summary: %r" % out)
    text = tty.decode(errors="replace")
    t.check("nanti: household import: applying [" in text and "] 5/5" in text,
            "no applying bar: %r" % text)
    t.check(text.endswith("\r\x1b[K"), "the bar is not cleared at the end: %r" % text[-80:])


@test("the campaign's pair and visit dates, and the coverage of the household milestones")
def _(t):
    g = Register(t)
    g.imported()
    ok(t, nanti(g.d, "campaign", "set", "民情大走访", "--start", today(-30), "--end",
                today(30), "--pair-by", today(5), "--visit-by", today(10), actor=THEME),
       "campaign set")
    shown = ok(t, nanti(g.d, "campaign", "show"), "campaign show")
    t.check("  pair by      %s\n" % today(5) in shown and
            "  visit by     %s\n" % today(10) in shown, shown)
    ok(t, nanti(g.d, "pair", "330781-0001", CADRE), "pair one")
    out = ok(t, nanti(g.d, "coverage", "--milestone", "pair"), "coverage --milestone pair")
    t.check(re.search(r"^  xiaxi .*households? 330781-0002$", out, re.M) and
            "330781-0003" not in out, "the unpaired low-income households by village:\n" +
            out)
    out = ok(t, nanti(g.d, "coverage", "--milestone", "visit"), "coverage --milestone visit")
    t.check(re.search(r"^  anling\s+wang\.li\s+王立\s+household 330781-0001$", out, re.M),
            "the paired household not visited:\n" + out)


if __name__ == "__main__":
    run_tests()
