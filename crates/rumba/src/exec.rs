//! The executor: runs a [`Plan`] on a crew of threads (DESIGN §3 step 5, §4, §5).
//!
//! [`Executor::run`] checks the plan ([`rumba_plan::verify()`], [`rumba_plan::eval::check`]),
//! resolves params into the plan's run-time slots and matches the inputs to its input
//! buffers (with the errors binding a graph gives), allocates temps and outputs
//! (C-contiguous, zero-initialised) and materialises constant buffers, builds one
//! [`BufferArg`] per plan buffer and checks them with [`check_args`]. Then it runs the
//! kernels in order; each is cut into the tiles its [`rumba_plan::Schedule`] fixes, and the
//! tiles run in parallel on the executor's [`crew`] (the calling thread and spinning helpers),
//! one kernel call per tile. Tiles are fixed by the plan, not by the threads, and the tiles of
//! a kernel write disjoint elements, so
//! the results are bitwise identical for any number of threads. A kernel whose tiles cannot
//! be shown to write disjoint elements (see [`tiles_are_independent`]) runs its tiles in one
//! call on the calling thread instead.
//!
//! The only backend so far is the plan evaluator ([`rumba_plan::eval::run_kernel`]); compiled
//! kernels will be called the same way, through the same [`KernelArgs`].
//!
//! All `unsafe` of the executor is in this file and in [`crew`] (one lifetime erasure).

mod crew;
mod resolve;
mod storage;

pub use storage::ArrayViewMut;

use rumba_ir::{Array, ArrayView, At, DType, GraphError};
use rumba_jit::abi::KernelFn;
use rumba_plan::args::{ArgsError, check_args, reachable};
use rumba_plan::eval::{EvalError, run_kernel};
use rumba_plan::{Accumulate, BufferArg, Kernel, KernelArgs, Plan, Role, VerifyError};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use storage::Raw;

/// Named outputs and where the time of the call went.
pub type Profiled = (Vec<(String, Array)>, RunReport);

/// Where the time of one run went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Allocating the executor's temps and outputs (zeroed where a kernel may skip an
    /// element), including the first-touch page faults of the large ones, which are faulted
    /// in before the kernels run ([`populate`]).
    pub allocate: Duration,
    /// Each kernel's wall time, in plan order.
    pub kernels: Vec<Duration>,
}

/// Arrays of at least this many bytes are advised onto transparent huge pages (2 MiB), as
/// NumPy does for large arrays: a fresh 420 MB output then costs ~200 page faults instead
/// of ~100,000 (4 KiB each) where the kernel's THP mode is `madvise`.
pub const HUGE_PAGE_MIN_BYTES: usize = 4 << 20;

/// A zero-filled, C-contiguous array of `dtype` and `shape` (as [`Array::zeros`]: the memory
/// comes zeroed from the allocator, untouched for large sizes), advised onto transparent
/// huge pages when it holds [`HUGE_PAGE_MIN_BYTES`] or more.
#[must_use]
pub fn zeroed(dtype: DType, shape: &[usize]) -> Array {
    let mut a = Array::zeros(dtype, shape);
    let bytes = shape.iter().product::<usize>() * dtype.size();
    if bytes >= HUGE_PAGE_MIN_BYTES {
        advise_huge_pages(storage::raw_array(&mut a).ptr, bytes);
    }
    a
}

/// Memory for a temp or output that a kernel stores completely before anything reads it
/// ([`fully_written`]): allocated without zeroing (zeroing a recycled 1 MB buffer costs
/// more than the one-frame kernel that fills it), advised onto huge pages when large, and an
/// [`Array`] only once the kernels have run ([`Fresh::into_array`]).
pub(crate) struct Fresh {
    ptr: *mut u8,
    layout: std::alloc::Layout,
    dtype: DType,
    shape: Vec<usize>,
}

impl Fresh {
    /// Uninitialised memory for a C-contiguous array of `dtype` and `shape`, or `None` when
    /// it is empty or its size overflows (the caller then zeroes an array as before).
    pub(crate) fn new(dtype: DType, shape: &[usize]) -> Option<Fresh> {
        let len = shape.iter().try_fold(1usize, |n, &e| n.checked_mul(e))?;
        let size = dtype.size();
        let layout = std::alloc::Layout::from_size_align(len.checked_mul(size)?, size).ok()?;
        if layout.size() == 0 {
            return None;
        }
        // SAFETY: the layout has a non-zero size (checked above).
        let ptr = unsafe { std::alloc::alloc(layout) };
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        if cfg!(debug_assertions) {
            // Tests see a poison pattern, not a previous run's values, wherever a kernel
            // would fail to store.
            // SAFETY: `ptr` holds `layout.size()` bytes just allocated.
            unsafe { ptr.write_bytes(0xA5, layout.size()) };
        }
        if layout.size() >= HUGE_PAGE_MIN_BYTES {
            advise_huge_pages(ptr, layout.size());
        }
        Some(Fresh {
            ptr,
            layout,
            dtype,
            shape: shape.to_vec(),
        })
    }

