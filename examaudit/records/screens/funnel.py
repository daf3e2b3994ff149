"""Funnel plot for proportions with over-dispersion (Spiegelhalter 2005).

Exam points differ for honest reasons (the candidates they train, the trades they examine),
so a plain binomial funnel flags half the province. Spiegelhalter's additive random-effects
adjustment estimates the between-centre variance ``tau2`` from Winsorised z-scores and widens
the funnel by it; what is still outside is unusual *after* allowing for ordinary variation.

When ``robust`` (the default) the over-dispersion ratio is estimated from the *median* z²
(divided by 0.4549, the median of chi-squared with one degree of freedom) instead of the
Winsorised mean: a province where a quarter of the centres misbehave would otherwise widen
the funnel until none of them stands out.

Reference: D. J. Spiegelhalter (2005), Funnel plots for comparing institutional performance,
Statistics in Medicine 24:1185-1202; Spiegelhalter et al. (2012), JRSS A 175:1-47.

Example:
    >>> import numpy as np
    >>> passes = np.array([58, 61, 63, 55, 60, 66, 59, 62, 57, 64, 95])
    >>> f = ProportionFunnel().fit(passes, np.full(11, 100))
    >>> bool(f.score(np.array([95]), np.array([100])).p_value[0] < 0.05)
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class FunnelScore:
    """Per-unit funnel statistics. ``p_value`` is one-sided in the direction the screen cares about."""

    events: np.ndarray
    totals: np.ndarray
    rate: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    lower95: np.ndarray
    upper95: np.ndarray
    upper998: np.ndarray


class ProportionFunnel:
    """Over-dispersed funnel for ``events / totals`` per unit.

    Parameters:
        target: the province rate to compare against; ``None`` pools the data.
        winsor: share Winsorised at each end when estimating over-dispersion.
        side: ``"upper"`` (high rates suspicious), ``"lower"`` or ``"two"``.

    Attributes:
        target_: the rate compared against.
        phi_: the over-dispersion ratio (1 = binomial).
        tau2_: additive between-unit variance on the rate scale.
    """

    def __init__(self, target: float | None = None, winsor: float = 0.1, side: str = "upper", robust: bool = True):
        self.target = target
        self.winsor = winsor
        self.side = side
        self.robust = robust

    def fit(self, events: np.ndarray, totals: np.ndarray) -> "ProportionFunnel":
        events, totals = np.asarray(events, float), np.asarray(totals, float)
        ok = totals > 0
        p0 = self.target if self.target is not None else events[ok].sum() / max(totals[ok].sum(), 1.0)
        # a rate of exactly 0 or 1 has no binomial spread; keep it just inside
        self.target_ = float(np.clip(p0, 1e-4, 1 - 1e-4))
        s2 = self.target_ * (1 - self.target_) / totals[ok]
        z = (events[ok] / totals[ok] - self.target_) / np.sqrt(s2)
        k = len(z)
        self.phi_, self.tau2_ = 1.0, 0.0
        if k >= 3:
            if self.robust:
                self.phi_ = float(np.median(z**2) / 0.4549)
            else:
                lo, hi = np.quantile(z, [self.winsor, 1 - self.winsor])
                self.phi_ = float(np.mean(np.clip(z, lo, hi) ** 2))
            w = 1 / s2
            if k * self.phi_ > k - 1:
                self.tau2_ = float(max(0.0, (k * self.phi_ - (k - 1)) / (w.sum() - (w**2).sum() / w.sum())))
        return self

    def score(self, events: np.ndarray, totals: np.ndarray) -> FunnelScore:
        events, totals = np.asarray(events, float), np.asarray(totals, float)
        p0 = self.target_
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(totals > 0, events / totals, np.nan)
            sd = np.sqrt(p0 * (1 - p0) / totals + self.tau2_)
            z = (rate - p0) / sd
        if self.side == "upper":
            p = stats.norm.sf(z)
        elif self.side == "lower":
            p = stats.norm.cdf(z)
        else:
            p = 2 * stats.norm.sf(np.abs(z))
        p = np.where(totals > 0, p, 1.0)
        return FunnelScore(events, totals, rate, z, p, p0 - 1.96 * sd, p0 + 1.96 * sd, p0 + 3.09 * sd)
