use rumba::dsl::Builder;
use rumba::{Array, DType, Options};
use std::collections::BTreeMap;

fn run_all(graph: &rumba::Graph, views: &[(&str, rumba::ArrayView<'_>)], params: &BTreeMap<String, f64>) {
    let specs = rumba::input_specs(views);
    println!(
        "interp: {:?}",
        rumba_interp::evaluate(graph, views, params).map_err(|e| e.to_string())
    );
    let passes: Vec<String> = rumba_opt::PASSES.iter().map(|p| p.name.to_owned()).collect();
    let mut nothing = passes.clone();
    nothing.push("fusion".into());
    let singles: Vec<Vec<String>> = passes.iter().map(|p| vec![p.clone()]).collect();
    for dis in [vec![], vec!["fusion".to_string()], passes.clone(), nothing]
        .into_iter()
        .chain(singles)
    {
        let r = rumba::compile(
            graph,
            &specs,
            &Options {
                disabled_passes: dis.clone(),
                ..Options::default()
            },
        )
        .and_then(|e| e.run(views, params));
        println!("{dis:?}: {:?}", r.map_err(|e| e.to_string()));
    }
}

#[test]
fn scratch() {
    use rumba::dsl::Stat;
    let b = Builder::new();
    let x0 = b.input("x0", DType::F32, [Some(5), Some(2)]);
    let m = x0.reduce_with(Stat::Mean, &[1], true, false, None);
    let r1 = m.reduce_with(Stat::Max, &[0], true, false, None);
    let r2 = m
        .slice(0, Some(4), None, 1)
        .reduce_with(Stat::Max, &[0], true, false, None);
    let out = (&m - &r2) / &r1;
    let graph = b.build([("out0", &out)]).unwrap();
    println!("{graph}");
    let (opt, _) = rumba_opt::optimize_graph(&graph, &rumba_opt::PassOptions::default()).unwrap();
    println!("optimised:\n{opt}");
    let a = Array::F32(ndarray::ArrayD::from_elem(vec![5, 2], 5.0f32));
    let views = vec![("x0", a.view())];
    run_all(&graph, &views, &BTreeMap::new());
}

#[path = "support/random_graphs/mod.rs"]
#[allow(dead_code)]
mod random_graphs;

#[test]
fn sample() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut sizes = vec![];
    for k in 0..400 {
        let plan = random_graphs::case().new_tree(&mut runner).unwrap().current();
        let built = random_graphs::build(&plan);
        let n = match &built.outcome {
            random_graphs::Outcome::Valid(g) => g.nodes.len(),
            _ => 0,
        };
        sizes.push(n);
        if k < 6 {
            println!("{}\n", built.transcript);
        }
    }
    sizes.sort();
    println!("sizes {:?}", sizes.iter().step_by(20).collect::<Vec<_>>());
}
