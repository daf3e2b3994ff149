"""Evidence clips cut from an original recording by stream copy: the packets, never re-encoded.

A clip handed to the police must show the original's pictures, not a transcoder's idea of
them. So a clip is a remux: the video packets from the keyframe at or before the finding's
start up to its end are copied unchanged into a new container of the same kind, keeping
their original timestamps. Anyone holding the original can check that the clip's packet
bytes are the original's (:func:`packet_digest` over both gives the same sha256).

Only the first video stream is copied; audio (rare on exam-room cameras) is left out.

Example:
    >>> import numpy as np, os, tempfile
    >>> from examaudit.scenarios.clip import ClipWriter
    >>> d = tempfile.mkdtemp()
    >>> original = os.path.join(d, "R1-C1.mp4")                     # 6 s, 10 fps, keyframe every 1 s
    >>> with ClipWriter(original, 64, 48, fps=10, gop_s=1.0) as w:
    ...     for i in range(60):
    ...         w.write(np.full((48, 64, 3), 4 * i, np.uint8), i / 10)
    >>> info = cut_clip(original, os.path.join(d, "clip.mp4"), 2.5, 4.0)
    >>> info.packets, info.first_keyframe_s, info.last_s
    (21, 2.0, 4.0)
    >>> packet_digest(os.path.join(d, "clip.mp4")) == (info.packets, info.packets_sha256)
    True
    >>> packet_digest(original, info.first_pts, info.last_pts) == (info.packets, info.packets_sha256)
    True
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

import av

from ..errors import InputError

#: Output container per original extension: the same muxer family, so packets stay as they were
#: (an MPEG-TS packet in Annex B form would be rewritten to length-prefixed form inside MP4).
MUXERS = {
    ".mp4": ("mp4", ".mp4"), ".m4v": ("mp4", ".mp4"), ".mov": ("mov", ".mov"),
    ".mkv": ("matroska", ".mkv"), ".ts": ("mpegts", ".ts"), ".m2ts": ("mpegts", ".ts"),
    ".avi": ("avi", ".avi"), ".flv": ("flv", ".flv"), ".h264": ("h264", ".h264"),
    ".264": ("h264", ".h264"), ".h265": ("hevc", ".h265"), ".hevc": ("hevc", ".h265"),
}
FALLBACK_MUXER = ("matroska", ".mkv")


@dataclass(frozen=True)
class ClipInfo:
    """What a cut clip holds, in the original's own terms.

    Attributes:
        start_s, end_s: the requested range, seconds from the original's first PTS.
        first_keyframe_s: where the clip really starts (the keyframe at or before start_s).
        first_pts, last_pts: original PTS of the first and last copied packet (stream units).
        packets: number of packets copied.
        packets_sha256: sha256 over the copied packets' bytes in decode order.
    """

    source: str
    path: str
    start_s: float
    end_s: float
    first_keyframe_s: float
    last_s: float
    first_pts: int
    last_pts: int
    time_base: str
    packets: int
    packets_sha256: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def clip_suffix(original: str | Path) -> str:
    return MUXERS.get(Path(original).suffix.lower(), FALLBACK_MUXER)[1]


def _first_pts(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> int:
    for packet in container.demux(stream):
        if packet.size and packet.pts is not None:
            return packet.pts
    return 0


def select_range(packets: Iterator[av.Packet], start_pts: int, end_pts: int) -> Iterator[av.Packet]:
    """The packets of ``[start_pts, end_pts]`` from the keyframe at or before the start, in decode order.

    Packets without a PTS or without data (the demuxer's flush packet) are skipped. Reading
    stops at the first keyframe after the end.
    """
    gop: list[av.Packet] = []  # from the latest keyframe at or before the start
    started = False
    for packet in packets:
        if not packet.size or packet.pts is None:
            continue
        if started:
            if packet.pts > end_pts:
                if packet.is_keyframe:
                    return
                continue
            yield packet
            continue
        if packet.is_keyframe and (packet.pts <= start_pts or not gop):
            gop = [packet]  # a later keyframe at or before the start replaces the earlier GOP
        elif gop:
            gop.append(packet)
        else:
            continue  # non-key packets before any keyframe cannot be decoded on their own
        if packet.pts >= start_pts:
            started = True
            for p in gop:
                if p.pts <= end_pts or p is gop[0]:
                    yield p
            gop = []


def _range_packets(path: Path, start_s: float, end_s: float) -> Iterator[tuple[av.Packet, av.video.stream.VideoStream, int]]:
    """Yield (packet, stream, t0) for the packets of the range.

    Seeks to the keyframe at or before the start (fast on long files) and checks that the
    demuxer really landed on one at or before it; otherwise it scans from the beginning.
    """
    with av.open(str(path), metadata_errors="ignore") as probe:
        t0 = _first_pts(probe, probe.streams.video[0])
    for attempt in ("seek", "scan"):
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            tb = stream.time_base
            start_pts = t0 + int(start_s / tb)
            end_pts = t0 + int(round(end_s / tb))
            demux = container.demux(stream)
            if attempt == "seek":
                if start_s <= 0:
                    continue
                try:
                    container.seek(start_pts, stream=stream, backward=True, any_frame=False)
                except av.error.FFmpegError:
                    continue
                head = next((p for p in demux if p.size and p.pts is not None), None)
                if head is None or not head.is_keyframe or head.pts > start_pts:
                    continue  # the demuxer could not land on the right keyframe: scan instead
                demux = _chain(head, demux)
            for packet in select_range(demux, start_pts, end_pts):
                yield packet, stream, t0
            return


def _chain(first: av.Packet, rest: Iterator[av.Packet]) -> Iterator[av.Packet]:
    yield first
    yield from rest


def cut_clip(original: str | Path, dest: str | Path, start_s: float, end_s: float) -> ClipInfo:
    """Copy the packets covering ``[start_s, end_s]`` of ``original`` into ``dest``, unchanged.

    Times are seconds from the original's first PTS, the same clock as findings' ``start_s``.

    Raises:
        InputError: the original cannot be opened or has no video packets in the range.
    """
    original, dest = Path(original), Path(dest)
    if end_s < start_s:
        raise InputError(f"clip end {end_s} s is before its start {start_s} s", path=original)
    fmt = MUXERS.get(original.suffix.lower(), FALLBACK_MUXER)[0]
    digest = hashlib.sha256()
    count, first, last, tb, t0 = 0, None, None, None, 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        out = av.open(str(dest), mode="w", format=fmt)
        try:
            ostream = None
            for packet, stream, t0 in _range_packets(original, start_s, end_s):
                if ostream is None:
                    ostream = out.add_stream_from_template(stream)
                    tb = stream.time_base
                digest.update(bytes(packet))
                first = packet.pts if first is None else first
                last = packet.pts
                count += 1
                packet.stream = ostream
                out.mux(packet)
        finally:
            out.close()
    except av.error.FFmpegError as exc:
        dest.unlink(missing_ok=True)
        raise InputError(f"cannot cut a clip by stream copy: {exc}", path=original) from None
    if count == 0:
        dest.unlink(missing_ok=True)
        raise InputError(f"no video packets between {start_s:.1f} s and {end_s:.1f} s", path=original)
    return ClipInfo(
        source=original.name,
        path=dest.name,
        start_s=float(start_s),
        end_s=float(end_s),
        first_keyframe_s=round(float((first - t0) * tb), 6),
        last_s=round(float((last - t0) * tb), 6),
        first_pts=int(first),
        last_pts=int(last),
        time_base=str(tb),
        packets=count,
        packets_sha256=digest.hexdigest(),
    )


def packet_digest(path: str | Path, first_pts: int | None = None, last_pts: int | None = None) -> tuple[int, str]:
    """(count, sha256) of the first video stream's packet bytes, optionally within a PTS range.

    Over a clip, pass no range; over the original, pass the clip's ``first_pts``/``last_pts``
    (the original's decode order between them is what the clip copied).
    """
    h = hashlib.sha256()
    n = 0
    inside = first_pts is None
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if not packet.size or packet.pts is None:
                continue
            if not inside:
                if packet.pts != first_pts:
                    continue
                inside = True
            h.update(bytes(packet))
            n += 1
            if last_pts is not None and packet.pts == last_pts:
                break
    return n, h.hexdigest()
