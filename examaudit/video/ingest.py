"""Ingest a recording: hash the original, probe its container and streams. Never modifies it.

The probe is what an enforcement officer later needs to show that the file examined is the
file received: byte size, sha256, container, codec, resolution, frame rate, duration and the
creation-time metadata the NVR wrote.

Example:
    >>> import numpy as np, os, tempfile
    >>> from examaudit.scenarios.clip import ClipWriter
    >>> path = os.path.join(tempfile.mkdtemp(), "R1-C1.mp4")
    >>> with ClipWriter(path, 64, 48, fps=10) as w:
    ...     for i in range(60):
    ...         w.write(np.zeros((48, 64, 3), np.uint8), i / 10)
    >>> rec = ingest(path)
    >>> len(rec.sha256), rec.video.codec, (rec.video.width, rec.video.height), rec.video.fps, rec.duration_s
    (64, 'h264', (64, 48), 10.0, 6.0)
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from ..errors import InputError
from ..outputs import sha256_file

# OpenCV's bundled FFmpeg prints its own complaints to stderr; our one-line errors say it better.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

#: Larger than any CCTV camera; anything bigger is a corrupt header or a hostile file.
MAX_DIMENSION = 8192


@dataclass(frozen=True)
class VideoStreamInfo:
    """What the container declares about the video stream (not yet checked against packets)."""

    index: int
    codec: str
    width: int
    height: int
    pix_fmt: str | None
    fps: float | None
    time_base: str
    start_time_s: float
    duration_s: float | None
    frames_declared: int | None
    bit_rate: int | None


@dataclass(frozen=True)
class Recording:
    """An ingested footage file.

    Attributes:
        path: where it was read from.
        sha256: hash of the original bytes.
        reader: ``pyav`` normally; ``opencv`` when only OpenCV could open it.
        video: the first video stream's declared properties.
        metadata: container tags such as ``creation_time``.
    """

    path: Path
    size_bytes: int
    sha256: str
    reader: str
    container: str
    duration_s: float | None
    start_time_s: float
    video: VideoStreamInfo
    audio_streams: int = 0
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"] = str(self.path)
        return d


def _check_file(path: Path) -> int:
    if not path.exists():
        raise InputError("file not found", path=path)
    if not path.is_file():
        raise InputError("not a regular file", path=path)
    size = path.stat().st_size
    if size == 0:
        raise InputError("file is empty (0 bytes)", path=path)
    return size


def _check_dimensions(path: Path, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise InputError(f"video stream has no picture size ({width}x{height})", path=path)
    if width > MAX_DIMENSION or height > MAX_DIMENSION:
        raise InputError(f"absurd picture size {width}x{height} (limit {MAX_DIMENSION})", path=path)


def _probe_pyav(path: Path) -> tuple[str, float | None, float, VideoStreamInfo, int, dict[str, str]]:
    with av.open(str(path), metadata_errors="ignore") as container:
        videos = list(container.streams.video)
        if not videos:
            audio = len(container.streams.audio)
            what = "audio only" if audio else "no streams FFmpeg can use"
            raise InputError(f"no video stream ({what})", path=path)
        vs = videos[0]
        cc = vs.codec_context
        if cc is None:
            # FFmpeg can demux the stream but has no decoder for it (an unknown FourCC).
            tag = getattr(vs, "codec_tag", None) or "unknown"
            raise InputError(f"unsupported video codec (tag {tag!r}); no decoder for this stream", path=path)
        _check_dimensions(path, cc.width, cc.height)
        tb = vs.time_base or Fraction(1, 1)
        start = float(vs.start_time * tb) if vs.start_time is not None else 0.0
        dur = float(vs.duration * tb) if vs.duration else None
        rate = vs.average_rate or vs.guessed_rate or vs.base_rate
        info = VideoStreamInfo(
            index=vs.index,
            codec=cc.name,
            width=cc.width,
            height=cc.height,
            pix_fmt=cc.format.name if cc.format is not None else None,
            fps=float(rate) if rate else None,
            time_base=str(tb),
            start_time_s=start,
            duration_s=dur,
            frames_declared=vs.frames or None,
            bit_rate=cc.bit_rate or None,
        )
        cdur = container.duration / av.time_base if container.duration else dur
        meta = {str(k): str(v) for k, v in {**container.metadata, **vs.metadata}.items()}
        return container.format.name, cdur, start, info, len(container.streams.audio), meta


def _probe_opencv(path: Path, why: str) -> tuple[str, float | None, float, VideoStreamInfo, int, dict[str, str]]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        ok, frame = cap.read() if cap.isOpened() else (False, None)
        if not ok or frame is None:
            raise InputError(f"not a readable video ({why})", path=path)
        h, w = frame.shape[:2]
        _check_dimensions(path, w, h)
        fps = cap.get(cv2.CAP_PROP_FPS) or None
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        dur = (n / fps) if (n and fps) else None
        info = VideoStreamInfo(0, "unknown", w, h, None, fps, "1/1000", 0.0, dur, n, None)
        return "opencv", dur, 0.0, info, 0, {}
    finally:
        cap.release()


def _looks_like_mp4(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(8)[4:8] == b"ftyp"


def ingest(path: str | Path) -> Recording:
    """Hash and probe a footage file.

    Raises:
        InputError: missing, empty, not a video, no video stream, or absurd dimensions; the
            message is one line that names the file.
    """
    path = Path(path)
    size = _check_file(path)
    try:
        fmt, dur, start, info, audio, meta = _probe_pyav(path)
        reader = "pyav"
    except InputError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, IndexError) as exc:
        # Some NVR exports have headers FFmpeg's demuxers reject but OpenCV's backends accept.
        why = getattr(exc, "strerror", None) or str(exc)
        if _looks_like_mp4(path):
            why += "; it starts like an MP4 but its index (moov) is missing: truncated or still being written?"
        fmt, dur, start, info, audio, meta = _probe_opencv(path, why)
        reader = "opencv"
    return Recording(
        path=path,
        size_bytes=size,
        sha256=sha256_file(path),
        reader=reader,
        container=fmt,
        duration_s=dur,
        start_time_s=start,
        video=info,
        audio_streams=audio,
        metadata=meta,
    )
