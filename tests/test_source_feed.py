"""feed: RSS and Atom entries as items, new ones only, fetched politely."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from _sources_fixtures import make_ctx, run, values
from reverie.perception.sources import SourceError
from reverie.perception.sources.feed import SEEN_MAX, Feed, plain_text

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
  <title>A blog</title><link>https://blog.example/</link><description>notes</description>
  <item>
    <title>Second post</title><link>https://blog.example/2</link>
    <guid isPermaLink="false">post-2</guid>
    <pubDate>Tue, 02 Jan 2024 09:30:00 +0100</pubDate>
    <description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt; &amp;amp; friends&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;</description>
  </item>
  <item>
    <title>First post</title><link>https://blog.example/1</link>
    <guid isPermaLink="false">post-1</guid>
    <pubDate>Mon, 01 Jan 2024 08:00:00 GMT</pubDate>
    <description>The very first.</description>
  </item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom site</title><id>urn:uuid:site</id><updated>2024-03-01T10:00:00Z</updated>
  <entry>
    <title type="html">Dreams &amp;amp; &lt;em&gt;signals&lt;/em&gt;</title>
    <link href="https://atom.example/dreams"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2024-03-01T10:00:00Z</updated>
    <content type="html">&lt;p&gt;Long body&lt;/p&gt;</content>
  </entry>
</feed>"""


def rss_with(items: str, encoding: str = "UTF-8") -> str:
    return (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
            f"<title>t</title><link>https://x.example/</link><description>d</description>"
            f"{items}</channel></rss>")


def serve(server, body, path="/feed.xml", **kw):
    kw.setdefault("content_type", "application/rss+xml; charset=utf-8")
    server.expect_request(path).respond_with_data(body, **kw)
    return server.url_for(path)


def test_rss_entries_become_items_with_plain_text_and_utc_times(server, ctx):
    result = run(Feed, ctx, url=serve(server, RSS))
    assert values(result) == {"new_items": 2, "total_items": 2}
    first = result.items[0]
    assert (first.uid, first.title, first.link) == ("post-2", "Second post", "https://blog.example/2")
    assert first.summary == "Hello world & friends"
    assert first.published == datetime(2024, 1, 2, 8, 30, tzinfo=timezone.utc)
    assert first.published.tzinfo is not None


def test_atom_entries_become_items(server, ctx):
    result = run(Feed, ctx, url=serve(server, ATOM, content_type="application/atom+xml"))
    (item,) = result.items
    assert item.title == "Dreams & signals" and item.link == "https://atom.example/dreams"
    assert item.uid == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert item.summary == "Long body"


def test_a_second_poll_yields_only_new_entries(server, ctx):
    url = serve(server, RSS)
    run(Feed, ctx, url=url)
    server.clear()
    newer = RSS.replace("<item>", "<item><title>Third</title><guid>post-3</guid></item><item>", 1)
    url = serve(server, newer)
    result = run(Feed, ctx, url=url)
    assert [i.uid for i in result.items] == ["post-3"]
    assert values(result) == {"new_items": 1, "total_items": 3}


def test_duplicate_guids_in_one_document_count_once(server, ctx):
    item = "<item><title>Same</title><guid>dup</guid></item>"
    result = run(Feed, ctx, url=serve(server, rss_with(item * 3)))
    assert [i.uid for i in result.items] == ["dup"] and values(result)["total_items"] == 1


def test_missing_guids_fall_back_to_link_then_to_a_hash(server, ctx):
    items = ("<item><title>Linked</title><link>https://x.example/a</link></item>"
             "<item><title>Bare</title><description>just text</description></item>")
    result = run(Feed, ctx, url=serve(server, rss_with(items)))
    uids = [i.uid for i in result.items]
    assert uids[0] == "https://x.example/a" and uids[1].startswith("sha256:")
    server.clear()
    again = run(Feed, ctx, url=serve(server, rss_with(items)))
    assert again.items == []  # the hash is stable, so nothing is new the second time


