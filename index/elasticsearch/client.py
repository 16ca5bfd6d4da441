"""Connecting to Elasticsearch: index URL -> client, and one-line errors a person can act on.

URL forms (design.md, "Index URL")::

    http://host:9200                      no auth
    https://user:pass@host:9200           basic auth; TLS certificates verified
    http://host:9200/myprefix             indices myprefix-articles, myprefix-quarantine

Settings from the environment: ``NEWSMON_ES_API_KEY`` (an API key, instead of
basic auth), ``NEWSMON_ES_CA_CERTS`` (a CA bundle for a private CA; verification
stays on), ``NEWSMON_ES_SPOOL_DIR`` (default ``data/es-spool``), and the batching
and retry knobs of ``ESOptions``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from elasticsearch import (ApiError, AuthenticationException, AuthorizationException, Elasticsearch,
                           TransportError, UnsupportedProductError)

from index.errors import IndexURLError
from index.elasticsearch.mapping import DEFAULT_PREFIX

SUPPORTED_MAJORS = (8, 9)       # the 8.x client speaks to both (compatibility headers)
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,100}$")


class IndexUnavailable(IndexURLError):
    """The server cannot be reached right now (reads need it; writes go to the spool)."""


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


@dataclass
class ESOptions:
    """How the backend batches, retries and spools; every field has an env override."""

    spool_dir: Path
    batch_docs: int = 500              # a bulk request carries at most this many actions…
    batch_bytes: int = 5 * 1024 * 1024   # …and at most this many bytes
    retries: int = 3                   # attempts after the first, with backoff, before spooling
    backoff: float = 0.5               # seconds, doubled per attempt
    retry_after: float = 30.0          # once spooling, skip the server for this long
    timeout: float = 30.0              # one request
    replicas: int = 0                  # copies of each shard on other nodes, for indices this creates

    @classmethod
    def from_env(cls) -> "ESOptions":
        return cls(spool_dir=Path(os.environ.get("NEWSMON_ES_SPOOL_DIR") or "data/es-spool"),
                   batch_docs=_env_int("NEWSMON_ES_BATCH_DOCS", cls.batch_docs),
                   batch_bytes=_env_int("NEWSMON_ES_BATCH_BYTES", cls.batch_bytes),
                   retries=_env_int("NEWSMON_ES_RETRIES", cls.retries),
                   backoff=_env_float("NEWSMON_ES_BACKOFF", cls.backoff),
                   retry_after=_env_float("NEWSMON_ES_RETRY_AFTER", cls.retry_after),
                   timeout=_env_float("NEWSMON_ES_TIMEOUT", cls.timeout),
                   replicas=replicas_from_env())


def replicas_from_env() -> int:
    """``NEWSMON_ES_REPLICAS``: replicas given to the indices newsmon creates (0, one node's
    right number, when unset). A cluster of N nodes can hold up to N-1; an existing index
    keeps its own (``PUT <prefix>-*/_settings`` changes it)."""
    value = (os.environ.get("NEWSMON_ES_REPLICAS") or "0").strip()
    if not value.isdigit() or int(value) > 99:
        raise IndexURLError(f"NEWSMON_ES_REPLICAS={value!r} 无效：应为 0 到 99 之间的整数"
                            "（每个分片在其他节点上的副本数，单节点填 0）")
    return int(value)


@dataclass
class Connection:
    url: str              # as given, for messages (password masked)
    host: str             # scheme://host:port for the client
    prefix: str
    basic_auth: tuple[str, str] | None
    api_key: str | None
    ca_certs: str | None

    @property
    def spool_name(self) -> str:
        """One spool per server and prefix: replays go back where they came from."""
        return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{urlsplit(self.host).netloc}_{self.prefix}")


def parse_url(url: str) -> Connection:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise IndexURLError(f"bad Elasticsearch index URL {url!r}: the port is not a number") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise IndexURLError(f"bad Elasticsearch index URL {url!r}: use http://host:9200 or "
                            "https://user:pass@host:9200")
    prefix = parts.path.strip("/") or DEFAULT_PREFIX
    if not _PREFIX.match(prefix):
        raise IndexURLError(f"bad Elasticsearch index URL {url!r}: the path names the index prefix and "
                            "must be lowercase letters, digits, '-', '_' or '.' (e.g. http://host:9200/newsmon)")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    basic = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
    shown = url.replace(f":{parts.password}@", ":***@") if parts.password else url
    return Connection(url=shown, host=f"{parts.scheme}://{host}:{port or 9200}", prefix=prefix,
                      basic_auth=basic, api_key=os.environ.get("NEWSMON_ES_API_KEY") or None,
                      ca_certs=os.environ.get("NEWSMON_ES_CA_CERTS") or None)


def make_client(conn: Connection, options: ESOptions) -> Elasticsearch:
    if conn.ca_certs and not Path(conn.ca_certs).is_file():
        raise IndexURLError(f"NEWSMON_ES_CA_CERTS={conn.ca_certs!r} is not a file")
    kwargs: dict = {"request_timeout": options.timeout, "max_retries": 1, "retry_on_timeout": True}
    if conn.api_key:
        kwargs["api_key"] = conn.api_key
    elif conn.basic_auth:
        kwargs["basic_auth"] = conn.basic_auth
    if conn.host.startswith("https"):
        kwargs["verify_certs"] = True          # on by default; a private CA is given, not switched off
        if conn.ca_certs:
            kwargs["ca_certs"] = conn.ca_certs
    return Elasticsearch(conn.host, **kwargs)


def server_version(client: Elasticsearch, conn: Connection) -> str:
    """The server's version, or a one-line ``IndexURLError`` for wrong credentials, a
    server that is not Elasticsearch, or an unsupported version. Connection
    failures propagate (the caller decides: writes spool, reads fail)."""
    try:
        try:
            version = client.info()["version"]["number"]
        except ApiError as exc:
            if exc.meta.status != 405:       # the test build answers GET / with 405
                raise
            nodes = client.nodes.info(node_id="_local", metric="http")["nodes"]
            version = next(iter(nodes.values()))["version"]
    except AuthenticationException:
        how = "NEWSMON_ES_API_KEY" if conn.api_key else "the user:password in the index URL"
        raise IndexURLError(f"Elasticsearch at {conn.url} rejected the credentials (401): "
                            f"check {how}") from None
    except AuthorizationException as exc:
        raise IndexURLError(f"Elasticsearch at {conn.url} refused access (403): the user or API key "
                            f"needs monitor and index privileges ({exc.message})") from None
    except UnsupportedProductError:
        raise IndexURLError(f"{conn.url} does not answer like Elasticsearch: check the host and port") from None
    except ApiError as exc:
        raise IndexURLError(f"Elasticsearch at {conn.url} answered {exc.meta.status} "
                            f"({exc.message}): is this the right URL?") from None
    major = int(str(version).split(".")[0])
    if major not in SUPPORTED_MAJORS:
        raise IndexURLError(f"Elasticsearch {version} at {conn.url} is not supported: newsmon needs "
                            f"{' or '.join(f'{m}.x' for m in SUPPORTED_MAJORS)}")
    return str(version)


def short_reason(exc: BaseException) -> str:
    """"connection refused" rather than three nested exception reprs."""
    text = str(getattr(exc, "message", "") or exc)
    errno = re.search(r"\[Errno -?\d+\] ([^)'\"]+)", text)
    if errno:
        return errno.group(1).strip().lower()
    return f"{type(exc).__name__}: {text.splitlines()[0][:160]}" if text else type(exc).__name__


def unreachable(conn: Connection, exc: BaseException) -> IndexUnavailable:
    return IndexUnavailable(f"cannot reach Elasticsearch at {conn.url} ({short_reason(exc)}); "
                            "is it running? (`make es` starts one locally)")


def is_down(exc: BaseException) -> bool:
    """The server is not there right now (connection trouble, overloaded, unavailable):
    writes spool and dedup reads fall back to the buffer. Anything else is a refusal."""
    if isinstance(exc, ApiError):
        return exc.meta.status == 429 or exc.meta.status >= 500
    return isinstance(exc, TransportError)


@dataclass
class ReplayResult:
    """What replaying the spool did (totals since the index was opened)."""

    delivered: int
    rejected: int
    remaining: int
    spool: str
