"""What an administrator keeps: school settings, years and periods, subjects, who teaches what."""

from __future__ import annotations

import itertools

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rooms.refusals import Reason
from server.db.tables import ClassMember, Period, SchoolClass, SchoolYear, Subject, Teaching, User
from server.journal import models, school
from server.journal.views import LessonError


def _year(year: SchoolYear, year_periods: list[Period]) -> models.Year:
    return models.Year(
        id=year.id,
        name=year.name,
        starts_on=year.starts_on,
        ends_on=year.ends_on,
        periods=[
            models.Period(
                id=p.id, year_id=p.year_id, name=p.name, starts_on=p.starts_on, ends_on=p.ends_on
            )
            for p in year_periods
        ],
    )


class SchoolAdmin:
    """Reads and changes the school's frame; one short transaction per call."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def settings(self) -> school.SchoolSettings:
        """The school's settings."""
        async with self._sessions() as s:
            return await school.load(s)

    async def update_settings(self, patch: models.SchoolPatch) -> school.SchoolSettings:
        """Change some settings; the result must still make sense as a whole."""
        async with self._sessions() as s:
            current = await school.load(s)
            merged = school.SchoolSettings.model_validate(
                {**current.model_dump(), **patch.model_dump(exclude_none=True)}
            )  # raises ValidationError when, e.g., mark_min ends up above mark_max
            await school.save(s, merged)
            await s.commit()
            return merged

    async def years(self) -> list[models.Year]:
        """Every school year with its periods, oldest first."""
        async with self._sessions() as s:
            years = list(await s.scalars(select(SchoolYear).order_by(SchoolYear.starts_on)))
            all_periods = list(await s.scalars(select(Period).order_by(Period.starts_on)))
        return [_year(y, [p for p in all_periods if p.year_id == y.id]) for y in years]

    async def create_year(self, body: models.YearBody) -> models.Year:
        """A school year and its periods, which lie inside it and do not overlap."""
        if body.ends_on <= body.starts_on:
            raise LessonError(Reason.INVALID_PAYLOAD, "A school year ends after it starts.")
        spans = sorted((p.starts_on, p.ends_on) for p in body.periods)
        for first, last in spans:
            if not body.starts_on <= first <= last <= body.ends_on:
                raise LessonError(
                    Reason.INVALID_PAYLOAD, "Each period lies inside its school year."
                )
        if any(b[0] <= a[1] for a, b in itertools.pairwise(spans)):
            raise LessonError(Reason.INVALID_PAYLOAD, "Periods must not overlap.")
        async with self._sessions() as s:
            clash = await s.scalar(
                select(SchoolYear.id).where(
                    SchoolYear.starts_on <= body.ends_on, SchoolYear.ends_on >= body.starts_on
                )
            )
            if clash is not None:
                raise LessonError(Reason.ALREADY_EXISTS, "Another school year covers these dates.")
            year = SchoolYear(name=body.name, starts_on=body.starts_on, ends_on=body.ends_on)
            s.add(year)
            try:
                await s.flush()
            except IntegrityError:
                raise LessonError(
                    Reason.ALREADY_EXISTS, "A school year with this name exists."
                ) from None
            rows = [
                Period(year_id=year.id, name=p.name, starts_on=p.starts_on, ends_on=p.ends_on)
                for p in sorted(body.periods, key=lambda p: p.starts_on)
            ]
            s.add_all(rows)
            await s.commit()
            return _year(year, rows)

    async def subjects(self) -> list[models.Subject]:
        """The school's subjects by name."""
        async with self._sessions() as s:
            rows = await s.scalars(select(Subject).order_by(Subject.name))
            return [models.Subject(id=r.id, name=r.name) for r in rows]

    async def create_subject(self, name: str) -> models.Subject:
        """A new subject (names are unique)."""
        async with self._sessions() as s:
            row = Subject(name=name)
            s.add(row)
            try:
                await s.commit()
            except IntegrityError:
                raise LessonError(
                    Reason.ALREADY_EXISTS, "A subject with this name exists."
                ) from None
            return models.Subject(id=row.id, name=row.name)

    async def classes(self) -> list[models.ClassInfo]:
        """Every class with its number of pupils, by name."""
        async with self._sessions() as s:
            rows = await s.execute(
                select(SchoolClass.id, SchoolClass.name, func.count(ClassMember.id))
                .outerjoin(ClassMember, ClassMember.class_id == SchoolClass.id)
                .group_by(SchoolClass.id, SchoolClass.name)
                .order_by(SchoolClass.name)
            )
            return [models.ClassInfo(id=i, name=n, pupils=c) for i, n, c in rows]

    async def teachers(self) -> list[models.Person]:
        """The school's teachers by name."""
        async with self._sessions() as s:
            rows = await s.scalars(
                select(User).where(User.kind == "teacher").order_by(User.display_name)
            )
            return [models.Person(id=u.id, login=u.login, name=u.display_name) for u in rows]

    async def teaching(self, teacher_id: int | None = None) -> list[models.TeachingRow]:
        """Who teaches which subject to which class (one teacher's, or everyone's)."""
        async with self._sessions() as s:
            query = (
                select(Teaching, User.display_name, SchoolClass.name, Subject.name)
                .join(User, User.id == Teaching.teacher_id)
                .join(SchoolClass, SchoolClass.id == Teaching.class_id)
                .join(Subject, Subject.id == Teaching.subject_id)
                .order_by(SchoolClass.name, Subject.name, User.display_name)
            )
            if teacher_id is not None:
                query = query.where(Teaching.teacher_id == teacher_id)
            return [
                models.TeachingRow(
                    id=t.id,
                    teacher_id=t.teacher_id,
                    teacher_name=teacher,
                    class_id=t.class_id,
                    class_name=class_name,
                    subject_id=t.subject_id,
                    subject_name=subject,
                )
                for t, teacher, class_name, subject in await s.execute(query)
            ]

    async def create_teaching(self, body: models.TeachingBody) -> models.TeachingRow:
        """Let a teacher teach a subject to a class."""
        async with self._sessions() as s:
            teacher = await s.get(User, body.teacher_id)
            if teacher is None or teacher.kind != "teacher":
                raise LessonError(Reason.UNKNOWN_TEACHER, "There is no teacher with that id.")
            if await s.get(SchoolClass, body.class_id) is None:
                raise LessonError(Reason.UNKNOWN_CLASS, "There is no class with that id.")
            if await s.get(Subject, body.subject_id) is None:
                raise LessonError(Reason.UNKNOWN_SUBJECT, "There is no subject with that id.")
            row = Teaching(
                teacher_id=body.teacher_id, class_id=body.class_id, subject_id=body.subject_id
            )
            s.add(row)
            try:
                await s.commit()
            except IntegrityError:
                raise LessonError(
                    Reason.ALREADY_EXISTS,
                    "This teacher already teaches this subject to this class.",
                ) from None
        return next(t for t in await self.teaching(body.teacher_id) if t.id == row.id)
