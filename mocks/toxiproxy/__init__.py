"""Toxiproxy 2.x compatible server in pure Python (HTTP API on 8474 + TCP proxies).

Mirrors Shopify/toxiproxy v2.12: same routes, status codes, JSON shapes and error texts,
same toxic semantics (latency, bandwidth, slow_close, timeout, reset_peer, slicer,
limit_data), toxicity rolled once per connection from a seeded random source.

Layout: `_api` (HTTP routes) -> `_collection` (proxies by name, /populate) -> `_proxy`
(listener, connections, toxic collection) -> `_link` (one direction of a connection, runs
each chunk through the current toxic chain) -> `_toxic` (the toxic interface, as upstream's
toxics/toxic.go: a toxic's per-connection stub, its chunks, its wrapper and the registry of
types); `_toxics` (one class per toxic type) registers into that registry, and `_api`
imports it; `_endpoint` is the asyncio protocol of each socket (below `_link`); `_gojson`
(Go's JSON scanner and Marshal), `_decode` + `_structs` (decoding into upstream's structs)
and `_errors` reproduce Go's JSON handling and upstream's error texts; `_routing` is
gorilla/mux's clean-path redirect and route matching.
"""

UPSTREAM_VERSION = "2.12.0"
DEFAULT_VERSION = f"{UPSTREAM_VERSION}-compatible"

__all__ = ["DEFAULT_VERSION", "UPSTREAM_VERSION"]
