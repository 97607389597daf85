//! The loops: domain points in row-major order, restricted to one range of tiles.
//!
//! Without reductions every point evaluates what the stores need and stores it. With
//! reductions, for each point of the outer axes `[0, f)` (`f` = the first reduced axis, all
//! outer axes parallel), every lane — a combination of the parallel axes among `[f, rank)` —
//! gets fresh accumulators; the inner points are visited in row-major order, each feeding the
//! accumulators of its lane; then, lane by lane in row-major order, the results are finished
//! and the epilogue runs at the lane's point with every reduced coordinate 0, and stores.
//!
//! A running window ([`crate::Running`]) sweeps its outputs `k` per point of the axes outside
//! them, keeping one [`WindowState`] per reduction for all the lanes of the tile: rows of
//! values (one per lane, in row-major lane order) are evaluated at the window positions a
//! rebuild or a step needs, and the finished rows feed the epilogue of every output from the
//! tile's first on.

use super::accumulate::Acc;
use super::memory::Memory;
use super::program::Program;
use super::scalar::Scalar;
use crate::plan::Running;
use crate::running::WindowState;

/// Runs tiles `tile_begin..tile_end` of the program's kernel.
pub(crate) fn run(prog: &Program<'_>, mem: &Memory<'_>, tile_begin: i64, tile_end: i64) {
    let kernel = prog.kernel;
    // An empty domain has no point to evaluate (and verify does not check its index maps).
    if kernel.points() == 0 {
        return;
    }
    let Some(bounds) = tile_bounds(prog, tile_begin, tile_end) else {
        return;
    };
    match (kernel.first_reduced(), &kernel.running) {
        (None, _) => elementwise(prog, mem, &bounds),
        (Some(_), Some(running)) => sweep(prog, mem, &bounds, running),
        (Some(f), None) => reduce(prog, mem, &bounds, f),
    }
}

/// The half-open range of every domain axis for these tiles; `None` if it holds no point.
fn tile_bounds(prog: &Program<'_>, tile_begin: i64, tile_end: i64) -> Option<Vec<(usize, usize)>> {
    let kernel = prog.kernel;
    let mut bounds: Vec<(usize, usize)> = kernel.domain.iter().map(|a| (0, a.extent)).collect();
    let Some(axis) = kernel.schedule.tile_axis else {
        return (tile_begin <= 0 && tile_end >= 1).then_some(bounds);
    };
    let len = kernel.schedule.tile_len.max(1);
    let extent = kernel.domain[axis].extent;
    let iteration = |tile: i64| {
        usize::try_from(tile.max(0))
            .unwrap_or(usize::MAX)
            .saturating_mul(len)
            .min(extent)
    };
    let (lo, hi) = (iteration(tile_begin), iteration(tile_end));
    bounds[axis] = (lo, hi);
    (lo < hi).then_some(bounds)
}

/// Sets the coordinates of `axes` to the first point of the box; false if the box is empty.
fn first(point: &mut [usize], axes: &[usize], bounds: &[(usize, usize)]) -> bool {
    for &a in axes {
        if bounds[a].0 >= bounds[a].1 {
            return false;
        }
        point[a] = bounds[a].0;
    }
    true
}

/// Steps the coordinates of `axes` to the next point in row-major order; false after the
/// last point (the coordinates are then back at the first point).
fn next(point: &mut [usize], axes: &[usize], bounds: &[(usize, usize)]) -> bool {
    for &a in axes.iter().rev() {
        point[a] += 1;
        if point[a] < bounds[a].1 {
            return true;
        }
        point[a] = bounds[a].0;
    }
    false
}

fn elementwise(prog: &Program<'_>, mem: &Memory<'_>, bounds: &[(usize, usize)]) {
    let axes: Vec<usize> = (0..bounds.len()).collect();
    let mut point = vec![0; bounds.len()];
    let mut values = vec![Scalar::F64(0.0); prog.kernel.exprs.len()];
    if !first(&mut point, &axes, bounds) {
        return;
    }
    loop {
        prog.eval(&prog.point, &point, mem, &mut values, &[]);
        for s in &prog.stores {
            mem.store(s.buffer, s.at.at(&point), values[s.value]);
        }
        if !next(&mut point, &axes, bounds) {
            return;
        }
    }
}

