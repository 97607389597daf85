//! Helpers shared by the streaming tests of the binary.

#![allow(dead_code)]

use rumba::DType;
use std::fs;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

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

/// The address space a [`guarded`] run may reserve: a refusal must come before any large
/// allocation, so a run that tried one fails here instead of paging the machine.
pub const ADDRESS_SPACE: u64 = 2 << 30;

/// How long a [`guarded`] run may take before the watchdog kills it: a hang is a failure, not
/// a slow test (nothing is timed).
pub const WATCHDOG: Duration = Duration::from_secs(300);

/// Runs `cmd` to completion under an address-space limit ([`ADDRESS_SPACE`]) and a watchdog
/// ([`WATCHDOG`]), panicking if the watchdog fires.
pub fn guarded(mut cmd: Command) -> Output {
    // SAFETY: the closure runs in the forked child before exec and only calls `setrlimit`,
    // which is async-signal-safe; it touches no memory of the parent's but a local struct.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: ADDRESS_SPACE,
                rlim_max: ADDRESS_SPACE,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The pipes are drained on threads so a chatty child cannot block on a full pipe.
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut r) = r {
                r.read_to_end(&mut v).unwrap();
            }
            v
        })
    };
    let out = drain(child.stdout.take().map(|r| Box::new(r) as _));
    let err = drain(child.stderr.take().map(|r| Box::new(r) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > WATCHDOG {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{cmd:?} still ran after {WATCHDOG:?}: killed by the watchdog");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Waits for `child`, returning its status and peak resident memory in bytes (`wait4`).
pub fn wait_rss(child: Child) -> (ExitStatus, u64) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain old data, valid zeroed; `wait4` writes the status and one
    // `rusage` into the locals it is given; the child is ours and not waited for elsewhere
    // (its handle is forgotten after this).
    let (r, usage) = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        (libc::wait4(pid, &mut status, 0, &mut usage), usage)
    };
    assert_eq!(r, pid, "wait4");
    std::mem::forget(child);
    (ExitStatus::from_raw(status), usage.ru_maxrss as u64 * 1024)
}

/// Sends `signal` to `child`, which has not been waited for.
pub fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: `kill` only sends a signal; the pid is our child's and, not yet waited for,
    // cannot have been reused.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
}

/// Waits until `dir` lists `name` while `child` still runs (a streamed run's temporary
/// output appears once its chunks are being written).
pub fn wait_for(dir: &Path, name: &str, child: &mut Child) {
    let start = Instant::now();
    while !listing(dir).iter().any(|n| n == name) {
        assert!(start.elapsed() < WATCHDOG, "{name} did not appear in {}", dir.display());
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before {name} appeared"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
