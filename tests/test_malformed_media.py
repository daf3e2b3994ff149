"""The hostile-media corpus (issues #11 and #18): every file ends in exit 0 with its findings or
exit 2 with one line naming it; never exit 3, a traceback, a hang, or more than 1 GB of memory.

Each file runs ``examaudit analyze`` through the CLI's own ``main`` (so its exit-code mapping is
what is tested) in a forked child of the test process: the child starts warm (no interpreter
start-up, modules already imported), the parent enforces a per-file deadline that no C-level
hang can escape, and ``wait4`` gives the child's peak memory. A handful of files also run
through the real command in a subprocess, with the default options (people and OSD on).

The rules come from the issues:
* a file from which plain PyAV decodes a picture must give samples (exit 0);
* a file from which nothing decodes gives exit 2, or a ``video_unreadable`` finding, and no
  timestamp claim;
* every time in a finding is seconds into the footage, never a raw PTS (DAV counts Unix ms).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import pytest

from malformed_corpus import Case, build_corpus

#: A generous per-file deadline: the files are seconds long, the machine may be loaded.
DEADLINE_S = 90.0
MEMORY_LIMIT_KB = 1024 * 1024  # 1 GB
TIMESTAMP_KINDS = {"footage_gap", "timestamp_jump", "timestamp_backwards", "frame_rate_change"}
VERDICT_KINDS = TIMESTAMP_KINDS | {"splice", "looped_segment", "frozen_video"}


def _build() -> dict[str, Case]:
    # Built once, at collection, into a temporary folder removed when the test process ends;
    # the names parametrise the test. About 3 s of encoding.
    folder = Path(tempfile.mkdtemp(prefix="examaudit-malformed-"))
    atexit.register(shutil.rmtree, folder, True)
    return {c.name: c for c in build_corpus(folder)}


CORPUS = _build()
CASES = list(CORPUS)


@pytest.fixture(scope="session")
def corpus() -> dict[str, Case]:
    # Warm the parent once (the CLI imports every command, the checks import their libraries
    # lazily: seconds), so that each forked child starts with everything loaded.
    from examaudit.cli import build_parser
    from examaudit.video.analyze import AnalyzeParams, analyze_recording

    build_parser()
    analyze_recording(CORPUS["clean_mp4"].path, params=AnalyzeParams(every_s=1.0, people=False, osd=False))
    return CORPUS


def test_corpus_is_big_enough():
    assert len(CASES) >= 40
    assert len(set(CASES)) == len(CASES)


def decodes_a_picture(path: Path) -> bool:
    """The oracle: does plain PyAV decode at least one picture (any size) from the file?"""
    try:
        with open(path, "rb") as fh, av.open(fh, metadata_errors="ignore") as c:
            if not c.streams.video:
                return False
            for n, frame in enumerate(c.decode(c.streams.video[0])):
                return frame.width > 0
                if n > 500:
                    break
    except Exception:  # noqa: BLE001 - the oracle only asks whether anything decodes
        return False
    return False


def run_forked(argv: list[str], log: Path, deadline_s: float = DEADLINE_S) -> tuple[int | None, str, int]:
    """Run ``examaudit.cli.main(argv)`` in a forked child: (exit code or None on timeout, stderr, peak RSS KB)."""
    pid = os.fork()
    if pid == 0:  # the child: run the CLI, report only through the exit code and the log
        code = 99
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            sys.stdout = open(1, "w", closefd=False)
            sys.stderr = open(2, "w", closefd=False, errors="backslashreplace")
            from examaudit.cli import main

            code = main(argv)
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001 - anything escaping main() is itself a failure
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
            code = 98
        finally:
            os._exit(code)
    end = time.monotonic() + deadline_s
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return code, log.read_text(encoding="utf-8", errors="replace"), usage.ru_maxrss
        if time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            _, _, usage = os.wait4(pid, 0)
            return None, log.read_text(encoding="utf-8", errors="replace"), usage.ru_maxrss
        time.sleep(0.02)


def check_outcome(case: Case, code: int | None, err: str, out: Path, rss_kb: int) -> None:
    """The rules every corpus file must meet, whichever way it was run."""
    assert code is not None, f"{case.name}: no answer within {DEADLINE_S:.0f} s (a hang)"
    assert "Traceback" not in err, f"{case.name}: traceback\n{err}"
    assert code in (0, 2), f"{case.name}: exit {code}\n{err}"
    assert rss_kb < MEMORY_LIMIT_KB, f"{case.name}: peak memory {rss_kb / 1024:.0f} MB"
    pictures = decodes_a_picture(case.path)
    if code == 2:
        lines = [ln for ln in err.strip().splitlines() if ln.startswith("examaudit: error:")]
        assert len(lines) == 1, f"{case.name}: expected one error line, got\n{err}"
        assert case.path.name[:6] in lines[0] or "\\x" in lines[0] or case.path.suffix in lines[0], lines[0]
        assert not out.exists(), f"{case.name}: exit 2 must write nothing"
        assert not pictures, f"{case.name}: pictures decode but the file was rejected: {lines[0]}"
        return
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    probe = json.loads((out / "recording.json").read_text(encoding="utf-8"))
    samples = doc["run"]["stats"]["sampling"]["samples"]
    kinds = {f["kind"] for f in doc["findings"]}
    if pictures:
        assert samples > 0, f"{case.name}: pictures decode but no samples"
    if samples == 0:
        assert "video_unreadable" in kinds and not (kinds & VERDICT_KINDS), f"{case.name}: {kinds}"
    # Every time in a finding is seconds into the footage.
    longest = max(probe["timeline"]["duration_s"] or 0.0, probe.get("duration_s") or 0.0, 1.0)
    for f in doc["findings"]:
        for key in ("start_s", "end_s"):
            if f.get(key) is not None:
                assert 0.0 <= f[key] <= longest + 1.0, f"{case.name}: {f['kind']} {key}={f[key]} (footage {longest} s)"
        for e in f["details"].get("errors", []):
            assert e["t_s"] is None or 0.0 <= e["t_s"] <= longest + 1.0, f"{case.name}: error at {e['t_s']} s"
    for e in doc["run"]["stats"].get("demux_errors", []):
        assert e["t_s"] is None or 0.0 <= e["t_s"] <= longest + 1.0, f"{case.name}: demux error at {e['t_s']} s"
    # What the corpus says about particular files.
    if "clean" in case.checks:
        assert samples >= 3 and not (kinds & VERDICT_KINDS), f"{case.name}: {kinds}"
    if "derived" in case.checks:
        assert probe["timing"]["timestamps"] == "derived", probe["timing"]
        assert doc["run"]["stats"]["timing"]["timestamps"] == "derived"
    if "unreadable" in case.checks:
        assert "video_unreadable" in kinds, f"{case.name}: {kinds}"


@pytest.mark.parametrize("name", CASES)
def test_corpus_file_exits_0_or_2(name, corpus, tmp_path):
    case = corpus[name]
    out = tmp_path / "out"
    code, err, rss = run_forked(["analyze", str(case.path), "--out", str(out), "--no-people", "--no-osd",
                                 "--every", "1"], tmp_path / "log.txt")
    check_outcome(case, code, err, out, rss)


# ---------------------------------------------------------------- specific promises of issue #11

FAST = dict(every_s=1.0, people=False, osd=False)


def _decoded(path: Path) -> list:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def test_raw_stream_times_come_from_the_stated_rate_or_fps(tmp_path):
    from examaudit.video.analyze import AnalyzeParams, analyze_recording
    from vendor_formats import moving_frames, write_raw

    p = write_raw(tmp_path / "cam.h264", "h264", moving_frames(40), fps=10, gop=10)
    r = analyze_recording(p, params=AnalyzeParams(**FAST))
    assert r.timing["timestamps"] == "derived" and r.timing["fps"] == 10 and r.timing["fps_source"] == "stream"
    assert r.timeline.duration_s == pytest.approx(4.0)
    assert [row["t_s"] for row in r.rows] == [0.0, 1.0, 2.0, 3.0]
    slow = analyze_recording(p, params=AnalyzeParams(**FAST, fps=5))
    assert slow.timing["fps_source"] == "--fps" and slow.timeline.duration_s == pytest.approx(8.0)
    assert len(slow.rows) == 8 and slow.rows[-1]["t_s"] == pytest.approx(7.0)
    assert "derived" in slow.timing["note_en"] and "推算" in slow.timing["note_zh"]


def test_evidence_frames_of_a_raw_stream_are_the_numbered_frames(tmp_path):
    from examaudit.video.evidence import frames_at
    from vendor_formats import moving_frames, write_raw

    p = write_raw(tmp_path / "cam.265", "hevc", moving_frames(30), fps=10, gop=10)
    ref = _decoded(p)
    got = frames_at(p, [0.0, 1.5, 2.9], derived_fps=10.0)
    assert set(got) == {0.0, 1.5, 2.9}
    assert (got[1.5] == ref[15]).all() and (got[2.9] == ref[29]).all()


def test_dav_gap_is_found_with_evidence_in_footage_seconds(tmp_path):
    # DAV PTS are Unix milliseconds and FFmpeg's dhav demuxer refuses to seek: evidence frames
    # must come from the forward pass, and times must count from the first frame.
    from examaudit.findings import FindingKind
    from examaudit.video.analyze import AnalyzeParams, analyze_recording
    from vendor_formats import moving_frames, write_dav

    p = write_dav(tmp_path / "R1-C1.dav", "h264", moving_frames(40), fps=10, gop=10, gap_after=20, gap_s=6.0)
    r = analyze_recording(p, params=AnalyzeParams(**FAST))
    gaps = [f for f in r.findings if f.kind == FindingKind.footage_gap]
    assert len(gaps) == 1
    assert gaps[0].start_s == pytest.approx(1.9, abs=0.15) and gaps[0].end_s == pytest.approx(8.0, abs=0.15)
    assert len(gaps[0].evidence) == 2 and "missing_frames" not in gaps[0].details
    assert all(0 <= f.start_s <= 10 for f in r.findings if f.start_s is not None)


def test_evidence_frame_that_cannot_be_had_is_listed_missing(tmp_path):
    from examaudit.findings import FindingKind, Severity
    from examaudit.video.analyze import AnalyzeParams, CameraContext, Draft, finalise_drafts
    from vendor_formats import moving_frames, write_dav

    p = write_dav(tmp_path / "R1-C1.dav", "h264", moving_frames(20), fps=10, gop=10)
    d = Draft(FindingKind.footage_gap, Severity.medium, 0.5, 500.0, 0.9, "缺失", "gap",
              frames=[(0.5, "before"), (500.0, "after")])
    findings, images = finalise_drafts([d], p, "pyav", CameraContext(), None, AnalyzeParams(**FAST))
    assert len(images) == 1 and images[0].t_s == 0.5
    assert findings[0].details["missing_frames"] == [{"t_s": 500.0, "caption": "after"}]


def test_invalid_moov_is_not_called_missing(corpus, tmp_path):
    from examaudit.errors import InputError
    from examaudit.video.ingest import ingest

    with pytest.raises(InputError) as err:
        ingest(corpus["mp4_flip_moov"].path)
    assert "present but invalid" in str(err.value) and "missing" not in str(err.value)
    with pytest.raises(InputError) as err:
        ingest(corpus["mp4_cut_before_moov"].path)
    assert "moov" in str(err.value) and "missing" in str(err.value)


def test_raw_stream_wall_clock_comes_from_the_on_screen_clock(tmp_path):
    from datetime import datetime, timedelta

    from examaudit.scenarios.osd import ClockStyle, Osd
    from examaudit.video.analyze import AnalyzeParams, analyze_recording
    from vendor_formats import write_raw

    w0 = datetime(2019, 10, 22, 19, 5, 26)
    h, w = 180, 320
    osd = Osd(w, h, ClockStyle(), "C1")
    rng = np.random.default_rng(0)
    frames = []
    for i in range(30):
        f = np.full((h, w, 3), 130, np.uint8) + rng.integers(0, 6, (h, w, 3), dtype=np.uint8)
        osd.draw(f, w0 + timedelta(seconds=i / 5))
        frames.append(f)
    p = write_raw(tmp_path / "grab.264", "h264", frames, fps=5, gop=5)
    r = analyze_recording(p, params=AnalyzeParams(every_s=1.0, people=False))
    assert r.timing["timestamps"] == "derived"
    assert r.rows[0]["wall_time"].startswith("2019-10-22T19:05:2")
    assert r.rows[-1]["wall_time"].startswith("2019-10-22T19:05:3")


# ---------------------------------------------------------------- through the real command

SUBPROCESS_CASES = ["clean_h264", "clean_dav", "mp4_cut_in_moov", "non_utf8_name_gbk", "ts_pts_backwards"]


def run_command(argv: list[str], log: Path, deadline_s: float) -> tuple[int | None, str, int]:
    """Run ``python -m examaudit.cli argv``: (exit code or None on timeout, stderr, peak RSS KB)."""
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "examaudit.cli", *argv], stdout=subprocess.DEVNULL, stderr=err)
    end = time.monotonic() + deadline_s
    while True:
        done, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if done:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, log.read_text(encoding="utf-8", errors="replace"), usage.ru_maxrss
        if time.monotonic() > end:
            proc.kill()
            _, _, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return None, log.read_text(encoding="utf-8", errors="replace"), usage.ru_maxrss
        time.sleep(0.05)


@pytest.mark.slow  # a fresh interpreter that loads the detector and the OCR: tens of seconds on a loaded machine
@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_corpus_file_through_the_real_command(name, corpus, tmp_path):
    case = corpus[name]
    out = tmp_path / "out"
    # Default options (people and the on-screen clock on), as an auditor runs it.
    code, err, rss = run_command(["analyze", str(case.path), "--out", str(out), "--every", "1"], tmp_path / "log.txt",
                                 DEADLINE_S * 3)
    check_outcome(case, code, err, out, rss)


AUDIT_YAML = """
exam_point: EP-T-09
sessions:
  - {id: S1, start: "2024-06-20 08:58", end: "2024-06-20 09:00"}
