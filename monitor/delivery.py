"""Getting a message out: email over SMTP and webhook POSTs.

Plain functions that raise ``DeliveryError`` with a one-line reason; retries,
backoff and dead letters are the caller's business (``monitor/alerts.py``).

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
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage

from crawler.netsafety import AllowList, UnsafeURLError, check_url
from monitor.watches import webhook_format

SECURITY_MODES = ("none", "starttls", "ssl")
_DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
TIMEOUT = 20
USER_AGENT = "newsmon-alerts/0.1"


class DeliveryError(Exception):
    """One delivery attempt failed; ``permanent`` means retrying cannot help."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


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


def send_email(message: EmailMessage, settings: SMTPSettings | None = None) -> None:
    """Send one message (its To/From headers are used as they are; From is filled in
    from the settings when missing)."""
    settings = settings or SMTPSettings.from_env()
    if "From" not in message:
        message["From"] = settings.sender
    try:
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
        with client:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.user:
                client.login(settings.user, settings.password or "")
            refused = client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login to {settings.host}:{settings.port} refused: "
                            f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in exc.recipients.items())
        raise DeliveryError(f"SMTP server refused the recipient ({codes})",
                            permanent=all(code >= 500 for code, _ in exc.recipients.values())) from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"SMTP {settings.host}:{settings.port} ({settings.security}): "
                            f"{type(exc).__name__}: {exc}") from None
    if refused:
        raise DeliveryError(f"SMTP server refused: {', '.join(refused)}")


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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is refused: the new target was never checked
    against the network-safety rules, and a redirected POST loses its body."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl} refused", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_webhook(url: str, text: str, payload: dict, allow: AllowList | None = None) -> None:
    """POST the message to ``url`` in the format its host (or prefix) calls for."""
    kind, target = webhook_format(url)
    try:
        check_url(target, allow if allow is not None else AllowList.from_env())
    except UnsafeURLError as exc:
        raise DeliveryError(str(exc)) from None
    body = json.dumps(robot_payload(kind, text, payload), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(target, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT})
    try:
        with _OPENER.open(request, timeout=TIMEOUT) as response:
            answer = response.read(65536)
    except urllib.error.HTTPError as exc:
        # 4xx other than 408/429: the receiver will not take this message, ever.
        permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
        raise DeliveryError(f"webhook {target} answered HTTP {exc.code} {exc.reason}",
                            permanent=permanent) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"webhook {target}: {reason}") from None
    refusal = _robot_error(kind, answer)
    if refusal:
        raise DeliveryError(refusal)
