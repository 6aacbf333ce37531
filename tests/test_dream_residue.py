"""The day's residue: the agent's own words (diary headings, kept lines, its posts' titles)
and last night's scene, read from its home as hostile text; and what the model is told."""

import json
import os
from datetime import datetime, timedelta, timezone

from werkzeug import Response

from reverie.perception.audit import split_dream
from reverie.perception.dreams import DreamOptions
from reverie.perception.dreams.offline import persona
from reverie.perception.dreams.residue import last_night, own_words
from reverie.perception.dreams.write import write_dream
from reverie.perception.sources import SourceSpec
from reverie.perception.sources.files import Files
from tests.conftest import chat_completion

UTC = timezone.utc
NOW = datetime(2026, 6, 10, 5, 0, tzinfo=UTC)
START = NOW - timedelta(hours=24)
POSTS = SourceSpec(name="posts", type="files", options=Files.Options(path="posts", glob="*.md"))


def _diary(home, text, day="2026-06-09"):
    home.diary_dir.mkdir(parents=True, exist_ok=True)
    (home.diary_dir / f"{day}.md").write_text(text)


def test_own_words_are_diary_headings_kept_lines_and_the_titles_of_posts_of_the_night(home):
    _diary(home, "# Diary 2026-06-09\n\n## Mending the cold frame\n\nbody text\n"
                 "- remember: the heron came back at dusk\n")
    (home.root / "posts").mkdir()
    new = home.root / "posts" / "a.md"
    new.write_text("# Winter sowing\n\nwords")
    os.utime(new, (NOW.timestamp() - 3600,) * 2)
    old = home.root / "posts" / "b.md"
    old.write_text("# An old post\n")
    os.utime(old, (NOW.timestamp() - 9 * 86400,) * 2)
    words = own_words(home, START, NOW, UTC, [POSTS])
    assert "Mending the cold frame" in words and "the heron came back at dusk" in words
    assert "Winter sowing" in words and "An old post" not in words
    assert not any(w.startswith("Diary") for w in words)


def test_own_words_carry_no_figure_no_markup_and_nothing_from_a_fifo_or_a_link(home, tmp_path):
    _diary(home, "## 999 ETH and <b>forty</b> `rm -rf` reasons\n## ok\n")
    words = own_words(home, START, NOW, UTC)
    assert words == ["ETH and rm -rf reasons"]
    (home.diary_dir / "2026-06-09.md").unlink()
    os.mkfifo(home.diary_dir / "2026-06-09.md")
    outside = tmp_path / "secret.md"
    outside.write_text("## A secret heading\n")
    home.working.unlink(missing_ok=True)
    os.symlink(outside, home.working)
    assert own_words(home, START, NOW, UTC) == []  # returns at once: no read blocks


def test_places_come_from_the_persona_section_else_its_prose(home):
    p = persona("I am Sel.\n\n## Places\n- the greenhouse behind the house\n- 12 Main St\n")
    assert p.places == ["the greenhouse behind the house", "Main St"] and p.own_places
    q = persona("I spend my days on the terrace above the market in Lisbon.")
    assert q.places == ["the terrace", "the market in Lisbon"] and not q.own_places
    assert persona("I am an agent.").places == []


def _night(store):
    for h in range(48):
        ts = NOW - timedelta(hours=47 - h)
        store.record_run("weather", ts, ok=True, readings=[
            ("weather.temperature", 14.0, None, "°C"),
            ("weather.condition", None, "overcast", None)])


def test_the_scene_is_kept_in_the_front_matter_and_never_the_same_two_nights_running(home, store):
    (home.memory_dir / "identity.md").write_text(
        "## Places\n- the greenhouse behind the house\n- the potting shed\n")
    _night(store)
    o = DreamOptions()
    settings = []
    for d in range(4):
        now = NOW - timedelta(days=3 - d)
        out = write_dream(home, store, o, day=now.date(), tz=UTC, now=now)
        meta = split_dream(out.path.read_text())[0]
        settings.append(meta["setting"])
        assert len(meta["motifs"]) == 2
        assert last_night(home, store, (now + timedelta(days=1)).date())["setting"] == meta["setting"]
    assert set(settings) <= {"the greenhouse behind the house", "the potting shed"}
    assert all(a != b for a, b in zip(settings, settings[1:]))


def test_the_model_is_told_the_agents_places_words_last_setting_and_true_sky(httpserver, home, store):
    (home.memory_dir / "identity.md").write_text("## Places\n- the potting shed\n- the quay\n")
    _diary(home, "## Seed order for the spring\n")
    _night(store)
    bodies = []

    def handler(request):
        bodies.append(json.loads(request.get_data()))
        return Response(json.dumps(chat_completion("x " * 100)), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    write_dream(home, store, DreamOptions(), day=(NOW - timedelta(days=1)).date(), tz=UTC,
                now=NOW - timedelta(days=1))
    o = DreamOptions(backend="openai", base_url=httpserver.url_for("/v1"), api_key="k",
                     timeout="5s")
    write_dream(home, store, o, day=NOW.date(), tz=UTC, now=NOW)
    prompt = bodies[0]["messages"][0]["content"]
    assert "from your own places (the potting shed; the quay)" in prompt
    assert "- Seed order for the spring" in prompt
    assert "not last night's (" in prompt
    assert "no rain and no snow: a dry night" in prompt and "mild: neither warm nor frosty" in prompt
    assert "At most 3 exact figures" in prompt


def test_a_diary_folder_swapped_for_a_link_out_of_the_home_is_not_read(home, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "2026-06-09.md").write_text("## A heading from outside the home\n")
    if home.diary_dir.exists():
        import shutil

        shutil.rmtree(home.diary_dir)
    os.symlink(elsewhere, home.diary_dir)
    assert "A heading from outside the home" not in own_words(home, START, NOW, UTC)
