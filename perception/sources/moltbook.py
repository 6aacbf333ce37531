"""moltbook: the agent's karma, followers and unread notifications on Moltbook."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from reverie.perception import http
from reverie.perception.http import HttpOptions
from reverie.perception.sources import BaseSource, Context, Result
from reverie.perception.sources.http_json import FieldSpec, extract, result_of

DEFAULT_URL = "https://www.moltbook.com/api/v1/agents/me"

# The API has answered in more than one shape (agents/me wraps the profile in `agent`, the
# home endpoint in `your_account`), so each signal tries the known places in turn.
FIELDS = {
    "karma": FieldSpec(path="agent.karma || your_account.karma || data.agent.karma || data.karma || karma"),
    "followers": FieldSpec(path=(
        "agent.follower_count || agent.followers_count || agent.stats.followers"
        " || your_account.follower_count || data.agent.follower_count || follower_count"
        " || followers_count")),
    "unread": FieldSpec(path=(
        "unread_notifications || agent.unread_notifications || your_account.unread_notification_count"
        " || your_account.unread_notifications || notifications.unread || notifications.unread_count"
        " || unread_notification_count || unread_count")),
}


class Moltbook(BaseSource):
    """Moltbook: the agent's karma, followers and unread notifications (a preset of http_json).

    `api_key` is sent as a Bearer token; write it as "${MOLTBOOK_API_KEY}" so it stays out of
    the config file. Keep the `www.` in the url: the bare domain redirects and the
    Authorization header is dropped on the way. A signal the endpoint does not report
    (unread notifications are not in every response) fails alone; the others still count.

    ```yaml
    - name: moltbook
      type: moltbook
      api_key: ${MOLTBOOK_API_KEY}
      every: 15m
      # url: https://www.moltbook.com/api/v1/agents/me   (the default)
    ```
    """

    type_name: ClassVar[str] = "moltbook"

    class Options(HttpOptions):
        url: str = Field(default=DEFAULT_URL, description="the Moltbook API endpoint")
        api_key: str | None = Field(default=None,
                                    description="your Moltbook API key; use ${VAR}")

    options: Options  # validated by the loader (the base class keeps it as a BaseModel)

    def fetch(self, ctx: Context) -> Result:
        o = self.options
        headers = dict(o.headers)
        secrets = tuple(ctx.secrets)
        if o.api_key:
            headers.setdefault("Authorization", f"Bearer {o.api_key}")
            secrets += (o.api_key,)
        resp = http.fetch(o.url, timeout=ctx.timeout, headers=headers, max_bytes=o.max_bytes,
                          secrets=secrets)
        readings, errors = extract(resp.json(), FIELDS)
        return result_of(readings, errors, resp.host)
