"""The demo's world: Open-Meteo, an Ethereum node and Moltbook, faked on loopback.

`reverie demo` must stay offline, yet its dream should speak of what an agent's dream is
about: the weather, its money, its reputation. So the demo starts this small world on
127.0.0.1 (an ephemeral port, a stdlib server in a thread) and points the real weather,
wallet and moltbook sources at it. Each endpoint answers in the real service's response
shape; :meth:`World.advance` moves the world on between poll rounds (a storm comes in,
the wallet drops, the karma jumps), so the digest has real events to dream of.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ADDRESS = "0x00000000219ab540356cBB839Cbe05303d7705Fa"
API_KEY = "demo-key"  # not a secret: the fake Moltbook only checks that one is sent

FORECAST_PATH = "/v1/forecast"
RPC_PATH = "/rpc"
MOLTBOOK_PATH = "/api/v1/home"


@dataclass(frozen=True)
class Moment:
    """The world at one poll round."""

    temperature: float  # °C
    wind: float  # km/h
    precipitation: float  # mm
    code: int  # WMO weather code
    wei: int
    karma: int
    followers: int
    unread: int


ETH = 10 ** 18
# dawn is grey; by the second round a thunderstorm has come in, the wallet has lost 40 %
# and a post has drawn a crowd (+313 karma); by the afternoon the rain is lighter
MOMENTS = [
    Moment(6.4, 14.0, 0.0, 3, 1_250_000_000_000_000_000, 1284, 310, 2),
    Moment(5.1, 52.0, 6.2, 95, 750_000_000_000_000_000, 1597, 338, 9),
    Moment(4.8, 23.0, 0.8, 61, 752_000_000_000_000_000, 1603, 341, 4),
]


class World:
    """A running fake world; use as a context manager (it stops its server on exit)."""

    def __init__(self, moments: list[Moment] | None = None):
        self.moments = list(moments or MOMENTS)
        self.round = 0
        self.requests: list[str] = []  # "GET /v1/forecast": what the sources asked for
        self._lock = threading.Lock()
        world = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                world._get(self)

            def do_POST(self) -> None:  # noqa: N802
                world._post(self)

            def log_message(self, *args) -> None:  # the demo prints its own story
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-world",
                                        daemon=True)

    def __enter__(self) -> "World":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server (bytes are an AF_UNIX address)
        return f"http://{host}:{port}"

    @property
    def now(self) -> Moment:
        with self._lock:
            return self.moments[min(self.round, len(self.moments) - 1)]

    def advance(self) -> Moment:
        """The world moves on to its next moment (it stays at the last one)."""
        with self._lock:
            self.round = min(self.round + 1, len(self.moments) - 1)
        return self.now

    def sources_yaml(self, indent: str = "  ") -> str:
        """The config's source entries for the real weather, wallet and moltbook sources."""
        return "".join(f"{indent}- {line}\n" for line in (
            f"{{name: weather, type: weather, latitude: 52.52, longitude: 13.41, "
            f"url: \"{self.base}{FORECAST_PATH}\", every: 30m}}",
            f"{{name: wallet, type: wallet, chain: ethereum, address: \"{ADDRESS}\", "
            f"url: \"{self.base}{RPC_PATH}\", every: 1h}}",
            f"{{name: moltbook, type: moltbook, api_key: {API_KEY}, "
            f"url: \"{self.base}{MOLTBOOK_PATH}\", every: 15m}}",
        ))

    # -- the endpoints ----------------------------------------------------------------

    def _send(self, h: BaseHTTPRequestHandler, status: int, doc: dict) -> None:
        body = json.dumps(doc).encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _get(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        self.requests.append(f"GET {url.path}")
        if url.path == FORECAST_PATH:
            self._send(h, 200, self._forecast(parse_qs(url.query)))
        elif url.path == MOLTBOOK_PATH:
            if h.headers.get("Authorization") != f"Bearer {API_KEY}":
                self._send(h, 401, {"success": False, "error": "Authentication required"})
            else:
                self._send(h, 200, self._moltbook_home())
        else:
            self._send(h, 404, {"error": "not found"})

    def _post(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        self.requests.append(f"POST {url.path}")
        try:
            n = min(int(h.headers.get("Content-Length") or 0), 65536)
            call = json.loads(h.rfile.read(n) or b"{}")
        except (ValueError, json.JSONDecodeError):
            call = {}
        if url.path != RPC_PATH:
            self._send(h, 404, {"error": "not found"})
            return
        rid = call.get("id") if isinstance(call, dict) else None
        if isinstance(call, dict) and call.get("method") == "eth_getBalance":
            self._send(h, 200, {"jsonrpc": "2.0", "id": rid, "result": hex(self.now.wei)})
        else:
            self._send(h, 200, {"jsonrpc": "2.0", "id": rid,
                                "error": {"code": -32601, "message": "the method does not exist"}})

    def _forecast(self, query: dict[str, list[str]]) -> dict:
        """Open-Meteo's /v1/forecast answer with ``current=...`` (metric units)."""
        m = self.now
        t = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        t = t.replace(minute=t.minute - t.minute % 15)
        values = {"temperature_2m": m.temperature, "apparent_temperature": round(m.temperature - 2.5, 1),
                  "precipitation": m.precipitation, "wind_speed_10m": m.wind,
                  "cloud_cover": 100 if m.code >= 3 else 20, "relative_humidity_2m": 88,
                  "weather_code": m.code}
        units = {"temperature_2m": "°C", "apparent_temperature": "°C", "precipitation": "mm",
                 "wind_speed_10m": "km/h", "cloud_cover": "%", "relative_humidity_2m": "%",
                 "weather_code": "wmo code"}
        asked = [v for v in ",".join(query.get("current", [])).split(",") if v in values]
        return {
            "latitude": float(query.get("latitude", ["52.52"])[0]),
            "longitude": float(query.get("longitude", ["13.41"])[0]),
            "generationtime_ms": 0.05, "utc_offset_seconds": 0, "timezone": "GMT",
            "timezone_abbreviation": "GMT", "elevation": 38.0,
            "current_units": {"time": "iso8601", "interval": "seconds",
                              **{v: units[v] for v in asked}},
            "current": {"time": t.strftime("%Y-%m-%dT%H:%M"), "interval": 900,
                        **{v: values[v] for v in asked}},
        }

    def _moltbook_home(self) -> dict:
        """Moltbook's /api/v1/home: the account in ``your_account``."""
        m = self.now
        return {
            "success": True,
            "your_account": {"name": "demo-agent", "karma": m.karma,
                             "follower_count": m.followers,
                             "unread_notification_count": m.unread},
            "activity_on_your_posts": [],
            "what_to_do_next": ["Read your feed", "Reply to your notifications"],
        }
