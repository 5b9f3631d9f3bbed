"""
The independent-client test: pyclient.py was written from docs/protocol.md alone, and
here it exercises every op, reply key and error code the document promises, against the
real daemon on a fresh directory per test. A failure here means the daemon and the
document disagree (or the document is ambiguous): fix whichever is wrong, not the test.
"""

import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import zmq  # noqa: E402

from pyclient import (  # noqa: E402
    Pipeline, ReqClient, Subscriber, check_reply, context, decode, encode, error_code,
    list_cases, mp_int, mp_map_raw, mp_uint, new_id, now_ms, read_log, run_tests, test,
    valid_id)

ACTOR = "wang.li"


def ping_seq(c):
    r = c.call("ping")
    assert r["ok"], r
    return r["seq"]


def open_case(c, actor=ACTOR, **fields):
    fields.setdefault("title", "Village road to Xiaxi washed out")
    r = c.write("case.open", actor=actor, **fields)
    assert r["ok"], r
    return r


def note(c, case, text="visited the site", actor=ACTOR):
    r = c.write("case.note", actor=actor, case=case, text=text)
    assert r["ok"], r
    return r


def expect_error(t, c, req, code, what, names=None):
    """Send req, check the reply is an error with code, echoes a valid id, names the
    problem (the message mentions names, if given), and that the ledger did not move."""
    before = ping_seq(c)
    r = c.request(req)
    ok = t.check(not r["ok"] and error_code(r) == code,
                 "%s: want %s, got %r" % (what, code, r))
    if ok and names is not None:
        ok &= t.check(names in r["error"]["message"],
                      "%s: the message does not name %r: %r" % (what, names, r))
    if valid_id(req.get("id")):
        ok &= t.check(r.get("id") == req["id"], "%s: id not echoed: %r" % (what, r))
    ok &= t.check(ping_seq(c) == before, "%s: the ledger moved" % what)
    return ok


def wreq(op, **fields):
    req = {"op": op, "id": new_id(), "actor": ACTOR}
    req.update(fields)
    return req


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def sane_ms(v):
    return is_int(v) and abs(v - now_ms()) < 24 * 3600 * 1000


# ---------------------------------------------------------------------------------------
# ping, stats

@test("ping on an empty ledger answers seq 0, a version and the time")
def _(t):
    d = t.daemon()
    with d.client() as c:
        r = c.call("ping")
        t.check(r["ok"], r)
        t.eq(r.get("seq"), 0, "seq")
        t.check(isinstance(r.get("version"), str) and r["version"] != "",
                "version: %r" % r.get("version"))
        t.check(sane_ms(r.get("now")), "now is not Unix ms: %r" % r.get("now"))
        t.check("id" not in r, "id in the reply of a request without one: %r" % r)
        t.check("duplicate" not in r, "duplicate in a ping reply: %r" % r)


@test("stats answers seq, cases, commits, events, last_commit_us and uptime_ms")
def _(t):
    d = t.daemon()
    with d.client() as c:
        r = c.call("stats")
        t.check(r["ok"], r)
        for k in ("seq", "cases", "commits", "events", "last_commit_us", "uptime_ms"):
            t.check(is_int(r.get(k)) and r[k] >= 0, "stats.%s: %r" % (k, r.get(k)))
        t.eq(r.get("cases"), 0, "cases on an empty ledger")
        t.eq(r.get("events"), 0, "events on an empty ledger")
        commits0 = r.get("commits", 0)
        a = open_case(c)
        note(c, a["case"])
        open_case(c)
        r = c.call("stats")
        t.eq(r.get("seq"), 3, "seq")
        t.eq(r.get("cases"), 2, "cases")
        t.eq(r.get("events"), 3, "events")
        t.check(is_int(r.get("commits")) and 1 <= r["commits"] - commits0 <= 3,
                "commits went from %r to %r over 3 sequential writes"
                % (commits0, r.get("commits")))


# ---------------------------------------------------------------------------------------
# case.open, case.note, case.get

@test("case.open answers seq, id and case, and case ids go 1, 2, 3 in order of opening")
def _(t):
    d = t.daemon()
    with d.client() as c:
        for i in range(1, 6):
            rid = new_id()
            r = c.write("case.open", id=rid, title="problem %d" % i)
            t.check(r["ok"], r)
            t.eq(r.get("id"), rid, "echoed id")
            t.eq(r.get("case"), i, "case id of opening %d" % i)
            t.eq(r.get("seq"), i, "seq of opening %d" % i)
            t.check("duplicate" not in r, "duplicate in a first reply: %r" % r)
        t.eq(ping_seq(c), 5, "ping seq")


@test("case.open fills the defaults: kind problem, lead the actor, no tags")
def _(t):
    d = t.daemon()
    with d.client() as c:
        r = open_case(c, actor="li.ming", title="School roof leaks")
        g = c.call("case.get", case=r["case"])
        t.check(g["ok"], g)
        cs = g["case"]
        t.eq(cs.get("kind"), "problem", "kind")
        t.eq(cs.get("lead"), "li.ming", "lead")
        t.eq(cs.get("tags"), [], "tags")
        t.check("description" not in cs, "description present though not set: %r" % cs)
        t.check("unit" not in cs, "unit present though not set: %r" % cs)
        t.eq(cs.get("opened_by"), "li.ming", "opened_by")


@test("case.get returns every documented key of the case")
def _(t):
    d = t.daemon()
    with d.client() as c:
        before = now_ms()
        r = open_case(c, title="Petition backlog at 田市镇", description="three families",
                      kind="petition", unit="田市镇", lead="zhao.hua",
                      tags=["信访", "land"])
        after = now_ms()
        g = c.call("case.get", case=r["case"])
        t.check(g["ok"], g)
        t.eq(g.get("seq"), 1, "seq of the read")
        cs = g["case"]
        want = {"id": r["case"], "kind": "petition", "title": "Petition backlog at 田市镇",
                "description": "three families", "unit": "田市镇", "lead": "zhao.hua",
                "tags": ["信访", "land"], "status": "open", "opened_by": ACTOR,
                "opened_seq": 1, "updated_seq": 1, "note_count": 0, "notes": []}
        for k, v in want.items():
            t.eq(cs.get(k), v, "case." + k)
        t.check(is_int(cs.get("opened_at")) and before - 1000 <= cs["opened_at"] <= after + 1000,
                "opened_at %r not between %d and %d" % (cs.get("opened_at"), before, after))
        t.eq(cs.get("updated_at"), cs.get("opened_at"), "updated_at of an untouched case")


