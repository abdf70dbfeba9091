"""The socket.io server with the two checks python-socketio leaves to its users.

1. **Reserved event names.** python-socketio looks a client's event name up among the server's
   handlers as it is, so a client that sends an event called `connect` runs the connect handler
   again with its own payload as the request environment (a forged cookie and address), and
   `disconnect` or `*` reach those handlers too. Names the server or the client library reserve
   are refused here, before any handler runs.
2. **Nesting and malformed packets.** The packet decoder (json) recurses once per level: a
   payload nested a few thousand levels deep raises RecursionError there, with a traceback and
   no answer. A packet deeper than `MAX_DEPTH` is refused before it is decoded; one the decoder
   refuses (not JSON, a packet type a client may not send) is answered instead of raising.

Both answer as every other refusal does (docs/protocol.md): the acknowledgement, if the client
asked for one, is `{"ok": false, "error": {"code": "invalid_payload", ...}}`, an `error` event
says the same, the attempt is logged with the client's address, and the connection stays open.

This overrides two internal methods of python-socketio 5 (`_handle_eio_message`,
`_handle_event`); `GuardedServer` refuses to start if an upgrade renamed them, rather than run
without the checks.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from typing import Any

import socketio
from socketio import packet

log = logging.getLogger(__name__)

# The server's own (python-socketio's `reserved_events`, and its catch-all) and those the
# JavaScript client library keeps for itself, so no application event may ever use them.
RESERVED_EVENTS = frozenset(
    {
        *socketio.AsyncServer.reserved_events,
        "*",
        "connect_error",
        "disconnecting",
        "newListener",
        "removeListener",
    }
)
# Levels of lists and objects in one packet, its own `[event, payload]` list included. Our
# deepest payload (a poll, an SDP answer) has four.
MAX_DEPTH = 32

# A JSON string, as an unrolled loop (runs of plain characters, not one character at a time).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")
# An EVENT (2) or BINARY_EVENT (5, with its attachment count): namespace, ack id, event name.
_HEAD = re.compile(r'^(?:2|5\d+-)(/[^,]*,)?(\d+)?(?:\["((?:[^"\\]|\\.){0,100})")?')


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON in `text` nests lists and objects more than `limit` levels deep
    (malformed bracketing counts as too deep). No recursion, and C-speed regex passes only."""
    if text.count("[") + text.count("{") <= limit:
        return False  # every ordinary packet: two scans, nothing more
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(limit):  # each pass removes the innermost level
        brackets = _INNERMOST.sub("", brackets)
        if not brackets:
            return False
    return True


class GuardedServer(socketio.AsyncServer):  # type: ignore[misc]  # socketio is untyped
    """`socketio.AsyncServer` that refuses reserved event names and deep nesting."""

    def __init__(self, **kwargs: Any) -> None:
        for name in ("_handle_eio_message", "_handle_event", "_send_packet"):
            if not inspect.iscoroutinefunction(getattr(socketio.AsyncServer, name, None)):
                raise RuntimeError(
                    f"python-socketio has no {name}: server/socket_guard.py needs updating"
                )
        super().__init__(**kwargs)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if isinstance(data, str) and too_deep(data):
            why = f"The event is nested more than {MAX_DEPTH} levels deep."
            await self._refuse_packet(eio_sid, data, why)
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
        except ValueError as exc:  # not JSON, or not a packet a client may send
            await self._refuse_packet(eio_sid, data, f"The packet is malformed ({exc}).")

    async def _refuse_packet(self, eio_sid: str, data: Any, why: str) -> None:
        """Refuse a packet that was never decoded, answering what its head says."""
        head = _HEAD.match(data) if isinstance(data, str) else None
        namespace = head[1][:-1] if head and head[1] else "/"
        ack_id = int(head[2]) if head and head[2] else None
        event = _event_name(head[3]) if head and head[3] is not None else None
        await self._refuse(eio_sid, namespace, ack_id, event, why)

    async def _handle_event(
        self, eio_sid: str, namespace: str | None, id: int | None, data: Any
    ) -> None:
        event = data[0] if isinstance(data, list) and data else None
        if not isinstance(event, str) or event in RESERVED_EVENTS:
            why = (
                f"{event!r} is a reserved event name."
                if isinstance(event, str)
                else "An event needs a name."
            )
            await self._refuse(eio_sid, namespace or "/", id, event, why)
            return
        await super()._handle_event(eio_sid, namespace, id, data)

    async def _refuse(
        self, eio_sid: str, namespace: str, ack_id: int | None, event: Any, why: str
    ) -> None:
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        address = self.environ.get(eio_sid, {}).get("REMOTE_ADDR", "?")
        command = event if isinstance(event, str) else None
        log.warning("socket %s (%s) sent an event refused: %s", sid, address, why)
        if sid is None or not self.manager.is_connected(sid, namespace):
            return  # not connected to that namespace: there is nobody to answer
        error = {"code": "invalid_payload", "message": why}
        if ack_id is not None:
            ack = {"ok": False, "error": error}
            await self._send_packet(
                eio_sid, self.packet_class(packet.ACK, namespace=namespace, id=ack_id, data=[ack])
            )
        await self.emit("error", {"command": command, **error}, to=sid, namespace=namespace)


def _event_name(quoted: str) -> str | None:
    try:
        name = json.loads(f'"{quoted}"')
    except ValueError:
        return None
    return name if isinstance(name, str) else None
