//! Streamed execution (DESIGN §8): a plan run chunk by chunk under a memory budget, inputs
//! read with `pread`, outputs written in place and committed all or nothing.
//!
//! [`Executable::run_to_files`] runs each kernel of the plan in turn, its tiles cut into
//! consecutive chunks ([`boxes::chunks`]) whose boxes — the elements of each streamed buffer
//! the chunk reads or writes, window halos and the sweep starts of running windows included —
//! fit the budget. Per chunk it reads the input boxes from their files, runs the chunk's
//! tiles on the executor's crew exactly as the in-memory run runs them, and writes the output
//! boxes into temporaries in the output directory, created at their final size. The tiles,
//! their order within a lane and the kernels are those of the in-memory run, so a streamed
//! run gives the same bits as the in-memory run for every budget and thread count.
//!
//! What is streamed: inputs given as files, outputs, and temps too large to keep (over a
//! quarter of the budget); small temps (a reference frame), constants and inputs given as
//! arrays stay whole in memory. When every output is written, [`commit::commit`] renames the
//! temporaries into place all or nothing; any error (or a cancel) leaves the directory as it
//! was, and a later run repairs what a killed one left ([`commit::recover`]).
//!
//! Limits: one tile must fit the budget (a reduction over T reads every frame of one tile's
//! pixels at once), else the run is refused before anything is allocated, naming the kernel
//! and the bytes it needs.

pub mod boxes;
pub mod commit;
pub mod file;

use crate::exec::{Chunk, Part};
use crate::npy::NpyError;
use crate::summary::Summary;
use crate::{Error, Executable, Options};
use rumba_ir::{Array, ArrayView, DType};
use rumba_plan::{BufferId, Kernel, Plan, Role};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An input of a streamed run.
#[derive(Clone, Debug)]
pub enum StreamInput<'a> {
    /// A `.npy` file, read box by box.
    File(&'a Path),
    /// An array in memory, used whole.
    Array(ArrayView<'a>),
    /// A [`crate::synthetic::stack`] of this dtype, shape and seed, generated box by box
    /// (never whole).
    Synthetic(DType, &'a [usize], u64),
}

/// How far a streamed run has got (given to [`StreamOptions::progress`] after each chunk).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Chunks done, over all kernels.
    pub done: usize,
    /// Chunks in all.
    pub total: usize,
    /// Bytes read and written so far.
    pub bytes: u64,
}

/// Options of a streamed run.
#[derive(Clone, Default)]
pub struct StreamOptions {
    /// Bytes the run may hold in memory for its data (chunks and resident temps);
    /// 0: [`default_memory_budget`].
    pub memory_budget: u64,
    /// Asked between two chunks; `true` stops the run: it then removes its temporaries and
    /// returns [`Error::Cancelled`], leaving the output directory as it was.
    pub cancel: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
    /// Called after each chunk.
    pub progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
    /// Test hooks of the commit (no environment variable or flag sets them).
    #[doc(hidden)]
    pub hooks: commit::Hooks,
}

impl std::fmt::Debug for StreamOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamOptions")
            .field("memory_budget", &self.memory_budget)
            .finish_non_exhaustive()
    }
}

/// The default memory budget: half of the memory the system reports available
/// (`MemAvailable` of `/proc/meminfo`), at least 256 MiB; 4 GiB where that is unknown.
#[must_use]
pub fn default_memory_budget() -> u64 {
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
        let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        kib.checked_mul(1024)
    });
    available.map_or(4 << 30, |bytes| (bytes / 2).max(256 << 20))
}

/// Parses a size: a number of bytes with an optional binary or decimal unit (`512MiB`,
/// `4GiB`, `1.5G`, `1000000`), case-insensitive.
///
/// # Errors
/// A message naming what was expected.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit = unit.trim().to_ascii_lowercase();
    let factor: u64 = match unit.as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => {
            return Err(format!(
                "expected a size like 512MiB or 4GiB, found {text:?} (unknown unit {unit:?})"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("expected a size like 512MiB or 4GiB, found {text:?}"))?;
    let bytes = value * factor as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("the size {text:?} is too large"));
    }
    Ok(bytes as u64)
}

