"""feed: a server that ignores validators and resends the same bytes is not parsed again
(bench P3: parsing is nearly all of a feed poll's CPU)."""

from __future__ import annotations

from _sources_fixtures import *  # noqa: F403
from _sources_fixtures import run, values
from reverie.perception.sources.feed import Feed

ITEM = ("<item><title>Post {n}</title><link>https://blog.example/{n}</link>"
        "<guid>post-{n}</guid></item>")


def rss(*ns: int) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            "<title>t</title><link>https://blog.example/</link><description>d</description>"
            + "".join(ITEM.format(n=n) for n in ns) + "</channel></rss>")


def test_the_same_bytes_again_are_reported_unchanged_without_parsing(server, ctx, monkeypatch):
    server.expect_request("/feed.xml").respond_with_data(rss(1, 2), content_type="application/rss+xml")
    url = server.url_for("/feed.xml")
    assert values(run(Feed, ctx, url=url)) == {"new_items": 2, "total_items": 2}

    def no_parse(*a, **kw):
        raise AssertionError("an unchanged body was parsed again")

    monkeypatch.setattr(Feed, "_parse", no_parse)
    again = run(Feed, ctx, url=url)
    assert again.not_modified
    assert values(again) == {"new_items": 0, "total_items": 2}


def test_changed_bytes_are_parsed_and_their_new_entry_found(server, ctx):
    server.expect_oneshot_request("/feed.xml").respond_with_data(rss(1), content_type="application/rss+xml")
    server.expect_request("/feed.xml").respond_with_data(rss(1, 2), content_type="application/rss+xml")
    url = server.url_for("/feed.xml")
    run(Feed, ctx, url=url)
    result = run(Feed, ctx, url=url)
    assert values(result) == {"new_items": 1, "total_items": 2}
    assert [i.uid for i in result.items] == ["post-2"]
