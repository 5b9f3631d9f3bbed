#!/usr/bin/python3
"""
test_install.py - nanti as a system service (issue 5): the unit, `make install`, the man
pages and the example configuration.

  * systemd/nantid.service passes `systemd-analyze verify` without a word, and its
    exposure by `systemd-analyze security --offline=true` is 1.2 or less;
  * nantid works inside the unit's sandbox: its system call filter, address families,
    W^X and realtime restrictions, loaded with libseccomp as systemd loads them
    (sandbox.py; systemd is not PID 1 here), through requests over ipc and tcp, a
    reload, the notifications and a clean stop; without sched_setscheduler (which
    ZeroMQ's threads call) it dies of SIGSYS, so the emulation is real;
  * `make install DESTDIR=... PREFIX=/usr` lays every file out where a Debian
    administrator expects it, with the unit written for that PREFIX; the binaries run;
    systemd-sysusers and systemd-tmpfiles accept the snippets; the example
    configuration passes --check-config as it is, and uncommented it is the defaults;
  * the man pages render without a warning, and name every command, option and key
    with its default (the `--help` outputs and `--check-config` are the source);
  * `make install PREFIX=... SYSCONFDIR=...` into a directory of its own: the unit runs
    the installed nantid, which finds the installed calendars and its configuration
    file and serves the installed nanti; `make uninstall` takes it all away but the
    administrator's nantid.conf.

Each install builds into a build directory of its own, never build/.
Run with /usr/bin/python3 (Debian's python3-zmq, python3-msgpack and python3-seccomp).
"""
import atexit
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyclient import (  # noqa: E402
    NANTID, ROOT, Notify, ReqClient, new_id, run_tests, test,
)

UNIT = os.path.join(ROOT, "systemd", "nantid.service")
SANDBOX = os.path.join(ROOT, "tests", "integration", "sandbox.py")
MAX_EXPOSURE = 1.2
MAN_PAGES = {"nanti.1": "man1", "nantid.conf.5": "man5", "nantid.8": "man8"}
BUILD_NANTI = os.path.join(ROOT, "build", "nanti")

_tmp = tempfile.mkdtemp(prefix="nt-install-", dir="/tmp")
atexit.register(shutil.rmtree, _tmp, True)


def sh(cmd, env=None, cwd=None, timeout=600):
    """Run cmd (a list); a CompletedProcess with text stdout and stderr."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=e, cwd=cwd,
                          timeout=timeout)


def make(*args):
    """make in the source tree, outside the make that may be running the tests (its
    jobserver and variables are not ours)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    return subprocess.run(["make", "-C", ROOT, "--no-print-directory", "-j2"] + list(args),
                          capture_output=True, text=True, env=env, timeout=900)


_installs = {}


def installed(t, prefix="/usr", destdir=True, sysconfdir="/etc"):
    """`make install` once per layout, built into a build directory of its own; the root
    its files are under (DESTDIR, or "" without one)."""
    key = (prefix, destdir, sysconfdir)
    if key not in _installs:
        base = tempfile.mkdtemp(prefix="i-", dir=_tmp)
        dest = os.path.join(base, "dest") if destdir else ""
        if not destdir:
            prefix = base + prefix
            sysconfdir = base + sysconfdir
        r = make("install", "B=" + os.path.join(base, "build"), "DESTDIR=" + dest,
                 "PREFIX=" + prefix, "SYSCONFDIR=" + sysconfdir)
        t.require(r.returncode == 0, "make install failed:\n%s%s" % (r.stdout[-3000:],
                                                                     r.stderr[-3000:]))
        _installs[key] = (dest, prefix, sysconfdir, base)
    return _installs[key]


def exposure(unit):
    r = sh(["systemd-analyze", "security", "--offline=true", "--no-pager", unit])
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
    return (float(m.group(1)) if m else None), r


