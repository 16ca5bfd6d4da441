"""Which story a record joins when other processes own some of its dedup keys.

``StoryClusterer.store`` claims a record's keys before the record starts a story
(the backend's first writer of a key owns it; ``index/elasticsearch/claims.py``).
The owners of the keys it lost are the copies other processes stored, maybe a
moment ago and not searchable yet; of those verified as copies, this picks the
one whose story the record joins, the same way in every process:

- an owner that claimed all its keys before this record claimed any (it won none
  of the record's keys) never saw the record and has started, or joined, a story
  without it: the record must join, never the other way round; of several such
  owners, their origin (``choose_origin``);
- owners that each lost keys to the other (their claims interleaved) see one
  another: the origin of the record and those owners starts the story, and every
  other one joins it, so each process decides the same.
"""
from __future__ import annotations

import hashlib
from typing import Callable

from index.base import ArticleRecord
from index.normalize import dedup_form


def claim_keys(record: ArticleRecord, short: bool) -> list[str]:
    """The record's band keys and its exact-text key (with the title for a short text,
    which counts as a copy only when the titles agree: ``StoryClusterer._exact_match``)."""
    exact = "t:" + record.text_hash
    if short:
        exact += ":" + hashlib.sha1(dedup_form(record.norm_title).encode("utf-8")).hexdigest()[:16]
    return [exact, *record.lsh_bands]


def owner_to_join(record: ArticleRecord, copies: list[ArticleRecord], won: set[str],
                  choose_origin: Callable[[list[ArticleRecord]], ArticleRecord]) -> ArticleRecord | None:
    """The owner whose story ``record`` joins (see the module docstring), or None: the
    record starts its own. ``copies``: the verified owners, their claimed keys in
    ``lsh_bands``; ``won``: the keys the record claimed; ``choose_origin``: clustering's."""
    if not copies:
        return None
    unaware = [c for c in copies if not won.intersection(c.lsh_bands)]
    if unaware:
        return choose_origin(unaware)
    origin = choose_origin([record, *copies])
    return None if origin is record else origin
