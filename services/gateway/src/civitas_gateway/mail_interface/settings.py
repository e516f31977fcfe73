"""The mail interface's settings (CIVITAS_MAIL_*): where it listens, what it takes, how long a challenge lives."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field
from pydantic_settings import NoDecode, SettingsConfigDict

from civitas_kernel.settings import SiteSettings

from civitas_gateway.ratelimit import Rate

RateSetting = Annotated[Rate, NoDecode, BeforeValidator(Rate.parse)]
SERVE_PORT = 2525  # `civitas mail serve`'s port when CIVITAS_MAIL_PORT is unset


class MailInterfaceSettings(SiteSettings):
    """CIVITAS_MAIL_DOMAIN, CIVITAS_MAIL_HOST, CIVITAS_MAIL_PORT, CIVITAS_MAIL_MAX_BYTES, CIVITAS_MAIL_MAX_COMMANDS,
    CIVITAS_MAIL_CHALLENGE_MINUTES, CIVITAS_MAIL_AUTHSERV_ID, CIVITAS_MAIL_RATE_SENDER."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_")

    MAIL_DOMAIN: str | None = None  # the domain of register@, POLL@, change@ and the site's own address; default SITE
    MAIL_HOST: str = "127.0.0.1"  # where the inbound SMTP server listens
    MAIL_PORT: int | None = Field(None, ge=0, le=65535)  # unset: `civitas up` runs no inbound server
    MAIL_MAX_BYTES: int = Field(256 * 1024, ge=1024)  # a larger message runs nothing
    MAIL_MAX_COMMANDS: int = Field(100, ge=1)  # command lines in one message; more and none runs
    MAIL_CHALLENGE_MINUTES: float = Field(60.0, gt=0)  # how long held commands wait for their sender's answer
    # The relay whose Authentication-Results header (RFC 8601) is trusted, named by its authserv-id: with it set, a
    # message runs only if SPF or DKIM passed there for the sender's domain. Unset: no spam check.
    MAIL_AUTHSERV_ID: str | None = None
    MAIL_RATE_SENDER: RateSetting = Field("30/1h", validate_default=True)  # messages answered per sender address

    @property
    def mail_domain(self) -> str:
        return (self.MAIL_DOMAIN or self.SITE).lower()

    @property
    def inbox_path(self):
        return self.HOME / "inbox"