    /// Its size in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.layout.size()
    }

    /// The buffer as the kernel ABI sees it (C-contiguous strides).
    pub(crate) fn raw(&self) -> Raw {
        let mut strides = vec![1i64; self.shape.len()];
        for a in (0..self.shape.len().saturating_sub(1)).rev() {
            strides[a] = strides[a + 1] * self.shape[a + 1] as i64;
        }
        Raw { ptr: self.ptr, strides }
    }

    /// The array the kernels wrote.
    ///
    /// # Safety
    /// Every element must have been written (the plan's kernels ran to completion and
    /// [`fully_written`] held for this buffer).
    pub(crate) unsafe fn into_array(self) -> Array {
        let len = self.layout.size() / self.dtype.size();
        let shape = ndarray::IxDyn(&self.shape);
        let (ptr, dtype) = (self.ptr, self.dtype);
        std::mem::forget(self);
        macro_rules! wrap {
            ($t:ty, $v:ident) => {{
                // SAFETY: `ptr` came from the global allocator with the layout of `len` values
                // of `$t` (size and alignment of the dtype), every one of them written (the
                // caller's guarantee), and ownership moves into the vector (`self` forgotten).
                let v = unsafe { Vec::from_raw_parts(ptr.cast::<$t>(), len, len) };
                Array::$v(ndarray::ArrayD::from_shape_vec(shape, v).expect("the shape holds len elements"))
            }};
        }
        match dtype {
            DType::Bool => {
                // Kernels store bools as 0/1 bytes, the valid `bool` bit patterns.
                wrap!(bool, Bool)
            }
            DType::U8 => wrap!(u8, U8),
            DType::U16 => wrap!(u16, U16),
            DType::I32 => wrap!(i32, I32),
            DType::F32 => wrap!(f32, F32),
            DType::F64 => wrap!(f64, F64),
        }
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `alloc(layout)` and is freed once (into_array forgets self).
        unsafe { std::alloc::dealloc(self.ptr, self.layout) }
    }
}

// SAFETY: a `Fresh` owns its allocation exclusively, like a `Vec`.
unsafe impl Send for Fresh {}

/// Whether some kernel of `plan` stores every element of buffer `b` and none of its kernels
/// can skip a point: a store whose map sends distinct parallel domain axes of the buffer's
/// extents one to one onto the buffer's dimensions (extent-1 dimensions at index 0), in a
/// kernel whose every axis has at least one iteration. Such a buffer needs no zeroing.
pub fn fully_written(plan: &Plan, b: rumba_plan::BufferId) -> bool {
    let shape = &plan.buffer(b).shape;
    plan.kernels.iter().any(|k| {
        k.domain.iter().all(|a| a.extent > 0)
            && k.stores.iter().any(|s| {
                let mut used = vec![false; k.domain.len()];
                s.buffer == b
                    && s.map.dims.iter().zip(shape).all(|(d, &extent)| {
                        if d.offset != 0 || !d.params.is_empty() {
                            return false;
                        }
                        let axes: Vec<usize> = (0..d.coefs.len()).filter(|&a| d.coefs[a] != 0).collect();
                        match axes[..] {
                            [] => extent == 1,
                            [a] if d.coefs[a] == 1
                                && !used[a]
                                && !k.domain[a].reduced
                                && k.domain[a].extent == extent =>
                            {
                                used[a] = true;
                                true
                            }
                            _ => false,
                        }
                    })
            })
    })
}

/// Asks the kernel to back the whole pages of `[ptr, ptr + bytes)` with huge pages
/// (`madvise(MADV_HUGEPAGE)`); a refusal (THP disabled, another OS) changes nothing.
fn advise_huge_pages(ptr: *mut u8, bytes: usize) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = (ptr as usize).next_multiple_of(PAGE);
        let end = (ptr as usize).saturating_add(bytes) / PAGE * PAGE;
        if end > start {
            // SAFETY: `[start, end)` is whole pages inside one live allocation of `bytes`
            // bytes at `ptr`; MADV_HUGEPAGE only changes how the kernel backs those pages
            // (never their contents) and touches no memory of this process.
            let _ = unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, bytes);
}

/// The 2 MiB huge page of x86-64 and arm64 Linux.
const HUGE_PAGE: usize = 2 << 20;

/// A 2 MiB chunk that takes longer than this to fault in as a huge page came from memory the
/// host has taken back: measured on the 2-core Firecracker VM (free page reporting returns
/// idle 2 MiB blocks to the host), a cold huge page costs ~5 ms against ~0.24 ms for a warm
/// one, while 4 KiB pages, taken from the guest's fragmented free lists, cost ~0.65 ms per
/// 2 MiB when populated in bulk.
const COLD_HUGE_PAGE: Duration = Duration::from_millis(1);

