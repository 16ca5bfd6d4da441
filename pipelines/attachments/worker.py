"""The extraction worker: a child process that reads attachments from stdin and writes
their text to stdout, under an address-space limit (``RLIMIT_AS``).

    python -m pipelines.attachments.worker '<AttachmentLimits as JSON>'

Each request is a frame ``<4-byte length><JSON header>`` then ``<4-byte length><body>``;
after its imports it writes one frame ``ready``;
each answer is one frame of JSON: the ``Attachment`` fields plus ``seconds`` and
``peak_rss`` (KiB). The parent (``runner.AttachmentWorkers``) kills the process when
a file runs past its time limit and starts another; nothing a file does can hang or
crash the crawl.
"""
from __future__ import annotations

import json
import resource
import struct
import sys
import time
from dataclasses import fields

_LENGTH = struct.Struct(">I")
READY = b"ready"


def read_frame(stream) -> bytes | None:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    return data if len(data) == size else None


def write_frame(stream, data: bytes) -> None:
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def main(argv: list[str]) -> int:
    from pipelines.attachments.extract import extract_attachment
    from pipelines.attachments.limits import AttachmentLimits

    known = {f.name for f in fields(AttachmentLimits)}
    limits = AttachmentLimits(**{k: v for k, v in json.loads(argv[0] if argv else "{}").items() if k in known})
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    import docx, openpyxl, pdfminer.high_level, pypdf, xlrd  # noqa: F401,E401 - imported once, before timing starts
    write_frame(stdout, READY)
    while True:
        header = read_frame(stdin)
        body = read_frame(stdin) if header is not None else None
        if body is None:
            return 0
        request = json.loads(header)
        started = time.perf_counter()
        result = extract_attachment(body, url=request["url"], name=request.get("name", ""),
                                    content_type=request.get("content_type", ""),
                                    disposition=request.get("disposition", ""), limits=limits)
        answer = result.to_dict()
        answer["seconds"] = round(time.perf_counter() - started, 4)
        answer["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        write_frame(stdout, json.dumps(answer, ensure_ascii=False).encode("utf-8"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
