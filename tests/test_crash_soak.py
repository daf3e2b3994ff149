"""Crash soak of the command line (issue #18 item 6): ``kill -9`` at random moments, rerun the
same command, and the findings equal an uninterrupted run's; every custody chain verifies and
``examaudit verify`` passes the evidence packs.

The default suite runs a short soak (2 kills on small generated clips, fast settings, no
reports) so the resume path of a really killed process is exercised on every ``make test``.
The slow soaks audit and screen the sample exam points with the settings a user gets:

    .venv/bin/python -m pytest -m slow -o addopts="" -s tests/test_crash_soak.py

``EXAMAUDIT_SOAK_SEED`` replays the kill moments, ``EXAMAUDIT_SOAK_KILLS`` sets how many (10).
See tests/crash_soak.py for what "the same findings" leaves out and why.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from examaudit.cli import main
from examaudit.custody import read_custody

from conftest import write_test_clip
from crash_soak import (
    SoakLog,
    broken_chains,
    cli,
    comparable_document,
    differences,
    kill_and_rerun,
    soak_kills,
    soak_seed,
    stale_stages,
    timed_run,
)

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_media"

SMALL_YAML = """
exam_point: EP-T-09
name: 崩溃测试考点
city: 温州市
sessions:
  - {id: S1, start: "2024-06-20 09:00", end: "2024-06-20 09:01"}
rooms:
  - id: R1
    cameras:
      - {id: C1, footage: [footage/R1-C1.mp4], footage_start: "2024-06-20 09:00:00"}
      - {id: C2, footage: [footage/R1-C2.mp4], footage_start: "2024-06-20 09:00:00"}
"""


def _check_audit_round(out: Path, reference: dict, verify_pack: bool) -> None:
    assert differences(comparable_document(out / "findings.json"), reference) == []
    assert broken_chains(out) == {}
    assert [s for s in stale_stages(out) if (out / s).is_dir()] == []
    if verify_pack:
        done = subprocess.run(cli("verify", str(out / "evidence_pack.zip")), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def _custody_size(out: Path) -> int:
    return (out / "custody.jsonl").stat().st_size if (out / "custody.jsonl").is_file() else 0


def _soak_audit(exam_point: Path, work: Path, options: list[str], kills: int, verify_pack: bool,
                span_share: float = 1.0, after_a_recording: bool = False) -> SoakLog:
    """Kill moments count from the run's first custody entry (the audit has begun; before it, a
    kill only interrupts Python's imports), or ``after_a_recording`` from when one recording is
    done too (so every rerun has finished work to reuse), and are drawn over the uninterrupted
    audit's length (from that entry to the end of the process), or its first ``span_share``."""
    ref_out, out = work / "uninterrupted", work / "killed"
    t = time.monotonic()
    assert main(["audit", str(exam_point), "--out", str(ref_out), *options]) == 0  # in this process: one start less
    total = time.monotonic() - t
    reference = comparable_document(ref_out / "findings.json")
    first = datetime.fromisoformat(read_custody(ref_out / "custody.jsonl")[0]["at"])
    span = (datetime.now(timezone.utc) - first).total_seconds()
    assert 0 < span <= total
    log = SoakLog(soak_seed())

    def begun():
        size = _custody_size(out)  # at the start: the run has begun once it appends
        return lambda: _custody_size(out) > size and (not after_a_recording or any(out.glob("video/*/*/done.json")))

    def fresh() -> None:
        shutil.rmtree(out)

    rerun = cli("audit", str(exam_point), "--out", str(out), *options)
    kill_and_rerun(rerun, kills=kills, span_s=span * span_share, rng=random.Random(log.seed), log=log,
                   on_round=lambda code: _check_audit_round(out, reference, verify_pack), fresh=fresh,
                   begun=begun)
    print(log.line(f"audit {exam_point.name} (uninterrupted {total:.0f} s, {span:.0f} s after its first entry)"))
    assert log.kills == kills
    return log


def test_audit_killed_twice_resumes_to_the_same_findings(tmp_path):
    """The short soak of the default suite: two tiny recordings, no person detector, no report."""
    ep = tmp_path / "EP-T-09"
    (ep / "footage").mkdir(parents=True)
    (ep / "exam_point.yaml").write_text(SMALL_YAML, encoding="utf-8")
    for i, skip in enumerate([(8.0, 12.0), None], start=1):
        write_test_clip(ep / "footage" / f"R1-C{i}.mp4", seconds=20, fps=5, size=(160, 96), skip=skip)
    _soak_audit(ep, tmp_path, ["--no-people", "--no-report", "--workers", "1", "--every", "2"], kills=2,
                verify_pack=False, span_share=0.25, after_a_recording=True)
    # Each kill came after a recording was done, so the last run resumed: it reused finished work.
    assert "recording result reused" in [e["action"] for e in read_custody(tmp_path / "killed" / "custody.jsonl")]


