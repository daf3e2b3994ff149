"""Province-wide screening: the pool and Dask agree, a killed run resumes, bad folders are
reported without stopping the others, planted exam points rank first, records-only exam points
are listed. The province is generated (tiny clips) once per module; the tests that screen it
take about a minute on a loaded 2-core machine, so they are marked slow:
``.venv/bin/python -m pytest -m slow tests/test_screen.py``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from examaudit.errors import InputError
from examaudit.findings import Finding, FindingKind, Severity, Source, read_findings
from examaudit.scenarios.province import build_province
from examaudit.screen import (
    ExamPointScore,
    plan_province,
    rank_province,
    screen_province,
    video_evidence,
)
from examaudit.video.analyze import AnalyzeParams

from conftest import write_test_clip

PARAMS = AnalyzeParams(every_s=2.0)


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("province")
    truth = build_province(root, points=4, cameras=1, duration_s=20, planted=1, records_only=2, seed=11,
                           width=320, height=180, fps=5)
    bad = root / "exam_points" / "EP-BROKEN"
    bad.mkdir()
    (bad / "exam_point.yaml").write_text("exam_point: [unclosed\n", encoding="utf-8")
    return root, truth


@pytest.fixture(scope="module")
def pool_run(province, tmp_path_factory):
    root, _ = province
    out = tmp_path_factory.mktemp("pool")
    return screen_province(root, out, params=PARAMS, workers=1, reports=False), out


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _findings_by_ep(out: Path) -> dict[str, list[str]]:
    return {p.parent.name: sorted(f.id for f in read_findings(p).findings) for p in sorted(out.glob("*/findings.json"))
            if p.parent.name != "records"}


@pytest.mark.slow
def test_summary_lists_every_exam_point_and_ranks_planted_first(province, pool_run):
    root, truth = province
    result, out = pool_run
    rows = _csv(out / "exam_points.csv")
    assert list(rows[0])[:10] == ["exam_point", "city", "risk", "q_value", "rank", "reasons", "findings",
                                  "findings_by_kind", "footage_hours", "coverage"]
    names = [r["exam_point"] for r in rows]
    assert set(names) == set(truth["planted"]) | set(truth["clean"]) | set(truth["records_only"])
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    for ep in truth["records_only"]:
        row = next(r for r in rows if r["exam_point"] == ep)
        assert row["evidence"] == "records_only" and float(row["footage_hours"]) == 0
    rank = {r["exam_point"]: int(r["rank"]) for r in rows}
    for planted in truth["planted"]:
        assert all(rank[planted] < rank[clean] for clean in truth["clean"]), rank
    html = (out / "screening.html").read_text(encoding="utf-8")
    assert all(ep in html for ep in names) and "仅记录" in html and "EP-BROKEN" in html
    assert (out / "screening.xlsx").stat().st_size > 0


@pytest.mark.slow
def test_bad_exam_point_folder_is_reported_and_the_others_run(pool_run):
    result, out = pool_run
    assert list(result.plan.rejected) == ["EP-BROKEN"]
    assert "exam_point.yaml" in str(result.plan.rejected["EP-BROKEN"][0])
    assert len(_findings_by_ep(out)) == 4  # every good exam point written


@pytest.mark.slow
def test_dask_equals_the_local_pool_finding_for_finding(province, pool_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    root, _ = province
    _, pool_out = pool_run
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as lc, \
            distributed.Client(lc) as client:
        result = screen_province(root, tmp_path, params=PARAMS, client=client, reports=False)
    assert result.executor.startswith("Dask")
    assert _findings_by_ep(tmp_path) == _findings_by_ep(pool_out)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "report"} for r in rows]  # noqa: E731
    assert strip(_csv(tmp_path / "exam_points.csv")) == strip(_csv(pool_out / "exam_points.csv"))


@pytest.mark.slow
def test_a_killed_run_resumes_with_the_same_outputs(province, pool_run, tmp_path):
    root, _ = province
    _, pool_out = pool_run

    def die_after_two(p):
        if p.done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        screen_province(root, tmp_path, params=PARAMS, workers=1, reports=False, on_progress=die_after_two)
    assert not (tmp_path / "exam_points.csv").exists()
    result = screen_province(root, tmp_path, params=PARAMS, workers=1, reports=False)
    assert result.counts()["reused"] == 2 and result.counts()["analysed"] == 2
    assert _findings_by_ep(tmp_path) == _findings_by_ep(pool_out)
    assert _csv(tmp_path / "exam_points.csv") == _csv(pool_out / "exam_points.csv")
    # A third run redoes nothing: every fusion is reused, so no exam point's findings.json is rewritten.
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/findings.json")}
    again = screen_province(root, tmp_path, params=PARAMS, workers=1, reports=False)
    assert again.counts()["reused"] == 4
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/findings.json")} == stamps


def _one_exam_point(root: Path, ep: str = "EP-T-01") -> Path:
    """A province of one exam point with one tiny clip (no records)."""
    d = root / "exam_points" / ep
    (d / "footage").mkdir(parents=True)
    write_test_clip(d / "footage" / "R1-C1.mp4", seconds=3)
    (d / "exam_point.yaml").write_text(
        f"exam_point: {ep}\nname: 测试考点\ncity: 杭州市\n"
        "sessions:\n  - {id: S1, start: '2024-06-20 09:00', end: '2024-06-20 09:01'}\n"
        "rooms:\n  - id: R1\n    cameras:\n      - id: C1\n        footage: [footage/R1-C1.mp4]\n", encoding="utf-8")
    return d


def test_a_recording_that_fails_twice_becomes_a_finding(tmp_path, monkeypatch):
    import examaudit.screen as screen

    one = tmp_path / "one"
    ep = "EP-T-01"
    _one_exam_point(one, ep)
    calls = []

    def crashing_worker(job):
        calls.append(job.path.name)
        raise RuntimeError("worker died")

    monkeypatch.setattr(screen, "analyse_job", crashing_worker)
    result = screen_province(one, tmp_path / "out", params=PARAMS, workers=1, reports=False)
    assert len(calls) == 2
    found = read_findings(tmp_path / "out" / ep / "findings.json").findings
    unreadable = [f for f in found if f.kind == FindingKind.video_unreadable]
    assert len(unreadable) == 1 and "failed twice" in unreadable[0].reason_en
    assert result.ranked[0].score.exam_point == ep


def test_problems_are_listed_together_before_any_work(tmp_path):
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "scores.csv").write_text("", encoding="utf-8")
    (tmp_path / "exam_points" / "EP-X").mkdir(parents=True)
    with pytest.raises(InputError) as err:
        plan_province(tmp_path, tmp_path / "out")
    text = str(err.value)
    assert "no roster.csv" in text and "scores file is empty" in text and "EP-X" in text
    assert not (tmp_path / "out").exists()


def test_missing_footage_is_listed_and_kept(tmp_path):
    ep = "EP-T-01"
    clip = _one_exam_point(tmp_path, ep) / "footage" / "R1-C1.mp4"
    clip.unlink()
    plan = plan_province(tmp_path, tmp_path / "out")
    assert [p.path for p in plan.problems] == [str(clip)]
    assert [e.exam_point for e in plan.exam_points] == [ep]


def _score(name: str, p: float) -> ExamPointScore:
    return ExamPointScore(name, "", "", True, p, None, p, [], [], {}, 0.0, None, {})


def test_ranking_controls_fdr_and_orders_by_q():
    scores = [_score("a", 0.5), _score("b", 1e-6), _score("c", 0.03), _score("d", 0.9)]
    ranked = rank_province(scores, fdr=0.10)
    assert [r.score.exam_point for r in ranked] == ["b", "c", "a", "d"]
    assert ranked[0].level == "risk_high" and ranked[0].q_value == pytest.approx(4e-6)
    assert ranked[1].level == "risk_medium"  # q = 0.03 * 4 / 2 = 0.06
    assert ranked[3].level == "risk_none"
    assert np.allclose([r.risk for r in ranked], [1 - r.q_value for r in ranked])


def test_video_evidence_weighs_severity_and_confidence():
    def f(kind, sev, conf):
        return Finding.create(kind=kind, source=Source.video, severity=sev, exam_point="E", confidence=conf,
                              reason_zh="z", reason_en="e", details={"key": f"{kind}{sev}{conf}"})

    assert video_evidence([])[0] == 1.0
    strong = video_evidence([f(FindingKind.looped_segment, Severity.high, 1.0)])[0]
    weak = video_evidence([f(FindingKind.looped_segment, Severity.high, 0.3)])[0]
    low = video_evidence([f(FindingKind.person_lingering, Severity.low, 1.0)])[0]
    assert strong == pytest.approx(1e-3) and strong < weak < 1 and strong < low
    # info findings and records findings are not video evidence
    assert video_evidence([f(FindingKind.footage_gap, Severity.info, 1.0)])[0] == 1.0


def test_cli_lists_every_problem_and_exits_2(tmp_path, capsys):
    from examaudit.cli import main

    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "roster.csv").write_text("candidate_id\n", encoding="utf-8")
    (tmp_path / "exam_points" / "EP-Y").mkdir(parents=True)
    assert main(["screen", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "no scores.csv" in err and "EP-Y" in err
    assert not (tmp_path / "out").exists()


def test_workers_that_cannot_see_the_footage_fail_clearly(tmp_path):
    distributed = pytest.importorskip("distributed")
    from examaudit.screen import DaskRunner

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as lc, \
            distributed.Client(lc) as client:
        runner = DaskRunner(client)
        runner.check_paths([tmp_path])  # seen: no error
        with pytest.raises(InputError, match="shared filesystem.*cannot see .*nowhere.mp4"):
            runner.check_paths([tmp_path / "nowhere.mp4"])
