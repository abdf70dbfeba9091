"""Public chat messages and poll results kept with the lesson.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _room() -> sa.Column[str]:
    return sa.Column(
        "room_id", sa.String(32), sa.ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        _room(),
        sa.Column("session", sa.String(32), nullable=False),
        sa.Column("message_id", sa.Integer, nullable=False),
        sa.Column("sender_name", sa.String(64), nullable=False),
        sa.Column("sender_role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("session", "message_id"),
    )
    op.create_index("ix_chat_messages_room_id", "chat_messages", ["room_id"])
    op.create_table(
        "poll_results",
        sa.Column("id", sa.Integer, primary_key=True),
        _room(),
        sa.Column("session", sa.String(32), nullable=False),
        sa.Column("poll_id", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.UniqueConstraint("session", "poll_id"),
    )
    op.create_index("ix_poll_results_room_id", "poll_results", ["room_id"])


def downgrade() -> None:
    op.drop_table("poll_results")
    op.drop_table("chat_messages")
