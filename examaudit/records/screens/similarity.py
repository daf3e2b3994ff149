"""Answer similarity between pairs of candidates in the same session, and clusters of them.

For every pair in a session we count matching answers and identical *incorrect* answers and
compare them with what the IRT model expects for two people of those abilities answering
independently. This is the generalised binomial test (van der Linden & Sotaridona 2006) with
model-based match probabilities

    P(match on j) = P_i P_j + (1 - P_i)(1 - P_j) s_j,   s_j = sum over wrong options of q_jo^2,

where ``q_jo`` is how often option ``o`` is chosen among wrong answers to item ``j``. The
number of matches is a sum of independent Bernoullis; we use its normal approximation for
all matches and a Poisson tail (conservative, accurate for rare events) for identical
incorrect answers, and take the smaller p-value with a Bonferroni factor of 2. Identical
incorrect answers are the classic evidence in copying cases (Angoff 1974; Holland 1996).

Everything per session is a handful of matrix products over a one-hot answer matrix, so a
session of 100 candidates x 100 items costs milliseconds; sessions are never crossed.

Flagged pairs (Benjamini-Hochberg over all pairs of the run) form a graph whose connected
components are the similarity clusters; we note which flagged pairs sat on adjacent seats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.special import ndtr, pdtrc
from scipy.sparse.csgraph import connected_components

#: pair p-values below this are kept for the BH step; everything else cannot be flagged anyway
_KEEP_P = 1e-3


@dataclass(frozen=True)
class SimilarPair:
    a: int
    b: int
    matches: int
    expected_matches: float
    identical_incorrect: int
    expected_identical_incorrect: float
    p_value: float
    adjacent_seats: bool
    q_value: float = 1.0


@dataclass(frozen=True)
class SimilarityResult:
    """Per candidate: ``p_value`` (best pair, Sidak-adjusted for the session's partners),
    ``partner`` (index of the most similar candidate, -1 if none), and the flagged pairs and
    clusters (lists of candidate indices)."""

    p_value: np.ndarray
    partner: np.ndarray
    pairs: list[SimilarPair]
    clusters: list[list[int]]
    n_pairs_tested: int
    cluster_of: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


def _seat_number(seat: np.ndarray) -> np.ndarray:
    out = np.full(len(seat), np.nan)
    for i, s in enumerate(seat):
        digits = "".join(ch for ch in str(s) if ch.isdigit())
        if digits:
            out[i] = float(digits)
    return out


class AnswerSimilarity:
    """Pairwise answer similarity within sessions.

    Parameters:
        pair_fdr: Benjamini-Hochberg level over all pairs tested in the run.

    Attributes:
        share_same_wrong_: ``s_j`` per item, chance two wrong answers to ``j`` coincide.
        n_codes_: number of distinct response codes.
    """

    def __init__(self, pair_fdr: float = 0.01):
        self.pair_fdr = pair_fdr

    def fit(self, r: np.ndarray, x: np.ndarray) -> "AnswerSimilarity":
        """``r``: response codes (-1 missing); ``x``: 1/0 correct (``nan`` missing)."""
        j = r.shape[1]
        self.n_codes_ = int(r.max()) + 1 if r.size and r.max() >= 0 else 1
        wrong = (r >= 0) & (x == 0)
        items = np.broadcast_to(np.arange(j), r.shape)[wrong]
        counts = np.bincount(items * self.n_codes_ + r[wrong], minlength=j * self.n_codes_).reshape(j, self.n_codes_)
        q = counts / np.maximum(counts.sum(1, keepdims=True), 1)
        s = (q**2).sum(1)
        # items nobody got wrong: assume two wrong options equally likely, not certainty
        self.share_same_wrong_ = np.where(counts.sum(1) > 0, s, 0.5)
        return self

    def score(self, group: np.ndarray, r: np.ndarray, x: np.ndarray, p: np.ndarray,
              room: np.ndarray | None = None, seat: np.ndarray | None = None, progress=None) -> SimilarityResult:
        """``group``: integer session index per candidate (exam point x session); ``p``: model P(correct)."""
        n, j = r.shape
        k = self.n_codes_
        s = self.share_same_wrong_.astype(np.float64)
        cand_p = np.ones(n)
        partner = np.full(n, -1, dtype=np.int64)
        seat_no = _seat_number(seat) if seat is not None else np.full(n, np.nan)
        room = room if room is not None else np.full(n, "", dtype=object)
        kept: list[tuple] = []
        n_pairs = 0
        order = np.argsort(group, kind="stable")
        bounds = np.flatnonzero(np.diff(group[order])) + 1
        for members in np.split(order, bounds):
            g = len(members)
            if g < 2:
                continue
            n_pairs += g * (g - 1) // 2
            rg = r[members].astype(np.int64)
            ans = rg >= 0
            pg = np.where(ans, p[members], 0).astype(np.float64)
            qg = np.where(ans, 1 - p[members], 0).astype(np.float64)
            wrong = ans & (x[members] == 0)
            rows = np.repeat(np.arange(g), j)
            cols = (np.arange(j)[None, :] * k + np.where(ans, rg, 0)).ravel()
            onehot = np.zeros((g, j * k), dtype=np.float32)
            onehot[rows, cols] = ans.ravel()
            matches = (onehot @ onehot.T).astype(np.float64)
            onehot[rows, cols] = wrong.ravel()
            same_wrong = np.rint(onehot @ onehot.T).astype(np.float64)
            matches = np.rint(matches)
            e_wrong = (qg * s) @ qg.T
            e_all = pg @ pg.T + e_wrong
            sum_sq = (pg**2) @ (pg**2).T + 2 * (pg * qg * s) @ (pg * qg).T + (qg**2 * s**2) @ (qg**2).T
            sd = np.sqrt(np.maximum(e_all - sum_sq, 1e-9))
            p_all = ndtr(-(matches - e_all - 0.5) / sd)
            # P(X >= observed) for Poisson(e_wrong); pdtrc(k, m) is P(X > k)
            p_wrong = np.where(same_wrong > 0, pdtrc(np.maximum(same_wrong - 1, 0), np.maximum(e_wrong, 1e-12)), 1.0)
            pp = np.minimum(1.0, 2 * np.minimum(p_all, p_wrong))
            np.fill_diagonal(pp, 1.0)
            best = pp.argmin(1)
            pmin = pp[np.arange(g), best]
            # Sidak over the g-1 partners each candidate was compared with
            cand_p[members] = -np.expm1((g - 1) * np.log1p(-np.minimum(pmin, 1 - 1e-16)))
            partner[members] = members[best]
            ia, ib = np.nonzero(np.triu(pp < _KEEP_P, 1))
            for a, b in zip(ia, ib):
                kept.append((int(members[a]), int(members[b]), int(matches[a, b]), float(e_all[a, b]),
                             int(same_wrong[a, b]), float(e_wrong[a, b]), float(pp[a, b])))
            if progress:
                progress(g)
        pairs: list[SimilarPair] = []
        if kept:
            pv = np.array([t[6] for t in kept])
            order_p = np.argsort(pv)
            rank = np.empty(len(pv))
            q_sorted = np.minimum.accumulate((pv[order_p] * n_pairs / np.arange(1, len(pv) + 1))[::-1])[::-1]
            rank[order_p] = np.minimum(q_sorted, 1.0)
            for t, q in zip(kept, rank):
                if q <= self.pair_fdr:
                    a, b = t[0], t[1]
                    adjacent = bool(room[a] == room[b] and np.isfinite(seat_no[a]) and abs(seat_no[a] - seat_no[b]) == 1)
                    pairs.append(SimilarPair(*t, adjacent_seats=adjacent, q_value=float(q)))
        clusters: list[list[int]] = []
        cluster_of = np.full(n, -1, dtype=np.int64)
        if pairs:
            a = np.array([pr.a for pr in pairs])
            b = np.array([pr.b for pr in pairs])
            graph = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
            _, labels = connected_components(graph, directed=False)
            involved = np.unique(np.concatenate([a, b]))
            for lab in np.unique(labels[involved]):
                members = [int(i) for i in involved[labels[involved] == lab]]
                cluster_of[members] = len(clusters)
                clusters.append(members)
        return SimilarityResult(cand_p, partner, pairs, clusters, n_pairs, cluster_of)
