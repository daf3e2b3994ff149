"""Accuracy and speed of the person detector on the labelled shared footage.

Prints, per clip, the mean absolute error (MAE) of the person count against
``tests/data/footage_person_counts.csv``, separately for the ``tune`` frames
(the ones the defaults were chosen on), the ``holdout`` frames (labelled
later and never used to choose anything) and all of them, and the
detector's speed on one thread: ms per 720p frame (frames resized to
1280x720), for the configured (tiled) detector and for the untiled
full-frame-only run, with their ratio.  Judge a change on ``tune`` and
confirm it on ``holdout``: a gain that shows only on ``tune`` is overfitting.

Run from the repository root::

    .venv/bin/python benchmarks/bench_detector.py
    .venv/bin/python benchmarks/bench_detector.py --threshold 0.5 --tiles 2x1 --min-size 0
    .venv/bin/python benchmarks/bench_detector.py --threshold 0.2      # the defaults before 0.15
    .venv/bin/python benchmarks/bench_detector.py --threshold 0.2 --flip --tile-threshold 0.3   # mirror pass

Speed is given as wall time and as the process's CPU time per frame: on a
shared 2-core machine the wall time grows with other people's load, the CPU
time of a one-thread run much less so.

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


SPLITS = ("tune", "holdout")


def load_labels(path: Path = LABELS) -> dict[str, dict[int, tuple[int, str]]]:
    """``{clip: {frame_index: (persons, split)}}``; rows without a split count as ``tune``."""
    labels: dict[str, dict[int, tuple[int, str]]] = defaultdict(dict)
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            split = (row.get("split") or "tune").strip()
            if split not in SPLITS:
                raise SystemExit(f"{path.name}: unknown split {split!r} (expected one of {SPLITS})")
            labels[row["clip"]][int(row["frame_index"])] = (int(row["persons"]), split)
    return dict(labels)


def _mae(errors: list[int]) -> str:
    return f"{float(np.mean(errors)):.3f}" if errors else "-"


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


def time_per_frame(det: OnnxPersonDetector, frames: list[np.ndarray], repeats: int) -> tuple[float, float]:
    """Wall and process-CPU milliseconds per frame."""
    det.detect(frames[0])  # warm-up: session creation and first-run allocations
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    for _ in range(repeats):
        for f in frames:
            det.detect(f)
            n += 1
    return (time.perf_counter() - t0) * 1000.0 / n, (time.process_time() - c0) * 1000.0 / n


def parse_optional_float(text: str) -> float | None:
    return None if text.lower() in ("none", "off") else float(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--footage", type=Path, default=FOOTAGE)
    p.add_argument("--threshold", type=float, default=None, help="default: the detector's default")
    p.add_argument("--tiles", type=parse_tiles, default=None, help="e.g. 2x1, 3x2, or 0 for none")
    p.add_argument("--min-size", type=float, default=None)
    p.add_argument("--nms-iou", type=float, default=None)
    p.add_argument("--tile-threshold", type=parse_optional_float, default=argparse.SUPPRESS,
                   help="score bar of tile boxes; 'none' = the same as --threshold")
    p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                   help="mirror-image pass over the full frame (default: the detector's default)")
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
    if hasattr(args, "tile_threshold"):
        kwargs["tile_threshold"] = args.tile_threshold
    if args.flip is not None:
        kwargs["flip"] = args.flip
    det = OnnxPersonDetector(**kwargs)
    untiled = OnnxPersonDetector(**{**kwargs, "tiles": 0})
    print(f"detector: {det!r}, min_size={det.min_size}")

    import cv2

    labels = load_labels()
    sample_720p: list[np.ndarray] = []
    print(
        f"{'clip':34s} {'tune':>4s} {'MAE':>6s} {'hold':>4s} {'MAE':>6s} {'all':>4s} {'MAE':>6s}"
        f" {'untiled':>7s} {'bias':>6s}"
    )
    worst = {split: 0.0 for split in (*SPLITS, "all")}
    for clip, wanted in sorted(labels.items()):
        frames = decode_frames(args.footage / clip, set(wanted))
        errs: dict[str, list[int]] = {split: [] for split in SPLITS}
        errs_u, bias = [], []
        for idx in sorted(wanted):
            label, split = wanted[idx]
            n = len(det.detect(frames[idx]))
            nu = len(untiled.detect(frames[idx]))
            errs[split].append(abs(n - label))
            errs_u.append(abs(nu - label))
            bias.append(n - label)
            if args.verbose and (n != label or nu != label):
                print(f"    {clip} frame {idx} ({split}): label {label}, tiled {n}, untiled {nu}")
        every = errs["tune"] + errs["holdout"]
        for split, e in (*errs.items(), ("all", every)):
            if e:
                worst[split] = max(worst[split], float(np.mean(e)))
        print(
            f"{clip:34s} {len(errs['tune']):4d} {_mae(errs['tune']):>6s} {len(errs['holdout']):4d}"
            f" {_mae(errs['holdout']):>6s} {len(every):4d} {_mae(every):>6s} {_mae(errs_u):>7s}"
            f" {float(np.mean(bias)):+6.2f}"
        )
        # The timing sample stays on tune frames so speeds compare across label updates.
        tune_idx = sorted(i for i in wanted if wanted[i][1] == "tune") or sorted(wanted)
        for idx in tune_idx[:: max(1, len(tune_idx) // 4)][:4]:
            sample_720p.append(cv2.resize(frames[idx], (1280, 720), interpolation=cv2.INTER_LINEAR))

    ms, cpu = time_per_frame(det, sample_720p, args.repeats)
    ms_u, cpu_u = time_per_frame(untiled, sample_720p, args.repeats)
    print(
        f"worst per-clip MAE (target <= 0.3): tune {worst['tune']:.3f}, holdout {worst['holdout']:.3f}, "
        f"all {worst['all']:.3f}"
    )
    print(
        f"speed, 1 thread, 1280x720: {ms:.1f} ms/frame (CPU {cpu:.1f}) with tiles={det.tiles}, flip={det.flip} "
        f"(target <= 40), {ms_u:.1f} ms/frame (CPU {cpu_u:.1f}) untiled; tiled/untiled = {ms / ms_u:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
