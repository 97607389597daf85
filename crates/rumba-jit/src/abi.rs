//! Everything `unsafe` in this crate: the host functions compiled kernels call, and calling a
//! compiled kernel through the `extern "C"` ABI of DESIGN §4.

use rumba_plan::running::{WindowSpec, WindowState};
use rumba_plan::{KernelArgs, SpanTable};
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::sync::atomic::{AtomicI64, Ordering};

/// A compiled kernel: runs tiles `tile_begin..tile_end` of its schedule.
pub type KernelFn = unsafe extern "C" fn(args: *const KernelArgs, tile_begin: i64, tile_end: i64);

/// Calls a compiled kernel.
///
/// # Safety
/// `f` must be a kernel compiled by this crate for a plan whose arguments `args` satisfy
/// [`rumba_plan::args::check_args`], its code must still be alive, and no concurrent call may
/// write the elements tiles `tile_begin..tile_end` write.
pub unsafe fn call(f: KernelFn, args: &KernelArgs, tile_begin: i64, tile_end: i64) {
    // SAFETY: the caller guarantees the contract above; the function follows the kernel ABI.
    unsafe { f(args, tile_begin, tile_end) }
}

/// Turns the address of finalized code into a kernel function.
///
/// # Safety
/// `code` must point to a finalized function with the kernel ABI signature.
pub(crate) unsafe fn kernel_fn(code: *const u8) -> KernelFn {
    // SAFETY: the caller guarantees `code` is a function of exactly this signature.
    unsafe { std::mem::transmute::<*const u8, KernelFn>(code) }
}

pub(crate) extern "C" fn exp_f32(x: f32) -> f32 {
    x.exp()
}
pub(crate) extern "C" fn exp_f64(x: f64) -> f64 {
    x.exp()
}
pub(crate) extern "C" fn ln_f32(x: f32) -> f32 {
    x.ln()
}
pub(crate) extern "C" fn ln_f64(x: f64) -> f64 {
    x.ln()
}

fn layout(bytes: i64) -> Layout {
    Layout::from_size_align(bytes.max(8) as usize, 16).expect("a valid scratch layout")
}

/// The state of a running window over `lanes` lanes (`rumba_plan::running`), freed with
/// [`window_free`].
pub(crate) extern "C" fn window_new(spec: *const WindowSpec, lanes: i64) -> *mut WindowState {
    // SAFETY: `spec` points into the compiled unit's window specs, which live as long as its
    // code (the kernel that calls this).
    let spec = unsafe { &*spec };
    Box::into_raw(Box::new(WindowState::new(spec, lanes.max(0) as usize)))
}

pub(crate) extern "C" fn window_free(state: *mut WindowState) {
    // SAFETY: `state` came from `window_new` in the same kernel call and is freed once.
    drop(unsafe { Box::from_raw(state) });
}

/// Window operations, by code: 0 reset, 1 push row `a`, 2 end the rebuild, 3 step with rows
/// `a` (entering) and `b` (leaving), 4 finish into row `a`.
pub(crate) extern "C" fn window_op(state: *mut WindowState, op: i64, a: *mut f64, b: *const f64) {
    // SAFETY: `state` came from `window_new` and is used by this kernel call only.
    let state = unsafe { &mut *state };
    let lanes = state.lanes();
    // SAFETY (rows): the kernel passes rows of its scratch holding one f64 per lane of the
    // state, not otherwise accessed while this call runs (`a` and `b` are distinct rows).
    let row = |p: *const f64| unsafe { std::slice::from_raw_parts(p, lanes) };
    match op {
        0 => state.reset(),
        1 => state.push(row(a)),
        2 => state.end_rebuild(),
        3 => state.step(row(a), row(b)),
        // SAFETY: as for the rows above; `a` is written here only.
        _ => state.finish(unsafe { std::slice::from_raw_parts_mut(a, lanes) }),
    }
}

