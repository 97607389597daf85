//! The kernel ABI shared by every backend (DESIGN §4).
//!
//! A compiled kernel is `unsafe extern "C" fn(args: *const KernelArgs, tile_begin: i64,
//! tile_end: i64)`: it runs the iterations `tile_begin..tile_end` of its schedule's tile axis
//! (all of the domain when the kernel has no tile axis: call it with `0..1`). `KernelArgs`
//! holds one [`BufferArg`] per plan buffer (indexed by [`crate::BufferId`]) and the resolved
//! run-time scalar slots. The executor checks every buffer's length and strides against the
//! plan before any call ([`check_args`]), so a verified plan cannot read or write out of
//! bounds.

use crate::plan::{Buffer, Plan};

/// One buffer as a kernel sees it: base pointer, element count and per-dimension strides in
/// elements (negative strides allowed; the pointer is the element at index 0…0).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BufferArg {
    /// Address of element (0, …, 0).
    pub ptr: *mut u8,
    /// Lowest element offset reachable from `ptr` (≤ 0 with negative strides), in elements.
    pub min_offset: i64,
    /// Highest element offset reachable from `ptr`, in elements (−1 for an empty buffer).
    pub max_offset: i64,
    /// Number of dimensions (the length of `strides`).
    pub rank: u64,
    /// Strides in elements, one per dimension.
    pub strides: *const i64,
}

/// The arguments of every kernel call.
#[repr(C)]
#[derive(Debug)]
pub struct KernelArgs {
    /// One entry per plan buffer.
    pub buffers: *const BufferArg,
    /// Number of entries in `buffers`.
    pub n_buffers: u64,
    /// Resolved run-time scalar slots ([`crate::Plan::params`]).
    pub params: *const f64,
    /// Number of slots.
    pub n_params: u64,
    /// Set by a kernel to 1 + the index of a reduction that failed at run time (an integer
    /// min/max over a lane the mask left empty); 0 means no error. Tiles update it atomically
    /// keeping the smallest value (so the error reported does not depend on thread count);
    /// the executor reads it after all tiles finished.
    pub error: *mut i64,
}

/// A problem with the arguments handed to a plan.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// Wrong number of buffers or params.
    #[error("expected {expected} {what}, found {found}")]
    Count {
        /// `"buffers"` or `"params"`.
        what: &'static str,
        /// Expected count.
        expected: usize,
        /// Found count.
        found: usize,
    },
    /// A buffer whose rank or reachable range differs from the plan.
    #[error("buffer {index} ({name}): expected {expected}, found {found}")]
    Buffer {
        /// Buffer index.
        index: usize,
        /// Its role and name.
        name: String,
        /// What the plan needs.
        expected: String,
        /// What was supplied.
        found: String,
    },
}

/// The reachable element-offset range `(min, max)` of a buffer with these extents and
/// strides (`(0, -1)` when empty).
#[must_use]
pub fn reachable(shape: &[usize], strides: &[i64]) -> (i64, i64) {
    if shape.contains(&0) {
        return (0, -1);
    }
    let (mut lo, mut hi) = (0i64, 0i64);
    for (&n, &s) in shape.iter().zip(strides) {
        let span = (n as i64 - 1) * s;
        if span < 0 { lo += span } else { hi += span }
    }
    (lo, hi)
}

/// Checks that `args` fits `plan`: one buffer per plan buffer with the plan's rank, whose
/// reachable range lies inside what its extents and strides give (all of it for a whole
/// buffer; a part for a chunk of a streamed run, DESIGN §8, or none for a buffer the kernel
/// does not touch), and one value per param.
///
/// # Errors
/// The first mismatch, naming the buffer.
///
/// # Safety
/// `args.buffers` must point to `args.n_buffers` valid [`BufferArg`]s whose `strides` point to
/// `rank` values.
pub unsafe fn check_args(plan: &Plan, args: &KernelArgs) -> Result<(), ArgsError> {
    if args.n_buffers as usize != plan.buffers.len() {
        return Err(ArgsError::Count {
            what: "buffers",
            expected: plan.buffers.len(),
            found: args.n_buffers as usize,
        });
    }
    if args.n_params as usize != plan.params.len() {
        return Err(ArgsError::Count {
            what: "params",
            expected: plan.params.len(),
            found: args.n_params as usize,
        });
    }
    for (index, buffer) in plan.buffers.iter().enumerate() {
        // SAFETY: the caller guarantees `buffers` holds `n_buffers` entries; index < n_buffers.
        let arg = unsafe { &*args.buffers.add(index) };
        check_buffer(index, buffer, arg)?;
    }
    Ok(())
}

fn check_buffer(index: usize, buffer: &Buffer, arg: &BufferArg) -> Result<(), ArgsError> {
    let name = format!("{:?}", buffer.role).chars().take(40).collect::<String>();
    if arg.rank as usize != buffer.shape.len() {
        return Err(ArgsError::Buffer {
            index,
            name,
            expected: format!("rank {}", buffer.shape.len()),
            found: format!("rank {}", arg.rank),
        });
    }
    // SAFETY: the caller guarantees `strides` points to `rank` values.
    let strides = unsafe { std::slice::from_raw_parts(arg.strides, arg.rank as usize) };
    let (lo, hi) = reachable(&buffer.shape, strides);
    let empty = arg.max_offset < arg.min_offset;
    if !empty && (arg.min_offset < lo || arg.max_offset > hi) {
        return Err(ArgsError::Buffer {
            index,
            name,
            expected: format!("reachable offsets inside {lo}..={hi} for shape {:?}", buffer.shape),
            found: format!("{}..={}", arg.min_offset, arg.max_offset),
        });
    }
    Ok(())
}
