"""Who may write privately to whom, over real socket.io: by role and standing (guest, pupil,
staff), by the school's setting and the room's."""

from __future__ import annotations

from typing import Any

from rooms.chat_policy import PrivateChat
from tests.conftest import LiveServer
from tests.integration.peers import Peer, guest_join, host_in_room, peers, sign_in
from tests.journal.helpers import admin, api, other_teacher
from tests.unit.test_chat_policy import allowed

# Each peer, with who it is in tests/unit/test_chat_policy.py's table.
PEOPLE = {
    "host": "host",
    "tpres": "teacher presenter",
    "ppres": "pupil presenter",
    "pupil1": "pupil",
    "pupil2": "pupil",
    "gpres": "guest presenter",
    "guest1": "guest",
    "guest2": "guest",
}
NAMES = list(PEOPLE)
# The second of a kind is written to only by the first: within the chat's burst of 6 messages.
TWINS = {"pupil2": "pupil1", "guest2": "guest1"}


async def fill_room(
    server: LiveServer, people: dict[str, Peer], tokens: dict[str, str], room_id: str | None = None
) -> tuple[str, dict[str, str]]:
    """Host opens a room that admits guests (or reopens `room_id`); a second teacher and three
    pupils sign in and two guests come; the host makes a teacher, a pupil and a guest presenters."""
    if room_id is None:
        room_id = (await host_in_room(server, people["host"], guest_policy="always_admit"))["id"]
    else:
        await enter(server, people["host"], room_id, tokens["host"])
    ids = {"host": (await people["host"].wait("room_state"))["you"]["id"]}
    for name in ("tpres", "ppres", "pupil1", "pupil2"):
        await enter(server, people[name], room_id, tokens[name])
        ids[name] = (await people[name].wait("room_state"))["you"]["id"]
    for name in ("gpres", "guest1", "guest2"):
        await enter(server, people[name], room_id, None, guest=name)
        ids[name] = (await people[name].wait("room_state"))["you"]["id"]
    for name in ("tpres", "ppres", "gpres"):
        promote = {"participant": ids[name], "role": "presenter"}
        assert (await people["host"].call("set_role", promote))["ok"]
        await people[name].wait("room_state", lambda d: d["you"]["role"] == "presenter")
    return room_id, ids


async def enter(
    server: LiveServer, peer: Peer, room_id: str, token: str | None, guest: str = ""
) -> None:
    if not peer.sio.connected:
        await peer.connect(server, token)
    payload = (
        guest_join(room_id, guest.title()) if guest else {"v": 1, "room": room_id, "as": "user"}
    )
    assert (await peer.call("join", payload))["status"] == "joined"


async def check_matrix(people: dict[str, Peer], ids: dict[str, str], setting: PrivateChat) -> None:
    """Everyone but the twins writes privately to everyone else: delivered or refused as the
    table says."""
    for sender in NAMES:
        if sender in TWINS:
            continue
        for recipient in NAMES:
            if recipient == sender or TWINS.get(recipient, sender) != sender:
                continue
            text = f"{setting.value}: {sender} to {recipient}"
            ack = await people[sender].call("chat_send", {"text": text, "to": ids[recipient]})
            if setting in allowed(PEOPLE[sender], PEOPLE[recipient]):
                assert ack["ok"], (text, ack)
                got = await people[recipient].wait(
                    "chat_message", lambda d, t=text: d["message"]["text"] == t
                )
                assert got["message"]["to"]["id"] == ids[recipient]
            else:
                assert ack["error"]["code"] == "private_not_allowed", (text, ack)


def settings_of(state: dict[str, Any]) -> tuple[str, list[str]]:
    """The room's setting and whom this person may write to, as the server tells them."""
    chat, you = state["chat"], state["you"]
    return chat["private_chat"], chat["private_to"][f"{you['standing']}/{you['role']}"]


async def test_private_chat_matrix_by_role_standing_school_setting_and_room(
    live_server: LiveServer,
) -> None:
    boss = await admin(live_server)
    pupils = [await sign_in(live_server, *pupil) for pupil in live_server.pupils[:3]]
    tokens = {
        "host": await sign_in(live_server, *live_server.teacher),
        "tpres": await other_teacher(live_server),
        **dict(zip(("ppres", "pupil1", "pupil2"), pupils, strict=True)),
    }
    # The school allows pupils to write to each other: a new room starts that way.
    status, school = await api(
        live_server, boss, "PUT", "/api/admin/school", {"private_chat": "classmates"}
    )
    assert (status, school["private_chat"]) == (200, "classmates")
    async with peers(*NAMES) as made:
        people = dict(zip(NAMES, made, strict=True))
        _, ids = await fill_room(live_server, people, tokens)
        pupil_state = people["pupil1"].seen("room_state")[-1]
        assert settings_of(pupil_state) == (
            "classmates",
            [
                "staff/host",
                "staff/presenter",
                "staff/participant",
                "pupil/presenter",
                "pupil/participant",
            ],
        )
        await check_matrix(people, ids, PrivateChat.CLASSMATES)

    # Back to the safe default for the school; a new room starts there.
    assert (await api(live_server, boss, "PUT", "/api/admin/school", {"private_chat": "staff"}))[
        0
    ] == 200
    async with peers(*NAMES) as made:
        people = dict(zip(NAMES, made, strict=True))
        room_id, ids = await fill_room(live_server, people, tokens)
        guest_state = people["guest1"].seen("room_state")[-1]
        assert settings_of(guest_state) == (
            "staff",
            ["staff/host", "staff/presenter", "guest/presenter"],
        )
        # The pupil the host made presenter is told whom they may reach: not the other pupils.
        presenter_state = people["ppres"].seen("room_state")[-1]
        assert settings_of(presenter_state) == (
            "staff",
            ["staff/host", "staff/presenter", "staff/participant"],
        )
        await check_matrix(people, ids, PrivateChat.STAFF)
        # The host narrows it in the room; everyone is told, with who may write to whom.
        refused = await people["pupil1"].call("chat_private", {"setting": "classmates"})
        assert refused["error"]["code"] == "not_permitted"
        bad = await people["host"].call("chat_private", {"setting": "everyone"})
        assert bad["error"]["code"] == "invalid_payload"
        assert (await people["host"].call("chat_private", {"setting": "hosts"}))["ok"]
        told = await people["pupil2"].wait("chat_settings")
        assert (told["private_chat"], told["private_to"]["pupil/participant"]) == (
            "hosts",
            ["staff/host"],
        )

    # The room keeps its host's choice for its next session, whatever the school's setting.
    async with peers(*NAMES) as made:
        people = dict(zip(NAMES, made, strict=True))
        _, ids = await fill_room(live_server, people, tokens, room_id)
        assert people["host"].seen("room_state")[-1]["chat"]["private_chat"] == "hosts"
        await check_matrix(people, ids, PrivateChat.HOSTS)
