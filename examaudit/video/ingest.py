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
import struct
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator

import av

from ..errors import InputError, displayable
from ..outputs import sha256_file

# OpenCV's bundled FFmpeg prints its own complaints to stderr; our one-line errors say it better.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

#: Larger than any CCTV camera; anything bigger is a corrupt header or a hostile file.
MAX_DIMENSION = 8192

#: Demuxers of bare elementary streams: their packets carry no timestamps, and the rate
#: FFmpeg reports for them (25) is its own default, not the camera's.
RAW_FORMATS = frozenset({"h264", "hevc", "vvc", "m4v", "cavsvideo", "mpegvideo", "avs2", "avs3"})

#: Containers whose header states the recording's length; FFmpeg estimates it for the others
#: (from PTS at both ends, or from the bit rate), which proves nothing about truncation.
DECLARED_DURATION_FORMATS = ("mov", "mp4", "matroska", "webm", "avi", "flv", "asf")

#: A stated rate outside this range is a corrupt or hostile header, not a camera setting.
PLAUSIBLE_FPS = (0.5, 300.0)


@dataclass(frozen=True)
class VideoStreamInfo:
    """What the container declares about the video stream (not yet checked against packets)."""

    index: int
    codec: str
    width: int
    height: int
    pix_fmt: str | None
    #: frames per second as the container (or, for a raw stream, its SPS/VPS timing) states it;
    #: None when nothing plausible is stated.
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
        return display_name(self.path)

    @property
    def raw_stream(self) -> bool:
        """A bare H.264/H.265/... elementary stream: no container, no timestamps."""
        return self.container in RAW_FORMATS

    @property
    def declares_duration(self) -> bool:
        """Whether the container's header states the length (so a shorter file was cut)."""
        return any(part in DECLARED_DURATION_FORMATS for part in self.container.split(","))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"] = display_path(self.path)
        return d


def display_name(path: str | Path) -> str:
    """The file name as text that can be written to JSON and shown (see :func:`displayable`)."""
    return displayable(Path(path).name)


def display_path(path: str | Path) -> str:
    return displayable(path)


@contextmanager
def opencv_path(path: str | Path) -> Iterator[str]:
    """A path OpenCV can open. OpenCV crashes the process (SIGSEGV) on a name that is not
    valid UTF-8, so such a file is reached through a symlink with a plain name."""
    path = Path(path)
    try:
        str(path).encode("utf-8")
        yield str(path)
        return
    except UnicodeEncodeError:
        pass
    with tempfile.TemporaryDirectory(prefix="examaudit-") as tmp:
        link = Path(tmp) / ("footage" + "".join(c for c in path.suffix if c.isascii() and c.isalnum() or c == "."))
        link.symlink_to(path.resolve())
        yield str(link)


def plausible_fps(rate: Any) -> float | None:
    try:
        fps = float(rate) if rate else None
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if fps is None or not (PLAUSIBLE_FPS[0] <= fps <= PLAUSIBLE_FPS[1]):
        return None
    return fps


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
            found = None if audio else mp4_structure(path)
            raise InputError(f"no video stream ({what}{'; ' + found if found else ''})", path=path)
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
        if container.format.name in RAW_FORMATS:
            rate = cc.framerate  # the SPS/VPS timing, when the camera wrote one
        else:
            rate = vs.average_rate or vs.guessed_rate or vs.base_rate
        info = VideoStreamInfo(
            index=vs.index,
            codec=cc.name,
            width=cc.width,
            height=cc.height,
            pix_fmt=cc.format.name if cc.format is not None else None,
            fps=plausible_fps(rate),
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

    with opencv_path(path) as name:
        cap = cv2.VideoCapture(name)
        try:
            ok, frame = cap.read() if cap.isOpened() else (False, None)
            if not ok or frame is None:
                raise InputError(f"not a readable video ({why})", path=path)
            h, w = frame.shape[:2]
            _check_dimensions(path, w, h)
            fps = plausible_fps(cap.get(cv2.CAP_PROP_FPS))
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) or None
            n = n if n is not None and 0 < n < 2**31 else None
            dur = (n / fps) if (n and fps) else None
            info = VideoStreamInfo(0, "unknown", w, h, None, fps, "1/1000", 0.0, dur, n, None)
            return "opencv", dur, 0.0, info, 0, {}
        finally:
            cap.release()


def mp4_structure(path: Path) -> str | None:
    """What an MP4 that FFmpeg rejected actually holds, in a few words; None if it is no MP4.

    Walks the top-level boxes (ftyp, moov, mdat, ...) the way a player does, so the message
    says whether the index is missing, cut short or present but unreadable.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8 or head[4:8] != b"ftyp":
            return None
        pos, boxes = 0, {}
        while pos + 8 <= size:
            fh.seek(pos)
            hdr = fh.read(16)
            n, kind = struct.unpack(">I4s", hdr[:8])
            if n == 1 and len(hdr) >= 16:
                n = struct.unpack(">Q", hdr[8:16])[0]
            elif n == 0:
                n = size - pos  # "to the end of the file"
            name = kind.decode("latin-1")
            if n < 8 or not name.isprintable():
                return f"it starts like an MP4 but the box at byte {pos} is damaged"
            if pos + n > size:
                if name == "moov":
                    return (f"its index (moov) is cut short: {size - pos} of {n} bytes are present; "
                            "truncated or still being written?")
                if name == "mdat" and "moov" not in boxes:
                    return ("its picture data (mdat) is cut short and the index (moov), which would "
                            "follow it, is missing: truncated or still being written?")
                return f"its {name!r} box at byte {pos} runs past the end of the file: truncated?"
            boxes[name] = pos
            pos += n
    if "moov" not in boxes:
        return "it starts like an MP4 but its index (moov) is missing: truncated or still being written?"
    return f"its index (moov, at byte {boxes['moov']}) is present but invalid"


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
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, IndexError, OverflowError) as exc:
        # Some NVR exports have headers FFmpeg's demuxers reject but OpenCV's backends accept.
        why = getattr(exc, "strerror", None) or str(exc)
        found = mp4_structure(path)
        if found:
            why += "; " + found
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
