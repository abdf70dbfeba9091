"""Host, pupil and guest over real socket.io against a real server."""

from __future__ import annotations

from tests.conftest import LiveServer
from tests.integration.peers import (
    Peer,
    admit_guest,
    create_room,
    guest_join,
    host_in_room,
    peers,
    sign_in,
)


async def test_invite_link_points_at_the_room_page(live_server: LiveServer) -> None:
    token = await sign_in(live_server, *live_server.teacher)
    room = await create_room(live_server, token)
    assert room["invite_url"] == f"{live_server.url}/r/{room['id']}"
    assert room["class_name"] == "7A" and room["guest_policy"] == "ask_host"


async def test_pupil_of_the_class_goes_straight_in(live_server: LiveServer) -> None:
    async with peers("host", "pupil") as (host, pupil):
        room = await host_in_room(live_server, host)
        await pupil.connect(live_server, await sign_in(live_server, *live_server.pupils[0]))
        ack = await pupil.call("join", {"v": 1, "room": room["id"], "as": "user"})
        assert ack["ok"] and ack["status"] == "joined"
        assert ack["you"]["role"] == "participant" and ack["you"]["name"] == "Aigerim Nurlanova"
        joined = await host.wait(
            "participant_joined",
            lambda d: (
                d["participant"]["kind"] == "user" and d["participant"]["role"] == "participant"
            ),
        )
        assert joined["participant"]["id"] == ack["you"]["id"]
        state = await pupil.wait("room_state")
        assert [p["role"] for p in state["participants"]] == ["host", "participant"]
        assert state["lobby"] == []


async def test_guest_knocks_and_host_admits(live_server: LiveServer) -> None:
    async with peers("host", "guest") as (host, guest):
        room = await host_in_room(live_server, host)
        await guest.connect(live_server)
        ack = await guest.call("join", guest_join(room["id"]))
        assert ack["ok"] and ack["status"] == "waiting" and ack["you"]["role"] == "guest"
        assert await guest.wait("waiting") == {"position": 1, "host_present": True}
        lobby = await host.wait("lobby", lambda d: d["lobby"])
        knock = lobby["lobby"][0]
        assert (knock["name"], knock["institution"]) == ("Asel Bekova", "School 12")

        assert (await host.call("admit", {"participant": knock["id"]}))["ok"]
        await guest.wait("admitted")
        state = await guest.wait("room_state")
        assert {p["name"]: p["role"] for p in state["participants"]} == {
            "Gulnara Sadykova": "host",
            "Asel Bekova": "guest",
        }
        await host.wait("participant_joined", lambda d: d["participant"]["id"] == knock["id"])
        await host.wait("lobby", lambda d: d["lobby"] == [])


async def test_guest_denied_and_knocker_leaving(live_server: LiveServer) -> None:
    async with peers("host", "g1", "g2") as (host, g1, g2):
        room = await host_in_room(live_server, host)
        for peer, name in ((g1, "First"), (g2, "Second")):
            await peer.connect(live_server)
            assert (await peer.call("join", guest_join(room["id"], name)))["ok"]
        lobby = await host.wait("lobby", lambda d: len(d["lobby"]) == 2)
        first, second = (k["id"] for k in lobby["lobby"])
        await g2.wait("waiting", lambda d: d["position"] == 2)

        assert (await host.call("deny", {"participant": first}))["ok"]
        assert await g1.wait("denied") == {"reason": "denied_by_host"}
        await g2.wait("waiting", lambda d: d["position"] == 1)

        assert (await g2.call("leave", {}))["ok"]
        await host.wait("lobby", lambda d: d["lobby"] == [])
        # A denied guest's connection survives; it may knock again.
        again = await g1.call("join", guest_join(room["id"], "First"))
        assert again["ok"] and again["status"] == "waiting"
        assert again["you"]["id"] not in (first, second)  # a new join, a new participant id


async def test_knocker_disconnecting_disappears_from_the_lobby(live_server: LiveServer) -> None:
    async with peers("host", "guest") as (host, guest):
        room = await host_in_room(live_server, host)
        await guest.connect(live_server)
        await guest.call("join", guest_join(room["id"]))
        await host.wait("lobby", lambda d: len(d["lobby"]) == 1)
        await guest.close()
        await host.wait("lobby", lambda d: d["lobby"] == [])


