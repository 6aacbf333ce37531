"""wallet: native balances over Ethereum JSON-RPC, Solana JSON-RPC and Esplora."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from _sources_fixtures import make_ctx, run, units, values
from reverie.perception.sources import SourceError
from reverie.perception.sources.wallet import Wallet

ETH = "0x00000000219ab540356cBB839Cbe05303d7705Fa"
SOL = "Hb2HDX6tnRfw5j442npy58Z2GBzJA58Nz7ipouWGT63p"
BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


def test_ethereum_balance_is_hex_wei_in_eth(server, ctx):
    server.expect_request("/rpc", method="POST", json={
        "jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": [ETH, "latest"]}
    ).respond_with_json({"jsonrpc": "2.0", "id": 1, "result": "0x1bc16d674ec80000"})  # 2 ETH
    result = run(Wallet, ctx, chain="ethereum", url=server.url_for("/rpc"), address=ETH)
    assert values(result) == {"balance": 2.0} and units(result) == {"balance": "ETH"}


def test_an_evm_chain_can_name_its_coin(server, ctx):
    server.expect_request("/rpc", method="POST").respond_with_json(
        {"jsonrpc": "2.0", "id": 1, "result": "0x6f05b59d3b20000"})  # 0.5
    result = run(Wallet, ctx, chain="ethereum", url=server.url_for("/rpc"), address=ETH, symbol="POL")
    assert values(result) == {"balance": 0.5} and units(result) == {"balance": "POL"}


def test_solana_balance_is_lamports_in_sol(server, ctx):
    server.expect_request("/", method="POST").respond_with_json(
        {"jsonrpc": "2.0", "result": {"context": {"apiVersion": "2.0.15", "slot": 341197053},
                                      "value": 1_500_000_000}, "id": 1})
    result = run(Wallet, ctx, chain="solana", url=server.url_for("/"), address=SOL)
    assert values(result) == {"balance": 1.5} and units(result) == {"balance": "SOL"}
    sent = json.loads(server.log[0][0].data)
    assert sent["method"] == "getBalance" and sent["params"][0] == SOL


def test_bitcoin_balance_is_funded_minus_spent_in_btc(server, ctx):
    server.expect_request(f"/api/address/{BTC}").respond_with_json({
        "address": BTC,
        "chain_stats": {"funded_txo_count": 12, "funded_txo_sum": 250_000_000,
                        "spent_txo_count": 5, "spent_txo_sum": 125_000_000, "tx_count": 15},
        "mempool_stats": {"funded_txo_count": 0, "funded_txo_sum": 0, "spent_txo_count": 0,
                          "spent_txo_sum": 0, "tx_count": 0}})
    result = run(Wallet, ctx, chain="bitcoin", url=server.url_for("/api"), address=BTC)
    assert values(result) == {"balance": 1.25} and units(result) == {"balance": "BTC"}


def test_a_jsonrpc_error_with_http_200_is_a_failure(server, ctx):
    server.expect_request("/rpc", method="POST").respond_with_json(
        {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "header not found"}})
    with pytest.raises(SourceError, match=r"^JSON-RPC error from 127\.0\.0\.1:\d+: header not found \(code -32000\)$"):
        run(Wallet, ctx, chain="ethereum", url=server.url_for("/rpc"), address=ETH)


def test_a_result_that_is_not_hex_is_a_failure(server, ctx):
    server.expect_request("/rpc", method="POST").respond_with_json({"jsonrpc": "2.0", "id": 1, "result": None})
    with pytest.raises(SourceError, match="returned no hex balance"):
        run(Wallet, ctx, chain="ethereum", url=server.url_for("/rpc"), address=ETH)


def test_an_esplora_404_fails(server, ctx):
    server.expect_request(f"/address/{BTC}").respond_with_data("Invalid Bitcoin address", status=400)
    with pytest.raises(SourceError, match=r"^HTTP 400 from 127\.0\.0\.1:\d+$"):
        run(Wallet, ctx, chain="bitcoin", url=server.url_for("/"), address=BTC)


def test_an_html_page_where_rpc_json_was_expected(server, ctx):
    server.expect_request("/rpc", method="POST").respond_with_data("<html>Bad gateway</html>",
                                                                   content_type="text/html")
    with pytest.raises(SourceError, match="^expected JSON, got text/html"):
        run(Wallet, ctx, chain="ethereum", url=server.url_for("/rpc"), address=ETH)


def test_a_rate_limited_rpc_carries_retry_after(server, ctx):
    server.expect_request("/rpc", method="POST").respond_with_data(
        "", status=429, headers={"Retry-After": "10"})
    with pytest.raises(SourceError) as e:
        run(Wallet, ctx, chain="ethereum", url=server.url_for("/rpc"), address=ETH)
    assert e.value.retry_after == 10


def test_an_rpc_url_with_a_key_never_shows_the_key(tmp_path, closed_port_url):
    key = "a1b2c3d4e5f6"
    ctx = make_ctx(tmp_path, secrets=(key,))
    with pytest.raises(SourceError) as e:
        run(Wallet, ctx, chain="ethereum", url=f"{closed_port_url}v2/{key}", address=ETH)
    assert key not in str(e.value) and str(e.value).startswith("connection refused by 127.0.0.1:")


def test_a_hanging_rpc_times_out(server, release, tmp_path):
    server.expect_request("/rpc", method="POST").respond_with_handler(lambda r: release.wait(5) and None)
    with pytest.raises(SourceError, match="^timed out"):
        run(Wallet, make_ctx(tmp_path, timeout=0.5), chain="ethereum", url=server.url_for("/rpc"),
            address=ETH)


def test_ethereum_needs_a_url():
    with pytest.raises(ValidationError, match="needs `url`"):
        Wallet.Options(chain="ethereum", address=ETH)


def test_solana_and_bitcoin_have_public_default_urls():
    assert Wallet.Options(chain="solana", address=SOL).url.startswith("https://")
    assert Wallet.Options(chain="bitcoin", address=BTC).url.startswith("https://")


@pytest.mark.parametrize("chain,address", [("ethereum", "0x123"), ("bitcoin", "../../admin"),
                                           ("solana", "0OIl" * 10)])
def test_a_malformed_address_is_a_config_error(chain, address):
    with pytest.raises(ValidationError, match="is not a"):
        Wallet.Options(chain=chain, address=address, url="http://127.0.0.1/")
