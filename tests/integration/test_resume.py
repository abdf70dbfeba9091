"""A pupil whose socket drops comes back as they were: over real socket.io."""

from __future__ import annotations

from tests.conftest import LiveServer
from tests.integration.peers import host_in_room, peers, sign_in


async def test_resume_keeps_hand_queue_grant_role_mute_and_poll_answers(
    live_server: LiveServer,
) -> None:
    async with peers("host", "a", "b", "c", "a2", "b2") as (host, a, b, c, a2, b2):
        room = await host_in_room(live_server, host)
        join = {"v": 1, "room": room["id"], "as": "user"}
        tokens, ids = [], []
        for i, pupil in enumerate((a, b, c)):
            tokens.append(await sign_in(live_server, *live_server.pupils[i]))
            await pupil.connect(live_server, tokens[-1])
            ids.append((await pupil.call("join", join))["you"]["id"])
        a_id, b_id, c_id = ids
        poll = {"kind": "yes_no", "question": "Ready?", "launch": True}
        assert (await host.call("poll_create", poll))["ok"]
        poll_id = (await a.wait("poll_opened"))["poll"]["id"]
        assert (await a.call("poll_vote", {"poll": poll_id, "choices": [1]}))["ok"]
        grant = {"participant": a_id, "speak": True, "video": False, "seconds": 600}
        assert (await host.call("rights_grant", grant))["ok"]
        await a.wait("participant_updated", lambda d: d["participant"]["mic"])
        assert (await c.call("hand_raise", {"speak": True, "video": False}))["ok"]
        assert (await a.call("hand_raise", {"speak": False, "video": True}))["ok"]
        assert (await a.wait("hand", lambda d: d["position"] == 2))["position"] == 2
        assert (await host.call("chat_mute", {"participant": a_id, "muted": True}))["ok"]
        assert (await host.call("set_role", {"participant": b_id, "role": "presenter"}))["ok"]
        deadline = (await a.wait("participant_updated", lambda d: d["participant"]["chat_muted"]))[
            "participant"
        ]["granted_until"]
        resume_a = [s["resume"] for s in a.seen("room_state")][-1]
        resume_b = (await b.wait("room_state", lambda d: d["you"]["role"] == "presenter"))["resume"]

        await a.close()
        await b.close()
        await host.wait("participant_left", lambda d: d["participant"] == b_id)
        await host.wait("hands", lambda d: [h["id"] for h in d["queue"]] == [c_id])

        await a2.connect(live_server, tokens[0])
        assert (await a2.call("join", {**join, "resume": resume_a}))["status"] == "joined"
        state = await a2.wait("room_state")
        you = state["you"]
        assert you["id"] != a_id
        assert you["mic"] and not you["camera"] and you["granted_until"] == deadline
        assert you["chat_muted"]
        assert state["hand"] == {"position": 2}
        assert state["polls"][0]["your_answer"] == {"choices": [1], "text": None}
        assert (await a2.call("chat_send", {"text": "hi"}))["error"]["code"] == "chat_muted"
        back = you["id"]
        queue = await host.wait("hands", lambda d: back in [h["id"] for h in d["queue"]])
        assert [(h["id"], h["video"]) for h in queue["queue"]] == [
            (c_id, False),
            (you["id"], True),
        ]

        await b2.connect(live_server, tokens[1])
        assert (await b2.call("join", {**join, "resume": resume_b}))["ok"]
        state = await b2.wait("room_state")
        assert state["you"]["role"] == "presenter"
        assert [h["id"] for h in state["hands"]] == [c_id, you["id"]]  # staff see the queue
