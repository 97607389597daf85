//! `rumba.Graph`: a validated graph and its file form.

use crate::arrays;
use crate::errors;
use crate::executable::{self, Executable, Settings};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use rumba::{DType, GraphDef};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The executables a graph compiled for its calls, by input specs (and settings).
type Compiled = Vec<((Vec<(String, DType, Vec<usize>)>, Settings), Arc<rumba::Executable>)>;

/// How many executables a graph keeps for its calls (least recently used dropped first).
pub const CACHED_EXECUTABLES: usize = 16;

/// A validated rumba graph. `compile(**specs)` binds it to input shapes and dtypes once;
/// calling the graph compiles on first use per shapes and dtypes and then reuses that.
#[pyclass(module = "rumba", frozen)]
pub struct Graph {
    def: GraphDef,
    /// The file text, written once (executables keep it for pickling).
    json: Arc<str>,
    graph: rumba::Graph,
    compiled: Mutex<Compiled>,
}

impl Graph {
    fn new(def: GraphDef) -> PyResult<Graph> {
        let graph = rumba::Graph::try_from(def.clone()).map_err(|e| errors::graph(&e))?;
        let json = rumba::format::to_string(&def).into();
        Ok(Graph {
            def,
            json,
            graph,
            compiled: Mutex::new(Vec::new()),
        })
    }

    /// The graph's input names.
    pub fn input_names(&self) -> Vec<String> {
        self.graph.inputs().iter().map(|(n, _)| (*n).to_owned()).collect()
    }

    /// The graph's text as the writer emits it.
    pub fn json(&self) -> Arc<str> {
        self.json.clone()
    }

    /// The input specs of `kwargs` (every graph input must be there; others are left).
    fn specs(&self, kwargs: &Bound<'_, PyDict>) -> PyResult<Vec<rumba::InputSpec>> {
        let mut specs = Vec::new();
        for name in self.input_names() {
            if let Some(obj) = kwargs.get_item(&name)? {
                let (dtype, shape) = arrays::spec(&name, &obj)?;
                specs.push(rumba::InputSpec { name, dtype, shape });
            }
        }
        Ok(specs)
    }

    fn compile_specs(&self, specs: &[rumba::InputSpec], settings: &Settings) -> PyResult<Arc<rumba::Executable>> {
        let key: Vec<(String, DType, Vec<usize>)> = specs
            .iter()
            .map(|s| (s.name.clone(), s.dtype, s.shape.clone()))
            .collect();
        let key = (key, settings.clone());
        // The lock is held, with the GIL, while compiling (a millisecond or so): compiling with
        // the GIL released while holding it would deadlock against a thread that holds the GIL
        // and waits for the lock.
        let mut compiled = self.compiled.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(i) = compiled.iter().position(|(k, _)| *k == key) {
            // Most recently used last.
            let entry = compiled.remove(i);
            let exe = entry.1.clone();
            compiled.push(entry);
            return Ok(exe);
        }
        let exe = Arc::new(executable::compile(&self.graph, specs, settings)?);
        if compiled.len() == CACHED_EXECUTABLES {
            compiled.remove(0);
        }
        compiled.push((key, exe.clone()));
        Ok(exe)
    }
}

#[pymethods]
impl Graph {
    /// The graph file's text (the lowest format version that expresses the graph).
    fn to_json(&self) -> &str {
        &self.json
    }

    /// The names of the graph's inputs, in declaration order.
    #[getter]
    fn inputs(&self) -> Vec<String> {
        self.input_names()
    }

    /// The graph's params: a dict of name to default (`None` where the graph has none).
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, default, _) in self.graph.params() {
            d.set_item(name, default)?;
        }
        Ok(d)
    }

    /// The names of the graph's outputs, in order.
    #[getter]
    fn outputs(&self) -> Vec<String> {
        self.graph.outputs.iter().map(|o| o.name.clone()).collect()
    }

    /// Binds the graph to inputs (arrays, objects with `.dtype` and `.shape`, or
    /// `(dtype, shape)` pairs, by input name), runs the passes and compiles the kernels.
    #[pyo3(signature = (*, threads=None, backend="auto", memory_budget=None, disable_passes=Vec::new(), **specs))]
    fn compile(
        &self,
        py: Python<'_>,
        threads: Option<usize>,
        backend: &str,
        memory_budget: Option<u64>,
        disable_passes: Vec<String>,
        specs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Executable> {
        let settings = Settings::new(threads, backend, memory_budget, disable_passes)?;
        let empty = PyDict::new(py);
        let specs = self.specs(specs.unwrap_or(&empty))?;
        let exe = self.compile_specs(&specs, &settings)?;
        Ok(Executable::new(exe, self.json(), settings))
    }

    /// Runs the graph on `kwargs` (input arrays and params by name) and returns a dict of
    /// NumPy arrays by output name; compiles once per input shapes and dtypes.
    #[pyo3(signature = (**kwargs))]
    fn __call__<'py>(&self, py: Python<'py>, kwargs: Option<&Bound<'py, PyDict>>) -> PyResult<Bound<'py, PyDict>> {
        let empty = PyDict::new(py);
        let kwargs = kwargs.unwrap_or(&empty);
        let specs = self.specs(kwargs)?;
        let exe = self.compile_specs(&specs, &Settings::default())?;
        Executable::new(exe, self.json(), Settings::default()).call(py, kwargs, None)
    }

    /// What `rumba explain` prints for these inputs (arrays or specs) and params.
    #[pyo3(signature = (*, memory_budget=None, **kwargs))]
    fn explain(
        &self,
        py: Python<'_>,
        memory_budget: Option<u64>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<String> {
        let empty = PyDict::new(py);
        let kwargs = kwargs.unwrap_or(&empty);
        let specs = self.specs(kwargs)?;
        let exe = self.compile_specs(&specs, &Settings::default())?;
        let params = executable::params(kwargs, &self.input_names())?;
        let budget = memory_budget.unwrap_or_else(rumba::stream::default_memory_budget);
        Ok(exe.explain(&params, budget))
    }

    fn __repr__(&self) -> String {
        format!(
            "rumba.Graph(inputs={:?}, outputs={:?}, nodes={})",
            self.input_names(),
            self.graph.outputs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
            self.def.nodes.len()
        )
    }

    /// Pickles as the graph file's text.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let loads = py.import("rumba._rumba")?.getattr("loads")?;
        (loads, (&*self.json,)).into_pyobject(py)
    }
}

/// Loads and validates a graph file (`.json`); errors name the file, the JSON path and the
/// node.
#[pyfunction]
pub fn load(path: PathBuf) -> PyResult<Graph> {
    let def = rumba::format::load_file(&path).map_err(|e| errors::graph(&e))?;
    Graph::new(def)
}

/// Parses and validates a graph from its JSON text; `name` is the file name its errors use.
#[pyfunction]
#[pyo3(signature = (text, name=None))]
pub fn loads(text: &str, name: Option<&str>) -> PyResult<Graph> {
    let def = rumba::format::parse(text, name).map_err(|e| errors::graph(&e))?;
    Graph::new(def)
}
