"""The product's own person count (``persons`` in samples.csv) on the labelled shared footage.

``bench_detector.py`` measures the detector's boxes; this measures what an auditor reads:
:func:`examaudit.video.analyze.analyze_recording` with its default checks (integrity, OSD,
headcount) run on every frame of each clip, and the ``persons`` column held against the
hand counts in ``tests/data/footage_person_counts.csv``, per split (judge a change on
``tune``, confirm it on ``holdout``). The raw detector count of the same run
(``detections``) is printed beside it, so a rule that drops or adds people shows up as the
difference between the two.

The clips have no exam-point config, so no seat map: this is the count of people visible,
not the seated/standing split (the scenario suite, ``bench_people.py``, measures that).

Run from the repository root::

    .venv/bin/python benchmarks/bench_footage_count.py
    .venv/bin/python benchmarks/bench_footage_count.py --clips classroom.gif --verbose

The footage lives in ``../shared/footage`` (CC BY 4.0) and is never copied into the repository.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_detector import FOOTAGE, SPLITS, load_labels  # noqa: E402

from examaudit.commands.analyze import read_detector_spec  # noqa: E402
from examaudit.video.analyze import AnalyzeParams, analyze_recording  # noqa: E402
from examaudit.video.people_rules import PeopleThresholds  # noqa: E402


def frame_pts(clip: Path) -> tuple[list[int], float]:
    """Presentation timestamps of every frame in decode order (the labels' frame index), and the frame rate."""
    import av

    with av.open(str(clip)) as container:
        rate = container.streams.video[0].average_rate
        return [int(f.pts) for f in container.decode(video=0)], float(rate or 0)


def counts_by_frame(clip: Path, detector: dict | None = None) -> tuple[dict[int, tuple[int, int]], float, float]:
    """``{frame_index: (persons, detections)}`` from one analysis of every frame, its wall time
    and the clip's duration in seconds."""
    pts, rate = frame_pts(clip)
    index = {p: i for i, p in enumerate(pts)}
    # Just under one frame interval, so the sampler takes every frame.
    every = 0.9 / float(rate) if rate else 0.05
    t0 = time.perf_counter()
    params = AnalyzeParams(every_s=every, people_thresholds=PeopleThresholds(detector=detector))
    result = analyze_recording(clip, params=params)
    wall = time.perf_counter() - t0
    out: dict[int, tuple[int, int]] = {}
    for row in result.rows:
        i = index.get(int(row["pts"]))
        if i is not None and "persons" in row:
            out[i] = (int(row["persons"]), int(row["detections"]))
    return out, wall, len(pts) / rate if rate else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", nargs="*", help="only these clips (file names)")
    ap.add_argument("--verbose", action="store_true", help="list every frame whose count is wrong")
    ap.add_argument("--detector", type=Path, metavar="NAME|YAML",
                    help="another detector, as for `examaudit analyze --detector` (e.g. ssdlite, the fallback)")
    ap.add_argument("--footage", type=Path, default=FOOTAGE, help="folder of the labelled clips")
    args = ap.parse_args(argv)
    if not args.footage.is_dir():
        print(f"shared footage not found at {args.footage}")
        return 2
    labels = load_labels()
    print(f"{'clip':32s} {'tune':>4s} {'MAE':>6s} {'hold':>4s} {'MAE':>6s} {'dets hold':>9s} {'x real time':>11s}")
    worst: dict[str, float] = defaultdict(float)
    for clip, wanted in sorted(labels.items()):
        if args.clips and clip not in args.clips:
            continue
        counts, wall, duration = counts_by_frame(args.footage / clip, read_detector_spec(args.detector))
        errs: dict[str, list[int]] = {s: [] for s in SPLITS}
        det_errs: dict[str, list[int]] = {s: [] for s in SPLITS}
        for i, (persons, split) in sorted(wanted.items()):
            if i not in counts:
                raise SystemExit(f"{clip}: labelled frame {i} was not sampled")
            got, dets = counts[i]
            errs[split].append(abs(got - persons))
            det_errs[split].append(abs(dets - persons))
            if args.verbose and got != persons:
                print(f"    {clip} frame {i} ({split}): label {persons}, persons {got}, detections {dets}")
        mae = {s: float(np.mean(v)) for s, v in errs.items() if v}
        for s, v in mae.items():
            worst[s] = max(worst[s], v)
        print(f"{clip:32s} {len(errs['tune']):4d} {mae.get('tune', float('nan')):6.3f} {len(errs['holdout']):4d}"
              f" {mae.get('holdout', float('nan')):6.3f} {float(np.mean(det_errs['holdout'])):9.3f}"
              f" {duration / wall:10.2f}x")
    print(f"worst per-clip MAE of persons (target <= 0.3): tune {worst['tune']:.3f}, holdout {worst['holdout']:.3f}")
    print("(x real time here analyses every frame of a 10-17 fps clip; the product samples every few seconds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
