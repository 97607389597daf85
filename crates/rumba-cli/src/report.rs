//! What `rumba run` prints: one line per input and output, and the timings.
//!
//! ```text
//! input   x    u8   (200, 512, 512, 1)  synthetic (seed 0)
//! output  out  f32  (200, 512, 512, 1)  min -41.5 mean 0.0213 max 152.25
//! compile 0.041 ms, run 812.337 ms (allocate 0.012 ms; backend interp)
//! ```

use rumba::DType;
use rumba::summary::Summary;
use rumba_ir::shape::fmt_extents;
use std::time::Duration;

/// A number, short: integers without decimals, others with up to six significant decimals.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    if !v.is_finite() || v.abs() >= 1e6 || v.abs() < 1e-4 {
        return format!("{v:e}");
    }
    let text = format!("{v:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `input  NAME  DTYPE  SHAPE  SOURCE`.
#[must_use]
pub fn input_line(name: &str, width: usize, dtype: DType, shape: &[usize], source: &str) -> String {
    let (dtype, shape) = (dtype.name(), fmt_extents(shape));
    format!("input   {name:<width$}  {dtype:<4}  {shape:<18}  {source}")
}

/// `output  NAME  DTYPE  SHAPE  min … mean … max … [NaN …]`, or `empty: WHY` for an empty
/// output (`why`, from [`rumba::Executable::why_empty`]).
#[must_use]
pub fn output_line(
    name: &str,
    width: usize,
    dtype: DType,
    shape: &[usize],
    s: &Summary,
    empty: Option<&str>,
) -> String {
    let (dtype, shape) = (dtype.name(), fmt_extents(shape));
    let mut summary = if let Some(why) = empty {
        format!("empty: {why}")
    } else if s.count == 0 {
        "no non-NaN values".to_owned()
    } else {
        format!("min {} mean {} max {}", num(s.min), num(s.mean()), num(s.max))
    };
    if s.nans > 0 {
        summary.push_str(&format!("  NaN {}", s.nans));
    }
    format!("output  {name:<width$}  {dtype:<4}  {shape:<18}  {summary}")
}

/// A duration in milliseconds.
#[must_use]
pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// One line per kernel: how it ran (JIT, or the evaluator and why), its codegen and run
/// times, and its logical traffic (bytes read once + bytes written once) per second.
pub fn kernel_lines(exe: &rumba::Executable, times: &[Duration]) -> Vec<String> {
    let Some(plan) = exe.plan() else { return Vec::new() };
    let width = plan.kernels.iter().map(|k| k.name.len()).max().unwrap_or(0);
    plan.kernels
        .iter()
        .zip(exe.kernels())
        .zip(times)
        .map(|((kernel, info), &time)| {
            let bytes = plan.bytes_read(kernel) + plan.bytes_written(kernel);
            let gbs = bytes as f64 / time.as_secs_f64().max(1e-9) / 1e9;
            let how = match (&info.fallback, info.cache_hit) {
                (Some(why), _) => format!("eval (JIT fallback: {why})"),
                (None, true) => format!("{} (cached)", info.backend),
                (None, false) => format!("{} (codegen {})", info.backend, ms(info.compile_time)),
            };
            format!(
                "kernel  {:width$}  run {:>11}  {:>7.2} GB/s  {how}",
                kernel.name,
                ms(time),
                gbs
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr1;
    use rumba::Array;

    #[test]
    fn stats_skip_nan_and_count_it() {
        let line = |a: &Array| output_line("out", 3, a.dtype(), a.shape(), &Summary::of(a), None);
        let a = Array::F32(arr1(&[1.0, f32::NAN, -2.0, 4.0]).into_dyn());
        let s = Summary::of(&a);
        assert_eq!((s.min, s.max, s.mean(), s.count, s.nans), (-2.0, 4.0, 1.0, 3, 1));
        assert!(line(&a).ends_with("min -2 mean 1 max 4  NaN 1"), "{}", line(&a));
        let all_nan = Array::F64(arr1(&[f64::NAN]).into_dyn());
        assert!(line(&all_nan).contains("no non-NaN values  NaN 1"));
        let bools = Array::Bool(arr1(&[true, false, false, false]).into_dyn());
        assert_eq!(Summary::of(&bools).mean(), 0.25);
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(1.0 / 3.0), "0.333333");
        assert_eq!(num(f64::INFINITY), "inf");
        assert_eq!(num(1.5e-7), "1.5e-7");
    }
}
