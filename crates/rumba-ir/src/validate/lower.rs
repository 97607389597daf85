//! The lowering context: appends typed primitive nodes, applying DESIGN §1's promotion rules
//! (explicit casts, weak scalars) and inferring shapes, with errors naming the current
//! user-level node.

use super::infer::{Issue, infer_shape};
use crate::dtype::DType;
use crate::error::{At, GraphError};
use crate::graph::{Constraint, Node, NodeId, Origin, OriginId};
use crate::op::{BinaryOp, F64, Op, UnaryOp};
use crate::shape::Shape;

/// Builds the node arena of a [`crate::Graph`]; `origin` is the user node being lowered.
pub(crate) struct Lower {
    pub nodes: Vec<Node>,
    pub origins: Vec<Origin>,
    pub constraints: Vec<Constraint>,
    pub origin: OriginId,
}

/// Turns a shape-inference issue into an error naming `origin`.
pub(crate) fn issue_error(issue: Issue, origin: &Origin) -> GraphError {
    match issue {
        Issue::Broadcast { field, a, b } => GraphError::Shape {
            at: At::field(origin, field),
            what: "operands do not broadcast".into(),
            expected: format!("shapes compatible with {a}"),
            found: b.to_string(),
        },
        Issue::Axis { field, axis, rank } => GraphError::Axis {
            at: At::field(origin, field),
            axis: axis as i64,
            rank,
        },
        Issue::Invalid { field, message } => GraphError::Invalid {
            at: At::field(origin, field),
            message,
        },
        Issue::Shape {
            field,
            what,
            expected,
            found,
        } => GraphError::Shape {
            at: At::field(origin, field),
            what,
            expected,
            found,
        },
    }
}

impl Lower {
    pub fn new() -> Lower {
        Lower {
            nodes: Vec::new(),
            origins: Vec::new(),
            constraints: Vec::new(),
            origin: OriginId(0),
        }
    }

    /// Starts lowering a new user-level node.
    pub fn begin(&mut self, origin: Origin) {
        self.origin = OriginId(self.origins.len() as u32);
        self.origins.push(origin);
    }

    pub fn current(&self) -> &Origin {
        &self.origins[self.origin.0 as usize]
    }

