"""Small exam point zips for the server tests (generated clips, seconds to audit)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from conftest import write_test_clip

YAML = """
exam_point: {code}
name: 测试考点
city: {city}
sessions:
  - {{id: S1, start: "2024-06-20 09:00", end: "2024-06-20 09:01"}}
rooms:
  - id: R1
    cameras:
      - id: C1
        footage: [footage/R1-C1.mp4]
        footage_start: "2024-06-20 09:00:00"
"""


def exam_point_folder(root: Path, code: str = "EP-T-01", city: str = "温州市") -> Path:
    ep = root / code
    (ep / "footage").mkdir(parents=True, exist_ok=True)
    (ep / "exam_point.yaml").write_text(YAML.format(code=code, city=city), encoding="utf-8")
    clip = ep / "footage" / "R1-C1.mp4"
    if not clip.exists():
        write_test_clip(clip, seconds=10, skip=(3.0, 6.0))
    return ep


def zip_folder(folder: Path, top: str | None = None) -> bytes:
    """The folder zipped, its files under ``top/`` (the folder's name by default)."""
    top = folder.name if top is None else top
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, f"{top}/{p.relative_to(folder).as_posix()}" if top else p.relative_to(folder).as_posix())
    return buf.getvalue()


def exam_point_zip(root: Path, code: str = "EP-T-01", city: str = "温州市") -> bytes:
    return zip_folder(exam_point_folder(root, code, city))
