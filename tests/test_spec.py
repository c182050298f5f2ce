"""Spec files: every layer kind by name, blocks, and errors that point at the line."""

from __future__ import annotations

import textwrap

import pytest
import sympy as sp

from symconv import Conv2d, Network, SpecError, SymconvError, UnsafeExpression, symbols
from symconv.layers import KINDS
from symconv.spec import loads

n, m, k1, k2 = symbols("n m k1 k2")


def spec(text: str):
    return loads(textwrap.dedent(text), "net.yaml")


def test_the_design_example_reads():
    net = spec("""
        name: two chained convolutions
        input: [1, n, m]
        symbols:
          n: image height
          k1: filters of the first layer
        layers:
          - conv2d: {out_channels: k1, kernel_size: 3, padding: 1}
          - conv2d: {out_channels: k2, kernel_size: 5, padding: 2, stride: 1, dilation: 1, groups: 1, bias: true}
          - maxpool2d: {kernel_size: 2, stride: 2, ceil_mode: false}
          - relu
          - flatten
          - linear: {out_features: 10}
    """)
    assert net.layers[0].output_shape == (k1, n, m)
    assert net.legend == {"n": "image height", "k1": "filters of the first layer"}
    # floor(n/2) * floor(m/2) * k2 features into 10 outputs (+10 biases)
    assert sp.expand(net.layers[-1].params - (10 * k2 * sp.floor(n / 2) * sp.floor(m / 2) + 10)) == 0


def test_spec_and_python_api_build_equal_layers():
    net = spec("""
        input: [1, n, m]
        layers:
          - conv2d: {out_channels: k1, kernel_size: 3, padding: 1, name: first}
    """)
    assert net.graph[0].layer == Conv2d(k1, kernel_size=3, padding=1, name="first")
    assert net.layers[0].name == "first"


