"""Seat occupancy: box-to-seat pairing, evidence fusion, hysteresis and the seat-map proposal."""

from __future__ import annotations

import numpy as np
import pytest

from examaudit.config import Camera
from examaudit.video.seats import (
    PATCH,
    SeatMap,
    assign_seated,
    fuse_evidence,
    propose_seat_map,
    seat_table,
    smooth_occupancy,
)


def grid_camera(rows: int = 2, cols: int = 3, w: float = 80, h: float = 100, gap: float = 40) -> Camera:
    seats = []
    for r in range(rows):
        for c in range(cols):
            x0, y0 = 50 + c * (w + gap), 40 + r * (h * 0.7)
            seats.append({"seat": f"{r * cols + c + 1:02d}", "polygon": [[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]],
                          "candidate_id": f"C{r * cols + c + 1:03d}"})
    return Camera.model_validate({"id": "C1", "seats": seats, "invigilator_zone": [[0, 0], [40, 0], [40, 300], [0, 300]]})


def test_seat_map_scales_config_pixels_to_the_analysed_picture():
    seats = SeatMap.from_camera(grid_camera(), scale=0.5)
    assert seats.numbers[0] == "01" and seats.candidate_ids[0] == "C001"
    assert seats.boxes[0].tolist() == [25.0, 20.0, 65.0, 70.0]


def test_boxes_go_to_their_own_row_and_standing_people_are_not_seated():
    seats = SeatMap.from_camera(grid_camera())
    # Front-row seat 04 spans y 110..210 and overlaps the back row (40..140).
    back = [55, 50, 125, 112]  # seated in seat 01: bottom near 01's desk line (y=110)
    front = [55, 120, 125, 182]  # seated in 04: bottom near its desk line (y=180)
    standing = [60, 10, 120, 200]  # 190 px tall: nearly two seat heights
    got = assign_seated(np.array([back, front, standing], float), seats)
    assert got.tolist() == [0, 3, -1]


def test_hysteresis_keeps_a_candidate_who_bends_down_for_a_sample_or_two():
    t = np.arange(30) * 2.0
    score = np.full(30, 3.0)
    score[[10, 11]] = -2.0  # bent down behind the desk: no box, looks flat
    score[20] = -2.0
    assert smooth_occupancy(score, t).all()


def test_a_long_absence_is_kept_and_a_walk_past_is_dropped():
    t = np.arange(40) * 2.0
    score = np.full(40, -2.0)
    score[:10] = 3.0
    score[25] = 3.0  # someone walking past the empty desk
    occ = smooth_occupancy(score, t, fill_s=10, min_present_s=4)
    assert occ[:10].all() and not occ[10:].any()


def test_untrusted_samples_carry_the_state_on():
    t = np.arange(20) * 2.0
    score = np.full(20, 3.0)
    score[5:15] = -3.0  # a covered lens reads as empty seats
    valid = np.ones(20, bool)
    valid[5:15] = False
    assert smooth_occupancy(score, t, valid).all()
    assert not smooth_occupancy(score, t).all()


def _patches(T: int, S: int, occupied: np.ndarray, rng) -> np.ndarray:
    flat = np.full((PATCH, PATCH), 120, np.uint8)
    person = rng.integers(0, 255, (PATCH, PATCH)).astype(np.uint8)
    out = np.empty((T, S, PATCH, PATCH), np.uint8)
    for i in range(T):
        for j in range(S):
            base = person if occupied[i, j] else flat
            out[i, j] = np.clip(base.astype(int) + rng.integers(-2, 3, base.shape), 0, 255)
    return out


def test_appearance_carries_a_seat_the_detector_never_boxes():
    rng = np.random.default_rng(1)
    T, S = 30, 3
    occupied = np.ones((T, S), bool)
    occupied[:, 2] = False  # seat 3 empty all along
    box = np.zeros((T, S))
    box[:, 0] = 0.8  # the detector sees seat 1 only; seat 2 is occupied but never boxed
    ev = fuse_evidence(box, _patches(T, S, occupied, rng), np.ones(T, bool))
    t = np.arange(T) * 2.0
    occ = np.stack([smooth_occupancy(ev.score[:, j], t) for j in range(S)], axis=1)
    assert occ[:, 0].all() and occ[:, 1].all() and not occ[:, 2].any()


def test_a_change_from_the_seats_own_empty_look_counts():
    rng = np.random.default_rng(2)
    T, S = 30, 2
    occupied = np.zeros((T, S), bool)
    occupied[:, 0] = True
    occupied[15:, 1] = True  # someone sits down halfway, never boxed
    box = np.zeros((T, S))
    box[:, 0] = 0.9
    ev = fuse_evidence(box, _patches(T, S, occupied, rng), np.ones(T, bool))
    assert np.isfinite(ev.change[:, 1]).all()
    assert (ev.score[15:, 1] > 0.5).all() and (ev.score[:15, 1] < -0.5).all()


