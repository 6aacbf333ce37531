"""wallet: the native-coin balance of one address on Ethereum (any EVM chain), Solana or Bitcoin."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from reverie.perception import http
from reverie.perception.http import HttpOptions
from reverie.perception.sources import BaseSource, Context, Reading, Result, SourceError

DEFAULT_URLS = {
    "solana": "https://api.mainnet-beta.solana.com",
    "bitcoin": "https://blockstream.info/api",
}
SYMBOLS = {"ethereum": "ETH", "solana": "SOL", "bitcoin": "BTC"}
DECIMALS = {"ethereum": 18, "solana": 9, "bitcoin": 8}

# the address goes into a URL path (bitcoin) or an RPC call: only what an address can be
_ADDRESS = {
    "ethereum": re.compile(r"0x[0-9a-fA-F]{40}"),
    "solana": re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,44}"),
    "bitcoin": re.compile(r"[a-zA-Z0-9]{25,90}"),
}


def _hex_int(value: Any) -> int | None:
    if isinstance(value, str) and re.fullmatch(r"0x[0-9a-fA-F]+", value):
        return int(value, 16)
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


class Wallet(BaseSource):
    """Native-coin balance of an address: Ethereum/EVM (JSON-RPC), Solana (JSON-RPC), Bitcoin (Esplora).

    Signal `balance`, in whole coins (ETH, SOL, BTC, or `symbol` for another EVM chain).
    ethereum: `url` is any EVM JSON-RPC endpoint (eth_getBalance at "latest").
    solana: JSON-RPC getBalance (default url: the public mainnet endpoint).
    bitcoin: an Esplora API base URL (default blockstream.info/api); the confirmed balance.

    ```yaml
    - name: wallet
      type: wallet
      chain: ethereum
      url: ${BASE_RPC_URL}
      address: "0x00000000219ab540356cBB839Cbe05303d7705Fa"
      symbol: ETH
      every: 1h
    - {name: sol, type: wallet, chain: solana, address: "Hb2HDX6tnRfw5j442npy58Z2GBzJA58Nz7ipouWGT63p"}
    - {name: btc, type: wallet, chain: bitcoin, address: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}
    ```
    """

    type_name: ClassVar[str] = "wallet"

    class Options(HttpOptions):
        chain: Literal["ethereum", "solana", "bitcoin"] = Field(description="ethereum, solana "
                                                                            "or bitcoin")
        address: str = Field(description="the address whose balance is read")
        url: str | None = Field(  # type: ignore[assignment]
            default=None, description="the chain's JSON-RPC endpoint (required for ethereum; "
                                      "use ${VAR} for keyed URLs)")
        symbol: str | None = Field(default=None,
                                   description="the unit shown (default: the chain's coin)")

        @model_validator(mode="after")
        def _check(self) -> "Wallet.Options":
            self.address = self.address.strip()
            if not _ADDRESS[self.chain].fullmatch(self.address):
                raise ValueError(f"{self.address!r} is not a {self.chain} address")
            if self.url is None:
                if self.chain not in DEFAULT_URLS:
                    raise ValueError("chain ethereum needs `url`: the JSON-RPC endpoint of your chain")
                self.url = DEFAULT_URLS[self.chain]
            return self

    options: Options  # validated by the loader (the base class keeps it as a BaseModel)

    def fetch(self, ctx: Context) -> Result:
        o = self.options
        assert o.url is not None
        smallest = {"ethereum": self._ethereum, "solana": self._solana,
                    "bitcoin": self._bitcoin}[o.chain](ctx, o.url)
        coins = Decimal(smallest) / (Decimal(10) ** DECIMALS[o.chain])
        return Result(readings=[Reading("balance", value=float(coins),
                                        unit=o.symbol or SYMBOLS[o.chain])])

    def _rpc(self, ctx: Context, url: str, method: str, params: list) -> Any:
        o = self.options
        return http.rpc(url, method, params, timeout=ctx.timeout, headers=o.headers,
                        max_bytes=o.max_bytes, secrets=ctx.secrets)

    def _ethereum(self, ctx: Context, url: str) -> int:
        result = self._rpc(ctx, url, "eth_getBalance", [self.options.address, "latest"])
        wei = _hex_int(result)
        if wei is None:
            raise SourceError(f"eth_getBalance from {http.host_of(url)} returned no hex balance")
        return wei

    def _solana(self, ctx: Context, url: str) -> int:
        result = self._rpc(ctx, url, "getBalance", [self.options.address, {"commitment": "finalized"}])
        lamports = _int(result.get("value")) if isinstance(result, dict) else _int(result)
        if lamports is None:
            raise SourceError(f"getBalance from {http.host_of(url)} returned no balance")
        return lamports

    def _bitcoin(self, ctx: Context, url: str) -> int:
        o = self.options
        resp = http.fetch(f"{url.rstrip('/')}/address/{o.address}", timeout=ctx.timeout,
                          headers=o.headers, max_bytes=o.max_bytes, secrets=ctx.secrets)
        doc = resp.json()
        stats = doc.get("chain_stats") if isinstance(doc, dict) else None
        funded = _int(stats.get("funded_txo_sum")) if isinstance(stats, dict) else None
        spent = _int(stats.get("spent_txo_sum")) if isinstance(stats, dict) else None
        if funded is None or spent is None:
            raise SourceError(f"no chain_stats with funded and spent sums from {resp.host}")
        return funded - spent
