"""People findings, tracking and the headcount check on synthetic boxes and arrays."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from examaudit.findings import FindingKind
from examaudit.video.analyze import CameraContext
from examaudit.video.detector import Detections
from examaudit.video.headcount import HeadcountCheck, largest_block_change
from examaudit.video.people_findings import (
    PeopleTimeline,
    extra_person_drafts,
    headcount_mismatch_drafts,
    invigilator_drafts,
    lingering_drafts,
    seat_drafts,
    sustained,
)
from examaudit.video.people_rules import PeopleThresholds
from examaudit.video.sampler import Sample
from examaudit.video.seats import SeatMap
from examaudit.video.tracking import BoxTracker
from tests.test_seats import grid_camera

ZONE = [[0, 0], [40, 0], [40, 300], [0, 300]]


def timeline(T: int = 60, S: int = 6, dt: float = 2.0) -> PeopleTimeline:
    return PeopleTimeline(
        t_s=np.arange(T) * dt,
        valid=np.ones(T, bool),
        occupied=np.ones((T, S), bool),
        excess=np.zeros(T, np.int64),
        zone_present=np.ones(T, bool),
        beside=np.zeros((T, S), bool),
        boxes=[np.zeros((0, 4))] * T,
        kinds=[[] for _ in range(T)],
        track_ids=[np.zeros(0, int)] * T,
    )


@pytest.fixture
def seats() -> SeatMap:
    return SeatMap.from_camera(grid_camera())


TH = PeopleThresholds(absent_min_s=30, late_left_min_s=10, extra_min_s=10, lingering_min_s=10, invigilator_absent_min_s=40)


def kinds(drafts) -> list[str]:
    return [d.kind.value for d in drafts]


def test_normal_timeline_gives_no_findings(seats):
    tl = timeline()
    assert seat_drafts(tl, seats, TH) == []
    assert extra_person_drafts(tl, seats, TH, 1) == []
    assert lingering_drafts(tl, seats, TH) == []
    assert invigilator_drafts(tl, seats, TH, ZONE, 1) == []


def test_a_seat_never_occupied_is_an_absent_candidate_with_its_candidate_id(seats):
    tl = timeline()
    tl.occupied[:, 4] = False
    drafts = seat_drafts(tl, seats, TH)
    assert kinds(drafts) == ["absent_candidate"]
    d = drafts[0]
    assert d.candidate_id == "C005" and d.details["seat"] == "05" and d.details["never_seen"]
    assert d.frames and d.overlay["polygons"] and d.overlay["polygon_labels"] == ["座位 05"]
    assert "C005" in d.reason_zh and "never occupied" in d.reason_en


def test_a_long_empty_stretch_mid_session_is_an_absence_a_short_one_is_not(seats):
    tl = timeline()
    tl.occupied[10:30, 1] = False  # 40 s away, threshold 30 s
    tl.occupied[40:44, 2] = False  # 8 s
    drafts = seat_drafts(tl, seats, TH)
    assert kinds(drafts) == ["absent_candidate"]
    assert drafts[0].details["seat"] == "02" and drafts[0].start_s == 20.0 and drafts[0].end_s == 60.0


def test_late_arrival_and_early_departure_are_candidate_left(seats):
    tl = timeline()
    tl.occupied[:10, 0] = False  # arrives 20 s after the others
    tl.occupied[45:, 3] = False  # leaves 30 s before the others
    drafts = sorted(seat_drafts(tl, seats, TH), key=lambda d: d.details["seat"])
    assert kinds(drafts) == ["candidate_left", "candidate_left"]
    assert drafts[0].details["mode"] == "arrived_late" and drafts[0].details["late_s"] == 20.0
    assert drafts[1].details["mode"] == "left_early" and drafts[1].start_s == 90.0


def test_the_schedule_sets_the_reference_when_wall_clock_is_known(seats):
    tl = timeline()
    # Everybody sits down at 20 s; the schedule says the exam began at 10 s.
    tl.occupied[:10] = False
    assert seat_drafts(tl, seats, TH) == []  # nobody is late against the others
    late = seat_drafts(tl, seats, TH, schedule=(0.0, 120.0))
    assert len(late) == 6 and {d.details["mode"] for d in late} == {"arrived_late"}


def test_extra_person_sustained_is_reported_brief_is_not(seats):
    tl = timeline()
    tl.excess[5:8] = 1  # 6 s: someone walking through
    assert extra_person_drafts(tl, seats, TH, 1) == []
    tl.excess[20:35] = 1  # 30 s
    tl.excess[27] = 0  # one missed sample does not split it
    drafts = extra_person_drafts(tl, seats, TH, 1)
    assert kinds(drafts) == ["extra_person"]
    assert drafts[0].start_s == 40.0 and drafts[0].end_s == 70.0 and drafts[0].details["max_extra"] == 1


def test_lingering_beside_a_seat_names_the_seat_and_one_seat_only(seats):
    tl = timeline()
    tl.beside[10:20, 2] = True
    tl.beside[12:15, 1] = True  # the same person, nearer the neighbour for a few samples
    tl.beside[[13, 14], 2] = False
    drafts = lingering_drafts(tl, seats, TH)
    assert kinds(drafts) == ["person_lingering"]
    assert drafts[0].details["seat"] == "03" and drafts[0].candidate_id == "C003"
    tl2 = timeline()
    tl2.beside[10:13, 2] = True  # 6 s: walking past
    assert lingering_drafts(tl2, seats, TH) == []


def test_invigilator_absent_only_with_a_zone_and_an_invigilator_due(seats):
    tl = timeline()
    tl.zone_present[10:40] = False  # 60 s
    drafts = invigilator_drafts(tl, seats, TH, ZONE, 1)
    assert kinds(drafts) == ["invigilator_absent"] and drafts[0].details["duration_s"] == 60.0
    assert drafts[0].overlay["polygon_labels"] == ["监考区 / invigilator zone"]
    assert invigilator_drafts(tl, seats, TH, None, 1) == []
    assert invigilator_drafts(tl, seats, TH, ZONE, 0) == []


def test_untrusted_samples_are_left_out_and_the_finding_says_so(seats):
    tl = timeline()
    tl.valid[20:40] = False
    tl.excess[20:40] = 1  # only while the picture cannot be trusted
    tl.occupied[20:40, 0] = False
    assert extra_person_drafts(tl, seats, TH, 1) == []
    assert seat_drafts(tl, seats, TH) == []
    tl.excess[10:20] = 1  # 20 s of trusted evidence just before
    tl.excess[40:45] = 1
    drafts = extra_person_drafts(tl, seats, TH, 1)
    assert len(drafts) == 1 and drafts[0].details["untrusted_samples_excluded"] == 20
    assert "could not be trusted" in drafts[0].reason_en and "不可信" in drafts[0].reason_zh


def test_sustained_bridges_one_missed_sample_and_needs_the_minimum():
    t = np.arange(20) * 2.0
    flag = np.zeros(20, bool)
    flag[2:6] = flag[7:9] = True
    assert sustained(flag, t, np.ones(20, bool), 10, 2.0) == [(2, 9)]
    assert sustained(flag, t, np.ones(20, bool), 16, 2.0) == []


def test_headcount_mismatch_compares_records_with_the_seated_count():
    rows = [{"t_s": float(t), "seated": 20 if t < 300 else 25, "trusted": True} for t in range(0, 600, 5)]
    rows += [{"t_s": 600.0 + t, "seated": 30, "trusted": False} for t in range(0, 100, 5)]
    drafts = headcount_mismatch_drafts({"S1": 28, "S2": 25}, rows, {"S1": (0, 700), "S2": (0, 600)})
    assert kinds(drafts) == ["headcount_mismatch"]
    d = drafts[0]
    assert d.details["session"] == "S1" and d.details["seen"] == 25 and d.details["untrusted_samples_excluded"] == 20


def test_tracker_keeps_identities_when_boxes_come_in_another_order():
    tr = BoxTracker()
    a, b = [10, 10, 50, 100], [200, 10, 240, 100]
    assert tr.update(0, np.array([a, b], float)).tolist() == [1, 2]
    assert tr.update(2, np.array([[205, 12, 245, 102], [12, 10, 52, 100]], float)).tolist() == [2, 1]
    assert tr.update(4, np.array([[400, 10, 440, 100]], float)).tolist() == [3]  # too far to be anyone
    assert tr.update(30, np.array([a], float)).tolist() == [4]  # track 1 closed after 12 s unseen
    assert tr.distinct() == 2


class CountingDetector:
    """Boxes people wherever the picture is dark; counts its calls."""

    def __init__(self):
        self.calls = 0

    def detect(self, image):
        self.calls += 1
        gray = image.mean(axis=2)
        ys, xs = np.nonzero(gray < 60)
        if len(xs) == 0:
            return Detections.empty()
        return Detections(np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], float), [0.9], [1])


def picture(person: bool, noise: int = 0, seed: int = 0) -> np.ndarray:
    img = np.full((300, 400, 3), 150, np.uint8)
    if person:
        img[60:118, 62:118] = 20  # seated in seat 01 (bottom near its desk line at y=110)
    if noise:
        img = np.clip(img.astype(int) + np.random.default_rng(seed).integers(-noise, noise + 1, img.shape), 0, 255).astype(np.uint8)
    return img


def feed(check: HeadcountCheck, pictures, **fields) -> list[dict]:
    """Show ``check`` one picture every 2 s; each row starts with ``t_s`` and ``fields``."""
    rows = []
    for i, img in enumerate(pictures):
        row = {"t_s": 2.0 * i, **fields}
        check.observe(Sample(i, 2.0 * i, None, True, img), row)
        rows.append(row)
    return rows


def test_check_reuses_detections_when_nothing_changed_and_pickles():
    det = CountingDetector()
    ctx = CameraContext(camera=grid_camera(), frame_size=(400, 300))
    check = HeadcountCheck(ctx, detector=det, thresholds=PeopleThresholds(motion=False))
    rows = feed(check, (picture(i < 12, noise=2, seed=i) for i in range(20)))
    # The first seven samples teach the noise level; then only the candidate leaving is detected.
    assert [int(r["detection_reused"]) for r in rows] == [0] * 7 + [1] * 5 + [0] + [1] * 7
    assert det.calls == 8 and check.stats == {"detected": 8, "reused": 12}
    check.finish(rows)
    assert [r["seat_01"] for r in rows] == [1] * 12 + [0] * 8
    assert rows[0]["seated"] == 1 and rows[0]["persons"] == 1 and rows[-1]["tracks"] == 1
    clone = pickle.loads(pickle.dumps(HeadcountCheck(ctx)))
    assert clone.detector is None and clone.name == "headcount"


def test_change_gate_learns_each_blocks_own_noise():
    """A clock that changes every sample does not force detection; a new person elsewhere does,
    and so does a long run of reuse."""
    from examaudit.video.headcount import ChangeGate

    gate = ChangeGate(learn=4, max_reuse=5)
    base = np.full((54, 96), 100, np.uint8)
    decided = []
    for i in range(16):
        img = base.copy()
        img[0:8, 0:16] = 100 + 25 * (i % 2)  # the burned-in clock ticking
        if i == 9:
            img[24:40, 40:48] = 40  # somebody walks in
        same = gate.unchanged(img)
        if not same:
            gate.detected(img)
        decided.append(int(same))
    assert decided[:5] == [0] * 5  # learning
    assert decided[9] == 0 and decided[10] == 0  # walked in, and gone again
    assert decided[5:9] == [1] * 4 and decided[11:16] == [1] * 5
    gate2 = ChangeGate(learn=1, max_reuse=3)
    seq = []
    for _ in range(10):
        same = gate2.unchanged(base)
        if not same:
            gate2.detected(base)
        seq.append(int(same))
    assert seq == [0, 0, 1, 1, 1, 0, 1, 1, 1, 0]


def test_block_change_sees_a_small_local_change():
    a = np.full((54, 96), 100, np.uint8)
    b = a.copy()
    b[8:16, 40:48] = 140
    assert largest_block_change(a, a) == 0.0
    assert largest_block_change(a, b) == pytest.approx(40.0)


def test_check_reports_an_absent_candidate_end_to_end_on_arrays():
    ctx = CameraContext(camera=grid_camera(1, 2), frame_size=(400, 300))
    check = HeadcountCheck(ctx, detector=CountingDetector(), thresholds=PeopleThresholds(motion=False))
    rows = feed(check, (picture(True, noise=2, seed=i) for i in range(20)), trusted=True)
    drafts = check.finish(rows)
    absent = [d for d in drafts if d.kind is FindingKind.absent_candidate]
    assert [d.candidate_id for d in absent] == ["C002"]
    assert check.seat_rows[1]["first_seen_s"] is None and check.seat_rows[0]["first_seen_s"] == 0.0


class FixedDetector:
    """Returns the given boxes for every picture."""

    def __init__(self, boxes):
        self.boxes = np.asarray(boxes, float)

    def detect(self, image):
        return Detections(self.boxes, np.full(len(self.boxes), 0.9), np.ones(len(self.boxes), int))


def rows_with_fixed_boxes(boxes) -> list[dict]:
    """Six samples of an empty-looking room in which the detector always answers ``boxes``."""
    ctx = CameraContext(camera=grid_camera(), frame_size=(400, 300))
    check = HeadcountCheck(ctx, detector=FixedDetector(boxes), thresholds=PeopleThresholds(motion=False))
    rows = feed(check, (picture(False, noise=2, seed=i) for i in range(6)))
    check.finish(rows)
    return rows


@pytest.mark.parametrize("boxes, standing", [
    # Seat 04's candidate boxed together with the head behind: tall enough, but its bottom is on
    # seat 04's desk, where no feet can be.
    ([[55, 120, 125, 182], [58, 45, 122, 175]], 0),
    # Someone seat-tall but not standing-tall (1.1 seat heights) away from the desks.
    ([[55, 120, 125, 182], [150, 180, 200, 290]], 0),
    # Two people standing shoulder to shoulder overlap by half: both are people.
    ([[55, 120, 125, 182], [150, 100, 200, 290], [175, 95, 225, 288]], 2),
])
def test_who_counts_as_standing(boxes, standing):
    rows = rows_with_fixed_boxes(boxes)
    assert [r["standing"] for r in rows] == [standing] * 6
    assert all(r["seat_04"] == 1 for r in rows)


@pytest.mark.parametrize("boxes, invigilators", [
    # The invigilator, and their legs boxed on their own (1080p long session: an extra_person on a
    # normal session): one person.
    ([[5, 60, 35, 280], [0, 200, 40, 280]], 1),
    # Two people standing in the zone: two.
    ([[2, 60, 30, 280], [12, 50, 38, 260]], 2),
])
def test_who_counts_as_an_invigilator(boxes, invigilators):
    rows = rows_with_fixed_boxes(boxes)
    assert [r["invigilators"] for r in rows] == [invigilators] * 6


def test_the_default_detector_tiles_follow_the_seats():
    """Without tiles in the detector options, the grid is chosen so the smallest seat fills the
    detector's share of a tile (a fifth for YOLOX-Nano, a third for SSDLite); explicit tiles are kept."""
    ctx = CameraContext(camera=grid_camera(), frame_size=(400, 300))
    for name, share in (("yolox_nano", 0.2), ("ssdlite", 1 / 3)):
        check = HeadcountCheck(ctx, thresholds=PeopleThresholds(detector={"name": name}))
        check._setup(np.zeros((300, 400, 3), np.uint8))
        sb = check._seats.boxes
        smallest = float((sb[:, 3] - sb[:, 1]).min())
        cols, rows = check._detector().tiles or (1, 1)
        assert smallest >= (300 / (rows - (rows - 1) * 0.4)) * share - 1e-6
        assert check.stats["detector"]["tiles"] == (None if (cols, rows) == (1, 1) else [cols, rows])
    check = HeadcountCheck(ctx, thresholds=PeopleThresholds(detector={"tiles": [3, 1]}))
    check._setup(np.zeros((300, 400, 3), np.uint8))
    assert check._detector().tiles == (3, 1)


