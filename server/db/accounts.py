"""Accounts, classes and rooms as stored records."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rooms.refusals import Reason
from server.auth import DUMMY_HASH, hash_password, verify_password
from server.db.tables import (
    ClassMember,
    Lesson,
    RoomRecord,
    SchoolClass,
    SchoolSettingsRow,
    Teaching,
    User,
)


@dataclass(frozen=True, slots=True)
class Account:
    """A user as the rest of the server sees it (never with the hash)."""

    id: int
    login: str
    display_name: str
    kind: str
    must_change_password: bool = False

    def public(self) -> dict[str, object]:
        """The protocol's User object."""
        return {
            "id": self.id,
            "login": self.login,
            "display_name": self.display_name,
            "kind": self.kind,
            "must_change_password": self.must_change_password,
        }


@dataclass(frozen=True, slots=True)
class StoredRoom:
    """A room's durable facts."""

    id: str
    title: str
    owner_id: int
    class_id: int | None
    class_name: str | None
    guest_policy: str
    # The room's lesson has ended: nobody enters any more (the room was closed for everyone).
    closed: bool = False
    # Who may write privately to whom when the room opens: the host's last choice in this
    # room, else the school's (rooms/chat_policy.py); None where not looked up (room lists).
    private_chat: str | None = None
    # The school's recording rule and quota (rooms/recording.py); looked up with private_chat.
    recording: str = "off"
    recording_quota_mb: int = 0


def account_of(user: User) -> Account:
    """The account of a user row."""
    return Account(
        user.id, user.login, user.display_name, user.kind, bool(user.must_change_password)
    )


class DuplicateLogin(Exception):
    """A login that is already taken."""


