"""A multivariate look at exam points: which ones are unusual on several features at once.

Each univariate screen tests one thing against the province; an exam point that is a bit
high on pass rate, a bit fast, a bit bunched and a bit unreachable on callbacks passes every
one of them. An Isolation Forest (Liu, Ting & Zhou 2008) over robustly standardised features
finds such points. It has no null distribution, so it is a *secondary* signal: it produces
``exam_point_outlier`` findings and reasons, not p-values for the fusion.

It explains itself per feature: the contribution of a feature is how much less anomalous
the exam point would look with that feature set to the province median.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest


class ExamPointOutliers:
    """Parameters:
        contamination: share of exam points reported as outliers.
        seed: for the forest.

    Attributes:
        median_, scale_: robust centring per feature.
        forest_: the fitted ``IsolationForest``.
    """

    def __init__(self, contamination: float = 0.05, seed: int = 0, n_estimators: int = 200):
        self.contamination = contamination
        self.seed = seed
        self.n_estimators = n_estimators

    def _standardise(self, features: np.ndarray) -> np.ndarray:
        z = (features - self.median_) / self.scale_
        return np.nan_to_num(z, nan=0.0)

    def fit(self, features: np.ndarray) -> "ExamPointOutliers":
        """``features``: exam points x features; ``nan`` where a feature is not available."""
        self.median_ = np.nanmedian(features, axis=0)
        mad = np.nanmedian(np.abs(features - self.median_), axis=0) * 1.4826
        sd = np.nanstd(features, axis=0)
        self.median_ = np.nan_to_num(self.median_)
        self.scale_ = np.where(mad > 1e-9, mad, np.where(sd > 1e-9, sd, 1.0))
        self.forest_ = IsolationForest(n_estimators=self.n_estimators, contamination=self.contamination,
                                       random_state=self.seed).fit(self._standardise(features))
        self.threshold_ = float(np.quantile(self.score_samples(features), 1 - self.contamination))
        return self

    def score_samples(self, features: np.ndarray) -> np.ndarray:
        """Higher = more anomalous (the negated sklearn score)."""
        return -self.forest_.score_samples(self._standardise(features))

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Drop in anomaly score when each feature is replaced by the province median."""
        base = self.score_samples(features)
        out = np.zeros_like(features, dtype=float)
        for f in range(features.shape[1]):
            neutral = features.copy()
            neutral[:, f] = self.median_[f]
            out[:, f] = base - self.score_samples(neutral)
        return out
