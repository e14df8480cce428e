"""course_utils.tools.bench: the CLI's quick CPU run writes JSON that passes the schema, the
schema (schema.json + the rules it cannot express) names each problem, the plan and the
workload pieces do what they say, and the package keeps its functions small."""

from __future__ import annotations

import ast
import copy
import json
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from course_utils.lib import results  # noqa: E402
from course_utils.tools import bench  # noqa: E402
from course_utils.tools.bench import schema, workloads  # noqa: E402
from course_utils.tools.bench.plan import KINDS, MODES, Plan  # noqa: E402

PACKAGE = Path(bench.__file__).resolve().parent


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "tmp.json"
    rc = bench.main(["--device", "cpu", "--quick", "--out", str(out), "--no-progress"])
    assert rc == 0
    with open(out, encoding="utf-8") as fh:
        return json.load(fh)


def test_quick_cpu_run_writes_valid_json(quick_results):
    r = quick_results
    assert bench.validate(r) is r
    meta = r["meta"]
    assert meta["device"] == "cpu" and meta["quick"] is True
    assert meta["gpu"] is None and meta["cudnn"] is None
    assert meta["command"].startswith("python -m course_utils bench --device cpu --quick")
    assert meta["cpu"]["torch_threads"] == 1  # --quick runs on one thread
    assert r["plan"] == Plan.for_device("cpu", quick=True).as_dict()
    p = r["plan"]
    assert len(r["grid"]) == len(p["H"]) * len(p["B"]) * 2 * 2 * len(p["dtypes"])
    assert all(e["peak_mem_mib"] is None for e in r["grid"])  # CPU: no peak memory
    assert {x["flop_ratio"] for x in r["gru_lstm_ratios"]} == {0.75}
    assert len(r["gru_lstm_ratios"]) == len(r["grid"]) // 2
    assert {(f["kind"], f["mode"]) for f in r["t_sweep"]["fits"]} == {
        (k, m) for k in KINDS for m in MODES}
    impls = {e["impl"] for e in r["ladder"]["entries"]}
    assert "course fast (hoisted + fused GEMM)" in impls and "torch.nn" in impls
    assert set(r["ladder"]["fast_forward_ratio_to_torch_nn"]) == {"lstm", "gru"}
    assert r["peaks"]["matmul"]["fp32"]["tflops"] > 0 and r["peaks"]["copy_bandwidth_gbs"] > 0
    text = bench.summary(r)
    assert "matmul fp32" in text and "GRU/LSTM time" in text


def test_the_thread_count_is_restored_after_a_run():
    before = torch.get_num_threads()
    bench.run("cpu", quick=True, parts=("t_sweep",))
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("breakage, needle", [
    (lambda r: r.pop("meta"), "results: missing 'meta'"),
    (lambda r: r.update(schema="other/0"), "schema: 'rnn-course-bench/1' was expected"),
    (lambda r: r["meta"].update(gpu="NVIDIA H100"), "meta.gpu: a CPU result must have gpu = null"),
    (lambda r: r["meta"].update(device="cuda"), "meta.gpu: a CUDA result must name its GPU"),
    (lambda r: r["meta"]["tf32"].pop("cudnn_allow_tf32"), "meta.tf32: missing 'cudnn_allow_tf32'"),
    (lambda r: r["grid"][0].update(median_ms="fast"), "grid[0].median_ms"),
    (lambda r: r["grid"][1].update(kind="rnn"), "grid[1].kind"),
    (lambda r: r["grid"][0].update(q1_ms=1e9), "grid[0]: median not between q1 and q3"),
    (lambda r: r["peaks"]["matmul"].pop("fp32"), "peaks.matmul: missing 'fp32'"),
    (lambda r: r["t_sweep"]["fits"][0].pop("b_ms_per_step"), "b_ms_per_step"),
    (lambda r: r["ladder"]["entries"][0].update(repeats=2.5), "ladder.entries[0].repeats"),
    (lambda r: [r.pop(k) for k in ("grid", "gru_lstm_ratios", "t_sweep", "ladder")],
     "no 'grid', 't_sweep' or 'ladder'"),
    (lambda r: r.pop("gru_lstm_ratios"), "gru_lstm_ratios"),
    (lambda r: r["grid"][2].update(tflops=math.nan), "grid[2].tflops: must be a finite number"),
    (lambda r: r["gru_lstm_ratios"][0].update(time_ratio=9.0), "is not the grid's GRU/LSTM"),
    (lambda r: r["skipped"].append({"what": "x"}), "skipped[0]: missing 'error'"),
])
def test_validate_names_each_problem(quick_results, breakage, needle):
    broken = copy.deepcopy(quick_results)
    breakage(broken)
    with pytest.raises(ValueError, match="invalid bench results") as info:
        bench.validate(broken)
    assert needle in str(info.value)
    assert len(str(info.value)) < 2000  # never the whole offending object


def test_validate_rejects_non_dict():
    with pytest.raises(ValueError, match="must be a JSON object"):
        bench.validate([1, 2])  # type: ignore[arg-type]


