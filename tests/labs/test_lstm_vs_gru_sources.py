"""course_utils.labs.lstm_vs_gru (counting, sources, choose): the aⁿbⁿ task, claims 8-11, the
sources' comparison table and "when to choose which", on measured and made-up evidence."""

from __future__ import annotations

import copy

import pytest

torch = pytest.importorskip("torch")

from course_utils.labs import lstm_vs_gru as ex  # noqa: E402
from course_utils.labs.lstm_vs_gru import counting  # noqa: E402
from course_utils.lib import tasks  # noqa: E402


# --------------------------------------------------------------------------- counting
def test_anbn_batch_targets_padding_and_determined_steps() -> None:
    x, y, det = ex.anbn_batch([1, 3])
    assert x.shape == (6, 2, 2) and y.shape == det.shape == (6, 2)
    assert x[:, 1].argmax(-1).tolist() == [0, 0, 0, 1, 1, 1]  # a a a b b b
    assert y[:, 1].tolist() == [0, 0, 1, 1, 1, 2]  # next symbol: a a b b b $
    assert y[:, 0].tolist() == [1, 2] + [counting.IGNORE] * 4  # "ab", then padding
    assert x[2:, 0].abs().sum() == 0  # padding is all zeros
    assert det[:, 1].tolist() == [False, False, False, True, True, True]
    with pytest.raises(ValueError):
        ex.anbn_batch([0, 2])


def _oracle(up_to: int):
    """A 'model' that counts correctly up to n = up_to and predicts b forever beyond."""
    def model(x):
        n = x[..., 0].sum(0).long()  # (B,) number of a's
        L, B = x.shape[:2]
        t = torch.arange(L)[:, None]
        nxt = torch.where(t + 1 < n, 0, torch.where(t + 1 < 2 * n, 1, 2))
        nxt = torch.where((n > up_to) & (t >= n), torch.ones_like(nxt), nxt)
        return torch.nn.functional.one_hot(nxt, 3).float()  # (L, B, 3)
    return model


def test_counting_limit_finds_the_first_failure() -> None:
    assert ex.counting_limit(_oracle(7), 30) == 7
    assert ex.counting_limit(_oracle(100), 30) == 30
    assert ex.counting_limit(_oracle(0), 30) == 0


def test_train_counting_records_and_summarise() -> None:
    cfg = ex.CountingConfig(cell="gru", hidden=3, steps=4, eval_every=2, train_n=4, test_n=6)
    run = ex.train_counting(cfg)
    assert [e["update"] for e in run["evals"]] == [2, 4]
    assert all(0 <= e["train_limit"] <= 4 and 0 <= e["limit"] <= 6 for e in run["evals"])
    s = ex.summarise_counting([run, dict(run, config=dict(run["config"], seed=1))])
    assert list(s) == ["GRU H=3"] and s["GRU H=3"]["seeds"] == [0, 1]
    assert len(s["GRU H=3"]["limit"]) == 2 and s["GRU H=3"]["train_n"] == 4
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    counting.plot_limits(ax, [run, run])
    assert ax.get_legend_handles_labels()[1] == ["GRU H=3 (n=2)"]
    plt.close(fig)


# --------------------------------------------------------------------------- evidence
def _counting(lstm: list[int], gru: list[int]) -> dict:
    mk = lambda lim: {"limit": lim, "fits": [True] * len(lim), "best": lim,  # noqa: E731
                      "seeds": list(range(len(lim))), "train_n": 20, "test_n": 200,
                      "steps": 3000, "params": 100}
    return {"LSTM H=10": mk(lstm), "GRU H=10": mk(gru)}


def _charlm(lstm: dict, gru: dict) -> list[dict]:
    return [{"config": {"cell": c, "fraction": f, "updates": 500}, "final_valid_bits": b}
            for c, bits in (("lstm", lstm), ("gru", gru)) for f, bs in bits.items() for b in bs]


