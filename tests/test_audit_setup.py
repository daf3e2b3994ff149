"""A recording's finished result is reused only while the config says the same about its camera."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from examaudit.audit import AnalyzeParams, plan_recordings
from examaudit.config import load_exam_point

SAMPLE = Path(__file__).resolve().parent.parent / "sample_media" / "EP-WZ-02" / "exam_point.yaml"


def _plan(path: Path):
    cfg = load_exam_point(path)
    return {j.camera: j.setup for j in plan_recordings(path, cfg, path.parent / "out", AnalyzeParams())}


def test_seat_edit_changes_only_that_cameras_setup(tmp_path):
    a = tmp_path / "a" / "exam_point.yaml"
    a.parent.mkdir()
    shutil.copy(SAMPLE, a)
    raw = yaml.safe_load(a.read_text(encoding="utf-8"))
    raw["rooms"][0]["cameras"][0]["seats"][0]["polygon"][0] = [230.0, 40.0]
    b = tmp_path / "b" / "exam_point.yaml"
    b.parent.mkdir()
    b.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    before, after = _plan(a), _plan(b)
    assert before["C1"] != after["C1"]
    assert before["C2"] == after["C2"] and before["C3"] == after["C3"]
    assert all(len(v) == 64 for v in before.values())
