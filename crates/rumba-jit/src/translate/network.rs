//! Order statistics of a few integer values by a selection network: median and percentile
//! reductions of u8/u16 values over at most [`NETWORK_MAX_VALUES`] points (a sliding median
//! over a short window, a median over a few frames) keep each point's values position-major
//! at their native width, and the epilogue runs a fixed sequence of `min`/`max` steps on whole
//! vectors — sixteen u8 lanes per instruction, no host call and no branch per lane.
//!
//! The network is Batcher's merge exchange (Knuth, TAOCP vol. 3, §5.2.2, Algorithm M), which
//! sorts any `n`, pruned backwards to the comparators that reach the two ranks the statistic
//! needs (`rumba_plan::running::order_ranks`); where only one side of a comparator is read
//! later, only that side is computed. The result is the evaluator's formula on the two ranked
//! values, so it is bit for bit the interpreter's.

use rumba_ir::DType;
use rumba_ir::op::ReduceKind;
use rumba_plan::Accumulate;
use rumba_plan::running::{NETWORK_MAX_VALUES, order_ranks};

/// One step of a pruned network: the positions it compares and which results are kept
/// (`min` goes to `a`, `max` to `b`, `a < b`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Step {
    pub a: usize,
    pub b: usize,
    pub min: bool,
    pub max: bool,
}

/// A selection network for the ranks `lo ≤ hi` of `n` values, and how the statistic follows
/// from them.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Network {
    pub steps: Vec<Step>,
    pub lo: usize,
    pub hi: usize,
    /// The interpolation weight of `hi` (`rumba_plan::running::order_ranks`).
    pub t: f64,
    /// Whether the statistic is a percentile (`lo + (hi − lo)·t`) rather than a median.
    pub percentile: bool,
}

impl Network {
    /// The network for reduction kind `kind` over `capacity` values of `vd`, when it applies:
    /// median or percentile of u8/u16 values, every lane seeing every point (`counted`
    /// false), no running state, an f32 result, 2 … `NETWORK_MAX_VALUES` values.
    pub fn plan(
        kind: &Accumulate,
        vd: DType,
        result: DType,
        capacity: i64,
        counted: bool,
        running: bool,
    ) -> Option<Network> {
        let Accumulate::Stat(stat @ (ReduceKind::Median | ReduceKind::Percentile(_))) = kind else {
            return None;
        };
        let n = usize::try_from(capacity).ok()?;
        if !(2..=NETWORK_MAX_VALUES).contains(&n)
            || counted
            || running
            || result != DType::F32
            || !matches!(vd, DType::U8 | DType::U16)
        {
            return None;
        }
        let (lo, hi, t) = order_ranks(*stat, n);
        Some(Network {
            steps: prune(&merge_exchange(n), &[lo, hi]),
            lo,
            hi,
            t,
            percentile: matches!(stat, ReduceKind::Percentile(_)),
        })
    }

    /// Whether the statistic is exact in f32 arithmetic on values below 2¹⁶: a rank itself
    /// (`t = 0`) or the mean of two ranks (`(lo + hi)/2`, both sums and halves exact).
    pub fn exact_in_f32(&self) -> bool {
        self.t == 0.0 || !self.percentile
    }
}

/// Batcher's merge exchange for `n` values: comparators `(i, j)`, `i < j`, in order; after
/// them position `k` holds the `k`-th smallest value.
fn merge_exchange(n: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if n < 2 {
        return out;
    }
    let t = usize::BITS - (n - 1).leading_zeros();
    let mut p = 1usize << (t - 1);
    while p > 0 {
        let (mut q, mut r, mut d) = (1usize << (t - 1), 0usize, p);
        loop {
            out.extend((0..n - d).filter(|&i| i & p == r).map(|i| (i, i + d)));
            if q == p {
                break;
            }
            d = q - p;
            q >>= 1;
            r = p;
        }
        p >>= 1;
    }
    out
}

