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
    .venv/bin/python benchmarks/bench_detector.py --detector det.yaml  # a model you licence (see README)
    .venv/bin/python benchmarks/bench_detector.py --detector yolox_nano ssdlite   # both bundled, one run
    .venv/bin/python benchmarks/bench_detector.py --threshold 0.2 --flip --tile-threshold 0.3   # mirror pass
    .venv/bin/python benchmarks/bench_detector.py --temporal 3 --mode max --confirm 2/2   # over time, see below

With ``--temporal K`` the detector runs on every decoded frame (or every
``--every N``th) in order, its boxes are followed with the product's
``BoxTracker``, and the count at a labelled frame comes from the tracks
(``benchmarks/temporal_count.py``): ``--mode causal`` counts confirmed tracks
seen or lost for at most K sampled frames, ``median``/``max`` take that
statistic of the per-frame count of confirmed tracks over frames t-K..t+K, and
``fill`` bridges a track's gaps of at most K sampled frames.  With ``--every N``
each labelled frame is judged on the sampling grid that contains it (frames
congruent to it modulo N), so every label is used once and the persistence is in
frames of that sampling.  The table then shows the temporal MAE next to the
per-frame MAE of the same detections, and the detector time the clip cost.
``benchmarks/sweep_temporal.py`` chooses these parameters on ``tune``.

Speed is given as wall time and as the process's CPU time per frame: on a
shared 2-core machine the wall time grows with other people's load, the CPU
time of a one-thread run much less so. With several ``--detector`` (bundled
names or YAMLs) each gets its table, and their timing passes alternate so
that a loaded machine slows them alike.

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

from examaudit.commands.analyze import read_detector_spec  # noqa: E402
from examaudit.video.detector import DEFAULT_DETECTOR, OnnxPersonDetector, load_detector  # noqa: E402

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


def _split_cells(errs: dict[str, list[int]]) -> str:
    """Frames and MAE for tune, holdout and all: the six columns every table here starts with."""
    every = errs["tune"] + errs["holdout"]
    return (f"{len(errs['tune']):4d} {_mae(errs['tune']):>6s} {len(errs['holdout']):4d}"
            f" {_mae(errs['holdout']):>6s} {len(every):4d} {_mae(every):>6s}")


def _note_worst(worst: dict[str, float], errs: dict[str, list[int]]) -> None:
    """Raise ``worst[split]`` to this clip's MAE where it is higher (splits and "all")."""
    for split, v in (*errs.items(), ("all", errs["tune"] + errs["holdout"])):
        if v:
            worst[split] = max(worst[split], float(np.mean(v)))