@test("case.note numbers notes within each case from 1 and case.get shows them oldest first")
def _(t):
    d = t.daemon()
    with d.client() as c:
        a = open_case(c)["case"]
        b = open_case(c)["case"]
        n1 = c.write("case.note", case=a, text="first on a")
        t.check(n1["ok"], n1)
        t.eq((n1.get("case"), n1.get("note"), n1.get("seq")), (a, 1, 3), "(case, note, seq)")
        n2 = c.write("case.note", actor="li.ming", case=b, text="first on b")
        t.eq((n2.get("case"), n2.get("note")), (b, 1), "(case, note) on b")
        n3 = c.write("case.note", case=a, text="second on a")
        t.eq((n3.get("case"), n3.get("note")), (a, 2), "(case, note) second on a")
        t.check(isinstance(n3.get("id"), str), "case.note reply without id: %r" % n3)
        g = c.call("case.get", case=a)["case"]
        t.eq(g.get("note_count"), 2, "note_count")
        t.eq(g.get("updated_seq"), n3["seq"], "updated_seq")
        t.check(g.get("updated_at", 0) >= g.get("opened_at", 1), "updated_at < opened_at")
        notes = g.get("notes", [])
        t.eq([n.get("note") for n in notes], [1, 2], "note numbers")
        t.eq([n.get("text") for n in notes], ["first on a", "second on a"], "note texts")
        t.eq([n.get("seq") for n in notes], [n1["seq"], n3["seq"]], "note seqs")
        for n in notes:
            t.eq(n.get("actor"), ACTOR, "note actor")
            t.check(sane_ms(n.get("at")), "note at: %r" % n.get("at"))
        gb = c.call("case.get", case=b)["case"]
        t.eq([(n.get("note"), n.get("actor")) for n in gb.get("notes", [])], [(1, "li.ming")],
             "notes of b")


@test("case.get shows only the last 100 notes, oldest first")
def _(t):
    d = t.daemon()
    with d.client() as c, d.pipeline(window=20) as p:
        k = open_case(c)["case"]
        reps = p.run([wreq("case.note", case=k, text="note %d" % i) for i in range(1, 106)])
        t.require(all(r["ok"] for r in reps), "a note failed")
        t.eq(sorted(r["note"] for r in reps), list(range(1, 106)), "note numbers 1..105")
        g = c.call("case.get", case=k)["case"]
        t.eq(g.get("note_count"), 105, "note_count")
        t.eq([n.get("note") for n in g.get("notes", [])], list(range(6, 106)),
             "the last 100 notes")
        by_note = {r["note"]: r for r in reps}
        t.check(all(n.get("text") == "note %d" % n["note"] for n in g.get("notes", [])),
                "note texts do not match their numbers")
        t.check(all(n.get("seq") == by_note[n["note"]]["seq"] for n in g.get("notes", [])),
                "note seqs differ from the replies")


@test("a missing case is not_found for case.get and case.note, with the id echoed")
def _(t):
    d = t.daemon()
    with d.client() as c:
        expect_error(t, c, {"op": "case.get", "case": 1}, "not_found", "get on empty ledger")
        open_case(c)
        expect_error(t, c, {"op": "case.get", "case": 2, "id": new_id()}, "not_found",
                     "get of case 2")
        expect_error(t, c, wreq("case.note", case=42, text="x"), "not_found", "note on 42")
        expect_error(t, c, wreq("case.note", case=2 ** 64 - 1, text="x"), "not_found",
                     "note on 2^64-1")


@test("an unknown op is unknown_op with the id echoed")
def _(t):
    d = t.daemon()
    with d.client() as c:
        expect_error(t, c, wreq("case.close", case=1), "unknown_op", "case.close")
        expect_error(t, c, {"op": "no.such.op", "id": new_id()}, "unknown_op", "no.such.op")
        expect_error(t, c, {"op": "PING"}, "unknown_op", "PING")


# ---------------------------------------------------------------------------------------
# bad_request

@test("an unknown key is bad_request for every op")
def _(t):
    d = t.daemon()
    with d.client() as c:
        k = open_case(c)["case"]
        for req in ({"op": "ping", "x": 1},
                    {"op": "stats", "verbose": True},
                    wreq("case.open", title="t", status="open"),
                    wreq("case.note", case=k, text="t", note=1),
                    {"op": "case.get", "case": k, "notes": 5},
                    {"op": "case.list", "offset": 0},
                    {"op": "log.read", "before": 10},
                    {"op": "ping", "id": new_id(), "Actor": "x"}):
            expect_error(t, c, req, "bad_request", "unknown key in %s" % req["op"])


@test("a value of the wrong type is bad_request")
def _(t):
    d = t.daemon()
    with d.client() as c:
        k = open_case(c)["case"]
        cases = [
            ({"op": 1}, "op int"),
            ({"op": b"ping"}, "op bin"),
            ({"op": "ping", "id": 5}, "id int"),
            (dict(wreq("case.open", title="t"), actor=["wang"]), "actor array"),
            (wreq("case.open", title=5), "title int"),
            (wreq("case.open", title=b"bytes"), "title bin"),
            (wreq("case.open", title=None), "title nil"),
            (wreq("case.open", title="t", tags="one"), "tags str"),
            (wreq("case.open", title="t", tags=["a", 2]), "tags with an int"),
            (wreq("case.open", title="t", description=1.5), "description float"),
            (wreq("case.open", title="t", unit={"a": 1}), "unit map"),
            (wreq("case.note", case=str(k), text="t"), "case str"),
            (wreq("case.note", case=1.0, text="t"), "case float"),
            (wreq("case.note", case=True, text="t"), "case bool"),
            (wreq("case.note", case=k, text=["t"]), "text array"),
            ({"op": "case.get", "case": "1"}, "case.get case str"),
            ({"op": "case.list", "after": "0"}, "after str"),
            ({"op": "case.list", "limit": 2.0}, "limit float"),
            ({"op": "case.list", "kind": 1}, "kind int"),
            ({"op": "log.read", "topic": 1}, "topic int"),
        ]
        for req, what in cases:
            expect_error(t, c, req, "bad_request", what)


