"""The package's API: graphs, executables, arrays of every layout, errors, recompiles,
threads and the GIL, pickling."""

import pickle
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import rumba
from conftest import EXAMPLES, nan_safe_equal

MEAN = """{"format": "rumba-graph", "version": 1,
  "nodes": [{"id": "x", "op": "input", "dtype": "%s", "shape": [null, null, null, null]},
            {"id": "k", "op": "param", "default": 1.0},
            {"id": "m", "label": "mean frame", "op": "reduce", "x": "x", "kind": "mean", "axes": [0]},
            {"id": "out", "op": "mul", "a": "m", "b": "k"}],
  "outputs": ["out", "m"]}"""


def mean_graph(dtype: str) -> rumba.Graph:
    return rumba.loads(MEAN % dtype, "mean.json")


def reference_mean(x: np.ndarray, k: float = 1.0) -> np.ndarray:
    ct = np.float64 if x.dtype in (np.float64, np.int32) else np.float32
    m = x.astype(np.float64).mean(axis=0, keepdims=True).astype(ct)
    return m, (m * ct(k)).astype(ct)


@pytest.mark.parametrize("dtype,np_dtype", [("u8", np.uint8), ("u16", np.uint16), ("i32", np.int32),
                                            ("f32", np.float32), ("f64", np.float64)])
def test_every_dtype_runs_and_matches_numpy(dtype, np_dtype):
    x = (np.arange(5 * 3 * 4 * 2) % 97).astype(np_dtype).reshape(5, 3, 4, 2)
    out = mean_graph(dtype)(x=x, k=2.0)
    m, scaled = reference_mean(x, 2.0)
    np.testing.assert_allclose(out["m"], m, rtol=1e-6)
    np.testing.assert_allclose(out["out"], scaled, rtol=1e-6)
    assert out["m"].dtype == m.dtype


def test_bool_inputs_run():
    g = rumba.loads("""{"format": "rumba-graph", "version": 1,
      "nodes": [{"id": "x", "op": "input", "dtype": "bool", "shape": [null, null]},
                {"id": "out", "op": "select", "cond": "x", "a": 1, "b": 2}], "outputs": ["out"]}""")
    x = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(g(x=x)["out"], np.where(x, 1.0, 2.0).astype(np.float64))


def layouts(base: np.ndarray) -> dict:
    """The same values in every layout a caller may hand in (each equal to `base`)."""
    f = np.asfortranarray(base)
    swapped = np.ascontiguousarray(np.swapaxes(base, 1, 2)).swapaxes(1, 2)
    reversed_ = np.ascontiguousarray(base[::-1, :, ::-1])[::-1, :, ::-1]
    ro = base.copy()
    ro.flags.writeable = False
    # A misaligned float32 view: the buffer starts one byte into a bytes array.
    raw = np.zeros(base.nbytes + 1, np.uint8)
    misaligned = raw[1:].view(base.dtype).reshape(base.shape)
    misaligned[...] = base
    swapped_bytes = base.astype(base.dtype.newbyteorder(">"))
    strided = np.zeros(base.shape[:-1] + (base.shape[-1] * 2,), base.dtype)[..., ::2]
    strided[...] = base
    return {"C": base, "Fortran": f, "swapaxes": swapped, "negative strides": reversed_, "read-only": ro,
            "misaligned": misaligned, "big-endian": swapped_bytes, "strided": strided}


def test_every_layout_gives_the_same_result():
    base = (np.random.default_rng(1).random((6, 5, 7, 2)) * 100).astype(np.float32)
    exe = mean_graph("f32").compile(x=base)
    expected = exe(x=base)
    forms = layouts(base)
    assert not forms["misaligned"].flags.aligned and forms["swapaxes"].strides != base.strides
    assert forms["negative strides"].strides[0] < 0
    for name, x in forms.items():
        np.testing.assert_array_equal(x, base)
        out = exe(x=x)
        for k in expected:
            assert nan_safe_equal(out[k], expected[k]), name