def _timing_sample(wanted: dict[int, tuple[int, str]], frames: dict[int, np.ndarray]) -> list[np.ndarray]:
    """Up to 4 of the clip's frames at 1280x720 for the speed figure. They stay on tune frames,
    so speeds compare across label updates."""
    import cv2

    tune_idx = sorted(i for i in wanted if wanted[i][1] == "tune") or sorted(wanted)
    return [cv2.resize(frames[idx], (1280, 720), interpolation=cv2.INTER_LINEAR)
            for idx in tune_idx[:: max(1, len(tune_idx) // 4)][:4]]


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
    return time_alternating([det], frames, repeats)[0]


def time_alternating(dets: list[OnnxPersonDetector], frames: list[np.ndarray],
                     repeats: int) -> list[tuple[float, float]]:
    """Wall and process-CPU milliseconds per frame of each detector, their passes interleaved."""
    for det in dets:
        det.detect(frames[0])  # warm-up: session creation and first-run allocations
    wall = [0.0] * len(dets)
    cpu = [0.0] * len(dets)
    for _ in range(repeats):
        for k, det in enumerate(dets):
            t0, c0 = time.perf_counter(), time.process_time()
            for f in frames:
                det.detect(f)
            wall[k] += time.perf_counter() - t0
            cpu[k] += time.process_time() - c0
    n = repeats * len(frames)
    return [(w * 1000.0 / n, c * 1000.0 / n) for w, c in zip(wall, cpu)]


def parse_optional_float(text: str) -> float | None:
    return None if text.lower() in ("none", "off") else float(text)


def parse_m_of_n(text: str) -> tuple[int, int]:
    m, _, n = text.partition("/")
    m_, n_ = int(m), int(n or m)
    if not 1 <= m_ <= n_:
        raise argparse.ArgumentTypeError(f"expected M/N with 1 <= M <= N, got {text!r}")
    return m_, n_


def detect_sampled_frames(
    det: OnnxPersonDetector, clip: Path, every: int, phases: set[int], keep: set[int]
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray], int, float, float]:
    """Detect on every decoded frame ``i`` with ``i % every`` in ``phases``, in decode order.

    Returns the boxes per detected frame, the pictures of the ``keep`` frames, the number of
    decoded frames, and the wall and process-CPU seconds the detector took.
    """
    import av

    boxes: dict[int, np.ndarray] = {}
    kept: dict[int, np.ndarray] = {}
    wall = cpu = 0.0
    n = 0
    with av.open(str(clip)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            n = i + 1
            if i % every not in phases:
                continue
            image = frame.to_ndarray(format="bgr24")
            t0, c0 = time.perf_counter(), time.process_time()
            boxes[i] = det.detect(image).xyxy.astype(np.float64)
            wall, cpu = wall + time.perf_counter() - t0, cpu + time.process_time() - c0
            if i in keep:
                kept[i] = image
    missing = keep - set(kept)
    if missing:
        raise SystemExit(f"{clip.name}: frames {sorted(missing)} not in the clip")
    return boxes, kept, n, wall, cpu


def temporal_counts_of(boxes: list[np.ndarray], args: argparse.Namespace) -> np.ndarray:
    """Counts of the sampled frames ``boxes`` (in order) by ``--mode``."""
    import temporal_count as tc

    m, n = args.confirm
    k = args.temporal
    ids = tc.follow(boxes, max_gap=max(k, n, args.track_gap))
    if args.mode == "causal":
        return tc.causal_counts(boxes, ids, m, n, k, hidden_share=args.hidden_share)
    if args.mode == "fill":
        return tc.gap_filled_counts(ids, m, n, k)
    return tc.window_counts(ids, m, n, k, statistic=args.mode)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--footage", type=Path, default=FOOTAGE)
    p.add_argument("--detector", nargs="+", default=[DEFAULT_DETECTOR], metavar="NAME|YAML",
                   help="detector(s) to measure, as for `examaudit analyze --detector` (a bundled name or a YAML); "
                        "the options below override each")
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
    p.add_argument("--temporal", type=int, metavar="K", default=None,
                   help="count over time: detect every (Nth) frame, track, persistence/half-window K sampled frames")
    p.add_argument("--mode", choices=("causal", "median", "max", "fill"), default="causal",
                   help="with --temporal: causal persistence, median/max over t-K..t+K, or fill gaps <= K (offline)")
    p.add_argument("--confirm", type=parse_m_of_n, default=(1, 1), metavar="M/N",
                   help="with --temporal: a track counts once seen in M of N consecutive sampled frames")
    p.add_argument("--hidden-share", type=float, default=None, metavar="S",
                   help="causal mode: a lost track counts only while a current box covers >= S of its last box")
    p.add_argument("--track-gap", type=int, default=0, metavar="G",
                   help="with --temporal: the tracker keeps a lost track matchable for max(K, N, G) sampled frames")
    p.add_argument("--every", type=int, default=1, metavar="N", help="with --temporal: detect every Nth frame only")
    args = p.parse_args(argv)
    if args.temporal is not None and (args.temporal < 0 or args.every < 1):
        p.error("--temporal must be >= 0 and --every >= 1")
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
    dets, untileds = [], []
    for name in args.detector:
        spec = read_detector_spec(Path(name)) or {}
        dets.append(load_detector({**spec, **kwargs}))
        untileds.append(load_detector({**spec, **kwargs, "tiles": 0}))

    labels = load_labels()
    if args.temporal is not None:
        print(f"detector: {dets[0]!r}, min_size={dets[0].min_size}")
        return temporal_main(args, dets[0], labels)
    frames_of = {clip: decode_frames(args.footage / clip, set(wanted)) for clip, wanted in sorted(labels.items())}
    sample_720p: list[np.ndarray] = []
    for clip, wanted in sorted(labels.items()):
        sample_720p += _timing_sample(wanted, frames_of[clip])
    worsts = []
    for name, det, untiled in zip(args.detector, dets, untileds):
        print(f"\n== {name}: {det!r}, min_size={det.min_size}")
        print(
            f"{'clip':34s} {'tune':>4s} {'MAE':>6s} {'hold':>4s} {'MAE':>6s} {'all':>4s} {'MAE':>6s}"
            f" {'untiled':>7s} {'bias':>6s}"
        )
        worst = {split: 0.0 for split in (*SPLITS, "all")}
        for clip, wanted in sorted(labels.items()):
            frames = frames_of[clip]
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
            _note_worst(worst, errs)
            print(f"{clip:34s} {_split_cells(errs)} {_mae(errs_u):>7s} {float(np.mean(bias)):+6.2f}")
        print(
            f"worst per-clip MAE (target <= 0.3): tune {worst['tune']:.3f}, holdout {worst['holdout']:.3f}, "
            f"all {worst['all']:.3f}"
        )
        worsts.append(worst)

    timings = time_alternating([*dets, *untileds], sample_720p, args.repeats)
    print(f"\nspeed, 1 thread, 1280x720, {len(sample_720p)} frames x {args.repeats} passes, detectors alternating:")
    for k, (name, det) in enumerate(zip(args.detector, dets)):
        (ms, cpu), (ms_u, cpu_u) = timings[k], timings[len(dets) + k]
        print(
            f"  {name}: {ms:.1f} ms/frame (CPU {cpu:.1f}) with tiles={det.tiles}, flip={det.flip} "
            f"(target <= 40), {ms_u:.1f} ms/frame (CPU {cpu_u:.1f}) untiled; tiled/untiled = {ms / ms_u:.2f}x"
        )
    if len(dets) > 1:
        base = timings[1][0]
        print("  wall time relative to " + args.detector[1] + ": "
              + ", ".join(f"{name} {timings[k][0] / base:.2f}x" for k, name in enumerate(args.detector)))
    return 0


def temporal_main(
    args: argparse.Namespace,
    det: OnnxPersonDetector,
    labels: dict[str, dict[int, tuple[int, str]]],
) -> int:
    """The ``--temporal`` run: MAE of the tracked count next to the per-frame count of the same boxes."""
    print(
        f"temporal: mode={args.mode}, K={args.temporal}, confirm={args.confirm[0]}/{args.confirm[1]}, "
        f"hidden_share={args.hidden_share}, track_gap={args.track_gap}, every={args.every} frame(s)"
    )
    print(
        f"{'clip':34s} {'tune':>4s} {'MAE':>6s} {'hold':>4s} {'MAE':>6s} {'all':>4s} {'MAE':>6s}"
        f" {'| per-frame MAE tune':>19s} {'hold':>6s} {'all':>6s} {'bias':>6s} {'detected':>8s} {'det CPU s':>9s}"
    )
    sample_720p: list[np.ndarray] = []
    worst = {split: 0.0 for split in (*SPLITS, "all")}
    worst_pf = dict(worst)
    total_cpu = one_grid_cpu = track_s = 0.0
    total_detected = 0
    for clip, wanted in sorted(labels.items()):
        every = args.every
        phases = {i % every for i in wanted}
        boxes, kept, _, _, cpu = detect_sampled_frames(det, args.footage / clip, every, phases, set(wanted))
        total_cpu += cpu
        one_grid_cpu += cpu / len(phases)
        total_detected += len(boxes)
        counts: dict[int, int] = {}
        t0 = time.process_time()
        for phase in sorted(phases):
            grid = sorted(i for i in boxes if i % every == phase)
            for i, c in zip(grid, temporal_counts_of([boxes[i] for i in grid], args)):
                counts[i] = int(c)
        track_s += time.process_time() - t0
        errs: dict[str, list[int]] = {split: [] for split in SPLITS}
        errs_pf: dict[str, list[int]] = {split: [] for split in SPLITS}
        bias = []
        for idx in sorted(wanted):
            label, split = wanted[idx]
            n, n_pf = counts[idx], len(boxes[idx])
            errs[split].append(abs(n - label))
            errs_pf[split].append(abs(n_pf - label))
            bias.append(n - label)
            if args.verbose and (n != label or n_pf != label):
                print(f"    {clip} frame {idx} ({split}): label {label}, temporal {n}, per-frame {n_pf}")
        _note_worst(worst, errs)
        _note_worst(worst_pf, errs_pf)
        every_pf = errs_pf["tune"] + errs_pf["holdout"]
        print(
            f"{clip:34s} {_split_cells(errs)}"
            f" {_mae(errs_pf['tune']):>19s} {_mae(errs_pf['holdout']):>6s} {_mae(every_pf):>6s}"
            f" {float(np.mean(bias)):+6.2f} {len(boxes):8d} {cpu:9.1f}"
        )
        sample_720p += _timing_sample(wanted, kept)

    print(
        f"worst per-clip MAE (target <= 0.3): temporal tune {worst['tune']:.3f}, holdout {worst['holdout']:.3f}, "
        f"all {worst['all']:.3f}; per-frame tune {worst_pf['tune']:.3f}, holdout {worst_pf['holdout']:.3f}, "
        f"all {worst_pf['all']:.3f}"
    )
    sparse = (
        f"; this benchmark detects every sampling grid that holds a label, one run at 1 frame in "
        f"{args.every} detects 1/{args.every} of the frames, about {one_grid_cpu:.1f} s"
        if args.every > 1 else ""
    )
    print(
        f"cost: {total_detected} frames detected ({total_cpu:.1f} s detector CPU, "
        f"{1000 * total_cpu / max(total_detected, 1):.1f} ms/frame at the clips' own size){sparse}; "
        f"tracking and counting {1000 * track_s / max(total_detected, 1):.2f} ms/frame"
    )
    ms, cpu = time_per_frame(det, sample_720p, args.repeats)
    print(f"speed, 1 thread, 1280x720: {ms:.1f} ms/frame (CPU {cpu:.1f}) with tiles={det.tiles}, flip={det.flip}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
