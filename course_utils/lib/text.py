"""A text corpus that every Python install carries: the documentation topics of ``pydoc_data``.

    from course_utils.lib.text import load_corpus
    corpus = load_corpus()                    # ~465 KB of English prose about Python, no download
    corpus.train, corpus.valid                # str: training and validation text (disjoint topics)
    ids = corpus.encode(corpus.train)         # (N,) int64 character ids
    corpus.decode(ids[:80])                   # back to text

``pydoc_data.topics.topics`` maps 79 topic names ("assert", "assignment", ...) to the text that
``help("assert")`` prints. The corpus is the topics in sorted order, each followed by a blank
line; the split is *by topic* and fixed: every ``valid_every``-th topic (the 4th, 8th, ... in
sorted order: 19 topics, about 15 % of the text) is validation text, the rest is training
text, so no paragraph is in both. The vocabulary is every character of the whole corpus (train
and validation), sorted, so validation text never meets an unknown character.

For the data-size sweep, ``fraction`` keeps the first fraction of the training text (the
validation text stays the same), so models trained on 10 %, 30 % and 100 % are judged alike.
The first fraction is the alphabetically first *topics* ("assert", "assignment", ...): a
smaller share is also a different mix of subjects, not only less text.

The topics change with the Python version, so every result file records
:func:`corpus_fingerprint` (a checksum of the text and the Python version that produced it), and
:func:`compare_fingerprint` says whether the live corpus is the one a result was made with.

Reference: Karpathy (2015), "The unreasonable effectiveness of recurrent neural networks"
(char-rnn), which trains on a single text file the same way.
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

SEPARATOR = "\n\n"


def load_topics() -> dict[str, str]:
    """The pydoc topics: ``{topic name: text}`` (standard library, nothing to download)."""
    from pydoc_data.topics import topics

    return dict(topics)


def split_topics(topics: Mapping[str, str], valid_every: int = 4) -> tuple[list[str], list[str]]:
    """Topic names in sorted order, split into (train, validation): every ``valid_every``-th one
    (1-based: the 4th, 8th, ...) is validation. Fixed, disjoint, and covering every topic."""
    if valid_every < 2:
        raise ValueError(f"valid_every must be >= 2, got {valid_every}")
    names = sorted(topics)
    valid = [n for i, n in enumerate(names) if (i + 1) % valid_every == 0]
    train = [n for i, n in enumerate(names) if (i + 1) % valid_every != 0]
    return train, valid


@dataclass
class Corpus:
    """Training and validation text, and the character vocabulary shared by both."""

    train: str
    valid: str
    chars: str  # the vocabulary, sorted; id i <-> chars[i]
    train_topics: list[str] = field(default_factory=list)
    valid_topics: list[str] = field(default_factory=list)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Text -> (len(text),) int64 ids. Raises KeyError on a character outside the vocabulary."""
        index = {c: i for i, c in enumerate(self.chars)}
        return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids: np.ndarray | list[int]) -> str:
        """Ids (any iterable of ints) -> text."""
        return "".join(self.chars[int(i)] for i in ids)


def make_corpus(topics: Mapping[str, str], valid_every: int = 4,
                fraction: float = 1.0) -> Corpus:
    """A :class:`Corpus` from ``{name: text}`` (tests pass a tiny dict; see :func:`load_corpus`)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    train_names, valid_names = split_topics(topics, valid_every)
    if not train_names or not valid_names:
        raise ValueError(f"{len(topics)} topics cannot be split with valid_every={valid_every}")
    train = "".join(topics[n] + SEPARATOR for n in train_names)
    valid = "".join(topics[n] + SEPARATOR for n in valid_names)
    chars = "".join(sorted(set(train) | set(valid)))
    train = train[: max(1, int(round(len(train) * fraction)))]
    return Corpus(train, valid, chars, train_names, valid_names)


def load_corpus(valid_every: int = 4, fraction: float = 1.0) -> Corpus:
    """The pydoc_data corpus (about 400 K training and 68 K validation characters)."""
    return make_corpus(load_topics(), valid_every, fraction)


def corpus_fingerprint(corpus: Corpus | None = None) -> dict[str, Any]:
    """``{"sha256": first 16 hex digits of the checksum of train + valid text, "python": the
    version, "train_chars", "valid_chars", "topics"}`` of ``corpus`` (default: the live one)."""
    corpus = corpus if corpus is not None else load_corpus()
    digest = hashlib.sha256((corpus.train + "\x00" + corpus.valid).encode("utf-8")).hexdigest()
    return {"sha256": digest[:16], "python": platform.python_version(),
            "train_chars": len(corpus.train), "valid_chars": len(corpus.valid),
            "topics": len(corpus.train_topics) + len(corpus.valid_topics)}


def compare_fingerprint(recorded: Mapping[str, Any] | None, corpus: Corpus | None = None) -> str:
    """One sentence: is the live corpus the one ``recorded`` (a result file's ``"corpus"``)
    was measured on? Results made on another text are not comparable figure for figure."""
    live = corpus_fingerprint(corpus)
    if not recorded or "sha256" not in recorded:
        return ("the committed results do not record their corpus, so whether they used the same "
                f"text as this Python ({live['python']}) cannot be told")
    if recorded["sha256"] == live["sha256"]:
        return (f"the live corpus is the one the committed results used (checksum "
                f"{live['sha256']}, Python {recorded.get('python', '?')} there, "
                f"{live['python']} here)")
    return (f"the live corpus DIFFERS from the one the committed results used (Python "
            f"{recorded.get('python', '?')}: {recorded.get('train_chars', '?')} + "
            f"{recorded.get('valid_chars', '?')} characters; here Python {live['python']}: "
            f"{live['train_chars']} + {live['valid_chars']}): compare their figures with yours "
            "only roughly")


def random_topic_subsets(topics: Mapping[str, str], shares: tuple[float, ...],
                         seed: int) -> list[list[str]]:
    """Disjoint *random* groups of topic names, group k holding at most (and close to)
    ``shares[k]`` of the characters: topics are shuffled with ``seed`` and each goes to the first
    group it still fits in; the topics that fit nowhere are not returned. Used by notebook 08's
    data-size trial: random subsets, not the alphabetically first topics."""
    if not shares or any(s <= 0 for s in shares) or sum(shares) > 1 + 1e-9:
        raise ValueError(f"shares must be positive and sum to at most 1, got {shares}")
    names = sorted(topics)
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    total = sum(len(topics[n]) for n in names)
    groups: list[list[str]] = [[] for _ in shares]
    room = [s * total for s in shares]
    for name in order:
        for k, r in enumerate(room):
            if len(topics[name]) <= r:
                groups[k].append(name)
                room[k] -= len(topics[name])
                break
    if not all(groups):
        raise ValueError(f"some share of {shares} is smaller than every topic")
    return groups
