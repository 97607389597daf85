//! `.npy` input and output.
//!
//! [`read`] memory-maps a file and views it in place when it can: little-endian numeric data
//! (C or Fortran order — a Fortran file is simply a strided view) is never copied. Big-endian
//! data, `bool` (whose every byte must be checked to be 0 or 1) and data the map cannot view
//! (misaligned) are read into memory instead. Supported dtypes are the IR's:
//! `bool` (`|b1`), `u8` (`|u1`), `u16` (`<u2`), `i32` (`<i4`), `f32` (`<f4`), `f64` (`<f8`),
//! and the big-endian forms of the multi-byte ones.
//!
//! [`write_outputs`] writes a run's outputs all or nothing: every array goes to a temporary
//! file in the target directory first and is renamed into place only when all were written.
//! [`check_writable`] lets a caller find out that the directory is unusable before spending
//! time on a computation.
//!
//! The only `unsafe` in this module is the memory map ([`map`]).

use memmap2::Mmap;
use ndarray::{ArrayD, ArrayViewD};
use ndarray_npy::npy::header::{Header, ReadHeaderError};
use ndarray_npy::{ReadNpyExt, ViewNpyError, ViewNpyExt, WriteNpyError, WriteNpyExt};
use rumba_ir::{Array, ArrayView, DType};
use std::fs::{self, File};
use std::io::{self, BufWriter};

use std::path::{Path, PathBuf};

/// The dtypes a `.npy` file may hold, as listed in error messages.
pub const SUPPORTED: &str = "bool (|b1), u8 (|u1), u16 (<u2), i32 (<i4), f32 (<f4), f64 (<f8), \
                             or the big-endian (>) forms";

/// The first bytes of every `.npy` file.
const MAGIC: &[u8] = b"\x93NUMPY";
const MAGIC_EXPECTED: &str = "expected it to start with the .npy magic string \\x93NUMPY";

/// Everything that can go wrong reading or writing `.npy` files. Every variant names the
/// path concerned.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The file to read does not exist.
    #[error("{}: no such file", path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// The file exists but cannot be opened or mapped.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file is not a `.npy` file: no magic string, or a header that does not parse.
    #[error("{}: not a .npy file: {reason}", path.display())]
    NotNpy {
        /// The file.
        path: PathBuf,
        /// What was expected and what was found.
        reason: String,
    },
    /// A `.npy` file whose dtype rumba does not handle.
    #[error("{}: unsupported dtype {found}; expected one of {expected}", path.display())]
    UnsupportedDtype {
        /// The file.
        path: PathBuf,
        /// The file's dtype descriptor (`'<i8'`).
        found: String,
        /// The supported dtypes ([`SUPPORTED`]).
        expected: &'static str,
    },
    /// A `.npy` header that parses, with data that does not match it (truncated file, extra
    /// bytes, a bool byte that is neither 0 nor 1).
    #[error("{}: corrupt .npy data: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the reader found.
        reason: String,
    },
    /// An output directory path that exists but is not a directory.
    #[error("output directory {}: exists and is not a directory", path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// An output directory that cannot be created or written to.
    #[error("output directory {}: cannot write: {source}", path.display())]
    OutputDir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// An output name that cannot be used as a file name.
    #[error("output \"{name}\" cannot be written to {}: {reason}", dir.display())]
    BadOutputName {
        /// The output's name.
        name: String,
        /// The output directory.
        dir: PathBuf,
        /// Why (expected a plain file name, found …).
        reason: String,
    },
    /// An input file changed while a streamed run read it: truncated, grown, replaced or
    /// rewritten (its size, inode or modification time differ from their values at open).
    #[error("{}: {what}", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// What changed.
        what: String,
    },
    /// Writing a file failed.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file that was being written (its final name).
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// An array read from a `.npy` file: memory-mapped when the file's layout allows, else owned.
#[derive(Debug)]
pub struct NpyInput {
    storage: Storage,
}

