"""exam points, uploads, jobs, reviews

Revision ID: 0002_audits
Revises: 0001_users
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_audits"
down_revision = "0001_users"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "exam_points",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("city", sa.String(32), nullable=True),
        sa.Column("config_path", sa.String(512), nullable=False),
        _ts("created_at"),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("risk", sa.Float, nullable=True),
        sa.Column("findings_count", sa.Integer, nullable=True),
    )
    op.create_index("ix_exam_points_code", "exam_points", ["code"], unique=True)
    op.create_index("ix_exam_points_city", "exam_points", ["city"])
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("exam_point_id", sa.Integer, sa.ForeignKey("exam_points.id"), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("room", sa.String(64), nullable=True),
        sa.Column("camera", sa.String(64), nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("rel_path", sa.String(512), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        _ts("created_at"),
    )
    op.create_index("ix_uploads_exam_point_id", "uploads", ["exam_point_id"])
    op.create_index("ix_uploads_sha256", "uploads", ["sha256"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("exam_point_id", sa.Integer, sa.ForeignKey("exam_points.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("config_path", sa.String(512), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_by", sa.String(64), nullable=False),
        _ts("created_at"),
        _ts("started_at", True),
        _ts("finished_at", True),
    )
    op.create_index("ix_jobs_exam_point_id", "jobs", ["exam_point_id"])
    op.create_index("ix_jobs_state", "jobs", ["state"])
    for table in ("reviews", "review_history"):
        op.create_table(
            table,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("exam_point_id", sa.Integer, sa.ForeignKey("exam_points.id"), nullable=False),
            sa.Column("finding_id", sa.String(128), nullable=False),
            sa.Column("decision", sa.String(16), nullable=False),
            sa.Column("comment", sa.Text, nullable=False),
            sa.Column("by", sa.String(64), nullable=False),
            _ts("at"),
            *( [sa.UniqueConstraint("exam_point_id", "finding_id")] if table == "reviews" else []),
        )
        op.create_index(f"ix_{table}_exam_point_id", table, ["exam_point_id"])
        op.create_index(f"ix_{table}_finding_id", table, ["finding_id"])


def downgrade() -> None:
    for table in ("review_history", "reviews", "jobs", "uploads", "exam_points"):
        op.drop_table(table)
