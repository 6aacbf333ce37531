"""The one place reverie speaks HTTP: timeouts, body caps, redirects, conditional GET, Retry-After.

Every HTTP source goes through :func:`fetch`. It fails with a one-line
:class:`~perception.sources.SourceError` that names the host only: URLs often carry keys
(``?apikey=…``, ``https://user:pass@…``, RPC URLs with a project id), so they never appear
in a message, and any of ``secrets`` is replaced by ``***`` as well.
"""

from __future__ import annotations

import functools
import json
import ipaddress
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from urllib.parse import urljoin, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reverie.memory import bounded_json
from reverie.memory import clock
from reverie.perception.redact import redact
from reverie.perception.errors import SourceError
from reverie.perception.text import byte_size as _fmt_bytes, duration as _fmt_seconds

if TYPE_CHECKING:
    import requests

# requests (and urllib3) are imported by the functions that speak HTTP: validating a
# config with HTTP sources, as `reverie status` does, must not cost their import

MiB = 1024 * 1024
DEFAULT_MAX_BYTES = 5 * MiB
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
_ERROR_BODY_BYTES = 64 * 1024  # read this much of an error page, for its reason
_CONNECT_TIMEOUT = 5.0  # seconds; a port that does not answer should fail well before the budget
# where a redirect may never lead: link-local holds the cloud metadata service
# (169.254.169.254), whose answers are credentials. The URL a source is configured with is
# the operator's choice and is not checked; only where a server sends us is.
DENIED_NETWORKS: tuple[str, ...] = ("169.254.0.0/16", "fe80::/10")


@functools.cache  # at the first session, not at import: reading the package metadata costs ms
def _user_agent() -> str:
    try:
        from importlib.metadata import version

        return f"reverie/{version('reverie')}"
    except Exception:
        return "reverie"


class HttpOptions(BaseModel):
    """The options every HTTP source shares; a type's Options inherit them."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="the URL to fetch")
    headers: dict[str, str] = Field(default={},
                                    description="request headers (use ${VAR} for tokens; never "
                                                "sent to another host)")
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0,
                           description="cap on the (decompressed) body")

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # the URL itself is not echoed: it may hold a key
            raise ValueError("expected an http:// or https:// URL with a host")
        return v


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes = b""
    host: str = ""
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""  # media type only, lower case: 'application/json'
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def json(self) -> Any:
        return parse_json(self)


def host_of(url: str) -> str:
    """'host' or 'host:port' of a URL, without user info, path or query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "?"


def _fail(message: str, secrets: Iterable[str], retry_after: float | None = None,
          status: int | None = None) -> SourceError:
    return SourceError(redact(message, secrets), retry_after=retry_after, status=status)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds from now: a number of seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        when: datetime = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - clock.now()).total_seconds())


def _connection_message(err: BaseException, host: str, timeout: float) -> str:
    import requests
    import urllib3

    text = repr(err)
    if isinstance(err, (requests.exceptions.ConnectTimeout,)):
        return f"timed out connecting to {host}"
    if isinstance(err, (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError,
                        socket.timeout, TimeoutError)):
        return f"timed out after {_fmt_seconds(timeout)} waiting for {host}"
    if isinstance(err, requests.exceptions.SSLError):
        return f"TLS error talking to {host}"
    if "Connection refused" in text or "ConnectionRefusedError" in text:
        return f"connection refused by {host}"
    if "NameResolutionError" in text or "Name or service not known" in text \
            or "nodename nor servname" in text or "Temporary failure in name resolution" in text:
        return f"cannot resolve host {host}"
    if "reset" in text.lower():
        return f"connection reset by {host}"
    if "timed out" in text.lower():
        return f"timed out after {_fmt_seconds(timeout)} waiting for {host}"
    if "RemoteDisconnected" in text or "IncompleteRead" in text or "ProtocolError" in text:
        return f"connection to {host} closed before the response was complete"
    return f"cannot connect to {host}"


def _reason(body: bytes) -> str:
    """A short human reason out of an error body, when it is JSON that has one."""
    try:
        obj = bounded_json.loads(body)
    except ValueError:
        return ""
    if isinstance(obj, dict):
        for key in ("reason", "message", "error_description", "error", "detail"):
            val = obj.get(key)
            if isinstance(val, dict):
                val = val.get("message")
            if isinstance(val, str) and val.strip():
                return " ".join(val.split())[:200]
    return ""


