"""Tests of the ONNX person detector (examaudit.video.detector)."""

from __future__ import annotations

import csv
import hashlib
import os
import pickle
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from examaudit.video.detector import (
    BUNDLED_DETECTORS,
    DEFAULT_DETECTOR,
    DEFAULT_MODEL_NAME,
    Detections,
    OnnxPersonDetector,
    box_iou,
    default_model_path,
    fuse_mirrored,
    load_detector,
    nms,
    tile_grid_for,
)

REPO = Path(__file__).resolve().parents[1]
# A worktree beside the main checkout can point at the footage with EXAMAUDIT_FOOTAGE.
FOOTAGE = Path(os.environ.get("EXAMAUDIT_FOOTAGE") or Path(__file__).resolve().parents[2] / "shared" / "footage")
LABELS = Path(__file__).resolve().parent / "data" / "footage_person_counts.csv"

# Per-clip MAE measured by benchmarks/bench_detector.py with the default
# settings (see models/ssdlite_mobilenet_v2_person.md), on the frames the
# defaults were chosen on ("tune") and on frames labelled later and never used
# to choose anything ("holdout").  The test allows a margin so that a different
# onnxruntime/OpenCV build does not flake, while a real regression (e.g. broken
# tiling or NMS) still fails.
YOLOX_NANO_SHA256 = "c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d"
MEASURED_MAE = {
    "classroom.gif": {"tune": 0.0, "holdout": 0.067},
    "one-by-one-person-detection.mp4": {"tune": 0.0, "holdout": 0.045},
    "store-aisle-detection.gif": {"tune": 0.125, "holdout": 0.565},
    "worker-zone-detection.gif": {"tune": 0.125, "holdout": 0.077},
}
MAE_MARGIN = 0.2
# The default detector (YOLOX-Nano, untiled, threshold 0.3), by the same benchmark
# (models/yolox_nano.md). The issue's bar is a MAE of at most 0.3 on every clip.
MEASURED_MAE_DEFAULT = {
    "classroom.gif": {"tune": 0.0, "holdout": 0.0},
    "one-by-one-person-detection.mp4": {"tune": 0.0, "holdout": 0.0},
    "store-aisle-detection.gif": {"tune": 0.062, "holdout": 0.217},
    "worker-zone-detection.gif": {"tune": 0.0, "holdout": 0.0},
}
DEFAULT_MAE_BAR = 0.3


@pytest.fixture(scope="module")
def detector() -> OnnxPersonDetector:
    return OnnxPersonDetector()


@pytest.fixture(scope="module")
def astronaut_bgr() -> np.ndarray:
    skimage_data = pytest.importorskip("skimage.data")
    rgb = skimage_data.astronaut()  # Eileen Collins, a public-domain NASA photo
    return np.ascontiguousarray(rgb[:, :, ::-1])


# --------------------------------------------------------------- Detections


def test_detections_empty_len_filter():
    empty = Detections.empty()
    assert len(empty) == 0 and empty.xyxy.shape == (0, 4)
    d = Detections(
        xyxy=[[0, 0, 10, 10], [5, 5, 20, 30]], confidence=[0.9, 0.3], class_id=[1, 1]
    )
    assert len(d) == 2
    assert d.xyxy.dtype == np.float32 and d.class_id.dtype == np.int64
    kept = d.filter(d.confidence > 0.5)
    assert len(kept) == 1 and kept.confidence[0] == pytest.approx(0.9)
    assert len(d.filter([1])) == 1
    with pytest.raises(ValueError):
        d.filter(np.array([True]))
    with pytest.raises(ValueError):
        Detections(xyxy=np.zeros((2, 4)), confidence=np.zeros(1), class_id=np.zeros(2))


# ---------------------------------------------------------------------- NMS


