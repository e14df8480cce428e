"""Tests of course_utils.labs.vanishing_gradients (notebook 02's helpers)."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks.specs.vanishing_gradients import MISTAKES, ref_rnn_backward
from course_utils.labs import vanishing_gradients as G


def _case(seed: int = 0):
    rng = np.random.default_rng(seed)
    T, B, I, H = 5, 2, 3, 4
    return (rng.normal(size=(T, B, I)), rng.normal(0, 0.8, (B, H)), rng.normal(0, 0.6, (H, I)),
            rng.normal(0, 0.6, (H, H)), rng.normal(0, 0.5, H), rng.normal(0, 0.5, H),
            rng.normal(size=(T, B, H)))


def test_numerical_check_accepts_autograd_reference():
    report = G.numerical_gradient_check(ref_rnn_backward, *_case(1))
    assert report.passed, str(report)
    assert max(report.rel_error.values()) < 1e-6
    assert report.probes == {"x": 20, "h0": 8, "W_ih": 12, "W_hh": 16, "b_ih": 4, "b_hh": 4}
    assert "ok" in str(report) and "MISMATCH" not in str(report)


@pytest.mark.parametrize("mistake", MISTAKES[:3], ids=lambda m: m.name[:20])
def test_numerical_check_flags_wrong_backward(mistake):
    report = G.numerical_gradient_check(mistake.fn, *_case(2))
    assert not report.passed
    assert "MISMATCH" in str(report)


def test_numerical_check_reports_missing_and_misshapen():
    def bad(*args):
        d = ref_rnn_backward(*args)
        del d["b_hh"]
        d["W_ih"] = d["W_ih"].T
        return d

    report = G.numerical_gradient_check(bad, *_case(3))
    assert not report.passed
    assert "missing" in report.notes["b_hh"] and "shape" in report.notes["W_ih"]


def test_step_jacobian_product_matches_autograd():
    import torch

    H, T, k = 6, 7, 4
    W = G.scaled_recurrent_matrix(H, 1.2, seed=3)
    assert G.spectral_radius(W) == pytest.approx(1.2)
    u, hs, J = G.step_jacobians(W, T, "tanh", seed=3)
    np.testing.assert_allclose(J[:, 0], (1 - hs[1:, 0, :, None] ** 2) * W[None])
    prod = np.eye(H)
    for t in range(T - 1, T - 1 - k, -1):
        prod = prod @ J[t, 0]

    def run(h):
        for t in range(T - k, T):
            h = torch.tanh(torch.from_numpy(u[t, 0]) + h @ torch.from_numpy(W).T)
        return h

    auto = torch.autograd.functional.jacobian(run, torch.from_numpy(hs[T - k, 0])).numpy()
    np.testing.assert_allclose(prod, auto, atol=1e-12)


@pytest.mark.parametrize("f", ["tanh", "linear", "relu"])
def test_norms_respect_bound_and_vanish_for_small_radius(f):
    W = G.scaled_recurrent_matrix(16, 0.5, seed=0)
    r = G.jacobian_norms_vs_lag(W, 30, f, seed=0)
    assert r["lag"].tolist() == list(range(1, 31))
    assert np.all(r["norm"] <= r["bound"] * (1 + 1e-9))
    assert r["norm"][-1] < 1e-6 * r["norm"][0]


def test_linear_rnn_explodes_above_radius_one():
    r = G.jacobian_norms_vs_lag(G.scaled_recurrent_matrix(16, 1.5, seed=0), 40, "linear", seed=0)
    assert r["norm"][-1] > 1e5


def test_clipping_in_training_caps_the_update_and_single_thread_restores():
    import torch

    threads = torch.get_num_threads()
    task = lambda step: G.first_token_task(8, 16, seed=step)  # noqa: E731
    out = G.train_with_grad_norms(G.make_sign_rnn(8, 0, radius=2.0), task, steps=5, lr=0.05,
                                  clip=0.5, progress=False)
    assert out["loss"].shape == (5,) and out["grad_norm"].shape == (5,)
    assert np.all(np.isfinite(out["loss"])) and np.all(out["grad_norm"] > 0)
    assert torch.get_num_threads() == threads


def test_first_token_task_labels_the_first_sign():
    x, y = G.first_token_task(6, 50, seed=4)
    assert tuple(x.shape) == (6, 50, 1)
    assert ((x[0, :, 0] > 0).float() == y).all()


def test_gradient_explorer_builds_and_redraws_headless():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    box = G.gradient_explorer(hidden=8, seed=0)
    radius, drive = box.children[0].children
    length, nonlin = box.children[1].children
    assert (radius.value, drive.value, length.value, nonlin.value) == (1.0, 1.0, 50, "tanh")
    assert set(nonlin.options) == {"tanh", "linear", "relu"}
    radius.value, drive.value, length.value, nonlin.value = 1.5, 0.3, 20, "relu"   # each redraws
    plt.close("all")
    for f in ("tanh", "linear", "relu"):
        fig = G.explorer_figure(1.2, 15, f, hidden=8, drive=0.4)
        ax = fig.axes[0]
        assert "k=15" in ax.get_title() and "0.40" in ax.get_title() and ax.get_yscale() == "log"
        assert ax.get_xlabel().startswith("lag") and ax.get_ylabel()
        assert len(ax.lines[0].get_xdata()) == 15
        plt.close(fig)


def test_train_first_token_records_checkpoints_and_repeats_its_prefix():
    short = G.train_first_token(5, seed=1, steps=6, hidden=4, n_test=50, eval_every=3)
    longer = G.train_first_token(5, seed=1, steps=9, hidden=4, n_test=50, eval_every=3)
    assert short["losses"].shape == (6,) and short["checkpoints"].tolist() == [0, 3, 6]
    assert len(short["accuracy_curve"]) == 3 and short["accuracy_curve"][-1] == short["accuracy"]
    np.testing.assert_array_equal(short["losses"], longer["losses"][:6])   # same batches
    assert 0.0 < short["grad_ratio"]
    assert "checkpoints" not in G.train_first_token(5, seed=1, steps=2, hidden=4, n_test=10)


def test_distance_experiment_and_suite_shapes():
    out = G.distance_experiment(lengths=(3, 4), seeds=(0, 1), steps=3, hidden=4, n_test=20,
                                progress=False)
    assert set(out) == {3, 4}
    assert out[3]["accuracy"].shape == (2,) and out[3]["losses"].shape == (2, 3)
    runs = G.distance_suite(((3, (0, 1), 4), (5, (2,), 6)), eval_every=2, progress=False,
                            hidden=4, n_test=20)
    assert [(r["T"], r["seed"], r["steps"]) for r in runs] == [(3, 0, 4), (3, 1, 4), (5, 2, 6)]
    assert runs[2]["checkpoints"] == [0, 2, 4, 6] and len(runs[2]["losses"]) == 6
    assert all(isinstance(v, float) for v in runs[0]["accuracy_curve"])


def test_first_solved_reads_the_first_checkpoint_above_threshold():
    run = {"checkpoints": [0, 50, 100, 150], "accuracy_curve": [0.5, 0.6, 0.97, 0.99]}
    assert G.first_solved(run) == 100
    assert G.first_solved(run, threshold=0.995) is None


def test_clipping_experiment_runs_each_seed_with_each_clip():
    runs = G.clipping_experiment(seeds=(0, 1), clips=(None, 0.5), T=6, hidden=4, steps=4,
                                 progress=False)
    assert set(runs) == {None, 0.5} and len(runs[None]) == len(runs[0.5]) == 2
    assert runs[0.5][0]["loss"].shape == (4,)
    # same initial weights and batches: the first step's loss is the same with and without clipping
    assert runs[None][1]["loss"][0] == runs[0.5][1]["loss"][0]


def test_blow_up_step():
    assert G.blow_up_step({"loss": np.array([1.0, 2.0, 50.0])}) is None
    assert G.blow_up_step({"loss": np.array([1.0, 2.0, 500.0, 1.0])}) == 2
    assert G.blow_up_step({"loss": np.array([1.0, np.inf, np.nan])}) == 1
    assert G.blow_up_step({"loss": np.array([1.0, 2.0, 20.0])}, factor=10.0) == 2


def test_notebook_clipping_lesson_holds_on_this_cpu():
    """Notebook 02 section 4 as run there: without clipping every seed blows up, with clipping
    none does (checked on AVX-512, AVX2 and ATEN_CPU_CAPABILITY=default when it was written)."""
    runs = G.clipping_experiment((0, 1, 2, 3, 4), clips=(None, 1.0), T=20, hidden=16,
                                 radius=1.5, lr=0.3, steps=300, progress=False)
    assert all(G.blow_up_step(r) is not None for r in runs[None])
    assert all(G.blow_up_step(r) is None for r in runs[1.0])


def test_committed_distance_run_matches_the_suite():
    from course_utils.lib import results

    data = results.load_json("sweeps/distance_cpu.json")
    assert data["command"].startswith("python -m course_utils sweep --suite distance")
    plan = [(p["T"], tuple(p["seeds"]), p["steps"]) for p in data["plan"]]
    assert plan == [(T, seeds, steps) for T, seeds, steps in G.DISTANCE_SUITE]
    for T, seeds, steps in G.DISTANCE_SUITE:
        runs = [r for r in data["runs"] if r["T"] == T]
        assert [r["seed"] for r in runs] == list(seeds)
        assert all(len(r["losses"]) == steps and r["checkpoints"][-1] == steps for r in runs)


def test_drive_sweep_shows_both_regimes_and_chi_orders_them():
    """Strong drive saturates tanh (order: the product vanishes), weak drive at rho = 2 lets it
    grow (chaos); the mean-field gain chi sits on the matching side of 1 and falls with drive."""
    sweep = G.drive_sweep(drives=(0.2, 1.5), radii=(0.9, 2.0), seeds=(0, 1), lag=30, hidden=16, batch=2)
    assert set(sweep) == {(0.2, 0.9), (0.2, 2.0), (1.5, 0.9), (1.5, 2.0)}
    for r in sweep.values():
        assert r["low"] <= r["median"] <= r["high"]
    assert sweep[(0.2, 2.0)]["median"] > 10 and sweep[(0.2, 2.0)]["chi"] > 1
    assert sweep[(1.5, 0.9)]["median"] < 1e-6 and sweep[(1.5, 0.9)]["chi"] < 1
    assert sweep[(1.5, 2.0)]["chi"] < sweep[(0.2, 2.0)]["chi"]
    W = G.scaled_recurrent_matrix(16, 2.0, seed=1)           # the sweep's norm is the lab's norm
    r = G.jacobian_norms_vs_lag(W, 30, "tanh", seed=1, input_scale=0.2, batch=2)
    s0 = G.drive_sweep(drives=(0.2,), radii=(2.0,), seeds=(1,), lag=30, hidden=16, batch=2)
    assert s0[(0.2, 2.0)]["median"] == r["norm"][-1]


def test_bptt_graph_draws_both_passes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = G.draw_bptt_graph(T=3)
    texts = " ".join(t.get_text() for t in ax.texts)
    for label in ("$h_0$", "$x_3$", "$a_2$", "$L_1$", "$g_3$", "W_{hh}", "\\delta a_2 W_{hh}"):
        assert label in texts, label
    dashed = [p for p in ax.patches if p.get_linestyle() in ("--", "dashed")]
    assert len(dashed) == 4 * 3                     # four backward messages per step
    plt.close(ax.figure)
    with pytest.raises(ValueError):
        G.draw_bptt_graph(T=1)
