//! `rumba.Executable`: a graph compiled for input shapes and dtypes, run with the GIL
//! released.

use crate::arrays;
use crate::errors;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use rumba::{Backend, DType, Options};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How many times the package called `rumba::compile` (bind, passes, fusion, backend).
static COMPILES: AtomicUsize = AtomicUsize::new(0);

/// How many graphs this package has compiled since import (each `compile()`, and each first
/// call of a graph on new input shapes or dtypes); calls on the same shapes, and new params,
/// never compile.
#[pyfunction]
pub fn compile_count() -> usize {
    COMPILES.load(Ordering::Relaxed)
}

/// How many kernels the JIT has generated code for since import (cache hits excluded).
#[pyfunction]
pub fn codegen_count() -> usize {
    rumba::cache::codegen_count()
}

/// Compile settings a user can give (`threads`, `backend`, …), hashable as a cache key.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Settings {
    threads: usize,
    backend: String,
    memory_budget: Option<u64>,
    disabled_passes: Vec<String>,
}

impl Settings {
    /// Checks the names (`backend` one of auto, jit, eval, interp).
    pub fn new(
        threads: Option<usize>,
        backend: &str,
        memory_budget: Option<u64>,
        disabled_passes: Vec<String>,
    ) -> PyResult<Settings> {
        backend_of(backend)?;
        Ok(Settings {
            threads: threads.unwrap_or(0),
            backend: backend.to_owned(),
            memory_budget,
            disabled_passes,
        })
    }

    fn options(&self) -> PyResult<Options> {
        Ok(Options {
            backend: backend_of(&self.backend)?,
            threads: self.threads,
            disabled_passes: self.disabled_passes.clone(),
            memory_budget: self.memory_budget,
            ..Options::default()
        })
    }
}

fn backend_of(name: &str) -> PyResult<Backend> {
    Ok(match name {
        "auto" | "" => Backend::Auto,
        "jit" => Backend::Jit,
        "eval" => Backend::Eval,
        "interp" => Backend::Interp,
        other => {
            return Err(errors::bind(format!(
                "backend \"{other}\": expected one of auto, jit, eval, interp"
            )));
        }
    })
}

/// Compiles `graph` for `specs` (counted by [`compile_count`]).
pub fn compile(graph: &rumba::Graph, specs: &[rumba::InputSpec], settings: &Settings) -> PyResult<rumba::Executable> {
    COMPILES.fetch_add(1, Ordering::Relaxed);
    rumba::compile(graph, specs, &settings.options()?).map_err(|e| errors::facade(&e))
}

/// The params among `kwargs`: every keyword that is not an input, as a float.
pub fn params(kwargs: &Bound<'_, PyDict>, inputs: &[String]) -> PyResult<BTreeMap<String, f64>> {
    let mut params = BTreeMap::new();
    for (k, v) in kwargs.iter() {
        let k: String = k.extract()?;
        if inputs.contains(&k) {
            continue;
        }
        let value: f64 = v.extract().map_err(|_| {
            errors::bind(format!(
                "param \"{k}\": expected a number, found {}",
                v.get_type().name().map_or_else(|_| "?".into(), |n| n.to_string())
            ))
        })?;
        params.insert(k, value);
    }
    Ok(params)
}

/// A graph compiled for input shapes and dtypes. Call it with the input arrays and params
/// by name (`exe(x=stack, amount=0.5)`) for a dict of NumPy arrays by output name, or
/// `run_into(out={...}, **kwargs)` to write arrays you own. Params never recompile. Safe to
/// call from several Python threads at once: the GIL is released while the kernels run.
#[pyclass(module = "rumba", frozen)]
pub struct Executable {
    exe: Arc<rumba::Executable>,
    json: Arc<str>,
    settings: Settings,
    inputs: Vec<String>,
}

impl Executable {
    /// Wraps a compiled executable (of the graph whose file text is `json`).
    pub fn new(exe: Arc<rumba::Executable>, json: Arc<str>, settings: Settings) -> Executable {
        let inputs = exe.graph().inputs().iter().map(|(n, _)| (*n).to_owned()).collect();
        Executable {
            exe,
            json,
            settings,
            inputs,
        }
    }

