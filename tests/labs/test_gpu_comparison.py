"""course_utils.labs.gpu_comparison: notebook 11's ledger rows judge only what a bench run
measured, and its figures draw from a bench result (the committed CPU quick run)."""

from __future__ import annotations

import copy

import pytest

pytest.importorskip("torch")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from course_utils.labs import gpu_comparison as lab  # noqa: E402
from course_utils.lib import results  # noqa: E402


@pytest.fixture(scope="module")
def cpu_run() -> dict:
    return results.load_json("cpu_quick_20261122.json")


def test_ledger_rows_judge_only_what_was_measured(cpu_run) -> None:
    rows = lab.ledger_rows(cpu_run)
    by = {r["claim"]: r for r in rows}
    assert by["GRU needs fewer FLOPs than LSTM"]["verdict"] == "supported"
    assert "3 vs 4 gate blocks per step (GRU: 2 gates + candidate, LSTM: 3 + candidate), GEMM " \
        "FLOP ratio 0.75" in by["GRU needs fewer FLOPs than LSTM"]["evidence"]
    assert by["GRU uses less memory than LSTM (training)"]["verdict"] == "not measured"  # CPU
    h100 = [r for r in rows if "H100" in r["claim"]]
    assert h100 and h100[0]["verdict"] == "not measured"
    speed = [r for r in rows if r["claim"].startswith("GRU is faster")]
    assert len(speed) == 2 and all(r["verdict"] in {"supported", "not supported", "mixed"}
                                   for r in speed)
    assert all("1 thread(s)" in r["where"] and r["where"].endswith("quick grid") for r in speed)


def test_ledger_verdicts_follow_the_numbers(cpu_run) -> None:
    fake = copy.deepcopy(cpu_run)
    for i, x in enumerate(fake["gru_lstm_ratios"]):
        x["time_ratio"] = 0.8 if i % 2 else 1.2
    assert {r["verdict"] for r in lab.ledger_rows(fake) if r["claim"].startswith("GRU is")} >= {"mixed"}
    for x in fake["gru_lstm_ratios"]:
        x["time_ratio"] = 0.8
    assert all(r["verdict"] == "supported" for r in lab.ledger_rows(fake)
               if r["claim"].startswith("GRU is faster"))


def test_a_full_h100_run_is_judged(cpu_run) -> None:
    fake = copy.deepcopy(cpu_run)
    fake["meta"].update(device="cuda", gpu="NVIDIA H100 80GB HBM3", quick=False, cudnn=91000)
    fake["ladder"]["fast_forward_ratio_to_torch_nn"]["lstm"] = 1.3
    for e in fake["grid"]:
        e["peak_mem_mib"] = 10.0 if e["kind"] == "gru" else 12.0
    by = {r["claim"]: r for r in lab.ledger_rows(fake)}
    assert by["the course's fast LSTM forward is within 1.5x of cuDNN on an H100"]["verdict"] == "supported"
    assert by["GRU uses less memory than LSTM (training)"]["verdict"] == "supported"
    assert by["GRU needs fewer FLOPs than LSTM"]["where"] == "any device"
    assert "cuDNN 91000" in by["GRU uses less memory than LSTM (training)"]["where"]


def test_figures_and_lines_from_a_result(cpu_run, capsys) -> None:
    import matplotlib.pyplot as plt

    label = "committed cpu"
    for plot in (lab.plot_time_vs_batch, lab.plot_ratio_heatmap, lab.plot_ladder,
                 lab.plot_t_sweep):
        fig = plot(label, cpu_run)
        assert fig.axes and all(ax.get_title() for ax in fig.axes if ax.get_label() != "<colorbar>")
        plt.close(fig)
    assert "course fast LSTM forward" in capsys.readouterr().out
    fake = copy.deepcopy(cpu_run)
    for e in fake["grid"]:
        e["peak_mem_mib"] = 1.0
    plt.close(lab.plot_peak_memory(label, fake, B=16))
    lines = lab.efficiency_lines(label, cpu_run)
    assert lines[0].startswith(f"{label}: best grid entry") and "at B=1" in lines[-1]
    roof = lab.rooflines("cpu", cpu_run["peaks"], [cpu_run])
    assert len(roof) == 2 and all(p > 0 and w > 0 for _, p, w in roof)
    plt.close(lab.plot_roofline(roof, H=64))
    assert "GEMM-bound from B" in capsys.readouterr().out
    lab.print_ledger([(label, cpu_run)])
    assert "== committed cpu" in capsys.readouterr().out


