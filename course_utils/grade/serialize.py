"""Plain-data transport between the grader and the sandbox: no pickle, ever.

Two directions, two formats:

* **inputs** (grader -> sandbox, trusted): the cases' arguments as one ``.npz`` file (arrays)
  plus a JSON tree that says where each array goes (:func:`encode_inputs` /
  :func:`decode_inputs`); the sandbox reads it with ``np.load(allow_pickle=False)``.
* **outputs** (sandbox -> grader, *untrusted*): what the learner's function returned, as a JSON
  tree whose arrays are base64 bytes with a dtype and a shape (:func:`encode_value`).
  :func:`decode_value` rebuilds it in the grader with strict checks (allowed dtypes, sizes,
  depth, key types), so whatever learner code writes can at most be a wrong answer: it never
  becomes an object with behaviour (no ``__eq__``, no subclass, no lying ``__class__``).

Tree format (both directions): ``null``/bool/float/str are themselves; ``{"int": "12"}`` is an
int; ``{"tuple": [...]}``, ``{"list": [...]}``, ``{"dict": [[key, value], ...]}`` nest;
``{"array": ...}`` is an array; ``{"unsupported": "TypeName"}`` marks a value that is not
plain data (reported to the learner as a wrong type).
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np

MAX_DEPTH = 8
MAX_ITEMS = 256            # per container
MAX_ARRAY_BYTES = 8 << 20  # per returned array
MAX_STR = 200
_DTYPES = {"|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8"}


class DecodeError(ValueError):
    """Untrusted data that is not a valid plain-data tree."""


# --------------------------------------------------------------------------- inputs
def encode_inputs(values: dict[str, Any], prefix: str = "a") -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Encode ``{name: value}`` (arrays, ints, floats, tensors, tuples, dicts) for the sandbox.

    Returns the JSON tree and the arrays to save with ``np.savez``; torch tensors are saved as
    arrays and marked ``"torch": true`` so the sandbox turns them back into tensors.
    """
    arrays: dict[str, np.ndarray] = {}

    def enc(v: Any) -> Any:
        if v is None or isinstance(v, (bool, float, str)):
            return v
        if isinstance(v, (int, np.integer)):
            return {"int": str(int(v))}
        if isinstance(v, np.floating):
            return float(v)
        if isinstance(v, np.ndarray):
            key = f"{prefix}{len(arrays)}"
            arrays[key] = np.ascontiguousarray(v)
            return {"array": key}
        if type(v).__module__.startswith("torch") and hasattr(v, "detach"):
            key = f"{prefix}{len(arrays)}"
            arrays[key] = v.detach().cpu().numpy().copy()
            return {"array": key, "torch": True}
        if isinstance(v, tuple):
            return {"tuple": [enc(x) for x in v]}
        if isinstance(v, list):
            return {"list": [enc(x) for x in v]}
        if isinstance(v, dict):
            return {"dict": [[str(k), enc(x)] for k, x in v.items()]}
        raise TypeError(f"cannot send a {type(v).__name__} to the sandbox")

    return {k: enc(v) for k, v in values.items()}, arrays


def decode_inputs(tree: Any, arrays: Any, copy: bool = True) -> Any:
    """Inverse of :func:`encode_inputs`, run inside the sandbox (fresh objects every call; with
    ``copy=False`` the arrays are ``arrays``' own, e.g. views of shared memory) and in the
    grader (the inputs as the learner's process left them)."""
    if tree is None or isinstance(tree, (bool, float, str)):
        return tree
    if isinstance(tree, dict):
        if "int" in tree:
            return int(tree["int"])
        if "array" in tree:
            arr = np.array(arrays[tree["array"]], copy=True) if copy else arrays[tree["array"]]
            if tree.get("torch"):
                import torch

                return torch.from_numpy(arr)
            return arr
        if "tuple" in tree:
            return tuple(decode_inputs(x, arrays, copy) for x in tree["tuple"])
        if "list" in tree:
            return [decode_inputs(x, arrays, copy) for x in tree["list"]]
        if "dict" in tree:
            return {k: decode_inputs(x, arrays, copy) for k, x in tree["dict"]}
    raise DecodeError(f"bad input tree {tree!r:.60}")


def load_npz(path: str) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


