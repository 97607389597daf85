//! Fusion: a bound, optimised [`Graph`] becomes a [`Plan`] of loop-nest kernels.
//!
//! Preconditions: the graph is bound ([`rumba_ir::bind::Bound`] gives every node's extents);
//! the graph passes ran (or were disabled). Postcondition: a plan that passes
//! [`rumba_plan::verify`], computing every graph output.
//!
//! ```text
//! out = (f32(x) − R) / R,  R = reduce(mean, [0], x[0:10])
//!   ⇒ k0: reduce stage over (T:10 reduced, 1, H, W, C) → buffer R
//!     k1: elementwise over (T, H, W, C): loads x and R (broadcast: stride 0 over T) → out
//! ```
//!
//! [`decide`] picks the materialised nodes and reduction stages (its docs state the rules);
//! [`kernel`] builds each kernel by tracing index maps ([`maps`], [`walk`]); the schedule
//! (which axis is tiled, how long a tile is) is chosen here, apart from what is computed.

mod decide;
mod kernel;
mod maps;
mod running;
mod walk;

use decide::{Stage, StageKey};
use kernel::{Builder, Ctx};
use rumba_ir::bind::Bound;
use rumba_ir::op::Op;
use rumba_ir::{Graph, NodeId};
use rumba_plan::{Buffer, BufferId, Kernel, Plan, Role, Schedule, Store};
use std::collections::BTreeMap;

/// Enough tiles to keep 8 threads busy when tiles are short: the tile axis is the outermost
/// parallel axis with at least this many iterations, if there is one.
pub const MIN_TILES: usize = 8;
/// The fewest points of an innermost-axis tile under a reduction (see `schedule`).
const MIN_INNER_RUN: usize = 256;

/// How fusion runs.
#[derive(Clone, Debug)]
pub struct FuseOptions {
    /// Fuse (the default); `false` materialises every node (a differential baseline).
    pub fusion: bool,
    /// Target number of domain points per tile (tiles split the outermost parallel axis).
    pub tile_points: usize,
    /// Evaluate windows with running state where the plan allows (the default; `false`
    /// reduces every window from its values, a differential baseline).
    pub running: bool,
}

impl Default for FuseOptions {
    fn default() -> FuseOptions {
        FuseOptions {
            fusion: true,
            tile_points: 1 << 20,
            running: true,
        }
    }
}

/// A fusion failure: always a bug in rumba, never bad user input (which binding rejects).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FuseError {
    /// An invariant of the fusion algorithm broke.
    #[error("internal fusion error: {0}")]
    Internal(String),
    /// The plan built does not verify.
    #[error(transparent)]
    Verify(#[from] rumba_plan::VerifyError),
}

impl FuseError {
    pub(crate) fn internal(message: impl Into<String>) -> FuseError {
        FuseError::Internal(message.into())
    }
}

/// Builds the plan of a bound graph.
///
/// # Errors
/// Only on an internal inconsistency (a bug), reported rather than panicking.
pub fn fuse(graph: &Graph, bound: &Bound, options: &FuseOptions) -> Result<Plan, FuseError> {
    let shapes = &bound.shapes;
    let mut ctx = Ctx {
        graph,
        shapes,
        slots: walk::Slots::default(),
        buffers: Vec::new(),
        buffer_of: Default::default(),
    };
    let mut inputs = Vec::new();
    for (name, id) in graph.inputs() {
        let buffer = add_buffer(&mut ctx, id, Role::Input { name: name.to_owned() });
        inputs.push((name.to_owned(), buffer));
    }
    // Every graph param has a slot, used or not, so a run accepts exactly the graph's params.
    for (_, _, id) in graph.params() {
        ctx.slots.named(graph, id);
    }
    let output_nodes: Vec<NodeId> = graph.outputs.iter().map(|o| o.node).collect();
    let decisions = decide::decide(graph, shapes, &output_nodes, options.fusion, &mut ctx.slots);

    // Buffers: one per output name, a temp for every other root.
    let mut outputs = Vec::new();
    let mut root_buffers: BTreeMap<NodeId, Vec<BufferId>> = BTreeMap::new();
    for out in &graph.outputs {
        let node = graph.node(out.node);
        ctx.buffers.push(Buffer {
            dtype: node.dtype,
            shape: shapes[out.node.index()].clone(),
            role: Role::Output { name: out.name.clone() },
        });
        let buffer = BufferId(ctx.buffers.len() as u32 - 1);
        outputs.push((out.name.clone(), buffer));
        root_buffers.entry(out.node).or_default().push(buffer);
    }
    for &root in &decisions.roots {
        if let std::collections::btree_map::Entry::Vacant(e) = root_buffers.entry(root) {
            e.insert(vec![add_buffer(&mut ctx, root, Role::Temp)]);
        }
        ctx.buffer_of.entry(root).or_insert(root_buffers[&root][0]);
    }

    let mut kernels = Vec::new();
    for group in groups(graph, shapes, &decisions.roots, &decisions.stages) {
        let stage = decisions
            .stages
            .get(&group[0])
            .map(|s| merged_stage(s, &group, &decisions.stages));
        let kernel = build(&mut ctx, &group, stage.as_ref(), &root_buffers, kernels.len(), options)?;
        kernels.push(kernel);
    }
    let plan = Plan {
        buffers: ctx.buffers,
        params: ctx.slots.sources,
        kernels,
        inputs,
        outputs,
    };
    rumba_plan::verify(&plan)?;
    Ok(plan)
}

