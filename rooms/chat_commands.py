"""Chat commands: public and private messages, deletion, mutes and locks. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rooms import checks
from rooms.chat import MAX_MESSAGE_LENGTH, ChatMessage
from rooms.chat_policy import End, may_write_privately
from rooms.commands import DeleteChat, LockChat, MuteChat, SendChat, SetPrivateChat
from rooms.model import Event, Everyone, One, Outcome, Participant, Record
from rooms.refusals import Reason, Refusal
from rooms.roles import Permission

if TYPE_CHECKING:
    from rooms.room import Room


def send_chat(room: Room, cmd: SendChat, now: float) -> Outcome | Refusal:
    """A public or private message, within the locks, mutes and rate limits."""
    sender = checks.member(room, cmd.actor)
    if isinstance(sender, Refusal):
        return sender
    text = checks.text(cmd.text, MAX_MESSAGE_LENGTH)
    if isinstance(text, Refusal):
        return text
    chat = room.chat
    moderator = sender.may(Permission.MODERATE)
    if not sender.may(Permission.CHAT):
        return Refusal(Reason.NOT_PERMITTED)
    if sender.chat_muted:
        return Refusal(Reason.CHAT_MUTED)
    recipient: Participant | None = None
    if cmd.to is not None:
        found = checks.target(room, cmd.to)
        if isinstance(found, Refusal):
            return found
        recipient = found
        if recipient.id == sender.id:
            return Refusal(Reason.INVALID_PAYLOAD, "You cannot write privately to yourself.")
        if not may_write_privately(
            chat.private, End(sender.role, sender.standing), End(recipient.role, recipient.standing)
        ):
            return Refusal(Reason.PRIVATE_NOT_ALLOWED)
    elif chat.public_locked and not moderator:
        return Refusal(Reason.CHAT_LOCKED)
    if not chat.allow_rate(sender.identity, now):
        return Refusal(Reason.RATE_LIMITED, "You are sending messages too fast.")
    message = chat.add(
        ChatMessage(
            id=0,
            sender=sender.id,
            sender_identity=sender.identity,
            sender_name=sender.name,
            sender_role=sender.role.value,
            text=text,
            at=now,
            to=None if recipient is None else recipient.id,
            to_identity=None if recipient is None else recipient.identity,
            to_name=None if recipient is None else recipient.name,
        )
    )
    payload = {"message": message.public()}
    if recipient is None:
        return Outcome(
            events=[Event("chat_message", payload, Everyone())],
            effects=[Record("chat_message", message.public())],
        )
    return Outcome(
        events=[
            Event("chat_message", payload, One(sender.id)),
            Event("chat_message", payload, One(recipient.id)),
        ]
    )


def delete_chat(room: Room, cmd: DeleteChat) -> Outcome | Refusal:
    """A host deletes a message for everyone who saw it."""
    actor = checks.moderator(room, cmd.actor)
    if isinstance(actor, Refusal):
        return actor
    message = room.chat.find(cmd.message_id)
    if message is None or message.deleted:
        return Refusal(Reason.UNKNOWN_MESSAGE)
    # Hosts see only their own private conversations, so they can delete only those.
    if message.to is not None and actor.identity not in (
        message.sender_identity,
        message.to_identity,
    ):
        return Refusal(Reason.UNKNOWN_MESSAGE)
    message.deleted = True
    payload = {"id": message.id}
    if message.to is None:
        return Outcome(
            events=[Event("chat_deleted", payload, Everyone())],
            effects=[Record("chat_deleted", payload)],
        )
    audiences = {message.sender, message.to}
    return Outcome(events=[Event("chat_deleted", payload, One(pid)) for pid in sorted(audiences)])


def mute_chat(room: Room, cmd: MuteChat) -> Outcome | Refusal:
    """A host mutes or unmutes one participant's chat."""
    found = checks.moderator_and_target(room, cmd.actor, cmd.target)
    if isinstance(found, Refusal):
        return found
    _, target = found
    if target.may(Permission.MODERATE):
        return Refusal(Reason.NOT_PERMITTED, "A host's chat cannot be muted.")
    target.chat_muted = cmd.muted
    if cmd.muted:
        room.chat.muted.add(target.identity)
    else:
        room.chat.muted.discard(target.identity)
    return Outcome(events=[checks.updated(target)])


def lock_chat(room: Room, cmd: LockChat) -> Outcome | Refusal:
    """A host locks or unlocks the public chat."""
    actor = checks.moderator(room, cmd.actor)
    if isinstance(actor, Refusal):
        return actor
    room.chat.public_locked = cmd.public
    return Outcome(events=[Event("chat_settings", room.chat.settings(), Everyone())])


def set_private_chat(room: Room, cmd: SetPrivateChat) -> Outcome | Refusal:
    """A host changes who may write privately to whom in this room."""
    actor = checks.moderator(room, cmd.actor)
    if isinstance(actor, Refusal):
        return actor
    room.chat.private = cmd.setting
    return Outcome(events=[Event("chat_settings", room.chat.settings(), Everyone())])
