#!/usr/bin/python3
"""make_corpus_report.py - write the seed corpus of fuzz_report into tests/fuzz/corpus-report/.

Each seed is a little log: log entries as the daemon writes them (MessagePack maps,
concatenated), over fuzz_report.c's unit tree and its period (2026-05-27 to 2026-06-26).
Generated, not hand-edited: change this script and run it again.

Usage: /usr/bin/python3 tests/fuzz/make_corpus_report.py   (Debian's python3-msgpack)
"""
import os

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus-report")
DAY0_MS = 20600 * 86400000 + 2 * 3600000      # 10:00 in UTC+8 on 2026-05-27


def log(*entries):
    out = b""
    for seq, (day, topic, fields) in enumerate(entries, 1):
        e = {"seq": seq, "topic": topic, "at": DAY0_MS + day * 86400000}
        e.update(fields)
        e["actor"] = e.get("actor", "li")
        e["hash"] = "0" * 64
        out += msgpack.packb(e, use_bin_type=True)
    return out


def opened(k, unit, lead, deadline=None, kind="problem"):
    f = {"case": k, "kind": kind, "unit": unit, "lead": lead, "step": "identified"}
    if deadline:
        f["deadline"] = deadline
    return f


SEEDS = {
    "lifecycle": log(
        (0, "case.opened", opened(1, "xiaxi", "li", "2026-06-01")),
        (1, "case.planned", {"case": 1, "measures": "m", "deadline": "2026-06-03",
                             "new_deadline": "2026-06-03", "step": "planned"}),
        (1, "case.consulted", {"case": 1, "step": "planned"}),
        (2, "case.committed", {"case": 1, "step": "committed"}),
        (5, "case.resolved", {"case": 1, "step": "resolved"}),
        (6, "case.journaled", {"case": 1, "satisfied": 8, "basically_satisfied": 1,
                               "dissatisfied": 1, "step": "journaled"}),
        (7, "case.crossed_off", {"case": 1, "step": "crossed_off"})),
    "redo-and-reassign": log(
        (0, "case.opened", opened(1, "dongcun", "zhang", "2026-05-29", "petition")),
        (1, "case.redo", {"case": 1, "satisfied": 1, "basically_satisfied": 0,
                          "dissatisfied": 9, "redos": 1, "step": "committed"}),
        (2, "case.returned", {"case": 1, "step": "committed"}),
        (3, "case.reassigned", {"case": 1, "lead": "wang", "from": "zhang",
                                "step": "committed"})),
    "extension": log(
        (0, "case.opened", opened(1, "anling", "li", "2026-05-28")),
        (0, "case.extension_requested", {"case": 1, "until": "2026-06-20",
                                         "step": "identified"}),
        (3, "case.extended", {"case": 1, "new_deadline": "2026-06-20", "step": "identified"}),
        (4, "deadline.moved", {"case": 1, "deadline": "2026-06-22",
                               "old_deadline": "2026-06-20"})),
    "households": log(
        (0, "household.visited", {"household": "h1", "village": "xiaxi", "support": "rice"}),
        (1, "household.visited", {"household": "h1", "village": "xiaxi"}),
        (1, "household.visited", {"household": "h2", "village": "dongcun", "support": ""}),
        (2, "household.consulted", {"village": "xiaxi", "households": ["h1", "h2"]}),
        (2, "household.created", {"household": "h3", "changed": True})),
    "past-the-period": log(
        (0, "case.opened", opened(1, "xiaxi", "li")),
        (40, "case.resolved", {"case": 1, "step": "resolved"})),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, body in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as fh:
            fh.write(body)
    print("%d seeds in %s" % (len(SEEDS), OUT))


if __name__ == "__main__":
    main()
