"""Each person's connection over a lesson's room session (server/quality_log.py).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connection_quality",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "room_id", sa.String(32), sa.ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("session", sa.String(32), nullable=False),
        sa.Column("identity", sa.String(40), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("samples", sa.Integer, nullable=False),
        sa.Column("delay_p50_ms", sa.Integer, nullable=False),
        sa.Column("delay_p95_ms", sa.Integer, nullable=False),
        sa.Column("loss_pct", sa.Float, nullable=False),
        sa.Column("loss_p95_pct", sa.Float, nullable=False),
        sa.Column("good_s", sa.Integer, nullable=False),
        sa.Column("fair_s", sa.Integer, nullable=False),
        sa.Column("poor_s", sa.Integer, nullable=False),
        sa.Column("video_lost_s", sa.Integer, nullable=False),
        sa.Column("disconnections", sa.Integer, nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.UniqueConstraint("session", "identity"),
    )
    op.create_index("ix_connection_quality_room_id", "connection_quality", ["room_id"])
    op.create_index("ix_connection_quality_user_id", "connection_quality", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_connection_quality_user_id", "connection_quality")
    op.drop_index("ix_connection_quality_room_id", "connection_quality")
    op.drop_table("connection_quality")
