//! Builds one kernel: the loop-nest domain (root axes, with a stage's reduced axes inserted
//! where they are in the reduction's input), then the expression DAG by tracing the roots
//! (and the stage's inputs) through inline nodes, composing index maps as it goes.

use super::FuseError;
use super::decide::{Stage, StageKey};
use super::maps::{self, NodeMap};
use super::walk::{self, Slots};
use rumba_ir::error::At;
use rumba_ir::op::{Op, WindowKind};
use rumba_ir::{DType, Graph, NodeId, polygon};
use rumba_plan::{
    Accumulate, Affine, Axis, Buffer, BufferId, Expr, ExprId, ExprNode, IndexMap, Load, Reduction, Role, SpanTable,
};
use std::collections::{BTreeSet, HashMap};

/// What the kernel builder needs from the whole plan under construction.
pub(crate) struct Ctx<'g> {
    pub graph: &'g Graph,
    pub shapes: &'g [Vec<usize>],
    pub slots: Slots,
    pub buffers: Vec<Buffer>,
    /// Materialised nodes (inputs and roots) and the buffer holding each.
    pub buffer_of: HashMap<NodeId, BufferId>,
}

/// A kernel under construction.
pub(crate) struct Builder<'a, 'g> {
    ctx: &'a mut Ctx<'g>,
    /// The nodes this kernel computes (never loaded from their own buffers).
    computing: Vec<NodeId>,
    pub domain: Vec<Axis>,
    /// Root axis i sits at domain index `root_pos[i]`.
    pub root_pos: Vec<usize>,
    pub loads: Vec<Load>,
    pub exprs: Vec<ExprNode>,
    pub reductions: Vec<Reduction>,
    pub spans: Vec<SpanTable>,
    pub fused: BTreeSet<NodeId>,
    memo: HashMap<(NodeId, NodeMap), ExprId>,
    load_memo: HashMap<(BufferId, NodeMap), ExprId>,
    span_memo: HashMap<NodeId, u32>,
    acc_of: HashMap<NodeId, u32>,
}

impl<'a, 'g> Builder<'a, 'g> {
    /// A kernel computing `roots` (one shape), with an optional reduction stage.
    pub fn new(ctx: &'a mut Ctx<'g>, roots: &[NodeId], stage: Option<&Stage>) -> Result<Builder<'a, 'g>, FuseError> {
        let root_shape = ctx.shapes[roots[0].index()].clone();
        let mut b = Builder {
            ctx,
            computing: roots.to_vec(),
            domain: Vec::new(),
            root_pos: Vec::new(),
            loads: Vec::new(),
            exprs: Vec::new(),
            reductions: Vec::new(),
            spans: Vec::new(),
            fused: BTreeSet::new(),
            memo: HashMap::new(),
            load_memo: HashMap::new(),
            span_memo: HashMap::new(),
            acc_of: HashMap::new(),
        };
        match stage {
            None => {
                b.domain = root_shape
                    .iter()
                    .map(|&extent| Axis { extent, reduced: false })
                    .collect();
                b.root_pos = (0..root_shape.len()).collect();
            }
            Some(stage) => b.stage(&root_shape, stage)?,
        }
        Ok(b)
    }

    fn rank(&self) -> usize {
        self.domain.len()
    }

    /// The identity map of the root axes, in domain coordinates.
    pub fn root_map(&self) -> NodeMap {
        let rank = self.rank();
        self.root_pos.iter().map(|&p| Affine::axis(p, rank)).collect()
    }

