"""The packages extraction cannot do without, checked before any work starts.

An extractor that cannot be imported must never mean quietly worse text (a page
that needed trafilatura falling back to the density stage, or to no body). So
``newsmon crawl``, ``extract``, ``demo`` and ``schedule`` call ``check_extractors()``
first, and the extraction code imports its lazy extractors through
``import_extractor()``: either way a missing package is one ``MissingExtractor``
whose message is one line, in Chinese, naming the package and the pip command.

The usual cause: pip before 23.3 does not match ``lxml[html_clean]`` (what
justext, trafilatura's dependency, asks for) to lxml 6's ``html-clean`` extra and
leaves ``lxml_html_clean`` out, so ``lxml.html.clean`` and with it trafilatura
cannot be imported. pyproject.toml therefore names ``lxml_html_clean`` itself.
"""
from __future__ import annotations

import importlib
import shlex
import sys
from types import ModuleType
from typing import NoReturn

# (module, the pip package that provides it), a dependency before what imports it,
# so the package named is the one that is missing, not one that needs it.
EXTRACTORS: tuple[tuple[str, str], ...] = (
    ("lxml.html.clean", "lxml_html_clean"),   # out of lxml since 5.2; justext and readability import it
    ("lxml.cssselect", "cssselect"),          # site selectors (pipelines/extraction/pagemeta.py)
    ("charset_normalizer", "charset-normalizer"),
    ("opencc", "opencc"),
    ("justext", "justext"),
    ("courlan", "courlan"),
    ("htmldate", "htmldate"),
    ("trafilatura", "trafilatura"),
    ("readability", "readability-lxml"),
)
# The module a package installs, where the module checked is lxml's wrapper around it.
_PROVIDED_BY = {"lxml.html.clean": "lxml_html_clean", "lxml.cssselect": "cssselect"}
# pip names of modules those packages import, where they differ from the module's name.
_PIP_NAMES = {"dateutil": "python-dateutil", "readability": "readability-lxml",
              "charset_normalizer": "charset-normalizer"}
_OWN_PACKAGES = {"crawler", "spiders", "pipelines", "monitor", "index", "scheduler"}


class MissingExtractor(Exception):
    """An extraction package cannot be imported. Not an ``ImportError`` on purpose:
    code that treats an ImportError as "one candidate fewer" must not catch this."""

    def __init__(self, package: str, module: str, detail: str, needed_by: str | None = None):
        self.package, self.module = package, module
        via = f"（{needed_by} 需要它）" if needed_by else ""
        command = f"{shlex.quote(sys.executable)} -m pip install {package}"
        super().__init__(f"缺少正文抽取所需的 Python 包 {package}{via}：无法导入 {module}（{detail}），"
                         f"抽取结果会变差，因此不再继续。请安装：{command}")


def check_extractors() -> None:
    """Import every extraction package; the first that fails raises ``MissingExtractor``."""
    for module, package in EXTRACTORS:
        _import(module, package)


def import_extractor(module: str) -> ModuleType:
    """``importlib.import_module(module)``, failing as ``check_extractors`` does: naming the
    package that is really missing (e.g. lxml_html_clean when trafilatura cannot import)."""
    try:
        return importlib.import_module(module)
    except Exception:   # noqa: BLE001 - say which package, below
        check_extractors()      # names the first missing dependency, if that is the cause
        package = dict(EXTRACTORS).get(module, module.split(".")[0])
        return _import(module, package)


def raise_missing(exc: ImportError) -> NoReturn:
    """For an ImportError that escaped extraction (an extractor imported directly, not
    through ``import_extractor``): raise the ``MissingExtractor`` that ``check_extractors``
    finds, else one for the module the error names; an error about newsmon's own
    modules (a bug, not an install problem) is raised as it is."""
    if isinstance(exc, MissingExtractor):
        raise exc
    check_extractors()
    module = getattr(exc, "name", None) or ""
    top = module.split(".")[0]
    if not top or top in _OWN_PACKAGES:
        raise exc
    raise MissingExtractor(_PIP_NAMES.get(top, top), module, _one_line(exc)) from None


def _one_line(exc: BaseException) -> str:
    """The error's first line (lxml's second line suggests the very extra old pip ignores)."""
    first = (str(exc).strip().splitlines() or [""])[0]
    detail = " ".join(f"{type(exc).__name__}: {first}".split())
    return detail if len(detail) <= 160 else detail[:157] + "..."


def _import(module: str, package: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except Exception as exc:   # noqa: BLE001 - a broken install is as bad as a missing one
        detail = _one_line(exc)
        missing = (getattr(exc, "name", None) or "").split(".")[0]
        own = _PROVIDED_BY.get(module, module.split(".")[0])
        if isinstance(exc, ModuleNotFoundError) and missing and missing != own:
            # the package is there, one of its own dependencies is not
            raise MissingExtractor(_PIP_NAMES.get(missing, missing), module, detail,
                                   needed_by=package) from None
        raise MissingExtractor(package, module, detail) from None
