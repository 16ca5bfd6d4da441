"""The pipelines layer: what happens to a fetched page, with no navigation in it.

``extract.py`` is the extraction stage's public entry (``extract_article``: bytes, URL,
headers and site options in, an ``article.Article`` out), built from the parts in
``extraction/``; ``attachments/`` reads the files a notice links to and ``stories/``
groups copies of one article into a story. The Scrapy item-pipeline adapters stay thin
at this level (``stages.py``, ``alerts.py``, ``attachment_stage.py``, ``records.py``):
each wraps one of those plain functions; ``requirements.py`` checks the extractors
the stage needs are importable.
"""
