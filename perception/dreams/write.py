"""Writing the morning dream: the cycle, the backend, the file with its receipt, the record.

Exactly once per local date: a date that has a recorded dream (and its file) is left
alone unless ``force``, which first keeps the old file as ``YYYY-MM-DD.N.md``. A lock
file in the home serialises a double fire, within one process or across two.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Iterator

import yaml

from reverie.memory import atomic, clock
from reverie.memory.home import Home
from reverie.perception.audit import RECEIPT_HEADING, AuditReport, audit_prose
from reverie.perception.digest import Digest, build_digest
from reverie.perception.text import figure as fmt_num
from reverie.memory import _log
from reverie.perception.dreams import DreamOptions, offline, residue
from reverie.perception.dreams.sky import contradictions
from reverie.perception.redact import redact
from reverie.perception.types import fire_times, last_fire_time

_LOCK = threading.Lock()
log = _log.get("reverie.dream")


@dataclass
class DreamOutcome:
    day: date
    path: Path
    written: bool
    backend: str  # the backend that wrote the prose (offline after a fallback)
    fallback_reason: str | None = None
    model: str | None = None
    tokens: int = 0
    audit_ok: bool | None = None


def dream_day(now: datetime, tz: tzinfo) -> date:
    """The date a dream written at ``now`` carries: the local date of that morning."""
    return now.astimezone(tz).date()


def cycle_for(store, day: date, now: datetime, *, at: str | None = None,
              tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """From the previous dream's cycle end (24 h back when there is none) to ``now``, or,
    for a date already past (``dream --date`` for an earlier morning), to that date's
    dream time: a past morning's dream is about that night, not about the last 24 hours."""
    end = now
    if tz is not None and day < now.astimezone(tz).date():
        end = min(now, _morning_of(day, tz, at))
    prev = store.dreams_before(day.isoformat(), 1)
    start = prev[0].cycle_end if prev else end - timedelta(hours=24)
    if start >= end:
        start = end - timedelta(hours=24)
    return start, end


def _morning_of(day: date, tz: tzinfo, at: str | None) -> datetime:
    """The last fire time of ``at`` on the local date ``day`` (its end when none)."""
    day_start = datetime.combine(day, time(0), tzinfo=tz)
    day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    times = fire_times(at, tz, day_start, day_end - timedelta(microseconds=1)) if at else []
    return times[-1] if times else day_end.astimezone(clock.UTC)


def due_dream_day(store, opts: DreamOptions, *, tz: tzinfo, now: datetime | None = None
                  ) -> date | None:
    """The date whose dream is due at daemon start: the latest fire time of ``opts.at``
    within ``opts.catch_up`` before now, when that date has no dream yet."""
    now = now or clock.now()
    window = opts.catch_up
    if window.total_seconds() <= 0:
        return None
    last = last_fire_time(opts.at, tz, now, window)
    if last is None:
        return None
    day = dream_day(last, tz)
    return None if store.dream(day.isoformat()) else day