/// One output a streamed run wrote.
#[derive(Clone, Debug)]
pub struct Written {
    /// The output's name.
    pub name: String,
    /// Its file (`DIR/<name>.npy`).
    pub path: PathBuf,
    /// Element type.
    pub dtype: DType,
    /// Extents.
    pub shape: Vec<usize>,
    /// Its values' summary.
    pub summary: Summary,
}

/// What a streamed run did.
#[derive(Clone, Debug, Default)]
pub struct StreamReport {
    /// The outputs, in output order.
    pub outputs: Vec<Written>,
    /// Chunks per kernel, in plan order.
    pub chunks: Vec<usize>,
    /// Bytes of data held in memory at most (chunks and resident temps), as planned.
    pub peak_bytes: u64,
    /// Each kernel's time, reading and writing its chunks included.
    pub kernels: Vec<Duration>,
    /// Time spent reading inputs and writing outputs.
    pub io: Duration,
    /// What was repaired in the output directory before the run (dead runs' commits).
    pub recovered: Vec<String>,
}

/// How each buffer is held in a streamed run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    /// Whole, in memory.
    Resident,
    /// A caller's array, whole.
    Given,
    /// Box by box, from and to a file.
    Streamed,
}

/// The chunking of a plan under a budget: the tiles of each kernel cut into chunks.
#[derive(Clone, Debug)]
pub struct Chunking {
    held: Vec<Held>,
    /// The chunks of each kernel.
    pub chunks: Vec<Vec<std::ops::Range<usize>>>,
    /// Bytes held at most: resident buffers plus the largest chunk of any kernel.
    pub peak_bytes: u64,
}

/// Cuts every kernel of `plan` into chunks for `budget` bytes, `given[b]` telling which input
/// buffers are caller arrays.
///
/// # Errors
/// [`Error::Budget`] when a resident buffer or one tile of a kernel does not fit.
pub fn chunking(plan: &Plan, slots: &[f64], given: &[bool], budget: u64) -> Result<Chunking, Error> {
    let mut held = Vec::with_capacity(plan.buffers.len());
    let mut resident = 0u64;
    for (b, buffer) in plan.buffers.iter().enumerate() {
        let bytes = buffer_bytes(plan, BufferId(b as u32));
        held.push(match buffer.role {
            Role::Input { .. } if given[b] => Held::Given,
            Role::Input { .. } | Role::Output { .. } => Held::Streamed,
            Role::Const { .. } => Held::Resident,
            Role::Temp if bytes <= budget / 4 => Held::Resident,
            Role::Temp => Held::Streamed,
        });
        if held[b] == Held::Resident {
            resident = resident.saturating_add(bytes);
        }
    }
    if resident > budget {
        return Err(Error::Budget {
            hint: crate::STREAMED_HINT,
            what: "the temps kept in memory".into(),
            needs: resident,
            budget,
        });
    }
    let room = budget - resident;
    let mut chunks = Vec::with_capacity(plan.kernels.len());
    let mut largest = 0u64;
    let streamed = |b: BufferId| held[b.0 as usize] == Held::Streamed;
    for kernel in &plan.kernels {
        let cut = boxes::chunks(plan, kernel, slots, &streamed, room).map_err(|needs| Error::Budget {
            hint: crate::STREAMED_HINT,
            what: format!(
                "one tile of kernel {} ({})",
                kernel.name,
                kernel.fused.first().map_or("", String::as_str)
            ),
            needs: needs.saturating_add(resident),
            budget,
        })?;
        for c in &cut {
            largest = largest.max(boxes::chunk_bytes(plan, &boxes::accesses(kernel, c, slots), &streamed));
        }
        chunks.push(cut);
    }
    Ok(Chunking {
        held,
        chunks,
        peak_bytes: resident.saturating_add(largest),
    })
}

