"""
The nanti command-line client (build/nanti) against the real daemon (build/nantid).

Each test starts nantid on a fresh temporary directory (pyclient.Daemon, which waits until
ping answers and kills the daemon when the test ends), runs build/nanti as a subprocess
and checks what it prints and its exit status (docs/client.md): 0 success, 1 refused,
2 usage or invalid input, 3 unreachable, 4 invalid reply.

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
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import msgpack  # noqa: E402
import zmq  # noqa: E402

from pyclient import ROOT, Daemon, new_id, read_log, run_tests, test  # noqa: E402

NANTI = os.environ.get("NANTI", os.path.join(ROOT, "build", "nanti"))
ACTOR = "wang.li"
COMMANDS = ("ping", "open", "note", "show", "list", "log", "watch")
TIME_RE = re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d\b")


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


def open_cases(t, d, titles, *opts):
    ids = []
    for title in titles:
        r = json_of(t, nanti(d, "--json", "open", title, *opts), "open %s" % title)
        ids.append(r["case"])
    return ids


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


def free_port_pair():
    """A port P such that P and P+1 are free on 127.0.0.1 (now)."""
    for _ in range(100):
        port = random.randrange(20000, 60000)
        socks = []
        try:
            for p in (port, port + 1):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port pair")


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
    for title in ("one", "two", "three"):
        ok(t, nanti(d, "open", title), "open")
    out = ok(t, nanti(d, "stats"), "stats")
    t.check("last seq          3" in out and "cases             3" in out
            and "3 events in" in out, "stats output: %r" % out)
    r = json_of(t, nanti(d, "stats", "--json"), "stats --json")
    t.check(r.get("ok") is True and r.get("cases") == 3 and r.get("events") == 3
            and 1 <= r.get("commits", 0) <= 3 and r.get("commit_us", 0) > 0,
            "stats --json: %r" % r)


@test("open prints the new case and its seq, and --json prints the reply with the case id")
def _(t):
    d = t.daemon()
    out = ok(t, nanti(d, "open", "Village road to Xiaxi washed out", "--unit", "安岭乡",
                      "--kind", "problem", "--lead", "li.ming", "--tag", "roads", "--tag",
                      "flood", "--description", "washed out\nin the June rain"), "open")
    t.eq(out, "opened case 1 (seq 1)\n", "open output")
    r = json_of(t, nanti(d, "--json", "open", "Xiaxi school roof leaks"), "open --json")
    t.check(r.get("ok") is True and r.get("case") == 2 and r.get("seq") == 2
            and isinstance(r.get("id"), str) and "duplicate" not in r, "open --json: %r" % r)
    with d.client() as c:
        case = c.call("case.get", case=1)["case"]
    t.eq((case["title"], case["unit"], case["lead"], case["tags"], case["description"]),
         ("Village road to Xiaxi washed out", "安岭乡", "li.ming", ["roads", "flood"],
          "washed out\nin the June rain"), "the case as opened")


@test("a write sent again with the same --request-id is applied once and shown as a duplicate")
def _(t):
    d = t.daemon()
    rid = new_id()
    first = ok(t, nanti(d, "open", "Petition backlog", "--request-id", rid), "open")
    again = ok(t, nanti(d, "open", "Petition backlog", "--request-id", rid), "open again")
    t.eq(first, "opened case 1 (seq 1)\n", "first")
    t.eq(again, "opened case 1 (duplicate: already applied as seq 1)\n", "again")
    note = ok(t, nanti(d, "note", "1", "first visit", "--request-id", rid + "n"), "note")
    note2 = ok(t, nanti(d, "note", "1", "first visit", "--request-id", rid + "n"), "note again")
    t.eq(note, "added note 1 to case 1 (seq 2)\n", "note")
    t.eq(note2, "added note 1 to case 1 (duplicate: already applied as seq 2)\n", "note again")
    r = json_of(t, nanti(d, "--json", "open", "Petition backlog", "--request-id", rid), "json")
    t.check(r.get("duplicate") is True and r.get("id") == rid, "--json duplicate: %r" % r)
    t.eq(last_seq(t, d), 2, "seq after the retries")


@test("note takes its text from an argument or from stdin, and show prints the case with "
      "its notes")
def _(t):
    d = t.daemon()
    open_cases(t, d, ["Household 12 needs a roof"], "--unit", "田市镇", "--kind", "household",
               "--tag", "housing")
    ok(t, nanti(d, "note", "1", "visited with the village head"), "note")
    ok(t, nanti(d, "note", "1", "-", stdin="quote from the plan:\nroof by July\n"), "note -")
    out = ok(t, nanti(d, "show", "1"), "show")
    for want in ("case 1  Household 12 needs a roof", "household", "田市镇", "housing",
                 ACTOR, "visited with the village head", "quote from the plan:",
                 "roof by July", "#1", "#2", "notes (2)"):
        t.check(want in out, "show output lacks %r:\n%s" % (want, out))
    t.check(TIME_RE.search(out) is not None, "show output has no YYYY-MM-DD HH:MM time")
    r = json_of(t, nanti(d, "show", "1", "--json"), "show --json")
    t.eq([n["text"] for n in r["case"]["notes"]],
         ["visited with the village head", "quote from the plan:\nroof by July"],
         "the notes (stdin without its trailing newline)")


@test("list prints an aligned table, pages with --after, and --all --json gathers every page")
def _(t):
    d = t.daemon()
    titles = ["case number %d" % i for i in range(1, 8)]
    units = ["安岭乡", "Nanfeng street", "大战乡", "u", "淡竹乡", "官路镇", "白塔镇"]
    for title, unit in zip(titles, units):
        ok(t, nanti(d, "open", title, "--unit", unit), "open")
    out = ok(t, nanti(d, "list"), "list")
    lines = out.splitlines()
    t.require(len(lines) == 8, "list: want a header and 7 rows:\n" + out)
    col = lines[0].index("TITLE")
    for line, title in zip(lines[1:], titles):
        t.check(line.endswith(title) and width(line[:line.index(title)]) == col,
                "TITLE is not aligned at column %d: %r" % (col, line))
    page = ok(t, nanti(d, "list", "--limit", "3"), "list --limit 3")
    t.check(len(page.splitlines()) == 5 and "--after 3" in page,
            "a page of 3 with a hint to go on:\n" + page)
    r = json_of(t, nanti(d, "--json", "list", "--limit", "3", "--after", "3"), "list --after")
    t.eq(([i["id"] for i in r["items"]], r["next"]), ([4, 5, 6], 6), "second page")
    r = json_of(t, nanti(d, "--json", "list", "--all", "--limit", "2"), "list --all")
    t.eq([i["id"] for i in r["items"]], list(range(1, 8)), "every case, paged by 2")
    t.check(r.get("next") is None and r.get("ok") is True, "list --all: %r" % r)


@test("list filters by kind, unit and lead")
def _(t):
    d = t.daemon()
    open_cases(t, d, ["a petition"], "--kind", "petition", "--unit", "朱溪镇")
    open_cases(t, d, ["a problem"], "--unit", "朱溪镇", "--lead", "zhao.lei")
    open_cases(t, d, ["a village"], "--kind", "village", "--lead", "zhao.lei")

    def ids(*filters):
        r = json_of(t, nanti(d, "--json", "list", "--all", *filters), "list")
        return [i["id"] for i in r["items"]]
    t.eq(ids("--kind", "petition"), [1], "--kind petition")
    t.eq(ids("--unit", "朱溪镇"), [1, 2], "--unit")
    t.eq(ids("--lead", "zhao.lei"), [2, 3], "--lead")
    t.eq(ids("--lead", "zhao.lei", "--kind", "village"), [3], "--lead --kind")


@test("log prints one JSON object per entry in seq order, --topic filters, --all reads to "
      "the end")
def _(t):
    d = t.daemon()
    open_cases(t, d, ["first", "second"])
    for i in range(5):
        ok(t, nanti(d, "note", "1" if i % 2 else "2", "note %d" % i), "note")
    entries = json_lines(t, nanti(d, "log", "--json"), "log --json")
    t.eq([e["seq"] for e in entries], list(range(1, 8)), "seqs")
    t.eq([e["topic"] for e in entries[:2]], ["case.opened"] * 2, "topics")
    t.eq(entries[0]["title"], "first", "the first entry's title")
    noted = json_lines(t, nanti(d, "log", "--json", "--topic", "case.noted"), "log --topic")
    t.eq([e["seq"] for e in noted], list(range(3, 8)), "case.noted seqs")
    paged = json_lines(t, nanti(d, "log", "--json", "--all", "--limit", "2"), "log --all")
    t.eq([e["seq"] for e in paged], list(range(1, 8)), "log --all --limit 2")
    after = json_lines(t, nanti(d, "log", "--json", "--after", "5"), "log --after")
    t.eq([e["seq"] for e in after], [6, 7], "log --after 5")
    human = ok(t, nanti(d, "log", "--limit", "3"), "log --limit 3").splitlines()
    t.check(len(human) == 5 and "SEQ" in human[0] and "--after 3" in human[-1],
            "human log page: %r" % human)


@test("times are shown in local time as YYYY-MM-DD HH:MM")
def _(t):
    d = t.daemon()
    open_cases(t, d, ["a case"])
    at = json_lines(t, nanti(d, "log", "--json"), "log")[0]["at"]
    for tz, offset in (("UTC0", 0), ("CST-8", 8)):
        want = (datetime.datetime.fromtimestamp(at / 1000, datetime.timezone.utc)
                + datetime.timedelta(hours=offset)).strftime("%Y-%m-%d %H:%M")
        out = ok(t, nanti(d, "log", env=client_env(TZ=tz)), "log TZ=" + tz)
        t.check(want in out, "TZ=%s: %r not in %r" % (tz, want, out))


@test("a refused request exits 1 and names the error code on stderr")
def _(t):
    d = t.daemon()
    p = nanti(d, "show", "9999")
    status(t, p, 1, "show 9999")
    t.check(p.stderr.startswith("nanti: not_found: "), "stderr: %r" % p.stderr)
    p = nanti(d, "note", "9999", "to nowhere")
    status(t, p, 1, "note 9999")
    t.check("nanti: not_found: " in p.stderr, "stderr: %r" % p.stderr)
    p = nanti(d, "--json", "show", "9999")
    status(t, p, 1, "show --json 9999")
    r = json.loads(p.stdout)
    t.check(r.get("ok") is False and r["error"]["code"] == "not_found", "reply: %r" % r)
    rid = new_id()
    ok(t, nanti(d, "open", "one thing", "--request-id", rid), "open")
    p = nanti(d, "open", "another thing", "--request-id", rid)
    status(t, p, 1, "open with a used id")
    t.check(p.stderr.startswith("nanti: conflict: "), "stderr: %r" % p.stderr)


@test("bad usage or invalid input exits 2 and sends nothing")
def _(t):
    d = t.daemon()
    open_cases(t, d, ["a case"])
    seq = last_seq(t, d)
    bad = [
        [], ["frobnicate"], ["list", "--bogus"], ["open"], ["note", "1"], ["show", "x"],
        ["show", "1", "2"], ["show", "0"], ["open", ""], ["open", "t" * 201],
        ["open", "x", "--kind", "bogus"], ["open", "x", "--tag", "t" * 33],
        ["open", "x", "--tag"], ["open", "x", "--unit", "a", "--unit", "b"],
        ["note", "1", "n" * 4097], ["note", "1", ""], ["list", "--limit", "0"],
        ["list", "--limit", "1001"], ["log", "--after", "-1"], ["--timeout", "0", "ping"],
        ["--timeout", "soon", "ping"], ["watch", "--from", "1", "--after", "1"],
        ["open", "x", "--request-id", ""], ["open", "x", "--request-id", "i" * 65],
        ["--actor", "a" * 65, "open", "x"], ["--endpoint", "nowhere", "ping"],
        ["ping", "--json=yes"],
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
    t.eq(last_seq(t, d), seq, "the last seq after the bad commands")


@test("every command's --help exits 0 and prints its usage; nanti --help documents the "
      "exit statuses")
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
        for args in ([cmd, "--help"], [cmd, "-h"], ["help", cmd], ["--json", cmd, "--help"]):
            p = run(args)
            status(t, p, 0, " ".join(args))
            t.check(p.stdout.startswith("usage: nanti " + cmd), "%s: %r" % (args, p.stdout))
    p = run(["--version"])
    status(t, p, 0, "--version")
    t.check(p.stdout.startswith("nanti "), "--version: %r" % p.stdout)


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
        for cmd in (["ping"], ["open", "x"], ["list"], ["show", "1"], ["watch"]):
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
    for args in (["--timeout", "300", "ping"], ["open", "x", "--timeout", "300"]):
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
    wrong = [pack({"ok": True, "seq": 1, "case": 1, "id": "someone else's"}),
             pack({"ok": True, "seq": 1}),                         # open without case
             pack({"ok": True, "seq": 1, "case": "one"})]
    queue_ = list(replies) + wrong

    f = FakeDaemon(reply=lambda req: queue_.pop(0) if queue_ else pack({"ok": True}))
    t.defer(f.close)
    for body in replies:
        p = run(["--endpoint", f.submit, "--timeout", "2000", "ping"])
        status(t, p, 4, "ping answered with %r" % body[:20])
        t.check("not valid protocol" in p.stderr, "stderr: %r" % p.stderr)
    for what in ("an id that is not ours", "no case", "a case that is not a number"):
        p = run(["--endpoint", f.submit, "--timeout", "2000", "open", "x"])
        status(t, p, 4, "open answered with " + what)


# ---------------------------------------------------------------------------------------
# watch

@test("watch --from 0 replays the log, then follows live entries without gap or duplicate, "
      "and SIGINT ends it with 0")
def _(t):
    d = t.daemon()
    open_cases(t, d, ["replayed %d" % i for i in range(5)])
    w = Watch(t, ["--runtime-dir", d.run_dir, "--json", "watch", "--from", "0"])
    got = w.entries(5)
    with d.pipeline() as pl:
        pl.run([{"op": "case.open", "actor": ACTOR, "title": "burst %d" % i}
                for i in range(200)])
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
    open_cases(t, d, ["old %d" % i for i in range(3)])
    w = Watch(t, ["--runtime-dir", d.run_dir, "--json", "watch"])
    t.check(w.quiet(1.5), "watch printed old entries")
    open_cases(t, d, ["new %d" % i for i in range(4)])
    got = w.until_seq(7)
    rc, rest = w.stop(signal.SIGINT)
    t.eq(rc, 0, "exit status after SIGINT")
    seqs = [e["seq"] for e in got + rest]
    t.check(seqs == list(range(seqs[0], 8)) and seqs[0] > 3,
            "want new entries only, in order, no gap: %r" % seqs)
    t.eq(seqs[0], 4, "the first new entry")


@test("watch with a topic prefix follows only that topic, and SIGTERM ends it with 0")
def _(t):
    d = t.daemon()
    open_cases(t, d, ["a", "b"])
    ok(t, nanti(d, "note", "1", "early note"), "note")
    w = Watch(t, ["--runtime-dir", d.run_dir, "watch", "case.noted", "--from", "0", "--json"])
    both = Watch(t, ["--runtime-dir", d.run_dir, "watch", "case.noted", "case.opened",
                     "--from", "2", "--json"])
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
    t.eq(seqs, list(range(2, end + 1)), "two prefixes, from seq 2")
    t.eq(both.stop(signal.SIGTERM)[0], 0, "exit status after SIGTERM")


@test("watch --after SEQ resumes after a saved cursor")
def _(t):
    d = t.daemon()
    open_cases(t, d, ["c%d" % i for i in range(6)])
    w = Watch(t, ["--runtime-dir", d.run_dir, "--json", "watch", "--after", "4"])
    got = w.entries(2)
    open_cases(t, d, ["c6"])
    got += w.entries(1)
    t.eq([e["seq"] for e in got], [5, 6, 7], "seqs after 4")
    t.eq(w.stop()[0], 0, "exit status")


@test("watch keeps following across a daemon restart, missing nothing")
def _(t):
    d = t.daemon()
    open_cases(t, d, ["before"])
    w = Watch(t, ["--runtime-dir", d.run_dir, "--json", "watch", "--from", "1"])
    got = w.entries(1)
    d.stop()
    d.restart()
    open_cases(t, d, ["after %d" % i for i in range(3)])   # some before watch reconnects
    got += w.until_seq(4)
    open_cases(t, d, ["later"])
    got += w.entries(1)
    rc, rest = w.stop()
    t.eq(rc, 0, "exit status")
    t.eq([e["seq"] for e in got + rest], [1, 2, 3, 4, 5], "seqs")


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
    out = ok(t, run(["--endpoint", ep, "open", "over tcp"]), "open over tcp")
    t.eq(out, "opened case 1 (seq 1)\n", "open over tcp")
    w = Watch(t, ["--endpoint", ep, "--json", "watch", "--from", "0"])
    got = w.entries(1)
    ok(t, run(["--endpoint", ep, "note", "1", "over tcp too"]), "note over tcp")
    got += w.entries(1)
    t.eq([e["seq"] for e in got], [1, 2], "seqs")
    t.eq(w.stop()[0], 0, "exit status")
    explicit = Watch(t, ["--endpoint", ep, "--events", "tcp://127.0.0.1:%d" % (port + 1),
                         "--json", "watch", "--from", "2"])
    t.eq([e["seq"] for e in explicit.entries(1)], [2], "with --events")
    t.eq(explicit.stop()[0], 0, "exit status")


@test("without --runtime-dir the daemon is found through NANTI_RUNTIME_DIR, else "
      "XDG_RUNTIME_DIR/nanti; the actor comes from --actor, else NANTI_ACTOR")
def _(t):
    xdg = tempfile.mkdtemp(prefix="ntx-", dir="/tmp")
    t.defer(lambda: shutil.rmtree(xdg, ignore_errors=True))
    d = t.daemon(run_dir=os.path.join(xdg, "nanti"))
    ok(t, run(["open", "by env"], env=client_env(NANTI_RUNTIME_DIR=d.run_dir,
                                                 NANTI_ACTOR="chen.jie")), "NANTI_RUNTIME_DIR")
    ok(t, run(["open", "by xdg", "--actor", "zhou.min"],
              env=client_env(XDG_RUNTIME_DIR=xdg)), "XDG_RUNTIME_DIR")
    p = run(["ping"], env=client_env(XDG_RUNTIME_DIR=xdg, NANTI_RUNTIME_DIR="/nonexistent"))
    status(t, p, 3, "NANTI_RUNTIME_DIR wins over XDG_RUNTIME_DIR")
    entries = json_lines(t, nanti(d, "log", "--json"), "log")
    t.eq([(e["title"], e["actor"]) for e in entries],
         [("by env", "chen.jie"), ("by xdg", "zhou.min")], "titles and actors")


if __name__ == "__main__":
    run_tests()
