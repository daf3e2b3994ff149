"""Bad footage: each case ends in a clear finding or a one-line InputError (exit 2), never a crash."""

import json

import av
import numpy as np
import pytest

from examaudit.cli import main
from examaudit.findings import FindingKind
from examaudit.video.analyze import AnalyzeParams, analyze_recording
from examaudit.video.integrity import frame_rate_changes

FAST = AnalyzeParams(every_s=1.0, people=False, osd=False)


def kinds(result):
    return {f.kind for f in result.findings}


def _exit2(capsys, path, tmp_path, match):
    code = main(["analyze", str(path), "--out", str(tmp_path / "out"), "--no-people"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert any(str(path) in line and match in line for line in err), err
    assert not (tmp_path / "out").exists()


def test_zero_length_file_exits_2(tmp_path, capsys):
    p = tmp_path / "empty.mp4"
    p.write_bytes(b"")
    _exit2(capsys, p, tmp_path, "empty")


def test_non_video_exits_2(tmp_path, capsys):
    p = tmp_path / "notes.mp4"
    p.write_text("考生名单\n" * 200, encoding="utf-8")
    _exit2(capsys, p, tmp_path, "not a readable video")


def test_audio_only_exits_2(tmp_path, capsys):
    p = tmp_path / "audio.mka"
    with av.open(str(p), "w") as c:
        s = c.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 8000), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for pkt in list(s.encode(frame)) + list(s.encode(None)):
            c.mux(pkt)
    _exit2(capsys, p, tmp_path, "no video stream")


def test_absurd_dimensions_exit_2(tmp_path, capsys):
    p = tmp_path / "huge.mkv"
    with av.open(str(p), "w") as c:
        s = c.add_stream("ffv1", rate=1)
        s.width, s.height, s.pix_fmt = 16, 16, "gray"
        for pkt in list(s.encode(av.VideoFrame.from_ndarray(np.zeros((16, 16), np.uint8), format="gray"))) + list(s.encode(None)):
            c.mux(pkt)
    data = bytearray(p.read_bytes())
    # Matroska PixelWidth / PixelHeight elements (0xB0 / 0xBA) with a 1-byte size: make them 40000.
    for tag in (b"\xb0\x81\x10", b"\xba\x81\x10"):
        i = data.find(tag)
        assert i >= 0
        data[i:i + 3] = tag[:1] + b"\x82\x9c"  # 0x9c40 = 40000, size 2 (one byte longer)
        data[i + 3:i + 3] = b"\x40"
    p.write_bytes(bytes(data))
    code = main(["analyze", str(p), "--out", str(tmp_path / "out"), "--no-people"])
    assert code == 2
    assert str(p) in capsys.readouterr().err


def test_unsupported_codec_is_named(tmp_path, capsys):
    # A stream FFmpeg can demux but this build cannot decode: a made-up FourCC in AVI.
    src = tmp_path / "src.avi"
    with av.open(str(src), "w") as c:
        s = c.add_stream("mjpeg", rate=5)
        s.width, s.height, s.pix_fmt = 64, 48, "yuvj420p"
        for i in range(10):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), format="rgb24")
            for pkt in s.encode(f):
                c.mux(pkt)
        for pkt in s.encode(None):
            c.mux(pkt)
    data = src.read_bytes().replace(b"MJPG", b"XQZ9")
    p = tmp_path / "weird.avi"
    p.write_bytes(data)
    code = main(["analyze", str(p), "--out", str(tmp_path / "out"), "--no-people"])
    err = capsys.readouterr().err
    if code == 0:  # FFmpeg guessed a decoder anyway: then the footage must at least be flagged
        doc = json.loads((tmp_path / "out" / "findings.json").read_text())
        assert doc["run"]["stats"]["sampling"]["samples"] >= 0
    else:
        assert code == 2 and str(p) in err and "\n" not in err.strip()


def test_truncated_file_keeps_what_is_before_the_cut(clip_factory, tmp_path):
    clip = clip_factory("t.mkv", seconds=12, fps=10, gop_s=1.0)
    data = clip.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) * 6 // 10])
    r = analyze_recording(cut, params=FAST)
    assert r.sampling.samples >= 5  # the first part was analysed
    assert FindingKind.video_unreadable in kinds(r)
    f = next(f for f in r.findings if f.kind == FindingKind.video_unreadable)
    assert "declares" in f.reason_en or "damaged" in f.reason_en


def test_truncated_mp4_without_index_is_one_line_error_or_fallback(clip_factory, tmp_path, capsys):
    clip = clip_factory("t.mp4", seconds=6, fps=10)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[:-2000])  # moov is at the end: it is now broken
    code = main(["analyze", str(cut), "--out", str(tmp_path / "out"), "--no-people"])
    err = capsys.readouterr().err.strip()
    assert code in (0, 2)
    if code == 2:
        assert str(cut) in err and len(err.splitlines()) == 1


def test_corrupt_bytes_mid_file_analysis_continues_after(clip_factory, tmp_path):
    clip = clip_factory("c.ts", seconds=20, fps=10, gop_s=1.0)
    data = bytearray(clip.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 3000] = bytes((i * 37) & 0xFF for i in range(3000))
    bad = tmp_path / "bad.ts"
    bad.write_bytes(bytes(data))
    r = analyze_recording(bad, params=FAST)
    ts = [row["t_s"] for row in r.rows]
    assert ts[0] == 0.0 and ts[-1] >= 18.0  # before and after the damage
    assert r.sampling.samples >= 15


def test_variable_frame_rate_is_reported(tmp_path):
    from examaudit.scenarios.clip import ClipWriter

    p = tmp_path / "vfr.mkv"
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (96, 160, 3), dtype=np.uint8)
    with ClipWriter(p, 160, 96, fps=30, gop_s=1.0) as w:
        t, i = 0.0, 0
        while t < 30.0:
            w.write(np.roll(base, i, axis=1), t)
            t += 1 / 30 if t < 15 else 1 / 10  # 30 fps, then 10 fps
            i += 1
    r = analyze_recording(p, params=FAST)
    fr = [f for f in r.findings if f.kind == FindingKind.frame_rate_change]
    assert len(fr) == 1
    assert fr[0].start_s == pytest.approx(15, abs=1.5)
    assert fr[0].details["fps_before"] == pytest.approx(30, rel=0.05)
    assert fr[0].details["fps_after"] == pytest.approx(10, rel=0.05)


def test_jittery_constant_rate_is_not_a_change():
    rng = np.random.default_rng(1)
    t = np.cumsum(np.full(3000, 0.1) + rng.normal(0, 0.01, 3000))
    assert frame_rate_changes(t) == []
