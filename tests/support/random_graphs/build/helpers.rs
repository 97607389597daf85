//! Polygon masks and the image-stack helpers, on (T, H, W, C) operands.

use super::super::{HelperPlan, PolygonApply, PolygonPlan, StepPlan, StepSource};
use super::{Ctx, R, Rhs, V, lit, stat_text};
use rumba::dsl::{Stat, Step};
use rumba_ir::def::{EnvelopeOver, Orientation};

impl Ctx<'_> {
    /// `mask.select(x, other)` or `apply_polygon` on a rank-4 `x` (others pass through).
    pub(super) fn polygon(&mut self, p: &PolygonPlan, x: V) -> R<V> {
        if x.rank() != 4 {
            return Ok(x);
        }
        let v = vertices(&p.vertices, &x.shape);
        match &p.apply {
            PolygonApply::Select(other) => {
                let x = self.numeric(x)?;
                let mask = self.polygon_mask(&x, &v)?;
                let other = self.operand(other, &x)?;
                let call = format!("{}.select(&{}, {})", mask.name, x.name, other.text());
                self.emit(call, mask.t.select(&x.t, other.arg()))
            }
            PolygonApply::Helper(fill) => {
                let call = format!("{}.apply_polygon({}, {})", x.name, vertices_text(&v), lit(*fill));
                self.emit(call, x.t.apply_polygon(&v, *fill))
            }
        }
    }

    /// `x.polygon_mask_like(vertices)` of a rank-4 `x`.
    pub(super) fn polygon_mask(&mut self, x: &V, v: &[[f64; 2]]) -> R<V> {
        let call = format!("{}.polygon_mask_like({})", x.name, vertices_text(v));
        self.emit(call, x.t.polygon_mask_like(v))
    }

    /// A helper on `x` when it is a stack (T, H, W, C) with no empty axis, else on the first
    /// input that is one (`x` is then left unused); without either, `x` passes through.
    pub(super) fn helper(&mut self, h: &HelperPlan, x: V) -> R<V> {
        let stack = |v: &V| v.rank() == 4 && !v.shape.contains(&0);
        let subject = if stack(&x) {
            x
        } else {
            match self.inputs.iter().find(|i| stack(i)) {
                Some(i) => i.clone(),
                None => return Ok(x),
            }
        };
        let subject = self.numeric(subject)?;
        self.stack_helper(h, subject)
    }

    fn stack_helper(&mut self, h: &HelperPlan, x: V) -> R<V> {
        let (t, height, width) = (x.shape[0], x.shape[1], x.shape[2]);
        match h {
            HelperPlan::Range { b0, len, stat } => {
                let b0 = i64::from(*b0) % t as i64;
                let b1 = b0 + i64::from(*len) % (t as i64 + 1);
                let call = format!("{}.range_reference([{b0}, {b1}], {})", x.name, stat_text(*stat));
                self.emit(call, x.t.range_reference([b0, b1], *stat))
            }
            HelperPlan::Sliding { window, lag, stat } => {
                let (window, lag) = (1 + i64::from(*window) % t as i64, i64::from(*lag) % t as i64);
                let call = format!("{}.sliding_reference({window}, {lag}, {})", x.name, stat_text(*stat));
                self.emit(call, x.t.sliding_reference(window, lag, *stat))
            }
            HelperPlan::Pipeline { subtract, divide } => {
                // Two sliding steps must share window and lag: the divide step takes the subtract's.
                let shared = match subtract.as_ref().map(|s| &s.source) {
                    Some(StepSource::Sliding { window, lag }) => Some((*window, *lag)),
                    _ => None,
                };
                let sub = match subtract {
                    Some(s) => Some(self.step(s, &x, None)?),
                    None => None,
                };
                let div = match divide {
                    Some(s) => Some(self.step(s, &x, shared)?),
                    None => None,
                };
                let text =
                    |s: &Option<(Step, String)>| s.as_ref().map_or("None".to_owned(), |(_, t)| format!("Some({t})"));
                let call = format!("{}.pipeline({}, {})", x.name, text(&sub), text(&div));
                self.emit(call, x.t.pipeline(sub.map(|s| s.0), div.map(|s| s.0)))
            }
            HelperPlan::Envelope {
                vertical,
                pos,
                halfwidth,
                frames,
            } => {
                let (orientation, n) = if *vertical {
                    (Orientation::V, width)
                } else {
                    (Orientation::H, height)
                };
                let over = if *frames {
                    EnvelopeOver::Frames
                } else {
                    EnvelopeOver::Dataset
                };
                let pos = i64::from(*pos) % n as i64;
                let hw = i64::from(*halfwidth);
                let call = format!(
                    "{}.envelope(Orientation::{orientation:?}, {pos}, {hw}, EnvelopeOver::{over:?})",
                    x.name
                );
                let (min, max) = x.t.envelope(orientation, pos, hw, over);
                let mut vs = self.emit_many(call, vec![min, max])?;
                self.extras.push(vs.pop().expect("two curves"));
                Ok(vs.pop().expect("two curves"))
            }
            HelperPlan::Roi {
                vertices: vertices_plan,
                wild,
            } => {
                let mut v = vertices(vertices_plan, &x.shape);
                if !wild && !rumba_ir::polygon::mask(&v, height, width).contains(&true) {
                    let (w, h) = (width as f64, height as f64);
                    v = vec![[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]];
                }
                let call = format!("{}.roi_series({})", x.name, vertices_text(&v));
                let (mean, min, max) = x.t.roi_series(&v);
                let mut vs = self.emit_many(call, vec![mean, min, max])?;
                self.extras.extend(vs.drain(1..));
                Ok(vs.pop().expect("three curves"))
            }
        }
    }

    /// A pipeline step and its text; `shared` forces a sliding step's window and lag.
    fn step(&mut self, s: &StepPlan, x: &V, shared: Option<(u8, u8)>) -> R<(Step, String)> {
        let t = x.shape[0] as i64;
        let (step, mut text) = match (&s.source, shared) {
            (StepSource::Range { b0, len }, _) => {
                let b0 = i64::from(*b0) % t;
                let b1 = b0 + i64::from(*len) % (t + 1);
                let text = format!("Step::range([{b0}, {b1}], {})", stat_text(s.stat));
                (Step::range([b0, b1], s.stat), text)
            }
            (StepSource::Sliding { window, lag }, shared) => {
                let (window, lag) = shared.unwrap_or((*window, *lag));
                let (window, lag) = (1 + i64::from(window) % t, i64::from(lag) % t);
                let text = format!("Step::sliding({window}, {lag}, {})", stat_text(s.stat));
                (Step::sliding(window, lag, s.stat), text)
            }
            (StepSource::File, _) => {
                let want = [1, x.shape[1], x.shape[2], x.shape[3]];
                let r = match self.inputs.iter().find(|i| i.shape == want) {
                    Some(i) => i.clone(),
                    None => self.reduce(x, Stat::Max, &[0], true)?,
                };
                (Step::file(&r.t), format!("Step::file(&{})", r.name))
            }
        };
        let step = match self.scalar(&s.amount)? {
            Rhs::S(a) => {
                text.push_str(&format!(".amount({})", lit(a)));
                step.amount(a)
            }
            Rhs::T(p) => {
                text.push_str(&format!(".amount(&{})", p.name));
                step.amount(&p.t)
            }
        };
        if s.skip_nan && !matches!(s.source, StepSource::File) {
            text.push_str(".skip_nan()");
            return Ok((step.skip_nan(), text));
        }
        Ok((step, text))
    }
}

/// Polygon vertices from half-pixel plan numbers, within the (H, W) image ± 1.
pub(super) fn vertices(raw: &[(u8, u8)], shape: &[usize]) -> Vec<[f64; 2]> {
    let (h, w) = (shape[1], shape[2]);
    raw.iter()
        .map(|&(x, y)| {
            [
                (x as usize % (2 * w + 5)) as f64 * 0.5 - 1.0,
                (y as usize % (2 * h + 5)) as f64 * 0.5 - 1.0,
            ]
        })
        .collect()
}

/// Vertices as a Rust slice expression.
pub(super) fn vertices_text(v: &[[f64; 2]]) -> String {
    let v: Vec<String> = v.iter().map(|[x, y]| format!("[{}, {}]", lit(*x), lit(*y))).collect();
    format!("&[{}]", v.join(", "))
}