@pytest.fixture(scope="module")
def evidence() -> ex.Evidence:
    """Made-up sweep numbers for claims 1-7; live memory; claims 9 and 10 made up."""
    summary = {(label, T): {"final": [0.1, 0.11, 0.12], "updates": [100, 110, 120],
                            "seconds": [1.0, 1.1, 1.2], "ms": [2.0, 2.0, 2.0], "params": 1}
               for label in ex.CONFIGS for T in (10, 50)}
    long_summary = {fb: {"final": [0.001] * 3, "updates": [800, 900, 1000]} for fb in (None, 1.0)}
    speed = [{"H": H, "lstm_mkldnn_s": 1.0, "gru_mkldnn_s": 2.0, "lstm_native_s": 1.0,
              "gru_native_s": 0.8} for H in (48, 128)]
    return ex.Evidence(summary=summary, long_summary=long_summary,
                       copy_final={(c, 10): [0.5, 0.6] for c in ("rnn", "lstm", "gru")},
                       stock={c: [{"test_mse": 1.0}] * 2 for c in ("rnn", "lstm", "gru")},
                       speed=speed, param_ratio=0.75, h_lstm=48, h_gru=56,
                       baseline=tasks.ADDING_BASELINE_MSE,
                       memory=ex.memory_table([(6, 3, 4, 8)]),
                       counting=_counting([40, 35, 60], [20, 21, 20]),
                       charlm=_charlm({0.1: [2.0, 2.1], 1.0: [1.5, 1.55]},
                                      {0.1: [2.0, 2.05], 1.0: [1.7, 1.72]}))


def test_memory_table_and_claim(evidence) -> None:
    row = evidence.memory[0]
    assert row["H_gru"] > row["H"] and row["gru_params"] > row["gru"] > 0
    assert all(row[k] > 0 for k in ("lstm_mkldnn", "lstm_native"))
    claim, measure, verdict = ex.claim_memory(evidence)
    assert claim.startswith("8 · ") and "GPU: not measured (no results/gpu_*.json" in measure
    assert "at equal parameters" in verdict
    ev = copy.deepcopy(evidence)
    ev.memory = None
    assert ex.claim_memory(ev)[2] == "not measured"
    ev.gpu_memory = [{"gpu": "H100", "ratios": [0.8, 0.9]}]
    ev.memory = evidence.memory
    assert "GPU peak memory: H100 0.80–0.90" in ex.claim_memory(ev)[1]


def test_gpu_memory_ratios_pair_gru_with_lstm() -> None:
    e = dict(mode="training", H=8, B=2, dtype="fp32")
    r = {"meta": {"gpu": "X"}, "grid": [dict(e, kind="lstm", peak_mem_mib=10.0),
                                        dict(e, kind="gru", peak_mem_mib=8.0),
                                        dict(e, kind="gru", B=4, peak_mem_mib=8.0)]}
    assert ex.gpu_memory_ratios([r]) == [{"gpu": "X", "ratios": [0.8]}]
    assert ex.gpu_memory_ratios([{"meta": {"gpu": "cpu"}, "grid": []}]) == []


def test_expressive_claim_branches(evidence) -> None:
    assert ex.claim_expressive(evidence)[2].startswith(
        "holds in this budget: every LSTM seed counted further than every GRU seed; 3 of 3")
    ev = copy.deepcopy(evidence)
    ev.counting = _counting([20, 30], [25, 26])
    assert ex.claim_expressive(ev)[2] == ("not resolved in this budget: the final limits overlap "
                                          "(LSTM 20–30, GRU 25–26)")
    ev.counting["LSTM H=10"]["best"] = [40, 41]
    assert ex.claim_expressive(ev)[2].endswith("a hint, not a verdict")
    assert "best limit at any evaluation: LSTM 40–41, GRU 25–26" in ex.claim_expressive(ev)[1]
    ev.counting = _counting([10, 12], [20, 21])
    assert ex.claim_expressive(ev)[2].startswith("does not hold here")
    ev.counting = None
    assert ex.COUNTING_CMD in ex.claim_expressive(ev)[2]