def free_port():
    """A port p such that p and p+1 are free on 127.0.0.1 (nantid binds both)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p >= 65534:
            continue
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", p + 1))
            return p
        except OSError:
            continue
    raise RuntimeError("no free port pair")


def unescape(roff):
    """Roff source to plain text enough to search: escapes and fonts removed."""
    s = re.sub(r"\\f[BIRP]", "", roff)
    s = s.replace("\\-", "-").replace("\\e", "\\").replace("\\(dq", '"').replace("\\&", "")
    return s


def sections(roff, macro):
    """{heading: body} of a man page's .SH sections (their .SS included) or .SS
    sections, unescaped."""
    out, name = {}, None
    for line in unescape(roff).splitlines():
        if line.startswith(macro + " "):
            name = line[len(macro) + 1:].strip().strip('"')
            out[name] = ""
            continue
        if line.startswith(".SH "):
            name = None
        if name is not None:
            out[name] += line + "\n"
    return out


def rendered(path):
    """A man page as man -l renders it, in lines long enough not to wrap."""
    return sh(["man", "-l", path], env={"MANWIDTH": "250"}).stdout


def options_of(help_text, after=None):
    """The --options a help text lists (after the line `after`, if given)."""
    if after is not None:
        help_text = help_text.split(after, 1)[1]
    return sorted(set(re.findall(r"^\s+(--[a-z][a-z-]*)", help_text, re.M)))


def check_config(binary, *args, env=None, cwd=None):
    return sh([binary, "--check-config"] + list(args), env=env, cwd=cwd)


def defaults_printed(binary):
    """key -> value of `nantid --check-config` without a file (the defaults)."""
    r = check_config(binary, "--config", "/dev/null")
    out = {}
    for line in r.stdout.splitlines():
        if not line.startswith("#") and " =" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


# ---------------------------------------------------------------------------------------
# The unit

@test("systemd-analyze verify prints nothing for the unit, installed for PREFIX=/usr "
      "(which leaves it as it is in systemd/), its ExecStart at the installed nantid and "
      "its man pages on MANPATH")
def _(t):
    dest, prefix, _, base = installed(t)
    inst = os.path.join(dest, "usr/lib/systemd/system/nantid.service")
    with open(inst) as f, open(UNIT) as g:
        text = f.read()
        t.eq(text, g.read(), "the unit installed for PREFIX=/usr is systemd/nantid.service")
    t.check("\nExecStart=/usr/sbin/nantid\n" in text, "ExecStart=/usr/sbin/nantid")
    d = os.path.join(base, "verify")
    os.makedirs(d, exist_ok=True)
    copy = os.path.join(d, "nantid.service")
    with open(copy, "w") as f:
        f.write(text.replace("\nExecStart=/usr/sbin/nantid\n",
                             "\nExecStart=%s/usr/sbin/nantid\n" % dest))
    r = sh(["systemd-analyze", "verify", copy],
           env={"MANPATH": os.path.join(dest, "usr/share/man")})
    t.eq(r.stdout + r.stderr, "", "systemd-analyze verify's output")
    t.eq(r.returncode, 0, "its exit status")
    # and it does complain when something is wrong: a man page it cannot find
    r = sh(["systemd-analyze", "verify", copy], env={"MANPATH": d})
    t.check("man nantid(8)" in r.stdout + r.stderr,
            "without the man pages verify says so: %r" % (r.stdout + r.stderr))


@test("the unit's exposure with systemd-analyze security --offline=true is at most 1.2")
def _(t):
    level, r = exposure(UNIT)
    t.require(level is not None, "no overall exposure line:\n%s%s" % (r.stdout, r.stderr))
    t.check(level <= MAX_EXPOSURE, "exposure %.1f > %.1f:\n%s" % (
        level, MAX_EXPOSURE, "\n".join(x for x in r.stdout.splitlines() if "\u2717" in x)))
    t.diag("exposure %.1f" % level)
    # what the unit must keep for the daemon to work at all
    with open(UNIT) as f:
        unit = f.read()
    for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
                 "Group=nanti", "DynamicUser=yes", "RuntimeDirectoryMode=0750",
                 "StateDirectoryMode=0700", "StateDirectory=nanti", "RuntimeDirectory=nanti",
                 "UMask=0077", "NoNewPrivileges=yes", "CapabilityBoundingSet=",
                 "MemoryDenyWriteExecute=yes", "SystemCallArchitectures=native"):
        t.check(re.search("^" + re.escape(line) + "$", unit, re.M), "the unit has " + line)
    t.check(re.search(r"^\[Unit\][^\[]*^StartLimitIntervalSec=", unit, re.M | re.S) and
            re.search(r"^\[Unit\][^\[]*^StartLimitBurst=", unit, re.M | re.S),
            "StartLimitIntervalSec= and StartLimitBurst= in [Unit]")


def sandboxed(t, without=()):
    """A script that runs build/nantid inside the unit's seccomp sandbox."""
    path = os.path.join(tempfile.mkdtemp(prefix="sb-", dir=_tmp), "nantid")
    extra = "".join("--without %s " % w for w in without)
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec /usr/bin/python3 %s %s%s %s \"$@\"\n"
                % (SANDBOX, extra, UNIT, NANTID))
    os.chmod(path, 0o755)
    return path


