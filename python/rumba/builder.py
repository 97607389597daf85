"""The graph builder: rumba's Rust DSL in Python.

Each call records one node of the graph file (``docs/graph-format.md``); ``Builder.build``
writes the file text and loads it, so a builder graph and a file graph are the same thing and
validation (DESIGN §1 promotion, shapes, dtypes) happens once, in rumba. A validation error is a
``rumba.GraphError`` whose ``path`` is the Python call site that made the node (``file.py:12``)
and whose message names the node too.

>>> import rumba
>>> b = rumba.Builder()
>>> x = b.input("x", "u8", [None, None, None, 1])
>>> amount = b.param("amount", 1.0)
>>> out = x.pipeline(subtract=rumba.Step.range([0, 9], "mean", amount=amount))
>>> graph = b.build(out=out)
>>> graph.outputs
['out']
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Iterable, Sequence

from . import _rumba

Number = float | int
Operand = "Tensor | float | int"

_KINDS = ("sum", "mean", "min", "max", "var", "std", "median", "percentile")


def _number(value: float) -> Any:
    """A number as the file writes it (``"nan"``, ``"inf"`` where JSON has no number)."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _caller() -> str:
    """The first frame outside this module: where the user called the builder."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _kind(kind: str, q: float | None) -> dict:
    if kind not in _KINDS:
        raise ValueError(f"kind {kind!r}: expected one of {', '.join(_KINDS)}")
    out: dict = {"kind": kind}
    if kind == "percentile":
        if q is None:
            raise ValueError("kind 'percentile' needs q (in [0, 100])")
        out["q"] = _number(q)
    elif q is not None:
        raise ValueError(f"q is only for kind 'percentile', not {kind!r}")
    return out


class Step:
    """A pipeline step: where the reference comes from, and its amount."""

    def __init__(self, fields: dict):
        self.fields = fields

    @staticmethod
    def range(bounds: Sequence[int], kind: str, *, q: float | None = None, amount: Operand = 1.0,
              skip_nan: bool = False) -> "Step":
        """The ``kind`` statistic of frames ``bounds[0] ..= bounds[1]`` (inclusive)."""
        fields = {"source": "range", "bounds": list(bounds), **_kind(kind, q), "amount": amount}
        if skip_nan:
            fields["skip_nan"] = True
        return Step(fields)

    @staticmethod
    def sliding(window: int, lag: int, kind: str, *, q: float | None = None, amount: Operand = 1.0,
                skip_nan: bool = False) -> "Step":
        """The ``kind`` statistic of a sliding window of ``window`` frames ``lag`` behind."""
        fields = {"source": "sliding", "window": window, "lag": lag, **_kind(kind, q), "amount": amount}
        if skip_nan:
            fields["skip_nan"] = True
        return Step(fields)

    @staticmethod
    def file(reference: "Tensor", *, amount: Operand = 1.0) -> "Step":
        """A (1, H, W, C) input as the reference."""
        return Step({"source": "file", "file": reference, "amount": amount})


class Builder:
    """Records nodes; ``build(name=tensor, ...)`` makes the ``rumba.Graph``."""

    def __init__(self, description: str | None = None):
        self._nodes: list[dict] = []
        self._sites: list[str] = []
        self._ids: set[str] = set()
        self._description = description

    # Leaves.
    def input(self, name: str, dtype: str | None, shape: Sequence[int | None]) -> "Tensor":
        """A graph input (``dtype`` one of bool u8 u16 i32 f32 f64; ``None`` extents are free)."""
        return self._node({"id": name, "op": "input", "dtype": dtype, "shape": list(shape)})

    def param(self, name: str, default: float | None = None) -> "Tensor":
        """A run-time scalar, given by name when the graph runs (never recompiles)."""
        node = {"id": name, "op": "param"}
        if default is not None:
            node["default"] = _number(default)
        return self._node(node)

    def constant(self, value: float) -> "Tensor":
        """A weak f64 scalar."""
        return self._node({"op": "const", "value": _number(value)})

    def polygon_mask(self, vertices: Sequence[Sequence[float]], height: int, width: int) -> "Tensor":
        """The bool (1, H, W, 1) mask of pixel centres inside the polygon (even-odd rule)."""
        return self._node({"op": "polygon_mask", "vertices": _vertices(vertices), "height": height,
                           "width": width})

    def build(self, outputs: dict[str, "Tensor"] | None = None, **named: "Tensor") -> "_rumba.Graph":
        """The graph with these outputs (by name), validated."""
        outs = dict(outputs or {}, **named)
        if not outs:
            raise ValueError("build needs at least one output (name=tensor)")
        refs = []
        for name, t in outs.items():
            if not isinstance(t, Tensor) or t.builder is not self:
                raise TypeError(f"output {name!r}: expected a Tensor of this builder, found {type(t).__name__}")
            refs.append(t._ref() if name == t._ref() else {"name": name, "ref": t._ref()})
        text = self.to_json(refs)
        try:
            return _rumba.loads(text)
        except _rumba.GraphError as e:
            raise self._at_call_site(e) from None

    def to_json(self, outputs: list) -> str:
        """The graph file text of the nodes so far with these output references."""
        graph: dict = {"format": "rumba-graph", "version": _version(self._nodes)}
        if self._description:
            graph["description"] = self._description
        graph["nodes"] = [_encode(n) for n in self._nodes]
        graph["outputs"] = outputs
        return json.dumps(graph, indent=1)

    # Internals.
    def _node(self, node: dict, outputs: Iterable[str] = ()) -> "Tensor":
        if "id" not in node:
            node = {"id": f"_{len(self._nodes)}_{node['op']}", **node}
        if node["id"] in self._ids:
            raise ValueError(f"node id {node['id']!r} is already used in this builder")
        self._ids.add(node["id"])
        self._nodes.append(node)
        self._sites.append(_caller())
        outputs = tuple(outputs)
        if outputs:
            return tuple(Tensor(self, node, name) for name in outputs)  # type: ignore[return-value]
        return Tensor(self, node, None)

    def _at_call_site(self, e: Exception) -> Exception:
        path = getattr(e, "path", None) or ""
        if path.startswith("nodes["):
            index = int(path[len("nodes["):path.index("]")])
            site = self._sites[index]
            err = _rumba.GraphError(f"{e} (node built at {site})")
            err.node, err.label, err.path = getattr(e, "node", None), getattr(e, "label", None), site
            return err
        return e


def _version(nodes: list[dict]) -> int:
    """The lowest format version that expresses the nodes."""
    return 1


def _vertices(vertices: Sequence[Sequence[float]]) -> list:
    return [[_number(x), _number(y)] for x, y in vertices]


def _encode(value: Any) -> Any:
    """Node fields with tensors as references and non-finite numbers as strings."""
    if isinstance(value, Tensor):
        return value._ref()
    if isinstance(value, Step):
        return _encode(value.fields)
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return _number(value)
    return value


class Tensor:
    """A value in a graph being built. Arithmetic operators follow DESIGN §1 promotion."""

    __array_priority__ = 1000  # NumPy scalars on the left defer to Tensor's reflected operators.

    def __init__(self, builder: Builder, node: dict, output: str | None):
        self.builder = builder
        self._nodedef = node
        self._output = output

    def _ref(self) -> str:
        return self._nodedef["id"] if self._output is None else f"{self._nodedef['id']}.{self._output}"

    def _operand(self, other: Any) -> Any:
        if isinstance(other, Tensor):
            if other.builder is not self.builder:
                raise ValueError("operands come from different builders")
            return other
        if isinstance(other, bool) or not isinstance(other, (int, float)):
            raise TypeError(f"expected a Tensor or a number, found {type(other).__name__}")
        if not math.isfinite(other):
            return self.builder.constant(other)
        return float(other)

    def _op(self, op: str, **fields: Any) -> "Tensor":
        return self.builder._node({"op": op, **fields})

    def _bin(self, op: str, a: Any, b: Any) -> "Tensor":
        return self._op(op, a=self._operand(a), b=self._operand(b))

    def id(self, name: str) -> "Tensor":
        """Names the node (its id in the file and in errors)."""
        if name in self.builder._ids:
            raise ValueError(f"node id {name!r} is already used in this builder")
        self.builder._ids.discard(self._nodedef["id"])
        self._nodedef["id"] = name
        self.builder._ids.add(name)
        return self

    def label(self, text: str) -> "Tensor":
        """A label for the node, shown in errors and explain."""
        self._nodedef["label"] = text
        return self

    # Elementwise.
    def __add__(self, o): return self._bin("add", self, o)
    def __radd__(self, o): return self._bin("add", o, self)
    def __sub__(self, o): return self._bin("sub", self, o)
    def __rsub__(self, o): return self._bin("sub", o, self)
    def __mul__(self, o): return self._bin("mul", self, o)
    def __rmul__(self, o): return self._bin("mul", o, self)
    def __truediv__(self, o): return self._bin("div", self, o)
    def __rtruediv__(self, o): return self._bin("div", o, self)
    def __neg__(self): return self._op("neg", x=self)
    def __abs__(self): return self._op("abs", x=self)
    def __lt__(self, o): return self.lt(o)
    def __le__(self, o): return self.le(o)
    def __gt__(self, o): return self.gt(o)
    def __ge__(self, o): return self.ge(o)

    def min(self, o): return self._bin("min", self, o)
    def max(self, o): return self._bin("max", self, o)
    def lt(self, o): return self._bin("lt", self, o)
    def le(self, o): return self._bin("le", self, o)
    def gt(self, o): return self._bin("gt", self, o)
    def ge(self, o): return self._bin("ge", self, o)
    def eq(self, o): return self._bin("eq", self, o)
    def ne(self, o): return self._bin("ne", self, o)
    def abs(self): return self._op("abs", x=self)
    def sqrt(self): return self._op("sqrt", x=self)
    def exp(self): return self._op("exp", x=self)
    def log(self): return self._op("log", x=self)
    def is_nan(self): return self._op("is_nan", x=self)

    def select(self, a: Any, b: Any) -> "Tensor":
        """``a`` where this bool tensor is true, else ``b``."""
        return self._op("select", cond=self, a=self._operand(a), b=self._operand(b))

    def nan_to_num(self, nan: float | None = None, posinf: float | None = None,
                   neginf: float | None = None) -> "Tensor":
        fields = {k: _number(v) for k, v in (("nan", nan), ("posinf", posinf), ("neginf", neginf)) if v is not None}
        return self._op("nan_to_num", x=self, **fields)

    def cast(self, dtype: str) -> "Tensor":
        return self._op("cast", x=self, dtype=dtype)

    # Movement.
    def slice(self, axis: int, start: int | None = None, stop: int | None = None, step: int = 1) -> "Tensor":
        fields: dict = {"axis": axis, "step": step}
        if start is not None:
            fields["start"] = start
        if stop is not None:
            fields["stop"] = stop
        return self._op("slice", x=self, **fields)

    def slice_at(self, axis: int, start: "Tensor", length: int, step: int = 1) -> "Tensor":
        """``length`` elements every ``step`` from the run-time index param ``start``."""
        return self._op("slice", x=self, axis=axis, start=start, len=length, step=step)

    def permute(self, axes: Sequence[int]) -> "Tensor": return self._op("permute", x=self, axes=list(axes))
    def squeeze(self, axes: Sequence[int]) -> "Tensor": return self._op("squeeze", x=self, axes=list(axes))
    def expand(self, axis: int) -> "Tensor": return self._op("expand", x=self, axis=axis)

    def broadcast_to(self, shape: Sequence[int]) -> "Tensor":
        return self._op("broadcast_to", x=self, shape=list(shape))

    # Statistics.
    def reduce(self, kind: str, axes: Sequence[int], *, q: float | None = None, keepdims: bool = True,
               skip_nan: bool = False, where: "Tensor | None" = None) -> "Tensor":
        fields: dict = {**_kind(kind, q), "axes": list(axes), "keepdims": keepdims, "skip_nan": skip_nan}
        if where is not None:
            fields["where"] = where
        return self._op("reduce", x=self, **fields)

    def window(self, kind: str, size: int, *, axis: int = 0, q: float | None = None,
               skip_nan: bool = False) -> "Tensor":
        return self._op("window", x=self, **_kind(kind, q), axis=axis, size=size, skip_nan=skip_nan)

    def weighted_window(self, weights: Sequence[float], *, axis: int = 0) -> "Tensor":
        return self._op("window", x=self, kind="weighted", weights=[_number(w) for w in weights], axis=axis,
                        size=len(weights))

    def polygon_mask_like(self, vertices: Sequence[Sequence[float]]) -> "Tensor":
        """The polygon's mask on this (T, H, W, C) stack's image size."""
        return self._op("polygon_mask", vertices=_vertices(vertices), like=self)

    # Image-stack helpers.
    def range_reference(self, bounds: Sequence[int], kind: str, *, q: float | None = None,
                        skip_nan: bool = False) -> "Tensor":
        return self._op("range_reference", x=self, bounds=list(bounds), **_kind(kind, q), skip_nan=skip_nan)

    def sliding_reference(self, window: int, lag: int, kind: str, *, q: float | None = None,
                          skip_nan: bool = False) -> "Tensor":
        return self._op("sliding_reference", x=self, window=window, lag=lag, **_kind(kind, q), skip_nan=skip_nan)

    def subtract(self, reference: "Tensor", amount: Any = 1.0) -> "Tensor":
        return self._op("subtract", x=self, reference=reference, amount=self._operand(amount))

    def divide(self, reference: "Tensor", amount: Any = 1.0) -> "Tensor":
        return self._op("divide", x=self, reference=reference, amount=self._operand(amount))

    def pipeline(self, subtract: Step | None = None, divide: Step | None = None) -> "Tensor":
        for step in (subtract, divide):
            if step is not None and isinstance(step.fields.get("amount"), (int, float)):
                step.fields["amount"] = self._operand(step.fields["amount"])
        return self._op("pipeline", x=self, subtract=subtract, divide=divide)

    def envelope(self, orientation: str, pos: int, halfwidth: int, over: str = "dataset") -> tuple["Tensor", "Tensor"]:
        """The (min, max) curves over a band of rows (``"h"``) or columns (``"v"``)."""
        return self.builder._node({"op": "envelope", "x": self, "orientation": orientation, "pos": pos,
                                   "halfwidth": halfwidth, "over": over}, outputs=("min", "max"))

    def apply_polygon(self, vertices: Sequence[Sequence[float]], fill: float = 0.0) -> "Tensor":
        return self._op("apply_polygon", x=self, vertices=_vertices(vertices), fill=_number(fill))

    def roi_series(self, vertices: Sequence[Sequence[float]]) -> tuple["Tensor", "Tensor", "Tensor"]:
        """The (mean, min, max) over the polygon's pixels, per frame."""
        return self.builder._node({"op": "roi_series", "x": self, "vertices": _vertices(vertices)},
                                  outputs=("mean", "min", "max"))

    def __repr__(self) -> str:
        return f"rumba.Tensor({self._ref()!r}, op {self._nodedef['op']})"
