"""A source's page: its health entry (as on the Sources page) and its articles per day
over the last 30 days, failed and blocked days marked (``monitor.charts``)."""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from monitor.charts import DAYS, source_chart
from monitor.health import source_status
from monitor.web.responses import render


def source_page(request: Request) -> Response:
    state = request.app.state.web
    site = request.path_params["site"]
    status = source_status(state.index, [site])[0]
    if site not in state.site_regions() and not status.runs and not status.last_run:
        raise HTTPException(404, f"没有名为 {site!r} 的来源")
    title = state.site_titles().get(site, site)
    with state.readers() as index:
        chart = source_chart(index, site, title=title)
    return render(request, "source.html", {"site": status.to_dict(), "title": title, "chart": chart, "days": DAYS})