@test("a missing required key is bad_request")
def _(t):
    d = t.daemon()
    with d.client() as c:
        k = open_case(c)["case"]
        cases = [
            ({"id": new_id()}, "no op"),
            ({"op": "case.open", "actor": ACTOR, "title": "t"}, "case.open without id"),
            ({"op": "case.open", "id": new_id(), "title": "t"}, "case.open without actor"),
            (wreq("case.open"), "case.open without title"),
            ({"op": "case.note", "actor": ACTOR, "case": k, "text": "t"},
             "case.note without id"),
            ({"op": "case.note", "id": new_id(), "case": k, "text": "t"},
             "case.note without actor"),
            (wreq("case.note", text="t"), "case.note without case"),
            (wreq("case.note", case=k), "case.note without text"),
            ({"op": "case.get"}, "case.get without case"),
        ]
        for req, what in cases:
            expect_error(t, c, req, "bad_request", what)


@test("values beyond the documented limits are bad_request, naming the key")
def _(t):
    d = t.daemon()
    with d.client() as c:
        k = open_case(c)["case"]
        cases = [
            (wreq("case.open", title="安" * 67), "title of 201 bytes (67 chars)", "title"),
            (wreq("case.open", title="x" * 201), "title of 201 bytes", "title"),
            (wreq("case.open", title=""), "empty title", "title"),
            (wreq("case.open", title="t", description="d" * 4097), "description 4097",
             "description"),
            (wreq("case.open", title="t", kind="complaint"), "kind not in the list", "kind"),
            (wreq("case.open", title="t", kind="Problem"), "kind with a capital", "kind"),
            (wreq("case.open", title="t", unit="u" * 65), "unit of 65 bytes", "unit"),
            (wreq("case.open", title="t", unit=""), "empty unit", "unit"),
            (wreq("case.open", title="t", lead="l" * 65), "lead of 65 bytes", "lead"),
            (wreq("case.open", title="t", lead=""), "empty lead", "lead"),
            (wreq("case.open", title="t", tags=["t%d" % i for i in range(17)]), "17 tags",
             "tags"),
            (wreq("case.open", title="t", tags=["x" * 33]), "tag of 33 bytes", "tag"),
            (wreq("case.open", title="t", tags=[""]), "empty tag", "tag"),
            (dict(wreq("case.open", title="t"), id="i" * 65), "id of 65 bytes", "id"),
            (dict(wreq("case.open", title="t"), id=""), "empty id", "id"),
            (dict(wreq("case.open", title="t"), actor="a" * 65), "actor of 65 bytes", "actor"),
            (dict(wreq("case.open", title="t"), actor=""), "empty actor", "actor"),
            (wreq("case.note", case=k, text="n" * 4097), "text of 4097 bytes", "text"),
            (wreq("case.note", case=k, text=""), "empty text", "text"),
            ({"op": "case.list", "limit": 0}, "case.list limit 0", "limit"),
            ({"op": "case.list", "limit": 1001}, "case.list limit 1001", "limit"),
            ({"op": "log.read", "limit": 0}, "log.read limit 0", "limit"),
            ({"op": "log.read", "limit": 1001}, "log.read limit 1001", "limit"),
            ({"op": "log.read", "topic": "t" * 65}, "log.read topic of 65 bytes", "topic"),
            ({"op": "log.read", "after": -1}, "log.read after -1", "after"),
            ({"op": "case.list", "after": -1}, "case.list after -1", "after"),
            ({"op": "case.get", "case": -1}, "case.get case -1", "case"),
            ({"op": "ping", "id": "i" * 65}, "ping with an id of 65 bytes", "id"),
            ({"op": "ping", "k" * 65: 1}, "a key of 65 bytes", None),
            ({"op": "ping", "": 1}, "an empty key", None),
        ]
        for req, what, key in cases:
            expect_error(t, c, req, "bad_request", what, names=key)


@test("values at the documented limits are accepted")
def _(t):
    d = t.daemon()
    with d.client() as c:
        rid = "i" * 64
        r = c.write("case.open", id=rid, actor="a" * 64, title="安" * 66 + "ab",
                    description="d" * 4096, kind="village", unit="u" * 64, lead="l" * 64,
                    tags=["%02d" % i + "x" * 30 for i in range(16)])
        t.check(r["ok"], "case.open at every limit: %r" % r)
        t.eq(r.get("id"), rid, "64-byte id echoed")
        if r["ok"]:
            g = c.call("case.get", case=r["case"])["case"]
            t.eq(g.get("title"), "安" * 66 + "ab", "200-byte title")
            t.eq(len(g.get("tags", [])), 16, "16 tags")
            t.eq(g.get("description"), "d" * 4096, "4096-byte description")
            n = c.write("case.note", case=r["case"], text="n" * 4096)
            t.check(n["ok"], "4096-byte note: %r" % n)
        for kind in ("problem", "petition", "household", "village"):
            r = c.write("case.open", title="k", kind=kind)
            t.check(r["ok"], "kind %s: %r" % (kind, r))
        for req in ({"op": "case.list", "limit": 1}, {"op": "case.list", "limit": 1000},
                    {"op": "log.read", "limit": 1}, {"op": "log.read", "limit": 1000},
                    {"op": "log.read", "topic": "t" * 64}, {"op": "log.read", "topic": ""},
                    {"op": "ping", "id": "p" * 64, "actor": "q" * 64}):
            r = c.request(req)
            t.check(r["ok"], "%r: %r" % ({k: v for k, v in req.items()}, r))


