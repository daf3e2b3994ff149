"""Jobs: create, run (in a huey worker thread), report progress, cancel."""

from __future__ import annotations

from sqlalchemy import select

from ..models import Job


def unfinished_job_ids(db) -> list[int]:
    with db.session() as s:
        return list(s.scalars(select(Job.id).where(Job.state.in_(("queued", "running"))).order_by(Job.id)))


def run_job(state, job_id: int) -> None:
    raise NotImplementedError("audit jobs land in the next commit")
