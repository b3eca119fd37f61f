"""A proxy: its listener, its open connections and its toxics (upstream's proxy.go)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from collections.abc import Iterator
from typing import Any

from ._endpoint import Endpoint
from ._errors import TOXIC_ALREADY_EXISTS, TOXIC_NOT_FOUND, ApiError, internal
from ._link import DOWNSTREAM, UPSTREAM, Link
from ._toxic import ToxicWrapper

log = logging.getLogger("mocks.toxiproxy")


class AlreadyStartedError(Exception):
    """Upstream's ErrProxyAlreadyStarted."""


def split_host_port(address: str) -> tuple[str, str]:
    """Go's net.SplitHostPort, with its error texts (net/ipsock.go)."""

    def fail(why: str) -> ApiError:
        return internal(f"address {address}: {why}")

    colon = address.rfind(":")
    if colon < 0:
        raise fail("missing port in address")
    start = end = 0
    if address.startswith("["):
        close = address.find("]")
        if close < 0:
            raise fail("missing ']' in address")
        if close + 1 == len(address):
            raise fail("missing port in address")
        if close + 1 != colon:
            raise fail(
                "too many colons in address"
                if address[close + 1] == ":"
                else "missing port in address"
            )
        host, start, end = address[1:close], 1, close + 1
    else:
        host = address[:colon]
        if ":" in host:
            raise fail("too many colons in address")
    if "[" in address[start:]:
        raise fail("unexpected '[' in address")
    if "]" in address[end:]:
        raise fail("unexpected ']' in address")
    return host, address[colon + 1 :]


def parse_port(service: str) -> int:
    """Go's net.LookupPort: a number (sign allowed) or a service name (net/port.go)."""
    digits = service[1:] if service[:1] in ("+", "-") else service
    if digits and not (digits.isascii() and digits.isdigit()):
        try:
            return socket.getservbyname(service, "tcp")
        except OSError:
            raise internal(f"address tcp/{service}: unknown port") from None
    number = int(digits or "0") * (-1 if service.startswith("-") else 1)
    if not 0 <= number <= 65535:
        raise internal(f"address {service}: invalid port")
    return number


def resolve(address: str) -> tuple[socket.AddressFamily, str, int]:
    """Resolve a `host:port` listen address like Go's ResolveTCPAddr("tcp", ...)."""
    host, port_text = split_host_port(address) if address else ("", "0")
    port = parse_port(port_text)
    if host == "":
        return socket.AF_INET6 if socket.has_ipv6 else socket.AF_INET, "", port
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise internal(f"lookup {host}: no such host") from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)  # Go prefers IPv4 for "tcp"
    family, _, _, _, sockaddr = infos[0]
    return family, str(sockaddr[0]), port


def format_address(family: socket.AddressFamily, host: str, port: int) -> str:
    """Go's TCPAddr.String()."""
    if family == socket.AF_INET6:
        return f"[{host or '::'}]:{port}"
    return f"{host}:{port}"


def bind_listener(address: str) -> tuple[socket.socket, str]:
    """Bind and listen like Go's net.Listen("tcp", address), with its error texts.

    Returns the socket and the real `host:port` (port 0 resolved).
    """
    try:
        family, host, port = resolve(address)
    except ApiError as exc:
        raise internal(f"listen tcp: {exc.message}") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and host == "":
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        shown = format_address(family, host, port) if host else f":{port}"
        raise internal(f"listen tcp {shown}: bind: {reason}") from None
    bound = sock.getsockname()
    return sock, format_address(family, str(bound[0]) if host else "", int(bound[1]))


class Connection:
    """A client socket and its upstream socket, joined by two links."""

    def __init__(self, proxy: Proxy, client: Endpoint, upstream: Endpoint) -> None:
        self.proxy = proxy
        chain = proxy.toxics.chain
        rng = proxy.rng
        closed = self._link_closed
        self.links = (
            Link(UPSTREAM, client, upstream, list(chain[UPSTREAM]), rng, closed),
            Link(DOWNSTREAM, upstream, client, list(chain[DOWNSTREAM]), rng, closed),
        )

    def _link_closed(self, _link: Link) -> None:
        if all(link.out_closed for link in self.links):
            self.proxy.connections.discard(self)

    def drop(self) -> None:
        """Close both sockets at once (proxy disabled, moved or deleted)."""
        for link in self.links:
            link.kill()


