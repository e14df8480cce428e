"""Notebook 07's lab helpers: model interface, baselines, evaluation, sampling, unit probes."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from course_utils.checks import SPECS  # noqa: E402
from course_utils.labs import char_language_model as lab  # noqa: E402


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_model_interface_state_is_a_tuple(cell):
    torch.manual_seed(0)
    m = lab.char_model(11, cell, embed=4, hidden=6)
    x = torch.randint(0, 11, (5, 3))
    logits, state = m(x, None)
    assert logits.shape == (5, 3, 11) and isinstance(state, tuple)
    logits2, _ = m(x, tuple(s.detach() for s in state))
    assert logits2.shape == (5, 3, 11)


def test_ngram_bits_orders_and_uniform():
    rng = np.random.default_rng(0)
    ids = np.tile(np.arange(5), 200)                  # perfectly predictable from the previous
    b = lab.ngram_bits(ids, ids[:300], 5, alpha=1e-3)
    assert b["uniform"] == pytest.approx(math.log2(5))
    assert b["bigram"] < 0.01 < b["unigram"] == pytest.approx(math.log2(5), abs=1e-3)
    noise = rng.integers(0, 5, 1000)
    assert lab.ngram_bits(noise, noise, 5)["bigram"] < math.log2(5)


def test_evaluate_bits_of_an_untrained_model_is_near_uniform():
    torch.manual_seed(0)
    m = lab.char_model(7, "gru", embed=3, hidden=4)
    with torch.no_grad():
        for p in m.parameters():
            p.zero_()
    ids = np.random.default_rng(1).integers(0, 7, 500)
    assert lab.evaluate_bits(m, ids, seq_len=10, batch=4) == pytest.approx(math.log2(7))


def test_fit_trains_with_a_given_loop_and_records_history():
    torch.manual_seed(0)
    ids = np.tile(np.arange(6), 300)
    x, y = SPECS["tbptt_batches"].reference(ids, 4, 10)
    m = lab.char_model(6, "lstm", embed=4, hidden=16)
    h = lab.fit(m, SPECS["train_tbptt"].reference, x, y, ids[:200], updates=60, chunk=20,
                lr=3e-2, progress=False)
    assert h.updates[-1] == 60 and h.updates == sorted(h.updates)       # chunks end at the wrap
    assert len(h.valid_bits) == len(h.train_bits) == len(h.updates)
    assert h.valid_bits[-1] < 1.0 < h.valid_bits[0] + 1
    assert h.seconds == sorted(h.seconds)


def test_generate_uses_the_given_probabilities():
    torch.manual_seed(0)
    m = lab.char_model(4, "lstm", embed=2, hidden=3)
    chars = "abcd"

    def encode(s):
        return np.array([chars.index(c) for c in s])

    def decode(ids):
        return "".join(chars[i] for i in ids)

    def always_c(logits, temperature, top_k):
        return np.eye(4)[2]

    assert lab.generate(m, encode, decode, always_c, prompt="ab", n=5) == "abccccc"
    text = lab.generate(m, encode, decode, SPECS["next_char_probs"].reference, "a", 50, 1.5, 2)
    assert len(text) == 51 and set(text) <= set(chars)


def test_text_properties_and_best_units():
    text = 'say "hi" (x [y]) ok\nab "c"\n' * 20
    props = lab.text_properties(text)
    i = text.index('"h')
    assert props["inside quotes"][i] == 1 and props["inside quotes"][text.index("i\"") + 1] == 0
    assert props["inside parentheses"][text.index("x")] == 1
    assert props["inside brackets"][text.index("[y") + 1] == 1
    assert props["position in line"][text.index("\n")] == 0 == props["position in line"][0] - 1
    noise = np.random.default_rng(0).normal(size=len(text))
    acts = np.stack([props["inside quotes"] * 2 - 1, noise], 1)
    rows = {r["property"]: r for r in lab.best_units(acts, props)}
    assert rows["inside quotes"]["unit"] == 0 and rows["inside quotes"]["r_heldout"] > 0.99


def test_coloured_html_escapes_and_colours():
    out = lab.coloured_html("<a>\n", np.array([1.0, -1.0, 0.0, 0.5]), title="unit 3")
    assert "&lt;" in out and "rgba(214,39,40,1.00)" in out and "rgba(31,119,180,1.00)" in out
    assert "unit 3" in out and "<br>" in out


def test_evaluate_bits_subset_samples_every_part_of_the_text():
    torch.manual_seed(0)
    m = lab.char_model(5, "lstm", embed=3, hidden=4)
    ids = np.concatenate([np.zeros(3000, dtype=np.int64), np.full(3000, 4)])
    full = lab.evaluate_bits(m, ids, seq_len=20, batch=8)
    assert lab.evaluate_bits(m, ids, seq_len=20, batch=8, max_chars=10_000) == full
    quick = lab.evaluate_bits(m, ids, seq_len=20, batch=8, max_chars=800)
    first_half = lab.evaluate_bits(m, ids[:3000], seq_len=20, batch=8)
    assert abs(quick - full) < abs(first_half - full)          # both halves are sampled
