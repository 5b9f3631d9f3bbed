"""
pyclient - an independent Python client for nantid, and the helpers the integration
tests share.

The client half is written from docs/protocol.md alone, never from the daemon's or the C
client's source: if this file and the daemon disagree, one of them (or the document) is
wrong, and test_python_client.py says so. It covers:

  * ids: new_id() makes "<unix-ms in 12 hex digits>-<random hex>" (section 3);
  * ReqClient: a REQ socket, one request at a time (section 1);
  * Pipeline: a DEALER socket, many requests in flight, replies matched by the echoed
    id, never by order (section 1), with a window so that the daemon's per-peer queue
    never overflows;
  * read_log(), list_cases(), case_history(): log.read, case.list and case.get paging
    (section 11);
  * Subscriber: the "missing nothing" recipe of section 7;
  * today(): the county's calendar day, which deadlines and meeting dates are judged by
    (section 2);
  * build_county(): a county with townships, a street, an organ, villages and people of
    every role, built through the daemon with unit.put and person.put (sections 9 and 11),
    for the tests to share;
  * check_reply(): the shape every reply must have (sections 4 and 5);
  * raw MessagePack builders for the hostile tests (headers that lie, invalid UTF-8,
    duplicate keys), which the msgpack package refuses to produce.

The test half:

  * Daemon: start build/nantid on a fresh temporary directory, wait until ping answers,
    stop it with a signal, kill -9 it, restart it on the same directories, read its
    stderr and its resident set size; d.build_county() gives it the shared county;
  * @test(NAME), T and run_tests(): run named test functions and print "ok - NAME" /
    "not ok - NAME" with "# " diagnostics, the format tests/run counts; every daemon a
    test starts with t.daemon() is killed when the test ends, whatever happened.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""

import atexit
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import msgpack
import zmq

# ---------------------------------------------------------------------------------------
# Protocol constants (docs/protocol.md)

WRITE_OPS = ("unit.put", "person.put", "campaign.set", "case.open", "case.plan",
             "case.consult", "case.commit", "case.coordinate", "case.resolve", "case.journal",
             "case.outcome", "case.verify", "case.reopen", "case.reassign", "case.note",
             "case.escalate", "case.guarantee", "case.repeat")
READ_OPS = ("ping", "stats", "unit.get", "unit.list", "person.get", "person.list",
            "campaign.get", "case.get", "case.list", "log.read")
STEPS = ("identified", "planned", "committed", "resolved", "journaled", "crossed_off")
ROLES = ("cadre", "resident_cadre", "leader", "unit_head", "county_leader", "theme_office",
         "supervision", "admin")
CASE_KINDS = ("problem", "petition", "household_issue", "lagging_village")
AREAS = ("grassroots", "development", "livelihood")
UTC_OFFSET = 8 * 3600       # "today" is the day in China Standard Time (section 2)
ERROR_CODES = ("bad_request", "unknown_op", "not_found", "conflict", "invalid_transition",
               "forbidden", "too_large", "unavailable", "internal")
RETRYABLE = ("unavailable", "internal")
MAX_FRAME = 65536
MAX_FRAMES = 8
MAX_DEPTH = 8


class ProtocolError(Exception):
    """The daemon said something docs/protocol.md does not allow."""


class Timeout(Exception):
    """No reply in time (the daemon may be down, slow, or may have dropped us)."""


# ---------------------------------------------------------------------------------------
# Encoding

def new_id():
    """A fresh time-ordered request id: 12 hex digits of Unix ms, '-', 16 random hex."""
    return "%012x-%016x" % (int(time.time() * 1000), random.getrandbits(64))


def valid_id(v):
    """Is v an id the daemon must echo (a str of 1..64 bytes)?  Whether an invalid id
    string is echoed, the document leaves open."""
    return isinstance(v, str) and 1 <= len(v.encode("utf-8", "surrogatepass")) <= 64


def now_ms():
    return int(time.time() * 1000)


def today(days=0):
    """The county's calendar day (UTC+8), plus days, as "YYYY-MM-DD" (section 2)."""
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() + UTC_OFFSET + days * 86400))


def encode(obj):
    """One MessagePack object, strings as str, bytes as bin."""
    return msgpack.packb(obj, use_bin_type=True)


def decode(buf):
    """Strict decoding of one reply body: exactly one object, valid UTF-8 in every str,
    map keys str or bytes (check_reply() then insists on str)."""
    return msgpack.unpackb(buf, raw=False, strict_map_key=False, use_list=True)


