//! Runs one fuzz target body on files, outside libFuzzer (a panic shows its backtrace with
//! `RUST_BACKTRACE=1`): `cargo run -p rumba-fuzz --example replay -- graph_file|differential FILE...`.

fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().unwrap_or_default();
    let body: fn(&[u8]) = match target.as_str() {
        "graph_file" => rumba_fuzz::graph_file,
        "differential" => rumba_fuzz::differential,
        other => panic!("unknown target {other:?}; expected graph_file or differential"),
    };
    for path in args {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        eprintln!("{path}");
        body(&data);
    }
}
