#!/usr/bin/python3
"""
test_auth.py - authentication through the real daemon (docs/protocol.md section 1,
docs/security.md "Authentication"): CURVE on tcp with keys registered in the ledger, a key
that is unknown, revoked (also on a connection already open) or replaced, a tcp client
without CURVE, a key of one person naming another actor, ipc peers by uid (ipc-users),
the daemon's own key pair, and keys carried by an export.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack), as root (the ipc
tests run clients as other uids).
"""
import json
import os
import stat
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import zmq  # noqa: E402

from pyclient import (  # noqa: E402
    NANTID, ROOT, County, ReqClient, Timeout, context, curve_client, error_code,
    free_port_pair, new_id, read_log, run_tests, test)

NANTI = os.path.join(ROOT, "build", "nanti")
CADRE = County.CADRE
OTHER = County.OTHER_CADRE
ADMIN = County.ADMIN
REFUSED_WAIT = 1.5      # seconds a refused handshake is given to answer (it never does)


class Tcp:
    """A daemon with a tcp endpoint and the shared county."""

    def __init__(self, t, extra=()):
        self.port = free_port_pair()
        self.d = t.daemon(args=["--listen-tcp", "127.0.0.1:%d" % self.port] + list(extra))
        self.county = self.d.build_county()
        self.ep = "tcp://127.0.0.1:%d" % self.port
        self.events = "tcp://127.0.0.1:%d" % (self.port + 1)
        self.server = self.d.server_key()

    def admin(self, op, **fields):
        """A write by the admin over ipc (root: trusted)."""
        with self.d.client() as c:
            return c.write(op, actor=ADMIN, **fields)

    def give_key(self, t, person):
        """A fresh key pair for person, registered; (public, secret)."""
        public, secret = (k.decode() for k in zmq.curve_keypair())
        r = self.admin("key.add", person=person, key=public)
        t.require(r["ok"] and r.get("changed") is True, "key.add %s: %r" % (person, r))
        return public, secret

    def client(self, keys, timeout=5.0):
        return ReqClient(self.ep, timeout, curve=(self.server,) + tuple(keys))

    def open_client(self, t, keys):
        """A connection with keys that got in (a ping answered); closed after the test."""
        c = self.client(keys)
        t.defer(c.close)
        t.require(c.call("ping")["ok"], "a ping before anything happens to the key")
        return c

    def last_seq(self):
        with self.d.client() as c:
            return c.call("ping")["seq"]


def open_req(actor=None, **fields):
    req = {"op": "case.open", "id": new_id(), "title": "over tcp", "area": "development",
           "unit": "xiaxi"}
    if actor is not None:
        req["actor"] = actor
    req.update(fields)
    return req


def refused(t, client, what):
    """client's ping gets no reply at all: the handshake was refused."""
    try:
        r = client.call("ping", timeout=REFUSED_WAIT)
        t.fail("%s: a reply came: %r" % (what, r))
    except Timeout:
        pass


@test("a registered key gets in over tcp, and a request with no actor acts as its person")
def test_good_key(t):
    s = Tcp(t)
    keys = s.give_key(t, CADRE)
    with s.client(keys) as c:
        t.check(c.call("ping")["ok"], "ping over CURVE")
        r = c.request(open_req())
        t.require(r["ok"], "case.open with no actor: %r" % r)
        r2 = c.request(open_req(actor=CADRE))
        t.check(r2["ok"], "case.open naming the key's person: %r" % r2)
        t.eq(error_code(c.call("log.read")), "forbidden",
             "the whole log is the offices' (protocol.md section 9)")
    with s.d.client() as c:
        entries, _ = read_log(c, after=r["seq"] - 1)
    t.eq([e["actor"] for e in entries[:2]], [CADRE, CADRE], "the actors of the entries")
    with s.d.client() as c:
        p = c.call("person.get", person=CADRE)["person"]
    t.eq(p.get("key"), keys[0], "person.get shows the key")