def fetch(
    url: str,
    *,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    method: str = "GET",
    json_body: Any = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    etag: str | None = None,
    last_modified: str | None = None,
    secrets: Iterable[str] = (),
    deny: Iterable[str] | None = None,
) -> Response:
    """One HTTP request, all of it (redirects, headers and body) within ``timeout`` seconds.

    A redirect to another origin drops every header the caller configured (any of them may
    hold a key) and is refused when it would re-send a body; a redirect to an address in
    ``deny`` (default :data:`DENIED_NETWORKS`) is refused before any connection is made.

    The body is capped at ``max_bytes`` counted after decompression. A 304 comes back as
    ``not_modified``; 429 and 503 raise with ``retry_after``; any other status >= 400 raises.
    """
    import requests

    secrets = tuple(s for s in secrets if s)
    denied = _networks(tuple(DENIED_NETWORKS if deny is None else deny))
    configured = {k.lower() for k in (headers or {})}
    host = host_of(url)
    deadline = clock.monotonic() + timeout

    # User-Agent and Accept-Encoding are the session's own (see _take_session); these go
    # on top of them (_send)
    send = dict(headers or {})
    if etag:
        send["If-None-Match"] = etag
    if last_modified:
        send["If-Modified-Since"] = last_modified

    session = _take_session()
    try:
        # redirects are followed here, not by requests: each hop gets only what is left of
        # the budget, a redirect's own body is never read, and credentials stay with the
        # host they were written for
        for _hop in range(MAX_REDIRECTS + 1):
            left = deadline - clock.monotonic()
            if left <= 0:
                raise _fail(f"timed out after {_fmt_seconds(timeout)} waiting for {host}", secrets)
            try:
                resp = _send(session, method, url, send, json_body,
                             (min(_CONNECT_TIMEOUT, left), left))
            except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                    requests.exceptions.InvalidSchema, ValueError):
                raise _fail(f"invalid URL for {host}", secrets) from None
            except requests.exceptions.RequestException as e:
                raise _fail(_connection_message(e, host, timeout), secrets) from None

            with resp:
                target = _redirect_target(resp, url)
                if target is None:
                    return _finish(resp, host, timeout, deadline, max_bytes, secrets)
            if urlsplit(target).scheme not in ("http", "https"):
                raise _fail(f"{host} redirected to a URL that is not http(s)", secrets)
            if resp.status_code == 303 or (resp.status_code in (301, 302) and method == "POST"):
                method, json_body = "GET", None
            if _origin(target) != _origin(url):
                if json_body is not None:
                    raise _fail(f"{host} redirected a request with a body to another host; "
                                f"not followed", secrets)
                for name in [k for k in send if k.lower() in configured
                             or k.lower() in ("authorization", "cookie", "proxy-authorization")]:
                    del send[name]
            _check_address(target, host, denied, secrets)
            url, host = target, host_of(target)
        raise _fail(f"too many redirects from {host} (more than {MAX_REDIRECTS})", secrets)
    finally:
        _give_back(session)


def _send(session: requests.Session, method: str, url: str, headers: dict[str, str],
          json_body: Any, timeout: tuple[float, float]) -> requests.Response:
    """One request, no redirect followed, the body left to stream.

    What ``Session.request`` does, less what reverie has no use for: it merges the
    session's settings into each request through requests' generic checks (a runtime
    Protocol isinstance per setting, about 55 µs a poll: bench P2), and ``Session.send``
    adds hooks and redirect bookkeeping that :func:`fetch` does itself. The session's
    headers, cookie jar (cookies a redirect's hop set go on to the next hop, by the jar's
    domain rules), adapter, TLS verification and the environment's proxies are all kept.
    """
    import requests
    from requests.cookies import extract_cookies_to_jar

    prep = requests.PreparedRequest()
    # the configured headers win over the session's, whatever their case (prepare_headers
    # stores them case-insensitively, the later one last)
    prep.prepare(method=method, url=url, headers={**session.headers, **headers},
                 json=json_body, cookies=session.cookies)
    assert prep.url is not None  # prepare() set it
    # reverie never unsets verification; a None (possible by requests' types) would turn it off
    verify = True if session.verify is None else session.verify
    resp = session.get_adapter(prep.url).send(
        prep, stream=True, timeout=timeout, verify=verify, cert=session.cert,
        proxies=_proxies_for(url))
    extract_cookies_to_jar(session.cookies, prep, resp.raw)
    return resp


