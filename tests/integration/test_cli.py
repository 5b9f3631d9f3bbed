"""
The nanti command-line client (build/nanti) against the real daemon (build/nantid).

Each test starts nantid on a fresh temporary directory (pyclient.Daemon, which waits until
ping answers and kills the daemon when the test ends), runs build/nanti as a subprocess
and checks what it prints and its exit status (docs/client.md): 0 success, 1 refused,
2 usage or invalid input, 3 unreachable, 4 invalid reply.

Cases need a county: units to belong to and registered people to act. county() builds a
small one through the client itself, as an operator would: the units and the first admin
through the bootstrap (while the ledger has no admin anyone may register them), then the
other people as that admin, then the campaign as the theme office.

Two things the real daemon never does are played by FakeDaemon, a small stand-in on
ipc sockets: replies that break the protocol (the client must exit 4, never crash), and
notifications that go missing (watch must read them back from the log, as the subscriber
recipe of docs/protocol.md section 7 says).

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack):
    /usr/bin/python3 tests/integration/test_cli.py [NAME-FILTER]
"""

import datetime
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import msgpack  # noqa: E402
import zmq  # noqa: E402

from pyclient import ROOT, free_port_pair, new_id, read_log, run_tests, test  # noqa: E402

NANTI = os.environ.get("NANTI", os.path.join(ROOT, "build", "nanti"))
ACTOR = "wang.li"
CASE_COMMANDS = ("open", "plan", "consult", "commit", "coordinate", "resolve", "journal",
                 "outcome", "verify", "note", "reassign", "escalate", "reopen", "guarantee",
                 "repeat")
COUNTY_COMMANDS = ("unit put", "unit show", "unit list", "person put", "person show",
                   "person list", "campaign set", "campaign show")
COMMANDS = CASE_COMMANDS + COUNTY_COMMANDS + ("show", "list", "log", "watch", "ping", "stats")
TIME_RE = re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d\b")
CST = datetime.timezone(datetime.timedelta(hours=8))   # the county's days (protocol.md 2)

# The county of the tests: (id, name, kind, parent).
UNITS = [
    ("suichang", "遂昌县", "county", None),
    ("anling", "安岭乡", "township", "suichang"),
    ("dazhan", "大战乡", "township", "suichang"),
    ("miaogao", "妙高街道", "street", "suichang"),
    ("jiaotong", "交通运输局", "organ", "suichang"),
    ("xiaxi", "下溪村", "village", "anling"),
    ("shangxi", "上溪村", "village", "anling"),
    ("lianhe", "联合村", "village", "dazhan"),
]
# (id, name, unit, roles, village); wang.li, the ACTOR, leads most cases.
PEOPLE = [
    ("admin", "管理员", "suichang", ["admin"], None),
    ("wang.li", "王力", "anling", ["cadre"], None),
    ("li.ming", "李明", "anling", ["cadre"], None),
    ("zhao.lei", "赵磊", "dazhan", ["cadre"], None),
    ("chen.jie", "陈洁", "anling", ["cadre"], None),
    ("zhou.min", "周敏", "anling", ["cadre"], None),
    ("hu.yan", "胡燕", "anling", ["unit_head", "leader"], None),
    ("zhu.qiang", "朱强", "dazhan", ["resident_cadre"], "xiaxi"),
    ("zhang.wei", "张伟", "suichang", ["county_leader"], None),
    ("theme", "主题办", "suichang", ["theme_office"], None),
    ("ducha", "督查室", "suichang", ["supervision"], None),
]


# ---------------------------------------------------------------------------------------
# Running the client

def client_env(**extra):
    """The environment without the user's nanti settings, with a fixed actor."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NANTI_") and k != "XDG_RUNTIME_DIR"}
    env["NANTI_ACTOR"] = ACTOR
    env.update(extra)
    return env


def run(args, stdin=None, env=None, timeout=30):
    """build/nanti ARGS; returns the CompletedProcess (text)."""
    return subprocess.run([NANTI] + list(args), input=stdin, capture_output=True, text=True,
                          env=env if env is not None else client_env(), timeout=timeout)


def nanti(d, *args, **kw):
    """build/nanti --runtime-dir D ARGS against the daemon d."""
    return run(["--runtime-dir", d.run_dir] + list(args), **kw)


def status(t, p, want, what):
    """Check p's exit status; on a mismatch show what it printed."""
    return t.check(p.returncode == want,
                   "%s: exit status %d, want %d\nstdout: %s\nstderr: %s"
                   % (what, p.returncode, want, p.stdout.strip()[:2000],
                      p.stderr.strip()[:2000]))


def ok(t, p, what):
    t.require(status(t, p, 0, what), "%s failed" % what)
    return p.stdout


def json_of(t, p, what):
    ok(t, p, what)
    try:
        return json.loads(p.stdout)
    except ValueError as e:
        t.fail("%s: stdout is not one JSON object (%s): %r" % (what, e, p.stdout[:500]))


def json_lines(t, p, what):
    ok(t, p, what)
    out = []
    for line in p.stdout.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError as e:
            t.fail("%s: a line is not JSON (%s): %r" % (what, e, line[:500]))
    return out


def last_seq(t, d):
    return json_of(t, nanti(d, "--json", "ping"), "ping")["seq"]


def width(s):
    """Terminal columns of s (East Asian wide characters take two)."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def day(offset=0):
    """Today in the county (UTC+8), plus offset days, as YYYY-MM-DD."""
    return (datetime.datetime.now(CST).date() + datetime.timedelta(days=offset)).isoformat()


def met():
    """A meeting date the daemon takes: yesterday, never in the future."""
    return day(-1)


def due():
    """A deadline the daemon takes: a year ahead."""
    return day(365)


def county(t, d, campaign=True):
    """Build the test county through the client; returns the last seq after it."""
    for unit, name, kind, parent in UNITS:
        args = ["--actor", "admin", "unit", "put", unit, "--name", name, "--kind", kind]
        ok(t, nanti(d, *(args + (["--parent", parent] if parent else []))), "unit put " + unit)
    for person, name, unit, roles, village in PEOPLE:
        args = ["--actor", "admin", "person", "put", person, "--name", name, "--unit", unit]
        for role in roles:
            args += ["--role", role]
        ok(t, nanti(d, *(args + (["--village", village] if village else []))),
           "person put " + person)
    if campaign:
        ok(t, nanti(d, "--actor", "theme", "campaign", "set", "县“七个一”专项行动",
                    "--start", day(-30), "--end", day(400)), "campaign set")
    return last_seq(t, d)


def open_cases(t, d, titles, *opts):
    """Open a case per title (in unit xiaxi, area livelihood unless opts say); their ids."""
    ids = []
    defaults = [] if "--area" in opts else ["--area", "livelihood"]
    defaults += [] if "--unit" in opts else ["--unit", "xiaxi"]
    for title in titles:
        r = json_of(t, nanti(d, "--json", "open", title, *(list(opts) + defaults)),
                    "open %s" % title)
        ids.append(r["case"])
    return ids


def step(t, d, *args, want=None):
    """Run a step command as the ACTOR (or --actor in args) and check its confirmation."""
    out = ok(t, nanti(d, *args), " ".join(args[:2]))
    if want is not None:
        t.check(re.fullmatch(r"case \d+: %s \(seq \d+\)\n" % re.escape(want), out),
                "%s: %r, want 'case N: %s (seq N)'" % (" ".join(args[:2]), out, want))
    return out


def to_resolved(t, d, case):
    """Take an identified case (led by the ACTOR) to resolved, with the consultation after
    the resolution that its journal needs."""
    c = str(case)
    step(t, d, "plan", c, "--measures", "rebuild the culvert", "--schedule", "by July",
         "--deadline", due(), "--units", "anling")
    step(t, d, "consult", c, "--date", met(), "--place", "村部", "--residents", "30",
         "--summary", "they want it before the rains")
    step(t, d, "commit", c, "--venue", "county_news", "--date", met(), "--ref", "issue 7")
    step(t, d, "coordinate", c, "--form", "onsite", "--date", met(), "--summary", "met")
    step(t, d, "resolve", c, "--summary", "culvert rebuilt")
    step(t, d, "consult", c, "--date", met(), "--place", "村部", "--residents", "30",
         "--summary", "the residents judged the road")


def story(t, out):
    """The history blocks of `nanti show`: [(header line, headline, evidence lines)]."""
    t.require("\nhistory" in out, "show printed no history:\n" + out)
    blocks = out.split("\nhistory", 1)[1].split("\n\n")[1:]
    parsed = []
    for b in blocks:
        lines = b.rstrip("\n").split("\n")
        t.require(len(lines) >= 2 and lines[1].startswith("    "),
                  "a history block is not 'when  seq N  who' then '    what': %r" % b)
        parsed.append((lines[0], lines[1][4:], lines[2:]))
    return parsed


def evidence(lines, label):
    """The value of the evidence row label, continuation lines joined by newlines."""
    for i, line in enumerate(lines):
        m = re.match(r"    %s +(.*)$" % re.escape(label), line)
        if m:
            value = [m.group(1)]
            indent = line.index(m.group(1))
            for more in lines[i + 1:]:
                if len(more) > indent and more[:indent].strip() == "":
                    value.append(more[indent:])
                else:
                    break
            return "\n".join(value)
    return None


class Watch:
    """build/nanti ... watch ... running in the background; its stdout lines are read by
    a thread into a queue, so that a test can wait for them with a timeout."""

    def __init__(self, t, args, env=None):
        self.proc = subprocess.Popen([NANTI] + list(args), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env if env is not None else client_env())
        t.defer(self.kill)
        self.t = t
        self.q = queue.Queue()
        self.err = []
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self):
        for line in self.proc.stdout:
            self.q.put(line)
        self.q.put(None)

    def _read_err(self):
        for line in self.proc.stderr:
            self.err.append(line)

    def entries(self, n, timeout=15.0):
        """The next n JSON lines; fails the test if they do not come in time."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            try:
                line = self.q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                self.q.put(None)
                break
            out.append(json.loads(line))
        if len(out) < n:
            self.t.fail("watch printed %d of %d entries in %gs (seqs %r); stderr: %s"
                        % (len(out), n, timeout, [e.get("seq") for e in out],
                           "".join(self.err)))
        return out

    def until_seq(self, seq, timeout=20.0):
        """Entries up to the one with seq (inclusive)."""
        out = []
        deadline = time.monotonic() + timeout
        while not out or out[-1].get("seq", 0) < seq:
            left = deadline - time.monotonic()
            if left <= 0:
                self.t.fail("watch did not reach seq %d in %gs (last %r); stderr: %s"
                            % (seq, timeout, out[-1:] and out[-1].get("seq"),
                               "".join(self.err)))
            out += self.entries(1, left)
        return out

    def quiet(self, secs):
        """True if nothing is printed within secs."""
        try:
            line = self.q.get(timeout=secs)
        except queue.Empty:
            return True
        self.q.put(line)
        return False

    def stop(self, sig=signal.SIGINT, timeout=10.0):
        """Send sig; returns (exit status, entries printed after the ones already read)."""
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.t.fail("watch did not exit within %gs of signal %d" % (timeout, sig))
        rest = []
        while True:
            try:
                line = self.q.get(timeout=5)
            except queue.Empty:
                break
            if line is None:
                break
            rest.append(json.loads(line))
        return rc, rest

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------------------------------
# A stand-in daemon for what the real one never does

