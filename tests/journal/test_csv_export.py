"""The CSV export journal: a file per day, a row per (lesson, pupil), each key once — even when
the process dies between appending a row and marking its outbox record delivered."""

from __future__ import annotations

import asyncio
import csv
import shutil
import signal
import sys
import textwrap
from pathlib import Path

from server.db.engine import migrate, open_engine, sessions
from server.journal import outbox
from server.journal.csv_export import CsvJournal
from server.journal.outbox import Courier
from tests.conftest import running_server
from tests.integration.peers import sign_in
from tests.journal.helpers import api, new_lesson


def record(lesson: int, pupil: int, day: str = "2026-11-20") -> dict[str, object]:
    return {
        "lesson_id": lesson,
        "pupil_id": pupil,
        "name": f"=Pupil {pupil}",
        "status": "present",
        "late": False,
        "left_early": False,
        "attended_min": 40.0,
        "network_lost_min": 0.5,
        "comment": None,
        "class_name": "7A",
        "subject": "Algebra",
        "starts_at": 1795150800.0,
        "date": day,
    }


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as source:
        return list(csv.DictReader(source))


async def test_rows_go_to_their_days_file_once_per_key(tmp_path: Path) -> None:
    journal = CsvJournal(tmp_path / "export")
    for _ in range(3):
        await journal.deliver("csv:attendance:1:2", record(1, 2))
    await journal.deliver("csv:attendance:1:3", record(1, 3))
    await journal.deliver("csv:attendance:9:2", record(9, 2, day="2026-11-21"))
    first = rows(journal.path_for("2026-11-20"))
    assert [r["key"] for r in first] == ["csv:attendance:1:2", "csv:attendance:1:3"]
    assert first[0]["pupil_name"] == "'=Pupil 2"  # never a formula in a spreadsheet
    assert first[0]["status"] == "present" and first[0]["starts_at"].startswith("2026-11-")
    assert [r["key"] for r in rows(journal.path_for("2026-11-21"))] == ["csv:attendance:9:2"]


async def test_cells_a_spreadsheet_would_run_are_prefixed(tmp_path: Path) -> None:
    # Spreadsheets skip a leading tab or carriage return and then run the formula after it.
    journal = CsvJournal(tmp_path)
    names = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=HYPERLINK(0)", "\r=1+1", "Asel"]
    for pupil, name in enumerate(names, start=1):
        await journal.deliver(f"csv:attendance:1:{pupil}", {**record(1, pupil), "name": name})
    written = [r["pupil_name"] for r in rows(journal.path_for("2026-11-20"))]
    assert written == ["'" + n for n in names[:-1]] + ["Asel"]


async def test_a_row_cut_short_by_a_crash_is_replaced_whole(tmp_path: Path) -> None:
    journal = CsvJournal(tmp_path)
    await journal.deliver("csv:attendance:1:2", record(1, 2))
    path = journal.path_for("2026-11-20")
    with path.open("ab") as out:
        out.write(b"csv:attendance:1:3,2026-11-20,1,2026-11-2")  # the write a kill cut off
    await journal.deliver("csv:attendance:1:3", record(1, 3))
    assert [r["key"] for r in rows(path)] == ["csv:attendance:1:2", "csv:attendance:1:3"]
    assert all(len(r) == len(rows(path)[0]) and None not in r for r in rows(path))


CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from pathlib import Path
    from server.db.engine import open_engine, sessions
    from server.journal.csv_export import CsvJournal
    from server.journal.outbox import Courier

    class DiesAfterAppending(CsvJournal):
        delivered = 0

        async def deliver(self, key, record):
            result = await super().deliver(key, record)
            DiesAfterAppending.delivered += 1
            if DiesAfterAppending.delivered == int(sys.argv[3]):
                os.kill(os.getpid(), signal.SIGKILL)  # row written, outbox not yet told
            return result

    async def main():
        engine = open_engine(sys.argv[1])
        journal = DiesAfterAppending(Path(sys.argv[2]))
        await Courier(sessions(engine), {"csv": journal}).deliver_due()

    asyncio.run(main())
    """
)


async def test_death_between_append_and_delivered_mark_writes_no_row_twice(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'journal.db'}"
    engine = open_engine(url)
    await migrate(engine)
    db = sessions(engine)
    keys = [f"csv:attendance:7:{pupil}" for pupil in range(1, 6)]
    async with db() as s:
        for pupil, key in enumerate(keys, start=1):
            outbox.add(s, key, "csv", record(7, pupil))
        await s.commit()
    folder = tmp_path / "export"
    # Run 1 delivers pupil 1, appends pupil 2 and dies; run 2 finds pupil 2's row (and marks
    # it), appends pupil 3 and dies; run 3 finds pupil 3's row and dies before marking it again.
    for dies_at in (2, 2, 1):
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, url, str(folder), str(dies_at)
        )
        assert await child.wait() == -signal.SIGKILL
    courier = Courier(db, {"csv": CsvJournal(folder)})
    pending = [letter.key for letter in await courier.letters(outbox.PENDING)]
    assert pending == keys[2:]  # pupil 3 is written but twice unconfirmed
    written = [r["key"] for r in rows(folder / "attendance-2026-11-20.csv")]
    assert written == keys[:3]
    await courier.deliver_due()
    assert {letter.state for letter in await courier.letters()} == {"delivered"}
    assert sorted(r["key"] for r in rows(folder / "attendance-2026-11-20.csv")) == sorted(keys)
    await engine.dispose()


async def test_ended_lesson_is_exported_when_the_server_has_a_csv_folder(
    tmp_path: Path, demo_data: Path
) -> None:
    shutil.copytree(demo_data, tmp_path / "data")
    folder = tmp_path / "export"
    async with running_server(tmp_path / "data", journal_csv=folder) as server:
        teacher = await sign_in(server, *server.teacher)
        lesson = await new_lesson(server, teacher)
        await api(server, teacher, "POST", f"/api/lessons/{lesson['id']}/start")
        status, ended = await api(server, teacher, "POST", f"/api/lessons/{lesson['id']}/end", {})
        assert (status, ended) == (200, {"queued": 4})
        files: list[Path] = []
        async with asyncio.timeout(20):
            while not files or len(rows(files[0])) < 4:
                files = sorted(folder.glob("attendance-*.csv")) if folder.exists() else []
                await asyncio.sleep(0.05)  # a file on disk: polled, there is no event
    exported = rows(files[0])
    assert {r["lesson_id"] for r in exported} == {str(lesson["id"])}
    assert {r["status"] for r in exported} == {"absent"}
    assert len({r["key"] for r in exported}) == 4
