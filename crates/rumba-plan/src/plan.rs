//! The Plan: kernels in dependency order plus the buffers between them.
//!
//! A [`Kernel`] is a loop nest over a concrete iteration [`Kernel::domain`] (loop order = axis
//! order, outermost first). Each domain axis is *parallel* (an output coordinate) or
//! *reduced* (accumulated over). Per point, the kernel evaluates an expression DAG
//! ([`Kernel::exprs`]) over loads (a buffer plus an affine [`IndexMap`]: slices, permutes and
//! broadcasts are only index maps), params and constants. Without reductions every point
//! stores its results. With reductions, the values of [`Reduction::value`] are accumulated per
//! parallel coordinate, in domain order (so per lane in increasing index order of the reduced
//! axes); when a lane is complete, the *epilogue* — expressions that use [`Expr::Acc`] —
//! runs at its parallel coordinates and the stores write it. Windows are reductions too: a
//! window of `size` along an axis is a reduced axis `j` of extent `size` whose loads read
//! `k + j`.
//!
//! What is computed (domain, exprs, reductions) stays apart from how it is iterated
//! ([`Schedule`]: which parallel axis is cut into tiles and how long they are).

use rumba_ir::DType;
use rumba_ir::error::At;
use rumba_ir::numerics::Moments;
use rumba_ir::op::{BinaryOp, F64, ReduceKind, UnaryOp};

/// Index of a [`Buffer`] in [`Plan::buffers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BufferId(pub u32);

/// Index of an expression in [`Kernel::exprs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(pub u32);

/// Index of a run-time scalar slot in [`Plan::params`] (and in [`crate::KernelArgs::params`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(pub u32);

/// What a buffer holds and who owns it.
#[derive(Clone, Debug, PartialEq)]
pub enum Role {
    /// A graph input, supplied by the caller (any strides).
    Input {
        /// The input's name.
        name: String,
    },
    /// A graph output (C-contiguous; allocated by the executor or handed in by the caller).
    Output {
        /// The output's name.
        name: String,
    },
    /// An intermediate between two kernels (C-contiguous, allocated by the executor).
    Temp,
    /// Data fixed at plan time (weights of a weighted window), row-major, as f64 values of the
    /// buffer's dtype.
    Const {
        /// The values.
        values: Vec<F64>,
    },
}

/// A buffer of the plan: dtype, extents and role.
#[derive(Clone, Debug, PartialEq)]
pub struct Buffer {
    /// Element type.
    pub dtype: DType,
    /// Extents.
    pub shape: Vec<usize>,
    /// Who provides it.
    pub role: Role,
}

impl Buffer {
    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether it has no element.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Size in bytes.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.len() * self.dtype.size()
    }
}

/// Where a run-time scalar slot gets its value.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamSource {
    /// The user param `name` (its default if not supplied).
    Named {
        /// The param's name.
        name: String,
        /// Its default.
        default: Option<f64>,
        /// The param node, for errors.
        at: At,
    },
    /// The first index of a run-time slice (`slice_at`): the param `name` normalised
    /// (negative counts from the end) and checked to fit `len` elements every `step` on an
    /// axis of `extent`. The executor computes it before running; a bad value is an error
    /// naming `at`.
    SliceStart {
        /// The param's name.
        name: String,
        /// Its default.
        default: Option<f64>,
        /// Extent of the sliced axis.
        extent: usize,
        /// Number of elements taken.
        len: usize,
        /// Step (> 0).
        step: i64,
        /// The slice node, for errors.
        at: At,
    },
}

/// One axis of an iteration domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Axis {
    /// Number of iterations.
    pub extent: usize,
    /// Accumulated over (`true`) or an output coordinate (`false`).
    pub reduced: bool,
}

/// An affine function of the domain point: `offset + Σ coefs[a]·i[a] + Σ c·param`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Affine {
    /// Constant term.
    pub offset: i64,
    /// Coefficient per domain axis.
    pub coefs: Vec<i64>,
    /// Run-time terms: (slot, coefficient).
    pub params: Vec<(ParamId, i64)>,
}

impl Affine {
    /// The constant `offset` over a domain of `rank` axes.
    #[must_use]
    pub fn constant(offset: i64, rank: usize) -> Affine {
        Affine {
            offset,
            coefs: vec![0; rank],
            params: Vec::new(),
        }
    }

    /// Domain axis `axis` itself.
    #[must_use]
    pub fn axis(axis: usize, rank: usize) -> Affine {
        let mut a = Affine::constant(0, rank);
        a.coefs[axis] = 1;
        a
    }

    /// The value at a domain point with the given param slot values.
    #[must_use]
    pub fn eval(&self, point: &[usize], params: &[f64]) -> i64 {
        let mut v = self.offset;
        for (c, &i) in self.coefs.iter().zip(point) {
            v += c * i as i64;
        }
        for &(p, c) in &self.params {
            v += c * params[p.0 as usize] as i64;
        }
        v
    }