def test_standing_box_cut_at_the_thighs_reaches_down_to_the_feet():
    """Seed 15 lingerer: the detector boxed y 69-307 of someone whose feet were at 356, in front of a
    desk, so the box read as feet on the desk and too far from the desk's front to be beside it."""
    from examaudit.video.headcount import _down_to_feet

    mask = np.zeros((108, 192), np.uint8)      # 640x360 analysed, thumbnail 192 wide: 10/3 px each
    mask[20:107, 52:80] = 1                    # the whole person differs from the usual room
    box = np.array([162.0, 69, 270, 307])
    grown = _down_to_feet(box, mask, 640 / 192)
    assert grown[:3].tolist() == box[:3].tolist() and 350 <= grown[3] <= 360
    # Seated candidates are the usual room: a box over them does not grow.
    assert _down_to_feet(box, np.zeros_like(mask), 640 / 192).tolist() == box.tolist()
    # It grows by at most 40% of its height, and not across a gap below it.
    mask[95:100] = 0
    assert 310 <= _down_to_feet(box, mask, 640 / 192)[3] < 320
    long_legs = np.ones_like(mask)
    assert _down_to_feet(np.array([162.0, 69, 270, 169]), long_legs, 640 / 192)[3] <= 169 + 0.4 * 100 + 640 / 192


