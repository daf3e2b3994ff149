"""Looped or replayed footage: the same run of pictures shown twice, anywhere in a recording.

Someone hiding what happened in a room can replay an earlier stretch over it. The samples
of the replay then repeat the perceptual hashes of the original, in order, at a fixed
offset. Candidates are diagonals of the Hamming-distance matrix between all sample hashes
(not only consecutive ones), so a replay an hour later is found as easily as one right
after its source.

A still, empty room also repeats its hashes everywhere; what it does not do is repeat its
*motion*. A candidate is confirmed at pixel level on the 160x90 thumbnails only when the
paired pictures are much closer to each other than each picture is to its own neighbour in
time, i.e. the run contains movement and the movement is repeated.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> frames = [rng.integers(0, 255, (90, 160), dtype=np.uint8) for _ in range(8)]
    >>> seq = frames + frames[2:6] + frames[:2]          # samples 8..11 replay samples 2..5
    >>> from examaudit.video.integrity import phash64
    >>> t = np.arange(len(seq)) * 5.0
    >>> [(l.a0, l.b0, l.length) for l in find_loops([phash64(f) for f in seq], seq, t)]
    [(2, 8, 4)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..findings import FindingKind, Severity


@dataclass(frozen=True)
class Loop:
    """Samples ``b0..b1`` repeat samples ``a0..a1`` (same length, same order).

    Attributes:
        hash_distance: median Hamming distance of the paired hashes (bits of 64).
        pair_change: median fraction of thumbnail pixels differing between the pairs.
        motion: median fraction differing between neighbouring samples in the run.
        start_s, end_s, offset_s: the replay's own span and how far back its original lies,
            when known more precisely than the samples (from packet sizes).
    """

    a0: int
    a1: int
    b0: int
    b1: int
    hash_distance: float
    pair_change: float
    motion: float
    start_s: float | None = None
    end_s: float | None = None
    offset_s: float | None = None

    @property
    def length(self) -> int:
        return self.b1 - self.b0 + 1


def hash_distances(hashes: list[int]) -> np.ndarray:
    """All pairwise Hamming distances between 64-bit hashes (uint8 matrix)."""
    h = np.array([int(x) & 0xFFFFFFFFFFFFFFFF for x in hashes], dtype=np.uint64)
    return np.bitwise_count(h[:, None] ^ h[None, :]).astype(np.uint8)


def changed_fraction(a: np.ndarray, b: np.ndarray, level: int = 12) -> float:
    """Fraction of pixels differing by more than ``level`` gray levels."""
    return float(np.count_nonzero(np.abs(a.astype(np.int16) - b.astype(np.int16)) > level)) / a.size


def find_loops(
    hashes: list[int],
    thumbs: list[np.ndarray],
    t_s: np.ndarray,
    eligible: np.ndarray | None = None,
    *,
    max_bits: int = 8,
    min_samples: int = 3,
    min_offset: int = 2,
    min_motion: float = 0.004,
    max_ratio: float = 0.35,
) -> list[Loop]:
    """Repeated runs of samples, confirmed by repeated motion.

    Parameters:
        hashes: 64-bit perceptual hash per sample.
        thumbs: small grayscale picture per sample (same size), for the pixel check.
        t_s: sample times (for nothing but reasons; kept for symmetry with other checks).
        eligible: samples that may take part (e.g. not black, not frozen).
        max_bits: hashes this close (of 64) count as the same picture.
        min_samples: a run must be at least this many samples long.
        min_offset: the replay must start at least this many samples after its source.
        min_motion: the run must move at least this much between neighbouring samples.
        max_ratio: pairs must differ at most this fraction of the neighbours' motion.

    Returns:
        Non-overlapping loops, longest first then in time order.
    """
    n = len(hashes)
    if n < min_samples + min_offset:
        return []
    ok = np.ones(n, bool) if eligible is None else np.asarray(eligible, bool)
    d = hash_distances(hashes)
    close = (d <= max_bits) & ok[:, None] & ok[None, :]
    # The sampling grid need not line up with the replay offset: allow the diagonal to wobble
    # by one sample, as keyframe sampling does.
    found: list[Loop] = []
    used = np.zeros(n, bool)
    neighbour = np.array([changed_fraction(thumbs[i], thumbs[i + 1]) for i in range(n - 1)] + [0.0])
    for k in range(min_offset, n - min_samples + 1):
        diag = np.zeros(n - k, bool)
        for dk in (-1, 0, 1):
            kk = k + dk
            if kk < min_offset or kk >= n:
                continue
            m = min(n - k, n - kk)
            diag[:m] |= np.diagonal(close, kk)[:m]
        a = 0
        while a < diag.size:
            if not diag[a]:
                a += 1
                continue
            e = a
            while e + 1 < diag.size and diag[e + 1]:
                e += 1
            if e - a + 1 >= min_samples and not used[a + k:e + k + 1].any():
                loop = _confirm(a, e, k, thumbs, d, neighbour, min_motion, max_ratio, max_bits)
                if loop is not None:
                    found.append(loop)
                    used[loop.b0:loop.b1 + 1] = True
            a = e + 1
    found.sort(key=lambda l: l.b0)
    return found


def _confirm(a0: int, a1: int, k: int, thumbs, d, neighbour, min_motion, max_ratio, max_bits) -> Loop | None:
    n = len(thumbs)
    pair, motion, dist = [], [], []
    for a in range(a0, a1 + 1):
        # Pair each source sample with the best of the replay samples around the offset.
        cands = [b for b in (a + k - 1, a + k, a + k + 1) if a < b < n and b - a >= 1]
        b = min(cands, key=lambda x: d[a, x])
        pair.append(changed_fraction(thumbs[a], thumbs[b]))
        motion.append(max(neighbour[a], neighbour[a - 1] if a > 0 else 0.0))
        dist.append(int(d[a, b]))
    pc, mo = float(np.median(pair)), float(np.median(motion))
    if mo < min_motion or pc > max_ratio * mo:
        return None
    bs = [min((b for b in (a + k - 1, a + k, a + k + 1) if a < b < n), key=lambda x: d[a, x]) for a in (a0, a1)]
    b0, b1 = bs[0], bs[1]
    return Loop(a0, a1, b0, b1, float(np.median(dist)), pc, mo)


def loop_drafts(loops: list[Loop], t_s: np.ndarray) -> list:
    """One ``looped_segment`` draft per loop, with the repeated pair as evidence."""
    from .analyze import Draft

    out = []
    for lp in loops:
        tb0, tb1, ta0, ta1 = (float(t_s[i]) for i in (lp.b0, lp.b1, lp.a0, lp.a1))
        mid = lp.length // 2
        ta, tb = float(t_s[lp.a0 + mid]), float(t_s[min(lp.b0 + mid, len(t_s) - 1)])
        if lp.offset_s is not None:
            # The exact offset is known: the evidence pair is the same original frame twice.
            tb0, tb1 = lp.start_s, lp.end_s
            ta0, ta1 = tb0 - lp.offset_s, tb1 - lp.offset_s
            tb = float(t_s[min(lp.b0 + mid, len(t_s) - 1)])
            ta = tb - lp.offset_s
        out.append(
            Draft(
                FindingKind.looped_segment,
                Severity.high,
                tb0,
                tb1,
                0.85,
                f"{tb0:.0f}–{tb1:.0f} 秒的画面是 {ta0:.0f}–{ta1:.0f} 秒画面的重放：{lp.length} 个采样按相同顺序重复，"
                f"成对画面仅有 {100 * lp.pair_change:.1f}% 像素不同，而相邻画面之间有 {100 * lp.motion:.1f}% 像素变化。",
                f"The pictures from {tb0:.0f} s to {tb1:.0f} s replay those from {ta0:.0f} s to {ta1:.0f} s: "
                f"{lp.length} samples repeat in the same order, paired pictures differ in {100 * lp.pair_change:.1f}% "
                f"of pixels while neighbouring pictures differ in {100 * lp.motion:.1f}%.",
                {
                    "source_start_s": round(ta0, 3),
                    "source_end_s": round(ta1, 3),
                    "samples": lp.length,
                    "offset_s": None if lp.offset_s is None else round(lp.offset_s, 3),
                    "match_score": round(lp.hash_distance, 3),
                    "pair_change": round(lp.pair_change, 4),
                    "motion": round(lp.motion, 4),
                    "key": f"{ta0:.1f}",
                },
                frames=[(ta, "原始画面 / original"), (tb, "重放画面 / replay")],
            )
        )
    return out


@dataclass(frozen=True)
class PacketRepeat:
    """A stretch whose packet-size rhythm repeats an earlier stretch.

    Attributes:
        start_s, end_s: the repeating stretch (seconds into the footage).
        offset_s: how far back its original lies.
        correlation: median normalised correlation of the matching windows.
    """

    start_s: float
    end_s: float
    offset_s: float
    correlation: float


def packet_repeats(t_s: np.ndarray, size: np.ndarray, keyframe: np.ndarray, *, window_s: float = 10.0,
                   min_corr: float = 0.5, min_windows: int = 3,
                   margin: float = 0.15) -> list[PacketRepeat]:
    """Find replayed stretches from packet sizes alone (no decoding).

    An encoder spends bits on what changed since the previous frame: motion and sensor noise.
    Replayed frames change in the same way as their originals did, so the sequence of
    inter-frame packet sizes repeats, even where the picture is too still for any visual hash
    to tell a replay from the room itself. Windows of ``window_s`` (half-overlapping) are
    correlated against everything before them (FFT); consecutive windows that agree on the
    same offset make a repeat.

    The encoder adds a rhythm of its own: a P-frame's size depends on how far it is from the
    last keyframe. A replay whose offset is not a whole number of GOPs carries that rhythm at
    another phase than its original did, which lowers the match at the true offset and raises
    it at every whole-GOP offset; so the typical size at each GOP position is taken out first.

    Parameters:
        t_s, size, keyframe: per-packet arrays in presentation order.
    """
    from scipy.ndimage import median_filter, uniform_filter1d

    n = int(size.size)
    if n < 8:
        return []
    dt = float(np.median(np.diff(t_s))) if n > 1 else 0.0
    if not dt > 0:
        return []
    w = int(round(window_s / dt))
    if n < 3 * w or w < 16:
        return []
    x = np.log(np.maximum(size.astype(np.float64), 1.0))
    # Keyframes and the frame after each carry the GOP's rhythm, not the picture's: flatten them.
    bad = keyframe.copy()
    bad[1:] |= keyframe[:-1]
    med = median_filter(x, size=9, mode="nearest")
    x = np.where(bad, med, x)
    x = x - uniform_filter1d(x, size=max(3, int(round(2.0 / dt))), mode="nearest")
    x = x - gop_pattern(x, keyframe)
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    fx = np.fft.rfft(x, nfft)
    c1 = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x * x)])
    seg_sum = c1[w:] - c1[:-w]
    seg_norm = np.sqrt(np.maximum(c2[w:] - c2[:-w] - seg_sum ** 2 / w, 1e-12))
    step = max(1, w // 2)
    hits: list[tuple[int, int, float]] = []
    for p in range(w, n - w + 1, step):
        tmpl = x[p:p + w] - x[p:p + w].mean()
        tn = float(np.sqrt((tmpl * tmpl).sum()))
        if tn < 1e-9:
            continue
        cc = np.fft.irfft(fx * np.conj(np.fft.rfft(tmpl, nfft)), nfft)[: n - w + 1]
        r = cc / (seg_norm * tn)
        last = p - w  # the original must end before this window starts
        if last < 0:
            continue
        rr = r[: last + 1]
        lag = int(np.argmax(rr))
        # A replay matches one offset; periodic rhythms (a ticking clock, a patterned noise
        # source) match many, earlier and later. The best lag must beat every other one,
        # in either direction (but not the window itself), by ``margin``.
        others = r.copy()
        others[max(0, lag - 3):lag + 4] = -1.0
        others[max(0, p - 3):p + 4] = -1.0
        second = float(others.max()) if others.size else -1.0
        score = float(rr[lag]) if float(rr[lag]) - second >= margin else 0.0
        hits.append((p, p - lag, score))
    out: list[PacketRepeat] = []
    i = 0
    while i < len(hits):
        if hits[i][2] < min_corr:
            i += 1
            continue
        j = i
        while j + 1 < len(hits) and hits[j + 1][2] >= min_corr and abs(hits[j + 1][1] - hits[i][1]) <= 2:
            j += 1
        if j - i + 1 >= min_windows:
            p0, p1 = hits[i][0], hits[j][0] + w - 1
            off = int(np.median([h[1] for h in hits[i:j + 1]]))
            p0, p1 = _extend(x, p0, p1, off, max(8, w // 2), max(1, int(round(1.0 / dt))))
            out.append(PacketRepeat(float(t_s[p0]), float(t_s[min(p1, n - 1)]), float(t_s[p0] - t_s[p0 - off]),
                                    float(np.median([h[2] for h in hits[i:j + 1]]))))
        i = j + 1
    return out


def gop_position(keyframe: np.ndarray) -> np.ndarray:
    """Packets since the last keyframe (0 on a keyframe, -1 before the first one)."""
    idx = np.arange(keyframe.size)
    last = np.maximum.accumulate(np.where(keyframe, idx, -1))
    return np.where(last >= 0, idx - last, -1)


def gop_pattern(x: np.ndarray, keyframe: np.ndarray, min_gops: int = 4) -> np.ndarray:
    """The part of ``x`` that follows the position in the GOP: the median of ``x`` over all
    packets at the same distance from their keyframe, 0 where fewer than ``min_gops`` share it.

    Example:
        >>> key = np.arange(40) % 4 == 0
        >>> gop_pattern(np.tile([5.0, 1.0, 2.0, 3.0], 10), key)[:4]
        array([5., 1., 2., 3.])
    """
    pos = gop_position(keyframe)
    out = np.zeros(x.size)
    order = np.argsort(pos, kind="stable")
    values, first, count = np.unique(pos[order], return_index=True, return_counts=True)
    for v, i, c in zip(values, first, count):
        if v >= 0 and c >= min_gops:
            grp = order[i:i + c]
            out[grp] = np.median(x[grp])
    return out


def _corr_at(x: np.ndarray, p: int, off: int, w: int) -> float:
    if p - off < 0 or p + w > x.size:
        return -1.0
    a, b = x[p:p + w], x[p - off:p - off + w]
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-12 else -1.0


def _extend(x: np.ndarray, p0: int, p1: int, off: int, w: int, step: int, keep: float = 0.35) -> tuple[int, int]:
    """Place a repeat's ends to ~1 s with shorter windows at its now known offset.

    The long windows that found it may straddle its ends, so it is first trimmed, then grown.
    """
    while p1 - p0 > 2 * w and _corr_at(x, p0, off, w) < keep:
        p0 += step
    while p1 - p0 > 2 * w and _corr_at(x, p1 - w + 1, off, w) < keep:
        p1 -= step
    while p0 - step - off >= 0 and _corr_at(x, p0 - step, off, w) >= keep:
        p0 -= step
    while p1 + step < x.size and _corr_at(x, p1 + step - w + 1, off, w) >= keep:
        p1 += step
    return p0, p1
