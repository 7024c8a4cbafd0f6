"""Settings, read once from the environment into one object that is passed in.

Nothing here runs at import time: ``Settings()`` is built by the entry point (the
``nser`` command, the ASGI factory or a test) and handed to ``create_app``, the
worker and the services. Every variable is listed in the README's configuration
table.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigurationError, InvalidMsisdn
from core.identity import normalise_msisdn

#: Marker carried by every development placeholder; production refuses any value containing it.
PLACEHOLDER = "TEST"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _networks(text: str) -> tuple[Network, ...]:
    """Parse comma-separated CIDRs (``196.201.214.0/24, 2001:db8::/32``).

    Raises:
        ValueError: an entry is not an IP network.
    """
    return tuple(ipaddress.ip_network(part, strict=False) for part in _split(text))


class Settings(BaseSettings):
    """All configuration of NSER.

    Environment variables are named in each field's ``validation_alias``. URLs
    left unset mean "start the embedded server" (see :mod:`core.embedded`); keys
    left unset mean "use or create the development key file" (see :mod:`core.keys`),
    which is refused when ``NSER_ENV=production``.
    """

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        default="development", validation_alias="NSER_ENV"
    )
    data_dir: Path = Field(default=Path("var"), validation_alias="NSER_DATA_DIR")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    database_owner_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_OWNER_URL",
        description="PostgreSQL URL of the schema's owner, for nser migrate; unset = DATABASE_URL.",
    )
    encryption_keys: SecretStr | None = Field(
        default=None,
        validation_alias="NSER_ENCRYPTION_KEYS",
        description="Comma-separated 'key_id:base64(32 bytes)'; the first encrypts, all decrypt.",
    )
    index_key: SecretStr | None = Field(
        default=None,
        validation_alias="NSER_INDEX_KEY",
        description="base64(32 bytes) HMAC-SHA256 key for blind indexes; never rotated in place.",
    )
    audit_signing_key: SecretStr | None = Field(
        default=None,
        validation_alias="NSER_AUDIT_SIGNING_KEY",
        description="Signer key of the audit checkpoints: PRIVATE+KEY+<origin>+<hash>+<key>.",
    )
    audit_checkpoint_seconds: float = Field(
        default=5.0,
        ge=1,
        le=10,
        validation_alias="NSER_AUDIT_CHECKPOINT_SECONDS",
        description="Seconds: shortest time between two audit checkpoints while the log grows.",
    )
    helpline_name: str = Field(
        default=f"{PLACEHOLDER} Helpline", max_length=24, validation_alias="NSER_HELPLINE_NAME"
    )
    helpline_number: str = Field(
        default="0800000000", max_length=14, validation_alias="NSER_HELPLINE_NUMBER"
    )
    regulator_contact: str = Field(
        default=f"GRAK {PLACEHOLDER} 0700000000",
        max_length=28,
        validation_alias="NSER_REGULATOR_CONTACT",
    )
    ussd_resume_seconds: int = Field(
        default=300, ge=0, le=3600, validation_alias="NSER_USSD_RESUME_SECONDS"
    )
    expiry_interval_minutes: int = Field(
        default=1, ge=1, le=60, validation_alias="NSER_EXPIRY_INTERVAL_MINUTES"
    )
    lift_cooling_off_days: int = Field(
        default=7,
        ge=1,
        le=90,
        validation_alias="NSER_LIFT_COOLING_OFF_DAYS",
        description="Days between a supervisor approving a lift and the exclusion being lifted.",
    )
    report_dir: Path | None = Field(
        default=None,
        validation_alias="NSER_REPORT_DIR",
        description="Where the back-office writes CSV reports (default: NSER_DATA_DIR/reports).",
    )
    log_level: str = Field(default="INFO", validation_alias="NSER_LOG_LEVEL")
    database_timeout: float = Field(
        default=2.0,
        gt=0,
        le=30,
        validation_alias="NSER_DATABASE_TIMEOUT",
        description="Seconds: connect, pool checkout and statement timeout of every query.",
    )
    redis_timeout: float = Field(
        default=0.5,
        gt=0,
        le=10,
        validation_alias="NSER_REDIS_TIMEOUT",
        description="Seconds: connect and command timeout of every Redis call.",
    )
    worker_jobs: int = Field(
        default=200,
        ge=1,
        le=2000,
        validation_alias="NSER_WORKER_JOBS",
        description="Jobs one worker runs at once (mostly webhook attempts waiting on HTTP).",
    )
    webhook_concurrency: int = Field(
        default=4,
        ge=1,
        le=100,
        validation_alias="NSER_WEBHOOK_CONCURRENCY",
        description="Webhook attempts to one operator at once, per worker.",
    )
    callback_token: SecretStr | None = Field(
        default=None,
        validation_alias="NSER_CALLBACK_TOKEN",
        description="Secret path segment of the gateway callbacks: POST /ussd/<token>.",
    )
    callback_allow: str = Field(
        default="",
        validation_alias="NSER_CALLBACK_ALLOW",
        description="Comma-separated CIDRs the gateway calls from; empty = any source.",
    )
    trusted_proxies: str = Field(
        default="",
        validation_alias="NSER_TRUSTED_PROXIES",
        description="Comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed.",
    )
    ussd_service_codes: str = Field(
        default="",
        validation_alias="NSER_USSD_SERVICE_CODES",
        description="Comma-separated USSD service codes that are ours ('*384*7#'); empty = any.",
    )
    api_rate: float = Field(
        default=500.0,
        gt=0,
        validation_alias="NSER_API_RATE",
        description="Operator API requests per second per key and per web process (bursts 2x).",
    )
    api_daily_distinct: int = Field(
        default=1_000_000,
        ge=1,
        validation_alias="NSER_API_DAILY_DISTINCT",
        description="Distinct identifiers an operator may look up per Nairobi day (sweep stop).",
    )
    register_refresh: float = Field(
        default=0.25,
        gt=0,
        le=5,
        validation_alias="NSER_REGISTER_REFRESH",
        description="Seconds between refreshes of each web process's in-memory register.",
    )
    sms_gateway: Literal["console", "africastalking"] = Field(
        default="console",
        validation_alias="NSER_SMS_GATEWAY",
        description="Where MT SMS go: the log (development) or Africa's Talking.",
    )
    africastalking_username: str | None = Field(
        default=None, max_length=64, validation_alias="AFRICASTALKING_USERNAME"
    )
    africastalking_api_key: SecretStr | None = Field(
        default=None, validation_alias="AFRICASTALKING_API_KEY"
    )
    africastalking_api_url: str | None = Field(
        default=None,
        validation_alias="NSER_AFRICASTALKING_API_URL",
        description="Base URL replacing https://api.africastalking.com (staging, tests).",
    )
    sms_sender: str | None = Field(
        default=None,
        validation_alias="NSER_SMS_SENDER",
        description="Shortcode or alphanumeric sender id of MT SMS (unset: the account default).",
    )
    sms_rate: float = Field(
        default=10.0,
        gt=0,
        le=1000,
        validation_alias="NSER_SMS_RATE",
        description="MT SMS handed to the gateway per second, across all workers.",
    )
    sms_timeout: float = Field(
        default=10.0,
        gt=0,
        le=60,
        validation_alias="NSER_SMS_TIMEOUT",
        description="Seconds one call to the SMS gateway may take.",
    )
    sms_confirm_minutes: int = Field(
        default=10, ge=1, le=1440, validation_alias="NSER_SMS_CONFIRM_MINUTES"
    )
    sms_reminder_days: int = Field(
        default=7, ge=1, le=60, validation_alias="NSER_SMS_REMINDER_DAYS"
    )
    ops_alert_number: str | None = Field(
        default=None,
        validation_alias="NSER_OPS_ALERT_NUMBER",
        description="The regulator's operations mobile number, for alerts about SMS sending.",
    )
    sms_alert_minutes: int = Field(
        default=10, ge=1, le=1440, validation_alias="NSER_SMS_ALERT_MINUTES"
    )

    @model_validator(mode="after")
    def _guard_settings_parse(self) -> Settings:
        token = self.path_token
        if token is not None and not re.fullmatch(r"[A-Za-z0-9._~-]{16,128}", token):
            raise ConfigurationError(
                "NSER_CALLBACK_TOKEN must be 16 to 128 URL-safe characters (A-Z a-z 0-9 . _ ~ -)"
            )
        for name, text in (
            ("NSER_CALLBACK_ALLOW", self.callback_allow),
            ("NSER_TRUSTED_PROXIES", self.trusted_proxies),
        ):
            try:
                _networks(text)
            except ValueError as exc:
                raise ConfigurationError(f"{name}: {exc}") from exc
        return self

    @model_validator(mode="after")
    def _sms_settings_parse(self) -> Settings:
        if self.sms_gateway == "africastalking" and (
            self.africastalking_username is None or self.africastalking_api_key is None
        ):
            raise ConfigurationError(
                "NSER_SMS_GATEWAY=africastalking needs AFRICASTALKING_USERNAME and "
                "AFRICASTALKING_API_KEY"
            )
        if self.sms_sender is not None and not re.fullmatch(r"[A-Za-z0-9 ]{1,11}", self.sms_sender):
            raise ConfigurationError("NSER_SMS_SENDER must be 1 to 11 letters, digits or spaces")
        if self.africastalking_api_url is not None and not re.fullmatch(
            r"https?://[^\s/]+(/\S*)?", self.africastalking_api_url
        ):
            raise ConfigurationError("NSER_AFRICASTALKING_API_URL must be an http(s) URL")
        if self.ops_alert_number is not None:
            try:
                normalise_msisdn(self.ops_alert_number)
            except InvalidMsisdn as exc:
                raise ConfigurationError("NSER_OPS_ALERT_NUMBER must be a mobile number") from exc
        return self

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.env != "production":
            return self
        missing = [
            name
            for name, value in (
                ("DATABASE_URL", self.database_url),
                ("REDIS_URL", self.redis_url),
                ("NSER_ENCRYPTION_KEYS", self.encryption_keys),
                ("NSER_INDEX_KEY", self.index_key),
                ("NSER_AUDIT_SIGNING_KEY", self.audit_signing_key),
                ("NSER_USSD_SERVICE_CODES", self.ussd_service_codes or None),
                ("NSER_SMS_SENDER", self.sms_sender),
                ("NSER_OPS_ALERT_NUMBER", self.ops_alert_number),
            )
            if value is None
        ]
        if self.sms_gateway != "africastalking":
            missing.append("NSER_SMS_GATEWAY=africastalking")
        if self.callback_token is None and not self.callback_allow:
            missing.append("NSER_CALLBACK_TOKEN or NSER_CALLBACK_ALLOW")
        placeholders = [
            name
            for name, value in (
                ("NSER_HELPLINE_NAME", self.helpline_name),
                ("NSER_HELPLINE_NUMBER", self.helpline_number),
                ("NSER_REGULATOR_CONTACT", self.regulator_contact),
            )
            if PLACEHOLDER in value or value == "0800000000"
        ]
        if missing or placeholders:
            raise ConfigurationError(
                "refusing to start in production: "
                + "; ".join(
                    part
                    for part in (
                        f"missing {', '.join(missing)}" if missing else "",
                        f"placeholder {', '.join(placeholders)}" if placeholders else "",
                    )
                    if part
                )
            )
        return self

    @property
    def path_token(self) -> str | None:
        """The callback path token in clear (``NSER_CALLBACK_TOKEN``), or ``None``."""
        return self.callback_token.get_secret_value() if self.callback_token else None

    @property
    def callback_networks(self) -> tuple[Network, ...]:
        """Where gateway callbacks may come from (empty = anywhere)."""
        return _networks(self.callback_allow)

    @property
    def proxy_networks(self) -> tuple[Network, ...]:
        """Reverse proxies whose ``X-Forwarded-For`` is believed (empty = none)."""
        return _networks(self.trusted_proxies)

    @property
    def service_codes(self) -> frozenset[str]:
        """Our USSD service codes (empty = accept any, development only)."""
        return frozenset(_split(self.ussd_service_codes))

    @property
    def owner_url(self) -> str | None:
        """The URL migrations run with: ``DATABASE_OWNER_URL``, else ``DATABASE_URL``."""
        return self.database_owner_url or self.database_url

    @property
    def reports_path(self) -> Path:
        """The one directory CSV reports are written to (``report_dir``, else under data_dir)."""
        return self.report_dir or self.data_dir / "reports"

    @property
    def key_file(self) -> Path:
        """Development key file (mode 0600) used when no keys are configured."""
        return self.data_dir / "keys.json"
