"""Notebook 10's lab: the dates task, the models, training/evaluation, the trial's verdicts and
08's ledger rows (tiny sizes: cheap)."""

from __future__ import annotations

import datetime
import itertools
import json
import random

import numpy as np
import pytest
import torch

from course_utils.labs.attention import dates as D
from course_utils.labs.attention import models as M
from course_utils.labs.attention import train as TR
from course_utils.labs.attention import trial as TL


@pytest.fixture(scope="module")
def small():
    return TR.Data.make(seed=3, n_train=300, n_valid=40, n_test=40, n_longer=40)


# --------------------------------------------------------------------------- the task
def test_ordinal_and_render():
    assert [D.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]
    day = datetime.date(2021, 3, 3)
    rng = random.Random(0)
    seen = {D.render(day, "weekday_long", rng) for _ in range(40)}
    assert "Wednesday, March 3rd 2021" in seen and "wednesday, march 3rd 2021" in seen
    assert D.render(day, "dd/mm/yy", rng) == "03/03/21"
    with pytest.raises(KeyError, match="unknown date format"):
        D.render(day, "nope", rng)


def test_splits_held_out_by_date_and_length():
    days = D.split_days(0)
    assert not set(days["train"]) & set(days["test"]) and not set(days["train"]) & set(days["valid"])
    s = D.make_splits(0, n_train=2000, n_valid=200, n_test=200, n_longer=200)
    assert s == D.make_splits(0, n_train=2000, n_valid=200, n_test=200, n_longer=200)  # seeded
    train_targets = {t for _, t in s["train"]}
    for name in ("valid", "test", "longer"):
        assert not {t for _, t in s[name]} & train_targets, name
    assert max(len(x) for x, _ in s["train"] + s["valid"] + s["test"]) <= D.MAX_TRAIN_LEN
    assert min(len(x) for x, _ in s["longer"]) > D.MAX_TRAIN_LEN
    test_days = {d.isoformat() for d in days["test"]}
    assert {t for _, t in s["longer"]} <= test_days
    for _src, tgt in s["train"][:200]:  # every target is the ISO form of a real date
        assert D.parse_iso(tgt) is not None and len(tgt) == D.TARGET_LEN
    with pytest.raises(ValueError, match="fractions"):
        D.split_days(0, (0.5, 0.5, 0.0))


def test_every_long_format_also_renders_short():
    """The longer split is new in length only: each format that can exceed the limit also has
    renderings within it (seen in training)."""
    rng = random.Random(1)
    for fmt in D.FORMATS:
        lengths = {len(D.render(d, fmt, rng)) for d in D.all_days()[::11]}
        assert min(lengths) <= D.MAX_TRAIN_LEN, fmt


# --------------------------------------------------------------------------- the models
def test_equal_parameters(small):
    sizes = M.matched(*small.sizes, hidden=12)
    counts = [s["params"] for s in sizes.values()]
    assert max(counts) / min(counts) < 1.03, sizes
    for arm, s in sizes.items():
        assert M.n_params(M.build(arm, s["size"], *small.sizes, ff=s["ff"] or None)) == s["params"]


@pytest.mark.parametrize("arm", M.ARMS)
def test_shapes_and_padding_invariance(small, arm):
    torch.manual_seed(0)
    net = M.build(arm, 12, *small.sizes).eval()
    sp = small.splits["test"]
    src, n, dec_in = sp.src[:5], sp.src_len[:5], sp.dec_in[:5]
    logits = net(src, n, dec_in)
    assert logits.shape == (5, M.OUT_LEN, len(small.tgt_vocab))
    padded = torch.cat([src, torch.full((5, 4), D.PAD)], 1)  # more padding changes nothing
    torch.testing.assert_close(net(padded, n, dec_in), logits, rtol=1e-5, atol=1e-5)
    toks, w = net.greedy(src, n)
    assert toks.shape == (5, M.OUT_LEN)
    if arm.endswith("+attn"):
        assert w.shape == (5, M.OUT_LEN, src.shape[1])
        torch.testing.assert_close(w.sum(-1), torch.ones(5, M.OUT_LEN))
        assert float(w.masked_select((src == D.PAD)[:, None, :].expand_as(w)).abs().max()
                     if (src == D.PAD).any() else 0.0) == 0.0
    else:
        assert w is None


