"""Write camera exports the way the devices do, for tests: raw H.264/H.265, MPEG-PS with a PSM,
Hikvision-style IMKH + PS, and Dahua DHAV (.dav).

Real DAV, Hikvision and GB28181 exports could not be obtained for this project, so these
writers follow the formats' specifications instead:

* MPEG-PS (ISO/IEC 13818-1 §2.5): pack header with SCR, system header, a program stream map
  (PSM) whose elementary stream map names the video as stream_type 0x1B (H.264) or 0x24
  (H.265), as GB28181 and Hikvision devices write it, then PES packets (stream id 0xE0) with
  a 90 kHz PTS on the first PES of each access unit. FFmpeg's ``mpeg`` demuxer takes the
  codec from the PSM, which is why the PSM matters.
* IMKH: Hikvision's 40-byte file header ("IMKH", then version, system format and codec
  fields) in front of such a PS. FFmpeg ignores it and finds the first pack header.
* DHAV: the framing FFmpeg's ``libavformat/dhav.c`` reads. Each frame is a 24-byte header
  ("DHAV", type 0xFD for a video I-frame or 0xFC for a P-frame, subtype, channel,
  sub-number, frame number u32le, frame length u32le, date u32le packed as
  year-2000:6 month:4 day:5 hour:5 min:6 sec:6, a u16le millisecond counter, extension
  length, checksum), extension records (0x80: width/8, height/8; 0x81: codec 0x2 H.264 or
  0xC H.265 and the frame rate), the payload, and a trailer "dhav" + frame length u32le.
  Timestamps are absolute Unix milliseconds, which is what makes DAV files awkward to seek.

Pictures come from libx264/libx265 through PyAV, so the payloads are real Annex B streams.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from datetime import datetime, timezone
from pathlib import Path

import av
import numpy as np

#: PSM stream_type values (ISO/IEC 13818-1 Table 2-34 and its H.265 amendment).
STREAM_TYPE = {"h264": 0x1B, "hevc": 0x24}
#: DHAV video codec byte, as dhav.c maps it.
DHAV_CODEC = {"h264": 0x2, "hevc": 0xC}


def moving_frames(n: int, width: int = 160, height: int = 96, seed: int = 0) -> list[np.ndarray]:
    """A textured picture that slides one step per frame (BGR), so every frame differs."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    return [np.roll(base, i * 2, axis=1) for i in range(n)]


def encode_units(codec: str, frames: list[np.ndarray], fps: int = 10, gop: int = 10) -> list[tuple[bytes, bool]]:
    """Encode BGR frames to Annex B access units: ``[(bytes, is_keyframe), ...]`` in decode order.

    Parameter sets travel in-band with each keyframe, as cameras send them.
    """
    name = {"h264": "libx264", "hevc": "libx265"}[codec]
    h, w = frames[0].shape[:2]
    cc = av.CodecContext.create(name, "w")
    cc.width, cc.height, cc.pix_fmt = w, h, "yuv420p"
    cc.time_base = Fraction(1, fps)
    cc.framerate = Fraction(fps)
    if codec == "h264":
        cc.options = {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0", "bf": "0", "preset": "ultrafast",
                      "repeat-headers": "1"}
    else:
        cc.options = {"preset": "ultrafast",
                      "x265-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:repeat-headers=1:log-level=error"}
    out: list[tuple[bytes, bool]] = []
    for i, img in enumerate(frames):
        f = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format="yuv420p")
        f.pts = i
        out.extend((bytes(p), bool(p.is_keyframe)) for p in cc.encode(f))
    out.extend((bytes(p), bool(p.is_keyframe)) for p in cc.encode(None))
    return out


def write_raw(path: Path, codec: str, frames: list[np.ndarray], fps: int = 10, gop: int = 10) -> Path:
    """A raw elementary stream (.h264/.264/.265), as RTSP grabbers save it: no container, no timestamps."""
    path.write_bytes(b"".join(u for u, _ in encode_units(codec, frames, fps, gop)))
    return path


# ---------------------------------------------------------------- MPEG-PS (GB28181 / Hikvision)

def _scr_bytes(scr: int) -> bytes:
    """The 6-byte SCR field of an MPEG-2 pack header (base in 90 kHz, extension 0)."""
    ext = 0
    return bytes([
        0x40 | ((scr >> 27) & 0x38) | 0x04 | ((scr >> 28) & 0x03),
        (scr >> 20) & 0xFF,
        ((scr >> 12) & 0xF8) | 0x04 | ((scr >> 13) & 0x03),
        (scr >> 5) & 0xFF,
        ((scr << 3) & 0xF8) | 0x04 | ((ext >> 7) & 0x03),
        ((ext << 1) & 0xFE) | 0x01,
    ])


def pack_header(scr: int, mux_rate: int = 6106) -> bytes:
    """00 00 01 BA, SCR, program_mux_rate (50-byte units/s), no stuffing."""
    rate = bytes([(mux_rate >> 14) & 0xFF, (mux_rate >> 6) & 0xFF, ((mux_rate << 2) & 0xFC) | 0x03])
    return b"\x00\x00\x01\xba" + _scr_bytes(scr) + rate + b"\xf8"


def system_header(mux_rate: int = 6106) -> bytes:
    """00 00 01 BB with one video stream (0xE0) entry."""
    body = bytes([0x80 | ((mux_rate >> 15) & 0x7F), (mux_rate >> 7) & 0xFF, ((mux_rate << 1) & 0xFE) | 0x01,
                  0x04,  # audio_bound 1, fixed 0, CSPS 0
                  0xE1,  # system_audio_lock, system_video_lock, marker, video_bound 1
                  0xFF])  # packet_rate_restriction + reserved
    body += bytes([0xE0, 0xE0 | 0x00, 0x80])  # stream 0xE0: '11', scale 1, size bound 128 × 1024 bytes
    return b"\x00\x00\x01\xbb" + struct.pack(">H", len(body)) + body


