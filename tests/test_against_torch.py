"""symconv against PyTorch on random stacks of every layer kind.

Expected values come from PyTorch 2.13 modules: output shapes from running
them, parameters from ``sum(p.numel())``, MACs from
``torch.utils.flop_counter.FlopCounterMode`` (which counts 2 FLOPs per MAC),
outputs compared with the NumPy backend's on the same weights.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symconv import Network, symbols
from symconv.layers import KINDS
from symconv.numeric import run
from torch_reference import layer_stacks, torch_module, torch_weights

torch = pytest.importorskip("torch")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def double_precision():
    """Compare outputs in float64; restore the default for the other test modules."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def torch_measure(channels, spatial, layers, x):
    """Per layer: output shape, parameter count, MACs and output, as PyTorch reports them."""
    found = []
    c = channels
    current = torch.from_numpy(x).unsqueeze(0)
    for kind, args in layers:
        module, out_c = torch_module(kind, args, c)
        module.eval()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            current = module(current)
        flops = counter.get_total_flops()
        assert flops % 2 == 0
        found.append(
            (
                tuple(current.shape[1:]),
                sum(p.numel() for p in module.parameters()),
                flops // 2,
                current[0].numpy().copy(),
                torch_weights(kind, module),
            )
        )
        c = out_c if out_c is not None else c
    return found


def symconv_network(channels, spatial, layers, symbolic):
    names = ("h", "w", "l")[: len(spatial)] if len(spatial) < 3 else ("d", "h", "w")
    sizes = symbols(" ".join(names)) if symbolic else spatial
    sizes = sizes if isinstance(sizes, tuple) else (sizes,)
    net = Network(input=(channels, *sizes), layers=[KINDS[kind](**args) for kind, args in layers])
    values = dict(zip(names, spatial, strict=True)) if symbolic else {}
    return net, values


def compare(dims, stack, symbolic):
    (channels, spatial), layers = stack
    rng = np.random.default_rng(0)
    x = rng.standard_normal((channels, *spatial))
    reference = torch_measure(channels, spatial, layers, x)
    net, values = symconv_network(channels, spatial, layers, symbolic)
    report = net.at(**values) if values else net.report
    for row, (shape, params, macs, _, _) in zip(report.rows, reference, strict=True):
        assert tuple(int(d) for d in row.output_shape) == shape, row.name
        assert int(row.params) == params, row.name
        assert int(row.macs) == macs, row.name
    weights = [w for *_, w in reference]
    measured = run(net, net.report.resolve(values), "fast", inputs=x, weights=weights)
    for m, out, (shape, params, macs, expected, _) in zip(
        measured.measurements, measured.outputs, reference, strict=True
    ):
        assert m.output_shape == shape and m.macs == macs and m.params == params, m.name
        np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-9, err_msg=m.name)


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_random_stacks_numeric_input(dims, data):
    compare(dims, data.draw(layer_stacks(dims)), symbolic=False)


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_random_stacks_symbolic_input(dims, data):
    compare(dims, data.draw(layer_stacks(dims)), symbolic=True)


@given(data=st.data())
def test_random_stacks_3d(data):
    compare(3, data.draw(layer_stacks(3, max_layers=3, max_size=6)), symbolic=data.draw(st.booleans()))


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "dilation"),
    [(7, 3, 2, 1), (8, 3, 2, 1), (9, 4, 3, 1), (10, 5, 2, 2), (5, 2, 4, 1), (1, 3, 2, 1)],
)
def test_same_padding_with_stride_follows_tensorflow(size, kernel, stride, dilation):
    # TensorFlow's "SAME": output ceil(n/S); total padding max((out-1)S + d(K-1)+1 - n, 0), the odd one at
    # the end. PyTorch refuses padding="same" with stride > 1, so the reference pads explicitly.
    import math

    import torch.nn.functional as F

    from symconv import Conv1d

    net = Network((2, size), [Conv1d(3, kernel, stride=stride, padding="same", dilation=dilation)])
    out = math.ceil(size / stride)
    assert net.output_shape == (3, out)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    x = np.random.default_rng(0).standard_normal((2, size))
    measured = run(net, {}, "fast", inputs=x)
    weight, bias = measured.weights[0]["weight"], measured.weights[0]["bias"]
    padded = F.pad(torch.from_numpy(x)[None], (total // 2, total - total // 2))
    expected = F.conv1d(
        padded, torch.from_numpy(weight), torch.from_numpy(bias), stride=stride, dilation=dilation
    )
    np.testing.assert_allclose(measured.outputs[0], expected[0].numpy(), rtol=1e-10, atol=1e-10)
