"""text.random_topic_subsets: disjoint random topic groups near their character shares."""

from __future__ import annotations

import pytest

from course_utils.lib.text import random_topic_subsets

TOPICS = {f"t{i:02d}": "x" * (10 + 7 * i) for i in range(30)}


def test_groups_are_disjoint_random_and_within_their_share() -> None:
    total = sum(map(len, TOPICS.values()))
    a = random_topic_subsets(TOPICS, (0.2, 0.3), seed=0)
    b = random_topic_subsets(TOPICS, (0.2, 0.3), seed=1)
    assert a != b and a == random_topic_subsets(TOPICS, (0.2, 0.3), seed=0)
    assert not set(a[0]) & set(a[1])
    for group, share in zip(a, (0.2, 0.3)):
        chars = sum(len(TOPICS[n]) for n in group)
        assert 0.8 * share * total <= chars <= share * total
    assert sorted(a[0]) != sorted(TOPICS)[: len(a[0])]  # not the alphabetically first topics


def test_bad_shares_raise() -> None:
    with pytest.raises(ValueError):
        random_topic_subsets(TOPICS, (0.7, 0.5), seed=0)
    with pytest.raises(ValueError):
        random_topic_subsets(TOPICS, (1e-6,), seed=0)