def test_inputs_are_read_in_place_and_outputs_own_their_buffer():
    """A 1 GiB input is never copied: the child's peak RSS stays far below two copies."""
    code = textwrap.dedent("""
        import resource, sys, numpy as np, rumba
        g = rumba.loads(sys.argv[1])
        x = np.full((256, 1024, 1024, 1), 3, np.float32)  # 1 GiB, every page touched
        x = x.swapaxes(1, 2)                               # a strided view
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = g(x=x, k=1.0)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert out["m"].shape == (1, 1024, 1024, 1) and float(out["m"][0, 5, 5, 0]) == 3.0
        print((after - before) // 1024)
    """)
    child = subprocess.run([sys.executable, "-c", code, MEAN % "f32"], capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    grew = int(child.stdout)
    assert grew < 256, f"the run grew peak RSS by {grew} MiB (a copy of the input is 1024 MiB)"


def test_outputs_are_numpy_arrays_backed_by_rumba():
    x = np.ones((3, 2, 2, 1), np.uint8)
    out = mean_graph("u8")(x=x)["m"]
    assert isinstance(out, np.ndarray) and out.flags.writeable and out.flags.c_contiguous
    assert out.base is not None  # rumba's buffer, not a copy owned by NumPy
    out[...] = 5  # and it is the caller's to change
    assert float(out.sum()) == 5 * out.size


def test_run_into_writes_the_callers_arrays_and_checks_them():
    x = (np.arange(60) % 7).astype(np.uint16).reshape(5, 3, 4, 1)
    exe = mean_graph("u16").compile(x=x)
    out = {"out": np.full((1, 3, 4, 1), -1, np.float32), "m": np.full((1, 3, 4, 1), -1, np.float32)}
    target = out["out"]
    exe.run_into(out, x=x, k=3.0)
    assert out["out"] is target
    m, scaled = reference_mean(x, 3.0)
    np.testing.assert_allclose(out["out"], scaled, rtol=1e-6)
    with pytest.raises(rumba.BindError, match=r'output "m": expected a float32 array of shape \[1, 3, 4, 1\]'):
        exe.run_into({"out": out["out"], "m": np.zeros((1, 3, 4, 1), np.float64)}, x=x)
    with pytest.raises(rumba.BindError, match='output "m" is missing'):
        exe.run_into({"out": out["out"]}, x=x)
    with pytest.raises(rumba.BindError, match='no output "nope"'):
        exe.run_into(dict(out, nope=out["m"]), x=x)
    ro = out["m"].copy()
    ro.flags.writeable = False
    with pytest.raises(rumba.BindError, match="cannot be written"):
        exe.run_into({"out": out["out"], "m": ro}, x=x)


def test_run_into_on_the_interpreter_too():
    x = (np.arange(60) % 7).astype(np.uint8).reshape(5, 3, 4, 1)
    exe = mean_graph("u8").compile(x=x, backend="interp")
    out = {"out": np.zeros((1, 3, 4, 1), np.float32), "m": np.zeros((1, 3, 4, 1), np.float32)}
    exe.run_into(out, x=x, k=2.0)
    np.testing.assert_allclose(out["out"], reference_mean(x, 2.0)[1], rtol=1e-6)


def test_same_shapes_and_new_params_never_compile_again():
    g = rumba.load(EXAMPLES / "background_subtraction.json")
    x = (np.arange(12 * 8 * 8) % 200).astype(np.uint8).reshape(12, 8, 8, 1)
    exe = g.compile(x=x)
    g(x=x)
    before, codegens = rumba.compile_count(), rumba.codegen_count()
    results = [exe(x=x, sub_amount=a)["out"] for a in np.linspace(0, 1, 5)]
    results += [g(x=x.copy(), sub_amount=0.3, div_amount=0.7)["out"]]
    assert (rumba.compile_count(), rumba.codegen_count()) == (before, codegens)
    assert not np.array_equal(results[0], results[4])
    g(x=x[:6])  # a new shape compiles once, then is cached too
    assert rumba.compile_count() == before + 1
    g(x=x[:6])
    assert rumba.compile_count() == before + 1


def test_errors_are_exceptions_with_node_label_and_path():
    with pytest.raises(rumba.GraphError) as e:
        rumba.loads("""{"format": "rumba-graph", "version": 1, "nodes": [
            {"id": "x", "op": "input", "dtype": "u8", "shape": [null, null, null, 1]},
            {"id": "r", "label": "background", "op": "range_reference", "x": "x", "bounds": [5, 2], "kind": "mean"}],
            "outputs": ["r"]}""", "g.json")
    assert isinstance(e.value, ValueError)
    assert (e.value.node, e.value.label, e.value.path) == ("r", "background", "nodes[1].bounds")
    assert "g.json: nodes[1].bounds" in str(e.value) and "b0 > b1" in str(e.value)

    with pytest.raises(rumba.GraphError) as e:
        rumba.loads("{not json", "bad.json")
    assert e.value.node is None and e.value.path == "line 1, column 2"

    with pytest.raises(rumba.GraphError, match="graph format version 9"):
        rumba.loads('{"format": "rumba-graph", "version": 9, "nodes": [], "outputs": []}')

    g = mean_graph("u8")
    with pytest.raises(rumba.BindError) as e:
        g.compile(x=np.zeros((3, 2, 2, 1), np.float32))
    assert isinstance(e.value, ValueError) and e.value.node == "x" and e.value.path == "nodes[0]"
    assert "u8" in str(e.value) and "f32" in str(e.value)

    exe = g.compile(x=np.zeros((3, 2, 2, 1), np.uint8))
    with pytest.raises(rumba.BindError, match=r'differs from the one the executable was compiled for.*u8 \[3, 2, 2, 1\]'):
        exe(x=np.zeros((4, 2, 2, 1), np.uint8))
    with pytest.raises(rumba.BindError, match="no param is named \"nope\""):
        exe(x=np.zeros((3, 2, 2, 1), np.uint8), nope=1.0)
    with pytest.raises(rumba.BindError, match='param "k": expected a number, found str'):
        exe(x=np.zeros((3, 2, 2, 1), np.uint8), k="fast")
    with pytest.raises(rumba.BindError, match="NumPy dtype int64 is not one rumba reads"):
        exe(x=np.zeros((3, 2, 2, 1), np.int64))
    with pytest.raises(rumba.BindError, match="expected a NumPy array, found list"):
        exe(x=[[1]])
    with pytest.raises(rumba.BindError, match='backend "fast"'):
        g.compile(x=np.zeros((3, 2, 2, 1), np.uint8), backend="fast")
    with pytest.raises(rumba.BindError, match="a \\(dtype, shape\\) pair"):
        g.compile(x=3)


def test_run_errors_name_the_node():
    g = rumba.loads("""{"format": "rumba-graph", "version": 1, "nodes": [
        {"id": "x", "op": "input", "dtype": "u8", "shape": [null, null, null, 1]},
        {"id": "o", "op": "reduce", "x": "x", "kind": "sum", "axes": [0]}], "outputs": ["o"]}""")
    x = np.ones((4, 64, 64, 1), np.uint8)
    with pytest.raises(rumba.RunError, match="over the budget"):
        g.compile(x=x, memory_budget=1000)(x=x)


def test_builder_errors_point_at_the_python_line():
    b = rumba.Builder()
    x = b.input("x", "u8", [None, None, None, 1])
    bad = x.range_reference([4, 1], "mean").label("my ref")  # the line the error names
    with pytest.raises(rumba.GraphError) as e:
        b.build(out=bad)
    assert e.value.path.endswith(f"test_api.py:{sys._getframe().f_lineno - 3}")
    assert e.value.label == "my ref" and "b0 > b1" in str(e.value)


def test_builder_mirrors_the_dsl():
    b = rumba.Builder()
    x = b.input("x", "u8", [None, None, None, 1])
    k = b.param("k", 2.0)
    y = ((x - 1) * k / 2 + 1.5).max(0.0).min(float("inf"))
    z = (x > 3).select(y, -y)
    m = z.reduce("percentile", [0], q=50)
    w = x.window("median", 3)
    graph = b.build(y=y, z=z, m=m, w=w)
    xs = (np.arange(5 * 2 * 3) % 9).astype(np.uint8).reshape(5, 2, 3, 1)
    out = graph(x=xs, k=4.0)
    xf = xs.astype(np.float32)
    ye = np.minimum(np.maximum((xf - 1) * 4 / 2 + 1.5, 0), np.inf).astype(np.float32)
    np.testing.assert_allclose(out["y"], ye, rtol=1e-6)
    np.testing.assert_allclose(out["z"], np.where(xs > 3, ye, -ye), rtol=1e-6)
    np.testing.assert_allclose(out["m"], np.percentile(np.where(xs > 3, ye, -ye), 50, axis=0, keepdims=True),
                               rtol=1e-6)
    np.testing.assert_array_equal(out["w"], np.stack([np.median(xf[i:i + 3], axis=0) for i in range(3)]))
    assert rumba.loads(graph.to_json()).to_json() == graph.to_json()


def test_four_threads_run_one_executable_with_different_params():
    x = (np.random.default_rng(2).random((40, 64, 64, 1)) * 255).astype(np.uint8)
    g = rumba.load(EXAMPLES / "background_subtraction.json")
    exe = g.compile(x=x, threads=2)
    amounts = [0.1, 0.4, 0.7, 1.0]
    expected = {a: exe(x=x, sub_amount=a, div_amount=1 - a / 2)["out"] for a in amounts}
    results, errors = {}, []

    def work(a):
        try:
            for _ in range(5):
                r = exe(x=x, sub_amount=a, div_amount=1 - a / 2)["out"]
                assert np.array_equal(r, expected[a], equal_nan=True)
            results[a] = r
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(a,)) for a in amounts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and sorted(results) == amounts
    assert len({r.tobytes() for r in results.values()}) == 4


