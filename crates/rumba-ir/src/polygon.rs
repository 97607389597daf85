//! The pixel-centre polygon rule shared by every backend (DESIGN §2, fixtures README).
//!
//! Pixel (i, j) covers `[j, j+1) × [i, i+1)`; it is inside iff its centre `(j+½, i+½)` is
//! inside by the even-odd rule, counting edges with `(y0 > py) != (y1 > py)` and
//! `px < x0 + (py − y0)·(x1 − x0)/(y1 − y0)`, evaluated in f64 in that order. Centres on a
//! left/top edge are inside, on a right/bottom edge outside; horizontal edges never count.

/// Whether the point `(px, py)` is inside the closed polygon `vertices` (`[x, y]` pairs).
#[must_use]
pub fn contains(vertices: &[[f64; 2]], px: f64, py: f64) -> bool {
    let n = vertices.len();
    let mut inside = false;
    for k in 0..n {
        let [x0, y0] = vertices[k];
        let [x1, y1] = vertices[(k + 1) % n];
        if (y0 > py) != (y1 > py) && px < x0 + (py - y0) * (x1 - x0) / (y1 - y0) {
            inside = !inside;
        }
    }
    inside
}

/// The mask of an `height × width` image, row-major: `mask[i*width + j]` for pixel (i, j).
#[must_use]
pub fn mask(vertices: &[[f64; 2]], height: usize, width: usize) -> Vec<bool> {
    let mut out = Vec::with_capacity(height * width);
    for i in 0..height {
        let py = i as f64 + 0.5;
        for j in 0..width {
            out.push(contains(vertices, j as f64 + 0.5, py));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_covers_its_pixels_half_open() {
        // The square [1, 3] × [1, 3] holds the centres (1.5, 1.5) … (2.5, 2.5).
        let sq = [[1.0, 1.0], [3.0, 1.0], [3.0, 3.0], [1.0, 3.0]];
        let m = mask(&sq, 4, 4);
        let inside: Vec<usize> = (0..16).filter(|&k| m[k]).collect();
        assert_eq!(inside, vec![5, 6, 9, 10]);
        // A centre exactly on the left edge is inside, on the right edge outside.
        let edge = [[0.5, 0.0], [1.5, 0.0], [1.5, 2.0], [0.5, 2.0]];
        assert!(contains(&edge, 0.5, 0.5));
        assert!(!contains(&edge, 1.5, 0.5));
    }
}
