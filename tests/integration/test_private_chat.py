"""Who may write privately to whom, over real socket.io: by role, school setting and room."""

from __future__ import annotations

from typing import Any

from rooms.chat_policy import PrivateChat, may_write_privately
from rooms.roles import Role
from tests.conftest import LiveServer
from tests.integration.peers import Peer, guest_join, host_in_room, peers, sign_in
from tests.journal.helpers import admin, api

# Two people of each role (one host is all a room has), by the peer names below.
ROLES = {
    "host": Role.HOST,
    "pres1": Role.PRESENTER,
    "pres2": Role.PRESENTER,
    "pupil1": Role.PARTICIPANT,
    "pupil2": Role.PARTICIPANT,
    "guest1": Role.GUEST,
    "guest2": Role.GUEST,
}
NAMES = list(ROLES)


async def fill_room(
    server: LiveServer, people: dict[str, Peer], tokens: list[str]
) -> tuple[str, dict[str, str]]:
    """Host opens a room that admits guests; the 4 pupils join (two made presenters), 2 guests."""
    room = await host_in_room(server, people["host"], guest_policy="always_admit")
    ids = {"host": (await people["host"].wait("room_state"))["you"]["id"]}
    for i, name in enumerate(("pres1", "pres2", "pupil1", "pupil2")):
        await enter(server, people[name], room["id"], tokens[i])
        ids[name] = (await people[name].wait("room_state"))["you"]["id"]
    for name in ("guest1", "guest2"):
        await enter(server, people[name], room["id"], None, guest=name)
        ids[name] = (await people[name].wait("room_state"))["you"]["id"]
    for name in ("pres1", "pres2"):
        promote = {"participant": ids[name], "role": "presenter"}
        assert (await people["host"].call("set_role", promote))["ok"]
        await people[name].wait("room_state", lambda d: d["you"]["role"] == "presenter")
    return room["id"], ids


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
    """One person of each role writes to one person of every role: allowed or refused.

    Within burst of the chat's rate limit: at most 6 accepted messages per sender and room.
    """
    for sender in ("host", "pres1", "pupil1", "guest1"):
        for recipient in ("host", "pres1", "pupil1", "guest1"):
            if recipient == sender:
                recipient = sender.replace("1", "2")  # the same role: the twin
                if recipient == sender:
                    continue  # a room has one host
            text = f"{setting.value}: {sender} to {recipient}"
            ack = await people[sender].call("chat_send", {"text": text, "to": ids[recipient]})
            allowed = may_write_privately(setting, ROLES[sender], ROLES[recipient])
            if allowed:
                assert ack["ok"], (text, ack)
                got = await people[recipient].wait(
                    "chat_message", lambda d, t=text: d["message"]["text"] == t
                )
                assert got["message"]["to"]["id"] == ids[recipient]
            else:
                assert ack["error"]["code"] == "private_not_allowed", (text, ack)


def settings_of(state: dict[str, Any]) -> tuple[str, list[str]]:
    chat = state["chat"]
    return chat["private_chat"], chat["private_to"][state["you"]["role"]]


async def test_private_chat_matrix_by_role_school_setting_and_room(
    live_server: LiveServer,
) -> None:
    boss = await admin(live_server)
    tokens = [await sign_in(live_server, *pupil) for pupil in live_server.pupils]
    # The school allows pupils to write to each other: a new room starts that way.
    status, school = await api(
        live_server, boss, "PUT", "/api/admin/school", {"private_chat": "classmates"}
    )
    assert (status, school["private_chat"]) == (200, "classmates")
    async with peers(*NAMES) as made:
        people = dict(zip(NAMES, made, strict=True))
        _, ids = await fill_room(live_server, people, tokens)
        pupil_state = people["pupil1"].seen("room_state")[-1]
        assert settings_of(pupil_state) == ("classmates", ["host", "presenter", "participant"])
        await check_matrix(people, ids, PrivateChat.CLASSMATES)

    # Back to the safe default for the school; a new room of another host session starts there.
    assert (await api(live_server, boss, "PUT", "/api/admin/school", {"private_chat": "staff"}))[
        0
    ] == 200
    async with peers(*NAMES) as made:
        people = dict(zip(NAMES, made, strict=True))
        room_id, ids = await fill_room(live_server, people, tokens)
        guest_state = people["guest1"].seen("room_state")[-1]
        assert settings_of(guest_state) == ("staff", ["host", "presenter"])
        await check_matrix(people, ids, PrivateChat.STAFF)
        # The host narrows it in the room; everyone is told, with who may write to whom.
        refused = await people["pupil1"].call("chat_private", {"setting": "classmates"})
        assert refused["error"]["code"] == "not_permitted"
        bad = await people["host"].call("chat_private", {"setting": "everyone"})
        assert bad["error"]["code"] == "invalid_payload"
        assert (await people["host"].call("chat_private", {"setting": "hosts"}))["ok"]
        told = await people["pupil2"].wait("chat_settings")
        assert (told["private_chat"], told["private_to"]["participant"]) == ("hosts", ["host"])
        await check_matrix(people, ids, PrivateChat.HOSTS)

    # The room keeps its host's choice for its next session, whatever the school's setting.
    async with peers("host") as (host,):
        token = await sign_in(live_server, *live_server.teacher)
        await host.connect(live_server, token)
        assert (await host.call("join", {"v": 1, "room": room_id, "as": "user"}))["ok"]
        assert (await host.wait("room_state"))["chat"]["private_chat"] == "hosts"
