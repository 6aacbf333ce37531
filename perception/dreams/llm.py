"""The openai dream backend: any OpenAI-compatible chat completions server.

Every failure (timeout, HTTP error, connection refused, empty reply, a spent daily token
budget, a broken prompt template) raises :class:`DreamFailure` with a one-line reason
free of secrets; the caller then lets the offline backend write the dream.

A model's dream is published only when it passes the gate (:func:`problems`): every
figure backed by the record (the audit), no headings or lists, within the word range.
A reply that fails is answered once with a correction naming what was wrong; a second
failure is a DreamFailure. Transient errors (connection refused, HTTP 408/409/429/5xx)
are retried twice with backoff, all attempts inside one deadline (``dream.timeout``).
``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` from the environment are used as the openai
client documents, unless the config sets ``api_key`` / ``base_url``.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING


from reverie.memory import clock
from reverie.memory.home import Home
from reverie.perception import templating
from reverie.perception.digest import Digest, percent_unit
from reverie.perception.text import duration, figure as fmt_num
from reverie.perception.dreams import DreamOptions
from reverie.perception.dreams import offline
from reverie.perception.dreams.offline import MAX_WORDS, MIN_WORDS
from reverie.perception.dreams.sky import contradictions, sky_of, sky_words
from reverie.perception.redact import redact as redact_text

if TYPE_CHECKING:  # openai is imported when a model is asked, not at start
    from openai.types.chat import ChatCompletionMessageParam


DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "dream_prompt.j2"
PURPOSE = "dream"
PERSONA_CAP = 8000  # characters of the persona file put in the prompt


class ModelFailure(Exception):
    """The model gave no text; ``str(e)`` says why in one line, free of secrets."""


class DreamFailure(ModelFailure):
    """The model did not give a dream (``tokens`` it spent trying)."""

    def __init__(self, message: str, tokens: int = 0):
        super().__init__(message)
        self.tokens = tokens


def redact(text: str, secrets) -> str:
    """One line, secrets replaced: for reasons put in front matter and logs."""
    return " ".join(redact_text(text, secrets).split())


def _untrusted(text: str) -> str:
    # the fence must not be closable from inside the data it fences; no terminal escapes
    from reverie.perception.state import clean

    text = clean(text)
    return text.replace("<", "\u2039").replace(">", "\u203a").replace("```", "'''")


def signal_figures(s) -> str:
    unit = f" {s.unit}" if s.unit else ""
    if s.last is None:
        arc = " -> ".join(s.arc) if s.arc else (s.text_last or "")
        return _untrusted(arc)
    parts = [f"now {fmt_num(s.last)}{unit}", f"min {fmt_num(s.min)}", f"max {fmt_num(s.max)}"]
    if s.change:
        base = s.before if s.before is not None else s.first
        sign = "+" if s.change > 0 else "-"
        pct = f" ({sign}{fmt_num(abs(s.change_pct))}%)" if s.change_pct else ""
        # a percent reading (humidity) moves by points: "+29 %" would read as a percent change
        by = " points" if percent_unit(s.unit) else unit
        parts.append(f"change {sign}{fmt_num(abs(s.change))}{by}{pct} from {fmt_num(base)}")
    if s.high30:
        parts.append("new high of the month")
    if s.low30:
        parts.append("new low of the month")
    return ", ".join(parts)


def render_prompt(digest: Digest, opts: DreamOptions, home: Home, day: date, *,
                  own_words=(), last_night: dict | None = None) -> str:
    persona = ""
    try:
        p = home.inside(opts.persona)
        if p.is_file():
            persona = templating.read_persona(p, PERSONA_CAP)
    except (OSError, ValueError):
        persona = ""
    if opts.prompt_template:
        path = Path(opts.prompt_template).expanduser()
        if not path.is_absolute():
            path = home.root / path
    else:
        path = DEFAULT_TEMPLATE
    try:
        source = templating.read(path) if opts.prompt_template else path.read_text("utf-8")
    except OSError as e:
        raise DreamFailure(f"prompt template {path}: {e.strerror or e}") from None
    lead = digest.lead()
    context = dict(
        persona=persona, day=day.isoformat(), zone=digest.tz,
        cycle_start=digest.start, cycle_end=digest.end,
        signals=[{"signal": s.signal, "label": s.label or s.signal, "kind": s.kind,
                  "figures": signal_figures(s)} for s in digest.signals],
        lead=_untrusted(lead.text) if lead else "",
        notable=[_untrusted(n.text) for n in digest.notable],
        items=[{"source": it["source"], "title": _untrusted(it["title"]),
                "summary": _untrusted(it["summary"])} for it in digest.items],
        items_total=digest.items_total, sessions=digest.sessions,
        doors=[d.__dict__ for d in digest.doors], min_words=MIN_WORDS, max_words=MAX_WORDS,
        sky=sky_words(sky_of(digest)), own_words=[_untrusted(w) for w in own_words[:6]],
        places=[_untrusted(p) for p in offline.persona(persona).places[:8]],
        last_setting=_untrusted((last_night or {}).get("setting") or ""),
        max_figures=offline.MAX_FIGURES)
    try:  # a user's prompt template renders in a bounded child (perception/templating.py)
        return templating.render("prompt", source, context,
                                 untrusted=bool(opts.prompt_template), where=str(path))
    except templating.RenderFailure as e:
        raise DreamFailure(f"prompt template {path.name}: {e.message}") from None


RETRIES = 2  # transient failures retried, inside the one deadline
_TRANSIENT = (408, 409, 429, 500, 502, 503, 504)


def complete(opts: DreamOptions, store, *, system: str, user: str, temperature: float,
             purpose: str, secrets=(),
             history: list[ChatCompletionMessageParam] | None = None) -> tuple[str, int]:
    """Ask the configured OpenAI-compatible model: (plain text, tokens spent).

    Every model call reverie makes goes through here: one daily token budget
    (``opts.max_tokens_per_day``, all purposes together, per UTC day), one client setup,
    one deadline (``opts.timeout``) for all attempts, one way to turn failures into a
    one-line :class:`ModelFailure`. ``history`` (earlier turns) goes between the system
    prompt and ``user``.
    """
    api_key = opts.api_key or os.environ.get("OPENAI_API_KEY") or None
    secrets = tuple(x for x in (*secrets, api_key) if x)
    budget_day = clock.now().date().isoformat()  # token_usage is kept per UTC day
    used = store.tokens_used(budget_day)
    remaining = opts.max_tokens_per_day - used
    if remaining < 16:
        raise ModelFailure(f"daily token budget spent ({used} of {opts.max_tokens_per_day})")
    try:
        from openai import OpenAI
        import openai
    except ImportError:  # pragma: no cover - openai is a dependency
        raise ModelFailure("the openai package is not installed") from None
    timeout = opts.timeout.total_seconds()
    deadline = clock.monotonic() + timeout
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": system}, *(history or []),
                {"role": "user", "content": user}]
    attempt = 0
    while True:
        left = deadline - clock.monotonic()
        if left <= 0.05:
            raise ModelFailure(f"model timed out after {duration(timeout)}")
        try:
            client = OpenAI(base_url=opts.base_url or os.environ.get("OPENAI_BASE_URL") or None,
                            api_key=api_key or "unused", timeout=left, max_retries=0)
            resp = client.chat.completions.create(
                model=opts.model, messages=messages, temperature=temperature,
                max_tokens=min(opts.max_tokens, remaining))
            break
        except openai.APITimeoutError:
            raise ModelFailure(f"model timed out after {duration(timeout)}") from None
        except (openai.APIStatusError, openai.APIConnectionError) as e:
            status = getattr(e, "status_code", None)
            transient = status is None or status in _TRANSIENT
            pause = 0.5 * 2 ** attempt
            if transient and attempt < RETRIES and deadline - clock.monotonic() > pause + 0.1:
                attempt += 1
                clock.sleep(pause)  # the one clock: a test moves it instead of waiting
                continue
            if status is None:
                raise ModelFailure("cannot reach the model server") from None
            raise ModelFailure(redact(f"model server answered HTTP {status}", secrets)) from None
        except Exception as e:  # a broken reply must still leave a one-line reason
            raise ModelFailure(redact(f"model call failed: {type(e).__name__}", secrets)) from None
    usage = getattr(resp, "usage", None)
    tokens = int(getattr(usage, "total_tokens", 0) or 0) if usage else 0
    try:
        text = _plain(resp.choices[0].message.content or "")
    except (AttributeError, IndexError, TypeError):
        text = ""
    if not tokens:
        tokens = (len(system) + len(user) + len(text)) // 4  # no usage reported still spends
    store.add_tokens(budget_day, purpose, tokens)
    if not text:
        raise ModelFailure("model returned an empty reply")
    return redact_text(text, secrets), tokens


_LISTY = re.compile(r"(?m)^\s*(#{1,6}\s|[-*+]\s|\d+[.)]\s|>\s|```)")


def problems(prose: str, digest: Digest) -> list[str]:
    """Why a model's dream cannot be published (empty when it can)."""
    from reverie.perception.audit import audit_prose

    out = []
    unbacked = audit_prose(prose, digest).unbacked
    if unbacked:
        figs = ", ".join(dict.fromkeys(f.text for f in unbacked[:8]))
        out.append(f"it states figures the record does not hold: {figs}")
    wrong_sky = contradictions(prose, digest)
    if wrong_sky:
        out.append("it contradicts the night's sky: " + "; ".join(wrong_sky[:4]))
    if _LISTY.search(prose):
        out.append("it has headings or lists; write prose paragraphs only")
    n = len(prose.split())
    if not MIN_WORDS <= n <= MAX_WORDS:
        out.append(f"it has {n} words; write between {MIN_WORDS} and {MAX_WORDS}")
    return out


