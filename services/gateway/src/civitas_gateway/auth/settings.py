"""The gateway's sign-in settings (CIVITAS_*), refusing placeholder secrets outside local runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from civitas_kernel.settings import SiteSettings

from civitas_gateway.ratelimit import Rate

# NoDecode: a rate comes from the environment as text like 5/10min, not as JSON.
RateSetting = Annotated[Rate, NoDecode, BeforeValidator(Rate.parse)]

# Values people paste from examples; a real site must not run on them.
PLACEHOLDERS = frozenset(
    {"changeme", "change-me", "change_me", "secret", "password", "passwd", "admin", "operator", "token",
     "test", "example", "default", "xxx", "todo", "replaceme", "replace-me", "12345678", "123456"}
)
MIN_OPERATOR_TOKEN = 24  # characters; a shorter token can be guessed online
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
STORE_SCHEMES = ("sqlite:///", "postgresql://", "postgresql+psycopg://")  # what civitas_kernel.sql.create_engine opens


class AuthSettings(SiteSettings):
    """CIVITAS_SMTP_*, CIVITAS_MAIL_FROM, CIVITAS_SESSION_HOURS, CIVITAS_OPERATOR_TOKEN, CIVITAS_AUTH_STORE_URL,
    CIVITAS_RATE_*."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_", hide_input_in_errors=True)  # errors must not print secrets

    SMTP_HOST: str = "localhost"
    SMTP_PORT: int = Field(25, ge=1, le=65535)
    SMTP_STARTTLS: bool = False
    SMTP_USER: str | None = None
    SMTP_PASSWORD: SecretStr | None = None
    SMTP_TIMEOUT: float = Field(10.0, gt=0)  # seconds before a mail attempt counts as failed
    MAIL_FROM: str | None = None  # default: civitas@SITE
    SIGN_IN_PAGE: str | None = None  # web page that completes sign-in; the mail then carries a link to it

    SESSION_HOURS: float = Field(12.0, gt=0)
    TOTP_RESET_HOURS: float = Field(72.0, gt=0)  # from a reset asked by email proof to two-step sign-in going off
    CODE_MINUTES: float = Field(10.0, gt=0)
    CODE_TRIES: int = Field(5, ge=1)

    OPERATOR_TOKEN: SecretStr | None = None  # default: generated once into HOME/operator-token

    # Where sign-in challenges and sessions live; gateways side by side must share one (postgresql://...).
    AUTH_STORE_URL: str | None = None  # default: the SQLite file gateway.sqlite in HOME

    # Proxies trusted to say who the client is (X-Forwarded-For): addresses or networks, comma-separated, or "*".
    # Empty (the default): none, so every limit counts the peer's own address whatever headers it sends.
    FORWARDED_ALLOW_IPS: str = ""
    # Host mode: the file holding the pass of the supervisor's proxy and health checks (supervised.py); unset: none.
    SUPERVISOR_PASS_FILE: Path | None = None

    RATE_ADDRESS: RateSetting = Field("600/1min", validate_default=True)  # every request, per client address
    RATE_VOTER: RateSetting = Field("120/1min", validate_default=True)  # signed-in requests, per voter
    # Sign-in codes: per client address, and per email address *from one client*, so that nobody's requests
    # for someone else's address can spend that person's share (see ARCHITECTURE: sign-in limits).
    RATE_CODE_ADDRESS: RateSetting = Field("10/10min", validate_default=True)  # code requests, per client address
    RATE_CODE_EMAIL: RateSetting = Field("3/10min", validate_default=True)  # per email address from one client
    RATE_SESSION_ADDRESS: RateSetting = Field("30/10min", validate_default=True)  # sign-in attempts, per client
    MAIL_PER_HOUR: int = Field(1000, ge=1)  # every mail the site sends (codes, notices), per gateway process

    @property
    def is_local(self) -> bool:
        """A run on one's own machine (CIVITAS_SITE=localhost), where test secrets are fine."""
        return self.SITE == "localhost"

    @property
    def store_url(self) -> str:
        """The sign-in store's database: CIVITAS_AUTH_STORE_URL, else CIVITAS_HOME/gateway.sqlite."""
        return self.AUTH_STORE_URL or f"sqlite:///{self.HOME / 'gateway.sqlite'}"

    @property
    def mail_from(self) -> str:
        return self.MAIL_FROM or f"civitas@{self.SITE}"

    @field_validator("AUTH_STORE_URL")
    @classmethod
    def _store_opens(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(STORE_SCHEMES):
            # Name the scheme only, never the URL: it may carry a password.
            scheme = value.partition("://")[0] if "://" in value else None
            what = f"names a {scheme!r} database" if scheme else "is not a database URL"
            raise ValueError(f"CIVITAS_AUTH_STORE_URL {what}; set it to postgresql://USER:PASSWORD@HOST/DB (one store "
                             "every gateway shares) or sqlite:///PATH, or unset it for CIVITAS_HOME/gateway.sqlite")
        return value

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> AuthSettings:
        if self.is_local:
            return self
        for name in ("OPERATOR_TOKEN", "SMTP_PASSWORD"):
            value = getattr(self, name)
            if value is not None and is_placeholder(value.get_secret_value()):
                raise ValueError(f"CIVITAS_{name} is a placeholder; set a real secret (or leave the operator token unset)")
        token = self.OPERATOR_TOKEN
        if token is not None and len(token.get_secret_value()) < MIN_OPERATOR_TOKEN:
            raise ValueError(f"CIVITAS_OPERATOR_TOKEN is shorter than {MIN_OPERATOR_TOKEN} characters")
        if self.SMTP_USER and not self.SMTP_STARTTLS and self.SMTP_HOST not in LOOPBACK_HOSTS:
            # smtplib would send the password in clear over the network.
            raise ValueError("CIVITAS_SMTP_USER needs CIVITAS_SMTP_STARTTLS=true for a relay on another host")
        return self


def is_placeholder(secret: str) -> bool:
    return secret.strip().lower() in PLACEHOLDERS or len(set(secret)) <= 1
