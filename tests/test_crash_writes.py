"""What a process killed mid-write leaves behind must never pass for a whole result.

Each test stands for one moment of a ``kill -9`` (the soak in test_crash_soak.py hits such
moments at random; these hit them on purpose): a write cut in half, a staged result moved in
only partly, a staging folder left by a dead process.
"""

from __future__ import annotations

import builtins
import io
import os
import socket
from pathlib import Path

import pytest

from examaudit.audit import RecordingJob, analyse_job
from examaudit.findings import FindingsDocument, RunInfo, now_utc, read_findings, write_findings
from examaudit.outputs import staged_dir
from examaudit.video.analyze import AnalyzeParams

from conftest import write_test_clip
from test_audit import YAML


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (a BaseException, so no handler turns it into an outcome)."""


def _tearing_open(real_open):
    """``open`` whose files write half of the first chunk given them, then 'die'."""

    def torn_open(file, mode="r", *args, **kw):
        fh = real_open(file, mode, *args, **kw)
        if "w" not in mode and "a" not in mode:
            return fh
        real_write = fh.write

        def write(data):
            real_write(data[: len(data) // 2])
            fh.flush()
            raise _Killed

        fh.write = write
        return fh

    return torn_open


def _doc(command: str) -> FindingsDocument:
    return FindingsDocument(run=RunInfo(command=command, started_at=now_utc(), finished_at=now_utc()), findings=[])


def test_findings_json_is_the_old_one_or_the_new_one_after_a_kill_mid_write(tmp_path, monkeypatch):
    path = tmp_path / "findings.json"
    write_findings(_doc("first run"), path)
    monkeypatch.setattr(io, "open", _tearing_open(io.open))  # pathlib writes through io.open
    monkeypatch.setattr(builtins, "open", _tearing_open(builtins.open))
    with pytest.raises(_Killed):
        write_findings(_doc("second run, killed"), path)
    monkeypatch.undo()
    assert read_findings(path).run.command == "first run"  # whole, not half of the second


def _recording_job(tmp_path: Path) -> RecordingJob:
    ep = tmp_path / "EP-T-01"
    (ep / "footage").mkdir(parents=True)
    (ep / "exam_point.yaml").write_text(YAML, encoding="utf-8")
    clip = write_test_clip(ep / "footage" / "R1-C1.mp4", seconds=4)
    return RecordingJob(ep / "exam_point.yaml", "R1", "C1", clip, tmp_path / "out" / "video" / "C1" / "R1-C1",
                        AnalyzeParams(every_s=1.0, people=False))


def test_a_recording_killed_while_its_result_is_moved_in_is_analysed_again(tmp_path, monkeypatch):
    """staged_dir moves a result in file by file, in the order the filesystem lists them; a kill
    between two moves must not leave a done.json that vouches for the half that arrived."""
    job = _recording_job(tmp_path)
    real_iterdir, real_rename = Path.iterdir, Path.rename
    moved = []

    def marker_first(self):  # the worst order a filesystem may list the stage in
        return iter(sorted(real_iterdir(self), key=lambda p: p.name != "done.json"))

    def rename(self, target):
        if ".partial-" in self.parent.name:
            if moved:
                raise _Killed
            moved.append(self.name)
        return real_rename(self, target)

    monkeypatch.setattr(Path, "iterdir", marker_first)
    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(_Killed):
        analyse_job(job)
    monkeypatch.undo()
    assert len(moved) == 1
    assert not (job.out_dir / "done.json").exists()
    assert analyse_job(job).status == "analysed"  # the rerun does the work again instead of reusing half
    assert analyse_job(job).status == "reused"


def test_a_stage_left_by_a_killed_process_is_cleared_but_a_live_or_remote_one_is_not(tmp_path):
    out = tmp_path / "video" / "C1" / "R1-C1"
    host = socket.gethostname()
    dead = out.parent / f".R1-C1.partial-999999999@{host}"  # no such process
    alive = out.parent / f".R1-C1.partial-{os.getppid()}@{host}"  # another process, still running
    elsewhere = out.parent / ".R1-C1.partial-999999999@another-machine"  # on a shared filesystem: cannot tell
    for stage in (dead, alive, elsewhere):
        stage.mkdir(parents=True)
        (stage / "findings.json").write_text("{", encoding="utf-8")  # half a result
    with staged_dir(out) as stage:
        (stage / "findings.json").write_text("{}", encoding="utf-8")
    # video/*/*/findings.json (the records cross-check, the report's recordings) matches hidden folders too.
    assert sorted(p.parent.name for p in tmp_path.glob("video/*/*/findings.json")) == sorted(
        [alive.name, elsewhere.name, "R1-C1"])
