//! Order statistics (median, percentile) of the values a compiled reduction collected, as
//! 32-bit keys.
//!
//! The evaluator's [`rumba_plan::eval::order_statistic`] sorts f64 values with
//! `f64::total_cmp` and takes one or two elements of the sorted order. A compiled kernel
//! collects every value that is not f64 as an `i32` key whose integer order *is* that order
//! (the value itself for integers; for f32 the bit pattern with the magnitude bits of negative
//! numbers flipped — `f32::total_cmp`'s own mapping, which orders −0.0 before +0.0), a key
//! decodes to exactly the value (f32 → f64 is exact), and equal keys are equal values. So the
//! k-th key by selection decodes to the k-th element of the evaluator's sorted slice, and the
//! same arithmetic on the same elements gives the same bits.
//!
//! Selection is a three-way quickselect whose partitions run 16 keys at a time with AVX-512
//! compress where the CPU has it (`abi::partition_avx512`), else `select_nth_unstable` —
//! linear time either way instead of the evaluator's sort, and 4-byte keys instead of f64.
//! u8 and u16 values are selected by counting instead: one pass of a 256-bin histogram
//! (u8), or a radix select — a histogram of the high bytes, then of the low bytes of the keys
//! in the bin that holds the rank (u16).

use crate::abi;
use std::cell::RefCell;

/// How a collected key decodes to its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// An integer value (u8, u16, i32, bool): the key is the value.
    Int = 0,
    /// An f32 value: the key is [`f32_key`] of it.
    F32 = 1,
    /// A u8 (or bool) value: selected by counting.
    U8 = 2,
    /// A u16 value: selected by radix counting.
    U16 = 3,
}

impl KeyKind {
    /// The code the kernel passes to the host function.
    pub fn code(self) -> i64 {
        self as i64
    }

    fn from_code(code: i64) -> KeyKind {
        match code {
            1 => KeyKind::F32,
            2 => KeyKind::U8,
            3 => KeyKind::U16,
            _ => KeyKind::Int,
        }
    }

    fn decode(self, key: i32) -> f64 {
        match self {
            KeyKind::Int | KeyKind::U8 | KeyKind::U16 => f64::from(key),
            KeyKind::F32 => f64::from(f32::from_bits(flip(key) as u32)),
        }
    }
}

/// `f32::total_cmp`'s mapping (an involution): negative numbers get their magnitude bits
/// flipped, so signed integer order is the total order.
fn flip(bits: i32) -> i32 {
    bits ^ (((bits >> 31) as u32) >> 1) as i32
}

/// The key of an f32 (what compiled kernels store; see the module notes).
#[cfg(test)]
pub(crate) fn f32_key(x: f32) -> i32 {
    flip(x.to_bits() as i32)
}

/// Whether an f32 key is a NaN: NaNs order beyond ±∞ in the total order.
fn is_nan_key(k: i32) -> bool {
    const POS_INF: i32 = 0x7F80_0000;
    // flip(-inf bits): 0xFF80_0000 ^ 0x7FFF_FFFF.
    const NEG_INF: i32 = 0x807F_FFFF_u32 as i32;
    !(NEG_INF..=POS_INF).contains(&k)
}

thread_local! {
    /// Partition buffers, reused by every call on a thread.
    static BUFFERS: RefCell<Vec<i32>> = const { RefCell::new(Vec::new()) };
}

/// The median (`percentile` < 0) or the percentile (NumPy's linear method) of `keys`
/// decoded by `kind` (the code of a [`KeyKind`]), bit-identical to the evaluator's
/// `order_statistic` on the decoded values: NaN if there are none or if one is NaN.
pub(crate) fn order_statistic(keys: &[i32], percentile: f64, kind: i64) -> f64 {
    let kind = KeyKind::from_code(kind);
    let n = keys.len();
    if n == 0 {
        return f64::NAN;
    }
    // The ranks the result needs: `lo`, and `lo + 1` with weight `t` (as the evaluator).
    let (lo, t) = if percentile < 0.0 {
        if n % 2 == 1 {
            (n / 2, None)
        } else {
            (n / 2 - 1, Some(0.5))
        }
    } else {
        let pos = (percentile / 100.0) * (n - 1) as f64;
        let lo = (pos.floor() as usize).min(n - 1);
        (lo, Some(pos - lo as f64))
    };
    let (a, b) = match kind {
        KeyKind::U8 => counting_pair(keys, lo),
        _ => {
            let a = match kind {
                KeyKind::U16 => radix_kth(keys, lo),
                _ => kth(keys, lo),
            };
            // One pass: the next key (for `lo + 1`) and the extremes (NaNs order beyond ±∞).
            let scan = abi::scan(keys, a);
            if kind == KeyKind::F32 && (is_nan_key(scan.min) || is_nan_key(scan.max)) {
                return f64::NAN;
            }
            let b = if scan.at_most > lo + 1 || scan.at_most == n {
                a
            } else {
                scan.next
            };
            (a, b)
        }
    };
    let (va, vb) = (kind.decode(a), kind.decode(b));
    match t {
        None => va,
        // The evaluator's median of an even count.
        Some(_) if percentile < 0.0 => (va + vb) / 2.0,
        Some(t) => va + (vb - va) * t,
    }
}

