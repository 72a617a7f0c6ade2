"""The URL guard: schemes, every refused address class, injected DNS answers, exact allowed endpoints."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from streams.infra.url_guard import UrlGuard, UrlRefused, address_class


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),  # Python files 240/4 under private before reserved
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "ipv4-mapped"),
        ("::ffff:8.8.8.8", "ipv4-mapped"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
        ("2002:7f00:1::", "6to4 loopback"),
        ("192.0.2.10", "private"),
        ("4000::1", "reserved"),
    ],
)
def test_non_public_addresses_are_classified(address: str, kind: str) -> None:
    assert address_class(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "203.0.114.1"])
def test_public_addresses_pass(address: str) -> None:
    assert address_class(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/feed",
        "gopher://x/",
        "http://127.0.0.1:8080/",
        "http://[::1]/",
        "http://10.0.0.1/",
    ],
)
def test_check_url_refuses_other_schemes_and_private_literals(url: str) -> None:
    with pytest.raises(UrlRefused):
        UrlGuard().check_url(url)


def test_check_url_accepts_public_urls_and_private_ones_when_allowed() -> None:
    assert str(UrlGuard().check_url("https://example.com/rss")) == "https://example.com/rss"
    assert UrlGuard(allow_private_networks=True).check_url("http://127.0.0.1:8080/").port == 8080


def test_refusal_names_the_host_the_address_and_the_setting() -> None:
    with pytest.raises(UrlRefused) as caught:
        UrlGuard().check_address(ipaddress.ip_address("10.0.0.5"), 80, "intranet.example")
    assert caught.value.reason == "refused"
    assert str(caught.value) == (
        "refused: intranet.example (10.0.0.5) is a private address (set allow_private_networks to allow it)"
    )


class FakeDns(AbstractResolver):
    """Answers every lookup with fixed addresses (what a hostile DNS server would say)."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses
        self.asked: list[tuple[str, int]] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append((host, port))
        return [
            ResolveResult(hostname=host, host=a, port=port, family=family, proto=0, flags=0) for a in self.addresses
        ]

    async def close(self) -> None:
        """Nothing to release."""


async def test_resolver_passes_public_answers_through() -> None:
    dns = FakeDns("93.184.215.14")
    answers = await UrlGuard().resolver(dns).resolve("news.example", 443)
    assert [a["host"] for a in answers] == ["93.184.215.14"]


@pytest.mark.parametrize(
    "answers", [("10.0.0.1",), ("93.184.215.14", "127.0.0.1"), ("::ffff:10.0.0.1",), ("fe80::1%eth0",)]
)
async def test_resolver_refuses_a_host_with_any_private_answer(answers: tuple[str, ...]) -> None:
    with pytest.raises(UrlRefused, match=r"news\.example"):
        await UrlGuard().resolver(FakeDns(*answers)).resolve("news.example", 443)


async def test_allowed_endpoints_let_exactly_one_address_and_port_through() -> None:
    guard = UrlGuard(allowed_endpoints=[("127.0.0.1", 8080)])
    assert await guard.resolver(FakeDns("127.0.0.1")).resolve("localhost", 8080)
    with pytest.raises(UrlRefused):
        await guard.resolver(FakeDns("127.0.0.1")).resolve("localhost", 8081)
    with pytest.raises(UrlRefused):
        guard.check_url("http://127.0.0.2:8080/")
    assert guard.check_url("http://127.0.0.1:8080/feed").path == "/feed"