class FakeDaemon:
    """ROUTER on ipc://DIR/submit.sock and XPUB on ipc://DIR/events.sock, served by its own
    thread (ZeroMQ sockets stay on the thread that made them; the test hands it actions
    through a queue). With reply=None it serves ping and log.read from self.log, and the
    test decides which entries are published; otherwise reply(request) gives the raw
    reply frame(s)."""

    def __init__(self, reply=None):
        self.dir = tempfile.mkdtemp(prefix="ntf-", dir="/tmp")
        self.submit = "ipc://%s/submit.sock" % self.dir
        self.events = "ipc://%s/events.sock" % self.dir
        self.reply = reply
        self.log = []
        self.ops = []
        self.subscribed = threading.Event()
        self.ready = threading.Event()
        self.done = threading.Event()
        self.actions = queue.Queue()
        self.ctx = zmq.Context()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the fake daemon did not start")

    def _serve(self):
        router = self.ctx.socket(zmq.ROUTER)
        pub = self.ctx.socket(zmq.XPUB)
        for s in (router, pub):
            s.setsockopt(zmq.LINGER, 0)
        router.bind(self.submit)
        pub.bind(self.events)
        self.ready.set()
        poller = zmq.Poller()
        poller.register(router, zmq.POLLIN)
        poller.register(pub, zmq.POLLIN)
        try:
            while not self.done.is_set():
                for sock, _ in poller.poll(20):
                    if sock is pub:
                        if pub.recv()[:1] == b"\x01":
                            self.subscribed.set()
                    else:
                        frames = router.recv_multipart()
                        router.send_multipart(frames[:-1] + self._answer(frames[-1]))
                while True:
                    try:
                        action, finished = self.actions.get_nowait()
                    except queue.Empty:
                        break
                    action(pub)
                    finished.set()
        finally:
            router.close(0)
            pub.close(0)

    def _answer(self, body):
        req = msgpack.unpackb(body, raw=False)
        self.ops.append(req.get("op"))
        if self.reply is not None:
            r = self.reply(req)
            return r if isinstance(r, list) else [r]
        seq = len(self.log)
        rep = {"ok": True, "seq": seq}
        if req.get("op") == "ping":
            rep.update(version="fake", now=int(time.time() * 1000))
        elif req.get("op") == "log.read":
            after, limit = req.get("after", 0), req.get("limit", 100)
            topic = req.get("topic", "")
            items, nxt = [], after
            for e in self.log[after:]:
                if len(items) >= limit:
                    break
                nxt = e["seq"]
                if e["topic"].startswith(topic):
                    items.append(e)
            rep.update(items=items, next=nxt)
        else:
            rep = {"ok": False, "error": {"code": "unknown_op", "message": "fake"}}
        if "id" in req:
            rep["id"] = req["id"]
        return [msgpack.packb(rep)]

    def do(self, action):
        finished = threading.Event()
        self.actions.put((action, finished))
        if not finished.wait(10):
            raise RuntimeError("the fake daemon is stuck")

    def add(self, publish=True):
        """Commit one entry; publish it live unless publish is False (a lost message)."""
        def act(pub):
            seq = len(self.log) + 1
            e = {"seq": seq, "topic": "case.noted", "at": int(time.time() * 1000),
                 "case": 1, "actor": "fake", "id": new_id(), "note": seq, "text": "n%d" % seq}
            self.log.append(e)
            if publish:
                pub.send_multipart([b"case.noted", msgpack.packb(e)])
        self.do(act)

    def republish(self, seq):
        self.do(lambda pub: pub.send_multipart([b"case.noted",
                                                msgpack.packb(self.log[seq - 1])]))

    def heartbeat(self):
        beat = {"topic": "heartbeat", "at": int(time.time() * 1000), "last_seq": len(self.log)}
        self.do(lambda pub: pub.send_multipart([b"heartbeat", msgpack.packb(beat)]))

    def garbage(self):
        self.do(lambda pub: pub.send_multipart([b"case.noted", b"\xc1"]))

    def close(self):
        self.done.set()
        self.thread.join(10)
        self.ctx.term()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# The county: units, people, the campaign

@test("the county is set up with the client: anyone may register units and the first admin, "
      "then only an admin may")
def _(t):
    d = t.daemon()
    out = ok(t, nanti(d, "--actor", "someone", "unit", "put", "suichang", "--name", "遂昌县",
                      "--kind", "county"), "unit put by anyone before an admin exists")
    t.eq(out, "unit suichang saved (seq 1)\n", "unit put output")
    ok(t, nanti(d, "--actor", "someone", "unit", "put", "anling", "--name", "安岭乡", "--kind",
                "township", "--parent", "suichang"), "unit put township")
    out = ok(t, nanti(d, "--actor", "someone", "person", "put", "admin", "--name", "管理员",
                      "--unit", "suichang", "--role", "admin"), "the first admin")
    t.eq(out, "person admin saved (seq 3)\n", "person put output")
    p = nanti(d, "--actor", "someone", "unit", "put", "dazhan", "--name", "大战乡", "--kind",
              "township", "--parent", "suichang")
    status(t, p, 1, "unit put by a non-admin once an admin exists")
    t.check(p.stderr.startswith("nanti: forbidden: ") and "admin" in p.stderr,
            "stderr: %r" % p.stderr)
    out = ok(t, nanti(d, "--actor", "admin", "person", "put", "wang.li", "--name", "王力",
                      "--unit", "anling", "--role", "cadre,unit_head"), "person put by the admin")
    t.eq(out, "person wang.li saved (seq 4)\n", "person put output")
    again = ok(t, nanti(d, "--actor", "admin", "person", "put", "wang.li", "--name", "王力",
                        "--unit", "anling", "--role", "cadre", "--role", "unit_head"),
               "the same person again, roles repeated instead of comma-separated")
    t.eq(again, "person wang.li unchanged: the ledger already holds it so\n", "unchanged")
    r = json_of(t, nanti(d, "--json", "--actor", "admin", "unit", "put", "anling", "--name",
                         "安岭乡人民政府", "--kind", "township", "--parent", "suichang"),
                "rename --json")
    t.check(r.get("ok") is True and r.get("unit") == "anling" and r.get("changed") is True
            and r.get("seq") == 5, "unit put --json: %r" % r)
    out = ok(t, nanti(d, "unit", "show", "anling"), "unit show")
    for want in ("unit anling  安岭乡人民政府", "kind     township", "parent   suichang",
                 "(seq 2)", "(seq 5)"):
        t.check(want in out, "unit show lacks %r:\n%s" % (want, out))
    out = ok(t, nanti(d, "unit", "show", "suichang"), "unit show the county")
    t.check("none: the root of the county" in out, "the county's parent:\n" + out)
    out = ok(t, nanti(d, "person", "show", "wang.li"), "person show")
    for want in ("person wang.li  王力", "unit     anling", "roles    cadre, unit_head"):
        t.check(want in out, "person show lacks %r:\n%s" % (want, out))
    r = json_of(t, nanti(d, "--json", "person", "show", "wang.li"), "person show --json")
    t.eq((r["person"]["person"], r["person"]["roles"]), ("wang.li", ["cadre", "unit_head"]),
         "person show --json")
    p = nanti(d, "unit", "show", "nowhere")
    status(t, p, 1, "unit show of no unit")
    t.eq(p.stderr, "nanti: not_found: no unit 'nowhere'\n", "stderr")


@test("unit list and person list filter by parent, kind, unit, role and subtree, and page by "
      "id with --after")
