"""Resumable upload through a real `examaudit serve`: MB/s, sha256, and the server's RSS growth.

Starts `examaudit serve --port 0` on a temporary data directory, creates an auditor and an exam
point, then uploads one generated file with the tuspy client in chunks. Halfway through, the
upload is dropped (the client is thrown away) and a new client resumes it from the server's
offset. While it runs, a thread samples the server's resident memory (VmRSS) every 50 ms.

Prints: size, MB/s of the upload (both halves, including the resume HEAD), MB/s of a local
sha256 of the same file (a naive baseline in the same run), the server's RSS before and its
peak during the upload with the growth, and whether the stored original's name (its sha256
computed by the server while the bytes arrived) equals the file's sha256.

The file is sparse (mostly holes) with a little random data, written under /tmp and deleted
after: figures are from generated data on this machine, which may be loaded.

    .venv/bin/python benchmarks/bench_upload.py                  # 256 MB
    .venv/bin/python benchmarks/bench_upload.py --size-mb 2048   # the issue's 2 GB check
    .venv/bin/python benchmarks/bench_upload.py --concurrent 20 --size-mb 200   # 20 uploads at once

With ``--concurrent N``, N different files of ``--size-mb`` each are uploaded at the same time,
one thread and one tus client each (no drop); it prints the aggregate MB/s against a local
sha256 of the same N files one after another, the RSS growth, and how many originals match.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from tusclient import client as tus

PASSWORD = "bench password 1"
YAML = """exam_point: EP-BENCH
name: 上传基准
city: 杭州市
sessions: [{id: S1, start: "2024-06-20 09:00", end: "2024-06-20 11:00"}]
rooms:
  - id: R1
    cameras: [{id: C1, footage: [footage/big.mp4]}]
"""


def make_file(path: Path, size: int) -> None:
    """A sparse file of ``size`` bytes with 1 MB of random bytes every 64 MB (not all zeros)."""
    with open(path, "wb") as fh:
        fh.truncate(size)
        for off in range(0, size, 64 * 1024 * 1024):
            fh.seek(off)
            fh.write(os.urandom(min(1024 * 1024, size - off)))


def sha256_of(path: Path) -> tuple[str, float]:
    h, t = hashlib.sha256(), time.perf_counter()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            h.update(chunk)
    return h.hexdigest(), time.perf_counter() - t


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssPeak:
    """Samples a process's VmRSS every 50 ms in a thread; ``peak`` after ``stop()``."""

    def __init__(self, pid: int) -> None:
        self.pid, self.base = pid, rss_kb(pid)
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def line(self) -> str:
        return (f"server RSS: {self.base / 1024:.0f} MB before, peak {self.peak / 1024:.0f} MB during, "
                f"growth {(self.peak - self.base) / 1024:.1f} MB")


