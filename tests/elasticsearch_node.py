"""A real single-node Elasticsearch for tests, benchmarks and ``make es``.

What it does, in order:
1. fetch Elastic's ``integ-test-zip`` artifact from Maven Central with
   ``mvn dependency:copy`` (Maven caches it under ``~/.m2``) and unzip it once
   into ``.es/`` in the repo (git-ignored), under a file lock so concurrent
   sessions do not race;
2. Elasticsearch refuses to run as root: when we are root, create the
   unprivileged system user ``newsmon-es`` if missing and start the node through
   ``setpriv`` as that user, which owns the unpacked tree and the node's temp dir;
3. start the node on 127.0.0.1 with the machine's Java 17, single-node discovery,
   security off, a small heap and data/logs in a temp dir. Port 0 is not supported,
   so the node gets a port *range* and binds the first free one; we read the bound
   port from its log line rather than guessing (bind-and-release would race);
4. wait for ``_cluster/health?wait_for_status=yellow`` (``GET /`` does not exist in
   this build), and stop the whole process group afterwards. ``--pdeathsig`` makes
   the node die with its parent, so it never outlives a killed test session.

``start_cluster(3)`` starts N such nodes as one cluster instead: the first
bootstraps it (``cluster.initial_master_nodes``), the others find it through
``discovery.seed_hosts`` = the first node's transport port on loopback (read from
its log like the HTTP port), so a node can be killed and the cluster goes on.

Run as a script (``make es``) to start one for local use and print its URL.
"""
from __future__ import annotations

import atexit
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ES_VERSION = "8.19.21"     # newest 8.x on Maven Central that resolves (8.19.22+ do not, checked)
ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".es"
ES_USER = "newsmon-es"
HTTP_PORTS = os.environ.get("NEWSMON_TEST_ES_PORTS", "19200-19299")
TRANSPORT_PORTS = "19300-19399"
START_TIMEOUT = 120.0
_PUBLISH = re.compile(r"AbstractHttpServerTransport.*?publish_address \{([\d.]+):(\d+)\}")
_TRANSPORT = re.compile(r"TransportService.*?publish_address \{([\d.]+):(\d+)\}")


class ElasticsearchStartError(RuntimeError):
    """The node could not be fetched or started; the message says why and where its log is."""


def java_home() -> str:
    """The machine's Java 17 (``ES_JAVA_HOME`` wins), found from the ``java`` on PATH."""
    if os.environ.get("ES_JAVA_HOME"):
        return os.environ["ES_JAVA_HOME"]
    java = shutil.which("java")
    if not java:
        raise ElasticsearchStartError("no `java` on PATH: install a JDK 17 or set ES_JAVA_HOME")
    return str(Path(java).resolve().parent.parent)


