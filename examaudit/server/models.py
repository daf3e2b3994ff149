"""The server's tables: what people decide and what the queue needs.

Analysis outputs (findings.json, frames, reports, packs) stay files in the exam point's audit
folder; rows point at them. A review decision never edits findings.json: it is a row keyed by
the stable finding id, applied when the report is rendered, with every change kept in
``review_history``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import BigInteger, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base

#: Lowest to highest; each role can do what the ones before it can.
ROLES = ("viewer", "reviewer", "auditor", "admin")
#: The id columns are ``Integer``: 64-bit in SQLite but int4 on PostgreSQL, where a larger id in a
#: lookup is an internal error ("integer out of range"), not "no such row". No row gets an id above it.
MAX_ROW_ID = 2**31 - 1


def row_id(key: str | int) -> int | None:
    """``key`` as a row id when it is one (ASCII digits, in range), else None.

    ``str.isdigit`` also accepts '²' and '٣', on which ``int()`` raises, and a 30-digit id overflows
    the database (on PostgreSQL any id past int4): all were 500s found by the API fuzzer.
    """
    if isinstance(key, int):
        return key if 0 <= key <= MAX_ROW_ID else None
    key = str(key)
    if key.isascii() and key.isdigit() and len(key) <= 10 and int(key) <= MAX_ROW_ID:
        return int(key)
    return None
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
DECISIONS = ("confirmed", "dismissed", "unsure")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    #: None: the whole province; else e.g. "杭州市" and only that city's exam points.
    city: Mapped[str | None] = mapped_column(String(32), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Bumped by disable / reset-password: every cookie and token signed before stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UserSession(Base):
    """One signed-in browser. The cookie carries a random id; only its sha256 is stored here.

    Signing out ends this row, so a copy of the cookie taken before (from a shared computer, a
    proxy log) stops working at once, while the user's other browsers and API tokens go on.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sid_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ExamPoint(Base):
    """One exam point (考点) as the server knows it; its files live in ``exam_points/<code>/``."""

    __tablename__ = "exam_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    city: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    #: exam_point.yaml, relative to the data directory
    config_path: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    #: Filled when an audit finishes: fused risk score and findings count (for the list page).
    risk: Mapped[float | None] = mapped_column(Float, nullable=True)
    findings_count: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Upload(Base):
    """One file received for an exam point (tus or zip import); the bytes are ``originals/<sha256>``."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_point_id: Mapped[int] = mapped_column(ForeignKey("exam_points.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))  # footage | roster | scores | responses | callbacks | certificates | config
    room: Mapped[str | None] = mapped_column(String(64), nullable=True)
    camera: Mapped[str | None] = mapped_column(String(64), nullable=True)
    filename: Mapped[str] = mapped_column(String(255))
    #: where it sits in the exam point folder, relative to exam_point.yaml's folder
    rel_path: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    """One run: queued -> running -> done | failed | cancelled.

    ``kind`` "audit": one exam point (``exam_point_id``). ``kind`` "screening": every exam point
    of ``city`` (None: the whole province) that its creator could see; no ``exam_point_id``.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_point_id: Mapped[int | None] = mapped_column(ForeignKey("exam_points.id"), index=True, nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="audit")
    #: a screening's scope: its creator's city, None for the province (who may read it: security rule)
    city: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: audit: the exam_point.yaml it audits; screening: its folder (both relative to the data directory)
    config_path: Mapped[str] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Review(Base):
    """The current decision on one finding of one exam point (history in ReviewHistory)."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("exam_point_id", "finding_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_point_id: Mapped[int] = mapped_column(ForeignKey("exam_points.id"), index=True)
    finding_id: Mapped[str] = mapped_column(String(128), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewHistory(Base):
    __tablename__ = "review_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_point_id: Mapped[int] = mapped_column(ForeignKey("exam_points.id"), index=True)
    finding_id: Mapped[str] = mapped_column(String(128), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
