"""Random layer stacks described as plain data, and their PyTorch counterparts.

The strategy keeps stacks valid by construction, using PyTorch's documented
size formulas written out with Python integers (not symconv's rules). Tests
then compare symconv's formulas and NumPy backend with PyTorch modules.
"""

from __future__ import annotations

from hypothesis import strategies as st

ACTIVATIONS = [
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "gelu",
    "silu",
    "sigmoid",
    "tanh",
    "hardswish",
    "hardsigmoid",
    "identity",
    "dropout",
    "dropout2d",
    "softmax",
]


def conv_out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def pool_out(n, k, s, p, d, ceil_mode):
    # torch.nn.MaxPool2d documentation + ATen pooling_output_shape
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def divisors(c):
    return [g for g in range(1, c + 1) if c % g == 0]


@st.composite
def layer_stacks(draw, dims, max_layers=5, max_size=14, readings=False, ungrouped=False):
    """``readings`` adds layers no framework has (the seed's shared-kernel reading); ``ungrouped``
    keeps every convolution ungrouped and untransposed."""
    channels = draw(st.integers(1, 4))
    spatial = [draw(st.integers(1, max_size)) for _ in range(dims)]
    shape = [channels, *spatial]
    layers = []
    kinds = [
        "conv",
        "conv",
        "conv_transpose",
        "maxpool",
        "avgpool",
        "adaptive",
        "batchnorm",
        "instancenorm",
        "activation",
    ]
    if dims == 2 and not ungrouped:
        kinds += ["depthwise_conv2d", "separable_conv2d"] + (["shared_kernel_conv2d"] if readings else [])
    if ungrouped:
        kinds.remove("conv_transpose")
    for _ in range(draw(st.integers(1, max_layers))):
        kind = draw(st.sampled_from(kinds))
        c, sizes = shape[0], shape[1:]
        if kind in ("conv", "depthwise_conv2d", "separable_conv2d", "shared_kernel_conv2d"):
            k = draw(st.integers(1, 4))
            s = draw(st.integers(1, 3))
            d = draw(st.integers(1, 2))
            if s == 1 and draw(st.booleans()) and kind == "conv":
                padding = "same"
                out = list(sizes)
            else:
                p = draw(st.integers(0, 2))
                padding = p
                out = [conv_out(n, k, s, p, d) for n in sizes]
            if min(out) < 1:
                continue
            if kind == "shared_kernel_conv2d":
                out_c = draw(st.integers(1, 3))
                layers.append(
                    (
                        kind,
                        {
                            "out_channels": out_c,
                            "kernel_size": k,
                            "stride": s,
                            "padding": padding,
                            "dilation": d,
                            "bias": draw(st.booleans()),
                        },
                    )
                )
            elif kind == "conv":
                groups = 1 if ungrouped else draw(st.sampled_from(divisors(c)))
                out_c = groups * draw(st.integers(1, 3))
                args = {
                    "out_channels": out_c,
                    "kernel_size": k,
                    "stride": s,
                    "padding": padding,
                    "dilation": d,
                    "groups": groups,
                    "bias": draw(st.booleans()),
                }
                layers.append((f"conv{dims}d", args))
            elif kind == "depthwise_conv2d":
                dm = draw(st.integers(1, 2))
                out_c = c * dm
                layers.append(
                    (
                        kind,
                        {
                            "kernel_size": k,
                            "depth_multiplier": dm,
                            "stride": s,
                            "padding": padding,
                            "dilation": d,
                            "bias": draw(st.booleans()),
                        },
                    )
                )
            else:
                dm = draw(st.integers(1, 2))
                out_c = draw(st.integers(1, 4))
                layers.append(
                    (
                        kind,
                        {
                            "out_channels": out_c,
                            "kernel_size": k,
                            "depth_multiplier": dm,
                            "stride": s,
                            "padding": padding,
                            "dilation": d,
                            "bias": draw(st.booleans()),
                        },
                    )
                )
            shape = [out_c, *out]
        elif kind == "conv_transpose":
            k, s, d = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
            p = draw(st.integers(0, 1))
            op = draw(st.integers(0, max(s, d) - 1))
            out = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n in sizes]
            if min(out) < 1 or max(out) > 40:
                continue
            groups = draw(st.sampled_from(divisors(c)))
            out_c = groups * draw(st.integers(1, 2))
            layers.append(
                (
                    f"conv_transpose{dims}d",
                    {
                        "out_channels": out_c,
                        "kernel_size": k,
                        "stride": s,
                        "padding": p,
                        "output_padding": op,
                        "groups": groups,
                        "dilation": d,
                        "bias": draw(st.booleans()),
                    },
                )
            )
            shape = [out_c, *out]
        elif kind in ("maxpool", "avgpool"):
            k = draw(st.integers(1, 3))
            s = draw(st.integers(1, 3))
            p = draw(st.integers(0, k // 2))
            ceil_mode = draw(st.booleans())
            d = draw(st.integers(1, 2)) if kind == "maxpool" else 1
            out = [pool_out(n, k, s, p, d, ceil_mode) for n in sizes]
            if min(out) < 1 or (kind == "avgpool" and dims == 3 and min(sizes) < k):
                continue  # avg_pool3d also refuses an unpadded input smaller than the kernel
            args = {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": ceil_mode}
            if kind == "maxpool":
                args["dilation"] = d
            else:
                args["count_include_pad"] = draw(st.booleans())
            layers.append((f"{kind}{dims}d", args))
            shape = [c, *out]
        elif kind == "adaptive":
            out = [draw(st.integers(1, 4)) for _ in sizes]
            mode = draw(st.sampled_from(["avg", "max"]))
            layers.append((f"adaptive_{mode}pool{dims}d", {"output_size": out}))
            shape = [c, *out]
        elif kind == "batchnorm":
            layers.append((f"batchnorm{dims}d", {}))
        elif kind == "instancenorm":
            if all(n == 1 for n in sizes):
                continue  # PyTorch refuses to normalise a single value per channel
            layers.append((f"instancenorm{dims}d", {"affine": draw(st.booleans())}))
        else:
            layers.append((draw(st.sampled_from(ACTIVATIONS)), {}))
    if not layers:
        layers.append(("relu", {}))
    if draw(st.booleans()):
        layers.append(("flatten", {}))
        layers.append(("linear", {"out_features": draw(st.integers(1, 5)), "bias": draw(st.booleans())}))
    return (channels, tuple(spatial)), layers


def torch_module(kind: str, args: dict, in_channels: int):
    """The PyTorch module for one (kind, args) layer, and its output channels."""
    import torch.nn as nn

    args = dict(args)
    if kind.startswith("conv_transpose"):
        cls = {"1d": nn.ConvTranspose1d, "2d": nn.ConvTranspose2d, "3d": nn.ConvTranspose3d}[kind[-2:]]
        out = args.pop("out_channels")
        return cls(in_channels, out, **args), out
    if kind.startswith("conv"):
        cls = {"1d": nn.Conv1d, "2d": nn.Conv2d, "3d": nn.Conv3d}[kind[-2:]]
        out = args.pop("out_channels")
        return cls(in_channels, out, **args), out
    if kind == "depthwise_conv2d":
        dm = args.pop("depth_multiplier")
        return nn.Conv2d(in_channels, in_channels * dm, groups=in_channels, **args), in_channels * dm
    if kind == "separable_conv2d":
        dm, out, bias = args.pop("depth_multiplier"), args.pop("out_channels"), args.pop("bias")
        depthwise = nn.Conv2d(in_channels, in_channels * dm, groups=in_channels, bias=False, **args)
        return nn.Sequential(depthwise, nn.Conv2d(in_channels * dm, out, 1, bias=bias)), out
    pools = {
        "maxpool": "MaxPool",
        "avgpool": "AvgPool",
        "adaptive_avgpool": "AdaptiveAvgPool",
        "adaptive_maxpool": "AdaptiveMaxPool",
        "batchnorm": "BatchNorm",
    }
    if kind[:-2] == "instancenorm":
        cls = getattr(nn, f"InstanceNorm{kind[-2:]}")
        return cls(in_channels, affine=args["affine"]), in_channels
    for prefix, name in pools.items():
        if kind[:-2] == prefix:
            cls = getattr(nn, f"{name}{kind[-2:]}")
            if prefix == "batchnorm":
                return cls(in_channels), in_channels
            return cls(**args), in_channels
    if kind == "flatten":
        return nn.Flatten(), None
    if kind == "linear":
        return nn.LazyLinear(args["out_features"], bias=args["bias"]), None
    simple = {
        "relu": nn.ReLU,
        "relu6": nn.ReLU6,
        "leaky_relu": nn.LeakyReLU,
        "elu": nn.ELU,
        "gelu": nn.GELU,
        "silu": nn.SiLU,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "hardswish": nn.Hardswish,
        "hardsigmoid": nn.Hardsigmoid,
        "identity": nn.Identity,
        "dropout": nn.Dropout,
        "dropout2d": nn.Dropout2d,
    }
    if kind == "softmax":
        return nn.Softmax(dim=1), in_channels  # the channel axis, counting the batch axis
    return simple[kind](), in_channels


def torch_weights(kind: str, module) -> dict:
    """The module's learnable tensors under the names symconv's weight_shapes use."""
    import torch.nn as nn

    def arr(t):
        return t.detach().double().numpy()

    if kind == "separable_conv2d":
        found = {"depthwise_weight": arr(module[0].weight), "pointwise_weight": arr(module[1].weight)}
        if module[1].bias is not None:
            found["bias"] = arr(module[1].bias)
        return found
    if isinstance(module, nn.Module):
        return {name: arr(p) for name, p in module.named_parameters()}
    return {}
