"""People for the synthetic rooms: real photographs cut out, recoloured and scaled.

A person detector trained on COCO has to see these people, so they are built from real
public-domain photographs that ship inside installed packages, not from drawn shapes:

- ``skimage.data.astronaut()`` (Eileen Collins, NASA, public domain),
- ``skimage.data.camera()`` (the cameraman, public domain per scikit-image),
- ``matplotlib`` sample ``grace_hopper.jpg`` (US Navy photograph, public domain), if present.

Each photograph is cut out once with GrabCut seeded by fixed hints. A :class:`PersonLook`
(identity, clothing hue, brightness, mirror) gives every candidate a different appearance.
Seated people show the photograph's upper body; standing people get a torso extension and
trousers drawn below it, with the legs swinging when they walk.
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


def random_look(rng: np.random.Generator, *, seated: bool = False) -> PersonLook:
    """A random appearance; ``seated`` restricts to photos that read as people behind a desk."""
    names = [c.name for c in source_cutouts()]
    pool = [i for i, n in enumerate(names) if n in SEATED_IDENTITIES] if seated else list(range(len(names)))
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


#: Standing body proportions: the head is about 1/7.5 of a person's height.
HEAD_FRACTION = 0.135
WAIST_FRACTION = 0.52


@lru_cache(maxsize=2048)
def standing_sprite(look: PersonLook, height_px: int, stride: int = 0) -> Sprite:
    """A full standing figure ``height_px`` tall. ``stride`` in -2..2 swings the legs (walking)."""
    cut = _styled(look)
    ch, cw = cut.mask.shape
    # Scale the photo so its head (top to chin) is HEAD_FRACTION of the body.
    head_px = max(1.0, cut.chin * ch)
    k = HEAD_FRACTION * height_px / head_px
    up_h = max(2, min(round(ch * k), round(height_px * WAIST_FRACTION)))
    up_w = max(2, round(cw * k))
    crop_rows = min(ch, max(2, round(up_h / k)))
    upper = cv2.resize(cut.bgr[:crop_rows], (up_w, up_h), interpolation=cv2.INTER_AREA)
    upper_m = cv2.resize(cut.mask[:crop_rows], (up_w, up_h), interpolation=cv2.INTER_NEAREST)
    W = max(up_w, round(height_px * 0.42))
    canvas = np.zeros((height_px, W, 3), np.uint8)
    mask = np.zeros((height_px, W), np.uint8)
    ox = (W - up_w) // 2
    canvas[:up_h, ox:ox + up_w] = upper
    mask[:up_h, ox:ox + up_w] = upper_m
    # Torso extension down to the waist, in the colour of the photo's lowest clothes.
    last = np.nonzero(upper_m[-1])[0]
    if len(last) == 0:
        last = np.array([up_w // 3, 2 * up_w // 3])
    lx0, lx1 = ox + int(last.min()), ox + int(last.max())
    coat = np.median(upper[-max(2, up_h // 10):][upper_m[-max(2, up_h // 10):] > 0], axis=0) \
        if upper_m[-max(2, up_h // 10):].any() else np.array([60, 60, 60])
    waist_y = round(height_px * WAIST_FRACTION)
    cx = (lx0 + lx1) / 2
    hip_half = max(2.0, min((lx1 - lx0) / 2 * 0.85, height_px * 0.12))
    if waist_y > up_h:
        torso = np.array([(lx0, up_h - 1), (lx1, up_h - 1), (cx + hip_half, waist_y), (cx - hip_half, waist_y)], np.int32)
        cv2.fillPoly(canvas, [torso], [int(c) for c in coat])
        cv2.fillPoly(mask, [torso], 1)
    # Trousers: two legs from the hip to the feet; stride moves the feet apart when walking.
    trousers = (48, 44, 40) if look.identity % 2 == 0 else (70, 55, 45)
    leg_w = max(2.0, hip_half * 0.95)
    foot_y = height_px - max(2, height_px // 40)
    swing = stride * height_px * 0.05
    for side in (-1, 1):
        hip_x = cx + side * hip_half * 0.5
        foot_x = hip_x + side * 0.25 * hip_half + (swing if side < 0 else -swing)
        leg = np.array([(hip_x - leg_w / 2, waist_y), (hip_x + leg_w / 2, waist_y),
                        (foot_x + leg_w / 2.6, foot_y), (foot_x - leg_w / 2.6, foot_y)], np.int32)
        cv2.fillPoly(canvas, [leg], trousers)
        cv2.fillPoly(mask, [leg], 1)
        shoe = (int(foot_x), int(foot_y))
        axes = (max(1, int(leg_w * 0.6)), max(1, height_px // 50))
        cv2.ellipse(canvas, shoe, axes, 0, 0, 360, (20, 20, 20), -1)
        cv2.ellipse(mask, shoe, axes, 0, 0, 360, 1, -1)
    return Sprite(canvas, (mask > 0).astype(np.uint8))


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