    /// Whether it depends on domain axis `axis`.
    #[must_use]
    pub fn uses(&self, axis: usize) -> bool {
        self.coefs[axis] != 0
    }
}

/// Maps a domain point to an element of a buffer: one [`Affine`] per buffer dimension. The
/// element's address uses the buffer's run-time strides ([`crate::BufferArg`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IndexMap {
    /// One affine per buffer dimension.
    pub dims: Vec<Affine>,
}

/// A load: a buffer read at an index map.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Load {
    /// The buffer.
    pub buffer: BufferId,
    /// Where each domain point reads.
    pub map: IndexMap,
}

/// The rows of a polygon mask: for each image row, the half-open column spans inside.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SpanTable {
    /// Image width (columns ≥ width are outside).
    pub width: usize,
    /// `rows[i]` = sorted, disjoint `[j0, j1)` spans of row i that are inside.
    pub rows: Vec<Vec<(u32, u32)>>,
}

impl SpanTable {
    /// Whether pixel (row, col) is inside.
    #[must_use]
    pub fn contains(&self, row: i64, col: i64) -> bool {
        let (Ok(r), Ok(c)) = (usize::try_from(row), u32::try_from(col)) else {
            return false;
        };
        self.rows
            .get(r)
            .is_some_and(|spans| spans.iter().any(|&(a, b)| a <= c && c < b))
    }
}

/// One node of a kernel's expression DAG; operands precede users.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    /// The value of `loads[load]` at the current point (the buffer's dtype).
    Load {
        /// Index into [`Kernel::loads`].
        load: u32,
    },
    /// A run-time scalar slot (f64).
    Param {
        /// The slot.
        param: ParamId,
    },
    /// A constant, exactly representable in the expression's dtype.
    Const {
        /// The value.
        value: F64,
    },
    /// Elementwise function of one operand (semantics as [`rumba_ir::Op::Unary`]).
    Unary {
        /// Which.
        op: UnaryOp,
        /// Operand.
        x: ExprId,
    },
    /// Elementwise function of two same-dtype operands (as [`rumba_ir::Op::Binary`]).
    Binary {
        /// Which.
        op: BinaryOp,
        /// Left.
        a: ExprId,
        /// Right.
        b: ExprId,
    },
    /// `cond ? a : b`.
    Select {
        /// Bool condition.
        cond: ExprId,
        /// Where true.
        a: ExprId,
        /// Where false.
        b: ExprId,
    },
    /// NaN/±Inf replaced (as [`rumba_ir::Op::NanToNum`]).
    NanToNum {
        /// Operand.
        x: ExprId,
        /// For NaN.
        nan: F64,
        /// For +Inf.
        posinf: F64,
        /// For −Inf.
        neginf: F64,
    },
    /// Conversion (as [`rumba_ir::Op::Cast`]).
    Cast {
        /// Operand.
        x: ExprId,
    },
    /// Bool: whether the pixel (`row`, `col`) is inside the polygon `spans[table]`.
    InSpans {
        /// Index into [`Kernel::spans`].
        table: u32,
        /// Image row as a function of the domain point.
        row: Affine,
        /// Image column as a function of the domain point.
        col: Affine,
    },
    /// The finished value of `reductions[reduction]` at the current parallel coordinates
    /// (epilogue only).
    Acc {
        /// Index into [`Kernel::reductions`].
        reduction: u32,
    },
}

impl Expr {
    /// The operands of this expression (leaves have none).
    #[must_use]
    pub fn operands(&self) -> Vec<ExprId> {
        match self {
            Expr::Unary { x, .. } | Expr::NanToNum { x, .. } | Expr::Cast { x } => vec![*x],
            Expr::Binary { a, b, .. } => vec![*a, *b],
            Expr::Select { cond, a, b } => vec![*cond, *a, *b],
            Expr::Load { .. } | Expr::Param { .. } | Expr::Const { .. } | Expr::InSpans { .. } | Expr::Acc { .. } => {
                Vec::new()
            }
        }
    }
}

/// An expression with its result dtype.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExprNode {
    /// The expression.
    pub expr: Expr,
    /// Its dtype.
    pub dtype: DType,
}

/// What a reduction accumulates.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Accumulate {
    /// A statistic (DESIGN §2): sums in f64 in domain order, the pinned moments of
    /// `rumba_ir::numerics` for var/std ([`Kernel::moments`]), sorted
    /// scratch for median/percentile; min/max NaN-propagating in the input dtype.
    Stat(ReduceKind),
    /// `Σ weight·value` in f64, in domain order (windows' `weighted`).
    Weighted {
        /// The weight at the current point (f64).
        weight: ExprId,
    },
}