def test_the_gil_is_released_while_kernels_run():
    """The run blocks inside its GIL-free region until this thread opens the gate; with the
    GIL held, this thread could not run `wait_reached`/`open` and the run would time out."""
    x = np.ones((4, 8, 8, 1), np.uint8)
    exe = mean_graph("u8").compile(x=x)
    gate = rumba._rumba.Gate()
    result, errors = {}, []

    def run():
        try:
            result.update(exe._call_gated(gate, x=x))
        except Exception as e:
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    assert gate.wait_reached(30), "the run never reached the gate"
    gate.open()
    t.join(60)
    assert not t.is_alive() and not errors, errors
    assert float(result["m"][0, 0, 0, 0]) == 1.0


def test_graphs_and_executables_pickle_as_their_json():
    g = rumba.load(EXAMPLES / "envelope.json")
    x = (np.arange(6 * 270 * 210) % 256).astype(np.uint8).reshape(6, 270, 210, 1)
    exe = g.compile(x=x, threads=1)
    g2, exe2 = pickle.loads(pickle.dumps(g)), pickle.loads(pickle.dumps(exe))
    assert g2.to_json() == g.to_json()
    for k, v in exe(x=x).items():
        assert nan_safe_equal(exe2(x=x)[k], v)
        assert nan_safe_equal(g2(x=x)[k], v)
    assert exe2.inputs == exe.inputs == {"x": ("uint8", [6, 270, 210, 1])}