def _(t):
    d = t.daemon()
    county(t, d)
    out = ok(t, nanti(d, "unit", "list"), "unit list")
    lines = out.splitlines()
    t.eq(lines[0].split(), ["UNIT", "KIND", "PARENT", "NAME"], "header")
    t.eq([line.split()[0] for line in lines[1:]], sorted(u[0] for u in UNITS), "units by id")
    col = lines[0].index("NAME")
    for line, unit in zip(lines[1:], sorted(UNITS)):
        t.check(line.endswith(unit[1]) and width(line[:line.index(unit[1])]) == col,
                "NAME is not aligned at column %d: %r" % (col, line))

    def ids(*args):
        r = json_of(t, nanti(d, "--json", *args, "--all"), " ".join(args))
        return [i[args[0]] for i in r["items"]]
    t.eq(ids("unit", "list", "--parent", "anling"), ["shangxi", "xiaxi"], "--parent")
    t.eq(ids("unit", "list", "--kind", "township"), ["anling", "dazhan"], "--kind")
    t.eq(ids("unit", "list", "--within", "anling"), ["anling", "shangxi", "xiaxi"], "--within")
    t.eq(ids("person", "list", "--unit", "dazhan"), ["zhao.lei", "zhu.qiang"], "--unit")
    t.eq(ids("person", "list", "--role", "unit_head"), ["hu.yan"], "--role")
    t.eq(ids("person", "list", "--within", "anling"),
         sorted(p[0] for p in PEOPLE if p[2] == "anling"), "--within")
    page = ok(t, nanti(d, "unit", "list", "--limit", "3"), "unit list --limit 3")
    t.check(len(page.splitlines()) == 5 and
            page.splitlines()[-1] == "(more: nanti unit list --after jiaotong, or --all)",
            "a page of 3 with a hint to go on:\n" + page)
    r = json_of(t, nanti(d, "--json", "unit", "list", "--limit", "3", "--after", "jiaotong"),
                "unit list --after")
    t.eq(([i["unit"] for i in r["items"]], r["next"]), (["lianhe", "miaogao", "shangxi"],
                                                        "shangxi"), "second page")
    r = json_of(t, nanti(d, "--json", "person", "list", "--all", "--limit", "2"), "--all")
    t.eq([i["person"] for i in r["items"]], sorted(p[0] for p in PEOPLE), "every person")
    t.check(r.get("next") is None, "person list --all: next %r" % r.get("next"))
    out = ok(t, nanti(d, "person", "list", "--role", "resident_cadre"), "person list")
    t.check(re.search(r"^zhu\.qiang +dazhan +resident_cadre +xiaxi +朱强$", out, re.M),
            "resident cadre row:\n" + out)
    t.eq(ok(t, nanti(d, "person", "list", "--unit", "miaogao"), "empty"), "no people\n",
         "an empty person list")


@test("campaign set defines the dates and the threshold, and campaign show tells them; "
      "without one, show names the default threshold")
def _(t):
    d = t.daemon()
    county(t, d, campaign=False)
    out = ok(t, nanti(d, "campaign", "show"), "campaign show before any")
    t.check("no campaign is set" in out and "80%" in out, "campaign show: %r" % out)
    out = ok(t, nanti(d, "--actor", "theme", "campaign", "set", "七个一", "--start", "2026-03-01",
                      "--end", "2026-12-31", "--plan-by", "2026-04-30", "--journal-by",
                      "2026-11-30", "--threshold", "90"), "campaign set")
    t.check(re.fullmatch(r"campaign 七个一 set \(seq \d+\)\n", out), "campaign set: %r" % out)
    out = ok(t, nanti(d, "campaign", "show"), "campaign show")
    for want in ("campaign 七个一", "period       2026-03-01 to 2026-12-31",
                 "plan by      2026-04-30", "journal by   2026-11-30", "threshold    90%"):
        t.check(want in out, "campaign show lacks %r:\n%s" % (want, out))
    t.check("consult by" not in out, "a date that was not set is shown:\n" + out)
    r = json_of(t, nanti(d, "--json", "campaign", "show"), "campaign show --json")
    t.eq((r["campaign"]["name"], r["campaign"]["plan_by"], r["threshold"]),
         ("七个一", "2026-04-30", 90), "campaign show --json")
    p = nanti(d, "campaign", "set", "x", "--start", "2026-03-01", "--end", "2026-12-31")
    status(t, p, 1, "campaign set by a cadre")
    t.check(p.stderr.startswith("nanti: forbidden: "), "stderr: %r" % p.stderr)
    p = nanti(d, "--actor", "theme", "campaign", "set", "x", "--start", "2026-03-01", "--end",
              "2026-12-31", "--plan-by", "2027-01-01")
    status(t, p, 1, "a step date outside the campaign")
    t.eq(p.stderr, "nanti: bad_request: 'plan_by' 2027-01-01 is outside the campaign\n",
         "stderr")


# ---------------------------------------------------------------------------------------
# A case's procedure

@test("a case walks through the seven steps to crossed off, each step confirmed, and show "
      "tells its story in order")
def _(t):
    d = t.daemon()
    county(t, d)
    m, dl = met(), due()
    step(t, d, "open", "Village road to Xiaxi washed out", "--area", "livelihood", "--unit",
         "xiaxi", "--source", "consultation", "--units", "anling,jiaotong", "--deadline", dl,
         "--tag", "roads", "--description", "washed out\nin the June rain",
         want="opened; step identified")
    step(t, d, "plan", "1", "--measures", "rebuild the culvert", "--schedule",
         "July: design\nAugust: build", "--deadline", dl, "--units", "anling", "--units",
         "jiaotong", want="plan filed; step planned")
    step(t, d, "consult", "1", "--date", m, "--place", "村部", "--residents", "30",
         "--summary", "they want it before the rains", want="consultation recorded; step planned")
    step(t, d, "commit", "1", "--venue", "notice_board", "--date", m, "--ref", "photo 12",
         "--board", "xiaxi", want="commitment recorded; step committed")
    step(t, d, "coordinate", "1", "--form", "onsite", "--date", m, "--summary", "met on site",
         "--units", "anling,jiaotong", want="coordination recorded; step committed")
    step(t, d, "resolve", "1", "--summary", "culvert rebuilt",
         want="resolution recorded; step resolved")
    step(t, d, "consult", "1", "--date", m, "--place", "村部", "--residents", "30",
         "--summary", "the road holds", want="consultation recorded; step resolved")
    step(t, d, "journal", "1", "--process", "designed, then built", "--result", "a new culvert",
         "--satisfied", "25", "--basically-satisfied", "3", "--dissatisfied", "2",
         want="journal filed; step journaled")
    step(t, d, "outcome", "1", "--rule", "road patrol after heavy rain",
         want="outcome recorded; step journaled")
    step(t, d, "--actor", "theme", "verify", "1", "--cross-off", want="verified; step crossed_off")

    out = ok(t, nanti(d, "show", "1"), "show")
    head = out.split("\nhistory", 1)[0]
    for want in ("case 1  Village road to Xiaxi washed out", "kind           problem",
                 "area           livelihood", "source         consultation",
                 "unit           xiaxi", "lead           wang.li",
                 "units          anling, jiaotong", "deadline       " + dl,
                 "step           crossed_off",
                 "satisfaction   93% (25 satisfied, 3 basically satisfied, 2 dissatisfied)",
                 "redos          0", "consultations  2", "coordinations  1", "outcomes       1",
                 "tags           roads", "description    washed out\n"
                 "                 in the June rain"):
        t.check(want in head, "the header lacks %r:\n%s" % (want, head))
    blocks = story(t, out)
    t.eq([b[1] for b in blocks], [
        "opened: Village road to Xiaxi washed out → identified",
        "plan filed: deadline %s, units anling, jiaotong → planned" % dl,
        "consultation at 村部 with 30 residents on %s" % m,
        "commitment published on %s in notice_board, ref photo 12 → committed" % m,
        "coordination (onsite) on %s" % m,
        "resolution recorded → resolved",
        "consultation at 村部 with 30 residents on %s" % m,
        "journal filed: satisfaction 93%, the threshold is 80% → journaled",
        "outcome recorded: road patrol after heavy rain",
        "verified and crossed off → crossed_off",
    ], "the story's headlines, in order")
    t.check("history (10 entries):" in out, "the history count:\n" + out)
    seqs = []
    for header, _, _ in blocks:
        m_ = re.fullmatch(r"(\d{4}-\d\d-\d\d \d\d:\d\d)  seq (\d+)  (\S+)", header)
        t.require(m_, "block header %r is not 'YYYY-MM-DD HH:MM  seq N  ACTOR'" % header)
        seqs.append(int(m_.group(2)))
    t.check(seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "seqs in order: %r" % seqs)
    t.eq([b[0].split()[-1] for b in blocks], [ACTOR] * 9 + ["theme"], "who did each")
    ev = {b[1].split(":")[0].split(" →")[0]: b[2] for b in blocks}
    t.eq(evidence(ev["plan filed"], "measures"), "rebuild the culvert", "plan measures")
    t.eq(evidence(ev["plan filed"], "schedule"), "July: design\nAugust: build", "plan schedule")
    t.eq(evidence(ev["commitment published on %s in notice_board, ref photo 12" % m], "board"),
         "xiaxi", "commitment board")
    t.eq(evidence(ev["coordination (onsite) on %s" % m], "units"), "anling, jiaotong",
         "coordination units")
    t.eq(evidence(ev["journal filed"], "residents"),
         "25 satisfied, 3 basically satisfied, 2 dissatisfied", "journal residents")
    t.eq(evidence(ev["journal filed"], "result"), "a new culvert", "journal result")
    t.eq(evidence(ev["opened"], "units"), "anling, jiaotong", "opening units")
    out = ok(t, nanti(d, "list", "--step", "crossed_off"), "list --step crossed_off")
    t.check(re.search(r"^ 1  problem  livelihood  crossed_off  %s  +0  wang\.li  xiaxi  "
                      r"Village road" % dl, out, re.M), "list row:\n" + out)


@test("a journal whose residents are not satisfied sends the case back to work, and so does "
      "a return by the theme office; show says so both times")
def _(t):
    d = t.daemon()
    county(t, d)
    open_cases(t, d, ["Xiaxi drinking water"])
    to_resolved(t, d, 1)
    step(t, d, "journal", "1", "--process", "pipes laid", "--result", "water twice a day",
         "--satisfied", "3", "--basically-satisfied", "4", "--dissatisfied", "23",
         want="journal filed, sent back to work; step committed")
    out = ok(t, nanti(d, "show", "1"), "show after the redo")
    t.check("step           committed" in out and "redos          1" in out and
            "satisfaction   23% (3 satisfied, 4 basically satisfied, 23 dissatisfied)" in out,
            "the header after a redo:\n" + out)
    redo = story(t, out)[-1]
    t.eq(redo[1], "sent back to work: satisfaction 23% below 80% → committed", "the redo")
    t.eq(evidence(redo[2], "residents"), "3 satisfied, 4 basically satisfied, 23 dissatisfied",
         "the redo's residents")
    t.eq(evidence(redo[2], "redos"), "1", "the redo's count")
    p = nanti(d, "journal", "1", "--process", "p", "--result", "r", "--satisfied", "30",
              "--basically-satisfied", "0", "--dissatisfied", "0")
    status(t, p, 1, "a journal before the new resolution")
    t.check(p.stderr.startswith("nanti: invalid_transition: case.journal: case 1 is committed"),
            "stderr: %r" % p.stderr)
    step(t, d, "resolve", "1", "--summary", "a tank added", want="resolution recorded; step resolved")
    step(t, d, "consult", "1", "--date", met(), "--place", "村部", "--residents", "28",
         "--summary", "judged again", want="consultation recorded; step resolved")
    step(t, d, "journal", "1", "--process", "tank", "--result", "water all day",
         "--satisfied", "20", "--basically-satisfied", "6", "--dissatisfied", "2",
         want="journal filed; step journaled")
    step(t, d, "--actor", "theme", "verify", "1", "--return", "--reason", "the tank leaks",
         want="verified, sent back to work; step committed")
    out = ok(t, nanti(d, "show", "1"), "show after the return")
    t.check("redos          2" in out, "redos after the return:\n" + out)
    t.eq(story(t, out)[-1][1], "sent back to work by verification: the tank leaks → committed",
         "the return")
    r = json_of(t, nanti(d, "--json", "list", "--step", "committed"), "list --json")
    t.eq([(i["case"], i["redos"]) for i in r["items"]], [(1, 2)], "the list's redos")


