"""
Bridges that miss nothing: `nanti watch --cursor FILE --exec CMD` against the real daemon.

A bridge hands each log entry, in seq order, to a shell command (one JSON line on its
stdin, NANTI_SEQ / NANTI_TOPIC / NANTI_CASE in its environment), runs it again with backoff
until it exits 0, and only then moves its cursor file on (docs/client.md, docs/bridges.md).
Delivery is at least once: the promise tested here is that nothing is ever skipped, that
entries come in seq order, and that a repeat only happens to the one entry that was being
delivered when the bridge died.

The command of most tests is record.sh (written into the test's directory): it appends
"RUN SEQ TOPIC JSON" to an output file, RUN being $BRIDGE_RUN, which each bridge process
is started with, so that the checks can tell which run of the bridge delivered what.

THE KEY TEST kills the bridge with SIGKILL at random moments, at least 20 times, and
restarts it each time, while a writer keeps adding notes to a case and the daemon itself
is restarted several times (some bridges start while it is down). Then every seq 1..N
must be in the output, first appearances in order, and every repeat must be the first
entry of a run that the run before had already delivered (the kill fell between the
command's exit and the rename of the cursor file). After every kill the cursor file must
still hold one number, never ahead of what the output holds, never going backwards.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack):
    /usr/bin/python3 tests/integration/test_bridge.py [NAME-FILTER]
Set BRIDGE_SEED to replay the key test's kill schedule.
"""

import http.server
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import zmq  # noqa: E402

from pyclient import (  # noqa: E402
    ROOT, County, ProtocolError, ReqClient, Timeout, new_id, read_log, run_tests, test)

NANTI = os.environ.get("NANTI", os.path.join(ROOT, "build", "nanti"))
BRIDGES_MD = os.path.join(ROOT, "docs", "bridges.md")
ACTOR = County.CADRE
MIN_KILLS = 24

RECORD_SH = r"""#!/bin/sh
# One delivery: "RUN SEQ TOPIC JSON" appended to $1 in one write (a line is far below
# PIPE_BUF, and >> opens with O_APPEND).
IFS= read -r line || exit 9
printf '%s %s %s %s\n' "${BRIDGE_RUN:-0}" "$NANTI_SEQ" "$NANTI_TOPIC" "$line" >> "$1"
"""


def client_env(**extra):
    """The environment without the user's nanti settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NANTI_") and k != "XDG_RUNTIME_DIR"}
    env["NANTI_ACTOR"] = ACTOR
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Work:
    """A test's files: the cursor, the command's output, the bridges' stderr."""

    def __init__(self, d):
        self.dir = d.base
        self.cursor = os.path.join(self.dir, "cursor")
        self.out = os.path.join(self.dir, "out")
        self.err = os.path.join(self.dir, "bridge.err")
        self.record = os.path.join(self.dir, "record.sh")
        with open(self.record, "w") as f:
            f.write(RECORD_SH)

    def script(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def record_cmd(self, out=None):
        return "sh %s %s" % (self.record, out or self.out)

    def lines(self, path=None):
        """The output as (run, seq, topic, entry) tuples; a torn line fails the parse."""
        try:
            with open(path or self.out) as f:
                text = f.read()
        except FileNotFoundError:
            return []
        rows = []
        for line in text.splitlines():
            run, seq, topic, js = line.split(" ", 3)
            rows.append((int(run), int(seq), topic, json.loads(js)))
        return rows

    def seqs(self, path=None):
        return [r[1] for r in self.lines(path)]

    def cursor_text(self):
        try:
            with open(self.cursor) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def stderr(self):
        try:
            with open(self.err, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def started(self, run):
        """Has bridge run `run` said where it starts (so its signal handlers are in)?"""
        err = self.stderr()
        at = err.find("--- bridge run %d\n" % run)
        return at >= 0 and "delivering the entries after" in err[at:]

    def stderr_tail(self, n=20):
        return "\n".join(self.stderr().splitlines()[-n:])


class Bridge:
    """build/nanti watch --cursor --exec in the background; stdout and stderr appended to
    work.err (files, not pipes: a killed bridge leaves them readable)."""

    def __init__(self, t, d, work, cmd=None, args=(), run=0, cursor=None, argv=None, env=None):
        """argv: the whole command line after the global options (instead of watch
        --cursor, --exec and args); env: more environment variables."""
        self.t = t
        self.work = work
        if argv is None:
            argv = ["watch", "--cursor", cursor or work.cursor,
                    "--exec", cmd or work.record_cmd()] + list(args)
        with open(work.err, "ab") as log:
            log.write(("--- bridge run %d\n" % run).encode())
            log.flush()
            self.proc = subprocess.Popen(
                [NANTI, "--runtime-dir", d.run_dir, "--timeout", "1000"] + list(argv),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=client_env(BRIDGE_RUN=run, **(env or {})))
        t.defer(self.kill)

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Send sig; the exit status (fails the test if it does not exit in time)."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.t.fail("the bridge did not exit within %gs of signal %d:\n%s"
                        % (timeout, sig, self.work.stderr_tail()))


def wait_for(t, what, cond, timeout=20.0, work=None):
    """Poll cond() until it is true; fail the test with what if it never is."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            t.fail("%s: not within %gs%s" % (what, timeout,
                   ("\nbridge stderr:\n" + work.stderr_tail()) if work else ""))
        time.sleep(0.02)


def text_of(path):
    """The file's text, or None while it does not exist."""
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def run_bridge(d, work, *args, cmd=None, timeout=15):
    """A bridge run to its end (for the refusals): the CompletedProcess."""
    argv = [NANTI, "--runtime-dir", d.run_dir, "watch"]
    if cmd is not False:
        argv += ["--exec", cmd if cmd is not None else work.record_cmd()]
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=timeout,
                          env=client_env(), stdin=subprocess.DEVNULL)


