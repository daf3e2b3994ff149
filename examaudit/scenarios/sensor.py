"""Camera sensor noise: what keeps a still, empty room from being byte-identical frame to frame.

Drawing fresh Gaussian noise for every 1080p frame costs more than encoding it, so a small
bank of noise fields is made once, and each frame adds one field and subtracts another,
chosen from the frame number by a hash. With a bank of 4 that gives 16 combinations in an
order that does not repeat with a fixed period (a fixed period would look like a loop).

Example:
    >>> import numpy as np
    >>> noise = SensorNoise(48, 64, seed=1)
    >>> a = noise.apply(np.full((48, 64, 3), 100, np.uint8), 0)
    >>> b = noise.apply(np.full((48, 64, 3), 100, np.uint8), 1)
    >>> bool((a != b).any())
    True
"""

from __future__ import annotations

import cv2
import numpy as np


class SensorNoise:
    """Adds cheap, non-periodic sensor noise to frames.

    Parameters:
        height, width: frame size.
        seed: makes the bank (and so the clip) reproducible.
        sigma: noise level in grey levels; 2-3 is a decent indoor CCTV camera.
        bank: noise fields kept in memory (each is one frame in size, twice).
        flicker_levels: largest per-frame brightness wobble, in grey levels.
    """

    def __init__(self, height: int, width: int, *, seed: int = 0, sigma: float = 2.5, bank: int = 4,
                 flicker_levels: int = 2):
        rng = np.random.default_rng(seed)
        self.bank = bank
        self.flicker_levels = flicker_levels
        self._seed = seed
        fields = rng.normal(0.0, sigma, size=(2 * bank, height, width, 1)).astype(np.float32)
        fields = np.clip(np.abs(fields), 0, 255).astype(np.uint8)
        # Noise is mostly luminance on real sensors: one field shared by the three channels.
        self._plus = [np.repeat(f, 3, axis=2) for f in fields[:bank]]
        self._minus = [np.repeat(f, 3, axis=2) for f in fields[bank:]]

    def pick(self, frame_index: int) -> tuple[int, int]:
        """Which (plus, minus) fields frame ``frame_index`` gets: a hash, so replays are exact."""
        h = (frame_index * 2654435761 + self._seed * 97) & 0xFFFFFFFF
        h ^= h >> 13
        return h % self.bank, (h >> 8) % self.bank

    def flicker(self, frame_index: int) -> int:
        """Grey levels of auto-gain flicker for this frame: never 0 and never the previous frame's
        value (the sign alternates), so no two consecutive frames of a still room are equal."""
        if self.flicker_levels <= 0:
            return 0
        h = ((frame_index + 7) * 2246822519 + self._seed * 31) & 0xFFFFFFFF
        h ^= h >> 15
        size = 1 + int(h % self.flicker_levels)
        return size if frame_index % 2 == 0 else -size

    def apply(self, frame: np.ndarray, frame_index: int) -> np.ndarray:
        """Add noise and flicker in place (saturating) and return ``frame``."""
        i, j = self.pick(frame_index)
        cv2.add(frame, self._plus[i], dst=frame)
        cv2.subtract(frame, self._minus[j], dst=frame)
        # x264 at CCTV quality smooths fine grain away entirely, so a still room would decode
        # as byte-identical frames; the slow auto-gain wobble of real cameras survives encoding.
        f = self.flicker(frame_index)
        if f > 0:
            cv2.add(frame, (f, f, f, 0), dst=frame)
        elif f < 0:
            cv2.subtract(frame, (-f, -f, -f, 0), dst=frame)
        return frame
