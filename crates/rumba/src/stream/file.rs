//! `.npy` files read and written box by box with `pread`/`pwrite` (DESIGN §8): the inputs of
//! a streamed run ([`Source`]: never memory-mapped, so a file truncated under the run is an
//! error naming it, not a `SIGBUS`) and its outputs and spilled temps ([`Sink`]: created at
//! their final size, written chunk by chunk).
//!
//! A box is an inclusive index range per dimension. In memory a box is contiguous in the
//! file's order (C order, or Fortran order for a Fortran file), so the file's runs — the
//! innermost dimensions the box covers whole, and part of the next — are one read each.

use super::boxes::Span;
use crate::npy::NpyError;
use ndarray_npy::npy::header::{Header, Layout};

use rumba_ir::DType;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Where an array's elements sit in its file.
#[derive(Clone, Debug)]
struct Placement {
    dtype: DType,
    shape: Vec<usize>,
    fortran: bool,
    /// Byte offset of the first element.
    data: u64,
}

impl Placement {}

/// Element strides of a contiguous array of `shape` in C (or Fortran) order.
#[must_use]
pub fn contiguous_strides(shape: &[usize], fortran: bool) -> Vec<u64> {
    let mut strides = vec![1u64; shape.len()];
    let order: Vec<usize> = if fortran {
        (0..shape.len()).collect()
    } else {
        (0..shape.len()).rev().collect()
    };
    let mut step = 1u64;
    for d in order {
        strides[d] = step;
        step = step.saturating_mul(shape[d] as u64);
    }
    strides
}

/// Runs `f(file_element, box_element, elements)` over the runs that make up box `bounds`
/// of an array of `shape` stored in C (or Fortran) order, the box itself contiguous in the
/// same order.
fn for_each_run(
    shape: &[usize],
    fortran: bool,
    bounds: &[Span],
    f: &mut dyn FnMut(u64, u64, u64) -> io::Result<()>,
) -> io::Result<()> {
    if bounds.iter().any(|&(lo, hi)| hi < lo) {
        return Ok(());
    }
    let rank = shape.len();
    // Dimensions from the innermost (in file order) outwards.
    let order: Vec<usize> = if fortran {
        (0..rank).collect()
    } else {
        (0..rank).rev().collect()
    };
    let strides = contiguous_strides(shape, fortran);
    let extent = |d: usize| (bounds[d].1 - bounds[d].0 + 1) as u64;
    // The run: innermost dims covered whole, then one more (partially).
    let mut run = 1u64;
    let mut k = 0;
    while k < rank {
        let d = order[k];
        run *= extent(d);
        k += 1;
        if extent(d) != shape[d] as u64 {
            break;
        }
    }
    let outer = &order[k..];
    let mut index: Vec<i64> = outer.iter().map(|&d| bounds[d].0).collect();
    let base: u64 = order[..k].iter().map(|&d| bounds[d].0 as u64 * strides[d]).sum();
    let mut at = 0u64;
    loop {
        let offset = base
            + outer
                .iter()
                .zip(&index)
                .map(|(&d, &i)| i as u64 * strides[d])
                .sum::<u64>();
        f(offset, at, run)?;
        at += run;
        // The next index of the outer dims (innermost first).
        let mut j = 0;
        loop {
            if j == outer.len() {
                return Ok(());
            }
            let d = outer[j];
            if index[j] < bounds[d].1 {
                index[j] += 1;
                break;
            }
            index[j] = bounds[d].0;
            j += 1;
        }
    }
}

/// Short runs closer than this in the file are read as one span (fewer system calls; a
/// Fortran-order file read by frames has runs of a few bytes).
const GAP: u64 = 64 << 10;
/// The largest span read at once for short runs.
const SPAN: u64 = 8 << 20;

