"""The archive writer: ordered, batched, and one bad record loses no others."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rooms.model import Record
from server.archive import Archive
from server.db.accounts import Store
from server.db.engine import migrate, open_engine, sessions


async def test_a_bad_record_in_a_batch_loses_none_of_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    await migrate(engine)
    store = Store(sessions(engine))
    teacher = await store.create_user("t", "Teacher", "teacher", "password-123")
    room = await store.create_room("Room", teacher.id, None, "ask_host")
    archive = Archive(sessions(engine))

    def message(i: int) -> Record:
        return Record(
            "chat_message",
            {"id": i, "from": {"name": "T", "role": "host"}, "text": f"m{i}", "at": float(i)},
        )

    # Queued together, so the writer takes them as one batch.
    archive.enqueue("s1", room.id, message(1))
    archive.enqueue("s1", room.id, Record("bogus", {}))
    archive.enqueue("s1", room.id, message(2))
    archive.enqueue("s1", room.id, Record("chat_deleted", {"id": 1}))
    with caplog.at_level(logging.ERROR):
        await archive.flush()
    assert [m.text for m in await archive.chat(room.id)] == ["m2"]
    assert any("could not keep bogus" in r.getMessage() for r in caplog.records)
    await archive.close()
    await engine.dispose()
