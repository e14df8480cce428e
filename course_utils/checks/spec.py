"""The checker machinery: an exercise's spec as data, and the engine that judges a learner's function.

A :class:`Spec` holds everything a checker needs, and nothing about *how* the learner's code
is run, so the notebook checker and the sandboxed grader share it:

* ``make_cases(seed)``  -> list of :class:`Case` (inputs only; all dimensions distinct,
  batch > 1 and batch = 1, several sub-seeds), generated from one integer seed; the notebook
  uses ``spec.public_seed``, the grader a hidden one;
* ``reference(*args)``  -> the expected output, computed with torch.nn / autograd in float64;
* ``output``            -> the template of the returned structure: a string names an array, a
  tuple / dict nests, :class:`Int` names an integer;
* ``mistakes``          -> the catalogue of known wrong variants; when the learner's output
  matches one of them, the message names it;
* ``rtol`` / ``atol``   -> loose enough for a correct float32 computation, tight enough that
  every catalogued mistake fails.

The engine is three small steps, usable separately:
:func:`call_safely` (runs the function, never raises), :func:`judge` (one case, plain data in,
plain data out) and :func:`summarize` (cases -> :class:`CheckResult`). :func:`run_spec` chains them.
"""

from __future__ import annotations

import copy
import os
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .result import FAILED, NOT_IMPLEMENTED, CaseOutcome, CheckResult

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------- data types
@dataclass(frozen=True)
class Int:
    """Template leaf for an integer result (compared exactly)."""

    name: str


@dataclass
class Case:
    """One set of inputs. ``args``/``kwargs`` are passed to the learner's function."""

    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    group: str = "public"
    _expected: Any = field(default=None, repr=False)


@dataclass(frozen=True)
class Mistake:
    """A known wrong variant: ``fn`` has the exercise's signature and computes the mistake."""

    name: str
    explain: str
    fn: Callable[..., Any]


@dataclass
class Spec:
    id: str
    title: str
    notebook: str
    arg_names: tuple[str, ...]
    output: Any
    make_cases: Callable[[int], list[Case]]
    reference: Callable[..., Any]
    mistakes: list[Mistake] = field(default_factory=list)
    points: float = 1.0
    rtol: float = 1e-4
    atol: float = 1e-5
    time_axis: dict[str, int] = field(default_factory=dict)  # leaf name -> time axis
    public_seed: int = 0
    # Optional exercise-specific diagnosis, called when every leaf has the right shape and is
    # finite but some value is wrong: diagnose(got, expected, brief) -> text or None, with
    # got/expected as {leaf name: value}. brief=True after a named mistake (adds *where*).
    diagnose: Callable[[dict[str, Any], dict[str, Any], bool], str | None] | None = None

    def cases(self, seed: int | None = None) -> list[Case]:
        return self.make_cases(self.public_seed if seed is None else seed)

    def expected(self, case: Case) -> Any:
        if case._expected is None:
            case._expected = self.reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        return case._expected


@dataclass
class Outcome:
    """What happened when the learner's function was called on one case (plain data)."""

    value: Any = None
    error: str | None = None
    not_implemented: bool = False
    mutated: list[str] = field(default_factory=list)


class StructureError(ValueError):
    """The returned value does not have the expected structure (message says how)."""


# --------------------------------------------------------------------------- calling
def _learner_frame(tb: Any) -> traceback.FrameSummary | None:
    """The innermost frame of the traceback that belongs to the learner's code."""
    frames = traceback.extract_tb(tb)
    libs = tuple(p for p in {sys.prefix, sys.base_prefix, sys.exec_prefix} if p)

    def is_library(f: traceback.FrameSummary) -> bool:
        fn = os.path.abspath(f.filename) if not f.filename.startswith("<") else f.filename
        return (fn.startswith(_PKG_DIR) or "site-packages" in fn
                or (fn.startswith(libs) and "ipykernel_" not in fn))

    mine = [f for f in frames if not is_library(f)]
    if mine:
        return mine[-1]
    return frames[-1] if frames else None