def test_nms_merges_duplicates_from_overlapping_tiles():
    # The same person seen by the full frame and by two overlapping tiles:
    # three near-identical boxes, plus a second, separate person.
    boxes = np.array(
        [
            [100, 50, 160, 250],  # full frame
            [102, 48, 161, 252],  # left tile
            [99, 52, 158, 249],  # right tile
            [400, 60, 460, 260],  # another person
        ],
        np.float32,
    )
    scores = np.array([0.7, 0.9, 0.6, 0.8], np.float32)
    keep = nms(boxes, scores, iou_threshold=0.5)
    assert sorted(keep.tolist()) == [1, 3]  # best duplicate wins, other person kept
    assert keep[0] == 1  # highest score first


def test_nms_containment_drops_cut_off_half_person():
    whole = [100, 50, 160, 250]
    half = [100, 50, 128, 250]  # a tile seam cut this person in half: IoU ~0.47
    assert box_iou([whole], [half])[0, 0] < 0.5
    boxes = np.array([whole, half], np.float32)
    scores = np.array([0.9, 0.5], np.float32)
    assert nms(boxes, scores, 0.5).tolist() == [0, 1]
    assert nms(boxes, scores, 0.5, containment_threshold=0.8).tolist() == [0]


def test_nms_empty():
    assert nms(np.zeros((0, 4)), np.zeros(0)).shape == (0,)


def test_fuse_mirrored_keeps_agreed_boxes_and_halves_lone_ones():
    image = np.array([[100, 50, 160, 250], [400, 60, 460, 260]], np.float32)
    mirror = np.array([[102, 52, 161, 251]], np.float32)  # sees only the first person
    xyxy, conf = fuse_mirrored(image, [0.5, 0.36], mirror, [0.3])
    assert xyxy.shape == (3, 4)
    np.testing.assert_allclose(conf, [0.4, 0.18, 0.4], atol=1e-6)
    # Nothing in one view: every box keeps half its score.
    _, conf = fuse_mirrored(image, [0.5, 0.36], np.zeros((0, 4)), np.zeros(0))
    np.testing.assert_allclose(conf, [0.25, 0.18], atol=1e-6)


# ------------------------------------------------------------------ model


def test_default_model_is_bundled():
    path = default_model_path()
    assert DEFAULT_DETECTOR == "yolox_nano"
    assert path.name == "yolox_nano.onnx" and path.is_file()
    assert path.parent == REPO / "models"
    # Shipped byte for byte, as Megvii released it (models/yolox_nano.md), with its licence and NOTICE.
    assert hashlib.sha256(path.read_bytes()).hexdigest() == YOLOX_NANO_SHA256
    assert (REPO / "models" / "yolox_nano.LICENSE").read_text().lstrip().startswith("Apache License")
    assert "YOLOX" in (REPO / "models" / "NOTICE").read_text()
    # The fallback stays bundled, and every bundled detector's file is there.
    assert default_model_path(DEFAULT_MODEL_NAME).is_file()
    for name, spec in BUNDLED_DETECTORS.items():
        assert default_model_path(spec["model"]).is_file(), name


def test_env_override_for_models_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("EXAMAUDIT_MODELS", str(tmp_path))
    # Nothing in tmp_path: falls back to the bundled copy.
    assert default_model_path(DEFAULT_MODEL_NAME).parent == REPO / "models"
    (tmp_path / DEFAULT_MODEL_NAME).write_bytes((REPO / "models" / DEFAULT_MODEL_NAME).read_bytes())
    assert default_model_path(DEFAULT_MODEL_NAME) == tmp_path / DEFAULT_MODEL_NAME


def test_wheel_install_finds_the_models(tmp_path, monkeypatch):
    """A wheel puts models/ in <prefix>/share/examaudit/models (pyproject data-files); with no
    source checkout beside the package, the lookup must find them there."""
    import sys
    import tomllib

    from examaudit.video import detector as detector_module

    data_files = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    shipped = data_files["share/examaudit/models"]
    for name in ("yolox_nano.onnx", "yolox_nano.LICENSE", "NOTICE", DEFAULT_MODEL_NAME, "yolox_nano.md"):
        assert any(Path(name).match(pattern.split("/", 1)[1]) for pattern in shipped), name
    # An installed package: examaudit/ in site-packages, no models/ beside it.
    site = tmp_path / "site-packages" / "examaudit" / "video"
    site.mkdir(parents=True)
    monkeypatch.setattr(detector_module, "__file__", str(site / "detector.py"))
    prefix = tmp_path / "venv"
    (prefix / "share" / "examaudit" / "models").mkdir(parents=True)
    installed = prefix / "share" / "examaudit" / "models" / "yolox_nano.onnx"
    installed.write_bytes(b"onnx")
    monkeypatch.setattr(sys, "prefix", str(prefix))
    monkeypatch.delenv("EXAMAUDIT_MODELS", raising=False)
    assert detector_module.default_model_path() == installed
    assert detector_module.model_dirs()[0] == tmp_path / "site-packages" / "models"


