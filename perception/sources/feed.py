"""feed: new entries of an RSS or Atom feed, from a URL or a file in the home."""

from __future__ import annotations

import calendar
import functools
import hashlib
import re
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, model_validator

from reverie.memory import safe_read
from reverie.memory.clock import UTC
from reverie.perception import http
from reverie.perception.http import HttpOptions
from reverie.perception.sources import BaseSource, Context, Item, Reading, Result, SourceError

SEEN_MAX = 2000  # ids remembered across polls; also the most entries of one feed considered
SUMMARY_MAX = 500
TITLE_MAX = 300


class _TextHandlers:
    """Visible text of an HTML fragment (scripts and styles dropped, entities decoded)."""

    _SKIP = {"script", "style", "head", "title"}
    _BREAK = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}

    def __init__(self) -> None:
        # HTMLParser's: the class this is mixed into below, imported when first needed
        super().__init__(convert_charrefs=True)  # type: ignore[call-arg]
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BREAK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


@functools.cache
def _text_parser() -> type:
    # html.parser compiles a dozen patterns at import: paid when a feed is read, not when
    # a config naming a feed is checked
    from html.parser import HTMLParser

    return type("_Text", (_TextHandlers, HTMLParser), {})


def plain_text(html: str, limit: int) -> str:
    """HTML to one line of plain text, at most ``limit`` characters (cut at a word)."""
    parser = _text_parser()()
    try:
        parser.feed(html)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # a broken fragment: fall back to dropping anything tag-shaped
        text = re.sub(r"<[^>]*>", " ", html)
    text = " ".join(text.split())
    if len(text) > limit:
        cut = text[: limit - 1]
        if " " in cut[limit // 2:]:
            cut = cut[: cut.rfind(" ")]
        text = cut.rstrip(" ,;:.") + "…"
    return text


def _published(entry: Any) -> datetime | None:
    # feedparser normalises dates to UTC struct_time
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = entry.get(key)
        if t:
            try:
                return datetime.fromtimestamp(calendar.timegm(t), UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _content(entry: Any) -> str:
    if entry.get("summary"):
        return entry["summary"]
    for c in entry.get("content") or []:
        if c.get("value"):
            return c["value"]
    return ""


def entry_uid(entry: Any) -> str:
    """guid, else link, else a hash of title and content."""
    for key in ("id", "link"):
        val = entry.get(key)
        if isinstance(val, str) and val.strip():
            return val.strip()
    title = entry.get("title") or ""
    digest = hashlib.sha256(f"{title}\n{_content(entry)}".encode("utf-8", "replace")).hexdigest()
    return f"sha256:{digest}"


def _bozo_reason(parsed: Any) -> str:
    if not parsed.get("bozo"):
        return ""
    text = " ".join(str(parsed.get("bozo_exception", "")).split())
    return re.sub(r"^<unknown>:\d+:\d+:\s*", "", text)[:120]


def _kind(body: bytes, headers: dict[str, str]) -> str:
    """What came instead of a feed, in a word or two."""
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype:
        return ctype
    head = body[:2048].lstrip().lower()
    if b"<html" in head or head.startswith(b"<!doctype html"):
        return "HTML"
    if head[:1] in (b"{", b"["):
        return "JSON"
    if not head:
        return "an empty document"
    return "something else"


def _inside(home: Path, rel: str) -> Path:
    root = home.resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise SourceError(f"path {rel} is outside the home")
    return path


class Feed(BaseSource):
    """RSS or Atom feed: new entries become items; signals new_items and total_items.

    Fetched with a conditional GET (an unchanged feed costs one 304 and is not parsed).
    Entries are told apart by guid, else link, else a hash of title and content, and up to
    `max_items` new ones are kept per poll. `path` reads a feed file inside the home
    instead of a URL (for offline use).

    ```yaml
    - name: blog
      type: feed
      url: https://example.org/rss.xml
      max_items: 20
      every: 1h
    - {name: notes, type: feed, path: feeds/notes.xml, every: 10m}
    ```
    """

    type_name: ClassVar[str] = "feed"

    class Options(HttpOptions):
        url: str | None = Field(  # type: ignore[assignment]
            default=None, description="the feed's URL (or give `path`)")
        path: str | None = Field(default=None,
                                 description="a feed file inside the home (or give `url`)")
        max_items: int = Field(default=20, ge=1, le=SEEN_MAX,
                               description="at most this many entries are read per run")

        @model_validator(mode="after")
        def _one_place(self) -> "Feed.Options":
            if (self.url is None) == (self.path is None):
                raise ValueError("give `url` or `path` (a file in the home), one of them")
            if self.path is not None:
                p = Path(self.path)
                if p.is_absolute() or ".." in p.parts:
                    raise ValueError(f"path {self.path!r} must be relative and stay inside the home")
            return self

    options: Options  # validated by the loader (the base class keeps it as a BaseModel)

    def fetch(self, ctx: Context) -> Result:
        o = self.options
        if o.path is not None:
            got = self._read_file(ctx)
        else:
            got = self._download(ctx)
        body_sha256 = None
        if got is not None:
            # many servers ignore validators and resend the same bytes: parsing is nearly
            # all of a poll's CPU, and the same bytes cannot hold a new entry
            body_sha256 = hashlib.sha256(got[0]).hexdigest()
            if ctx.state.get("body_sha256") == body_sha256:
                ctx.state.update(got[3])
                got = None
        if got is None:  # unchanged since the last poll: nothing parsed
            total = ctx.state.get("total")
            readings = [Reading("new_items", value=0.0, unit="items")]
            if isinstance(total, (int, float)):
                readings.append(Reading("total_items", value=float(total), unit="items"))
            return Result(readings=readings, not_modified=True)
        body, headers, where, validators = got
        result = self._parse(ctx, body, headers, where)
        # validators are kept only once the body has parsed, so a broken response is
        # fetched again in full next time
        ctx.state.update(validators, body_sha256=body_sha256)
        return result

    # -- getting the bytes ---------------------------------------------------------

    def _download(self, ctx: Context) -> tuple[bytes, dict[str, str], str, dict] | None:
        o = self.options
        assert o.url is not None
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
                             "text/xml;q=0.9, */*;q=0.1"}
        headers.update(o.headers)
        resp = http.fetch(o.url, timeout=ctx.timeout, headers=headers, max_bytes=o.max_bytes,
                          etag=ctx.state.get("etag"), last_modified=ctx.state.get("last_modified"),
                          secrets=ctx.secrets)
        if resp.not_modified:
            return None
        ctype = resp.headers.get("Content-Type")
        return (resp.body, ({"content-type": ctype} if ctype else {}), resp.host,
                {"etag": resp.etag, "last_modified": resp.last_modified})

    def _read_file(self, ctx: Context) -> tuple[bytes, dict[str, str], str, dict] | None:
        o = self.options
        assert o.path is not None
        path = _inside(ctx.home, o.path)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise SourceError(f"no such file: {o.path}") from None
        except OSError as e:
            raise SourceError(f"cannot read {o.path}: {e.strerror}") from None
        if not path.is_file():
            raise SourceError(f"not a file: {o.path}")
        signature = [st.st_mtime_ns, st.st_size]
        if ctx.state.get("file") == signature:
            return None
        if st.st_size > o.max_bytes:
            raise SourceError(f"{o.path} is over the {o.max_bytes} bytes cap")
        try:
            body = safe_read.read_bytes(path.resolve(), max_bytes=o.max_bytes)
        except OSError as e:
            raise SourceError(f"cannot read {o.path}: {e.strerror}") from None
        return body, {}, o.path, {"file": signature}

    # -- parsing -------------------------------------------------------------------

    def _parse(self, ctx: Context, body: bytes, headers: dict[str, str], where: str) -> Result:
        import feedparser  # slow to import; only feed sources pay for it

        parsed = feedparser.parse(body, response_headers=headers)
        entries = list(parsed.entries)
        result = Result()
        reason = _bozo_reason(parsed)
        if not entries and not parsed.get("version"):
            raise SourceError(f"expected a feed, got {_kind(body, headers)} from {where}"
                              + (f" ({reason})" if reason else ""))
        if parsed.get("bozo") and entries:
            result.warnings.append("the feed is not well-formed, read anyway"
                                   + (f": {reason}" if reason else ""))

        entries = entries[:SEEN_MAX]
        seen_before: list[str] = list(ctx.state.get("seen") or [])
        seen_set = set(seen_before)
        current: dict[str, None] = {}  # ordered set
        new: list[tuple[str, Any]] = []
        for entry in entries:
            uid = entry_uid(entry)
            if uid in current:  # the same entry twice in one document
                continue
            current[uid] = None
            if uid not in seen_set:
                new.append((uid, entry))

        for uid, entry in new[: self.options.max_items]:
            link = entry.get("link")
            title = plain_text(entry.get("title") or "", TITLE_MAX) or "(untitled)"
            result.items.append(Item(uid=uid, title=title, link=link or None,
                                     published=_published(entry),
                                     summary=plain_text(_content(entry), SUMMARY_MAX)))

        # the ids now in the feed first, so a long feed never forgets its own entries
        keep = list(current) + [u for u in seen_before if u not in current]
        ctx.state["seen"] = keep[:SEEN_MAX]
        ctx.state["total"] = len(current)
        result.readings = [
            Reading("new_items", value=float(len(new)), unit="items"),
            Reading("total_items", value=float(len(current)), unit="items"),
        ]
        return result
