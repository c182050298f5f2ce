"""Every zoo entry named as a torchvision builder against the real torchvision 0.28 module.

Expected values come from PyTorch: ``sum(p.numel() for p in model.parameters())``
and ``FlopCounterMode``'s total / 2 (attention on its counted path), at 224 x 224
and at an odd size; the layer names are the module names of
``model.named_modules()``.
"""

from __future__ import annotations

import pytest
import sympy as sp

from symconv import zoo
from torchvision_loader import load_torchvision

torchvision = load_torchvision()
if torchvision is None:
    pytest.skip("torchvision is not installed", allow_module_level=True)

import torch  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

BUILDERS = set(torchvision.models.list_models(module=torchvision.models))
ENTRIES = sorted(name for name in zoo.names() if name in BUILDERS)
SIZES = ((224, 224), (199, 233))
FIXED_SIZE = {  # the model's own code asserts its image size
    name: ((224, 224),) for name in ("vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14")
}
OPTIONS = {
    "googlenet": {"aux_logits": False}
}  # the zoo entry leaves out the auxiliary heads (its source says so)
NAMED = {  # entries whose layers carry torchvision's module names
    "swin_t",
    "inception_v3",
    "vit_b_16",
    "convnext_tiny",
    "regnet_x_400mf",
    "regnet_y_400mf",
    "densenet121",
    "densenet161",
    "shufflenet_v2_x1_0",
    "efficientnet_b0",
    "efficientnet_b7",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "mobilenet_v2",
    "resnet18",
    "resnet50",
    "resnext50_32x4d",
    "wide_resnet50_2",
}


def counted(model, size):
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            out = model(torch.zeros(1, 3, *size))
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    return tuple(out.shape[1:]), sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


@pytest.fixture(scope="module")
def models():
    cache = {}

    def get(name):
        if name not in cache:
            torch.manual_seed(0)
            cache[name] = torchvision.models.get_model(name, weights=None, **OPTIONS.get(name, {})).eval()
        return cache[name]

    return get


FAMILIES = {  # one entry per family runs by default; every entry with -m torchvision_all
    "alexnet",
    "vgg11",
    "googlenet",
    "inception_v3",
    "resnet18",
    "resnext50_32x4d",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "efficientnet_b0",
    "densenet121",
    "shufflenet_v2_x0_5",
    "regnet_x_400mf",
    "regnet_y_400mf",
    "convnext_tiny",
    "vit_b_32",
    "swin_t",
    "squeezenet1_1",
}
MODULES = [
    name if name in FAMILIES else pytest.param(name, marks=pytest.mark.torchvision_all) for name in ENTRIES
]


@pytest.mark.parametrize("name", MODULES)
def test_zoo_entry_counts_what_the_torchvision_module_counts(models, name):
    model = models(name)
    network = zoo.build(name)
    for height, width in FIXED_SIZE.get(name, SIZES):
        shape, params, macs = counted(model, (height, width))
        report = network.at(H=height, W=width)
        assert tuple(int(d) for d in report.output_shape) == shape, (name, height, width)
        assert int(report.params) + report.unused_params == params, (name, height, width)
        assert int(report.macs) == macs, (name, height, width)


@pytest.mark.parametrize("name", sorted(NAMED))
def test_zoo_entry_names_its_layers_as_torchvision_does(models, name):
    weighted = (torch.nn.Conv2d, torch.nn.Linear, torch.nn.MultiheadAttention)
    modules = dict(models(name).named_modules())
    # a MultiheadAttention is one layer in symconv; its out_proj is part of it
    theirs = {
        n
        for n, m in modules.items()
        if isinstance(m, weighted)
        and not isinstance(modules.get(n.rpartition(".")[0]), torch.nn.MultiheadAttention)
    }
    kinds = ("conv2d", "linear", "multihead_attention")
    report = zoo.build(name).report
    ours = {row.name for row in report.rows if row.kind in kinds}
    held = tuple(f"{module}." for module, _ in report.unused)  # modules the forward pass never calls
    theirs = {n for n in theirs if not n.startswith(held)}
    assert ours == theirs


MOBILENET_WIDTHS = ("0.35", "0.5", "0.75", "1.0", "1.3", "1.4")