@test("the commands of any time: notes, reassignment, escalation, a petition's guarantees and "
      "repeats, reopening; each is confirmed and show tells it")
def _(t):
    d = t.daemon()
    county(t, d)
    open_cases(t, d, ["Old petition about land"], "--kind", "petition", "--taker", "zhang.wei",
               "--area", "grassroots")
    step(t, d, "note", "1", "visited the petitioner", want="note added; step identified")
    step(t, d, "--actor", "zhang.wei", "guarantee", "1", "--promise-kept", "yes", "--stable",
         "no", "--note", "still upset", want="guarantees reported; step identified")
    step(t, d, "repeat", "1", "--summary", "came to the county", "--skip-level",
         want="repeat petition recorded; step identified")
    step(t, d, "--actor", "ducha", "escalate", "1", "--reason", "three months without a plan",
         want="escalated; step identified")
    step(t, d, "--actor", "hu.yan", "reassign", "1", "--lead", "li.ming", "--reason",
         "wang.li is away", want="lead reassigned; step identified")
    out = ok(t, nanti(d, "show", "1"), "show")
    head = out.split("\nhistory", 1)[0]
    for want in ("kind           petition", "taker          zhang.wei", "lead           li.ming",
                 "escalations    1", "promise kept   yes", "repeats        1 (1 skipping a level)"):
        t.check(want in head, "the header lacks %r:\n%s" % (want, head))
    blocks = story(t, out)
    t.eq([b[1] for b in blocks], [
        "opened: Old petition about land → identified",
        "note: visited the petitioner",
        "guarantees reported",
        "repeat petition, 1 so far",
        "escalated: three months without a plan",
        "lead handed from wang.li to li.ming: wang.li is away",
    ], "the story")
    t.eq([evidence(blocks[2][2], k) for k in ("promise kept", "stable", "note")],
         ["yes", "no", "still upset"], "the guarantees")
    t.eq([evidence(blocks[3][2], k) for k in ("skip-level", "reopened")], ["yes", "no"],
         "the repeat")
    t.eq(blocks[5][0].split()[-1], "hu.yan", "who reassigned")

    # a crossed-off case reopened, and a repeat that reopens a settled petition
    open_cases(t, d, ["Road case"])
    to_resolved(t, d, 2)
    step(t, d, "journal", "2", "--process", "p", "--result", "r", "--satisfied", "9",
         "--basically-satisfied", "1", "--dissatisfied", "0")
    step(t, d, "--actor", "theme", "verify", "2", "--cross-off")
    step(t, d, "--actor", "theme", "reopen", "2", "--reason", "the road cracked",
         want="reopened, sent back to work; step committed")
    t.eq(story(t, ok(t, nanti(d, "show", "2"), "show 2"))[-1][1],
         "reopened, back to work: the road cracked → committed", "the reopening")


@test("a refusal prints the daemon's own message after its code and exits 1; --json prints "
      "the refusal as it came")
def _(t):
    d = t.daemon()
    county(t, d)
    open_cases(t, d, ["Xiaxi bridge"])
    step(t, d, "plan", "1", "--measures", "m", "--schedule", "s", "--deadline", due(),
         "--units", "anling")
    # (the client's arguments, the same request for the Python client)
    cases = [
        (["commit", "1", "--venue", "county_news", "--date", met(), "--ref", "r"],
         ("case.commit", ACTOR, dict(case=1, venue="county_news", date=met(), ref="r"))),
        (["--actor", "li.ming", "consult", "1", "--date", met(), "--place", "p",
          "--residents", "3", "--summary", "s"],
         ("case.consult", "li.ming", dict(case=1, date=met(), place="p", residents=3,
                                          summary="s"))),
        (["resolve", "1", "--summary", "s"], ("case.resolve", ACTOR, dict(case=1, summary="s"))),
        (["--actor", "nobody", "open", "x", "--area", "livelihood", "--unit", "xiaxi"],
         ("case.open", "nobody", dict(title="x", area="livelihood", unit="xiaxi"))),
        (["open", "x", "--area", "livelihood", "--unit", "lianhe"],
         ("case.open", ACTOR, dict(title="x", area="livelihood", unit="lianhe"))),
        (["verify", "1", "--cross-off"],
         ("case.verify", ACTOR, dict(case=1, verdict="cross_off"))),
        (["consult", "1", "--date", day(2), "--place", "p", "--residents", "3", "--summary",
          "s"], ("case.consult", ACTOR, dict(case=1, date=day(2), place="p", residents=3,
                                             summary="s"))),
        (["note", "9999", "to nowhere"], ("case.note", ACTOR, dict(case=9999, text="to nowhere"))),
        (["--actor", "admin", "person", "put", "admin", "--name", "x", "--unit", "suichang",
          "--role", "cadre"],
         ("person.put", "admin", dict(person="admin", name="x", unit="suichang",
                                      roles=["cadre"]))),
    ]
    seq = last_seq(t, d)
    with d.client() as c:
        for args, (op, actor, fields) in cases:
            want = c.write(op, actor=actor, **fields)
            t.require(want["ok"] is False, "%s was not refused: %r" % (op, want))
            p = nanti(d, *args)
            if status(t, p, 1, " ".join(args)):
                t.eq(p.stderr, "nanti: %s: %s\n" % (want["error"]["code"],
                                                    want["error"]["message"]),
                     "nanti %s: stderr" % " ".join(args))
                t.eq(p.stdout, "", "nanti %s: stdout" % " ".join(args))
    t.eq(last_seq(t, d), seq, "the last seq after the refusals")
    p = nanti(d, "--json", "resolve", "1", "--summary", "s")
    status(t, p, 1, "resolve --json")
    r = json.loads(p.stdout)
    t.check(r.get("ok") is False and r["error"]["code"] == "invalid_transition"
            and "case.commit" in r["error"]["message"], "--json refusal: %r" % r)
    t.check(p.stderr.startswith("nanti: invalid_transition: "), "stderr: %r" % p.stderr)
    p = nanti(d, "--json", "show", "9999")
    status(t, p, 1, "show --json 9999")
    r = json.loads(p.stdout)
    t.check(r.get("ok") is False and r["error"]["code"] == "not_found", "reply: %r" % r)
    rid = new_id()
    ok(t, nanti(d, "note", "1", "one thing", "--request-id", rid), "note")
    p = nanti(d, "note", "1", "another thing", "--request-id", rid)
    status(t, p, 1, "note with a used id")
    t.check(p.stderr.startswith("nanti: conflict: "), "stderr: %r" % p.stderr)


@test("show --json prints one object shaped like case.get's reply, holding the whole history "
      "however many pages it took")
def _(t):
    d = t.daemon()
    county(t, d)
    open_cases(t, d, ["Xiaxi streetlights"])
    to_resolved(t, d, 1)
    for i in range(5):
        step(t, d, "note", "1", "note %d" % i)
    with d.client() as c:
        want = c.call("case.get", case=1)
    t.eq(len(want["history"]), 12, "entries in the history")
    r = json_of(t, nanti(d, "--json", "show", "1"), "show --json")
    t.eq(r, want, "show --json is the reply of case.get")
    paged = json_of(t, nanti(d, "--json", "show", "1", "--limit", "5"), "show --json --limit 5")
    t.eq(paged, want, "show --json read by pages of 5")
    t.eq(ok(t, nanti(d, "show", "1", "--limit", "2"), "show --limit 2"),
         ok(t, nanti(d, "show", "1"), "show"), "the story read by pages of 2")
    after = want["history"][8]["seq"]
    r = json_of(t, nanti(d, "--json", "show", "1", "--after", str(after), "--limit", "2"),
                "show --after")
    t.eq([e["seq"] for e in r["history"]], [e["seq"] for e in want["history"][9:]],
         "show --after SEQ")
    out = ok(t, nanti(d, "show", "1", "--after", str(after)), "show --after, for people")
    t.check("history from seq %d (3 of 12 entries):" % want["history"][9]["seq"] in out,
            "a partial history says so:\n" + out)
    t.eq([b[1] for b in story(t, out)], ["note: note 2", "note: note 3", "note: note 4"],
         "the last three")


# ---------------------------------------------------------------------------------------
# Requests and their output

@test("ping reports the daemon's version and exits 0, and --json prints the reply")
def _(t):
    d = t.daemon()
    out = ok(t, nanti(d, "ping"), "ping")
    t.check(out.startswith("nantid ") and "last seq 0" in out, "ping output: %r" % out)
    r = json_of(t, nanti(d, "ping", "--json"), "ping --json")
    t.check(r.get("ok") is True and isinstance(r.get("version"), str) and r.get("seq") == 0,
            "ping --json: %r" % r)