def test_explain_and_introspection():
    g = rumba.load(EXAMPLES / "background_subtraction.json")
    assert g.inputs == ["x"] and g.outputs == ["out"] and g.params == {"sub_amount": 1.0, "div_amount": 1.0}
    text = g.explain(x=("uint8", (20, 16, 16, 1)))
    assert "input x: u8 [20, 16, 16, 1]" in text and "memory: in-memory run" in text
    exe = g.compile(x=("uint8", (20, 16, 16, 1)))
    assert exe.outputs == {"out": ("float32", [20, 16, 16, 1])}
    assert all(backend == "jit" for _, backend, _ in exe.kernels)
    assert "backend" in exe.explain(sub_amount=0.5)


def test_hostile_shapes_and_values_are_errors_or_defined_results():
    g = rumba.load(EXAMPLES / "background_subtraction.json")
    # An empty image is a defined (empty) result; an empty stack fails the range, naming it.
    assert g(x=np.zeros((12, 0, 4, 1), np.uint8))["out"].shape == (12, 0, 4, 1)
    with pytest.raises(rumba.BindError, match="empty range: bounds \\[0, 9\\]") as e:
        g(x=np.zeros((0, 4, 4, 1), np.uint8))
    assert e.value.node == "out" and e.value.label == "background removed"
    # Specs whose bytes overflow i64 are refused before anything is allocated.
    with pytest.raises(rumba.BindError, match="i64::MAX"):
        g.compile(x=("uint8", (2**62, 2**62, 1, 1)))
    with pytest.raises(rumba.BindError, match="a \\(dtype, shape\\) pair"):
        g.compile(x=("uint8", (-1, 2, 1, 1)))
    with pytest.raises(rumba.BindError, match="complex64"):
        g.compile(x=("complex64", (2, 2, 1, 1)))
    with pytest.raises(rumba.BindError, match="rank 4"):
        g(x=np.uint8(3))
    with pytest.raises(rumba.BindError, match='input "x" was not supplied'):
        g()
    # NaN and huge params follow the pipeline's rules (DESIGN §2): NaN amounts divide to 0.
    x = np.full((12, 4, 4, 1), 5, np.uint8)
    assert float(g(x=x, sub_amount=float("nan"))["out"][0, 0, 0, 0]) == 0.0
    assert np.isfinite(g(x=x, sub_amount=2.0**70)["out"]).all()
    # Graph files that cannot be read name the file.
    with pytest.raises(rumba.GraphError, match="/nonexistent/g.json: .*cannot read"):
        rumba.load("/nonexistent/g.json")
    with pytest.raises(rumba.GraphError, match="malformed JSON"):
        rumba.loads("")


