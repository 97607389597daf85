//! rumba's Cranelift backend: each [`rumba_plan::Kernel`] becomes native code with the kernel
//! ABI of DESIGN §4, specialised on dtypes and extents.
//!
//! [`Jit`] holds the long-lived pieces (the target ISA, the host symbols); [`Jit::compile`]
//! translates one kernel (module `translate`) into its own `JITModule`, owned by the returned
//! [`CompiledKernel`] behind an `Arc`, whose code memory is freed when the last user drops
//! it. All `unsafe` is in [`abi`]. Medians and percentiles finish in module `select`.
//!
//! With `RUMBA_JIT_DUMP` set, every compile prints the kernel's machine code (Cranelift's
//! disassembly) to stderr.

pub mod abi;
mod select;
mod translate;

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module};
use rumba_plan::running::WindowSpec;
use rumba_plan::{Kernel, Plan, SpanTable};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why a kernel could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JitError {
    /// The kernel uses a form or dtype the JIT does not translate.
    #[error("the JIT cannot translate {0}")]
    Unsupported(String),
    /// Cranelift rejected the function or the module failed.
    #[error("code generation failed: {0}")]
    Codegen(String),
}

impl JitError {
    pub(crate) fn codegen(e: impl std::fmt::Display) -> JitError {
        JitError::Codegen(e.to_string())
    }

    pub(crate) fn unsupported(what: impl Into<String>) -> JitError {
        JitError::Unsupported(what.into())
    }
}

/// The long-lived codegen context: the host's ISA (with its CPU features) and settings.
pub struct Jit {
    isa: OwnedTargetIsa,
}

impl std::fmt::Debug for Jit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jit")
            .field("isa", &self.isa.name())
            .field("features", &self.cpu_features())
            .finish()
    }
}

impl Jit {
    /// A context for the host CPU.
    ///
    /// # Errors
    /// The host is not a target Cranelift supports.
    pub fn new() -> Result<Jit, JitError> {
        let mut flags = settings::builder();
        for (k, v) in [
            ("use_colocated_libcalls", "false"),
            ("is_pic", "false"),
            ("opt_level", "speed"),
            // The IR verifier costs about a fifth of compile time; the translator's output is
            // checked in debug builds (every test), not on each compile in release.
            ("enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" }),
        ] {
            flags.set(k, v).map_err(JitError::codegen)?;
        }
        let isa = cranelift_native::builder()
            .map_err(JitError::codegen)?
            .finish(settings::Flags::new(flags))
            .map_err(JitError::codegen)?;
        Ok(Jit { isa })
    }

    /// The ISA flags in effect (part of every cache key: code for one CPU never runs on
    /// another).
    #[must_use]
    pub fn cpu_features(&self) -> String {
        self.isa
            .isa_flags()
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Compiles one kernel of `plan`.
    ///
    /// # Errors
    /// [`JitError::Unsupported`] for a kernel form the translator does not handle, or a
    /// Cranelift error — never a panic.
    pub fn compile(&self, plan: &Plan, kernel: &Kernel) -> Result<CompiledKernel, JitError> {
        let start = Instant::now();
        let mut builder = JITBuilder::with_isa(self.isa.clone(), cranelift_module::default_libcall_names());
        for (name, ptr) in translate::host_symbols() {
            builder.symbol(name, ptr);
        }
        let mut module = JITModule::new(builder);
        let hosts = translate::declare_hosts(&mut module)?;
        let sig = translate::kernel_signature(&module);
        let id = module
            .declare_function(&kernel.name, Linkage::Export, &sig)
            .map_err(JitError::codegen)?;
        let spans: Box<[SpanTable]> = kernel.spans.clone().into_boxed_slice();
        let flat: Box<[Box<[u32]>]> = spans.iter().map(translate::flatten_spans).collect();
        let windows: Box<[WindowSpec]> = (0..kernel.reductions.len())
            .filter_map(|r| kernel.window_spec(r))
            .collect();
        let span_addrs = translate::SpanAddrs {
            tables: spans.iter().map(|s| s as *const SpanTable as i64).collect(),
            flat: flat.iter().map(|f| f.as_ptr() as i64).collect(),
            windows: windows.iter().map(|w| w as *const WindowSpec as i64).collect(),
        };
        let mut ctx = module.make_context();
        ctx.func.signature = sig;
        let dump = std::env::var_os("RUMBA_JIT_DUMP").is_some();
        ctx.set_disasm(dump);
        let mut fctx = FunctionBuilderContext::new();
        translate::Translator::translate(&mut ctx.func, &mut fctx, &mut module, &hosts, plan, kernel, &span_addrs)?;
        module
            .define_function(id, &mut ctx)
            .map_err(|e| JitError::Codegen(format!("{e:?}")))?;
        if let Some(code) = ctx.compiled_code().filter(|_| dump) {
            eprintln!(
                "== kernel {}\n{}",
                kernel.name,
                code.vcode.as_deref().unwrap_or("(no disassembly)")
            );
        }
        module.clear_context(&mut ctx);
        module.finalize_definitions().map_err(JitError::codegen)?;
        let code = module.get_finalized_function(id);
        // SAFETY: `code` is the finalized function just defined with the kernel signature.
        let function = unsafe { abi::kernel_fn(code) };
        Ok(CompiledKernel {
            unit: Arc::new(Unit {
                module: Mutex::new(Some(module)),
                spans,
                flat,
                windows,
            }),
            function,
            compile_time: start.elapsed(),
        })
    }
}

/// A compiled unit: the module owning the code memory, and the data the code points into.
struct Unit {
    module: Mutex<Option<JITModule>>,
    /// Span tables whose addresses are embedded in the code, and their flat forms.
    spans: Box<[SpanTable]>,
    flat: Box<[Box<[u32]>]>,
    /// Running window specs whose addresses are embedded in the code.
    windows: Box<[WindowSpec]>,
}

impl Drop for Unit {
    fn drop(&mut self) {
        if let Some(module) = self.module.lock().ok().and_then(|mut m| m.take()) {
            // SAFETY: the last `CompiledKernel` referring to this unit is gone (it is the
            // `Arc`'s last owner), so no pointer into its code is used any more.
            unsafe { module.free_memory() };
        }
    }
}

// SAFETY: the module is only touched again in `drop` (behind a mutex); the code and the span
// tables are immutable after finalisation and safe to run from any thread.
unsafe impl Send for Unit {}
// SAFETY: as above; shared references never mutate the unit.
unsafe impl Sync for Unit {}

/// A kernel compiled to native code. Cloning shares the code.
#[derive(Clone)]
pub struct CompiledKernel {
    unit: Arc<Unit>,
    function: abi::KernelFn,
    /// Time spent translating and compiling.
    pub compile_time: Duration,
}

impl std::fmt::Debug for CompiledKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledKernel")
            .field("compile_time", &self.compile_time)
            .finish_non_exhaustive()
    }
}

impl CompiledKernel {
    /// The native function.
    #[must_use]
    pub fn function(&self) -> abi::KernelFn {
        let _ = (&self.unit.spans, &self.unit.flat, &self.unit.windows);
        self.function
    }

    /// How many holders share this compiled unit (for cache tests).
    #[must_use]
    pub fn holders(&self) -> usize {
        Arc::strong_count(&self.unit)
    }
}
