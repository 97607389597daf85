//! Every `unsafe` of the evaluator: turning [`KernelArgs`] into bounds-checked element reads
//! and writes, and [`run_kernel`], the entry point that relies on the caller's promise about
//! them.
//!
//! [`Memory::new`] is the one place that trusts raw pointers. After it, every element access
//! checks its offset against the buffer's reachable range (`min_offset..=max_offset`) and its
//! dtype against the plan's, so a kernel the evaluator runs cannot touch memory outside what
//! the caller promised, whatever its index maps say.

use super::program::Program;
use super::scalar::Scalar;
use super::walk;
use crate::args::{KernelArgs, check_args};
use crate::plan::{Kernel, Plan};
use rumba_ir::DType;
use std::sync::atomic::{AtomicI64, Ordering};

/// Runs iterations `tile_begin..tile_end` of `kernel`'s tile axis (tiles, not iterations:
/// tile `t` covers `t·tile_len .. min((t+1)·tile_len, extent)`), or the whole domain if the
/// kernel has no tile axis (then call it with `0..1`). Reads and writes buffers only through
/// `args`; reports a run-time reduction failure by setting `*args.error` to 1 + the index of
/// the reduction (the smallest such index, whatever the order tiles run in).
///
/// # Safety
/// `args` must satisfy [`check_args`] for `plan`, and describe live memory: for every buffer,
/// each element offset in `min_offset..=max_offset` from `ptr` (in elements of the buffer's
/// dtype) is valid for reads, and for writes if the kernel stores to the buffer; `params`
/// points to `n_params` values; `error` points to a live, 8-byte-aligned `i64` that, while
/// kernels run, is only accessed atomically. No other running call may write the buffer
/// elements this tile reads or writes (tiles of one kernel write disjoint elements).
///
/// # Panics
/// If `plan` fails [`crate::verify()`] or `kernel` fails [`super::check`] in a way that reaches
/// an element outside its buffer or an unsupported operation, or if `args` fails
/// [`check_args`].
pub unsafe fn run_kernel(plan: &Plan, kernel: &Kernel, args: &KernelArgs, tile_begin: i64, tile_end: i64) {
    // SAFETY: the caller guarantees what `Memory::new` requires (the same contract).
    let mem = unsafe { Memory::new(plan, args) };
    walk::run(&Program::new(kernel, &mem), &mem, tile_begin, tile_end);
}

/// One buffer's memory.
struct Region<'a> {
    /// Element (0, …, 0).
    ptr: *mut u8,
    /// Reachable element offsets.
    lo: i64,
    hi: i64,
    strides: &'a [i64],
    dtype: DType,
}

/// The buffers, params and error slot of one call, with checked element access.
pub(crate) struct Memory<'a> {
    regions: Vec<Region<'a>>,
    params: &'a [f64],
    error: &'a AtomicI64,
}

impl<'a> Memory<'a> {
    /// Wraps `args`.
    ///
    /// # Safety
    /// As [`run_kernel`].
    ///
    /// # Panics
    /// If `args` fails [`check_args`] or has a null error slot.
    unsafe fn new(plan: &Plan, args: &'a KernelArgs) -> Memory<'a> {
        // SAFETY: the caller guarantees `buffers` holds `n_buffers` entries with valid strides.
        if let Err(e) = unsafe { check_args(plan, args) } {
            panic!("kernel arguments do not fit the plan: {e}");
        }
        assert!(
            !args.error.is_null() && args.error.is_aligned(),
            "the error slot must be a valid i64"
        );
        // SAFETY: check_args found `n_buffers` entries (the caller guarantees the pointer).
        let buffers = unsafe { std::slice::from_raw_parts(args.buffers, args.n_buffers as usize) };
        let regions = buffers
            .iter()
            .zip(&plan.buffers)
            .map(|(arg, buffer)| Region {
                ptr: arg.ptr,
                lo: arg.min_offset,
                hi: arg.max_offset,
                // SAFETY: check_args checked `rank` against the plan; the caller guarantees
                // `strides` points to `rank` values that outlive the call.
                strides: unsafe { std::slice::from_raw_parts(arg.strides, arg.rank as usize) },
                dtype: buffer.dtype,
            })
            .collect();
        // SAFETY: the caller guarantees `params` points to `n_params` values (check_args
        // compared the count with the plan); an empty slice needs no valid pointer.
        let params = if args.n_params == 0 {
            &[][..]
        } else {
            unsafe { std::slice::from_raw_parts(args.params, args.n_params as usize) }
        };
        // SAFETY: non-null and aligned (asserted), live for the call and only accessed
        // atomically meanwhile (the caller's guarantee).
        let error = unsafe { AtomicI64::from_ptr(args.error) };
        Memory { regions, params, error }
    }

    /// The param slot values.
    pub(crate) fn params(&self) -> &'a [f64] {
        self.params
    }

