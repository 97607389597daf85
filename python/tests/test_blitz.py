"""rumba.blitz against the fixtures: each drop-in function with the reference's signature."""

import numpy as np
import pytest

import rumba
from rumba import blitz
from conftest import CASES, assert_close, error_key

CALLS = {
    "reduce": None,
    "range_reference": lambda p, a: {"out": blitz.range_reference(a["x"], p["bounds"], p["kind"],
                                                                  p.get("skip_nan", False), p.get("q"))},
    "sliding_reference": lambda p, a: {"out": blitz.sliding_reference(a["x"], p["window"], p["lag"], p["kind"],
                                                                      p.get("skip_nan", False), p.get("q"))},
    "window_reduce": lambda p, a: {"out": blitz.window_reduce(a["x"], p["window"], p["kind"], p.get("weights"),
                                                              p.get("skip_nan", False), p.get("q"))},
    "pipeline": lambda p, a: {"out": blitz.pipeline(a["x"], p.get("subtract"), p.get("divide"), a)},
    "envelope_dataset": lambda p, a: blitz.envelope_dataset(a["x"], p["orientation"], p["pos"], p["halfwidth"]),
    "envelope_frames": lambda p, a: blitz.envelope_frames(a["x"], p["orientation"], p["pos"], p["halfwidth"]),
    "polygon_mask": lambda p, a: {"mask": blitz.polygon_mask(p["vertices"], p["height"], p["width"])},
    "apply_polygon": lambda p, a: {"out": blitz.apply_polygon(a["x"], p["vertices"], p["fill"])},
    "roi_series": lambda p, a: blitz.roi_series(a["x"], p["vertices"]),
}
BLITZ = [c for c in CASES if CALLS[c["op"]] is not None]


@pytest.mark.parametrize("case", BLITZ, ids=[c["name"] for c in BLITZ])
def test_blitz_matches_the_fixtures(case):
    call = CALLS[case["op"]]
    if "expect_error" in case:
        with pytest.raises((rumba.GraphError, rumba.BindError, rumba.RunError)) as e:
            call(case["params"], case["arrays"])
        assert error_key(case) in str(e.value)
        return
    results = call(case["params"], case["arrays"])
    for name, expected in case["expected"].items():
        assert_close(np.asarray(results[name]), expected, case["rtol"], case["atol"], f"{case['name']} {name}")


def test_pipeline_amounts_never_recompile(stack):
    step = {"source": "range", "bounds": [0, 3], "kind": "mean", "amount": 1.0}
    blitz.pipeline(stack, subtract=step, divide=dict(step))
    before = rumba.compile_count()
    outs = [blitz.pipeline(stack, subtract=dict(step, amount=a), divide=dict(step, amount=1 - a))
            for a in (0.0, 0.25, 0.5, 1.0)]
    assert rumba.compile_count() == before
    # Different amounts give different results (the params reach the kernel).
    assert not np.array_equal(outs[0], outs[3])
    # A 3-D stack is taken as C = 1.
    np.testing.assert_array_equal(blitz.pipeline(stack[..., 0], subtract=step), blitz.pipeline(stack, subtract=step))


def test_blitz_refuses_what_it_cannot_read():
    with pytest.raises(rumba.BindError, match="int64"):
        blitz.range_reference(np.zeros((3, 2, 2, 1), np.int64), [0, 1], "mean")
    with pytest.raises(rumba.BindError, match=r"\(T, H, W, C\)"):
        blitz.range_reference(np.zeros((3, 2)), [0, 1], "mean")
