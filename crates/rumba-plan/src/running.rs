//! Windows with running state (DESIGN §5): the per-lane algorithms a [`crate::Running`]
//! kernel's window reductions use, shared by every backend — the plan evaluator calls them
//! row by row, compiled kernels call them through host functions — so the backends agree bit
//! for bit by construction.
//!
//! A lane is one output coordinate off the window's axis (a pixel of a window along T). Its
//! window slides along the running axis: output `k` reduces the values at window positions
//! `k … k + size − 1`. A [`WindowState`] holds the state of a row of lanes. At a *rebuild*
//! (the first output of a sweep, and every output whose index is a multiple of the kind's
//! restart period) the state is reset and fed the window's `size` values in order
//! ([`WindowState::push`], then [`WindowState::end_rebuild`]); every other output *steps*
//! ([`WindowState::step`]) with the value entering the window (position `k + size − 1`) and
//! the one leaving it (`k − 1`). [`WindowState::finish`] gives every lane's statistic in
//! f64, which the kernel rounds once to the reduction's dtype. Values come as f64 (exact for
//! every dtype).
//!
//! Algorithms, by kind and value class ([`Algorithm`]):
//!
//! - **sum/mean of integers** (sums below 2⁵³): an exact i64 running sum — the same bits as
//!   the per-window sequential f64 sum; no restart needed.
//! - **sum/mean of floats**: an f64 running sum of the finite values (the entering value is
//!   added, then the leaving one subtracted), with NaN, +∞ and −∞ counted apart; restart every
//!   `size` outputs. The result is NaN with a NaN (unless `skip_nan`) or with both infinities,
//!   ±∞ with one of them, else the sum (divided by the count of values for a mean).
//! - **var/std, integer moments** (`rumba_ir::numerics::integer_moments`): exact running
//!   `Σx`, `Σx²`; no restart.
//! - **var/std, other values**: running sums of `d = x − a` and `d²` over the finite values,
//!   `a` the first finite value fed at the last rebuild (0 if none), NaN and ±∞ counted apart;
//!   restart every `size` outputs; any infinity gives NaN, as does a NaN unless `skip_nan`.
//! - **min/max**: van Herk–Gil-Werman. At a rebuild the window's values are kept as suffix
//!   extremes `S[i] = op(x[b+i], …, x[b+size−1])`; each step folds the entering value into a
//!   running prefix `P`, and output `b + i` is `op(S[i], P)`. Restart every `size` outputs
//!   (a block of the algorithm). NaN propagates (or, with `skip_nan`, is ignored). Exact, up
//!   to the sign of a zero and NaN payloads (DESIGN §5).
//! - **median/percentile of u8**: a 256-bin histogram per lane and the bin of the lower rank
//!   followed from output to output (it moves a few bins at most between neighbours); no
//!   restart.
//! - **median/percentile of other values**: the window's non-NaN values kept sorted in
//!   `total_cmp` order, NaN counted apart; no restart.
//!
//! Order statistics use the same values and formula as `crate::eval::order_statistic`, so
//! they are bit-identical to the interpreter's; float running sums and moments agree with the
//! per-window interpreter within DESIGN §5's tolerance (`4·size·2⁻⁵³·Σ|x|` over the values
//! absorbed since the last restart), which the plan tests check.

use rumba_ir::DType;
use rumba_ir::numerics::{Moments, percentile_position, var_from_integer_moments, var_from_shifted_sums};
use rumba_ir::op::ReduceKind;

/// What one running window reduction computes.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowSpec {
    /// The statistic.
    pub kind: ReduceKind,
    /// The dtype of the values (before the f64 conversion).
    pub value: DType,
    /// Window length (≥ 1).
    pub size: usize,
    /// NaN values are ignored.
    pub skip_nan: bool,
}

