"""Chat of a room: public messages, private threads, limits and moderation. Pure."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rooms.chat_policy import DEFAULT_PRIVATE_CHAT, PrivateChat, private_recipients
from rooms.ratelimit import TokenBucket

MAX_MESSAGE_LENGTH = 2000
HISTORY_FOR_LATE_JOINERS = 200
# Kept for the lesson's export; older public messages are already in the database.
MAX_KEPT_MESSAGES = 5000
# 3 messages a second with a burst of 6: typing fast is fine, flooding is not.
CHAT_RATE, CHAT_BURST = 3.0, 6.0


@dataclass(slots=True)
class ChatMessage:
    """One message; `to` is None for the whole room, else the recipient's participant id."""

    id: int
    sender: str
    sender_identity: str
    sender_name: str
    sender_role: str
    text: str
    at: float
    to: str | None = None
    to_identity: str | None = None
    to_name: str | None = None
    deleted: bool = False

    def public(self) -> dict[str, Any]:
        """The protocol's ChatMessage object (a deleted message keeps no text)."""
        return {
            "id": self.id,
            "from": {"id": self.sender, "name": self.sender_name, "role": self.sender_role},
            "to": None if self.to is None else {"id": self.to, "name": self.to_name},
            "text": "" if self.deleted else self.text,
            "at": self.at,
            "deleted": self.deleted,
        }


@dataclass
class Chat:
    """The room's messages and the host's switches over them."""

    public_messages: deque[ChatMessage] = field(
        default_factory=lambda: deque(maxlen=MAX_KEPT_MESSAGES)
    )
    private_messages: deque[ChatMessage] = field(
        default_factory=lambda: deque(maxlen=MAX_KEPT_MESSAGES)
    )
    next_id: int = 1
    public_locked: bool = False
    # Who may write privately to whom (rooms/chat_policy.py); the school's choice, then the host's.
    private: PrivateChat = DEFAULT_PRIVATE_CHAT
    # Muting follows the person (user id or guest participant id), not one connection.
    muted: set[str] = field(default_factory=set)
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Messages given in (a room rebuilt from its saved state) keep the same bound.
        for name in ("public_messages", "private_messages"):
            kept = getattr(self, name)
            if kept.maxlen != MAX_KEPT_MESSAGES:
                setattr(self, name, deque(kept, maxlen=MAX_KEPT_MESSAGES))

    def allow_rate(self, identity: str, now: float) -> bool:
        """Spend one token of this person's chat bucket."""
        bucket = self.buckets.get(identity)
        if bucket is None:
            bucket = self.buckets[identity] = TokenBucket(rate=CHAT_RATE, burst=CHAT_BURST)
        return bucket.take(now)

    def add(self, message: ChatMessage) -> ChatMessage:
        """Store a message and give it the next id."""
        message.id = self.next_id
        self.next_id += 1
        (self.public_messages if message.to is None else self.private_messages).append(message)
        return message

    def find(self, message_id: int) -> ChatMessage | None:
        """A message by id, public or private."""
        for messages in (self.public_messages, self.private_messages):
            for message in messages:
                if message.id == message_id:
                    return message
        return None

    def history_for(self, identity: str) -> list[dict[str, Any]]:
        """What a late joiner sees: recent public messages and their own private threads."""
        public = list(self.public_messages)[-HISTORY_FOR_LATE_JOINERS:]
        private = [
            m for m in self.private_messages if identity in (m.sender_identity, m.to_identity)
        ]
        return [m.public() for m in sorted(public + private, key=lambda m: m.id)]

    def settings(self) -> dict[str, Any]:
        """The chat switches everyone sees, with the roles each role may write to privately."""
        return {
            "public_locked": self.public_locked,
            "private_chat": self.private.value,
            "private_to": private_recipients(self.private),
        }
