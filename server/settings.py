"""One typed settings object, read from flags and SABAQ_* environment variables."""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class IceServerSetting(BaseModel):
    """One STUN/TURN server for the SFU and the browsers (RTCIceServer's fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    urls: str
    username: str | None = None
    credential: str | None = None

    @field_validator("urls")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if value.split(":", 1)[0] not in ("stun", "stuns", "turn", "turns"):
            raise ValueError(f"{value!r} is not a stun:, stuns:, turn: or turns: URL")
        return value


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address") from None


class Settings(BaseSettings):
    """Everything an operator can configure; validated once, at start-up."""

    model_config = SettingsConfigDict(env_prefix="SABAQ_", extra="forbid")

    host: str = Field("127.0.0.1", description="address to listen on")
    port: int = Field(8080, ge=0, le=65535, description="TCP port to listen on (0: any free)")
    data: Path = Field(Path("data"), description="folder for the database and the secret key")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file in the data folder"
    )
    redis: str | None = Field(None, description="redis:// URL to share events between nodes")
    public_url: str | None = Field(
        None, description="the address people open, e.g. https://sabaq.school.kz"
    )
    workers: int | None = Field(
        None,
        ge=1,
        le=256,
        description="worker processes on the one port; default: the cores with Redis, else 1",
    )
    node_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="a second port that reaches only this process (a worker's own, set by "
        "the supervisor of --workers)",
    )
    reuse_port: bool = Field(
        False, description="share the port with other processes (SO_REUSEPORT; --workers)"
    )
    node_url: str | None = Field(
        None,
        description="with Redis: the address that reaches this process itself, where joins "
        "for the rooms it serves are sent (docs/scaling.md); default: the public URL",
    )
    allowed_origins: list[str] = Field(
        default_factory=list, description="extra browser origins allowed to open socket.io"
    )
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="sign-in lifetime")
    max_event_bytes: int = Field(64 * 1024, ge=1024, le=1024 * 1024)
    max_room_size: int = Field(500, ge=2, le=10_000)
    demo: bool = Field(True, description="create a demo school on first start")
    journal_url: str | None = Field(
        None, description="URL of a school journal's HTTP endpoint that receives attendance"
    )
    journal_secret: SecretStr | None = Field(
        None, min_length=16, description="shared secret for the journal's HMAC-SHA256 signature"
    )
    journal_csv: Path | None = Field(
        None, description="folder for the CSV export of attendance (one file per school day)"
    )
    media_address: str | None = Field(
        None, description="local IP the SFU gathers ICE candidates on; default: host if an IP"
    )
    media_announced_address: str | None = Field(
        None, description="IP written into the SFU's candidates (a server behind NAT)"
    )
    ice_servers: list[IceServerSetting] = Field(
        default_factory=list,
        description="STUN/TURN servers (JSON list) for the SFU and browsers; empty: host only",
    )
    media_video_playout_max_ms: int = Field(
        200,
        ge=0,
        le=500,
        description="while a viewer's line is steady, ask its browser to show forwarded video "
        "as soon as it is decoded, holding a frame at most this long (playout-delay extension, "
        "minimum 0; a jittery line gets the browser's own smoothing; docs/media.md); 0: never",
    )
    drain_seconds: float = Field(
        10.0,
        ge=1,
        le=3600,
        description="on SIGTERM: at most this long to tell clients, close rooms and flush, "
        "then exit",
    )
    metrics_token: SecretStr | None = Field(
        None,
        min_length=16,
        description="bearer token that lets a scraper read /metrics from outside loopback",
    )
    doc_max_mb: float = Field(50, gt=0, le=2048, description="largest shared document, in MB")
    doc_max_pages: int = Field(300, ge=1, le=10_000, description="most pages a document may have")
    doc_max_zip_entries: int = Field(10_000, ge=1, le=1_000_000)
    doc_timeout_s: float = Field(
        180, gt=0, le=3600, description="wall-clock limit of one conversion (LibreOffice killed)"
    )
    doc_memory_mb: int = Field(3072, ge=256, le=65536, description="address space of a worker")
    doc_soffice: str = Field("soffice", description="LibreOffice's command for office files")

    @field_validator("media_address", "media_announced_address")
    @classmethod
    def _media_ip(cls, value: str | None) -> str | None:
        return None if value is None else _ip(value)

    @field_validator("media_video_playout_max_ms")
    @classmethod
    def _playout_max(cls, value: int) -> int:
        # The extension counts in 10 ms: below that the maximum would be 0, which asks for
        # no buffering at all (a different mode), not a small one.
        if 0 < value < 10:
            raise ValueError("must be 0 (never) or from 10 to 500 ms")
        return value

    @field_validator("ice_servers", mode="before")
    @classmethod
    def _ice_json(cls, value: Any) -> Any:
        # A flag gives a JSON string; the environment is decoded by pydantic-settings itself.
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("redis")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("public_url", "node_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL such as https://sabaq.example")
        return value.rstrip("/")

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin == "*" or urlsplit(origin).scheme not in ("http", "https"):
                raise ValueError(f"{origin!r} is not an origin like https://host[:port]")
        return [o.rstrip("/") for o in value]

    @model_validator(mode="after")
    def _journal(self) -> Settings:
        if (self.journal_url is None) != (self.journal_secret is None):
            raise ValueError("journal_url and journal_secret go together")
        if self.journal_url is not None and urlsplit(self.journal_url).scheme not in (
            "http",
            "https",
        ):
            raise ValueError("journal_url must be an http:// or https:// URL")
        return self

    @model_validator(mode="after")
    def _database(self) -> Settings:
        if self.database_url is not None:
            scheme = urlsplit(self.database_url).scheme
            if scheme not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
                raise ValueError(
                    "database_url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
                )
        return self

    @model_validator(mode="after")
    def _workers(self) -> Settings:
        if (self.workers or 1) > 1 and not self.redis:
            raise ValueError("several workers need --redis: they share the rooms through it")
        if (self.workers or 1) > 1 and self.port == 0:
            raise ValueError("several workers need a fixed --port (their own ports follow it)")
        return self

    @property
    def worker_count(self) -> int:
        """Worker processes to run: as given, else every core with Redis, else one."""
        if self.workers is not None:
            return self.workers
        # Any free port (0) leaves no room for the workers' own ports after it: one process.
        return len(os.sched_getaffinity(0)) if self.redis and self.port != 0 else 1

    @model_validator(mode="after")
    def _media(self) -> Settings:
        _ = self.media_gather_address  # refuse at start-up, not at the first publish
        return self

    @property
    def media_gather_address(self) -> str:
        """Where the SFU gathers candidates: media_address, else the listen host if it is an IP."""
        if self.media_address is not None:
            return self.media_address
        if self.host == "localhost":
            return "127.0.0.1"
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:
            address = None
        if address is None or address.is_unspecified:
            raise ValueError(
                f"cannot tell which address media should use when listening on {self.host!r}: "
                "set media_address (--media-address / SABAQ_MEDIA_ADDRESS)"
            )
        return str(address)

    @property
    def base_url(self) -> str:
        """The URL invite links point to."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def own_url(self) -> str:
        """The URL a join for a room this process serves is sent to (docs/scaling.md)."""
        if self.node_url:
            return self.node_url
        if self.node_port is not None:  # a worker: its own port on the public host name
            own = urlsplit(self.base_url)
            host = f"[{own.hostname}]" if own.hostname and ":" in own.hostname else own.hostname
            return f"{own.scheme}://{host}:{self.node_port}"
        return self.base_url

    @property
    def origins(self) -> list[str]:
        """Browser origins socket.io accepts: our own address plus the allow-list."""
        own = urlsplit(self.base_url)
        return [f"{own.scheme}://{own.netloc}", *self.allowed_origins]

    @property
    def db_url(self) -> str:
        """The database URL in force."""
        return self.database_url or f"sqlite+aiosqlite:///{self.data.resolve() / 'sabaq.db'}"
