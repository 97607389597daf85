"""Type stubs of the native module (crates/rumba-py)."""

from os import PathLike
from typing import Any

import numpy as np

FORMAT_VERSION: int
__version__: str

class GraphError(ValueError):
    """The graph or its file is wrong."""

    node: str | None
    label: str | None
    path: str | None

class BindError(ValueError):
    """Inputs, params or outputs do not fit the graph."""

    node: str | None
    label: str | None
    path: str | None

class RunError(RuntimeError):
    """A run failed."""

    node: str | None
    label: str | None
    path: str | None

Spec = np.ndarray | tuple[Any, tuple[int, ...]] | Any

class Graph:
    """A validated rumba graph."""

    @property
    def inputs(self) -> list[str]: ...
    @property
    def params(self) -> dict[str, float | None]: ...
    @property
    def outputs(self) -> list[str]: ...
    def to_json(self) -> str: ...
    def compile(
        self,
        *,
        threads: int | None = None,
        backend: str = "auto",
        memory_budget: int | None = None,
        disable_passes: list[str] = ...,
        **specs: Spec,
    ) -> Executable: ...
    def __call__(self, **inputs_and_params: Any) -> dict[str, np.ndarray]: ...
    def explain(self, *, memory_budget: int | None = None, **inputs_and_params: Any) -> str: ...

class Executable:
    """A graph compiled for input shapes and dtypes."""

    @property
    def inputs(self) -> dict[str, tuple[str, list[int]]]: ...
    @property
    def outputs(self) -> dict[str, tuple[str, list[int]]]: ...
    @property
    def kernels(self) -> list[tuple[str, str, str | None]]: ...
    def __call__(self, **inputs_and_params: Any) -> dict[str, np.ndarray]: ...
    def run_into(self, out: dict[str, np.ndarray], **inputs_and_params: Any) -> None: ...
    def explain(self, *, memory_budget: int | None = None, **params: float) -> str: ...
    def _call_gated(self, gate: Gate, **inputs_and_params: Any) -> dict[str, np.ndarray]: ...

class Gate:
    """Test support: a run waits at the gate, GIL released, until open()."""

    def __init__(self) -> None: ...
    def wait_reached(self, timeout: float) -> bool: ...
    def open(self) -> None: ...

def load(path: str | PathLike[str]) -> Graph: ...
def loads(text: str, name: str | None = None) -> Graph: ...
def compile_count() -> int: ...
def codegen_count() -> int: ...
