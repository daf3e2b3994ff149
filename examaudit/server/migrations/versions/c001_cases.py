"""cases: the case register, call lists and phone-number reveals (branch "cases")

Revision ID: c001_cases
Revises: 0001_users
"""
import sqlalchemy as sa
from alembic import op

revision = "c001_cases"
down_revision = "0001_users"
branch_labels = ("cases",)
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("city", sa.String(32), nullable=False),
        sa.Column("county", sa.String(32), nullable=False),
        sa.Column("unit_type", sa.String(16), nullable=False),
        sa.Column("unit_name", sa.String(255), nullable=False),
        sa.Column("exam_point", sa.String(64), nullable=False),
        sa.Column("inspected_on", sa.Date, nullable=False),
        sa.Column("methods", sa.Text, nullable=False),
        sa.Column("outcomes", sa.Text, nullable=False),
        sa.Column("fine_wan", sa.Float, nullable=True),
        sa.Column("unlicensed_persons", sa.Integer, nullable=True),
        sa.Column("referred_clues", sa.Integer, nullable=True),
        sa.Column("problems_known", sa.Boolean, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("closed_on", sa.Date, nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_index("ix_cases_case_id", "cases", ["case_id"], unique=True)
    op.create_index("ix_cases_city", "cases", ["city"])
    op.create_index("ix_cases_exam_point", "cases", ["exam_point"])
    op.create_index("ix_cases_inspected_on", "cases", ["inspected_on"])
    op.create_table(
        "case_problems",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_pk", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("finding_ids", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=True),
        sa.Column("done_on", sa.Date, nullable=True),
        sa.Column("rectified", sa.Boolean, nullable=True),
    )
    op.create_index("ix_case_problems_case_pk", "case_problems", ["case_pk"])
    op.create_table(
        "case_documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_pk", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_index("ix_case_documents_case_pk", "case_documents", ["case_pk"])
    op.create_table(
        "callback_plans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("exam_point", sa.String(64), nullable=False),
        sa.Column("city", sa.String(32), nullable=True),
        sa.Column("session", sa.String(64), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _ts("created_at"),
        _ts("applied_at", nullable=True),
    )
    op.create_index("ix_callback_plans_exam_point", "callback_plans", ["exam_point"])
    op.create_index("ix_callback_plans_city", "callback_plans", ["city"])
    op.create_table(
        "callback_calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("callback_plans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("candidate_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("room", sa.String(64), nullable=False),
        sa.Column("seat", sa.String(32), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("finding_ids", sa.Text, nullable=False),
        sa.Column("control", sa.Boolean, nullable=False),
        sa.Column("called_at", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("sat_exam_in_person", sa.String(8), nullable=False),
        sa.Column("paid_intermediary", sa.String(8), nullable=False),
        sa.Column("attended_training", sa.String(8), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("entered_by", sa.String(64), nullable=False),
        _ts("entered_at", nullable=True),
    )
    op.create_index("ix_callback_calls_plan_id", "callback_calls", ["plan_id"])
    op.create_index("ix_callback_calls_candidate_id", "callback_calls", ["candidate_id"])
    op.create_table(
        "phone_reveals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("call_id", sa.Integer, nullable=True),
        sa.Column("candidate_id", sa.String(64), nullable=False),
        sa.Column("exam_point", sa.String(64), nullable=False),
        sa.Column("via", sa.String(32), nullable=False),
        _ts("at"),
    )
    op.create_index("ix_phone_reveals_user_name", "phone_reveals", ["user_name"])


def downgrade() -> None:
    for t in ("phone_reveals", "callback_calls", "callback_plans", "case_documents", "case_problems", "cases"):
        op.drop_table(t)