@test("nantid works inside the unit's sandbox (system calls, address families, W^X, "
      "realtime): requests over ipc and tcp, notifications, SIGHUP, a clean stop, a restart")
def _(t):
    port = free_port()
    d = t.daemon(start=False, binary=sandboxed(t), args=["--listen-tcp",
                                                        "127.0.0.1:%d" % port])
    n = Notify(t, d)
    d.env = dict(n.env(), WATCHDOG_USEC="2000000")
    d.start()
    t.require(n.wait_for("READY=1"), "READY=1: %r" % n.msgs)
    county = d.build_county()
    t.check(county.seq > 0, "the county was built")
    curve = d.curve_for("wang.li")     # tcp speaks CURVE: the ZAP handler in the sandbox too
    with d.pipeline(window=50) as p:
        replies = p.run([{"op": "case.open", "id": new_id(), "actor": "wang.li",
                          "title": "road %d" % i, "area": "development", "unit": "xiaxi"}
                         for i in range(200)], timeout=60)
    t.check(all(r["ok"] for r in replies), "200 cases opened")
    with ReqClient("tcp://127.0.0.1:%d" % port, 10.0, curve=curve) as c:
        r = c.call("ping")
        t.check(r.get("ok"), "ping over tcp: %r" % r)
        r = c.request({"op": "case.list", "limit": 10})
        t.check(r.get("ok") and len(r.get("items", [])) == 10, "case.list over tcp: %r" % r)
        # a report: the report thread lowers its priority (setpriority) in the sandbox too
        r = c.request({"op": "report.units", "unit": "anling"})
        t.check(r.get("ok") and r["totals"]["cases"] == 200, "report.units over tcp: %r"
                % {k: r.get(k) for k in ("ok", "error")})
    mark = len(n.msgs)
    d.send_signal(signal.SIGHUP)
    t.check(n.wait_for("RELOADING=1", start=mark), "RELOADING=1 after SIGHUP")
    t.check(n.wait_for("READY=1", start=mark + 1), "READY=1 after the reload")
    t.check(n.wait_for("WATCHDOG=1", start=mark), "WATCHDOG=1")
    mark = len(n.msgs)
    t.eq(d.stop(), 0, "exit status after SIGTERM")
    t.check(n.wait_for("STOPPING=1", 1, start=mark), "STOPPING=1")
    d.restart()
    with d.client() as c:
        t.eq(c.call("ping").get("seq"), replies[-1]["seq"], "the ledger after a restart")
    t.eq(d.stop(), 0, "exit status after the second stop")
    t.check("Bad system call" not in d.stderr(), "no SIGSYS")

    # the emulation is real: the unit's filter without the call ZeroMQ makes kills nantid
    d2 = t.daemon(start=False, binary=sandboxed(t, without=["sched_setscheduler"]))
    d2.start(wait=False)
    t.eq(d2.wait_exit(15), -signal.SIGSYS,
         "nantid's end without sched_setscheduler in the filter")


