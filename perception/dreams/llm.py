"""The openai dream backend: any OpenAI-compatible chat completions server.

Every failure (timeout, HTTP error, connection refused, empty reply, a spent daily token
budget, a broken prompt template) raises :class:`DreamFailure` with a one-line reason
free of secrets; the caller then lets the offline backend write the dream.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import jinja2

from reverie.memory import clock
from reverie.memory.home import Home
from reverie.perception import templating
from reverie.perception.digest import Digest
from reverie.perception.text import duration, figure as fmt_num
from reverie.perception.dreams import DreamOptions
from reverie.perception.dreams.offline import MAX_WORDS, MIN_WORDS
from reverie.perception.redact import redact as redact_text

DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "dream_prompt.j2"
PURPOSE = "dream"
PERSONA_CAP = 8000  # characters of the persona file put in the prompt


class ModelFailure(Exception):
    """The model gave no text; ``str(e)`` says why in one line, free of secrets."""


class DreamFailure(ModelFailure):
    """The model did not give a dream."""


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
        parts.append(f"change {sign}{fmt_num(abs(s.change))}{unit}{pct} from {fmt_num(base)}")
    if s.high30:
        parts.append("new high of the month")
    if s.low30:
        parts.append("new low of the month")
    return ", ".join(parts)


def render_prompt(digest: Digest, opts: DreamOptions, home: Home, day: date) -> str:
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
    env = templating.environment(autoescape=False, undefined=jinja2.StrictUndefined,
                                 keep_trailing_newline=True)
    try:
        return env.from_string(source).render(
            persona=persona, day=day.isoformat(), zone=digest.tz,
            cycle_start=digest.start, cycle_end=digest.end,
            signals=[{"signal": s.signal, "kind": s.kind, "figures": signal_figures(s)}
                     for s in digest.signals],
            notable=[_untrusted(n.text) for n in digest.notable],
            items=[{"source": it["source"], "title": _untrusted(it["title"]),
                    "summary": _untrusted(it["summary"])} for it in digest.items],
            items_total=digest.items_total, sessions=digest.sessions,
            doors=[d.__dict__ for d in digest.doors], min_words=MIN_WORDS, max_words=MAX_WORDS)
    except jinja2.TemplateError as e:
        raise DreamFailure(f"prompt template {path.name}: {' '.join(str(e).split())}") from None


def complete(opts: DreamOptions, store, *, system: str, user: str, temperature: float,
             purpose: str, secrets=()) -> tuple[str, int]:
    """Ask the configured OpenAI-compatible model: (plain text, tokens spent).

    Every model call reverie makes goes through here: one daily token budget
    (``opts.max_tokens_per_day``, all purposes together, per UTC day), one client setup,
    one way to turn failures into a one-line :class:`ModelFailure`.
    """
    secrets = tuple(s for s in (*secrets, opts.api_key) if s)
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
    try:
        client = OpenAI(base_url=opts.base_url, api_key=opts.api_key or "unused",
                        timeout=timeout, max_retries=0)
        resp = client.chat.completions.create(
            model=opts.model,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            temperature=temperature, max_tokens=min(opts.max_tokens, remaining))
    except openai.APITimeoutError:
        raise ModelFailure(f"model timed out after {duration(timeout)}") from None
    except openai.APIStatusError as e:
        raise ModelFailure(redact(f"model server answered HTTP {e.status_code}", secrets)) from None
    except openai.APIConnectionError:
        raise ModelFailure("cannot reach the model server") from None
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


def generate(digest: Digest, opts: DreamOptions, *, home: Home, store, day: date,
             secrets=()) -> tuple[str, int]:
    """(prose, tokens spent). Raises DreamFailure."""
    prompt = render_prompt(digest, opts, home, day)
    try:
        return complete(opts, store, system=prompt, user="Write the dream now.",
                        temperature=opts.temperature, purpose=PURPOSE, secrets=secrets)
    except ModelFailure as e:
        raise DreamFailure(str(e)) from None


def _plain(text: str) -> str:
    """The model's prose as plain text, line breaks kept: no terminal escapes or control
    characters in a dream a person may `cat`."""
    from reverie.perception.state import clean

    return "\n".join(clean(line, squeeze=False) for line in str(text).splitlines()).strip()
