"""Footage integrity: accuracy on the scenario suite, throughput and memory on long 1080p footage.

Run from the repository root::

    .venv/bin/python benchmarks/bench_integrity.py --seeds 11 12          # accuracy
    .venv/bin/python benchmarks/bench_integrity.py --speed                # throughput + memory
    .venv/bin/python benchmarks/bench_integrity.py --seeds 11 --speed     # both

Accuracy: the generator's suite (``examaudit.scenarios.generate.generate_suite``) with seeds
nobody tuned on, each clip analysed with default settings (people off: they do not change
integrity findings). A finding matches a truth event of the same kind when their spans,
widened by two sampling intervals, overlap; boundary error is |start - start| and
|end - end|. Clips without planted integrity events must give no integrity finding; so must
the real clips in ../shared/footage re-encoded the way an NVR writes them.

Throughput: a 1080p, 25 fps, GOP 2 s clip from the generator (10 minutes rendered once,
then stream-copied end to end to one and two hours, cached under out/bench/). Timed: the
bitstream pass, ``examaudit analyze`` with and without people, and the naive baseline of
OpenCV reading every frame (first 2 minutes, extrapolated). Peak RSS of ``analyze`` on the
2-hour file is measured in a child process.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "out" / "bench"
sys.path.insert(0, str(REPO))

from examaudit.findings import FindingKind  # noqa: E402

INTEGRITY_KINDS = {
    k.value for k in (
        FindingKind.footage_gap, FindingKind.timestamp_jump, FindingKind.timestamp_backwards,
        FindingKind.timestamp_frozen, FindingKind.timestamp_drift, FindingKind.frame_rate_change,
        FindingKind.frozen_video, FindingKind.looped_segment, FindingKind.splice, FindingKind.camera_covered,
        FindingKind.camera_defocused, FindingKind.camera_moved, FindingKind.video_black,
        FindingKind.video_overexposed, FindingKind.video_unreadable)
}


# ----------------------------------------------------------------------------- accuracy

def match(findings: list[dict], events: list[dict], tol: float) -> tuple[list, list, list]:
    """Greedy one-to-one matching by kind and overlap (spans widened by ``tol``)."""
    used = set()
    pairs, lost = [], []
    for e in events:
        best = None
        for j, f in enumerate(findings):
            if j in used or f["kind"] != e["kind"]:
                continue
            if f["start_s"] - tol <= e["end_s"] and e["start_s"] <= f["end_s"] + tol:
                err = abs(f["start_s"] - e["start_s"]) + abs(f["end_s"] - e["end_s"])
                if best is None or err < best[0]:
                    best = (err, j)
        if best is None:
            lost.append(e)
        else:
            used.add(best[1])
            pairs.append((e, findings[best[1]]))
    extra = [f for j, f in enumerate(findings) if j not in used]
    return pairs, lost, extra


def nvr_reencode(src: Path, dst: Path, fps: float, gop_s: float) -> Path:
    """Decode a real clip and write it as an NVR would: H.264, fixed GOP, fixed rate."""
    import av

    from examaudit.scenarios.clip import ClipWriter

    if dst.exists():
        return dst
    with av.open(str(src)) as c:
        frames = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
        rate = float(c.streams.video[0].average_rate or fps)
    h, w = frames[0].shape[:2]
    h, w = h - h % 2, w - w % 2
    n_out = int(len(frames) / rate * fps)
    with ClipWriter(dst, w, h, fps=fps, gop_s=gop_s) as wr:
        for i in range(max(n_out, 1)):
            wr.write(frames[min(len(frames) - 1, int(i / fps * rate))][:h, :w], i / fps)
    return dst


def accuracy(seeds: list[int], duration_s: float, every_s: float) -> dict:
    from examaudit.scenarios.generate import generate_suite
    from examaudit.video.analyze import AnalyzeParams, analyze_recording

    tol = 2 * every_s
    per_kind: dict[str, dict] = {}
    clean_fp: list[str] = []
    starts, ends = [], []
    params = AnalyzeParams(every_s=every_s, people=False)
    clips = []
    for seed in seeds:
        d = OUT / f"integrity_suite_s{seed}"
        if not (d / "suite.json").exists():
            generate_suite(d, seed, duration_s=duration_s, include_real=False)
        clips += sorted(d.glob("*.mp4"))
    footage = REPO.parent / "shared" / "footage"
    real = []
    if footage.is_dir():
        rd = OUT / "integrity_real"
        rd.mkdir(parents=True, exist_ok=True)
        for src in sorted(footage.iterdir()):
            if src.suffix.lower() in (".mp4", ".gif"):
                for fps, gop in ((10, 1.0), (25, 2.0)):
                    real.append(nvr_reencode(src, rd / f"{src.stem}_{fps}fps_gop{gop:g}.mp4", fps, gop))
    t0 = time.perf_counter()
    for clip in clips + real:
        truth_file = clip.with_name(clip.name + ".truth.json")
        events = []
        if truth_file.exists():
            events = [e for e in json.loads(truth_file.read_text(encoding="utf-8"))["events"]
                      if e["kind"] in INTEGRITY_KINDS]
        res = analyze_recording(clip, params=params)
        found = [{"kind": f.kind.value, "start_s": f.start_s or 0.0, "end_s": f.end_s or 0.0}
                 for f in res.findings if f.kind.value in INTEGRITY_KINDS]
        pairs, lost, extra = match(found, events, tol)
        for e, f in pairs:
            k = per_kind.setdefault(e["kind"], {"events": 0, "found": 0, "findings": 0})
            k["found"] += 1
            starts.append(abs(f["start_s"] - e["start_s"]))
            ends.append(abs(f["end_s"] - e["end_s"]))
        for e in events:
            per_kind.setdefault(e["kind"], {"events": 0, "found": 0, "findings": 0})["events"] += 1
        for f in found:
            per_kind.setdefault(f["kind"], {"events": 0, "found": 0, "findings": 0})["findings"] += 1
        tag = clip.parent.name + "/" + clip.name
        if not events and found:
            clean_fp.append(f"{tag}: {[f['kind'] for f in found]}")
        status = "ok" if not lost and not extra else f"missed {[e['kind'] for e in lost]} extra {[(f['kind'], f['start_s']) for f in extra]}"
        print(f"  {tag:55s} events {len(events)} findings {len(found)}  {status}", flush=True)
    tp = sum(k["found"] for k in per_kind.values())
    n_ev = sum(k["events"] for k in per_kind.values())
    n_f = sum(k["findings"] for k in per_kind.values())
    out = {
        "clips": len(clips), "real_clips": len(real), "seeds": seeds, "every_s": every_s,
        "precision": round(tp / n_f, 3) if n_f else 1.0, "recall": round(tp / n_ev, 3) if n_ev else 1.0,
        "boundary_start_median_s": round(float(np.median(starts)), 2) if starts else None,
        "boundary_start_max_s": round(float(np.max(starts)), 2) if starts else None,
        "boundary_end_max_s": round(float(np.max(ends)), 2) if ends else None,
        "tolerance_s": tol, "clean_clip_false_findings": clean_fp, "per_kind": per_kind,
        "analysis_s": round(time.perf_counter() - t0, 1),
    }
    print("\nkind                  events found findings recall precision")
    for kind, k in sorted(per_kind.items()):
        r = k["found"] / k["events"] if k["events"] else float("nan")
        p = k["found"] / k["findings"] if k["findings"] else float("nan")
        print(f"{kind:22s}{k['events']:6d}{k['found']:6d}{k['findings']:9d}{r:8.2f}{p:10.2f}")
    print(f"\nevent-level precision {out['precision']}, recall {out['recall']}; boundary error max start "
          f"{out['boundary_start_max_s']} s, max end {out['boundary_end_max_s']} s (tolerance {tol} s); "
          f"false findings on clean clips: {len(clean_fp)}")
    return out


# ----------------------------------------------------------------------------- speed

def concat_copies(src: Path, dst: Path, copies: int) -> Path:
    """Stream-copy ``src`` end to end ``copies`` times (no re-encoding), with continuous PTS."""
    import av

    if dst.exists():
        return dst
    tmp = dst.with_suffix(".part.mp4")
    with av.open(str(src)) as probe:
        vs = probe.streams.video[0]
        step = None
        last = 0
        for p in probe.demux(vs):
            if p.pts is not None:
                last = max(last, p.pts)
        step = last + int(round(1 / (float(vs.average_rate) * float(vs.time_base))))
    with av.open(str(tmp), "w") as out:
        with av.open(str(src)) as inp:
            ov = out.add_stream_from_template(inp.streams.video[0])
        for k in range(copies):
            with av.open(str(src)) as inp:
                iv = inp.streams.video[0]
                for p in inp.demux(iv):
                    if p.size == 0 or p.pts is None:
                        continue
                    p.pts += k * step
                    p.dts = (p.dts if p.dts is not None else p.pts - k * step) + k * step
                    p.stream = ov
                    out.mux(p)
    tmp.rename(dst)
    return dst


def long_clips() -> tuple[Path, Path]:
    from examaudit.scenarios.generate import generate_long_clip

    OUT.mkdir(parents=True, exist_ok=True)
    seg = OUT / "integrity_seg_600s_1080p.mp4"
    if not seg.exists():
        print("rendering a 10-minute 1080p segment (once; cached)...", flush=True)
        generate_long_clip(seg, 600, seed=0)
    return concat_copies(seg, OUT / "integrity_1h_1080p.mp4", 6), concat_copies(seg, OUT / "integrity_2h_1080p.mp4", 12)


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r


def opencv_baseline(path: Path, seconds: float) -> float:
    """Seconds OpenCV needs to read (decode) every frame of the first ``seconds``."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    t = time.perf_counter()
    for _ in range(int(seconds * fps)):
        if not cap.read()[0]:
            break
    cap.release()
    return time.perf_counter() - t