# ---------------------------------------------------------------------------------------
# make install

EXPECTED = {        # the files of PREFIX=/usr, SYSCONFDIR=/etc, and their modes
    "usr/sbin/nantid": 0o755,
    "usr/bin/nanti": 0o755,
    "usr/bin/nanti-demo": 0o755,
    "usr/lib/systemd/system/nantid.service": 0o644,
    "usr/lib/sysusers.d/nanti.conf": 0o644,
    "usr/lib/tmpfiles.d/nanti.conf": 0o644,
    "etc/nanti/nantid.conf.example": 0o644,
    "usr/share/man/man1/nanti.1": 0o644,
    "usr/share/man/man5/nantid.conf.5": 0o644,
    "usr/share/man/man8/nantid.8": 0o644,
    "usr/share/doc/nanti/README.md": 0o644,
}


def expected_files():
    out = dict(EXPECTED)
    for c in os.listdir(os.path.join(ROOT, "calendars")):
        if c.endswith(".cal"):
            out["usr/share/nanti/calendars/" + c] = 0o644
    for doc in os.listdir(os.path.join(ROOT, "docs")):
        if doc.endswith(".md"):
            out["usr/share/doc/nanti/" + doc] = 0o644
    return out


def files_under(root):
    out = {}
    for d, _, names in os.walk(root):
        for name in names:
            p = os.path.join(d, name)
            out[os.path.relpath(p, root)] = stat.S_IMODE(os.lstat(p).st_mode)
    return out


@test("make install DESTDIR=... PREFIX=/usr lays out every file where Debian expects it, "
      "and nothing else; the binaries run; sysusers and tmpfiles accept the snippets")
def _(t):
    dest, _, _, _ = installed(t)
    want, got = expected_files(), files_under(dest)
    t.eq(sorted(set(want) - set(got)), [], "files missing")
    t.eq(sorted(set(got) - set(want)), [], "files not expected")
    for path, mode in sorted(want.items()):
        if path in got:
            t.eq(oct(got[path]), oct(mode), "mode of " + path)
    for binary in ("usr/sbin/nantid", "usr/bin/nanti", "usr/bin/nanti-demo"):
        r = sh([os.path.join(dest, binary), "--version"])
        t.check(r.returncode == 0 and
                re.fullmatch(r"%s \d+\.\d+\.\d+\n" % os.path.basename(binary), r.stdout),
                "%s --version: %d %r %r" % (binary, r.returncode, r.stdout, r.stderr))
    nantid = os.path.join(dest, "usr/sbin/nantid")
    r = sh([nantid, "--help"])
    t.check("/etc/nanti/nantid.conf" in r.stdout and "/usr/share/nanti/calendars" in r.stdout,
            "the installed nantid looks in /etc/nanti and /usr/share/nanti:\n" + r.stdout)
    for name, text in (("sysusers", "g nanti -"), ("tmpfiles", "d /etc/nanti 0755 root root -")):
        with open(os.path.join(dest, "usr/lib/%s.d/nanti.conf" % name)) as f:
            t.check(text in f.read().splitlines(), "%s.d/nanti.conf has %r" % (name, text))
    # the tools themselves, on a root of their own
    root = os.path.join(_tmp, "sysroot")
    shutil.copytree(dest, root)
    r = sh(["systemd-sysusers", "--root=" + root, "nanti.conf"])
    t.check(r.returncode == 0, "systemd-sysusers: %s" % r.stderr)
    with open(os.path.join(root, "etc/group")) as f:
        t.check(any(x.startswith("nanti:x:") for x in f), "the group nanti was made")
    shutil.rmtree(os.path.join(root, "etc/nanti"))
    r = sh(["systemd-tmpfiles", "--root=" + root, "--create", "nanti.conf"])
    t.check(r.returncode == 0 and os.path.isdir(os.path.join(root, "etc/nanti")),
            "systemd-tmpfiles made /etc/nanti: %s" % r.stderr)


