//! The kernel cache: compiled kernels shared across executables.
//!
//! Keyed by everything the generated code depends on — the kernel's loop nest, loads (buffer
//! ids and index maps), expressions, reductions, stores, span tables, running window and
//! schedule, the dtypes
//! and ranks of the plan's buffers and the number of param slots — plus the CPU features of
//! the JIT. Lookups hash that key and compare it in full on a hit. Strides are not part of it:
//! compiled code reads them at run time. Compiling the same graph for the same shapes twice
//! therefore does no codegen the second time, and changing a param never recompiles.
//!
//! The cache is bounded ([`CAPACITY`] kernels, least recently used evicted). Each compiled
//! unit is reference counted, so its code memory is freed once neither the cache nor any
//! executable holds it.

use rumba_ir::DType;
use rumba_jit::{CompiledKernel, Jit, JitError};
use rumba_plan::{Accumulate, Axis, ExprId, ExprNode, Kernel, Load, Plan, Running, Schedule, SpanTable, Store};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// Compiled kernels kept at most.
pub const CAPACITY: usize = 256;

/// The code-relevant description of a kernel in its plan (names, fused-node lists and error
/// locations are left out: they do not change the code).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    domain: Vec<Axis>,
    loads: Vec<Load>,
    exprs: Vec<ExprNode>,
    reductions: Vec<(Accumulate, ExprId, Option<ExprId>, bool, DType)>,
    stores: Vec<Store>,
    spans: Vec<SpanTable>,
    running: Option<Running>,
    schedule: Schedule,
    /// Dtype and rank of every plan buffer (the code indexes `KernelArgs::buffers`).
    buffers: Vec<(DType, usize)>,
    params: usize,
    features: String,
}

impl Key {
    fn new(plan: &Plan, kernel: &Kernel, features: &str) -> Key {
        Key {
            domain: kernel.domain.clone(),
            loads: kernel.loads.clone(),
            exprs: kernel.exprs.clone(),
            reductions: kernel
                .reductions
                .iter()
                .map(|r| (r.kind.clone(), r.value, r.mask, r.skip_nan, r.dtype))
                .collect(),
            stores: kernel.stores.clone(),
            spans: kernel.spans.clone(),
            running: kernel.running.clone(),
            schedule: kernel.schedule.clone(),
            buffers: plan.buffers.iter().map(|b| (b.dtype, b.shape.len())).collect(),
            params: plan.params.len(),
            features: features.to_owned(),
        }
    }

    fn hash64(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.hash(&mut h);
        h.finish()
    }
}

struct Entry {
    hash: u64,
    key: Key,
    kernel: CompiledKernel,
    last_used: u64,
}

#[derive(Default)]
struct Cache {
    entries: Vec<Entry>,
    clock: u64,
}

static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
static JIT: OnceLock<Result<Jit, JitError>> = OnceLock::new();
static CODEGENS: AtomicUsize = AtomicUsize::new(0);

/// The process-wide JIT context for the host CPU.
///
/// # Errors
/// The host is not a target Cranelift supports.
pub fn jit() -> Result<&'static Jit, JitError> {
    JIT.get_or_init(Jit::new).as_ref().map_err(Clone::clone)
}

/// How many kernels have been compiled (cache misses) in this process.
#[must_use]
pub fn codegen_count() -> usize {
    CODEGENS.load(Ordering::SeqCst)
}

/// Empties the cache (benchmarks measure cold compiles with it); executables keep the code
/// they hold.
pub fn clear() {
    if let Some(cache) = CACHE.get() {
        cache.lock().unwrap_or_else(|e| e.into_inner()).entries.clear();
    }
}

/// The compiled `kernel` of `plan`, from the cache or freshly compiled; `true` on a hit.
///
/// # Errors
/// The JIT cannot compile the kernel.
pub fn get_or_compile(plan: &Plan, kernel: &Kernel) -> Result<(CompiledKernel, bool), JitError> {
    let jit = jit()?;
    let key = Key::new(plan, kernel, &jit.cpu_features());
    let hash = key.hash64();
    let cache = CACHE.get_or_init(Mutex::default);
    {
        let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
        c.clock += 1;
        let now = c.clock;
        if let Some(e) = c.entries.iter_mut().find(|e| e.hash == hash && e.key == key) {
            e.last_used = now;
            return Ok((e.kernel.clone(), true));
        }
    }
    // Compile without holding the lock; a racing compile of the same kernel is harmless.
    let compiled = jit.compile(plan, kernel)?;
    CODEGENS.fetch_add(1, Ordering::SeqCst);
    let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
    c.clock += 1;
    let now = c.clock;
    if c.entries.len() >= CAPACITY
        && let Some(oldest) = c
            .entries
            .iter()
            .enumerate()
            .min_by_key(|(_, e)| e.last_used)
            .map(|(i, _)| i)
    {
        c.entries.swap_remove(oldest);
    }
    c.entries.push(Entry {
        hash,
        key,
        kernel: compiled.clone(),
        last_used: now,
    });
    Ok((compiled, false))
}
