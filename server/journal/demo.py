"""The demo school's journal: an administrator, subjects, this school year, plans and a schedule.

Made once, right after the demo accounts (server/demo.py), so /journal, /diary and /admin show
something on the very first start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth import generate_password
from server.db.accounts import Store
from server.db.tables import Lesson, Period, PlanTopic, SchoolYear, Subject, Teaching, User
from server.journal import school
from server.journal.weeks import day_of

ADMIN = ("admin", "Asel Zhumabekova")
PLANS = {
    "Algebra": [
        "Linear equations",
        "Systems of linear equations",
        "Linear functions and their graphs",
        "Powers with natural exponents",
        "Monomials and polynomials",
        "Factoring polynomials",
    ],
    "Physics": [
        "Mechanical motion",
        "Speed and velocity",
        "Mass and density",
        "Force and its measurement",
    ],
}
LESSON_MIN = 45
TIMETABLE = [(9, 0, "Algebra"), (10, 0, "Physics"), (11, 0, "Algebra")]


@dataclass(frozen=True, slots=True)
class DemoJournal:
    """The administrator's login and one-time password (known only now)."""

    admin: tuple[str, str]


def _school_year(today: date) -> tuple[str, date, date, list[tuple[str, date, date]]]:
    """This school year (September to May) with its four quarters."""
    first = today.year if today.month >= 8 else today.year - 1
    quarters = [
        ("Quarter 1", date(first, 9, 1), date(first, 10, 26)),
        ("Quarter 2", date(first, 11, 3), date(first, 12, 28)),
        ("Quarter 3", date(first + 1, 1, 8), date(first + 1, 3, 20)),
        ("Quarter 4", date(first + 1, 3, 30), date(first + 1, 5, 25)),
    ]
    return f"{first}\u2013{first + 1}", date(first, 9, 1), date(first + 1, 5, 25), quarters


async def furnish(
    sessions: async_sessionmaker[AsyncSession],
    store: Store,
    teacher_login: str,
    class_id: int,
    data_dir: Path,
    credentials_file: str,
    now: float,
) -> DemoJournal:
    """Add the administrator and the journal's frame and schedule to a fresh demo school."""
    password = generate_password()
    await store.create_user(ADMIN[0], ADMIN[1], "admin", password, one_time=True)
    with (data_dir / credentials_file).open("a", encoding="utf-8") as out:
        out.write(f"admin    {ADMIN[0]}  {password}\n")
    async with sessions() as s:
        teacher_id = int(await s.scalar(select(User.id).where(User.login == teacher_login)) or 0)
        settings = await school.load(s)
        settings = settings.model_copy(update={"name": "Demo school"})
        await school.save(s, settings)
        zone = settings.zone
        today = day_of(now, zone)
        name, starts_on, ends_on, quarters = _school_year(today)
        year = SchoolYear(name=name, starts_on=starts_on, ends_on=ends_on)
        s.add(year)
        await s.flush()
        s.add_all(Period(year_id=year.id, name=n, starts_on=a, ends_on=b) for n, a, b in quarters)
        subjects = {n: Subject(name=n) for n in PLANS}
        s.add_all(subjects.values())
        await s.flush()
        topics: dict[str, list[PlanTopic]] = {}
        for subject, titles in PLANS.items():
            sid = subjects[subject].id
            s.add(Teaching(teacher_id=teacher_id, class_id=class_id, subject_id=sid))
            topics[subject] = [
                PlanTopic(
                    teacher_id=teacher_id,
                    class_id=class_id,
                    subject_id=sid,
                    position=i,
                    title=title,
                    hours=2,
                )
                for i, title in enumerate(titles, start=1)
            ]
            s.add_all(topics[subject])
        await s.flush()
        # This week and the next, Monday to Friday (and today, should today be a weekend).
        monday = today - timedelta(days=today.weekday())
        days = [monday + timedelta(days=d) for d in range(12) if d % 7 < 5]
        if today.weekday() >= 5:
            days.append(today)
        used = dict.fromkeys(PLANS, 0)
        for day in sorted(days):
            for hour, minute, subject in TIMETABLE:
                start = datetime.combine(day, time(hour, minute), zone).timestamp()
                plan = topics[subject]
                topic = plan[min(used[subject], len(plan) - 1)] if start < now else None
                used[subject] += start < now
                s.add(_lesson(teacher_id, class_id, subjects[subject], start, topic))
        # One lesson under way right now, ready for "Start lesson".
        s.add(_lesson(teacher_id, class_id, subjects["Algebra"], now - 5 * 60, None))
        await s.commit()
    return DemoJournal(admin=(ADMIN[0], password))


def _lesson(
    teacher_id: int, class_id: int, subject: Subject, start: float, topic: PlanTopic | None
) -> Lesson:
    return Lesson(
        class_id=class_id,
        teacher_id=teacher_id,
        subject=subject.name,
        subject_id=subject.id,
        starts_at=start,
        ends_at=start + LESSON_MIN * 60,
        topic=None if topic is None else topic.title,
        topic_id=None if topic is None else topic.id,
        state="scheduled",
    )