@pytest.mark.slow  # minutes: the sample exam point audited with everything on, about 15 times
def test_audit_of_the_sample_exam_point_survives_ten_kills(tmp_path):
    _soak_audit(SAMPLE / "EP-WZ-02", tmp_path, [], kills=soak_kills(10), verify_pack=True)


def _province(root: Path) -> Path:
    """The sample set as a province folder: both exam points and the province's records export."""
    (root / "exam_points").mkdir(parents=True)
    for ep in ("EP-HZ-01", "EP-WZ-02"):
        (root / "exam_points" / ep).symlink_to(SAMPLE / ep, target_is_directory=True)
    (root / "records").symlink_to(SAMPLE / "records", target_is_directory=True)
    return root


def _screen_outputs(out: Path) -> dict:
    """Each exam point's findings and the ranking (exam_points.csv without its report links)."""
    import csv

    with open(out / "exam_points.csv", encoding="utf-8-sig", newline="") as fh:
        ranked = [{k: v for k, v in row.items() if k != "report"} for row in csv.DictReader(fh)]
    return {"ranked": ranked, **{p.parent.name: comparable_document(p) for p in sorted(out.glob("*/findings.json"))}}


@pytest.mark.slow  # minutes: the sample province screened with everything on, again and again
def test_screen_of_the_sample_province_survives_ten_kills(tmp_path):
    province = _province(tmp_path / "province")
    ref_out, out = tmp_path / "uninterrupted", tmp_path / "killed"
    span = timed_run(cli("screen", str(province), "--out", str(ref_out)))
    reference = _screen_outputs(ref_out)

    def check(code: int) -> None:
        assert differences(_screen_outputs(out), reference) == []
        assert broken_chains(out) == {}
        assert [s for s in stale_stages(out) if (out / s).is_dir()] == []
        for pack in sorted(out.glob("*/evidence_pack.zip")):
            done = subprocess.run(cli("verify", str(pack)), capture_output=True, text=True)
            assert done.returncode == 0, done.stderr

    log = SoakLog(soak_seed())
    kills = soak_kills(10)
    kill_and_rerun(cli("screen", str(province), "--out", str(out)), kills=kills, span_s=span,
                   rng=random.Random(log.seed), log=log, on_round=check, fresh=lambda: shutil.rmtree(out))
    print(log.line(f"screen of the sample province (uninterrupted {span:.0f} s)"))
    assert log.kills == kills


def test_killing_only_the_command_leaves_no_pool_worker_behind(tmp_path):
    """kill -9 of the audit's own process (not its group): its pool workers must die with it, not
    go on writing into the output folder while a rerun works there, nor linger."""
    import os
    import signal

    ep = tmp_path / "EP-T-09"
    (ep / "footage").mkdir(parents=True)
    (ep / "exam_point.yaml").write_text(SMALL_YAML, encoding="utf-8")
    for i in (1, 2):
        write_test_clip(ep / "footage" / f"R1-C{i}.mp4", seconds=60, fps=5, size=(160, 96))
    out = tmp_path / "out"
    proc = subprocess.Popen(cli("audit", str(ep), "--out", str(out), "--no-people", "--no-report", "--workers", "2",
                                "--every", "0.2"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        while _custody_size(out) == 0 and proc.poll() is None:  # the audit has begun: the pool is up
            time.sleep(0.05)
        time.sleep(0.5)
        workers = _group(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert len(workers) >= 2, workers  # the command and at least one worker were running
        deadline = time.monotonic() + 60  # generous: only "they die", not how fast, is the point
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _group(proc.pid) == []
    finally:
        for pid in _group(proc.pid):
            os.kill(pid, signal.SIGKILL)


def _group(pgid: int) -> list[int]:
    """The live (not zombie) processes of a process group."""
    rows = subprocess.run(["ps", "-o", "pid=,stat=", "-g", str(pgid)], capture_output=True, text=True).stdout.split("\n")
    return [int(r.split()[0]) for r in rows if r.strip() and not r.split()[1].startswith("Z")]
