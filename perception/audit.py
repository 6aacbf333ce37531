"""`reverie audit FILE`: is every number in a dream's prose backed by its record?

The record is the cycle's digest recomputed from the store (cycle start and end from
the front matter); when the store no longer holds that cycle (retention), the dream's
own receipt. A number is backed when some figure of the record, rounded to the
decimals the prose shows, equals it ("about", "around", "nearly" widen that to 10 %, as
a person rounds). Signs are not compared: prose says "fell by 3".

- A number with a unit (ETH and other coins, °C/°F/"degrees"/"below zero", km/h, mm,
  %) must match a record figure of that unit: "40%" only a change in percent, "4 ETH"
  only an ETH figure. From the receipt alone units are not compared.
- Numbers in feed item titles and summaries come from outside: they back nothing but a
  quotation of that title ("999 ETH" in a title cannot back "999 ETH" in the prose).
- Number words are read ("forty", "three hundred and thirteen"); "one" and "zero"
  are ordinary words in prose and are not checked.
- The report says how many numbers were checked and what share of the integers 1-100
  would have passed unitless, so a record that backs anything is visible.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from reverie.perception.digest import NUMBER_RE, Digest, NotableRules, build_digest, numbers_in

RECEIPT_HEADING = "## Receipt"


@dataclass
class Finding:
    line: int
    text: str
    value: float
    backed: bool


@dataclass
class AuditReport:
    source: str  # the file, or "<text>"
    record: str  # "store", "receipt" or "none": what the numbers were checked against
    findings: list[Finding] = field(default_factory=list)
    note: str = ""
    chance: float | None = None  # share of the integers 1-100 that would pass as a count
    chances: dict[str, float] = field(default_factory=dict)  # by form: count, N %, about N %

    @property
    def ok(self) -> bool:
        return all(f.backed for f in self.findings)

    @property
    def unbacked(self) -> list[Finding]:
        return [f for f in self.findings if not f.backed]

    def format(self) -> str:
        lines = [f"{self.source}:{f.line}: {f.text}  {'ok' if f.backed else 'UNBACKED'}"
                 for f in self.findings]
        n, bad = len(self.findings), len(self.unbacked)
        tail = (f"{n} number{'s' if n != 1 else ''} checked against the {self.record}"
                if self.record != "none" else f"{n} numbers, no record to check against")
        tail += f": {bad} unbacked" if bad else ": all backed"
        if self.chances:
            tail += "; a random integer 1-100 would pass " + ", ".join(
                f"as {form} {p:.0%}" if form == "a count" else f"as \"{form}\" {p:.0%}"
                for form, p in self.chances.items()) + " of the time"
        elif self.chance is not None:
            tail += f"; a random integer 1-100 would pass {self.chance:.0%} of the time"
        if self.note:
            tail += f" ({self.note})"
        lines.append(tail)
        return "\n".join(lines)


def split_dream(text: str) -> tuple[dict, str, int, str]:
    """(front matter, prose, line number where the prose starts, receipt)."""
    meta: dict = {}
    body, first = text, 1
    lines = text.split("\n")
    if lines and lines[0].strip() == "---":
        for i in range(1, len(lines)):
            if lines[i].strip() == "---":
                try:
                    loaded = yaml.safe_load("\n".join(lines[1:i]))
                    meta = loaded if isinstance(loaded, dict) else {}
                except yaml.YAMLError:
                    meta = {}
                body, first = "\n".join(lines[i + 1:]), i + 2
                break
    prose, receipt = body, ""
    for marker in ("\n" + RECEIPT_HEADING, RECEIPT_HEADING):
        at = body.find(marker)
        if at >= 0 and (marker.startswith("\n") or at == 0):
            prose, receipt = body[:at], body[at:]
            break
    return meta, prose, first, receipt


def _read(path_or_text: str | os.PathLike) -> tuple[str, str]:
    if isinstance(path_or_text, os.PathLike):
        p = Path(path_or_text)
        return str(p), p.read_text(encoding="utf-8", errors="replace")
    text = str(path_or_text)
    if "\n" not in text and len(text) < 4096:
        try:
            p = Path(text)
            if p.is_file():
                return text, p.read_text(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            pass
    return "<text>", text


def _when(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    try:
        dt = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return dt if dt.tzinfo else None


def audit(path_or_text: str | os.PathLike, store=None) -> AuditReport:
    source, text = _read(path_or_text)
    meta, prose, first_line, receipt = split_dream(text)
    record, note = Record(), "none"
    why = ""
    start, end = _when(meta.get("cycle_start")), _when(meta.get("cycle_end"))
    if store is not None and start and end and start < end:
        dg = build_digest(store, start, end, rules=NotableRules(items_cap=10000))
        if not dg.empty:
            record, note = Record.of(dg), "store"
        else:
            why = "the store holds nothing for this cycle"
    if note == "none" and receipt:
        record, note = Record.of_receipt(receipt), "receipt"
    report = check(prose, record, source=source, first_line=first_line, name=note)
    report.note = why
    return report


# -- the record's figures -------------------------------------------------------------

_COINS = ("ETH", "WETH", "BTC", "SOL", "USDC", "USDT", "DAI", "MATIC", "POL", "LTC", "XMR")


def unit_class(unit: str | None) -> str | None:
    """What a unit measures, so that 4 ETH is never backed by 4 °C."""
    u = (unit or "").strip()
    if not u:
        return None
    if u.upper() in _COINS:
        return u.upper()
    if u.replace(" ", "") in ("°C", "°F", "°", "C", "F", "K") or u.lower().startswith(
            ("degree", "below zero", "above zero", "of frost")):
        return "temp"
    if u.lower() in ("km/h", "mph", "m/s", "kn"):
        return "speed"
    if u.lower() in ("mm", "inch", "inches", "in"):
        return "precip"
    if u.lower() in ("%", "percent", "per cent"):
        return "%"
    return None


# what a figure of the record is: a level, a change, a percent change, a percent reading
# (humidity), a count (a unitless level or change, items, sessions, polls)
LEVEL, CHANGE, PCT, READING, COUNT = "level", "change", "pct", "reading", "count"


@dataclass
class Fig:
    value: float  # signed
    unit: str | None  # unit class
    role: str
    words: tuple[str, ...] = ()  # the signal's label words (a percent reading's kind)
    kind: str | None = None  # the signal's kind (money, reputation, weather, ...)


# the words that name a kind's signals in a dream's imagery: a sentence that names a kind
# is backed only by that kind's figures ("the coins doubled" by money, "the air cooled by
# 3 %" by the weather)
KIND_WORDS = {
    "money": "coin coins tide water purse wallet balance well fountain sea river harbour pool "
             "canal bay stream money treasure",
    "reputation": "voice voices crowd choir chorus audience karma follower followers stars "
                  "star applause listeners congregation gallery murmur",
    "work": "page pages post posts words poems essays letters wrote written desk awake "
            "minutes hours sessions",
    "weather": "air sky temperature degrees wind rain snow humidity cloud clouds weather "
               "cold warm heat frost cooled warmed",
    "items": "letter letters envelope envelopes postcard parcel",
}
_KIND_OF_WORD = {w: k for k, ws in KIND_WORDS.items() for w in ws.split()}


@dataclass
class Record:
    """What a dream may say: the record's figures with their roles, the ratios of its
    signals (doubled, halved) and the untrusted quotable texts."""

    figures: list[Fig] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    ratios: list[tuple[float, str | None, tuple[str, ...]]] = field(default_factory=list)
    units_known: bool = True

    def add(self, value, unit=None, role=COUNT, words=(), kind=None):
        if value is not None:
            self.figures.append(Fig(float(value), unit, role, tuple(words), kind))

    def hints(self, sentence: str) -> set[str]:
        """The kinds a sentence names, by their imagery or a signal's label."""
        ws = set(re.findall(r"[a-z]+", sentence.lower()))
        out = {_KIND_OF_WORD[w] for w in ws if w in _KIND_OF_WORD}
        for f in self.figures:
            if f.kind and set(f.words) & ws:
                out.add(f.kind)
        return out

    @classmethod
    def of(cls, dg: Digest) -> "Record":
        from reverie.perception.digest import percent_unit

        r = cls()
        for s in dg.signals:
            u = unit_class(s.unit)
            words = tuple(w for w in re.findall(r"[a-z]+", (s.label or s.field).lower()) if len(w) > 3)
            reading = percent_unit(s.unit)
            # a unitless signal (karma, posts, files) is counted; one with a unit is an amount
            counted = u is None
            k = s.kind
            for v in (s.first, s.last, s.min, s.max, s.before):
                r.add(v, u, READING if reading else COUNT if counted else LEVEL, words, k)
            if s.change is not None:
                r.add(s.change, u, COUNT if counted else CHANGE, words, k)
                if counted:
                    r.add(s.change, u, CHANGE, words, k)
            if s.change_pct is not None:
                r.add(s.change_pct, "%", PCT, words, k)
            base = s.before if s.before is not None else s.first
            if base and s.last is not None and base > 0 and s.last >= 0 and not reading:
                r.ratios.append((s.last / base, k, words))
            for t in [s.text_first or "", s.text_last or "", *s.arc]:
                for v in numbers_in(t):
                    r.add(v, None, COUNT)
        r.add(dg.items_total, kind="items")
        for v in dg.items_by_source.values():
            r.add(v, kind="items")
        for v in (dg.sessions["count"], dg.sessions["minutes"],
                  round(dg.sessions["minutes"] / 60, 1)):
            r.add(v, kind="work")  # the hours awake are the agent's own work
        for d in dg.doors:
            for x in (d.polls, d.failed, d.polls - d.failed):
                r.add(x, kind="health")
        for it in dg.items:
            r.quotes.extend(_norm(t) for t in (it.get("title", ""), it.get("summary", "")) if t)
        return r

    @classmethod
    def of_receipt(cls, receipt: str) -> "Record":
        r = cls(units_known=False)
        for line in receipt.splitlines():
            if line.startswith("  - "):  # an item's title: untrusted, quotable only
                r.quotes.append(_norm(line.split(": ", 1)[-1]))
            else:
                for v in numbers_in(line):
                    r.add(v, None, COUNT)
        return r

    def backs(self, value: float, unit: str | None, tol: float, *, form: str = "plain",
              sign: int = 0, line: str = "", count: bool | None = None,
              kinds: set[str] | None = None, about: bool = False) -> bool:
        """Is ``value`` (said with ``unit``) backed? ``form``: "plain", or "change" (said
        with a direction word: only a change of that ``sign`` backs it); ``sign`` for a
        level: above zero (+1) or below (-1); ``count``: a unitless whole number, backed
        only by a count; a percent is backed by a percent change, or (not as a change) by
        a percent reading whose kind the ``line`` names."""
        if count is None:
            count = unit is None and float(value).is_integer()
        low = line.lower()
        for f in self.figures:
            # "about" is within 5 % of the record's figure, as a person rounds
            near = max(tol, 0.05 * abs(f.value)) if about else tol
            if abs(abs(f.value) - value) > near:
                continue
            if not self.units_known:
                return True
            # a change, or a count, said of a kind the sentence names is backed only by
            # that kind ("a crowd of 22 stars" is not the wallet's 22.49 nor the posts' 22)
            if kinds and f.kind and f.kind not in kinds and (
                    unit == "%" or form == "change" or (unit is None and count)):
                continue
            if unit == "%":
                if f.role == PCT and (form != "change" or _same(sign, f.value)):
                    return True
                if f.role == READING and form != "change" and any(w in low for w in f.words):
                    return True
                continue
            if form == "change":
                if f.role == CHANGE and f.unit == unit and _same(sign, f.value):
                    return True
                continue
            if unit is not None:
                if f.unit == unit and f.role in (LEVEL, CHANGE, COUNT) and (
                        not sign or (f.role != CHANGE and _same(sign, f.value))):
                    return True
                continue
            # unitless: a count only by a count; a decimal by any amount that is no percent
            if f.role == COUNT or (not count and f.role in (LEVEL, CHANGE)):
                return True
        return False

    def backs_ratio(self, ratio: float, kinds: set[str] | None = None) -> bool:
        """"Doubled", "halved": some signal (of a kind the sentence names) went from its
        value before the night to that many times it, within 10 %."""
        return not self.units_known or any(
            abs(r - ratio) <= 0.1 * ratio and (not kinds or k in kinds)
            for r, k, _ in self.ratios)

    def chances(self) -> dict[str, float]:
        """The share of the integers 1-100 that would pass in each form the audit checks
        (said in a sentence naming no reading): a count, "N %", "about N %"."""
        n = range(1, 101)
        return {
            "a count": sum(self.backs(float(i), None, 0.5, count=True) for i in n) / 100,
            "N %": sum(self.backs(float(i), "%", 0.5) for i in n) / 100,
            "about N %": sum(self.backs(float(i), "%", 0.5, about=True) for i in n) / 100,
        }