def _check_keys(obj, where):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                raise ProtocolError("%s: non-string map key %r" % (where, k))
            _check_keys(v, where + "." + k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _check_keys(v, "%s[%d]" % (where, i))


def check_reply(reply, req_id=None):
    """Raise ProtocolError unless reply has the shape of sections 4 and 5; if req_id is
    given, the reply must echo it. Returns reply."""
    if not isinstance(reply, dict):
        raise ProtocolError("reply is not a map: %r" % (reply,))
    _check_keys(reply, "reply")
    ok = reply.get("ok")
    if not isinstance(ok, bool):
        raise ProtocolError("reply has no boolean ok: %r" % (reply,))
    if ok:
        seq = reply.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise ProtocolError("ok reply without a seq >= 0: %r" % (reply,))
        if "duplicate" in reply and reply["duplicate"] is not True:
            raise ProtocolError("duplicate present but not true: %r" % (reply,))
    else:
        err = reply.get("error")
        if not isinstance(err, dict):
            raise ProtocolError("error reply without an error map: %r" % (reply,))
        if err.get("code") not in ERROR_CODES:
            raise ProtocolError("error reply with an unknown code: %r" % (reply,))
        if not isinstance(err.get("message"), str) or err["message"] == "":
            raise ProtocolError("error reply without a message: %r" % (reply,))
    if req_id is not None and reply.get("id") != req_id:
        raise ProtocolError("reply does not echo id %r: %r" % (req_id, reply))
    return reply


def error_code(reply):
    """The error code of a reply, or None for a success."""
    if reply.get("ok"):
        return None
    return reply["error"]["code"]


# ---------------------------------------------------------------------------------------
# Raw MessagePack, for input the msgpack package will not produce

def mp_uint(n, width):
    """An unsigned integer in exactly the given width (0: fixint)."""
    if width == 0:
        assert 0 <= n < 128
        return bytes([n])
    fmt = {1: (0xcc, ">B"), 2: (0xcd, ">H"), 4: (0xce, ">I"), 8: (0xcf, ">Q")}[width]
    return bytes([fmt[0]]) + struct.pack(fmt[1], n)


def mp_int(n, width):
    """A signed integer in exactly the given width (int8..int64)."""
    fmt = {1: (0xd0, ">b"), 2: (0xd1, ">h"), 4: (0xd2, ">i"), 8: (0xd3, ">q")}[width]
    return bytes([fmt[0]]) + struct.pack(fmt[1], n)


def mp_str_header(n, width=None):
    """A str header declaring n bytes (width None: the smallest)."""
    if width is None:
        width = 0 if n < 32 else 1 if n < 256 else 2 if n < 65536 else 4
    if width == 0:
        return bytes([0xa0 | n])
    return {1: b"\xd9" + struct.pack(">B", n), 2: b"\xda" + struct.pack(">H", n),
            4: b"\xdb" + struct.pack(">I", n)}[width]


def mp_str_raw(b):
    """A str whose payload is the bytes b as they are (they need not be UTF-8)."""
    return mp_str_header(len(b)) + b


def mp_bin(b):
    n = len(b)
    if n < 256:
        return b"\xc4" + struct.pack(">B", n) + b
    if n < 65536:
        return b"\xc5" + struct.pack(">H", n) + b
    return b"\xc6" + struct.pack(">I", n) + b


def mp_map_header(n):
    if n < 16:
        return bytes([0x80 | n])
    if n < 65536:
        return b"\xde" + struct.pack(">H", n)
    return b"\xdf" + struct.pack(">I", n)


def mp_array_header(n):
    if n < 16:
        return bytes([0x90 | n])
    if n < 65536:
        return b"\xdc" + struct.pack(">H", n)
    return b"\xdd" + struct.pack(">I", n)


def mp_map_raw(pairs):
    """A map from a list of (key, value) pairs, each already encoded bytes or a Python
    value to encode; keys may repeat."""
    out = [mp_map_header(len(pairs))]
    for k, v in pairs:
        out.append(k if isinstance(k, bytes) else encode(k))
        out.append(v if isinstance(v, bytes) else encode(v))
    return b"".join(out)


# ---------------------------------------------------------------------------------------
# Sockets

_ctx = None
_ctx_lock = threading.Lock()


def free_port_pair():
    """A port P on 127.0.0.1 with P+1 also free (just now): --listen-tcp serves requests
    on P and notifications on P+1."""
    import socket
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


def context():
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            _ctx = zmq.Context()
        return _ctx


def curve_client(sock, curve):
    """Make sock a CURVE client before it connects: curve is (server public key, our
    public key, our secret key), each 40 characters of Z85 (section 1), or None."""
    if curve is None:
        return
    server, public, secret = (k.encode() if isinstance(k, str) else k for k in curve)
    sock.curve_serverkey = server
    sock.curve_publickey = public
    sock.curve_secretkey = secret


class _Socket:
    """What every client here does with its one socket: close it, and be a context manager."""

    sock = None

    def close(self):
        if self.sock is not None:
            self.sock.close(0)
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ReqClient(_Socket):
    """A REQ socket: one request, its reply, repeat (section 1).

    call(op, **fields) sends {"op": op, **fields} as it is; write(op, actor, **fields)
    adds a fresh id (or the one given). A reply that does not come within timeout raises
    Timeout; the socket is then replaced, since a REQ socket that lost its reply can send
    nothing more."""

    def __init__(self, endpoint, timeout=10.0, curve=None):
        """curve: (server public key, client public key, client secret key), Z85, for a
        tcp endpoint (section 1: authentication)."""
        self.endpoint = endpoint
        self.timeout = timeout
        self.curve = curve
        self.sock = None
        self._open()

    def _open(self):
        self.sock = context().socket(zmq.REQ)
        self.sock.setsockopt(zmq.LINGER, 0)
        curve_client(self.sock, self.curve)
        self.sock.connect(self.endpoint)

    def reset(self):
        self.sock.close(0)
        self._open()

    def send_raw(self, body, timeout=None):
        """Send one body frame (bytes) and return the reply frame (bytes)."""
        self.sock.send(body)
        if not self.sock.poll(int((timeout or self.timeout) * 1000), zmq.POLLIN):
            self.reset()
            raise Timeout("no reply from %s" % self.endpoint)
        return self.sock.recv()

    def request(self, req, timeout=None):
        """Send the map req, return its decoded and shape-checked reply."""
        body = self.send_raw(encode(req), timeout)
        reply = check_reply(decode(body))
        if valid_id(req.get("id")) and reply.get("id") != req["id"]:
            raise ProtocolError("reply does not echo id %r: %r" % (req["id"], reply))
        return reply

    def call(self, op, timeout=None, **fields):
        req = {"op": op}
        req.update(fields)
        return self.request(req, timeout)

    def write(self, op, actor="wang.li", id=None, timeout=None, **fields):
        req = {"op": op, "id": id or new_id(), "actor": actor}
        req.update(fields)
        return self.request(req, timeout)


class Pipeline(_Socket):
    """A DEALER socket with many requests in flight (section 1).

    Each request goes out as an empty frame then the body; each reply is matched to its
    request by the echoed id, never by order. send() gives a request an id if it has
    none. run() sends a list of requests keeping at most `window` in flight and returns
    the replies in the order of the requests."""

    def __init__(self, endpoint, window=100, timeout=10.0):
        self.endpoint = endpoint
        self.window = window
        self.timeout = timeout
        self.pending = {}       # id -> request
        self.replies = {}       # id -> reply, for replies not yet taken
        self.stray = []         # replies whose id matched nothing in flight
        self.sock = None
        self._open()

    def _open(self):
        self.sock = context().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        self.sock.connect(self.endpoint)

    def reconnect(self):
        """A new connection; requests in flight stay pending (resend them with resend())."""
        self.sock.close(0)
        self._open()

    def resend(self):
        for req in list(self.pending.values()):
            self.sock.send_multipart([b"", encode(req)])

    def send(self, req):
        if "id" not in req:
            req = dict(req, id=new_id())
        if req["id"] in self.pending:
            raise ValueError("id %r already in flight" % req["id"])
        self.pending[req["id"]] = req
        self.sock.send_multipart([b"", encode(req)])
        return req["id"]

    def send_frames(self, frames):
        """Raw frames as they are (no delimiter added)."""
        self.sock.send_multipart(frames)

    def recv_frames(self, timeout=None):
        if not self.sock.poll(int((self.timeout if timeout is None else timeout) * 1000),
                              zmq.POLLIN):
            raise Timeout("no reply from %s" % self.endpoint)
        return self.sock.recv_multipart()

    def recv(self, timeout=None):
        """Receive one reply, check its shape, match it; return (request, reply).
        A reply matching nothing in flight goes to self.stray and raises ProtocolError."""
        frames = self.recv_frames(timeout)
        if len(frames) != 2 or frames[0] != b"":
            raise ProtocolError("reply is not [empty, body]: %r" % (frames,))
        reply = check_reply(decode(frames[1]))
        rid = reply.get("id")
        req = self.pending.pop(rid, None) if isinstance(rid, str) else None
        if req is None:
            self.stray.append(reply)
            raise ProtocolError("reply matches no request in flight: %r" % (reply,))
        return req, reply

    def wait(self, rid, timeout=None):
        """The reply to the request with id rid (others received meanwhile are kept)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while rid not in self.replies:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("no reply to %s" % rid)
            req, reply = self.recv(left)
            self.replies[req["id"]] = reply
        return self.replies.pop(rid)

    def run(self, reqs, timeout=None):
        """Send every request (window at a time), return their replies in request order."""
        ids = []
        out = {}
        it = iter(reqs)
        more = True
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout) \
            + len(reqs) * 0.05
        while more or len(out) < len(ids):
            while more and len(ids) - len(out) < self.window:
                try:
                    ids.append(self.send(next(it)))
                except StopIteration:
                    more = False
            if len(out) < len(ids):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout("%d replies missing" % (len(ids) - len(out)))
                req, reply = self.recv(left)
                out[req["id"]] = reply
        return [out[i] for i in ids]


def read_log(client, after=0, topic=None, limit=None):
    """Page through log.read from after until next >= seq (section 11).
    Returns (items, cursor) where cursor is the last reply's next."""
    items = []
    cursor = after
    while True:
        req = {"op": "log.read", "after": cursor}
        if topic is not None:
            req["topic"] = topic
        if limit is not None:
            req["limit"] = limit
        r = client.request(req)
        if not r["ok"]:
            raise ProtocolError("log.read failed: %r" % (r,))
        for k in ("items", "next"):
            if k not in r:
                raise ProtocolError("log.read reply without %s: %r" % (k, r))
        items.extend(r["items"])
        if r["next"] >= r["seq"]:
            return items, r["next"]
        if r["next"] <= cursor:
            raise ProtocolError("log.read made no progress: after %d, reply %r"
                                % (cursor, {k: r[k] for k in ("seq", "next")}))
        cursor = r["next"]


def list_cases(client, **filters):
    """Page through case.list until next is nil; returns every item."""
    items = []
    after = 0
    while True:
        req = {"op": "case.list", "after": after}
        req.update(filters)
        r = client.request(req)
        if not r["ok"]:
            raise ProtocolError("case.list failed: %r" % (r,))
        items.extend(r["items"])
        if r["next"] is None:
            return items
        if r["next"] <= after:
            raise ProtocolError("case.list made no progress: after %d next %r"
                                % (after, r["next"]))
        after = r["next"]


def case_history(client, case, limit=None):
    """Page through a case's history with case.get until next is nil; returns (case,
    history)."""
    history = []
    after = 0
    while True:
        req = {"op": "case.get", "case": case, "after": after}
        if limit is not None:
            req["limit"] = limit
        r = client.request(req)
        if not r["ok"]:
            raise ProtocolError("case.get failed: %r" % (r,))
        history.extend(r["history"])
        if r["next"] is None:
            return r["case"], history
        if r["next"] <= after:
            raise ProtocolError("case.get made no progress: after %d next %r"
                                % (after, r["next"]))
        after = r["next"]


class Subscriber:
    """The "missing nothing" subscriber of section 7.

    topic: a prefix ("" for everything). Entries are handed over in seq order, each once,
    in self.entries; poll() returns those it added. self.live counts entries taken from
    live messages, self.caught_up those taken from log.read."""

    def __init__(self, events_endpoint, submit_endpoint, topic="", cursor=0, curve=None):
        self.topic = topic
        self.cursor = cursor
        self.entries = []
        self.live = 0
        self.caught_up = 0
        self.heartbeats = 0
        self.sub = context().socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.RCVHWM, 0)
        # step 1: subscribe to the prefixes and to heartbeat
        self.sub.setsockopt(zmq.SUBSCRIBE, topic.encode())
        if topic != "":
            self.sub.setsockopt(zmq.SUBSCRIBE, b"heartbeat")
        curve_client(self.sub, curve)
        self.sub.connect(events_endpoint)
        self.client = ReqClient(submit_endpoint, curve=curve)
        self._new = []
        # step 2
        self.catch_up()

    def close(self):
        self.sub.close(0)
        self.client.close()

    def _take(self, entry, live):
        if entry["seq"] <= self.cursor:
            return
        self.entries.append(entry)
        self._new.append(entry)
        if live:
            self.live += 1
        else:
            self.caught_up += 1

    def catch_up(self):
        """Step 2: page through log.read from the cursor until next >= seq."""
        items, cursor = read_log(self.client, self.cursor,
                                 self.topic if self.topic != "" else None)
        for e in items:
            self._take(e, False)
        self.cursor = max(self.cursor, cursor)

    def poll(self, timeout=1.0):
        """Handle live messages for up to timeout seconds (returns at the first one
        handled); returns the entries newly processed."""
        self._new = []
        if self.sub.poll(int(timeout * 1000), zmq.POLLIN):
            while True:
                try:
                    frames = self.sub.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                self.handle(frames)
        return self._new

    def handle(self, frames):
        if len(frames) != 2:
            raise ProtocolError("live message of %d frames" % len(frames))
        msg = decode(frames[1])
        _check_keys(msg, "notification")
        topic = frames[0].decode("utf-8")
        if msg.get("topic") != topic:
            raise ProtocolError("topic frame %r but map topic %r" % (topic, msg.get("topic")))
        if topic == "heartbeat":
            self.heartbeats += 1
            if msg["last_seq"] > self.cursor:          # step 4
                self.catch_up()
            return
        seq = msg["seq"]
        if seq <= self.cursor:                          # step 3: a duplicate
            return
        if self.topic == "" and seq == self.cursor + 1:
            self._take(msg, True)
            self.cursor = seq
        else:
            self.catch_up()


