"""Network safety: never fetch private, loopback, link-local or metadata addresses.

Checked after DNS resolution and again on every redirect (a redirect is a new
request through the downloader middleware). ``NEWSMON_ALLOW_HOSTS`` (hosts or
CIDRs, comma-separated) or a site's ``allow_private: true`` lifts the ban for
fixtures and intranet deployments.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


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


def _is_forbidden(ip: ipaddress._BaseAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified)


@lru_cache(maxsize=4096)
def _resolve(host: str) -> tuple[str, ...]:
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return tuple(sorted({info[4][0] for info in infos}))


def check_url(url: str, allow: AllowList, allow_private: bool = False) -> None:
    """Raise ``UnsafeURLError`` unless ``url`` is http(s) to a public address (or allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(url, f"scheme {parts.scheme!r} is not http or https")
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeURLError(url, "no host")
    if allow_private or allow.allows(host):
        return
    if host in _METADATA_HOSTS:
        raise UnsafeURLError(url, f"{host} is a cloud metadata host")
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in _resolve(host)]
        except OSError as exc:
            raise UnsafeURLError(url, f"DNS lookup failed: {exc}") from None
    for ip in addresses:
        if _is_forbidden(ip) and not allow.allows(host, ip):
            raise UnsafeURLError(
                url, f"{host} resolves to non-public address {ip} "
                "(set NEWSMON_ALLOW_HOSTS or the site's allow_private to allow it)")
