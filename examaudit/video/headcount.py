"""Who is in the exam room: people per sample, seats, headcount and the people findings.

:class:`HeadcountCheck` is a :class:`~examaudit.video.analyze.SampleCheck`. While samples
stream past it only detects people and keeps a few small arrays per sample (boxes, 24x24
seat patches, a grey thumbnail); everything that needs the whole recording (seat
references, smoothing, tracking, findings) happens in ``finish``, after the integrity
check has marked which samples can be trusted.

Columns it adds to ``samples.csv``:

``detections`` (detector boxes), ``detection_reused`` (1: the picture had not changed, the
last detections were reused), ``persons`` (people visible: seated + standing + invigilators),
``seated`` (occupied seats), ``standing`` (people on their feet outside the invigilator
zone), ``invigilators`` (people in the invigilator zone), ``tracks`` (distinct people seen
so far) and ``seat_<number>`` (0/1 per seat).

Without a seat map nobody can be told apart as seated, so ``standing`` holds everyone outside
the invigilator zone and ``persons`` is the detector's count: the rules that drop a box
(a second box on one person, a weak box over seated candidates) and add foreground blobs
need the seats' positions and depth scale.

Example:
    >>> from examaudit.video.analyze import CameraContext
    >>> check = HeadcountCheck(CameraContext())      # the detector is created on first use
    >>> check.name
    'headcount'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .analyze import CameraContext, Draft
from .people_findings import (
    PeopleTimeline,
    extra_person_drafts,
    invigilator_drafts,
    lingering_drafts,
    schedule_span,
    seat_drafts,
)
from .people_motion import backgrounds, foreground_mask, motion_thumbnail, seat_height_model, standing_blobs
from .people_rules import PeopleThresholds
from .sampler import Sample
from .seats import (SEAT_ANCHOR, SEATED_BOTTOM_MIN, UPPER, SeatMap, assign_seated, fuse_evidence, heads_in_seats, point_in_polygon,
                    propose_seat_map, seat_patches, smooth_occupancy)
from .tracking import BoxTracker

#: Width of the thumbnail the "did anything change?" test compares.
CHANGE_WIDTH = 96
CHANGE_BLOCK = 8


def change_thumbnail(gray: np.ndarray) -> np.ndarray:
    h, w = gray.shape[:2]
    return cv2.resize(gray, (CHANGE_WIDTH, max(CHANGE_BLOCK, int(round(h * CHANGE_WIDTH / w)))), interpolation=cv2.INTER_AREA)


def block_changes(a: np.ndarray, b: np.ndarray, block: int = CHANGE_BLOCK) -> np.ndarray:
    """Mean grey-level change of every ``block x block`` tile between two thumbnails (``inf``: sizes differ)."""
    if a.shape != b.shape:
        return np.full((1, 1), np.inf, np.float32)
    d = cv2.absdiff(a, b).astype(np.float32)
    h, w = (d.shape[0] // block) * block, (d.shape[1] // block) * block
    return d[:h, :w].reshape(h // block, block, w // block, block).mean(axis=(1, 3))


def largest_block_change(a: np.ndarray, b: np.ndarray, block: int = CHANGE_BLOCK) -> float:
    """The largest mean grey-level change of any ``block x block`` tile between two thumbnails."""
    tiles = block_changes(a, b, block)
    return float(tiles.max()) if tiles.size else 0.0


class ChangeGate:
    """Decides per sample whether the picture changed since the last detected one.

    A static room still changes between samples: compression noise everywhere, the burned-in
    clock every second, seated candidates swaying a pixel or two. So each ``8x8`` block of the
    change thumbnail gets its own noise level, learned from the first ``learn`` pairs of
    consecutive samples (the median, so one person walking past does not raise it), and a
    sample counts as unchanged when no block moved more than ``factor`` times its own level
    plus ``margin`` grey levels. After ``max_reuse`` reused samples in a row the detector runs
    anyway, so slow drift cannot carry stale boxes for long.

    Example:
        >>> gate = ChangeGate(learn=2)
        >>> a = np.full((16, 16), 100, np.uint8)
        >>> seen = []
        >>> for _ in range(4):
        ...     same = gate.unchanged(a)
        ...     if not same:
        ...         gate.detected(a)
        ...     seen.append(same)
        >>> seen
        [False, False, False, True]
    """

    def __init__(self, learn: int = 6, factor: float = 2.0, margin: float = 3.0, max_reuse: int = 9):
        self.learn, self.factor, self.margin, self.max_reuse = learn, factor, margin, max_reuse
        self.level_: np.ndarray | None = None
        self._pairs: list[np.ndarray] = []
        self._prev: np.ndarray | None = None
        self._ref: np.ndarray | None = None
        self._run = 0

    def unchanged(self, thumb: np.ndarray) -> bool:
        """Whether ``thumb`` matches the last detected sample; call :meth:`detected` when it does not."""
        prev, self._prev = self._prev, thumb
        if self.level_ is None:
            if prev is not None and prev.shape == thumb.shape:
                self._pairs.append(block_changes(thumb, prev))
                if len(self._pairs) >= self.learn:
                    self.level_ = np.median(np.stack(self._pairs), axis=0)
            return False
        if self._ref is None or self._run >= self.max_reuse:
            return False
        d = block_changes(thumb, self._ref)
        same = d.shape == self.level_.shape and bool(np.all(d <= self.factor * self.level_ + self.margin))
        self._run = self._run + 1 if same else 0
        return same

    def detected(self, thumb: np.ndarray) -> None:
        self._ref, self._run = thumb, 0


class HeadcountCheck:
    """People, seats and headcount per sample, and the people findings.

    Parameters:
        context: the camera the footage comes from (seats, invigilator zone, schedule).
        detector: anything with ``detect(image_bgr) -> Detections``; by default built from
            ``thresholds.detector`` on first use, so the check pickles to worker processes.
        thresholds: the rules that turn what is seen into findings.

    Attributes:
        stats: samples detected and samples whose detections were reused.
        seat_rows: rows of ``seats.csv`` after ``finish``.
        proposed_seats: a seat map proposed from where people sat, when the config has none.
        timeline: the :class:`PeopleTimeline` behind the findings, after ``finish``.
    """

    name = "headcount"

    def __init__(self, context: CameraContext, detector: Any | None = None, thresholds: PeopleThresholds | None = None):
        self.context = context
        self.detector = detector
        self._owns_detector = detector is None
        self.thresholds = thresholds or PeopleThresholds()
        self.stats = {"detected": 0, "reused": 0}
        self.seat_rows: list[dict[str, Any]] = []
        self.proposed_seats: list[dict[str, Any]] = []
        self.timeline: PeopleTimeline | None = None
        self._seats: SeatMap | None = None
        self._scale = 1.0
        self._fg_scale = 1.0
        self._zone: np.ndarray | None = None
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # thumb, boxes, conf
        self._gate: ChangeGate | None = None
        self._t: list[float] = []
        self._boxes: list[np.ndarray] = []
        self._seat_of: list[np.ndarray] = []
        self._conf: list[np.ndarray] = []
        self._patches: list[np.ndarray] = []
        self._thumbs: list[np.ndarray] = []
        self._size: tuple[int, int] = (0, 0)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_last"] = None
        state["_gate"] = None
        return state

    def _detector(self):
        if self.detector is None:
            from .detector import load_detector, tile_grid_for

            spec = dict(self.thresholds.detector or {})
            seats = self._seats
            self.detector = load_detector(spec)
            if "tiles" not in spec and seats is not None and len(seats):
                # Tiles from the room's geometry and the model's own rule: the smallest (farthest)
                # seat must fill enough of a tile for the model to box whoever sits there.
                sb = seats.boxes
                share = self.thresholds.tile_min_share or self.detector.tile_min_share
                self.detector.tiles = tile_grid_for(self._size, float((sb[:, 3] - sb[:, 1]).min()),
                                                    min_share=share, least=self.detector.least_tiles)
            det = self.detector
            # How the model was run is part of the evidence, next to which model it was.
            self.stats["detector"] = {"layout": getattr(det, "layout", None), "threshold": getattr(det, "threshold", None),
                                      "tiles": list(det.tiles) if getattr(det, "tiles", None) else None}
        if "model" not in self.stats and getattr(self.detector, "model_path", None) is not None:
            from ..outputs import sha256_file

            # Which weights saw the room is part of the evidence: a finding must be reproducible
            # with the same model, and a swapped-in detector must show in the findings document.
            path = Path(self.detector.model_path)
            self.stats["model"] = {"path": str(path), "sha256": sha256_file(path), "size_bytes": path.stat().st_size}
        return self.detector

    def _setup(self, image: np.ndarray) -> None:
        h, w = image.shape[:2]
        self._size = (w, h)
        frame = getattr(self.context, "frame_size", None)
        self._scale = (w / frame[0]) if frame and frame[0] else 1.0
        cam = self.context.camera
        self._seats = SeatMap.from_camera(cam, self._scale) if cam is not None else SeatMap((), (), ())
        zone = getattr(cam, "invigilator_zone", None) if cam is not None else None
        self._zone = None if zone is None else np.asarray(zone, np.float64) * self._scale

    # ------------------------------------------------------------------ streaming
    def observe(self, sample: Sample, row: dict[str, Any]) -> None:
        image = sample.image
        if self._seats is None:
            self._setup(image)
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        thumb = change_thumbnail(gray)
        if self._gate is None:
            self._gate = ChangeGate(margin=self.thresholds.reuse_diff)
        reused = self._gate.unchanged(thumb) and self._last is not None
        if reused:
            boxes, conf = self._last[1], self._last[2]
            self.stats["reused"] += 1
        else:
            dets = self._detector().detect(image)
            boxes, conf = dets.xyxy.astype(np.float32), dets.confidence.astype(np.float32)
            self._last = (thumb, boxes, conf)
            self._gate.detected(thumb)
            self.stats["detected"] += 1
        seats = self._seats
        self._t.append(float(sample.t_s))
        self._boxes.append(boxes)
        self._conf.append(conf)
        self._seat_of.append(assign_seated(boxes, seats, self.thresholds.standing_ratio))
        self._patches.append(seat_patches(gray, seats))
        if self.thresholds.motion:
            self._thumbs.append(motion_thumbnail(gray))
        row["detections"] = int(len(boxes))
        row["detection_reused"] = bool(reused)

    # ------------------------------------------------------------------ whole recording
    def end_sampling(self) -> None:
        """Free the ONNX session (100+ MB native) we built ourselves: deciding needs no detector,
        and the checks that finish before this one (OSD reading) should not carry it."""
        if self._owns_detector:
            self.detector = None
        self._last = None

    def finish(self, rows: list[dict[str, Any]]) -> list[Draft]:
        self.end_sampling()
        th = self.thresholds
        T = len(self._t)
        if T == 0 or len(rows) != T:
            return []
        seats = self._seats or SeatMap((), (), ())
        S = len(seats)
        t = np.asarray(self._t)
        valid = np.array([r.get("trusted", True) is not False for r in rows], bool)

        box_conf = np.zeros((T, S))
        for i in range(T):
            for b, j in enumerate(self._seat_of[i]):
                if j >= 0:
                    box_conf[i, j] = self._conf[i][b]
        patches = np.stack(self._patches) if S else np.zeros((T, 0, 1, 1), np.uint8)
        ev = fuse_evidence(box_conf, patches, valid) if S else None
        witness = (box_conf > 0) | np.array([heads_in_seats(self._boxes[i], seats) for i in range(T)]).reshape(T, S)

        def seat_states(seen: np.ndarray) -> np.ndarray:
            occ = np.zeros((T, S), bool)
            for j in range(S):
                occ[:, j] = smooth_occupancy(ev.score[:, j], t, seen[:, j], fill_s=th.seat_fill_s,
                                             min_present_s=th.seat_min_present_s,
                                             confirmed=witness[:, j] if th.seat_min_confirmed > 0 else None,
                                             min_confirmed=th.seat_min_confirmed)
            return occ

        occupied = seat_states(np.repeat(valid[:, None], S, axis=1))

        blobs, fg = self._standing_blobs(t, valid)
        height_model = seat_height_model(seats.boxes, self._size[1]) if S else None
        cam = self.context.camera
        allowed = int(getattr(cam, "invigilators_allowed", 1) if cam is not None else 1)
        sb = seats.boxes
        # Two passes at most: a person standing in front of a seat hides its candidate, so the
        # seat's samples they cover carry its state on (like untrusted ones) instead of reading empty.
        hidden: np.ndarray | None = None
        for _pass in range(2):
            tracker = BoxTracker()
            rostered_known = bool(seats.rostered.any())
            excess = np.zeros(T, np.int64)
            zone_present = np.zeros(T, bool)
            beside = np.zeros((T, S), bool)
            all_boxes, all_kinds, all_ids = [], [], []
            for i in range(T):
                boxes, seat_of = self._boxes[i].astype(np.float64), self._seat_of[i]
                kept, kinds = [], []
                conf = self._conf[i]
                seated = seat_of >= 0
                for k, (b, j) in enumerate(zip(boxes, seat_of)):
                    if j >= 0:
                        kept.append(b), kinds.append("seated")
                    # Without a seat map the detector's own NMS is the only de-duplication: a box
                    # mostly inside another is as often somebody half hidden behind them (the real
                    # store-aisle clip) as a second box on one person, and no finding rests on the count.
                    elif not (S and _part_of_another(k, boxes, seated)):
                        if fg[i] is not None:
                            # The detector often stops a standing person's box at the thighs; their
                            # feet (which say where they stand) are where their foreground ends.
                            b = _down_to_feet(b, fg[i], self._fg_scale)
                        role = self._role(b)
                        if role == "standing" and not self._on_feet(b, occupied[i], height_model):
                            continue
                        # A weak box over seated people (one box across a back-row head and a front-row
                        # candidate) looks like someone standing; it must differ from the usual room.
                        # Without a seat map nobody is known to be seated, and seated people are the
                        # usual room: the rule would drop every one of them.
                        if S and role == "standing" and conf[k] < th.weak_standing_conf and \
                                fg[i] is not None and _foreground_share(b, fg[i], self._fg_scale) < th.standing_foreground:
                            continue
                        kept.append(b), kinds.append(role)
                # Only people on their feet already counted hide a blob. Not a box set aside (one box across
                # a seated candidate and the person beside them), nor a seated box: a person-tall blob
                # reaching the floor in front of a desk is somebody standing there, whose upper body the
                # detector may have paired with the seat behind them.
                feet = np.asarray([b for b, k in zip(kept, kinds) if k != "seated"], np.float64).reshape(-1, 4)
                for b in blobs[i]:
                    role = self._role(b, blob=True)
                    if not _covered(b, feet) and \
                            (role != "standing" or self._on_feet(b, occupied[i], height_model)):
                        kept.append(b), kinds.append(role)
                kb = np.asarray(kept, np.float64).reshape(-1, 4)
                ids = tracker.update(float(t[i]), kb)
                # A box in the zone too short to be someone standing there is part of the invigilator
                # (legs boxed apart from the upper body), not one more person.
                n_zone_det = sum(1 for k, b in zip(kinds, kept) if k == "invigilator" and not _is_blob(b, blobs[i])
                                 and (height_model is None or b[3] - b[1] >= th.standing_ratio * height_model(b[3])))
                zone_present[i] = "invigilator" in kinds
                n_zone = max(n_zone_det, int(zone_present[i]))
                standing = [b for k, b in zip(kinds, kept) if k == "standing"]
                unrostered = int((occupied[i] & ~seats.rostered).sum()) if rostered_known else 0
                excess[i] = max(0, len(standing) + n_zone - allowed) + unrostered
                for b in standing:
                    # One box over a lingerer and the candidate beside them is centred between the two;
                    # the lingerer's feet are where the foreground is at the box's bottom.
                    fx = _feet_x(b, fg[i], self._fg_scale) if fg[i] is not None else None
                    j = self._beside_seat(b, sb, occupied[i], fx)
                    if j >= 0:
                        beside[i, j] = True
                row = rows[i]
                row["persons"] = int(occupied[i].sum()) + len(standing) + n_zone
                row["seated"] = int(occupied[i].sum())
                row["standing"] = len(standing)
                row["invigilators"] = n_zone
                row["tracks"] = tracker.distinct()
                for j, num in enumerate(seats.numbers):
                    row[f"seat_{num}"] = int(occupied[i, j])
                all_boxes.append(kb), all_kinds.append(kinds), all_ids.append(ids)
            hid = _hidden_seats(all_boxes, all_kinds, sb) if S else np.zeros((T, 0), bool)
            if hidden is not None or not hid.any():
                break
            hidden = hid
            occupied = seat_states(valid[:, None] & ~hid)

        tl = PeopleTimeline(t, valid, occupied, excess, zone_present, beside, all_boxes, all_kinds, all_ids,
                            [r.get("wall_time") for r in rows])
        self.timeline = tl
        from .seats import seat_table

        self.seat_rows = seat_table(rows, seats)
        if S == 0:
            scale = self._scale or 1.0
            stable = [self._boxes[i][self._conf[i] >= 0.3] for i in range(T) if valid[i]]
            self.proposed_seats = propose_seat_map(stable, scale=scale)

        drafts: list[Draft] = []
        if S:
            span = None
            if self.context.config is not None and self.context.room is not None:
                span = schedule_span(self.context.wall_start(), self.context.config.sessions_for_room(self.context.room))
            drafts += seat_drafts(tl, seats, th, span)
            drafts += lingering_drafts(tl, seats, th)
            # Without a seat map nobody can be told apart as a seated candidate, so everyone would
            # count as extra: the proposed map is for the auditor to confirm, not to accuse on.
            drafts += extra_person_drafts(tl, seats, th, allowed)
        else:
            self.stats["seat_map"] = "none: seat findings and extra_person skipped, see proposed_seats.yaml"
        zone = None if self._zone is None else self._zone.tolist()
        drafts += invigilator_drafts(tl, seats, th, zone, allowed)
        for d in drafts:
            d.details.setdefault("detection", {"detected": self.stats["detected"], "reused": self.stats["reused"]})
        return drafts

    # ------------------------------------------------------------------ helpers
    def _standing_blobs(self, t: np.ndarray, valid: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """Person-tall foreground blobs per sample, and the foreground mask (thumbnail pixels) they came from."""
        T = len(t)
        if not self.thresholds.motion or len(self._thumbs) != T or T < 5:
            return [np.zeros((0, 4))] * T, [None] * T
        thumbs = np.stack(self._thumbs)
        k = self._size[0] / thumbs.shape[2] if thumbs.shape[2] else 1.0
        self._fg_scale = k
        idx, bgs = backgrounds(thumbs, t, valid, self.thresholds.background_window_s)
        model = seat_height_model(self._seats.boxes / k if self._seats is not None else np.zeros((0, 4)), thumbs.shape[1])
        least = lambda y: self.thresholds.standing_ratio * model(y)  # noqa: E731
        # Seats give the depth scale that tells a person-tall blob from a shadow or a moved chair;
        # without them a blob is a guess, and an empty room where someone usually stood is a ghost
        # of them (measured on the real clips: +1 in every empty frame of one-by-one).
        mapped = self._seats is not None and len(self._seats) > 0
        out, masks = [], []
        for i in range(T):
            if valid[i]:
                out.append(standing_blobs(thumbs[i], bgs[idx[i]], least) * k if mapped else np.zeros((0, 4)))
                masks.append(foreground_mask(thumbs[i], bgs[idx[i]]))
            else:
                out.append(np.zeros((0, 4))), masks.append(None)
        return out, masks

    def _role(self, b: np.ndarray, blob: bool = False) -> str:
        if self._zone is not None and point_in_polygon(self._zone, (b[0] + b[2]) / 2, b[3], 0.02 * self._size[1]):
            return "invigilator"
        return "standing"

    def _on_feet(self, b: np.ndarray, occupied: np.ndarray, height_model) -> bool:
        """Whether a box not paired with a seat can be somebody on their feet.

        Seats give the depth scale: someone standing with their feet at the box's bottom is at
        least ``standing_ratio`` seat heights tall there. And feet stand on the floor, not on a
        desk: a box whose bottom lies inside an occupied seat above its desk line is a seated
        candidate merged with whoever sits behind them (or with a neighbour), not a person. Feet in
        the seat's top part are on the floor behind that candidate's head (someone standing at the
        desk behind), not on a desk.
        """
        if height_model is None:
            return True
        fx, fy = (b[0] + b[2]) / 2, b[3]
        if b[3] - b[1] < self.thresholds.standing_ratio * height_model(fy):
            return False
        seats = self._seats
        for j in np.flatnonzero(occupied):
            x0, y0, x1, y1 = seats.boxes[j]
            if y0 + SEATED_BOTTOM_MIN * (y1 - y0) <= fy <= y0 + (SEAT_ANCHOR + 0.1) * (y1 - y0) and \
                    point_in_polygon(seats.polygons[j], fx, fy):
                return False
        return True

    def _beside_seat(self, b: np.ndarray, sb: np.ndarray, occupied: np.ndarray, fx: float | None = None) -> int:
        """The occupied seat whose front edge this person's feet are next to, or -1.

        ``fx``: where the feet are across the picture, when known better than the box's centre.
        """
        if len(sb) == 0:
            return -1
        fx, fy = ((b[0] + b[2]) / 2 if fx is None else fx), b[3]
        sw = np.maximum(sb[:, 2] - sb[:, 0], 1.0)
        dx = np.maximum.reduce([sb[:, 0] - fx, fx - sb[:, 2], np.zeros(len(sb))]) / sw
        dy = np.abs(fy - sb[:, 3]) / sw
        d = np.hypot(dx, 2 * dy)
        d[~occupied] = np.inf
        j = int(np.argmin(d))
        return j if d[j] <= self.thresholds.lingering_radius else -1

    def outputs(self) -> dict[str, Any]:
        """Tables for :func:`~examaudit.video.analyze.write_analysis`: ``seats.csv`` rows, proposed seats, stats."""
        return {"seats": self.seat_rows, "proposed_seats": self.proposed_seats, "people_stats": dict(self.stats)}


def _covered(blob: np.ndarray, boxes: np.ndarray, share: float = 0.3) -> bool:
    """Whether one of ``boxes`` already holds more than ``share`` of this box."""
    if len(boxes) == 0:
        return False
    ix = np.clip(np.minimum(blob[2], boxes[:, 2]) - np.maximum(blob[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(blob[3], boxes[:, 3]) - np.maximum(blob[1], boxes[:, 1]), 0, None)
    area = max((blob[2] - blob[0]) * (blob[3] - blob[1]), 1e-9)
    return bool((ix * iy / area).max() > share)


def _foreground_share(box: np.ndarray, mask: np.ndarray, scale: float) -> float:
    """Share of ``box`` (analysed pixels) that differs from the room's usual look (``mask`` in thumbnail pixels)."""
    h, w = mask.shape
    x0, y0 = int(max(0, box[0] / scale)), int(max(0, box[1] / scale))
    x1, y1 = int(min(w, np.ceil(box[2] / scale))), int(min(h, np.ceil(box[3] / scale)))
    if x1 <= x0 or y1 <= y0:
        return 0.0
    return float(mask[y0:y1, x0:x1].mean())


