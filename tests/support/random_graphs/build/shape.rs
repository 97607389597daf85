//! Movement, reductions, masks and windows, and making a second operand broadcast.

use super::super::inputs::permutation;
use super::super::{MAX_BROADCAST, MaskPlan, Movement, ReducePlan, RunStart, WindowKindPlan, WindowPlan};
use super::helpers::vertices;
use super::{COMPARISONS, Ctx, R, Rhs, V, compare, lit, stat_text};
use rumba::dsl::Stat;

impl Ctx<'_> {
    /// Slices and reduces `v` until it broadcasts against `target`; `None` if it cannot (an
    /// empty axis that would have to be reduced).
    pub(super) fn conform(&mut self, mut v: V, target: &[usize]) -> R<Option<V>> {
        if v.rank() > target.len() {
            let surplus: Vec<usize> = (0..v.rank() - target.len()).collect();
            if surplus.iter().any(|&a| v.shape[a] == 0) {
                return Ok(None);
            }
            v = self.reduce(&v, Stat::Max, &surplus, false)?;
        }
        let off = target.len() - v.rank();
        for axis in 0..v.rank() {
            let (r, l) = (v.shape[axis], target[off + axis]);
            if r > l && l != 1 {
                let start = ((r - l) / 2) as i64;
                let call = format!("{}.slice({axis}, Some({start}), Some({}), 1)", v.name, start + l as i64);
                v = self.emit(call, v.t.slice(axis, Some(start), Some(start + l as i64), 1))?;
            }
        }
        let mut shrink: Vec<usize> = (0..v.rank())
            .filter(|&a| v.shape[a] != target[off + a] && v.shape[a] != 1 && target[off + a] != 1)
            .collect();
        if shrink.iter().any(|&a| v.shape[a] == 0) {
            return Ok(None);
        }
        let size = |v: &V| -> usize {
            (0..target.len())
                .map(|a| {
                    if a < off {
                        target[a]
                    } else {
                        target[a].max(v.shape[a - off])
                    }
                })
                .product()
        };
        if size(&v) > MAX_BROADCAST || !shrink.is_empty() {
            if size(&v) > MAX_BROADCAST {
                shrink.extend((0..v.rank()).filter(|&a| target[off + a] == 1 && v.shape[a] > 1));
                shrink.sort_unstable();
            }
            v = self.reduce(&v, Stat::Max, &shrink, true)?;
        }
        Ok(Some(v))
    }

    pub(super) fn movement(&mut self, m: &Movement, x: V) -> R<V> {
        match m {
            Movement::Slice {
                axis,
                start,
                stop,
                step,
            } => {
                let x = self.ranked(x)?;
                let axis = *axis as usize % x.rank();
                let n = x.shape[axis] as i64;
                let bound = |raw: u8| i64::from(raw) % (2 * n + 3) - (n + 1);
                let (start, stop, step) = (start.map(bound), stop.map(bound), i64::from(*step));
                let call = format!("{}.slice({axis}, {start:?}, {stop:?}, {step})", x.name);
                self.emit(call, x.t.slice(axis, start, stop, step))
            }
            Movement::SliceAt {
                axis,
                len,
                step,
                start,
                from_end,
                run,
            } => {
                let x = self.ranked(x)?;
                let axis = *axis as usize % x.rank();
                let n = x.shape[axis];
                if n == 0 {
                    return Ok(x);
                }
                let step = 1 + *step as usize % 3;
                let len = 1 + *len as usize % ((n - 1) / step + 1);
                let room = n - (len - 1) * step;
                let first = |raw: u8, from_end: bool| {
                    let s = (raw as usize % room) as f64;
                    if from_end { s - n as f64 } else { s }
                };
                let run = match *run {
                    RunStart::Default => None,
                    RunStart::Other(raw) => Some(first(raw, raw % 2 == 1)),
                    RunStart::Invalid(raw) => Some([0.5, room as f64, -(n as f64) - 1.0, f64::NAN][raw as usize % 4]),
                };
                let p = self.param("s", first(*start, *from_end), run)?;
                let call = format!("{}.slice_at({axis}, &{}, {len}, {step})", x.name, p.name);
                self.emit(call, x.t.slice_at(axis, &p.t, len, step as i64))
            }
            Movement::Permute(code) => {
                let perm = permutation(*code, x.rank());
                self.emit(format!("{}.permute(&{perm:?})", x.name), x.t.permute(&perm))
            }
            Movement::Squeeze(pick) => {
                let mut x = x;
                let mut ones: Vec<usize> = (0..x.rank()).filter(|&a| x.shape[a] == 1).collect();
                if ones.is_empty() {
                    let axis = *pick as usize % (x.rank() + 1);
                    x = self.emit(format!("{}.expand({axis})", x.name), x.t.expand(axis))?;
                    ones = vec![axis];
                }
                let mut axes: Vec<usize> = ones
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| pick & (1 << (k % 8)) != 0)
                    .map(|(_, &a)| a)
                    .collect();
                if axes.is_empty() {
                    axes.push(ones[*pick as usize % ones.len()]);
                }
                self.emit(format!("{}.squeeze(&{axes:?})", x.name), x.t.squeeze(&axes))
            }
            Movement::Expand(pick) => {
                if x.rank() >= 5 {
                    return Ok(x);
                }
                let axis = *pick as usize % (x.rank() + 1);
                self.emit(format!("{}.expand({axis})", x.name), x.t.expand(axis))
            }
            Movement::BroadcastTo(code) => {
                let grow = |k: usize| [1, 2, 3][(*code as usize >> (2 * k + 1)) % 3];
                let mut shape: Vec<usize> = x
                    .shape
                    .iter()
                    .enumerate()
                    .map(|(k, &n)| if n == 1 { grow(k) } else { n })
                    .collect();
                if code & 1 == 1 && x.rank() < 5 {
                    shape.insert(0, grow(7));
                }
                if shape.iter().product::<usize>() > MAX_BROADCAST {
                    shape.clone_from(&x.shape);
                }
                self.emit(format!("{}.broadcast_to(&{shape:?})", x.name), x.t.broadcast_to(&shape))
            }
        }
    }

    pub(super) fn reduction(&mut self, r: &ReducePlan, x: V) -> R<V> {
        let x = self.numeric(x)?;
        let x = self.ranked(x)?;
        let bits = r.axes as usize % ((1 << x.rank()) - 1) + 1;
        let axes: Vec<usize> = (0..x.rank())
            .filter(|&a| bits & (1 << a) != 0 && (r.wild || x.shape[a] > 0))
            .collect();
        if axes.is_empty() {
            return Ok(x);
        }
        let stat = match r.stat {
            Stat::Percentile(_) if r.wild => Stat::Percentile(150.0),
            s => s,
        };
        let mask = match &r.mask {
            None => None,
            Some(m) => Some(self.mask(m, &x)?),
        };
        let mask_text = mask
            .as_ref()
            .map_or("None".to_owned(), |m| format!("Some(&{})", m.name));
        let one = |cx: &mut Self, stat: Stat| {
            let call = format!(
                "{}.reduce_with({}, &{axes:?}, {}, {}, {mask_text})",
                x.name,
                stat_text(stat),
                r.keepdims,
                r.skip_nan
            );
            let t =
                x.t.reduce_with(stat, &axes, r.keepdims, r.skip_nan, mask.as_ref().map(|m| &m.t));
            cx.emit(call, t)
        };
        let first = one(self, stat)?;
        match r.sibling {
            Some(s) => {
                let second = one(self, s)?;
                self.difference(&first, &second)
            }
            None => Ok(first),
        }
    }

    /// `a - b` (sibling statistics).
    fn difference(&mut self, a: &V, b: &V) -> R<V> {
        self.emit(format!("&{} - &{}", a.name, b.name), &a.t - &b.t)
    }

    /// The `where` mask of a reduction of `x`: a bool tensor that broadcasts to it.
    fn mask(&mut self, m: &MaskPlan, x: &V) -> R<V> {
        let fits = |i: &V| {
            i.rank() <= x.rank()
                && i.shape
                    .iter()
                    .rev()
                    .zip(x.shape.iter().rev())
                    .all(|(a, b)| a == b || *a == 1)
        };
        let (subject, cmp, value) = match m {
            MaskPlan::Polygon(raw) if x.rank() == 4 => return self.polygon_mask(x, &vertices(raw, &x.shape)),
            MaskPlan::NotNan | MaskPlan::Polygon(_) => {
                return self.emit(format!("{0}.eq(&{0})", x.name), x.t.eq(&x.t));
            }
            MaskPlan::Input { cmp, value } => match self.inputs.iter().find(|i| fits(i)) {
                Some(i) => (i.clone(), *cmp, *value),
                None => (x.clone(), *cmp, *value),
            },
            MaskPlan::Compare { cmp, value } => (x.clone(), *cmp, *value),
        };
        let call = format!("{}.{}({})", subject.name, COMPARISONS[cmp as usize % 6], lit(value));
        self.emit(call, compare(&subject.t, cmp, &Rhs::S(value)))
    }

    pub(super) fn window(&mut self, w: &WindowPlan, x: V) -> R<V> {
        let x = self.numeric(x)?;
        let x = self.ranked(x)?;
        let axis = w.axis as usize % x.rank();
        match &w.kind {
            WindowKindPlan::Stat(stat) => {
                let size = 1 + w.size as usize % (x.shape[axis] + 2);
                let call = format!(
                    "{}.window({}, {axis}, {size}, {})",
                    x.name,
                    stat_text(*stat),
                    w.skip_nan
                );
                let first = self.emit(call, x.t.window(*stat, axis, size as i64, w.skip_nan))?;
                let Some(s) = w.sibling else { return Ok(first) };
                let call = format!("{}.window({}, {axis}, {size}, {})", x.name, stat_text(s), w.skip_nan);
                let second = self.emit(call, x.t.window(s, axis, size as i64, w.skip_nan))?;
                self.difference(&first, &second)
            }
            WindowKindPlan::Weighted(weights) => {
                let text: Vec<String> = weights.iter().map(|&v| lit(v)).collect();
                let call = format!("{}.weighted_window(&[{}], {axis})", x.name, text.join(", "));
                self.emit(call, x.t.weighted_window(weights, axis))
            }
        }
    }
}
