"""`sabaq doc inspect FILE`: the upload's checks from the command line."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from server.documents.limits import from_settings
from server.documents.pipeline import run_worker
from server.documents.refusals import Refused
from server.settings import Settings


def inspect(settings: Settings, file: str) -> int:
    """Print one JSON object and return 0, or print one sentence and return 2."""
    if not os.path.isfile(file):
        print(f"sabaq: {file}: no such file", file=sys.stderr)
        return 2
    return asyncio.run(_inspect(settings, Path(file)))


async def _inspect(settings: Settings, path: Path) -> int:
    file = str(path)
    try:
        result = await run_worker("inspect", path, from_settings(settings))
    except Refused as refusal:
        print(f"{file}: {refusal.message} ({refusal.code.value})", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 0