    pub fn at(&self, field: &str) -> At {
        At::field(self.current(), field)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    pub fn dtype(&self, id: NodeId) -> DType {
        self.node(id).dtype
    }

    pub fn shape(&self, id: NodeId) -> &Shape {
        &self.node(id).shape
    }

    pub fn invalid(&self, field: &str, message: impl Into<String>) -> GraphError {
        GraphError::Invalid {
            at: self.at(field),
            message: message.into(),
        }
    }

    fn type_error(&self, field: &str, what: &str, expected: &str, found: String) -> GraphError {
        GraphError::Type {
            at: self.at(field),
            what: what.into(),
            expected: expected.into(),
            found,
        }
    }

    /// Appends a node whose dtype is already decided; infers its shape. Weak iff every
    /// operand is weak (and it has operands), or it is a const/param.
    pub fn push(&mut self, op: Op, dtype: DType) -> Result<NodeId, GraphError> {
        let shape = match &op {
            Op::Input { .. } => unreachable!("inputs are pushed with push_input"),
            _ => infer_shape(&op, |id| &self.nodes[id.index()].shape)
                .map_err(|issue| issue_error(issue, self.current()))?,
        };
        let operands = op.operands();
        let weak = match &op {
            Op::Const { .. } | Op::Param { .. } => true,
            Op::Cast { .. } => false,
            _ => !operands.is_empty() && operands.iter().all(|o| self.node(*o).weak),
        };
        Ok(self.append(Node {
            op,
            dtype,
            shape,
            weak,
            origin: self.origin,
        }))
    }

    pub fn push_input(&mut self, name: &str, dtype: DType, shape: Shape) -> NodeId {
        self.append(Node {
            op: Op::Input { name: name.to_owned() },
            dtype,
            shape,
            weak: false,
            origin: self.origin,
        })
    }

    fn append(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        NodeId(self.nodes.len() as u32 - 1)
    }

    /// A weak f64 scalar constant.
    pub fn constant(&mut self, value: f64) -> NodeId {
        self.push(Op::Const { value: F64(value) }, DType::F64)
            .expect("a constant always has a shape")
    }

    /// `x` converted to `to` (no node when it already has that dtype).
    pub fn cast(&mut self, x: NodeId, to: DType) -> NodeId {
        if self.dtype(x) == to {
            return x;
        }
        self.push(Op::Cast { x, to }, to)
            .expect("a cast keeps its operand's shape")
    }

    fn numeric(&self, field: &str, what: &str, x: NodeId) -> Result<DType, GraphError> {
        let d = self.dtype(x);
        if d == DType::Bool {
            return Err(self.type_error(field, what, "a numeric dtype (u8, u16, i32, f32, f64)", d.to_string()));
        }
        Ok(d)
    }

    /// Arithmetic (`add sub mul div`): both sides in their arithmetic float dtype; a weak side
    /// takes the other side's.
    pub fn arith(&mut self, op: BinaryOp, a: NodeId, b: NodeId) -> Result<NodeId, GraphError> {
        let what = format!("operands of {}", Op::Binary { op, a, b }.name());
        let da = self.numeric("a", &what, a)?;
        let db = self.numeric("b", &what, b)?;
        let t = match (self.node(a).weak, self.node(b).weak) {
            (true, true) => DType::F64,
            (true, false) => db.arith().expect("numeric"),
            (false, true) => da.arith().expect("numeric"),
            (false, false) => DType::arith_pair(da, db).expect("numeric"),
        };
        let (a, b) = (self.cast(a, t), self.cast(b, t));
        self.push(Op::Binary { op, a, b }, t)
    }

    /// The common dtype of `min max select` and comparisons, with weak scalars adopting the
    /// array's dtype (a comparison of an integer array with a scalar is done exactly, in f64).
    fn common(&self, what: &str, a: NodeId, b: NodeId, comparison: bool) -> Result<DType, GraphError> {
        let (na, nb) = (self.node(a), self.node(b));
        let t = match (na.weak, nb.weak) {
            (true, true) => Some(DType::F64),
            (true, false) | (false, true) => {
                let array = if na.weak { nb.dtype } else { na.dtype };
                Some(if comparison && array.is_int() {
                    DType::F64
                } else {
                    array
                })
            }
            (false, false) => DType::common(na.dtype, nb.dtype),
        };
        t.ok_or_else(|| {
            self.type_error(
                "b",
                what,
                "dtypes that combine (two numeric dtypes, or bool with bool)",
                format!("{} and {}", na.dtype, nb.dtype),
            )
        })
    }

    /// `min max` and comparisons.
    pub fn compare(&mut self, op: BinaryOp, a: NodeId, b: NodeId) -> Result<NodeId, GraphError> {
        let name = Op::Binary { op, a, b }.name();
        let t = self.common(&format!("operands of {name}"), a, b, op.is_comparison())?;
        if !op.is_comparison() && t == DType::Bool {
            return Err(self.type_error("a", &format!("operands of {name}"), "numeric dtypes", "bool".into()));
        }
        let (a, b) = (self.cast(a, t), self.cast(b, t));
        let out = if op.is_comparison() { DType::Bool } else { t };
        self.push(Op::Binary { op, a, b }, out)
    }

    /// Any binary op by kind.
    pub fn binary(&mut self, op: BinaryOp, a: NodeId, b: NodeId) -> Result<NodeId, GraphError> {
        if op.is_arithmetic() {
            self.arith(op, a, b)
        } else {
            self.compare(op, a, b)
        }
    }

    /// `cond ? a : b`.
    pub fn select(&mut self, cond: NodeId, a: NodeId, b: NodeId) -> Result<NodeId, GraphError> {
        if self.dtype(cond) != DType::Bool {
            return Err(self.type_error("cond", "condition of select", "bool", self.dtype(cond).to_string()));
        }
        let t = self.common("operands of select", a, b, false)?;
        let (a, b) = (self.cast(a, t), self.cast(b, t));
        self.push(Op::Select { cond, a, b }, t)
    }

    /// Elementwise functions of one operand.
    pub fn unary(&mut self, op: UnaryOp, x: NodeId) -> Result<NodeId, GraphError> {
        let what = format!("operand of {}", Op::Unary { op, x }.name());
        let d = self.numeric("x", &what, x)?;
        match op {
            UnaryOp::Neg if d.is_unsigned() => {
                Err(self.type_error("x", &what, "a signed dtype (i32, f32, f64)", d.to_string()))
            }
            UnaryOp::Abs if d.is_unsigned() => Ok(x),
            UnaryOp::Neg | UnaryOp::Abs => self.push(Op::Unary { op, x }, d),
            UnaryOp::IsNan => self.push(Op::Unary { op, x }, DType::Bool),
            UnaryOp::Sqrt | UnaryOp::Exp | UnaryOp::Log => {
                let t = if self.node(x).weak {
                    DType::F64
                } else {
                    d.arith().expect("numeric")
                };
                let x = self.cast(x, t);
                self.push(Op::Unary { op, x }, t)
            }
        }
    }

    /// Records a check that needs concrete extents.
    pub fn constrain(&mut self, c: Constraint) {
        self.constraints.push(c);
    }

    /// The compute type `ct` of a stack (f64 for f64 and i32, else f32); bool is an error.
    pub fn ct(&self, field: &str, x: NodeId) -> Result<DType, GraphError> {
        let d = self.numeric(field, "stack operand", x)?;
        Ok(d.arith().expect("numeric"))
    }

    /// Requires `x` to have rank `rank`.
    pub fn require_rank(&self, field: &str, x: NodeId, rank: usize, what: &str) -> Result<(), GraphError> {
        let s = self.shape(x);
        if s.rank() == rank {
            return Ok(());
        }
        Err(GraphError::Shape {
            at: self.at(field),
            what: what.into(),
            expected: format!("rank {rank}"),
            found: format!("rank {} {s}", s.rank()),
        })
    }
}