async def test_presenter_and_back_and_remove(live_server: LiveServer) -> None:
    async with peers("host", "pupil") as (host, pupil):
        room = await host_in_room(live_server, host)
        await pupil.connect(live_server, await sign_in(live_server, *live_server.pupils[1]))
        me = (await pupil.call("join", {"v": 1, "room": room["id"], "as": "user"}))["you"]["id"]

        assert (await host.call("set_role", {"participant": me, "role": "presenter"}))["ok"]
        updated = await pupil.wait("participant_updated")
        assert updated["participant"]["role"] == "presenter"
        assert (await host.call("set_role", {"participant": me, "role": "participant"}))["ok"]
        await pupil.wait("participant_updated", lambda d: d["participant"]["role"] == "participant")

        assert (await host.call("remove", {"participant": me}))["ok"]
        await pupil.wait("removed")
        left = await host.wait("participant_left")
        assert left == {"participant": me, "reason": "removed"}
        # Removed: the pupil's next entry waits in the lobby instead of walking back in.
        ack = await pupil.call("join", {"v": 1, "room": room["id"], "as": "user"})
        assert ack["status"] == "waiting"


async def test_policy_switch_admits_waiting_guests(live_server: LiveServer) -> None:
    async with peers("host", "guest") as (host, guest):
        room = await host_in_room(live_server, host)
        await guest.connect(live_server)
        await guest.call("join", guest_join(room["id"]))
        await host.wait("lobby", lambda d: len(d["lobby"]) == 1)
        assert (await host.call("set_guest_policy", {"policy": "always_admit"}))["ok"]
        await guest.wait("admitted")
        changed = await guest.wait("policy_changed")
        assert changed == {"guest_policy": "always_admit"}


async def test_always_deny_room_refuses_guests(live_server: LiveServer) -> None:
    async with peers("host", "guest") as (host, guest):
        room = await host_in_room(live_server, host, guest_policy="always_deny")
        await guest.connect(live_server)
        ack = await guest.call("join", guest_join(room["id"]))
        assert ack == {
            "ok": False,
            "error": {"code": "denied", "message": "This meeting does not admit guests."},
        }


async def test_host_leaving_tells_knockers(live_server: LiveServer) -> None:
    async with peers("host", "guest") as (host, guest):
        room = await host_in_room(live_server, host)
        await guest.connect(live_server)
        await guest.call("join", guest_join(room["id"]))
        await guest.wait("waiting", lambda d: d["host_present"])
        await host.close()
        assert await guest.wait("waiting", lambda d: not d["host_present"]) == {
            "position": 1,
            "host_present": False,
        }


async def test_admitted_guest_resumes_after_a_network_blip(live_server: LiveServer) -> None:
    async with peers("host", "guest", "again", "forged") as (host, guest, again, forged):
        room = await host_in_room(live_server, host)
        resume = (await admit_guest(live_server, host, guest, room["id"]))["resume"]
        await guest.close()
        await host.wait("participant_left", lambda d: d["reason"] == "disconnected")

        await again.connect(live_server)
        # The token, not the form, says who this is: no knocking, the same name.
        ack = await again.call("join", {**guest_join(room["id"], "Someone Else"), "resume": resume})
        assert ack["status"] == "joined" and ack["you"]["name"] == "Asel Bekova"

        await forged.connect(live_server)
        ack = await forged.call("join", {**guest_join(room["id"]), "resume": resume + "x"})
        assert ack["status"] == "waiting"

        # Removed: the same token no longer opens the door.
        await host.call("remove", {"participant": ack_id(again)})
        await again.wait("removed")
        back = await again.call("join", {**guest_join(room["id"]), "resume": resume})
        assert back["status"] == "waiting"


def ack_id(peer: Peer) -> str:
    """The participant id a peer was given in its latest room_state."""
    return str(peer.seen("room_state")[-1]["you"]["id"])


async def test_presence_is_kept_for_attendance_and_the_guest_log(live_server: LiveServer) -> None:
    from server.keys import ARCHIVE

    async with peers("host", "pupil", "guest") as (host, pupil, guest):
        room = await host_in_room(live_server, host)
        await pupil.connect(live_server, await sign_in(live_server, *live_server.pupils[0]))
        await pupil.call("join", {"v": 1, "room": room["id"], "as": "user"})
        await admit_guest(live_server, host, guest, room["id"])
        await pupil.close()
        await host.wait("participant_left", lambda d: d["reason"] == "disconnected")
        rows = await live_server.app[ARCHIVE].presence(room["id"])
    by_name = {r.name: r for r in rows}
    assert set(by_name) == {"Gulnara Sadykova", "Aigerim Nurlanova", "Asel Bekova"}
    pupil_row = by_name["Aigerim Nurlanova"]
    assert pupil_row.user_id is not None and pupil_row.how == "disconnected"
    assert pupil_row.left_at is not None and pupil_row.left_at >= pupil_row.joined_at
    guest_row = by_name["Asel Bekova"]
    assert (guest_row.kind, guest_row.institution, guest_row.user_id) == (
        "guest",
        "School 12",
        None,
    )
    assert guest_row.left_at is None  # still in the room
