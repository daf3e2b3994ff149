"""Benchmark of records forensics on simulated data: detection and throughput.

Two simulators, all figures from generated data:

* the realistic one (item-specific time intensity and discrimination, heavy-tailed times with
  breaks, omitted and not-reached items, speeded endings, 170-item forms scored 0-170 with a
  pass mark of 102, preknowledge on a leaked 20-40% of the items): candidate AUC, TPR at 1%
  and 5% FPR on held-out seeds, and each screen's false-positive rate at alpha 0.01 and 0.05
  on clean data (no misconduct planted), with the share of candidates each finding kind hits;
* the basic one the screens were first built on: candidate AUC per kind of cheat, exam-point
  recall and false alarms at FDR 10% (to show nothing regressed).

Rapid guessers count as honest. Seeds here are never used by the tests.

    .venv/bin/python benchmarks/bench_records.py                  # both, 3 seeds each
    .venv/bin/python benchmarks/bench_records.py --basic-only     # the basic simulator only
    .venv/bin/python benchmarks/bench_records.py --weak-leaks     # realistic, buyers who know less and gain less time
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
REALISTIC_SEEDS = (9201, 9202, 9203)
CLEAN_SEEDS = (9301, 9302, 9303)


def realistic(seed: int, misconduct: bool = True):
    """About 2,000 candidates at 250 small exam points, 170 items: the shape of a real licensure sitting."""
    return simulate_tables(seed, 250, sessions_per_point=1, candidates_per_session=8, n_items=170, realistic=True,
                           misconduct=misconduct, score_max=170, pass_mark=102)


def tpr_at(y: np.ndarray, score: np.ndarray, fpr: float) -> float:
    cut = np.quantile(score[~y], 1 - fpr)
    return float(np.mean(score[y] > cut))


def realistic_detection() -> None:
    print("== realistic simulator (generated data), held-out seeds", REALISTIC_SEEDS)
    rows = []
    for seed in REALISTIC_SEEDS:
        sim = realistic(seed)
        t0 = time.perf_counter()
        res = run_records(sim.tables)
        secs = time.perf_counter() - t0
        c, truth = res.candidates, sim.truth
        kind = np.array([truth["candidates"].get(x, "") for x in c.candidate_id])
        y = np.isin(kind, CHEATER_KINDS)
        keep = y | ~np.isin(kind, CHEATER_KINDS)
        score = -np.log10(np.maximum(c.p_value, 1e-300))
        pk = kind == "preknowledge"
        honest = ~y
        r = {"auc": roc_auc_score(y, score), "tpr1": tpr_at(y, score, 0.01), "tpr5": tpr_at(y, score, 0.05),
             "auc_pk": roc_auc_score(pk[pk | honest], score[pk | honest]),
             "tpr1_pk": tpr_at(pk[pk | honest], score[pk | honest], 0.01)}
        leaked = np.isin(sim.tables.responses.item_ids, truth["compromised_items"])
        found = {f.details["item_id"] for f in res.findings if f.kind.value == "item_compromise"}
        fm = np.isin(sim.tables.responses.item_ids, list(found))
        r["items"] = f"{(fm & leaked).sum()}/{leaked.sum()} leaked items found, {(fm & ~leaked).sum()} wrongly"
        rows.append(r)
        print(f"seed {seed}: {len(c.candidate_id):,} candidates ({y.sum()} cheats, {pk.sum()} with preknowledge), "
              f"AUC {r['auc']:.3f}, TPR at 1% FPR {r['tpr1']:.2f}, at 5% {r['tpr5']:.2f}; preknowledge only: "
              f"AUC {r['auc_pk']:.3f}, TPR at 1% {r['tpr1_pk']:.2f}; {r['items']}; {secs:.1f} s")
    print("mean: " + ", ".join(f"{k} {np.mean([r[k] for r in rows]):.3f}" for k in ("auc", "tpr1", "tpr5", "auc_pk", "tpr1_pk")))

    print("== realistic simulator, clean (nothing planted), seeds", CLEAN_SEEDS)
    fp: dict[str, list[np.ndarray]] = {}
    fired: dict[str, list[float]] = {}
    for seed in CLEAN_SEEDS:
        sim = realistic(seed, misconduct=False)
        res = run_records(sim.tables)
        c = res.candidates
        honest = ~np.isin(c.candidate_id, list(sim.truth["candidates"]))
        for k, p in c.screens.items():
            p = p[honest]
            if np.isfinite(p).any():
                fp.setdefault(k, []).append(p[np.isfinite(p)])
        fp.setdefault("fused", []).append(c.p_value[honest])
        n = len(c.candidate_id)
        kinds = [f.kind.value for f in res.findings if f.candidate_id]
        for k in set(kinds):
            fired.setdefault(k, []).append(len({f.candidate_id for f in res.findings if f.kind.value == k}) / n)
        fired.setdefault("item_compromise (items)", []).append(sum(f.kind.value == "item_compromise" for f in res.findings))
    print(f"{'screen':<16}{'FPR@0.01':>10}{'FPR@0.05':>10}{'n':>8}")
    for k, ps in fp.items():
        p = np.concatenate(ps)
        print(f"{k:<16}{(p < 0.01).mean():>10.4f}{(p < 0.05).mean():>10.4f}{len(p):>8}")
    print("share of candidates each finding kind hits on clean data: "
          + (", ".join(f"{k} {np.mean(v):.4f}" for k, v in sorted(fired.items())) or "none"))


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
    ap.add_argument("--basic-only", action="store_true", help="only the basic simulator's detection figures")
    ap.add_argument("--weak-leaks", action="store_true",
                    help="realistic simulator with weaker preknowledge: buyers know 30-80%% of the leak and gain 1.3-2.5x")
    a = ap.parse_args()
    if a.weak_leaks:
        import examaudit.records.simulate as simulate

        simulate._KNOW, simulate._SPEEDUP = (0.3, 0.8), (1.3, 2.5)
        realistic_detection()
        raise SystemExit(0)
    if a.scale:
        scale(a.files, a.no_tracemalloc)
    else:
        if not a.basic_only:
            realistic_detection()
        print("== basic simulator (generated data), seeds", SEEDS)
        detection(a.exam_points, a.combine)
