//! The summary of an array's values that `rumba run` prints: min, mean and max over the
//! non-NaN elements and the NaN count — of an array in memory ([`Summary::of`]) or gathered
//! box by box as a streamed run writes it ([`Summary::add_bytes`]).

use rumba_ir::{Array, DType};

/// Min, mean and max over the non-NaN elements, and the NaN count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Smallest non-NaN value (`+inf` if there is none).
    pub min: f64,
    /// Largest non-NaN value (`-inf` if there is none).
    pub max: f64,
    /// Sum of the non-NaN values, in the order they were added.
    pub sum: f64,
    /// Number of non-NaN elements.
    pub count: usize,
    /// Number of NaN elements.
    pub nans: usize,
}

impl Default for Summary {
    fn default() -> Summary {
        Summary {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
            count: 0,
            nans: 0,
        }
    }
}

impl Summary {
    /// The summary of an array.
    #[must_use]
    pub fn of(a: &Array) -> Summary {
        let mut s = Summary::default();
        rumba_ir::with_array!(a, a => a.iter().for_each(|&v| s.add(to_f64(v))));
        s
    }

    /// Mean of the non-NaN values (NaN if there is none).
    #[must_use]
    pub fn mean(&self) -> f64 {
        self.sum / self.count as f64
    }

    fn add(&mut self, v: f64) {
        if v.is_nan() {
            self.nans += 1;
            return;
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += v;
        self.count += 1;
    }

    /// Adds elements of `dtype` given as native-endian bytes.
    pub fn add_bytes(&mut self, dtype: DType, bytes: &[u8]) {
        macro_rules! each {
            ($t:ty, $n:literal) => {
                for c in bytes.chunks_exact($n) {
                    let v = <$t>::from_ne_bytes(c.try_into().expect("chunks_exact"));
                    self.add(f64::from(v));
                }
            };
        }
        match dtype {
            DType::Bool | DType::U8 => bytes.iter().for_each(|&b| self.add(f64::from(b))),
            DType::U16 => each!(u16, 2),
            DType::I32 => each!(i32, 4),
            DType::F32 => each!(f32, 4),
            DType::F64 => each!(f64, 8),
        }
    }
}

/// An element as f64 (bool as 0/1).
fn to_f64<T: Into<Element>>(v: T) -> f64 {
    v.into().0
}

/// Any element, widened.
struct Element(f64);

macro_rules! impl_element {
    ($($t:ty),*) => {$(
        impl From<$t> for Element {
            fn from(v: $t) -> Element {
                Element(f64::from(v))
            }
        }
    )*};
}
impl_element!(bool, u8, u16, i32, f32, f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_arrays_agree() {
        let a =
            Array::F32(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[4]), vec![1.5, f32::NAN, -2.0, 4.0]).unwrap());
        let s = Summary::of(&a);
        assert_eq!((s.min, s.max, s.count, s.nans), (-2.0, 4.0, 3, 1));
        assert!((s.mean() - 3.5 / 3.0).abs() < 1e-15);
        let mut b = Summary::default();
        let bytes: Vec<u8> = [1.5f32, f32::NAN, -2.0, 4.0]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect();
        b.add_bytes(DType::F32, &bytes[..8]);
        b.add_bytes(DType::F32, &bytes[8..]);
        assert_eq!(s, b);
        let mut u = Summary::default();
        u.add_bytes(DType::U16, &[0, 1, 255, 255]);
        assert_eq!((u.min, u.max), (256.0, 65535.0));
    }
}
