"""The offline dream: deterministic, varied night to night, truthful in its numbers."""

import math
import random
import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from reverie.memory.store import Store
from reverie.perception.audit import audit
from reverie.perception.digest import Digest, build_digest, fmt_num
from reverie.perception.dreams import _phrases
from reverie.perception.dreams.offline import MAX_WORDS, MIN_WORDS, compose, fmt_pct

UTC = timezone.utc
T0 = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
FIRST_DAY = date(2026, 3, 2)
CONDITIONS = ["clear sky", "light rain", "fog", "overcast", "snow showers", "drizzle",
              "thunderstorm", "mainly clear"]


def _fill(store: Store, days: int, seed: int = 7) -> None:
    """A month of varied signals: weather, karma, a wallet, posts, a feed, a flaky source."""
    rng = random.Random(seed)
    karma, bal, temp, files, followers = 1000.0, 0.5, 5.0, 10, 300
    for h in range(-24 * 8, 24 * days):
        ts = T0 + timedelta(hours=h)
        karma += rng.choice([0, 0, 1, 2, 5, -3, 40, -60])
        followers += rng.choice([0, 0, 0, 1, 3, -2])
        temp += rng.uniform(-1.5, 1.5)
        bal = round(bal * rng.choice([1, 1, 1.01, 0.9, 1.2, 0.7]), 4)
        store.record_poll("weather", ts, ok=True, readings=[
            ("weather.temperature", round(temp, 1), None, "°C"),
            ("weather.condition", None, rng.choice(CONDITIONS), None)])
        store.record_poll("moltbook", ts, ok=True, readings=[
            ("moltbook.karma", karma, None, None), ("moltbook.followers", followers, None, None)])
        store.record_poll("wallet", ts, ok=rng.random() > 0.08,
                          readings=[("wallet.balance", bal, None, "ETH")])
        if rng.random() < 0.1:
            files += 1
        store.record_poll("posts", ts, ok=True, readings=[("posts.count", files, None, None)])
        if rng.random() < 0.08:
            store.record_poll("blog", ts, ok=True, items=[
                {"uid": str(h), "title": rng.choice(["On rivers", "Release notes",
                                                     "A letter to the editor",
                                                     "Week in review", "Why I left"])}])


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """Thirty consecutive nights, composed with the dryness memory in a real store."""
    store = Store.open(tmp_path_factory.mktemp("month") / "r.db")
    _fill(store, 31)
    nights = []
    for i in range(30):
        day = FIRST_DAY + timedelta(days=i)
        end = T0 + timedelta(days=i + 1)
        dg = build_digest(store, end - timedelta(days=1), end)
        prose, keys, used = compose(dg, day, recent=store.recent_phrases(day.isoformat(), 7))
        store.record_phrases(day.isoformat(), keys)
        nights.append((day, dg, prose, used))
    yield store, nights
    store.close()


def _words(text):
    return re.findall(r"[a-z0-9.%°']+", text.lower())


def _ngrams(words, n):
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def _bleu4(hyp, refs):
    """Sentence BLEU-4 with clipped counts over several references and a brevity penalty."""
    logs = []
    for n in range(1, 5):
        h = Counter(_ngrams(hyp, n))
        best: Counter = Counter()
        for r in refs:
            for g, c in Counter(_ngrams(r, n)).items():
                best[g] = max(best[g], c)
        match = sum(min(c, best[g]) for g, c in h.items())
        total = max(1, sum(h.values()))
        logs.append(math.log(max(match, 1e-9) / total))
    closest = min((len(r) for r in refs), key=lambda L: (abs(L - len(hyp)), L))
    bp = 1.0 if len(hyp) > closest else math.exp(1 - closest / max(1, len(hyp)))
    return bp * math.exp(sum(logs) / 4)


def _sentences(text):
    return [s.strip() for s in re.split(r"(?<=[.!?”])\s+", text) if s.strip()]


def test_the_same_date_and_digest_give_the_same_dream(month):
    _, nights = month
    day, dg, prose, _ = nights[3]
    again = compose(dg, day, recent={})
    assert compose(dg, day, recent={}) == again
    other_day = compose(dg, day + timedelta(days=1), recent={})
    assert other_day[0] != again[0]


def test_self_bleu_over_thirty_nights_is_at_most_0_40(month):
    texts = [_words(p) for _, _, p, _ in month[1]]
    scores = [_bleu4(t, texts[:i] + texts[i + 1:]) for i, t in enumerate(texts)]
    assert sum(scores) / len(scores) <= 0.40


