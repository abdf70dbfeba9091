"""The school's recording settings: whether lessons may be recorded and by whom, the disk quota
and how long recordings are kept (docs/recordings.md).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("school_settings") as batch:
        batch.add_column(
            sa.Column("recording", sa.String(16), nullable=False, server_default="off")
        )
        batch.add_column(
            sa.Column("recording_quota_mb", sa.Integer, nullable=False, server_default="2000")
        )
        batch.add_column(
            sa.Column("recording_retention_days", sa.Integer, nullable=False, server_default="30")
        )


def downgrade() -> None:
    with op.batch_alter_table("school_settings") as batch:
        batch.drop_column("recording_retention_days")
        batch.drop_column("recording_quota_mb")
        batch.drop_column("recording")
