"""The ``sessions:`` section of reverie.yaml: how the agent is started and when it wakes."""

from __future__ import annotations

import grp
import pwd
import re
from typing import TYPE_CHECKING, Annotated

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, field_validator,
                      model_validator)

from reverie.daemon.conditions import Condition, parse_condition
from reverie.perception.types import Cron, Duration, PositiveDuration

if TYPE_CHECKING:
    from reverie.daemon.agent import Account


def _check_condition(text: str) -> str:
    parse_condition(text)
    return text


# Checked item by item, so a bad one is reported at its own line of reverie.yaml.
ConditionText = Annotated[str, AfterValidator(_check_condition)]


_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_hours(spec: str) -> tuple[int, int]:
    """'HH:MM-HH:MM' as (start, end) minutes after local midnight; may wrap midnight."""
    m = _HOURS.match(spec)
    if not m:
        raise ValueError(f"invalid active_hours {spec!r} (use HH:MM-HH:MM, e.g. 07:00-23:00)")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"invalid active_hours {spec!r}: not a time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end % 1440:
        raise ValueError(f"invalid active_hours {spec!r}: the window is empty")
    return start, end


def _user_entry(name: str) -> pwd.struct_passwd:
    if name in ("root", "0"):
        raise ValueError("the agent never runs as root")
    try:
        entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except (KeyError, OverflowError):
        raise ValueError(f"no such user {name!r} on this machine (create it first: "
                         f"`reverie systemd install --agent-user {name}` prints how)") from None
    if entry.pw_uid == 0:
        raise ValueError("the agent never runs as root")
    return entry


def _group_id(name: str) -> int:
    if name in ("root", "0"):
        raise ValueError("the agent's group is never root's")
    try:
        gid = grp.getgrgid(int(name)).gr_gid if name.isdigit() else grp.getgrnam(name).gr_gid
    except (KeyError, OverflowError):
        raise ValueError(f"no such group {name!r} on this machine") from None
    if gid == 0:
        raise ValueError("the agent's group is never root's")
    return gid


class WebhookOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="the http(s) URL a wake POSTs to")
    headers: dict[str, str] = Field(default={},
                                    description="request headers (use ${VAR} for tokens)")
    timeout: PositiveDuration = Field(default="10s", validate_default=True,
                                      description="how long the POST may take")
    retries: int = Field(default=2, ge=0, le=10,
                         description="how often a failed POST is retried")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("webhook url must start with http:// or https://")
        return v


class SessionsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: list[str] | None = Field(default=None,
                                      description="the agent's command line: an argv list, "
                                                  "never a shell string")
    cwd: str | None = Field(default=None,
                            description="the agent's working folder (default: the home)")
    env: dict[str, str] = Field(default={},
                                description="the agent's environment beyond PATH, HOME, LANG, "
                                            "TZ (a ${VAR} another part of the config uses is "
                                            "refused)")
    wake: list[Cron] = Field(default=[],
                             description="when the agent is woken (crons, in `timezone`)")
    sleep: list[Cron] = Field(default=[],
                              description="when the agent is put to sleep (crons, in "
                                          "`timezone`)")
    max_duration: PositiveDuration | None = Field(default="2h", validate_default=True,
                                                  description="a session is ended after this "
                                                              "long")
    stop_timeout: PositiveDuration = Field(default="60s", validate_default=True,
                                           description="grace between SIGTERM and SIGKILL when "
                                                       "a session ends")
    active_hours: str | None = Field(default=None,
                                     description="e.g. '07:00-23:00': scheduled wakes outside "
                                                 "it are skipped")
    webhook: WebhookOptions | None = Field(default=None,
                                           description="POST to a URL instead of running "
                                                       "`command`")
    skip_if_quiet: bool = Field(default=False,
                                description="skip a scheduled wake when nothing notable "
                                            "changed since the last one")
    wake_on: list[ConditionText] = Field(default=[],
                                         description="conditions that wake the agent between "
                                                     "scheduled times, e.g. 'moltbook.unread > "
                                                     "0'")
    wake_on_min_interval: PositiveDuration = Field(default="1h", validate_default=True,
                                                   description="at most one `wake_on` wake per "
                                                               "this interval")
    missed_grace: Duration = Field(default="15m", validate_default=True,
                                   description="how late a missed wake still runs at start")
    log_max_bytes: int = Field(default=1024 * 1024, ge=1024,
                               description="the session log keeps at most this many bytes of "
                                           "the agent's output")
    log_keep: int = Field(default=100, ge=1, description="session logs kept, newest first")
    user: str | None = Field(default=None, description="run the agent as this account "
                             "(the daemon needs CAP_SETUID/CAP_SETGID: docs/service.md)")
    group: str | None = Field(default=None, description="the agent's group (default: the "
                              "user's own); share the home through it")

    # Whether the account exists is checked where the agent starts (the daemon refuses to
    # start without it): `systemd install --agent-user` reads this config before the
    # account is made. Root is refused here, always.
    @field_validator("user")
    @classmethod
    def _user(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                _user_entry(v)
            except ValueError as e:
                if "root" in str(e):
                    raise
        return v

    @field_validator("group")
    @classmethod
    def _group(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                _group_id(v)
            except ValueError as e:
                if "root" in str(e):
                    raise
        return v

    @field_validator("command")
    @classmethod
    def _command(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and (not v or not v[0].strip()):
            raise ValueError("command must be a non-empty argv list, e.g. [my-agent, --flag]")
        return v

    @field_validator("active_hours")
    @classmethod
    def _hours(cls, v: str | None) -> str | None:
        if v is not None:
            parse_hours(v)
        return v

    @model_validator(mode="after")
    def _one_way(self) -> "SessionsOptions":
        if self.command is not None and self.webhook is not None:
            raise ValueError("set either command or webhook, not both")
        if (self.wake or self.wake_on) and self.command is None and self.webhook is None:
            raise ValueError("wake and wake_on need a command (or a webhook) to start")
        if self.group is not None and self.user is None:
            raise ValueError("group needs user: the agent runs as a user of that group")
        return self

    def account(self) -> "Account | None":
        """The agent's account (sessions.user, sessions.group) as numbers, or None when
        the agent runs as the daemon's own user. ValueError when it no longer exists."""
        from reverie.daemon.agent import Account

        if self.user is None:
            return None
        entry = _user_entry(self.user)
        gid = _group_id(self.group) if self.group is not None else entry.pw_gid
        return Account(entry.pw_name, entry.pw_uid, gid, entry.pw_dir)

    @property
    def enabled(self) -> bool:
        return self.command is not None or self.webhook is not None

    def conditions(self) -> list[Condition]:
        return [parse_condition(t) for t in self.wake_on]
