"""Camera sensor noise: what keeps a still, empty room from being byte-identical frame to frame.

Drawing fresh Gaussian noise for every 1080p frame costs more than encoding it, so a small
bank of noise fields, each a little larger than the frame, is made once. Each frame adds a
frame-sized window of one field and subtracts a window of another; which fields and where
the windows sit come from a hash of the frame number. Windows are views, so this costs no
more than adding two fixed fields, yet no two frames get the same pattern.

Real sensor noise and auto-gain wobble never repeat. The hash must therefore mix well: the
low bits of a plain multiplicative hash follow the frame number almost periodically, and the
clip's packet-size rhythm then repeats at many offsets the way only a replay should.

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


def mix32(*values: int) -> int:
    """A well-mixed 32-bit hash of small integers (MurmurHash3's finaliser after each one).

    Every output bit depends on every input bit, so no bit of ``mix32(seed, i)`` follows ``i``
    with a pattern; a multiplicative hash alone leaves its low bits nearly periodic.
    """
    h = 0x9E3779B9
    for v in values:
        h = (h ^ (int(v) & 0xFFFFFFFF)) * 0x85EBCA6B & 0xFFFFFFFF
        h ^= h >> 13
        h = h * 0xC2B2AE35 & 0xFFFFFFFF
        h ^= h >> 16
    return h


class SensorNoise:
    """Adds cheap, non-repeating sensor noise to frames.

    Parameters:
        height, width: frame size.
        seed: makes the bank (and so the clip) reproducible.
        sigma: noise level in grey levels; 2-3 is a decent indoor CCTV camera.
        bank: noise fields kept in memory (twice, each ``margin`` pixels taller and wider
            than the frame).
        margin: how far a frame's window may move within a field, in pixels.
        flicker_levels: largest per-frame brightness wobble, in grey levels.
    """

    def __init__(self, height: int, width: int, *, seed: int = 0, sigma: float = 2.5, bank: int = 4,
                 margin: int = 32, flicker_levels: int = 2):
        rng = np.random.default_rng(seed)
        self.bank = bank
        self.margin = margin
        self.flicker_levels = flicker_levels
        self._seed = seed
        self._size = (height, width)
        fields = rng.normal(0.0, sigma, size=(2 * bank, height + margin, width + margin, 1)).astype(np.float32)
        fields = np.clip(np.abs(fields), 0, 255).astype(np.uint8)
        # Noise is mostly luminance on real sensors: one field shared by the three channels.
        self._plus = [np.repeat(f, 3, axis=2) for f in fields[:bank]]
        self._minus = [np.repeat(f, 3, axis=2) for f in fields[bank:]]

    def pick(self, frame_index: int) -> tuple[int, int, int, int, int, int]:
        """Where frame ``frame_index``'s noise comes from: ``(plus, row, col, minus, row, col)``,
        fields and window corners. A hash of the index, so a replayed frame repeats exactly."""
        m = max(1, self.margin + 1)
        out = []
        for salt in (1, 2):
            h = mix32(self._seed, salt, frame_index)
            out += [h % self.bank, (h >> 8) % m, (h >> 20) % m]
        return tuple(out)

    def flicker(self, frame_index: int) -> int:
        """Grey levels of auto-gain flicker for this frame: never 0 and never the previous frame's
        value (the sign alternates), so no two consecutive frames of a still room are equal."""
        if self.flicker_levels <= 0:
            return 0
        size = 1 + mix32(self._seed, 3, frame_index) % self.flicker_levels
        return size if frame_index % 2 == 0 else -size

    def apply(self, frame: np.ndarray, frame_index: int) -> np.ndarray:
        """Add noise and flicker in place (saturating) and return ``frame``."""
        i, ri, ci, j, rj, cj = self.pick(frame_index)
        H, W = self._size
        cv2.add(frame, self._plus[i][ri:ri + H, ci:ci + W], dst=frame)
        cv2.subtract(frame, self._minus[j][rj:rj + H, cj:cj + W], dst=frame)
        # x264 at CCTV quality smooths fine grain away entirely, so a still room would decode
        # as byte-identical frames; the slow auto-gain wobble of real cameras survives encoding.
        f = self.flicker(frame_index)
        if f > 0:
            cv2.add(frame, (f, f, f, 0), dst=frame)
        elif f < 0:
            cv2.subtract(frame, (-f, -f, -f, 0), dst=frame)
        return frame
