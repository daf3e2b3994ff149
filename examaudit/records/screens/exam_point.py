"""Exam-point screens on the score sheet alone: pass rate, bunching at the pass mark and
completion times.

* **Pass rate** against the province through the over-dispersed funnel.
* **Bunching**: when an insider lifts near-misses over the line, the score histogram shows a
  hole just below the pass mark and a heap just above it. We fit a smooth polynomial to the
  province histogram *excluding* a window around the mark (Chetty et al. 2011; Kleven 2016),
  which gives the share of the window that should fall above the mark; each exam point's
  share is then tested against it through the funnel. Unlike a raw histogram test this does
  not fire on centres that are merely strong, because it looks only at the few points either
  side of the mark.
* **Completion time**: the share of an exam point's candidates who finished faster than the
  province's fastest 5%, tested through the funnel (leaked papers and remote answering are
  quick).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rates import RateTable, count_by, rate_table


def _groups(exam_point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    names, inverse = np.unique(np.asarray(exam_point, dtype=str), return_inverse=True)
    return names.astype(object), inverse


class PassRateScreen:
    """Pass rate per exam point against the province, over-dispersion adjusted.

    Attributes:
        table_: the :class:`RateTable` of the fitted data (``p_value`` small = high pass rate).
    """

    def fit(self, exam_point: np.ndarray, passed: np.ndarray) -> "PassRateScreen":
        self.table_ = self.score(exam_point, passed)
        return self

    def score(self, exam_point: np.ndarray, passed: np.ndarray) -> RateTable:
        names, inv = _groups(exam_point)
        ok = passed >= 0
        return rate_table("pass_rate", names, count_by(names, inv, ok & (passed == 1), len(names)),
                          count_by(names, inv, ok, len(names)))


@dataclass(frozen=True)
class BunchingHistogram:
    """The province histogram around the pass mark and its counterfactual smooth fit."""

    bin_left: np.ndarray
    counts: np.ndarray
    smooth: np.ndarray
    window: tuple[float, float]
    excess_mass: float
    counts_by_exam_point: np.ndarray
    exam_point: np.ndarray


class ScoreBunching:
    """Density discontinuity at the pass mark against a smooth polynomial fit.

    Parameters:
        window_bins: bins each side of the mark forming the test window.
        span_bins: bins each side used for the smooth fit.
        degree: polynomial degree of the counterfactual density.

    Attributes:
        bin_width_: score step (the smallest gap between observed scores, at least 1 point).
        above_share_: share of the window expected above the mark under the smooth fit.
        histogram_: :class:`BunchingHistogram` of the fitted data.
    """

    def __init__(self, window_bins: int = 3, span_bins: int = 25, degree: int = 5):
        self.window_bins = window_bins
        self.span_bins = span_bins
        self.degree = degree

    def _bins(self, total: np.ndarray, pass_mark: np.ndarray) -> np.ndarray:
        # half a step of tolerance so 59.999 from a scaled score still sits below 60
        return np.floor((total - pass_mark) / self.bin_width_ + 1e-6).astype(np.int64)

    def fit(self, exam_point: np.ndarray, total: np.ndarray, pass_mark: np.ndarray) -> "ScoreBunching":
        ok = np.isfinite(total) & np.isfinite(pass_mark)
        u = np.unique(np.round(total[ok], 3))
        steps = np.diff(u)
        self.bin_width_ = float(max(1.0, np.min(steps[steps > 1e-6]) if (steps > 1e-6).any() else 1.0))
        k = self._bins(total[ok], pass_mark[ok])
        s, w = self.span_bins, self.window_bins
        inside = (k >= -s) & (k < s)
        counts = np.bincount(k[inside] + s, minlength=2 * s).astype(float)
        centres = np.arange(-s, s) + 0.5
        fit_mask = (centres < -w) | (centres > w)
        coef = np.polyfit(centres[fit_mask] / s, counts[fit_mask], deg=min(self.degree, int(fit_mask.sum()) - 1))
        smooth = np.clip(np.polyval(coef, centres / s), 1e-9, None)
        below = (centres > -w) & (centres < 0)
        above = (centres > 0) & (centres < w)
        self.above_share_ = float(smooth[above].sum() / (smooth[above].sum() + smooth[below].sum()))
        excess = float((counts[above].sum() - smooth[above].sum()) / max(smooth[above].sum(), 1e-9))
        names, inv = _groups(exam_point[ok])
        by_ep = np.zeros((len(names), 2 * s))
        np.add.at(by_ep, (inv[inside], k[inside] + s), 1)
        self.histogram_ = BunchingHistogram((np.arange(-s, s) * self.bin_width_), counts, smooth,
                                            (-w * self.bin_width_, w * self.bin_width_), excess, by_ep, names)
        return self

    def score(self, exam_point: np.ndarray, total: np.ndarray, pass_mark: np.ndarray) -> RateTable:
        ok = np.isfinite(total) & np.isfinite(pass_mark)
        names, inv = _groups(exam_point)
        k = self._bins(np.where(ok, total, 0), np.where(ok, pass_mark, 0))
        w = self.window_bins
        in_below = ok & (k >= -w) & (k < 0)
        in_above = ok & (k >= 0) & (k < w)
        above = count_by(names, inv, in_above, len(names))
        window = above + count_by(names, inv, in_below, len(names))
        return rate_table("bunching", names, above, window, target=self.above_share_)


class CompletionTimeScreen:
    """Share of each exam point's candidates finishing faster than the province's quantile.

    Attributes:
        threshold_s_: the province ``quantile`` of completion time, in seconds.
        median_s_: per exam point median completion time (``exam_point_`` gives the order).
    """

    def __init__(self, quantile: float = 0.05):
        self.quantile = quantile

    def fit(self, exam_point: np.ndarray, duration_s: np.ndarray) -> "CompletionTimeScreen":
        ok = np.isfinite(duration_s)
        self.threshold_s_ = float(np.quantile(duration_s[ok], self.quantile)) if ok.any() else np.nan
        names, inv = _groups(exam_point)
        self.exam_point_ = names
        self.median_s_ = np.array([np.nanmedian(duration_s[inv == g]) if (ok & (inv == g)).any() else np.nan
                                   for g in range(len(names))])
        return self

    def score(self, exam_point: np.ndarray, duration_s: np.ndarray) -> RateTable:
        ok = np.isfinite(duration_s)
        names, inv = _groups(exam_point)
        fast = ok & (duration_s < self.threshold_s_)
        return rate_table("fast_completion", names, count_by(names, inv, fast, len(names)), count_by(names, inv, ok, len(names)))
