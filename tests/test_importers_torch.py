"""PyTorch modules in (torch.fx) and out; expected counts from PyTorch itself."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from symconv import SpecError, SymconvError, zoo
from symconv.importers.torch import from_torch, to_torch

torch = pytest.importorskip("torch")
nn = torch.nn
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402


def torch_counts(module, shape):
    """Parameters, MACs and output shape as PyTorch counts them, on the attention path FlopCounterMode sees."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    module.eval()
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        out = module(torch.zeros(1, *shape))
    return sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2, tuple(out.shape[1:])


def agrees_at(module, sizes, channels=3):
    """Import ``module`` with symbolic H and W; at each size, its shape, parameters and MACs equal PyTorch's."""
    net = from_torch(module, (channels, "H", "W"))
    H, W = sorted(net.report.free_symbols(), key=str)  # noqa: N806
    for size in sizes:
        params, macs, shape = torch_counts(module, (channels, *size))
        at = net.report.at({H: size[0], W: size[1]})
        assert (tuple(at.output_shape), int(at.params), int(at.macs)) == (shape, params, macs), size
    return net


class Residual(nn.Module):
    def __init__(self, channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 2 * channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(2 * channels)
        self.conv2 = nn.Conv2d(2 * channels, 2 * channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * channels)
        self.down = nn.Sequential(
            nn.Conv2d(channels, 2 * channels, 1, stride, bias=False), nn.BatchNorm2d(2 * channels)
        )

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.down(x))


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 7, 2, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(3, 2, 1)
        )
        self.layer1 = Residual(8, 2)
        self.layer2 = Residual(16, 2)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))

    def forward(self, x):
        return self.head(self.layer2(self.layer1(self.stem(x))))


