"""CNNs of another model library, timm (PyTorch Image Models), imported with symbolic H and W, against PyTorch.

The same comparison as for torchvision (``model_reference``): output shape,
``sum(p.numel())`` and ``FlopCounterMode`` / 2 at 224 x 224, 193 x 257 and the
model's own input size, wherever PyTorch accepts the size. The
default suite builds one model of each of eighteen families; ``pytest -m
timm_all`` builds one model of every timm module that symconv imports (the
others, and why, are listed in ``REFUSED``).
"""

from __future__ import annotations

import os

import pytest

from model_reference import agrees_with_pytorch
from symconv import SymconvError, from_torch
from torchvision_loader import load_torchvision

torch = pytest.importorskip("torch")
if load_torchvision() is None:  # timm builds on torchvision's layers
    pytest.skip("torchvision is not installed", allow_module_level=True)
try:
    import timm
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("timm is not installed", allow_module_level=True)

SIZES = ((224, 224), (193, 257))
DEFAULT = [
    "resnet18",  # resnet: ResNet and its variants
    "resnetv2_18",  # pre-activation ResNet
    "res2net50d",  # Res2Net: split, hierarchical 3x3 branches
    "resnest14d",  # split attention
    "skresnet18",  # selective kernels: stacked branches, softmax over them
    "dla34",  # deep layer aggregation
    "ghostnet_050",  # ghost modules: cheap depthwise maps concatenated
    "rexnet_100",  # ReXNet: channels grow linearly, SE
    "mixnet_s",  # mixed depthwise kernels (timm's efficientnet builder)
    "convnext_nano",  # ConvNeXt with a layer scale read as a held tensor
    "cs3darknet_s",  # cross-stage partial DarkNet
    "ese_vovnet19b_slim",  # VoVNet: one-shot aggregation, effective SE
    "tf_efficientnet_b0",  # TensorFlow 'same' padding, computed and branched on in Python
    "repvit_m1",  # RepViT: a mobile CNN in transformer style
    "hgnet_tiny",  # HGNet: stem with padding, light aggregation
    "starnet_s1",  # StarNet: elementwise products of branches
    "convnextv2_atto",  # ConvNeXt V2: global response normalisation (a 2-norm over H and W, torch.addcmul)
    "swin_tiny_patch4_window7_224",  # Swin: windows merged with the batch, cyclic shifts, relative position bias
]
EVERY_FAMILY = DEFAULT + [
    "convmixer_768_32", "cspnext_s", "densenet121", "dpn68", "fasternet_s", "fastvit_s12",
    "focalnet_base_srf", "gernet_s", "gmlp_s16_224", "hardcorenas_a", "hrnet_w18_small", "iformer_s",
    "inception_next_tiny", "inception_resnet_v2", "inception_v3", "inception_v4", "lcnetv2_small",
    "mambaout_tiny", "mobilenetv3_small_050", "rdnet_tiny", "repghostnet_050", "legacy_senet154",
    "selecsls42", "legacy_xception", "xception41", "seresnet50", "regnety_016", "efficientnet_b0",
    "mobilenetv2_100", "cspresnet50", "darknet53", "repvgg_a2", "efficientnetv2_rw_s", "nextvit_small",
    "regnety_040_sgn", "lowformer_b0", "shvit_s1", "tf_efficientnetv2_s",
    "tf_mobilenetv3_small_100", "deit_tiny_patch16_224", "vit_small_patch16_224", "flexivit_small",
    "visformer_tiny", "coat_mini", "pvt_v2_b0", "tresnet_m", "nasnetalarge",
    "davit_tiny", "coatnet_0_rw_224", "levit_128", "gcvit_xxtiny",
]  # fmt: skip
"""TensorFlow-ported models compute 'same' padding in Python and branch on it: symconv decides each branch."""
AT_GIVEN_SIZE = {"vgg11": (224, 224), "twins_svt_small": (224, 224), "mobilevit_xs": (256, 256)}
"""Models whose code branches on a size that holds for some inputs only: imported at numbers."""
REFUSED = {
    "vit_relpos_small_patch16_224": "a held table of relative coordinates fed to an MLP as if batched",
    "maxvit_tiny_tf_224": "an einsum of the tokens with a held relative position table (TensorFlow's layout)",
}
"""One model of each family symconv refuses, with the first operation it cannot follow."""


def build(name):
    torch.manual_seed(0)
    return timm.create_model(name, pretrained=False)


def sizes_for(model) -> tuple:
    """SIZES and the model's own input size (a transformer's position table fixes it)."""
    own = tuple(model.pretrained_cfg.get("input_size", (3, 224, 224))[1:])
    return tuple(dict.fromkeys((*SIZES, own)))


@pytest.mark.parametrize("name", DEFAULT)
def test_one_model_per_family_agrees_with_pytorch(name):
    model = build(name)
    agrees_with_pytorch(model, name, sizes_for(model))


@pytest.mark.timm_all
@pytest.mark.parametrize("name", EVERY_FAMILY)
def test_every_family_symconv_imports_agrees_with_pytorch(name):
    model = build(name)
    agrees_with_pytorch(model, name, sizes_for(model))


@pytest.mark.timm_all
@pytest.mark.parametrize("name", sorted(AT_GIVEN_SIZE))
def test_models_that_branch_on_sizes_import_at_given_sizes(name):
    from model_reference import pytorch_counts

    size = AT_GIVEN_SIZE[name]
    with pytest.raises(SymconvError, match="holds for some input sizes and not others"):
        from_torch(build(name).eval(), (3, "H", "W"))
    model = build(name).eval()
    net = from_torch(model, (3, *size))
    shape, params, macs = pytorch_counts(model, size)
    assert (tuple(net.output_shape), int(net.params), int(net.macs)) == (shape, params, macs)


@pytest.mark.timm_all
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_families_are_refused_with_the_operation_named(name):
    with pytest.raises(SymconvError) as refused:
        from_torch(build(name).eval(), (3, "H", "W"))
    assert " at " in str(refused.value) or "torch.fx cannot trace" in str(refused.value)