def program_stream_map(stream_type: int) -> bytes:
    """00 00 01 BC: the elementary stream map that names the video codec (0x1B or 0x24)."""
    es_map = bytes([stream_type, 0xE0]) + struct.pack(">H", 0)
    body = bytes([0xE0, 0xFF]) + struct.pack(">H", 0) + struct.pack(">H", len(es_map)) + es_map
    body += struct.pack(">I", 0)  # CRC_32: FFmpeg does not check it; devices often write zeros too
    return b"\x00\x00\x01\xbc" + struct.pack(">H", len(body)) + body


def _pts_bytes(pts: int) -> bytes:
    return bytes([0x21 | ((pts >> 29) & 0x0E), (pts >> 22) & 0xFF, ((pts >> 14) & 0xFE) | 0x01,
                  (pts >> 7) & 0xFF, ((pts << 1) & 0xFE) | 0x01])


def pes_packets(unit: bytes, pts: int | None, chunk: int = 65000) -> bytes:
    """One access unit as PES packets of stream 0xE0; only the first carries the PTS."""
    out = b""
    for i in range(0, len(unit), chunk):
        part = unit[i:i + chunk]
        if i == 0 and pts is not None:
            header = bytes([0x80, 0x80, 5]) + _pts_bytes(pts)
        else:
            header = bytes([0x80, 0x00, 0])
        out += b"\x00\x00\x01\xe0" + struct.pack(">H", len(header) + len(part)) + header + part
    return out


def ps_bytes(codec: str, units: list[tuple[bytes, bool]], fps: int = 10, start_pts: int = 90000) -> bytes:
    """Units wrapped as a program stream: one pack per frame; system header and PSM before keyframes."""
    out = b""
    step = 90000 // fps
    for i, (unit, key) in enumerate(units):
        pts = start_pts + i * step
        out += pack_header(pts)
        if key:
            out += system_header() + program_stream_map(STREAM_TYPE[codec])
        out += pes_packets(unit, pts)
    return out


def write_ps(path: Path, codec: str, frames: list[np.ndarray], fps: int = 10, gop: int = 10) -> Path:
    """An MPEG-PS file as GB28181 platforms store it (H.264 or H.265 named in the PSM)."""
    path.write_bytes(ps_bytes(codec, encode_units(codec, frames, fps, gop), fps))
    return path


def imkh_header(codec: str) -> bytes:
    """Hikvision's 40-byte file header: magic, version, system format (PS), video codec."""
    video = {"h264": 0x0100, "hevc": 0x0005}[codec]
    return b"IMKH" + struct.pack("<HHH", 0x0102, 0x0002, video) + bytes(30)


def write_imkh_ps(path: Path, codec: str, frames: list[np.ndarray], fps: int = 10, gop: int = 10) -> Path:
    """A Hikvision-style export: IMKH header, then PS. Hikvision names these ``.mp4``."""
    path.write_bytes(imkh_header(codec) + ps_bytes(codec, encode_units(codec, frames, fps, gop), fps))
    return path


# ---------------------------------------------------------------- DHAV (Dahua .dav)

def dhav_date(t: datetime) -> int:
    """Pack a time into DHAV's 32-bit date: year-2000:6 month:4 day:5 hour:5 minute:6 second:6."""
    return ((t.year - 2000) << 26) | (t.month << 22) | (t.day << 17) | (t.hour << 12) | (t.minute << 6) | t.second


def dhav_frame(payload: bytes, *, key: bool, number: int, date: int, ms: int, codec: str, fps: int,
               width: int, height: int) -> bytes:
    """One DHAV video frame: header, extensions (on I-frames), payload, ``dhav`` trailer."""
    ext = b""
    if key:
        ext = bytes([0x80, 0x00, width // 8, height // 8]) + bytes([0x81, 0x00, DHAV_CODEC[codec], fps])
    length = 24 + len(ext) + len(payload) + 8
    head = b"DHAV" + bytes([0xFD if key else 0xFC, 0x00, 0x00, 0x00])
    head += struct.pack("<III", number, length, date) + struct.pack("<HB", ms & 0xFFFF, len(ext))
    head += bytes([sum(head) & 0xFF])  # checksum byte: a byte sum of the header; dhav.c skips it
    return head + ext + payload + b"dhav" + struct.pack("<I", length)


def write_dav(path: Path, codec: str, frames: list[np.ndarray], fps: int = 10, gop: int = 10,
              start: datetime = datetime(2024, 6, 20, 8, 58, 0, tzinfo=timezone.utc), gap_after: int | None = None,
              gap_s: float = 0.0) -> Path:
    """A Dahua DAV file. Its timestamps are wall-clock milliseconds, as on the recorder.

    ``gap_after``/``gap_s``: the recorder lost ``gap_s`` seconds after that many frames.
    """
    h, w = frames[0].shape[:2]
    out = b""
    t0 = start.timestamp()
    for i, (unit, key) in enumerate(encode_units(codec, frames, fps, gop)):
        t = t0 + i / fps + (gap_s if gap_after is not None and i >= gap_after else 0.0)
        when = datetime.fromtimestamp(int(t), tz=timezone.utc)
        out += dhav_frame(unit, key=key, number=i + 1, date=dhav_date(when), ms=int(round(t * 1000)),
                          codec=codec, fps=fps, width=w, height=h)
    path.write_bytes(out)
    return path