@functools.lru_cache(maxsize=16)
def _networks(nets: tuple[str, ...]) -> tuple[Any, ...]:
    # parsing the two default networks cost 13 µs a fetch (bench P2)
    return tuple(ipaddress.ip_network(n) for n in nets)


# -- sessions and proxies ---------------------------------------------------------------
# A session per request cost a connection pool's setup and a new TCP connection every
# poll, and requests' proxy lookup scanned os.environ twice per request (bench P2,
# docs/performance.md). Idle sessions are kept for reuse instead: a connection whose body
# was read to the end goes back to its session's pool (keep-alive), any other is closed.

_MAX_IDLE_SESSIONS = 8  # about the number of fetches that run at once
_idle: list[requests.Session] = []
_idle_lock = threading.Lock()


def _take_session() -> requests.Session:
    import requests

    with _idle_lock:
        if _idle:
            return _idle.pop()
    session = requests.Session()
    # no ~/.netrc credentials slip in; proxies from the environment are honoured by
    # _proxies_for
    session.trust_env = False
    session.headers.update({"User-Agent": _user_agent(), "Accept-Encoding": "gzip, deflate"})
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=1)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _give_back(session: requests.Session) -> None:
    # nothing a server set (cookies) outlives the fetch, as with a fresh session
    session.cookies.clear()
    with _idle_lock:
        if len(_idle) < _MAX_IDLE_SESSIONS:
            _idle.append(session)
            return
    session.close()


_env_proxies: dict[str, str] | None = None


def _proxies_for(url: str) -> dict[str, str]:
    """The proxies the environment names for ``url`` (``HTTPS_PROXY``, ``NO_PROXY``…).

    The environment is read once per process (the daemon's is fixed at start, by systemd's
    ``Environment=``); with no proxy configured, as on most hosts, that is the whole cost.
    """
    global _env_proxies
    if _env_proxies is None:
        import urllib.request

        _env_proxies = urllib.request.getproxies_environment()
    if not any(k != "no" for k in _env_proxies):
        return {}
    import requests

    return requests.utils.get_environ_proxies(url)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _check_address(target: str, host: str, denied: tuple, secrets: tuple[str, ...]) -> None:
    """Refuse a redirect whose host is, or resolves to, an address in ``denied``."""
    if not denied:
        return
    parts = urlsplit(target)
    name = parts.hostname or ""
    try:
        addrs = {ipaddress.ip_address(name.split("%")[0])}
    except ValueError:
        try:
            infos = socket.getaddrinfo(name, parts.port or 80, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return  # the request itself will fail with a one-line reason
        addrs = {ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos}
    for addr in addrs:
        # [::ffff:169.254.169.254] is 169.254.169.254: judge the IPv4 address it carries
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        if any(addr.version == n.version and addr in n for n in denied):
            raise _fail(f"{host} redirected to {host_of(target)}, a denied address "
                        f"({addr}); not followed", secrets)


def _redirect_target(resp: requests.Response, url: str) -> str | None:
    if resp.status_code not in (301, 302, 303, 307, 308):
        return None
    location = resp.headers.get("Location")
    if not location:
        return None
    return urljoin(url, location)


def _finish(resp: requests.Response, host: str, timeout: float, deadline: float,
            max_bytes: int, secrets: tuple[str, ...]) -> Response:
    status = resp.status_code
    out = Response(
        status=status,
        headers=resp.headers,
        host=host,
        etag=resp.headers.get("ETag"),
        last_modified=resp.headers.get("Last-Modified"),
        content_type=resp.headers.get("Content-Type", "").split(";")[0].strip().lower(),
        secrets=secrets,
    )
    if status == 304:
        out.not_modified = True
        return out
    if status in (429, 503):
        wait = retry_after_seconds(resp.headers.get("Retry-After"))
        hint = f" (retry after {_fmt_seconds(wait)})" if wait is not None else ""
        raise _fail(f"HTTP {status} from {host}{hint}", secrets, retry_after=wait, status=status)
    if status >= 400:
        try:
            reason = _reason(_read(resp, host, timeout, deadline, _ERROR_BODY_BYTES, secrets,
                                   truncate=True))
        except SourceError:
            reason = ""
        raise _fail(f"HTTP {status} from {host}" + (f": {reason}" if reason else ""), secrets,
                    status=status)

    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and "Content-Encoding" not in resp.headers \
            and int(declared) > max_bytes:
        raise _fail(f"response from {host} is over the {_fmt_bytes(max_bytes)} cap", secrets)
    out.body = _read(resp, host, timeout, deadline, max_bytes, secrets)
    return out


def _read(resp: requests.Response, host: str, timeout: float, deadline: float,
          max_bytes: int, secrets: tuple[str, ...], truncate: bool = False) -> bytes:
    """The decoded body, failing past ``max_bytes`` or past the deadline.

    read1 returns after at most one read from the socket, and the socket's timeout is cut
    to what is left of the budget before each read, so a server dripping a byte at a time
    cannot stretch the request beyond ``timeout``.
    """
    import requests
    import urllib3

    raw = resp.raw
    sock = _socket_of(raw)
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            left = deadline - clock.monotonic()
            if left <= 0:
                raise _fail(f"timed out after {_fmt_seconds(timeout)} reading from {host}", secrets)
            if sock is not None:
                sock.settimeout(left)
            chunk = raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                if truncate:
                    chunks.append(chunk)
                    break
                raise _fail(f"response from {host} is over the {_fmt_bytes(max_bytes)} cap", secrets)
            chunks.append(chunk)
    except SourceError:
        raise
    except (urllib3.exceptions.DecodeError, requests.exceptions.ContentDecodingError):
        raise _fail(f"cannot decode the compressed response from {host}", secrets) from None
    except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException, OSError) as e:
        if clock.monotonic() >= deadline or "timed out" in repr(e).lower():
            raise _fail(f"timed out after {_fmt_seconds(timeout)} reading from {host}", secrets) from None
        raise _fail(_connection_message(e, host, timeout), secrets) from None
    body = b"".join(chunks)
    return body[:max_bytes] if truncate else body


