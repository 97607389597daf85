//! Tests of `.npy` reading and writing.

use super::*;
use ndarray::{ArrayD, IxDyn};

fn sample(dtype: DType) -> Array {
    let shape = IxDyn(&[2, 3, 4, 1]);
    let n = |idx: &IxDyn| (idx[0] * 12 + idx[1] * 4 + idx[2]) as i32;
    match dtype {
        DType::Bool => Array::Bool(ArrayD::from_shape_fn(shape, |i| n(&i) % 3 == 0)),
        DType::U8 => Array::U8(ArrayD::from_shape_fn(shape, |i| (n(&i) * 10) as u8)),
        DType::U16 => Array::U16(ArrayD::from_shape_fn(shape, |i| (n(&i) * 2000) as u16)),
        DType::I32 => Array::I32(ArrayD::from_shape_fn(shape, |i| n(&i) * -70_000)),
        DType::F32 => Array::F32(ArrayD::from_shape_fn(shape, |i| n(&i) as f32 * 0.25 - 1.5)),
        DType::F64 => Array::F64(ArrayD::from_shape_fn(shape, |i| f64::from(n(&i)).sqrt())),
    }
}

/// Every entry of `dir`, as names.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A `.npy` file (format 1.0) with a hand-written header, for byte orders and dtypes
/// ndarray-npy does not write.
fn raw_npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

#[test]
fn every_dtype_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    for dtype in DType::ALL {
        let array = sample(dtype);
        let path = dir.path().join(format!("{dtype}.npy"));
        write(&path, &array).unwrap();
        let input = read(&path).unwrap();
        assert_eq!(input.dtype(), dtype);
        assert_eq!(input.view().to_owned(), array, "{dtype}");
        // Numeric little-endian data is viewed in place; bool bytes are checked into memory.
        assert_eq!(input.is_mapped(), dtype != DType::Bool, "{dtype}");
    }
}

#[test]
fn permuted_array_is_written_in_c_order() {
    let dir = tempfile::tempdir().unwrap();
    let base = ArrayD::from_shape_fn(IxDyn(&[3, 4, 5]), |i| (i[0] * 100 + i[1] * 10 + i[2]) as f32);
    let permuted = base.permuted_axes(IxDyn(&[2, 0, 1]));
    assert!(!permuted.is_standard_layout());
    let array = Array::F32(permuted);
    let path = dir.path().join("p.npy");
    write(&path, &array).unwrap();
    let back: ArrayD<f32> = ndarray_npy::read_npy(&path).unwrap();
    assert!(back.is_standard_layout(), "the file is in C order");
    assert_eq!(read(&path).unwrap().view().to_owned(), array);
}

#[test]
fn fortran_order_file_is_viewed_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let c = ArrayD::from_shape_fn(IxDyn(&[4, 3, 2]), |i| (i[0] * 6 + i[1] * 2 + i[2]) as u16);
    let f = c.clone().reversed_axes();
    let path = dir.path().join("f.npy");
    ndarray_npy::write_npy(&path, &f).unwrap();
    let input = read(&path).unwrap();
    assert!(input.is_mapped());
    assert_eq!(input.view().to_owned(), Array::U16(f));
}

#[test]
fn big_endian_file_is_read_into_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("be.npy");
    fs::write(&path, raw_npy(">u2", "(3,)", &[0x01, 0x02, 0x00, 0x05, 0xff, 0x00])).unwrap();
    let input = read(&path).unwrap();
    assert!(!input.is_mapped());
    assert_eq!(
        input.view().to_owned(),
        Array::U16(ndarray::arr1(&[0x0102, 0x0005, 0xff00]).into_dyn())
    );
}

#[test]
fn missing_file_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.npy");
    let err = read(&path).unwrap_err();
    assert!(matches!(&err, NpyError::NotFound { path: p } if *p == path), "{err:?}");
    assert!(err.to_string().contains("missing.npy"), "{err}");
}