def _down_to_feet(box: np.ndarray, mask: np.ndarray, scale: float, share: float = 0.3, most: float = 0.4) -> np.ndarray:
    """``box`` with its bottom moved down over foreground rows right below it (at most ``most`` of
    its height): legs the detector left out. ``mask`` is the foreground in thumbnail pixels (``scale``
    analysed pixels each); a row counts when ``share`` of the box's middle half differs from the
    usual room. People who are always there are not foreground, so their boxes never grow.

    Example:
        >>> m = np.zeros((40, 40), np.uint8); m[5:35, 10:20] = 1
        >>> _down_to_feet(np.array([10.0, 5, 20, 25]), m, 1.0).tolist()
        [10.0, 5.0, 20.0, 33.0]
    """
    h, w = mask.shape
    bw = box[2] - box[0]
    x0, x1 = int(max(0, (box[0] + 0.25 * bw) / scale)), int(min(w, np.ceil((box[2] - 0.25 * bw) / scale)))
    y0 = int(box[3] / scale)
    y1 = int(min(h, np.ceil((box[3] + most * (box[3] - box[1])) / scale)))
    if x1 <= x0 or y1 <= y0:
        return box
    rows = mask[y0:y1, x0:x1].mean(axis=1) >= share
    n = int(np.argmin(rows)) if not rows.all() else len(rows)
    if n == 0:
        return box
    out = np.array(box, np.float64)
    out[3] = max(float(box[3]), (y0 + n) * scale)
    return out