/// The per-lane algorithm of a [`WindowSpec`] (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// Exact i64 running sum.
    IntSum,
    /// f64 running sum of finite values with NaN/±∞ counts.
    FloatSum,
    /// Exact running Σx, Σx².
    IntMoments,
    /// f64 running shifted sums with NaN/∞ counts.
    Shifted,
    /// van Herk–Gil-Werman min/max.
    Extreme,
    /// Per-lane 256-bin histogram (u8 order statistics).
    Histogram,
    /// Per-lane sorted window (other order statistics).
    Sorted,
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Algorithm::IntSum => "exact integer sum",
            Algorithm::FloatSum => "f64 running sum",
            Algorithm::IntMoments => "exact integer moments",
            Algorithm::Shifted => "f64 running shifted moments",
            Algorithm::Extreme => "van Herk-Gil-Werman",
            Algorithm::Histogram => "256-bin histogram",
            Algorithm::Sorted => "sorted window",
        })
    }
}

impl WindowSpec {
    /// The algorithm for this window.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        let integer = !self.value.is_float();
        match self.kind {
            ReduceKind::Sum | ReduceKind::Mean => {
                let max: u64 = match self.value {
                    DType::U8 => u8::MAX.into(),
                    DType::U16 => u16::MAX.into(),
                    _ => 1 << 31,
                };
                let exact = (self.size as u64).checked_mul(max).is_some_and(|m| m < 1 << 53);
                if integer && exact {
                    Algorithm::IntSum
                } else {
                    Algorithm::FloatSum
                }
            }
            ReduceKind::Var | ReduceKind::Std => match Moments::of(self.value, self.size) {
                Moments::Integer => Algorithm::IntMoments,
                Moments::Shifted => Algorithm::Shifted,
            },
            ReduceKind::Min | ReduceKind::Max => Algorithm::Extreme,
            ReduceKind::Median | ReduceKind::Percentile(_) if self.value == DType::U8 && self.size <= 65_535 => {
                Algorithm::Histogram
            }
            ReduceKind::Median | ReduceKind::Percentile(_) => Algorithm::Sorted,
        }
    }

    /// The restart period: outputs whose index is a multiple of it rebuild the state
    /// (`None`: exact algorithms, rebuilt only where a sweep starts).
    #[must_use]
    pub fn restart(&self) -> Option<usize> {
        match self.algorithm() {
            Algorithm::FloatSum | Algorithm::Shifted | Algorithm::Extreme => Some(self.size.max(1)),
            Algorithm::IntSum | Algorithm::IntMoments | Algorithm::Histogram | Algorithm::Sorted => None,
        }
    }
}

/// Counts of the non-finite values in a window.
#[derive(Clone, Copy, Debug, Default)]
struct Specials {
    nan: u32,
    pinf: u32,
    ninf: u32,
}

impl Specials {
    /// Counts `x` in (`add`) or out if it is not finite; whether it was not finite.
    fn count(&mut self, x: f64, add: bool) -> bool {
        let slot = if x.is_nan() {
            &mut self.nan
        } else if x == f64::INFINITY {
            &mut self.pinf
        } else if x == f64::NEG_INFINITY {
            &mut self.ninf
        } else {
            return false;
        };
        if add {
            *slot += 1;
        } else {
            *slot -= 1;
        }
        true
    }
}

/// The state of a row of lanes.
#[derive(Clone, Debug)]
enum Lanes {
    IntSum(Vec<i64>),
    FloatSum(Vec<f64>, Vec<Specials>),
    IntMoments(Vec<(i64, i64)>),
    /// (a, Σd, Σd²) per lane.
    Shifted(Vec<(f64, f64, f64)>, Vec<Specials>),
    /// Suffix extremes (`size` per lane, lane-major) and the running prefix per lane.
    Extreme {
        suffix: Vec<f64>,
        prefix: Vec<f64>,
    },
    /// 256 counts per lane, and per lane the bin of the lower rank and the count below it.
    Histogram {
        counts: Vec<u16>,
        bin: Vec<(u16, u32)>,
    },
    /// `size` slots per lane (the first `len` sorted), the length and the NaN count.
    Sorted {
        values: Vec<f64>,
        len: Vec<(u32, u32)>,
    },
}

