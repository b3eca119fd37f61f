"""Every route and error of the Toxiproxy 2.x HTTP API, through raw HTTP (httpx)."""

from __future__ import annotations

import socket

import httpx
import pytest

from ._helpers import EchoServer, add_toxic, create_proxy

PLAIN = "text/plain; charset=utf-8"


def assert_error(response: httpx.Response, status: int, message: str) -> None:
    """Upstream error shape: `{"error", "status"}` sent through Go's http.Error."""
    assert response.status_code == status, response.text
    assert response.json() == {"error": message, "status": status}
    assert response.headers["content-type"] == PLAIN
    assert response.text.endswith("\n")


def test_version(api: httpx.Client) -> None:
    response = api.get("/version")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    assert response.json() == {"version": "2.12.0-compatible"}
    assert len(response.headers["x-toxiproxy-request-id"]) == 20


def test_create_proxy_returns_201_and_real_listen(api: httpx.Client, echo: EchoServer) -> None:
    response = api.post(
        "/proxies", json={"name": "db", "listen": "127.0.0.1:0", "upstream": echo.address}
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    # proxy.go: the untagged `Logger *zerolog.Logger` field marshals as "Logger":{}
    assert list(body) == ["name", "listen", "upstream", "enabled", "Logger", "toxics"]
    host, port = body["listen"].rsplit(":", 1)
    assert host == "127.0.0.1"
    assert int(port) > 0
    assert body == {
        "name": "db",
        "listen": body["listen"],
        "upstream": echo.address,
        "enabled": True,
        "Logger": {},
        "toxics": [],
    }


def test_create_disabled_proxy_keeps_listen_unbound(api: httpx.Client, echo: EchoServer) -> None:
    body = create_proxy(api, "cold", echo.address, enabled=False)
    assert body["enabled"] is False
    assert body["listen"] == "127.0.0.1:0"


def test_create_proxy_errors(api: httpx.Client, echo: EchoServer) -> None:
    assert_error(
        api.post("/proxies", json={"upstream": echo.address}),
        400,
        "missing required field: name",
    )
    assert_error(api.post("/proxies", json={"name": "x"}), 400, "missing required field: upstream")
    assert_error(api.post("/proxies", content=b""), 400, "bad request body: EOF")
    assert_error(
        api.post("/proxies", json={"name": 5, "upstream": echo.address}),
        400,
        "bad request body: json: cannot unmarshal number into Go struct field Proxy.name"
        " of type string",
    )
    bad = api.post("/proxies", content=b"{nope")
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("bad request body: ")
    create_proxy(api, "dup", echo.address)
    assert_error(
        api.post("/proxies", json={"name": "dup", "upstream": echo.address}),
        409,
        "proxy already exists",
    )


def test_create_proxy_on_busy_port_is_500(api: httpx.Client, echo: EchoServer) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        listen = f"127.0.0.1:{busy.getsockname()[1]}"
        response = api.post(
            "/proxies", json={"name": "busy", "listen": listen, "upstream": echo.address}
        )
    assert_error(response, 500, f"listen tcp {listen}: bind: address already in use")
    assert api.get("/proxies/busy").status_code == 404


def test_list_get_and_delete(api: httpx.Client, echo: EchoServer) -> None:
    a = create_proxy(api, "b_second", echo.address)
    b = create_proxy(api, "a_first", echo.address)
    listing = api.get("/proxies")
    assert listing.status_code == 200
    assert listing.json() == {"a_first": b, "b_second": a}
    assert list(listing.json()) == ["a_first", "b_second"]  # Go sorts map keys
    assert api.get("/proxies/a_first").json() == b
    deleted = api.delete("/proxies/a_first")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(api.get("/proxies/a_first"), 404, "proxy not found")
    assert_error(api.delete("/proxies/a_first"), 404, "proxy not found")


def test_update_proxy_patch_and_deprecated_post(api: httpx.Client, echo: EchoServer) -> None:
    create_proxy(api, "up", echo.address)
    patched = api.patch("/proxies/up", json={"enabled": False})
    assert patched.status_code == 200
    assert patched.json()["enabled"] is False
    posted = api.post("/proxies/up", json={"enabled": True})
    assert posted.status_code == 200
    assert posted.json()["enabled"] is True
    moved = api.patch("/proxies/up", json={"upstream": "127.0.0.1:1"})
    assert moved.json()["upstream"] == "127.0.0.1:1"
    assert_error(api.patch("/proxies/ghost", json={}), 404, "proxy not found")
    assert_error(
        api.patch("/proxies/up", json={"enabled": "yes"}),
        400,
        "bad request body: json: cannot unmarshal string into Go struct field Proxy.enabled"
        " of type bool",
    )


def test_toxic_crud(api: httpx.Client, echo: EchoServer) -> None:
    create_proxy(api, "tx", echo.address)
    created = api.post(
        "/proxies/tx/toxics", json={"type": "latency", "attributes": {"latency": 50}}
    )
    assert created.status_code == 200  # upstream answers 200, not 201
    toxic = created.json()
    assert list(toxic) == ["attributes", "name", "type", "stream", "toxicity"]
    assert toxic == {
        "attributes": {"latency": 50, "jitter": 0},
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1,
    }
    second = add_toxic(
        api, "tx", name="cut", type="limit_data", stream="upstream", toxicity=0.5,
        attributes={"bytes": 10},
    )  # fmt: skip
    assert second["toxicity"] == 0.5
    listing = api.get("/proxies/tx/toxics")
    assert listing.status_code == 200
    assert [t["name"] for t in listing.json()] == ["cut", "latency_downstream"]  # upstream first
    assert api.get("/proxies/tx").json()["toxics"] == listing.json()
    assert api.get("/proxies/tx/toxics/cut").json() == second

    updated = api.patch("/proxies/tx/toxics/latency_downstream", json={"attributes": {"jitter": 5}})
    assert updated.status_code == 200
    assert updated.json()["attributes"] == {"latency": 50, "jitter": 5}
    posted = api.post("/proxies/tx/toxics/cut", json={"toxicity": 1})
    assert posted.json()["toxicity"] == 1
    assert posted.json()["attributes"] == {"bytes": 10}

    deleted = api.delete("/proxies/tx/toxics/cut")
    assert deleted.status_code == 204
    assert [t["name"] for t in api.get("/proxies/tx/toxics").json()] == ["latency_downstream"]


@pytest.mark.parametrize(
    ("toxic_type", "attributes"),
    [
        ("latency", {"latency": 0, "jitter": 0}),
        ("bandwidth", {"rate": 0}),
        ("slow_close", {"delay": 0}),
        ("timeout", {"timeout": 0}),
        ("reset_peer", {"timeout": 0}),
        ("slicer", {"average_size": 0, "size_variation": 0, "delay": 0}),
        ("limit_data", {"bytes": 0}),
        ("noop", {}),
    ],
)
def test_every_toxic_type_and_its_default_attributes(
    api: httpx.Client, echo: EchoServer, toxic_type: str, attributes: dict[str, int]
) -> None:
    create_proxy(api, "types", echo.address)
    toxic = add_toxic(api, "types", type=toxic_type, stream="upstream")
    assert toxic["name"] == f"{toxic_type}_upstream"
    assert toxic["attributes"] == attributes


def test_toxic_errors(api: httpx.Client, echo: EchoServer) -> None:
    create_proxy(api, "bad", echo.address)
    assert_error(api.post("/proxies/bad/toxics", json={"type": "nope"}), 400, "invalid toxic type")
    assert_error(
        api.post("/proxies/bad/toxics", json={"type": "latency", "stream": "sideways"}),
        400,
        "stream was invalid, can be either upstream or downstream",
    )
    assert_error(
        api.post("/proxies/bad/toxics", json={"type": "latency", "attributes": {"latency": 1.5}}),
        400,
        "bad request body: json: cannot unmarshal number 1.5 into Go struct field"
        " LatencyToxic.attributes.latency of type int64",
    )
    assert_error(api.post("/proxies/bad/toxics", content=b""), 400, "bad request body: EOF")
    add_toxic(api, "bad", type="latency")
    assert_error(
        api.post("/proxies/bad/toxics", json={"type": "latency"}), 409, "toxic already exists"
    )
    assert_error(
        api.post("/proxies/ghost/toxics", json={"type": "latency"}), 404, "proxy not found"
    )
    assert_error(api.get("/proxies/ghost/toxics"), 404, "proxy not found")
    assert_error(api.get("/proxies/bad/toxics/ghost"), 404, "toxic not found")
    assert_error(api.get("/proxies/ghost/toxics/ghost"), 404, "proxy not found")
    assert_error(api.patch("/proxies/bad/toxics/ghost", json={}), 404, "toxic not found")
    assert_error(api.delete("/proxies/bad/toxics/ghost"), 404, "toxic not found")
    assert_error(api.delete("/proxies/ghost/toxics/ghost"), 404, "proxy not found")


def test_stream_is_case_insensitive_and_kept_as_sent(api: httpx.Client, echo: EchoServer) -> None:
    create_proxy(api, "case", echo.address)
    toxic = add_toxic(api, "case", type="latency", stream="UpStream")
    assert toxic["stream"] == "UpStream"
    assert toxic["name"] == "latency_UpStream"


def test_reset_enables_proxies_and_removes_toxics(api: httpx.Client, echo: EchoServer) -> None:
    create_proxy(api, "r1", echo.address)
    add_toxic(api, "r1", type="latency", attributes={"latency": 10})
    api.patch("/proxies/r1", json={"enabled": False})
    response = api.post("/reset")
    assert response.status_code == 204
    assert response.content == b""
    proxy = api.get("/proxies/r1").json()
    assert proxy["enabled"] is True
    assert proxy["toxics"] == []


def test_populate_creates_keeps_and_replaces(api: httpx.Client, echo: EchoServer) -> None:
    response = api.post(
        "/populate",
        json=[
            {"name": "p1", "listen": "127.0.0.1:0", "upstream": echo.address},
            {"name": "p2", "listen": "127.0.0.1:0", "upstream": echo.address, "enabled": False},
        ],
    )
    assert response.status_code == 201
    p1, p2 = response.json()["proxies"]
    assert list(response.json()) == ["proxies"]
    assert p1["enabled"] is True
    assert p2["enabled"] is False
    add_toxic(api, "p1", type="latency")

    again = api.post(
        "/populate",
        json=[
            {"name": "p1", "listen": p1["listen"], "upstream": echo.address},  # unchanged
            {"name": "p2", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"},  # changed
        ],
    )
    assert again.status_code == 201
    kept, replaced = again.json()["proxies"]
    assert kept["toxics"] != []  # the same proxy object, its toxics intact
    assert replaced["upstream"] == "127.0.0.1:1"
    assert replaced["enabled"] is True


def test_populate_errors_include_proxies(api: httpx.Client, echo: EchoServer) -> None:
    missing = api.post("/populate", json=[{"name": "ok", "upstream": echo.address}, {"name": "x"}])
    assert missing.status_code == 400
    assert missing.json() == {
        "error": "missing required field: upstream at proxy 2",
        "status": 400,
        "proxies": None,
    }
    assert api.get("/proxies").json() == {}  # validated before creating anything

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        listen = f"127.0.0.1:{busy.getsockname()[1]}"
        failed = api.post(
            "/populate",
            json=[
                {"name": "first", "listen": "127.0.0.1:0", "upstream": echo.address},
                {"name": "second", "listen": listen, "upstream": echo.address},
            ],
        )
    assert failed.status_code == 500
    body = failed.json()
    assert body["error"] == f"listen tcp {listen}: bind: address already in use"
    assert body["status"] == 500
    assert [p["name"] for p in body["proxies"]] == ["first"]
    not_a_list = api.post("/populate", content=b"{}")
    assert not_a_list.status_code == 400
    assert not_a_list.headers["content-type"] == "application/json"
    assert not_a_list.json() == {
        "error": "bad request body: json: cannot unmarshal object into Go value of type"
        ' []struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }',
        "status": 400,
        "proxies": None,
    }


def test_populate_empty_list(api: httpx.Client) -> None:
    response = api.post("/populate", json=[])
    assert response.status_code == 201
    assert response.json() == {"proxies": None}  # Go marshals the nil slice as null


def test_unknown_routes_and_methods(api: httpx.Client) -> None:
    missing = api.get("/nope")
    assert missing.status_code == 404
    assert missing.text == "404 page not found\n"
    assert api.get("/proxies/").status_code == 404  # no slash redirects in gorilla/mux
    wrong = api.put("/proxies")
    assert wrong.status_code == 405
    assert wrong.content == b""


def test_browsers_are_refused(api: httpx.Client) -> None:
    response = api.get("/proxies", headers={"User-Agent": "Mozilla/5.0"})
    assert response.status_code == 403
    assert response.text == "User agent not allowed\n"