def test_intensity_grows_with_batch() -> None:
    assert lab.intensity(1, 512) < lab.intensity(64, 512) < lab.intensity(4096, 512)
    assert lab.intensity(1, 512) == pytest.approx(2 * 4 * 512 * 512 / (4 * (4 * 512 * 512 + 512 + 4 * 512)))


def test_log_axis_ticks_are_plain_numbers() -> None:
    assert [lab._plain(v) for v in (0.2, 5.0, 100.0)] == ["0.2", "5", "100"]
    assert [lab._plain(v, digits=(2, 5)) for v in (0.2, 0.3, 50.0)] == ["0.2", "", "50"]


# --------------------------------------------------------------------------- cuDNN's algorithm
H100, T4 = lab.GPUS[-1], lab.GPUS[0]


def test_cudnn_algo_follows_pytorchs_get_algo() -> None:
    algo = lab.cudnn_algo
    # float32 / bfloat16 above H = 192: standard, whatever the batch (the full bench grid)
    assert {algo(k, d, 128, B, H, H, H100) for k in ("lstm", "gru") for d in ("fp32", "bf16")
            for H in (256, 512, 1024, 2048) for B in (1, 16, 64, 256)} == {"standard"}
    # float16: persistent only for one-direction one-layer LSTMs, H, I % 128, B % 8, B <= 128
    assert algo("lstm", "fp16", 100, 64, 512, 512, H100) == "persistent (static)"
    assert algo("gru", "fp16", 100, 64, 512, 512, H100) == "standard"
    assert algo("lstm", "fp16", 100, 256, 512, 512, H100) == "standard"
    assert algo("lstm", "fp16", 100, 64, 512, 500, H100) == "standard"
    assert algo("lstm", "fp16", 100, 64, 512, 512, H100, layers=2) == "standard"
    assert algo("lstm", "fp16", 100, 64, 512, 512, H100, bidirectional=True) == "standard"
    assert algo("lstm", "fp16", 100, 64, 512, 512, T4) == "standard"  # Turing excluded
    # the small-H kernel: any dtype but float64, H <= 192 forward, <= 128 backward
    assert algo("lstm", "fp32", 100, 3, 160, 40, H100) == "persistent (small H)"
    assert algo("lstm", "fp32", 100, 3, 160, 40, H100, forward=False) == "standard"
    assert algo("lstm", "fp64", 100, 3, 128, 40, H100) == "standard"
    assert algo("lstm", "fp32", 100, 3, 128, 40, H100, packed=True) == "standard"
    assert algo("lstm", "fp32", 100, 3, 128, 40, H100, proj_size=64) == "standard"
    lines = lab.algo_table(128, (256, 512), (16, 64), dtypes=("fp32", "fp16"), gpus=(H100,))
    assert lines[0].strip() == "H100 SXM  fp32: standard: 8"
    assert "persistent (static): 2 (LSTM H=256 B=16, LSTM H=256 B=64)" in lines[1] or \
        "persistent (static): 4" in lines[1]
    assert "RNN.cpp" in lab.SOURCE and "get_algo" in lab.SOURCE


