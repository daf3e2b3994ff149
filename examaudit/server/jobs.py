"""The persistent job queue: huey with its SQLite storage (``DATA/queue.db``).

The ``jobs`` table is the truth about a job; huey only carries "run job N" messages. huey
removes a message when a worker takes it, so a ``kill -9`` mid-job would lose it: on every
start :meth:`JobQueue.start` re-sends every job the table still calls queued or running. A
rerun is cheap because ``run_audit`` reuses each finished recording (its ``done.json``).

Workers are threads inside the ``serve`` process, so killing the server stops them too, and
an audit that is running when the process dies simply runs again on the next start.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from huey import SqliteHuey
from huey.consumer import Consumer

log = logging.getLogger("examaudit.server.jobs")


class _InProcessConsumer(Consumer):
    """huey's consumer without its signal handlers: uvicorn owns SIGINT/SIGTERM here."""

    def _set_signal_handlers(self):
        pass


class JobQueue:
    """One huey instance per data directory, with the task that runs a job by id."""

    def __init__(self, queue_path, run_job: Callable[[int], None], workers: int = 1,
                 withdraw: Callable[[int], None] | None = None):
        self.huey = SqliteHuey(name="examaudit", filename=str(queue_path), results=False, utc=True)
        self.workers = workers
        self._run_job = run_job
        self._withdraw = withdraw
        self._consumer: Consumer | None = None
        self.task = self.huey.task(name="run_job", retries=0)(self._run)

    def _run(self, job_id: int) -> None:
        try:
            self._run_job(job_id)
        except Exception:  # noqa: BLE001 - logged with the job id; the job row says failed
            log.exception("job crashed", extra={"job": job_id})

    def enqueue(self, job_id: int) -> None:
        """Send "run job N"; when that fails (queue.db on a full disk) the job row is withdrawn, so the
        client's error means nothing was started. With SQLite the row failed first on the same disk;
        with PostgreSQL it was committed, and would sit "queued" with no message to run it."""
        try:
            self.task(job_id)
        except Exception:
            if self._withdraw is not None:
                self._withdraw(job_id)
            raise

    def depth(self) -> int:
        return self.huey.pending_count()

    def pending_job_ids(self) -> set[int]:
        return {t.args[0] for t in self.huey.pending() if t.args}

    def start(self, unfinished: list[int]) -> None:
        """Re-send unfinished jobs the queue lost, then start the worker threads."""
        waiting = self.pending_job_ids()
        for job_id in unfinished:
            if job_id not in waiting:
                log.info("job re-queued after a restart", extra={"job": job_id})
                self.task(job_id)  # not enqueue(): a failure here must not withdraw a real job
        if self.workers > 0:
            self._consumer = _InProcessConsumer(self.huey, workers=self.workers, worker_type="thread",
                                                periodic=False, check_worker_health=False)
            self._consumer.start()

    def stop(self) -> None:
        if self._consumer is not None:
            self._consumer.stop(graceful=False)
            self._consumer = None


#: One lock per exam point: two jobs of the same exam point share its audit folder.
_exam_point_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def exam_point_lock(exam_point_id: int) -> threading.Lock:
    with _locks_guard:
        return _exam_point_locks.setdefault(exam_point_id, threading.Lock())
