import av
import numpy as np
import pytest

from examaudit.errors import InputError
from examaudit.video.bitstream import read_packets, timeline_breaks
from examaudit.video.ingest import ingest, sha256_file
from examaudit.video.sampler import SamplingStats, choose_mode, iter_samples


def test_ingest_probe_and_hash(clip_factory):
    clip = clip_factory(seconds=4, fps=10, gop_s=1.0)
    rec = ingest(clip)
    assert rec.reader == "pyav" and rec.video.codec == "h264"
    assert (rec.video.width, rec.video.height) == (160, 96)
    assert rec.video.fps == pytest.approx(10, rel=0.01)
    assert rec.duration_s == pytest.approx(4.0, abs=0.2)
    assert rec.sha256 == sha256_file(clip) and len(rec.sha256) == 64


@pytest.mark.parametrize(
    "content, match",
    [(None, "file not found"), (b"", "empty"), (b"this is a text file, renamed\n" * 50, "not a readable video")],
)
def test_ingest_rejects_bad_files_naming_them(tmp_path, content, match):
    p = tmp_path / "bad.mp4"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(InputError, match=match) as err:
        ingest(p)
    assert str(p) in str(err.value) and "\n" not in str(err.value)


def test_audio_only_file_is_rejected(tmp_path):
    p = tmp_path / "audio.wav"
    with av.open(str(p), "w") as c:
        s = c.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for pkt in s.encode(frame):
            c.mux(pkt)
        for pkt in s.encode(None):
            c.mux(pkt)
    with pytest.raises(InputError, match="audio only"):
        ingest(p)


def test_bitstream_finds_gop_and_gap(clip_factory):
    clip = clip_factory(seconds=10, fps=10, gop_s=1.0, skip=(4.0, 7.0))
    tl = read_packets(clip)
    assert tl.gop_s == pytest.approx(1.0, abs=0.11)
    gaps = [b for b in timeline_breaks(tl) if b.kind == "gap"]
    assert len(gaps) == 1
    assert gaps[0].start_s == pytest.approx(3.9, abs=0.11) and gaps[0].end_s == pytest.approx(7.0, abs=0.11)
    assert gaps[0].missing_s == pytest.approx(3.0, abs=0.15)


def test_continuous_clip_has_no_breaks(clip_factory):
    assert timeline_breaks(read_packets(clip_factory(seconds=6))) == []


def test_keyframe_mode_decodes_only_keyframes(clip_factory):
    clip = clip_factory(seconds=10, fps=10, gop_s=1.0)
    tl = read_packets(clip)
    stats = SamplingStats()
    samples = list(iter_samples(clip, 2.0, gop_s=tl.gop_s, total_frames=len(tl), stats=stats))
    assert stats.mode == "keyframes"
    assert stats.frames_decoded == 10 and stats.frames_skipped == 90
    assert [round(s.t_s) for s in samples] == [0, 2, 4, 6, 8]
    assert all(s.keyframe for s in samples) and samples[0].image.shape == (96, 160, 3)


def test_sequential_mode_when_gop_longer_than_interval(clip_factory):
    clip = clip_factory(seconds=6, fps=10, gop_s=3.0)
    stats = SamplingStats()
    samples = list(iter_samples(clip, 1.0, gop_s=3.0, stats=stats))
    assert stats.mode == "sequential" and stats.frames_decoded == 60
    assert len(samples) == 6
    assert choose_mode(None, 5.0) == "sequential" and choose_mode(2.0, 5.0) == "keyframes"


def test_opencv_fallback_samples(clip_factory):
    clip = clip_factory(seconds=4, fps=10)
    stats = SamplingStats()
    samples = list(iter_samples(clip, 1.0, stats=stats, reader="opencv"))
    assert stats.mode == "opencv-grab" and len(samples) == 4


def test_gif_is_accepted(footage_dir):
    rec = ingest(footage_dir / "classroom.gif")
    assert rec.video.codec == "gif" and rec.video.width == 480
    assert len(list(iter_samples(footage_dir / "classroom.gif", 1.0))) >= 2
