"""The sites the team monitors, as the web UI and API manage them: an interface.

``monitor/`` sits below ``crawler/``, which owns the sites file (its bounded
YAML loader and its validation), so the web app does not read that file itself.
The serve command hands ``create_app`` an object meeting ``SiteRegistry``
(``crawler.site_registry.SitesFileRegistry`` writes the sites file in place);
without one, the sites are shown from the index and cannot be changed here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol


class SiteRegistryError(ValueError):
    """A change refused; ``field`` names the form field it is about (None: the whole
    site or the file), and the message is in Chinese, ready to show beside it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class SiteEntry:
    """What the UI shows and edits of a site; other fields of the sites file stay as written."""

    name: str
    start_urls: list[str] = field(default_factory=list)
    title: str = ""
    region: str = ""
    schedule: str = ""
    paused: bool = False

    @property
    def display_name(self) -> str:
        return self.title or self.name

    def to_dict(self) -> dict:
        return asdict(self)


EDITABLE = ("start_urls", "title", "region", "schedule")


class SiteRegistry(Protocol):
    """Where the sites live. Every write is validated as the sites file is, and atomic."""

    location: str          # shown to the user: where the sites are kept (the sites file's path)

    def list(self) -> list[SiteEntry]: ...

    def get(self, name: str) -> SiteEntry | None: ...

    def add(self, entry: SiteEntry) -> SiteEntry: ...

    def update(self, name: str, changes: dict) -> SiteEntry: ...

    def set_paused(self, name: str, paused: bool) -> SiteEntry: ...

    def remove(self, name: str) -> bool: ...


def display_names(registry: SiteRegistry | None) -> dict[str, str]:
    """Site name -> the name people know it by (its ``title:``), for every titled site."""
    if registry is None:
        return {}
    try:
        return {entry.name: entry.title for entry in registry.list() if entry.title}
    except SiteRegistryError:      # a sites file broken by hand: slugs until it is fixed
        return {}
