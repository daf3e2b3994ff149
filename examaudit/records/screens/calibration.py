"""Calibrating a screen's statistic on the data's own null (Efron's empirical null).

A parametric null (chi-squared for l_t, standard normal for lz*) holds only on data that the
model generated. Real exams have items of their own speed, heavy-tailed times, omitted and
not-reached items and speeded endings, and under them a "p < 0.01" fires on a quarter of the
room. Almost everyone in a sitting is honest, so the bulk of a statistic's distribution *is*
its null: we centre and scale it robustly from the middle of the data (median and
interquartile range, Efron 2004, "Large-scale simultaneous hypothesis testing") and read
p-values off that. A few percent of cheats in one tail move the median and the quartiles by
little. The statistics fed in are built to be close to normal in shape (sums over many items
of bounded terms), so centring and scaling is all the misspecification they need; and as
their tails can still be a little heavier than normal, the scale is the larger of the
quartiles' and the one that the *opposite* tail implies (its 2.5% point, mirrored). Cheats
sit in the tested tail, so the opposite one is clean; the null is then no thinner-tailed than
the data's, which keeps the false-positive rate at or under alpha. A statistic whose tested
tail is skewed by honest misfit (lz* on speeded or omitting candidates) can also take its
scale from that tail's own ``same_side`` quantile (say 10%): a few percent of cheats beyond
it make the null wider, not narrower, so the price is power, never calibration.

Below ``min_candidates`` the middle is too noisy to estimate and the theoretical null is kept.

Example:
    >>> import numpy as np
    >>> z = np.random.default_rng(0).normal(3.0, 2.0, 5000)  # a statistic off its theoretical null
    >>> p = EmpiricalNull().fit(z).p_upper(z)
    >>> bool(0.035 < (p < 0.05).mean() <= 0.055)
    True
"""

from __future__ import annotations

import numpy as np
from scipy import stats


class EmpiricalNull:
    """Robust normal null fitted to the middle of a statistic's distribution.

    Parameters:
        min_candidates: below this many finite values, use centre 0 and scale 1.
        tail: the tail that will be tested ("upper" or "lower"); the other one sets the scale.
        same_side: if given, a quantile of the tested tail that may widen the scale too.

    Attributes:
        centre_, scale_: the fitted null; ``empirical_`` says whether it came from the data.
    """

    def __init__(self, min_candidates: int = 200, tail: str = "upper", same_side: float | None = None):
        self.min_candidates = min_candidates
        self.tail = tail
        self.same_side = same_side

    def fit(self, stat: np.ndarray) -> "EmpiricalNull":
        s = np.asarray(stat, float)
        s = s[np.isfinite(s)]
        self.empirical_ = len(s) >= self.min_candidates
        if self.empirical_:
            q025, q25, q50, q75, q975 = np.percentile(s, [2.5, 25, 50, 75, 97.5])
            mirror = (q50 - q025) if self.tail == "upper" else (q975 - q50)
            scale = max((q75 - q25) / 1.349, mirror / 1.96, 1e-9)
            if self.same_side:
                q = self.same_side if self.tail == "lower" else 1 - self.same_side
                scale = max(scale, abs(np.percentile(s, 100 * q) - q50) / stats.norm.isf(self.same_side))
            self.centre_, self.scale_ = float(q50), float(scale)
        else:
            self.centre_, self.scale_ = 0.0, 1.0
        return self

    def z(self, stat: np.ndarray) -> np.ndarray:
        return (np.asarray(stat, float) - self.centre_) / self.scale_

    def p_upper(self, stat: np.ndarray) -> np.ndarray:
        """Large statistic = suspicious; ``nan`` stays ``nan``."""
        return stats.norm.sf(self.z(stat))

    def p_lower(self, stat: np.ndarray) -> np.ndarray:
        return stats.norm.cdf(self.z(stat))
