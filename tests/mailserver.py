"""A real SMTP server on loopback for the tests: aiosmtpd on a port the OS chose.

aiosmtpd's ``Controller`` wants a fixed port (it connects to it to check it
started), so the server is created on our own event loop in a thread, bound to
port 0, and the port is read back from the socket. Optional STARTTLS or SSL
(with a throwaway self-signed certificate made by ``openssl``) and AUTH LOGIN/PLAIN.
"""
from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import subprocess
import threading
import warnings
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None = None


@dataclass
class MailServer:
    """Messages received so far in ``messages``; ``refuse`` makes DATA fail with 451
    (a temporary failure) while true; ``hold`` keeps a received message's answer
    back until ``release`` is set (the server has it, its sender is still waiting)."""

    security: str = "none"               # none | starttls | ssl
    users: dict[str, str] = field(default_factory=dict)
    cert_dir: Path | None = None
    messages: list[Received] = field(default_factory=list)
    refuse: bool = False
    hold: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def __post_init__(self):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server = None

    # -- aiosmtpd handler hooks --
    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else session.auth_data
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, login))
        while self.hold and not self.release.is_set():
            await asyncio.sleep(0.05)
        return "250 2.0.0 OK"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() in self.users and \
            self.users[auth_data.login.decode()] == auth_data.password.decode()
        return AuthResult(success=ok, auth_data=auth_data.login if ok else None, handled=False)

    def _context(self) -> ssl.SSLContext:
        assert self.cert_dir is not None, "TLS needs cert_dir"
        cert, key = self.cert_dir / "cert.pem", self.cert_dir / "key.pem"
        if not cert.exists():
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                            "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        return context

    @property
    def ca_file(self) -> Path | None:
        return self.cert_dir / "cert.pem" if self.cert_dir else None

    def start(self) -> "MailServer":
        tls = self._context() if self.security in ("starttls", "ssl") else None
        kwargs = {}
        if self.users:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=self.security == "starttls",
                          auth_required=True)

        def protocol():
            # Implicit TLS (ssl) is invisible to aiosmtpd, which then warns that AUTH
            # is offered without TLS; the socket is TLS, so that warning is noise here.
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            return SMTP(self, hostname="localhost", loop=self._loop, tls_context=tls if self.security == "starttls" else None,
                        require_starttls=self.security == "starttls", **kwargs)

        self._thread.start()
        created = asyncio.run_coroutine_threadsafe(self._loop.create_server(
            protocol, "127.0.0.1", 0, ssl=tls if self.security == "ssl" else None), self._loop)
        self._server = created.result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self.release.set()
        # asyncio is not thread-safe: the server is closed on its own loop's thread
        # (closing it from here raced with a connection the loop was just dropping).
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def env(self, **extra) -> dict[str, str]:
        """NEWSMON_SMTP_* for this server."""
        env = {"NEWSMON_SMTP_HOST": "127.0.0.1", "NEWSMON_SMTP_PORT": str(self.port),
               "NEWSMON_SMTP_SECURITY": self.security, "NEWSMON_SMTP_FROM": "newsmon@example.org"}
        if self.cert_dir is not None and self.security != "none":
            env["SSL_CERT_FILE"] = str(self.ca_file)   # the client trusts our throwaway CA
        env.update(extra)
        return env

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]
