"""A static exam room seen from an elevated camera at the front, and people placed in it.

The layout is pure geometry: rows of desks with printed seat numbers, seat polygons and an
invigilator zone in pixel coordinates, so the exam-point YAML, the truth file and the
picture all agree. The renderer draws the empty room once and, per frame, pastes only the
people (back to front, each seated person followed by their own desk so the desk hides
their lap).

Example:
    >>> import numpy as np
    >>> layout = layout_room(640, 360, rows=3, cols=4, rng=np.random.default_rng(0))
    >>> len(layout.seats), layout.seats[0].seat
    (12, '01')
    >>> frame = RoomRenderer(layout).render([], [])
    >>> frame.shape
    (360, 640, 3)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from ..fonts import draw_text
from .people import PersonLook, floor_shadow, paste_sprite, seated_sprite, standing_sprite

Point = tuple[float, float]

#: The widest standing sprite for its height (arms out, some clothes); most are ~0.31.
WIDEST_STANDING = 0.39
#: Where the block of desks starts (front row, share of the width). Left of it is the invigilator
#: zone and a side aisle wide enough for someone to stand in without hiding a desk or an invigilator.
DESKS_LEFT = 0.32
#: Right edge of the invigilator zone (share of the width).
ZONE_RIGHT = 0.16


@dataclass(frozen=True)
class SeatPlace:
    """One desk and the candidate's place behind it.

    Attributes:
        seat: the number printed on the desk, e.g. ``"07"``.
        row, col: row 0 is the back of the room (top of the picture).
        cx: x of the seated person's centre.
        desk_top: y of the desk's far edge; the person shows above it.
        person_h: seated sprite height in pixels (head to the hidden lap).
        person_bottom: y of the seated sprite's bottom edge (behind the desk).
        desk_bottom: y where the desk's front panel meets the floor line.
        desk_half_w: half the desk width.
        polygon: the seat's region for occupancy checks (covers head to desk front).
    """

    seat: str
    row: int
    col: int
    cx: float
    desk_top: float
    person_h: int
    person_bottom: float
    desk_bottom: float
    desk_half_w: float
    polygon: tuple[Point, ...]


@dataclass(frozen=True)
class Palette:
    wall: tuple[int, int, int]
    floor: tuple[int, int, int]
    desk: tuple[int, int, int]
    panel: tuple[int, int, int]


@dataclass(frozen=True)
class RoomLayout:
    """Where everything is in the picture.

    Attributes:
        width, height: frame size.
        seats: back row first, left to right.
        invigilator_zone: polygon near the front of the room (left of the desks).
        invigilator_spots: floor points (x, y) where invigilators stand.
        wall_y: y of the line where the back wall meets the floor.
        aisle_x: x of the side aisle between the invigilator zone and the desks.
        front_y: floor y of the front aisle, in front of the first row.
        height_slope, height_offset: a standing person with feet at floor y is
            ``height_slope * y + height_offset`` pixels tall (perspective).
    """

    width: int
    height: int
    rows: int
    cols: int
    seats: tuple[SeatPlace, ...]
    invigilator_zone: tuple[Point, ...]
    invigilator_spots: tuple[Point, ...]
    wall_y: float
    aisle_x: float
    front_y: float
    height_slope: float
    height_offset: float
    palette: Palette

    def standing_height(self, floor_y: float) -> int:
        return max(8, int(round(self.height_slope * floor_y + self.height_offset)))

    def seat_index(self, seat: str) -> int:
        return [s.seat for s in self.seats].index(seat)

    def beside(self, seat: SeatPlace, side: int = 1) -> Point:
        """A floor point at the front corner of ``seat``'s desk (side -1 left, +1 right), where someone lingers.

        Nearer this seat than its neighbour: desks stand 2.27 half-widths apart, so a point past
        the desk's edge (the old 1.25 half-widths) was as close to the next candidate's desk.
        """
        return seat.cx + side * seat.desk_half_w * 0.85, seat.desk_bottom + 0.03 * self.height

    def body_box(self, x: float, floor_y: float, width_ratio: float = WIDEST_STANDING) -> tuple[float, float, float, float]:
        """The (x0, y0, x1, y1) picture box of someone standing with feet at (x, floor_y)."""
        h = self.standing_height(floor_y)
        return x - 0.5 * width_ratio * h, floor_y - h, x + 0.5 * width_ratio * h, floor_y

    def seat_boxes(self) -> np.ndarray:
        """``(S, 4)`` picture boxes of the seats: the candidate's head down to the desk's front."""
        return np.array([[min(x for x, _ in s.polygon), min(y for _, y in s.polygon),
                          max(x for x, _ in s.polygon), max(y for _, y in s.polygon)] for s in self.seats]).reshape(-1, 4)


def _row_geometry(height: int, rows: int) -> tuple[np.ndarray, np.ndarray, float]:
    if rows == 1:
        return np.array([0.62 * height]), np.array([1.0]), 0.3 * height
    frac = np.linspace(0, 1, rows)
    desk_top = (0.40 + 0.42 * frac) * height
    # Few rows means a camera close to them: less shrinking with distance.
    near = max(0.55, 1.0 - 0.12 * rows)
    depth = near + (1.0 - near) * frac
    spacing = 0.40 * height / (rows - 1)
    return desk_top, depth, spacing


def layout_room(width: int, height: int, rows: int, cols: int, rng: np.random.Generator) -> RoomLayout:
    """Lay out ``rows`` x ``cols`` desks. ``rng`` picks the colours and small offsets."""
    desk_top, depth, spacing = _row_geometry(height, rows)
    front_person = min(0.40 * height, 1.5 * spacing)
    left_front, right_front = DESKS_LEFT * width, 0.97 * width
    centre = (left_front + right_front) / 2
    seats = []
    n = 0
    floor_pts, heights = [], []
    for r in range(rows):
        ph = int(round(front_person * depth[r]))
        span = (right_front - left_front) * (0.62 + 0.38 * depth[r])
        step = span / cols
        dt = float(desk_top[r])
        surf_h, panel_h = 0.13 * ph, 0.22 * ph
        bottom = dt + 0.10 * ph  # only the lap hides: a detector loses people cut off at the chest
        desk_bottom = dt + surf_h + panel_h
        for c in range(cols):
            n += 1
            cx = centre - span / 2 + step * (c + 0.5) + float(rng.uniform(-0.03, 0.03)) * step
            half = 0.44 * step
            top = dt - 0.97 * ph
            poly = ((cx - half, top), (cx + half, top), (cx + half, desk_bottom), (cx - half, desk_bottom))
            poly = tuple((round(max(0.0, float(x)), 1), round(max(0.0, float(y)), 1)) for x, y in poly)
            seats.append(SeatPlace(f"{n:02d}", r, c, float(cx), dt, ph, float(bottom), float(desk_bottom),
                                   float(half), poly))
        floor_pts.append(desk_bottom)
        heights.append(2.0 * ph)  # a standing adult is about twice the seated sprite
    if rows > 1:
        slope, offset = np.polyfit(floor_pts, heights, 1)
    else:
        slope, offset = 0.0, heights[0]
    # Invigilators stand at the front left, about as far from the camera as the front row, and
    # step forward and back: their whole body stays inside the zone, clear of the side aisle.
    mid_floor = (floor_pts[0] + floor_pts[-1]) / 2
    zone_x1 = ZONE_RIGHT * width
    ys = (float(mid_floor + 0.10 * height), float(mid_floor))
    spots = tuple((float(zone_x1 - 0.5 * WIDEST_STANDING * (slope * y + offset) - 0.005 * width), y) for y in ys)
    tallest = slope * spots[0][1] + offset
    zone_y0 = max(0.0, min(y for _, y in spots) - tallest * 1.0 - 0.03 * height)
    zone = ((0.0, zone_y0), (zone_x1, zone_y0), (zone_x1, height - 1.0), (0.0, height - 1.0))
    wall = tuple(int(v) for v in rng.integers([150, 160, 165], [205, 215, 225]))
    floor = tuple(int(v) for v in rng.integers([90, 95, 100], [140, 145, 150]))
    desk = tuple(int(v) for v in rng.integers([120, 150, 170], [160, 190, 215]))
    panel = tuple(int(v * 0.7) for v in desk)
    return RoomLayout(width, height, rows, cols, tuple(seats), tuple((round(float(x), 1), round(float(y), 1)) for x, y in zone),
                      spots, wall_y=0.24 * height, aisle_x=(zone_x1 + min(s.polygon[0][0] for s in seats)) / 2,
                      front_y=0.92 * height,
                      height_slope=float(slope), height_offset=float(offset),
                      palette=Palette(wall, floor, desk, panel))


@dataclass(frozen=True)
class SeatedPose:
    """A candidate at a desk. ``dx``/``dy`` are small pixel offsets (breathing, leaning)."""

    seat_index: int
    look: PersonLook
    dx: int = 0
    dy: int = 0


@dataclass(frozen=True)
class StandingPose:
    """Someone standing or walking with feet at (x, floor_y). ``stride`` animates the legs."""

    look: PersonLook
    x: float
    floor_y: float
    stride: int = 0


def draw_empty_room(layout: RoomLayout) -> np.ndarray:
    """The room with nobody in it: wall, floor, notice board, door, desks with seat numbers."""
    W, H, pal = layout.width, layout.height, layout.palette
    img = np.empty((H, W, 3), np.uint8)
    wy = int(layout.wall_y)
    img[:wy] = pal.wall
    # Floor gets lighter towards the camera, as ceiling lights fall off with distance.
    ramp = np.linspace(0.8, 1.1, H - wy)[:, None, None]
    img[wy:] = np.clip(np.array(pal.floor, np.float32)[None, None] * ramp, 0, 255).astype(np.uint8)
    cv2.line(img, (0, wy), (W, wy), tuple(int(v * 0.7) for v in pal.wall), max(1, H // 180))
    # Notice board and clock on the back wall give the camera-moved check some texture.
    bx0, by0, bx1, by1 = int(0.40 * W), int(0.05 * H), int(0.78 * W), int(0.18 * H)
    cv2.rectangle(img, (bx0, by0), (bx1, by1), (70, 95, 60), -1)
    cv2.rectangle(img, (bx0, by0), (bx1, by1), (40, 50, 40), max(1, H // 200))
    size = max(6, int((by1 - by0) * 0.45))
    draw_text(img, "考场纪律", (bx0 + size // 2, by0 + int(size * 1.4)), size, (235, 235, 235), outline_px=0)
    cv2.circle(img, (int(0.88 * W), int(0.11 * H)), max(3, int(0.05 * H)), (230, 230, 230), -1)
    cv2.circle(img, (int(0.88 * W), int(0.11 * H)), max(3, int(0.05 * H)), (50, 50, 50), max(1, H // 200))
    # Door on the left wall.
    cv2.rectangle(img, (int(0.02 * W), int(0.04 * H)), (int(0.12 * W), wy), (60, 90, 130), -1)
    for s in layout.seats:
        _draw_desk(img, layout, s)
    return img


def _desk_polys(layout: RoomLayout, s: SeatPlace) -> tuple[np.ndarray, np.ndarray]:
    surf_h = 0.13 * s.person_h
    hw = s.desk_half_w
    near = hw * 1.04  # the near edge looks a little wider
    top = np.array([(s.cx - hw, s.desk_top), (s.cx + hw, s.desk_top), (s.cx + near, s.desk_top + surf_h),
                    (s.cx - near, s.desk_top + surf_h)], np.int32)
    panel = np.array([(s.cx - near, s.desk_top + surf_h), (s.cx + near, s.desk_top + surf_h),
                      (s.cx + near, s.desk_bottom), (s.cx - near, s.desk_bottom)], np.int32)
    return top, panel


def _draw_desk(img: np.ndarray, layout: RoomLayout, s: SeatPlace) -> None:
    top, panel = _desk_polys(layout, s)
    cv2.fillPoly(img, [top], layout.palette.desk)
    cv2.fillPoly(img, [panel], layout.palette.panel)
    cv2.polylines(img, [top], True, tuple(int(v * 0.55) for v in layout.palette.desk), 1)
    scale = max(0.25, (s.desk_bottom - s.desk_top) / 40)
    (tw, th), _ = cv2.getTextSize(s.seat, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    org = (int(s.cx - tw / 2), int((s.desk_top + 0.13 * s.person_h + s.desk_bottom) / 2 + th / 2))
    cv2.putText(img, s.seat, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (245, 245, 245), max(1, int(scale * 1.5)), cv2.LINE_AA)


class RoomRenderer:
    """Draws people into a precomputed empty room.

    Parameters:
        layout: the room geometry.

    Attributes:
        empty: the empty-room picture (never modified).
    """

    def __init__(self, layout: RoomLayout):
        self.layout = layout

    @cached_property
    def empty(self) -> np.ndarray:
        return draw_empty_room(self.layout)

    @cached_property
    def _desk_cutouts(self) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
        # Each desk's pixels and mask, cut from the empty room, to repaint over a seated person.
        out = []
        H, W = self.layout.height, self.layout.width
        for s in self.layout.seats:
            top, panel = _desk_polys(self.layout, s)
            m = np.zeros((H, W), np.uint8)
            cv2.fillPoly(m, [top, panel], 1)
            ys, xs = np.nonzero(m)
            if len(ys) == 0:
                out.append((0, 0, np.zeros((0, 0, 3), np.uint8), np.zeros((0, 0), np.uint8)))
                continue
            y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            out.append((int(x0), int(y0), self.empty[y0:y1, x0:x1].copy(), m[y0:y1, x0:x1].copy()))
        return out

    def render(self, seated: list[SeatedPose], standing: list[StandingPose]) -> np.ndarray:
        """A new frame with these people, drawn back to front so nearer things hide farther ones."""
        frame = self.empty.copy()
        items: list[tuple[float, int, object]] = []
        for p in seated:
            items.append((self.layout.seats[p.seat_index].desk_bottom, 0, p))
        for p in standing:
            items.append((p.floor_y, 1, p))
        items.sort(key=lambda it: (it[0], it[1]))
        for _, kind, p in items:
            if kind == 0:
                s = self.layout.seats[p.seat_index]
                paste_sprite(frame, seated_sprite(p.look, s.person_h), s.cx + p.dx, s.person_bottom + p.dy)
                x0, y0, pix, mask = self._desk_cutouts[p.seat_index]
                h, w = mask.shape[:2]
                if h and w:
                    cv2.copyTo(pix, mask, frame[y0:y0 + h, x0:x0 + w])
            else:
                h = self.layout.standing_height(p.floor_y)
                sprite = standing_sprite(p.look, h, p.stride)
                floor_shadow(frame, p.x, p.floor_y, 0.3 * h)
                paste_sprite(frame, sprite, p.x, p.floor_y)
        return frame

    def standing_box(self, p: StandingPose) -> tuple[float, float, float, float]:
        """The (x0, y0, x1, y1) box a standing person occupies, before clipping to the frame."""
        h = self.layout.standing_height(p.floor_y)
        w = standing_sprite(p.look, h, p.stride).size[0]
        return p.x - w / 2, p.floor_y - h, p.x + w / 2, p.floor_y