def _same(sign: int, value: float) -> bool:
    return not sign or (value > 0 if sign > 0 else value < 0)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[\u201c\u201d\"]", "", text).split()).lower()


# -- numbers in prose -----------------------------------------------------------------

_SMALL = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
# ordinals are numbers ("the 57th star", "the fifty-seventh"); "first" and "second" are
# ordinary words in prose and are not checked
_ORDINALS = {"third": "three", "fifth": "five", "eighth": "eight", "ninth": "nine",
             "twelfth": "twelve", "hundredth": "hundred", "thousandth": "thousand",
             "millionth": "million"}
for _w in ("fourth", "sixth", "seventh", "tenth", "eleventh", "thirteenth", "fourteenth",
           "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth"):
    _ORDINALS[_w] = _w[:-2]
for _w in _TENS:
    _ORDINALS[_w[:-1] + "ieth"] = _w
_WORD = re.compile(r"[A-Za-z]+")
_UNIT_AFTER = re.compile(
    r"\s*(%|percent\b|per cent\b|°\s*[CF]?|degrees?\b|below zero\b|above zero\b|of frost\b|"
    r"km/h\b|mph\b|m/s\b|mm\b|inch(?:es)?\b|" + "|".join(rf"{c}\b" for c in _COINS) + r")",
    re.I)
