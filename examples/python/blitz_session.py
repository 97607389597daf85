"""A BLITZ-style viewer session through the rumba package.

Loads a stack (a .npy file given as the first argument, or a synthetic (200, 512, 512, 1)
uint8 stack of moving blobs on a noisy background), compiles background subtraction once, then
moves the "amount" slider over 20 values while showing one frame — each move is one call that
computes only that frame (the graph slices the frame before the pipeline, so the kernels read
one frame and the 10-frame reference) — and prints each call's time.

    pip install .                                     # once, at the repository root
    python examples/python/blitz_session.py [stack.npy] [--frame N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import rumba


def synthetic_stack(t: int = 200, h: int = 512, w: int = 512, seed: int = 0) -> np.ndarray:
    """Blobs drifting over a noisy, slowly brightening background (uint8, C = 1)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    frames = np.empty((t, h, w, 1), np.uint8)
    for k in range(t):
        cy, cx = h / 2 + h / 4 * np.sin(k / 17), w / 2 + w / 4 * np.cos(k / 23)
        blob = 120 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 18.0**2))
        frames[k, :, :, 0] = np.clip(40 + k * 0.1 + blob + rng.normal(0, 6, (h, w)), 0, 255)
    return frames


def session_graph(frame: int) -> rumba.Graph:
    """Subtract the mean of frames 0..=9 (amount: the slider), show frame `frame`."""
    b = rumba.Builder("viewer: background subtraction of one frame")
    x = b.input("x", "u8", [None, None, None, 1])
    amount = b.param("amount", 1.0)
    background = x.range_reference([0, 9], "mean").label("background")
    shown = x.slice(0, frame, frame + 1).label("shown frame")
    out = shown.subtract(background, amount).label("background removed")
    return b.build(out=out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", nargs="?", help=".npy stack (T, H, W, 1) uint8; synthetic if omitted")
    parser.add_argument("--frame", type=int, default=100, help="the frame shown (default 100)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    stack = np.load(args.stack, mmap_mode="r") if args.stack else synthetic_stack()
    print(f"stack {stack.shape} {stack.dtype}: loaded in {time.perf_counter() - t0:.2f} s")

    frame = min(args.frame, stack.shape[0] - 1)
    t0 = time.perf_counter()
    exe = session_graph(frame).compile(x=stack)
    print(f"compiled in {(time.perf_counter() - t0) * 1e3:.1f} ms: {len(exe.kernels)} kernels "
          f"({', '.join(sorted({k[1] for k in exe.kernels}))})")

    compiles = rumba.compile_count()
    out = {"out": np.empty(exe.outputs["out"][1], np.float32)}
    times = []
    for amount in np.linspace(0.0, 1.0, 20):
        t0 = time.perf_counter()
        exe.run_into(out, x=stack, amount=float(amount))
        times.append(time.perf_counter() - t0)
        print(f"amount {amount:4.2f}: {times[-1] * 1e3:7.2f} ms  frame mean {float(out['out'].mean()):8.3f}")
    assert rumba.compile_count() == compiles, "a slider move compiled again"
    print(f"20 slider moves: median {np.median(times) * 1e3:.2f} ms, "
          f"min {min(times) * 1e3:.2f} ms, max {max(times) * 1e3:.2f} ms; no recompile")


if __name__ == "__main__":
    main()