    /// The strides (in elements) of buffer `buffer`.
    pub(crate) fn strides(&self, buffer: usize) -> &'a [i64] {
        self.regions[buffer].strides
    }

    /// The checked address of element `offset` of `buffer`.
    fn address(&self, buffer: usize, offset: i64) -> (*mut u8, DType) {
        let r = &self.regions[buffer];
        assert!(
            r.lo <= offset && offset <= r.hi,
            "element offset {offset} of buffer {buffer} is outside its reachable range {}..={}",
            r.lo,
            r.hi
        );
        // SAFETY: `offset` lies in the reachable range, which the caller guarantees is valid
        // memory of this buffer, so the byte offset stays inside the same allocation.
        (
            unsafe { r.ptr.offset(offset as isize * r.dtype.size() as isize) },
            r.dtype,
        )
    }

    /// Reads element `offset` of `buffer` in the buffer's dtype.
    pub(crate) fn load(&self, buffer: usize, offset: i64) -> Scalar {
        let (p, dtype) = self.address(buffer, offset);
        // SAFETY: `p` addresses a readable element of `dtype` (see `address`); unaligned
        // reads accept any address; bool is read as a byte (any byte is a valid u8); no
        // other call writes it meanwhile (the caller's guarantee).
        unsafe {
            match dtype {
                DType::Bool => Scalar::Bool(p.read() != 0),
                DType::U8 => Scalar::U8(p.read()),
                DType::U16 => Scalar::U16(p.cast::<u16>().read_unaligned()),
                DType::I32 => Scalar::I32(p.cast::<i32>().read_unaligned()),
                DType::F32 => Scalar::F32(p.cast::<f32>().read_unaligned()),
                DType::F64 => Scalar::F64(p.cast::<f64>().read_unaligned()),
            }
        }
    }

    /// Writes `value` to element `offset` of `buffer`.
    ///
    /// # Panics
    /// If `value` is not of the buffer's dtype.
    pub(crate) fn store(&self, buffer: usize, offset: i64, value: Scalar) {
        let (p, dtype) = self.address(buffer, offset);
        assert_eq!(value.dtype(), dtype, "a store into buffer {buffer} of another dtype");
        // SAFETY: `p` addresses an element of `dtype` that this kernel stores to, so the
        // caller guarantees it is writable and that no other running call reads or writes it.
        unsafe {
            match value {
                Scalar::Bool(v) => p.write(u8::from(v)),
                Scalar::U8(v) => p.write(v),
                Scalar::U16(v) => p.cast::<u16>().write_unaligned(v),
                Scalar::I32(v) => p.cast::<i32>().write_unaligned(v),
                Scalar::F32(v) => p.cast::<f32>().write_unaligned(v),
                Scalar::F64(v) => p.cast::<f64>().write_unaligned(v),
            }
        }
    }

    /// Records that reduction `index` failed: the error slot becomes 1 + the smallest failed
    /// index reported so far.
    pub(crate) fn report(&self, index: usize) {
        let code = 1 + index as i64;
        let _ = self.error.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
            (old == 0 || code < old).then_some(code)
        });
    }
}
