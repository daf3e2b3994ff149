"""Benchmark of the people check: seat occupancy, people findings and speed.

Accuracy runs on the scenario suite of chosen seeds. Seeds looked at while developing the check:
7, 14-16, 21-23, 31-36 (32-34 inspected); held out: 51-56, evaluated once, not inspected (41-46 were held out
until one lingering miss there was looked at); 101-104 compared YOLOX-Nano with SSDLite once (models/yolox_nano.md).
Speed runs on one long normal session, 1080p with 30 seats, sampled
every 2 s. Clips are cached under ``out/bench/`` and never committed.

Run::

    .venv/bin/python benchmarks/bench_people.py                       # seeds 11 12 13, 600 s long clip
    .venv/bin/python benchmarks/bench_people.py --seeds 21 22 --long-s 3600
    .venv/bin/python benchmarks/bench_people.py --skip-speed
    .venv/bin/python benchmarks/bench_people.py --skip-speed --no-reuse   # does reuse change results?
    .venv/bin/python benchmarks/bench_people.py --seeds 51 52 53 54 55 56 --skip-speed   # held out
    .venv/bin/python benchmarks/bench_people.py --detector yolox_nano ssdlite --long-s 3600   # compare detectors

Prints occupancy accuracy over seat-samples, event precision/recall/F1 per finding kind,
people findings on normal sessions, x real-time and the share of samples whose detections
were reused. With several ``--detector`` (a bundled name or a YAML, as for ``examaudit analyze
--detector``) every clip is analysed with each in turn, so on a loaded machine their speeds stay
comparable, and the summary is printed per detector.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from examaudit.commands.analyze import read_detector_spec  # noqa: E402
from examaudit.config import Camera  # noqa: E402
from examaudit.video.analyze import AnalyzeParams, CameraContext, analyze_recording  # noqa: E402
from examaudit.video.detector import DEFAULT_DETECTOR  # noqa: E402
from examaudit.video.people_rules import PeopleThresholds  # noqa: E402

PEOPLE_KINDS = ("absent_candidate", "candidate_left", "extra_person", "person_lingering", "invigilator_absent")
SCENARIOS = ["normal", "absent_candidate", "candidate_left", "extra_person", "person_lingering",
             "still_empty_room", "camera_covered", "frozen_video"]
BENCH = REPO / "out" / "bench"
#: Bumped when the generator draws people differently, so cached clips are not reused.
PEOPLE_VERSION = "v4"


def suite(seed: int, width: int, height: int, duration_s: float) -> list[Path]:
    from examaudit.scenarios.generate import generate_suite

    out = BENCH / f"people_{PEOPLE_VERSION}_suite_s{seed}_{width}x{height}_{int(duration_s)}s"
    clips = [out / f"{n}.mp4" for n in SCENARIOS]
    if not all(c.is_file() and Path(str(c) + ".truth.json").is_file() for c in clips):
        generate_suite(out, seed, width=width, height=height, duration_s=duration_s, scenarios=SCENARIOS,
                       include_real=False)
    return clips


def context_for(truth: dict) -> CameraContext:
    cam = Camera.model_validate(truth["camera"])
    return CameraContext(exam_point="SYN", room="R1", camera_id=cam.id, camera=cam)


def overlaps(a0: float, a1: float, b0: float, b1: float, slack: float) -> bool:
    return a0 <= b1 + slack and b0 <= a1 + slack


def evaluate(clip: Path, params: AnalyzeParams) -> dict:
    truth = json.loads(Path(str(clip) + ".truth.json").read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    res = analyze_recording(clip, context=context_for(truth), params=params)
    elapsed = time.perf_counter() - t0
    per_second = truth["per_second"]
    right = total = 0
    for row in res.rows:
        sec = per_second[min(int(round(row["t_s"])), len(per_second) - 1)]
        if not sec["trusted"]:
            continue
        for seat, occ in sec["seats"].items():
            total += 1
            right += int(bool(row.get(f"seat_{seat}")) == bool(occ))
    found = [f for f in res.findings if f.kind.value in PEOPLE_KINDS]
    events = [e for e in truth["events"] if e["kind"] in PEOPLE_KINDS]
    return {"clip": clip.name, "scenario": truth["scenario"], "right": right, "total": total, "found": found,
            "events": events, "elapsed_s": elapsed, "duration_s": truth["duration_s"],
            "stats": res.outputs.get("people_stats", {})}


def match(found, events, slack: float) -> tuple[int, int, int, list]:
    """Greedy one-to-one matching of findings to planted events of the same kind (time overlap, same seat)."""
    used = set()
    tp = 0
    misses = []
    for e in events:
        hit = None
        for k, f in enumerate(found):
            if k in used or f.kind.value != e["kind"]:
                continue
            seat = f.details.get("seat")
            if e.get("seat") and seat and seat != e["seat"]:
                continue
            if overlaps(f.start_s or 0, f.end_s or 0, e["start_s"], e["end_s"], slack):
                hit = k
                break
        if hit is None:
            misses.append(e)
        else:
            used.add(hit)
            tp += 1
    fp = [f for k, f in enumerate(found) if k not in used]
    return tp, len(fp), len(misses), fp + misses


def params_for(detector: str, every_s: float, reuse: bool = True) -> AnalyzeParams:
    params = AnalyzeParams(every_s=every_s,
                           people_thresholds=PeopleThresholds(detector=read_detector_spec(Path(detector))))
    if not reuse:
        # A negative margin no block change can stay under: the detector runs on every sample.
        params.people_thresholds.reuse_diff = -1e9
    return params


def accuracy(seeds: list[int], width: int, height: int, duration_s: float, every_s: float,
             reuse: bool = True, detectors: tuple[str, ...] = (DEFAULT_DETECTOR,)) -> None:
    params = {d: params_for(d, every_s, reuse) for d in detectors}
    right = dict.fromkeys(detectors, 0)
    total = dict.fromkeys(detectors, 0)
    counts = {d: defaultdict(lambda: [0, 0, 0]) for d in detectors}
    normal_false = dict.fromkeys(detectors, 0)
    normal_clips = dict.fromkeys(detectors, 0)
    reused = {d: [0, 0] for d in detectors}
    elapsed = dict.fromkeys(detectors, 0.0)
    for seed in seeds:
        for clip in suite(seed, width, height, duration_s):
            for d in detectors:
                r = evaluate(clip, params[d])
                elapsed[d] += r["elapsed_s"]
                right[d] += r["right"]
                total[d] += r["total"]
                for kind in PEOPLE_KINDS:
                    tp, fp, fn, odd = match([f for f in r["found"] if f.kind.value == kind],
                                            [e for e in r["events"] if e["kind"] == kind], slack=every_s * 2)
                    counts[d][kind][0] += tp
                    counts[d][kind][1] += fp
                    counts[d][kind][2] += fn
                    for o in odd:
                        what = "FP" if hasattr(o, "kind") else "FN"
                        desc = (f"{o.kind.value} {o.start_s}-{o.end_s} seat={o.details.get('seat')}" if what == "FP"
                                else f"{o['kind']} {o['start_s']}-{o['end_s']} seat={o.get('seat')}")
                        print(f"  [{d}] seed {seed} {r['scenario']}: {what} {desc}")
                if r["scenario"] in ("normal", "still_empty_room"):
                    normal_clips[d] += 1
                    normal_false[d] += len(r["found"])
                    reused[d][0] += r["stats"].get("reused", 0)
                    reused[d][1] += r["stats"].get("reused", 0) + r["stats"].get("detected", 0)
                acc = r["right"] / max(1, r["total"])
                print(f"[{d}] seed {seed} {r['scenario']:<18} occupancy {acc:.3f}  people findings "
                      f"{len(r['found'])}  {r['duration_s'] / r['elapsed_s']:.1f}x real-time", flush=True)
    for d in detectors:
        print(f"\n== detector {d} (seeds {' '.join(map(str, seeds))}, {width}x{height}, generated footage)")
        print(f"occupancy accuracy: {right[d]}/{total[d]} = {right[d] / max(1, total[d]):.4f}  (target >= 0.97)")
        f1s = []
        for kind in PEOPLE_KINDS:
            tp, fp, fn = counts[d][kind]
            p = tp / max(1, tp + fp)
            rc = tp / max(1, tp + fn)
            f1 = 2 * p * rc / max(1e-9, p + rc) if tp else (1.0 if fp == fn == 0 else 0.0)
            f1s.append(f1)
            print(f"{kind:<20} tp {tp:3d} fp {fp:3d} fn {fn:3d}  precision {p:.2f} recall {rc:.2f} F1 {f1:.2f}")
        tp, fp, fn = (sum(counts[d][k][i] for k in PEOPLE_KINDS) for i in range(3))
        print(f"all people findings  tp {tp:3d} fp {fp:3d} fn {fn:3d}  F1 {2 * tp / max(1, 2 * tp + fp + fn):.2f}")
        print(f"people findings on normal sessions: {normal_false[d]} over {normal_clips[d]} clips (target 0)")
        print(f"detections reused on normal sessions: {reused[d][0]}/{reused[d][1]} = "
              f"{reused[d][0] / max(1, reused[d][1]):.2f}")
        print(f"analysis time over the suite: {elapsed[d]:.1f} s")


def speed(seconds: float, every_s: float, detectors: tuple[str, ...] = (DEFAULT_DETECTOR,)) -> None:
    from examaudit.scenarios.generate import generate_long_clip

    path = BENCH / f"long_normal_{PEOPLE_VERSION}_{int(seconds)}s_1080p.mp4"
    if not path.is_file():
        t0 = time.perf_counter()
        generate_long_clip(path, seconds, width=1920, height=1080, fps=25, gop_s=2.0, seed=0)
        print(f"generated {path.name} in {time.perf_counter() - t0:.0f} s")
    truth = json.loads(Path(str(path) + ".truth.json").read_text(encoding="utf-8"))
    print(f"long session (generated): {seconds:.0f} s 1080p, {len(truth['camera']['seats'])} seats, "
          f"one sample every {every_s} s")
    for d in detectors:
        params = params_for(d, every_s)
        t0 = time.perf_counter()
        res = analyze_recording(path, context=context_for(truth), params=params)
        elapsed = time.perf_counter() - t0
        stats = res.outputs.get("people_stats", {})
        n = stats.get("detected", 0) + stats.get("reused", 0)
        people = [f for f in res.findings if f.kind.value in PEOPLE_KINDS]
        right = total = 0
        for row in res.rows:
            sec = truth["per_second"][min(int(round(row["t_s"])), len(truth["per_second"]) - 1)]
            for seat, occ in sec["seats"].items():
                total += 1
                right += int(bool(row.get(f"seat_{seat}")) == bool(occ))
        print(f"  [{d}] end to end {elapsed:.1f} s = {seconds / elapsed:.1f}x real-time (all default checks, "
              f"one process); detector {stats.get('detector')}")
        print(f"  [{d}] detections reused for {stats.get('reused', 0)}/{n} samples = "
              f"{stats.get('reused', 0) / max(1, n):.2f}")
        print(f"  [{d}] occupancy {right / max(1, total):.4f}; people findings on this normal session: {len(people)}"
              + "".join(f"\n    {f.kind.value} {f.start_s}-{f.end_s} {f.details.get('seat')}" for f in people),
              flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--every", type=float, default=2.0)
    ap.add_argument("--long-s", type=float, default=600.0)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--no-reuse", action="store_true", help="run the detector on every sample")
    ap.add_argument("--detector", nargs="+", default=[DEFAULT_DETECTOR], metavar="NAME|YAML",
                    help="detectors to compare, each a bundled name (yolox_nano, ssdlite) or a YAML")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    detectors = tuple(a.detector)
    if not a.skip_accuracy:
        accuracy(a.seeds, w, h, a.duration, a.every, reuse=not a.no_reuse, detectors=detectors)
    if not a.skip_speed:
        speed(a.long_s, a.every, detectors)


if __name__ == "__main__":
    main()