@contextmanager
def _dream_lock(home: Home) -> Iterator[None]:
    home.open_state()  # the state directory: made 0700, never a link
    with _LOCK:
        fd = os.open(home.private / "dream.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _keep_old(path: Path) -> Path:
    n = 1
    while (kept := path.with_name(f"{path.stem}.{n}.md")).exists():
        n += 1
    os.replace(path, kept)  # a rename never reads: a FIFO the agent put here cannot block it
    return kept


def _local_iso(ts: str | datetime, tz: tzinfo) -> str:
    dt = datetime.fromisoformat(ts) if isinstance(ts, str) else ts
    return dt.astimezone(tz).isoformat()


def write_dream(home: Home, store, opts: DreamOptions, *, day: date, tz: tzinfo,
                now: datetime | None = None, force: bool = False, backend: str | None = None,
                secrets=(), sources=()) -> DreamOutcome:
    """Write the dream for ``day`` (once per date unless ``force``). ``sources`` are the
    config's SourceSpecs: they give each signal its kind and label (without them, kinds
    are told from names and units)."""
    now = now or clock.now()
    path = home.dream(day)
    backend = backend or opts.backend
    secrets = tuple(s for s in (*secrets, opts.api_key, os.environ.get("OPENAI_API_KEY")) if s)
    with _dream_lock(home):
        known = store.dream(day.isoformat())
        if known and path.exists() and not force:
            return DreamOutcome(day, path, False, known.backend, known.fallback_reason,
                                known.model, known.tokens)
        # Only a recorded dream is kept aside; a file without a record is what a crash
        # between the write and the record leaves, and is simply written again.
        if path.exists() and known:
            _keep_old(path)
        start, end = cycle_for(store, day, now, at=opts.at, tz=tz)
        digest = build_digest(store, start, end, tz=tz, rules=opts.notable, sources=sources)
        outcome = DreamOutcome(day, path, True, "offline")
        prose: str | None = None
        used_signals: list[str] | None = None
        phrase_keys = None
        report: AuditReport | None = None
        persona_text = read_persona(home, opts)
        own = residue.own_words(home, start, end, tz, sources)
        before = residue.last_night(home, store, day)
        scene: dict = {}
        if backend == "openai":
            from reverie.perception.dreams import llm

            try:
                prose, outcome.tokens = llm.generate(digest, opts, home=home, store=store,
                                                     day=day, secrets=secrets, own_words=own,
                                                     last_night=before)
                outcome.backend, outcome.model = "openai", opts.model
                used_signals = [s.signal for s in digest.signals]
                report = audit_prose(prose, digest)
                outcome.audit_ok = report.ok
            except llm.DreamFailure as e:
                outcome.fallback_reason = llm.redact(str(e), secrets) or "model failed"
                outcome.tokens = e.tokens
        if prose is None:
            recent = store.recent_phrases(day.isoformat(), opts.dryness_nights)
            for attempt in range(4):  # the sky check holds for the offline dream too
                night = offline.compose_night(digest, day, recent=recent,
                                              persona_text=persona_text, own_words=own,
                                              last_night=before, attempt=attempt)
                if not contradictions(night.prose, digest):
                    break
            prose, phrase_keys, used_signals = night.prose, night.keys, night.signals
            scene = {"setting": night.setting, "motifs": night.motifs}
        # the model's dream names every signal, the offline one the signals it told
        assert used_signals is not None
        wrong_sky = contradictions(prose, digest)
        if wrong_sky:
            log.warning("dream.sky_contradiction", day=day.isoformat(), why="; ".join(wrong_sky))
        text = render(day, tz, digest, prose, used_signals, outcome, audit=report,
                      sky=wrong_sky, scene=scene)
        text = redact(text, secrets)
        atomic.write_text(path, text)
        newest = store.last_dream()
        # `dream --date` for an earlier morning must not turn latest.md back in time
        if newest is None or newest.date <= day.isoformat():
            _point_latest(home, path, text)
        store.record_dream(date=day.isoformat(), path=str(path.relative_to(home.root)),
                           backend=outcome.backend, model=outcome.model,
                           fallback_reason=outcome.fallback_reason,
                           cycle_start=start, cycle_end=end,
                           digest_sha256=digest.sha256(),
                           sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                           tokens=outcome.tokens)
        if phrase_keys is not None:
            store.record_phrases(day.isoformat(), phrase_keys)
        return outcome


PERSONA_CAP = 8000  # characters of the persona file read


def read_persona(home: Home, opts: DreamOptions) -> str:
    """The agent's persona file (hostile: inside the home, a regular file, capped)."""
    try:
        p = home.inside(opts.persona)
        fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except (OSError, ValueError):
        return ""
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return os.read(fd, PERSONA_CAP * 4).decode("utf-8", "replace")[:PERSONA_CAP]
    except OSError:
        return ""
    finally:
        os.close(fd)


def _point_latest(home: Home, path: Path, text: str) -> None:
    try:
        atomic.symlink(path.name, home.latest_dream)
    except OSError:  # a filesystem without symlinks: a copy does
        atomic.write_text(home.latest_dream, text)


def render(day: date, tz: tzinfo, digest: Digest, prose: str, used: list[str],
           outcome: DreamOutcome, audit: AuditReport | None = None,
           sky: list[str] | None = None, scene: dict | None = None) -> str:
    meta: dict[str, str | list[str] | None] = {
        "date": day.isoformat(),
        "cycle_start": _local_iso(digest.start, tz),
        "cycle_end": _local_iso(digest.end, tz),
        "timezone": digest.tz,
        "backend": outcome.backend,
        "model": outcome.model,
        "fallback_reason": outcome.fallback_reason,
        "digest_sha256": digest.sha256(),
    }
    if audit is not None:
        meta["audit"] = "ok" if audit.ok else (
            f"{len(audit.unbacked)} unbacked: " + ", ".join(f.text for f in audit.unbacked[:10]))
    if sky is not None:
        meta["sky"] = "ok" if not sky else "; ".join(sky[:4])
    # the scene, so that the next night can avoid it and let something of it return
    if scene and scene.get("setting"):
        meta["setting"] = scene["setting"]
        meta["motifs"] = list(scene.get("motifs") or [])
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return f"---\n{head}---\n\n{prose.strip()}\n\n{receipt(digest, used)}"


def receipt(digest: Digest, used: list[str]) -> str:
    lines = [RECEIPT_HEADING, ""]
    for name in used:
        if name == "items":
            per = ", ".join(f"{src} {n}" for src, n in digest.items_by_source.items())
            lines.append(f"- new items: {digest.items_total} ({per})")
            for it in digest.items:
                title = " ".join(it["title"].split())[:120]
                lines.append(f"  - {it['source']}: {title}")
        elif name == "sessions":
            ses = digest.sessions
            lines.append(f"- sessions: {ses['count']}, {ses['minutes']} minutes")
        elif name.startswith("doors:"):
            for d in digest.doors:
                if d.source == name[6:]:
                    state = ("started failing" if d.started_failing else
                             "recovered" if d.stopped_failing else
                             "failing" if d.failing_now else "failed at times")
                    lines.append(f"- {d.source}: {d.failed} of {d.polls} polls failed, {state}")
        else:
            s = digest.signal(name)
            if s is None:
                continue
            if s.last is None:
                lines.append(f"- {s.signal}: " + " -> ".join(s.arc or [s.text_last or ""]))
                continue
            unit = f" {s.unit}" if s.unit else ""
            parts = [f"first {fmt_num(s.first)}", f"last {fmt_num(s.last)}",
                     f"min {fmt_num(s.min)}", f"max {fmt_num(s.max)}"]
            if s.before is not None:
                parts.append(f"before the cycle {fmt_num(s.before)}")
            if s.change is not None:
                sign = "+" if s.change > 0 else "-" if s.change < 0 else ""
                ch = f"change {sign}{fmt_num(abs(s.change))}"
                if s.change_pct is not None:
                    ch += f" ({sign}{fmt_num(abs(s.change_pct))}%)"
                parts.append(ch)
            if s.high30:
                parts.append("new high")
            if s.low30:
                parts.append("new low")
            lines.append(f"- {s.signal}{unit}: " + ", ".join(parts))
    if len(lines) == 2:
        lines.append("- a quiet night: no signals in this cycle")
    return "\n".join(lines) + "\n"
