"""A finding's evidence clip for the browser: the stream-copied clip, and a preview when needed.

The clip is cut from the original by :func:`examaudit.report.clips.cut_clip` (packets copied,
never re-encoded), exactly as the evidence pack cuts it, so what the reviewer watches is what
enforcement receives. Browsers play H.264 in MP4; a clip in any other codec or container (HEVC,
MPEG-TS, Dahua .dav remuxed to Matroska …) also gets a VP9/WebM preview, transcoded once with
PyAV and cached. The page offers both as ``<source>`` elements and the browser takes the first
it can play; the stream-copied clip stays the evidence.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import av

from ...errors import InputError
from ...findings import Finding, Source
from ...report.auditdir import load_audit_dir
from ...report.clips import clip_suffix, cut_clip

#: The page shows at most this much of a long finding (the pack holds head and tail clips).
MAX_PAGE_CLIP_S = 60.0
#: A point-in-time finding gets this much footage around it, so there is something to watch.
MIN_PAGE_CLIP_S = 6.0
BROWSER_CODECS = {"h264"}
BROWSER_CONTAINERS = {".mp4", ".m4v", ".mov"}
PREVIEW_MAX_WIDTH = 1280


@dataclass(frozen=True)
class FindingClip:
    """Attributes:
        clip: the stream-copied clip, timestamps as in the original (what the pack holds).
        web: the same packets with timestamps counted from zero: a browser shows a clip that starts
            at 44 s as 44 s into a 50 s file and stops after 6 s, so the page plays this copy.
        mime: the type both are served as.
        playable: H.264 in MP4, which every current browser plays; otherwise the page leads with
            the preview (:func:`finding_preview`).
    """

    clip: Path
    web: Path
    mime: str
    playable: bool


def original_of(audit_dir: Path, f: Finding) -> Path | None:
    audit = load_audit_dir(audit_dir)
    rec = audit.recording_for(f)
    if rec is None or not rec.path:
        return None
    p = Path(rec.path)
    if not p.is_absolute():
        p = (audit_dir / p).resolve()
    return p if p.is_file() else None


def clip_range(f: Finding) -> tuple[float, float]:
    a = max(0.0, float(f.start_s or 0.0))
    b = float(f.end_s if f.end_s is not None else a)
    b = min(b, a + MAX_PAGE_CLIP_S)
    if b - a < MIN_PAGE_CLIP_S:
        a = max(0.0, a - MIN_PAGE_CLIP_S / 3)
        b = a + MIN_PAGE_CLIP_S
    return a, b


def _codec(path: Path) -> str | None:
    try:
        with av.open(str(path), metadata_errors="ignore") as c:
            return c.streams.video[0].codec_context.name if c.streams.video else None
    except av.error.FFmpegError:
        return None


def _transcode_preview(src: Path, dest: Path) -> None:
    """VP9 in WebM, realtime settings: a viewing copy, never evidence."""
    tmp = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        with av.open(str(src), metadata_errors="ignore") as inp, av.open(str(tmp), mode="w", format="webm") as out:
            vin = inp.streams.video[0]
            rate = vin.average_rate or 25
            ost = out.add_stream("libvpx-vp9", rate=rate)
            w, h = vin.codec_context.width, vin.codec_context.height
            if w > PREVIEW_MAX_WIDTH:
                w, h = PREVIEW_MAX_WIDTH, int(h * PREVIEW_MAX_WIDTH / w) // 2 * 2
            ost.width, ost.height, ost.pix_fmt = w, h, "yuv420p"
            ost.options = {"deadline": "realtime", "cpu-used": "8", "crf": "34", "b": "0"}
            from fractions import Fraction

            ost.time_base = Fraction(1, 1000)
            t0 = None
            for frame in inp.decode(vin):
                t = float(frame.time) if frame.time is not None else 0.0
                t0 = t if t0 is None else t0
                frame = frame.reformat(width=w, height=h, format="yuv420p")
                frame.pts, frame.time_base = int(round((t - t0) * 1000)), Fraction(1, 1000)  # keep the pacing
                for packet in ost.encode(frame):
                    out.mux(packet)
            for packet in ost.encode():
                out.mux(packet)
        os.replace(tmp, dest)
    except av.error.FFmpegError as exc:
        raise InputError(f"cannot make a browser preview: {exc}", path=src.name) from None
    finally:
        tmp.unlink(missing_ok=True)


def _rebase(src: Path, dest: Path) -> None:
    """Copy every packet of ``src`` unchanged into ``dest``, timestamps shifted to start at zero."""
    tmp = dest.with_name(f".{dest.stem}.partial-{os.getpid()}{dest.suffix}")
    try:
        with av.open(str(src), metadata_errors="ignore") as inp:
            vin = inp.streams.video[0]
            packets = [p for p in inp.demux(vin) if p.size and p.dts is not None]
            if not packets:
                raise InputError("the clip has no video packets", path=src.name)
            t0 = min(min(p.dts for p in packets), min(p.pts for p in packets if p.pts is not None))
            with av.open(str(tmp), mode="w", format=inp.format.name.split(",")[0]) as out:
                ost = out.add_stream_from_template(vin)
                for p in packets:
                    p.dts -= t0
                    if p.pts is not None:
                        p.pts -= t0
                    p.stream = ost
                    out.mux(p)
        os.replace(tmp, dest)
    except av.error.FFmpegError as exc:
        raise InputError(f"cannot rebase the clip's timestamps: {exc}", path=src.name) from None
    finally:
        tmp.unlink(missing_ok=True)


def finding_clip(audit_dir: Path, f: Finding, cache_dir: Path) -> FindingClip:
    """Cut (once) the finding's clip by stream copy.

    Raises:
        InputError: the finding has no footage time, its original is not on the server, or
            there are no packets in its range (e.g. a gap at the end of the footage).
    """
    if f.source != Source.video or f.start_s is None or not f.recording:
        raise InputError("this finding has no footage time to cut a clip from")
    original = original_of(audit_dir, f)
    if original is None:
        raise InputError("the original recording is not on the server")
    a, b = clip_range(f)
    suffix = clip_suffix(original)
    clip = cache_dir / f"{f.id}{suffix}"
    if not clip.is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = clip.with_name(f".{clip.stem}.partial-{os.getpid()}{suffix}")
        try:
            cut_clip(original, tmp, a, b)
            os.replace(tmp, clip)
        finally:
            tmp.unlink(missing_ok=True)
    web = cache_dir / f"{f.id}.web{suffix}"
    if not web.is_file():
        _rebase(clip, web)
    playable = suffix in BROWSER_CONTAINERS and _codec(clip) in BROWSER_CODECS
    mime = {".mp4": "video/mp4", ".mov": "video/quicktime", ".mkv": "video/x-matroska",
            ".ts": "video/mp2t"}.get(suffix, "application/octet-stream")
    return FindingClip(clip, web, mime, playable)


def finding_preview(audit_dir: Path, f: Finding, cache_dir: Path) -> Path:
    """The clip transcoded once to VP9/WebM for browsers that cannot play the original's codec."""
    clip = finding_clip(audit_dir, f, cache_dir).web
    preview = cache_dir / f"{f.id}.preview.webm"
    if not preview.is_file():
        _transcode_preview(clip, preview)
    return preview
