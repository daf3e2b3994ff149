"""The hostile-media corpus: clean seed recordings in every container examaudit accepts, and
files cut, corrupted or forged from them (issues #11 and #18).

Everything is generated at test time from a fixed seed into a temporary folder, so the repo
carries no binary fixtures and the corpus can grow without bloating the history. Theora could
not be made here (this FFmpeg build has no Theora encoder), so the Ogg seed carries VP8.

Each :class:`Case` says only what the file is; what must happen to it is decided by the test,
partly from an independent oracle (does plain PyAV decode any picture from it?).
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from vendor_formats import (
    encode_units,
    imkh_header,
    moving_frames,
    pack_header,
    pes_packets,
    program_stream_map,
    ps_bytes,
    system_header,
    write_dav,
    write_imkh_ps,
    write_ps,
    write_raw,
)

FPS = 10
SECONDS = 4
W, H = 160, 96


@dataclass(frozen=True)
class Case:
    """One corpus file.

    Attributes:
        name: test id.
        path: the file.
        seed: the clean file it was made from (None for forged files).
        checks: extra expectations by name (see the test), e.g. ``"derived"``, ``"unreadable"``.
    """

    name: str
    path: Path
    seed: str | None = None
    checks: tuple[str, ...] = field(default_factory=tuple)


def _encode(path: Path, fmt: str, codec: str, *, pix: str = "yuv420p", n: int = FPS * SECONDS, fps: int = FPS,
            size: tuple[int, int] = (W, H), codec_opts: dict | None = None, mux_opts: dict | None = None,
            pts_of=lambda i: i) -> Path:
    w, h = size
    frames = moving_frames(n, w, h)
    with av.open(str(path), "w", format=fmt, options=mux_opts or {}) as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, pix
        s.codec_context.options = codec_opts or {}
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format=pix)
            f.pts = pts_of(i)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


X264 = {"g": str(FPS), "keyint_min": str(FPS), "sc_threshold": "0", "bf": "0", "preset": "ultrafast"}


def make_seeds(d: Path) -> dict[str, Path]:
    """Clean recordings, 4 s at 10 fps, one per container."""
    frames = moving_frames(FPS * SECONDS, W, H)
    seeds = {
        "mp4": _encode(d / "seed.mp4", "mp4", "libx264", codec_opts=X264),
        "mp4_faststart": _encode(d / "seed_faststart.mp4", "mp4", "libx264", codec_opts=X264,
                                 mux_opts={"movflags": "faststart"}),
        "mp4_fragmented": _encode(d / "seed_frag.mp4", "mp4", "libx264", codec_opts=X264,
                                  mux_opts={"movflags": "frag_keyframe+empty_moov"}),
        "mkv": _encode(d / "seed.mkv", "matroska", "libx264", codec_opts=X264),
        "ts": _encode(d / "seed.ts", "mpegts", "libx264", codec_opts=X264),
        "avi": _encode(d / "seed.avi", "avi", "mpeg4", codec_opts={"g": str(FPS)}),
        "flv": _encode(d / "seed.flv", "flv", "flv", codec_opts={"g": str(FPS)}),
        "ogg": _encode(d / "seed.ogg", "ogg", "libvpx", codec_opts={"g": str(FPS), "deadline": "realtime"}),
        "gif": _encode(d / "seed.gif", "gif", "gif", pix="rgb8"),
        "ps": write_ps(d / "seed.ps", "h264", frames, FPS, FPS),
        "ps_h265": write_ps(d / "seed_h265.ps", "hevc", frames, FPS, FPS),
        "imkh": write_imkh_ps(d / "seed_hik.mp4", "h264", frames, FPS, FPS),
        "dav": write_dav(d / "seed.dav", "h264", frames, FPS, FPS),
        "dav_h265": write_dav(d / "seed_h265.dav", "hevc", frames, FPS, FPS),
        "h264": write_raw(d / "seed.h264", "h264", frames, FPS, FPS),
        "h265": write_raw(d / "seed.265", "hevc", frames, FPS, FPS),
    }
    return seeds


def mp4_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """Top-level ``(type, offset, size)`` boxes of an MP4."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        if size < 8:
            break
        out.append((kind, pos, size))
        pos += size
    return out