@test("stats counts the cases, events and commits since start, and --json prints the reply")
def _(t):
    d = t.daemon()
    base = county(t, d)
    open_cases(t, d, ["one", "two", "three"])
    out = ok(t, nanti(d, "stats"), "stats")
    t.check("last seq          %d" % (base + 3) in out and "cases             3" in out
            and "%d events in" % (base + 3) in out, "stats output: %r" % out)
    r = json_of(t, nanti(d, "stats", "--json"), "stats --json")
    t.check(r.get("ok") is True and r.get("cases") == 3 and r.get("events") == base + 3
            # (+ 1: a fresh ledger records its calendar's fingerprint at start)
            and 1 <= r.get("commits", 0) <= base + 4 and r.get("commit_us", 0) > 0,
            "stats --json: %r" % r)
    t.check(r.get("armed_timers") == 3 and 0 < r.get("map_used", 0) <= r.get("map_size", 0)
            and r.get("file_size", 0) > 0 and 1 <= r.get("readers", 0) <= r.get("max_readers"),
            "the ledger's figures: %r" % r)
    t.check("armed timers      3" in out and "MB map" in out and "readers" in out,
            "stats output: %r" % out)


@test("open prints the new case, its step and its seq, and --json prints the reply")
def _(t):
    d = t.daemon()
    base = county(t, d)
    out = ok(t, nanti(d, "--actor", "hu.yan", "open", "Village road to Xiaxi washed out",
                      "--area", "livelihood", "--unit", "xiaxi", "--kind", "problem",
                      "--lead", "li.ming", "--tag",
                      "roads", "--tag", "flood", "--units", "anling", "--units", "jiaotong",
                      "--deadline", due(), "--source", "research_visit", "--description",
                      "washed out\nin the June rain"), "open")
    t.eq(out, "case 1: opened; step identified (seq %d)\n" % (base + 1), "open output")
    r = json_of(t, nanti(d, "--json", "open", "Xiaxi school roof leaks", "--area",
                         "development", "--unit", "xiaxi"), "open --json")
    t.check(r.get("ok") is True and r.get("case") == 2 and r.get("step") == "identified"
            and r.get("seq") == base + 2 and isinstance(r.get("id"), str)
            and "duplicate" not in r, "open --json: %r" % r)
    with d.client() as c:
        case = c.call("case.get", case=1)["case"]
    t.eq((case["title"], case["area"], case["unit"], case["lead"], case["tags"], case["units"],
          case["deadline"], case["source"], case["description"], case["opened_by"]),
         ("Village road to Xiaxi washed out", "livelihood", "xiaxi", "li.ming",
          ["roads", "flood"], ["anling", "jiaotong"], due(), "research_visit",
          "washed out\nin the June rain", "hu.yan"), "the case as opened by a unit head")


@test("a write sent again with the same --request-id is applied once and shown as a duplicate")
def _(t):
    d = t.daemon()
    base = county(t, d)
    rid = new_id()
    args = ["open", "Petition backlog", "--area", "grassroots", "--unit", "xiaxi",
            "--request-id", rid]
    first = ok(t, nanti(d, *args), "open")
    again = ok(t, nanti(d, *args), "open again")
    t.eq(first, "case 1: opened; step identified (seq %d)\n" % (base + 1), "first")
    t.eq(again, "case 1: opened; step identified (duplicate: already applied as seq %d)\n"
         % (base + 1), "again")
    note = ok(t, nanti(d, "note", "1", "first visit", "--request-id", rid + "n"), "note")
    note2 = ok(t, nanti(d, "note", "1", "first visit", "--request-id", rid + "n"), "note again")
    t.eq(note, "case 1: note added; step identified (seq %d)\n" % (base + 2), "note")
    t.eq(note2, "case 1: note added; step identified (duplicate: already applied as seq %d)\n"
         % (base + 2), "note again")
    put = ["--actor", "admin", "unit", "put", "dazhan", "--name", "大战镇", "--kind",
           "township", "--parent", "suichang", "--request-id", rid + "u"]
    t.eq(ok(t, nanti(d, *put), "unit put"), "unit dazhan saved (seq %d)\n" % (base + 3),
         "unit put")
    t.eq(ok(t, nanti(d, *put), "unit put again"),
         "unit dazhan saved (duplicate: already applied as seq %d)\n" % (base + 3),
         "unit put again")
    r = json_of(t, nanti(d, "--json", *args), "json")
    t.check(r.get("duplicate") is True and r.get("id") == rid, "--json duplicate: %r" % r)
    t.eq(last_seq(t, d), base + 3, "seq after the retries")


@test("note takes its text from an argument or from stdin, and show tells the notes in the "
      "case's story")
def _(t):
    d = t.daemon()
    county(t, d)
    open_cases(t, d, ["Household 12 needs a roof"], "--kind",
               "household_issue", "--tag", "housing")
    ok(t, nanti(d, "note", "1", "visited with the village head"), "note")
    ok(t, nanti(d, "note", "1", "-", stdin="quote from the plan:\nroof by July\n"), "note -")
    ok(t, nanti(d, "--actor", "zhu.qiang", "note", "1", "the resident cadre's view"),
       "a note by a resident cadre stationed in the village")
    out = ok(t, nanti(d, "show", "1"), "show")
    for want in ("case 1  Household 12 needs a roof", "household_issue", "xiaxi", "housing",
                 "history (4 entries):"):
        t.check(want in out, "show output lacks %r:\n%s" % (want, out))
    t.check(TIME_RE.search(out) is not None, "show output has no YYYY-MM-DD HH:MM time")
    blocks = story(t, out)
    t.eq([b[1] for b in blocks[1:]], ["note: visited with the village head",
                                      "note: quote from the plan:",
                                      "note: the resident cadre's view"], "the notes' headlines")
    t.eq(blocks[2][2], ["    roof by July"], "the second line of a note, indented")
    t.eq([b[0].split()[-1] for b in blocks], [ACTOR, ACTOR, ACTOR, "zhu.qiang"], "who")
    r = json_of(t, nanti(d, "show", "1", "--json"), "show --json")
    t.eq([e["text"] for e in r["history"] if e["topic"] == "case.noted"],
         ["visited with the village head", "quote from the plan:\nroof by July",
          "the resident cadre's view"], "the notes (stdin without its trailing newline)")


@test("list prints an aligned table with each case's step and deadline, pages with --after, "
      "and --all --json gathers every page")
def _(t):
    d = t.daemon()
    county(t, d)
    titles = ["下溪村道路 %d" % i for i in range(1, 8)]
    units = ["xiaxi", "shangxi", "lianhe", "anling", "dazhan", "miaogao", "jiaotong"]
    for i, (title, unit) in enumerate(zip(titles, units)):
        who = "zhao.lei" if unit in ("lianhe", "dazhan") else "theme" if unit in (
            "miaogao", "jiaotong") else ACTOR
        args = ["--actor", who, "open", title, "--area", "livelihood", "--unit", unit]
        ok(t, nanti(d, *(args + (["--deadline", due()] if i % 2 else []))), "open")
    out = ok(t, nanti(d, "list"), "list")
    lines = out.splitlines()
    t.require(len(lines) == 8, "list: want a header and 7 rows:\n" + out)
    t.eq(lines[0].split(), ["ID", "KIND", "AREA", "STEP", "DEADLINE", "REDOS", "LEAD", "UNIT",
                            "TITLE"], "the header")
    col = lines[0].index("TITLE")
    for line, title in zip(lines[1:], titles):
        t.check(line.endswith(title) and width(line[:line.index(title)]) == col,
                "TITLE is not aligned at column %d: %r" % (col, line))
    t.eq([line.split()[3:5] for line in lines[1:3]], [["identified", "-"],
                                                      ["identified", due()]],
         "STEP and DEADLINE")
    page = ok(t, nanti(d, "list", "--limit", "3"), "list --limit 3")
    t.check(len(page.splitlines()) == 5 and "--after 3" in page,
            "a page of 3 with a hint to go on:\n" + page)
    r = json_of(t, nanti(d, "--json", "list", "--limit", "3", "--after", "3"), "list --after")
    t.eq(([i["case"] for i in r["items"]], r["next"]), ([4, 5, 6], 6), "second page")
    r = json_of(t, nanti(d, "--json", "list", "--all", "--limit", "2"), "list --all")
    t.eq([i["case"] for i in r["items"]], list(range(1, 8)), "every case, paged by 2")
    t.check(r.get("next") is None and r.get("ok") is True, "list --all: %r" % r)


@test("list filters by unit (with the units below it), lead, step, kind, area and overdue")
def _(t):
    d = t.daemon()
    county(t, d)
    open_cases(t, d, ["a petition"], "--kind", "petition", "--taker", "zhang.wei", "--area",
               "grassroots")
    open_cases(t, d, ["a problem"], "--unit", "shangxi", "--actor", "li.ming", "--area",
               "development")
    open_cases(t, d, ["a village"], "--kind", "lagging_village", "--unit", "lianhe",
               "--actor", "zhao.lei", "--deadline", due())
    open_cases(t, d, ["a township case"], "--unit", "anling")
    step(t, d, "plan", "1", "--measures", "m", "--schedule", "s", "--deadline", due(),
         "--units", "anling")

    def ids(*filters):
        r = json_of(t, nanti(d, "--json", "list", "--all", *filters), "list")
        return [i["case"] for i in r["items"]]
    t.eq(ids("--kind", "petition"), [1], "--kind petition")
    t.eq(ids("--unit", "anling"), [1, 2, 4], "--unit: the township and its villages")
    t.eq(ids("--unit", "xiaxi"), [1], "--unit: a village")
    t.eq(ids("--lead", "zhao.lei"), [3], "--lead")
    t.eq(ids("--lead", ACTOR), [1, 4], "--lead the actor")
    t.eq(ids("--step", "planned"), [1], "--step")
    t.eq(ids("--area", "livelihood"), [3, 4], "--area")
    t.eq(ids("--overdue"), [], "--overdue: no deadline has passed")
    t.eq(ids("--unit", "anling", "--step", "identified"), [2, 4], "--unit --step")
    t.eq(ok(t, nanti(d, "list", "--kind", "household_issue"), "list"), "no cases\n",
         "an empty list")


@test("--units takes ids separated by commas or repeated, and a bad id among them is refused "
      "before anything is sent")
