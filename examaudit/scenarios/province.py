"""A synthetic province for ``examaudit screen``: exam-point folders with generated footage, a
province-wide records export (covering more exam points than handed over footage), and the truth.

Layout written (what :func:`examaudit.screen.plan_province` reads)::

    OUT/exam_points/EP-SIM-NN/   exam_point.yaml, footage/<room>-<camera>.mp4, truth/
    OUT/records/                 roster, scores, responses, callbacks, certificates, truth.json
    OUT/province_truth.json      which exam points were planted, and with what

Planted exam points get an irregularity on every camera (from :data:`VIDEO_PLANTS`, in turn)
and misconduct in the records (:data:`RECORDS_PLANTS`); the others are normal sessions. All of
it is generated data: figures measured on it must say so.

Example:
    >>> build_province("province", points=12, cameras=4, duration_s=1200, planted=3)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import yaml

from ..records.simulate import simulate_records
from .catalog import CST, build_scenario
from .generate import render_clip
from .sample_records import seating_plan
from .sample_set import _ConfigDumper, _with_id
from .truth import truth_for, write_truth

VIDEO_PLANTS = ("absent_candidate+timestamp_jump", "looped_segment+extra_person", "footage_gap+candidate_left",
                "camera_covered+absent_candidate", "frozen_video+person_lingering")
RECORDS_PLANTS = ("score_inflation", "leak", "proxy")
CITIES = ("杭州市", "宁波市", "温州市", "嘉兴市")


def build_province(out_dir: str | Path, *, points: int = 12, cameras: int = 4, duration_s: float = 1200,
                   planted: int = 3, records_only: int = 4, seed: int = 7, width: int = 640, height: int = 360,
                   fps: float = 10, gop_s: float = 2.0, progress: Callable[[str], None] | None = None) -> dict:
    """Write a province folder; returns its truth (``planted``: {exam point: plants}, ``clean``, ``records_only``)."""
    out = Path(out_dir)
    ep_root = out / "exam_points"
    names = [f"EP-SIM-{k + 1:02d}" for k in range(points)]
    # planted ones spread over the list (not all first), fixed by the seed
    step = max(1, points // max(1, planted))
    planted_names = [names[(k * step + seed) % points] for k in range(planted)]
    truth: dict = {"planted": {}, "clean": [], "records_only": [], "generated": True}
    for k, ep in enumerate(names):
        ep_dir = ep_root / ep
        (ep_dir / "footage").mkdir(parents=True, exist_ok=True)
        (ep_dir / "truth").mkdir(parents=True, exist_ok=True)
        start = datetime(2024, 6, 17 + k % 10, 9 if k % 2 == 0 else 14, 0, tzinfo=CST)
        is_planted = ep in planted_names
        rooms, number = [], 1
        for j in range(cameras):
            scenario = VIDEO_PLANTS[(planted_names.index(ep) + j) % len(VIDEO_PLANTS)] if is_planted else "normal"
            room, cam = f"R{j + 1}", f"C{j + 1}"
            spec = build_scenario(scenario, seed * 1000 + 10 * k + j, width=width, height=height, fps=fps, gop_s=gop_s,
                                  duration_s=duration_s, camera_id=cam, room_name=f"第{j + 1}考场", wall_start=start)
            ids = {}
            for s in spec.layout.seats:
                ids[s.seat] = f"{ep}-S1-{number:03d}"
                number += 1
            spec = replace(spec, candidate_ids=ids, events=tuple(_with_id(e, ids) for e in spec.events))
            clip = f"{room}-{cam}.mp4"
            if progress:
                progress(f"{ep}/{clip}")
            path = render_clip(spec, ep_dir / "footage" / clip)
            path.with_name(path.name + ".truth.json").unlink()
            write_truth(truth_for(spec, f"footage/{clip}"), ep_dir / "truth" / f"{clip}.truth.json")
            entry = spec.camera_entry(footage=[f"footage/{clip}"])
            entry["footage_start"] = start.replace(tzinfo=None).isoformat(sep=" ")
            rooms.append({"id": room, "name": f"第{j + 1}考场", "cameras": [entry]})
            if is_planted:
                truth["planted"].setdefault(ep, []).append(scenario)
        if not is_planted:
            truth["clean"].append(ep)
        end = (start + timedelta(seconds=duration_s)).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
        doc = {"exam_point": ep, "name": f"{CITIES[k % len(CITIES)]}模拟考点{k + 1:02d}", "city": CITIES[k % len(CITIES)],
               "timezone": "Asia/Shanghai",
               "sessions": [{"id": "S1", "start": start.replace(tzinfo=None).isoformat(sep=" ", timespec="minutes"),
                             "end": end, "subject": "建筑施工特种作业人员安全技术考核"}],
               "rooms": rooms}
        (ep_dir / "exam_point.yaml").write_text(
            "# Synthetic exam point written by examaudit.scenarios.province (generated data).\n"
            + yaml.dump(doc, Dumper=_ConfigDumper, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    plan = seating_plan(ep_root)
    for k in range(records_only):
        ep = f"EP-REC-{k + 1:02d}"
        plan[ep] = {"S1": [f"{ep}-S1-{n + 1:03d}" for n in range(30)]}
        truth["records_only"].append(ep)
    plants = {ep: RECORDS_PLANTS[i % len(RECORDS_PLANTS)] for i, ep in enumerate(planted_names)}
    for ep in planted_names:
        truth["planted"][ep].append(f"records:{plants[ep]}")
    simulate_records(out / "records", seed, plan, planted=plants, zh_headers=True)
    (out / "province_truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return truth