def _box(data: bytes, kind: bytes) -> tuple[int, int]:
    for k, off, size in mp4_boxes(data):
        if k == kind:
            return off, size
    raise KeyError(kind)


def _flip(data: bytes, at: int, n: int, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    b = bytearray(data)
    b[at:at + n] = rng.integers(0, 256, min(n, len(b) - at), dtype=np.uint8).tobytes()
    return bytes(b)


def _gif_bomb(width: int, height: int, frames: int = 1) -> bytes:
    """A GIF whose logical screen and image are huge while its LZW data is a few bytes."""
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    body = b""
    for _ in range(frames):
        body += b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 1/100 s delay
        body += b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
        body += b"\x02\x02\x44\x01\x00"  # min code size 2, a tiny LZW stream (clear, 0, end)
    return head + body + b"\x3b"


def _ps_without_pts(units: list[tuple[bytes, bool]]) -> bytes:
    out = b""
    for i, (unit, key) in enumerate(units):
        out += pack_header(i * 9000)
        if key:
            out += system_header() + program_stream_map(0x1B)
        out += pes_packets(unit, None)
    return out


def build_corpus(d: Path) -> list[Case]:
    """Write the whole corpus into ``d`` and describe it (about 60 files, a few MB in all)."""
    d.mkdir(parents=True, exist_ok=True)
    seeds = make_seeds(d)
    cases: list[Case] = []

    def add(name: str, data: bytes | None = None, *, seed: str | None = None, suffix: str | None = None,
            checks: tuple[str, ...] = (), path: Path | None = None) -> None:
        if path is None:
            suffix = suffix or (seeds[seed].suffix if seed else ".mp4")
            path = d / f"{name}{suffix}"
            path.write_bytes(data or b"")
        cases.append(Case(name, path, seed, checks))

    # Clean recordings in every container: analysed fully.
    for key, p in seeds.items():
        if key == "mp4_fragmented":
            continue
        checks = ("clean",)
        if key in ("h264", "h265"):
            checks += ("derived",)
        if key in ("dav", "dav_h265"):
            checks += ("absolute_pts",)
        add(f"clean_{key}", seed=key, path=p, checks=checks)

    mp4 = seeds["mp4"].read_bytes()  # ftyp, free, mdat, moov (moov at the end)
    mdat_off, mdat_size = _box(mp4, b"mdat")
    moov_off, moov_size = _box(mp4, b"moov")
    fs = seeds["mp4_faststart"].read_bytes()  # ftyp, moov, free, mdat
    fs_moov_off, fs_moov_size = _box(fs, b"moov")
    fs_mdat_off, fs_mdat_size = _box(fs, b"mdat")
    # Truncation at 10 offsets: before, inside and after the headers, moov and mdat.
    cuts = {
        "cut_in_ftyp": mp4[:10],
        "cut_after_ftyp": mp4[:mdat_off],
        "cut_in_mdat_header": mp4[:mdat_off + 6],
        "cut_mdat_25pct": mp4[:mdat_off + mdat_size // 4],
        "cut_mdat_75pct": mp4[:mdat_off + mdat_size * 3 // 4],
        "cut_before_moov": mp4[:moov_off],
        "cut_in_moov": mp4[:moov_off + moov_size // 2],
        "cut_last_8_bytes": mp4[:-8],
        "faststart_cut_in_moov": fs[:fs_moov_off + fs_moov_size // 2],
        "faststart_cut_after_moov": fs[:fs_mdat_off + 8],
        "faststart_cut_mdat_50pct": fs[:fs_mdat_off + fs_mdat_size // 2],
    }
    for name, data in cuts.items():
        add(f"mp4_{name}", data, seed="mp4")
    # Flipped bytes: in the headers and in the middle.
    add("mp4_flip_moov", _flip(mp4, moov_off + 8, 200), seed="mp4", checks=("moov_invalid",))
    add("mp4_flip_mdat_middle", _flip(mp4, mdat_off + mdat_size // 2, 600), seed="mp4")
    add("mp4_flip_ftyp", _flip(mp4, 0, 16), seed="mp4")
    # One sample's size in the index made absurd (stsz entry 10: + 512 MB), as one flipped bit in a
    # real clip did: FFmpeg's demuxer fails with ENOMEM partway through sampling.
    for name, data in (("mp4_absurd_sample_size", mp4), ("faststart_absurd_sample_size", fs)):
        b = bytearray(data)
        entry = b.find(b"stsz") + 4 + 4 + 4 + 4 + 10 * 4  # type, version+flags, sample_size, count, entries
        b[entry] |= 0x20
        add(name, bytes(b), seed="mp4")
    mkv = seeds["mkv"].read_bytes()
    add("mkv_flip_header", _flip(mkv, 0, 64), seed="mkv")
    add("mkv_flip_middle", _flip(mkv, len(mkv) // 2, 800), seed="mkv")
    add("mkv_cut_30pct", mkv[: len(mkv) * 3 // 10], seed="mkv", checks=("unreadable",))
    ts = seeds["ts"].read_bytes()
    add("ts_flip_start", _flip(ts, 0, 400), seed="ts")
    add("ts_flip_middle", _flip(ts, len(ts) // 2, 2000), seed="ts")
    add("ts_cut_mid_packet", ts[: len(ts) // 2 + 93], seed="ts")
    avi = seeds["avi"].read_bytes()
    add("avi_cut_before_index", avi[: avi.rfind(b"idx1")], seed="avi")
    add("avi_flip_middle", _flip(avi, len(avi) // 2, 500), seed="avi")
    flv = seeds["flv"].read_bytes()
    add("flv_cut_mid", flv[: len(flv) * 6 // 10], seed="flv")
    ogg = seeds["ogg"].read_bytes()
    add("ogg_cut_mid", ogg[: len(ogg) * 6 // 10], seed="ogg")
    add("ogg_flip_middle", _flip(ogg, len(ogg) // 2, 300), seed="ogg")
    gif = seeds["gif"].read_bytes()
    add("gif_cut_mid", gif[: len(gif) // 2], seed="gif")
    # Vendor and raw formats cut mid-packet.
    for key in ("ps", "ps_h265", "imkh", "dav", "dav_h265", "h264", "h265"):
        data = seeds[key].read_bytes()
        checks = ("derived",) if key in ("h264", "h265") else ()
        add(f"{key}_cut_40pct", data[: len(data) * 4 // 10 + 7], seed=key, checks=checks)
    dav = seeds["dav"].read_bytes()
    add("dav_cut_70pct", dav[: len(dav) * 7 // 10 + 3], seed="dav", checks=("absolute_pts",))
    add("dav_header_only", dav[:40], seed="dav")
    add("dav_flip_middle", _flip(dav, len(dav) // 2, 300), seed="dav", checks=("absolute_pts",))
    h264 = seeds["h264"].read_bytes()
    add("h264_cut_in_sps", h264[:12], seed="h264")
    add("h264_garbage_prefix", bytes(range(256)) * 8 + h264, seed="h264")
    add("h264_flip_middle", _flip(h264, len(h264) // 2, 300), seed="h264", checks=("derived",))
    # Fragmented MP4: the init segment alone has an index and no pictures.
    frag = seeds["mp4_fragmented"].read_bytes()
    moof = frag.find(b"moof") - 4
    add("mp4_init_segment_only", frag[:moof], seed="mp4_fragmented", checks=("no_pictures",))
    add("mp4_fragmented_cut_mid", frag[: len(frag) // 2], seed="mp4_fragmented")
    # Not video at all, renamed .mp4.
    add("zero_length", b"")
    add("text_as_mp4", "考生名单 / roster\n".encode() * 300)
    add("html_as_mp4", b"<!DOCTYPE html><html><body>" + b"<p>404 Not Found</p>" * 200 + b"</body></html>")
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("footage.mp4", mp4)
    add("zip_as_mp4", zbuf.getvalue())
    add("random_bytes", np.random.default_rng(7).integers(0, 256, 50_000, dtype=np.uint8).tobytes(), suffix=".dav")
    # Audio only.
    audio = d / "audio_only.mp4"
    with av.open(str(audio), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 8000), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 8000
        for pkt in list(s.encode(frame)) + list(s.encode(None)):
            c.mux(pkt)
    add("audio_only", path=audio)
    # Absurd dimensions, frame counts and rates in headers.
    add("gif_bomb_65535", _gif_bomb(65535, 65535), suffix=".gif")
    add("gif_bomb_frames", _gif_bomb(8, 8, frames=3000), suffix=".gif")
    add("gif_big_canvas", _gif_bomb(4000, 4000, frames=2), suffix=".gif")
    i = avi.find(b"avih") + 8
    add("avi_absurd_frame_count", avi[:i + 16] + struct.pack("<I", 0xFFFFFFF0) + avi[i + 20:], seed="avi")
    j = avi.find(b"strh") + 8
    add("avi_zero_rate", avi[:j + 20] + struct.pack("<II", 0, 0) + avi[j + 28:], seed="avi")
    add("avi_huge_rate", avi[:j + 20] + struct.pack("<II", 1, 4_000_000_000) + avi[j + 28:], seed="avi")
    mdhd = mp4.find(b"mdhd") + 4
    add("mp4_zero_timescale", mp4[:mdhd + 12] + struct.pack(">I", 0) + mp4[mdhd + 16:], seed="mp4")
    tkhd = mp4.find(b"tkhd") + 4
    add("mp4_absurd_tkhd_size", mp4[:tkhd + 76] + struct.pack(">II", 60000 << 16, 60000 << 16) + mp4[tkhd + 84:],
        seed="mp4")
    stsd = mp4.find(b"avc1") + 4
    add("mp4_absurd_stsd_size", mp4[:stsd + 24] + struct.pack(">HH", 65535, 65535) + mp4[stsd + 28:], seed="mp4")
    # Timestamps: a huge jump, a backward step, none at all.
    add("mkv_huge_pts_jump", path=_encode(d / "mkv_huge_pts_jump.mkv", "matroska", "libx264", codec_opts=X264,
                                          pts_of=lambda i: i if i < 20 else i + 36_000_000), seed="mkv")
    # Two clips end to end: the second one's PTS start again from the beginning.
    add("ts_pts_backwards", ts + ts, seed="ts")
    units = encode_units("h264", moving_frames(FPS * SECONDS, W, H), FPS, FPS)
    add("ps_no_pts", _ps_without_pts(units), suffix=".ps", checks=("derived_or_container",))
    add("ps_huge_pts_jump", ps_bytes("h264", units[:20], FPS) + ps_bytes("h264", units[20:], FPS, start_pts=2**32),
        suffix=".ps")
    add("imkh_header_only", imkh_header("h264") + pack_header(0), suffix=".mp4")
    # Non-UTF-8 file names (GBK-encoded Chinese, Latin-1), as Windows NVR exports arrive on a USB stick.
    for label, raw in (("gbk", "第一考场录像".encode("gbk")), ("latin1", "caméra".encode("latin-1"))):
        name = os.fsdecode(os.fsencode(str(d)) + b"/" + raw + b".mp4")
        Path(name).write_bytes(mp4)
        add(f"non_utf8_name_{label}", path=Path(name), seed="mp4", checks=("clean",))
    return cases
