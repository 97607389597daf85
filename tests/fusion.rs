//! Fusion is tested structurally (tinygrad's `check_schedule`): "this graph becomes exactly N
//! kernels", with each kernel's bytes read and written, and slice push-down by the plan's
//! load ranges and by poisoning the frames a request must not read.

mod support;

use rumba::dsl::{Builder, Stat, Step};
use rumba::{Array, DType, Graph, Options, Plan};
use rumba_ir::def::{EnvelopeOver, Orientation};
use rumba_plan::Role;
use std::collections::BTreeMap;

const T: usize = 12;
const H: usize = 8;
const W: usize = 16;
const C: usize = 1;
const PIXELS: usize = H * W * C;

fn plan_of(graph: &Graph, dtype: DType) -> Plan {
    let specs = vec![rumba::InputSpec {
        name: "x".into(),
        dtype,
        shape: vec![T, H, W, C],
    }];
    let exe = rumba::compile(graph, &specs, &Options::default()).expect("compiles");
    exe.plan().expect("the plan evaluator has a plan").clone()
}

/// (bytes read, bytes written) per kernel.
fn traffic(plan: &Plan) -> Vec<(usize, usize)> {
    plan.kernels
        .iter()
        .map(|k| (plan.bytes_read(k), plan.bytes_written(k)))
        .collect()
}

fn stack() -> (Builder, rumba::dsl::Tensor) {
    stack_of(DType::U8)
}

fn stack_of(dtype: DType) -> (Builder, rumba::dsl::Tensor) {
    let b = Builder::new();
    let x = b.input("x", dtype, [None, None, None, Some(1)]);
    (b, x)
}

#[test]
fn range_mean_subtract_and_divide_is_two_kernels() {
    let (b, x) = stack();
    let out = x.pipeline(
        Some(Step::range([0, 3], Stat::Mean)),
        Some(Step::range([0, 3], Stat::Mean).amount(0.5)),
    );
    let plan = plan_of(&b.build([("out", &out)]).unwrap(), DType::U8);
    // The reference (frames 0..=3 of u8 → one f32 frame), then one pass over the stack that
    // reads it once (plus the small reference) and writes the f32 output once.
    assert_eq!(
        traffic(&plan),
        vec![(4 * PIXELS, 4 * PIXELS), (T * PIXELS + 4 * PIXELS, 4 * T * PIXELS)],
        "{plan}"
    );
    assert!(plan.kernels[0].first_reduced().is_some() && plan.kernels[1].reductions.is_empty());
}

#[test]
fn both_envelope_curves_are_one_kernel_reading_the_band_once() {
    for over in [EnvelopeOver::Dataset, EnvelopeOver::Frames] {
        let (b, x) = stack();
        let (min, max) = x.envelope(Orientation::H, 3, 1, over);
        let plan = plan_of(&b.build([("min", &min), ("max", &max)]).unwrap(), DType::U8);
        let curve = if over == EnvelopeOver::Dataset { W } else { T };
        assert_eq!(traffic(&plan), vec![(T * 3 * W * C, 2 * curve)], "{plan}");
        assert_eq!(plan.kernels[0].reductions.len(), 2);
    }
}

#[test]
fn sliding_normalisation_is_one_kernel_with_window_state_and_its_consumer() {
    let (b, x) = stack();
    let (window, lag) = (4, 2);
    let out = x.pipeline(
        Some(Step::sliding(window, lag, Stat::Mean)),
        Some(Step::sliding(window, lag, Stat::Mean)),
    );
    let plan = plan_of(&b.build([("out", &out)]).unwrap(), DType::U8);
    let n = T - lag as usize - window as usize;
    assert_eq!(plan.kernels.len(), 1, "{plan}");
    let k = &plan.kernels[0];
    let reduced: Vec<usize> = k.domain.iter().filter(|a| a.reduced).map(|a| a.extent).collect();
    assert_eq!(
        reduced,
        vec![window as usize],
        "the window is a reduced axis of its length"
    );
    // Frames lag+1 … T−1 are read (each once), the N output frames written once.
    assert_eq!(
        traffic(&plan),
        vec![((T - lag as usize - 1) * PIXELS, 4 * n * PIXELS)],
        "{plan}"
    );
}

