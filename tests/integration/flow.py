"""
flow.py - the moves the tests of the campaign's procedure make through the real daemon
(test_workflow.py, test_authz.py): the shared county's people by what they are to a case
of xiaxi led by wang.li, what each op needs in a request, and Flow, which opens cases and
walks them to a step.
"""

from pyclient import STEPS, County, error_code, today  # noqa: F401

LEAD = County.CADRE             # wang.li, anling: leads the cases unless said otherwise
UNIT = "xiaxi"                  # a village of anling
THEME = County.THEME
SUPERVISION = County.SUPERVISION
HEAD = County.HEAD              # unit head of anling
OTHER_HEAD = County.OTHER_HEAD  # unit head of tianshi
COLLEAGUE = "li.ming"           # a cadre of anling
OUTSIDER = County.OTHER_CADRE   # chen.jie, a leader of tianshi
RESIDENT = County.RESIDENT      # zhao.hua, of the water bureau, stationed in dongcun
DAY = today(-1)                 # a meeting date safely in the past
DEADLINE = today(30)

OPEN_STEPS = STEPS[:-1]
NEXT_OP = {"identified": "case.plan", "planned": "case.commit", "committed": "case.resolve",
           "resolved": "case.journal", "journaled": "case.verify",
           "crossed_off": "case.reopen"}

# What each op needs in a request that is otherwise valid.
FIELDS = {
    "case.plan": {"measures": "repair the road with the water bureau",
                  "schedule": "survey in June, works in July", "deadline": DEADLINE,
                  "units": ["anling", "water"]},
    "case.consult": {"date": DAY, "place": "下溪村村委会", "residents": 23,
                     "summary": "the residents chose the route"},
    "case.commit": {"venue": "county_news", "date": DAY, "ref": "县报 6月20日 第2版"},
    "case.coordinate": {"form": "onsite", "date": DAY, "summary": "on-site meeting"},
    "case.resolve": {"summary": "the road is open again"},
    "case.journal": {"process": "how it was cracked", "result": "open in 40 days",
                     "satisfied": 18, "basically_satisfied": 4, "dissatisfied": 1},
    "case.outcome": {"rule": "road repairs are agreed with the residents first"},
    "case.verify": {"verdict": "cross_off"},
    "case.reopen": {"reason": "the road washed out again"},
    "case.reassign": {"lead": COLLEAGUE, "reason": "wang.li moves to the county"},
    "case.note": {"text": "visited the site"},
    "case.escalate": {"reason": "no progress in a month"},
    "case.guarantee": {"promise_kept": True},
    "case.repeat": {"skip_level": False, "summary": "came back to the township"},
}
# Who may do each op on a case of UNIT led by LEAD (one of them).
WHO = {"case.commit": LEAD, "case.verify": THEME, "case.reopen": THEME,
       "case.reassign": HEAD, "case.escalate": SUPERVISION}
# The steps each op is allowed at (section 10).
ALLOWED = {
    "case.plan": ("identified", "planned"),
    "case.consult": OPEN_STEPS,
    "case.commit": ("planned",),
    "case.coordinate": ("planned", "committed"),
    "case.resolve": ("committed",),
    "case.journal": ("resolved",),
    "case.outcome": ("resolved", "journaled", "crossed_off"),
    "case.verify": ("resolved", "journaled"),
    "case.reopen": ("crossed_off",),
    "case.reassign": OPEN_STEPS,
    "case.note": STEPS,
    "case.escalate": OPEN_STEPS,
}


class Flow:
    """A client on a daemon with the county, and the moves the tests make."""

    def __init__(self, t, d):
        self.t = t
        self.d = d
        self.county = d.build_county()
        self.c = d.client()
        t.defer(self.c.close)

    def seq(self):
        r = self.c.call("ping")
        assert r["ok"], r
        return r["seq"]

    def w(self, actor, op, **fields):
        return self.c.write(op, actor=actor, **fields)

    def ok(self, actor, op, **fields):
        r = self.w(actor, op, **fields)
        self.t.require(r["ok"], "%s by %s %r: %r" % (op, actor, fields, r))
        return r

    def step(self, actor, op, k, **extra):
        """op on case k with FIELDS[op] (and extra over them); must succeed."""
        f = dict(FIELDS[op])
        f.update(extra)
        return self.ok(actor, op, case=k, **f)

    def get(self, k):
        r = self.c.call("case.get", case=k)
        assert r["ok"], r
        return r

    def refused(self, actor, op, code, names=(), **fields):
        """op must be refused with code, its message must name each of names, and the
        ledger (seq, and the case if the request names one) must not move."""
        k = fields.get("case")
        seq0 = self.seq()
        case0 = self.get(k) if isinstance(k, int) and self._exists(k) else None
        r = self.w(actor, op, **fields)
        what = "%s by %s" % (op, actor)
        ok = self.t.check(not r["ok"] and error_code(r) == code,
                          "%s: want %s, got %r" % (what, code, r))
        if ok:
            msg = r["error"]["message"]
            for n in names:
                ok &= self.t.check(n in msg, "%s: the message does not name %r: %r"
                                   % (what, n, msg))
        ok &= self.t.check(self.seq() == seq0, "%s: the log moved" % what)
        if case0 is not None:
            ok &= self.t.check(self.get(k) == case0, "%s: case %d changed" % (what, k))
        return r

    def _exists(self, k):
        return self.c.call("case.get", case=k, limit=1)["ok"]

    def open(self, actor=LEAD, **fields):
        fields.setdefault("title", "Village road to Xiaxi washed out")
        fields.setdefault("area", "development")
        fields.setdefault("unit", UNIT)
        return self.ok(actor, "case.open", **fields)["case"]

    def advance(self, k, to, lead=LEAD):
        """Walk case k from where it is to step `to` by the plainest path."""
        path = {
            "identified": [],
            "planned": [(lead, "case.plan")],
            "committed": [(lead, "case.consult"), (lead, "case.commit")],
            "resolved": [(lead, "case.coordinate"), (lead, "case.resolve")],
            "journaled": [(lead, "case.consult"), (lead, "case.journal")],
            "crossed_off": [(THEME, "case.verify")],
        }
        now = self.get(k)["case"]["step"]
        for s in STEPS[STEPS.index(now) + 1:STEPS.index(to) + 1]:
            for actor, op in path[s]:
                self.step(actor, op, k)
        self.t.require(self.get(k)["case"]["step"] == to, "case %d did not reach %s" % (k, to))
        return k

    def case_at(self, step, lead=LEAD, **fields):
        if lead != LEAD:
            fields.setdefault("lead", lead)
            actor = THEME
        else:
            actor = LEAD
        return self.advance(self.open(actor, **fields), step, lead)


def flow(t):
    return Flow(t, t.daemon())


