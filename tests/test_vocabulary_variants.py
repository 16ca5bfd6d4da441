"""The traditional spellings of the marker words come from a table written from OpenCC
(``python -m pipelines.extraction.vocabulary``), so no process pays OpenCC's dictionaries at import."""
from __future__ import annotations

import subprocess
import sys

from pipelines.extraction import vocabulary as V


def test_table_is_what_opencc_says():
    table = V._TABLE
    assert len(table) > 300
    stale = {word: (spellings, V.opencc_spellings(word)) for word, spellings in table.items()
             if spellings != V.opencc_spellings(word)}
    assert not stale, f"rerun `python -m pipelines.extraction.vocabulary`: {list(stale.items())[:3]}"


def test_importing_the_extractor_loads_no_opencc_dictionary():
    code = ("import pipelines.extract, pipelines.extraction.clean, pipelines.extraction.linekinds\n"
            "from pipelines.extraction import vocabulary as V\n"
            "assert not V.MISSING, f'words not in vocabulary_variants.json: {sorted(V.MISSING)[:5]}'\n"
            "assert V._converter.cache_info().currsize == 0\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-1500:]
