"""
Hostile input over raw ZeroMQ frames. Every malformed body must get an error reply that
is itself a valid MessagePack map ({"ok": false, "error": {"code", "message"}}), apply
nothing, and leave the daemon serving everyone else; a frame over the size limit drops
only the peer that sent it; length headers that promise gigabytes must not make the
daemon allocate them (docs/protocol.md, section 2, "Limits").

Each test starts the daemon on a fresh directory with pyclient's shared county and a few
cases in its log, sends its hostile inputs one at a time, and after each one checks that
the ledger did not move (ping's seq is the same) and that another client is still served.
Bodies that would be valid writes but for the defect under test carry every required key
(a case.open names its area and unit), so that each is refused for that defect alone.
"""

import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import zmq  # noqa: E402
from zmq.utils.monitor import recv_monitor_message  # noqa: E402

from pyclient import (  # noqa: E402
    County, ProtocolError, check_reply, context, decode, encode, error_code, mp_bin,
    mp_map_raw, mp_str_raw, new_id, read_log, run_tests, test)

ACTOR = County.CADRE
OPEN = [("area", "development"), ("unit", "xiaxi")]    # the rest of a valid case.open


def wreq(op, **fields):
    req = {"op": op, "id": new_id(), "actor": ACTOR}
    req.update(fields)
    return req


def oreq(**fields):
    """A case.open request with every required key."""
    return wreq("case.open", **dict(OPEN, **fields))


def seeded(t):
    """A daemon with the county, 3 cases and a note; d.seeded is the last seq (the
    county's plus 4)."""
    d = t.daemon()
    base = d.build_county().seq
    with d.client() as c:
        for i in range(3):
            r = c.request(oreq(title="case %d" % i))
            t.require(r["ok"], r)
        r = c.write("case.note", case=1, text="a note")
        t.require(r["ok"], r)
    d.seeded = base + 4
    return d


def dealer(t, d):
    s = context().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(d.submit)
    t.defer(s.close)
    return s


class Bystander:
    """Another client: checks the ledger did not move and that it is still served."""

    def __init__(self, t, d):
        self.t = t
        self.c = d.client()
        t.defer(self.c.close)
        self.seq = self.ping()

    def ping(self):
        r = self.c.call("ping")
        assert r["ok"], r
        return r["seq"]

    def check(self, what):
        try:
            seq = self.ping()
        except Exception as e:
            return self.t.check(False, "%s: the bystander is not served: %r" % (what, e))
        return self.t.check(seq == self.seq, "%s: the ledger moved from seq %d to %d"
                            % (what, self.seq, seq))


def refused(t, d, s, by, body, code, what, frames=None):
    """Send body (or the raw frames) on DEALER s; the reply must be a valid map and an
    error with code (any code if code is None). Then the ledger must not have moved, the bystander must be served,
    and s itself must still be served."""
    frames = frames if frames is not None else [b"", body]
    s.send_multipart(frames)
    if not s.poll(10000):
        t.check(False, "%s: no reply" % what)
        by.check(what)
        return None
    rf = s.recv_multipart()
    try:
        reply = check_reply(decode(rf[-1]))
    except Exception as e:
        t.check(False, "%s: the reply is not a valid reply map: %r (%r)" % (what, e, rf[-1][:200]))
        reply = None
    if reply is not None and code is not None:
        t.check(not reply["ok"] and error_code(reply) == code,
                "%s: want %s, got %r" % (what, code, reply))
        if len(frames) <= 7:
            t.check(rf[:-1] == frames[:-1], "%s: envelope %r came back as %r"
                    % (what, frames[:-1], rf[:-1]))
    by.check(what)
    rid = new_id()
    s.send_multipart([b"", encode({"op": "ping", "id": rid})])
    if t.check(s.poll(10000), "%s: the same peer is no longer served" % what):
        r = check_reply(decode(s.recv_multipart()[-1]), rid)
        t.check(r["ok"], "%s: ping after: %r" % (what, r))
    return reply


def valid_write():
    return encode(oreq(title="would be case 4"))


# ---------------------------------------------------------------------------------------

