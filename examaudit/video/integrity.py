"""Can this footage be trusted? Camera tampering and picture integrity, sample by sample.

Each sample is reduced to a few cheap numbers on a downscaled grayscale copy (brightness,
contrast, sharpness, edge density, entropy, a 64-bit perceptual hash, the change since the
previous sample) and a 160x90 thumbnail. Nothing else is kept, so memory stays flat for
hours of footage. The per-camera *reference* is learned from the footage itself (medians
over the samples that look like an ordinary picture of the room), and every decision is
relative to it: a dark room is not "covered", a soft camera is not "defocused".

The decisions are pure functions over the per-sample arrays (:func:`classify_samples`,
:func:`registered_moves`, :func:`frozen_runs`, :func:`find_splices`); :class:`IntegrityCheck`
is the thin streaming shell that the analysis calls per sample. Loops are found in :mod:`.loops`.

Quality labels, in order of precedence (the first that applies names the sample):
``video_black``, ``video_overexposed``, ``camera_covered``, ``camera_defocused``,
``camera_moved``, ``frozen_video``, ``looped_segment``, else ``ok``.

Example:
    >>> import numpy as np
    >>> f = frame_features(np.full((180, 320), 8, np.uint8))
    >>> f.brightness < 10 and f.edge_density == 0.0
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from ..findings import FindingKind, Severity
from .sampler import Sample

#: Rows at the top and bottom of the picture where NVRs burn in the clock and camera name.
#: Tamper features ignore them: the text stays sharp and bright over a covered lens.
OSD_MARGIN = 0.12
THUMB_W, THUMB_H = 160, 90
FEATURE_W = 320

TAMPER_KINDS = (
    FindingKind.video_black,
    FindingKind.video_overexposed,
    FindingKind.camera_covered,
    FindingKind.camera_defocused,
    FindingKind.camera_moved,
    FindingKind.frozen_video,
    FindingKind.looped_segment,
    FindingKind.splice,
)


@dataclass(frozen=True)
class FrameFeatures:
    """Cheap per-picture numbers, computed on the content band (OSD rows left out).

    Attributes:
        brightness: mean gray level (0-255).
        contrast: standard deviation of gray levels.
        sharpness: variance of the Laplacian at 320 px width.
        edge_density: fraction of Canny edge pixels.
        entropy: Shannon entropy of the gray histogram in bits (0-8).
        saturated: fraction of pixels at 250 or above.
        phash: 64-bit DCT perceptual hash of the whole picture.
    """

    brightness: float
    contrast: float
    sharpness: float
    edge_density: float
    entropy: float
    saturated: float
    phash: int


def content_band(gray: np.ndarray) -> np.ndarray:
    """The picture without the top and bottom OSD rows."""
    h = gray.shape[0]
    m = int(round(h * OSD_MARGIN))
    return gray[m:h - m] if h - 2 * m >= 8 else gray


def phash64(gray: np.ndarray) -> int:
    """64-bit perceptual hash: signs of the 8x8 low-frequency DCT around its median."""
    small = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()
    bits = low > np.median(low[1:])
    return int(np.packbits(bits.astype(np.uint8)).view(">u8")[0])


def hamming(a: int, b: int) -> int:
    return int((int(a) ^ int(b)).bit_count())


def frame_features(gray: np.ndarray) -> FrameFeatures:
    """Features of one grayscale picture (any size; it is brought to 320 px width first)."""
    if gray.shape[1] != FEATURE_W:
        h = max(8, int(round(gray.shape[0] * FEATURE_W / gray.shape[1])))
        interp = cv2.INTER_AREA if gray.shape[1] > FEATURE_W else cv2.INTER_LINEAR
        gray = cv2.resize(gray, (FEATURE_W, h), interpolation=interp)
    band = content_band(gray)
    hist = np.bincount(band.ravel(), minlength=256).astype(np.float64)
    p = hist[hist > 0] / band.size
    edges = cv2.Canny(band, 50, 150)
    return FrameFeatures(
        brightness=float(band.mean()),
        contrast=float(band.std()),
        sharpness=float(cv2.Laplacian(band, cv2.CV_32F).var()),
        edge_density=float(np.count_nonzero(edges)) / band.size,
        entropy=float(-(p * np.log2(p)).sum()),
        saturated=float(hist[250:].sum() / band.size),
        phash=phash64(gray),
    )


def still_difference(a: np.ndarray, b: np.ndarray, grid: tuple[int, int] = (8, 12)) -> float:
    """Median over a block grid of the blocks' mean absolute difference, in gray levels.

    The median ignores the few blocks where the burned-in clock ticks or someone moves, so
    two pictures of a still room differ by the sensor noise floor (about one gray level after
    compression), while a frozen feed decodes to the same picture again (near zero).
    """
    d = cv2.absdiff(content_band(a), content_band(b))
    gy, gx = grid
    h, w = d.shape
    d = d[: h - h % gy, : w - w % gx].astype(np.float32)
    blocks = d.reshape(gy, d.shape[0] // gy, gx, d.shape[1] // gx).mean(axis=(1, 3))
    return float(np.median(blocks))


def zncc(a: np.ndarray, b: np.ndarray) -> float:
    """Zero-mean normalised cross-correlation of two equally sized pictures (1 = same)."""
    a = a.astype(np.float32).ravel()
    b = b.astype(np.float32).ravel()
    a -= a.mean()
    b -= b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-6 else 0.0


def register_shift(ref: np.ndarray, img: np.ndarray) -> tuple[float, float, float]:
    """Translation of ``img`` relative to ``ref`` by phase correlation: (dx, dy, response)."""
    win = cv2.createHanningWindow((ref.shape[1], ref.shape[0]), cv2.CV_32F)
    (dx, dy), resp = cv2.phaseCorrelate(ref.astype(np.float32), img.astype(np.float32), win)
    return float(dx), float(dy), float(resp)


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds, relative to the camera's own reference where possible.

    Attributes:
        black_level: content mean below this is a black picture.
        black_contrast: ... and contrast below this.
        over_level / over_saturated: mean above, or saturated fraction above, is over-exposed.
        covered_contrast: contrast below this fraction of the reference is a covered lens ...
        covered_entropy_drop: ... or entropy down this many bits with edges below
            ``covered_edges`` of the reference.
        defocus_sharpness: sharpness below this fraction of the reference ...
        defocus_normalised: ... and sharpness/contrast² below this fraction is defocus.
        moved_px: registration shift (thumbnail pixels, 160 px wide) beyond which the view moved ...
        moved_gain: ... provided the registration shows it: over the stretch, undoing the shift
            explains at least this share (median over its samples) of what the picture failed to
            match in the reference (see :func:`registered_moves`). Phase correlation always
            returns *some* peak; on footage of another room it locks onto a wrong one (a
            desk-row period away, say) and undoing that shift explains nothing. On 40 generated
            clips of each: moves 0.19 and up (a 4.7° turn on top of the shift; the rest 0.39 and
            up), other footage 0.05 at most.
        moved_corr: correlation with the reference below this (after shifting back) means the
            view changed even where phase correlation cannot say by how much.
        frozen_diff: still difference (gray levels) below this is the same picture again.
        frozen_min_s: a frozen stretch must last this long.
        splice_corr: consecutive thumbnails correlating below this may be a cut ...
        splice_step: ... when the picture statistics step by this many noise floors (summed over
            brightness, log sharpness, log edge density, entropy) and stay there ...
        splice_area: ... and at least this fraction of the picture's blocks look different;
            or a step of ``splice_step_weak`` with ``splice_area_strong`` of the blocks changed.
        min_samples: samples a tamper span needs (one odd picture is not tampering).
    """

    black_level: float = 22.0
    black_contrast: float = 10.0
    over_level: float = 228.0
    over_saturated: float = 0.6
    covered_contrast: float = 0.3
    covered_entropy_drop: float = 2.0
    covered_edges: float = 0.2
    defocus_sharpness: float = 0.3
    defocus_normalised: float = 0.4
    moved_px: float = 2.5
    moved_gain: float = 0.12
    moved_corr: float = 0.5
    frozen_diff: float = 0.3
    frozen_min_s: float = 12.0
    splice_corr: float = 0.9
    splice_step: float = 10.0
    splice_area: float = 0.4
    splice_step_weak: float = 5.0
    splice_area_strong: float = 0.85
    min_samples: int = 2