/// The running state of one window reduction over a row of lanes (see the module docs).
#[derive(Clone, Debug)]
pub struct WindowState {
    spec: WindowSpec,
    lanes: usize,
    /// Pushes since the last reset (rebuild) or steps since the last rebuild (min/max).
    position: usize,
    state: Lanes,
}

impl WindowState {
    /// A state for `lanes` lanes.
    #[must_use]
    pub fn new(spec: &WindowSpec, lanes: usize) -> WindowState {
        let size = spec.size.max(1);
        let state = match spec.algorithm() {
            Algorithm::IntSum => Lanes::IntSum(vec![0; lanes]),
            Algorithm::FloatSum => Lanes::FloatSum(vec![0.0; lanes], vec![Specials::default(); lanes]),
            Algorithm::IntMoments => Lanes::IntMoments(vec![(0, 0); lanes]),
            Algorithm::Shifted => Lanes::Shifted(vec![(f64::NAN, 0.0, 0.0); lanes], vec![Specials::default(); lanes]),
            Algorithm::Extreme => Lanes::Extreme {
                suffix: vec![0.0; lanes * size],
                prefix: vec![0.0; lanes],
            },
            Algorithm::Histogram => Lanes::Histogram {
                counts: vec![0; lanes * 256],
                bin: vec![(0, 0); lanes],
            },
            Algorithm::Sorted => Lanes::Sorted {
                values: vec![0.0; lanes * size],
                len: vec![(0, 0); lanes],
            },
        };
        WindowState {
            spec: spec.clone(),
            lanes,
            position: 0,
            state,
        }
    }

    /// The number of lanes.
    #[must_use]
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// Empties every lane's window (the start of a rebuild).
    pub fn reset(&mut self) {
        self.position = 0;
        match &mut self.state {
            Lanes::IntSum(s) => s.fill(0),
            Lanes::FloatSum(s, c) => {
                s.fill(0.0);
                c.fill(Specials::default());
            }
            Lanes::IntMoments(m) => m.fill((0, 0)),
            Lanes::Shifted(m, c) => {
                m.fill((f64::NAN, 0.0, 0.0));
                c.fill(Specials::default());
            }
            Lanes::Extreme { .. } => {}
            Lanes::Histogram { counts, bin } => {
                counts.fill(0);
                bin.fill((0, 0));
            }
            Lanes::Sorted { len, .. } => len.fill((0, 0)),
        }
    }

    /// Feeds the next window position's value of every lane during a rebuild (`row` has one
    /// value per lane).
    ///
    /// # Panics
    /// If `row` is shorter than the lanes, or more than `size` values are pushed.
    pub fn push(&mut self, row: &[f64]) {
        let (size, j) = (self.spec.size, self.position);
        assert!(j < size, "more than {size} values pushed into a window");
        let row = &row[..self.lanes];
        match &mut self.state {
            Lanes::IntSum(s) => s.iter_mut().zip(row).for_each(|(s, &x)| *s += x as i64),
            Lanes::FloatSum(s, c) => {
                for ((s, c), &x) in s.iter_mut().zip(c.iter_mut()).zip(row) {
                    if !c.count(x, true) {
                        *s += x;
                    }
                }
            }
            Lanes::IntMoments(m) => {
                for ((s1, s2), &x) in m.iter_mut().zip(row) {
                    let x = x as i64;
                    *s1 += x;
                    *s2 += x * x;
                }
            }
            Lanes::Shifted(m, c) => {
                for ((a, s1, s2), (c, &x)) in m.iter_mut().zip(c.iter_mut().zip(row)) {
                    if c.count(x, true) {
                        continue;
                    }
                    if a.is_nan() {
                        *a = x;
                    }
                    let d = x - *a;
                    *s1 += d;
                    *s2 += d * d;
                }
            }
            Lanes::Extreme { suffix, .. } => {
                for (q, &x) in row.iter().enumerate() {
                    suffix[q * size + j] = x;
                }
            }
            Lanes::Histogram { counts, .. } => {
                for (q, &x) in row.iter().enumerate() {
                    counts[q * 256 + x as usize] += 1;
                }
            }
            Lanes::Sorted { values, len } => {
                for (q, &x) in row.iter().enumerate() {
                    sorted_insert(&mut values[q * size..(q + 1) * size], &mut len[q], x);
                }
            }
        }
        self.position += 1;
    }