/// Zeroed scratch memory for accumulators (freed with [`scratch_free`]).
pub(crate) extern "C" fn scratch_alloc(bytes: i64) -> *mut u8 {
    // SAFETY: the layout has a non-zero size; a null result aborts below.
    let p = unsafe { alloc_zeroed(layout(bytes)) };
    if p.is_null() {
        std::alloc::handle_alloc_error(layout(bytes));
    }
    p
}

pub(crate) extern "C" fn scratch_free(p: *mut u8, bytes: i64) {
    // SAFETY: `p` came from `scratch_alloc(bytes)` in the same kernel call.
    unsafe { dealloc(p, layout(bytes)) }
}

/// The median (`percentile` < 0) or the percentile of `n` collected values, bit-identical to
/// the evaluator's [`rumba_plan::eval::order_statistic`] (NaN if empty or if one is NaN, else
/// the same elements of the `total_cmp` order and the same arithmetic on them), but by
/// selection instead of a full sort: `f64::total_cmp` is a total order in which equal values
/// have equal bits, so the k-th element after `select_nth_unstable_by` is exactly the k-th of
/// the sorted slice, and the (k+1)-th is the least of the part above it.
pub(crate) extern "C" fn order_statistic(values: *mut f64, n: i64, percentile: f64) -> f64 {
    // SAFETY: the kernel passes its own scratch of at least `n` values for this lane.
    let v = unsafe { std::slice::from_raw_parts_mut(values, n as usize) };
    if v.is_empty() || v.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    let n = v.len();
    let kth = |v: &mut [f64], k: usize| *v.select_nth_unstable_by(k, f64::total_cmp).1;
    let least = |v: &[f64]| v.iter().copied().min_by(f64::total_cmp);
    let greatest = |v: &[f64]| v.iter().copied().max_by(f64::total_cmp);
    if percentile < 0.0 {
        let m = n / 2;
        let hi = kth(v, m);
        return match greatest(&v[..m]) {
            Some(lo) if n % 2 == 0 => (lo + hi) / 2.0,
            _ => hi,
        };
    }
    // NumPy's linear method, as the evaluator.
    let pos = (percentile / 100.0) * (n - 1) as f64;
    let lo = (pos.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let t = pos - lo as f64;
    let vlo = kth(v, lo);
    let vhi = if hi == lo {
        vlo
    } else {
        least(&v[lo + 1..]).unwrap_or(vlo)
    };
    vlo + (vhi - vlo) * t
}

/// The median (`percentile` < 0) or the percentile of `n` collected 32-bit keys of kind
/// `kind` (see [`crate::select`]), bit-identical to the evaluator's order statistic of the
/// values they decode to.
pub(crate) extern "C" fn order_statistic_keys(keys: *const i32, n: i64, percentile: f64, kind: i64) -> f64 {
    // SAFETY: the kernel passes its own scratch of at least `n` keys for this lane, not
    // written while this call runs.
    let keys = unsafe { std::slice::from_raw_parts(keys, n as usize) };
    crate::select::order_statistic(keys, percentile, kind)
}

/// Whether the CPU has AVX-512F (for [`kth_avx512`]).
pub(crate) fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The key of rank `k` of `keys` by a three-way quickselect whose partitions run 16 keys at
/// a time (AVX-512 compress into two of three buffers of `buffers.len() / 3` keys each, at
/// least `keys.len() + 16`). Without AVX-512 it selects in place of a copy.
pub(crate) fn kth_avx512(keys: &[i32], k: usize, buffers: &mut [i32]) -> i32 {
    assert!(
        k < keys.len() && buffers.len() / 3 >= keys.len() + 16,
        "kth_avx512 arguments"
    );
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU has AVX-512F (checked just above); the sizes are asserted above.
        return unsafe { x86::kth(keys, k, buffers) };
    }
    crate::select::kth_small(keys, k)
}

