#!/usr/bin/python3
"""
test_backup.py - nanti admin backup and restore through the real daemon: a copy taken
while the daemon is under load restores to a ledger whose log is the original's up to the
copy's seq; a copy of an idle ledger restores equal (every case, the whole log); neither
overwrites anything.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""
import json
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyclient import ROOT, new_id, read_log, run_tests, test  # noqa: E402

NANTI = os.path.join(ROOT, "build", "nanti")


def nanti(*args):
    return subprocess.run([NANTI] + list(args), capture_output=True, text=True, timeout=120)


def open_cases(d, n, tag):
    with d.pipeline(window=64) as p:
        replies = p.run([{"op": "case.open", "id": new_id(), "actor": "wang.li",
                          "title": "%s %d" % (tag, i), "area": "development",
                          "unit": "xiaxi"} for i in range(n)], timeout=120)
    assert all(r["ok"] for r in replies)


def everything(d):
    """The whole log and every case, as the daemon serves them."""
    with d.client() as c:
        log = read_log(c)[0]
        cases = {}
        after = 0
        while True:
            r = c.call("case.list", after=after, limit=1000)
            for s in r["items"]:
                cases[s["case"]] = c.call("case.get", case=s["case"], limit=1)["case"]
            if r.get("next") is None:
                break
            after = r["next"]
    return log, cases


def restored(t, path):
    """A daemon started on a fresh state directory restored from the copy at path."""
    d = t.daemon(start=False)
    r = nanti("admin", "restore", path, "--state-dir", d.state_dir, "--json")
    t.require(r.returncode == 0, "restore: %r" % r.stderr)
    d.start()
    return d, json.loads(r.stdout)


@test("a backup taken under load restores to the original's log up to its seq; one of an "
      "idle ledger restores equal, every case and the whole log")
def _(t):
    d = t.daemon()
    d.build_county()
    open_cases(d, 300, "before")
    load = threading.Thread(target=open_cases, args=(d, 3000, "during"))
    load.start()
    hot = os.path.join(d.base, "hot.mdb")
    r = nanti("admin", "backup", hot, "--state-dir", d.state_dir, "--json")
    load.join()
    t.require(r.returncode == 0, "backup: %r" % r.stderr)
    taken = json.loads(r.stdout)
    t.diag("hot backup at seq %d, %d bytes" % (taken["seq"], taken["bytes"]))
    log, cases = everything(d)
    t.check(taken["seq"] < log[-1]["seq"], "the load went on after the copy began")
    e, said = restored(t, hot)
    t.eq(said["seq"], taken["seq"], "restore says the copy's seq")
    rlog, rcases = everything(e)
    t.eq(rlog, log[:taken["seq"]], "the log up to the copy's seq, entry for entry")
    e.stop()
    # idle: equal in everything
    idle = os.path.join(d.base, "idle.mdb")
    r = nanti("admin", "backup", idle, "--state-dir", d.state_dir)
    t.require(r.returncode == 0, "backup: %r" % r.stderr)
    t.check("the ledger up to seq %d" % log[-1]["seq"] in r.stdout, r.stdout)
    e, _ = restored(t, idle)
    rlog, rcases = everything(e)
    t.eq(len(rcases), len(cases), "as many cases")
    t.check(rcases == cases, "every case equal")
    t.check(rlog == log, "the whole log equal")
    with e.client() as c:
        r = c.write("case.note", actor="wang.li", case=1, text="after the restore")
        t.eq(r.get("seq"), log[-1]["seq"] + 1, "it goes on from there: %r" % r)


@test("backup refuses to overwrite a file, and restore a state directory that holds a "
      "ledger")
def _(t):
    d = t.daemon()
    d.build_county()
    path = os.path.join(d.base, "copy.mdb")
    open(path, "w").close()
    r = nanti("admin", "backup", path, "--state-dir", d.state_dir)
    t.check(r.returncode == 2 and "exists" in r.stderr, "backup: %d %r" % (r.returncode,
                                                                             r.stderr))
    os.unlink(path)
    t.eq(nanti("admin", "backup", path, "--state-dir", d.state_dir).returncode, 0, "backup")
    r = nanti("admin", "restore", path, "--state-dir", d.state_dir)
    t.check(r.returncode == 2 and "already holds a ledger" in r.stderr,
            "restore: %d %r" % (r.returncode, r.stderr))
    junk = os.path.join(d.base, "junk")
    with open(junk, "w") as f:
        f.write("not a ledger")
    r = nanti("admin", "restore", junk, "--state-dir", os.path.join(d.base, "new"))
    t.check(r.returncode == 2 and "not a ledger copy" in r.stderr,
            "restore of junk: %d %r" % (r.returncode, r.stderr))


if __name__ == "__main__":
    run_tests()