@pytest.mark.slow
def test_built_wheel_carries_the_models(tmp_path):
    """Build the wheel for real (about 15 s) and look inside."""
    import subprocess
    import sys
    import zipfile

    import shutil

    build_dir = REPO / "build"
    had_build = build_dir.exists()
    try:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(tmp_path), str(REPO)], check=True, cwd=tmp_path)
    finally:
        if not had_build:  # setuptools builds in the source tree; leave it as we found it
            shutil.rmtree(build_dir, ignore_errors=True)
    (wheel,) = tmp_path.glob("examaudit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("yolox_nano.onnx", "yolox_nano.LICENSE", "yolox_nano.md", "NOTICE", DEFAULT_MODEL_NAME):
        assert any(n.endswith(f".data/data/share/examaudit/models/{name}") for n in names), name


def test_finds_person_in_astronaut_image(detector, astronaut_bgr):
    dets = detector.detect(astronaut_bgr)
    assert len(dets) >= 1
    assert set(dets.class_id.tolist()) == {1}
    best = dets.xyxy[int(np.argmax(dets.confidence))]
    # She fills the left/centre of the 512x512 picture, head to waist.
    x1, y1, x2, y2 = best
    assert 0 <= x1 < 150 and x2 > 300 and y1 < 100 and y2 > 400
    assert dets.confidence.max() > 0.5


def test_person_on_tile_seam_is_counted_once(detector, astronaut_bgr):
    # Put the astronaut in the middle of a wide frame, right across the seam
    # between the two tiles: the cut halves must not add extra people.
    canvas = np.full((512, 1400, 3), 128, np.uint8)
    canvas[:, 444:956] = astronaut_bgr
    dets = detector.detect(canvas)
    strong = dets.filter(dets.confidence > 0.3)
    assert len(strong) == 1
    x1, _, x2, _ = strong.xyxy[0]
    assert x1 < 600 and x2 > 750


def test_nothing_in_blank_or_noise(detector):
    assert len(detector.detect(np.zeros((720, 1280, 3), np.uint8))) == 0
    assert len(detector.detect(np.full((270, 480, 3), 200, np.uint8))) == 0
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    assert len(detector.detect(noise)) == 0


def test_flip_finds_the_same_person_in_place(astronaut_bgr):
    flipped = OnnxPersonDetector(flip=True).detect(astronaut_bgr)
    plain = OnnxPersonDetector(flip=False).detect(astronaut_bgr)
    assert len(flipped) >= 1 and len(plain) >= 1
    # Mirror boxes are mapped back, so the best box lands where the plain run puts it.
    best_f = flipped.xyxy[int(np.argmax(flipped.confidence))]
    best_p = plain.xyxy[int(np.argmax(plain.confidence))]
    assert box_iou([best_f], [best_p])[0, 0] > 0.7


def test_untiled_and_grayscale_inputs(astronaut_bgr):
    det = OnnxPersonDetector(tiles=0)
    assert det.tiles is None
    gray = astronaut_bgr.mean(axis=2).astype(np.uint8)
    assert len(det.detect(gray)) >= 1
    with pytest.raises(ValueError):
        det.detect(np.zeros((10, 10, 4), np.uint8))


def test_detector_pickles_after_use(detector, astronaut_bgr):
    first = detector.detect(astronaut_bgr)
    clone = pickle.loads(pickle.dumps(detector))
    assert clone._session is None  # rebuilt lazily in the new process
    again = clone.detect(astronaut_bgr)
    np.testing.assert_allclose(again.xyxy, first.xyxy, atol=1e-3)


def test_bad_model_path_raises_clear_error(tmp_path):
    missing = tmp_path / "nope.onnx"
    with pytest.raises(FileNotFoundError, match="nope.onnx"):
        OnnxPersonDetector(model_path=missing)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"this is not an onnx model")
    det = OnnxPersonDetector(model_path=garbage)  # session is lazy...
    with pytest.raises(ValueError, match="cannot load ONNX detector"):
        det.detect(np.zeros((64, 64, 3), np.uint8))  # ...so the error comes here


