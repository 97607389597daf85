"""Shared helpers of the Python suite: the golden fixtures (tests/fixtures) as graphs, in
file form (JSON text) and builder form, and the manifest's comparison rule."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import rumba

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLES = ROOT / "examples" / "graphs"


def load_cases() -> list[dict]:
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    cases = []
    for c in manifest["cases"]:
        c = dict(c)
        c["arrays"] = {k: np.load(FIXTURES / p) for k, p in c["inputs"].items()}
        c["expected"] = {k: np.load(FIXTURES / p) for k, p in c["outputs"].items()}
        cases.append(c)
    return cases


CASES = load_cases()

_DT = {"bool": "bool", "uint8": "u8", "uint16": "u16", "int32": "i32", "float32": "f32", "float64": "f64"}


def rumba_dtype(a: np.ndarray) -> str:
    return _DT[a.dtype.name]


def _input_node(name: str, a: np.ndarray) -> dict:
    return {"id": name, "op": "input", "dtype": rumba_dtype(a), "shape": list(a.shape)}


_DEFAULT_OUTPUTS = {"polygon_mask": ["mask"], "envelope_dataset": ["min", "max"], "envelope_frames": ["min", "max"],
                    "roi_series": ["mean", "min", "max"]}
_MULTI = {"envelope_dataset": "env", "envelope_frames": "env", "roi_series": "roi"}


def output_names(case: dict) -> list[str]:
    return list(case["outputs"]) or _DEFAULT_OUTPUTS.get(case["op"], ["out"])


def json_graph(case: dict) -> str:
    """The case as a graph file (as tests/support/cases.rs writes it)."""
    p = case["params"]
    nodes = [_input_node(n, a) for n, a in case["arrays"].items()]

    def node(base: dict, keys: tuple) -> None:
        nodes.append({**base, **{k: p[k] for k in keys if k in p}})

    op = case["op"]
    if op == "reduce":
        node({"id": "out", "op": "reduce", "x": "x"}, ("kind", "q", "axes", "skip_nan"))
    elif op == "range_reference":
        node({"id": "out", "op": "range_reference", "x": "x"}, ("kind", "q", "bounds", "skip_nan"))
    elif op == "sliding_reference":
        node({"id": "out", "op": "sliding_reference", "x": "x"}, ("kind", "q", "window", "lag", "skip_nan"))
    elif op == "window_reduce":
        node({"id": "out", "op": "window", "x": "x", "size": p["window"]}, ("kind", "q", "weights", "skip_nan"))
    elif op == "pipeline":
        node({"id": "out", "op": "pipeline", "x": "x"}, ("subtract", "divide"))
    elif op in ("envelope_dataset", "envelope_frames"):
        node({"id": "env", "op": "envelope", "x": "x", "over": op.split("_")[1]}, ("orientation", "pos", "halfwidth"))
    elif op == "polygon_mask":
        node({"id": "mask", "op": "polygon_mask", "height": p["height"], "width": p["width"]}, ("vertices",))
    elif op == "apply_polygon":
        node({"id": "out", "op": "apply_polygon", "x": "x", "fill": p["fill"]}, ("vertices",))
    elif op == "roi_series":
        node({"id": "roi", "op": "roi_series", "x": "x"}, ("vertices",))
    else:
        raise AssertionError(f"unknown fixture op {op}")
    prefix = _MULTI.get(op)
    outputs = [{"name": n, "ref": f"{prefix}.{n}"} if prefix else n for n in output_names(case)]
    return json.dumps({"format": "rumba-graph", "version": 1, "nodes": nodes, "outputs": outputs})


def _step(b: rumba.Builder, step: dict | None, refs: dict):
    if step is None:
        return None
    amount = step.get("amount", 1.0)
    if step["source"] == "range":
        return rumba.Step.range(step["bounds"], step["kind"], q=step.get("q"), amount=amount,
                                skip_nan=step.get("skip_nan", False))
    if step["source"] == "sliding":
        return rumba.Step.sliding(step["window"], step["lag"], step["kind"], q=step.get("q"), amount=amount,
                                  skip_nan=step.get("skip_nan", False))
    return rumba.Step.file(refs[step["file"]], amount=amount)


def builder_graph(case: dict) -> rumba.Graph:
    """The case built with rumba.Builder."""
    p = case["params"]
    b = rumba.Builder()
    # Free extents here (the file form fixes them): both validation paths are covered.
    t = {n: b.input(n, rumba_dtype(a), [None] * a.ndim) for n, a in case["arrays"].items()}
    op = case["op"]
    if op == "reduce":
        outs = {"out": t["x"].reduce(p["kind"], p["axes"], q=p.get("q"), skip_nan=p.get("skip_nan", False))}
    elif op == "range_reference":
        outs = {"out": t["x"].range_reference(p["bounds"], p["kind"], q=p.get("q"), skip_nan=p.get("skip_nan", False))}
    elif op == "sliding_reference":
        outs = {"out": t["x"].sliding_reference(p["window"], p["lag"], p["kind"], q=p.get("q"),
                                                skip_nan=p.get("skip_nan", False))}
    elif op == "window_reduce":
        if p["kind"] == "weighted":
            outs = {"out": t["x"].weighted_window(p["weights"])}
        else:
            outs = {"out": t["x"].window(p["kind"], p["window"], q=p.get("q"), skip_nan=p.get("skip_nan", False))}
    elif op == "pipeline":
        outs = {"out": t["x"].pipeline(subtract=_step(b, p.get("subtract"), t), divide=_step(b, p.get("divide"), t))}
    elif op in ("envelope_dataset", "envelope_frames"):
        lo, hi = t["x"].envelope(p["orientation"], p["pos"], p["halfwidth"], op.split("_")[1])
        outs = {"min": lo, "max": hi}
    elif op == "polygon_mask":
        outs = {"mask": b.polygon_mask(p["vertices"], p["height"], p["width"])}
    elif op == "apply_polygon":
        fill = float("nan") if p["fill"] == "nan" else p["fill"]
        outs = {"out": t["x"].apply_polygon(p["vertices"], fill)}
    elif op == "roi_series":
        mean, lo, hi = t["x"].roi_series(p["vertices"])
        outs = {"mean": mean, "min": lo, "max": hi}
    else:
        raise AssertionError(f"unknown fixture op {op}")
    return b.build({n: outs[n] for n in output_names(case)})


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float, what: str) -> None:
    """The manifest's rule: same dtype and shape; NaN where NaN; integers and infinities
    exact; other floats within atol + rtol·|expected|."""
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype}, expected {expected.dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    a, e = actual.astype(np.float64).ravel(), expected.astype(np.float64).ravel()
    nan = np.isnan(e)
    assert np.array_equal(np.isnan(a), nan), f"{what}: NaN positions differ"
    exact = np.isinf(e) | (not np.issubdtype(expected.dtype, np.floating))
    assert np.array_equal(a[exact & ~nan], e[exact & ~nan]), f"{what}: exact elements differ"
    rest = ~nan & ~exact
    if rest.any():
        diff = np.abs(a[rest] - e[rest])
        bound = atol + rtol * np.abs(e[rest])
        worst = int(np.argmax(diff - bound))
        assert (diff <= bound).all(), (
            f"{what}: |diff| {diff[worst]:e} over {bound[worst]:e} (rtol {rtol}, atol {atol})")


def error_key(case: dict) -> str:
    return case["expect_error"].split(" (")[0]


@pytest.fixture
def stack() -> np.ndarray:
    """A small u8 (T, H, W, 1) stack with structure in every axis."""
    t, i, j = np.meshgrid(np.arange(12), np.arange(9), np.arange(11), indexing="ij")
    return ((7 * t + 3 * i + j * j) % 251).astype(np.uint8)[..., None]


def nan_safe_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


__all__ = ["CASES", "EXAMPLES", "FIXTURES", "ROOT", "assert_close", "builder_graph", "error_key", "json_graph",
           "math", "nan_safe_equal", "output_names"]