fn add_buffer(ctx: &mut Ctx<'_>, node: NodeId, role: Role) -> BufferId {
    let n = ctx.graph.node(node);
    ctx.buffers.push(Buffer {
        dtype: n.dtype,
        shape: ctx.shapes[node.index()].clone(),
        role,
    });
    let id = BufferId(ctx.buffers.len() as u32 - 1);
    ctx.buffer_of.insert(node, id);
    id
}

/// Roots computed by one kernel: reduction roots with the same stage key and shape share one
/// (siblings: envelope min and max); every other root has its own. In root order, so every
/// kernel comes after the kernels writing what it reads.
fn groups(
    graph: &Graph,
    shapes: &[Vec<usize>],
    roots: &std::collections::BTreeSet<NodeId>,
    stages: &BTreeMap<NodeId, Stage>,
) -> Vec<Vec<NodeId>> {
    let mut groups: Vec<Vec<NodeId>> = Vec::new();
    let mut by_key: BTreeMap<(String, Vec<usize>), usize> = BTreeMap::new();
    for &root in roots {
        if matches!(graph.node(root).op, Op::Input { .. }) && !graph.outputs.iter().any(|o| o.node == root) {
            continue;
        }
        let own_stage = stages.get(&root).filter(|s| s.reductions == [root]);
        if let Some(stage) = own_stage {
            let key = (format!("{:?}", stage.key), shapes[root.index()].clone());
            if let Some(&g) = by_key.get(&key) {
                groups[g].push(root);
                continue;
            }
            by_key.insert(key, groups.len());
        }
        groups.push(vec![root]);
    }
    groups
}

/// The stage of a group: the members' reductions together.
fn merged_stage(first: &Stage, group: &[NodeId], stages: &BTreeMap<NodeId, Stage>) -> Stage {
    let mut stage = first.clone();
    for root in &group[1..] {
        if let Some(s) = stages.get(root) {
            stage.reductions.extend(s.reductions.iter().copied());
        }
    }
    stage
}

fn build(
    ctx: &mut Ctx<'_>,
    group: &[NodeId],
    stage: Option<&Stage>,
    root_buffers: &BTreeMap<NodeId, Vec<BufferId>>,
    index: usize,
    options: &FuseOptions,
) -> Result<Kernel, FuseError> {
    let graph = ctx.graph;
    let mut b = Builder::new(ctx, group, stage)?;
    let root_map = b.root_map();
    let mut stores = Vec::new();
    for &root in group {
        let value = b.trace(root, &root_map)?;
        for &buffer in &root_buffers[&root] {
            stores.push(Store {
                buffer,
                map: rumba_plan::IndexMap { dims: root_map.clone() },
                value,
            });
        }
    }
    let (domain, loads, exprs, reductions, spans) = (b.domain, b.loads, b.exprs, b.reductions, b.spans);
    let fused_nodes = b.fused;
    let mut kernel = Kernel {
        name: format!("k{index}_{}", graph.origin(group[0]).id),
        fused: fused_nodes
            .iter()
            .map(|&id| format!("{id} {} ({})", graph.node(id).op.name(), graph.origin(id).id))
            .collect(),
        domain,
        loads,
        exprs,
        reductions,
        stores,
        spans,
        running: None,
        schedule: Schedule {
            tile_axis: None,
            tile_len: 1,
            vector_width: 4,
        },
    };
    drop_unit_axes(&mut kernel);
    let window = stage.is_some_and(|s| matches!(s.key, StageKey::Window { .. }));
    if window && options.running {
        kernel.running = running::running_window(&kernel);
    }
    kernel.schedule = match &kernel.running {
        Some(r) => running::schedule(&kernel.domain, r, options),
        None => schedule(&kernel.domain, options),
    };
    Ok(kernel)
}

