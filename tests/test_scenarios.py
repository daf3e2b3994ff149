"""The scenario generator: clips decode everywhere, timelines and truth say what was planted."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from examaudit.cli import main
from examaudit.scenarios.catalog import SCENARIOS, build_scenario, people_at
from examaudit.scenarios.clip import ClipWriter
from examaudit.scenarios.generate import generate_suite, render_clip, render_frames
from examaudit.scenarios.osd import ClockStyle, Osd, format_clock, render_text
from examaudit.scenarios.room import RoomRenderer
from examaudit.scenarios.truth import load_truth, truth_for

FOOTAGE = Path(__file__).resolve().parents[2] / "shared" / "footage"
SMALL = dict(width=320, height=180, fps=10, gop_s=1.0, duration_s=6)


def _packets(path: Path) -> tuple[list[float], list[bool]]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        rows = [(float(p.pts * s.time_base), p.is_keyframe) for p in c.demux(s) if p.pts is not None]
    rows.sort()
    return [t for t, _ in rows], [k for _, k in rows]


def _opencv_frames(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


@pytest.mark.parametrize("ext", [".mp4", ".mkv", ".ts"])
def test_clip_decodes_in_pyav_and_opencv_with_configured_gop(tmp_path, ext):
    path = tmp_path / f"normal{ext}"
    spec = build_scenario("normal", 1, width=160, height=90, fps=10, gop_s=1.5, duration_s=4)
    render_clip(spec, path)
    pts, keys = _packets(path)
    assert len(pts) == 40
    assert pts[0] == pytest.approx(0.0) and pts[-1] == pytest.approx(3.9, abs=1e-3)
    assert [i for i, k in enumerate(keys) if k] == [0, 15, 30]
    with av.open(str(path)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 40
    assert _opencv_frames(path) == 40


def test_footage_gap_leaves_a_pts_hole_where_truth_says(tmp_path):
    spec = build_scenario("footage_gap", 5, **SMALL)
    path = render_clip(spec, tmp_path / "gap.mp4")
    truth = load_truth(path)
    (ev,) = truth.events_of("footage_gap")
    pts, _ = _packets(path)
    steps = np.diff(pts)
    hole = int(np.argmax(steps))
    assert steps[hole] == pytest.approx(ev.end_s - ev.start_s + 0.1, abs=0.11)
    assert pts[hole] < ev.start_s <= pts[hole + 1] and pts[hole + 1] >= ev.end_s - 1e-6
    assert len(pts) == 60 - round((ev.end_s - ev.start_s) * 10)
    assert not [s for s in truth.per_second if ev.start_s <= s.t_s < ev.end_s and s.video]
    assert _opencv_frames(path) == len(pts)


@pytest.mark.parametrize("name", ["absent_candidate", "candidate_left", "person_lingering"])
def test_truth_per_second_matches_what_was_drawn(name):
    spec = build_scenario(name, 11, **SMALL)
    truth = truth_for(spec, "x.mp4")
    empty = RoomRenderer(spec.layout).empty.astype(np.int16)
    frames = {round(t, 3): f for t, f in render_frames(spec)}
    for sec in truth.per_second:
        frame = frames[float(sec.t_s)].astype(np.int16)
        for seat in spec.layout.seats:
            x0, y0 = (int(v) for v in seat.polygon[0])
            # the head and shoulders, well above the desk, differ from the empty room when someone sits there
            region = (slice(y0 + 2, int(seat.desk_top) - 2), slice(x0 + 2, int(seat.polygon[1][0]) - 2))
            drawn = np.abs(frame[region] - empty[region]).mean() > 12
            assert drawn == sec.seats[seat.seat], (name, sec.t_s, seat.seat)
        seated, standing = people_at(spec.scene, float(sec.t_s))
        assert sec.seated == len(seated)
        assert sec.persons == len(seated) + sum(0 <= p.x < spec.width for p in standing)


def test_blind_and_frozen_seconds_are_untrusted():
    for name, kind in [("camera_covered", "camera_covered"), ("frozen_video", "frozen_video"),
                       ("video_black", "video_black")]:
        truth = truth_for(build_scenario(name, 2, **SMALL), "x.mp4")
        (ev,) = truth.events_of(kind)
        inside = [s for s in truth.per_second if ev.start_s <= s.t_s < ev.end_s]
        outside = [s for s in truth.per_second if s.t_s < ev.start_s]
        assert inside and all(not s.trusted for s in inside)
        assert outside and all(s.trusted for s in outside)
        if kind != "frozen_video":
            assert all(s.persons == 0 for s in inside)


def test_same_seed_same_truth_other_seed_other_times():
    def events(seed):
        return [truth_for(build_scenario(n, seed, **SMALL), "x.mp4").events for n in SCENARIOS]

    assert events(4) == events(4)
    a, b = events(4), events(5)
    starts_a = [e.start_s for evs in a for e in evs]
    starts_b = [e.start_s for evs in b for e in evs]
    assert sum(x != y for x, y in zip(starts_a, starts_b)) >= len(starts_a) // 2


def test_frozen_picture_repeats_exactly_while_clock_runs():
    spec = build_scenario("frozen_video", 8, **SMALL)
    (ev,) = spec.events
    osd_rows = slice(0, 20)
    frames = [(t, f) for t, f in render_frames(spec) if ev["start_s"] <= t < ev["end_s"]]
    first = frames[0][1]
    for _, f in frames[1:]:
        assert np.array_equal(f[20:], first[20:])
    assert not np.array_equal(frames[0][1][osd_rows], frames[-1][1][osd_rows])  # clock moved on


def test_still_empty_room_keeps_sensor_noise(tmp_path):
    spec = build_scenario("still_empty_room", 3, width=160, height=90, fps=10, gop_s=1.0, duration_s=3)
    path = render_clip(spec, tmp_path / "empty.mp4")
    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="gray").astype(np.int16) for f in c.decode(video=0)]
    diffs = [np.abs(a[20:70] - b[20:70]).mean() for a, b in zip(frames, frames[1:])]
    assert min(diffs) > 0.05, "consecutive frames of the empty room must not be identical"
    assert load_truth(path).events == []


def test_osd_draws_chinese_clock_in_the_top_band():
    assert format_clock(datetime(2024, 6, 20, 9, 15, 32), ClockStyle()) == "2024-06-20 星期四 09:15:32"
    assert "下午" in format_clock(datetime(2024, 6, 20, 15, 0, 0), ClockStyle(hour12=True))
    stamp = render_text("星期四", 20)
    assert stamp.mask.sum() > 50
    frame = np.full((180, 320, 3), 128, np.uint8)
    osd = Osd(320, 180, ClockStyle(date_sep="年月日"), "第一考场 C1")
    osd.draw(frame, datetime(2024, 6, 20, 9, 15, 32))
    x0, y0, x1, y1 = osd.clock_band()
    band = frame[y0:y1, x0:x1]
    assert (band > 230).sum() > 100 and (band < 40).sum() > 100  # white text, dark outline
    assert (frame[150:, 200:] != 128).any()  # camera label bottom-right


def test_clip_writer_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError):
        ClipWriter(tmp_path / "x.avi", 64, 48)
    with pytest.raises(ValueError):
        ClipWriter(tmp_path / "x.mp4", 63, 48)
    with ClipWriter(tmp_path / "x.mp4", 64, 48) as w:
        w.write(np.zeros((48, 64, 3), np.uint8), 0.0)
        with pytest.raises(ValueError):
            w.write(np.zeros((48, 64, 3), np.uint8), 0.0)
    with pytest.raises(ValueError):
        generate_suite(tmp_path, 1, scenarios=["no_such_thing"], include_real=False)


def test_cli_writes_the_suite(tmp_path):
    out = tmp_path / "suite"
    rc = main(["scenarios", "--out", str(out), "--seed", "3", "--duration", "4", "--width", "320",
               "--height", "180", "--no-real"])
    assert rc == 0
    clips = sorted(out.glob("*.mp4"))
    assert len(clips) >= 10
    for clip in clips:
        truth = json.loads((clip.parent / (clip.name + ".truth.json")).read_text(encoding="utf-8"))
        assert truth["clip"] == clip.name and truth["width"] == 320 and len(truth["per_second"]) == 4
        assert truth["wall_start"].endswith("+08:00")
    suite = json.loads((out / "suite.json").read_text(encoding="utf-8"))
    assert len(suite["clips"]) == len(clips)
    assert main(["scenarios", "--out", str(out), "--width", "321", "--no-real"]) == 2
    assert main(["scenarios", "--out", str(out), "--only", "nope", "--no-real"]) == 2


def test_camera_entry_is_a_valid_config(tmp_path):
    from examaudit.config import Camera

    truth = truth_for(build_scenario("normal", 1, **SMALL), "x.mp4")
    cam = Camera.model_validate(truth.camera)
    assert len(cam.seats) == len(truth.per_second[0].seats)
    assert all(s.candidate_id for s in cam.seats)


@pytest.mark.skipif(not FOOTAGE.is_dir(), reason=f"real footage folder {FOOTAGE} is absent")
def test_real_footage_clips(tmp_path):
    from examaudit.scenarios.real import generate_real_clips

    paths = generate_real_clips(tmp_path, seed=1, max_seconds=6, only=["control", "freeze", "walkers"])
    assert len(paths) == 3
    for p in paths:
        truth = load_truth(p)
        pts, _ = _packets(p)
        assert len(pts) > 10 and truth.scenario.startswith("real_")
        assert _opencv_frames(p) == len(pts)


def test_standing_people_are_seen_by_the_detector():
    """Standing sprites must be people a real detector finds (old drawn-legs sprites: ~40%)."""
    from examaudit.scenarios.catalog import base_scene
    from examaudit.scenarios.people import random_look
    from examaudit.scenarios.room import RoomRenderer, SeatedPose, StandingPose
    from examaudit.video.detector import OnnxPersonDetector, box_iou

    det = OnnxPersonDetector()
    hits = 0
    n = 16
    for k in range(n):
        rng = np.random.default_rng([500, k])
        scene = base_scene(500 + k, 640, 360, 10.0, invigilators=0)
        L = scene.layout
        r = RoomRenderer(L)
        s = L.seats[int(rng.integers(0, len(L.seats)))]
        x, y = L.beside(s, int(rng.choice([-1, 1]))) if k % 2 else (L.aisle_x, float(rng.uniform(L.seats[0].desk_bottom, L.front_y)))
        p = StandingPose(random_look(rng), x, y, int(rng.integers(-2, 3)))
        img = r.render([SeatedPose(o.seat_index, o.look) for o in scene.occupants], [p])
        box = np.clip(np.array(r.standing_box(p)), 0, [640, 360, 640, 360])
        d = det.detect(img)
        hits += bool(len(d)) and float(box_iou(box[None], d.xyxy).max()) >= 0.3
    assert hits >= 0.85 * n, f"detector found {hits}/{n} standing people"


@pytest.mark.parametrize("size", [(320, 180), (640, 360), (1920, 1080)])
def test_planted_standing_people_are_whole_and_on_their_own(size):
    """The extra person stands clear of every desk and both invigilator spots, and nobody planted
    on their feet has their head out of the picture (was: the visitor 0.08 widths from the
    invigilator's second spot in every two-row room; back-row lingerers cut off at the head)."""
    from examaudit.scenarios.catalog import _body, _in_the_way, _overlap

    w, h = size
    for seed in range(8):
        for name in ("extra_person", "person_lingering"):
            spec = build_scenario(name, seed, width=w, height=h, duration_s=30)
            L, wk = spec.layout, spec.scene.walkers[-1]
            x, y = wk.path[3][1:]
            body = _body(L, wk.look, x, y)
            assert body[0] >= 0 and body[1] >= 0 and body[2] <= w and body[3] <= h - 1, (name, seed, body)
            way = _in_the_way(spec)
            inv = way[len(L.seats):]
            assert len(inv) == 2 and _overlap(body, inv, 0) == 0, (name, seed)
            if name == "extra_person":
                assert _overlap(body, way, 0) == 0, (seed, body)
                assert x > max(p[0] for p in L.invigilator_zone) + 0.02 * h