def concurrent(url: str, h: dict, pid: int, tmp: Path, data: Path, n: int, size: int, chunk: int) -> int:
    """N uploads at once; aggregate MB/s against a local sha256 of the same bytes."""
    srcs = []
    for i in range(n):
        src = tmp / f"C{i:02d}.mp4"
        make_file(src, size)
        srcs.append(src)
    errors: list[BaseException] = []
    barrier = threading.Barrier(n + 1)

    def send(i: int, src: Path) -> None:
        try:
            meta = {"exam_point": "EP-BENCH", "role": "footage", "room": "R1", "camera": f"C{i:02d}",
                    "filename": src.name, "filetype": "video/mp4"}
            up = tus.TusClient(url + "/api/v1/uploads/", headers=h).uploader(
                file_path=str(src), chunk_size=chunk, metadata=meta)
            barrier.wait()
            up.upload()
        except BaseException as exc:  # noqa: BLE001 - counted below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i, src)) for i, src in enumerate(srcs)]
    for t in threads:
        t.start()
    rss = RssPeak(pid)
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    rss.stop()
    shas, sha_s = [], 0.0
    for src in srcs:
        sha, s = sha256_of(src)
        shas.append(sha)
        sha_s += s
    good = sum((data / "originals" / sha).is_file() for sha in shas)
    mb = n * size / 1024 / 1024
    print(f"files: {n} x {size / 2**20:.0f} MB generated (sparse + random blocks), chunks of {chunk / 2**20:.0f} MB; "
          f"machine may be loaded")
    print(f"upload: {n} at once, {elapsed:.1f} s = {mb / elapsed:.1f} MB/s aggregate "
          f"({mb / elapsed / n:.1f} MB/s each); {len(errors)} failed {errors[:1]}")
    print(f"baseline: local sha256 of the same {n} files one after another {mb / sha_s:.1f} MB/s "
          f"(the uploads are {sha_s / elapsed:.2f}x its speed)")
    print(rss.line())
    print(f"originals stored under the file's sha256: {good} of {n}")
    return 0 if good == n and not errors else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=int, default=256)
    ap.add_argument("--chunk-mb", type=int, default=8)
    ap.add_argument("--concurrent", type=int, default=0, help="N uploads at once instead of one dropped and resumed")
    args = ap.parse_args()
    size, chunk = args.size_mb * 1024 * 1024, args.chunk_mb * 1024 * 1024
    n = args.concurrent
    yaml = YAML if not n else YAML.replace(
        "    cameras: [{id: C1, footage: [footage/big.mp4]}]\n",
        "    cameras:\n" + "".join(f"      - {{id: C{i:02d}, footage: [footage/C{i:02d}.mp4]}}\n" for i in range(n)))

    with tempfile.TemporaryDirectory(prefix="bench-upload-", dir="/tmp") as tmp:
        tmp = Path(tmp)
        data = tmp / "data"
        src = tmp / "big.mp4"
        if not n:
            make_file(src, size)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        py = [sys.executable, "-m", "examaudit.cli"]
        subprocess.run(py + ["users", "add", "bench", "--role", "auditor", "--password-stdin", "--data", str(data)],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True, env=env)
        proc = subprocess.Popen(py + ["serve", "--data", str(data), "--port", "0", "--workers", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        try:
            url = proc.stdout.readline().split()[2].rstrip("/")
            for _ in range(100):
                try:
                    httpx.get(url + "/healthz", timeout=2)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            tok = httpx.post(url + "/api/v1/auth/token", data={"username": "bench", "password": PASSWORD}).json()
            h = {"Authorization": f"Bearer {tok['access_token']}"}
            r = httpx.post(url + "/api/v1/exam-points", headers=h, content=yaml.encode())
            r.raise_for_status()
            if n:
                return concurrent(url, h, proc.pid, tmp, data, n, size, chunk)

            rss = RssPeak(proc.pid)
            meta = {"exam_point": "EP-BENCH", "role": "footage", "room": "R1", "camera": "C1",
                    "filename": "big.mp4", "filetype": "video/mp4"}
            t0 = time.perf_counter()
            first = tus.TusClient(url + "/api/v1/uploads/", headers=h).uploader(
                file_path=str(src), chunk_size=chunk, metadata=meta)
            while first.offset < size // 2:
                first.upload_chunk()
            upload_url, half = first.url, first.offset
            del first  # the connection "drops": a new client resumes from the server's offset
            second = tus.TusClient(url + "/api/v1/uploads/", headers=h).uploader(
                file_path=str(src), chunk_size=chunk, metadata=meta, url=upload_url)
            resumed_at = second.offset
            second.upload()
            elapsed = time.perf_counter() - t0
            rss.stop()
            sha, sha_s = sha256_of(src)
            stored = (data / "originals" / sha).is_file()
            mb = size / 1024 / 1024
            print(f"file: {mb:.0f} MB generated (sparse + random blocks), chunks of {args.chunk_mb} MB; machine may be loaded")
            print(f"upload: {elapsed:.1f} s = {mb / elapsed:.1f} MB/s  (dropped at {half / 2**20:.0f} MB, "
                  f"resumed at {resumed_at / 2**20:.0f} MB)")
            print(f"baseline: local sha256 of the same file {mb / sha_s:.1f} MB/s "
                  f"(upload is {sha_s / elapsed * 1:.2f}x its speed)")
            print(rss.line())
            print(f"sha256 computed while the bytes arrived = file's sha256: {stored} ({sha[:16]}…)")
            return 0 if stored and resumed_at == half else 1
        finally:
            proc.terminate()
            proc.wait(15)


if __name__ == "__main__":
    sys.exit(main())
