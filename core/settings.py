"""Settings, read once from the environment into one object that is passed in.

Nothing here runs at import time: ``Settings()`` is built by the entry point (the
``nser`` command, the ASGI factory or a test) and handed to ``create_app``, the
worker and the services. Every variable is listed in the README's configuration
table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigurationError

#: Marker carried by every development placeholder; production refuses any value containing it.
PLACEHOLDER = "TEST"


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
    helpline_name: str = Field(
        default=f"{PLACEHOLDER} Helpline", max_length=24, validation_alias="NSER_HELPLINE_NAME"
    )
    helpline_number: str = Field(
        default="0800000000", max_length=14, validation_alias="NSER_HELPLINE_NUMBER"
    )
    regulator_contact: str = Field(
        default=f"BCLB {PLACEHOLDER} 0700000000",
        max_length=28,
        validation_alias="NSER_REGULATOR_CONTACT",
    )
    ussd_resume_seconds: int = Field(
        default=300, ge=0, le=3600, validation_alias="NSER_USSD_RESUME_SECONDS"
    )
    expiry_interval_minutes: int = Field(
        default=1, ge=1, le=60, validation_alias="NSER_EXPIRY_INTERVAL_MINUTES"
    )
    log_level: str = Field(default="INFO", validation_alias="NSER_LOG_LEVEL")

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
            )
            if value is None
        ]
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
    def key_file(self) -> Path:
        """Development key file (mode 0600) used when no keys are configured."""
        return self.data_dir / "keys.json"
