"""Sessions kept on the server, and one-time passwords that work for one sign-in.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        # sha256 of the random session id in the cookie: a copy of the database names no
        # session a cookie could be made for.
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_seen_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("ended_at", sa.Float, nullable=True),
        sa.Column("ended_why", sa.String(32), nullable=True),
        sa.Column("user_agent", sa.String(200), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
    )
    # A plain ADD COLUMN, not a batch: on SQLite a batch copies `users` and drops the old table,
    # and with foreign keys on that drop deletes every row that cascades from a user (lessons,
    # marks, attendance...).
    op.add_column(
        "users",
        sa.Column("one_time_spent", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("users", "one_time_spent")  # SQLite 3.35+ drops a column in place
    op.drop_table("sessions")