def test_at_most_max_items_new_items_are_kept_per_poll(server, ctx):
    items = "".join(f"<item><title>n{i}</title><guid>g{i}</guid></item>" for i in range(30))
    result = run(Feed, ctx, url=serve(server, rss_with(items)), max_items=5)
    assert [i.uid for i in result.items] == ["g0", "g1", "g2", "g3", "g4"]
    assert values(result)["new_items"] == 30


def test_the_memory_of_seen_ids_is_bounded(server, ctx):
    ctx.state["seen"] = [f"old-{i}" for i in range(SEEN_MAX)]
    items = "".join(f"<item><title>n{i}</title><guid>g{i}</guid></item>" for i in range(10))
    run(Feed, ctx, url=serve(server, rss_with(items)))
    assert len(ctx.state["seen"]) == SEEN_MAX and ctx.state["seen"][:2] == ["g0", "g1"]


def test_a_windows_1251_feed_is_decoded(server, ctx):
    body = rss_with("<item><title>Привет, мир</title><guid>ru-1</guid>"
                    "<description>Сон о погоде</description></item>", "windows-1251")
    url = serve(server, body.encode("windows-1251"), content_type="application/rss+xml")
    result = run(Feed, ctx, url=url)
    assert result.items[0].title == "Привет, мир" and result.items[0].summary == "Сон о погоде"


def test_a_latin1_charset_from_the_http_header_is_honoured(server, ctx):
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x/</link>'
            "<description>d</description><item><title>Café déjà vu</title><guid>fr-1</guid></item>"
            "</channel></rss>").encode("iso-8859-1")
    url = serve(server, body, content_type="text/xml; charset=iso-8859-1")
    assert run(Feed, ctx, url=url).items[0].title == "Café déjà vu"


def test_an_html_page_is_not_a_feed(server, ctx):
    url = serve(server, "<!doctype html><html><head><title>Home</title></head><body><p>hi</body></html>",
                content_type="text/html; charset=utf-8")
    with pytest.raises(SourceError, match=r"^expected a feed, got text/html from 127\.0\.0\.1:\d+"):
        run(Feed, ctx, url=url)


def test_no_entries_and_no_version_is_a_failure(server, ctx):
    url = serve(server, '{"not": "a feed"}', content_type="application/json")
    with pytest.raises(SourceError, match="^expected a feed, got application/json"):
        run(Feed, ctx, url=url)


def test_an_empty_but_valid_feed_is_fine(server, ctx):
    result = run(Feed, ctx, url=serve(server, rss_with("")))
    assert values(result) == {"new_items": 0, "total_items": 0} and result.items == []


def test_a_broken_feed_with_entries_is_read_with_a_warning(server, ctx):
    broken = rss_with("<item><title>Tom & Jerry</title><guid>tj</guid></item>")  # bare '&'
    result = run(Feed, ctx, url=serve(server, broken))
    assert [i.uid for i in result.items] == ["tj"]
    assert len(result.warnings) == 1 and "not well-formed" in result.warnings[0]


def test_conditional_get_sends_the_validators_and_a_304_parses_nothing(server, ctx):
    url = serve(server, RSS, headers={"ETag": '"abc"', "Last-Modified": "Mon, 01 Jan 2024 08:00:00 GMT"})
    run(Feed, ctx, url=url)
    assert ctx.state["etag"] == '"abc"'
    server.clear()
    server.expect_request("/feed.xml", headers={
        "If-None-Match": '"abc"', "If-Modified-Since": "Mon, 01 Jan 2024 08:00:00 GMT"}
    ).respond_with_data("", status=304)
    seen = list(ctx.state["seen"])
    result = run(Feed, ctx, url=url)
    assert result.not_modified and result.items == []
    assert values(result) == {"new_items": 0, "total_items": 2}
    assert ctx.state["seen"] == seen