fn buffer_bytes(plan: &Plan, b: BufferId) -> u64 {
    let buffer = plan.buffer(b);
    buffer
        .shape
        .iter()
        .fold(buffer.dtype.size() as u64, |n, &e| n.saturating_mul(e as u64))
}

/// Whether `kernel`'s one store to `b` writes every element of its box: a store whose map
/// sends distinct parallel axes one to one onto the buffer's dimensions (extent-1 dimensions
/// at index 0), in a kernel that does not load `b` and has no empty axis.
fn stores_whole_box(kernel: &Kernel, plan: &Plan, b: BufferId) -> bool {
    let shape = &plan.buffer(b).shape;
    let stores: Vec<_> = kernel.stores.iter().filter(|s| s.buffer == b).collect();
    let [store] = stores[..] else { return false };
    if kernel.loads.iter().any(|l| l.buffer == b) || kernel.domain.iter().any(|a| a.extent == 0) {
        return false;
    }
    let mut used = vec![false; kernel.domain.len()];
    store.map.dims.iter().zip(shape).all(|(d, &extent)| {
        if d.offset != 0 || !d.params.is_empty() {
            return false;
        }
        let axes: Vec<usize> = (0..d.coefs.len()).filter(|&a| d.coefs[a] != 0).collect();
        match axes[..] {
            [] => extent == 1,
            [a] if d.coefs[a] == 1 && !used[a] && !kernel.domain[a].reduced && kernel.domain[a].extent == extent => {
                used[a] = true;
                true
            }
            _ => false,
        }
    })
}

/// Where a streamed buffer's elements live.
enum Store {
    /// An input file.
    Source(file::Source),
    /// A synthetic input: dtype, shape, seed.
    Synthetic(DType, Vec<usize>, u64),
    /// An output (one file per output name that shows it) or a spilled temp.
    Sinks(Vec<file::Sink>),
}

impl Executable {
    /// The chunking a streamed run of this executable with every input a file would use
    /// within `budget` bytes (for `explain`).
    ///
    /// # Errors
    /// Bad params, and [`Error::Budget`] when the run cannot fit.
    pub fn stream_chunking(&self, params: &BTreeMap<String, f64>, budget: u64) -> Result<Chunking, Error> {
        let Some(plan) = self.plan() else {
            return Err(Error::Streaming("the interpreter backend runs in memory only".into()));
        };
        let slots = crate::exec::resolve_params(plan, params)?;
        chunking(plan, &slots, &vec![false; plan.buffers.len()], budget)
    }