def open_case(c, title="road washed out"):
    r = c.write("case.open", actor=ACTOR, title=title, area="livelihood", unit="xiaxi")
    if not r["ok"]:
        raise ProtocolError("case.open refused: %r" % (r,))
    return r["case"]


def notes(c, case, n, prefix="note"):
    seqs = []
    for i in range(n):
        r = c.write("case.note", actor=ACTOR, case=case, text="%s %d" % (prefix, i))
        if not r["ok"]:
            raise ProtocolError("case.note refused: %r" % (r,))
        seqs.append(r["seq"])
    return seqs


def last_seq(d):
    with d.client() as c:
        return c.call("ping")["seq"]


def whole_log(d):
    with d.client() as c:
        return read_log(c)[0]


# ---------------------------------------------------------------------------------------
# Delivery when nothing fails

@test("a bridge delivers every entry once, in seq order, with its JSON on stdin and "
      "NANTI_SEQ, NANTI_TOPIC, NANTI_CASE set; a restart resumes after the cursor")
def _(t):
    d = t.daemon()
    w = Work(d)
    d.build_county()
    with d.client() as c:
        cases = [open_case(c, "case %d" % i) for i in range(3)]
        for case in cases:
            notes(c, case, 3)
    t.check(not os.path.exists(w.cursor), "a cursor file before the first start")
    b = Bridge(t, d, w)
    end = last_seq(d)
    wait_for(t, "the replay of the log", lambda: len(w.seqs()) >= end, work=w)
    with d.pipeline() as pl:                        # then live entries, in a burst
        pl.run([{"op": "case.note", "actor": ACTOR, "case": cases[i % 3], "text": "live %d" % i}
                for i in range(300)])
    end = last_seq(d)
    wait_for(t, "the live entries", lambda: len(w.seqs()) >= end, work=w)
    time.sleep(0.3)
    t.eq(b.stop(signal.SIGTERM), 0, "exit status after SIGTERM")
    rows = w.lines()
    t.eq([r[1] for r in rows], list(range(1, end + 1)), "seqs delivered")
    log = whole_log(d)
    t.eq([r[3] for r in rows], log, "the JSON on stdin is the log entry")
    t.check(all(r[2] == r[3]["topic"] for r in rows), "NANTI_TOPIC is the entry's topic")
    t.eq(w.cursor_text(), "%d\n" % end, "the cursor file after SIGTERM")
    # the same line `nanti watch --json` and `nanti log --json` print, byte for byte
    p = subprocess.run([NANTI, "--runtime-dir", d.run_dir, "--json", "log", "--all"],
                       capture_output=True, text=True, env=client_env(), timeout=30)
    with open(w.out) as f:
        stdin_lines = [line.split(" ", 3)[3] for line in f.read().splitlines()]
    t.eq(stdin_lines, p.stdout.splitlines(), "stdin lines vs nanti --json log")
    # NANTI_CASE: set for entries about a case, absent otherwise
    env_out = os.path.join(w.dir, "env")
    b = Bridge(t, d, w, cmd='echo "$NANTI_SEQ ${NANTI_CASE-none}" >> %s' % env_out,
               cursor=os.path.join(w.dir, "cursor2"))
    wait_for(t, "the env bridge", lambda: os.path.exists(env_out) and
             len(open(env_out).read().splitlines()) >= end, work=w)
    t.eq(b.stop(), 0, "exit status")
    got = dict(line.split() for line in open(env_out).read().splitlines())
    want = {str(e["seq"]): str(e["case"]) if "case" in e else "none" for e in log}
    t.eq(got, want, "NANTI_CASE by seq")
    # a restart delivers nothing again, then the new entries
    b = Bridge(t, d, w, run=1)
    time.sleep(1.5)
    t.eq(len(w.seqs()), end, "entries delivered again after a clean restart")
    with d.client() as c:
        more = notes(c, cases[0], 2, "after restart")
    wait_for(t, "entries after the restart", lambda: len(w.seqs()) >= end + 2, work=w)
    t.eq(b.stop(signal.SIGINT), 0, "exit status after SIGINT")
    rows = w.lines()
    t.eq([r[1] for r in rows], list(range(1, end + 3)), "seqs after the restart")
    t.eq([r[0] for r in rows[end:]], [1, 1], "delivered by the second run")
    t.eq(w.cursor_text(), "%d\n" % more[-1], "the cursor file")
    t.check("no cursor file" in w.stderr() and "delivering the entries after seq %d" % end
            in w.stderr(), "the bridge says where it starts:\n" + w.stderr_tail())


@test("without a cursor file a bridge starts at --from SEQ, writes the cursor at once, "
      "and a later --from is not used")
