"""The checker machinery: an exercise's spec as data, and the engine that judges a learner's
function.

A :class:`Spec` holds everything a checker needs, and nothing about *how* the learner's code
is run, so the notebook checker and the sandboxed grader share it:

* ``make_cases(seed)``  -> list of :class:`Case` (inputs only; all dimensions distinct,
  batch > 1 and batch = 1, several sub-seeds), generated from one integer seed; the notebook
  uses ``spec.public_seed``, the grader a hidden one;
* ``reference(*args)``  -> the expected output, computed with torch.nn / autograd in float64;
* ``output``            -> the template of the returned structure: a string names an array, a
  tuple / dict nests, :class:`Int` names an integer, :class:`IntList` a list of ints;
* ``mistakes``          -> the catalogue of known wrong variants; when the learner's output
  matches one of them, the message names it;
* ``rtol`` / ``atol``   -> loose enough for a correct float32 computation, tight enough that
  every catalogued mistake fails;
* ``time_axis``, ``initial_state`` and each case's ``dims`` -> *where* an error no mistake
  explains shows: "the first wrong time step is t=2", "the first step is already wrong: is h0
  used?", "passes at batch 1, fails at batch 3".

The engine is three small steps, usable separately, each in its own module:
:func:`~.calling.call_safely` (runs the function, never raises), :func:`~.judging.judge` (one case,
plain data in, plain data out; :mod:`.structure` reads the returned value against ``output``) and
:func:`~.judging.summarize` (cases -> :class:`CheckResult`). :func:`~.judging.run_spec` chains them.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Int:
    """Template leaf for an integer result (compared exactly)."""

    name: str


@dataclass(frozen=True)
class IntList:
    """Template leaf for a list of ints of any length (a token sequence), compared exactly; read
    as a 1-D float64 array, so shapes (lengths) and values are judged like any array leaf."""

    name: str


@dataclass
class Case:
    """One set of inputs. ``args``/``kwargs`` are passed to the learner's function.

    Inputs that are not arrays (a function to differentiate, a torch model with its optimizer)
    are given as ``source``: numpy/torch code that defines ``args`` (a tuple) and optionally
    ``kwargs``, run afresh for every call (:meth:`inputs`), so linked objects (an optimizer and
    its model's parameters) stay linked and the grader can rebuild them inside its sandbox from
    the text alone. With ``source`` set, ``args``/``kwargs`` are ignored.

    ``dims`` names the case's sizes (``{"T": 6, "B": 3, "I": 5, "H": 4}``) as data, so the engine
    can say where a function fails ("passes at batch 1, fails at batch 3") without parsing
    ``label``; the key ``"B"`` is the batch size. ``group`` is "public", or "hidden" in the grader.
    ``seed`` is the seed the case was generated from (set by :meth:`Spec.cases`); labels never
    contain it, and only public cases show it (:meth:`shown_label`), so a hidden seed cannot leak
    through a message.
    """

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    group: str = "public"
    source: str | None = None
    dims: dict[str, int] = field(default_factory=dict)
    seed: int | None = None
    _expected: Any = field(default=None, repr=False)

    def shown_label(self) -> str:
        """The label as messages show it: with ``, seed N`` for a public case only."""
        if self.group == "public" and self.seed is not None:
            return f"{self.label}, seed {self.seed}"
        return self.label

    def inputs(self) -> tuple[tuple, dict]:
        """Fresh ``(args, kwargs)`` for one call: deep copies, or ``source`` run anew."""
        if self.source is None:
            return copy.deepcopy(self.args), copy.deepcopy(self.kwargs)
        return build_inputs(self.source)


CASE_SOURCE = "<case inputs>"  # the file name of case-built code in tracebacks (not the learner's)


@functools.lru_cache(maxsize=64)
def _compiled(source: str) -> Any:
    """A case's source compiled once (the catalogue rebuilds a case's inputs for every mistake:
    the objects are made anew each time, only the compilation is shared)."""
    return compile(source, CASE_SOURCE, "exec")


def build_inputs(source: str) -> tuple[tuple, dict]:
    """Run a case's ``source`` (with ``np`` = numpy available) and return its ``args, kwargs``."""
    import numpy as np

    namespace: dict[str, Any] = {"np": np, "__name__": "case_inputs"}
    exec(_compiled(source), namespace)  # noqa: S102 - course-authored code
    return tuple(namespace["args"]), dict(namespace.get("kwargs", {}))


