"""
sandbox.py - run a command under the seccomp filters that a systemd unit's settings
would give it, without systemd: SystemCallFilter= (with SystemCallArchitectures=native),
RestrictAddressFamilies=, MemoryDenyWriteExecute= and RestrictRealtime=, as systemd 252
builds them (systemd.exec(5)). test_install.py runs nantid this way to show that the
service works inside its unit's sandbox; systemd is not PID 1 on the test machines.

    /usr/bin/python3 sandbox.py [--without SYSCALL]... UNIT COMMAND [ARG]...

The system call groups (@system-service, ...) are expanded by `systemd-analyze
syscall-filter`, so the sets are the installed systemd's. A call outside the allow list
kills the process with SIGSYS (the default when SystemCallErrorNumber= is not set); the
other restrictions fail the call with the errno systemd uses. --without takes a call out
of the allow list (a negative control). Needs Debian's python3-seccomp.
"""
import errno
import os
import subprocess
import sys

import seccomp

ALWAYS = {"execve", "exit", "exit_group", "getrlimit", "rt_sigreturn", "sigreturn"}
FAMILIES = {"AF_UNIX": 1, "AF_LOCAL": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16,
            "AF_PACKET": 17}
PROT_WRITE, PROT_EXEC, SHM_EXEC = 0x2, 0x4, 0o100000
SCHED_FIFO, SCHED_RR, SCHED_DEADLINE, SCHED_RESET_ON_FORK = 1, 2, 6, 0x40000000
AF_MAX = 46


def unit_settings(path):
    """{key: [values in order]} of the [Service] section of a unit file."""
    out, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]" and "=" in line:
                k, v = line.split("=", 1)
                out.setdefault(k.strip(), []).append(v.strip())
    return out


_groups = {}


def expand(name):
    """The system calls of a name: a group (@...) expanded recursively, or itself."""
    if not name.startswith("@"):
        return {name}
    if name not in _groups:
        out = subprocess.run(["systemd-analyze", "syscall-filter", name], check=True,
                             capture_output=True, text=True).stdout
        calls = set()
        for line in out.splitlines()[1:]:
            s = line.strip()
            if s and not s.startswith("#"):
                calls |= expand(s)
        _groups[name] = calls
    return _groups[name]


def allow_list(values):
    """The allowed set of SystemCallFilter= assignments (allow-list mode only), in
    systemd's order: the first sets the list, '~' removes, a later plain one adds, an
    empty one resets."""
    allow = None
    for v in values:
        if not v:
            allow = None
            continue
        inverted = v.startswith("~")
        calls = set()
        for name in v.lstrip("~").split():
            calls |= expand(name)
        if allow is None:
            if inverted:
                raise SystemExit("sandbox.py: only allow-list filters are emulated")
            allow = set()
        allow = allow - calls if inverted else allow | calls
    return allow


def load_filters(settings, without=()):
    """Load the filters into this process: the restrictions first, the allow list last
    (as systemd does: loading a filter is a call the allow list refuses)."""
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    rules = 0
    families = " ".join(settings.get("RestrictAddressFamilies", [])).split()
    if families:
        keep = {FAMILIES[x] for x in families}
        for fam in range(AF_MAX):
            if fam not in keep:
                f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket",
                           seccomp.Arg(0, seccomp.EQ, fam))
        f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket",
                   seccomp.Arg(0, seccomp.GE, AF_MAX))
        rules += 1
    if settings.get("MemoryDenyWriteExecute", ["no"])[-1] == "yes":
        eperm = seccomp.ERRNO(errno.EPERM)
        f.add_rule(eperm, "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, PROT_WRITE | PROT_EXEC,
                                              PROT_WRITE | PROT_EXEC))
        for call in ("mprotect", "pkey_mprotect"):
            f.add_rule(eperm, call, seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, PROT_EXEC))
        f.add_rule(eperm, "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, SHM_EXEC, SHM_EXEC))
        rules += 1
    if settings.get("RestrictRealtime", ["no"])[-1] == "yes":
        for policy in (SCHED_FIFO, SCHED_RR, SCHED_DEADLINE):
            f.add_rule(seccomp.ERRNO(errno.EPERM), "sched_setscheduler",
                       seccomp.Arg(1, seccomp.MASKED_EQ, 0xffffffff & ~SCHED_RESET_ON_FORK,
                                   policy))
        rules += 1
    if rules:
        f.load()
    filters = settings.get("SystemCallFilter", [])
    if filters:
        allow = (allow_list(filters) | ALWAYS) - set(without)
        f = seccomp.SyscallFilter(seccomp.KILL_PROCESS)
        for call in sorted(allow):
            try:
                f.add_rule(seccomp.ALLOW, call)
            except (RuntimeError, ValueError, OSError):
                pass        # not a call of this architecture, as systemd skips it
        f.load()


def main(argv):
    without = []
    while len(argv) > 1 and argv[0] == "--without":
        without.append(argv[1])
        argv = argv[2:]
    if len(argv) < 2:
        sys.stderr.write("usage: sandbox.py [--without SYSCALL]... UNIT COMMAND [ARG]...\n")
        return 2
    settings = unit_settings(argv[0])
    load_filters(settings, without)
    os.execv(argv[1], argv[1:])
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
