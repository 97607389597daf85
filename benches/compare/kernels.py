"""NumPy and Numba implementations of the BLITZ workloads that benches/compare times against rumba.

Semantics are those of tests/fixtures/README.md (executable form: tests/fixtures/reference.py):
statistics are computed in f64 (exact int64 sums for u8/u16) and rounded once; mean, std and
median outputs are f32; min/max keep the dtype; std is the population std; NaN propagates
(except in ROI series, which skip it); the pipeline rounds to f32 after every operation and turns
NaN/±Inf into 0 after the divide.

Every Numba kernel is ``@njit(parallel=True, cache=True, error_model="numpy")`` without
fastmath. ``error_model="numpy"`` is needed for the semantics, not for speed: with Numba's
default ("python") a float division by zero raises ZeroDivisionError instead of giving ±Inf/NaN.
Parallel loops (``prange``) run over frames for per-frame work and over rows (H) for reductions
along T, with the contiguous W·C axis innermost, so the compiler vectorises the inner loop.

Every kernel comes in two forms, both a single call into compiled code:
``name(...)`` allocates its outputs with ``np.empty`` inside and returns them ("fresh"), and
``name_into(..., out)`` writes caller arrays ("out="). The per-workload entry points at the end
(``NUMBA`` / ``NUMBA_INTO`` / ``NUMPY``) take a stack and a :class:`Ctx` and return a tuple of
outputs in the order of the rumba graph's outputs.

Inside the kernels a stack (T, H, W, C) is viewed as (T, H, W·C) (a free reshape of a
C-contiguous array). ``zero`` arguments are the accumulator's zero — ``np.int64(0)`` for u8/u16
(exact sums), ``np.float64(0)`` for f32 — so one kernel source serves every dtype (Numba
compiles one specialisation per argument types).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange

F32 = np.float32
JIT = dict(parallel=True, cache=True, error_model="numpy")
HELPER = dict(cache=True, error_model="numpy")
FRESH = HELPER  # a fresh-output form only allocates and calls its parallel `_into` kernel


def acc_zero(dtype) -> np.generic:
    """The accumulator zero for a stack of ``dtype``: exact int64 for integers, f64 for floats."""
    return np.int64(0) if np.dtype(dtype).kind in "ui" else np.float64(0.0)


# ---------------------------------------------------------------------------------------------
# scalar helpers (inlined by LLVM)
# ---------------------------------------------------------------------------------------------

@njit(**HELPER)
def _min_nan(a, v):
    """min(a, v) that propagates NaN: once either is NaN the result is NaN."""
    return v if (v < a) | (v != v) else a


@njit(**HELPER)
def _max_nan(a, v):
    """max(a, v) that propagates NaN."""
    return v if (v > a) | (v != v) else a


@njit(**HELPER)
def _finite_or_zero(r):
    """The pipeline's last step: NaN and ±Inf become 0."""
    return r if np.isfinite(r) else np.float32(0.0)


@njit(**HELPER)
def _select(a, n, k):
    """Reorders ``a[:n]`` so that ``a[k]`` is the k-th smallest (0-based) and every element
    before it is <= it; returns ``a[k]``. Hoare partitioning around a median-of-three pivot
    (Wirth's selection), expected O(n); ``a`` holds no NaN."""
    lo = 0
    hi = n - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        # median of three into a[mid]: protects against sorted (drifting) series.
        if a[mid] < a[lo]:
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[mid]:
            a[hi], a[mid] = a[mid], a[hi]
            if a[mid] < a[lo]:
                a[mid], a[lo] = a[lo], a[mid]
        pivot = a[mid]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while pivot < a[j]:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if j < k:
            lo = i
        if k < i:
            hi = j
    return a[k]


@njit(**HELPER)
def _median_of(a, n):
    """Median of ``a[:n]`` (reordered in place) in f64: the middle value, or the mean of the
    two middle values for even n."""
    k = n // 2
    upper = _select(a, n, k)
    if n % 2 == 1:
        return np.float64(upper)
    lower = a[0]
    for q in range(1, k):
        if a[q] > lower:
            lower = a[q]
    return (np.float64(lower) + np.float64(upper)) / 2.0


# ---------------------------------------------------------------------------------------------
# pipeline: subtract and divide by references (range, file, sliding)
# ---------------------------------------------------------------------------------------------

@njit(**JIT)
def _frame_mean(x, b0, b1, zero):
    """Mean of frames b0 .. b1-1 of x (T, H, WC) per pixel: exact/f64 sum, rounded to f32."""
    T, H, WC = x.shape
    n = b1 - b0
    r = np.empty((H, WC), np.float32)
    for i in prange(H):
        acc = np.full(WC, zero)
        for t in range(b0, b1):
            for j in range(WC):
                acc[j] += x[t, i, j]
        for j in range(WC):
            r[i, j] = acc[j] / n
    return r


@njit(**JIT)
def _normalise(x, sub, den, out):
    """out[t] = finite_or_zero((f32(x[t]) - sub) / den) for per-pixel f32 frames sub = a_s·R and
    den = a_d·R + (1 - a_d). den == 0 needs no test: v/0 is ±Inf or NaN, which become 0."""
    T, H, WC = x.shape
    for t in prange(T):
        for i in range(H):
            for j in range(WC):
                out[t, i, j] = _finite_or_zero((np.float32(x[t, i, j]) - sub[i, j]) / den[i, j])


@njit(**JIT)
def range_norm_into(x4, b1, a_s, a_d, c1, zero, out4):
    """Pipeline with subtract and divide by the mean of frames 0 .. b1-1 (one reference, shared
    by both steps). ``c1`` is f32(1 - a_d) formed in f64."""
    T, H, W, C = x4.shape
    x = x4.reshape((T, H, W * C))
    r = _frame_mean(x, 0, b1, zero)
    _normalise(x, a_s * r, a_d * r + c1, out4.reshape((T, H, W * C)))


@njit(**FRESH)
def range_norm(x4, b1, a_s, a_d, c1, zero):
    """Fresh-output form of :func:`range_norm_into`."""
    out = np.empty(x4.shape, np.float32)
    range_norm_into(x4, b1, a_s, a_d, c1, zero, out)
    return out


@njit(**JIT)
def file_norm_into(x4, bg4, a_s, a_d, c1, out4):
    """Pipeline with subtract and divide by a file reference ``bg4`` (1, H, W, C) f32."""
    T, H, W, C = x4.shape
    x = x4.reshape((T, H, W * C))
    bg = bg4.reshape((H, W * C))
    _normalise(x, a_s * bg, a_d * bg + c1, out4.reshape((T, H, W * C)))