/// The keys of ranks `k` and `k + 1` (the last key if there is none) of u8 keys (0..=255),
/// by one pass of a histogram.
fn counting_pair(keys: &[i32], k: usize) -> (i32, i32) {
    let mut counts = [0u32; 256];
    for &key in keys {
        counts[(key & 0xff) as usize] += 1;
    }
    let (mut below, mut a) = (0usize, 0usize);
    while below + counts[a] as usize <= k {
        below += counts[a] as usize;
        a += 1;
    }
    let b = if k + 1 < below + counts[a] as usize || k + 1 >= keys.len() {
        a
    } else {
        (a + 1..256).find(|&v| counts[v] > 0).unwrap_or(a)
    };
    (a as i32, b as i32)
}

/// The key of rank `k` of u16 keys (0..=65535) by radix counting: the high byte's bin that
/// holds rank `k`, then the low byte among that bin's keys.
fn radix_kth(keys: &[i32], k: usize) -> i32 {
    let mut counts = [0u32; 256];
    for &key in keys {
        counts[((key >> 8) & 0xff) as usize] += 1;
    }
    let (mut below, mut high) = (0usize, 0usize);
    while below + counts[high] as usize <= k {
        below += counts[high] as usize;
        high += 1;
    }
    let mut low = [0u32; 256];
    for &key in keys {
        if (key >> 8) as usize == high {
            low[(key & 0xff) as usize] += 1;
        }
    }
    let mut at = 0usize;
    while below + low[at] as usize <= k {
        below += low[at] as usize;
        at += 1;
    }
    ((high << 8) | at) as i32
}

/// The key of rank `k` (0-based) of `keys`; `keys` is not changed.
fn kth(keys: &[i32], k: usize) -> i32 {
    BUFFERS.with(|b| {
        let mut buffers = b.borrow_mut();
        kth_with(keys, k, &mut buffers, abi::has_avx512())
    })
}

/// [`kth`] with the partition buffers and the choice of path given.
fn kth_with(keys: &[i32], k: usize, buffers: &mut Vec<i32>, avx512: bool) -> i32 {
    debug_assert!(k < keys.len());
    if avx512 {
        // Three buffers of n keys plus a vector of slack each (partitions store whole vectors).
        let stride = keys.len() + 16;
        if buffers.len() < 3 * stride {
            buffers.resize(3 * stride, 0);
        }
        return abi::kth_avx512(keys, k, &mut buffers[..3 * stride]);
    }
    buffers.clear();
    buffers.extend_from_slice(keys);
    *buffers.select_nth_unstable(k).1
}

