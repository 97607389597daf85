//! Running windows: which window kernels keep running state (DESIGN §5, `rumba_plan::running`)
//! and how they are tiled.
//!
//! A window stage lays out its output axis `k` and, right inside it, the window's reduced
//! axis `j` (of extent `size`), whose loads read `k + j`. Such a kernel runs its window with
//! running state when:
//! - `j` is its only reduced axis and `k = j − 1` a parallel axis of at least two outputs;
//! - the window holds at least two values (a window of one is its value);
//! - every reduction is a statistic (a weighted window is a dot product per output: it keeps
//!   its per-window form, vectorised across the lanes) without a mask;
//! - every load the reductions read depends on `k` and `j` only through `k + j` (equal
//!   coefficients in every dimension), so output `k + 1`'s window is output `k`'s shifted by
//!   one;
//! - no reduction is a min/max (see `running_window`: measured slower than the per-window
//!   vector code for now).
//!
//! ```text
//! before:  i0<N  i1<10 reduced  i2<H  i3<W    r0 = mean(x[i0+i1+6, i2, i3])   (10 loads per output)
//! after:   the same loop nest, `running: axis i0, restart every 10`              (2 values per output)
//! ```
//!
//! Tiles of a running kernel cut a lane axis (one inside the window) when one has enough
//! iterations, so every tile sweeps the whole of `k` and rebuilds only at the restart points;
//! otherwise an axis outside `k`; `k` itself only as a last resort, in runs of whole restart
//! periods.

use super::{FuseOptions, MIN_TILES};
use rumba_ir::DType;
use rumba_ir::op::ReduceKind;
use rumba_plan::running::{Algorithm, NETWORK_MAX_VALUES, WindowSpec};
use rumba_plan::{Accumulate, Expr, Kernel, Running, Schedule};

/// The running form of a window kernel, or `None` when it has none (see the module docs).
pub(super) fn running_window(kernel: &Kernel) -> Option<Running> {
    let mut reduced = kernel.domain.iter().enumerate().filter(|(_, a)| a.reduced);
    let (j, window) = reduced.next()?;
    if reduced.next().is_some() || j == 0 || window.extent < 2 {
        return None;
    }
    let k = j - 1;
    if kernel.domain[k].reduced || kernel.domain[k].extent < 2 || kernel.reductions.is_empty() {
        return None;
    }
    for r in &kernel.reductions {
        if !matches!(r.kind, Accumulate::Stat(_)) || r.mask.is_some() {
            return None;
        }
    }
    let roots: Vec<usize> = kernel.reductions.iter().map(|r| r.value.0 as usize).collect();
    for e in kernel.closure(roots) {
        if let Expr::Load { load } = kernel.exprs[e].expr {
            let shifts_with_k = kernel.loads[load as usize]
                .map
                .dims
                .iter()
                .all(|d| d.coefs[k] == d.coefs[j]);
            if !shifts_with_k {
                return None;
            }
        }
        if let Expr::InSpans { row, col, .. } = &kernel.exprs[e].expr
            && (row.coefs[k] != row.coefs[j] || col.coefs[k] != col.coefs[j])
        {
            return None;
        }
    }
    let mut restart = None;
    for r in &kernel.reductions {
        let Accumulate::Stat(kind) = r.kind else { return None };
        let spec = WindowSpec {
            kind,
            value: kernel.exprs[r.value.0 as usize].dtype,
            size: window.extent,
            skip_nan: r.skip_nan,
        };
        // Float min/max that skip NaN keep their per-window form: their running state would
        // need a count per position, and the JIT runs them through host rows only.
        if spec.algorithm() == Algorithm::Extreme && spec.skip_nan && spec.value.is_float() {
            return None;
        }
        // Short u8/u16 median/percentile windows are selected per window by a network in
        // vector lanes (`rumba_plan::running::NETWORK_MAX_VALUES`).
        if matches!(spec.kind, ReduceKind::Median | ReduceKind::Percentile(_))
            && matches!(spec.value, DType::U8 | DType::U16)
            && spec.size <= NETWORK_MAX_VALUES
        {
            return None;
        }
        restart = restart.or(spec.restart());
    }
    Some(Running { axis: k, restart })
}

/// The tiles of a running kernel (see the module docs): about `options.tile_points` points of
/// one sweep per tile.
pub(super) fn schedule(domain: &[rumba_plan::Axis], running: &Running, options: &FuseOptions) -> Schedule {
    let k = running.axis;
    let lanes = domain
        .iter()
        .enumerate()
        .skip(k + 2)
        .find(|(_, a)| a.extent >= MIN_TILES);
    let outer = domain.iter().enumerate().take(k).find(|(_, a)| a.extent > 1);
    let (axis, len) = match (lanes, outer) {
        (Some((t, a)), _) => {
            // A tile: `len` iterations of the lane axis times the lane axes inside it.
            let inner: usize = domain[t + 1..].iter().map(|a| a.extent).product();
            let len = (options.tile_points / inner.max(1) / domain[k].extent.max(1)).max(1);
            (t, len.min(a.extent.div_ceil(MIN_TILES)).max(1))
        }
        (None, Some((t, _))) => (t, 1),
        (None, None) => {
            // Runs of whole restart periods, at least 4 of them, along k.
            let period = running.restart.unwrap_or(1);
            let len = (domain[k].extent.div_ceil(MIN_TILES)).max(4 * period);
            (k, len.div_ceil(period) * period)
        }
    };
    Schedule {
        tile_axis: Some(axis),
        tile_len: len.clamp(1, domain[axis].extent.max(1)),
        vector_width: 4,
    }
}
