"""Settings read from the environment or a .env file, validated once at start-up."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,60}$")
ALIAS_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram delivers webhooks to
USERNAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
INVITE_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_MIRRORS = 10


class ConfigError(Exception):
    """An operator error: one line naming the variable and how to fix it."""


class Settings(BaseSettings):
    """Every TROPA_* variable; secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(
        env_prefix="TROPA_", env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    bot_token: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    api_file_url: str | None = None
    db_path: Path = Path("tropa.sqlite3")
    secret_key: SecretStr | None = None
    admin_ids: Annotated[dict[int, str], NoDecode] = Field(default_factory=dict)
    log_level: str = "INFO"
    content_dir: Path = REPO_ROOT / "content"
    paid_broadcast: bool = False
    quiet_hours: Annotated[tuple[int, int] | None, NoDecode] = None
    digest_interval: float = Field(default=60.0, gt=0, le=3600)
    digest_rate: float = Field(default=30.0, gt=0, le=1000)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    listen: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    proxy_domain: str | None = None
    mirrors: Annotated[tuple[str, ...], NoDecode] = ()
    flood_burst: int = Field(default=20, ge=1, le=100_000)
    flood_rate: float = Field(default=1.0, gt=0, le=100_000)

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("must look like 123456789:AA... as @BotFather gives it")
        return value

    @field_validator("secret_key")
    @classmethod
    def _key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_key(value.get_secret_value())
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_admin_ids(value)
        return value

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_quiet_hours(value)
        return value

    @field_validator("mirrors", mode="before")
    @classmethod
    def _mirrors(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_mirrors(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org/bot")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.password or parts.fragment:
            raise ValueError(
                "must be the public https:// address Telegram posts updates to, e.g. https://bot.example.org/telegram"
            )
        try:
            port = parts.port
        except ValueError:
            port = -1
        if port is not None and port not in WEBHOOK_PORTS:
            raise ValueError("Telegram only delivers to ports 443, 80, 88 and 8443")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_RE.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1 to 256 of A-Z, a-z, 0-9, _ and - (make one with `tropa keygen --webhook`)")
        return value

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError("must be an IP address to listen on, such as 127.0.0.1 or 0.0.0.0") from None
        return value

    def webhook(self) -> Webhook | None:
        """Webhook mode's settings when TROPA_WEBHOOK_URL is set (None: long polling), or a ConfigError."""
        if self.webhook_url is None:
            return None
        if self.webhook_secret is None:
            raise ConfigError(
                "TROPA_WEBHOOK_SECRET is not set: webhook mode (TROPA_WEBHOOK_URL) needs one so that only Telegram "
                "can post updates; make one with `tropa keygen --webhook`"
            )
        parts = urlsplit(self.webhook_url)
        if self.proxy_domain and parts.hostname != self.proxy_domain.lower():
            raise ConfigError(
                "TROPA_WEBHOOK_URL must be on TROPA_PROXY_DOMAIN, the name the proxy gets a certificate for"
            )
        return Webhook(
            self.webhook_url, parts.path or "/", self.webhook_secret.get_secret_value(), self.listen, self.port
        )

    def token(self) -> str:
        """The bot token, or a ConfigError saying how to get one."""
        if self.bot_token is None:
            raise ConfigError(
                "TROPA_BOT_TOKEN is not set: create a bot with @BotFather and put its token in TROPA_BOT_TOKEN "
                "(or try `tropa console`, which needs none)"
            )
        return self.bot_token.get_secret_value()

    def key(self) -> bytes:
        """The 32-byte master key, or a ConfigError saying how to make one."""
        if self.secret_key is None:
            raise ConfigError("TROPA_SECRET_KEY is not set: run `tropa keygen` and put its output in TROPA_SECRET_KEY")
        return decode_key(self.secret_key.get_secret_value())

    def secrets(self) -> list[str]:
        """Every secret value set (and the token's secret half), for the log redactor to mask wherever it appears."""
        found = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value().strip():
                found.append(value.get_secret_value().strip())
        if self.bot_token is not None:
            found.append(self.bot_token.get_secret_value().partition(":")[2])
        return found

    @property
    def file_url(self) -> str:
        """Base URL for file downloads, derived from the API URL unless set."""
        if self.api_file_url:
            return self.api_file_url
        return self.api_base_url.removesuffix("/bot") + "/file/bot"


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts updates (url), and where the bot listens for them behind the proxy."""

    url: str
    path: str
    secret: str = field(repr=False)
    listen: str
    port: int


WRONG_KEY = (
    "TROPA_SECRET_KEY does not open the subscribers and deletions in TROPA_DB_PATH: set the key it was sealed with "
    "(after `tropa rotate-key`, the new one)"
)


def decode_key(text: str) -> bytes:
    """Decode urlsafe base64 of exactly 32 bytes."""
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii") + b"=" * (-len(text.strip()) % 4))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise ValueError("must be urlsafe base64 of 32 bytes: run `tropa keygen` to make one") from exc
    if len(raw) != 32:
        raise ValueError("must be urlsafe base64 of 32 bytes: run `tropa keygen` to make one")
    return raw


def parse_admin_ids(text: str) -> dict[int, str]:
    """Parse `alias:id,alias:id` (a bare id gets the alias admin1, admin2, ...)."""
    admins: dict[int, str] = {}
    for number, part in enumerate(filter(None, (p.strip() for p in text.split(","))), start=1):
        alias, _, ident = part.rpartition(":")
        alias = alias.strip() or f"admin{number}"
        if not ident.strip().isdigit() or not ALIAS_RE.match(alias):
            raise ValueError("must be a comma-separated list of alias:telegram_id, e.g. anna:123,boris:456")
        admins[int(ident)] = alias
    return admins


def parse_quiet_hours(text: str) -> tuple[int, int] | None:
    """`22-07` -> (22, 7): no digests from 22:00 until 07:00 UTC. Empty means none."""
    text = text.strip()
    if not text:
        return None
    match = re.fullmatch(r"([0-9]{1,2})-([0-9]{1,2})", text)
    if not match or not all(0 <= int(x) <= 23 for x in match.groups()) or match.group(1) == match.group(2):
        raise ValueError("must be two different UTC hours as START-END, e.g. 22-07")
    return int(match.group(1)), int(match.group(2))


def parse_mirrors(text: str) -> tuple[str, ...]:
    """`@backup_bot, https://t.me/channel, t.me/+invite` -> ("@backup_bot", "@channel", "https://t.me/+invite")."""
    found: list[str] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        mirror = _mirror(part)
        if mirror is None:
            raise ValueError(
                f"{part[:40]!r} is neither an @username nor a t.me link: give a comma-separated list such as "
                "@tropa_backup_bot,https://t.me/tropa_news"
            )
        if mirror.lower() not in (m.lower() for m in found):
            found.append(mirror)
    if len(found) > MAX_MIRRORS:
        raise ValueError(f"at most {MAX_MIRRORS} fallback contacts fit under a digest")
    return tuple(found)


def _mirror(part: str) -> str | None:
    """One contact as it is shown: @username for public bots and channels, the link for private invites."""
    if part.startswith("@"):
        return part if USERNAME_RE.fullmatch(part[1:]) else None
    path = re.sub(r"^(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me)/", "", part, flags=re.I)
    if path == part:
        return None
    path = path.rstrip("/")
    invite = re.fullmatch(r"(?:\+|joinchat/)(.+)", path)
    if invite:
        return f"https://t.me/+{invite.group(1)}" if INVITE_RE.fullmatch(invite.group(1)) else None
    return f"@{path}" if USERNAME_RE.fullmatch(path) else None


def in_quiet_hours(window: tuple[int, int] | None, hour: int) -> bool:
    """Whether a UTC hour falls in the window (which may wrap past midnight)."""
    if window is None:
        return False
    start, end = window
    return start <= hour < end if start < end else hour >= start or hour < end


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation errors into one ConfigError line.

    Under systemd, TROPA_* files in $CREDENTIALS_DIRECTORY (LoadCredential=) are read too, below the environment.
    """
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and Path(credentials).is_dir() and "_secrets_dir" not in overrides:
        overrides["_secrets_dir"] = credentials
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"TROPA_{field.upper()} is invalid: {message}") from None
