"""`sabaq journal import`: all or nothing, a report per bad line, a dry run that changes nothing."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from server.auth import verify_password
from server.db.engine import open_engine, sessions
from server.db.tables import ClassMember, SchoolClass, User


def sabaq(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SABAQ_")}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def counts(data: Path) -> tuple[int, ...]:
    url = f"sqlite+aiosqlite:///{data.resolve() / 'sabaq.db'}"

    async def read() -> tuple[int, ...]:
        engine = open_engine(url)
        async with sessions(engine)() as s:
            result = [
                int(await s.scalar(select(func.count()).select_from(t)) or 0)
                for t in (User, SchoolClass, ClassMember)
            ]
        await engine.dispose()
        return tuple(result)

    return asyncio.run(read())


GOOD = (
    "class,login,full_name\n8B,aruzhan.k,Аружан Кенесова\n"
    "8B,nurlan.b,Nurlan Bekov\n9A,oleg.p,Олег Петров\n"
)


def test_import_creates_pupils_with_working_passwords(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (tmp_path / "good.csv").write_text(GOOD, encoding="utf-8")
    dry = sabaq(
        "journal",
        "import",
        str(tmp_path / "good.csv"),
        "--data",
        str(data),
        "--new-classes",
        "--dry-run",
    )
    assert dry.returncode == 0 and "dry run OK: 3 pupil(s), new classes: 8B, 9A" in dry.stderr
    assert counts(data) == (0, 0, 0)

    done = sabaq(
        "journal", "import", str(tmp_path / "good.csv"), "--data", str(data), "--new-classes"
    )
    assert done.returncode == 0, done.stderr
    # Only the command's own report: no library's INFO lines (Alembic's) before or among it.
    lines = [line.rsplit("\r", 1)[-1] for line in done.stderr.split("\n") if line]
    assert [line.split(":")[0] for line in lines] == ["creating pupils", "sabaq"], done.stderr
    passwords = dict(list(csv.reader(io.StringIO(done.stdout)))[1:])
    assert set(passwords) == {"aruzhan.k", "nurlan.b", "oleg.p"}
    assert counts(data) == (3, 2, 3)

    url = f"sqlite+aiosqlite:///{data.resolve() / 'sabaq.db'}"

    async def check() -> None:
        engine = open_engine(url)
        async with sessions(engine)() as s:
            user = await s.scalar(select(User).where(User.login == "aruzhan.k"))
            assert user is not None and user.display_name == "Аружан Кенесова"
            assert await verify_password(user.password_hash, passwords["aruzhan.k"])
        await engine.dispose()

    asyncio.run(check())
    # Importing the same file again: every login is taken, nothing changes.
    again = sabaq("journal", "import", str(tmp_path / "good.csv"), "--data", str(data))
    assert again.returncode == 1 and "already exists" in again.stderr
    assert counts(data) == (3, 2, 3)


def test_bad_lines_are_reported_and_nothing_is_half_imported(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = (
        "class,login,full_name\n"
        "8B,ok.one,Fine Pupil\n"
        "8B,broken\n"
        "8B,Bad Login!,Name\n"
        "8B,ok.one,Duplicate Login\n"
        "9Z,ok.two,Unknown Class\n"
        f"8B,ok.three,{'x' * 65}\n"
    )
    (tmp_path / "bad.csv").write_text(bad, encoding="utf-8")
    first = sabaq("journal", "import", str(tmp_path / "good.csv"), "--data", str(data))
    assert first.returncode == 1 and "cannot read" in first.stderr
    (tmp_path / "classes.csv").write_text("class,login,full_name\n8B,seed,Seed Pupil\n")
    assert (
        sabaq(
            "journal", "import", str(tmp_path / "classes.csv"), "--data", str(data), "--new-classes"
        ).returncode
        == 0
    )
    result = sabaq("journal", "import", str(tmp_path / "bad.csv"), "--data", str(data))
    assert result.returncode == 1
    report = result.stderr
    for line, words in (
        (3, "expected 3 fields"),
        (4, "login:"),
        (5, "already on line 2"),
        (6, "unknown class '9Z'"),
        (7, "full_name"),
    ):
        assert f"bad.csv:{line}:" in report and words in report, (line, report)
    assert "nothing was imported" in report
    assert counts(data) == (1, 1, 1)  # only the seed pupil
    header = sabaq("journal", "import", str(tmp_path / "classes.csv").replace("classes", "x"))
    assert header.returncode == 1