_ABOUT = re.compile(r"(?i)\b(about|around|nearly|almost|some|roughly|close to|over|under|"
                    r"approximately|just over|just under)\s+$")
_SUFFIX = re.compile(r"([kKmMbB]n?)\b")
_SUFFIXES = {"k": 1e3, "K": 1e3, "M": 1e6, "m": 1e6, "b": 1e9, "B": 1e9, "bn": 1e9}
_SIGN_AFTER = re.compile(r"(?i)\s*(?:°\s*[CF]?\s*|degrees?\s+)?(above zero|below zero|of frost)\b")
_UP = {"warmed", "warms", "heated", "rose", "rise", "rises", "risen", "rising", "grew", "grow", "grows", "grown", "growing",
       "climbed", "climb", "climbs", "gained", "gain", "gains", "swelled", "swell", "swells",
       "up", "higher", "increased", "increase", "increases", "jumped", "jumps", "more",
       "added", "soared", "doubled"}
_DOWN = {"cooled", "cools", "chilled", "fell", "fall", "falls", "fallen", "falling", "sank", "sink", "sinks", "sunk",
         "dropped", "drop", "drops", "lost", "lose", "loses", "shed", "sheds", "down", "lower",
         "fewer", "less", "decreased", "decrease", "decreases", "shrank", "shrink", "shrinks",
         "slipped", "slid", "drained", "ebbed", "plunged", "halved"}