@test("reads accept id and actor and echo the id")
def _(t):
    d = t.daemon()
    with d.client() as c:
        k = open_case(c)["case"]
        for op, extra in (("ping", {}), ("stats", {}), ("case.get", {"case": k}),
                          ("case.list", {}), ("log.read", {})):
            rid = new_id()
            r = c.call(op, id=rid, actor=ACTOR, **extra)
            t.check(r["ok"], "%s: %r" % (op, r))
            t.eq(r.get("id"), rid, "%s echoed id" % op)
            # a read is not recorded: the same id again is not a duplicate
            r2 = c.call(op, id=rid, actor=ACTOR, **extra)
            t.check(r2["ok"] and "duplicate" not in r2, "%s again: %r" % (op, r2))
        t.eq(ping_seq(c), 1, "reads changed the ledger")


@test("integers in any wider encoding are accepted")
def _(t):
    d = t.daemon()
    with d.client() as c:
        open_case(c)
        encs = [mp_uint(1, 0), mp_uint(1, 1), mp_uint(1, 2), mp_uint(1, 4), mp_uint(1, 8),
                mp_int(1, 1), mp_int(1, 2), mp_int(1, 4), mp_int(1, 8)]
        for e in encs:
            body = mp_map_raw([("op", "case.get"), ("case", e)])
            r = check_reply(decode(c.send_raw(body)))
            t.check(r["ok"] and r["case"].get("id") == 1,
                    "case 1 encoded as %s: %r" % (e.hex(), r))
            body = mp_map_raw([("op", "log.read"), ("limit", e)])
            r = check_reply(decode(c.send_raw(body)))
            t.check(r["ok"] and len(r["items"]) == 1,
                    "limit 1 encoded as %s: %r" % (e.hex(), r))


@test("UTF-8 text round-trips unchanged")
def _(t):
    d = t.daemon()
    with d.client() as c:
        title = "走进矛盾、破解难题 — 安岭乡 🚧"
        r = open_case(c, title=title, unit="安岭乡", lead="王立", actor="王立",
                      tags=["民生", "道路"])
        n = note(c, r["case"], text="民主恳谈 ✓ ok\n第二行", actor="赵华")
        g = c.call("case.get", case=r["case"])["case"]
        t.eq(g.get("title"), title, "title")
        t.eq(g.get("unit"), "安岭乡", "unit")
        t.eq(g.get("lead"), "王立", "lead")
        t.eq(g.get("tags"), ["民生", "道路"], "tags")
        t.eq(g["notes"][0].get("text"), "民主恳谈 ✓ ok\n第二行", "note text")
        t.eq(g["notes"][0].get("actor"), "赵华", "note actor")
        items, _ = read_log(c)
        t.eq(items[1].get("text"), "民主恳谈 ✓ ok\n第二行", "log text")
        t.eq(n["note"], 1, "note number")


# ---------------------------------------------------------------------------------------
# sockets and pipelining

@test("REQ and DEALER sockets are both served")
def _(t):
    d = t.daemon()
    with d.client() as c, d.pipeline() as p:
        r1 = c.write("case.open", title="via REQ")
        t.check(r1["ok"], r1)
        rid = p.send(wreq("case.open", title="via DEALER"))
        r2 = p.wait(rid)
        t.check(r2["ok"], r2)
        t.eq({r1.get("case"), r2.get("case")}, {1, 2}, "case ids")
        rid = p.send({"op": "ping"})
        r3 = p.wait(rid)
        t.check(r3["ok"] and r3.get("seq") == 2, "ping over DEALER: %r" % r3)


@test("pipelined requests on one DEALER get their replies matched by echoed id")
def _(t):
    d = t.daemon()
    with d.client() as c, d.pipeline(window=300) as p:
        reqs = []
        for i in range(300):
            if i % 3 == 2:
                reqs.append({"op": "ping", "id": new_id()})
            else:
                reqs.append(wreq("case.open", title="pipelined %d" % i))
        reps = p.run(reqs)
        t.eq(p.stray, [], "stray replies")
        for req, rep in zip(reqs, reps):
            t.check(rep["ok"] and rep.get("id") == req["id"], "%r -> %r" % (req, rep))
        opens = [rep for req, rep in zip(reqs, reps) if req["op"] == "case.open"]
        t.eq(sorted(r["case"] for r in opens), list(range(1, 201)), "case ids")
        t.eq(sorted(r["seq"] for r in opens), list(range(1, 201)), "seqs")
        # each reply names the case its own title went to
        for req, rep in zip(reqs, reps):
            if req["op"] == "case.open":
                g = c.call("case.get", case=rep["case"])["case"]
                if not t.eq(g.get("title"), req["title"], "title of case %d" % rep["case"]):
                    break
        # nothing more arrives
        t.check(not p.sock.poll(300), "an extra reply arrived")


@test("a ROUTER-to-ROUTER envelope comes back intact")
def _(t):
    d = t.daemon()
    s = context().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    t.defer(s.close)
    s.connect(d.submit)
    for env in ([b"hop-1", b""], [b"\x00\x01\x02", b"client-7", b""], [b""]):
        rid = new_id()
        s.send_multipart(env + [encode({"op": "ping", "id": rid})])
        t.require(s.poll(10000), "no reply to envelope %r" % env)
        frames = s.recv_multipart()
        t.eq(frames[:-1], env, "envelope")
        r = check_reply(decode(frames[-1]))
        t.check(r["ok"] and r.get("id") == rid, "reply %r" % r)


# ---------------------------------------------------------------------------------------
# idempotency

@test("a repeated id returns the original reply with duplicate:true and changes nothing")
def _(t):
    d = t.daemon()
    with d.client() as c, d.pipeline() as p:
        req = wreq("case.open", title="once", tags=["a"])
        r1 = c.request(req)
        t.check(r1["ok"], r1)
        open_case(c, title="another")
        r2 = c.request(req)
        t.eq(r2, dict(r1, duplicate=True), "repeat over REQ")
        nreq = wreq("case.note", case=r1["case"], text="hello")
        n1 = c.request(nreq)
        n2 = c.request(nreq)
        t.eq(n2, dict(n1, duplicate=True), "repeated note")
        # over DEALER, and several copies in flight at once
        rid = p.send(dict(req))
        t.eq(p.wait(rid), dict(r1, duplicate=True), "repeat over DEALER")
        nreq2 = wreq("case.note", case=r1["case"], text="burst")
        s = p.sock
        for _ in range(5):
            s.send_multipart([b"", encode(nreq2)])
        reps = []
        for _ in range(5):
            t.require(s.poll(10000), "a reply to the burst is missing")
            f = s.recv_multipart()
            reps.append(check_reply(decode(f[-1]), nreq2["id"]))
        firsts = [r for r in reps if "duplicate" not in r]
        t.eq(len(firsts), 1, "replies without duplicate among 5 copies")
        t.check(all(r["ok"] for r in reps), "a copy failed: %r" % reps)
        if firsts:
            t.check(all(r == dict(firsts[0], duplicate=True) for r in reps if r is not firsts[0]),
                    "copies differ: %r" % reps)
        t.eq(ping_seq(c), 4, "seq after 4 distinct writes")
        items, _ = read_log(c)
        t.eq(len([e for e in items if e.get("id") == nreq2["id"]]), 1, "log entries of the burst id")