/// Selection in a small slice (the end of the vector quickselect).
pub(crate) fn kth_small(keys: &[i32], k: usize) -> i32 {
    let mut v = [0i32; 32];
    let n = keys.len();
    if n <= v.len() {
        v[..n].copy_from_slice(keys);
        return *v[..n].select_nth_unstable(k).1;
    }
    let mut v = keys.to_vec();
    *v.select_nth_unstable(k).1
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumba_ir::op::{F64, ReduceKind};
    use rumba_plan::Accumulate;

    /// A deterministic generator (xorshift) for test data.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn evaluator(values: &[f64], percentile: f64) -> f64 {
        let kind = if percentile < 0.0 {
            Accumulate::Stat(ReduceKind::Median)
        } else {
            Accumulate::Stat(ReduceKind::Percentile(F64(percentile)))
        };
        rumba_plan::eval::order_statistic(&mut values.to_vec(), &kind)
    }

    const PERCENTILES: [f64; 7] = [-1.0, 0.0, 10.0, 50.0, 90.0, 99.9, 100.0];

    /// Every path, rank and percentile against the evaluator, bit for bit.
    fn check(keys: &[i32], kind: KeyKind) {
        let values: Vec<f64> = keys.iter().map(|&k| kind.decode(k)).collect();
        for p in PERCENTILES {
            let want = evaluator(&values, p);
            let got = order_statistic(keys, p, kind.code());
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "{kind:?} p={p} n={} {keys:?}",
                keys.len()
            );
        }
        let mut sorted = keys.to_vec();
        sorted.sort_unstable();
        let mut buffers = Vec::new();
        for k in [0, keys.len() / 3, keys.len() / 2, keys.len() - 1] {
            for avx in [false, abi::has_avx512()] {
                assert_eq!(kth_with(keys, k, &mut buffers, avx), sorted[k], "k={k} avx512={avx}");
            }
        }
    }

    #[test]
    fn integer_keys_match_the_evaluator() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for n in [1, 2, 3, 15, 16, 17, 31, 33, 64, 199, 200, 400, 1001] {
            for range in [1, 2, 7, 256, 65_536, 1 << 31] {
                let keys: Vec<i32> = (0..n)
                    .map(|_| (rng.below(range) as i64 - if range > 65_536 { 1 << 30 } else { 0 }) as i32)
                    .collect();
                check(&keys, KeyKind::Int);
            }
        }
        // u8 and u16 values through the counting selections.
        for n in [1, 2, 3, 15, 16, 17, 200, 400, 1001] {
            for (range, kind) in [
                (1, KeyKind::U8),
                (3, KeyKind::U8),
                (256, KeyKind::U8),
                (2, KeyKind::U16),
                (300, KeyKind::U16),
                (65_536, KeyKind::U16),
            ] {
                let keys: Vec<i32> = (0..n).map(|_| rng.below(range) as i32).collect();
                check(&keys, kind);
            }
        }
        for kind in [KeyKind::U8, KeyKind::U16] {
            check(&[255; 7], kind);
            check(&(0..256).rev().collect::<Vec<_>>(), kind);
        }
        // Sorted, reversed and constant inputs (quickselect's worst cases for naive pivots).
        let up: Vec<i32> = (0..500).collect();
        check(&up, KeyKind::Int);
        check(&up.iter().rev().copied().collect::<Vec<_>>(), KeyKind::Int);
        check(&[7; 300], KeyKind::Int);
    }

    #[test]
    fn f32_keys_match_the_evaluator_with_signed_zeros_infinities_and_denormals() {
        let special = [
            0.0f32,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MIN_POSITIVE / 4.0,
            -f32::MIN_POSITIVE / 4.0,
            f32::MAX,
            f32::MIN,
            1.0,
            -1.0,
        ];
        let mut rng = Rng(42);
        for n in [1, 2, 5, 16, 17, 40, 200, 401] {
            for _ in 0..8 {
                let keys: Vec<i32> = (0..n)
                    .map(|_| match rng.below(3) {
                        0 => special[rng.below(special.len() as u64) as usize],
                        1 => (rng.below(512) as f32 - 256.0) / 8.0,
                        _ => f32::from_bits(rng.next() as u32 & 0xFF7F_FFFF),
                    })
                    .map(f32_key)
                    .collect();
                check(&keys, KeyKind::F32);
            }
        }
    }

    #[test]
    fn the_vector_scan_is_the_scalar_scan() {
        let mut rng = Rng(7);
        for n in [1, 2, 15, 16, 17, 100, 333] {
            let keys: Vec<i32> = (0..n).map(|_| rng.below(50) as i32 - 25).collect();
            for a in [-30, -25, 0, 3, 24, 30, keys[0]] {
                assert_eq!(abi::scan(&keys, a), abi::scan_scalar(&keys, a), "n={n} a={a}");
            }
        }
    }

    #[test]
    fn a_nan_anywhere_gives_nan() {
        for nan in [
            f32::NAN,
            -f32::NAN,
            f32::from_bits(0x7F80_0001),
            f32::from_bits(0xFFFF_FFFF),
        ] {
            let mut keys: Vec<i32> = (0..50).map(|i| f32_key(i as f32)).collect();
            keys[31] = f32_key(nan);
            assert!(is_nan_key(f32_key(nan)));
            for p in PERCENTILES {
                assert!(order_statistic(&keys, p, KeyKind::F32.code()).is_nan());
            }
        }
        for x in [f32::INFINITY, f32::NEG_INFINITY, f32::MAX, -0.0] {
            assert!(!is_nan_key(f32_key(x)), "{x}");
        }
        assert!(order_statistic(&[], -1.0, KeyKind::Int.code()).is_nan());
    }

    #[test]
    fn keys_decode_to_the_value() {
        for x in [0.0f32, -0.0, 1.5, -1.5, f32::INFINITY, f32::NEG_INFINITY, 1e-40, -1e-40] {
            assert_eq!(KeyKind::F32.decode(f32_key(x)).to_bits(), f64::from(x).to_bits());
        }
        assert!(f32_key(-0.0) < f32_key(0.0));
        assert!(f32_key(-2.0) < f32_key(-1.0));
    }
}
