"""Run a source once: fetch within its timeout, store the outcome, keep its health.

Nothing here raises: a source that fails, hangs, returns junk or cannot even be built
comes back as a failed :class:`PollOutcome`, one row in the store and, when its health
changes, one log line. The scheduler and ``reverie poll`` are the callers.
"""

from __future__ import annotations

import math
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from reverie.memory import _log, clock
from reverie.memory.home import Home
from reverie.memory.store import NewItem, Reading, SourceState, StateChange, Store
from reverie.perception import health, sources, text
from reverie.perception.errors import SourceError
from reverie.perception.redact import redact
from reverie.perception.sources import Context, Result, SourceSpec
from reverie.memory.errors import described

log = _log.get("reverie.poll")

MAX_ERROR_LEN = 500
MAX_TEXT_LEN = 2000  # a text reading is a label, not a document
# seconds after which a fetch stops counting against poll_round's bound: a healthy fetch
# costs milliseconds of CPU, so one still going is waiting on the network (at 1.0, 20
# hung sources of 200 held the slots long enough to double the round: bench P1)
SLOW_AFTER = 0.1

# Fetches abandoned after their timeout, by source (held until the fetch ends): a source
# whose last run is still stuck is not started again (a permanently hung endpoint must not
# pile up threads).
_abandoned: dict[str, threading.Lock] = {}
_abandoned_lock = threading.Lock()


@dataclass
class PollOutcome:
    source: str
    ok: bool
    error: str | None = None
    readings: list[Reading] = field(default_factory=list)
    new_items: int = 0
    duration: float = 0.0
    skipped: str | None = None  # why the source was not run at all
    warnings: list[str] = field(default_factory=list)
    retry_after: float | None = None  # seconds the source asked us to wait

    def line(self) -> str:
        """One line for a person: ``weather ok temperature=12.5 °C condition=rain``."""
        if self.skipped:
            return f"{self.source} skipped: {self.skipped}"
        if not self.ok:
            return f"{self.source} failed: {self.error}"
        parts = []
        for signal, value, label, unit in self.readings:
            short = signal.split(".", 1)[1] if "." in signal else signal
            if value is not None:
                parts.append(f"{short}={text.number(value)}{' ' + unit if unit else ''}")
            else:
                parts.append(f"{short}={label!r}")
        if self.new_items:
            parts.append(f"+{self.new_items} new items")
        if self.warnings:
            n = len(self.warnings)
            parts.append(f"({n} warning{'s' if n != 1 else ''})")
        return f"{self.source} ok" + (" " + " ".join(parts) if parts else "")


def _plain(s: str) -> str:
    """One line without terminal escapes or control characters: what a source sends is
    stored as text a person can `cat` (state.md, dreams and receipts print it)."""
    return text.clean(s)


def one_line(s: str, secrets: Iterable[str] = (), limit: int = MAX_ERROR_LEN) -> str:
    s = redact(_plain(s), secrets)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def build_source(spec: SourceSpec) -> Any:
    cls: Any = sources.get(spec.type)  # a source type: its Options and constructor
    options = spec.options
    if options is None or not isinstance(options, cls.Options):
        options = cls.Options.model_validate(options or {})
    return cls(spec.name, options)


# -- backoff ----------------------------------------------------------------------

def should_run(spec: SourceSpec, state: SourceState, now: datetime | None = None) -> tuple[bool, str | None]:
    """Whether the scheduler's fire for ``spec`` should poll now; else why not (the
    backoff rule is :func:`reverie.perception.health.deferral`)."""
    now = now or clock.now()
    d = health.deferral(spec, state, now)
    if d is None:
        return True, None
    wait = text.duration(round((d.next_try - now).total_seconds()))
    if d.reason == "retry_after":
        return False, f"Retry-After: next try in {wait}"
    return False, f"backing off after {text.plural(d.failures, 'failure')}: next try in {wait}"


# -- one run ------------------------------------------------------------------------

class _Once:
    """Release a concurrency slot exactly once: when the fetch ends or is abandoned."""

    def __init__(self, sem: threading.Semaphore | None):
        self._sem = sem
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            if self._sem is not None:
                self._sem.release()
                self._sem = None


def grace(timeout: float) -> float:
    """Extra time beyond the timeout before a fetch is abandoned: a source that honours
    its own timeout then reports its own (better) error."""
    return min(5.0, 0.5 + 0.1 * timeout)


