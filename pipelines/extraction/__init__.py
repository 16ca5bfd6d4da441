"""Extraction building blocks (design.md: decode, candidates, cleaning rules, dates, titles, spam).

For now it holds the body candidates and the selector (issue 17); the other parts still
live in ``pipelines/`` and move here later.
"""
