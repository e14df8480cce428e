"""course_utils.tools.bench: the CLI's quick CPU run writes JSON that passes the schema check,
and the pieces (timing statistics, line fit, FLOP count, schema check) do what they say."""

from __future__ import annotations

import copy
import json
import time

import pytest

from course_utils.tools.bench import cli as bench


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "tmp.json"
    rc = bench.main(["--device", "cpu", "--quick", "--out", str(out), "--no-progress"])
    assert rc == 0
    with open(out, encoding="utf-8") as fh:
        return json.load(fh)


def test_quick_cpu_run_writes_valid_json(quick_results):
    r = quick_results
    assert bench.validate_results(r) is r
    meta = r["meta"]
    assert meta["device"] == "cpu" and meta["quick"] is True
    assert meta["gpu"] is None and meta["cudnn"] is None
    assert meta["command"].startswith("python -m course_utils bench --device cpu --quick")
    assert meta["cpu"]["torch_threads"] == 1  # --quick runs on one thread
    p = r["plan"]
    assert len(r["grid"]) == len(p["H"]) * len(p["B"]) * 2 * 2 * len(p["dtypes"])
    assert all(e["peak_mem_mib"] is None for e in r["grid"])  # CPU: no peak memory
    assert {x["flop_ratio"] for x in r["gru_lstm_ratios"]} == {0.75}
    assert len(r["gru_lstm_ratios"]) == len(r["grid"]) // 2
    assert {(f["kind"], f["mode"]) for f in r["t_sweep"]["fits"]} == {
        (k, m) for k in bench.KINDS for m in bench.MODES}
    impls = {e["impl"] for e in r["ladder"]["entries"]}
    assert "course fast (hoisted + fused GEMM)" in impls and "torch.nn" in impls
    assert set(r["ladder"]["fast_forward_ratio_to_torch_nn"]) == {"lstm", "gru"}
    assert r["peaks"]["matmul"]["fp32"]["tflops"] > 0 and r["peaks"]["copy_bandwidth_gbs"] > 0
    text = bench.summary(r)
    assert "matmul fp32" in text and "GRU/LSTM time" in text


@pytest.mark.parametrize("breakage, needle", [
    (lambda r: r.pop("meta"), "missing 'meta'"),
    (lambda r: r.update(schema="other/0"), "schema must be"),
    (lambda r: r["meta"].update(gpu="NVIDIA H100"), "CPU result must have gpu = null"),
    (lambda r: r["meta"]["tf32"].pop("cudnn_allow_tf32"), "cudnn_allow_tf32"),
    (lambda r: r["grid"][0].update(median_ms="fast"), "grid[0].median_ms"),
    (lambda r: r["grid"][1].update(kind="rnn"), "grid[1].kind"),
    (lambda r: r["grid"][0].update(q1_ms=1e9), "median not between q1 and q3"),
    (lambda r: r["peaks"]["matmul"].pop("fp32"), "missing 'fp32'"),
    (lambda r: r["t_sweep"]["fits"][0].pop("b_ms_per_step"), "b_ms_per_step"),
    (lambda r: r["ladder"]["entries"][0].update(repeats=2.5), "repeats"),
    (lambda r: [r.pop(k) for k in ("grid", "t_sweep", "ladder")], "no 'grid'"),
])
def test_validate_results_names_each_problem(quick_results, breakage, needle):
    broken = copy.deepcopy(quick_results)
    breakage(broken)
    with pytest.raises(ValueError, match="invalid bench results") as info:
        bench.validate_results(broken)
    assert needle in str(info.value)


def test_validate_results_rejects_non_dict():
    with pytest.raises(ValueError):
        bench.validate_results([1, 2])  # type: ignore[arg-type]


def test_fit_line_recovers_overhead_and_per_step_cost():
    T = [25, 50, 100, 200, 400]
    fit = bench.fit_line(T, [0.3 + 0.02 * t for t in T])
    assert fit["a_ms"] == pytest.approx(0.3) and fit["b_ms_per_step"] == pytest.approx(0.02)
    assert fit["r2"] == pytest.approx(1.0)


def test_time_fn_median_and_iqr_of_a_known_sleep():
    calls = []

    def nap():
        calls.append(1)
        time.sleep(0.002)

    t = bench.time_fn(nap, "cpu", warmup=2, repeats=6)
    assert len(calls) == 8 and t["repeats"] == 6
    assert 2.0 <= t["median_ms"] < 50.0
    assert t["q1_ms"] <= t["median_ms"] <= t["q3_ms"] and t["iqr_ms"] >= 0


