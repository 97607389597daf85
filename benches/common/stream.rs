//! STREAM-style bandwidth, measured in the same run as the workloads: copy `b[i] = a[i]` (a
//! vector loop, not `memcpy`), triad `a[i] = b[i] + s·c[i]`, and read `Σ a[i]` (the reference for reductions, which only
//! read), on f32 arrays of 256 MiB each, in rayon tasks of 1 Mi elements. Bytes are counted
//! as STREAM does: each array read or written once (copy 8, triad 12, read 4 bytes per
//! element); write-allocate traffic is not counted.

use rayon::prelude::*;

/// Elements per array: 64 Mi f32 = 256 MiB, so copy moves 512 MiB and triad 768 MiB.
pub const ELEMENTS: usize = 64 << 20;
/// Elements per rayon task.
const CHUNK: usize = 1 << 20;
/// Independent accumulators of the read kernel (vectorisable).
const LANES: usize = 16;

/// A bandwidth kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// `b[i] = a[i]`.
    Copy,
    /// `a[i] = b[i] + s·c[i]`.
    Triad,
    /// `Σ a[i]`.
    Read,
}

/// Every kernel, in table order.
pub const KERNELS: [Kernel; 3] = [Kernel::Copy, Kernel::Triad, Kernel::Read];

impl Kernel {
    /// `copy`, `triad`, `read`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Kernel::Copy => "copy",
            Kernel::Triad => "triad",
            Kernel::Read => "read",
        }
    }

    /// Bytes one run moves over arrays of `n` elements.
    #[must_use]
    pub fn bytes(&self, n: usize) -> u64 {
        let arrays = match self {
            Kernel::Copy => 2,
            Kernel::Triad => 3,
            Kernel::Read => 1,
        };
        (arrays * 4 * n) as u64
    }
}

/// The three arrays.
pub struct Stream {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

impl Stream {
    /// Three arrays of `n` elements, written once (so every page is mapped).
    #[must_use]
    pub fn new(n: usize) -> Stream {
        Stream {
            a: vec![1.0; n],
            b: vec![2.0; n],
            c: vec![0.5; n],
        }
    }

    /// Elements per array.
    #[must_use]
    pub fn len(&self) -> usize {
        self.a.len()
    }

    /// Whether the arrays are empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.a.is_empty()
    }

    /// Runs `kernel` once on the current rayon pool; returns a value that depends on the result.
    pub fn run(&mut self, kernel: Kernel) -> f32 {
        match kernel {
            Kernel::Copy => {
                let tasks = self.b.par_chunks_mut(CHUNK).zip(self.a.par_chunks(CHUNK));
                tasks.for_each(|(b, a)| copy(b, a));
                self.b[self.b.len() / 2]
            }
            Kernel::Triad => {
                let s = std::hint::black_box(3.0f32);
                let tasks = self
                    .a
                    .par_chunks_mut(CHUNK)
                    .zip(self.b.par_chunks(CHUNK))
                    .zip(self.c.par_chunks(CHUNK));
                tasks.for_each(|((a, b), c)| {
                    for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                        *a = b + s * c;
                    }
                });
                self.a[self.a.len() / 2]
            }
            Kernel::Read => self.a.par_chunks(CHUNK).map(sum).sum(),
        }
    }
}

/// `b[i] = a[i]` as a loop of 64-byte vector moves, as a kernel writes it. Not `memcpy`
/// (which a plain element loop becomes too): glibc's ran at about half this speed here.
fn copy(b: &mut [f32], a: &[f32]) {
    for (b, a) in b.chunks_exact_mut(LANES).zip(a.chunks_exact(LANES)) {
        let lanes: [f32; LANES] = a.try_into().expect("LANES elements");
        b.copy_from_slice(&lanes);
    }
    let done = a.len() / LANES * LANES;
    b[done..].copy_from_slice(&a[done..]);
}

/// `Σ s` in [`LANES`] lanes.
fn sum(s: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = s.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for k in 0..LANES {
            acc[k] += c[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}
