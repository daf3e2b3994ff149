"""The ``yolox`` layout: YOLOX's raw ``[N, A, 85]`` output decoded in the product.

A tiny ONNX model built here answers every picture with raw rows whose boxes are known, so
the test checks the grid, the strides, the exp sizes, objectness x class and the top-left
letterbox. The real file (models/yolox_nano.onnx) is checked too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from examaudit.video.detector import decode_yolox, default_model_path, letterbox_geometry, load_detector, yolox_grid

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _constant_model(path: Path, rows: np.ndarray, size: int) -> None:
    """An ONNX model with a fixed batch of 1 (as YOLOX is released) whose output is always ``rows``."""
    rows = np.asarray(rows, np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["m"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Squeeze", ["m", "sq_axes"], ["m3"]),
        helper.make_node("Mul", ["m3", "zero"], ["z"]),
        helper.make_node("Add", ["z", "rows"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes, "constant_yolox",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, *rows.shape])],
        initializer=[numpy_helper.from_array(rows, "rows"), numpy_helper.from_array(np.zeros(1, np.float32), "zero"),
                     numpy_helper.from_array(np.array([3], np.int64), "sq_axes")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _frame(w: int, h: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)


def test_grid_order_is_stride_8_then_16_then_32_row_major():
    grid, stride = yolox_grid(64, 64)
    assert len(grid) == 64 + 16 + 4
    assert grid[:9].tolist() == [[x, 0] for x in range(8)] + [[0, 1]]
    assert stride[63, 0] == 8 and stride[64, 0] == 16 and stride[80, 0] == 32
    assert grid[64 + 5].tolist() == [1, 1] and grid[80 + 3].tolist() == [1, 1]
    with pytest.raises(ValueError, match="rows"):
        decode_yolox(np.zeros((10, 6), np.float32), grid, stride)


def test_raw_rows_become_boxes_in_frame_pixels(tmp_path):
    size = 64                                    # 8x8 cells of stride 8, 4x4 of 16, 2x2 of 32: 84 rows
    rows = np.zeros((84, 5 + 3), np.float32)     # 3 classes: person, bicycle, dog
    rows[:, 2:4] = -10                           # negligible boxes elsewhere, objectness 0
    # Stride 16, cell (2, 1): offset 0.5 -> centre (40, 24); size exp(ln 2) * 16 = 32 wide, exp(ln 1.5) * 16 = 24 tall.
    rows[64 + 1 * 4 + 2] = [0.5, 0.5, np.log(2), np.log(1.5), 0.9, 0.8, 0.1, 0.0]
    # Stride 8, cell (1, 3): a dog, not a person.
    rows[3 * 8 + 1] = [0, 0, 0, 0, 0.9, 0.0, 0.0, 0.9]
    # Stride 32, cell (0, 0): a person whose objectness x class (0.5 x 0.5) is under the bar.
    rows[80] = [0.5, 0.5, 0, 0, 0.5, 0.5, 0.0, 0.0]
    path = tmp_path / "yolox.onnx"
    _constant_model(path, rows, size)
    det = load_detector({"model": str(path), "layout": "yolox", "tiles": 0, "threshold": 0.3})
    frame = _frame(128, 64)                      # scale 0.5, picture in the top 32 rows, padding below
    found = det.detect(frame)
    assert det.input_size == (64, 64) and det.bgr and det.letterbox == "top_left"
    assert len(found) == 1
    # Input box x 24..56, y 12..36 -> frame (divide by 0.5, no offset): x 48..112, y 24..72 clipped to 64.
    np.testing.assert_allclose(found.xyxy[0], [48, 24, 112, 64], atol=1e-3)
    assert found.confidence[0] == pytest.approx(0.72, abs=1e-6)


def test_picture_goes_to_the_top_left_in_bgr_0_255(tmp_path):
    rows = np.zeros((84, 6), np.float32)
    path = tmp_path / "yolox.onnx"
    _constant_model(path, rows, 64)
    det = load_detector({"model": str(path), "layout": "yolox", "tiles": 0})
    det.check()
    frame = np.zeros((32, 64, 3), np.uint8)
    frame[..., 0] = 200                          # blue
    tensor, geometry = det._preprocess(frame)
    assert geometry == letterbox_geometry(64, 32, 64, 64, "top_left") == (1.0, 0, 0, 64, 32)
    assert tensor.shape == (3, 64, 64)
    assert tensor[0, :32].min() == 200 and tensor[2, :32].max() == 0     # channel 0 is blue: BGR, not scaled
    assert np.all(tensor[:, 32:] == 114)                                 # padding below


def test_wrong_grid_is_refused_up_front(tmp_path):
    path = tmp_path / "not_yolox.onnx"
    _constant_model(path, np.zeros((50, 6), np.float32), 64)
    with pytest.raises(ValueError, match="expects 84 output rows"):
        load_detector({"model": str(path), "layout": "yolox"}).check()


def test_real_yolox_nano_file():
    path = default_model_path("yolox_nano.onnx")
    if not path.is_file():
        pytest.skip(f"{path} absent")
    skimage_data = pytest.importorskip("skimage.data")
    det = load_detector({"name": "yolox_nano"})
    det.check()
    assert det.input_size == (416, 416) and len(det._grid[0]) == 3549
    astronaut = np.ascontiguousarray(skimage_data.astronaut()[:, :, ::-1])   # 512x512, one person
    found = det.detect(astronaut)
    assert len(found) == 1 and found.confidence[0] > 0.6
    x0, y0, x1, y1 = found.xyxy[0]
    # She fills most of the picture: head near the top, shoulders to the bottom edge.
    assert x0 < 100 and y0 < 60 and x1 > 300 and y1 > 480
    # Landscape picture: same person to the left, padding to the right; the box follows her.
    wide = np.full((512, 1024, 3), 255, np.uint8)
    wide[:, :512] = astronaut
    moved = det.detect(wide)
    assert len(moved) == 1
    np.testing.assert_allclose(moved.xyxy[0], found.xyxy[0], atol=25)


def test_cli_default_is_yolox_and_ssdlite_is_selectable(tmp_path, clip_factory):
    """``analyze`` runs YOLOX-Nano unless told otherwise; ``--detector ssdlite`` picks the fallback.
    findings.json names the weights that ran (sha256) and how they were run."""
    import json

    from examaudit.cli import main
    from examaudit.video.detector import DEFAULT_MODEL_NAME

    clip = clip_factory(seconds=3, fps=10, gop_s=1.0, size=(320, 192))
    ran = {}
    for label, extra in (("default", []), ("fallback", ["--detector", "ssdlite"])):
        out = tmp_path / label
        assert main(["analyze", str(clip), "--out", str(out), "--every", "1", *extra]) == 0
        run = json.loads((out / "findings.json").read_text(encoding="utf-8"))["run"]
        (model,) = [i for i in run["inputs"] if i["role"] == "detector_model"]
        ran[label] = (Path(model["path"]).name, run["stats"]["people"]["detector"]["layout"])
    assert ran == {"default": ("yolox_nano.onnx", "yolox"), "fallback": (DEFAULT_MODEL_NAME, "ssd_tf")}
    assert main(["analyze", str(clip), "--out", str(tmp_path / "bad"), "--detector", "yolov99"]) == 2