def fetch_distribution() -> Path:
    """The unpacked distribution under ``.es/``, fetching and unzipping it on first use."""
    CACHE.mkdir(exist_ok=True)
    home = CACHE / f"elasticsearch-{ES_VERSION}"
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)          # two sessions starting at once unpack once
        if (home / "bin" / "elasticsearch").exists():
            return home
        download = CACHE / "download"
        zip_path = download / f"elasticsearch-{ES_VERSION}.zip"
        if not zip_path.exists():
            mvn = shutil.which("mvn")
            if not mvn:
                raise ElasticsearchStartError("no `mvn` on PATH: Maven fetches the Elasticsearch test "
                                              "distribution (apt-get install maven)")
            proc = subprocess.run([mvn, "-q", "-B", "dependency:copy", f"-Dartifact={ARTIFACT}",
                                   f"-DoutputDirectory={download}"],
                                  capture_output=True, text=True, timeout=1800)
            if proc.returncode != 0 or not zip_path.exists():
                raise ElasticsearchStartError(f"mvn dependency:copy {ARTIFACT} failed:\n"
                                              f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        staging = Path(tempfile.mkdtemp(dir=CACHE, prefix=".unpack-"))
        with zipfile.ZipFile(zip_path) as archive:
            for info in archive.infolist():
                archive.extract(info, staging)
                mode = info.external_attr >> 16        # zipfile drops the exec bits: restore them
                if mode & 0o777:
                    (staging / info.filename).chmod(mode & 0o777)
        (staging / home.name).rename(home)
        shutil.rmtree(staging, ignore_errors=True)
        return home


def _ensure_user() -> tuple[int, int] | None:
    """(uid, gid) of the unprivileged user when we are root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    import pwd
    try:
        entry = pwd.getpwnam(ES_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER],
                       check=True, capture_output=True)
        entry = pwd.getpwnam(ES_USER)
    return entry.pw_uid, entry.pw_gid


def _chown_tree(path: Path, owner: tuple[int, int]) -> None:
    for root, dirs, files in os.walk(path):
        os.chown(root, *owner)
        for name in dirs + files:
            os.lchown(os.path.join(root, name), *owner)


def _http_json(url: str, timeout: float = 5.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@dataclass
class ElasticsearchNode:
    """One running node; ``url`` is ``http://127.0.0.1:PORT``."""

    home: Path
    workdir: Path
    process: subprocess.Popen | None = None
    url: str = ""
    version: str = ES_VERSION
    settings: dict = field(default_factory=dict)
    _log_offset: int = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / "stdout.log"

    def start(self, timeout: float = START_TIMEOUT, wait: bool = True) -> "ElasticsearchNode":
        """Launch the node; with ``wait=False`` return at once and call ``wait_ready`` later
        (the boot then overlaps other work). Call from the main thread: ``--pdeathsig``
        fires when the *thread* that started the node ends."""
        owner = _ensure_user()
        if owner and os.stat(self.home).st_uid != owner[0]:
            _chown_tree(self.home, owner)
        config = self.workdir / "config"
        if not config.exists():
            shutil.copytree(self.home / "config", config)
        for sub in ("data", "logs", "tmp"):
            (self.workdir / sub).mkdir(exist_ok=True)
        if owner:
            _chown_tree(self.workdir, owner)
        options = {
            "discovery.type": "single-node", "network.host": "127.0.0.1",
            "http.port": HTTP_PORTS, "transport.port": TRANSPORT_PORTS,
            "path.data": self.workdir / "data", "path.logs": self.workdir / "logs",
            "xpack.security.enabled": "false", "xpack.ml.enabled": "false",
            # small test disks must not flip indices to read-only
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            "action.destructive_requires_name": "false", **self.settings,
        }
        command = [str(self.home / "bin" / "elasticsearch")]
        command += [f"-E{key}={value}" for key, value in options.items()]
        if owner:
            command = ["setpriv", f"--reuid={owner[0]}", f"--regid={owner[1]}", "--init-groups",
                       "--pdeathsig", "KILL", "--"] + command
        env = dict(os.environ, ES_JAVA_HOME=java_home(), ES_PATH_CONF=str(config),
                   ES_TMPDIR=str(self.workdir / "tmp"),
                   ES_JAVA_OPTS=os.environ.get("NEWSMON_TEST_ES_JAVA_OPTS", "-Xms512m -Xmx512m"))
        env.pop("JAVA_TOOL_OPTIONS", None)
        # A restart appends to the same log: look for the new bound port after the old lines.
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.url = ""
        log = open(self.log_path, "ab")
        # Own process group: stop() signals the launcher and the server JVM together.
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                        cwd=self.workdir, start_new_session=True)
        log.close()
        atexit.register(self.stop)
        return self.wait_ready(timeout) if wait else self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> "ElasticsearchNode":
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        ours = self.process is not None       # else attached: another process started it
        if self.url and (not ours or self.process.poll() is None):
            return
        deadline = time.monotonic() + timeout
        offset = self._log_offset
        while time.monotonic() < deadline:
            if ours and self.process.poll() is not None:
                raise ElasticsearchStartError(
                    f"Elasticsearch exited with status {self.process.returncode}; "
                    f"log {self.log_path}:\n{self._log_tail()}")
            if not self.url:
                text = self.log_path.read_bytes()[offset:].decode("utf-8", "replace")
                found = _PUBLISH.search(text)
                if found:
                    self.url = f"http://{found.group(1)}:{found.group(2)}"
            if self.url:
                try:
                    health = _http_json(f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=5s",
                                        timeout=10)
                    if health.get("status") in ("yellow", "green"):
                        return
                except (urllib.error.URLError, OSError, ValueError):
                    pass
            time.sleep(0.2)
        raise ElasticsearchStartError(f"Elasticsearch did not become ready within {timeout:.0f}s; "
                                      f"log {self.log_path}:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def transport_address(self) -> str:
        """``127.0.0.1:PORT`` the node talks to other nodes on (from its log)."""
        found = _TRANSPORT.findall(self.log_path.read_bytes()[self._log_offset:].decode("utf-8", "replace"))
        if not found:
            raise ElasticsearchStartError(f"no transport address in {self.log_path}")
        return f"{found[-1][0]}:{found[-1][1]}"

    def kill(self) -> None:
        """SIGKILL the node, like a crash: no flush, no goodbye."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the process group, SIGKILL whatever is left after ``timeout``."""
        if not self.process or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)
        except ProcessLookupError:
            pass

    def restart(self, timeout: float = START_TIMEOUT) -> "ElasticsearchNode":
        """Start again on the same data dir (after ``kill`` or ``stop``)."""
        self.stop()
        return self.start(timeout)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_node(timeout: float = START_TIMEOUT, wait: bool = True, **settings) -> ElasticsearchNode:
    """Fetch if needed and start a fresh node with its own temp data dir."""
    home = fetch_distribution()
    workdir = Path(tempfile.mkdtemp(prefix="newsmon-es-"))
    os.chmod(workdir, 0o755)
    node = ElasticsearchNode(home, workdir, settings=settings)
    atexit.register(node.cleanup)
    return node.start(timeout, wait=wait)