def _(t):
    d = t.daemon()
    w = Work(d)
    base = d.build_county().seq
    with d.client() as c:
        case = open_case(c)
        notes(c, case, 4)
    end = last_seq(d)
    b = Bridge(t, d, w, args=["--from", str(base + 3)])
    wait_for(t, "delivery from --from", lambda: len(w.seqs()) >= end - base - 2, work=w)
    t.eq(b.stop(), 0, "exit status")
    t.eq(w.seqs(), list(range(base + 3, end + 1)), "seqs from --from on")
    b = Bridge(t, d, w, args=["--from", "1"], run=1)    # FILE exists: --from is not used
    time.sleep(1.2)
    t.eq(b.stop(), 0, "exit status")
    t.eq(w.seqs(), list(range(base + 3, end + 1)), "nothing more after a second --from")
    t.check("--from is not used" in w.stderr(), "the bridge says it ignores --from:\n"
            + w.stderr_tail())
    os.unlink(w.cursor)
    b = Bridge(t, d, w, args=["--after", str(end - 1)], run=2)
    wait_for(t, "delivery after --after", lambda: len(w.seqs()) >= end - base - 1, work=w)
    t.eq(b.stop(), 0, "exit status")
    t.eq(w.seqs()[-1], end, "--after SEQ starts after SEQ")
    t.eq(w.cursor_text(), "%d\n" % end, "the cursor file")


# ---------------------------------------------------------------------------------------
# Failures of the command

FLAKY_SH = r"""#!/bin/sh
# Fails for seq $2 twice (an exit status, then a signal), then succeeds; every attempt is
# logged to $3 as "SEQ TIME".
echo "$NANTI_SEQ $(date +%s.%N)" >> "$3"
if [ "$NANTI_SEQ" = "$2" ]; then
	n=$(grep -c "^$2 " "$3")
	[ "$n" -eq 1 ] && exit 3
	[ "$n" -eq 2 ] && kill -KILL 0	# the command's own process group
fi
exec sh "$4" "$1"
"""


@test("a command that fails twice (an exit status, then a signal) gets the same entry "
      "again with backoff until it succeeds; nothing after it runs meanwhile, nothing is "
      "skipped")
def _(t):
    d = t.daemon()
    w = Work(d)
    base = d.build_county().seq
    with d.client() as c:
        case = open_case(c)
        notes(c, case, 5)
    end = last_seq(d)
    target = base + 3
    attempts = os.path.join(w.dir, "attempts")
    flaky = w.script("flaky.sh", FLAKY_SH)
    b = Bridge(t, d, w, cmd="sh %s %s %d %s %s" % (flaky, w.out, target, attempts, w.record),
               args=["--retry-max", "1"])
    wait_for(t, "delivery through the failures", lambda: len(w.seqs()) >= end, work=w)
    t.eq(b.stop(), 0, "exit status")
    t.eq(w.seqs(), list(range(1, end + 1)), "seqs delivered: each once, none skipped")
    tried = [line.split() for line in open(attempts).read().splitlines()]
    seqs = [int(s) for s, _ in tried]
    want = list(range(1, target)) + [target] * 3 + list(range(target + 1, end + 1))
    t.eq(seqs, want, "attempts: the failing entry three times in a row, then the rest")
    times = [float(x) for s, x in tried if int(s) == target]
    gaps = [b_ - a for a, b_ in zip(times, times[1:])]
    t.check(0.45 <= gaps[0] < 0.9 and 0.95 <= gaps[1] < 1.6,
            "backoff: 0.5 s then 1 s (capped by --retry-max 1), got %r" % gaps)
    err = w.stderr()
    t.check("the command failed for seq %d (case.noted, exit status 3); trying again in 0.5 s"
            % target in err, "the exit status is logged:\n" + err)
    t.check("the command failed for seq %d (case.noted, killed by signal 9" % target in err,
            "the signal is logged:\n" + err)
    t.check("seq %d delivered at attempt 3" % target in err, "the success is logged:\n" + err)


@test("a command that keeps failing (its script is missing) is retried, never skipped, "
      "until it works")
def _(t):
    d = t.daemon()
    w = Work(d)
    d.build_county()
    end = last_seq(d)
    target = os.path.join(w.dir, "later.sh")
    b = Bridge(t, d, w, cmd="sh %s %s" % (target, w.out), args=["--retry-max", "1"])
    wait_for(t, "two failures", lambda: w.stderr().count("the command failed for seq 1") >= 2,
             work=w)
    t.eq(w.seqs(), [], "nothing delivered while the command is missing")
    t.eq(w.cursor_text(), "0\n", "the cursor while the first entry fails")
    with open(target, "w") as f:
        f.write(RECORD_SH)
    wait_for(t, "delivery once the command exists", lambda: len(w.seqs()) >= end, work=w)
    t.eq(b.stop(), 0, "exit status")
    t.eq(w.seqs(), list(range(1, end + 1)), "seqs")


# ---------------------------------------------------------------------------------------
# Stopping

SLOW_SH = r"""#!/bin/sh
# For seq $2: say so in $3 (with our pid), sleep $4 seconds, then deliver.
if [ "$NANTI_SEQ" = "$2" ]; then
	echo $$ > "$3"
	sleep "$4"
fi
exec sh "$5" "$1"
"""


@test("SIGTERM lets the running command finish and records it, then exits 0; a second "
      "signal abandons it, and the entry comes again on the next start")