def _(t):
    d = t.daemon()
    county(t, d)
    open_cases(t, d, ["commas"], "--units", "anling,jiaotong,dazhan")
    open_cases(t, d, ["repeats"], "--units", "anling", "--units", "jiaotong,dazhan")
    with d.client() as c:
        units = [c.call("case.get", case=i)["case"]["units"] for i in (1, 2)]
    t.eq(units, [["anling", "jiaotong", "dazhan"]] * 2, "the responsible units")
    seq = last_seq(t, d)
    for bad, why in ((["anling,,jiaotong"], "--units items must be ids"),
                     (["anling,"], "--units items must be ids"),
                     (["anling", "anling"], "--units lists 'anling' twice"),
                     (["安岭乡"], "--units items must be ids")):
        args = ["open", "x", "--area", "livelihood", "--unit", "xiaxi"]
        for u in bad:
            args += ["--units", u]
        p = nanti(d, *args)
        if status(t, p, 2, "--units %r" % bad):
            t.check(p.stderr.startswith("nanti: open: " + why), "stderr: %r" % p.stderr)
    t.eq(last_seq(t, d), seq, "nothing was sent")


@test("log prints one JSON object per entry in seq order, --topic filters, --all reads to "
      "the end, and the WHAT column tells each entry in words")
def _(t):
    d = t.daemon()
    base = county(t, d)
    open_cases(t, d, ["first", "second"])
    for i in range(5):
        ok(t, nanti(d, "note", "1" if i % 2 else "2", "note %d" % i), "note")
    entries = json_lines(t, nanti(d, "log", "--json"), "log --json")
    t.eq([e["seq"] for e in entries], list(range(1, base + 8)), "seqs")
    t.eq([e["topic"] for e in entries[:2]], ["unit.created"] * 2, "topics")
    t.eq(entries[base]["title"], "first", "the first case's title")
    noted = json_lines(t, nanti(d, "log", "--json", "--topic", "case.noted"), "log --topic")
    t.eq([e["seq"] for e in noted], list(range(base + 3, base + 8)), "case.noted seqs")
    paged = json_lines(t, nanti(d, "log", "--json", "--all", "--limit", "2"), "log --all")
    t.eq([e["seq"] for e in paged], list(range(1, base + 8)), "log --all --limit 2")
    after = json_lines(t, nanti(d, "log", "--json", "--after", str(base + 5)), "log --after")
    t.eq([e["seq"] for e in after], [base + 6, base + 7], "log --after")
    human = ok(t, nanti(d, "log", "--limit", "3"), "log --limit 3").splitlines()
    t.check(len(human) == 5 and "SEQ" in human[0] and "--after 3" in human[-1],
            "human log page: %r" % human)
    t.check(human[1].endswith("unit suichang created: 遂昌县 (county)"), "WHAT: %r" % human[1])
    human = ok(t, nanti(d, "log", "--after", str(base)), "log").splitlines()
    t.check(human[1].endswith("opened: first") and human[3].endswith("note: note 0"),
            "WHAT of cases: %r" % human)


@test("times are shown in local time as YYYY-MM-DD HH:MM")
def _(t):
    d = t.daemon()
    county(t, d)
    open_cases(t, d, ["a case"])
    at = json_lines(t, nanti(d, "log", "--json"), "log")[-1]["at"]
    for tz, offset in (("UTC0", 0), ("CST-8", 8)):
        want = (datetime.datetime.fromtimestamp(at / 1000, datetime.timezone.utc)
                + datetime.timedelta(hours=offset)).strftime("%Y-%m-%d %H:%M")
        for args in (["log"], ["show", "1"]):
            out = ok(t, nanti(d, *args, env=client_env(TZ=tz)), "%s TZ=%s" % (args[0], tz))
            t.check(want in out, "%s TZ=%s: %r not in %r" % (args[0], tz, want, out))


@test("bad usage or invalid input exits 2 and sends nothing")
def _(t):
    d = t.daemon()
    county(t, d)
    open_cases(t, d, ["a case"])
    seq = last_seq(t, d)
    o = ["--area", "livelihood", "--unit", "xiaxi"]
    bad = [
        [], ["frobnicate"], ["list", "--bogus"], ["open"], ["note", "1"], ["show", "x"],
        ["show", "1", "2"], ["show", "0"], ["open", "", *o], ["open", "t" * 201, *o],
        ["open", "x"], ["open", "x", "--unit", "xiaxi"], ["open", "x", "--area", "livelihood"],
        ["open", "x", "--kind", "bogus", *o], ["open", "x", "--area", "bogus", "--unit", "u"],
        ["open", "x", "--tag", "t" * 33, *o], ["open", "x", *o, "--tag"],
        ["open", "x", *o, "--unit", "b"], ["open", "x", *o, "--deadline", "2026-02-30"],
        ["open", "x", *o, "--lead", "王力"], ["open", "x", *o, "--source", "rumour"],
        ["note", "1", "n" * 4097], ["note", "1", ""], ["list", "--limit", "0"],
        ["list", "--limit", "1001"], ["list", "--step", "done"], ["list", "--overdue=yes"],
        ["log", "--after", "-1"], ["--timeout", "0", "ping"], ["--timeout", "soon", "ping"],
        ["watch", "--from", "1", "--after", "1"], ["open", "x", *o, "--request-id", ""],
        ["open", "x", *o, "--request-id", "i" * 65], ["--actor", "a" * 65, "open", "x", *o],
        ["--endpoint", "nowhere", "ping"], ["ping", "--json=yes"],
        ["plan", "1", "--measures", "m", "--schedule", "s", "--deadline", due()],
        ["plan", "1", "--schedule", "s", "--deadline", due(), "--units", "anling"],
        ["consult", "1", "--date", "yesterday", "--place", "p", "--residents", "3",
         "--summary", "s"],
        ["consult", "1", "--date", met(), "--place", "p", "--residents", "0", "--summary", "s"],
        ["commit", "1", "--venue", "radio", "--date", met(), "--ref", "r"],
        ["coordinate", "1", "--form", "party", "--date", met(), "--summary", "s"],
        ["resolve", "1"], ["journal", "1", "--process", "p", "--result", "r", "--satisfied", "1"],
        ["outcome", "1"], ["verify", "1"], ["verify", "1", "--cross-off", "--return"],
        ["verify", "1", "--cross-off=yes"], ["reopen", "1"], ["reassign", "1", "--reason", "r"],
        ["escalate", "1"], ["guarantee", "1", "--stable", "maybe"],
        ["guarantee", "1", "--stable", "yes", "--stable", "no"],
        ["repeat", "1"], ["repeat", "1", "--summary", "s", "--skip-level=yes"],
        ["unit"], ["unit", "frob"], ["unit", "put", "x", "--name", "n"],
        ["unit", "put", "-x", "--name", "n", "--kind", "county"],
        ["unit", "put", "x.y z", "--name", "n", "--kind", "county"],
        ["unit", "put", "x", "--name", "n", "--kind", "city"],
        ["unit", "show"], ["unit", "list", "--after", "a/b"],
        ["person", "put", "p", "--name", "n", "--unit", "u"],
        ["person", "put", "p", "--name", "n", "--unit", "u", "--role", ""],
        ["person", "list", "--role", "boss"],
        ["campaign", "set", "c", "--start", "2026-01-01"],
        ["campaign", "set", "c", "--start", "2026-01-01", "--end", "2026-13-01"],
        ["campaign", "set", "c", "--start", "2026-01-01", "--end", "2026-12-31",
         "--threshold", "101"],
        ["campaign", "show", "extra"],
    ]
    for args in bad:
        p = nanti(d, *args)
        if status(t, p, 2, "nanti %s" % " ".join(a[:20] for a in args)):
            t.check(p.stderr.startswith(("nanti: ", "usage: ")) and p.stdout == "",
                    "nanti %r: stdout %r, stderr %r" % (args, p.stdout, p.stderr))
    p = nanti(d, "note", "1", "-", stdin="x" * 70000)
    status(t, p, 2, "note from an oversized stdin")
    p = nanti(d, "note", "1", "-", stdin="\n")
    status(t, p, 2, "note from an empty stdin")
    p = nanti(d, "plan", "1", "--measures", "-", "--schedule", "-", "--deadline", due(),
              "--units", "anling", stdin="m")
    status(t, p, 2, "two values from stdin")
    t.eq(last_seq(t, d), seq, "the last seq after the bad commands")
    p = nanti(d, "verify", "1")
    t.eq(p.stderr, "nanti: verify: say --cross-off or --return (see nanti verify --help)\n",
         "verify without a verdict")
    p = nanti(d, "plan", "1", "--schedule", "s", "--deadline", due(), "--units", "anling")
    t.eq(p.stderr, "nanti: plan: --measures is required\n", "plan without --measures")


@test("every command's --help exits 0 and prints its usage; nanti --help lists them all and "
      "documents the exit statuses")
def _(t):
    for args in (["--help"], ["-h"], ["help"]):
        p = run(args)
        status(t, p, 0, " ".join(args))
        for cmd in COMMANDS:
            t.check(re.search(r"^  %s " % cmd, p.stdout, re.M), "%s lacks %s" % (args, cmd))
        for code in range(5):
            t.check(re.search(r"^  %d  \S" % code, p.stdout, re.M),
                    "%s does not explain exit status %d" % (args, code))
    for cmd in COMMANDS:
        words = cmd.split()
        for args in (words + ["--help"], words + ["-h"], ["help"] + words,
                     ["--json"] + words + ["--help"]):
            p = run(args)
            status(t, p, 0, " ".join(args))
            t.check(p.stdout.startswith("usage: nanti %s" % cmd) and p.stderr == "",
                    "%s: %r" % (args, p.stdout))
    for group in ("unit", "person", "campaign"):
        for args in ([group, "--help"], ["help", group]):
            p = run(args)
            status(t, p, 0, " ".join(args))
            subs = [c for c in COUNTY_COMMANDS if c.startswith(group + " ")]
            t.check(p.stdout.startswith("usage: nanti %s COMMAND" % group) and
                    all(re.search(r"^  %s " % c, p.stdout, re.M) for c in subs),
                    "%s: %r" % (args, p.stdout))
    p = run(["--version"])
    status(t, p, 0, "--version")
    t.check(p.stdout.startswith("nanti "), "--version: %r" % p.stdout)


