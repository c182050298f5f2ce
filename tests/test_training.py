"""Backward and training cost against FlopCounterMode around a real backward pass."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from symconv import Network
from symconv.cli import main
from symconv.layers import KINDS
from symconv.training import backward, report_for_pass
from torch_reference import layer_stacks, torch_module

torch = pytest.importorskip("torch")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402


def window_in_padding_only(net):
    """Does a max-pooling window lie wholly in the padding? PyTorch's backward of such a window
    writes outside its buffers (torch 2.13 CPU: "double free or corruption"), so it is not run."""
    for node, row in zip(net.graph, net.report.rows, strict=True):
        layer = node.layer
        if layer.kind.startswith("maxpool"):
            for axis, n in enumerate(row.input_shapes[0][1:]):
                k, s, p, d = (
                    int(v[axis]) for v in (layer.kernel_size, layer.stride, layer.padding, layer.dilation)
                )
                for j in range(int(row.output_shape[axis + 1])):
                    if not any(0 <= j * s - p + t * d < int(n) for t in range(k)):
                        return True
    return False


def torch_training_macs(channels, spatial, layers):
    modules, c = [], channels
    for kind, args in layers:
        module, out = torch_module(kind, args, c)
        modules.append(module)
        c = out if out is not None else c
    model = torch.nn.Sequential(*modules).double().eval()  # BatchNorm with running statistics
    x = torch.randn(1, channels, *spatial, dtype=torch.float64)
    model(x)  # materialise lazy layers
    with FlopCounterMode(display=False) as forward:
        model(x)
    with FlopCounterMode(display=False) as both:
        out = model(x)
        if out.requires_grad:
            out.sum().backward()
    return forward.get_total_flops() // 2, both.get_total_flops() // 2


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_training_cost_equals_flop_counter(dims, data):
    # FlopCounterMode counts a grouped convolution's weight gradient g times over (see below)
    (channels, spatial), layers = data.draw(layer_stacks(dims, ungrouped=True))
    net = Network((channels, *spatial), [KINDS[kind](**args) for kind, args in layers])
    assume(not window_in_padding_only(net))
    forward, both = torch_training_macs(channels, spatial, layers)
    assert net.macs == forward
    assert report_for_pass(net, "training").macs == both
    assert report_for_pass(net, "backward").macs == both - forward


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_flop_counter_convention_on_any_network(dims, data):
    # grouped, depthwise, separable and transposed convolutions included
    (channels, spatial), layers = data.draw(layer_stacks(dims))
    net = Network((channels, *spatial), [KINDS[kind](**args) for kind, args in layers])
    assume(not window_in_padding_only(net))
    forward, both = torch_training_macs(channels, spatial, layers)
    assert report_for_pass(net, "training", "flopcounter").macs == both


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_flop_counter_counts_grouped_weight_gradients_groups_times(groups):
    # torch.utils.flop_counter's conv_backward_flop counts dL/dW as a convolution over all
    # C_in x C_out channel pairs, ignoring groups; the real product has C_in/g per output channel
    from symconv import Conv2d

    net = Network((4, 9, 9), [Conv2d(8, 3, groups=groups, bias=False)])
    module = torch.nn.Conv2d(4, 8, 3, groups=groups, bias=False).double()
    with FlopCounterMode(display=False) as counter:
        module(torch.randn(1, 4, 9, 9, dtype=torch.float64)).sum().backward()
    (cost,) = backward(net)
    assert cost.input_gradient == 0
    assert counter.get_total_flops() // 2 == net.macs + groups * cost.weight_gradient


def test_first_layer_computes_no_input_gradient():
    from symconv import Conv2d, Flatten, Linear

    net = Network((3, 8, 8), [Conv2d(4, 3), Flatten(), Linear(2)])
    first, _, last = backward(net)
    assert first.input_gradient == 0 and first.weight_gradient == 4 * 6 * 6 * 3 * 9  # by hand
    assert last.input_gradient == last.weight_gradient == 144 * 2


def test_cli_pass(capsys):
    assert main(["derive", "examples/keras_mnist.yaml", "--pass", "training", "--format", "json"]) == 0
    out = capsys.readouterr().out
    # by hand: forward 1,948,320; backward: conv1 weights only (243,360), conv2 and linear both gradients
    assert '"macs": ' + str(1_948_320 + 243_360 + 2 * 1_658_880 + 2 * 46_080) in out


def test_a_frozen_backbone_counts_as_flop_counter_does():
    """Fine-tuning ResNet-18's last stage: parameters split, and no gradient for the frozen weights."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from torchvision_loader import load_torchvision

    torchvision = load_torchvision()
    if torchvision is None:
        pytest.skip("torchvision is not installed")
    from symconv import from_torch

    model = torchvision.models.resnet18(weights=None)
    for name, p in model.named_parameters():
        if not name.startswith(("layer4", "fc")):
            p.requires_grad_(False)
    net = from_torch(model, (3, "H", "W"))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert net.report.trainable_params == trainable
    assert net.report.non_trainable_params == sum(p.numel() for p in model.parameters()) - trainable
    for size in ((224, 224), (193, 257)):
        x = torch.randn(1, 3, *size)
        with FlopCounterMode(display=False) as forward:
            model(x)
        with FlopCounterMode(display=False) as both:
            model(x).sum().backward()
        backward_macs = (both.get_total_flops() - forward.get_total_flops()) // 2
        values = dict(zip(("H", "W"), size, strict=True))
        report = report_for_pass(net, "backward", "flopcounter").at(values)
        assert report.macs == backward_macs
        parts = dict(report.parts)
        assert parts["input gradient"] + parts["weight gradient"] == backward_macs