@test("a request with no actor and the same one naming the key's person are the same "
      "request under one id")
def test_default_actor_is_idempotent(t):
    s = Tcp(t)
    keys = s.give_key(t, CADRE)
    rid = new_id()
    with s.client(keys) as c:
        r1 = c.request(open_req(id=rid))
        r2 = c.request(open_req(actor=CADRE, id=rid))
    t.require(r1["ok"], "first: %r" % r1)
    t.check(r2["ok"] and r2.get("duplicate") is True and r2["seq"] == r1["seq"],
            "the retry naming the actor is a duplicate: %r" % r2)


@test("an unknown key gets no reply (the ZAP handler refuses it) and the daemon goes on "
      "serving a registered one")
def test_unknown_key(t):
    s = Tcp(t)
    good = s.give_key(t, CADRE)
    stranger = tuple(k.decode() for k in zmq.curve_keypair())
    with s.client(stranger) as c:
        refused(t, c, "an unknown key")
    with s.client(good) as c:
        t.check(c.call("ping")["ok"], "a registered key still gets in")
    log = s.d.stderr()
    t.check("refused a connection" in log and stranger[0] in log,
            "the refusal is logged with the key")


@test("a tcp client without CURVE gets nothing, neither replies nor notifications")
def test_plain_tcp(t):
    s = Tcp(t)
    with ReqClient(s.ep, 5.0) as c:
        refused(t, c, "a plain REQ client")
    sub = context().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(s.events)
    t.defer(sub.close)
    t.check(not sub.poll(2500), "no heartbeat reaches a subscriber without CURVE")


@test("a key revoked: refused at the handshake, and an open connection's next request, "
      "read or write, is forbidden and changes nothing")
def test_revoked_key(t):
    s = Tcp(t)
    keys = s.give_key(t, CADRE)
    c = s.open_client(t, keys)
    r = s.admin("key.revoke", person=CADRE)
    t.require(r["ok"] and r.get("changed") is True, "key.revoke: %r" % r)
    before = s.last_seq()
    r = c.request(open_req())
    t.eq(error_code(r), "forbidden", "a write on the open connection")
    t.check("revoked" in r["error"]["message"], "the message says why: %r" % r)
    t.eq(error_code(c.call("ping")), "forbidden", "a read on the open connection")
    t.eq(s.last_seq(), before, "nothing was written")
    with s.client(keys) as c2:
        refused(t, c2, "a new connection with the revoked key")
    with s.d.client() as ipc:
        p = ipc.call("person.get", person=CADRE)["person"]
        entries, _ = read_log(ipc, after=before - 1)
    t.check("key" not in p, "the person has no key any more: %r" % p)
    t.eq((entries[0]["topic"], entries[0]["person"], entries[0]["key"]),
         ("key.revoked", CADRE, keys[0]), "the log entry")
    r = s.admin("key.revoke", person=CADRE)
    t.check(r["ok"] and r.get("changed") is False, "revoking again changes nothing: %r" % r)


@test("a subscriber's open tcp connection with a revoked key gets no more notifications; "
      "one with a registered key gets them again")
def test_revoked_subscriber(t):
    s = Tcp(t)
    gone, stays = (s.give_key(t, person) for person in (CADRE, OTHER))
    subs = {}
    for name, keys in (("gone", gone), ("stays", stays)):
        sub = context().socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"heartbeat")
        curve_client(sub, (s.server,) + keys)
        sub.connect(s.events)
        t.defer(sub.close)
        t.require(sub.poll(3000), "%s: a heartbeat before the revocation" % name)
        subs[name] = sub
    s.admin("key.revoke", person=CADRE)
    time.sleep(0.3)
    for sub in subs.values():       # what was queued before the endpoint was bound again
        while sub.poll(0):
            sub.recv_multipart()
    t.check(subs["stays"].poll(4000), "the registered key's subscriber reconnects")
    t.check(not subs["gone"].poll(2500), "the revoked key's subscriber hears nothing")


