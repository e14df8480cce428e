"""course_utils.labs.gpu_comparison: notebook 09's ledger rows judge only what a bench run
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
