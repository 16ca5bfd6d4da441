"""Pairwise clustering quality against a known truth (the dedup benchmark's generated
corpus, the story tests): how well stories group an article's copies.

A pair of articles is positive when both copies belong to one true story.
Precision = predicted-together pairs that are truly together / predicted-together
pairs; recall = truly-together pairs predicted together / truly-together pairs.
Counted from cluster-size contingencies, so 1M articles need no pair list.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


@dataclass
class PairScores:
    precision: float
    recall: float
    true_pairs: int
    predicted_pairs: int
    sibling_stories: int          # pairs of look-alike stories (same family)
    sibling_stories_merged: int   # ... that share a predicted cluster

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def pair_scores(truth: list[int], predicted: list, families: list[int]) -> PairScores:
    """``truth[i]``/``predicted[i]``: story of article i; ``families[i]``: its look-alike group or -1."""
    both = Counter(zip(truth, predicted))
    together = sum(_pairs(n) for n in both.values())
    true_pairs = sum(_pairs(n) for n in Counter(truth).values())
    predicted_pairs = sum(_pairs(n) for n in Counter(predicted).values())
    stories_of_family: dict[int, set[int]] = defaultdict(set)
    clusters_of_story: dict[int, set] = defaultdict(set)
    for story, cluster, family in zip(truth, predicted, families):
        if family >= 0:
            stories_of_family[family].add(story)
            clusters_of_story[story].add(cluster)
    siblings = merged = 0
    for stories in stories_of_family.values():
        ordered = sorted(stories)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                siblings += 1
                merged += bool(clusters_of_story[a] & clusters_of_story[b])
    return PairScores(precision=together / predicted_pairs if predicted_pairs else 1.0,
                      recall=together / true_pairs if true_pairs else 1.0,
                      true_pairs=true_pairs, predicted_pairs=predicted_pairs,
                      sibling_stories=siblings, sibling_stories_merged=merged)