def attach_node(workdir: Path, timeout: float = START_TIMEOUT) -> ElasticsearchNode:
    """The node another process started in ``workdir`` (under pytest-xdist the controller
    starts one for all its workers), once it answers. Stopping it stays with that process:
    never call ``stop``/``cleanup`` on the returned handle."""
    return ElasticsearchNode(Path(), Path(workdir)).wait_ready(timeout)


@dataclass
class ElasticsearchCluster:
    """N nodes forming one cluster on loopback; ``url`` is the first node's."""

    nodes: list[ElasticsearchNode]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def health(self, wait_for: str = "green", timeout: float = 60.0) -> dict:
        """``_cluster/health`` asked of the first node still running, waiting for ``wait_for``."""
        node = next(n for n in self.nodes if n.process and n.process.poll() is None)
        return _http_json(f"{node.url}/_cluster/health?wait_for_status={wait_for}&timeout={timeout:.0f}s",
                          timeout=timeout + 10)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> "ElasticsearchCluster":
        """Every node up and in the cluster."""
        for node in self.nodes:
            node.wait_ready(timeout)
        deadline = time.monotonic() + timeout
        while True:
            health = self.health("yellow", timeout=10)
            if health.get("number_of_nodes") == len(self.nodes):
                return self
            if time.monotonic() > deadline:
                raise ElasticsearchStartError(f"only {health.get('number_of_nodes')} of {len(self.nodes)} "
                                              f"nodes joined within {timeout:.0f}s: {health}")
            time.sleep(0.5)

    def cleanup(self) -> None:
        for node in self.nodes:
            node.cleanup()


def start_cluster(size: int = 3, timeout: float = START_TIMEOUT, wait: bool = True) -> ElasticsearchCluster:
    """``size`` fresh nodes as one cluster (own name, own temp data dirs). The first node
    is started and bootstraps alone; the others then start together and join it."""
    import uuid
    home = fetch_distribution()
    name = f"newsmon-test-{uuid.uuid4().hex[:8]}"     # never joins another session's nodes
    nodes = []
    for i in range(size):
        workdir = Path(tempfile.mkdtemp(prefix=f"newsmon-es{i + 1}-"))
        os.chmod(workdir, 0o755)
        settings = {"discovery.type": "multi-node", "cluster.name": name, "node.name": f"node-{i + 1}"}
        node = ElasticsearchNode(home, workdir, settings=settings)
        atexit.register(node.cleanup)
        nodes.append(node)
    cluster = ElasticsearchCluster(nodes)
    try:
        first = nodes[0]
        first.settings["cluster.initial_master_nodes"] = first.settings["node.name"]
        first.start(timeout)
        for node in nodes[1:]:
            node.settings["discovery.seed_hosts"] = first.transport_address()
            node.start(timeout, wait=False)
        return cluster.wait_ready(timeout) if wait else cluster
    except BaseException:
        cluster.cleanup()
        raise


def main() -> int:
    """``make es``: start a node, print its URL, run until Ctrl-C."""
    started = time.monotonic()
    try:
        node = start_node()
    except ElasticsearchStartError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(f"Elasticsearch {ES_VERSION} is up at {node.url} (started in {time.monotonic() - started:.0f}s; "
          f"data in {node.workdir}, deleted on exit)")
    print(f"Try: newsmon crawl --sites sites.yaml --index {node.url}")
    print("Ctrl-C stops it.", flush=True)
    stop = lambda *_: (_ for _ in ()).throw(KeyboardInterrupt)  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    try:
        node.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        node.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