/// What one pass over the keys tells about a key `a` of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Keys at most `a`.
    pub at_most: usize,
    /// The least key above `a` (`i32::MAX` if none).
    pub next: i32,
    /// The least and the greatest key.
    pub min: i32,
    pub max: i32,
}

/// [`Scan`] of `keys` around `a`, 16 keys at a time where the CPU has AVX-512.
pub(crate) fn scan(keys: &[i32], a: i32) -> Scan {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU has AVX-512F (checked just above).
        return unsafe { x86::scan(keys, a) };
    }
    scan_scalar(keys, a)
}

/// [`scan`] without vectors (the path of CPUs without AVX-512).
pub(crate) fn scan_scalar(keys: &[i32], a: i32) -> Scan {
    Scan {
        at_most: keys.iter().filter(|&&x| x <= a).count(),
        next: keys.iter().copied().filter(|&x| x > a).fold(i32::MAX, i32::min),
        min: keys.iter().copied().fold(i32::MAX, i32::min),
        max: keys.iter().copied().fold(i32::MIN, i32::max),
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __mmask16, _mm512_mask_cmpgt_epi32_mask, _mm512_mask_cmple_epi32_mask, _mm512_mask_cmplt_epi32_mask,
        _mm512_mask_max_epi32, _mm512_mask_min_epi32, _mm512_maskz_compress_epi32, _mm512_maskz_loadu_epi32,
        _mm512_reduce_max_epi32, _mm512_reduce_min_epi32, _mm512_set1_epi32, _mm512_storeu_si512,
    };

    /// The mask of the first `min(rest, 16)` lanes.
    fn first_lanes(rest: usize) -> __mmask16 {
        if rest >= 16 { 0xFFFF } else { (1u16 << rest) - 1 }
    }

    /// See [`super::scan`].
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn scan(keys: &[i32], a: i32) -> super::Scan {
        let av = _mm512_set1_epi32(a);
        let mut next = _mm512_set1_epi32(i32::MAX);
        let (mut min, mut max) = (next, _mm512_set1_epi32(i32::MIN));
        let (mut above, mut i) = (0usize, 0usize);
        while i < keys.len() {
            let m = first_lanes(keys.len() - i);
            // SAFETY: the masked load reads only the keys of `keys` from `i` (masked-off lanes
            // do not fault).
            let x = unsafe { _mm512_maskz_loadu_epi32(m, keys.as_ptr().add(i)) };
            let gt = _mm512_mask_cmpgt_epi32_mask(m, x, av);
            above += gt.count_ones() as usize;
            next = _mm512_mask_min_epi32(next, gt, next, x);
            min = _mm512_mask_min_epi32(min, m, min, x);
            max = _mm512_mask_max_epi32(max, m, max, x);
            i += 16;
        }
        super::Scan {
            at_most: keys.len() - above,
            next: _mm512_reduce_min_epi32(next),
            min: _mm512_reduce_min_epi32(min),
            max: _mm512_reduce_max_epi32(max),
        }
    }

    /// Partition rounds before the scalar selection takes over (a guard against pivots that
    /// keep removing few keys; three-way partitions always remove the pivot's equals).
    const ROUNDS: usize = 64;
    /// Keys sampled for a pivot.
    const SAMPLES: usize = 9;

    /// A pivot near rank `k` of `s` (`s.len() > 16`): of nine keys spread evenly over `s`,
    /// the one at the same relative rank.
    fn pivot(s: &[i32], k: usize) -> i32 {
        let sample = sorted_sample(s);
        sample[(k * SAMPLES + SAMPLES / 2) / s.len()]
    }

    /// Two keys likely to bracket rank `k` of `s`: the sample keys on either side of `k`'s
    /// relative rank.
    fn bracket(s: &[i32], k: usize) -> (i32, i32) {
        let sample = sorted_sample(s);
        let j = (k * SAMPLES + SAMPLES / 2) / s.len();
        (sample[j.saturating_sub(1)], sample[(j + 1).min(SAMPLES - 1)])
    }

    /// Nine keys spread evenly over `s`, sorted.
    fn sorted_sample(s: &[i32]) -> [i32; SAMPLES] {
        let n = s.len();
        let mut sample = [0i32; SAMPLES];
        for (j, x) in sample.iter_mut().enumerate() {
            *x = s[j * (n - 1) / (SAMPLES - 1)];
        }
        // Odd-even transposition sort: branch-free compare-exchanges (random keys would
        // mispredict an insertion sort's branches).
        for round in 0..SAMPLES {
            for j in (round % 2..SAMPLES - 1).step_by(2) {
                let (a, b) = (sample[j], sample[j + 1]);
                sample[j] = a.min(b);
                sample[j + 1] = a.max(b);
            }
        }
        sample
    }

    /// The first round of [`kth`]: keys below `lo`, from `lo` to `hi`, and above `hi` into
    /// buffers 0, 1 and 2; returns the three counts.
    ///
    /// # Safety
    /// The CPU must have AVX-512F; each of the three buffers at `base`, `stride` keys apart,
    /// holds at least `s.len() + 16` keys.
    #[target_feature(enable = "avx512f")]
    unsafe fn split3(s: &[i32], lo: i32, hi: i32, base: *mut i32, stride: usize) -> [usize; 3] {
        let (lv, hv) = (_mm512_set1_epi32(lo), _mm512_set1_epi32(hi));
        let mut counts = [0usize; 3];
        let mut i = 0;
        while i < s.len() {
            let m = first_lanes(s.len() - i);
            // SAFETY: the masked load reads only keys of `s`; each store writes 16 keys at a
            // count ≤ `s.len()` of its own buffer (see the contract).
            unsafe {
                let x = _mm512_maskz_loadu_epi32(m, s.as_ptr().add(i));
                let below = _mm512_mask_cmplt_epi32_mask(m, x, lv);
                let above = _mm512_mask_cmpgt_epi32_mask(m, x, hv);
                let within = m & !below & !above;
                for (b, mask) in [below, within, above].into_iter().enumerate() {
                    let at = base.add(b * stride + counts[b]);
                    _mm512_storeu_si512(at.cast(), _mm512_maskz_compress_epi32(mask, x));
                    counts[b] += mask.count_ones() as usize;
                }
            }
            i += 16;
        }
        counts
    }

    /// The key of rank `k` of at most 16 keys: the one with fewer than `k + 1` keys below it
    /// and more than `k` at or below it.
    ///
    /// # Safety
    /// The CPU must have AVX-512F; `k < s.len() <= 16`.
    #[target_feature(enable = "avx512f")]
    unsafe fn kth16(s: &[i32], k: usize) -> i32 {
        let m = first_lanes(s.len());
        // SAFETY: the masked load reads only the keys of `s` (masked-off lanes do not fault).
        let x = unsafe { _mm512_maskz_loadu_epi32(m, s.as_ptr()) };
        // Branch-free: which candidate it is is unpredictable.
        let mut found = s[0];
        for &c in s {
            let cv = _mm512_set1_epi32(c);
            let below = _mm512_mask_cmplt_epi32_mask(m, x, cv).count_ones() as usize;
            let at_most = _mm512_mask_cmple_epi32_mask(m, x, cv).count_ones() as usize;
            found = if below <= k && k < at_most { c } else { found };
        }
        found
    }

    /// See [`super::kth_avx512`].
    ///
    /// # Safety
    /// The CPU must have AVX-512F; `k < keys.len()`; `buffers.len() / 3 >= keys.len() + 16`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn kth(keys: &[i32], mut k: usize, buffers: &mut [i32]) -> i32 {
        let stride = buffers.len() / 3;
        let base = buffers.as_mut_ptr();
        // The keys being partitioned: `keys` itself (buffer 3) or one of the three buffers.
        let (mut src, mut src_buf, mut len) = (keys.as_ptr(), 3usize, keys.len());
        if len > 64 {
            // A first round around two pivots likely to bracket rank `k`: usually only the
            // keys between them (about a fifth) go on.
            let (lo, hi) = bracket(keys, k);
            // SAFETY: the CPU has AVX-512F; the three buffers hold `stride` ≥ len + 16 keys.
            let counts = unsafe { split3(keys, lo, hi, base, stride) };
            let mut part = 0;
            while k >= counts[part] {
                k -= counts[part];
                part += 1;
            }
            // SAFETY: buffer `part` < 3 lies inside `buffers`.
            (src, src_buf, len) = (unsafe { base.add(part * stride) }, part, counts[part]);
        }
        for _ in 0..ROUNDS {
            // SAFETY: `src` points to `len` initialised keys (`keys`, or a region of
            // `buffers` filled by the previous round), not written while this round reads them.
            let s = unsafe { std::slice::from_raw_parts(src, len) };
            if len <= 16 {
                // SAFETY: the CPU has AVX-512F (this function's contract); `k < len <= 16`.
                return unsafe { kth16(s, k) };
            }
            let p = pivot(s, k);
            let (lt_buf, gt_buf) = match src_buf {
                0 => (1, 2),
                1 => (0, 2),
                _ => (0, 1),
            };
            // SAFETY: both regions lie inside `buffers` (`lt_buf`, `gt_buf` < 3) and differ
            // from the source region.
            let (lt, gt) = unsafe { (base.add(lt_buf * stride), base.add(gt_buf * stride)) };
            let pv = _mm512_set1_epi32(p);
            let (mut nl, mut ng, mut i) = (0usize, 0usize, 0usize);
            while i < len {
                let m = first_lanes(len - i);
                // SAFETY: the masked load reads only the `min(rest, 16)` keys of `s` from `i`
                // (masked-off lanes do not fault); each store writes 16 keys at `nl` (`ng`)
                // ≤ `len` - 16 + 16 ≤ `stride` keys into its own region. The keys beyond the
                // counts are overwritten by the next store or never read.
                unsafe {
                    let x = _mm512_maskz_loadu_epi32(m, src.add(i));
                    let ml = _mm512_mask_cmplt_epi32_mask(m, x, pv);
                    let mg = _mm512_mask_cmpgt_epi32_mask(m, x, pv);
                    _mm512_storeu_si512(lt.add(nl).cast(), _mm512_maskz_compress_epi32(ml, x));
                    _mm512_storeu_si512(gt.add(ng).cast(), _mm512_maskz_compress_epi32(mg, x));
                    nl += ml.count_ones() as usize;
                    ng += mg.count_ones() as usize;
                }
                i += 16;
            }
            let below_or_equal = len - ng;
            if k < nl {
                (src, src_buf, len) = (lt, lt_buf, nl);
            } else if k < below_or_equal {
                return p;
            } else {
                k -= below_or_equal;
                (src, src_buf, len) = (gt, gt_buf, ng);
            }
        }
        // SAFETY: as above, `src` holds `len` initialised keys, and `k < len`.
        crate::select::kth_small(unsafe { std::slice::from_raw_parts(src, len) }, k)
    }
}

/// Whether pixel (row, col) is inside a polygon's spans (1) or not (0).
pub(crate) extern "C" fn in_spans(table: *const SpanTable, row: i64, col: i64) -> i8 {
    // SAFETY: the address is of a span table owned by the compiled kernel, alive while its
    // code runs.
    let table = unsafe { &*table };
    i8::from(table.contains(row, col))
}

/// Records a run-time reduction failure: keeps the smallest `1 + index` (thread-count
/// independent).
pub(crate) extern "C" fn report_error(slot: *mut i64, value: i64) {
    // SAFETY: `slot` is `KernelArgs::error`, valid and 8-byte aligned for the whole call;
    // every writer uses atomic operations.
    let slot = unsafe { AtomicI64::from_ptr(slot) };
    let _ = slot.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
        (old == 0 || value < old).then_some(value)
    });
}
