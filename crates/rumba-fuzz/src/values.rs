//! Input arrays filled from the fuzzer's bytes: each element takes a value from a pool of edge
//! values (NaN, ±Inf, −0.0, denormals, each dtype's extremes and their neighbours), a small
//! integer, or raw bits — and, once the bytes run out, from a seeded stream, so any byte string
//! fills any shape. Inputs may be passed as non-contiguous views ([`Layout`]).

use crate::bytes::{Bytes, mix};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Slice};
use rumba::{Array, ArrayView, DType};

/// Edge values every dtype meets (converted with Rust's saturating `as`).
pub(crate) const EDGES: [f64; 40] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    1.5,
    2.0,
    3.0,
    7.0,
    -7.5,
    0.1,
    100.0,
    127.0,
    128.0,
    255.0,
    256.0,
    32767.0,
    65535.0,
    65536.0,
    2_147_483_647.0,
    -2_147_483_648.0,
    2_147_483_648.0,
    16_777_217.0,
    9_007_199_254_740_993.0,
    1e15,
    -1e15,
    5e-324,
    2.225_073_858_507_201_4e-308,
    1.175_494_4e-38,
    1e-45,
    3.402_823_466_385_288_6e38,
    6.8e38,
    f64::MAX,
    f64::MIN,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -f64::NAN,
    1e300,
];

/// Where element values come from: the bytes, then a seeded stream.
pub(crate) struct Source<'a> {
    bytes: Bytes<'a>,
    seed: u64,
    counter: u64,
}

impl<'a> Source<'a> {
    pub(crate) fn new(bytes: &'a [u8], seed: u64) -> Source<'a> {
        Source {
            bytes: Bytes::new(bytes),
            seed,
            counter: 0,
        }
    }

    fn byte(&mut self) -> u8 {
        if self.bytes.is_empty() {
            self.counter += 1;
            mix(self.seed, self.counter) as u8
        } else {
            self.bytes.byte()
        }
    }

    fn bits(&mut self, n: usize) -> u64 {
        (0..n).fold(0u64, |v, i| v | u64::from(self.byte()) << (8 * i))
    }

    /// The next element value, as f64 unless raw bits were asked for (`raw`).
    fn element(&mut self, dtype: DType) -> Element {
        let m = self.byte();
        match m {
            0..0x60 => Element::Value(EDGES[usize::from(m) % EDGES.len()]),
            0x60..0xC0 => Element::Value(f64::from(i16::from(m) - 0x90)),
            _ => Element::Raw(self.bits(dtype.size())),
        }
    }
}

enum Element {
    Value(f64),
    Raw(u64),
}

fn fill<T>(shape: &[usize], dtype: DType, src: &mut Source<'_>, of: impl Fn(Element) -> T) -> ArrayD<T> {
    let n = shape.iter().product::<usize>();
    let values: Vec<T> = (0..n).map(|_| of(src.element(dtype))).collect();
    ArrayD::from_shape_vec(IxDyn(shape), values).expect("the shape's element count")
}

/// A C-contiguous array of `dtype` and `shape` filled from `src`.
pub(crate) fn array(dtype: DType, shape: &[usize], src: &mut Source<'_>) -> Array {
    match dtype {
        DType::Bool => Array::Bool(fill(shape, dtype, src, |e| match e {
            Element::Value(v) => v != 0.0,
            Element::Raw(b) => b & 1 == 1,
        })),
        DType::U8 => Array::U8(fill(shape, dtype, src, |e| match e {
            Element::Value(v) => v as u8,
            Element::Raw(b) => b as u8,
        })),
        DType::U16 => Array::U16(fill(shape, dtype, src, |e| match e {
            Element::Value(v) => v as u16,
            Element::Raw(b) => b as u16,
        })),
        DType::I32 => Array::I32(fill(shape, dtype, src, |e| match e {
            Element::Value(v) => v as i32,
            Element::Raw(b) => b as u32 as i32,
        })),
        DType::F32 => Array::F32(fill(shape, dtype, src, |e| match e {
            Element::Value(v) => v as f32,
            Element::Raw(b) => f32::from_bits(b as u32),
        })),
        DType::F64 => Array::F64(fill(shape, dtype, src, |e| match e {
            Element::Value(v) => v,
            Element::Raw(b) => f64::from_bits(b),
        })),
    }
}

/// How an input's view lies in its storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// The storage itself (C order).
    Contiguous,
    /// Every other element along this axis of a storage twice as long there (from index 1).
    Strided(usize),
    /// This axis reversed.
    Reversed(usize),
    /// The storage's axes reversed (a Fortran-order view).
    Transposed,
}

impl Layout {
    /// The storage shape whose view has `shape`.
    pub(crate) fn storage_shape(self, shape: &[usize]) -> Vec<usize> {
        let mut s = shape.to_vec();
        match self {
            // Indices 1, 3, …, 2n − 1 of 2n + 1 (an empty axis too).
            Layout::Strided(a) => s[a] = 2 * s[a] + 1,
            Layout::Transposed => s.reverse(),
            Layout::Contiguous | Layout::Reversed(_) => {}
        }
        s
    }

    fn apply<'a, T>(self, a: &'a ArrayD<T>) -> ArrayViewD<'a, T> {
        let mut v = a.view();
        match self {
            Layout::Contiguous => {}
            Layout::Strided(axis) => v.slice_axis_inplace(Axis(axis), Slice::new(1, None, 2)),
            Layout::Reversed(axis) => v.slice_axis_inplace(Axis(axis), Slice::new(0, None, -1)),
            Layout::Transposed => v = v.reversed_axes(),
        }
        v
    }

    /// The view of `storage` this layout describes.
    pub(crate) fn view(self, storage: &Array) -> ArrayView<'_> {
        match storage {
            Array::Bool(a) => ArrayView::Bool(self.apply(a)),
            Array::U8(a) => ArrayView::U8(self.apply(a)),
            Array::U16(a) => ArrayView::U16(self.apply(a)),
            Array::I32(a) => ArrayView::I32(self.apply(a)),
            Array::F32(a) => ArrayView::F32(self.apply(a)),
            Array::F64(a) => ArrayView::F64(self.apply(a)),
        }
    }
}