def test_consecutive_nights_share_at_most_a_tenth_of_their_word_bigrams(month):
    texts = [set(_ngrams(_words(p), 2)) for _, _, p, _ in month[1]]
    jac = [len(a & b) / len(a | b) for a, b in zip(texts, texts[1:])]
    assert max(jac) <= 0.10


def test_pairwise_trigram_overlap_between_any_two_nights_stays_low(month):
    texts = [set(_ngrams(_words(p), 3)) for _, _, p, _ in month[1]]
    worst = max(len(a & b) / len(a | b) for i, a in enumerate(texts) for b in texts[i + 1:])
    assert worst <= 0.10


def test_no_sentence_repeats_across_thirty_nights(month):
    seen = Counter(s for _, _, p, _ in month[1] for s in set(_sentences(p)))
    assert [s for s, n in seen.items() if n > 1] == []


def test_every_dream_is_between_120_and_300_words(month):
    lengths = [len(p.split()) for _, _, p, _ in month[1]]
    assert min(lengths) >= MIN_WORDS and max(lengths) <= MAX_WORDS


def test_every_notable_signal_appears_with_one_of_its_figures(month):
    for _, dg, prose, used in month[1]:
        for n in dg.notable:
            if n.what == "items":
                assert "items" in used and fmt_num(dg.items_total) in prose or dg.items_total == 1
                continue
            if n.kind == "doors":
                assert f"doors:{n.signal}" in used
                continue
            s = dg.signal(n.signal)
            assert n.signal in used
            figs = {fmt_num(v) for v in (s.last, s.min, s.max, s.before, s.first) if v is not None}
            if s.change:
                # a percentage is shown as prose writes it: "41%", "3.6%"
                figs |= {fmt_num(abs(s.change)), fmt_pct(s.change_pct or 0)}
            assert any(re.search(rf"(?<![\d.]){re.escape(f)}(?![\d])", prose) for f in figs), n.text


def test_every_number_in_every_night_is_backed_by_the_record(month):
    store, nights = month
    for _, dg, prose, _ in nights:
        start, end = dg.start, dg.end
        text = f"---\ncycle_start: '{start}'\ncycle_end: '{end}'\n---\n\n{prose}\n"
        report = audit(text, store)
        assert report.record == "store"
        assert report.ok, report.format()
        assert report.findings  # the figures are there, just not as a report


def test_structure_varies_person_and_tense_across_nights(month):
    prose = [p for _, _, p, _ in month[1]]
    assert any(re.search(r"\bI\b", p) for p in prose)
    assert any(re.search(r"\byou\b", p) and not re.search(r"\bI\b", p) for p in prose)
    assert len({p.count("\n\n") for p in prose}) >= 3
    assert len({p.split()[0] for p in prose}) >= 8


def test_an_empty_night_still_dreams():
    dg = Digest(start="2026-03-01T04:00:00+00:00", end="2026-03-02T04:00:00+00:00", tz="UTC")
    prose, keys, used = compose(dg, date(2026, 3, 2), recent={})
    assert MIN_WORDS <= len(prose.split()) <= MAX_WORDS
    assert used == [] and keys
    assert not re.search(r"\d", prose)


def test_phrase_text_holds_no_digits_so_every_figure_comes_from_the_digest():
    texts = [e for pool in (_phrases.T, _phrases.LEXICON) for v in pool.values() for e in v]
    assert [t for t in texts if re.search(r"\d", t)] == []


def test_digits_in_names_units_and_braces_in_titles_do_not_leak_unbacked_numbers(tmp_path):
    store = Store.open(tmp_path / "r.db")
    for h, v in enumerate([12.0, 30.5, 8.25]):
        ts = T0 + timedelta(hours=h + 1)
        store.record_poll("air2", ts, ok=h != 2, readings=[("air2.pm2_5", v, None, "µg/m3")],
                          items=[{"uid": str(h), "title": "{=last} {I} release 2.0 in 2026"}])
    end = T0 + timedelta(days=1)
    dg = build_digest(store, T0, end)
    for i in range(10):
        prose, _, _ = compose(dg, FIRST_DAY + timedelta(days=i), recent={})
        assert "{" not in prose.replace("{=last} {I}", "")
        text = f"---\ncycle_start: '{dg.start}'\ncycle_end: '{dg.end}'\n---\n\n{prose}\n"
        assert audit(text, store).ok, prose
    store.close()