def test_load_detector_spec():
    det = load_detector(None)
    assert det.model_path == default_model_path()
    assert (det.layout, det.threshold, det.tiles, det.bgr, det.letterbox) == ("yolox", 0.3, None, True, "top_left")
    fallback = load_detector({"name": "ssdlite"})
    assert fallback.model_path.name == DEFAULT_MODEL_NAME and fallback.layout == "ssd_tf"
    assert (fallback.threshold, fallback.tiles) == (0.15, (2, 1))
    assert load_detector({"threshold": 0.4}).layout == "yolox"     # options without a model tune the default
    with pytest.raises(ValueError, match="unknown bundled detector"):
        load_detector({"name": "yolov9"})
    det = load_detector(
        {
            "model": DEFAULT_MODEL_NAME,  # bare name: found in the bundled models/
            "threshold": 0.5,
            "input_size": [300, 300],
            "person_class": 1,
            "layout": "ssd_tf",
            "tiles": [3, 1],
        }
    )
    assert det.threshold == 0.5 and det.tiles == (3, 1) and det.input_size == (300, 300)
    with pytest.raises(ValueError, match="unsupported detector layout"):
        load_detector({"layout": "yolov8"})
    with pytest.raises(ValueError, match="unknown detector option"):
        load_detector({"treshold": 0.5})
    with pytest.raises(ValueError, match="input_size"):
        load_detector({"input_size": [300]})
    wrong_size = load_detector({"name": "ssdlite", "input_size": [320, 320]})
    with pytest.raises(ValueError, match="300x300"):
        wrong_size.detect(np.zeros((64, 64, 3), np.uint8))


# ------------------------------------------------------------ real footage


def _labels() -> dict[str, dict[int, tuple[int, str]]]:
    out: dict[str, dict[int, tuple[int, str]]] = defaultdict(dict)
    with LABELS.open(newline="") as f:
        for row in csv.DictReader(f):
            out[row["clip"]][int(row["frame_index"])] = (int(row["persons"]), row["split"])
    return out


def test_labels_file_covers_every_clip():
    labels = _labels()
    assert set(labels) == set(MEASURED_MAE)
    for clip, frames in labels.items():
        splits = [split for _, split in frames.values()]
        assert set(splits) == {"tune", "holdout"}, clip
        assert 10 <= splits.count("tune") <= 25, clip
        assert splits.count("holdout") >= 10, clip


@pytest.mark.parametrize("name", ["yolox_nano", "ssdlite"])
def test_real_footage_counts(name):
    if not FOOTAGE.is_dir():
        pytest.skip(f"shared footage not present at {FOOTAGE} (CC BY 4.0 clips are kept outside the repo)")
    av = pytest.importorskip("av")
    detector = load_detector({"name": name})
    measured = MEASURED_MAE_DEFAULT if name == DEFAULT_DETECTOR else MEASURED_MAE
    for clip, wanted in sorted(_labels().items()):
        errors: dict[str, list[int]] = defaultdict(list)
        last = max(wanted)
        with av.open(str(FOOTAGE / clip)) as container:
            for i, frame in enumerate(container.decode(video=0)):
                if i in wanted:
                    persons, split = wanted[i]
                    n = len(detector.detect(frame.to_ndarray(format="bgr24")))
                    errors[split].append(abs(n - persons))
                if i >= last:
                    break
        assert sum(map(len, errors.values())) == len(wanted), f"{clip}: some labelled frames were not decoded"
        for split, errs in errors.items():
            mae = float(np.mean(errs))
            assert mae <= measured[clip][split] + MAE_MARGIN, f"{name} {clip} ({split}): person-count MAE {mae:.3f}"
            if name == DEFAULT_DETECTOR:
                assert mae <= DEFAULT_MAE_BAR, f"{name} {clip} ({split}): person-count MAE {mae:.3f}"


