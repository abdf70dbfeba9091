"""A class arriving at once: 100 guests knock and the host lets them all in with one command."""

from __future__ import annotations

import asyncio
import time

from tests.conftest import LiveServer
from tests.integration.peers import Peer, guest_join, host_in_room, peers

CLASS = 100


async def knock(server: LiveServer, peer: Peer, room_id: str, i: int) -> None:
    await peer.connect(server)
    ack = await peer.call("join", guest_join(room_id, f"Guest {i:03}", "School 12"))
    assert ack["ok"] and ack["status"] == "waiting", ack


async def test_a_hundred_knockers_admitted_in_one_command(live_server: LiveServer) -> None:
    names = [f"guest{i}" for i in range(CLASS)]
    async with peers("host", *names) as (host, *guests):
        room = await host_in_room(live_server, host)
        await asyncio.gather(*(knock(live_server, g, room["id"], i) for i, g in enumerate(guests)))
        lobby = await host.wait("lobby", lambda d: len(d["lobby"]) == CLASS)
        assert sorted(k["name"] for k in lobby["lobby"]) == [f"Guest {i:03}" for i in range(CLASS)]

        started = time.monotonic()
        ack = await host.call("admit_all", {})
        assert ack == {"ok": True}
        await asyncio.gather(*(g.wait("admitted") for g in guests))
        states = await asyncio.gather(*(g.wait("room_state") for g in guests))
        took = time.monotonic() - started
        assert all(s["you"]["role"] == "guest" for s in states)
        await host.wait("lobby", lambda d: d["lobby"] == [])

        # The host sees every one of them come in, and nothing was refused for going too fast:
        # it was one command.
        def guests_in(_: object) -> bool:
            joined = host.seen("participant_joined")
            return len([j for j in joined if j["participant"]["role"] == "guest"]) == CLASS

        await host.wait("participant_joined", guests_in)
        assert not [e for e in host.seen("error") if e["code"] == "rate_limited"]
        print(f"admit_all of {CLASS}: every knocker in within {took * 1000:.0f} ms")


async def test_deny_a_chosen_few_and_bad_payloads(live_server: LiveServer) -> None:
    async with peers("host", "a", "b", "c") as (host, *guests):
        room = await host_in_room(live_server, host)
        for i, g in enumerate(guests):
            await knock(live_server, g, room["id"], i)
        lobby = (await host.wait("lobby", lambda d: len(d["lobby"]) == 3))["lobby"]
        ids = [k["id"] for k in lobby]
        bad_payloads: list[dict[str, object]] = [
            {"participants": []},
            {"participants": "all"},
            {"everyone": True},
        ]
        for bad in bad_payloads:
            assert (await host.call("deny_all", bad))["error"]["code"] == "invalid_payload"
        refused = await guests[0].call("admit_all", {})
        assert refused["error"]["code"] == "not_joined"
        assert (await host.call("deny_all", {"participants": ids[:2]}))["ok"]
        for g in guests[:2]:
            assert (await g.wait("denied"))["reason"] == "denied_by_host"
        assert (await guests[2].wait("waiting", lambda d: d["position"] == 1))["host_present"]
        await host.wait("lobby", lambda d: [k["id"] for k in d["lobby"]] == ids[2:])
        assert (await host.call("admit_all", {"participants": ids}))["ok"]
        await guests[2].wait("admitted")
