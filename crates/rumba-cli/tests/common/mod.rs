//! Helpers shared by the streaming tests of the binary.

#![allow(dead_code)]

use rumba::DType;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn exe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rumba"))
}

pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/graphs/{name}.json"))
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Writes a C-order `.npy` stack of `dtype` (u8 or u16) and `shape` with varied values,
/// frame by frame (never all in memory).
pub fn write_stack(path: &Path, dtype: DType, shape: [usize; 4]) {
    let mut f = std::io::BufWriter::new(fs::File::create(path).unwrap());
    f.write_all(&rumba::stream::file::header_bytes(dtype, &shape, false))
        .unwrap();
    let frame = shape[1] * shape[2] * shape[3];
    let mut buf = vec![0u8; frame * dtype.size()];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for t in 0..shape[0] {
        for (i, b) in buf.iter_mut().enumerate() {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            // A slow ramp over frames plus noise, so references and windows matter.
            *b = ((state >> 59) as u8)
                .wrapping_add((t / 8) as u8)
                .wrapping_add((i % 7) as u8);
        }
        f.write_all(&buf).unwrap();
    }
    f.flush().unwrap();
}

pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The data bytes of a `.npy` file (after its header).
pub fn data(path: &Path) -> Vec<u8> {
    let bytes = fs::read(path).unwrap();
    let (len, at) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
    };
    bytes[at + len..].to_vec()
}
