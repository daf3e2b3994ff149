"""Records for the sample media: a province-wide export that agrees with the sample footage.

Regulators screen records province-wide (a pass rate means little without the others), so
the sample ships one export under ``sample_media/records/`` covering the sample exam points,
seated exactly as their footage shows, plus other exam points of the same province. Each
sample ``exam_point.yaml`` points its ``records:`` at that export.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


from ..config import load_exam_point
from ..records.simulate import simulate_records

#: Irregular exam points in the sample, by misconduct; the footage of EP-WZ-02 is irregular too.
SAMPLE_PLANTS = {"EP-WZ-02": "score_inflation"}
OTHER_POINTS = 18


def seating_plan(sample_dir: Path) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """{exam_point: {session: [{candidate_id, room, seat}]}} from the sample YAML files."""
    plan: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for cfg_path in sorted(sample_dir.glob("*/exam_point.yaml")):
        cfg = load_exam_point(cfg_path)
        people = [
            {"candidate_id": seat.candidate_id, "room": room.id, "seat": seat.seat}
            for room, cam in cfg.cameras()
            for seat in cam.seats
            if seat.candidate_id
        ]
        for session in cfg.sessions:
            plan.setdefault(cfg.exam_point, {})[session.id] = people
    return plan


def build_sample_records(sample_dir: str | Path, seed: int = 2024) -> dict[str, Path]:
    """Write ``sample_dir/records/`` and point every sample exam point's YAML at it."""
    sample_dir = Path(sample_dir)
    plan = seating_plan(sample_dir)
    for k in range(OTHER_POINTS):
        ep = f"EP-ZJ-{k + 3:02d}"
        plan[ep] = {"S1": [f"{ep}-S1-{n + 1:03d}" for n in range(30)]}
    paths = simulate_records(sample_dir / "records", seed, plan, planted=SAMPLE_PLANTS, zh_headers=True)
    block = "records:\n" + "".join(f"  {role}: ../records/{p.name}\n" for role, p in paths.items() if role != "truth")
    for cfg_path in sorted(sample_dir.glob("*/exam_point.yaml")):
        text = cfg_path.read_text(encoding="utf-8")
        if "\nrecords:" not in text:  # appended as text, so the file keeps its compact layout
            cfg_path.write_text(text.rstrip("\n") + "\n" + block, encoding="utf-8")
        load_exam_point(cfg_path)  # the rewritten file must still be valid
    return paths
