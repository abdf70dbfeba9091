"""Import of classes and pupils (or of teachers) from CSV: everything or nothing, with a report
per line. Every account made is written to the audit log in the import's own transaction."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rooms.names import clean_name
from rooms.refusals import Refusal
from server.auth import generate_password
from server.db.tables import ClassMember, SchoolClass, User
from server.people import COMMAND_LINE, Actor, record_in

COLUMNS = ("class", "login", "full_name")
# A file of teachers: the same columns without the class.
TEACHER_COLUMNS = ("login", "full_name")
LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MAX_ROWS = 5000


@dataclass(frozen=True, slots=True)
class PupilRow:
    """One valid line: a pupil of a class (or a teacher, of no class)."""

    line: int
    class_name: str
    login: str
    full_name: str
    kind: str = "pupil"


@dataclass
class ImportReport:
    """What an import found and did."""

    rows: list[PupilRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    new_classes: list[str] = field(default_factory=list)
    passwords: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse(text: str, kind: str = "pupil") -> ImportReport:
    """Check the file's shape line by line (the database is not consulted here).

    `kind` "teacher": a file of teachers (login,full_name), made with one-time passwords too.
    """
    report = ImportReport()
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    columns = COLUMNS if kind == "pupil" else TEACHER_COLUMNS
    if tuple(header) != columns:
        report.errors.append((1, f"the first line must be: {','.join(columns)}"))
        return report
    seen: dict[str, int] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if number > MAX_ROWS + 1:
            report.errors.append((number, f"at most {MAX_ROWS} pupils per file"))
            break
        if len(cells) != len(columns):
            report.errors.append((number, f"expected {len(columns)} fields, found {len(cells)}"))
            continue
        if kind != "pupil":
            cells = ["-", *cells]  # no class: the checks below read the same places
        class_name, full_name = clean_name(cells[0]), clean_name(cells[2])
        problems = [
            f"{what}: {value.message}"
            for what, value in (("class", class_name), ("full_name", full_name))
            if isinstance(value, Refusal)
        ]
        login_text = cells[1].strip().lower()
        if not LOGIN.match(login_text):
            problems.append(
                "login: 2 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"
            )
        elif login_text in seen:
            problems.append(f"login {login_text!r} already on line {seen[login_text]}")
        if problems:
            report.errors.append((number, "; ".join(problems)))
            continue
        assert isinstance(class_name, str) and isinstance(full_name, str)
        seen[login_text] = number
        report.rows.append(PupilRow(number, class_name, login_text, full_name, kind))
    return report


async def check_against(
    sessions: async_sessionmaker[AsyncSession], report: ImportReport, new_classes: bool
) -> None:
    """Find logins already taken and classes that do not exist."""
    async with sessions() as s:
        classes = set(await s.scalars(select(SchoolClass.name)))
        taken = set(
            await s.scalars(
                select(User.login).where(User.login.in_([r.login for r in report.rows]))
            )
        )
    for row in report.rows:
        if row.login in taken:
            report.errors.append((row.line, f"login {row.login!r} already exists"))
        if row.kind == "pupil" and row.class_name not in classes:
            if not new_classes:
                report.errors.append(
                    (row.line, f"unknown class {row.class_name!r} (use --new-classes to create it)")
                )
            elif row.class_name not in report.new_classes:
                report.new_classes.append(row.class_name)
    report.errors.sort()


class Conflict(Exception):
    """The database changed between the check and the import (a login or class was taken)."""


Progress = Callable[[int, int], None]


# A generated one-time password has ~79 bits of entropy: argon2's default cost (~0.1-0.5 s and
# 64 MiB each) guards weak human passwords, and would make a school's import take many minutes.
# A lighter argon2id is still far beyond guessing such a secret; verification reads the cost from
# the hash, and the pupil's own password (chosen at first sign-in) gets the full cost.
ONE_TIME_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def _hashes(count: int, progress: Progress | None) -> list[tuple[str, str]]:
    made = []
    for done in range(1, count + 1):
        password = generate_password()
        made.append((password, ONE_TIME_HASHER.hash(password)))
        # argon2 takes a while per pupil on purpose: show progress on long imports.
        if progress is not None and (done % 25 == 0 or done == count):
            progress(done, count)
    return made


async def apply(
    sessions: async_sessionmaker[AsyncSession],
    report: ImportReport,
    progress: Progress | None = None,
    actor: Actor = COMMAND_LINE,
) -> None:
    """Create the classes, pupils and memberships in one transaction (or nothing, on Conflict)."""
    assert report.ok
    # Hashing is slow on purpose; a server must not stall its event loop for it.
    made = await asyncio.to_thread(_hashes, len(report.rows), progress)
    try:
        async with sessions() as s, s.begin():
            for name in report.new_classes:
                s.add(SchoolClass(name=name))
            await s.flush()
            class_ids = {n: i for i, n in await s.execute(select(SchoolClass.id, SchoolClass.name))}
            for row, (_, password_hash) in zip(report.rows, made, strict=True):
                user = User(
                    login=row.login,
                    display_name=row.full_name,
                    kind=row.kind,
                    password_hash=password_hash,
                    created_at=datetime.now(UTC),
                    must_change_password=True,
                )
                s.add(user)
                await s.flush()
                if row.kind == "pupil":
                    s.add(ClassMember(class_id=class_ids[row.class_name], user_id=user.id))
                    record_in(s, actor, "user.import", user, kind=row.kind, to=row.class_name)
                else:
                    record_in(s, actor, "user.import", user, kind=row.kind)
    except (IntegrityError, KeyError) as exc:
        raise Conflict(
            "the school changed while importing (a login or class was taken or removed); "
            "nothing was imported"
        ) from exc
    report.passwords.extend(
        (row.login, password) for row, (password, _) in zip(report.rows, made, strict=True)
    )


def print_progress(done: int, total: int) -> None:
    """Progress on the terminal, for the command line."""
    print(f"\rcreating pupils: {done}/{total}", end="" if done < total else "\n", file=sys.stderr)
