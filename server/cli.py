"""The `sabaq` command."""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web
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
    return root


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    overrides = {k: v for k in FLAGS if (v := getattr(args, k)) is not None}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        for problem in exc.errors():
            name = ".".join(str(p) for p in problem["loc"])
            print(f"sabaq: bad setting {name}: {problem['msg']}", file=sys.stderr)
        return 2
    from server.app import create_app  # imported late: --help stays fast

    # Alembic announces each of its plugins at INFO; only the migrations themselves matter here.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    log = logging.getLogger("sabaq")
    log.info("Sabaq starting on %s (data in %s)", settings.base_url, settings.data.resolve())
    try:
        web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)
    except OSError as exc:
        print(
            f"sabaq: cannot listen on {settings.host}:{settings.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