def generate(digest: Digest, opts: DreamOptions, *, home: Home, store, day: date,
             secrets=(), own_words=(), last_night: dict | None = None) -> tuple[str, int]:
    """(prose, tokens spent) of a dream that passed the gate. Raises DreamFailure."""
    prompt = render_prompt(digest, opts, home, day, own_words=own_words, last_night=last_night)
    ask = "Write the dream now."
    tokens = 0
    try:
        text, spent = complete(opts, store, system=prompt, user=ask,
                               temperature=opts.temperature, purpose=PURPOSE, secrets=secrets)
        tokens += spent
        wrong = problems(text, digest)
        if not wrong:
            return text, tokens
        correction = ("That dream cannot be published: " + "; ".join(wrong) + ". Write it "
                      "again: prose only, true to the sky, and no number that is not in the list above.")
        text, spent = complete(opts, store, system=prompt, user=correction,
                               temperature=opts.temperature, purpose=PURPOSE, secrets=secrets,
                               history=[{"role": "user", "content": ask},
                                        {"role": "assistant", "content": text}])
        tokens += spent
    except ModelFailure as e:
        raise DreamFailure(str(e), tokens) from None
    wrong = problems(text, digest)
    if wrong:
        raise DreamFailure("the model's dream failed twice: " + "; ".join(wrong), tokens)
    return text, tokens


def _plain(text: str) -> str:
    """The model's prose as plain text, line breaks kept: no terminal escapes or control
    characters in a dream a person may `cat`."""
    from reverie.perception.state import clean

    return "\n".join(clean(line, squeeze=False) for line in str(text).splitlines()).strip()
