"""Empirical-Bayes shrinkage of rates (beta-binomial), and Wilson intervals.

A centre with 12 candidates and 12 passes has a raw pass rate of 100%, which would put it top
of a league table on luck alone; a centre with 2,000 candidates and 85% is far more telling.
Shrinking every raw rate towards the province according to how much data it rests on ranks
small centres neither too high nor too low (Efron & Morris 1975; the beta-binomial empirical
Bayes model used for hospital and school league tables).

Example:
    >>> import numpy as np
    >>> eb = BetaBinomialShrinkage().fit(np.array([12, 80, 850]), np.array([12, 100, 1000]))
    >>> post = eb.score(np.array([12]), np.array([12]))
    >>> bool(post.mean[0] < 1.0)
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


def wilson_interval(events: np.ndarray, totals: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval; behaves at 0% and 100% where the Wald interval does not."""
    events, totals = np.asarray(events, float), np.asarray(totals, float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = events / totals
        denom = 1 + z**2 / totals
        centre = (p + z**2 / (2 * totals)) / denom
        half = z * np.sqrt(p * (1 - p) / totals + z**2 / (4 * totals**2)) / denom
    lo, hi = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    return np.where(totals > 0, lo, 0.0), np.where(totals > 0, hi, 1.0)


@dataclass(frozen=True)
class ShrunkRates:
    raw: np.ndarray
    mean: np.ndarray
    lower95: np.ndarray
    upper95: np.ndarray


class BetaBinomialShrinkage:
    """Fit a Beta(alpha, beta) prior to unit rates by the method of moments; posterior per unit.

    Attributes:
        alpha_, beta_: the fitted prior; ``alpha_ + beta_`` is how many candidates' worth of
            weight the province average carries.
    """

    def __init__(self, min_prior_weight: float = 2.0, max_prior_weight: float = 1e6):
        self.min_prior_weight = min_prior_weight
        self.max_prior_weight = max_prior_weight

    def fit(self, events: np.ndarray, totals: np.ndarray) -> "BetaBinomialShrinkage":
        events, totals = np.asarray(events, float), np.asarray(totals, float)
        ok = totals > 0
        m = events[ok].sum() / max(totals[ok].sum(), 1.0)
        m = float(np.clip(m, 1e-4, 1 - 1e-4))
        weight = self.max_prior_weight
        if ok.sum() >= 3:
            r = events[ok] / totals[ok]
            w = totals[ok] / totals[ok].mean()
            var_between = np.average((r - m) ** 2, weights=w) - m * (1 - m) * np.mean(1 / totals[ok])
            if var_between > 1e-12:
                # Var(rate) = m(1-m)/(a+b+1) under the prior
                weight = m * (1 - m) / var_between - 1
        weight = float(np.clip(weight, self.min_prior_weight, self.max_prior_weight))
        self.alpha_, self.beta_ = m * weight, (1 - m) * weight
        return self

    def score(self, events: np.ndarray, totals: np.ndarray, level: float = 0.95) -> ShrunkRates:
        events, totals = np.asarray(events, float), np.asarray(totals, float)
        a, b = self.alpha_ + events, self.beta_ + totals - events
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = np.where(totals > 0, events / totals, np.nan)
        tail = (1 - level) / 2
        return ShrunkRates(raw, a / (a + b), stats.beta.ppf(tail, a, b), stats.beta.ppf(1 - tail, a, b))
