"""Seat occupancy over time: which rostered seat had somebody in it, sample by sample.

Three kinds of evidence are fused per seat and sample, because none is enough alone:

- **boxes**: a person box whose bottom centre lies in the seat polygon, near where a seated
  person's box ends (the desk line), and not much taller than the seat (that would be
  someone standing in front of it). Boxes and seats are paired by one Hungarian assignment.
- **appearance**: texture of the seat region against the texture of seats the detector
  confirmed occupied in the same footage (an empty desk and floor are flat, a person is
  not), and change against the seat's own empty look, learned from samples where nothing
  covered it.
- **activity**: the seat region changed since the previous sample.

The evidence is added as log-odds, thresholded with hysteresis, and cleaned over time: short
empty stretches between occupied ones are filled (a candidate who bends down for a sample or
two is not absent) and short occupied blips are dropped (someone walking past a desk).

Everything here is pure numpy on plain arrays; the check in :mod:`.headcount` feeds it.

Example:
    >>> import numpy as np
    >>> score = np.array([3, 3, -2, 3, 3, -2, -2, -2, -2, -2], float)
    >>> smooth_occupancy(score, np.arange(10) * 2.0, fill_s=4, min_present_s=2).astype(int).tolist()
    [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

#: Side of the square a seat's upper region is resampled to for appearance features.
PATCH = 24
#: Where a seated person's box ends, as a fraction of the seat polygon's height from its top:
#: the desk hides the lap, so boxes stop around the desk's top edge.
SEAT_ANCHOR = 0.7
#: A box ending above this fraction of a seat's height is not that seat's candidate (whose box
#: ends at the desk): it is someone behind, or standing in the aisle beyond, seen over their head.
SEATED_BOTTOM_MIN = 0.3
#: Fraction of the polygon's height (from the top) used for appearance: above the desk front.
UPPER = 0.7


@dataclass(frozen=True)
class SeatMap:
    """The seats one camera sees, in analysed-picture pixels.

    Attributes:
        numbers: seat numbers as printed, e.g. ``"07"``.
        candidate_ids: who the roster puts in each seat (``None``: not rostered).
        polygons: ``(N_i, 2)`` float arrays.
        boxes: ``(S, 4)`` bounding boxes of the polygons, xyxy.
    """

    numbers: tuple[str, ...]
    candidate_ids: tuple[str | None, ...]
    polygons: tuple[np.ndarray, ...]

    @classmethod
    def from_camera(cls, camera: Any, scale: float = 1.0) -> "SeatMap":
        """Build from a :class:`examaudit.config.Camera`; ``scale`` maps its pixels to the analysed picture."""
        seats = list(getattr(camera, "seats", None) or [])
        return cls(
            tuple(s.seat for s in seats),
            tuple(s.candidate_id for s in seats),
            tuple(np.asarray(s.polygon, np.float64) * scale for s in seats),
        )

    def __len__(self) -> int:
        return len(self.numbers)

    @property
    def boxes(self) -> np.ndarray:
        if not self.polygons:
            return np.zeros((0, 4))
        return np.array([[p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()] for p in self.polygons])

    @property
    def rostered(self) -> np.ndarray:
        return np.array([c is not None for c in self.candidate_ids], bool)


def point_in_polygon(poly: np.ndarray, x: float, y: float, margin: float = 0.0) -> bool:
    """Whether ``(x, y)`` lies inside ``poly`` or within ``margin`` pixels of it."""
    return cv2.pointPolygonTest(poly.astype(np.float32), (float(x), float(y)), True) >= -margin


def assign_seated(xyxy: np.ndarray, seats: SeatMap, standing_ratio: float = 1.6) -> np.ndarray:
    """Pair person boxes with seats; return the seat index per box (``-1``: not seated).

    A box may sit in a seat when its bottom centre lies in the seat polygon (with a margin of
    a tenth of the seat's height) and it is at most ``standing_ratio`` times as tall as the
    polygon, and it does not end in the seat's top part (:data:`SEATED_BOTTOM_MIN`). The cost is
    the distance from the bottom centre to where a seated person's box ends (:data:`SEAT_ANCHOR`),
    in seat sizes, so with overlapping polygons of rows one
    behind the other each box goes to the row it belongs to.
    """
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    out = np.full(len(xyxy), -1, np.int64)
    if len(xyxy) == 0 or len(seats) == 0:
        return out
    sb = seats.boxes
    sw, sh = sb[:, 2] - sb[:, 0], sb[:, 3] - sb[:, 1]
    ax, ay = (sb[:, 0] + sb[:, 2]) / 2, sb[:, 1] + SEAT_ANCHOR * sh
    bx, by = (xyxy[:, 0] + xyxy[:, 2]) / 2, xyxy[:, 3]
    bh = xyxy[:, 3] - xyxy[:, 1]
    cost = np.hypot((bx[:, None] - ax[None]) / sw[None], (by[:, None] - ay[None]) / sh[None])
    for j, poly in enumerate(seats.polygons):
        for i in range(len(xyxy)):
            if bh[i] > standing_ratio * sh[j] or by[i] < sb[j, 1] + SEATED_BOTTOM_MIN * sh[j] or \
                    not point_in_polygon(poly, bx[i], by[i], 0.1 * sh[j]):
                cost[i, j] = 1e6
    rows, cols = linear_sum_assignment(cost)
    for r, c in zip(rows, cols):
        if cost[r, c] < 1e6:
            out[r] = c
    return out


def heads_in_seats(xyxy: np.ndarray, seats: SeatMap) -> np.ndarray:
    """``(S,)`` bool: some box's head (its top centre, a tenth of its height down) lies in the
    upper part of the seat, where a seated candidate's head is.

    Witnesses a candidate whose body the detector only boxed together with the person in front
    (one box from a back-row head to a front-row desk), which :func:`assign_seated` rightly
    does not pair with the seat.
    """
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    sb = seats.boxes
    if len(xyxy) == 0 or len(sb) == 0:
        return np.zeros(len(sb), bool)
    hx = (xyxy[:, 0] + xyxy[:, 2]) / 2
    hy = xyxy[:, 1] + 0.1 * (xyxy[:, 3] - xyxy[:, 1])
    inside = (hx[:, None] >= sb[None, :, 0]) & (hx[:, None] <= sb[None, :, 2]) & \
        (hy[:, None] >= sb[None, :, 1]) & (hy[:, None] <= sb[None, :, 1] + UPPER * (sb[None, :, 3] - sb[None, :, 1]))
    return inside.any(axis=0)


def seat_patches(gray: np.ndarray, seats: SeatMap) -> np.ndarray:
    """The upper part of every seat region resampled to ``PATCH x PATCH``: ``(S, PATCH, PATCH)`` uint8.

    ``gray`` is the analysed picture in grey levels (same pixels as the seat map).
    """
    h, w = gray.shape[:2]
    out = np.zeros((len(seats), PATCH, PATCH), np.uint8)
    for j, (x0, y0, x1, y1) in enumerate(seats.boxes):
        ya, yb = int(max(0, y0)), int(min(h, y0 + UPPER * (y1 - y0)))
        xa, xb = int(max(0, x0)), int(min(w, x1))
        if yb - ya >= 2 and xb - xa >= 2:
            out[j] = cv2.resize(gray[ya:yb, xa:xb], (PATCH, PATCH), interpolation=cv2.INTER_AREA)
    return out


#: Samples per block in the patch measures below. A whole recording at once would hold several
#: float copies of every patch: 1 h at 2 s with 30 seats is 31 MB of patches but ~450 MB of
#: temporaries; in blocks the temporaries stay under 20 MB.
_BLOCK = 256


def _by_block(fn, *arrays: np.ndarray) -> np.ndarray:
    """``fn`` over blocks of the leading axis of ``arrays`` (broadcast against each other), joined."""
    n = max(a.shape[0] if a.ndim == 4 else 1 for a in arrays)
    if n <= _BLOCK or not all(a.ndim == 4 for a in arrays if a.ndim >= 4):
        return fn(*arrays)
    parts = [fn(*(a[i:i + _BLOCK] if a.ndim == 4 else a for a in arrays)) for i in range(0, n, _BLOCK)]
    return np.concatenate(parts, axis=0)


def patch_texture(patches: np.ndarray) -> np.ndarray:
    """Mean gradient magnitude of each patch (any leading shape); flat floor and desks score low."""
    def texture(block: np.ndarray) -> np.ndarray:
        p = block.astype(np.float32)
        gx = np.abs(np.diff(p, axis=-1))[..., :-1, :]
        gy = np.abs(np.diff(p, axis=-2))[..., :, :-1]
        return np.hypot(gx, gy).mean(axis=(-1, -2))

    return _by_block(texture, patches) if patches.ndim == 4 else texture(patches)


def patch_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute grey-level difference of patches, after removing each patch's mean brightness."""
    def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = a.astype(np.float32)
        b = b.astype(np.float32)
        a = a - a.mean(axis=(-1, -2), keepdims=True)
        b = b - b.mean(axis=(-1, -2), keepdims=True)
        return np.abs(a - b).mean(axis=(-1, -2))

    return _by_block(distance, a, b) if a.ndim == 4 and b.ndim == 4 else distance(a, b)


@dataclass
class SeatEvidence:
    """Per-sample, per-seat evidence, each ``(T, S)``.

    Attributes:
        box: confidence of the box paired with the seat (0: none).
        texture: appearance as occupied-likeness in 0..1 from texture (0.5: no opinion).
        change: 0..1 difference from the seat's own empty look (nan: no empty look known).
        activity: 0..1 change since the previous sample.
        score: fused log-odds of "occupied".
    """

    box: np.ndarray
    texture: np.ndarray
    change: np.ndarray
    activity: np.ndarray
    score: np.ndarray


def fuse_evidence(
    box_conf: np.ndarray,
    patches: np.ndarray,
    valid: np.ndarray,
    *,
    min_reference: int = 3,
) -> SeatEvidence:
    """Turn boxes and seat patches over a whole recording into occupancy log-odds.

    Parameters:
        box_conf: ``(T, S)`` confidence of the box paired with each seat, 0 for none.
        patches: ``(T, S, PATCH, PATCH)`` uint8 seat patches.
        valid: ``(T,)`` samples whose picture can be trusted; only they teach references.
        min_reference: samples needed before a learned reference is used.
    """
    box_conf = np.asarray(box_conf, np.float64)
    T, S = box_conf.shape
    valid = np.asarray(valid, bool)
    hit = box_conf > 0
    tex = patch_texture(patches) if T else np.zeros((0, S))
    # Occupied texture level: seats the detector confirmed, across the whole room.
    confirmed = tex[hit & valid[:, None]]
    if confirmed.size >= min_reference:
        level = float(np.median(confirmed))
        texture = np.clip((tex / max(level, 1e-6) - 0.35) / 0.3, 0.0, 1.0)
    else:
        texture = np.full((T, S), 0.5)
    # Each seat's own empty look: samples with no box and a flat, desk-like region.
    change = np.full((T, S), np.nan)
    for j in range(S):
        empty = valid & ~hit[:, j] & (texture[:, j] < 0.5)
        if empty.sum() >= min_reference:
            ref = np.median(patches[empty, j].astype(np.float32), axis=0)
            d = patch_distance(patches[:, j], ref)
            base = d[empty]
            noise = float(np.median(base) + 3 * 1.4826 * np.median(np.abs(base - np.median(base)))) + 2.0
            change[:, j] = np.clip((d / noise - 1.5) / 1.5, 0.0, 1.0)
    activity = np.zeros((T, S))
    if T > 1:
        step = patch_distance(patches[1:], patches[:-1])
        both = valid[1:] & valid[:-1]
        ref = step[both] if both.any() else step.ravel()
        noise = float(np.median(ref) + 3 * 1.4826 * np.median(np.abs(ref - np.median(ref)))) + 2.0 if ref.size else 2.0
        activity[1:] = np.clip((step / noise - 1.0) / 2.0, 0.0, 1.0)
    looks = np.where(np.isnan(change), texture, (texture + change) / 2)
    # A confident box outweighs a flat look; a weak box on a desk that looks empty does not.
    score = np.where(hit, 1.0 + np.clip(box_conf, 0, 1) * 3.0, -0.5) + 5.0 * (looks - 0.5) + 0.5 * activity
    return SeatEvidence(box_conf, texture, change, activity, score)


def smooth_occupancy(
    score: np.ndarray,
    t_s: np.ndarray,
    valid: np.ndarray | None = None,
    *,
    enter: float = 0.5,
    leave: float = -0.5,
    fill_s: float = 10.0,
    min_present_s: float = 4.0,
    confirmed: np.ndarray | None = None,
    min_confirmed: float = 0.0,
) -> np.ndarray:
    """Occupied yes/no per sample for one seat, from fused log-odds.

    Hysteresis: a seat becomes occupied above ``enter`` and empty below ``leave``; in between
    it keeps its state. Untrusted samples (``valid`` false) carry the state on. Then empty runs
    of at most ``fill_s`` seconds between occupied ones are filled, and occupied runs shorter
    than ``min_present_s`` are dropped. A run of ``k`` samples lasts ``k`` sampling steps.

    ``confirmed`` (per sample: a person box was paired with the seat) makes the detector the
    witness: an occupied run in which fewer than ``min_confirmed`` of the trusted samples (and
    never fewer than one) had a box is dropped. Appearance bridges the samples the detector
    misses but cannot seat somebody it never saw: a textured backdrop (a blackboard, a poster)
    behind an empty desk looks as busy as a person.
    """
    score = np.asarray(score, np.float64)
    n = len(score)
    if n == 0:
        return np.zeros(0, bool)
    valid = np.ones(n, bool) if valid is None else np.asarray(valid, bool)
    t_s = np.asarray(t_s, np.float64)
    dt = float(np.median(np.diff(t_s))) if n > 1 else 1.0
    state = np.zeros(n, bool)
    cur = False
    first = next((i for i in range(n) if valid[i]), None)
    if first is not None:
        cur = bool(score[first] > (enter + leave) / 2)
    for i in range(n):
        if valid[i]:
            if score[i] > enter:
                cur = True
            elif score[i] < leave:
                cur = False
        state[i] = cur
    for value, limit, inner_only in ((False, fill_s, True), (True, min_present_s, False)):
        for a, b in runs(state == value):
            if inner_only and (a == 0 or b == n):
                continue
            if (b - a) * dt <= limit + 1e-9 and (b - a) < n:
                state[a:b] = not value
    if confirmed is not None:
        confirmed = np.asarray(confirmed, bool)
        for a, b in runs(state):
            seen = valid[a:b]
            hits = int((confirmed[a:b] & seen).sum())
            if hits == 0 or hits < min_confirmed * max(1, int(seen.sum())):
                state[a:b] = False
    return state


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` index ranges where ``mask`` is true."""
    mask = np.asarray(mask, bool)
    if mask.size == 0:
        return []
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def seat_table(rows: Sequence[dict[str, Any]], seats: SeatMap, every_s: float | None = None) -> list[dict[str, Any]]:
    """Rows of ``seats.csv``: when each seat was first and last seen occupied, and for how long.

    Reads the ``seat_<number>`` columns of the samples (trusted samples only); minutes present
    count each occupied sample as one sampling interval.
    """
    t = np.array([float(r["t_s"]) for r in rows]) if rows else np.zeros(0)
    dt = every_s if every_s else (float(np.median(np.diff(t))) if len(t) > 1 else 0.0)
    out = []
    for num, cid in zip(seats.numbers, seats.candidate_ids):
        col = f"seat_{num}"
        seen = [r for r in rows if r.get(col) and r.get("trusted", True) is not False]
        first, last = (seen[0], seen[-1]) if seen else (None, None)
        out.append({
            "seat": num,
            "candidate_id": cid,
            "first_seen_s": None if first is None else first["t_s"],
            "last_seen_s": None if last is None else last["t_s"],
            "minutes_present": round(len(seen) * dt / 60.0, 2),
            "first_seen_wall": None if first is None else first.get("wall_time"),
            "last_seen_wall": None if last is None else last.get("wall_time"),
        })
    return out


def propose_seat_map(
    boxes: Sequence[np.ndarray],
    *,
    min_share: float = 0.3,
    scale: float = 1.0,
) -> list[dict[str, Any]]:
    """Propose seats from where people sat: clusters of stable box bottoms.

    Parameters:
        boxes: per sample, ``(N, 4)`` person boxes (analysed-picture pixels).
        min_share: a place must hold a box in at least this share of samples.
        scale: divide coordinates by this to get camera pixels (the analysed picture may be smaller).

    Returns:
        ``[{"seat": "01", "polygon": [[x, y], ...], "support": share}]``, numbered back row
        first, left to right, in camera pixels. An auditor confirms them before use.
    """
    from sklearn.cluster import DBSCAN

    samples = [np.asarray(b, np.float64).reshape(-1, 4) for b in boxes]
    n = len(samples)
    allb = np.concatenate(samples) if n else np.zeros((0, 4))
    if len(allb) == 0:
        return []
    which = np.concatenate([np.full(len(b), i) for i, b in enumerate(samples)])
    width = float(np.median(allb[:, 2] - allb[:, 0]))
    pts = np.stack([(allb[:, 0] + allb[:, 2]) / 2, allb[:, 3]], axis=1)
    labels = DBSCAN(eps=0.3 * width, min_samples=max(2, int(min_share * n * 0.5))).fit_predict(pts)
    places = []
    for lab in set(labels.tolist()) - {-1}:
        m = labels == lab
        share = len(set(which[m].tolist())) / n
        if share < min_share:
            continue
        x0, y0, x1, y1 = np.median(allb[m], axis=0)
        h = y1 - y0
        # Reach a little below the box: the desk front, where the seat polygon ends.
        places.append((x0, y0, x1, y1 + 0.4 * h, share))
    if not places:
        return []
    places.sort(key=lambda p: p[3])
    # Rows: a new row starts when the bottom jumps by more than half a box height.
    rows: list[list[tuple]] = []
    for p in places:
        if rows and p[3] - rows[-1][-1][3] < 0.5 * (p[3] - p[1]) * 0.7:
            rows[-1].append(p)
        else:
            rows.append([p])
    out = []
    for row in rows:
        for x0, y0, x1, y1, share in sorted(row, key=lambda p: p[0]):
            poly = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
            out.append({
                "seat": f"{len(out) + 1:02d}",
                "polygon": [[round(float(x) / scale, 1), round(float(y) / scale, 1)] for x, y in poly],
                "support": round(float(share), 3),
            })
    return out
