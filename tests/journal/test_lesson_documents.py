"""After the lesson: its documents stay with it, for its class, its teacher and administrators."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer
from tests.documents import samples
from tests.integration.peers import peers, sign_in
from tests.integration.test_documents import _access, _upload
from tests.journal.helpers import (
    admin,
    api,
    code,
    new_lesson,
    other_teacher,
    teacher_of_another_class,
)


async def fetched(server: LiveServer, token: str, path: str) -> tuple[int, bytes]:
    """A binary answer (a page, a file) with the session `token`."""
    async with (
        aiohttp.ClientSession(cookies={SESSION_COOKIE: token}) as http,
        http.get(server.url + path) as got,
    ):
        return got.status, await got.read()


async def test_a_lessons_documents_open_for_its_people_and_no_one_else(
    live_server: LiveServer, tmp_path: Path
) -> None:
    teacher = await sign_in(live_server, *live_server.teacher)
    lesson = await new_lesson(live_server, teacher, topic="Cells")
    status, started = await api(live_server, teacher, "POST", f"/api/lessons/{lesson['id']}/start")
    assert status == 200, started
    room_id = started["invite_url"].rsplit("/", 1)[1]
    pdf = samples.pdf(tmp_path / "cells", 2).read_bytes()
    clip = samples.flv(tmp_path / "cells.flv")
    async with peers("host") as (host,):
        await host.connect(live_server, teacher)
        assert (await host.call("join", {"v": 1, "room": room_id, "as": "user"}))["ok"]
        token = await _access(host)
        status, answer = await _upload(live_server, room_id, token, pdf, "cells.pdf")
        assert status == 201, answer
        status, video = await _upload(live_server, room_id, token, clip.read_bytes(), "cells.flv")
        assert status == 201, video
    document_id = answer["document"]["id"]
    base = f"/api/lessons/{lesson['id']}/documents/{document_id}"

    pupil = await sign_in(live_server, *live_server.pupils[0])
    stranger, _, _ = await teacher_of_another_class(live_server)
    pupil_7b = await sign_in(live_server, "pupil7b", "pw-pupil-7b-1234")
    colleague = await other_teacher(live_server)
    boss = await admin(live_server)

    # While the lesson runs its class sees it in the room only; its teacher here too.
    status, page = await fetched(live_server, teacher, f"{base}/1-640.webp")
    assert (status, page[8:12]) == (200, b"WEBP")
    status, refused = await api(live_server, pupil, "GET", f"{base}/original")
    assert (status, code(refused)) == (403, "not_permitted")
    status, refused = await api(live_server, pupil, "GET", f"{base}/pages/1?width=640")
    assert (status, code(refused)) == (403, "not_permitted")

    status, ended = await api(live_server, teacher, "POST", f"/api/lessons/{lesson['id']}/end", {})
    assert status == 200, ended

    # After it: the class's pupils, the teacher and administrators; nobody else.
    for allowed in (pupil, teacher, boss):
        status, page = await fetched(live_server, allowed, f"{base}/1-1280.webp")
        assert (status, page[8:12]) == (200, b"WEBP")
    refused_to: tuple[tuple[str | None, tuple[int, str]], ...] = (
        (pupil_7b, (403, "not_permitted")),
        (stranger, (403, "not_permitted")),
        (colleague, (403, "not_permitted")),
        (None, (401, "not_signed_in")),
    )
    for who, expected in refused_to:
        status, refused = await api(live_server, who, "GET", f"{base}/original")
        assert (status, code(refused)) == expected
    # A page image by number and width (the replay's), by the same rule, its inputs checked.
    _, page_2 = await fetched(live_server, teacher, f"{base}/2-1280.webp")
    _, page_1 = await fetched(live_server, teacher, f"{base}/1-1280.webp")
    assert page_2[8:12] == b"WEBP" and page_2 != page_1
    for allowed in (pupil, teacher, boss):
        assert await fetched(live_server, allowed, f"{base}/pages/2?width=1280") == (200, page_2)
    for who, expected in refused_to:
        status, refused = await api(live_server, who, "GET", f"{base}/pages/2?width=1280")
        assert (status, code(refused)) == expected
    wrong = (
        ("pages/3?width=640", (400, "no_such_page")),  # the PDF has 2 pages
        ("pages/0?width=640", (400, "no_such_page")),
        ("pages/x?width=640", (400, "no_such_page")),
        ("pages/1?width=800", (400, "out_of_range")),  # not a rendered width
        ("pages/1", (400, "out_of_range")),
    )
    for path, expected in wrong:
        status, refused = await api(live_server, pupil, "GET", f"{base}/{path}")
        assert (status, code(refused)) == expected, path
        assert refused["error"]["message"]
    video_pages = f"/api/lessons/{lesson['id']}/documents/{video['document']['id']}/pages/1"
    status, refused = await api(live_server, pupil, "GET", f"{video_pages}?width=640")
    assert (status, code(refused)) == (400, "no_such_page")
    status, refused = await api(
        live_server, pupil, "GET", f"/api/lessons/{lesson['id']}/documents/{'0' * 64}/original"
    )
    assert (status, code(refused)) == (404, "unknown_document")
    status, refused = await api(live_server, pupil, "GET", f"{base}/..%2Fmeta.json")
    assert (status, code(refused)) == (404, "unknown_document")

    # The lesson page and the class's diary list them, with where they open.
    status, detail = await api(live_server, teacher, "GET", f"/api/lessons/{lesson['id']}")
    listed = [(d["name"], d["url"]) for d in detail["documents"]]
    video_id = video["document"]["id"]
    assert listed == [
        ("cells.pdf", f"{base}/original"),
        ("cells.flv", f"/api/lessons/{lesson['id']}/documents/{video_id}/video.mp4"),
    ]
    status, diary = await api(live_server, pupil, "GET", "/api/diary")
    assert status == 200
    entries = [x for day in diary["days"] for x in day["lessons"] if x["lesson_id"] == lesson["id"]]
    assert [d["url"] for d in entries[0]["documents"]] == [url for _, url in listed]
    async with aiohttp.ClientSession(cookies={SESSION_COOKIE: pupil}) as http:
        got = await http.get(live_server.url + listed[0][1])
        assert (got.status, await got.read()) == (200, pdf)
        assert got.headers["Content-Disposition"] == "attachment; filename*=UTF-8''cells.pdf"
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        got = await http.get(live_server.url + listed[1][1])
        assert got.status == 200 and got.headers["Content-Type"] == "video/mp4"
        assert (await got.read())[4:8] == b"ftyp"