def test_feet_of_one_box_over_a_lingerer_and_a_candidate_are_the_lingerers():
    """Seed 7: one box across the lingerer (right of seat 07) and 07's candidate was centred past
    07's edge, so the lingering went to seat 08. The candidate is the usual room; the feet are
    where the foreground is at the box's bottom."""
    from examaudit.video.headcount import _feet_x

    mask = np.zeros((108, 192), np.uint8)
    mask[20:100, 130:143] = 1                  # the lingerer only, x ~433..477 in analysed pixels
    box = np.array([395.0, 49, 573, 321])      # centre 484: past seat 07's right edge (~470)
    fx = _feet_x(box, mask, 640 / 192)
    assert 440 <= fx <= 470
    assert _feet_x(box, np.zeros_like(mask), 640 / 192) == 484.0
    seats = SeatMap.from_camera(grid_camera(rows=1, cols=2, w=100, gap=0))   # 01: 50..150, 02: 150..250
    check = HeadcountCheck(CameraContext(camera=grid_camera(rows=1, cols=2, w=100, gap=0)), thresholds=TH)
    check._seats = seats
    wide = np.array([100.0, 0, 220, 150])      # centre 160, inside 02; feet at x 140, inside 01
    occ = np.ones(2, bool)
    assert check._beside_seat(wide, seats.boxes, occ) == 1
    assert check._beside_seat(wide, seats.boxes, occ, 140.0) == 0


def test_a_person_in_front_of_a_seat_hides_it_one_behind_does_not():
    """Held-out seed 44: a lingerer in front of seat 07 hid its candidate, 07 read empty and the
    lingering went to the neighbour 06. Covered samples now carry the seat's state on."""
    from examaudit.video.headcount import _hidden_seats

    seat = np.array([[100.0, 100, 200, 300]])            # upper part: y 100..240
    front = np.array([[90.0, 20, 180, 310]])             # feet past the front edge, covers 80%
    behind = np.array([[90.0, 0, 180, 150]])             # feet inside the seat's top: behind it
    narrow = np.array([[180.0, 20, 240, 310]])           # in front, covers 20%
    between = np.array([[160.0, 20, 240, 310]])          # between two seats, covers 40% of this one
    got = _hidden_seats([front, behind, narrow, front, between],
                        [["standing"], ["standing"], ["standing"], ["seated"], ["standing"]], seat)
    assert got[:, 0].tolist() == [True, False, False, False, True]
