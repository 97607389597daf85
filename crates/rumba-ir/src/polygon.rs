//! The pixel-centre polygon rule shared by every backend (DESIGN §2, fixtures README).
//!
//! Pixel (i, j) covers `[j, j+1) × [i, i+1)`; it is inside iff its centre `(j+½, i+½)` is
//! inside by the even-odd rule, counting edges with `(y0 > py) != (y1 > py)` and
//! `px < x0 + (py − y0)·(x1 − x0)/(y1 − y0)`, evaluated in f64 in that order. Centres on a
//! left/top edge are inside, on a right/bottom edge outside; horizontal edges never count.
//!
//! Where that expression overflows f64 (coordinates beyond about 1e154: the product
//! `(py − y0)·(x1 − x0)` or a difference is infinite, so the crossing would be ±∞ or NaN and a
//! polygon enclosing the image would contain no pixel), the crossing is instead the
//! interpolation `x0·(1 − f) + x1·f` with `f = (py/2 − y0/2) / (y1/2 − y0/2)`, which cannot
//! overflow ([`crossing`]). Both forms agree wherever the first is finite, so the NumPy
//! reference's results are unchanged.

/// Where the edge `(x0, y0) → (x1, y1)` crosses the horizontal line `y = py` (the edge
/// straddles it): the defined f64 expression, or its overflow-free interpolation where that
/// one is not finite.
#[must_use]
pub fn crossing([x0, y0]: [f64; 2], [x1, y1]: [f64; 2], py: f64) -> f64 {
    let c = x0 + (py - y0) * (x1 - x0) / (y1 - y0);
    if c.is_finite() {
        return c;
    }
    // Halving is exact for these magnitudes, so neither difference overflows; f is in [0, 1].
    let f = (py * 0.5 - y0 * 0.5) / (y1 * 0.5 - y0 * 0.5);
    x0 * (1.0 - f) + x1 * f
}

/// Whether the point `(px, py)` is inside the closed polygon `vertices` (`[x, y]` pairs).
#[must_use]
pub fn contains(vertices: &[[f64; 2]], px: f64, py: f64) -> bool {
    let n = vertices.len();
    let mut inside = false;
    for k in 0..n {
        let (a, b) = (vertices[k], vertices[(k + 1) % n]);
        if (a[1] > py) != (b[1] > py) && px < crossing(a, b, py) {
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
/// [`crossing`] (the same f64 expression), and pixel j is inside iff an odd number of
/// crossings `c` satisfy `j + ½ < c`. Between two consecutive sorted crossings that count is
/// constant, so each row costs O(edges · log edges), whatever the width: O(H·edges) in all
/// instead of O(H·W·edges).
///
/// # Panics
/// If `width` exceeds `u32::MAX` (spans hold u32 columns; binding refuses such masks).
#[must_use]
pub fn row_spans(vertices: &[[f64; 2]], height: usize, width: usize) -> Vec<Vec<(u32, u32)>> {
    let mut crossings = Vec::new();
    (0..height).map(|i| row(vertices, i, width, &mut crossings)).collect()
}

/// Whether any pixel centre of the `height × width` image is inside: the rows the polygon's
/// y-range meets, until the first with a span.
#[must_use]
pub fn has_pixels(vertices: &[[f64; 2]], height: usize, width: usize) -> bool {
    let (lo, hi) = vertices.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v[1]), hi.max(v[1]))
    });
    // Row i's centre i + ½ can only be straddled when lo ≤ i + ½ < hi.
    let first = (lo - 0.5).ceil().max(0.0).min(height as f64) as usize;
    let last = (hi - 0.5).ceil().max(0.0).min(height as f64) as usize;
    let mut crossings = Vec::new();
    (first..last).any(|i| !row(vertices, i, width, &mut crossings).is_empty())
}