@test("a key replaced by key.add stops working on its open connection; the new key works")
def test_replaced_key(t):
    s = Tcp(t)
    old = s.give_key(t, CADRE)
    c = s.open_client(t, old)
    new = s.give_key(t, CADRE)
    t.eq(error_code(c.call("ping")), "forbidden", "the old key's open connection")
    with s.client(new) as c2:
        t.check(c2.request(open_req())["ok"], "the new key writes")


@test("a key of one person naming another actor is forbidden and changes nothing")
def test_actor_spoofing(t):
    s = Tcp(t)
    keys = s.give_key(t, CADRE)
    before = s.last_seq()
    with s.client(keys) as c:
        r = c.request(open_req(actor=OTHER))
        t.eq(error_code(r), "forbidden", "case.open as another person")
        t.check("'%s'" % CADRE in r["error"]["message"] and
                "'%s'" % OTHER in r["error"]["message"], "the message names both: %r" % r)
        r = c.request({"op": "unit.put", "id": new_id(), "actor": ADMIN, "unit": "x1",
                       "name": "x", "kind": "organ", "parent": "county"})
        t.eq(error_code(r), "forbidden", "unit.put as the admin")
    t.eq(s.last_seq(), before, "nothing was written")


@test("key.add and key.revoke are an admin's; a key is one person's and must be Z85")
def test_key_ops_rules(t):
    s = Tcp(t)
    public = zmq.curve_keypair()[0].decode()
    with s.d.client() as c:
        r = c.write("key.add", actor=CADRE, person=CADRE, key=public)
        t.eq(error_code(r), "forbidden", "key.add by a non-admin")
        r = c.write("key.add", actor=ADMIN, person="nobody.here", key=public)
        t.eq(error_code(r), "not_found", "key.add for no person")
        for bad in ("x" * 39, "~" * 40, "#" * 40):
            r = c.write("key.add", actor=ADMIN, person=CADRE, key=bad)
            t.eq(error_code(r), "bad_request", "key %r" % bad)
        t.require(c.write("key.add", actor=ADMIN, person=CADRE, key=public)["ok"], "key.add")
        r = c.write("key.add", actor=ADMIN, person=CADRE, key=public)
        t.check(r["ok"] and r.get("changed") is False, "the same key again: %r" % r)
        r = c.write("key.add", actor=ADMIN, person=OTHER, key=public)
        t.eq(error_code(r), "conflict", "another person's key")
        r = c.write("key.revoke", actor=OTHER, person=CADRE)
        t.eq(error_code(r), "forbidden", "key.revoke by a non-admin")


def ipc_client_as(uid, submit, reqs):
    """Send reqs over ipc from a process running as uid; their replies."""
    script = r"""
import json, sys, zmq, msgpack
s = zmq.Context().socket(zmq.REQ); s.setsockopt(zmq.LINGER, 0); s.connect(sys.argv[1])
out = []
for req in json.loads(sys.argv[2]):
    s.send(msgpack.packb(req))
    out.append(msgpack.unpackb(s.recv(), raw=False) if s.poll(5000) else None)
    if out[-1] is None:
        break
print(json.dumps(out))
"""
    r = subprocess.run(["/usr/bin/python3", "-c", script, submit, json.dumps(reqs)],
                       capture_output=True, text=True, timeout=30, user=uid, group=uid,
                       cwd="/")
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return json.loads(r.stdout)


def open_to_all(d):
    """Let every uid reach the ipc socket (it is 0660, the daemon's group's, by design)."""
    os.chmod(d.base, 0o755)
    os.chmod(d.run_dir, 0o755)
    os.chmod(d.submit[len("ipc://"):], 0o666)


@test("ipc: a uid that ipc-users maps to a person writes only as them (no actor: as them); "
      "a uid it does not name may read but not write")