#[derive(Debug)]
enum Storage {
    /// A read-only map of the whole file, already checked to be viewable as `dtype`.
    Mapped { mmap: Mmap, dtype: DType },
    /// Data that had to be converted (byte order) or checked (bool) on the way in.
    Owned(Array),
}

impl NpyInput {
    /// A view of the array, without copying.
    ///
    /// # Panics
    /// Only if a memory-mapped file was modified after [`read`] — which [`read`] forbids.
    #[must_use]
    pub fn view(&self) -> ArrayView<'_> {
        match &self.storage {
            Storage::Mapped { mmap, dtype } => view_bytes(mmap, *dtype)
                .expect("a mapped .npy file is checked by `read` and must not change while mapped"),
            Storage::Owned(array) => array.view(),
        }
    }

    /// The element type.
    #[must_use]
    pub fn dtype(&self) -> DType {
        match &self.storage {
            Storage::Mapped { dtype, .. } => *dtype,
            Storage::Owned(array) => array.dtype(),
        }
    }

    /// Whether the data is a memory map of the file (`false`: it was read into memory).
    #[must_use]
    pub fn is_mapped(&self) -> bool {
        matches!(self.storage, Storage::Mapped { .. })
    }
}

/// Maps `file` read-only into memory.
///
/// # Errors
/// The OS refuses the map (e.g. `file` is a directory).
fn map(file: &File) -> io::Result<Mmap> {
    // SAFETY: a `Mmap` hands out `&[u8]` to the file's pages, which is only sound while no one
    // modifies or truncates the file. rumba maps input files read-only and never writes them;
    // callers of `read` must not let other processes change the file while the returned
    // `NpyInput` lives (documented on `read`). Every other use of the bytes is safe code.
    unsafe { Mmap::map(file) }
}

/// Reads a `.npy` file, memory-mapping it when its layout allows (see the module docs).
///
/// The file must not be modified or truncated while the returned [`NpyInput`] exists.
///
/// # Errors
/// [`NpyError::NotFound`] if `path` does not exist, [`NpyError::Read`] if it cannot be
/// opened or mapped, [`NpyError::NotNpy`] without the `.npy` magic or with a header that does
/// not parse, [`NpyError::UnsupportedDtype`] for other dtypes, [`NpyError::Corrupt`] when the
/// data does not match the header.
pub fn read(path: &Path) -> Result<NpyInput, NpyError> {
    let file = File::open(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => NpyError::NotFound { path: path.to_owned() },
        _ => NpyError::Read {
            path: path.to_owned(),
            source,
        },
    })?;
    let mmap = map(&file).map_err(|source| NpyError::Read {
        path: path.to_owned(),
        source,
    })?;
    if !mmap.starts_with(MAGIC) && !MAGIC.starts_with(&mmap) {
        return Err(NpyError::NotNpy {
            path: path.to_owned(),
            reason: MAGIC_EXPECTED.to_owned(),
        });
    }
    let header = Header::from_reader(&mut &mmap[..]).map_err(|e| not_npy(path, &e))?;
    let (dtype, native) = header_dtype(path, &header)?;
    if native && dtype != DType::Bool {
        let viewable = match view_bytes(&mmap, dtype) {
            Ok(_) => true,
            // The owned reader handles these; anything else is wrong with the file.
            Err(ViewNpyError::NonNativeEndian | ViewNpyError::MisalignedData) => false,
            Err(e) => {
                return Err(NpyError::Corrupt {
                    path: path.to_owned(),
                    reason: e.to_string(),
                });
            }
        };
        if viewable {
            return Ok(NpyInput {
                storage: Storage::Mapped { mmap, dtype },
            });
        }
    }
    let array = read_bytes(&mmap, dtype).map_err(|e| NpyError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(NpyInput {
        storage: Storage::Owned(array),
    })
}