def test_data_size_claim_branches(evidence) -> None:
    v = ex.claim_data_size(evidence)
    assert v[2] == "holds at this budget: the LSTM is ahead on the most data and its lead grows " \
                   "with the data"
    assert "100% of the text: 1.525 vs 1.710" in v[1]
    ev = copy.deepcopy(evidence)
    ev.charlm = _charlm({1.0: [1.8, 1.9]}, {1.0: [1.5, 1.6]})
    assert ex.claim_data_size(ev)[2].startswith("does not hold at this budget")
    ev.charlm = _charlm({1.0: [1.5, 1.7]}, {1.0: [1.6, 1.65]})
    assert ex.claim_data_size(ev)[2].startswith("not resolved")
    ev.charlm = None
    assert ex.claim_data_size(ev)[2] == f"not measured yet: run {ex.CHARLM_CMD}"


def test_ledger_table_and_when_to_choose(evidence) -> None:
    ledger = ex.claims_ledger(evidence)
    assert [r[0].split(" · ")[0] for r in ledger] == [str(n) for n in range(1, 12)]
    table = ex.comparison_table(evidence)
    assert [r[0] for r in table][:2] == ["gate blocks", "separate memory cell"]
    assert table[0][1].startswith("4: 3 gates") and table[0][2].startswith("3: 2 gates")
    assert table[1][1].startswith("yes") and table[1][2].startswith("no")
    assert all(len(r) == len(ex.COMPARISON_HEADERS) and all(r) for r in table)
    assert "LSTM H=10: n = 40, 35, 60" in table[-1][1]
    bullets = ex.when_to_choose(evidence, ledger, cpu="Test CPU")
    assert all(b.startswith("- **") for b in bullets)
    assert all("row" in b for b in bullets)
    assert any("Training time on a CPU with PyTorch: the LSTM** — row 2" in b and "Test CPU" in b
               for b in bullets)
    assert any("Counting or nesting (unbounded structure): the LSTM** — row 9" in b
               for b in bullets)
    assert bullets[-1].startswith("- **Not measured by this course**")
    ev = copy.deepcopy(evidence)
    ev.counting = None
    assert ex.comparison_table(ev)[-1][1] == "not measured yet"


def test_memory_verdict_names_the_backend_when_it_decides(evidence) -> None:
    ev = copy.deepcopy(evidence)
    ev.memory = [{"T": 5, "B": 2, "I": 3, "H": 8, "H_gru": 9, "lstm_mkldnn": 200,
                  "lstm_native": 100, "gru": 100, "gru_params": 120}]
    claim, measure, verdict = ex.claim_memory(ev)
    assert "equal H 0.50 with oneDNN on (the default), 1.00 off" in measure
    assert verdict == ("holds only with PyTorch's CPU defaults: activation memory, GRU vs LSTM, "
                       "with oneDNN on (the default) less at equal H and less at equal "
                       "parameters; with oneDNN off the same and more — the difference is "
                       "oneDNN's workspace, a property of the backend, not the cell")
    assert ex.memory_answer(ev.memory) == "LSTM"
    ev.memory[0]["lstm_mkldnn"] = 100
    assert ex.claim_memory(ev)[2].startswith("does not hold on CPU: ")
    assert "property of the backend" not in ex.claim_memory(ev)[2]
    assert ex.memory_answer(ev.memory) == "the same"
    ev.memory[0].update(lstm_native=200, lstm_mkldnn=200)
    assert ex.claim_memory(ev)[2].startswith("holds: ")


def test_answers_to_the_predictions(evidence) -> None:
    live = {c: [{"losses": [v] * 10}] for c, v in (("rnn", 0.17), ("lstm", 0.1), ("gru", 0.02))}
    assert ex.race_answer(live) == "GRU"
    assert ex.speed_answer(evidence.speed) == "LSTM"  # GRU 2x slower at every size
    mixed = [dict(evidence.speed[0]), dict(evidence.speed[1], gru_mkldnn_s=0.5)]
    assert ex.speed_answer(mixed) == "depends on the size"
    assert ex.speed_answer([dict(r, gru_mkldnn_s=1.01) for r in mixed]) == "on par"
    assert ex.solved_answer(evidence.summary, 50, 0.083) == "neither"
    assert ex.solved_answer(evidence.summary, 50, 0.5) == "both"
    assert ex.counting_answer(evidence.counting) == "LSTM"
    assert ex.counting_answer(_counting([10, 12], [30, 40])) == "GRU"
    assert ex.counting_answer(_counting([30, 40], [30, 40])) == "both"