@njit(**FRESH)
def file_norm(x4, bg4, a_s, a_d, c1):
    """Fresh-output form of :func:`file_norm_into`."""
    out = np.empty(x4.shape, np.float32)
    file_norm_into(x4, bg4, a_s, a_d, c1, out)
    return out


@njit(**JIT)
def sliding_norm_into(x4, window, lag, a_s, a_d, c1, zero, out4):
    """Pipeline with subtract and divide by the sliding mean S[n] = mean(x[lag+1+n ..][:window])
    of the output frame x[lag+1+n]: per row a running sum along T (exact int64, or f64 with a
    count of the NaNs in the window so that a NaN leaves the window again)."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    out = out4.reshape((out4.shape[0], H, WC))
    N = out.shape[0]
    f0 = lag + 1
    nan32 = np.float32(np.nan)
    if N <= 0:
        return
    for i in prange(H):
        acc = np.full(WC, zero)
        nans = np.zeros(WC, np.int64)
        for t in range(f0, f0 + window):
            for j in range(WC):
                v = x[t, i, j]
                acc[j] += zero if v != v else v
                nans[j] += np.int64(v != v)
        for n in range(N):
            t = f0 + n
            for j in range(WC):
                s = np.float32(acc[j] / window)
                s = nan32 if nans[j] > 0 else s
                out[n, i, j] = _finite_or_zero((np.float32(x[t, i, j]) - a_s * s) / (a_d * s + c1))
            if n + 1 < N:
                for j in range(WC):
                    a = x[t + window, i, j]
                    b = x[t, i, j]
                    acc[j] += (zero if a != a else a) - (zero if b != b else b)
                    nans[j] += np.int64(a != a) - np.int64(b != b)


@njit(**FRESH)
def sliding_norm(x4, window, lag, a_s, a_d, c1, zero):
    """Fresh-output form of :func:`sliding_norm_into`."""
    T, H, W, C = x4.shape
    out = np.empty((max(T - lag - window, 0), H, W, C), np.float32)
    sliding_norm_into(x4, window, lag, a_s, a_d, c1, zero, out)
    return out


@njit(**JIT)
def slider_frame_into(x4, bg4, start, a_s, a_d, c1, out4):
    """The slider: the file-reference pipeline of frame ``start`` only -> (1, H, W, C) f32."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    bg = bg4.reshape((H, WC))
    out = out4.reshape((H, WC))
    for i in prange(H):
        for j in range(WC):
            r = bg[i, j]
            out[i, j] = _finite_or_zero((np.float32(x[start, i, j]) - a_s * r) / (a_d * r + c1))


@njit(**FRESH)
def slider_frame(x4, bg4, start, a_s, a_d, c1):
    """Fresh-output form of :func:`slider_frame_into`."""
    T, H, W, C = x4.shape
    out = np.empty((1, H, W, C), np.float32)
    slider_frame_into(x4, bg4, start, a_s, a_d, c1, out)
    return out


# ---------------------------------------------------------------------------------------------
# reductions over T: prange over rows, per-row accumulators along W·C
# ---------------------------------------------------------------------------------------------

