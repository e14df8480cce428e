"""The corpus loader: a fixed, disjoint split by topic, a shared vocabulary, encode/decode."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.lib import text
from course_utils.lib.text import load_corpus, make_corpus, split_topics

TINY = {"b": "bee (2)\n", "a": "ant [1]\n", "d": "dog \"4\"\n", "c": "cat 3\n", "e": "eel ~5\n"}


def test_split_is_fixed_disjoint_and_complete():
    train, valid = split_topics(TINY, valid_every=2)
    assert valid == ["b", "d"] and train == ["a", "c", "e"]          # sorted, every 2nd
    assert split_topics(dict(reversed(list(TINY.items()))), 2) == (train, valid)
    assert not set(train) & set(valid) and set(train) | set(valid) == set(TINY)


def test_corpus_text_vocab_and_round_trip():
    c = make_corpus(TINY, valid_every=2)
    assert c.train == "ant [1]\n\n\ncat 3\n\n\neel ~5\n\n\n"
    assert c.valid == "bee (2)\n\n\ndog \"4\"\n\n\n"
    assert c.chars == "".join(sorted(set(c.train + c.valid)))
    ids = c.encode(c.valid)
    assert ids.dtype == np.int64 and ids.shape == (len(c.valid),)
    assert c.decode(ids) == c.valid and c.vocab_size == len(c.chars)


def test_fraction_keeps_the_start_of_training_text_only():
    full, part = make_corpus(TINY, 2), make_corpus(TINY, 2, fraction=0.5)
    assert full.train.startswith(part.train) and len(part.train) == round(len(full.train) / 2)
    assert part.valid == full.valid and part.chars == full.chars


@pytest.mark.parametrize("kwargs", [{"valid_every": 1}, {"fraction": 0.0}, {"fraction": 1.5},
                                    {"valid_every": 9}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        make_corpus(TINY, **kwargs)


def test_pydoc_corpus_split():
    c = load_corpus()
    assert len(c.train_topics) + len(c.valid_topics) == len(set(c.train_topics + c.valid_topics))
    assert 0.08 < len(c.valid) / (len(c.train) + len(c.valid)) < 0.25
    assert set(c.train) | set(c.valid) == set(c.chars)


def test_fingerprint_records_checksum_and_python_and_changes_with_the_text():
    import platform

    a = make_corpus(TINY, valid_every=2)
    fp = text.corpus_fingerprint(a)
    assert fp["python"] == platform.python_version() and len(fp["sha256"]) == 16
    assert fp["train_chars"] == len(a.train) and fp["topics"] == len(TINY)
    assert "is the one" in text.compare_fingerprint(fp, a)
    b = make_corpus({**TINY, "f": "fox 6\n"}, valid_every=2)
    assert text.corpus_fingerprint(b)["sha256"] != fp["sha256"]
    assert "DIFFERS" in text.compare_fingerprint(fp, b)
    assert "do not record" in text.compare_fingerprint(None, a)
