"""Accuracy and speed of the person detector on the labelled shared footage.

Prints, per clip, the mean absolute error (MAE) of the person count against
``tests/data/footage_person_counts.csv`` and the detector's speed on one
thread: ms per 720p frame (frames resized to 1280x720), for the configured
(tiled) detector and for the untiled full-frame-only run, with their ratio.

Run from the repository root::

    .venv/bin/python benchmarks/bench_detector.py
    .venv/bin/python benchmarks/bench_detector.py --threshold 0.5 --tiles 2x1 --min-size 0

The footage lives in ``../shared/footage`` (CC BY 4.0, see ATTRIBUTION.md
there) and is never copied into the repository.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from examaudit.video.detector import OnnxPersonDetector  # noqa: E402

LABELS = REPO / "tests" / "data" / "footage_person_counts.csv"
FOOTAGE = REPO.parent / "shared" / "footage"


def load_labels(path: Path = LABELS) -> dict[str, dict[int, int]]:
    labels: dict[str, dict[int, int]] = defaultdict(dict)
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            labels[row["clip"]][int(row["frame_index"])] = int(row["persons"])
    return dict(labels)


def decode_frames(clip: Path, indices: set[int]) -> dict[int, np.ndarray]:
    """Decode only the wanted frames (0-based decode order, as PyAV yields them)."""
    import av

    out: dict[int, np.ndarray] = {}
    last = max(indices)
    with av.open(str(clip)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in indices:
                out[i] = frame.to_ndarray(format="bgr24")
            if i >= last:
                break
    missing = indices - set(out)
    if missing:
        raise SystemExit(f"{clip.name}: frames {sorted(missing)} not in the clip")
    return out


def parse_tiles(text: str):
    if text in ("0", "none", "off"):
        return 0
    cols, rows = text.lower().split("x")
    return (int(cols), int(rows))


def time_per_frame(det: OnnxPersonDetector, frames: list[np.ndarray], repeats: int) -> float:
    det.detect(frames[0])  # warm-up: session creation and first-run allocations
    t0 = time.perf_counter()
    n = 0
    for _ in range(repeats):
        for f in frames:
            det.detect(f)
            n += 1
    return (time.perf_counter() - t0) * 1000.0 / n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--footage", type=Path, default=FOOTAGE)
    p.add_argument("--threshold", type=float, default=None, help="default: the detector's default")
    p.add_argument("--tiles", type=parse_tiles, default=None, help="e.g. 2x1, 3x2, or 0 for none")
    p.add_argument("--min-size", type=float, default=None)
    p.add_argument("--nms-iou", type=float, default=None)
    p.add_argument("--repeats", type=int, default=3, help="timing passes over the 720p sample")
    p.add_argument("--verbose", action="store_true", help="print every labelled frame")
    args = p.parse_args(argv)
    if not args.footage.is_dir():
        print(f"footage folder {args.footage} is absent; nothing to measure", file=sys.stderr)
        return 2

    kwargs = {"threads": 1}
    if args.threshold is not None:
        kwargs["threshold"] = args.threshold
    if args.tiles is not None:
        kwargs["tiles"] = args.tiles
    if args.min_size is not None:
        kwargs["min_size"] = args.min_size
    if args.nms_iou is not None:
        kwargs["nms_iou"] = args.nms_iou
    det = OnnxPersonDetector(**kwargs)
    untiled = OnnxPersonDetector(**{**kwargs, "tiles": 0})
    print(f"detector: {det!r}, min_size={det.min_size}")

    import cv2

    labels = load_labels()
    sample_720p: list[np.ndarray] = []
    print(f"{'clip':34s} {'frames':>6s} {'MAE':>6s} {'MAE untiled':>11s} {'bias':>6s}")
    worst = 0.0
    for clip, wanted in sorted(labels.items()):
        frames = decode_frames(args.footage / clip, set(wanted))
        errs, errs_u, bias = [], [], []
        for idx in sorted(wanted):
            n = len(det.detect(frames[idx]))
            nu = len(untiled.detect(frames[idx]))
            errs.append(abs(n - wanted[idx]))
            errs_u.append(abs(nu - wanted[idx]))
            bias.append(n - wanted[idx])
            if args.verbose and (n != wanted[idx] or nu != wanted[idx]):
                print(f"    {clip} frame {idx}: label {wanted[idx]}, tiled {n}, untiled {nu}")
        mae = float(np.mean(errs))
        worst = max(worst, mae)
        print(f"{clip:34s} {len(errs):6d} {mae:6.3f} {float(np.mean(errs_u)):11.3f} {float(np.mean(bias)):+6.2f}")
        for idx in sorted(wanted)[:: max(1, len(wanted) // 4)][:4]:
            sample_720p.append(cv2.resize(frames[idx], (1280, 720), interpolation=cv2.INTER_LINEAR))

    ms = time_per_frame(det, sample_720p, args.repeats)
    ms_u = time_per_frame(untiled, sample_720p, args.repeats)
    print(f"worst per-clip MAE: {worst:.3f} (target <= 0.3)")
    print(
        f"speed, 1 thread, 1280x720: {ms:.1f} ms/frame with tiles={det.tiles} (target <= 40), "
        f"{ms_u:.1f} ms/frame untiled; tiled/untiled = {ms / ms_u:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