def format_exception(exc: BaseException) -> str:
    """``TypeError: ... (in rnn_cell_forward, line 3: `h = ...`)`` — no file paths."""
    text = f"{type(exc).__name__}: {exc}".strip()
    if len(text) > 300:
        text = text[:297] + "..."
    frame = _learner_frame(exc.__traceback__)
    if frame is not None:
        where = f"in {frame.name}, line {frame.lineno}"
        if frame.line:
            where += f": `{frame.line.strip()}`"
        text += f" ({where})"
    return text


def _named(args: tuple, kwargs: dict, names: tuple[str, ...] = ()) -> dict[str, Any]:
    out = {(names[i] if i < len(names) else f"argument {i}"): a for i, a in enumerate(args)}
    out.update(kwargs)
    return out


def call_safely(fn: Callable[..., Any], case: Case, arg_names: tuple[str, ...] = ()) -> Outcome:
    """Call ``fn`` on fresh copies of the case's inputs. Never raises (KeyboardInterrupt aside)."""
    args = copy.deepcopy(case.args)
    kwargs = copy.deepcopy(case.kwargs)
    pristine = copy.deepcopy((args, kwargs))
    try:
        value = fn(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except NotImplementedError:
        return Outcome(not_implemented=True)
    except BaseException as exc:  # noqa: BLE001 - SystemExit from learner code is a failure too
        return Outcome(error=format_exception(exc))
    mutated = []
    now = _named(args, kwargs, arg_names)
    before = _named(*pristine, arg_names)
    for name, arr in now.items():
        if _changed(before[name], arr):
            mutated.append(name)
    return Outcome(value=value, mutated=mutated)


def _changed(old: Any, new: Any) -> bool:
    """Did the learner change this argument in place? numpy arrays and torch tensors."""
    if isinstance(new, np.ndarray) and isinstance(old, np.ndarray):
        return new.shape != old.shape or not np.array_equal(new, old, equal_nan=True)
    if type(new).__name__ == "Tensor" and type(old).__name__ == "Tensor":  # no torch import
        import torch

        return new.shape != old.shape or not torch.equal(new.detach().cpu(), old.detach().cpu())
    return False


# --------------------------------------------------------------------------- structure
def _describe(template: Any) -> str:
    if isinstance(template, str):
        return template
    if isinstance(template, Int):
        return f"{template.name} (an int)"
    if isinstance(template, tuple):
        return "(" + ", ".join(_describe(t) for t in template) + ")"
    if isinstance(template, dict):
        return "a dict with keys " + ", ".join(repr(k) for k in template)
    return repr(template)


def _type_name(value: Any) -> str:
    return type(value).__name__


def to_array(name: str, value: Any) -> np.ndarray:
    """Convert a returned leaf to a float64 numpy array, or raise StructureError."""
    if value is None:
        raise StructureError(f"{name} is None — is a `return` statement missing?")
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        value = value.detach().cpu()
        if value.is_floating_point() or value.is_complex():
            value = value.double()
        value = value.numpy()
    if isinstance(value, (tuple, list, dict)) and not isinstance(value, np.ndarray):
        raise StructureError(f"{name} should be a numpy array, got a {_type_name(value)}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001
        raise StructureError(f"{name} could not be read as an array ({_type_name(value)}: {exc})") from None
    if arr.dtype.kind not in "fiub":
        raise StructureError(f"{name} should be a numeric array, got {_type_name(value)} "
                             f"with dtype {arr.dtype}")
    return arr.astype(np.float64)


def flatten(template: Any, value: Any, where: str = "the function") -> list[tuple[str, Any]]:
    """Pair every leaf of ``template`` with the matching part of ``value`` (converted)."""
    if value is None and where == "the function" and not isinstance(template, (tuple, dict)):
        raise StructureError(f"the function returned None; expected {_describe(template)} — "
                             "is a `return` statement missing?")
    if isinstance(template, str):
        return [(template, to_array(template, value))]
    if isinstance(template, Int):
        if value is None:
            raise StructureError(f"{template.name} is None — is a `return` statement missing?")
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            if isinstance(value, (float, np.floating)) and float(value).is_integer():
                return [(template.name, int(value))]
            raise StructureError(f"{template.name} should be an int, got {_type_name(value)} {value!r:.40}")
        return [(template.name, int(value))]
    if isinstance(template, tuple):
        if value is None:
            raise StructureError(f"{where} returned None; expected {_describe(template)} — "
                                 "is a `return` statement missing?")
        if not isinstance(value, (tuple, list)):
            raise StructureError(f"{where} returned a {_type_name(value)}; expected a tuple "
                                 f"{_describe(template)}")
        if len(value) != len(template):
            raise StructureError(f"{where} returned {len(value)} values; expected {len(template)}: "
                                 f"{_describe(template)}")
        out = []
        for t, v in zip(template, value):
            out += flatten(t, v, where=f"the part {_describe(t)}")
        return out
    if isinstance(template, dict):
        if not isinstance(value, dict):
            raise StructureError(f"{where} returned a {_type_name(value)}; expected {_describe(template)}")
        missing = [k for k in template if k not in value]
        extra = [k for k in value if k not in template]
        if missing:
            raise StructureError(f"the returned dict lacks key(s) {', '.join(map(repr, missing))}")
        if extra:
            raise StructureError(f"the returned dict has unexpected key(s) {', '.join(map(repr, extra))}")
        out = []
        for k, t in template.items():
            out += flatten(t, value[k], where=f"the entry {k!r}")
        return out
    raise TypeError(f"bad output template {template!r}")


# --------------------------------------------------------------------------- judging
def _leaf_close(got: Any, exp: Any, rtol: float, atol: float) -> bool:
    if isinstance(exp, int):
        return isinstance(got, int) and got == exp
    if not isinstance(got, np.ndarray) or got.shape != exp.shape:
        return False
    return bool(np.all(np.isfinite(got)) and np.allclose(got, exp, rtol=rtol, atol=atol))


def _all_close(got: list[tuple[str, Any]], exp: list[tuple[str, Any]], rtol: float, atol: float) -> bool:
    return len(got) == len(exp) and all(_leaf_close(g, e, rtol, atol) for (_, g), (_, e) in zip(got, exp))


def _mismatch_text(spec: Spec, name: str, got: Any, exp: Any) -> str:
    if isinstance(exp, int):
        return f"{name} is {got}, which is not the expected count"
    if got.shape != exp.shape:
        text = f"{name} has shape {got.shape}, expected {exp.shape}"
        if got.shape == exp.shape[::-1] and got.ndim > 1:
            text += " (transposed?)"
        elif got.size == exp.size:
            text += " (same number of entries: a reshape or axis order mix-up?)"
        return text
    if not np.all(np.isfinite(got)):
        return f"{name} contains NaN or inf values"
    err = np.abs(got - exp)
    worst = np.unravel_index(int(np.argmax(err)), err.shape)
    text = f"{name} has the right shape {exp.shape} but wrong values (max abs error {err.max():.3g} at index {tuple(int(i) for i in worst)})"
    axis = spec.time_axis.get(name)
    if axis is not None and got.ndim > axis:
        bad = np.moveaxis(~np.isclose(got, exp, rtol=spec.rtol, atol=spec.atol), axis, 0)
        steps = np.nonzero(bad.reshape(bad.shape[0], -1).any(axis=1))[0]
        if steps.size:
            text += f"; the first wrong time step is t={int(steps[0])}"
            if steps[0] > 0:
                text += f" (t=0..{int(steps[0]) - 1} are right)"
    return text


def expected_leaves(spec: Spec, case: Case) -> list[tuple[str, Any]]:
    return flatten(spec.output, spec.expected(case), where="the reference")


def find_mistake(spec: Spec, case: Case, got: list[tuple[str, Any]],
                 exp: list[tuple[str, Any]]) -> Mistake | None:
    """The first catalogued mistake whose output equals the learner's on this case."""
    for mistake in spec.mistakes:
        try:
            wrong = flatten(spec.output, mistake.fn(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs)))
        except Exception:  # noqa: BLE001 - a mistake that cannot apply to this case
            continue
        if _all_close(wrong, exp, spec.rtol, spec.atol):
            continue  # indistinguishable from the right answer on this case
        if _all_close(got, wrong, spec.rtol, spec.atol):
            return mistake
    return None


def _diagnosis(spec: Spec, got: list[tuple[str, Any]], exp: list[tuple[str, Any]], brief: bool) -> str | None:
    """The spec's own diagnosis, when it has one and every leaf has the right shape and is finite."""
    if spec.diagnose is None:
        return None
    for (_, g), (_, e) in zip(got, exp):
        if isinstance(e, int):
            continue
        if not isinstance(g, np.ndarray) or g.shape != e.shape or not np.all(np.isfinite(g)):
            return None
    return spec.diagnose(dict(got), dict(exp), brief) or None


def judge(spec: Spec, case: Case, outcome: Outcome) -> CaseOutcome:
    """Verdict on one case. Plain data in, plain data out; never shows expected values."""
    def fail(message: str, mistake: str | None = None) -> CaseOutcome:
        return CaseOutcome(case.label, case.group, False, message, mistake)

    if outcome.not_implemented:
        return fail("not implemented yet")
    if outcome.error is not None:
        return fail(f"your function raised {outcome.error}")
    if outcome.mutated:
        names = ", ".join(f"`{n}`" for n in outcome.mutated)
        return fail(f"your function modified its input {names} in place (e.g. `+=` or `[...] =` on "
                    "an argument); the caller's arrays must stay unchanged — build new arrays instead",
                    "modified an input in place")
    exp = expected_leaves(spec, case)
    try:
        got = flatten(spec.output, outcome.value)
    except StructureError as exc:
        return fail(str(exc))
    if _all_close(got, exp, spec.rtol, spec.atol):
        return CaseOutcome(case.label, case.group, True)
    mistake = find_mistake(spec, case, got, exp)
    detail = _diagnosis(spec, got, exp, brief=mistake is not None)
    if mistake is not None:
        text = f"looks like {mistake.name}: {mistake.explain}"
        return fail(f"{text} ({detail})" if detail else text, mistake.name)
    if detail:
        return fail(detail)
    for (name, g), (_, e) in zip(got, exp):
        if not _leaf_close(g, e, spec.rtol, spec.atol):
            return fail(_mismatch_text(spec, name, g, e))
    return fail("wrong result")  # unreachable in practice


def summarize(spec: Spec, outcomes: list[CaseOutcome], hidden: bool = False) -> CheckResult:
    n = len(outcomes)
    kind = "hidden" if hidden else "public"
    if outcomes and all(o.passed for o in outcomes):
        return CheckResult(spec.id, True, f"{kind} checks passed ({n} cases).", cases=outcomes)
    if outcomes and all(o.message == "not implemented yet" for o in outcomes):
        return CheckResult(spec.id, False,
                           "not implemented yet — replace `raise NotImplementedError()` with your "
                           "code, then run this cell again.", status=NOT_IMPLEMENTED, cases=outcomes)
    first = next(o for o in outcomes if not o.passed)
    k = sum(o.passed for o in outcomes)
    msg = f"{first.message} [case {first.label}; {k} of {n} {kind} cases passed]"
    return CheckResult(spec.id, False, msg, status=FAILED, mistake=first.mistake, cases=outcomes)


def run_spec(spec: Spec, fn: Any, seed: int | None = None) -> CheckResult:
    """Run every case of ``spec`` on ``fn`` in this process. Never raises."""
    try:
        if not callable(fn):
            return CheckResult(spec.id, False, f"expected your function `{spec.id}`, got "
                               f"{_type_name(fn)} — pass the function itself, without calling it")
        cases = spec.cases(seed)
        outcomes = [judge(spec, c, call_safely(fn, c, spec.arg_names)) for c in cases]
        return summarize(spec, outcomes, hidden=seed is not None and seed != spec.public_seed)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - a checker never raises
        return CheckResult(spec.id, False, f"the checker itself failed ({type(exc).__name__}: {exc}); "
                           "please report this to the course maintainers")


def make_checker(spec: Spec) -> Callable[..., CheckResult]:
    def check(fn: Any, seed: int | None = None) -> CheckResult:
        return run_spec(spec, fn, seed)

    check.__name__ = check.__qualname__ = f"check_{spec.id}"
    check.__doc__ = (f"Check your `{spec.id}` ({spec.title}, notebook {spec.notebook}) against "
                     f"the torch reference; returns a CheckResult (truthy when it passes).")
    check.spec = spec  # type: ignore[attr-defined]
    return check
