#!/usr/bin/python3
"""
test_disk.py - space, through the real daemon: the LMDB map grows by itself from a tiny
initial size under load; at its configured cap, writes are refused as `unavailable`
with nothing acknowledged lost; a full file system refuses writes cleanly and the daemon
resumes by itself once space returns, losing nothing it acknowledged, across a SIGKILL.

The full disk is a small tmpfs when this machine lets the test mount one (CI runs as root);
otherwise a file size limit on the daemon (RLIMIT_FSIZE, raised again with prlimit),
which makes its writes fail the same way.

Run with /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyclient import new_id, run_tests, test  # noqa: E402


def open_cases(c, n, tag):
    """Open n cases one by one; the acknowledged ones' ids and the refusals."""
    acked, refused = [], []
    for i in range(n):
        r = c.write("case.open", actor="wang.li", title="%s %d" % (tag, i),
                    area="development", unit="xiaxi")
        if r["ok"]:
            acked.append(r["case"])
        else:
            refused.append(r)
            if len(refused) >= 5:
                break
    return acked, refused


def all_there(t, d, cases):
    with d.client() as c:
        missing = [k for k in cases if not c.call("case.get", case=k, limit=1)["ok"]]
    t.eq(missing, [], "every acknowledged case is in the ledger")


@test("the map grows by itself from a tiny initial size under load")
def _(t):
    d = t.daemon(start=False)
    d.args = ["--map-size-mb", "1"]
    d.start()
    d.build_county()
    with d.pipeline(window=64) as p:
        replies = p.run([{"op": "case.open", "id": new_id(), "actor": "wang.li",
                          "title": "case %d" % i, "area": "development", "unit": "xiaxi"}
                         for i in range(6000)], timeout=120)
    t.eq([r for r in replies if not r["ok"]][:1], [], "every write acknowledged")
    with d.client() as c:
        s = c.call("stats")
    t.check(s["map_size"] >= 4 << 20 and s["map_used"] > 1 << 20,
            "the map grew: %d MB, %d MB used" % (s["map_size"] >> 20, s["map_used"] >> 20))
    d.stop()
    d.start()
    all_there(t, d, [r["case"] for r in replies])


@test("at the map's cap writes are refused as unavailable, nothing acknowledged is lost, "
      "and a larger cap lets them go on")
def _(t):
    d = t.daemon(start=False)
    conf = d.configure("map-size-mb = 1\nmap-size-max-mb = 2\n")
    d.start()
    d.build_county()
    with d.client() as c:
        acked, refused = open_cases(c, 20000, "capped")
        t.check(len(refused) > 0 and len(acked) > 100, "%d acked, then refused" % len(acked))
        if refused:
            e = refused[0]["error"]
            t.eq(e["code"], "unavailable", "the code")
            t.check("map-size-max-mb" in e["message"], "says why: %r" % e["message"])
        t.check(c.call("ping")["ok"], "reads are still served")
    d.kill9()
    with open(conf, "w") as f:
        f.write("map-size-mb = 1\nmap-size-max-mb = 16\n")
    d.start()
    all_there(t, d, acked)
    with d.client() as c:
        more, refused = open_cases(c, 50, "uncapped")
    t.eq((len(more), refused), (50, []), "writes go on")


def small_disk(t, d):
    """Put d's state on a 6 MB tmpfs if mounting works here; the mount point, or None."""
    mnt = os.path.join(d.base, "disk")
    os.makedirs(mnt, exist_ok=True)
    if os.environ.get("NANTI_TEST_NO_MOUNT"):
        return None
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt],
                       capture_output=True, timeout=30)
    if r.returncode != 0:
        return None
    t.defer(lambda: subprocess.run(["umount", "-l", mnt], capture_output=True))
    d.state_dir = os.path.join(mnt, "state")
    os.makedirs(d.state_dir)
    return mnt


@test("a full disk: writes are refused as unavailable, nothing acknowledged is lost across "
      "a SIGKILL, and writes resume by themselves when space returns")
def _(t):
    d = t.daemon(start=False)
    mnt = small_disk(t, d)
    d.args = ["--map-size-mb", "1"]
    d.start()
    d.build_county()
    with d.client() as c:
        acked, _ = open_cases(c, 200, "before")
    if mnt is not None:
        t.diag("a 6 MB tmpfs")
        filler = os.path.join(mnt, "filler")
        # unbuffered: a buffered file would raise ENOSPC again when it is closed
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 65536)
        except OSError:
            pass
        finally:
            os.close(fd)
    else:
        t.diag("no mount here: a file size limit on the daemon instead")
        size = os.path.getsize(os.path.join(d.state_dir, "data.mdb"))
        subprocess.run(["prlimit", "--pid", str(d.pid), "--fsize=%d:" % size], check=True)
    with d.client() as c:
        more, refused = open_cases(c, 5000, "full")
        acked += more
        t.check(len(refused) == 5, "refused once the disk is full (%d acked first)" % len(more))
        if refused:
            t.eq(refused[0]["error"]["code"], "unavailable", "the code: %r" % refused[0])
        t.check(c.call("ping")["ok"], "reads are still served")
    if mnt is not None:
        os.unlink(filler)
    else:
        subprocess.run(["prlimit", "--pid", str(d.pid), "--fsize=unlimited:"], check=True)
    time.sleep(0.3)
    with d.client() as c:
        after, refused = open_cases(c, 20, "after")
    t.eq((len(after), refused), (20, []), "writes resume by themselves")
    acked += after
    d.kill9()
    d.start()
    all_there(t, d, acked)


if __name__ == "__main__":
    run_tests()