# ---------------------------------------------------------------------------------------
# A county to work in (sections 8, 9 and 11)

class County:
    """The county build_county() makes: its units, its people, and what building it wrote.

    The tree:                                 The people (id: unit, roles):
      county   示范县 (county)                   admin          county   admin
        anling   安岭乡 (township)               theme          county   theme_office
          xiaxi    下溪村 (village)              supervisor     county   supervision
          shangxi  上溪村 (village)              county.leader  county   county_leader
        tianshi  田市镇 (township)               head.anling    anling   cadre leader unit_head
          dongcun  东村 (village)                wang.li        anling   cadre leader
        nanfeng  南峰街道 (street)               li.ming        anling   cadre
          beijie   北街社区 (village)            xu.cun         xiaxi    cadre
        water    县水利局 (organ)                head.tianshi   tianshi  cadre leader unit_head
                                                 chen.jie       tianshi  cadre leader
                                                 zhao.hua       water    cadre resident_cadre,
                                                                         stationed in dongcun
    The admin is created during the bootstrap (section 9), right after the county; every
    later put is made by the admin."""

    UNITS = (   # (unit, name, kind, parent), parents first
        ("county", "示范县", "county", None),
        ("anling", "安岭乡", "township", "county"),
        ("tianshi", "田市镇", "township", "county"),
        ("nanfeng", "南峰街道", "street", "county"),
        ("water", "县水利局", "organ", "county"),
        ("xiaxi", "下溪村", "village", "anling"),
        ("shangxi", "上溪村", "village", "anling"),
        ("dongcun", "东村", "village", "tianshi"),
        ("beijie", "北街社区", "village", "nanfeng"),
    )
    PEOPLE = (  # (person, name, unit, roles, village)
        ("admin", "管理员", "county", ["admin"], None),
        ("theme", "县主题办", "county", ["theme_office"], None),
        ("supervisor", "市委督查室", "county", ["supervision"], None),
        ("county.leader", "县领导", "county", ["county_leader"], None),
        ("head.anling", "安岭乡乡长", "anling", ["cadre", "leader", "unit_head"], None),
        ("wang.li", "王立", "anling", ["cadre", "leader"], None),
        ("li.ming", "李明", "anling", ["cadre"], None),
        ("xu.cun", "徐村", "xiaxi", ["cadre"], None),
        ("head.tianshi", "田市镇镇长", "tianshi", ["cadre", "leader", "unit_head"], None),
        ("chen.jie", "陈杰", "tianshi", ["cadre", "leader"], None),
        ("zhao.hua", "赵华", "water", ["cadre", "resident_cadre"], "dongcun"),
    )
    ADMIN = "admin"
    THEME = "theme"
    SUPERVISION = "supervisor"
    COUNTY_LEADER = "county.leader"
    HEAD = "head.anling"            # unit head of anling (and so of xiaxi and shangxi)
    CADRE = "wang.li"               # a leadership member of anling: may take petitions
    OTHER_HEAD = "head.tianshi"
    OTHER_CADRE = "chen.jie"
    RESIDENT = "zhao.hua"

    def __init__(self):
        self.seq = 0            # the last seq once the county is built
        self.ids = []           # request ids of the puts that wrote a log entry
        self.replies = []       # every put's reply, in order

    def person(self, pid):
        return next(p for p in self.PEOPLE if p[0] == pid)

    def unit(self, uid):
        return next(u for u in self.UNITS if u[0] == uid)


