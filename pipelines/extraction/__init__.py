"""The extraction stage's parts: bytes -> decoded text -> tree -> title, body, date, spam verdict.

``decode`` is the one decoder (override -> BOM -> UTF-8 -> header -> ``<meta>`` ->
detection), used by the spider and by extraction alike; ``htmltext`` and ``pagemeta``
read the parsed tree (paragraph lines, the text map, meta tags, site selectors);
``candidates`` proposes body containers and ``select`` picks one, with ``evidence``
deciding on positive evidence what is a list page, a footer or a vouched short page;
the cleaning rules are ``clean`` (line rules, in order), ``clean_tree`` (boxes, ruby,
replies), ``widgets`` and ``linekinds`` (what a line is); ``dates``, ``titles`` and
``spam`` find the date, the headline and spam from structure; ``vocabulary`` holds the
marker words as named data (their traditional spellings in ``vocabulary_variants.json``);
``quality`` scores an extraction against gold (character F1, leaks). No Scrapy here:
``pipelines/extract.py`` runs the cascade in its numbered order and is the stage's
public entry (``extract_article``); ``pipelines/stages.py`` is the thin item-pipeline
adapter the crawl runs.
"""