def _(t):
    d = t.daemon()
    w = Work(d)
    base = d.build_county().seq
    with d.client() as c:
        case = open_case(c)
        notes(c, case, 4)
    end = last_seq(d)
    slow = w.script("slow.sh", SLOW_SH)
    started = os.path.join(w.dir, "started")
    target = base + 2
    b = Bridge(t, d, w, cmd="sh %s %s %d %s 1.5 %s" % (slow, w.out, target, started, w.record))
    wait_for(t, "the slow command", lambda: os.path.exists(started), work=w)
    t0 = time.monotonic()
    t.eq(b.stop(signal.SIGTERM), 0, "exit status after SIGTERM")
    t.check(time.monotonic() - t0 >= 1.0, "the bridge did not wait for the running command")
    t.eq(w.seqs(), list(range(1, target + 1)), "the running command finished, nothing after")
    t.eq(w.cursor_text(), "%d\n" % target, "its entry is recorded in the cursor")
    t.check("stopping once the command for seq %d ends" % target in w.stderr(),
            "the bridge says it waits:\n" + w.stderr_tail())
    # now abandon one: a long command, two signals
    os.unlink(started)
    b = Bridge(t, d, w, run=1,
               cmd="sh %s %s %d %s 60 %s" % (slow, w.out, target + 1, started, w.record))
    wait_for(t, "the long command", lambda: os.path.exists(started) and
             open(started).read().strip() != "", work=w)
    pid = int(open(started).read())
    b.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    t.check(b.alive(), "the bridge did not wait for its command after one signal")
    t0 = time.monotonic()
    t.eq(b.stop(signal.SIGINT, timeout=10), 0, "exit status after a second signal")
    t.check(time.monotonic() - t0 < 5, "abandoning took %.1fs" % (time.monotonic() - t0))
    stat = "/proc/%d/stat" % pid
    wait_for(t, "the abandoned command's end",      # gone, or a zombie nobody reaps
             lambda: (text_of(stat) or "- - Z").split()[2] == "Z", timeout=5)
    t.eq(w.cursor_text(), "%d\n" % target, "the cursor did not move past the abandoned entry")
    t.eq(w.seqs(), list(range(1, target + 1)), "the abandoned entry was not delivered")
    t.check("abandoning the command for seq %d" % (target + 1) in w.stderr(),
            "the bridge says it abandons:\n" + w.stderr_tail())
    b = Bridge(t, d, w, run=2)
    wait_for(t, "the rest after the restart", lambda: len(w.seqs()) >= end, work=w)
    t.eq(b.stop(), 0, "exit status")
    t.eq(w.seqs(), list(range(1, end + 1)), "seqs: the abandoned entry came again")


@test("a bridge killed while its command runs delivers that entry again on restart; the "
      "cursor never runs ahead of what was delivered")
def _(t):
    d = t.daemon()
    w = Work(d)
    base = d.build_county().seq
    with d.client() as c:
        case = open_case(c)
        notes(c, case, 3)
    end = last_seq(d)
    slow = w.script("slow.sh", SLOW_SH)
    started = os.path.join(w.dir, "started")
    target = base + 2
    b = Bridge(t, d, w, cmd="sh %s %s %d %s 1 %s" % (slow, w.out, target, started, w.record))
    wait_for(t, "the slow command", lambda: os.path.exists(started), work=w)
    b.proc.kill()
    b.proc.wait()
    t.eq(w.cursor_text(), "%d\n" % (target - 1), "the cursor when killed during the command")
    time.sleep(1.3)                                 # the orphaned command ends meanwhile
    t.eq(w.seqs(), list(range(1, target + 1)), "what the orphaned command delivered")
    b = Bridge(t, d, w, run=1)
    wait_for(t, "the rest", lambda: len(w.seqs()) >= end + 1, work=w)
    t.eq(b.stop(), 0, "exit status")
    rows = w.lines()
    t.eq([r[1] for r in rows], list(range(1, target + 1)) + list(range(target, end + 1)),
         "the entry being delivered at the kill comes once more, first in the new run")
    t.eq([r[0] for r in rows if r[1] == target], [0, 1], "delivered by both runs")


@test("a bridge started before the daemon waits for it, and rides out a daemon restart")
def _(t):
    d = t.daemon()
    w = Work(d)
    d.build_county()
    with d.client() as c:
        case = open_case(c)
    d.stop()
    b = Bridge(t, d, w)
    wait_for(t, "the bridge waiting", lambda: "connecting again" in w.stderr(), work=w)
    t.check(b.alive(), "the bridge gave up while the daemon was down")
    other = Bridge(t, d, w, run=9, cursor=os.path.join(w.dir, "other"))
    time.sleep(0.8)
    t.eq(other.stop(signal.SIGTERM, timeout=5), 0, "SIGTERM while waiting for the daemon")
    d.restart()
    end = last_seq(d)
    wait_for(t, "delivery once the daemon is up", lambda: len(w.seqs()) >= end, work=w)
    d.kill9()
    d.restart()
    with d.client() as c:
        notes(c, case, 3)
    end = last_seq(d)
    wait_for(t, "delivery after the daemon's restart", lambda: len(w.seqs()) >= end, work=w)
    t.check(b.alive(), "the bridge ended")
    t.eq(b.stop(), 0, "exit status")
    t.eq(w.seqs(), list(range(1, end + 1)), "seqs: each once, across the daemon's restarts")
    t.eq([r[0] for r in w.lines()], [0] * end, "all by the one bridge run")