@dataclass
class Reference:
    """What this camera's ordinary picture looks like, learned from the footage.

    Attributes:
        brightness, contrast, sharpness, edge_density, entropy: medians over the
            photometrically plausible samples.
        thumb: pixelwise median of the first such thumbnails (160x90 gray), for registration.
        samples: how many samples the medians rest on.
    """

    brightness: float
    contrast: float
    sharpness: float
    edge_density: float
    entropy: float
    thumb: np.ndarray | None
    samples: int

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("thumb")
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}


def _arr(feats: list[FrameFeatures], name: str) -> np.ndarray:
    return np.array([getattr(f, name) for f in feats], dtype=np.float64)


def photometric_labels(feats: list[FrameFeatures], th: Thresholds) -> np.ndarray:
    """Black and over-exposed need no reference: they are absolute."""
    b, c, s = _arr(feats, "brightness"), _arr(feats, "contrast"), _arr(feats, "saturated")
    out = np.full(len(feats), "", dtype=object)
    out[(b >= th.over_level) | (s >= th.over_saturated)] = FindingKind.video_overexposed.value
    out[(b < th.black_level) & (c < th.black_contrast)] = FindingKind.video_black.value
    return out


def learn_reference(feats: list[FrameFeatures], thumbs: list[np.ndarray], th: Thresholds, first: int = 9) -> Reference:
    """Robust reference: medians over the samples whose texture is typical for this camera.

    Samples that are black or over-exposed are left out; of the rest, those whose edge
    density is within a factor of two of the median (the "most common" picture) count, so a
    covered or defocused stretch shorter than half the recording cannot move the reference.
    """
    n = len(feats)
    if n == 0:
        return Reference(0, 0, 0, 0, 0, None, 0)
    base = photometric_labels(feats, th) == ""
    if not base.any():
        base = np.ones(n, bool)
    e = _arr(feats, "edge_density")
    med_e = float(np.median(e[base]))
    typical = base & (e >= 0.5 * med_e) & (e <= 2.0 * med_e)
    if not typical.any():
        typical = base
    idx = np.flatnonzero(typical)
    ref_thumb = None
    if thumbs:
        take = [thumbs[i] for i in idx[:first]]
        ref_thumb = np.median(np.stack(take), axis=0).astype(np.uint8)
    return Reference(
        brightness=float(np.median(_arr(feats, "brightness")[idx])),
        contrast=float(np.median(_arr(feats, "contrast")[idx])),
        sharpness=float(np.median(_arr(feats, "sharpness")[idx])),
        edge_density=float(np.median(e[idx])),
        entropy=float(np.median(_arr(feats, "entropy")[idx])),
        thumb=ref_thumb,
        samples=int(idx.size),
    )


