"""The drafts service's settings: the query API's limits and a site's post size limit (CIVITAS_*)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from civitas_kernel.service.settings import OwnerSettings

from civitas_drafts.domain.posts import MAX_POST_BYTES
from civitas_drafts.query import QueryLimits


class DraftRules(BaseSettings):
    """What a site decides about drafts, in the drafts service and in the embedded site alike."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_")

    QUERY_DEADLINE_S: float = Field(1.0, gt=0, le=60)  # a query is stopped after this long
    QUERY_MAX_ROWS: int = Field(1_000, ge=1, le=100_000)  # rows of an answer; more: cut, with truncated
    QUERY_MAX_ANSWER_BYTES: int = Field(2_000_000, ge=1_000, le=100_000_000)  # an answer's values, at most
    # each ready connection holds a whole copy of the query database: memory, for a faster next query
    QUERY_READY_COPIES: int = Field(2, ge=0, le=16)
    QUERY_PRIVATE_COPIES: int = Field(4, ge=1, le=64)  # copies with some voter's private groups, kept for reuse
    # a site may allow smaller posts than every site accepts (the fold's own limit), never larger ones
    POST_MAX_BYTES: int = Field(MAX_POST_BYTES, ge=100, le=MAX_POST_BYTES)

    def query_limits(self) -> QueryLimits:
        return QueryLimits(deadline_s=self.QUERY_DEADLINE_S, max_rows=self.QUERY_MAX_ROWS,
                           max_answer_bytes=self.QUERY_MAX_ANSWER_BYTES)

    def drafts_options(self) -> dict:
        """DraftCommands' keyword arguments for these rules."""
        return {"limits": self.query_limits(), "max_post_bytes": self.POST_MAX_BYTES,
                "ready_copies": self.QUERY_READY_COPIES, "private_copies": self.QUERY_PRIVATE_COPIES}


class DraftsSettings(OwnerSettings, DraftRules):
    """`civitas serve drafts`: its log of record (CIVITAS_LOG_URL), the rules, and how many queries run at once."""

    QUERY_AT_ONCE: int = Field(2, ge=1, le=64)  # queries running side by side; each holds a copy while it runs
    QUERY_WAIT_S: float = Field(5.0, ge=0, le=60)  # how long a query waits for its turn before it is refused
