//! Bounds inference for streamed runs (DESIGN §8): the elements of each buffer that a range
//! of a kernel's tiles reads and writes, as one box (inclusive index ranges per dimension),
//! and the cutting of a kernel's tiles into chunks whose boxes fit a memory budget.
//!
//! A tile range `[a, b)` iterates the tile axis from `a·len` to `min(b·len, extent)`, every
//! other axis whole. Its loads reach further back along a running window's axis when that is
//! the tile axis: a sweep starts at the restart point at or before its first output
//! ([`rumba_plan::Running::sweep_start`]), so those frames are read too; its stores start at
//! the first output. Each box is the smallest that holds every index an affine map gives over
//! those ranges, with the run's param values.

use rumba_plan::{Affine, BufferId, Kernel, Plan};
use std::ops::Range;

/// Inclusive index range `(lo, hi)`; empty when `hi < lo`.
pub type Span = (i64, i64);

/// What a tile range does to one buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// The buffer.
    pub buffer: BufferId,
    /// Whether the kernel loads from it.
    pub read: bool,
    /// Whether the kernel stores to it.
    pub written: bool,
    /// Per dimension, the indices reached (empty spans when the kernel reaches none).
    pub bounds: Vec<Span>,
}

impl Access {
    /// Whether no element is reached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bounds.iter().any(|&(lo, hi)| hi < lo)
    }

    /// Number of elements in the box.
    #[must_use]
    pub fn len(&self) -> u64 {
        if self.is_empty() {
            return 0;
        }
        self.bounds.iter().map(|&(lo, hi)| (hi - lo + 1) as u64).product()
    }
}

/// The domain ranges of tiles `tiles`: `(loads, stores)`, which differ only when a running
/// window's sweep starts before the first tile's outputs.
#[must_use]
pub fn tile_domain(kernel: &Kernel, tiles: &Range<usize>) -> (Vec<Span>, Vec<Span>) {
    let mut stores: Vec<Span> = kernel.domain.iter().map(|a| (0, a.extent as i64 - 1)).collect();
    let mut loads = stores.clone();
    if let Some(t) = kernel.schedule.tile_axis {
        let len = kernel.schedule.tile_len.max(1);
        let extent = kernel.domain[t].extent;
        let begin = tiles.start.saturating_mul(len).min(extent);
        let end = tiles.end.saturating_mul(len).min(extent);
        let sweep = match &kernel.running {
            Some(r) if r.axis == t => r.sweep_start(begin),
            _ => begin,
        };
        stores[t] = (begin as i64, end as i64 - 1);
        loads[t] = (sweep as i64, end as i64 - 1);
    }
    (loads, stores)
}

/// The indices `a` takes over `domain` with the param slot values `slots`.
fn affine_span(a: &Affine, domain: &[Span], slots: &[f64]) -> Span {
    if domain.iter().any(|&(lo, hi)| hi < lo) {
        return (0, -1);
    }
    let (mut lo, mut hi) = (a.offset, a.offset);
    for (&c, &(dlo, dhi)) in a.coefs.iter().zip(domain) {
        if c >= 0 {
            lo += c * dlo;
            hi += c * dhi;
        } else {
            lo += c * dhi;
            hi += c * dlo;
        }
    }
    for &(p, c) in &a.params {
        let v = slots.get(p.0 as usize).copied().unwrap_or(0.0) as i64;
        lo += c * v;
        hi += c * v;
    }
    (lo, hi)
}

fn merge(into: &mut [Span], new: &[Span]) {
    for (acc, &(lo, hi)) in into.iter_mut().zip(new) {
        if hi < lo {
            continue;
        }
        *acc = if acc.1 < acc.0 {
            (lo, hi)
        } else {
            (acc.0.min(lo), acc.1.max(hi))
        };
    }
}

