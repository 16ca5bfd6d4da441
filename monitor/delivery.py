"""Getting a message out: email over SMTP and webhook POSTs.

Plain functions that raise ``DeliveryError`` with a one-line reason; retries,
backoff and dead letters are the caller's business (``monitor/outbox.py``).
Each send has a total ``deadline`` (``DEADLINE`` seconds), not only a socket
timeout: a receiver that trickles a byte every few seconds never trips a socket
timeout, so a watchdog shuts the socket when the deadline passes. A receiver that
cannot be reached or does not answer in time is ``unreachable``: the outbox then
holds its other messages back instead of waiting on it again and again.

Mail settings come from the environment (design.md): ``NEWSMON_SMTP_HOST``,
``NEWSMON_SMTP_PORT``, ``NEWSMON_SMTP_USER``, ``NEWSMON_SMTP_PASSWORD``,
``NEWSMON_SMTP_FROM``, ``NEWSMON_SMTP_SECURITY`` (``none``, ``starttls``, ``ssl``).

Webhooks get JSON. Group robots need their own text shape, picked from the URL
host or an explicit ``wecom+``/``dingtalk+``/``feishu+``/``json+`` prefix
(``monitor.watches.webhook_format``); they answer HTTP 200 with an error code in
the body when they refuse a message, so that body is checked too.
"""
from __future__ import annotations

import json
import os
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from netsafety.fetch import FetchError, _Watchdog, request_url
from netsafety.addresses import AllowList, UnsafeURLError
from monitor.watches import webhook_format

SECURITY_MODES = ("none", "starttls", "ssl")
_DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
TIMEOUT = 20              # one socket operation
DEADLINE = 30             # one whole send, connection to answer
MAX_ANSWER = 1024 * 1024  # a webhook's answer we read (robots answer a few bytes)
USER_AGENT = "newsmon-alerts/0.1"