# ---------------------------------------------------------------------------------------
# The key test

class Writer(threading.Thread):
    """Keeps adding notes to a case, each with its own id, sent again with the SAME id
    until it is acknowledged (the daemon may be down meanwhile)."""

    def __init__(self, d, case):
        super().__init__(daemon=True)
        self.d = d
        self.case = case
        self.halt = threading.Event()
        self.acked = []
        self.problems = []

    def run(self):
        c = ReqClient(self.d.submit, timeout=1.0)
        i = 0
        try:
            while not self.halt.is_set():
                rid = new_id()
                while True:
                    try:
                        r = c.write("case.note", actor=ACTOR, id=rid, case=self.case,
                                    text="under fire %d" % i)
                        break
                    except (Timeout, zmq.ZMQError):
                        time.sleep(0.05)
                if not r["ok"]:
                    self.problems.append(r)
                    return
                self.acked.append(r["seq"])
                i += 1
                time.sleep(0.01)
        except Exception as e:      # reported by the test
            self.problems.append(repr(e))
        finally:
            c.close()


@test("THE KEY TEST: killed with SIGKILL at random moments, at least %d times, while notes "
      "keep coming and the daemon restarts, the bridge still delivers every seq, in order, "
      "repeating only the entry a kill interrupted" % MIN_KILLS)
def _(t):
    seed = int(os.environ.get("BRIDGE_SEED", str(int(time.time() * 1000) % 1000000)))
    rng = random.Random(seed)
    t.diag("BRIDGE_SEED=%d" % seed)
    d = t.daemon()
    w = Work(d)
    d.build_county()
    with d.client() as c:
        case = open_case(c)
    writer = Writer(d, case)
    writer.start()
    t.defer(writer.halt.set)
    daemon_restarts = {4: "term", 9: "down", 14: "kill9", 19: "down", 22: "term"}
    cursors = []
    kills = 0
    for run in range(MIN_KILLS):
        how = daemon_restarts.get(run)
        if how == "down":                           # the bridge starts with no daemon
            d.stop()
            b = Bridge(t, d, w, run=run)
            time.sleep(rng.uniform(0.2, 1.0))
            d.restart()
        else:
            b = Bridge(t, d, w, run=run)
        time.sleep(rng.uniform(0.02, 0.6))
        if how in ("term", "kill9"):                # the daemon restarts under the bridge
            d.stop() if how == "term" else d.kill9()
            time.sleep(rng.uniform(0.0, 0.5))
            d.restart()
            time.sleep(rng.uniform(0.0, 0.8))
        t.require(b.alive(), "bridge run %d ended by itself:\n%s" % (run, w.stderr_tail()))
        b.proc.kill()
        b.proc.wait()
        kills += 1
        # the cursor: one number, never backwards, never ahead of what was delivered
        text = w.cursor_text()
        t.require(text is not None and text.endswith("\n") and text[:-1].isdigit(),
                  "after kill %d the cursor file holds %r" % (kills, text))
        cur = int(text)
        delivered = set(w.seqs())
        t.require(all(s in delivered for s in range(1, cur + 1)),
                  "after kill %d the cursor is at %d but seqs %r are not in the output"
                  % (kills, cur, sorted(set(range(1, cur + 1)) - delivered)[:10]))
        prev = cursors[-1] if cursors else 0
        t.require(cur >= prev, "the cursor went back from %d to %d" % (prev, cur))
        cursors.append(cur)
    writer.halt.set()
    writer.join(30)
    t.require(not writer.is_alive(), "the writer did not stop")
    t.require(not writer.problems, "the writer: %r" % writer.problems[:3])
    end = last_seq(d)
    t.require(writer.acked and max(writer.acked) <= end, "acknowledged seqs past the end")
    final = Bridge(t, d, w, run=MIN_KILLS)
    # the cursor, not the output: the last killed run's orphaned command may have written
    # the last seq already, which the final run then delivers again
    wait_for(t, "the final bridge reaching seq %d" % end,
             lambda: w.started(MIN_KILLS) and w.cursor_text() == "%d\n" % end, timeout=120,
             work=w)
    t.eq(final.stop(), 0, "exit status of the final bridge")
    t.eq(w.cursor_text(), "%d\n" % end, "the final cursor")

    rows = w.lines()
    seqs = [r[1] for r in rows]
    first = []
    seen = set()
    for s in seqs:
        if s not in seen:
            seen.add(s)
            first.append(s)
    t.eq(first, list(range(1, end + 1)), "every seq 1..N, first appearances in order")
    log = {e["seq"]: e for e in whole_log(d)}
    t.check(all(r[3] == log[r[1]] for r in rows), "a delivered JSON differs from its entry")
    # per run: consecutive seqs; a run starts right after, or at, the last seq delivered
    # before it (at: the kill fell after the command's exit, before the cursor's rename)
    runs = {}
    for r in rows:
        runs.setdefault(r[0], []).append(r[1])
    top = 0
    repeats = []
    for run in sorted(runs):
        got = runs[run]
        t.check(got == list(range(got[0], got[0] + len(got))),
                "run %d delivered %r: not consecutive" % (run, got[:20]))
        t.check(got[0] in (top, top + 1),
                "run %d starts at %d, after %d was delivered" % (run, got[0], top))
        if got[0] == top:
            repeats.append((run, top))
        top = max(top, got[-1])
    t.check(len(seqs) - end == len(repeats), "%d extra deliveries but %d repeats at run "
            "starts" % (len(seqs) - end, len(repeats)))
    t.check(len(repeats) <= kills, "%d repeats for %d kills" % (len(repeats), kills))
    t.check(kills >= 20, "only %d kills" % kills)
    busy = sum(1 for run in range(MIN_KILLS) if run in runs)
    t.check(busy >= MIN_KILLS // 2, "only %d of %d killed runs delivered anything"
            % (busy, MIN_KILLS))
    t.diag("%d kills, %d daemon restarts, %d entries (%d notes acknowledged), %d deliveries, "
           "%d repeats at run starts (seqs %r), %d runs delivered something"
           % (kills, len(daemon_restarts), end, len(writer.acked), len(seqs), len(repeats),
              [s for _, s in repeats], busy))


