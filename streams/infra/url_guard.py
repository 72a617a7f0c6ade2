"""The URL guard: which URLs and which network addresses wirewatch may connect to.

Feed URLs come from operators but redirects and DNS answers come from the internet, so the check has to
happen on the address actually connected, on every hop. ``UrlGuard.connector()`` builds an aiohttp
connector whose resolver refuses hosts that resolve to private, loopback, link-local, multicast,
reserved, unspecified or IPv4-mapped addresses; ``check_url`` refuses other schemes and IP-literal hosts
(which aiohttp connects to without asking the resolver). Desk webhooks reuse the same guard.

    guard = UrlGuard(allow_private_networks=settings.allow_private_networks)
    async with aiohttp.ClientSession(connector=guard.connector()) as session:
        guard.check_url(url)        # before every request, including each redirect target
        ...
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from streams.core.errors import WirewatchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOWED_SCHEMES = frozenset({"http", "https"})


class UrlRefused(WirewatchError):
    """The guard refused a URL or a resolved address (scheme, private network, …); the connector reports it as
    the feed failure ``refused``, the desk API as a refused webhook target."""

    reason = "refused"

    def __init__(self, detail: str) -> None:
        super().__init__(f"{self.reason}: {detail}")
        self.detail = detail


def address_class(address: IPAddress) -> str | None:
    """Why ``address`` is not a public internet address (``None`` when it is one)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return "ipv4-mapped"
        if address.sixtofour is not None and (inner := address_class(address.sixtofour)):
            return f"6to4 {inner}"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    )
    return next((name for name, applies in checks if applies), None)


class UrlGuard:
    """Refuses non-http(s) URLs and non-public addresses unless ``allow_private_networks``.

    ``allowed_endpoints`` lets exact ``(address, port)`` pairs through even when the rest of the private
    space is refused (a test server on 127.0.0.1 whose redirects must still be checked).
    """

    def __init__(
        self, *, allow_private_networks: bool = False, allowed_endpoints: Iterable[tuple[str, int]] = ()
    ) -> None:
        self.allow_private_networks = allow_private_networks
        self._allowed_endpoints = frozenset((str(ipaddress.ip_address(h)), p) for h, p in allowed_endpoints)

    def check_url(self, url: URL | str) -> URL:
        """Return ``url`` parsed when it may be fetched; raise ``UrlRefused`` with the reason otherwise."""
        parsed = url if isinstance(url, URL) else URL(url)
        if parsed.scheme not in ALLOWED_SCHEMES:
            raise UrlRefused(f"scheme {parsed.scheme or '(none)'!r} is not http or https: {url}")
        if not parsed.host:
            raise UrlRefused(f"no host in {url}")
        literal = _ip_literal(parsed.host)
        if literal is not None:
            self.check_address(literal, parsed.port or 0, parsed.host)
        return parsed

    def check_resolved(self, url: URL | str) -> URL:
        """``check_url``, and every address the host resolves to now (a new feed or webhook, before it is
        stored; fetches check again on every hop). Blocking: it resolves the name."""
        parsed = self.check_url(url)
        host = parsed.host or ""
        try:
            found = socket.getaddrinfo(host, parsed.port or 443, proto=socket.IPPROTO_TCP)
        except OSError as err:
            raise UrlRefused(f"{host} does not resolve: {err}") from err
        for *_, address in found:
            self.check_address(ipaddress.ip_address(address[0]), parsed.port or 0, host)
        return parsed

    def check_address(self, address: IPAddress, port: int, host: str) -> None:
        """Raise ``UrlRefused`` when ``host`` at ``address`` must not be connected to."""
        if self.allow_private_networks or (str(address), port) in self._allowed_endpoints:
            return
        kind = address_class(address)
        if kind is not None:
            shown = host if host == str(address) else f"{host} ({address})"
            raise UrlRefused(f"{shown} is a {kind} address (set allow_private_networks to allow it)")

    def resolver(self, inner: AbstractResolver | None = None) -> GuardedResolver:
        return GuardedResolver(self, inner)

    def connector(self, **options: object) -> aiohttp.TCPConnector:
        """A TCP connector that only ever connects to addresses this guard accepted."""
        return aiohttp.TCPConnector(resolver=self.resolver(), **options)  # type: ignore[arg-type]


class GuardedResolver(AbstractResolver):
    """Resolves with ``inner`` (aiohttp's threaded resolver by default) and refuses the whole host when
    any answer is refused: a name that also points inside the network is not worth the risk."""

    def __init__(self, guard: UrlGuard, inner: AbstractResolver | None = None) -> None:
        self._guard = guard
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = aiohttp.ThreadedResolver()
        answers = await self._inner.resolve(host, port, family)
        for answer in answers:
            self._guard.check_address(ipaddress.ip_address(answer["host"].split("%")[0]), port, host)
        return answers

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None
