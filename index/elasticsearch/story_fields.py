"""Story fields that span copies (``STORY_FIELDS``: canonical copy, story date), kept
right on the Elasticsearch side as copies are sent.

Before a batch goes, ``fixes`` finds the stored copies of its stories whose fields
must change (``fix_story_fields``) and returns index actions re-sending them whole.
Copies sent but not refreshed yet are not searchable, so ``sent`` remembers their
fields until the next refresh (``refreshed``).

A story renamed here (``set_story``: a later-crawled copy is its origin) moves only the
copies this process saw; a copy another worker joined to it a moment before, still in
that worker's bulk buffer, arrives under the former id (issue 23). So each side mends
what it finds at its next send: the renaming side moves any copy still stored under a
former id it renamed (``renamed``), and a worker sending copies of a story that no
longer has a canonical copy moves them to the story the former id's founder is in now.
A former id is looked under at the sends after its rename (``touched``) until one of
them is confirmed, whose moves then stand; only then is it forgotten, so a worker
living for hours over many site runs does not keep every rename it ever made.
A copy sent into a story with no canonical copy stored or known keeps its own date
(a repost written before its origin; a copy joined through another worker's claim and
sent before that worker's canonical copy). Such a story waits (``waiting``): the send of
a canonical copy of it looks it up and moves its copies to the story date, and after each
refresh the next send (an otherwise empty flush too: ``recheck_due``) looks every waiting
story up again, for a canonical copy another worker sent. A story leaves at its canonical
copy, after ``_RECHECKS`` such looks without one, or, the oldest first, past ``_WAITING_MAX``.
On a bulk load in crawl order these are the lookups the stories-sent-since-open set
made (100k generated articles: the same 6,997 copies re-sent, no measurable time).
Nothing else here outlives a confirmed send and the refresh after it (``held``).
"""
from __future__ import annotations

import logging

from elasticsearch import Elasticsearch

from index.base import founder_prefix
from index.elasticsearch.mapping import STORY_FIELDS, fix_story_fields, rebuild_doc
from index.elasticsearch.search import iter_hits

logger = logging.getLogger("newsmon.index")

_TERMS_PER_QUERY = 10_000
_WAITING_MAX = 10_000       # stories waiting for a canonical copy (module docstring)
_RECHECKS = 10              # looks again (one per refresh) before a waiting story is given up


