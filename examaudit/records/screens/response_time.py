"""Response times: van der Linden's lognormal model, its person-fit, and rapid-correct answering.

The model (van der Linden 2006) says ``log t_ij = beta_j - tau_i + e_ij`` with
``e_ij ~ N(0, 1/alpha_j^2)``: item ``j`` has a time intensity ``beta_j`` and precision
``alpha_j``, candidate ``i`` a speed ``tau_i``. It fits real certification and licensure data
well and underlies the operational response-time checks of several testing programmes
(van der Linden & Guo 2008; Sinharay 2018; Qian et al. 2016 on licensure data).

Three statistics per candidate:

* ``l_t`` = sum of squared standardised residuals, chi-squared with (items - 1) degrees of
  freedom under the model (Sinharay 2018): large when some answers took implausibly little or
  long, e.g. a remote helper answering in bursts;
* **rapid-correct** ``T`` = sum over items of (-z_ij)(x_ij - P_ij) / sqrt(sum P_ij Q_ij): speed and
  accuracy are conditionally independent under the hierarchical model, so a candidate who is
  *faster than usual exactly where they are right beyond their ability* stands out, which is
  the signature of item preknowledge (cf. Sinharay & Johnson 2020; Boughton et al. 2017);
* counts of responses faster than 10% of the item's typical time (Wise & Ma's NT10 rule), for
  the evidence table. Rapid guessing is disengagement, not cheating, and is reported apart.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


class LognormalRTModel:
    """Fit ``beta_j``, ``alpha_j`` by alternating closed-form updates; speeds for everyone.

    Attributes:
        beta_, alpha_: item time intensity (log seconds) and precision.
    """

    def __init__(self, n_iter: int = 10, max_fit_candidates: int = 20_000, seed: int = 0):
        self.n_iter = n_iter
        self.max_fit_candidates = max_fit_candidates
        self.seed = seed

    def fit(self, t: np.ndarray) -> "LognormalRTModel":
        """``t``: candidates x items, seconds, ``nan`` where not answered."""
        rng = np.random.default_rng(self.seed)
        if len(t) > self.max_fit_candidates:
            t = t[np.sort(rng.choice(len(t), self.max_fit_candidates, replace=False))]
        m = np.isfinite(t) & (t > 0)
        lt = np.where(m, np.log(np.where(m, t, 1)), 0.0)
        cnt = np.maximum(m.sum(0), 1)
        beta = lt.sum(0) / cnt
        alpha = np.ones(t.shape[1])
        tau = np.zeros(len(t))
        for _ in range(self.n_iter):
            tau = self._tau(lt, m, beta, alpha)
            beta = ((lt + tau[:, None]) * m).sum(0) / cnt
            res = (lt - beta + tau[:, None]) * m
            alpha = 1 / np.sqrt(np.maximum((res**2).sum(0) / cnt, 1e-4))
            shift = tau.mean()  # identify the scale: mean speed 0
            beta -= shift
        self.beta_, self.alpha_ = beta, alpha
        return self

    @staticmethod
    def _tau(lt, m, beta, alpha) -> np.ndarray:
        w = alpha**2 * m
        return ((beta - lt) * w).sum(1) / np.maximum(w.sum(1), 1e-9)

    def residuals(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tau, z, mask): speed per candidate and standardised log-time residuals (0 where missing)."""
        m = np.isfinite(t) & (t > 0)
        lt = np.where(m, np.log(np.where(m, t, 1)), 0.0).astype(np.float32)
        beta, alpha = self.beta_.astype(np.float32), self.alpha_.astype(np.float32)
        tau = self._tau(lt, m, beta, alpha)
        z = np.where(m, alpha * (lt - beta + tau[:, None].astype(np.float32)), 0).astype(np.float32)
        return tau, z, m


def rt_person_fit(z: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(l_t, p) with p the upper chi-squared tail on (answered - 1) degrees of freedom."""
    lt = (z.astype(np.float64) ** 2).sum(1)
    df = np.maximum(m.sum(1) - 1, 1)
    return lt, stats.chi2.sf(lt, df)


def rapid_correct(z: np.ndarray, x: np.ndarray, p: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, p): covariance of speed-up and excess correctness, standardised; p upper tail."""
    ok = m & ~np.isnan(x)
    resid = np.where(ok, x - p, 0)
    num = (-z * resid).sum(1)
    # null variance uses E[z^2] = 1 rather than the observed z^2: a candidate's own extreme
    # speed-ups would otherwise inflate the denominator exactly when the signal is there
    den = np.sqrt(np.maximum((p * (1 - p) * ok).sum(1), 1e-9))
    t = num / den
    return t, stats.norm.sf(t)


def rapid_responses(t: np.ndarray, x: np.ndarray, share_of_typical: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """(rapid, rapid_correct) counts per candidate: answers under 10% of the item's median time."""
    med = np.nanmedian(t, axis=0)
    fast = np.isfinite(t) & (t < share_of_typical * med)
    return fast.sum(1), (fast & (x == 1)).sum(1)