/// Reads `runs` — (file byte, byte in `out`, bytes), in increasing file order — of the data
/// starting at byte `data` of `file` into `out`: long runs one by one, neighbouring short
/// ones as one span read into a scratch buffer and copied out.
fn read_runs(file: &File, data: u64, runs: &[(u64, u64, u64)], out: &mut [u8]) -> io::Result<()> {
    let mut scratch = Vec::new();
    let mut i = 0;
    while i < runs.len() {
        let (start, _, _) = runs[i];
        let mut j = i + 1;
        let mut end = runs[i].0 + runs[i].2;
        while j < runs.len() && runs[j].0 >= end && runs[j].0 - end <= GAP && runs[j].0 + runs[j].2 - start <= SPAN {
            end = runs[j].0 + runs[j].2;
            j += 1;
        }
        if j == i + 1 {
            let (f, at, n) = runs[i];
            file.read_exact_at(&mut out[at as usize..(at + n) as usize], data + f)?;
        } else {
            scratch.resize((end - start) as usize, 0);
            file.read_exact_at(&mut scratch, data + start)?;
            for &(f, at, n) in &runs[i..j] {
                let from = (f - start) as usize;
                out[at as usize..(at + n) as usize].copy_from_slice(&scratch[from..from + n as usize]);
            }
        }
        i = j;
    }
    Ok(())
}

/// What identifies an input file's contents at open: a change means it was replaced,
/// truncated or rewritten under the run.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Identity {
    len: u64,
    dev: u64,
    ino: u64,
    mtime: (i64, i64),
}

impl Identity {
    fn of(meta: &std::fs::Metadata) -> Identity {
        Identity {
            len: meta.len(),
            dev: meta.dev(),
            ino: meta.ino(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
        }
    }
}

/// A `.npy` input read box by box.
#[derive(Debug)]
pub struct Source {
    file: File,
    path: PathBuf,
    layout: Placement,
    /// Whether the file's byte order is the machine's.
    native: bool,
    identity: Identity,
}

impl Source {
    /// The same file seen with unit axes added up to rank 4 (a (T, H, W) file as
    /// (T, H, W, 1), an (H, W) one as (1, H, W, 1)): the bytes are laid out the same in C and
    /// in Fortran order.
    #[must_use]
    pub fn with_unit_axes(mut self, rank: usize) -> Source {
        let shape = &mut self.layout.shape;
        match (shape.len(), rank) {
            (3, 4) => shape.push(1),
            (2, 4) => {
                shape.insert(0, 1);
                shape.push(1);
            }
            _ => {}
        }
        self
    }

    /// Opens `path` and reads its header; checks that the file holds exactly the data the
    /// header describes.
    ///
    /// # Errors
    /// As [`crate::npy::read`].
    pub fn open(path: &Path) -> Result<Source, NpyError> {
        let read_error = |source: io::Error| match source.kind() {
            io::ErrorKind::NotFound => NpyError::NotFound { path: path.to_owned() },
            _ => NpyError::Read {
                path: path.to_owned(),
                source,
            },
        };
        let file = File::open(path).map_err(read_error)?;
        let meta = file.metadata().map_err(read_error)?;
        let mut reader = BufReader::new(&file);
        let header = Header::from_reader(&mut reader).map_err(|e| crate::npy::not_npy(path, &e))?;
        let data = {
            use std::io::Seek;
            reader.stream_position().map_err(read_error)?
        };
        let (dtype, native) = crate::npy::header_dtype(path, &header)?;
        let corrupt = |reason: String| NpyError::Corrupt {
            path: path.to_owned(),
            reason,
        };
        let elements = header
            .shape
            .iter()
            .try_fold(1u64, |n, &e| n.checked_mul(e as u64))
            .and_then(|n| n.checked_mul(dtype.size() as u64))
            .ok_or_else(|| corrupt(format!("the shape {:?} holds more bytes than a file can", header.shape)))?;
        let expected = data.checked_add(elements).ok_or_else(|| corrupt("too large".into()))?;
        if meta.len() != expected {
            return Err(corrupt(format!(
                "the header's shape {:?} of {} needs {expected} bytes, the file has {}",
                header.shape,
                dtype,
                meta.len()
            )));
        }
        Ok(Source {
            layout: Placement {
                dtype,
                shape: header.shape,
                fortran: header.layout == Layout::Fortran,
                data,
            },
            identity: Identity::of(&meta),
            file,
            path: path.to_owned(),
            native,
        })
    }

    /// The file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The element type.
    #[must_use]
    pub fn dtype(&self) -> DType {
        self.layout.dtype
    }

    /// The extents.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.layout.shape
    }

    /// Whether the file is in Fortran order (its boxes are then Fortran-ordered too).
    #[must_use]
    pub fn fortran(&self) -> bool {
        self.layout.fortran
    }

