"""Dreams: the nightly prose piece made from the last cycle's digest.

``offline`` composes one with no network (the default and the fallback); ``llm`` asks an
OpenAI-compatible server; ``write`` decides the cycle, writes the file with its receipt
and records it, exactly once per local date.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reverie.perception.notable import NotableRules
from reverie.perception.types import Cron, Duration, PositiveDuration


class DreamOptions(BaseModel):
    """The `dream:` key of the config."""

    model_config = ConfigDict(extra="forbid")

    at: Cron = Field(default="0 5 * * *",
                     description="when the night's dream is written (cron, in `timezone`)")
    backend: Literal["offline", "openai"] = Field(default="offline",
                                                  description="offline (embedded, no network) "
                                                              "or openai (any "
                                                              "OpenAI-compatible server)")
    model: str = Field(default="gpt-4.1-mini",
                       description="the model name for the openai backend")
    base_url: str | None = Field(default=None,
                                 description="the OpenAI-compatible endpoint (default: "
                                             "OpenAI's)")
    api_key: str | None = Field(default=None,
                                description="the endpoint's key; use ${VAR}, never the key "
                                            "itself")
    temperature: float = Field(default=0.9, ge=0, le=2,
                               description="sampling temperature for the model (0-2)")
    max_tokens: int = Field(default=600, ge=16,
                            description="the most tokens one dream may use")
    timeout: PositiveDuration = Field(default=timedelta(seconds=60),
                                      description="how long a model request may take before "
                                                  "the offline dream is written")
    max_tokens_per_day: int = Field(default=20000, ge=0,
                                    description="model budget per UTC day; past it the offline "
                                                "backend dreams")
    catch_up: Duration = Field(default=timedelta(hours=12),
                               description="how late a missed dream is still written at start")
    persona: str = Field(default="memory/identity.md",
                         description="the persona file the dream speaks from (relative to the "
                                     "home)")
    # replaces templates/dream_prompt.j2
    prompt_template: str | None = Field(default=None,
                                        description="a Jinja2 file replacing the model's "
                                                    "prompt (relative to the home)")
    notable: NotableRules = Field(default_factory=NotableRules,
                                  description="what makes a night's event worth a dream (and a "
                                              "wake)")
    # how many past nights' phrases the offline dream avoids: a month, as an owner reads them
    dryness_nights: int = Field(default=30, ge=0,
                                description="how many past nights' phrases the offline dream "
                                            "avoids")


__all__ = ["DreamOptions", "NotableRules"]
