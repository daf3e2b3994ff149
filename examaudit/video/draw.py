"""Overlays for evidence frames: boxes, seat outlines and a caption band. Drawing only.

Coordinates in an overlay are in the analysed (possibly downscaled) picture; ``scale_from``
maps them onto the full-resolution evidence frame.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from ..fonts import draw_text

#: Box colours (BGR) by what the person is doing: candidates green, invigilators blue, others red.
BOX_COLORS = {"seated": (60, 200, 60), "invigilator": (255, 140, 0), "standing": (0, 0, 255)}


def put_text(img: np.ndarray, text: str, org: tuple[int, int], size: int, color=(255, 255, 255)) -> None:
    """Draw (Chinese) text, baseline at ``org``, with a dark outline so it reads on any background.

    Drawn from the CJK font file (:mod:`examaudit.fonts`), not OpenCV's built-in face, whose
    Chinese glyphs vary by release (5.1 drew ``????``).
    """
    draw_text(img, text, org, size, color, outline=(0, 0, 0), outline_px=max(1, size // 16))


def draw_overlay(image: np.ndarray, overlay: dict[str, Any], caption: str = "", scale_from: int | None = None) -> np.ndarray:
    """Return a copy of ``image`` with the overlay's boxes and polygons and a caption band.

    ``overlay`` keys: ``boxes`` ([[x1, y1, x2, y2], ...]), ``labels`` (text per box),
    ``kinds`` (per box: ``seated`` green, ``invigilator`` blue, anything else red),
    ``polygons`` (lists of points, yellow) and ``polygon_labels`` (text per polygon).
    """
    out = image.copy()
    h, w = out.shape[:2]
    k = (w / scale_from) if (scale_from and w > scale_from) else 1.0
    thick = max(1, int(round(w / 640)))
    poly_labels = overlay.get("polygon_labels", [])
    for i, poly in enumerate(overlay.get("polygons", [])):
        pts = (np.asarray(poly, dtype=np.float64) * k).astype(np.int32)
        cv2.polylines(out, [pts], True, (0, 220, 255), thick + 1)
        if i < len(poly_labels):
            x0, y0 = pts[:, 0].min(), pts[:, 1].max()
            put_text(out, str(poly_labels[i]), (int(x0), int(min(h - 4, y0 + max(12, h // 40)))), max(12, h // 40),
                     (0, 220, 255))
    labels = overlay.get("labels", [])
    kinds = overlay.get("kinds", [])
    for i, box in enumerate(overlay.get("boxes", [])):
        x1, y1, x2, y2 = (int(round(v * k)) for v in box)
        color = BOX_COLORS.get(kinds[i] if i < len(kinds) else "", (0, 0, 255))
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thick + 1)
        if i < len(labels):
            put_text(out, str(labels[i]), (x1, max(14, y1 - 4)), max(12, h // 40), color)
    if caption:
        band = max(18, h // 22)
        cv2.rectangle(out, (0, h - band - 6), (w, h), (0, 0, 0), -1)
        put_text(out, caption, (6, h - 6), band - 4)
    return out
