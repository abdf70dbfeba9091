"""The `sabaq` command."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys

from pydantic import ValidationError

from server.settings import Settings

FLAGS = {
    "host": "address to listen on (default 127.0.0.1; SABAQ_HOST)",
    "port": "TCP port (default 8080; SABAQ_PORT)",
    "data": "folder for the SQLite journal, the secret key and demo accounts "
    "(default ./data; SABAQ_DATA)",
    "redis": "redis:// URL; several server processes then share room events "
    "(default: none, single process; SABAQ_REDIS)",
    "public_url": "the address people open, used in invite links and as the allowed "
    "browser origin, e.g. https://sabaq.school.kz (default http://HOST:PORT; SABAQ_PUBLIC_URL)",
    "node_url": "with --redis: the address that reaches this very process, to which joins "
    "for the rooms it serves are sent, e.g. https://sabaq.school.kz/node/a/ behind a proxy; "
    "with --workers, {worker} and {port} stand for each worker's number and own port "
    "(default: the public URL, or the worker's own port on its host; SABAQ_NODE_URL; "
    "docs/scaling.md)",
    "workers": "worker processes sharing the one port, rooms spread over them "
    "(default: the number of cores with --redis, else 1; more than 1 needs --redis; "
    "SABAQ_WORKERS; docs/scaling.md)",
    "node_port": "a second port that reaches only this process; set for each worker by "
    "--workers (default: none; SABAQ_NODE_PORT)",
    "journal_url": "URL of a school journal's HTTP endpoint that also receives attendance, "
    "signed with HMAC-SHA256 (needs SABAQ_JOURNAL_SECRET, at least 16 characters; "
    "default: none; SABAQ_JOURNAL_URL)",
    "journal_csv": "folder where attendance is also exported as CSV, one file "
    "attendance-YYYY-MM-DD.csv per school day, a row per lesson and pupil, each written once "
    "(default: none; SABAQ_JOURNAL_CSV)",
    "media_address": "local IP address the SFU gathers WebRTC (ICE) candidates on "
    "(default: --host when it is an IP, so 127.0.0.1; required with --host 0.0.0.0; "
    "SABAQ_MEDIA_ADDRESS)",
    "media_announced_address": "IP address announced to browsers in the SFU's candidates, "
    "for a server behind NAT (default: the media address; SABAQ_MEDIA_ANNOUNCED_ADDRESS)",
    "drain_seconds": "on SIGTERM or SIGINT, the longest a restart may take: clients are told "
    "to come back, rooms are closed and attendance written, then the process exits "
    "(default 10; a second signal exits at once; SABAQ_DRAIN_SECONDS)",
    "ice_servers": "STUN/TURN servers as JSON, given to the SFU and to browsers, e.g. "
    '\'[{"urls": "turn:turn.school.kz:3478", "username": "u", "credential": "p"}]\' '
    "(default: none, host candidates only; SABAQ_ICE_SERVERS)",
}


def parser() -> argparse.ArgumentParser:
    """The command line, with a help text for every flag."""
    root = argparse.ArgumentParser(
        prog="sabaq",
        description="Sabaq: live lessons with a WebRTC SFU, a guest lobby and a journal bridge.",
        epilog="Every flag can also be set with its SABAQ_* environment variable; flags win. "
        "Other settings: SABAQ_DATABASE_URL (postgresql+asyncpg://... instead of SQLite), "
        "SABAQ_ALLOWED_ORIGINS (JSON list of extra browser origins), SABAQ_SESSION_HOURS, "
        "SABAQ_MAX_ROOM_SIZE, SABAQ_DEMO (false: no demo school).",
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the server", description="Run the server.")
    for name, text in FLAGS.items():
        serve.add_argument(f"--{name.replace('_', '-')}", dest=name, help=text)
    serve.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    journal = commands.add_parser("journal", help="work with the built-in class journal")
    tasks = journal.add_subparsers(dest="task", required=True, metavar="TASK")
    importer = tasks.add_parser(
        "import",
        help="import classes and pupils from CSV",
        description="Import pupils from a CSV file with the header class,login,full_name. "
        "Every line is checked first; if any line is wrong, nothing is imported and each "
        "problem is reported with its line number. New pupils get one-time passwords, "
        "printed as CSV (login,password) on standard output.",
    )
    importer.add_argument("file", help="the CSV file (UTF-8)")
    importer.add_argument("--dry-run", action="store_true", help="check only, change nothing")
    importer.add_argument(
        "--new-classes", action="store_true", help="create classes the file names that do not exist"
    )
    importer.add_argument(
        "--teachers",
        action="store_true",
        help="the file holds teachers, with the header login,full_name (no class)",
    )
    importer.add_argument("--data", dest="data", help=FLAGS["data"])
    importer.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    _users_parser(commands)
    doc = commands.add_parser("doc", help="check documents the way an upload does")
    doc_tasks = doc.add_subparsers(dest="task", required=True, metavar="TASK")
    inspect = doc_tasks.add_parser(
        "inspect",
        help="what a file is and how the room would show it",
        description="Check FILE exactly as an upload is checked (type from its content, "
        "limits, conversion). Prints one JSON object (kind, pages / duration_s / entries, "
        "shown_as) and exits 0, or prints why the file is refused and exits 2.",
    )
    inspect.add_argument("file")
    inspect.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    return root


def _users_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `users` command and its tasks."""
    users = commands.add_parser("users", help="manage teachers, administrators and pupils")
    tasks = users.add_subparsers(dest="task", required=True, metavar="TASK")
    listing = tasks.add_parser("list", help="list accounts (login, kind, state, class, name)")
    listing.add_argument("--kind", choices=("teacher", "admin", "pupil"))
    add = tasks.add_parser(
        "add", help="add a teacher or an administrator; prints the one-time password"
    )
    add.add_argument("login")
    add.add_argument("name", help="the name people see")
    add.add_argument("--kind", choices=("teacher", "admin"), default="teacher")
    rename = tasks.add_parser("rename", help="change the name people see")
    rename.add_argument("login")
    rename.add_argument("name")
    for task, text in (
        ("disable", "disable an account: no sign-in, every session ends"),
        ("enable", "enable a disabled account again"),
        ("reset-password", "a new one-time password (printed); every session ends"),
    ):
        tasks.add_parser(task, help=text).add_argument("login")
    move = tasks.add_parser("move", help="move a pupil to another class")
    move.add_argument("login")
    move.add_argument("class_name", metavar="class")
    for each in tasks.choices.values():
        each.add_argument("--data", dest="data", help=FLAGS["data"])
        each.add_argument("--redis", dest="redis", help=FLAGS["redis"])
        each.add_argument("-v", "--verbose", action="store_true", help="log debug details")


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where installed: ~3 µs less server CPU per forwarded RTP packet (docs/media.md)."""
    try:
        import uvloop
    except ImportError:  # Windows: uvloop does not exist there
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = parser().parse_args(argv)
    # A one-off command reports what a person must read itself: its libraries' INFO lines
    # (Alembic's plugins and migrations) would bury that report, so they show only with -v.
    quiet = logging.WARNING if args.command in ("journal", "doc") else logging.INFO
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else quiet,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    overrides = {k: v for k in FLAGS if (v := getattr(args, k, None)) is not None}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        for problem in exc.errors():
            name = ".".join(str(p) for p in problem["loc"])
            print(f"sabaq: bad setting {name}: {problem['msg']}", file=sys.stderr)
        return 2
    if args.command == "users":
        from server.people_cli import run_users  # imported late: --help stays fast

        return asyncio.run(run_users(settings, args))
    if args.command == "doc":
        from server.documents.cli import inspect  # imported late: --help stays fast

        return inspect(settings, args.file)
    if args.command == "journal":
        from server.journal.cli import run_import  # imported late: --help stays fast

        return asyncio.run(
            run_import(settings, args.file, args.dry_run, args.new_classes, args.teachers)
        )
    if settings.worker_count > 1 and settings.node_port is None:
        from server.workers import supervise  # imported late: --help stays fast

        given = sys.argv[1:] if argv is None else argv
        return supervise(settings, given[given.index("serve") + 1 :])
    from server.app import create_app  # imported late: --help stays fast
    from server.serve import serve

    # Alembic announces each of its plugins at INFO; only the migrations themselves matter here.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    log = logging.getLogger("sabaq")
    log.info("Sabaq starting on %s (data in %s)", settings.base_url, settings.data.resolve())
    app = create_app(settings)
    # Everything imported so far lives as long as the process: keep it out of the garbage
    # collector's full passes, which otherwise stalled chat fan-out by up to ~150 ms (bench.signal).
    gc.freeze()
    try:
        with asyncio.Runner(loop_factory=_event_loop) as runner:
            runner.run(serve(app, settings))
    except OSError as exc:
        print(
            f"sabaq: cannot listen on {settings.host}:{settings.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
