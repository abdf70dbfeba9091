"""Test clients: an HTTP session per person and a socket.io client that records events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import socketio

from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer

EVENTS = (
    "room_state",
    "participant_joined",
    "participant_updated",
    "participant_left",
    "lobby",
    "waiting",
    "admitted",
    "denied",
    "removed",
    "replaced",
    "policy_changed",
    "error",
    "chat_message",
    "chat_deleted",
    "chat_settings",
    "hands",
    "hand",
    "poll_opened",
    "poll_updated",
    "poll_closed",
    "poll_results",
    "layout_changed",
    "share_changed",
    "page_changed",
    "pointer",
    "player_changed",
    "document_progress",
    "document_added",
    "participant_quality",
    "server_restarting",
    "room_closing",
    "room_closed",
    "recording",
    "signed_out",
    "disconnect",  # recorded too: a socket whose session ended is disconnected by the server
)


async def sign_in(server: LiveServer, login: str, password: str) -> str:
    """The session token for an account (what the browser keeps as a cookie)."""
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{server.url}/api/session", json={"login": login, "password": password}
        )
        assert response.status == 200, await response.text()
        return response.cookies[SESSION_COOKIE].value


async def create_room(
    server: LiveServer, token: str, title: str = "Algebra 7A", **fields: Any
) -> dict[str, Any]:
    """A room created through the HTTP API."""
    body = {"title": title, "class_id": server.class_id, "guest_policy": "ask_host", **fields}
    async with aiohttp.ClientSession(cookies={SESSION_COOKIE: token}) as http:
        response = await http.post(f"{server.url}/api/rooms", json=body)
        assert response.status == 201, await response.text()
        room: dict[str, Any] = (await response.json())["room"]
        return room


class Peer:
    """A socket.io client that keeps every event it receives, in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._changed = asyncio.Condition()
        for event in EVENTS:
            self.sio.on(event, self._recorder(event))
        # The server closing the connection is recorded like an event ("disconnect").
        self.sio.on("disconnect", self._recorder("disconnect"))

    def _recorder(self, event: str) -> Any:
        async def record(data: Any = None, *_more: Any) -> None:
            async with self._changed:
                self.events.append((event, data))
                self._changed.notify_all()

        return record

    async def connect(self, server: LiveServer, token: str | None = None, **headers: str) -> None:
        """Open the socket, with the session cookie when signed in."""
        if token:
            headers["Cookie"] = f"{SESSION_COOKIE}={token}"
        # python-socketio waits 1 s for the namespace by default: too short on a loaded 2-core CI
        # machine (seen as "Unexpected connection error"); the server is real, give it time.
        await self.sio.connect(
            server.url, headers=headers, transports=["websocket"], wait_timeout=10
        )

    async def call(self, event: str, data: Any = None) -> dict[str, Any]:
        """Send a command and return its acknowledgement."""
        ack: dict[str, Any] = await self.sio.call(event, data, timeout=10)
        return ack

    async def wait(self, event: str, match: Any = None, timeout: float = 10) -> Any:
        """The first recorded `event` (whose payload satisfies `match`), waiting for it."""

        def found() -> tuple[Any] | None:
            # Wrapped in a tuple: an empty payload ({}) is a real event, not "not yet".
            for name, data in self.events:
                if name == event and (match is None or match(data)):
                    return (data if data is not None else {},)
            return None

        async with self._changed:
            hit = await asyncio.wait_for(self._changed.wait_for(found), timeout)
        assert hit is not None
        return hit[0]

    def seen(self, event: str) -> list[Any]:
        """Payloads of `event` received so far."""
        return [data for name, data in self.events if name == event]

    async def close(self) -> None:
        """Disconnect."""
        await self.sio.disconnect()


@asynccontextmanager
async def peers(*names: str) -> AsyncIterator[list[Peer]]:
    """Several peers, all disconnected at the end."""
    made = [Peer(n) for n in names]
    try:
        yield made
    finally:
        for peer in made:
            if peer.sio.connected:
                await peer.close()


async def host_in_room(server: LiveServer, host: Peer, **room_fields: Any) -> dict[str, Any]:
    """Teacher signs in, creates a room, joins it as host."""
    token = await sign_in(server, *server.teacher)
    room = await create_room(server, token, **room_fields)
    await host.connect(server, token)
    ack = await host.call("join", {"v": 1, "room": room["id"], "as": "user"})
    assert ack["ok"] and ack["status"] == "joined" and ack["you"]["role"] == "host"
    return room


def guest_join(
    room_id: str, name: str = "Asel Bekova", institution: str = "School 12"
) -> dict[str, Any]:
    """A guest's join payload."""
    return {"v": 1, "room": room_id, "as": "guest", "name": name, "institution": institution}


async def admit_guest(server: LiveServer, host: Peer, guest: Peer, room_id: str) -> Any:
    """A guest knocks and the host admits them; returns the guest's room_state."""
    await guest.connect(server)
    await guest.call("join", guest_join(room_id))
    knock = (await host.wait("lobby", lambda d: d["lobby"]))["lobby"][0]["id"]
    await host.call("admit", {"participant": knock})
    return await guest.wait("room_state")