@test("a repeated id returns the original reply after a restart")
def _(t):
    d = t.daemon()
    with d.client() as c:
        req = wreq("case.open", title="before restart")
        r1 = c.request(req)
        nreq = wreq("case.note", case=r1["case"], text="n")
        n1 = c.request(nreq)
    t.eq(d.stop(), 0, "exit status after SIGTERM")
    d.restart()
    with d.client() as c:
        t.eq(c.request(req), dict(r1, duplicate=True), "case.open after SIGTERM restart")
        t.eq(c.request(nreq), dict(n1, duplicate=True), "case.note after SIGTERM restart")
    d.kill9()
    d.restart()
    with d.client() as c:
        t.eq(c.request(req), dict(r1, duplicate=True), "case.open after kill -9 restart")
        t.eq(ping_seq(c), 2, "seq")


@test("the same id with a different body is a conflict naming the original seq")
def _(t):
    d = t.daemon()
    with d.client() as c:
        open_case(c)
        req = wreq("case.open", title="original")
        r1 = c.request(req)
        t.eq(r1.get("seq"), 2, "seq of the original")
        for other, what in ((dict(req, title="changed"), "another title"),
                            (dict(req, kind="village"), "an added key"),
                            (dict(req, actor="someone.else"), "another actor"),
                            ({"op": "case.note", "id": req["id"], "actor": ACTOR, "case": 1,
                              "text": "x"}, "another op")):
            r = c.request(other)
            if expect_code(t, r, "conflict", what):
                t.eq(r.get("id"), req["id"], "%s: echoed id" % what)
                t.check("2" in r["error"]["message"],
                        "%s: message does not name seq 2: %r" % (what, r["error"]["message"]))
        t.eq(ping_seq(c), 2, "the ledger moved")
        t.eq(c.request(req), dict(r1, duplicate=True), "the original still repeats")


def expect_code(t, r, code, what):
    return t.check(not r["ok"] and error_code(r) == code, "%s: want %s, got %r" % (what, code, r))


@test("a failed request's id can be used again")
def _(t):
    d = t.daemon()
    with d.client() as c:
        rid = new_id()
        r = c.write("case.note", id=rid, case=7, text="no such case")
        expect_code(t, r, "not_found", "note on a missing case")
        r = c.write("case.open", id=rid, title="")
        expect_code(t, r, "bad_request", "empty title")
        r = c.write("case.open", id=rid, title="now valid")
        t.check(r["ok"] and "duplicate" not in r, "reuse of a failed id: %r" % r)


# ---------------------------------------------------------------------------------------
# the log

@test("log seqs run 1..N without a gap, at never decreases, each entry carries its request id")
def _(t):
    d = t.daemon()
    with d.client() as c, d.pipeline(window=50) as p:
        reqs = [wreq("case.open", title="c%d" % i) for i in range(40)]
        reps = p.run(reqs)
        reqs2 = [wreq("case.note", case=1 + i % 40, text="n%d" % i) for i in range(160)]
        reps += p.run(reqs2)
        reqs += reqs2
        t.require(all(r["ok"] for r in reps), "a write failed")
        items, cursor = read_log(c, limit=37)
        t.eq([e.get("seq") for e in items], list(range(1, 201)), "seqs")
        t.eq(cursor, 200, "cursor")
        t.check(all(a["at"] <= b["at"] for a, b in zip(items, items[1:])), "at decreases")
        by_seq = {e["seq"]: e for e in items}
        for req, rep in zip(reqs, reps):
            e = by_seq.get(rep["seq"], {})
            if not t.eq(e.get("id"), req["id"], "id of entry %d" % rep["seq"]):
                break
            t.eq(e.get("case"), rep["case"], "case of entry %d" % rep["seq"])


@test("log entries carry the documented keys of case.opened and case.noted")
def _(t):
    d = t.daemon()
    with d.client() as c:
        r1 = c.write("case.open", id="0193a1b2c3d4-7f3a9c", actor="wang.li",
                     title="Village road to Xiaxi washed out", unit="安岭乡", kind="problem")
        t.eq(r1, {"ok": True, "seq": 1, "id": "0193a1b2c3d4-7f3a9c", "case": 1},
             "the reply of section 9")
        r2 = c.write("case.open", actor="li.ming", title="full", description="d",
                     kind="household", unit="埠头镇", lead="zhao.hua", tags=["x", "y"])
        n = c.write("case.note", actor="zhao.hua", case=2, text="visited")
        items, _ = read_log(c)
        t.require(len(items) == 3, "log has %d entries" % len(items))
        e1, e2, e3 = items
        t.eq({k: e1.get(k) for k in ("seq", "topic", "case", "actor", "id", "kind", "title",
                                      "unit", "lead", "tags")},
             {"seq": 1, "topic": "case.opened", "case": 1, "actor": "wang.li",
              "id": "0193a1b2c3d4-7f3a9c", "kind": "problem",
              "title": "Village road to Xiaxi washed out", "unit": "安岭乡",
              "lead": "wang.li", "tags": []}, "entry 1 (section 9)")
        t.check("description" not in e1, "absent description present: %r" % e1)
        r4 = c.write("case.open", title="no unit")
        e4 = c.call("log.read", after=3)["items"][0]
        t.check(e4.get("id") == r4["id"] and "unit" not in e4 and "description" not in e4,
                "absent unit or description present: %r" % e4)
        t.check(sane_ms(e1.get("at")), "at: %r" % e1.get("at"))
        t.eq({k: e2.get(k) for k in ("seq", "topic", "case", "actor", "id", "kind", "title",
                                      "description", "unit", "lead", "tags")},
             {"seq": 2, "topic": "case.opened", "case": 2, "actor": "li.ming", "id": r2["id"],
              "kind": "household", "title": "full", "description": "d", "unit": "埠头镇",
              "lead": "zhao.hua", "tags": ["x", "y"]}, "entry 2")
        t.eq({k: e3.get(k) for k in ("seq", "topic", "case", "actor", "id", "note", "text")},
             {"seq": 3, "topic": "case.noted", "case": 2, "actor": "zhao.hua", "id": n["id"],
              "note": 1, "text": "visited"}, "entry 3")


