"""Invariants over random networks: spec round trips, rows summing to totals, symbolic = numeric."""

from __future__ import annotations

import dataclasses

import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from symconv import Network, symbols
from symconv.layers import KINDS
from symconv.spec import dumps, loads
from torch_reference import layer_stacks


def build(stack):
    (channels, spatial), layers = stack
    return Network((channels, *spatial), [KINDS[kind](**args) for kind, args in layers]), (channels, spatial)


@given(data=st.data())
def test_rebuilding_from_the_written_spec_gives_equal_layers(data):
    net, _ = build(data.draw(layer_stacks(data.draw(st.sampled_from([1, 2, 3])), readings=True)))
    again = loads(dumps(net))
    # the written spec names every layer; apart from the name, each layer is rebuilt equal

    def unnamed(network):
        return [dataclasses.replace(node.layer, name=None) for node in network.graph]

    assert unnamed(again) == unnamed(net)
    assert [node.name for node in again.graph] == [node.name for node in net.graph]
    assert [node.inputs for node in again.graph] == [node.inputs for node in net.graph]
    assert again.report.rows == net.report.rows


@given(data=st.data())
def test_rows_sum_to_the_totals(data):
    net, _ = build(data.draw(layer_stacks(2, readings=True)))
    report = net.report
    assert report.params == sum(int(r.params) for r in report.rows)
    assert report.macs == sum(int(r.macs) for r in report.rows)
    assert report.flops == 2 * report.macs


@given(data=st.data())
def test_symbolic_sizes_evaluate_to_the_numeric_network(data):
    (channels, spatial), layers = data.draw(layer_stacks(2))
    h, w = symbols("h w")
    symbolic = Network((channels, h, w), [KINDS[kind](**args) for kind, args in layers])
    numeric = Network((channels, *spatial), [KINDS[kind](**args) for kind, args in layers])
    at = symbolic.at(h=spatial[0], w=spatial[1])
    for a, b in zip(at.rows, numeric.report.rows, strict=True):
        assert tuple(sp.sympify(d) for d in a.output_shape) == b.output_shape
        assert (a.params, a.macs) == (b.params, b.macs)
