//! Every golden fixture case (tests/fixtures, computed by a NumPy reference) through the
//! reference interpreter, built both as a JSON graph file and with the DSL.

mod support;

use rumba::{Graph, format};
use std::collections::BTreeMap;
use support::cases::{Case, dsl_graph, json_graph, load_cases};
use support::{compare, same_bits};

fn run(graph: &Graph, case: &Case) -> Result<Vec<(String, rumba::Array)>, String> {
    let inputs: Vec<(&str, rumba::ArrayView<'_>)> = case.inputs.iter().map(|(n, a)| (n.as_str(), a.view())).collect();
    rumba_interp::evaluate(graph, &inputs, &BTreeMap::new()).map_err(|e| e.to_string())
}

fn check_case(case: &Case) -> Result<(), String> {
    let text = json_graph(case);
    let from_file = format::parse(&text, Some(&format!("{}.json", case.name)))
        .map_err(|e| e.to_string())
        .and_then(|def| Graph::try_from(def).map_err(|e| e.to_string()));
    let from_dsl = dsl_graph(case).map_err(|e| e.to_string());
    let results = [
        ("json", from_file.and_then(|g| run(&g, case))),
        ("dsl", from_dsl.and_then(|g| run(&g, case))),
    ];
    if let Some(expected) = &case.expect_error {
        let key = expected.split(" (").next().unwrap_or(expected);
        for (how, result) in &results {
            match result {
                Ok(_) => return Err(format!("{how}: expected an error ({expected}), got a result")),
                Err(e) if !e.contains(key) => {
                    return Err(format!("{how}: expected an error saying \"{key}\", got: {e}"));
                }
                Err(_) => {}
            }
        }
        return Ok(());
    }
    let [(_, json), (_, dsl)] = results;
    let (json, dsl) = (
        json.map_err(|e| format!("json: {e}"))?,
        dsl.map_err(|e| format!("dsl: {e}"))?,
    );
    for ((name, expected), ((_, a), (_, b))) in case.outputs.iter().zip(json.iter().zip(&dsl)) {
        compare(&a.view(), &expected.view(), case.rtol, case.atol).map_err(|e| format!("output {name}: {e}"))?;
        same_bits(&b.view(), &a.view()).map_err(|e| format!("output {name}: DSL and JSON graphs differ: {e}"))?;
    }
    if json.len() != case.outputs.len() {
        return Err(format!("expected {} outputs, got {}", case.outputs.len(), json.len()));
    }
    Ok(())
}

#[test]
fn every_fixture_case_matches_through_the_interpreter() {
    let cases = load_cases();
    assert_eq!(cases.len(), 60, "the manifest lists 60 cases");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check_case(c).err().map(|e| format!("{}: {e}", c.name)))
        .collect();
    let errors = cases.iter().filter(|c| c.expect_error.is_some()).count();
    let compared: usize = cases.iter().map(|c| c.outputs.len()).sum();
    assert_eq!((errors, compared), (3, 65), "3 error cases and 65 expected outputs");
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