class _Worker(threading.Thread):
    """A daemon thread that runs fetches one after another. Starting a thread per poll
    cost more CPU than the rest of the bookkeeping together (bench P2), so a finished
    worker waits for the next fetch; one that hangs is simply never handed another."""

    _idle: list["_Worker"] = []
    _idle_lock = threading.Lock()
    MAX_IDLE = 16

    def __init__(self) -> None:
        super().__init__(name="fetch", daemon=True)
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()

    @classmethod
    def give(cls, name: str, job: Any, done: threading.Lock) -> None:
        """Run ``job`` on an idle worker (or a new one); ``done`` is held, and released
        when the job ends."""
        with cls._idle_lock:
            worker = cls._idle.pop() if cls._idle else None
        if worker is None:
            worker = cls()
            worker.start()
        worker.name = f"fetch-{name}"
        worker._jobs.put((job, done))

    def run(self) -> None:
        while True:
            job, done = self._jobs.get()
            try:
                job()
            finally:
                done.release()
            # an idle worker keeps nothing of its last fetch (context, result, error)
            del job, done
            with self._idle_lock:
                if len(self._idle) >= self.MAX_IDLE:
                    return
                self.name = "fetch"
                self._idle.append(self)


def _fetch(spec: SourceSpec, ctx: Context, slots: threading.Semaphore | None
           ) -> tuple[Result | None, BaseException | None, bool, float]:
    """(result, error, finished, seconds). Runs the fetch on a daemon thread we can walk
    away from; the seconds count from when it started, not from when it was queued."""
    box: dict[str, Any] = {}
    release = _Once(slots)
    done = threading.Lock()  # a latch: held while the fetch runs (cheaper than an Event)
    done.acquire()

    def run() -> None:
        try:
            box["result"] = _source(spec).fetch(ctx)
        except BaseException as e:  # noqa: BLE001 - everything becomes a failed poll
            # only its class, message and retry_after are read: its traceback (or the one
            # of the error it was raised from) would keep the fetch's frames, and the body
            # read so far, alive in a cycle through ``box``
            e.__context__ = e.__cause__ = None
            box["error"] = e.with_traceback(None)
        finally:
            release()

    if slots is not None:
        slots.acquire()
    started = clock.monotonic()
    _Worker.give(spec.name, run, done)
    budget = ctx.timeout + grace(ctx.timeout)
    finished = done.acquire(timeout=min(SLOW_AFTER, budget))
    if not finished:
        # a slow fetch waits on the network, not on us: let the next one start
        release()
        finished = done.acquire(timeout=max(0.0, budget - SLOW_AFTER))
    if not finished:
        with _abandoned_lock:
            _abandoned[spec.name] = done
        return None, None, False, clock.monotonic() - started
    return box.get("result"), box.get("error"), True, clock.monotonic() - started


def _source(spec: SourceSpec) -> Any:
    """The source object for ``spec``; built once per spec (a spec's options are
    validated already, and a source keeps nothing between runs but its Context.state)."""
    source = _built.get(id(spec))
    if source is not None and source[0] is spec:
        return source[1]
    try:
        built = build_source(spec)
    except KeyError:
        raise SourceError(f"unknown source type {spec.type!r}") from None
    if len(_built) >= _MAX_BUILT:
        _built.clear()
    _built[id(spec)] = (spec, built)
    return built


# specs live as long as their config; a reload brings new ones (and the old ones go)
_MAX_BUILT = 1024
_built: dict[int, tuple[SourceSpec, Any]] = {}


def _still_hung(name: str) -> bool:
    with _abandoned_lock:
        done = _abandoned.get(name)
        if done is not None and not done.locked():
            del _abandoned[name]
            return False
        return done is not None


def _error_text(e: BaseException) -> str:
    if isinstance(e, SourceError):
        return str(e) or "failed"
    return described(e)


def _readings(name: str, result: Result, secrets: tuple[str, ...], warnings: list[str]
              ) -> list[Reading]:
    out = []
    for r in result.readings:
        value, label = r.value, r.text
        if value is not None:
            try:
                value = float(value)
            except (TypeError, ValueError):
                warnings.append(f"{r.field}: not a number: {str(value)[:40]!r}")
                continue
            if not math.isfinite(value):
                warnings.append(f"{r.field}: not a finite number")
                continue
        if label is not None:
            label = redact(_plain(label), secrets)[:MAX_TEXT_LEN]
        if value is None and label is None:
            warnings.append(f"{r.field}: no value")
            continue
        out.append(Reading(f"{name}.{r.field}", value, label, r.unit))
    return out


def poll_source(spec: SourceSpec, *, home: Home, store: Store, secrets: tuple[str, ...] = (),
                now: datetime | None = None,
                _slots: threading.Semaphore | None = None) -> PollOutcome:
    """Run ``spec`` once and record it. Never raises: even the store failing (a full
    disk) comes back as a failed outcome, and is logged as an error."""
    try:
        return _poll_source(spec, home, store, tuple(secrets), now, _slots)
    except Exception as e:
        error = one_line(f"recording the poll failed: {_error_text(e)}", secrets)
        log.error("source.record_failed", source=spec.name, error=error)
        return PollOutcome(spec.name, ok=False, error=error)


