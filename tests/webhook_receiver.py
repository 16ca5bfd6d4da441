"""A real HTTP receiver on loopback for webhook tests: ``http.server`` in a thread,
on a port the OS chose. It records every POST and answers per path as told; a path
in ``hold`` records the POST, then answers only once ``release`` is set (a receiver
that has the message while its sender is still waiting for the answer)."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Post:
    path: str
    content_type: str
    body: dict
    key: str = ""          # the Idempotency-Key header


@dataclass
class WebhookReceiver:
    posts: list[Post] = field(default_factory=list)
    # path -> (status, JSON answer); anything else answers 200 {"errcode": 0}
    answers: dict[str, tuple[int, dict]] = field(default_factory=dict)
    hold: set[str] = field(default_factory=set)
    release: threading.Event = field(default_factory=threading.Event)

    def start(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                receiver.posts.append(Post(self.path, self.headers.get("Content-Type", ""),
                                           json.loads(raw.decode("utf-8")),
                                           self.headers.get("Idempotency-Key", "")))
                if self.path in receiver.hold:
                    receiver.release.wait(60)
                try:
                    self._answer()
                except (BrokenPipeError, ConnectionResetError):
                    pass          # the sender is gone (killed while we held the answer)

            def _answer(self):
                status, answer = receiver.answers.get(self.path, (200, {"errcode": 0, "errmsg": "ok"}))
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def at(self, path: str) -> list[Post]:
        return [p for p in self.posts if p.path == path]