fn reduce(prog: &Program<'_>, mem: &Memory<'_>, bounds: &[(usize, usize)], f: usize) {
    let kernel = prog.kernel;
    let rank = bounds.len();
    let outer: Vec<usize> = (0..f).collect();
    let inner: Vec<usize> = (f..rank).collect();
    let lane_axes: Vec<usize> = (f..rank).filter(|&a| !kernel.domain[a].reduced).collect();
    let reduced_axes: Vec<usize> = (f..rank).filter(|&a| kernel.domain[a].reduced).collect();
    // Lanes are numbered in row-major order of their coordinates within the bounds.
    let mut lane_stride = vec![0; rank];
    let mut lanes = 1;
    for &a in lane_axes.iter().rev() {
        lane_stride[a] = lanes;
        lanes *= bounds[a].1 - bounds[a].0;
    }
    let n = kernel.reductions.len();
    let mut accs: Vec<Acc> = (0..lanes * n)
        .map(|k| Acc::new(&kernel.reductions[k % n].kind, kernel.moments(k % n)))
        .collect();
    let mut values = vec![Scalar::F64(0.0); kernel.exprs.len()];
    let mut results: Vec<Option<Scalar>> = vec![None; n];
    let mut point = vec![0; rank];
    if !first(&mut point, &outer, bounds) {
        return;
    }
    loop {
        accs.iter_mut().for_each(Acc::reset);
        if first(&mut point, &inner, bounds) {
            loop {
                prog.eval(&prog.point, &point, mem, &mut values, &[]);
                let lane: usize = lane_axes
                    .iter()
                    .map(|&a| (point[a] - bounds[a].0) * lane_stride[a])
                    .sum();
                for (k, r) in prog.reductions.iter().enumerate() {
                    if r.mask.is_some_and(|m| values[m].as_bool() == Some(false)) {
                        continue;
                    }
                    let value = values[r.value];
                    if r.skip_nan && value.is_nan() {
                        continue;
                    }
                    let weight = r.weight.map_or(1.0, |w| values[w].to_f64());
                    accs[lane * n + k].add(value, weight, r.max);
                }
                if !next(&mut point, &inner, bounds) {
                    break;
                }
            }
        }
        for &a in &reduced_axes {
            point[a] = 0;
        }
        let mut lane = 0;
        if first(&mut point, &lane_axes, bounds) {
            loop {
                for (k, result) in results.iter_mut().enumerate() {
                    *result = accs[lane * n + k].finish(&kernel.reductions[k], prog.reductions[k].value_dtype);
                    if result.is_none() {
                        mem.report(k);
                    }
                }
                prog.eval(&prog.lane, &point, mem, &mut values, &results);
                for s in prog
                    .stores
                    .iter()
                    .filter(|s| s.needs.iter().all(|&k| results[k].is_some()))
                {
                    mem.store(s.buffer, s.at.at(&point), values[s.value]);
                }
                lane += 1;
                if !next(&mut point, &lane_axes, bounds) {
                    break;
                }
            }
        }
        if !next(&mut point, &outer, bounds) {
            return;
        }
    }
}

/// A running window kernel (see the module docs).
fn sweep(prog: &Program<'_>, mem: &Memory<'_>, bounds: &[(usize, usize)], running: &Running) {
    let kernel = prog.kernel;
    let rank = bounds.len();
    let (k, j) = (running.axis, running.axis + 1);
    let size = kernel.domain[j].extent;
    let outer: Vec<usize> = (0..k).collect();
    let lane_axes: Vec<usize> = (j + 1..rank).collect();
    let lanes: usize = lane_axes.iter().map(|&a| bounds[a].1 - bounds[a].0).product();
    let n = kernel.reductions.len();
    let mut states: Vec<WindowState> = (0..n)
        .map(|r| {
            let spec = kernel
                .window_spec(r)
                .expect("verify checked the running window's reductions");
            WindowState::new(&spec, lanes)
        })
        .collect();
    let mut entering = vec![vec![0.0; lanes]; n];
    let mut leaving = vec![vec![0.0; lanes]; n];
    let mut finished = vec![vec![0.0; lanes]; n];
    let mut values = vec![Scalar::F64(0.0); kernel.exprs.len()];
    let mut results: Vec<Option<Scalar>> = vec![None; n];
    let (k_lo, k_hi) = bounds[k];
    let start = running.sweep_start(k_lo);
    let mut point = vec![0; rank];
    // Every lane's reduction values at the current (k, j) into `rows`.
    let fill = |point: &mut [usize], values: &mut [Scalar], rows: &mut [Vec<f64>]| {
        let mut lane = 0;
        if !first(point, &lane_axes, bounds) {
            return;
        }
        loop {
            prog.eval(&prog.point, point, mem, values, &[]);
            for (row, r) in rows.iter_mut().zip(&prog.reductions) {
                row[lane] = values[r.value].to_f64();
            }
            lane += 1;
            if !next(point, &lane_axes, bounds) {
                return;
            }
        }
    };
    if !first(&mut point, &outer, bounds) {
        return;
    }
    loop {
        for kk in start..k_hi {
            point[k] = kk;
            if running.rebuilds(kk, start) {
                states.iter_mut().for_each(WindowState::reset);
                for jj in 0..size {
                    point[j] = jj;
                    fill(&mut point, &mut values, &mut entering);
                    for (state, row) in states.iter_mut().zip(&entering) {
                        state.push(row);
                    }
                }
                states.iter_mut().for_each(WindowState::end_rebuild);
            } else {
                point[j] = size - 1;
                fill(&mut point, &mut values, &mut entering);
                (point[k], point[j]) = (kk - 1, 0);
                fill(&mut point, &mut values, &mut leaving);
                point[k] = kk;
                for ((state, e), l) in states.iter_mut().zip(&entering).zip(&leaving) {
                    state.step(e, l);
                }
            }
            if kk < k_lo {
                continue;
            }
            for (state, row) in states.iter_mut().zip(finished.iter_mut()) {
                state.finish(row);
            }
            point[j] = 0;
            let mut lane = 0;
            if first(&mut point, &lane_axes, bounds) {
                loop {
                    for (r, result) in results.iter_mut().enumerate() {
                        *result = Some(Scalar::from_f64(kernel.reductions[r].dtype, finished[r][lane]));
                    }
                    prog.eval(&prog.lane, &point, mem, &mut values, &results);
                    for s in &prog.stores {
                        mem.store(s.buffer, s.at.at(&point), values[s.value]);
                    }
                    lane += 1;
                    if !next(&mut point, &lane_axes, bounds) {
                        break;
                    }
                }
            }
        }
        if !next(&mut point, &outer, bounds) {
            return;
        }
    }
}