def test_transformer_decoder_is_causal(small):
    torch.manual_seed(0)
    net = M.build("Transformer", 16, *small.sizes).eval()
    sp = small.splits["test"]
    a = net(sp.src[:3], sp.src_len[:3], sp.dec_in[:3])
    changed = sp.dec_in[:3].clone()
    changed[:, 6:] = 3
    b = net(sp.src[:3], sp.src_len[:3], changed)
    torch.testing.assert_close(a[:, :6], b[:, :6])
    assert not torch.allclose(a[:, 6:], b[:, 6:])


def test_additive_attention_matches_formula():
    torch.manual_seed(1)
    net = M.Seq2Seq("gru", 10, 8, hidden=6, attention=True)
    s, keys = torch.randn(3, 6), torch.randn(3, 5, 6)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.bool)
    ctx, w = net.attend(s, keys, net.W_k(keys), mask)
    Wq, Wk, v = net.W_q.weight, net.W_k.weight, net.v.weight[0]
    e = torch.tanh(s[:, None] @ Wq.T + keys @ Wk.T) @ v  # (B, S)
    ref = torch.softmax(e.masked_fill(~mask, -1e30), 1)
    torch.testing.assert_close(w, ref)
    torch.testing.assert_close(ctx, (ref[:, :, None] * keys).sum(1))


# --------------------------------------------------------------------------- decoding
def _toy_step(V: int, seed: int):
    table = np.random.default_rng(seed).normal(size=(50, V))

    def step(prefix):
        logits = table[hash(prefix) % 50] * 3
        return logits - np.log(np.exp(logits).sum())
    return step


def test_beam_decode_matches_exhaustive_search():
    V, L = 4, 3  # tokens 0..3 with EOS = 2; BOS = 1 is only a start symbol
    for seed in range(5):
        step = _toy_step(V, seed)
        best = None
        for n in range(1, L + 1):
            for seq in itertools.product(range(V), repeat=n):
                if D.EOS in seq[:-1] or (n < L and seq[-1] != D.EOS):
                    continue
                lp, pre = 0.0, (D.BOS,)
                for t in seq:
                    lp += step(pre)[t]
                    pre += (t,)
                if best is None or (lp, [-x for x in seq]) > (best[0], [-x for x in best[1]]):
                    best = (lp, seq)
        toks, lp = TR.beam_decode(step, beam_width=V ** L, max_len=L)
        assert toks == list(best[1]) and lp == pytest.approx(best[0])
        g_toks, g_lp = TR.beam_decode(step, beam_width=1, max_len=L)
        assert g_lp <= lp + 1e-12


def test_fit_exposure_and_step_fn(small):
    make = M.factory("GRU+attn", {"size": 8, "ff": 0, "params": 0}, *small.sizes)
    evals = TR.fit_run(make, 3e-3, seed=0, updates=6, data=small, eval_every=3)
    assert [e["update"] for e in evals] == [3, 6]
    for e in evals:
        assert {"valid", "test", "longer", "seconds", "train_loss"} <= set(e)
        assert all(0.0 <= e[k] <= 1.0 for k in ("valid", "test", "longer"))
    torch.manual_seed(0)
    net = make()
    ex = TR.exposure(net, small.splits["test"])
    assert set(ex) == {"teacher-forced token accuracy", "free-running token accuracy",
                       "teacher-forced cross-entropy", "free-running cross-entropy", "exact match"}
    lp = TR.step_fn(net, small.splits["test"].texts[0][0], small.src_vocab)((D.BOS, 5))
    assert lp.shape == (len(small.tgt_vocab),) and np.exp(lp).sum() == pytest.approx(1.0)
    assert TR.decode_targets(torch.tensor([[5, 6, D.EOS, 7]]), small.tgt_vocab) == [
        small.tgt_vocab[5] + small.tgt_vocab[6]]


