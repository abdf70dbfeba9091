"""The socket.io namespace: validate → command → effects → emit, one ordered queue per socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any

import socketio
from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisError

from media.recorder import RecordingSummary
from rooms.commands import CloseRoom, Command, Join, Leave, ShareDocument, StopRecording, Tick
from rooms.document import Document
from rooms.model import (
    Attach,
    Channel,
    Detach,
    Disconnect,
    Event,
    Everyone,
    Kind,
    LeaveReason,
    Moderators,
    One,
    Outcome,
    PermissionsChanged,
    Record,
    Recorder,
    Staff,
)
from rooms.names import clean_name
from rooms.ratelimit import TokenBucket
from rooms.refusals import Reason, Refusal
from rooms.room import PROTOCOL_VERSION, Room
from server import fanout, handover
from server.archive import Archive
from server.auth import ResumeClaims, Tokens
from server.commands import ROOM_COMMANDS
from server.db.accounts import Account, Store
from server.documents.limits import from_settings
from server.documents.store import DocumentStore
from server.live import LiveRoom, LiveRooms
from server.media_signalling import (
    MEDIA_EVENTS,
    MediaQuality,
    MediaSignalling,
    QueuedMediaWork,
    media_settings,
)
from server.ownership import Elsewhere, Ownership, Unavailable
from server.payloads import ChatPrivate, DocumentRef, Empty, JoinPayload, SetGuestPolicyPayload
from server.quality_log import QualityLog
from server.recordings import Recordings
from server.room_state import RoomStates, Saved
from server.sessions import Sessions
from server.settings import Settings

log = logging.getLogger(__name__)

SESSION_COOKIE = "sabaq_session"
# How soon a client told "server restarting" should first try again (it backs off after).
RETRY_AFTER_MS = 1000
# How soon a join refused because Redis is away (or a room is being taken over) is tried again.
RETRY_SOON_MS = 2000
# The account kinds that are the school's adults, not pupils (server/db/tables.py: User.kind).
STAFF_ACCOUNTS = frozenset({"teacher", "admin"})
Ack = dict[str, Any]
# Socket events about documents that need the store, not only the room (docs/documents.md).
DOCUMENT_EVENTS: dict[str, type[BaseModel]] = {
    "document_access": Empty,
    "share_document": DocumentRef,
}
INSTITUTION_REFUSALS = {
    Reason.NAME_REQUIRED: Refusal(Reason.NAME_REQUIRED, "Please enter your institution."),
    Reason.NAME_TOO_LONG: Refusal(
        Reason.NAME_TOO_LONG, "The institution's name is too long (at most 64 characters)."
    ),
}


def refusal_ack(refusal: Refusal) -> Ack:
    """The acknowledgement for a refused command."""
    return {"ok": False, "error": {"code": refusal.reason.value, "message": refusal.message}}


@dataclass(eq=False)
class Connection:
    """One socket: who it is, where it is, and its queue of commands."""

    sid: str
    user: Account | None
    address: str
    session_key: str | None = None  # the server-side session the socket was opened with
    queue: asyncio.Queue[tuple[str, Any, asyncio.Future[Ack]] | None] = field(
        default_factory=asyncio.Queue
    )
    worker: asyncio.Task[None] | None = None
    room_id: str | None = None
    participant_id: str | None = None
    # 20 commands a second with a burst of 40 is far above what a person clicks.
    bucket: TokenBucket = field(default_factory=lambda: TokenBucket(rate=20, burst=40))


def _session_token(environ: dict[str, Any]) -> str | None:
    try:
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    except CookieError:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel else None


class Signalling:
    """Owns the socket.io server and the live rooms of this process."""

    def __init__(
        self,
        sio: socketio.AsyncServer,
        settings: Settings,
        store: Store,
        tokens: Tokens,
        archive: Archive,
        sessions: Sessions,
        ownership: Ownership | None = None,
        states: RoomStates | None = None,
    ) -> None:
        self.sio = sio
        # With Redis: each room's state, written behind its changes (server/room_state.py).
        self.states = states
        # With Redis: which node serves which room (server/ownership.py); None: this one, all.
        self.ownership = ownership
        self._releases: set[asyncio.Task[None]] = set()
        self.settings = settings
        self.store = store
        self.tokens = tokens
        self.sessions = sessions
        # The sockets of each session, to tell and disconnect when the session ends.
        self.by_session: dict[str, set[str]] = {}
        self.rooms = LiveRooms(
            store, settings.max_room_size, handover.take(settings.data, time.time())
        )
        self.connections: dict[str, Connection] = {}
        self.sid_of: dict[str, str] = {}
        # Every participant a socket holds (participant → room), kept here rather than on the
        # socket's Connection: the way out on disconnect must not depend on state the client's
        # own events could replace (server/socket_guard.py also refuses those events).
        self.held: dict[str, dict[str, str]] = {}
        self.archive = archive
        self.documents = DocumentStore(
            settings.data / "documents", settings.data / "documents-work"
        )
        self.document_limits = from_settings(settings)
        self.media = MediaSignalling(self, media_settings(settings))
        # The rooms being recorded on this process (server/recordings.py).
        self.recordings = Recordings(settings.data / "recordings")
        # Each person's connection over the lesson, archived at their leaves (quality_log.py).
        self.quality_log = QualityLog()
        self.media.quality_listeners.append(self._quality_reading)
        # One timer per room, for the next timed grant to run out.
        self._timers: dict[str, tuple[float, asyncio.TimerHandle]] = {}
        self._ticks: set[asyncio.Task[Outcome | Refusal]] = set()
        # A restart is under way (server/drain.py): joins are refused, retryably.
        self.draining = False
        # Set whenever a socket leaves a room or goes: the drain waits for rooms to empty.
        self._left = asyncio.Event()
        sio.on("connect", self._on_connect)
        sio.on("disconnect", self._on_disconnect)
        sio.on("*", self._on_event)

    # -- connection lifecycle ----------------------------------------------------------------

    async def _on_connect(self, sid: str, environ: dict[str, Any], _auth: Any = None) -> bool:
        if sid in self.connections:  # only a forged event could get here (socket_guard.py)
            log.warning("socket %s connected again: refused", sid)
            return False
        token = _session_token(environ)
        current = await self.sessions.check(token) if token else None
        user = current.account if current is not None else None
        address = str(environ.get("REMOTE_ADDR", "?"))
        conn = Connection(sid=sid, user=user, address=address)
        if current is not None:
            conn.session_key = current.key
            self.by_session.setdefault(current.key, set()).add(sid)
        conn.worker = asyncio.create_task(self._work(conn), name=f"socket {sid}")
        self.connections[sid] = conn
        log.info(
            "socket %s connected from %s as %s", sid, address, user.login if user else "anonymous"
        )
        return True

    async def _on_disconnect(self, sid: str, *_args: Any) -> None:
        conn = self.connections.pop(sid, None)
        if conn is None:
            return
        if conn.session_key is not None:
            sockets = self.by_session.get(conn.session_key)
            if sockets is not None:
                sockets.discard(sid)
                if not sockets:
                    del self.by_session[conn.session_key]
        conn.queue.put_nowait(None)  # the worker leaves the room after pending commands
        if conn.worker is not None:
            await conn.worker
        for pid, room_id in list(self.held.pop(sid, {}).items()):  # none, unless a bug left one
            log.warning("socket %s still held %s in room %s: removed", sid, pid, room_id)
            await self.apply_to_room(
                room_id, Leave(actor=pid, reason=LeaveReason.DISCONNECTED), conn.address
            )
            self._forget(pid)
        self._left.set()
        log.info("socket %s disconnected", sid)

    async def signed_out(self, keys: list[str], why: str) -> None:
        """Tell this node's sockets of these ended sessions why, and disconnect them.

        Disconnecting runs the socket's ordinary way out (its worker leaves the room), and a
        socket that connects again has no session: it can only enter as a guest would.
        """
        for key in keys:
            for sid in list(self.by_session.pop(key, ())):
                conn = self.connections.get(sid)
                if conn is not None:  # no more commands as the account while it goes
                    conn.user = None
                    conn.session_key = None
                log.info("socket %s: its session ended (%s)", sid, why)
                await self.sio.emit("signed_out", {"reason": why}, to=sid)
                await self.sio.disconnect(sid)

    async def close(self) -> None:
        """Stop timers and every connection's worker (graceful shutdown)."""
        for _, timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for sid in list(self.connections):
            await self._on_disconnect(sid)
        await self.recordings.close()
        await self.media.close()

    # -- a restart (server/drain.py) ---------------------------------------------------------

    def in_rooms(self) -> int:
        """Sockets of this process that are in a room or its lobby."""
        return sum(1 for c in self.connections.values() if c.room_id is not None)

    async def tell_restarting(self, retry_after_ms: int) -> int:
        """Refuse joins from now on and tell every socket of this process; return how many.

        Only this process's sockets: with Redis, other nodes' clients are not restarting.
        """
        self.draining = True
        payload = {"retry_after_ms": retry_after_ms}
        for sid in list(self.connections):
            await fanout.emit_local(self.sio, "server_restarting", payload, sid)
        return len(self.connections)

    async def rooms_emptied(self) -> None:
        """Return once no socket of this process is in a room (they left to come back)."""
        while self.in_rooms():
            self._left.clear()
            await self._left.wait()

    async def disconnect_all(self) -> None:
        """Leave every room (attendance intervals end as network losses) and close the sockets.

        Closing the engine.io sockets ends their websocket handlers, which aiohttp's shutdown
        would otherwise wait for until its timeout (the 60-second hang on SIGTERM).
        """
        for sid in list(self.connections):
            await self.sio.disconnect(sid, ignore_queue=True)
        if self.sio.eio.sockets:
            await self.sio.eio.disconnect()

    async def _work(self, conn: Connection) -> None:
        """Run one socket's commands strictly in arrival order."""
        while (item := await conn.queue.get()) is not None:
            name, data, done = item
            try:
                ack = await self._dispatch(conn, name, data)
            except Exception:  # a bug must not kill the socket's queue nor leave it unanswered
                log.exception("command %s from %s failed", name, conn.sid)
                ack = {
                    "ok": False,
                    "error": {
                        "code": "internal_error",
                        "message": "The server failed; please try again.",
                    },
                }
            if not done.done():
                done.set_result(ack)
        if conn.room_id is not None and conn.participant_id is not None:
            await self._apply(
                conn, Leave(actor=conn.participant_id, reason=LeaveReason.DISCONNECTED)
            )

    # -- events in ---------------------------------------------------------------------------

    async def _on_event(self, event: str, sid: str, data: Any = None) -> Ack:
        conn = self.connections.get(sid)
        if conn is None:
            return refusal_ack(Refusal(Reason.NOT_JOINED))
        done: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        conn.queue.put_nowait((event, data, done))
        ack = await done
        if not ack.get("ok", False):
            await self.sio.emit("error", {"command": event, **ack["error"]}, to=sid)
        return ack

    async def _dispatch(self, conn: Connection, name: str, data: Any) -> Ack:
        if isinstance(data, QueuedMediaWork):  # put there by the server, never by the socket
            return await data.run()
        entry: tuple[type[BaseModel], Any] | None = (
            (JoinPayload, None) if name == "join" else ROOM_COMMANDS.get(name)
        )
        if name in DOCUMENT_EVENTS:
            entry = (DOCUMENT_EVENTS[name], None)
        if entry is None and name not in MEDIA_EVENTS:
            return refusal_ack(Refusal(Reason.INVALID_PAYLOAD, f"Unknown event {name!r}."))
        if name == "join" and self.draining:
            ack = refusal_ack(Refusal(Reason.SERVER_RESTARTING))
            ack["error"]["retry_after_ms"] = RETRY_AFTER_MS  # a retryable refusal says when
            return ack
        if not conn.bucket.take(time.monotonic()):
            return refusal_ack(Refusal(Reason.RATE_LIMITED))
        if len(json.dumps(data, ensure_ascii=False).encode()) > self.settings.max_event_bytes:
            return refusal_ack(Refusal(Reason.PAYLOAD_TOO_LARGE))
        if entry is None:
            return await self.media.handle(conn, name, data)
        model, build = entry
        try:
            payload = model.model_validate({} if data is None else data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "payload"
            if first["type"] == "extra_forbidden":
                log.warning(
                    "socket %s (%s) sent a field it may not set: %s in %s",
                    conn.sid,
                    conn.address,
                    where,
                    name,
                )
            return refusal_ack(Refusal(Reason.INVALID_PAYLOAD, f"{where}: {first['msg']}."))
        if name in DOCUMENT_EVENTS:
            return await self._document_event(conn, payload)
        if isinstance(payload, JoinPayload):
            ack = await self._join(conn, payload)
            if ack["ok"]:  # browsers configure their peer connections with these
                ack["ice_servers"] = self.media.ice_servers
                if payload.media and ack["status"] == "joined":
                    await self.media.start_with_join(conn)
            return ack
        if conn.participant_id is None or conn.room_id is None:
            return refusal_ack(Refusal(Reason.NOT_JOINED))
        room_id = conn.room_id
        result = await self._apply(conn, build(conn.participant_id, payload))
        if isinstance(result, Refusal):
            return refusal_ack(result)
        if isinstance(payload, SetGuestPolicyPayload):  # remembered for the room's next lesson
            await self.store.set_guest_policy(room_id, payload.policy.value)
        elif isinstance(payload, ChatPrivate):  # so is the host's private-chat choice
            await self.store.set_private_chat(room_id, payload.setting.value)
        return {"ok": True}

    # -- handlers ----------------------------------------------------------------------------

    async def _document_event(self, conn: Connection, payload: BaseModel) -> Ack:
        """`document_access` (a ticket for the document routes) and `share_document`."""
        if conn.participant_id is None or conn.room_id is None:
            return refusal_ack(Refusal(Reason.NOT_JOINED))
        room_id = conn.room_id
        if not isinstance(payload, DocumentRef):
            token = self.tokens.issue_document_access(room_id, conn.participant_id, time.time())
            return {
                "ok": True,
                "access": token,
                "expires_in": self.tokens.DOCUMENT_LIFETIME_S,
                "documents": self.documents.of_room(room_id),
                # The server's clock: a shared player's position is given in it.
                "now": time.time(),
            }
        found = self.documents.in_room(room_id, payload.document)
        if found is None:
            return refusal_ack(Refusal(Reason.UNKNOWN_DOCUMENT))
        document = Document(
            id=found["id"],
            name=found["name"],
            kind=found["kind"],
            shown_as=found["shown_as"],
            pages=int(found.get("pages", 0)),
            duration_s=found.get("duration_s"),
            widths=tuple(int(w) for w in found.get("widths", ())),
            aspect=found.get("aspect"),
            video=found.get("media") == "video.mp4",
        )
        result = await self._apply(conn, ShareDocument(conn.participant_id, document))
        return refusal_ack(result) if isinstance(result, Refusal) else {"ok": True}

    async def emit_to_room(self, room_id: str, name: str, payload: dict[str, Any]) -> None:
        """Tell everyone in the room (e.g. a document's conversion finished)."""
        await self._emit(room_id, Event(name, payload, Everyone()))

    async def emit_to_staff(self, room_id: str, name: str, payload: dict[str, Any]) -> None:
        """Tell the room's hosts and presenters (e.g. a document's conversion progress)."""
        await self._emit(room_id, Event(name, payload, Staff()))

    async def _join(self, conn: Connection, p: JoinPayload) -> Ack:
        if p.v != PROTOCOL_VERSION:
            return refusal_ack(Refusal(Reason.UNSUPPORTED_VERSION))
        if conn.room_id is not None:
            return refusal_ack(Refusal(Reason.ALREADY_JOINED))
        saved: Saved | None = None
        if self.ownership is not None:
            elsewhere = await self._place(conn, p.room)
            if elsewhere is not None:
                return elsewhere
            if self.states is not None and self.rooms.get(p.room) is None:
                try:
                    saved = await self.states.load(p.room, time.time())
                except (RedisError, OSError) as exc:
                    log.warning("room %s: saved state not read (%s)", p.room, exc)
                    ack = refusal_ack(Refusal(Reason.TRY_AGAIN_SOON))
                    ack["error"]["retry_after_ms"] = RETRY_SOON_MS
                    return ack
        fresh = self.rooms.get(p.room) is None
        live = await self.rooms.open(p.room, None if saved is None else (saved.room, saved.session))
        if live is None:
            return refusal_ack(Refusal(Reason.UNKNOWN_ROOM))
        if saved is not None and fresh:
            self._carry_on(live, saved.at)
        pid = "p" + secrets.token_urlsafe(9)
        cmd = await self._join_command(conn, live, p, pid)
        if isinstance(cmd, Refusal):
            self._close_if_empty(p.room)
            return refusal_ack(cmd)
        conn.room_id, conn.participant_id = p.room, pid
        self.sid_of[pid] = conn.sid
        self.held.setdefault(conn.sid, {})[pid] = p.room
        result = await self._apply(conn, cmd)
        if isinstance(result, Refusal):
            self._close_if_empty(p.room)
            return refusal_ack(result)
        room = live.room
        if pid in room.participants:
            return {"ok": True, "status": "joined", "you": room.participants[pid].public()}
        # A knocker is shown as the participant it will be once admitted.
        you = room.lobby[pid].admit(time.time()).public()
        return {"ok": True, "status": "waiting", "you": you}

    async def _place(self, conn: Connection, room_id: str) -> Ack | None:
        """None if this node serves the room; else the refusal that sends the client on."""
        assert self.ownership is not None
        if self.rooms.get(room_id) is None and await self.store.room(room_id) is None:
            return refusal_ack(Refusal(Reason.UNKNOWN_ROOM))  # no lease for a room that is not
        placed = await self.ownership.locate(room_id)
        if isinstance(placed, Elsewhere):
            log.info("socket %s: room %s is on node %s (%s)", conn.sid, room_id, placed.node,
                     placed.url)  # fmt: skip
            ack = refusal_ack(Refusal(Reason.ROOM_ELSEWHERE))
            ack["error"]["node"] = placed.url  # the client connects there and joins again
            return ack
        if isinstance(placed, Unavailable):
            log.warning("socket %s: join of room %s refused for now: %s", conn.sid, room_id,
                        placed.why)  # fmt: skip
            ack = refusal_ack(Refusal(Reason.TRY_AGAIN_SOON))
            ack["error"]["retry_after_ms"] = RETRY_SOON_MS
            return ack
        return None

    def _quality_reading(self, room_id: str, pid: str, q: MediaQuality) -> None:
        live = self.rooms.get(room_id)
        if live is not None:
            self.quality_log.reading(live.session, pid, q)

    def room_and_session(self, room_id: str) -> tuple[Room, str] | None:
        """A live room of this process and its session (what server/room_state.py writes)."""
        live = self.rooms.get(room_id)
        return None if live is None else (live.room, live.session)

    def _carry_on(self, live: LiveRoom, at: float) -> None:
        """A room taken over from a node that died (or restarted): the people it still had
        leave as after a dropped connection, at the moment that node was last known alive —
        their hands, rights and attendance wait for them to resume (rooms/resume.py)."""
        room = live.room
        gone = [*room.participants, *room.lobby]
        for pid in gone:
            result = room.apply(Leave(actor=pid, reason=LeaveReason.DISCONNECTED), at)
            if isinstance(result, Refusal):
                continue
            for effect in result.effects:
                if isinstance(effect, Record):  # nobody is connected here to tell: records only
                    self.archive.enqueue(live.session, room.id, effect)
        log.warning(
            "room %s taken over: %d people held for their return, %d polls, %d chat messages",
            room.id,
            len(gone),
            len(room.polls),
            len(room.chat.public_messages),
        )
        self._schedule_tick(room.id)

    def _close_if_empty(self, room_id: str) -> None:
        """Forget an empty room, and give its lease back so the next lesson is placed afresh."""
        live = self.rooms.get(room_id)
        self.rooms.close_if_empty(room_id)
        if live is not None and self.rooms.get(room_id) is None:
            self.quality_log.forget(live.session)
        if live is not None and self.rooms.get(room_id) is None and self.states is not None:
            if self.draining:  # the next process (or node) takes it up where it stopped
                self.states.keep(room_id, live.room, live.session)
            else:
                self.states.ended(room_id)
        ownership = self.ownership
        if self.rooms.get(room_id) is None and ownership is not None and ownership.holds(room_id):
            # In the background: an unreachable Redis must not hold up the room's last leave.
            task = asyncio.create_task(ownership.release(room_id))
            self._releases.add(task)
            task.add_done_callback(self._releases.discard)

    async def move_out(self, room_id: str) -> None:
        """This node lost the room's lease to another: its people rejoin there (retryably)."""
        payload = {"retry_after_ms": RETRY_AFTER_MS}
        for conn in [c for c in self.connections.values() if c.room_id == room_id]:
            await fanout.emit_local(self.sio, "server_restarting", payload, conn.sid)
            await self.sio.disconnect(conn.sid)

    async def _join_command(
        self, conn: Connection, live: LiveRoom, p: JoinPayload, pid: str
    ) -> Join | Refusal:
        resumes = None
        if p.resume is not None:
            claims = self.tokens.check_resume(p.resume)
            if claims is None or (claims.room, claims.session) != (live.room.id, live.session):
                # An old or foreign token: enter the ordinary way instead.
                log.info("socket %s: resume token not valid for room %s", conn.sid, p.room)
            else:
                resumes = claims
        if p.as_ == "user":
            if conn.user is None:
                return Refusal(Reason.NOT_SIGNED_IN)
            if conn.user.must_change_password:  # a one-time sign-in is for a new password only
                return Refusal(Reason.PASSWORD_CHANGE_REQUIRED)
            if p.name is not None or p.institution is not None:
                return Refusal(Reason.INVALID_PAYLOAD, "A signed-in name comes from the account.")
            user, record = conn.user, live.record
            # A pupil of the room's class enters unasked only while the teaching table gives
            # the room's owner that class (as every lesson route checks it on each use): a
            # room made before that was checked, or kept after the class was taken away,
            # makes the class knock like anyone else.
            expected = await self.store.expected_in_room(user.id, record.owner_id, record.class_id)
            back = resumes is not None and resumes.identity == f"u{user.id}"
            return Join(
                actor=pid,
                name=user.display_name,
                kind=Kind.USER,
                user_id=user.id,
                owner=user.id == record.owner_id,
                expected=expected,
                claimed_role=p.role,
                resumes=f"u{user.id}" if back else None,
                # Teachers and administrators are the school's adults; any other account is
                # treated as a pupil's, whichever class (rooms/chat_policy.py).
                staff=user.kind in STAFF_ACCOUNTS,
                knock=p.knock,
            )
        if resumes is not None and not resumes.identity.startswith("u"):
            # The guest comes back as who they were admitted as, whatever the form says now.
            return Join(
                actor=pid,
                name=resumes.name,
                kind=Kind.GUEST,
                institution=resumes.institution,
                claimed_role=p.role,
                resumes=resumes.identity,
                knock=p.knock,
            )
        name = clean_name(p.name if p.name is not None else "")
        if isinstance(name, Refusal):
            return name
        institution = clean_name(p.institution if p.institution is not None else "")
        if isinstance(institution, Refusal):
            return INSTITUTION_REFUSALS.get(institution.reason, institution)
        return Join(
            actor=pid,
            name=name,
            kind=Kind.GUEST,
            institution=institution,
            claimed_role=p.role,
            knock=p.knock,
        )

    # -- running outcomes --------------------------------------------------------------------

    async def _apply(self, conn: Connection, cmd: Command) -> Outcome | Refusal:
        assert conn.room_id is not None
        result = await self.apply_to_room(conn.room_id, cmd, conn.address)
        if isinstance(result, Refusal) and isinstance(cmd, Join):
            self._forget(cmd.actor)
        return result

    async def close_room(self, room_id: str, at: float | None, now: float) -> bool:
        """The room's lesson ended at `now`: everyone out then, or the room closes by itself at
        `at` (an after-lesson Q&A). False if the room is not live in this process."""
        result = await self.apply_to_room(room_id, CloseRoom(at=at), now=now)
        return not isinstance(result, Refusal)

    async def apply_to_room(
        self, room_id: str, cmd: Command, address: str = "server", now: float | None = None
    ) -> Outcome | Refusal:
        """Run a command on a live room (at `now`, default the clock) and carry out its effects."""
        live = self.rooms.get(room_id)
        if live is None:
            return Refusal(Reason.NOT_JOINED)
        result = live.room.apply(cmd, time.time() if now is None else now)
        if isinstance(result, Refusal):
            level = logging.WARNING if result.reason is Reason.NOT_PERMITTED else logging.INFO
            log.log(
                level,
                "room %s refused %s from %s (%s): %s",
                room_id,
                type(cmd).__name__,
                cmd.actor,
                address,
                result.reason.value,
            )
            return result
        for effect in result.effects:
            if isinstance(effect, Record):
                # Queued before any await, so records keep the order the room made them in.
                self.archive.enqueue(live.session, room_id, effect)
                if effect.kind == "presence":
                    quality = self.quality_log.presence(live.session, effect)
                    if quality is not None:
                        self.archive.enqueue(live.session, room_id, quality)
        for effect in result.effects:
            if isinstance(effect, Attach):
                await self._attach(room_id, effect)
        for event in result.events:
            await self._emit(room_id, event)
        # Looked up before Detach forgets which socket was whose.
        dropped = [
            sid
            for effect in result.effects
            if isinstance(effect, Disconnect) and (sid := self.sid_of.get(effect.participant_id))
        ]
        for effect in result.effects:
            if isinstance(effect, Detach):
                await self.media.remove_participant(room_id, effect.participant_id)
                await self._detach(room_id, effect.participant_id)
            elif isinstance(effect, Recorder):
                await self._recorder(room_id, effect)
            elif isinstance(effect, PermissionsChanged):
                await self.media.permissions_changed(
                    room_id, effect.participant_id, effect.permissions
                )
                log.info(
                    "room %s: %s may now %s",
                    room_id,
                    effect.participant_id,
                    sorted(p.value for p in effect.permissions),
                )
        self._schedule_tick(room_id)
        if self.states is not None and self.rooms.get(room_id) is not None:
            self.states.changed(room_id)
        self._close_if_empty(room_id)
        if self.rooms.get(room_id) is None:
            await self.recordings.stop(room_id)  # its files closed before the router goes
            await self.media.close_room(room_id)
        for sid in dropped:
            # After the events: the socket's queue carries `room_closed` out before it closes.
            await self.sio.disconnect(sid)
        return result

    def _schedule_tick(self, room_id: str) -> None:
        """Wake the room when its next timed grant runs out (kept if that has not changed)."""
        live = self.rooms.get(room_id)
        deadline = live.room.next_deadline() if live is not None else None
        old = self._timers.get(room_id)
        if old is not None and old[0] == deadline:
            return  # most commands (chat, votes) leave the deadline as it was
        if old is not None:
            old[1].cancel()
            del self._timers[room_id]
        if deadline is None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, deadline - time.time())

        def fire() -> None:
            self._timers.pop(room_id, None)
            task = loop.create_task(self.apply_to_room(room_id, Tick()))
            self._ticks.add(task)
            task.add_done_callback(self._ticks.discard)

        self._timers[room_id] = (deadline, loop.call_later(delay, fire))

    def _resume_token(self, room_id: str, participant_id: str) -> str | None:
        live = self.rooms.get(room_id)
        participant = live.room.participants.get(participant_id) if live else None
        if live is None or participant is None:
            return None
        return self.tokens.issue_resume(
            ResumeClaims(
                room_id,
                live.session,
                participant.identity,
                participant.name,
                participant.institution,
            )
        )

    async def _recorder(self, room_id: str, effect: Recorder) -> None:
        """Start or stop the room's recorder; a recording that cannot start is stopped again."""
        if not effect.on:
            await self.recordings.stop(room_id)
            return
        live = self.rooms.get(room_id)
        if live is None:
            return

        def stopped(summary: RecordingSummary) -> None:
            if summary.stopped_because == "stopped":
                return  # the room asked for it: it already knows
            task = asyncio.get_running_loop().create_task(
                self.apply_to_room(
                    room_id,
                    StopRecording(actor="", reason=summary.stopped_because, by_server=True),
                )
            )
            self._ticks.add(task)
            task.add_done_callback(self._ticks.discard)

        started = await self.recordings.start(
            room_id,
            live.session,
            self.media.router(room_id),
            live.record.recording_quota_mb,
            stopped,
        )
        if started is None:
            log.warning("room %s: the school's recording quota is spent", room_id)
            stopped(RecordingSummary(self.recordings.folder, stopped_because="quota"))

    async def _emit(self, room_id: str, event: Event) -> None:
        self.recordings.room_event(room_id, event)
        audience = event.audience
        if isinstance(audience, Everyone):
            await self.sio.emit(event.name, event.payload, room=f"room:{room_id}")
        elif isinstance(audience, Moderators):
            await self.sio.emit(event.name, event.payload, room=f"mods:{room_id}")
        elif isinstance(audience, Staff):
            await self.sio.emit(event.name, event.payload, room=f"staff:{room_id}")
        elif isinstance(audience, One):
            sid = self.sid_of.get(audience.participant_id)
            if sid is None:
                return
            payload = event.payload
            if event.name == "room_state":
                # The way back in after a network blip: the same person, without knocking again.
                payload = {
                    **payload,
                    "resume": self._resume_token(room_id, audience.participant_id),
                }
            await self.sio.emit(event.name, payload, to=sid)

    async def _attach(self, room_id: str, effect: Attach) -> None:
        sid = self.sid_of.get(effect.participant_id)
        if sid is None:
            return
        for channel in Channel:
            name = f"{channel.value}:{room_id}"
            if channel in effect.channels:
                await self.sio.enter_room(sid, name)
            else:
                with contextlib.suppress(KeyError, ValueError):
                    await self.sio.leave_room(sid, name)

    async def _detach(self, room_id: str, participant_id: str) -> None:
        sid = self._forget(participant_id)
        if sid is None:
            return
        for channel in Channel:
            with contextlib.suppress(KeyError, ValueError):
                await self.sio.leave_room(sid, f"{channel.value}:{room_id}")

    def _forget(self, participant_id: str) -> str | None:
        """Free the socket of a participant that is no longer in any room."""
        sid = self.sid_of.pop(participant_id, None)
        if sid is not None and (held := self.held.get(sid)) is not None:
            held.pop(participant_id, None)
            if not held:
                del self.held[sid]
        conn = self.connections.get(sid) if sid else None
        if conn is not None and conn.participant_id == participant_id:
            conn.room_id = conn.participant_id = None
            self._left.set()
        return sid