@pytest.mark.parametrize("alpha", MOBILENET_WIDTHS)
def test_mobilenet_v2_widths_and_resolutions_follow_one_expression(alpha):
    """torchvision.models.mobilenet_v2(width_mult=alpha) at 96 to 224 against one symbolic network in alpha."""
    network = zoo.build("mobilenet_v2_alpha")
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v2(weights=None, width_mult=float(alpha)).eval()
    for size in (96, 128, 160, 192, 224):
        shape, params, macs = counted(model, (size, size))
        report = network.at(alpha=alpha, H=size, W=size)
        assert (int(report.params), int(report.macs)) == (params, macs), (alpha, size)


def test_mobilenet_v2_width_is_a_floor_function_that_jumps():
    from symconv.sizes import MakeDivisible, symbols

    a = symbols("alpha")
    width = MakeDivisible(32 * a)
    # torchvision's _make_divisible by hand: 32 * 0.35 = 11.2 rounds to 8, below 0.9 * 11.2, so 16
    assert width.subs(a, sp.Rational(35, 100)) == 16
    # the floor form (where the jumps show) agrees with the function at 140 multipliers from 0.1 to 1.56
    floors = width.as_floors()
    for value in (sp.Rational(j, 640) for j in range(64, 1000, 7)):
        assert floors.subs(a, value) == width.subs(a, value)


def _published(name):
    """torchvision's published figures for the builder's first weights: its documentation's num_params and
    GFLOPS (``_ops``, multiply-accumulates), measured at the weights' crop size."""
    weights = list(torchvision.models.get_model_weights(name))[0]
    crop = weights.transforms.keywords.get("crop_size", 224)
    crop = crop[0] if isinstance(crop, (list, tuple)) else crop
    return crop, weights.meta["num_params"], weights.meta["_ops"]


@pytest.mark.parametrize("name", ENTRIES)
def test_zoo_entry_equals_torchvisions_published_numbers(name):
    crop, params, gflops = _published(name)
    report = zoo.build(name).at(H=crop, W=crop)
    assert int(report.params) + report.unused_params == params
    assert round(int(report.macs) / 1e9, 3) == pytest.approx(gflops, abs=0.0015)


@pytest.mark.parametrize("width", ["0.5", "1.1", "1.4"])
def test_efficientnet_width_symbol_equals_torchvisions_scaled_module(width):
    """torchvision's EfficientNet built with width_mult = w and B0's depths, against one network symbolic in w."""
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf

    setting, last = _efficientnet_conf("efficientnet_b0", width_mult=float(width), depth_mult=1.0)
    torch.manual_seed(0)
    model = EfficientNet(setting, dropout=0.2, last_channel=last).eval()
    network = zoo.build("efficientnet_width")
    for size in ((224, 224), (199, 233)):
        shape, params, macs = counted(model, size)
        report = network.at(w=width, H=size[0], W=size[1])
        assert (int(report.params), int(report.macs)) == (params, macs), (width, size)


def test_flopcounter_in_eval_mode_misses_attention_and_the_convention_says_how_much(models):
    """FlopCounterMode on an eval-mode ViT on CPU, default backends: the fused attention is not counted."""
    from symconv.conventions import compare, report_for_convention

    model = models("vit_b_16")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:  # the fast path, as a user runs it
        model(torch.zeros(1, 3, 224, 224))
    _, _, math_path_macs = counted(model, (224, 224))  # attention on its counted path
    network = zoo.build("vit_b_16")
    eval_report = report_for_convention(network, "flopcounter-eval").at({"H": 224, "W": 224})
    assert int(eval_report.macs) == counter.get_total_flops()  # the column holds FLOPs
    assert int(network.at(H=224, W=224).macs) == math_path_macs == 17_563_828_224
    gap = dict(dict(compare(network, {"H": 224, "W": 224}).differences)["flopcounter-eval"])
    missed = gap["attention left uncounted (the eval-mode fast path and the CPU flash kernel)"]
    # the differences are against symconv's MACs: an attention layer counted 0 is its MACs missing
    assert 2 * math_path_macs - counter.get_total_flops() == -2 * missed
