"""People per frame counted over time: someone hidden for a few frames behind another is still there.

The detector counts people in one picture. In a video a person who disappears behind
someone else for a moment has not left, so these functions count *tracks* rather than
boxes. The frames are the sampled ones, in order (every decoded frame, or every Nth);
every window and persistence below is measured in those sampled frames.

Boxes are followed with the product's :class:`~examaudit.video.tracking.BoxTracker`
(one Hungarian assignment per frame). A track is *confirmed* once it has been seen in at
least ``m`` of ``n`` consecutive sampled frames, so a one-frame false box never counts.
Three ways to count from the tracks:

``causal_counts``
    at frame ``t``, the confirmed tracks seen at ``t`` or lost for at most ``k`` frames
    (optionally only while the last box of a lost track is partly covered by a box of
    frame ``t``: hidden behind someone, rather than gone). Uses frames up to ``t`` only.
``window_counts``
    the median (or max) over frames ``t-k .. t+k`` of the number of confirmed tracks seen
    in each frame. Offline: uses frames after ``t``.
``gap_filled_counts``
    the confirmed tracks seen at ``t``, plus those seen both before and after ``t`` with at
    most ``k`` unseen frames in between. Offline; never extends a track past its last
    sighting, so someone who leaves stops counting when they are last seen.

Example:
    >>> import numpy as np
    >>> a, b = [10, 10, 50, 90], [40, 10, 80, 90]
    >>> frames = [np.array([a, b], float), np.array([a], float), np.array([a, b], float)]
    >>> ids = follow(frames, max_gap=2)
    >>> causal_counts(frames, ids, m=1, n=1, k=0).tolist()
    [2, 1, 2]
    >>> causal_counts(frames, ids, m=1, n=1, k=1).tolist()
    [2, 2, 2]
    >>> gap_filled_counts(ids, m=1, n=1, k=1).tolist()
    [2, 2, 2]
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from examaudit.video.tracking import BoxTracker

WINDOW_STATISTICS = ("median", "max")


def follow(boxes: Sequence[np.ndarray], max_gap: int) -> list[np.ndarray]:
    """Track ids (1-based) of every box of every sampled frame.

    Parameters:
        boxes: per sampled frame, ``(N, 4)`` xyxy boxes.
        max_gap: a track unseen for more than this many sampled frames is closed; a later
            box starts a new track. Must be at least the persistence ``k`` used to count,
            or a person coming back from behind someone is counted twice.
    """
    tracker = BoxTracker(max_gap_s=float(max_gap))
    return [tracker.update(float(i), np.asarray(b, np.float64).reshape(-1, 4)) for i, b in enumerate(boxes)]


def sightings(ids: Sequence[np.ndarray]) -> np.ndarray:
    """``(T, tracks)`` bool: track ``j + 1`` was seen in sampled frame ``t``."""
    n_tracks = max((int(i.max()) for i in ids if len(i)), default=0)
    seen = np.zeros((len(ids), n_tracks), bool)
    for t, frame_ids in enumerate(ids):
        seen[t, np.asarray(frame_ids, np.int64) - 1] = True
    return seen


def confirmed_at(seen: np.ndarray, m: int, n: int) -> np.ndarray:
    """Per track, the first sampled frame ending an ``n``-frame run with ``m`` sightings (``T``: never)."""
    if not 1 <= m <= n:
        raise ValueError(f"need 1 <= m <= n, got m={m}, n={n}")
    T = seen.shape[0]
    cum = np.vstack([np.zeros((1, seen.shape[1]), np.int64), np.cumsum(seen, axis=0)])
    ends = np.arange(T)
    in_window = cum[ends + 1] - cum[np.maximum(ends + 1 - n, 0)]
    ok = in_window >= m
    return np.where(ok.any(axis=0), ok.argmax(axis=0), T)


def covered_share(box: np.ndarray, others: np.ndarray) -> float:
    """The largest share of ``box``'s area that any one box of ``others`` covers."""
    others = np.asarray(others, np.float64).reshape(-1, 4)
    if not len(others):
        return 0.0
    iw = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
    ih = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
    area = max((box[2] - box[0]) * (box[3] - box[1]), 1e-9)
    return float((iw * ih).max() / area)


def causal_counts(
    boxes: Sequence[np.ndarray],
    ids: Sequence[np.ndarray],
    m: int,
    n: int,
    k: int,
    hidden_share: float | None = None,
) -> np.ndarray:
    """People at each sampled frame from frames up to it: confirmed tracks seen or lost <= ``k`` frames.

    Parameters:
        boxes, ids: the sampled frames' boxes and their :func:`follow` ids.
        m, n: a track counts from the frame it has been seen in ``m`` of the last ``n`` frames.
        k: a lost track keeps counting for this many sampled frames.
        hidden_share: if given, a lost track counts only while at least this share of its
            last box is covered by one box of the current frame (someone stands in front).

    Returns:
        ``(T,)`` int counts.
    """
    seen = sightings(ids)
    T, J = seen.shape
    since = confirmed_at(seen, m, n)
    last_t = np.full(J, -(10**9))
    last_box = np.zeros((J, 4))
    counts = np.zeros(T, np.int64)
    for t in range(T):
        frame_boxes = np.asarray(boxes[t], np.float64).reshape(-1, 4)
        frame_ids = np.asarray(ids[t], np.int64)
        last_t[frame_ids - 1] = t
        last_box[frame_ids - 1] = frame_boxes
        alive = (since <= t) & (t - last_t <= k)
        if hidden_share is not None:
            for j in np.flatnonzero(alive & ~seen[t]):
                alive[j] = covered_share(last_box[j], frame_boxes) >= hidden_share
        counts[t] = int(alive.sum())
    return counts


def _confirmed_tracks(ids: Sequence[np.ndarray], m: int, n: int) -> np.ndarray:
    """``(T, tracks)`` sightings of the tracks confirmed anywhere in the clip (offline)."""
    seen = sightings(ids)
    return seen[:, confirmed_at(seen, m, n) < seen.shape[0]]


def window_counts(ids: Sequence[np.ndarray], m: int, n: int, k: int, statistic: str = "median") -> np.ndarray:
    """The median (or max) over sampled frames ``t-k .. t+k`` of confirmed tracks seen per frame.

    The median of an even number of frames (near the clip's ends) is rounded half up.
    """
    if statistic not in WINDOW_STATISTICS:
        raise ValueError(f"statistic must be one of {WINDOW_STATISTICS}, got {statistic!r}")
    per_frame = _confirmed_tracks(ids, m, n).sum(axis=1)
    T = len(per_frame)
    out = np.zeros(T, np.int64)
    for t in range(T):
        window = per_frame[max(0, t - k): t + k + 1]
        out[t] = int(window.max()) if statistic == "max" else int(np.floor(np.median(window) + 0.5))
    return out


def gap_filled_counts(ids: Sequence[np.ndarray], m: int, n: int, k: int) -> np.ndarray:
    """Confirmed tracks seen at ``t``, or seen before and after ``t`` with at most ``k`` unseen frames between."""
    seen = _confirmed_tracks(ids, m, n)
    filled = seen.copy()
    for j in range(seen.shape[1]):
        at = np.flatnonzero(seen[:, j])
        for a, b in zip(at[:-1], at[1:]):
            if b - a - 1 <= k:
                filled[a:b, j] = True
    return filled.sum(axis=1)