    /// Its size in bytes.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.identity.len
    }

    /// Whether the file holds no element.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.layout.shape.contains(&0)
    }

    /// Reads box `bounds` into `out` (its elements in the file's order, native byte order),
    /// after checking that the file is still the one opened.
    ///
    /// # Errors
    /// [`NpyError::Changed`] when the file's size, inode or modification time differ from
    /// their values at open, or a read comes back short; [`NpyError::Read`] for an OS error;
    /// [`NpyError::Corrupt`] for a bool byte that is neither 0 nor 1.
    pub fn read_box(&self, bounds: &[Span], out: &mut [u8]) -> Result<(), NpyError> {
        let meta = self.file.metadata().map_err(|source| NpyError::Read {
            path: self.path.clone(),
            source,
        })?;
        let now = Identity::of(&meta);
        if now != self.identity {
            return Err(NpyError::Changed {
                path: self.path.clone(),
                what: describe_change(&self.identity, &now),
            });
        }
        let size = self.layout.dtype.size() as u64;
        let l = &self.layout;
        let mut runs: Vec<(u64, u64, u64)> = Vec::new();
        for_each_run(&l.shape, l.fortran, bounds, &mut |file_at, at, n| {
            runs.push((file_at * size, at * size, n * size));
            Ok(())
        })
        .expect("collecting runs cannot fail");
        read_runs(&self.file, l.data, &runs, out).map_err(|source| match source.kind() {
            io::ErrorKind::UnexpectedEof => NpyError::Changed {
                path: self.path.clone(),
                what: "it is shorter than when it was opened (truncated while running)".into(),
            },
            _ => NpyError::Read {
                path: self.path.clone(),
                source,
            },
        })?;
        if !self.native {
            swap_bytes(out, size as usize);
        }
        if l.dtype == DType::Bool && out.iter().any(|&b| b > 1) {
            return Err(NpyError::Corrupt {
                path: self.path.clone(),
                reason: "a bool byte is neither 0 nor 1".into(),
            });
        }
        Ok(())
    }
}

/// A `.npy` header (format 1.0, or 2.0 when longer than 65535 bytes) for an array of `dtype`
/// and `shape` in C (or Fortran) order, padded with spaces to a multiple of 64 bytes as NumPy
/// writes it.
#[must_use]
pub fn header_bytes(dtype: DType, shape: &[usize], fortran: bool) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': {}, 'shape': {tuple}, }}",
        crate::npy::descr(dtype),
        if fortran { "True" } else { "False" }
    );
    let (version, prefix) = if dict.len() + 1 + 10 <= 65535 {
        (1u8, 10)
    } else {
        (2u8, 12)
    };
    let total = (prefix + dict.len() + 1).next_multiple_of(64);
    let len = total - prefix;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"\x93NUMPY");
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(len as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out
}

fn describe_change(then: &Identity, now: &Identity) -> String {
    if now.len < then.len {
        format!(
            "it shrank from {} to {} bytes while running (truncated)",
            then.len, now.len
        )
    } else if now.len != then.len {
        format!("its size changed from {} to {} bytes while running", then.len, now.len)
    } else if (now.dev, now.ino) != (then.dev, then.ino) {
        "it was replaced by another file while running".into()
    } else {
        "it was modified while running".into()
    }
}

fn swap_bytes(bytes: &mut [u8], size: usize) {
    if size > 1 {
        bytes.chunks_exact_mut(size).for_each(<[u8]>::reverse);
    }
}

/// A C-order `.npy` file written box by box: an output of a streamed run (a temporary until
/// the commit renames it) or a temp spilled to disk.
#[derive(Debug)]
pub struct Sink {
    file: File,
    path: PathBuf,
    layout: Placement,
}

impl Sink {
    /// Creates `path` (which must not exist) holding a `.npy` header for `dtype` and `shape`
    /// and zeros, at its final size (sparse where the file system allows).
    ///
    /// # Errors
    /// [`NpyError::Write`] naming `shown` (the name the user knows).
    pub fn create(path: &Path, shown: &Path, dtype: DType, shape: &[usize]) -> Result<Sink, NpyError> {
        Sink::create_as(path, shown, dtype, shape, shape)
    }

