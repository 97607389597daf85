//! Prints the case each `differential` input decodes to (DSL calls, typed graph, inputs), for
//! triage: `cargo run -p rumba-fuzz --example describe -- FILE...`.

fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        println!(
            "=== {path} ({} bytes)\n{}",
            data.len(),
            rumba_fuzz::describe_differential(&data)
        );
    }
}
