"""One typed settings object, read from flags and SABAQ_* environment variables."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    allowed_origins: list[str] = Field(
        default_factory=list, description="extra browser origins allowed to open socket.io"
    )
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="sign-in lifetime")
    max_event_bytes: int = Field(64 * 1024, ge=1024, le=1024 * 1024)
    max_room_size: int = Field(500, ge=2, le=10_000)
    demo: bool = Field(True, description="create a demo school on first start")

    @field_validator("redis")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("public_url")
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
    def _database(self) -> Settings:
        if self.database_url is not None:
            scheme = urlsplit(self.database_url).scheme
            if scheme not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
                raise ValueError(
                    "database_url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
                )
        return self

    @property
    def base_url(self) -> str:
        """The URL invite links point to."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def origins(self) -> list[str]:
        """Browser origins socket.io accepts: our own address plus the allow-list."""
        own = urlsplit(self.base_url)
        return [f"{own.scheme}://{own.netloc}", *self.allowed_origins]

    @property
    def db_url(self) -> str:
        """The database URL in force."""
        return self.database_url or f"sqlite+aiosqlite:///{self.data.resolve() / 'sabaq.db'}"