    /// Like [`Sink::create`], with `header` (the same elements, other unit axes: a C = 1
    /// output given back as (T, H, W)) as the shape in the file's header.
    ///
    /// # Errors
    /// As [`Sink::create`].
    pub fn create_as(
        path: &Path,
        shown: &Path,
        dtype: DType,
        shape: &[usize],
        header: &[usize],
    ) -> Result<Sink, NpyError> {
        let write_error = |source| NpyError::Write {
            path: shown.to_owned(),
            source,
        };
        let bytes = header_bytes(dtype, header, false);
        let len = shape
            .iter()
            .try_fold(dtype.size() as u64, |n, &e| n.checked_mul(e as u64))
            .filter(|&n| i64::try_from(n).is_ok())
            .ok_or_else(|| {
                write_error(io::Error::other(format!(
                    "{dtype} {shape:?} has more bytes than a file can hold"
                )))
            })?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(write_error)?;
        let data = bytes.len() as u64;
        file.write_all_at(&bytes, 0).map_err(write_error)?;
        file.set_len(data + len).map_err(write_error)?;
        Ok(Sink {
            file,
            path: shown.to_owned(),
            layout: Placement {
                dtype,
                shape: shape.to_vec(),
                fortran: false,
                data,
            },
        })
    }

    /// Writes box `bounds` from `bytes` (C order, native byte order).
    ///
    /// # Errors
    /// [`NpyError::Write`] naming the file and the OS error (a full disk among them).
    pub fn write_box(&self, bounds: &[Span], bytes: &[u8]) -> Result<(), NpyError> {
        let size = self.layout.dtype.size() as u64;
        let l = &self.layout;
        for_each_run(&l.shape, false, bounds, &mut |file_at, at, n| {
            let src = &bytes[(at * size) as usize..((at + n) * size) as usize];
            self.file.write_all_at(src, l.data + file_at * size)
        })
        .map_err(|source| NpyError::Write {
            path: self.path.clone(),
            source,
        })
    }

    /// Reads box `bounds` back into `out` (what earlier chunks wrote; zeros elsewhere).
    ///
    /// # Errors
    /// [`NpyError::Read`] naming the file and the OS error.
    pub fn read_box(&self, bounds: &[Span], out: &mut [u8]) -> Result<(), NpyError> {
        let size = self.layout.dtype.size() as u64;
        let l = &self.layout;
        for_each_run(&l.shape, false, bounds, &mut |file_at, at, n| {
            let dst = &mut out[(at * size) as usize..((at + n) * size) as usize];
            self.file.read_exact_at(dst, l.data + file_at * size)
        })
        .map_err(|source| NpyError::Read {
            path: self.path.clone(),
            source,
        })
    }

    /// Flushes the file's data and metadata to the disk.
    ///
    /// # Errors
    /// [`NpyError::Write`] naming the file.
    pub fn sync(&self) -> Result<(), NpyError> {
        self.file.sync_all().map_err(|source| NpyError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every run of a box, gathered, gives the box's elements in order (C and Fortran).
    #[test]
    fn runs_gather_a_box_in_order() {
        let shape = [4usize, 3, 5];
        for fortran in [false, true] {
            let strides = contiguous_strides(&shape, fortran);
            let bounds = [(1, 2), (0, 2), (1, 3)];
            let mut got = Vec::new();
            for_each_run(&shape, fortran, &bounds, &mut |file_at, at, n| {
                assert_eq!(at, got.len() as u64);
                got.extend(file_at..file_at + n);
                Ok(())
            })
            .unwrap();
            // The expected order: the box's elements in the file's order.
            let mut want = Vec::new();
            let idx = |i: i64, j: i64, k: i64| i as u64 * strides[0] + j as u64 * strides[1] + k as u64 * strides[2];
            if fortran {
                for k in 1..=3 {
                    for j in 0..=2 {
                        for i in 1..=2 {
                            want.push(idx(i, j, k));
                        }
                    }
                }
            } else {
                for i in 1..=2 {
                    for j in 0..=2 {
                        for k in 1..=3 {
                            want.push(idx(i, j, k));
                        }
                    }
                }
            }
            assert_eq!(got, want, "fortran {fortran}");
        }
        let mut calls = 0;
        for_each_run(&shape, false, &[(0, 3), (0, 2), (0, 4)], &mut |_, _, n| {
            calls += 1;
            assert_eq!(n, 60);
            Ok(())
        })
        .unwrap();
        assert_eq!(calls, 1, "a whole array is one run");
    }
}