_GAP = re.compile(r"(?i)^\s*(?:by\s+)?(?:about|around|nearly|almost|some|roughly|close to|"
                  r"over|under|just|a\s+full)?\s*$")
_RATIOS = re.compile(r"(?i)\b(doubled|doubles|doubling|halved|halves|halving|tripled|triples|"
                     r"trebled|quadrupled|quadruples)\b")
_RATIO_OF = {"doub": 2.0, "halv": 0.5, "trip": 3.0, "treb": 3.0, "quad": 4.0}


@dataclass
class _Num:
    start: int
    end: int
    text: str
    value: float
    decimals: int
    ordinal: bool = False


def numbers(line: str) -> list[_Num]:
    """Every number in a line of prose: figures (with k/M suffixes and ordinal endings)
    and number words ("a thousand", "fifty-seventh"), in order."""
    out = []
    for m in NUMBER_RE.finditer(line):
        frac = m.group(2) or ""
        value = float(m.group(1).replace(",", "") + frac)
        end, ordinal = m.end(), False
        sm = _SUFFIX.match(line, end)
        if sm and sm.group(1) in _SUFFIXES:
            value *= _SUFFIXES[sm.group(1)]
            end = sm.end()
        elif re.match(r"(?i)(st|nd|rd|th)\b", line[end:end + 2] + " "):
            ordinal = True
            end += 2
        out.append(_Num(m.start(), end, line[m.start():end], value, max(len(frac) - 1, 0),
                        ordinal))
    words = [(w.start(), w.end(), w.group(0).lower()) for w in _WORD.finditer(line)]
    i = 0
    while i < len(words):
        run: list[tuple[int, int, str]] = []
        j = i
        ordinal = False
        while j < len(words):
            w = words[j][2]
            joins = (w == "and" and run and run[-1][2] in _SCALES and j + 1 < len(words)
                     and words[j + 1][2] in (*_SMALL, *_TENS, *_ORDINALS))
            if w in _SMALL or w in _TENS or w in _SCALES or joins or w in _ORDINALS:
                gap = line[words[j - 1][1]:words[j][0]] if run else ""
                if run and gap.strip(" -"):
                    break
                run.append(words[j])
                j += 1
                if w in _ORDINALS:  # an ordinal ends its number
                    ordinal = True
                    break
            else:
                break
        while run and run[-1][2] == "and":
            run.pop()
        names = [_ORDINALS.get(w, w) for _, _, w in run if w != "and"]
        if names and len(names) == 1 and names[0] in _SCALES and not ordinal:
            before = line[:run[0][0]].rstrip().lower()
            if re.search(r"\b(a|one)$", before):  # "a thousand", "a million"
                at = before.rfind(" ") + 1
                out.append(_Num(at, run[0][1], line[at:run[0][1]], float(_SCALES[names[0]]), 0))
            i = max(j, i + 1)
            continue
        if names and names not in (["one"], ["zero"]):
            out.append(_Num(run[0][0], run[-1][1], line[run[0][0]:run[-1][1]],
                            _words_value(names), 0, ordinal))
            i = j
        else:
            i = max(j, i + 1)
    return sorted(out, key=lambda n: n.start)