# ---------------------------------------------------------------------------------------
# The cursor file

@test("a corrupt cursor file is refused with exit status 5, naming the file, and nothing "
      "is delivered or changed; a hand-written number is taken")
def _(t):
    d = t.daemon()
    w = Work(d)
    d.build_county()
    end = last_seq(d)
    bad = ["", "\n", "abc\n", "12x\n", "-3\n", " 12\n", "12 \n", "12\n13\n", "1e3\n", "0x10\n",
           "99999999999999999999999\n", "\x0012\n", "7" * 70 + "\n"]
    for text in bad:
        with open(w.cursor, "w") as f:
            f.write(text)
        p = run_bridge(d, w, "--cursor", w.cursor)
        t.check(p.returncode == 5, "cursor %r: exit status %d, want 5; stderr %s"
                % (text, p.returncode, p.stderr))
        t.check("the cursor file %s is corrupt" % w.cursor in p.stderr,
                "cursor %r: the message: %r" % (text, p.stderr))
        t.eq(w.cursor_text(), text, "the corrupt cursor file is left as it was")
        t.check(not os.path.exists(w.out), "cursor %r: something was delivered" % text)
    os.unlink(w.cursor)
    os.mkdir(w.cursor)
    p = run_bridge(d, w, "--cursor", w.cursor)
    t.check(p.returncode == 5 and "not a regular file" in p.stderr,
            "a directory as cursor: %d %r" % (p.returncode, p.stderr))
    os.rmdir(w.cursor)
    # ahead of the ledger: another ledger, or a restored one
    with open(w.cursor, "w") as f:
        f.write("%d\n" % (end + 10))
    p = run_bridge(d, w, "--cursor", w.cursor)
    t.check(p.returncode == 5 and "ends at seq %d" % end in p.stderr,
            "a cursor past the end: %d %r" % (p.returncode, p.stderr))
    t.eq(w.cursor_text(), "%d\n" % (end + 10), "the cursor past the end is left as it was")
    # a number written by hand, without a newline, and a stale temporary file
    with open(w.cursor, "w") as f:
        f.write("%d" % (end - 2))
    with open(w.cursor + ".tmp", "w") as f:
        f.write("garbage from a kill")
    b = Bridge(t, d, w)
    wait_for(t, "delivery after a hand-written cursor", lambda: len(w.seqs()) >= 2, work=w)
    t.eq(b.stop(), 0, "exit status")
    t.eq(w.seqs(), [end - 1, end], "the entries after the hand-written seq")
    t.eq(w.cursor_text(), "%d\n" % end, "the cursor file")


@test("one bridge per cursor file: a second one is refused while the first runs; the "
      "bridge options are checked before anything is touched")
def _(t):
    d = t.daemon()
    w = Work(d)
    d.build_county()
    end = last_seq(d)
    b = Bridge(t, d, w)
    wait_for(t, "the first bridge", lambda: len(w.seqs()) >= end, work=w)
    p = run_bridge(d, w, "--cursor", w.cursor)
    t.check(p.returncode == 5 and "another nanti watch is delivering" in p.stderr,
            "a second bridge: %d %r" % (p.returncode, p.stderr))
    t.eq(b.stop(), 0, "exit status")
    t.eq(w.seqs(), list(range(1, end + 1)), "seqs: once each")
    other = os.path.join(w.dir, "other")
    for args, cmd, why in (
            (["--cursor", other], False, "--exec CMD and --cursor FILE go together"),
            ([], None, "--exec CMD and --cursor FILE go together"),
            (["--cursor", other, "--retry-max", "0"], None, "--retry-max must be 1 to"),
            (["--cursor", other], "", "--exec must not be empty"),
            (["--cursor", w.dir + "/"], None, "names a directory"),
            (["--cursor", other, "--from", "1", "--after", "1"], None, "not both")):
        p = run_bridge(d, w, *args, cmd=cmd)
        t.check(p.returncode == 2 and why in p.stderr,
                "%r %r: exit status %d, stderr %r; want 2 and %r"
                % (args, cmd, p.returncode, p.stderr, why))
        t.check(not os.path.exists(other), "%r: the cursor file was created" % args)


# ---------------------------------------------------------------------------------------
# Topics

@test("with TOPIC prefixes only those entries go to the command, and the cursor still "
      "moves past the others")
