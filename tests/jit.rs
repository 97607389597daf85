//! The JIT backend's contract beyond bit-exactness (tests/plan.rs): the kernel cache (no
//! codegen for a graph compiled twice, none for a new param value, bounded, shared units),
//! and one `Executable` run from several threads at once.

mod support;

use rumba::dsl::{Builder, Stat, Step};
use rumba::{Array, Backend, DType, Executable, Graph, Options};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The cache and its codegen counter are process-wide; every test that compiles serialises
/// here so the counts are not disturbed.
static COUNTING: Mutex<()> = Mutex::new(());

fn pipeline(offset: f64) -> Graph {
    let b = Builder::new();
    let x = b.input("x", DType::U16, [None, None, None, Some(1)]);
    let amount = b.param("amount", Some(1.0));
    let out = x.pipeline(
        Some(Step::range([0, 2], Stat::Mean).amount(&amount)),
        Some(Step::range([0, 2], Stat::Median)),
    );
    let out = &out + offset;
    b.build([("out", &out)]).expect("valid")
}

fn jit(graph: &Graph, x: &Array) -> Executable {
    let options = Options {
        backend: Backend::Jit,
        ..Options::default()
    };
    rumba::compile(graph, &rumba::input_specs(&[("x", x.view())]), &options).expect("compiles")
}

fn reference(graph: &Graph, x: &Array, params: &BTreeMap<String, f64>) -> Array {
    rumba_interp::evaluate(graph, &[("x", x.view())], params)
        .expect("interprets")
        .remove(0)
        .1
}

#[test]
fn executables_are_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<Executable>();
}

#[test]
fn compiling_twice_and_changing_params_do_no_codegen() {
    let _guard = COUNTING.lock().unwrap_or_else(|e| e.into_inner());
    let graph = pipeline(0.125);
    let x = rumba::synthetic::stack(DType::U16, &[6, 9, 17, 1], 1);
    let first = jit(&graph, &x);
    let before = rumba::cache::codegen_count();
    let second = jit(&graph, &x);
    assert_eq!(
        rumba::cache::codegen_count(),
        before,
        "the second compile found every kernel in the cache"
    );
    assert!(
        second
            .kernels()
            .iter()
            .all(|k| k.cache_hit && k.backend == Backend::Jit)
    );
    for amount in [1.0, 0.5, -3.0] {
        let params = BTreeMap::from([("amount".to_owned(), amount)]);
        let got = second.run(&[("x", x.view())], &params).expect("runs").remove(0).1;
        support::same_bits(&got.view(), &reference(&graph, &x, &params).view()).expect("JIT ≡ interpreter");
    }
    assert_eq!(
        rumba::cache::codegen_count(),
        before,
        "a new param value never recompiles"
    );
    drop(first);
}

#[test]
fn the_cache_is_bounded_and_units_are_shared() {
    let _guard = COUNTING.lock().unwrap_or_else(|e| e.into_inner());
    let x = rumba::synthetic::stack(DType::U16, &[4, 3, 5, 1], 2);
    let exe = jit(&pipeline(0.25), &x);
    let unit = exe.compiled()[1].clone().expect("compiled");
    // The cache, the executable and our clone hold it.
    assert_eq!(unit.holders(), 3);
    // Compile more distinct kernels than the cache keeps: the first ones are evicted.
    for k in 0..rumba::cache::CAPACITY {
        let _ = jit(&pipeline(1000.0 + k as f64), &x);
    }
    assert_eq!(
        unit.holders(),
        2,
        "evicted from the cache; the executable still holds it"
    );
    drop(exe);
    assert_eq!(unit.holders(), 1, "only our clone is left; dropping it frees the code");
}

#[test]
fn one_executable_runs_from_four_threads_with_different_params() {
    let _guard = COUNTING.lock().unwrap_or_else(|e| e.into_inner());
    let graph = pipeline(0.0);
    let x = rumba::synthetic::stack(DType::U16, &[12, 33, 47, 1], 3);
    let exe = jit(&graph, &x);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (exe, graph, x) = (&exe, &graph, &x);
                s.spawn(move || {
                    for round in 0..5 {
                        let params = BTreeMap::from([("amount".to_owned(), t as f64 * 0.25 + round as f64)]);
                        let got = exe.run(&[("x", x.view())], &params).expect("runs").remove(0).1;
                        support::same_bits(&got.view(), &reference(graph, x, &params).view())
                            .unwrap_or_else(|e| panic!("thread {t}, round {round}: {e}"));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("no thread panicked");
        }
    });
}