@test("the --help of each case and county command shows what it needs plainly, what is "
      "optional in brackets, and every argument with its meaning")
def _(t):
    want = {
        "open": "TITLE --area A --unit U [--kind K] [--source S] [--lead P] [--units A,B...] "
                "[--deadline D] [--deadline-days N] [--deadline-working-days N] [--tag T...] "
                "[--taker P] [--petitioner-name NAME] [--petitioner-id-number ID] "
                "[--petitioner-phone PHONE] [--petitioner-address ADDR] [--description TEXT]",
        "plan": "CASE --measures TEXT --schedule TEXT [--deadline D] [--deadline-days N] "
                "[--deadline-working-days N] --units A,B... [--lead P]",
        "consult": "CASE --date D --place P --residents N --summary TEXT [--changes TEXT]",
        "commit": "CASE --venue V --date D --ref R [--board VILLAGE]",
        "coordinate": "CASE --form F --date D --summary TEXT [--units A,B...]",
        "resolve": "CASE --summary TEXT",
        "journal": "CASE --process TEXT --result TEXT --satisfied N --basically-satisfied N "
                   "--dissatisfied N",
        "outcome": "CASE --rule R [--summary TEXT]",
        "verify": "CASE (--cross-off | --return) [--reason TEXT]",
        "reopen": "CASE --reason TEXT",
        "reassign": "CASE --lead P --reason TEXT",
        "note": "CASE TEXT",
        "escalate": "CASE --reason TEXT",
        "guarantee": "CASE [--promise-kept yes|no] [--stable yes|no] [--note TEXT]",
        "repeat": "CASE --summary TEXT [--skip-level]",
        "unit put": "ID --name NAME --kind K [--parent P]",
        "unit show": "ID",
        "unit list": "[--parent P] [--kind K] [--within U] [--limit N] [--after ID] [--all]",
        "person put": "ID --name NAME --unit U --role R... [--village V]",
        "person show": "ID",
        "person list": "[--unit U] [--role R] [--within U] [--limit N] [--after ID] [--all]",
        "campaign set": "NAME --start D --end D [--identify-by D] [--consult-by D] "
                        "[--plan-by D] [--commit-by D] [--journal-by D] [--pair-by D] "
                        "[--visit-by D] [--threshold PCT]",
        "campaign show": "",
        "show": "CASE [--after SEQ] [--limit N]",
        "list": "[--kind K] [--area A] [--unit U] [--lead P] [--step S] [--overdue] "
                "[--limit N] [--after ID] [--all]",
    }
    for cmd, synopsis in want.items():
        p = run(cmd.split() + ["--help"])
        status(t, p, 0, cmd + " --help")
        first = p.stdout.splitlines()[0]
        write = cmd in CASE_COMMANDS or cmd.endswith(" put") or cmd == "campaign set"
        t.eq(first, "usage: nanti %s%s%s%s [OPTIONS]"
             % (cmd, " " if synopsis else "", synopsis, " [--request-id ID]" if write else ""),
             cmd + " synopsis")
        names = re.findall(r"--[a-z-]+", synopsis)
        for word in synopsis.split():      # the operands come first, in capitals
            if not re.fullmatch(r"[A-Z]+", word):
                break
            names.append(word)
        for name in names:
            t.check(re.search(r"^  %s\b" % re.escape(name), p.stdout, re.M),
                    "%s --help does not describe %s" % (cmd, name))


# ---------------------------------------------------------------------------------------
# No daemon, a silent daemon, a daemon that breaks the protocol

@test("with no daemon running, commands exit 3 and say no daemon is listening")
def _(t):
    d = t.daemon()
    d.stop()
    empty = tempfile.mkdtemp(prefix="ntc-", dir="/tmp")
    t.defer(lambda: shutil.rmtree(empty, ignore_errors=True))
    for how, args in (("after a clean stop", ["--runtime-dir", d.run_dir]),
                      ("in an empty directory", ["--runtime-dir", empty])):
        for cmd in (["ping"], ["open", "x", "--area", "livelihood", "--unit", "u"], ["list"],
                    ["show", "1"], ["watch"], ["unit", "list"], ["campaign", "show"],
                    ["verify", "1", "--cross-off"]):
            start = time.monotonic()
            p = run(args + cmd)
            status(t, p, 3, "%s %s" % (" ".join(cmd), how))
            t.check("no daemon listening at ipc://" in p.stderr and
                    "is nantid running?" in p.stderr, "%s: stderr %r" % (cmd, p.stderr))
            t.check(time.monotonic() - start < 2, "%s took %.1fs" % (cmd, time.monotonic() - start))
    d.restart()
    d.kill9()       # leaves the socket files behind
    t.check(os.path.exists(os.path.join(d.run_dir, "submit.sock")), "no stale socket")
    p = nanti(d, "ping")
    status(t, p, 3, "ping after kill -9")
    t.check("no daemon listening" in p.stderr, "stderr: %r" % p.stderr)


@test("a daemon that does not answer makes the client exit 3 after --timeout")
def _(t):
    d = t.daemon()
    d.send_signal(signal.SIGSTOP)
    t.defer(lambda: d.send_signal(signal.SIGCONT))
    for args in (["--timeout", "300", "ping"],
                 ["open", "x", "--area", "livelihood", "--unit", "u", "--timeout", "300"],
                 ["show", "1", "--timeout", "300"]):
        start = time.monotonic()
        p = nanti(d, *args)
        took = time.monotonic() - start
        status(t, p, 3, " ".join(args))
        t.check(0.25 <= took < 3, "%s took %.2fs" % (args, took))
        t.check(p.stderr.startswith("nanti: ") and "300 ms" in p.stderr,
                "stderr: %r" % p.stderr)


@test("a reply that is not valid protocol exits 4, never a crash")
def _(t):
    def pack(obj):
        return msgpack.packb(obj)
    replies = [
        b"\xc1", b"not msgpack", pack([1, 2]), pack({"seq": 1}), pack({"ok": "yes", "seq": 1}),
        pack({"ok": True}), pack({"ok": False}), pack({"ok": False, "error": {"code": 1}}),
        pack({"ok": True, "seq": -1}), b"\x82\xa2ok\xc3\xa2ok\xc3", b"\xde\xff\xff",
        b"\xdb\xff\xff\xff\xff", b"\x81\xa2ok\xa3\xff\xfe\xfd", b"\x91" * 40 + b"\xc0",
        pack({"ok": True, "seq": 1}) + b"\x00", b"",
    ]
    wrong = [
        ("open", pack({"ok": True, "seq": 1, "case": 1, "step": "identified",
                       "id": "someone else's"})),
        ("open", pack({"ok": True, "seq": 1})),                           # no case
        ("open", pack({"ok": True, "seq": 1, "case": "one", "step": "identified"})),
        ("plan", pack({"ok": True, "seq": 1, "case": 1})),                # no step
        ("show", pack({"ok": True, "seq": 1, "case": {}, "history": {}, "next": None})),
        ("show", pack({"ok": True, "seq": 1, "case": {}, "history": [1], "next": None})),
        ("show", pack({"ok": True, "seq": 1, "case": {}, "history": [{"seq": 3}, {"seq": 2}],
                       "next": None})),
        ("show", pack({"ok": True, "seq": 1, "case": {}, "history": [], "next": "x"})),
        ("unit list", pack({"ok": True, "seq": 1, "items": [], "next": 5})),
        ("unit list --all", pack({"ok": True, "seq": 1, "items": [], "next": "a"})),
    ]
    # the last: a second page whose next does not advance, which the pager must notice
    queue_ = list(replies) + [body for _, body in wrong] + [
        pack({"ok": True, "seq": 1, "items": [], "next": "a"})]

    f = FakeDaemon(reply=lambda req: queue_.pop(0) if queue_ else pack({"ok": True}))
    t.defer(f.close)
    for body in replies:
        p = run(["--endpoint", f.submit, "--timeout", "2000", "ping"])
        status(t, p, 4, "ping answered with %r" % body[:20])
        t.check("not valid protocol" in p.stderr, "stderr: %r" % p.stderr)
    args = {"open": ["open", "x", "--area", "livelihood", "--unit", "u"],
            "plan": ["plan", "1", "--measures", "m", "--schedule", "s", "--deadline", due(),
                     "--units", "u"],
            "show": ["show", "1"], "unit list": ["unit", "list"],
            "unit list --all": ["unit", "list", "--all"]}
    for cmd, body in wrong:
        p = run(["--endpoint", f.submit, "--timeout", "2000"] + args[cmd])
        if status(t, p, 4, "%s answered with %r" % (cmd, body[:60])):
            t.check("not valid protocol" in p.stderr, "stderr: %r" % p.stderr)


@test("show tells an entry of a topic it does not know by the topic and its fields, and "
      "shows control characters in the daemon's text as '?'")
def _(t):
    reply = {"ok": True, "seq": 9, "satisfaction": None, "next": None,
             "case": {"case": 4, "title": "road\x1b[31m red", "step": "planned", "events": 2},
             "history": [
                 {"seq": 3, "topic": "case.opened", "at": 1780000000000, "case": 4,
                  "actor": "a", "id": "x", "title": "road", "step": "identified"},
                 {"seq": 7, "topic": "case.weighed", "at": 1780000000000, "case": 4,
                  "actor": "b", "id": "y", "weight": 12, "who": ["p", "q"], "ok": True,
                  "notes": "line1\nline2", "step": "planned"}]}
    f = FakeDaemon(reply=lambda req: msgpack.packb(reply))
    t.defer(f.close)
    out = ok(t, run(["--endpoint", f.submit, "show", "4"]), "show")
    t.check(out.startswith("case 4  road?[31m red\n") and "\x1b" not in out,
            "the title's escape: %r" % out[:60])
    blocks = story(t, out)
    t.eq([b[1] for b in blocks], ["opened: road → identified", "case.weighed → planned"],
         "headlines")
    t.eq(blocks[1][2], ["    weight  12", "    who     p, q", "    ok      yes",
                        "    notes   line1", "            line2"], "the unknown entry's fields")


