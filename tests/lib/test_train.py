"""Tests of course_utils.lib.train: models, parameter counts, forget-gate bias, determinism,
learning, and that training leaves the torch thread count as it found it."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from course_utils.lib.counts import param_count  # noqa: E402
from course_utils.lib.train import TrainConfig, count_params, make_model, train  # noqa: E402


def test_model_shapes_and_head() -> None:
    model = make_model("gru", 3, 5, 2)
    out = model(torch.randn(6, 4, 3))  # (T, B, I)
    assert out.shape == (6, 4, 2)
    assert count_params(model) == param_count("gru", 3, 5) + 5 * 2 + 2


def test_forget_bias() -> None:
    model = make_model("lstm", 2, 6, 1, forget_bias=1.0)
    b = model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0  # gate order i, f, g, o
    assert torch.allclose(b[6:12], torch.ones(6))
    assert not torch.allclose(b[:6], torch.ones(6))
    with pytest.raises(ValueError):
        make_model("gru", 2, 6, 1, forget_bias=1.0)


def test_train_records_and_is_deterministic() -> None:
    cfg = TrainConfig(cell="lstm", T=8, hidden=8, steps=15, batch=16, seed=1)
    a, b = train(cfg, progress=False), train(cfg, progress=False)
    assert len(a.losses) == len(a.seconds) == 15
    assert a.losses == b.losses
    assert all(s2 >= s1 for s1, s2 in zip(a.seconds, a.seconds[1:]))
    assert a.baseline == pytest.approx(1 / 6)
    d = a.to_dict()
    assert d["config"]["cell"] == "lstm" and len(d["losses"]) == 15


def test_train_learns_adding_short() -> None:
    """A GRU on T=5 gets well below the 0.167 baseline within 150 updates."""
    run = train(TrainConfig(cell="gru", T=5, hidden=16, steps=150, batch=32, lr=1e-2), progress=False)
    assert run.final_loss() < 0.5 * run.baseline


def test_train_copy_task_runs() -> None:
    run = train(TrainConfig(cell="rnn", task="copy", T=3, hidden=8, steps=5, batch=4), progress=False)
    assert len(run.losses) == 5 and run.baseline == pytest.approx(10 * 2.0794415 / 23, rel=1e-6)


@pytest.mark.parametrize("threads", [1, None])
def test_train_restores_the_thread_count(threads) -> None:
    before = torch.get_num_threads()
    train(TrainConfig(cell="rnn", T=3, hidden=4, steps=2, batch=2, threads=threads), progress=False)
    assert torch.get_num_threads() == before


def test_train_restores_the_thread_count_on_error(monkeypatch) -> None:
    from course_utils.lib import train as train_module

    def broken(*args, **kwargs):
        assert torch.get_num_threads() == 1
        raise RuntimeError("boom")

    monkeypatch.setattr(train_module, "batch_and_loss", broken)
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="boom"):
        train(TrainConfig(cell="rnn", T=3, hidden=4, steps=2, batch=2, threads=1), progress=False)
    assert torch.get_num_threads() == before


def test_fit_regressor_runs_and_restores_threads() -> None:
    from course_utils.lib.train import fit_regressor

    before = torch.get_num_threads()
    x, y = torch.randn(5, 40, 2), torch.randn(40, 1)  # (window, N, I), (N, 1)
    res = fit_regressor("gru", x, y, x[:, :8], y[:8], hidden=4, steps=3, batch=8, progress=False)
    assert set(res) == {"params", "train_losses", "test_mse", "seconds"}
    assert len(res["train_losses"]) == 3 and res["seconds"] > 0
    assert torch.get_num_threads() == before