/// The comparators of `network` that reach `outputs`, each with the sides read later.
fn prune(network: &[(usize, usize)], outputs: &[usize]) -> Vec<Step> {
    let n = network
        .iter()
        .map(|&(_, b)| b + 1)
        .max()
        .unwrap_or(0)
        .max(outputs.iter().map(|&o| o + 1).max().unwrap_or(0));
    let mut needed = vec![false; n];
    for &o in outputs {
        needed[o] = true;
    }
    let mut steps = Vec::new();
    for &(a, b) in network.iter().rev() {
        let (min, max) = (needed[a], needed[b]);
        if min || max {
            steps.push(Step { a, b, min, max });
            needed[a] = true;
            needed[b] = true;
        }
    }
    steps.reverse();
    steps
}

/// Runs `steps` on `values` (one entry per position); `extreme(max, x, y)` is the caller's
/// `max(x, y)` or `min(x, y)`.
pub(super) fn run<V: Copy>(steps: &[Step], values: &mut [V], extreme: &mut dyn FnMut(bool, V, V) -> V) {
    for s in steps {
        let (x, y) = (values[s.a], values[s.b]);
        if s.min {
            values[s.a] = extreme(false, x, y);
        }
        if s.max {
            values[s.b] = extreme(true, x, y);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(steps: &[Step], values: &mut [u32]) {
        run(steps, values, &mut |max, a, b| if max { a.max(b) } else { a.min(b) });
    }

    #[test]
    fn merge_exchange_sorts_every_zero_one_input() {
        // The zero-one principle: a comparator network that sorts every 0/1 input sorts all.
        for n in 1..=16usize {
            let network = merge_exchange(n);
            let all: Vec<Step> = network
                .iter()
                .map(|&(a, b)| Step {
                    a,
                    b,
                    min: true,
                    max: true,
                })
                .collect();
            for bits in 0u32..(1 << n) {
                let mut v: Vec<u32> = (0..n).map(|k| (bits >> k) & 1).collect();
                apply(&all, &mut v);
                assert!(v.windows(2).all(|w| w[0] <= w[1]), "n {n}, input {bits:b}: {v:?}");
            }
        }
    }

    #[test]
    fn pruned_networks_select_the_ranks_of_random_values() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for n in 2..=NETWORK_MAX_VALUES {
            for kind in [ReduceKind::Median, ReduceKind::Percentile(rumba_ir::op::F64(10.0))] {
                let net = Network::plan(&Accumulate::Stat(kind), DType::U8, DType::F32, n as i64, false, false)
                    .expect("a network");
                assert!(net.steps.len() <= merge_exchange(n).len());
                for _ in 0..200 {
                    // Few distinct values, so ties are common.
                    let v: Vec<u32> = (0..n).map(|_| (next() % 7) as u32).collect();
                    let mut sorted = v.clone();
                    sorted.sort_unstable();
                    let mut got = v.clone();
                    apply(&net.steps, &mut got);
                    assert_eq!(
                        (got[net.lo], got[net.hi]),
                        (sorted[net.lo], sorted[net.hi]),
                        "n {n} {kind:?}: {v:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn only_small_integer_unmasked_reductions_get_a_network() {
        let median = Accumulate::Stat(ReduceKind::Median);
        assert!(Network::plan(&median, DType::U16, DType::F32, 10, false, false).is_some());
        assert!(Network::plan(&median, DType::F32, DType::F32, 10, false, false).is_none());
        assert!(Network::plan(&median, DType::U8, DType::F32, 10, true, false).is_none());
        assert!(Network::plan(&median, DType::U8, DType::F32, 10, false, true).is_none());
        assert!(Network::plan(&median, DType::U8, DType::F64, 10, false, false).is_none());
        assert!(Network::plan(&median, DType::U8, DType::F32, 1, false, false).is_none());
        let too_many = NETWORK_MAX_VALUES as i64 + 1;
        assert!(Network::plan(&median, DType::U8, DType::F32, too_many, false, false).is_none());
        assert!(Network::plan(&median, DType::U8, DType::F32, i64::MAX, false, false).is_none());
        assert!(
            Network::plan(
                &Accumulate::Stat(ReduceKind::Max),
                DType::U8,
                DType::F32,
                10,
                false,
                false
            )
            .is_none()
        );
    }
}