@test("log.read filters by topic prefix and pages with next until next >= seq")
def _(t):
    d = t.daemon()
    with d.client() as c, d.pipeline(window=50) as p:
        reqs = []
        for i in range(30):
            reqs.append(wreq("case.open", title="c%d" % i))
            reqs.append(wreq("case.note", case=i + 1, text="a"))
            reqs.append(wreq("case.note", case=i + 1, text="b"))
        # in order, so that case i+1 exists before its notes
        for i in range(0, len(reqs), 3):
            t.require(all(r["ok"] for r in p.run(reqs[i:i + 3])), "a write failed")
        r = c.call("log.read")
        t.eq(r.get("seq"), 90, "seq")
        t.eq(len(r.get("items", [])), 90, "items without limit")
        t.eq(r.get("next"), 90, "next")
        r = c.call("log.read", after=10, limit=5)
        t.eq([e["seq"] for e in r["items"]], [11, 12, 13, 14, 15], "after 10 limit 5")
        t.eq(r.get("next"), 15, "next after 10 limit 5")
        r = c.call("log.read", after=90)
        t.eq((r.get("items"), r.get("next"), r.get("seq")), ([], 90, 90), "after the end")
        r = c.call("log.read", after=1000)
        t.check(r["ok"] and r.get("items") == [] and r.get("next", 0) >= r["seq"],
                "after beyond the end: %r" % r)
        noted, cur = read_log(c, topic="case.noted", limit=7)
        t.eq([e["seq"] for e in noted], [s for s in range(1, 91) if s % 3 != 1],
             "case.noted seqs")
        t.check(all(e["topic"] == "case.noted" for e in noted), "topic filter leaked")
        t.eq(cur, 90, "cursor after topic paging")
        opened, _ = read_log(c, topic="case.op", limit=4)
        t.eq([e["seq"] for e in opened], list(range(1, 91, 3)), "case.op prefix")
        both, _ = read_log(c, topic="case.", limit=1000)
        t.eq(len(both), 90, "case. prefix")
        none, cur = read_log(c, topic="deadline.")
        t.eq((none, cur), ([], 90), "a prefix nothing has")
        r = c.call("log.read", topic="case.noted", limit=3)
        t.eq([e["seq"] for e in r["items"]], [2, 3, 5], "first page of case.noted")
        t.eq(r.get("next"), 5, "next is the last seq examined")


@test("log.read returns 100 items by default and honours limit")
def _(t):
    d = t.daemon()
    with d.client() as c, d.pipeline(window=100) as p:
        t.require(all(r["ok"] for r in p.run([wreq("case.open", title="c%d" % i)
                                               for i in range(150)])), "a write failed")
        r = c.call("log.read")
        t.eq(len(r["items"]), 100, "default page")
        t.eq(r.get("next"), 100, "next")
        r = c.call("log.read", after=100)
        t.eq(len(r["items"]), 50, "second page")
        t.eq(r.get("next"), 150, "next of the second page")
        r = c.call("log.read", limit=1000)
        t.eq(len(r["items"]), 150, "limit 1000")


# ---------------------------------------------------------------------------------------
# case.list

@test("case.list filters by kind, unit, lead and status and pages until next is nil")
def _(t):
    d = t.daemon()
    units = ["南峰街道", "安岭乡", "田市镇"]
    kinds = ["problem", "petition", "household", "village"]
    leads = ["wang.li", "li.ming"]
    with d.client() as c, d.pipeline(window=50) as p:
        reqs = []
        for i in range(60):
            f = {"title": "case %d" % i, "kind": kinds[i % 4], "lead": leads[i % 2]}
            if i % 5:
                f["unit"] = units[i % 3]
            reqs.append(wreq("case.open", **f))
        reps = p.run(reqs)
        t.require(all(r["ok"] for r in reps), "a write failed")
        want = {r["case"]: req for req, r in zip(reqs, reps)}
        n = c.write("case.note", case=3, text="x")
        t.check(n["ok"], n)
        items = list_cases(c, limit=7)
        t.eq([s["id"] for s in items], list(range(1, 61)), "all cases, pages of 7")
        for s in items:
            req = want[s["id"]]
            t.eq(s.get("title"), req["title"], "title of %d" % s["id"])
            t.eq(s.get("kind"), req["kind"], "kind of %d" % s["id"])
            t.eq(s.get("lead"), req["lead"], "lead of %d" % s["id"])
            t.eq(s.get("unit"), req.get("unit"), "unit of %d" % s["id"])
            t.check("unit" in s or "unit" not in req, "unit key of %d" % s["id"])
            t.eq(s.get("status"), "open", "status of %d" % s["id"])
            t.eq(s.get("note_count"), 1 if s["id"] == 3 else 0, "note_count of %d" % s["id"])
            t.check(sane_ms(s.get("opened_at")) and s.get("updated_at", 0) >= s["opened_at"],
                    "opened_at/updated_at of %d: %r" % (s["id"], s))
        for key, values in (("kind", kinds), ("unit", units), ("lead", leads)):
            for v in values:
                got = [s["id"] for s in list_cases(c, limit=4, **{key: v})]
                exp = [k for k, req in sorted(want.items()) if req.get(key) == v]
                t.eq(got, exp, "%s=%s" % (key, v))
        got = [s["id"] for s in list_cases(c, kind="petition", unit="安岭乡", limit=2)]
        exp = [k for k, req in sorted(want.items())
               if req["kind"] == "petition" and req.get("unit") == "安岭乡"]
        t.eq(got, exp, "kind and unit together")
        t.eq([s["id"] for s in list_cases(c, status="open", limit=100)], list(range(1, 61)),
             "status open")
        t.eq(list_cases(c, status="closed"), [], "status closed")
        t.eq(list_cases(c, unit="大战乡"), [], "a unit with no case")
        r = c.call("case.list", after=55, limit=10)
        t.eq([s["id"] for s in r["items"]], [56, 57, 58, 59, 60], "after 55")
        t.eq(r.get("next"), None, "next at the end")
        r = c.call("case.list", after=60)
        t.eq((r.get("items"), r.get("next")), ([], None), "after the last case")
        r = c.call("case.list", limit=10)
        t.check(r.get("next") is not None and r["next"] >= 10, "next of a full page: %r"
                % r.get("next"))
        t.eq(r.get("seq"), 61, "seq of case.list")


