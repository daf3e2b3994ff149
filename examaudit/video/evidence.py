"""Evidence frames: fetch full-resolution pictures at the times findings point to.

Analysis runs on a sparse, possibly downscaled sample stream and keeps no pictures; once the
findings are known, the few frames they cite are decoded again by seeking, so memory stays
flat however long the recording, and evidence is at the camera's own resolution.

Seeking does not work everywhere: FFmpeg's DAV demuxer refuses to seek (its timestamps are
Unix milliseconds), Ogg and unindexed FLV seek badly, and a raw H.264 stream has no times to
seek to. Where a seek fails or lands after the wanted time, the remaining frames are collected
in one forward decoding pass. A frame that still cannot be had is simply not returned; the
caller lists it as missing. Nothing here raises for bad footage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from ..outputs import sha256_bytes


@dataclass(frozen=True)
class EvidenceImage:
    """An encoded evidence picture, ready to be written and cited by its sha256."""

    name: str
    data: bytes
    t_s: float | None
    caption: str

    @property
    def sha256(self) -> str:
        return sha256_bytes(self.data)


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def frames_at(path: str | Path, times_s: list[float], reader: str = "pyav", *, origin_pts: int | None = None,
              derived_fps: float | None = None) -> dict[float, np.ndarray]:
    """Decode the frame shown at each requested time (seconds into the footage).

    Seeks to the keyframe before each time and decodes forward, so the cost is at most one
    GOP per requested time; falls back to one forward pass over the file. Times past the end
    or in damaged parts are left out.

    Parameters:
        origin_pts: the PTS of footage second 0 (from the bitstream pass); without it, the
            first decodable frame's PTS.
        derived_fps: the stream has no timestamps; frames are numbered at this rate.
    """
    wanted = sorted(set(round(float(t), 3) for t in times_s))
    out: dict[float, np.ndarray] = {}
    if not wanted:
        return out
    if reader == "opencv":
        return _frames_at_opencv(Path(path), wanted)
    try:
        if origin_pts is None and derived_fps is None:
            origin_pts = _first_pts(path)
        left = wanted if derived_fps is not None else _seek_frames(path, wanted, origin_pts or 0, out)
        if left:
            _forward_pass(path, left, origin_pts or 0, derived_fps, out)
    except (av.error.FFmpegError, OSError, ValueError, OverflowError):
        pass  # whatever was found is kept; the rest is reported missing by the caller
    return out


def _seek_frames(path: str | Path, wanted: list[float], origin: int, out: dict[float, np.ndarray]) -> list[float]:
    """Fetch frames by seeking; returns the times seeking could not serve."""
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        tb = float(stream.time_base)
        for n, t in enumerate(wanted):
            target = origin + int(round(t / tb))
            try:
                container.seek(target, stream=stream, backward=True, any_frame=False)
                best = None
                for frame in container.decode(stream):
                    if frame.pts is None:
                        continue
                    if best is None and frame.pts > target + int(0.5 / tb):
                        return wanted[n:]  # landed after the wanted time: the index cannot be trusted
                    if frame.pts > target + int(0.5 / tb) and best is not None:
                        break
                    best = frame
                    if frame.pts >= target:
                        break
                if best is None:
                    return wanted[n:]
                out[t] = best.to_ndarray(format="bgr24")
            except (av.error.FFmpegError, OSError):
                return wanted[n:]  # e.g. DAV: "Operation not permitted"
    return []


def _forward_pass(path: str | Path, wanted: list[float], origin: int, derived_fps: float | None,
                  out: dict[float, np.ndarray]) -> None:
    """Decode from the start once, keeping the frame nearest each wanted time."""
    from .sampler import number_packets

    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"
        tb = float(stream.time_base) if stream.time_base else 1.0
        base = 0.0 if derived_fps is not None else origin * tb
        todo = list(wanted)
        prev: tuple[float, av.VideoFrame] | None = None
        for packet in number_packets(container.demux(stream), stream, derived_fps):
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError):
                continue
            for frame in frames:
                ts = frame.pts if frame.pts is not None else frame.dts
                if ts is None:
                    continue
                t = ts * tb - base
                while todo and t >= todo[0] - 1e-6:
                    w = todo.pop(0)
                    pick = frame if prev is None or (t - w) <= (w - prev[0]) else prev[1]
                    out[w] = pick.to_ndarray(format="bgr24")
                prev = (t, frame)
                if not todo:
                    return
        # Times just past the last frame (within half a second) still get the last picture.
        for w in todo:
            if prev is not None and w - prev[0] <= 0.5:
                out[w] = prev[1].to_ndarray(format="bgr24")


def _first_pts(path: str | Path) -> int:
    """The PTS of the first decodable frame, for callers that do not pass the origin."""
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.pts is not None:
                return int(frame.pts)
    return 0


def _frames_at_opencv(path: Path, wanted: list[float]) -> dict[float, np.ndarray]:
    from .ingest import opencv_path

    out: dict[float, np.ndarray] = {}
    with opencv_path(path) as name:
        cap = cv2.VideoCapture(name)
        try:
            for t in wanted:
                cap.set(cv2.CAP_PROP_POS_MSEC, t * 1000.0)
                ok, image = cap.read()
                if ok:
                    out[t] = image
        finally:
            cap.release()
    return out
