"""Shared fixtures: tiny generated clips, and the real CC BY 4.0 footage when it is present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
FOOTAGE = REPO.parent / "shared" / "footage"


@pytest.fixture
def footage_dir() -> Path:
    if not FOOTAGE.is_dir():
        pytest.skip(f"real footage folder {FOOTAGE} is absent (it lives beside the repo, never in it)")
    return FOOTAGE


def write_test_clip(path: Path, seconds: float = 6.0, fps: int = 10, gop_s: float = 1.0,
                    size: tuple[int, int] = (160, 96), skip: tuple[float, float] | None = None) -> Path:
    """A small moving-pattern H.264 clip; frames with ``skip[0] <= t < skip[1]`` are left out (a PTS gap)."""
    from examaudit.scenarios.clip import ClipWriter

    w, h = size
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    with ClipWriter(path, w, h, fps=fps, gop_s=gop_s) as writer:
        for i in range(int(seconds * fps)):
            t = i / fps
            if skip and skip[0] <= t < skip[1]:
                continue
            frame = np.roll(base, i * 2, axis=1)
            writer.write(frame, t)
    return path


@pytest.fixture
def clip_factory(tmp_path):
    def make(name: str = "clip.mp4", **kw) -> Path:
        return write_test_clip(tmp_path / name, **kw)

    return make