class ToxicCollection:
    """The toxics of one proxy, per direction, applied to every open link."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.chain: dict[str, list[ToxicWrapper]] = {UPSTREAM: [], DOWNSTREAM: []}

    def all(self) -> list[ToxicWrapper]:
        """Upstream toxics first, then downstream, each in the order added."""
        return [*self.chain[UPSTREAM], *self.chain[DOWNSTREAM]]

    def find(self, name: str) -> ToxicWrapper | None:
        """The toxic called `name`, if any."""
        for wrapper in self.all():
            if wrapper.name == name:
                return wrapper
        return None

    def add(self, wrapper: ToxicWrapper) -> None:
        """Append a toxic and attach it to the open connections."""
        if self.find(wrapper.name) is not None:
            raise TOXIC_ALREADY_EXISTS
        self.chain[wrapper.direction].append(wrapper)
        for link in self.proxy.links(wrapper.direction):
            link.attach(wrapper)

    def updated(self, wrapper: ToxicWrapper) -> None:
        """Attributes/toxicity of `wrapper` changed: restart it on open links."""
        for link in self.proxy.links(wrapper.direction):
            link.update(wrapper)

    def remove(self, name: str) -> None:
        """Remove a toxic from the proxy and from every open link."""
        wrapper = self.find(name)
        if wrapper is None:
            raise TOXIC_NOT_FOUND
        self.chain[wrapper.direction].remove(wrapper)
        for link in self.proxy.links(wrapper.direction):
            link.detach(wrapper)

    def reset(self) -> None:
        """Remove every toxic."""
        for wrapper in self.all():
            self.remove(wrapper.name)


class Proxy:
    """Listens on `listen` and forwards each connection to `upstream` through its toxics."""

    def __init__(self, name: str, listen: str, upstream: str, rng: random.Random) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.rng = rng
        self.toxics = ToxicCollection(self)
        self.connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._generation = 0
        self._pending: set[Endpoint] = set()  # clients waiting for their upstream
        self._dials: set[asyncio.Task[None]] = set()

    def to_json(self) -> dict[str, Any]:
        """Upstream's proxy JSON including its toxics."""
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "Logger": {},  # upstream's untagged `Logger *zerolog.Logger` (no exported fields)
            "toxics": [w.to_json() for w in self.toxics.all()],
        }

    def _new_endpoint(self) -> Endpoint:
        endpoint = Endpoint()
        endpoint.on_made = self._client_made
        return endpoint

    def links(self, direction: str) -> Iterator[Link]:
        """Open links of one direction."""
        for conn in list(self.connections):
            for link in conn.links:
                if link.direction == direction:
                    yield link

    def differs(self, listen: str, upstream: str) -> bool:
        """Would `listen`/`upstream` change this proxy? (resolves `listen` like upstream)"""
        family, host, port = resolve(listen)
        return self.listen != format_address(family, host, port) or self.upstream != upstream

    async def start(self) -> None:
        """Bind the listener; `listen` then shows the real address."""
        if self.enabled:
            raise AlreadyStartedError
        sock, actual = bind_listener(self.listen)
        self._generation += 1
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._new_endpoint, sock=sock)
        self.listen = actual
        self.enabled = True
        log.info("started proxy %s on %s -> %s", self.name, self.listen, self.upstream)

    def stop(self) -> None:
        """Stop listening and drop every open connection."""
        if not self.enabled:
            return
        self.enabled = False
        self._generation += 1
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in list(self.connections):
            conn.drop()
        self.connections.clear()
        for client in list(self._pending):
            if client.transport is not None:
                client.transport.abort()

    async def update(self, listen: str, upstream: str, enabled: bool) -> None:
        """PATCH semantics of upstream's Proxy.Update."""
        if self.differs(listen, upstream):
            self.stop()
            self.listen = listen
            self.upstream = upstream
        if enabled != self.enabled:
            if enabled:
                await self.start()
            else:
                self.stop()

    def _client_made(self, client: Endpoint) -> None:
        """A client connected: hold its data until the upstream connection is up."""
        transport = client.transport
        assert transport is not None
        transport.pause_reading()
        self._pending.add(client)
        # uvloop starts reading right after connection_made: pause again once it has.
        asyncio.get_running_loop().call_soon(self._hold, client)
        task = asyncio.ensure_future(self._dial(client, self._generation))
        self._dials.add(task)
        task.add_done_callback(self._dials.discard)

    def _hold(self, client: Endpoint) -> None:
        transport = client.transport
        if client in self._pending and transport is not None and not transport.is_closing():
            transport.pause_reading()

    async def _dial(self, client: Endpoint, generation: int) -> None:
        assert client.transport is not None
        loop = asyncio.get_running_loop()
        try:
            host, port = split_host_port(self.upstream)
            _, upstream = await loop.create_connection(Endpoint, host, int(port))
        except (OSError, ValueError, ApiError) as exc:
            log.warning("proxy %s: upstream %s unreachable: %s", self.name, self.upstream, exc)
            client.transport.close()
            return
        finally:
            self._pending.discard(client)
        if generation != self._generation or client.lost:  # disabled/moved, or client gone
            assert upstream.transport is not None
            upstream.transport.abort()
            client.transport.abort()
            return
        conn = Connection(self, client, upstream)
        self.connections.add(conn)
        client.transport.resume_reading()

    async def close(self) -> None:
        """Stop and wait for the listener to close."""
        server = self._server
        self.stop()
        if server is not None:
            with contextlib.suppress(Exception):
                await server.wait_closed()