# Layers that need more than defaults: their arguments, and the input they read ("input": [2, 4, 4] unless given).
SPECIAL_KINDS = {
    "add": ("{inputs: [input, input]}", None),
    "sub": ("{scalar: 1}", None),
    "mul": ("{inputs: [input, input]}", None),
    "div": ("{scalar: 2}", None),
    "concat": ("{inputs: [input, input], dim: 2}", None),
    "matmul": ("{inputs: [input, input]}", None),
    "scaled_dot_product_attention": ("{inputs: [input, input, input]}", None),
    "multihead_attention": ("{embed_dim: 4, num_heads: 2}", "[3, 4]"),
    "groupnorm": ("{num_groups: 2}", None),
    "layernorm": ("{normalized_shape: [4]}", None),
    "local_response_norm": ("{size: 2}", None),
    "mean": ("{dim: [2, 3]}", None),
    "sum": ("{dim: [1], keepdim: true}", None),
    "vector_norm": ("{dim: [2, 3], keepdim: true, ord: 2}", None),
    "roll": ("{shifts: [1, -2], dims: [2, 3]}", None),
    "narrow": ("{dim: 1, start: 1, length: 1}", None),
    "parameter": ("{shape: [2, 4, 4]}", None),
    "permute": ("{dims: [0, 2, 3, 1]}", None),
    "reshape": ("{shape: [2, 16]}", None),
    "instancenorm1d": ("", "[2, 4]"),
    "pad": ("{pad: [1, 0, 2, 2]}", None),
    "upsample": ("{scale_factor: 2, mode: bilinear}", None),
    "pixel_shuffle": ("{upscale_factor: 2}", "[8, 3, 3]"),
    "relative_position_bias": ("{window_size: [2, 2]}", "[9, 3]"),
    "attention_bias": ("{resolution: [2, 3], stride: 2}", "[3, 6]"),
    "repeat_interleave": ("{repeats: 3, dim: 2}", None),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_a_spec_name(kind):
    needs = {"out_channels": 2, "kernel_size": 1, "out_features": 3}
    import dataclasses

    fields = {f.name for f in dataclasses.fields(KINDS[kind])}
    args = {k: v for k, v in needs.items() if k in fields}
    rank = {"1d": 2, "3d": 4}.get(kind[-2:], 3)
    shape = "[" + ", ".join(["2"] + ["4"] * (rank - 1)) + "]"
    body = f"{{{', '.join(f'{k}: {v}' for k, v in args.items())}}}" if args else ""
    if kind in SPECIAL_KINDS:
        body, given = SPECIAL_KINDS[kind]
        shape = given or shape
    line = f"  - {kind}: {body}" if body else f"  - {kind}"
    net = loads(f"input: {shape}\nlayers:\n{line}\n")
    assert net.layers[0].kind == kind


@pytest.mark.parametrize(
    "kind, body",
    [("mul", ""), ("matmul", ""), ("add", ""), ("scaled_dot_product_attention", "{is_causal: true}")],
)
def test_layers_of_several_inputs_need_inputs(kind, body):
    line = f"  - {kind}: {body}" if body else f"  - {kind}"
    with pytest.raises(SpecError, match=f"spec.yaml:3: layers\\[0\\].{kind}: {kind} as a layer needs inputs"):
        loads(f"input: [2, 4, 4]\nlayers:\n{line}\n", "spec.yaml")


def test_blocks_in_spec_files():
    net = spec("""
        input: [8, n, n]
        layers:
          - repeat:
              times: 2
              name: layer1
              layers:
                - residual:
                    body:
                      - conv2d: {out_channels: 8, kernel_size: 3, padding: 1, bias: false, name: conv1}
                      - batchnorm2d
                      - relu
          - concat:
              branches:
                - [conv2d: {out_channels: 4, kernel_size: 1}]
                - [maxpool2d: {kernel_size: 3, stride: 1, padding: 1}]
    """)
    names = [r.name for r in net.layers]
    assert names[:4] == [
        "layer1.0.residual_1.conv1",
        "layer1.0.residual_1.batchnorm2d_1",
        "layer1.0.residual_1.relu_1",
        "layer1.0.residual_1.add",
    ]
    assert names[-1] == "concat_1.concat"
    assert net.output_shape == (12, n, n)
    # two blocks of 8*8*9 weights + 16 BatchNorm parameters, then 8*4 + 4
    assert net.params == 2 * (576 + 16) + 36


def test_keras_names_are_accepted_where_keras_layers_are_named():
    net = spec("""
        input: [3, 32, 32]
        layers:
          - separable_conv2d: {filters: 16, kernel_size: 3, use_bias: false, padding: same}
          - depthwise_conv2d: {kernel_size: 3, depth_multiplier: 2, strides: 2, padding: valid}
    """)
    # separable: 3*9 depthwise + 3*16 pointwise; depthwise: 32 filters of 3x3 + 32 biases
    assert [r.params for r in net.layers] == [27 + 48, 32 * 9 + 32]
    assert net.output_shape == (32, 15, 15)


def test_symbol_domains_in_spec():
    net = spec("""
        input: [3, n, n]
        symbols:
          alpha: {meaning: width multiplier, domain: rational}
          c: {meaning: channels, domain: integer}
        layers:
          - conv2d: {out_channels: 32*alpha, kernel_size: 1}
    """)
    assert net.at(alpha="0.5", n=4).params == 16 * 3 + 16


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            "input: [1, 4, 4]\nlayers:\n  - conv2d: {out_channels: 8, kernel_size: 5}\n",
            3,
            "kernel extent 5 must fit in the padded input 4",
        ),
        (
            'input: [1, n, n]\nlayers:\n  - conv2d:\n      out_channels: 8\n      kernel_size: "().__class__"\n',
            5,
            "Attribute is not allowed",
        ),
        (
            "input: [1, n, n]\nlayers:\n  - conv2d: {out_channels: 8, kernel_size: 3\n  - relu\n",
            5,
            "YAML syntax error",
        ),
        ("input: [1, n, n]\nlayers:\n  - conv2dd: {out_channels: 8}\n", 3, "did you mean conv2d"),
        (
            "input: [1, n, n]\nlayers:\n  - relu\n  - conv2d: {out_channels: 8, kernel: 3}\n",
            4,
            "did you mean kernel_size",
        ),
        ("input: [1, n, n]\nlayers:\n  - conv2d: {out_channels: 8}\n", 3, "needs kernel_size"),
        (
            "input: [3, n, n]\nlayers:\n  - conv2d:\n      out_channels: 8\n      kernel_size: 3\n      groups: 2\n",
            6,
            "divisible by groups",
        ),
        (
            "input: [1, n, n]\nlayers:\n  - conv2d: {out_channels: 8, kernel_size: 3, bias: 1}\n",
            3,
            "expected true or false",
        ),
        ("input: [1, n, n]\nlayers:\n  - repeat: {times: 0, layers: [relu]}\n", 3, "positive integer"),
        ("input: [1, n, n]\nlayer:\n  - relu\n", 2, "unknown key 'layer'"),
        ("input: [1, n, n]\nlayers:\n  - relu\n  - relu: {slope: 2}\n", 4, "relu has no argument 'slope'"),
        (
            "input: [2, n, n]\nlayers:\n  - residual:\n      body:\n        - conv2d: {out_channels: 3, kernel_size: 1}\n",
            3,
            "sides of the addition differ",
        ),
        (
            "input: [1, n, n]\nlayers:\n  - conv_transpose2d: {out_channels: 2, kernel_size: 3, stride: 2, output_padding: 2}\n",
            3,
            "output_padding 2 must be smaller",
        ),
        (
            "input: [1, n, n]\nlayers:\n  - conv2d: {out_channels: 8, kernel_size: 3, stride: -1}\n",
            3,
            "stride is -1",
        ),
    ],
)
def test_errors_name_file_line_and_field(text, line, fragment):
    with pytest.raises(SymconvError) as caught:
        _ = loads(text, "net.yaml").report
    message = str(caught.value)
    assert message.startswith(f"net.yaml:{line}:"), message
    assert fragment in message


def test_hostile_size_in_a_spec_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    text = f"input: [1, n, n]\nlayers:\n  - conv2d: {{out_channels: \"__import__('os').system('touch {marker}')\", kernel_size: 3}}\n"
    with pytest.raises(UnsafeExpression):
        loads(text, "net.yaml")
    assert not marker.exists()


def test_alias_bomb_is_refused_quickly():
    rows = ["a: &a [1,1,1,1,1,1,1,1,1]"]
    for previous, name in zip("abcde", "bcdef", strict=True):
        rows.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    with pytest.raises(SpecError, match="too large"):
        loads("\n".join(rows) + "\n")


def test_network_from_python_with_expression_strings():
    net = Network(input=(1, "n", "m"), layers=[Conv2d("k1", kernel_size=3, padding=1)])
    assert net.output_shape == (k1, n, m)
