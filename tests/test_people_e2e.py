"""End to end on a small generated scenario clip: footage in, seats.csv and findings out."""

from __future__ import annotations

import csv
import json

import pytest

from examaudit.config import Camera
from examaudit.video.analyze import AnalyzeParams, CameraContext, analyze_recording, write_analysis
from examaudit.video.headcount import HeadcountCheck


@pytest.fixture(scope="module")
def absent_clip(tmp_path_factory):
    gen = pytest.importorskip("examaudit.scenarios.generate", reason="the scenario generator is not available")
    out = tmp_path_factory.mktemp("people")
    (clip,) = gen.generate_suite(out, seed=5, width=640, height=360, fps=5, duration_s=24,
                                 scenarios=["absent_candidate"], include_real=False)
    return clip


def test_absent_candidate_clip(absent_clip, tmp_path):
    truth = json.loads((absent_clip.parent / (absent_clip.name + ".truth.json")).read_text(encoding="utf-8"))
    cam = Camera.model_validate(truth["camera"])
    ctx = CameraContext(exam_point="SYN", room="R1", camera_id=cam.id, camera=cam)
    params = AnalyzeParams(every_s=2.0)
    res = analyze_recording(absent_clip, context=ctx, params=params, checks=[HeadcountCheck(ctx, thresholds=params.people_thresholds)])

    gone = {e["seat"] for e in truth["events"]}
    absent = [f for f in res.findings if f.kind.value == "absent_candidate"]
    assert {f.details["seat"] for f in absent} == gone
    assert all(f.candidate_id and f.evidence for f in absent)
    others = [f for f in res.findings if f.kind.value in ("extra_person", "person_lingering", "candidate_left")]
    assert others == []

    right = total = 0
    for row in res.rows:
        sec = truth["per_second"][min(int(round(row["t_s"])), len(truth["per_second"]) - 1)]
        for seat, occ in sec["seats"].items():
            total += 1
            right += int(bool(row[f"seat_{seat}"]) == occ)
    assert right / total >= 0.95

    write_analysis(res, tmp_path, "test")
    with open(tmp_path / "seats.csv", encoding="utf-8-sig") as fh:
        seats = list(csv.DictReader(fh))
    assert [s["seat"] for s in seats] == [s.seat for s in cam.seats]
    assert {s["seat"] for s in seats if s["first_seen_s"] == ""} == gone
    with open(tmp_path / "samples.csv", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh))
    for col in ("persons", "seated", "standing", "invigilators", "tracks", f"seat_{cam.seats[0].seat}"):
        assert col in header


def test_without_a_seat_map_people_are_counted_but_nobody_is_called_extra(absent_clip, tmp_path):
    # A bare `examaudit analyze clip.mp4`: with no seat map everyone would look like an extra
    # person. The seats are proposed for the auditor instead, and no seat finding is raised.
    params = AnalyzeParams(every_s=2.0)
    ctx = CameraContext()
    res = analyze_recording(absent_clip, context=ctx, params=params,
                            checks=[HeadcountCheck(ctx, thresholds=params.people_thresholds)])
    assert max(r["persons"] for r in res.rows) >= 5
    assert [f.kind.value for f in res.findings
            if f.kind.value in ("extra_person", "person_lingering", "absent_candidate", "candidate_left")] == []
    assert len(res.outputs["proposed_seats"]) >= 5 and "seat_map" in res.outputs["people_stats"]