def _(t):
    d = t.daemon()
    w = Work(d)
    d.build_county()
    with d.client() as c:
        cases = [open_case(c, "c%d" % i) for i in range(3)]
        notes(c, cases[0], 3)
        r = c.write("case.escalate", actor=County.SUPERVISION, case=cases[1], reason="slow")
        t.require(r["ok"], "escalate: %r" % (r,))
        notes(c, cases[2], 2)
        open_case(c, "the last entry is not a note")
    end = last_seq(d)
    log = whole_log(d)
    noted = [e["seq"] for e in log if e["topic"] == "case.noted"]
    two = [e["seq"] for e in log if e["topic"] in ("case.noted", "case.escalated")]
    out2 = os.path.join(w.dir, "out2")
    cur2 = os.path.join(w.dir, "cursor2")
    b = Bridge(t, d, w, args=["case.noted"])
    b2 = Bridge(t, d, w, cmd=w.record_cmd(out2), cursor=cur2,
                args=["case.noted", "case.esc"])
    wait_for(t, "the notes", lambda: len(w.seqs()) >= len(noted), work=w)
    wait_for(t, "notes and escalations", lambda: len(w.seqs(out2)) >= len(two), work=w)
    wait_for(t, "the cursor past the last entry",
             lambda: w.cursor_text() == "%d\n" % end, work=w)
    t.eq(w.seqs(), noted, "one prefix: the notes only")
    t.eq(w.seqs(out2), two, "two prefixes: notes and escalations")
    with d.client() as c:
        more = notes(c, cases[1], 1, "live")
        open_case(c, "live, not a note")
    end = last_seq(d)
    wait_for(t, "a live note", lambda: len(w.seqs()) > len(noted), work=w)
    for path in (w.cursor, cur2):
        wait_for(t, "%s past the live entry left out" % path,
                 lambda: text_of(path) == "%d\n" % end, work=w)
    t.eq(b.stop(), 0, "exit status")
    t.eq(b2.stop(), 0, "exit status")
    t.eq(w.seqs(), noted + more, "one prefix, live")
    t.eq(w.seqs(out2), two + more, "two prefixes, live")
    for path in (w.cursor, cur2):
        with open(path) as f:
            t.eq(f.read(), "%d\n" % end, "%s after SIGTERM" % path)
    b = Bridge(t, d, w, args=["case.noted"], run=1)
    time.sleep(1.2)
    t.eq(b.stop(), 0, "exit status")
    t.eq(w.seqs(), noted + more, "nothing again after a restart")


# ---------------------------------------------------------------------------------------
# The worked examples of docs/bridges.md, as they are written there

