"""Evidence frames: fetch full-resolution pictures at the times findings point to.

Analysis runs on a sparse, possibly downscaled sample stream and keeps no pictures; once the
findings are known, the few frames they cite are decoded again by seeking, so memory stays
flat however long the recording, and evidence is at the camera's own resolution.
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


def frames_at(path: str | Path, times_s: list[float], reader: str = "pyav") -> dict[float, np.ndarray]:
    """Decode the frame shown at each requested time (seconds from the first frame).

    Seeks to the keyframe before each time and decodes forward, so the cost is at most one
    GOP per requested time. Times past the end or in damaged parts are left out.
    """
    wanted = sorted(set(round(float(t), 3) for t in times_s))
    out: dict[float, np.ndarray] = {}
    if not wanted:
        return out
    if reader == "opencv":
        return _frames_at_opencv(Path(path), wanted)
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        tb = float(stream.time_base)
        first = _first_pts(container, stream)
        for t in wanted:
            target = first + int(round(t / tb))
            try:
                container.seek(target, stream=stream, backward=True, any_frame=False)
                best = None
                for frame in container.decode(stream):
                    if frame.pts is None:
                        continue
                    if frame.pts > target + int(0.5 / tb) and best is not None:
                        break
                    best = frame
                    if frame.pts >= target:
                        break
                if best is not None:
                    out[t] = best.to_ndarray(format="bgr24")
            except av.error.FFmpegError:
                continue
    return out


def _first_pts(container: av.container.InputContainer, stream: av.VideoStream) -> int:
    for frame in container.decode(stream):
        if frame.pts is not None:
            container.seek(0)
            return int(frame.pts)
    return 0


def _frames_at_opencv(path: Path, wanted: list[float]) -> dict[float, np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out: dict[float, np.ndarray] = {}
    try:
        for t in wanted:
            cap.set(cv2.CAP_PROP_POS_MSEC, t * 1000.0)
            ok, image = cap.read()
            if ok:
                out[t] = image
    finally:
        cap.release()
    return out
