"""Response times: van der Linden's lognormal model, its person-fit, and rapid-correct answering.

The model (van der Linden 2006) says ``log t_ij = beta_j - tau_i + e_ij`` with
``e_ij ~ N(0, 1/alpha_j^2)``: item ``j`` has a time intensity ``beta_j`` and precision
``alpha_j``, candidate ``i`` a speed ``tau_i``. It fits real certification and licensure data
well and underlies the operational response-time checks of several testing programmes
(van der Linden & Guo 2008; Sinharay 2018; Qian et al. 2016 on licensure data).

Real response times break the model's normal residuals: slow outliers, breaks, speeded
endings, candidates steadier or more erratic than others. So everything here is robust:
item intensities are medians, item precisions come from the median absolute deviation,
speeds are Huber M-estimates, and residuals are clipped before they are summed. The
statistics are then calibrated on the data's own null (``calibration.EmpiricalNull``).

Three statistics per candidate:

* ``l_t`` = sum of squared standardised residuals, each clipped at 3 (a break counts as an
  outlier, not as a hundred), standardised by its mean and variance under the model
  (cf. Sinharay 2018's l_t): large when many answers took implausibly little or long, e.g. a
  remote helper answering in bursts;
* **rapid-correct**: among the candidate's *very fast* answers (more than two of the item's
  own standard deviations faster than the candidate's own pace), how many are right against
  what ability predicts. Speed and accuracy are conditionally independent under the
  hierarchical model (van der Linden 2007), so excess correctness exactly where a candidate
  is unusually fast is the signature of knowing the answer beforehand. With no very fast
  answers there is no evidence: ``T = 0``, ``p = 1``;
* counts of responses faster than 10% of the item's typical time (Wise & Ma's NT10 rule), for
  the effort filter. Rapid guessing is disengagement, not cheating, and is reported apart.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


#: residuals are clipped here before anything is summed (in item standard deviations)
CLIP = 3.0
#: an answer this many item standard deviations faster than the candidate's pace is "very fast"
VERY_FAST_Z = 2.0


def _log_times(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = np.isfinite(t) & (t > 0)
    return np.where(m, np.log(np.where(m, t, 1)), 0.0).astype(np.float32), m


class LognormalRTModel:
    """Robust fit of ``beta_j`` (median), ``alpha_j`` (1 / scaled MAD) and Huber speeds.

    Parameters:
        n_iter: alternating rounds between item and person estimates.
        max_fit_candidates: subsample used to fit the items.
        seed: for the subsample.

    Attributes:
        beta_, alpha_: item time intensity (log seconds) and precision.
    """

    def __init__(self, n_iter: int = 4, max_fit_candidates: int = 20_000, seed: int = 0):
        self.n_iter = n_iter
        self.max_fit_candidates = max_fit_candidates
        self.seed = seed

    def fit(self, t: np.ndarray) -> "LognormalRTModel":
        """``t``: candidates x items, seconds, ``nan`` where not answered."""
        rng = np.random.default_rng(self.seed)
        if len(t) > self.max_fit_candidates:
            t = t[np.sort(rng.choice(len(t), self.max_fit_candidates, replace=False))]
        lt, m = _log_times(t)
        ltn = np.where(m, lt, np.nan)
        with np.errstate(all="ignore"):
            beta = np.nan_to_num(np.nanmedian(ltn, axis=0), nan=0.0)
            alpha = np.ones(t.shape[1], dtype=np.float32)
            for _ in range(self.n_iter):
                tau = self._tau(lt, m, beta, alpha)
                dev = ltn + tau[:, None]
                beta = np.nan_to_num(np.nanmedian(dev, axis=0), nan=0.0)
                mad = np.nanmedian(np.abs(dev - beta), axis=0) * 1.4826
                alpha = 1 / np.clip(np.nan_to_num(mad, nan=1.0), 0.05, 5.0)
                beta = beta - np.median(tau)  # identify the scale: median speed 0
        self.beta_, self.alpha_ = beta.astype(np.float64), alpha.astype(np.float64)
        return self

    @staticmethod
    def _tau(lt, m, beta, alpha, n_iter: int = 4) -> np.ndarray:
        """Huber M-estimate of speed: a few very fast or very slow answers barely move it."""
        beta, alpha = np.asarray(beta, np.float32), np.asarray(alpha, np.float32)
        w = (alpha**2 * m).astype(np.float32)
        den = np.maximum(w.sum(1), 1e-9)
        tau = ((beta - lt) * w).sum(1) / den
        a_m = alpha * m
        for _ in range(n_iter):
            u = alpha * (beta - lt - tau[:, None])
            tau = tau + (a_m * np.clip(u, -1.5, 1.5)).sum(1) / den
        return tau

    def residuals(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tau, z, mask): speed per candidate and standardised log-time residuals (0 where missing)."""
        lt, m = _log_times(t)
        beta, alpha = self.beta_.astype(np.float32), self.alpha_.astype(np.float32)
        tau = self._tau(lt, m, beta, alpha)
        z = np.where(m, alpha * (lt - beta + tau[:, None].astype(np.float32)), 0).astype(np.float32)
        return tau, z, m


def _clipped_square_moments(c: float = CLIP) -> tuple[float, float]:
    """Mean and variance of min(Z^2, c^2) for standard normal Z."""
    from scipy import integrate

    f = lambda z, k: min(z * z, c * c) ** k * stats.norm.pdf(z)  # noqa: E731
    m1 = 2 * integrate.quad(f, 0, np.inf, args=(1,))[0]
    m2 = 2 * integrate.quad(f, 0, np.inf, args=(2,))[0]
    return m1, m2 - m1 * m1


_M1, _V1 = _clipped_square_moments()


def rt_person_fit(z: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(l_t, u, p): clipped sum of squared residuals, its standardised form ``u`` and the
    model's upper-tail p. ``u`` is on the log scale (the log of the mean clipped square over
    its null mean, divided by the delta-method standard error), which makes it near-symmetric
    when candidates differ in how erratic they are; calibrate ``u`` on the data."""
    zc = np.clip(z, -CLIP, CLIP)
    lt = (zc.astype(np.float64) ** 2 * m).sum(1)
    k = np.maximum(m.sum(1), 1)
    u = np.log(np.maximum(lt / (k * _M1), 1e-6)) / np.sqrt(_V1 / (k * _M1 * _M1))
    return lt, u, stats.norm.sf(u)


def rapid_correct(z: np.ndarray, x: np.ndarray, p: np.ndarray, m: np.ndarray,
                  very_fast_z: float = VERY_FAST_Z) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(T, p, very_fast, very_fast_right, expected_right) per candidate.

    ``T`` compares right answers among the very fast ones with their expectation under the
    candidate's ability, with a continuity correction; no very fast answers gives T = 0, p = 1.
    """
    fast = m & ~np.isnan(x) & (z < -very_fast_z)
    k = np.where(fast, x, 0).sum(1)
    e = np.where(fast, p, 0).sum(1)
    v = np.where(fast, p * (1 - p), 0).sum(1)
    n_fast = fast.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(n_fast > 0, (k - e - 0.5) / np.sqrt(np.maximum(v, 0.25)), 0.0)
    pv = np.where(n_fast > 0, stats.norm.sf(t), 1.0)
    return t, pv, n_fast, k, e


def rapid_responses(t: np.ndarray, x: np.ndarray, share_of_typical: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """(rapid, rapid_correct) counts per candidate: answers under 10% of the item's median time."""
    med = np.nanmedian(t, axis=0)
    fast = np.isfinite(t) & (t < share_of_typical * med)
    return fast.sum(1), (fast & (x == 1)).sum(1)