    /// Lays out the domain for a stage and registers its reductions.
    fn stage(&mut self, root: &[usize], stage: &Stage) -> Result<(), FuseError> {
        let axes =
            maps::stage_axes(&stage.map, root).ok_or_else(|| FuseError::internal("a stage without a stage map"))?;
        let (x, x_shape) = match &stage.key {
            StageKey::Reduce { x, .. } | StageKey::Window { x, .. } => (*x, self.ctx.shapes[x.index()].clone()),
        };
        // Walk the reduction input's axes, pushing root axes up to the one each output axis
        // follows, and the reduced axes where they are.
        let mut domain = Vec::new();
        let mut root_pos = vec![usize::MAX; root.len()];
        let mut next = 0;
        let mut push_roots = |upto: usize, domain: &mut Vec<Axis>, root_pos: &mut Vec<usize>| {
            while next <= upto && next < root.len() {
                root_pos[next] = domain.len();
                domain.push(Axis {
                    extent: root[next],
                    reduced: false,
                });
                next += 1;
            }
        };
        // For each input axis: Ok(output axis) or Err(domain position of its reduced loop).
        let mut input_axes: Vec<Result<usize, usize>> = Vec::new();
        let mut window_j = None;
        match &stage.key {
            StageKey::Reduce {
                axes: reduced,
                keepdims,
                ..
            } => {
                let mut out_axis = 0;
                for (a, &extent) in x_shape.iter().enumerate() {
                    if reduced.contains(&a) {
                        input_axes.push(Err(domain.len()));
                        domain.push(Axis { extent, reduced: true });
                        if *keepdims {
                            out_axis += 1;
                        }
                    } else {
                        if let Some(r) = axes[out_axis] {
                            push_roots(r, &mut domain, &mut root_pos);
                        }
                        input_axes.push(Ok(out_axis));
                        out_axis += 1;
                    }
                }
            }
            StageKey::Window { axis, size, .. } => {
                for (b, follows) in axes.iter().enumerate().take(x_shape.len()) {
                    if let Some(r) = *follows {
                        push_roots(r, &mut domain, &mut root_pos);
                    }
                    input_axes.push(Ok(b));
                    if b == *axis {
                        window_j = Some(domain.len());
                        domain.push(Axis {
                            extent: *size,
                            reduced: true,
                        });
                    }
                }
            }
        }
        push_roots(root.len().saturating_sub(1), &mut domain, &mut root_pos);
        self.domain = domain;
        self.root_pos = root_pos;
        let rank = self.rank();
        let stage_map = maps::reindex(&stage.map, &self.root_pos, rank);
        let input_map: NodeMap = input_axes
            .iter()
            .enumerate()
            .map(|(a, ax)| match *ax {
                Err(pos) => Affine::axis(pos, rank),
                Ok(d) => {
                    let mut m = stage_map[d].clone();
                    if let (StageKey::Window { axis, .. }, Some(j)) = (&stage.key, window_j)
                        && *axis == a
                    {
                        m.coefs[j] += 1;
                    }
                    m
                }
            })
            .collect();
        for &r in &stage.reductions {
            self.reduction(r, x, &x_shape, &input_map, window_j)?;
        }
        Ok(())
    }

    fn reduction(
        &mut self,
        node: NodeId,
        x: NodeId,
        x_shape: &[usize],
        input_map: &NodeMap,
        j: Option<usize>,
    ) -> Result<(), FuseError> {
        let graph = self.ctx.graph;
        let n = graph.node(node);
        let value = self.trace(x, input_map)?;
        let (kind, mask, skip_nan) = match &n.op {
            Op::Reduce {
                kind, mask, skip_nan, ..
            } => {
                let mask = match mask {
                    Some(m) => {
                        let map = maps::broadcast(input_map, x_shape, &self.ctx.shapes[m.index()], self.rank());
                        Some(self.trace(*m, &map)?)
                    }
                    None => None,
                };
                (Accumulate::Stat(*kind), mask, *skip_nan)
            }
            Op::Window {
                kind: WindowKind::Reduce(kind),
                skip_nan,
                ..
            } => (Accumulate::Stat(*kind), None, *skip_nan),
            Op::Window {
                kind: WindowKind::Weighted(w),
                ..
            } => {
                let j = j.ok_or_else(|| FuseError::internal("a window stage without its window axis"))?;
                let values = w.clone();
                self.ctx.buffers.push(Buffer {
                    dtype: DType::F64,
                    shape: vec![values.len()],
                    role: Role::Const { values },
                });
                let buffer = BufferId(self.ctx.buffers.len() as u32 - 1);
                let weight = self.load(buffer, vec![Affine::axis(j, self.rank())], DType::F64);
                (Accumulate::Weighted { weight }, None, false)
            }
            _ => return Err(FuseError::internal("a stage member that is not a reduction")),
        };
        self.fused.insert(node);
        self.reductions.push(Reduction {
            kind,
            value,
            mask,
            skip_nan,
            dtype: n.dtype,
            at: At::node(graph.origin(node)),
        });
        self.acc_of.insert(node, self.reductions.len() as u32 - 1);
        Ok(())
    }

    fn push(&mut self, expr: Expr, dtype: DType) -> ExprId {
        self.exprs.push(ExprNode { expr, dtype });
        ExprId(self.exprs.len() as u32 - 1)
    }

    fn load(&mut self, buffer: BufferId, map: NodeMap, dtype: DType) -> ExprId {
        if let Some(&e) = self.load_memo.get(&(buffer, map.clone())) {
            return e;
        }
        self.loads.push(Load {
            buffer,
            map: IndexMap { dims: map.clone() },
        });
        let e = self.push(
            Expr::Load {
                load: self.loads.len() as u32 - 1,
            },
            dtype,
        );
        self.load_memo.insert((buffer, map), e);
        e
    }

