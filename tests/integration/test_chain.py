#!/usr/bin/python3
"""
test_chain.py - the log's hash chain through the real daemon: every entry a subscriber,
log.read and the export see carries its hash, which anyone can recompute from the entry
(BLAKE2b-256 over the previous hash and the entry's other pairs); `nanti admin verify`
holds on a served ledger and names the head the heartbeat carries; an entry changed in
the ledger file is found at its seq, and nantid refuses to start on the ledger unless
told to.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""
import hashlib
import json
import os
import subprocess
import sys

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyclient import ROOT, context, read_log, run_tests, test  # noqa: E402

NANTI = os.path.join(ROOT, "build", "nanti")
DEMO = os.path.join(ROOT, "build", "nanti-demo")


def nanti(*args):
    return subprocess.run([NANTI] + list(args), capture_output=True, text=True, timeout=120)


def demo(t, d):
    r = subprocess.run([DEMO, "--runtime-dir", d.run_dir, "--quiet"], capture_output=True,
                       text=True, timeout=120)
    t.require(r.returncode == 0, "demo: %r" % r.stderr)


def raw_log(d):
    """The log as the bytes log.read sends: each entry's MessagePack, undecoded."""
    s = context().socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 10000)
    s.connect(d.submit)
    out, after = [], 0
    while True:
        s.send(msgpack.packb({"op": "log.read", "after": after, "limit": 1000}))
        body = s.recv()
        # find each item's bytes: decode the reply with an Unpacker over the raw items
        reply = msgpack.unpackb(body, raw=False)
        items = reply["items"]
        out.extend(msgpack.packb(e) for e in items)
        if not items or reply["next"] >= reply["seq"]:
            break
        after = reply["next"]
    s.close()
    return out


def recompute(entries):
    """Check each entry's hash as an outsider would, from the definition in protocol.md:
    BLAKE2b-256 over the previous hash (32 zero bytes first) and the entry's pairs but
    the last, as packed. Returns the head, or raises at the first entry that fails."""
    prev = bytes(32)
    for packed in entries:
        entry = msgpack.unpackb(packed, raw=False)
        keys = list(entry)
        assert keys[-1] == "hash", keys
        # the pairs before "hash", packed as the daemon packs them (smallest forms)
        content = b"".join(msgpack.packb(k) + msgpack.packb(entry[k]) for k in keys[:-1])
        h = hashlib.blake2b(prev + content, digest_size=32).digest()
        assert h.hex() == entry["hash"], "seq %d: %s != %s" % (entry["seq"], h.hex(),
                                                                entry["hash"])
        prev = h
    return prev.hex()


@test("every entry carries the hash of its content after the hash before it, which an "
      "outsider recomputes from log.read; verify holds and names the heartbeat's head")
def _(t):
    d = t.daemon()
    demo(t, d)
    entries = raw_log(d)
    t.require(len(entries) > 1000, "the demo county's log: %d entries" % len(entries))
    head = recompute(entries)
    r = nanti("admin", "verify", "--state-dir", d.state_dir, "--json")
    t.eq(r.returncode, 0, "verify beside the serving daemon: %r" % r.stderr)
    got = json.loads(r.stdout)
    t.eq((got["ok"], got["entries"], got["head"]), (True, len(entries), head),
         "verify: every entry, and the head an outsider computes")
    sub = context().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"heartbeat")
    sub.setsockopt(zmq.RCVTIMEO, 3000)
    sub.connect(d.events)
    beat = msgpack.unpackb(sub.recv_multipart()[1], raw=False)
    sub.close()
    t.eq((beat["last_seq"], beat["last_hash"]), (len(entries), head),
         "the heartbeat carries the head")


def change_entry(state_dir, seq, old, new):
    """Change bytes old to new inside log entry seq in the ledger file, as someone with
    access to the file would (mdb_dump, edit, mdb_load)."""
    dump = subprocess.run(["mdb_dump", "-s", "log", state_dir], capture_output=True,
                          text=True, check=True).stdout.split("\n")
    i = dump.index(" %016x" % seq)
    value = bytes.fromhex(dump[i + 1].strip())
    assert old in value and len(old) == len(new), (seq, old)
    dump[i + 1] = " " + value.replace(old, new, 1).hex()
    subprocess.run(["mdb_load", "-s", "log", state_dir], input="\n".join(dump), text=True,
                   capture_output=True, check=True)


@test("an entry changed in the ledger file is found by verify at its seq, and nantid "
      "refuses to start on the ledger unless --allow-broken-log")
def _(t):
    d = t.daemon()
    demo(t, d)
    with d.client() as c:
        log = read_log(c)[0]
    d.stop()
    victim = next(e for e in log if e["seq"] > 200 and e["topic"] == "case.opened")
    title = victim["title"].encode()
    change_entry(d.state_dir, victim["seq"], title, title[3:6] + title[:3] + title[6:])
    r = nanti("admin", "verify", "--state-dir", d.state_dir)
    t.eq(r.returncode, 6, "verify's exit status")
    t.check("breaks at seq %d" % victim["seq"] in r.stderr and
            "does not match its hash" in r.stderr, r.stderr)
    r = subprocess.run([d.binary, "--state-dir", d.state_dir, "--runtime-dir", d.run_dir],
                       capture_output=True, text=True, timeout=30)
    t.eq(r.returncode, 1, "nantid refuses to start")
    t.check("hash chain breaks at seq %d" % victim["seq"] in r.stderr and
            "--allow-broken-log" in r.stderr, r.stderr)
    d.args = list(d.args) + ["--allow-broken-log"]
    d.start()
    with d.client() as c:
        t.eq(c.call("ping")["seq"], log[-1]["seq"], "served anyway when told to")
    t.check("serving it anyway" in d.stderr(), d.stderr_tail())


@test("an export with a changed entry is refused by import at that entry")
def _(t):
    d = t.daemon()
    d.build_county()
    path = os.path.join(d.base, "e.jsonl")
    t.require(nanti("admin", "export", path, "--state-dir", d.state_dir).returncode == 0,
              "export")
    with open(path) as f:
        lines = f.read().splitlines()
    i = next(i for i, ln in enumerate(lines) if '"seq":5,' in ln)
    e = json.loads(lines[i])
    e["entry"]["actor"] = "someone.else"
    lines[i] = json.dumps(e, ensure_ascii=False, separators=(",", ":"))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    e2 = t.daemon(start=False)
    r = nanti("admin", "import", path, "--state-dir", e2.state_dir)
    t.check(r.returncode == 2 and "line %d: entry 5 does not match its hash" % (i + 1)
            in r.stderr, r.stderr)
    t.check(not os.path.exists(os.path.join(e2.state_dir, "data.mdb")), "nothing left")


if __name__ == "__main__":
    run_tests()