#[test]
fn envelope_of_a_pipeline_materialises_no_full_size_intermediate() {
    let (b, x) = stack();
    let p = x.pipeline(
        Some(Step::range([0, 3], Stat::Mean)),
        Some(Step::range([0, 3], Stat::Mean)),
    );
    let (min, max) = p.envelope(Orientation::V, 5, 2, EnvelopeOver::Frames);
    let plan = plan_of(&b.build([("min", &min), ("max", &max)]).unwrap(), DType::U8);
    let full = T * PIXELS;
    for buffer in &plan.buffers {
        if matches!(buffer.role, Role::Temp) {
            assert!(
                buffer.len() < full,
                "a full-size intermediate {:?}:\n{plan}",
                buffer.shape
            );
        }
    }
    assert_eq!(
        plan.kernels.len(),
        2,
        "the reference, then the envelope over the fused pipeline:\n{plan}"
    );
}

#[test]
fn mean_and_std_over_t_share_one_kernel() {
    let (b, x) = stack();
    let mean = x.reduce(Stat::Mean, &[0]);
    let std = x.reduce(Stat::Std, &[0]);
    let plan = plan_of(&b.build([("mean", &mean), ("std", &std)]).unwrap(), DType::U8);
    assert_eq!(traffic(&plan), vec![(T * PIXELS, 2 * 4 * PIXELS)], "{plan}");
    // T is swept in the outer loop, never innermost.
    assert!(plan.kernels[0].domain[0].reduced && plan.kernels[0].domain[0].extent == T);
}

/// `frame` of the sliding-normalised stack, chosen at run time.
fn one_frame(window: i64, lag: i64, dtype: DType) -> Graph {
    let (b, x) = stack_of(dtype);
    let frame = b.param("frame", Some(0.0));
    let out = x.pipeline(
        Some(Step::sliding(window, lag, Stat::Mean)),
        Some(Step::sliding(window, lag, Stat::Mean)),
    );
    let one = out.slice_at(0, &frame, 1, 1);
    b.build([("frame", &one)]).unwrap()
}

#[test]
fn one_output_frame_reads_only_its_window() {
    let (window, lag) = (3usize, 1usize);
    let graph = one_frame(window as i64, lag as i64, DType::U8);
    let plan = plan_of(&graph, DType::U8);
    let x = plan.inputs[0].1;
    for k in 0..(T - lag - window) {
        let mut params = vec![0.0; plan.params.len()];
        for (slot, p) in plan.params.iter().enumerate() {
            if let rumba_plan::ParamSource::SliceStart { .. } = p {
                params[slot] = k as f64;
            }
        }
        for kernel in &plan.kernels {
            for load in kernel.loads.iter().filter(|l| l.buffer == x) {
                let (lo, hi) = rumba_plan::verify::map_ranges(kernel, &load.map, &params)[0];
                assert!(
                    lo >= (k + lag + 1) as i64 && hi <= (k + lag + window) as i64,
                    "frame {k} reads frames {lo}..={hi}:\n{plan}"
                );
            }
        }
    }

    // Poison every frame that frame k does not need with NaN: the result must not change.
    let graph = one_frame(window as i64, lag as i64, DType::F32);
    let clean = rumba::synthetic::stack(DType::F32, &[T, H, W, C], 3);
    let Array::F32(clean_data) = &clean else {
        unreachable!("an f32 stack")
    };
    let run = |x: &Array, k: usize| {
        let specs = rumba::input_specs(&[("x", x.view())]);
        let exe = rumba::compile(&graph, &specs, &Options::default()).expect("compiles");
        exe.run(&[("x", x.view())], &BTreeMap::from([("frame".to_owned(), k as f64)]))
            .expect("runs")
    };
    for k in [0, T - lag - window - 1] {
        let mut poisoned = clean_data.clone();
        for t in (0..T).filter(|&t| t < k + lag + 1 || t > k + lag + window) {
            poisoned.index_axis_mut(ndarray::Axis(0), t).fill(f32::NAN);
        }
        let a = run(&clean, k);
        let b = run(&Array::F32(poisoned), k);
        assert!(
            !a[0].1.to_f64_vec().iter().any(|v| v.is_nan()),
            "the clean result has no NaN"
        );
        support::same_bits(&b[0].1.view(), &a[0].1.view()).expect("poisoned frames were not read");
        let params = BTreeMap::from([("frame".to_owned(), k as f64)]);
        let reference = rumba_interp::evaluate(&graph, &[("x", clean.view())], &params).expect("interprets");
        support::same_bits(&a[0].1.view(), &reference[0].1.view()).expect("plan ≡ interpreter");
    }
}