@test("the example configuration passes --check-config as it is; every key of nantid is "
      "in it, commented out, and uncommented it is the defaults")
def _(t):
    dest, _, _, _ = installed(t)
    nantid = os.path.join(dest, "usr/sbin/nantid")
    example = os.path.join(dest, "etc/nanti/nantid.conf.example")
    r = check_config(nantid, "--config", example)
    t.eq(r.returncode, 0, "--check-config of the example: %s" % r.stderr)
    t.check("(%s)" % example in r.stdout.splitlines()[0], "it read the example")
    with open(example) as f:
        text = f.read()
    settings = re.findall(r"^#([a-z][a-z.-]*) = (.*)$", text, re.M)
    keys = {k for k, _ in settings}
    defaults = defaults_printed(nantid)
    want = {k for k in defaults if not k.startswith("step-limits.")}
    want |= {"listen-tcp", "calendar-dir", "step-limits", "step-limits.petition"}
    t.eq(sorted(want - keys), [], "keys missing from the example")
    t.eq(sorted(keys - want), [], "keys in the example nantid does not print")
    # uncommented, under the unit's directories: the effective configuration is the
    # defaults (but the example endpoint of listen-tcp, and the calendars named, which
    # must be the installed ones)
    unit_env = {"STATE_DIRECTORY": "/var/lib/nanti", "RUNTIME_DIRECTORY": "/run/nanti"}
    cal = os.path.join(dest, "usr/share/nanti/calendars")
    lines = []
    for k, v in settings:
        if k == "calendar-dir":
            t.eq(v, "/usr/share/nanti/calendars", "calendar-dir in the example")
            v = cal
        if k != "listen-tcp":
            lines.append("%s = %s\n" % (k, v))
    conf = os.path.join(_tmp, "uncommented.conf")
    with open(conf, "w") as f:
        f.writelines(lines)
    a = check_config(nantid, "--config", conf, env=unit_env)
    b = check_config(nantid, "--config", "/dev/null", "--calendar-dir", cal, env=unit_env)
    t.eq(a.returncode, 0, "--check-config of the example uncommented: %s" % a.stderr)
    t.eq(a.stdout.splitlines()[1:], b.stdout.splitlines()[1:],
         "the example uncommented against the defaults")
    t.check("state-dir = /var/lib/nanti" in a.stdout, "state-dir under the unit")
    # the example's listen-tcp is a valid endpoint
    tcp = [v for k, v in settings if k == "listen-tcp"]
    t.require(len(tcp) == 1, "one listen-tcp example")
    with open(conf, "w") as f:
        f.write("listen-tcp = %s\n" % tcp[0])
    r = check_config(nantid, "--config", conf)
    t.check(r.returncode == 0 and "listen-tcp = %s" % tcp[0] in r.stdout,
            "listen-tcp example: %s" % r.stderr)


@test("the installed man pages render with man -l and groff -ww without a warning")
def _(t):
    dest, _, _, _ = installed(t)
    for page, sect in sorted(MAN_PAGES.items()):
        path = os.path.join(dest, "usr/share/man", sect, page)
        r = sh(["man", "-l", path], env={"MANWIDTH": "80", "MAN_KEEP_STDERR": "1"})
        t.eq(r.stderr, "", "man -l %s: warnings" % page)
        t.check(r.returncode == 0 and len(r.stdout) > 2000, "man -l %s rendered" % page)
        r = sh(["groff", "-man", "-ww", "-z", path])
        t.eq(r.stdout + r.stderr, "", "groff -man -ww %s: warnings" % page)
        t.eq(r.returncode, 0, "groff's exit status for %s" % page)
        with open(path, "rb") as f:
            t.check(all(b < 0x80 for b in f.read()), "%s is ASCII" % page)


def man_source(name):
    with open(os.path.join(ROOT, "docs", "man", name)) as f:
        return f.read()


@test("nanti(1) names every command of `nanti --help`, every option of each command's "
      "--help in its section, every global option and every exit status")
