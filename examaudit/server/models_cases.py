"""The case register and the call lists in the server's database (Alembic branch ``cases``).

Rows mirror :mod:`examaudit.cases.model` (``services/cases.py`` converts both ways), so the CLI
(``examaudit cases``, ``examaudit form1 --data``) and the server count the same register.
Exam points are referred to by code, not by foreign key: a case outlives a re-import of its
exam point, and an imported register names exam points the server may never have seen.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base
from .models import utcnow


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    city: Mapped[str] = mapped_column(String(32), index=True)
    county: Mapped[str] = mapped_column(String(32), default="")
    unit_type: Mapped[str] = mapped_column(String(16))
    unit_name: Mapped[str] = mapped_column(String(255))
    exam_point: Mapped[str] = mapped_column(String(64), default="", index=True)
    inspected_on: Mapped[date] = mapped_column(Date, index=True)
    methods: Mapped[str] = mapped_column(Text, default="")  # "；"-joined
    outcomes: Mapped[str] = mapped_column(Text, default="")  # "；"-joined; empty = undecided
    fine_wan: Mapped[float | None] = mapped_column(Float, nullable=True)
    unlicensed_persons: Mapped[int | None] = mapped_column(Integer, nullable=True)
    referred_clues: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: False: the register did not say what problems were found (附表1 leaves them empty)
    problems_known: Mapped[bool] = mapped_column(Boolean, default=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    problems: Mapped[list["CaseProblemRow"]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                            order_by="CaseProblemRow.seq")
    documents: Mapped[list["CaseDocumentRow"]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                              order_by="CaseDocumentRow.id")


class CaseProblemRow(Base):
    __tablename__ = "case_problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    finding_ids: Mapped[str] = mapped_column(Text, default="")  # ";"-joined stable finding ids
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    rectified: Mapped[bool | None] = mapped_column(Boolean, nullable=True)

    case: Mapped[CaseRow] = relationship(back_populates="problems")


class CaseDocumentRow(Base):
    __tablename__ = "case_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(512), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")

    case: Mapped[CaseRow] = relationship(back_populates="documents")


class CallPlanRow(Base):
    """One call list for an exam point and session, with how its control sample was sized."""

    __tablename__ = "callback_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_point: Mapped[str] = mapped_column(String(64), index=True)
    city: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    session: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)  # precision, confidence, planning rate, seed, n, n0, N
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    calls: Mapped[list["CallRow"]] = relationship(back_populates="plan", cascade="all, delete-orphan",
                                                  order_by="CallRow.priority")


class CallRow(Base):
    """One candidate to phone and, once called, the answers."""

    __tablename__ = "callback_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("callback_plans.id", ondelete="CASCADE"), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    candidate_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    room: Mapped[str] = mapped_column(String(64), default="")
    seat: Mapped[str] = mapped_column(String(32), default="")
    reasons: Mapped[str] = mapped_column(Text, default="")
    finding_ids: Mapped[str] = mapped_column(Text, default="")
    control: Mapped[bool] = mapped_column(Boolean, default=False)
    called_at: Mapped[str] = mapped_column(String(32), default="")
    outcome: Mapped[str] = mapped_column(String(16), default="")  # reached / unreachable / wrong_number / refused
    sat_exam_in_person: Mapped[str] = mapped_column(String(8), default="")  # yes / no / unknown / ""
    paid_intermediary: Mapped[str] = mapped_column(String(8), default="")
    attended_training: Mapped[str] = mapped_column(String(8), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    entered_by: Mapped[str] = mapped_column(String(64), default="")
    entered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    plan: Mapped[CallPlanRow] = relationship(back_populates="calls")


class PhoneRevealRow(Base):
    """Every time someone was shown a phone number in full (who, whose, when)."""

    __tablename__ = "phone_reveals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64), index=True)
    call_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    candidate_id: Mapped[str] = mapped_column(String(64))
    exam_point: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(32), default="")  # page / api / export
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
