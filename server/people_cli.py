"""`sabaq users …`: the administrator's account work from the command line.

Changes are written to the audit log as made by "(command line)". Sessions a change ends
(disable, reset-password) end in the database at once; a running server's open sockets of them
are told too when it runs with Redis (the same channel the servers use between themselves).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.auth import Tokens, installation_secret
from server.db.engine import migrate, open_engine, sessions
from server.journal.views import LessonError
from server.people import COMMAND_LINE, People, Person
from server.sessions import SIGNED_OUT_CHANNEL, Sessions, Why
from server.settings import Settings


async def _tell_sockets(settings: Settings, keys: list[str], why: Why) -> None:
    if not keys or not settings.redis:
        return
    redis = Redis.from_url(settings.redis)
    try:
        await redis.publish(SIGNED_OUT_CHANNEL, json.dumps({"keys": keys, "why": why.value}))
    except RedisError as exc:
        print(f"sabaq: could not tell the servers' open sockets: {exc}", file=sys.stderr)
    finally:
        await redis.aclose()


def _line(p: Person) -> str:
    state = "disabled" if p.disabled else "one-time" if p.must_change_password else "active"
    return "\t".join((p.login, p.kind, state, p.class_name or "-", p.display_name))


async def run_users(settings: Settings, args: argparse.Namespace) -> int:
    """Run one `users` task; exit code 0 on success, 1 on a refusal."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings.data.mkdir(parents=True, exist_ok=True)
    engine = open_engine(settings.db_url)
    try:
        await migrate(engine)
        people = People(sessions(engine))
        book = Sessions(
            sessions(engine),
            Tokens(installation_secret(settings.data), settings.session_hours * 3600),
        )
        task = args.task
        if task == "list":
            for person in await people.everyone(args.kind):
                print(_line(person))
            return 0
        if task == "add":
            person, password = await people.add(COMMAND_LINE, args.login, args.name, args.kind)
            print(f"{person.login}\t{password}")
            return 0
        target = await people.by_login(args.login)
        why: Why | None = None
        if task == "rename":
            person, _ = await people.edit(COMMAND_LINE, target.id, display_name=args.name)
        elif task in ("disable", "enable"):
            person, _ = await people.edit(COMMAND_LINE, target.id, disabled=task == "disable")
            why = Why.DISABLED if task == "disable" else None
        elif task == "move":
            class_id = await people.class_id(args.class_name)
            person, _ = await people.edit(COMMAND_LINE, target.id, class_id=class_id)
        else:  # reset-password
            person, password = await people.reset_password(COMMAND_LINE, target.id)
            print(f"{person.login}\t{password}")
            why = Why.PASSWORD_RESET
        if why is not None:
            keys = await book.end_all_of(person.id, why)
            await _tell_sockets(settings, keys, why)
            print(f"sabaq: {len(keys)} session(s) ended.", file=sys.stderr)
        print(_line(person), file=sys.stderr)
        return 0
    except LessonError as exc:
        print(f"sabaq: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