def _(t):
    h = sh([BUILD_NANTI, "--help"]).stdout
    listed = h.split("\n\n", 2)[2].split("\noptions")[0]
    commands = [m.group(1) for m in re.finditer(r"^  ([a-z-]+(?: [a-z]+)?)\s{2,}", listed, re.M)]
    t.require(len(commands) >= 30, "commands in nanti --help: %r" % commands)
    page = man_source("nanti.1")
    subs = sections(page, ".SS")
    t.eq(sorted(set(commands) - set(subs)), [], "commands without a section in nanti(1)")
    for c in commands:
        if c not in subs:
            continue
        ch = sh([BUILD_NANTI] + c.split() + ["--help"]).stdout
        t.check(("nanti " + c) in subs[c], "the synopsis of %s" % c)
        missing = [o for o in options_of(ch, "arguments:") if o not in subs[c]] \
            if "arguments:" in ch else []
        t.eq(missing, [], "options of nanti %s missing from its section" % c)
    top = sections(page, ".SH")
    t.eq([o for o in options_of(h, "\noptions") if o not in top.get("OPTIONS", "")], [],
         "global options missing from OPTIONS")
    statuses = re.findall(r"^  (\d)  ", h, re.M)
    t.check(len(statuses) >= 6, "exit statuses in nanti --help: %r" % statuses)
    t.eq([s for s in statuses if ".B %s\n" % s not in top.get("EXIT STATUS", "")], [],
         "exit statuses missing from EXIT STATUS")


@test("nantid(8) names every option of `nantid --help`, the signals, the notifications "
      "and the exit statuses")
def _(t):
    h = sh([NANTID, "--help"]).stdout
    top = sections(man_source("nantid.8"), ".SH")
    opts = options_of(h)
    t.check("--check-config" in opts and len(opts) >= 10, "nantid --help: %r" % opts)
    t.eq([o for o in opts if o not in top.get("OPTIONS", "")], [],
         "options missing from OPTIONS")
    t.eq([s for s in ("SIGTERM", "SIGINT", "SIGHUP") if s not in top.get("SIGNALS", "")],
         [], "signals missing")
    t.eq([s for s in ("READY=1", "STATUS=", "WATCHDOG=1", "RELOADING=1", "STOPPING=1")
          if s not in top.get("SYSTEMD", "")], [], "notifications missing")
    t.eq([s for s in "012" if ".B %s\n" % s not in top.get("EXIT STATUS", "")], [],
         "exit statuses missing")
    for path in ("/etc/nanti/nantid.conf", "/usr/share/nanti/calendars", "/run/nanti",
                 "/var/lib/nanti"):
        t.check(path in top.get("FILES", ""), "FILES names " + path)


@test("nantid.conf(5) describes every key with the default `nantid --check-config` prints")
def _(t):
    text = rendered(os.path.join(ROOT, "docs", "man", "nantid.conf.5"))
    keys, key = {}, None
    for line in text.splitlines():
        m = re.match(r"^ {7}([a-z][a-zA-Z.-]*) = ", line)
        if m:
            key = m.group(1)
            keys[key] = ""
        elif key is not None and line.startswith(" " * 14):
            keys[key] += " " + line.strip()
        elif line.strip():
            key = None
    defaults = defaults_printed(NANTID)
    want = {k for k in defaults if not k.startswith("step-limits.")}
    want |= {"listen-tcp", "calendar-dir", "step-limits", "step-limits.KIND"}
    t.eq(sorted(want - set(keys)), [], "keys missing from nantid.conf(5)")
    t.eq(sorted(set(keys) - want), [], "keys in nantid.conf(5) that nantid does not print")
    defaults["step-limits"] = defaults["step-limits.problem"]
    for k, v in sorted(defaults.items()):
        if k in ("state-dir", "runtime-dir") or k.startswith("step-limits."):
            continue
        t.check(("Default: " + v) in " ".join(keys.get(k, "").split()),
                "nantid.conf(5) gives %s the default %r: %r" % (k, v, keys.get(k)))
    with open(os.path.join(ROOT, "docs", "nantid.conf.example")) as f:
        for name in re.findall(r"^#([a-z][a-z.-]*) = ", f.read(), re.M):
            t.check(name in keys or name.startswith("step-limits."),
                    "the example's %s is in nantid.conf(5)" % name)