class Hooks:
    """A local HTTP server standing in for a webhook: it records every POST (headers and
    body) and answers 503 to the requests whose number (from 1) is in `fail`."""

    def __init__(self, t, fail=()):
        self.posts = []
        self.fail = set(fail)
        self.count = 0
        hooks = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hooks.count += 1
                if hooks.count in hooks.fail:
                    self.send_response(503)
                else:
                    hooks.posts.append((dict(self.headers), body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        t.defer(self.server.shutdown)


def doc_blocks(lang=""):
    """The fenced code blocks of docs/bridges.md opened with ```LANG, as (heading, text)."""
    with open(BRIDGES_MD) as f:
        text = f.read()
    out = []
    heading = ""
    for m in re.finditer(r"^(#+ [^\n]*)$|^```(\w*)\n(.*?)^```$", text, re.M | re.S):
        if m.group(1):
            heading = m.group(1)
        elif m.group(2) == lang:
            out.append((heading, m.group(3)))
    return out


def doc_block(t, heading_part, lang=""):
    blocks = [b for h, b in doc_blocks(lang) if heading_part in h]
    t.require(blocks, "docs/bridges.md has no ```%s block under a heading with %r"
              % (lang, heading_part))
    return blocks


def doc_argv(t, block, subst):
    """The words of a `nanti ...` command block as the shell splits them (line
    continuations, quotes), after the replacements in subst; without the leading nanti."""
    for old, new in subst.items():
        block = block.replace(old, new)
    script = 'nanti() { for a in "$@"; do printf "%s\\0" "$a"; done; }\n' + block
    p = subprocess.run(["sh", "-c", script], capture_output=True, timeout=10)
    t.require(p.returncode == 0, "the shell cannot read the block: %r" % p.stderr)
    return p.stdout.decode().split("\0")[:-1]


@test("the worked examples of docs/bridges.md work as written: mail through sendmail, a "
      "webhook with curl --fail, a Python bridge that deduplicates by seq")
def _(t):
    missing = [tool for tool in ("jq", "curl") if shutil.which(tool) is None]
    t.require(not missing, "not installed, needed by the examples: %s" % missing)
    d = t.daemon()
    w = Work(d)
    d.build_county()
    with d.client() as c:
        cases = [open_case(c, "c%d" % i) for i in range(2)]
        notes(c, cases[0], 3)
        for case in cases:
            r = c.write("case.escalate", actor=County.SUPERVISION, case=case,
                        reason="两周没有进展 (no progress)")
            t.require(r["ok"], "escalate: %r" % (r,))
        notes(c, cases[1], 1)
    log = whole_log(d)
    end = log[-1]["seq"]
    hooks = Hooks(t, fail=(1, 4))
    subst = {"/usr/local/lib/nanti/": w.dir + "/", "/var/lib/nanti-bridges/": w.dir + "/",
             "https://hooks.example.org/nanti": hooks.url,
             "https://chat.example.org/hooks/nanti": hooks.url,
             "/usr/sbin/sendmail": os.path.join(w.dir, "sendmail")}

    # 1. mail: the script as written, a sendmail that fails once, then queues to a file
    mail_sh = doc_block(t, "Example 1", "sh")[0]
    for old, new in subst.items():
        mail_sh = mail_sh.replace(old, new)
    w.script("mail-bridge.sh", mail_sh)
    os.chmod(os.path.join(w.dir, "mail-bridge.sh"), 0o755)
    w.script("sendmail", '#!/bin/sh\n[ -e "$0.tried" ] || { touch "$0.tried"; exit 75; }\n'
             'echo "=== sendmail $*" >> "$0.out"\ncat >> "$0.out"\n')
    os.chmod(os.path.join(w.dir, "sendmail"), 0o755)
    argv = doc_argv(t, doc_block(t, "Example 1")[0], subst)
    b = Bridge(t, d, w, argv=argv)
    escalated = [e for e in log if e["topic"] == "case.escalated"]
    wait_for(t, "the mails",
             lambda: text_of(os.path.join(w.dir, "mail.cursor")) == "%d\n" % end, work=w)
    t.eq(b.stop(), 0, "exit status of the mail bridge")
    mails = open(os.path.join(w.dir, "sendmail.out")).read().split("=== sendmail ")[1:]
    t.eq(len(mails), len(escalated), "one mail per escalation")
    for mail, e in zip(mails, escalated):
        t.check(mail.startswith("-t -oi\n"), "sendmail's arguments: %r" % mail[:40])
        t.check("Subject: [nanti] case %d: case.escalated (seq %d)\n" % (e["case"], e["seq"])
                in mail, "the subject: %r" % mail)
        t.check("Message-ID: <nanti-seq-%d@county.example>\n" % e["seq"] in mail,
                "the Message-ID: %r" % mail)
        t.check("两周没有进展 (no progress)" in mail and "by %s" % County.SUPERVISION in mail,
                "the body: %r" % mail)
    t.check("exit status 75" in w.stderr(), "the failed sendmail is logged:\n"
            + w.stderr_tail())

    # 2. the webhook: the curl command as written; the server fails twice
    argv = doc_argv(t, doc_block(t, "Example 2")[0], subst)
    t.require("--exec" in argv and "curl --fail" in argv[argv.index("--exec") + 1],
              "the webhook block: %r" % argv)
    b = Bridge(t, d, w, argv=argv, run=1)
    about_cases = [e for e in log if e["topic"].startswith("case.")]
    wait_for(t, "the posts", lambda: len(hooks.posts) >= len(about_cases), work=w)
    wait_for(t, "the webhook's cursor",
             lambda: text_of(os.path.join(w.dir, "hook.cursor")) == "%d\n" % end, work=w)
    t.eq(b.stop(), 0, "exit status of the webhook bridge")
    t.eq([json.loads(body) for _, body in hooks.posts], about_cases,
         "the bodies: every case entry once, in order, as it is")
    t.eq([h.get("Idempotency-Key") for h, _ in hooks.posts],
         ["nanti-%d" % e["seq"] for e in about_cases], "the Idempotency-Key headers")
    t.check(w.stderr().count("exit status 22") == 2, "two failures of curl --fail logged:\n"
            + w.stderr_tail())

    # 3. Python: the script as written; a 503 once; a repeat is not posted again
    hooks.posts, hooks.count, hooks.fail = [], 0, {2}
    script = os.path.join(w.dir, "chat-bridge.py")
    with open(script, "w") as f:
        f.write(doc_block(t, "Example 3", "python")[0])
    os.chmod(script, 0o755)
    blocks = doc_block(t, "Example 3")
    argv = doc_argv(t, blocks[-1], subst)
    b = Bridge(t, d, w, argv=argv, run=2, env={"CHAT_WEBHOOK": hooks.url})
    noted = [e for e in log if e["topic"] == "case.noted"]
    state = os.path.join(w.dir, "chat.state")
    wait_for(t, "the chat posts", lambda: text_of(state) == "%d\n" % noted[-1]["seq"],
             work=w)
    t.eq(b.stop(), 0, "exit status of the Python bridge")
    t.eq([json.loads(body)["seq"] for _, body in hooks.posts], [e["seq"] for e in noted],
         "each note posted once, in order")
    t.eq(json.loads(hooks.posts[0][1])["text"], "case %d, %s: note 0" % (cases[0], ACTOR),
         "the text posted")
    again = subprocess.run(argv[argv.index("--exec") + 1], shell=True, text=True,
                           input=json.dumps(noted[1]) + "\n", capture_output=True,
                           env=client_env(CHAT_WEBHOOK=hooks.url), timeout=30)
    t.eq(again.returncode, 0, "a repeat exits 0: %s" % again.stderr)
    t.eq(len(hooks.posts), len(noted), "a repeat is not posted again")
    t.check("HTTP Error 503" in w.stderr() and "exit status 1" in w.stderr(),
            "the failed POST is logged:\n" + w.stderr_tail())


if __name__ == "__main__":
    run_tests()
