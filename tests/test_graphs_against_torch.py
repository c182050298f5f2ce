"""symconv against PyTorch on random graphs: residuals, concatenations, gates, channels-last blocks, attention.

Channels, widths and spatial sizes are symbols (``c``, ``k1``, ``h``, ``w``) on
the symconv side; PyTorch runs the same graph at the drawn values with modules
and functions of its own (``graph_reference.run_in_torch``). Expected values:
output shapes from PyTorch's forward pass, ``sum(p.numel())``, and
``FlopCounterMode`` / 2 on attention's counted path.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph_reference import converted, graphs, run_in_torch
from symconv import Network
from symconv.explain import explain
from symconv.layers import KINDS
from symconv.network import Node
from symconv.numeric import run

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True, scope="module")
def double_precision():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def network(graph, symbolic: bool) -> Network:
    part = "expr" if symbolic else "value"
    nodes = [
        Node(f"n{i}_{kind}", KINDS[kind](**converted(args, part)), inputs)
        for i, (kind, args, inputs) in enumerate(graph.nodes)
    ]
    shape = [getattr(size, part) for size in graph.input]
    return Network(shape, graph=nodes)


def compare(graph, symbolic: bool) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(tuple(size.value for size in graph.input))
    torch.manual_seed(0)
    reference = run_in_torch(graph, torch.from_numpy(x))
    net = network(graph, symbolic)
    report = net.at(**graph.values) if symbolic else net.report
    for row, (shape, params, macs, _, _) in zip(report.rows, reference, strict=True):
        assert tuple(int(d) for d in row.output_shape) == shape, row.name
        assert int(row.params) == params, row.name
        assert int(row.macs) == macs, row.name
    values = net.report.resolve(graph.values) if symbolic else {}
    measured = run(net, values, "fast", inputs=x, weights=[w for *_, w in reference])
    for m, out, (shape, params, macs, expected, _) in zip(
        measured.measurements, measured.outputs, reference, strict=True
    ):
        assert (m.output_shape, m.params, m.macs) == (shape, params, macs), m.name
        np.testing.assert_allclose(out, expected, rtol=1e-7, atol=1e-9, err_msg=m.name)


@settings(max_examples=40)
@given(graph=graphs(max_blocks=4))
def test_every_derivation_of_a_random_graph_verifies(graph):
    # each step is checked against the layer's rule when it is built; a wrong template raises
    derivations = explain(network(graph, symbolic=True))
    assert {d.layer for d in derivations} >= {f"n{i}_{kind}" for i, (kind, _, _) in enumerate(graph.nodes)}


@settings(max_examples=150)
@given(graph=graphs(max_blocks=4), symbolic=st.booleans())
def test_random_graphs_agree_with_pytorch(graph, symbolic):
    compare(graph, symbolic)


def test_random_graphs_reach_every_graph_kind():
    seen = set()

    @settings(max_examples=600, database=None)
    @given(graph=graphs())
    def collect(graph):
        seen.update(kind for kind, _, _ in graph.nodes)

    collect()
    assert {
        "add",
        "sub",
        "mul",
        "div",
        "concat",
        "parameter",
        "matmul",
        "multihead_attention",
        "scaled_dot_product_attention",
        "permute",
        "reshape",
        "layernorm",
        "groupnorm",
        "narrow",
        "select",
        "mean",
        "sum",
        "vector_norm",
        "roll",
        "instancenorm2d",
        "local_response_norm",
    } <= seen