/// The spans of row `i` (see [`row_spans`]), with `crossings` as scratch.
fn row(vertices: &[[f64; 2]], i: usize, width: usize, crossings: &mut Vec<f64>) -> Vec<(u32, u32)> {
    let n = vertices.len();
    let py = i as f64 + 0.5;
    crossings.clear();
    for k in 0..n {
        let (a, b) = (vertices[k], vertices[(k + 1) % n]);
        if (a[1] > py) != (b[1] > py) {
            crossings.push(crossing(a, b, py));
        }
    }
    crossings.sort_by(f64::total_cmp);
    let w = u32::try_from(width).expect("a mask at most u32::MAX wide");
    // The first column whose centre is at or past `c` (j + ½ ≥ c), clamped to [0, w]:
    // columns before it have `c` still ahead of them.
    let past = |c: f64| -> u32 {
        let guess = (c - 0.5).ceil();
        let mut j = if guess.is_nan() || guess <= 0.0 {
            0
        } else {
            guess.min(w as f64) as u32
        };
        // `c − ½` may round: step to the exact boundary.
        while j > 0 && (j - 1) as f64 + 0.5 >= c {
            j -= 1;
        }
        while j < w && (j as f64 + 0.5) < c {
            j += 1;
        }
        j
    };
    let m = crossings.len();
    let mut spans: Vec<(u32, u32)> = Vec::new();
    // Columns in [past(c[k−1]), past(c[k])) have k crossings passed and m − k ahead.
    for k in (0..=m).filter(|k| (m - k) % 2 == 1) {
        let start = if k == 0 { 0 } else { past(crossings[k - 1]) };
        let end = if k == m { w } else { past(crossings[k]) };
        if start >= end {
            continue;
        }
        match spans.last_mut() {
            Some(last) if last.1 == start => last.1 = end,
            _ => spans.push((start, end)),
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanline_spans_equal_the_pointwise_rule() {
        let shapes: [&[[f64; 2]]; 5] = [
            &[[-3.2, 4.7], [12.9, -2.1], [35.6, 8.3], [27.05, 26.4], [6.3, 19.77]],
            &[
                [16.2, 2.4],
                [24.605329, 28.268943],
                [2.599892, 12.281057],
                [29.800108, 12.281057],
                [7.794671, 28.268943],
            ],
            &[[2.5, 1.5], [6.5, 1.5], [8.5, 3.5], [8.5, 6.5], [4.5, 8.5], [1.5, 5.5]],
            // Self-intersecting, with vertices on pixel centres and crossings between the
            // same two centres (empty spans between them) and beyond both borders.
            &[
                [-5.0, 0.5],
                [40.0, 30.5],
                [3.5, 30.5],
                [3.6, 0.5],
                [3.55, 20.0],
                [36.5, 2.5],
                [20.5, 40.0],
            ],
            &[[10.5, -4.0], [10.7, 40.0], [10.6, -4.0], [10.8, 40.0], [0.5, 16.5]],
        ];
        for v in shapes {
            let (h, w) = (33, 37);
            assert!(has_pixels(v, h, w));
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

    /// Polygons far beyond the image: the defined expression overflows, the interpolation
    /// does not, so an enclosing polygon covers every pixel and a far-away one none.
    #[test]
    fn huge_coordinates_neither_overflow_nor_lose_pixels() {
        let big = 1e200;
        let enclosing: [&[[f64; 2]]; 3] = [
            &[[-big, -big], [big, -big], [big, big], [-big, big]],
            &[[0.0, -big], [big, 0.0], [0.0, big], [-big, 0.0]],
            &[[-f64::MAX, -f64::MAX], [f64::MAX, -f64::MAX], [0.0, f64::MAX]],
        ];
        let (h, w) = (7, 9);
        for v in enclosing {
            assert!(mask(v, h, w).iter().all(|&m| m), "{v:?}");
            let spans = row_spans(v, h, w);
            assert!(spans.iter().all(|r| r == &[(0, w as u32)]), "{v:?}: {spans:?}");
        }
        let away = [[big, big], [2.0 * big, big], [2.0 * big, 2.0 * big]];
        assert!(!has_pixels(&away, h, w));
        assert!(mask(&away, h, w).iter().all(|&m| !m));
        assert!(row_spans(&away, h, w).iter().all(Vec::is_empty));
        // A finite crossing is the defined expression, bit for bit.
        let (a, b, py) = ([-3.2, 4.7], [12.9, -2.1], 1.5);
        assert_eq!(crossing(a, b, py), a[0] + (py - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
    }

    /// Spans cost nothing per column and the pixel search stops at its first row: a
    /// 10⁹ × 10⁹ image is answered at once.
    #[test]
    fn huge_images_are_answered_by_rows_not_pixels() {
        let n = 1_000_000_000;
        let tri = [[-1.0, -1.0], [3e9, -1.0], [-1.0, 3e9]];
        assert!(has_pixels(&tri, n, n));
        let rows = row_spans(&tri, 3, n);
        assert_eq!(rows[0], [(0, n as u32)]);
        let far = [[0.0, 2e9], [5.0, 2e9], [0.0, 3e9]];
        assert!(!has_pixels(&far, n, n));
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
