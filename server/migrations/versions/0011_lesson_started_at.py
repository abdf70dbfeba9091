"""When a lesson was started: a lesson held wholly before its scheduled time is assessed over
the time it was actually held.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null for lessons started before: they are assessed over their scheduled time, as before.
    op.add_column("lessons", sa.Column("started_at", sa.Float, nullable=True))


def downgrade() -> None:
    op.drop_column("lessons", "started_at")  # SQLite 3.35+ drops a column in place