def test_flop_count_and_gru_lstm_ratio():
    assert bench.step_flops("lstm", B=2, H=3, I=5) == 2 * 4 * 2 * 3 * 8
    assert bench.run_flops("gru", T=10, B=2, H=3, I=5, mode="training") == 3 * 10 * 2 * 3 * 2 * 3 * 8
    grid = [{"kind": k, "H": 8, "B": 4, "mode": "inference", "dtype": "fp32", "median_ms": ms}
            for k, ms in (("lstm", 2.0), ("gru", 1.5))]
    (ratio,) = bench.gru_lstm_ratios(grid)
    assert ratio["time_ratio"] == pytest.approx(0.75) and ratio["H"] == 8


def test_cuda_request_without_gpu_fails_cleanly(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert bench.main(["--device", "cuda", "--quick"]) == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_default_out_names():
    meta = {"device": "cuda", "gpu": "NVIDIA H100 80GB HBM3", "quick": False, "date": "2026-01-02T00:00:00+00:00"}
    assert bench.default_out({"meta": meta}) == "results/gpu_nvidia_h100_80gb_hbm3_full.json"
    meta.update(device="cpu", gpu=None, quick=True)
    assert bench.default_out({"meta": meta}) == "results/cpu_quick_20260102.json"


def test_torch_threads_restores_setting():
    import torch

    before = torch.get_num_threads()
    with bench.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_ledger_rows_judge_only_what_was_measured(quick_results):
    rows = bench.ledger_rows(quick_results)
    by = {r["claim"]: r for r in rows}
    assert by["GRU needs fewer FLOPs than LSTM"]["verdict"] == "supported"
    assert by["GRU uses less memory than LSTM (training)"]["verdict"] == "not measured"  # CPU
    h100 = [r for r in rows if "H100" in r["claim"]]
    assert h100 and h100[0]["verdict"] == "not measured"
    speed = [r for r in rows if r["claim"].startswith("GRU is faster")]
    assert len(speed) == 2 and all(r["verdict"] in {"supported", "not supported", "mixed"} for r in speed)
    # a made-up grid where GRU is always faster is judged "supported"
    fake = copy.deepcopy(quick_results)
    for x in fake["gru_lstm_ratios"]:
        x["time_ratio"] = 0.8
    assert all(r["verdict"] == "supported" for r in bench.ledger_rows(fake) if r["claim"].startswith("GRU is faster"))


def test_committed_results_files_pass_the_schema_check():
    from pathlib import Path

    files = sorted((Path(bench.__file__).resolve().parents[3] / "results").glob("[cg]pu_*.json"))
    for path in files:
        r = bench.load_results(str(path))
        assert r["meta"]["device"] == ("cuda" if path.name.startswith("gpu_") else "cpu"), path.name


def test_a_failing_configuration_is_skipped_and_recorded(monkeypatch):
    real = bench.bench_shape

    def flaky(kind, T, B, H, I, mode, dtype_name, *args, **kwargs):
        if H == 32 and kind == "gru" and mode == "training":
            raise RuntimeError("CUDA out of memory (simulated)")
        return real(kind, T, B, H, I, mode, dtype_name, *args, **kwargs)

    monkeypatch.setattr(bench, "bench_shape", flaky)
    r = bench.run("cpu", quick=True, parts=("grid",))
    bench.validate_results(r)
    p = r["plan"]
    assert len(r["skipped"]) == len(p["B"])
    assert all("out of memory" in sk["error"] and "grid gru H=32" in sk["what"] for sk in r["skipped"])
    assert len(r["grid"]) == len(p["H"]) * len(p["B"]) * 4 - len(p["B"])
    # the GRU/LSTM ratios cover only the shapes where both were measured
    assert not any(x["H"] == 32 and x["mode"] == "training" for x in r["gru_lstm_ratios"])
    assert "skipped" in bench.summary(r)


def test_quick_cuda_run_records_gpu_metadata_memory_and_graph():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    r = bench.validate_results(bench.run("cuda", quick=True, argv=["--device", "cuda", "--quick"]))
    assert r["meta"]["gpu"] and r["meta"]["cudnn"] and "tf32" in r["peaks"]["matmul"]
    assert all(e["peak_mem_mib"] > 0 for e in r["grid"])
    impls = {e["impl"] for e in r["ladder"]["entries"]}
    assert {"torch.nn (cuDNN)", "torch.nn, cuDNN off", "course fast + CUDA graph"} <= impls
