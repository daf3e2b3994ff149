"""The records run end to end: library, CLI, outputs, video findings, skipped screens."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from examaudit.cli import main
from examaudit.findings import Finding, FindingKind, FindingsDocument, RunInfo, Severity, Source, now_utc, write_findings
from examaudit.records.pipeline import RecordsInputs, run_records
from examaudit.records.simulate import CHEATER_KINDS, simulate_records, simulate_tables


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("records")
    return simulate_records(d, seed=202, exam_points=16, sessions_per_point=2, candidates_per_session=40, n_items=50,
                            zh_headers=True)


def test_detects_planted_cheaters_and_centres():
    sim = simulate_tables(seed=303, exam_points=24, sessions_per_point=3, candidates_per_session=40, n_items=60)
    res = run_records(sim.tables)
    kind = np.array([sim.truth["candidates"].get(c, "") for c in res.candidates.candidate_id])
    from sklearn.metrics import roc_auc_score

    y = np.isin(kind, CHEATER_KINDS)
    assert roc_auc_score(y, -np.log(res.candidates.p_value)) > 0.85
    flagged = set(res.exam_points.exam_point[res.exam_points.q_value <= 0.1])
    planted = set(sim.truth["planted_exam_points"])
    assert len(flagged & planted) >= len(planted) // 2
    assert len(flagged - planted) <= 2
    assert 0 <= res.candidates.suspicion.min() and res.candidates.suspicion.max() <= 1
    kinds = {f.kind for f in res.findings}
    assert FindingKind.answer_similarity in kinds and FindingKind.exam_point_risk in kinds


def test_only_roster_and_scores(files):
    res = run_records(RecordsInputs(files["roster"], files["scores"]))
    assert {"person_fit", "similarity", "callbacks", "certificates", "video"} <= set(res.skipped)
    assert "pass_rate" in res.rates and "fast_completion" in res.rates
    assert np.all(np.isfinite(res.exam_points.risk))


def test_cli_end_to_end(files, tmp_path):
    # a video analysis saw one candidate's seat empty; that candidate also holds a certificate
    cert = list(csv.DictReader(open(files["certificates"], encoding="utf-8")))[0]
    absent_id = cert["准考证号"]
    vdir = tmp_path / "video" / "EP-x"
    vdir.mkdir(parents=True)
    f = Finding.create(kind=FindingKind.absent_candidate, source=Source.video, severity=Severity.high,
                       exam_point=cert["考点"], candidate_id=absent_id, start_s=0.0, end_s=600.0, confidence=0.9,
                       reason_zh="考位无人。", reason_en="Seat empty.")
    write_findings(FindingsDocument(run=RunInfo(command="test", started_at=now_utc(), finished_at=now_utc()), findings=[f]),
                   vdir / "findings.json")
    # and one bad row in the scores
    with open(files["scores"], "a", encoding="utf-8") as fh:
        fh.write("NOBODY,EP001,S1,70,1,60,,\n")
    out = tmp_path / "out"
    rc = main(["records", "--roster", str(files["roster"]), "--scores", str(files["scores"]), "--responses",
               str(files["responses"]), "--callbacks", str(files["callbacks"]), "--certificates", str(files["certificates"]),
               "--video-findings", str(tmp_path / "video"), "--out", str(out), "--quiet"])
    assert rc == 0
    cands = list(csv.DictReader(open(out / "candidates.csv", encoding="utf-8")))
    assert list(cands[0]) == ["candidate_id", "exam_point", "session", "suspicion", "p_value", "reasons"]
    assert all(0 <= float(r["suspicion"]) <= 1 for r in cands)
    eps = list(csv.DictReader(open(out / "exam_points.csv", encoding="utf-8")))
    assert list(eps[0]) == ["exam_point", "risk", "q_value", "rank", "reasons"] and eps[0]["rank"] == "1"
    val = list(csv.DictReader(open(out / "validation.csv", encoding="utf-8")))
    assert any(r["value"] == "NOBODY" and r["file"].endswith("scores.csv") for r in val)
    doc = FindingsDocument.model_validate_json((out / "findings.json").read_text(encoding="utf-8"))
    assert {i.role for i in doc.run.inputs} >= {"roster", "scores", "responses", "callbacks", "certificates", "video_findings"}
    assert doc.run.stats["rejected_rows"] >= 1 and "combine" in doc.run.parameters
    kinds = {f.kind for f in doc.findings}
    assert FindingKind.certificate_absent_on_video in kinds
    assert {f.source for f in doc.findings} >= {Source.records, Source.certificates, Source.fusion}
    absent_row = next(r for r in cands if r["candidate_id"] == absent_id)
    assert float(absent_row["p_value"]) < 0.01


def test_cli_missing_column_exit_2(tmp_path, capsys):
    (tmp_path / "r.csv").write_text("candidate_id,exam_point,session\nK1,E,S\n", encoding="utf-8")
    (tmp_path / "s.csv").write_text("candidate_id,exam_point,session\nK1,E,S\n", encoding="utf-8")
    rc = main(["records", "--roster", str(tmp_path / "r.csv"), "--scores", str(tmp_path / "s.csv"), "--out", str(tmp_path / "o"), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "s.csv" in err and "'total' (总分)" in err


def test_simulator_follows_a_given_seating_plan(tmp_path):
    plan = {"EP-HZ-01": {"S1": [{"candidate_id": "C001", "room": "R1", "seat": "01"},
                                {"candidate_id": "C002", "room": "R1", "seat": "02"}]}}
    paths = simulate_records(tmp_path, seed=7, exam_points=plan, n_items=20)
    roster = list(csv.DictReader(open(paths["roster"], encoding="utf-8")))
    assert [(r["candidate_id"], r["seat"]) for r in roster] == [("C001", "01"), ("C002", "02")]
    assert json.loads(paths["truth"].read_text(encoding="utf-8"))["n_candidates"] == 2