def test_tile_grid_follows_the_smallest_seat():
    # A 30-seat room at 1280x720: back-row seats 78 px tall need tiles at most 3 x 78 px tall.
    cols, rows = tile_grid_for((1280, 720), 78)
    th = 720 / (rows - (rows - 1) * 0.4)
    assert 78 >= th / 3 and (cols, rows) == (5, 5)
    tw = 1280 / (cols - (cols - 1) * 0.4)
    assert tw <= 2 * th
    # Big seats in a small picture keep the default grid; never more than `most` either way.
    assert tile_grid_for((640, 360), 144) == (2, 1)
    assert tile_grid_for((1920, 1080), 5) == (6, 6)
    assert tile_grid_for((640, 360), 0) == (2, 1)


def test_product_count_on_real_footage_is_no_worse_than_the_detector():
    """``persons`` in samples.csv (what the auditor reads) on the real clips, without a seat map.

    The headcount rules were made for seat-mapped rooms; applied to a room without one they
    once dropped every seated person (classroom: 1 of 4) and added ghosts where someone had
    stood (one-by-one: 1 in an empty room). The count must stay as good as the detector's.
    """
    if not FOOTAGE.is_dir():
        pytest.skip(f"shared footage not present at {FOOTAGE} (CC BY 4.0 clips are kept outside the repo)")
    av = pytest.importorskip("av")
    from examaudit.video.analyze import AnalyzeParams, analyze_recording

    labels = _labels()
    for clip in ("classroom.gif", "store-aisle-detection.gif", "worker-zone-detection.gif"):
        with av.open(str(FOOTAGE / clip)) as container:
            rate = float(container.streams.video[0].average_rate)
            index = {int(f.pts): i for i, f in enumerate(container.decode(video=0))}
        rows = analyze_recording(FOOTAGE / clip, params=AnalyzeParams(every_s=0.9 / rate)).rows
        by_frame = {index[int(r["pts"])]: r for r in rows if int(r["pts"]) in index}
        persons, dets = defaultdict(list), defaultdict(list)
        for i, (n, split) in labels[clip].items():
            persons[split].append(abs(by_frame[i]["persons"] - n))
            dets[split].append(abs(by_frame[i]["detections"] - n))
        for split in persons:
            mae, det_mae = float(np.mean(persons[split])), float(np.mean(dets[split]))
            assert mae <= det_mae + 1e-9, f"{clip} ({split}): persons MAE {mae:.3f} > detections {det_mae:.3f}"
            assert mae <= MEASURED_MAE_DEFAULT[clip][split] + MAE_MARGIN, f"{clip} ({split}): persons MAE {mae:.3f}"


def test_each_bundled_detector_has_its_tiling_rule():
    """YOLOX sees a 640x360 room's seats untiled but not a 1080p room's 117-px back row
    (models/yolox_nano.md); SSDLite always runs at least 2x1 tiles."""
    yolox, ssd = load_detector({"name": "yolox_nano"}), load_detector({"name": "ssdlite"})

    def grid(det, size, seat):
        return tile_grid_for(size, seat, min_share=det.tile_min_share, least=det.least_tiles)

    assert grid(yolox, (640, 360), 143) == (1, 1) and yolox.tiles is None
    assert grid(yolox, (1920, 1080), 117) == (3, 3)
    assert grid(ssd, (640, 360), 143) == (2, 1)
    assert grid(ssd, (1920, 1080), 117) == (5, 5)
    yolox.tiles = (1, 1)                # a 1x1 grid from the rule means the full frame only
    assert yolox.tiles is None
