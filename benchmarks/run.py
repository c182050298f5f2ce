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
   sizes, against torchinfo summarising 100 sizes. torchinfo runs one forward
   pass per size, each as long as the next, so it is timed on a few of them
   and its time for 100 is that per-size time times 100.

Each ratio is the median over repeats, with the lowest and highest ratio of
the repeats beside it; the whole run takes under three minutes on two cores.
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
from symconv.notation import to_text
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
    return min(timings(function, repeat))


def timings(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def ratio_line(label, ours, peer, digits=2):
    """The median of the paired ratios ours[i] / peer[i], and their range."""
    ratios = sorted(a / b for a, b in zip(ours, peer, strict=True))
    low, mid, high = ratios[0], statistics.median(ratios), ratios[-1]
    return f"  ratio {label}: {mid:.{digits}f} (from {low:.{digits}f} to {high:.{digits}f} over {len(ratios)} repeats)"


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

    ours = timings(derive, 5)
    _, macs, shape = derive()
    print(
        f"derive 150 layers, symbolic H x W: {min(ours) * 1e3:.0f} ms (cold sympy cache); output {tuple(to_text(size) for size in shape)}"
    )
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

        assert one_size() == 2 * int(macs.xreplace({H: 224, W: 224}))
        peer = timings(one_size, 5)
        print(f"  peer: FlopCounterMode forward at one size 224x224: {min(peer) * 1e3:.0f} ms")
        print(ratio_line("symconv (all sizes) / peer (one size)", ours, peer))


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
    repeats = 3
    ours, peer = [0.0] * repeats, [0.0] * repeats
    threads = torch.get_num_threads() if torch is not None else None
    for _, layer, shape in convolutions:
        x = rng.standard_normal(shape).astype(np.float32)
        c_out, k = int(layer.out_channels), int(layer.kernel_size[0])
        w = rng.standard_normal((c_out, shape[0], k, k)).astype(np.float32)
        counter = MacCounter("fast")
        for i, seconds in enumerate(timings(partial(conv_forward, layer, x, w, None, counter), repeats)):
            ours[i] += seconds
        if torch is not None:
            tx, tw = torch.from_numpy(x)[None], torch.from_numpy(w)
            s, p = int(layer.stride[0]), int(layer.padding[0])
            with torch.no_grad():
                for i, seconds in enumerate(timings(partial(F.conv2d, tx, tw, stride=s, padding=p), repeats)):
                    peer[i] += seconds
    print(
        f"numeric: ResNet-50's {len(convolutions)} convolutions at 224x224, float32: {min(ours) * 1e3:.0f} ms"
    )
    if torch is not None:
        print(f"  peer: torch.nn.functional.conv2d ({threads} threads): {min(peer) * 1e3:.0f} ms")
        print(ratio_line("symconv / torch (goal: within 2)", ours, peer))


def bench_sweep():
    net, _ = resnet50_convolutions()
    sizes = np.arange(32, 32 + 10**6)
    ours = timings(lambda: net.sweep("macs", H=sizes, W=sizes), 5)
    macs = net.sweep("macs", H=sizes, W=sizes)
    assert int(macs[224 - 32]) == 4_089_184_256
    print(f"sweep: ResNet-50 MACs for 10^6 input sizes, exact int64: {min(ours) * 1e3:.0f} ms")
    if torch is not None:
        model = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 7, 2, 3))  # a lower bound for the peer
        x = torch.zeros(1, 3, 224, 224)

        def one_size():
            with torch.no_grad(), FlopCounterMode(display=False):
                model(x)

        one_size()
        peer = timings(one_size, 5)
        print(
            f"  peer lower bound: one FlopCounterMode pass of ResNet-50's first layer: "
            f"{min(peer) * 1e3:.1f} ms per size"
        )
        print(ratio_line("symconv (10^6 sizes) / peer (one size)", ours, peer, digits=1))


def bench_zoo_sizes():
    """resnet152: derive once symbolically and evaluate 100 input sizes, against torchinfo's 100 forward passes."""
    from symconv import zoo

    sizes = np.arange(64, 164)

    def ours():
        sp.core.cache.clear_cache()
        net = zoo.build("resnet152")
        return net.sweep("macs", H=sizes, W=sizes)

    repeats = 3
    mine = timings(ours, repeats)
    macs = ours()
    print(f"zoo: resnet152 derived with symbolic H x W and MACs for 100 sizes: {min(mine) * 1e3:.0f} ms")
    try:
        import torchinfo
    except ImportError:
        print("  peer: torchinfo not installed (pip install torchinfo==1.8.0); ratio not measured")
        return
    from symconv.importers.torch import to_torch

    module = to_torch(zoo.build("resnet152"), H=224, W=224).eval()
    timed = sizes[:: len(sizes) // 4][:4]  # four of the 100 sizes, smallest to largest
    counted, peer = {}, []
    for _ in range(repeats):
        start = time.perf_counter()
        for n in timed:
            counted[int(n)] = torchinfo.summary(
                module, input_size=(1, 3, int(n), int(n)), verbose=0
            ).total_mult_adds
        peer.append((time.perf_counter() - start) / len(timed) * len(sizes))
    # torchinfo adds one addition per output element for biases and counts BatchNorm; fc bias only here
    difference = {int(counted[int(n)]) - int(macs[int(n) - int(sizes[0])]) for n in timed}
    print(
        f"  peer: torchinfo.summary, {len(timed)} of the sizes timed, for 100: {min(peer):.1f} s "
        f"(its Mult-Adds exceed symconv's MACs by BatchNorm and bias terms: {sorted(difference)[:2]}...)"
    )
    print(ratio_line("torchinfo / symconv", peer, mine, digits=0))


def main() -> int:
    if torch is not None:
        torch.set_num_threads(2)
    for bench in (bench_derive, bench_numeric, bench_sweep, bench_zoo_sizes):
        bench()
    return 0


if __name__ == "__main__":
    sys.exit(main())