@test("a body that is not MessagePack is refused with bad_request")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    bodies = [b"\xc1", b"\xc1\x81\xa2op\xa4ping", b"hello world", b'{"op": "ping"}',
              b"\xff" * 100, b"\x00", b"\x81\xa2op"]
    rnd = random.Random(7)
    bodies += [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300))) for _ in range(40)]
    for i, b in enumerate(bodies):
        refused(t, d, s, by, b, "bad_request", "garbage %d (%s)" % (i, b[:16].hex()))


@test("truncated MessagePack is refused with bad_request")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    full = valid_write()
    for n in sorted({1, 2, 3, 5, 10, 20, len(full) // 2, len(full) - 2, len(full) - 1}):
        refused(t, d, s, by, full[:n], "bad_request", "the first %d of %d bytes" % (n, len(full)))
    for b in (b"\xd9", b"\xda\x00", b"\xdb\x00\x00\x00", b"\xcd\x01", b"\xcf\x00\x00",
              b"\x82\xa2op\xa4ping\xa1x", b"\x81\xa2op\xa4pin"):
        refused(t, d, s, by, b, "bad_request", "truncated %s" % b.hex())


@test("trailing bytes after the request map are refused with bad_request")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    for extra in (b"\xc0", b"\x00", b"\x81\xa2op\xa4ping", b"garbage"):
        refused(t, d, s, by, encode({"op": "ping"}) + extra, "bad_request",
                "ping followed by %s" % extra.hex())
    # two writes back to back in one frame: neither is applied
    refused(t, d, s, by, valid_write() + valid_write(), "bad_request", "two writes in one frame")


@test("a body that is not a map is refused with bad_request")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    for v in (["op", "ping"], "ping", 1, None, True, 1.5, b"ping", [{"op": "ping"}]):
        refused(t, d, s, by, encode(v), "bad_request", "top-level %r" % (v,))


@test("values of the wrong MessagePack type are refused with bad_request")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    rid, a = new_id(), ACTOR
    cases = [
        (mp_map_raw([("op", mp_bin(b"ping"))]), "op as bin"),
        (mp_map_raw([("op", b"\xd4\x01\x00")]), "op as fixext"),
        (mp_map_raw([("op", "case.open"), *OPEN, ("id", rid), ("actor", a),
                     ("title", b"\xd6\xff\x00\x00\x00\x01")]), "title as a timestamp ext"),
        (mp_map_raw([("op", "case.open"), *OPEN, ("id", mp_bin(rid.encode())), ("actor", a),
                     ("title", "t")]), "id as bin"),
        (mp_map_raw([("op", "case.open"), *OPEN, ("id", rid), ("actor", a), ("title", "t"),
                     ("tags", [mp_bin(b"x")])]), "a tag as bin"),
        (mp_map_raw([("op", "case.note"), ("id", rid), ("actor", a), ("case", b"\xca\x3f\x80\x00\x00"),
                     ("text", "t")]), "case as float32"),
        (mp_map_raw([("op", "case.note"), ("id", rid), ("actor", a), ("case", b"\xc3"),
                     ("text", "t")]), "case as true"),
        (mp_map_raw([("op", "case.note"), ("id", rid), ("actor", a), ("case", b"\xc0"),
                     ("text", "t")]), "case as nil"),
        (mp_map_raw([("op", "case.get"), ("case", b"\xd3\xff\xff\xff\xff\xff\xff\xff\xff")]),
         "case as int64 -1"),
        (mp_map_raw([("op", "log.read"), ("limit", b"\xcb\x40\x24\x00\x00\x00\x00\x00\x00")]),
         "limit as float64"),
    ]
    for body, what in cases:
        refused(t, d, s, by, body, "bad_request", what)


@test("unknown keys are bad_request and unknown ops unknown_op, applying nothing")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    for body, code, what in (
            (encode(oreq(title="t", status="closed")), "bad_request",
             "case.open with status"),
            (encode(oreq(title="t", seq=1)), "bad_request", "case.open with seq"),
            (encode(wreq("case.note", case=1, text="t", at=0)), "bad_request", "case.note with at"),
            (encode({"op": "ping", "duplicate": True}), "bad_request", "ping with duplicate"),
            (encode(wreq("case.delete", case=1)), "unknown_op", "case.delete"),
            (encode(wreq("case.open\x00x", title="t")), "unknown_op", "op with a NUL")):
        refused(t, d, s, by, body, code, what)
    # the document gives op no length limit: an empty or 1000-byte op names no
    # operation (unknown_op), or breaks an undocumented limit (bad_request)
    for body, what in ((encode(wreq("")), "an empty op"),
                       (encode(wreq("x" * 1000)), "a 1000-byte op")):
        r = refused(t, d, s, by, body, None, what)
        t.check(r is not None and error_code(r) in ("unknown_op", "bad_request"),
                "%s: want unknown_op or bad_request, got %r" % (what, r))


@test("a frame over 65,536 bytes drops that peer only, and the daemon serves others")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    # exactly at the limit: read, and refused for its unknown key
    body = mp_map_raw([("op", "ping"), ("x", "y" * 65522)])
    t.require(len(body) == 65536, "test bug: %d bytes" % len(body))
    refused(t, d, s, by, body, "bad_request", "a 65,536-byte body")
    # one byte over: the peer is disconnected, no reply
    big = context().socket(zmq.DEALER)
    big.setsockopt(zmq.LINGER, 0)
    t.defer(big.close)
    mon = big.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED)
    t.defer(mon.close)
    t.defer(big.disable_monitor)
    big.connect(d.submit)

    def next_event(what):
        t.require(mon.poll(10000), "no %s event from the monitor" % what)
        return recv_monitor_message(mon)["event"]

    t.eq(next_event("connect"), zmq.EVENT_CONNECTED, "first event")
    over = encode(oreq(title="t", description="d" * 65600))
    big.send_multipart([b"", over])
    big.send_multipart([b"", encode({"op": "ping", "id": "after-the-big-one"})])
    t.eq(next_event("disconnect"), zmq.EVENT_DISCONNECTED, "event after the big frame")
    by.check("after the big frame")
    # a whole write with a big frame in the envelope: also dropped, nothing applied
    t.eq(next_event("reconnect"), zmq.EVENT_CONNECTED, "the peer reconnects")
    big.send_multipart([b"e" * 70000, b"", valid_write()])
    t.eq(next_event("disconnect"), zmq.EVENT_DISCONNECTED, "event after a big envelope frame")
    by.check("after a big envelope frame")
    t.eq(next_event("reconnect"), zmq.EVENT_CONNECTED, "the peer reconnects again")
    # whatever arrived meanwhile on that socket must be a valid reply, never to the
    # dropped messages' content applied
    while big.poll(200):
        f = big.recv_multipart()
        check_reply(decode(f[-1]))
    rid = new_id()
    big.send_multipart([b"", encode({"op": "ping", "id": rid})])
    deadline = time.monotonic() + 10
    got = None
    while time.monotonic() < deadline and got is None:
        if big.poll(500):
            r = check_reply(decode(big.recv_multipart()[-1]))
            if r.get("id") == rid:
                got = r
    t.check(got is not None and got["ok"], "the dropped peer, reconnected, is served: %r" % got)
    by.check("at the end")
    # many big frames from many peers do not stop the daemon
    for i in range(20):
        x = context().socket(zmq.DEALER)
        x.setsockopt(zmq.LINGER, 0)
        x.connect(d.submit)
        x.send_multipart([b"", b"\xc0" * 200000])
        x.close(100)
    by.check("after 20 peers sent 200 kB frames")


@test("more than 8 frames is too_large and applies nothing")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    for n in (9, 10, 64):
        frames = [b"hop%d" % i for i in range(n - 2)] + [b"", valid_write()]
        refused(t, d, s, by, None, "too_large", "%d frames" % n, frames=frames)
    frames = [b""] * 20 + [valid_write()]
    refused(t, d, s, by, None, "too_large", "20 empty frames then a write", frames=frames)


LIARS = [
    # (name, body): headers declaring 2^32-1 elements or bytes, only a few bytes sent
    ("a map declaring 2^32-1 pairs", b"\xdf\xff\xff\xff\xff" + encode("op") + encode("ping")),
    ("a str declaring 2^32-1 bytes",
     mp_map_raw([("op", b"\xdb\xff\xff\xff\xff" + b"ping")])),
    ("an array declaring 2^32-1 items",
     mp_map_raw([("op", "ping"), ("x", b"\xdd\xff\xff\xff\xff" + b"\x01\x02\x03")])),
    ("a nested map declaring 2^32-1 pairs",
     mp_map_raw([("op", "ping"), ("x", b"\xdf\xff\xff\xff\xff" + b"\xa1a\x01")])),
    ("a bin declaring 2^32-1 bytes",
     mp_map_raw([("op", "ping"), ("x", b"\xc6\xff\xff\xff\xff" + b"abc")])),
    ("an ext declaring 2^32-1 bytes",
     mp_map_raw([("op", "ping"), ("x", b"\xc9\xff\xff\xff\xff\x01" + b"abc")])),
    ("a key declaring 2^32-1 bytes", b"\x81\xdb\xff\xff\xff\xff" + b"op\xa4ping"),
    ("an array of tags declaring 2^32-1 items",
     mp_map_raw([("op", "case.open"), *OPEN, ("id", "liar-1"), ("actor", ACTOR), ("title", "t"),
                 ("tags", b"\xdd\xff\xff\xff\xff\xa1a")])),
    ("a map declaring 65535 pairs", b"\xde\xff\xff" + encode("op") + encode("ping")),
    ("an array declaring 65535 items at the top", b"\xdc\xff\xff\x01\x02"),
    ("a str declaring 65535 bytes", mp_map_raw([("op", b"\xda\xff\xff" + b"ping")])),
]


def flood(s, body, n, window=200):
    """Send body n times on DEALER s keeping window in flight; returns the replies'
    codes counted."""
    codes = {}
    sent = got = 0
    while got < n:
        while sent < n and sent - got < window:
            s.send_multipart([b"", body])
            sent += 1
        if not s.poll(10000):
            raise ProtocolError("%d replies missing" % (n - got))
        f = s.recv_multipart()
        try:
            r = check_reply(decode(f[-1]))
            code = error_code(r) or "ok"
        except Exception as e:
            code = "invalid reply: %r" % e
        codes[code] = codes.get(code, 0) + 1
        got += 1
    return codes


@test("length headers declaring 2^32-1 elements are bad_request and allocate nothing")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    for name, body in LIARS:
        refused(t, d, s, by, body, "bad_request", name)
    # warm up, then 10,000 of each: resident memory must not grow by more than 20 MB
    for name, body in LIARS:
        flood(s, body, 200)
    rss0 = d.rss_kb()
    for name, body in LIARS:
        codes = flood(s, body, 10000)
        t.eq(codes, {"bad_request": 10000}, "replies to 10,000 x %s" % name)
    rss1 = d.rss_kb()
    t.diag("VmRSS %d kB before, %d kB after %d lying messages" % (rss0, rss1, 10000 * len(LIARS)))
    t.check(rss1 - rss0 <= 20 * 1024, "VmRSS grew by %d kB" % (rss1 - rss0))
    by.check("after the flood")


@test("honest large containers within the frame limit are refused without trouble")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    # 60,000 nils in an array, 10,000 one-letter keys: valid MessagePack, invalid requests
    arr = b"\xdd" + (60000).to_bytes(4, "big") + b"\xc0" * 60000
    refused(t, d, s, by, mp_map_raw([("op", "ping"), ("x", arr)]), "bad_request",
            "an array of 60,000 nils")
    pairs = [("op", "ping")] + [("k%d" % i, 0) for i in range(8000)]
    body = mp_map_raw(pairs)
    t.require(len(body) <= 65536, "test bug: %d bytes" % len(body))
    refused(t, d, s, by, body, "bad_request", "a map of 8,001 keys")
    tags = ["t%d" % i for i in range(5000)]
    refused(t, d, s, by, encode(oreq(title="t", tags=tags)), "bad_request",
            "5,000 tags")
    by.check("at the end")


def vm_hwm_kb(d):
    with open("/proc/%d/status" % d.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")


@test("a flood of large refused requests in flight does not balloon the daemon's memory")
def _(t):
    # each body is a valid 60 kB array of 60,000 nils under an unknown key: a request
    # that is refused, whose decoded form costs ~24 bytes per byte received. With 200 of
    # them in flight, memory must stay bounded (refused requests need not be held).
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    arr = b"\xdd" + (60000).to_bytes(4, "big") + b"\xc0" * 60000
    body = mp_map_raw([("op", "ping"), ("x", arr)])
    flood(s, body, 20, window=1)
    hwm0, rss0 = vm_hwm_kb(d), d.rss_kb()
    codes = flood(s, body, 2000, window=200)
    t.eq(codes, {"bad_request": 2000}, "replies")
    hwm1, rss1 = vm_hwm_kb(d), d.rss_kb()
    t.diag("VmHWM %d kB -> %d kB, VmRSS %d kB -> %d kB over 2,000 requests of 60 kB, "
           "200 in flight" % (hwm0, hwm1, rss0, rss1))
    t.check(hwm1 - hwm0 <= 64 * 1024, "peak resident memory grew by %d MB"
            % ((hwm1 - hwm0) // 1024))
    by.check("after the flood")


@test("a million malformed and oversized messages from one peer leave the daemon's memory "
      "flat and its other clients served")
def _(t):
    # four kinds, round-robin: garbage bytes, a map that claims 2^32-1 pairs, a string that
    # claims 4 GB, and 9 frames; one peer keeps 1,000 in flight; the daemon's VmRSS is read
    # after a warm-up and at the end (large bodies: the flood test above)
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    bodies = [b"\xc1\xff garbage", b"\xdf\xff\xff\xff\xff",
              mp_map_raw([("op", "ping"), ("x", b"\xdb\xff\xff\xff\xff" + b"x" * 64)])]
    flood(s, bodies[0], 2000, window=1000)
    rss0, hwm0 = d.rss_kb(), vm_hwm_kb(d)
    n, sent, got, frames = 1000000, 0, 0, [b""] * 8 + [b"x"]
    while got < n:
        while sent < n and sent - got < 1000:
            k = sent % 4
            s.send_multipart(frames if k == 3 else [b"", bodies[k]])
            sent += 1
        t.require(s.poll(10000), "%d replies missing" % (n - got))
        while s.poll(0):
            s.recv_multipart()
            got += 1
    rss1, hwm1 = d.rss_kb(), vm_hwm_kb(d)
    t.diag("1,000,000 malformed messages, 1,000 in flight: VmRSS %d kB -> %d kB, VmHWM %d kB "
           "-> %d kB" % (rss0, rss1, hwm0, hwm1))
    t.check(rss1 - rss0 <= 16 * 1024, "resident memory grew by %d kB" % (rss1 - rss0))
    by.check("after a million malformed messages")


@test("one connection past 512 requests in flight gets unavailable for the excess, naming "
      "the id, which changed nothing; another connection is served meanwhile")
def _(t):
    d = seeded(t)
    by = Bystander(t, d)
    # no high-water marks on this side: every request goes out at once, every reply is
    # kept (the daemon queues up to 10,000 replies for a connection)
    s = context().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SNDHWM, 0)
    s.setsockopt(zmq.RCVHWM, 0)
    s.connect(d.submit)
    t.defer(s.close)
    reqs = [oreq(title="burst %d" % i) for i in range(9000)]
    for r in reqs:
        s.send_multipart([b"", encode(r)])
    replies = {}
    while len(replies) < len(reqs):
        t.require(s.poll(30000), "%d replies missing" % (len(reqs) - len(replies)))
        r = decode(s.recv_multipart()[-1])
        replies[r["id"]] = r
    busy = [r for r in replies.values() if error_code(r) == "unavailable"]
    ok = [r for r in replies.values() if r["ok"]]
    t.diag("9,000 writes at once on one connection: %d acknowledged, %d unavailable"
           % (len(ok), len(busy)))
    t.check(len(busy) > 0, "the excess is refused")
    t.eq(len(ok) + len(busy), len(reqs), "every request is answered, ok or unavailable")
    if busy:
        t.check("in flight" in busy[0]["error"]["message"], busy[0])
    with d.client() as c:
        log = read_log(c, after=d.seeded)[0]
    t.eq(sorted(e["id"] for e in log), sorted(r["id"] for r in ok),
         "the log holds exactly the acknowledged ones")
    by.seq = by.ping()
    by.check("served after the burst")


@test("nesting deeper than 8 is refused with bad_request")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    # the request map is depth 1: x holding 8 nested arrays reaches depth 9
    refused(t, d, s, by, mp_map_raw([("op", "ping"), ("x", b"\x91" * 8 + b"\x01")]),
            "bad_request", "arrays to depth 9")
    refused(t, d, s, by, mp_map_raw([("op", "ping"), ("x", b"\x81\xa1k" * 8 + b"\x01")]),
            "bad_request", "maps to depth 9")
    refused(t, d, s, by, encode(oreq(title="t", tags=[[[[[[[["x"]]]]]]]])),
            "bad_request", "tags nested to depth 9")
    refused(t, d, s, by, b"\x91" * 65000 + b"\xc0", "bad_request", "65,000 nested arrays")
    refused(t, d, s, by, b"\x81\xa1k" * 21000 + b"\xc0", "bad_request", "21,000 nested maps")
    refused(t, d, s, by, mp_map_raw([("op", "ping"), ("x", b"\x91" * 65000 + b"\xc0")]),
            "bad_request", "65,000 nested arrays under a key")


@test("invalid UTF-8 is refused with bad_request")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    bad = [b"\xff", b"\xfe\xff", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80",
           b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xe5\xae", b"ok\x80", b"\xc3"]
    for b in bad:
        rid = new_id()
        refused(t, d, s, by, mp_map_raw([("op", "case.open"), *OPEN, ("id", rid), ("actor", ACTOR),
                                         ("title", mp_str_raw(b"title " + b))]),
                "bad_request", "title with %s" % b.hex())
    refused(t, d, s, by, mp_map_raw([("op", mp_str_raw(b"pi\xffng"))]), "bad_request",
            "op with ff")
    refused(t, d, s, by, mp_map_raw([(mp_str_raw(b"o\xc3"), "ping")]), "bad_request",
            "a key with a cut sequence")
    refused(t, d, s, by, mp_map_raw([("op", "case.open"), *OPEN, ("id", new_id()),
                                     ("actor", mp_str_raw(b"wang\xed\xbf\xbf")), ("title", "t")]),
            "bad_request", "actor with a surrogate")
    refused(t, d, s, by, mp_map_raw([("op", "case.open"), *OPEN, ("id", new_id()), ("actor", ACTOR),
                                     ("title", "t"), ("tags", [mp_str_raw(b"\xe4\xb8")])]),
            "bad_request", "a tag with a cut sequence")
    refused(t, d, s, by, mp_map_raw([("op", "log.read"), ("topic", mp_str_raw(b"case\xff"))]),
            "bad_request", "a topic with ff")


@test("non-string map keys are refused with bad_request")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    for key, what in ((b"\x01", "int"), (b"\xc0", "nil"), (b"\xc3", "true"),
                      (mp_bin(b"op"), "bin 'op'"), (b"\x91\xa2op", "array"),
                      (b"\x81\xa2op\xa4ping", "map"), (b"\xcb" + b"\x00" * 8, "float")):
        refused(t, d, s, by, mp_map_raw([("op", "ping"), (key, 1)]), "bad_request",
                "a %s key" % what)
    refused(t, d, s, by, mp_map_raw([(mp_bin(b"op"), "case.open"), *OPEN, ("id", new_id()),
                                     ("actor", ACTOR), ("title", "t")]),
            "bad_request", "op under a bin key")
    refused(t, d, s, by, encode(oreq(title="t", tags={"a": 1})), "bad_request",
            "a map for tags")
    refused(t, d, s, by, mp_map_raw([("op", "case.open"), *OPEN, ("id", new_id()), ("actor", ACTOR),
                                     ("title", "t"), ("tags", [b"\x81\x01\x02"])]),
            "bad_request", "an int-keyed map inside tags")


@test("duplicate keys are refused with bad_request")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    rid = new_id()
    for pairs, what in (
            ([("op", "ping"), ("op", "ping")], "op twice"),
            ([("op", "ping"), ("op", "stats")], "two different ops"),
            ([("op", "case.open"), *OPEN, ("id", rid), ("actor", ACTOR), ("title", "a"),
              ("title", "b")], "title twice"),
            ([("op", "case.open"), *OPEN, ("id", rid), ("id", new_id()), ("actor", ACTOR),
              ("title", "a")], "id twice"),
            ([("op", "case.open"), *OPEN, ("id", rid), ("actor", ACTOR), ("actor", "other"),
              ("title", "a")], "actor twice"),
            ([("op", "case.note"), ("id", rid), ("actor", ACTOR), ("case", 1), ("case", 2),
              ("text", "a")], "case twice")):
        refused(t, d, s, by, mp_map_raw(pairs), "bad_request", what)
    # a nested map with a key twice, inside an otherwise unknown key
    refused(t, d, s, by, mp_map_raw([("op", "ping"), ("x", b"\x82\xa1a\x01\xa1a\x02")]),
            "bad_request", "a key twice in a nested map")


@test("an empty body frame is refused with bad_request")
def _(t):
    d = seeded(t)
    s, by = dealer(t, d), Bystander(t, d)
    refused(t, d, s, by, b"", "bad_request", "an empty body after the delimiter")
    refused(t, d, s, by, None, "bad_request", "a single empty frame", frames=[b""])
    refused(t, d, s, by, None, "bad_request", "three empty frames", frames=[b"", b"", b""])
    refused(t, d, s, by, encode({}), "bad_request", "an empty map")
    with d.client() as c:
        r = check_reply(decode(c.send_raw(b"")))
        t.check(not r["ok"] and error_code(r) == "bad_request", "REQ empty frame: %r" % r)
    by.check("REQ empty frame")


@test("a peer that vanishes with requests in flight disturbs nothing")
def _(t):
    d = seeded(t)
    sent = []
    for _ in range(5):
        x = context().socket(zmq.DEALER)
        x.setsockopt(zmq.LINGER, 0)
        x.connect(d.submit)
        for i in range(50):
            req = wreq("case.note", case=2, text="orphan %d" % i)
            sent.append(req["id"])
            x.send_multipart([b"", encode(req)])
        time.sleep(0.05)
        x.close(0)
    with d.client() as c:
        r = c.request(oreq(title="after the orphans"))
        t.check(r["ok"], "a write after the orphans: %r" % r)
        items, _ = read_log(c)
    t.eq([e["seq"] for e in items], list(range(1, len(items) + 1)), "log seqs")
    ids = [e["id"] for e in items]
    t.eq(len(ids), len(set(ids)), "an id twice in the log")
    t.check(set(ids[d.seeded:-1]) <= set(sent), "unexpected entries in the log")
    t.diag("%d of %d orphaned writes were applied" % (len(items) - d.seeded - 1, len(sent)))


@test("garbage from one peer while another writes: every write is applied exactly once")
def _(t):
    d = seeded(t)
    bodies = [b for _, b in LIARS] + [b"\xc1", b"", b"\x91" * 1000 + b"\xc0",
                                      encode({"op": "ping", 1: 2}), encode([1, 2, 3]),
                                      valid_write() + b"\x00"]
    stop = threading.Event()
    counts = {"garbage": 0, "bad": 0, "errors": []}

    def spam():
        x = context().socket(zmq.DEALER)
        x.setsockopt(zmq.LINGER, 0)
        x.connect(d.submit)
        rnd = random.Random(1)
        inflight = 0
        try:
            while not stop.is_set():
                while inflight < 50:
                    x.send_multipart([b"", rnd.choice(bodies)])
                    inflight += 1
                    counts["garbage"] += 1
                if x.poll(1000):
                    r = check_reply(decode(x.recv_multipart()[-1]))
                    inflight -= 1
                    if r["ok"]:
                        counts["bad"] += 1
        except Exception as e:
            counts["errors"].append(repr(e))
        finally:
            x.close(0)

    th = threading.Thread(target=spam)
    th.start()
    try:
        with d.pipeline(window=20) as p, d.client() as c:
            reqs = [wreq("case.note", case=1 + i % 3, text="real %d" % i) for i in range(300)]
            reps = p.run(reqs, timeout=60)
            t.check(all(r["ok"] for r in reps), "a real write failed")
            stop.set()
            th.join(30)
            items, _ = read_log(c)
    finally:
        stop.set()
        th.join(30)
    t.eq(counts["bad"], 0, "garbage answered ok")
    t.eq(counts["errors"], [], "errors in the garbage thread")
    t.eq([e["seq"] for e in items], list(range(1, d.seeded + 301)), "log seqs")
    t.eq(sorted(e["id"] for e in items[d.seeded:]), sorted(r["id"] for r in reqs),
         "ids in the log")
    t.diag("%d garbage messages sent meanwhile" % counts["garbage"])


if __name__ == "__main__":
    run_tests()
