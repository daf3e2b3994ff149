"""The thresholds of the people check, in the auditor's units (seconds, seat sizes).

They go into the run metadata with the other analysis parameters, so a finding can always
be traced back to the rule that raised it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class PeopleThresholds:
    """When people in the picture become a finding.

    Attributes:
        detector: options for :func:`examaudit.video.detector.load_detector` (``None``: bundled model).
            Without ``tiles`` there, the tile grid follows the seats (see ``tile_min_share``).
        tile_min_share: the smallest seat region must be at least this share of a detector tile's
            height (:func:`~examaudit.video.detector.tile_grid_for`); ``None`` takes the detector's
            own rule (``BUNDLED_DETECTORS``). The 300x300 SSD misses smaller people (measured at
            1280x720: a third finds all 30 candidates, a quarter 18).
        reuse_diff: grey levels; when no 8x8-pixel block of a 96-pixel-wide thumbnail changed more
            than twice its own noise level (learned from the first sample pairs) plus this since the
            last detected sample, its detections are reused (see :class:`~.headcount.ChangeGate`).
        standing_ratio: a box taller than this many seat heights is someone standing, not seated
            (a seated person's box is about 0.7 of their seat region, someone standing at the same
            depth about 1.5).
        weak_standing_conf: a standing box scored below this needs ``standing_foreground`` support.
            High, because one box across a back-row candidate and the candidate in front of them
            scores up to ~0.85 while differing from the usual room in under 8% of its pixels; a
            real extra person boxed that confidently differs in over 50%.
        standing_foreground: share of a weak standing box that must differ from the room's usual
            look (the background model); a box across seated people who are always there does not.
        seat_fill_s: empty stretches of a seat up to this long between occupied ones are filled
            (bending down, a missed detection).
        seat_min_present_s: occupied stretches shorter than this are dropped (someone walking past).
        seat_min_confirmed: an occupied stretch needs a person box in the seat in at least this share
            of its samples (or a head in its upper part); appearance alone only bridges the samples
            the detector missed. 0 (the default) turns the rule off. With geometry-chosen tiles
            (``tile_min_share``) the 1080p room reads 1.00 with the rule at 0.1 (0.23 with the old
            fixed grid), but in the 640x360 rooms the candidate beside the wall clock (seat 04) is
            still never boxed and reads absent (seed 14), so the rule stays off.
        absent_min_s: a rostered seat empty this long mid-session is an ``absent_candidate``.
        late_left_min_s: arriving this much after the others (or the schedule), or leaving this much
            before, is ``candidate_left``.
        extra_min_s: more people than seated candidates plus allowed invigilators for this long is
            ``extra_person``.
        lingering_min_s: someone standing beside an occupied seat this long is ``person_lingering``.
        lingering_radius: how far from a seat's front edge counts as beside it, in seat widths.
        invigilator_absent_min_s: nobody in the invigilator zone this long is ``invigilator_absent``.
        motion: also find standing people as foreground blobs (for those the detector misses).
        background_window_s: the window of the background model for ``motion``.
    """

    detector: dict[str, Any] | None = None
    tile_min_share: float | None = None
    reuse_diff: float = 3.0
    standing_ratio: float = 1.25
    weak_standing_conf: float = 0.9
    standing_foreground: float = 0.15
    seat_fill_s: float = 10.0
    seat_min_present_s: float = 4.0
    seat_min_confirmed: float = 0.0
    absent_min_s: float = 300.0
    late_left_min_s: float = 10.0
    extra_min_s: float = 10.0
    lingering_min_s: float = 10.0
    lingering_radius: float = 0.6
    invigilator_absent_min_s: float = 180.0
    motion: bool = True
    background_window_s: float = 900.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