    /// Runs on `inputs` (by name; files are read chunk by chunk) and writes every output to
    /// `dir/<name>.npy` within `options.memory_budget` bytes of data in memory, all or
    /// nothing (see the [module docs](crate::stream)). `dir` is created if needed.
    ///
    /// # Errors
    /// As [`Executable::run`]; [`Error::Budget`] when the run cannot fit the budget (before
    /// anything is allocated); [`Error::ReplacesInput`] for an output that would replace one
    /// of the inputs; [`Error::Npy`] naming the file for read and write errors (an input
    /// changed under the run among them); [`Error::Cancelled`]. On any error the output
    /// directory holds what it held before.
    pub fn run_to_files(
        &self,
        inputs: &[(&str, StreamInput<'_>)],
        params: &BTreeMap<String, f64>,
        dir: &Path,
        options: &StreamOptions,
    ) -> Result<StreamReport, Error> {
        let budget = if options.memory_budget == 0 {
            default_memory_budget()
        } else {
            options.memory_budget
        };
        // Tiles too large for the budget: the same graph compiled with smaller tiles (the
        // results do not depend on the tiles).
        let given: Vec<bool> = inputs.iter().map(|(_, i)| matches!(i, StreamInput::Array(_))).collect();
        let mut smaller: Option<Executable> = None;
        loop {
            let exe = smaller.as_ref().unwrap_or(self);
            let Some(plan) = exe.plan() else { break };
            let slots = crate::exec::resolve_params(plan, params)?;
            let mut given_buffers = vec![false; plan.buffers.len()];
            for (name, id) in &plan.inputs {
                let k = inputs.iter().position(|(n, _)| n == name);
                given_buffers[id.0 as usize] = k.is_some_and(|k| given[k]);
            }
            match chunking(plan, &slots, &given_buffers, budget) {
                Err(Error::Budget { needs, .. }) if exe.options.tile_points > 1 => {
                    let ratio = (needs / budget.max(1)).saturating_add(1).saturating_mul(2);
                    let points = (exe.options.tile_points as u64 / ratio).max(1) as usize;
                    let options = Options {
                        tile_points: points,
                        ..exe.options.clone()
                    };
                    smaller = Some(crate::compile(&exe.graph, &exe.inputs, &options)?);
                }
                _ => break,
            }
        }
        smaller
            .as_ref()
            .unwrap_or(self)
            .stream(inputs, params, dir, options, budget)
    }

    fn stream(
        &self,
        inputs: &[(&str, StreamInput<'_>)],
        params: &BTreeMap<String, f64>,
        dir: &Path,
        options: &StreamOptions,
        budget: u64,
    ) -> Result<StreamReport, Error> {
        let (Some(plan), Some(executor)) = (self.plan(), self.executor()) else {
            return Err(Error::Streaming(
                "the interpreter backend runs in memory only; use the JIT or the evaluator".into(),
            ));
        };
        // Inputs: files opened (headers checked), arrays taken as they are.
        // A (T, H, W) input of a C = 1 stack is read as (T, H, W, 1), and its C = 1 outputs
        // are written back as (T, H, W) (see `compile`).
        let mut sources: Vec<(String, Option<Store>, Option<ArrayView<'_>>)> = Vec::new();
        let mut specs: Vec<crate::InputSpec> = Vec::new();
        let mut reduced = false;
        for (name, input) in inputs {
            let implied = |dtype: DType, shape: &[usize]| {
                let spec = crate::InputSpec {
                    name: (*name).to_owned(),
                    dtype,
                    shape: shape.to_vec(),
                };
                rumba_ir::bind::implied_extents(&self.graph, &spec)
            };
            let (dtype, shape) = match input {
                StreamInput::File(path) => {
                    let mut source = file::Source::open(path)?;
                    if let Some(full) = implied(source.dtype(), source.shape()) {
                        reduced = true;
                        source = source.with_unit_axes(full.len());
                    }
                    let spec = (source.dtype(), source.shape().to_vec());
                    sources.push(((*name).to_owned(), Some(Store::Source(source)), None));
                    spec
                }
                StreamInput::Array(view) => {
                    let mut view = view.clone();
                    if let Some(full) = implied(view.dtype(), view.shape()) {
                        reduced = true;
                        view = view.with_unit_axes(full.len());
                    }
                    let spec = (view.dtype(), view.shape().to_vec());
                    sources.push(((*name).to_owned(), None, Some(view)));
                    spec
                }
                StreamInput::Synthetic(dtype, shape, seed) => {
                    let shape = implied(*dtype, shape).unwrap_or_else(|| shape.to_vec());
                    let store = Store::Synthetic(*dtype, shape.clone(), *seed);
                    sources.push(((*name).to_owned(), Some(store), None));
                    (*dtype, shape)
                }
            };
            specs.push(crate::InputSpec {
                name: (*name).to_owned(),
                dtype,
                shape,
            });
        }
        self.check_specs(&specs)?;
        let slots = crate::exec::resolve_params(plan, params)?;
        let mut given = vec![false; plan.buffers.len()];
        let mut input_of: Vec<Option<usize>> = vec![None; plan.buffers.len()];
        for (name, id) in &plan.inputs {
            let k = sources
                .iter()
                .position(|(n, _, _)| n == name)
                .expect("check_specs found every input");
            given[id.0 as usize] = sources[k].2.is_some();
            input_of[id.0 as usize] = Some(k);
        }
        let chunking = chunking(plan, &slots, &given, budget)?;
        // Output files: names checked, none replacing an input, room on the disk.
        let names: Vec<String> = plan.outputs.iter().map(|(n, _)| n.clone()).collect();
        for (i, name) in names.iter().enumerate() {
            crate::npy::check_name(dir, name, names[..i].contains(name))?;
        }
        crate::npy::create_dir(dir)?;
        let files: Vec<(&str, &Path)> = sources
            .iter()
            .filter_map(|(name, source, _)| match source {
                Some(Store::Source(s)) => Some((name.as_str(), s.path())),
                _ => None,
            })
            .collect();
        check_not_inputs(dir, &names, &files)?;
        let mut disk = 0u64;
        for (b, buffer) in plan.buffers.iter().enumerate() {
            let copies = match buffer.role {
                Role::Output { .. } => plan.outputs.iter().filter(|(_, id)| id.0 as usize == b).count() as u64,
                Role::Temp if chunking.held[b] == Held::Streamed => 1,
                _ => 0,
            };
            disk = disk.saturating_add(copies.saturating_mul(buffer_bytes(plan, BufferId(b as u32)) + 4096));
        }
        // Outputs that are inputs (passed through) are copied too.
        for (_, id) in &plan.outputs {
            if matches!(plan.buffer(*id).role, Role::Input { .. }) {
                disk = disk.saturating_add(buffer_bytes(plan, *id) + 4096);
            }
        }
        if let Some(free) = crate::sys::free_bytes(dir)
            && disk > free
        {
            return Err(Error::DiskFull {
                dir: dir.to_owned(),
                needs: disk,
                free,
            });
        }
        let (lock, recovered) = commit::RunLock::take(dir)?;

        // Storage: resident buffers whole, streamed ones through files.
        let mut resident: Vec<Option<Array>> = Vec::with_capacity(plan.buffers.len());
        let mut stores: Vec<Option<Store>> = Vec::with_capacity(plan.buffers.len());
        for (b, buffer) in plan.buffers.iter().enumerate() {
            let mut store = None;
            let mut whole = None;
            match (&buffer.role, chunking.held[b]) {
                (Role::Const { values }, _) => {
                    whole = Some(
                        crate::exec::constant_array(buffer.dtype, &buffer.shape, values)
                            .ok_or_else(|| Error::Streaming(format!("constant buffer {b} does not fit its shape")))?,
                    );
                }
                (Role::Temp, Held::Resident | Held::Given) => whole = Some(Array::zeros(buffer.dtype, &buffer.shape)),
                (Role::Temp, Held::Streamed) => {
                    let path = lock.spill(b);
                    store = Some(Store::Sinks(vec![file::Sink::create(
                        &path,
                        &path,
                        buffer.dtype,
                        &buffer.shape,
                    )?]));
                }
                (Role::Output { .. }, _) => {
                    let mut sinks = Vec::new();
                    for (name, id) in &plan.outputs {
                        if id.0 as usize == b {
                            let shown = dir.join(format!("{name}.npy"));
                            let header = header_shape(reduced, &buffer.shape);
                            sinks.push(file::Sink::create_as(
                                &lock.temporary(name),
                                &shown,
                                buffer.dtype,
                                &buffer.shape,
                                header,
                            )?);
                        }
                    }
                    store = Some(Store::Sinks(sinks));
                }
                (Role::Input { .. }, _) => {
                    let k = input_of[b].expect("every input buffer has a source");
                    store = sources[k].1.take();
                }
            }
            resident.push(whole);
            stores.push(store);
        }
        let views: Vec<Option<ArrayView<'_>>> = (0..plan.buffers.len())
            .map(|b| input_of[b].and_then(|k| sources[k].2.clone()))
            .collect();

        let natives = self.native_fns();
        let total: usize = chunking.chunks.iter().map(Vec::len).sum();
        let mut progress = Progress {
            done: 0,
            total,
            bytes: 0,
        };
        // Outputs stored by one kernel are summarised from the boxes it writes.
        let mut summaries: Vec<Option<Summary>> = (0..plan.buffers.len())
            .map(|b| {
                let writers = plan
                    .kernels
                    .iter()
                    .filter(|k| k.stores.iter().any(|s| s.buffer.0 as usize == b));
                (writers.count() == 1).then(Summary::default)
            })
            .collect();
        let mut chunks: Vec<Option<Chunk>> = (0..plan.buffers.len()).map(|_| None).collect();
        let mut report = StreamReport {
            chunks: chunking.chunks.iter().map(Vec::len).collect(),
            peak_bytes: chunking.peak_bytes,
            recovered,
            ..StreamReport::default()
        };
        for (k, kernel) in plan.kernels.iter().enumerate() {
            let start = Instant::now();
            let touched: Vec<bool> = (0..plan.buffers.len())
                .map(|b| {
                    kernel.loads.iter().any(|l| l.buffer.0 as usize == b)
                        || kernel.stores.iter().any(|s| s.buffer.0 as usize == b)
                })
                .collect();
            // Chunk memory of buffers this kernel does not touch is given back.
            for (b, c) in chunks.iter_mut().enumerate() {
                if !touched[b] {
                    *c = None;
                }
            }
            let whole: Vec<bool> = (0..plan.buffers.len())
                .map(|b| stores_whole_box(kernel, plan, BufferId(b as u32)))
                .collect();
            for b in 0..plan.buffers.len() {
                if touched[b] && kernel.stores.iter().any(|s| s.buffer.0 as usize == b) && !whole[b] {
                    summaries[b] = None; // summarised from the files at the end
                }
            }
            for tiles in &chunking.chunks[k] {
                if options.cancel.as_ref().is_some_and(|c| c()) {
                    return Err(Error::Cancelled);
                }
                let reach = boxes::accesses(kernel, tiles, &slots);
                let io = Instant::now();
                for a in &reach {
                    let b = a.buffer.0 as usize;
                    let Some(store) = &stores[b] else { continue };
                    let chunk = chunks[b].get_or_insert_with(|| Chunk::new(plan.buffers[b].dtype));
                    let fortran = matches!(store, Store::Source(s) if s.fortran());
                    chunk.set_box(&a.bounds, fortran);
                    match store {
                        Store::Source(s) => s.read_box(&a.bounds, chunk.bytes_mut())?,
                        Store::Synthetic(dtype, shape, seed) => {
                            crate::synthetic::fill_box(*dtype, shape, *seed, &a.bounds, chunk.bytes_mut());
                        }
                        Store::Sinks(sinks) if a.read || !whole[b] => {
                            sinks[0].read_box(&a.bounds, chunk.bytes_mut())?
                        }
                        Store::Sinks(_) => {}
                    }
                    progress.bytes += chunk.bytes().len() as u64 * u64::from(a.read || !whole[b]);
                }
                report.io += io.elapsed();
                let mut parts: Vec<Part<'_>> = Vec::with_capacity(plan.buffers.len());
                let mut chunk_refs = chunks.iter_mut();
                for (b, (r, c)) in resident.iter_mut().zip(chunk_refs.by_ref()).enumerate() {
                    let reached = reach.iter().any(|a| a.buffer.0 as usize == b);
                    parts.push(match (r, c, &views[b]) {
                        (_, _, Some(view)) => Part::Input(view.reborrow()),
                        (Some(array), _, _) => Part::Resident(array),
                        (None, Some(chunk), _) if reached => Part::Boxed(chunk),
                        _ => Part::Absent,
                    });
                }
                executor.run_chunk(plan, k, natives[k], &slots, &mut parts, tiles.clone())?;
                drop(parts);
                let io = Instant::now();
                for a in reach.iter().filter(|a| a.written) {
                    let b = a.buffer.0 as usize;
                    let (Some(Store::Sinks(sinks)), Some(chunk)) = (&stores[b], &chunks[b]) else {
                        continue;
                    };
                    for sink in sinks {
                        sink.write_box(&a.bounds, chunk.bytes())?;
                    }
                    progress.bytes += chunk.bytes().len() as u64;
                    if let Some(s) = &mut summaries[b] {
                        s.add_bytes(plan.buffers[b].dtype, chunk.bytes());
                    }
                }
                report.io += io.elapsed();
                progress.done += 1;
                if let Some(f) = &options.progress {
                    f(progress);
                }
            }
            report.kernels.push(start.elapsed());
        }
        drop(chunks);
        // Outputs that are inputs, copied; summaries the chunks could not give, read back.
        let io = Instant::now();
        let mut passthrough: Vec<(usize, file::Sink)> = Vec::new();
        for (i, (name, id)) in plan.outputs.iter().enumerate() {
            let b = id.0 as usize;
            if !matches!(plan.buffers[b].role, Role::Input { .. }) {
                continue;
            }
            let buffer = &plan.buffers[b];
            let shown = dir.join(format!("{name}.npy"));
            let header = header_shape(reduced, &buffer.shape);
            let sink = file::Sink::create_as(&lock.temporary(name), &shown, buffer.dtype, &buffer.shape, header)?;
            let mut summary = Summary::default();
            copy_frames(buffer, budget, &mut |bounds, chunk| {
                match (&stores[b], &views[b]) {
                    (Some(Store::Source(s)), _) => s.read_box(bounds, chunk.bytes_mut())?,
                    (Some(Store::Synthetic(dtype, shape, seed)), _) => {
                        crate::synthetic::fill_box(*dtype, shape, *seed, bounds, chunk.bytes_mut());
                    }
                    (_, Some(view)) => fill_from_view(view, bounds, chunk),
                    _ => {}
                }
                summary.add_bytes(buffer.dtype, chunk.bytes());
                sink.write_box(bounds, chunk.bytes())
            })?;
            passthrough.push((i, sink));
            summaries[b] = Some(summary);
        }
        for (b, buffer) in plan.buffers.iter().enumerate() {
            if summaries[b].is_some() || !matches!(buffer.role, Role::Output { .. }) {
                continue;
            }
            let Some(Store::Sinks(sinks)) = &stores[b] else {
                continue;
            };
            let mut summary = Summary::default();
            copy_frames(buffer, budget, &mut |bounds, chunk| {
                sinks[0].read_box(bounds, chunk.bytes_mut())?;
                summary.add_bytes(buffer.dtype, chunk.bytes());
                Ok(())
            })?;
            summaries[b] = Some(summary);
        }
        for store in stores.iter().flatten() {
            if let Store::Sinks(sinks) = store {
                sinks.iter().try_for_each(file::Sink::sync)?;
            }
        }
        passthrough.iter().try_for_each(|(_, s)| s.sync())?;
        report.io += io.elapsed();
        if options.cancel.as_ref().is_some_and(|c| c()) {
            return Err(Error::Cancelled);
        }
        let paths = commit::commit(&lock, &names, options.hooks)?;
        report.outputs = plan
            .outputs
            .iter()
            .zip(paths)
            .map(|((name, id), path)| {
                let buffer = plan.buffer(*id);
                Written {
                    name: name.clone(),
                    path,
                    dtype: buffer.dtype,
                    shape: buffer.shape.clone(),
                    summary: summaries[id.0 as usize].unwrap_or_default(),
                }
            })
            .collect();
        Ok(report)
    }
}

/// The shape an output's `.npy` header gives: without the C axis of a C = 1 stack when an
/// input was given without it (see `compile`).
fn header_shape(reduced: bool, shape: &[usize]) -> &[usize] {
    if reduced && shape.len() == 4 && shape[3] == 1 {
        &shape[..3]
    } else {
        shape
    }
}

/// Refuses outputs `dir/<name>.npy` that are one of the input `files` (by name and path).
///
/// # Errors
/// [`Error::ReplacesInput`] naming the output, the input and its file.
pub fn check_not_inputs(dir: &Path, names: &[String], files: &[(&str, &Path)]) -> Result<(), Error> {
    let dir = std::fs::canonicalize(dir).ok();
    for (input, path) in files {
        let Ok(file) = std::fs::canonicalize(path) else {
            continue;
        };
        for out in names {
            if dir.as_ref().map(|d| d.join(format!("{out}.npy"))) == Some(file.clone()) {
                return Err(Error::ReplacesInput {
                    output: out.clone(),
                    input: (*input).to_owned(),
                    path: path.to_path_buf(),
                });
            }
        }
    }
    Ok(())
}

/// A step over one box of a buffer, given its chunk.
type BoxVisitor<'a> = dyn FnMut(&[(i64, i64)], &mut Chunk) -> Result<(), NpyError> + 'a;

/// Calls `f` on consecutive frame ranges (along dimension 0) of `buffer`, each box in a
/// chunk of at most about `budget / 2` bytes.
fn copy_frames(buffer: &rumba_plan::Buffer, budget: u64, f: &mut BoxVisitor<'_>) -> Result<(), Error> {
    if buffer.shape.contains(&0) {
        return Ok(());
    }
    let mut chunk = Chunk::new(buffer.dtype);
    if buffer.shape.is_empty() {
        chunk.set_box(&[], false);
        return Ok(f(&[], &mut chunk)?);
    }
    let frame: u64 = buffer.shape[1..].iter().map(|&e| e as u64).product::<u64>() * buffer.dtype.size() as u64;
    let per = (budget / 2 / frame.max(1)).max(1) as i64;
    let n = buffer.shape[0] as i64;
    let mut t = 0;
    while t < n {
        let mut bounds: Vec<(i64, i64)> = buffer.shape.iter().map(|&e| (0, e as i64 - 1)).collect();
        bounds[0] = (t, (t + per).min(n) - 1);
        chunk.set_box(&bounds, false);
        f(&bounds, &mut chunk)?;
        t += per;
    }
    Ok(())
}

/// Copies box `bounds` of an array view into `chunk` (C order).
fn fill_from_view(view: &ArrayView<'_>, bounds: &[(i64, i64)], chunk: &mut Chunk) {
    use ndarray::Slice;
    let bytes = chunk.bytes_mut();
    rumba_ir::with_view!(view, a => {
        let mut part = a.clone();
        for (d, &(lo, hi)) in bounds.iter().enumerate() {
            part.slice_axis_inplace(ndarray::Axis(d), Slice::from(lo as isize..hi as isize + 1));
        }
        let size = view.dtype().size();
        for (v, out) in part.iter().zip(bytes.chunks_exact_mut(size)) {
            v.put(out);
        }
    });
}

/// An element written as native-endian bytes.
trait NeBytes: Copy {
    fn put(self, out: &mut [u8]);
}

macro_rules! impl_ne_bytes {
    ($($t:ty),*) => {$(
        impl NeBytes for $t {
            fn put(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_ne_bytes());
            }
        }
    )*};
}
impl_ne_bytes!(u8, u16, i32, f32, f64);

impl NeBytes for bool {
    fn put(self, out: &mut [u8]) {
        out[0] = u8::from(self);
    }
}
