//! Output and temp allocation: large arrays are advised onto transparent huge pages (so a
//! fresh output costs what NumPy's does), small ones are not, and both come zeroed.

use rumba::exec::{HUGE_PAGE_MIN_BYTES, zeroed};
use rumba_ir::{Array, DType};

/// The `VmFlags` line of the mapping in `/proc/self/smaps` that holds `addr`.
#[cfg(target_os = "linux")]
fn vm_flags(addr: usize) -> String {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("/proc/self/smaps");
    let mut inside = false;
    for line in smaps.lines() {
        let range = line.split_whitespace().next().unwrap_or("");
        if let Some((lo, hi)) = range.split_once('-')
            && let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        {
            inside = lo <= addr && addr < hi;
            continue;
        }
        if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
            return flags.trim().to_owned();
        }
    }
    panic!("no mapping holds {addr:#x}")
}

fn middle_address(a: &Array) -> usize {
    let (ptr, bytes) = rumba_ir::with_array!(a, a => (a.as_ptr() as usize, a.len() * std::mem::size_of_val(&a.as_slice().unwrap()[0])));
    ptr + bytes / 2
}

#[test]
#[cfg(target_os = "linux")]
fn large_arrays_are_advised_onto_huge_pages_and_small_ones_are_not() {
    let enabled = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
    if enabled.contains("[never]") || enabled.is_empty() {
        eprintln!("transparent huge pages are off here; nothing to check");
        return;
    }
    // 4 × 2 MiB-page worth of f32 and more: advised ("hg" in VmFlags).
    let big = zeroed(DType::F32, &[3, 1024, 1024]);
    const { assert!(3 * 1024 * 1024 * 4 >= HUGE_PAGE_MIN_BYTES) };
    let flags = vm_flags(middle_address(&big));
    assert!(flags.split_whitespace().any(|f| f == "hg"), "VmFlags: {flags}");
    // Every element is zero (nothing was written by the advice).
    let Array::F32(a) = &big else { unreachable!() };
    assert!(a.iter().all(|&v| v == 0.0));
    // A small array (heap memory shared with other allocations) is left alone.
    let small = zeroed(DType::U8, &[16, 16]);
    let flags = vm_flags(middle_address(&small));
    assert!(!flags.split_whitespace().any(|f| f == "hg"), "VmFlags: {flags}");
}

/// `out[i] = x[i] + 1` over the first `written` of `len` elements of `out`.
fn partial_plan(written: usize, len: usize) -> rumba_plan::Plan {
    use crate::support::{Kb, Pb};
    use rumba_ir::op::BinaryOp;
    use rumba_plan::Affine;
    let mut pb = Pb::new();
    let xb = pb.input("x", DType::F32, &[len]);
    let yb = pb.output("y", DType::F32, &[len]);
    let mut k = Kb::new("k0", &[(written, false)]);
    let v = k.load(xb, DType::F32, vec![Affine::axis(0, 1)]);
    let one = k.konst(1.0, DType::F32);
    let y = k.bin(BinaryOp::Add, v, one);
    k.store(yb, vec![Affine::axis(0, 1)], y);
    pb.kernel(k.done());
    pb.build()
}

#[test]
fn outputs_a_kernel_fills_need_no_zeroing_and_the_others_are_zeroed() {
    use rumba::exec::fully_written;
    use rumba_ir::ArrayView;
    let data = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[6]), vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let full = partial_plan(6, 6);
    assert!(fully_written(&full, full.outputs[0].1));
    let half = partial_plan(3, 6);
    assert!(!fully_written(&half, half.outputs[0].1));
    // Run each several times: recycled memory must never show through.
    for _ in 0..3 {
        let out = crate::support::run_plan(&half, 1, &[("x", ArrayView::F32(data.view()))], &[]);
        let Array::F32(y) = &out[0] else { panic!() };
        assert_eq!(y.as_slice().unwrap(), &[2.0, 3.0, 4.0, 0.0, 0.0, 0.0]);
        let out = crate::support::run_plan(&full, 2, &[("x", ArrayView::F32(data.view()))], &[]);
        let Array::F32(y) = &out[0] else { panic!() };
        assert_eq!(y.as_slice().unwrap(), &[2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    }
}
