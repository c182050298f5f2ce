"""The spec examples of the modern layers, checked by the NumPy backend and against PyTorch modules.

The PyTorch references are torchvision's own blocks (ConvNeXt's ``CNBlock``,
ShuffleNet v2's ``InvertedResidual``, ViT's ``EncoderBlock``), timm's ConvNeXt V2
block (``ConvNeXtBlock(use_grn=True)``), or written out
here from the paper (squeeze-and-excitation); counts come from
``sum(p.numel())`` and ``FlopCounterMode`` / 2 with attention on its counted path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from symconv import from_torch
from symconv.check import check_network
from symconv.spec import load
from torchvision_loader import load_torchvision

torch = pytest.importorskip("torch")
torchvision = load_torchvision()
if torchvision is None:
    pytest.skip("torchvision is not installed", allow_module_level=True)
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

nn = torch.nn
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def counts(module, shape):
    module.eval()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            out = module(torch.randn(1, *shape))
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    return tuple(out.shape[1:]), sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2


class SqueezeExcitation(nn.Module):
    """Hu et al. 2018, Fig. 2."""

    def __init__(self, c, s):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(c, s, 1), nn.Conv2d(s, c, 1)

    def forward(self, x):
        gate = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3), keepdim=True)))))
        return x * gate


class SmallViT(nn.Module):
    """Dosovitskiy et al. 2021 with one encoder block of torchvision's, patches of 4 x 4."""

    def __init__(self, d, heads, tokens):
        super().__init__()
        from torchvision.models.vision_transformer import EncoderBlock

        self.patch_embedding = nn.Conv2d(3, d, 4, 4)
        self.class_token = nn.Parameter(torch.zeros(1, 1, d))
        self.position_embedding = nn.Parameter(torch.randn(1, tokens + 1, d))
        self.block = EncoderBlock(heads, d, 4 * d, 0.0, 0.0)
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, 10)

    def forward(self, x):
        x = self.patch_embedding(x).flatten(2).permute(0, 2, 1)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1) + self.position_embedding
        return self.head(self.ln(self.block(x))[:, 0])


def reference(name, values):
    from torchvision.models.convnext import CNBlock
    from torchvision.models.shufflenetv2 import InvertedResidual

    H, W = values["H"], values["W"]
    if name == "se_block":
        return SqueezeExcitation(values["c"], values["s"]), (values["c"], H, W)
    if name == "convnext_block":
        return CNBlock(values["d"], 1e-6, 0.0), (values["d"], H, W)
    if name == "channel_shuffle":
        return InvertedResidual(2 * values["g"], 2 * values["g"], 1), (2 * values["g"], H, W)
    if (
        name == "convnextv2_block"
    ):  # timm's block, the paper's authors' layout (channels last, GRN in the MLP)
        ConvNeXtBlock = pytest.importorskip("timm.models.convnext").ConvNeXtBlock  # noqa: N806

        return ConvNeXtBlock(values["d"], ls_init_value=None, use_grn=True), (values["d"], H, W)
    return SmallViT(values["d"], values["h"], (H // 4) * (W // 4)), (3, H, W)


CASES = {
    "se_block": [{"c": 8, "s": 2, "H": 7, "W": 7}, {"c": 6, "s": 3, "H": 5, "W": 9}],
    "convnext_block": [{"d": 8, "H": 7, "W": 7}, {"d": 4, "H": 5, "W": 11}],
    "convnextv2_block": [{"d": 8, "H": 7, "W": 7}, {"d": 4, "H": 5, "W": 11}],
    "channel_shuffle": [{"g": 4, "H": 6, "W": 6}, {"g": 3, "H": 5, "W": 7}],
    "small_vit": [{"d": 8, "h": 2, "H": 16, "W": 16}, {"d": 12, "h": 3, "H": 13, "W": 18}],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_agrees_with_pytorch(name):
    net = load(EXAMPLES / f"{name}.yaml")
    for values in CASES[name]:
        module, shape = reference(name, values)
        report = net.at(**values)
        assert (tuple(int(d) for d in report.output_shape), int(report.params), int(report.macs)) == counts(
            module, shape
        ), values


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_checks_with_the_numpy_backend(name):
    assert check_network(load(EXAMPLES / f"{name}.yaml"), samples=3).ok


@pytest.mark.parametrize("name", sorted(CASES))
def test_importing_the_reference_module_gives_the_same_counts(name):
    values = CASES[name][1]
    module, shape = reference(name, values)
    imported = from_torch(module, (shape[0], "H", "W")).at(H=values["H"], W=values["W"])
    spec = load(EXAMPLES / f"{name}.yaml").at(**values)
    assert (imported.params, imported.macs, imported.output_shape) == (
        spec.params,
        spec.macs,
        spec.output_shape,
    )
