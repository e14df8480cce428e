"""Reading a returned value against a spec's output template: every leaf paired with its name and
converted to float64 (or an int), or a :class:`StructureError` that says what is wrong."""

from __future__ import annotations

from typing import Any

import numpy as np

from .spec import Int, IntList


class StructureError(ValueError):
    """The returned value does not have the expected structure (message says how)."""


def describe(template: Any) -> str:
    if isinstance(template, str):
        return template
    if isinstance(template, Int):
        return f"{template.name} (an int)"
    if isinstance(template, IntList):
        return f"{template.name} (a list of ints)"
    if isinstance(template, tuple):
        return "(" + ", ".join(describe(t) for t in template) + ")"
    if isinstance(template, dict):
        return "a dict with keys " + ", ".join(repr(k) for k in template)
    return repr(template)


def type_name(value: Any) -> str:
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
        raise StructureError(f"{name} should be a numpy array, got a {type_name(value)}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001
        raise StructureError(f"{name} could not be read as an array "
                             f"({type_name(value)}: {exc})") from None
    if arr.dtype.kind not in "fiub":
        raise StructureError(f"{name} should be a numeric array, got {type_name(value)} "
                             f"with dtype {arr.dtype}")
    return arr.astype(np.float64)


def int_list(name: str, value: Any) -> np.ndarray:
    """A returned list (or tuple, or 1-D integer array) of ints as a 1-D float64 array."""
    if value is None:
        raise StructureError(f"{name} is None — is a `return` statement missing?")
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iu":
        return value.astype(np.float64)
    if not isinstance(value, (list, tuple)):
        raise StructureError(f"{name} should be a list of ints, got {type_name(value)}")
    for item in value:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            raise StructureError(f"{name} should be a list of ints, but it holds a "
                                 f"{type_name(item)} ({item!r:.40})")
    return np.array([int(x) for x in value], dtype=np.float64)


def flatten(template: Any, value: Any, where: str = "the function") -> list[tuple[str, Any]]:
    """Pair every leaf of ``template`` with the matching part of ``value`` (converted)."""
    if value is None and where == "the function" and not isinstance(template, (tuple, dict)):
        raise StructureError(f"the function returned None; expected {describe(template)} — "
                             "is a `return` statement missing?")
    if isinstance(template, str):
        return [(template, to_array(template, value))]
    if isinstance(template, Int):
        if value is None:
            raise StructureError(f"{template.name} is None — is a `return` statement missing?")
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            if isinstance(value, (float, np.floating)) and float(value).is_integer():
                return [(template.name, int(value))]
            raise StructureError(f"{template.name} should be an int, got {type_name(value)} "
                                 f"{value!r:.40}")
        return [(template.name, int(value))]
    if isinstance(template, IntList):
        return [(template.name, int_list(template.name, value))]
    if isinstance(template, tuple):
        if value is None:
            raise StructureError(f"{where} returned None; expected {describe(template)} — "
                                 "is a `return` statement missing?")
        if not isinstance(value, (tuple, list)):
            raise StructureError(f"{where} returned a {type_name(value)}; expected a tuple "
                                 f"{describe(template)}")
        if len(value) != len(template):
            raise StructureError(f"{where} returned {len(value)} values; expected {len(template)}: "
                                 f"{describe(template)}")
        out = []
        for t, v in zip(template, value):
            out += flatten(t, v, where=f"the part {describe(t)}")
        return out
    if isinstance(template, dict):
        if not isinstance(value, dict):
            raise StructureError(f"{where} returned a {type_name(value)}; "
                                 f"expected {describe(template)}")
        missing = [k for k in template if k not in value]
        extra = [k for k in value if k not in template]
        if missing:
            raise StructureError(f"the returned dict lacks key(s) {', '.join(map(repr, missing))}")
        if extra:
            keys = ", ".join(map(repr, extra))
            raise StructureError(f"the returned dict has unexpected key(s) {keys}")
        out = []
        for k, t in template.items():
            out += flatten(t, value[k], where=f"the entry {k!r}")
        return out
    raise TypeError(f"bad output template {template!r}")