def test_ipc_uids(t):
    d = t.daemon(start=False)
    d.configure("ipc-users = 0:*, 65534:%s\n" % CADRE)
    d.start()
    d.build_county()
    open_to_all(d)
    before = d.client().call("ping")["seq"]
    mapped = ipc_client_as(65534, d.submit, [open_req(), open_req(actor=OTHER),
                                             {"op": "ping"}])
    t.check(mapped[0]["ok"], "the mapped uid writes with no actor: %r" % mapped[0])
    t.eq(error_code(mapped[1]), "forbidden", "the mapped uid naming another actor")
    t.check(mapped[2]["ok"], "the mapped uid reads")
    with d.client() as c:
        entries, _ = read_log(c, after=before)
    t.eq([e["actor"] for e in entries], [CADRE], "the entry's actor is the uid's person")
    nobody = ipc_client_as(65533, d.submit, [{"op": "ping"}, open_req(actor=CADRE)])
    t.check(nobody[0]["ok"], "an unnamed uid reads: %r" % nobody[0])
    t.eq(error_code(nobody[1]), "forbidden", "an unnamed uid writes")
    t.check("65533" in nobody[1]["error"]["message"], "the message names the uid: %r" %
            nobody[1])
    with d.client() as c:
        t.check(c.write("case.open", actor=OTHER, title="root names anyone", area="development",
                        unit="dongcun")["ok"], "root (0:*) still names any actor")


@test("ipc-users: root and the daemon's own uid are trusted by default, --check-config "
      "prints it, and a bad value is refused with its line")
def test_ipc_users_config(t):
    r = subprocess.run([NANTID, "--check-config", "--config", "/dev/null"],
                       capture_output=True, text=True, timeout=30)
    t.check(r.returncode == 0 and "ipc-users = 0:*\n" in r.stdout,
            "the default, run as root: %r" % r.stdout)
    d = t.daemon(start=False)
    for bad in ("0:*, 0:wang.li", "x:*", "12", "5:bad id", "-1:*"):
        path = d.configure("ipc-users = %s\n" % bad)
        r = subprocess.run([NANTID, "--check-config", "--config", path], capture_output=True,
                           text=True, timeout=30)
        t.check(r.returncode != 0 and ":1: invalid setting 'ipc-users'" in r.stderr,
                "%r refused: %r" % (bad, r.stderr))
    path = d.configure("ipc-users = 1000:wang.li,0:*\n")
    r = subprocess.run([NANTID, "--check-config", "--config", path], capture_output=True,
                       text=True, timeout=30)
    t.check(r.returncode == 0 and "ipc-users = 1000:wang.li, 0:*\n" in r.stdout,
            "a valid value printed back: %r" % r.stdout)


@test("the daemon's secret key is made once, mode 0600, kept across restarts and printed "
      "by --print-public-key; one that others may read is refused")
def test_daemon_key_pair(t):
    d = t.daemon()
    secret = os.path.join(d.state_dir, "curve.secret")
    t.eq(stat.S_IMODE(os.stat(secret).st_mode), 0o600, "curve.secret's mode")
    t.eq(stat.S_IMODE(os.stat(os.path.join(d.state_dir, "curve.public")).st_mode), 0o644,
         "curve.public's mode")
    pub, sec = d.server_key(), open(secret).read().strip()
    t.eq(zmq.curve_public(sec.encode()).decode(), pub, "curve.public is the secret's")
    d.stop()
    d.start()
    t.eq((d.server_key(), open(secret).read().strip()), (pub, sec), "the same after a restart")
    r = subprocess.run([NANTID, "--state-dir", d.state_dir, "--print-public-key"],
                       capture_output=True, text=True, timeout=30)
    t.eq(r.stdout, pub + "\n", "--print-public-key")
    d.stop()
    os.chmod(secret, 0o640)
    d.start(wait=False)
    t.check(d.wait_exit(10) != 0, "a secret key readable by the group: the daemon stops")
    t.check("chmod 600" in d.stderr(), "and says what to do")


