"""Room sessions handed from a draining process to the next one, so resume tokens stay good.

A resume token names the room session it was issued in; a new process would open each room
with a fresh session and turn every token away, so an admitted guest would knock again after a
restart. The drain writes the sessions of the rooms it closes to a file in the data folder; the
next process, if it starts soon enough, opens those rooms with the same sessions. Coming back
then works as after a network blip: the same person, without knocking.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

FILE = "drained-rooms.json"
# A restart that takes longer than this is not a restart but an outage: rooms start afresh.
MAX_AGE_S = 600.0


def save(data: Path, sessions: dict[str, str], now: float) -> None:
    """Keep the sessions of the rooms closed by this drain (room id → session)."""
    path = data / FILE
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"at": now, "rooms": sessions}), encoding="utf-8")
    os.replace(partial, path)  # whole or not at all, even if the process dies here


def take(data: Path, now: float, max_age_s: float = MAX_AGE_S) -> dict[str, str]:
    """The sessions a recent drain handed over, once: the file is removed after reading."""
    path = data / FILE
    try:
        text = path.read_text(encoding="utf-8")
        path.unlink()
        saved = json.loads(text)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring %s: %s", path, exc)
        return {}
    if not isinstance(saved, dict):
        saved = {}
    at, rooms = saved.get("at"), saved.get("rooms")
    if not isinstance(at, int | float) or not isinstance(rooms, dict):
        log.warning("ignoring %s: not a handover", path)
        return {}
    if not 0 <= now - at <= max_age_s:
        log.info("room sessions of a drain %.0f s ago not taken over", now - at)
        return {}
    return {str(k): str(v) for k, v in rooms.items() if isinstance(v, str)}
