"""What a poll is made with and how it may change: one request shape for the gateway's API and the polls service."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from civitas_polls.domain.polls import MAX_MIN_TRUST, MAX_TIME_US


class NewPoll(BaseModel):
    name: str = Field(min_length=2, max_length=40)
    title: str | None = Field(None, max_length=200)
    kind: Literal["electoral", "normative"] = "electoral"
    district: str = Field("", max_length=20)
    min_trust: int = Field(0, ge=0, le=MAX_MIN_TRUST)
    opens_at_us: int = Field(0, ge=0, le=MAX_TIME_US)
    closes_at_us: int = Field(0, ge=0, le=MAX_TIME_US)


class PollChanges(BaseModel):
    """What may change in a poll after it is made; fields left out stay as they are."""

    title: str | None = Field(None, max_length=200)
    district: str | None = Field(None, max_length=20)
    min_trust: int | None = Field(None, ge=0, le=MAX_MIN_TRUST)
    opens_at_us: int | None = Field(None, ge=0, le=MAX_TIME_US)
    closes_at_us: int | None = Field(None, ge=0, le=MAX_TIME_US)

    def changes(self) -> dict:
        return self.model_dump(exclude_none=True)
