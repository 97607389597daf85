//! Graph inputs of random cases: a poisoned storage array and the non-contiguous view of it that
//! is passed in, filled (through the view, in logical order) from the plan's value pool.

use super::{InputPlan, Layout};
use ndarray::{ArrayBase, ArrayD, Axis, IxDyn, RawData, Slice};
use rumba::{Array, ArrayView, DType};
use rumba_ir::{with_array, with_view};
use std::fmt::Write;

/// Storage elements outside the view hold this, so a wrong stride reads a value that shows.
const POISON: f64 = 123.0;

/// A graph input: its plan and the storage its view borrows.
pub struct Input {
    /// The input's name (`x0`, `x1`).
    pub name: String,
    /// What it was made from.
    pub plan: InputPlan,
    storage: Array,
}

/// A permutation of `0..n` from a Lehmer code (`code % n!`).
pub fn permutation(code: u32, n: usize) -> Vec<usize> {
    let mut left: Vec<usize> = (0..n).collect();
    let mut code = code as usize;
    let mut out = Vec::with_capacity(n);
    for k in (1..=n).rev() {
        out.push(left.remove(code % k));
        code /= k;
    }
    out
}

/// Which pool value element `i` gets (splitmix64 of seed and index).
fn pick(i: usize, seed: u32, len: usize) -> usize {
    let mut z = (u64::from(seed) << 32 ^ i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) % len as u64) as usize
}

impl Layout {
    fn axis(a: Option<u8>, rank: usize) -> Option<usize> {
        a.map(|a| a as usize % rank)
    }

    /// The storage shape whose view ([`Layout::view`]) has `shape`.
    fn storage_shape(&self, shape: &[usize]) -> Vec<usize> {
        let rank = shape.len();
        let mut s = shape.to_vec();
        if let Some(a) = Self::axis(self.stride, rank) {
            s[a] *= 2;
        }
        if let Some(code) = self.permute {
            let perm = permutation(code, rank);
            let mut pre = vec![0; rank];
            for (i, &p) in perm.iter().enumerate() {
                pre[p] = s[i];
            }
            s = pre;
        }
        if self.extra {
            s.push(2);
        }
        s
    }

    /// The view of a storage array (any data: owned, view, view_mut).
    fn view<S: RawData>(&self, mut a: ArrayBase<S, IxDyn>, rank: usize) -> ArrayBase<S, IxDyn> {
        if self.extra {
            a = a.index_axis_move(Axis(rank), 1);
        }
        if let Some(code) = self.permute {
            a = a.permuted_axes(permutation(code, rank));
        }
        if let Some(axis) = Self::axis(self.stride, rank) {
            a.slice_axis_inplace(Axis(axis), Slice::new(1, None, 2));
        }
        if let Some(axis) = Self::axis(self.reverse, rank) {
            a.slice_axis_inplace(Axis(axis), Slice::new(0, None, -1));
        }
        a
    }
}

fn storage<T: Copy>(plan: &InputPlan, convert: impl Fn(f64) -> T) -> ArrayD<T> {
    let mut storage = ArrayD::from_elem(plan.layout.storage_shape(&plan.shape), convert(POISON));
    let mut view = plan.layout.view(storage.view_mut(), plan.shape.len());
    assert_eq!(view.shape(), plan.shape.as_slice());
    for (i, e) in view.iter_mut().enumerate() {
        *e = convert(plan.pool[pick(i, plan.seed, plan.pool.len())]);
    }
    storage
}

impl Input {
    /// Makes the storage of input `name`.
    pub fn new(name: String, plan: InputPlan) -> Input {
        let storage = match plan.dtype {
            DType::U8 => Array::U8(storage(&plan, |v| v as u8)),
            DType::U16 => Array::U16(storage(&plan, |v| v as u16)),
            DType::I32 => Array::I32(storage(&plan, |v| v as i32)),
            DType::F32 => Array::F32(storage(&plan, |v| v as f32)),
            DType::F64 => Array::F64(storage(&plan, |v| v)),
            DType::Bool => unreachable!("inputs are numeric"),
        };
        Input { name, plan, storage }
    }

    /// The (non-contiguous) view passed to the graph.
    pub fn view(&self) -> ArrayView<'_> {
        let (layout, rank) = (self.plan.layout, self.plan.shape.len());
        match &self.storage {
            Array::U8(a) => ArrayView::U8(layout.view(a.view(), rank)),
            Array::U16(a) => ArrayView::U16(layout.view(a.view(), rank)),
            Array::I32(a) => ArrayView::I32(layout.view(a.view(), rank)),
            Array::F32(a) => ArrayView::F32(layout.view(a.view(), rank)),
            Array::F64(a) => ArrayView::F64(layout.view(a.view(), rank)),
            Array::Bool(_) => unreachable!("inputs are numeric"),
        }
    }

    /// The DSL declaration, e.g. `b.input("x0", DType::U8, [Some(3), None])`.
    pub fn declaration(&self) -> String {
        let dims: Vec<String> = self
            .plan
            .shape
            .iter()
            .zip(&self.plan.free)
            .map(|(n, &free)| if free { "None".into() } else { format!("Some({n})") })
            .collect();
        format!(
            "b.input(\"{}\", DType::{:?}, [{}])",
            self.name,
            self.plan.dtype,
            dims.join(", ")
        )
    }

    /// Shape, layout, strides and values (all of them when few).
    pub fn describe(&self) -> String {
        let view = self.view();
        let strides = with_view!(&view, a => a.strides().to_vec());
        let storage = with_array!(&self.storage, a => a.shape().to_vec());
        let mut s = format!(
            "{}: {} {:?}, {:?} of storage {storage:?}, strides {strides:?}\n  pool {:?}, seed {}",
            self.name, self.plan.dtype, self.plan.shape, self.plan.layout, self.plan.pool, self.plan.seed
        );
        let values = view.to_f64_vec();
        if values.len() <= 256 {
            let _ = write!(s, "\n  values (logical order) {values:?}");
        }
        s
    }
}
