"""screening jobs: a job may cover many exam points (no exam_point_id) within a city scope

Revision ID: 0003_screenings
Revises: 0002_audits
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_screenings"
down_revision = "0002_audits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite cannot ALTER a column: batch mode copies the table (indexes and FK kept).
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("exam_point_id", existing_type=sa.Integer, nullable=True)
        batch.add_column(sa.Column("city", sa.String(32), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM jobs WHERE exam_point_id IS NULL")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("city")
        batch.alter_column("exam_point_id", existing_type=sa.Integer, nullable=False)
