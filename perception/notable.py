"""What makes a night's event notable, as the config sets it (``dream.notable``).

Its own module so that checking a config does not import the digest that applies it
(perception/digest.py), with hashlib, the digest's records and its patterns."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class NotableRules(BaseModel):
    """What makes a night's event worth a dream (and a wake: skip_if_quiet).

    A change is notable when it is ``score`` times the signal's usual daily movement
    (the median absolute day-to-day change over ``usual_days``); a signal with too
    little history for that falls back to ``change_pct`` percent (or its own entry in
    ``signals``)."""

    model_config = ConfigDict(extra="forbid")

    change_pct: float = Field(default=10.0, ge=0,
                              description="a change of at least this percent is notable")
    # per-signal thresholds ('<source>.<field>': percent); 0 means any change
    signals: dict[str, float] = Field(default_factory=dict,
                                      description="per-signal thresholds ('<source>.<field>': "
                                                  "percent; 0: any change)")
    high_low_days: int = Field(default=30, ge=1,
                               description="a new high or low over this many days is notable")
    items_cap: int = Field(default=10, ge=0,
                           description="at most this many new items per night in the digest")
    usual_days: int = Field(default=14, ge=3,
                            description="days of history that set a signal's usual daily "
                                        "movement")
    score: float = Field(default=2.5, gt=0,
                         description="a change this many times the usual daily movement is "
                                     "notable")

    def threshold(self, signal: str) -> float:
        return self.signals.get(signal, self.change_pct)
