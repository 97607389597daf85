"""BLITZ's workloads as drop-in functions, with the signatures of the fixtures' NumPy
reference (``tests/fixtures/reference.py``) and its results within the manifest's tolerances.

Each function builds one rumba graph for its structural arguments (bounds, window, kind,
vertices, …), compiles it once per input shape and dtype, and caches the executable; the
pipeline's amounts are params, so moving a slider never compiles again. Stacks are (T, H, W, C)
NumPy arrays of uint8, uint16, float32 or float64 (a 3-D (T, H, W) array is taken as C = 1).

>>> import numpy as np
>>> from rumba import blitz
>>> x = np.arange(40, dtype=np.uint8).reshape(10, 2, 2, 1)
>>> out = blitz.pipeline(x, subtract={"source": "range", "bounds": [0, 1], "kind": "mean", "amount": 1.0})
>>> float(out[2, 0, 0, 0])
6.0
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np

from . import _rumba
from .builder import Builder, Step

_DTYPES = {"bool": "bool", "uint8": "u8", "uint16": "u16", "int32": "i32", "float32": "f32", "float64": "f64"}

_cache: dict[tuple, Any] = {}
_lock = threading.Lock()


def _stack(x: Any, name: str = "x") -> np.ndarray:
    if isinstance(x, np.ma.MaskedArray):
        raise _rumba.BindError(f"input \"{name}\": a masked array's mask would be ignored; "
                               "pass `a.filled(np.nan)` or `a.data`")
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.ndim != 4:
        raise _rumba.BindError(f"input \"{name}\": expected a (T, H, W, C) or (T, H, W) array, found shape {x.shape}")
    return x


def _dtype(x: np.ndarray, name: str = "x") -> str:
    try:
        return _DTYPES[x.dtype.name]
    except KeyError:
        raise _rumba.BindError(
            f"input \"{name}\": NumPy dtype {x.dtype} is not one rumba reads (uint8, uint16, int32, float32, float64)"
        ) from None


def _executable(key: tuple, build, specs: dict) -> Any:
    """The cached executable of graph `key` for these input specs (built and compiled once)."""
    full = (key, tuple((k, v.dtype.name, v.shape) for k, v in sorted(specs.items())))
    with _lock:
        exe = _cache.get(full)
    if exe is None:
        exe = build().compile(**specs)
        with _lock:
            exe = _cache.setdefault(full, exe)
    return exe


def cache_clear() -> None:
    """Forgets every cached executable."""
    with _lock:
        _cache.clear()


def _step(step: dict | None, which: str, inputs: dict, b: Builder, refs: dict):
    """A manifest step as a builder Step whose amount is the param `which`_amount."""
    if step is None:
        return None, None
    if not isinstance(step, dict) or "source" not in step:
        raise _rumba.BindError(f"{which}: expected a step object (source range, sliding or file) or None")
    amount = step.get("amount", 1.0)
    param = b.param(f"{which}_amount", 1.0)
    source = step["source"]
    if source == "range":
        s = Step.range(step["bounds"], step["kind"], q=step.get("q"), amount=param, skip_nan=step.get("skip_nan", False))
    elif source == "sliding":
        s = Step.sliding(step["window"], step["lag"], step["kind"], q=step.get("q"), amount=param,
                         skip_nan=step.get("skip_nan", False))
    elif source == "file":
        name = step.get("file")
        if name not in inputs:
            raise _rumba.BindError(f"{which}: file reference {name!r} is not among inputs")
        if name not in refs:
            r = _stack(inputs[name], name)
            refs[name] = (b.input(name, _dtype(r, name), list(r.shape)), r)
        s = Step.file(refs[name][0], amount=param)
    else:
        raise _rumba.BindError(f"{which}: unknown source {source!r} (expected range, sliding or file)")
    return s, float(amount)


def _structure(step: dict | None) -> Any:
    """A step without its amount (the part that shapes the graph)."""
    if step is None:
        return None
    return tuple(sorted((k, repr(v)) for k, v in step.items() if k != "amount"))


def pipeline(x, subtract: dict | None = None, divide: dict | None = None, inputs: dict | None = None) -> np.ndarray:
    """Subtract and/or divide by references, in BLITZ's order: ``(x − a·R₁) / (b·R₂ + 1 − b)``,
    steps in the manifest's format (``{"source": "range", "bounds": [0, 9], "kind": "mean",
    "amount": 0.5}``, ``"sliding"`` with window and lag, ``"file"`` naming an entry of
    ``inputs``)."""
    x = _stack(x)
    inputs = dict(inputs or {})
    specs = {"x": x}
    for step in (subtract, divide):
        if isinstance(step, dict) and step.get("source") == "file" and step.get("file") in inputs:
            specs[step["file"]] = _stack(inputs[step["file"]], step["file"])
    amounts = {}

    def build():
        b = Builder()
        t = b.input("x", _dtype(x), [None, None, None, x.shape[3]])
        refs: dict = {}
        s, _ = _step(subtract, "subtract", inputs, b, refs)
        d, _ = _step(divide, "divide", inputs, b, refs)
        return b.build(out=t.pipeline(subtract=s, divide=d))

    for which, step in (("subtract", subtract), ("divide", divide)):
        if step is not None:
            amounts[f"{which}_amount"] = float(step.get("amount", 1.0)) if isinstance(step, dict) else 1.0
    exe = _executable(("pipeline", _structure(subtract), _structure(divide)), build, specs)
    return exe(**specs, **amounts)["out"]


def range_reference(x, bounds: Sequence[int], kind: str, skip_nan: bool = False, q: float | None = None) -> np.ndarray:
    """The ``kind`` statistic of frames ``bounds[0] ..= bounds[1]``: (1, H, W, C)."""
    x = _stack(x)

    def build():
        b = Builder()
        t = b.input("x", _dtype(x), [None, None, None, None])
        return b.build(out=t.range_reference(list(bounds), kind, q=q, skip_nan=skip_nan))

    return _executable(("range", tuple(bounds), kind, skip_nan, q), build, {"x": x})(x=x)["out"]


def sliding_reference(x, window: int, lag: int, kind: str, skip_nan: bool = False, q: float | None = None) -> np.ndarray:
    """The sliding reference: frame n is ``kind`` of frames ``n .. n+window`` (N = T − lag − window)."""
    x = _stack(x)

    def build():
        b = Builder()
        t = b.input("x", _dtype(x), [None, None, None, None])
        return b.build(out=t.sliding_reference(window, lag, kind, q=q, skip_nan=skip_nan))

    return _executable(("sliding", window, lag, kind, skip_nan, q), build, {"x": x})(x=x)["out"]


def window_reduce(x, window: int, kind: str, weights: Sequence[float] | None = None, skip_nan: bool = False,
                  q: float | None = None) -> np.ndarray:
    """``kind`` (or the ``weights``' weighted sum) over every window of ``window`` frames."""
    x = _stack(x)

    def build():
        b = Builder()
        t = b.input("x", _dtype(x), [None, None, None, None])
        if kind == "weighted":
            return b.build(out=t.weighted_window(list(weights or []), axis=0))
        return b.build(out=t.window(kind, window, axis=0, q=q, skip_nan=skip_nan))

    key = ("window", window, kind, tuple(weights) if weights is not None else None, skip_nan, q)
    return _executable(key, build, {"x": x})(x=x)["out"]


def _envelope(over: str, x, orientation: str, pos: int, halfwidth: int) -> dict:
    x = _stack(x)

    def build():
        b = Builder()
        t = b.input("x", _dtype(x), [None, None, None, None])
        lo, hi = t.envelope(orientation, pos, halfwidth, over)
        return b.build(min=lo, max=hi)

    exe = _executable(("envelope", over, orientation, pos, halfwidth), build, {"x": x})
    return exe(x=x)


def envelope_dataset(x, orientation: str, pos: int, halfwidth: int) -> dict:
    """``{"min", "max"}`` curves over (T, band, C) along the profile (W for ``"h"``, H for ``"v"``)."""
    return _envelope("dataset", x, orientation, pos, halfwidth)


def envelope_frames(x, orientation: str, pos: int, halfwidth: int) -> dict:
    """``{"min", "max"}`` per frame over the band: curves of length T."""
    return _envelope("frames", x, orientation, pos, halfwidth)


def _key_vertices(vertices) -> tuple:
    return tuple((float(a), float(b)) for a, b in vertices)


def polygon_mask(vertices, height: int, width: int) -> np.ndarray:
    """The bool (1, height, width, 1) mask of pixel centres inside the polygon (even-odd)."""

    def build():
        b = Builder()
        return b.build(mask=b.polygon_mask(vertices, height, width))

    return _executable(("mask", _key_vertices(vertices), height, width), build, {})()["mask"]


def apply_polygon(x, vertices, fill: Any = 0) -> np.ndarray:
    """The stack with pixels outside the polygon set to ``fill`` (0 keeps the dtype; ``"nan"``
    gives the compute dtype with NaN outside)."""
    x = _stack(x)
    fill_value = float("nan") if isinstance(fill, str) and fill.lower() == "nan" else fill

    def build():
        b = Builder()
        t = b.input("x", _dtype(x), [None, None, None, None])
        return b.build(out=t.apply_polygon(vertices, fill_value))

    key = ("apply_polygon", _key_vertices(vertices), repr(fill_value))
    return _executable(key, build, {"x": x})(x=x)["out"]


def roi_series(x, vertices) -> dict:
    """``{"mean", "min", "max"}`` per frame over the polygon's pixels (NaN skipped)."""
    x = _stack(x)

    def build():
        b = Builder()
        t = b.input("x", _dtype(x), [None, None, None, None])
        mean, lo, hi = t.roi_series(vertices)
        return b.build(mean=mean, min=lo, max=hi)

    return _executable(("roi", _key_vertices(vertices)), build, {"x": x})(x=x)
