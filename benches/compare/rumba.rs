//! The rumba side of `benches/compare` (see `benches/compare/NOTES.md`): a long-lived child
//! process that `compare.py` drives over stdin/stdout, one JSON object per line each way, so
//! that rumba is timed in-process, interleaved with the Numba and NumPy runs of the driver.
//!
//! ```sh
//! cargo build --release --example compare_rumba   # run.sh does this, then starts compare.py
//! ```
//!
//! Every request is an object with `"cmd"`; every reply is one line, `{"ok": true, ...}` or
//! `{"ok": false, "error": "..."}` (the error text is rumba's own, naming the node and graph
//! file). Nothing else is written to stdout; diagnostics go to stderr.
//!
//! | cmd | fields | reply |
//! |---|---|---|
//! | `hello` | | `pid`, `threads_available` |
//! | `load` | `name`, `path` (`.npy`) | `dtype`, `shape`, `seconds`; the array is read with `rumba::npy` and copied into memory (no map stays) |
//! | `unload` | `name` | |
//! | `compile` | `id`, `graph` (graph file), `inputs` (graph input → loaded name), `threads` | `seconds` (whole `rumba::compile`), `codegen_seconds`, `kernels` (name, backend, fallback, cache hit), `outputs` (name, dtype, shape) |
//! | `write` | `id`, `dir`, `params` | `files`: one `run` with `params`, every output written with `rumba::npy::write` to `dir/<name>.npy` |
//! | `time` | `id`, `mode` (`run`, `run_into`, `profiled`), `n`, `params` (a list, used in turn by the calls) | `wall_ns` per call, and `minflt` per call (`run`, `run_into`) or `kernel_ns` and `allocate_ns` per call (`profiled`) |
//! | `drop` | `id` | |
//! | `quit` | | (then exits) |
//!
//! What a `time` call measures:
//! - `run`: the wall time of `Executable::run` (fresh outputs, allocated inside), the outputs
//!   dropped after the clock stops; minor page faults of the process across the call
//!   (`minflt` of `/proc/self/stat`, which sums every thread).
//! - `run_into`: outputs allocated for this request and written once by an untimed warm-up
//!   call, then the wall time of each `Executable::run_into`; freed at the end of the request.
//! - `profiled`: `Executable::run_profiled`: the whole call's wall time, the sum of its
//!   kernels' wall times and the time it spent allocating temps and outputs (so call − kernel
//!   is the fixed cost of one call: checks, param resolution, allocation, tiling, pool
//!   dispatch; first-touch page faults of fresh outputs land in the kernels' time).

use rumba::{Array, ArrayView, Executable, Graph, InputSpec, Options};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Instant;

/// An executable and which loaded array feeds each of its graph inputs.
struct Compiled {
    exe: Executable,
    inputs: Vec<(String, String)>,
}

/// Everything the child holds between requests.
#[derive(Default)]
struct State {
    arrays: HashMap<String, Array>,
    compiled: HashMap<String, Compiled>,
}

type Reply = Result<Value, String>;

fn main() {
    let mut state = State::default();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let request: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                reply(&mut stdout, Err(format!("not a JSON request: {e}")));
                continue;
            }
        };
        if request.get("cmd").and_then(Value::as_str) == Some("quit") {
            reply(&mut stdout, Ok(json!({})));
            break;
        }
        let result = handle(&mut state, &request);
        reply(&mut stdout, result);
    }
}

/// Writes one reply line and flushes it.
fn reply(out: &mut impl Write, result: Reply) {
    let line = match result {
        Ok(Value::Object(mut fields)) => {
            fields.insert("ok".into(), Value::Bool(true));
            Value::Object(fields)
        }
        Ok(other) => json!({"ok": true, "value": other}),
        Err(error) => json!({"ok": false, "error": error}),
    };
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        std::process::exit(1); // the driver is gone
    }
}

fn handle(state: &mut State, request: &Value) -> Reply {
    let cmd = str_field(request, "cmd")?;
    match cmd {
        "hello" => Ok(json!({
            "pid": std::process::id(),
            "threads_available": std::thread::available_parallelism().map_or(1, usize::from),
        })),
        "load" => load(state, request),
        "unload" => {
            state.arrays.remove(str_field(request, "name")?);
            Ok(json!({}))
        }
        "compile" => compile(state, request),
        "drop" => {
            state.compiled.remove(str_field(request, "id")?);
            Ok(json!({}))
        }
        "write" => write(state, request),
        "time" => time(state, request),
        other => Err(format!("unknown cmd {other:?}")),
    }
}