/// An accumulator over the kernel's reduced axes, one per parallel coordinate.
#[derive(Clone, Debug, PartialEq)]
pub struct Reduction {
    /// What is accumulated.
    pub kind: Accumulate,
    /// The value accumulated at each point.
    pub value: ExprId,
    /// Points where this is false are skipped (a `where` mask), if any.
    pub mask: Option<ExprId>,
    /// NaN values are skipped (all-NaN lanes give NaN).
    pub skip_nan: bool,
    /// Result dtype.
    pub dtype: DType,
    /// The graph node, for run-time errors (an integer min/max over an empty masked lane).
    pub at: At,
}

/// A store: a buffer written at an index map with an expression's value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Store {
    /// The buffer.
    pub buffer: BufferId,
    /// Where each (parallel) point writes; never depends on a reduced axis.
    pub map: IndexMap,
    /// The value (its dtype is the buffer's).
    pub value: ExprId,
}

/// A window evaluated with running state (DESIGN §5, [`crate::running`]): the kernel's only
/// reduced axis is the window (`axis + 1`, of extent `size`), and its reductions are the
/// window's statistics. Instead of reducing every window from its `size` values, a sweep
/// visits the outputs `k` of `axis` in increasing order and carries each lane's state from
/// one output to the next: output `k` is *rebuilt* from its whole window when it is the
/// first of a sweep or a multiple of `restart`; every other output steps the state with the
/// value entering the window (reduced index `size − 1`) and the one leaving it (reduced
/// index 0 of output `k − 1`). A tile that starts at `k0` sweeps from the restart point at or
/// before it (`k0` itself without a restart period), storing from `k0` on; so the bits depend
/// neither on tiles nor on threads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Running {
    /// The parallel axis the window slides along.
    pub axis: usize,
    /// The restart period (`None`: the algorithms are exact, rebuilt only where a sweep
    /// starts).
    pub restart: Option<usize>,
}

impl Running {
    /// The first output a sweep over outputs `k0..` must rebuild at.
    #[must_use]
    pub fn sweep_start(&self, k0: usize) -> usize {
        match self.restart {
            Some(r) => k0 / r * r,
            None => k0,
        }
    }

    /// Whether output `k` of a sweep that started at `start` is rebuilt.
    #[must_use]
    pub fn rebuilds(&self, k: usize, start: usize) -> bool {
        k == start || self.restart.is_some_and(|r| k.is_multiple_of(r))
    }
}

/// How a kernel is iterated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Schedule {
    /// The parallel domain axis cut into tiles run independently (`None`: one tile).
    pub tile_axis: Option<usize>,
    /// Iterations of `tile_axis` per tile (≥ 1).
    pub tile_len: usize,
    /// Elements per vector the backend should aim for (a hint).
    pub vector_width: usize,
}

/// A fused loop-nest kernel. See the module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    /// A short name (`k0_pipeline`).
    pub name: String,
    /// The graph nodes computed here, as `"%id op (user node)"` text, for `explain`.
    pub fused: Vec<String>,
    /// The loop nest, outermost first.
    pub domain: Vec<Axis>,
    /// Buffer reads.
    pub loads: Vec<Load>,
    /// The expression DAG.
    pub exprs: Vec<ExprNode>,
    /// Accumulators (empty for elementwise kernels).
    pub reductions: Vec<Reduction>,
    /// Buffer writes.
    pub stores: Vec<Store>,
    /// Polygon masks as row spans.
    pub spans: Vec<SpanTable>,
    /// A window evaluated with running state, if any.
    pub running: Option<Running>,
    /// Tiling.
    pub schedule: Schedule,
}

impl Kernel {
    /// Index of the first reduced axis (`None` for elementwise kernels).
    #[must_use]
    pub fn first_reduced(&self) -> Option<usize> {
        self.domain.iter().position(|a| a.reduced)
    }

    /// Number of tiles.
    #[must_use]
    pub fn tiles(&self) -> usize {
        match self.schedule.tile_axis {
            Some(a) => self.domain[a].extent.div_ceil(self.schedule.tile_len.max(1)),
            None => 1,
        }
    }