# --------------------------------------------------------------------------- backends
def test_lstm_not_hoisted_is_nn_lstm_and_the_split_is_arithmetic() -> None:
    import torch

    torch.manual_seed(0)
    ref = torch.nn.LSTM(5, 4)
    x, z = torch.randn(6, 3, 5), torch.zeros(3, 4)
    params = (ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0, ref.bias_hh_l0)
    with torch.no_grad():
        torch.testing.assert_close(lab.lstm_not_hoisted(x, z, z, *params)[0], ref(x)[0])
    ms = {"python loop, hoisted": 30.0, "nn.LSTM, oneDNN off": 25.0, "nn.LSTM, oneDNN": 10.0}
    text = lab.backend_split(ms, "cpu")
    assert "25% is the interpreter" in text and "75% is oneDNN's fused kernel" in text
    ms["nn.LSTM, oneDNN off"] = 31.0  # noise: the C++ loop slower than the Python one
    assert "none is measurably the interpreter" in lab.backend_split(ms, "cpu")
    ms["nn.LSTM, oneDNN off"] = 9.0
    assert "the whole gap" in lab.backend_split(ms, "cpu")
    ms["nn.LSTM, oneDNN"] = 40.0
    assert "no gap to split" in lab.backend_split(ms, "cpu")


def test_the_profiler_shows_which_backend_ran() -> None:
    import torch

    if not torch.backends.mkldnn.is_available():
        pytest.skip("this torch has no oneDNN")
    torch.manual_seed(0)
    m, x = torch.nn.LSTM(16, 12), torch.randn(5, 3, 16)

    def run(on: bool):
        def call():
            with torch.no_grad(), lab.library_backend("cpu", on):
                return m(x)
        return lab.profile_ops(call, "cpu", calls=1)

    on, off = run(True), run(False)
    assert on["ops"][0][0] == "aten::mkldnn_rnn_layer" and on["calls"] < 50
    assert "aten::mkldnn_rnn_layer" not in {n for n, *_ in off["ops"]} and off["calls"] > 50
    assert all(total >= self_ms for _, self_ms, total, _ in off["ops"])
    assert sum(r[1] for r in off["ops"]) <= off["wall_ms"] * 1.05  # one thread
    assert "aten::mkldnn_rnn_layer (1 call)" in lab.profile_line("on", on)


# --------------------------------------------------------------------------- roofline points
def test_measured_points_on_the_model(cpu_run, capsys) -> None:
    import matplotlib.pyplot as plt
    import numpy as np

    P, W = 1e11, 2e10
    B = np.array([1.0, 16.0, 4096.0])
    att = lab.layer_attainable(B, 128, 128, 4, P, W)
    assert att[0] < att[1] <= att[2] <= P * (1 + 1e-12) and att[2] == pytest.approx(P)
    fig = lab.plot_roofline_measured("committed cpu", cpu_run, P, W)
    assert "measured" in fig.axes[0].get_title() and fig.axes[0].get_xlabel() == "batch size B"
    plt.close(fig)
    out = capsys.readouterr().out
    assert "LSTM H=32 B=1" in out and ("overhead-bound" in out or "near the bandwidth" in out)


# --------------------------------------------------------------------------- GPU sentences
def test_gpu_sentences_hold_with_and_without_gpu_results(cpu_run) -> None:
    none = "\n".join(lab.gpu_status_lines([], "cpu"))
    assert "No GPU result is committed" in none and "not measured" in none
    fake = copy.deepcopy(cpu_run)
    fake["meta"].update(device="cuda", gpu="NVIDIA H100 80GB HBM3", quick=False, cuda="12.8",
                        cudnn=91000)
    some = "\n".join(lab.gpu_status_lines([fake], "cpu"))
    assert "committed GPU result: NVIDIA H100 80GB HBM3" in some and "No GPU" not in some


def test_readme_promises_no_gpu_data_that_is_not_committed() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8").lower()
    committed = list((root / "results").glob("gpu_*.json"))
    for promise in ("committed results from a gpu", "gpu results are committed", "far steadier"):
        assert committed or promise not in readme, promise
    for denial in ("none committed", "no gpu results have been committed"):
        assert not committed or denial not in readme, denial
    nb = (root / "solutions" / "11_gpu_comparison.ipynb").read_text(encoding="utf-8").lower()
    assert "far steadier" not in nb and "none committed" not in nb