@test("case.list returns 50 items by default")
def _(t):
    d = t.daemon()
    with d.client() as c, d.pipeline(window=100) as p:
        t.require(all(r["ok"] for r in p.run([wreq("case.open", title="c%d" % i)
                                               for i in range(70)])), "a write failed")
        r = c.call("case.list")
        t.eq([s["id"] for s in r["items"]], list(range(1, 51)), "default page")
        t.check(r.get("next") is not None, "next is nil with 20 cases left")
        r = c.call("case.list", after=r["next"])
        t.eq([s["id"] for s in r["items"]], list(range(51, 71)), "second page")
        t.eq(r.get("next"), None, "next at the end")


@test("a filtered log.read or case.list that examines 10,000 entries without a match "
      "still pages on to the rest")
def _(t):
    d = t.daemon()
    with d.client() as c, d.pipeline(window=200) as p:
        n = 10050
        for i in range(0, n, 1000):
            reqs = [wreq("case.open", title="c%d" % j,
                         kind="petition" if j in (0, n - 1) else "problem")
                    for j in range(i, min(n, i + 1000))]
            t.require(all(r["ok"] for r in p.run(reqs, timeout=120)), "a write failed")
        r = c.write("case.note", case=n, text="the only note")
        t.require(r["ok"], r)
        r = c.call("log.read", topic="case.noted")
        t.check(r["ok"] and r["next"] <= 10000,
                "the first page examined more than 10,000 entries: next %r" % r.get("next"))
        noted, cur = read_log(c, topic="case.noted")
        t.eq([e["seq"] for e in noted], [n + 1], "case.noted entries")
        t.eq(cur, n + 1, "cursor")
        r = c.call("case.list", kind="petition", limit=1000)
        t.check(r["ok"] and r["next"] is not None,
                "the first page of a filtered case.list says there is no more: %r"
                % {k: r.get(k) for k in ("next", "seq")})
        t.eq([s["id"] for s in list_cases(c, kind="petition", limit=1000)], [1, n],
             "petitions")
        t.eq(len(list_cases(c, limit=1000)), n, "all cases")


@test("a retry with keys in another order or integers of another width is a duplicate, "
      "not a conflict")
def _(t):
    d = t.daemon()
    with d.client() as c:
        rid = new_id()
        r1 = c.request({"op": "case.open", "id": rid, "actor": ACTOR, "title": "t",
                        "unit": "安岭乡", "tags": ["a", "b"]})
        r2 = c.request({"tags": ["a", "b"], "unit": "安岭乡", "title": "t", "actor": ACTOR,
                        "id": rid, "op": "case.open"})
        t.eq(r2, dict(r1, duplicate=True), "keys in reverse order")
        body = [("op", "case.note"), ("id", "retry-width"), ("actor", ACTOR), ("case", None),
                ("text", "x")]
        n1 = decode(c.send_raw(mp_map_raw([(k, v if k != "case" else mp_uint(1, 0))
                                           for k, v in body])))
        n2 = decode(c.send_raw(mp_map_raw([(k, v if k != "case" else mp_uint(1, 8))
                                           for k, v in body])))
        t.check(n1["ok"], n1)
        t.eq(n2, dict(n1, duplicate=True), "case as fixint then as uint64")
        t.eq(ping_seq(c), 2, "seq")


def free_port_pair():
    """A port P on 127.0.0.1 with P+1 also free (just now)."""
    for _ in range(100):
        a, b = socket.socket(), socket.socket()
        try:
            a.bind(("127.0.0.1", 0))
            p = a.getsockname()[1]
            if p >= 65535:
                continue
            b.bind(("127.0.0.1", p + 1))
            return p
        except OSError:
            continue
        finally:
            a.close()
            b.close()
    raise RuntimeError("no free port pair")


@test("--listen-tcp serves requests on PORT and notifications on PORT+1")
def _(t):
    port = free_port_pair()
    d = t.daemon(args=["--listen-tcp", "127.0.0.1:%d" % port])
    sub = context().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect("tcp://127.0.0.1:%d" % (port + 1))
    t.defer(sub.close)
    deadline = time.monotonic() + 10
    beat = None
    while beat is None and time.monotonic() < deadline:
        if sub.poll(500):
            f = sub.recv_multipart()
            if f[0] == b"heartbeat":
                beat = decode(f[1])
    t.check(beat is not None and beat.get("topic") == "heartbeat",
            "no heartbeat on tcp port %d" % (port + 1))
    with ReqClient("tcp://127.0.0.1:%d" % port) as c:
        r = c.write("case.open", title="over tcp")
        t.check(r["ok"] and r.get("case") == 1, "case.open over tcp: %r" % r)
    f = None
    while time.monotonic() < deadline + 5:
        if sub.poll(500):
            f = sub.recv_multipart()
            if f[0] != b"heartbeat":
                break
    t.check(f is not None and f[0] == b"case.opened" and decode(f[1]).get("id") == r.get("id"),
            "no case.opened notification over tcp: %r" % (f,))
    with d.client() as c:
        t.eq(c.call("ping").get("seq"), 1, "seq over ipc")


# ---------------------------------------------------------------------------------------
# notifications