def test_the_example_session_runs(tmp_path):
    stack = (np.arange(16 * 32 * 32) % 200).astype(np.uint8).reshape(16, 32, 32, 1)
    np.save(tmp_path / "stack.npy", stack)
    script = EXAMPLES.parent / "python" / "blitz_session.py"
    child = subprocess.run([sys.executable, str(script), str(tmp_path / "stack.npy"), "--frame", "12"],
                           capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, child.stderr
    lines = [l for l in child.stdout.splitlines() if l.startswith("amount")]
    assert len(lines) == 20 and "no recompile" in child.stdout
    # The frame mean falls as the amount grows (the slider reaches the kernel).
    means = [float(l.split()[-1]) for l in lines]
    assert means[0] > means[-1]


def test_masked_arrays_are_refused_not_silently_unmasked():
    x = np.ma.masked_greater(np.arange(24, dtype=np.float32).reshape(2, 3, 4, 1), 10)
    with pytest.raises(rumba.BindError, match="masked array"):
        mean_graph("f32")(x=x)
    from rumba import blitz
    with pytest.raises(rumba.BindError, match="masked array"):
        blitz.range_reference(x, [0, 1], "mean")
    # A plain ndarray subclass (np.memmap, np.matrix-free views) is read as an array.
    class Sub(np.ndarray):
        pass
    sub = np.ones((2, 3, 4, 1), np.float32).view(Sub)
    assert float(mean_graph("f32")(x=sub)["m"].sum()) == 12.0


def test_a_graph_keeps_its_most_recent_executables():
    g = mean_graph("u8")
    shapes = [(2, 1, k, 1) for k in range(1, 18)]  # one more than the cache keeps
    for s in shapes:
        g(x=np.ones(s, np.uint8))
    before = rumba.compile_count()
    g(x=np.ones(shapes[-1], np.uint8))  # recent: cached
    assert rumba.compile_count() == before
    g(x=np.ones(shapes[0], np.uint8))  # the oldest was dropped: compiled again
    assert rumba.compile_count() == before + 1


def test_3d_and_2d_arrays_stand_for_c1_stacks_and_references():
    g = rumba.loads("""{"format": "rumba-graph", "version": 1, "nodes": [
        {"id": "x", "op": "input", "dtype": "u16", "shape": [null, null, null, 1]},
        {"id": "bg", "op": "input", "dtype": "f32", "shape": [1, null, null, 1]},
        {"id": "out", "op": "pipeline", "x": "x",
         "subtract": {"source": "file", "file": "bg", "amount": 0.5}, "divide": null},
        {"id": "curve", "op": "reduce", "x": "out", "kind": "max", "axes": [1, 2, 3], "keepdims": false}],
      "outputs": ["out", "curve"]}""")
    x = (np.arange(4 * 5 * 6) * 37 % 1000).astype(np.uint16).reshape(4, 5, 6)
    bg = (np.arange(30) * 0.5).astype(np.float32).reshape(5, 6)
    full = g(x=x[..., None], bg=bg[None, :, :, None])
    small = g(x=x, bg=bg)
    assert small["out"].shape == (4, 5, 6) and full["out"].shape == (4, 5, 6, 1)
    np.testing.assert_array_equal(small["out"], full["out"][..., 0])
    np.testing.assert_array_equal(small["curve"], full["curve"])
    np.testing.assert_array_equal(small["out"], x.astype(np.float32) - np.float32(0.5) * bg)
    # A swapaxes view of a 3-D stack, and run_into arrays without the C axis.
    exe = g.compile(x=x, bg=bg)
    xt = np.ascontiguousarray(x.swapaxes(1, 2)).swapaxes(1, 2)
    out = {"out": np.zeros((4, 5, 6), np.float32), "curve": np.zeros(4, np.float32)}
    exe.run_into(out, x=xt, bg=bg)
    np.testing.assert_array_equal(out["out"], small["out"])
    with pytest.raises(rumba.BindError, match="rank 4"):
        g(x=x[0], bg=bg)  # (H, W) is not a stack
