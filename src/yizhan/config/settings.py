"""The configuration model and its loading: defaults < yizhan.toml < YIZHAN_* environment < command-line flags.

Environment variables name nested keys with a double underscore: `YIZHAN_LISTEN__SMTP=2526` sets `listen.smtp`.
`YIZHAN_DATA` (the data directory) and `YIZHAN_CONFIG` (the file) choose where things are, not settings.
Every key is validated at start; an unknown or bad key is reported by its dotted name and where it came from.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

ENV_PREFIX = "YIZHAN_"
# Variables with the prefix that choose files rather than set keys.
_LOCATION_VARIABLES = {"YIZHAN_DATA", "YIZHAN_CONFIG"}


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and the source."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


Port = int


class ServerConfig(_Section):
    """Who the server is."""

    hostname: str = Field("localhost", min_length=1, description="Name used in greetings and Received headers")
    domain: str = Field("localhost", min_length=1, description="First domain, created at the first start")
    bind: str = Field("127.0.0.1", description="Address every listener binds to")
    workers: int = Field(1, ge=1, le=64, description="Worker processes sharing the listeners (one per core is "
                                                    "the most that helps); 1 runs everything in one process")
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field(
        "auto", description="Event loop: uvloop when installed (auto), always uvloop, or asyncio's own")


class ListenConfig(_Section):
    """Ports. 0 picks a free port (for tests); -1 turns the listener off."""

    smtp: Port = Field(2525, ge=-1, le=65535)
    submission: Port = Field(2587, ge=-1, le=65535)
    smtps: Port = Field(2465, ge=-1, le=65535)
    lmtp: Port = Field(2424, ge=-1, le=65535)
    imap: Port = Field(2143, ge=-1, le=65535)
    imaps: Port = Field(2993, ge=-1, le=65535)
    pop3: Port = Field(2110, ge=-1, le=65535)
    pop3s: Port = Field(2995, ge=-1, le=65535)
    http: Port = Field(8080, ge=-1, le=65535)


class StoreConfig(_Section):
    """Where metadata lives. Empty `database_url` means SQLite in the data directory."""

    database_url: SecretStr = Field(SecretStr(""), description="e.g. postgresql+asyncpg://user:pw@host/db")
    group_commit_max: int = Field(256, ge=1, le=10000, description="Most deliveries committed together")


class LimitsConfig(_Section):
    """Sizes and counts that bound every input."""

    max_message_size: int = Field(50 * 1024 * 1024, ge=1024, description="Bytes")
    default_quota: int = Field(0, ge=0, description="Bytes for new accounts; 0 means unlimited")


class TlsConfig(_Section):
    """Certificate files; empty means the self-signed pair in the data directory."""

    cert: str = ""
    key: str = ""


class SmtpConfig(_Section):
    """The SMTP, submission and LMTP listeners (protocols/smtp)."""

    max_recipients: int = Field(100, ge=1, le=10000, description="Recipients per message")
    max_connections: int = Field(200, ge=1, le=100000, description="Connections open at once, per listener")
    max_connections_per_ip: int = Field(20, ge=1, le=100000, description="Connections from one IP, per listener")
    max_messages_per_session: int = Field(100, ge=1, le=100000, description="Messages sent over one connection")
    max_bad_commands: int = Field(10, ge=1, le=1000, description="Erroneous commands before disconnecting")
    command_timeout: float = Field(300.0, gt=0, le=3600, description="Seconds to wait for the next command")
    data_timeout: float = Field(600.0, gt=0, le=7200, description="Seconds the whole DATA transfer may take")
    dmarc_reject: bool = Field(True, description="Refuse mail whose sender domain's DMARC policy says reject")
    lmtp_socket: str = Field("", description="Unix socket path for LMTP as well as TCP; empty: none")


class Pop3Config(_Section):
    """The POP3 listeners (protocols/pop3)."""

    allow_insecure_auth: bool = Field(
        False, description="Accept USER/PASS and AUTH before TLS (never do this outside tests on loopback)")
    idle_timeout: int = Field(600, ge=1, le=86400, description="Seconds a session may stay silent (RFC 1939: 600)")
    max_bad_commands: int = Field(10, ge=1, le=1000, description="Bad commands before the session is closed")
    max_auth_failures: int = Field(3, ge=1, le=100, description="Failed logins in one session before it is closed")
    max_connections_per_ip: int = Field(50, ge=1, le=100000, description="Open POP3 connections from one address")


class ImapConfig(_Section):
    """The IMAP listeners (protocols/imap)."""

    loopback_insecure_auth: bool = Field(
        True, description="Accept LOGIN and AUTHENTICATE before TLS from loopback addresses (127.0.0.0/8, ::1)")
    idle_timeout: int = Field(1800, ge=60, le=86400,
                              description="Seconds an authenticated session may stay silent (RFC 9051 §5.4: 30 min)")
    login_timeout: int = Field(60, ge=1, le=3600, description="Seconds a session may stay silent before login")
    max_bad_commands: int = Field(20, ge=1, le=1000, description="Bad commands before the session is closed")
    max_unauthenticated_commands: int = Field(
        50, ge=1, le=10000, description="Commands before login; the session is closed after that many")
    max_auth_failures: int = Field(3, ge=1, le=100, description="Failed logins in one session before it is closed")
    max_connections_per_ip: int = Field(50, ge=1, le=100000, description="Open IMAP connections from one address")
    max_connections_per_account: int = Field(
        50, ge=1, le=100000, description="Logged-in IMAP sessions of one account at once (all its devices)")


class AuthConfig(_Section):
    """Logins on every protocol (submission, IMAP, POP3, web): lockout after repeated failures, and the cache of
    verified credentials that keeps Argon2 from capping the login rate."""

    max_failures_per_account: int = Field(
        10, ge=1, le=10000, description="Failed logins for one account (from one address) before it is locked")
    max_failures_per_ip: int = Field(
        30, ge=1, le=100000, description="Failed logins from one IP address (any account) before it is locked")
    failure_window: int = Field(900, ge=1, description="Seconds over which failures are counted")
    lockout: int = Field(300, ge=1, description="Seconds a locked account or address waits")
    failure_delay: float = Field(1.0, ge=0, le=30, description="Seconds before answering a failed login")
    cache_ttl: int = Field(300, ge=0, description="Seconds a verified password is remembered; 0: never")


def parse_nameserver(text: str) -> tuple[str, int]:
    """'127.0.0.1', '127.0.0.1:5353', '::1', '[::1]:5353' → (address, port); ValueError for anything else."""
    value = text.strip()
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"not a name server address: {text!r}")
        port = int(rest[1:]) if rest else 53
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
        port = int(port_text)
    else:
        host, port = value, 53
    ipaddress.ip_address(host)  # a name server is given by its address, never by a name
    if not 0 < port < 65536:
        raise ValueError(f"not a port: {port}")
    return host, port


class DnsConfig(_Section):
    """How the server resolves names (MX, SPF, DKIM, DMARC). Empty `nameservers` means the system's resolver."""

    nameservers: list[str] = Field(default_factory=list, description="e.g. [\"127.0.0.1:5353\"]")
    timeout: float = Field(5.0, gt=0, le=60, description="Seconds one lookup may take in all")

    @field_validator("nameservers", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        """A comma-separated string (from the environment) is a list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("nameservers")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                parse_nameserver(item)
            except ValueError as exc:
                raise ValueError(f"{item!r} is not an IP address with an optional :port") from exc
        return value


class QueueConfig(_Section):
    """The outbound delivery queue."""

    remote_port: int = Field(25, ge=1, le=65535, description="Port of remote MX hosts (changed only by tests)")
    retry_schedule: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: [300, 900, 3600, 10800, 21600], min_length=1, max_length=100,
        description="Seconds to wait after each failed attempt; the last value repeats until expiry")
    expire_after: int = Field(5 * 86400, ge=1, description="Seconds after which an undelivered message bounces")
    delay_notice_after: int = Field(4 * 3600, ge=0, description="Seconds before the delay notice; 0: never")
    concurrency: int = Field(10, ge=1, le=200, description="Destinations delivered to at once")
    connect_timeout: float = Field(30.0, gt=0, le=600, description="Seconds to connect and read the greeting")
    command_timeout: float = Field(300.0, gt=0, le=3600, description="Seconds to wait for any SMTP reply")
    max_per_connection: int = Field(50, ge=1, le=10000, description="Messages sent over one connection")
    smarthost: str = Field("", description="Relay every outbound message through this host (empty: direct MX)")
    smarthost_port: int = Field(587, ge=1, le=65535)
    smarthost_username: str = ""
    smarthost_password: SecretStr = SecretStr("")
    smarthost_tls: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls (required), tls (implicit, port 465) or none (loopback only)")
    smarthost_verify: bool = Field(True, description="Verify the smarthost's certificate")
    source_address: str = Field("", description="Local address outgoing connections come from; empty: the "
                                "system chooses (set it on a host with several addresses, so SPF matches)")


class WebConfig(_Section):
    """The web listener: webmail, admin console and API (web/)."""

    secret_file: str = Field("", description="Key that signs session cookies; empty: DATA/web-secret.key, made at "
                             "the first start with mode 0600")
    session_lifetime: int = Field(7 * 86400, ge=300, le=90 * 86400, description="Seconds a sign-in lasts")
    cookie_secure: Literal["auto", "always"] = Field(
        "auto", description="auto: cookies are Secure except over plain http between loopback addresses; always")
    max_upload_size: int = Field(64 * 1024 * 1024, ge=1024, description="Bytes of one request body")
    time_zone: str = Field("UTC", description="Time zone of dates until the browser tells its own (IANA name)")
    image_proxy_allow_private: bool = Field(
        False, description="Let the remote-image proxy fetch from loopback, private, link-local and other "
        "non-public addresses (off: refused, so mail cannot make the server probe its own network; for tests)")
    image_proxy_max_bytes: int = Field(5 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024,
                                       description="Largest remote image the proxy passes on")
    image_proxy_timeout: float = Field(10.0, gt=0, le=120, description="Seconds a remote image fetch may take")

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone name such as Asia/Shanghai") from exc
        return value


class LogConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(_Section):
    """The whole effective configuration."""

    server: ServerConfig = ServerConfig()
    listen: ListenConfig = ListenConfig()
    store: StoreConfig = StoreConfig()
    limits: LimitsConfig = LimitsConfig()
    tls: TlsConfig = TlsConfig()
    smtp: SmtpConfig = SmtpConfig()
    auth: AuthConfig = AuthConfig()
    pop3: Pop3Config = Pop3Config()
    imap: ImapConfig = ImapConfig()
    dns: DnsConfig = DnsConfig()
    queue: QueueConfig = QueueConfig()
    web: WebConfig = WebConfig()
    log: LogConfig = LogConfig()


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = dict(value) if isinstance(value, Mapping) else value


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in _LOCATION_VARIABLES:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__") if part]
        if len(path) < 2:
            raise ConfigError(f"environment variable {name}: use YIZHAN_SECTION__KEY, e.g. YIZHAN_LISTEN__SMTP")
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return tree


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc


def _describe(error: ValidationError, sources: str) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        if item["type"] == "extra_forbidden":
            lines.append(f"unknown key '{key}'")
        else:
            lines.append(f"bad value for '{key}': {item['msg']} (got {item.get('input')!r})")
    return "invalid configuration (" + sources + "): " + "; ".join(lines)


def load_settings(
    config_file: Path | None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the file (if any), apply the environment and then `overrides` (from flags), and validate."""
    merged: dict[str, Any] = {}
    sources = []
    if config_file is not None:
        from_file = _read_file(config_file)
        if from_file:
            sources.append(str(config_file))
        _merge(merged, from_file)
    from_env = _from_environment(os.environ if environ is None else environ)
    if from_env:
        sources.append("environment")
    _merge(merged, from_env)
    if overrides:
        sources.append("flags")
        _merge(merged, overrides)
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, ", ".join(sources) or "defaults")) from exc


def masked(settings: Settings) -> dict[str, Any]:
    """The settings as plain data with every secret replaced by asterisks (for `yizhan config show`)."""

    def walk(model: BaseModel) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, BaseModel):
                out[name] = walk(value)
            elif isinstance(value, SecretStr):
                out[name] = "********" if value.get_secret_value() else ""
            else:
                out[name] = value
        return out

    return walk(settings)
