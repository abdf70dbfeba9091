"""Documents over real HTTP and socket.io: upload, progress, share, pages, who may do what."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer, running_server
from tests.documents import samples
from tests.integration.peers import Peer, host_in_room, peers, sign_in
from tests.integration.server_process import server_process


async def _join_pupil(server: LiveServer, pupil: Peer, room_id: str, index: int = 0) -> str:
    await pupil.connect(server, await sign_in(server, *server.pupils[index]))
    ack = await pupil.call("join", {"v": 1, "room": room_id, "as": "user"})
    assert ack["ok"], ack
    participant_id: str = ack["you"]["id"]
    return participant_id


async def _access(peer: Peer) -> str:
    ack = await peer.call("document_access")
    assert ack["ok"], ack
    token: str = ack["access"]
    return token


async def _upload(
    server: LiveServer, room_id: str, token: str | None, body: Any, name: str = "lesson.pdf"
) -> tuple[int, dict[str, Any]]:
    headers = {"X-Sabaq-Access": token} if token else {}
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{server.url}/api/rooms/{room_id}/documents",
            params={"name": name},
            data=body,
            headers=headers,
        )
        answer: dict[str, Any] = await response.json()
        return response.status, answer


@asynccontextmanager
async def _room_with_pupil(server: LiveServer) -> AsyncIterator[tuple[Peer, Peer, str]]:
    """A host in a new room and a pupil of its class in it: (host, pupil, the room's id)."""
    async with peers("host", "pupil") as (host, pupil):
        room = await host_in_room(server, host)
        await _join_pupil(server, pupil, room["id"])
        yield host, pupil, room["id"]


async def test_presenter_shares_a_pdf_and_everyone_follows(
    live_server: LiveServer, tmp_path: Path
) -> None:
    async with peers("host", "pupil", "late") as (host, pupil, late):
        room_id = (await host_in_room(live_server, host))["id"]
        await _join_pupil(live_server, pupil, room_id)
        token = await _access(host)
        pdf = samples.pdf(tmp_path / "x", 3).read_bytes()
        status, answer = await _upload(live_server, room_id, token, pdf, "Фотосинтез.pdf")
        assert status == 201, answer
        document = answer["document"]
        assert (document["kind"], document["pages"], document["name"]) == (
            "pdf",
            3,
            "Фотосинтез.pdf",
        )
        # Conversion progress reached the host page by page, first page first.
        await host.wait("document_progress", lambda d: d["page"] == 3)
        progress = [(p["page"], p["pages"]) for p in host.seen("document_progress")]
        assert progress == [(1, 3), (2, 3), (3, 3)]
        assert pupil.seen("document_progress") == []  # staff only

        assert (await host.call("share_document", {"document": document["id"]}))["ok"]
        shared = await pupil.wait("share_changed")
        assert shared["share"]["page"] == 1 and shared["share"]["document"]["id"] == document["id"]
        pupil_token = await _access(pupil)
        url = f"{live_server.url}/api/rooms/{room_id}/documents/{document['id']}/1-1280.webp"
        async with aiohttp.ClientSession() as http:
            page = await http.get(url, params={"access": pupil_token})
            assert page.status == 200
            assert page.headers["Content-Type"] == "image/webp"
            assert page.headers["X-Content-Type-Options"] == "nosniff"
            assert page.headers["Content-Disposition"].startswith("inline")
            assert "immutable" in page.headers["Cache-Control"]
            assert (await page.read())[8:12] == b"WEBP"
            original = await http.get(
                url.replace("1-1280.webp", "original"), params={"access": pupil_token}
            )
            assert original.headers["Content-Disposition"].startswith("attachment")
            assert await original.read() == pdf
            # Without the room's ticket: nothing, not even with a guessed path.
            assert (await http.get(url)).status == 401
            bad = await http.get(
                url.replace("1-1280.webp", "..%2Fmeta.json"), params={"access": pupil_token}
            )
            assert bad.status == 404

        assert (await host.call("set_page", {"page": 2}))["ok"]
        assert (await pupil.wait("page_changed")) == {"document": document["id"], "page": 2}
        assert (await host.call("set_page", {"page": 9}))["error"]["code"] == "no_such_page"
        await _join_pupil(live_server, late, room_id, 1)
        state = await late.wait("room_state")
        assert state["share"]["page"] == 2
        listed = (await late.call("document_access"))["documents"]
        assert [d["id"] for d in listed] == [document["id"]]


async def test_who_may_upload_and_fetch(live_server: LiveServer, tmp_path: Path) -> None:
    async with _room_with_pupil(live_server) as (host, pupil, room_id):
        png = samples.png(tmp_path / "p.png").read_bytes()
        status, answer = await _upload(live_server, room_id, await _access(pupil), png)
        assert (status, answer["error"]["code"]) == (403, "not_permitted")
        status, answer = await _upload(live_server, room_id, None, png)
        assert (status, answer["error"]["code"]) == (401, "not_signed_in")
        status, answer = await _upload(live_server, "another-room", await _access(host), png)
        assert (status, answer["error"]["code"]) == (403, "not_permitted")
        assert (await pupil.call("share_document", {"document": "0" * 64}))["error"][
            "code"
        ] == "unknown_document"
        assert (await pupil.call("stop_sharing"))["error"]["code"] == "not_permitted"


async def test_a_lessons_documents_stay_with_the_lesson(
    live_server: LiveServer, tmp_path: Path
) -> None:
    teacher = await sign_in(live_server, *live_server.teacher)
    start = time.time() - 1
    lesson = {
        "class_id": live_server.class_id,
        "subject": "Biology",
        "starts_at": start,
        "ends_at": start + 2700,
        "topic": "Cells",
    }
    async with aiohttp.ClientSession(cookies={SESSION_COOKIE: teacher}) as http:
        made = await (await http.post(f"{live_server.url}/api/lessons", json=lesson)).json()
        lesson_id = made["lesson"]["id"]
        started = await (await http.post(f"{live_server.url}/api/lessons/{lesson_id}/start")).json()
        room_id = started["invite_url"].rsplit("/", 1)[1]
        async with peers("host") as (host,):
            await host.connect(live_server, teacher)
            assert (await host.call("join", {"v": 1, "room": room_id, "as": "user"}))["ok"]
            token = await _access(host)
            for name, maker in (("cells.png", samples.png), ("quiz.pdf", samples.jpeg)):
                status, _ = await _upload(
                    live_server, room_id, token, maker(tmp_path / name).read_bytes(), name
                )
                assert status == 201
        detail = await (await http.get(f"{live_server.url}/api/lessons/{lesson_id}")).json()
    assert [(d["name"], d["kind"], d["pages"]) for d in detail["documents"]] == [
        ("cells.png", "png", 1),
        ("quiz.pdf", "jpeg", 1),
    ]


@pytest.fixture
async def small_server(tmp_path: Path, demo_data: Path) -> AsyncIterator[LiveServer]:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    async with running_server(data, doc_max_mb=0.1) as server:
        yield server


async def test_bad_uploads_fail_closed_and_the_room_keeps_working(
    small_server: LiveServer, tmp_path: Path
) -> None:
    async with _room_with_pupil(small_server) as (host, pupil, room_id):
        token = await _access(host)
        html = b"<!DOCTYPE html><script>alert(1)</script>"
        status, answer = await _upload(small_server, room_id, token, html)
        assert (status, answer["error"]["code"]) == (415, "document_unsupported")
        status, answer = await _upload(small_server, room_id, token, b"CWS\x0a" + b"\0" * 50)
        assert (status, answer["error"]["code"]) == (415, "document_flash")

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the cap is counted
            for _ in range(20):
                yield b"%PDF-" + b"\0" * 10_000

        status, answer = await _upload(small_server, room_id, token, chunks())
        assert (status, answer["error"]["code"]) == (413, "document_too_large")
        work = small_server.settings.data / "documents-work"
        assert list(work.iterdir()) == []
        assert (await host.call("chat_send", {"text": "still here"}))["ok"]
        await pupil.wait("chat_message", lambda d: d["message"]["text"] == "still here")


async def test_a_document_is_shared_from_its_first_page_while_the_rest_converts(
    live_server: LiveServer, tmp_path: Path
) -> None:
    async with _room_with_pupil(live_server) as (host, pupil, room_id):
        token = await _access(host)
        pdf = samples.pdf(tmp_path / "long", 30).read_bytes()
        uploading = asyncio.create_task(_upload(live_server, room_id, token, pdf, "long.pdf"))
        first = await host.wait("document_progress", lambda d: d["page"] == 1)
        assert first["by"] == (await host.wait("room_state"))["you"]["id"]
        assert first["name"] == "long.pdf"
        shared = await host.call("share_document", {"document": first["document"]})
        assert shared["ok"], shared
        assert not uploading.done()  # shared while pages were still being made
        state = (await pupil.wait("share_changed"))["share"]
        assert (state["document"]["pages"], state["page"]) == (30, 1)
        assert state["document"]["widths"] == [640, 1280, 1920]
        assert state["document"]["aspect"] == pytest.approx(720 / 1280, abs=0.01)
        listed = (await _access_ack(host))["documents"]
        assert [(d["converting"], d["ready"] >= 1) for d in listed] == [(True, True)]
        status, answer = await uploading
        assert status == 201 and "converting" not in answer["document"]
        assert answer["document"]["aspect"] == pytest.approx(720 / 1280, abs=0.01)


async def _access_ack(peer: Peer) -> dict[str, Any]:
    ack = await peer.call("document_access")
    assert ack["ok"] and isinstance(ack["now"], float), ack
    return ack


async def test_the_presenters_pointer_reaches_everyone_as_fractions_of_the_page(
    live_server: LiveServer, tmp_path: Path
) -> None:
    async with _room_with_pupil(live_server) as (host, pupil, room_id):
        assert (await host.call("set_pointer", {"x": 0.5, "y": 0.5}))["error"][
            "code"
        ] == "nothing_shared"
        status, answer = await _upload(
            live_server,
            room_id,
            await _access(host),
            samples.pdf(tmp_path / "p", 2).read_bytes(),
        )
        assert status == 201
        assert (await host.call("share_document", {"document": answer["document"]["id"]}))["ok"]
        assert (await host.call("set_pointer", {"x": 0.25, "y": 0.75}))["ok"]
        seen = await pupil.wait("pointer")
        assert seen == {"document": answer["document"]["id"], "page": 1, "x": 0.25, "y": 0.75}
        assert (await host.call("set_pointer", {"x": None, "y": None}))["ok"]
        await pupil.wait("pointer", lambda d: d["x"] is None)
        off_page = await host.call("set_pointer", {"x": 1.5, "y": 0.5})
        assert off_page["error"]["code"] == "invalid_payload"
        refused = await pupil.call("set_pointer", {"x": 0.1, "y": 0.1})
        assert refused["error"]["code"] == "not_permitted"


async def test_one_file_of_a_shared_zip_is_streamed_by_a_checked_name(
    live_server: LiveServer, tmp_path: Path
) -> None:
    async with _room_with_pupil(live_server) as (host, pupil, room_id):
        archive = samples.good_zip(tmp_path / "w.zip").read_bytes()
        status, answer = await _upload(live_server, room_id, await _access(host), archive, "w.zip")
        assert status == 201 and answer["document"]["shown_as"] == "listing"
        url = f"{live_server.url}/api/rooms/{room_id}/documents/{answer['document']['id']}/entry"
        token = await _access(pupil)
        async with aiohttp.ClientSession() as http:
            got = await http.get(url, params={"access": token, "name": "images/diagram.txt"})
            assert got.status == 200
            assert await got.read() == b"a diagram"
            assert got.headers["Content-Disposition"] == "attachment; filename*=UTF-8''diagram.txt"
            assert got.headers["X-Content-Type-Options"] == "nosniff"
            for name in ("../w.zip", "images/", "nothing.txt", "/etc/passwd", ""):
                bad = await http.get(url, params={"access": token, "name": name})
                assert (bad.status, (await bad.json())["error"]["code"]) == (
                    404,
                    "unknown_document",
                ), name
            assert (await http.get(url, params={"name": "images/diagram.txt"})).status == 401
        work = live_server.settings.data / "documents-work"
        assert not work.exists() or list(work.iterdir()) == []


async def _readyz(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/readyz") as response:
        answer: dict[str, Any] = await response.json()
        return answer


def _kernel_allows_the_sandbox() -> bool:
    """What this machine allows, asked the way an operator would, independently of the server."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    ran = subprocess.run(
        [unshare, "--net", "--map-root-user", "true"], capture_output=True, check=False
    )
    return ran.returncode == 0


async def test_the_server_says_at_start_up_whether_conversions_run_in_a_network_sandbox(
    data: Path,
) -> None:
    """The real `sabaq serve`: one line in its log before any upload, and `/readyz` says it."""
    allowed = await asyncio.to_thread(_kernel_allows_the_sandbox)
    async with server_process(data) as child:
        lines = [line for line in child.output().splitlines() if "document conversion:" in line]
        assert len(lines) == 1, child.output()
        if allowed:
            assert lines[0].endswith(
                "INFO server.documents.isolation: document conversion: network sandbox on"
            ), lines
        else:
            assert "network sandbox off: " in lines[0], lines
            assert lines[0].endswith(", conversions run without a network namespace"), lines
        ready = await _readyz(child.server.url)
        assert ready["document_sandbox"] == ("on" if allowed else "off"), ready
        assert ready["status"] == "ready", ready


async def test_without_unshare_the_server_says_conversions_run_without_the_sandbox(
    data: Path, tmp_path: Path
) -> None:
    """A machine without util-linux's `unshare` (a PATH without it): off, and why."""
    bare = tmp_path / "bin"  # nothing in it: `unshare` is not found
    bare.mkdir()
    async with server_process(data, env={"PATH": str(bare)}) as child:
        log = child.output()
        assert (
            "WARNING server.documents.isolation: document conversion: network sandbox off: "
            "unshare (util-linux) is not installed, conversions run without a network namespace"
        ) in log, log
        ready = await _readyz(child.server.url)
        # Still ready: conversions run, only without the namespace (docs/documents.md).
        assert ready["status"] == "ready" and ready["document_sandbox"] == "off", ready