def registration(thumbs: list[np.ndarray], ref: Reference) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sample: shift from the reference (thumbnail px), response, correlation after undoing it."""
    n = len(thumbs)
    shift = np.zeros(n)
    resp = np.zeros(n)
    corr = np.ones(n)
    if ref.thumb is None:
        return shift, resp, corr
    r = content_band(ref.thumb)
    for i, th in enumerate(thumbs):
        c = content_band(th)
        dx, dy, rs = register_shift(r, c)
        shift[i], resp[i] = float(np.hypot(dx, dy)), rs
        m = np.float32([[1, 0, -dx], [0, 1, -dy]])
        back = cv2.warpAffine(c, m, (c.shape[1], c.shape[0]), borderMode=cv2.BORDER_REPLICATE)
        pad = int(np.ceil(max(abs(dx), abs(dy)))) + 1
        if c.shape[0] > 2 * pad + 4 and c.shape[1] > 2 * pad + 4:
            corr[i] = zncc(back[pad:-pad, pad:-pad], r[pad:-pad, pad:-pad])
        else:
            corr[i] = 0.0
    return shift, resp, corr


def reference_correlation(thumbs: list[np.ndarray], ref: Reference) -> np.ndarray:
    """Per sample: correlation with the reference as the picture is, nothing undone.

    Set against the correlation after undoing the registration shift, it tells whether that
    shift is real (see :func:`registered_moves`).
    """
    if ref.thumb is None:
        return np.ones(len(thumbs))
    r = content_band(ref.thumb)
    return np.array([zncc(content_band(th), r) for th in thumbs], dtype=np.float64)


def registered_moves(shift: np.ndarray, corr: np.ndarray, corr_unshifted: np.ndarray,
                     th: Thresholds = Thresholds()) -> np.ndarray:
    """Per sample: the view is displaced and the registration shows it, judged stretch by stretch.

    A stretch is a run of samples that leave the reference view (shift beyond ``moved_px`` or
    correlation below ``moved_corr``). Each sample's gain is the share of its mismatch with the
    reference that undoing the shift explains, ``(corr - corr_unshifted) / (1 - corr_unshifted)``,
    or -1 when there is no shift to undo. The stretch is a registered move when its median gain
    reaches ``moved_gain``. A failed registration also reports a shift, often a large and steady
    one, that explains nothing; one sample is no judge either way, because a moved camera's
    registration can lock onto a wrong peak now and then, and a turn on top of the shift
    leaves part of the picture unexplained.

    Example:
        >>> import numpy as np
        >>> shift = np.array([0.2, 12.0, 12.5, 53.0, 0.3, 53.0, 24.0, 0.2])
        >>> corr = np.array([0.96, 0.75, 0.0, 0.74, 0.96, 0.41, 0.62, 0.95])
        >>> unshifted = np.array([0.96, 0.25, 0.27, 0.26, 0.96, 0.45, 0.6, 0.95])
        >>> registered_moves(shift, corr, unshifted).astype(int).tolist()
        [0, 1, 1, 1, 0, 0, 0, 0]
    """
    shift, corr, corr_unshifted = (np.asarray(a, dtype=np.float64) for a in (shift, corr, corr_unshifted))
    gain = np.where(shift > th.moved_px, (corr - corr_unshifted) / np.maximum(1.0 - corr_unshifted, 1e-6), -1.0)
    away = (shift > th.moved_px) | (corr < th.moved_corr)
    out = np.zeros(shift.size, bool)
    for i0, i1 in label_spans(away, True, 1):
        out[i0:i1 + 1] = float(np.median(gain[i0:i1 + 1])) >= th.moved_gain
    return out


def classify_samples(
    feats: list[FrameFeatures],
    ref: Reference,
    shift: np.ndarray,
    corr: np.ndarray,
    th: Thresholds = Thresholds(),
    *,
    corr_unshifted: np.ndarray | None = None,
) -> np.ndarray:
    """The tamper label of each sample (``""`` for none) from features and the reference.

    ``shift`` and ``corr`` come from :func:`registration`, ``corr_unshifted`` from
    :func:`reference_correlation`. A shift makes a sample ``camera_moved`` only when it is a
    registered move (:func:`registered_moves`); without ``corr_unshifted`` a shift cannot be
    told from a failed registration and counts for nothing. A correlation below ``moved_corr``
    after undoing the shift still means the view changed.

    Frozen and looped stretches are decided over sequences elsewhere and laid over this.
    """
    out = photometric_labels(feats, th)
    free = out == ""
    c = _arr(feats, "contrast")
    ent = _arr(feats, "entropy")
    e = _arr(feats, "edge_density")
    s = _arr(feats, "sharpness")
    eps = 1e-9
    covered = (c < th.covered_contrast * max(ref.contrast, eps)) | (
        (ent < ref.entropy - th.covered_entropy_drop) & (e < th.covered_edges * max(ref.edge_density, eps))
    )
    out[free & covered] = FindingKind.camera_covered.value
    free = out == ""
    # Sharpness scales with contrast squared: dimmed lights are not defocus, so both the raw
    # and the contrast-normalised sharpness must collapse. Edge counts are no help here:
    # Canny finds sensor noise in a blurred picture.
    norm = (s / np.maximum(c * c, eps)) / max(ref.sharpness / max(ref.contrast ** 2, eps), eps)
    defocus = (s < th.defocus_sharpness * max(ref.sharpness, eps)) & (norm < th.defocus_normalised)
    out[free & defocus] = FindingKind.camera_defocused.value
    free = out == ""
    real_shift = (registered_moves(shift, corr, corr_unshifted, th) if corr_unshifted is not None
                  else np.zeros(len(feats), bool))
    moved = real_shift | (np.asarray(corr) < th.moved_corr)
    out[free & moved] = FindingKind.camera_moved.value
    return out


def frozen_runs(t_s: np.ndarray, still: np.ndarray, eligible: np.ndarray, th: Thresholds) -> list[tuple[int, int]]:
    """Index ranges [i0, i1] of samples that repeat the previous picture beyond the noise floor.

    ``still[i]`` is the still difference between sample i and i-1 (NaN for the first).
    Sample i0 is the first picture of the frozen stretch (the one that is then repeated).
    """
    same = np.nan_to_num(still, nan=np.inf) < th.frozen_diff
    same &= eligible & np.roll(eligible, 1)
    runs = []
    i, n = 1, len(same)
    while i < n:
        if same[i]:
            j = i
            while j + 1 < n and same[j + 1]:
                j += 1
            i0 = i - 1
            if t_s[j] - t_s[i0] >= th.frozen_min_s:
                runs.append((i0, j))
            i = j + 1
        else:
            i += 1
    return runs


#: Noise floors of the splice step test: what a feature wobbles by in steady footage.
_STEP_FLOORS = {"brightness": 1.5, "sharpness": 0.08, "edge_density": 0.06, "entropy": 0.05}


def step_scores(feats: list[FrameFeatures], k: int = 4) -> np.ndarray:
    """Per sample i, how far the picture statistics of i..i+k-1 sit from those of i-k..i-1.

    Each feature's step (medians after minus before; logs for sharpness and edges) is
    counted in noise floors, capped at 8 so one feature cannot carry it alone, then summed.
    """
    n = len(feats)
    out = np.zeros(n)
    if n < 2 * k:
        return out
    cols = {}
    floors = {}
    for name, fixed in _STEP_FLOORS.items():
        v = _arr(feats, name)
        v = np.log(np.maximum(v, 1e-6)) if name in ("sharpness", "edge_density") else v
        cols[name] = v
        # Busy real rooms wobble more than a synthetic one: the floor adapts to how much this
        # recording's feature moves between neighbouring samples.
        floors[name] = max(fixed, 1.5 * float(np.quantile(np.abs(np.diff(v)), 0.75)))
    for i in range(k, n - k + 1):
        total = 0.0
        for name, floor in floors.items():
            v = cols[name]
            total += min(8.0, abs(float(np.median(v[i:i + k]) - np.median(v[i - k:i]))) / floor)
        out[i] = total
    return out


def find_splices(feats: list[FrameFeatures], thumbs: list[np.ndarray], labels: np.ndarray, th: Thresholds,
                 k: int = 4, shift: np.ndarray | None = None, *, corr: np.ndarray | None = None,
                 corr_unshifted: np.ndarray | None = None) -> list[int]:
    """Sample indices i where other footage starts: the picture cuts between i-1 and i and stays cut.

    A person walking past changes a few blocks for a moment; a cut to other footage changes
    the statistics of the whole picture (brightness, sharpness, edges, entropy) at once and
    for good. Samples already explained by a tamper label (black, covered, ...) on either
    side are left out.

    With the registration (``shift``, ``corr`` from :func:`registration`, ``corr_unshifted``
    from :func:`reference_correlation`) two more things are known. A change after which most
    samples are registered moves (:func:`registered_moves`) is the same room displaced and is
    left to ``camera_moved``. A change after which the picture stops matching the reference at
    any shift (``corr`` falls below ``moved_corr`` at that sample and stays there) is other
    footage even when its statistics step only a little: another exam room looks much like
    this one on average, but not pixel for pixel.
    """
    n = len(feats)
    if n < 2 * k:
        return []
    steps = step_scores(feats, k)
    # How much each picture still looks like the one before it: the cut is where this drops.
    cont = np.ones(n)
    for i in range(1, n):
        cont[i] = zncc(content_band(thumbs[i - 1]), content_band(thumbs[i]))
    moved = np.zeros(n, bool)
    lost = np.zeros(n, bool)
    if shift is not None and corr is not None and corr_unshifted is not None:
        moved = registered_moves(shift, corr, corr_unshifted, th)
        c = np.asarray(corr, dtype=np.float64)
        for i in range(k, n - k + 1):
            lost[i] = np.median(c[i - k:i]) >= th.moved_corr > np.median(c[i:i + k])
    cand = (steps >= th.splice_step_weak) | lost
    out: list[int] = []
    for i in range(k, n - k + 1):
        if not cand[i]:
            continue
        # The step score compares medians of k samples either side, so around a cut it stays
        # near its height for a sample or two on each side (24.71, 24.74, 24.79) and which of
        # them is highest is noise. Within the change the cut is where the picture itself
        # jumps; the step's height is the highest score of any of its samples.
        near = [j for j in range(max(k, i - k + 1), min(n - k, i + k - 1) + 1) if cand[j]]
        if min(near, key=lambda j: cont[j]) != i:
            continue
        step = max(steps[j] for j in near)
        if (labels[max(0, i - k):i + k] != "").any():
            continue
        # The stretch after the change is judged as a whole (registered_moves); half of the
        # next 2k samples leaves room for a stretch that starts a sample late.
        if moved[i:i + 2 * k].mean() >= 0.5:
            continue  # the same room, displaced: a camera move, not other footage
        if cont[i] >= th.splice_corr:
            continue
        # The statistics step hard and most of the picture changes, or nearly all of the picture
        # changes and the statistics step at least moderately, or most of the picture changes
        # and it no longer registers to this camera's view at all.
        area = changed_area(thumbs[max(0, i - k):i], thumbs[i:i + k])
        if ((step >= th.splice_step and area >= th.splice_area)
                or (area >= th.splice_area_strong and step >= th.splice_step_weak)
                or (lost[i - 1:i + 2].any() and area >= th.splice_area)):
            out.append(i)
    return out


def changed_area(before: list[np.ndarray], after: list[np.ndarray], grid: tuple[int, int] = (6, 8),
                 level: float = 0.2) -> float:
    """Fraction of picture blocks whose typical look differs between two runs of thumbnails.

    Someone walking in and staying changes the blocks they stand in; other footage changes
    the walls, the floor and the desks, i.e. most blocks. ``level`` is in standard deviations
    of the picture, after the runs' median pictures are matched for gain and offset.
    """
    a = content_band(np.median(np.stack(before), axis=0).astype(np.float32))
    b = content_band(np.median(np.stack(after), axis=0).astype(np.float32))
    # Gain and offset are fitted away (a camera re-adjusting its exposure is not other
    # footage), twice: the second fit leaves out what the first could not explain, so
    # someone large walking in does not tilt the fit and with it every other block.
    keep = np.ones(a.shape, bool)
    for _ in range(2):
        g, o = np.polyfit(a[keep].ravel(), b[keep].ravel(), 1) if a[keep].std() > 1e-3 else (1.0, 0.0)
        r = np.abs(b - (g * a + o))
        keep = r <= max(2.0 * float(np.median(r)), 1.0)
    scale = max(float(a.std()), 1.0)
    a, b = (g * a + o) / scale, b / scale
    gy, gx = grid
    h, w = a.shape
    d = np.abs(a - b)[: h - h % gy, : w - w % gx]
    blocks = d.reshape(gy, d.shape[0] // gy, gx, d.shape[1] // gx).mean(axis=(1, 3))
    return float((blocks > level).mean())


def label_spans(labels: np.ndarray, kind: str, min_samples: int) -> list[tuple[int, int]]:
    """Maximal runs [i0, i1] of ``kind`` at least ``min_samples`` long."""
    runs = []
    i, n = 0, len(labels)
    while i < n:
        if labels[i] == kind:
            j = i
            while j + 1 < n and labels[j + 1] == kind:
                j += 1
            if j - i + 1 >= min_samples:
                runs.append((i, j))
            i = j + 1
        else:
            i += 1
    return runs


_TEXT = {
    FindingKind.video_black: ("画面全黑", "the picture is black"),
    FindingKind.video_overexposed: ("画面过曝发白", "the picture is washed out (over-exposed)"),
    FindingKind.camera_covered: ("镜头被遮挡", "the lens is covered"),
    FindingKind.camera_defocused: ("镜头失焦，画面模糊", "the camera is out of focus"),
    FindingKind.camera_moved: ("摄像机视角偏移", "the camera's view has moved"),
    FindingKind.frozen_video: ("画面冻结不变", "the picture is frozen"),
}


@dataclass
class IntegrityCheck:
    """Tamper checks as a streaming :class:`~examaudit.video.analyze.SampleCheck`.

    ``observe`` keeps per sample only the features, a 160x90 thumbnail (14 KB) and one
    grayscale copy of the previous picture; ``finish`` learns the reference, labels
    every sample and writes ``brightness, sharpness, edge_density, entropy, still_diff,
    shift_px, phash, quality, trusted`` into the rows.

    Parameters:
        thresholds: decision thresholds.
        every_s: the sampling interval, for reasons and loop sizes.

    Attributes:
        reference_: the learned :class:`Reference` (after ``finish``).
        labels_: quality label per sample (after ``finish``).
    """

    thresholds: Thresholds = field(default_factory=Thresholds)
    every_s: float = 5.0
    name: str = "integrity"

    def bind_timeline(self, timeline) -> None:
        """Give the check the packet timeline, for replay detection from packet sizes."""
        self._timeline = timeline

    def __post_init__(self) -> None:
        self._timeline = None
        self._t: list[float] = []
        self._feats: list[FrameFeatures] = []
        self._thumbs: list[np.ndarray] = []
        self._still: list[float] = []
        self._prev: np.ndarray | None = None
        self._scale = 1.0
        self.reference_: Reference | None = None
        self.labels_: np.ndarray | None = None

    def observe(self, sample: Sample, row: dict[str, Any]) -> None:
        gray = cv2.cvtColor(sample.image, cv2.COLOR_BGR2GRAY)
        h, w = gray.shape
        self._scale = w / THUMB_W
        f = frame_features(gray)
        thumb = cv2.resize(gray, (THUMB_W, THUMB_H), interpolation=cv2.INTER_AREA)
        still = float("nan")
        # At the sample's own resolution: downscaling would average the sensor noise away,
        # and the noise is what tells a still room from a frozen feed.
        if self._prev is not None and self._prev.shape == gray.shape:
            still = still_difference(self._prev, gray)
        self._prev = gray
        self._t.append(sample.t_s)
        self._feats.append(f)
        self._thumbs.append(thumb)
        self._still.append(still)
        row["brightness"] = round(f.brightness, 2)
        row["sharpness"] = round(f.sharpness, 2)
        row["edge_density"] = round(f.edge_density, 4)
        row["entropy"] = round(f.entropy, 3)
        row["still_diff"] = None if still != still else round(still, 3)
        row["phash"] = f"{f.phash:016x}"

    @property
    def thumbnails(self) -> list[np.ndarray]:
        return self._thumbs

    def finish(self, rows: list[dict[str, Any]]) -> list:
        from .analyze import Draft
        from .loops import find_loops, loop_drafts

        th = self.thresholds
        n = len(self._feats)
        t = np.asarray(self._t, dtype=np.float64)
        ref = learn_reference(self._feats, self._thumbs, th)
        shift, resp, corr = registration(self._thumbs, ref)
        corr0 = reference_correlation(self._thumbs, ref)
        labels = classify_samples(self._feats, ref, shift, corr, th, corr_unshifted=corr0)
        real_shift = registered_moves(shift, corr, corr0, th)
        # Cuts to other footage are looked for before "moved" is given out: footage of another
        # room does not register to this camera's reference either, but it is not a move.
        photo = np.where(labels == FindingKind.camera_moved.value, "", labels)
        cuts = find_splices(self._feats, self._thumbs, photo, th, shift=shift, corr=corr, corr_unshifted=corr0)
        for k, i in enumerate(cuts):
            # The footage after a cut is not this camera's view of this sitting until it cuts back.
            stop = cuts[k + 1] if k + 1 < len(cuts) else n
            labels[i:stop] = np.where(np.isin(labels[i:stop], ["", FindingKind.camera_moved.value]),
                                      FindingKind.splice.value, labels[i:stop])
        # One odd picture is not tampering: labels on runs shorter than min_samples are dropped.
        for kind in set(labels) - {""}:
            keep = np.zeros(n, bool)
            for i0, i1 in label_spans(labels, kind, th.min_samples):
                keep[i0:i1 + 1] = True
            labels[(labels == kind) & ~keep] = ""
        drafts: list[Draft] = []
        for kind in (FindingKind.video_black, FindingKind.video_overexposed, FindingKind.camera_covered,
                     FindingKind.camera_defocused, FindingKind.camera_moved):
            for i0, i1 in label_spans(labels, kind.value, th.min_samples):
                drafts.append(self._span_draft(kind, i0, i1, t, ref, shift, corr, real_shift))
        still = np.asarray(self._still, dtype=np.float64)
        eligible = labels == ""
        for i0, i1 in frozen_runs(t, still, eligible, th):
            labels[i0 + 1:i1 + 1] = FindingKind.frozen_video.value
            drafts.append(self._frozen_draft(i0, i1, t, still))
        loops = self._loops(t, labels)
        for lp in loops:
            labels[lp.b0:lp.b1 + 1] = np.where(labels[lp.b0:lp.b1 + 1] == "", FindingKind.looped_segment.value,
                                               labels[lp.b0:lp.b1 + 1])
        drafts.extend(loop_drafts(loops, t))
        for i in cuts:
            drafts.append(self._splice_draft(i, t))
        self.reference_, self.labels_ = ref, labels
        for i, row in enumerate(rows[:n]):
            row["shift_px"] = round(float(shift[i]) * self._scale, 2)
            row["quality"] = labels[i] or "ok"
            row["trusted"] = labels[i] == ""
        for row in rows[n:]:
            row.setdefault("quality", "ok")
            row.setdefault("trusted", True)
        return drafts

    def _loops(self, t: np.ndarray, labels: np.ndarray):
        """Replays: from packet-size rhythm when the timeline is known, confirmed on thumbnails."""
        from .loops import Loop, changed_fraction, find_loops, packet_repeats

        free = labels == ""
        tl = self._timeline
        if tl is None or len(tl) == 0:
            return find_loops([f.phash for f in self._feats], self._thumbs, t, free)
        order = tl.presentation_order()
        found = []
        for rep in packet_repeats(tl.t_s[order], tl.size[order], tl.keyframe[order]):
            inside = np.flatnonzero((t >= rep.start_s - 1e-6) & (t <= rep.end_s + 1e-6))
            if inside.size < 2 or free[inside].mean() < 0.5:
                continue
            # Pixel check: each replayed sample must show what its original moment showed.
            # (The nearest original sample may be up to half a sampling interval off, so the
            # pair may differ as much as neighbouring samples do, but not more.)
            pairs, changes, motion = [], [], []
            for b in inside:
                a = int(np.argmin(np.abs(t - (t[b] - rep.offset_s))))
                pairs.append((a, b))
                changes.append(changed_fraction(content_band(self._thumbs[a]), content_band(self._thumbs[b])))
                if b > 0:
                    motion.append(changed_fraction(content_band(self._thumbs[b - 1]), content_band(self._thumbs[b])))
            if float(np.median(changes)) > max(0.02, 1.5 * float(np.median(motion or [0.0]))):
                continue
            a0, b0 = pairs[0]
            a1, b1 = pairs[-1]
            found.append(Loop(a0, a1, b0, b1, float(rep.correlation), float(np.median(changes)),
                              float(np.median(motion or [0.0])),
                              start_s=rep.start_s, end_s=rep.end_s, offset_s=rep.offset_s))
        return found

    # -- drafts ---------------------------------------------------------------------------

    def _span_draft(self, kind: FindingKind, i0: int, i1: int, t: np.ndarray, ref: Reference,
                    shift: np.ndarray, corr: np.ndarray, real_shift: np.ndarray):
        from .analyze import Draft

        f = self._feats[i0:i1 + 1]
        dur = float(t[i1] - t[i0])
        zh_what, en_what = _TEXT[kind]
        nums: dict[str, Any] = {"samples": i1 - i0 + 1, "reference": ref.as_dict()}
        if kind in (FindingKind.video_black, FindingKind.video_overexposed):
            b = float(np.median([x.brightness for x in f]))
            nums["brightness"] = round(b, 1)
            zh_num, en_num = f"平均亮度 {b:.0f}/255", f"mean brightness {b:.0f}/255"
        elif kind == FindingKind.camera_covered:
            c = float(np.median([x.contrast for x in f]))
            e = float(np.median([x.entropy for x in f]))
            nums.update(contrast=round(c, 2), entropy=round(e, 2))
            zh_num = f"对比度降至参考值的 {100 * c / max(ref.contrast, 1e-9):.0f}%，信息熵 {e:.1f} 比特（参考 {ref.entropy:.1f}）"
            en_num = f"contrast fell to {100 * c / max(ref.contrast, 1e-9):.0f}% of the reference and entropy to {e:.1f} bits (reference {ref.entropy:.1f})"
        elif kind == FindingKind.camera_defocused:
            s = float(np.median([x.sharpness for x in f]))
            nums["sharpness"] = round(s, 2)
            zh_num = f"清晰度降至参考值的 {100 * s / max(ref.sharpness, 1e-9):.0f}%"
            en_num = f"sharpness fell to {100 * s / max(ref.sharpness, 1e-9):.0f}% of the reference"
        else:
            px = float(np.median(shift[i0:i1 + 1])) * self._scale
            cr = float(np.median(corr[i0:i1 + 1]))
            registered = bool(real_shift[i0:i1 + 1].mean() >= 0.5)
            nums.update(shift_px=round(px, 1), correlation=round(cr, 3), shift_registered=registered)
            if registered:
                zh_num = f"画面相对参考位移约 {px:.0f} 像素，相关系数 {cr:.2f}"
                en_num = f"the view is shifted by about {px:.0f} px from the reference (correlation {cr:.2f})"
            else:
                # A failed registration still reports a shift; saying it aloud would be wrong.
                zh_num = f"画面与参考画面不再相符（相关系数 {cr:.2f}），无法测出位移量"
                en_num = f"the view no longer matches the reference (correlation {cr:.2f}) and no shift can be measured"
        sev = Severity.high if dur >= 60 or kind in (FindingKind.camera_covered, FindingKind.camera_moved) else Severity.medium
        frames = [(float(t[i0]), "异常开始 / start")]
        if kind == FindingKind.camera_moved:
            before = float(t[i0 - 1]) if i0 > 0 else float(t[i0])
            frames = [(before, "移位前 / before"), (float(t[i0]), "移位后 / after")]
        return Draft(
            kind, sev, float(t[i0]), float(t[i1]), 0.9,
            f"{t[i0]:.0f}–{t[i1]:.0f} 秒（{dur:.0f} 秒）{zh_what}：{zh_num}。",
            f"From {t[i0]:.0f} s to {t[i1]:.0f} s ({dur:.0f} s) {en_what}: {en_num}.",
            nums, frames=frames,
        )

    def _frozen_draft(self, i0: int, i1: int, t: np.ndarray, still: np.ndarray):
        from .analyze import Draft

        d = float(np.nanmax(still[i0 + 1:i1 + 1]))
        dur = float(t[i1] - t[i0])
        return Draft(
            FindingKind.frozen_video, Severity.high, float(t[i0]), float(t[i1]), 0.9,
            f"{t[i0]:.0f}–{t[i1]:.0f} 秒（{dur:.0f} 秒）画面冻结：{i1 - i0 + 1} 个采样画面几乎完全相同（差异不超过 {d:.2f} 灰度级，低于传感器噪声），而时间戳仍在前进。",
            f"From {t[i0]:.0f} s to {t[i1]:.0f} s ({dur:.0f} s) the picture is frozen: {i1 - i0 + 1} samples are practically identical (at most {d:.2f} gray levels apart, below sensor noise) while the timestamps advance.",
            {"samples": i1 - i0 + 1, "max_still_diff": round(d, 3), "noise_floor": self.thresholds.frozen_diff},
            frames=[(float(t[i0]), "冻结开始 / frozen from"), (float(t[i1]), "冻结结束 / frozen until")],
        )

    def _splice_draft(self, i: int, t: np.ndarray):
        from .analyze import Draft

        c = zncc(content_band(self._thumbs[i - 1]), content_band(self._thumbs[i]))
        return Draft(
            FindingKind.splice, Severity.high, float(t[i - 1]), float(t[i]), 0.75,
            f"{t[i - 1]:.0f} 秒与 {t[i]:.0f} 秒之间画面整体突变（相关系数 {c:.2f}），前后画面各自稳定，疑似拼接了其他录像。",
            f"Between {t[i - 1]:.0f} s and {t[i]:.0f} s the whole picture changes at once (correlation {c:.2f}) while each side is steady, a sign that other footage was spliced in.",
            {"correlation": round(c, 3)},
            frames=[(float(t[i - 1]), "拼接前 / before the cut"), (float(t[i]), "拼接后 / after the cut")],
        )


def frame_rate_changes(t_s: np.ndarray, *, window: int = 25, min_change: float = 0.2,
                       min_s: float = 5.0) -> list[tuple[float, float, float, float]]:
    """Where the frame rate changes and stays changed: ``(t_change, t_end, fps_before, fps_after)``.

    The rolling median of frame intervals (presentation order) is cut into stretches of
    steady rate; a stretch counts when it lasts ``min_s`` and its rate differs by more than
    ``min_change`` from the one before. Jitter and single dropped frames stay below that.
    """
    t = np.sort(t_s[np.isfinite(t_s)])
    if t.size < 3 * window:
        return []
    d = np.diff(t)
    from scipy.ndimage import median_filter

    med = median_filter(d, size=window, mode="nearest")
    med = np.where(med > 0, med, np.nan)
    out = []
    start, rate = 0, med[0]
    for i in range(1, med.size):
        if not np.isfinite(med[i]) or not np.isfinite(rate):
            continue
        if abs(med[i] - rate) / rate > min_change:
            # The new rate must hold for min_s.
            j = i
            while j + 1 < med.size and abs(med[j + 1] - med[i]) / med[i] <= min_change:
                j += 1
            if t[j + 1] - t[i] >= min_s and t[i] - t[start] >= min_s:
                out.append((float(t[i]), float(t[j + 1]), 1.0 / float(rate), 1.0 / float(med[i])))
                start, rate = i, med[i]
    return out


def frame_rate_drafts(t_s: np.ndarray) -> list:
    """``frame_rate_change`` drafts from the packet timeline."""
    from .analyze import Draft

    out = []
    for tc, te, f0, f1 in frame_rate_changes(t_s):
        out.append(Draft(
            FindingKind.frame_rate_change, Severity.medium, tc, te, 0.9,
            f"录像帧率在 {tc:.1f} 秒处从每秒 {f0:.1f} 帧变为 {f1:.1f} 帧，可能是不同设置或不同来源的录像被拼接。",
            f"The frame rate changes at {tc:.1f} s from {f0:.1f} to {f1:.1f} frames per second, a sign of footage from other settings or another source.",
            {"fps_before": round(f0, 3), "fps_after": round(f1, 3), "key": f"{tc:.1f}"},
            frames=[(max(0.0, tc - 1.0), "变化前 / before"), (tc, "变化后 / after")],
        ))
    return out
