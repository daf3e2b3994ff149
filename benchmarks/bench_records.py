"""Benchmark of records forensics on simulated data: detection and throughput.

Prints candidate-level AUC for planted cheaters (preknowledge, copying, proxy, inflated; rapid
guessers count as honest), exam-point recall and false alarms at FDR 10%, seconds and peak
memory. Seeds here are never used by the tests.

    .venv/bin/python benchmarks/bench_records.py                  # detection, 3 seeds, 40 exam points
    .venv/bin/python benchmarks/bench_records.py --scale          # 100,000 candidates x 100 items
    .venv/bin/python benchmarks/bench_records.py --scale --files  # ... also written to CSV and loaded
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from examaudit.records.pipeline import RecordsInputs, RecordsParameters, run_records
from examaudit.records.simulate import CHEATER_KINDS, simulate_tables, write_tables

SEEDS = (9001, 9002, 9003)


def evaluate(sim, res, fdr: float = 0.10) -> dict:
    c, truth = res.candidates, sim.truth
    kind = np.array([truth["candidates"].get(x, "") for x in c.candidate_id])
    y = np.isin(kind, CHEATER_KINDS)
    score = -np.log10(np.maximum(c.p_value, 1e-300))
    out = {"auc": roc_auc_score(y, score)}
    for k in (*CHEATER_KINDS, "rapid_guesser"):
        m = kind == k
        if m.any():
            honest = kind == ""
            out[f"auc_{k}"] = roc_auc_score(np.r_[np.ones(m.sum()), np.zeros(honest.sum())], np.r_[score[m], score[honest]])
    planted = set(truth["planted_exam_points"])
    flagged = set(res.exam_points.exam_point[res.exam_points.q_value <= fdr])
    out["recall"] = len(flagged & planted) / max(len(planted), 1)
    out["false_alarms"] = len(flagged - planted)
    out["missed"] = sorted(f"{e}:{truth['planted_exam_points'][e]}" for e in planted - flagged)
    return out


def detection(exam_points: int, combine: str) -> None:
    rows = []
    for seed in SEEDS:
        sim = simulate_tables(seed, exam_points, sessions_per_point=3, candidates_per_session=50, n_items=80)
        res = run_records(sim.tables, parameters=RecordsParameters(combine=combine))
        r = evaluate(sim, res)
        rows.append(r)
        per = " ".join(f"{k[4:]}={v:.3f}" for k, v in r.items() if k.startswith("auc_"))
        print(f"seed {seed}: AUC {r['auc']:.3f} ({per}); exam points recall {r['recall']:.2f}, "
              f"false alarms {r['false_alarms']}, missed {r['missed']}")
    print(f"mean AUC {np.mean([r['auc'] for r in rows]):.3f}; mean recall at FDR 10% {np.mean([r['recall'] for r in rows]):.2f}; "
          f"mean false alarms {np.mean([r['false_alarms'] for r in rows]):.1f}")


def scale(files: bool, no_trace: bool = False) -> None:
    import tracemalloc

    t0 = time.perf_counter()
    sim = simulate_tables(9100, 200, sessions_per_point=5, candidates_per_session=100, n_items=100)
    print(f"simulated {len(sim.tables.scores):,} candidates x {sim.truth['n_items']} items in {time.perf_counter() - t0:.1f} s")
    inputs = sim.tables
    tmp = None
    if files:
        tmp = tempfile.TemporaryDirectory()  # removed when the process ends
        t0 = time.perf_counter()
        paths = write_tables(sim.tables, tmp.name)
        print(f"wrote CSVs in {time.perf_counter() - t0:.1f} s ({Path(paths['responses']).stat().st_size / 1e6:.0f} MB of responses)")
        inputs = RecordsInputs(paths["roster"], paths["scores"], paths["responses"], paths["callbacks"], paths["certificates"])
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    res = run_records(inputs)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"run_records: {secs:.1f} s wall, {cpu:.1f} s CPU ({'from CSV files' if files else 'from tables in memory'}); stages {res.stats['seconds']}", flush=True)
    print(f"process max RSS {rss / 1024:.0f} MB (before run {rss0 / 1024:.0f} MB)", flush=True)
    r = evaluate(sim, res)
    print(f"AUC {r['auc']:.3f}; recall at FDR 10% {r['recall']:.2f}; false alarms {r['false_alarms']}; missed {r['missed']}", flush=True)
    # a second run under tracemalloc for the peak of what the pipeline itself allocates
    # (tracemalloc slows allocation-heavy code, so it is not timed)
    if no_trace:
        return
    tracemalloc.start()
    run_records(inputs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak traced memory of a run {peak / 2**20:.0f} MB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", action="store_true", help="100,000 x 100 throughput run")
    ap.add_argument("--files", action="store_true", help="with --scale: go through CSV files")
    ap.add_argument("--exam-points", type=int, default=40)
    ap.add_argument("--no-tracemalloc", action="store_true", help="skip the traced-memory rerun")
    ap.add_argument("--combine", default="hmp", choices=("hmp", "cauchy"))
    a = ap.parse_args()
    scale(a.files, a.no_tracemalloc) if a.scale else detection(a.exam_points, a.combine)