/// Removes domain axes of extent 1: they iterate once at coordinate 0, so dropping them and
/// their coefficients changes no address. The trailing channel axis of a (T, H, W, 1) stack
/// goes, and the innermost loop runs along W.
fn drop_unit_axes(kernel: &mut Kernel) {
    let keep: Vec<bool> = kernel.domain.iter().map(|a| a.extent != 1).collect();
    if keep.iter().all(|&k| k) {
        return;
    }
    let squeeze = |a: &mut rumba_plan::Affine| {
        a.coefs = a
            .coefs
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| *c)
            .collect();
    };
    for load in &mut kernel.loads {
        load.map.dims.iter_mut().for_each(squeeze);
    }
    for store in &mut kernel.stores {
        store.map.dims.iter_mut().for_each(squeeze);
    }
    for e in &mut kernel.exprs {
        if let rumba_plan::Expr::InSpans { row, col, .. } = &mut e.expr {
            squeeze(row);
            squeeze(col);
        }
    }
    kernel.domain = kernel
        .domain
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(a, _)| *a)
        .collect();
    // A kernel whose reduced axes all had extent 1 reduces over one point: keep one reduced
    // axis so it stays a reduction kernel.
    if !kernel.reductions.is_empty() && kernel.first_reduced().is_none() {
        kernel.domain.insert(
            0,
            rumba_plan::Axis {
                extent: 1,
                reduced: true,
            },
        );
        let widen = |a: &mut rumba_plan::Affine| a.coefs.insert(0, 0);
        kernel
            .loads
            .iter_mut()
            .for_each(|l| l.map.dims.iter_mut().for_each(widen));
        kernel
            .stores
            .iter_mut()
            .for_each(|s| s.map.dims.iter_mut().for_each(widen));
        for e in &mut kernel.exprs {
            if let rumba_plan::Expr::InSpans { row, col, .. } = &mut e.expr {
                widen(row);
                widen(col);
            }
        }
    }
}

/// Tiles cut one parallel axis — the outermost with at least [`MIN_TILES`] iterations, else
/// the outermost with more than one — into runs of about `options.tile_points` domain points,
/// and into at least [`MIN_TILES`] tiles where the axis has that many iterations.
/// Tiles are fixed here, never by the thread pool, so results do not depend on the number of
/// threads.
///
/// When a reduced axis lies outside the tile axis (a reduction over T with per-pixel lanes),
/// every tile sweeps the whole reduction and reads each reduced point's slice of the tile as
/// one run of whole rows: counting the reduced points would make those runs short (5 rows of
/// a 400-frame stack), so the points of one sweep are counted instead, capped so that the axis
/// still gives `2·MIN_TILES` tiles where it can (measured: 1.1–1.3× faster u8 mean/min/max
/// over T).
fn schedule(domain: &[rumba_plan::Axis], options: &FuseOptions) -> Schedule {
    let tile_axis = domain
        .iter()
        .position(|a| !a.reduced && a.extent >= MIN_TILES)
        .or_else(|| domain.iter().position(|a| !a.reduced && a.extent > 1));
    let tile_len = tile_axis.map_or(1, |t| {
        let extent = domain[t].extent;
        // (Not when the tile axis is the innermost: its tiles' runs are the tiles themselves.)
        let sweeps = domain[..t].iter().any(|a| a.reduced) && t + 1 < domain.len();
        let counted = |a: &(usize, &rumba_plan::Axis)| a.0 != t && !(sweeps && a.0 < t && a.1.reduced);
        let per_iteration: usize = domain
            .iter()
            .enumerate()
            .filter(counted)
            .map(|(_, a)| a.extent)
            .product();
        let len = options.tile_points / per_iteration.max(1);
        // At least MIN_TILES tiles where the axis allows, so a small kernel (one frame of a
        // slider) still runs on every thread.
        let len = if sweeps {
            len.min(extent.div_ceil(2 * MIN_TILES))
        } else {
            len.min(extent.div_ceil(MIN_TILES))
        };
        // A tile of the innermost axis under a reduction is its run of every reduced point:
        // at least MIN_INNER_RUN points, so those runs stay long enough for the hardware
        // prefetcher (measured: 64-point tiles of an 11-row band over 400 frames ran 1.5×
        // slower than 256-point ones). Tiles asked to be smaller than that (`tile_points`) are.
        let len = if t + 1 == domain.len() && domain[..t].iter().any(|a| a.reduced) {
            len.max(MIN_INNER_RUN.min(options.tile_points))
        } else {
            len
        };
        len.clamp(1, extent)
    });
    Schedule {
        tile_axis,
        tile_len,
        vector_width: 4,
    }
}
