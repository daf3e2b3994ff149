"""What the crash soaks share: seeded kill moments, a kill -9 loop, and "the same findings".

A soak kills a real process (``examaudit audit``, ``examaudit screen`` or ``examaudit serve``)
with SIGKILL at random moments and starts it again, until it finishes; then the findings must
equal an uninterrupted run's and every custody log's hash chain must verify.

The moments come from ``random.Random(seed)``: the seed is printed, and
``EXAMAUDIT_SOAK_SEED=N`` replays a run (``EXAMAUDIT_SOAK_KILLS=N`` changes the number of kills
of the slow soaks). The timing of the machine still varies, so a replay hits nearby moments,
not the same instructions.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from examaudit.custody import check_chain

#: Fields of findings.json left out of "the same findings", and why:
#: - ``run.started_at`` / ``run.finished_at``: wall-clock times of the run that wrote the file;
#: - ``run.stats.recordings``: how many recordings this run analysed and how many it reused from
#:   the killed runs (the point of resuming is that these differ);
#: - ``run.stats.seconds``: how long each records screen took (the records' findings.json);
#: - ``run.command``: the command line, which names the output folder (each soak writes its own);
#: - of the ``video_findings`` inputs (each recording's own findings.json, read by the records
#:   cross-check): the folder they lie in (the output folder; the part below it is compared) and
#:   their sha256 and size, since each holds its own run's times. Their findings are compared, as
#:   the merged findings.
#: Everything else is compared: the schema version, ``run.inputs`` (paths and sha256 of every
#: input), ``run.parameters``, and every finding by its stable id with all its fields (evidence
#: paths and their sha256, times, reasons, details).
IGNORED_RUN_FIELDS = ("started_at", "finished_at", "command")


def soak_seed() -> int:
    seed = int(os.environ.get("EXAMAUDIT_SOAK_SEED") or random.SystemRandom().randrange(1, 10**6))
    print(f"\ncrash soak seed {seed} (EXAMAUDIT_SOAK_SEED={seed} to replay)")
    return seed


def soak_kills(default: int) -> int:
    return int(os.environ.get("EXAMAUDIT_SOAK_KILLS") or default)


def comparable_document(path: Path) -> dict:
    """findings.json without the fields that legitimately differ (see IGNORED_RUN_FIELDS)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    run = {k: v for k, v in doc["run"].items() if k not in IGNORED_RUN_FIELDS}
    out = path.parent.as_posix()
    run["inputs"] = [{"role": i["role"], "path": i["path"].replace(out, "OUT")} if i["role"] == "video_findings"
                     else i for i in run.get("inputs", [])]
    run["stats"] = {k: v for k, v in run.get("stats", {}).items() if k not in ("recordings", "seconds")}
    return {"schema_version": doc["schema_version"], "run": run,
            "findings": {f["id"]: f for f in doc["findings"]}}


def differences(found: dict, reference: dict, where: str = "") -> list[str]:
    """Where two comparable documents differ, as readable lines (empty when equal)."""
    if isinstance(found, dict) and isinstance(reference, dict):
        out = []
        for k in sorted(set(found) | set(reference), key=str):
            if k not in found or k not in reference:
                out.append(f"{where}/{k}: only in the {'reference' if k in reference else 'killed run'}")
            else:
                out += differences(found[k], reference[k], f"{where}/{k}")
        return out
    if found != reference:
        return [f"{where}: {found!r:.300} != reference {reference!r:.300}"]
    return []


def broken_chains(root: Path) -> dict[str, list[str]]:
    """Every custody.jsonl under ``root`` whose hash chain does not verify, with its problems."""
    return {str(p.relative_to(root)): probs for p in sorted(root.rglob("custody.jsonl")) if (probs := check_chain(p))}


def stale_stages(root: Path) -> list[str]:
    """Staging folders and temporary files a killed run left behind that a later run did not clear."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.partial-*"))


@dataclass
class SoakLog:
    seed: int
    kills: int = 0
    starts: int = 0
    rounds: int = 0  # runs carried to their end (then started afresh while kills remain)
    moments: list[float] = field(default_factory=list)  # seconds after a start at which a kill landed
    seconds: float = 0.0

    def line(self, what: str) -> str:
        return (f"{what}: {self.kills} kill -9, {self.starts} starts, {self.rounds} round(s) finished, "
                f"{self.seconds:.0f} s, seed {self.seed}; kill moments (s after each start, or after it began its work) "
                + " ".join(f"{m:.1f}" for m in self.moments))


def kill_and_rerun(cmd: list[str], *, kills: int, span_s: float, rng: random.Random, log: SoakLog,
                   on_round: Callable[[int], None], fresh: Callable[[], None], env: dict | None = None,
                   begun: Callable[[], Callable[[], bool]] | None = None, timeout_s: float = 900) -> None:
    """Run ``cmd`` again and again, SIGKILLing it (its whole process group, worker processes
    included, as a crash of the machine would) at a moment drawn from U(0, span_s) after each
    start (when ``begun`` is given, after the test it makes at the start first holds, e.g. "past
    the imports"), until ``kills`` kills
    have landed. A run that finishes before its moment closes a round: ``on_round(exit_code)``
    checks it and ``fresh()`` empties the output for the next round. After the last kill, the
    run is carried to its end and checked the same way."""
    t0 = time.monotonic()
    while True:
        moment = rng.uniform(0, span_s) if log.kills < kills else None
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        log.starts += 1
        if moment is not None and _wait(proc, begun() if begun else None, moment, timeout_s):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            log.kills += 1
            log.moments.append(moment)
            continue
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        assert proc.returncode == 0, f"{cmd} exited {proc.returncode} (rerun it by hand to see why)"
        log.rounds += 1
        on_round(proc.returncode)
        if log.kills >= kills:
            log.seconds = time.monotonic() - t0
            return
        fresh()


def _wait(proc: subprocess.Popen, begun: Callable[[], bool] | None, moment: float, timeout_s: float) -> bool:
    """Whether ``proc`` is still running ``moment`` seconds after ``begun()`` first held."""
    end = time.monotonic() + timeout_s
    while begun is not None and not begun():
        if proc.poll() is not None or time.monotonic() > end:
            return proc.poll() is None
        time.sleep(0.02)
    try:
        proc.wait(moment)
    except subprocess.TimeoutExpired:
        return True
    return False


def timed_run(cmd: list[str], env: dict | None = None) -> float:
    """Run ``cmd`` uninterrupted; its wall time (the span kill moments are drawn from)."""
    t = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    return time.monotonic() - t


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "examaudit.cli", *args]