/// Faults in the whole pages of the large temps and outputs of `owned` before the kernels
/// run, 2 MiB-aligned chunk by chunk on the crew (`MADV_POPULATE_WRITE`, Linux ≥ 5.14): the
/// chunks are advised onto huge pages, and once a chunk turns out cold
/// ([`COLD_HUGE_PAGE`]) every chunk after it is faulted in as 4 KiB pages
/// (`MADV_NOHUGEPAGE` first). A fresh 185 MB output then costs ~25 ms when huge pages are
/// warm and ~55 ms when they are cold, instead of ~25 or ~350 ms faulted by the kernels.
/// Where the kernel does not know the advice (another OS, an older Linux, THP disabled),
/// nothing is populated and the kernels fault the pages as before.
fn populate(crew: &crew::Crew, owned: &mut [Option<storage::Owned>]) {
    #[cfg(target_os = "linux")]
    {
        use std::sync::atomic::AtomicBool;
        const PAGE: usize = 4096;
        let mut chunks: Vec<(usize, usize)> = Vec::new();
        for o in owned.iter_mut().flatten() {
            let bytes = o.bytes();
            if bytes < HUGE_PAGE_MIN_BYTES {
                continue;
            }
            let ptr = o.raw().ptr as usize;
            let (mut at, end) = (ptr.next_multiple_of(PAGE), ptr.saturating_add(bytes) / PAGE * PAGE);
            while at < end {
                let next = (at + 1).next_multiple_of(HUGE_PAGE).min(end);
                chunks.push((at, next - at));
                at = next;
            }
        }
        let (cold, refused) = (AtomicBool::new(false), AtomicBool::new(false));
        crew.run(chunks.len(), &|k| {
            if refused.load(Ordering::Relaxed) {
                return;
            }
            let (at, len) = chunks[k];
            let advise = |advice| {
                // SAFETY: `[at, at + len)` is whole pages inside one live allocation of
                // `owned` (the chunks were cut from it above and it outlives this call);
                // MADV_NOHUGEPAGE only changes how the kernel backs those pages, and
                // MADV_POPULATE_WRITE faults them in as a write would without changing a
                // byte (untouched pages read as zero), touching no other memory.
                unsafe { libc::madvise(at as *mut libc::c_void, len, advice) == 0 }
            };
            if cold.load(Ordering::Relaxed) {
                advise(libc::MADV_NOHUGEPAGE);
            }
            let start = Instant::now();
            if !advise(libc::MADV_POPULATE_WRITE) {
                refused.store(true, Ordering::Relaxed);
                return;
            }
            if len == HUGE_PAGE && start.elapsed() > COLD_HUGE_PAGE {
                cold.store(true, Ordering::Relaxed);
            }
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (crew, owned);
}

/// Executor options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecOptions {
    /// Worker threads; 0 = one per core.
    pub threads: usize,
}

/// What can go wrong running a plan.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// A param or input is missing, unknown or of the wrong dtype or shape, or a slice start
    /// is not an integer or out of range; names the param, input or node.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A caller's output array is missing, unknown, duplicated or of the wrong dtype or shape.
    #[error("output \"{name}\": {message}")]
    Output {
        /// The output's name.
        name: String,
        /// What was expected and found.
        message: String,
    },
    /// A reduction failed at run time (an integer min/max over a lane its mask left empty).
    #[error("{at}: {message}")]
    Reduction {
        /// The reduction's graph node.
        at: At,
        /// What failed.
        message: String,
    },
    /// The plan breaks an invariant (a bug in the optimizer).
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The evaluator cannot run a kernel of the plan (a bug in the optimizer).
    #[error(transparent)]
    Unsupported(#[from] EvalError),
    /// The kernel arguments do not fit the plan (a bug in the executor).
    #[error(transparent)]
    Args(#[from] ArgsError),
    /// The worker threads could not be started.
    #[error("cannot start {threads} worker threads: {source}")]
    ThreadPool {
        /// Threads asked for.
        threads: usize,
        /// Why.
        source: std::io::Error,
    },
}

/// Runs plans on a crew of threads started once: the calling thread and `threads − 1`
/// helpers, which spin for [`crew::SPIN`] after a kernel before they sleep.
#[derive(Debug)]
pub struct Executor {
    crew: crew::Crew,
}

/// The arguments shared by the tiles of a kernel.
struct SharedArgs(KernelArgs);

// SAFETY: `KernelArgs` is only raw pointers to (1) the `BufferArg`s, strides and params,
// which live in `Executor::execute`'s frame or its caller's until every tile has finished and
// are only read; (2) buffer elements: tiles read inputs, constants and earlier kernels'
// results (nobody writes those while a kernel runs) and write disjoint elements
// (`tiles_are_independent`, else the tiles run in one call on one thread); (3) the error slot,
// accessed only atomically while tiles run. So sharing it between the crew's threads creates
// no data race.
unsafe impl Sync for SharedArgs {}

impl Executor {
    /// An executor with `threads` worker threads (0 = one per core).
    ///
    /// # Errors
    /// [`ExecError::ThreadPool`] if the threads cannot be started.
    pub fn new(threads: usize) -> Result<Executor, ExecError> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            threads
        };
        let crew = crew::Crew::new(threads).map_err(|source| ExecError::ThreadPool { threads, source })?;
        Ok(Executor { crew })
    }

    /// An executor with these options.
    ///
    /// # Errors
    /// As [`Executor::new`].
    pub fn with_options(options: &ExecOptions) -> Result<Executor, ExecError> {
        Executor::new(options.threads)
    }

    /// The number of threads running tiles, the calling thread included.
    #[must_use]
    pub fn threads(&self) -> usize {
        self.crew.threads()
    }

    /// Runs `plan` on `inputs` (by name, any strides) with `params` (by name; missing ones
    /// take their defaults). Returns the outputs in `plan.outputs` order as owned,
    /// C-contiguous arrays.
    ///
    /// # Errors
    /// See [`ExecError`]: bad inputs or params, a reduction failing at run time, a plan the
    /// executor cannot run.
    pub fn run(
        &self,
        plan: &Plan,
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
    ) -> Result<Vec<(String, Array)>, ExecError> {
        self.run_native(plan, &[], inputs, params)
    }

    /// Like [`Executor::run`], running kernel `k` as the compiled function `natives[k]` where
    /// it is `Some` (and on the plan evaluator otherwise, or when `natives` is shorter).
    ///
    /// # Errors
    /// As [`Executor::run`].
    pub fn run_native(
        &self,
        plan: &Plan,
        natives: &[Option<KernelFn>],
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
    ) -> Result<Vec<(String, Array)>, ExecError> {
        self.run_profiled(plan, natives, inputs, params)
            .map(|(outputs, _)| outputs)
    }

    /// Like [`Executor::run_native`], also returning each kernel's wall time.
    ///
    /// # Errors
    /// As [`Executor::run`].
    pub fn run_profiled(
        &self,
        plan: &Plan,
        natives: &[Option<KernelFn>],
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
    ) -> Result<Profiled, ExecError> {
        self.profiled(plan, natives, inputs, params, Verify::Now)
    }

    /// [`Executor::run_profiled`] on a plan that passed [`check_plan`] (the facade's
    /// executables check theirs once, at compile time, not on every call).
    pub(crate) fn run_profiled_checked(
        &self,
        plan: &Plan,
        natives: &[Option<KernelFn>],
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
    ) -> Result<Profiled, ExecError> {
        self.profiled(plan, natives, inputs, params, Verify::Done)
    }

    fn profiled(
        &self,
        plan: &Plan,
        natives: &[Option<KernelFn>],
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
        verify: Verify,
    ) -> Result<Profiled, ExecError> {
        let (slots, which) = prepare(plan, inputs, params, verify)?;
        let start = Instant::now();
        let mut owned = storage::allocate(plan, &vec![false; plan.buffers.len()])?;
        populate(&self.crew, &mut owned);
        let allocate = start.elapsed();
        let mut raws: Vec<Option<Raw>> = owned.iter_mut().map(|a| a.as_mut().map(storage::Owned::raw)).collect();
        for ((_, id), &k) in plan.inputs.iter().zip(&which) {
            raws[id.0 as usize] = Some(storage::raw_view(&inputs[k].1));
        }
        let raws = storage::complete(raws)?;
        // SAFETY: `raws` describes `owned` (allocated with each buffer's dtype and shape, not
        // touched until `execute` returns) and the caller's input views (borrowed for this
        // call; verify guarantees no kernel stores to an input). A kernel reads a temp only
        // after the kernel that writes it ran (verify), so uninitialised memory is never read.
        let kernels = unsafe { self.execute(plan, natives, &slots, &raws)? };
        // SAFETY: every kernel ran to completion (`execute` returned Ok).
        let mut owned: Vec<Option<Array>> = owned.into_iter().map(|o| o.map(|o| unsafe { o.finish() })).collect();
        let mut outputs = Vec::with_capacity(plan.outputs.len());
        for (k, (name, id)) in plan.outputs.iter().enumerate() {
            let b = id.0 as usize;
            let used_later = plan.outputs[k + 1..].iter().any(|(_, j)| j == id);
            let array = if used_later { owned[b].clone() } else { owned[b].take() };
            let array = array.unwrap_or_else(|| {
                // Not allocated here: an input buffer, copied into a C-contiguous array.
                let k = plan.inputs.iter().position(|(_, j)| j == id).map(|i| which[i]);
                let view = &inputs[k.expect("complete() found storage for every buffer")].1;
                rumba_ir::with_view!(view, a => Array::from(a.as_standard_layout().into_owned()))
            });
            outputs.push((name.clone(), array));
        }
        Ok((outputs, RunReport { allocate, kernels }))
    }

    /// Like [`Executor::run`], writing the outputs into the caller's arrays (by name; each
    /// must have the output's dtype and shape; any strides), so a loop re-running a plan
    /// allocates only its temps. Every output of the plan must be given exactly once.
    ///
    /// # Errors
    /// As [`Executor::run`], and [`ExecError::Output`] for a missing, unknown or duplicated
    /// output or one of the wrong dtype or shape. On an error the outputs' contents are
    /// unspecified.
    pub fn run_into(
        &self,
        plan: &Plan,
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
        outputs: &mut [(&str, ArrayViewMut<'_>)],
    ) -> Result<(), ExecError> {
        self.run_into_native(plan, &[], inputs, params, outputs)
    }

    /// Like [`Executor::run_into`], with compiled kernels as in [`Executor::run_native`].
    ///
    /// # Errors
    /// As [`Executor::run_into`].
    pub fn run_into_native(
        &self,
        plan: &Plan,
        natives: &[Option<KernelFn>],
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
        outputs: &mut [(&str, ArrayViewMut<'_>)],
    ) -> Result<(), ExecError> {
        self.write_outputs(plan, natives, inputs, params, outputs, Verify::Now)
    }

    /// [`Executor::run_into_native`] on a plan that passed [`check_plan`].
    pub(crate) fn run_into_checked(
        &self,
        plan: &Plan,
        natives: &[Option<KernelFn>],
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
        outputs: &mut [(&str, ArrayViewMut<'_>)],
    ) -> Result<(), ExecError> {
        self.write_outputs(plan, natives, inputs, params, outputs, Verify::Done)
    }

    fn write_outputs(
        &self,
        plan: &Plan,
        natives: &[Option<KernelFn>],
        inputs: &[(&str, ArrayView<'_>)],
        params: &BTreeMap<String, f64>,
        outputs: &mut [(&str, ArrayViewMut<'_>)],
        verify: Verify,
    ) -> Result<(), ExecError> {
        let (slots, which) = prepare(plan, inputs, params, verify)?;
        let places = resolve::match_outputs(plan, outputs)?;
        // The first output naming an output buffer receives the kernels' writes.
        let mut direct: Vec<Option<usize>> = vec![None; plan.buffers.len()];
        for ((_, id), &j) in plan.outputs.iter().zip(&places) {
            let b = id.0 as usize;
            if matches!(plan.buffers[b].role, Role::Output { .. }) && direct[b].is_none() {
                direct[b] = Some(j);
            }
        }
        let is_direct: Vec<bool> = direct.iter().map(Option::is_some).collect();
        let mut owned = storage::allocate(plan, &is_direct)?;
        populate(&self.crew, &mut owned);
        let mut raws: Vec<Option<Raw>> = owned.iter_mut().map(|a| a.as_mut().map(storage::Owned::raw)).collect();
        for (b, j) in direct.iter().enumerate() {
            if let Some(j) = *j {
                raws[b] = Some(storage::raw_view_mut(&mut outputs[j].1));
            }
        }
        for ((_, id), &k) in plan.inputs.iter().zip(&which) {
            raws[id.0 as usize] = Some(storage::raw_view(&inputs[k].1));
        }
        let raws = storage::complete(raws)?;
        // SAFETY: as in `run`, plus the caller's output views: mutably borrowed for this call
        // (so nothing else accesses them), of the buffer's dtype and shape (match_outputs),
        // and never aliasing themselves (an ndarray mutable view cannot).
        unsafe { self.execute(plan, natives, &slots, &raws)? };
        // SAFETY: every kernel ran to completion (`execute` returned Ok).
        let owned: Vec<Option<Array>> = owned.into_iter().map(|o| o.map(|o| unsafe { o.finish() })).collect();
        for ((_, id), &j) in plan.outputs.iter().zip(&places) {
            let b = id.0 as usize;
            if direct[b] == Some(j) {
                continue;
            }
            let copied = match (direct[b], &owned[b]) {
                (Some(i), _) => {
                    let source = outputs[i].1.to_owned();
                    storage::assign(&mut outputs[j].1, &source.view())
                }
                (None, Some(a)) => storage::assign(&mut outputs[j].1, &a.view()),
                (None, None) => {
                    let k = plan.inputs.iter().position(|(_, i)| i == id).map(|i| which[i]);
                    storage::assign(&mut outputs[j].1, &inputs[k.expect("an input buffer")].1)
                }
            };
            debug_assert!(copied, "match_outputs checked the dtype");
        }
        Ok(())
    }

    /// Runs every kernel of `plan` on the buffers `raws` with the param slot values `slots`.
    ///
    /// # Safety
    /// `raws[b]` must describe live memory holding plan buffer `b` (its dtype and shape, with
    /// those strides) for the whole call, writable and accessed by nothing else during the
    /// call for every buffer a kernel stores to, where distinct indices are distinct elements.
    unsafe fn execute(
        &self,
        plan: &Plan,
        natives: &[Option<KernelFn>],
        slots: &[f64],
        raws: &[Raw],
    ) -> Result<Vec<Duration>, ExecError> {
        let buffers: Vec<BufferArg> = plan
            .buffers
            .iter()
            .zip(raws)
            .map(|(buffer, raw)| {
                let (min_offset, max_offset) = reachable(&buffer.shape, &raw.strides);
                let rank = raw.strides.len() as u64;
                BufferArg {
                    ptr: raw.ptr,
                    min_offset,
                    max_offset,
                    rank,
                    strides: raw.strides.as_ptr(),
                }
            })
            .collect();
        let error = AtomicI64::new(0);
        let args = SharedArgs(KernelArgs {
            buffers: buffers.as_ptr(),
            n_buffers: buffers.len() as u64,
            params: slots.as_ptr(),
            n_params: slots.len() as u64,
            error: error.as_ptr(),
        });
        // SAFETY: `buffers` holds `n_buffers` entries whose `strides` point into `raws`, with
        // `rank` values each; all outlive this call.
        unsafe { check_args(plan, &args.0)? };
        let mut times = Vec::with_capacity(plan.kernels.len());
        for (k, kernel) in plan.kernels.iter().enumerate() {
            let start = Instant::now();
            let native = natives.get(k).copied().flatten();
            // SAFETY: check_args passed on `args`, which describe `raws` as this fn's contract
            // requires.
            unsafe { self.run_tiles(plan, kernel, native, &args, 0..kernel.tiles())? };
            times.push(start.elapsed());
        }
        Ok(times)
    }

    /// Runs tiles `tiles` of `kernel` on the crew (in one call on this thread when its tiles
    /// are not independent), then reports a reduction failure the tiles flagged.
    ///
    /// # Safety
    /// `args` passed [`check_args`] for `plan` and describes live memory: every element a
    /// tile of `tiles` reads or writes is valid for that access and accessed by nothing else
    /// while the tiles run; its error slot is zero.
    unsafe fn run_tiles(
        &self,
        plan: &Plan,
        kernel: &Kernel,
        native: Option<KernelFn>,
        args: &SharedArgs,
        tiles: std::ops::Range<usize>,
    ) -> Result<(), ExecError> {
        let call = |begin: i64, end: i64| {
            // SAFETY: the caller's contract; `params` and `error` outlive the tiles and the
            // error slot is only accessed atomically until the kernel's tiles have all
            // finished; concurrent calls write disjoint elements (`tiles_are_independent`),
            // and no kernel writes what it reads (same check) or what a concurrent call
            // reads. A compiled kernel was translated from this very kernel of this plan.
            match native {
                Some(f) => unsafe { rumba_jit::abi::call(f, &args.0, begin, end) },
                None => unsafe { run_kernel(plan, kernel, &args.0, begin, end) },
            }
        };
        let (begin, end) = (tiles.start as i64, tiles.end as i64);
        if tiles_are_independent(kernel) {
            self.crew
                .run(tiles.len(), &|t| call(begin + t as i64, begin + t as i64 + 1));
        } else if end > begin {
            call(begin, end);
        }
        // SAFETY: the error slot is live (the caller's contract) and no tile runs any more.
        let code = unsafe { AtomicI64::from_ptr(args.0.error) }.swap(0, Ordering::SeqCst);
        if code > 0 {
            return Err(reduction_failure(kernel, code as usize - 1));
        }
        Ok(())
    }

    /// Runs tiles `tiles` of kernel `k` of `plan` on the buffers `parts` (one per plan
    /// buffer): the step of a streamed run (DESIGN §8). A [`Part::Boxed`] buffer holds only
    /// a box of its elements; the kernel sees it through a base pointer placed where element
    /// (0, …, 0) would be, and every element the tiles reach must lie in the box — checked
    /// here against the bounds inference of [`crate::stream::boxes`] before any call, as is
    /// every other part's dtype and shape.
    ///
    /// # Errors
    /// [`ExecError::Args`] for parts that do not fit (a bug in the caller), and the kernel's
    /// run-time reduction failures.
    pub(crate) fn run_chunk(
        &self,
        plan: &Plan,
        k: usize,
        native: Option<KernelFn>,
        slots: &[f64],
        parts: &mut [Part<'_>],
        tiles: std::ops::Range<usize>,
    ) -> Result<(), ExecError> {
        let kernel = &plan.kernels[k];
        let reach = crate::stream::boxes::accesses(kernel, &tiles, slots);
        if parts.len() != plan.buffers.len() || slots.len() != plan.params.len() {
            return Err(ArgsError::Count {
                what: "buffers and params",
                expected: plan.buffers.len() + plan.params.len(),
                found: parts.len() + slots.len(),
            }
            .into());
        }
        let mut strides: Vec<Vec<i64>> = Vec::with_capacity(parts.len());
        let mut bases: Vec<(*mut u8, i64, i64)> = Vec::with_capacity(parts.len());
        for (index, (buffer, part)) in plan.buffers.iter().zip(parts.iter_mut()).enumerate() {
            let access = reach.iter().find(|a| a.buffer.0 as usize == index);
            let unfit = |expected: String, found: String| ArgsError::Buffer {
                index,
                name: format!("{:?}", buffer.role).chars().take(40).collect(),
                expected,
                found,
            };
            let whole = |dtype: DType, shape: &[usize]| {
                if dtype == buffer.dtype && shape == buffer.shape.as_slice() {
                    Ok(())
                } else {
                    Err(unfit(
                        format!("{} {:?}", buffer.dtype, buffer.shape),
                        format!("{dtype} {shape:?}"),
                    ))
                }
            };
            match part {
                Part::Absent => {
                    if access.is_some_and(|a| !a.is_empty()) {
                        return Err(unfit("memory for the elements the tiles reach".into(), "none".into()).into());
                    }
                    strides.push(vec![0; buffer.shape.len()]);
                    bases.push((std::ptr::null_mut(), 0, -1));
                }
                Part::Input(view) => {
                    whole(view.dtype(), view.shape())?;
                    if access.is_some_and(|a| a.written) {
                        return Err(unfit("a writable buffer".into(), "a caller's input".into()).into());
                    }
                    let raw = storage::raw_view(view);
                    let (lo, hi) = reachable(&buffer.shape, &raw.strides);
                    strides.push(raw.strides);
                    bases.push((raw.ptr, lo, hi));
                }
                Part::Resident(array) => {
                    whole(array.dtype(), array.shape())?;
                    let raw = storage::raw_array(array);
                    let (lo, hi) = reachable(&buffer.shape, &raw.strides);
                    strides.push(raw.strides);
                    bases.push((raw.ptr, lo, hi));
                }
                Part::Boxed(chunk) => {
                    if chunk.dtype != buffer.dtype || chunk.bounds.len() != buffer.shape.len() {
                        return Err(unfit(
                            format!("a {} box of rank {}", buffer.dtype, buffer.shape.len()),
                            format!("a {} box of rank {}", chunk.dtype, chunk.bounds.len()),
                        )
                        .into());
                    }
                    let inside = chunk
                        .bounds
                        .iter()
                        .zip(&buffer.shape)
                        .all(|(&(lo, hi), &n)| hi < lo || (lo >= 0 && hi < n as i64));
                    let covers = access.is_none_or(|a| {
                        a.is_empty()
                            || a.bounds
                                .iter()
                                .zip(&chunk.bounds)
                                .all(|(&(lo, hi), &(clo, chi))| clo <= lo && hi <= chi)
                    });
                    if !inside || !covers {
                        return Err(unfit(
                            format!(
                                "a box inside {:?} holding {:?}",
                                buffer.shape,
                                access.map(|a| &a.bounds)
                            ),
                            format!("{:?}", chunk.bounds),
                        )
                        .into());
                    }
                    let s = chunk.strides();
                    let len = chunk.len() as i64;
                    let first: i64 = chunk.bounds.iter().zip(&s).map(|(&(lo, _), &st)| lo * st).sum();
                    let size = buffer.dtype.size() as isize;
                    let data = chunk.as_mut_ptr();
                    // The element (0, …, 0) of the buffer, maybe outside the chunk's memory:
                    // only the offsets `first ..= first + len − 1` from it are ever accessed.
                    let ptr = data.wrapping_offset(-(first as isize) * size);
                    strides.push(s);
                    bases.push(if len == 0 {
                        (data, 0, -1)
                    } else {
                        (ptr, first, first + len - 1)
                    });
                }
            }
        }
        let buffers: Vec<BufferArg> = bases
            .iter()
            .zip(&strides)
            .map(|(&(ptr, min_offset, max_offset), s)| BufferArg {
                ptr,
                min_offset,
                max_offset,
                rank: s.len() as u64,
                strides: s.as_ptr(),
            })
            .collect();
        let error = AtomicI64::new(0);
        let args = SharedArgs(KernelArgs {
            buffers: buffers.as_ptr(),
            n_buffers: buffers.len() as u64,
            params: slots.as_ptr(),
            n_params: slots.len() as u64,
            error: error.as_ptr(),
        });
        // SAFETY: `buffers` holds `n_buffers` entries whose `strides` point into `strides`,
        // with `rank` values each; all outlive this call.
        unsafe { check_args(plan, &args.0)? };
        // SAFETY: every part is memory this call borrows exclusively (`&mut`) or a caller's
        // input it only reads (stores to inputs were refused above); each described offset
        // range is that memory: a whole buffer's reachable range from its own strides, or a
        // chunk's `len` elements from its first element. The tiles reach only elements of the
        // boxes `accesses` computed (the bounds of every affine load and store over the
        // tiles' domain, the sweep start of a running window included), which were checked
        // to lie inside each chunk's box and the buffer's extents; the plan was verified at
        // compile time, so whole buffers are reached only inside their extents.
        unsafe { self.run_tiles(plan, kernel, native, &args, tiles) }
    }
}

/// One buffer of a streamed kernel call ([`Executor::run_chunk`]).
pub(crate) enum Part<'a> {
    /// Not reached by the kernel.
    Absent,
    /// A caller's input, whole (read only).
    Input(ArrayView<'a>),
    /// A temp or output kept whole in memory.
    Resident(&'a mut Array),
    /// A box of the buffer.
    Boxed(&'a mut Chunk),
}

/// A box of a plan buffer held in memory during a streamed run (DESIGN §8): the elements
/// `lo ..= hi` of each dimension, contiguous in C (or Fortran) order. Its memory is reused
/// from one box to the next and grows as needed; it is always initialised (zeros, or what
/// the previous box held).
#[derive(Debug)]
pub struct Chunk {
    words: Vec<u64>,
    dtype: DType,
    bounds: Vec<(i64, i64)>,
    fortran: bool,
}

impl Chunk {
    /// An empty box of `dtype`.
    #[must_use]
    pub fn new(dtype: DType) -> Chunk {
        Chunk {
            words: Vec::new(),
            dtype,
            bounds: Vec::new(),
            fortran: false,
        }
    }

    /// Makes this the box `bounds` (in C order, or Fortran order), growing its memory when
    /// needed; the contents are whatever the memory held.
    pub fn set_box(&mut self, bounds: &[(i64, i64)], fortran: bool) {
        self.bounds = bounds.to_vec();
        self.fortran = fortran;
        let words = (self.len() * self.dtype.size()).div_ceil(8);
        if words > self.words.len() {
            let mut grown: Vec<u64> = Vec::with_capacity(words);
            if words * 8 >= HUGE_PAGE_MIN_BYTES {
                advise_huge_pages(grown.as_mut_ptr().cast(), words * 8);
            }
            grown.resize(words, 0);
            self.words = grown;
        }
    }

    /// The box.
    #[must_use]
    pub fn bounds(&self) -> &[(i64, i64)] {
        &self.bounds
    }

    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        if self.bounds.iter().any(|&(lo, hi)| hi < lo) {
            return 0;
        }
        self.bounds.iter().map(|&(lo, hi)| (hi - lo + 1) as usize).product()
    }

    /// Whether it holds no element.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element strides inside the box.
    fn strides(&self) -> Vec<i64> {
        let extents: Vec<usize> = self
            .bounds
            .iter()
            .map(|&(lo, hi)| (hi - lo + 1).max(0) as usize)
            .collect();
        crate::stream::file::contiguous_strides(&extents, self.fortran)
            .into_iter()
            .map(|s| s as i64)
            .collect()
    }

    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.words.as_mut_ptr().cast()
    }

    /// The box's elements as bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        let n = self.len() * self.dtype.size();
        // SAFETY: the words hold at least `n` initialised bytes (`set_box`), and any byte is
        // a valid `u8`; the slice borrows `self`.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast::<u8>(), n) }
    }

    /// The box's elements as bytes, to fill. A bool box must be given only 0 and 1 bytes
    /// before a kernel reads it (the reader checks).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        let n = self.len() * self.dtype.size();
        // SAFETY: as in `bytes`, borrowed mutably.
        unsafe { std::slice::from_raw_parts_mut(self.words.as_mut_ptr().cast::<u8>(), n) }
    }
}

/// Whether the tiles of `kernel` may run concurrently: one tile, or every buffer it stores
/// to is stored by one store only and never loaded by the kernel, and every store has a
/// buffer dimension that depends on the tile axis and on no other axis of extent > 1 — so
/// different tiles write different elements.
pub fn tiles_are_independent(kernel: &Kernel) -> bool {
    let Some(t) = kernel.schedule.tile_axis else {
        return true;
    };
    kernel.stores.iter().enumerate().all(|(i, s)| {
        let unique = kernel.stores.iter().skip(i + 1).all(|o| o.buffer != s.buffer);
        let unread = kernel.loads.iter().all(|l| l.buffer != s.buffer);
        let separates = s.map.dims.iter().any(|a| {
            a.coefs.get(t).is_some_and(|&c| c != 0)
                && a.coefs
                    .iter()
                    .zip(&kernel.domain)
                    .enumerate()
                    .all(|(ax, (&c, d))| ax == t || c == 0 || d.extent <= 1)
        });
        unique && unread && separates
    })
}

/// The error for reduction `index` of `kernel` failing at run time.
fn reduction_failure(kernel: &Kernel, index: usize) -> ExecError {
    let r = &kernel.reductions[index];
    let kind = match &r.kind {
        Accumulate::Stat(k) => k.to_string(),
        Accumulate::Weighted { .. } => "weighted sum".to_owned(),
    };
    let dtype = kernel.exprs[r.value.0 as usize].dtype;
    let message =
        format!("the mask selects no element of a lane, and the {kind} of an empty set of {dtype} values has no value");
    ExecError::Reduction {
        at: r.at.clone(),
        message,
    }
}

/// Checks the plan and the caller's params and inputs: the slot values, and for each plan
/// input the index of the caller's array.
fn prepare(
    plan: &Plan,
    inputs: &[(&str, ArrayView<'_>)],
    params: &BTreeMap<String, f64>,
    verify: Verify,
) -> Result<(Vec<f64>, Vec<usize>), ExecError> {
    if verify == Verify::Now {
        check_plan(plan)?;
    }
    Ok((resolve::params(plan, params)?, resolve::inputs(plan, inputs)?))
}

/// Whether a run checks its plan first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verify {
    /// Check it ([`check_plan`]) before running.
    Now,
    /// The caller checked it already.
    Done,
}

/// The param slot values of `plan` for the user's `params` (defaults for missing ones).
///
/// # Errors
/// Unknown or missing params, and slice starts out of range, naming the param or node.
pub(crate) fn resolve_params(plan: &Plan, params: &BTreeMap<String, f64>) -> Result<Vec<f64>, ExecError> {
    Ok(resolve::params(plan, params)?)
}

/// A C-contiguous array of `dtype` holding a constant buffer's `values`.
pub(crate) fn constant_array(dtype: DType, shape: &[usize], values: &[rumba_ir::op::F64]) -> Option<Array> {
    storage::constant(dtype, shape, values)
}

/// Checks that `plan` is one the executor can run: it passes [`rumba_plan::verify()`] and the
/// evaluator implements every kernel ([`rumba_plan::eval::check`]), the guarantees every
/// kernel call relies on.
///
/// # Errors
/// The first broken invariant or unsupported kernel.
pub fn check_plan(plan: &Plan) -> Result<(), ExecError> {
    rumba_plan::verify(plan)?;
    for kernel in &plan.kernels {
        rumba_plan::eval::check(plan, kernel)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minor page faults of the calling thread so far.
    #[cfg(target_os = "linux")]
    fn thread_faults() -> i64 {
        // SAFETY: `getrusage` writes one `rusage` into the zeroed value it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: as above; RUSAGE_THREAD reads the calling thread's counters.
        let ok = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) } == 0;
        assert!(ok, "getrusage");
        usage.ru_minflt
    }

    /// Populating large buffers faults in every page before the kernels run (writing them
    /// afterwards takes no fault on this thread), keeps the zeros of a zeroed buffer and the
    /// bytes already written to a fresh one, and leaves small buffers alone.
    #[cfg(target_os = "linux")]
    #[test]
    fn populate_faults_in_large_buffers_and_keeps_their_bytes() {
        let crew = crew::Crew::new(2).unwrap();
        let shape = [3, 1024, 1024];
        let fresh = Fresh::new(DType::F32, &shape).unwrap();
        let bytes = fresh.bytes();
        let raw = fresh.raw();
        // SAFETY: `raw.ptr` holds `bytes` bytes owned by `fresh`.
        unsafe {
            raw.ptr.write(7);
            raw.ptr.add(bytes - 1).write(9);
        }
        let mut owned = vec![
            Some(storage::Owned::Fresh(fresh)),
            Some(storage::Owned::Array(zeroed(DType::U8, &[5 << 20]))),
            Some(storage::Owned::Array(zeroed(DType::U8, &[4096]))),
            None,
        ];
        populate(&crew, &mut owned);
        let before = thread_faults();
        for o in owned.iter_mut().take(2).flatten() {
            let (ptr, len) = (o.raw().ptr, o.bytes());
            for at in (4096..len - 1).step_by(4096) {
                // SAFETY: `at` is inside the buffer's `len` bytes; the value is rewritten as is.
                unsafe { ptr.add(at).write_volatile(ptr.add(at).read_volatile()) };
            }
        }
        let faults = thread_faults() - before;
        assert!(faults <= 2, "{faults} page faults after populating");
        let first = owned[0].as_mut().unwrap().raw().ptr;
        // SAFETY: both bytes are inside the fresh buffer.
        assert_eq!(unsafe { (first.read(), first.add(bytes - 1).read()) }, (7, 9));
        let Some(storage::Owned::Array(Array::U8(zeros))) = &owned[1] else {
            panic!("the zeroed buffer")
        };
        assert!(zeros.iter().all(|&b| b == 0), "populating kept the zeros");
    }
}
