#!/usr/bin/python3
"""
test_systemd.py - nantid as a systemd service, through the real daemon and a NOTIFY_SOCKET
the test binds itself (no systemd here): READY=1 only once the timers missed while it was
down are caught up (requests are served meanwhile), STATUS= lines a person can read,
SIGHUP reloading the configuration and the calendars (RELOADING=1 then READY=1), a bad
new configuration refused with the old one kept; and --check-config.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyclient import (  # noqa: E402
    Notify, clock_shim, new_id, read_log, run_tests, test, today,
)

DAY = 86400


def open_cases(d, n, deadline):
    with d.pipeline(window=200) as p:
        replies = p.run([{"op": "case.open", "id": new_id(), "actor": "wang.li",
                          "title": "road %d" % i, "area": "development", "unit": "xiaxi",
                          "deadline": deadline} for i in range(n)], timeout=60)
    assert all(r["ok"] for r in replies)
    return [r["case"] for r in replies]


def firings(d):
    with d.client() as c:
        return [e for e in read_log(c)[0] if e.get("actor") == "nantid" and "case" in e]


@test("READY=1 comes once the timers missed while the daemon was down are fired and "
      "committed; requests are answered before it")
def _(t):
    d = t.daemon()
    d.build_county()
    open_cases(d, 1500, today())
    d.stop()
    n = Notify(t, d)
    d.env = dict(n.env(), LD_PRELOAD=clock_shim(t), NANTI_TEST_SHIFT_S=str(30 * DAY))
    d.start(wait=False)
    pinged_before = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not n.wait_for("READY=1", 0.01):
        try:
            with d.client(timeout=0.5) as c:
                pinged_before = pinged_before or (c.call("ping")["ok"] and
                                                  not n.wait_for("READY=1", 0))
        except Exception:
            pass
    t.require(n.wait_for("READY=1", 0), "no READY=1: %r" % n.msgs[-3:])
    at_ready = len(firings(d))
    time.sleep(1.5)
    t.eq(len(firings(d)), at_ready, "every missed firing was committed before READY=1")
    t.check(at_ready >= 1500 * 5, "the backlog: %d firings" % at_ready)
    t.check(pinged_before, "a ping was answered during the catch-up")
    t.check(n.wait_for("STATUS=", 3), "a STATUS line")
    status = [x for m in n.msgs for x in m.split("\n") if x.startswith("STATUS=")][-1]
    t.check("1500 cases" in status and "timers armed" in status and "last seq" in status,
            "STATUS: %r" % status)


@test("with WatchdogSec set, the main loop sends WATCHDOG=1 at half the interval")
def _(t):
    d = t.daemon(start=False)
    n = Notify(t, d)
    d.env = dict(n.env(), WATCHDOG_USEC="400000")
    d.start()
    t.require(n.wait_for("READY=1"), "READY=1")
    mark = len(n.msgs)
    time.sleep(2.0)
    n.drain(0)      # what came in those 2 s, not what comes while reading it
    pings = sum(m.split("\n").count("WATCHDOG=1") for m in n.msgs[mark:])
    t.check(3 <= pings <= 12, "WATCHDOG=1 %d times in 2 s at a 400 ms interval" % pings)


@test("the ipc socket files are readable and writable by the daemon's group, whatever the "
      "umask")
def _(t):
    d = t.daemon()
    for name in ("submit.sock", "events.sock"):
        mode = os.stat(os.path.join(d.run_dir, name)).st_mode & 0o777
        t.eq(oct(mode), oct(0o660), name)


@test("log lines about an entry carry its seq, case and actor (with --debug, one per "
      "entry committed)")
def _(t):
    d = t.daemon(start=False)
    d.args = ["--debug"]
    d.start()
    d.build_county()
    with d.client() as c:
        r = c.write("case.open", actor="wang.li", title="t", area="development", unit="xiaxi")
    d.stop()
    with open(d.log_path, errors="replace") as f:
        log = f.read()
    t.check("nantid: debug: seq %d, case %d, actor wang.li: case.opened" % (r["seq"], r["case"])
            in log, "the line: %r" % log[-600:])
    t.check("nantid: debug: seq 1, actor admin: unit.created" in log, "a unit's entry")


@test("SIGHUP reloads the configuration (RELOADING=1, then READY=1) without dropping a "
      "connection; a bad new configuration is refused and the old one stays")
def _(t):
    d = t.daemon(start=False)
    conf = d.configure("extension-max = 0\n")
    n = Notify(t, d)
    d.env = n.env()
    d.start()
    t.require(n.wait_for("READY=1"), "READY=1 at start")
    d.build_county()
    with d.client() as c:
        [k] = [c.write("case.open", actor="wang.li", title="t", area="development",
                       unit="xiaxi", deadline=today(5))["case"]]
        r = c.write("case.extend", actor="wang.li", case=k, until=today(9), reason="r")
        t.eq(r.get("error", {}).get("code"), "invalid_transition", "no extensions at first")
        with open(conf, "w") as f:
            f.write("extension-max = 2\n")
        mark = len(n.msgs)
        d.send_signal(signal.SIGHUP)
        t.check(n.wait_for("RELOADING=1", 10, mark), "RELOADING=1: %r" % n.msgs[mark:])
        t.check(n.wait_for("READY=1", 10, mark), "READY=1 after reloading")
        reloading = [m for m in n.msgs[mark:] if "RELOADING=1" in m][0]
        t.check("MONOTONIC_USEC=" in reloading, "with MONOTONIC_USEC: %r" % reloading)
        r = c.write("case.extend", actor="wang.li", case=k, until=today(9), reason="r")
        t.check(r["ok"], "the same connection, the new setting: %r" % r)
        # a bad file: refused, the old configuration stays
        with open(conf, "w") as f:
            f.write("extension-max = many\n")
        mark = len(n.msgs)
        d.send_signal(signal.SIGHUP)
        t.check(n.wait_for("READY=1", 10, mark), "READY=1 after a refused reload")
        r = c.write("case.decide_extension", actor="theme", case=k, approve=True)
        t.check(r["ok"], "still serving: %r" % r)
        r = c.write("case.extend", actor="wang.li", case=k, until=today(12), reason="r2")
        t.check(r["ok"], "extensions still allowed (the old configuration): %r" % r)
    d.stop()
    with open(d.log_path, errors="replace") as f:
        log = f.read()
    t.check("nantid.conf:1: invalid setting 'extension-max'" in log and
            "the new configuration was refused" in log, "the log says why")


@test("--check-config prints the effective configuration, which reads back the same; "
      "errors are listed with file and line and exit non-zero")
def _(t):
    d = t.daemon(start=False)
    conf = os.path.join(d.base, "nantid.conf")
    with open(conf, "w") as f:
        f.write("# a county\nreminder-hour = 8\ndeadline-ladder = theme_office:2\n"
                "step-limits.petition = plan:3\n")
    r = subprocess.run([d.binary, "--config", conf, "--check-config",
                        "--state-dir", "/tmp/x"], capture_output=True, text=True,
                       timeout=30)
    t.eq(r.returncode, 0, "valid: %r" % r.stderr)
    lines = r.stdout.splitlines()
    for want in ("reminder-hour = 8", "deadline-ladder = theme_office:2",
                 "step-limits.petition = plan:3",
                 "step-limits.problem = plan:5, commit:5, journal:10, verify:10",
                 "state-dir = /tmp/x", "time-zone = Asia/Shanghai",
                 "handling-limits = petition:60d"):
        t.check(want in lines, "%r in %r" % (want, lines))
    again = os.path.join(d.base, "again.conf")
    with open(again, "w") as f:
        f.write(r.stdout)
    r2 = subprocess.run([d.binary, "--config", again, "--check-config"],
                        capture_output=True, text=True, timeout=30)
    t.eq(r2.stdout.splitlines()[1:], lines[1:], "it reads back the same")
    with open(conf, "a") as f:
        f.write("no-such-key = 1\nextension-days = 0\nlisten-tcp\n")
    r = subprocess.run([d.binary, "--config", conf, "--check-config"], capture_output=True,
                       text=True, timeout=30)
    t.check(r.returncode != 0, "exit status %d" % r.returncode)
    for want in ("nantid.conf:5: invalid setting 'no-such-key'",
                 "nantid.conf:6: invalid setting 'extension-days'",
                 "nantid.conf:7: expected 'key = value'"):
        t.check(want in r.stderr, "%r in %r" % (want, r.stderr))
    t.eq(r.stdout, "", "nothing printed as the configuration")


if __name__ == "__main__":
    run_tests()
