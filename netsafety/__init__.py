"""The ground floor: what every layer needs, importing nothing of newsmon's.

* ``netsafety.addresses``: the network-safety rule (no private, loopback,
  link-local or metadata address, ``NEWSMON_ALLOW_HOSTS``), checked before a
  request and on the resolved address;
* ``netsafety.fetch``: the one connector for a single HTTP exchange outside a
  crawl (``newsmon extract URL``, probes, webhooks) under that rule;
* ``netsafety.counters``: the reason-keyed crawl counters kept in Scrapy's stats
  collector, which the spider, the middlewares and the pipelines all write.
"""
