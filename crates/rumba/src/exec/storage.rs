//! Buffer storage for the executor: the caller's mutable arrays ([`ArrayViewMut`]), arrays the
//! executor allocates (temps, outputs, constants), and their base pointers and strides as
//! the kernel ABI wants them. Nothing here dereferences a pointer.

use super::ExecError;
use ndarray::{ArrayD, ArrayViewMutD, IxDyn};
use rumba_ir::op::F64;
use rumba_ir::{Array, ArrayView, DType};
use rumba_plan::{BufferId, Plan, Role, VerifyError};

/// A mutable, possibly non-contiguous view of one of the six dtypes: where
/// [`super::Executor::run_into`] writes an output.
#[derive(Debug)]
pub enum ArrayViewMut<'a> {
    /// bool elements.
    Bool(ArrayViewMutD<'a, bool>),
    /// u8 elements.
    U8(ArrayViewMutD<'a, u8>),
    /// u16 elements.
    U16(ArrayViewMutD<'a, u16>),
    /// i32 elements.
    I32(ArrayViewMutD<'a, i32>),
    /// f32 elements.
    F32(ArrayViewMutD<'a, f32>),
    /// f64 elements.
    F64(ArrayViewMutD<'a, f64>),
}

/// Applies `$body` to the inner ndarray of any variant of an [`ArrayViewMut`].
macro_rules! with_view_mut {
    ($value:expr, $a:ident => $body:expr) => {
        match $value {
            ArrayViewMut::Bool($a) => $body,
            ArrayViewMut::U8($a) => $body,
            ArrayViewMut::U16($a) => $body,
            ArrayViewMut::I32($a) => $body,
            ArrayViewMut::F32($a) => $body,
            ArrayViewMut::F64($a) => $body,
        }
    };
}

impl<'a> ArrayViewMut<'a> {
    /// The element type.
    #[must_use]
    pub fn dtype(&self) -> DType {
        match self {
            ArrayViewMut::Bool(_) => DType::Bool,
            ArrayViewMut::U8(_) => DType::U8,
            ArrayViewMut::U16(_) => DType::U16,
            ArrayViewMut::I32(_) => DType::I32,
            ArrayViewMut::F32(_) => DType::F32,
            ArrayViewMut::F64(_) => DType::F64,
        }
    }

    /// The extents.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        with_view_mut!(self, a => a.shape())
    }

    /// The same elements with a trailing unit axis (a (T, H, W) output as (T, H, W, 1)).
    #[must_use]
    pub fn with_unit_channel(self) -> ArrayViewMut<'a> {
        let axis = ndarray::Axis(self.shape().len());
        match self {
            ArrayViewMut::Bool(a) => ArrayViewMut::Bool(a.insert_axis(axis)),
            ArrayViewMut::U8(a) => ArrayViewMut::U8(a.insert_axis(axis)),
            ArrayViewMut::U16(a) => ArrayViewMut::U16(a.insert_axis(axis)),
            ArrayViewMut::I32(a) => ArrayViewMut::I32(a.insert_axis(axis)),
            ArrayViewMut::F32(a) => ArrayViewMut::F32(a.insert_axis(axis)),
            ArrayViewMut::F64(a) => ArrayViewMut::F64(a.insert_axis(axis)),
        }
    }

    /// A shorter-lived view of the same elements.
    pub fn reborrow(&mut self) -> ArrayViewMut<'_> {
        match self {
            ArrayViewMut::Bool(a) => ArrayViewMut::Bool(a.view_mut()),
            ArrayViewMut::U8(a) => ArrayViewMut::U8(a.view_mut()),
            ArrayViewMut::U16(a) => ArrayViewMut::U16(a.view_mut()),
            ArrayViewMut::I32(a) => ArrayViewMut::I32(a.view_mut()),
            ArrayViewMut::F32(a) => ArrayViewMut::F32(a.view_mut()),
            ArrayViewMut::F64(a) => ArrayViewMut::F64(a.view_mut()),
        }
    }

    /// Copies `a` in, element by element; `false` (nothing written) when its dtype or shape
    /// differ.
    pub fn assign(&mut self, a: &Array) -> bool {
        if a.dtype() != self.dtype() || a.shape() != self.shape() {
            return false;
        }
        match (self, a) {
            (ArrayViewMut::Bool(v), Array::Bool(a)) => v.assign(a),
            (ArrayViewMut::U8(v), Array::U8(a)) => v.assign(a),
            (ArrayViewMut::U16(v), Array::U16(a)) => v.assign(a),
            (ArrayViewMut::I32(v), Array::I32(a)) => v.assign(a),
            (ArrayViewMut::F32(v), Array::F32(a)) => v.assign(a),
            (ArrayViewMut::F64(v), Array::F64(a)) => v.assign(a),
            _ => return false,
        }
        true
    }

    /// An owned, C-contiguous copy.
    #[must_use]
    pub fn to_owned(&self) -> Array {
        with_view_mut!(self, a => Array::from(a.to_owned()))
    }
}

impl<'a> From<&'a mut Array> for ArrayViewMut<'a> {
    fn from(a: &'a mut Array) -> ArrayViewMut<'a> {
        match a {
            Array::Bool(a) => ArrayViewMut::Bool(a.view_mut()),
            Array::U8(a) => ArrayViewMut::U8(a.view_mut()),
            Array::U16(a) => ArrayViewMut::U16(a.view_mut()),
            Array::I32(a) => ArrayViewMut::I32(a.view_mut()),
            Array::F32(a) => ArrayViewMut::F32(a.view_mut()),
            Array::F64(a) => ArrayViewMut::F64(a.view_mut()),
        }
    }
}

macro_rules! impl_from_view_mut {
    ($($t:ty => $v:ident),*) => {$(
        impl<'a> From<ArrayViewMutD<'a, $t>> for ArrayViewMut<'a> {
            fn from(a: ArrayViewMutD<'a, $t>) -> ArrayViewMut<'a> { ArrayViewMut::$v(a) }
        }
    )*};
}
impl_from_view_mut!(bool => Bool, u8 => U8, u16 => U16, i32 => I32, f32 => F32, f64 => F64);

/// A buffer as the kernel ABI sees it: address of element (0, …, 0) and strides in elements.
pub(crate) struct Raw {
    /// Base pointer.
    pub ptr: *mut u8,
    /// Strides in elements.
    pub strides: Vec<i64>,
}

fn strides(s: &[isize]) -> Vec<i64> {
    s.iter().map(|&s| s as i64).collect()
}

/// The base pointer and strides of a caller's input (never written through).
pub(crate) fn raw_view(v: &ArrayView<'_>) -> Raw {
    rumba_ir::with_view!(v, a => Raw { ptr: a.as_ptr().cast_mut().cast(), strides: strides(a.strides()) })
}

/// The base pointer and strides of a caller's output view.
pub(crate) fn raw_view_mut(v: &mut ArrayViewMut<'_>) -> Raw {
    with_view_mut!(v, a => Raw { ptr: a.as_mut_ptr().cast(), strides: strides(a.strides()) })
}

/// The base pointer and strides of an array the executor owns.
pub(crate) fn raw_array(a: &mut Array) -> Raw {
    rumba_ir::with_array!(a, a => Raw { ptr: a.as_mut_ptr().cast(), strides: strides(a.strides()) })
}

/// A C-contiguous array of `dtype` holding `values` (row-major, each exact in `dtype`);
/// `None` if their number is not the shape's.
pub(crate) fn constant(dtype: DType, shape: &[usize], values: &[F64]) -> Option<Array> {
    fn build<T>(shape: &[usize], values: &[F64], f: impl Fn(f64) -> T) -> Option<ArrayD<T>> {
        ArrayD::from_shape_vec(IxDyn(shape), values.iter().map(|v| f(v.0)).collect()).ok()
    }
    Some(match dtype {
        DType::Bool => Array::Bool(build(shape, values, |v| v != 0.0)?),
        DType::U8 => Array::U8(build(shape, values, |v| v as u8)?),
        DType::U16 => Array::U16(build(shape, values, |v| v as u16)?),
        DType::I32 => Array::I32(build(shape, values, |v| v as i32)?),
        DType::F32 => Array::F32(build(shape, values, |v| v as f32)?),
        DType::F64 => Array::F64(build(shape, values, |v| v)?),
    })
}

/// Copies `src` into `dst` (same dtype and shape, checked by the caller); false otherwise.
pub(crate) fn assign(dst: &mut ArrayViewMut<'_>, src: &ArrayView<'_>) -> bool {
    match (dst, src) {
        (ArrayViewMut::Bool(d), ArrayView::Bool(s)) => d.assign(s),
        (ArrayViewMut::U8(d), ArrayView::U8(s)) => d.assign(s),
        (ArrayViewMut::U16(d), ArrayView::U16(s)) => d.assign(s),
        (ArrayViewMut::I32(d), ArrayView::I32(s)) => d.assign(s),
        (ArrayViewMut::F32(d), ArrayView::F32(s)) => d.assign(s),
        (ArrayViewMut::F64(d), ArrayView::F64(s)) => d.assign(s),
        _ => return false,
    }
    true
}

/// A buffer the executor provides.
pub(crate) enum Owned {
    /// Zeroed (or constant) values.
    Array(Array),
    /// Uninitialised memory a kernel fills completely ([`super::fully_written`]).
    Fresh(super::Fresh),
}

impl Owned {
    /// Its base pointer and strides.
    pub(crate) fn raw(&mut self) -> Raw {
        match self {
            Owned::Array(a) => raw_array(a),
            Owned::Fresh(f) => f.raw(),
        }
    }

    /// Its size in bytes.
    pub(crate) fn bytes(&self) -> usize {
        match self {
            Owned::Array(a) => a.shape().iter().product::<usize>() * a.dtype().size(),
            Owned::Fresh(f) => f.bytes(),
        }
    }

    /// The array, after the plan's kernels have all run.
    ///
    /// # Safety
    /// Every kernel of the plan ran to completion (no error), so a `Fresh` buffer is written.
    pub(crate) unsafe fn finish(self) -> Array {
        match self {
            Owned::Array(a) => a,
            // SAFETY: the caller's guarantee, and `Fresh` buffers are only made for buffers
            // that `fully_written` found a complete store for.
            Owned::Fresh(f) => unsafe { f.into_array() },
        }
    }
}

/// Storage for every buffer the executor provides: temps and outputs unless `provided[b]`
/// — uninitialised when a kernel stores all of it ([`super::fully_written`]), else zeroed
/// (large ones advised onto huge pages, see [`super::zeroed`]) — and constants
/// (materialised); `None` for inputs and provided buffers.
pub(crate) fn allocate(plan: &Plan, provided: &[bool]) -> Result<Vec<Option<Owned>>, ExecError> {
    plan.buffers
        .iter()
        .zip(provided)
        .enumerate()
        .map(|(b, (buffer, &provided))| match &buffer.role {
            Role::Input { .. } => Ok(None),
            Role::Const { values } => constant(buffer.dtype, &buffer.shape, values)
                .map(|a| Some(Owned::Array(a)))
                .ok_or_else(|| {
                    let message = format!(
                        "constant buffer {b} has {} values for shape {:?}",
                        values.len(),
                        buffer.shape
                    );
                    ExecError::Verify(VerifyError {
                        kernel: "plan".into(),
                        message,
                    })
                }),
            Role::Temp | Role::Output { .. } if provided => Ok(None),
            Role::Temp | Role::Output { .. } => {
                let fresh = super::fully_written(plan, BufferId(b as u32))
                    .then(|| super::Fresh::new(buffer.dtype, &buffer.shape))
                    .flatten();
                Ok(Some(match fresh {
                    Some(f) => Owned::Fresh(f),
                    None => Owned::Array(super::zeroed(buffer.dtype, &buffer.shape)),
                }))
            }
        })
        .collect()
}

/// Every buffer's storage, or an error naming a buffer that has none (an input buffer not
/// listed in `plan.inputs`).
pub(crate) fn complete(raws: Vec<Option<Raw>>) -> Result<Vec<Raw>, ExecError> {
    raws.into_iter()
        .enumerate()
        .map(|(b, r)| {
            r.ok_or_else(|| {
                let message = format!("input buffer {b} is not a plan input");
                ExecError::Verify(VerifyError {
                    kernel: "plan".into(),
                    message,
                })
            })
        })
        .collect()
}
