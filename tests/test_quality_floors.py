"""newsmon's extraction quality on the dev set stays above the pinned floors (no peers run here).

The floors and the corpus digest they were measured on live together in
tests/quality_floors.json; tests/quality_gate.py measures, compares
and (with --pin) raises them, refusing to lower one without --allow-regression.
"""
from __future__ import annotations

import json

import pytest

import quality_gate as gate


@pytest.fixture(scope="module")
def measured():
    return gate.measure()


def test_dev_set_is_big_enough(measured):
    real = [name for name in measured["per_page"] if not name.startswith("fixture:")]
    assert len(real) >= 40, "the issue asks for at least 40 real pages with gold"


def test_corpus_is_the_one_the_floors_were_measured_on(measured):
    pinned = gate.load_floors()
    assert measured["corpus_digest"] == pinned["corpus_digest"], (
        "tests/pages or the fixture gold changed: re-measure and re-pin with "
        "`python tests/quality_gate.py --pin` (it refuses to lower a floor)")


@pytest.mark.parametrize("name", sorted(gate.load_floors()["floors"]))
def test_score_is_above_its_floor(measured, name):
    floor = gate.load_floors()["floors"][name]
    assert measured["scores"][name] >= floor, f"{name} {measured['scores'][name]:.4f} < floor {floor}"


def test_every_page_is_above_its_own_floor(measured):
    below = gate.pages_below_floor(measured, gate.load_floors())
    assert gate.load_floors()["page_floors"], "floors.json pins no per-page floors"
    assert not below, "; ".join(f"{name} F1 {score:.3f} < floor {floor}" for name, score, floor in below)


def test_no_leaks_outside_known_gaps(measured):
    assert not measured["leaks"]


def test_pin_refuses_to_lower_a_floor(measured, monkeypatch, tmp_path):
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"corpus_digest": measured["corpus_digest"], "pages": 1,
                                  "floors": {name: 1.01 for name in measured["scores"]}}))
    monkeypatch.setattr(gate, "FLOORS", floors)
    errors = gate.pin(measured, allow_regression=False)
    assert errors and "refusing to lower" in errors[0]
    assert json.loads(floors.read_text())["floors"]["mean_f1"] == 1.01   # untouched


def test_pin_refuses_to_lower_one_page_floor(measured, monkeypatch, tmp_path):
    page = sorted(measured["per_page"])[0]
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"corpus_digest": measured["corpus_digest"], "pages": 1, "floors": {},
                                  "page_floors": {page: 1.01}}))
    monkeypatch.setattr(gate, "FLOORS", floors)
    errors = gate.pin(measured, allow_regression=False)
    assert errors and f"page {page}" in errors[0]
    assert gate.pages_below_floor(measured, gate.load_floors()) == [(page, measured["per_page"][page], 1.01)]
