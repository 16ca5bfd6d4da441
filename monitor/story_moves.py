"""A story that takes a new id keeps what was recorded under its former one.

A story's id is its origin copy's (``pipelines/stories/clustering.py``); when a later-crawled
copy turns out to be the origin, the story takes that copy's id. ``story_copies``
still finds it by a former id (``index.base.founder_prefix``), so the digest's
new-story records and the links in alerts already sent keep working. Sent-alert
marks are looked up by the id itself (``<watch>/<story_id>``, monitor/alerts.py),
so they are carried over here, before the renaming page is matched: one alert
per story per watch, ever, whichever copy the story is named after.
"""
from __future__ import annotations

from monitor.alerts import ALERT_KIND
from monitor.watches import WATCH_KIND


def carry_alert_marks(state, former: str, story_id: str) -> list[str]:
    """The watches whose alert for ``former`` now also holds for ``story_id``."""
    carried = []
    for watch, _doc in state.scan(WATCH_KIND):
        mark = state.get(ALERT_KIND, f"{watch}/{former}")
        if mark is not None and state.add(ALERT_KIND, f"{watch}/{story_id}",
                                          {**mark, "story_id": story_id, "former_story_id": former}):
            carried.append(watch)
    return carried
