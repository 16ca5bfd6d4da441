"""The search web UI and JSON API (``newsmon serve``): ``create_app(index_url)``."""
from monitor.web.app import create_app

__all__ = ["create_app"]