rooms:
  - id: R1
    cameras:
      - {id: C1, footage: [footage/R1-C1.dav], footage_start: "2024-06-20 08:58:00"}
      - {id: C2, footage: [footage/R1-C2.h264]}
      - {id: C3, footage: [footage/R1-C3.mp4]}
"""


@pytest.mark.slow  # renders the report and builds the pack: tens of seconds on a loaded machine
def test_audit_of_vendor_exports_with_a_pictureless_file(corpus, tmp_path):
    from vendor_formats import moving_frames, write_dav

    ep = tmp_path / "EP-T-09"
    (ep / "footage").mkdir(parents=True)
    (ep / "exam_point.yaml").write_text(AUDIT_YAML, encoding="utf-8")
    write_dav(ep / "footage" / "R1-C1.dav", "h264", moving_frames(40), fps=10, gop=10, gap_after=20, gap_s=6.0)
    shutil.copy(corpus["clean_h264"].path, ep / "footage" / "R1-C2.h264")
    shutil.copy(corpus["mp4_init_segment_only"].path, ep / "footage" / "R1-C3.mp4")
    out = tmp_path / "out"
    code, err, rss = run_forked(["audit", str(ep), "--out", str(out), "--no-people", "--every", "1", "--workers", "1"],
                                tmp_path / "log.txt", deadline_s=DEADLINE_S * 3)
    assert code == 0 and "Traceback" not in err, err
    assert rss < MEMORY_LIMIT_KB
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    by = {(f["camera"], f["kind"]) for f in doc["findings"]}
    assert ("C1", "footage_gap") in by and ("C3", "video_unreadable") in by
    assert not any(f["camera"] == "C3" and f["kind"] in TIMESTAMP_KINDS for f in doc["findings"])
    gap = next(f for f in doc["findings"] if f["kind"] == "footage_gap" and f["start_s"] is not None)
    assert gap["start_s"] < 3 and gap["wall_start"].startswith("2024-06-20T08:58:01")
    audit = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in audit["recordings"]] == ["analysed", "analysed", "failed"]
    c2 = json.loads(next(out.glob("video/C2/*/recording.json")).read_text(encoding="utf-8"))
    assert c2["timing"]["timestamps"] == "derived"
    assert "derived" in (out / "report.html").read_text(encoding="utf-8") or \
        "推算" in (out / "report.html").read_text(encoding="utf-8")
