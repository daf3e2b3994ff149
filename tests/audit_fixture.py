"""A small but complete audit directory for the report, pack and form tests.

It is built the way ``examaudit audit`` builds one: a real analysis of a tiny generated clip
(with a footage gap, so there is a video finding with frames), plus hand-written records
files, seats/coverage files and a records summary, so every report section has data.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from conftest import write_test_clip

from examaudit.config import ExamPointConfig
from examaudit.custody import CustodyLog
from examaudit.findings import (
    Evidence,
    Finding,
    FindingKind,
    FindingsDocument,
    RunInfo,
    Severity,
    Source,
    merge_findings,
    write_findings,
)
from examaudit.outputs import write_csv
from examaudit.video.analyze import AnalyzeParams, CameraContext, analyze_recording, write_analysis

TZ = timezone(timedelta(hours=8))
WALL0 = datetime(2024, 6, 20, 9, 0, 0, tzinfo=TZ)
FULL_ID = "11010519491231002X"
FULL_PHONE = "13812345678"
SEATS = ["01", "02", "03", "04", "05", "06"]


def _records(root: Path) -> list[Finding]:
    rec = root / "records"
    rec.mkdir(parents=True)
    candidates = []
    for i in range(30):
        candidates.append({
            "candidate_id": f"Z2024{i:04d}", "name": f"考生{i:02d}", "exam_point": "EP-HZ-01", "session": "S1",
            "id_number": FULL_ID if i == 0 else f"3301061990010{i:04d}"[:17] + "1", "phone": FULL_PHONE if i == 0 else f"1390000{i:04d}",
            "total": 58 + (i * 7) % 40, "passed": int(58 + (i * 7) % 40 >= 60), "seat": SEATS[i % 6],
        })
    write_csv(rec / "candidates.csv", candidates)
    write_csv(rec / "exam_points.csv", [
        {"exam_point": "EP-HZ-01", "candidates": 30, "pass_rate": 0.93},
        {"exam_point": "EP-HZ-02", "candidates": 120, "pass_rate": 0.71},
    ])
    write_csv(rec / "validation.csv", [{"file": "roster.csv", "row": 7, "column": "id_number", "problem": "check digit"}])
    summary = {
        "score_histogram": {"bins": list(range(40, 101, 5)), "counts": [0, 1, 1, 2, 9, 6, 4, 3, 2, 1, 1, 0],
                            "pass_mark": 60},
        "funnel": {"points": [{"exam_point": "EP-HZ-01", "n": 30, "pass_rate": 0.93},
                              {"exam_point": "EP-HZ-02", "n": 120, "pass_rate": 0.71},
                              {"exam_point": "EP-HZ-03", "n": 80, "pass_rate": 0.69},
                              {"exam_point": "EP-HZ-04", "n": 200, "pass_rate": 0.74}],
                   "overall_rate": 0.72},
        "completion_times": {"EP-HZ-01": [12, 14, 15, 15, 16, 18, 20, 45, 50], "all": [30, 35, 40, 42, 45, 50, 55, 60]},
        "similarity_clusters": [{"cluster": 1, "members": ["Z20240003", "Z20240007", "Z20240011"], "similarity": 0.97}],
        "callback_rates": [{"exam_point": "EP-HZ-01", "calls": 20, "not_in_person": 6, "rate": 0.3, "low": 0.15, "high": 0.5},
                           {"exam_point": "EP-HZ-02", "calls": 40, "not_in_person": 2, "rate": 0.05, "low": 0.01, "high": 0.17}],
        "certificates": {"certificate_without_pass": 2, "pass_without_certificate": 1, "multiple_certificates": 0},
    }
    (rec / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    run = RunInfo(command="examaudit records", started_at=WALL0, finished_at=WALL0)
    findings = [
        Finding.create(kind=FindingKind.callback_not_in_person, source=Source.callbacks, severity=Severity.critical,
                       exam_point="EP-HZ-01", candidate_id="Z20240000", confidence=0.9,
                       reason_zh=f"考生电话回访称未亲自参加考试（身份证号 {FULL_ID}，电话 {FULL_PHONE}）。",
                       reason_en=f"The candidate said on a callback call they did not sit the exam (ID {FULL_ID}, phone {FULL_PHONE}).",
                       details={"id_number": FULL_ID, "phone": FULL_PHONE}),
        Finding.create(kind=FindingKind.score_bunching, source=Source.records, severity=Severity.medium,
                       exam_point="EP-HZ-01", confidence=0.7,
                       reason_zh="分数在及格线 60 分处异常堆积。", reason_en="Scores bunch just above the pass mark of 60.",
                       details={"excess": 0.21}),
    ]
    write_findings(FindingsDocument(run=run, findings=findings), rec / "findings.json")
    return findings


def build_audit_dir(root: Path) -> dict:
    """Build the fixture under ``root``; returns {'audit': Path, 'original': Path}."""
    originals = root / "footage"
    clip = write_test_clip(originals / "R1-C1.mp4", seconds=12, fps=10, gop_s=1.0, size=(320, 192), skip=(4.0, 8.0))
    audit = root / "audit"
    rec_out = audit / "video" / "C1" / "R1-C1"
    cfg = ExamPointConfig.model_validate({
        "exam_point": "EP-HZ-01", "city": "杭州市",
        "rooms": [{"id": "R1", "cameras": [{"id": "C1", "footage_start": "2024-06-20T09:00:00"}]}]})
    ctx = CameraContext.from_config(cfg, "C1")
    # checks=[]: the timeline alone finds the gap; keeps this fixture independent of the detectors.
    result = analyze_recording(clip, context=ctx, params=AnalyzeParams(every_s=1.0, people=False), checks=[])
    write_analysis(result, rec_out, "examaudit audit")
    # Seats and wall clock as the people/seat check will write them.
    rows = []
    for i, row in enumerate(result.rows):
        row = dict(row)
        row["wall_time"] = (WALL0 + timedelta(seconds=row["t_s"])).isoformat(timespec="seconds")
        row["persons"] = 6 if i % 4 else 7
        row["quality"] = "ok"
        row["trusted"] = 1
        for j, s in enumerate(SEATS):
            row[f"seat_{s}"] = 0 if (j == 2 and i > 3) else 1
        rows.append(row)
    write_csv(rec_out / "samples.csv", rows)
    write_csv(rec_out / "seats.csv", [{"seat": s, "candidate_id": f"Z2024{k:04d}", "first_seen_s": 0, "last_seen_s": 11.9,
                                       "minutes_present": 0.2} for k, s in enumerate(SEATS)])
    (rec_out / "coverage.json").write_text(json.dumps({"sessions": [
        {"session": "S1", "start": "2024-06-20T09:00:00+08:00", "end": "2024-06-20T09:00:20+08:00",
         "covered_fraction": 0.4, "gaps": [{"start": "2024-06-20T09:00:04+08:00", "end": "2024-06-20T09:00:08+08:00"},
                                            {"start": "2024-06-20T09:00:12+08:00", "end": "2024-06-20T09:00:20+08:00"}]}]}),
        encoding="utf-8")

    video = []
    for f in result.findings:
        ev = [Evidence(**{**e.model_dump(), "path": f"video/C1/R1-C1/{e.path}"}) for e in f.evidence]
        video.append(f.model_copy(update={"evidence": ev, "wall_start": WALL0 + timedelta(seconds=f.start_s or 0),
                                          "wall_end": WALL0 + timedelta(seconds=f.end_s or 0)}))
    records = _records(audit)
    run = RunInfo(command="examaudit audit", started_at=WALL0, finished_at=WALL0,
                  parameters={"every_s": 1.0, "pass_mark": 60})
    write_findings(FindingsDocument(run=run, findings=merge_findings(video + records)), audit / "findings.json")
    probe = json.loads((rec_out / "recording.json").read_text(encoding="utf-8"))
    sha = hashlib.sha256(clip.read_bytes()).hexdigest()
    meta = {
        "exam_point": "EP-HZ-01", "name": "杭州市某建筑安全培训考点", "city": "杭州市",
        "config": {"exam_point": "EP-HZ-01", "city": "杭州市", "sessions": [
            {"id": "S1", "start": "2024-06-20 09:00", "end": "2024-06-20 09:00:20"}],
            "rooms": [{"id": "R1", "name": "第一考场", "cameras": [{"id": "C1", "footage": ["footage/R1-C1.mp4"],
                                                                   "seats": [{"seat": s} for s in SEATS]}]}]},
        "recordings": [{"room": "R1", "camera": "C1", "path": str(clip), "sha256": sha, "size_bytes": clip.stat().st_size,
                        "probe": probe, "out": "video/C1/R1-C1"}],
        "records": "records", "lang": "zh", "started_at": WALL0.isoformat(), "finished_at": WALL0.isoformat(),
        "tool_version": "0.1.0", "parameters": {"every_s": 1.0, "pass_mark": 60, "similarity_threshold": 0.9},
    }
    (audit / "audit.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    log = CustodyLog(audit / "custody.jsonl")
    log.append("ingest", inputs={clip.name: sha})
    log.append("audit", outputs={"findings.json": hashlib.sha256((audit / "findings.json").read_bytes()).hexdigest()})
    return {"audit": audit, "original": clip}