# ---------------------------------------------------------------------------------------
# watch

def case_open(title):
    """A case.open request for the pipeline: a case of the ACTOR's in xiaxi."""
    return {"op": "case.open", "actor": ACTOR, "title": title, "area": "livelihood",
            "unit": "xiaxi"}


@test("watch --from 0 replays the log, then follows live entries without gap or duplicate, "
      "and SIGINT ends it with 0")
def _(t):
    d = t.daemon()
    base = county(t, d)
    open_cases(t, d, ["replayed %d" % i for i in range(5)])
    w = Watch(t, ["--runtime-dir", d.run_dir, "--json", "watch", "--from", "0"])
    got = w.entries(base + 5)
    with d.pipeline() as pl:
        pl.run([case_open("burst %d" % i) for i in range(200)])
        ok(t, nanti(d, "note", "3", "after the burst"), "note")
        pl.run([{"op": "case.note", "actor": ACTOR, "case": 1 + i % 5, "text": "n%d" % i}
                for i in range(100)])
    end = last_seq(t, d)
    got += w.until_seq(end)
    rc, rest = w.stop(signal.SIGINT)
    t.eq(rc, 0, "exit status after SIGINT")
    seqs = [e["seq"] for e in got + rest]
    t.check(seqs == list(range(1, end + 1)),
            "want seqs 1..%d once each in order; got %d entries, first gap or repeat at %r"
            % (end, len(seqs), next((s for i, s in enumerate(seqs) if s != i + 1), None)))
    with d.client() as c:
        log, _ = read_log(c)
    t.check(got == log, "watch's entries differ from log.read's")


@test("watch without --from prints only entries committed after it started")
def _(t):
    d = t.daemon()
    base = county(t, d)
    open_cases(t, d, ["old %d" % i for i in range(3)])
    w = Watch(t, ["--runtime-dir", d.run_dir, "--json", "watch"])
    t.check(w.quiet(1.5), "watch printed old entries")
    open_cases(t, d, ["new %d" % i for i in range(4)])
    got = w.until_seq(base + 7)
    rc, rest = w.stop(signal.SIGINT)
    t.eq(rc, 0, "exit status after SIGINT")
    seqs = [e["seq"] for e in got + rest]
    t.check(seqs == list(range(seqs[0], base + 8)) and seqs[0] > base + 3,
            "want new entries only, in order, no gap: %r" % seqs)
    t.eq(seqs[0], base + 4, "the first new entry")


@test("watch with a topic prefix follows only that topic, and SIGTERM ends it with 0")
def _(t):
    d = t.daemon()
    base = county(t, d)
    open_cases(t, d, ["a", "b"])
    ok(t, nanti(d, "note", "1", "early note"), "note")
    w = Watch(t, ["--runtime-dir", d.run_dir, "watch", "case.noted", "--from", "0", "--json"])
    both = Watch(t, ["--runtime-dir", d.run_dir, "watch", "case.noted", "case.opened",
                     "--from", str(base + 2), "--json"])
    got = w.entries(1)
    for i in range(6):
        if i % 2:
            open_cases(t, d, ["more %d" % i])
        else:
            ok(t, nanti(d, "note", "2", "note %d" % i), "note")
    end = last_seq(t, d)
    with d.client() as c:
        noted, _ = read_log(c, topic="case.noted")
    got += w.entries(len(noted) - 1)
    rc, rest = w.stop(signal.SIGTERM)
    t.eq(rc, 0, "exit status after SIGTERM")
    t.eq([e["seq"] for e in got + rest], [e["seq"] for e in noted], "case.noted seqs")
    t.check(all(e["topic"] == "case.noted" for e in got), "another topic came through")
    seqs = [e["seq"] for e in both.until_seq(end)]
    t.eq(seqs, list(range(base + 2, end + 1)), "two prefixes, from the second case on")
    t.eq(both.stop(signal.SIGTERM)[0], 0, "exit status after SIGTERM")


@test("watch --after SEQ resumes after a saved cursor")
def _(t):
    d = t.daemon()
    base = county(t, d)
    open_cases(t, d, ["c%d" % i for i in range(6)])
    w = Watch(t, ["--runtime-dir", d.run_dir, "--json", "watch", "--after", str(base + 4)])
    got = w.entries(2)
    open_cases(t, d, ["c6"])
    got += w.entries(1)
    t.eq([e["seq"] for e in got], [base + 5, base + 6, base + 7], "seqs after the cursor")
    t.eq(w.stop()[0], 0, "exit status")


@test("watch keeps following across a daemon restart, missing nothing")
def _(t):
    d = t.daemon()
    base = county(t, d)
    open_cases(t, d, ["before"])
    w = Watch(t, ["--runtime-dir", d.run_dir, "--json", "watch", "--from", str(base + 1)])
    got = w.entries(1)
    d.stop()
    d.restart()
    open_cases(t, d, ["after %d" % i for i in range(3)])   # some before watch reconnects
    got += w.until_seq(base + 4)
    open_cases(t, d, ["later"])
    got += w.entries(1)
    rc, rest = w.stop()
    t.eq(rc, 0, "exit status")
    t.eq([e["seq"] for e in got + rest], list(range(base + 1, base + 6)), "seqs")


@test("watch reads back entries the live feed missed: a gap reveals them, and so does a "
      "heartbeat")
def _(t):
    f = FakeDaemon()
    t.defer(f.close)
    for _ in range(3):
        f.add(publish=False)
    w = Watch(t, ["--endpoint", f.submit, "--json", "watch", "--from", "0"])
    got = w.entries(3)
    t.require(f.subscribed.wait(10), "watch never subscribed")
    f.add()                   # 4, live: seq == cursor + 1
    f.add(publish=False)      # 5, lost
    f.add()                   # 6, live: reveals the gap
    got += w.entries(3)
    f.republish(6)            # a duplicate
    f.add(publish=False)      # 7, lost, and nothing after it
    t.check(w.quiet(0.5), "watch printed something nobody told it about")
    f.heartbeat()             # last_seq 7 > cursor 6
    got += w.entries(1)
    f.garbage()               # not the protocol: warned about, then the log is read
    f.add()                   # 8
    got += w.entries(1)
    rc, rest = w.stop(signal.SIGINT)
    t.eq(rc, 0, "exit status")
    t.eq([e["seq"] for e in got + rest], list(range(1, 9)), "seqs")
    t.check(any("not valid protocol" in line for line in w.err),
            "no warning about the invalid notification: %r" % w.err)


# ---------------------------------------------------------------------------------------
# Finding the daemon

@test("over tcp, requests go to PORT and watch follows notifications on PORT+1")
def _(t):
    port = free_port_pair()
    d = t.daemon(args=["--listen-tcp", "127.0.0.1:%d" % port])
    ep = "tcp://127.0.0.1:%d" % port
    base = county(t, d)
    # tcp speaks CURVE: a key pair from nanti key gen, registered for the client's actor
    kf = os.path.join(d.base, "client.key")
    ok(t, run(["key", "gen", "--out", kf]), "key gen")
    ok(t, nanti(d, "--actor", "admin", "admin", "key", "add", ACTOR, kf), "key add")
    # the whole log is the offices' (protocol.md section 9): watch runs with the theme
    # office's key, as a bridge does
    kf2 = os.path.join(d.base, "office.key")
    ok(t, run(["key", "gen", "--out", kf2]), "key gen")
    ok(t, nanti(d, "--actor", "admin", "admin", "key", "add", "theme", kf2), "key add")
    base += 2
    ep = ["--endpoint", ep, "--key", kf, "--server-key",
          os.path.join(d.state_dir, "curve.public")]
    ep2 = ep[:2] + ["--key", kf2] + ep[4:]
    out = ok(t, run(ep + ["open", "over tcp", "--area", "livelihood", "--unit", "xiaxi"]),
             "open over tcp")
    t.eq(out, "case 1: opened; step identified (seq %d)\n" % (base + 1), "open over tcp")
    w = Watch(t, ep2 + ["--json", "watch", "--from", str(base + 1)])
    got = w.entries(1)
    ok(t, run(ep + ["note", "1", "over tcp too"]), "note over tcp")
    got += w.entries(1)
    t.eq([e["seq"] for e in got], [base + 1, base + 2], "seqs")
    t.eq(w.stop()[0], 0, "exit status")
    explicit = Watch(t, ep2 + ["--events", "tcp://127.0.0.1:%d" % (port + 1),
                              "--json", "watch", "--from", str(base + 2)])
    t.eq([e["seq"] for e in explicit.entries(1)], [base + 2], "with --events")
    t.eq(explicit.stop()[0], 0, "exit status")


@test("without --runtime-dir the daemon is found through NANTI_RUNTIME_DIR, else "
      "XDG_RUNTIME_DIR/nanti; the actor comes from --actor, else NANTI_ACTOR")
def _(t):
    xdg = tempfile.mkdtemp(prefix="ntx-", dir="/tmp")
    t.defer(lambda: shutil.rmtree(xdg, ignore_errors=True))
    d = t.daemon(run_dir=os.path.join(xdg, "nanti"))
    county(t, d)
    o = ["--area", "livelihood", "--unit", "xiaxi"]
    ok(t, run(["open", "by env"] + o, env=client_env(NANTI_RUNTIME_DIR=d.run_dir,
                                                     NANTI_ACTOR="chen.jie")),
       "NANTI_RUNTIME_DIR")
    ok(t, run(["open", "by xdg", "--actor", "zhou.min"] + o,
              env=client_env(XDG_RUNTIME_DIR=xdg)), "XDG_RUNTIME_DIR")
    p = run(["ping"], env=client_env(XDG_RUNTIME_DIR=xdg, NANTI_RUNTIME_DIR="/nonexistent"))
    status(t, p, 3, "NANTI_RUNTIME_DIR wins over XDG_RUNTIME_DIR")
    entries = json_lines(t, nanti(d, "log", "--json", "--topic", "case.opened"), "log")
    t.eq([(e["title"], e["actor"]) for e in entries],
         [("by env", "chen.jie"), ("by xdg", "zhou.min")], "titles and actors")


if __name__ == "__main__":
    run_tests()