# --------------------------------------------------------------------------- outputs
def encode_value(value: Any, depth: int = 0) -> Any:
    """What the learner returned -> plain JSON tree. Runs in the sandbox (best effort: the
    grader re-validates everything). Uses ``type()``, never ``isinstance``/``__class__``,
    so an object that lies about its class is reported by its real type."""
    t = type(value)
    if depth > MAX_DEPTH:
        return {"unsupported": "nesting too deep"}
    if value is None or t in (bool, str):
        return value[:MAX_STR] if t is str else value
    if t is float or issubclass(t, np.floating):
        return float(value)
    if t is int or issubclass(t, np.integer):
        return {"int": str(int(value))}
    if t is np.bool_:
        return bool(value)
    if issubclass(t, np.ndarray) or (t.__module__.startswith("torch") and t.__name__ == "Tensor"):
        try:
            if issubclass(t, np.ndarray):
                arr = np.ndarray.view(value, np.ndarray)  # bypass overridden subclass methods
            else:
                arr = value.detach().cpu().numpy()
            arr = np.array(arr, copy=True, order="C")
        except Exception as exc:  # noqa: BLE001
            return {"unsupported": f"{t.__name__} ({type(exc).__name__})"}
        if arr.dtype.str not in _DTYPES and arr.dtype.kind in "fiub":  # float128, big-endian ...
            arr = arr.astype({"f": np.float64, "i": np.int64, "u": np.uint64, "b": np.bool_}[arr.dtype.kind])
        if arr.nbytes > MAX_ARRAY_BYTES:
            return {"unsupported": f"array too large ({arr.nbytes} bytes, the limit is {MAX_ARRAY_BYTES})"}
        if arr.dtype.str not in _DTYPES:
            return {"unsupported": f"{t.__name__} of dtype {arr.dtype}"}
        return {"array": {"dtype": arr.dtype.str, "shape": list(arr.shape),
                          "data": base64.b64encode(arr.tobytes()).decode("ascii")}}
    if t in (tuple, list):
        if len(value) > MAX_ITEMS:
            return {"unsupported": f"{t.__name__} of {len(value)} items"}
        return {t.__name__: [encode_value(x, depth + 1) for x in value]}
    if t is dict:
        if len(value) > MAX_ITEMS:
            return {"unsupported": f"dict of {len(value)} items"}
        items = []
        for k, x in dict.items(value):
            if type(k) is not str:
                return {"unsupported": f"dict with a {type(k).__name__} key"}
            items.append([k[:MAX_STR], encode_value(x, depth + 1)])
        return {"dict": items}
    return {"unsupported": t.__name__[:60]}


class Unsupported:
    """Stands in the grader for a returned value that was not plain data."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


def _named_unsupported(name: str) -> Unsupported:
    """An opaque stand-in whose *type name* describes what was returned, so the checkers'
    messages ("should be a numpy array, got <type name>") read naturally."""
    safe = "".join(ch for ch in str(name)[:80] if ch.isalnum() or ch in "_ ()-,.") or "object"
    return type(safe, (Unsupported,), {})(safe)


def decode_value(tree: Any, depth: int = 0) -> Any:
    """Untrusted JSON tree -> plain Python/numpy value, or :class:`DecodeError`."""
    if depth > MAX_DEPTH + 1:
        raise DecodeError("nesting too deep")
    if tree is None or type(tree) in (bool, float):
        return tree
    if type(tree) is int:
        return float(tree)
    if type(tree) is str:
        return tree[:MAX_STR]
    if type(tree) is not dict or len(tree) != 1:
        raise DecodeError(f"unexpected {type(tree).__name__} in output")
    (kind, body), = tree.items()
    if kind == "int":
        if type(body) is not str or len(body) > 40:
            raise DecodeError("bad int")
        try:
            return int(body)
        except ValueError:
            raise DecodeError("bad int") from None
    if kind in ("tuple", "list"):
        if type(body) is not list or len(body) > MAX_ITEMS:
            raise DecodeError(f"bad {kind}")
        items = [decode_value(x, depth + 1) for x in body]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        if type(body) is not list or len(body) > MAX_ITEMS:
            raise DecodeError("bad dict")
        out = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise DecodeError("bad dict item")
            out[pair[0][:MAX_STR]] = decode_value(pair[1], depth + 1)
        return out
    if kind == "array":
        return _decode_array(body)
    if kind == "unsupported":
        return _named_unsupported(body if type(body) is str else "object")
    raise DecodeError(f"unknown tag {str(kind)[:20]!r}")


def _decode_array(body: Any) -> np.ndarray:
    if type(body) is not dict or set(body) != {"dtype", "shape", "data"}:
        raise DecodeError("bad array")
    dtype, shape, data = body["dtype"], body["shape"], body["data"]
    if dtype not in _DTYPES or type(shape) is not list or len(shape) > 8 \
            or not all(type(n) is int and 0 <= n <= MAX_ARRAY_BYTES for n in shape) \
            or type(data) is not str or len(data) > 2 * MAX_ARRAY_BYTES:
        raise DecodeError("bad array header")
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except Exception:  # noqa: BLE001
        raise DecodeError("bad array data") from None
    dt = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if count * dt.itemsize != len(raw) or len(raw) > MAX_ARRAY_BYTES:
        raise DecodeError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dt).reshape(shape).copy()


def save_npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()
