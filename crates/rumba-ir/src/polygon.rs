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

/// The mask of an `height × width` image, row-major: `mask[i*width + j]` for pixel (i, j),
/// pixel by pixel with [`contains`] (the reference interpreter's form).
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

/// The inside pixels of each row as sorted, disjoint half-open column spans `[j0, j1)`.
///
/// Same rule as [`contains`], by scanline: a row's centre line crosses the edges at
/// `x0 + (py − y0)·(x1 − x0)/(y1 − y0)` (the same f64 expression), and pixel j is inside iff
/// an odd number of crossings `c` satisfy `j + ½ < c`. O(H·(edges + W)) instead of
/// O(H·W·edges).
#[must_use]
pub fn row_spans(vertices: &[[f64; 2]], height: usize, width: usize) -> Vec<Vec<(u32, u32)>> {
    let n = vertices.len();
    let mut rows = Vec::with_capacity(height);
    let mut crossings: Vec<f64> = Vec::new();
    for i in 0..height {
        let py = i as f64 + 0.5;
        crossings.clear();
        for k in 0..n {
            let [x0, y0] = vertices[k];
            let [x1, y1] = vertices[(k + 1) % n];
            if (y0 > py) != (y1 > py) {
                crossings.push(x0 + (py - y0) * (x1 - x0) / (y1 - y0));
            }
        }
        crossings.sort_by(f64::total_cmp);
        // Walk the columns: `above` counts crossings c with px < c, i.e. those not yet passed.
        let mut spans = Vec::new();
        let mut next = 0;
        let mut start = None;
        for j in 0..width {
            let px = j as f64 + 0.5;
            while next < crossings.len() && crossings[next] <= px {
                next += 1;
            }
            let inside = (crossings.len() - next) % 2 == 1;
            match (inside, start) {
                (true, None) => start = Some(j as u32),
                (false, Some(a)) => {
                    spans.push((a, j as u32));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(a) = start {
            spans.push((a, width as u32));
        }
        rows.push(spans);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanline_spans_equal_the_pointwise_rule() {
        let shapes: [&[[f64; 2]]; 3] = [
            &[[-3.2, 4.7], [12.9, -2.1], [35.6, 8.3], [27.05, 26.4], [6.3, 19.77]],
            &[
                [16.2, 2.4],
                [24.605329, 28.268943],
                [2.599892, 12.281057],
                [29.800108, 12.281057],
                [7.794671, 28.268943],
            ],
            &[[2.5, 1.5], [6.5, 1.5], [8.5, 3.5], [8.5, 6.5], [4.5, 8.5], [1.5, 5.5]],
        ];
        for v in shapes {
            let (h, w) = (33, 37);
            let pointwise: Vec<bool> = (0..h * w)
                .map(|k| contains(v, (k % w) as f64 + 0.5, (k / w) as f64 + 0.5))
                .collect();
            assert_eq!(mask(v, h, w), pointwise);
            let mut from_spans = vec![false; h * w];
            for (i, spans) in row_spans(v, h, w).iter().enumerate() {
                for &(a, b) in spans {
                    from_spans[i * w + a as usize..i * w + b as usize].fill(true);
                }
            }
            assert_eq!(from_spans, pointwise);
        }
    }

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
