"""Where the Chinese-capable font is, and drawing text with it onto pictures.

Evidence frames go to enforcement with Chinese captions, and the scenario generator stamps
Chinese NVR clocks (星期五) into its footage. Both used to rely on the glyphs OpenCV's built-in
face happened to carry; OpenCV 5.1 dropped them and every caption turned into ``????``. Text is
now drawn from a real font file through Pillow/FreeType, whose output does not change with the
OpenCV release, and every caller goes through :func:`render_text_mask`.

The font is found once: ``EXAMAUDIT_CJK_FONT`` (a file path) wins; otherwise fontconfig is
asked for a font with Chinese coverage, preferring the families ``scripts/sysdeps.sh`` installs;
otherwise a few well-known paths are tried. No font is a :class:`MissingFontError` with a message
saying what to install, raised before any work starts (the CLI checks at start-up).

Example:
    >>> mask = render_text_mask("回放 replay", 24)
    >>> mask.dtype, mask.ndim, int(mask.max()) > 200
    (dtype('uint8'), 2, True)
"""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np

#: Families preferred in this order; WenQuanYi Micro Hei is the one ``scripts/sysdeps.sh`` installs.
PREFERRED_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
                      "Noto Sans SC", "Droid Sans Fallback", "AR PL UMing CN")
_KNOWN_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)


class MissingFontError(RuntimeError):
    """No font that can draw Chinese was found."""


def _fontconfig_cjk() -> dict[str, str]:
    """family -> file for fonts fontconfig says cover Chinese (empty without fontconfig)."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "family", "file"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    found: dict[str, str] = {}
    for line in out.splitlines():
        if ":" not in line:
            continue
        path, families = line.split(":", 1)
        for fam in families.split(","):
            found.setdefault(fam.strip(), path.strip())
    return found


@lru_cache(maxsize=1)
def cjk_font_file() -> tuple[str, str]:
    """(path, family) of the Chinese-capable font to draw with.

    Raises:
        MissingFontError: none can be found; the message says what to install.
    """
    env = os.environ.get("EXAMAUDIT_CJK_FONT", "").strip()
    if env:
        if not Path(env).is_file():
            raise MissingFontError(f"EXAMAUDIT_CJK_FONT={env}: no such font file")
        return env, Path(env).stem
    found = _fontconfig_cjk()
    for fam in PREFERRED_FAMILIES:
        if fam in found and Path(found[fam]).is_file():
            return found[fam], fam
    for fam, path in sorted(found.items()):
        if Path(path).is_file():
            return path, fam
    for path in _KNOWN_PATHS:
        if Path(path).is_file():
            return path, Path(path).stem
    raise MissingFontError(
        "no font that can draw Chinese was found: install one (Debian/Ubuntu: apt-get install fonts-wqy-microhei, "
        "or run scripts/sysdeps.sh) or set EXAMAUDIT_CJK_FONT to a .ttf/.ttc/.otf file")


def require_cjk_font() -> str:
    """The font path, or :class:`MissingFontError`: called once when a command that draws starts."""
    return cjk_font_file()[0]


@lru_cache(maxsize=32)
def _pil_font(path: str, size_px: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size_px, index=0)


def render_text_mask(text: str, size_px: int, *, stroke_px: int = 0, pad_px: int | None = None,
                     font_path: str | None = None) -> np.ndarray:
    """Coverage (0..255, uint8, height x width) of ``text`` at ``size_px`` pixels per em.

    The box runs from the font's ascent to its descent with ``pad_px`` pixels of margin (default
    ``stroke_px + 1``), so lines of different text share one baseline at
    :func:`baseline_offset`. ``stroke_px`` > 0 widens every glyph by that many pixels (an
    outline's footprint); the same ``pad_px`` with and without a stroke gives aligned boxes.
    """
    from PIL import Image, ImageDraw

    font = _pil_font(font_path or cjk_font_file()[0], int(size_px))
    ascent, descent = font.getmetrics()
    pad = int(stroke_px) + 1 if pad_px is None else int(pad_px)
    width = int(np.ceil(font.getlength(text))) + 2 * pad + 1
    img = Image.new("L", (max(1, width), ascent + descent + 2 * pad), 0)
    ImageDraw.Draw(img).text((pad, pad + ascent), text, font=font, fill=255, anchor="ls",
                             stroke_width=int(stroke_px), stroke_fill=255)
    return np.asarray(img, dtype=np.uint8)


def baseline_offset(size_px: int, pad_px: int = 1, font_path: str | None = None) -> int:
    """Rows from the top of a :func:`render_text_mask` box (with ``pad_px`` margin) to the baseline."""
    ascent, _ = _pil_font(font_path or cjk_font_file()[0], int(size_px)).getmetrics()
    return int(pad_px) + ascent


def draw_text(img: np.ndarray, text: str, org: tuple[int, int], size_px: int, color=(255, 255, 255),
              outline=(0, 0, 0), outline_px: int = 1) -> None:
    """Draw ``text`` with its baseline starting at ``org`` = (x, y), with a dark outline so it reads on
    any background. Blends anti-aliased coverage; clipped to the picture. Modifies ``img``.

    Example:
        >>> img = np.zeros((40, 200, 3), np.uint8)
        >>> draw_text(img, "考场 C1", (4, 30), 20)
        >>> int(img.max())
        255
    """
    if not text:
        return
    pad = outline_px + 1
    halo = render_text_mask(text, size_px, stroke_px=outline_px, pad_px=pad)
    fill = render_text_mask(text, size_px, stroke_px=0, pad_px=pad)
    x0 = int(org[0]) - pad
    y0 = int(org[1]) - baseline_offset(size_px, pad)
    if outline_px > 0:
        _blend(img, halo, x0, y0, outline)
    _blend(img, fill, x0, y0, color)


def _blend(img: np.ndarray, cover: np.ndarray, x: int, y: int, color) -> None:
    h, w = cover.shape
    H, W = img.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    a = cover[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.float32) / 255.0
    region = img[y0:y1, x0:x1]
    if region.ndim == 3:
        a = a[..., None]
        col = np.asarray(color, np.float32)[: region.shape[2]]
    else:
        col = np.float32(color if np.isscalar(color) else color[0])
    region[...] = (region.astype(np.float32) * (1 - a) + col * a + 0.5).astype(img.dtype)
