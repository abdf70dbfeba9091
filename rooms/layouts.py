"""Layout presets the host picks for everyone."""

from __future__ import annotations

from enum import StrEnum


class Layout(StrEnum):
    """How the room page arranges videos and shared content."""

    LECTURE = "lecture"  # presenter's video and shared content large
    DISCUSSION = "discussion"  # a grid of everyone's video
    SHARING = "sharing"  # shared content full, videos in a strip
    CHAT_FOCUS = "chat_focus"  # chat and participant list large, for text-heavy lessons