def _hidden_seats(boxes: list[np.ndarray], kinds: list[list[str]], seat_boxes: np.ndarray, share: float = 0.3) -> np.ndarray:
    """``(T, S)``: someone on their feet stands in front of the seat (feet at or past its front
    edge) and covers at least ``share`` of its upper part, where the candidate shows.

    A third is enough: a person standing between two seats changes the look of both, and an
    empty seat read as occupied while someone stands over it would hide an absent candidate.

    Example:
        >>> _hidden_seats([np.array([[40.0, 0, 90, 105]])], [["standing"]], np.array([[50.0, 0, 100, 100]])).tolist()
        [[True]]
    """
    sb = np.asarray(seat_boxes, np.float64).reshape(-1, 4)
    out = np.zeros((len(boxes), len(sb)), bool)
    up = sb.copy()
    up[:, 3] = sb[:, 1] + UPPER * (sb[:, 3] - sb[:, 1])
    area = np.maximum((up[:, 2] - up[:, 0]) * (up[:, 3] - up[:, 1]), 1e-9)
    for i, (bs, ks) in enumerate(zip(boxes, kinds)):
        for b, k in zip(bs, ks):
            if k != "standing":
                continue
            ix = np.clip(np.minimum(b[2], up[:, 2]) - np.maximum(b[0], up[:, 0]), 0, None)
            iy = np.clip(np.minimum(b[3], up[:, 3]) - np.maximum(b[1], up[:, 1]), 0, None)
            front = b[3] >= sb[:, 3] - 0.1 * (sb[:, 3] - sb[:, 1])
            out[i] |= front & (ix * iy / area >= share)
    return out


