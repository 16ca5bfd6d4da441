"""The crawl's DNS resolver: the network-safety check on the address actually connected to.

Twisted's ``HostnameEndpoint`` asks the reactor's resolver for a host's address and
connects to exactly what it gets back, so checking here closes the gap a check
before the request leaves open (DNS rebinding: the name answers with a public
address for the check and a private one for the connect). Wired in
``crawler/settings.py`` as ``TWISTED_DNS_RESOLVER``; a refused address is reported
to Twisted as a failed lookup, and the refusal is kept so
``NetworkSafetyMiddleware`` can say ``unsafe_url`` instead of ``dns``.
"""
from __future__ import annotations

from collections import OrderedDict

from scrapy.resolver import CachingThreadedResolver, dnscache
from twisted.internet import defer, threads
from twisted.internet.error import DNSLookupError

from netsafety.addresses import AllowList, address_refusal, parse_ip, resolve


class UnsafeAddressError(DNSLookupError):
    """A name resolved only to a forbidden address (Twisted sees a failed lookup)."""


class SafetyPolicy:
    """What may be connected to: the allow-list, plus the hosts of sites with
    ``allow_private: true`` (registered by the middleware when the spider opens)."""

    def __init__(self, allow: AllowList):
        self.allow = allow
        self.allowed_hosts: set[str] = set()
        self.refusals: OrderedDict[str, str] = OrderedDict()   # host -> reason, bounded

    def allow_host(self, host: str) -> None:
        self.allowed_hosts.add(host.lower())

    def host_allowed(self, host: str) -> bool:
        return host.lower() in self.allowed_hosts or self.allow.allows(host)

    def refusal(self, host: str, address: str) -> str | None:
        if self.host_allowed(host):
            return None
        ip = parse_ip(address)
        reason = address_refusal(host, ip, self.allow) if ip is not None else f"unparsable address {address!r}"
        if reason:
            self.refusals[host.lower()] = reason
            self.refusals.move_to_end(host.lower())
            while len(self.refusals) > 1000:
                self.refusals.popitem(last=False)
        return reason

    def refusal_for(self, host: str) -> str | None:
        return self.refusals.get(host.lower())


class SafeResolver(CachingThreadedResolver):
    """Scrapy's default resolver (threaded, cached, ``DNS_TIMEOUT``), with every
    address of every fresh answer checked before any is used or cached."""

    def __init__(self, reactor, cache_size: int, timeout: float, policy: SafetyPolicy | None = None):
        super().__init__(reactor, cache_size, timeout)
        self.policy = policy or SafetyPolicy(AllowList.from_env())

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.policy = SafetyPolicy(AllowList.parse(crawler.settings.get("NEWSMON_ALLOW_HOSTS")))
        return resolver

    def getHostByName(self, name: str, timeout=()):  # noqa: N802 - Twisted's interface
        if name in dnscache:         # only vetted answers are cached
            return defer.succeed(dnscache[name])
        # getaddrinfo, not Twisted's gethostbyname: every answer is seen (IPv6 too), so a
        # name that mixes a public address with 127.0.0.1 is refused, not half-checked
        lookup = threads.deferToThreadPool(self.reactor, self.reactor.getThreadPool(), resolve, name)
        lookup.addTimeout(self.timeout, self.reactor)
        lookup.addCallbacks(self._vet, self._failed, callbackArgs=(name,), errbackArgs=(name,))
        if dnscache.limit:
            lookup.addCallback(self._cache_result, name)
        return lookup

    def _vet(self, infos: list[tuple], name: str) -> str:
        if not infos:
            raise DNSLookupError(f"address {name!r} not found")
        for info in infos:
            reason = self.policy.refusal(name, info[4][0])
            if reason:
                raise UnsafeAddressError(reason)
        return infos[0][4][0]

    @staticmethod
    def _failed(failure, name: str):
        if failure.check(defer.TimeoutError):
            raise DNSLookupError(f"address {name!r} not found: timeout error")
        raise DNSLookupError(f"address {name!r} not found: {failure.getErrorMessage()}")


def installed_policy() -> SafetyPolicy | None:
    """The running crawl's policy, if the reactor's resolver is ``SafeResolver``."""
    from twisted.internet import reactor
    resolver = getattr(reactor, "resolver", None)
    return resolver.policy if isinstance(resolver, SafeResolver) else None