def test_seat_table_reports_first_and_last_sighting():
    seats = SeatMap.from_camera(grid_camera(1, 2))
    rows = [{"t_s": float(t), "wall_time": f"T{t}", "seat_01": int(t >= 10), "seat_02": 0} for t in range(0, 60, 5)]
    table = seat_table(rows, seats)
    assert table[0]["first_seen_s"] == 10.0 and table[0]["last_seen_s"] == 55.0
    assert table[0]["minutes_present"] == pytest.approx(10 * 5 / 60, abs=0.01)
    assert table[0]["first_seen_wall"] == "T10"
    assert table[1]["first_seen_s"] is None and table[1]["candidate_id"] == "C002"


def test_seat_map_proposal_recovers_a_grid():
    rng = np.random.default_rng(3)
    truth = [(100 + c * 150, 80 + r * 120) for r in range(3) for c in range(4)]  # (x centre, box bottom)
    samples = []
    for _ in range(40):
        boxes = []
        for x, y in truth:
            if rng.random() < 0.85:
                dx, dy = rng.normal(0, 3, 2)
                boxes.append([x - 30 + dx, y - 70 + dy, x + 30 + dx, y + dy])
        boxes.append([rng.uniform(0, 600), 10, rng.uniform(0, 600) + 40, 200])  # a walker, never in one place
        samples.append(np.array(boxes))
    seats = propose_seat_map(samples, scale=0.5)
    assert len(seats) == 12
    assert [s["seat"] for s in seats][:3] == ["01", "02", "03"]
    first = np.array(seats[0]["polygon"]) * 0.5  # back-left seat, in analysed pixels
    assert abs(first[:, 0].mean() - 100) < 6 and first[:, 1].min() == pytest.approx(10, abs=6)
    last = np.array(seats[-1]["polygon"]) * 0.5
    assert abs(last[:, 0].mean() - 550) < 6


def test_appearance_alone_cannot_seat_somebody_the_detector_never_saw():
    """A blackboard behind an empty desk looks as busy as a person; without a box it stays empty."""
    t = np.arange(30) * 2.0
    score = np.full(30, 2.5)  # textured look, all session
    never = np.zeros(30, bool)
    assert not smooth_occupancy(score, t, confirmed=never, min_confirmed=0.1).any()
    sometimes = np.zeros(30, bool)
    sometimes[::5] = True  # a weak candidate the detector boxes one sample in five
    assert smooth_occupancy(score, t, confirmed=sometimes, min_confirmed=0.1).all()
    assert not smooth_occupancy(score, t, confirmed=sometimes, min_confirmed=0.5).any()


def test_a_head_in_the_upper_seat_witnesses_a_candidate_boxed_with_the_person_in_front():
    from examaudit.video.seats import heads_in_seats

    seats = SeatMap.from_camera(grid_camera())
    merged = [55, 45, 125, 190]  # from seat 01's head down to seat 04's desk: not paired, but a head in 01
    got = heads_in_seats(np.array([merged], float), seats)
    assert got.tolist() == [True, False, False, False, False, False]
    assert not heads_in_seats(np.zeros((0, 4)), seats).any()


def test_a_box_ending_over_a_front_seat_head_is_not_its_candidate():
    """Someone standing at a back-row desk ends in the top of the front-row seat below them in the
    picture (seed 34, 640x360: bottom a fifth of the way down seat 08): not that seat's candidate."""
    cam = Camera.model_validate({"id": "C1", "seats": [
        {"seat": "01", "polygon": [[50, 40], [130, 40], [130, 140], [50, 140]], "candidate_id": "C001"},
        {"seat": "02", "polygon": [[40, 110], [140, 110], [140, 260], [40, 260]], "candidate_id": "C002"}]})
    seats = SeatMap.from_camera(cam)
    # Too tall for the back seat; ends 13% of the way down the (nearer, larger) front seat.
    behind = [60, 0, 120, 130]
    assert assign_seated(np.array([behind], float), seats, standing_ratio=1.25).tolist() == [-1]
    # The front seat's own candidate still sits there (box ending by the desk line).
    assert assign_seated(np.array([[45, 115, 135, 215]], float), seats, standing_ratio=1.25).tolist() == [1]


def test_patch_measures_in_blocks_equal_the_whole(monkeypatch):
    # Long recordings are measured block by block to bound memory; results must not change.
    from examaudit.video import seats as S

    rng = np.random.default_rng(3)
    a = rng.integers(0, 255, (70, 4, 24, 24), np.uint8)
    b = rng.integers(0, 255, (70, 4, 24, 24), np.uint8)
    whole = S.patch_texture(a), S.patch_distance(a[1:], a[:-1]), S.patch_distance(a, b)
    monkeypatch.setattr(S, "_BLOCK", 16)
    blocks = S.patch_texture(a), S.patch_distance(a[1:], a[:-1]), S.patch_distance(a, b)
    for w, k in zip(whole, blocks):
        assert k.shape == w.shape and np.array_equal(k, w)
