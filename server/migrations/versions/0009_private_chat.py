"""Who may write privately to whom: the school's setting and each room's own choice.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs, not batches: on SQLite a batch copies the table and drops the old one,
    # and dropping `rooms` would cascade to its chat, polls, presence and lessons (see 0008).
    # "staff": pupils and guests write privately to hosts and presenters only (docs/chat.md).
    op.add_column(
        "school_settings",
        sa.Column("private_chat", sa.String(16), nullable=False, server_default="staff"),
    )
    # NULL: the room follows the school's setting until its host chooses.
    op.add_column("rooms", sa.Column("private_chat", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("rooms", "private_chat")  # SQLite 3.35+ drops a column in place
    op.drop_column("school_settings", "private_chat")