pub(crate) fn not_npy(path: &Path, e: &ReadHeaderError) -> NpyError {
    let reason = match e {
        ReadHeaderError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            "the file ends before the end of a .npy header".to_owned()
        }
        ReadHeaderError::Io(e) => e.to_string(),
        ReadHeaderError::Parse(ndarray_npy::npy::header::ParseHeaderError::MagicString) => MAGIC_EXPECTED.to_owned(),
        ReadHeaderError::Parse(e) => format!("unparsable header: {e}"),
    };
    NpyError::NotNpy {
        path: path.to_owned(),
        reason,
    }
}

/// The dtype of a parsed header, and whether its byte order is the machine's.
///
/// # Errors
/// [`NpyError::UnsupportedDtype`] for a dtype rumba does not handle.
pub(crate) fn header_dtype(path: &Path, header: &Header) -> Result<(DType, bool), NpyError> {
    let descr = header.type_descriptor.as_string().map(String::as_str);
    descr.and_then(parse_descr).ok_or_else(|| NpyError::UnsupportedDtype {
        path: path.to_owned(),
        found: header.type_descriptor.to_string(),
        expected: SUPPORTED,
    })
}

/// The dtype of a NumPy type descriptor, and whether its byte order is the machine's.
fn parse_descr(descr: &str) -> Option<(DType, bool)> {
    let dtype = match descr {
        "|b1" | "b1" | "?" => return Some((DType::Bool, true)),
        "|u1" | "u1" | "B" => return Some((DType::U8, true)),
        d if d.len() == 3 => match &d[1..] {
            "u2" => DType::U16,
            "i4" => DType::I32,
            "f4" => DType::F32,
            "f8" => DType::F64,
            _ => return None,
        },
        _ => return None,
    };
    let little = match descr.as_bytes()[0] {
        b'<' => true,
        b'>' => false,
        b'=' => cfg!(target_endian = "little"),
        _ => return None,
    };
    Some((dtype, little == cfg!(target_endian = "little")))
}

/// The little-endian NumPy type descriptor of `dtype`, as rumba writes it.
pub(crate) fn descr(dtype: DType) -> &'static str {
    match dtype {
        DType::Bool => "|b1",
        DType::U8 => "|u1",
        DType::U16 => "<u2",
        DType::I32 => "<i4",
        DType::F32 => "<f4",
        DType::F64 => "<f8",
    }
}

/// Views the bytes of a whole `.npy` file as `dtype`.
fn view_bytes(bytes: &[u8], dtype: DType) -> Result<ArrayView<'_>, ViewNpyError> {
    Ok(match dtype {
        DType::Bool => ArrayView::Bool(ArrayViewD::view_npy(bytes)?),
        DType::U8 => ArrayView::U8(ArrayViewD::view_npy(bytes)?),
        DType::U16 => ArrayView::U16(ArrayViewD::view_npy(bytes)?),
        DType::I32 => ArrayView::I32(ArrayViewD::view_npy(bytes)?),
        DType::F32 => ArrayView::F32(ArrayViewD::view_npy(bytes)?),
        DType::F64 => ArrayView::F64(ArrayViewD::view_npy(bytes)?),
    })
}

/// Reads the bytes of a whole `.npy` file into an owned array of `dtype`.
fn read_bytes(bytes: &[u8], dtype: DType) -> Result<Array, ndarray_npy::ReadNpyError> {
    Ok(match dtype {
        DType::Bool => Array::Bool(ArrayD::read_npy(bytes)?),
        DType::U8 => Array::U8(ArrayD::read_npy(bytes)?),
        DType::U16 => Array::U16(ArrayD::read_npy(bytes)?),
        DType::I32 => Array::I32(ArrayD::read_npy(bytes)?),
        DType::F32 => Array::F32(ArrayD::read_npy(bytes)?),
        DType::F64 => Array::F64(ArrayD::read_npy(bytes)?),
    })
}

