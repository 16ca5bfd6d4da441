"""The compiled MinHash kernels (pipelines/stories/minhash.py): band keys are stored in
every index, so they must stay exactly what earlier releases wrote, and the set
operations must agree with numpy's."""
from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from benchmarks.dedup.corpus import generate
from index.sqlite.dedup import band_ints
from pipelines.stories import minhash
from index.normalize import dedup_codepoints, dedup_form, normalize_text

EDGE_TEXTS = ["", "宿", "宿迁市", "宿迁市宿城", "𠀀𠀁𠀂𠀃𠀄𠀅𠀆", "區政府召開常務會議" * 3]


def test_band_keys_are_the_ones_stored_indexes_hold():
    """The digest and keys were computed by the numpy implementation the
    kernels replaced (main at 2075865): an index written before the change must
    find the same articles after it."""
    texts = [dedup_form(normalize_text(a.text)) for a in generate(300, 7)] + EDGE_TEXTS
    digest = hashlib.sha1()
    for text in texts:
        digest.update(" ".join(minhash.band_keys(minhash.shingle_hashes(text))).encode() + b"\n")
    assert digest.hexdigest() == "95814b35affab7aba3bca3f6cbe34f7c72e9088f"
    first = minhash.band_keys(minhash.shingle_hashes(texts[0]))
    assert (first[0], first[1], first[-1]) == (
        "b00:067558ea0b011e5c", "b01:1382f415de27ce60", "l7:560700b89b2b2a82")


@pytest.mark.parametrize("seed", range(5))
def test_set_kernels_agree_with_numpy(seed):
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, 2**64 - 1, 400, dtype=np.uint64, endpoint=True)
    a = rng.choice(pool, int(rng.integers(0, 300)))         # with repeats
    b = rng.choice(pool, int(rng.integers(0, 300)))
    assert np.array_equal(minhash.unique_sorted(a), np.unique(a))
    assert minhash.overlap(np.unique(a), np.unique(b)) == np.intersect1d(a, b).size
    assert minhash.overlap(np.unique(a), np.empty(0, np.uint64)) == 0


def test_shingles_of_short_texts():
    assert minhash.shingle_hashes("").size == 0
    assert minhash.shingle_hashes("宿迁").size == 1           # shorter than a shingle: one
    assert minhash.shingle_hashes("宿迁市宿城区").size == 2
    # a shingle is its characters, wherever it sits
    hashes = minhash.shingle_hashes("宿迁市宿城区宿迁市宿城")
    assert hashes[0] == hashes[-1]


def test_band_keys_carry_the_values_they_spell():
    """``BandKeys`` lets the SQLite index skip parsing the hex; the shortcut must
    give what parsing gives."""
    text = dedup_form(normalize_text(next(iter(generate(1, 3))).text))
    keys = minhash.band_keys(minhash.shingle_hashes(text))
    assert len(keys) == minhash.BANDS + minhash.LEAD_BANDS
    assert band_ints(keys).tolist() == band_ints(list(keys)).tolist()


def test_dedup_form_drops_what_the_word_regex_drops():
    """The dedup form was ``re.sub(r"[\\W_]+", "", text)``; the lookup table that
    replaced it must keep exactly the same characters, all 1.1M code points (a
    lone surrogate included), or stored text hashes would stop matching."""
    every = "".join(chr(c) for c in range(0x110000))
    assert dedup_form(every) == re.sub(r"[\W_]+", "", every)
    text = normalize_text("【宿遷網訊】10月8日，區政府召開（第9次）常務會議_ＡＢＣ１２３ 🎉\u3000詳見附件。")
    assert dedup_form(text) == re.sub(r"[\W_]+", "", text) == "宿迁网讯10月8日区政府召开第9次常务会议abc123详见附件"
    # shingling the code points is shingling the string
    assert np.array_equal(minhash.shingle_hashes(dedup_codepoints(text)), minhash.shingle_hashes(dedup_form(text)))