class Inception(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1 = nn.Conv2d(12, 8, 1)
        self.b2 = nn.Sequential(nn.Conv2d(12, 6, 1), nn.ReLU(), nn.Conv2d(6, 10, 3, padding=1))
        self.b3 = nn.Sequential(nn.Conv2d(12, 2, 1), nn.ReLU(), nn.Conv2d(2, 4, 5, padding=2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), nn.Conv2d(12, 4, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


@pytest.mark.parametrize(("module", "channels"), [(SmallResNet(), 3), (Inception(), 12)])
def test_imported_networks_count_like_pytorch(module, channels):
    net = from_torch(module, (channels, "H", "W"))
    for size in ((32, 32), (47, 33), (64, 100)):
        params, macs, shape = torch_counts(module, (channels, *size))
        report = net.at(H=size[0], W=size[1])
        assert (report.params, report.macs, tuple(report.output_shape)) == (params, macs, shape)


def test_imported_residual_network_is_symbolic():
    net = from_torch(SmallResNet(), (3, "H", "W"))
    H = sp.Symbol("H", integer=True, positive=True)
    assert net.layers[-1].output_shape == (10,)
    assert any(row.kind == "add" for row in net.layers)
    assert all(d.count(sp.floor) <= 1 for row in net.layers for d in row.output_shape)
    assert H in net.macs.free_symbols


@pytest.mark.parametrize("name", ["resnet18", "googlenet", "mobilenet_v2", "squeezenet1_0"])
def test_zoo_round_trips_through_pytorch(name):
    net = zoo.build(name)
    module = to_torch(net, H=64, W=80)
    params, macs, _ = torch_counts(module, (3, 64, 80))
    report = net.at(H=64, W=80)
    assert (report.params, report.macs) == (params, macs)
    again = from_torch(module, (3, "H", "W")).at(H=64, W=80)
    assert (again.params, again.macs) == (params, macs)


def test_unsupported_nodes_are_named():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return torch.cumsum(self.conv(x), 2)

    with pytest.raises(
        SpecError, match=r"call_function cumsum at .*test_importers_torch.py:\d+: symconv has no rule"
    ) as error:
        from_torch(Scaled(), (3, "H", "W"))
    # what was counted before it: the convolution's 3*3*3*4 + 4 parameters, 108 MACs per output pixel
    # and (H - 2)(W - 2) output pixels: 108HW - 216H - 216W + 432
    assert "params 112, MACs 108*H*W - 216*H - 216*W + 432" in str(error.value)

    with pytest.raises(SpecError, match="LSTM"):
        from_torch(nn.Sequential(nn.LSTM(4, 4)), (3, 4))


def test_to_torch_needs_values():
    with pytest.raises(SpecError, match="give values"):
        to_torch(zoo.build("alexnet"))


class Twice(nn.Module):
    """One convolution called twice: its 4*4*3*3 + 4 = 148 parameters are counted once."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        return self.conv(torch.relu(self.conv(x)))


def test_a_module_called_twice_shares_its_parameters():
    from symconv.spec import dumps, loads

    net = from_torch(Twice(), (4, "H", "W"))
    assert [node.shares for node in net.graph] == [None, None, "conv"]
    assert net.params == 148
    # two calls of 144 multiply-adds per output pixel: 2 * 144 * H * W
    H, W = sp.symbols("H W", integer=True, positive=True)
    assert sp.expand(net.macs - 288 * H * W) == 0
    again = loads(dumps(net))
    assert again.params == 148 and again.graph[2].shares == "conv"
    assert net.check(samples=2).ok


class Guarded(nn.Module):
    """Shape arithmetic and a guard as model code writes them (torchvision's ViT checks its image size)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 4, 4)

    def forward(self, x):
        n, c, h, w = x.shape
        torch._assert(h == 32, "Wrong image height!")
        y = self.conv(x)
        return y.reshape(n, 8, (h // 4) * (w // 4)).permute(0, 2, 1).mean(1)


def test_shape_guards_become_assumptions():
    from symconv import ShapeError

    net = from_torch(Guarded(), (3, "H", "W"))
    assert any("Wrong image height!" in a.message for a in net.assumptions)
    report = net.at(H=32, W=20)
    # 8 * 3 * 4 * 4 = 384 MACs per output pixel, 8 x 5 output pixels at 32 x 20
    assert report.macs == 384 * 8 * 5 and report.output_shape == (8,)
    with pytest.raises(ShapeError, match="Wrong image height"):
        net.at(H=36, W=20)


@pytest.mark.parametrize("size", [(8, 8), (7, 11)])
def test_upsampling_and_pixel_shuffle(size):
    module = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.PixelShuffle(2),
        nn.Conv2d(4, 4, 1),
    )
    params, macs, shape = torch_counts(module, (3, *size))
    net = from_torch(module, (3, "H", "W"))
    report = net.at(H=size[0], W=size[1])
    assert (int(report.params), int(report.macs), tuple(int(d) for d in report.output_shape)) == (
        params,
        macs,
        shape,
    )


class Einsums(nn.Module):
    """Attention written with einsum, as MaxViT and many research models write it."""

    def forward(self, x):
        q = x.reshape(x.shape[0], 2, 3, -1)  # (batch, heads, tokens, width)
        scores = torch.einsum("b h i d, b h j d -> b h i j", q, q).softmax(-1)
        out = torch.einsum("bhij,bhjd->bhid", scores, q)
        return torch.einsum("bhid->bihd", out)


def test_einsum_as_batched_matrix_products():
    module = Einsums()
    params, macs, shape = torch_counts(module, (2, 3, 4))
    net = from_torch(module, (2, 3, 4))
    # by hand: two products of 2 heads x 3 x 3 entries with 4 multiply-adds each: 2 * 72 = 144
    assert (
        (int(net.params), int(net.macs), tuple(net.output_shape))
        == (params, macs, shape)
        == (0, 144, (3, 2, 4))
    )
    with pytest.raises(SpecError, match="not a batched matrix product"):
        from_torch(EinsumTrace(), (2, 3))


class EinsumTrace(nn.Module):
    def forward(self, x):
        return torch.einsum("bij,bij->bij", x, x)


class LayerScale(nn.Module):
    """ConvNeXt's layer scale as timm writes it: a held vector reshaped to broadcast over H and W."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.gamma = nn.Parameter(torch.full((6,), 0.5))

    def forward(self, x):
        y = self.conv(x)
        return torch.cat([x, x], 1) + y.mul(self.gamma.reshape(1, -1, 1, 1)) + y * self.gamma.view(1, 6, 1, 1)


class SelectiveKernel(nn.Module):
    """SKNet's branches stacked on a new axis, summed and gated (timm's selective kernel)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(4, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, padding=2, dilation=2)

    def forward(self, x):
        paths = torch.stack([self.a(x), self.b(x)], dim=1)  # (N, 2, C, H, W)
        weights = torch.softmax(paths.mean((3, 4), keepdim=True), dim=1)
        return (paths * weights).sum(dim=1)


@pytest.mark.parametrize(("module", "channels"), [(LayerScale(), 3), (SelectiveKernel(), 4)])
def test_held_tensors_reshaped_and_stacked_branches(module, channels):
    """Parameters read once though reshaped twice; stack as unsqueeze and concat; all agree with PyTorch."""
    agrees_at(module, ((9, 7), (16, 16)), channels)


class WindowPad(nn.Module):
    """Swin's padding of a channels-last map up to whole windows of 7, its amounts computed from the shape."""

    def forward(self, x):
        x = nn.functional.pad(x, (1, 2))  # zeros on the width, channels first
        x = x.permute(0, 2, 3, 1)
        h, w = x.shape[1], x.shape[2]
        return nn.functional.pad(x, (0, 0, 0, (7 - w % 7) % 7, 0, (7 - h % 7) % 7))


def test_functional_pad_with_amounts_from_the_shape():
    net = from_torch(WindowPad(), (3, "H", "W"))
    H, W = sorted(net.report.free_symbols(), key=str)  # noqa: N806
    for size in ((20, 15), (7, 4), (14, 11)):
        expected = tuple(WindowPad()(torch.zeros(1, 3, *size)).shape[1:])
        assert net.report.at({H: size[0], W: size[1]}).output_shape == expected


class Paddings(nn.Module):
    """Every padding mode, as a module and as ``F.pad``; ``-inf`` ahead of a max pool (NASNet's cells)."""

    def __init__(self):
        super().__init__()
        self.reflect = nn.ReflectionPad2d((2, 1, 0, 3))
        self.replicate = nn.ReplicationPad2d(1)
        self.zero = nn.ZeroPad2d((0, 1, 0, 1))
        self.constant = nn.ConstantPad2d(2, -1.0)
        self.circular = nn.CircularPad2d((1, 0, 2, 0))
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        x = self.conv(self.circular(self.constant(self.zero(self.replicate(self.reflect(x))))))
        x = nn.functional.max_pool2d(nn.functional.pad(x, (1, 1, 1, 1), value=float("-inf")), 3, 2)
        return nn.functional.pad(x, (1, 2, 0, 0), mode="reflect")


def test_every_padding_mode_agrees_with_pytorch():
    agrees_at(Paddings(), ((6, 5), (11, 8), (20, 13)))
    # reflect padding must be smaller than its axis: 3 rows below need H >= 4, which PyTorch refuses below
    with pytest.raises(RuntimeError):
        Paddings()(torch.zeros(1, 3, 3, 5))
    with pytest.raises(SymconvError, match="reflect padding 3 must be smaller than the axis 3"):
        from_torch(Paddings(), (3, 3, 5))
    numeric = from_torch(Paddings(), (3, 11, 8))
    assert numeric.check(samples=1).ok


class ReflectOneAxis(nn.Module):
    def forward(self, x):
        return nn.functional.pad(x, (1, 2), mode="reflect")


def test_non_constant_padding_of_too_few_axes_is_refused_as_pytorch_refuses_it():
    with pytest.raises(NotImplementedError):
        ReflectOneAxis()(torch.zeros(1, 3, 6, 6))
    with pytest.raises(SymconvError, match="reflect padding of 1 axes needs an input of 1 or 2 axes"):
        from_torch(ReflectOneAxis(), (3, "H", "W"))


class Blur(nn.Module):
    """timm's anti-aliased downsampling: a fixed filter, held as a buffer, applied with ``F.conv2d``."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        kernel = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("filt", (kernel[:, None] * kernel[None, :] / 16).repeat(channels, 1, 1, 1))
        self.channels = channels

    def forward(self, x):
        x = nn.functional.pad(self.conv(x), (1, 1, 1, 1), mode="reflect")
        return nn.functional.conv2d(x, self.filt, stride=2, groups=self.channels)


def test_a_filter_held_as_a_buffer_counts_macs_and_no_parameters():
    net = agrees_at(Blur(8), ((12, 9), (17, 30)))
    # by hand: the convolution's 8*3*9 + 8 = 224 parameters; the blur's 72 weights are a buffer
    assert int(net.params) == 224 == sum(p.numel() for p in Blur(8).parameters())
    blur = net.layers[-1]
    assert blur.params == 0 and blur.macs != 0
    assert [node.layer.fixed for node in net.graph] == [False, False, True]
    # the exported module holds the filter as a buffer again
    exported = to_torch(net, H=12, W=9)
    assert sum(p.numel() for p in exported.parameters()) == 224
    assert sum(b.numel() for b in exported.buffers()) == 72


class HalfBuffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("weight", torch.ones(4, 3, 1, 1))
        self.bias = nn.Parameter(torch.zeros(4))

    def forward(self, x):
        return nn.functional.conv2d(x, self.weight, self.bias)


def test_weights_partly_buffers_are_refused():
    with pytest.raises(SymconvError, match="partly parameters and partly buffers"):
        from_torch(HalfBuffer(), (3, "H", "W"))


class ResponseNorm(nn.Module):
    """ConvNeXt V2's global response normalisation, channels last, written as timm writes it."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(channels))
        self.bias = nn.Parameter(torch.randn(channels))
        self.conv = nn.Conv2d(3, channels, 3)

    def forward(self, x):
        x = self.conv(x).permute(0, 2, 3, 1)
        g = x.norm(p=2, dim=(1, 2), keepdim=True)
        n = g / (g.mean(dim=-1, keepdim=True) + 1e-6)
        x = x + torch.addcmul(self.bias.view(1, 1, 1, -1), self.weight.view(1, 1, 1, -1), x * n)
        return torch.linalg.vector_norm(x, 1, dim=-1) + torch.norm(x, dim=(1, 2), keepdim=True).sum(-1)


def test_global_response_norm_agrees_with_pytorch():
    torch.manual_seed(0)
    module = ResponseNorm(6).eval()
    agrees_at(module, ((5, 7), (16, 9)))
    # the NumPy backend runs the layers and measures what the formulas say
    numeric = from_torch(module, (3, 16, 9))
    assert numeric.check(samples=1).ok


class FunctionalGroupNorm(nn.Module):
    """timm's GroupNorm1 and norm-act layers call ``F.group_norm`` with the module's own weight and bias."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.weight, self.bias = nn.Parameter(torch.ones(8)), nn.Parameter(torch.zeros(8))

    def forward(self, x):
        y = nn.functional.group_norm(self.conv(x), 4, self.weight, self.bias)
        return nn.functional.group_norm(y, 2)


def test_functional_group_norm():
    params, macs, shape = torch_counts(FunctionalGroupNorm(), (3, 10, 12))
    net = from_torch(FunctionalGroupNorm(), (3, 10, 12))
    # by hand: 8*3*9 + 8 = 224 for the convolution, 8 + 8 for the first norm
    assert (
        (int(net.params), int(net.macs), tuple(net.output_shape))
        == (params, macs, shape)
        == (
            240,
            8 * 27 * 8 * 10,
            (8, 8, 10),
        )
    )


class SamePadding(nn.Module):
    """TensorFlow's 'same' padding as timm writes it: the amounts computed in Python, a branch on them."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2)

    def forward(self, x):
        import math

        ih, iw = x.size()[-2:]
        pad_h = max((math.ceil(ih / 2) - 1) * 2 + 3 - ih, 0)
        pad_w = max((math.ceil(iw / 2) - 1) * 2 + 3 - iw, 0)
        if pad_h > 0 or pad_w > 0:
            x = nn.functional.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return self.conv(x)


class SizedHead(nn.Module):
    """A head that pools only when the map is small (timm's VGG ConvMlp): the branch depends on H."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        x = self.conv(x)
        if x.shape[-2] < 8:
            x = nn.functional.adaptive_avg_pool2d(x, 8)
        return x


def test_control_flow_on_sizes_is_decided_for_every_size():
    """torch.fx alone cannot trace these; symconv decides each branch as the trace records it."""
    import torch.fx

    with pytest.raises(torch.fx.proxy.TraceError):
        torch.fx.symbolic_trace(SamePadding())
    net = agrees_at(SamePadding(), ((17, 23), (16, 16), (5, 224), (31, 2)))
    with pytest.raises(SpecError, match=r"branches on H - 2 < 8 at .*test_importers_torch.py:\d+"):
        from_torch(SizedHead(), (3, "H", "W"))
    for size in ((6, 9), (20, 12)):  # at given sizes every branch is decided
        params, macs, shape = torch_counts(SizedHead(), (3, *size))
        net = from_torch(SizedHead(), (3, *size))
        assert (int(net.params), int(net.macs), tuple(net.output_shape)) == (params, macs, shape)


class TimmAttention(nn.Module):
    """timm's Attention: one projection to q, k and v, the batch axis moved second by the permute, then unbound."""

    def __init__(self, dim=8, heads=2):
        super().__init__()
        self.heads, self.qkv, self.proj = heads, nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.embed = nn.Conv2d(3, dim, 4, 4)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)  # (B, N, C) tokens
        B, N, C = x.shape  # noqa: N806
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * (C // self.heads) ** -0.5) @ k.transpose(-2, -1)
        x = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class BatchMovedTwice(nn.Module):
    def forward(self, x):
        y = x.permute(1, 0, 2, 3)  # (C, B, H, W)
        return y[1:].permute(1, 0, 3, 2)  # the batch first again, H and W swapped


def test_attention_that_moves_the_batch_axis_agrees_with_pytorch():
    agrees_at(TimmAttention(), ((16, 16), (12, 20), (33, 9)))
    moved = from_torch(BatchMovedTwice(), (3, "H", "W"))
    H, W = sorted(moved.report.free_symbols(), key=str)  # noqa: N806
    assert moved.output_shape == (2, W, H)  # by hand: channels 1 and 2, then W and H swapped
    with pytest.raises(SpecError, match="indexing the batch axis"):
        from_torch(IndexesTheBatch(), (3, "H", "W"))


class IndexesTheBatch(nn.Module):
    def forward(self, x):
        return x.permute(1, 0, 2, 3)[:, 0]


class WindowAttention(nn.Module):
    """Swin-style attention inside windows, written as model code writes it: the batch merged with the windows.

    The map is padded to a multiple of the window, shifted with ``torch.roll``, cut into windows
    (``view(-1, w, w, C)`` merges the batch with them), attended within each window, and put back.
    """

    def __init__(self, channels, heads, window):
        super().__init__()
        self.embed = nn.Conv2d(3, channels, 4, 4)
        self.norm = nn.LayerNorm(channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)
        self.heads, self.window = heads, window

    def forward(self, x):
        x = self.embed(x).permute(0, 2, 3, 1)
        B, H, W, C = x.shape  # noqa: N806
        w = self.window
        x = nn.functional.pad(self.norm(x), (0, 0, 0, (w - W % w) % w, 0, (w - H % w) % w))
        Hp, Wp = x.shape[1], x.shape[2]  # noqa: N806
        x = torch.roll(x, shifts=(-1, -1), dims=(1, 2))
        windows = x.view(B, Hp // w, w, Wp // w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, C)
        B_, N, _ = windows.shape  # noqa: N806
        qkv = self.qkv(windows).reshape(B_, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * (C // self.heads) ** -0.5) @ k.transpose(-2, -1)
        out = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(B_, N, -1)
        out = (
            self.proj(out).view(-1, Hp // w, Wp // w, w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(B, Hp, Wp, C)
        )
        out = torch.roll(out, shifts=(1, 1), dims=(1, 2))[:, :H, :W, :]
        return (x[:, :H, :W, :] + out).mean(dim=(1, 2))


def test_window_partitions_that_merge_the_batch_agree_with_pytorch():
    torch.manual_seed(0)
    module = WindowAttention(8, 2, 3).eval()
    net = agrees_at(module, ((24, 36), (28, 17), (40, 40)))
    # by hand at 24 x 36: 6 x 9 patches padded to 6 x 9 (multiples of 3): 6 windows of 9 tokens;
    # per window q k^T and a v are 2 heads x 9 x 9 x 4 each, qkv and proj 9 x 8 x (24 + 8)
    at = net.report.at({"H": 24, "W": 36})
    embed = 8 * 6 * 9 * 3 * 16
    assert int(at.macs) == embed + 6 * (2 * (2 * 9 * 9 * 4) + 9 * 8 * 32)
    numeric = from_torch(module, (3, 24, 36))
    assert numeric.check(samples=1).ok


class MergedThenFlattened(nn.Module):
    def forward(self, x):
        return x.reshape(-1, x.shape[-1]).mean(dim=0)


def test_reductions_over_a_merged_batch_are_refused():
    with pytest.raises(SymconvError, match="batch axis holds the batch merged with"):
        from_torch(MergedThenFlattened(), (3, "H", "W"))


def swin_index(h, w):
    """Swin's relative position index, as the paper's reference code builds it (Liu et al. 2021, section 3.2)."""
    coords = torch.stack(torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")).flatten(1)
    offsets = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
    return (offsets[..., 0] + h - 1) * (2 * w - 1) + offsets[..., 1] + w - 1


class BiasedWindows(nn.Module):
    """Window attention with a learnt bias per head and relative offset, gathered from its table by index."""

    def __init__(self, index=None):
        super().__init__()
        self.embed = nn.Conv2d(3, 8, 2, 2)
        self.qkv, self.heads, self.window = nn.Linear(8, 24), 2, (2, 3)
        self.table = nn.Parameter(torch.randn((2 * 2 - 1) * (2 * 3 - 1), 2))
        self.register_buffer("index", swin_index(2, 3) if index is None else index)

    def forward(self, x):
        x = self.embed(x).permute(0, 2, 3, 1)
        B, H, W, C = x.shape  # noqa: N806
        (h, w), n = self.window, self.window[0] * self.window[1]
        x = x.view(B, H // h, h, W // w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, n, C)
        q, k, v = self.qkv(x).reshape(-1, n, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        bias = self.table[self.index.view(-1)].view(n, n, -1).permute(2, 0, 1).contiguous().unsqueeze(0)
        first = (q @ k.transpose(-2, -1) + bias).softmax(-1) @ v
        second = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return (first + second).reshape(B, -1).sum(dim=1, keepdim=True)


def test_a_relative_position_bias_gathered_from_its_table_agrees_with_pytorch():
    torch.manual_seed(0)
    module = BiasedWindows().eval()
    net = agrees_at(module, ((8, 12), (16, 30)))
    # the table's 15 x 2 entries are counted once, not the 2 x 6 x 6 it is gathered into (twice)
    assert int(net.params) == (3 * 4 * 8 + 8) + (8 * 24 + 24) + 15 * 2
    assert "relative_position_bias" in [row.kind for row in net.layers]


def test_a_table_gathered_into_another_layout_is_refused():
    shuffled = swin_index(2, 3).flip(0)
    with pytest.raises(SymconvError, match="gathered by an index into a layout symconv does not recognise"):
        from_torch(BiasedWindows(shuffled).eval(), (3, "H", "W"))


class LinearNorm(nn.Module):
    """LeViT's linear layer: batch normalisation over the batch and tokens flattened together."""

    def __init__(self, a, b):
        super().__init__()
        self.linear, self.bn = nn.Linear(a, b, bias=False), nn.BatchNorm1d(b)

    def forward(self, x):
        x = self.linear(x)
        return self.bn(x.flatten(0, 1)).reshape_as(x)


class ShrinkingAttention(nn.Module):
    """Attention over a fixed 4 x 4 map with a learnt bias per head and offset (|dy|, |dx|), then the
    queries of every second row and column attending to all 16 positions (Graham et al. 2021, LeViT)."""

    def __init__(self):
        super().__init__()
        self.embed, self.heads, self.resolution = nn.Conv2d(3, 8, 4, 4), 2, 4
        self.qkv, self.kv, self.q = LinearNorm(8, 24), LinearNorm(8, 16), LinearNorm(8, 8)
        self.bias = nn.Parameter(torch.randn(2, 16))
        self.shrink_bias = nn.Parameter(torch.randn(2, 16))
        grid = torch.stack(torch.meshgrid(torch.arange(4), torch.arange(4), indexing="ij")).flatten(1)
        every_other = torch.stack(torch.meshgrid(torch.arange(0, 4, 2), torch.arange(0, 4, 2), indexing="ij"))
        for name, queries in (("index", grid), ("shrink_index", every_other.flatten(1))):
            offsets = (queries[..., :, None] - grid[..., None, :]).abs()
            self.register_buffer(name, offsets[0] * 4 + offsets[1])

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)
        B, N, C = x.shape  # noqa: N806
        q, k, v = self.qkv(x).view(B, N, 3, self.heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        x = x + ((q @ k.transpose(-2, -1) + self.bias[:, self.index]).softmax(-1) @ v).transpose(
            1, 2
        ).reshape(B, N, C)
        k, v = self.kv(x).view(B, N, self.heads, -1).permute(0, 2, 1, 3).split([4, 4], dim=3)
        shrunk = x.view(B, self.resolution, self.resolution, C)[:, ::2, ::2].reshape(B, -1, C)
        q = self.q(shrunk).view(B, -1, self.heads, 4).permute(0, 2, 1, 3)
        attention = (q @ k.transpose(-2, -1) + self.shrink_bias[:, self.shrink_index]).softmax(-1)
        return (attention @ v).transpose(1, 2).reshape(B, -1)


def test_levit_attention_biases_and_batchnorm_over_flattened_tokens_agree_with_pytorch():
    torch.manual_seed(0)
    module = ShrinkingAttention().eval()
    # the map is 4 x 4 for inputs of 16 to 19 rows and columns; PyTorch refuses any other size
    net = agrees_at(module, ((16, 16), (19, 17)))
    with pytest.raises(RuntimeError):
        module(torch.zeros(1, 3, 20, 16))
    with pytest.raises(SymconvError):
        net.report.at({"H": 20, "W": 16})
    # each table is counted once (2 x 16), not the 2 x 16 x 16 and 2 x 4 x 16 it is gathered into
    linear_norms = (8 * 24 + 2 * 24) + (8 * 16 + 2 * 16) + (8 * 8 + 2 * 8)
    assert int(net.params) == (3 * 16 * 8 + 8) + linear_norms + 2 * 16 + 2 * 16
    kinds = [row.kind for row in net.layers]
    assert kinds.count("attention_bias") == 2 and kinds.count("batchnorm1d") == 3
    assert from_torch(module, (3, 16, 16)).check(samples=1).ok


def test_the_attention_bias_gathers_as_levit_does():
    from graph_reference import levit_bias
    from symconv import Network
    from symconv.layers import AttentionBias, Parameter
    from symconv.network import Node
    from symconv.numeric import run

    table = torch.randn(3, 20, dtype=torch.float64)
    for stride in (1, 2, 3):
        graph = [Node("table", Parameter([3, 20]), ()), Node("bias", AttentionBias([4, 5], stride), (0,))]
        measured = run(Network((1,), graph=graph), {}, "fast", weights=[{"weight": table.numpy()}, {}])
        expected = levit_bias(table, (4, 5), stride).numpy()
        assert measured.outputs[-1].shape == expected.shape
        assert (measured.outputs[-1] == expected).all()


class GlobalQueryWindows(nn.Module):
    """Window attention whose queries are one global query per image, repeated for each of its windows,
    the windows put back with ``view(-1, H, W, C)`` (Hatamizadeh et al. 2023, GC ViT)."""

    def __init__(self):
        super().__init__()
        self.embed, self.window = nn.Conv2d(3, 8, 2, 2), 2
        self.query, self.kv = nn.Linear(8, 8), nn.Linear(8, 16)

    def forward(self, x):
        x = self.embed(x).permute(0, 2, 3, 1)
        B, H, W, C = x.shape  # noqa: N806
        w = self.window
        windows = x.view(B, H // w, w, W // w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, C)
        q = self.query(x.mean((1, 2))).view(B, 1, C).repeat_interleave(w * w, dim=1)
        q = q.repeat_interleave(windows.shape[0] // q.shape[0], dim=0)
        k, v = self.kv(windows).split([8, 8], dim=2)
        out = (q @ k.transpose(-2, -1)).softmax(-1) @ v
        out = out.view(-1, H // w, W // w, w, w, C).permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, H, W, C)
        return (out + x).flatten(1).sum(1, keepdim=True)


def test_a_global_query_repeated_for_each_window_agrees_with_pytorch():
    torch.manual_seed(0)
    module = GlobalQueryWindows().eval()
    net = agrees_at(module, ((8, 12), (16, 20), (9, 13)))
    # by hand at 8 x 12: a 4 x 6 map, 6 windows of 4 tokens; per window q k^T and a v: 4 x 4 x 8 each
    at = net.report.at({"H": 8, "W": 12})
    assert int(at.macs) == 8 * 24 * 3 * 4 + 8 * 8 + 6 * 4 * 8 * 16 + 6 * 2 * (4 * 4 * 8)
    # a map of odd rows has no whole windows: PyTorch refuses the view, and symconv the size
    with pytest.raises(RuntimeError):
        module(torch.zeros(1, 3, 10, 12))
    with pytest.raises(SymconvError):
        net.report.at({"H": 10, "W": 12})
    assert "repeat_interleave" in [row.kind for row in net.layers]
    assert from_torch(module, (3, 8, 12)).check(samples=1).ok


def test_operations_are_named_as_torch_fx_names_them():
    """Layer names: a module's path (with _1, _2 when it is called again), and for a function or method
    the path of the module calling it and the name fx's own trace gives that node."""

    class Inner(nn.Module):
        def forward(self, x):
            return torch.nn.functional.relu(x + 1) * 2

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)
            self.relu = nn.ReLU()
            self.inner = Inner()

        def forward(self, x):
            y = self.relu(self.conv(x))
            y = self.relu(y + x)  # the ReLU module called twice
            return self.inner(y) + torch.sigmoid(y)

    model = Block()
    traced = torch.fx.symbolic_trace(model)  # fx's own tracer, with its graph
    expected, calls = [], {}
    for node in traced.graph.nodes:
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, -1) + 1
            expected.append(node.target + (f"_{calls[node.target]}" if calls[node.target] else ""))
        elif node.op in ("call_function", "call_method"):
            stack = node.meta.get("nn_module_stack") or {}
            path = next(reversed(stack.values()))[0] if stack else ""
            expected.append(f"{path}.{node.name}" if path else node.name)
    net = from_torch(model, (4, "H", "W"))
    assert [node.name for node in net.graph] == expected
    # a function inside a module, named after the two calls of the ReLU module before it
    assert expected[3:6] == ["relu_1", "inner.add_1", "inner.relu_2"]


def test_a_model_in_training_mode_is_traced_in_eval_mode_and_left_as_it_was():
    class Training(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.extra = nn.Conv2d(4, 4, 1)
            self.norm = nn.BatchNorm2d(4)

        def forward(self, x):
            x = self.norm(self.conv(x))
            return self.extra(x) if self.training else x  # a branch only training takes

    model = Training().train()
    model.norm.eval()  # modes that differ from module to module come back as they were
    net = from_torch(model, (3, "H", "W"))
    assert [node.name for node in net.graph] == ["conv", "norm"]
    assert [m.training for m in model.modules()] == [True, True, True, False]


def test_a_math_function_of_a_size_without_a_rule_is_computed_from_the_known_sizes():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            x = self.conv(x)
            return x * (1 / math.sqrt(x.shape[1]))  # the channels are a number: the scale is one too

    net = agrees_at(Scaled(), [(9, 11), (16, 16)])
    assert [node.layer.kind for node in net.graph] == ["conv2d", "mul"]
