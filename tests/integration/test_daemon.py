"""
The daemon's life: one instance per state directory, a clean stop on SIGTERM/SIGINT that
answers every request it took, a restart that keeps everything, the command line, and
the systemd notification protocol (READY=1, STOPPING=1 on $NOTIFY_SOCKET).

Writes need registered people (docs/protocol.md section 9): each daemon first gets
pyclient's shared county, whose entries open the log.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import zmq  # noqa: E402

from pyclient import (  # noqa: E402
    NANTID, County, Daemon, build_county, case_history, check_reply, decode, encode,
    error_code, list_cases, new_id, read_log, run_tests, test)

ACTOR = County.CADRE
LOCK_WORDS = re.compile(r"lock|already|another|other instance|in use|running", re.I)


def wreq(op, **fields):
    req = {"op": op, "id": new_id(), "actor": ACTOR}
    req.update(fields)
    return req


def oreq(title, **fields):
    """A case.open request in a village of anling."""
    return wreq("case.open", title=title, area="development", unit="xiaxi", **fields)


def served(d, what):
    """A fresh connection gets a ping answered and writes applied: the county's puts
    (harmless if it is already there) and a case.open."""
    with d.client() as c:
        r = c.call("ping")
        build_county(c)
        w = c.request(oreq("still served " + what))
    return r["ok"] and w["ok"]


def second_instance(t, first, **kw):
    second = Daemon(state_dir=first.state_dir, **kw)
    t.daemons.append(second)
    second.start(wait=False)
    rc = second.wait_exit(15)
    if rc is None:
        second.kill9()
        t.fail("the second instance did not exit within 15 s:\n" + second.stderr_tail())
    t.check(rc != 0, "the second instance exited with status 0")
    err = second.stderr()
    t.check(LOCK_WORDS.search(err.split("--- start 1", 1)[-1]) is not None,
            "the second instance's message does not mention the lock or the other "
            "instance:\n" + err)
    t.diag("second instance: status %d, %r" % (rc, err.strip().splitlines()[-1:]))
    return rc


@test("a second nantid on the same state directory exits non-zero naming the lock, "
      "and the first keeps serving")
def _(t):
    d = t.daemon()
    t.check(served(d, "before"), "the first instance does not serve")
    second_instance(t, d)
    t.check(d.running(), "the first instance died")
    t.check(served(d, "after"), "the first instance stopped serving")


@test("a second nantid on the same state and runtime directories leaves the first "
      "instance's sockets alone")
def _(t):
    d = t.daemon()
    s = d.client()
    t.defer(s.close)
    t.check(s.call("ping")["ok"], "ping")
    second_instance(t, d, run_dir=d.run_dir)
    t.check(d.running(), "the first instance died")
    t.check(os.path.exists(os.path.join(d.run_dir, "submit.sock")), "submit.sock is gone")
    t.check(os.path.exists(os.path.join(d.run_dir, "events.sock")), "events.sock is gone")
    t.check(served(d, "on a new connection"), "a new connection is not served")
    t.check(s.call("ping")["ok"], "the old connection is not served")


def sigterm_in_flight(t, sig):
    d = t.daemon()
    county = d.build_county()
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVHWM, 0)
    s.connect(d.submit)
    t.defer(s.close)
    sent = {}           # id -> request
    replies = {}        # id -> reply
    problems = []
    window = 400
    signalled = None
    deadline = time.monotonic() + 60

    def take():
        f = s.recv_multipart(zmq.NOBLOCK)
        r = check_reply(decode(f[-1]))
        rid = r.get("id")
        if rid not in sent:
            problems.append("reply to nothing sent: %r" % r)
        elif rid in replies:
            problems.append("two replies for %s: %r, %r" % (rid, replies[rid], r))
        else:
            replies[rid] = r

    # keep ~window writes in flight; signal once the daemon is busy with them
    while time.monotonic() < deadline:
        if d.proc.poll() is not None:
            break
        if len(sent) - len(replies) < window and (signalled is None or
                                                  time.monotonic() - signalled < 0.2):
            req = oreq("in flight %d" % len(sent))
            try:
                s.send_multipart([b"", encode(req)], zmq.NOBLOCK)
                sent[req["id"]] = req
            except zmq.Again:
                pass
        if s.poll(0 if len(sent) - len(replies) < window else 50):
            take()
        if signalled is None and len(replies) >= 300:
            d.send_signal(sig)
            signalled = time.monotonic()
    t.require(signalled is not None, "never signalled (%d replies)" % len(replies))
    rc = d.wait_exit(30)
    # replies already on their way
    while s.poll(1000):
        take()
    if rc is None:
        d.kill9()
    t.eq(rc, 0, "exit status after signal %d" % sig)
    t.check(not problems, "\n".join(problems[:10]))
    ok = {i: r for i, r in replies.items() if r["ok"]}
    unavailable = {i for i, r in replies.items() if error_code(r) == "unavailable"}
    others = {i: r for i, r in replies.items() if not r["ok"] and i not in unavailable}
    t.check(not others, "unexpected errors: %r" % list(others.values())[:5])
    # requests still queued in this socket must not reach the restarted daemon
    s.close(0)
    d.restart()
    with d.client() as c:
        items, _ = read_log(c, limit=1000)
    t.eq([e["id"] for e in items[:county.seq]], county.ids, "the county's entries")
    items = items[county.seq:]
    by_id = {e["id"]: e for e in items}
    t.eq([e["seq"] for e in items], list(range(county.seq + 1, county.seq + len(items) + 1)),
         "log seqs")
    unanswered_applied = [i for i in by_id if i not in ok]
    t.check(not unanswered_applied,
            "%d changes were committed but never acknowledged, e.g. %r"
            % (len(unanswered_applied), unanswered_applied[:3]))
    lost = [i for i, r in ok.items() if by_id.get(i, {}).get("seq") != r["seq"]]
    t.check(not lost, "%d acknowledged changes missing after the restart" % len(lost))
    applied_unavailable = [i for i in unavailable if i in by_id]
    t.check(not applied_unavailable, "%d requests answered unavailable were applied"
            % len(applied_unavailable))
    t.diag("%d sent, %d acknowledged, %d unavailable, %d never answered (not received)"
           % (len(sent), len(ok), len(unavailable), len(sent) - len(replies)))
    err = d.stderr()
    t.check(not re.search(r"segfault|sanitizer|assert", err, re.I), "stderr:\n" + err[-2000:])


@test("SIGTERM with requests in flight answers every request it received and exits 0")
def _(t):
    sigterm_in_flight(t, signal.SIGTERM)


@test("SIGINT with requests in flight answers every request it received and exits 0")
def _(t):
    sigterm_in_flight(t, signal.SIGINT)


@test("an idle daemon exits 0 on SIGTERM")
def _(t):
    d = t.daemon()
    t.eq(d.stop(signal.SIGTERM), 0, "exit status")
    t.check(d.stderr().strip() != "", "nothing logged on stderr")


def snapshot(d):
    with d.client() as c:
        log, _ = read_log(c)
        cases = list_cases(c)
        full = [case_history(c, s["case"]) for s in cases]
        st = c.call("stats")
        ping = c.call("ping")
        units = [c.call("unit.get", unit=u[0]) for u in County.UNITS]
        people = [c.call("person.get", person=p[0]) for p in County.PEOPLE]
    return {"log": log, "cases": cases, "full": full, "seq": ping["seq"],
            "count": st["cases"], "units": units, "people": people}


@test("a restart keeps every unit, person, case, note and log entry, and numbering goes on")
def _(t):
    d = t.daemon()
    base = d.build_county().seq
    with d.pipeline(window=50) as p:
        opens = p.run([oreq("case %d" % i, kind=("problem", "petition")[i % 2],
                            tags=["t%d" % i], **({"taker": ACTOR} if i % 2 else {}))
                       for i in range(20)])
        notes = p.run([wreq("case.note", case=1 + i % 20, text="note %d" % i)
                       for i in range(60)])
    t.require(all(r["ok"] for r in opens + notes), "a write failed")
    before = snapshot(d)
    t.eq(before["seq"], base + 80, "seq")
    t.eq(d.stop(), 0, "exit status after SIGTERM")
    d.restart()
    after = snapshot(d)
    for k in before:
        t.check(before[k] == after[k], "%s differs after a SIGTERM restart" % k)
    d.kill9()
    d.restart()
    after = snapshot(d)
    for k in before:
        t.check(before[k] == after[k], "%s differs after a kill -9 restart" % k)
    with d.client() as c:
        r = c.request(oreq("after the restarts"))
        t.eq((r.get("case"), r.get("seq")), (21, base + 81), "(case, seq) of the next opening")
        n = c.write("case.note", case=1, text="one more")
        t.eq(n.get("seq"), base + 82, "seq of the next note on case 1")
        _, h = case_history(c, 1)
        t.eq([e["topic"] for e in h], ["case.opened"] + ["case.noted"] * 4,
             "history of case 1")
        t.eq(h[-1].get("text"), "one more", "the last note")


def default_runtime(t, env, where, cwd=None):
    """Start without --runtime-dir under env; the sockets must appear in where(base)."""
    d = t.daemon(start=False, runtime_flag=False)
    d.set_run_dir(where(d.base))
    d.env = {k: (v(d.base) if callable(v) else v) for k, v in env.items()}
    if cwd:
        d.cwd = cwd(d.base)
    d.start()
    t.check(os.path.exists(os.path.join(d.run_dir, "events.sock")),
            "no events.sock in %s" % d.run_dir)
    t.check(served(d, "in its default runtime directory"), "not served")
    t.eq(d.stop(), 0, "exit status")


def mkdir(path):
    os.makedirs(path)
    return path


@test("without --runtime-dir the sockets go to $RUNTIME_DIRECTORY")
def _(t):
    default_runtime(t, {"RUNTIME_DIRECTORY": lambda b: mkdir(os.path.join(b, "rt")),
                        "XDG_RUNTIME_DIR": lambda b: mkdir(os.path.join(b, "xdg"))},
                    lambda b: os.path.join(b, "rt"))


@test("without --runtime-dir or $RUNTIME_DIRECTORY the sockets go to $XDG_RUNTIME_DIR/nanti")
def _(t):
    default_runtime(t, {"RUNTIME_DIRECTORY": None,
                        "XDG_RUNTIME_DIR": lambda b: mkdir(os.path.join(b, "xdg"))},
                    lambda b: os.path.join(b, "xdg", "nanti"))


@test("without --runtime-dir, $RUNTIME_DIRECTORY or $XDG_RUNTIME_DIR the sockets go to "
      "./var/run")
def _(t):
    def cwd(b):
        os.makedirs(os.path.join(b, "var", "run"), exist_ok=True)
        return b
    default_runtime(t, {"RUNTIME_DIRECTORY": None, "XDG_RUNTIME_DIR": None},
                    lambda b: os.path.join(b, "var", "run"), cwd=cwd)


def run_cli(args, timeout=15):
    return subprocess.run([NANTID] + args, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout, cwd="/tmp")


@test("--version and --help exit 0 and say something")
def _(t):
    v = run_cli(["--version"])
    t.eq(v.returncode, 0, "--version exit status")
    out = (v.stdout + v.stderr).decode(errors="replace")
    t.check(re.search(r"\d+\.\d+", out) is not None, "--version prints no version: %r" % out)
    h = run_cli(["--help"])
    t.eq(h.returncode, 0, "--help exit status")
    out = (h.stdout + h.stderr).decode(errors="replace")
    for flag in ("--state-dir", "--runtime-dir"):
        t.check(flag in out, "--help does not mention %s:\n%s" % (flag, out))


@test("an unknown flag exits non-zero with a message")
def _(t):
    for args in (["--no-such-flag"], ["--state-dir"], ["-Z"], ["extra-argument"]):
        r = run_cli(args)
        t.check(r.returncode > 0, "%r: exit status %d" % (args, r.returncode))
        t.check(r.stderr.strip() != b"", "%r: nothing on stderr" % (args,))


@test("NOTIFY_SOCKET gets READY=1 once the sockets are bound, and STOPPING=1 on SIGTERM")
def _(t):
    d = t.daemon(start=False)
    path = os.path.join(d.base, "notify")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    t.defer(ns.close)
    ns.bind(path)
    ns.settimeout(1.0)
    d.env = {"NOTIFY_SOCKET": path}
    d.start(wait=False)
    msgs = []

    def wait_for(line, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                m = ns.recv(4096).decode(errors="replace")
            except socket.timeout:
                if not d.running() and line != "STOPPING=1":
                    return False
                continue
            msgs.append(m)
            if line in m.split("\n"):
                return True
        return False

    t.require(wait_for("READY=1", 15), "no READY=1 in 15 s; got %r" % msgs)
    t.check(os.path.exists(os.path.join(d.run_dir, "submit.sock")),
            "READY=1 before submit.sock exists")
    t.check(os.path.exists(os.path.join(d.run_dir, "events.sock")),
            "READY=1 before events.sock exists")
    with d.client() as c:
        t.check(c.call("ping")["ok"], "ping after READY=1")
    d.send_signal(signal.SIGTERM)
    t.check(wait_for("STOPPING=1", 15), "no STOPPING=1 after SIGTERM; got %r" % msgs)
    t.eq(d.wait_exit(30), 0, "exit status")
    t.diag("notifications: %r" % msgs)


if __name__ == "__main__":
    run_tests()
