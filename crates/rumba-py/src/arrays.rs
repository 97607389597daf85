//! NumPy arrays in and out.
//!
//! An input array is borrowed, not copied, when it is aligned, in native byte order and its
//! strides are whole multiples of its element size (C, Fortran, `swapaxes`, negative-stride
//! and read-only arrays all are): rumba's kernels read any strides. Any other array (a
//! misaligned buffer, a byte-swapped dtype, a stride that splits elements) is copied once
//! into a fresh C-ordered array of the native dtype (`numpy.array(a, dtype=native)`),
//! documented in the package's README. Outputs are NumPy arrays that own rumba's buffers.

use crate::errors;
use numpy::{
    Element, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyReadwriteArrayDyn, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rumba::exec::ArrayViewMut;
use rumba::{Array, ArrayView, DType};

/// A borrowed input: NumPy's shared-borrow guard, which keeps the array readable (and no
/// one else writing it through rumba) while a run holds its view.
pub enum Input<'py> {
    Bool(PyReadonlyArrayDyn<'py, bool>),
    U8(PyReadonlyArrayDyn<'py, u8>),
    U16(PyReadonlyArrayDyn<'py, u16>),
    I32(PyReadonlyArrayDyn<'py, i32>),
    F32(PyReadonlyArrayDyn<'py, f32>),
    F64(PyReadonlyArrayDyn<'py, f64>),
}

impl Input<'_> {
    /// The view rumba reads.
    pub fn view(&self) -> ArrayView<'_> {
        match self {
            Input::Bool(a) => ArrayView::Bool(a.as_array()),
            Input::U8(a) => ArrayView::U8(a.as_array()),
            Input::U16(a) => ArrayView::U16(a.as_array()),
            Input::I32(a) => ArrayView::I32(a.as_array()),
            Input::F32(a) => ArrayView::F32(a.as_array()),
            Input::F64(a) => ArrayView::F64(a.as_array()),
        }
    }
}

/// The rumba dtype of a NumPy dtype name (`uint8`, `float32`, `bool`), or of its short form.
pub fn dtype_from_name(name: &str) -> Option<DType> {
    Some(match name {
        "bool" | "b1" | "?" => DType::Bool,
        "uint8" | "u8" | "u1" | "B" => DType::U8,
        "uint16" | "u16" | "u2" | "H" => DType::U16,
        "int32" | "i32" | "i4" => DType::I32,
        "float32" | "f32" | "f4" => DType::F32,
        "float64" | "f64" | "f8" | "d" => DType::F64,
        _ => return None,
    })
}

/// The NumPy dtype name of a rumba dtype.
pub fn numpy_name(dtype: DType) -> &'static str {
    match dtype {
        DType::Bool => "bool",
        DType::U8 => "uint8",
        DType::U16 => "uint16",
        DType::I32 => "int32",
        DType::F32 => "float32",
        DType::F64 => "float64",
    }
}

/// Whether rumba can read `a` in place: aligned, native byte order, whole-element strides.
fn readable_in_place(a: &Bound<'_, PyUntypedArray>) -> bool {
    let size = a.dtype().itemsize() as isize;
    a.is_aligned() && a.dtype().is_native_byteorder().unwrap_or(true) && a.strides().iter().all(|s| s % size == 0)
}

/// The native-order rumba dtype of an array's dtype, if rumba has it.
fn dtype_of(a: &Bound<'_, PyUntypedArray>) -> Option<DType> {
    let d = a.dtype();
    let kind = d.kind();
    Some(match (kind, d.itemsize()) {
        (b'b', 1) => DType::Bool,
        (b'u', 1) => DType::U8,
        (b'u', 2) => DType::U16,
        (b'i', 4) => DType::I32,
        (b'f', 4) => DType::F32,
        (b'f', 8) => DType::F64,
        _ => return None,
    })
}

/// Borrows (or, when it cannot be read in place, copies once) the array given for input
/// `name`.
pub fn input<'py>(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<Input<'py>> {
    let py = obj.py();
    let Ok(untyped) = obj.cast::<PyUntypedArray>() else {
        return Err(errors::bind(format!(
            "input \"{name}\": expected a NumPy array, found {}",
            obj.get_type().name()?
        )));
    };
    // A masked array's mask would be ignored: a wrong answer, so it is refused.
    if !obj.is_exact_instance_of::<PyUntypedArray>() && obj.hasattr("mask")? && obj.hasattr("filled")? {
        return Err(errors::bind(format!(
            "input \"{name}\": a masked array's mask would be ignored; pass `a.filled(np.nan)` or `a.data`"
        )));
    }
    let Some(dtype) = dtype_of(untyped) else {
        return Err(errors::bind(format!(
            "input \"{name}\": NumPy dtype {} is not one rumba reads (bool, uint8, uint16, int32, float32, float64)",
            untyped.dtype().str()?
        )));
    };
    let owned;
    let array = if readable_in_place(untyped) {
        obj
    } else {
        // One copy into an aligned, native-order, C-ordered array.
        let numpy = py.import("numpy")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("dtype", numpy_name(dtype))?;
        owned = numpy.call_method("array", (obj,), Some(&kwargs))?;
        &owned
    };
    fn borrow<'py, T: Element>(name: &str, a: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArrayDyn<'py, T>> {
        let a = a.cast::<PyArrayDyn<T>>()?;
        a.try_readonly()
            .map_err(|e| errors::bind(format!("input \"{name}\": the array cannot be read: {e}")))
    }
    Ok(match dtype {
        DType::Bool => Input::Bool(borrow(name, array)?),
        DType::U8 => Input::U8(borrow(name, array)?),
        DType::U16 => Input::U16(borrow(name, array)?),
        DType::I32 => Input::I32(borrow(name, array)?),
        DType::F32 => Input::F32(borrow(name, array)?),
        DType::F64 => Input::F64(borrow(name, array)?),
    })
}

/// A caller's output array, borrowed for writing.
pub enum Output<'py> {
    Bool(PyReadwriteArrayDyn<'py, bool>),
    U8(PyReadwriteArrayDyn<'py, u8>),
    U16(PyReadwriteArrayDyn<'py, u16>),
    I32(PyReadwriteArrayDyn<'py, i32>),
    F32(PyReadwriteArrayDyn<'py, f32>),
    F64(PyReadwriteArrayDyn<'py, f64>),
}

impl Output<'_> {
    /// The view rumba writes.
    pub fn view_mut(&mut self) -> ArrayViewMut<'_> {
        match self {
            Output::Bool(a) => ArrayViewMut::Bool(a.as_array_mut()),
            Output::U8(a) => ArrayViewMut::U8(a.as_array_mut()),
            Output::U16(a) => ArrayViewMut::U16(a.as_array_mut()),
            Output::I32(a) => ArrayViewMut::I32(a.as_array_mut()),
            Output::F32(a) => ArrayViewMut::F32(a.as_array_mut()),
            Output::F64(a) => ArrayViewMut::F64(a.as_array_mut()),
        }
    }
}

/// Borrows the caller's array for output `name`, which must have `dtype` and `shape`, be
/// writeable, aligned, in native order, with whole-element strides (no copy is made: a copy
/// would not be the caller's array).
pub fn output<'py>(name: &str, obj: &Bound<'py, PyAny>, dtype: DType, shape: &[usize]) -> PyResult<Output<'py>> {
    let bad = |what: String| errors::bind(format!("output \"{name}\": {what}"));
    let Ok(untyped) = obj.cast::<PyUntypedArray>() else {
        return Err(bad(format!("expected a NumPy array, found {}", obj.get_type().name()?)));
    };
    // A C = 1 output may be given without its C axis, like an input (see `implied_extents`).
    let without_c = shape.len() == 4 && shape[3] == 1 && untyped.shape() == &shape[..3];
    if dtype_of(untyped) != Some(dtype) || (untyped.shape() != shape && !without_c) {
        return Err(bad(format!(
            "expected a {} array of shape {shape:?}, found a {} array of shape {:?}",
            numpy_name(dtype),
            untyped.dtype().str()?,
            untyped.shape()
        )));
    }
    if !readable_in_place(untyped) {
        return Err(bad(
            "the array must be aligned, in native byte order, with whole-element strides".into(),
        ));
    }
    fn borrow<'py, T: Element>(name: &str, a: &Bound<'py, PyAny>) -> PyResult<PyReadwriteArrayDyn<'py, T>> {
        let a = a.cast::<PyArrayDyn<T>>()?;
        a.try_readwrite().map_err(|e| {
            errors::bind(format!(
                "output \"{name}\": the array cannot be written (read-only, or in use): {e}"
            ))
        })
    }
    Ok(match dtype {
        DType::Bool => Output::Bool(borrow(name, obj)?),
        DType::U8 => Output::U8(borrow(name, obj)?),
        DType::U16 => Output::U16(borrow(name, obj)?),
        DType::I32 => Output::I32(borrow(name, obj)?),
        DType::F32 => Output::F32(borrow(name, obj)?),
        DType::F64 => Output::F64(borrow(name, obj)?),
    })
}

/// A result as a NumPy array that owns its buffer (no copy).
pub fn to_numpy(py: Python<'_>, a: Array) -> Bound<'_, PyAny> {
    match a {
        Array::Bool(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::U8(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::U16(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::I32(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::F32(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
        Array::F64(a) => PyArrayDyn::from_owned_array(py, a).into_any(),
    }
}

/// A spec for `compile`: an array, or any object with `.dtype` and `.shape` (a Dask array,
/// `numpy.empty`'s metadata), or a `(dtype, shape)` pair.
pub fn spec(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<(DType, Vec<usize>)> {
    let bad = || {
        errors::bind(format!(
            "input \"{name}\": expected an array, an object with .dtype and .shape, or a (dtype, shape) pair"
        ))
    };
    // A NumPy array (the common case, on every call of a graph): read directly.
    if let Ok(a) = obj.cast::<PyUntypedArray>() {
        let Some(dtype) = dtype_of(a) else {
            return Err(errors::bind(format!(
                "input \"{name}\": NumPy dtype {} is not one rumba reads (bool, uint8, uint16, int32, float32, float64)",
                a.dtype().str()?
            )));
        };
        return Ok((dtype, a.shape().to_vec()));
    }
    let (dtype, shape) = if obj.hasattr("dtype")? && obj.hasattr("shape")? {
        (obj.getattr("dtype")?, obj.getattr("shape")?)
    } else if let Ok((d, s)) = obj.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>() {
        (d, s)
    } else {
        return Err(bad());
    };
    let shape: Vec<usize> = shape.extract().map_err(|_| bad())?;
    // A dtype object or a name: numpy.dtype(x).name normalises both.
    let numpy = obj.py().import("numpy")?;
    let name_of = numpy
        .call_method1("dtype", (dtype,))
        .and_then(|d| d.getattr("name"))
        .and_then(|n| n.extract::<String>())
        .map_err(|_| bad())?;
    let Some(dtype) = dtype_from_name(&name_of) else {
        return Err(errors::bind(format!(
            "input \"{name}\": NumPy dtype {name_of} is not one rumba reads (bool, uint8, uint16, int32, float32, float64)"
        )));
    };
    Ok((dtype, shape))
}