@njit(**HELPER)
def _block_rows(H, WC, lane_bytes):
    """Rows per parallel block of a reduction along T: about 32 KiB of lanes, so every frame is
    read in long contiguous runs (one row per block leaves runs of W elements, each in another
    page, and the hardware prefetcher falls behind: 2× slower than NumPy's frame sweep)."""
    return max(1, min(H, 32768 // max(1, WC * lane_bytes)))


@njit(**JIT)
def mean_t_into(x4, zero, out4):
    """Mean over T -> (1, H, W, C) f32 (int64 sums for integers, f64 sums for f32), prange over
    blocks of rows with the block's W·C lanes innermost."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    out = out4.reshape((H, WC))
    R = _block_rows(H, WC, 8)
    for b in prange((H + R - 1) // R):
        i0 = b * R
        r = min(H, i0 + R) - i0
        acc = np.full((r, WC), zero)
        for t in range(T):
            for i in range(r):
                for j in range(WC):
                    acc[i, j] += x[t, i0 + i, j]
        for i in range(r):
            for j in range(WC):
                out[i0 + i, j] = acc[i, j] / T


@njit(**FRESH)
def mean_t(x4, zero):
    """Fresh-output form of :func:`mean_t_into`."""
    T, H, W, C = x4.shape
    out = np.empty((1, H, W, C), np.float32)
    mean_t_into(x4, zero, out)
    return out


@njit(**JIT)
def std_t_into(x4, zero, out4):
    """Population std over T -> (1, H, W, C) f32, in one pass with shifted sums: d = x - x[0]
    per pixel, var = (T·Σd² - (Σd)²) / T². Exact in int64 for integers; in f64 for f32 the shift
    removes the cancellation of the naive E[x²] - E[x]². NaN propagates (x[0] NaN poisons d).
    prange over blocks of rows, as :func:`mean_t_into`."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    out = out4.reshape((H, WC))
    R = _block_rows(H, WC, 24)
    for b in prange((H + R - 1) // R):
        i0 = b * R
        r = min(H, i0 + R) - i0
        shift = np.full((r, WC), zero)
        s1 = np.full((r, WC), zero)
        s2 = np.full((r, WC), zero)
        for i in range(r):
            for j in range(WC):
                shift[i, j] += x[0, i0 + i, j]
        for t in range(T):
            for i in range(r):
                for j in range(WC):
                    d = x[t, i0 + i, j] - shift[i, j]
                    s1[i, j] += d
                    s2[i, j] += d * d
        for i in range(r):
            for j in range(WC):
                var = (T * s2[i, j] - s1[i, j] * s1[i, j]) / (T * T)
                if var < 0.0:
                    var = 0.0
                out[i0 + i, j] = np.sqrt(var)


@njit(**FRESH)
def std_t(x4, zero):
    """Fresh-output form of :func:`std_t_into`."""
    T, H, W, C = x4.shape
    out = np.empty((1, H, W, C), np.float32)
    std_t_into(x4, zero, out)
    return out


@njit(**JIT)
def _extreme_t(x4, out4, is_max):
    """Min (or max) over T, input dtype, NaN-propagating; prange over blocks of rows. The
    accumulator is double-buffered (read ``cur``, write ``nxt``, swap per frame): updating it in
    place makes LLVM turn the select into a conditional store (``vmaskmovps`` for f32), which
    is microcoded on AMD and made this loop 4× slower than NumPy."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    out = out4.reshape((H, WC))
    R = _block_rows(H, WC, x.itemsize)
    for b in prange((H + R - 1) // R):
        i0 = b * R
        r = min(H, i0 + R) - i0
        cur = np.empty((r, WC), x.dtype)
        nxt = np.empty((r, WC), x.dtype)
        for i in range(r):
            for j in range(WC):
                cur[i, j] = x[0, i0 + i, j]
        for t in range(1, T):
            if is_max:
                for i in range(r):
                    for j in range(WC):
                        nxt[i, j] = _max_nan(cur[i, j], x[t, i0 + i, j])
            else:
                for i in range(r):
                    for j in range(WC):
                        nxt[i, j] = _min_nan(cur[i, j], x[t, i0 + i, j])
            cur, nxt = nxt, cur
        for i in range(r):
            for j in range(WC):
                out[i0 + i, j] = cur[i, j]


@njit(**FRESH)
def min_t_into(x4, out4):
    """Min over T -> (1, H, W, C), input dtype, NaN-propagating."""
    _extreme_t(x4, out4, False)


@njit(**FRESH)
def min_t(x4):
    """Fresh-output form of :func:`min_t_into`."""
    T, H, W, C = x4.shape
    out = np.empty((1, H, W, C), x4.dtype)
    _extreme_t(x4, out, False)
    return out


@njit(**FRESH)
def max_t_into(x4, out4):
    """Max over T -> (1, H, W, C), input dtype, NaN-propagating."""
    _extreme_t(x4, out4, True)


@njit(**FRESH)
def max_t(x4):
    """Fresh-output form of :func:`max_t_into`."""
    T, H, W, C = x4.shape
    out = np.empty((1, H, W, C), x4.dtype)
    _extreme_t(x4, out, True)
    return out


@njit(**JIT)
def median_t_u8_into(x4, count_zero, out4):
    """Median over T of a u8 stack -> (1, H, W, C) f32, by counting: per row one 256-bin
    histogram per pixel (counts of ``count_zero``'s type: uint16 while T < 65536), filled frame
    by frame with W·C innermost, then a cumulative scan finds the two middle ranks."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    out = out4.reshape((H, WC))
    lo_rank = (T - 1) // 2
    hi_rank = T // 2
    for i in prange(H):
        hist = np.full((WC, 256), count_zero)
        for t in range(T):
            for j in range(WC):
                hist[j, x[t, i, j]] += 1
        for j in range(WC):
            c = 0
            lo = -1
            hi = 255
            for v in range(256):
                c += hist[j, v]
                if lo < 0 and c > lo_rank:
                    lo = v
                if c > hi_rank:
                    hi = v
                    break
            out[i, j] = (lo + hi) / 2.0


@njit(**FRESH)
def median_t_u8(x4, count_zero):
    """Fresh-output form of :func:`median_t_u8_into`."""
    T, H, W, C = x4.shape
    out = np.empty((1, H, W, C), np.float32)
    median_t_u8_into(x4, count_zero, out)
    return out


@njit(**JIT)
def median_t_select_into(x4, out4):
    """Median over T of a u16 or f32 stack -> (1, H, W, C) f32, by selection: per row the
    (T, W·C) block is transposed into a scratch (W·C, T) so each pixel's series is contiguous,
    then a quickselect finds the upper middle and a scan of the part below it the lower middle.
    A series with a NaN gives NaN (checked while transposing)."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    out = out4.reshape((H, WC))
    for i in prange(H):
        buf = np.empty((WC, T), x.dtype)
        nans = np.zeros(WC, np.bool_)
        for t in range(T):
            for j in range(WC):
                v = x[t, i, j]
                buf[j, t] = v
                nans[j] = nans[j] | (v != v)
        for j in range(WC):
            if nans[j]:
                out[i, j] = np.nan
            else:
                out[i, j] = _median_of(buf[j], T)


@njit(**FRESH)
def median_t_select(x4):
    """Fresh-output form of :func:`median_t_select_into`."""
    T, H, W, C = x4.shape
    out = np.empty((1, H, W, C), np.float32)
    median_t_select_into(x4, out)
    return out


# ---------------------------------------------------------------------------------------------
# sliding windows along T (lag 0): out[k] = stat(x[k : k + size])
# ---------------------------------------------------------------------------------------------

@njit(**JIT)
def window_mean_into(x4, size, zero, out4):
    """Sliding mean along T: per row a running sum (exact int64, or f64 plus a NaN count)."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    K = out4.shape[0]
    out = out4.reshape((K, H, WC))
    if K <= 0:
        return
    for i in prange(H):
        acc = np.full(WC, zero)
        nans = np.zeros(WC, np.int64)
        for t in range(size):
            for j in range(WC):
                v = x[t, i, j]
                acc[j] += zero if v != v else v
                nans[j] += np.int64(v != v)
        for k in range(K):
            for j in range(WC):
                out[k, i, j] = np.nan if nans[j] > 0 else acc[j] / size
            if k + 1 < K:
                for j in range(WC):
                    a = x[k + size, i, j]
                    b = x[k, i, j]
                    acc[j] += (zero if a != a else a) - (zero if b != b else b)
                    nans[j] += np.int64(a != a) - np.int64(b != b)


@njit(**FRESH)
def window_mean(x4, size, zero):
    """Fresh-output form of :func:`window_mean_into`."""
    T, H, W, C = x4.shape
    out = np.empty((max(T - size + 1, 0), H, W, C), np.float32)
    window_mean_into(x4, size, zero, out)
    return out


@njit(**JIT)
def window_std_into(x4, size, zero, out4):
    """Sliding population std along T: running shifted sums Σd, Σd² with d = x - x[0] per pixel
    (exact int64 for integers; f64 for f32, NaNs counted and left out of the sums)."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    K = out4.shape[0]
    out = out4.reshape((K, H, WC))
    n2 = size * size
    if K <= 0:
        return
    for i in prange(H):
        shift = np.full(WC, zero)
        s1 = np.full(WC, zero)
        s2 = np.full(WC, zero)
        nans = np.zeros(WC, np.int64)
        for j in range(WC):
            v = x[0, i, j]
            shift[j] += zero if v != v else v
        for t in range(size):
            for j in range(WC):
                v = x[t, i, j]
                d = zero if v != v else v - shift[j]
                s1[j] += d
                s2[j] += d * d
                nans[j] += np.int64(v != v)
        for k in range(K):
            for j in range(WC):
                var = (size * s2[j] - s1[j] * s1[j]) / n2
                if var < 0.0:
                    var = 0.0
                out[k, i, j] = np.nan if nans[j] > 0 else np.sqrt(var)
            if k + 1 < K:
                for j in range(WC):
                    a = x[k + size, i, j]
                    b = x[k, i, j]
                    da = zero if a != a else a - shift[j]
                    db = zero if b != b else b - shift[j]
                    s1[j] += da - db
                    s2[j] += da * da - db * db
                    nans[j] += np.int64(a != a) - np.int64(b != b)


@njit(**FRESH)
def window_std(x4, size, zero):
    """Fresh-output form of :func:`window_std_into`."""
    T, H, W, C = x4.shape
    out = np.empty((max(T - size + 1, 0), H, W, C), np.float32)
    window_std_into(x4, size, zero, out)
    return out


@njit(**JIT)
def window_min_into(x4, size, out4):
    """Sliding min along T by van Herk–Gil-Werman: frames are cut into blocks of ``size``; with
    h the suffix min inside a block and g the prefix min of the next block,
    out[k] = min(h[k], g[k + size - 1]): three comparisons per element whatever the window, each
    a vector operation along W·C. Only one block of h (size × W·C) is kept per row."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    K = out4.shape[0]
    out = out4.reshape((K, H, WC))
    if K <= 0:
        return
    for i in prange(H):
        h = np.empty((size, WC), x.dtype)
        g = np.empty(WC, x.dtype)
        g2 = np.empty(WC, x.dtype)
        for t0 in range(0, K, size):
            t1 = min(t0 + size, T)
            h[t1 - 1 - t0, :] = x[t1 - 1, i, :]
            for t in range(t1 - 2, t0 - 1, -1):
                for j in range(WC):
                    h[t - t0, j] = _min_nan(h[t - t0 + 1, j], x[t, i, j])
            out[t0, i, :] = h[0, :]
            for r in range(1, min(size, K - t0)):
                tn = t0 + size + r - 1
                if r == 1:
                    g[:] = x[tn, i, :]
                else:  # double-buffered, see _extreme_t
                    for j in range(WC):
                        g2[j] = _min_nan(g[j], x[tn, i, j])
                    g, g2 = g2, g
                for j in range(WC):
                    out[t0 + r, i, j] = _min_nan(h[r, j], g[j])


@njit(**FRESH)
def window_min(x4, size):
    """Fresh-output form of :func:`window_min_into`."""
    T, H, W, C = x4.shape
    out = np.empty((max(T - size + 1, 0), H, W, C), x4.dtype)
    window_min_into(x4, size, out)
    return out


@njit(**JIT)
def window_max_into(x4, size, out4):
    """Sliding max along T by van Herk–Gil-Werman (see :func:`window_min_into`)."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    K = out4.shape[0]
    out = out4.reshape((K, H, WC))
    if K <= 0:
        return
    for i in prange(H):
        h = np.empty((size, WC), x.dtype)
        g = np.empty(WC, x.dtype)
        g2 = np.empty(WC, x.dtype)
        for t0 in range(0, K, size):
            t1 = min(t0 + size, T)
            h[t1 - 1 - t0, :] = x[t1 - 1, i, :]
            for t in range(t1 - 2, t0 - 1, -1):
                for j in range(WC):
                    h[t - t0, j] = _max_nan(h[t - t0 + 1, j], x[t, i, j])
            out[t0, i, :] = h[0, :]
            for r in range(1, min(size, K - t0)):
                tn = t0 + size + r - 1
                if r == 1:
                    g[:] = x[tn, i, :]
                else:  # double-buffered, see _extreme_t
                    for j in range(WC):
                        g2[j] = _max_nan(g[j], x[tn, i, j])
                    g, g2 = g2, g
                for j in range(WC):
                    out[t0 + r, i, j] = _max_nan(h[r, j], g[j])


@njit(**FRESH)
def window_max(x4, size):
    """Fresh-output form of :func:`window_max_into`."""
    T, H, W, C = x4.shape
    out = np.empty((max(T - size + 1, 0), H, W, C), x4.dtype)
    window_max_into(x4, size, out)
    return out


@njit(**JIT)
def window_median_int_into(x4, size, out4):
    """Sliding median along T of an integer (u8/u16) stack -> f32: every pixel keeps its window
    sorted; each step removes the frame that leaves (found by a linear scan) and inserts the one
    that enters by shifting, O(size) per output, then averages the two middle elements. Frames
    run in the outer loop and W·C in the inner one, so loads and stores are contiguous."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    K = out4.shape[0]
    out = out4.reshape((K, H, WC))
    lo_rank = (size - 1) // 2
    hi_rank = size // 2
    if K <= 0:
        return
    for i in prange(H):
        s = np.empty((WC, size), x.dtype)
        for j in range(WC):
            for q in range(size):  # insertion sort of the first window
                v = x[q, i, j]
                p = q
                while p > 0 and s[j, p - 1] > v:
                    s[j, p] = s[j, p - 1]
                    p -= 1
                s[j, p] = v
            out[0, i, j] = (np.float64(s[j, lo_rank]) + np.float64(s[j, hi_rank])) / 2.0
        for k in range(1, K):
            for j in range(WC):
                old = x[k - 1, i, j]
                new = x[k + size - 1, i, j]
                p = 0
                while s[j, p] != old:
                    p += 1
                if new >= old:
                    while p + 1 < size and s[j, p + 1] < new:
                        s[j, p] = s[j, p + 1]
                        p += 1
                else:
                    while p > 0 and s[j, p - 1] > new:
                        s[j, p] = s[j, p - 1]
                        p -= 1
                s[j, p] = new
                out[k, i, j] = (np.float64(s[j, lo_rank]) + np.float64(s[j, hi_rank])) / 2.0


@njit(**FRESH)
def window_median_int(x4, size):
    """Fresh-output form of :func:`window_median_int_into`."""
    T, H, W, C = x4.shape
    out = np.empty((max(T - size + 1, 0), H, W, C), np.float32)
    window_median_int_into(x4, size, out)
    return out


# ---------------------------------------------------------------------------------------------
# envelopes: min and max of a band of rows (h) or columns (v), over the dataset or per frame
# ---------------------------------------------------------------------------------------------

@njit(**JIT)
def env_rows_dataset_into(x4, r0, r1, mn, mx):
    """Rows r0..r1-1: min/max over (T, band, C) -> two curves along W. Frames are split into
    chunks (prange); each chunk keeps lane-wise partials along W·C, merged at the end."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    step = max(1, (T + 63) // 64)
    nchunk = (T + step - 1) // step
    pmn = np.empty((nchunk, WC), x.dtype)
    pmx = np.empty((nchunk, WC), x.dtype)
    for c in prange(nchunk):
        t0 = c * step
        t1 = min(T, t0 + step)
        a = x[t0, r0, :].copy()
        b = x[t0, r0, :].copy()
        a2 = np.empty_like(a)
        b2 = np.empty_like(b)
        for t in range(t0, t1):
            for r in range(r0, r1):
                for j in range(WC):  # double-buffered lanes, see _extreme_t
                    v = x[t, r, j]
                    a2[j] = _min_nan(a[j], v)
                    b2[j] = _max_nan(b[j], v)
                a, a2 = a2, a
                b, b2 = b2, b
        pmn[c, :] = a
        pmx[c, :] = b
    for w in range(W):
        a = pmn[0, w * C]
        b = pmx[0, w * C]
        for c in range(nchunk):
            for ch in range(C):
                a = _min_nan(a, pmn[c, w * C + ch])
                b = _max_nan(b, pmx[c, w * C + ch])
        mn[w] = a
        mx[w] = b


@njit(**FRESH)
def env_rows_dataset(x4, r0, r1):
    """Fresh-output form of :func:`env_rows_dataset_into`."""
    W = x4.shape[2]
    mn = np.empty(W, x4.dtype)
    mx = np.empty(W, x4.dtype)
    env_rows_dataset_into(x4, r0, r1, mn, mx)
    return mn, mx


@njit(**JIT)
def env_rows_frames_into(x4, r0, r1, mn, mx):
    """Rows r0..r1-1: per frame (prange) min/max over (band, W, C) -> two curves of length T;
    lane-wise along W·C over the band rows, then one pass over the lanes."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    for t in prange(T):
        a = x[t, r0, :].copy()
        b = x[t, r0, :].copy()
        a2 = np.empty_like(a)
        b2 = np.empty_like(b)
        for r in range(r0 + 1, r1):
            for j in range(WC):  # double-buffered lanes, see _extreme_t
                v = x[t, r, j]
                a2[j] = _min_nan(a[j], v)
                b2[j] = _max_nan(b[j], v)
            a, a2 = a2, a
            b, b2 = b2, b
        lo = a[0]
        hi = b[0]
        for j in range(WC):
            lo = _min_nan(lo, a[j])
            hi = _max_nan(hi, b[j])
        mn[t] = lo
        mx[t] = hi


@njit(**FRESH)
def env_rows_frames(x4, r0, r1):
    """Fresh-output form of :func:`env_rows_frames_into`."""
    T = x4.shape[0]
    mn = np.empty(T, x4.dtype)
    mx = np.empty(T, x4.dtype)
    env_rows_frames_into(x4, r0, r1, mn, mx)
    return mn, mx


@njit(**JIT)
def env_cols_dataset_into(x4, c0, c1, mn, mx):
    """Columns c0..c1-1: min/max over (T, band, C) -> two curves along H; prange over rows,
    each row reading its band of every frame."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    j0 = c0 * C
    j1 = c1 * C
    for i in prange(H):
        a = x[0, i, j0:j1].copy()
        b = x[0, i, j0:j1].copy()
        for t in range(T):
            for j in range(j0, j1):
                v = x[t, i, j]
                a[j - j0] = _min_nan(a[j - j0], v)
                b[j - j0] = _max_nan(b[j - j0], v)
        lo = a[0]
        hi = b[0]
        for q in range(j1 - j0):
            lo = _min_nan(lo, a[q])
            hi = _max_nan(hi, b[q])
        mn[i] = lo
        mx[i] = hi


@njit(**FRESH)
def env_cols_dataset(x4, c0, c1):
    """Fresh-output form of :func:`env_cols_dataset_into`."""
    H = x4.shape[1]
    mn = np.empty(H, x4.dtype)
    mx = np.empty(H, x4.dtype)
    env_cols_dataset_into(x4, c0, c1, mn, mx)
    return mn, mx


@njit(**JIT)
def env_cols_frames_into(x4, c0, c1, mn, mx):
    """Columns c0..c1-1: per frame (prange) min/max over (H, band, C) -> curves of length T."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    j0 = c0 * C
    j1 = c1 * C
    for t in prange(T):
        a = x[t, 0, j0:j1].copy()
        b = x[t, 0, j0:j1].copy()
        for i in range(H):
            for j in range(j0, j1):
                v = x[t, i, j]
                a[j - j0] = _min_nan(a[j - j0], v)
                b[j - j0] = _max_nan(b[j - j0], v)
        lo = a[0]
        hi = b[0]
        for q in range(j1 - j0):
            lo = _min_nan(lo, a[q])
            hi = _max_nan(hi, b[q])
        mn[t] = lo
        mx[t] = hi


@njit(**FRESH)
def env_cols_frames(x4, c0, c1):
    """Fresh-output form of :func:`env_cols_frames_into`."""
    T = x4.shape[0]
    mn = np.empty(T, x4.dtype)
    mx = np.empty(T, x4.dtype)
    env_cols_frames_into(x4, c0, c1, mn, mx)
    return mn, mx


# ---------------------------------------------------------------------------------------------
# polygon: apply (select with a precomputed mask) and ROI series (over precomputed row spans)
# ---------------------------------------------------------------------------------------------

@njit(**JIT)
def apply_polygon_into(x4, mask, fill, out4):
    """out[t] = x[t] where mask else fill; ``mask`` (H, W·C) bool is computed once (setup, like
    rumba's compile), ``fill`` has the output dtype (0 in the stack dtype, or f32 NaN)."""
    T, H, W, C = x4.shape
    WC = W * C
    x = x4.reshape((T, H, WC))
    out = out4.reshape((T, H, WC))
    for t in prange(T):
        for i in range(H):
            for j in range(WC):
                out[t, i, j] = x[t, i, j] if mask[i, j] else fill


@njit(**FRESH)
def apply_polygon(x4, mask, fill, out_dtype):
    """Fresh-output form of :func:`apply_polygon_into` (``out_dtype``: ``fill``'s type)."""
    out = np.empty(x4.shape, out_dtype)
    apply_polygon_into(x4, mask, fill, out)
    return out


@njit(**JIT)
def roi_series_into(x4, rows, j0s, j1s, zero, mean, mn, mx):
    """Per frame (prange): mean (f64/int64 sum -> f32), min and max (input dtype) of the pixels
    inside the polygon, given as row spans [j0, j1) of W·C, NaN skipped; an all-NaN frame gives
    NaN."""
    T, H, W, C = x4.shape
    x = x4.reshape((T, H, W * C))
    nspan = rows.shape[0]
    for t in prange(T):
        s = zero
        n = 0
        first = x[t, rows[0], j0s[0]]
        lo = first
        hi = first
        for q in range(nspan):
            i = rows[q]
            for j in range(j0s[q], j1s[q]):
                v = x[t, i, j]
                if v == v:
                    s += v
                    n += 1
                    lo = v if (v < lo) | (lo != lo) else lo
                    hi = v if (v > hi) | (hi != hi) else hi
        mean[t] = s / n if n > 0 else np.nan
        mn[t] = lo
        mx[t] = hi


@njit(**FRESH)
def roi_series(x4, rows, j0s, j1s, zero):
    """Fresh-output form of :func:`roi_series_into`."""
    T = x4.shape[0]
    mean = np.empty(T, np.float32)
    mn = np.empty(T, x4.dtype)
    mx = np.empty(T, x4.dtype)
    roi_series_into(x4, rows, j0s, j1s, zero, mean, mn, mx)
    return mean, mn, mx


# ---------------------------------------------------------------------------------------------
# STREAM-style bandwidth kernels (bytes counted as STREAM does: copy 8, read 4 per f32 element)
# ---------------------------------------------------------------------------------------------

@njit(parallel=True, cache=True)
def stream_copy(a, b):
    """b[i] = a[i] over f32 arrays."""
    for i in prange(a.size):
        b[i] = a[i]


@njit(parallel=True, cache=True)
def stream_read(bits):
    """Σ of the array's bits viewed as uint32 (``a.view(np.uint32)``), in int64: an integer
    reduction, which the compiler vectorises without fastmath (an f32 sum must stay sequential,
    and Numba's 16-lane accumulator arrays stay in memory: both read at 60–70 % of this)."""
    s = 0
    for i in prange(bits.size):
        s += bits[i]
    return s


# ---------------------------------------------------------------------------------------------
# geometry (computed once per stack shape, outside the timed calls)
# ---------------------------------------------------------------------------------------------

def polygon_mask(vertices, height: int, width: int) -> np.ndarray:
    """bool (H, W): pixel (i, j) is inside iff its centre (j + 0.5, i + 0.5) is inside by the
    even-odd rule, each edge counted when (y0 > py) != (y1 > py) and
    px < x0 + (py - y0)·(x1 - x0)/(y1 - y0), evaluated in f64 in that order."""
    px = np.arange(width, dtype=np.float64) + 0.5
    py = np.arange(height, dtype=np.float64) + 0.5
    inside = np.zeros((height, width), bool)
    n = len(vertices)
    for k in range(n):
        x0, y0 = (float(v) for v in vertices[k])
        x1, y1 = (float(v) for v in vertices[(k + 1) % n])
        if y0 == y1:
            continue
        straddles = (y0 > py) != (y1 > py)
        crossing = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
        inside ^= straddles[:, None] & (px[None, :] < crossing[:, None])
    return inside


def mask_spans(mask: np.ndarray, channels: int):
    """Row spans (rows, j0, j1) of a bool (H, W) mask, in units of the W·C axis."""
    rows, j0s, j1s = [], [], []
    for i in range(mask.shape[0]):
        m = np.concatenate(([False], mask[i], [False]))
        edges = np.flatnonzero(m[1:] != m[:-1])
        for a, b in zip(edges[::2], edges[1::2]):
            rows.append(i)
            j0s.append(a * channels)
            j1s.append(b * channels)
    as64 = lambda v: np.asarray(v, np.int64)  # noqa: E731
    return as64(rows), as64(j0s), as64(j1s)


PENTAGON = [[180.5, 120.0], [330.0, 140.25], [380.75, 290.5], [256.0, 400.0], [140.0, 300.0]]
"""The ROI pentagon of benches/common/workload.rs, for a 512 × 512 image."""


@dataclass
class Geometry:
    """What the workloads derive from a (T, H, W, C) stack, as benches/common/workload.rs does:
    the row band H/2 ± 5, the column band W/2 ± 3 (7 columns), the pentagon scaled by
    (W/512, H/512), its mask and row spans."""

    shape: tuple
    row_pos: int = 0
    row_band: tuple = (0, 0)
    col_pos: int = 0
    col_band: tuple = (0, 0)
    pentagon: list = field(default_factory=list)
    mask: np.ndarray | None = None
    mask_wc: np.ndarray | None = None
    spans: tuple = ()

    @classmethod
    def of(cls, shape) -> "Geometry":
        """The geometry of a stack of ``shape``."""
        T, H, W, C = shape
        rp, cp = H // 2, W // 2
        sx, sy = W / 512.0, H / 512.0
        pent = [[x * sx, y * sy] for x, y in PENTAGON]
        mask = polygon_mask(pent, H, W)
        return cls(tuple(shape), rp, (max(rp - 5, 0), min(rp + 6, H)), cp, (max(cp - 3, 0), min(cp + 4, W)),
                   pent, mask, np.repeat(mask, C, axis=1), mask_spans(mask, C))

    def inside(self) -> int:
        """Pixels (per channel) inside the pentagon."""
        return int(self.mask.sum())


# ---------------------------------------------------------------------------------------------
# NumPy versions: what a NumPy user writes (whole-array operations, a temporary per step)
# ---------------------------------------------------------------------------------------------

def _np_finish(v, d):
    """v / d in place, then NaN/±Inf -> 0 (covers d == 0 too)."""
    with np.errstate(all="ignore"):
        np.divide(v, d, out=v)
    return np.nan_to_num(v, copy=False, nan=0.0, posinf=0.0, neginf=0.0)


def np_pipeline_frames(frames, r_sub, r_div, a_s, a_d):
    """The pipeline on ``frames`` with f32 references (broadcasting), f32 after every step."""
    v = frames.astype(F32)  # a copy, also for f32 input
    with np.errstate(all="ignore"):
        v -= F32(a_s) * r_sub
        d = F32(a_d) * r_div + F32(1.0 - a_d)
    return _np_finish(v, d)


def _np_window_sums(a, size):
    """Σ a[k : k + size] along T for every k, by cumulative sums."""
    K = a.shape[0] - size + 1
    c = np.cumsum(a, axis=0)
    out = c[size - 1:].copy()
    out[1:] -= c[:K - 1]
    return out


def _np_running_sums(x, size, shifted: bool):
    """Window sums along T of d and d² and the NaN count per window: d = x exactly in int64 for
    integers (count None); for floats d = x - x[0] if ``shifted`` (else x), in f64, NaNs
    counted and left out of the sums."""
    if x.dtype.kind in "ui":
        d = x.astype(np.int64)
        s1 = _np_window_sums(d, size)
        return s1, _np_window_sums(d * d, size), None
    d = x.astype(np.float64)
    if shifted:
        d -= np.nan_to_num(d[:1], nan=0.0)
    nan = np.isnan(d)
    d[nan] = 0.0
    return _np_window_sums(d, size), _np_window_sums(d * d, size), _np_window_sums(nan.astype(np.int32), size)


def np_window_mean(x, size):
    """Sliding mean along T (cumulative sums, exact for integers), f32; NaN propagates."""
    T, H, W, C = x.shape
    if T - size + 1 <= 0:
        return np.empty((0, H, W, C), F32)
    if x.dtype.kind in "ui":
        return (_np_window_sums(x.astype(np.int64), size) / size).astype(F32)
    d = x.astype(np.float64)
    nan = np.isnan(d)
    d[nan] = 0.0
    m = (_np_window_sums(d, size) / size).astype(F32)
    m[_np_window_sums(nan.astype(np.int32), size) > 0] = np.nan
    return m


def np_window_std(x, size):
    """Sliding population std along T (cumulative shifted sums), f32."""
    T, H, W, C = x.shape
    if T - size + 1 <= 0:
        return np.empty((0, H, W, C), F32)
    s1, s2, cnt = _np_running_sums(x, size, shifted=True)
    var = (size * s2 - s1 * s1) / float(size * size)
    np.maximum(var, 0.0, out=var)
    r = np.sqrt(var).astype(F32)
    if cnt is not None:
        r[cnt > 0] = np.nan
    return r


def np_window_minmax(x, size, fn):
    """Sliding min or max (``fn`` = np.minimum / np.maximum) along T: one pass per window offset."""
    T, H, W, C = x.shape
    K = T - size + 1
    if K <= 0:
        return np.empty((0, H, W, C), x.dtype)
    out = x[:K].copy()
    for j in range(1, size):
        fn(out, x[j:j + K], out=out)
    return out


def np_window_median(x, size):
    """Sliding median along T via a sliding-window view, f32."""
    T, H, W, C = x.shape
    if T - size + 1 <= 0:
        return np.empty((0, H, W, C), F32)
    v = np.lib.stride_tricks.sliding_window_view(x, size, axis=0)
    return np.median(v, axis=-1).astype(F32)


def np_sliding_mean(x, window, lag):
    """S[n] = mean(x[lag+1+n : lag+1+n+window]) as f32 (cumulative sums)."""
    T = x.shape[0]
    N = T - lag - window
    return np_window_mean(x[lag + 1:], window)[:max(N, 0)]


def np_roi(x, mask):
    """ROI series with NumPy: gather the inside pixels, NaN-skipping statistics per frame."""
    T = x.shape[0]
    vals = x[:, mask, :].reshape(T, -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if vals.dtype.kind == "f":
            return (np.nanmean(vals, axis=1, dtype=np.float64).astype(F32), np.nanmin(vals, axis=1),
                    np.nanmax(vals, axis=1))
        return vals.mean(axis=1, dtype=np.float64).astype(F32), vals.min(axis=1), vals.max(axis=1)


# ---------------------------------------------------------------------------------------------
# per-workload entry points: f(x, ctx) -> tuple of outputs; f_into(x, ctx, outs)
# ---------------------------------------------------------------------------------------------

RANGE_LAST = 9          # range reference: frames 0..=9
SLIDING = (10, 5)       # window, lag of the sliding normalisation
SLIDER_FRAMES = 4096    # frames of the slider's stack at full size


@dataclass
class Ctx:
    """Run-time arguments of one call: amounts, slider start, the file reference and geometry."""

    geo: Geometry
    a_s: float = 1.0
    a_d: float = 1.0
    start: int = 0
    bg: np.ndarray | None = None
    size: int = 0  # window size of the extra window rows

    def f32(self):
        """(f32(a_s), f32(a_d), f32(1 - a_d) formed in f64), as the pipeline uses them."""
        return F32(self.a_s), F32(self.a_d), F32(1.0 - self.a_d)


def _b1(x):
    return min(RANGE_LAST, x.shape[0] - 1) + 1


def _count_zero(x):
    return np.uint16(0) if x.shape[0] < 65536 else np.int32(0)


NUMBA = {
    "range_norm": lambda x, c: (range_norm(x, _b1(x), *c.f32(), acc_zero(x.dtype)),),
    "file_norm": lambda x, c: (file_norm(x, c.bg, *c.f32()),),
    "sliding_norm": lambda x, c: (sliding_norm(x, SLIDING[0], SLIDING[1], *c.f32(), acc_zero(x.dtype)),),
    "slider": lambda x, c: (slider_frame(x, c.bg, c.start, *c.f32()),),
    "mean_t": lambda x, c: (mean_t(x, acc_zero(x.dtype)),),
    "std_t": lambda x, c: (std_t(x, acc_zero(x.dtype)),),
    "min_t": lambda x, c: (min_t(x),),
    "max_t": lambda x, c: (max_t(x),),
    "median_t": lambda x, c: ((median_t_u8(x, _count_zero(x)) if x.dtype == np.uint8 else median_t_select(x)),),
    "env_row_dataset": lambda x, c: env_rows_dataset(x, *c.geo.row_band),
    "env_row_frames": lambda x, c: env_rows_frames(x, *c.geo.row_band),
    "env_col_dataset": lambda x, c: env_cols_dataset(x, *c.geo.col_band),
    "env_col_frames": lambda x, c: env_cols_frames(x, *c.geo.col_band),
    "polygon_fill0": lambda x, c: (apply_polygon(x, c.geo.mask_wc, x.dtype.type(0), x.dtype.type),),
    "polygon_fillnan": lambda x, c: (apply_polygon(x, c.geo.mask_wc, F32(np.nan), np.float32),),
    "roi_series": lambda x, c: roi_series(x, *c.geo.spans, acc_zero(x.dtype)),
    "window_mean": lambda x, c: (window_mean(x, c.size, acc_zero(x.dtype)),),
    "window_std": lambda x, c: (window_std(x, c.size, acc_zero(x.dtype)),),
    "window_min": lambda x, c: (window_min(x, c.size),),
    "window_max": lambda x, c: (window_max(x, c.size),),
    "window_median": lambda x, c: (window_median_int(x, c.size),),
}
"""Fresh-output Numba form of every workload (key = workload family)."""


def _median_into(x, c, o):
    if x.dtype == np.uint8:
        median_t_u8_into(x, _count_zero(x), o[0])
    else:
        median_t_select_into(x, o[0])


NUMBA_INTO = {
    "range_norm": lambda x, c, o: range_norm_into(x, _b1(x), *c.f32(), acc_zero(x.dtype), o[0]),
    "file_norm": lambda x, c, o: file_norm_into(x, c.bg, *c.f32(), o[0]),
    "sliding_norm": lambda x, c, o: sliding_norm_into(x, SLIDING[0], SLIDING[1], *c.f32(), acc_zero(x.dtype), o[0]),
    "slider": lambda x, c, o: slider_frame_into(x, c.bg, c.start, *c.f32(), o[0]),
    "mean_t": lambda x, c, o: mean_t_into(x, acc_zero(x.dtype), o[0]),
    "std_t": lambda x, c, o: std_t_into(x, acc_zero(x.dtype), o[0]),
    "min_t": lambda x, c, o: min_t_into(x, o[0]),
    "max_t": lambda x, c, o: max_t_into(x, o[0]),
    "median_t": _median_into,
    "env_row_dataset": lambda x, c, o: env_rows_dataset_into(x, *c.geo.row_band, *o),
    "env_row_frames": lambda x, c, o: env_rows_frames_into(x, *c.geo.row_band, *o),
    "env_col_dataset": lambda x, c, o: env_cols_dataset_into(x, *c.geo.col_band, *o),
    "env_col_frames": lambda x, c, o: env_cols_frames_into(x, *c.geo.col_band, *o),
    "polygon_fill0": lambda x, c, o: apply_polygon_into(x, c.geo.mask_wc, x.dtype.type(0), o[0]),
    "polygon_fillnan": lambda x, c, o: apply_polygon_into(x, c.geo.mask_wc, F32(np.nan), o[0]),
    "roi_series": lambda x, c, o: roi_series_into(x, *c.geo.spans, acc_zero(x.dtype), *o),
    "window_mean": lambda x, c, o: window_mean_into(x, c.size, acc_zero(x.dtype), o[0]),
    "window_std": lambda x, c, o: window_std_into(x, c.size, acc_zero(x.dtype), o[0]),
    "window_min": lambda x, c, o: window_min_into(x, c.size, o[0]),
    "window_max": lambda x, c, o: window_max_into(x, c.size, o[0]),
    "window_median": lambda x, c, o: window_median_int_into(x, c.size, o[0]),
}
"""Out= Numba form of every workload: writes the caller's arrays ``o`` (graph output order)."""


def _np_range_norm(x, c):
    r = x[:_b1(x)].mean(axis=0, dtype=np.float64, keepdims=True).astype(F32)
    return (np_pipeline_frames(x, r, r, c.a_s, c.a_d),)


def _np_sliding_norm(x, c):
    window, lag = SLIDING
    s = np_sliding_mean(x, window, lag)
    return (np_pipeline_frames(x[lag + 1:lag + 1 + s.shape[0]], s, s, c.a_s, c.a_d),)


def _np_env(x, band, orientation, over):
    b = x[:, band[0]:band[1]] if orientation == "h" else x[:, :, band[0]:band[1]]
    axes = (1, 2, 3) if over == "frames" else ((0, 1, 3) if orientation == "h" else (0, 2, 3))
    return b.min(axis=axes), b.max(axis=axes)


NUMPY = {
    "range_norm": _np_range_norm,
    "file_norm": lambda x, c: (np_pipeline_frames(x, c.bg, c.bg, c.a_s, c.a_d),),
    "sliding_norm": _np_sliding_norm,
    "slider": lambda x, c: (np_pipeline_frames(x[c.start:c.start + 1], c.bg, c.bg, c.a_s, c.a_d),),
    "mean_t": lambda x, c: (x.mean(axis=0, dtype=np.float64, keepdims=True).astype(F32),),
    "std_t": lambda x, c: (x.std(axis=0, dtype=np.float64, keepdims=True).astype(F32),),
    "min_t": lambda x, c: (x.min(axis=0, keepdims=True),),
    "max_t": lambda x, c: (x.max(axis=0, keepdims=True),),
    "median_t": lambda x, c: (np.median(x, axis=0, keepdims=True).astype(F32),),
    "env_row_dataset": lambda x, c: _np_env(x, c.geo.row_band, "h", "dataset"),
    "env_row_frames": lambda x, c: _np_env(x, c.geo.row_band, "h", "frames"),
    "env_col_dataset": lambda x, c: _np_env(x, c.geo.col_band, "v", "dataset"),
    "env_col_frames": lambda x, c: _np_env(x, c.geo.col_band, "v", "frames"),
    "polygon_fill0": lambda x, c: (np.where(c.geo.mask[None, :, :, None], x, x.dtype.type(0)),),
    "polygon_fillnan": lambda x, c: (np.where(c.geo.mask[None, :, :, None], x, F32(np.nan)),),
    "roi_series": lambda x, c: np_roi(x, c.geo.mask),
    "window_mean": lambda x, c: (np_window_mean(x, c.size),),
    "window_std": lambda x, c: (np_window_std(x, c.size),),
    "window_min": lambda x, c: (np_window_minmax(x, c.size, np.minimum),),
    "window_max": lambda x, c: (np_window_minmax(x, c.size, np.maximum),),
    "window_median": lambda x, c: (np_window_median(x, c.size),),
}
"""NumPy version of every workload."""


def stream_arrays(elements: int = 64 << 20):
    """The two STREAM arrays (64 Mi f32 = 256 MiB each by default), written once."""
    a = np.full(elements, 1.0, F32)
    b = np.full(elements, 2.0, F32)
    return a, b


def is_nan_capable(dtype) -> bool:
    """Whether a stack of ``dtype`` can hold NaN."""
    return np.dtype(dtype).kind == "f"


__all__ = ["NUMBA", "NUMBA_INTO", "NUMPY", "Ctx", "Geometry", "acc_zero", "stream_copy", "stream_read",
           "stream_arrays", "polygon_mask"]
