"""Callback (电话回访) answers per exam point: rates with intervals and shrinkage, and admissions.

Provinces phone a sample of certified candidates and ask whether they attended training, sat
the exam themselves and paid an intermediary. Four rates per exam point are screened against
the province with the over-dispersed funnel:

* ``no_training``: answered "no" to attended training, out of those who answered yes or no;
* ``not_in_person``: answered "no" to sat the exam in person;
* ``paid_intermediary``: answered "yes" to paid an intermediary;
* ``unreachable``: unreachable or wrong number, out of all calls. Fake or shared phone numbers
  on a roster are a known sign of registrations made by an agent.

"Did not sit in person" is an admission and becomes a finding on that candidate by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tables import Callbacks
from .rates import RateTable, rate_table

INDICATORS = ("no_training", "not_in_person", "paid_intermediary", "unreachable")


@dataclass(frozen=True)
class CallbackResult:
    rates: dict[str, RateTable]
    admitted_not_in_person: np.ndarray  # candidate ids
    candidate_flags: dict[str, dict[str, bool]]


class CallbackScreen:
    """Attributes:
        result_: :class:`CallbackResult` for the fitted calls.
    """

    def fit(self, callbacks: Callbacks, exam_point_of: dict[str, str]) -> "CallbackScreen":
        self.result_ = self.score(callbacks, exam_point_of)
        return self

    def score(self, callbacks: Callbacks, exam_point_of: dict[str, str]) -> CallbackResult:
        ep = np.array([exam_point_of.get(c, "") for c in callbacks.candidate_id], dtype=object)
        names, inv = np.unique(ep.astype(str), return_inverse=True)
        g = len(names)

        def count(mask):
            return np.bincount(inv[mask], minlength=g).astype(float)

        reached = callbacks.outcome == "reached"
        at, sp, pi = callbacks.attended_training, callbacks.sat_exam_in_person, callbacks.paid_intermediary
        rates = {
            "no_training": rate_table("no_training", names, count(reached & (at == 0)), count(reached & (at >= 0))),
            "not_in_person": rate_table("not_in_person", names, count(reached & (sp == 0)), count(reached & (sp >= 0))),
            "paid_intermediary": rate_table("paid_intermediary", names, count(reached & (pi == 1)), count(reached & (pi >= 0))),
            "unreachable": rate_table("unreachable", names,
                                      count(np.isin(callbacks.outcome, ["unreachable", "wrong_number"])), count(np.ones(len(ep), bool))),
        }
        flags: dict[str, dict[str, bool]] = {}
        for i in np.flatnonzero(reached):
            f = {"not_in_person": bool(sp[i] == 0), "no_training": bool(at[i] == 0), "paid_intermediary": bool(pi[i] == 1)}
            if any(f.values()):
                prev = flags.get(callbacks.candidate_id[i], {})
                flags[callbacks.candidate_id[i]] = {k: f[k] or prev.get(k, False) for k in f}
        admitted = np.array(sorted({c for c, f in flags.items() if f["not_in_person"]}), dtype=object)
        return CallbackResult(rates, admitted, flags)
