"""Presence intervals per room session (attendance and the guest log).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "presence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "room_id", sa.String(32), sa.ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("session", sa.String(32), nullable=False),
        sa.Column("participant_id", sa.String(32), nullable=False),
        sa.Column("identity", sa.String(40), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("institution", sa.String(64), nullable=True),
        sa.Column("joined_at", sa.Float, nullable=False),
        sa.Column("left_at", sa.Float, nullable=True),
        sa.Column("how", sa.String(16), nullable=True),
        sa.UniqueConstraint("session", "participant_id"),
    )
    op.create_index("ix_presence_room_id", "presence", ["room_id"])


def downgrade() -> None:
    op.drop_table("presence")