/// Every buffer tiles `tiles` of `kernel` load or store, with the box they reach, in order of
/// first use.
#[must_use]
pub fn accesses(kernel: &Kernel, tiles: &Range<usize>, slots: &[f64]) -> Vec<Access> {
    let (load_domain, store_domain) = tile_domain(kernel, tiles);
    let mut out: Vec<Access> = Vec::new();
    let uses = kernel
        .loads
        .iter()
        .map(|l| (l.buffer, &l.map, false))
        .chain(kernel.stores.iter().map(|s| (s.buffer, &s.map, true)));
    for (buffer, map, store) in uses {
        let domain = if store { &store_domain } else { &load_domain };
        let spans: Vec<Span> = map.dims.iter().map(|a| affine_span(a, domain, slots)).collect();
        let empty = spans.iter().any(|&(lo, hi)| hi < lo);
        let i = match out.iter().position(|a| a.buffer == buffer) {
            Some(i) => i,
            None => {
                out.push(Access {
                    buffer,
                    read: false,
                    written: false,
                    bounds: vec![(0, -1); spans.len()],
                });
                out.len() - 1
            }
        };
        let access = &mut out[i];
        access.read |= !store;
        access.written |= store;
        if !empty {
            if access.is_empty() {
                access.bounds = spans;
            } else {
                merge(&mut access.bounds, &spans);
            }
        }
    }
    out
}

/// Bytes of the boxes of the buffers `chunked` selects.
pub fn chunk_bytes(plan: &Plan, accesses: &[Access], chunked: &dyn Fn(BufferId) -> bool) -> u64 {
    accesses
        .iter()
        .filter(|a| chunked(a.buffer))
        .map(|a| a.len().saturating_mul(plan.buffer(a.buffer).dtype.size() as u64))
        .fold(0u64, u64::saturating_add)
}

