//! Image-stack helpers expand into primitives (DESIGN §2, fixtures README "Semantics").
//!
//! Every primitive a helper emits carries the helper's origin, so an error anywhere inside
//! names the helper node. Checks that need concrete extents become [`Constraint`]s.
//!
//! ```text
//! pipeline(x, subtract: range mean, divide: file bg)
//!   ⇒ R = reduce(mean, [0], slice(x, 0, b0, b1+1));  v = cast(x, ct) − a·cast(R, ct)
//!     d = a'·cast(bg, ct) + (1 − a');  out = nan_to_num(select(d == 0, 0, v / d), 0, 0, 0)
//! ```

use super::Cx;
use crate::def::{EnvelopeOver, KindName, OpDef, Operand, Orientation, StepDef};
use crate::dtype::DType;
use crate::error::GraphError;
use crate::graph::{Constraint, ExtentRule, NodeId};
use crate::op::{BinaryOp, Extent, F64, Op, ReduceKind, WindowKind};

impl Cx<'_> {
    /// Lowers a helper node; returns its named outputs.
    pub(super) fn helper(&mut self, op: &OpDef) -> Result<Vec<(&'static str, NodeId)>, GraphError> {
        let single = |id| Ok(vec![("", id)]);
        match op {
            OpDef::RangeReference {
                x,
                bounds,
                kind,
                q,
                skip_nan,
            } => {
                let x = self.operand("x", x)?;
                let kind = self.kind(*kind, *q)?;
                single(self.range_reference("bounds", x, *bounds, kind, *skip_nan)?)
            }
            OpDef::Subtract { x, reference, amount } => {
                let (x, r) = (self.operand("x", x)?, self.operand("reference", reference)?);
                let amount = self.operand("amount", amount)?;
                single(self.subtract(x, r, amount)?)
            }
            OpDef::Divide { x, reference, amount } => {
                let (x, r) = (self.operand("x", x)?, self.operand("reference", reference)?);
                let amount = self.operand("amount", amount)?;
                single(self.divide(x, r, amount)?)
            }
            OpDef::SlidingReference {
                x,
                window,
                lag,
                kind,
                q,
                skip_nan,
            } => {
                let x = self.operand("x", x)?;
                let kind = self.kind(*kind, *q)?;
                let (window, lag) = self.window_lag("", *window, *lag)?;
                single(self.sliding_reference(x, window, lag, kind, *skip_nan)?)
            }
            OpDef::Pipeline { x, subtract, divide } => {
                let x = self.operand("x", x)?;
                single(self.pipeline(x, subtract.as_ref(), divide.as_ref())?)
            }
            OpDef::Envelope {
                x,
                orientation,
                pos,
                halfwidth,
                over,
            } => {
                let x = self.operand("x", x)?;
                let (min, max) = self.envelope(x, *orientation, *pos, *halfwidth, *over)?;
                Ok(vec![("min", min), ("max", max)])
            }
            OpDef::ApplyPolygon { x, vertices, fill } => {
                let x = self.operand("x", x)?;
                let vertices = self.polygon("vertices", vertices)?;
                single(self.apply_polygon(x, vertices, fill.0)?)
            }
            OpDef::RoiSeries { x, vertices } => {
                let x = self.operand("x", x)?;
                let vertices = self.polygon("vertices", vertices)?;
                let (mean, min, max) = self.roi_series(x, vertices)?;
                Ok(vec![("mean", mean), ("min", min), ("max", max)])
            }
            primitive => unreachable!(
                "{} is a primitive, lowered in validate::Cx::lower_node",
                primitive.name()
            ),
        }
    }

    fn field(prefix: &str, name: &str) -> String {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    }

    fn window_lag(&self, prefix: &str, window: i64, lag: i64) -> Result<(usize, usize), GraphError> {
        let window = self.window_size(&Self::field(prefix, "window"), window)?;
        if lag < 0 {
            return Err(self
                .lower
                .invalid(&Self::field(prefix, "lag"), format!("the lag must be ≥ 0, found {lag}")));
        }
        Ok((window, lag as usize))
    }

    fn stack(&self, field: &str, x: NodeId) -> Result<DType, GraphError> {
        self.lower.require_rank(field, x, 4, "an image stack (T, H, W, C)")?;
        self.lower.ct(field, x)
    }

    /// `reduce(kind, [0])` over frames `b0..=b1`, b1 clipped; an empty range is an error.
    fn range_reference(
        &mut self,
        field: &str,
        x: NodeId,
        [b0, b1]: [i64; 2],
        kind: ReduceKind,
        skip_nan: bool,
    ) -> Result<NodeId, GraphError> {
        self.stack("x", x)?;
        if b0 < 0 || b1 < 0 {
            return Err(self
                .lower
                .invalid(field, format!("frame bounds must be ≥ 0, found [{b0}, {b1}]")));
        }
        if b0 > b1 {
            return Err(self
                .lower
                .invalid(field, format!("empty range: bounds [{b0}, {b1}] have b0 > b1")));
        }
        // A fixed T is checked now, before the slice it would empty (whose reduction would
        // report an empty extent instead of the range); a free T when the graph is bound.
        if let Some(crate::shape::Dim::Fixed(t)) = self.lower.shape(x).0.first()
            && b0 as u64 >= *t as u64
        {
            return Err(self.lower.invalid(
                field,
                format!("empty range: bounds [{b0}, {b1}] select no frame of T = {t}"),
            ));
        }
        let origin = self.lower.origin;
        self.lower.constrain(Constraint::Extent {
            node: x,
            axis: 0,
            rule: ExtentRule::GreaterThan(b0 as usize),
            origin,
            what: format!("empty range: bounds [{b0}, {b1}] select no frame"),
        });
        let d = self.lower.dtype(x);
        let frames = self.lower.push(
            Op::Slice {
                x,
                axis: 0,
                start: Some(b0),
                stop: Some(b1.saturating_add(1)),
                step: 1,
            },
            d,
        )?;
        self.reduce(frames, kind, vec![0], true, skip_nan, None)
    }

    /// `ct(x) − amount·ct(r)`.
    fn subtract(&mut self, x: NodeId, r: NodeId, amount: NodeId) -> Result<NodeId, GraphError> {
        let ct = self.lower.ct("x", x)?;
        self.lower.ct("reference", r)?;
        let (xc, rc) = (self.lower.cast(x, ct), self.lower.cast(r, ct));
        let scaled = self.lower.arith(BinaryOp::Mul, amount, rc)?;
        self.lower.arith(BinaryOp::Sub, xc, scaled)
    }

    /// `d = amount·ct(r) + (1 − amount)`; 0 where d == 0, else v/d; NaN/±Inf → 0.
    fn divide(&mut self, v: NodeId, r: NodeId, amount: NodeId) -> Result<NodeId, GraphError> {
        let ct = self.lower.ct("x", v)?;
        self.lower.ct("reference", r)?;
        let (vc, rc) = (self.lower.cast(v, ct), self.lower.cast(r, ct));
        let scaled = self.lower.arith(BinaryOp::Mul, amount, rc)?;
        let one = self.lower.constant(1.0);
        let rest = self.lower.arith(BinaryOp::Sub, one, amount)?;
        let d = self.lower.arith(BinaryOp::Add, scaled, rest)?;
        let quotient = self.lower.arith(BinaryOp::Div, vc, d)?;
        let zero = self.lower.constant(0.0);
        let d_is_zero = self.lower.compare(BinaryOp::Eq, d, zero)?;
        let safe = self.lower.select(d_is_zero, zero, quotient)?;
        self.lower.push(
            Op::NanToNum {
                x: safe,
                nan: F64(0.0),
                posinf: F64(0.0),
                neginf: F64(0.0),
            },
            ct,
        )
    }

    /// `window(kind, 0, window)[lag+1 ..]`: N = T − lag − window frames.
    fn sliding_reference(
        &mut self,
        x: NodeId,
        window: usize,
        lag: usize,
        kind: ReduceKind,
        skip_nan: bool,
    ) -> Result<NodeId, GraphError> {
        self.stack("x", x)?;
        let w = self.window(x, WindowKind::Reduce(kind), 0, window, skip_nan)?;
        let d = self.lower.dtype(w);
        self.lower.push(
            Op::Slice {
                x: w,
                axis: 0,
                start: Some(i64::try_from(lag).unwrap_or(i64::MAX).saturating_add(1)),
                stop: None,
                step: 1,
            },
            d,
        )
    }

    /// The frames a sliding reference applies to: `x[lag+1 .. T−window+1]`.
    fn aligned_frames(&mut self, x: NodeId, window: usize, lag: usize) -> Result<NodeId, GraphError> {
        let stop = (window > 1).then(|| -(window as i64 - 1));
        let d = self.lower.dtype(x);
        self.lower.push(
            Op::Slice {
                x,
                axis: 0,
                start: Some(i64::try_from(lag).unwrap_or(i64::MAX).saturating_add(1)),
                stop,
                step: 1,
            },
            d,
        )
    }

    fn step_kind(&self, prefix: &str, kind: KindName, q: Option<f64>) -> Result<ReduceKind, GraphError> {
        self.kind(kind, q).map_err(|e| match e {
            GraphError::Invalid { mut at, message } => {
                at.field = Some(Self::field(prefix, at.field.as_deref().unwrap_or("kind")));
                GraphError::Invalid { at, message }
            }
            e => e,
        })
    }

    /// A step's reference, computed from the original stack `x`.
    fn step_reference(&mut self, prefix: &str, x: NodeId, step: &StepDef) -> Result<(NodeId, NodeId), GraphError> {
        match step {
            StepDef::Range {
                bounds,
                kind,
                q,
                skip_nan,
                amount,
            } => {
                let kind = self.step_kind(prefix, *kind, *q)?;
                let r = self.range_reference(&Self::field(prefix, "bounds"), x, *bounds, kind, *skip_nan)?;
                Ok((r, self.operand(&Self::field(prefix, "amount"), amount)?))
            }
            StepDef::File { file, amount } => {
                let field = Self::field(prefix, "file");
                let r = self.reference(&field, file)?;
                self.lower.require_rank(&field, r, 4, "a file reference (1, H, W, C)")?;
                self.lower.ct(&field, r)?;
                let origin = self.lower.origin;
                let what = format!("the file reference \"{file}\" must be (1, H, W, C) like the stack");
                self.lower.constrain(Constraint::Extent {
                    node: r,
                    axis: 0,
                    rule: ExtentRule::Equals(1),
                    origin,
                    what: what.clone(),
                });
                for axis in 1..4 {
                    let rule = ExtentRule::SameAs { node: x, axis };
                    self.lower.constrain(Constraint::Extent {
                        node: r,
                        axis,
                        rule,
                        origin,
                        what: what.clone(),
                    });
                }
                Ok((r, self.operand(&Self::field(prefix, "amount"), amount)?))
            }
            StepDef::Sliding {
                window,
                lag,
                kind,
                q,
                skip_nan,
                amount,
            } => {
                let kind = self.step_kind(prefix, *kind, *q)?;
                let (window, lag) = self.window_lag(prefix, *window, *lag)?;
                let r = self.sliding_reference(x, window, lag, kind, *skip_nan)?;
                Ok((r, self.operand(&Self::field(prefix, "amount"), amount)?))
            }
        }
    }

    fn pipeline(
        &mut self,
        x: NodeId,
        subtract: Option<&StepDef>,
        divide: Option<&StepDef>,
    ) -> Result<NodeId, GraphError> {
        let ct = self.stack("x", x)?;
        let sliding = |s: Option<&StepDef>| match s {
            Some(StepDef::Sliding { window, lag, .. }) => Some((*window, *lag)),
            _ => None,
        };
        let alignment = match (sliding(subtract), sliding(divide)) {
            (Some(a), Some(b)) if a != b => {
                return Err(self.lower.invalid(
                    "divide",
                    format!(
                        "sliding steps disagree on window/lag: subtract has (window {}, lag {}), divide has (window {}, lag {}); their output frames would not align",
                        a.0, a.1, b.0, b.1
                    ),
                ));
            }
            (Some(a), _) | (None, Some(a)) => Some(a),
            (None, None) => None,
        };
        let frames = match alignment {
            Some((window, lag)) => {
                let (window, lag) = self.window_lag("subtract", window, lag)?;
                self.aligned_frames(x, window, lag)?
            }
            None => x,
        };
        let mut v = self.lower.cast(frames, ct);
        if let Some(step) = subtract {
            let (r, amount) = self.step_reference("subtract", x, step)?;
            v = self.subtract(v, r, amount)?;
        }
        if let Some(step) = divide {
            let (r, amount) = self.step_reference("divide", x, step)?;
            v = self.divide(v, r, amount)?;
        }
        Ok(v)
    }

    fn envelope(
        &mut self,
        x: NodeId,
        orientation: Orientation,
        pos: i64,
        halfwidth: i64,
        over: EnvelopeOver,
    ) -> Result<(NodeId, NodeId), GraphError> {
        self.stack("x", x)?;
        if halfwidth < 0 {
            return Err(self
                .lower
                .invalid("halfwidth", format!("the half width must be ≥ 0, found {halfwidth}")));
        }
        let (axis, what) = match orientation {
            Orientation::H => (1, "row"),
            Orientation::V => (2, "column"),
        };
        if pos < 0 {
            return Err(self
                .lower
                .invalid("pos", format!("the {what} {pos} is outside the image (expected ≥ 0)")));
        }
        let origin = self.lower.origin;
        self.lower.constrain(Constraint::Extent {
            node: x,
            axis,
            rule: ExtentRule::GreaterThan(pos as usize),
            origin,
            what: format!("envelope pos: the {what} {pos} is outside the image"),
        });
        let d = self.lower.dtype(x);
        let start = pos.saturating_sub(halfwidth).max(0);
        let band = self.lower.push(
            Op::Slice {
                x,
                axis,
                start: Some(start),
                stop: Some(pos.saturating_add(halfwidth).saturating_add(1)),
                step: 1,
            },
            d,
        )?;
        let axes = match (over, orientation) {
            (EnvelopeOver::Dataset, Orientation::H) => vec![0, 1, 3],
            (EnvelopeOver::Dataset, Orientation::V) => vec![0, 2, 3],
            (EnvelopeOver::Frames, _) => vec![1, 2, 3],
        };
        let min = self.reduce(band, ReduceKind::Min, axes.clone(), false, false, None)?;
        let max = self.reduce(band, ReduceKind::Max, axes, false, false, None)?;
        Ok((min, max))
    }

    fn mask_like(&mut self, x: NodeId, vertices: Vec<[F64; 2]>) -> Result<NodeId, GraphError> {
        self.stack("x", x)?;
        let (height, width) = (Extent::Of { node: x, axis: 1 }, Extent::Of { node: x, axis: 2 });
        self.lower.push(
            Op::PolygonMask {
                vertices,
                height,
                width,
            },
            DType::Bool,
        )
    }

    fn apply_polygon(&mut self, x: NodeId, vertices: Vec<[F64; 2]>, fill: f64) -> Result<NodeId, GraphError> {
        let mask = self.mask_like(x, vertices)?;
        let inside = if fill.is_nan() {
            let ct = self.lower.ct("x", x)?;
            self.lower.cast(x, ct)
        } else {
            x
        };
        let fill = self.operand("fill", &Operand::Scalar(fill))?;
        self.lower.select(mask, inside, fill)
    }

    fn roi_series(&mut self, x: NodeId, vertices: Vec<[F64; 2]>) -> Result<(NodeId, NodeId, NodeId), GraphError> {
        let mask = self.mask_like(x, vertices)?;
        let origin = self.lower.origin;
        self.lower.constrain(Constraint::PolygonHasPixels { mask, origin });
        let axes = vec![1, 2, 3];
        let mean = self.reduce(x, ReduceKind::Mean, axes.clone(), false, true, Some(mask))?;
        let min = self.reduce(x, ReduceKind::Min, axes.clone(), false, true, Some(mask))?;
        let max = self.reduce(x, ReduceKind::Max, axes, false, true, Some(mask))?;
        Ok((mean, min, max))
    }
}
