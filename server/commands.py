"""Which socket.io event becomes which room command, with which payload model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from rooms import commands as c
from server import payloads as p

Builder = Callable[[str, Any], c.Command]


def knockers(x: p.Knockers) -> tuple[str, ...] | None:
    """The knockers an answer names, or None for everyone waiting."""
    return None if x.participants is None else tuple(x.participants)


# Every event a joined participant may send; `join` is handled apart (it makes the actor).
ROOM_COMMANDS: dict[str, tuple[type[BaseModel], Builder]] = {
    "leave": (p.Empty, lambda me, _: c.Leave(actor=me)),
    "admit": (p.Target, lambda me, x: c.Admit(me, x.participant)),
    "deny": (p.Target, lambda me, x: c.Deny(me, x.participant)),
    "admit_all": (p.Knockers, lambda me, x: c.AnswerKnocks(me, True, knockers(x))),
    "deny_all": (p.Knockers, lambda me, x: c.AnswerKnocks(me, False, knockers(x))),
    "remove": (p.Target, lambda me, x: c.Remove(me, x.participant)),
    "set_role": (p.SetRolePayload, lambda me, x: c.SetRole(me, x.participant, x.role)),
    "set_guest_policy": (p.SetGuestPolicyPayload, lambda me, x: c.SetGuestPolicy(me, x.policy)),
    "chat_send": (p.ChatSend, lambda me, x: c.SendChat(me, x.text, x.to)),
    "chat_delete": (p.ChatDelete, lambda me, x: c.DeleteChat(me, x.message)),
    "chat_mute": (p.ChatMute, lambda me, x: c.MuteChat(me, x.participant, x.muted)),
    "chat_lock": (p.ChatLock, lambda me, x: c.LockChat(me, x.public)),
    "chat_private": (p.ChatPrivate, lambda me, x: c.SetPrivateChat(me, x.setting)),
    "hand_raise": (p.HandRaise, lambda me, x: c.RaiseHand(me, x.speak, x.video)),
    "hand_lower": (p.HandLower, lambda me, x: c.LowerHand(me, x.participant)),
    "hands_lower_all": (p.Empty, lambda me, _: c.LowerAllHands(me)),
    "rights_grant": (
        p.RightsGrant,
        lambda me, x: c.GrantRights(me, x.participant, x.speak, x.video, x.seconds),
    ),
    "rights_revoke": (p.Target, lambda me, x: c.RevokeRights(me, x.participant)),
    "poll_create": (
        p.PollCreate,
        lambda me, x: c.CreatePoll(me, x.kind, x.question, tuple(x.options), x.anonymous, x.launch),
    ),
    "poll_launch": (p.PollRef, lambda me, x: c.LaunchPoll(me, x.poll)),
    "poll_vote": (p.PollVote, lambda me, x: c.Vote(me, x.poll, tuple(x.choices), x.text)),
    "poll_close": (p.PollRef, lambda me, x: c.ClosePoll(me, x.poll)),
    "poll_publish": (p.PollRef, lambda me, x: c.PublishResults(me, x.poll)),
    "set_layout": (p.LayoutSet, lambda me, x: c.SetLayout(me, x.layout)),
    "set_page": (p.PagePayload, lambda me, x: c.SetPage(me, x.page)),
    "set_player": (p.PlayerPayload, lambda me, x: c.SetPlayer(me, x.playing, x.position_s)),
    "set_pointer": (p.PointerPayload, lambda me, x: c.SetPointer(me, x.x, x.y)),
    "stop_sharing": (p.Empty, lambda me, _: c.StopSharing(me)),
    "start_recording": (p.Empty, lambda me, _: c.StartRecording(me)),
    "stop_recording": (p.Empty, lambda me, _: c.StopRecording(me)),
}