    /// Points each lane of a reduction sees at most: the product of the reduced extents.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.domain.iter().filter(|a| a.reduced).map(|a| a.extent).product()
    }

    /// How var/std of reduction `r` are computed (`rumba_ir::numerics`): from its value's
    /// dtype and the lanes' [`Kernel::capacity`].
    #[must_use]
    pub fn moments(&self, r: usize) -> Moments {
        let value = self.reductions[r].value;
        Moments::of(self.exprs[value.0 as usize].dtype, self.capacity())
    }

    /// The running window spec of reduction `r` of a [`Running`] kernel.
    #[must_use]
    pub fn window_spec(&self, r: usize) -> Option<crate::running::WindowSpec> {
        let running = self.running.as_ref()?;
        let red = self.reductions.get(r)?;
        let Accumulate::Stat(kind) = red.kind else { return None };
        Some(crate::running::WindowSpec {
            kind,
            value: self.exprs[red.value.0 as usize].dtype,
            size: self.domain.get(running.axis + 1)?.extent,
            skip_nan: red.skip_nan,
        })
    }

    /// Number of domain points.
    #[must_use]
    pub fn points(&self) -> usize {
        self.domain.iter().map(|a| a.extent).product()
    }

    /// The expressions `roots` need (themselves included), as ascending indices into
    /// [`Kernel::exprs`].
    #[must_use]
    pub fn closure(&self, roots: impl IntoIterator<Item = usize>) -> Vec<usize> {
        let mut need = vec![false; self.exprs.len()];
        for r in roots {
            need[r] = true;
        }
        for i in (0..need.len()).rev() {
            if need[i] {
                for o in self.exprs[i].expr.operands() {
                    need[o.0 as usize] = true;
                }
            }
        }
        (0..need.len()).filter(|&i| need[i]).collect()
    }

    /// For each expression, whether it is evaluated per lane after accumulation (it uses an
    /// [`Expr::Acc`], directly or through its operands).
    #[must_use]
    pub fn epilogue_mask(&self) -> Vec<bool> {
        let mut epi = vec![false; self.exprs.len()];
        for (i, e) in self.exprs.iter().enumerate() {
            epi[i] = match &e.expr {
                Expr::Acc { .. } => true,
                Expr::Unary { x, .. } | Expr::NanToNum { x, .. } | Expr::Cast { x } => epi[x.0 as usize],
                Expr::Binary { a, b, .. } => epi[a.0 as usize] || epi[b.0 as usize],
                Expr::Select { cond, a, b } => epi[cond.0 as usize] || epi[a.0 as usize] || epi[b.0 as usize],
                Expr::Load { .. } | Expr::Param { .. } | Expr::Const { .. } | Expr::InSpans { .. } => false,
            };
        }
        epi
    }
}

/// Kernels in dependency order and the buffers between them.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Every buffer.
    pub buffers: Vec<Buffer>,
    /// Run-time scalar slots.
    pub params: Vec<ParamSource>,
    /// The kernels, in an order where each reads only buffers written before it.
    pub kernels: Vec<Kernel>,
    /// Graph inputs: (name, buffer).
    pub inputs: Vec<(String, BufferId)>,
    /// Graph outputs in graph order: (name, buffer).
    pub outputs: Vec<(String, BufferId)>,
}

impl Plan {
    /// The buffer with this id.
    #[must_use]
    pub fn buffer(&self, id: BufferId) -> &Buffer {
        &self.buffers[id.0 as usize]
    }

    /// Bytes a kernel reads: per buffer, every element inside the bounding box of all its
    /// loads, once (the logical traffic of DESIGN §6; re-reads from cache are not counted).
    /// Params count as 0, so a run-time slice reads the same amount wherever it starts.
    #[must_use]
    pub fn bytes_read(&self, kernel: &Kernel) -> usize {
        let mut boxes: Vec<(BufferId, Vec<(i64, i64)>)> = Vec::new();
        for load in &kernel.loads {
            let zeros = vec![0.0; self.params.len()];
            let ranges = crate::verify::map_ranges(kernel, &load.map, &zeros);
            match boxes.iter_mut().find(|(b, _)| *b == load.buffer) {
                Some((_, r)) => {
                    for (acc, new) in r.iter_mut().zip(ranges) {
                        *acc = (acc.0.min(new.0), acc.1.max(new.1));
                    }
                }
                None => boxes.push((load.buffer, ranges)),
            }
        }
        if kernel.domain.iter().any(|a| a.extent == 0) {
            return 0;
        }
        // Saturating: a window or lag near i64::MAX makes boxes whose volume overflows.
        boxes
            .iter()
            .map(|(b, r)| {
                r.iter()
                    .map(|&(lo, hi)| usize::try_from(hi.saturating_sub(lo).saturating_add(1)).unwrap_or(0))
                    .fold(self.buffer(*b).dtype.size(), usize::saturating_mul)
            })
            .fold(0, usize::saturating_add)
    }

    /// Bytes a kernel writes (every stored element once).
    #[must_use]
    pub fn bytes_written(&self, kernel: &Kernel) -> usize {
        let mut seen = Vec::new();
        for s in &kernel.stores {
            if !seen.contains(&s.buffer) {
                seen.push(s.buffer);
            }
        }
        seen.iter().map(|b| self.buffer(*b).bytes()).sum()
    }
}
