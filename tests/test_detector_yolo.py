"""A YOLO-style ONNX detector plugs in by config (``layout: yolo`` / ``yolo_noobj``).

The models here are built in the test with the ``onnx`` package: they answer every picture
with the same rows, so the test knows exactly which boxes the detector must report and
where, through the letterbox, in the frame's pixels.
"""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from examaudit.video.detector import load_detector  # noqa: E402


def _constant_model(path, rows: np.ndarray, input_shape=("N", 3, 64, 64)) -> None:
    """An ONNX model whose output is ``rows`` for every image of the batch: ``[N, *rows.shape]``."""
    rows = np.asarray(rows, np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["m"], axes=[1, 2, 3], keepdims=1),  # [N,1,1,1]
        helper.make_node("Squeeze", ["m", "sq_axes"], ["m3"]),                         # [N,1,1] after one squeeze
        helper.make_node("Mul", ["m3", "zero"], ["z"]),
        helper.make_node("Add", ["z", "rows"], ["output"]),                            # broadcast to [N, *rows]
    ]
    graph = helper.make_graph(
        nodes, "constant_yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", *rows.shape])],
        initializer=[numpy_helper.from_array(rows, "rows"), numpy_helper.from_array(np.zeros(1, np.float32), "zero"),
                     numpy_helper.from_array(np.array([3], np.int64), "sq_axes")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _frame(w: int = 128, h: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)  # textured: not skipped as a blank window


def test_yolo_rows_become_person_boxes_in_frame_pixels(tmp_path):
    # cx, cy, w, h (input pixels), objectness, person, dog
    rows = np.array([
        [32, 32, 16, 24, 0.9, 0.9, 0.1],   # a person: 0.81
        [10, 30, 8, 8, 0.9, 0.1, 0.9],     # a dog
        [50, 30, 8, 20, 0.3, 0.5, 0.0],    # a weak person: 0.15
    ])
    path = tmp_path / "yolo.onnx"
    _constant_model(path, rows)
    det = load_detector({"model": str(path), "layout": "yolo", "tiles": 0, "threshold": 0.3})
    found = det.detect(_frame())
    assert det.input_size == (64, 64)          # taken from the model
    # 128x64 into 64x64: scale 0.5, a 16-pixel band above and below the picture.
    assert len(found) == 1
    np.testing.assert_allclose(found.xyxy[0], [48, 8, 80, 56], atol=1e-4)
    assert found.confidence[0] == pytest.approx(0.81, abs=1e-6)
    assert found.class_id[0] == 0


def test_yolo_without_objectness_in_either_orientation(tmp_path):
    rows = np.array([[32, 32, 16, 24, 0.7, 0.2], [16, 16, 8, 8, 0.05, 0.9]])
    # Real exports have thousands of anchors and a few dozen columns: the longer axis is the anchors.
    rows = np.vstack([rows, np.zeros((10, 6))])
    for name, out in (("anchors_first", rows), ("columns_first", rows.T)):
        path = tmp_path / f"{name}.onnx"
        _constant_model(path, out)
        det = load_detector({"model": str(path), "layout": "yolo_noobj", "tiles": 0, "threshold": 0.5})
        found = det.detect(_frame())
        assert len(found) == 1, name
        np.testing.assert_allclose(found.xyxy[0], [48, 8, 80, 56], atol=1e-4)
        assert found.confidence[0] == pytest.approx(0.7, abs=1e-6)


def test_yolo_tiles_map_back_to_the_frame(tmp_path):
    # One box in the middle of every window: the full frame's and each tile's land in
    # different places, so three people are reported, each where its window puts it.
    path = tmp_path / "yolo.onnx"
    _constant_model(path, np.array([[32, 32, 8, 8, 1.0, 1.0]]))
    det = load_detector({"model": str(path), "layout": "yolo", "tiles": [2, 1], "tile_overlap": 0.0,
                         "threshold": 0.5})
    found = det.detect(_frame(128, 64))
    centres = sorted(float((b[0] + b[2]) / 2) for b in found.xyxy)
    assert centres == pytest.approx([32.0, 64.0, 96.0], abs=1e-3)


def test_yolo_blank_window_and_wrong_models_are_refused_clearly(tmp_path):
    path = tmp_path / "yolo.onnx"
    _constant_model(path, np.array([[32, 32, 16, 24, 0.9, 0.9]]))
    det = load_detector({"model": str(path), "layout": "yolo", "tiles": 0})
    assert len(det.detect(np.full((64, 128, 3), 90, np.uint8))) == 0   # a flat grey feed holds nobody
    with pytest.raises(ValueError, match="person_class 3 out of range"):
        load_detector({"model": str(path), "layout": "yolo", "tiles": 0, "person_class": 3}).detect(_frame())
    nhwc = tmp_path / "nhwc.onnx"
    _constant_model(nhwc, np.array([[32, 32, 16, 24, 0.9, 0.9]]), input_shape=("N", 64, 64, 3))
    with pytest.raises(ValueError, match="layout 'yolo' needs an NCHW input"):
        load_detector({"model": str(nhwc), "layout": "yolo", "tiles": 0}).detect(_frame())
    with pytest.raises(ValueError, match="unsupported detector layout"):
        load_detector({"model": str(path), "layout": "yolov99"})


def test_cli_swaps_the_detector_by_config(tmp_path, clip_factory):
    """``--detector det.yaml`` runs the user's model: every sample sees the one person it reports."""
    import json

    from examaudit.cli import main

    _constant_model(tmp_path / "theirs.onnx", np.array([[32, 32, 16, 40, 0.9, 0.9], [10, 10, 4, 4, 0.9, 0.05]]))
    (tmp_path / "det.yaml").write_text("model: theirs.onnx\nlayout: yolo\nthreshold: 0.3\ntiles: 0\n", encoding="utf-8")
    clip = clip_factory(seconds=6, fps=10, gop_s=1.0, size=(320, 192))
    out = tmp_path / "out"
    assert main(["analyze", str(clip), "--out", str(out), "--every", "1", "--detector", str(tmp_path / "det.yaml")]) == 0
    rows = (out / "samples.csv").read_text(encoding="utf-8-sig").splitlines()
    col = rows[0].split(",").index("detections")
    assert len(rows) > 4 and all(r.split(",")[col] == "1" for r in rows[1:])
    run = json.loads((out / "findings.json").read_text(encoding="utf-8"))["run"]
    # Traceable to the weights that saw the room: the model is an input with its sha256.
    import hashlib

    models = [i for i in run["inputs"] if i["role"] == "detector_model"]
    assert [(m["path"], m["sha256"]) for m in models] == [
        (str(tmp_path / "theirs.onnx"), hashlib.sha256((tmp_path / "theirs.onnx").read_bytes()).hexdigest())]
    assert run["parameters"]["people_thresholds"]["detector"]["layout"] == "yolo"

    (tmp_path / "bad.yaml").write_text("model: theirs.onnx\nlayout: yolo\ntreshold: 0.3\n", encoding="utf-8")
    assert main(["analyze", str(clip), "--out", str(tmp_path / "o2"), "--detector", str(tmp_path / "bad.yaml")]) == 2
    assert not (tmp_path / "o2").exists()
    # A model that does not fit its layout is refused before any footage is read.
    _constant_model(tmp_path / "nhwc.onnx", np.array([[32, 32, 16, 24, 0.9, 0.9]]), input_shape=("N", 64, 64, 3))
    (tmp_path / "nhwc.yaml").write_text("model: nhwc.onnx\nlayout: yolo\n", encoding="utf-8")
    assert main(["analyze", str(clip), "--out", str(tmp_path / "o3"), "--detector", str(tmp_path / "nhwc.yaml")]) == 2
    assert not (tmp_path / "o3").exists()
