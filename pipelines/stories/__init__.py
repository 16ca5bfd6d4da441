"""The story stage: repeated and syndicated copies of one article become one story.

``minhash`` turns a text into character-shingle hashes and MinHash LSH band keys,
``similarity`` verifies a candidate (Jaccard or containment of the shingles, and
the facts the two texts state), ``clustering`` puts each article into its story
and stores it in one operation (``StoryClusterer.store``), ``quality`` scores a
clustering against a known truth (pair precision and recall), and ``warmup``
compiles the numba kernels at install time. No Scrapy here: ``pipelines/stages.py`` is the
thin item-pipeline adapter the crawl runs.
"""
