"""The sample media shipped for the demo: two exam points with footage, configs and truth.

``EP-HZ-01`` (Hangzhou) is a clean control; ``EP-WZ-02`` (Wenzhou) has irregularities
planted in every room. Each exam point directory holds::

    exam_point.yaml               # valid for examaudit.config.load_exam_point
    footage/<room>-<camera>.mp4   # 640x360, 10 fps, GOP 2 s, burned-in clock
    truth/<clip>.truth.json       # what was planted, per-second head counts

Candidate ids are ``<exam point>-<session>-<nnn>``, numbered across the exam point's rooms
(``EP-WZ-02-S1-009`` is the first seat of the second room), so the records simulator can
generate the same people. The records themselves (``records/``) are written elsewhere.

Example:
    >>> build_sample_media("sample_media")   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import yaml

from .catalog import CST, build_scenario
from .generate import render_clip
from .truth import truth_for, write_truth


@dataclass(frozen=True)
class RoomPlan:
    room: str
    name: str
    camera: str
    scenario: str


@dataclass(frozen=True)
class ExamPointPlan:
    exam_point: str
    name: str
    city: str
    day: str
    session_start: str
    rooms: tuple[RoomPlan, ...]


SAMPLE_POINTS = (
    ExamPointPlan("EP-HZ-01", "杭州市某建筑安全培训考点", "杭州市", "2024-06-20", "09:00", (
        RoomPlan("R1", "第一考场", "C1", "normal"),
        RoomPlan("R2", "第二考场", "C2", "normal"),
    )),
    ExamPointPlan("EP-WZ-02", "温州市某职业技能培训考点", "温州市", "2024-06-21", "14:00", (
        RoomPlan("R1", "第一考场", "C1", "absent_candidate+person_lingering"),
        RoomPlan("R2", "第二考场", "C2", "extra_person+timestamp_jump"),
        RoomPlan("R3", "第三考场", "C3", "looped_segment+candidate_left"),
    )),
)


def build_sample_media(out_dir: str | Path, seed: int = 2024, *, duration_s: float = 120, width: int = 640,
                       height: int = 360, fps: float = 10, gop_s: float = 2.0,
                       progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write the sample exam points under ``out_dir``; returns the ``exam_point.yaml`` paths."""
    out = Path(out_dir)
    written = []
    for k, plan in enumerate(SAMPLE_POINTS):
        ep_dir = out / plan.exam_point
        (ep_dir / "footage").mkdir(parents=True, exist_ok=True)
        (ep_dir / "truth").mkdir(parents=True, exist_ok=True)
        start = datetime.fromisoformat(f"{plan.day} {plan.session_start}").replace(tzinfo=CST)
        rooms, next_number = [], 1
        for j, rp in enumerate(plan.rooms):
            # The sample session is a short excerpt that every camera covers from its start, so
            # the clean exam point shows no coverage gaps; real sessions run 60-120 minutes.
            wall = start
            spec = build_scenario(rp.scenario, seed + 100 * k + j, width=width, height=height, fps=fps,
                                  gop_s=gop_s, duration_s=duration_s, camera_id=rp.camera, room_name=rp.name,
                                  wall_start=wall)
            ids = {}
            for s in spec.layout.seats:
                ids[s.seat] = f"{plan.exam_point}-S1-{next_number:03d}"
                next_number += 1
            spec = replace(spec, candidate_ids=ids, events=tuple(_with_id(e, ids) for e in spec.events))
            clip = f"{rp.room}-{rp.camera}.mp4"
            if progress:
                progress(f"{plan.exam_point}/{clip}")
            path = render_clip(spec, ep_dir / "footage" / clip)
            # render_clip puts the truth beside the clip; the sample layout keeps it in truth/.
            path.with_name(path.name + ".truth.json").unlink()
            write_truth(truth_for(spec, f"footage/{clip}"), ep_dir / "truth" / f"{clip}.truth.json")
            camera = spec.camera_entry(footage=[f"footage/{clip}"])
            camera["footage_start"] = wall.replace(tzinfo=None).isoformat(sep=" ")
            rooms.append({"id": rp.room, "name": rp.name, "cameras": [camera]})
        doc = {
            "exam_point": plan.exam_point, "name": plan.name, "city": plan.city, "timezone": "Asia/Shanghai",
            "sessions": [{"id": "S1", "start": f"{plan.day} {plan.session_start}", "end": (start + timedelta(seconds=duration_s)).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds"),
                          "subject": "建筑施工特种作业人员安全技术考核"}],
            "rooms": rooms,
        }
        path = ep_dir / "exam_point.yaml"
        path.write_text("# Synthetic sample exam point written by examaudit.scenarios.sample_set; "
                        "seat polygons are in each camera's 640x360 pixels.\n"
                        + yaml.dump(doc, Dumper=_ConfigDumper, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
        written.append(path)
    return written


class _ConfigDumper(yaml.SafeDumper):
    """Points and polygons on one line each, as people write them by hand."""


def _represent_list(dumper: yaml.SafeDumper, data: list):
    flat = all(isinstance(v, (int, float)) for v in data) or all(
        isinstance(v, list) and all(isinstance(x, (int, float)) for x in v) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=bool(data) and flat)


_ConfigDumper.add_representer(list, _represent_list)


def _with_id(event: dict, ids: dict) -> dict:
    if event.get("seat") and "candidate_id" in event.get("details", {}):
        return {**event, "details": {**event["details"], "candidate_id": ids.get(event["seat"])}}
    return event