class StoryFields:
    def __init__(self, client: Elasticsearch, articles: str):
        self.client = client
        self.articles = articles
        self.touched: set[str] = set()      # stories whose story date may need fixing
        self.replaced: set[str] = set()     # pending ids that existed before (updates)
        # Sent, not yet searchable: story -> {id: STORY_FIELDS}, and each id's story.
        self._unrefreshed: dict[str, dict[str, dict]] = {}
        self._unrefreshed_story: dict[str, str] = {}
        self.renamed: dict[str, str] = {}   # former story id -> the id set_story gave it here
        self._looked_up: set[str] = set()   # stories the last ``fixes`` read, settled once its send is confirmed
        self.waiting: dict[str, int] = {}   # story with copies, no canonical copy -> looks again left (oldest first)
        self._recheck = False               # a refresh since the waiting stories were last looked up

    def __len__(self) -> int:
        """Copies sent since the last refresh."""
        return len(self._unrefreshed_story)

    @property
    def pending_renames(self) -> int:
        """Former story ids a confirmed send has not looked under yet (see the module docstring)."""
        return len(self.renamed)

    def held(self) -> int:
        """Story ids and copies kept for later sends: once a send is confirmed and
        refreshed, none but the stories waiting for a canonical copy (a few, and never
        over ``_WAITING_MAX``), however many site runs a long-lived process has done."""
        return (len(self.touched) + len(self.replaced) + len(self.renamed) + len(self._looked_up)
                + len(self._unrefreshed_story) + len(self.waiting))

    @property
    def recheck_due(self) -> bool:
        """A refresh since the waiting stories were last looked up: the next send, even
        of nothing, looks them up (see the module docstring)."""
        return self._recheck and bool(self.waiting)

    def fixes(self, docs: list[dict], every_story: bool = False) -> list[dict]:
        """Index actions that keep the story fields spanning copies right before ``docs``
        are sent (``fix_story_fields``). The stored copies come from a search plus the
        copies sent since the last refresh; the few that must change are re-read whole
        (real-time ``mget``) and re-sent whole: a partial update re-indexes from
        ``_source``, which lacks the search fields.

        A new canonical copy starts its story, whose id is made from its own
        (``story_key``): not looked up. That is most of a crawl, and keeps bulk loads near
        bare bulk speed. Copies get under such an id only by joining it (not canonical:
        their sender looks the story up), through ``set_story`` (``touched``), or as the
        page stored before (an update, or a page the server could not say it holds:
        ``replaced``), or before it while no canonical copy was known (``waiting``). A
        replay (``every_story``) looks every story up."""
        self._looked_up = set()
        latest = {d["id"]: d for d in docs}
        rechecked = set(self.waiting) if self._recheck else set()
        self._recheck = False
        stories = sorted({d["story_id"] for d in latest.values()
                          if every_story or not d["canonical"] or d["id"] in self.replaced
                          or d["story_id"] in self.waiting} | self.touched | rechecked)
        self.replaced.difference_update(latest)
        stored = {i: d for story in stories for i, d in self._unrefreshed.get(story, {}).items()}
        for start in range(0, len(stories), _TERMS_PER_QUERY):     # (no story: no request)
            wanted = {"terms": {"story_id": stories[start:start + _TERMS_PER_QUERY]}}
            for hit in iter_hits(self.client, self.articles, wanted, [{"id": "asc"}], STORY_FIELDS):
                stored.setdefault(hit["_id"], hit["_source"])
        light = [{k: d[k] for k in STORY_FIELDS} for i, d in stored.items() if i not in latest]
        moved = self._follow_renames(latest, light)
        changes = fix_story_fields(docs, light)
        self._note_waiting([*light, *latest.values()], rechecked)
        story_date = {d["story_id"]: d["story_date"] for d in latest.values()}
        for doc in light:
            if doc["id"] in moved:
                changes[doc["id"]] = {"story_id": doc["story_id"], "canonical": False,
                                      "story_date": story_date.get(doc["story_id"]) or doc["story_date"]}
        found = self.client.mget(index=self.articles, ids=list(changes))["docs"] if changes else []
        self._looked_up = set(stories)      # settled once these actions are confirmed (``sent``)
        return [{"_op_type": "index", "_index": self.articles, "_id": hit["_id"],
                 "_source": rebuild_doc({**hit["_source"], **changes[hit["_id"]]})}
                for hit in found if hit.get("found")]

    def _note_waiting(self, copies: list[dict], rechecked: set[str]) -> None:
        """The stories of ``copies`` (all of a story's known copies) with no canonical
        copy wait; those with one stop waiting; ``rechecked`` ones still without one
        have one look less left."""
        canonical: dict[str, bool] = {}
        for doc in copies:
            canonical[doc["story_id"]] = canonical.get(doc["story_id"], False) or doc["canonical"]
        for story in [s for s, found in canonical.items() if found]:
            self.waiting.pop(story, None)
        for story in rechecked & self.waiting.keys():
            self.waiting[story] -= 1
            if not self.waiting[story]:
                del self.waiting[story]
                logger.info("story %s still has no canonical copy after %d looks: no longer looked up",
                            story, _RECHECKS)
        for story in [s for s, found in canonical.items() if not found and s not in self.waiting]:
            self.waiting[story] = _RECHECKS
            if len(self.waiting) > _WAITING_MAX:
                oldest = next(iter(self.waiting))
                del self.waiting[oldest]
                logger.warning("story %s no longer waits for its canonical copy (over %d waiting): its "
                               "copies keep their own dates if it comes", oldest, _WAITING_MAX)

    def renaming(self, former: set[str], story_id: str) -> None:
        """``set_story`` moves copies of the stories ``former`` to ``story_id``: the next
        sends look under the former ids, until one is confirmed (``sent``)."""
        former = former - {story_id}
        self.touched |= former | {story_id}
        self.renamed.update(dict.fromkeys(former, story_id))
        self.renamed.pop(story_id, None)        # its id again: no longer a former one

    def _follow_renames(self, latest: dict[str, dict], light: list[dict]) -> set[str]:
        """Copies still under a former story id join the story it became (see the module
        docstring): the ids of the stored ones moved (``light``, changed in place); the
        ``latest`` ones are changed in place."""
        moved = set()
        for doc in light:
            story_id, hops = doc["story_id"], 0
            while story_id in self.renamed and hops < len(self.renamed):     # renamed again since
                story_id, hops = self.renamed[story_id], hops + 1
            if story_id != doc["story_id"]:
                doc["story_id"], doc["canonical"] = story_id, False
                moved.add(doc["id"])
        members: dict[str, list[dict]] = {}
        for doc in [*light, *latest.values()]:
            members.setdefault(doc["story_id"], []).append(doc)
        for story_id, copies in members.items():
            prefix = founder_prefix(story_id)
            if any(d["canonical"] for d in copies) or not prefix:
                continue
            founders = [h["_source"] for h in iter_hits(self.client, self.articles, {"prefix": {"id": prefix}},
                                                         [{"id": "asc"}], STORY_FIELDS)]
            now = next((f["story_id"] for f in founders if f["story_id"] != story_id), None)
            if now is None:
                continue
            for doc in copies:
                doc["story_id"], doc["canonical"] = now, False
                if doc["id"] not in latest:
                    moved.add(doc["id"])
        return moved

    def sent(self, docs: list[dict], confirmed: bool) -> None:
        """``docs`` reached the server (searchable at the next refresh); ``confirmed``: so
        did every action of the last ``fixes``, whose lookups are settled."""
        if confirmed:
            self.touched -= self._looked_up
            for story in self._looked_up:
                self.renamed.pop(story, None)
            self._looked_up = set()
        for doc in docs:    # (a copy moved to another story leaves its old one)
            self._unrefreshed.get(self._unrefreshed_story.get(doc["id"]), {}).pop(doc["id"], None)
            self._unrefreshed_story[doc["id"]] = doc["story_id"]
            self._unrefreshed.setdefault(doc["story_id"], {})[doc["id"]] = {k: doc[k] for k in STORY_FIELDS}

    def refreshed(self) -> None:
        """What was sent is searchable now, and maybe what other workers sent."""
        self._unrefreshed.clear()
        self._unrefreshed_story.clear()
        self._recheck = True