class Store:
    """Reads and writes accounts, classes and rooms; one short transaction per call."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def count_users(self) -> int:
        """How many accounts exist."""
        async with self._sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(User)) or 0)

    async def create_user(
        self, login: str, display_name: str, kind: str, password: str, one_time: bool = False
    ) -> Account:
        """A new account; raises DuplicateLogin if the login is taken."""
        user = User(
            login=login,
            display_name=display_name,
            kind=kind,
            password_hash=await hash_password(password),
            created_at=datetime.now(UTC),
            must_change_password=one_time,
        )
        async with self._sessions() as s:
            s.add(user)
            try:
                await s.commit()
            except IntegrityError as exc:
                raise DuplicateLogin(login) from exc
            return account_of(user)

    async def authenticate(self, login: str, password: str) -> Account | Reason:
        """The account if login and password match; else why not.

        A one-time password works for one sign-in: that sign-in spends it (whoever of two
        simultaneous tries gets there first), and the next one is refused.
        """
        async with self._sessions() as s:
            user = await s.scalar(select(User).where(User.login == login))
        if user is None:
            await verify_password(DUMMY_HASH, password)
            return Reason.INVALID_CREDENTIALS
        if not await verify_password(user.password_hash, password):
            return Reason.INVALID_CREDENTIALS
        if user.disabled:  # said only to whoever knows the password
            return Reason.ACCOUNT_DISABLED
        if user.must_change_password:
            async with self._sessions() as s:
                spent = await s.scalar(
                    update(User)
                    .where(
                        User.id == user.id,
                        User.password_hash == user.password_hash,
                        User.one_time_spent.is_(False),
                    )
                    .values(one_time_spent=True)
                    .returning(User.id)
                )
                await s.commit()
            if spent is None:
                return Reason.ONE_TIME_PASSWORD_USED
        return account_of(user)

    async def change_password(self, user_id: int, current: str, new: str) -> bool:
        """Replace the password if `current` is right; the new one is no longer one-time."""
        # No connection is held while argon2 works (~0.5 s for both): a class changing its
        # one-time passwords together would otherwise take the whole pool.
        async with self._sessions() as s:
            old = await s.scalar(select(User.password_hash).where(User.id == user_id))
        if old is None or not await verify_password(old, current):
            return False
        replacement = await hash_password(new)
        async with self._sessions() as s:
            changed = await s.scalar(
                update(User)
                .where(User.id == user_id, User.password_hash == old)  # unchanged meanwhile
                .values(password_hash=replacement, must_change_password=False, one_time_spent=False)
                .returning(User.id)
            )
            await s.commit()
        return changed is not None

    async def account(self, user_id: int) -> Account | None:
        """The account with this id."""
        async with self._sessions() as s:
            user = await s.get(User, user_id)
            return None if user is None else account_of(user)

    async def create_class(self, name: str, pupil_ids: list[int]) -> int:
        """A class with these pupils; returns its id."""
        async with self._sessions() as s:
            school_class = SchoolClass(name=name)
            s.add(school_class)
            await s.flush()
            s.add_all(ClassMember(class_id=school_class.id, user_id=uid) for uid in pupil_ids)
            await s.commit()
            return school_class.id

    async def classes(self, taught_by: int | None = None) -> list[tuple[int, str, int]]:
        """Every class as (id, name, number of pupils); with `taught_by`, only the classes the
        teaching table gives that teacher (in any subject)."""
        async with self._sessions() as s:
            query = (
                select(SchoolClass.id, SchoolClass.name, func.count(ClassMember.id))
                .outerjoin(ClassMember, ClassMember.class_id == SchoolClass.id)
                .group_by(SchoolClass.id, SchoolClass.name)
                .order_by(SchoolClass.name)
            )
            if taught_by is not None:
                taught = select(Teaching.class_id).where(Teaching.teacher_id == taught_by)
                query = query.where(SchoolClass.id.in_(taught))
            rows = await s.execute(query)
            return [(int(i), str(n), int(c)) for i, n, c in rows]

    async def teaches_class(self, teacher_id: int, class_id: int) -> bool:
        """Whether the teaching table gives the teacher this class, in any subject."""
        async with self._sessions() as s:
            found = await s.scalar(
                select(Teaching.id)
                .where(Teaching.teacher_id == teacher_id, Teaching.class_id == class_id)
                .limit(1)
            )
            return found is not None

    async def expected_in_room(self, user_id: int, owner_id: int, class_id: int | None) -> bool:
        """Whether a join of this user enters the room unasked as one of its class: a pupil of
        the room's class while its owner teaches that class (as every lesson route checks on
        each use; a room kept after the class was taken away makes the class knock). One rule
        for the join (server/signalling.py) and the room page's one-click entry."""
        if class_id is None:
            return False
        # One query, not two: it is on the way of every pupil into a lesson.
        member = select(ClassMember.id).where(
            ClassMember.user_id == user_id, ClassMember.class_id == class_id
        )
        taught = select(Teaching.id).where(
            Teaching.teacher_id == owner_id, Teaching.class_id == class_id
        )
        async with self._sessions() as s:
            found = await s.scalar(select(member.exists() & taught.exists()))
            return bool(found)

    async def in_class(self, user_id: int, class_id: int) -> bool:
        """Whether the user is a pupil of the class."""
        async with self._sessions() as s:
            found = await s.scalar(
                select(ClassMember.id).where(
                    ClassMember.user_id == user_id, ClassMember.class_id == class_id
                )
            )
            return found is not None

    async def class_exists(self, class_id: int) -> bool:
        """Whether a class with this id exists."""
        async with self._sessions() as s:
            return await s.get(SchoolClass, class_id) is not None

    async def create_room(
        self, title: str, owner_id: int, class_id: int | None, guest_policy: str
    ) -> StoredRoom:
        """A new room with an unguessable id (the invite link is the room's address)."""
        record = RoomRecord(
            id=secrets.token_urlsafe(9),
            title=title,
            owner_id=owner_id,
            class_id=class_id,
            guest_policy=guest_policy,
            created_at=datetime.now(UTC),
        )
        async with self._sessions() as s:
            s.add(record)
            await s.commit()
        room = await self.room(record.id)
        assert room is not None
        return room

    async def room(self, room_id: str) -> StoredRoom | None:
        """The room with this id."""
        async with self._sessions() as s:
            row = (
                await s.execute(
                    select(RoomRecord, SchoolClass.name)
                    .outerjoin(SchoolClass, SchoolClass.id == RoomRecord.class_id)
                    .where(RoomRecord.id == room_id)
                )
            ).first()
            if row is None:
                return None
            ended = await s.scalar(
                select(Lesson.id)
                .where(Lesson.room_id == room_id, Lesson.state == "closed")
                .limit(1)
            )
            school = (
                await s.execute(
                    select(
                        SchoolSettingsRow.private_chat,
                        SchoolSettingsRow.recording,
                        SchoolSettingsRow.recording_quota_mb,
                    ).limit(1)
                )
            ).first()
        school_default, recording, quota_mb = school if school is not None else (None, "off", 0)
        record, class_name = row
        return StoredRoom(
            record.id,
            record.title,
            record.owner_id,
            record.class_id,
            class_name,
            record.guest_policy,
            closed=ended is not None,
            private_chat=record.private_chat or school_default,
            recording=recording,
            recording_quota_mb=quota_mb,
        )

    async def rooms_of(self, owner_id: int) -> list[StoredRoom]:
        """The rooms a teacher created, newest first."""
        async with self._sessions() as s:
            rows = await s.execute(
                select(RoomRecord, SchoolClass.name)
                .outerjoin(SchoolClass, SchoolClass.id == RoomRecord.class_id)
                .where(RoomRecord.owner_id == owner_id)
                .order_by(RoomRecord.created_at.desc())
            )
            return [
                StoredRoom(r.id, r.title, r.owner_id, r.class_id, n, r.guest_policy)
                for r, n in rows
            ]

    async def lesson_of_room(self, room_id: str) -> int | None:
        """The journal lesson a room was opened for, if any."""
        async with self._sessions() as s:
            found = await s.scalar(select(Lesson.id).where(Lesson.room_id == room_id).limit(1))
            return None if found is None else int(found)

    async def set_private_chat(self, room_id: str, setting: str) -> None:
        """Remember a host's private-chat choice for the room's next session."""
        async with self._sessions() as s:
            record = await s.get(RoomRecord, room_id)
            if record is not None:
                record.private_chat = setting
                await s.commit()

    async def set_guest_policy(self, room_id: str, policy: str) -> None:
        """Remember a room's guest policy for its next session."""
        async with self._sessions() as s:
            record = await s.get(RoomRecord, room_id)
            if record is not None:
                record.guest_policy = policy
                await s.commit()