def _feet_x(box: np.ndarray, mask: np.ndarray, scale: float, band: float = 0.12, least: int = 3) -> float:
    """Across-the-picture position of the feet of the person in ``box``: the mean column of the
    foreground in the box's lowest ``band`` of its height (``mask`` in thumbnail pixels, ``scale``
    analysed pixels each). The box's centre when fewer than ``least`` pixels there are foreground.

    Example:
        >>> m = np.zeros((40, 40), np.uint8); m[5:35, 24:30] = 1
        >>> _feet_x(np.array([10.0, 5, 30, 35]), m, 1.0)
        27.0
    """
    h, w = mask.shape
    x0, x1 = int(max(0, box[0] / scale)), int(min(w, np.ceil(box[2] / scale)))
    y1 = int(min(h, np.ceil(box[3] / scale)))
    y0 = int(max(0, min(y1 - 1, (box[3] - band * (box[3] - box[1])) / scale)))
    sub = mask[y0:y1, x0:x1]
    if x1 <= x0 or y1 <= y0 or int(sub.sum()) < least:
        return float((box[0] + box[2]) / 2)
    cols = np.nonzero(sub)[1]
    return float((x0 + cols.mean() + 0.5) * scale)


def _part_of_another(k: int, boxes: np.ndarray, seated: np.ndarray, share: float = 0.45,
                     inside: float = 0.8) -> bool:
    """Whether box ``k`` is a second box on somebody already boxed: mostly inside one other box
    (an upper body), or mostly covered by seated candidates' boxes (one box across a head and
    the desk in front). Two people standing side by side overlap a lot and are both kept."""
    b = boxes[k]
    others = np.delete(boxes, k, axis=0)
    if len(others) == 0:
        return False
    sat = np.delete(np.asarray(seated, bool), k)
    area = max((b[2] - b[0]) * (b[3] - b[1]), 1e-9)
    ix = np.clip(np.minimum(b[2], others[:, 2]) - np.maximum(b[0], others[:, 0]), 0, None)
    iy = np.clip(np.minimum(b[3], others[:, 3]) - np.maximum(b[1], others[:, 1]), 0, None)
    cover = ix * iy / area
    return bool(cover.max() > inside or min(1.0, float(cover[sat].sum())) > share)


def _is_blob(b: np.ndarray, blobs: np.ndarray) -> bool:
    return bool(len(blobs)) and bool(np.any(np.all(np.isclose(blobs, b), axis=1)))