class DeliveryError(Exception):
    """One delivery attempt failed; ``permanent`` means retrying cannot help;
    ``unreachable``: the receiver could not be reached or did not answer in time."""

    def __init__(self, message: str, permanent: bool = False, unreachable: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.unreachable = unreachable


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    security: str

    @classmethod
    def from_env(cls, env: dict | None = None) -> "SMTPSettings":
        env = os.environ if env is None else env
        host = (env.get("NEWSMON_SMTP_HOST") or "").strip()
        if not host:
            raise DeliveryError("email is not configured: set NEWSMON_SMTP_HOST "
                                "(and NEWSMON_SMTP_PORT/USER/PASSWORD/FROM/SECURITY)")
        security = (env.get("NEWSMON_SMTP_SECURITY") or "none").strip().lower()
        if security not in SECURITY_MODES:
            raise DeliveryError(f"NEWSMON_SMTP_SECURITY={security!r}: use one of "
                                f"{', '.join(SECURITY_MODES)}", permanent=True)
        port_text = (env.get("NEWSMON_SMTP_PORT") or "").strip()
        try:
            port = int(port_text) if port_text else _DEFAULT_PORTS[security]
        except ValueError:
            raise DeliveryError(f"NEWSMON_SMTP_PORT={port_text!r} is not a port number",
                                permanent=True) from None
        user = env.get("NEWSMON_SMTP_USER") or None
        sender = env.get("NEWSMON_SMTP_FROM") or user or f"newsmon@{socket.getfqdn()}"
        return cls(host, port, user, env.get("NEWSMON_SMTP_PASSWORD") or None, sender, security)


def send_email(message: EmailMessage, settings: SMTPSettings | None = None, *,
               deadline: float = DEADLINE) -> None:
    """Send one message (its To/From headers are used as they are; From is filled in
    from the settings when missing), all of it within ``deadline`` seconds."""
    settings = settings or SMTPSettings.from_env()
    if "From" not in message:
        message["From"] = settings.sender
    watchdog = _Watchdog(deadline)
    context = ssl.create_default_context()
    spares: list[socket.socket] = []

    def connect(host, port, timeout):
        # smtplib has socket timeouts only. The watchdog gets a duplicate of the
        # descriptor: STARTTLS and SSL wrap (detach) the original socket object,
        # while shutting down the duplicate still ends the one connection.
        remaining = watchdog.remaining()
        if remaining is not None:
            timeout = max(min(timeout, remaining), 0.001)
        sock = socket.create_connection((host, port), timeout)
        spares.append(socket.socket(fileno=os.dup(sock.fileno())))
        watchdog.watch(spares[-1])
        return context.wrap_socket(sock, server_hostname=host) if settings.security == "ssl" else sock

    client = smtplib.SMTP(timeout=TIMEOUT)         # no host: connect() below, through ours
    client._get_socket = connect
    client._host = settings.host                   # STARTTLS checks the certificate against it
    try:
        client.connect(settings.host, settings.port)
        with client:
            if settings.security == "starttls":
                client.starttls(context=context)
            if settings.user:
                client.login(settings.user, settings.password or "")
            refused = client.send_message(message)
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise _smtp_error(exc, settings, deadline if watchdog.fired else None) from None
    finally:
        watchdog.cancel()
        client.close()
        for spare in spares:
            spare.close()
    if refused:
        raise DeliveryError(f"SMTP server refused: {', '.join(refused)}")


def _smtp_error(exc: Exception, settings: SMTPSettings, deadline: float | None) -> DeliveryError:
    """One line saying why; ``deadline``: the watchdog ended the send."""
    where = f"{settings.host}:{settings.port}"
    if deadline is not None:
        return DeliveryError(f"SMTP {where}：{deadline:g} 秒内没有发完，已中止", unreachable=True)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryError(f"SMTP login to {where} refused: {exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in exc.recipients.items())
        return DeliveryError(f"SMTP server refused the recipient ({codes})",
                             permanent=all(code >= 500 for code, _ in exc.recipients.values()))
    # The server answered with an error (e.g. 451) versus a lost or refused connection.
    answered = isinstance(exc, smtplib.SMTPResponseException)
    return DeliveryError(f"SMTP {where} ({settings.security}): {type(exc).__name__}: {exc}",
                         unreachable=not answered)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


# -- webhooks ----------------------------------------------------------------------------

def robot_payload(kind: str, text: str, payload: dict) -> dict:
    """The JSON body for a webhook of ``kind``: group robots take text; plain JSON
    gets the structured payload with the same text alongside."""
    if kind in ("wecom", "dingtalk"):
        return {"msgtype": "text", "text": {"content": text}}
    if kind == "feishu":
        return {"msg_type": "text", "content": {"text": text}}
    return {**payload, "text": text}


def _robot_error(kind: str, body: bytes) -> str | None:
    """The robot's refusal, if its JSON answer carries a non-zero error code."""
    if kind == "json":
        return None
    try:
        answer = json.loads(body.decode("utf-8", "replace") or "{}")
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code not in (0, None, "0"):
        return f"{kind} robot answered error {code}: {answer.get('errmsg') or answer.get('msg') or ''}".strip()
    return None


def post_webhook(url: str, text: str, payload: dict, allow: AllowList | None = None, *,
                 key: str | None = None, deadline: float = DEADLINE) -> None:
    """POST the message to ``url`` in the format its host (or prefix) calls for, all
    of it within ``deadline`` seconds. ``key``: the message's stable id, sent as the
    ``Idempotency-Key`` header so a receiver recognises a repeat."""
    kind, target = webhook_format(url)
    body = json.dumps(robot_payload(kind, text, payload), ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    if key:
        headers["Idempotency-Key"] = key
    try:
        # No redirects: a redirected POST loses its body, and the alert should go
        # where the watch says, not where the receiver points.
        answer = request_url(target, method="POST", data=body, headers=headers, timeout=TIMEOUT,
                             deadline=deadline, allow=allow, follow_redirects=False, max_bytes=MAX_ANSWER)
    except UnsafeURLError as exc:
        raise DeliveryError(str(exc)) from None
    except FetchError as exc:
        raise DeliveryError(f"webhook {exc}", unreachable=True) from None
    if answer.status >= 300:
        # 4xx other than 408/429: the receiver will not take this message, ever.
        permanent = 400 <= answer.status < 500 and answer.status not in (408, 429)
        where = f" (redirect to {answer.headers['location']} refused)" if "location" in answer.headers else ""
        raise DeliveryError(f"webhook {target} answered HTTP {answer.status}{where}", permanent=permanent)
    refusal = _robot_error(kind, answer.body)
    if refusal:
        raise DeliveryError(refusal)