@dataclass(frozen=True)
class Mistake:
    """A known wrong variant: ``fn`` has the exercise's signature and computes the mistake.

    ``in_sequence``: for a mistake of one time step (a cell exercise), whether
    :func:`~.recurrent.inside_time_step` also looks for it in the sequence exercise that loops
    over the cell; False for a slip that a loop cannot reproduce as such (returning one batch row).
    """

    name: str
    explain: str
    fn: Callable[..., Any]
    in_sequence: bool = True
    # Optional check of the explanation's factual clauses on the learner's output:
    # holds({leaf name: value}, *args, **kwargs) -> bool; the mistake is named only when it holds.
    holds: Callable[..., bool] | None = None


@dataclass
class Spec:
    """One exercise's checker as data (see the module docstring for the fields' roles).

    ``id`` is the exercise function's name, ``notebook`` the notebook's slug ("03_lstm"),
    ``arg_names`` the parameter names (for messages about in-place changes), ``points`` the
    grader's weight. ``time_axis`` maps an output leaf to its time axis, so a wrong value is
    reported with the first wrong time step; ``initial_state`` names the arguments that hold an
    initial state ("h0", "c0"), so a sequence that is wrong from its first step asks whether they
    are used. :meth:`cases` makes the cases of a seed, :meth:`expected` caches the reference's
    answer on a case.
    """

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
    initial_state: tuple[str, ...] = ()  # argument names of initial states, e.g. ("h0", "c0")
    public_seed: int = 0
    # Heavy packages the learner's code may import when the grader runs it in its sandbox (numpy
    # and the standard library always); e.g. ("torch",) for the torch exercises.
    sandbox_modules: tuple[str, ...] = ()
    # Optional exercise-specific diagnosis, called when every leaf has the right shape and is
    # finite but some value is wrong: diagnose(got, expected, brief) -> text or None, with
    # got/expected as {leaf name: value}. brief=True after a named mistake (adds *where*).
    diagnose: Callable[[dict[str, Any], dict[str, Any], bool], str | None] | None = None
    # Optional check of the types the notebook states (a Python float, int arrays, the input's
    # dtype ...), on the value exactly as returned, before conversion: check_types(case, value)
    # -> None, or the failure's text (why the type matters; named "a type the notebook states"),
    # or (text, mistake name). Runs in judge(), so the notebook checker and the grader share it.
    check_types: Callable[[Case, Any], str | tuple[str, str] | None] | None = None
    # Optional notebook-only probe of *how* the function computes (GEMMs counted with a
    # TorchFunctionMode, gradients flowing, another device): probe(fn) -> (message, mistake name)
    # or None, run by run_spec() once every case passes. Instrumentation inside the learner's
    # own process is a hint, never a grading rule: the grader does not run it (issue 26).
    probe: Callable[[Callable[..., Any]], tuple[str, str] | None] | None = None
    # Optional naming from cheap properties of the learner's output, tried before the
    # catalogue (it sees NaN, wrong shapes and the case's inputs): recognise(got, exp, *args,
    # **kwargs) -> (mistake name, message) or None, got/exp as {leaf name: value}. Every factual
    # clause of the message must be checked on ``got`` before it is returned.
    recognise: Callable[..., tuple[str, str] | None] | None = None
    # Optional naming of an exception from the case's inputs: explain_error(error text, *args,
    # **kwargs) -> a hint (appended to the error), or (hint, mistake name) when the error itself
    # shows the mistake (an input that guards a rule raised), or None.
    explain_error: Callable[..., str | None] | None = None

    def cases(self, seed: int | None = None) -> list[Case]:
        """The cases generated from ``seed`` (default: the public seed), each carrying it."""
        seed = self.public_seed if seed is None else seed
        cases = self.make_cases(seed)
        for case in cases:
            case.seed = seed
        return cases

    def expected(self, case: Case) -> Any:
        if case._expected is None:
            args, kwargs = case.inputs()
            case._expected = self.reference(*args, **kwargs)
        return case._expected


@dataclass
class Outcome:
    """What happened when the learner's function was called on one case (plain data)."""

    value: Any = None
    error: str | None = None
    not_implemented: bool = False
    mutated: list[str] = field(default_factory=list)


