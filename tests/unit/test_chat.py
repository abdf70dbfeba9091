"""Chat in the room core: delivery, history, limits, moderation."""

from __future__ import annotations

from rooms.chat import HISTORY_FOR_LATE_JOINERS, MAX_MESSAGE_LENGTH
from rooms.chat_policy import PrivateChat
from rooms.commands import DeleteChat, LockChat, MuteChat, SendChat, SetPrivateChat
from rooms.model import Everyone, One, Record
from rooms.refusals import Reason
from rooms.room import Room
from tests.unit.roomkit import NOW, ok, pupil, refused, room_with_host


def classroom() -> Room:
    room = room_with_host()
    ok(room.apply(pupil("a", 2), NOW))
    ok(room.apply(pupil("b", 3), NOW))
    return room


def test_public_message_goes_to_everyone_and_is_recorded() -> None:
    room = classroom()
    out = ok(room.apply(SendChat(actor="a", text="Salem!"), NOW))
    event = out.events[0]
    assert event.name == "chat_message" and event.audience == Everyone()
    message = event.payload["message"]
    assert message["text"] == "Salem!" and message["to"] is None
    assert message["from"] == {"id": "a", "name": "Pupil 2", "role": "participant"}
    assert out.effects == [Record("chat_message", message)]


def test_private_message_reaches_only_the_two_people() -> None:
    room = classroom()
    out = ok(room.apply(SendChat(actor="a", text="my mic is broken", to="h"), NOW))
    assert {e.audience for e in out.events} == {One("a"), One("h")}
    assert out.effects == []
    # A host sees only their own private conversations (pupils may write to each other here).
    ok(room.apply(SetPrivateChat(actor="h", setting=PrivateChat.CLASSMATES), NOW))
    out = ok(room.apply(SendChat(actor="a", text="psst", to="b"), NOW))
    assert {e.audience for e in out.events} == {One("a"), One("b")}
    host_history = room.snapshot_for("h")["chat"]["messages"]
    assert [m["text"] for m in host_history] == ["my mic is broken"]
    assert refused(room.apply(SendChat(actor="a", text="x", to="a"), NOW)).reason is (
        Reason.INVALID_PAYLOAD
    )
    assert refused(room.apply(SendChat(actor="a", text="x", to="zz"), NOW)).reason is (
        Reason.UNKNOWN_PARTICIPANT
    )


def test_late_joiner_gets_recent_public_history_and_own_threads() -> None:
    room = classroom()
    for i in range(HISTORY_FOR_LATE_JOINERS + 5):
        ok(room.apply(SendChat(actor="h", text=f"m{i}"), NOW + i))
    ok(room.apply(SendChat(actor="h", text="to pupil 4", to="a"), NOW + 999))
    ok(room.apply(pupil("a2", 2), NOW + 1000))  # pupil 2 again, on another connection
    history = room.snapshot_for("a2")["chat"]["messages"]
    assert len(history) == HISTORY_FOR_LATE_JOINERS + 1
    assert history[0]["text"] == "m5" and history[-1]["text"] == "to pupil 4"
    assert len(room.chat.public_messages) == HISTORY_FOR_LATE_JOINERS + 5


def test_length_cap_is_an_error_not_a_truncation() -> None:
    room = classroom()
    assert ok(room.apply(SendChat(actor="a", text="x" * MAX_MESSAGE_LENGTH), NOW))
    refusal = refused(room.apply(SendChat(actor="a", text="x" * (MAX_MESSAGE_LENGTH + 1)), NOW))
    assert refusal.reason is Reason.TOO_LONG
    assert refused(room.apply(SendChat(actor="a", text="  \n "), NOW)).reason is Reason.EMPTY
    assert len(room.chat.public_messages) == 1


def test_rate_limit_is_a_token_bucket() -> None:
    room = classroom()
    results = [room.apply(SendChat(actor="a", text="spam"), NOW) for _ in range(8)]
    assert sum(1 for r in results if not hasattr(r, "reason")) == 6
    assert refused(results[-1]).reason is Reason.RATE_LIMITED
    ok(room.apply(SendChat(actor="a", text="later"), NOW + 1))  # 3 tokens back after 1 s
    ok(room.apply(SendChat(actor="b", text="others unaffected"), NOW))


def test_host_deletes_a_message_for_everyone() -> None:
    room = classroom()
    ok(room.apply(SendChat(actor="a", text="rude"), NOW))
    message_id = room.chat.public_messages[0].id
    assert refused(room.apply(DeleteChat(actor="b", message_id=message_id), NOW)).reason is (
        Reason.NOT_PERMITTED
    )
    out = ok(room.apply(DeleteChat(actor="h", message_id=message_id), NOW))
    assert out.events[0].payload == {"id": message_id}
    assert room.snapshot_for("b")["chat"]["messages"][0] == {
        **room.chat.public_messages[0].public(),
        "text": "",
        "deleted": True,
    }
    assert refused(room.apply(DeleteChat(actor="h", message_id=message_id), NOW)).reason is (
        Reason.UNKNOWN_MESSAGE
    )


def test_host_cannot_delete_others_private_messages() -> None:
    room = classroom()
    ok(room.apply(SetPrivateChat(actor="h", setting=PrivateChat.CLASSMATES), NOW))
    ok(room.apply(SendChat(actor="a", text="secret", to="b"), NOW))
    message_id = room.chat.private_messages[0].id
    assert refused(room.apply(DeleteChat(actor="h", message_id=message_id), NOW)).reason is (
        Reason.UNKNOWN_MESSAGE
    )


def test_mute_follows_the_person_and_locks_spare_hosts() -> None:
    room = classroom()
    ok(room.apply(MuteChat(actor="h", target="a", muted=True), NOW))
    assert refused(room.apply(SendChat(actor="a", text="hi"), NOW)).reason is Reason.CHAT_MUTED
    ok(room.apply(pupil("a2", 2), NOW))  # reconnecting does not unmute
    assert room.participants["a2"].chat_muted
    ok(room.apply(MuteChat(actor="h", target="a2", muted=False), NOW))
    ok(room.apply(SendChat(actor="a2", text="hi"), NOW + 5))

    out = ok(room.apply(LockChat(actor="h", public=True), NOW + 5))
    assert out.events[0].payload["public_locked"] is True
    ok(room.apply(SetPrivateChat(actor="h", setting=PrivateChat.HOSTS), NOW + 5))
    assert refused(room.apply(SendChat(actor="b", text="hi"), NOW + 6)).reason is (
        Reason.CHAT_LOCKED
    )
    assert refused(room.apply(SendChat(actor="b", text="hi", to="a2"), NOW + 6)).reason is (
        Reason.PRIVATE_NOT_ALLOWED
    )
    ok(room.apply(SendChat(actor="b", text="help, no sound", to="h"), NOW + 6))
    ok(room.apply(SendChat(actor="h", text="the host still speaks"), NOW + 6))
    assert refused(room.apply(MuteChat(actor="h", target="h", muted=True), NOW)).reason is (
        Reason.NOT_PERMITTED
    )