    /// Ends a rebuild: every lane holds its whole window.
    ///
    /// # Panics
    /// If fewer than `size` values were pushed.
    pub fn end_rebuild(&mut self) {
        let size = self.spec.size;
        assert_eq!(
            self.position, size,
            "a window rebuilt from {} of {size} values",
            self.position
        );
        let (max, skip) = (self.is_max(), self.spec.skip_nan);
        match &mut self.state {
            Lanes::Shifted(m, _) => {
                // A lane without a finite value shifts by 0.
                for (a, _, _) in m.iter_mut() {
                    if a.is_nan() {
                        *a = 0.0;
                    }
                }
            }
            Lanes::Extreme { suffix, prefix } => {
                for lane in suffix.chunks_mut(size) {
                    for i in (0..size - 1).rev() {
                        lane[i] = extreme(lane[i], lane[i + 1], max, skip);
                    }
                }
                prefix.fill(identity(max, skip));
            }
            _ => {}
        }
        self.position = 0;
    }

    /// Slides every lane's window one output on: `entering` is the value at the new last
    /// position, `leaving` the value at the old first one.
    ///
    /// # Panics
    /// If a row is shorter than the lanes, or (min/max) the state was not rebuilt within the
    /// last `size` outputs.
    pub fn step(&mut self, entering: &[f64], leaving: &[f64]) {
        let (entering, leaving) = (&entering[..self.lanes], &leaving[..self.lanes]);
        let (max, skip, size) = (self.is_max(), self.spec.skip_nan, self.spec.size);
        match &mut self.state {
            Lanes::IntSum(s) => {
                for ((s, &x), &y) in s.iter_mut().zip(entering).zip(leaving) {
                    *s += x as i64;
                    *s -= y as i64;
                }
            }
            Lanes::FloatSum(s, c) => {
                for (((s, c), &x), &y) in s.iter_mut().zip(c.iter_mut()).zip(entering).zip(leaving) {
                    if !c.count(x, true) {
                        *s += x;
                    }
                    if !c.count(y, false) {
                        *s -= y;
                    }
                }
            }
            Lanes::IntMoments(m) => {
                for (((s1, s2), &x), &y) in m.iter_mut().zip(entering).zip(leaving) {
                    let (x, y) = (x as i64, y as i64);
                    *s1 += x;
                    *s2 += x * x;
                    *s1 -= y;
                    *s2 -= y * y;
                }
            }
            Lanes::Shifted(m, c) => {
                for (((a, s1, s2), c), (&x, &y)) in m.iter_mut().zip(c.iter_mut()).zip(entering.iter().zip(leaving)) {
                    if !c.count(x, true) {
                        let d = x - *a;
                        *s1 += d;
                        *s2 += d * d;
                    }
                    if !c.count(y, false) {
                        let d = y - *a;
                        *s1 -= d;
                        *s2 -= d * d;
                    }
                }
            }
            Lanes::Extreme { prefix, .. } => {
                assert!(self.position + 1 < size, "a min/max window stepped past its block");
                for (p, &x) in prefix.iter_mut().zip(entering) {
                    *p = extreme(*p, x, max, skip);
                }
            }
            Lanes::Histogram { counts, bin } => {
                for (q, (&x, &y)) in entering.iter().zip(leaving).enumerate() {
                    let (x, y) = (x as usize, y as usize);
                    let (b, below) = &mut bin[q];
                    counts[q * 256 + x] += 1;
                    counts[q * 256 + y] -= 1;
                    // The count below the tracked bin follows the values entering and leaving.
                    *below = *below + u32::from(x < usize::from(*b)) - u32::from(y < usize::from(*b));
                }
            }
            Lanes::Sorted { values, len } => {
                for (q, (&x, &y)) in entering.iter().zip(leaving).enumerate() {
                    let lane = &mut values[q * size..(q + 1) * size];
                    sorted_remove(lane, &mut len[q], y);
                    sorted_insert(lane, &mut len[q], x);
                }
            }
        }
        self.position += 1;
    }