@test("nanti: key gen, admin key add with the key file, and --key/--server-key over tcp; "
      "a tcp endpoint without keys is a usage error")
def test_cli_keys(t):
    s = Tcp(t)
    kf = os.path.join(s.d.base, "me.key")

    def nanti(*args, env=None):
        e = dict(os.environ)
        e.pop("NANTI_ACTOR", None)
        e.update(env or {})
        return subprocess.run([NANTI] + list(args), capture_output=True, text=True,
                              timeout=60, env=e)
    r = nanti("key", "gen", "--out", kf)
    t.require(r.returncode == 0 and len(r.stdout.strip()) == 40, "key gen: %r" % (r,))
    t.eq(stat.S_IMODE(os.stat(kf).st_mode), 0o600, "the key file's mode")
    t.eq(nanti("key", "gen", "--out", kf).returncode, 2, "a key file is never overwritten")
    r = nanti("--runtime-dir", s.d.run_dir, "--actor", ADMIN, "admin", "key", "add", CADRE, kf)
    t.require(r.returncode == 0, "admin key add: %r" % (r,))
    server = os.path.join(s.d.state_dir, "curve.public")
    r = nanti("--endpoint", s.ep, "--key", kf, "--server-key", server, "open", "by key",
              "--area", "development", "--unit", "xiaxi")
    t.check(r.returncode == 0 and "opened" in r.stdout, "open over tcp: %r" % (r,))
    r = nanti("--endpoint", s.ep, "--actor", OTHER, "ping", env={
        "NANTI_KEY": kf, "NANTI_SERVER_KEY": s.server})
    t.check(r.returncode == 0, "ping with NANTI_KEY and NANTI_SERVER_KEY: %r" % (r,))
    r = nanti("--endpoint", s.ep, "--actor", OTHER, "note", "1", "spoofed", env={
        "NANTI_KEY": kf, "NANTI_SERVER_KEY": s.server})
    t.check(r.returncode == 1 and "forbidden" in r.stderr, "--actor of another: %r" % (r,))
    r = nanti("--endpoint", s.ep, "ping")
    t.check(r.returncode == 2 and "CURVE" in r.stderr, "no keys: %r" % (r,))
    r = nanti("--runtime-dir", s.d.run_dir, "--actor", ADMIN, "admin", "key", "revoke", CADRE)
    t.check(r.returncode == 0, "admin key revoke: %r" % (r,))
    r = nanti("--endpoint", s.ep, "--key", kf, "--server-key", server, "--timeout", "1500",
              "ping")
    t.eq(r.returncode, 3, "the revoked key: no answer")


@test("an export carries the people's keys and the import rebuilds the keys index: the "
      "key gets in on the imported ledger")
def test_export_keys(t):
    s = Tcp(t)
    keys = s.give_key(t, CADRE)
    path = os.path.join(s.d.base, "export.jsonl")
    r = subprocess.run([NANTI, "admin", "export", path, "--state-dir", s.d.state_dir],
                       capture_output=True, text=True, timeout=60)
    t.require(r.returncode == 0, "export: %r" % r.stderr)
    s.d.stop()
    port = free_port_pair()
    d2 = t.daemon(start=False, args=["--listen-tcp", "127.0.0.1:%d" % port])
    r = subprocess.run([NANTI, "admin", "import", path, "--state-dir", d2.state_dir],
                       capture_output=True, text=True, timeout=60)
    t.require(r.returncode == 0, "import: %r" % r.stderr)
    d2.start()
    with ReqClient("tcp://127.0.0.1:%d" % port, 5.0,
                   curve=(d2.server_key(),) + keys) as c:
        r = c.request(open_req())
    t.check(r["ok"], "the imported key writes: %r" % r)


if __name__ == "__main__":
    run_tests()
