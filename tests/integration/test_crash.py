"""
The crash test: kill -9 must never lose an acknowledged change, nor apply one twice,
nor leave a gap in the log (docs/protocol.md, section 6).

Four client threads each keep several case.open / case.note requests in flight on a
DEALER socket, every request with its own id, and record every acknowledged id with its
seq and case. Meanwhile the daemon is killed with SIGKILL at random moments, at least 20
times (some of them while it is still starting), and restarted on the same state
directory. Clients that wait too long reconnect and resend their unacknowledged requests
with the SAME ids; a resend may come back duplicate:true, which also acknowledges it.
After every restart the whole log is read and checked:

  * seqs run 1..N with no gap;
  * every id appears at most once, and every id in the log was sent by a client;
  * every acknowledged id is there, at the seq it was acknowledged with, with its case.

Before the clients start, the daemon gets pyclient's shared county (writes need registered
people: docs/protocol.md section 9); its entries open the log and must survive too. Cases
are opened by a cadre in a village of their township; notes come from people of every kind
who may add them (the lead, colleagues whose reach holds the village, the offices).
"""

import collections
import os
import random
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import zmq  # noqa: E402

from pyclient import (  # noqa: E402
    RETRYABLE, County, case_history, check_reply, context, decode, encode, new_id, read_log,
    run_tests, test)

CLIENTS = 4
IN_FLIGHT = 8
RESEND_AFTER = 2.0      # a request unanswered this long: reconnect and resend all pending
MIN_KILLS = 20
MAX_KILLS = 24
KILL_PHASE = 80.0       # seconds at most for the kill loop
OPENER = County.CADRE   # opens the cases, in UNIT
UNIT = "xiaxi"
NOTERS = (County.CADRE, "li.ming", County.HEAD, "xu.cun", County.THEME, County.SUPERVISION,
          County.COUNTY_LEADER)     # may note a case of UNIT