    /// Every lane's statistic of its current window, in f64.
    ///
    /// # Panics
    /// If `out` is shorter than the lanes.
    pub fn finish(&mut self, out: &mut [f64]) {
        let out = &mut out[..self.lanes];
        let spec = &self.spec;
        let (size, skip) = (spec.size, spec.skip_nan);
        let mean = spec.kind == ReduceKind::Mean;
        let std = spec.kind == ReduceKind::Std;
        let std_or_var = |v: f64| if std { v.sqrt() } else { v };
        match &mut self.state {
            Lanes::IntSum(s) => {
                for (o, &s) in out.iter_mut().zip(s.iter()) {
                    *o = if mean { s as f64 / size as f64 } else { s as f64 };
                }
            }
            Lanes::FloatSum(s, c) => {
                for ((o, &s), c) in out.iter_mut().zip(s.iter()).zip(c.iter()) {
                    let n = if skip { size - c.nan as usize } else { size };
                    *o = if (c.nan > 0 && !skip) || (c.pinf > 0 && c.ninf > 0) || n == 0 {
                        f64::NAN
                    } else if c.pinf > 0 {
                        f64::INFINITY
                    } else if c.ninf > 0 {
                        f64::NEG_INFINITY
                    } else if mean {
                        s / n as f64
                    } else {
                        s
                    };
                }
            }
            Lanes::IntMoments(m) => {
                for (o, &(s1, s2)) in out.iter_mut().zip(m.iter()) {
                    *o = std_or_var(var_from_integer_moments(size as i64, s1, s2));
                }
            }
            Lanes::Shifted(m, c) => {
                for ((o, &(_, s1, s2)), c) in out.iter_mut().zip(m.iter()).zip(c.iter()) {
                    let n = if skip { size - c.nan as usize } else { size };
                    *o = if c.pinf + c.ninf > 0 || (c.nan > 0 && !skip) || n == 0 {
                        f64::NAN
                    } else {
                        std_or_var(var_from_shifted_sums(n as f64, s1, s2))
                    };
                }
            }
            Lanes::Extreme { suffix, prefix } => {
                let (max, i) = (spec.kind == ReduceKind::Max, self.position);
                for (q, (o, &p)) in out.iter_mut().zip(prefix.iter()).enumerate() {
                    *o = extreme(suffix[q * size + i], p, max, skip);
                }
            }
            Lanes::Histogram { counts, bin } => {
                let (lo, hi, t) = order_ranks(spec.kind, size);
                for (q, o) in out.iter_mut().enumerate() {
                    let h = &counts[q * 256..(q + 1) * 256];
                    let (b, below) = &mut bin[q];
                    let (mut at, mut under) = (usize::from(*b), *below as usize);
                    // Move to the bin holding rank `lo`: below it `under ≤ lo < under + h[at]`.
                    while under > lo {
                        at -= 1;
                        under -= usize::from(h[at]);
                    }
                    while under + usize::from(h[at]) <= lo {
                        under += usize::from(h[at]);
                        at += 1;
                    }
                    (*b, *below) = (at as u16, under as u32);
                    let v_lo = at as f64;
                    let v_hi = if hi < under + usize::from(h[at]) {
                        v_lo
                    } else {
                        (at + 1..256).find(|&v| h[v] > 0).unwrap_or(at) as f64
                    };
                    *o = order_value(spec.kind, v_lo, v_hi, t);
                }
            }
            Lanes::Sorted { values, len } => {
                for (q, o) in out.iter_mut().enumerate() {
                    let (n, nan) = (len[q].0 as usize, len[q].1);
                    *o = if (nan > 0 && !skip) || n == 0 {
                        f64::NAN
                    } else {
                        let v = &values[q * size..q * size + n];
                        let (lo, hi, t) = order_ranks(spec.kind, n);
                        order_value(spec.kind, v[lo], v[hi], t)
                    };
                }
            }
        }
    }

