"""symconv benchmarks, each printed as a ratio against the peer measured in the same run.

    python benchmarks/run.py            # all benchmarks (torch optional: peers skipped without it)

1. derive: closed forms for a 150-layer network with symbolic input size,
   against one PyTorch forward pass under FlopCounterMode (which answers for
   one input size only);
2. numeric: the NumPy backend's fast convolutions against
   ``torch.nn.functional.conv2d`` on ResNet-50's convolutions at 224x224,
   batch 1, same thread count;
3. sweep: ResNet-50's MACs for 10^6 input sizes at once, exactly, against
   the time PyTorch needs for one size;
4. zoo: resnet152 derived with symbolic H and W and evaluated at 100 input
   sizes, against torchinfo summarising the same 100 sizes.
"""

from __future__ import annotations

import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import sympy as sp

from symconv import Conv2d, Network, ReLU, symbols
from symconv.numeric.conv import conv_forward
from symconv.numeric.counting import MacCounter
from symconv.spec import load

ROOT = Path(__file__).resolve().parent.parent

try:
    import torch
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode
except ImportError:  # the peers are optional
    torch = None


def best_of(function, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def deep_layers():
    """150 layers: 75 convolutions (kernels 1/3/5, five of them stride 2) each followed by a ReLU."""
    layers, channels = [], 16
    for i in range(75):
        kernel = (1, 3, 5)[i % 3]
        stride = 2 if i % 15 == 14 else 1
        layers.append(Conv2d(channels, kernel, stride=stride, padding=kernel // 2))
        layers.append(ReLU())
    return layers


def bench_derive():
    H, W = symbols("H W")

    def derive():
        sp.core.cache.clear_cache()
        net = Network(input=(3, H, W), layers=deep_layers())
        return net.params, net.macs, net.output_shape

    seconds = best_of(derive, 3)
    _, macs, shape = derive()
    print(f"derive 150 layers, symbolic H x W: {seconds * 1e3:.0f} ms (cold sympy cache); output {shape}")
    if torch is not None:
        modules = []
        for layer in deep_layers():
            if isinstance(layer, Conv2d):
                k = int(layer.kernel_size[0])
                modules.append(torch.nn.Conv2d(modules and 16 or 3, 16, k, int(layer.stride[0]), k // 2))
            else:
                modules.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*modules).eval()
        x = torch.zeros(1, 3, 224, 224)

        def one_size():
            with torch.no_grad(), FlopCounterMode(display=False) as counter:
                model(x)
            return counter.get_total_flops()

        peer = best_of(one_size, 3)
        assert one_size() == 2 * int(macs.xreplace({H: 224, W: 224}))
        print(f"  peer: FlopCounterMode forward at one size 224x224: {peer * 1e3:.0f} ms")
        print(f"  ratio symconv (all sizes) / peer (one size): {seconds / peer:.2f}")


def resnet50_convolutions():
    net = load(ROOT / "examples" / "resnet50.yaml")
    values = net.report.resolve({"H": 224, "W": 224})
    report = net.report.at(values)
    found = []
    for node, row in zip(net.graph, report.rows, strict=True):
        if isinstance(node.layer, Conv2d):
            shape = tuple(int(d) for d in row.input_shapes[0])
            found.append((node.name, node.layer, shape))
    return net, found


def bench_numeric():
    _, convolutions = resnet50_convolutions()
    rng = np.random.default_rng(0)
    total_ours, total_peer, macs = 0.0, 0.0, 0
    threads = torch.get_num_threads() if torch is not None else None
    for _, layer, shape in convolutions:
        x = rng.standard_normal(shape).astype(np.float32)
        c_out, k = int(layer.out_channels), int(layer.kernel_size[0])
        w = rng.standard_normal((c_out, shape[0], k, k)).astype(np.float32)
        counter = MacCounter("fast")
        total_ours += best_of(partial(conv_forward, layer, x, w, None, counter), 3)
        if torch is not None:
            tx, tw = torch.from_numpy(x)[None], torch.from_numpy(w)
            s, p = int(layer.stride[0]), int(layer.padding[0])
            with torch.no_grad():
                total_peer += best_of(partial(F.conv2d, tx, tw, stride=s, padding=p), 3)
        macs += c_out * shape[0] * k * k
    print(
        f"numeric: ResNet-50's {len(convolutions)} convolutions at 224x224, float32: {total_ours * 1e3:.0f} ms"
    )
    if torch is not None:
        print(f"  peer: torch.nn.functional.conv2d ({threads} threads): {total_peer * 1e3:.0f} ms")
        print(f"  ratio symconv / torch: {total_ours / total_peer:.2f}  (goal: within 2)")


def bench_sweep():
    net, _ = resnet50_convolutions()
    sizes = np.arange(32, 32 + 10**6)
    seconds = best_of(lambda: net.sweep("macs", H=sizes, W=sizes), 3)
    macs = net.sweep("macs", H=sizes, W=sizes)
    assert int(macs[224 - 32]) == 4_089_184_256
    print(f"sweep: ResNet-50 MACs for 10^6 input sizes, exact int64: {seconds * 1e3:.0f} ms")
    if torch is not None:
        model = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 7, 2, 3))  # a lower bound for the peer
        x = torch.zeros(1, 3, 224, 224)

        def one_size():
            with torch.no_grad(), FlopCounterMode(display=False):
                model(x)

        peer = statistics.median([best_of(one_size, 1) for _ in range(5)])
        print(
            f"  peer lower bound: one FlopCounterMode pass of ResNet-50's first layer: {peer * 1e3:.1f} ms per size"
        )
        print(f"  ratio symconv (10^6 sizes) / peer (one size): {seconds / peer:.1f}")


def bench_zoo_sizes():
    """resnet152: derive once symbolically and evaluate 100 input sizes, against torchinfo's 100 forward passes."""
    from symconv import zoo

    sizes = np.arange(64, 164)

    def ours():
        sp.core.cache.clear_cache()
        net = zoo.build("resnet152")
        return net.sweep("macs", H=sizes, W=sizes)

    seconds = best_of(ours, 1)
    macs = ours()
    print(f"zoo: resnet152 derived with symbolic H x W and MACs for 100 sizes: {seconds * 1e3:.0f} ms")
    try:
        import torchinfo
    except ImportError:
        print("  peer: torchinfo not installed (pip install torchinfo==1.8.0); ratio not measured")
        return
    from symconv.importers.torch import to_torch

    module = to_torch(zoo.build("resnet152"), H=224, W=224).eval()
    start = time.perf_counter()
    counted = [
        torchinfo.summary(module, input_size=(1, 3, int(n), int(n)), verbose=0).total_mult_adds for n in sizes
    ]
    peer = time.perf_counter() - start
    # torchinfo adds one addition per output element for biases and counts BatchNorm; fc bias only here
    difference = {int(c) - int(m) for c, m in zip(counted, macs, strict=True)}
    print(
        f"  peer: torchinfo.summary for the same 100 sizes: {peer:.1f} s "
        f"(its Mult-Adds exceed symconv's MACs by BatchNorm and bias terms: {sorted(difference)[:2]}...)"
    )
    print(f"  ratio torchinfo / symconv: {peer / seconds:.0f}x")


def main() -> int:
    if torch is not None:
        torch.set_num_threads(2)
    for bench in (bench_derive, bench_numeric, bench_sweep, bench_zoo_sizes):
        bench()
    return 0


if __name__ == "__main__":
    sys.exit(main())
