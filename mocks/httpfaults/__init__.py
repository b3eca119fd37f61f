"""The HTTP fault layer: an HTTP/1.1 hop between Toxiproxy and every HTTP backend.

Each route is one Toxiproxy proxy's HTTP leg (`litellm--gw0` → LiteLLM), so a rule on a route
touches one worker's requests and nobody else's: the worker's proxy is the scope, not a header.
Requests and responses pass through unbuffered as the bytes arrive (chunked bodies, SSE and
WebSocket included); a rule decides, per request, whether to answer in the backend's place, hold,
delay, reset, truncate, corrupt, slow or cut it. Every exchange goes into the route's journal.

    python -m mocks.httpfaults --host 0.0.0.0 --port 8475 --seed 1234

Modules: `_rules` (what a rule matches and does), `_relay` (one client connection), `_routes`
(the listeners), `_journal` (what went through), `_api` (the control API).
"""
