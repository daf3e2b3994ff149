"""Seat maps for the seat-map editor: what a camera's seats are, a clear picture to draw them on,
the roster to assign candidates from, and saving through the same validation as ``exam_point.yaml``.

Plain functions over paths: the page route and a test call them the same way. The picture is
decoded from the original recording with :func:`examaudit.video.evidence.frames_at`, at the
trusted sample the analysis found sharpest, so the auditor draws on footage the analysis
trusted rather than on a covered or blurred moment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ...config import ExamPointConfig, load_exam_point
from ...errors import InputError
from ...outputs import read_csv_rows
from ...report.auditdir import load_audit_dir, read_json

#: The roster's columns as the records loader knows them (Chinese or English headers).
_ROSTER_KEYS = {
    "candidate_id": ("candidate_id", "准考证号", "考生编号"),
    "name": ("name", "姓名", "考生姓名"),
    "id_number": ("id_number", "身份证号", "身份证号码", "证件号码"),
    "exam_point": ("exam_point", "考点", "考点编号"),
    "room": ("room", "考场"),
    "seat": ("seat", "座位号", "考位"),
}
MAX_SEATS = 400


@dataclass
class SeatMap:
    """One camera's seats as the editor shows them.

    Attributes:
        source: ``config`` (the exam point's YAML has seats for this camera) or ``proposed``
            (the analysis proposed them in ``proposed_seats.yaml``) or ``none``.
        width, height: the camera's picture size in pixels (the polygons' coordinate space).
    """

    exam_point: str
    room: str
    camera: str
    width: int
    height: int
    seats: list[dict[str, Any]]
    invigilator_zone: list[list[float]] | None
    invigilators_allowed: int
    source: str
    recording: str | None = None
    frame_t_s: float | None = None
    roster: list[dict[str, str]] = field(default_factory=list)


def _recording_dir(audit_dir: Path | None, camera: str) -> tuple[Path | None, dict[str, Any]]:
    """The analysis folder and audit.json entry of the camera's first recording."""
    if audit_dir is None or not audit_dir.is_dir():
        return None, {}
    audit = load_audit_dir(audit_dir)
    for e, raw in zip(audit.recordings, audit.meta.get("recordings") or [{}] * len(audit.recordings)):
        if e.camera == camera:
            return e.out, {**raw, "probe": e.probe}
    return None, {}


def load_seat_map(config_path: Path, camera: str, audit_dir: Path | None = None) -> SeatMap:
    """The seats to edit: the config's when it has some, else the analysis's proposal."""
    cfg = load_exam_point(config_path)
    room, cam = cfg.camera(camera)
    out, entry = _recording_dir(audit_dir, camera)
    video = (entry.get("probe") or {}).get("video") or {}
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    seats = [{"seat": s.seat, "polygon": [list(p) for p in s.polygon], "candidate_id": s.candidate_id} for s in cam.seats]
    source = "config" if seats else "none"
    if not seats and out is not None and (out / "proposed_seats.yaml").is_file():
        raw = yaml.safe_load((out / "proposed_seats.yaml").read_text(encoding="utf-8")) or {}
        proposed = raw.get("seats") if isinstance(raw, dict) else raw
        for s in proposed or []:
            if isinstance(s, dict) and s.get("polygon"):
                seats.append({"seat": str(s.get("seat")), "polygon": [list(map(float, p)) for p in s["polygon"]],
                              "candidate_id": s.get("candidate_id")})
        source = "proposed" if seats else "none"
    if not width or not height:  # no analysis yet: the smallest frame that holds every polygon
        xs = [p[0] for s in seats for p in s["polygon"]] + [p[0] for p in cam.invigilator_zone or []] + [640]
        ys = [p[1] for s in seats for p in s["polygon"]] + [p[1] for p in cam.invigilator_zone or []] + [360]
        width, height = int(max(xs)) + 1, int(max(ys)) + 1
    return SeatMap(cfg.exam_point, room.id, cam.id, width, height, seats,
                   [list(p) for p in cam.invigilator_zone] if cam.invigilator_zone else None,
                   cam.invigilators_allowed, source, recording=entry.get("path"),
                   roster=roster(cfg, room.id))


def _pick(row: dict[str, str], key: str) -> str:
    for k in _ROSTER_KEYS[key]:
        v = row.get(k)
        if v not in (None, ""):
            return str(v).strip()
    return ""