def unit_put_req(unit, name, kind, parent=None, actor=County.ADMIN):
    req = {"op": "unit.put", "id": new_id(), "actor": actor, "unit": unit, "name": name,
           "kind": kind}
    if parent is not None:
        req["parent"] = parent
    return req


def person_put_req(person, name, unit, roles, village=None, actor=County.ADMIN):
    req = {"op": "person.put", "id": new_id(), "actor": actor, "person": person,
           "name": name, "unit": unit, "roles": list(roles)}
    if village is not None:
        req["village"] = village
    return req


def build_county(client):
    """Build County's units and people through the daemon (a ReqClient or anything with
    request()). Safe to call again on the same ledger: puts of records that are already
    so change nothing (changed: false). Raises ProtocolError if a put is refused.
    Returns a County whose seq is the last seq afterwards."""
    county = County()
    reqs = [unit_put_req(*County.UNITS[0][:3]),
            person_put_req(*County.PEOPLE[0])]
    reqs += [unit_put_req(*u) for u in County.UNITS[1:]]
    reqs += [person_put_req(*p) for p in County.PEOPLE[1:]]
    for req in reqs:
        r = client.request(req)
        if not r["ok"] or not isinstance(r.get("changed"), bool):
            raise ProtocolError("building the county: %r -> %r" % (req, r))
        county.replies.append(r)
        if r["changed"]:
            county.ids.append(req["id"])
        county.seq = max(county.seq, r["seq"])
    return county


