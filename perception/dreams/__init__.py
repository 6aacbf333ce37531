"""Dreams: the nightly prose piece made from the last cycle's digest.

``offline`` composes one with no network (the default and the fallback); ``llm`` asks an
OpenAI-compatible server; ``write`` decides the cycle, writes the file with its receipt
and records it, exactly once per local date.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reverie.perception.digest import NotableRules
from reverie.perception.types import Cron, Duration, PositiveDuration


class DreamOptions(BaseModel):
    """The `dream:` key of the config."""

    model_config = ConfigDict(extra="forbid")

    at: Cron = "0 5 * * *"
    backend: Literal["offline", "openai"] = "offline"
    model: str = "gpt-4.1-mini"
    base_url: str | None = None
    api_key: str | None = None
    temperature: float = Field(default=0.9, ge=0, le=2)
    max_tokens: int = Field(default=600, ge=16)
    timeout: PositiveDuration = timedelta(seconds=60)
    max_tokens_per_day: int = Field(default=20000, ge=0)
    catch_up: Duration = timedelta(hours=12)
    persona: str = "memory/identity.md"  # relative to the home
    prompt_template: str | None = None  # a Jinja2 file replacing templates/dream_prompt.j2
    notable: NotableRules = Field(default_factory=NotableRules)
    # how many past nights' phrases the offline dream avoids: a month, as an owner reads them
    dryness_nights: int = Field(default=30, ge=0)


__all__ = ["DreamOptions", "NotableRules"]
