"""Every golden fixture case through the Python API, as a graph file and with the builder,
on the JIT and on the reference interpreter, within the manifest's tolerance."""

import pytest

import rumba
from conftest import CASES, assert_close, builder_graph, error_key, json_graph, output_names


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
@pytest.mark.parametrize("form", ["file", "builder"])
@pytest.mark.parametrize("backend", ["auto", "interp"])
def test_fixture_case(case, form, backend):
    def run():
        graph = rumba.loads(json_graph(case), f"{case['name']}.json") if form == "file" else builder_graph(case)
        exe = graph.compile(backend=backend, **case["arrays"])
        return exe(**case["arrays"])

    if "expect_error" in case:
        with pytest.raises((rumba.GraphError, rumba.BindError, rumba.RunError)) as e:
            run()
        assert error_key(case) in str(e.value)
        return
    results = run()
    assert sorted(results) == sorted(output_names(case))
    for name, expected in case["expected"].items():
        assert_close(results[name], expected, case["rtol"], case["atol"], f"{case['name']} {form} {name}")