    /// Borrows the inputs among `kwargs` (in graph order).
    fn borrow_inputs<'py>(&self, kwargs: &Bound<'py, PyDict>) -> PyResult<Vec<(String, arrays::Input<'py>)>> {
        let mut borrowed = Vec::new();
        for name in &self.inputs {
            if let Some(obj) = kwargs.get_item(name)? {
                borrowed.push((name.clone(), arrays::input(name, &obj)?));
            }
        }
        Ok(borrowed)
    }

    /// Runs on `kwargs` with the GIL released (waiting at `gate` first, for the tests).
    pub fn call<'py>(
        &self,
        py: Python<'py>,
        kwargs: &Bound<'py, PyDict>,
        gate: Option<&Gate>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let borrowed = self.borrow_inputs(kwargs)?;
        let params = params(kwargs, &self.inputs)?;
        let views: Vec<(&str, rumba::ArrayView<'_>)> = borrowed.iter().map(|(n, a)| (n.as_str(), a.view())).collect();
        let exe = &*self.exe;
        let result = py.detach(|| {
            if let Some(gate) = gate {
                gate.pass()?;
            }
            exe.run(&views, &params).map_err(|e| GateOr::Run(Box::new(e)))
        });
        let outputs = result.map_err(GateOr::into_py)?;
        let dict = PyDict::new(py);
        for (name, array) in outputs {
            dict.set_item(name, arrays::to_numpy(py, array))?;
        }
        Ok(dict)
    }
}

/// A failure inside the released region: the run's, or the test gate's.
enum GateOr {
    Run(Box<rumba::Error>),
    Gate(String),
}

impl GateOr {
    fn into_py(self) -> PyErr {
        match self {
            GateOr::Run(e) => errors::facade(&e),
            GateOr::Gate(message) => errors::raise(errors::Kind::Run, message, None),
        }
    }
}

#[pymethods]
impl Executable {
    /// Runs on the input arrays and params given by name; returns a dict of NumPy arrays by
    /// output name (each owns rumba's buffer).
    #[pyo3(signature = (**kwargs))]
    fn __call__<'py>(&self, py: Python<'py>, kwargs: Option<&Bound<'py, PyDict>>) -> PyResult<Bound<'py, PyDict>> {
        let empty = PyDict::new(py);
        self.call(py, kwargs.unwrap_or(&empty), None)
    }

