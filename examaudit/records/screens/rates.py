"""Per-exam-point rates with everything an auditor needs to read them: raw and shrunk rate,
an interval, the over-dispersed funnel z and a one-sided p-value.

Pass rates, bunching ratios, short-completion shares and callback answers all reduce to
"events out of totals per exam point", so they share this one table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .funnel import ProportionFunnel
from .shrinkage import BetaBinomialShrinkage, wilson_interval


@dataclass(frozen=True)
class RateTable:
    """One row per exam point. ``target`` is the province rate; ``tau2`` the funnel's
    between-centre variance; ``lower95``/``upper95`` the Wilson interval of the raw rate;
    ``shrunk*`` the empirical-Bayes posterior mean and 95% interval."""

    name: str
    exam_point: np.ndarray
    events: np.ndarray
    totals: np.ndarray
    rate: np.ndarray
    lower95: np.ndarray
    upper95: np.ndarray
    shrunk: np.ndarray
    shrunk_lower95: np.ndarray
    shrunk_upper95: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    funnel_upper95: np.ndarray
    funnel_upper998: np.ndarray
    target: float
    tau2: float

    def rows(self) -> list[dict]:
        """Plain dicts, one per exam point, for reports and JSON."""
        d = asdict(self)
        keys = [k for k, v in d.items() if isinstance(v, np.ndarray)]
        return [{k: (d[k][i].item() if hasattr(d[k][i], "item") else d[k][i]) for k in keys} for i in range(len(self.exam_point))]

    def lookup(self, exam_point: str) -> int | None:
        hit = np.flatnonzero(self.exam_point == exam_point)
        return int(hit[0]) if len(hit) else None


def rate_table(name: str, exam_point: np.ndarray, events: np.ndarray, totals: np.ndarray, *,
               side: str = "upper", target: float | None = None) -> RateTable:
    """Fit the funnel and the shrinkage on all exam points and score each one."""
    events, totals = np.asarray(events, float), np.asarray(totals, float)
    funnel = ProportionFunnel(target=target, side=side).fit(events, totals)
    f = funnel.score(events, totals)
    eb = BetaBinomialShrinkage().fit(events, totals).score(events, totals)
    lo, hi = wilson_interval(events, totals)
    return RateTable(name, np.asarray(exam_point, dtype=object), events, totals, f.rate, lo, hi, eb.mean, eb.lower95,
                     eb.upper95, f.z, f.p_value, f.upper95, f.upper998, funnel.target_, funnel.tau2_)


def count_by(labels: np.ndarray, inverse: np.ndarray, mask: np.ndarray, n_groups: int) -> np.ndarray:
    """How many of each group's members satisfy ``mask``."""
    return np.bincount(inverse[mask], minlength=n_groups).astype(float)
