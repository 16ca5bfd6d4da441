"""Network safety: never fetch private, loopback, link-local or metadata addresses.

Two checks, one rule (``address_refusal``):

* before a request (``check_target``, no DNS): only http/https, a host, no
  metadata host name, no forbidden IP literal. Every redirect hop is a new request
  and is checked again.
* at connect time, on the address the connection will really use
  (``crawler.resolver.SafeResolver``): a name is resolved once, the result is
  checked, and only a checked address is handed to the TCP connect. A name that
  resolves to a public address when first seen and to 127.0.0.1 later (DNS
  rebinding) is refused at the later connect.

``NEWSMON_ALLOW_HOSTS`` (hosts or CIDRs, comma-separated) or a site's
``allow_private: true`` lifts the ban for fixtures and intranet deployments.
``check_url`` does both checks with a blocking lookup. One-off fetches
(``newsmon extract URL``, webhooks) go through ``netsafety.fetch.request_url``, which
resolves once, checks every answer and connects to exactly a checked address.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

# Names that reach a cloud instance's metadata service without a public address.
METADATA_HOSTS = frozenset({
    "metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal",
    "metadata.azure.com", "metadata.tencentyun.com",
})


class UnsafeURLError(Exception):
    def __init__(self, url: str, reason: str):
        super().__init__(f"refusing to fetch {url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class AllowList:
    hosts: frozenset[str] = frozenset()
    networks: tuple[ipaddress._BaseNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> "AllowList":
        hosts, nets = set(), []
        for part in (text or "").split(","):
            part = part.strip().lower()
            if not part:
                continue
            try:
                nets.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                hosts.add(part)
        return cls(frozenset(hosts), tuple(nets))

    @classmethod
    def from_env(cls) -> "AllowList":
        return cls.parse(os.environ.get("NEWSMON_ALLOW_HOSTS"))

    def allows(self, host: str, ip: ipaddress._BaseAddress | None = None) -> bool:
        if host.lower() in self.hosts:
            return True
        return ip is not None and any(ip in net for net in self.networks)


def is_forbidden(ip: ipaddress._BaseAddress) -> bool:
    """Anything not globally routable: private, loopback, link-local (169.254.169.254),
    shared/CGNAT (100.100.100.200, Alibaba Cloud's metadata), reserved, multicast;
    IPv6 forms that embed an IPv4 address are judged by that address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_forbidden(embedded)
    return not ip.is_global or ip.is_multicast


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def parse_ip(text: str) -> ipaddress._BaseAddress | None:
    try:
        return ipaddress.ip_address(text.strip("[]").split("%")[0])
    except ValueError:
        return None


def address_refusal(host: str, ip: ipaddress._BaseAddress, allow: AllowList) -> str | None:
    """Why connecting to ``ip`` (for ``host``) is refused, or None if it is fine."""
    if is_forbidden(ip) and not allow.allows(host, ip):
        return (f"{host} resolves to non-public address {ip} "
                "(set NEWSMON_ALLOW_HOSTS or the site's allow_private to allow it)")
    return None


def check_target(url: str, allow: AllowList, allow_private: bool = False) -> str:
    """The checks that need no DNS; returns the host. Raises ``UnsafeURLError``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(url, f"scheme {parts.scheme!r} is not http or https")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise UnsafeURLError(url, "no host")
    if allow_private or allow.allows(host):
        return host
    if host in METADATA_HOSTS:
        raise UnsafeURLError(url, f"{host} is a cloud metadata host")
    ip = parse_ip(host)
    if ip is not None and (reason := address_refusal(host, ip, allow)):
        raise UnsafeURLError(url, reason)
    return host


def resolve(host: str, port: int | None = None) -> list[tuple]:
    """``getaddrinfo`` results for a TCP connection (blocking)."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def vet_addresses(url: str, host: str, infos: list[tuple], allow: AllowList) -> list[tuple]:
    """The ``getaddrinfo`` answers for ``host`` if *every* one is allowed; else raise.

    One forbidden answer refuses the name: a resolver that mixes a public address
    with 127.0.0.1 is an attack, whichever of the two a client would try first."""
    if not infos:
        raise UnsafeURLError(url, f"{host} has no address")
    for info in infos:
        ip = parse_ip(info[4][0])
        reason = address_refusal(host, ip, allow) if ip is not None else f"unparsable address {info[4][0]!r}"
        if reason:
            raise UnsafeURLError(url, reason)
    return infos


def vetted_addresses(url: str, host: str, port: int | None, allow: AllowList) -> list[tuple]:
    """Resolve ``host`` once and return its answers, all of them checked."""
    try:
        infos = resolve(host, port)
    except OSError as exc:
        raise UnsafeURLError(url, f"DNS lookup failed: {exc}") from None
    return vet_addresses(url, host, infos, allow)


def check_url(url: str, allow: AllowList, allow_private: bool = False) -> None:
    """Raise ``UnsafeURLError`` unless ``url`` is http(s) to a public address (or allowed).

    Blocking (resolves the name): for one-off fetches, not inside the crawl's reactor."""
    host = check_target(url, allow, allow_private)
    if allow_private or allow.allows(host):
        return
    vetted_addresses(url, host, None, allow)
