"""The school's settings: name, time zone, mark scale and the attendance rules of the bridge."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.attendance import Rules
from rooms.chat_policy import PrivateChat
from rooms.recording import RecordingRule
from server.db.tables import SchoolSettingsRow

SETTINGS_ROW = 1


class SchoolSettings(BaseModel):
    """`GET /api/admin/school`, and the whole body of its `PUT`."""

    model_config = ConfigDict(extra="forbid")
    name: StrictStr = Field(min_length=1, max_length=120)
    timezone: StrictStr = Field(
        max_length=64, description="IANA time zone of the school's days and weeks"
    )
    mark_min: StrictInt = Field(ge=0, le=100)
    mark_max: StrictInt = Field(ge=1, le=100)
    present_ratio: StrictFloat | StrictInt = Field(
        gt=0, le=1, description="share of the scheduled time a pupil must attend to be present"
    )
    late_after_min: StrictFloat | StrictInt = Field(
        ge=0, le=240, description="a first join later than this after the start is late"
    )
    left_early_min: StrictFloat | StrictInt = Field(
        ge=0, le=240, description="leaving more than this before the end is leaving early"
    )
    reconnect_grace_s: StrictFloat | StrictInt = Field(
        ge=0, le=3600, description="a network drop shorter than this is merged"
    )
    finalise_grace_min: StrictFloat | StrictInt = Field(
        ge=0, le=24 * 60, description="lessons left open are ended this long after their end"
    )
    private_chat: PrivateChat = Field(
        description="who may write privately to whom in a room that has no choice of its own"
    )
    recording: RecordingRule = Field(
        RecordingRule.OFF,
        description="lessons may be recorded: off, by the host (hosts) or hosts and presenters",
    )
    recording_quota_mb: StrictInt = Field(
        2000, ge=0, le=10_000_000, description="disk the school's recordings may take, MB"
    )
    recording_retention_days: StrictInt = Field(
        30, ge=1, le=3650, description="recordings older than this are deleted (and logged)"
    )

    @model_validator(mode="after")
    def _coherent(self) -> SchoolSettings:
        if self.mark_min >= self.mark_max:
            raise ValueError("mark_min must be below mark_max")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{self.timezone!r} is not a time zone like Asia/Almaty") from None
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The school's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def rules(self) -> Rules:
        """The attendance rules these settings describe."""
        return Rules(
            present_ratio=float(self.present_ratio),
            late_after_s=float(self.late_after_min) * 60,
            reconnect_grace_s=float(self.reconnect_grace_s),
            left_early_margin_s=float(self.left_early_min) * 60,
        )

    @property
    def finalise_grace_s(self) -> float:
        """How long after its scheduled end an open lesson is ended as proposed."""
        return float(self.finalise_grace_min) * 60


async def load(s: AsyncSession) -> SchoolSettings:
    """The school's settings (the row every installation has since migration 0007)."""
    row = await s.get(SchoolSettingsRow, SETTINGS_ROW)
    if row is None:
        raise RuntimeError("school_settings has no row: the database was not migrated")
    return SchoolSettings.model_validate(
        {name: getattr(row, name) for name in SchoolSettings.model_fields}
    )


async def save(s: AsyncSession, settings: SchoolSettings) -> None:
    """Replace the school's settings (the caller commits)."""
    row = await s.get(SchoolSettingsRow, SETTINGS_ROW)
    if row is None:
        row = SchoolSettingsRow(id=SETTINGS_ROW)
        s.add(row)
    for name in SchoolSettings.model_fields:
        value = getattr(settings, name)
        setattr(row, name, value.value if isinstance(value, PrivateChat | RecordingRule) else value)