    fn is_max(&self) -> bool {
        self.spec.kind == ReduceKind::Max
    }
}

/// The largest median/percentile window of u8/u16 values the JIT selects with a network in
/// vector lanes instead of keeping running state: such windows stay per-window (measured on a
/// (400, 512, 512, 1) u8 stack at window 10: 145 ms with the network against 2.5 s with the
/// running histogram, whose per-lane bins do not stay in cache).
pub const NETWORK_MAX_VALUES: usize = 24;

/// The ranks `lo ≤ hi` in `n ≥ 1` sorted values an order statistic reads (median: the middle
/// one, or the two middle ones) and the weight `t` of `hi` (`order_value` combines them as
/// the evaluator does).
#[must_use]
pub fn order_ranks(kind: ReduceKind, n: usize) -> (usize, usize, f64) {
    match kind {
        ReduceKind::Percentile(q) => percentile_position(q.0, n),
        _ if n % 2 == 1 => (n / 2, n / 2, 0.0),
        _ => (n / 2 - 1, n / 2, 0.5),
    }
}

/// The order statistic from its two values, as `crate::eval::order_statistic` computes it.
fn order_value(kind: ReduceKind, lo: f64, hi: f64, t: f64) -> f64 {
    match kind {
        ReduceKind::Percentile(_) => lo + (hi - lo) * t,
        // An odd count has lo == hi and the value itself.
        _ if t == 0.0 => lo,
        _ => (lo + hi) / 2.0,
    }
}

/// The identity of a min/max fold: ∓∞, or NaN when NaN values are skipped (NaN is then the
/// "no value" a fold ignores).
fn identity(max: bool, skip_nan: bool) -> f64 {
    match (skip_nan, max) {
        (true, _) => f64::NAN,
        (false, true) => f64::NEG_INFINITY,
        (false, false) => f64::INFINITY,
    }
}

/// min or max of two values: NaN-propagating, or NaN-ignoring with `skip_nan`.
fn extreme(a: f64, b: f64, max: bool, skip_nan: bool) -> f64 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => a,
        (true, false) => {
            if skip_nan {
                b
            } else {
                a
            }
        }
        (false, true) => {
            if skip_nan {
                a
            } else {
                b
            }
        }
        (false, false) => {
            if (max && b > a) || (!max && b < a) {
                b
            } else {
                a
            }
        }
    }
}

/// Inserts `x` into a lane's sorted values (`len.0` of them; NaN only counted in `len.1`).
fn sorted_insert(lane: &mut [f64], len: &mut (u32, u32), x: f64) {
    if x.is_nan() {
        len.1 += 1;
        return;
    }
    let n = len.0 as usize;
    let at = lane[..n].partition_point(|v| v.total_cmp(&x).is_lt());
    lane.copy_within(at..n, at + 1);
    lane[at] = x;
    len.0 += 1;
}

