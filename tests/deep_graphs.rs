//! Deep graphs (DESIGN §8: no recursion depth limit in any pass): long chains of elementwise
//! nodes — which fusion folds into one kernel of as many expressions — build, validate, bind,
//! fuse, translate and run on a test thread's small stack (2 MiB), with the same bits on every
//! backend. The CLI's `check` and `explain` of a 100,000-node chain are tested in
//! `crates/rumba-cli/tests/deep.rs`; the 100,000-node run is the long run
//! (`RUMBA_DEEP_NODES=100000 cargo test --release --test deep_graphs`).

mod support;

use rumba::dsl::Builder;
use rumba::{Array, Backend, DType, Graph, GraphDef, Options, format};
use std::collections::BTreeMap;
use support::same_bits;

/// The chain length: 20,000 by default.
fn nodes() -> usize {
    std::env::var("RUMBA_DEEP_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// A chain of `n` nodes mixing unary, binary (with a param, a constant and the input, so the
/// chain is a DAG with fan-in), min, cast and a movement op.
fn chain(n: usize) -> GraphDef {
    let b = Builder::new();
    let x = b.input("x", DType::U8, [None, Some(3), Some(5), Some(1)]);
    let p = b.param("p", Some(0.5));
    let xf = x.cast(DType::F32);
    let mut t = xf.clone();
    for i in 0..n {
        t = match i % 6 {
            0 => &t + &p,
            1 => &t * &xf,
            2 => t.min(1000.0),
            3 => t.abs().sqrt(),
            4 => t.permute(&[0, 2, 1, 3]).permute(&[0, 2, 1, 3]),
            _ => &t - 0.25,
        };
    }
    b.def([("out", &t)])
}

fn stack() -> Array {
    let values: Vec<u8> = (0..4 * 3 * 5).map(|i| ((i * 37) % 251) as u8).collect();
    Array::from(ndarray::ArrayD::from_shape_vec(vec![4, 3, 5, 1], values).expect("a shape"))
}

#[test]
fn a_long_chain_fuses_compiles_and_runs_bitwise_on_every_backend() {
    let n = nodes();
    let graph = Graph::try_from(chain(n)).expect("a valid chain");
    assert!(graph.ids().count() > n, "the chain has {} nodes", graph.ids().count());
    let x = stack();
    let inputs = [("x", x.view())];
    let specs = rumba::input_specs(&inputs);
    let expected = rumba_interp::evaluate(&graph, &inputs, &BTreeMap::new())
        .expect("interprets")
        .remove(0)
        .1;
    for backend in [Backend::Jit, Backend::Eval] {
        let options = Options {
            backend,
            ..Options::default()
        };
        let exe = rumba::compile(&graph, &specs, &options).expect("compiles");
        // One fused kernel holds the whole chain.
        assert_eq!(exe.kernels().len(), 1, "{backend:?}: {:?}", exe.kernels());
        let got = exe.run(&inputs, &BTreeMap::new()).expect("runs").remove(0).1;
        same_bits(&got.view(), &expected.view()).unwrap_or_else(|e| panic!("{backend:?}: {e}"));
    }
    // A param value other than the default: still the same bits on both paths.
    let params = BTreeMap::from([("p".to_string(), -3.0)]);
    let expected = rumba_interp::evaluate(&graph, &inputs, &params).unwrap().remove(0).1;
    let exe = rumba::compile(&graph, &specs, &Options::default()).unwrap();
    let got = exe.run(&inputs, &params).unwrap().remove(0).1;
    same_bits(&got.view(), &expected.view()).unwrap();
}

#[test]
fn a_long_chain_round_trips_through_its_file() {
    let text = format::to_string(&chain(nodes()));
    let back = format::parse(&text, None).expect("loads");
    assert_eq!(format::to_string(&back), text);
    Graph::try_from(back).expect("validates");
}
