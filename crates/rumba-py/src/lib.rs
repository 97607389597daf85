//! `rumba._rumba`: the native half of the Python package (DESIGN §9). The pure-Python half
//! (`python/rumba/`) re-exports what a user calls and adds the builder, `rumba.blitz` and
//! `rumba.dask`.
//!
//! - [`graph::Graph`]: a validated graph with its file text; `compile(**specs)` binds it once.
//! - [`executable::Executable`]: a graph compiled for input shapes and dtypes; calling it runs
//!   the kernels with the GIL released, on NumPy arrays of any strides (zero-copy when aligned
//!   with whole-element strides), and returns NumPy arrays that own rumba's buffers.
//! - [`errors`]: `GraphError`, `BindError` and `RunError`, with `.node`, `.label` and `.path`.

mod arrays;
mod errors;
mod executable;
mod graph;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _rumba(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("GraphError", py.get_type::<errors::GraphError>())?;
    m.add("BindError", py.get_type::<errors::BindError>())?;
    m.add("RunError", py.get_type::<errors::RunError>())?;
    m.add_class::<graph::Graph>()?;
    m.add_class::<executable::Executable>()?;
    m.add_class::<executable::Gate>()?;
    m.add_function(wrap_pyfunction!(graph::load, m)?)?;
    m.add_function(wrap_pyfunction!(graph::loads, m)?)?;
    m.add_function(wrap_pyfunction!(executable::compile_count, m)?)?;
    m.add_function(wrap_pyfunction!(executable::codegen_count, m)?)?;
    m.add("FORMAT_VERSION", rumba::format::VERSION)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
