"""Every torchvision classification model: import and derive symbolically in H and W, against one forward pass.

    python benchmarks/torchvision_derive.py [NAME ...]

For each model (``weights=None``, eval mode) it times symconv's
``from_torch(model, (3, "H", "W"))`` followed by the closed-form totals
(params and MACs), and one PyTorch forward pass at 224 x 224 under
``FlopCounterMode`` (which answers for that one size).

- The two are timed in turn, five times each, and each median kept: taken in
  turn, both see the same load on the machine.
- ResNet-18 runs first, untimed, for both: a process's first sympy and PyTorch
  calls load what they load once.
- One untimed derivation of each model says whether symconv takes it at all
  (and reads what is read once per class: the operator rule, the layer fields).
- Before every timed symconv run the caches of sympy, of symconv's size
  rules and of its operation names are emptied, so each derivation starts
  cold.

It prints the ratio symconv / PyTorch per model (below 1: symconv answers for
every size in less time than PyTorch counts one), the median, and the models
above 1.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import torch  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from symconv import from_torch  # noqa: E402
from torchvision_loader import load_torchvision  # noqa: E402

RUNS = 5


def seconds(first, second, before=lambda: None) -> tuple[float, float]:
    """The medians of five timings of ``first`` and of ``second``, taken in turn; ``before`` runs (untimed)
    ahead of each run of ``first``."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(RUNS):
        for function, kept, prepare in ((first, times[0], before), (second, times[1], lambda: None)):
            prepare()
            start = time.perf_counter()
            function()
            kept.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def cold() -> None:
    """Empty sympy's cache, symconv's memoised size rules and its names of traced operations."""
    from sympy.core.cache import clear_cache

    from symconv import sizes
    from symconv.importers import torch as importer

    clear_cache()
    for rule in (sizes.split_floor, sizes.floor_divide, sizes.is_true, sizes.at_least, importer._named_target):
        rule.cache_clear()


def derive(model) -> None:
    network = from_torch(model, (3, "H", "W"))
    network.params, network.macs  # noqa: B018 - the closed forms are the work measured


def count(model) -> None:
    torch.backends.mha.set_fastpath_enabled(False)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False):
        model(torch.zeros(1, 3, 224, 224))
    torch.backends.mha.set_fastpath_enabled(True)


def main(names: list[str]) -> int:
    torchvision = load_torchvision()
    names = names or torchvision.models.list_models(module=torchvision.models)
    ratios = {}
    warm = torchvision.models.get_model("resnet18", weights=None).eval()
    seconds(lambda: derive(warm), lambda: count(warm), cold)  # the process's first runs of both, untimed
    print(f"{'model':24} {'symconv s':>10} {'PyTorch s':>10} {'ratio':>7}")
    for name in names:
        model = torchvision.models.get_model(name, weights=None).eval()
        try:
            derive(model)
        except Exception as error:  # a model symconv refuses is reported, not timed
            print(f"{name:24} refused: {str(error).splitlines()[0][:80]}")
            continue
        ours, theirs = seconds(lambda model=model: derive(model), lambda model=model: count(model), cold)
        ratios[name] = ours / theirs
        print(f"{name:24} {ours:10.2f} {theirs:10.2f} {ratios[name]:7.2f}", flush=True)
    if ratios:
        slow = [n for n, r in ratios.items() if r > 1]
        print(f"median ratio {statistics.median(ratios.values()):.2f}; above 1: {', '.join(slow) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