def cli_run(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KB) of ``examaudit`` in a child process."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "examaudit.cli", *args], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def speed(people: bool) -> dict:
    from examaudit.video.bitstream import read_packets

    one, two = long_clips()
    dur = 3600.0
    bt, tl = timed(lambda: read_packets(one))
    base_s = 120.0
    cv = opencv_baseline(one, base_s)
    cv_full = cv * dur / base_s
    res = {"clip": str(one.relative_to(REPO)), "duration_s": dur, "packets": len(tl),
           "bitstream_s": round(bt, 2), "bitstream_x_realtime": round(dur / bt),
           "opencv_every_frame_s_extrapolated": round(cv_full, 1), "opencv_x_realtime": round(dur / cv_full, 1)}
    wall, _ = cli_run(["analyze", str(one), "--out", str(OUT / "integrity_run_nopeople"), "--no-people"])
    res.update(analyze_no_people_s=round(wall, 1), analyze_no_people_x_realtime=round(dur / wall, 1),
               analyze_no_people_vs_opencv=round(cv_full / wall, 1))
    if people:
        wall, _ = cli_run(["analyze", str(one), "--out", str(OUT / "integrity_run_people")])
        res.update(analyze_people_s=round(wall, 1), analyze_people_x_realtime=round(dur / wall, 1),
                   analyze_people_vs_opencv=round(cv_full / wall, 1))
    # Peak RSS: a fresh child, so the maximum is this run's alone.
    code = ("import resource,subprocess,sys;"
            f"subprocess.run([sys.executable,'-m','examaudit.cli','analyze',{str(two)!r},'--out',"
            f"{str(OUT / 'integrity_run_2h')!r}] + sys.argv[1:],check=True,"
            "stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    extra = [] if people else ["--no-people"]
    t = time.perf_counter()
    rss = int(subprocess.run([sys.executable, "-c", code, *extra], check=True, cwd=REPO, capture_output=True,
                             text=True).stdout.strip())
    res.update(two_hour_clip=str(two.relative_to(REPO)), two_hour_analyze_s=round(time.perf_counter() - t, 1),
               two_hour_peak_rss_mb=round(rss / 1024), two_hour_people=people)
    print(f"\nbitstream pass: {res['bitstream_x_realtime']}x real time ({bt:.2f} s for 1 h, {len(tl)} packets)")
    print(f"OpenCV every frame: {res['opencv_x_realtime']}x real time (extrapolated from {base_s:.0f} s)")
    print(f"analyze --no-people: {res['analyze_no_people_x_realtime']}x real time, "
          f"{res['analyze_no_people_vs_opencv']}x faster than the OpenCV baseline")
    if people:
        print(f"analyze (people on): {res['analyze_people_x_realtime']}x real time, "
              f"{res['analyze_people_vs_opencv']}x faster than the OpenCV baseline")
    print(f"2 h 1080p analyze{' --no-people' if not people else ''}: peak RSS {res['two_hour_peak_rss_mb']} MB")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[], help="suite seeds for the accuracy part")
    ap.add_argument("--duration", type=float, default=300.0, help="suite clip length in seconds (default 300)")
    ap.add_argument("--every", type=float, default=5.0)
    ap.add_argument("--speed", action="store_true", help="throughput and memory on long 1080p footage")
    ap.add_argument("--no-people", action="store_true", help="skip the people-on throughput run")
    ap.add_argument("--json", type=Path, help="write the figures here")
    a = ap.parse_args()
    report = {}
    if a.seeds:
        report["accuracy"] = accuracy(a.seeds, a.duration, a.every)
    if a.speed:
        report["speed"] = speed(people=not a.no_people)
    if a.json:
        a.json.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
