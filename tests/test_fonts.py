"""Chinese drawn onto evidence frames and generated clocks must be Chinese, not question marks.

OpenCV 5.1's built-in face drew ``回放`` as ``??``; evidence captions went to enforcement as
``???? / replay``. These tests compare glyphs with each other and with ``?``: a font without
Chinese draws every character as the same ``?`` or the same missing-glyph box.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest

from examaudit import fonts
from examaudit.scenarios.osd import render_text
from examaudit.video.draw import draw_overlay, put_text


def _drawn(text: str, size: int = 28) -> np.ndarray:
    img = np.zeros((48, 40 * max(1, len(text)) + 20, 3), np.uint8)
    put_text(img, text, (4, 36), size)
    return (img[..., 1] > 128).astype(np.float32)


def _differ(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a.shape[1], b.shape[1])
    return float(np.abs(a[:, :w] - b[:, :w]).sum() / max(1.0, a[:, :w].sum() + b[:, :w].sum()))


@pytest.mark.parametrize("char", ["回", "放", "星", "期", "座", "席"])
def test_each_caption_glyph_is_its_own_and_not_a_question_mark(char):
    glyph, question = _drawn(char), _drawn("?")
    assert glyph.sum() > 1.5 * question.sum(), f"{char} has no more ink than '?': not a CJK glyph"
    assert _differ(glyph, question) > 0.5
    assert _differ(_drawn(char), _drawn("回" if char != "回" else "放")) > 0.3, "two CJK chars drawn alike (tofu)"


def test_evidence_caption_band_reads_chinese_not_question_marks():
    img = np.full((360, 640, 3), 120, np.uint8)
    zh = draw_overlay(img, {}, caption="回放 / replay t=74.0s")
    qq = draw_overlay(img, {}, caption="?? / replay t=74.0s")
    band_zh, band_qq = zh[300:, :120, 1] > 128, qq[300:, :120, 1] > 128
    assert band_zh.sum() > 0 and (band_zh != band_qq).sum() > 0.5 * band_qq.sum()


def test_generated_clock_weekday_is_drawn_in_chinese():
    a, b = render_text("星期四", 20).mask, render_text("星期五", 20).mask
    assert a.shape == b.shape and (a != b).sum() > 10  # 四 and 五 differ, boxes would not
    q = render_text("???", 20).mask
    assert a.sum() > 1.3 * q.sum(), "星期四 has no more ink than ???: not drawn in Chinese"


def test_missing_font_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("EXAMAUDIT_CJK_FONT", str(tmp_path / "nope.ttc"))
    fonts.cjk_font_file.cache_clear()
    try:
        with pytest.raises(fonts.MissingFontError, match="EXAMAUDIT_CJK_FONT"):
            fonts.require_cjk_font()
    finally:
        monkeypatch.delenv("EXAMAUDIT_CJK_FONT")
        fonts.cjk_font_file.cache_clear()


def test_drawing_command_refuses_to_start_without_a_cjk_font(tmp_path):
    env = {"EXAMAUDIT_CJK_FONT": str(tmp_path / "missing.ttf"), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "examaudit.cli", "analyze", str(tmp_path / "x.mp4"), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and "EXAMAUDIT_CJK_FONT" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_exactly_one_opencv_wheel_is_installed():
    # Two wheels writing the same cv2 package (headless and non-headless) make the import a coin toss.
    names = {d.metadata["Name"].lower() for d in metadata.distributions()}
    assert len({n for n in names if n.startswith("opencv")}) == 1, sorted(n for n in names if "opencv" in n)
