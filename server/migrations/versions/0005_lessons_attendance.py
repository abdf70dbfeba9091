"""Lessons of the schedule and the built-in journal's attendance.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lessons",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "teacher_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("starts_at", sa.Float, nullable=False),
        sa.Column("ends_at", sa.Float, nullable=False),
        sa.Column("topic", sa.String(200), nullable=True),
        sa.Column(
            "room_id", sa.String(32), sa.ForeignKey("rooms.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("ended_at", sa.Float, nullable=True),
    )
    op.create_index("ix_lessons_teacher_id", "lessons", ["teacher_id"])
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "lesson_id", sa.Integer, sa.ForeignKey("lessons.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "pupil_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("left_early", sa.Boolean, nullable=False),
        sa.Column("attended_s", sa.Float, nullable=False),
        sa.Column("network_lost_s", sa.Float, nullable=False),
        sa.Column("comment", sa.String(500), nullable=True),
        sa.UniqueConstraint("lesson_id", "pupil_id"),
    )


def downgrade() -> None:
    op.drop_table("attendance")
    op.drop_table("lessons")