fn str_field<'a>(request: &'a Value, name: &str) -> Result<&'a str, String> {
    request
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("request needs a string field {name:?}: {request}"))
}

fn usize_field(request: &Value, name: &str) -> Result<usize, String> {
    request
        .get(name)
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| format!("request needs a non-negative integer field {name:?}: {request}"))
}

/// `load`: reads a `.npy` file with `rumba::npy` and keeps an owned, C-contiguous copy, so the
/// data is resident in RAM like the driver's NumPy array (no memory map stays open).
fn load(state: &mut State, request: &Value) -> Reply {
    let name = str_field(request, "name")?;
    let path = str_field(request, "path")?;
    let start = Instant::now();
    let array = rumba::npy::read(Path::new(path))
        .map_err(|e| e.to_string())?
        .view()
        .to_owned();
    let seconds = start.elapsed().as_secs_f64();
    let reply = json!({"dtype": array.dtype().to_string(), "shape": array.shape(), "seconds": seconds});
    state.arrays.insert(name.to_owned(), array);
    Ok(reply)
}

/// `compile`: loads a graph file and compiles it for the loaded arrays with `threads`.
fn compile(state: &mut State, request: &Value) -> Reply {
    let id = str_field(request, "id")?;
    let path = str_field(request, "graph")?;
    let threads = usize_field(request, "threads")?;
    let bindings = request
        .get("inputs")
        .and_then(Value::as_object)
        .ok_or("compile needs an object \"inputs\" (graph input -> loaded array)")?;
    let mut inputs = Vec::new();
    let mut specs = Vec::new();
    for (input, array) in bindings {
        let array = array.as_str().ok_or("input bindings are strings")?;
        let a = state
            .arrays
            .get(array)
            .ok_or_else(|| format!("no loaded array {array:?}"))?;
        specs.push(InputSpec {
            name: input.clone(),
            dtype: a.dtype(),
            shape: a.shape().to_vec(),
        });
        inputs.push((input.clone(), array.to_owned()));
    }
    let def = rumba::format::load_file(Path::new(path)).map_err(|e| e.to_string())?;
    let graph = Graph::try_from(def).map_err(|e| e.to_string())?;
    let options = Options {
        threads,
        ..Options::default()
    };
    let start = Instant::now();
    let exe = rumba::compile(&graph, &specs, &options).map_err(|e| format!("{path}: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let kernels: Vec<Value> = exe
        .kernels()
        .iter()
        .map(|k| {
            json!({
                "name": k.name,
                "backend": k.backend.to_string(),
                "fallback": k.fallback,
                "cache_hit": k.cache_hit,
                "codegen_seconds": k.compile_time.as_secs_f64(),
            })
        })
        .collect();
    let codegen: f64 = exe.kernels().iter().map(|k| k.compile_time.as_secs_f64()).sum();
    let outputs: Vec<Value> = exe
        .output_shapes()
        .iter()
        .map(|(name, dtype, shape)| json!({"name": name, "dtype": dtype.to_string(), "shape": shape}))
        .collect();
    let reply = json!({
        "seconds": seconds,
        "codegen_seconds": codegen,
        "backend": exe.backend().to_string(),
        "kernels": kernels,
        "outputs": outputs,
    });
    state.compiled.insert(id.to_owned(), Compiled { exe, inputs });
    Ok(reply)
}

/// The params of one call, from a JSON object of numbers.
fn params_of(value: &Value) -> Result<BTreeMap<String, f64>, String> {
    let empty = Map::new();
    let object = match value {
        Value::Null => &empty,
        Value::Object(o) => o,
        other => return Err(format!("params must be an object of numbers, found {other}")),
    };
    object
        .iter()
        .map(|(k, v)| {
            v.as_f64()
                .map(|v| (k.clone(), v))
                .ok_or_else(|| format!("param {k:?} is not a number: {v}"))
        })
        .collect()
}

/// The params list of a `time` request (one object, or a list used in turn).
fn params_list(request: &Value) -> Result<Vec<BTreeMap<String, f64>>, String> {
    match request.get("params") {
        Some(Value::Array(list)) if !list.is_empty() => list.iter().map(params_of).collect(),
        Some(Value::Array(_)) => Err("params list is empty".into()),
        Some(one) => Ok(vec![params_of(one)?]),
        None => Ok(vec![BTreeMap::new()]),
    }
}

/// The named input views of one call.
type Views<'a> = Vec<(&'a str, ArrayView<'a>)>;

/// The compiled graph a request names, and views of the arrays bound to its inputs.
fn lookup<'a>(state: &'a State, request: &Value) -> Result<(&'a Compiled, Views<'a>), String> {
    let id = str_field(request, "id")?;
    let compiled = state
        .compiled
        .get(id)
        .ok_or_else(|| format!("no compiled graph {id:?}"))?;
    let mut views = Vec::new();
    for (input, array) in &compiled.inputs {
        let a = state
            .arrays
            .get(array)
            .ok_or_else(|| format!("array {array:?} was unloaded"))?;
        views.push((input.as_str(), a.view()));
    }
    Ok((compiled, views))
}

/// `write`: one run, every output written to `dir/<name>.npy`.
fn write(state: &State, request: &Value) -> Reply {
    let (compiled, views) = lookup(state, request)?;
    let dir = Path::new(str_field(request, "dir")?);
    let params = params_of(request.get("params").unwrap_or(&Value::Null))?;
    let outputs = compiled.exe.run(&views, &params).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for (name, array) in &outputs {
        let path = dir.join(format!("{name}.npy"));
        rumba::npy::write(&path, array).map_err(|e| e.to_string())?;
        files.push(json!({"name": name, "path": path.display().to_string()}));
    }
    Ok(json!({ "files": files }))
}

/// Minor page faults of this process so far (all threads): field 10 of `/proc/self/stat`.
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) is parenthesised and may hold spaces: count from its end.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(7))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// `time`: `n` calls in one mode (see the module docs).
fn time(state: &State, request: &Value) -> Reply {
    let (compiled, views) = lookup(state, request)?;
    let exe = &compiled.exe;
    let mode = str_field(request, "mode")?;
    let n = usize_field(request, "n")?;
    let params = params_list(request)?;
    let err = |e: rumba::Error| e.to_string();
    let mut wall = Vec::with_capacity(n);
    let mut extra = Vec::with_capacity(n);
    match mode {
        "run" => {
            for k in 0..n {
                let p = &params[k % params.len()];
                let faults = minor_faults();
                let start = Instant::now();
                let outputs = exe.run(&views, p).map_err(err)?;
                wall.push(nanos(start.elapsed()));
                extra.push(minor_faults().saturating_sub(faults));
                drop(outputs);
            }
            Ok(json!({"wall_ns": wall, "minflt": extra}))
        }
        "run_into" => {
            let mut outputs: Vec<Array> = exe
                .output_shapes()
                .iter()
                .map(|&(_, dtype, shape)| Array::zeros(dtype, shape))
                .collect();
            exe.run_into(&views, &params[0], &mut outputs).map_err(err)?; // warm-up: maps the pages
            for k in 0..n {
                let p = &params[k % params.len()];
                let faults = minor_faults();
                let start = Instant::now();
                exe.run_into(&views, p, &mut outputs).map_err(err)?;
                wall.push(nanos(start.elapsed()));
                extra.push(minor_faults().saturating_sub(faults));
            }
            Ok(json!({"wall_ns": wall, "minflt": extra}))
        }
        "profiled" => {
            let mut allocate = Vec::with_capacity(n);
            for k in 0..n {
                let p = &params[k % params.len()];
                let start = Instant::now();
                let (outputs, report) = exe.run_profiled(&views, p).map_err(err)?;
                wall.push(nanos(start.elapsed()));
                extra.push(report.kernels.iter().copied().map(nanos).sum::<u64>());
                allocate.push(nanos(report.allocate));
                drop(outputs);
            }
            Ok(json!({"wall_ns": wall, "kernel_ns": extra, "allocate_ns": allocate}))
        }
        other => Err(format!("unknown time mode {other:?} (run, run_into, profiled)")),
    }
}
