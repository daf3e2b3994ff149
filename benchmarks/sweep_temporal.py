"""Choose the temporal counting parameters of ``bench_detector.py --temporal`` on the tune split only.

Runs the detector once on every decoded frame of every labelled clip, then, for each
sampling step ``--every`` and each counting method (per-frame, causal persistence, causal
persistence only while hidden, median/max window, gap fill), tries a grid of parameters
and keeps the one with the lowest worst per-clip MAE on ``tune`` (ties: lowest mean tune
MAE over clips, then the least machinery: smallest K, then weakest confirmation). Holdout
is never used to choose; the last column says how many settings tie on tune and how far
apart their worst-clip holdout MAEs are, i.e. how much the tune labels leave undecided.
``--ceiling`` adds the setting best on holdout, an upper bound that is not a result. Each
labelled frame is judged on the sampling grid that contains it, as in
``bench_detector.py --every``.

Run from the repository root (about a minute of detector time on 2 cores)::

    .venv/bin/python benchmarks/sweep_temporal.py --every 1 3 20 --ceiling
    .venv/bin/python benchmarks/sweep_temporal.py --every 1 3 --boxes /tmp/examaudit_boxes.pkl   # reuse detections
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_detector as bd  # noqa: E402
import temporal_count as tc  # noqa: E402

CLIPS_SHORT = {
    "classroom.gif": "classroom",
    "one-by-one-person-detection.mp4": "one-by-one",
    "store-aisle-detection.gif": "store-aisle",
    "worker-zone-detection.gif": "worker-zone",
}


def all_boxes(labels, footage: Path, cache: Path | None) -> dict[str, dict[int, np.ndarray]]:
    """Boxes of the default detector on every decoded frame of every labelled clip."""
    if cache is not None and cache.is_file():
        return pickle.loads(cache.read_bytes())
    det = bd.OnnxPersonDetector(threads=1)
    out = {}
    for clip in sorted(labels):
        out[clip], _, n, _, cpu = bd.detect_sampled_frames(det, footage / clip, 1, {0}, set())
        print(f"  detected {clip}: {n} frames, {cpu:.1f} s CPU", file=sys.stderr)
    if cache is not None:
        cache.write_bytes(pickle.dumps(out))
    return out


METHODS = ("per-frame", "causal", "causal-hidden", "median", "max", "fill")
_TRACKS: dict[tuple, list[np.ndarray]] = {}


def counts_at_labels(boxes: dict[int, np.ndarray], wanted, every: int, method: str, p: dict) -> dict[int, int]:
    counts = {}
    for phase in sorted({i % every for i in wanted}):
        grid = sorted(i for i in boxes if i % every == phase)
        seq = [boxes[i] for i in grid]
        if method == "per-frame":
            c = [len(b) for b in seq]
        else:
            m, n = p["confirm"]
            key = (id(boxes), every, phase, max(p["k"], n))
            if key not in _TRACKS:
                _TRACKS[key] = tc.follow(seq, max_gap=max(p["k"], n))
            ids = _TRACKS[key]
            if method in ("causal", "causal-hidden"):
                c = tc.causal_counts(seq, ids, m, n, p["k"], hidden_share=p.get("hidden"))
            elif method == "fill":
                c = tc.gap_filled_counts(ids, m, n, p["k"])
            else:
                c = tc.window_counts(ids, m, n, p["k"], statistic=method)
        counts.update((i, int(v)) for i, v in zip(grid, c))
    return counts


def maes(boxes_by_clip, labels, every, method, p) -> dict[str, dict[str, float]]:
    """``{clip: {split: MAE}}`` with ``all`` as a split."""
    out = {}
    for clip, wanted in labels.items():
        counts = counts_at_labels(boxes_by_clip[clip], wanted, every, method, p)
        errs = {"tune": [], "holdout": []}
        for i, (label, split) in wanted.items():
            errs[split].append(abs(counts[i] - label))
        out[clip] = {s: float(np.mean(e)) for s, e in errs.items()}
        out[clip]["all"] = float(np.mean(errs["tune"] + errs["holdout"]))
    return out


def grid(method: str):
    if method == "per-frame":
        yield {}
        return
    confirms = [(1, 1), (2, 2), (2, 3), (3, 3), (3, 5)]
    ks = range(0, 13)
    # 0.01: any overlap with a current box; larger: mostly covered by one.
    hiddens = [0.01, 0.1, 0.3, 0.5] if method == "causal-hidden" else [None]
    for confirm, k, hidden in itertools.product(confirms, ks, hiddens):
        yield {"confirm": confirm, "k": k, "hidden": hidden}


def simplicity(p: dict) -> tuple:
    """Ties on tune go to the least temporal machinery: smallest K, weakest confirmation, loosest hidden test."""
    return (p.get("k", 0), *p.get("confirm", (1, 1)), p.get("hidden") or 0.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--footage", type=Path, default=bd.FOOTAGE)
    ap.add_argument("--every", type=int, nargs="+", default=[1, 3])
    ap.add_argument("--boxes", type=Path, default=None, help="pickle of all-frame boxes to reuse or write")
    ap.add_argument("--top", type=int, default=0, help="also print the N best tune settings per method")
    ap.add_argument("--ceiling", action="store_true",
                    help="also print, per method, the setting best on holdout: an upper bound, not a result")
    args = ap.parse_args(argv)
    labels = bd.load_labels()
    boxes = all_boxes(labels, args.footage, args.boxes)
    clips = sorted(labels)
    header = "  ".join(f"{CLIPS_SHORT.get(c, c):>23s}" for c in clips)
    print(f"{'every':>5s} {'method':13s} {'chosen on tune':40s} {header}  {'tied on tune: n, worst-clip hold':>33s}")
    print(f"{'':5s} {'':13s} {'':40s} " + "  ".join(f"{'tune  hold   all':>23s}" for _ in clips))
    for every in args.every:
        for method in METHODS:
            scored = []
            for p in grid(method):
                r = maes(boxes, labels, every, method, p)
                tune = [r[c]["tune"] for c in clips]
                scored.append(((round(max(tune), 6), round(float(np.mean(tune)), 6), simplicity(p)), p, r))
            scored.sort(key=lambda s: s[0])
            # How much the tune split leaves open: settings exactly as good on tune, and their holdout spread.
            tied = [r for key, _, r in scored if key[:2] == scored[0][0][:2]]
            spread = [max(r[c]["holdout"] for c in clips) for r in tied]
            note = f"{len(tied):3d}, {min(spread):.3f}..{max(spread):.3f}"
            for rank, (key, p, r) in enumerate(scored[: max(1, args.top)]):
                tag = note if rank == 0 else f"#{rank + 1}"
                print(f"{every:5d} {method:13s} {describe(p):40s} {cells(r, clips)}  {tag:>33s}")
            if args.ceiling and method != "per-frame":
                _, p, r = min(scored, key=lambda s: (max(s[2][c]["holdout"] for c in clips), s[0]))
                print(f"{every:5d} {method:13s} {'ceiling ' + describe(p):40s} {cells(r, clips)}  {'(chosen on holdout)':>33s}")
    return 0


def cells(r: dict, clips: list[str]) -> str:
    return "  ".join(f"{r[c]['tune']:5.3f} {r[c]['holdout']:5.3f} {r[c]['all']:5.3f}" for c in clips)


def describe(p: dict) -> str:
    if not p:
        return "-"
    h = p.get("hidden")
    hs = "" if h is None else f" hidden>={h:g}"
    return f"K={p['k']} confirm={p['confirm'][0]}/{p['confirm'][1]}{hs}"


if __name__ == "__main__":
    raise SystemExit(main())
