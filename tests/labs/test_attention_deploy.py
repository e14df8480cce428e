"""Notebook 10's deployment lab: decoders with a key/value cache or a fixed state, latency and
memory rows, crossovers, ledger rows, and the attention-deploy sweep (tiny sizes)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from course_utils.labs.attention import deploy as D  # noqa: E402
from course_utils.labs.attention import deploy_models as M  # noqa: E402


def test_transformer_step_with_cache_matches_the_causal_forward():
    torch.manual_seed(0)
    tf = M.transformer_lm(13, d=16, layers=2, heads=4)
    tf.eval()
    x = torch.randint(0, 13, (3, 7))
    full = tf(x)                                                    # (B, T, V)
    cache = tf.new_cache(3, 10)
    with torch.no_grad():
        steps = [tf.step(x[:, t], cache)[0] for t in range(7)]
    torch.testing.assert_close(torch.stack(steps, 1), full.detach(), atol=1e-5, rtol=1e-5)
    assert cache.length == 7
    assert cache.live_bytes() == 2 * 2 * 7 * 16 * 4 * 3           # k and v, layers, t, d, fp32, B


def test_full_cache_is_refused():
    tf = M.transformer_lm(5, d=8, layers=1, heads=2)
    cache = tf.new_cache(1, 2)
    tok = torch.zeros(1, dtype=torch.long)
    with torch.no_grad():
        tf.step(tok, cache)
        tf.step(tok, cache)
        with pytest.raises(ValueError, match="full"):
            tf.step(tok, cache)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_recurrent_step_matches_forward_and_state_is_fixed(cell):
    torch.manual_seed(1)
    m = M.recurrent_lm(cell, 11, embed=5, hidden=6)
    x = torch.randint(0, 11, (2, 9))
    state = m.new_state(2)
    sizes = []
    with torch.no_grad():
        outs = []
        for t in range(9):
            logits, state = m.step(x[:, t], state)
            outs.append(logits)
            sizes.append(m.state_bytes(state))
    torch.testing.assert_close(torch.stack(outs, 1), m(x).detach(), atol=1e-5, rtol=1e-5)
    assert set(sizes) == {(1 if cell == "gru" else 2) * 2 * 6 * 4}


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="divisible"):
        M.transformer_lm(5, d=10, layers=1, heads=4)
    with pytest.raises(ValueError, match="gru"):
        M.recurrent_lm("rnn", 5)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_matched_recurrent_counts_exactly(cell):
    H, count = M.matched_recurrent(cell, 17, 6, 5000)
    assert M.n_params(M.recurrent_lm(cell, 17, 6, H)) == count
    assert abs(count - 5000) <= abs(M.n_params(M.recurrent_lm(cell, 17, 6, H + 1)) - 5000)


def test_deploy_models_have_equal_parameters():
    info = D.describe(D.deploy_models())
    counts = [v["params"] for v in info.values()]
    assert set(info) == {"GRU", "LSTM", "Transformer"}
    assert max(counts) / min(counts) < 1.01


def test_decode_latency_rows_and_memory():
    models = D.deploy_models(vocab=9, d=8, layers=1, heads=2, embed=4)
    rows = D.decode_latency(models, lengths=(1, 3, 6), repeats=2, warmup=1)
    assert len(rows) == 9 and all(r["median_ms"] > 0 for r in rows)
    mem = {(r["model"], r["length"]): r["state_bytes"] for r in rows}
    assert [mem["Transformer", n] for n in (1, 3, 6)] == [2 * 1 * n * 8 * 4 for n in (1, 3, 6)]
    assert mem["GRU", 1] == mem["GRU", 6] == models["GRU"].hidden * 4
    assert mem["LSTM", 1] == mem["LSTM", 6] == 2 * models["LSTM"].hidden * 4
    with pytest.raises(ValueError, match="positive"):
        D.decode_latency(models, lengths=(0, 2))


def test_train_time_rows():
    models = D.deploy_models(vocab=9, d=8, layers=1, heads=2, embed=4)
    rows = D.train_time(models, Ts=(4, 8), batch=2, repeats=2)
    names = {r["model"] for r in rows}
    assert names == {"GRU", "LSTM", "Transformer", "LSTM (oneDNN off)"}
    assert all(r["median_ms_per_sequence"] > 0 for r in rows) and len(rows) == 8


def _rows(values, key="median_ms", x="length"):
    return [{"model": m, x: n, key: v} for m, series in values.items() for n, v in series.items()]


def test_crossover_finds_the_first_length_and_none():
    rows = _rows({"A": {1: 1.0, 2: 2.0, 4: 5.0}, "B": {1: 3.0, 2: 3.0, 4: 3.0}})
    c = D.crossover(rows, "median_ms", "A", "B")
    assert c["first_x_a_above_b"] == 4 and c["a_above_b_at"] == [4]
    assert c["ratio_a_over_b"]["1"] == pytest.approx(1 / 3, abs=1e-3)
    assert D.crossover(rows, "median_ms", "B", "A")["first_x_a_above_b"] == 1
    assert "cheaper below n = 4" in D._side(c, "n", "tokens", [1, 2, 4])
    back = D.crossover(_rows({"A": {1: 3.0, 2: 3.0, 4: 1.0}, "B": {1: 2.0, 2: 2.0, 4: 2.0}}),
                       "median_ms", "A", "B")
    assert D._side(back, "n", "tokens", [1, 2, 4]) == "dearer below n = 4, cheaper from 4 on"
    never = D.crossover(_rows({"A": {1: 1.0}, "B": {1: 2.0}}), "median_ms", "A", "B")
    assert never["first_x_a_above_b"] is None
    with pytest.raises(ValueError, match="no common"):
        D.crossover(rows, "median_ms", "A", "C")


def test_deploy_sweep_quick_writes_ledger_rows(tmp_path):
    from course_utils.tools.sweep import main

    out = tmp_path / "deploy.json"
    assert main(["--suite", "attention-deploy", "--quick", "--no-progress", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["command"].startswith("python -m course_utils sweep --suite attention-deploy")
    assert "shared" in res["note"] and res["machine"]["torch"]
    assert len(res["ledger_rows"]) == 3
    for claim, verdict, regime in res["ledger_rows"]:
        assert all(isinstance(s, str) and s for s in (claim, verdict, regime))
    assert "not a seeded trial" in res["ledger_rows"][0][2]
    tf = [r["state_bytes"] for r in res["decode"] if r["model"] == "Transformer"]
    assert tf == sorted(tf) and tf[0] < tf[-1]


def test_ledger_markdown_uses_notebook_08s_headers():
    from course_utils.labs.attention import deploy_plots as P
    from course_utils.labs.lstm_vs_gru.trial_ledger import LEDGER_HEADERS

    assert P.LEDGER_HEADERS == LEDGER_HEADERS
    md = P.ledger_markdown([["a | b", "c", "d"]])
    assert md.splitlines()[0] == "| " + " | ".join(LEDGER_HEADERS) + " |"
    assert "a \\| b" in md.splitlines()[2]
