#!/usr/bin/env python3
"""rumba vs Numba vs NumPy on every BLITZ workload, in one run, interleaved.

Run it through ``bash benches/compare/run.sh [FLAGS]`` (which builds the rumba side and sets up
the venv); NOTES.md beside this file documents what is measured and how. In short:

1. Deterministic input stacks (a seeded NumPy Generator: moving blobs over a drifting, noisy
   background; a few NaNs in f32, a few dead pixels in u8/u16) are saved as ``.npy`` files in a
   temporary directory and loaded by the rumba child (``benches/compare/rumba.rs``), which keeps
   them in RAM like this process does.
2. Every rumba graph is written as a graph file (``graphs/<row>.json`` in the work directory)
   and compiled in the child for 1 and 2 threads.
3. Before any timing, the outputs of rumba, Numba (both forms) and NumPy are compared for every
   (workload, dtype) under the fixtures' tolerances (and against tests/fixtures/reference.py
   where the stack is small enough); any mismatch or rumba error aborts with the list.
4. Then, round by round, every row runs in interleaved order: Numba fresh, rumba run, rumba
   through its Python package in this process (fresh outputs, the call a Python user makes),
   Numba out=, rumba run_into, NumPy (in a subset of rounds), rumba run_profiled, a STREAM copy
   and a STREAM read sample; one markdown table summarises the medians, and a tiny graph
   measures what the Python binding adds to a call.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / "target" / "compare-numba-cache"))

import numba  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(HERE))
import kernels as K  # noqa: E402

import rumba as R  # noqa: E402  (the Python package, installed into the venv by run.sh)

sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
import reference as ref  # noqa: E402

# ---------------------------------------------------------------------------------------------
# shapes and rows
# ---------------------------------------------------------------------------------------------

FULL = {"u8": (400, 512, 512, 1), "f32": (200, 512, 512, 1), "u16": (200, 512, 512, 1)}
SMALL = {"u8": (110, 24, 37, 1), "f32": (104, 24, 37, 1), "u16": (104, 24, 37, 1)}
"""--small: tiny stacks with T > 99 so that every window (3, 10, 99) has output frames, and an
odd W so that vector loops have tails."""
SLIDER_CALLS = 30
NP_DTYPES = {"u8": np.uint8, "u16": np.uint16, "f32": np.float32, "f64": np.float64, "bool": np.bool_}
DEFAULT_AMOUNTS = {"range_norm": (1.0, 1.0), "sliding_norm": (1.0, 1.0), "file_norm": (0.5, 0.8),
                   "slider": (0.5, 0.8)}


@dataclass
class Workload:
    """One row family: ``family`` keys kernels.NUMBA/NUMBA_INTO/NUMPY; ``size`` is a window."""

    name: str
    family: str
    label: str
    size: int = 0
    extra: bool = False
    dtypes: tuple = ("u8", "f32", "u16")


BASE = [
    Workload("range_norm", "range_norm", "range subtract+divide"),
    Workload("file_norm", "file_norm", "file-reference subtract+divide"),
    Workload("sliding_norm", "sliding_norm", "sliding normalisation (w 10, lag 5)"),
    Workload("mean_t", "mean_t", "mean over T"),
    Workload("std_t", "std_t", "std over T"),
    Workload("min_t", "min_t", "min over T"),
    Workload("max_t", "max_t", "max over T"),
    Workload("median_t", "median_t", "median over T"),
    Workload("env_row_dataset", "env_row_dataset", "row band envelope, dataset"),
    Workload("env_row_frames", "env_row_frames", "row band envelope, per frame"),
    Workload("env_col_dataset", "env_col_dataset", "column band envelope, dataset"),
    Workload("env_col_frames", "env_col_frames", "column band envelope, per frame"),
    Workload("polygon_fill0", "polygon_fill0", "polygon apply, fill 0"),
    Workload("polygon_fillnan", "polygon_fillnan", "polygon apply, fill NaN"),
    Workload("roi_series", "roi_series", "ROI series"),
]
EXTRA = [
    Workload("window_mean_3", "window_mean", "sliding mean, w 3", 3, True),
    Workload("window_mean_99", "window_mean", "sliding mean, w 99", 99, True),
    Workload("window_std_3", "window_std", "sliding std, w 3", 3, True),
    Workload("window_std_99", "window_std", "sliding std, w 99", 99, True),
    Workload("window_min_3", "window_min", "sliding min, w 3", 3, True),
    Workload("window_min_99", "window_min", "sliding min, w 99", 99, True),
    Workload("window_max_3", "window_max", "sliding max, w 3", 3, True),
    Workload("window_max_99", "window_max", "sliding max, w 99", 99, True),
    Workload("window_median_10", "window_median", "sliding median, w 10", 10, True, ("u8", "u16")),
    Workload("slider", "slider", "the slider (file pipeline, 1 frame)", 0, True, ("u8",)),
]


@dataclass
class Row:
    """A (workload, dtype) pair: its data, graph, compiled rumba ids and collected samples."""

    w: Workload
    dtype: str
    key: str = ""
    graph_path: Path | None = None
    rumba_ids: dict = field(default_factory=dict)  # threads -> child id
    py: dict = field(default_factory=dict)         # threads -> rumba.Executable (this process)
    py_inputs: dict = field(default_factory=dict)  # input name -> array (this process)
    outputs: list = field(default_factory=list)    # [(name, dtype, shape)] from rumba
    ctxs: list = field(default_factory=list)       # one Ctx per call (the slider varies them)
    params: list = field(default_factory=list)     # rumba params, parallel to ctxs
    reps: int = 1
    np_reps: int = 1
    compile_s: float = 0.0
    samples: dict = field(default_factory=dict)    # (threads, mode) -> [[ns per call] per round]
    extra: dict = field(default_factory=dict)      # (threads, what) -> [values]


# ---------------------------------------------------------------------------------------------
# input data
# ---------------------------------------------------------------------------------------------

def make_stack(dtype: str, shape, seed: int) -> np.ndarray:
    """A camera-like stack: a drifting background with a gradient, three Gaussian blobs moving
    across the image, Gaussian noise; u8 in [0, 255], u16 scaled by 200, f32 unrounded with 24
    NaNs (some in the range-reference frames, the envelope bands and the ROI); u8/u16 have a
    3 × 3 block of dead (always 0) pixels, where the range reference is 0 and the divide's
    d == 0 rule applies."""
    T, H, W, C = shape
    rng = np.random.default_rng([seed, {"u8": 1, "u16": 2, "f32": 3}[dtype]])
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    background = 40.0 + 25.0 * xx / W + 12.0 * yy / H
    blobs = [(rng.uniform(0, W), rng.uniform(0, H), rng.uniform(-2, 2) * W / 512, rng.uniform(-2, 2) * H / 512,
              rng.uniform(60, 140), max(W, H) / rng.uniform(12, 30)) for _ in range(3)]
    out = np.empty(shape, NP_DTYPES[dtype])
    chunk = 16
    for t0 in range(0, T, chunk):
        t = np.arange(t0, min(T, t0 + chunk), dtype=np.float32)[:, None, None]
        frames = background[None] + (8.0 * np.sin(t / 37.0)).astype(np.float32)
        for (bx, by, vx, vy, amp, sig) in blobs:
            cx = (bx + vx * t) % W
            cy = (by + vy * t) % H
            frames = frames + amp * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sig * sig))
        frames = frames + rng.normal(0.0, 6.0, frames.shape).astype(np.float32)
        frames = np.repeat(frames[..., None], C, axis=3)
        if dtype == "u8":
            out[t0:t0 + len(t)] = np.clip(np.rint(frames), 0, 255)
        elif dtype == "u16":
            out[t0:t0 + len(t)] = np.clip(np.rint(frames * 200.0), 0, 65535)
        else:
            out[t0:t0 + len(t)] = frames
    if dtype in ("u8", "u16"):
        out[:, 2:5, 3:6, :] = 0
    else:
        geo = K.Geometry.of(shape)
        r0, c0 = geo.row_band[0], geo.col_band[0]
        inside = np.argwhere(geo.mask)
        fixed = [(3, H // 3, W // 3), (7, r0, W // 5), (min(12, T - 1), geo.row_pos, c0), (T // 2, H // 5, c0)]
        if len(inside):
            i, j = inside[len(inside) // 2]
            fixed += [(T // 3, i, j), (T - 1, i, j)]
        for (t, i, j) in fixed:
            out[t, i, j, 0] = np.nan
        for _ in range(24 - len(fixed)):
            out[rng.integers(T), rng.integers(H), rng.integers(W), 0] = np.nan
    return out


def make_bg(x: np.ndarray) -> np.ndarray:
    """The file reference (1, H, W, C) f32: the mean of the first 10 frames plus 0.5, with three
    pixels at −0.25, where d = f32(0.8)·(−0.25) + f32(0.2) is exactly 0."""
    bg = (np.nanmean(x[:10].astype(np.float64), axis=0, keepdims=True) + 0.5).astype(np.float32)
    bg[0, 1, 1:4, 0] = -0.25
    return bg


def slider_stack(base: np.ndarray, frames: int) -> np.ndarray:
    """A long u8 stack for the slider: ``base`` repeated, each repetition rolled along W."""
    reps = -(-frames // base.shape[0])
    parts = [np.roll(base, 7 * k, axis=2) for k in range(reps)]
    return np.ascontiguousarray(np.concatenate(parts, axis=0)[:frames])


def slider_calls(T: int, n: int):
    """Deterministic (sub_amount, div_amount, start) for n slider calls: new values every call."""
    calls = []
    for k in range(n):
        a_s = round(0.3 + 0.7 * ((k * 0.6180339887) % 1.0), 4)
        a_d = round(0.5 + 0.5 * ((k * 0.3819660113) % 1.0), 4)
        calls.append((a_s, a_d, (k * 977 + 11) % T))
    return calls


# ---------------------------------------------------------------------------------------------
# rumba graphs (written as graph files)
# ---------------------------------------------------------------------------------------------

def graph_for(w: Workload, dtype: str, geo: K.Geometry) -> dict:
    """The rumba graph file (docs/graph-format.md) of workload ``w`` on a ``dtype`` stack."""
    nodes = [{"id": "x", "label": "camera stack", "op": "input", "dtype": dtype, "shape": [None, None, None, None]}]
    f = w.family
    outputs: list = ["out"]
    if f in ("range_norm", "sliding_norm", "file_norm", "slider"):
        a_s, a_d = DEFAULT_AMOUNTS[f]
        nodes += [{"id": "sub_amount", "op": "param", "default": a_s},
                  {"id": "div_amount", "op": "param", "default": a_d}]
        if f == "range_norm":
            step = {"source": "range", "bounds": [0, K.RANGE_LAST], "kind": "mean"}
        elif f == "sliding_norm":
            step = {"source": "sliding", "window": K.SLIDING[0], "lag": K.SLIDING[1], "kind": "mean"}
        else:
            nodes.append({"id": "bg", "label": "file reference", "op": "input", "dtype": "f32",
                          "shape": [1, None, None, None]})
            step = {"source": "file", "file": "bg"}
        pipe = {"id": "out" if f != "slider" else "norm", "op": "pipeline", "x": "x",
                "subtract": dict(step, amount="sub_amount"), "divide": dict(step, amount="div_amount")}
        nodes.append(pipe)
        if f == "slider":
            nodes += [{"id": "start", "label": "slider position", "op": "param", "default": 0},
                      {"id": "out", "op": "slice", "x": "norm", "axis": 0, "start": "start", "len": 1}]
    elif f.endswith("_t"):
        nodes.append({"id": "out", "op": "reduce", "x": "x", "kind": f[:-2], "axes": [0]})
    elif f.startswith("env_"):
        orientation = "h" if "_row_" in f else "v"
        pos, halfwidth = (geo.row_pos, 5) if orientation == "h" else (geo.col_pos, 3)
        nodes.append({"id": "env", "op": "envelope", "x": "x", "orientation": orientation, "pos": pos,
                      "halfwidth": halfwidth, "over": "dataset" if f.endswith("dataset") else "frames"})
        outputs = ["env.min", "env.max"]
    elif f.startswith("polygon_"):
        nodes.append({"id": "out", "op": "apply_polygon", "x": "x", "vertices": geo.pentagon,
                      "fill": 0 if f == "polygon_fill0" else "nan"})
    elif f == "roi_series":
        nodes.append({"id": "roi", "op": "roi_series", "x": "x", "vertices": geo.pentagon})
        outputs = ["roi.mean", "roi.min", "roi.max"]
    elif f.startswith("window_"):
        nodes.append({"id": "out", "op": "window", "x": "x", "kind": f[len("window_"):], "axis": 0, "size": w.size})
    else:
        raise ValueError(f"no graph for {f}")
    return {"format": "rumba-graph", "version": 1, "description": f"benches/compare: {w.label}, {dtype}",
            "nodes": nodes, "outputs": outputs}


def rumba_params(w: Workload, a_s: float, a_d: float, start: int = 0) -> dict:
    """The run-time params of one call."""
    if w.family in ("range_norm", "sliding_norm", "file_norm"):
        return {"sub_amount": a_s, "div_amount": a_d}
    if w.family == "slider":
        return {"sub_amount": a_s, "div_amount": a_d, "start": float(start)}
    return {}


# ---------------------------------------------------------------------------------------------
# logical bytes (benches/common/workload.rs's rule: every input byte the result depends on read
# once, every output byte written once)
# ---------------------------------------------------------------------------------------------

def logical_bytes(w: Workload, dtype: str, shape, geo: K.Geometry) -> int:
    """Logical bytes of one call of ``w`` on a stack of ``dtype`` and ``shape``."""
    T, H, W, C = shape
    es = np.dtype(NP_DTYPES[dtype]).itemsize
    frame = H * W * C
    rows = (geo.row_band[1] - geo.row_band[0]) * W * C
    cols = (geo.col_band[1] - geo.col_band[0]) * H * C
    inside = geo.inside() * C
    f = w.family
    K_out = max(T - w.size + 1, 0)
    table = {
        "range_norm": T * frame * (es + 4),
        "file_norm": T * frame * (es + 4) + frame * 4,
        "sliding_norm": T * frame * es + max(T - K.SLIDING[0] - K.SLIDING[1], 0) * frame * 4,
        "slider": frame * (es + 4 + 4),
        "mean_t": T * frame * es + frame * 4,
        "std_t": T * frame * es + frame * 4,
        "median_t": T * frame * es + frame * 4,
        "min_t": T * frame * es + frame * es,
        "max_t": T * frame * es + frame * es,
        "env_row_dataset": T * rows * es + 2 * W * es,
        "env_row_frames": T * rows * es + 2 * T * es,
        "env_col_dataset": T * cols * es + 2 * H * es,
        "env_col_frames": T * cols * es + 2 * T * es,
        "polygon_fill0": T * inside * es + T * frame * es,
        "polygon_fillnan": T * inside * es + T * frame * 4,
        "roi_series": T * inside * es + T * (4 + 2 * es),
        "window_mean": T * frame * es + K_out * frame * 4,
        "window_std": T * frame * es + K_out * frame * 4,
        "window_median": T * frame * es + K_out * frame * 4,
        "window_min": T * frame * es + K_out * frame * es,
        "window_max": T * frame * es + K_out * frame * es,
    }
    return table[f]


# ---------------------------------------------------------------------------------------------
# the rumba child
# ---------------------------------------------------------------------------------------------

class RumbaError(RuntimeError):
    """rumba (or the child) reported an error for a request."""


class Rumba:
    """The long-lived rumba child process: one JSON request line in, one JSON reply line out."""

    def __init__(self, binary: Path):
        if not binary.exists():
            sys.exit(f"rumba child {binary} not found: build it with "
                     "`cargo build --release --example compare_rumba` (run.sh does)")
        self.proc = subprocess.Popen([str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1)
        self.hello = self.call(cmd="hello")

    def call(self, **request) -> dict:
        """Sends one request and returns the reply; raises RumbaError on ``ok: false``."""
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RumbaError(f"the rumba child exited (code {self.proc.wait()}) during {request.get('cmd')}")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise RumbaError(reply.get("error", "unknown error"))
        return reply

    def close(self):
        """Asks the child to quit and waits for it."""
        try:
            self.call(cmd="quit")
        except (RumbaError, BrokenPipeError, OSError):
            pass
        self.proc.wait(timeout=30)


# ---------------------------------------------------------------------------------------------
# agreement check
# ---------------------------------------------------------------------------------------------

def pipeline_scale(x, r, d, a_s) -> float:
    """README tolerance scale of a pipeline: max(1, max over elements with d != 0 of
    (|x| + |a_s·R|) / |d|); R and d broadcast against x (frames of a sliding reference)."""
    best = 1.0
    step = 16
    for t0 in range(0, x.shape[0], step):
        xs = np.abs(x[t0:t0 + step].astype(np.float64))
        rr = r if r.shape[0] == 1 else r[t0:t0 + step]
        dd = d if d.shape[0] == 1 else d[t0:t0 + step]
        num = xs + np.abs(a_s * rr.astype(np.float64))
        den = np.abs(dd.astype(np.float64))
        with np.errstate(all="ignore"):
            q = np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)
        if np.isfinite(q).any():
            best = max(best, float(np.nanmax(np.where(np.isfinite(q), q, np.nan))))
    return best


def tolerances(w: Workload, x: np.ndarray, ctx: K.Ctx):
    """(rtol, atol) per output of ``w`` on ``x``, as tests/fixtures/README.md sets them: exact for
    min/max, envelopes, polygon copies, integer outputs and medians of integers; f32 statistics
    rtol 1e-6 with atol 1e-6 × scale (max(1, max|x|) for mean-like, 1 for std, the pipeline rule
    for pipelines)."""
    f = w.family
    magnitude = max(1.0, float(np.nanmax(np.abs(x.astype(np.float64)))) if x.size else 1.0)
    if f in ("range_norm", "file_norm", "sliding_norm", "slider"):
        a_s32, a_d32, c1 = ctx.f32()
        if f == "range_norm":
            r = x[:min(K.RANGE_LAST, x.shape[0] - 1) + 1].mean(axis=0, dtype=np.float64, keepdims=True).astype(K.F32)
            frames = x
        elif f == "sliding_norm":
            r = K.np_sliding_mean(x, *K.SLIDING)
            frames = x[K.SLIDING[1] + 1:K.SLIDING[1] + 1 + r.shape[0]]
        else:
            r = ctx.bg
            frames = x if f == "file_norm" else x[ctx.start:ctx.start + 1]
        d = a_d32 * r + c1
        return [(1e-6, 1e-6 * pipeline_scale(frames, r, d, float(a_s32)))]
    exact = (0.0, 0.0)
    mean_like = (1e-6, 1e-6 * magnitude)
    if f in ("mean_t", "window_mean"):
        return [mean_like]
    if f in ("std_t", "window_std"):
        return [(1e-6, 1e-6)]
    if f in ("median_t", "window_median"):
        return [exact if x.dtype.kind in "ui" else mean_like]
    if f == "roi_series":
        return [mean_like, exact, exact]
    if f.startswith("env_"):
        return [exact, exact]
    return [exact]


def oracle(w: Workload, x: np.ndarray, ctx: K.Ctx):
    """The outputs of tests/fixtures/reference.py (the semantics' executable form)."""
    f, geo = w.family, ctx.geo
    if f in ("range_norm", "sliding_norm"):
        step = ({"source": "range", "bounds": [0, K.RANGE_LAST], "kind": "mean"} if f == "range_norm" else
                {"source": "sliding", "window": K.SLIDING[0], "lag": K.SLIDING[1], "kind": "mean"})
        return (ref.pipeline(x, dict(step, amount=ctx.a_s), dict(step, amount=ctx.a_d)),)
    if f in ("file_norm", "slider"):
        out = ref.pipeline(x, {"source": "file", "file": "bg", "amount": ctx.a_s},
                           {"source": "file", "file": "bg", "amount": ctx.a_d}, {"bg": ctx.bg})
        return (out if f == "file_norm" else out[ctx.start:ctx.start + 1],)
    if f.endswith("_t"):
        return (ref.reduce(x, f[:-2], [0]),)
    if f.startswith("env_"):
        orientation = "h" if "_row_" in f else "v"
        pos, hw = (geo.row_pos, 5) if orientation == "h" else (geo.col_pos, 3)
        fn = ref.envelope_dataset if f.endswith("dataset") else ref.envelope_frames
        e = fn(x, orientation, pos, hw)
        return e["min"], e["max"]
    if f.startswith("polygon_"):
        return (ref.apply_polygon(x, geo.pentagon, 0 if f == "polygon_fill0" else "nan"),)
    if f == "roi_series":
        e = ref.roi_series(x, geo.pentagon)
        return e["mean"], e["min"], e["max"]
    if f.startswith("window_"):
        return (ref.window_reduce(x, w.size, f[len("window_"):]),)
    raise ValueError(f)


def differences(actual, expected, rtol: float, atol: float) -> str | None:
    """None if ``actual`` matches ``expected`` by the fixtures' rules (same dtype and shape; NaN
    at the same places; finite values within atol + rtol·|e|; sign of zero ignored), else a
    description of the first differences."""
    a, e = np.asarray(actual), np.asarray(expected)
    if a.dtype != e.dtype or a.shape != e.shape:
        return f"dtype/shape {a.dtype}{list(a.shape)} != expected {e.dtype}{list(e.shape)}"
    if a.size == 0:
        return None
    if a.dtype.kind != "f":
        bad = a != e
    else:
        an, en = np.isnan(a), np.isnan(e)
        a64, e64 = a.astype(np.float64), e.astype(np.float64)
        with np.errstate(all="ignore"):
            far = np.abs(a64 - e64) > atol + rtol * np.abs(e64)
            far &= ~(np.isinf(e64) & (a64 == e64))
        bad = (an != en) | (far & ~an & ~en)
    n = int(np.count_nonzero(bad))
    if n == 0:
        return None
    idx = [tuple(int(v) for v in i) for i in np.argwhere(bad)[:3]]
    pairs = ", ".join(f"{i}: {a[i]!r} vs {e[i]!r}" for i in idx)
    return f"{n} of {a.size} elements differ (rtol {rtol:g}, atol {atol:g}); first {pairs}"


# ---------------------------------------------------------------------------------------------
# timing helpers
# ---------------------------------------------------------------------------------------------

def minflt() -> int:
    """Minor page faults of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_fresh(fn, x, ctxs, n):
    """n calls of a fresh-output form: (wall ns per call, minor faults per call)."""
    walls, faults = [], []
    for k in range(n):
        c = ctxs[k % len(ctxs)]
        f0 = minflt()
        t0 = time.perf_counter_ns()
        out = fn(x, c)
        t1 = time.perf_counter_ns()
        faults.append(minflt() - f0)
        walls.append(t1 - t0)
        del out
    return walls, faults


def time_py(exe, inputs, params, n):
    """n calls of the package's executable (fresh outputs), params cycling: wall ns per call."""
    walls = []
    for k in range(n):
        p = params[k % len(params)]
        t0 = time.perf_counter_ns()
        out = exe(**inputs, **p)
        walls.append(time.perf_counter_ns() - t0)
        del out
    return walls


def binding_overhead(child: Rumba, work: Path, calls: int = 2000, rounds: int = 5):
    """What the Python binding adds to one call: a tiny graph (x·k on a (1, 1, 1, 1) f32 array)
    timed through the package in this process and in the child (the Rust call alone).
    Returns (py ns, rust ns, per-round differences ns), medians per round."""
    graph = {"format": "rumba-graph", "version": 1, "nodes": [
        {"id": "x", "op": "input", "dtype": "f32", "shape": [1, 1, 1, 1]},
        {"id": "k", "op": "param", "default": 1.0},
        {"id": "out", "op": "mul", "a": "x", "b": "k"}], "outputs": ["out"]}
    path = work / "graphs" / "binding_overhead.json"
    path.write_text(json.dumps(graph))
    x = np.ones((1, 1, 1, 1), np.float32)
    np.save(work / "x_tiny.npy", x)
    child.call(cmd="load", name="x_tiny", path=str(work / "x_tiny.npy"))
    child.call(cmd="compile", id="tiny", graph=str(path), inputs={"x": "x_tiny"}, threads=1)
    exe = R.load(path).compile(x=x, threads=1)
    params = [{"k": 1.0 + i / 7} for i in range(7)]
    py, rust = [], []
    for _ in range(rounds):
        py.append(median(time_py(exe, {"x": x}, params, calls)))
        rust.append(median(child.call(cmd="time", id="tiny", mode="run", n=calls, params=params)["wall_ns"]))
    return median(py), median(rust), [p - r for p, r in zip(py, rust)]


def time_into(fn, x, ctxs, n, specs):
    """n calls of an out= form into arrays allocated here and written by one untimed warm-up."""
    outs = tuple(np.empty(shape, NP_DTYPES[dt]) for (_, dt, shape) in specs)
    fn(x, ctxs[0], outs)
    walls = []
    for k in range(n):
        t0 = time.perf_counter_ns()
        fn(x, ctxs[k % len(ctxs)], outs)
        walls.append(time.perf_counter_ns() - t0)
    del outs
    return walls


SETTLE_S = 0.15


def settle():
    """A pause between two implementations' samples, so that idle worker threads of the one
    measured last do not take the cores the next one measures on. Numba's `omp` layer is GNU
    libgomp, whose idle threads spin GOMP_SPINCOUNT = 300,000 `pause` iterations after each
    parallel region (its default with as many threads as CPUs) — about 17 ms on a Xeon, where
    `pause` takes ~140 cycles — and with the former 20 ms pause rumba's two-thread samples of
    0.05 ms kernels ran at one-thread speed in half the rounds. rumba's helpers spin 0.3 ms."""
    time.sleep(SETTLE_S)


def median(v):
    """Median of a non-empty sequence (nan for an empty one)."""
    return statistics.median(v) if len(v) else float("nan")


# ---------------------------------------------------------------------------------------------
# machine facts
# ---------------------------------------------------------------------------------------------

def machine_facts(child: Rumba) -> list[str]:
    """CPU model, cores, THP mode, memory, versions."""
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        thp = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text().strip()
        thp_defrag = Path("/sys/kernel/mm/transparent_hugepage/defrag").read_text().strip()
    except OSError:
        thp, thp_defrag = "?", "?"
    try:
        mem = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines()
                   if l.startswith("MemTotal")) / 2**20
    except (OSError, StopIteration):
        mem = float("nan")
    flags = ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        have = set(next(l for l in text.splitlines() if l.startswith("flags")).split(":")[1].split())
        flags = " ".join(f for f in ("avx2", "avx512f", "avx512bw", "avx512vl") if f in have)
    except (OSError, StopIteration):
        pass
    import llvmlite
    return [
        f"- CPU: {model}; {os.cpu_count()} logical cores, {len(os.sched_getaffinity(0))} usable; "
        f"vector ISA: {flags or '?'}",
        f"- memory: {mem:.1f} GiB; THP enabled: `{thp}`, defrag: `{thp_defrag}`",
        f"- kernel {platform.release()}; Python {platform.python_version()}, NumPy {np.__version__}, "
        f"Numba {numba.__version__} (llvmlite {llvmlite.__version__}, threading layer "
        f"{numba.threading_layer()}, NUMBA_NUM_THREADS {numba.config.NUMBA_NUM_THREADS}); "
        f"rumba child pid {child.hello['pid']}",
    ]


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="tiny stacks (CI): (110|104, 24, 37, 1)")
    p.add_argument("--shape", help="TxHxWxC for every dtype (overrides --small and the full shapes)")
    p.add_argument("--dtypes", default="u8,f32,u16", help="comma list of u8, f32, u16 (default all)")
    p.add_argument("--threads", default="1,2", help="comma list of thread counts (default 1,2)")
    p.add_argument("--rounds", type=int, default=7, help="timing rounds (default 7)")
    p.add_argument("--numpy-every", type=int, default=3,
                   help="NumPy runs in rounds r with r %% N == 0, at the first thread count (default 3)")
    p.add_argument("--extra", action=argparse.BooleanOptionalAction, default=True,
                   help="the extra rows: windows, sliding median, the slider (default on)")
    p.add_argument("--slider-frames", type=int, help="frames of the slider stack (default 4096; 64 with --small)")
    p.add_argument("--check-only", action="store_true", help="agreement check only; exit 1 on any mismatch")
    p.add_argument("--only", help="only rows whose '<workload>/<dtype>' matches this regex")
    p.add_argument("--sample-seconds", type=float, default=0.1,
                   help="target duration of one timing sample (calls per sample = this / call time, 1..25)")
    p.add_argument("--stream-mib", type=int, default=256, help="size of each STREAM array (default 256 MiB)")
    p.add_argument("--oracle-limit", type=int, default=1 << 24,
                   help="also compare with reference.py when elements × window <= this (default 16 Mi)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", help="keep the work directory (inputs, graphs, rumba outputs) here")
    p.add_argument("--rumba-bin", default=os.environ.get("RUMBA_COMPARE_BIN"),
                   help="the compare_rumba binary (default $RUMBA_COMPARE_BIN, else target/release/examples)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    for d in dtypes:
        if d not in FULL:
            sys.exit(f"--dtypes: unknown dtype {d!r} (u8, f32, u16)")
    threads = [int(t) for t in args.threads.split(",")]
    if max(threads) > numba.config.NUMBA_NUM_THREADS or min(threads) < 1:
        sys.exit(f"--threads: each count must be in 1..{numba.config.NUMBA_NUM_THREADS} (NUMBA_NUM_THREADS)")
    if args.shape:
        shape = tuple(int(v) for v in args.shape.lower().split("x"))
        shapes = {d: shape for d in FULL}
    else:
        shapes = SMALL if args.small else FULL
    slider_frames = args.slider_frames or (64 if args.small else K.SLIDER_FRAMES)
    only = re.compile(args.only) if args.only else None

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="rumba-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "graphs").mkdir(exist_ok=True)
    binary = Path(args.rumba_bin) if args.rumba_bin else ROOT / "target" / "release" / "examples" / "compare_rumba"
    child = Rumba(binary)
    try:
        return run(args, dtypes, threads, shapes, slider_frames, only, work, child)
    finally:
        child.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(args, dtypes, threads, shapes, slider_frames, only, work: Path, child: Rumba) -> int:
    """Prepares data and rows, checks agreement, then times (unless --check-only)."""
    say = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    workloads = BASE + (EXTRA if args.extra else [])
    stacks, geos, bgs = {}, {}, {}
    rows: list[Row] = []
    for dtype in dtypes:
        wanted = [w for w in workloads if dtype in w.dtypes
                  and (only is None or only.search(f"{w.name}/{dtype}"))]
        if not wanted:
            continue
        shape = shapes[dtype]
        t0 = time.time()
        x = make_stack(dtype, shape, args.seed)
        stacks[dtype] = x
        geos[dtype] = K.Geometry.of(shape)
        bgs[dtype] = make_bg(x)
        np.save(work / f"x_{dtype}.npy", x)
        np.save(work / f"bg_{dtype}.npy", bgs[dtype])
        child.call(cmd="load", name=f"x_{dtype}", path=str(work / f"x_{dtype}.npy"))
        child.call(cmd="load", name=f"bg_{dtype}", path=str(work / f"bg_{dtype}.npy"))
        say(f"input {dtype} {shape}: generated and loaded in {time.time() - t0:.1f} s")
        if any(w.family == "slider" for w in wanted):
            xs = slider_stack(x if dtype == "u8" else make_stack("u8", shape, args.seed),
                              slider_frames)
            stacks["slider"] = xs
            np.save(work / "x_slider.npy", xs)
            child.call(cmd="load", name="x_slider", path=str(work / "x_slider.npy"))
            say(f"slider stack {xs.shape} loaded")
        rows += [Row(w, dtype, key=f"{w.name}_{dtype}") for w in wanted]
    if not rows:
        sys.exit("no row selected (check --only and --dtypes)")

    # Graph files, rumba compiles, Numba/NumPy contexts.
    failures = []
    for row in rows:
        w, dtype = row.w, row.dtype
        x = stacks["slider"] if w.family == "slider" else stacks[dtype]
        geo = geos[dtype] if w.family != "slider" else K.Geometry.of(x.shape)
        row.graph_path = work / "graphs" / f"{row.key}.json"
        row.graph_path.write_text(json.dumps(graph_for(w, dtype, geo), indent=1) + "\n")
        if w.family == "slider":
            calls = slider_calls(x.shape[0], SLIDER_CALLS)
        else:
            a_s, a_d = DEFAULT_AMOUNTS.get(w.family, (1.0, 1.0))
            calls = [(a_s, a_d, 0)]
        row.ctxs = [K.Ctx(geo, a_s=a, a_d=b, start=s, bg=bgs[dtype], size=w.size) for (a, b, s) in calls]
        row.params = [rumba_params(w, a, b, s) for (a, b, s) in calls]
        inputs = {"x": "x_slider" if w.family == "slider" else f"x_{dtype}"}
        if w.family in ("file_norm", "slider"):
            inputs["bg"] = f"bg_{dtype}"
        row.py_inputs = {"x": x}
        if "bg" in inputs:
            row.py_inputs["bg"] = bgs[dtype]
        for n in threads:
            rid = f"{row.key}@{n}"
            try:
                reply = child.call(cmd="compile", id=rid, graph=str(row.graph_path), inputs=inputs, threads=n)
            except RumbaError as e:
                failures.append(f"{row.key}: rumba compile ({n} threads) failed: {e}")
                break
            row.rumba_ids[n] = rid
            try:
                row.py[n] = R.load(row.graph_path).compile(threads=n, **row.py_inputs)
            except (R.GraphError, R.BindError, R.RunError) as e:
                failures.append(f"{row.key}: rumba (Python) compile ({n} threads) failed: {e}")
                break
            row.compile_s += reply["seconds"]
            row.outputs = [(o["name"], o["dtype"], tuple(o["shape"])) for o in reply["outputs"]]
            fallbacks = [k for k in reply["kernels"] if k["fallback"]]
            if fallbacks:
                say(f"note: {row.key}: kernels on the plan evaluator: {fallbacks}")

    say(f"checking {len(rows)} rows (rumba, Numba fresh and out=, NumPy"
        f"{', reference.py where small' if args.oracle_limit else ''}) ...")
    numba_first = {}
    numba.set_num_threads(threads[0])
    for row in rows:
        if row.key in {f.split(":")[0] for f in failures}:
            continue
        failures += check_row(args, row, stacks, work, child, threads[0], numba_first)
    say(f"Numba first calls (compile, or load from the cache in {os.environ['NUMBA_CACHE_DIR']}): "
        f"{sum(numba_first.values()):.1f} s in total")
    if failures:
        print("\nAGREEMENT CHECK FAILED:", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        return 1
    say(f"agreement check passed: {len(rows)} rows")
    py, rust, diffs = binding_overhead(child, work)
    say(f"Python binding: a tiny graph's call takes {py / 1e3:.1f} µs through the package, "
        f"{rust / 1e3:.1f} µs in Rust: the binding adds {median(diffs) / 1e3:.1f} µs "
        f"({min(diffs) / 1e3:.1f}–{max(diffs) / 1e3:.1f}) per call")
    args.binding = (py, rust, diffs)
    if args.check_only:
        print(f"check passed: {len(rows)} (workload, dtype) rows agree "
              f"(rumba, Numba fresh, Numba out=, NumPy{', reference.py' if args.oracle_limit else ''})")
        return 0
    return benchmark(args, rows, stacks, threads, shapes, geos, child, numba_first, say)


def check_row(args, row: Row, stacks, work: Path, child: Rumba, n_threads: int, numba_first: dict) -> list[str]:
    """Compares rumba, Numba (both forms), NumPy and (if small enough) reference.py on ``row``
    for each of its check calls; returns failure messages. Also sets the calls per sample."""
    w = row.w
    x = stacks["slider"] if w.family == "slider" else stacks[row.dtype]
    out: list[str] = []
    ctxs = row.ctxs[:3]
    for k, ctx in enumerate(ctxs):
        label = f"{row.key}" + (f" (call {k}: amounts {ctx.a_s}, {ctx.a_d}, start {ctx.start})" if len(ctxs) > 1 else "")
        try:
            files = child.call(cmd="write", id=row.rumba_ids[n_threads], dir=str(work / "check" / row.key / str(k)),
                               params=row.params[k])["files"]
        except RumbaError as e:
            return out + [f"{label}: rumba run failed: {e}"]
        got = {"rumba": tuple(np.load(f["path"]) for f in files)}
        py_out = row.py[n_threads](**row.py_inputs, **row.params[k])
        got["rumba py"] = tuple(py_out[name] for (name, _, _) in row.outputs)
        t0 = time.perf_counter()
        got["numba"] = tuple(K.NUMBA[w.family](x, ctx))
        numba_first.setdefault((w.family, row.dtype, "fresh"), time.perf_counter() - t0)
        outs = tuple(np.empty(shape, NP_DTYPES[dt]) for (_, dt, shape) in row.outputs)
        t0 = time.perf_counter()
        K.NUMBA_INTO[w.family](x, ctx, outs)
        numba_first.setdefault((w.family, row.dtype, "into"), time.perf_counter() - t0)
        got["numba out="] = outs
        got["numpy"] = tuple(K.NUMPY[w.family](x, ctx))
        tols = tolerances(w, x, ctx)
        expected_name, expected = "numpy", got["numpy"]
        if x.size * max(1, w.size) <= args.oracle_limit:
            expected_name, expected = "reference.py", oracle(w, x, ctx)
        names = [o[0] for o in row.outputs]
        for impl in ("rumba", "numba", "numba out=", "numpy"):
            if impl == expected_name:
                continue
            if len(got[impl]) != len(expected):
                out.append(f"{label}: {impl} gives {len(got[impl])} outputs, expected {len(expected)}")
                continue
            for name, a, e, (rtol, atol) in zip(names, got[impl], expected, tols):
                diff = differences(a, e, rtol, atol)
                if diff:
                    out.append(f"{label}: {impl} vs {expected_name}, output {name}: {diff}")
        for name, a, e, (rtol, atol) in zip(names, got["rumba"], got["numba"], tols):
            diff = differences(a, e, rtol, atol)
            if diff:
                out.append(f"{label}: rumba vs numba, output {name}: {diff}")
        # The package runs the same plan on the same data: the same bits.
        for name, a, e in zip(names, got["rumba py"], got["rumba"]):
            if a.dtype != e.dtype or a.shape != e.shape or not np.array_equal(a, e, equal_nan=a.dtype.kind == "f"):
                out.append(f"{label}: rumba (Python) differs from rumba (the child), output {name}")
    # Calls per timing sample, from one warm call of each side.
    t0 = time.perf_counter()
    K.NUMBA[w.family](x, row.ctxs[0])
    t_numba = time.perf_counter() - t0
    t_rumba = child.call(cmd="time", id=row.rumba_ids[n_threads], mode="run", n=1, params=row.params[:1])["wall_ns"][0] / 1e9
    t0 = time.perf_counter()
    K.NUMPY[w.family](x, row.ctxs[0])
    t_numpy = time.perf_counter() - t0
    if w.family == "slider":
        row.reps = row.np_reps = SLIDER_CALLS
    else:
        row.reps = int(min(25, max(1, round(args.sample_seconds / max(t_numba, t_rumba, 1e-6)))))
        row.np_reps = int(min(25, max(1, round(args.sample_seconds / max(t_numpy, 1e-6)))))
    return out


def benchmark(args, rows, stacks, threads, shapes, geos, child, numba_first, say) -> int:
    """The interleaved timing rounds and the table."""
    n_stream = args.stream_mib * (1 << 20) // 4
    sa, sb = K.stream_arrays(n_stream)
    sbits = sa.view(np.uint32)
    for n in threads:  # compile and warm the STREAM kernels at each thread count
        numba.set_num_threads(n)
        K.stream_copy(sa, sb)
        K.stream_read(sbits)
    stream = {(n, k): [] for n in threads for k in ("copy", "read")}
    say(f"timing: {args.rounds} rounds × {len(rows)} rows × threads {threads} "
        f"(NumPy in rounds r % {args.numpy_every} == 0 at {threads[0]} thread)")
    started = time.time()
    for r in range(args.rounds):
        for row in rows:
            x = stacks["slider"] if row.w.family == "slider" else stacks[row.dtype]
            fresh, into, npf = K.NUMBA[row.w.family], K.NUMBA_INTO[row.w.family], K.NUMPY[row.w.family]
            for n in threads:
                numba.set_num_threads(n)
                rid = row.rumba_ids[n]
                add = lambda mode, v: row.samples.setdefault((n, mode), []).append(v)  # noqa: E731
                settle()
                walls, faults = time_fresh(fresh, x, row.ctxs, row.reps)
                add("numba", walls)
                row.extra.setdefault((n, "numba_faults"), []).extend(faults)
                settle()
                rep = child.call(cmd="time", id=rid, mode="run", n=row.reps, params=row.params)
                add("rumba", rep["wall_ns"])
                row.extra.setdefault((n, "rumba_faults"), []).extend(rep["minflt"])
                settle()
                add("rumba_py", time_py(row.py[n], row.py_inputs, row.params, row.reps))
                settle()
                add("numba_into", time_into(into, x, row.ctxs, row.reps, row.outputs))
                settle()
                rep = child.call(cmd="time", id=rid, mode="run_into", n=row.reps, params=row.params)
                add("rumba_into", rep["wall_ns"])
                if n == threads[0] and r % args.numpy_every == 0:
                    add("numpy", time_fresh(npf, x, row.ctxs, row.np_reps)[0])
                settle()
                rep = child.call(cmd="time", id=rid, mode="profiled", n=row.reps, params=row.params)
                row.extra.setdefault((n, "fixed"), []).extend(w - k for w, k in zip(rep["wall_ns"], rep["kernel_ns"]))
                row.extra.setdefault((n, "kernel"), []).extend(rep["kernel_ns"])
                row.extra.setdefault((n, "allocate"), []).extend(rep.get("allocate_ns", []))
                t0 = time.perf_counter_ns()
                K.stream_copy(sa, sb)
                t1 = time.perf_counter_ns()
                K.stream_read(sbits)
                t2 = time.perf_counter_ns()
                stream[(n, "copy")].append(8 * n_stream / (t1 - t0))
                stream[(n, "read")].append(4 * n_stream / (t2 - t1))
        say(f"round {r + 1}/{args.rounds} done ({time.time() - started:.0f} s)")
    print_report(args, rows, threads, shapes, geos, stacks, stream, child, numba_first)
    return 0


def fmt_ms(ns: float) -> str:
    """Milliseconds with 3 significant digits."""
    if not math.isfinite(ns):
        return "–"
    ms = ns / 1e6
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def ratio_text(a_rounds, b_rounds) -> str:
    """Median of the per-round ratios a/b (each round's median call), with min–max."""
    ratios = [median(a) / median(b) for a, b in zip(a_rounds, b_rounds) if len(a) and len(b)]
    if not ratios:
        return "–"
    return f"{median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"


def print_report(args, rows, threads, shapes, geos, stacks, stream, child, numba_first):
    """Machine facts, STREAM medians, the table, and compile-time notes."""
    print("## rumba vs Numba vs NumPy (benches/compare)\n")
    for line in machine_facts(child):
        print(line)
    med_stream = {k: median(v) for k, v in stream.items()}
    print("- STREAM (Numba, median of the samples taken between rows; GB/s = 1e9 B/s): "
          + "; ".join(f"{n} thr: copy {med_stream[(n, 'copy')]:.1f}, read {med_stream[(n, 'read')]:.1f}"
                      for n in threads))
    print(f"- {args.rounds} rounds; times are the median over rounds of each round's median call; "
          f"ratios are the median (min–max) of the per-round ratios; NumPy ran in {len(range(0, args.rounds, args.numpy_every))} "
          f"rounds at {threads[0]} thread (single-threaded, shown on every thread row)")
    print("- shapes: " + ", ".join(f"{d} {tuple(s)}" for d, s in shapes.items() if d in {r.dtype for r in rows})
          + (f"; slider {tuple(stacks['slider'].shape)}, {SLIDER_CALLS} calls per sample with new amounts "
             "and start each call" if "slider" in stacks else ""))
    print()
    head = ["workload", "dtype", "thr", "numba ms", "rumba ms", "rumba/numba", "rumba py ms", "py/numba",
            "numba out= ms", "rumba run_into ms",
            "ratio", "numpy ms", "rumba GB/s", "% copy / read", "faults/run rumba (numba)", "call − kernel ms"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        x = stacks["slider"] if row.w.family == "slider" else stacks[row.dtype]
        geo = geos[row.dtype] if row.w.family != "slider" else K.Geometry.of(x.shape)
        lb = logical_bytes(row.w, row.dtype, x.shape, geo)
        for n in threads:
            s = lambda mode: row.samples.get((n, mode), [])  # noqa: E731
            med = lambda mode: median([median(v) for v in s(mode)]) if s(mode) else float("nan")  # noqa: E731
            numpy_rounds = row.samples.get((threads[0], "numpy"), [])
            numpy_ms = median([median(v) for v in numpy_rounds]) if numpy_rounds else float("nan")
            into = med("rumba_into")
            gbs = lb / into if into > 0 else float("nan")
            pc = 100 * gbs / med_stream[(n, "copy")]
            pr = 100 * gbs / med_stream[(n, "read")]
            rf = median(row.extra.get((n, "rumba_faults"), []))
            nf = median(row.extra.get((n, "numba_faults"), []))
            fixed = median(row.extra.get((n, "fixed"), []))
            print("| " + " | ".join([
                row.w.label, row.dtype, str(n), fmt_ms(med("numba")), fmt_ms(med("rumba")),
                ratio_text(s("rumba"), s("numba")), fmt_ms(med("rumba_py")), ratio_text(s("rumba_py"), s("numba")),
                fmt_ms(med("numba_into")), fmt_ms(into),
                ratio_text(s("rumba_into"), s("numba_into")), fmt_ms(numpy_ms), f"{gbs:.2f}",
                f"{pc:.0f} / {pr:.0f}", f"{rf:.0f} ({nf:.0f})", fmt_ms(fixed)]) + " |")
    print()
    py, rust, diffs = args.binding
    print(f"- rumba py: the same executables through the Python package in this process (fresh outputs, "
          f"`exe(x=..., **params)`); the binding adds {median(diffs) / 1e3:.1f} µs "
          f"({min(diffs) / 1e3:.1f}–{max(diffs) / 1e3:.1f}) per call (a tiny graph: {py / 1e3:.1f} µs "
          f"through the package, {rust / 1e3:.1f} µs in Rust)")
    print(f"- rumba compile (all rows, {len(threads)} thread counts): {sum(r.compile_s for r in rows):.2f} s; "
          f"Numba first calls (compile or cache load): {sum(numba_first.values()):.1f} s")
    for row in [r for r in rows if r.w.family == "slider"]:
        for n in threads:
            ms = lambda what: fmt_ms(median(row.extra.get((n, what), [])))  # noqa: E731
            per_call = lambda mode, t=n: fmt_ms(median([median(v) for v in row.samples.get((t, mode), [])]))  # noqa: E731
            print(f"- the slider, {n} thr ({SLIDER_CALLS} calls per sample, new amounts and start each call): "
                  f"rumba run {per_call('rumba')} ms per call; in run_profiled calls: kernel {ms('kernel')} ms, "
                  f"fixed cost (call − kernel) {ms('fixed')} ms, of which allocating {ms('allocate')} ms; "
                  f"Numba (fresh output) {per_call('numba')} ms per call, NumPy {per_call('numpy', threads[0])} ms")

if __name__ == "__main__":
    sys.exit(main())
