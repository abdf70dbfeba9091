"""`sabaq users …` on a school's data folder, then the server sees the change (issue 10)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from tests.conftest import running_server
from tests.integration.peers import peers, sign_in
from tests.integration.test_people import sign_in_status
from tests.integration.test_server import run_cli
from tests.journal.helpers import admin, api


async def test_the_command_line_manages_accounts(tmp_path: Path, demo_data: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    folder = ("--data", str(data))

    added = run_cli("users", "add", "a.karimova", "Aigerim Karimova", "--kind", "teacher", *folder)
    assert added.returncode == 0, added.stderr
    login, password = added.stdout.strip().split("\t")
    assert login == "a.karimova"
    taken = run_cli("users", "add", "a.karimova", "Again", *folder)
    assert (taken.returncode, "taken" in taken.stderr) == (1, True)
    staff = tmp_path / "teachers.csv"
    staff.write_text("login,full_name\nm.ospan,Marat Ospan\n", encoding="utf-8")
    imported = run_cli("journal", "import", "--teachers", str(staff), *folder)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines()[1].startswith("m.ospan,")

    async with running_server(data, keep_one_time=True) as server:
        pupil_login, pupil_password = server.pupils[0]
        token = await sign_in(server, pupil_login, pupil_password)
    # While the server is down, the operator disables the pupil and moves another one.
    assert run_cli("users", "disable", pupil_login, *folder).returncode == 0
    other = server.pupils[1][0]
    moved = run_cli("users", "move", other, "no-such-class", *folder)
    assert (moved.returncode, "no class" in moved.stderr) == (1, True)
    listing = run_cli("users", "list", "--kind", "pupil", *folder)
    assert f"{pupil_login}\tpupil\tdisabled\t" in listing.stdout

    async with running_server(data, keep_one_time=True) as server:
        first = await sign_in_status(server, login, password)
        assert (first[0], first[1]["user"]["must_change_password"]) == (200, True)
        refused = await sign_in_status(server, pupil_login, pupil_password)
        assert (refused[0], refused[1]["error"]["code"]) == (403, "account_disabled")
        assert (await api(server, token, "GET", "/api/me"))[1]["user"] is None
        _, audit = await api(server, await admin(server), "GET", "/api/admin/audit")
        assert [(e["actor"], e["action"], e["target"]) for e in audit["entries"][:3]] == [
            ("(command line)", "user.disable", pupil_login),
            ("(command line)", "user.import", "m.ospan"),
            ("(command line)", "user.add", "a.karimova"),
        ]


async def test_the_command_line_tells_a_running_servers_sockets(
    tmp_path: Path, demo_data: Path, redis_url: str
) -> None:
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    async with running_server(data, redis=redis_url) as server, peers("pupil") as (pupil,):
        login, password = server.pupils[0]
        await pupil.connect(server, await sign_in(server, login, password))
        done = await asyncio.to_thread(
            run_cli, "users", "reset-password", login, "--data", str(data), "--redis", redis_url
        )
        assert done.returncode == 0, done.stderr
        assert "1 session(s) ended" in done.stderr
        assert await pupil.wait("signed_out") == {"reason": "password_reset"}
        await pupil.wait("disconnect")
