#!/usr/bin/python3
"""
test_export.py - nanti admin export and import through the real daemon: a ledger that has
lived (the demo county, cases at every step, deadlines and milestones fired by a clock
moved on, a request that changed nothing) exported and imported into an empty state
directory gives the same LMDB databases, byte for byte (compared with mdb_dump), and a
daemon on it goes on where the original stopped; an export taken under load imports; a
damaged or cut export is refused with its line and leaves the state directory as it was.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""
import json
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyclient import ROOT, new_id, read_log, restart_shifted, run_tests, test  # noqa: E402

NANTI = os.path.join(ROOT, "build", "nanti")
DEMO = os.path.join(ROOT, "build", "nanti-demo")


def nanti(*args, **kw):
    return subprocess.run([NANTI] + list(args), capture_output=True, text=True, timeout=300,
                          **kw)


def dump(state_dir):
    """Every named database of the ledger in state_dir, as mdb_dump prints it, less the
    map size (an import sizes its map from the file)."""
    r = subprocess.run(["mdb_dump", "-a", state_dir], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return [ln for ln in r.stdout.splitlines() if not ln.startswith("mapsize=")]


def export(t, d, path):
    r = nanti("admin", "export", path, "--state-dir", d.state_dir, "--json")
    t.require(r.returncode == 0, "export: %r" % r.stderr)
    return json.loads(r.stdout)


def lived(t):
    """A daemon whose ledger has lived: the demo county, then a clock 120 days on, so
    that deadlines, escalations, step limits and milestones have fired."""
    d = t.daemon()
    r = subprocess.run([DEMO, "--runtime-dir", d.run_dir, "--quiet"], capture_output=True,
                       text=True, timeout=120)
    t.require(r.returncode == 0, "demo: %r" % r.stderr)
    with d.client() as c:
        # a put that changes nothing: its id is recorded, with no log entry
        u = c.call("unit.get", unit="county")["unit"]
        r = c.write("unit.put", actor="admin", id="same-again", unit="county", name=u["name"],
                    kind="county")
        t.require(r["ok"] and "seq" in r, "a put that changes nothing: %r" % r)
    restart_shifted(t, d, 120)
    with d.client() as c:
        last = 0
        for _ in range(100):    # until the firings settle
            time.sleep(0.3)
            seq = c.call("ping")["seq"]
            if seq == last:
                break
            last = seq
        topics = {e["topic"] for e in read_log(c)[0]}
    t.require({"deadline.overdue", "campaign.missing", "step.overdue"} <= topics,
              "the clock moved on fired deadlines, milestones and step limits: %r" % topics)
    return d


@test("an export imported into an empty state directory gives the same databases byte for "
      "byte, and a daemon on it goes on where the original stopped")
def _(t):
    d = lived(t)
    with d.client() as c:
        first = read_log(c, limit=1)[0][0]
    d.stop()
    path = os.path.join(d.base, "ledger.jsonl")
    said = export(t, d, path)
    t.diag("export: %r, %d bytes" % (said, os.path.getsize(path)))
    with open(path) as f:
        lines = f.read().splitlines()
    t.eq(len(lines), said["lines"], "as many lines as it says")
    head = json.loads(lines[0])
    t.eq((head["nanti_export"], head["last_seq"]), (1, said["seq"]), "the header")
    entries = [json.loads(ln)["entry"] for ln in lines if ln.startswith('{"entry"')]
    t.eq([e["seq"] for e in entries], list(range(1, said["seq"] + 1)),
         "the log, entry by entry, in seq order")
    t.eq(json.loads(lines[-1]), {"end": {"lines": said["lines"] - 1}},
         "the end line counts the lines before it")

    e = t.daemon(start=False)
    r = nanti("admin", "import", path, "--state-dir", e.state_dir, "--json")
    t.require(r.returncode == 0, "import: %r" % r.stderr)
    got = json.loads(r.stdout)
    t.eq({k: got[k] for k in ("entries", "cases", "units", "people", "requests")},
         {k: said[k] for k in ("entries", "cases", "units", "people", "requests")},
         "import read what export wrote")
    a, b = dump(d.state_dir), dump(e.state_dir)
    t.diag("mdb_dump: %d lines each" % len(a))
    t.check(a == b, "every database equal, byte for byte (first difference at line %s)" %
            next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b))))

    e.start()
    with e.client() as c:
        r = c.write("unit.put", actor="admin", id="same-again", unit="county",
                    name=c.call("unit.get", unit="county")["unit"]["name"], kind="county")
        t.check(r["ok"] and r.get("duplicate") is True, "a retried id is still a duplicate: %r"
                % r)
        r = c.request({"op": "case.note", "id": first["id"], "actor": first["actor"],
                       "case": 1, "text": "another request under the first id"})
        t.eq(r.get("error", {}).get("code"), "conflict", "another request under a used id")
        lead = c.call("case.get", case=1, limit=1)["case"]["lead"]
        r = c.write("case.note", actor=lead, case=1, text="after the import")
        t.eq(r.get("seq"), said["seq"] + 1, "the log goes on from the export's last seq: %r"
             % r)
    again = os.path.join(e.base, "again.jsonl")
    e.stop()
    export(t, e, again)
    with open(again) as f:
        lines2 = f.read().splitlines()
    t.eq([ln for ln in lines2[1:said["seq"] + 1]], lines[1:said["seq"] + 1],
         "exported again, the imported log is the original's, line for line")


@test("an export taken while the daemon writes is one consistent point: it imports, and "
      "its log is the original's up to its last seq")
def _(t):
    d = t.daemon()
    d.build_county()
    stop = threading.Event()

    def load():
        with d.pipeline(window=32) as p:
            while not stop.is_set():
                p.run([{"op": "case.open", "id": new_id(), "actor": "wang.li",
                        "title": "load", "area": "development", "unit": "xiaxi",
                        "deadline_days": 30} for _ in range(200)], timeout=60)

    th = threading.Thread(target=load)
    th.start()
    time.sleep(0.5)
    path = os.path.join(d.base, "hot.jsonl")
    try:
        said = export(t, d, path)
    finally:
        stop.set()
        th.join()
    with d.client() as c:
        log = read_log(c)[0]
    t.check(said["seq"] < log[-1]["seq"], "the load went on after the export began")
    e = t.daemon(start=False)
    r = nanti("admin", "import", path, "--state-dir", e.state_dir)
    t.require(r.returncode == 0, "import: %r" % r.stderr)
    e.start()
    with e.client() as c:
        t.check(read_log(c)[0] == log[:said["seq"]], "the log up to the export's seq")


@test("export and import through a pipe, into a map too small that grows")
def _(t):
    d = t.daemon()
    r = subprocess.run([DEMO, "--runtime-dir", d.run_dir, "--quiet", "--scale", "full"],
                       capture_output=True, text=True, timeout=300)
    t.require(r.returncode == 0, "demo: %r" % r.stderr)
    e = t.daemon(start=False)
    # a pipe is copied to a file first: with a map of 1 MB, the import fills it, grows
    # it and reads the file again, several times
    r = subprocess.run("%s admin export - --state-dir %s | %s admin import - --state-dir %s "
                       "--map-size 1" % (NANTI, d.state_dir, NANTI, e.state_dir), shell=True,
                       capture_output=True, text=True, timeout=120)
    t.require(r.returncode == 0, "pipe: %r" % r.stderr)
    d.stop()
    t.check(dump(d.state_dir) == dump(e.state_dir), "equal databases")
    st = subprocess.run(["mdb_stat", "-e", e.state_dir], capture_output=True, text=True)
    size = int(re.search(r"Map size: (\d+)", st.stdout).group(1))
    t.check(size > 1 << 20, "the map grew from 1 MB (to %d bytes)" % size)


@test("an import killed before it commits leaves an empty ledger, which nantid serves "
      "empty and the next import fills")
def _(t):
    d = t.daemon()
    r = subprocess.run([DEMO, "--runtime-dir", d.run_dir, "--quiet", "--scale", "full"],
                       capture_output=True, text=True, timeout=300)
    t.require(r.returncode == 0, "demo: %r" % r.stderr)
    d.stop()
    path = os.path.join(d.base, "big.jsonl")
    export(t, d, path)
    # how long a whole import takes here, to kill the next one half way
    whole = t.daemon(start=False)
    began = time.monotonic()
    t.require(nanti("admin", "import", path, "--state-dir", whole.state_dir).returncode == 0,
              "a whole import")
    took = time.monotonic() - began
    t.diag("importing %d bytes took %.2f s" % (os.path.getsize(path), took))
    e = t.daemon(start=False)
    p = subprocess.Popen([NANTI, "admin", "import", path, "--state-dir", e.state_dir],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(took / 2)
    p.kill()
    p.wait()
    t.require(p.returncode == -9, "the import was killed before it finished (%r)"
              % p.returncode)
    e.start()
    with e.client() as c:
        t.eq(c.call("ping")["seq"], 0, "the killed import committed nothing")
    e.stop()
    r = nanti("admin", "import", path, "--state-dir", e.state_dir)
    t.require(r.returncode == 0, "import again: %r" % r.stderr)
    t.check(dump(d.state_dir) == dump(e.state_dir), "equal databases")


def damaged(t, lines, edit, expect):
    """Import lines after edit(lines) into a new state directory: refused, saying expect,
    and the directory holds no ledger afterwards."""
    e = t.daemon(start=False)
    path = os.path.join(e.base, "damaged.jsonl")
    with open(path, "w") as f:
        f.write("".join(ln + "\n" for ln in edit(list(lines))))
    r = nanti("admin", "import", path, "--state-dir", e.state_dir)
    t.check(r.returncode == 2 and expect in r.stderr,
            "%s: %d %r" % (expect, r.returncode, r.stderr))
    t.check(not os.path.exists(os.path.join(e.state_dir, "data.mdb")),
            "%s: no ledger left behind" % expect)


def edit_json(i, kind, change):
    def f(lines):
        obj = json.loads(lines[i])
        change(obj[kind])
        lines[i] = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        return lines
    return f


@test("a damaged, reordered or cut export is refused with its line, and the state "
      "directory is left as it was")
def _(t):
    d = t.daemon()
    d.build_county()
    with d.client() as c:
        r = c.write("case.open", title="a case", area="development", unit="xiaxi")
        c.write("case.note", case=r["case"], text="a note")
    path = os.path.join(d.base, "good.jsonl")
    export(t, d, path)
    with open(path) as f:
        lines = f.read().splitlines()
    first_unit = next(i for i, ln in enumerate(lines) if ln.startswith('{"unit"'))
    first_case = next(i for i, ln in enumerate(lines) if ln.startswith('{"case"'))
    last_entry = max(i for i, ln in enumerate(lines) if ln.startswith('{"entry"'))

    damaged(t, lines, lambda ls: ls[:-1], "without its end line: it was cut short")
    damaged(t, lines, lambda ls: ls[:5] + ls[6:], "line 6: the entry's seq must be 5")
    damaged(t, lines, lambda ls: ls[:3] + ["{not json"] + ls[4:], "line 4: not JSON")
    damaged(t, lines, lambda ls: [ls[0], ls[first_unit]] + ls[1:first_unit] +
            ls[first_unit + 1:], "line 3: a line of kind 'entry' after the 'unit' lines")
    damaged(t, lines, edit_json(first_case, "case", lambda c: c.update(events=7)),
            "line %d: case 1 counts 7 events; the log has 2" % (first_case + 1))
    damaged(t, lines, edit_json(first_case, "case", lambda c: c.update(title=5)),
            "line %d: a case: a field of the record has the wrong type" % (first_case + 1))
    damaged(t, lines, edit_json(last_entry, "entry", lambda e: e.update(at=0)),
            "line %d: entry" % (last_entry + 1))
    damaged(t, lines, lambda ls: ls[:-1] + ['{"end":{"lines":3}}'], "the end line counts")
    damaged(t, lines, lambda ls: ['{"hello":1}'] + ls[1:], "not a nanti export")
    damaged(t, lines, lambda ls: [ls[0].replace('"nanti_export":1', '"nanti_export":9')] +
            ls[1:], "this version of nanti reads format 1")
    damaged(t, lines, lambda ls: ls + ['{"entry":{}}'], "a line after the end line")

    # into a ledger that exists, and beside a daemon: refused, nothing touched
    r = nanti("admin", "import", path, "--state-dir", d.state_dir)
    t.check(r.returncode == 2 and "in use" in r.stderr, "beside a running daemon: %r"
            % r.stderr)
    d.stop()
    before = dump(d.state_dir)
    r = nanti("admin", "import", path, "--state-dir", d.state_dir)
    t.check(r.returncode == 2 and "already holds a ledger" in r.stderr,
            "into a ledger: %r" % r.stderr)
    t.check(dump(d.state_dir) == before, "the ledger is untouched")
    r = nanti("admin", "export", path, "--state-dir", d.state_dir)
    t.check(r.returncode == 2 and "exists" in r.stderr, "export over a file: %r" % r.stderr)


if __name__ == "__main__":
    run_tests()