class Record:
    """What the clients know, shared with the checker."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = set()           # every id ever sent
        self.acked = {}             # id -> (seq, case, op)
        self.dup_acks = 0           # acknowledgements that came back duplicate:true
        self.problems = []          # things that must never happen

    def problem(self, msg):
        with self.lock:
            if len(self.problems) < 50:
                self.problems.append(msg)

    def snapshot(self):
        with self.lock:
            return dict(self.acked), set(self.sent)


class Worker(threading.Thread):
    def __init__(self, endpoint, record, stop, seed):
        super().__init__(daemon=True)
        self.endpoint = endpoint
        self.record = record
        self.stop = stop            # set: send no new request, finish those pending
        self.rnd = random.Random(seed)
        self.pending = {}           # id -> request
        self.sent_at = {}           # id -> when it was last sent
        self.retry = {}             # id -> when to resend it after a retryable error
        self.cases = []             # cases this worker opened (acknowledged)
        self.reconnects = 0
        self.sock = None
        self.done = False

    def connect(self):
        if self.sock is not None:
            self.sock.close(0)
        self.sock = context().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(self.endpoint)

    def send(self, req):
        self.sock.send_multipart([b"", encode(req)])

    def new_request(self):
        rid = new_id()
        if self.cases and self.rnd.random() < 0.6:
            req = {"op": "case.note", "id": rid, "actor": self.rnd.choice(NOTERS),
                   "case": self.rnd.choice(self.cases), "text": "progress %s" % rid[-6:]}
        else:
            req = {"op": "case.open", "id": rid, "actor": OPENER,
                   "title": "problem %s" % rid[-8:], "area": "livelihood", "unit": UNIT}
        with self.record.lock:
            self.record.sent.add(rid)
        self.pending[rid] = req
        self.sent_at[rid] = time.monotonic()
        self.send(req)

    def handle(self, reply):
        rid = reply.get("id")
        req = self.pending.get(rid)
        if req is None:
            # a late copy of something already acknowledged: it must agree
            with self.record.lock:
                known = self.record.acked.get(rid)
            if known is None or (reply.get("ok") and reply.get("seq") != known[0]):
                self.record.problem("reply matches nothing: %r (known %r)" % (reply, known))
            return
        if reply["ok"]:
            del self.pending[rid]
            ack = (reply["seq"], reply.get("case"), req["op"])
            if req["op"] == "case.note" and reply.get("case") != req["case"]:
                self.record.problem("note on case %d acknowledged for case %r"
                                    % (req["case"], reply.get("case")))
            with self.record.lock:
                if rid in self.record.acked:
                    self.record.problems.append("acknowledged twice: %s" % rid)
                self.record.acked[rid] = ack
                if reply.get("duplicate"):
                    self.record.dup_acks += 1
            if req["op"] == "case.open":
                self.cases.append(reply["case"])
        elif reply["error"]["code"] in RETRYABLE:
            self.retry[rid] = time.monotonic() + 0.1    # again, with the same id
        else:
            del self.pending[rid]
            self.record.problem("request %r refused: %r" % (req, reply))

    def run(self):
        try:
            self.connect()
            while True:
                now = time.monotonic()
                if self.stop.is_set():
                    if not self.pending:
                        break
                else:
                    while len(self.pending) < IN_FLIGHT:
                        self.new_request()
                for rid, at in list(self.retry.items()):
                    if at <= now and rid in self.pending:
                        del self.retry[rid]
                        self.sent_at[rid] = now
                        self.send(self.pending[rid])
                if self.sock.poll(50):
                    while True:
                        try:
                            frames = self.sock.recv_multipart(zmq.NOBLOCK)
                        except zmq.Again:
                            break
                        self.handle(check_reply(decode(frames[-1])))
                oldest = min((self.sent_at[r] for r in self.pending), default=None)
                if oldest is not None and time.monotonic() - oldest > RESEND_AFTER:
                    # the daemon may have died: new connection, same ids
                    self.connect()
                    self.reconnects += 1
                    now = time.monotonic()
                    for rid, req in list(self.pending.items()):
                        self.sent_at[rid] = now
                        self.send(req)
        except Exception as e:
            self.record.problem("worker crashed: %r" % e)
        finally:
            if self.sock is not None:
                self.sock.close(0)
            self.done = True


def verify(t, d, record, county, label, final=False):
    """Read the whole log and check it against the acknowledgements made before the read
    (the first county.seq entries must be the county's). Returns (entries after the
    county's, lost, duplicated, gap)."""
    acked, _ = record.snapshot()        # acknowledged before the read: must be there
    with d.client(timeout=30) as c:
        items, _ = read_log(c, limit=1000)
    _, sent = record.snapshot()         # sent before the read ended: may be there
    seqs = [e.get("seq") for e in items]
    gap = seqs != list(range(1, len(items) + 1))
    t.check(not gap, "%s: log seqs are not 1..%d (first bad at index %s)"
            % (label, len(items), next((i for i, s in enumerate(seqs) if s != i + 1), None)))
    count = collections.Counter(e.get("id") for e in items)
    duplicated = [i for i, n in count.items() if n > 1]
    t.check(not duplicated, "%s: %d ids twice in the log, e.g. %r"
            % (label, len(duplicated), duplicated[:3]))
    t.check([e.get("id") for e in items[:county.seq]] == county.ids,
            "%s: the county's entries are not the log's first %d" % (label, county.seq))
    strangers = [i for i in count if i not in sent and i not in county.ids]
    t.check(not strangers, "%s: %d ids in the log that no client sent, e.g. %r"
            % (label, len(strangers), strangers[:3]))
    by_id = {e.get("id"): e for e in items}
    lost = [i for i in acked if i not in by_id]
    t.check(not lost, "%s: %d acknowledged ids lost, e.g. %r"
            % (label, len(lost), [(i, acked[i]) for i in lost[:3]]))
    wrong = []
    for rid, (seq, case, op) in acked.items():
        if rid not in by_id:
            continue
        e = items[seq - 1] if 1 <= seq <= len(items) else {}
        if e.get("id") != rid or e.get("case") != case or \
                e.get("topic") != ("case.opened" if op == "case.open" else "case.noted"):
            wrong.append((rid, seq, case, {k: e.get(k) for k in ("seq", "id", "case", "topic")}))
    t.check(not wrong, "%s: %d acknowledged seqs hold another entry, e.g. %r"
            % (label, len(wrong), wrong[:3]))
    if final:
        opened = [e["case"] for e in items if e.get("topic") == "case.opened"]
        t.check(opened == list(range(1, len(opened) + 1)),
                "%s: case ids of case.opened entries are not 1..%d" % (label, len(opened)))
    return items[county.seq:], len(lost), len(duplicated), gap


@test("an acknowledged case survives kill -9")
def _(t):
    d = t.daemon()
    county = d.build_county()
    with d.client() as c:
        r = c.write("case.open", actor=OPENER, title="survives", area="development",
                    unit=UNIT)
        n = c.write("case.note", actor=County.HEAD, case=r["case"],
                    text="noted before the crash")
        t.require(r["ok"] and n["ok"], "writes failed: %r %r" % (r, n))
    d.kill9()
    d.restart()
    with d.client() as c:
        cs, h = case_history(c, r["case"])
        t.check(cs["title"] == "survives" and cs["events"] == 2, "after kill -9: %r" % cs)
        t.eq([(e["topic"], e.get("text")) for e in h],
             [("case.opened", None), ("case.noted", "noted before the crash")], "history")
        items, _ = read_log(c)
        t.eq([(e["seq"], e["id"]) for e in items],
             list(zip(range(1, county.seq + 1), county.ids))
             + [(county.seq + 1, r["id"]), (county.seq + 2, n["id"])], "log")
        t.eq(c.call("person.get", person=County.HEAD)["person"]["roles"],
             ["cadre", "leader", "unit_head"], "a person after kill -9")


@test("no acknowledged change is lost or applied twice across 20+ kill -9 under load, "
      "and the log stays gap-free")
def _(t):
    d = t.daemon()
    county = d.build_county()
    record = Record()
    stop = threading.Event()
    workers = [Worker(d.submit, record, stop, seed) for seed in range(CLIENTS)]
    for w in workers:
        w.start()

    def halt():
        stop.set()
        for w in workers:
            w.join(5)
    t.defer(halt)

    rnd = random.Random()
    kills = 0
    early_kills = 0
    lost_total = dup_total = 0
    gaps = 0
    started = time.monotonic()
    while kills < MAX_KILLS and (kills < MIN_KILLS or time.monotonic() - started < KILL_PHASE):
        time.sleep(rnd.uniform(0.2, 1.2))
        t.require(d.running(), "nantid died by itself:\n" + d.stderr_tail())
        d.kill9()
        kills += 1
        time.sleep(rnd.uniform(0.0, 0.2))
        if kills % 5 == 0:
            # kill it again while it starts up (recovering, binding, maybe committing)
            d.restart(wait=False)
            time.sleep(rnd.uniform(0.0, 0.05))
            d.kill9()
            kills += 1
            early_kills += 1
        d.restart()
        _, lost, dup, gap = verify(t, d, record, county, "after kill %d" % kills)
        lost_total += lost
        dup_total += dup
        gaps += gap
        if record.problems or t.failures:
            break
        if time.monotonic() - started > KILL_PHASE + 30:
            break
    t.check(kills >= MIN_KILLS, "only %d kills" % kills)

    # let the clients finish everything they still have in flight, then check once more
    stop.set()
    deadline = time.monotonic() + 30
    for w in workers:
        w.join(max(0.1, deadline - time.monotonic()))
    pending = sum(len(w.pending) for w in workers)
    t.check(all(w.done for w in workers) and pending == 0,
            "%d requests never acknowledged after the last restart" % pending)
    items, lost, dup, gap = verify(t, d, record, county, "at the end", final=True)
    lost_total += lost
    dup_total += dup
    gaps += gap
    acked, sent = record.snapshot()
    t.check(len(items) == len(acked),
            "the log holds %d entries but %d ids were acknowledged" % (len(items), len(acked)))
    t.check(not record.problems, "problems:\n" + "\n".join(record.problems[:20]))
    rc = d.stop(signal.SIGTERM)
    t.eq(rc, 0, "exit status after SIGTERM")
    t.diag("%d kills (%d during start-up), %d acknowledged (%d as duplicate:true), "
           "%d lost, %d duplicated, %s; %d reconnects, %.0f s"
           % (kills, early_kills, len(acked), record.dup_acks, lost_total, dup_total,
              "no gap" if not gaps else "%d gaps" % gaps,
              sum(w.reconnects for w in workers), time.monotonic() - started))


if __name__ == "__main__":
    run_tests()