def _poll_source(spec: SourceSpec, home: Home, store: Store, secrets: tuple[str, ...],
                 now: datetime | None, _slots: threading.Semaphore | None) -> PollOutcome:
    name = spec.name
    if _still_hung(name):
        return PollOutcome(name, ok=False, skipped="its previous run is still hung")
    now = now or clock.now()
    state = store.source_state(name)
    data = dict(state.data)
    # the source sees the validators where it expects them, in its own state
    for key, value in (("etag", state.etag), ("last_modified", state.last_modified)):
        if value and key not in data:
            data[key] = value
    timeout = spec.timeout.total_seconds()
    ctx = Context(home=home.root, timeout=timeout, now=now, state=data, secrets=tuple(secrets))

    result, exc, finished, duration = _fetch(spec, ctx, _slots)

    warnings: list[str] = []
    error: str | None = None
    retry_after: float | None = None
    if not finished:
        error = f"timed out after {text.duration(timeout)}"
    elif exc is not None:
        error = _error_text(exc)
        retry_after = getattr(exc, "retry_after", None)
    elif not isinstance(result, Result):
        error = f"source returned {type(result).__name__}, not a Result"
    ok = error is None

    readings: list[Reading] = []
    items: list[NewItem] = []
    poll_note: str | None = None
    if ok and isinstance(result, Result):  # ok: it is one (checked above)
        readings = _readings(name, result, secrets, warnings)
        items = [NewItem(it.uid, _plain(it.title or ""), it.link, it.published,
                         _plain(it.summary or "")) for it in result.items]
        warnings.extend(result.warnings)
        field_errors = [f"{k}: {v}" for k, v in result.field_errors.items()]
        if field_errors:
            # an ok poll with a note: the run worked, some fields did not
            poll_note = one_line("; ".join(field_errors), secrets)
            warnings[:0] = field_errors
    else:
        poll_note = one_line(error or "", secrets)
    warnings = [one_line(w, secrets, 200) for w in warnings]

    failures = state.consecutive_failures or 0
    failing_since = state.failing_since
    health: StateChange
    if ok:
        health = {"consecutive_failures": 0, "failing_since": None, "last_ok": now,
                  "retry_after": None}
    else:
        health = {"consecutive_failures": failures + 1,
                  "failing_since": failing_since if failures else now,
                  "last_error": poll_note, "last_error_ts": now,
                  "retry_after": (now + timedelta(seconds=retry_after)
                                  if retry_after and retry_after > 0 else None)}
    if finished and ok:
        # an abandoned fetch may still scribble on ctx.state: only a finished one is kept;
        # most polls change none of it, and then it is not encoded and written again
        etag, modified = data.get("etag") or None, data.get("last_modified") or None
        if etag != state.etag:
            health["etag"] = etag
        if modified != state.last_modified:
            health["last_modified"] = modified
        if data != state.data:
            health["data"] = data

    new = store.record_run(name, now, ok=ok, error=poll_note, duration=round(duration, 4),
                           readings=readings, items=items, state=health)

    if not ok and failures == 0:
        log.warning("source.failing", source=name, error=poll_note)
    elif ok and failures:
        log.info("source.recovered", source=name, failures=failures,
                 down_for=text.duration(round((now - failing_since).total_seconds()))
                 if failing_since else None)
    if warnings:
        log.debug("source.warnings", source=name, warnings=warnings)

    return PollOutcome(name, ok=ok, error=poll_note if not ok else None, readings=readings,
                       new_items=len(new), duration=duration, warnings=warnings,
                       retry_after=retry_after)


def poll_round(specs: Iterable[SourceSpec], *, home: Home, store: Store,
               secrets: tuple[str, ...] = (), max_workers: int = 16) -> list[PollOutcome]:
    """Poll every spec now, concurrently; outcomes in the order given.

    At most ``max_workers`` fetches start at once; a fetch still going after
    ``SLOW_AFTER`` seconds gives its slot back (it waits on the network, not on the
    CPU), so hung sources cannot starve the healthy ones.
    """
    specs = list(specs)
    if not specs:
        return []
    slots = threading.BoundedSemaphore(max(1, max_workers))
    # one coordinator per source (they mostly wait); the semaphore bounds real work
    with ThreadPoolExecutor(max_workers=len(specs), thread_name_prefix="poll") as pool:
        futures = [pool.submit(poll_source, spec, home=home, store=store, secrets=tuple(secrets),
                               _slots=slots)
                   for spec in specs]
        return [f.result() for f in futures]
