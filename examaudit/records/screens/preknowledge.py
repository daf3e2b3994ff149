"""Item preknowledge without knowing which items leaked: find the items and the people together.

A certificate mill sells the bank's items in advance. Its buyers answer *those* items both
faster and more often right than their ability and speed predict, and answer the rest like
anyone else. With the leaked subset known, Sinharay (2017) and Sinharay & Johnson (2020) test
each candidate with signed likelihood-ratio statistics that compare ability and speed on the
compromised items with ability and speed on the others. The bureau does not know the subset,
so we estimate it as the literature's iterative methods do (Pan & Wollack 2021; Pan, Sinharay,
Livne & Wollack 2022: find suspicious people, then the items that set them apart, then the
people again), and then score everyone on it.

The candidate statistic, for an item subset ``S`` and its complement ``C``:

* time: ``d_t`` = the candidate's mean speed-up (clipped, standardised log-time residual
  under the robust lognormal model) on ``S`` minus that on ``C``, divided by its standard
  error from the candidate's *own* spread on ``C``; a candidate's general pace cancels out;
* score: ``d_x`` = right answers on ``S`` minus what the ability estimated *on C alone*
  predicts, over its binomial standard deviation;
* ``Z = (d_t + d_x) / sqrt(2)``: faster and more right on the same items.

The item statistic, for weights ``w`` on people (the posterior chance of being a buyer under a
two-group model of the calibrated z, with part of the exam point's mean pooled in): a weighted
difference of speed-up and of excess correctness between the suspects and everyone, each
standardised, summed over the two and divided by ``sqrt(2)``. Items above ``item_z`` form ``S``.

Why it stays calibrated: the items used to score a candidate are always found, by the whole
iteration, from the *other* candidates only (cross-fitting over four random folds: each fold
is scored on a subset estimated from the other three), so on clean data ``S`` is noise that is
independent of the person scored, and ``Z`` has a null that does not depend on how ``S`` was
found. (Alternating between two folds inside the iteration is not enough: a candidate's own
answers come back to them through the other fold's suspects.) What misspecification remains (heavy tails, speeded endings) is taken
out by an empirical null fitted per fold. The suspected leaked items are reported only when
candidates are flagged: with no buyers there is nothing to separate the items.

Example:
    >>> from examaudit.records.simulate import simulate_tables
    >>> from examaudit.records.screens.irt import TwoPLModel
    >>> from examaudit.records.screens.response_time import LognormalRTModel
    >>> sim = simulate_tables(3, 30, candidates_per_session=15, n_items=120, realistic=True, planted={"EP001": "leak", "EP002": "leak"})
    >>> x, _, t = sim.tables.responses.matrices(sim.tables.scores.candidate_id)
    >>> irt = TwoPLModel().fit(x); theta = irt.theta(x)
    >>> rt = LognormalRTModel().fit(t); _, z, m = rt.residuals(t)
    >>> res = ItemPreknowledge().fit_score(x, z, m, irt, theta)
    >>> res.p_value.shape == (len(x),)
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .calibration import EmpiricalNull
from ..fusion import benjamini_hochberg
from .irt import TwoPLModel
from .response_time import CLIP

_SQRT2 = np.sqrt(2.0)


@dataclass
class PreknowledgeResult:
    """Per candidate: ``stat`` (Z), ``p_value`` (calibrated), ``d_time``, ``d_score``.
    Per item: ``item_stat`` (for the final suspects), ``item_p``, ``suspected_items`` (mask of
    the items reported as leaked; empty when nobody is flagged), ``speed_ratio`` (suspects'
    median time over everyone else's) and ``suspect_right``/``expected_right`` (share right
    among suspects against what their ability predicts). ``suspects``: candidate indices."""

    stat: np.ndarray
    p_value: np.ndarray
    d_time: np.ndarray
    d_score: np.ndarray
    item_stat: np.ndarray
    item_p: np.ndarray
    suspected_items: np.ndarray
    speed_ratio: np.ndarray
    suspect_right: np.ndarray
    expected_right: np.ndarray
    suspects: np.ndarray


class ItemPreknowledge:
    """Iterative, cross-fitted detection of leaked items and of the candidates who knew them.

    Parameters:
        n_iter: rounds of people -> items -> people.
        item_z: an item joins the suspected subset above this item statistic.
        min_items, max_item_share: bounds on the subset's size.
        suspect_q: candidates at or below this BH q-value are the suspects that the reported
            leaked items are estimated from.
        item_q: items at or below this BH q-value (over items) are reported as leaked.
        min_suspects: fewer suspects than this and no items are reported.
        pool: how much of the exam-point mates' mean z joins a candidate's weight in item selection.
        max_fit_candidates: items are estimated on at most this many of the other folds'
            candidates (a random subset: at 2-5% buyers that is hundreds of them), which keeps a
            province-wide run fast.
        n_folds: cross-fitting folds; each fold is scored on items estimated from all the others
            (fewer when there are too few candidates for ``min_candidates / 2`` per fold).
        seed: for the folds.
    """

    def __init__(self, n_iter: int = 6, item_z: float = 1.5, min_items: int = 5, max_item_share: float = 0.6,
                 suspect_q: float = 0.05, item_q: float = 0.01, min_suspects: int = 3, min_candidates: int = 200,
                 pool: float = 0.5, n_folds: int = 4, max_fit_candidates: int = 10_000, seed: int = 0):
        self.pool = pool
        self.max_fit_candidates = max_fit_candidates
        self.n_folds = n_folds
        self.n_iter = n_iter
        self.item_z = item_z
        self.min_items = min_items
        self.max_item_share = max_item_share
        self.suspect_q = suspect_q
        self.item_q = item_q
        self.min_suspects = min_suspects
        self.min_candidates = min_candidates
        self.seed = seed

    # -- pieces -----------------------------------------------------------------------------

    @staticmethod
    def _item_stats(x: np.ndarray, f: np.ndarray, m: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Per item: suspects (weights ``w``) faster and more right than everyone, standardised."""
        obs = m.astype(np.float32)
        cnt = np.maximum(obs.sum(0), 1)
        mu = (f * obs).sum(0) / cnt
        var = np.maximum((((f - mu) ** 2) * obs).sum(0) / cnt, 1e-3)
        wt = w[:, None] * obs
        t_stat = (wt * (f - mu)).sum(0) / np.sqrt(var * (wt * w[:, None]).sum(0) + 1e-9)
        okx = ~np.isnan(x)
        r = np.where(okx, x - p, 0)
        mr = r.sum(0) / np.maximum(okx.sum(0), 1)
        wx = w[:, None] * okx
        x_stat = (wx * (r - mr)).sum(0) / np.sqrt((wx * w[:, None] * p * (1 - p)).sum(0) + 1e-9)
        return (t_stat + x_stat) / _SQRT2

    def _select(self, c: np.ndarray) -> np.ndarray:
        J = len(c)
        order = np.argsort(-c)
        k = int(np.clip((c > self.item_z).sum(), min(self.min_items, J), max(1, int(self.max_item_share * J))))
        s = np.zeros(J, dtype=bool)
        s[order[:k]] = True
        return s

    @staticmethod
    def _person_stats(x, f, m, p, s) -> tuple[np.ndarray, np.ndarray]:
        """(d_t, d_x) for subset ``s``; ``p`` should come from ability estimated off ``s``."""
        in_s, in_c = m & s, m & ~s
        n_s, n_c = in_s.sum(1), in_c.sum(1)
        mean_s = (f * in_s).sum(1) / np.maximum(n_s, 1)
        mean_c = (f * in_c).sum(1) / np.maximum(n_c, 1)
        var_c = (((f - mean_c[:, None]) ** 2) * in_c).sum(1) / np.maximum(n_c - 1, 1)
        sd = np.sqrt(np.maximum(var_c, 0.25))
        with np.errstate(divide="ignore", invalid="ignore"):
            d_t = (mean_s - mean_c) / (sd * np.sqrt(1 / np.maximum(n_s, 1) + 1 / np.maximum(n_c, 1)))
        okx = ~np.isnan(x) & s
        r = np.where(okx, x - p, 0).sum(1)
        v = np.where(okx, p * (1 - p), 0).sum(1)
        d_x = r / np.sqrt(np.maximum(v, 0.25))
        bad = (n_s < 3) | (n_c < 3)
        return np.where(bad, np.nan, d_t), np.where(okx.sum(1) < 3, np.nan, d_x)

    @staticmethod
    def _weights(zstd: np.ndarray, group: np.ndarray | None = None, pool: float = 0.5) -> np.ndarray:
        """How much each candidate counts when the items are estimated: the posterior chance of
        being a buyer under a two-group model of the calibrated z (null N(0, 1), buyers N(mu, 1),
        Efron's local fdr), after pooling part of the exam point's mean z in (mills sell to
        whole exam points). Only item selection uses these, and only for the *other* half of
        the candidates, so they can be as heuristic as helps without touching calibration."""
        z = np.nan_to_num(zstd, nan=0.0).astype(np.float64)
        if group is not None and len(group) and pool > 0:
            tot = np.bincount(group, weights=z)
            cnt = np.bincount(group).astype(float)
            others = (tot[group] - z) / np.maximum(cnt[group] - 1, 1)
            # shrink the mates' mean toward 0 by their count (one mate says little)
            k = cnt[group] - 1
            z = z + pool * others * k / (k + 2.0)
        pi, mu = 0.03, 3.0
        post = np.zeros_like(z)
        for _ in range(30):
            f1 = pi * stats.norm.pdf(z, mu, 1)
            f0 = (1 - pi) * stats.norm.pdf(z)
            post = f1 / np.maximum(f0 + f1, 1e-300)
            pi = float(np.clip(post.mean(), 0.005, 0.2))
            mu = float(max((post * z).sum() / max(post.sum(), 1e-9), 1.5))
        return post.astype(np.float32)

    # -- the screen ---------------------------------------------------------------------------

    def fit_score(self, x: np.ndarray, z: np.ndarray, m: np.ndarray, irt: TwoPLModel, theta: np.ndarray,
                  alpha: np.ndarray | None = None, group: np.ndarray | None = None,
                  engaged: np.ndarray | None = None) -> PreknowledgeResult:
        """``x`` right/wrong (``nan`` not presented), ``z`` standardised log-time residuals and
        their mask ``m`` (``LognormalRTModel.residuals``), the fitted IRT model and abilities;
        ``alpha`` (item time precisions) turns the reported speed-ups into time ratios;
        ``group`` (exam point index per candidate) lets exam-point mates inform item selection;
        candidates not ``engaged`` (rapid guessers: seconds per item, at chance) are neither
        scored nor used to find items: on long items their flat few seconds look like a
        speed-up and their chance-level hits look like excess on hard items."""
        n, J = x.shape
        f = -np.clip(z, -CLIP, CLIP).astype(np.float32) * m  # speed-up: positive = faster than own pace
        p = irt.prob(theta)
        group = None if group is None else np.unique(np.asarray(group), return_inverse=True)[1]
        k_folds = max(2, min(self.n_folds, n // max(self.min_candidates // 2, 1)))
        rng = np.random.default_rng(self.seed)
        fold = rng.permutation(n) % k_folds
        folds = [np.flatnonzero(fold == k) for k in range(k_folds)]
        stat = np.full(n, np.nan)
        d_t = np.full(n, np.nan)
        d_x = np.full(n, np.nan)
        use = np.ones(n, bool) if engaged is None else np.asarray(engaged, bool)
        for rows in folds:
            # the items this fold is scored on come from the other folds alone, found by the
            # whole people -> items -> people iteration run on them; nothing of this fold's
            # answers reaches its own subset, so on clean data the subset is independent noise
            other = np.flatnonzero((fold != fold[rows[0]]) & use)
            if len(other) > self.max_fit_candidates:
                other = np.sort(rng.choice(other, self.max_fit_candidates, replace=False))
            s = self._estimate_items(x[other], f[other], m[other], p[other], None if group is None else group[other])
            xc = x[rows].copy()
            xc[:, s] = np.nan  # ability from the other items only: the leak cannot lift its own baseline
            d_t[rows], d_x[rows] = self._person_stats(x[rows], f[rows], m[rows], irt.prob(self._theta_off(irt, xc, theta[rows])), s)
        stat = (np.nan_to_num(d_t) + np.nan_to_num(d_x)) / _SQRT2
        stat[(np.isnan(d_t) & np.isnan(d_x)) | ~use] = np.nan
        zstd = self._standardise(stat, folds)
        pv = np.where(np.isfinite(zstd), stats.norm.sf(zstd), np.nan)
        return self._report(x, f, m, p, stat, pv, d_t, d_x, z, np.ones(J) if alpha is None else np.asarray(alpha, float))

    @staticmethod
    def _theta_off(irt: TwoPLModel, xc: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Ability on the items left in ``xc``: three Newton steps from the full-paper estimate."""
        mc = ~np.isnan(xc)
        x0 = np.where(mc, xc, 0).astype(np.float32)
        return irt._theta_step(x0, mc, irt.a_.astype(np.float32), irt.b_.astype(np.float32),
                               np.asarray(theta, np.float32), steps=3)

    def _estimate_items(self, x, f, m, p, group) -> np.ndarray:
        """The suspected leaked subset, from these candidates only (iterative, self-fitted)."""
        okx = ~np.isnan(x)
        # seed: a candidate fast exactly where right beyond ability (no subset needed yet)
        r = np.where(okx & m, x - p, 0)
        seed_stat = (f * r).sum(1) / np.sqrt(np.maximum((f * f * p * (1 - p) * (okx & m)).sum(1), 1e-6))
        everyone = [np.arange(len(x))]
        zstd = self._standardise(seed_stat, everyone)
        s = np.zeros(x.shape[1], dtype=bool)
        for _ in range(self.n_iter):
            s = self._select(self._item_stats(x, f, m, p, self._weights(zstd, group, self.pool)))
            d_t, d_x = self._person_stats(x, f, m, p, s)
            stat = (np.nan_to_num(d_t) + np.nan_to_num(d_x)) / _SQRT2
            zstd = self._standardise(stat, everyone)
        return s

    def _standardise(self, stat: np.ndarray, folds: list[np.ndarray]) -> np.ndarray:
        """Empirical-null z per fold (each fold was scored on its own subset)."""
        out = np.full(len(stat), np.nan)
        for rows in folds:
            null = EmpiricalNull(self.min_candidates // 2).fit(stat[rows])
            out[rows] = null.z(stat[rows])
        return out

    def _report(self, x, f, m, p, stat, pv, d_t, d_x, z, alpha) -> PreknowledgeResult:
        J = x.shape[1]
        ok = np.isfinite(pv)
        q = np.full(len(pv), np.nan)
        q[ok] = benjamini_hochberg(pv[ok])
        suspects = np.flatnonzero(ok & (q <= self.suspect_q))
        item_stat = np.zeros(J)
        item_p = np.ones(J)
        suspected = np.zeros(J, dtype=bool)
        ratio = np.full(J, np.nan)
        right = np.full(J, np.nan)
        expected = np.full(J, np.nan)
        if len(suspects) >= self.min_suspects:
            w = np.zeros(len(x), dtype=np.float32)
            w[suspects] = 1.0
            item_stat = self._item_stats(x, f, m, p, w)
            item_p = stats.norm.sf(item_stat)
            suspected = benjamini_hochberg(item_p) <= self.item_q
            others = np.ones(len(x), bool)
            others[suspects] = False
            with np.errstate(all="ignore"):
                # residual log time (pace removed): the suspects' typical time against the others'
                zs = np.where(m, z / alpha, np.nan)
                ratio = np.exp(np.nanmedian(zs[suspects], axis=0) - np.nanmedian(zs[others], axis=0))
                xs = x[suspects]
                right = np.nanmean(xs, axis=0)
                expected = np.nanmean(np.where(np.isnan(xs), np.nan, p[suspects]), axis=0)
        return PreknowledgeResult(stat, pv, d_t, d_x, item_stat, item_p, suspected, ratio, right, expected, suspects)
