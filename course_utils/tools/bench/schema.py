"""How ``bench`` validates its results: the JSON Schema in ``schema.json`` (checked with
``jsonschema``) plus the few rules a schema cannot express (:func:`extra_problems`).

    from course_utils.tools.bench.schema import validate, load_results
    results = load_results("results/cpu_quick_20261122.json")   # ValueError listing problems

Every problem is listed with its place in the file (``grid[3].median_ms: ...``).
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any, Iterator

SCHEMA = "rnn-course-bench/1"
SCHEMA_FILE = Path(__file__).with_name("schema.json")
TIMING_KEYS = ("median_ms", "q1_ms", "q3_ms", "min_ms")


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def where(path: Any) -> str:
    """``("grid", 0, "median_ms")`` -> ``"grid[0].median_ms"`` (the root is ``results``)."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "results"


def _message(error: Any) -> str:
    """A short message for one jsonschema error (never the whole offending object)."""
    rule = list(error.relative_schema_path)
    if rule[:1] == ["anyOf"] and not error.absolute_path:
        return "no 'grid', 't_sweep' or 'ladder' section"
    if "then" in rule and list(error.absolute_path)[-1:] == ["gpu"]:
        return "a CUDA result must name its GPU"
    if "else" in rule and list(error.absolute_path)[-1:] == ["gpu"]:
        return "a CPU result must have gpu = null"
    if error.validator == "required":
        return error.message.replace(" is a required property", "").join(("missing ", ""))
    msg = error.message
    return msg if len(msg) <= 200 else msg[:197] + "..."


def schema_problems(results: Any) -> list[str]:
    """What the JSON Schema finds wrong, one line each, in file order."""
    errors = sorted(_validator().iter_errors(results), key=lambda e: [str(p) for p in e.path])
    return [f"{where(e.absolute_path)}: {_message(e)}" for e in errors]


def _numbers(obj: Any, path: tuple = ()) -> Iterator[tuple[tuple, float]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _numbers(v, path + (i,))
    elif isinstance(obj, float):
        yield path, obj


def _timings(results: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, e in (results.get("peaks", {}).get("matmul") or {}).items():
        yield f"peaks.matmul.{name}", e
    sections = [("grid", results.get("grid")),
                ("t_sweep.points", (results.get("t_sweep") or {}).get("points")),
                ("ladder.entries", (results.get("ladder") or {}).get("entries"))]
    for name, entries in sections:
        for i, e in enumerate(entries or []):
            yield f"{name}[{i}]", e


def extra_problems(results: dict[str, Any]) -> list[str]:
    """Rules a JSON Schema cannot express: every number finite; min <= q1 <= median <= q3;
    each GRU/LSTM ratio equal to the grid's two medians."""
    problems = [f"{where(p)}: must be a finite number, got {v}"
                for p, v in _numbers(results) if not math.isfinite(v)]
    for name, e in _timings(results):
        if not (isinstance(e, dict) and all(isinstance(e.get(k), (int, float))
                                            for k in TIMING_KEYS)):
            continue  # the schema reports it
        if not e["q1_ms"] <= e["median_ms"] <= e["q3_ms"]:
            problems.append(f"{name}: median not between q1 and q3")
        if e["min_ms"] > e["q1_ms"] * (1 + 1e-9):
            problems.append(f"{name}: min_ms above q1_ms")
    problems += _ratio_problems(results)
    return problems


def _ratio_problems(results: dict[str, Any]) -> list[str]:
    grid = results.get("grid") or []
    by = {(e.get("kind"), e.get("H"), e.get("B"), e.get("mode"), e.get("dtype")): e
          for e in grid if isinstance(e, dict)}
    problems = []
    for i, r in enumerate(results.get("gru_lstm_ratios") or []):
        key = (r.get("H"), r.get("B"), r.get("mode"), r.get("dtype"))
        gru, lstm = by.get(("gru", *key)), by.get(("lstm", *key))
        if gru is None or lstm is None:
            problems.append(f"gru_lstm_ratios[{i}]: no GRU and LSTM grid entries at {key}")
            continue
        try:
            expected = gru["median_ms"] / lstm["median_ms"]
            if not math.isclose(r["time_ratio"], expected, rel_tol=1e-6):
                problems.append(f"gru_lstm_ratios[{i}].time_ratio: {r['time_ratio']} is not the "
                                f"grid's GRU/LSTM median ratio {expected}")
        except (TypeError, KeyError, ZeroDivisionError):
            continue  # the schema reports it
    return problems


def validate(results: Any) -> dict[str, Any]:
    """Return ``results`` if it is a valid bench result, else raise ValueError listing every
    problem (the schema's, then :func:`extra_problems`)."""
    if not isinstance(results, dict):
        raise ValueError("invalid bench results: must be a JSON object (a dict), "
                         f"got {type(results).__name__}")
    problems = schema_problems(results)
    problems += extra_problems(results)
    if problems:
        raise ValueError("invalid bench results:\n  " + "\n  ".join(problems))
    return results


def load_results(path: str | Path) -> dict[str, Any]:
    """Read and validate one results JSON file."""
    return validate(json.loads(Path(path).read_text(encoding="utf-8")))