/// Writes `array` to `path` as a `.npy` file of its own dtype, in C order (whatever the
/// array's strides), replacing any existing file.
///
/// # Errors
/// [`NpyError::Write`] naming `path` and the OS error.
pub fn write(path: &Path, array: &Array) -> Result<(), NpyError> {
    let write_error = |source| NpyError::Write {
        path: path.to_owned(),
        source,
    };
    let mut writer = BufWriter::new(File::create(path).map_err(write_error)?);
    rumba_ir::with_array!(array, a => a.as_standard_layout().write_npy(&mut writer)).map_err(|e| {
        write_error(match e {
            WriteNpyError::Io(e) => e,
            other => io::Error::other(other),
        })
    })?;
    writer.into_inner().map_err(|e| write_error(e.into_error()))?;
    Ok(())
}

/// Checks that `dir` can take output files, before anything is computed: creates it if
/// missing, then creates and removes a probe file in it.
///
/// # Errors
/// [`NpyError::NotADirectory`] if `dir` exists as something else, [`NpyError::OutputDir`]
/// if it cannot be created or written to.
pub fn check_writable(dir: &Path) -> Result<(), NpyError> {
    create_dir(dir)?;
    let probe = dir.join(format!(".rumba-probe-{}", std::process::id()));
    let dir_error = |source| NpyError::OutputDir {
        path: dir.to_owned(),
        source,
    };
    File::create(&probe).map_err(dir_error)?;
    fs::remove_file(&probe).map_err(dir_error)
}

pub(crate) fn create_dir(dir: &Path) -> Result<(), NpyError> {
    if dir.exists() && !dir.is_dir() {
        return Err(NpyError::NotADirectory { path: dir.to_owned() });
    }
    fs::create_dir_all(dir).map_err(|source| NpyError::OutputDir {
        path: dir.to_owned(),
        source,
    })
}

/// Writes each output to `dir/<name>.npy` (`env.min` → `env.min.npy`) in its own dtype, C
/// order, all or nothing: `dir` is created if needed, every array is written to a temporary
/// in `dir` first, and only when all succeeded are they renamed into place by the journaled
/// commit of [`crate::stream::commit`] (which also repairs what a killed run left in `dir`).
/// On failure no output is changed and every temporary is removed. Returns the written paths
/// in output order.
///
/// # Errors
/// [`NpyError::BadOutputName`] for a name that is not a plain file name or appears twice,
/// the errors of [`check_writable`] for the directory, and [`NpyError::Write`] naming the
/// file and the OS error.
pub fn write_outputs(dir: &Path, outputs: &[(String, Array)]) -> Result<Vec<PathBuf>, NpyError> {
    for (i, (name, _)) in outputs.iter().enumerate() {
        check_name(dir, name, outputs[..i].iter().any(|(n, _)| n == name))?;
    }
    create_dir(dir)?;
    let (lock, _) = crate::stream::commit::RunLock::take(dir)?;
    for (name, array) in outputs {
        if let Err(e) = write(&lock.temporary(name), array) {
            return Err(match e {
                NpyError::Write { source, .. } => NpyError::Write {
                    path: dir.join(format!("{name}.npy")),
                    source,
                },
                other => other,
            });
        }
    }
    let names: Vec<String> = outputs.iter().map(|(n, _)| n.clone()).collect();
    crate::stream::commit::commit(&lock, &names, crate::stream::commit::Hooks::default())
}

pub(crate) fn check_name(dir: &Path, name: &str, duplicate: bool) -> Result<(), NpyError> {
    let reason = if name.is_empty() {
        "expected a file name, found an empty name"
    } else if name.contains(['/', '\\', '\0']) {
        "expected a file name, found a path separator or NUL"
    } else if name.starts_with('.') {
        "expected a file name, found a name starting with '.'"
    } else if duplicate {
        "two outputs have this name"
    } else {
        return Ok(());
    };
    Err(NpyError::BadOutputName {
        name: name.to_owned(),
        dir: dir.to_owned(),
        reason: reason.to_owned(),
    })
}

#[cfg(test)]
mod tests;