def roster(cfg: ExamPointConfig, room: str | None = None) -> list[dict[str, str]]:
    """The exam point's candidates from its roster file (this room's first), unmasked: the caller masks."""
    rel = cfg.records.roster
    path = cfg.resolve(rel) if rel else None
    if path is None or not path.is_file():
        for ext in ("csv", "xlsx"):
            p = cfg.base_dir / "records" / f"roster.{ext}"
            if p.is_file():
                path = p
                break
    if path is None or not path.is_file() or path.suffix.lower() != ".csv":
        return []
    out = []
    for row in read_csv_rows(path):
        ep = _pick(row, "exam_point")
        if ep and ep != cfg.exam_point:
            continue
        out.append({k: _pick(row, k) for k in ("candidate_id", "name", "id_number", "room", "seat")})
    out.sort(key=lambda r: (r["room"] != (room or r["room"]), r["room"], r["seat"], r["candidate_id"]))
    return out


def clear_frame(audit_dir: Path, camera: str, cache_dir: Path) -> tuple[bytes, float] | None:
    """A JPEG of the camera at its sharpest trusted sample, made once and cached; None without footage."""
    out, entry = _recording_dir(audit_dir, camera)
    original = Path(entry["path"]) if entry.get("path") else None
    if out is None or original is None or not original.is_file():
        return None
    cache = cache_dir / f"{camera}-{(entry.get('sha256') or 'x')[:16]}.jpg"
    best_t = 0.0
    rows = read_csv_rows(out / "samples.csv") if (out / "samples.csv").is_file() else []
    scored = []
    for r in rows:
        if str(r.get("trusted", "1")).strip() in ("0", "false", "False"):
            continue
        try:
            scored.append((float(r.get("sharpness") or 0), -float(r.get("persons") or 0), float(r["t_s"])))
        except (TypeError, ValueError, KeyError):
            continue
    if scored:
        best_t = max(scored)[2]
    if cache.is_file():
        return cache.read_bytes(), best_t
    from ...video.evidence import encode_jpeg, frames_at

    frames = frames_at(original, [best_t])
    if not frames:
        return None
    data = encode_jpeg(next(iter(frames.values())), quality=90)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".partial-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, cache)
    return data, best_t


def _polygon(v: Any, what: str) -> list[list[float]]:
    if not isinstance(v, list) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in v):
        raise InputError(f"{what}: a polygon is a list of [x, y] points")
    try:
        return [[round(float(x), 1), round(float(y), 1)] for x, y in v]
    except (TypeError, ValueError):
        raise InputError(f"{what}: polygon points must be numbers") from None


def edited_config(config_path: Path, camera: str, seats: list[dict[str, Any]],
                  invigilator_zone: list[list[float]] | None) -> bytes:
    """``exam_point.yaml`` with the camera's seats and invigilator zone replaced, validated.

    The new text is checked by :func:`examaudit.config.load_exam_point` (the same check
    ``examaudit audit`` makes) beside the old file, so relative paths resolve the same; the old
    file is not touched. The caller stores the text (the server: as a new input folder).

    Raises:
        InputError: the message names the key path, e.g. ``rooms[0].cameras[0].seats[3].polygon``.
    """
    if not isinstance(seats, list) or len(seats) > MAX_SEATS:
        raise InputError(f"seats must be a list of at most {MAX_SEATS} seats")
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    target = None
    for room in raw.get("rooms") or []:
        for cam in room.get("cameras") or []:
            if str(cam.get("id")) == camera:
                target = cam
    if target is None:
        raise InputError(f"camera {camera!r} is not in this exam point", path=config_path.name)
    clean = []
    for i, s in enumerate(seats):
        if not isinstance(s, dict):
            raise InputError(f"seats[{i}]: expected an object with seat, polygon, candidate_id")
        entry: dict[str, Any] = {"seat": str(s.get("seat") or "").strip(), "polygon": _polygon(s.get("polygon"), f"seats[{i}]")}
        if not entry["seat"]:
            raise InputError(f"seats[{i}]: the seat number is empty")
        cid = str(s.get("candidate_id") or "").strip()
        if cid:
            entry["candidate_id"] = cid
        clean.append(entry)
    target["seats"] = clean
    if invigilator_zone:
        target["invigilator_zone"] = _polygon(invigilator_zone, "invigilator_zone")
    else:
        target.pop("invigilator_zone", None)
    text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, default_flow_style=None, width=120)
    staged = config_path.with_name(f".{config_path.name}.staged-{os.getpid()}")
    try:
        staged.write_text(text, encoding="utf-8")
        try:
            load_exam_point(staged)
        except InputError as exc:  # name the file as the auditor knows it, not the staging copy
            raise InputError(str(exc).replace(str(staged), config_path.name)) from None
    finally:
        staged.unlink(missing_ok=True)
    return text.encode("utf-8")


def recording_available(audit_dir: Path, camera: str) -> bool:
    """Whether a picture can be made: the camera was analysed and its original is on disk."""
    _, entry = _recording_dir(audit_dir, camera)
    return bool(entry.get("path")) and Path(entry["path"]).is_file()
