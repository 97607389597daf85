"""rumba: a lazy array-pipeline compiler for large image stacks, on NumPy arrays.

Describe a pipeline once, as a graph file (``rumba.load``) or with the builder
(``rumba.Builder``); rumba validates it, fuses it into loop kernels and compiles them with a
JIT. Call the compiled graph on NumPy arrays: inputs of any strides are read in place, the GIL
is released while the kernels run, and results are NumPy arrays that own rumba's buffers.

>>> import numpy as np, rumba
>>> graph = rumba.loads('''{"format": "rumba-graph", "version": 1,
...   "nodes": [{"id": "x", "op": "input", "dtype": "u8", "shape": [null, null, null, 1]},
...             {"id": "m", "op": "reduce", "x": "x", "kind": "mean", "axes": [0]}],
...   "outputs": ["m"]}''')
>>> exe = graph.compile(x=("uint8", (4, 2, 3, 1)))
>>> exe(x=np.full((4, 2, 3, 1), 7, np.uint8))["m"][0, 0, 0, 0]
np.float32(7.0)

Errors are ``rumba.GraphError`` (the graph or its file), ``rumba.BindError`` (arrays or
params that do not fit) and ``rumba.RunError``, each with ``.node``, ``.label`` and ``.path``.
See ``python/README.md`` for the whole API, ``rumba.blitz`` for BLITZ's workloads as drop-in
functions and ``rumba.dask`` for Dask arrays.
"""

from ._rumba import (
    FORMAT_VERSION,
    BindError,
    Executable,
    Graph,
    GraphError,
    RunError,
    __version__,
    codegen_count,
    compile_count,
    load,
    loads,
)
from .builder import Builder, Step, Tensor

__all__ = [
    "FORMAT_VERSION",
    "BindError",
    "Builder",
    "Executable",
    "Graph",
    "GraphError",
    "RunError",
    "Step",
    "Tensor",
    "__version__",
    "codegen_count",
    "compile_count",
    "load",
    "loads",
]
