"""Combine screens' p-values per exam point (and per candidate), then control the FDR.

The screens look at overlapping evidence (a leak raises the pass rate, shortens completion
times and trips the rapid-correct screen), so their p-values are dependent. We combine with
the harmonic mean p-value (Wilson 2019), multiplied by Vovk & Wang's (2020) factor
``e * ln(L)`` (capped at ``L``), which keeps the combined p-value valid under *any* dependence.
The Cauchy combination (Liu & Xie 2020) is provided too; it is valid under a broad class of
dependence but is pulled around by p-values near 1, which one-sided screens produce often.

Across exam points the combined p-values go through Benjamini-Hochberg; ``risk = 1 - q``, so
acting on every exam point with risk >= 0.9 keeps the expected share of false alarms at or
below 10%.

Example:
    >>> import numpy as np
    >>> p = np.array([[1e-6, 0.5, np.nan], [0.4, 0.6, 0.9]])
    >>> combined = harmonic_mean_p(p)
    >>> bool(combined[0] < 1e-4 and combined[1] > 0.5)
    True
"""

from __future__ import annotations

import numpy as np


def harmonic_mean_p(p: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Row-wise weighted harmonic mean of p-values, made valid under arbitrary dependence.

    ``nan`` entries (screen not run for that row) are ignored; rows with none give 1.
    """
    p = np.atleast_2d(np.asarray(p, float))
    w = np.ones(p.shape[1]) if weights is None else np.asarray(weights, float)
    ok = ~np.isnan(p)
    ww = np.where(ok, w, 0.0)
    wsum = ww.sum(1)
    inv = (ww / np.clip(np.where(ok, p, 1.0), 1e-300, 1.0)).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        hmp = np.where(wsum > 0, wsum / inv, 1.0)
    L = ok.sum(1)
    factor = np.where(L <= 1, 1.0, np.minimum(L, np.e * np.log(np.maximum(L, 2))))
    return np.clip(hmp * factor, 0.0, 1.0)


def cauchy_combination(p: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Row-wise Cauchy combination test (ACAT), ``nan`` entries ignored."""
    p = np.atleast_2d(np.asarray(p, float))
    w = np.ones(p.shape[1]) if weights is None else np.asarray(weights, float)
    ok = ~np.isnan(p)
    ww = np.where(ok, w, 0.0)
    wsum = ww.sum(1)
    pc = np.clip(np.where(ok, p, 0.5), 1e-300, 1 - 1e-12)
    # tan((0.5 - p) pi) overflows for tiny p; 1/(p pi) is its limit
    t = np.where(pc < 1e-15, 1 / (pc * np.pi), np.tan((0.5 - pc) * np.pi))
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = np.where(wsum > 0, (ww * t).sum(1) / wsum, 0.0)
    with np.errstate(divide="ignore"):
        out = np.where(stat > 1e15, 1 / (stat * np.pi), 0.5 - np.arctan(stat) / np.pi)
    return np.where(wsum > 0, np.clip(out, 0.0, 1.0), 1.0)


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH q-values (step-up adjusted p-values), same order as ``p``."""
    p = np.asarray(p, float)
    n = len(p)
    if n == 0:
        return p.copy()
    order = np.argsort(p)
    q = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(q[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.clip(q, 0, 1)
    return out


COMBINERS = {"hmp": harmonic_mean_p, "cauchy": cauchy_combination}