def _words_value(names: list[str]) -> float:
    total, part = 0, 0
    for w in names:
        if w in _SMALL:
            part += _SMALL[w]
        elif w in _TENS:
            part += _TENS[w]
        elif w == "hundred":
            part = max(part, 1) * 100
        else:
            total += max(part, 1) * _SCALES[w]
            part = 0
    return float(total + part)


def _quoted(line: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), _norm(m.group(1) or m.group(2)))
            for m in re.finditer(r"\u201c([^\u201d]*)\u201d|\"([^\"]*)\"", line)]


def _direction(line: str, n: _Num) -> int:
    """+1/-1 when the number is said as a change with a direction word ("rose by 40%",
    "fell 3", "lost twelve", "twenty more"), else 0."""
    clause = re.split(r"[.;:!?]", line[:n.start])[-1]
    ws = list(re.finditer(r"[A-Za-z]+", clause))
    for w in reversed(ws[-3:]):
        word = w.group(0).lower()
        if word in _UP or word in _DOWN:
            if _GAP.match(clause[w.end():]):
                return 1 if word in _UP else -1
            break
    after = re.match(r"\s*(?:[A-Za-z]+\s+)?(more|fewer|less)\b", line[n.end:])
    if after:
        return 1 if after.group(1) == "more" else -1
    return 0


def _sentence_at(line: str, at: int) -> str:
    """The sentence of ``line`` that holds position ``at``."""
    starts = [0] + [m.end() for m in re.finditer(r"[.!?][\u201d\"]?\s+", line) if m.end() <= at]
    end = re.search(r"[.!?](?:\s|$)", line[at:])
    return line[starts[-1]:at + (end.end() if end else len(line) - at)]


def check(prose: str, record: Record, *, source: str = "<prose>", first_line: int = 1,
          name: str = "digest") -> AuditReport:
    """Every number of ``prose`` against ``record``."""
    report = AuditReport(source=source, record=name)
    for offset, line in enumerate(prose.split("\n")):
        quotes = _quoted(line)
        for n in numbers(line):
            m = _UNIT_AFTER.match(line, n.end)
            unit = unit_class(m.group(1)) if m else None
            if unit is None and re.search(r"(?i)\bminus\s+$", line[:n.start]):
                unit, sign = "temp", -1
            tol = 0.5 * 10 ** -n.decimals + 1e-9
            about = bool(_ABOUT.search(line[:n.start]))
            sm = _SIGN_AFTER.match(line, n.end)
            sign = (1 if sm.group(1).lower() == "above zero" else -1) if sm else \
                (-1 if re.search(r"(?i)\bminus\s+$", line[:n.start]) else 0)
            if sign and unit is None:
                unit = "temp"
            d = _direction(line, n)
            form = "change" if d else "plain"
            count = unit is None and (n.ordinal or float(n.value).is_integer())
            sentence = _sentence_at(line, n.start)
            backed = any(
                a <= n.start and n.end <= b and q and any(q in src for src in record.quotes)
                for a, b, q in quotes) or record.backs(
                n.value, unit, tol, form=form, sign=d or sign, line=sentence, count=count,
                kinds=record.hints(sentence), about=about)
            report.findings.append(Finding(first_line + offset, n.text, n.value, backed))
        for m in _RATIOS.finditer(line):
            if any(a <= m.start() < b for a, b, _ in quotes):
                continue
            ratio = _RATIO_OF[m.group(1).lower()[:4]]
            kinds = record.hints(_sentence_at(line, m.start()))
            report.findings.append(Finding(first_line + offset, m.group(1), ratio,
                                           record.backs_ratio(ratio, kinds)))
    if name != "none":
        report.chances = record.chances()
        report.chance = report.chances["a count"]
    return report


def audit_prose(prose: str, digest: Digest) -> AuditReport:
    """The prose against the digest it was made from (the model gate and front matter)."""
    return check(prose, Record.of(digest))