def test_schema_file_is_a_valid_json_schema():
    import jsonschema

    doc = json.loads(schema.SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(doc).check_schema(doc)
    assert doc["properties"]["schema"]["const"] == bench.SCHEMA


def test_committed_results_files_pass_the_schema_check():
    files = results.matching("[cg]pu_*.json")
    assert files, "results/cpu_quick_20261122.json is committed"
    for path in files:
        r = bench.load_results(path)
        assert r["meta"]["device"] == ("cuda" if path.name.startswith("gpu_") else "cpu"), path.name


def test_plans():
    quick, cpu, cuda = (Plan.for_device("cpu", True), Plan.for_device("cpu"),
                        Plan.for_device("cuda"))
    assert quick.threads == 1 and cpu.threads is None and quick.with_threads(None) is quick
    assert quick.with_threads(3).threads == 3 and quick.threads == 1  # frozen: a new plan
    assert cuda.dtypes == ("fp32", "bf16") and cpu.dtypes == ("fp32",)
    assert (cuda.ladder.T, cuda.ladder.B, cuda.ladder.H) == (100, 64, 512)  # fastrnns
    d = cuda.as_dict()
    assert json.loads(json.dumps(d)) == d and d["t_sweep"]["T"][0] == 25


def test_fit_line_recovers_overhead_and_per_step_cost():
    T = [25, 50, 100, 200, 400]
    fit = workloads.fit_line(T, [0.3 + 0.02 * t for t in T])
    assert fit["a_ms"] == pytest.approx(0.3) and fit["b_ms_per_step"] == pytest.approx(0.02)
    assert fit["r2"] == pytest.approx(1.0)


def test_flop_count_and_gru_lstm_ratio():
    assert workloads.Shape("lstm", 1, 2, 3, 5, "inference").flops() == 2 * 4 * 2 * 3 * 8
    assert workloads.Shape("gru", 10, 2, 3, 5, "training").flops() == 3 * 10 * 2 * 3 * 2 * 3 * 8
    grid = [{"kind": k, "H": 8, "B": 4, "mode": "inference", "dtype": "fp32", "median_ms": ms}
            for k, ms in (("lstm", 2.0), ("gru", 1.5))]
    (ratio,) = workloads.gru_lstm_ratios(grid)
    assert ratio["time_ratio"] == pytest.approx(0.75) and ratio["H"] == 8


def test_cli_errors(capsys):
    if not torch.cuda.is_available():
        assert bench.main(["--device", "cuda", "--quick"]) == 2
        assert "no CUDA device" in capsys.readouterr().err
    assert bench.main(["--device", "cpu", "--parts", "grid,nonsense"]) == 2
    assert "unknown part" in capsys.readouterr().err


def test_default_out_names():
    meta = {"device": "cuda", "gpu": "NVIDIA H100 80GB HBM3", "quick": False,
            "date": "2026-01-02T00:00:00+00:00"}
    assert bench.default_out({"meta": meta}) == "results/gpu_nvidia_h100_80gb_hbm3_full.json"
    meta.update(device="cpu", gpu=None, quick=True)
    assert bench.default_out({"meta": meta}) == "results/cpu_quick_20260102.json"


def test_a_failing_configuration_is_skipped_and_recorded(monkeypatch):
    real = workloads.bench_shape

    def flaky(ctx, shape):
        if shape.H == 32 and shape.kind == "gru" and shape.mode == "training":
            raise RuntimeError("CUDA out of memory (simulated)")
        return real(ctx, shape)

    monkeypatch.setattr(workloads, "bench_shape", flaky)
    r = bench.run("cpu", quick=True, parts=("grid",))
    bench.validate(r)
    p = r["plan"]
    assert len(r["skipped"]) == len(p["B"])
    assert all("out of memory" in sk["error"] and "grid gru H=32" in sk["what"]
               for sk in r["skipped"])
    assert len(r["grid"]) == len(p["H"]) * len(p["B"]) * 4 - len(p["B"])
    # the GRU/LSTM ratios cover only the shapes where both were measured
    assert not any(x["H"] == 32 and x["mode"] == "training" for x in r["gru_lstm_ratios"])
    assert "skipped" in bench.summary(r)


def test_functions_are_small():
    """Issue 10: no function over ~60 lines, none with 14 parameters."""
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                n_params = len(a.posonlyargs + a.args + a.kwonlyargs)
                assert node.end_lineno - node.lineno + 1 <= 60, (path.name, node.name)
                assert n_params < 10, (path.name, node.name, n_params)


def test_quick_cuda_run_records_gpu_metadata_memory_and_graph():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    r = bench.validate(bench.run("cuda", quick=True, argv=["--device", "cuda", "--quick"]))
    assert r["meta"]["gpu"] and r["meta"]["cudnn"] and "tf32" in r["peaks"]["matmul"]
    assert all(e["peak_mem_mib"] > 0 for e in r["grid"])
    impls = {e["impl"] for e in r["ladder"]["entries"]}
    assert {"torch.nn (cuDNN)", "torch.nn, cuDNN off", "course fast + CUDA graph"} <= impls


def test_a_run_can_reuse_the_peaks_it_is_given():
    peaks = {"matmul": {"fp32": {"tflops": 1.0, "n": 8}}, "copy_bandwidth_gbs": 2.0}
    r = bench.run("cpu", quick=True, parts=(), peaks=peaks)
    assert r["peaks"] is peaks  # one measurement, shown once (the notebook's roofline first)


def test_the_cpu_ladder_has_the_library_off_rung(quick_results):
    impls = {e["impl"] for e in quick_results["ladder"]["entries"]}
    assert "torch.nn, oneDNN off" in impls  # like with like for the Python loops
    assert quick_results["ladder"]["fast_forward_ratio_to_torch_nn"]  # still vs the library on
