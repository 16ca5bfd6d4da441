"""The ``newsmon`` commands, one module per command or command group (crawl, extract,
export, index, demo, schedule, worker, serve, status, search, watch, alerts, digest,
sites).

Each parses its arguments, calls the library, and prints; ``common`` holds what they
share (opening the index, JSON output, a bad-input error, the extractor check).
``crawler/cli.py`` assembles them; nothing else imports a command module.
"""
