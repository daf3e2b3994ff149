"""Who is the same person from one sample to the next: IoU and centroid tracking.

Samples are seconds apart, so appearance models buy little; boxes of seated candidates barely
move and people on their feet move less than a body width between samples at the rates we
sample. Matching is one Hungarian assignment per sample (``scipy.optimize.linear_sum_assignment``)
on a cost that mixes overlap and centre distance, with a gate so far-apart boxes never match.

Example:
    >>> import numpy as np
    >>> tracker = BoxTracker()
    >>> tracker.update(0.0, np.array([[10, 10, 50, 90]], float)).tolist()
    [1]
    >>> tracker.update(2.0, np.array([[12, 11, 52, 91], [200, 10, 240, 90]], float)).tolist()
    [1, 2]
    >>> tracker.distinct(min_samples=1)
    2
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from .detector import box_iou


@dataclass
class Track:
    """One person followed across samples.

    Attributes:
        id: 1-based, in order of first sighting.
        box: the last box seen, xyxy in analysed-picture pixels.
        first_s, last_s: seconds into the footage of the first and last sighting.
        samples: how many samples saw this person.
    """

    id: int
    box: np.ndarray
    first_s: float
    last_s: float
    samples: int = 1


@dataclass
class BoxTracker:
    """Greedy-free (Hungarian) box tracker over samples.

    Parameters:
        max_gap_s: a track not seen for longer than this is closed; a later box starts a new one.
        max_shift: a box may move at most this many of its own widths between samples and still match.
        iou_weight: weight of ``1 - IoU`` in the matching cost; the rest is the normalised centre distance.

    Attributes:
        tracks_: every track so far, open or closed (kept small: a few numbers per person).
    """

    max_gap_s: float = 12.0
    max_shift: float = 1.5
    iou_weight: float = 0.5
    tracks_: list[Track] = field(default_factory=list)

    def _open(self, t_s: float) -> list[Track]:
        return [tr for tr in self.tracks_ if t_s - tr.last_s <= self.max_gap_s]

    def update(self, t_s: float, xyxy: np.ndarray) -> np.ndarray:
        """Match this sample's boxes to open tracks; return one track id per box."""
        xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
        ids = np.zeros(len(xyxy), np.int64)
        open_tracks = self._open(t_s)
        if len(xyxy) and open_tracks:
            prev = np.stack([tr.box for tr in open_tracks])
            cost = match_cost(prev, xyxy, self.iou_weight)
            gate = centre_shift(prev, xyxy) > self.max_shift
            cost[gate] = 1e6
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols):
                if cost[r, c] >= 1e6:
                    continue
                tr = open_tracks[r]
                tr.box, tr.last_s, tr.samples = xyxy[c].copy(), t_s, tr.samples + 1
                ids[c] = tr.id
        for c in np.flatnonzero(ids == 0):
            tr = Track(len(self.tracks_) + 1, xyxy[c].copy(), t_s, t_s)
            self.tracks_.append(tr)
            ids[c] = tr.id
        return ids

    def distinct(self, min_samples: int = 2) -> int:
        """Distinct people seen so far; one-sample tracks are usually detector noise."""
        return sum(1 for tr in self.tracks_ if tr.samples >= min_samples)


def centre_shift(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Centre distance between every box in ``a`` and every box in ``b``, in widths of the ``a`` box."""
    ca = (a[:, None, :2] + a[:, None, 2:]) / 2
    cb = (b[None, :, :2] + b[None, :, 2:]) / 2
    width = np.maximum(a[:, None, 2] - a[:, None, 0], 1.0)
    return np.linalg.norm(ca - cb, axis=2) / width


def match_cost(a: np.ndarray, b: np.ndarray, iou_weight: float = 0.5) -> np.ndarray:
    """``iou_weight * (1 - IoU) + (1 - iou_weight) * min(1, centre shift)`` for every pair."""
    iou = box_iou(a, b).astype(np.float64)
    return iou_weight * (1.0 - iou) + (1.0 - iou_weight) * np.minimum(1.0, centre_shift(a, b))
