"""course_utils.lib.measure: timing statistics (structure, not speed), the thread and oneDNN
switches restore what they change (also on exceptions), machine_info's fields; CUDA paths only
with a GPU."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from course_utils.lib import measure  # noqa: E402

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_time_call_calls_warmup_plus_repeats_and_orders_its_statistics():
    calls = []
    t = measure.time_call(lambda: calls.append(1), warmup=2, repeats=6)
    assert len(calls) == 8 and t.repeats == 6
    assert 0 <= t.min_ms <= t.q1_ms <= t.median_ms <= t.q3_ms
    assert t.iqr_ms == pytest.approx(t.q3_ms - t.q1_ms)
    assert t.median_s == pytest.approx(t.median_ms / 1e3) and t.min_s == pytest.approx(t.min_ms / 1e3)
    assert set(t.as_dict()) == {"median_ms", "iqr_ms", "q1_ms", "q3_ms", "min_ms", "repeats"}


def test_time_call_budget_cuts_repeats_but_keeps_three():
    calls = []
    t = measure.time_call(lambda: calls.append(1), warmup=0, repeats=50, budget_s=0.0)
    assert t.repeats == 3 and len(calls) == 1 + 3  # one probe call + the timed ones


def test_time_interleaved_alternates_the_functions():
    order = []
    out = measure.time_interleaved({"a": lambda: order.append("a"), "b": lambda: order.append("b")},
                                   warmup=1, repeats=3)
    assert order == ["a", "b"] * 4
    assert set(out) == {"a", "b"} and all(t.repeats == 3 for t in out.values())


def test_stopwatch_accumulates_only_inside_the_block():
    watch = measure.Stopwatch()
    with watch:
        pass
    first = watch.elapsed
    with watch:
        pass
    assert 0 <= first <= watch.elapsed


@pytest.mark.parametrize("n", [1, 2, None])
def test_torch_threads_restores_the_old_count(n):
    before = torch.get_num_threads()
    with measure.torch_threads(n):
        assert torch.get_num_threads() == (before if n is None else n)
    assert torch.get_num_threads() == before


def test_torch_threads_restores_even_when_the_block_raises():
    before = torch.get_num_threads()
    with pytest.raises(ZeroDivisionError):
        with measure.torch_threads(1):
            raise ZeroDivisionError("inside the block")
    assert torch.get_num_threads() == before


def test_onednn_switch_restores_and_is_quiet(recwarn):
    before = torch.backends.mkldnn.enabled
    with measure.onednn(not before):
        assert torch.backends.mkldnn.enabled is (not before)
    assert torch.backends.mkldnn.enabled is before
    with pytest.raises(RuntimeError):
        with measure.onednn(False):
            raise RuntimeError("inside")
    assert torch.backends.mkldnn.enabled is before
    assert not [w for w in recwarn if "TF32" in str(w.message)]


def test_machine_info_fields():
    m = measure.machine_info()
    for key in ("date", "platform", "cpu_model", "cpu_count", "python", "numpy", "torch",
                "torch_threads", "mkl_available", "mkldnn_available", "cuda", "gpu", "cudnn",
                "cuda_driver"):
        assert key in m, key
    assert m["torch"] == torch.__version__ and isinstance(m["cpu_model"], str) and m["cpu_model"]
    assert m["date"].endswith("+00:00")
    if not torch.cuda.is_available():
        assert m["gpu"] is None and m["cudnn"] is None and m["cuda_driver"] is None


def test_cpu_timing_does_not_touch_cuda(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("CUDA touched on the CPU path")

    monkeypatch.setattr(torch.cuda, "synchronize", boom)
    monkeypatch.setattr(torch.cuda, "Event", boom)
    measure.time_call(lambda: None, warmup=1, repeats=2, device="cpu")


@needs_cuda
def test_cuda_timing_uses_events_and_synchronises():
    x = torch.randn(256, 256, device="cuda")
    t = measure.time_call(lambda: x @ x, warmup=2, repeats=5, device="cuda")
    assert t.repeats == 5 and t.min_ms > 0
    assert measure.machine_info()["gpu"]
