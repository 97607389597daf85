//! Peak memory of streamed runs (DESIGN §8), alone in its test binary: a child's peak RSS
//! counts the parent's memory when it is forked, so no other test may run beside it.
//! The long run (1 GiB stacks, a sparse 40 GB file) is `benches/streaming.sh`.

use rumba::Options;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

fn exe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rumba"))
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/graphs/{name}.json"))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Writes a C-order `.npy` stack of `dtype` (`|u1` or `<u2`) and `shape` with varied values,
/// frame by frame (never all in memory).
fn write_stack(path: &Path, descr: &str, size: usize, shape: [usize; 4]) {
    let dict = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': ({}, {}, {}, {}), }}",
        shape[0], shape[1], shape[2], shape[3]
    );
    let total = (10 + dict.len() + 1).next_multiple_of(64);
    let mut header = b"\x93NUMPY\x01\x00".to_vec();
    header.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    header.extend_from_slice(dict.as_bytes());
    header.resize(total - 1, b' ');
    header.push(b'\n');
    let mut f = std::io::BufWriter::new(fs::File::create(path).unwrap());
    f.write_all(&header).unwrap();
    let frame = shape[1] * shape[2] * shape[3];
    let mut buf = vec![0u8; frame * size];
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

/// Waits for `child`, returning its status and peak resident memory in bytes (`wait4`).
fn wait_rss(child: Child) -> (ExitStatus, u64) {
    use std::os::unix::process::ExitStatusExt;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `wait4` writes the status and one `rusage` into the locals it is given; the
    // child is ours and not waited for elsewhere (its handle is forgotten after this).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    std::mem::forget(child);
    (ExitStatus::from_raw(status), usage.ru_maxrss as u64 * 1024)
}

/// The data bytes of a `.npy` file (after its header).
fn data(path: &Path) -> Vec<u8> {
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

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every example graph on a 256 MiB stack of its dtype, streamed within a 64 MiB budget: the
/// child's peak RSS stays within budget + 64 MiB and every output file has the bits of the
/// in-memory run of the library.
#[test]
fn stacks_over_the_budget_stream_within_it_with_the_in_memory_bits() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("background_subtraction", "|u1", 1usize, [1024usize, 512, 512, 1]),
        ("sliding_normalisation", "|u1", 1, [1024, 512, 512, 1]),
        ("envelope", "|u1", 1, [1024, 512, 512, 1]),
        ("roi_series", "<u2", 2, [512, 512, 512, 1]),
    ];
    let budget: u64 = 64 << 20;
    for (name, descr, size, shape) in cases {
        let input = dir.path().join(format!("{descr}.npy").replace(['|', '<'], ""));
        if !input.exists() {
            write_stack(&input, descr, size, shape);
        }
        let out = dir.path().join(name);
        let child = exe()
            .args(["run", s(&example(name)), "--input"])
            .arg(format!("x={}", s(&input)))
            .args(["--output", s(&out), "--memory-budget", "64MiB", "--threads", "2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (status, rss) = wait_rss(child);
        assert!(status.success(), "{name}: {status}");
        eprintln!("{name}: peak RSS {} MiB", rss >> 20);
        assert!(
            rss <= budget + (64 << 20),
            "{name}: peak RSS {} MiB over the budget",
            rss >> 20
        );
        assert!(listing(&out).iter().all(|f| !f.starts_with('.')), "{:?}", listing(&out));
    }
    // Then (so that no child is forked from a large parent) the in-memory runs.
    for (name, descr, _, _) in cases {
        let input = dir.path().join(format!("{descr}.npy").replace(['|', '<'], ""));
        let out = dir.path().join(name);
        // The in-memory run of the library on the mapped file.
        let graph = rumba::Graph::try_from(rumba::format::load_file(&example(name)).unwrap()).unwrap();
        let x = rumba::npy::read(&input).unwrap();
        let views = [("x", x.view())];
        let compiled = rumba::compile(&graph, &rumba::input_specs(&views), &Options::default()).unwrap();
        for (output, expected) in compiled.run(&views, &BTreeMap::new()).unwrap() {
            // Bitwise, NaN included: the file's bytes against the array written the same way.
            let tmp = dir.path().join("expected.npy");
            rumba::npy::write(&tmp, &expected).unwrap();
            let a = rumba::npy::read(&tmp).unwrap();
            let b = rumba::npy::read(&out.join(format!("{output}.npy"))).unwrap();
            assert_eq!(
                (a.dtype(), a.view().shape()),
                (b.dtype(), b.view().shape()),
                "{name}: {output}"
            );
            assert!(
                data(&tmp) == data(&out.join(format!("{output}.npy"))),
                "{name}: output {output} bytes differ"
            );
        }
    }
}