/// Removes one `x` (same bits) from a lane's sorted values.
///
/// # Panics
/// If the lane does not hold `x` (the state and the values fed disagree).
fn sorted_remove(lane: &mut [f64], len: &mut (u32, u32), x: f64) {
    if x.is_nan() {
        len.1 -= 1;
        return;
    }
    let n = len.0 as usize;
    let at = lane[..n].partition_point(|v| v.total_cmp(&x).is_lt());
    assert!(
        at < n && lane[at].to_bits() == x.to_bits(),
        "a leaving value the window does not hold"
    );
    lane.copy_within(at + 1..n, at);
    len.0 -= 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Accumulate;
    use rumba_ir::op::F64;

    /// A window's statistic computed directly (the interpreter's rules).
    fn direct(spec: &WindowSpec, window: &[f64]) -> f64 {
        let mut v: Vec<f64> = window.to_vec();
        if spec.skip_nan {
            v.retain(|x| !x.is_nan());
        }
        if v.is_empty() {
            return f64::NAN;
        }
        match spec.kind {
            ReduceKind::Sum => v.iter().sum(),
            ReduceKind::Mean => v.iter().sum::<f64>() / v.len() as f64,
            ReduceKind::Var | ReduceKind::Std => {
                let m = v.iter().sum::<f64>() / v.len() as f64;
                let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64;
                if spec.kind == ReduceKind::Std { var.sqrt() } else { var }
            }
            ReduceKind::Min | ReduceKind::Max if v.iter().any(|x| x.is_nan()) => f64::NAN,
            ReduceKind::Min => v.iter().copied().fold(f64::INFINITY, f64::min),
            ReduceKind::Max => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            kind => crate::eval::order_statistic(&mut v, &Accumulate::Stat(kind)),
        }
    }

    /// Sweeps `series` (one per lane) as a running kernel does and checks every output.
    fn sweep(spec: &WindowSpec, series: &[Vec<f64>]) {
        let (lanes, n, size) = (series.len(), series[0].len(), spec.size);
        let mut state = WindowState::new(spec, lanes);
        let column = |t: usize| -> Vec<f64> { series.iter().map(|s| s[t]).collect() };
        let mut out = vec![0.0; lanes];
        for k in 0..=n - size {
            let rebuild = k == 0 || spec.restart().is_some_and(|r| k % r == 0);
            if rebuild {
                state.reset();
                for j in 0..size {
                    state.push(&column(k + j));
                }
                state.end_rebuild();
            } else {
                state.step(&column(k + size - 1), &column(k - 1));
            }
            state.finish(&mut out);
            for (q, &got) in out.iter().enumerate() {
                let want = direct(spec, &series[q][k..k + size]);
                let ok = if want.is_nan() {
                    got.is_nan()
                } else if want.is_infinite() {
                    got == want
                } else {
                    let scale = series[q][k..k + size]
                        .iter()
                        .filter(|x| x.is_finite())
                        .map(|x| x.abs())
                        .fold(1.0, f64::max);
                    (got - want).abs() <= 1e-9 * scale * scale
                };
                assert!(
                    ok,
                    "{spec:?} ({}) lane {q} output {k}: {got} vs {want}",
                    spec.algorithm()
                );
            }
        }
    }

    #[test]
    fn every_algorithm_follows_its_windows() {
        let mut seed = 17u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        let kinds = [
            ReduceKind::Sum,
            ReduceKind::Mean,
            ReduceKind::Var,
            ReduceKind::Std,
            ReduceKind::Min,
            ReduceKind::Max,
            ReduceKind::Median,
            ReduceKind::Percentile(F64(30.0)),
        ];
        for value in [DType::U8, DType::U16, DType::F32] {
            let series: Vec<Vec<f64>> = (0..5)
                .map(|_| {
                    (0..40)
                        .map(|_| {
                            let u = next();
                            match value {
                                DType::U8 => (u * 256.0).floor(),
                                DType::U16 => (u * 65536.0).floor(),
                                _ if u < 0.05 => f64::NAN,
                                _ if u < 0.07 => f64::INFINITY,
                                _ if u < 0.09 => f64::NEG_INFINITY,
                                _ => u * 100.0 - 50.0,
                            }
                        })
                        .collect()
                })
                .collect();
            for kind in kinds {
                for size in [1, 2, 3, 7, 40] {
                    for skip_nan in [false, true] {
                        sweep(
                            &WindowSpec {
                                kind,
                                value,
                                size,
                                skip_nan,
                            },
                            &series,
                        );
                    }
                }
            }
        }
    }
}