# ---------------------------------------------------------------------------------------
# an installation of its own, with the paths built in

@test("make install PREFIX=... SYSCONFDIR=... into a directory: the unit's ExecStart is the "
      "installed nantid, which finds its calendars and configuration file and serves; "
      "make uninstall leaves only the administrator's nantid.conf")
def _(t):
    _, prefix, sysconf, base = installed(t, prefix="/opt/nanti", destdir=False,
                                         sysconfdir="/etc/opt/nanti")
    nantid = os.path.join(prefix, "sbin/nantid")
    with open(os.path.join(prefix, "lib/systemd/system/nantid.service")) as f:
        unit = f.read()
    t.eq(re.findall(r"^ExecStart=(.*)$", unit, re.M), [nantid], "ExecStart")
    t.check("file:%s/share/doc/nanti/operations.md" % prefix in unit, "Documentation=")
    t.check(os.access(nantid, os.X_OK), "ExecStart is executable")
    with open(os.path.join(prefix, "lib/tmpfiles.d/nanti.conf")) as f:
        t.check("d %s/nanti 0755 root root -" % sysconf in f.read().splitlines(),
                "tmpfiles.d makes SYSCONFDIR/nanti")
    with open(os.path.join(prefix, "share/man/man8/nantid.8")) as f:
        page = f.read()
        t.check("%s/nanti/nantid.conf" % sysconf in page and
                "%s/share/nanti/calendars" % prefix in page, "nantid(8) names the paths")
    # verify as installed: the unit's binary and man pages are where it says
    r = sh(["systemd-analyze", "verify", os.path.join(prefix, "lib/systemd/system",
                                                      "nantid.service")],
           env={"MANPATH": os.path.join(prefix, "share/man")})
    t.eq(r.stdout + r.stderr, "", "systemd-analyze verify of the installed unit")

    # its configuration file, by default; its calendars, from anywhere
    conf = os.path.join(sysconf, "nanti", "nantid.conf")
    shutil.copy(os.path.join(sysconf, "nanti", "nantid.conf.example"), conf)
    with open(conf, "a") as f:
        f.write("deadline-reminders = 2\n")
    cwd = tempfile.mkdtemp(prefix="cwd-", dir=_tmp)
    r = check_config(nantid, cwd=cwd)
    t.eq(r.returncode, 0, "--check-config: %s" % r.stderr)
    t.check("(%s)" % conf in r.stdout.splitlines()[0], "it read %s: %r" % (conf, r.stdout))
    t.check("deadline-reminders = 2" in r.stdout.splitlines(), "the file's setting")
    t.check("no calendar directory" not in r.stderr, "the calendars found: %s" % r.stderr)
    d = t.daemon(binary=nantid, cwd=cwd)
    log = d.stderr()
    t.check("no calendar directory" not in log and "cannot load" not in log,
            "nantid loaded the installed calendars:\n" + log)
    r = sh([os.path.join(prefix, "bin/nanti"), "--runtime-dir", d.run_dir, "ping"])
    t.check(r.returncode == 0 and "last seq 0" in r.stdout, "the installed nanti: %r" %
            (r.stdout + r.stderr))
    t.eq(d.stop(), 0, "exit status")

    r = make("uninstall", "B=" + os.path.join(base, "build"), "PREFIX=" + prefix,
             "SYSCONFDIR=" + sysconf)
    t.eq(r.returncode, 0, "make uninstall: %s" % r.stderr)
    left = sorted(p for p in files_under(base) if not p.startswith(("build/", "cwd-")))
    t.eq(left, [os.path.relpath(conf, base)], "files left after make uninstall")


if __name__ == "__main__":
    run_tests()