def subscribe_live(t, d, prefix=b""):
    """A SUB socket whose subscription is known to be in effect (a heartbeat arrived)."""
    s = context().socket(zmq.SUB)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SUBSCRIBE, prefix)
    if prefix != b"":
        s.setsockopt(zmq.SUBSCRIBE, b"heartbeat")
    s.connect(d.events)
    t.defer(s.close)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if s.poll(500):
            f = s.recv_multipart()
            if f[0] == b"heartbeat":
                return s
    t.fail("no heartbeat within 10 s")


@test("notifications arrive on PUB after commit, in seq order, and match log.read")
def _(t):
    d = t.daemon()
    s = subscribe_live(t, d)
    with d.client() as c, d.pipeline(window=20) as p:
        reqs = [wreq("case.open", title="c%d" % i, unit="安岭乡") for i in range(20)]
        reqs += [wreq("case.note", case=1 + i % 20, text="n%d" % i) for i in range(40)]
        reps = p.run(reqs[:20]) + p.run(reqs[20:])
        t.require(all(r["ok"] for r in reps), "a write failed")
        got = []
        deadline = time.monotonic() + 15
        while len(got) < 60 and time.monotonic() < deadline:
            if not s.poll(500):
                continue
            f = s.recv_multipart()
            if f[0] == b"heartbeat":
                continue
            t.require(len(f) == 2, "a notification of %d frames" % len(f))
            e = decode(f[1])
            t.eq(f[0].decode(), e.get("topic"), "topic frame vs map topic")
            for k in ("seq", "topic", "at", "case", "actor", "id"):
                t.check(k in e, "notification without %s: %r" % (k, e))
            # committed before published: log.read already has it, identical
            r = c.call("log.read", after=e["seq"] - 1, limit=1)
            t.check(r["items"][:1] == [e], "log.read of %d: %r vs %r"
                    % (e["seq"], r["items"][:1], e))
            got.append(e)
        t.eq([e["seq"] for e in got], list(range(1, 61)), "notified seqs")
        by_id = {e["id"]: e for e in got}
        for req, rep in zip(reqs, reps):
            e = by_id.get(req["id"], {})
            if not t.eq((e.get("seq"), e.get("case")), (rep["seq"], rep["case"]),
                        "notification of %s" % req["id"]):
                break


@test("a heartbeat arrives with topic, at and last_seq")
def _(t):
    d = t.daemon()
    with d.client() as c:
        open_case(c)
        open_case(c)
    s = context().socket(zmq.SUB)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SUBSCRIBE, b"heartbeat")
    s.connect(d.events)
    t.defer(s.close)
    beats = []
    deadline = time.monotonic() + 10
    while len(beats) < 2 and time.monotonic() < deadline:
        if s.poll(500):
            beats.append(s.recv_multipart())
    t.require(len(beats) == 2, "%d heartbeats in 10 s" % len(beats))
    for f in beats:
        t.eq(f[0], b"heartbeat", "topic frame")
        t.require(len(f) == 2, "heartbeat of %d frames" % len(f))
        m = decode(f[1])
        t.eq(m.get("topic"), "heartbeat", "topic")
        t.eq(m.get("last_seq"), 2, "last_seq")
        t.check(sane_ms(m.get("at")), "at: %r" % m.get("at"))
        t.check("seq" not in m, "a heartbeat carries a seq (it is not a log entry): %r" % m)
    t.check(decode(beats[1][1])["at"] >= decode(beats[0][1])["at"], "heartbeat at decreases")


def writer(d, n, acked, window=10, text="w"):
    """Open a case, then write n-1 notes to it, pipelined; appends replies to acked."""
    with d.client() as c, Pipeline(d.submit, window) as p:
        r = c.write("case.open", title="busy case")
        acked.append(r)
        for i in range(0, n - 1, 25):
            acked.extend(p.run([wreq("case.note", case=r["case"], text="%s%d" % (text, j))
                                for j in range(i, min(n - 1, i + 25))]))


@test("a subscriber that connects late catches up with log.read, missing nothing and "
      "repeating nothing")
def _(t):
    d = t.daemon()
    acked = []
    th = threading.Thread(target=writer, args=(d, 600, acked))
    th.start()
    t.defer(th.join)
    deadline = time.monotonic() + 20
    while len(acked) < 200 and th.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    sub = Subscriber(d.events, d.submit)
    t.defer(sub.close)
    th.join(60)
    t.require(not th.is_alive() and len(acked) == 600 and all(r["ok"] for r in acked),
              "the writer failed (%d acked)" % len(acked))
    deadline = time.monotonic() + 15
    while sub.cursor < 600 and time.monotonic() < deadline:
        sub.poll(0.5)
    seqs = [e["seq"] for e in sub.entries]
    t.eq(len(seqs), len(set(seqs)), "entries handed over twice")
    t.eq(seqs, list(range(1, 601)), "seqs handed over")
    t.diag("%d from log.read, %d live, %d heartbeats"
           % (sub.caught_up, sub.live, sub.heartbeats))
    with d.client() as c:
        items, _ = read_log(c)
    t.check(items == sub.entries, "entries differ from log.read")


@test("a topic-filtered subscriber gets exactly the entries of its prefix, once each")
def _(t):
    d = t.daemon()
    with d.client() as c:
        for _ in range(3):
            open_case(c)
    sub = Subscriber(d.events, d.submit, topic="case.opened")
    t.defer(sub.close)
    acked = []
    th = threading.Thread(target=writer, args=(d, 200, acked))
    th.start()
    with d.client() as c:
        for _ in range(5):
            open_case(c)
    th.join(60)
    t.require(len(acked) == 200, "writer acked %d" % len(acked))
    with d.client() as c:
        final = ping_seq(c)
        want, _ = read_log(c, topic="case.opened")
    deadline = time.monotonic() + 15
    while sub.cursor < final and time.monotonic() < deadline:
        sub.poll(0.5)
    t.eq([e["seq"] for e in sub.entries], [e["seq"] for e in want], "case.opened seqs")
    t.check(sub.entries == want, "entries differ from log.read")
    t.eq(len(want), 9, "case.opened entries")


if __name__ == "__main__":
    run_tests()
