//! Everything `unsafe` in this crate: the host functions compiled kernels call, and calling a
//! compiled kernel through the `extern "C"` ABI of DESIGN §4.

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
