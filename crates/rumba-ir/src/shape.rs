//! Shapes with fixed or free dimensions, and NumPy broadcasting.
//!
//! The same inference code runs twice: at validation with free dims (`Dim::Free`) and at bind
//! time with every dim fixed, so static and concrete checks cannot disagree.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One dimension of a declared shape: a fixed extent, or free (known only when bound).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dim {
    /// An extent known at validation.
    Fixed(usize),
    /// An extent known only when the graph is bound to concrete inputs.
    Free,
}

impl Dim {
    /// The extent if fixed.
    #[must_use]
    pub fn fixed(self) -> Option<usize> {
        match self {
            Dim::Fixed(n) => Some(n),
            Dim::Free => None,
        }
    }
}

impl From<Option<usize>> for Dim {
    fn from(d: Option<usize>) -> Dim {
        d.map_or(Dim::Free, Dim::Fixed)
    }
}

impl From<usize> for Dim {
    fn from(d: usize) -> Dim {
        Dim::Fixed(d)
    }
}

/// A shape: one [`Dim`] per axis, row-major, rank 0 for scalars.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Shape(pub Vec<Dim>);

impl Shape {
    /// The rank-0 shape of a scalar.
    #[must_use]
    pub fn scalar() -> Shape {
        Shape(Vec::new())
    }

    /// A shape whose dims are all fixed.
    #[must_use]
    pub fn fixed(dims: &[usize]) -> Shape {
        Shape(dims.iter().map(|&d| Dim::Fixed(d)).collect())
    }

    /// Number of axes.
    #[must_use]
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// The extents, if every dim is fixed.
    #[must_use]
    pub fn concrete(&self) -> Option<Vec<usize>> {
        self.0.iter().map(|d| d.fixed()).collect()
    }

    /// NumPy broadcasting of two shapes. `Err((axis_a, axis_b))` names the first pair of fixed
    /// extents that cannot combine (axes counted in each operand's own rank).
    ///
    /// # Errors
    /// Two fixed extents that differ and are both not 1.
    pub fn broadcast(a: &Shape, b: &Shape) -> Result<Shape, (usize, usize)> {
        let rank = a.rank().max(b.rank());
        let mut out = Vec::with_capacity(rank);
        for i in 0..rank {
            let da = (i + a.rank()).checked_sub(rank).map(|k| (k, a.0[k]));
            let db = (i + b.rank()).checked_sub(rank).map(|k| (k, b.0[k]));
            let dim = match (da, db) {
                (None, Some((_, d))) | (Some((_, d)), None) => d,
                (Some((_, x)), Some((_, y))) if x == y => x,
                (Some((_, Dim::Fixed(1))), Some((_, d))) | (Some((_, d)), Some((_, Dim::Fixed(1)))) => d,
                (Some((ka, Dim::Fixed(_))), Some((kb, Dim::Fixed(_)))) => return Err((ka, kb)),
                // A free dim against a fixed one > 1: only binding can tell; the fixed extent
                // is the only result that can be valid.
                (Some((_, Dim::Fixed(n))), Some((_, Dim::Free))) | (Some((_, Dim::Free)), Some((_, Dim::Fixed(n)))) => {
                    Dim::Fixed(n)
                }
                (Some(_), Some(_)) => Dim::Free,
                (None, None) => unreachable!("axis {i} is below the larger rank"),
            };
            out.push(dim);
        }
        Ok(Shape(out))
    }

    /// Number of elements if fixed.
    #[must_use]
    pub fn numel(&self) -> Option<usize> {
        self.concrete().map(|d| d.iter().product())
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match d {
                Dim::Fixed(n) => write!(f, "{n}")?,
                Dim::Free => f.write_str("?")?,
            }
        }
        if self.0.len() == 1 {
            f.write_str(",")?;
        }
        f.write_str(")")
    }
}

/// Formats concrete extents like NumPy: `(7, 5, 9, 1)`.
#[must_use]
pub fn fmt_extents(dims: &[usize]) -> String {
    Shape::fixed(dims).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        let a = Shape::fixed(&[7, 5, 9, 1]);
        let b = Shape::fixed(&[1, 5, 9, 1]);
        assert_eq!(Shape::broadcast(&a, &b), Ok(a.clone()));
        assert_eq!(Shape::broadcast(&a, &Shape::scalar()), Ok(a.clone()));
        assert_eq!(
            Shape::broadcast(&a, &Shape::fixed(&[9, 3])),
            Ok(Shape::fixed(&[7, 5, 9, 3]))
        );
        assert_eq!(Shape::broadcast(&a, &Shape::fixed(&[4, 1])), Err((2, 0)));
        let free = Shape(vec![Dim::Free, Dim::Fixed(5)]);
        assert_eq!(
            Shape::broadcast(&free, &Shape::fixed(&[3, 1])),
            Ok(Shape(vec![Dim::Fixed(3), Dim::Fixed(5)]))
        );
    }
}
