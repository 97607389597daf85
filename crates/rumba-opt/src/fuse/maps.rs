//! Index maps during fusion: where each point of a kernel's root domain lands in a node's
//! coordinates, composed through movement ops and broadcasting. A map is one
//! [`rumba_plan::Affine`] per node axis, over the *root* axes (re-indexed into the final
//! kernel domain when a reduction stage inserts its reduced axes).

use rumba_ir::validate::slice_range;
use rumba_plan::{Affine, ParamId};

/// One affine per axis of a node, over some domain.
pub(crate) type NodeMap = Vec<Affine>;

/// The identity map of a domain of `rank` axes onto a node of the same rank.
pub(crate) fn identity(rank: usize) -> NodeMap {
    (0..rank).map(|a| Affine::axis(a, rank)).collect()
}

/// The map into an operand of shape `operand` broadcast to a node of shape `node` (NumPy:
/// aligned from the right; an operand extent 1 where the node's is not stays at 0).
pub(crate) fn broadcast(map: &NodeMap, node: &[usize], operand: &[usize], rank: usize) -> NodeMap {
    let skip = node.len() - operand.len();
    operand
        .iter()
        .enumerate()
        .map(|(d, &n)| {
            if n == 1 && node[skip + d] != 1 {
                Affine::constant(0, rank)
            } else {
                map[skip + d].clone()
            }
        })
        .collect()
}

/// `x[start:stop:step]` along `axis`: the operand coordinate is `start' + step·i`.
pub(crate) fn slice(
    map: &NodeMap,
    axis: usize,
    extent: usize,
    start: Option<i64>,
    stop: Option<i64>,
    step: i64,
) -> NodeMap {
    let (first, _, _) = slice_range(extent, start, stop, step);
    let mut out = map.clone();
    out[axis] = scale_add(&map[axis], step, first);
    out
}

/// `len` elements every `step` from a run-time start held in `slot`.
pub(crate) fn slice_at(map: &NodeMap, axis: usize, slot: ParamId, step: i64) -> NodeMap {
    let mut out = map.clone();
    let mut a = scale_add(&map[axis], step, 0);
    a.params.push((slot, 1));
    out[axis] = a;
    out
}

/// `step·a + offset`.
pub(crate) fn scale_add(a: &Affine, step: i64, offset: i64) -> Affine {
    Affine {
        offset: a.offset * step + offset,
        coefs: a.coefs.iter().map(|c| c * step).collect(),
        params: a.params.iter().map(|&(p, c)| (p, c * step)).collect(),
    }
}

/// Output axis i of a permute is operand axis `axes[i]`.
pub(crate) fn permute(map: &NodeMap, axes: &[usize]) -> NodeMap {
    let mut out = map.clone();
    for (i, &a) in axes.iter().enumerate() {
        out[a] = map[i].clone();
    }
    out
}

/// The operand of a squeeze has extent-1 axes at `axes` (coordinate 0 there).
pub(crate) fn squeeze(map: &NodeMap, axes: &[usize], operand_rank: usize, rank: usize) -> NodeMap {
    let mut it = map.iter();
    (0..operand_rank)
        .map(|d| {
            if axes.contains(&d) {
                Affine::constant(0, rank)
            } else {
                it.next().expect("rank").clone()
            }
        })
        .collect()
}

/// The operand of an expand lacks `axis`.
pub(crate) fn expand(map: &NodeMap, axis: usize) -> NodeMap {
    let mut out = map.clone();
    out.remove(axis);
    out
}

/// Re-indexes a map over root axes into a kernel domain where root axis `i` sits at
/// `positions[i]` (`rank` axes in all).
pub(crate) fn reindex(map: &NodeMap, positions: &[usize], rank: usize) -> NodeMap {
    map.iter()
        .map(|a| {
            let mut coefs = vec![0; rank];
            for (i, &c) in a.coefs.iter().enumerate() {
                coefs[positions[i]] += c;
            }
            Affine {
                offset: a.offset,
                coefs,
                params: a.params.clone(),
            }
        })
        .collect()
}

/// For a map into a reduction's output: for each output axis, the root axis it follows with
/// coefficient 1 (`Some`), or `None` when it does not depend on the domain. `None` overall
/// when the map is not a stage map (another coefficient, a root axis used twice, out of order,
/// or a root axis of extent > 1 left unused — the result would be broadcast).
pub(crate) fn stage_axes(map: &NodeMap, root: &[usize]) -> Option<Vec<Option<usize>>> {
    let mut used = vec![false; root.len()];
    let mut last = None;
    let mut out = Vec::with_capacity(map.len());
    for a in map {
        let nz: Vec<(usize, i64)> = a.coefs.iter().copied().enumerate().filter(|(_, c)| *c != 0).collect();
        match nz.as_slice() {
            [] => out.push(None),
            [(r, 1)] if !used[*r] && last.is_none_or(|l| l < *r) => {
                used[*r] = true;
                last = Some(*r);
                out.push(Some(*r));
            }
            _ => return None,
        }
    }
    let broadcast = used.iter().zip(root).any(|(u, &n)| !u && n > 1);
    (!broadcast).then_some(out)
}
