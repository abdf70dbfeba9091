"""`sabaq journal import`: the command-line face of the CSV importer."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from server.db.engine import migrate, open_engine, sessions
from server.journal import importer
from server.settings import Settings


async def run_import(
    settings: Settings, file: str, dry_run: bool, new_classes: bool, teachers: bool = False
) -> int:
    """Check, then (unless a dry run) import; exit code 0 on success, 1 on any bad line."""
    try:
        text = Path(file).read_text(encoding="utf-8-sig")  # noqa: ASYNC240 - once, at start
    except (OSError, UnicodeDecodeError) as exc:
        print(f"sabaq: cannot read {file}: {exc}", file=sys.stderr)
        return 1
    kind = "teacher" if teachers else "pupil"
    report = importer.parse(text, kind)
    settings.data.mkdir(parents=True, exist_ok=True)
    engine = open_engine(settings.db_url)
    try:
        await migrate(engine)
        if report.rows:
            await importer.check_against(sessions(engine), report, new_classes)
        if not report.ok:
            for line, problem in report.errors:
                print(f"{file}:{line}: {problem}", file=sys.stderr)
            print(f"sabaq: {len(report.errors)} problem(s); nothing was imported.", file=sys.stderr)
            return 1
        summary = (
            f"{len(report.rows)} {kind}(s), new classes: {', '.join(report.new_classes) or '-'}"
        )
        if dry_run:
            print(f"sabaq: dry run OK: {summary}; nothing was changed.", file=sys.stderr)
            return 0
        try:
            await importer.apply(sessions(engine), report, importer.print_progress)
        except importer.Conflict as exc:
            print(f"sabaq: {exc}", file=sys.stderr)
            return 1
    finally:
        await engine.dispose()
    out = csv.writer(sys.stdout)
    out.writerow(["login", "password"])
    out.writerows(report.passwords)
    print(f"sabaq: imported {summary}.", file=sys.stderr)
    return 0
