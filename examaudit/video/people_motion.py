"""People on their feet that the detector misses: tall foreground blobs against the room's background.

An exam room is static apart from its people, so the per-pixel median of many samples is the
room as it usually looks. A person who is not usually there (a visitor, a helper beside a
desk, a candidate walking out) differs from it as a blob about as tall as a standing person
at that depth. Seat polygons give the depth scale: a standing person is well over one and a
half times as tall as a seat region whose bottom is at the same height in the picture.

Limits, said plainly: someone who stays in one place for most of the window becomes part of
the background and is not seen this way, and two people side by side make one blob. The
detector's boxes come first; blobs only add people it did not box.

Example:
    >>> import numpy as np
    >>> bg = np.full((90, 160), 120, np.uint8)
    >>> img = bg.copy(); img[20:80, 70:85] = 30
    >>> standing_blobs(img, bg, min_height=lambda y: 30.0).astype(int).tolist()
    [[70, 20, 85, 80]]
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

#: Width of the grey thumbnails kept per sample for the background model.
MOTION_WIDTH = 192


def motion_thumbnail(gray: np.ndarray, width: int = MOTION_WIDTH) -> np.ndarray:
    """Downscale a grey picture for the background model (a few kB per sample)."""
    h, w = gray.shape[:2]
    if w <= width:
        return gray.copy()
    return cv2.resize(gray, (width, max(1, int(round(h * width / w)))), interpolation=cv2.INTER_AREA)


def backgrounds(thumbs: np.ndarray, t_s: np.ndarray, valid: np.ndarray, window_s: float = 900.0,
                max_frames: int = 150) -> np.ndarray:
    """Index of a background per sample and the backgrounds: median of trusted samples within
    ``window_s`` around blocks of a third of the window.

    Returns:
        ``(bg_index (T,), bgs (B, h, w) uint8)``.
    """
    T = len(thumbs)
    t_s = np.asarray(t_s, np.float64)
    valid = np.asarray(valid, bool)
    pool = np.flatnonzero(valid) if valid.any() else np.arange(T)
    step = window_s / 3
    blocks = np.floor((t_s - t_s.min()) / step).astype(int) if T else np.zeros(0, int)
    bgs, index = [], np.zeros(T, np.int64)
    for k, b in enumerate(np.unique(blocks)):
        centre = t_s.min() + (b + 0.5) * step
        near = pool[np.abs(t_s[pool] - centre) <= window_s / 2]
        if len(near) == 0:
            near = pool
        if len(near) > max_frames:
            near = near[np.linspace(0, len(near) - 1, max_frames).astype(int)]
        bgs.append(np.median(thumbs[near], axis=0).astype(np.uint8))
        index[blocks == b] = k
    return index, np.stack(bgs) if bgs else np.zeros((0,) + thumbs.shape[1:], np.uint8)


def foreground_mask(thumb: np.ndarray, background: np.ndarray, threshold: float = 25.0) -> np.ndarray:
    """0/1 mask of pixels that differ from the background by more than ``threshold`` grey levels."""
    diff = cv2.absdiff(thumb, background)
    return (cv2.GaussianBlur(diff, (3, 3), 0) > threshold).astype(np.uint8)


def standing_blobs(thumb: np.ndarray, background: np.ndarray, min_height: Callable[[float], float],
                   threshold: float = 25.0) -> np.ndarray:
    """Boxes ``(N, 4)`` xyxy (thumbnail pixels) of person-tall blobs that differ from the background.

    ``min_height(bottom_y)`` is the least height a standing person whose feet are at
    ``bottom_y`` can have.
    """
    mask = foreground_mask(thumb, background, threshold)
    # Opening with a 2x2 kernel: OpenCV's MORPH_OPEN does not reflect an even kernel for the dilation,
    # which moves every blob one pixel right and down; dilating with the mirrored anchor does not.
    mask = cv2.dilate(cv2.erode(mask, np.ones((2, 2), np.uint8)), np.ones((2, 2), np.uint8), anchor=(0, 0))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((7, 3), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    out = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if h >= min_height(float(y + h)) and h >= 1.3 * w and area >= 0.25 * w * h:
            out.append([x, y, x + w, y + h])
    return np.asarray(out, np.float64).reshape(-1, 4)


def seat_height_model(seat_boxes: np.ndarray, frame_height: float) -> Callable[[float], float]:
    """Seat-region height as a function of its bottom y (straight-line fit), for depth scale."""
    if len(seat_boxes) >= 2 and np.ptp(seat_boxes[:, 3]) > 1:
        k, c = np.polyfit(seat_boxes[:, 3], seat_boxes[:, 3] - seat_boxes[:, 1], 1)
        return lambda y: max(4.0, k * y + c)
    if len(seat_boxes):
        h = float(seat_boxes[0, 3] - seat_boxes[0, 1])
        return lambda y: h
    return lambda y: 0.2 * frame_height