    /// Runs writing into `out` (a dict of output name to a NumPy array of the output's dtype
    /// and shape, writeable, aligned, whole-element strides; every output must be there), so
    /// a slider loop allocates nothing.
    #[pyo3(signature = (out, **kwargs))]
    fn run_into(&self, py: Python<'_>, out: &Bound<'_, PyDict>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        let empty = PyDict::new(py);
        let kwargs = kwargs.unwrap_or(&empty);
        let shapes = self.exe.output_shapes();
        for key in out.keys() {
            let key: String = key.extract()?;
            if !shapes.iter().any(|(n, _, _)| *n == key) {
                return Err(errors::bind(format!(
                    "out: the graph has no output \"{key}\"; its outputs are {:?}",
                    shapes.iter().map(|s| s.0).collect::<Vec<_>>()
                )));
            }
        }
        let mut targets = Vec::new();
        for (name, dtype, shape) in &shapes {
            let Some(obj) = out.get_item(name)? else {
                return Err(errors::bind(format!(
                    "out: output \"{name}\" is missing (expected a {} array of shape {shape:?})",
                    arrays::numpy_name(*dtype)
                )));
            };
            targets.push(arrays::output(name, &obj, *dtype, shape)?);
        }
        let borrowed = self.borrow_inputs(kwargs)?;
        let params = params(kwargs, &self.inputs)?;
        let views: Vec<(&str, rumba::ArrayView<'_>)> = borrowed.iter().map(|(n, a)| (n.as_str(), a.view())).collect();
        let mut outs: Vec<rumba::exec::ArrayViewMut<'_>> = targets.iter_mut().map(arrays::Output::view_mut).collect();
        let exe = &*self.exe;
        py.detach(|| exe.run_into_views(&views, &params, &mut outs))
            .map_err(|e| errors::facade(&e))
    }

    /// The outputs: a dict of name to `(dtype name, shape)`.
    #[getter]
    fn outputs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, dtype, shape) in self.exe.output_shapes() {
            d.set_item(name, (arrays::numpy_name(dtype), shape.to_vec()))?;
        }
        Ok(d)
    }

    /// The inputs compiled for: a dict of name to `(dtype name, shape)`.
    #[getter]
    fn inputs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for spec in self.exe.input_specs() {
            d.set_item(&spec.name, (arrays::numpy_name(spec.dtype), spec.shape.clone()))?;
        }
        Ok(d)
    }

    /// Each kernel's name and backend (`jit`, or `eval` with the reason the JIT could not
    /// compile it).
    #[getter]
    fn kernels(&self) -> Vec<(String, String, Option<String>)> {
        self.exe
            .kernels()
            .iter()
            .map(|k| (k.name.clone(), k.backend.to_string(), k.fallback.clone()))
            .collect()
    }

    /// What `rumba explain` prints for this executable and `params`.
    #[pyo3(signature = (*, memory_budget=None, **params))]
    fn explain(
        &self,
        py: Python<'_>,
        memory_budget: Option<u64>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<String> {
        let empty = PyDict::new(py);
        let params = self::params(params.unwrap_or(&empty), &self.inputs)?;
        let budget = memory_budget.unwrap_or_else(rumba::stream::default_memory_budget);
        Ok(self.exe.explain(&params, budget))
    }

    /// Test support: runs like a call, but first waits inside the GIL-free region until
    /// `gate.open()` (at most 30 s, then a `RunError`). A run holding the GIL would deadlock
    /// the thread that opens the gate.
    #[pyo3(signature = (gate, **kwargs))]
    fn _call_gated<'py>(
        &self,
        py: Python<'py>,
        gate: &Gate,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let empty = PyDict::new(py);
        self.call(py, kwargs.unwrap_or(&empty), Some(gate))
    }

    fn __repr__(&self) -> String {
        let inputs: Vec<String> = self
            .exe
            .input_specs()
            .iter()
            .map(|s| format!("{}: {} {:?}", s.name, s.dtype, s.shape))
            .collect();
        format!(
            "rumba.Executable({}; backend {})",
            inputs.join(", "),
            self.exe.backend()
        )
    }

    /// Pickles as the graph file's text, the input specs and the settings; unpickling
    /// compiles again (in the worker process).
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let rebuild = py.import("rumba._rumba")?.getattr("Executable")?.getattr("_rebuild")?;
        let specs: Vec<(String, &str, Vec<usize>)> = self
            .exe
            .input_specs()
            .iter()
            .map(|s| (s.name.clone(), arrays::numpy_name(s.dtype), s.shape.clone()))
            .collect();
        let s = &self.settings;
        let args = (
            &*self.json,
            specs,
            s.threads,
            s.backend.clone(),
            s.memory_budget,
            s.disabled_passes.clone(),
        );
        (rebuild, args).into_pyobject(py)
    }

    /// Unpickles (see `__reduce__`).
    #[staticmethod]
    fn _rebuild(
        json: &str,
        specs: Vec<(String, String, Vec<usize>)>,
        threads: usize,
        backend: &str,
        memory_budget: Option<u64>,
        disabled_passes: Vec<String>,
    ) -> PyResult<Executable> {
        let def = rumba::format::parse(json, None).map_err(|e| errors::graph(&e))?;
        let graph = rumba::Graph::try_from(def).map_err(|e| errors::graph(&e))?;
        let specs = specs
            .into_iter()
            .map(|(name, dtype, shape)| {
                let dtype: DType = arrays::dtype_from_name(&dtype)
                    .ok_or_else(|| errors::bind(format!("input \"{name}\": unknown dtype {dtype}")))?;
                Ok(rumba::InputSpec { name, dtype, shape })
            })
            .collect::<PyResult<Vec<_>>>()?;
        let settings = Settings::new(Some(threads), backend, memory_budget, disabled_passes)?;
        let exe = compile(&graph, &specs, &settings)?;
        Ok(Executable::new(Arc::new(exe), json.into(), settings))
    }
}

/// Test support for the GIL check: a run waits at the gate (GIL released) until `open()`.
#[pyclass(module = "rumba", frozen)]
pub struct Gate {
    /// (a run has reached the gate, the gate is open)
    state: Mutex<(bool, bool)>,
    changed: Condvar,
}

/// How long a run waits at a gate that nobody opens.
const GATE_TIMEOUT: Duration = Duration::from_secs(30);

impl Gate {
    /// Waits (without the GIL) until the gate is open; an error after [`GATE_TIMEOUT`].
    fn pass(&self) -> Result<(), GateOr> {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.0 = true;
        self.changed.notify_all();
        let (state, timeout) = self
            .changed
            .wait_timeout_while(state, GATE_TIMEOUT, |s| !s.1)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        drop(state);
        if timeout.timed_out() {
            return Err(GateOr::Gate("the gate was never opened (is the GIL held?)".into()));
        }
        Ok(())
    }
}

#[pymethods]
impl Gate {
    #[new]
    fn py_new() -> Gate {
        Gate {
            state: Mutex::new((false, false)),
            changed: Condvar::new(),
        }
    }

    /// Waits (GIL released) until a run has reached the gate; `False` after `timeout` s.
    fn wait_reached(&self, py: Python<'_>, timeout: f64) -> bool {
        py.detach(|| {
            let state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let (state, _) = self
                .changed
                .wait_timeout_while(state, Duration::from_secs_f64(timeout.max(0.0)), |s| !s.0)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            state.0
        })
    }

    /// Lets every run waiting at the gate go on.
    fn open(&self) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.1 = true;
        self.changed.notify_all();
    }
}
