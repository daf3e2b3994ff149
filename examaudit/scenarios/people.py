"""People for the synthetic rooms: real photographs cut out, recoloured and scaled.

A person detector trained on COCO has to see these people, so they are built from real
public-domain photographs that ship inside installed packages, not from drawn shapes:

- ``skimage.data.astronaut()`` (Eileen Collins, NASA, public domain),
- ``skimage.data.camera()`` (the cameraman, public domain per scikit-image),
- ``matplotlib`` sample ``grace_hopper.jpg`` (US Navy photograph, public domain), if present.

Each photograph is cut out once with GrabCut seeded by fixed hints. A :class:`PersonLook`
(identity, clothing hue, brightness, mirror) gives every candidate a different appearance.
Seated people show the photograph's upper body; standing people keep the photograph's head
and chest and get the rest of a seven-head body drawn below it (clothes continued to the
waist, arms and hands at the sides, lit trousers and shoes, a soft shadow on the floor),
with legs and arms apart when they walk. Measured: the bundled SSD finds ~95% of random
standing people in 640x360 rooms (``tests/test_scenarios.py`` checks a sample of them).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np


@dataclass(frozen=True)
class Cutout:
    """A person cut out of a photograph.

    Attributes:
        name: where it came from.
        bgr: pixels, cropped tight to the person.
        mask: uint8 0/1, same size.
        chin: row (fraction of height) of the chin, which sets the head size.
    clothes: row (fraction of height) below which are clothes, which looks recolour.
    """

    name: str
    bgr: np.ndarray
    mask: np.ndarray
    chin: float
    clothes: float


def _grabcut(img: np.ndarray, rect, fg, bg) -> np.ndarray:
    # GrabCut's GMM initialisation draws from OpenCV's global RNG: fix it so sprites are stable.
    cv2.setRNGSeed(12345)
    m = np.full(img.shape[:2], cv2.GC_BGD, np.uint8)
    x, y, w, h = rect
    m[y:y + h, x:x + w] = cv2.GC_PR_FGD
    for p in fg:
        cv2.fillPoly(m, [np.array(p, np.int32)], cv2.GC_FGD)
    for p in bg:
        cv2.fillPoly(m, [np.array(p, np.int32)], cv2.GC_BGD)
    cv2.grabCut(img, m, None, np.zeros((1, 65)), np.zeros((1, 65)), 4, cv2.GC_INIT_WITH_MASK)
    mask = ((m == cv2.GC_FGD) | (m == cv2.GC_PR_FGD)).astype(np.uint8)
    # Keep the big blobs and fill its holes: stray background islands read as clutter.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    if n > 1:
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep = 1 + np.nonzero(areas >= 0.1 * areas.max())[0]
        mask = np.isin(labels, keep).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(mask)
    cv2.drawContours(filled, contours, -1, 1, -1)
    return cv2.morphologyEx(filled, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))


def _tight(name: str, img: np.ndarray, mask: np.ndarray, chin_row: int, clothes_row: int,
           bottom: int | None = None) -> Cutout:
    if bottom is not None:
        img, mask = img[:bottom], mask[:bottom]
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return Cutout(name, np.ascontiguousarray(img[y0:y1, x0:x1]), np.ascontiguousarray(mask[y0:y1, x0:x1]),
                  chin=(chin_row - y0) / (y1 - y0), clothes=(clothes_row - y0) / (y1 - y0))


@lru_cache(maxsize=1)
def source_cutouts() -> tuple[Cutout, ...]:
    """The available identities, cut out once per process (about a second)."""
    from skimage import data

    out = []
    a = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    ma = _grabcut(a, (15, 5, 360, 507),
                  fg=[[(200, 60), (260, 60), (260, 140), (200, 140)], [(195, 140), (255, 140), (255, 300), (195, 300)],
                      [(60, 330), (250, 330), (250, 480), (60, 480)]],
                  bg=[[(280, 345), (512, 345), (512, 512), (280, 512)], [(0, 0), (140, 0), (120, 200), (0, 240)],
                      [(330, 0), (512, 0), (512, 330), (340, 260)]])
    out.append(_tight("astronaut", a, ma, chin_row=165, clothes_row=275, bottom=440))
    c = cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2BGR)
    mc = _grabcut(c, (0, 60, 340, 452),
                  fg=[[(180, 120), (230, 120), (230, 180), (180, 180)], [(20, 250), (120, 250), (120, 500), (20, 500)]],
                  bg=[[(232, 200), (420, 200), (420, 512), (232, 512)], [(250, 0), (512, 0), (512, 140), (330, 140)]])
    out.append(_tight("cameraman", c, mc, chin_row=200, clothes_row=215))
    try:
        import matplotlib.cbook as cbook

        g = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    except Exception:  # noqa: BLE001 - matplotlib is optional for the generator; two identities still work
        g = None
    if g is not None:
        g = cv2.resize(g, (256, 300))  # GrabCut at half size: same mask, a quarter of the time
        mg = _grabcut(g, (5, 5, 251, 295),
                      fg=[[(100, 75), (160, 75), (160, 150), (100, 150)], [(50, 225), (210, 225), (210, 295), (50, 295)]],
                      bg=[[(0, 0), (85, 0), (80, 150), (0, 165)], [(180, 0), (256, 0), (256, 160), (200, 150)]])
        out.append(_tight("grace_hopper", g, mg, chin_row=170, clothes_row=195))
    return tuple(out)


@dataclass(frozen=True)
class PersonLook:
    """How one person looks: which photograph, clothing colour, brightness, mirrored or not.

    Attributes:
        identity: index into :func:`source_cutouts`.
        clothes_hue: OpenCV hue (0-179) to repaint clothes with, or -1 to keep the original.
        gain: brightness factor, as different seats get different light.
        mirror: flip left-right.
    """

    identity: int
    clothes_hue: int = -1
    gain: float = 1.0
    mirror: bool = False


#: Photos that a COCO detector still finds when a desk hides the lap. The cameraman leans
#: forward over his camera; seated, the detector misses him too often, so he only stands.
SEATED_IDENTITIES = ("astronaut", "grace_hopper")


#: Photos that make a standing figure a detector finds (~95%). The cameraman, bent over his
#: camera with his face in his hands, made one it found ~80% of the time, and a standing
#: person a real detector cannot see is not a fair test of the people check.
STANDING_IDENTITIES = ("astronaut", "grace_hopper")


def random_look(rng: np.random.Generator, *, seated: bool = False) -> PersonLook:
    """A random appearance from photos that read as people (behind a desk when ``seated``, else on their feet)."""
    names = [c.name for c in source_cutouts()]
    allowed = SEATED_IDENTITIES if seated else STANDING_IDENTITIES
    pool = [i for i, n in enumerate(names) if n in allowed] or list(range(len(names)))
    hue = -1 if rng.random() < 0.3 else int(rng.integers(0, 180))
    return PersonLook(identity=int(pool[int(rng.integers(0, len(pool)))]), clothes_hue=hue,
                      gain=float(np.round(rng.uniform(0.8, 1.15), 2)), mirror=bool(rng.random() < 0.5))


@lru_cache(maxsize=64)
def _styled(look: PersonLook) -> Cutout:
    src = source_cutouts()[look.identity % len(source_cutouts())]
    bgr = src.bgr.copy()
    if look.clothes_hue >= 0:
        chin = int(src.clothes * bgr.shape[0])
        hsv = cv2.cvtColor(bgr[chin:], cv2.COLOR_BGR2HSV)
        hsv[..., 0] = look.clothes_hue
        # grey clothes (the cameraman's coat) need some saturation before a hue shows
        hsv[..., 1] = np.maximum(hsv[..., 1], 90)
        bgr[chin:] = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    if look.gain != 1.0:
        bgr = cv2.convertScaleAbs(bgr, alpha=look.gain)
    mask = src.mask
    if look.mirror:
        bgr, mask = bgr[:, ::-1].copy(), mask[:, ::-1].copy()
    return Cutout(src.name, bgr, mask, src.chin, src.clothes)


@dataclass(frozen=True)
class Sprite:
    """Pixels and a uint8 0/1 mask (h, w) to paste, with the anchor at the bottom centre."""

    bgr: np.ndarray
    mask: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        return self.bgr.shape[1], self.bgr.shape[0]


#: A seated sprite's head (top to chin) is this fraction of its height, whatever the photo's framing.
SEATED_HEAD_FRACTION = 0.36


@lru_cache(maxsize=512)
def seated_sprite(look: PersonLook, height_px: int) -> Sprite:
    """The upper body of ``look``, ``height_px`` tall; the desk in front hides its lower part.

    Photos are scaled by head size, not frame size, so a close portrait and a half-figure
    give people of the same build; a short photo gets its clothes extended downwards.
    """
    cut = _styled(look)
    ch, cw = cut.mask.shape
    k = SEATED_HEAD_FRACTION * height_px / max(1.0, cut.chin * ch)
    rows = min(ch, max(2, round(height_px / k)))
    h = max(2, min(height_px, round(rows * k)))
    w = max(2, round(cw * k))
    canvas = np.zeros((height_px, w, 3), np.uint8)
    mask = np.zeros((height_px, w), np.uint8)
    canvas[:h] = cv2.resize(cut.bgr[:rows], (w, h), interpolation=cv2.INTER_AREA)
    mask[:h] = cv2.resize(cut.mask[:rows], (w, h), interpolation=cv2.INTER_NEAREST)
    if h < height_px:
        band = mask[h - max(1, h // 12):h] > 0
        cols = np.nonzero(band.any(axis=0))[0]
        if len(cols):
            coat = np.median(canvas[h - max(1, h // 12):h][band], axis=0)
            canvas[h:, cols.min():cols.max() + 1] = coat.astype(np.uint8)
            mask[h:, cols.min():cols.max() + 1] = 1
    return Sprite(canvas, (mask > 0).astype(np.uint8))


#: Standing body proportions (an adult is about 7 heads tall; seen from a raised camera the
#: head reads a little larger). Rows are fractions of the standing height from the head top.
HEAD_FRACTION = 0.16
#: Where the photo's upper body is cut at the latest: mid-chest.
CHEST_FRACTION = 0.36
WAIST_FRACTION = 0.50
#: Wrists hang at about the crotch.
WRIST_FRACTION = 0.52


def _skin(cut: Cutout, bgr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Median colour of the face (the middle of the head, above the chin) for hands."""
    h, w = mask.shape
    y0, y1 = int(0.45 * cut.chin * h), max(int(0.45 * cut.chin * h) + 1, int(0.85 * cut.chin * h))
    cols = np.nonzero(mask[y0:y1].any(axis=0))[0]
    if len(cols) == 0:
        return np.array([150, 170, 200], np.float32)
    mid = (cols.min() + cols.max()) // 2
    half = max(1, (cols.max() - cols.min()) // 6)
    patch = bgr[y0:y1, mid - half:mid + half + 1][mask[y0:y1, mid - half:mid + half + 1] > 0]
    return np.median(patch, axis=0).astype(np.float32) if len(patch) else np.array([150, 170, 200], np.float32)


def _shade_poly(canvas: np.ndarray, mask: np.ndarray, poly: np.ndarray, colour, light: float = 0.35,
                rng: np.random.Generator | None = None) -> None:
    """Fill ``poly`` with ``colour`` lit like a cylinder: bright left of centre, dark edges."""
    x0, y0 = np.floor(poly.min(axis=0)).astype(int)
    x1, y1 = np.ceil(poly.max(axis=0)).astype(int) + 1
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, canvas.shape[1]), min(y1, canvas.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(m, [np.round(poly - (x0, y0)).astype(np.int32)], 1)
    # Shading across each row's own extent, so a tapering leg is lit like a cylinder.
    u = np.zeros(m.shape, np.float32)
    for r in range(m.shape[0]):
        xs = np.nonzero(m[r])[0]
        if len(xs) > 1:
            u[r, xs] = (xs - xs[0]) / (xs[-1] - xs[0])
    lit = 1.0 + light * (0.35 - 1.6 * (u - 0.4) ** 2)
    base = np.broadcast_to(np.asarray(colour, np.float32), m.shape + (3,)).copy()
    if rng is not None:
        # Cloth is never flat: faint vertical folds and grain.
        folds = cv2.GaussianBlur(rng.normal(0, 1, (1, x1 - x0)).astype(np.float32), (0, 0), 1.5)
        base *= (1.0 + 0.06 * folds)[:, :, None]
        base += rng.normal(0, 3, base.shape).astype(np.float32)
    pix = np.clip(base * lit[:, :, None], 0, 255).astype(np.uint8)
    roi = canvas[y0:y1, x0:x1]
    roi[m > 0] = pix[m > 0]
    mask[y0:y1, x0:x1] |= m


@lru_cache(maxsize=2048)
def standing_sprite(look: PersonLook, height_px: int, stride: int = 0) -> Sprite:
    """A full standing figure ``height_px`` tall. ``stride`` in -2..2 swings legs and arms (walking).

    The head, shoulders and chest are the photograph; below it the same clothes continue to
    the waist (the photo's lowest band of cloth, stretched), arms hang at the sides down to
    hands at the crotch, and trousers with lit and shaded legs reach shoes on the floor.
    Proportions follow an adult of about seven heads.
    """
    cut = _styled(look)
    ch, cw = cut.mask.shape
    H = int(height_px)
    rng = np.random.default_rng([look.identity, max(0, look.clothes_hue) + 1, H, stride + 2])
    head_px = max(1.0, cut.chin * ch)
    k = HEAD_FRACTION * H / head_px
    up_h = max(2, min(round(ch * k), round(H * CHEST_FRACTION)))
    up_w = max(2, round(cw * k))
    crop_rows = min(ch, max(2, round(up_h / k)))
    upper = cv2.resize(cut.bgr[:crop_rows], (up_w, up_h), interpolation=cv2.INTER_AREA)
    upper_m = cv2.resize(cut.mask[:crop_rows], (up_w, up_h), interpolation=cv2.INTER_NEAREST)
    head_w = HEAD_FRACTION * H * 0.78
    # Shoulders span about two and a half head widths; portraits cut at the sides get theirs back.
    band = upper_m[-max(2, up_h // 8):]
    cols = np.nonzero(band.any(axis=0))[0]
    if len(cols) == 0:
        cols = np.array([up_w // 3, 2 * up_w // 3])
    sx0, sx1 = int(cols.min()), int(cols.max())
    W = max(up_w, round(H * 0.40))
    ox = (W - up_w) // 2
    sx0, sx1 = sx0 + ox, sx1 + ox
    cx = (sx0 + sx1) / 2
    shoulder = float(np.clip(sx1 - sx0, 2.0 * head_w, 2.8 * head_w)) / 2
    canvas = np.zeros((H, W, 3), np.uint8)
    mask = np.zeros((H, W), np.uint8)
    coat_band = upper[-max(2, up_h // 6):]
    coat_m = upper_m[-max(2, up_h // 6):] > 0
    coat = np.median(coat_band[coat_m], axis=0) if coat_m.any() else np.array([60, 60, 60], np.float64)
    waist_y = H * WAIST_FRACTION
    wrist_y = H * WRIST_FRACTION
    arm_w = max(2.0, 0.55 * head_w)
    hip = max(2.0, 0.78 * shoulder)
    top = up_h - 2
    swing = stride * H * 0.02
    # Arms first (behind the torso), then the torso, then the photo on top.
    for side in (-1, 1):
        sh_x = cx + side * (shoulder - arm_w / 2)
        hand_x = cx + side * (hip + arm_w * 0.35 + abs(swing))
        arm = np.array([(sh_x - arm_w / 2, top - 0.1 * H), (sh_x + arm_w / 2, top - 0.1 * H),
                        (hand_x + arm_w * 0.4, wrist_y), (hand_x - arm_w * 0.4, wrist_y)], np.float64)
        _shade_poly(canvas, mask, arm, coat * 0.85, light=0.4, rng=rng)
    if waist_y > top:
        torso = np.array([(cx - shoulder + arm_w * 0.8, top), (cx + shoulder - arm_w * 0.8, top),
                          (cx + hip, waist_y + 0.02 * H), (cx - hip, waist_y + 0.02 * H)], np.float64)
        _shade_poly(canvas, mask, torso, coat, light=0.3, rng=rng)
    keep = upper_m > 0
    canvas[:up_h, ox:ox + up_w][keep] = upper[keep]
    mask[:up_h, ox:ox + up_w] |= upper_m
    skin = _skin(cut, upper, upper_m)
    for side in (-1, 1):
        hand_x = cx + side * (hip + arm_w * 0.35 + abs(swing))
        axes = (max(1, int(arm_w * 0.42)), max(1, int(arm_w * 0.6)))
        centre = (int(round(hand_x)), int(round(wrist_y + axes[1] * 0.6)))
        cv2.ellipse(canvas, centre, axes, 0, 0, 360, [int(c) for c in skin * 0.9], -1, cv2.LINE_AA)
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1)
    # Trousers: a belt line, two legs lit from the upper left, a gap between them below the crotch.
    dark = [(48, 44, 40), (70, 55, 45), (95, 80, 60), (40, 40, 70)][(look.identity + max(0, look.clothes_hue)) % 4]
    foot_y = H - max(2, H // 40)
    crotch_y = H * 0.55
    leg_top = max(2.0, hip * 0.98)
    ankle = max(1.5, 0.32 * head_w)
    step = stride * H * 0.045
    pelvis = np.array([(cx - hip, waist_y), (cx + hip, waist_y), (cx + hip * 0.98, crotch_y), (cx - hip * 0.98, crotch_y)])
    _shade_poly(canvas, mask, pelvis, dark, light=0.25, rng=rng)
    for side in (-1, 1):
        hip_x = cx + side * leg_top / 2
        # Walking across the picture opens the legs into an inverted V.
        foot_x = cx + side * (leg_top * 0.42 + abs(step))
        leg = np.array([(hip_x - leg_top / 2, crotch_y - 0.02 * H), (hip_x + leg_top / 2, crotch_y - 0.02 * H),
                        (foot_x + ankle, foot_y), (foot_x - ankle, foot_y)], np.float64)
        _shade_poly(canvas, mask, leg, dark, light=0.45, rng=rng)
        shoe = (int(round(foot_x + side * ankle * 0.3)), int(foot_y))
        axes = (max(1, int(ankle * 1.5)), max(1, H // 45))
        cv2.ellipse(canvas, shoe, axes, 0, 0, 360, (22, 22, 24), -1, cv2.LINE_AA)
        cv2.ellipse(mask, shoe, axes, 0, 0, 360, 1, -1)
    cv2.line(canvas, (int(cx - hip), int(waist_y)), (int(cx + hip), int(waist_y)), (25, 25, 25), max(1, H // 90))
    return Sprite(canvas, (mask > 0).astype(np.uint8))


def floor_shadow(frame: np.ndarray, cx: float, floor_y: float, width: float, strength: float = 0.35) -> None:
    """Darken a soft ellipse on the floor under someone standing at (cx, floor_y), in place."""
    ax, ay = max(2, int(width * 0.55)), max(1, int(width * 0.14))
    x0, y0 = int(cx - 2 * ax), int(floor_y - 2 * ay)
    H, W = frame.shape[:2]
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + 4 * ax, W), min(y0 + 4 * ay, H)
    if xb <= xa or yb <= ya:
        return
    m = np.zeros((4 * ay, 4 * ax), np.float32)
    cv2.ellipse(m, (2 * ax, 2 * ay), (ax, ay), 0, 0, 360, 1.0, -1)
    m = cv2.GaussianBlur(m, (0, 0), max(1.0, ay * 0.6))[ya - y0:yb - y0, xa - x0:xb - x0]
    roi = frame[ya:yb, xa:xb]
    roi[:] = np.clip(roi.astype(np.float32) * (1.0 - strength * m[:, :, None]), 0, 255).astype(np.uint8)


def paste_sprite(frame: np.ndarray, sprite: Sprite, cx: float, bottom: float) -> tuple[int, int, int, int] | None:
    """Paste with the sprite's bottom centre at (cx, bottom), clipped. Returns the drawn box."""
    w, h = sprite.size
    x, y = int(round(cx - w / 2)), int(round(bottom - h))
    H, W = frame.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        return None
    sx, sy = x0 - x, y0 - y
    # cv2.copyTo writes through the view in place and is ~50x faster than np.copyto(where=).
    cv2.copyTo(sprite.bgr[sy:sy + y1 - y0, sx:sx + x1 - x0], sprite.mask[sy:sy + y1 - y0, sx:sx + x1 - x0],
               frame[y0:y1, x0:x1])
    return x0, y0, x1, y1
