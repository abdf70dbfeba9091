"""Documents shared in a lesson stay attached to it: the lesson's page lists them.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lesson_documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "lesson_id",
            sa.Integer,
            sa.ForeignKey("lessons.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("shown_as", sa.String(8), nullable=False),
        sa.Column("pages", sa.Integer, nullable=True),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.Float, nullable=False),
        sa.UniqueConstraint("lesson_id", "document_id"),
    )
    op.create_index("ix_lesson_documents_lesson_id", "lesson_documents", ["lesson_id"])


def downgrade() -> None:
    op.drop_index("ix_lesson_documents_lesson_id", "lesson_documents")
    op.drop_table("lesson_documents")