/// Cuts the tiles of `kernel` into consecutive ranges whose chunked boxes each take at most
/// `budget` bytes, each as long as the budget allows (a doubling then halving search).
///
/// # Errors
/// The bytes one tile needs, when that alone exceeds the budget.
pub fn chunks(
    plan: &Plan,
    kernel: &Kernel,
    slots: &[f64],
    chunked: &dyn Fn(BufferId) -> bool,
    budget: u64,
) -> Result<Vec<Range<usize>>, u64> {
    let tiles = kernel.tiles();
    let bytes = |r: Range<usize>| chunk_bytes(plan, &accesses(kernel, &r, slots), chunked);
    let mut out = Vec::new();
    let mut start = 0;
    while start < tiles {
        let one = bytes(start..start + 1);
        if one > budget {
            return Err(one);
        }
        // The longest run from `start` that fits: double, then bisect.
        let remaining = tiles - start;
        let (mut good, mut step, mut bad) = (1usize, 1usize, None);
        while good < remaining {
            let next = good.saturating_add(step).min(remaining);
            if bytes(start..start + next) > budget {
                bad = Some(next);
                break;
            }
            good = next;
            step = step.saturating_mul(2);
        }
        if let Some(mut bad) = bad {
            while bad - good > 1 {
                let mid = good + (bad - good) / 2;
                if bytes(start..start + mid) <= budget {
                    good = mid;
                } else {
                    bad = mid;
                }
            }
        }
        out.push(start..start + good);
        start += good;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumba_plan::{Axis, IndexMap, Load, Running, Schedule, Store};

    fn kernel(
        domain: &[(usize, bool)],
        loads: Vec<Vec<Affine>>,
        stores: Vec<Vec<Affine>>,
        tile: (usize, usize),
    ) -> Kernel {
        Kernel {
            name: "k".into(),
            fused: Vec::new(),
            domain: domain
                .iter()
                .map(|&(extent, reduced)| Axis { extent, reduced })
                .collect(),
            loads: loads
                .into_iter()
                .map(|dims| Load {
                    buffer: BufferId(0),
                    map: IndexMap { dims },
                })
                .collect(),
            exprs: Vec::new(),
            reductions: Vec::new(),
            stores: stores
                .into_iter()
                .map(|dims| Store {
                    buffer: BufferId(1),
                    map: IndexMap { dims },
                    value: rumba_plan::ExprId(0),
                })
                .collect(),
            spans: Vec::new(),
            running: None,
            schedule: Schedule {
                tile_axis: Some(tile.0),
                tile_len: tile.1,
                vector_width: 4,
            },
        }
    }

    fn aff(offset: i64, coefs: &[i64]) -> Affine {
        Affine {
            offset,
            coefs: coefs.to_vec(),
            params: Vec::new(),
        }
    }

    /// A window of 3 along T (x[k + j + 1]) read by tiles of 4 outputs: the boxes hold the
    /// window's halo, the stores only the tiles' outputs; a running window whose restart
    /// period is 8 reads back to the restart point before the first output.
    #[test]
    fn boxes_hold_the_window_halo_and_the_sweep_start() {
        let mut k = kernel(
            &[(10, false), (3, true), (5, false)],
            vec![vec![aff(1, &[1, 1, 0]), aff(0, &[0, 0, 1])]],
            vec![vec![aff(0, &[1, 0, 0]), aff(0, &[0, 0, 1])]],
            (0, 4),
        );
        let a = accesses(&k, &(1..2), &[]);
        assert_eq!(a[0].bounds, [(5, 10), (0, 4)]);
        assert!(a[0].read && !a[0].written);
        assert_eq!(a[1].bounds, [(4, 7), (0, 4)]);
        // The last tile is short (outputs 8 and 9).
        assert_eq!(accesses(&k, &(2..3), &[])[1].bounds, [(8, 9), (0, 4)]);
        k.running = Some(Running {
            axis: 0,
            restart: Some(3),
        });
        let a = accesses(&k, &(1..2), &[]);
        assert_eq!(
            a[0].bounds,
            [(4, 10), (0, 4)],
            "the sweep starts at 3, the restart point"
        );
        assert_eq!(a[1].bounds, [(4, 7), (0, 4)], "stores start at the first output");
    }

    /// Chunks cover every tile once, in order, each within the budget and as long as it can be.
    #[test]
    fn chunks_cover_the_tiles_within_the_budget() {
        let k = kernel(
            &[(100, false), (8, false)],
            vec![vec![aff(0, &[1, 0]), aff(0, &[0, 1])]],
            vec![vec![aff(0, &[1, 0]), aff(0, &[0, 1])]],
            (0, 3),
        );
        let plan = Plan {
            buffers: vec![
                rumba_plan::Buffer {
                    dtype: rumba_ir::DType::U8,
                    shape: vec![100, 8],
                    role: rumba_plan::Role::Temp,
                },
                rumba_plan::Buffer {
                    dtype: rumba_ir::DType::F32,
                    shape: vec![100, 8],
                    role: rumba_plan::Role::Temp,
                },
            ],
            params: Vec::new(),
            kernels: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
        };
        let all = |_| true;
        // A tile: 3 rows of 8 u8 (24 B) and 8 f32 (96 B): 120 bytes.
        for budget in [120, 121, 239, 240, 1000, 100_000] {
            let cs = chunks(&plan, &k, &[], &all, budget).unwrap();
            let per = (budget / 120) as usize;
            let mut next = 0;
            for c in &cs {
                assert_eq!(c.start, next);
                assert!(chunk_bytes(&plan, &accesses(&k, c, &[]), &all) <= budget);
                next = c.end;
            }
            assert_eq!(next, 34);
            assert_eq!(cs[0].len(), per.min(34), "budget {budget}");
        }
        assert_eq!(chunks(&plan, &k, &[], &all, 119), Err(120));
        let none = |_| false;
        assert_eq!(chunks(&plan, &k, &[], &none, 0).unwrap(), vec![(0..34)]);
    }
}
