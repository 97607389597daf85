//! Lowering of user nodes that are primitives (everything but the image-stack helpers, which
//! are in `helpers.rs`), and the building blocks both share (statistics, polygons, windows).

use super::{Cx, resolve};
use crate::def::{KindName, NodeDef, OpDef, Operand, Ref, SliceStart};
use crate::error::GraphError;
use crate::graph::NodeId;
use crate::op::{BinaryOp, Extent, F64, Op, ReduceKind, UnaryOp, WindowKind};
use crate::shape::Shape;

impl Cx<'_> {
    /// The node an operand denotes (a scalar becomes a weak constant).
    pub fn operand(&mut self, field: &str, o: &Operand) -> Result<NodeId, GraphError> {
        match o {
            Operand::Scalar(v) => Ok(self.lower.constant(*v)),
            Operand::Ref(r) => resolve(self.lower, self.outputs, field, r),
        }
    }

    pub fn reference(&mut self, field: &str, r: &Ref) -> Result<NodeId, GraphError> {
        resolve(self.lower, self.outputs, field, r)
    }

    /// A statistic from its file name and `q`.
    pub fn kind(&self, kind: KindName, q: Option<f64>) -> Result<ReduceKind, GraphError> {
        let k = match kind {
            KindName::Sum => ReduceKind::Sum,
            KindName::Mean => ReduceKind::Mean,
            KindName::Min => ReduceKind::Min,
            KindName::Max => ReduceKind::Max,
            KindName::Var => ReduceKind::Var,
            KindName::Std => ReduceKind::Std,
            KindName::Median => ReduceKind::Median,
            KindName::Percentile => {
                let q = q.ok_or_else(|| self.lower.invalid("q", "percentile needs `q` in [0, 100]; found none"))?;
                if !(0.0..=100.0).contains(&q) {
                    return Err(self
                        .lower
                        .invalid("q", format!("percentile q must be in [0, 100], found {q}")));
                }
                ReduceKind::Percentile(F64(q))
            }
            KindName::Weighted => {
                return Err(self
                    .lower
                    .invalid("kind", "`weighted` is a window kind; expected a reduction kind"));
            }
        };
        if q.is_some() && kind != KindName::Percentile {
            return Err(self
                .lower
                .invalid("q", format!("`q` only applies to percentile, found kind {}", k.name())));
        }
        Ok(k)
    }

    fn single(id: NodeId) -> Vec<(&'static str, NodeId)> {
        vec![("", id)]
    }

    pub(super) fn lower_node(&mut self, node: &NodeDef) -> Result<Vec<(&'static str, NodeId)>, GraphError> {
        use OpDef as D;
        let l = &mut *self.lower;
        let id = match &node.op {
            D::Input { dtype, shape } => {
                // Extents are i64 in the plan (offsets, bounds): larger ones cannot be indexed.
                if let Some(&big) = shape.iter().flatten().find(|&&e| i64::try_from(e).is_err()) {
                    return Err(l.invalid(
                        "shape",
                        format!("an extent of at most {} (i64::MAX), found {big}", i64::MAX),
                    ));
                }
                l.push_input(&node.id, *dtype, Shape(shape.iter().map(|&d| d.into()).collect()))
            }
            D::Const { value } => l.constant(value.0),
            D::Param { default } => l.push(
                Op::Param {
                    name: node.id.clone(),
                    default: default.map(F64),
                },
                crate::DType::F64,
            )?,
            D::Neg { x } => self.unary(UnaryOp::Neg, x)?,
            D::Abs { x } => self.unary(UnaryOp::Abs, x)?,
            D::Sqrt { x } => self.unary(UnaryOp::Sqrt, x)?,
            D::Exp { x } => self.unary(UnaryOp::Exp, x)?,
            D::Log { x } => self.unary(UnaryOp::Log, x)?,
            D::IsNan { x } => self.unary(UnaryOp::IsNan, x)?,
            D::Add { a, b } => self.binary(BinaryOp::Add, a, b)?,
            D::Sub { a, b } => self.binary(BinaryOp::Sub, a, b)?,
            D::Mul { a, b } => self.binary(BinaryOp::Mul, a, b)?,
            D::Div { a, b } => self.binary(BinaryOp::Div, a, b)?,
            D::Min { a, b } => self.binary(BinaryOp::Min, a, b)?,
            D::Max { a, b } => self.binary(BinaryOp::Max, a, b)?,
            D::Lt { a, b } => self.binary(BinaryOp::Lt, a, b)?,
            D::Le { a, b } => self.binary(BinaryOp::Le, a, b)?,
            D::Gt { a, b } => self.binary(BinaryOp::Gt, a, b)?,
            D::Ge { a, b } => self.binary(BinaryOp::Ge, a, b)?,
            D::Eq { a, b } => self.binary(BinaryOp::Eq, a, b)?,
            D::Ne { a, b } => self.binary(BinaryOp::Ne, a, b)?,
            D::Select { cond, a, b } => {
                let (c, a, b) = (
                    self.operand("cond", cond)?,
                    self.operand("a", a)?,
                    self.operand("b", b)?,
                );
                self.lower.select(c, a, b)?
            }
            D::NanToNum { x, nan, posinf, neginf } => {
                let x = self.operand("x", x)?;
                let d = self.lower.dtype(x);
                let (max, min) = match d {
                    crate::DType::F32 => (f64::from(f32::MAX), f64::from(f32::MIN)),
                    _ => (f64::MAX, f64::MIN),
                };
                let (nan, posinf, neginf) = (nan.unwrap_or(0.0), posinf.unwrap_or(max), neginf.unwrap_or(min));
                self.lower.push(
                    Op::NanToNum {
                        x,
                        nan: F64(nan),
                        posinf: F64(posinf),
                        neginf: F64(neginf),
                    },
                    d,
                )?
            }
            D::Cast { x, dtype } => {
                let x = self.operand("x", x)?;
                if self.lower.dtype(x) == *dtype {
                    x
                } else {
                    self.lower.push(Op::Cast { x, to: *dtype }, *dtype)?
                }
            }
            D::Slice {
                x,
                axis,
                start,
                stop,
                step,
                len,
            } => self.slice(x, *axis, start.as_ref(), *stop, *step, *len)?,
            D::Permute { x, axes } => self.movement(x, |x| Op::Permute { x, axes: axes.clone() })?,
            D::Squeeze { x, axes } => self.movement(x, |x| Op::Squeeze { x, axes: axes.clone() })?,
            D::Expand { x, axis } => self.movement(x, |x| Op::Expand { x, axis: *axis })?,
            D::BroadcastTo { x, shape } => self.movement(x, |x| Op::BroadcastTo {
                x,
                shape: shape.clone(),
            })?,
            D::Reduce {
                x,
                kind,
                q,
                axes,
                keepdims,
                skip_nan,
                mask,
            } => {
                let kind = self.kind(*kind, *q)?;
                let x = self.operand("x", x)?;
                let mask = match mask {
                    Some(m) => Some(self.operand("where", m)?),
                    None => None,
                };
                self.reduce(x, kind, axes.clone(), *keepdims, *skip_nan, mask)?
            }
            D::Window {
                x,
                kind,
                q,
                weights,
                axis,
                size,
                skip_nan,
            } => {
                let x = self.operand("x", x)?;
                let size = self.window_size("size", *size)?;
                let kind = match (kind, weights) {
                    (KindName::Weighted, Some(w)) => {
                        if w.len() != size {
                            return Err(self.lower.invalid(
                                "weights",
                                format!("expected {size} weights (one per window element), found {}", w.len()),
                            ));
                        }
                        if w.iter().any(|v| !v.is_finite()) {
                            return Err(self.lower.invalid("weights", "weights must be finite numbers"));
                        }
                        WindowKind::Weighted(w.iter().map(|&v| F64(v)).collect())
                    }
                    (KindName::Weighted, None) => {
                        return Err(self
                            .lower
                            .invalid("weights", "a weighted window needs `weights`; found none"));
                    }
                    (k, Some(_)) => {
                        return Err(self
                            .lower
                            .invalid("weights", format!("`weights` only apply to kind weighted, found {k:?}")));
                    }
                    (k, None) => WindowKind::Reduce(self.kind(*k, *q)?),
                };
                self.window(x, kind, *axis, size, *skip_nan)?
            }
            D::PolygonMask {
                vertices,
                height,
                width,
                like,
            } => {
                let vertices = self.polygon("vertices", vertices)?;
                let (height, width) = match (height, width, like) {
                    (Some(h), Some(w), None) => (Extent::Fixed(*h), Extent::Fixed(*w)),
                    (None, None, Some(r)) => {
                        let node = self.reference("like", r)?;
                        self.lower
                            .require_rank("like", node, 4, "a stack (T, H, W, C) to take H and W from")?;
                        (Extent::Of { node, axis: 1 }, Extent::Of { node, axis: 2 })
                    }
                    _ => {
                        return Err(self.lower.invalid(
                            "like",
                            "polygon_mask needs either `height` and `width`, or `like` (a stack to take them from)",
                        ));
                    }
                };
                self.lower.push(
                    Op::PolygonMask {
                        vertices,
                        height,
                        width,
                    },
                    crate::DType::Bool,
                )?
            }
            helper => return self.helper(helper),
        };
        Ok(Self::single(id))
    }

    fn unary(&mut self, op: UnaryOp, x: &Operand) -> Result<NodeId, GraphError> {
        let x = self.operand("x", x)?;
        self.lower.unary(op, x)
    }

    fn binary(&mut self, op: BinaryOp, a: &Operand, b: &Operand) -> Result<NodeId, GraphError> {
        let (a, b) = (self.operand("a", a)?, self.operand("b", b)?);
        self.lower.binary(op, a, b)
    }

    fn movement(&mut self, x: &Operand, op: impl FnOnce(NodeId) -> Op) -> Result<NodeId, GraphError> {
        let x = self.operand("x", x)?;
        let d = self.lower.dtype(x);
        self.lower.push(op(x), d)
    }

    fn slice(
        &mut self,
        x: &Operand,
        axis: usize,
        start: Option<&SliceStart>,
        stop: Option<i64>,
        step: i64,
        len: Option<usize>,
    ) -> Result<NodeId, GraphError> {
        let x = self.operand("x", x)?;
        let d = self.lower.dtype(x);
        match start {
            Some(SliceStart::Param(r)) => {
                let start = self.reference("start", r)?;
                if !matches!(self.lower.node(start).op, Op::Param { .. }) {
                    return Err(self.lower.invalid(
                        "start",
                        format!("a non-numeric slice start must name a param node, found \"{r}\""),
                    ));
                }
                if stop.is_some() {
                    return Err(self
                        .lower
                        .invalid("stop", "a slice with a param start takes `len`, not `stop`"));
                }
                let len = len.ok_or_else(|| self.lower.invalid("len", "a slice with a param start needs `len`"))?;
                self.lower.push(
                    Op::SliceAt {
                        x,
                        axis,
                        start,
                        len,
                        step,
                    },
                    d,
                )
            }
            Some(SliceStart::Index(s)) => {
                if len.is_some() {
                    return Err(self
                        .lower
                        .invalid("len", "`len` only applies to a slice with a param start"));
                }
                self.lower.push(
                    Op::Slice {
                        x,
                        axis,
                        start: Some(*s),
                        stop,
                        step,
                    },
                    d,
                )
            }
            None => self.lower.push(
                Op::Slice {
                    x,
                    axis,
                    start: None,
                    stop,
                    step,
                },
                d,
            ),
        }
    }

    pub fn window_size(&self, field: &str, size: i64) -> Result<usize, GraphError> {
        if size < 1 {
            return Err(self
                .lower
                .invalid(field, format!("the window size must be at least 1, found {size}")));
        }
        Ok(size as usize)
    }

    /// A reduction, with its statistic dtype.
    pub fn reduce(
        &mut self,
        x: NodeId,
        kind: ReduceKind,
        axes: Vec<usize>,
        keepdims: bool,
        skip_nan: bool,
        mask: Option<NodeId>,
    ) -> Result<NodeId, GraphError> {
        let dtype = self.stat_dtype("x", x, |d| kind.out_dtype(d))?;
        if let Some(m) = mask
            && self.lower.dtype(m) != crate::DType::Bool
        {
            return Err(GraphError::Type {
                at: self.lower.at("where"),
                what: "reduce mask".into(),
                expected: "bool".into(),
                found: self.lower.dtype(m).to_string(),
            });
        }
        self.lower.push(
            Op::Reduce {
                x,
                kind,
                axes,
                keepdims,
                skip_nan,
                mask,
            },
            dtype,
        )
    }

    /// A window, with its statistic dtype.
    pub fn window(
        &mut self,
        x: NodeId,
        kind: WindowKind,
        axis: usize,
        size: usize,
        skip_nan: bool,
    ) -> Result<NodeId, GraphError> {
        let dtype = self.stat_dtype("x", x, |d| kind.out_dtype(d))?;
        self.lower.push(
            Op::Window {
                x,
                kind,
                axis,
                size,
                skip_nan,
            },
            dtype,
        )
    }

    fn stat_dtype(
        &self,
        field: &str,
        x: NodeId,
        rule: impl Fn(crate::DType) -> Option<crate::DType>,
    ) -> Result<crate::DType, GraphError> {
        let d = self.lower.dtype(x);
        rule(d).ok_or_else(|| GraphError::Type {
            at: self.lower.at(field),
            what: "statistic operand".into(),
            expected: "a numeric dtype (u8, u16, i32, f32, f64)".into(),
            found: d.to_string(),
        })
    }

    /// Checks polygon vertices: at least 3, all finite.
    pub fn polygon(&self, field: &str, vertices: &[[f64; 2]]) -> Result<Vec<[F64; 2]>, GraphError> {
        if vertices.len() < 3 {
            return Err(self.lower.invalid(
                field,
                format!(
                    "fewer than 3 vertices: a polygon needs at least 3, found {}",
                    vertices.len()
                ),
            ));
        }
        if let Some((i, v)) = vertices
            .iter()
            .enumerate()
            .find(|(_, v)| !v[0].is_finite() || !v[1].is_finite())
        {
            return Err(self
                .lower
                .invalid(field, format!("vertex {i} is {v:?}; expected finite coordinates")));
        }
        Ok(vertices.iter().map(|v| [F64(v[0]), F64(v[1])]).collect())
    }
}