def test_trainable_false_in_a_spec_file_freezes_the_layer(tmp_path, capsys):
    from symconv.spec import dumps, loads

    text = """
input: [1, n, n]
layers:
  - conv2d: {out_channels: 8, kernel_size: 3, trainable: false}
  - conv2d: {out_channels: 4, kernel_size: 3}
"""
    net = loads(text)
    # by hand: 8*9 + 8 = 80 frozen; 4*8*9 + 4 = 292 trainable
    assert (net.report.non_trainable_params, net.report.trainable_params) == (80, 292)
    assert loads(dumps(net)).report.non_trainable_params == 80  # written back as trainable: false
    costs = backward(net)
    # the frozen first layer computes no gradient at all (its input is the image);
    # the second computes both: (n-4)^2 * 4*8*9 each
    assert [c.input_gradient for c in costs][0] == 0 and costs[0].weight_gradient == 0
    spec = tmp_path / "frozen.yaml"
    spec.write_text(text)
    assert main(["derive", str(spec), "--pass", "backward", "--at", "n=10"]) == 0
    out = capsys.readouterr().out
    assert "trainable 292, non-trainable 80 (frozen: conv2d_1)" in out.replace("\n        ", " ")
    assert "input gradients (dL/dx): 0" in out and "weight gradients (dL/dW): 10,368" in out  # 36*288


class Attentions(torch.nn.Module):
    """Patches, nn.MultiheadAttention, then attention written with matmul and with
    scaled_dot_product_attention, as vision transformers write it."""

    def __init__(self, frozen_embedding=False):
        super().__init__()
        self.embed = torch.nn.Conv2d(3, 8, 4, 4)
        self.mha = torch.nn.MultiheadAttention(8, 2, batch_first=True)
        self.qkv = torch.nn.Linear(8, 24)
        if frozen_embedding:
            self.embed.requires_grad_(False)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)
        x = self.mha(x, x, x, need_weights=False)[0]
        q, k, v = self.qkv(x).reshape(x.shape[0], -1, 3, 2, 4).permute(2, 0, 3, 1, 4).unbind(0)
        a = ((q * 0.5) @ k.transpose(-2, -1)).softmax(-1) @ v
        return (a + torch.nn.functional.scaled_dot_product_attention(q, k, v)).sum(dim=(1, 2))


@pytest.mark.parametrize("frozen", [False, True])
def test_attention_backward_equals_flop_counter(frozen):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from symconv import from_torch

    model = Attentions(frozen)
    net = from_torch(model, (3, "H", "W"))
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        for size in ((16, 16), (12, 20)):
            x = torch.randn(1, 3, *size)
            with sdpa_kernel(SDPBackend.MATH):
                with FlopCounterMode(display=False) as forward:
                    model(x)
                with FlopCounterMode(display=False) as both:
                    model(x).sum().backward()
            backward_macs = (both.get_total_flops() - forward.get_total_flops()) // 2
            report = report_for_pass(net, "backward").at(dict(zip(("H", "W"), size, strict=True)))
            assert report.macs == backward_macs, size
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