#[test]
fn text_file_is_not_npy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.npy");
    fs::write(&path, "these are not the pixels you are looking for\n").unwrap();
    let err = read(&path).unwrap_err();
    assert!(
        matches!(&err, NpyError::NotNpy { path: p, .. } if *p == path),
        "{err:?}"
    );
    assert!(err.to_string().contains("not a .npy file"), "{err}");
    let empty = dir.path().join("empty.npy");
    File::create(&empty).unwrap();
    assert!(matches!(read(&empty), Err(NpyError::NotNpy { .. })));
}

#[test]
fn unsupported_dtype_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i64.npy");
    ndarray_npy::write_npy(&path, &ndarray::arr1(&[1_i64, 2, 3])).unwrap();
    let err = read(&path).unwrap_err();
    assert!(
        matches!(&err, NpyError::UnsupportedDtype { found, .. } if found.contains("<i8")),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("i64.npy") && message.contains("<i8") && message.contains("u16 (<u2)"),
        "{message}"
    );
}

#[test]
fn truncated_data_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.npy");
    fs::write(&path, raw_npy("<f4", "(4,)", &[0; 10])).unwrap();
    assert!(matches!(read(&path), Err(NpyError::Corrupt { .. })));
    let path = dir.path().join("bad_bool.npy");
    fs::write(&path, raw_npy("|b1", "(2,)", &[1, 7])).unwrap();
    assert!(matches!(read(&path), Err(NpyError::Corrupt { .. })));
}

#[test]
fn write_outputs_names_files_after_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("new").join("nested");
    let outputs = vec![
        ("env.min".to_owned(), sample(DType::U8)),
        ("out".to_owned(), sample(DType::F32)),
    ];
    let written = write_outputs(&out, &outputs).unwrap();
    assert_eq!(written, vec![out.join("env.min.npy"), out.join("out.npy")]);
    assert_eq!(entries(&out), ["env.min.npy", "out.npy"], "no temporaries are left");
    let back: ArrayD<f32> = ndarray_npy::read_npy(out.join("out.npy")).unwrap();
    assert_eq!(Array::F32(back), outputs[1].1);
}

#[test]
fn write_outputs_into_a_regular_file_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    fs::write(&file, "keep me").unwrap();
    let err = write_outputs(&file, &[("out".to_owned(), sample(DType::U8))]).unwrap_err();
    assert!(
        matches!(&err, NpyError::NotADirectory { path } if *path == file),
        "{err:?}"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep me");
    assert_eq!(entries(dir.path()), ["taken"]);
    assert!(matches!(check_writable(&file), Err(NpyError::NotADirectory { .. })));
}

#[test]
fn failed_write_removes_every_temporary() {
    let dir = tempfile::tempdir().unwrap();
    // Block the second output's temporary with a directory, so its creation fails after the
    // first output was written.
    let blocker = dir.path().join(format!(".b.npy.tmp-{}", std::process::id()));
    fs::create_dir(&blocker).unwrap();
    let outputs = vec![("a".to_owned(), sample(DType::U8)), ("b".to_owned(), sample(DType::U8))];
    let err = write_outputs(dir.path(), &outputs).unwrap_err();
    assert!(
        matches!(&err, NpyError::Write { path, .. } if path.ends_with("b.npy")),
        "{err:?}"
    );
    fs::remove_dir(&blocker).unwrap();
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[test]
fn bad_output_names_are_rejected_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["", "../escape", ".hidden"] {
        let err = write_outputs(dir.path(), &[(name.to_owned(), sample(DType::U8))]).unwrap_err();
        assert!(matches!(&err, NpyError::BadOutputName { .. }), "{name}: {err:?}");
    }
    let twice = vec![("a".to_owned(), sample(DType::U8)), ("a".to_owned(), sample(DType::U8))];
    assert!(matches!(
        write_outputs(dir.path(), &twice),
        Err(NpyError::BadOutputName { .. })
    ));
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn check_writable_creates_the_directory_and_leaves_no_probe() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a").join("b");
    check_writable(&out).unwrap();
    assert!(out.is_dir());
    assert!(entries(&out).is_empty());
}