    /// The expression computing `node` at `map` (domain → node coordinates).
    ///
    /// A depth-first walk with its own stack, never the call stack, so a chain of any length
    /// fuses (DESIGN §8: no recursion depth limit in any pass); expressions are pushed in the
    /// post-order a recursive walk would give.
    pub fn trace(&mut self, node: NodeId, map: &NodeMap) -> Result<ExprId, FuseError> {
        struct Frame {
            node: NodeId,
            map: NodeMap,
            operands: Vec<(NodeId, NodeMap)>,
            ids: Vec<ExprId>,
        }
        let mut stack = match self.enter(node, map)? {
            Ok(expr) => return Ok(expr),
            Err(operands) => vec![Frame {
                node,
                map: map.clone(),
                ids: Vec::with_capacity(operands.len()),
                operands,
            }],
        };
        loop {
            let top = stack.last_mut().expect("the walk stops when its stack empties");
            if let Some((x, m)) = top.operands.get(top.ids.len()) {
                let (x, m) = (*x, m.clone());
                match self.enter(x, &m)? {
                    Ok(expr) => top.ids.push(expr),
                    Err(operands) => stack.push(Frame {
                        node: x,
                        map: m,
                        ids: Vec::with_capacity(operands.len()),
                        operands,
                    }),
                }
                continue;
            }
            let done = stack.pop().expect("a frame was on top");
            let expr = self.finish(done.node, &done.map, &done.ids);
            self.memo.insert((done.node, done.map), expr);
            match stack.last_mut() {
                Some(parent) => parent.ids.push(expr),
                None => return Ok(expr),
            }
        }
    }

    /// `Ok` with the expression of `node` at `map` when it needs no operand (memoised, an
    /// accumulator or a load), else `Err` with the operands to trace first.
    #[allow(clippy::type_complexity)]
    fn enter(&mut self, node: NodeId, map: &NodeMap) -> Result<Result<ExprId, Vec<(NodeId, NodeMap)>>, FuseError> {
        if let Some(&e) = self.memo.get(&(node, map.clone())) {
            return Ok(Ok(e));
        }
        let graph = self.ctx.graph;
        let n = graph.node(node);
        let expr = if let Some(&r) = self.acc_of.get(&node) {
            self.push(Expr::Acc { reduction: r }, n.dtype)
        } else if let (Some(&buffer), false) = (
            self.ctx.buffer_of.get(&node),
            // An input that is also an output is copied: loaded, never computed.
            self.computing.contains(&node) && !matches!(n.op, Op::Input { .. }),
        ) {
            self.load(buffer, map.clone(), n.dtype)
        } else {
            self.fused.insert(node);
            if let Op::Reduce { .. } | Op::Window { .. } | Op::Input { .. } = &n.op {
                return Err(FuseError::internal(format!(
                    "{node} ({}) reached but neither fused nor materialised",
                    n.op.name()
                )));
            }
            let rank = self.rank();
            return Ok(Err(walk::operands(
                graph,
                self.ctx.shapes,
                &mut self.ctx.slots,
                node,
                map,
                rank,
            )));
        };
        self.memo.insert((node, map.clone()), expr);
        Ok(Ok(expr))
    }

    /// The expression of a computed `node` at `map` whose operands' expressions are `ids`.
    fn finish(&mut self, node: NodeId, map: &NodeMap, ids: &[ExprId]) -> ExprId {
        let graph = self.ctx.graph;
        let n = graph.node(node);
        let expr = match &n.op {
            Op::Const { value } => Expr::Const { value: *value },
            Op::Param { .. } => Expr::Param {
                param: self.ctx.slots.named(graph, node),
            },
            Op::Unary { op, .. } => Expr::Unary { op: *op, x: ids[0] },
            Op::Binary { op, .. } => Expr::Binary {
                op: *op,
                a: ids[0],
                b: ids[1],
            },
            Op::Select { .. } => Expr::Select {
                cond: ids[0],
                a: ids[1],
                b: ids[2],
            },
            Op::NanToNum {
                nan, posinf, neginf, ..
            } => Expr::NanToNum {
                x: ids[0],
                nan: *nan,
                posinf: *posinf,
                neginf: *neginf,
            },
            Op::Cast { .. } => Expr::Cast { x: ids[0] },
            Op::PolygonMask { .. } => {
                let table = self.span_table(node);
                Expr::InSpans {
                    table,
                    row: map[1].clone(),
                    col: map[2].clone(),
                }
            }
            // Movement ops are index maps only: the operand's expression is the result.
            _ => return ids[0],
        };
        self.push(expr, n.dtype)
    }

    fn span_table(&mut self, node: NodeId) -> u32 {
        if let Some(&t) = self.span_memo.get(&node) {
            return t;
        }
        let Op::PolygonMask { vertices, .. } = &self.ctx.graph.node(node).op else {
            unreachable!("a polygon mask")
        };
        let shape = &self.ctx.shapes[node.index()];
        let (h, w) = (shape[1], shape[2]);
        let v: Vec<[f64; 2]> = vertices.iter().map(|p| [p[0].0, p[1].0]).collect();
        let rows = polygon::row_spans(&v, h, w);
        self.spans.push(SpanTable { width: w, rows });
        let t = self.spans.len() as u32 - 1;
        self.span_memo.insert(node, t);
        t
    }
}
