#!/usr/bin/python3
"""make_corpus.py - write the seed corpus of fuzz_request into tests/fuzz/corpus/.

A dozen and more request bodies, valid and invalid, one file each, so that the fuzzer
starts from every op and from the interesting ways a body can be wrong (truncated, trailing
bytes, too deep, bad UTF-8, a wider integer, a duplicate key, an unknown key, too many
tags...). The files are generated, not hand-edited: change this script and run it again.

Usage: /usr/bin/python3 tests/fuzz/make_corpus.py   (Debian's python3-msgpack)
"""
import os

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def map_raw(pairs):
    """A map from (key, raw value bytes) pairs, keys packed as str: lets a value take any
    encoding, and a key appear twice."""
    n = len(pairs)
    head = bytes([0x80 | n]) if n < 16 else b"\xde" + n.to_bytes(2, "big")
    return head + b"".join(pack(k) + v for k, v in pairs)


ENV = {"id": "0193a1b2c3d4-7f3a9c0011223344", "actor": "li"}
TODAY = "2026-05-29"   # the fuzz target's "now" is 2026-05-29

SEEDS = {
    # valid requests, one per op (the target's ledger: see fuzz_request.c)
    "ping": pack({"op": "ping"}),
    "stats-with-id": pack({"op": "stats", "id": "s1"}),
    "open-minimal": pack({"op": "case.open", **ENV, "title": "Village road washed out",
                          "area": "livelihood", "unit": "dongcun"}),
    "open-full": pack({
        "op": "case.open", **ENV, "title": "西峡村 road", "description": "d" * 300,
        "kind": "lagging_village", "area": "grassroots", "source": "research_visit",
        "unit": "anling", "lead": "li", "units": ["anling", "county"], "deadline": "2026-09-30",
        "tags": ["roads", "水灾"] + ["t%d" % i for i in range(14)],
    }),
    "open-petition": pack({"op": "case.open", **ENV, "title": "补偿", "area": "livelihood",
                           "unit": "dongcun", "kind": "petition", "taker": "li"}),
    "household-put": pack({"op": "household.put", **ENV, "actor": "admin", "household": "h2",
                           "village": "dongcun", "category": "near_low_income", "members": 4,
                           "needs": ["medical", "housing"], "head": "王五",
                           "id_number": "330781196505051234", "phone": "13905790000",
                           "address": "东村3组", "member_names": ["王六", "王七"],
                           "notes": "debts"}),
    "household-pair": pack({"op": "household.pair", **ENV, "actor": "zhang",
                            "household": "h1", "cadre": "zhang"}),
    "household-visit": pack({"op": "household.visit", **ENV, "household": "h1",
                             "date": TODAY, "done": "talked", "support": "rice"}),
    "household-consult": pack({"op": "household.consult", **ENV, "village": "dongcun",
                               "households": ["h1"], "participants": ["li", "zhang"],
                               "residents": 12, "summary": "roofs"}),
    "open-households": pack({"op": "case.open", **ENV, "title": "roof", "area": "livelihood",
                             "unit": "dongcun", "kind": "household_issue",
                             "households": ["h1"], "consultation": 5}),
    "household-list": pack({"op": "household.list", "village": "dongcun", "full": True}),
    "unit-put": pack({"op": "unit.put", **ENV, "actor": "admin", "unit": "xicun",
                      "name": "西村", "kind": "village", "parent": "anling"}),
    "unit-put-same": pack({"op": "unit.put", **ENV, "actor": "admin", "unit": "anling",
                           "name": "安岭乡", "kind": "township", "parent": "county"}),
    "person-put": pack({"op": "person.put", **ENV, "actor": "admin", "person": "wu",
                        "name": "吴", "unit": "dongcun", "roles": ["resident_cadre"],
                        "village": "dongcun"}),
    "campaign-set": pack({"op": "campaign.set", **ENV, "actor": "theme", "name": "c",
                          "start": "2026-05-20", "end": "2026-09-30",
                          "identify_by": "2026-06-08", "threshold": 80}),
    "plan": pack({"op": "case.plan", **ENV, "case": 1, "measures": "m", "schedule": "s",
                  "deadline": "2026-09-30", "units": ["anling"]}),
    "consult": pack({"op": "case.consult", **ENV, "case": 2, "date": TODAY, "place": "p",
                     "residents": 30, "summary": "s", "changes": "c"}),
    "commit": pack({"op": "case.commit", **ENV, "case": 2, "venue": "notice_board",
                    "date": TODAY, "ref": "r", "board": "dongcun"}),
    "coordinate": pack({"op": "case.coordinate", **ENV, "case": 3, "form": "onsite",
                        "date": TODAY, "summary": "s", "units": ["county"]}),
    "resolve": pack({"op": "case.resolve", **ENV, "case": 3, "summary": "s"}),
    "journal": pack({"op": "case.journal", **ENV, "case": 4, "process": "p", "result": "r",
                     "satisfied": 5, "basically_satisfied": 1, "dissatisfied": 4}),
    "outcome": pack({"op": "case.outcome", **ENV, "case": 5, "rule": "r"}),
    "verify": pack({"op": "case.verify", **ENV, "actor": "theme", "case": 5,
                    "verdict": "cross_off"}),
    "reopen": pack({"op": "case.reopen", **ENV, "actor": "theme", "case": 6, "reason": "r"}),
    "reassign": pack({"op": "case.reassign", **ENV, "actor": "zhang", "case": 1, "lead": "zhou",
                      "reason": "r"}),
    "note-existing": pack({"op": "case.note", **ENV, "case": 2, "text": "called the head"}),
    "note-missing": pack({"op": "case.note", **ENV, "case": 99, "text": "nobody"}),
    "escalate": pack({"op": "case.escalate", **ENV, "actor": "sup", "case": 1, "reason": "r"}),
    "guarantee": pack({"op": "case.guarantee", **ENV, "case": 7, "stable": True,
                       "promise_kept": False}),
    "repeat": pack({"op": "case.repeat", **ENV, "case": 7, "skip_level": True,
                    "summary": "s"}),
    "get": pack({"op": "case.get", "case": 1, "after": 0, "limit": 5}),
    "list-filtered": pack({"op": "case.list", "after": 0, "limit": 10, "kind": "problem",
                           "unit": "anling", "lead": "li", "step": "planned",
                           "area": "livelihood", "overdue": True}),
    "unit-list": pack({"op": "unit.list", "within": "anling", "kind": "village"}),
    "person-list": pack({"op": "person.list", "role": "cadre", "after": "a"}),
    "log-read": pack({"op": "log.read", "after": 5, "limit": 100, "topic": "case."}),
    "report-units": pack({"op": "report.units", "unit": "anling", "from": "2026-05-20",
                          "to": TODAY, "sub_units": True, "series": True}),
    "report-scorecard": pack({"op": "report.scorecard", "person": "li", "explain": True,
                              "from": "2026-05-20"}),
    "report-commitments": pack({"op": "report.commitments", "unit": "county",
                                "crossed_off": False, "after": 1, "limit": 10}),
    # valid, in unusual encodings
    "note-uint64-case": map_raw([("op", pack("case.note")), ("id", pack("w1")),
                                 ("actor", pack("li")),
                                 ("case", b"\xcf" + (2).to_bytes(8, "big")),
                                 ("text", b"\xd9\x01x")]),
    # invalid requests
    "unknown-op": pack({"op": "case.close", **ENV, "case": 1}),
    "open-without-actor": pack({"op": "case.open", "id": "x", "title": "t"}),
    "open-unknown-key": pack({"op": "case.open", **ENV, "title": "t", "colour": "red"}),
    "open-bad-kind": pack({"op": "case.open", **ENV, "title": "t", "kind": "complaint",
                           "area": "livelihood", "unit": "dongcun"}),
    "open-17-tags": pack({"op": "case.open", **ENV, "title": "t", "area": "livelihood",
                          "unit": "dongcun", "tags": ["t%d" % i for i in range(17)]}),
    "open-bad-date": pack({"op": "case.open", **ENV, "title": "t", "area": "livelihood",
                           "unit": "dongcun", "deadline": "2026-02-30"}),
    "plan-repeated-unit": pack({"op": "case.plan", **ENV, "case": 1, "measures": "m",
                                "schedule": "s", "deadline": "2026-09-30",
                                "units": ["anling", "anling"]}),
    "person-bad-id": pack({"op": "person.put", **ENV, "person": "-x", "name": "n",
                           "unit": "anling", "roles": ["cadre"]}),
    "note-case-as-string": pack({"op": "case.note", **ENV, "case": "1", "text": "x"}),
    "note-negative-case": pack({"op": "case.note", **ENV, "case": -1, "text": "x"}),
    "id-too-long": pack({"op": "ping", "id": "x" * 65}),
    "duplicate-key": map_raw([("op", pack("ping")), ("op", pack("ping"))]),
    "truncated": pack({"op": "case.open", **ENV, "title": "t"})[:-3],
    "trailing-bytes": pack({"op": "ping"}) + b"\xc0",
    "not-a-map": pack(["op", "ping"]),
    "too-deep": map_raw([("op", pack("ping")), ("x", pack([[[[[[[[1]]]]]]]]))]),
    "bad-utf8": map_raw([("op", pack("ping")), ("id", b"\xa2\xc0\x80")]),
    "huge-declared-array": map_raw([("op", pack("ping")), ("x", b"\xdd\xff\xff\xff\xff")]),
    "extension-type": map_raw([("op", pack("ping")), ("x", b"\xd4\x01\x01")]),
    "binary-title": map_raw([("op", pack("case.open")), ("id", pack("b")),
                             ("actor", pack("a")), ("title", b"\xc4\x01x")]),
}

def main():
    os.makedirs(OUT, exist_ok=True)
    for name, body in sorted(SEEDS.items()):
        with open(os.path.join(OUT, name + ".msgpack"), "wb") as f:
            f.write(body)
    print("wrote %d seeds into %s" % (len(SEEDS), OUT))


if __name__ == "__main__":
    main()