def test_a_failed_parse_does_not_store_validators(server, ctx):
    url = serve(server, "<html>oops</html>", content_type="text/html", headers={"ETag": '"bad"'})
    with pytest.raises(SourceError):
        run(Feed, ctx, url=url)
    assert "etag" not in ctx.state


def test_a_500_fails(server, ctx):
    url = serve(server, "down", status=500)
    with pytest.raises(SourceError, match=r"^HTTP 500 from"):
        run(Feed, ctx, url=url)


def test_a_404_fails(server, ctx):
    url = serve(server, "Not Found", status=404)
    with pytest.raises(SourceError, match=r"^HTTP 404 from"):
        run(Feed, ctx, url=url)


def test_a_429_carries_retry_after(server, ctx):
    url = serve(server, "", status=429, headers={"Retry-After": "90"})
    with pytest.raises(SourceError) as e:
        run(Feed, ctx, url=url)
    assert e.value.retry_after == 90


def test_a_hanging_feed_times_out(server, release, tmp_path):
    server.expect_request("/slow").respond_with_handler(lambda r: release.wait(5) and None)
    with pytest.raises(SourceError, match="^timed out"):
        run(Feed, make_ctx(tmp_path, timeout=0.5), url=server.url_for("/slow"))


def test_connection_refused(ctx, closed_port_url):
    with pytest.raises(SourceError, match="^connection refused"):
        run(Feed, ctx, url=closed_port_url)


def test_a_feed_over_the_cap_fails(server, ctx):
    items = "".join(f"<item><title>n{i}</title><guid>g{i}</guid></item>" for i in range(200))
    with pytest.raises(SourceError, match="over the"):
        run(Feed, ctx, url=serve(server, rss_with(items)), max_bytes=4096)


def test_a_local_file_in_the_home_is_read(tmp_path):
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "notes.xml").write_text(RSS, encoding="utf-8")
    ctx = make_ctx(tmp_path)
    result = run(Feed, ctx, path="feeds/notes.xml")
    assert values(result) == {"new_items": 2, "total_items": 2}


def test_an_unchanged_local_file_is_not_parsed_again(tmp_path):
    (tmp_path / "notes.xml").write_text(RSS, encoding="utf-8")
    ctx = make_ctx(tmp_path)
    run(Feed, ctx, path="notes.xml")
    result = run(Feed, ctx, path="notes.xml")
    assert result.not_modified and values(result) == {"new_items": 0, "total_items": 2}


def test_a_missing_local_file_fails(tmp_path):
    with pytest.raises(SourceError, match="^no such file: feeds/none.xml$"):
        run(Feed, make_ctx(tmp_path), path="feeds/none.xml")


def test_a_path_leaving_the_home_is_refused_at_config_time():
    with pytest.raises(ValidationError, match="inside the home"):
        Feed.Options(path="../elsewhere/feed.xml")
    with pytest.raises(ValidationError, match="inside the home"):
        Feed.Options(path="/etc/passwd")


def test_a_symlink_leaving_the_home_is_refused(tmp_path):
    outside = tmp_path / "outside.xml"
    outside.write_text(RSS)
    home = tmp_path / "home"
    home.mkdir()
    (home / "feed.xml").symlink_to(outside)
    with pytest.raises(SourceError, match="outside the home"):
        run(Feed, make_ctx(home), path="feed.xml")


def test_url_and_path_are_exclusive():
    with pytest.raises(ValidationError, match="one of them"):
        Feed.Options(url="http://127.0.0.1/x", path="x.xml")
    with pytest.raises(ValidationError, match="one of them"):
        Feed.Options()


def test_summaries_are_plain_text_and_truncated():
    text = plain_text("<p>" + "word " * 300 + "</p>", 500)
    assert len(text) <= 500 and text.endswith("…") and "<" not in text


# A server that ignores validators and resends the same bytes is not parsed again
# (bench P3: parsing is nearly all of a feed poll's CPU).
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
