"""The demo school made on first start, so a new installation can be tried at once."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from server.auth import generate_password
from server.db.accounts import Store

log = logging.getLogger(__name__)

DEMO_CLASS = "7A"
DEMO_PUPILS = ["Aigerim Nurlanova", "Daniyar Seitkali", "Madina Omarova", "Timur Akhmetov"]
CREDENTIALS_FILE = "demo-accounts.txt"


@dataclass
class DemoSchool:
    """Logins and one-time passwords of the demo accounts (known only at creation)."""

    teacher: tuple[str, str]
    pupils: list[tuple[str, str]] = field(default_factory=list)
    class_id: int = 0


async def create_demo_school(store: Store, data_dir: Path) -> DemoSchool | None:
    """Create a teacher and a class of pupils if the database has no accounts yet."""
    if await store.count_users() > 0:
        return None
    teacher_password = generate_password()
    await store.create_user(
        "teacher", "Gulnara Sadykova", "teacher", teacher_password, one_time=True
    )
    school = DemoSchool(teacher=("teacher", teacher_password))
    pupil_ids = []
    for number, name in enumerate(DEMO_PUPILS, start=1):
        login, password = f"pupil{number}", generate_password()
        pupil_ids.append(
            (await store.create_user(login, name, "pupil", password, one_time=True)).id
        )
        school.pupils.append((login, password))
    school.class_id = await store.create_class(DEMO_CLASS, pupil_ids)
    _write_credentials(school, data_dir / CREDENTIALS_FILE)
    return school


def _write_credentials(school: DemoSchool, path: Path) -> None:
    # The pupils' passwords are shown nowhere else; the file is readable by the owner only.
    lines = [f"teacher  {school.teacher[0]}  {school.teacher[1]}"]
    lines += [f"pupil    {login}  {password}" for login, password in school.pupils]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(f"# Demo school, class {DEMO_CLASS}: login and one-time password\n")
        out.write("\n".join(lines) + "\n")


def announce(base_url: str, teacher: tuple[str, str], admin: tuple[str, str], pupils: Path) -> None:
    """Print the demo logins as a block a person notices on the console (standard output).

    Not a log line: logs are kept and shipped elsewhere, and one WARNING among the migrations'
    INFO lines is easy to miss. The passwords are one-time: each is replaced at first sign-in.
    """
    rows = [("Teacher", *teacher), ("Administrator", *admin)]
    width = max(len(login) for _, login, _ in rows)
    lines = [
        "",
        "=" * 72,
        f"  Sabaq demo school created. Open {base_url} and sign in:",
        "",
        *(
            f"    {who:<14} login {login:<{width}}  one-time password {pw}"
            for who, login, pw in rows
        ),
        "",
        f"  The pupils' logins and passwords are in {pupils}",
        "  Each one-time password must be replaced by its owner at the first sign-in.",
        "=" * 72,
        "",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
