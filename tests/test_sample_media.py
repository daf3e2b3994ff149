"""The sample media builder: footage, YAML and a province-wide records export that agree."""

import csv
import json

import pytest

from examaudit.config import load_exam_point
from examaudit.records.pipeline import RecordsInputs, run_records, write_records_outputs
from examaudit.scenarios.sample_records import SAMPLE_PLANTS, build_sample_records
from examaudit.scenarios.sample_set import build_sample_media


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    build_sample_media(out, seed=7, duration_s=4, width=320, height=180)
    build_sample_records(out, seed=7)
    return out


def test_records_seat_the_footage_candidates(sample_dir):
    roster = list(csv.DictReader(open(sample_dir / "records" / "roster.csv", encoding="utf-8-sig")))
    ids = {r["准考证号"] for r in roster}
    for cfg_path in sample_dir.glob("*/exam_point.yaml"):
        cfg = load_exam_point(cfg_path)
        seated = {s.candidate_id for _, cam in cfg.cameras() for s in cam.seats if s.candidate_id}
        assert seated and seated <= ids, cfg.exam_point
        assert cfg.resolve(cfg.records.roster) == (sample_dir / "records" / "roster.csv").resolve()
    truth = json.loads((sample_dir / "records" / "truth.json").read_text(encoding="utf-8"))
    assert truth["planted_exam_points"] == SAMPLE_PLANTS


def test_summary_json_has_the_report_charts(sample_dir, tmp_path):
    rec = sample_dir / "records"
    result = run_records(RecordsInputs(roster=rec / "roster.csv", scores=rec / "scores.csv",
                                       callbacks=rec / "callbacks.csv", certificates=rec / "certificates.csv"))
    paths = write_records_outputs(result, tmp_path, exam_point="EP-WZ-02")
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    hist = summary["score_histogram"]
    assert sum(hist["counts"]) == len(result.tables.scores) and len(hist["bins"]) == len(hist["counts"]) + 1
    assert {p["exam_point"] for p in summary["funnel"]["points"]} >= {"EP-WZ-02", "EP-HZ-01"}
    assert all(p["exam_point"].startswith("EP-WZ-02") for p in summary["callback_rates"]["points"])
    assert set(summary["certificates"]) >= {"certificate_without_pass", "certificate_absent_on_video"}
