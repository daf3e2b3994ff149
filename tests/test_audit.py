import json

from examaudit.cli import main
from examaudit.custody import check_chain, read_custody
from examaudit.findings import read_findings

from conftest import write_test_clip

YAML = """
exam_point: EP-T-01
sessions:
  - {id: S1, start: "2024-06-20 09:00", end: "2024-06-20 09:01"}
rooms:
  - id: R1
    cameras:
      - id: C1
        footage: [footage/R1-C1.mp4]
        footage_start: "2024-06-20 09:00:00"
      - id: C2
        footage: [footage/R1-C2.mp4]
"""


def make_exam_point(tmp_path):
    ep = tmp_path / "EP-T-01"
    (ep / "footage").mkdir(parents=True)
    (ep / "exam_point.yaml").write_text(YAML, encoding="utf-8")
    write_test_clip(ep / "footage" / "R1-C1.mp4", seconds=10, skip=(3.0, 6.0))
    (ep / "footage" / "R1-C2.mp4").write_bytes(b"not a video at all\n" * 20)
    return ep


def test_audit_survives_a_bad_recording_and_resumes(tmp_path, capsys):
    ep = make_exam_point(tmp_path)
    out = tmp_path / "out"
    args = ["audit", str(ep), "--out", str(out), "--no-people", "--every", "1", "--workers", "1"]
    assert main(args) == 0
    # the report and a verifiable pack come with it, even though the session-end gap has no packets to clip
    from examaudit.report.pack import verify_pack

    assert (out / "report.html").is_file() and verify_pack(out / "evidence_pack.zip").ok
    assert main(["verify", str(out / "evidence_pack.zip")]) == 0
    args.append("--no-report")
    doc = read_findings(out / "findings.json")
    kinds = {(f.camera, f.kind.value) for f in doc.findings}
    assert ("C1", "footage_gap") in kinds and ("C2", "video_unreadable") in kinds
    gap = next(f for f in doc.findings if f.kind.value == "footage_gap" and f.start_s and f.start_s < 5)
    # wall clock from footage_start, evidence paths valid from the top folder
    assert gap.wall_start.isoformat().startswith("2024-06-20T09:00:02") and gap.wall_start.utcoffset().seconds == 8 * 3600
    assert all((out / e.path).is_file() for e in gap.evidence)
    audit = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in audit["recordings"]] == ["analysed", "failed"]

    assert main(args) == 0  # rerun: the finished recording is reused, not analysed again
    audit = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in audit["recordings"]] == ["reused", "failed"]
    log = read_custody(out / "custody.jsonl")
    assert [e["action"] for e in log].count("recording result reused") == 1
    assert check_chain(out / "custody.jsonl") == []


def test_audit_parallel_matches_serial(tmp_path):
    ep = make_exam_point(tmp_path)
    (ep / "footage" / "R1-C2.mp4").unlink()
    write_test_clip(ep / "footage" / "R1-C2.mp4", seconds=8)
    a, b = tmp_path / "a", tmp_path / "b"
    base = ["--no-people", "--every", "1", "--no-report"]
    assert main(["audit", str(ep), "--out", str(a), *base, "--workers", "1"]) == 0
    assert main(["audit", str(ep), "--out", str(b), *base, "--workers", "2"]) == 0
    ids = lambda d: sorted(f.id for f in read_findings(d / "findings.json").findings)  # noqa: E731
    assert ids(a) == ids(b) and ids(a)


def test_audit_missing_config_exit_2(tmp_path, capsys):
    assert main(["audit", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "exam_point.yaml" in capsys.readouterr().err


def test_an_internal_error_in_one_recording_spares_the_others(tmp_path, monkeypatch, capsys):
    import examaudit.audit as audit_mod

    ep = make_exam_point(tmp_path)
    (ep / "footage" / "R1-C2.mp4").unlink()
    write_test_clip(ep / "footage" / "R1-C2.mp4", seconds=4)
    real = audit_mod.analyze_recording

    def flaky(path, **kw):
        if path.name == "R1-C2.mp4":
            raise RuntimeError("simulated bug")
        return real(path, **kw)

    monkeypatch.setattr(audit_mod, "analyze_recording", flaky)
    out = tmp_path / "out"
    args = ["audit", str(ep), "--out", str(out), "--no-people", "--every", "1", "--workers", "1", "--no-report"]
    assert main(args) == 3
    assert "simulated bug" in capsys.readouterr().err
    audit = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in audit["recordings"]] == ["analysed", "error"]
    assert any(f.kind.value == "footage_gap" for f in read_findings(out / "findings.json").findings)
    monkeypatch.setattr(audit_mod, "analyze_recording", real)  # the bug is fixed: a rerun completes
    assert main(args) == 0
    audit = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in audit["recordings"]] == ["reused", "analysed"]


def test_audit_checks_the_received_checksums_before_analysing(tmp_path, capsys):
    """`--originals SHA256SUMS` (issue #18 item 10 on the CLI): the files as received pass; a recording
    changed since it was received stops the audit with an evidence_integrity finding and exit 2, and no
    report or pack is built on it."""
    import hashlib

    ep = make_exam_point(tmp_path)
    sums = tmp_path / "received.sha256"
    sums.write_text("".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(ep).as_posix()}\n"
                            for p in sorted((ep / "footage").iterdir())), encoding="utf-8")
    out = tmp_path / "out"
    base = ["audit", str(ep), "--out", str(out), "--no-people", "--every", "1", "--workers", "1",
            "--originals", str(sums)]
    assert main(base) == 0
    assert (out / "evidence_pack.zip").is_file()

    with open(ep / "footage" / "R1-C1.mp4", "r+b") as fh:  # one byte changed after receipt
        fh.seek(2000)
        b = fh.read(1)
        fh.seek(2000)
        fh.write(bytes([b[0] ^ 0xFF]))
    capsys.readouterr()
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "R1-C1.mp4" in err and "audit stopped" in err
    doc = read_findings(out / "findings.json")
    assert [(f.kind.value, f.severity.value, f.recording) for f in doc.findings] == [
        ("evidence_integrity", "high", "footage/R1-C1.mp4")]
    assert not (out / "evidence_pack.zip").exists() and not (out / "report.html").exists()
    assert check_chain(out / "custody.jsonl") == []


def test_audit_refuses_a_malformed_checksum_file_naming_the_line(tmp_path, capsys):
    ep = make_exam_point(tmp_path)
    sums = tmp_path / "received.sha256"
    sums.write_text("# received\n" + "ab" * 32 + "  footage/R1-C1.mp4\nnot a checksum line\n", encoding="utf-8")
    assert main(["audit", str(ep), "--out", str(tmp_path / "o"), "--originals", str(sums), "--no-people"]) == 2
    err = capsys.readouterr().err
    assert "received.sha256, line 3" in err and "Traceback" not in err
