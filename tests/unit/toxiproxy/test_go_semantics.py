"""Conformance: bodies, numbers, routes and errors as upstream's Go code handles them.

Upstream is Shopify/toxiproxy v2.12.0 (the release `/version` names), built with Go's
encoding/json, net and net/http and gorilla/mux v1.8.1. Each case names where the real
behaviour lives; every expected text here was also checked against a real v2.12.0 server
built from source, side by side with the stand-in.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from toxiproxy import Toxiproxy
from toxiproxy.exceptions import InvalidToxic

from ._helpers import EchoServer, ToxiproxyProcess, add_toxic, connect, create_proxy, round_trip

BAD = "bad request body: "


@pytest.fixture
def client(toxiproxy: ToxiproxyProcess) -> Iterator[Toxiproxy]:
    """toxiproxy-python pointed at the stand-in."""
    server = Toxiproxy()
    server.update_api_consumer("127.0.0.1", toxiproxy.port)
    yield server


@pytest.fixture
def proxy_with_toxic(api: httpx.Client, echo: EchoServer) -> dict[str, object]:
    """Proxy `p` with a latency toxic `lat` (latency 5)."""
    create_proxy(api, "p", echo.address)
    return add_toxic(api, "p", name="lat", type="latency", attributes={"latency": 5})


def error_of(response: httpx.Response) -> str:
    """The `error` text of an upstream error body."""
    return str(response.json()["error"])


def refused(response: httpx.Response) -> str:
    """The error text of a 400 answer (fails on any other status)."""
    assert response.status_code == 400, response.text
    return error_of(response)


# --- null bodies ---------------------------------------------------------------------


def test_null_create_body_is_a_proxy_without_name(api: httpx.Client) -> None:
    # api.go ProxyCreate: json.Decode(null) leaves the struct as is, so the name check fails
    response = api.post("/proxies", content=b"null")
    assert response.status_code == 400
    assert response.json() == {"error": "missing required field: name", "status": 400}


def test_null_proxy_update_changes_nothing(api: httpx.Client, echo: EchoServer) -> None:
    # api.go ProxyUpdate: the input defaults to the proxy's fields; null keeps them
    before = create_proxy(api, "p", echo.address)
    response = api.patch("/proxies/p", content=b"null")
    assert response.status_code == 200
    assert response.json() == before


def test_null_toxic_update_changes_nothing(
    api: httpx.Client, proxy_with_toxic: dict[str, object]
) -> None:
    # toxic_collection.go UpdateToxicJson: null leaves attributes and toxicity as they were
    response = api.patch("/proxies/p/toxics/lat", content=b"null")
    assert response.status_code == 200
    assert response.json() == proxy_with_toxic


def test_null_populate_creates_nothing(api: httpx.Client) -> None:
    # proxy_collection.go PopulateJson: null is a nil slice; api.go Populate marshals
    # the empty result of proxiesWithToxics as null
    response = api.post("/populate", content=b"null")
    assert response.status_code == 201
    assert response.text == '{"proxies":null}'


def test_null_populate_item_is_a_proxy_without_name(api: httpx.Client) -> None:
    # proxy_collection.go PopulateJson: `[null]` is one zero proxy, refused by name
    response = api.post("/populate", content=b"[null]")
    assert refused(response) == "missing required field: name at proxy 1"


# --- numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "accepted"),
    [
        ("9223372036854775807", True),
        ("-9223372036854775808", True),
        ("9223372036854775808", False),
        ("-9223372036854775809", False),
        ("1e20", False),
        ("1.5", False),
        ("1e3", False),
    ],
)
def test_int64_attributes_take_integer_literals_in_range(
    api: httpx.Client, echo: EchoServer, literal: str, accepted: bool
) -> None:
    # toxics/latency.go LatencyToxic.Latency is int64; encoding/json decode.go literalStore
    # runs strconv.ParseInt on the literal and reports `number <literal>` when it fails
    create_proxy(api, "p", echo.address)
    body = f'{{"type":"latency","attributes":{{"latency":{literal}}}}}'
    response = api.post("/proxies/p/toxics", content=body.encode())
    if accepted:
        assert response.status_code == 200
        assert response.json()["attributes"]["latency"] == int(literal)
        return
    assert refused(response) == (
        f"{BAD}json: cannot unmarshal number {literal} into Go struct field"
        " LatencyToxic.attributes.latency of type int64"
    )
    assert api.get("/proxies/p/toxics").json() == []


def test_overflowing_latency_from_toxiproxy_python_is_refused(
    client: Toxiproxy, echo: EchoServer
) -> None:
    # Same literalStore path; Python's json writes 1e20 as `1e+20`, Go quotes the literal
    proxy = client.create(upstream=echo.address, name="p")
    with pytest.raises(InvalidToxic) as refused:
        proxy.add_toxic(type="latency", attributes={"latency": 1e20})
    assert b"cannot unmarshal number 1e+20 into Go struct field" in refused.value.args[0]
    assert proxy.toxics() == {}


def test_latency_duration_wraps_like_go(api: httpx.Client, echo: EchoServer) -> None:
    # toxics/latency.go delay(): time.Duration(MaxInt64) * time.Millisecond wraps to -1 ms,
    # so the chunk is written at once (a stand-in computing the real 292-million-year delay
    # would hold it, and round_trip's 5 s socket timeout would fail)
    proxy = create_proxy(api, "p", echo.address)
    latency = {"latency": 2**63 - 1}
    add_toxic(api, "p", type="latency", attributes=latency)
    with connect(str(proxy["listen"])) as sock:
        round_trip(sock)


def test_toxicity_overflowing_float32_is_refused(api: httpx.Client, echo: EchoServer) -> None:
    # toxics/toxic.go ToxicWrapper.Toxicity is float32; strconv.ParseFloat(s, 32) overflows
    create_proxy(api, "p", echo.address)
    response = api.post("/proxies/p/toxics", content=b'{"type":"latency","toxicity":1e39}')
    assert refused(response) == (
        f"{BAD}json: cannot unmarshal number 1e39 into Go struct field"
        " ToxicWrapper.toxicity of type float32"
    )


@pytest.mark.parametrize(
    ("literal", "echoed"),
    [
        ("0.123456789", "0.12345679"),
        ("123456789", "123456790"),
        ("1e-7", "1e-7"),
        ("1e-50", "0"),
        ("-0", "-0"),
        ("3.4e38", "3.4e+38"),
    ],
)
def test_toxicity_is_stored_and_echoed_as_float32(
    api: httpx.Client, echo: EchoServer, literal: str, echoed: str
) -> None:
    # toxics/toxic.go Toxicity float32; encoding/json encode.go floatEncoder(32) writes the
    # shortest float32 form ('e' below 1e-6 or from 1e21, `e-07` trimmed to `e-7`)
    create_proxy(api, "p", echo.address)
    body = f'{{"type":"latency","toxicity":{literal}}}'.encode()
    response = api.post("/proxies/p/toxics", content=body)
    assert response.status_code == 200
    assert response.text.endswith(f'"toxicity":{echoed}}}')


def test_toxicity_read_back_by_toxiproxy_python_is_float32(
    client: Toxiproxy, echo: EchoServer
) -> None:
    # Same float32 field: what a client reads back is the float32 value, not its input
    proxy = client.create(upstream=echo.address, name="p")
    proxy.add_toxic(type="latency", name="lat", toxicity=0.123456789, attributes={"latency": 1})
    assert proxy.toxics()["lat"].toxicity == 0.12345679


# --- JSON syntax and type errors -----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "EOF"),
        (b"  ", "EOF"),
        (b"{", "unexpected EOF"),
        (b'{"name":"a"', "unexpected EOF"),
        (b"nul", "unexpected EOF"),
        (b'{"name":"a",}', "invalid character '}' looking for beginning of object key string"),
        (b"{'name':'a'}", "invalid character '\\'' looking for beginning of object key string"),
        (b'{"name" "a"}', "invalid character '\"' after object key"),
        (b'{"name":"a" "b":1}', "invalid character '\"' after object key:value pair"),
        (b'{"a":[1 2]}', "invalid character '2' after array element"),
        (b"nulx", "invalid character 'x' in literal null (expecting 'l')"),
        (b"trux", "invalid character 'x' in literal true (expecting 'e')"),
        (b"-x", "invalid character 'x' in numeric literal"),
        (b'{"a":1.}', "invalid character '}' after decimal point in numeric literal"),
        (b'{"a":1e}', "invalid character '}' in exponent of numeric literal"),
        (b'{"a":01}', "invalid character '1' after object key:value pair"),
        (b'"\\x"', "invalid character 'x' in string escape code"),
        (b'"\\u12zz"', "invalid character 'z' in \\u hexadecimal character escape"),
        (b'"a\nb"', "invalid character '\\n' in string literal"),
        (b'"\x01"', "invalid character '\\x01' in string literal"),
        (b"NaN", "invalid character 'N' looking for beginning of value"),
        ("\ufeff{}".encode(), "invalid character 'ï' looking for beginning of value"),
    ],
)
def test_syntax_errors_are_worded_as_encoding_json(
    api: httpx.Client, body: bytes, message: str
) -> None:
    # encoding/json scanner.go (stateBeginValue, stateInString, ... and quoteChar);
    # stream.go Decoder.Decode gives `EOF` on an empty body, `unexpected EOF` mid-value
    response = api.post("/proxies", content=body)
    assert refused(response) == BAD + message


def test_bytes_after_the_first_value_are_ignored(api: httpx.Client, echo: EchoServer) -> None:
    # encoding/json stream.go Decoder.Decode reads one value and leaves the rest unread
    body = f'{{"name":"p","upstream":"{echo.address}"}} trailing {{'.encode()
    assert api.post("/proxies", content=body).status_code == 201


def test_type_errors_follow_key_order_and_last_key_wins(
    api: httpx.Client, echo: EchoServer
) -> None:
    # encoding/json decode.go object(): each key picks its field (exact name, then folded),
    # values are stored in key order, the first type error is returned at the end
    up = f'"upstream":"{echo.address}"'
    wrong = api.post("/proxies", content=f'{{"name":1,"name":"n",{up}}}'.encode())
    assert refused(wrong) == (
        f"{BAD}json: cannot unmarshal number into Go struct field Proxy.name of type string"
    )
    kept = api.post("/proxies", content=f'{{"Name":"n","NAME":"m",{up}}}'.encode())
    assert kept.status_code == 201
    assert kept.json()["name"] == "m"


def test_logger_key_is_decoded_into_upstreams_logger_field(
    api: httpx.Client, echo: EchoServer
) -> None:
    # proxy.go Proxy.Logger (*zerolog.Logger, no json tag) is a decodable struct field
    body = f'{{"name":"n","upstream":"{echo.address}","Logger":1}}'.encode()
    response = api.post("/proxies", content=body)
    assert refused(response) == (
        f"{BAD}json: cannot unmarshal number into Go struct field Proxy.Logger"
        " of type zerolog.Logger"
    )


def test_attributes_of_the_wrong_kind_name_the_noop_toxic(
    api: httpx.Client, echo: EchoServer
) -> None:
    # toxic_collection.go AddToxicJson decodes the wrapper first, while its Toxic is a NoopToxic
    create_proxy(api, "p", echo.address)
    response = api.post("/proxies/p/toxics", content=b'{"type":"latency","attributes":5}')
    assert refused(response) == (
        f"{BAD}json: cannot unmarshal number into Go struct field ToxicWrapper.attributes"
        " of type toxics.NoopToxic"
    )


def test_failed_toxic_update_keeps_the_fields_decoded_before_the_error(
    api: httpx.Client, proxy_with_toxic: dict[str, object]
) -> None:
    # toxic_collection.go UpdateToxicJson decodes into the live toxic (a pointer): Go stores
    # every valid field, then reports the bad one; the toxicity (a copy) is not applied
    body = b'{"toxicity":0.5,"attributes":{"jitter":3,"latency":"x"}}'
    response = api.patch("/proxies/p/toxics/lat", content=body)
    assert refused(response) == (
        f"{BAD}json: cannot unmarshal string into Go struct field LatencyToxic.attributes.latency"
        " of type int64"
    )
    toxic = api.get("/proxies/p/toxics/lat").json()
    assert toxic["attributes"] == {"latency": 5, "jitter": 3}
    assert toxic["toxicity"] == 1


def test_populate_type_errors_name_the_anonymous_struct(api: httpx.Client) -> None:
    # proxy_collection.go PopulateJson decodes into []struct{ Proxy; Enabled *bool }
    response = api.post("/populate", content=b'[{"name":1}]')
    assert refused(response) == (
        f"{BAD}json: cannot unmarshal number into Go struct field .name of type string"
    )


# --- routing (gorilla/mux v1.8.1) ----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("//proxies", "/proxies"),
        ("//proxies?x=1", "/proxies?x=1"),
        ("/./version", "/version"),
        ("/proxies/%2e%2e/version", "/version"),
        ("/proxies/p//", "/proxies/p/"),
    ],
)
def test_unclean_paths_redirect_permanently(
    toxiproxy: ToxiproxyProcess, path: str, location: str
) -> None:
    # gorilla/mux v1.8.1 mux.go Router.ServeHTTP + cleanPath: 301 before routing
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", toxiproxy.port), timeout=5) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head = reply.split(b"\r\n\r\n", 1)[0].decode().lower()
    assert head.startswith("http/1.1 301")
    assert f"\r\nlocation: {location}\r\n".lower() in head + "\r\n"
    assert "x-toxiproxy-request-id" not in head


def test_browser_block_applies_only_on_matched_routes(api: httpx.Client) -> None:
    # api.go stopBrowsersMiddleware is added with Router.Use: mux runs middlewares only
    # for a matched route, so unknown paths and wrong methods answer as usual
    browser = {"User-Agent": "Mozilla/5.0"}
    blocked = api.get("/version", headers=browser)
    assert (blocked.status_code, blocked.text) == (403, "User agent not allowed\n")
    assert api.get("/nope", headers=browser).status_code == 404
    assert api.put("/proxies", headers=browser).status_code == 405


def test_request_id_only_on_matched_routes(api: httpx.Client) -> None:
    # api.go Routes: hlog.RequestIDHandler is a mux middleware too
    assert "x-toxiproxy-request-id" in api.get("/proxies/none").headers  # route matched: 404
    assert "x-toxiproxy-request-id" not in api.get("/nope").headers
    assert "x-toxiproxy-request-id" not in api.delete("/proxies").headers  # 405
    assert "server" not in api.get("/version").headers  # net/http sends no Server header


def test_any_method_token_is_routed(toxiproxy: ToxiproxyProcess) -> None:
    # net/http accepts any token as a method; mux then finds no route for `get`: 405
    with socket.create_connection(("127.0.0.1", toxiproxy.port), timeout=5) as sock:
        sock.sendall(b"get /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 405")


# --- listen errors (Go's net.Listen) -------------------------------------------------


@pytest.mark.parametrize(
    ("listen", "message"),
    [
        ("nohostport", "listen tcp: address nohostport: missing port in address"),
        ("127.0.0.1:99999", "listen tcp: address 99999: invalid port"),
        ("127.0.0.1:-1", "listen tcp: address -1: invalid port"),
        ("[::1", "listen tcp: address [::1: missing ']' in address"),
        ("1:2:3", "listen tcp: address 1:2:3: too many colons in address"),
        ("127.0.0.1:nosuchsvc", "listen tcp: address tcp/nosuchsvc: unknown port"),
    ],
)
def test_listen_errors_are_worded_as_net_listen(
    api: httpx.Client, echo: EchoServer, listen: str, message: str
) -> None:
    # proxy.go Proxy.listen: net.Listen("tcp", ...) errors (net/ipsock.go SplitHostPort,
    # net/port.go parsePort, net/lookup.go LookupPort) become api.go's 500 error body
    body = {"name": "n", "listen": listen, "upstream": echo.address}
    response = api.post("/proxies", json=body)
    assert response.status_code == 500
    assert response.json() == {"error": message, "status": 500}


def test_busy_port_is_worded_as_bind_error(api: httpx.Client, echo: EchoServer) -> None:
    # net.Listen's OpError: `listen tcp <resolved address>: bind: <errno text>`
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        listen = f"127.0.0.1:{holder.getsockname()[1]}"
        body = {"name": "n", "listen": listen, "upstream": echo.address}
        response = api.post("/proxies", json=body)
    assert response.status_code == 500
    assert error_of(response) == f"listen tcp {listen}: bind: address already in use"


def test_update_resolve_errors_have_no_listen_prefix(api: httpx.Client, echo: EchoServer) -> None:
    # proxy.go Proxy.Differs: net.ResolveTCPAddr's error, before any listen
    create_proxy(api, "p", echo.address)
    response = api.patch("/proxies/p", json={"listen": "nohostport"})
    assert response.status_code == 500
    assert error_of(response) == "address nohostport: missing port in address"


# --- the Logger key ------------------------------------------------------------------


def test_every_proxy_carries_an_empty_logger_object(
    api: httpx.Client, client: Toxiproxy, echo: EchoServer
) -> None:
    # proxy.go Proxy.Logger has no json tag and zerolog.Logger no exported fields: "Logger":{}
    # after "enabled" (api.go proxyToxics embeds *Proxy, then its toxics)
    created = client.create(upstream=echo.address, name="p")
    assert created.name == "p"
    shown = api.get("/proxies/p").text
    assert '"enabled":true,"Logger":{},"toxics":[]' in shown
    assert api.get("/proxies").json()["p"]["Logger"] == {}
    populated = api.post("/populate", json=[{"name": "q", "upstream": echo.address}]).json()
    assert populated["proxies"][0]["Logger"] == {}


def test_strings_marshal_as_go_1_22_does(api: httpx.Client, echo: EchoServer) -> None:
    # encoding/json encode.go appendString: HTML characters and U+2028 as \u escapes; since
    # Go 1.22 (v2.12.0's go.mod asks for 1.23) \b and \f as short escapes
    body = f'{{"name":"<b\\b\\f\\u2028\\u0001","upstream":"{echo.address}"}}'.encode()
    response = api.post("/proxies", content=body)
    assert response.status_code == 201
    assert response.text.startswith('{"name":"\\u003cb\\b\\f\\u2028\\u0001",')


def test_keys_match_fields_with_unicode_case_folding(api: httpx.Client, echo: EchoServer) -> None:
    # encoding/json decode.go object(): a key without an exact field matches by case folding,
    # Unicode included (U+017F LATIN SMALL LETTER LONG S folds to "s")
    create_proxy(api, "p", echo.address)
    body = b'{"type":"latency","\\u017ftream":"upstream"}'
    response = api.post("/proxies/p/toxics", content=body)
    assert response.status_code == 200
    assert response.json()["stream"] == "upstream"
