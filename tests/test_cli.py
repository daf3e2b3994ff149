import json

import jsonschema
import pytest

from examaudit.cli import COMMANDS, build_parser, main
from examaudit.findings import SCHEMA_PATH


def test_top_level_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    assert "analyze" in capsys.readouterr().out


def test_every_subcommand_has_help(capsys):
    parser = build_parser()
    names = parser._subparsers._group_actions[0].choices
    assert set(names) <= set(COMMANDS) and "analyze" in names
    for name in names:
        with pytest.raises(SystemExit) as e:
            main([name, "--help"])
        assert e.value.code == 0, name
        assert "usage:" in capsys.readouterr().out


def test_usage_error_exits_2():
    assert main([]) == 2
    with pytest.raises(SystemExit) as e:
        main(["analyze"])
    assert e.value.code == 2


@pytest.mark.parametrize("content", [None, b"", b"plain text, not a video\n" * 40])
def test_analyze_bad_input_exit_2_no_output(tmp_path, capsys, content):
    video = tmp_path / "x.mp4"
    if content is not None:
        video.write_bytes(content)
    out = tmp_path / "out"
    assert main(["analyze", str(video), "--out", str(out), "--no-people"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(video) in err[0]
    assert not out.exists()
    assert not any(p.name.startswith(".out.partial") for p in tmp_path.iterdir())


def test_analyze_writes_valid_outputs_and_finds_a_gap(tmp_path, clip_factory):
    clip = clip_factory(seconds=12, fps=10, gop_s=1.0, skip=(4.0, 8.0), size=(320, 192))
    out = tmp_path / "out"
    assert main(["analyze", str(clip), "--out", str(out), "--every", "1", "--no-people"]) == 0
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    gaps = [f for f in doc["findings"] if f["kind"] == "footage_gap"]
    assert len(gaps) == 1 and 3.5 <= gaps[0]["start_s"] <= 4.0 and 7.9 <= gaps[0]["end_s"] <= 8.1
    # evidence frames exist and their hashes match
    import hashlib
    assert len(gaps[0]["evidence"]) == 2
    for ev in gaps[0]["evidence"]:
        assert hashlib.sha256((out / ev["path"]).read_bytes()).hexdigest() == ev["sha256"]
    assert doc["run"]["inputs"][0]["sha256"] and doc["run"]["stats"]["sampling"]["mode"] == "keyframes"
    header = (out / "samples.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[0] == "t_s"


def test_sample_columns_do_not_depend_on_which_check_filled_them_first():
    from examaudit.video.analyze import sample_columns

    rows = [{"t_s": 0.0, "osd_text": "x", "seat_02": 1}, {"t_s": 5.0, "trusted": True, "seat_01": 0, "wall_time": "w"}]
    assert sample_columns(rows) == ["t_s", "wall_time", "trusted", "osd_text", "seat_02", "seat_01"]


def test_analyze_truncated_mp4_keeps_what_precedes_damage(tmp_path, footage_dir):
    # The real clip has its index at the front, so a cut-off copy is still partly readable.
    src = (footage_dir / "one-by-one-person-detection.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(src[: len(src) // 3])
    out = tmp_path / "out"
    assert main(["analyze", str(cut), "--out", str(out), "--no-people"]) == 0
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    bad = [f for f in doc["findings"] if f["kind"] == "video_unreadable"]
    assert len(bad) == 1 and bad[0]["details"]["truncated"]
    assert bad[0]["details"]["readable_s"] > 20
    assert doc["run"]["stats"]["sampling"]["samples"] >= 4


def test_bench_prints_ratios_against_baseline(clip_factory, capsys):
    clip = clip_factory(seconds=6, size=(320, 192))
    assert main(["bench", "--video", str(clip), "--no-people", "--every", "2"]) == 0
    out = capsys.readouterr().out
    rows = [l for l in out.splitlines() if "×" in l and not l.startswith("stage")]
    assert any(r.startswith("bitstream pass") for r in rows) and any(r.startswith("baseline") for r in rows)
    base = next(r for r in rows if r.startswith("baseline"))
    assert "1.0×" in base  # the baseline is the unit the others are measured in
