"""The school journal: settings, years and periods, subjects, teaching, plans, marks, assignments.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _fk(column: str, target: str, ondelete: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(
        column, sa.Integer, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable
    )


def upgrade() -> None:
    settings = op.create_table(
        "school_settings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("mark_min", sa.Integer, nullable=False),
        sa.Column("mark_max", sa.Integer, nullable=False),
        sa.Column("present_ratio", sa.Float, nullable=False),
        sa.Column("late_after_min", sa.Float, nullable=False),
        sa.Column("left_early_min", sa.Float, nullable=False),
        sa.Column("reconnect_grace_s", sa.Float, nullable=False),
        sa.Column("finalise_grace_min", sa.Float, nullable=False),
    )
    # The one row every installation has; the values are the defaults (and the rules
    # the server used before this migration), so existing lessons are assessed as before.
    op.bulk_insert(
        settings,
        [
            {
                "id": 1,
                "name": "School",
                "timezone": "Asia/Almaty",
                "mark_min": 1,
                "mark_max": 5,
                "present_ratio": 0.5,
                "late_after_min": 10,
                "left_early_min": 5,
                "reconnect_grace_s": 60,
                "finalise_grace_min": 15,
            }
        ],
    )
    op.create_table(
        "school_years",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
    )
    op.create_table(
        "periods",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("year_id", "school_years.id", "CASCADE"),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
    )
    op.create_index("ix_periods_year_id", "periods", ["year_id"])
    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
    )
    op.create_table(
        "teaching",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("teacher_id", "users.id", "CASCADE"),
        _fk("class_id", "classes.id", "CASCADE"),
        _fk("subject_id", "subjects.id", "CASCADE"),
        sa.UniqueConstraint("teacher_id", "class_id", "subject_id"),
    )
    op.create_table(
        "plan_topics",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("teacher_id", "users.id", "CASCADE"),
        _fk("class_id", "classes.id", "CASCADE"),
        _fk("subject_id", "subjects.id", "CASCADE"),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("hours", sa.Integer, nullable=False),
    )
    op.create_index("ix_plan_topics_plan", "plan_topics", ["teacher_id", "class_id", "subject_id"])
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with a REFERENCES clause in place (its default is NULL); a batch
        # rebuild would drop and recreate `lessons`, and with foreign keys on that would cascade
        # into the attendance rows that refer to it.
        op.execute(
            "ALTER TABLE lessons ADD COLUMN subject_id INTEGER "
            "REFERENCES subjects (id) ON DELETE SET NULL"
        )
        op.execute(
            "ALTER TABLE lessons ADD COLUMN topic_id INTEGER "
            "REFERENCES plan_topics (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("lessons", sa.Column("subject_id", sa.Integer, nullable=True))
        op.add_column("lessons", sa.Column("topic_id", sa.Integer, nullable=True))
        op.create_foreign_key(
            "fk_lessons_subject_id",
            "lessons",
            "subjects",
            ["subject_id"],
            ["id"],
            ondelete="SET NULL",
        )
        op.create_foreign_key(
            "fk_lessons_topic_id",
            "lessons",
            "plan_topics",
            ["topic_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index("ix_lessons_class_id_starts_at", "lessons", ["class_id", "starts_at"])
    op.create_table(
        "marks",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("lesson_id", "lessons.id", "CASCADE"),
        _fk("pupil_id", "users.id", "CASCADE"),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("comment", sa.String(500), nullable=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.UniqueConstraint("lesson_id", "pupil_id"),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("lesson_id", "lessons.id", "CASCADE"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("difficulty", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=True),
        sa.Column("for_all", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_assignments_lesson_id", "assignments", ["lesson_id"])
    op.create_table(
        "assignment_pupils",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("assignment_id", "assignments.id", "CASCADE"),
        _fk("pupil_id", "users.id", "CASCADE"),
        sa.UniqueConstraint("assignment_id", "pupil_id"),
    )
    with op.batch_alter_table("outbox") as batch:
        # A retried dead letter gets a fresh give-up clock without losing when it was made.
        batch.add_column(sa.Column("retried_at", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("retried_at")
    op.drop_table("assignment_pupils")
    op.drop_table("assignments")
    op.drop_table("marks")
    op.drop_index("ix_lessons_class_id_starts_at", "lessons")
    with op.batch_alter_table("lessons") as batch:
        batch.drop_column("topic_id")
        batch.drop_column("subject_id")
    op.drop_table("plan_topics")
    op.drop_table("teaching")
    op.drop_table("subjects")
    op.drop_table("periods")
    op.drop_table("school_years")
    op.drop_table("school_settings")