# --------------------------------------------------------------------------- verdicts
def _fake_result(test: dict[str, list[float]], longer: dict[str, list[float]]) -> dict:
    records = []
    for arm in M.ARMS:
        for seed, (t, lo) in enumerate(zip(test[arm], longer[arm])):
            evals = [{"update": 50, "seconds": 1.0 + seed, "valid": t / 2, "test": 0.0, "longer": 0.0},
                     {"update": 100, "seconds": 2.0 + seed, "valid": t, "test": t, "longer": lo}]
            records.append({"arm": arm, "lr": 1e-3, "seed": seed, "evals": evals})
    return {"arms": {a: {"size": 8, "ff": 0, "params": 1000 + i} for i, a in enumerate(M.ARMS)},
            "records": records, "chosen_lr": {a: 1e-3 for a in M.ARMS}, "lrs": [1e-3],
            "seeds": [0, 1, 2, 3, 4], "select_seeds": [0], "budget": {"updates": 100},
            "batch": 64, "file": "results/attention/x.json",
            "task": {"max_train_len": 24, "longer_lengths": [25, 30]}}


def test_ledger_rows_from_data():
    hi, lo = [0.95, 0.96, 0.97, 0.98, 0.99], [0.1, 0.12, 0.14, 0.16, 0.18]
    test = {"GRU": lo, "LSTM": lo, "GRU+attn": hi, "LSTM+attn": hi, "Transformer": hi}
    longer = {"GRU": lo, "LSTM": lo, "GRU+attn": hi, "LSTM+attn": hi, "Transformer": lo}
    rows = TL.ledger_rows(_fake_result(test, longer))
    assert len(rows) == 5 and all(len(r) == 3 for r in rows)
    assert rows[0][1].count("[holds]") == 2  # attention beats no attention on test (GRU, LSTM)
    assert rows[2][1].count("[reversed]") == 2  # the Transformer loses on longer inputs
    assert rows[3][1].startswith("[no difference detected]") and "[not decided]" in rows[3][1]
    assert "1,000–1,004 parameters" in rows[0][2]
    assert all(r[1].startswith("not measured yet") for r in TL.ledger_rows(None))


def test_ledger_rows_of_08(tmp_path, monkeypatch):
    from course_utils.labs.lstm_vs_gru import attention_rows as AR
    from course_utils.lib import results

    monkeypatch.setattr(results, "results_dir", lambda: tmp_path)
    rows = AR.attention_ledger_rows(13)
    assert len(rows) == 1 and "not measured yet" in rows[0][1] and "--suite dates" in rows[0][1]
    assert "not measured here" in AR.transformers_row()[1]
    (tmp_path / "attention").mkdir()
    (tmp_path / "attention" / "a.json").write_text(json.dumps(
        {"ledger_rows": [["claim A", "holds", "regime"], ["claim B", "reversed", "r"]]}))
    (tmp_path / "attention" / "b.json").write_text(json.dumps({"command": "python -m x"}))
    rows = AR.attention_ledger_rows(13)
    assert [r[0] for r in rows] == ["13 · claim A", "14 · claim B", f"15 · {AR.CLAIM}"]
    assert "python -m x" in rows[2][1]
    assert "rows 13–15" in AR.transformers_row(13)[1]


def test_transformer_embeddings_do_not_drown_positions(small):
    """Embeddings start at std d^-1/2, so after the √d scale tokens and positions have the same
    size (torch's default std 1 times √d would drown the sinusoids)."""
    torch.manual_seed(0)
    net = M.build("Transformer", 32, *small.sizes)
    scaled = net.src_emb.weight.detach()[1:] * 32 ** 0.5
    assert 0.7 < float(scaled.std()) < 1.3
    assert float(net.src_emb.weight.detach()[D.PAD].abs().max()) == 0.0


def test_plots(small, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils.labs.attention import plots

    w = np.full((11, 6), 1 / 6)
    ax = plots.attention_map(w, "3 Mar ", "2021-03-03", "t")
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "␣"
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "</s>"
    with pytest.raises(ValueError, match="do not match"):
        plots.attention_map(np.ones((3, 3)), "abcd", "xy", "t")
    hi, lo = [0.95, 0.96, 0.97, 0.98, 0.99], [0.1, 0.12, 0.14, 0.16, 0.18]
    r = _fake_result({a: hi for a in M.ARMS}, {a: lo for a in M.ARMS})
    headers, rows = plots.accuracy_table(r)
    assert len(rows) == 5 and rows[0][3].startswith("0.970 [")
    assert rows[0][2] == "0.001 (grid's edge)"  # a one-rate grid: every choice is at its edge
    r["lrs"] = [1e-4, 1e-3, 1e-2]
    assert plots.accuracy_table(r)[1][0][2] == "0.001"
    for x in ("update", "seconds"):
        plots.curves(r, x, "valid")
    plt.close("all")