# ---------------------------------------------------------------------------------------
# The daemon under test

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NANTID = os.environ.get("NANTID", os.path.join(ROOT, "build", "nantid"))

_live_daemons = set()


def _kill_all():
    for d in list(_live_daemons):
        d.kill9()


atexit.register(_kill_all)


class DaemonError(Exception):
    pass


class Daemon:
    """build/nantid on a fresh temporary directory.

    The base directory is short and under /tmp (ipc paths must stay under 100 bytes):
    BASE/state is --state-dir, BASE/run is --runtime-dir, BASE/stderr.log collects the
    daemon's stderr across restarts."""

    def __init__(self, binary=None, state_dir=None, run_dir=None, args=(), env=None,
                 runtime_flag=True, cwd=None):
        """runtime_flag False: no --runtime-dir; run_dir is then where the daemon is
        expected to bind by default (see set_run_dir()). env: variables to set (a value
        None removes the variable)."""
        self.binary = binary or NANTID
        self.base = tempfile.mkdtemp(prefix="nt-", dir="/tmp")
        self.state_dir = state_dir or os.path.join(self.base, "state")
        os.makedirs(self.state_dir, exist_ok=True)
        self.runtime_flag = runtime_flag
        if runtime_flag:
            self.set_run_dir(run_dir or os.path.join(self.base, "run"))
            os.makedirs(self.run_dir, exist_ok=True)
        else:
            self.set_run_dir(run_dir or os.path.join(self.base, "unknown"))
        self.args = list(args)
        self.env = env
        self.cwd = cwd
        self.log_path = os.path.join(self.base, "stderr.log")
        self.proc = None
        self.starts = 0

    def set_run_dir(self, path):
        self.run_dir = path
        self.submit = "ipc://" + os.path.join(path, "submit.sock")
        self.events = "ipc://" + os.path.join(path, "events.sock")
        if len(self.submit) >= 100:
            raise DaemonError("ipc path too long: %s" % self.submit)

    def configure(self, text):
        """Write text as the daemon's configuration file (base/nantid.conf) and start it
        with --config on that file from now on; the file's path."""
        path = os.path.join(self.base, "nantid.conf")
        with open(path, "w") as f:
            f.write(text)
        if "--config" not in self.args:
            self.args = list(self.args) + ["--config", path]
        return path

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def command(self):
        cmd = [self.binary, "--state-dir", self.state_dir]
        if self.runtime_flag:
            cmd += ["--runtime-dir", self.run_dir]
        return cmd + self.args

    def start(self, wait=True, timeout=10.0):
        if not os.access(self.binary, os.X_OK):
            raise DaemonError("%s not found (make build/nantid)" % self.binary)
        if self.proc is not None and self.proc.poll() is None:
            raise DaemonError("already running")
        env = dict(os.environ)
        for k, v in (self.env or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(("--- start %d\n" % self.starts).encode())
            log.flush()
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, env=env, cwd=self.cwd)
        _live_daemons.add(self)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=10.0):
        """Poll ping until it succeeds; DaemonError if the daemon exits or never answers."""
        deadline = time.monotonic() + timeout
        c = ReqClient(self.submit, timeout=0.5)
        try:
            while True:
                rc = self.proc.poll()
                if rc is not None:
                    raise DaemonError("nantid exited with %d before answering ping:\n%s"
                                      % (rc, self.stderr_tail()))
                try:
                    r = c.call("ping")
                    if r.get("ok"):
                        return r
                except Timeout:
                    pass
                if time.monotonic() > deadline:
                    raise DaemonError("nantid did not answer ping within %gs:\n%s"
                                      % (timeout, self.stderr_tail()))
                time.sleep(0.05)
        finally:
            c.close()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if self.running():
            self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        """Send sig and wait for the exit; returns the exit status (negative: a signal).
        If it does not exit within timeout it is killed and DaemonError raised."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
                raise DaemonError("nantid did not exit within %gs of signal %d"
                                  % (timeout, sig))
        _live_daemons.discard(self)
        return self.proc.returncode

    def wait_exit(self, timeout=30.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            self.proc.wait()
        _live_daemons.discard(self)

    def restart(self, wait=True, timeout=10.0):
        """Start again on the same directories (after stop() or kill9())."""
        if self.running():
            raise DaemonError("restart while running")
        return self.start(wait, timeout)

    def stderr(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stderr_tail(self, n=15):
        return "\n".join(self.stderr().splitlines()[-n:])

    def rss_kb(self):
        """Resident set size from /proc/PID/status (VmRSS), in kB."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise DaemonError("no VmRSS for pid %d" % self.proc.pid)

    def server_key(self):
        """The daemon's CURVE public key (STATE/curve.public), made on its first start."""
        with open(os.path.join(self.state_dir, "curve.public")) as f:
            return f.read().strip()

    def curve_for(self, person, admin="admin"):
        """A fresh CURVE key pair for person, registered by admin over ipc (key.add);
        the curve argument of ReqClient: (server key, public key, secret key)."""
        public, secret = (k.decode() for k in zmq.curve_keypair())
        with self.client() as c:
            r = c.write("key.add", actor=admin, person=person, key=public)
        if not r.get("ok"):
            raise ProtocolError("key.add for %s: %r" % (person, r))
        return (self.server_key(), public, secret)

    def client(self, timeout=10.0):
        return ReqClient(self.submit, timeout)

    def pipeline(self, window=100, timeout=10.0):
        return Pipeline(self.submit, window, timeout)

    def build_county(self):
        """build_county() over a fresh connection; returns the County."""
        with self.client() as c:
            return build_county(c)

    def cleanup(self):
        self.kill9()
        shutil.rmtree(self.base, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# Letting days pass for the daemon

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* CLOCK_REALTIME moved on by $NANTI_TEST_SHIFT_S seconds: the test's way of letting days
 * pass for the daemon; or by the number in the file $NANTI_TEST_SHIFT_FILE, read again
 * every 50 ms of monotonic time, to jump the clock of a running daemon. */
static long file_shift(int (*real)(clockid_t, struct timespec *), const char *path)
{
	static long shift, last_ms = -1000;
	struct timespec m;
	long now;
	FILE *f;

	real(CLOCK_MONOTONIC, &m);
	now = m.tv_sec * 1000 + m.tv_nsec / 1000000;
	if (now - last_ms >= 50 && (f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%ld", &shift) != 1)
			shift = 0;
		fclose(f);
		last_ms = now;
	}
	return shift;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);
	const char *s;
	int rc;

	if (real == NULL)
		real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	rc = real(id, ts);
	if (rc == 0 && id == CLOCK_REALTIME && (s = getenv("NANTI_TEST_SHIFT_FILE")) != NULL)
		ts->tv_sec += file_shift(real, s);
	else if (rc == 0 && id == CLOCK_REALTIME && (s = getenv("NANTI_TEST_SHIFT_S")) != NULL)
		ts->tv_sec += atol(s);
	return rc;
}
"""


def clock_shim(t):
    """Build the LD_PRELOAD library that moves the daemon's clock (once per test); its
    path. Start a daemon with env {"LD_PRELOAD": lib, "NANTI_TEST_SHIFT_S": seconds} to let
    time pass for it."""
    if getattr(t, "shim", None):
        return t.shim
    tmp = tempfile.mkdtemp(prefix="nt-shim-", dir="/tmp")
    t.defer(lambda: subprocess.run(["rm", "-rf", tmp]))
    src, lib = os.path.join(tmp, "shim.c"), os.path.join(tmp, "shim.so")
    with open(src, "w") as fh:
        fh.write(SHIM)
    r = subprocess.run([os.environ.get("CC", "cc"), "-shared", "-fPIC", "-O2", "-o", lib, src,
                        "-ldl"], capture_output=True, timeout=60)
    t.require(r.returncode == 0, "cannot build the clock shim: %s" % r.stderr.decode())
    t.shim = lib
    return lib


class Notify:
    """A NOTIFY_SOCKET of the test's own, as systemd would bind it for a Type=notify unit:
    give daemon d its path (d.env), then wait_for() the states it sends."""

    def __init__(self, t, d):
        import socket
        self.path = os.path.join(d.base, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        t.defer(self.sock.close)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.d = d
        self.msgs = []      # every datagram, in order, as text

    def env(self):
        return {"NOTIFY_SOCKET": self.path}

    def drain(self, quiet=0.2):
        """Read what has come, until nothing more comes for `quiet` seconds (0: only what
        is queued now: a daemon sending every 0.2 s would otherwise keep it reading)."""
        import socket
        self.sock.settimeout(quiet if quiet > 0 else None)
        if quiet <= 0:
            self.sock.setblocking(False)
        try:
            while True:
                try:
                    self.msgs.append(self.sock.recv(4096).decode(errors="replace"))
                except (socket.timeout, BlockingIOError):
                    return
        finally:
            self.sock.settimeout(0.2)

    def wait_for(self, line, timeout=15.0, start=0):
        """True once a datagram from msgs[start] on holds the line `line` (or starts with
        it, for "STATUS=")."""
        import socket
        deadline = time.monotonic() + timeout
        seen = start
        while True:
            for m in self.msgs[seen:]:
                if any(x == line or (line.endswith("=") and x.startswith(line))
                       for x in m.split("\n")):
                    return True
            seen = len(self.msgs)
            if time.monotonic() >= deadline:
                return False
            try:
                self.msgs.append(self.sock.recv(4096).decode(errors="replace"))
            except socket.timeout:
                pass


def kill_at_random(d, times, seed, longest):
    """Start daemon d and SIGKILL it at a random moment within `longest` seconds, `times`
    times over (the moments from a random.Random(seed)), then start it once more."""
    import random
    rng = random.Random(seed)
    for _ in range(times):
        d.start()
        time.sleep(rng.uniform(0.0, longest))
        d.kill9()
    d.start()


# The county's hour that a shifted clock lands on: before the daemon's 09:00 firings (the
# reminders, each level of a chase), so that `days` later is the same moment of the
# county's day whenever the tests run.
SHIFT_LANDS_AT = 8 * 3600 + 30 * 60


def restart_shifted(t, d, days):
    """Restart daemon d with its clock on `days` (a whole number) later in the county's
    calendar, at SHIFT_LANDS_AT that day."""
    now = time.time()
    tod = (now + UTC_OFFSET) % 86400
    d.stop()
    d.env = {"LD_PRELOAD": clock_shim(t),
             "NANTI_TEST_SHIFT_S": str(int(days * 86400 + SHIFT_LANDS_AT - tod))}
    d.restart()


# ---------------------------------------------------------------------------------------
# Reporting

class TestFailed(Exception):
    pass


class T:
    """What a test function receives: checks that record and go on, checks that stop,
    diagnostics, and daemons that are killed when the test ends."""

    def __init__(self, name):
        self.name = name
        self.failures = 0
        self.daemons = []
        self.cleanups = []

    def diag(self, msg):
        for line in str(msg).splitlines() or [""]:
            print("# " + line)
        sys.stdout.flush()

    def check(self, cond, msg="check failed"):
        """Record a failure (and go on) unless cond."""
        if not cond:
            self.failures += 1
            frame = traceback.extract_stack(limit=2)[0]
            self.diag("%s:%d: %s" % (os.path.basename(frame.filename), frame.lineno, msg))
        return bool(cond)

    def eq(self, got, want, what="value"):
        return self.check(got == want, "%s: got %r, want %r" % (what, got, want))

    def require(self, cond, msg="requirement failed"):
        """Stop the test unless cond."""
        if not cond:
            raise TestFailed(msg)

    def fail(self, msg):
        raise TestFailed(msg)

    def daemon(self, start=True, **kw):
        d = Daemon(**kw)
        self.daemons.append(d)
        if start:
            d.start()
        return d

    def defer(self, fn):
        self.cleanups.append(fn)


_tests = []


def test(name):
    """Decorator: register fn(t) as the test called name."""
    def wrap(fn):
        _tests.append((name, fn))
        return fn
    return wrap


def run_tests(argv=None):
    """Run every registered test (those whose name contains argv[1], if given), print
    one ok / not ok line each, and exit 1 if any failed."""
    argv = sys.argv if argv is None else argv
    pattern = argv[1] if len(argv) > 1 else ""
    failed = 0
    ran = 0
    for name, fn in _tests:
        if pattern and pattern not in name:
            continue
        ran += 1
        t = T(name)
        try:
            fn(t)
        except TestFailed as e:
            t.failures += 1
            t.diag(str(e))
        except Exception:
            t.failures += 1
            t.diag(traceback.format_exc().rstrip())
        finally:
            for c in reversed(t.cleanups):
                try:
                    c()
                except Exception:
                    t.diag("cleanup: " + traceback.format_exc().splitlines()[-1])
            for d in t.daemons:
                if t.failures and d.starts:
                    t.diag("nantid stderr (last lines):\n" + d.stderr_tail())
                d.cleanup()
        print("%s - %s" % ("not ok" if t.failures else "ok", name))
        sys.stdout.flush()
        if t.failures:
            failed += 1
    if ran == 0:
        print("not ok - no test matched %r" % pattern)
        failed += 1
    sys.exit(1 if failed else 0)