def _socket_of(raw: Any) -> socket.socket | None:
    # urllib3 keeps the connection on the response while it streams; when that changes in a
    # later version we fall back to the per-read timeout alone.
    try:
        sock = raw.connection.sock
        return sock if isinstance(sock, socket.socket) else None
    except AttributeError:
        return None


# -- bodies -------------------------------------------------------------------------

_JSON_TYPES = ("application/json", "text/json", "application/javascript")


def parse_json(resp: Response) -> Any:
    """The body as JSON; an HTML page or broken JSON raises a one-line SourceError."""
    host = resp.host or "?"
    text = resp.body.strip()
    if not text:
        raise _fail(f"expected JSON, got an empty response from {host}", resp.secrets)
    try:
        return bounded_json.loads(text)
    except UnicodeDecodeError:
        raise _fail(f"expected JSON, got undecodable bytes from {host}", resp.secrets) from None
    except ValueError as e:
        ctype = resp.content_type
        if ctype and not (ctype in _JSON_TYPES or ctype.endswith("+json")):
            raise _fail(f"expected JSON, got {ctype} from {host}", resp.secrets) from None
        if text[:1] == b"<":
            raise _fail(f"expected JSON, got HTML or XML from {host}", resp.secrets) from None
        detail = getattr(e, "msg", "") or "parse error"
        where = (f" (line {e.lineno}, column {e.colno})"
                 if isinstance(e, json.JSONDecodeError) else "")
        raise _fail(f"invalid JSON from {host}: {detail}{where}", resp.secrets) from None


def check_jsonrpc(obj: Any, host: str, secrets: Iterable[str] = ()) -> Any:
    """The ``result`` of a JSON-RPC 2.0 response; an ``error`` (even with HTTP 200) raises."""
    if not isinstance(obj, dict):
        raise _fail(f"expected a JSON-RPC response object from {host}", secrets)
    err = obj.get("error")
    if err is not None:
        if isinstance(err, dict):
            msg = " ".join(str(err.get("message") or "no message").split())[:200]
            code = err.get("code")
            text = f"{msg} (code {code})" if code is not None else msg
        else:
            text = " ".join(str(err).split())[:200]
        raise _fail(f"JSON-RPC error from {host}: {text}", secrets)
    if "result" not in obj:
        raise _fail(f"JSON-RPC response from {host} has no result", secrets)
    return obj["result"]


def rpc(url: str, method: str, params: list | dict, *, timeout: float,
        headers: Mapping[str, str] | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
        secrets: Iterable[str] = ()) -> Any:
    """Call one JSON-RPC 2.0 method over HTTP POST and return its result."""
    secrets = tuple(secrets)
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    resp = fetch(url, timeout=timeout, headers=headers, method="POST", json_body=body,
                 max_bytes=max_bytes, secrets=secrets)
    return check_jsonrpc(parse_json(resp), resp.host, secrets)
